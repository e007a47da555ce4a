/*
 * behaviors_pic.c -- test behaviors for one-line messages and forwards;
 * their protocol is in behaviors_pic.h.  They may run in another
 * process, so they use nothing but the public API and report by message.
 */
#include <stdbool.h>
#include <stdint.h>

#include <troupe.h>

#include "behaviors.h"
#include "behaviors_pic.h"

/* ------------------------------------------------------------------ */
/* pic.fwd                                                             */

static int
fwd_init(void *state, tr_msg *arg)
{
	tr_ref *target = state;

	return arg != NULL ? tr_msg_unpackf(arg, "r", target) : TR_EINVAL;
}

static int
fwd_handle(void *state, tr_msg *msg)
{
	tr_ref *target = state;
	int rv = tr_forward(msg, *target);

	if (rv != TR_OK) {
		(void)tr_sendf(tr_msg_sender(msg), TP_FWD_ERR, "i", rv);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* pic.calc                                                            */

/* Reads every letter and packs the same values back. */
static int
calc_all(tr_msg *req)
{
	int i;
	unsigned u;
	int64_t q;
	uint64_t uq;
	double d;
	bool b;
	const char *s, *str;
	const void *bin;
	size_t str_len, bin_len;
	tr_ref r;
	msgpack_object m;
	int rv;

	rv = tr_msg_unpackf(req, TP_ALL_PIC, &i, &u, &q, &uq, &d, &b, &s, &str,
	    &str_len, &bin, &bin_len, &r, &m);
	if (rv != TR_OK) {
		return tr_replyf(tr_msg_from(req), TP_BAD, "i", rv);
	}
	return tr_replyf(tr_msg_from(req), TP_ALL, TP_ALL_PIC, i, u, q, uq, d,
	    b, s, str, str_len, bin, bin_len, r, &m);
}

/* Waits for the next message inside handle, as a blocking receive. */
static int
calc_recv(tr_msg *msg)
{
	int64_t v = 0;
	int rv = tr_recvf(NULL, NULL, 10000, "q", &v);

	return tr_sendf(tr_msg_sender(msg), TP_GOT, "iq", rv, v);
}

static int
calc_handle(void *state, tr_msg *msg)
{
	int64_t a, b;
	int rv;

	(void)state;
	switch (tr_msg_tag(msg)) {
	case TP_ADD:
		if ((rv = tr_msg_unpackf(msg, "qq", &a, &b)) != TR_OK) {
			return tr_replyf(tr_msg_from(msg), TP_BAD, "i", rv);
		}
		return tr_replyf(tr_msg_from(msg), TP_SUM, "q", a + b);
	case TP_ALL:
		return calc_all(msg);
	case TP_ASK:
		if (tr_msg_unpackf(msg, "q", &a) != TR_OK) {
			return TR_EPROTO;
		}
		return tr_sendf(tr_msg_sender(msg), TP_SUM, "q", 2 * a);
	case TP_RECV:
		return calc_recv(msg);
	default:
		return 0;
	}
}

void
test_behaviors_pic_register(void)
{
	static const tr_behavior fwd = {
	    "pic.fwd", sizeof(tr_ref), fwd_init, fwd_handle, NULL};
	static const tr_behavior calc = {
	    "pic.calc", 0, NULL, calc_handle, NULL};

	(void)tr_behavior_register(&fwd);
	(void)tr_behavior_register(&calc);
}
