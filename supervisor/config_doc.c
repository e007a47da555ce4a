/*
 * config_doc.c -- a YAML file read as typed values for config.c, with
 * every error kept at its position and handed back in file order, one
 * line each, the way a compiler reports.
 *
 * libyaml composes the file into a node graph.  Scalars are typed here
 * by the YAML 1.2 core schema: plain `true`, `null`, `12`, `1.5` are a
 * bool, a null, an int and a float; quoted scalars are always strings.
 * A key that takes a string accepts any scalar but null, so `id: 7` is
 * the id "7".  Tags are refused: libyaml gives an explicit `!!str` the
 * same tag as an untagged scalar, so they could not be honoured anyway.
 * A tag is one error, at its node; the rest of the file is still read.
 *
 * Aliases can make the graph share nodes, or loop, so turning a value
 * into msgpack is bounded in depth and in the nodes visited.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "config_doc.h"

#define MAX_VALUE_DEPTH 64         /* nesting inside one value */
#define MAX_VALUE_NODES (1u << 20) /* nodes of all values of a file */

struct trc_error {
	size_t line, col; /* 1-based; 0 when the error has no position */
	size_t seq;       /* order of discovery, to keep the sort stable */
	bool tag;         /* an unsupported tag: nothing more is said there */
	char *text;
};

/* ------------------------------------------------------------------ */
/* Errors                                                              */

/* Whether an unsupported tag was reported at mk: a tagged value would
 * often be wrong as well ("!!int '3'" is a string), and saying so
 * adds nothing. */
static bool
tagged(const trc_doc *d, const yaml_mark_t *mk)
{
	for (size_t i = 0; mk != NULL && i < d->nerrs; i++) {
		if (d->errs[i].tag && d->errs[i].line == mk->line + 1 &&
		    d->errs[i].col == mk->column + 1) {
			return true;
		}
	}
	return false;
}

static void
vreport(
    trc_doc *d, const yaml_mark_t *mk, bool tag, const char *fmt, va_list ap)
{
	va_list aq;
	char *text;
	int n;

	d->nbad++;
	if (!tag && tagged(d, mk)) {
		return;
	}
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || (text = tri_malloc((size_t)n + 1)) == NULL) {
		d->nomem = true;
		return;
	}
	vsnprintf(text, (size_t)n + 1, fmt, ap);
	if (d->nerrs == d->cerrs) {
		size_t c = d->cerrs == 0 ? 8 : d->cerrs * 2;
		trc_error *e = tri_realloc(d->errs, c * sizeof(*e));
		if (e == NULL) {
			tri_free(text);
			d->nomem = true;
			return;
		}
		d->errs = e;
		d->cerrs = c;
	}
	d->errs[d->nerrs] = (trc_error){.line = mk != NULL ? mk->line + 1 : 0,
	    .col = mk != NULL ? mk->column + 1 : 0,
	    .seq = d->nerrs,
	    .tag = tag,
	    .text = text};
	d->nerrs++;
}

