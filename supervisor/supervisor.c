/*
 * supervisor.c -- supervisors with Erlang/OTP semantics (see troupe.h).
 *
 * A supervisor is an ordinary thread actor built on the public API: it
 * traps exits, spawns its children linked to it, and acts on their exit
 * signals.  Stopping a child is synchronous, as in OTP: monitor it,
 * unlink, ask it to stop, wait for its DOWN up to its shutdown time,
 * then kill it.  Messages that arrive while it waits are kept and acted
 * on afterwards, in order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "alloc.h"
#include "sup_spec.h"
#include "troupe.h"

#define DEFAULT_PERIOD_MS 5000
#define DEFAULT_SHUTDOWN_MS 5000
#define DEFAULT_BACKOFF_MAX_MS 30000
#define DEFAULT_BACKOFF_RESET_MS 10000
/* How long to wait for a child after killing it: a thread can only end
 * when its callback returns. */
#define KILL_WAIT_MS 5000

struct sup;

typedef struct child {
	tr_child_spec spec; /* our copy */
	tr_ref ref;
	tr_child_state state;
	uint32_t restarts;
	uint64_t started_ms;
	uint32_t delay_ms; /* the next backoff delay */
	uv_timer_t *timer; /* a restart waiting out its backoff */
	struct sup *sup;
} child;

typedef struct sup {
	tr_sup_spec *spec; /* our copy */
	child **kids;      /* in start order */
	size_t nkids, ckids;
	uint64_t *restarts; /* times of restarts within the period */
	size_t nrestarts;
	uint64_t next_id;
	tr_msg **stash; /* arrived while we waited for a DOWN */
	size_t nstash, cstash;
	tr_ref parent; /* linked by tr_sup_start, or nil */
	bool ending;
	char label[160]; /* for the log: "demo/sub" */
} sup;

static _Atomic bool logging;

void
tr_sup_log(bool on)
{
	logging = on;
}

static void
say(const sup *s, const char *fmt, const char *id, const char *more)
{
	if (logging) {
		fprintf(stderr, "troupe: %s: ", s->label);
		fprintf(stderr, fmt, id, more);
		fputc('\n', stderr);
	}
}

static const char *
place_name(tr_placement p)
{
	static const char *n[] = {"auto", "thread", "fork", "exec"};
	return (unsigned)p <= TR_PLACE_EXEC ? n[p] : "?";
}

static uint64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int32_t
shutdown_of(const child *c)
{
	if (c->spec.shutdown_ms != TR_SHUTDOWN_DEFAULT) {
		return c->spec.shutdown_ms;
	}
	return c->spec.sup != NULL ? TR_SHUTDOWN_INFINITY : DEFAULT_SHUTDOWN_MS;
}

static void
stash(sup *s, tr_msg *m)
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

/* Waits for the DOWN of monitor mon, keeping everything else. */
static bool
wait_down(sup *s, tr_mon mon, int timeout_ms)
{
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : now_ms() + timeout_ms;

	for (;;) {
		uint64_t now = now_ms();
		int left = deadline == UINT64_MAX ? TR_FOREVER :
		    deadline > now                ? (int)(deadline - now) :
		                                    0;
		tr_msg *m;
		uint64_t id;
		int rv = tr_recv(&m, left);

		if (rv != TR_OK) {
			return false; /* timed out, or we are asked to stop */
		}
		if (tr_msg_tag(m) == TR_TAG_DOWN &&
		    tr_msg_reason(m, NULL, NULL, &id) == TR_OK &&
		    id == mon.id) {
			tr_msg_free(m);
			return true;
		}
		stash(s, m);
	}
}

/* ------------------------------------------------------------------ */
/* Starting and stopping one child                                     */

static int
start_one(child *c, tr_reason *why)
{
	tr_reason local;
	tr_spec sp;
	int rv;

	if (why == NULL) {
		why = &local;
	}
	if (c->spec.sup != NULL) {
		char label[160];
		snprintf(label, sizeof(label), "%.90s/%.64s", c->sup->label,
		    c->spec.id);
		rv = trs_sup_start(
		    c->spec.sup, c->spec.start.name, label, &c->ref, why);
	} else {
		sp = c->spec.start;
		sp.link = true;
		rv = tr_spawn(&sp, &c->ref, why);
	}
	if (rv == TR_OK) {
		tr_actor_info info;
		char more[64] = "";
		c->state = TR_CHILD_RUNNING;
		c->started_ms = now_ms();
		if (logging && tr_actor_info_get(c->ref, &info) == TR_OK) {
			snprintf(more, sizeof(more), "%s, pid %d",
			    c->spec.sup != NULL ? "supervisor" :
			                          place_name(info.placement),
			    info.pid);
		}
		say(c->sup,
		    c->restarts > 0 ? "'%s' restarted (%s)" :
		                      "'%s' started (%s)",
		    c->spec.id, more);
	} else {
		char text[48];
		c->ref = TR_REF_NIL;
		c->state = TR_CHILD_STOPPED;
		if (rv != TR_EINIT) {
			*why = TR_REASON(TR_EXIT_ERROR, rv);
		}
		say(c->sup, "'%s' failed to start: %s", c->spec.id,
		    tr_reason_format(*why, text, sizeof(text)));
	}
	return rv;
}

