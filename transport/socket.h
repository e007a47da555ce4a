/*
 * socket.h -- private to troupe: mailboxes on the wire.  Not API.
 *
 * This file and socket.c are the only place that knows nng.  A mailbox
 * is received through a tri_inbox (an nng pull socket listening at the
 * mailbox's address, receiving with an aio callback) and sent to
 * through a tri_port (an nng push socket dialed to that address).
 *
 * A port coalesces: while one nng message is in flight to the mailbox,
 * further frames for it are appended to the next one, which leaves as
 * soon as the first completes.  A lone frame therefore leaves at once
 * (no added latency), and a sender that outruns nng pays nng's
 * per-message cost once per batch instead of once per frame.
 */
#ifndef TRI_SOCKET_H
#define TRI_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "watch.h"

/* One received nng message: one or more frames. */
typedef struct tri_buf tri_buf;

const uint8_t *tri_buf_data(tri_buf *b);
/* A received message made here, holding f's encoding (f copied):
 * TR_OK or TR_ENOMEM. */
int tri_buf_of_frame(const tri_frame *f, tri_buf **out);
size_t tri_buf_len(tri_buf *b);
void tri_buf_free(tri_buf *b);

/* Called on an nng thread for every message received; takes b. Must not
 * block for long and must not close the inbox. */
typedef void (*tri_inbox_cb)(void *arg, tri_buf *b);

typedef struct tri_inbox tri_inbox;

/* Listens at url, and also at url2 unless NULL, and starts receiving.
 * url2 (ipc://, for other processes) is watched (watch.h): its accepted
 * connections are noted in *note (NULL: a note of its own), where its
 * dialers also ask for checks.  Errors mapped by tri_err_nng. */
int tri_inbox_open(tri_inbox **out, const char *url, const char *url2,
    tri_accept_note *note, tri_inbox_cb cb, void *arg);

/* Stops receiving (waits for a running callback to return), closes the
 * socket, frees.  No callback runs after it returns.  NULL is fine. */
void tri_inbox_close(tri_inbox *ib);

/*
 * Checks now that the inbox's second (ipc) listener still takes new
 * connections, as the watch does when asked (watch.h): dials it and
 * waits up to timeout_ms for the connection to be accepted; if it is
 * not, listens again and sets *repaired.  TR_OK: it works (again);
 * other errors: it could not tell, or listen again.  Blocks up to
 * timeout_ms; not from an nng callback; not concurrently with
 * tri_inbox_close() of the same inbox.
 */
int tri_inbox_check(tri_inbox *ib, int timeout_ms, bool *repaired);

typedef struct tri_port tri_port;

/*
 * Dials url (which must be listening: TR_ENOPROC otherwise).
 *
 * A paced port sends its next batch only once the receiver has taken
 * the previous one (tri_port_resume), not merely once nng accepted it:
 * while the receiver is busy everything queued for it travels as one
 * nng message.  For the port of a mailbox in this process, whose owner
 * can call tri_port_resume() when it drains.
 */
int tri_port_open(tri_port **out, const char *url, bool paced);

/* Paced ports: the receiver took what arrived; the next batch may go. */
void tri_port_resume(tri_port *p);

/* Queues one frame (copied) for the mailbox.  TR_OK, TR_ECLOSED after
 * tri_port_close(), TR_ENOMEM, TR_EMSGSIZE.  Thread-safe. */
int tri_port_send(tri_port *p, const tri_frame *f);

/* Waits until everything queued on the port was handed to nng (for a
 * process about to exit: nng has no linger), or the deadline (ms on the
 * monotonic clock) passes.  Whether it was. */
bool tri_port_flush(tri_port *p, uint64_t deadline_ms);

/*
 * For a process about to exit: waits (until deadline_ms on the monotonic
 * clock) until everything queued on the port was handed to nng, then
 * sends f as an nng message of its own -- the last: every later
 * tri_port_send() fails with TR_ECLOSED, so that f follows everything
 * sent on the port.  TR_OK; TR_ETIMEDOUT (not all was handed to nng: f
 * not sent; the port is sealed all the same); TR_ECLOSED; TR_ENOMEM.
 */
int tri_port_goodbye(tri_port *p, const tri_frame *f, uint64_t deadline_ms);

/* Closes the port: sends fail with TR_ECLOSED from now on.  Returns the
 * number of frames that were queued or in flight and will never arrive.
 * The port stays valid (for threads still holding it) until
 * tri_port_free().  NULL is fine (returns 0). */
uint64_t tri_port_close(tri_port *p);
/* Closes (if needed) and frees.  No other thread may use p. */
void tri_port_free(tri_port *p);

/* Maps an nng error to a TR_E* code by meaning. */
int tri_err_nng(int nng_err);

/* The addresses of a mailbox: inproc:// for senders of its process,
 * ipc:// under sockdir for the other processes of its node. */
int tri_addr_inproc(char *buf, size_t len, tr_ref dest);
int tri_addr_ipc(char *buf, size_t len, tr_ref dest, const char *sockdir);

#endif
