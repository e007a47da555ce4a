/*
 * nmsg.h -- private to troupe: a message body held in an nng message.
 * Not API.
 *
 * Every actor message (tr_msg) keeps its msgpack body in an nng_msg
 * from tr_msg_new() to the receiver: between two actors of one
 * scheduler the very same nng message is handed over; across threads
 * and processes its bytes travel inside the nng messages of a port's
 * batch (socket.h) and arrive in a new one.  This is the only place
 * outside socket.c that touches nng, so that actors/ need not.
 */
#ifndef TRI_NMSG_H
#define TRI_NMSG_H

#include <stddef.h>
#include <stdint.h>

typedef struct tri_nmsg tri_nmsg;

/* An empty body with room for `reserve` bytes.  NULL if out of memory
 * (the allocation seam's hook counts it as one allocation). */
tri_nmsg *tri_nmsg_alloc(size_t reserve);
/* Frees it.  NULL is fine. */
void tri_nmsg_free(tri_nmsg *m);
/* Appends len bytes.  0, or -1 if out of memory. */
int tri_nmsg_append(tri_nmsg *m, const void *data, size_t len);
/* The body's bytes (valid until the next append) and length. */
uint8_t *tri_nmsg_body(tri_nmsg *m);
size_t tri_nmsg_len(const tri_nmsg *m);
/* Empties the body, keeping the room it has (for reuse). */
void tri_nmsg_clear(tri_nmsg *m);

#endif
