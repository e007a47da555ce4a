/*
 * config.c -- supervision trees read from YAML files (tr_tree_load).
 *
 * Walks the document config_doc.c read against the schema of
 * docs/config.md and builds the tr_sup_spec tree the supervisor takes:
 * the file, supervisors, and the keys every child has (an actor's own
 * are config_actor.c's).
 *
 * It does not stop at the first mistake: it goes on to the next key or
 * child, so that one run shows every error the file has.  What the
 * schema lets through and troupe still refuses (tr_sup_check) is
 * reported at the child or supervisor it concerns.
 *
 * Aliases can make a small file describe a large tree, or a loop; the
 * depth of supervisors and the number of children are bounded.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "internal.h"
#include "sup_map.h"
#include "sup_spec.h"

#define MAX_SUP_DEPTH 32   /* supervisors within supervisors */
#define MAX_CHILDREN 10000 /* children in the whole tree */
/* A scheduled actor's stack while it waits: fiber.c's least, and a
 * bound no one needs to pass. */
#define TRC_STACK_MIN (16u * 1024u)
#define TRC_STACK_MAX (1024u * 1024u * 1024u)

struct tr_tree {
	tr_sup_spec *spec;
	char *name;
	/* The file's `runtime:` map (tr_tree_options): what it gives. */
	bool has_schedulers, has_stack;
	uint32_t schedulers; /* 0: auto */
	uint32_t stack_size;
	trc_socket *sockets;
	size_t nsockets;
	trc_cluster *cluster; /* the file's `cluster:`, or NULL */
};

typedef struct named {
	const char *name;
	yaml_node_t *node;
} named;

typedef struct loader {
	trc_doc *doc;
	named *names; /* registered names in the tree, against duplicates */
	size_t nnames, cnames;
	trs_map by_name; /* the names, by hash: a tree of 10^4 in O(n) */
	size_t nchildren;
	bool clustered; /* the file has a `cluster:` key */
} loader;

/* What load_child() tells its supervisor besides the spec. */
typedef struct child_info {
	yaml_node_t *map, *id, *name;
	uint32_t instances;
	bool suffix;     /* ids (and names) get .1 .. .n */
	bool name_added; /* by its supervisor map, against duplicates */
} child_info;

/* The children of one supervisor as they are built. */
typedef struct kids {
	tr_child_spec *v;
	child_info *info;
	size_t n, cap;
	trs_map ids; /* their ids (the strings), against duplicates */
} kids;

/* Map values are the strings themselves: ids and names are copies that
 * live as long as the loader needs them. */
static bool
same_str(const void *v, const void *arg)
{
	return strcmp(v, arg) == 0;
}

/* Whether s is in m already; if not, adds it.  Out of memory: false,
 * and d->nomem (the load fails). */
static bool
seen_before(trc_doc *d, trs_map *m, const char *s)
{
	uint64_t h = trs_hash_str(s);

	if (trs_map_find(m, h, same_str, s) != NULL) {
		return true;
	}
	if (trs_map_reserve(m, m->n + 1) != TR_OK) {
		d->nomem = true;
		return false;
	}
	trs_map_put(m, h, (void *)s);
	return false;
}

static const char *const top_keys[] = {
    "plugins", "sockets", "runtime", "cluster", "supervisor", NULL};
static const char *const runtime_keys[] = {"schedulers", "stack_size", NULL};
static const char *const sup_keys[] = {"name", "strategy", "intensity",
    "period", "backoff", "auto_shutdown", "placement", "children", NULL};
static const char *const backoff_keys[] = {"initial", "max", "reset", NULL};
static const char *const child_keys[] = {"id", "behavior", "command",
    "supervisor", "placement", "instances", "restart", "shutdown",
    "significant", "mailbox", "init", "name", "env", "cwd", "isolated",
    "trap_exits", "raw_output", "start_timeout", "node", "nodes", NULL};
/* Keys of an actor's (config_actor.c), that a supervisor child cannot
 * use. */
static const char *const actor_only_keys[] = {"placement", "instances",
    "mailbox", "init", "env", "cwd", "isolated", "trap_exits", "raw_output",
    "start_timeout", NULL};

static const char *const strategies[] = {
    "one_for_one", "one_for_all", "rest_for_one", "simple_one_for_one", NULL};
static const char *const restarts[] = {
    "permanent", "transient", "temporary", NULL};
