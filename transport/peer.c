/*
 * peer.c -- connections between nodes: nng pull listeners and push
 * dialers over tcp:// and tls+tcp:// (peer.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/pipeline0/pull.h>
#include <nng/protocol/pipeline0/push.h>
#include <nng/supplemental/tls/tls.h>

#include "alloc.h"
#include "peer.h"

static bool
is_tls_url(const char *url)
{
	return strncmp(url, "tls+tcp://", 10) == 0;
}

static bool
is_tcp_url(const char *url)
{
	return strncmp(url, "tcp://", 6) == 0;
}

/* A whole (small) file as a string, for nng_tls_config_own_cert. */
static int
read_file(const char *path, char **out, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (fp == NULL) {
		snprintf(
		    err, errlen, "cannot read %s: %s", path, strerror(errno));
		return TR_ENOENT;
	}
	do {
		if (cap - len < 4096) {
			char *nb = tri_realloc(buf, cap + 8192);
			if (nb == NULL) {
				tri_free(buf);
				fclose(fp);
				return TR_ENOMEM;
			}
			buf = nb;
			cap += 8192;
		}
		n = fread(buf + len, 1, cap - len - 1, fp);
		len += n;
	} while (n > 0 && len < (1u << 20));
	fclose(fp);
	buf[len] = '\0';
	*out = buf;
	return TR_OK;
}

static int
tls_config(nng_tls_config **out, bool server, const tri_tls_files *f,
    const char *server_name, char *err, size_t errlen)
{
	nng_tls_config *cfg;
	char *cert = NULL, *key = NULL;
	int rv;

	if (f == NULL || f->ca == NULL || f->cert == NULL) {
		snprintf(err, errlen,
		    "tls+tcp:// needs the cluster CA and this node's "
		    "certificate");
		return TR_EINVAL;
	}
	if ((rv = nng_tls_config_alloc(&cfg,
	         server ? NNG_TLS_MODE_SERVER : NNG_TLS_MODE_CLIENT)) != 0) {
		snprintf(err, errlen, "TLS: %s", nng_strerror(rv));
		return tri_err_nng(rv);
	}
	(void)nng_tls_config_version(cfg, NNG_TLS_1_2, NNG_TLS_1_2);
	/* A listener always requires the dialer's certificate.  A dialer
	 * that knows the node it dials requires the listener's, under that
	 * name.  One that does not (a seed dialed by URL, dist_hello.c)
	 * cannot check a name: Mbed TLS 3.6.3 (Debian 13) refuses to verify
	 * without one, and the session never trusts such a connection
	 * anyway -- it only says HELLO on it, then dials again by name. */
	if ((rv = nng_tls_config_auth_mode(cfg,
	         server || server_name != NULL ? NNG_TLS_AUTH_MODE_REQUIRED :
	                                         NNG_TLS_AUTH_MODE_OPTIONAL)) !=
	        0 ||
	    (rv = nng_tls_config_ca_file(cfg, f->ca)) != 0) {
		snprintf(err, errlen, "TLS: cluster CA %s: %s", f->ca,
		    nng_strerror(rv));
		nng_tls_config_free(cfg);
		return rv == NNG_ENOENT ? TR_ENOENT : TR_EPROTO;
	}
	if ((rv = read_file(f->cert, &cert, err, errlen)) != TR_OK ||
	    (f->key != NULL &&
	        (rv = read_file(f->key, &key, err, errlen)) != TR_OK)) {
		tri_free(cert);
		nng_tls_config_free(cfg);
		return rv;
	}
	rv = nng_tls_config_own_cert(cfg, cert, key != NULL ? key : cert, NULL);
	tri_free(cert);
	tri_free(key);
	if (rv != 0) {
		snprintf(err, errlen, "TLS: certificate %s%s%s: %s", f->cert,
		    f->key != NULL ? " with key " : "",
		    f->key != NULL ? f->key : "", nng_strerror(rv));
		nng_tls_config_free(cfg);
		return TR_EPROTO;
	}
	if (server_name != NULL &&
	    (rv = nng_tls_config_server_name(cfg, server_name)) != 0) {
		nng_tls_config_free(cfg);
		return tri_err_nng(rv);
	}
	*out = cfg;
	return TR_OK;
}

