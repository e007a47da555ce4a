/* sup_spec.h -- private to troupe: supervisor spec copies.  Not API. */
#ifndef TRS_SUP_SPEC_H
#define TRS_SUP_SPEC_H

#include "troupe.h"

tr_sup_spec *trs_spec_dup(const tr_sup_spec *s);
void trs_spec_free(tr_sup_spec *s);
int trs_child_dup(tr_child_spec *dst, const tr_child_spec *src);
void trs_child_free(tr_child_spec *c);
/* Checks c as a child of a supervisor with that auto_shutdown. */
int trs_child_check(const tr_child_spec *c, tr_auto_shutdown auto_shutdown,
    char *err, size_t len);
/* Where a supervisor of spec s runs: thread or scheduled (auto
 * resolved as tr_sup_spec.placement says). */
tr_placement trs_sup_placement(const tr_sup_spec *s);
/* tr_sup_start for a child supervisor: linked, labelled for the log; on
 * TR_EINIT the path of the child that failed in path. */
int trs_sup_start(const tr_sup_spec *spec, const char *name, const char *label,
    tr_ref *out, tr_reason *why, char *path, size_t pathlen);

/* Where a child runs (or ran last), for troupe status: node "" for this
 * node; unplaced for a child with a list of nodes never placed yet. */
typedef struct trs_child_where {
	char node[TR_NAME_MAX + 1];
	bool unplaced;
} trs_child_where;

/* tr_sup_children, waiting at most timeout_ms (TR_FOREVER: as long as
 * it takes) for an answer: TR_ETIMEDOUT for a supervisor held up (by a
 * neighbour on its scheduler that does not return, say).  where (may be
 * NULL) gets each child's node, as out its info. */
int trs_sup_children_timed(tr_ref sup, tr_child_info *out,
    trs_child_where *where, size_t max, size_t *n, int timeout_ms);

/* Tags of the calls a supervisor answers (below the system range). */
enum {
	TAG_START_CHILD = 0xFFFE0001u,
	TAG_TERMINATE_CHILD,
	TAG_RESTART_CHILD,
	TAG_DELETE_CHILD,
	TAG_CHILDREN,
};

#endif
