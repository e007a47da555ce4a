/*
 * dist.c -- this node among other nodes: the cluster's public calls.
 * (Being built: the calls answer as for a node alone.)
 */
#include <string.h>

#include "dist.h"
#include "runtime.h"

bool
tri_dist_is_self(const char *node)
{
	(void)node;
	return false;
}

int
tri_dist_spawn(const tr_spec *spec, tr_ref *out, tr_reason *why)
{
	(void)spec;
	(void)out;
	(void)why;
	return TR_ENOTSUP;
}

uint32_t
tr_node_id(void)
{
	return tri_running() ? tri_rt.node : 0;
}

int
tr_nodes(tr_node_info *out, size_t max, size_t *n)
{
	(void)out;
	(void)max;
	if (n == NULL) {
		return TR_EINVAL;
	}
	*n = 0;
	return tri_running() ? TR_ENOTSUP : TR_ECLOSED;
}

int
tr_node_lookup(const char *name, uint32_t *id)
{
	if (name == NULL || id == NULL) {
		return TR_EINVAL;
	}
	return tri_running() ? TR_ENOTSUP : TR_ECLOSED;
}

int
tr_node_monitor(const char *name, bool on)
{
	(void)on;
	if (name == NULL) {
		return TR_EINVAL;
	}
	return tri_running() ? TR_ENOTSUP : TR_ECLOSED;
}

int
tr_register_global(const char *name, tr_ref ref)
{
	(void)ref;
	if (name == NULL) {
		return TR_EINVAL;
	}
	return tri_running() ? TR_ENOTSUP : TR_ECLOSED;
}

int
tr_unregister_global(const char *name)
{
	if (name == NULL) {
		return TR_EINVAL;
	}
	return tri_running() ? TR_ENOTSUP : TR_ECLOSED;
}

int
tr_whereis_global(const char *name, tr_ref *out)
{
	if (name == NULL || out == NULL) {
		return TR_EINVAL;
	}
	return tri_running() ? TR_ENOTSUP : TR_ECLOSED;
}
