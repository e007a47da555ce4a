/*
 * chameneos.c -- Savina's Chameneos: C creatures meet through a broker
 * (the mall) until M meetings have taken place.  Each creature sends the
 * mall a Meet with its colour; the mall keeps the first one waiting and
 * forwards the second one's Meet to it (tr_forward: the waiting creature
 * sees the second as the sender, and answers it directly).  Both take
 * the complementary colour, count the meeting, and go back to the mall.
 * After M meetings the mall answers each Meet with Exit; each creature
 * then reports its meetings, and the mall reports their sum, which must
 * be 2M.  Savina's defaults: C = 100 creatures, M = 200000 meetings.
 * Messages counted: 4M + 3C (2M + C meets, M forwards, M changes, C
 * exits, C counts).
 */
#include <stdio.h>

#include "savina.h"

enum {
	CH_START = 1,
	CH_MEET,
	CH_CHANGE,
	CH_EXIT,
	CH_COUNT
};
enum {
	RED,
	YELLOW,
	BLUE,
	FADED
};

static int
complement(int a, int b)
{
	static const int table[3][3] = {
	    {RED, BLUE, YELLOW},
	    {BLUE, YELLOW, RED},
	    {YELLOW, RED, BLUE},
	};

	return a == FADED || b == FADED ? FADED : table[a][b];
}

typedef struct mall {
	tr_ref main, waiting;
	int64_t left, creatures, faded, sum;
} mall;

static int
mall_init(void *state, tr_msg *arg)
{
	mall *m = state;

	m->waiting = TR_REF_NIL;
	return tr_msg_unpackf(arg, "rqq", &m->main, &m->left, &m->creatures);
}

static int
mall_handle(void *state, tr_msg *msg)
{
	mall *m = state;
	int64_t count;
	int rv;

	switch (tr_msg_tag(msg)) {
	case CH_MEET:
		if (m->left == 0) {
			return tr_sendf(tr_msg_sender(msg), CH_EXIT, "");
		}
		if (tr_ref_is_nil(m->waiting)) {
			m->waiting = tr_msg_sender(msg);
			return 0;
		}
		m->left--;
		rv = tr_forward(msg, m->waiting);
		m->waiting = TR_REF_NIL;
		return rv;
	case CH_COUNT:
		if ((rv = tr_msg_unpackf(msg, "q", &count)) != TR_OK) {
			return rv;
		}
		m->sum += count;
		if (++m->faded == m->creatures) {
			return tr_sendf(m->main, SV_DONE, "q", m->sum);
		}
		return 0;
	default:
		return TR_EPROTO;
	}
}

typedef struct creature {
	tr_ref mall;
	int color;
	int64_t meetings;
} creature;

static int
creature_init(void *state, tr_msg *arg)
{
	creature *c = state;

	return tr_msg_unpackf(arg, "ri", &c->mall, &c->color);
}

static int
creature_handle(void *state, tr_msg *msg)
{
	creature *c = state;
	int other, rv;

	switch (tr_msg_tag(msg)) {
	case CH_START:
		return tr_sendf(c->mall, CH_MEET, "i", c->color);
	case CH_MEET: /* forwarded by the mall: the sender is the other */
		if ((rv = tr_msg_unpackf(msg, "i", &other)) != TR_OK ||
		    other < RED || other > FADED) {
			return TR_EPROTO;
		}
		c->color = complement(c->color, other);
		c->meetings++;
		if ((rv = tr_sendf(tr_msg_sender(msg), CH_CHANGE, "i",
		         c->color)) != TR_OK) {
			return rv;
		}
		return tr_sendf(c->mall, CH_MEET, "i", c->color);
	case CH_CHANGE:
		if ((rv = tr_msg_unpackf(msg, "i", &c->color)) != TR_OK) {
			return rv;
		}
		c->meetings++;
		return tr_sendf(c->mall, CH_MEET, "i", c->color);
	case CH_EXIT:
		c->color = FADED;
		return tr_sendf(c->mall, CH_COUNT, "q", c->meetings);
	default:
		return TR_EPROTO;
	}
}

static void
reg(void)
{
	static const tr_behavior b[] = {
	    {"sv.mall", sizeof(mall), mall_init, mall_handle, NULL},
	    {"sv.creature", sizeof(creature), creature_init, creature_handle,
	        NULL},
	};

	for (size_t i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		(void)tr_behavior_register(&b[i]);
	}
}

static int
run(const sv_cfg *cfg, sv_result *r)
{
	const uint64_t nc = 100;
	uint64_t meetings = sv_scaled(cfg, 200000, 10);
	tr_ref mallr, creatures[100];
	int64_t sum = -1;
	tr_msg *arg;
	double t0;
	int rv;

	if ((rv = tr_msg_newf(&arg, 1, "rqq", tr_self(), (int64_t)meetings,
	         (int64_t)nc)) != TR_OK ||
	    (rv = sv_spawn("sv.mall", arg, &mallr)) != TR_OK) {
		return rv;
	}
	for (uint64_t i = 0; i < nc; i++) {
		if ((rv = tr_msg_newf(&arg, 1, "ri", mallr, (int)(i % 3))) !=
		        TR_OK ||
		    (rv = sv_spawn("sv.creature", arg, &creatures[i])) !=
		        TR_OK) {
			return rv;
		}
	}
	t0 = sv_now();
	for (uint64_t i = 0; i < nc; i++) {
		if ((rv = tr_sendf(creatures[i], CH_START, "")) != TR_OK) {
			return rv;
		}
	}
	if ((rv = sv_wait(SV_DONE, "q", &sum)) != TR_OK) {
		return rv;
	}
	r->elapsed_s = sv_now() - t0;
	if (sum != 2 * (int64_t)meetings) {
		return sv_fail(r, "%lld meetings counted, not %llu",
		    (long long)sum, (unsigned long long)(2 * meetings));
	}
	r->msgs = 4 * meetings + 3 * nc;
	snprintf(r->params, sizeof(r->params),
	    "\"actors\":%llu,\"meetings\":%llu", (unsigned long long)nc + 1,
	    (unsigned long long)meetings);
	return TR_OK;
}

const sv_case sv_chameneos = {"chameneos", reg, run};