static const char *const auto_shutdowns[] = {
    "never", "any_significant", "all_significant", NULL};
/* Where a supervisor may run (it runs in its caller's process). */
static const char *const sup_placements[] = {
    "auto", "thread", "scheduled", NULL};
static const tr_placement sup_placement_of[] = {
    TR_PLACE_AUTO, TR_PLACE_THREAD, TR_PLACE_SCHEDULED};

/* ------------------------------------------------------------------ */
/* Children                                                            */

static tr_sup_spec *load_sup(
    loader *ld, yaml_node_t *n, int depth, yaml_node_t **name_node);

/* One entry of a `children` list into *c (zeroed); index counts from 1. */
static void
load_child(loader *ld, yaml_node_t *m, size_t index, int depth, bool template,
    tr_child_spec *c, child_info *ci)
{
	trc_doc *d = ld->doc;
	yaml_node_t *v, *k, *sup, *subname = NULL;
	char where[TR_NAME_MAX + 32], in[TR_NAME_MAX + 40];
	bool actor;
	uint64_t u;
	int e;

	*ci = (child_info){.map = m, .instances = 1};
	if (m->type != YAML_MAPPING_NODE) {
		trc_report(d, &m->start_mark, "a child must be a map");
		return;
	}
	snprintf(where, sizeof(where), "child #%zu", index);
	if ((ci->id = trc_get(d, m, "id", NULL)) == NULL) {
		trc_report(d, &m->start_mark, "%s has no 'id'", where);
	} else if (trc_name(d, ci->id, "id") != NULL) {
		snprintf(where, sizeof(where), "child '%s'", trc_str(ci->id));
		c->id = trc_strdup(d, trc_str(ci->id));
	}
	snprintf(in, sizeof(in), "in %s", where);
	trc_keys(d, m, child_keys, in);
	sup = trc_get(d, m, "supervisor", NULL);
	actor = trc_get(d, m, "behavior", NULL) != NULL ||
	    trc_get(d, m, "command", NULL) != NULL;
	if (sup != NULL && actor) {
		trc_report(d, &m->start_mark,
		    "%s has a 'supervisor' and a 'behavior' or 'command': "
		    "it is one or the other",
		    where);
		return;
	}
	if (sup == NULL && !actor) {
		trc_report(d, &m->start_mark,
		    "%s needs a 'behavior', a 'command' or a 'supervisor'",
		    where);
		return;
	}
	if (sup != NULL) {
		for (size_t i = 0; actor_only_keys[i] != NULL; i++) {
			if (trc_get(d, m, actor_only_keys[i], &k) != NULL) {
				trc_report(d, &k->start_mark,
				    "'%s' does not apply to a supervisor child",
				    actor_only_keys[i]);
			}
		}
		/* Its spec is read by address and it links to its parent:
		 * it cannot run elsewhere. */
		for (size_t i = 0; i < 2; i++) {
			const char *key = i == 0 ? "node" : "nodes";
			if (trc_get(d, m, key, &k) != NULL) {
				trc_report(d, &k->start_mark,
				    "'%s' does not apply to a supervisor "
				    "child: "
				    "a supervisor runs in its parent's process "
				    "(give its children '%s')",
				    key, key);
			}
		}
		c->sup = load_sup(ld, sup, depth + 1, &subname);
	} else {
		trc_load_actor(d, m, c, template, &ci->instances, &ci->suffix);
		trc_load_child_nodes(d, m, c, ld->clustered);
	}
	if ((v = trc_get(d, m, "restart", NULL)) != NULL &&
	    (e = trc_enum(d, v, "restart", restarts)) >= 0) {
		c->restart = (tr_restart)e;
	}
	if ((v = trc_get(d, m, "shutdown", NULL)) != NULL) {
		if (v->type == YAML_SCALAR_NODE &&
		    strcmp(trc_str(v), "brutal") == 0) {
			c->shutdown_ms = TR_SHUTDOWN_BRUTAL;
		} else if (v->type == YAML_SCALAR_NODE &&
		    strcmp(trc_str(v), "infinity") == 0) {
			c->shutdown_ms = TR_SHUTDOWN_INFINITY;
		} else if (trc_uint(d, v, "shutdown", 0, INT32_MAX, &u, true)) {
			/* 0 ms is no time to stop: as OTP's brutal_kill. */
			c->shutdown_ms =
			    u == 0 ? TR_SHUTDOWN_BRUTAL : (int32_t)u;
		} else {
			trc_report(d, &v->start_mark,
			    "'shutdown' must be an integer from 0 to %d (ms), "
			    "brutal or infinity",
			    INT32_MAX);
		}
	}
	if ((v = trc_get(d, m, "significant", NULL)) != NULL) {
		trc_bool(d, v, "significant", &c->significant);
	}
	/* The registered name: the child's own, or its supervisor's. */
	if ((v = trc_get(d, m, "name", &k)) != NULL && subname != NULL) {
		trc_report(d, &k->start_mark,
		    "%s is named twice: here and in its 'supervisor'", where);
		return;
	}
	if (v == NULL) {
		k = v = subname;
	}
	if (v != NULL && template) {
		/* Every child started from it would take the same name. */
		trc_report(d, &k->start_mark,
		    "'name' does not apply to a simple_one_for_one template");
	} else if (v != NULL && trc_name(d, v, "name") != NULL) {
		c->start.name = trc_strdup(d, trc_str(v));
		ci->name = v;
		ci->name_added = v == subname;
	}
}

