/*
 * send.c -- the mailbox API: send, call/reply, receive, stop.
 *
 * A send to an actor of this process goes: find its context (a held
 * reference), take a slot in its mailbox (the capacity check, which may
 * wait), queue the frame on the mailbox's port.  The message is freed
 * only once all of that succeeded; every failure leaves it with the
 * caller.
 */
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "call.h"
#include "ctx.h"
#include "link.h"
#include "mailbox.h"
#include "dist.h"
#include "msg.h"
#include "process.h"
#include "runtime.h"
#include "target.h"
#include "scheduler.h"

int
tri_deliver(tri_ctx *c, const tri_frame *f)
{
	tri_port *port;
	int rv;

	if (c->kind == TRI_CTX_SCHED) {
		return tri_sched_deliver(c, f);
	}
	port = tri_mailbox_port(c);
	rv = port != NULL ? tri_port_send(port, f) : TR_ECLOSED;
	return rv == TR_ECLOSED ? TR_ENOPROC : rv;
}

static void
frame_for(tri_frame *f, int kind, const tr_msg *m, tr_ref to)
{
	tri_ctx *self = tri_self();

	memset(f, 0, sizeof(*f));
	f->kind = (uint8_t)kind;
	f->tag = m->tag;
	f->sender = self != NULL ? self->ref : TR_REF_NIL;
	f->dest = to;
	f->flags = tri_msg_flags(m);
	f->body = tri_msg_bytes(m);
	f->body_len = (uint32_t)tri_msg_len(m);
}

/* The checks every message passes before it may leave. */
static int
check_msg(const tr_msg *m)
{
	if (tri_msg_len(m) > tri_rt.max_body) {
		return TR_EMSGSIZE;
	}
	return tri_body_check(tri_msg_bytes(m), tri_msg_len(m));
}

static void
count_sent(void)
{
	tri_ctx *self = tri_self();

	if (self != NULL) {
		tri_count_out(self, 1);
	}
	TRI_STAT(sent);
}

/*
 * A message to oneself goes straight into one's own queue (all of them
 * do, so they stay in order): a tr_recv() right after it finds it, as
 * Erlang's `self() ! x` then `receive ... after 0` does.  It still takes
 * a mailbox slot, and never waits for one.  kind, sender and corr are
 * what the receiver sees (a forward keeps another sender's).
 */
static int
push_self(tri_ctx *self, tr_msg *msg, int kind, tr_ref sender, uint64_t corr)
{
	int rv;

	rv = tri_slot_reserve(
	    tri_rt.slots, self->mb.rec, self->ref.gen, TR_NOWAIT, true);
	if (rv != TR_OK) {
		return rv;
	}
	msg->kind = (uint8_t)kind;
	msg->sender = sender;
	msg->corr = corr;
	msg->counted = true;
	msg->parsed = false;
	tri_msgq_push(&self->userq, msg);
	if (self->kind == TRI_CTX_THREAD && self->in_callback == 0) {
		/* From one of the actor's own libuv callbacks: make sure the
		 * loop looks at its queue. */
		uv_async_send(&self->th->async);
	}
	count_sent();
	return TR_OK;
}

static int
send_self(tri_ctx *self, tr_msg *msg)
{
	return push_self(self, msg, TRI_K_USER, self->ref, 0);
}

int
tr_send_timed(tr_ref to, tr_msg *msg, int timeout_ms)
{
	tri_target t;
	tri_frame f;
	int rv;

	if (msg == NULL || tr_ref_is_nil(to) || timeout_ms < TR_FOREVER) {
		return TR_EINVAL;
	}
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if ((rv = check_msg(msg)) != TR_OK) {
		return rv;
	}
	if ((rv = tri_target_get_quick(to, &t)) != TR_OK) {
		return rv;
	}
	if (t.local != NULL && t.local == tri_self()) {
		rv = send_self(t.local, msg);
		tri_target_put(&t);
		return rv;
	}
	frame_for(&f, TRI_K_USER, msg, to);
	rv = tri_target_send_msg(&t, &f, timeout_ms, msg);
	tri_target_put(&t);
	return rv;
}

