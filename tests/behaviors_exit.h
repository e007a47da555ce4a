/*
 * behaviors_exit.h -- the message protocol of the test behavior in
 * behaviors_exit.c, used by test_exit.c: what a process's end does to
 * the messages it sent and to those sent to it.
 *
 * The behavior runs in forked members and exec'd programs, so
 * everything a test can ask of it is a tag here.  All tags are user
 * tags, far below TR_TAG_SYSTEM.
 */
#ifndef TEST_BEHAVIORS_EXIT_H
#define TEST_BEHAVIORS_EXIT_H

/*
 * "exit.member"
 *
 * Init argument (optional); its tag says what the actor does:
 *   TX_CFG_EMIT  body n: right after init, sends n TX_DATA [i] (i = 0 ..
 *                n-1) to tr_parent(), then ends with reason
 *                error(TX_DONE_CODE): its process exits by the book at
 *                once after its last message
 *   anything else: nothing
 *
 * Plain messages:
 *   TX_BLOCK     body report: sends TX_BLOCKED [pid] to report, then
 *                blocks in the callback (30 s at most, then ends with
 *                error(TX_BROKEN)): what is sent to it meanwhile waits
 *                in its mailbox, accepted and not handled
 *   TX_QUIT      body ms: stays ms in the callback, then ends with
 *                error(TX_DONE_CODE), leaving what came meanwhile
 *   anything else: ignored
 */
#define TX_MEMBER "exit.member"

#define TX_BASE 0x5800u
#define TX_CFG_EMIT (TX_BASE + 0x01)
#define TX_GO (TX_BASE + 0x02)
#define TX_DATA (TX_BASE + 0x03)
#define TX_BLOCK (TX_BASE + 0x04)
#define TX_BLOCKED (TX_BASE + 0x05)
#define TX_FILL (TX_BASE + 0x06) /* the tests' messages to a blocked one */
#define TX_QUIT (TX_BASE + 0x07)

#define TX_DONE_CODE 42
#define TX_BROKEN 9997

#endif
