/*
 * members_view.c -- what a member knows of its cluster (members.h):
 * the nodes and the global names, kept from the etcd watch of
 * /troupe/<cluster>/, and the notices it hands to the notifier thread.
 *
 * The watch reports each change once, in revision order (etcd_watch.c);
 * a resync (history compacted, or the first read at join) replaces the
 * view, with a leave for each node gone and a join for each new one.
 * Values that are not troupe's (a key written by hand, a hostile
 * store) count as absent: a node whose record is bad has left.
 */
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "json.h"
#include "members_impl.h"

/* ------------------------------------------------------------------ */
/* Records                                                             */

bool
tri_members_name_ok(const char *s)
{
	size_t n = 0;

	if (s == NULL) {
		return false;
	}
	for (; s[n] != '\0'; n++) {
		unsigned char c = (unsigned char)s[n];
		if (c <= 0x20 || c >= 0x7f || c == '/' || n == TR_NAME_MAX) {
			return false;
		}
	}
	return n > 0;
}

size_t
tri_members_node_value(const char *url, uint32_t id, char *buf, size_t len)
{
	char quoted[2 * TRI_MEMBERS_URL_MAX + 8];
	int n;

	if (tri_json_quote(url, quoted, sizeof(quoted)) >= sizeof(quoted)) {
		return 0;
	}
	n = snprintf(buf, len, "{\"id\":%u,\"url\":%s}", (unsigned)id, quoted);
	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

size_t
tri_members_ref_value(tr_ref ref, char *buf, size_t len)
{
	int n = snprintf(buf, len,
	    "{\"node\":%u,\"proc\":%u,\"slot\":%u,\"gen\":%u}",
	    (unsigned)ref.node, (unsigned)ref.proc, (unsigned)ref.slot,
	    (unsigned)ref.gen);
	return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

static bool
get_u32(const tri_json *d, const char *name, uint32_t *out)
{
	int64_t v;

	if (tri_json_int(d, tri_json_get(d, 0, name), &v) != TR_OK || v < 0 ||
	    v > UINT32_MAX) {
		return false;
	}
	*out = (uint32_t)v;
	return true;
}

/* {"id":N,"url":"..."}: id not 0, url printable and short enough. */
static bool
parse_node(const tri_etcd_kv *kv, tri_mnode *out)
{
	tri_json d;
	char *url = NULL;
	size_t n = 0;
	bool ok = false;

	if (tri_json_parse(&d, kv->value, kv->value_len) != TR_OK) {
		return false;
	}
	if (tri_json_type_of(&d, 0) == TRI_JSON_OBJECT &&
	    get_u32(&d, "id", &out->id) && out->id != 0 &&
	    tri_json_str(&d, tri_json_get(&d, 0, "url"), &url, &n) == TR_OK &&
	    n > 0 && n <= TRI_MEMBERS_URL_MAX) {
		ok = true;
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)url[i];
			ok = ok && c >= 0x20 && c < 0x7f;
		}
		if (ok) {
			memcpy(out->url, url, n + 1);
		}
	}
	tri_free(url);
	tri_json_free(&d);
	return ok;
}

/* {"node":N,"proc":P,"slot":S,"gen":G}, not the nil ref. */
static bool
parse_ref(const tri_etcd_kv *kv, tr_ref *out)
{
	tri_json d;
	bool ok;

	if (tri_json_parse(&d, kv->value, kv->value_len) != TR_OK) {
		return false;
	}
	ok = tri_json_type_of(&d, 0) == TRI_JSON_OBJECT &&
	    get_u32(&d, "node", &out->node) &&
	    get_u32(&d, "proc", &out->proc) &&
	    get_u32(&d, "slot", &out->slot) && get_u32(&d, "gen", &out->gen) &&
	    !tr_ref_is_nil(*out);
	tri_json_free(&d);
	return ok;
}

/* The name after "<prefix><folder>" in kv's key, or NULL if the key is
 * not in that folder or holds no valid name. */
