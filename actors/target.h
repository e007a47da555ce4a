/*
 * target.h -- private to troupe: where a ref leads, and sending a frame there
 * (target.c).  Not API.
 */
#ifndef TRI_TARGET_H
#define TRI_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"
#include "frame.h"
#include "slots.h"

/* Delivers a frame to a local context, bypassing capacity (control
 * frames, replies, timers).  TR_ENOPROC if its mailbox is closed. */
int tri_deliver(tri_ctx *c, const tri_frame *f);

/*
 * Where a ref leads (target.c): a context of this process, or the
 * mailbox of another process of the node (its slot record and a port to
 * it).  Held until tri_target_put().
 */
typedef struct tri_target {
	tr_ref ref;
	tri_ctx *local;           /* this process: held unless borrowed */
	bool borrowed;            /* local lives on this scheduler thread */
	struct tri_rport *remote; /* another process: held */
	uint32_t remote_home;     /* its scheduler there (0: own inbox) */
	tri_slottab *tab;
	tri_slotrec *rec;
	struct tri_peer *node; /* another node: its session (dist.h) */
	uint64_t node_session;
	bool via_gate; /* another node, from a member: the root's gateway */
	bool direct;   /* local: queue straight into its mailbox (frames
	                  from other nodes: tri_mailbox_arrive) */
} tri_target;

/* TR_OK; TR_ENOPROC if ref names no live actor; TR_ERESOURCE or
 * TR_ENOMEM if it lives (as far as its slot table says) but this
 * process could not connect to it.  An actor of another node: TR_OK
 * with t->node set if a session with its node is up, TR_ENOCONN if its
 * node is known and not connected, TR_ENOPROC if its node is not
 * known (tri_dist_peer). */
int tri_target_get(tr_ref ref, tri_target *t);
/* The same for a use that does not block before its reservation proves
 * the target alive (a send, a reply): an actor of the calling
 * scheduler is borrowed, without the registry's lock. */
int tri_target_get_quick(tr_ref ref, tri_target *t);
/* The same without connecting: t->remote stays NULL (t->tab and t->rec
 * are set).  For what a slot record tells -- liveness, introspection,
 * the pid to kill -- and needs no descriptor.  TR_ENOTSUP for an actor
 * of another node (no slot table here). */
int tri_target_peek(tr_ref ref, tri_target *t);
/* The slot table of process proc, mapped once and kept until
 * tri_remote_fini(): TR_OK, TR_ENOPROC, TR_ERESOURCE, TR_ENOMEM. */
int tri_remote_table(uint32_t proc, tri_slottab **out);
void tri_target_put(tri_target *t);
/* Queues a frame (no capacity check). */
int tri_target_deliver(tri_target *t, const tri_frame *f);
/* Takes a mailbox slot, then queues; gives the slot back on failure. */
int tri_target_send(tri_target *t, const tri_frame *f, int timeout_ms);
/* The same for the message f was made from: on success msg is taken
 * (handed over as is between two actors of one scheduler, else freed
 * once f is queued); on failure it stays the caller's. */
int tri_target_send_msg(
    tri_target *t, const tri_frame *f, int timeout_ms, tr_msg *msg);
/*
 * For a process about to exit (nng has no linger, and a receiver that
 * sees the hang-up may drop what it has not read yet): hands what every
 * port to another process holds to nng, then sends a goodbye on each
 * and waits until each receiver has read everything up to its goodbye
 * (or its process has ended), or the deadline.  Whether all did.
 */
bool tri_remote_goodbye(uint64_t deadline_ms);
/* A goodbye numbered token arrived from process proc, after everything
 * it sent before on that connection: tells it (its slot table).  Any
 * thread (an nng callback). */
void tri_bye_ack(uint32_t proc, uint64_t token);
/* Drops every cached port to process proc (it is gone). */
void tri_remote_forget_proc(uint32_t proc);
void tri_remote_fini(void);
/* Sends a control frame (EXIT, DOWN, STOP, MON...) to any ref. */
int tri_send_control_ref(
    tr_ref to, int kind, tr_ref about, tr_reason why, uint64_t mon);

#endif