static void
on_timer_closed(uv_handle_t *h)
{
	tri_free(h);
}

static void
cancel_timer(child *c)
{
	if (c->timer != NULL) {
		uv_timer_stop(c->timer);
		uv_close((uv_handle_t *)c->timer, on_timer_closed);
		c->timer = NULL;
	}
}

/* Stops a running child as OTP's supervisor does; synchronous. */
static void
stop_one(sup *s, child *c)
{
	int32_t sd = shutdown_of(c);
	tr_mon mon;
	tr_ref ref = c->ref;

	cancel_timer(c);
	c->state = TR_CHILD_STOPPED;
	if (tr_ref_is_nil(ref)) {
		return;
	}
	c->ref = TR_REF_NIL;
	if (tr_monitor(ref, &mon) != TR_OK) {
		return;
	}
	say(s, "'%s' stopping%s", c->spec.id, "");
	tr_unlink(ref); /* its exit is ours to wait for, not a signal */
	if (sd == TR_SHUTDOWN_BRUTAL) {
		tr_kill(ref);
	} else {
		tr_stop(ref, TR_REASON_SHUTDOWN);
		if (wait_down(s, mon, sd == TR_SHUTDOWN_INFINITY ? -1 : sd)) {
			return;
		}
		fprintf(stderr,
		    "troupe: supervisor: child '%s' did not stop within %d ms: "
		    "killed\n",
		    c->spec.id, (int)sd);
		tr_kill(ref);
	}
	if (!wait_down(s, mon, KILL_WAIT_MS)) {
		fprintf(stderr,
		    "troupe: supervisor: child '%s' could not be killed (a "
		    "thread stuck in a callback): abandoned\n",
		    c->spec.id);
		tr_demonitor(mon);
	}
}

/* ------------------------------------------------------------------ */

static void restart(sup *s, child *c);

static child *
find_ref(sup *s, tr_ref r)
{
	for (size_t i = 0; i < s->nkids; i++) {
		if (tr_ref_equal(s->kids[i]->ref, r)) {
			return s->kids[i];
		}
	}
	return NULL;
}

static child *
find_id(sup *s, const char *id)
{
	for (size_t i = 0; i < s->nkids; i++) {
		if (strcmp(s->kids[i]->spec.id, id) == 0) {
			return s->kids[i];
		}
	}
	return NULL;
}

static size_t
index_of(sup *s, child *c)
{
	for (size_t i = 0; i < s->nkids; i++) {
		if (s->kids[i] == c) {
			return i;
		}
	}
	return s->nkids;
}

static void
child_free(child *c)
{
	cancel_timer(c);
	trs_child_free(&c->spec);
	tri_free(c);
}

static void
remove_child(sup *s, child *c)
{
	size_t i = index_of(s, c);

	if (i < s->nkids) {
		memmove(&s->kids[i], &s->kids[i + 1],
		    (s->nkids - i - 1) * sizeof(*s->kids));
		s->nkids--;
	}
	child_free(c);
}

static int
add_child(sup *s, const tr_child_spec *spec, child **out)
{
	child *c;
	int rv;

	if (s->nkids == s->ckids) {
		size_t n = s->ckids ? s->ckids * 2 : 8;
		child **v = tri_realloc(s->kids, n * sizeof(*v));
		if (v == NULL) {
			return TR_ENOMEM;
		}
		s->kids = v;
		s->ckids = n;
	}
	if ((c = tri_calloc(1, sizeof(*c))) == NULL) {
		return TR_ENOMEM;
	}
	if ((rv = trs_child_dup(&c->spec, spec)) != TR_OK) {
		tri_free(c);
		return rv;
	}
	c->sup = s;
	c->state = TR_CHILD_STOPPED;
	s->kids[s->nkids++] = c;
	*out = c;
	return TR_OK;
}

