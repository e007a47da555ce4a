/*
 * fjthrput.c -- Savina's Fork-Join Throughput: the main context sends N
 * rounds of one message to each of A actors; each actor does a little
 * arithmetic per message (sin(37.2) squared, as Savina) and reports
 * once it has had N.  Savina's defaults: A = 60 actors, N = 10000
 * messages each.  Messages counted: A * N.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "savina.h"

enum {
	FJ_MSG = 1
};

typedef struct worker {
	tr_ref main;
	int64_t n, seen;
} worker;

/* volatile: the compiler must not fold the sine away. */
static volatile double theta = 37.2;

static int
worker_init(void *state, tr_msg *arg)
{
	worker *w = state;

	return tr_msg_unpackf(arg, "rq", &w->main, &w->n);
}

static int
worker_handle(void *state, tr_msg *msg)
{
	worker *w = state;
	double s = sin(theta);

	if (tr_msg_tag(msg) != FJ_MSG || s * s <= 0) {
		return TR_EPROTO;
	}
	if (++w->seen == w->n) {
		return tr_sendf(w->main, SV_DONE, "");
	}
	return 0;
}

static void
reg(void)
{
	static const tr_behavior b = {
	    "sv.fjworker", sizeof(worker), worker_init, worker_handle, NULL};

	(void)tr_behavior_register(&b);
}

static int
run(const sv_cfg *cfg, sv_result *r)
{
	const uint64_t a = 60;
	uint64_t n = sv_scaled(cfg, 10000, 10);
	tr_ref *w = calloc(a, sizeof(*w));
	double t0;
	int rv = TR_ENOMEM;

	if (w == NULL) {
		return rv;
	}
	for (uint64_t i = 0; i < a; i++) {
		tr_msg *arg;
		if ((rv = tr_msg_newf(&arg, 1, "rq", tr_self(), (int64_t)n)) !=
		        TR_OK ||
		    (rv = sv_spawn("sv.fjworker", arg, &w[i])) != TR_OK) {
			goto out;
		}
	}
	t0 = sv_now();
	for (uint64_t m = 0; m < n; m++) {
		for (uint64_t i = 0; i < a; i++) {
			if ((rv = tr_sendf(w[i], FJ_MSG, "")) != TR_OK) {
				goto out;
			}
		}
	}
	for (uint64_t i = 0; i < a; i++) {
		if ((rv = sv_wait(SV_DONE, "")) != TR_OK) {
			goto out;
		}
	}
	r->elapsed_s = sv_now() - t0;
	r->msgs = a * n;
	snprintf(r->params, sizeof(r->params), "\"actors\":%llu,\"n\":%llu",
	    (unsigned long long)a, (unsigned long long)n);
out:
	free(w);
	return rv;
}

const sv_case sv_fjthrput = {"fjthrput", reg, run};
