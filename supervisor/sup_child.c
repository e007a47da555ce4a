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
 * A process dies when killed; a thread or a scheduled actor cannot be
 * killed in the middle of a callback (tr_kill ends it when the callback
 * returns).  One that outlives its shutdown time and a short grace after
 * the kill is left behind, *stuck*: logged, shown as TR_CHILD_STUCK,
 * still monitored, so that its end -- whenever its callback returns --
 * is seen.
 *
 * Stopping 10^5 children at once (a simple_one_for_one's) costs O(1)
 * per DOWN: the child is found by the DOWN's ref (sup->by_ref), and the
 * earliest deadline is looked for again only when one passes.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "sup_internal.h"

/* After a kill: how long a process may take to be reported dead, and
 * how long a thread or scheduled actor may take to return from the
 * callback it is in before it counts as stuck. */
#define KILL_WAIT_MS 5000
#define STUCK_GRACE_MS 500

static const char *
place_name(tr_placement p)
{
	static const char *n[] = {
	    "auto", "thread", "fork", "exec", "scheduled"};
	return (unsigned)p <= TR_PLACE_SCHEDULED ? n[p] : "?";
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

/* Whether c runs in this process, where a kill waits for its callback
 * to return. */
static bool
in_process(const child *c)
{
	return c->place == TR_PLACE_THREAD || c->place == TR_PLACE_SCHEDULED;
}

static uint64_t
kill_wait(const child *c)
{
	return in_process(c) ? STUCK_GRACE_MS : KILL_WAIT_MS;
}

void
trs_stash(sup *s, tr_msg *m)
{
	if (s->nstash == s->cstash && s->hstash > 0 &&
	    s->hstash * 2 >= s->cstash) {
		/* Room at the front, from the ones taken already (half of
		 * it at least, so that moving them costs O(1) a message). */
		memmove(s->stash, s->stash + s->hstash,
		    (s->nstash - s->hstash) * sizeof(*s->stash));
		s->nstash -= s->hstash;
		s->hstash = 0;
	}
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
	tr_ref ref = TR_REF_NIL;
	bool picked = true;
	int rv;

	if (why == NULL) {
		why = &local;
	}
	trs_cancel_restart(c);
	trs_set_ref(s, c, TR_REF_NIL);
	if (c->spec.sup != NULL) {
		char label[160];
		snprintf(
		    label, sizeof(label), "%.90s/%.64s", s->label, c->spec.id);
		rv = trs_sup_start(c->spec.sup, c->spec.start.name, label, &ref,
		    why, inner, sizeof(inner));
	} else {
		tr_spec sp = c->spec.start;
		const char *node;
		sp.link = true;
		/* Where, at this start: a list is looked at again each time. */
		if ((rv = trs_pick_node(&c->spec, NULL, &node)) == TR_OK) {
			c->node = node;
			c->placed = true;
			sp.node = node;
			rv = tr_spawn(&sp, &ref, why);
		} else {
			picked = false;
		}
	}
	if (rv == TR_OK) {
		trs_set_ref(s, c, ref);
	}
	if (rv == TR_OK && tr_ref_is_nil(c->ref)) {
		c->state = TR_CHILD_IGNORED;
		trs_say(s, "'%s' ignored its start (init returned TR_IGNORE)%s",
		    c->spec.id, "");
		return TR_OK;
	}
	if (rv == TR_OK) {
		tr_actor_info info;
		char more[80] = "";
		int pid = 0;
		c->state = TR_CHILD_RUNNING;
		c->started_ms = trs_now_ms();
		c->place = c->spec.sup != NULL ?
		    trs_sup_placement(c->spec.sup) :
		    c->spec.start.placement;
		if (c->node != NULL && c->spec.sup == NULL) {
			/* Its node chose the placement, and knows the pid. */
			snprintf(more, sizeof(more), "on %s", c->node);
			trs_say(s,
			    c->restarts > 0 ? "'%s' restarted (%s)" :
			                      "'%s' started (%s)",
			    c->spec.id, more);
			return TR_OK;
		}
		/* Where auto put it, and the pid for the log.  (Not for
		 * nothing: the names are looked through for it.) */
		if ((c->place == TR_PLACE_AUTO || trs_logging()) &&
		    tr_actor_info_get(c->ref, &info) == TR_OK) {
			c->place = info.placement;
			pid = info.pid;
		}
		if (c->place == TR_PLACE_AUTO) {
			c->place = TR_PLACE_THREAD; /* it is gone already */
		}
		if (c->spec.sup == NULL) {
			snprintf(more, sizeof(more), "%s, pid %d",
			    place_name(c->place), pid);
		} else if (c->place == TR_PLACE_SCHEDULED) {
			snprintf(more, sizeof(more), "supervisor, scheduled");
		} else {
			snprintf(more, sizeof(more), "supervisor");
		}
		trs_say(s,
		    c->restarts > 0 ? "'%s' restarted (%s)" :
		                      "'%s' started (%s)",
		    c->spec.id, more);
		return TR_OK;
	}
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
	if (trs_logging() && !picked) {
		trs_say(s, "'%s' failed to start: %s", c->spec.id,
		    rv == TR_ENOCONN ? "none of its nodes is up" :
		                       tr_strerror(rv));
	} else if (trs_logging()) {
		char text[48], more[128];
		tr_reason_format(*why, text, sizeof(text));
		if (c->node != NULL && c->spec.sup == NULL) {
			snprintf(
			    more, sizeof(more), "%s, on %s", text, c->node);
		} else {
			snprintf(more, sizeof(more), "%s", text);
		}
		trs_say(s, "'%s' failed to start: %s", c->spec.id, more);
	}
	return rv;
}

/* ------------------------------------------------------------------ */
/* Stopping                                                            */

static void
stopped(sup *s, child *c)
{
	c->stop_phase = STOP_NONE;
	trs_set_ref(s, c, TR_REF_NIL);
	c->state = TR_CHILD_STOPPED;
}

static void
begin_stop(sup *s, child *c)
{
	int32_t sd = shutdown_of(c);
	uint64_t now = trs_now_ms();
	tr_ref ref = c->ref;

	if (tr_monitor(ref, &c->mon) != TR_OK) {
		stopped(s, c); /* out of memory: nothing to wait on */
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
	        c->place == TR_PLACE_SCHEDULED ?
	        "a scheduled actor cannot be killed in the middle of a "
	        "callback" :
	        "it was killed but is not reported dead");
}

/* The earliest deadline of the stops under way among v[0..n), and how
 * many are under way. */
static uint64_t
first_deadline(child **v, size_t n, size_t *pending)
{
	uint64_t deadline = UINT64_MAX;

	*pending = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i]->stop_phase != STOP_NONE) {
			(*pending)++;
			if (v[i]->stop_deadline < deadline) {
				deadline = v[i]->stop_deadline;
			}
		}
	}
	return deadline;
}