/* ------------------------------------------------------------------ */
/* Supervisors                                                         */

/* Names are one per node: two actors of the tree cannot share one. */
static void
add_name(loader *ld, const char *name, yaml_node_t *at)
{
	if (seen_before(ld->doc, &ld->by_name, name)) {
		trc_report(
		    ld->doc, &at->start_mark, "duplicate name '%s'", name);
		return;
	}
	if (ld->nnames == ld->cnames) {
		size_t c = ld->cnames == 0 ? 16 : ld->cnames * 2;
		named *v = tri_realloc(ld->names, c * sizeof(*v));
		if (v == NULL) {
			ld->doc->nomem = true;
			return;
		}
		ld->names = v;
		ld->cnames = c;
	}
	ld->names[ld->nnames++] = (named){name, at};
}

/* A zeroed slot at the end of s's children. */
static tr_child_spec *
kids_add(trc_doc *d, kids *k, tr_sup_spec *s, const child_info *ci)
{
	if (k->n == k->cap) {
		size_t c = k->cap == 0 ? 8 : k->cap * 2;
		tr_child_spec *v = tri_realloc(k->v, c * sizeof(*v));
		child_info *i;
		if (v == NULL) {
			d->nomem = true;
			return NULL;
		}
		k->v = v;
		s->children = v;
		if ((i = tri_realloc(k->info, c * sizeof(*i))) == NULL) {
			d->nomem = true;
			return NULL;
		}
		k->info = i;
		k->cap = c;
	}
	k->info[k->n] = *ci;
	memset(&k->v[k->n], 0, sizeof(k->v[k->n]));
	s->nchildren = ++k->n;
	return &k->v[k->n - 1];
}

/* c as child `i` of ci->instances: "<id>.<i>", and so its name. */
static void
number(trc_doc *d, tr_child_spec *c, const child_info *ci, uint32_t i)
{
	char s[TR_NAME_MAX + 16];

	if (c->id == NULL) {
		return; /* its error is reported */
	}
	snprintf(s, sizeof(s), "%s.%u", c->id, i);
	tri_free((void *)c->id);
	c->id = strlen(s) <= TR_NAME_MAX ? trc_strdup(d, s) : NULL;
	if (c->id == NULL && strlen(s) > TR_NAME_MAX) {
		trc_report(d, &ci->id->start_mark,
		    "'id' with its instance number, '%s', is longer "
		    "than %d bytes",
		    s, TR_NAME_MAX);
	}
	if (c->start.name != NULL) {
		snprintf(s, sizeof(s), "%s.%u", c->start.name, i);
		tri_free((void *)c->start.name);
		c->start.name =
		    strlen(s) <= TR_NAME_MAX ? trc_strdup(d, s) : NULL;
		if (c->start.name == NULL && strlen(s) > TR_NAME_MAX) {
			trc_report(d, &ci->name->start_mark,
			    "'name' with its instance number, '%s', is "
			    "longer than %d bytes",
			    s, TR_NAME_MAX);
		}
	}
}

