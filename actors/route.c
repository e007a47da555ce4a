/*
 * route.c -- sorting what arrives at a context: the control lane.
 *
 * The owner decodes its arrivals and hands each frame here.  User
 * messages queue in arrival order.  Control frames take no mailbox slot
 * and are acted on at once: stop requests and fatal exit signals go to
 * the control queue the actor runs before its next message; down
 * notices and trapped exit signals become messages; link and monitor
 * requests from other processes are recorded; a process's death fires
 * every link and monitor held on its actors, and a node's the same for
 * all of its actors (noconnection).
 */
#include <string.h>

#include "buffer.h"
#include "alloc.h"
#include "ctx.h"
#include "link.h"
#include "msg.h"
#include "registry.h"
#include "route.h"
#include "runtime.h"
#include "target.h"
#include "scheduler.h"

static void
push_notice(tri_ctx *c, tri_msgq *q, uint32_t tag, int kind, tr_ref who,
    tr_reason why, uint64_t mon)
{
	tr_msg *m = tri_msg_notice(tag, who, why, mon);

	if (m != NULL) {
		m->kind = (uint8_t)kind;
		tri_msgq_push(q, m);
	}
	(void)c;
}

/* An exit signal from `peer`, which was linked to c. */
static void
exit_signal(tri_ctx *c, tr_ref peer, tr_reason why)
{
	if (c->trap_exits || c->kind == TRI_CTX_MAIN) {
		push_notice(
		    c, &c->userq, TR_TAG_EXIT, TRI_K_EXIT, peer, why, 0);
	} else if (why.kind != TR_EXIT_NORMAL) {
		/* An abnormal exit of a link ends us too, with its reason. */
		push_notice(c, &c->ctlq, TR_TAG_EXIT, TRI_K_EXIT, peer, why, 0);
	}
}

/* What proc_down tells c of each link and monitor it loses. */
typedef struct proc_news {
	tri_ctx *c;
	tr_reason why;
} proc_news;

static void
down_of(void *arg, uint64_t id, tr_ref target)
{
	proc_news *pn = arg;

	push_notice(
	    pn->c, &pn->c->userq, TR_TAG_DOWN, TRI_K_DOWN, target, pn->why, id);
}

static void
exit_of(void *arg, tr_ref peer)
{
	proc_news *pn = arg;

	exit_signal(pn->c, peer, pn->why);
}

/* Process proc of node (every process of it: TRI_ANY_PROC) is gone:
 * every link and monitor c holds on its actors fires with why. */
static void
proc_down(tri_ctx *c, uint32_t node, uint32_t proc, tr_reason why)
{
	proc_news pn = {c, why};

	if (c->call.corr != 0 && c->call.target.node == node &&
	    (proc == TRI_ANY_PROC || c->call.target.proc == proc)) {
		c->call.down = true;
		c->call.noconn = why.kind == TR_EXIT_NOCONNECTION;
	}
	tri_monmap_take_proc(&c->mons, node, proc, down_of, &pn);
	/* The signals are c's own queues': no other lock is taken. */
	pthread_mutex_lock(&c->lmtx);
	tri_refset_take_proc(&c->links, node, proc, exit_of, &pn);
	pthread_mutex_unlock(&c->lmtx);
}

/* In a member process the main context hands a process's death to
 * every other context (its main thread does nothing else).  The root
 * does not wait for its main thread: its node service tells every
 * context of the root directly. */
static void
proc_down_fanout(tri_ctx *c, const tri_frame *f)
{
	tri_ctx **v;
	size_t n;

	if (c->kind != TRI_CTX_MAIN || tri_rt.is_root) {
		return;
	}
	if (tri_registry_actors(&v, &n) != TR_OK) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		tri_frame g = *f;
		g.dest = v[i]->ref;
		(void)tri_deliver(v[i], &g);
		tri_ctx_rele(v[i]);
	}
	tri_free(v);
	tri_sched_broadcast(f); /* scheduled actors: once per scheduler */
}

