/*
 * behaviors_sched.h -- the message protocol of the test behaviors in
 * behaviors_sched.c, used by test_sched.c to hold the scheduled
 * placement to what it promises.  "sched.kit" also runs as a thread
 * actor or a fork member (a sender, a spawner); everything a test asks
 * of it is a message.  Facts that only make sense in the test's own
 * process (the OS thread a callback ran on) are reported as values.
 * All tags are user tags, far below TR_TAG_SYSTEM.
 */
#ifndef TEST_BEHAVIORS_SCHED_H
#define TEST_BEHAVIORS_SCHED_H

#define TS_BASE 0x5300u

/*
 * "sched.kit" -- init argument (optional), picture "ri": a ref for
 * reports (nil: none) and an init mode:
 *   0 start; TS_INIT_IGNORE return TR_IGNORE; TS_INIT_EVEN_IGNORE
 *   TR_IGNORE for every second start of the process (counted from
 *   test_sched_init_reset()); TS_INIT_CALL_REPORT first call the report
 *   ref with TS_PING "q" (3 s at most) and fail with the call's error;
 *   n > 0 fail with TS_INIT_CODE at the n-th start of the process.
 * Every successful init records the actor's ref (test_sched_started()).
 * terminate sends TS_TERMINATED "ii" [kind, code] to the report ref and
 * counts itself (test_sched_terminated()).
 *
 * Calls:
 *   TS_PING "q"      -> TS_PONG "q"
 *   TS_WHERE         -> TS_WHERE "QQ": the thread init ran on, the
 *                       thread this callback runs on (pthread_t)
 *   TS_SPAWN "siri"  behavior, placement, report, init mode: spawns
 *                    that actor (init argument "ri": report, mode) ->
 *                    TS_SPAWNED "irQq": rv, ref, this callback's
 *                    thread, how long tr_spawn took (ms)
 *   TS_CHAIN m       an array of [ref, timeout] pairs: calls the first
 *                    ref with TS_CHAIN and the rest, with its timeout;
 *                    an empty array is answered at once ->
 *                    TS_CHAINED "ii": the first error met, the hops
 *                    that answered
 *   TS_ECHO  any     -> the same tag and body
 *   TS_BIG "rii"     target, size, seed: calls target with TS_ECHO of
 *                    size bytes (picture "b") made from seed, checks
 *                    the echo byte by byte -> TS_BIGGED "ii": rv, intact
 *   TS_LINK "r"      -> TS_RESULT "i": tr_link
 *   TS_TRAP "?"      -> TS_RESULT "i": tr_trap_exits
 *   TS_REPORT        -> TS_REPORT "QQQQ": TS_SEQ messages taken, how
 *                       many were out of order (gap or duplicate),
 *                       distinct senders, distinct threads they were
 *                       handled on
 *   TS_FIRST_BAD     -> TS_FIRST_BAD "rQQ": the sender of the first
 *                       TS_SEQ out of order, the number expected, the
 *                       number that came
 *   TS_WORK "i"      -> TS_RESULT "i" 0: busy-waits that many
 *                       microseconds per TS_SEQ from now on
 *   TS_SPAWN_MANY "ii" n, init mode: tr_spawn_many of n sched.kit from
 *                    inside -> TS_SPAWNED_MANY "ii": rv, refs not nil
 * Plain messages (answers go to the message's sender):
 *   TS_PING "q"      -> TS_PONG "q"
 *   TS_WAIT "iri"    kind (TS_WAIT_CALL, _RECV, _SLEEP, _POLL), target (for a
 *                    call: TS_ECHO to it), ms: sends TS_WAITING, waits,
 *                    then sends TS_WAITED "iq": rv, elapsed ms
 *   TS_FAIL "i"      handle returns the code
 *   TS_SPIN "i"      sends TS_SPINNING, busy-loops for ms (no troupe
 *                    call), sends TS_SPUN
 *   TS_FLOOD         sends itself two TS_FLOOD_AGAIN, each of which
 *                    sends itself two more, forever (until stopped):
 *                    its mailbox fills and stays full
 *   TS_SEQ "Q"       checked against the next number expected from its
 *                    sender (see TS_REPORT)
 *   TS_HOLD          calls the sender with TS_HOLDING (20 s at most),
 *                    then sends it TS_HELD "i" with the call's result
 *   TS_SEND_N "rii"  to, n, timeout: sends n TS_SEQ "Q" 0..n-1 to `to`,
 *                    each first with TR_NOWAIT and, if full, again with
 *                    the timeout; stops at the first error -> TS_SENT
 *                    "iii": sent, rv, how many found the mailbox full
 *   TS_BLAST "im"    n, an array of refs: sends TS_SEQ 0..n-1 to each,
 *                    round robin (tr_send: waits for room), one round
 *                    per callback (it sends itself TS_BLAST_NEXT for
 *                    the next) -> TS_BLASTED "iii": sent, first error,
 *                    distinct threads it sent from
 *   TR_TAG_EXIT      (when trapping) -> TS_GOT_EXIT "rii" who, kind,
 *                    code to the report ref
 */
#define TS_KIT "sched.kit"