/* Kills, or gives up on, the stops among v[0..n) whose time is up. */
static void
stops_due(sup *s, child **v, size_t n)
{
	uint64_t now = trs_now_ms();

	for (size_t i = 0; i < n; i++) {
		child *c = v[i];
		if (c->stop_phase == STOP_NONE || c->stop_deadline > now) {
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

/*
 * Waits for the stops under way among v[0..n).  A DOWN finds its child
 * by ref; the earliest deadline is looked for again only when the one
 * waited for passes (a stop that ended meanwhile may make that wake-up
 * early: harmless), so that n stops cost O(n), not O(n^2).
 */
static void
await_stops(sup *s, child **v, size_t n)
{
	size_t pending;
	uint64_t deadline = first_deadline(v, n, &pending);

	for (size_t i = 0; i < n; i++) {
		v[i]->awaited = true;
	}
	while (pending > 0) {
		uint64_t now = trs_now_ms(), id;
		tr_ref who;
		tr_msg *m;
		child *c;
		int rv, left;

		left = deadline == UINT64_MAX ? TR_FOREVER :
		    deadline > now            ? (int)(deadline - now) :
		                                0;
		rv = tr_recv(&m, left);
		if (rv == TR_OK) {
			if (tr_msg_tag(m) == TR_TAG_DOWN &&
			    tr_msg_reason(m, &who, NULL, &id) == TR_OK &&
			    (c = trs_find_ref(s, who)) != NULL &&
			    c->stop_phase != STOP_NONE && c->mon.id == id) {
				if (c->awaited) {
					pending--;
				}
				stopped(s, c);
				tr_msg_free(m);
			} else {
				trs_stash(s, m);
			}
			continue;
		}
		if (rv == TR_ECANCELED) {
			/* Our own stop request: terminate finishes these. */
			s->canceled = true;
			break;
		}
		stops_due(s, v, n);
		deadline = first_deadline(v, n, &pending);
	}
	for (size_t i = 0; i < n; i++) {
		v[i]->awaited = false;
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
			stopped(s, c);
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
		if (s->kids[i] != NULL && s->kids[i]->stop_phase != STOP_NONE) {
			v[n++] = s->kids[i];
		}
	}
	await_stops(s, v, n);
	tri_free(v);
}

bool
trs_stuck_down(sup *s, tr_ref who, uint64_t mon, tr_reason why)
{
	child *c = trs_find_ref(s, who);
	char text[48];

	if (c == NULL || c->state != TR_CHILD_STUCK || c->mon.id != mon) {
		return false;
	}
	fprintf(stderr, "troupe: %s: child '%s', stuck, ended at last: %s\n",
	    s->label, c->spec.id, tr_reason_format(why, text, sizeof(text)));
	stopped(s, c);
	if (c->spec.restart == TR_TEMPORARY || trs_is_simple(s)) {
		trs_remove_child(s, c);
	} else if (c->start_when_down) {
		c->start_when_down = false;
		trs_start_late(s, c);
	}
	return true;
}
