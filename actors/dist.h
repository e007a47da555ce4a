/*
 * dist.h -- private to troupe: this node among other nodes (dist*.c).
 * Not API.
 */
#ifndef TRI_DIST_H
#define TRI_DIST_H

#include <stdbool.h>

#include "troupe.h"

/* Whether node (a tr_spec.node) names this node. */
bool tri_dist_is_self(const char *node);
/* tr_spawn() of a spec whose node is another one. */
int tri_dist_spawn(const tr_spec *spec, tr_ref *out, tr_reason *why);

#endif
