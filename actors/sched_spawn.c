/*
 * sched_spawn.c -- starting scheduled actors.
 *
 * From an actor of the chosen scheduler, its init runs at once on the
 * caller's fiber (as the new actor; a blocking init blocks the spawner
 * too, as tr_spawn waits for init anyway).  From anywhere else, a start
 * request travels to the scheduler's inbox and the spawner waits for
 * its READY as for a call; tr_spawn_many sends all its requests and
 * waits once.
 */
#include <stdlib.h>
#include <string.h>

#include "sched_impl.h"

/* A thread's choice of scheduler for the actors it spawns from outside
 * any scheduler (so that actors spawned together start together). */
static _Thread_local uint32_t tls_pick;
static _Thread_local bool tls_spread;

/* A failed start leaves nothing behind: no links, no name, no slot. */
void
tri_sx_start_failed(tri_ctx *c, int rv)
{
	tri_start_undo(c, rv);
	TRI_STAT(exited); /* counted as spawned when its context was made */
	if (tri_sched_current() != NULL) {
		tri_sx_uncache(tri_sched_current(), c);
	}
	if ((c->sflags & TRI_SF_LOOP) != 0) {
		tri_sx_aloop_end(c);
	}
	tri_sx_swait_free(c);
	c->sflags |= TRI_SF_ENDED;
}

/* Runs c's init on the calling fiber (its scheduler's thread), as c.
 * Returns init's result; on failure c is gone (start_failed). */
int
tri_sx_run_init(tri_sched *s, tri_ctx *c, tr_msg *arg)
{
	tri_ctx *prev = tri_self();
	tri_ctx *prev_running = prev; /* the spawner, or nothing */
	int rv;

	c->sflags &= (uint16_t)~TRI_SF_STARTING;
	c->sflags |= TRI_SF_RUNNING;
	tri_set_self(c);
	tri_sx_busy(s, c);
	c->in_callback++;
	rv = c->beh->init != NULL ? c->beh->init(c->state, arg) : 0;
	c->in_callback--;
	if (rv == 0 && c->stopping) {
		rv = TR_EINIT; /* init asked to stop: a failed start */
	}
	c->sflags &= (uint16_t)~TRI_SF_RUNNING;
	tri_set_self(prev);
	tri_sx_unbusy(s, c, prev_running);
	if (rv != 0) {
		tri_sx_start_failed(c, rv);
		return rv;
	}
	tri_sx_list_add(s, c);
	tri_sx_live_add(1);
	if ((c->sflags & TRI_SF_LOOP) != 0) {
		tri_sx_aloop_arm(c);
	}
	if (tri_sx_has_work(c)) {
		tri_sx_rq_push(s, c);
	}
	return 0;
}

void
tri_sx_start_from_frame(tri_sched *s, tri_ctx *c)
{
	struct tri_start *sr = c->start;
	uint8_t body[TRI_CONTROL_BODY];
	tri_frame f;
	tr_reason why = TR_REASON_NORMAL;
	tr_ref self_ref = c->ref;
	int rv;

	c->start = NULL;
	rv = tri_sx_run_init(s, c, sr->arg);
	if (rv == TR_IGNORE) {
		why = TR_REASON(TR_EXIT_NORMAL, TR_IGNORE); /* as a process's */
	} else if (rv != 0) {
		why = TR_REASON(TR_EXIT_ERROR, rv);
	}
	tri_control_frame(
	    &f, body, TRI_K_READY, self_ref, sr->spawner, why, sr->corr);
	f.corr = sr->corr;
	f.tag = sr->index;
	{
		tri_target t;
		if (tri_target_get(sr->spawner, &t) == TR_OK) {
			(void)tri_target_deliver(&t, &f);
			tri_target_put(&t);
		}
	}
	tr_msg_free(sr->arg);
	tri_free(sr);
	if (rv != 0) {
		tri_ctx_rele(c); /* the scheduler's */
	}
}

