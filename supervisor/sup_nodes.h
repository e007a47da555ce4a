/*
 * sup_nodes.h -- private to troupe's supervisors: which node of the
 * cluster a child starts on (tr_child_spec.nodes, start.node).  Not API.
 */
#ifndef TRS_SUP_NODES_H
#define TRS_SUP_NODES_H

#include <stdbool.h>
#include <stdint.h>

#include "troupe.h"

/* A remote child's first backoff delay when its supervisor has none
 * (tr_child_spec.nodes says why). */
#define TRS_REMOTE_BACKOFF_MS 1000

/* What the pick asks about nodes: whether a name is this node's own, and
 * tr_node_lookup's answer for another. */
typedef struct trs_node_probe {
	bool (*is_self)(const char *node);
	int (*lookup)(const char *node, uint32_t *id);
} trs_node_probe;

/*
 * Where a child of spec c starts this time: TR_OK and *node NULL for
 * this node, else the name of the node (a string of c: start.node or an
 * element of c->nodes, valid as long as c).  With nodes, the first that
 * is this node or whose lookup answers TR_OK; none: TR_ENOCONN, or
 * TR_ENOTSUP if every lookup said so (this node is in no cluster).
 * Without nodes, start.node unless it names this node; tr_spawn says
 * whether it can be reached.  p NULL: the runtime's probe.
 */
int trs_pick_node(
    const tr_child_spec *c, const trs_node_probe *p, const char **node);

/* Whether c may run on another node than this one (nodes, or a
 * start.node that is not this node): its restarts default to a
 * backoff. */
bool trs_child_remote(const tr_child_spec *c);

/*
 * Test hook: the probe every supervisor of this process uses from now
 * on, instead of the runtime's (this node's name, tr_node_lookup); NULL
 * restores it.  p must outlive its use.  Process-wide; for white-box
 * tests, which cannot make a cluster.
 */
void trs_node_probe_set(const trs_node_probe *p);

#endif