/* ------------------------------------------------------------------ */

struct tri_peer_listener {
	nng_socket sock;
	nng_listener l;
	nng_aio *aio;
	tri_peer_recv_fn recv;
	tri_peer_pipe_fn pipe;
	void *arg;
};

static void
listener_recv_cb(void *arg)
{
	tri_peer_listener *l = arg;
	nng_msg *m;

	if (nng_aio_result(l->aio) != 0) {
		return; /* stopped or closed */
	}
	m = nng_aio_get_msg(l->aio);
	l->recv(
	    l->arg, (uint32_t)nng_pipe_id(nng_msg_get_pipe(m)), (tri_buf *)m);
	nng_recv_aio(l->sock, l->aio);
}

static void
pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	tri_peer_listener *l = arg;

	l->pipe(l->arg, (uint32_t)nng_pipe_id(p), ev == NNG_PIPE_EV_ADD_POST);
}

int
tri_peer_listen(tri_peer_listener **out, const char *url,
    const tri_tls_files *tls, size_t maxmsg, tri_peer_recv_fn recv,
    tri_peer_pipe_fn pipe, void *arg, char *err, size_t errlen)
{
	tri_peer_listener *l;
	nng_tls_config *cfg = NULL;
	int rv;

	err[0] = '\0';
	if (url == NULL || (!is_tls_url(url) && !is_tcp_url(url)) ||
	    (is_tcp_url(url) && tls != NULL)) {
		snprintf(err, errlen, "listen: %s: not a %s URL",
		    url != NULL ? url : "(null)",
		    tls != NULL ? "tls+tcp://" : "tcp:// or tls+tcp://");
		return TR_EINVAL;
	}
	if (is_tls_url(url) &&
	    (rv = tls_config(&cfg, true, tls, NULL, err, errlen)) != TR_OK) {
		return rv;
	}
	if ((l = tri_calloc(1, sizeof(*l))) == NULL) {
		if (cfg != NULL) {
			nng_tls_config_free(cfg);
		}
		return TR_ENOMEM;
	}
	l->recv = recv;
	l->pipe = pipe;
	l->arg = arg;
	if ((rv = nng_pull0_open(&l->sock)) != 0) {
		goto fail_free;
	}
	if ((rv = nng_socket_set_size(l->sock, NNG_OPT_RECVMAXSZ, maxmsg)) !=
	        0 ||
	    (rv = nng_pipe_notify(l->sock, NNG_PIPE_EV_ADD_POST, pipe_cb, l)) !=
	        0 ||
	    (rv = nng_pipe_notify(l->sock, NNG_PIPE_EV_REM_POST, pipe_cb, l)) !=
	        0 ||
	    (rv = nng_aio_alloc(&l->aio, listener_recv_cb, l)) != 0 ||
	    (rv = nng_listener_create(&l->l, l->sock, url)) != 0 ||
	    (cfg != NULL &&
	        (rv = nng_listener_set_ptr(l->l, NNG_OPT_TLS_CONFIG, cfg)) !=
	            0) ||
	    (rv = nng_listener_set_bool(l->l, NNG_OPT_TCP_NODELAY, true)) !=
	        0 ||
	    (rv = nng_listener_start(l->l, 0)) != 0) {
		snprintf(
		    err, errlen, "listen at %s: %s", url, nng_strerror(rv));
		goto fail_close;
	}
	if (cfg != NULL) {
		nng_tls_config_free(cfg); /* the listener holds it */
	}
	nng_recv_aio(l->sock, l->aio);
	*out = l;
	return TR_OK;

fail_close:
	if (l->aio != NULL) {
		nng_aio_free(l->aio);
	}
	nng_close(l->sock);
fail_free:
	if (cfg != NULL) {
		nng_tls_config_free(cfg);
	}
	tri_free(l);
	return tri_err_nng(rv);
}

