/*
 * dist_api.c -- the cluster's public calls: this node's id, the nodes
 * it knows, lookups, and names unique in the cluster (etcd).  See
 * dist.h; node monitors are in dist_svc.c.
 */
#include <stdio.h>
#include <string.h>

#include "dist_impl.h"
#include "members.h"
#include "runtime.h"

uint32_t
tr_node_id(void)
{
	return tri_running() ? tri_rt.node : 0;
}

int
tr_nodes(tr_node_info *out, size_t max, size_t *n)
{
	size_t k = 0;
	uint64_t now = tri_now_ms();

	if (n == NULL || (out == NULL && max > 0)) {
		return TR_EINVAL;
	}
	*n = 0;
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if (!tri_rt.is_root) {
		return TR_ESTATE;
	}
	if (!tri_dist_on()) {
		return TR_ENOTSUP;
	}
	pthread_mutex_lock(&D.mtx);
	for (uint32_t i = 0; i < D.npeers; i++) {
		tri_peer *p = &D.peers[i];
		if (!p->used) {
			continue;
		}
		if (k < max) {
			tr_node_info *v = &out[k];
			uint64_t heard = atomic_load(&p->last_heard);
			memset(v, 0, sizeof(*v));
			snprintf(v->name, sizeof(v->name), "%s", p->name);
			snprintf(v->url, sizeof(v->url), "%s", p->url);
			v->id = p->id;
			v->state = p->state;
			v->last_heard_ms = heard == 0 ? UINT64_MAX :
			    heard > now               ? 0 :
			                                now - heard;
			v->rtt_us = atomic_load(&p->rtt_us);
			v->sessions = atomic_load(&p->sessions);
			v->frames_in = atomic_load(&p->frames_in);
			v->frames_out = atomic_load(&p->frames_out);
		}
		k++;
	}
	pthread_mutex_unlock(&D.mtx);
	*n = k;
	return TR_OK;
}

int
tr_node_lookup(const char *name, uint32_t *id)
{
	tr_ref service;

	if (name == NULL || id == NULL) {
		return TR_EINVAL;
	}
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if (!tri_dist_on()) {
		return TR_ENOTSUP;
	}
	if (strcmp(name, D.name) == 0) {
		*id = tri_rt.node;
		return TR_OK;
	}
	return tri_dist_service_of(name, &service, id);
}

static int
global_check(const char *name)
{
	if (name == NULL || name[0] == '\0' || strlen(name) > TR_NAME_MAX) {
		return TR_EINVAL;
	}
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if (!tri_dist_on() || D.members == NULL) {
		return TR_ENOTSUP;
	}
	return TR_OK;
}

int
tr_register_global(const char *name, tr_ref ref)
{
	int rv;

	if (tr_ref_is_nil(ref)) {
		return TR_EINVAL;
	}
	if ((rv = global_check(name)) != TR_OK) {
		return rv;
	}
	return tri_members_register(D.members, name, ref);
}

int
tr_unregister_global(const char *name)
{
	int rv;

	if ((rv = global_check(name)) != TR_OK) {
		return rv;
	}
	return tri_members_unregister(D.members, name);
}

int
tr_whereis_global(const char *name, tr_ref *out)
{
	int rv;

	if (out == NULL) {
		return TR_EINVAL;
	}
	if ((rv = global_check(name)) != TR_OK) {
		return rv;
	}
	return tri_members_whereis(D.members, name, out);
}
