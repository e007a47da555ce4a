/*
 * sup_nodes.c -- which node of the cluster a supervised child starts on.
 *
 * A child names one node (start.node), or several (nodes): "the first
 * of these that is up", looked at again at every start and restart, as
 * Erlang's distributed applications fail over to the next node of their
 * list.  The supervisor stays where it is and starts the child there,
 * linked; a node that goes down ends it with TR_EXIT_NOCONNECTION, and
 * its restart takes the next node that is up.  When none is, the start
 * fails like any other (TR_ENOCONN): OTP's rules retry it and count it
 * against the restart intensity -- which is why such children get a
 * backoff by default (sup_restart.c): without one, a partition would
 * use the intensity up in a few milliseconds and take the tree down.
 *
 * "Up" is tr_node_lookup's answer, this node's own name always is.
 */
#include <stdatomic.h>

#include "dist.h"
#include "sup_nodes.h"

static const trs_node_probe runtime_probe = {
    .is_self = tri_dist_is_self,
    .lookup = tr_node_lookup,
};

static _Atomic(const trs_node_probe *) hook;

void
trs_node_probe_set(const trs_node_probe *p)
{
	atomic_store(&hook, p);
}

static const trs_node_probe *
probe(void)
{
	const trs_node_probe *p = atomic_load(&hook);

	return p != NULL ? p : &runtime_probe;
}

int
trs_pick_node(
    const tr_child_spec *c, const trs_node_probe *p, const char **node)
{
	bool unsupported = true;

	if (p == NULL) {
		p = probe();
	}
	*node = NULL;
	if (c->nodes == NULL) {
		if (c->start.node != NULL && !p->is_self(c->start.node)) {
			*node = c->start.node;
		}
		return TR_OK;
	}
	if (c->nodes[0] == NULL) {
		return TR_EINVAL; /* tr_sup_check refuses it */
	}
	for (size_t i = 0; c->nodes[i] != NULL; i++) {
		uint32_t id;
		int rv;

		if (p->is_self(c->nodes[i])) {
			return TR_OK;
		}
		if ((rv = p->lookup(c->nodes[i], &id)) == TR_OK) {
			*node = c->nodes[i];
			return TR_OK;
		}
		/* TR_ENOCONN (known, down) and TR_ENOENT (not known yet)
		 * alike: the next one. */
		unsupported = unsupported && rv == TR_ENOTSUP;
	}
	return unsupported ? TR_ENOTSUP : TR_ENOCONN;
}

bool
trs_child_remote(const tr_child_spec *c)
{
	return c->nodes != NULL ||
	    (c->start.node != NULL && !probe()->is_self(c->start.node));
}
