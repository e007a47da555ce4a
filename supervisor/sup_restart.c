/*
 * sup_restart.c -- OTP's restart rules: which ended child is restarted,
 * what its restart takes along (one_for_all: every child; rest_for_one:
 * it and those started after it), restart intensity, and backoff.
 *
 * A restart attempt is one step, never a loop: a start that fails is
 * tried again through a TAG_TRY_AGAIN message the supervisor sends
 * itself (OTP's try_again_restart), so that the calls and stop requests
 * that came meanwhile are served between two attempts, and every
 * attempt counts towards the restart intensity.  Backoff delays are the
 * same message, sent later.
 *
 * A group (one_for_all, rest_for_one) restarts as in OTP: its running
 * members are stopped, newest first, then all are started again in
 * start order.  If one of them fails to start, the ones started before
 * it keep running until its retry, which restarts the group again: for
 * one_for_all that stops them (reason shutdown) and starts everything
 * in order; for rest_for_one it starts from the failed child on.  With
 * a backoff, the whole group waits out the delay of the child that
 * ended, and then starts in order.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "sup_internal.h"

/* At most this many arrivals are taken ahead of a retry (a sender that
 * never stops must not keep the supervisor at it). */
#define DRAIN_MAX 4096

static bool
is_group(const sup *s)
{
	return s->spec->strategy == TR_ONE_FOR_ALL ||
	    s->spec->strategy == TR_REST_FOR_ONE;
}

/* Counts a restart; false when that is one too many for the period. */
static bool
restart_allowed(sup *s)
{
	uint64_t now = trs_now_ms();
	uint64_t period =
	    s->spec->period_ms ? s->spec->period_ms : TRS_DEFAULT_PERIOD_MS;
	uint32_t intensity = s->spec->intensity == 0 ? 1 :
	    s->spec->intensity == TR_NO_RESTARTS     ? 0 :
	                                               s->spec->intensity;
	size_t k = 0;
	uint64_t *v;

	for (size_t i = 0; i < s->nrestarts; i++) {
		if (now - s->restarts[i] < period) {
			s->restarts[k++] = s->restarts[i];
		}
	}
	s->nrestarts = k;
	if ((v = tri_realloc(s->restarts, (k + 1) * sizeof(*v))) == NULL) {
		return false;
	}
	s->restarts = v;
	s->restarts[s->nrestarts++] = now;
	return s->nrestarts <= intensity;
}

static void
give_up(sup *s, const char *why)
{
	if (trs_logging()) {
		fprintf(stderr, "troupe: %s: gave up: %s\n", s->label, why);
	}
	s->ending = true;
	tr_stop(tr_self(), TR_REASON(TR_EXIT_SHUTDOWN, TR_SUP_GAVE_UP));
}

/* The next backoff delay of c, 0 for none. */
static uint32_t
backoff(sup *s, child *c, uint64_t ran_ms)
{
	uint32_t initial = s->spec->backoff_initial_ms;
	uint32_t max = s->spec->backoff_max_ms ? s->spec->backoff_max_ms :
	                                         TRS_DEFAULT_BACKOFF_MAX_MS;
	uint32_t reset = s->spec->backoff_reset_ms ?
	    s->spec->backoff_reset_ms :
	    TRS_DEFAULT_BACKOFF_RESET_MS;

	if (initial == 0 && trs_child_remote(&c->spec)) {
		/* A child on another node: see sup_nodes.c. */
		initial =
		    TRS_REMOTE_BACKOFF_MS < max ? TRS_REMOTE_BACKOFF_MS : max;
	}
	if (initial == 0) {
		return 0;
	}
	if (c->delay_ms == 0 || ran_ms >= reset) {
		c->delay_ms = initial; /* first time, or it had been stable */
	} else {
		c->delay_ms = c->delay_ms > max / 2 ? max : c->delay_ms * 2;
	}
	return c->delay_ms;
}

/* c's restart waits for a TAG_TRY_AGAIN message, sent now (it comes
 * after what is queued already) or after delay_ms. */
