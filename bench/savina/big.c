/*
 * big.c -- Savina's Big: W actors, each sends N pings to peers picked
 * at random (Savina's PseudoRandom, seeded with the actor's index); a
 * peer answers each ping with a pong, and the pinger checks that it
 * came from the peer it pinged.  An actor that has sent its N pings and
 * had its last pong tells the sink; the sink reports once all W have.
 * The first pong of each actor comes from the main context and starts
 * it.  Savina's defaults: W = 120 actors, N = 20000 pings each.
 * Messages counted: 2 W N (pings and pongs).
 */
#include <stdio.h>
#include <stdlib.h>

#include "savina.h"

enum {
	BG_PING = 1,
	BG_PONG,
	BG_EXIT
};

typedef struct big {
	int id;
	int64_t n, pings;
	int exp_pinger;
	int64_t rnd; /* Savina's PseudoRandom */
	uint64_t mismatches;
	tr_ref sink;
	tr_ref *peers;
	int npeers;
} big;

static int
next_int(big *b, int max)
{
	b->rnd = ((b->rnd * 1309) + 13849) & 65535;
	return (int)b->rnd % max;
}

static int
big_init(void *state, tr_msg *arg)
{
	big *b = state;
	int rv = tr_msg_unpackf(arg, "iqr", &b->id, &b->n, &b->sink);

	b->exp_pinger = -1;
	b->rnd = b->id;
	return rv;
}

/* The peers, from a call whose body is the array of all W refs. */
static int
big_setup(big *b, tr_msg *msg)
{
	msgpack_object o;
	int rv;

	if ((rv = tr_msg_body(msg, &o)) != TR_OK) {
		return rv;
	}
	if (o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size == 0 ||
	    (b->peers = calloc(o.via.array.size, sizeof(tr_ref))) == NULL) {
		return TR_EPROTO;
	}
	b->npeers = (int)o.via.array.size;
	for (int i = 0; i < b->npeers; i++) {
		if ((rv = tr_unpack_ref(&o.via.array.ptr[i], &b->peers[i])) !=
		    TR_OK) {
			return rv;
		}
	}
	return tr_replyf(tr_msg_from(msg), SV_SETUP, "");
}

static int
big_handle(void *state, tr_msg *msg)
{
	big *b = state;
	int who, rv;

	switch (tr_msg_tag(msg)) {
	case SV_SETUP:
		return big_setup(b, msg);
	case BG_PING:
		if ((rv = tr_msg_unpackf(msg, "i", &who)) != TR_OK || who < 0 ||
		    who >= b->npeers) {
			return TR_EPROTO;
		}
		return tr_sendf(b->peers[who], BG_PONG, "i", b->id);
	case BG_PONG:
		if ((rv = tr_msg_unpackf(msg, "i", &who)) != TR_OK) {
			return rv;
		}
		b->mismatches += who != b->exp_pinger;
		if (b->pings == b->n) {
			return tr_sendf(b->sink, BG_EXIT, "Q", b->mismatches);
		}
		b->pings++;
		b->exp_pinger = next_int(b, b->npeers);
		return tr_sendf(b->peers[b->exp_pinger], BG_PING, "i", b->id);
	default:
		return TR_EPROTO;
	}
}

static void
big_terminate(void *state, tr_reason why)
{
	big *b = state;

	(void)why;
	free(b->peers);
}

typedef struct sink {
	tr_ref main;
	int64_t w, exited;
	uint64_t mismatches;
} sink;

static int
sink_init(void *state, tr_msg *arg)
{
	sink *s = state;

	return tr_msg_unpackf(arg, "rq", &s->main, &s->w);
}

static int
sink_handle(void *state, tr_msg *msg)
{
	sink *s = state;
	uint64_t mm;
	int rv;

	if (tr_msg_tag(msg) != BG_EXIT ||
	    (rv = tr_msg_unpackf(msg, "Q", &mm)) != TR_OK) {
		return TR_EPROTO;
	}
	s->mismatches += mm;
	if (++s->exited == s->w) {
		return tr_sendf(s->main, SV_DONE, "Q", s->mismatches);
	}
	return 0;
}

static void
reg(void)
{
	static const tr_behavior b[] = {
	    {"sv.big", sizeof(big), big_init, big_handle, big_terminate},
	    {"sv.sink", sizeof(sink), sink_init, sink_handle, NULL},
	};

	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		(void)tr_behavior_register(&b[i]);
	}
}

/* The call that hands every actor the whole list. */
static int
setup_peers(const tr_ref *peers, uint64_t w)
{
	for (uint64_t i = 0; i < w; i++) {
		tr_msg *m, *reply = NULL;
		bool sent = false;
		int rv;
		if ((rv = tr_msg_new(&m, SV_SETUP)) != TR_OK) {
			return rv;
		}
		msgpack_pack_array(tr_msg_packer(m), (uint32_t)w);
		for (uint64_t k = 0; k < w; k++) {
			(void)tr_pack_ref(tr_msg_packer(m), peers[k]);
		}
		rv = tr_call(peers[i], m, SV_TIMEOUT_MS, &reply, &sent);
		if (!sent) {
			tr_msg_free(m);
		}
		tr_msg_free(reply);
		if (rv != TR_OK) {
			return rv;
		}
	}
	return TR_OK;
}

static int
run(const sv_cfg *cfg, sv_result *r)
{
	const uint64_t w = 120;
	uint64_t n = sv_scaled(cfg, 20000, 10), mismatches = 0;
	tr_ref *peers = calloc(w, sizeof(*peers));
	tr_ref sinkr;
	tr_msg *arg;
	double t0;
	int rv = TR_ENOMEM;

	if (peers == NULL) {
		return rv;
	}
	if ((rv = tr_msg_newf(&arg, 1, "rq", tr_self(), (int64_t)w)) != TR_OK ||
	    (rv = sv_spawn("sv.sink", arg, &sinkr)) != TR_OK) {
		goto out;
	}
	for (uint64_t i = 0; i < w; i++) {
		if ((rv = tr_msg_newf(
		         &arg, 1, "iqr", (int)i, (int64_t)n, sinkr)) != TR_OK ||
		    (rv = sv_spawn("sv.big", arg, &peers[i])) != TR_OK) {
			goto out;
		}
	}
	if ((rv = setup_peers(peers, w)) != TR_OK) {
		goto out;
	}
	t0 = sv_now();
	for (uint64_t i = 0; i < w; i++) {
		if ((rv = tr_sendf(peers[i], BG_PONG, "i", -1)) != TR_OK) {
			goto out;
		}
	}
	if ((rv = sv_wait(SV_DONE, "Q", &mismatches)) != TR_OK) {
		goto out;
	}
	r->elapsed_s = sv_now() - t0;
	if (mismatches != 0) {
		rv = sv_fail(r, "%llu pongs from a peer not pinged",
		    (unsigned long long)mismatches);
		goto out;
	}
	r->msgs = 2 * w * n;
	snprintf(r->params, sizeof(r->params), "\"actors\":%llu,\"n\":%llu",
	    (unsigned long long)w, (unsigned long long)n);
out:
	free(peers);
	return rv;
}

const sv_case sv_big = {"big", reg, run};
