/*
 * msg.h -- private to troupe: messages as the runtime holds them, and their
 * queues (msg.c).  Not API.
 */
#ifndef TRI_MSG_H
#define TRI_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "troupe.h"

/* Messages (msg.c)                                                    */

struct tri_nmsg;

struct tr_msg {
	struct tr_msg *next; /* queue link, owner thread only */
	uint32_t tag;
	uint8_t kind; /* TRI_K_* once received; 0 if made locally */
	bool counted; /* holds a mailbox slot (depth) */
	tr_ref sender;
	uint64_t corr;
	uint64_t mon;          /* DOWN notices: the monitor id */
	tr_reason reason;      /* EXIT/DOWN notices */
	struct tri_nmsg *body; /* the nng message holding the body */
	msgpack_packer pk;
	msgpack_zone *zone; /* made by the first tr_msg_body() */
	msgpack_object obj;
	bool parsed;
	uint32_t bufs; /* buffer holds the body carries (buffer.c) */
};

/* The body's bytes and length. */
const uint8_t *tri_msg_bytes(const tr_msg *m);
size_t tri_msg_len(const tr_msg *m);
/* Frees the messages the calling thread keeps for reuse (msg.c); a
 * thread's are freed as it exits anyway. */
void tri_msg_cache_flush(void);

/* A received message built from a decoded frame (body copied).  NULL:
 * out of memory, and the buffer holds the frame carried are dropped. */
tr_msg *tri_msg_from_frame(const tri_frame *f);
/* A system notice (TR_TAG_EXIT / TR_TAG_DOWN) as a message. */
tr_msg *tri_msg_notice(uint32_t tag, tr_ref who, tr_reason why, uint64_t mon);
/* Packs [kind, code] (+ mon) into a small body for control frames. */
size_t tri_reason_body(uint8_t *buf, size_t len, tr_reason r, uint64_t mon);
int tri_reason_parse(
    const uint8_t *body, size_t len, tr_reason *r, uint64_t *mon);
/*
 * Fills f as a control frame of kind about `about` for dest: body
 * [why.kind, why.code, corr] in buf (TRI_CONTROL_BODY bytes), corr also
 * in the header (a monitor id, a spawn's id).  One builder for every
 * exit, down, stop, monitor, ready and process-death frame.
 */
#define TRI_CONTROL_BODY 32
void tri_control_frame(tri_frame *f, uint8_t *buf, int kind, tr_ref about,
    tr_ref dest, tr_reason why, uint64_t corr);
/* The reason a member's READY (and its process's end) carries when its
 * actor's init returned TR_IGNORE: normal, with a code no orderly end
 * has. */
#define TRI_REASON_IGNORED TR_REASON(TR_EXIT_NORMAL, TR_IGNORE)
/* The reason carried in a control message's body (READY). */
void tri_msg_reason_of_frame(const tr_msg *m, tr_reason *r);

/* The flags of a frame made from m's body. */
static inline uint16_t
tri_msg_flags(const tr_msg *m)
{
	return m->bufs > 0 ? TRI_F_BUFS : 0;
}

/* A user message (sent, called or timed), not a notice. */
static inline bool
tri_msg_is_user(const tr_msg *m)
{
	return m->kind == TRI_K_USER || m->kind == TRI_K_CALL ||
	    m->kind == TRI_K_TIMER;
}

typedef struct tri_msgq {
	tr_msg *head;
	tr_msg *tail;
	size_t n;
} tri_msgq;

void tri_msgq_push(tri_msgq *q, tr_msg *m);
tr_msg *tri_msgq_pop(tri_msgq *q);
/* Frees every message; returns how many held a mailbox slot. */
uint64_t tri_msgq_clear(tri_msgq *q);

#endif
