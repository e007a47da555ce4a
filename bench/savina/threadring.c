/*
 * threadring.c -- Savina's ThreadRing: N actors in a ring pass a token
 * R times around it; the token carries the hops left, and the actor
 * that gets it at 0 reports.  Each actor learns its neighbour by a call
 * before the clock starts (so that no token can overtake it).  Savina's
 * defaults: N = 100 actors, R = 100000 hops.  Messages counted: R + 1.
 */
#include <stdio.h>
#include <stdlib.h>

#include "savina.h"

enum {
	TR_PING = 1
};

typedef struct ring {
	tr_ref next, main;
} ring;

static int
ring_init(void *state, tr_msg *arg)
{
	ring *r = state;

	return tr_msg_unpackf(arg, "r", &r->main);
}

static int
ring_handle(void *state, tr_msg *msg)
{
	ring *r = state;
	int64_t left;
	int rv;

	switch (tr_msg_tag(msg)) {
	case SV_SETUP:
		if ((rv = tr_msg_unpackf(msg, "r", &r->next)) != TR_OK) {
			return rv;
		}
		return tr_replyf(tr_msg_from(msg), SV_SETUP, "");
	case TR_PING:
		if ((rv = tr_msg_unpackf(msg, "q", &left)) != TR_OK) {
			return rv;
		}
		if (left > 0) {
			return tr_sendf(r->next, TR_PING, "q", left - 1);
		}
		return tr_sendf(r->main, SV_DONE, "");
	default:
		return TR_EPROTO;
	}
}

static void
reg(void)
{
	static const tr_behavior b = {
	    "sv.ring", sizeof(ring), ring_init, ring_handle, NULL};

	(void)tr_behavior_register(&b);
}

static int
run(const sv_cfg *cfg, sv_result *r)
{
	const uint64_t n = 100;
	uint64_t rounds = sv_scaled(cfg, 100000, 100);
	tr_ref *ring_refs = calloc(n, sizeof(*ring_refs));
	double t0;
	int rv = TR_ENOMEM;

	if (ring_refs == NULL) {
		return rv;
	}
	for (uint64_t i = 0; i < n; i++) {
		tr_msg *arg;
		if ((rv = tr_msg_newf(&arg, 1, "r", tr_self())) != TR_OK ||
		    (rv = sv_spawn("sv.ring", arg, &ring_refs[i])) != TR_OK) {
			goto out;
		}
	}
	for (uint64_t i = 0; i < n; i++) {
		tr_msg *reply = NULL;
		rv = tr_callf(ring_refs[i], SV_SETUP, SV_TIMEOUT_MS, &reply,
		    "r", ring_refs[(i + 1) % n]);
		tr_msg_free(reply);
		if (rv != TR_OK) {
			goto out;
		}
	}
	t0 = sv_now();
	if ((rv = tr_sendf(ring_refs[0], TR_PING, "q", (int64_t)rounds)) !=
	        TR_OK ||
	    (rv = sv_wait(SV_DONE, "")) != TR_OK) {
		goto out;
	}
	r->elapsed_s = sv_now() - t0;
	r->msgs = rounds + 1;
	snprintf(r->params, sizeof(r->params),
	    "\"actors\":%llu,\"rounds\":%llu", (unsigned long long)n,
	    (unsigned long long)rounds);
out:
	free(ring_refs);
	return rv;
}

const sv_case sv_threadring = {"threadring", reg, run};
