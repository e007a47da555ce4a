/*
 * dist_svc.c -- what a node does for other nodes and for its own
 * actors about nodes: the node service (an actor that runs remote
 * spawns) and node monitors.
 *
 * A remote spawn is a call to the service of the node the spec names
 * (its ref comes in the handshake).  The request is a msgpack array:
 *
 *   [behavior|nil, placement, capacity, name|nil, trap_exits, isolated,
 *    init_tag, init_body (bin)|nil, program|nil, start_timeout_ms]
 *
 * and the answer [rv, ref, why_kind, why_code].  The service runs the
 * spawn on its node as a local one (so the placements are that node's,
 * and names are looked up there); a link asked for is made by the
 * spawner once the ref is back (a child that ended meanwhile answers
 * the link with noproc, which a supervisor handles as a failure).
 */
#include <msgpack.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "dist_impl.h"
#include "msg.h"
#include "runtime.h"
#include "target.h"

#define TAG_SPAWN (TR_TAG_SYSTEM - 16u)
#define SERVICE "troupe.node"

static bool
str_of(const msgpack_object *o, char *buf, size_t len)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= len ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL) {
		return false;
	}
	memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
	return true;
}

static int
answer(tr_msg *req, int rv, tr_ref ref, tr_reason why)
{
	tr_msg *m;
	msgpack_packer *pk;

	if (tr_msg_new(&m, TAG_SPAWN) != TR_OK) {
		return TR_OK;
	}
	pk = tr_msg_packer(m);
	msgpack_pack_array(pk, 4);
	msgpack_pack_int(pk, rv);
	(void)tr_pack_ref(pk, ref);
	msgpack_pack_int(pk, why.kind);
	msgpack_pack_int(pk, why.code);
	if (tr_reply(tr_msg_from(req), m) != TR_OK) {
		tr_msg_free(m);
	}
	return TR_OK;
}

