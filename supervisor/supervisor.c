/*
 * supervisor.c -- supervisors with Erlang/OTP semantics (see troupe.h):
 * the actor, its children, the calls it answers, and tr_sup_start.
 *
 * A supervisor is an ordinary thread actor built on the public API: it
 * traps exits, spawns its children linked to it (sup_child.c), and acts
 * on their exit signals by OTP's rules (sup_restart.c).  It does one
 * thing per message: a restart that fails is tried again through a
 * message to itself, so calls and stop requests are served between two
 * attempts.  Stopping a child is synchronous, as in OTP; the messages
 * that arrive meanwhile are kept and handled afterwards, in order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "sup_internal.h"

static _Atomic bool logging;

void
tr_sup_log(bool on)
{
	logging = on;
}

bool
trs_logging(void)
{
	return logging;
}

void
trs_say(const sup *s, const char *fmt, const char *id, const char *more)
{
	if (logging) {
		fprintf(stderr, "troupe: %s: ", s->label);
		fprintf(stderr, fmt, id, more);
		fputc('\n', stderr);
	}
}

uint64_t
trs_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

bool
trs_is_simple(const sup *s)
{
	return s->spec->strategy == TR_SIMPLE_ONE_FOR_ONE;
}

bool
trs_active(const child *c)
{
	return c->state == TR_CHILD_RUNNING || c->state == TR_CHILD_RESTARTING;
}

/* ------------------------------------------------------------------ */
/* The children                                                        */

static bool
id_is(const void *v, const void *arg)
{
	return strcmp(((const child *)v)->spec.id, arg) == 0;
}

static bool
ref_is(const void *v, const void *arg)
{
	return tr_ref_equal(((const child *)v)->ref, *(const tr_ref *)arg);
}

child *
trs_find_id(sup *s, const char *id)
{
	return trs_map_find(&s->by_id, trs_hash_str(id), id_is, id);
}

child *
trs_find_ref(sup *s, tr_ref r)
{
	if (tr_ref_is_nil(r)) {
		return NULL;
	}
	return trs_map_find(&s->by_ref, trs_hash_ref(r), ref_is, &r);
}

/* The running child whose ref is r. */
static child *
find_running(sup *s, tr_ref r)
{
	child *c = trs_find_ref(s, r);

	return c != NULL && c->state == TR_CHILD_RUNNING ? c : NULL;
}

void
trs_set_ref(sup *s, child *c, tr_ref r)
{
	if (!tr_ref_is_nil(c->ref)) {
		trs_map_del(&s->by_ref, trs_hash_ref(c->ref), c);
	}
	c->ref = r;
	if (!tr_ref_is_nil(r)) {
		/* Room was reserved for every child (add_child). */
		trs_map_put(&s->by_ref, trs_hash_ref(r), c);
	}
}

size_t
trs_index_of(const sup *s, const child *c)
{
	return c->pos < s->nkids && s->kids[c->pos] == c ? c->pos : s->nkids;
}

static void
child_free(child *c)
{
	trs_cancel_restart(c);
	trs_child_free(&c->spec);
	tri_free(c);
}

void
trs_remove_child(sup *s, child *c)
{
	size_t i = trs_index_of(s, c);

	trs_set_ref(s, c, TR_REF_NIL);
	trs_map_del(&s->by_id, trs_hash_str(c->spec.id), c);
	if (i < s->nkids) {
		s->kids[i] = NULL; /* a hole, until compact() */
		s->nholes++;
	}
	child_free(c);
}

/* Closes the holes, once they are as many as the children: between two
 * messages, when no one holds an index into kids. */
static void
compact(sup *s)
{
	size_t k = 0;

	if (s->nholes == 0 || s->nholes * 2 < s->nkids) {
		return;
	}
	for (size_t i = 0; i < s->nkids; i++) {
		if (s->kids[i] != NULL) {
			s->kids[k] = s->kids[i];
			s->kids[k]->pos = k;
			k++;
		}
	}
	s->nkids = k;
	s->nholes = 0;
}

