/*
 * tree_sockets.c -- a tree's listening sockets (the file's `sockets:`).
 *
 * A tree may name TCP sockets that its children serve.  tr_tree_main()
 * opens them before tr_init(), so that the fork server -- and so every
 * fork member -- inherits them: all members accept from one queue, and
 * a member that ends (killed, or restarted one at a time in a rolling
 * restart) takes no queued connection with it.  A socket per member
 * with SO_REUSEPORT would: the kernel resets the connections queued on
 * a listener when it closes.
 *
 * What is open is written to the environment, which the fork server and
 * its members inherit with the descriptors:
 *
 *     TROUPE_SOCKETS=http=5:8080,admin=6:9000
 *
 * name, descriptor, port.  tr_tree_socket() reads it back and checks
 * that the descriptor is still that listening socket: an exec'd program
 * inherits the variable but not the descriptors (they are close-on-
 * exec), and must get TR_ENOENT, not whatever holds that number there.
 *
 * This file is the systemd "socket activation" idea (LISTEN_FDS) done
 * for a tree: the sockets outlive every child that serves them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "internal.h"

#define ENV_NAME "TROUPE_SOCKETS"
#define BACKLOG 511

/* "host:port" or "[v6host]:port" into host and port; false if it is not
 * that shape.  host must be a numeric address (no name lookups). */
static bool
split_address(const char *s, char *host, size_t hlen, uint16_t *port)
{
	const char *colon, *h = s;
	size_t n;
	char *end;
	unsigned long p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':') {
			return false;
		}
		h = s + 1;
		n = (size_t)(close - h);
		colon = close + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL) {
			return false;
		}
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= hlen || colon[1] == '\0') {
		return false;
	}
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || errno != 0 || p > 65535 || colon[1] == '-' ||
	    colon[1] == '+' || colon[1] == ' ') {
		return false;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (uint16_t)p;
	return true;
}

static bool
numeric_host(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

trc_socket *
trc_load_sockets(trc_doc *d, yaml_node_t *map, size_t *n)
{
	trc_socket *v;
	size_t cap;

	*n = 0;
	if (map->type != YAML_MAPPING_NODE) {
		trc_report(d, &map->start_mark,
		    "'sockets' must be a map of names to addresses "
		    "(http: 127.0.0.1:8080)");
		return NULL;
	}
	trc_keys(d, map, NULL, "in 'sockets'"); /* duplicates only */
	cap = (size_t)(map->data.mapping.pairs.top -
	    map->data.mapping.pairs.start);
	if (cap == 0) {
		return NULL;
	}
	if ((v = tri_calloc(cap, sizeof(*v))) == NULL) {
		d->nomem = true;
		return NULL;
	}
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = trc_node(d, p->key),
		            *a = trc_node(d, p->value);
		trc_socket *s = &v[*n];
		const char *name, *addr;

		if ((name = trc_name(d, k, "a socket's name")) == NULL ||
		    (addr = trc_text(d, a, name)) == NULL) {
			continue;
		}
		if (strchr(name, ',') != NULL || strchr(name, '=') != NULL) {
			trc_report(d, &k->start_mark,
			    "socket name '%s' cannot hold ',' or '='", name);
			continue;
		}
		if (!split_address(addr, s->host, sizeof(s->host), &s->port) ||
		    !numeric_host(s->host)) {
			trc_report(d, &a->start_mark,
			    "socket '%s': '%s' is not HOST:PORT with a numeric "
			    "address (127.0.0.1:8080, 0.0.0.0:80, [::1]:8080) "
			    "and a port 0..65535",
			    name, addr);
			continue;
		}
		if ((s->name = trc_strdup(d, name)) == NULL) {
			continue;
		}
		s->line = a->start_mark.line + 1;
		s->fd = -1;
		(*n)++;
	}
	if (*n == 0) {
		tri_free(v);
		return NULL;
	}
	return v;
}

void
trc_free_sockets(trc_socket *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++) {
		tri_free(v[i].name);
	}
	tri_free(v);
}

/* One listening socket, close-on-exec and non-blocking.  No
 * SO_REUSEPORT: a second tree on the same port is refused, not given
 * half of the connections. */
