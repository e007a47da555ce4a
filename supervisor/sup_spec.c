/*
 * sup_spec.c -- supervisor and child specs: checked, copied, freed.
 *
 * A supervisor keeps its own deep copy of every spec it was given, so
 * the caller's strings and messages need live only for the call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "sup_map.h"
#include "sup_spec.h"

static char *
dup_str(const char *s, bool *ok)
{
	char *d;

	if (s == NULL) {
		return NULL;
	}
	if ((d = tri_strdup(s)) == NULL) {
		*ok = false;
	}
	return d;
}

static const char *const *
dup_strv(const char *const *v, bool *ok)
{
	size_t n = 0;
	char **d;

	if (v == NULL) {
		return NULL;
	}
	while (v[n] != NULL) {
		n++;
	}
	if ((d = tri_calloc(n + 1, sizeof(*d))) == NULL) {
		*ok = false;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		d[i] = dup_str(v[i], ok);
	}
	return (const char *const *)d;
}

static void
free_strv(const char *const *v)
{
	if (v != NULL) {
		for (size_t i = 0; v[i] != NULL; i++) {
			tri_free((void *)v[i]);
		}
		tri_free((void *)v);
	}
}

void
trs_child_free(tr_child_spec *c)
{
	tri_free((void *)c->id);
	tri_free((void *)c->start.behavior);
	tri_free((void *)c->start.name);
	tri_free((void *)c->start.program);
	tri_free((void *)c->start.cwd);
	tri_free((void *)c->start.node);
	free_strv(c->nodes);
	free_strv(c->start.argv);
	free_strv(c->start.env);
	tr_msg_free((tr_msg *)c->start.init_arg);
	if (c->sup != NULL) {
		trs_spec_free((tr_sup_spec *)c->sup);
	}
	memset(c, 0, sizeof(*c));
}

int
trs_child_dup(tr_child_spec *d, const tr_child_spec *s)
{
	bool ok = true;

	*d = *s;
	d->id = dup_str(s->id, &ok);
	d->start.behavior = dup_str(s->start.behavior, &ok);
	d->start.name = dup_str(s->start.name, &ok);
	d->start.program = dup_str(s->start.program, &ok);
	d->start.cwd = dup_str(s->start.cwd, &ok);
	d->start.node = dup_str(s->start.node, &ok);
	d->nodes = dup_strv(s->nodes, &ok);
	d->start.argv = dup_strv(s->start.argv, &ok);
	d->start.env = dup_strv(s->start.env, &ok);
	d->start.init_arg = NULL;
	d->sup = NULL;
	if (s->start.init_arg != NULL) {
		tr_msg *m;
		if (tr_msg_dup(&m, s->start.init_arg) == TR_OK) {
			d->start.init_arg = m;
		} else {
			ok = false;
		}
	}
	if (s->sup != NULL && (d->sup = trs_spec_dup(s->sup)) == NULL) {
		ok = false;
	}
	if (!ok) {
		trs_child_free(d);
		return TR_ENOMEM;
	}
	return TR_OK;
}

void
trs_spec_free(tr_sup_spec *s)
{
	if (s == NULL) {
		return;
	}
	for (size_t i = 0; i < s->nchildren; i++) {
		trs_child_free((tr_child_spec *)&s->children[i]);
	}
	tri_free((void *)s->children);
	tri_free(s);
}

tr_sup_spec *
trs_spec_dup(const tr_sup_spec *s)
{
	tr_sup_spec *d = tri_calloc(1, sizeof(*d));
	tr_child_spec *kids;

	if (d == NULL) {
		return NULL;
	}
	*d = *s;
	d->children = NULL;
	d->nchildren = 0;
	if (s->nchildren == 0) {
		return d;
	}
	if ((kids = tri_calloc(s->nchildren, sizeof(*kids))) == NULL) {
		tri_free(d);
		return NULL;
	}
	d->children = kids;
	for (size_t i = 0; i < s->nchildren; i++) {
		if (trs_child_dup(&kids[i], &s->children[i]) != TR_OK) {
			trs_spec_free(d);
			return NULL;
		}
		d->nchildren++;
	}
	return d;
}

static int
fail(char *err, size_t len, const char *fmt, const char *id, const char *what)
{
	if (err != NULL && len > 0) {
		snprintf(err, len, fmt, id != NULL ? id : "?", what);
	}
	return TR_EINVAL;
}

int
trs_child_check(const tr_child_spec *c, tr_auto_shutdown auto_shutdown,
    char *err, size_t len)
{
	size_t n;
	bool has_start = c->start.behavior != NULL || c->start.program != NULL;

	if (c->id == NULL || (n = strlen(c->id)) == 0 || n > TR_NAME_MAX) {
		return fail(err, len, "child '%s': %s", c->id,
		    "id missing, empty, or longer than 64 bytes");
	}
	if ((unsigned)c->restart > TR_TEMPORARY) {
		return fail(
		    err, len, "child '%s': %s", c->id, "unknown restart type");
	}
	if (c->shutdown_ms < TR_SHUTDOWN_INFINITY) {
		return fail(
		    err, len, "child '%s': %s", c->id, "negative shutdown");
	}
	if (has_start == (c->sup != NULL)) {
		return fail(err, len, "child '%s': %s", c->id,
		    "needs exactly one of a behavior or program, or a "
		    "supervisor");
	}
	if ((unsigned)c->start.placement > TR_PLACE_SCHEDULED) {
		return fail(
		    err, len, "child '%s': %s", c->id, "unknown placement");
	}
	if (c->significant && c->restart == TR_PERMANENT) {
		return fail(err, len, "child '%s': %s", c->id,
		    "a significant child must be transient or temporary");
	}
	if (c->significant && auto_shutdown == TR_AUTO_NEVER) {
		/* OTP refuses it: it could never be significant. */
		return fail(err, len, "child '%s': %s", c->id,
		    "significant, but its supervisor's auto_shutdown is "
		    "never");
	}
	if (c->sup != NULL && (c->nodes != NULL || c->start.node != NULL)) {
		/* Its spec travels by address, and it links to us. */
		return fail(err, len, "child '%s': %s", c->id,
		    "a supervisor child runs in its supervisor's process: "
		    "no node or nodes");
	}
	if (c->nodes != NULL && c->nodes[0] == NULL) {
		return fail(err, len, "child '%s': %s", c->id,
		    "nodes is empty (NULL for none)");
	}
	for (size_t i = 0; c->nodes != NULL && c->nodes[i] != NULL; i++) {
		if ((n = strlen(c->nodes[i])) == 0 || n > TR_NAME_MAX) {
			return fail(err, len, "child '%s': %s", c->id,
			    "a node in nodes is empty or longer than 64 bytes");
		}
	}
	if (c->sup != NULL) {
		char sub[256];
		if (tr_sup_check(c->sup, sub, sizeof(sub)) != TR_OK) {
			return fail(err, len, "child '%s': %s", c->id, sub);
		}
	}
	return TR_OK;
}