int
tri_forward(tr_msg *msg, tr_ref to)
{
	tri_target t;
	tri_frame f;
	int rv;

	if ((rv = tri_target_get(to, &t)) != TR_OK) {
		return rv;
	}
	memset(&f, 0, sizeof(f));
	f.kind = msg->kind == TRI_K_CALL ? TRI_K_CALL : TRI_K_USER;
	f.tag = msg->tag;
	f.sender = msg->sender;
	f.corr = msg->kind == TRI_K_CALL ? msg->corr : 0;
	f.dest = to;
	f.flags = tri_msg_flags(msg);
	f.body = tri_msg_bytes(msg);
	f.body_len = (uint32_t)tri_msg_len(msg);
	rv = tri_target_send(&t, &f, TR_FOREVER);
	tri_target_put(&t);
	return rv;
}

/*
 * tr_forward: the message goes out with its own sender and, for a call,
 * its kind and correlation, so that the reply goes past the forwarder.
 * It is only read: its bytes are copied into the frame (or, to oneself,
 * into a copy), which is why the caller keeps it.
 */
int
tr_forward(tr_msg *msg, tr_ref to)
{
	tri_ctx *self = tri_self();
	tri_target t;
	tri_frame f;
	tr_msg *copy;
	int rv;

	if (msg == NULL || tr_ref_is_nil(to) || msg->kind == TRI_K_EXIT ||
	    msg->kind == TRI_K_DOWN || msg->tag == TR_TAG_EXIT ||
	    msg->tag == TR_TAG_DOWN) {
		return TR_EINVAL;
	}
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if ((rv = check_msg(msg)) != TR_OK) {
		return rv;
	}
	memset(&f, 0, sizeof(f));
	f.kind = msg->kind == TRI_K_CALL ? TRI_K_CALL : TRI_K_USER;
	f.tag = msg->tag;
	/* Never received (kind 0): it is the forwarder's own message. */
	f.sender = msg->kind != 0 ? msg->sender :
	    self != NULL          ? self->ref :
	                            TR_REF_NIL;
	f.corr = f.kind == TRI_K_CALL ? msg->corr : 0;
	f.dest = to;
	f.flags = tri_msg_flags(msg);
	f.body = tri_msg_bytes(msg);
	f.body_len = (uint32_t)tri_msg_len(msg);
	if ((rv = tri_target_get(to, &t)) != TR_OK) {
		return rv;
	}
	if (t.local != NULL && t.local == self) {
		if ((rv = tr_msg_dup(&copy, msg)) == TR_OK &&
		    (rv = push_self(self, copy, f.kind, f.sender, f.corr)) !=
		        TR_OK) {
			tr_msg_free(copy);
		}
	} else {
		rv = tri_target_send(&t, &f, TR_FOREVER);
	}
	tri_target_put(&t);
	return rv;
}

void
tri_redirect(tr_msg *call, tr_ref member)
{
	tri_target t;
	tri_frame f;

	if (call->kind != TRI_K_CALL ||
	    tri_target_get(call->sender, &t) != TR_OK) {
		return;
	}
	memset(&f, 0, sizeof(f));
	f.kind = TRI_K_REDIRECT;
	f.sender = member;
	f.dest = call->sender;
	f.corr = call->corr;
	(void)tri_target_deliver(&t, &f);
	tri_target_put(&t);
}

int
tr_send(tr_ref to, tr_msg *msg)
{
	return tr_send_timed(to, msg, TR_FOREVER);
}

int
tr_reply(tr_from from, tr_msg *reply)
{
	tri_target t;
	tri_frame f;
	int rv;

	if (reply == NULL || from.corr == 0 || tr_ref_is_nil(from.to)) {
		return TR_EINVAL;
	}
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if ((rv = check_msg(reply)) != TR_OK) {
		return rv;
	}
	if (tri_target_get_quick(from.to, &t) == TR_OK) {
		frame_for(&f, TRI_K_REPLY, reply, from.to);
		f.corr = from.corr;
		/* Counted before it can be seen; a caller that went away is
		 * no error for the replier. */
		if (tri_self() != NULL) {
			tri_count_out(tri_self(), 1);
		}
		(void)tri_target_deliver(&t, &f);
		if ((t.node != NULL || t.via_gate) && tri_self() != NULL) {
			/* The watch its node made for the caller is done. */
			tri_monitor_remove(
			    tri_self(), TRI_REMOTE_CALL_MON(from.corr));
		}
		tri_target_put(&t);
	}
	tr_msg_free(reply);
	return TR_OK;
}

/* How often a spawn's wait looks at the process table. */
#define SPAWN_POLL_MS 20