/* Adds c to s, as ci->instances numbered copies if asked; c is used up. */
static void
add_child(
    loader *ld, kids *k, tr_sup_spec *s, tr_child_spec *c, const child_info *ci)
{
	trc_doc *d = ld->doc;
	size_t first = k->n, bad = d->nbad;
	tr_child_spec *n;

	if (ld->nchildren + ci->instances > MAX_CHILDREN) {
		trc_report(d, &ci->map->start_mark,
		    "too many children: a tree has at most %d", MAX_CHILDREN);
		ld->nchildren = MAX_CHILDREN + 1; /* stops the walk */
		trs_child_free(c);
		return;
	}
	ld->nchildren += ci->instances;
	if (!ci->suffix) {
		if ((n = kids_add(d, k, s, ci)) != NULL) {
			*n = *c;
			memset(c, 0, sizeof(*c));
		}
	}
	for (uint32_t i = 1; ci->suffix && i <= ci->instances; i++) {
		if ((n = kids_add(d, k, s, ci)) == NULL) {
			break;
		}
		if (trs_child_dup(n, c) != TR_OK) {
			d->nomem = true;
			s->nchildren = --k->n;
			break;
		}
		number(d, n, ci, i);
		if (d->nbad != bad) {
			break; /* one report is enough */
		}
	}
	trs_child_free(c);
	for (size_t i = first; i < k->n; i++) {
		const tr_child_spec *a = &k->v[i];
		if (a->id != NULL && seen_before(d, &k->ids, a->id)) {
			trc_report(
			    d, &ci->id->start_mark, "duplicate id '%s'", a->id);
		}
		if (a->start.name != NULL && !ci->name_added) {
			add_name(ld, a->start.name, ci->name);
		}
	}
}

/*
 * A shallow copy of c for the checks of its own level: a child
 * supervisor stands as a plain child there.  Its own spec was checked
 * at its level; checking the whole subtree again at every level above
 * would cost depth x size.
 */
static tr_child_spec
flat(const tr_child_spec *c)
{
	tr_child_spec f = *c;

	if (f.sup != NULL) {
		f.sup = NULL;
		f.start.behavior = "supervisor";
	}
	return f;
}

static void
load_children(loader *ld, tr_sup_spec *s, yaml_node_t *list, int depth)
{
	trc_doc *d = ld->doc;
	yaml_node_item_t *it = list->data.sequence.items.start;
	size_t n = (size_t)(list->data.sequence.items.top - it);
	kids k = {0};

	for (size_t i = 0; i < n && ld->nchildren <= MAX_CHILDREN; i++) {
		size_t bad = d->nbad, first = k.n;
		tr_child_spec c;
		child_info ci;
		memset(&c, 0, sizeof(c));
		load_child(ld, trc_node(d, it[i]), i + 1, depth,
		    s->strategy == TR_SIMPLE_ONE_FOR_ONE, &c, &ci);
		if (ld->nchildren > MAX_CHILDREN) {
			trs_child_free(&c);
			break;
		}
		add_child(ld, &k, s, &c, &ci);
		/* What troupe refuses and the schema let through, at the
		 * child it concerns, unless it has errors already. */
		for (size_t j = first; d->nbad == bad && !d->nomem && j < k.n;
		     j++) {
			tr_child_spec c1 = flat(&k.v[j]);
			char err[256];
			if (trs_child_check(&c1, s->auto_shutdown, err,
			        sizeof(err)) != TR_OK) {
				trc_report(d, &ci.map->start_mark, "%s", err);
			}
		}
	}
	tri_free(k.info);
	trs_map_fini(&k.ids);
}

static void
load_backoff(trc_doc *d, yaml_node_t *b, tr_sup_spec *s)
{
	yaml_node_t *v;
	uint64_t u;

	if (b->type != YAML_MAPPING_NODE) {
		trc_report(d, &b->start_mark, "'backoff' must be a map");
		return;
	}
	trc_keys(d, b, backoff_keys, "in backoff");
	if ((v = trc_get(d, b, "initial", NULL)) != NULL &&
	    trc_uint(d, v, "initial", 0, UINT32_MAX, &u, false)) {
		s->backoff_initial_ms = (uint32_t)u;
	}
	/* 0 would mean troupe's default in the spec: not what was written.
	 * Checked against the initial delay here, where 'max' is: left to
	 * tr_sup_check, it would be reported at the supervisor. */
	if ((v = trc_get(d, b, "max", NULL)) != NULL &&
	    trc_uint(d, v, "max", 1, UINT32_MAX, &u, false)) {
		if (u < s->backoff_initial_ms) {
			trc_report(d, &v->start_mark,
			    "backoff maximum below its initial delay");
		} else {
			s->backoff_max_ms = (uint32_t)u;
		}
	}
	if ((v = trc_get(d, b, "reset", NULL)) != NULL &&
	    trc_uint(d, v, "reset", 1, UINT32_MAX, &u, false)) {
		s->backoff_reset_ms = (uint32_t)u;
	}
}