static void
schedule(sup *s, child *c, uint32_t delay_ms)
{
	tr_msg *m;

	trs_cancel_restart(c);
	c->state = TR_CHILD_RESTARTING;
	c->token = ++s->next_token;
	if (tr_msg_new(&m, TAG_TRY_AGAIN) == TR_OK) {
		msgpack_packer *pk = tr_msg_packer(m);
		msgpack_pack_array(pk, 2);
		msgpack_pack_str_with_body(pk, c->spec.id, strlen(c->spec.id));
		msgpack_pack_uint64(pk, c->token);
		if (delay_ms == 0 && !s->scheduled) {
			/* A message to oneself goes straight to the queue,
			 * ahead of what has arrived but is not yet in it:
			 * take that first (kept, and served before the
			 * retry), so that no call waits for more than one
			 * attempt.  Not so for a scheduled supervisor: what
			 * has arrived waits in its scheduler's inbox, which
			 * tr_recv does not look at, and a message to oneself
			 * is handled in the same batch of messages -- a
			 * loop of slow starts would be deaf for 64 of them.
			 * The timer's message comes through the inbox,
			 * after what came before it. */
			tr_msg *in;
			for (int i = 0;
			     i < DRAIN_MAX && tr_recv(&in, TR_NOWAIT) == TR_OK;
			     i++) {
				trs_stash(s, in);
			}
			if (tr_send_timed(tr_self(), m, TR_NOWAIT) == TR_OK) {
				return;
			}
		}
		/* A timer's message is enqueued even into a full mailbox. */
		if (tr_send_after(tr_self(), m, (int)delay_ms, &c->timer) ==
		    TR_OK) {
			c->timed = true;
			return;
		}
		tr_msg_free(m);
	}
	c->token = 0;
	give_up(s, "cannot schedule a restart (out of memory)");
}

static void
failed_start(sup *s, child *c)
{
	schedule(s, c, backoff(s, c, 0));
}

/* After a start that went well: a child that chose not to run (init
 * returned TR_IGNORE) is kept only if it could be restarted later. */
static bool
drop_if_ignored(sup *s, child *c)
{
	if (c->state == TR_CHILD_IGNORED &&
	    (c->spec.restart == TR_TEMPORARY || trs_is_simple(s))) {
		trs_remove_child(s, c);
		return true;
	}
	return false;
}

/* Stops the running members of c's group, newest first; the temporary
 * ones are not restarted, so they are forgotten. */
static void
stop_group(sup *s, size_t from, child *except)
{
	for (size_t i = s->nkids; i-- > from;) {
		child *k = s->kids[i];
		if (k == NULL || k == except) {
			continue;
		}
		trs_stop(s, &k, 1);
		if (s->canceled) {
			return;
		}
		if (k->spec.restart == TR_TEMPORARY &&
		    k->state != TR_CHILD_STUCK) {
			trs_remove_child(s, k);
		} else if (k->state != TR_CHILD_STUCK) {
			k->state = TR_CHILD_RESTARTING; /* with the group */
		}
	}
}

/* Starts the group from `from` on, in order; stops at the first that
 * fails, which is retried. */
static void
start_group(sup *s, size_t from)
{
	for (size_t i = from; i < s->nkids && !s->ending; i++) {
		child *k = s->kids[i];
		tr_reason why;

		if (k == NULL) {
			continue; /* a hole: removed */
		}
		if (k->state == TR_CHILD_STUCK) {
			/* Its old incarnation still runs: it starts when that
			 * is gone. */
			k->start_when_down = k->spec.restart != TR_TEMPORARY;
			continue;
		}
		k->restarts++;
		if (trs_start(s, k, &why, NULL, 0) == TR_OK) {
			(void)drop_if_ignored(s, k); /* leaves a hole */
			continue;
		}
		if (s->canceled) {
			return;
		}
		/* The ones after it stay down until its retry. */
		for (size_t j = i + 1; j < s->nkids; j++) {
			child *n = s->kids[j];
			if (n != NULL && n->state == TR_CHILD_RESTARTING &&
			    n->token == 0) {
				n->state = TR_CHILD_STOPPED;
			}
		}
		failed_start(s, k);
		return;
	}
}