/* Drains arrivals until pred(c) holds or the deadline passes. */
static bool
wait_until_inner(tri_ctx *c, bool (*pred)(tri_ctx *), uint64_t deadline)
{
	for (;;) {
		uint64_t until = deadline;

		tri_mailbox_drain(c);
		if (pred(c)) {
			return true;
		}
		/* A spawn also looks at the process table now and then: the
		 * new process's last messages can be lost when it exits at
		 * once (nng 1.5.2 drops data that arrives with the hang-up),
		 * and the root's own news of an orderly exit waits a while. */
		if (c->call.spawn_proc != 0 &&
		    tri_now_ms() + SPAWN_POLL_MS < until) {
			until = tri_now_ms() + SPAWN_POLL_MS;
		}
		if (!tri_mailbox_wait(c, until)) {
			if (until < deadline) {
				continue;
			}
			tri_mailbox_drain(c);
			return pred(c);
		}
	}
}

/* A scheduled actor waits on its fiber: its scheduler routes what
 * arrives and resumes it when pred holds (or the deadline passed). */
static bool
wait_until_sched(tri_ctx *c, bool (*pred)(tri_ctx *), uint64_t deadline)
{
	for (;;) {
		uint64_t until = deadline;
		int err = TR_OK;

		if (pred(c)) {
			return true;
		}
		if (deadline != UINT64_MAX && tri_now_ms() >= deadline) {
			/* What has arrived but waits in the scheduler's inbox
			 * counts too: a poll (TR_NOWAIT) must see it without
			 * yielding first.  Routing here is what a turn's own
			 * local sends do. */
			tri_sched_route_arrivals(c);
			return pred(c);
		}
		if (c->call.spawn_proc != 0 &&
		    tri_now_ms() + SPAWN_POLL_MS < until) {
			until = tri_now_ms() + SPAWN_POLL_MS;
		}
		(void)tri_sched_block_until(c, pred, until, &err);
		if (err != TR_OK) {
			return pred(c); /* no stack to wait on: give up */
		}
	}
}

static bool
wait_until(tri_ctx *c, bool (*pred)(tri_ctx *), uint64_t deadline)
{
	bool done;

	if (c->kind == TRI_CTX_SCHED) {
		return wait_until_sched(c, pred, deadline);
	}
	done = wait_until_inner(c, pred, deadline);

	/* Messages that arrived while we waited were taken off the wire
	 * without waking the loop: make sure it looks at its queues, in
	 * case we were called from a libuv callback (a timer) rather than
	 * from handle, whose caller goes on with the queue anyway. */
	if (c->kind == TRI_CTX_THREAD &&
	    (c->userq.head != NULL || c->ctlq.head != NULL)) {
		uv_async_send(&c->th->async);
	}
	return done;
}

/* A call ends with its reply, its callee's death, or -- for an actor
 * -- a stop request: an actor asked to stop does not wait on. */
static bool
call_done(tri_ctx *c)
{
	if (c->call.reply == NULL && !c->call.down && c->call.spawn_proc != 0 &&
	    tri_node_proc_ended(c->call.spawn_proc)) {
		c->call.down = true; /* as if its news had come */
	}
	return c->call.reply != NULL || c->call.down ||
	    (c->ctlq.head != NULL && !c->stopping);
}

uint64_t
tri_call_begin(tri_ctx *self, uint64_t corr, tr_ref target, uint64_t mon)
{
	tri_call *k = &self->call;

	memset(k, 0, sizeof(*k));
	k->corr = corr != 0 ? corr : ++self->corr_seq;
	k->target = target;
	k->mon = mon;
	return k->corr;
}

void
tri_call_cancel(tri_ctx *self)
{
	tr_msg_free(self->call.reply);
	memset(&self->call, 0, sizeof(self->call));
}

bool
tri_wait_batch(tri_ctx *self, bool (*done)(tri_ctx *))
{
	return wait_until(self, done, UINT64_MAX) &&
	    (self->call.batch == NULL || self->call.batch->left == 0);
}

/* How long an all-or-nothing spawn that failed waits for the ones it
 * started to be gone. */
#define UNDO_WAIT_MS 10000

void
tri_spawn_many_undo(tr_ref *refs, uint32_t n)
{
	uint64_t deadline = tri_now_ms() + UNDO_WAIT_MS;
	uint32_t left;

	for (uint32_t i = 0; i < n; i++) {
		if (!tr_ref_is_nil(refs[i])) {
			(void)tr_stop(refs[i], TR_REASON_KILL);
		}
	}
	/* Gone when the spawn returns, as it says: none is left to be
	 * found by a name lookup or a stats count a moment later.  A kill
	 * takes a turn of each one's scheduler; look again each ms. */
	do {
		left = 0;
		for (uint32_t i = 0; i < n; i++) {
			if (!tr_ref_is_nil(refs[i]) && tr_alive(refs[i])) {
				left++;
			}
		}
	} while (left > 0 && tri_now_ms() < deadline && tr_sleep(1) == TR_OK);
	for (uint32_t i = 0; i < n; i++) {
		refs[i] = TR_REF_NIL;
	}
}

