/*
 * config_actor.c -- the keys of a tree file's child that runs an actor
 * (a behavior, a program, or both), into its tr_spec; config.c does the
 * keys every child has, and supervisors.
 *
 * Programs are checked as troupe will start them: a name without a
 * slash is looked up in PATH, a relative path is taken from the file's
 * directory.  A behavior is checked against the registry unless a
 * program hosts it.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "internal.h"

#define MAX_INSTANCES TR_POOL_MAX

/* In the order of tr_placement. */
static const char *const placements[] = {
    "auto", "thread", "fork", "exec", "scheduled", NULL};

/* A list of strings as a NULL-terminated array; NULL after an error. */
static const char *const *
load_argv(trc_doc *d, yaml_node_t *v)
{
	yaml_node_item_t *it = v->data.sequence.items.start;
	size_t n = (size_t)(v->data.sequence.items.top - it);
	char **argv = tri_calloc(n + 1, sizeof(*argv));
	bool ok = true;

	if (argv == NULL) {
		d->nomem = true;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *e = trc_node(d, it[i]);
		const char *s = NULL;
		if (!trc_is_text(e)) {
			trc_report(d, &e->start_mark,
			    "'command' must be a non-empty list of strings");
		} else {
			s = trc_text(d, e, "command");
		}
		if (s == NULL || (argv[i] = trc_strdup(d, s)) == NULL) {
			ok = false; /* and on, to report the other elements */
		}
	}
	if (!ok) {
		for (size_t i = 0; i < n; i++) {
			tri_free(argv[i]);
		}
		tri_free(argv);
		return NULL;
	}
	return (const char *const *)argv;
}

/* env: a map of names to scalars, as "NAME=value" strings. */
static const char *const *
load_env(trc_doc *d, yaml_node_t *v)
{
	yaml_node_pair_t *p = v->data.mapping.pairs.start;
	size_t n = (size_t)(v->data.mapping.pairs.top - p);
	char **env = tri_calloc(n + 1, sizeof(*env));
	bool ok = true;

	if (env == NULL) {
		d->nomem = true;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *k = trc_node(d, p[i].key),
		            *val = trc_node(d, p[i].value);
		const char *name = trc_text(d, k, "env"), *s = NULL;
		size_t len;
		if (name != NULL &&
		    (name[0] == '\0' || strchr(name, '=') != NULL)) {
			trc_report(d, &k->start_mark,
			    "environment name '%s' must be non-empty, "
			    "without '='",
			    name);
			name = NULL;
		}
		if (!trc_is_text(val)) {
			trc_report(d, &val->start_mark,
			    "the value of an environment variable must be a "
			    "string");
		} else {
			s = trc_text(d, val, "env");
		}
		if (name == NULL || s == NULL) {
			ok = false;
			continue;
		}
		len = strlen(name) + strlen(s) + 2;
		if ((env[i] = tri_malloc(len)) == NULL) {
			d->nomem = true;
			ok = false;
			continue;
		}
		snprintf(env[i], len, "%s=%s", name, s);
	}
	if (!ok) {
		for (size_t i = 0; i < n; i++) {
			tri_free(env[i]);
		}
		tri_free(env);
		return NULL;
	}
	return (const char *const *)env;
}

/* The command of a child: argv, program, and whether it is there. */
static void
load_command(trc_doc *d, yaml_node_t *v, tr_child_spec *c)
{
	char found[4096];
	const char *prog;
	yaml_node_t *first;
	int rv;

	if (v->type != YAML_SEQUENCE_NODE ||
	    v->data.sequence.items.start == v->data.sequence.items.top) {
		trc_report(d, &v->start_mark,
		    "'command' must be a non-empty list of strings");
		return;
	}
	if ((c->start.argv = load_argv(d, v)) == NULL) {
		return;
	}
	/* A program named with a slash is a path, relative to the file; a
	 * bare name is looked up in PATH, now and when it is started. */
	prog = c->start.argv[0];
	c->start.program =
	    strchr(prog, '/') != NULL ? trc_path(d, prog) : trc_strdup(d, prog);
	if (c->start.program == NULL) {
		return;
	}
	first = trc_node(d, *v->data.sequence.items.start);
	rv = tri_find_program(c->start.program, found, sizeof(found));
	if (rv == TR_EPERM) {
		trc_report(d, &first->start_mark,
		    "program '%s' is not executable", prog);
	} else if (rv != TR_OK) {
		trc_report(
		    d, &first->start_mark, "program '%s' not found", prog);
	}
}

