/*
 * peer.h -- private to troupe: connections between nodes.  Not API.
 *
 * Nodes talk over nng tcp:// or tls+tcp://, one connection per
 * direction: a node's listener (a pull socket) takes what every other
 * node sends it, and a node sends to another through a dialer of its
 * own (a push socket with one pipe).  Which node a connection comes
 * from is for the caller to establish (dist.c's handshake): this layer
 * reports pipes by id and never reconnects by itself -- a connection
 * that ends is a session that ended.
 *
 * With TLS both ends present a certificate of the cluster's CA; the
 * listener always verifies the dialer's (NNG_TLS_AUTH_MODE_REQUIRED),
 * and a dialer that knows the node it dials verifies the listener's
 * under that name (server name).  A dialer that does not know it (NULL
 * server_name) does not verify it: that connection proves nothing, and
 * dist_hello.c trusts none such.  TLS 1.2 (all that Debian 12's mbed
 * TLS engine speaks).
 */
#ifndef TRI_PEER_H
#define TRI_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "socket.h"

typedef struct tri_tls_files {
	const char *ca;   /* the cluster CA (PEM) */
	const char *cert; /* this node's certificate (PEM) */
	const char *key;  /* its key (PEM); NULL: in the cert file */
} tri_tls_files;

/* A message arrived on pipe `pipe` of a listener: takes b.  On an nng
 * thread; one message at a time, in arrival order. */
typedef void (*tri_peer_recv_fn)(void *arg, uint32_t pipe, tri_buf *b);
/* Pipe `pipe` came up (up) or ended (!up).  On an nng thread. */
typedef void (*tri_peer_pipe_fn)(void *arg, uint32_t pipe, bool up);

typedef struct tri_peer_listener tri_peer_listener;

/*
 * Listens at url (tcp:// or tls+tcp://; tls NULL for tcp://), taking
 * messages of up to maxmsg bytes (a larger one ends its connection).
 * On failure a sentence for the user is in err.  Errors: TR_EINVAL
 * (bad url, or tls given for tcp:// or missing for tls+tcp://),
 * TR_EEXIST (address in use), TR_ENOENT (a certificate file cannot be
 * read), TR_EPROTO (a certificate or key file is not valid PEM),
 * TR_ENOMEM, TR_ETRANSPORT.
 */
int tri_peer_listen(tri_peer_listener **out, const char *url,
    const tri_tls_files *tls, size_t maxmsg, tri_peer_recv_fn recv,
    tri_peer_pipe_fn pipe, void *arg, char *err, size_t errlen);
/* Closes the pipe: its connection ends (its REM event follows). */
void tri_peer_drop(tri_peer_listener *l, uint32_t pipe);
/* Stops; no callback runs after it returns.  NULL is fine. */
void tri_peer_listener_close(tri_peer_listener *l);

typedef struct tri_peer_dialer tri_peer_dialer;

/* A send finished (TR_OK: handed to the kernel) or failed; the data
 * given is free to reuse.  On an nng thread, or on the caller's for a
 * send refused at once. */
typedef void (*tri_peer_sent_fn)(void *arg, int rv);

/*
 * Dials url at once (blocking until connected or refused: up to
 * timeout_ms) with tls (NULL: plain tcp) and, unless NULL, the name the
 * listener's certificate must carry.  sent is called for every
 * tri_peer_send(); pipe when the connection ends (up false).  On
 * failure a sentence for the user (nng's reason, e.g. a certificate
 * refused) is in err; errors: TR_ENOCONN (refused, unreachable, timed
 * out), TR_EPERM (TLS: a certificate was refused, by either end),
 * TR_EINVAL, TR_ENOENT / TR_EPROTO (our certificate files), TR_ENOMEM,
 * TR_ETRANSPORT.
 */
int tri_peer_dial(tri_peer_dialer **out, const char *url,
    const tri_tls_files *tls, const char *server_name, int timeout_ms,
    tri_peer_sent_fn sent, tri_peer_pipe_fn pipe, void *arg, char *err,
    size_t errlen);
/*
 * Sends len bytes from data as one message; data is copied.  At most
 * one send may be pending (the next once sent() was called); sends are
 * not called concurrently.  TR_OK with *pending false: the connection
 * took it at once, and no sent() call follows; with *pending true: it
 * waits for the connection, and sent() will be called (never from
 * inside this call).  Else TR_ENOMEM and no call.
 *
 * Why two ways: a send that completes on its own callback costs a hop
 * to an nng task thread, which a round trip on an idle link pays on
 * each end; the connection is usually free then.
 */
int tri_peer_send(
    tri_peer_dialer *d, const void *data, size_t len, bool *pending);
/* Closes the connection and frees; no callback runs after it returns
 * (a send in flight ends in a sent() call with TR_ECANCELED meanwhile).
 * Not from one of d's own callbacks.  NULL is fine. */
void tri_peer_dialer_close(tri_peer_dialer *d);

#endif
