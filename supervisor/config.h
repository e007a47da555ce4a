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

/* The file's `cluster:` map (config_cluster.c), with errors reported at
 * its keys and values; NULL if it is not a map (reported) or out of
 * memory (d->nomem).  TROUPE_NODE, if set, is the node's name. */
typedef struct trc_cluster trc_cluster;
trc_cluster *trc_load_cluster(trc_doc *d, yaml_node_t *map);
/* Its options for tr_init (its strings are c's); NULL for NULL. */
const tr_cluster_opts *trc_cluster_opts(const trc_cluster *c);
void trc_free_cluster(trc_cluster *c);
/* A child's `node` or `nodes` into c->start.node or c->nodes; clustered:
 * the file has a `cluster:` map (they need one). */
void trc_load_child_nodes(
    trc_doc *d, yaml_node_t *m, tr_child_spec *c, bool clustered);

/* A listening socket of the file's `sockets:` (tree_sockets.c). */
typedef struct trc_socket {
	char *name;
	char host[64]; /* a numeric address */
	uint16_t port; /* the port asked for; once open, the one it has */
	size_t line;   /* in the file, for errors at open time */
	int fd;        /* -1 until open */
} trc_socket;

/* The `sockets:` map into *n sockets (malloc'd, NULL if none), with
 * errors reported at their keys and values. */
trc_socket *trc_load_sockets(trc_doc *d, yaml_node_t *map, size_t *n);
void trc_free_sockets(trc_socket *v, size_t n);
/* Opens them (before tr_init(), so that fork members inherit them) and
 * publishes them in the environment for tr_tree_socket(); logs each to
 * stderr.  On failure closes what it opened, says why on stderr (with
 * file and line), and returns the error. */
int trc_open_sockets(trc_socket *v, size_t n, const char *file);
void trc_close_sockets(trc_socket *v, size_t n);
/* The sockets of a loaded tree (config.c). */
trc_socket *trc_tree_sockets(tr_tree *tree, size_t *n);

#endif
