/*
 * config_cluster.c -- a tree file's `cluster:` map (this node's place in
 * a cluster: tr_cluster_opts for tr_init), and the `node:` / `nodes:`
 * keys of its children (where each runs).
 *
 * The map is checked as the rest of the file is, every mistake at its
 * key or value, and what cannot work together is refused here rather
 * than by a node that would not find its peers: a plain tcp:// URL
 * without `insecure: true` (it has no encryption and no
 * authentication, so it must be asked for), TLS without its CA and
 * certificate, seeds that speak another scheme than this node, a
 * timeout shorter than two ticks (one late tick would take a node
 * down), etcd membership without endpoints.  Certificate paths are
 * taken from the file's directory, and must be readable now.
 *
 * One file can serve several nodes: TROUPE_NODE, when set, is this
 * node's name instead of `node:`, and "{node}" in `listen`, `tls.cert`
 * and `tls.key` is replaced with the name (web-1.crt for web-1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "internal.h"

#define DEFAULT_TICK_MS 500
#define DEFAULT_TIMEOUT_MS 2500
#define DEFAULT_ETCD_TTL_MS 5000
#define MIN_ETCD_TTL_MS 1000
/* tr_node_info.url holds a listen URL and its NUL. */
#define URL_MAX 127

struct trc_cluster {
	tr_cluster_opts opts; /* its strings and lists are ours */
};

static const char *const cluster_keys[] = {"name", "node", "listen", "seeds",
    "tls", "insecure", "tick", "timeout", "membership", "etcd", NULL};
static const char *const tls_keys[] = {"ca", "cert", "key", NULL};
static const char *const etcd_keys[] = {"endpoints", "ttl", NULL};
static const char *const memberships[] = {"static", "etcd", NULL};
static const char *const node_schemes[] = {"tcp://", "tls+tcp://", NULL};
static const char *const etcd_schemes[] = {"http://", "https://", NULL};
enum {
	SCHEME_TCP = 0,
	SCHEME_TLS = 1
};

/* ------------------------------------------------------------------ */
/* Names and URLs                                                      */

/* Whether s is a node or cluster name: 1 to TR_NAME_MAX bytes of
 * letters, digits, '.', '-' and '_' -- what a certificate's name, a
 * host name and an etcd key all take. */
static bool
node_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > TR_NAME_MAX) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		        (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
		        ch == '_')) {
			return false;
		}
	}
	return true;
}

#define NAME_RULE "1 to 64 letters, digits, '.', '-' or '_'"

/* A node (or cluster) name at v, or NULL (reported). */
static const char *
node_name(trc_doc *d, yaml_node_t *v, const char *key)
{
	const char *s = trc_text(d, v, key);

	if (s != NULL && !node_name_ok(s)) {
		trc_report(d, &v->start_mark,
		    "'%s' must be a node name (" NAME_RULE "), not '%s'", key,
		    s);
		return NULL;
	}
	return s;
}

/*
 * SCHEME://HOST:PORT with one of schemes, nothing after the port: the
 * scheme's index, or -1.  HOST is a name, an IPv4 address, [an IPv6
 * one] or *; PORT 1..65535, or 0 if port0.
 */
static int
url_scheme(const char *u, const char *const *schemes, bool port0)
{
	const char *h, *colon;
	unsigned long port = 0;
	int k = -1;

	for (int i = 0; schemes[i] != NULL; i++) {
		if (strncmp(u, schemes[i], strlen(schemes[i])) == 0) {
			k = i;
		}
	}
	if (k < 0 || strlen(u) > URL_MAX) {
		return -1;
	}
	h = u + strlen(schemes[k]);
	if (h[0] == '[') {
		const char *close = strchr(h, ']');
		if (close == NULL || close == h + 1 || close[1] != ':') {
			return -1;
		}
		colon = close + 1;
	} else if ((colon = strrchr(h, ':')) == NULL || colon == h) {
		return -1;
	}
	for (const char *p = h; p < colon; p++) {
		if (strchr("/?#@\"\\", *p) != NULL || *p <= ' ' || *p == 0x7f) {
			return -1;
		}
	}
	if (colon[1] == '\0' || strlen(colon + 1) > 5) {
		return -1;
	}
	for (const char *p = colon + 1; *p != '\0'; p++) {
		if (*p < '0' || *p > '9') {
			return -1;
		}
		port = port * 10 + (unsigned long)(*p - '0');
	}
	if (port > 65535 || (port == 0 && !port0)) {
		return -1;
	}
	return k;
}

