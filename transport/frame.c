/*
 * frame.c -- the wire frame codec (see frame.h for the layout).
 *
 * Frames from other processes and, later, other hosts are untrusted
 * input.  Every length is checked against what is left before it is
 * used, and bodies are walked by tri_body_check() before anything else
 * reads them.
 */
#include <string.h>

#include "alloc.h"
#include "frame.h"

/* Nesting limit for bodies: below msgpack-c's own unpack stack (32), so
 * that every body we accept also unpacks. */
#define BODY_MAX_DEPTH 31

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	    ((uint32_t)p[3] << 24);
}

static void
put_ref(uint8_t *p, tr_ref r)
{
	put32(p, r.node);
	put32(p + 4, r.proc);
	put32(p + 8, r.slot);
	put32(p + 12, r.gen);
}

static tr_ref
get_ref(const uint8_t *p)
{
	tr_ref r = {get32(p), get32(p + 4), get32(p + 8), get32(p + 12)};
	return r;
}

void
tri_frame_put_header(const tri_frame *f, uint8_t *h)
{
	h[0] = TRI_FRAME_VERSION;
	h[1] = f->kind;
	h[2] = (uint8_t)f->flags;
	h[3] = (uint8_t)(f->flags >> 8);
	put32(h + 4, f->tag);
	put_ref(h + 8, f->sender);
	put_ref(h + 24, f->dest);
	put32(h + 40, (uint32_t)f->corr);
	put32(h + 44, (uint32_t)(f->corr >> 32));
	put32(h + 48, f->body_len);
}

int
tri_frame_encode(const tri_frame *f, uint32_t max_body, uint8_t **buf,
    size_t *len, size_t *cap)
{
	size_t need;

	if (f->body_len > max_body) {
		return TR_EMSGSIZE;
	}
	need = *len + TRI_FRAME_HDR + f->body_len;
	if (need > *cap) {
		size_t ncap = *cap ? *cap : 256;
		uint8_t *nb;
		while (ncap < need) {
			ncap *= 2;
		}
		if ((nb = tri_realloc(*buf, ncap)) == NULL) {
			return TR_ENOMEM;
		}
		*buf = nb;
		*cap = ncap;
	}
	tri_frame_put_header(f, *buf + *len);
	if (f->body_len > 0) {
		memcpy(*buf + *len + TRI_FRAME_HDR, f->body, f->body_len);
	}
	*len = need;
	return TR_OK;
}

/* Big-endian reads for msgpack lengths. */
static uint64_t
be(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		v = (v << 8) | p[i];
	}
	return v;
}

int
tri_body_check(const uint8_t *b, size_t len)
{
	return tri_body_walk(b, len, NULL, NULL);
}

int
tri_body_walk(const uint8_t *b, size_t len, tri_ext_fn ext, void *arg)
{
	uint64_t left[BODY_MAX_DEPTH + 1]; /* items still due per level */
	int depth = 0;
	size_t off = 0;

	if (len == 0) {
		return TR_OK;
	}
	left[0] = 1;
	while (depth >= 0) {
		uint8_t t;
		uint64_t skip = 0;  /* payload bytes after the type byte(s) */
		uint64_t items = 0; /* child values of a container */
		size_t lenbytes = 0;

		if (left[depth] == 0) {
			depth--;
			continue;
		}
		left[depth]--;
		if (off >= len) {
			return TR_EPROTO;
		}
		t = b[off++];
		if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 ||
		    t == 0xc3) {
			skip = 0;
		} else if (t <= 0x8f) {
			items = 2u * (t & 0x0fu);
		} else if (t <= 0x9f) {
			items = t & 0x0fu;
		} else if (t <= 0xbf) {
			skip = t & 0x1fu;
		} else {
			/* One line per type byte reads best. */
			/* clang-format off */
			switch (t) {
			case 0xc4: case 0xd9: lenbytes = 1; break; /* bin8, str8 */
			case 0xc5: case 0xda: lenbytes = 2; break;
			case 0xc6: case 0xdb: lenbytes = 4; break;
			case 0xc7: lenbytes = 1; skip = 1; break; /* ext: + type */
			case 0xc8: lenbytes = 2; skip = 1; break;
			case 0xc9: lenbytes = 4; skip = 1; break;
			case 0xca: skip = 4; break;
			case 0xcb: skip = 8; break;
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xce: case 0xd2: skip = 4; break;
			case 0xcf: case 0xd3: skip = 8; break;
			case 0xd4: skip = 2; break; /* fixext: type + data */
			case 0xd5: skip = 3; break;
			case 0xd6: skip = 5; break;
			case 0xd7: skip = 9; break;
			case 0xd8: skip = 17; break;
			case 0xdc: case 0xde: lenbytes = 2; break;
			case 0xdd: case 0xdf: lenbytes = 4; break;
			default: return TR_EPROTO; /* 0xc1: never used */
			}
			/* clang-format on */
			if (lenbytes > 0) {
				uint64_t n;
				if (len - off < lenbytes) {
					return TR_EPROTO;
				}
				n = be(b + off, lenbytes);
				off += lenbytes;
				if (t == 0xdc || t == 0xdd) {
					items = n;
				} else if (t == 0xde || t == 0xdf) {
					items = 2 * n;
				} else {
					skip += n;
				}
			}
		}
		if (skip > len - off) {
			return TR_EPROTO;
		}
		if (ext != NULL &&
		    ((t >= 0xc7 && t <= 0xc9) || (t >= 0xd4 && t <= 0xd8))) {
			/* off is at the ext's type byte, its data follows. */
			int rv = ext(
			    arg, (int8_t)b[off], off + 1, (uint32_t)(skip - 1));
			if (rv != 0) {
				return rv;
			}
		}
		off += (size_t)skip;
		if (items > 0) {
			/* Every value takes at least one byte: a count beyond
			 * what is left is a lie, and would make the unpacker
			 * allocate for it. */
			if (items > len - off || depth + 1 > BODY_MAX_DEPTH) {
				return TR_EPROTO;
			}
			left[++depth] = items;
		}
	}
	return off == len ? TR_OK : TR_EPROTO;
}

int
tri_frame_decode(const uint8_t *buf, size_t len, size_t *off, uint32_t max_body,
    tri_frame *f)
{
	const uint8_t *h;
	uint32_t blen;
	int rv;

	if (*off > len || len - *off < TRI_FRAME_HDR) {
		return TR_EPROTO;
	}
	h = buf + *off;
	if (h[0] != TRI_FRAME_VERSION || h[1] == 0 || h[1] >= TRI_K_MAX_ ||
	    ((h[2] | (h[3] << 8)) & ~TRI_F_ALL_) != 0) {
		return TR_EPROTO;
	}
	blen = get32(h + 48);
	if (blen > max_body) {
		return TR_EMSGSIZE;
	}
	if (blen > len - *off - TRI_FRAME_HDR) {
		return TR_EPROTO;
	}
	if ((rv = tri_body_check(h + TRI_FRAME_HDR, blen)) != TR_OK) {
		return rv;
	}
	f->kind = h[1];
	f->flags = (uint16_t)(h[2] | (h[3] << 8));
	f->tag = get32(h + 4);
	f->sender = get_ref(h + 8);
	f->dest = get_ref(h + 24);
	f->corr = (uint64_t)get32(h + 40) | ((uint64_t)get32(h + 44) << 32);
	f->body = h + TRI_FRAME_HDR;
	f->body_len = blen;
	*off += TRI_FRAME_HDR + blen;
	return TR_OK;
}