/* tr_sup_check on s alone: see flat(). */
static int
check_level(trc_doc *d, const tr_sup_spec *s, char *err, size_t len)
{
	tr_sup_spec level = *s;
	tr_child_spec *plain;
	int rv;

	if (s->nchildren == 0) {
		return tr_sup_check(s, err, len);
	}
	if ((plain = tri_malloc(s->nchildren * sizeof(*plain))) == NULL) {
		d->nomem = true;
		return TR_OK;
	}
	for (size_t i = 0; i < s->nchildren; i++) {
		plain[i] = flat(&s->children[i]);
	}
	level.children = plain;
	rv = tr_sup_check(&level, err, len);
	tri_free(plain);
	return rv;
}

/* A supervisor map; its `name`, if any, in *name_node. */
static tr_sup_spec *
load_sup(loader *ld, yaml_node_t *n, int depth, yaml_node_t **name_node)
{
	trc_doc *d = ld->doc;
	yaml_node_t *v;
	tr_sup_spec *s;
	char err[256];
	uint64_t u;
	int e;

	if (n->type != YAML_MAPPING_NODE) {
		trc_report(d, &n->start_mark, "'supervisor' must be a map");
		return NULL;
	}
	if (depth > MAX_SUP_DEPTH) {
		trc_report(d, &n->start_mark,
		    "supervisors are nested deeper than %d levels",
		    MAX_SUP_DEPTH);
		return NULL;
	}
	if ((s = tri_calloc(1, sizeof(*s))) == NULL) {
		d->nomem = true;
		return NULL;
	}
	trc_keys(d, n, sup_keys, "in supervisor");
	if ((v = trc_get(d, n, "name", NULL)) != NULL &&
	    trc_name(d, v, "name") != NULL) {
		*name_node = v;
		add_name(ld, trc_str(v), v);
	}
	if ((v = trc_get(d, n, "strategy", NULL)) != NULL &&
	    (e = trc_enum(d, v, "strategy", strategies)) >= 0) {
		s->strategy = (tr_strategy)e;
	}
	/* 0 is "no restarts" here; in the spec 0 is OTP's default. */
	if ((v = trc_get(d, n, "intensity", NULL)) != NULL &&
	    trc_uint(d, v, "intensity", 0, UINT32_MAX - 1, &u, false)) {
		s->intensity = u == 0 ? TR_NO_RESTARTS : (uint32_t)u;
	}
	if ((v = trc_get(d, n, "period", NULL)) != NULL &&
	    trc_uint(d, v, "period", 1, UINT32_MAX, &u, false)) {
		s->period_ms = (uint32_t)u;
	}
	if ((v = trc_get(d, n, "backoff", NULL)) != NULL) {
		load_backoff(d, v, s);
	}
	if ((v = trc_get(d, n, "auto_shutdown", NULL)) != NULL &&
	    (e = trc_enum(d, v, "auto_shutdown", auto_shutdowns)) >= 0) {
		s->auto_shutdown = (tr_auto_shutdown)e;
	}
	if ((v = trc_get(d, n, "placement", NULL)) != NULL &&
	    (e = trc_enum(d, v, "placement", sup_placements)) >= 0) {
		s->placement = sup_placement_of[e];
	}
	if ((v = trc_get(d, n, "children", NULL)) == NULL) {
		trc_report(d, &n->start_mark, "supervisor has no 'children'");
		return s;
	}
	if (v->type != YAML_SEQUENCE_NODE) {
		trc_report(d, &v->start_mark, "'children' must be a list");
		return s;
	}
	load_children(ld, s, v, depth);
	/* What troupe refuses of the supervisor itself.  Its messages about
	 * a child ("child 'x': ...") were reported at the child, by
	 * load_children or by the child supervisor's own check. */
	if (!d->nomem && check_level(d, s, err, sizeof(err)) != TR_OK &&
	    strncmp(err, "child '", 7) != 0) {
		trc_report(d, &n->start_mark, "%s", err);
	}
	return s;
}