/* s with every "{node}" replaced by node (NULL: s as it is); malloc'd,
 * NULL out of memory. */
static char *
expand(trc_doc *d, const char *s, const char *node)
{
	static const char pat[] = "{node}";
	const size_t plen = sizeof(pat) - 1;
	size_t n = 0, len;
	char *out, *o;

	if (node == NULL) {
		return trc_strdup(d, s);
	}
	for (const char *p = strstr(s, pat); p != NULL;
	     p = strstr(p + plen, pat)) {
		n++;
	}
	len = strlen(s) + n * strlen(node) + 1;
	if ((out = tri_malloc(len)) == NULL) {
		d->nomem = true;
		return NULL;
	}
	for (o = out; *s != '\0';) {
		if (strncmp(s, pat, plen) == 0) {
			memcpy(o, node, strlen(node));
			o += strlen(node);
			s += plen;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

/* Whether s waits for a node's name that is not known (its error is
 * reported): checking it would only repeat that error. */
static bool
needs_node(const char *s, const char *node)
{
	return node == NULL && strstr(s, "{node}") != NULL;
}

/* A list of URLs of those schemes (port 0 refused), NULL-terminated,
 * or NULL (reported); *k (may be NULL) the scheme of each, -1 if it
 * had none.  An empty list gives an empty array. */
static const char *const *
load_urls(trc_doc *d, yaml_node_t *v, const char *key,
    const char *const *schemes, const char *shape, int **k)
{
	yaml_node_item_t *it;
	size_t n;
	char **out;
	bool ok = true;

	if (v->type != YAML_SEQUENCE_NODE) {
		trc_report(d, &v->start_mark,
		    "'%s' must be a list of URLs (%s)", key, shape);
		return NULL;
	}
	it = v->data.sequence.items.start;
	n = (size_t)(v->data.sequence.items.top - it);
	if ((out = tri_calloc(n + 1, sizeof(*out))) == NULL ||
	    (k != NULL && (*k = tri_calloc(n + 1, sizeof(**k))) == NULL)) {
		tri_free(out);
		d->nomem = true;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *e = trc_node(d, it[i]);
		const char *s;
		int sk = -1;
		if ((s = trc_text(d, e, key)) == NULL) {
			ok = false;
			continue;
		}
		if ((sk = url_scheme(s, schemes, false)) < 0) {
			trc_report(d, &e->start_mark,
			    "'%s' must be a list of URLs (%s), not '%s'", key,
			    shape, s);
			ok = false;
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			if (out[j] != NULL && strcmp(out[j], s) == 0) {
				trc_report(d, &e->start_mark,
				    "'%s' lists '%s' twice", key, s);
				ok = false;
			}
		}
		if (k != NULL) {
			(*k)[i] = sk;
		}
		if ((out[i] = trc_strdup(d, s)) == NULL) {
			ok = false;
		}
	}
	if (!ok) {
		for (size_t i = 0; i < n; i++) {
			tri_free(out[i]);
		}
		tri_free(out);
		if (k != NULL) {
			tri_free(*k);
			*k = NULL;
		}
		return NULL;
	}
	return (const char *const *)out;
}

static void
free_strv(const char *const *v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
		tri_free((void *)v[i]);
	}
	tri_free((void *)v);
}

/* ------------------------------------------------------------------ */
/* The cluster map                                                     */

/* A certificate file of the tls map: its path from the file's
 * directory, readable now, or NULL (reported). */
static const char *
load_pem(trc_doc *d, yaml_node_t *tls, const char *key, const char *node)
{
	yaml_node_t *v = trc_get(d, tls, key, NULL);
	char *written, *path;

	if (v == NULL || trc_text(d, v, key) == NULL) {
		return NULL;
	}
	if (trc_str(v)[0] == '\0') {
		trc_report(d, &v->start_mark, "'%s' must be a path", key);
		return NULL;
	}
	if (needs_node(trc_str(v), node)) {
		return NULL;
	}
	if ((written = expand(d, trc_str(v), node)) == NULL) {
		return NULL;
	}
	path = trc_path(d, written);
	if (path != NULL && access(path, R_OK) != 0) {
		trc_report(d, &v->start_mark, "'%s': cannot read '%s': %s", key,
		    path, strerror(errno));
		tri_free(path);
		path = NULL;
	}
	tri_free(written);
	return path;
}

static void
load_tls(trc_doc *d, yaml_node_t *tls, tr_cluster_opts *o)
{
	const char *node = o->node;

	if (tls->type != YAML_MAPPING_NODE) {
		trc_report(d, &tls->start_mark,
		    "'tls' must be a map {ca: FILE, cert: FILE, key: FILE}");
		return;
	}
	trc_keys(d, tls, tls_keys, "in tls");
	if (trc_get(d, tls, "ca", NULL) == NULL) {
		trc_report(d, &tls->start_mark,
		    "'tls' has no 'ca' (the cluster's CA certificate, PEM)");
	}
	if (trc_get(d, tls, "cert", NULL) == NULL) {
		trc_report(d, &tls->start_mark,
		    "'tls' has no 'cert' (this node's certificate, PEM)");
	}
	o->ca = load_pem(d, tls, "ca", node);
	o->cert = load_pem(d, tls, "cert", node);
	o->key = load_pem(d, tls, "key", node);
}

static void
load_etcd(trc_doc *d, yaml_node_t *e, tr_cluster_opts *o)
{
	yaml_node_t *v;
	uint64_t u;

	if (e->type != YAML_MAPPING_NODE) {
		trc_report(d, &e->start_mark,
		    "'etcd' must be a map {endpoints: [URL, ...], ttl: MS}");
		return;
	}
	trc_keys(d, e, etcd_keys, "in etcd");
	if ((v = trc_get(d, e, "endpoints", NULL)) == NULL) {
		trc_report(d, &e->start_mark,
		    "'etcd' has no 'endpoints' (http://127.0.0.1:2379, ...)");
	} else if ((o->etcd = load_urls(d, v, "endpoints", etcd_schemes,
	                "http://HOST:PORT or https://HOST:PORT", NULL)) !=
	        NULL &&
	    o->etcd[0] == NULL) {
		trc_report(d, &v->start_mark,
		    "'endpoints' is empty: name an etcd server at least");
	}
	if ((v = trc_get(d, e, "ttl", NULL)) != NULL) {
		if (trc_uint(
		        d, v, "ttl", MIN_ETCD_TTL_MS, UINT32_MAX, &u, true)) {
			o->etcd_ttl_ms = (uint32_t)u;
		} else {
			trc_report(d, &v->start_mark,
			    "'ttl' must be an integer from %d to %u (ms)",
			    MIN_ETCD_TTL_MS, UINT32_MAX);
		}
	}
}

/* This node's name: TROUPE_NODE, else the map's `node`. */
static void
load_node(trc_doc *d, yaml_node_t *m, tr_cluster_opts *o)
{
	const char *env = getenv("TROUPE_NODE");
	yaml_node_t *v = trc_get(d, m, "node", NULL);

	if (env != NULL && env[0] != '\0') {
		if (!node_name_ok(env)) {
			trc_report(d, &m->start_mark,
			    "TROUPE_NODE must be a node name (" NAME_RULE
			    "), not '%.80s'",
			    env);
		} else {
			o->node = trc_strdup(d, env);
		}
		/* The file's is still checked: it is the name elsewhere. */
		if (v != NULL) {
			(void)node_name(d, v, "node");
		}
		return;
	}
	if (v == NULL) {
		trc_report(d, &m->start_mark,
		    "cluster has no 'node' (this node's name; or set "
		    "TROUPE_NODE)");
	} else if (node_name(d, v, "node") != NULL) {
		o->node = trc_strdup(d, trc_str(v));
	}
}

/* listen and seeds; the scheme of listen (-1: none) in *scheme. */
static void
load_urls_of(trc_doc *d, yaml_node_t *m, tr_cluster_opts *o, int *scheme)
{
	yaml_node_t *v;
	int *kinds = NULL;
	char *u;

	*scheme = -1;
	if ((v = trc_get(d, m, "listen", NULL)) == NULL) {
		trc_report(d, &m->start_mark,
		    "cluster has no 'listen' (tls+tcp://HOST:PORT where "
		    "this node takes the others' sessions)");
	} else if (trc_text(d, v, "listen") != NULL &&
	    !needs_node(trc_str(v), o->node) &&
	    (u = expand(d, trc_str(v), o->node)) != NULL) {
		/* Port 0 (any free one) is for a node no one dials first:
		 * tests. */
		if ((*scheme = url_scheme(u, node_schemes, true)) < 0) {
			trc_report(d, &v->start_mark,
			    "'listen' must be a URL tls+tcp://HOST:PORT (or "
			    "tcp://HOST:PORT with insecure), of at most %d "
			    "bytes, not '%s'",
			    URL_MAX, u);
			tri_free(u);
		} else {
			o->listen = u;
		}
	}
	if ((v = trc_get(d, m, "seeds", NULL)) == NULL) {
		return;
	}
	o->seeds = load_urls(d, v, "seeds", node_schemes,
	    "tls+tcp://HOST:PORT, or tcp://HOST:PORT with insecure", &kinds);
	for (size_t i = 0; o->seeds != NULL && o->seeds[i] != NULL; i++) {
		if (*scheme >= 0 && kinds[i] != *scheme) {
			yaml_node_t *e =
			    trc_node(d, v->data.sequence.items.start[i]);
			trc_report(d, &e->start_mark,
			    "seed '%s' is %s but 'listen' is %s: the nodes of "
			    "a cluster all speak one",
			    o->seeds[i], node_schemes[kinds[i]],
			    node_schemes[*scheme]);
		}
	}
	tri_free(kinds);
}

/* Plain tcp:// must be asked for; TLS needs its files. */
static void
load_security(trc_doc *d, yaml_node_t *m, tr_cluster_opts *o, int scheme)
{
	yaml_node_t *v, *k, *tls = trc_get(d, m, "tls", &k);
	bool said = true; /* insecure is absent, or true or false */

	if ((v = trc_get(d, m, "insecure", NULL)) != NULL &&
	    (said = trc_bool(d, v, "insecure", &o->insecure)) && o->insecure &&
	    scheme == SCHEME_TLS) {
		trc_report(d, &v->start_mark,
		    "'insecure: true' goes with tcp:// URLs, and 'listen' is "
		    "tls+tcp://");
	}
	if (scheme == SCHEME_TCP && !o->insecure && said) {
		v = trc_get(d, m, "listen", NULL);
		trc_report(d, &v->start_mark,
		    "'listen' is tcp://, which has no encryption and no "
		    "authentication: say 'insecure: true' to mean it, or use "
		    "tls+tcp:// with 'tls'");
	}
	if (tls != NULL && scheme == SCHEME_TCP) {
		trc_report(d, &k->start_mark,
		    "'tls' goes with tls+tcp:// URLs, and 'listen' is tcp://");
	} else if (tls != NULL) {
		load_tls(d, tls, o);
	} else if (scheme == SCHEME_TLS) {
		trc_report(d, &m->start_mark,
		    "cluster: 'listen' is tls+tcp://, which needs 'tls: {ca: "
		    "FILE, cert: FILE}' (or tcp:// with 'insecure: true')");
	}
}

/* tick and timeout: a node must be able to miss a tick. */
static void
load_timing(trc_doc *d, yaml_node_t *m, tr_cluster_opts *o)
{
	yaml_node_t *tick = trc_get(d, m, "tick", NULL);
	yaml_node_t *timeout = trc_get(d, m, "timeout", NULL);
	bool ok = true;
	uint64_t u;

	if (tick != NULL &&
	    (ok = trc_uint(d, tick, "tick", 1, UINT32_MAX, &u, false))) {
		o->tick_ms = (uint32_t)u;
	}
	if (timeout != NULL &&
	    (ok = trc_uint(d, timeout, "timeout", 1, UINT32_MAX, &u, false) &&
	            ok)) {
		o->timeout_ms = (uint32_t)u;
	}
	if (ok) {
		uint64_t t = o->tick_ms ? o->tick_ms : DEFAULT_TICK_MS;
		uint64_t to =
		    o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
		if (to < 2 * t) {
			yaml_node_t *at = timeout != NULL ? timeout : tick;
			trc_report(d, &at->start_mark,
			    "'timeout' (%llu ms) must be at least twice 'tick' "
			    "(%llu ms): a node that missed one tick would be "
			    "down",
			    (unsigned long long)to, (unsigned long long)t);
		}
	}
}

static void
load_membership(trc_doc *d, yaml_node_t *m, tr_cluster_opts *o)
{
	yaml_node_t *v, *k, *etcd = trc_get(d, m, "etcd", &k);
	int e = 0;

	if ((v = trc_get(d, m, "membership", NULL)) != NULL &&
	    (e = trc_enum(d, v, "membership", memberships)) >= 0) {
		o->membership = trc_strdup(d, memberships[e]);
	}
	if (e == 1 && etcd == NULL) {
		trc_report(d, &v->start_mark,
		    "'membership: etcd' needs 'etcd: {endpoints: [URL, ...]}'");
	}
	if (etcd != NULL && e == 0) {
		trc_report(d, &k->start_mark,
		    "'etcd' is for 'membership: etcd', and membership is "
		    "static");
	} else if (etcd != NULL) {
		load_etcd(d, etcd, o);
	}
}

trc_cluster *
trc_load_cluster(trc_doc *d, yaml_node_t *m)
{
	trc_cluster *c;
	yaml_node_t *v;
	int scheme;

	if (m->type != YAML_MAPPING_NODE) {
		trc_report(d, &m->start_mark,
		    "'cluster' must be a map (name, node, listen, ...)");
		return NULL;
	}
	if ((c = tri_calloc(1, sizeof(*c))) == NULL) {
		d->nomem = true;
		return NULL;
	}
	trc_keys(d, m, cluster_keys, "in cluster");
	if ((v = trc_get(d, m, "name", NULL)) == NULL) {
		trc_report(d, &m->start_mark,
		    "cluster has no 'name' (the same on every node)");
	} else if (node_name(d, v, "name") != NULL) {
		c->opts.cluster = trc_strdup(d, trc_str(v));
	}
	load_node(d, m, &c->opts);
	load_urls_of(d, m, &c->opts, &scheme);
	load_security(d, m, &c->opts, scheme);
	load_timing(d, m, &c->opts);
	load_membership(d, m, &c->opts);
	return c;
}

const tr_cluster_opts *
trc_cluster_opts(const trc_cluster *c)
{
	return c != NULL ? &c->opts : NULL;
}

void
trc_free_cluster(trc_cluster *c)
{
	if (c == NULL) {
		return;
	}
	tri_free((void *)c->opts.cluster);
	tri_free((void *)c->opts.node);
	tri_free((void *)c->opts.listen);
	free_strv(c->opts.seeds);
	tri_free((void *)c->opts.ca);
	tri_free((void *)c->opts.cert);
	tri_free((void *)c->opts.key);
	tri_free((void *)c->opts.membership);
	free_strv(c->opts.etcd);
	tri_free(c);
}

/* ------------------------------------------------------------------ */
/* Children's nodes                                                    */

/*
 * What a start on another node does not carry (tr_spec.node: the
 * behavior, the program's name, the registered name and init_arg
 * travel), refused at its key rather than failing at every start there:
 * a command's arguments, env, cwd, raw_output.  A command of one
 * element is its program alone (argv NULL), which does travel.
 */
static void
remote_only(trc_doc *d, yaml_node_t *m, tr_child_spec *c)
{
	static const char *const keys[] = {"env", "cwd", "raw_output", NULL};
	yaml_node_t *k;

	if (trc_get(d, m, "command", &k) != NULL && c->start.argv != NULL) {
		if (c->start.argv[0] != NULL && c->start.argv[1] != NULL) {
			trc_report(d, &k->start_mark,
			    "a 'command' with arguments cannot start on "
			    "another "
			    "node: only its program travels (give the program "
			    "alone, or a script that holds the arguments)");
		} else {
			for (size_t i = 0; c->start.argv[i] != NULL; i++) {
				tri_free((void *)c->start.argv[i]);
			}
			tri_free((void *)c->start.argv);
			c->start.argv = NULL;
		}
	}
	for (size_t i = 0; keys[i] != NULL; i++) {
		if (trc_get(d, m, keys[i], &k) != NULL) {
			trc_report(d, &k->start_mark,
			    "'%s' does not travel to another node: not with "
			    "'node' or 'nodes'",
			    keys[i]);
		}
	}
}

void
trc_load_child_nodes(
    trc_doc *d, yaml_node_t *m, tr_child_spec *c, bool clustered)
{
	yaml_node_t *kn, *kl, *one = trc_get(d, m, "node", &kn);
	yaml_node_t *list = trc_get(d, m, "nodes", &kl);
	yaml_node_item_t *it;
	size_t n;
	char **v;
	bool ok = true;

	if (one == NULL && list == NULL) {
		return;
	}
	if (one != NULL && list != NULL) {
		trc_report(d, &kl->start_mark,
		    "'node' and 'nodes' together: give one ('nodes' lists "
		    "several, the first up is taken)");
		return;
	}
	if (!clustered) {
		trc_report(d, &(one != NULL ? kn : kl)->start_mark,
		    "'%s' needs a 'cluster' section: this node is in no "
		    "cluster",
		    one != NULL ? "node" : "nodes");
		return;
	}
	remote_only(d, m, c);
	if (one != NULL) {
		if (node_name(d, one, "node") != NULL) {
			c->start.node = trc_strdup(d, trc_str(one));
		}
		return;
	}
	if (list->type != YAML_SEQUENCE_NODE ||
	    list->data.sequence.items.start == list->data.sequence.items.top) {
		trc_report(d, &list->start_mark,
		    "'nodes' must be a non-empty list of node names "
		    "([db-1, db-2])");
		return;
	}
	it = list->data.sequence.items.start;
	n = (size_t)(list->data.sequence.items.top - it);
	if ((v = tri_calloc(n + 1, sizeof(*v))) == NULL) {
		d->nomem = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *e = trc_node(d, it[i]);
		const char *s = node_name(d, e, "nodes");
		if (s == NULL) {
			ok = false;
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			if (v[j] != NULL && strcmp(v[j], s) == 0) {
				trc_report(d, &e->start_mark,
				    "'nodes' lists '%s' twice", s);
				ok = false;
			}
		}
		if ((v[i] = trc_strdup(d, s)) == NULL) {
			ok = false;
		}
	}
	if (!ok) {
		for (size_t i = 0; i < n; i++) {
			tri_free(v[i]);
		}
		tri_free(v);
		return;
	}
	c->nodes = (const char *const *)v;
}
