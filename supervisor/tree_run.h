/* tree_run.h -- private to troupe: the control socket's path.  Not API. */
#ifndef TRS_TREE_RUN_H
#define TRS_TREE_RUN_H

#include <stddef.h>

/* <run base>/<tree>.ctl */
int trs_ctl_path(const char *tree, char *out, size_t len);

#endif
