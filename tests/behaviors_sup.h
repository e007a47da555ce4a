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
 * or [report, label, init_fail, init_ms] or [report, label, init_fail,
 * init_ms, term_ms, gate]
 *   report     ref or nil: where the reports below go
 *   label      int: the test's name for this child, in every report
 *   init_fail  int: non-zero makes init return it (a failed start, or
 *              TR_IGNORE), before any report
 *   init_ms    int: init blocks that long after its TS_STARTED report,
 *              so that the test knows its spawner is still waiting
 *   term_ms    int: terminate blocks that long before its TS_STOPPED
 *              report (a slow clean-up)
 *   gate       ref or nil: a "sup.gate" that init asks first (a call,
 *              TS_ASK [label]) what this start is to do: its answer
 *              [code, ms] makes init wait ms, then return code if it is
 *              not 0 (after a TS_ATTEMPT report), else go on as above
 * Reports (plain messages to report; ts is CLOCK_MONOTONIC in ns, the
 * same clock in every process of the host, so that a test can order
 * reports that came from different processes by when they happened):
 *   TS_STARTED  [label, ts, pid]        init succeeded
 *   TS_STOPPED  [label, kind, code, ts] terminate ran, with its reason
 *   TS_HANGING  [label]                 it is about to block (TS_HANG)
 *   TS_ATTEMPT  [label, code, ts]       init is about to return code
 *                                       (a failure, or TR_IGNORE) as
 *                                       its gate said
 * Messages:
 *   TS_CRASH  body code: handle returns code (ends with error(code))
 *   TS_EXIT   body [kind, code]: tr_stop(tr_self(), that reason)
 *   TS_HANG   body ms: reports TS_HANGING, then blocks in its callback
 *             for ms (sleeping), deaf to everything -- stop requests
 *             too.  Only for process placements, or short times
 *   TS_WORK   counted
 *   TS_PING   (call) -> TS_PONG [label, works counted, pid]
 *   TS_UNLINK body ref: tr_unlink(ref) (a child that unlinks itself
 *             from its supervisor)
 *   anything else: ignored
 *
 * "sup.gate" -- scripts the starts of the sup.child that name it: for
 * each label, a list of answers given in turn, then a default answer
 * for every start after.  Unknown labels get [0, 0] (start).
 * Messages (sends or calls; a call is answered TS_PONG [] once done):
 *   TS_GATE_SET [label, code, ms, [code, ms]...]: label's default answer,
 *               then the answers to give first, in order
 * Calls:
 *   TS_ASK [label] -> TS_ANSWER [code, ms]
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
#define TS_ATTEMPT (TS_BASE + 0x0d)
#define TS_UNLINK (TS_BASE + 0x0e)
#define TS_GATE_SET (TS_BASE + 0x0f)
#define TS_ASK (TS_BASE + 0x10)
#define TS_ANSWER (TS_BASE + 0x11)

#define TS_CHILD "sup.child"
#define TS_DRIVER "sup.driver"
#define TS_GATE "sup.gate"

#endif
