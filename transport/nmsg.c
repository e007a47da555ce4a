/*
 * nmsg.c -- a message body held in an nng message (nmsg.h).
 */
#include <nng/nng.h>

#include "alloc.h"
#include "nmsg.h"

tri_nmsg *
tri_nmsg_alloc(size_t reserve)
{
	nng_msg *m;

	/* nng allocates with its own allocator: ask the seam first, so
	 * that a test sweeping it still meets this allocation. */
	if (!tri_alloc_allowed()) {
		return NULL;
	}
	if (nng_msg_alloc(&m, reserve) != 0) {
		return NULL;
	}
	nng_msg_clear(m); /* empty, the room kept */
	return (tri_nmsg *)m;
}

void
tri_nmsg_free(tri_nmsg *m)
{
	if (m != NULL) {
		nng_msg_free((nng_msg *)m);
	}
}

int
tri_nmsg_append(tri_nmsg *m, const void *data, size_t len)
{
	nng_msg *nm = (nng_msg *)m;
	size_t have = nng_msg_len(nm), room = nng_msg_capacity(nm);

	if (have + len > room) {
		/* A growth is an allocation: the seam's, then nng's, doubling
		 * so that a body built a value at a time grows log times.  A
		 * failure leaves the body as it was. */
		size_t want = room < 64 ? 64 : room;
		while (want < have + len) {
			want *= 2;
		}
		if (!tri_alloc_allowed() || nng_msg_reserve(nm, want) != 0) {
			return -1;
		}
	}
	return nng_msg_append(nm, data, len) == 0 ? 0 : -1;
}

uint8_t *
tri_nmsg_body(tri_nmsg *m)
{
	return nng_msg_body((nng_msg *)m);
}

size_t
tri_nmsg_len(const tri_nmsg *m)
{
	return nng_msg_len((const nng_msg *)m);
}

void
tri_nmsg_clear(tri_nmsg *m)
{
	nng_msg_clear((nng_msg *)m);
}
