/*
 * counting.c -- Savina's Counting: one producer sends N increments to
 * a counter actor, then asks for the count, which must be N.  The
 * producer sends them all from one handle call; a full mailbox makes it
 * wait (troupe's mailboxes are bounded; Erlang's are not).  Savina's
 * default: N = 1000000.  Messages counted: N + 2.
 */
#include <stdio.h>

#include "savina.h"

enum {
	CT_START = 1,
	CT_INC,
	CT_GET,
	CT_RESULT
};

typedef struct producer {
	tr_ref counter, main;
	int64_t n;
} producer;

static int
producer_init(void *state, tr_msg *arg)
{
	producer *p = state;

	return tr_msg_unpackf(arg, "rrq", &p->counter, &p->main, &p->n);
}

static int
producer_handle(void *state, tr_msg *msg)
{
	producer *p = state;
	int64_t count;
	int rv;

	switch (tr_msg_tag(msg)) {
	case CT_START:
		for (int64_t i = 0; i < p->n; i++) {
			if ((rv = tr_sendf(p->counter, CT_INC, "")) != TR_OK) {
				return rv;
			}
		}
		return tr_sendf(p->counter, CT_GET, "");
	case CT_RESULT:
		if ((rv = tr_msg_unpackf(msg, "q", &count)) != TR_OK) {
			return rv;
		}
		return tr_sendf(p->main, SV_DONE, "q", count);
	default:
		return TR_EPROTO;
	}
}

static int
counter_handle(void *state, tr_msg *msg)
{
	int64_t *count = state;

	switch (tr_msg_tag(msg)) {
	case CT_INC:
		++*count;
		return 0;
	case CT_GET:
		return tr_sendf(tr_msg_sender(msg), CT_RESULT, "q", *count);
	default:
		return TR_EPROTO;
	}
}

static void
reg(void)
{
	static const tr_behavior b[] = {
	    {"sv.producer", sizeof(producer), producer_init, producer_handle,
	        NULL},
	    {"sv.counter", sizeof(int64_t), NULL, counter_handle, NULL},
	};

	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		(void)tr_behavior_register(&b[i]);
	}
}

static int
run(const sv_cfg *cfg, sv_result *r)
{
	uint64_t n = sv_scaled(cfg, 1000000, 100);
	tr_ref counter, prod;
	int64_t count = -1;
	tr_msg *arg;
	double t0;
	int rv;

	if ((rv = sv_spawn("sv.counter", NULL, &counter)) != TR_OK ||
	    (rv = tr_msg_newf(
	         &arg, 1, "rrq", counter, tr_self(), (int64_t)n)) != TR_OK ||
	    (rv = sv_spawn("sv.producer", arg, &prod)) != TR_OK) {
		return rv;
	}
	t0 = sv_now();
	if ((rv = tr_sendf(prod, CT_START, "")) != TR_OK ||
	    (rv = sv_wait(SV_DONE, "q", &count)) != TR_OK) {
		return rv;
	}
	r->elapsed_s = sv_now() - t0;
	if (count != (int64_t)n) {
		return sv_fail(r, "counted %lld of %llu", (long long)count,
		    (unsigned long long)n);
	}
	r->msgs = n + 2;
	snprintf(r->params, sizeof(r->params), "\"n\":%llu,\"actors\":2",
	    (unsigned long long)n);
	return TR_OK;
}

const sv_case sv_counting = {"counting", reg, run};