/* ------------------------------------------------------------------ */
/* Spawning                                                            */

/* Where an actor spawned from outside the schedulers goes: the calling
 * thread keeps its choice (what is spawned together talks together),
 * made once as the scheduler with the fewest actors. */
void
tri_sched_spread(bool on)
{
	tls_spread = on;
}

static tri_sched *
pick(void)
{
	uint32_t n = tri_sched_count();
	uint32_t best = 0;

	if (tls_spread) {
		tls_pick = tls_pick % n + 1; /* the next one, in turn */
		return tri_sx_at(tls_pick - 1);
	}
	if (tls_pick >= 1 && tls_pick <= n) {
		return tri_sx_at(tls_pick - 1);
	}
	for (uint32_t i = 1; i < n; i++) {
		if (atomic_load(&tri_sx_at(i)->nactors) <
		    atomic_load(&tri_sx_at(best)->nactors)) {
			best = i;
		}
	}
	tls_pick = best + 1;
	return tri_sx_at(best);
}

/* Asks s to run c's init (from a thread that is not s's) and waits for
 * the answer, as a call. */
static int
start_remote(tri_sched *s, tri_ctx *c, tr_msg *arg, tr_reason *why)
{
	tri_ctx *self = tri_self();
	struct tri_start *sr;
	uint8_t body[TRI_CONTROL_BODY];
	tri_frame f;
	tr_msg *reply = NULL;
	tr_reason r;
	uint32_t home;
	int rv;

	if (self == NULL) {
		return TR_ESTATE;
	}
	if ((sr = tri_calloc(1, sizeof(*sr))) == NULL) {
		return TR_ENOMEM;
	}
	sr->arg = arg;
	sr->spawner = self->ref;
	sr->corr = tri_call_begin(self, 0, TR_REF_NIL, 0);
	c->start = sr; /* its scheduler's from the send on */
	tri_control_frame(
	    &f, body, TRI_K_READY, self->ref, c->ref, TR_REASON_NORMAL, 0);
	f.corr = sr->corr;
	rv = tri_slot_route(tri_rt.slots, c->mb.rec, c->ref.gen, &home);
	if (rv == TR_OK) {
		rv = tri_port_send(tri_mailbox_port(s->host), &f);
		if (rv != TR_OK) {
			tri_slot_routed(c->mb.rec, c->ref.gen);
		}
	}
	if (rv != TR_OK) {
		tri_call_cancel(self);
		c->start = NULL;
		tri_free(sr);
		return rv == TR_ECLOSED ? TR_ENOPROC : rv;
	}
	if ((rv = tri_wait_reply(self, UINT64_MAX, &reply)) != TR_OK) {
		return rv;
	}
	tri_msg_reason_of_frame(reply, &r);
	tr_msg_free(reply);
	if (r.kind == TR_EXIT_NORMAL && r.code == TR_IGNORE) {
		return TR_IGNORE;
	}
	if (r.kind != TR_EXIT_NORMAL) {
		if (why != NULL) {
			*why = r;
		}
		return TR_EINIT;
	}
	return TR_OK;
}

/* Makes the context of a scheduled actor to be started on s: its ref,
 * slot, name, links (to the caller if the spec says so, and to peer),
 * and its copy of the init argument in *arg.  On success it holds the
 * scheduler's reference and ours. */