int
tri_wait_reply(tri_ctx *self, uint64_t deadline, tr_msg **reply)
{
	int rv = TR_OK;

	if (!wait_until(self, call_done, deadline)) {
		rv = TR_ETIMEDOUT;
	} else if (self->call.reply != NULL) {
		*reply = self->call.reply;
		self->call.reply = NULL;
	} else if (self->call.down) {
		rv = self->call.noconn ? TR_ENOCONN : TR_ENOPROC;
	} else {
		rv = TR_ECANCELED;
	}
	if (self->call.mon2 != 0) {
		tri_target t;
		if (tri_target_get(self->call.target, &t) == TR_OK) {
			if (t.local != NULL) {
				tri_monitor_remove(t.local, self->call.mon2);
			}
			tri_target_put(&t);
		}
		self->call.mon2 = 0;
	}
	/* A reply arriving from now on finds no call and counts as late. */
	self->call.corr = 0;
	self->call.mon = 0;
	self->call.target = TR_REF_NIL;
	tr_msg_free(self->call.reply);
	self->call.reply = NULL;
	return rv;
}

int
tr_call(tr_ref to, tr_msg *req, int timeout_ms, tr_msg **reply, bool *sent)
{
	tri_ctx *self = tri_self();
	tri_target t;
	tri_frame f;
	uint64_t deadline, mon = 0;
	int rv;

	if (sent != NULL) {
		*sent = false;
	}
	if (req == NULL || reply == NULL || tr_ref_is_nil(to) ||
	    timeout_ms < TR_FOREVER) {
		return TR_EINVAL;
	}
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if (self == NULL || self->call.corr != 0) {
		return TR_ESTATE; /* not a context, or a call inside a call */
	}
	if (tr_ref_equal(to, self->ref)) {
		return TR_EINVAL; /* would wait for itself */
	}
	if ((rv = check_msg(req)) != TR_OK) {
		return rv;
	}
	if ((rv = tri_target_get(to, &t)) != TR_OK) {
		return rv;
	}
	deadline = tri_deadline(timeout_ms);
	/* Watch the callee for the length of the call, as gen_server:call
	 * does, so that its death ends the wait at once.  In this process
	 * through a monitor; in another, through its process's death. */
	if (t.local != NULL) {
		mon = atomic_fetch_add(&tri_rt.next_mon, 1);
		if ((rv = tri_monitor_add(t.local, self->ref, mon)) != TR_OK) {
			tri_target_put(&t);
			return rv;
		}
	}
	(void)tri_call_begin(self, 0, to, mon);
	if (t.node != NULL || t.via_gate) {
		/* Watched by its node for us (dist_wire.c). */
		self->call.mon = TRI_REMOTE_CALL_MON(self->call.corr);
	}

	frame_for(&f, TRI_K_CALL, req, to);
	f.corr = self->call.corr;
	rv = tri_target_send_msg(&t, &f, timeout_ms, req);
	if (rv == TR_OK) {
		if (sent != NULL) {
			*sent = true;
		}
		rv = tri_wait_reply(self, deadline, reply);
		if (rv == TR_OK) {
			tri_count_in(self);
		}
	} else {
		tri_call_cancel(self);
	}
	if (t.local != NULL) {
		tri_monitor_remove(t.local, mon);
	} else if (t.node != NULL) {
		/* A node that went down ends the call as its callee's end
		 * would, but says so. */
		if (rv == TR_ENOPROC &&
		    tri_dist_peer(to, &t.node, &t.node_session) == TR_ENOCONN) {
			rv = TR_ENOCONN;
		}
	}
	tri_target_put(&t);
	return rv;
}

/* A stop request ends a wait -- unless the actor is ending already
 * (its terminate callback may wait for messages too). */
static bool
has_user(tri_ctx *c)
{
	return c->userq.head != NULL || (c->ctlq.head != NULL && !c->stopping);
}

