/*
 * listener.h -- private to transport/: watched ipc listeners (see
 * watch.h for why).  Not API.  Only transport/ includes nng.
 */
#ifndef TRI_LISTENER_H
#define TRI_LISTENER_H

#include <stdbool.h>

#include <nng/nng.h>

#include "watch.h"

typedef struct tri_watched tri_watched;

/*
 * Listens at url (ipc://) on s and registers the listener with the
 * watch.  The watch owns s's pipe notifications from now on.  note: where
 * accepted connections are noted and checks are asked for (may be
 * shared with other processes); NULL: a note of its own.  periodic: also
 * check it every TRI_WATCH_PERIOD_MS (for a listener whose dialers
 * cannot ask).  Errors mapped by tri_err_nng.
 */
int tri_watch_listen(tri_watched **out, nng_socket s, const char *url,
    tri_accept_note *note, bool periodic);

/* Takes w out of the registry; waits for a check of it that is under
 * way.  Call before closing the socket. */
void tri_watch_forget(tri_watched *w);
/* Frees w: after the socket is closed (no pipe callback runs then). */
void tri_watch_free(tri_watched *w);

/*
 * Checks w now: connects to it as a peer of the socket's protocol would
 * and waits up to timeout_ms for the socket to accept that connection; if it
 * does not, moves the address to a new listener (unlink, listen) and sets
 * *repaired.  TR_OK: it takes connections (again).  Blocks; not from an nng
 * callback.  Checks of one listener run one at a time.
 */
int tri_watch_check(tri_watched *w, int timeout_ms, bool *repaired);

#endif