/* ------------------------------------------------------------------ */
/* Plugins and the tree                                                */

static void
load_plugins(trc_doc *d, yaml_node_t *list)
{
	if (list->type != YAML_SEQUENCE_NODE) {
		trc_report(
		    d, &list->start_mark, "'plugins' must be a list of paths");
		return;
	}
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++) {
		yaml_node_t *v = trc_node(d, *it);
		const char *name = NULL;
		void (*init)(void);
		struct stat st;
		char *path;
		void *h, *sym;

		if (!trc_is_text(v)) {
			trc_report(d, &v->start_mark,
			    "'plugins' must be a list of paths");
			continue;
		}
		if ((name = trc_text(d, v, "plugins")) == NULL ||
		    (path = trc_path(d, name)) == NULL) {
			continue;
		}
		if (stat(path, &st) != 0) {
			trc_report(
			    d, &v->start_mark, "plugin '%s' not found", name);
		} else if ((h = dlopen(path, RTLD_NOW | RTLD_GLOBAL)) == NULL) {
			trc_report(d, &v->start_mark,
			    "cannot load plugin '%s': %s", name, dlerror());
		} else if ((sym = dlsym(h, "troupe_plugin_init")) == NULL) {
			trc_report(d, &v->start_mark,
			    "plugin '%s' has no troupe_plugin_init", name);
			dlclose(h);
		} else {
			/* Its behaviors live in it: it stays loaded. */
			memcpy(&init, &sym, sizeof(init));
			init();
		}
		tri_free(path);
	}
}

/* The file's base name without its extension. */
static char *
base_name(trc_doc *d)
{
	const char *b = strrchr(d->path, '/'), *dot;
	size_t n;
	char *s;

	b = b != NULL ? b + 1 : d->path;
	dot = strrchr(b, '.');
	n = dot != NULL && dot != b ? (size_t)(dot - b) : strlen(b);
	if ((s = tri_malloc(n + 1)) == NULL) {
		d->nomem = true;
		return NULL;
	}
	memcpy(s, b, n);
	s[n] = '\0';
	return s;
}

/* A stack size: bytes, or a number with k or m ("64k"). */
static bool
stack_bytes(const yaml_node_t *v, uint64_t *out)
{
	const char *s = trc_str(v);
	uint64_t n = 0;

	if (v->type != YAML_SCALAR_NODE || *s < '0' || *s > '9') {
		return false;
	}
	for (; *s >= '0' && *s <= '9' && n <= UINT32_MAX; s++) {
		n = n * 10 + (uint64_t)(*s - '0');
	}
	if ((*s == 'k' || *s == 'K') && s[1] == '\0') {
		n *= 1024;
	} else if ((*s == 'm' || *s == 'M') && s[1] == '\0') {
		n *= 1024 * 1024;
	} else if (*s != '\0') {
		return false;
	}
	*out = n;
	return true;
}

/* The `runtime:` map: options for tr_init (tr_tree_options). */
static void
load_runtime(trc_doc *d, yaml_node_t *m, tr_tree *t)
{
	yaml_node_t *v;
	uint64_t u;

	if (m->type != YAML_MAPPING_NODE) {
		trc_report(d, &m->start_mark, "'runtime' must be a map");
		return;
	}
	trc_keys(d, m, runtime_keys, "in runtime");
	if ((v = trc_get(d, m, "schedulers", NULL)) != NULL) {
		if (v->type == YAML_SCALAR_NODE &&
		    strcmp(trc_str(v), "auto") == 0) {
			t->schedulers = 0; /* the default: one per core */
			t->has_schedulers = true;
		} else if (trc_uint(d, v, "schedulers", 1, TRI_HOMES_MAX, &u,
		               true)) {
			t->schedulers = (uint32_t)u;
			t->has_schedulers = true;
		} else {
			trc_report(d, &v->start_mark,
			    "'schedulers' must be an integer from 1 to %u, or "
			    "auto",
			    TRI_HOMES_MAX);
		}
	}
	if ((v = trc_get(d, m, "stack_size", NULL)) != NULL) {
		if (stack_bytes(v, &u) && u >= TRC_STACK_MIN &&
		    u <= TRC_STACK_MAX) {
			t->stack_size = (uint32_t)u;
			t->has_stack = true;
		} else {
			trc_report(d, &v->start_mark,
			    "'stack_size' must be from 16k to 1024m: bytes, "
			    "or a number with k or m (256k)");
		}
	}
}

