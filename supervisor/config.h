/* config.h -- private to troupe: the parts of tr_tree_load.  Not API. */
#ifndef TRC_CONFIG_H
#define TRC_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "config_doc.h"
#include "troupe.h"

/*
 * The keys of child map m that make an actor (config_actor.c), into c:
 * behavior, command and the rest of c->start.  template: m is the
 * template of a simple_one_for_one supervisor.  *instances (1 if not
 * given) and *numbered (whether ids get .1 .. .n) say how many children
 * m makes.
 */
void trc_load_actor(trc_doc *d, yaml_node_t *m, tr_child_spec *c, bool template,
    uint32_t *instances, bool *numbered);

#endif