#define TS_INIT_IGNORE (-1)
#define TS_INIT_EVEN_IGNORE (-2)
#define TS_INIT_CALL_REPORT (-3)
#define TS_INIT_CODE 77

#define TS_PING (TS_BASE + 0x01)
#define TS_PONG (TS_BASE + 0x02)
#define TS_WHERE (TS_BASE + 0x03)
#define TS_SPAWN (TS_BASE + 0x04)
#define TS_SPAWNED (TS_BASE + 0x05)
#define TS_CHAIN (TS_BASE + 0x06)
#define TS_CHAINED (TS_BASE + 0x07)
#define TS_ECHO (TS_BASE + 0x08)
#define TS_BIG (TS_BASE + 0x09)
#define TS_BIGGED (TS_BASE + 0x0a)
#define TS_LINK (TS_BASE + 0x0b)
#define TS_TRAP (TS_BASE + 0x0c)
#define TS_RESULT (TS_BASE + 0x0d)
#define TS_REPORT (TS_BASE + 0x0e)
#define TS_WORK (TS_BASE + 0x0f)
#define TS_SPAWN_MANY (TS_BASE + 0x10)
#define TS_SPAWNED_MANY (TS_BASE + 0x11)
#define TS_WAIT (TS_BASE + 0x12)
#define TS_WAITING (TS_BASE + 0x13)
#define TS_WAITED (TS_BASE + 0x14)
#define TS_FAIL (TS_BASE + 0x15)
#define TS_SPIN (TS_BASE + 0x16)
#define TS_SPINNING (TS_BASE + 0x17)
#define TS_SPUN (TS_BASE + 0x18)
#define TS_FLOOD (TS_BASE + 0x19)
#define TS_FLOOD_AGAIN (TS_BASE + 0x1a)
#define TS_SEQ (TS_BASE + 0x1b)
#define TS_HOLD (TS_BASE + 0x1c)
#define TS_HOLDING (TS_BASE + 0x1d)
#define TS_HELD (TS_BASE + 0x1e)
#define TS_SEND_N (TS_BASE + 0x1f)
#define TS_SENT (TS_BASE + 0x20)
#define TS_BLAST (TS_BASE + 0x21)
#define TS_BLASTED (TS_BASE + 0x22)
#define TS_GOT_EXIT (TS_BASE + 0x23)
#define TS_TERMINATED (TS_BASE + 0x24)
#define TS_MARK (TS_BASE + 0x25) /* the tests' own markers */
#define TS_BLAST_NEXT (TS_BASE + 0x26)
#define TS_FIRST_BAD (TS_BASE + 0x27)

#define TS_WAIT_CALL 0
#define TS_WAIT_RECV 1
#define TS_WAIT_SLEEP 2
#define TS_WAIT_POLL 3 /* tr_recv(TR_NOWAIT) in a loop, never yielding */

/*
 * "sched.loop" -- an actor with libuv handles on tr_loop(), all in its
 * state, none closed by the behavior (it has no terminate): the runtime
 * must close them when it ends.  Every handle callback checks that
 * tr_self() is the actor and that no handle callback of the actor is
 * running at the same time (a flag set for the length of each).
 * Calls:
 *   TS_LOOP_TIMER "i"  starts a repeating timer of that many ms ->
 *                      TS_RESULT "i" (uv's result)
 *   TS_LOOP_PIPE "i"   opens a uv_pipe on that descriptor (the actor
 *                      owns it from now on) and reads it: every chunk
 *                      read is written back and sent to the caller as
 *                      TS_LOOP_READ "b"; end of file sends TS_LOOP_EOF
 *                      -> TS_RESULT "i"
 *   TS_LOOP_AWAIT "i"  answered with TS_LOOP_STATS (from the timer's
 *                      callback) once the timer fired n more times
 *   TS_LOOP_STATS      -> TS_LOOP_STATS "qqqq": timer fires, callbacks
 *                         that saw another tr_self(), callbacks that
 *                         overlapped a callback of the actor, handle
 *                         callbacks that saw a handle callback running
 * Plain messages: TS_WAIT as "sched.kit" (TS_WAITED then has a third
 * value: "iqq" adds the timer fires seen during the wait).
 */
#define TS_LOOP "sched.loop"
#define TS_LOOP_TIMER (TS_BASE + 0x40)
#define TS_LOOP_PIPE (TS_BASE + 0x41)
#define TS_LOOP_READ (TS_BASE + 0x42)
#define TS_LOOP_EOF (TS_BASE + 0x43)
#define TS_LOOP_AWAIT (TS_BASE + 0x44)
#define TS_LOOP_STATS (TS_BASE + 0x45)

/* In-process facts the behaviors record for the tests (only meaningful
 * for actors of the test's own process). */
#include <stddef.h>
#include <stdint.h>

#include <troupe.h>

/* Clears the start count and the record of started refs. */
void test_sched_init_reset(void);
/* How many sched.kit inits ran (successful or not) since the reset. */
uint64_t test_sched_inits(void);
/* The refs of successful inits since the reset, up to max; returns how
 * many there were (possibly more than max). */
size_t test_sched_started(tr_ref *out, size_t max);
/* How many sched.kit terminate callbacks ran since the reset. */
uint64_t test_sched_terminated(void);

#endif