static int
make_ctx(const tr_spec *spec, const tri_behavior *b, tr_ref peer, tri_sched *s,
    tri_ctx **out, tr_msg **arg)
{
	tri_ctx *self = tri_self();
	tri_ctx *c;
	int rv;

	*arg = NULL;
	c = tri_ctx_new(b,
	    spec->mailbox_capacity ? spec->mailbox_capacity : tri_rt.capacity);
	if (c == NULL) {
		return TR_ENOMEM;
	}
	c->kind = TRI_CTX_SCHED;
	c->place = TR_PLACE_SCHEDULED;
	c->trap_exits = spec->trap_exits;
	c->seq = atomic_fetch_add(&tri_rt.seq, 1);
	c->sched = s;
	c->sflags = TRI_SF_STARTING;
	if (spec->init_arg != NULL &&
	    (rv = tr_msg_dup(arg, spec->init_arg)) != TR_OK) {
		goto fail_ctx;
	}
	if ((rv = tri_registry_add(c)) != TR_OK) {
		goto fail_arg;
	}
	if ((rv = tri_mailbox_open(c)) != TR_OK) {
		goto fail_reg;
	}
	if (spec->name != NULL &&
	    (rv = tri_names_add(spec->name, c->ref)) != TR_OK) {
		goto fail_mb;
	}
	if (spec->link && self != NULL && (rv = tr_link(c->ref)) != TR_OK) {
		goto fail_mb;
	}
	if (!tr_ref_is_nil(peer) && (rv = tri_link_add(c, peer)) != TR_OK) {
		goto fail_link;
	}
	TRI_STAT(spawned);
	tri_ctx_hold(c); /* the scheduler's, until the actor ends */
	*out = c;
	return TR_OK;

fail_link:
	if (spec->link && self != NULL) {
		(void)tr_unlink(c->ref);
	}
fail_mb:
	tri_mailbox_seal(c);
fail_reg:
	tri_registry_remove(c);
fail_arg:
	tr_msg_free(*arg);
	*arg = NULL;
fail_ctx:
	tri_ctx_rele(c);
	return rv;
}

/* Where a new actor goes: beside the spawning actor if it is one of a
 * scheduler (a parent and its children talk), else where the calling
 * thread's spawns go. */
static tri_sched *
place_new(void)
{
	tri_sched *cur = tri_sched_current();
	tri_ctx *self = tri_self();

	return (cur != NULL && self != NULL && self->kind == TRI_CTX_SCHED &&
	           !tls_spread) ?
	    cur :
	    pick();
}

int
tri_sched_spawn(const tr_spec *spec, const tri_behavior *b, tr_ref peer,
    tr_ref *out, tr_reason *why)
{
	tri_sched *s;
	tr_msg *arg;
	tri_ctx *c;
	tr_ref ref;
	int rv;

	if ((rv = tri_sched_start(0)) != TR_OK) {
		return rv;
	}
	s = place_new();
	if ((rv = make_ctx(spec, b, peer, s, &c, &arg)) != TR_OK) {
		return rv;
	}
	ref = c->ref;
	if (s == tri_sched_current()) {
		rv = tri_sx_run_init(s, c, arg);
		tr_msg_free(arg);
		tri_ctx_rele(c); /* ours */
		if (rv != 0) {
			tri_ctx_rele(c); /* the scheduler's: it is gone */
			if (rv == TR_IGNORE) {
				*out = TR_REF_NIL; /* init chose not to run */
				return TR_OK;
			}
			if (why != NULL) {
				*why = TR_REASON(TR_EXIT_ERROR, rv);
			}
			return TR_EINIT;
		}
		*out = ref;
		return TR_OK;
	}
	rv = start_remote(s, c, arg, why);
	if (rv == TR_ENOPROC || rv == TR_ENOMEM || rv == TR_ESTATE) {
		/* The request never left: nothing runs it. */
		tr_msg_free(arg);
		tri_sx_start_failed(c, rv);
		tri_ctx_rele(c);
	} else if (rv != TR_OK && rv != TR_EINIT && rv != TR_IGNORE) {
		/* The wait failed: the scheduler may still run it; stop it
		 * then. */
		(void)tr_stop(ref, TR_REASON_KILL);
	}
	tri_ctx_rele(c);
	if (rv == TR_IGNORE) {
		*out = TR_REF_NIL; /* init chose not to run */
		return TR_OK;
	}
	if (rv == TR_OK) {
		*out = ref;
	}
	return rv;
}

/* The spawner's view of a batch of starts (tri_sched_spawn_many): the
 * READY of start i carries i in its tag. */
