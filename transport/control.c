/*
 * control.c -- the control socket of a running tree (see control.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "alloc.h"
#include "control.h"
#include "listener.h"
#include "socket.h"

struct tri_ctl {
	nng_socket sock;
	nng_aio *aio;
	tri_ctl_cb cb;
	void *arg;
	char path[512];
	/* The listener: watched, and checked every period (watch.h), for
	 * a health check's bare connect can stop it and its dialers (the
	 * troupe command) cannot ask for a check. */
	tri_watched *w;
};

static void
recv_cb(void *arg)
{
	tri_ctl *c = arg;
	nng_msg *m;

	if (nng_aio_result(c->aio) != 0) {
		return; /* closing */
	}
	m = nng_aio_get_msg(c->aio);
	c->cb(c->arg, nng_msg_body(m), nng_msg_len(m));
	nng_msg_free(m);
}

int
tri_ctl_listen(tri_ctl **out, const char *path, tri_ctl_cb cb, void *arg)
{
	char url[600];
	tri_ctl *c;
	int rv;

	if ((c = tri_calloc(1, sizeof(*c))) == NULL) {
		return TR_ENOMEM;
	}
	c->cb = cb;
	c->arg = arg;
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(url, sizeof(url), "ipc://%s", path);
	unlink(path); /* a stale socket of a tree that died */
	if ((rv = nng_rep0_open(&c->sock)) != 0) {
		tri_free(c);
		return tri_err_nng(rv);
	}
	if ((rv = tri_watch_listen(&c->w, c->sock, url, NULL, true)) != 0 ||
	    (rv = nng_aio_alloc(&c->aio, recv_cb, c)) != 0) {
		tri_watch_forget(c->w);
		nng_close(c->sock);
		tri_watch_free(c->w);
		tri_free(c);
		return tri_err_nng(rv);
	}
	/* The caller's handle is stored before the first receive is armed:
	 * a request may arrive at once, and the callback, or whoever it
	 * passes the request to on another thread, answers through *out.
	 * Arming the receive orders this store before that callback. */
	*out = c;
	nng_recv_aio(c->sock, c->aio);
	return TR_OK;
}

int
tri_ctl_reply(tri_ctl *c, const uint8_t *data, size_t len)
{
	int rv = nng_send(c->sock, (void *)data, len, 0);

	/* Ready for the next request. */
	nng_recv_aio(c->sock, c->aio);
	return tri_err_nng(rv);
}

void
tri_ctl_close(tri_ctl *c)
{
	if (c == NULL) {
		return;
	}
	nng_aio_stop(c->aio);
	tri_watch_forget(c->w);
	nng_close(c->sock);
	tri_watch_free(c->w);
	nng_aio_free(c->aio);
	unlink(c->path);
	tri_free(c);
}

int
tri_ctl_request(const char *path, const uint8_t *req, size_t len,
    int timeout_ms, uint8_t **resp, size_t *resp_len)
{
	char url[600];
	nng_socket s;
	void *buf = NULL;
	size_t n = 0;
	int rv;

	if (access(path, F_OK) != 0) {
		return TR_ENOENT;
	}
	snprintf(url, sizeof(url), "ipc://%s", path);
	if ((rv = nng_req0_open(&s)) != 0) {
		return tri_err_nng(rv);
	}
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, timeout_ms);
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, timeout_ms);
	/* A connection the server never took is closed when its listener
	 * is replaced (watch.h): dial again soon, and the request goes
	 * again on the new connection. */
	nng_socket_set_ms(s, NNG_OPT_RECONNMINT, 10);
	/* Refused for the microseconds its listener is being replaced
	 * (watch.c): a few more tries, 1 ms apart. */
	for (int tries = 0; (rv = nng_dial(s, url, NULL, 0)) != 0 &&
	     (rv == NNG_ECONNREFUSED || rv == NNG_ENOENT) && tries < 20;
	     tries++) {
		struct timespec ms = {0, 1000000L};
		nanosleep(&ms, NULL);
	}
	if (rv != 0 || (rv = nng_send(s, (void *)req, len, 0)) != 0 ||
	    (rv = nng_recv(s, &buf, &n, NNG_FLAG_ALLOC)) != 0) {
		nng_close(s);
		return rv == NNG_ECONNREFUSED ? TR_ENOENT : tri_err_nng(rv);
	}
	if ((*resp = malloc(n ? n : 1)) == NULL) {
		nng_free(buf, n);
		nng_close(s);
		return TR_ENOMEM;
	}
	memcpy(*resp, buf, n);
	*resp_len = n;
	nng_free(buf, n);
	nng_close(s);
	return TR_OK;
}
