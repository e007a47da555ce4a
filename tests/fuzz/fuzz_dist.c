/*
 * fuzz_dist.c -- libFuzzer target for what a node reads from another
 * node: the frames of a session (actors/dist_wire.c) and HELLO bodies
 * (actors/dist_hello.c), as a hostile or broken peer might send them.
 *
 * The input is one nng message of a session.  It is decoded as a node
 * decodes it; HELLO bodies go through the handshake's parser, every
 * other frame through tri_wire_arrived() of a peer whose session is up
 * but whose connection is gone (what it would send back is dropped).
 * A runtime without a cluster is started, so that frames for "local"
 * actors look them up for real.  Promises checked:
 *  - no crash, no over-read (ASan), no leak between inputs: the peer's
 *    state is reset after each input;
 *  - pieces of big frames waiting for the rest never hold more than
 *    8 x TR_MSG_MAX bytes;
 *  - a HELLO that parses has a non-zero id and nonce, NUL-free names of
 *    at most TR_NAME_MAX bytes.
 * Needs TROUPE_RUNDIR (or a default run directory).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <troupe.h>

#include "dist_impl.h"
#include "frame.h"
#include "runtime.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tri_peer peer;

static void
fail(const char *what)
{
	fprintf(stderr, "fuzz_dist: %s\n", what);
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (tr_init(NULL) != TR_OK) {
		fail("tr_init");
	}
	memset(&peer, 0, sizeof(peer));
	pthread_mutex_init(&peer.mtx, NULL);
	pthread_cond_init(&peer.credit_cv, NULL);
	peer.used = true;
	peer.up = true;
	peer.id = 0x5eed;
	snprintf(peer.name, sizeof(peer.name), "fuzzpeer");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	tri_frame f;

	while (off < size) {
		if (tri_frame_decode(data, size, &off, TRI_FRAG + 64, &f) !=
		    TR_OK) {
			break; /* the node drops the connection here */
		}
		if (f.kind == TRI_K_HELLO) {
			msgpack_unpacked u;
			tri_hello h;
			msgpack_unpacked_init(&u);
			if (tri_dist_hello_parse(f.body, f.body_len, &u, &h) ==
			    TR_OK) {
				if (h.id == 0 || h.nonce == 0 ||
				    strlen(h.name) == 0 ||
				    strlen(h.name) > TR_NAME_MAX ||
				    strlen(h.cluster) > TR_NAME_MAX) {
					fail("a HELLO accepted that must not "
					     "be");
				}
			}
			msgpack_unpacked_destroy(&u);
			continue;
		}
		if (f.sender.node != peer.id && f.kind != TRI_K_CREDIT &&
		    f.kind != TRI_K_TICK) {
			break; /* refused as the node refuses it */
		}
		tri_wire_arrived(&peer, &f);
		if (peer.asm_bytes > 8u * (size_t)TR_MSG_MAX) {
			fail("pieces held past the bound");
		}
	}
	tri_wire_retry_held(&peer);
	tri_wire_reset(&peer, 0);
	return 0;
}
