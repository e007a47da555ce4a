/*
 * buffer.c -- shared buffers as this process sees them: handles, one
 * mapping per buffer, and the holds that messages carry.
 *
 * A tr_buf is an id in this process's handle table (a registry behind
 * one lock, as the actor registry is), so a handle that was released or
 * transferred away is refused with an error, never dereferenced.  Every
 * handle belongs to the context that made or received it, and goes
 * with that context's end.
 *
 * Each buffer is mapped once per process, however many handles and
 * messages hold it here, and unmapped when the last of them goes.  The
 * node's table (buftab.c) counts the holds per process: a handle is
 * one, a message is one per buffer ext in its body, and a frame on its
 * way is one per ext for the receiving process, taken by the sender
 * (tri_buf_frame_hold): the receiver that reads it owns the hold already
 * (tri_buf_body_adopt rewrites the ext to name itself), and one that
 * dies before it read it has its holds dropped by the root.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc.h"
#include "buffer.h"
#include "ctx.h"
#include "msg.h"
#include "runtime.h"

typedef struct bmap {
	uint32_t gen;
	uint32_t count; /* handles and messages of this process */
	uint8_t *base;
	size_t size;
} bmap;

enum {
	H_FREE,
	H_LIVE,
	H_DETACHED
};

typedef struct bhandle {
	uint32_t hgen; /* bumped as the handle is freed */
	uint8_t state;
	tri_bufname n;
	tr_ref owner;
	uint32_t next_free;
} bhandle;

#define NO_HANDLE UINT32_MAX

static struct {
	pthread_mutex_t mtx;
	bmap *maps; /* by buffer id */
	bhandle *h;
	uint32_t n, cap, free_head;
	uint32_t used; /* handles not free */
} B = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, 0, NO_HANDLE, 0};

int
tri_buf_init(void)
{
	pthread_mutex_lock(&B.mtx);
	if (B.maps == NULL &&
	    (B.maps = tri_calloc(TRI_BUF_ENTRIES, sizeof(bmap))) == NULL) {
		pthread_mutex_unlock(&B.mtx);
		return TR_ENOMEM;
	}
	pthread_mutex_unlock(&B.mtx);
	return TR_OK;
}

void
tri_buf_fini(void)
{
	pthread_mutex_lock(&B.mtx);
	if (B.maps != NULL) {
		for (uint32_t i = 0; i < TRI_BUF_ENTRIES; i++) {
			if (B.maps[i].count > 0) {
				munmap(B.maps[i].base, B.maps[i].size);
			}
		}
		tri_free(B.maps);
		B.maps = NULL;
	}
	tri_free(B.h);
	B.h = NULL;
	B.n = B.cap = B.used = 0;
	B.free_head = NO_HANDLE;
	pthread_mutex_unlock(&B.mtx);
}

/* ------------------------------------------------------------------ */
/* Mappings (under B.mtx)                                              */

