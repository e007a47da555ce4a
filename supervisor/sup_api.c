/*
 * sup_api.c -- the calls to a running supervisor: dynamic children and
 * the list of children (the supervisor's side is in supervisor.c).
 */
#include <stdio.h>
#include <string.h>

#include "sup_spec.h"
#include "troupe.h"

static int
sup_call(tr_ref sup_ref, uint32_t tag, tr_msg *req, tr_ref *ref, tr_reason *why)
{
	tr_msg *reply;
	msgpack_object o;
	bool sent;
	int rv;

	(void)tag;
	if ((rv = tr_call(sup_ref, req, TR_FOREVER, &reply, &sent)) != TR_OK) {
		if (!sent) {
			tr_msg_free(req);
		}
		return rv;
	}
	if (tr_msg_body(reply, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY ||
	    o.via.array.size != 4) {
		tr_msg_free(reply);
		return TR_EPROTO;
	}
	rv = (int)o.via.array.ptr[0].via.i64;
	if (ref != NULL) {
		tr_unpack_ref(&o.via.array.ptr[1], ref);
	}
	if (why != NULL && rv == TR_EINIT) {
		why->kind = (tr_exit_kind)o.via.array.ptr[2].via.i64;
		why->code = (int32_t)o.via.array.ptr[3].via.i64;
	}
	tr_msg_free(reply);
	return rv;
}

int
tr_sup_start_child(tr_ref sup_ref, const tr_child_spec *child_spec, tr_ref *out,
    tr_reason *why)
{
	tr_msg *req;
	int rv;

	if (tr_ref_is_nil(sup_ref)) {
		return TR_EINVAL;
	}
	if ((rv = tr_msg_new(&req, TAG_START_CHILD)) != TR_OK) {
		return rv;
	}
	msgpack_pack_uint64(
	    tr_msg_packer(req), (uint64_t)(uintptr_t)child_spec);
	return sup_call(sup_ref, TAG_START_CHILD, req, out, why);
}

static int
by_id(tr_ref sup_ref, uint32_t tag, const char *id, tr_ref *out)
{
	tr_msg *req;
	int rv;

	if (tr_ref_is_nil(sup_ref) || id == NULL || id[0] == '\0' ||
	    strlen(id) > TR_NAME_MAX) {
		return TR_EINVAL;
	}
	if ((rv = tr_msg_new(&req, tag)) != TR_OK) {
		return rv;
	}
	msgpack_pack_str_with_body(tr_msg_packer(req), id, strlen(id));
	return sup_call(sup_ref, tag, req, out, NULL);
}

int
tr_sup_terminate_child(tr_ref sup_ref, const char *id)
{
	return by_id(sup_ref, TAG_TERMINATE_CHILD, id, NULL);
}

int
tr_sup_restart_child(tr_ref sup_ref, const char *id, tr_ref *out)
{
	return by_id(sup_ref, TAG_RESTART_CHILD, id, out);
}

int
tr_sup_delete_child(tr_ref sup_ref, const char *id)
{
	return by_id(sup_ref, TAG_DELETE_CHILD, id, NULL);
}

int
tr_sup_children(tr_ref sup_ref, tr_child_info *out, size_t max, size_t *n)
{
	return trs_sup_children_timed(sup_ref, out, NULL, max, n, TR_FOREVER);
}

int
trs_sup_children_timed(tr_ref sup_ref, tr_child_info *out,
    trs_child_where *where, size_t max, size_t *n, int timeout_ms)
{
	tr_msg *req, *reply;
	msgpack_object o;
	bool sent;
	int rv;

	if (tr_ref_is_nil(sup_ref) || n == NULL || (out == NULL && max > 0)) {
		return TR_EINVAL;
	}
	if ((rv = tr_msg_new(&req, TAG_CHILDREN)) != TR_OK) {
		return rv;
	}
	if ((rv = tr_call(sup_ref, req, timeout_ms, &reply, &sent)) != TR_OK) {
		if (!sent) {
			tr_msg_free(req);
		}
		return rv;
	}
	if (tr_msg_body(reply, &o) == TR_OK &&
	    o.type == MSGPACK_OBJECT_POSITIVE_INTEGER && o.via.u64 != 0 &&
	    o.via.u64 <= TR_ERESOURCE) {
		/* The supervisor could not list them: why. */
		rv = (int)o.via.u64;
		tr_msg_free(reply);
		return rv;
	}
	if (tr_msg_body(reply, &o) != TR_OK || o.type != MSGPACK_OBJECT_ARRAY) {
		tr_msg_free(reply);
		return TR_EPROTO;
	}
	*n = o.via.array.size;
	for (uint32_t i = 0; i < o.via.array.size && i < max; i++) {
		const msgpack_object *e = &o.via.array.ptr[i];
		tr_child_info *ci = &out[i];
		const msgpack_object *node;
		if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 8) {
			tr_msg_free(reply);
			return TR_EPROTO;
		}
		memset(ci, 0, sizeof(*ci));
		snprintf(ci->id, sizeof(ci->id), "%.*s",
		    (int)e->via.array.ptr[0].via.str.size,
		    e->via.array.ptr[0].via.str.ptr);
		tr_unpack_ref(&e->via.array.ptr[1], &ci->ref);
		ci->state = (tr_child_state)e->via.array.ptr[2].via.i64;
		ci->placement = (tr_placement)e->via.array.ptr[3].via.i64;
		ci->supervisor = e->via.array.ptr[4].via.i64 != 0;
		ci->restarts = (uint32_t)e->via.array.ptr[5].via.u64;
		ci->uptime_ms = e->via.array.ptr[6].via.u64;
		node = &e->via.array.ptr[7];
		if (where != NULL) {
			memset(&where[i], 0, sizeof(where[i]));
			where[i].unplaced = node->type != MSGPACK_OBJECT_STR;
			if (node->type == MSGPACK_OBJECT_STR) {
				snprintf(where[i].node, sizeof(where[i].node),
				    "%.*s", (int)node->via.str.size,
				    node->via.str.ptr);
			}
		}
	}
	tr_msg_free(reply);
	return TR_OK;
}
