#!/usr/bin/env bash
# Scheduled actors under `troupe run`: the file's runtime map (one
# scheduler), scheduled children and a scheduled supervisor, and a
# callback that does not return -- shown by `troupe status` (BUSY,
# callback_ms, waiting) while it runs, and named in the tree's log when
# it has run a second, and when it ends.
# usage: busy.sh TROUPE PLUGIN
set -u
troupe=$1; plugin=$(realpath "$2")
rd=$(mktemp -d)
export TROUPE_RUNDIR=$rd
unset TROUPE_SCHEDULERS TROUPE_PLACEMENT
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$rd"' EXIT
fail() { echo "busy: FAIL: $*" >&2; [ -f "$rd/log" ] && cat "$rd/log" >&2; exit 1; }

# spin computes for 4 s, nap waits 30 s in tr_sleep; both start when
# kick, the last child, has seen all the others start (nap first: it
# sets its callback aside to wait, spin then keeps it).  One scheduler:
# spin holds it, and the scheduled supervisor 'sub' with it.
cat >"$rd/busy.yaml" <<EOF
plugins: [$plugin]
runtime: {schedulers: 1, stack_size: 64k}
supervisor:
  name: busytest
  children:
    - {id: spin, behavior: plugin.busy, placement: scheduled, init: {spin: 4000}, name: spinner}
    - {id: nap, behavior: plugin.busy, placement: scheduled, init: {sleep: 30000}, name: napper}
    - id: sub
      supervisor:
        placement: scheduled
        children:
          - {id: echo, behavior: plugin.echo, placement: scheduled}
    - {id: kick, behavior: plugin.kick, placement: thread, init: [napper, spinner]}
EOF
"$troupe" check "$rd/busy.yaml" >/dev/null || fail "check: $("$troupe" check "$rd/busy.yaml" 2>&1)"
"$troupe" run "$rd/busy.yaml" >"$rd/out" 2>"$rd/log" &
pid=$!
# Another process: poll its control socket and its log (bounded, 10 s);
# a shell has no message to wait on.
busy=
for i in $(seq 1 100); do
	st=$("$troupe" status --json busytest 2>/dev/null) &&
		echo "$st" | grep -Eq '"path":"spin",[^}]*"callback_ms":[0-9]{4,},"waiting":false' && { busy=1; break; }
	sleep 0.1
done
[ -n "$busy" ] || fail "spin never showed busy: $("$troupe" status --json busytest 2>&1)"
grep -q "'spin' started (scheduled, pid $pid)" "$rd/log" || fail "no start line for spin"
echo "$st" | grep -q '"path":"spin","placement":"scheduled","supervisor":false,"pid":'"$pid"',"state":"running"' || fail "spin's entry: $st"
echo "$st" | grep -Eq '"path":"nap","placement":"scheduled",[^}]*"callback_ms":[0-9]+,"waiting":true' || fail "nap does not wait: $st"
echo "$st" | grep -q '"path":"sub","placement":"scheduled","supervisor":true' || fail "sub is not scheduled: $st"
# sub shares spin's scheduler: it cannot list its children meanwhile,
# and status says so instead of waiting for it.
echo "$st" | grep -q '"not_answering":\["sub"\]}$' || fail "sub answered, or was not named: $st"
echo "$st" | grep -q '"path":"sub/echo"' && fail "sub's children listed while it cannot answer: $st"
echo "$st" | grep -q '"path":"kick","placement":"thread",[^}]*"callback_ms":0,"waiting":false' || fail "kick's entry: $st"
table=$("$troupe" status busytest) || fail "status"
echo "$table" | grep -q '^CHILD  *PLACEMENT  *PID  *STATE  *BUSY  *RESTARTS' || fail "no BUSY column: $table"
echo "$table" | grep -Eq '^spin  +scheduled +[0-9]+ +running +busy [0-9]+\.[0-9]s ' || fail "spin not busy in the table: $table"
echo "$table" | grep -Eq '^kick  +thread +[0-9]+ +running +- ' || fail "kick busy in the table: $table"
echo "$table" | grep -q "^troupe: supervisor 'sub' did not answer in time: its children are not listed" || fail "no word on sub: $table"

# The log names it once, by its path, and says when it is over.
for i in $(seq 1 150); do grep -q "'spin' is no longer busy" "$rd/log" && break; sleep 0.1; done
grep -Eq "^troupe: busytest: 'spin' is busy: one callback has run [0-9.]+s without returning \(scheduled: the other actors of its scheduler thread wait\)$" "$rd/log" || fail "no busy line"
[ "$(grep -c "'spin' is busy" "$rd/log")" -eq 1 ] || fail "said more than once"
grep -Eq "^troupe: busytest: 'spin' is no longer busy, after [0-9.]+s$" "$rd/log" || fail "no end line"
grep -q "'nap' is busy" "$rd/log" && fail "a waiting callback was called busy"
st=$("$troupe" status --json busytest) || fail "status after"
echo "$st" | grep -q '"path":"spin",[^}]*"callback_ms":0,"waiting":false' || fail "spin still busy: $st"
echo "$st" | grep -q '"path":"sub/echo"' && echo "$st" | grep -q '"not_answering":\[\]}$' || fail "sub still silent: $st"
# Its neighbours ran again: the scheduled supervisor answers.
"$troupe" restart sub/echo --tree busytest | grep -q "restarted" || fail "restart sub/echo"

kill -TERM $pid
wait $pid; rc=$?
pid=
[ $rc -eq 0 ] || fail "run exited $rc after SIGTERM"
grep -q "tree 'busytest' stopped" "$rd/log" || fail "no end line"
echo "busy: all checks passed"