static int
listen_on(trc_socket *s, char *err, size_t len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char port[8];
	int fd = -1, one = 1, rv;

	snprintf(port, sizeof(port), "%u", (unsigned)s->port);
	if ((rv = getaddrinfo(s->host, port, &hints, &ai)) != 0) {
		snprintf(err, len, "%s", gai_strerror(rv));
		return TR_EINVAL;
	}
	if ((fd = socket(ai->ai_family,
	         ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, BACKLOG) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		rv = errno;
		snprintf(err, len, "%s", strerror(rv));
		if (fd >= 0) {
			close(fd);
		}
		freeaddrinfo(ai);
		return rv == EADDRINUSE ? TR_EEXIST :
		    rv == EACCES        ? TR_EPERM :
		                          TR_ESYSTEM;
	}
	freeaddrinfo(ai);
	s->port = ntohs(ss.ss_family == AF_INET6 ?
	        ((struct sockaddr_in6 *)&ss)->sin6_port :
	        ((struct sockaddr_in *)&ss)->sin_port);
	s->fd = fd;
	return TR_OK;
}

int
trc_open_sockets(trc_socket *v, size_t n, const char *file)
{
	char err[128], *env = NULL;
	size_t len = 0;
	int rv = TR_OK;

	for (size_t i = 0; i < n; i++) {
		if ((rv = listen_on(&v[i], err, sizeof(err))) != TR_OK) {
			fprintf(stderr,
			    "troupe: %s:%zu: socket '%s': cannot listen on "
			    "%s port %u: %s\n",
			    file, v[i].line, v[i].name, v[i].host,
			    (unsigned)v[i].port, err);
			break;
		}
		fprintf(stderr,
		    "troupe: socket '%s' listening on %s%s%s:%u (fd %d)\n",
		    v[i].name, strchr(v[i].host, ':') ? "[" : "", v[i].host,
		    strchr(v[i].host, ':') ? "]" : "", (unsigned)v[i].port,
		    v[i].fd);
		len += strlen(v[i].name) + 16;
	}
	if (rv == TR_OK && n > 0) {
		if ((env = tri_malloc(len + 1)) == NULL) {
			rv = TR_ENOMEM;
		} else {
			env[0] = '\0';
			for (size_t i = 0, at = 0; i < n; i++) {
				at += (size_t)snprintf(env + at, len + 1 - at,
				    "%s%s=%d:%u", i ? "," : "", v[i].name,
				    v[i].fd, (unsigned)v[i].port);
			}
			if (setenv(ENV_NAME, env, 1) != 0) {
				rv = TR_ENOMEM;
			}
			tri_free(env);
		}
	}
	if (rv != TR_OK) {
		trc_close_sockets(v, n);
	}
	return rv;
}

void
trc_close_sockets(trc_socket *v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++) {
		if (v[i].fd >= 0) {
			close(v[i].fd);
			v[i].fd = -1;
		}
	}
	unsetenv(ENV_NAME);
}

/* Whether fd is a listening TCP socket on port. */
static bool
is_our_listener(int fd, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int on = 0;
	socklen_t ol = sizeof(on);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol) != 0 || !on ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		return false;
	}
	if (ss.ss_family == AF_INET) {
		return ntohs(((struct sockaddr_in *)&ss)->sin_port) == port;
	}
	if (ss.ss_family == AF_INET6) {
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) == port;
	}
	return false;
}

int
tr_tree_socket(const char *name, int *fd)
{
	const char *env = getenv(ENV_NAME), *p;
	size_t nl;

	if (name == NULL || fd == NULL || name[0] == '\0') {
		return TR_EINVAL;
	}
	if (env == NULL) {
		return TR_ENOENT;
	}
	nl = strlen(name);
	for (p = env; *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		int f;
		unsigned port;

		if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=' &&
		    sscanf(p + nl + 1, "%d:%u", &f, &port) == 2) {
			if (!is_our_listener(f, port)) {
				return TR_ENOENT;
			}
			*fd = f;
			return TR_OK;
		}
		p += len + (end != NULL);
	}
	return TR_ENOENT;
}