static const char *
leaf(const tri_members *m, const tri_etcd_kv *kv, const char *folder)
{
	size_t plen = strlen(m->prefix), flen = strlen(folder);
	const char *name;

	if (strlen(kv->key) != kv->key_len || kv->key_len <= plen + flen ||
	    memcmp(kv->key, m->prefix, plen) != 0 ||
	    memcmp(kv->key + plen, folder, flen) != 0) {
		return NULL;
	}
	name = kv->key + plen + flen;
	return tri_members_name_ok(name) ? name : NULL;
}

/* ------------------------------------------------------------------ */
/* Notices                                                             */

void
tri_members_notify(tri_members *m, tri_notice_kind kind, const tri_mnode *node)
{
	tri_notice *n;

	if (!m->watching) {
		return;
	}
	/* Out of memory, a notice is lost: nothing better can be done
	 * on the watch's thread, which must go on. */
	if ((n = tri_calloc(1, sizeof(*n))) == NULL) {
		return;
	}
	n->kind = kind;
	if (node != NULL) {
		n->node = *node;
	}
	if (m->tail != NULL) {
		m->tail->next = n;
	} else {
		m->head = n;
	}
	m->tail = n;
	pthread_cond_signal(&m->note_cond);
}

static void *
notifier(void *arg)
{
	tri_members *m = arg;

	pthread_mutex_lock(&m->lock);
	for (;;) {
		while (m->head == NULL && !m->note_stop) {
			pthread_cond_wait(&m->note_cond, &m->lock);
		}
		if (m->note_stop) {
			break;
		}
		tri_notice *n = m->head;
		m->head = n->next;
		if (m->head == NULL) {
			m->tail = NULL;
		}
		tri_members_cb cb = m->cb;
		pthread_mutex_unlock(&m->lock);
		switch (n->kind) {
		case TRI_NOTE_JOIN:
			if (cb.join != NULL) {
				cb.join(cb.arg, n->node.name, n->node.id,
				    n->node.url);
			}
			break;
		case TRI_NOTE_LEAVE:
			if (cb.leave != NULL) {
				cb.leave(cb.arg, n->node.name, n->node.id);
			}
			break;
		case TRI_NOTE_FENCED:
			if (cb.fenced != NULL) {
				cb.fenced(cb.arg);
			}
			break;
		case TRI_NOTE_UNFENCED:
			if (cb.unfenced != NULL) {
				cb.unfenced(cb.arg);
			}
			break;
		}
		tri_free(n);
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

int
tri_members_notifier_start(tri_members *m)
{
	if (pthread_create(&m->notifier, NULL, notifier, m) != 0) {
		return TR_ERESOURCE;
	}
	m->notifier_started = true;
	return TR_OK;
}

void
tri_members_notifier_stop(tri_members *m)
{
	if (!m->notifier_started) {
		return;
	}
	pthread_mutex_lock(&m->lock);
	m->note_stop = true;
	pthread_cond_broadcast(&m->note_cond);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->notifier, NULL);
	m->notifier_started = false;
}

/* ------------------------------------------------------------------ */
/* Nodes                                                               */

static tri_mnode *
node_find(tri_members *m, const char *name)
{
	for (size_t i = 0; i < m->nnodes; i++) {
		if (strcmp(m->nodes[i].name, name) == 0) {
			return &m->nodes[i];
		}
	}
	return NULL;
}

static void
node_del(tri_members *m, const char *name)
{
	tri_mnode *e = node_find(m, name);

	if (e == NULL) {
		return;
	}
	tri_members_notify(m, TRI_NOTE_LEAVE, e);
	*e = m->nodes[--m->nnodes];
}

static void
node_put(tri_members *m, const char *name, const tri_mnode *rec)
{
	tri_mnode *e = node_find(m, name);

	if (e != NULL) {
		if (e->id == rec->id && strcmp(e->url, rec->url) == 0) {
			return;
		}
		/* Another incarnation under the same name. */
		tri_members_notify(m, TRI_NOTE_LEAVE, e);
		e->id = rec->id;
		memcpy(e->url, rec->url, sizeof(e->url));
		tri_members_notify(m, TRI_NOTE_JOIN, e);
		return;
	}
	if (m->nnodes == m->capnodes) {
		size_t cap = m->capnodes ? m->capnodes * 2 : 8;
		tri_mnode *p = tri_realloc(m->nodes, cap * sizeof(*p));
		if (p == NULL) {
			return; /* out of memory: the node goes unseen */
		}
		m->nodes = p;
		m->capnodes = cap;
	}
	e = &m->nodes[m->nnodes++];
	*e = *rec;
	snprintf(e->name, sizeof(e->name), "%s", name);
	tri_members_notify(m, TRI_NOTE_JOIN, e);
}

/* ------------------------------------------------------------------ */
/* Names (sorted, for lookups by bisection)                            */

static size_t
name_pos(const tri_members *m, const char *name, bool *found)
{
	size_t lo = 0, hi = m->nnames;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(m->names[mid].name, name);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo;
}

static void
name_del(tri_members *m, const char *name)
{
	bool found;
	size_t i = name_pos(m, name, &found);

	if (found) {
		memmove(&m->names[i], &m->names[i + 1],
		    (m->nnames - i - 1) * sizeof(m->names[0]));
		m->nnames--;
	}
}

static void
name_put(tri_members *m, const char *name, tr_ref ref, int64_t lease)
{
	bool found;
	size_t i = name_pos(m, name, &found);

	if (!found) {
		if (m->nnames == m->capnames) {
			size_t cap = m->capnames ? m->capnames * 2 : 16;
			tri_mname *p = tri_realloc(m->names, cap * sizeof(*p));
			if (p == NULL) {
				return; /* out of memory: not cached */
			}
			m->names = p;
			m->capnames = cap;
		}
		memmove(&m->names[i + 1], &m->names[i],
		    (m->nnames - i) * sizeof(m->names[0]));
		m->nnames++;
		snprintf(
		    m->names[i].name, sizeof(m->names[i].name), "%s", name);
	}
	m->names[i].ref = ref;
	m->names[i].lease = lease;
}

void
tri_members_drop_names(tri_members *m, int64_t lease)
{
	size_t k = 0;

	for (size_t i = 0; i < m->nnames; i++) {
		if (m->names[i].lease != lease) {
			m->names[k++] = m->names[i];
		}
	}
	m->nnames = k;
}

/* ------------------------------------------------------------------ */
/* The watch's reports                                                 */

/* A name record, unless it belongs to this node's lost lease (a late
 * report: the node dropped those names when it fenced itself). */
static void
apply_name(tri_members *m, const char *name, const tri_etcd_kv *kv)
{
	tr_ref ref;

	if (!parse_ref(kv, &ref)) {
		name_del(m, name);
	} else if (kv->lease == 0 || kv->lease != m->old_lease) {
		name_put(m, name, ref, kv->lease);
	}
}

void
tri_members_on_event(void *arg, tri_etcd_ev type, const tri_etcd_kv *kv)
{
	tri_members *m = arg;
	const char *name;
	tri_mnode rec;

	pthread_mutex_lock(&m->lock);
	if ((name = leaf(m, kv, "nodes/")) != NULL) {
		if (strcmp(name, m->name) == 0) {
			/* This node's own key gone, while its lease
			 * lives: the lease was lost -- tell the keeper. */
			if (type == TRI_ETCD_DELETE && m->lease != 0 &&
			    kv->mod_rev > m->self_rev) {
				m->lost = true;
				pthread_cond_signal(&m->keeper_cond);
			}
		} else if (type == TRI_ETCD_PUT && parse_node(kv, &rec)) {
			node_put(m, name, &rec);
		} else {
			node_del(m, name);
		}
	} else if ((name = leaf(m, kv, "names/")) != NULL) {
		if (type == TRI_ETCD_PUT) {
			apply_name(m, name, kv);
		} else {
			name_del(m, name);
		}
	}
	if (kv->mod_rev > m->view_rev) {
		m->view_rev = kv->mod_rev;
		pthread_cond_broadcast(&m->view_cond);
	}
	pthread_mutex_unlock(&m->lock);
}

/* Whether kvs holds a valid node record under name. */
static bool
has_node(const tri_members *m, const tri_etcd_kvs *kvs, const char *name)
{
	tri_mnode rec;

	for (size_t i = 0; i < kvs->n; i++) {
		const char *n = leaf(m, &kvs->kv[i], "nodes/");
		if (n != NULL && strcmp(n, name) == 0 &&
		    parse_node(&kvs->kv[i], &rec)) {
			return true;
		}
	}
	return false;
}

void
tri_members_on_resync(void *arg, const tri_etcd_kvs *kvs)
{
	tri_members *m = arg;
	tri_mnode rec;

	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nnodes;) {
		if (has_node(m, kvs, m->nodes[i].name)) {
			i++;
		} else {
			node_del(m, m->nodes[i].name); /* moves the last here */
		}
	}
	/* This node's key missing from keys read after it was made. */
	if (m->lease != 0 && kvs->rev > m->self_rev &&
	    !has_node(m, kvs, m->name)) {
		m->lost = true;
		pthread_cond_signal(&m->keeper_cond);
	}
	m->nnames = 0;
	for (size_t i = 0; i < kvs->n; i++) {
		const tri_etcd_kv *kv = &kvs->kv[i];
		const char *name;
		if ((name = leaf(m, kv, "nodes/")) != NULL) {
			if (strcmp(name, m->name) != 0 &&
			    parse_node(kv, &rec)) {
				node_put(m, name, &rec);
			}
		} else if ((name = leaf(m, kv, "names/")) != NULL) {
			apply_name(m, name, kv);
		}
	}
	if (kvs->rev > m->view_rev) {
		m->view_rev = kvs->rev;
		pthread_cond_broadcast(&m->view_cond);
	}
	pthread_mutex_unlock(&m->lock);
}