/* One more local holder of n's mapping, mapping it if need be. */
static int
map_get(const tri_bufname *n, uint8_t **base)
{
	bmap *m = &B.maps[n->id];
	void *p;
	int fd, rv;

	if (m->count > 0) {
		if (m->gen != n->gen) {
			return TR_EPROTO; /* an old incarnation still mapped */
		}
		m->count++;
		*base = m->base;
		return TR_OK;
	}
	if ((rv = tri_buftab_open_file(n, &fd)) != TR_OK) {
		return rv;
	}
	p = mmap(
	    NULL, (size_t)n->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	rv = p == MAP_FAILED ? tri_err_errno(errno) : TR_OK;
	close(fd);
	if (rv != TR_OK) {
		return rv;
	}
	m->gen = n->gen;
	m->count = 1;
	m->base = p;
	m->size = (size_t)n->size;
	*base = m->base;
	return TR_OK;
}

static void
map_put(uint32_t id)
{
	bmap *m = &B.maps[id];

	if (m->count > 0 && --m->count == 0) {
		munmap(m->base, m->size);
		m->base = NULL;
	}
}

/* ------------------------------------------------------------------ */
/* Handles (under B.mtx)                                               */

static bhandle *
handle_find(tr_buf b)
{
	uint32_t i = (uint32_t)b.id;
	uint32_t gen = (uint32_t)(b.id >> 32);

	if (i == 0 || i > B.n || B.h[i - 1].hgen != gen ||
	    B.h[i - 1].state == H_FREE) {
		return NULL;
	}
	return &B.h[i - 1];
}

static int
handle_new(const tri_bufname *n, tr_buf *out)
{
	tri_ctx *self = tri_self();
	uint32_t i;
	bhandle *h;

	if (B.free_head != NO_HANDLE) {
		i = B.free_head;
		B.free_head = B.h[i].next_free;
	} else {
		if (B.n == B.cap) {
			uint32_t ncap = B.cap ? 2 * B.cap : 16;
			bhandle *nh = tri_realloc(B.h, ncap * sizeof(*nh));
			if (nh == NULL) {
				return TR_ENOMEM;
			}
			B.h = nh;
			B.cap = ncap;
		}
		i = B.n++;
		B.h[i].hgen = 1;
	}
	h = &B.h[i];
	h->state = H_LIVE;
	h->n = *n;
	h->n.proc = tri_rt.proc;
	h->owner = self != NULL ? self->ref : TR_REF_NIL;
	B.used++;
	out->id = ((uint64_t)h->hgen << 32) | (i + 1);
	return TR_OK;
}

static void
handle_free(bhandle *h)
{
	uint32_t i = (uint32_t)(h - B.h);

	if (h->state == H_LIVE) {
		tri_buftab_release(&h->n, tri_rt.proc);
		map_put(h->n.id);
	}
	h->state = H_FREE;
	h->hgen++;
	h->next_free = B.free_head;
	B.free_head = i;
	B.used--;
}

void
tri_buf_owner_gone(tr_ref owner)
{
	pthread_mutex_lock(&B.mtx);
	for (uint32_t i = 0; B.used > 0 && i < B.n; i++) {
		if (B.h[i].state != H_FREE &&
		    tr_ref_equal(B.h[i].owner, owner)) {
			handle_free(&B.h[i]);
		}
	}
	pthread_mutex_unlock(&B.mtx);
}

/* ------------------------------------------------------------------ */
/* The API                                                             */

int
tr_buf_new(tr_buf *out, size_t size)
{
	tri_bufname n;
	uint8_t *base;
	void *p;
	int fd, rv;

	if (out == NULL || size == 0 || size > TR_BUF_MAX) {
		return TR_EINVAL;
	}
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	if ((rv = tri_buftab_new(size, &n, &fd)) != TR_OK) {
		return rv;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	rv = p == MAP_FAILED ? tri_err_errno(errno) : TR_OK;
	close(fd);
	if (rv != TR_OK) {
		tri_buftab_release(&n, tri_rt.proc);
		return rv;
	}
	pthread_mutex_lock(&B.mtx);
	if (B.maps == NULL || B.maps[n.id].count > 0) {
		/* Not running any more, or an old incarnation of this id is
		 * still mapped here (it cannot be: it would be held). */
		rv = B.maps == NULL ? TR_ECLOSED : TR_ESYSTEM;
	} else {
		base = p;
		B.maps[n.id] = (bmap){n.gen, 1, base, size};
		if ((rv = handle_new(&n, out)) != TR_OK) {
			B.maps[n.id].count = 0;
		}
	}
	pthread_mutex_unlock(&B.mtx);
	if (rv != TR_OK) {
		munmap(p, size);
		tri_buftab_release(&n, tri_rt.proc);
	}
	return rv;
}

int
tr_buf_data(tr_buf b, void **data, size_t *size)
{
	bhandle *h;
	int rv = TR_OK;

	pthread_mutex_lock(&B.mtx);
	if (B.maps == NULL || (h = handle_find(b)) == NULL) {
		rv = TR_ENOENT;
	} else if (h->state == H_DETACHED) {
		rv = TR_EDETACHED;
	} else {
		if (data != NULL) {
			*data = B.maps[h->n.id].base;
		}
		if (size != NULL) {
			*size = (size_t)h->n.size;
		}
	}
	pthread_mutex_unlock(&B.mtx);
	return rv;
}

int
tr_buf_release(tr_buf b)
{
	bhandle *h;
	int rv = TR_OK;

	pthread_mutex_lock(&B.mtx);
	if (B.maps == NULL || (h = handle_find(b)) == NULL) {
		rv = TR_ENOENT;
	} else {
		handle_free(h);
	}
	pthread_mutex_unlock(&B.mtx);
	return rv;
}

int
tr_pack_buf(msgpack_packer *pk, tr_buf b, tr_buf_mode mode)
{
	uint8_t ext[TRI_BUF_EXT_LEN];
	tr_msg *m;
	bhandle *h;
	tri_bufname n;
	int rv = TR_OK;

	if (pk == NULL || (mode != TR_BUF_SHARE && mode != TR_BUF_TRANSFER)) {
		return TR_EINVAL;
	}
	/* Only a message's body can carry the hold. */
	if ((m = tri_msg_of_packer(pk)) == NULL) {
		return TR_EINVAL;
	}
	pthread_mutex_lock(&B.mtx);
	if (B.maps == NULL || (h = handle_find(b)) == NULL) {
		rv = TR_ENOENT;
	} else if (h->state == H_DETACHED) {
		rv = TR_EDETACHED;
	} else if (mode == TR_BUF_SHARE) {
		n = h->n;
		if ((rv = tri_buftab_hold(&n, tri_rt.proc, NULL)) == TR_OK) {
			B.maps[n.id].count++;
		}
	} else {
		/* The handle's hold (and its share of the mapping) is the
		 * message's now. */
		n = h->n;
		h->state = H_DETACHED;
	}
	pthread_mutex_unlock(&B.mtx);
	if (rv != TR_OK) {
		return rv;
	}
	tri_bufname_put(ext, &n);
	if (msgpack_pack_ext(pk, sizeof(ext), TR_MSGPACK_EXT_BUF) != 0 ||
	    msgpack_pack_ext_body(pk, ext, sizeof(ext)) != 0) {
		pthread_mutex_lock(&B.mtx);
		if (mode == TR_BUF_SHARE) {
			tri_buftab_release(&n, tri_rt.proc);
			map_put(n.id);
		} else if ((h = handle_find(b)) != NULL) {
			h->state = H_LIVE;
		}
		pthread_mutex_unlock(&B.mtx);
		return TR_ENOMEM;
	}
	m->bufs++;
	return TR_OK;
}

static void
count_bad(void)
{
	TRI_STAT(bad_buffers);
}

int
tr_unpack_buf(const msgpack_object *o, tr_buf *out)
{
	tri_bufname n;
	uint8_t *base;
	int rv;

	if (o == NULL || out == NULL || o->type != MSGPACK_OBJECT_EXT ||
	    o->via.ext.type != TR_MSGPACK_EXT_BUF) {
		return TR_EINVAL;
	}
	if (!tri_running()) {
		return TR_ECLOSED;
	}
	/* From here on it claims to be a buffer: anything that does not
	 * name a live buffer of this node is a forgery or came from
	 * elsewhere, and is counted. */
	if (o->via.ext.size != TRI_BUF_EXT_LEN) {
		count_bad();
		return TR_EPROTO;
	}
	tri_bufname_get((const uint8_t *)o->via.ext.ptr, &n);
	if (n.node != tri_rt.node || n.id >= TRI_BUF_ENTRIES || n.size == 0 ||
	    n.size > TR_BUF_MAX) {
		count_bad();
		return TR_EPROTO;
	}
	pthread_mutex_lock(&B.mtx);
	if (B.maps == NULL) {
		pthread_mutex_unlock(&B.mtx);
		return TR_ECLOSED;
	}
	if ((rv = tri_buftab_hold(&n, tri_rt.proc, NULL)) == TR_OK) {
		if ((rv = map_get(&n, &base)) != TR_OK) {
			tri_buftab_release(&n, tri_rt.proc);
		} else if ((rv = handle_new(&n, out)) != TR_OK) {
			tri_buftab_release(&n, tri_rt.proc);
			map_put(n.id);
		}
	}
	pthread_mutex_unlock(&B.mtx);
	if (rv == TR_EPROTO) {
		count_bad();
	}
	return rv;
}

/* ------------------------------------------------------------------ */
/* The holds bodies carry                                              */

enum {
	OP_HOLD,
	OP_RELEASE,
	OP_ADOPT,
	OP_DROP
};

typedef struct walk {
	int op;
	bool map;
	uint32_t proc;           /* OP_HOLD, OP_RELEASE: for whom */
	_Atomic uint32_t *alive; /* OP_HOLD: proc's, or NULL */
	const uint8_t *body;
	uint8_t *wbody; /* OP_ADOPT: the body to rewrite */
	uint32_t done;
	uint32_t limit; /* OP_RELEASE: at most this many (undoing a hold) */
	int rv;
} walk;

/*
 * Which exts carry a hold.  In a body of this process (a message's, or
 * a frame it sends): those that name this process, one hold each.  In
 * a frame that came in with TRI_F_BUFS: every ext that names a process
 * at all -- its sender took one hold per ext for us, the receiver.
 */
static int
on_ext(void *arg, int8_t type, size_t off, uint32_t size)
{
	walk *w = arg;
	tri_bufname n;
	uint8_t *base;

	if (type != TR_MSGPACK_EXT_BUF || size != TRI_BUF_EXT_LEN) {
		return 0;
	}
	tri_bufname_get(w->body + off, &n);
	switch (w->op) {
	case OP_HOLD:
		if (n.proc != tri_rt.proc) {
			return 0;
		}
		if ((w->rv = tri_buftab_hold(&n, w->proc, w->alive)) != TR_OK) {
			/* Gone cannot be: this body holds it. */
			return 1;
		}
		if (w->map && (w->rv = map_get(&n, &base)) != TR_OK) {
			tri_buftab_release(&n, w->proc);
			return 1;
		}
		break;
	case OP_RELEASE:
		if (n.proc != tri_rt.proc || w->done == w->limit) {
			return 0;
		}
		tri_buftab_release(&n, w->proc);
		if (w->map) {
			map_put(n.id);
		}
		break;
	case OP_ADOPT:
		if (n.proc == TRI_BUF_NOPROC) {
			return 0;
		}
		/* The hold is ours already; whether we have one is all there
		 * is to check (a forged frame would name a hold it has not). */
		if (!tri_buftab_held(&n, tri_rt.proc)) {
			n.proc = TRI_BUF_NOPROC; /* unpack still checks it */
		} else if (map_get(&n, &base) != TR_OK) {
			tri_buftab_release(&n, tri_rt.proc);
			n.proc = TRI_BUF_NOPROC;
		} else {
			n.proc = tri_rt.proc;
			w->done++;
		}
		tri_bufname_put(w->wbody + off, &n);
		return 0;
	case OP_DROP:
		if (n.proc != TRI_BUF_NOPROC) {
			tri_buftab_release(&n, tri_rt.proc);
		}
		return 0;
	}
	w->done++;
	return 0;
}

/* Takes the holds of body for proc: all or none. */
static int
body_hold(const uint8_t *body, size_t len, bool map, uint32_t proc,
    _Atomic uint32_t *alive)
{
	walk w = {OP_HOLD, map, proc, alive, body, NULL, 0, 0, TR_OK};

	pthread_mutex_lock(&B.mtx);
	if (B.maps == NULL) {
		pthread_mutex_unlock(&B.mtx);
		return TR_ECLOSED;
	}
	(void)tri_body_walk(body, len, on_ext, &w);
	if (w.rv != TR_OK) {
		walk u = {
		    OP_RELEASE, map, proc, NULL, body, NULL, 0, w.done, TR_OK};
		(void)tri_body_walk(body, len, on_ext, &u);
	}
	pthread_mutex_unlock(&B.mtx);
	return w.rv == TR_EPROTO ? TR_ESYSTEM : w.rv;
}

static void
body_release(const uint8_t *body, size_t len, bool map, uint32_t proc)
{
	walk w = {
	    OP_RELEASE, map, proc, NULL, body, NULL, 0, UINT32_MAX, TR_OK};

	pthread_mutex_lock(&B.mtx);
	if (B.maps != NULL) {
		(void)tri_body_walk(body, len, on_ext, &w);
	}
	pthread_mutex_unlock(&B.mtx);
}

int
tri_buf_body_hold(const uint8_t *body, size_t len, bool map)
{
	return body_hold(body, len, map, tri_rt.proc, NULL);
}

void
tri_buf_body_release(const uint8_t *body, size_t len, bool map)
{
	body_release(body, len, map, tri_rt.proc);
}

int
tri_buf_frame_hold(const tri_frame *f, uint32_t proc, _Atomic uint32_t *alive)
{
	if ((f->flags & TRI_F_BUFS) == 0) {
		return TR_OK;
	}
	return body_hold(f->body, f->body_len, false, proc, alive);
}

void
tri_buf_frame_unhold(const tri_frame *f, uint32_t proc)
{
	if ((f->flags & TRI_F_BUFS) != 0) {
		body_release(f->body, f->body_len, false, proc);
	}
}

uint32_t
tri_buf_body_adopt(uint8_t *body, size_t len)
{
	walk w = {OP_ADOPT, true, tri_rt.proc, NULL, body, body, 0, 0, TR_OK};

	pthread_mutex_lock(&B.mtx);
	if (B.maps != NULL) {
		(void)tri_body_walk(body, len, on_ext, &w);
	}
	pthread_mutex_unlock(&B.mtx);
	return w.done;
}

void
tri_buf_frame_drop(const tri_frame *f)
{
	walk w = {
	    OP_DROP, false, tri_rt.proc, NULL, f->body, NULL, 0, 0, TR_OK};

	if ((f->flags & TRI_F_BUFS) == 0) {
		return;
	}
	pthread_mutex_lock(&B.mtx);
	if (B.maps != NULL) {
		(void)tri_body_walk(f->body, f->body_len, on_ext, &w);
	}
	pthread_mutex_unlock(&B.mtx);
}
