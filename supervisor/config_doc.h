/*
 * config_doc.h -- private to troupe: a YAML file read as typed values,
 * with errors kept at their positions, for config.c.  Not API.
 */
#ifndef TRC_CONFIG_DOC_H
#define TRC_CONFIG_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "troupe.h"

typedef struct trc_error trc_error;

typedef struct trc_doc {
	const char *path; /* as the caller gave it, for the messages */
	char *dir;        /* the file's directory, for relative paths */
	yaml_document_t yaml;
	bool loaded; /* yaml holds the file's document */
	trc_error *errs;
	size_t nerrs, cerrs;
	size_t nbad;    /* errors found, also those that could not be kept */
	bool nomem;     /* an allocation failed: the result is void */
	size_t nvalues; /* nodes turned into msgpack so far */
} trc_doc;

/* Reads and parses path.  False if there is no document to walk: the
 * file could not be read, or libyaml found a syntax error (reported).
 * True with errors reported (unsupported tags): walk it all the same. */
bool trc_doc_open(trc_doc *d, const char *path);
void trc_doc_close(trc_doc *d);
/* The errors, "path:line:column: text\n" each, in file order; malloc'd;
 * NULL if there is no memory for it. */
char *trc_doc_errors(trc_doc *d);

/* Records an error at mk (NULL: the file as a whole); counted but not
 * kept where an unsupported tag was reported. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void
trc_report(trc_doc *d, const yaml_mark_t *mk, const char *fmt, ...);

yaml_node_t *trc_root(trc_doc *d);
yaml_node_t *trc_node(trc_doc *d, int id);
/* A scalar's text (NUL-terminated by libyaml). */
const char *trc_str(const yaml_node_t *n);

/* The value under key in a map (the first if repeated), or NULL; its key
 * node in *keynode if that is not NULL. */
yaml_node_t *trc_get(
    trc_doc *d, yaml_node_t *map, const char *key, yaml_node_t **keynode);
/* Reports the keys of map that are not in allowed (NULL-terminated;
 * NULL allows any) -- "unknown key 'k' <where>" -- or that come twice. */
void trc_keys(trc_doc *d, yaml_node_t *map, const char *const *allowed,
    const char *where);

/* Typed values.  Each reports what is wrong at v, naming key, and
 * returns NULL, -1 or false. */
/* Any scalar but null, without NUL bytes. */
bool trc_is_text(const yaml_node_t *v);
const char *trc_text(trc_doc *d, yaml_node_t *v, const char *key);
/* A text of 1 to TR_NAME_MAX bytes. */
const char *trc_name(trc_doc *d, yaml_node_t *v, const char *key);
/* One of list (NULL-terminated): its index. */
int trc_enum(
    trc_doc *d, yaml_node_t *v, const char *key, const char *const *list);
bool trc_bool(trc_doc *d, yaml_node_t *v, const char *key, bool *out);
/* An integer in [min, max].  quiet: report nothing, the caller has its
 * own message. */
bool trc_uint(trc_doc *d, yaml_node_t *v, const char *key, uint64_t min,
    uint64_t max, uint64_t *out, bool quiet);
/* v, any YAML value, as the body of a new message of tag 0. */
tr_msg *trc_msg(trc_doc *d, yaml_node_t *v);

/* Copies that set d->nomem when they fail. */
char *trc_strdup(trc_doc *d, const char *s);
/* path, joined to the file's directory if it is relative. */
char *trc_path(trc_doc *d, const char *path);

#endif