static bool
same_id(const void *v, const void *arg)
{
	return strcmp(((const tr_child_spec *)v)->id, arg) == 0;
}

/* Whether child i's id is an earlier child's: by a hash of the ids
 * (m, filled as i goes), so that 10^5 children cost O(n); one after
 * the other if there was no memory for the map (m->cap == 0). */
static bool
earlier_id(trs_map *m, const tr_sup_spec *s, size_t i)
{
	const tr_child_spec *c = &s->children[i];
	uint64_t h;

	if (m->cap == 0) {
		for (size_t k = 0; k < i; k++) {
			if (strcmp(s->children[k].id, c->id) == 0) {
				return true;
			}
		}
		return false;
	}
	h = trs_hash_str(c->id);
	if (trs_map_find(m, h, same_id, c->id) != NULL) {
		return true;
	}
	trs_map_put(m, h, (void *)c);
	return false;
}

int
tr_sup_check(const tr_sup_spec *s, char *err, size_t len)
{
	trs_map ids = {0};
	int rv = TR_OK;

	if (err != NULL && len > 0) {
		err[0] = '\0';
	}
	if (s == NULL) {
		return fail(err, len, "%s%s", "", "no spec");
	}
	if ((unsigned)s->strategy > TR_SIMPLE_ONE_FOR_ONE) {
		return fail(err, len, "%s%s", "", "unknown strategy");
	}
	if ((unsigned)s->auto_shutdown > TR_AUTO_ALL_SIGNIFICANT) {
		return fail(err, len, "%s%s", "", "unknown auto_shutdown");
	}
	if (s->backoff_max_ms != 0 &&
	    s->backoff_max_ms < s->backoff_initial_ms) {
		return fail(err, len, "%s%s", "",
		    "backoff maximum below its initial delay");
	}
	if (s->placement != TR_PLACE_AUTO && s->placement != TR_PLACE_THREAD &&
	    s->placement != TR_PLACE_SCHEDULED) {
		/* Its specs travel by address: it runs in this process. */
		return fail(err, len, "%s%s", "",
		    "a supervisor's placement is auto, thread or scheduled");
	}
	if (s->nchildren > 0 && s->children == NULL) {
		return fail(err, len, "%s%s", "", "children missing");
	}
	if (s->strategy == TR_SIMPLE_ONE_FOR_ONE && s->nchildren != 1) {
		return fail(err, len, "%s%s", "",
		    "simple_one_for_one needs exactly one child spec (the "
		    "template)");
	}
	if (s->strategy == TR_SIMPLE_ONE_FOR_ONE &&
	    s->auto_shutdown != TR_AUTO_NEVER) {
		/* OTP refuses it: its children come and go by design. */
		return fail(err, len,
		    "auto_shutdown must be never for simple_one_for_one "
		    "(template child '%s')%s",
		    s->children[0].id, "");
	}
	(void)trs_map_reserve(&ids, s->nchildren); /* else: one by one */
	for (size_t i = 0; i < s->nchildren && rv == TR_OK; i++) {
		if ((rv = trs_child_check(&s->children[i], s->auto_shutdown,
		         err, len)) == TR_OK &&
		    earlier_id(&ids, s, i)) {
			rv = fail(err, len, "child '%s': %s", s->children[i].id,
			    "duplicate id");
		}
	}
	trs_map_fini(&ids);
	return rv;
}

tr_placement
trs_sup_placement(const tr_sup_spec *s)
{
	const char *force;

	if (s->placement != TR_PLACE_AUTO) {
		return s->placement;
	}
	/* Not TROUPE_PLACEMENT's: a supervisor is no worker that fork or
	 * exec could take, and its own switch lets the scheduled leg of
	 * the suite choose (tests/meson.build). */
	force = getenv("TROUPE_SUP_PLACEMENT");
	return force != NULL && strcmp(force, "scheduled") == 0 ?
	    TR_PLACE_SCHEDULED :
	    TR_PLACE_THREAD;
}
