/*
 * behaviors_proc.h -- the message protocol of the test behaviors in
 * behaviors_proc.c, used by test_process.c (the failure paths of the
 * fork and exec placements) and by its helper program root_prog.c.
 *
 * The behaviors talk to a test only by messages (they run in forked
 * members and exec'd programs), so everything a test can ask of them is
 * a tag here.  All tags are user tags, far below TR_TAG_SYSTEM.
 */
#ifndef TEST_BEHAVIORS_PROC_H
#define TEST_BEHAVIORS_PROC_H

/*
 * "proc.member" -- an actor meant to run in another process.
 *
 * Init argument (optional); its tag says what init does:
 *   TP_CFG_FAIL   body code: init returns code (a failed spawn)
 *   TP_CFG_BLOCK  sends TP_INIT_PID [pid] to tr_parent(), then never
 *                 answers: init sleeps (at most 10 s, then returns
 *                 TP_BROKEN), for the start timeout
 *   TP_CFG_REPORT any body: sends TP_INIT_SEEN [tr_parent(), tag, bin]
 *                 to tr_parent(), bin being the argument's raw body
 *                 bytes as init got them
 *   TP_CFG_ONCE   body [report, path, code]: sends TP_INIT_PID [pid] to
 *                 report, then creates path (O_EXCL): the first member
 *                 to do so starts, any later one returns code
 *   TP_CFG_DIE    body n: the process dies in init, without a word:
 *                 n > 0 kills it with signal n, n <= 0 makes it exit
 *                 with status -n
 *   TP_CFG_SERVE  body [port]: listens on 127.0.0.1:port with
 *                 tr_tcp_listen() and serves on tr_loop(): each
 *                 connection gets the member's pid as decimal text, then
 *                 is closed.  A failed tr_tcp_listen() is init's return
 *   anything else: ignored
 *
 * Calls:
 *   TP_PID     -> TP_RESULT [getpid()]
 *   TP_PARENT  -> TP_RESULT tr_parent() (a ref)
 *   TP_HANG    body report: sends TP_HANGING [pid] to report, keeps the
 *              call and never answers it
 *   TP_SPAWN   -> TP_RESULT ref: a new "proc.member" thread actor of the
 *              member's own process
 *   TP_ARM     body [to, n, delay_ms]: n tr_send_after() of TP_DATA to
 *              `to` -> TP_RESULT [how many were armed]
 * Anything else is ignored.
 */
#define TP_MEMBER "proc.member"

/*
 * "proc.caller" -- a thread actor that makes a call for the test, so
 * that the test's main context is free to do something meanwhile (kill
 * the callee).
 *   TP_GO  body [target, report, timeout_ms]: calls target with TP_HANG
 *          [report] and timeout_ms, then sends report TP_CALL_RV
 *          [rv, sent, elapsed_ms] (the reply, if any, is dropped)
 */
#define TP_CALLER "proc.caller"

#define TP_BASE 0x5000u
#define TP_CFG_FAIL (TP_BASE + 0x01)
#define TP_CFG_BLOCK (TP_BASE + 0x02)
#define TP_CFG_REPORT (TP_BASE + 0x03)
#define TP_CFG_ONCE (TP_BASE + 0x04)
#define TP_CFG_SERVE (TP_BASE + 0x05)
#define TP_PID (TP_BASE + 0x06)
#define TP_PARENT (TP_BASE + 0x07)
#define TP_HANG (TP_BASE + 0x08)
#define TP_HANGING (TP_BASE + 0x09)
#define TP_RESULT (TP_BASE + 0x0a)
#define TP_INIT_PID (TP_BASE + 0x0b)
#define TP_INIT_SEEN (TP_BASE + 0x0c)
#define TP_GO (TP_BASE + 0x0d)
#define TP_CALL_RV (TP_BASE + 0x0e)
#define TP_DATA (TP_BASE + 0x0f) /* the tests' own messages */
#define TP_CFG_DIE (TP_BASE + 0x10)
#define TP_SPAWN (TP_BASE + 0x11)
#define TP_ARM (TP_BASE + 0x12)

/* A failure of the behavior itself (not one the test asked for). */
#define TP_BROKEN 9998

#endif