static int
add_child(sup *s, const tr_child_spec *spec, child **out)
{
	size_t live = s->nkids - s->nholes + 1;
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
	/* Room in the indexes now, so that no later step can fail. */
	if (trs_map_reserve(&s->by_id, live) != TR_OK ||
	    trs_map_reserve(&s->by_ref, live) != TR_OK) {
		return TR_ENOMEM;
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
	c->pos = s->nkids;
	s->kids[s->nkids++] = c;
	trs_map_put(&s->by_id, trs_hash_str(c->spec.id), c);
	*out = c;
	return TR_OK;
}

/* simple_one_for_one: whether id is one we made up ("tmpl.N"), whether
 * or not its child is still there. */
static bool
issued(sup *s, const char *id)
{
	char prefix[TR_NAME_MAX + 2];
	size_t n;
	char *end;
	unsigned long long k;

	n = (size_t)snprintf(
	    prefix, sizeof(prefix), "%.40s.", s->spec->children[0].id);
	if (strncmp(id, prefix, n) != 0 || id[n] < '1' || id[n] > '9') {
		return false;
	}
	k = strtoull(id + n, &end, 10);
	return *end == '\0' && k >= 1 && k <= s->next_id;
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

/* The actor holding the name c would have started under, if any. */
static tr_ref
name_holder(const tr_child_spec *c)
{
	tr_ref r = TR_REF_NIL;

	if (c->start.name != NULL) {
		(void)tr_whereis(c->start.name, &r);
	}
	return r;
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
	if (trs_is_simple(s)) {
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
		    trs_child_check(given, s->spec->auto_shutdown, err,
		        sizeof(err)) != TR_OK) {
			return TR_EINVAL;
		}
		if ((c = trs_find_id(s, given->id)) != NULL) {
			/* OTP's already_started (with the child) or
			 * already_present (its spec, not running). */
			if (c->state == TR_CHILD_RUNNING) {
				*ref = c->ref;
			}
			return TR_EEXIST;
		}
		spec = *given;
	}
	if ((rv = add_child(s, &spec, &c)) != TR_OK) {
		return rv;
	}
	if ((rv = trs_start(s, c, why, NULL, 0)) != TR_OK) {
		if (rv == TR_EEXIST) {
			*ref = name_holder(&c->spec); /* its name is taken */
		}
		trs_remove_child(s, c);
		return rv;
	}
	*ref = c->ref; /* nil if its init returned TR_IGNORE */
	if (c->state == TR_CHILD_IGNORED &&
	    (trs_is_simple(s) || c->spec.restart == TR_TEMPORARY)) {
		trs_remove_child(s, c); /* nothing to restart later */
	}
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

static int
call_terminate_child(sup *s, const char *id)
{
	child *c = trs_find_id(s, id);

	if (c == NULL) {
		/* OTP: a simple_one_for_one child already gone is no error. */
		return trs_is_simple(s) && issued(s, id) ? TR_OK : TR_ENOENT;
	}
	c->start_when_down = false;
	trs_stop(s, &c, 1);
	if (c->state != TR_CHILD_STUCK && c->stop_phase == STOP_NONE &&
	    (c->spec.restart == TR_TEMPORARY || trs_is_simple(s))) {
		trs_remove_child(s, c);
	}
	return TR_OK;
}

static int
call_restart_child(sup *s, const char *id, tr_ref *ref, tr_reason *why)
{
	child *c = trs_find_id(s, id);
	int rv;

	if (trs_is_simple(s)) {
		return TR_ENOTSUP; /* OTP: {error, simple_one_for_one} */
	}
	if (c == NULL) {
		return TR_ENOENT;
	}
	if (c->state != TR_CHILD_STOPPED && c->state != TR_CHILD_IGNORED) {
		return TR_ESTATE; /* running, restarting or stuck */
	}
	rv = trs_start(s, c, why, NULL, 0);
	*ref = c->ref;
	return rv;
}

static int
call_delete_child(sup *s, const char *id)
{
	child *c = trs_find_id(s, id);

	if (trs_is_simple(s)) {
		return TR_ENOTSUP;
	}
	if (c == NULL) {
		return TR_ENOENT;
	}
	if (c->state != TR_CHILD_STOPPED && c->state != TR_CHILD_IGNORED) {
		return TR_ESTATE;
	}
	trs_remove_child(s, c);
	return TR_OK;
}

static void
call_children(sup *s, tr_msg *m)
{
	uint64_t now = trs_now_ms();
	msgpack_packer *pk;
	tr_msg *r;
	int bad, rv;

	if ((rv = tr_msg_new(&r, TAG_CHILDREN)) != TR_OK) {
		goto fail;
	}
	pk = tr_msg_packer(r);
	bad = msgpack_pack_array(pk, (uint32_t)(s->nkids - s->nholes));
	for (size_t i = 0; i < s->nkids; i++) {
		child *c = s->kids[i];
		tr_placement place;
		bool live;
		if (c == NULL) {
			continue;
		}
		place = c->spec.start.placement;
		live =
		    c->state == TR_CHILD_RUNNING || c->state == TR_CHILD_STUCK;
		if (live) {
			place = c->place;
		} else if (c->spec.sup != NULL) {
			place = trs_sup_placement(c->spec.sup);
		} else if (place == TR_PLACE_AUTO) {
			/* Not running: what auto would choose (without the
			 * environment's override, which is the spawner's). */
			place = c->spec.start.program != NULL ? TR_PLACE_EXEC :
			    c->spec.start.isolated            ? TR_PLACE_FORK :
			                                        TR_PLACE_THREAD;
		}
		bad |= msgpack_pack_array(pk, 8);
		bad |= msgpack_pack_str_with_body(
		    pk, c->spec.id, strlen(c->spec.id));
		bad |= tr_pack_ref(pk, live ? c->ref : TR_REF_NIL) != TR_OK;
		bad |= msgpack_pack_int(pk, (int)c->state);
		bad |= msgpack_pack_int(pk, (int)place);
		bad |= msgpack_pack_int(pk, c->spec.sup != NULL);
		bad |= msgpack_pack_uint32(pk, c->restarts);
		bad |= msgpack_pack_uint64(
		    pk, c->state == TR_CHILD_RUNNING ? now - c->started_ms : 0);
		/* Its node: "" here, nil for a list not yet picked from. */
		if (c->spec.nodes != NULL && !c->placed) {
			bad |= msgpack_pack_nil(pk);
		} else if (c->node == NULL && c->spec.start.node != NULL &&
		    c->spec.sup == NULL && !c->placed) {
			bad |= msgpack_pack_str_with_body(
			    pk, c->spec.start.node, strlen(c->spec.start.node));
		} else {
			const char *node = c->node != NULL ? c->node : "";
			bad |=
			    msgpack_pack_str_with_body(pk, node, strlen(node));
		}
	}
	/* A packer fails past TR_MSG_MAX, or out of memory. */
	rv = !bad ? tr_reply(tr_msg_from(m), r) :
	    tr_msg_size(r) + 4096 >= (size_t)TR_MSG_MAX ? TR_EMSGSIZE :
	                                                  TR_ENOMEM;
	if (rv == TR_OK) {
		return;
	}
	tr_msg_free(r);
fail:
	/* No list: the reason instead, or the caller would wait for ever
	 * (a list past the largest body, 10^5s of children, or past the
	 * runtime's max_body). */
	if (tr_msg_new(&r, TAG_CHILDREN) == TR_OK) {
		msgpack_pack_int(tr_msg_packer(r), rv);
		if (tr_reply(tr_msg_from(m), r) != TR_OK) {
			tr_msg_free(r);
		}
	}
}

/* ------------------------------------------------------------------ */
/* The actor                                                           */

static void
handle_one(sup *s, tr_msg *m)
{
	tr_reason why = TR_REASON_NORMAL;
	tr_ref who, ref = TR_REF_NIL;
	char id[TR_NAME_MAX + 1];
	msgpack_object o;
	uint64_t mon;
	child *c;
	int rv;

	switch (tr_msg_tag(m)) {
	case TR_TAG_EXIT:
		tr_msg_reason(m, &who, &why, NULL);
		if ((c = find_running(s, who)) != NULL) {
			trs_child_exited(s, c, why);
		} else if (tr_ref_equal(who, s->parent) && !s->ending) {
			/* As in OTP, the end of the parent is ours. */
			s->ending = true;
			tr_stop(tr_self(), why);
		}
		/* Else a child we stopped ourselves: already handled. */
		return;
	case TR_TAG_DOWN:
		if (tr_msg_reason(m, &who, &why, &mon) == TR_OK) {
			(void)trs_stuck_down(s, who, mon, why);
		}
		return;
	case TAG_TRY_AGAIN:
		if (tr_msg_body(m, &o) == TR_OK &&
		    o.type == MSGPACK_OBJECT_ARRAY && o.via.array.size == 2 &&
		    o.via.array.ptr[0].type == MSGPACK_OBJECT_STR &&
		    o.via.array.ptr[0].via.str.size < sizeof(id) &&
		    o.via.array.ptr[1].type ==
		        MSGPACK_OBJECT_POSITIVE_INTEGER &&
		    tr_ref_equal(tr_msg_sender(m), tr_self())) {
			memcpy(id, o.via.array.ptr[0].via.str.ptr,
			    o.via.array.ptr[0].via.str.size);
			id[o.via.array.ptr[0].via.str.size] = '\0';
			trs_try_again(s, id, o.via.array.ptr[1].via.u64);
		}
		return;
	case TAG_START_CHILD:
		rv = call_start_child(s, m, &ref, &why);
		reply_rv(m, rv, ref, why);
		return;
	case TAG_TERMINATE_CHILD:
	case TAG_RESTART_CHILD:
	case TAG_DELETE_CHILD:
		if ((rv = id_of(m, id, sizeof(id))) == TR_OK) {
			rv = tr_msg_tag(m) == TAG_TERMINATE_CHILD ?
			    call_terminate_child(s, id) :
			    tr_msg_tag(m) == TAG_RESTART_CHILD ?
			    call_restart_child(s, id, &ref, &why) :
			    call_delete_child(s, id);
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
		if ((c = find_running(s, tr_msg_sender(m))) != NULL) {
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
	while (s->hstash < s->nstash && !s->ending && !s->canceled) {
		m = s->stash[s->hstash++];
		if (s->hstash == s->nstash) {
			s->hstash = s->nstash = 0;
		}
		handle_one(s, m);
		tr_msg_free(m);
	}
	compact(s);
	return 0;
}

/* Frees what the supervisor holds (its children must be stopped). */
static void
sup_free(sup *s)
{
	for (size_t i = 0; i < s->nkids; i++) {
		if (s->kids[i] != NULL) {
			child_free(s->kids[i]);
		}
	}
	for (size_t i = s->hstash; i < s->nstash; i++) {
		tr_msg_free(s->stash[i]);
	}
	trs_map_fini(&s->by_id);
	trs_map_fini(&s->by_ref);
	tri_free(s->kids);
	tri_free(s->stash);
	tri_free(s->restarts);
	trs_spec_free(s->spec);
	memset(s, 0, sizeof(*s));
}

/* Stops every child: newest first, one at a time -- but the children of
 * a simple_one_for_one, all at once (OTP: in parallel). */
static void
stop_all(sup *s)
{
	trs_stop_pending(s);
	if (trs_is_simple(s) && s->nkids > 0) {
		child **v = tri_malloc(s->nkids * sizeof(*v));
		size_t n = 0;
		if (v != NULL) {
			for (size_t i = s->nkids; i-- > 0;) {
				if (s->kids[i] != NULL) {
					v[n++] = s->kids[i];
				}
			}
			trs_stop(s, v, n);
			tri_free(v);
		}
	}
	for (size_t i = s->nkids; i-- > 0;) {
		if (s->kids[i] != NULL) {
			trs_stop(s, &s->kids[i], 1);
		}
	}
	for (size_t i = 0; i < s->nkids; i++) {
		child *c = s->kids[i];
		if (c != NULL && c->state == TR_CHILD_STUCK) {
			fprintf(stderr,
			    "troupe: %s: child '%s' is still stuck as its "
			    "supervisor ends: abandoned\n",
			    s->label, c->spec.id);
			(void)tr_demonitor(c->mon);
		}
	}
}

/* Init argument: [spec address, why address, parent, label, failed
 * child's path address, its size]: tr_sup_start waits in tr_spawn while
 * we run, so the addresses are alive. */
static int
sup_init(void *state, tr_msg *arg)
{
	sup *s = state;
	const tr_sup_spec *given;
	tr_reason *why_out;
	char *path_out;
	size_t path_len;
	msgpack_object o, *e;
	child *c;

	if (tr_msg_body(arg, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size != 6 ||
	    o.via.array.ptr[3].type != MSGPACK_OBJECT_STR) {
		return TR_EINVAL;
	}
	e = o.via.array.ptr;
	snprintf(s->label, sizeof(s->label), "%.*s", (int)e[3].via.str.size,
	    e[3].via.str.ptr);
	given = (const tr_sup_spec *)(uintptr_t)e[0].via.u64;
	why_out = (tr_reason *)(uintptr_t)e[1].via.u64;
	(void)tr_unpack_ref(&e[2], &s->parent);
	path_out = (char *)(uintptr_t)e[4].via.u64;
	path_len = (size_t)e[5].via.u64;
	tr_trap_exits(true, NULL);
	{
		tr_actor_info me;
		s->scheduled = tr_actor_info_get(tr_self(), &me) == TR_OK &&
		    me.placement == TR_PLACE_SCHEDULED;
	}
	if ((s->spec = trs_spec_dup(given)) == NULL) {
		return TR_ENOMEM;
	}
	if (trs_is_simple(s)) {
		return 0; /* the template starts nothing */
	}
	for (size_t i = 0; i < s->spec->nchildren; i++) {
		tr_reason why = TR_REASON_NORMAL;
		int rv;
		if ((rv = add_child(s, &s->spec->children[i], &c)) != TR_OK ||
		    (rv = trs_start(s, c, &why, path_out, path_len)) != TR_OK) {
			/* A tree starts whole or not at all: newest first. */
			for (size_t k = s->nkids; k-- > 0;) {
				if (s->kids[k] != NULL) {
					trs_stop(s, &s->kids[k], 1);
				}
			}
			/* No terminate follows a failed init: free here. */
			sup_free(s);
			*why_out =
			    rv == TR_EINIT ? why : TR_REASON(TR_EXIT_ERROR, rv);
			return rv == TR_EINIT ? TR_EINIT : rv;
		}
		if (c->state == TR_CHILD_IGNORED &&
		    c->spec.restart == TR_TEMPORARY) {
			trs_remove_child(s, c); /* OTP keeps no spec of it */
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
	stop_all(s);
	sup_free(s);
}

static const tr_behavior sup_behavior = {.name = "troupe.supervisor",
    .state_size = sizeof(sup),
    .init = sup_init,
    .handle = sup_handle,
    .terminate = sup_terminate};

/* ------------------------------------------------------------------ */
/* The API                                                             */

static int
sup_spawn(const tr_sup_spec *spec, const char *name, const char *label,
    bool link, tr_ref *out, tr_reason *why, char *path, size_t pathlen)
{
	tr_reason local = TR_REASON_NORMAL;
	char failed[TRS_PATH_MAX] = "";
	msgpack_packer *pk;
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
	pk = tr_msg_packer(arg);
	msgpack_pack_array(pk, 6);
	msgpack_pack_uint64(pk, (uint64_t)(uintptr_t)spec);
	msgpack_pack_uint64(pk, (uint64_t)(uintptr_t)&local);
	tr_pack_ref(pk, link ? tr_self() : TR_REF_NIL);
	msgpack_pack_str_with_body(pk, label, strlen(label));
	msgpack_pack_uint64(pk, (uint64_t)(uintptr_t)failed);
	msgpack_pack_uint64(pk, sizeof(failed));
	memset(&sp, 0, sizeof(sp));
	sp.behavior = sup_behavior.name;
	sp.placement = trs_sup_placement(spec);
	sp.init_arg = arg;
	sp.name = name;
	sp.link = link;
	rv = tr_spawn(&sp, out, NULL);
	tr_msg_free(arg);
	if (rv == TR_EINIT) {
		if (why != NULL) {
			*why = local;
		}
		if (path != NULL && pathlen > 0) {
			snprintf(path, pathlen, "%s", failed);
		}
	}
	return rv;
}

int
tr_sup_start(const tr_sup_spec *spec, const char *name, bool link, tr_ref *out,
    tr_reason *why)
{
	return tr_sup_start_ex(spec, name, link, out, why, NULL, 0);
}

int
tr_sup_start_ex(const tr_sup_spec *spec, const char *name, bool link,
    tr_ref *out, tr_reason *why, char *failed, size_t failedlen)
{
	if (failed != NULL && failedlen > 0) {
		failed[0] = '\0';
	}
	return sup_spawn(spec, name, name != NULL ? name : "supervisor", link,
	    out, why, failed, failedlen);
}

int
trs_sup_start(const tr_sup_spec *spec, const char *name, const char *label,
    tr_ref *out, tr_reason *why, char *path, size_t pathlen)
{
	return sup_spawn(spec, name, label, true, out, why, path, pathlen);
}