void
trc_report(trc_doc *d, const yaml_mark_t *mk, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(d, mk, false, fmt, ap);
	va_end(ap);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void
report_tag(trc_doc *d, const yaml_mark_t *mk, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(d, mk, true, fmt, ap);
	va_end(ap);
}

static int
error_cmp(const void *a, const void *b)
{
	const trc_error *x = a, *y = b;

	if (x->line != y->line) {
		return x->line < y->line ? -1 : 1;
	}
	if (x->col != y->col) {
		return x->col < y->col ? -1 : 1;
	}
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

char *
trc_doc_errors(trc_doc *d)
{
	size_t len = 1, at = 0;
	char *out;

	qsort(d->errs, d->nerrs, sizeof(*d->errs), error_cmp);
	for (size_t i = 0; i < d->nerrs; i++) {
		/* two numbers of at most 20 digits, and ":: \n" */
		len += strlen(d->path) + strlen(d->errs[i].text) + 48;
	}
	if ((out = tri_malloc(len)) == NULL) {
		return NULL;
	}
	out[0] = '\0';
	for (size_t i = 0; i < d->nerrs; i++) {
		const trc_error *e = &d->errs[i];
		if (e->line == 0) {
			at += (size_t)snprintf(
			    out + at, len - at, "%s: %s\n", d->path, e->text);
		} else {
			at += (size_t)snprintf(out + at, len - at,
			    "%s:%zu:%zu: %s\n", d->path, e->line, e->col,
			    e->text);
		}
	}
	return out;
}

/* ------------------------------------------------------------------ */
/* The file                                                            */

/* The whole file, NUL-terminated. */
static char *
read_file(trc_doc *d, size_t *len)
{
	FILE *f = fopen(d->path, "rb");
	struct stat st;
	char *buf = NULL;

	if (f == NULL) {
		trc_report(d, NULL, "cannot open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0) {
		trc_report(d, NULL, "cannot open: %s", strerror(errno));
	} else if (S_ISDIR(st.st_mode)) {
		trc_report(d, NULL, "cannot open: %s", strerror(EISDIR));
	} else if ((buf = tri_malloc((size_t)st.st_size + 1)) == NULL) {
		d->nomem = true;
	} else if ((*len = fread(buf, 1, (size_t)st.st_size, f)) !=
	        (size_t)st.st_size ||
	    ferror(f)) {
		trc_report(d, NULL, "cannot read: %s", strerror(errno));
		tri_free(buf);
		buf = NULL;
	} else {
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

/* Whether a tab is in the indentation of the line of mk. */
static bool
tab_at(const char *buf, const yaml_mark_t *mk)
{
	const char *p = buf;

	for (size_t line = 0; line < mk->line && p != NULL; line++) {
		if ((p = strchr(p, '\n')) != NULL) {
			p++;
		}
	}
	if (p == NULL) {
		return false;
	}
	for (size_t col = 0; p[col] == ' ' || p[col] == '\t'; col++) {
		if (p[col] == '\t') {
			return true;
		}
	}
	return false;
}

/*
 * A syntax error in libyaml's own words, at its mark, and what else it
 * knows: the construct it was in, where that began (a '[' left open is
 * found a line or more later), and what a user is likely to have done --
 * a tab in the indentation, which YAML forbids, or a line indented wrong
 * (libyaml then misses a key or a '-').
 */
static void
syntax_error(trc_doc *d, const yaml_parser_t *p, const char *buf)
{
	yaml_mark_t mk = p->problem_mark;
	const yaml_mark_t *cx = &p->context_mark;
	const char *problem = p->problem != NULL ? p->problem : "bad YAML";
	char context[160] = "";
	const char *hint = "";

	if (p->error == YAML_MEMORY_ERROR) {
		d->nomem = true;
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		/* A bad byte, not syntax: the reader knows only its offset. */
		memset(&mk, 0, sizeof(mk));
		for (size_t i = 0; i < p->problem_offset && buf[i] != '\0';
		     i++) {
			if (buf[i] == '\n') {
				mk.line++;
				mk.column = 0;
			} else {
				mk.column++;
			}
		}
		trc_report(d, &mk, "%s", problem);
		return;
	}
	if (p->context != NULL &&
	    (cx->line != mk.line || cx->column != mk.column)) {
		snprintf(context, sizeof(context), " (%s started at %zu:%zu)",
		    p->context, cx->line + 1, cx->column + 1);
	}
	if (tab_at(buf, &mk)) {
		hint = "; a tab indents this line: YAML indents with spaces "
		       "only";
	} else if (strcmp(problem, "did not find expected key") == 0 ||
	    strcmp(problem, "did not find expected '-' indicator") == 0) {
		hint = "; check the indentation of this line";
	}
	trc_report(d, &mk, "syntax error: %s%s%s", problem, context, hint);
}

/* Tags other than the ones libyaml gives untagged nodes: one error at
 * the node (trc_report says nothing more there), and the walk goes on. */
static void
check_tags(trc_doc *d)
{
	for (yaml_node_t *n = d->yaml.nodes.start; n < d->yaml.nodes.top; n++) {
		const char *t = (const char *)n->tag;
		const char *def = n->type == YAML_SCALAR_NODE ? YAML_STR_TAG :
		    n->type == YAML_SEQUENCE_NODE             ? YAML_SEQ_TAG :
		                                                YAML_MAP_TAG;
		if (t != NULL && strcmp(t, def) != 0) {
			report_tag(
			    d, &n->start_mark, "unsupported tag '%s'", t);
		}
	}
}

/* Parses buf into d->yaml; one document, and nothing unreadable after
 * it. */
static void
parse(trc_doc *d, const char *buf, size_t len)
{
	yaml_parser_t parser;
	yaml_document_t more;
	yaml_node_t *r;

	if (!yaml_parser_initialize(&parser)) {
		d->nomem = true;
		return;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &d->yaml)) {
		syntax_error(d, &parser, buf);
	} else {
		d->loaded = true;
		if (!yaml_parser_load(&parser, &more)) {
			syntax_error(d, &parser, buf);
		} else {
			if ((r = yaml_document_get_root_node(&more)) != NULL) {
				trc_report(d, &r->start_mark,
				    "a second document: a file holds one tree");
			}
			yaml_document_delete(&more);
		}
	}
	yaml_parser_delete(&parser);
}

bool
trc_doc_open(trc_doc *d, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t len = 0;
	char *buf;

	memset(d, 0, sizeof(*d));
	d->path = path;
	if ((d->dir = trc_strdup(d, slash != NULL ? path : ".")) == NULL) {
		return false;
	}
	if (slash != NULL) {
		d->dir[slash == path ? 1 : slash - path] = '\0';
	}
	if ((buf = read_file(d, &len)) == NULL) {
		return false;
	}
	parse(d, buf, len);
	tri_free(buf);
	if (!d->loaded || d->nbad > 0) {
		return false; /* no document, or not one only */
	}
	/* Tags are errors, but the document is whole: walk it, to find the
	 * others. */
	check_tags(d);
	return !d->nomem;
}

void
trc_doc_close(trc_doc *d)
{
	if (d->loaded) {
		yaml_document_delete(&d->yaml);
	}
	for (size_t i = 0; i < d->nerrs; i++) {
		tri_free(d->errs[i].text);
	}
	tri_free(d->errs);
	tri_free(d->dir);
	memset(d, 0, sizeof(*d));
}

/* ------------------------------------------------------------------ */
/* Nodes and scalars                                                   */

yaml_node_t *
trc_root(trc_doc *d)
{
	return yaml_document_get_root_node(&d->yaml);
}

yaml_node_t *
trc_node(trc_doc *d, int id)
{
	return yaml_document_get_node(&d->yaml, id);
}

const char *
trc_str(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

typedef enum {
	S_NONE,
	S_NULL,
	S_BOOL,
	S_INT,
	S_FLOAT,
	S_STR
} skind;

typedef struct scalar {
	skind kind;
	bool b;       /* S_BOOL */
	bool neg;     /* S_INT: negative ... */
	uint64_t mag; /* ... of this magnitude */
	bool range;   /* S_INT: beyond 64 bits */
	double f;     /* S_FLOAT */
} scalar;

static bool
one_of(const char *s, const char *a, const char *b, const char *c)
{
	return strcmp(s, a) == 0 || strcmp(s, b) == 0 || strcmp(s, c) == 0;
}

/* How many leading characters of s are digits in base (8, 10 or 16). */
static size_t
digits(const char *s, int base)
{
	size_t n = 0;

	while (s[n] != '\0' &&
	    (base == 16 ? strchr("0123456789abcdefABCDEF", s[n]) != NULL :
	                  s[n] >= '0' && s[n] < '0' + base)) {
		n++;
	}
	return n;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool
is_float(const char *s)
{
	size_t n;

	s += *s == '-' || *s == '+';
	n = digits(s, 10);
	s += n;
	if (*s == '.') {
		size_t f = digits(s + 1, 10);
		if (n == 0 && f == 0) {
			return false;
		}
		s += 1 + f;
	} else if (n == 0) {
		return false;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		s += *s == '-' || *s == '+';
		if ((n = digits(s, 10)) == 0) {
			return false;
		}
		s += n;
	}
	return *s == '\0';
}

static scalar
classify(const yaml_node_t *n)
{
	const char *s, *p;
	scalar v = {.kind = S_NONE};
	int base = 10;

	if (n->type != YAML_SCALAR_NODE) {
		return v;
	}
	v.kind = S_STR;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
		return v;
	}
	s = p = trc_str(n);
	if (s[0] == '\0' || strcmp(s, "~") == 0 ||
	    one_of(s, "null", "Null", "NULL")) {
		v.kind = S_NULL;
	} else if (one_of(s, "true", "True", "TRUE") ||
	    one_of(s, "false", "False", "FALSE")) {
		v.kind = S_BOOL;
		v.b = s[0] == 't' || s[0] == 'T';
	} else if (one_of(
	               s + (*s == '-' || *s == '+'), ".inf", ".Inf", ".INF")) {
		v.kind = S_FLOAT;
		v.f = *s == '-' ? -INFINITY : INFINITY;
	} else if (one_of(s, ".nan", ".NaN", ".NAN")) {
		v.kind = S_FLOAT;
		v.f = NAN;
	} else {
		if (strncmp(s, "0o", 2) == 0 || strncmp(s, "0x", 2) == 0) {
			base = s[1] == 'o' ? 8 : 16;
			p = s + 2;
		} else {
			v.neg = *p == '-';
			p += *p == '-' || *p == '+';
		}
		if (p[0] != '\0' && p[digits(p, base)] == '\0') {
			v.kind = S_INT;
			errno = 0;
			v.mag = strtoull(p, NULL, base);
			v.range = errno == ERANGE ||
			    (v.neg && v.mag > (uint64_t)INT64_MAX + 1);
		} else if (is_float(s)) {
			/* strtod reads LC_NUMERIC, which troupe leaves as C. */
			v.kind = S_FLOAT;
			v.f = strtod(s, NULL);
		}
	}
	return v;
}

yaml_node_t *
trc_get(trc_doc *d, yaml_node_t *map, const char *key, yaml_node_t **keynode)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = trc_node(d, p->key);
		if (k->type == YAML_SCALAR_NODE &&
		    strcmp(trc_str(k), key) == 0) {
			if (keynode != NULL) {
				*keynode = k;
			}
			return trc_node(d, p->value);
		}
	}
	return NULL;
}

static bool
listed(const char *const *list, const char *s)
{
	if (list == NULL) {
		return true; /* any key */
	}
	for (size_t i = 0; list[i] != NULL; i++) {
		if (strcmp(list[i], s) == 0) {
			return true;
		}
	}
	return false;
}

void
trc_keys(
    trc_doc *d, yaml_node_t *map, const char *const *allowed, const char *where)
{
	yaml_node_pair_t *start = map->data.mapping.pairs.start;

	for (yaml_node_pair_t *p = start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = trc_node(d, p->key);
		if (k->type != YAML_SCALAR_NODE) {
			trc_report(d, &k->start_mark, "a key must be a string");
			continue;
		}
		if (!listed(allowed, trc_str(k))) {
			trc_report(d, &k->start_mark, "unknown key '%s' %s",
			    trc_str(k), where);
			continue;
		}
		for (yaml_node_pair_t *q = start; q < p; q++) {
			yaml_node_t *e = trc_node(d, q->key);
			if (e->type == YAML_SCALAR_NODE &&
			    strcmp(trc_str(e), trc_str(k)) == 0) {
				trc_report(d, &k->start_mark,
				    "duplicate key '%s'", trc_str(k));
				break;
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* Typed values                                                        */

bool
trc_is_text(const yaml_node_t *v)
{
	return v->type == YAML_SCALAR_NODE && classify(v).kind != S_NULL;
}

const char *
trc_text(trc_doc *d, yaml_node_t *v, const char *key)
{
	if (!trc_is_text(v)) {
		trc_report(d, &v->start_mark, "'%s' must be a string", key);
		return NULL;
	}
	if (strlen(trc_str(v)) != v->data.scalar.length) {
		trc_report(
		    d, &v->start_mark, "'%s' must not contain a NUL byte", key);
		return NULL;
	}
	return trc_str(v);
}

const char *
trc_name(trc_doc *d, yaml_node_t *v, const char *key)
{
	const char *s = trc_text(d, v, key);

	if (s != NULL && (s[0] == '\0' || strlen(s) > TR_NAME_MAX)) {
		trc_report(d, &v->start_mark, "'%s' must be 1 to %d bytes", key,
		    TR_NAME_MAX);
		return NULL;
	}
	return s;
}

int
trc_enum(trc_doc *d, yaml_node_t *v, const char *key, const char *const *list)
{
	char all[160] = "";

	if (v->type == YAML_SCALAR_NODE) {
		for (int i = 0; list[i] != NULL; i++) {
			if (strcmp(trc_str(v), list[i]) == 0) {
				return i;
			}
		}
	}
	for (int i = 0; list[i] != NULL; i++) {
		size_t at = strlen(all);
		snprintf(all + at, sizeof(all) - at, "%s%s", i > 0 ? ", " : "",
		    list[i]);
	}
	trc_report(d, &v->start_mark, "'%s' must be one of %s", key, all);
	return -1;
}

bool
trc_bool(trc_doc *d, yaml_node_t *v, const char *key, bool *out)
{
	scalar s = classify(v);

	if (s.kind != S_BOOL) {
		trc_report(
		    d, &v->start_mark, "'%s' must be true or false", key);
		return false;
	}
	*out = s.b;
	return true;
}

bool
trc_uint(trc_doc *d, yaml_node_t *v, const char *key, uint64_t min,
    uint64_t max, uint64_t *out, bool quiet)
{
	scalar s = classify(v);

	if (s.kind != S_INT || s.range || (s.neg && s.mag > 0) || s.mag < min) {
		if (!quiet) {
			trc_report(d, &v->start_mark,
			    "'%s' must be a %s integer", key,
			    min == 0 ? "non-negative" : "positive");
		}
		return false;
	}
	if (s.mag > max) {
		if (!quiet) {
			trc_report(d, &v->start_mark,
			    "'%s' must be at most %llu", key,
			    (unsigned long long)max);
		}
		return false;
	}
	*out = s.mag;
	return true;
}

char *
trc_strdup(trc_doc *d, const char *s)
{
	char *c = tri_strdup(s);

	if (c == NULL) {
		d->nomem = true;
	}
	return c;
}

char *
trc_path(trc_doc *d, const char *path)
{
	size_t n;
	char *p;

	if (path[0] == '/' || strcmp(d->dir, ".") == 0) {
		return trc_strdup(d, path);
	}
	n = strlen(d->dir) + strlen(path) + 2;
	if ((p = tri_malloc(n)) == NULL) {
		d->nomem = true;
		return NULL;
	}
	snprintf(p, n, "%s/%s", d->dir, path);
	return p;
}

/* ------------------------------------------------------------------ */
/* Any value as msgpack                                                */

static int
pack_scalar(trc_doc *d, msgpack_packer *pk, yaml_node_t *n)
{
	scalar s = classify(n);

	switch (s.kind) {
	case S_NULL:
		return msgpack_pack_nil(pk);
	case S_BOOL:
		return s.b ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
	case S_INT:
		if (s.range) {
			trc_report(d, &n->start_mark,
			    "integer '%s' does not fit in 64 bits", trc_str(n));
			return 1;
		}
		/* -(2^63) has no positive int64: negate in unsigned. */
		return s.neg ? msgpack_pack_int64(pk, (int64_t)(0 - s.mag)) :
		               msgpack_pack_uint64(pk, s.mag);
	case S_FLOAT:
		return msgpack_pack_double(pk, s.f);
	default: /* S_STR */
		return msgpack_pack_str_with_body(
		    pk, trc_str(n), n->data.scalar.length);
	}
}

/* Packs n; false once anything is wrong.  A wrong scalar is reported
 * and the walk goes on, to find the others; a value too deep or too
 * large ends it (*stop), as going on could take for ever. */
static bool
pack_value(trc_doc *d, tr_msg *m, yaml_node_t *n, int depth, bool *stop)
{
	msgpack_packer *pk = tr_msg_packer(m);
	size_t need = 9; /* the largest header or number */
	size_t bad = d->nbad;
	bool ok = true;
	int rv = 0;

	if (depth > MAX_VALUE_DEPTH) {
		trc_report(d, &n->start_mark,
		    "value nested deeper than %d levels", MAX_VALUE_DEPTH);
		*stop = true;
		return false;
	}
	if (++d->nvalues > MAX_VALUE_NODES) {
		if (d->nvalues ==
		    MAX_VALUE_NODES + 1) { /* said once is enough */
			trc_report(d, &n->start_mark,
			    "values of the file hold more than %u nodes",
			    MAX_VALUE_NODES);
		}
		d->nvalues = MAX_VALUE_NODES + 2;
		*stop = true;
		return false;
	}
	if (n->type == YAML_SCALAR_NODE) {
		need += n->data.scalar.length;
	}
	if (tr_msg_size(m) + need > TR_MSG_MAX) {
		trc_report(d, &n->start_mark, "value larger than %u bytes",
		    TR_MSG_MAX);
		*stop = true;
		return false;
	}
	if (n->type == YAML_MAPPING_NODE) {
		yaml_node_pair_t *p = n->data.mapping.pairs.start;
		rv = msgpack_pack_map(
		    pk, (size_t)(n->data.mapping.pairs.top - p));
		for (; rv == 0 && !*stop && p < n->data.mapping.pairs.top;
		     p++) {
			ok = pack_value(
			         d, m, trc_node(d, p->key), depth + 1, stop) &&
			    ok;
			ok = pack_value(d, m, trc_node(d, p->value), depth + 1,
			         stop) &&
			    ok;
		}
	} else if (n->type == YAML_SEQUENCE_NODE) {
		yaml_node_item_t *i = n->data.sequence.items.start;
		rv = msgpack_pack_array(
		    pk, (size_t)(n->data.sequence.items.top - i));
		for (; rv == 0 && !*stop && i < n->data.sequence.items.top;
		     i++) {
			ok = pack_value(
			         d, m, trc_node(d, *i), depth + 1, stop) &&
			    ok;
		}
	} else {
		rv = pack_scalar(d, pk, n);
	}
	if (rv != 0 && d->nbad == bad) {
		/* The size was checked: only memory is left. */
		d->nomem = true;
		*stop = true;
	}
	return ok && rv == 0 && !*stop;
}

tr_msg *
trc_msg(trc_doc *d, yaml_node_t *v)
{
	bool stop = false;
	tr_msg *m;

	if (tr_msg_new(&m, 0) != TR_OK) {
		d->nomem = true;
		return NULL;
	}
	if (!pack_value(d, m, v, 0, &stop)) {
		tr_msg_free(m);
		return NULL;
	}
	return m;
}