int
tr_recv(tr_msg **out, int timeout_ms)
{
	tri_ctx *self = tri_self();
	tr_msg *m;

	if (out == NULL || timeout_ms < TR_FOREVER) {
		return TR_EINVAL;
	}
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if (self == NULL) {
		return TR_ESTATE;
	}
	/* A pending stop request ends the wait: the actor must return. */
	if (!wait_until(self, has_user, tri_deadline(timeout_ms)) ||
	    self->userq.head == NULL) {
		return self->ctlq.head != NULL && !self->stopping ?
		    TR_ECANCELED :
		    TR_ETIMEDOUT;
	}
	m = tri_msgq_pop(&self->userq);
	if (m->counted) {
		tri_mailbox_release(self, 1);
		m->counted = false;
	}
	if (tri_msg_is_user(m)) {
		tri_count_in(self);
		TRI_STAT(delivered);
	}
	*out = m;
	return TR_OK;
}

/* A stop request came: a sleep ends. */
static bool
stop_pending(tri_ctx *c)
{
	return c->ctlq.head != NULL && !c->stopping;
}

int
tr_sleep(int ms)
{
	tri_ctx *self = tri_self();

	if (ms < 0) {
		return TR_EINVAL;
	}
	if (self == NULL || !tri_running()) {
		uint64_t end = tri_now_ms() + (uint64_t)ms, now;
		while ((now = tri_now_ms()) < end) {
			struct timespec ts = {(time_t)((end - now) / 1000u),
			    (long)((end - now) % 1000u) * 1000000L};
			(void)nanosleep(&ts, NULL);
		}
		return TR_OK;
	}
	return wait_until(self, stop_pending, tri_deadline(ms)) ? TR_ECANCELED :
	                                                          TR_OK;
}

int
tr_stop(tr_ref ref, tr_reason reason)
{
	tri_ctx *self = tri_self();
	tri_target t;
	int rv;

	if (tr_ref_is_nil(ref) ||
	    (unsigned)reason.kind > TR_EXIT_NOCONNECTION) {
		return TR_EINVAL;
	}
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if (self != NULL && tr_ref_equal(ref, self->ref)) {
		if (self->kind == TRI_CTX_MAIN) {
			return TR_ESTATE;
		}
		self->stopping = true;
		self->reason = reason;
		if (self->kind == TRI_CTX_THREAD && self->in_callback == 0) {
			/* From a libuv callback of its own: wake the loop so
			 * that it sees the stop. */
			uv_async_send(&self->th->async);
		}
		return TR_OK;
	}
	if ((rv = tri_target_get(ref, &t)) != TR_OK) {
		return rv;
	}
	/* Every process's main context is its first: slot 1, gen 1. */
	if ((t.local != NULL && t.local->kind == TRI_CTX_MAIN) ||
	    (ref.slot == 1 && ref.gen == 1)) {
		rv = TR_ESTATE;
	} else {
		uint8_t body[TRI_CONTROL_BODY];
		tri_frame f;
		tri_control_frame(&f, body, TRI_K_STOP,
		    self != NULL ? self->ref : TR_REF_NIL, ref, reason, 0);
		rv = tri_target_deliver(&t, &f);
	}
	tri_target_put(&t);
	return rv;
}

bool
tr_alive(tr_ref ref)
{
	tri_target t;
	bool alive;

	/* What the slot record says: a connection that cannot be made
	 * (out of descriptors) is no death. */
	if (!tri_running() || tri_target_peek(ref, &t) != TR_OK) {
		return false;
	}
	if (t.local != NULL) {
		pthread_mutex_lock(&t.local->lmtx);
		alive = !t.local->dead;
		pthread_mutex_unlock(&t.local->lmtx);
	} else {
		alive = true;
	}
	tri_target_put(&t);
	return alive;
}

int
tr_kill(tr_ref ref)
{
	tr_actor_info info;
	int rv;

	if (tr_ref_is_nil(ref)) {
		return TR_EINVAL;
	}
	if (ref.node != tri_rt.node) {
		/* Its node kills it (dist_wire.c). */
		return tr_stop(ref, TR_REASON_KILL);
	}
	if ((rv = tr_actor_info_get(ref, &info)) != TR_OK) {
		return rv;
	}
	if (ref.proc != tri_rt.proc &&
	    (info.placement == TR_PLACE_FORK ||
	        info.placement == TR_PLACE_EXEC) &&
	    info.pid > 0 && info.pid != (int)getpid()) {
		/* The process is the actor's alone: end it.  Its death is
		 * announced like any other, with reason signal(9). */
		return kill(info.pid, SIGKILL) == 0 ? TR_OK : TR_ENOPROC;
	}
	/* A thread (or the thread wrapping a program, whose program dies
	 * with it): stop without terminate. */
	return tr_stop(ref, TR_REASON_KILL);
}
