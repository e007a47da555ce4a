/*
 * behaviors_life.h -- the message protocol of the test behavior in
 * behaviors_life.c, used by test_lifecycle.c, test_links.c,
 * test_names.c and test_timers.c.
 *
 * The behavior talks to a test only by messages (an actor may run in
 * another process), so everything a test can ask of it is a tag here.
 * All tags are user tags, far below TR_TAG_SYSTEM.
 */
#ifndef TEST_BEHAVIORS_LIFE_H
#define TEST_BEHAVIORS_LIFE_H

/*
 * "life.worker" -- a many-purpose actor for lifecycle, link, name and
 * timer tests.
 *
 * Init argument (optional).  Whatever it is, its tag and body are kept
 * (bodies up to TL_ARG_MAX bytes) for TL_GET_ARG.  If its tag is TL_CFG
 * its body configures the actor, an array, shorter arrays allowed:
 *   [report, init_fail, whereis, crash]
 *   report    ref or nil: where terminate sends TL_TERMINATED [kind,
 *             code] and where trapped exits go as TL_GOT_EXIT
 *             [who, kind, code]
 *   init_fail int: non-zero makes init return it (a failed spawn)
 *   whereis   str or nil: init looks the name up with tr_whereis(), for
 *             TL_WHEREIS
 *   crash     int: non-zero makes init send the actor itself TL_FAIL
 *             with that code, so it ends with error(crash) right after
 *             it started
 *
 * Calls; the answer is TL_RESULT with body [rv] unless said otherwise:
 *   TL_PING      -> TL_PONG with the request's body
 *   TL_STOP_SELF body [kind, code]: tr_stop(tr_self(), reason), answers,
 *                then returns 0: the actor ends with that reason
 *   TL_STOP_REF  body [ref, kind, code]: tr_stop(ref, reason)
 *   TL_LINK      body ref: tr_link(ref)
 *   TL_UNLINK    body ref: tr_unlink(ref)
 *   TL_TRAP      body bool: tr_trap_exits(on, NULL)
 *   TL_LOOP      [tr_loop() != NULL]
 *   TL_SHUTDOWN  tr_shutdown()
 *   TL_GET_ARG   -> the init argument kept: same tag, same body
 *                (TL_RESULT [-1] if there was none)
 *   TL_WHEREIS   [rv, same]: what tr_whereis() returned in init, and
 *                whether it named the actor itself
 *   TL_FILL      body n: sends n TL_FILLER messages, bodies 0..n-1, to
 *                the caller with TR_NOWAIT; answers [sent, first_error]
 *   TL_UV_TIMER  body ms: starts a libuv timer of ms on tr_loop(); when
 *                it fires, TL_UV_FIRED goes to the caller.  Answers [rv]
 *                with rv the uv error (0 for success)
 *   TL_WAIT_TICK keeps the call and answers it (TL_RESULT [0]) once a
 *                tick has come: a TL_TICK message or a trapped exit
 *                (answered at once if one came before the call)
 * Plain messages:
 *   TL_FAIL      body code: handle returns code
 *   TL_HOLD      calls the sender with TL_HOLDING and waits for the
 *                answer, taking nothing from its mailbox meanwhile; at
 *                most 5 s, less than tr_shutdown() waits for an actor,
 *                so that a test that failed while holding does not
 *                wreck the next one
 *   TL_TICK      see TL_WAIT_TICK
 *   TL_PING      -> TL_PONG to the sender, same body
 *   TR_TAG_EXIT  (when trapping) forwarded to report as TL_GOT_EXIT,
 *                then counts as a tick
 *   anything else: ignored
 * terminate closes the libuv timer and sends TL_TERMINATED to report.
 */
#define TL_BASE 0x4c00u
#define TL_CFG (TL_BASE + 0x01)
#define TL_PING (TL_BASE + 0x02)
#define TL_PONG (TL_BASE + 0x03)
#define TL_RESULT (TL_BASE + 0x04)
#define TL_FAIL (TL_BASE + 0x05)
#define TL_STOP_SELF (TL_BASE + 0x06)
#define TL_STOP_REF (TL_BASE + 0x07)
#define TL_LINK (TL_BASE + 0x08)
#define TL_UNLINK (TL_BASE + 0x09)
#define TL_TRAP (TL_BASE + 0x0a)
#define TL_LOOP (TL_BASE + 0x0b)
#define TL_SHUTDOWN (TL_BASE + 0x0c)
#define TL_GET_ARG (TL_BASE + 0x0d)
#define TL_WHEREIS (TL_BASE + 0x0e)
#define TL_FILL (TL_BASE + 0x0f)
#define TL_FILLER (TL_BASE + 0x10)
#define TL_UV_TIMER (TL_BASE + 0x11)
#define TL_UV_FIRED (TL_BASE + 0x12)
#define TL_WAIT_TICK (TL_BASE + 0x13)
#define TL_TICK (TL_BASE + 0x14)
#define TL_HOLD (TL_BASE + 0x15)
#define TL_HOLDING (TL_BASE + 0x16)
#define TL_TERMINATED (TL_BASE + 0x17)
#define TL_GOT_EXIT (TL_BASE + 0x18)
#define TL_MARK (TL_BASE + 0x19) /* the tests' own markers */
#define TL_USER (TL_BASE + 0x1a) /* any plain message, ignored */

#define TL_ARG_MAX 512

#define TL_WORKER "life.worker"

#endif
