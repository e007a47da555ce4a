/*
 * dist_hello.c -- the handshake between two nodes.
 *
 * Each node sends HELLO first on the connection it dialed, and again
 * whenever it learns a new nonce of the other's.  HELLO's body is a
 * msgpack array:
 *
 *   [vmin, vmax, cluster, name, id, url, nonce, echo, service, known]
 *
 * versions this node speaks, its cluster and node names, its node id
 * (incarnation), its listen URL, the nonce of the connection it sends
 * on, the last nonce it heard from the receiver (0: none), its spawn
 * service's ref, and [[name, url], ...] of the nodes it has sessions
 * with (so that every node meets every other: a full mesh).
 *
 * Who is on an inbound connection: a listener cannot tell which of the
 * cluster's certificates the dialer showed (nng 1.5.2 gives no peer
 * name).  But our own connection to node X was dialed with X's name as
 * the server name, which TLS checked.  So a nonce we sent only on that
 * connection, echoed back on an inbound one, proves the inbound one is
 * X's: only then is it bound to X, and only frames on a bound
 * connection are delivered.  A seed dialed by URL before its name was
 * known is dialed again by name once its HELLO tells it.
 *
 * Refused, with a line on stderr saying why, and the connection
 * closed: protocol versions that do not overlap, another cluster, this
 * node's own name or id, a name that has a live session with another
 * id (the older incarnation wins until it is known down), an id that
 * another node has.
 */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "dist_impl.h"
#include "runtime.h"

static bool
get_str(const msgpack_object *o, char *buf, size_t len, bool empty_ok)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= len ||
	    (!empty_ok && o->via.str.size == 0) ||
	    memchr(o->via.str.ptr, '\0', o->via.str.size) != NULL) {
		return false;
	}
	memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
	return true;
}

static bool
get_u64(const msgpack_object *o, uint64_t *v)
{
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) {
		return false;
	}
	*v = o->via.u64;
	return true;
}

static bool
parse(const msgpack_object *o, tri_hello *h)
{
	const msgpack_object *a;
	uint64_t id;

	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 10) {
		return false;
	}
	a = o->via.array.ptr;
	return get_u64(&a[0], &h->vmin) && get_u64(&a[1], &h->vmax) &&
	    get_str(&a[2], h->cluster, sizeof(h->cluster), false) &&
	    get_str(&a[3], h->name, sizeof(h->name), false) &&
	    get_u64(&a[4], &id) && id != 0 && id <= UINT32_MAX &&
	    (h->id = (uint32_t)id, true) &&
	    get_str(&a[5], h->url, sizeof(h->url), false) &&
	    get_u64(&a[6], &h->nonce) && h->nonce != 0 &&
	    get_u64(&a[7], &h->echo) &&
	    tr_unpack_ref(&a[8], &h->service) == TR_OK &&
	    a[9].type == MSGPACK_OBJECT_ARRAY && (h->known = a[9], true);
}

int
tri_dist_hello_parse(
    const uint8_t *body, size_t len, msgpack_unpacked *u, tri_hello *h)
{
	size_t off = 0;

	memset(h, 0, sizeof(*h));
	/* tri_body_check first: msgpack-c trusts lengths it is given. */
	if (tri_body_check(body, len) != TR_OK || len == 0 ||
	    msgpack_unpack_next(u, (const char *)body, len, &off) !=
	        MSGPACK_UNPACK_SUCCESS ||
	    off != len || !parse(&u->data, h)) {
		return TR_EPROTO;
	}
	return TR_OK;
}

int
tri_dist_hello_out(tri_peer *p)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	uint32_t nknown = 0;
	tri_frame f;
	int rv;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 10);
	msgpack_pack_uint64(&pk, TRI_DIST_VMIN);
	msgpack_pack_uint64(&pk, TRI_DIST_VMAX);
	msgpack_pack_str_with_body(&pk, D.cluster, strlen(D.cluster));
	msgpack_pack_str_with_body(&pk, D.name, strlen(D.name));
	msgpack_pack_uint64(&pk, tri_rt.node);
	msgpack_pack_str_with_body(&pk, D.url, strlen(D.url));
	msgpack_pack_uint64(&pk, p->nonce);
	msgpack_pack_uint64(&pk, p->their_nonce);
	(void)tr_pack_ref(&pk, D.service);
	for (uint32_t i = 0; i < D.npeers; i++) {
		nknown += D.peers[i].used && D.peers[i].up;
	}
	msgpack_pack_array(&pk, nknown);
	for (uint32_t i = 0; i < D.npeers; i++) {
		tri_peer *q = &D.peers[i];
		if (q->used && q->up) {
			msgpack_pack_array(&pk, 2);
			msgpack_pack_str_with_body(
			    &pk, q->name, strlen(q->name));
			msgpack_pack_str_with_body(&pk, q->url, strlen(q->url));
		}
	}
	memset(&f, 0, sizeof(f));
	f.kind = TRI_K_HELLO;
	f.sender = (tr_ref){tri_rt.node, 0, 0, 0};
	f.dest = (tr_ref){p->id, 0, 0, 0};
	f.body = (const uint8_t *)sb.data;
	f.body_len = (uint32_t)sb.size;
	rv = tri_wire_queue(p, &f, true);
	msgpack_sbuffer_destroy(&sb);
	if (rv == TR_OK) {
		p->echoed = p->their_nonce != 0;
	}
	return rv;
}