static tr_tree *
load_tree(loader *ld)
{
	trc_doc *d = ld->doc;
	yaml_node_t *root = trc_root(d), *v, *name = NULL;
	tr_tree *t;

	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		yaml_mark_t start = {0, 0, 0};
		trc_report(d, root != NULL ? &root->start_mark : &start,
		    "expected a map with a 'supervisor' key");
		return NULL;
	}
	if ((t = tri_calloc(1, sizeof(*t))) == NULL) {
		d->nomem = true;
		return NULL;
	}
	trc_keys(d, root, top_keys, "at the top level");
	/* First, so that their behaviors are known below. */
	if ((v = trc_get(d, root, "plugins", NULL)) != NULL) {
		load_plugins(d, v);
	}
	if ((v = trc_get(d, root, "sockets", NULL)) != NULL) {
		t->sockets = trc_load_sockets(d, v, &t->nsockets);
	}
	if ((v = trc_get(d, root, "runtime", NULL)) != NULL) {
		load_runtime(d, v, t);
	}
	/* Before the children, which may name its nodes. */
	if ((v = trc_get(d, root, "cluster", NULL)) != NULL) {
		ld->clustered = true;
		t->cluster = trc_load_cluster(d, v);
	}
	if ((v = trc_get(d, root, "supervisor", NULL)) == NULL) {
		trc_report(d, &root->start_mark, "no 'supervisor' key");
		return t;
	}
	t->spec = load_sup(ld, v, 0, &name);
	if (name != NULL) {
		t->name = trc_strdup(d, trc_str(name));
	} else if ((t->name = base_name(d)) != NULL &&
	    (t->name[0] == '\0' || strlen(t->name) > TR_NAME_MAX)) {
		trc_report(d, &v->start_mark,
		    "the file's name cannot name the tree: give the supervisor "
		    "a 'name'");
	}
	return t;
}

int
tr_tree_load(const char *path, tr_tree **out, char **errors)
{
	trc_doc doc;
	loader ld = {.doc = &doc};
	tr_tree *t = NULL;
	int rv = TR_OK;

	if (errors != NULL) {
		*errors = NULL;
	}
	if (out != NULL) {
		*out = NULL;
	}
	if (path == NULL || out == NULL) {
		return TR_EINVAL;
	}
	if (trc_doc_open(&doc, path)) {
		t = load_tree(&ld);
	}
	if (doc.nomem) {
		rv = TR_ENOMEM;
	} else if (doc.nbad > 0) {
		rv = TR_EINVAL;
		if (errors != NULL &&
		    (*errors = trc_doc_errors(&doc)) == NULL) {
			rv = TR_ENOMEM;
		}
	}
	if (rv == TR_OK) {
		*out = t;
	} else {
		tr_tree_free(t);
	}
	tri_free(ld.names);
	trs_map_fini(&ld.by_name);
	trc_doc_close(&doc);
	return rv;
}

const tr_sup_spec *
tr_tree_spec(const tr_tree *tree)
{
	return tree != NULL ? tree->spec : NULL;
}

const char *
tr_tree_name(const tr_tree *tree)
{
	return tree != NULL ? tree->name : NULL;
}

int
tr_tree_options(const tr_tree *tree, tr_options *opts)
{
	if (tree == NULL || opts == NULL) {
		return TR_EINVAL;
	}
	if (tree->has_schedulers) {
		opts->schedulers = tree->schedulers;
	}
	if (tree->has_stack) {
		opts->stack_size = tree->stack_size;
	}
	if (tree->cluster != NULL) {
		opts->cluster = trc_cluster_opts(tree->cluster);
	}
	return TR_OK;
}

trc_socket *
trc_tree_sockets(tr_tree *tree, size_t *n)
{
	*n = tree != NULL ? tree->nsockets : 0;
	return tree != NULL ? tree->sockets : NULL;
}

void
tr_tree_free(tr_tree *tree)
{
	if (tree != NULL) {
		trc_close_sockets(tree->sockets, tree->nsockets);
		trc_free_sockets(tree->sockets, tree->nsockets);
		trs_spec_free(tree->spec);
		trc_free_cluster(tree->cluster);
		tri_free(tree->name);
		tri_free(tree);
	}
}
