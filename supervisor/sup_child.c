/*
 * sup_child.c -- a supervisor starting and stopping its children.
 *
 * Starting is tr_spawn, linked to the supervisor, which waits for the
 * child's init (OTP's start_link).  Stopping is OTP's shutdown: monitor
 * the child, unlink it (its end is ours to wait for, not a signal), ask
 * it to stop with reason shutdown -- or kill it, for brutal_kill --,
 * wait for its DOWN up to its shutdown time, then kill it and wait
 * again.  Several children are stopped at once when asked together
 * (simple_one_for_one's children, in parallel as in OTP): one deadline
 * each, one wait for all.
 *
 * A process dies when killed; a thread cannot be killed in the middle of
 * a callback (tr_kill ends it when the callback returns).  A thread that
 * outlives its shutdown time and a short grace after the kill is left
 * behind, *stuck*: logged, shown as TR_CHILD_STUCK, still monitored, so
 * that its end -- whenever its callback returns -- is seen.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "sup_internal.h"

/* After a kill: how long a process may take to be reported dead, and
 * how long a thread may take to return from the callback it is in
 * before it counts as stuck. */
#define KILL_WAIT_MS 5000
#define STUCK_GRACE_MS 500

static const char *
place_name(tr_placement p)
{
	static const char *n[] = {"auto", "thread", "fork", "exec"};
	return (unsigned)p <= TR_PLACE_EXEC ? n[p] : "?";
}

static int32_t
shutdown_of(const child *c)
{
	if (c->spec.shutdown_ms != TR_SHUTDOWN_DEFAULT) {
		return c->spec.shutdown_ms;
	}
	return c->spec.sup != NULL ? TR_SHUTDOWN_INFINITY :
	                             TRS_DEFAULT_SHUTDOWN_MS;
}

static uint64_t
kill_wait(const child *c)
{
	return c->place == TR_PLACE_THREAD ? STUCK_GRACE_MS : KILL_WAIT_MS;
}

void
trs_stash(sup *s, tr_msg *m)
{
	if (s->nstash == s->cstash) {
		size_t n = s->cstash ? s->cstash * 2 : 8;
		tr_msg **v = tri_realloc(s->stash, n * sizeof(*v));
		if (v == NULL) {
			tr_msg_free(m); /* cannot keep it: dropped, said here */
			fprintf(stderr,
			    "troupe: supervisor: out of memory, a "
			    "message was dropped\n");
			return;
		}
		s->stash = v;
		s->cstash = n;
	}
	s->stash[s->nstash++] = m;
}

void
trs_cancel_restart(child *c)
{
	if (c->timed) {
		(void)tr_timer_cancel(c->timer); /* fired: the token says */
		c->timed = false;
	}
	c->token = 0;
}

/* ------------------------------------------------------------------ */
/* Starting                                                            */

int
trs_start(sup *s, child *c, tr_reason *why, char *path, size_t pathlen)
{
	char inner[TRS_PATH_MAX] = "";
	tr_reason local = TR_REASON_NORMAL;
	int rv;

	if (why == NULL) {
		why = &local;
	}
	trs_cancel_restart(c);
	c->ref = TR_REF_NIL;
	if (c->spec.sup != NULL) {
		char label[160];
		snprintf(
		    label, sizeof(label), "%.90s/%.64s", s->label, c->spec.id);
		rv = trs_sup_start(c->spec.sup, c->spec.start.name, label,
		    &c->ref, why, inner, sizeof(inner));
	} else {
		tr_spec sp = c->spec.start;
		sp.link = true;
		rv = tr_spawn(&sp, &c->ref, why);
	}
	if (rv == TR_OK && tr_ref_is_nil(c->ref)) {
		c->state = TR_CHILD_IGNORED;
		trs_say(s, "'%s' ignored its start (init returned TR_IGNORE)%s",
		    c->spec.id, "");
		return TR_OK;
	}
	if (rv == TR_OK) {
		tr_actor_info info;
		char more[64] = "";
		c->state = TR_CHILD_RUNNING;
		c->started_ms = trs_now_ms();
		c->place = TR_PLACE_THREAD;
		if (c->spec.sup == NULL &&
		    tr_actor_info_get(c->ref, &info) == TR_OK) {
			c->place = info.placement;
			snprintf(more, sizeof(more), "%s, pid %d",
			    place_name(info.placement), info.pid);
		} else {
			snprintf(more, sizeof(more), "supervisor");
		}
		trs_say(s,
		    c->restarts > 0 ? "'%s' restarted (%s)" :
		                      "'%s' started (%s)",
		    c->spec.id, more);
		return TR_OK;
	}
	c->ref = TR_REF_NIL;
	c->state = TR_CHILD_STOPPED;
	if (rv == TR_ECANCELED) {
		s->canceled = true; /* we are asked to stop: it is dropped */
	}
	if (rv != TR_EINIT) {
		*why = TR_REASON(TR_EXIT_ERROR, rv);
	}
	if (path != NULL && pathlen > 0) {
		snprintf(path, pathlen, "%s%s%s", c->spec.id,
		    inner[0] != '\0' ? "/" : "", inner);
	}
	if (trs_logging()) {
		char text[48];
		trs_say(s, "'%s' failed to start: %s", c->spec.id,
		    tr_reason_format(*why, text, sizeof(text)));
	}
	return rv;
}

/* ------------------------------------------------------------------ */
/* Stopping                                                            */

