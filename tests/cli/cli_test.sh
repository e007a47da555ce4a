#!/usr/bin/env bash
# The troupe command end to end: check, run, status, stop/start/restart,
# SIGTERM, a tree that gives up, and status after bare and garbage
# connections on the control socket.
# usage: cli_test.sh TROUPE CLI_DIR BARE_CONNECT
set -u
troupe=$1; dir=$2; bare=$3
export TROUPE_RUNDIR=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$TROUPE_RUNDIR"' EXIT
fail() { echo "cli_test: FAIL: $*" >&2; [ -f "$TROUPE_RUNDIR/log" ] && cat "$TROUPE_RUNDIR/log" >&2; exit 1; }

# check: good and bad files.
out=$("$troupe" check "$dir/tree.yaml") || fail "check of a good file: $out"
echo "$out" | grep -q "ok: tree 'clitest', 4 top-level children" || fail "check said: $out"
out=$("$troupe" check "$dir/bad.yaml" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "check of a bad file exited $rc"
echo "$out" | grep -Eq "bad.yaml:[0-9]+:[0-9]+: .*strategy" || fail "no strategy error in: $out"
echo "$out" | grep -Eq "bad.yaml:[0-9]+:[0-9]+: .*no-such-program-here" || fail "no program error in: $out"
echo "$out" | grep -Eq "bad.yaml:[0-9]+:[0-9]+: .*comand" || fail "no unknown key error in: $out"
"$troupe" --help | grep -q "usage: troupe" || fail "--help"
"$troupe" status --help | grep -q "usage: troupe status" || fail "status --help"
"$troupe" --help stop | grep -q "usage: troupe stop" || fail "--help before the command"

# a bad command line: what is wrong, then the usage; exit status 2
out=$("$troupe" bogus 2>&1); rc=$?
[ $rc -eq 2 ] || fail "troupe bogus exited $rc"
echo "$out" | grep -q "^troupe: unknown command 'bogus'" || fail "troupe bogus said: $out"
echo "$out" | grep -q "^usage: troupe COMMAND" || fail "no usage after an unknown command: $out"
out=$("$troupe" status --bogus 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "bogus" && echo "$out" | grep -q "^usage: troupe status" || fail "an unknown option ($rc): $out"
out=$("$troupe" run 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "^troupe: run: FILE is missing" && echo "$out" | grep -q "^usage: troupe run FILE" || fail "run without a file ($rc): $out"
out=$("$troupe" check "$dir/tree.yaml" "$dir/bad.yaml" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "^troupe: check: one FILE only" || fail "check of two files ($rc): $out"
out=$("$troupe" stop 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "^troupe: stop: CHILD is missing" || fail "stop without a child ($rc): $out"
out=$("$troupe" stop x --tree 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "tree" || fail "--tree without its value ($rc): $out"
out=$("$troupe" status --json a b 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "^troupe: status: one TREE only" || fail "status of two trees ($rc): $out"
out=$("$troupe" run --json "$dir/tree.yaml" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "^troupe: run: --json is for status" || fail "run --json ($rc): $out"

# run, in the background, until its control socket answers.
"$troupe" run "$dir/tree.yaml" >"$TROUPE_RUNDIR/out" 2>"$TROUPE_RUNDIR/log" &
pid=$!
# The tree is another process: poll its control socket (bounded, 10 s)
# -- there is no message to wait on from a shell.
for i in $(seq 1 100); do
	"$troupe" status clitest >/dev/null 2>&1 && break
	sleep 0.1
done
st=$("$troupe" status --json clitest) || fail "status"
echo "$st" | grep -q '"path":"ticker","placement":"exec"' || fail "status: $st"
echo "$st" | grep -q '"path":"sub/sleeper"' || fail "nested child missing: $st"
echo "$st" | grep -q '"state":"running"' || fail "not running: $st"
echo "$st" | grep -q '"msgs_out":[0-9]*,"timers":0}' || fail "no timers: $st"
"$troupe" status clitest | grep -q 'OUT *TIMERS$' || fail "no TIMERS column"

# Bare connections (connect, close) and garbage on the control socket:
# nng 1.5.2 stopped taking connections there for good (nanomsg/nng#1518),
# and every later status timed out.  It must answer within a second --
# plus what a plain status takes just before, for a loaded machine.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
for round in 1 2 3; do
	t0=$(now_ms); "$troupe" status clitest >/dev/null || fail "status before bare connects"
	plain=$(( $(now_ms) - t0 ))
	"$bare" "$TROUPE_RUNDIR/clitest.ctl" 20 || fail "bare_connect"
	t0=$(now_ms)
	out=$("$troupe" status --json clitest) || fail "status after bare connects (round $round): $out"
	took=$(( $(now_ms) - t0 ))
	echo "cli_test: status after bare connects answered in ${took} ms (${plain} ms before)"
	echo "$out" | grep -q '"path":"sub/sleeper"' || fail "status after bare connects: $out"
	[ "$took" -lt $(( 1000 + plain )) ] || fail "status after bare connects took ${took} ms"
done

# stop / start / restart a child; options anywhere, as getopt has them
out=$("$troupe" stop --tree clitest ticker) || fail "stop, option first: $out"
[ "$out" = "troupe: stop ticker: stopped" ] || fail "stop said: $out"
"$troupe" status clitest --json | grep -q '"path":"ticker","placement":"exec","supervisor":false,"pid":0,"state":"stopped"' || fail "not stopped: $("$troupe" status --json clitest)"
out=$("$troupe" stop ticker --tree=clitest); rc=$?
[ $rc -eq 0 ] && [ "$out" = "troupe: stop ticker: already stopped" ] || fail "a second stop ($rc): $out"
"$troupe" --tree clitest start ticker | grep -q "started" || fail "start"
"$troupe" restart sub/sleeper --tree clitest | grep -q "restarted" || fail "restart nested"
"$troupe" stop nosuch --tree clitest; [ $? -eq 1 ] || fail "stop of an unknown child succeeded"

# the file's socket is open, and listening
port=$(sed -n "s/^troupe: socket 'web' listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p" "$TROUPE_RUNDIR/log")
[ -n "$port" ] && [ "$port" -gt 0 ] || fail "no socket line with a port"
(exec 3<>/dev/tcp/127.0.0.1/"$port") || fail "nothing listens on the tree's socket (port $port)"
# a second tree on that port is refused before it starts anything
printf 'sockets:\n  web: 127.0.0.1:%s\nsupervisor:\n  name: taken\n  children: []\n' "$port" >"$TROUPE_RUNDIR/taken.yaml"
out=$("$troupe" run "$TROUPE_RUNDIR/taken.yaml" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "a tree on a taken port exited $rc: $out"
echo "$out" | grep -q "taken.yaml:2: socket 'web': cannot listen on 127.0.0.1 port $port: Address already in use" || fail "taken port said: $out"

# a rolling restart of a group of instances: one at a time, each back
# before the next stops (the log has the order)
out=$("$troupe" restart pool --tree clitest) || fail "rolling restart: $out"
echo "$out" | grep -q "restarted 2 instances of 'pool', one at a time" || fail "rolling restart said: $out"
seq=$(grep -E "'pool\.[12]' (stopping|started)" "$TROUPE_RUNDIR/log" | tail -4 | sed -E "s/.*'(pool\.[12])' ([a-z]+).*/\1 \2/" | tr '\n' ,)
[ "$seq" = "pool.1 stopping,pool.1 started,pool.2 stopping,pool.2 started," ] || fail "not one at a time: $seq"
"$troupe" stop pool --tree clitest | grep -q "stopped 2 instances of 'pool'" || fail "group stop"
out=$("$troupe" stop pool --tree clitest) || fail "a second group stop: $out"
echo "$out" | grep -q "all 2 instances of 'pool' already stopped" || fail "a second group stop said: $out"
"$troupe" start pool --tree clitest | grep -q "started 2 instances of 'pool'" || fail "group start"

# the wrapped program's output is shown, prefixed
for i in $(seq 1 50); do grep -q '^\[clitest/ticker\] tick ' "$TROUPE_RUNDIR/out" && break; sleep 0.1; done
grep -q '^\[clitest/ticker\] tick ' "$TROUPE_RUNDIR/out" || fail "no prefixed output"

# SIGTERM stops it, newest first, exit 0
kill -TERM $pid
wait $pid; rc=$?
[ $rc -eq 0 ] || fail "run exited $rc after SIGTERM"
grep -q "stopping the tree" "$TROUPE_RUNDIR/log" || fail "no stop line"
grep -q "'sub' stopping" "$TROUPE_RUNDIR/log" || fail "sub not stopped"
[ "$(grep -n "'sub' stopping" "$TROUPE_RUNDIR/log" | cut -d: -f1)" -lt "$(grep -n "'ticker' stopping" "$TROUPE_RUNDIR/log" | tail -1 | cut -d: -f1)" ] || fail "not newest first"
"$troupe" status clitest >/dev/null 2>&1 && fail "status still answers after the tree stopped"

# a tree that gives up: exit 1, the log says so
"$troupe" run "$dir/gives_up.yaml" >/dev/null 2>"$TROUPE_RUNDIR/log2"; rc=$?
[ $rc -eq 1 ] || fail "a tree that gives up exited $rc"
grep -q "gave up" "$TROUPE_RUNDIR/log2" || fail "no 'gave up' line"
grep -q "exited: status(3)" "$TROUPE_RUNDIR/log2" || fail "no exit reason line"
echo "cli_test: all checks passed"
