/*
 * fjthrput.c -- Savina's Fork-Join Throughput: a master actor sends N
 * rounds of one message to each of A actors; each actor does a little
 * arithmetic per message (sin(37.2) squared, as Savina) and reports
 * once it has had N.  Savina's defaults: A = 60 actors, N = 10000
 * messages each.  Messages counted: A * N.
 *
 * The master is an actor of the placement measured, as the sender is a
 * process in the Erlang version (savina.erl): what is timed is actors
 * sending to actors.  From the main context, every message would cross
 * a thread (bench_placement's "oneway" figures measure that path).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "savina.h"

enum {
	FJ_MSG = 1,
	FJ_WORKER, /* "r": one more worker for the master */
	FJ_GO      /* the master sends its rounds */
};

typedef struct master {
	tr_ref *w;
	uint64_t a, n, have;
} master;

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

static int
master_init(void *state, tr_msg *arg)
{
	master *m = state;
	int64_t a = 0, n = 0;
	int rv;

	if ((rv = tr_msg_unpackf(arg, "qq", &a, &n)) != TR_OK) {
		return rv;
	}
	if (a <= 0 || n <= 0 ||
	    (m->w = calloc((size_t)a, sizeof(tr_ref))) == NULL) {
		return TR_ENOMEM;
	}
	m->a = (uint64_t)a;
	m->n = (uint64_t)n;
	return TR_OK;
}

static int
master_handle(void *state, tr_msg *msg)
{
	master *m = state;
	int rv;

	switch (tr_msg_tag(msg)) {
	case FJ_WORKER:
		if (m->have == m->a) {
			return TR_EPROTO;
		}
		return tr_msg_unpackf(msg, "r", &m->w[m->have++]);
	case FJ_GO:
		if (m->have != m->a) {
			return TR_EPROTO;
		}
		for (uint64_t k = 0; k < m->n; k++) {
			for (uint64_t i = 0; i < m->a; i++) {
				if ((rv = tr_sendf(m->w[i], FJ_MSG, "")) !=
				    TR_OK) {
					return rv;
				}
			}
		}
		return TR_OK;
	default:
		return TR_EPROTO;
	}
}

static void
master_terminate(void *state, tr_reason why)
{
	master *m = state;

	(void)why;
	free(m->w);
}

static void
reg(void)
{
	static const tr_behavior b[] = {
	    {"sv.fjworker", sizeof(worker), worker_init, worker_handle, NULL},
	    {"sv.fjmaster", sizeof(master), master_init, master_handle,
	        master_terminate},
	};

	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		(void)tr_behavior_register(&b[i]);
	}
}

static int
run(const sv_cfg *cfg, sv_result *r)
{
	const uint64_t a = 60;
	uint64_t n = sv_scaled(cfg, 10000, 10);
	tr_ref *w = calloc(a, sizeof(*w)), master_ref;
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
	{
		tr_msg *arg;
		if ((rv = tr_msg_newf(&arg, 1, "qq", (int64_t)a, (int64_t)n)) !=
		        TR_OK ||
		    (rv = sv_spawn("sv.fjmaster", arg, &master_ref)) != TR_OK) {
			goto out;
		}
	}
	for (uint64_t i = 0; i < a; i++) {
		if ((rv = tr_sendf(master_ref, FJ_WORKER, "r", w[i])) !=
		    TR_OK) {
			goto out;
		}
	}
	t0 = sv_now();
	if ((rv = tr_sendf(master_ref, FJ_GO, "")) != TR_OK) {
		goto out;
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