static void
stopped(child *c)
{
	c->stop_phase = STOP_NONE;
	c->ref = TR_REF_NIL;
	c->state = TR_CHILD_STOPPED;
}

static void
begin_stop(sup *s, child *c)
{
	int32_t sd = shutdown_of(c);
	uint64_t now = trs_now_ms();
	tr_ref ref = c->ref;

	if (tr_monitor(ref, &c->mon) != TR_OK) {
		stopped(c); /* out of memory: nothing to wait on */
		return;
	}
	trs_say(s, "'%s' stopping%s", c->spec.id, "");
	tr_unlink(ref); /* its exit is ours to wait for, not a signal */
	if (sd == TR_SHUTDOWN_BRUTAL) {
		tr_kill(ref);
		c->stop_phase = STOP_KILLED;
		c->stop_deadline = now + kill_wait(c);
	} else {
		tr_stop(ref, TR_REASON_SHUTDOWN);
		c->stop_phase = STOP_ASKED;
		c->stop_deadline = sd == TR_SHUTDOWN_INFINITY ?
		    UINT64_MAX :
		    now + (uint64_t)sd;
	}
}

static void
make_stuck(sup *s, child *c)
{
	c->stop_phase = STOP_NONE;
	c->state = TR_CHILD_STUCK;
	fprintf(stderr,
	    "troupe: %s: child '%s' is stuck: it did not stop within its "
	    "shutdown time (%d ms), and %s; it ends when that callback "
	    "returns\n",
	    s->label, c->spec.id, (int)shutdown_of(c),
	    c->place == TR_PLACE_THREAD ?
	        "a thread cannot be killed in the middle of a callback" :
	        "it was killed but is not reported dead");
}

/* Waits for the stops under way among v[0..n). */
static void
await_stops(sup *s, child **v, size_t n)
{
	for (;;) {
		uint64_t deadline = UINT64_MAX, now;
		bool pending = false;
		uint64_t id;
		tr_msg *m;
		int rv, left;

		for (size_t i = 0; i < n; i++) {
			if (v[i]->stop_phase != STOP_NONE) {
				pending = true;
				if (v[i]->stop_deadline < deadline) {
					deadline = v[i]->stop_deadline;
				}
			}
		}
		if (!pending) {
			return;
		}
		now = trs_now_ms();
		left = deadline == UINT64_MAX ? TR_FOREVER :
		    deadline > now            ? (int)(deadline - now) :
		                                0;
		rv = tr_recv(&m, left);
		if (rv == TR_OK) {
			bool ours = false;
			if (tr_msg_tag(m) == TR_TAG_DOWN &&
			    tr_msg_reason(m, NULL, NULL, &id) == TR_OK) {
				for (size_t i = 0; i < n && !ours; i++) {
					if (v[i]->stop_phase != STOP_NONE &&
					    v[i]->mon.id == id) {
						stopped(v[i]);
						ours = true;
					}
				}
			}
			if (ours) {
				tr_msg_free(m);
			} else {
				trs_stash(s, m);
			}
			continue;
		}
		if (rv == TR_ECANCELED) {
			/* Our own stop request: terminate finishes these. */
			s->canceled = true;
			return;
		}
		now = trs_now_ms();
		for (size_t i = 0; i < n; i++) {
			child *c = v[i];
			if (c->stop_phase == STOP_NONE ||
			    c->stop_deadline > now) {
				continue;
			}
			if (c->stop_phase == STOP_ASKED) {
				fprintf(stderr,
				    "troupe: %s: child '%s' did not stop "
				    "within %d ms: killed\n",
				    s->label, c->spec.id, (int)shutdown_of(c));
				tr_kill(c->ref);
				c->stop_phase = STOP_KILLED;
				c->stop_deadline = now + kill_wait(c);
			} else {
				make_stuck(s, c);
			}
		}
	}
}

void
trs_stop(sup *s, child **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		child *c = v[i];
		trs_cancel_restart(c);
		if (c->state == TR_CHILD_STUCK || c->stop_phase != STOP_NONE) {
			continue; /* being stopped already */
		}
		if (c->state != TR_CHILD_RUNNING) {
			stopped(c);
			continue;
		}
		begin_stop(s, c);
	}
	await_stops(s, v, n);
}

void
trs_stop_pending(sup *s)
{
	child **v;
	size_t n = 0;

	if (s->nkids == 0 || (v = tri_malloc(s->nkids * sizeof(*v))) == NULL) {
		return;
	}
	for (size_t i = s->nkids; i-- > 0;) {
		if (s->kids[i]->stop_phase != STOP_NONE) {
			v[n++] = s->kids[i];
		}
	}
	await_stops(s, v, n);
	tri_free(v);
}

bool
trs_stuck_down(sup *s, uint64_t mon, tr_reason why)
{
	for (size_t i = 0; i < s->nkids; i++) {
		child *c = s->kids[i];
		char text[48];
		if (c->state != TR_CHILD_STUCK || c->mon.id != mon) {
			continue;
		}
		fprintf(stderr,
		    "troupe: %s: child '%s', stuck, ended at last: %s\n",
		    s->label, c->spec.id,
		    tr_reason_format(why, text, sizeof(text)));
		stopped(c);
		if (c->spec.restart == TR_TEMPORARY || trs_is_simple(s)) {
			trs_remove_child(s, c);
		} else if (c->start_when_down) {
			c->start_when_down = false;
			trs_start_late(s, c);
		}
		return true;
	}
	return false;
}