/* Counts a restart; false when that is one too many for the period. */
static bool
restart_allowed(sup *s)
{
	uint64_t now = now_ms();
	uint64_t period =
	    s->spec->period_ms ? s->spec->period_ms : DEFAULT_PERIOD_MS;
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
give_up(sup *s)
{
	if (logging) {
		fprintf(stderr,
		    "troupe: %s: gave up: more restarts than its "
		    "intensity allows within its period\n",
		    s->label);
	}
	s->ending = true;
	tr_stop(tr_self(), TR_REASON(TR_EXIT_SHUTDOWN, TR_SUP_GAVE_UP));
}

static void
on_backoff(uv_timer_t *t)
{
	child *c = t->data;

	uv_close((uv_handle_t *)t, on_timer_closed);
	c->timer = NULL;
	if (!c->sup->ending) {
		restart(c->sup, c);
	}
}

/* The next backoff delay of c, 0 for none. */
static uint32_t
backoff(sup *s, child *c, uint64_t ran_ms)
{
	uint32_t initial = s->spec->backoff_initial_ms;
	uint32_t max = s->spec->backoff_max_ms ? s->spec->backoff_max_ms :
	                                         DEFAULT_BACKOFF_MAX_MS;
	uint32_t reset = s->spec->backoff_reset_ms ? s->spec->backoff_reset_ms :
	                                             DEFAULT_BACKOFF_RESET_MS;

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

/* Starts c again; a failed start counts as a restart of its own. */
static void
restart(sup *s, child *c)
{
	tr_reason why;

	while (!s->ending) {
		int rv;
		c->restarts++;
		if ((rv = start_one(c, &why)) == TR_OK) {
			return;
		}
		if (rv == TR_ECANCELED) {
			return; /* we are being stopped: no more restarts */
		}
		if (!restart_allowed(s)) {
			give_up(s);
			return;
		}
	}
}

/* Schedules c's restart, after its backoff if there is one. */
static void
restart_later(sup *s, child *c, uint64_t ran_ms)
{
	uint32_t delay = backoff(s, c, ran_ms);

	if (delay == 0) {
		restart(s, c);
		return;
	}
	if ((c->timer = tri_malloc(sizeof(*c->timer))) == NULL) {
		restart(s, c);
		return;
	}
	uv_timer_init((uv_loop_t *)tr_loop(), c->timer);
	c->timer->data = c;
	c->state = TR_CHILD_RESTARTING;
	uv_timer_start(c->timer, on_backoff, delay, 0);
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
			if (k != ended && k->spec.significant &&
			    k->state != TR_CHILD_STOPPED) {
				return false;
			}
		}
		return true;
	}
	return false;
}

