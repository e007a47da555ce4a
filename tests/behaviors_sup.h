/*
 * behaviors_sup.h -- the message protocol of the test behaviors in
 * behaviors_sup.c, used by test_supervisor.c.
 *
 * The behaviors talk to a test only by messages (a supervisor's child
 * may run in a forked member or an exec'd program), so everything a test
 * can ask of them, and everything they tell it, is a tag here.  All tags
 * are user tags, far below TR_TAG_SYSTEM.
 */
#ifndef TEST_BEHAVIORS_SUP_H
#define TEST_BEHAVIORS_SUP_H

/*
 * "sup.child" -- a supervised child that reports its life to the test.
 *
 * Init argument (optional): TS_CFG with body [report, label, init_fail]
 * or [report, label, init_fail, init_ms]
 *   report     ref or nil: where the reports below go
 *   label      int: the test's name for this child, in every report
 *   init_fail  int: non-zero makes init return it (a failed start),
 *              before any report
 *   init_ms    int: init blocks that long after its TS_STARTED report,
 *              so that the test knows its spawner is still waiting
 * Reports (plain messages to report; ts is CLOCK_MONOTONIC in ns, the
 * same clock in every process of the host, so that a test can order
 * reports that came from different processes by when they happened):
 *   TS_STARTED  [label, ts, pid]        init succeeded
 *   TS_STOPPED  [label, kind, code, ts] terminate ran, with its reason
 *   TS_HANGING  [label]                 it is about to block (TS_HANG)
 * Messages:
 *   TS_CRASH  body code: handle returns code (ends with error(code))
 *   TS_EXIT   body [kind, code]: tr_stop(tr_self(), that reason)
 *   TS_HANG   body ms: reports TS_HANGING, then blocks in its callback
 *             for ms (sleeping), deaf to everything -- stop requests
 *             too.  Only for process placements, or short times
 *   TS_WORK   counted
 *   TS_PING   (call) -> TS_PONG [label, works counted, pid]
 *   anything else: ignored
 *
 * "sup.driver" -- sends TS_WORK to named actors, every millisecond, for
 * the chaos test.
 *
 * Init argument: TS_CFG with body [prefix, n]: the names are prefix.0
 * .. prefix.(n-1), looked up with tr_whereis() at every send (the actors
 * behind them are restarted meanwhile).  Sends that fail are counted,
 * not errors.
 * Calls:
 *   TS_PING -> TS_PONG [sent, failed]
 */
#define TS_BASE 0x5300u
#define TS_CFG (TS_BASE + 0x01)
#define TS_STARTED (TS_BASE + 0x02)
#define TS_STOPPED (TS_BASE + 0x03)
#define TS_HANGING (TS_BASE + 0x04)
#define TS_CRASH (TS_BASE + 0x05)
#define TS_EXIT (TS_BASE + 0x06)
#define TS_HANG (TS_BASE + 0x07)
#define TS_WORK (TS_BASE + 0x08)
#define TS_PING (TS_BASE + 0x09)
#define TS_PONG (TS_BASE + 0x0a)
#define TS_TICK (TS_BASE + 0x0b) /* the driver's own clock */
#define TS_MARK (TS_BASE + 0x0c) /* the tests' own markers */

#define TS_CHILD "sup.child"
#define TS_DRIVER "sup.driver"

#endif
