/*
 * dist_gw.c -- the root's gateway: how the node's member processes
 * (fork, exec) reach other nodes.
 *
 * Only the root holds sessions with other nodes.  A member sends a
 * frame for another node to the gateway, a context of the root whose
 * ref the root's slot table publishes: the member takes a slot of the
 * gateway's mailbox as for any send (so its sends are bounded, and
 * TR_EFULL / waiting behave as locally), and the gateway hands the frame
 * to the session of its node.  A user message that has no credit yet
 * waits at the gateway, holding its slot, until a credit comes; one for
 * a node that is not connected is a dead letter, and a monitor or link
 * asked of its actors is answered at once (noconnection, or noproc for
 * a node not known).
 */
#include <string.h>

#include "actor.h"
#include "alloc.h"
#include "ctx.h"
#include "dist_impl.h"
#include "msg.h"
#include "registry.h"
#include "runtime.h"
#include "slots.h"
#include "target.h"

/* Messages members may have on their way through the gateway. */
#define GATE_CAPACITY 65536

static tri_ctx *gate;

/* The gateway's slot: taken by the member that sent f, given back now
 * that f has left (or is lost). */
static void
release(void)
{
	tri_slot_release(&tri_rt.slots->slot[gate->ref.slot], gate->ref.gen, 1);
}

/* Tells a member's actor that what it asked of an actor of a node that
 * is not there will not happen. */
static void
answer(const tri_frame *f, int rv)
{
	tr_reason why = rv == TR_ENOCONN ?
	    TR_REASON(TR_EXIT_NOCONNECTION, (int32_t)f->dest.node) :
	    TR_REASON(TR_EXIT_NOPROC, 0);

	if (f->kind == TRI_K_MON) {
		(void)tri_send_control_ref(
		    f->sender, TRI_K_DOWN, f->dest, why, f->corr);
	} else if (f->kind == TRI_K_LINK) {
		(void)tri_send_control_ref(
		    f->sender, TRI_K_EXIT, f->dest, why, 0);
	}
}

static void
forward(const tri_frame *f)
{
	bool counted = f->kind == TRI_K_USER || f->kind == TRI_K_CALL;
	tri_peer *p;
	uint64_t session;
	int rv;

	if (f->dest.node == tri_rt.node) {
		return; /* news for the gateway itself: none is needed */
	}
	if ((rv = tri_dist_peer(f->dest, &p, &session)) != TR_OK) {
		if (counted) {
			tri_count_dead(1);
			release();
		}
		answer(f, rv);
		return;
	}
	if (!counted) {
		(void)tri_dist_send(p, session, f);
		return;
	}
	rv = tri_dist_credit_take(
	    p, session, f->dest, tri_dist_cost(f->body_len), TR_NOWAIT);
	if (rv == TR_EFULL) {
		tri_wire_park(p, f); /* keeps its slot until it leaves */
		return;
	}
	if (rv != TR_OK || tri_dist_send(p, session, f) != TR_OK) {
		if (rv == TR_OK) {
			tri_dist_credit_give(
			    p, session, f->dest, tri_dist_cost(f->body_len));
		}
		tri_count_dead(1);
	}
	release();
}

static void
gate_recv(tri_buf *b)
{
	const uint8_t *d = tri_buf_data(b);
	size_t len = tri_buf_len(b), off = 0;
	tri_frame f;

	while (off < len) {
		if (tri_frame_decode(d, len, &off, tri_rt.max_body, &f) !=
		    TR_OK) {
			TRI_STAT(malformed);
			break;
		}
		if ((f.flags & TRI_F_BUFS) != 0) {
			/* Shared buffers stay on their node (target.c refuses
			 * them before they get here). */
			TRI_STAT(malformed);
			continue;
		}
		forward(&f);
	}
	tri_buf_free(b);
}

void
tri_dist_gate_release(void)
{
	release();
}

int
tri_dist_gate_start(void)
{
	tri_ctx *c;
	int rv;

	if ((rv = tri_plain_ctx_new(GATE_CAPACITY, gate_recv, &c)) != TR_OK) {
		return rv;
	}
	gate = c;
	tri_rt.slots->gateway = c->ref;
	return TR_OK;
}

void
tri_dist_gate_stop(void)
{
	if (gate == NULL) {
		return;
	}
	tri_rt.slots->gateway = TR_REF_NIL;
	tri_registry_remove(gate);
	tri_mailbox_close(gate);
	tri_ctx_rele(gate);
	gate = NULL;
}