void
tri_route(tri_ctx *c, const tri_frame *f)
{
	tr_msg *m;
	tr_reason why = TR_REASON_NORMAL;
	uint64_t mon = 0;
	bool counted = f->kind == TRI_K_USER || f->kind == TRI_K_CALL;

	if (!tr_ref_equal(f->dest, c->ref)) {
		/* Not for this incarnation: never deliver a dead actor's mail
		 * to its successor.  (Addresses name the incarnation, so only
		 * a forged frame gets here.) */
		if (counted || f->kind == TRI_K_TIMER) {
			tri_count_dead(1);
		}
		tri_buf_frame_drop(f);
		return;
	}
	if (f->kind >= TRI_K_EXIT && f->kind != TRI_K_TIMER &&
	    f->kind != TRI_K_LINK && f->kind != TRI_K_UNLINK &&
	    f->kind != TRI_K_DEMON && f->kind != TRI_K_REDIRECT &&
	    f->kind != TRI_K_BYE &&
	    tri_reason_parse(f->body, f->body_len, &why, &mon) != TR_OK) {
		TRI_STAT(malformed);
		return;
	}
	switch (f->kind) {
	case TRI_K_USER:
	case TRI_K_CALL:
	case TRI_K_TIMER:
		if ((m = tri_msg_from_frame(f)) == NULL) {
			/* Its slot stays taken: counted when the actor ends. */
			return;
		}
		m->counted = counted;
		tri_msgq_push(&c->userq, m);
		return;

	case TRI_K_REPLY:
	case TRI_K_READY:
		if (f->kind == TRI_K_READY && c->call.batch != NULL &&
		    c->call.corr != 0 && f->corr == c->call.corr) {
			tri_batch *b = c->call.batch;
			if (b->left > 0) {
				b->left--;
			}
			if (why.kind == TR_EXIT_NORMAL &&
			    why.code == TR_IGNORE) {
				if (f->tag < b->n) {
					b->refs[f->tag] = TR_REF_NIL;
				}
			} else if (why.kind != TR_EXIT_NORMAL) {
				if (b->failed++ == 0) {
					b->first_why = why;
				}
				if (f->tag < b->n) {
					b->refs[f->tag] = TR_REF_NIL;
				}
			}
			return;
		}
		if (c->call.corr != 0 && f->corr == c->call.corr &&
		    c->call.reply == NULL) {
			c->call.reply = tri_msg_from_frame(f);
			if (c->call.reply == NULL) {
				c->call.down = true; /* treat as lost */
			}
			return;
		}
		TRI_STAT(late_replies);
		tri_buf_frame_drop(f);
		return;

	case TRI_K_REDIRECT:
		if (c->call.corr != 0 && f->corr == c->call.corr) {
			/* The member that has our call is the one to watch now;
			 * one already dead ends the wait at once. */
			tri_target t;
			c->call.target = f->sender;
			if (tri_target_get(f->sender, &t) != TR_OK) {
				c->call.down = true;
				return;
			}
			if (t.local != NULL) {
				uint64_t id =
				    atomic_fetch_add(&tri_rt.next_mon, 1);
				if (tri_monitor_add(t.local, c->ref, id) ==
				    TR_OK) {
					c->call.mon2 = id;
				} else {
					c->call.down = true;
				}
			}
			tri_target_put(&t);
		}
		return;

	case TRI_K_DOWN:
		if ((c->call.mon != 0 && mon == c->call.mon) ||
		    (c->call.mon2 != 0 && mon == c->call.mon2)) {
			c->call.down = true;
			/* A member's gateway says so of a node cut off. */
			c->call.noconn = why.kind == TR_EXIT_NOCONNECTION;
			return;
		}
		if (!tri_mons_take(c, mon, NULL)) {
			return; /* demonitored, or told already: dropped */
		}
		push_notice(
		    c, &c->userq, TR_TAG_DOWN, TRI_K_DOWN, f->sender, why, mon);
		return;

	case TRI_K_EXIT:
		if (tri_unlink_local(c, f->sender)) {
			exit_signal(c, f->sender, why);
		} else if (c->call.corr != 0 && c->call.target.slot == 0 &&
		    c->call.target.node == f->sender.node &&
		    c->call.target.proc == f->sender.proc) {
			/* From the actor we are spawning, before the link
			 * could be made: the spawn fires it (process.c). */
			c->call.spawn_exited = true;
			c->call.spawn_exit_from = f->sender;
			c->call.spawn_exit_why = why;
		}
		return; /* not linked (any more): told already */

	case TRI_K_STOP:
		push_notice(
		    c, &c->ctlq, TR_TAG_EXIT, TRI_K_STOP, f->sender, why, 0);
		return;

	case TRI_K_MON: /* from another process: corr is the monitor id */
		if (tri_monitor_add(c, f->sender, f->corr) != TR_OK) {
			tri_send_control_ref(f->sender, TRI_K_DOWN, c->ref,
			    TR_REASON(TR_EXIT_NOPROC, 0), f->corr);
		}
		return;

	case TRI_K_DEMON:
		tri_monitor_remove(c, f->corr);
		return;

	case TRI_K_LINK:
		if (tri_link_add(c, f->sender) != TR_OK) {
			tri_send_control_ref(f->sender, TRI_K_EXIT, c->ref,
			    TR_REASON(TR_EXIT_NOPROC, 0), 0);
		}
		return;

	case TRI_K_UNLINK:
		(void)tri_unlink_local(c, f->sender);
		return;

	case TRI_K_PROC_DOWN:
		proc_down_fanout(c, f);
		proc_down(c, tri_rt.node, f->tag, why);
		return;

	case TRI_K_NODE_DOWN:
		proc_down_fanout(c, f);
		proc_down(c, f->tag, TRI_ANY_PROC, why);
		return;

	case TRI_K_BYE:
		/* Taken by the inbox when it comes alone (mailbox.c); one
		 * sent otherwise asks for nothing. */
		return;

	default:
		TRI_STAT(malformed);
		return;
	}
}