static void
refuse(uint32_t pipe, const tri_hello *h, const char *why)
{
	fprintf(stderr,
	    "troupe: node %s: refusing node %s (id %08x) at %s: %s\n", D.name,
	    h->name, h->id, h->url, why);
	if (D.listener != NULL) {
		tri_peer_drop(D.listener, pipe);
	}
}

static void
learn_known(const msgpack_object *known)
{
	for (uint32_t i = 0; i < known->via.array.size; i++) {
		const msgpack_object *e = &known->via.array.ptr[i];
		char name[TR_NAME_MAX + 1], url[128];
		if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 2 ||
		    !get_str(&e->via.array.ptr[0], name, sizeof(name), false) ||
		    !get_str(&e->via.array.ptr[1], url, sizeof(url), false)) {
			continue;
		}
		if (strcmp(name, D.name) != 0 &&
		    tri_dist_find_locked(name) == NULL) {
			(void)tri_dist_add_locked(name, url);
		}
	}
}

/* A seed we dialed by URL, now that its HELLO names it. */
static tri_peer *
seed_of_locked(const char *url)
{
	for (uint32_t i = 0; i < D.npeers; i++) {
		if (D.peers[i].used && D.peers[i].name[0] == '\0' &&
		    strcmp(D.peers[i].url, url) == 0) {
			return &D.peers[i];
		}
	}
	return NULL;
}

void
tri_dist_hello_in(uint32_t pipe, const tri_frame *f)
{
	msgpack_unpacked u;
	tri_peer *p;
	tri_hello h;
	char why[256];

	msgpack_unpacked_init(&u);
	if (tri_dist_hello_parse(f->body, f->body_len, &u, &h) != TR_OK) {
		TRI_STAT(malformed);
		fprintf(stderr,
		    "troupe: node %s: a malformed handshake: connection "
		    "closed\n",
		    D.name);
		if (D.listener != NULL) {
			tri_peer_drop(D.listener, pipe);
		}
		msgpack_unpacked_destroy(&u);
		return;
	}
	pthread_mutex_lock(&D.mtx);
	if (h.vmax < TRI_DIST_VMIN || h.vmin > TRI_DIST_VMAX) {
		snprintf(why, sizeof(why),
		    "it speaks protocol versions %llu..%llu, this node "
		    "%d..%d",
		    (unsigned long long)h.vmin, (unsigned long long)h.vmax,
		    TRI_DIST_VMIN, TRI_DIST_VMAX);
		refuse(pipe, &h, why);
		goto out;
	}
	if (strcmp(h.cluster, D.cluster) != 0) {
		snprintf(why, sizeof(why),
		    "it belongs to cluster %s, this node to %s", h.cluster,
		    D.cluster);
		refuse(pipe, &h, why);
		goto out;
	}
	if (strcmp(h.name, D.name) == 0) {
		refuse(pipe, &h, "it has this node's own name");
		goto out;
	}
	if (h.id == tri_rt.node) {
		refuse(pipe, &h, "it has this node's own id");
		goto out;
	}
	for (uint32_t i = 0; i < D.npeers; i++) {
		tri_peer *q = &D.peers[i];
		if (q->used && q->up && q->id == h.id &&
		    strcmp(q->name, h.name) != 0) {
			snprintf(
			    why, sizeof(why), "node %s has that id", q->name);
			refuse(pipe, &h, why);
			goto out;
		}
	}
	if ((p = tri_dist_find_locked(h.name)) == NULL) {
		if ((p = seed_of_locked(h.url)) != NULL) {
			snprintf(p->name, sizeof(p->name), "%s", h.name);
		} else if ((p = tri_dist_add_locked(h.name, h.url)) == NULL) {
			refuse(pipe, &h, "too many nodes");
			goto out;
		}
	}
	if (p->up && p->id != h.id) {
		snprintf(why, sizeof(why),
		    "a node of that name is up with id %08x", p->id);
		refuse(pipe, &h, why);
		goto out;
	}
	if (p->up && p->in_pipe != pipe && h.nonce != p->their_nonce) {
		/* It began a new session: it saw ours end. */
		tri_dist_down_locked(p, "it began a new session");
	}
	p->id = h.id;
	p->service = h.service;
	atomic_fetch_add(&p->frames_in, 1);
	if (strcmp(p->url, h.url) != 0 && !p->up) {
		snprintf(p->url, sizeof(p->url), "%s", h.url);
	}
	if (h.nonce != p->their_nonce) {
		p->their_nonce = h.nonce;
		p->echoed = false;
	}
	if (h.echo != 0 && h.echo == p->nonce && p->out != NULL &&
	    p->out_verified && !p->close_out) {
		p->in_pipe = pipe;
	}
	if (p->out != NULL && !p->close_out) {
		if (!p->out_verified) {
			/* A seed dialed by URL: dial it again by name. */
			p->close_out = true;
			p->next_dial = 0;
			tri_dist_kick();
		} else if (!p->echoed) {
			(void)tri_dist_hello_out(p);
		}
	} else if (!p->dialing) {
		p->next_dial = 0;
		tri_dist_kick();
	}
	if (p->in_pipe == pipe && p->echoed && p->out_verified) {
		tri_dist_up_locked(p);
	}
	learn_known(&h.known);
out:
	pthread_mutex_unlock(&D.mtx);
	msgpack_unpacked_destroy(&u);
}
