/*
 * control.h -- private to troupe: a request/reply socket for the
 * `troupe` command to reach a running tree.  Not API.
 *
 * The server is an nng rep socket at an ipc path in the user's private
 * run directory (mode 0700: only its owner can connect).  Requests and
 * replies are opaque bytes here (msgpack, by the supervisor layer).
 * One request is served at a time.
 */
#ifndef TRI_CONTROL_H
#define TRI_CONTROL_H

#include <stddef.h>
#include <stdint.h>

typedef struct tri_ctl tri_ctl;

/* Called on an nng thread for each request; the answer must come
 * through tri_ctl_reply() (from any thread), once. */
typedef void (*tri_ctl_cb)(void *arg, const uint8_t *req, size_t len);

/* Listens at path.  *out is set before the first request can arrive,
 * so cb (and the thread it hands a request to) may use it. */
int tri_ctl_listen(tri_ctl **out, const char *path, tri_ctl_cb cb, void *arg);
int tri_ctl_reply(tri_ctl *c, const uint8_t *data, size_t len);
void tri_ctl_close(tri_ctl *c);

/* Client: sends one request to the server at path and waits up to
 * timeout_ms for the answer (*resp malloc'd, caller frees).  TR_ENOENT
 * if nobody listens there. */
int tri_ctl_request(const char *path, const uint8_t *req, size_t len,
    int timeout_ms, uint8_t **resp, size_t *resp_len);

#endif
