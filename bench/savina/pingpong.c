/*
 * pingpong.c -- Savina's PingPong: two actors, N round trips.
 *
 * Ping sends Ping to Pong, which answers Pong to the sender; Ping then
 * sends itself a Next message and, on it, the next Ping (Savina's
 * actors loop through their own mailbox so, as here).  After N round
 * trips Ping reports to the main context.  Savina's default: N = 40000.
 * Messages counted: N pings + N pongs + N next = 3N.
 */
#include <stdio.h>

#include "savina.h"

enum {
	PP_START = 1,
	PP_PING,
	PP_PONG,
	PP_NEXT
};

typedef struct ping {
	tr_ref pong, main;
	int64_t left;
} ping;

static int
ping_init(void *state, tr_msg *arg)
{
	ping *p = state;

	return tr_msg_unpackf(arg, "rrq", &p->pong, &p->main, &p->left);
}

static int
ping_handle(void *state, tr_msg *msg)
{
	ping *p = state;

	switch (tr_msg_tag(msg)) {
	case PP_START:
	case PP_NEXT:
		p->left--;
		return tr_sendf(p->pong, PP_PING, "");
	case PP_PONG:
		if (p->left > 0) {
			return tr_sendf(tr_self(), PP_NEXT, "");
		}
		return tr_sendf(p->main, SV_DONE, "");
	default:
		return TR_EPROTO;
	}
}

static int
pong_handle(void *state, tr_msg *msg)
{
	(void)state;
	if (tr_msg_tag(msg) != PP_PING) {
		return TR_EPROTO;
	}
	return tr_sendf(tr_msg_sender(msg), PP_PONG, "");
}

static void
reg(void)
{
	static const tr_behavior b[] = {
	    {"sv.ping", sizeof(ping), ping_init, ping_handle, NULL},
	    {"sv.pong", 0, NULL, pong_handle, NULL},
	};

	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		(void)tr_behavior_register(&b[i]);
	}
}

static int
run(const sv_cfg *cfg, sv_result *r)
{
	uint64_t n = sv_scaled(cfg, 40000, 10);
	tr_ref pong, pingr;
	tr_msg *arg;
	double t0;
	int rv;

	if ((rv = sv_spawn("sv.pong", NULL, &pong)) != TR_OK ||
	    (rv = tr_msg_newf(&arg, 1, "rrq", pong, tr_self(), (int64_t)n)) !=
	        TR_OK ||
	    (rv = sv_spawn("sv.ping", arg, &pingr)) != TR_OK) {
		return rv;
	}
	t0 = sv_now();
	if ((rv = tr_sendf(pingr, PP_START, "")) != TR_OK ||
	    (rv = sv_wait(SV_DONE, "")) != TR_OK) {
		return rv;
	}
	r->elapsed_s = sv_now() - t0;
	r->msgs = 3 * n;
	snprintf(r->params, sizeof(r->params), "\"n\":%llu,\"actors\":2",
	    (unsigned long long)n);
	return TR_OK;
}

const sv_case sv_pingpong = {"pingpong", reg, run};
