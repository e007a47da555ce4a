/*
 * frame.h -- private to troupe: the wire frame codec.  Not API.
 *
 * One nng message carries one or more frames back to back (a sender
 * that has several frames ready for one mailbox sends them together).
 * A frame is a fixed header followed by a msgpack body:
 *
 *   off size field
 *     0    1 version      TRI_FRAME_VERSION
 *     1    1 kind         enum tri_frame_kind
 *     2    2 flags        TRI_F_* bits; any other bit is refused
 *     4    4 tag          message tag
 *     8   16 sender ref   node, proc, slot, gen (4 x u32)
 *    24   16 dest ref     node, proc, slot, gen (4 x u32)
 *    40    8 corr         correlation id (calls, replies), else 0
 *    48    4 body_len     bytes of body that follow
 *    52  ... body         exactly one msgpack value, or empty
 *
 * All integers little-endian.  The decoder trusts nothing: every length
 * is checked against what is left and against the cap, and the body must
 * be exactly one well-formed msgpack value.
 */
#ifndef TRI_FRAME_H
#define TRI_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "troupe.h"

#define TRI_FRAME_VERSION 1
#define TRI_FRAME_HDR 52

enum tri_frame_kind {
	TRI_K_USER = 1,  /* tr_send */
	TRI_K_CALL = 2,  /* tr_call request; corr set */
	TRI_K_REPLY = 3, /* tr_reply; corr set */
	TRI_K_EXIT = 4,  /* link exit signal; body [kind, code] */
	TRI_K_DOWN = 5,  /* monitor notice; body [kind, code, mon] */
	TRI_K_STOP = 6,  /* stop request; body [kind, code] */
	TRI_K_LINK = 7,  /* link request (cross-process) */
	TRI_K_UNLINK = 8,
	TRI_K_MON = 9, /* monitor request; corr = monitor id */
	TRI_K_DEMON = 10,
	TRI_K_TIMER = 11, /* a delayed user message (enqueued past capacity) */
	TRI_K_PROC_DOWN = 12, /* process dest.proc... see below */
	TRI_K_READY = 13,     /* a new process's actor started, or failed to */
	TRI_K_REDIRECT = 14,  /* a call was passed on to sender (pools) */
	TRI_K_BYE = 15,       /* an exiting process's last frame: see below */
	TRI_K_FENCE = 16,     /* a scheduled actor moved: see below */
	/* Between nodes (actors/dist*.c); never to an actor: */
	TRI_K_HELLO = 17,  /* handshake: see below */
	TRI_K_TICK = 18,   /* liveness: tag 0 tick, 1 its answer */
	TRI_K_CREDIT = 19, /* tag more sends to dest may go */
	TRI_K_FRAG = 20,   /* a piece of a big frame: see below */
	/* In a node: */
	TRI_K_NODE_DOWN = 21, /* node tag's session ended: see below */
	TRI_K_MAX_ = 22
};

/*
 * TRI_K_PROC_DOWN: a process of the node is gone.  tag = its proc id,
 * body [kind, code, 0] = the reason of the actor it hosted.  Sent by the
 * root to every process, which hands it to each of its contexts: every
 * link or monitor they hold on an actor of that process fires with that
 * reason (at most once: a notice that came directly first wins).
 *
 * TRI_K_REDIRECT: a pool passed the call corr on to the member named
 * by sender; the caller now watches that member for the call's length.
 *
 * TRI_K_BYE: the last frame a process sends on a connection before it
 * exits, alone in its nng message: sender = its main context, corr = a
 * number of the sender's.  The receiver does not deliver it: having
 * read it (and so everything before it), it tells the sender through
 * the sender's slot table, and the sender may exit.
 *
 * TRI_K_FENCE: scheduler k handed actor dest over to the scheduler
 * whose inbox this is, through that inbox's port of its process, after
 * every frame dest had sent to actors there: dest runs there only once
 * this arrived, so none of those frames is overtaken by a message dest
 * hands over directly (actors/sched_share.c).  Body empty.
 *
 * TRI_K_HELLO: the first frames on a connection between nodes, and
 * the handshake's answers; body a msgpack map (actors/dist_hello.c).
 * TRI_K_TICK: corr = the sender's clock (us); tag 1 echoes a tick's.
 * TRI_K_CREDIT: dest = an actor of the sender's node that took tag
 * more messages from the receiver's node.
 * TRI_K_FRAG: sender, dest as the big frame's; corr = its number on
 * the connection; tag = its encoded length; body = a msgpack bin of the
 * next piece of its encoding.  Pieces of one frame arrive in order.
 * TRI_K_NODE_DOWN: every link and monitor on an actor of node tag
 * fires with reason noconnection (body [kind, code, 0]).
 *
 * TRI_K_READY: a fork member or exec'd program reports to its spawner;
 * corr = the spawn's id, sender = the new actor's ref, body [kind, code,
 * 0]: normal if its init succeeded, else the reason it failed.
 */

/* The body carries shared buffers (TR_MSGPACK_EXT_BUF values), each
 * holding its buffer for the frame's way (actors/buffer.c). */
#define TRI_F_BUFS 0x0001u
#define TRI_F_ALL_ TRI_F_BUFS

typedef struct tri_frame {
	uint8_t kind;
	uint16_t flags; /* TRI_F_* */
	uint32_t tag;
	tr_ref sender;
	tr_ref dest;
	uint64_t corr;
	const uint8_t *body; /* points into the decoded buffer */
	uint32_t body_len;
} tri_frame;

/*
 * Appends the encoding of f (header, then f->body) to the growable buffer
 * *buf of *len bytes used and *cap allocated (realloc'd through
 * tri_realloc).  TR_EMSGSIZE if body_len > max_body, TR_ENOMEM.
 */
int tri_frame_encode(const tri_frame *f, uint32_t max_body, uint8_t **buf,
    size_t *len, size_t *cap);

/* Writes just the header for f into hdr[TRI_FRAME_HDR]. */
void tri_frame_put_header(const tri_frame *f, uint8_t *hdr);

/*
 * Decodes the frame at buf[*off .. len).  On TR_OK fills *f (body points
 * into buf) and advances *off past the frame.  Errors, leaving *off
 * unchanged: TR_EPROTO (bad version, kind, flags, truncated header or
 * body, body not exactly one msgpack value), TR_EMSGSIZE (body_len >
 * max_body).  After an error the rest of the buffer cannot be trusted:
 * the caller drops it and counts one malformed frame.
 */
int tri_frame_decode(const uint8_t *buf, size_t len, size_t *off,
    uint32_t max_body, tri_frame *f);

/* Checks that body is exactly one complete msgpack value (empty is ok). */
int tri_body_check(const uint8_t *body, size_t len);

/*
 * tri_body_check(), calling ext(arg, type, off, size) for every ext
 * value on the way: its type and where its data is (body[off .. off +
 * size)).  A non-zero return from ext stops the walk and is returned.
 * Only checked bytes are ever shown to ext.
 */
typedef int (*tri_ext_fn)(void *arg, int8_t type, size_t off, uint32_t size);
int tri_body_walk(const uint8_t *body, size_t len, tri_ext_fn ext, void *arg);

#endif