static bool
batch_done(tri_ctx *c)
{
	return c->call.batch == NULL || c->call.batch->left == 0 ||
	    c->call.down || (c->ctlq.head != NULL && !c->stopping);
}

int
tri_sched_spawn_many(const tr_spec *spec, const tri_behavior *b, uint32_t n,
    tr_ref *refs, tr_reason *why)
{
	tri_ctx *self = tri_self();
	tri_batch batch;
	tri_ctx **v;
	tri_sched *s;
	uint32_t made = 0;
	int rv = TR_OK;

	if ((rv = tri_sched_start(0)) != TR_OK) {
		return rv;
	}
	s = place_new();
	if (s == tri_sched_current() || self == NULL) {
		/* From an actor beside them: each init runs here and now,
		 * no round trip to save.  (From a thread that is no context
		 * there is no mailbox to wait on: tri_sched_spawn says so.) */
		for (uint32_t i = 0; i < n; i++) {
			if ((rv = tri_sched_spawn(spec, b, TR_REF_NIL, &refs[i],
			         why)) != TR_OK) {
				tri_spawn_many_undo(refs, i);
				return rv;
			}
		}
		return TR_OK;
	}
	if ((v = tri_calloc(n, sizeof(*v))) == NULL) {
		return TR_ENOMEM;
	}
	memset(&batch, 0, sizeof(batch));
	batch.refs = refs;
	batch.n = n;
	(void)tri_call_begin(self, 0, TR_REF_NIL, 0);
	self->call.batch = &batch;
	for (; made < n; made++) {
		struct tri_start *sr;
		uint8_t body[TRI_CONTROL_BODY];
		tri_frame f;
		tr_msg *arg;
		uint32_t home;

		if ((rv = make_ctx(spec, b, TR_REF_NIL, s, &v[made], &arg)) !=
		    TR_OK) {
			break;
		}
		refs[made] = v[made]->ref;
		if ((sr = tri_calloc(1, sizeof(*sr))) == NULL) {
			tr_msg_free(arg);
			tri_sx_start_failed(v[made], TR_ENOMEM);
			tri_ctx_rele(v[made]);
			tri_ctx_rele(v[made]);
			rv = TR_ENOMEM;
			break;
		}
		sr->arg = arg;
		sr->spawner = self->ref;
		sr->corr = self->call.corr;
		sr->index = made;
		v[made]->start = sr;
		tri_control_frame(&f, body, TRI_K_READY, self->ref,
		    v[made]->ref, TR_REASON_NORMAL, 0);
		f.corr = sr->corr;
		rv = tri_slot_route(
		    tri_rt.slots, v[made]->mb.rec, v[made]->ref.gen, &home);
		if (rv == TR_OK &&
		    (rv = tri_port_send(tri_mailbox_port(s->host), &f)) !=
		        TR_OK) {
			tri_slot_routed(v[made]->mb.rec, v[made]->ref.gen);
		}
		if (rv != TR_OK) {
			v[made]->start = NULL;
			tr_msg_free(arg);
			tri_free(sr);
			tri_sx_start_failed(v[made], rv);
			tri_ctx_rele(v[made]);
			tri_ctx_rele(v[made]);
			rv = rv == TR_ECLOSED ? TR_ENOPROC : rv;
			break;
		}
		batch.left++;
	}
	/* Wait for every start that left, failed ones included. */
	if (!tri_wait_batch(self, batch_done) && rv == TR_OK) {
		rv = TR_ECANCELED;
	}
	tri_call_cancel(self);
	if (rv == TR_OK && batch.failed > 0) {
		rv = TR_EINIT;
		if (why != NULL) {
			*why = batch.first_why;
		}
	}
	for (uint32_t i = 0; i < made; i++) {
		tri_ctx_rele(v[i]); /* ours */
	}
	tri_free(v);
	if (rv != TR_OK) {
		/* All or nothing: what started is stopped. */
		tri_spawn_many_undo(refs, made);
	}
	return rv;
}