void
tri_peer_drop(tri_peer_listener *l, uint32_t pipe)
{
	nng_pipe p = NNG_PIPE_INITIALIZER;

	(void)l;
	p.id = pipe;
	(void)nng_pipe_close(p);
}

void
tri_peer_listener_close(tri_peer_listener *l)
{
	if (l == NULL) {
		return;
	}
	nng_aio_stop(l->aio);
	/* As socket.c's inboxes: a header read as the socket closes must
	 * end its pipe, not wait for a body read nng 1.5.2 drops. */
	(void)nng_socket_set_size(l->sock, NNG_OPT_RECVMAXSZ, 1);
	nng_close(l->sock);
	nng_aio_free(l->aio);
	tri_free(l);
}

/* ------------------------------------------------------------------ */

struct tri_peer_dialer {
	nng_socket sock;
	nng_dialer d;
	nng_aio *aio;  /* a send that waits: sent() on completion */
	nng_aio *iaio; /* a send the connection takes at once, or not */
	tri_peer_sent_fn sent;
	tri_peer_pipe_fn pipe;
	void *arg;
};

static void
dialer_sent_cb(void *arg)
{
	tri_peer_dialer *d = arg;
	int rv = nng_aio_result(d->aio);

	if (rv != 0) {
		nng_msg_free(nng_aio_get_msg(d->aio));
		nng_aio_set_msg(d->aio, NULL);
	}
	d->sent(d->arg, tri_err_nng(rv));
}

static void
dialer_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	tri_peer_dialer *d = arg;

	if (ev == NNG_PIPE_EV_REM_POST) {
		d->pipe(d->arg, (uint32_t)nng_pipe_id(p), false);
	}
}

