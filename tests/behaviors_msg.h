/*
 * behaviors_msg.h -- the message protocol of the test behaviors in
 * behaviors_msg.c, used by test_msg.c, test_send.c and test_call.c.
 *
 * The behaviors talk to a test only by messages (an actor may run in
 * another process), so everything a test can ask of them is a tag here.
 * All tags are user tags, far below TR_TAG_SYSTEM.
 */
#ifndef TEST_BEHAVIORS_MSG_H
#define TEST_BEHAVIORS_MSG_H

/*
 * "msg.kit" -- a many-purpose actor.
 *
 * Calls (answered with tr_reply):
 *   TM_REPORT  -> [count, in_order]: how many TM_SEQ it has taken, and
 *                 whether they came numbered 0, 1, 2, ... without a gap
 *   TM_CHAT    body n: first sends n TM_SEQ messages (0..n-1) to the
 *                 caller, then replies with an empty TM_CHAT
 *   TM_PROXY   body [ref target, payload]: calls target with a TM_ECHO
 *                 whose body is payload, and forwards the reply it got;
 *                 on failure replies TM_ERR with body [rv]
 *   anything else: echoed back, same tag, same body
 * Plain messages:
 *   TM_PING    -> TM_PONG to the sender, same body
 *   TM_SEQ     body n: checked against the expected next number
 *   TM_EMIT    body n: sends n TM_SEQ messages (0..n-1) to the sender
 *   TM_HOLD    calls the sender with TM_HOLDING and waits (20 s at most)
 *              for the answer, taking nothing from its mailbox meanwhile
 *   TM_SEND_TO body ref: tr_send()s (blocking) a TM_NOP to ref, then
 *              sends TM_SENT with body [rv] to the sender
 *   anything else (TM_NOP): ignored
 */
#define TM_BASE 0x4d00u
#define TM_ECHO (TM_BASE + 0x01)
#define TM_PING (TM_BASE + 0x02)
#define TM_PONG (TM_BASE + 0x03)
#define TM_SEQ (TM_BASE + 0x04)
#define TM_REPORT (TM_BASE + 0x05)
#define TM_EMIT (TM_BASE + 0x06)
#define TM_HOLD (TM_BASE + 0x07)
#define TM_HOLDING (TM_BASE + 0x08)
#define TM_NOP (TM_BASE + 0x09)
#define TM_SEND_TO (TM_BASE + 0x0a)
#define TM_SENT (TM_BASE + 0x0b)
#define TM_CHAT (TM_BASE + 0x0c)
#define TM_PROXY (TM_BASE + 0x0d)
#define TM_ERR (TM_BASE + 0x0e)

/*
 * "msg.lazy" -- keeps the tr_from of the last call and does not answer.
 *   TM_POKE (plain): replies to the kept call with TM_ECHO, body "late",
 *                    then sends TM_POKED to the poker.
 */
#define TM_POKE (TM_BASE + 0x20)
#define TM_POKED (TM_BASE + 0x21)

/*
 * "msg.defer" -- answers a call later: keeps the tr_from and a copy of
 * the request, sends itself TM_LATER, and on that message replies with
 * the copy (same tag, same body).
 */
#define TM_LATER (TM_BASE + 0x30)

/*
 * "msg.die" -- a call makes handle return TM_DIE_CODE, which ends the
 * actor with reason error(TM_DIE_CODE) without replying.  Plain
 * messages are ignored.
 */
#define TM_DIE_CODE 7

#endif