/* A child ended by itself: OTP's rules. */
static void
child_exited(sup *s, child *c, tr_reason why)
{
	uint64_t ran = now_ms() - c->started_ms;
	bool again = c->spec.restart == TR_PERMANENT ||
	    (c->spec.restart == TR_TRANSIENT && tr_reason_is_abnormal(why));
	size_t at;

	c->ref = TR_REF_NIL;
	c->state = TR_CHILD_STOPPED;
	if (logging) {
		char text[48];
		say(s, "'%s' exited: %s", c->spec.id,
		    tr_reason_format(why, text, sizeof(text)));
	}
	if (!again) {
		bool auto_end = significant_ended(s, c);
		if (c->spec.restart == TR_TEMPORARY ||
		    s->spec->strategy == TR_SIMPLE_ONE_FOR_ONE) {
			remove_child(s, c);
		}
		if (auto_end) {
			s->ending = true;
			tr_stop(tr_self(), TR_REASON_SHUTDOWN);
		}
		return;
	}
	if (!restart_allowed(s)) {
		give_up(s);
		return;
	}
	switch (s->spec->strategy) {
	case TR_ONE_FOR_ALL:
	case TR_REST_FOR_ONE:
		/* Stop the others (all, or those started after it), newest
		 * first; temporary ones are gone for good. */
		at = s->spec->strategy == TR_ONE_FOR_ALL ? 0 :
		                                           index_of(s, c) + 1;
		for (size_t i = s->nkids; i-- > at;) {
			child *k = s->kids[i];
			if (k == c) {
				continue;
			}
			stop_one(s, k);
			if (k->spec.restart == TR_TEMPORARY) {
				remove_child(s, k);
			}
		}
		/* Then start them again, in order. */
		at = s->spec->strategy == TR_ONE_FOR_ALL ? 0 : index_of(s, c);
		for (size_t i = at; i < s->nkids && !s->ending; i++) {
			child *k = s->kids[i];
			if (k->state == TR_CHILD_STOPPED) {
				if (k == c) {
					restart_later(s, k, ran);
				} else {
					restart(s, k);
				}
			}
		}
		break;
	default:
		restart_later(s, c, ran);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Calls                                                               */

static void
reply_rv(tr_msg *req, int rv, tr_ref ref, tr_reason why)
{
	tr_msg *r;
	msgpack_packer *pk;

	if (tr_msg_new(&r, tr_msg_tag(req)) != TR_OK) {
		return;
	}
	pk = tr_msg_packer(r);
	msgpack_pack_array(pk, 4);
	msgpack_pack_int(pk, rv);
	tr_pack_ref(pk, ref);
	msgpack_pack_int(pk, (int)why.kind);
	msgpack_pack_int32(pk, why.code);
	if (tr_reply(tr_msg_from(req), r) != TR_OK) {
		tr_msg_free(r);
	}
}

static int
call_start_child(sup *s, tr_msg *m, tr_ref *ref, tr_reason *why)
{
	const tr_child_spec *given = NULL;
	tr_child_spec spec;
	msgpack_object o;
	char id[TR_NAME_MAX + 1];
	child *c;
	int rv;

	/* The spec travels by address: only a caller of this process (that
	 * waits in tr_sup_start_child meanwhile) can give it. */
	if (tr_msg_sender(m).proc != tr_self().proc ||
	    tr_msg_sender(m).node != tr_self().node) {
		return TR_ENOTSUP;
	}
	if (tr_msg_body(m, &o) != TR_OK ||
	    o.type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		return TR_EINVAL;
	}
	given = (const tr_child_spec *)(uintptr_t)o.via.u64;
	if (s->spec->strategy == TR_SIMPLE_ONE_FOR_ONE) {
		spec = s->spec->children[0];
		if (given != NULL && given->start.init_arg != NULL) {
			spec.start.init_arg = given->start.init_arg;
		}
		snprintf(id, sizeof(id), "%.40s.%llu", spec.id,
		    (unsigned long long)++s->next_id);
		spec.id = id;
	} else {
		char err[256];
		if (given == NULL ||
		    trs_child_check(given, err, sizeof(err)) != TR_OK) {
			return TR_EINVAL;
		}
		if (find_id(s, given->id) != NULL) {
			return TR_EEXIST;
		}
		spec = *given;
	}
	if ((rv = add_child(s, &spec, &c)) != TR_OK) {
		return rv;
	}
	if ((rv = start_one(c, why)) != TR_OK) {
		remove_child(s, c);
		return rv;
	}
	*ref = c->ref;
	return TR_OK;
}

static int
id_of(tr_msg *m, char *id, size_t len)
{
	msgpack_object o;

	if (tr_msg_body(m, &o) != TR_OK || o.type != MSGPACK_OBJECT_STR ||
	    o.via.str.size == 0 || o.via.str.size >= len) {
		return TR_EINVAL;
	}
	memcpy(id, o.via.str.ptr, o.via.str.size);
	id[o.via.str.size] = '\0';
	return TR_OK;
}

static void
call_children(sup *s, tr_msg *m)
{
	uint64_t now = now_ms();
	msgpack_packer *pk;
	tr_msg *r;

	if (tr_msg_new(&r, TAG_CHILDREN) != TR_OK) {
		return;
	}
	pk = tr_msg_packer(r);
	msgpack_pack_array(pk, (uint32_t)s->nkids);
	for (size_t i = 0; i < s->nkids; i++) {
		child *c = s->kids[i];
		tr_actor_info info;
		tr_placement place = c->spec.start.placement;
		if (!tr_ref_is_nil(c->ref) &&
		    tr_actor_info_get(c->ref, &info) == TR_OK) {
			place = info.placement;
		} else if (place == TR_PLACE_AUTO) {
			/* Not running: what auto would choose (without the
			 * environment's override, which is the spawner's). */
			place = c->spec.start.program != NULL ? TR_PLACE_EXEC :
			    c->spec.start.isolated            ? TR_PLACE_FORK :
			                                        TR_PLACE_THREAD;
		}
		msgpack_pack_array(pk, 7);
		msgpack_pack_str_with_body(pk, c->spec.id, strlen(c->spec.id));
		tr_pack_ref(pk, c->ref);
		msgpack_pack_int(pk, (int)c->state);
		msgpack_pack_int(pk, (int)place);
		msgpack_pack_int(pk, c->spec.sup != NULL);
		msgpack_pack_uint32(pk, c->restarts);
		msgpack_pack_uint64(
		    pk, c->state == TR_CHILD_RUNNING ? now - c->started_ms : 0);
	}
	if (tr_reply(tr_msg_from(m), r) != TR_OK) {
		tr_msg_free(r);
	}
}

static void
handle_one(sup *s, tr_msg *m)
{
	tr_reason why = TR_REASON_NORMAL;
	tr_ref who, ref = TR_REF_NIL;
	char id[TR_NAME_MAX + 1];
	child *c;
	int rv;

	switch (tr_msg_tag(m)) {
	case TR_TAG_EXIT:
		tr_msg_reason(m, &who, &why, NULL);
		if ((c = find_ref(s, who)) != NULL) {
			child_exited(s, c, why);
		} else if (tr_ref_equal(who, s->parent) && !s->ending) {
			/* As in OTP, the end of the parent is ours. */
			s->ending = true;
			tr_stop(tr_self(), why);
		}
		/* Else a child we stopped ourselves: already handled. */
		return;
	case TAG_START_CHILD:
		rv = call_start_child(s, m, &ref, &why);
		reply_rv(m, rv, ref, why);
		return;
	case TAG_TERMINATE_CHILD:
	case TAG_RESTART_CHILD:
	case TAG_DELETE_CHILD:
		if ((rv = id_of(m, id, sizeof(id))) == TR_OK) {
			if ((c = find_id(s, id)) == NULL) {
				rv = TR_ENOENT;
			} else if (tr_msg_tag(m) == TAG_TERMINATE_CHILD) {
				stop_one(s, c);
				if (c->spec.restart == TR_TEMPORARY ||
				    s->spec->strategy ==
				        TR_SIMPLE_ONE_FOR_ONE) {
					remove_child(s, c);
				}
			} else if (c->state != TR_CHILD_STOPPED) {
				rv = TR_ESTATE;
			} else if (tr_msg_tag(m) == TAG_RESTART_CHILD) {
				rv = start_one(c, &why);
				ref = c->ref;
			} else {
				remove_child(s, c);
			}
		}
		reply_rv(m, rv, ref, why);
		return;
	case TAG_CHILDREN:
		call_children(s, m);
		return;
	case TR_TAG_STDOUT:
	case TR_TAG_STDERR:
		/* A wrapped program's output: shown, as a process manager
		 * does, with the child's path. */
		if ((c = find_ref(s, tr_msg_sender(m))) != NULL) {
			msgpack_object o;
			if (tr_msg_body(m, &o) == TR_OK &&
			    (o.type == MSGPACK_OBJECT_STR ||
			        o.type == MSGPACK_OBJECT_BIN)) {
				FILE *f = tr_msg_tag(m) == TR_TAG_STDOUT ?
				    stdout :
				    stderr;
				fprintf(f, "[%s/%s] %.*s\n", s->label,
				    c->spec.id, (int)o.via.str.size,
				    o.via.str.ptr);
				fflush(f);
			}
		}
		return;
	default:
		return; /* not for a supervisor: ignored */
	}
}

static int
sup_handle(void *state, tr_msg *msg)
{
	sup *s = state;
	tr_msg *m;

	handle_one(s, msg);
	/* What arrived while we waited on a child, in arrival order. */
	while (s->nstash > 0 && !s->ending) {
		m = s->stash[0];
		memmove(&s->stash[0], &s->stash[1],
		    (s->nstash - 1) * sizeof(*s->stash));
		s->nstash--;
		handle_one(s, m);
		tr_msg_free(m);
	}
	return 0;
}

/* Frees what the supervisor holds (its children must be stopped). */
static void
sup_free(sup *s)
{
	for (size_t i = 0; i < s->nkids; i++) {
		child_free(s->kids[i]);
	}
	for (size_t i = 0; i < s->nstash; i++) {
		tr_msg_free(s->stash[i]);
	}
	tri_free(s->kids);
	tri_free(s->stash);
	tri_free(s->restarts);
	trs_spec_free(s->spec);
	memset(s, 0, sizeof(*s));
}

/* Init argument: [spec address, why address, parent]: tr_sup_start
 * waits in tr_spawn while we run, so both addresses are alive. */
static int
sup_init(void *state, tr_msg *arg)
{
	sup *s = state;
	const tr_sup_spec *given;
	tr_reason *why_out;
	msgpack_object o;
	child *c;

	if (tr_msg_body(arg, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size != 4 ||
	    o.via.array.ptr[3].type != MSGPACK_OBJECT_STR) {
		return TR_EINVAL;
	}
	snprintf(s->label, sizeof(s->label), "%.*s",
	    (int)o.via.array.ptr[3].via.str.size,
	    o.via.array.ptr[3].via.str.ptr);
	given = (const tr_sup_spec *)(uintptr_t)o.via.array.ptr[0].via.u64;
	why_out = (tr_reason *)(uintptr_t)o.via.array.ptr[1].via.u64;
	(void)tr_unpack_ref(&o.via.array.ptr[2], &s->parent);
	tr_trap_exits(true, NULL);
	if ((s->spec = trs_spec_dup(given)) == NULL) {
		return TR_ENOMEM;
	}
	if (s->spec->strategy == TR_SIMPLE_ONE_FOR_ONE) {
		return 0; /* the template starts nothing */
	}
	for (size_t i = 0; i < s->spec->nchildren; i++) {
		tr_reason why = TR_REASON_NORMAL;
		int rv;
		if ((rv = add_child(s, &s->spec->children[i], &c)) != TR_OK ||
		    (rv = start_one(c, &why)) != TR_OK) {
			/* A tree starts whole or not at all: newest first. */
			for (size_t k = s->nkids; k-- > 0;) {
				stop_one(s, s->kids[k]);
			}
			/* No terminate follows a failed init: free here. */
			sup_free(s);
			*why_out =
			    rv == TR_EINIT ? why : TR_REASON(TR_EXIT_ERROR, rv);
			return rv == TR_EINIT ? TR_EINIT : rv;
		}
	}
	return 0;
}

static void
sup_terminate(void *state, tr_reason why)
{
	sup *s = state;

	(void)why;
	s->ending = true;
	for (size_t i = s->nkids; i-- > 0;) {
		stop_one(s, s->kids[i]);
	}
	sup_free(s);
}

static const tr_behavior sup_behavior = {.name = "troupe.supervisor",
    .state_size = sizeof(sup),
    .init = sup_init,
    .handle = sup_handle,
    .terminate = sup_terminate};

/* ------------------------------------------------------------------ */
/* The API                                                             */

static int sup_spawn(const tr_sup_spec *spec, const char *name,
    const char *label, bool link, tr_ref *out, tr_reason *why);

int
tr_sup_start(const tr_sup_spec *spec, const char *name, bool link, tr_ref *out,
    tr_reason *why)
{
	return sup_spawn(
	    spec, name, name != NULL ? name : "supervisor", link, out, why);
}

int
trs_sup_start(const tr_sup_spec *spec, const char *name, const char *label,
    tr_ref *out, tr_reason *why)
{
	return sup_spawn(spec, name, label, true, out, why);
}

static int
sup_spawn(const tr_sup_spec *spec, const char *name, const char *label,
    bool link, tr_ref *out, tr_reason *why)
{
	tr_reason local = TR_REASON_NORMAL;
	tr_spec sp;
	tr_msg *arg;
	int rv;

	if (out == NULL || tr_sup_check(spec, NULL, 0) != TR_OK) {
		return TR_EINVAL;
	}
	/* Registered once, by name, like any behavior. */
	rv = tr_behavior_register(&sup_behavior);
	if (rv != TR_OK && rv != TR_EEXIST) {
		return rv;
	}
	if ((rv = tr_msg_new(&arg, 0)) != TR_OK) {
		return rv;
	}
	msgpack_pack_array(tr_msg_packer(arg), 4);
	msgpack_pack_uint64(tr_msg_packer(arg), (uint64_t)(uintptr_t)spec);
	msgpack_pack_uint64(tr_msg_packer(arg), (uint64_t)(uintptr_t)&local);
	tr_pack_ref(tr_msg_packer(arg), link ? tr_self() : TR_REF_NIL);
	msgpack_pack_str_with_body(tr_msg_packer(arg), label, strlen(label));
	memset(&sp, 0, sizeof(sp));
	sp.behavior = sup_behavior.name;
	sp.placement = TR_PLACE_THREAD;
	sp.init_arg = arg;
	sp.name = name;
	sp.link = link;
	rv = tr_spawn(&sp, out, NULL);
	tr_msg_free(arg);
	if (rv == TR_EINIT && why != NULL) {
		*why = local;
	}
	return rv;
}
