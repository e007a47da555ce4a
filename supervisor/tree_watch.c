/*
 * tree_watch.c -- the running tree's watchdog: says on stderr when an
 * actor of the tree's process has been in one callback for
 * TRS_BUSY_LOG_MS or more without returning, and not waiting -- a
 * scheduled actor that computes, or blocks in a system call, holds up
 * the others of its scheduler thread -- once per episode, and again
 * when that ends:
 *
 *   troupe: demo: 'pool/w.3' is busy: one callback has run 1.2s
 *   without returning (scheduled: the other actors of its scheduler
 *   thread wait)
 *   troupe: demo: 'pool/w.3' is no longer busy, after 4.1s
 *
 * The busy ones are found in the slot table (busy.h), asking no one; an
 * actor's path in the tree is then looked for from the root with calls
 * that give up after a while, since a supervisor on the busy actor's
 * scheduler may not answer.  One that is not found (not the tree's
 * child, or behind such a supervisor) is named by its behavior.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "busy.h"
#include "sup_spec.h"
#include "tree_run.h"

/* Episodes followed at once; busy actors past these are not named. */
#define WATCH_MAX 64
/* How long a supervisor may take to list its children to the watch. */
#define WATCH_CALL_MS 250

typedef struct episode {
	tr_ref ref;
	uint64_t ms; /* how long its callback had run, last seen */
	char path[TRS_WATCH_PATH];
} episode;

struct trs_watch {
	char tree[TR_NAME_MAX + 1];
	tr_ref root;
	episode ep[WATCH_MAX];
	size_t nep;
	/* This tick's busy actors. */
	episode now[WATCH_MAX];
	size_t nnow;
};

void
trs_fmt_ms(char *buf, size_t len, uint64_t ms)
{
	if (ms < 60000) {
		snprintf(buf, len, "%.1fs", (double)ms / 1000.0);
	} else if (ms < 3600000) {
		snprintf(buf, len, "%llum%02llus",
		    (unsigned long long)(ms / 60000),
		    (unsigned long long)(ms / 1000 % 60));
	} else {
		snprintf(buf, len, "%lluh%02llum",
		    (unsigned long long)(ms / 3600000),
		    (unsigned long long)(ms / 60000 % 60));
	}
}

trs_watch *
trs_watch_new(const char *tree, tr_ref root)
{
	trs_watch *w = tri_calloc(1, sizeof(*w));

	if (w != NULL) {
		snprintf(w->tree, sizeof(w->tree), "%s", tree);
		w->root = root;
	}
	return w;
}

void
trs_watch_free(trs_watch *w)
{
	tri_free(w);
}

static void
seen(void *arg, tr_ref ref, uint64_t ms, bool waiting)
{
	trs_watch *w = arg;

	if (!waiting && w->nnow < WATCH_MAX) {
		w->now[w->nnow].ref = ref;
		w->now[w->nnow].ms = ms;
		w->now[w->nnow].path[0] = '\0';
		w->nnow++;
	}
}

/* Looks for ref among the children of sup (prefix: its path, "" or
 * "sub/"), depth first. */
static bool
find_path(tr_ref sup, tr_ref ref, const char *prefix, char *path, size_t len,
    int depth)
{
	tr_child_info *v = NULL;
	size_t cap = 64, n = 0;
	bool found = false;

	if (depth > 32) {
		return false;
	}
	for (;;) {
		tr_child_info *nv = tri_realloc(v, cap * sizeof(*v));
		if (nv == NULL) {
			tri_free(v);
			return false;
		}
		v = nv;
		if (trs_sup_children_timed(
		        sup, v, NULL, cap, &n, WATCH_CALL_MS) != TR_OK) {
			tri_free(v);
			return false; /* held up, or gone */
		}
		if (n <= cap) {
			break;
		}
		cap = n;
	}
	for (size_t i = 0; i < n && !found; i++) {
		if (tr_ref_equal(v[i].ref, ref)) {
			snprintf(path, len, "%s%s", prefix, v[i].id);
			found = true;
		}
	}
	for (size_t i = 0; i < n && !found; i++) {
		char sub[TRS_WATCH_PATH];
		if (!v[i].supervisor || tr_ref_is_nil(v[i].ref) ||
		    (size_t)snprintf(sub, sizeof(sub), "%s%s/", prefix,
		        v[i].id) >= sizeof(sub)) {
			continue;
		}
		found = find_path(v[i].ref, ref, sub, path, len, depth + 1);
	}
	tri_free(v);
	return found;
}

/* How to name e in the log: its path, else what it runs. */
static void
name_of(trs_watch *w, episode *e, tr_actor_info *info)
{
	if (find_path(
	        w->root, e->ref, "", e->path + 1, sizeof(e->path) - 2, 0)) {
		e->path[0] = '\'';
		strcat(e->path, "'");
	} else {
		snprintf(e->path, sizeof(e->path), "an actor of behavior '%s'",
		    info->behavior);
	}
}

void
trs_watch_tick(trs_watch *w)
{
	w->nnow = 0;
	if (tri_busy_scan(TRS_BUSY_LOG_MS, seen, w) != TR_OK) {
		return;
	}
	/* Episodes over: no longer busy, or busy again since (a shorter
	 * time: another callback). */
	for (size_t i = 0; i < w->nep;) {
		episode *e = &w->ep[i];
		size_t k;
		for (k = 0; k < w->nnow; k++) {
			if (tr_ref_equal(w->now[k].ref, e->ref)) {
				break;
			}
		}
		if (k < w->nnow && w->now[k].ms >= e->ms) {
			e->ms = w->now[k].ms;
			i++;
			continue;
		}
		{
			char t[32];
			trs_fmt_ms(t, sizeof(t), e->ms);
			fprintf(stderr,
			    "troupe: %s: %s is no longer busy, after %s\n",
			    w->tree, e->path, t);
		}
		*e = w->ep[--w->nep];
	}
	/* New episodes. */
	for (size_t k = 0; k < w->nnow; k++) {
		tr_actor_info info;
		episode *e;
		char t[32];
		size_t i;
		for (i = 0; i < w->nep; i++) {
			if (tr_ref_equal(w->ep[i].ref, w->now[k].ref)) {
				break;
			}
		}
		if (i < w->nep || w->nep == WATCH_MAX ||
		    tr_actor_info_get(w->now[k].ref, &info) != TR_OK) {
			continue; /* followed already, too many, or gone */
		}
		e = &w->ep[w->nep++];
		*e = w->now[k];
		name_of(w, e, &info);
		trs_fmt_ms(t, sizeof(t), e->ms);
		fprintf(stderr,
		    "troupe: %s: %s is busy: one callback has run %s without "
		    "returning%s\n",
		    w->tree, e->path, t,
		    info.placement == TR_PLACE_SCHEDULED ?
		        " (scheduled: the other actors of its scheduler thread "
		        "wait)" :
		        "");
	}
}