void
trc_load_actor(trc_doc *d, yaml_node_t *m, tr_child_spec *c, bool template,
    uint32_t *instances, bool *numbered)
{
	yaml_node_t *v, *k, *cmd = trc_get(d, m, "command", NULL);
	yaml_node_t *beh = trc_get(d, m, "behavior", NULL);
	tr_spec *sp = &c->start;
	uint64_t u;
	int e;

	if (beh != NULL && trc_name(d, beh, "behavior") != NULL &&
	    (sp->behavior = trc_strdup(d, trc_str(beh))) != NULL &&
	    cmd == NULL && tri_behavior_find(sp->behavior) == NULL) {
		/* With a command, the program hosts it: not ours to know. */
		trc_report(
		    d, &beh->start_mark, "unknown behavior '%s'", sp->behavior);
	}
	if (cmd != NULL) {
		load_command(d, cmd, c);
	}
	if ((v = trc_get(d, m, "placement", NULL)) != NULL &&
	    (e = trc_enum(d, v, "placement", placements)) >= 0) {
		sp->placement = (tr_placement)e;
		if (cmd != NULL && e != TR_PLACE_AUTO && e != TR_PLACE_EXEC) {
			trc_report(d, &v->start_mark,
			    "a 'command' runs with placement exec or auto, "
			    "not %s",
			    placements[e]);
		}
	}
	if ((v = trc_get(d, m, "instances", &k)) != NULL) {
		if (template) {
			trc_report(d, &k->start_mark,
			    "'instances' does not apply to "
			    "a simple_one_for_one template");
		} else if (v->type == YAML_SCALAR_NODE &&
		    strcmp(trc_str(v), "auto") == 0) {
			/* Numbered even on one core: ids do not change with
			 * the machine. */
			*instances = tr_cores();
			*numbered = true;
		} else if (trc_uint(
		               d, v, "instances", 1, MAX_INSTANCES, &u, true)) {
			*instances = (uint32_t)u;
			*numbered = u > 1;
		} else {
			trc_report(d, &v->start_mark,
			    "'instances' must be an integer from 1 to %d, "
			    "or auto",
			    MAX_INSTANCES);
		}
	}
	if ((v = trc_get(d, m, "mailbox", NULL)) != NULL &&
	    trc_uint(d, v, "mailbox", 1, UINT32_MAX, &u, false)) {
		sp->mailbox_capacity = (uint32_t)u;
	}
	if ((v = trc_get(d, m, "start_timeout", NULL)) != NULL &&
	    trc_uint(d, v, "start_timeout", 1, UINT32_MAX, &u, false)) {
		sp->start_timeout_ms = (uint32_t)u;
	}
	if ((v = trc_get(d, m, "isolated", NULL)) != NULL) {
		trc_bool(d, v, "isolated", &sp->isolated);
	}
	if ((v = trc_get(d, m, "trap_exits", NULL)) != NULL) {
		trc_bool(d, v, "trap_exits", &sp->trap_exits);
	}
	if ((v = trc_get(d, m, "init", &k)) != NULL) {
		if (beh == NULL) {
			trc_report(
			    d, &k->start_mark, "'init' needs a 'behavior'");
		} else {
			sp->init_arg = trc_msg(d, v);
		}
	}
	/* What only a command uses. */
	if ((v = trc_get(d, m, "env", &k)) != NULL) {
		if (cmd == NULL) {
			trc_report(
			    d, &k->start_mark, "'env' needs a 'command'");
		} else if (v->type != YAML_MAPPING_NODE) {
			trc_report(d, &v->start_mark,
			    "'env' must be a map of strings");
		} else {
			sp->env = load_env(d, v);
		}
	}
	if ((v = trc_get(d, m, "cwd", &k)) != NULL) {
		if (cmd == NULL) {
			trc_report(
			    d, &k->start_mark, "'cwd' needs a 'command'");
		} else if (trc_text(d, v, "cwd") != NULL) {
			sp->cwd = trc_path(d, trc_str(v));
		}
	}
	if ((v = trc_get(d, m, "raw_output", &k)) != NULL) {
		if (cmd == NULL) {
			trc_report(d, &k->start_mark,
			    "'raw_output' needs a 'command'");
		} else {
			trc_bool(d, v, "raw_output", &sp->raw_output);
		}
	}
}