static int
svc_spawn(tr_msg *req)
{
	static char behavior[TR_NAME_MAX + 1], name[TR_NAME_MAX + 1],
	    program[4096];
	msgpack_object o;
	const msgpack_object *a;
	tr_spec spec;
	tr_msg *init = NULL;
	tr_ref ref = TR_REF_NIL;
	tr_reason why = TR_REASON_NORMAL;
	int rv;

	memset(&spec, 0, sizeof(spec));
	if (tr_msg_body(req, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size != 10) {
		return answer(req, TR_EPROTO, ref, why);
	}
	a = o.via.array.ptr;
	if ((a[0].type != MSGPACK_OBJECT_NIL &&
	        !str_of(&a[0], behavior, sizeof(behavior))) ||
	    a[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    a[1].via.u64 > TR_PLACE_SCHEDULED ||
	    a[2].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    a[2].via.u64 > UINT32_MAX ||
	    (a[3].type != MSGPACK_OBJECT_NIL &&
	        !str_of(&a[3], name, sizeof(name))) ||
	    a[4].type != MSGPACK_OBJECT_BOOLEAN ||
	    a[5].type != MSGPACK_OBJECT_BOOLEAN ||
	    a[6].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    a[6].via.u64 > UINT32_MAX ||
	    (a[7].type != MSGPACK_OBJECT_NIL &&
	        a[7].type != MSGPACK_OBJECT_BIN) ||
	    (a[8].type != MSGPACK_OBJECT_NIL &&
	        !str_of(&a[8], program, sizeof(program))) ||
	    a[9].type != MSGPACK_OBJECT_POSITIVE_INTEGER ||
	    a[9].via.u64 > UINT32_MAX) {
		return answer(req, TR_EPROTO, ref, why);
	}
	spec.behavior = a[0].type == MSGPACK_OBJECT_NIL ? NULL : behavior;
	spec.placement = (tr_placement)a[1].via.u64;
	spec.mailbox_capacity = (uint32_t)a[2].via.u64;
	spec.name = a[3].type == MSGPACK_OBJECT_NIL ? NULL : name;
	spec.trap_exits = a[4].via.boolean;
	spec.isolated = a[5].via.boolean;
	spec.program = a[8].type == MSGPACK_OBJECT_NIL ? NULL : program;
	spec.start_timeout_ms = (uint32_t)a[9].via.u64;
	if (a[7].type == MSGPACK_OBJECT_BIN) {
		msgpack_packer *pk;
		if ((rv = tr_msg_new(&init, (uint32_t)a[6].via.u64)) != TR_OK) {
			return answer(req, rv, ref, why);
		}
		pk = tr_msg_packer(init);
		/* The bytes are one msgpack value already: appended raw. */
		if (a[7].via.bin.size > 0 &&
		    pk->callback(
		        pk->data, a[7].via.bin.ptr, a[7].via.bin.size) != 0) {
			tr_msg_free(init);
			return answer(req, TR_ENOMEM, ref, why);
		}
		spec.init_arg = init;
	}
	rv = tr_spawn(&spec, &ref, &why);
	tr_msg_free(init);
	return answer(req, rv, ref, why);
}

static int
svc_handle(void *state, tr_msg *msg)
{
	(void)state;
	if (tr_msg_tag(msg) == TAG_SPAWN && tr_msg_is_call(msg)) {
		return svc_spawn(msg);
	}
	return TR_OK; /* anything else: not ours to answer */
}

static const tr_behavior svc_behavior = {
    .name = SERVICE,
    .handle = svc_handle,
};

int
tri_dist_service_start(tr_ref *out)
{
	tr_spec spec;
	int rv;

	if ((rv = tr_behavior_register(&svc_behavior)) != TR_OK &&
	    rv != TR_EEXIST) {
		return rv;
	}
	memset(&spec, 0, sizeof(spec));
	spec.behavior = SERVICE;
	/* A spawn blocks until the new actor's init returned: a thread of
	 * its own, not a scheduler's. */
	spec.placement = TR_PLACE_THREAD;
	return tr_spawn(&spec, out, NULL);
}

int
tri_dist_service_of(const char *node, tr_ref *out, uint32_t *id)
{
	tri_peer *p;
	int rv;

	if (!tri_dist_on()) {
		return TR_ENOTSUP;
	}
	pthread_mutex_lock(&D.mtx);
	if ((p = tri_dist_find_locked(node)) == NULL) {
		rv = TR_ENOENT;
	} else if (!p->up) {
		rv = TR_ENOCONN;
	} else {
		*out = p->service;
		*id = p->id;
		rv = TR_OK;
	}
	pthread_mutex_unlock(&D.mtx);
	return rv;
}

static int
pack_request(tr_msg *m, const tr_spec *spec)
{
	msgpack_packer *pk = tr_msg_packer(m);

	msgpack_pack_array(pk, 10);
	if (spec->behavior != NULL) {
		msgpack_pack_str_with_body(
		    pk, spec->behavior, strlen(spec->behavior));
	} else {
		msgpack_pack_nil(pk);
	}
	msgpack_pack_unsigned_int(pk, spec->placement);
	msgpack_pack_uint32(pk, spec->mailbox_capacity);
	if (spec->name != NULL) {
		msgpack_pack_str_with_body(pk, spec->name, strlen(spec->name));
	} else {
		msgpack_pack_nil(pk);
	}
	if (spec->trap_exits) {
		msgpack_pack_true(pk);
	} else {
		msgpack_pack_false(pk);
	}
	if (spec->isolated) {
		msgpack_pack_true(pk);
	} else {
		msgpack_pack_false(pk);
	}
	if (spec->init_arg != NULL) {
		msgpack_pack_uint32(pk, tr_msg_tag(spec->init_arg));
		msgpack_pack_bin_with_body(pk, tr_msg_data(spec->init_arg),
		    tr_msg_size(spec->init_arg));
	} else {
		msgpack_pack_uint32(pk, 0);
		msgpack_pack_nil(pk);
	}
	if (spec->program != NULL) {
		msgpack_pack_str_with_body(
		    pk, spec->program, strlen(spec->program));
	} else {
		msgpack_pack_nil(pk);
	}
	msgpack_pack_uint32(pk, spec->start_timeout_ms);
	return TR_OK;
}

int
tri_dist_spawn(const tr_spec *spec, tr_ref *out, tr_reason *why)
{
	tr_ref svc;
	uint32_t id;
	tr_msg *req, *rep = NULL;
	msgpack_object o;
	const msgpack_object *a;
	int rv, timeout;
	bool sent;

	if (tri_self() == NULL) {
		return TR_ESTATE;
	}
	if (spec->argv != NULL || spec->env != NULL || spec->cwd != NULL ||
	    (spec->program != NULL && strlen(spec->program) >= 4096)) {
		return TR_EINVAL; /* not carried yet: refused, not dropped */
	}
	if ((rv = tri_dist_service_of(spec->node, &svc, &id)) != TR_OK) {
		return rv == TR_ENOENT ? TR_ENOCONN : rv; /* unknown node */
	}
	if ((rv = tr_msg_new(&req, TAG_SPAWN)) != TR_OK) {
		return rv;
	}
	pack_request(req, spec);
	timeout =
	    (int)(spec->start_timeout_ms != 0 ? spec->start_timeout_ms : 5000) +
	    2000;
	rv = tr_call(svc, req, timeout, &rep, &sent);
	if (!sent) {
		tr_msg_free(req);
	}
	if (rv == TR_ENOPROC) {
		return TR_ENOCONN; /* the node went down meanwhile */
	}
	if (rv != TR_OK) {
		return rv;
	}
	if (tr_msg_body(rep, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size != 4 ||
	    (a = o.via.array.ptr,
	        a[0].type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
	            a[0].type != MSGPACK_OBJECT_NEGATIVE_INTEGER) ||
	    tr_unpack_ref(&a[1], out) != TR_OK ||
	    (a[2].type != MSGPACK_OBJECT_POSITIVE_INTEGER) ||
	    (a[3].type != MSGPACK_OBJECT_POSITIVE_INTEGER &&
	        a[3].type != MSGPACK_OBJECT_NEGATIVE_INTEGER)) {
		tr_msg_free(rep);
		return TR_EPROTO;
	}
	rv = (int)a[0].via.i64;
	if (why != NULL) {
		*why = TR_REASON(
		    (tr_exit_kind)a[2].via.u64, (int32_t)a[3].via.i64);
	}
	tr_msg_free(rep);
	if (rv == TR_OK && spec->link && !tr_ref_is_nil(*out)) {
		(void)tr_link(*out); /* one already gone answers noproc */
	}
	return rv;
}

/* ------------------------------------------------------------------ */
/* Node monitors                                                       */

typedef struct nodemon {
	tr_ref watcher;
	char name[TR_NAME_MAX + 1];
} nodemon;

static pthread_mutex_t mons_mtx = PTHREAD_MUTEX_INITIALIZER;
static nodemon *mons;
static size_t nmons, cmons;

/* Tells watcher that node name (id) went up or down: a message past
 * capacity, as a delayed send is. */
static int
tell(tr_ref watcher, const char *name, uint32_t id, bool up)
{
	uint8_t body[TR_NAME_MAX + 16];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	tri_target t;
	tri_frame f;
	int rv;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_str_with_body(&pk, name, strlen(name));
	msgpack_pack_uint32(&pk, id);
	memcpy(body, sb.data, sb.size < sizeof(body) ? sb.size : sizeof(body));
	memset(&f, 0, sizeof(f));
	f.kind = TRI_K_TIMER;
	f.tag = up ? TR_TAG_NODEUP : TR_TAG_NODEDOWN;
	f.dest = watcher;
	f.body = body;
	f.body_len = (uint32_t)sb.size;
	msgpack_sbuffer_destroy(&sb);
	if ((rv = tri_target_get(watcher, &t)) != TR_OK) {
		return rv;
	}
	rv = tri_target_deliver(&t, &f);
	tri_target_put(&t);
	return rv;
}

void
tri_dist_tell_monitors(const char *name, uint32_t id, bool up)
{
	pthread_mutex_lock(&mons_mtx);
	for (size_t i = 0; i < nmons;) {
		if (strcmp(mons[i].name, name) == 0 &&
		    tell(mons[i].watcher, name, id, up) == TR_ENOPROC) {
			mons[i] = mons[--nmons]; /* its watcher is gone */
		} else {
			i++;
		}
	}
	pthread_mutex_unlock(&mons_mtx);
}

int
tr_node_monitor(const char *name, bool on)
{
	tri_ctx *self = tri_self();
	uint32_t id;
	size_t i;

	if (name == NULL || name[0] == '\0' || strlen(name) > TR_NAME_MAX) {
		return TR_EINVAL;
	}
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if (self == NULL || !tri_rt.is_root) {
		return TR_ESTATE;
	}
	if (!tri_dist_on()) {
		return TR_ENOTSUP;
	}
	pthread_mutex_lock(&mons_mtx);
	for (i = 0; i < nmons; i++) {
		if (tr_ref_equal(mons[i].watcher, self->ref) &&
		    strcmp(mons[i].name, name) == 0) {
			break;
		}
	}
	if (!on) {
		if (i < nmons) {
			mons[i] = mons[--nmons];
		}
		pthread_mutex_unlock(&mons_mtx);
		return TR_OK;
	}
	if (i == nmons) {
		if (nmons == cmons) {
			size_t n = cmons ? cmons * 2 : 16;
			nodemon *v = tri_realloc(mons, n * sizeof(*v));
			if (v == NULL) {
				pthread_mutex_unlock(&mons_mtx);
				return TR_ENOMEM;
			}
			mons = v;
			cmons = n;
		}
		mons[nmons].watcher = self->ref;
		snprintf(
		    mons[nmons].name, sizeof(mons[nmons].name), "%s", name);
		nmons++;
		if (tr_node_lookup(name, &id) == TR_OK) {
			(void)tell(self->ref, name, id, true);
		}
	}
	pthread_mutex_unlock(&mons_mtx);
	return TR_OK;
}

void
tri_dist_monitors_fini(void)
{
	pthread_mutex_lock(&mons_mtx);
	tri_free(mons);
	mons = NULL;
	nmons = cmons = 0;
	pthread_mutex_unlock(&mons_mtx);
}
