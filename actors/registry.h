/*
 * registry.h -- private to troupe: the table of this process's contexts
 * (registry.c), node-wide names (names.c), placement (placement.c).  Not API.
 */
#ifndef TRI_REGISTRY_H
#define TRI_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"

/* Registry (registry.c): the one table of live contexts and names.    */

int tri_registry_init(void);
void tri_registry_fini(void);
/* Gives c a slot and gen (c->ref).  Takes a reference. */
int tri_registry_add(tri_ctx *c);
/* Removes c and its name; drops the registry's reference. */
void tri_registry_remove(tri_ctx *c);
/* A held context for ref, or NULL if it is not a live local one. */
tri_ctx *tri_registry_get(tr_ref ref);
/* Held contexts of live actors, newest first; caller frees the array
 * and releases each. */
int tri_registry_actors(tri_ctx ***out, size_t *n);
/* The same with every context, main ones too. */
int tri_registry_all(tri_ctx ***out, size_t *n);

/* Names, node-wide (names.c). */
int tri_names_open(bool create);
void tri_names_close(void);
int tri_names_add(const char *name, tr_ref ref);
int tri_names_remove(const char *name);
int tri_names_find(const char *name, tr_ref *out);
void tri_names_drop_ref(tr_ref ref);
void tri_names_drop_proc(uint32_t proc);
void tri_names_of(tr_ref ref, char *buf, size_t len);

/* Placement (placement.c). */
tr_placement tri_placement_choose(const tr_spec *spec);

#endif