/* One restart attempt of c (which is not running), by the strategy. */
static void
restart(sup *s, child *c)
{
	tr_reason why;
	size_t from;

	if (s->ending || s->canceled) {
		return;
	}
	if (!restart_allowed(s)) {
		give_up(s,
		    "more restarts than its intensity allows within its "
		    "period");
		return;
	}
	if (!is_group(s)) {
		c->restarts++;
		if (trs_start(s, c, &why, NULL, 0) == TR_OK) {
			(void)drop_if_ignored(s, c);
		} else if (!s->canceled) {
			failed_start(s, c);
		}
		return;
	}
	from = s->spec->strategy == TR_ONE_FOR_ALL ? 0 : trs_index_of(s, c);
	stop_group(s, from, c);
	if (!s->canceled) {
		start_group(s, from);
	}
}

static bool
significant_ended(sup *s, child *ended)
{
	if (!ended->spec.significant) {
		return false;
	}
	if (s->spec->auto_shutdown == TR_AUTO_ANY_SIGNIFICANT) {
		return true;
	}
	if (s->spec->auto_shutdown == TR_AUTO_ALL_SIGNIFICANT) {
		for (size_t i = 0; i < s->nkids; i++) {
			child *k = s->kids[i];
			if (k != NULL && k != ended && k->spec.significant &&
			    trs_active(k)) {
				return false;
			}
		}
		return true;
	}
	return false;
}

void
trs_child_exited(sup *s, child *c, tr_reason why)
{
	uint64_t ran = trs_now_ms() - c->started_ms;
	bool again = c->spec.restart == TR_PERMANENT ||
	    (c->spec.restart == TR_TRANSIENT && tr_reason_is_abnormal(why));
	uint32_t delay;

	trs_set_ref(s, c, TR_REF_NIL);
	c->state = TR_CHILD_STOPPED;
	if (trs_logging()) {
		char text[48];
		trs_say(s, "'%s' exited: %s", c->spec.id,
		    tr_reason_format(why, text, sizeof(text)));
	}
	if (!again) {
		bool auto_end = significant_ended(s, c);
		if (c->spec.restart == TR_TEMPORARY || trs_is_simple(s)) {
			trs_remove_child(s, c);
		}
		if (auto_end && !s->ending) {
			if (trs_logging()) {
				fprintf(stderr,
				    "troupe: %s: a significant child ended: "
				    "shutting down (auto_shutdown)\n",
				    s->label);
			}
			s->ending = true;
			tr_stop(tr_self(), TR_REASON_SHUTDOWN);
		}
		return;
	}
	if (s->ending || s->canceled) {
		return;
	}
	if ((delay = backoff(s, c, ran)) == 0) {
		restart(s, c);
		return;
	}
	/* Waits out its backoff; the rest of its group stops now, and
	 * starts with it, in order, once the delay is over. */
	if (is_group(s)) {
		stop_group(s,
		    s->spec->strategy == TR_ONE_FOR_ALL ? 0 :
		                                          trs_index_of(s, c),
		    c);
		if (s->canceled) {
			return;
		}
	}
	schedule(s, c, delay);
}

void
trs_try_again(sup *s, const char *id, uint64_t token)
{
	child *c = trs_find_id(s, id);

	if (c != NULL && c->state == TR_CHILD_RESTARTING && c->token == token &&
	    token != 0) {
		c->token = 0;
		c->timed = false;
		restart(s, c);
	}
	/* Else stale: the child was stopped, deleted or started meanwhile. */
}

void
trs_start_late(sup *s, child *c)
{
	tr_reason why;

	if (s->ending || s->canceled) {
		return;
	}
	c->restarts++;
	if (trs_start(s, c, &why, NULL, 0) == TR_OK) {
		(void)drop_if_ignored(s, c);
	} else if (!s->canceled) {
		failed_start(s, c);
	}
}
