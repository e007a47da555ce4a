/*
 * behaviors_pic.h -- the message protocol of the test behaviors in
 * behaviors_pic.c, used by test_sendf.c: one-line messages (pictures)
 * and forwarding, run by actors of any placement.
 */
#ifndef TEST_BEHAVIORS_PIC_H
#define TEST_BEHAVIORS_PIC_H

/*
 * "pic.fwd" -- init argument: picture "r", the target.  Passes every
 * message on to the target with tr_forward(); if that fails, sends
 * TP_FWD_ERR "i" (the error) to the message's sender.
 */
#define TP_BASE 0x5000u
#define TP_FWD_ERR (TP_BASE + 0x01)

/*
 * "pic.calc" -- answers with the picture calls.
 * Calls:
 *   TP_ADD  "qq"  -> TP_SUM "q" (a + b), by tr_replyf
 *   TP_ALL  TP_ALL_PIC -> the same values, repacked from what it read
 *   a body that does not match -> TP_BAD "i" (the error)
 * Plain messages:
 *   TP_ASK  "q"   -> TP_SUM "q" (2 v) to the sender, by tr_sendf
 *   TP_RECV       -> waits in handle (tr_recvf, 10 s at most) for the
 *                    next message, picture "q", and sends TP_GOT "iq"
 *                    (the error, the value) to the TP_RECV's sender
 */
#define TP_ADD (TP_BASE + 0x10)
#define TP_SUM (TP_BASE + 0x11)
#define TP_ALL (TP_BASE + 0x12)
#define TP_BAD (TP_BASE + 0x13)
#define TP_ASK (TP_BASE + 0x14)
#define TP_RECV (TP_BASE + 0x15)
#define TP_GOT (TP_BASE + 0x16)
#define TP_VALUE (TP_BASE + 0x17)

/* Every letter once. */
#define TP_ALL_PIC "iuqQd?sSbrnm"

#endif
