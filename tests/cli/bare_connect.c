/*
 * bare_connect.c -- for cli_test.sh: what a health check that only
 * connects, or a `troupe status` killed at the wrong moment, does to a
 * tree's control socket.  usage: bare_connect PATH N
 * Makes N connections that close at once, N that write garbage and
 * close, and one that writes garbage and stays until the program ends.
 * Exit status 0 if every connect() succeeded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int
peer(const char *path, const char *garbage, int stay)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	if (fd < 0) {
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	/* Refused for the microseconds a listener is being replaced: tried
	 * again, as any dialer would. */
	for (int tries = 0;
	     connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0; tries++) {
		/* Refused for the microseconds a listener is being replaced:
		 * tried again 1 ms later, as any dialer would. */
		struct timespec ms = {0, 1000000L};
		if ((errno != ENOENT && errno != ECONNREFUSED) || tries >= 20) {
			perror("bare_connect: connect");
			close(fd);
			return -1;
		}
		nanosleep(&ms, NULL);
	}
	if (garbage != NULL &&
	    write(fd, garbage, strlen(garbage)) != (ssize_t)strlen(garbage)) {
		perror("bare_connect: write");
	}
	if (!stay) {
		close(fd);
		return 0;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	int n;

	if (argc != 3 || (n = atoi(argv[2])) <= 0) {
		fprintf(stderr, "usage: bare_connect PATH N\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		if (peer(argv[1], NULL, 0) < 0 ||
		    peer(argv[1], "GARBAGE!", 0) < 0) {
			return 1;
		}
	}
	return peer(argv[1], "not an SP header", 1) < 0 ? 1 : 0;
}
