/*
 * net.c -- a listening socket that pool members can share.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime.h"

int
tr_tcp_listen(const char *ip, int port, int backlog, int *fd)
{
	struct sockaddr_in sa;
	int s, one = 1, err;

	if (ip == NULL || fd == NULL || port < 0 || port > 65535) {
		return TR_EINVAL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
		return TR_EINVAL;
	}
	if ((s = socket(
	         AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		return tri_err_errno(errno); /* EMFILE: TR_ERESOURCE */
	}
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(s, backlog > 0 ? backlog : 511) != 0) {
		err = errno;
		close(s);
		return err == EADDRINUSE ? TR_EEXIST :
		    err == EACCES        ? TR_EPERM :
		                           TR_ESYSTEM;
	}
	*fd = s;
	return TR_OK;
}