/* ------------------------------------------------------------------ */
/* Calls                                                               */

int
tri_members_watch(tri_members *m, const tri_members_cb *cb)
{
	if (m == NULL || cb == NULL) {
		return TR_EINVAL;
	}
	pthread_mutex_lock(&m->lock);
	if (m->watching) {
		pthread_mutex_unlock(&m->lock);
		return TR_ESTATE;
	}
	m->cb = *cb;
	m->watching = true;
	for (size_t i = 0; i < m->nnodes; i++) {
		tri_members_notify(m, TRI_NOTE_JOIN, &m->nodes[i]);
	}
	if (m->lease == 0) {
		tri_members_notify(m, TRI_NOTE_FENCED, NULL);
	}
	pthread_mutex_unlock(&m->lock);
	return TR_OK;
}

bool
tri_members_name_find(
    tri_members *m, const char *name, tr_ref *ref, int64_t *lease)
{
	bool found;
	size_t i = name_pos(m, name, &found);

	if (found && ref != NULL) {
		*ref = m->names[i].ref;
	}
	if (found && lease != NULL) {
		*lease = m->names[i].lease;
	}
	return found;
}

int
tri_members_whereis(tri_members *m, const char *name, tr_ref *out)
{
	bool found;

	if (m == NULL || out == NULL || !tri_members_name_ok(name)) {
		return TR_EINVAL;
	}
	pthread_mutex_lock(&m->lock);
	found = tri_members_name_find(m, name, out, NULL);
	pthread_mutex_unlock(&m->lock);
	return found ? TR_OK : TR_ENOENT;
}

void
tri_members_view_free(tri_members *m)
{
	while (m->head != NULL) {
		tri_notice *n = m->head;
		m->head = n->next;
		tri_free(n);
	}
	m->tail = NULL;
	tri_free(m->nodes);
	tri_free(m->names);
	m->nodes = NULL;
	m->names = NULL;
	m->nnodes = m->nnames = 0;
}