int
tri_peer_dial(tri_peer_dialer **out, const char *url, const tri_tls_files *tls,
    const char *server_name, int timeout_ms, tri_peer_sent_fn sent,
    tri_peer_pipe_fn pipe, void *arg, char *err, size_t errlen)
{
	tri_peer_dialer *d;
	nng_tls_config *cfg = NULL;
	int rv;

	err[0] = '\0';
	if (url == NULL || (!is_tls_url(url) && !is_tcp_url(url)) ||
	    (is_tcp_url(url) && tls != NULL)) {
		snprintf(err, errlen, "dial: %s: not a %s URL",
		    url != NULL ? url : "(null)",
		    tls != NULL ? "tls+tcp://" : "tcp:// or tls+tcp://");
		return TR_EINVAL;
	}
	if (is_tls_url(url) &&
	    (rv = tls_config(&cfg, false, tls, server_name, err, errlen)) !=
	        TR_OK) {
		return rv;
	}
	if ((d = tri_calloc(1, sizeof(*d))) == NULL) {
		if (cfg != NULL) {
			nng_tls_config_free(cfg);
		}
		return TR_ENOMEM;
	}
	d->sent = sent;
	d->pipe = pipe;
	d->arg = arg;
	if ((rv = nng_push0_open(&d->sock)) != 0) {
		snprintf(err, errlen, "dial %s: %s", url, nng_strerror(rv));
		goto fail_free;
	}
	/* One connection, ours to end: no reconnecting behind our back
	 * (a new connection is a new session: dist.c dials again). */
	if ((rv = nng_socket_set_ms(d->sock, NNG_OPT_SENDTIMEO, -1)) != 0 ||
	    (rv = nng_socket_set_ms(
	         d->sock, NNG_OPT_RECONNMINT, 3600 * 1000)) != 0 ||
	    (rv = nng_socket_set_ms(
	         d->sock, NNG_OPT_RECONNMAXT, 3600 * 1000)) != 0 ||
	    (rv = nng_pipe_notify(
	         d->sock, NNG_PIPE_EV_REM_POST, dialer_pipe_cb, d)) != 0 ||
	    (rv = nng_aio_alloc(&d->aio, dialer_sent_cb, d)) != 0 ||
	    (rv = nng_aio_alloc(&d->iaio, NULL, NULL)) != 0 ||
	    (rv = nng_dialer_create(&d->d, d->sock, url)) != 0 ||
	    (cfg != NULL &&
	        (rv = nng_dialer_set_ptr(d->d, NNG_OPT_TLS_CONFIG, cfg)) !=
	            0) ||
	    (rv = nng_dialer_set_bool(d->d, NNG_OPT_TCP_KEEPALIVE, true)) !=
	        0 ||
	    (rv = nng_dialer_set_bool(d->d, NNG_OPT_TCP_NODELAY, true)) != 0) {
		snprintf(err, errlen, "dial %s: %s", url, nng_strerror(rv));
		goto fail_close;
	}
	(void)nng_socket_set_ms(d->sock, NNG_OPT_RECVTIMEO, timeout_ms);
	if ((rv = nng_dialer_start(d->d, 0)) != 0) {
		snprintf(err, errlen, "dial %s%s%s: %s", url,
		    server_name != NULL ? " as " : "",
		    server_name != NULL ? server_name : "", nng_strerror(rv));
		goto fail_close;
	}
	if (cfg != NULL) {
		nng_tls_config_free(cfg);
	}
	*out = d;
	return TR_OK;

fail_close:
	if (d->aio != NULL) {
		nng_aio_free(d->aio);
	}
	if (d->iaio != NULL) {
		nng_aio_free(d->iaio);
	}
	nng_close(d->sock);
fail_free:
	if (cfg != NULL) {
		nng_tls_config_free(cfg);
	}
	tri_free(d);
	switch (rv) {
	case NNG_ECONNREFUSED:
	case NNG_EUNREACHABLE:
	case NNG_ETIMEDOUT:
	case NNG_ECONNRESET:
	case NNG_ECONNABORTED:
	case NNG_ECONNSHUT:
	case NNG_ECLOSED:
		return TR_ENOCONN;
	case NNG_ECRYPTO:
	case NNG_EPEERAUTH:
		return TR_EPERM;
	default:
		return tri_err_nng(rv);
	}
}

int
tri_peer_send(tri_peer_dialer *d, const void *data, size_t len, bool *pending)
{
	nng_msg *m = NULL;
	int rv;

	if ((rv = nng_msg_alloc(&m, len)) != 0) {
		return tri_err_nng(rv);
	}
	memcpy(nng_msg_body(m), data, len);
	/* At once if the connection is free: with a zero timeout the push
	 * socket takes it or refuses it inside nng_send_aio, and a
	 * callback-less aio completes without a task thread. */
	nng_aio_set_timeout(d->iaio, NNG_DURATION_ZERO);
	nng_aio_set_msg(d->iaio, m);
	nng_send_aio(d->sock, d->iaio);
	nng_aio_wait(d->iaio);
	if (nng_aio_result(d->iaio) == 0) {
		*pending = false;
		return TR_OK;
	}
	/* Busy (or closing: the waiting send then fails in sent()). */
	m = nng_aio_get_msg(d->iaio);
	nng_aio_set_msg(d->iaio, NULL);
	nng_aio_set_msg(d->aio, m);
	nng_send_aio(d->sock, d->aio);
	*pending = true;
	return TR_OK;
}

void
tri_peer_dialer_close(tri_peer_dialer *d)
{
	if (d == NULL) {
		return;
	}
	nng_aio_stop(d->aio);
	nng_close(d->sock);
	nng_aio_free(d->aio);
	nng_aio_free(d->iaio);
	tri_free(d);
}
