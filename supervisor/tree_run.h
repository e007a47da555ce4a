/* tree_run.h -- private to troupe: the control socket's path.  Not API. */
#ifndef TRS_TREE_RUN_H
#define TRS_TREE_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "troupe.h"

/* <run base>/<tree>.ctl.  TR_EINVAL for a name that is not a file name
 * (empty, ".", "..", or with a '/'). */
int trs_ctl_path(const char *tree, char *out, size_t len);

/* tree_name.c: a tree's name, claimed by its running tree for its life
 * (a lock on <run base>/<tree>.pid, which holds its pid; the kernel drops
 * it when the process ends, however it ends).
 *
 * trs_tree_claim: TR_OK and *fd (keep it open; nothing else in this
 * process may open that file), or TR_EEXIST if a live tree holds the
 * name (*holder its pid; 0 if it could not be told), or an error of the
 * run base.  trs_tree_release: lets it go (removes the file), after the
 * tree has closed its control socket; fd < 0 does nothing.
 * trs_tree_probe: TR_OK if a tree of that name runs (*pid its pid, 0 if
 * unknown); TR_ENOENT if none does -- what a dead one left (its .ctl and
 * .pid) is removed. */
int trs_tree_claim(const char *tree, int *fd, int *holder);
void trs_tree_release(const char *tree, int fd);
int trs_tree_probe(const char *tree, int *pid);

/* tree_watch.c: the tree's watchdog.  An actor of the tree's process
 * whose callback has run TRS_BUSY_LOG_MS without returning (and without
 * waiting) is named on stderr, once per episode, and when it ends.  The
 * tree's main thread calls trs_watch_tick every TRS_WATCH_TICK_MS. */
#define TRS_BUSY_LOG_MS 1000
#define TRS_WATCH_TICK_MS 250
#define TRS_WATCH_PATH 512
typedef struct trs_watch trs_watch;
/* NULL if out of memory (the tree runs without). */
trs_watch *trs_watch_new(const char *tree, tr_ref root);
void trs_watch_tick(trs_watch *w);
void trs_watch_free(trs_watch *w);

/* A duration for people: "12.3s", "4m05s", "2h07m". */
void trs_fmt_ms(char *buf, size_t len, uint64_t ms);

#endif
