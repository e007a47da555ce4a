#!/usr/bin/env bash
# A tree's name on this machine: a second tree of a running tree's name
# is refused (and the first stays reachable); trees killed with -9 are
# left out of `troupe status` and their control sockets swept.
# usage: tree_names.sh TROUPE
set -u
troupe=$1
rd=$(mktemp -d)
export TROUPE_RUNDIR=$rd
pids=
trap 'for p in $pids; do kill -9 $p 2>/dev/null; done; rm -rf "$rd"' EXIT
fail() { echo "tree_names: FAIL: $*" >&2; for f in "$rd"/*.log; do [ -f "$f" ] && { echo "== $f" >&2; cat "$f" >&2; }; done; exit 1; }

# A tree named $1 of one wrapped program.
tree() {
	printf 'supervisor:\n  name: %s\n  children:\n    - {id: s, command: [sleep, "1000"], shutdown: brutal}\n' "$1" >"$rd/$1.yaml"
}
# Starts tree $1 in the background; its pid in $started.
start() {
	"$troupe" run "$rd/$1.yaml" >/dev/null 2>>"$rd/$1.log" &
	started=$!
	pids="$pids $started"
	# Another process: poll its control socket (bounded, 20 s) -- there
	# is no message to wait on from a shell.
	for i in $(seq 1 200); do
		"$troupe" status "$1" >/dev/null 2>&1 && return 0
		kill -0 $started 2>/dev/null || fail "tree '$1' ended at start"
		sleep 0.1
	done
	fail "tree '$1' did not answer within 20 s"
}

tree one; tree two; tree three
start one; p1=$started

# A second 'one' is refused at once, naming the running one's pid.  (If
# it started, `timeout` ends it after 20 s -- and its stop took the
# first tree's control socket with it, which the next check sees.)
out=$(timeout 20 "$troupe" run "$rd/one.yaml" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "a second tree 'one' exited $rc: $out"
echo "$out" | grep -q "^troupe: a tree named 'one' is running already (pid $p1)" || fail "a second tree 'one' said: $out"
echo "$out" | grep -q "starting tree" && fail "a second tree 'one' started something: $out"
st=$("$troupe" status one 2>&1) || fail "the first tree 'one' is unreachable after a second was refused: $st"
echo "$st" | grep -q "^tree one, pid $p1$" || fail "status of 'one': $st"

# Trees killed with -9: left out, and swept.
start two; p2=$started
start three; p3=$started
out=$("$troupe" status 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "several trees run" || fail "three trees, no name ($rc): $out"
kill -9 $p2 $p3
wait $p2 $p3 2>/dev/null
[ -e "$rd/two.ctl" ] || fail "no control socket left behind to sweep: the test proves nothing"
out=$("$troupe" status 2>&1) || fail "status with one live tree and two dead: $out"
echo "$out" | grep -q "^tree one, pid $p1$" || fail "status with dead trees said: $out"
[ -e "$rd/two.ctl" ] && fail "the dead tree's control socket was not swept"
[ -e "$rd/three.ctl" ] && fail "the dead tree's control socket was not swept"
[ -e "$rd/one.ctl" ] || fail "the live tree's control socket was swept"

# A dead tree named: not running (and swept); its name is free again.
start two; p2=$started
kill -9 $p2; wait $p2 2>/dev/null
out=$("$troupe" status two 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "no tree 'two' is running" || fail "status of a dead tree ($rc): $out"
[ -e "$rd/two.ctl" ] && fail "a dead tree named was not swept"
kill -9 $p1; wait $p1 2>/dev/null
start one; p1=$started # the name of a tree killed with -9 is free
out=$("$troupe" stop s --tree one) || fail "stop in the restarted 'one': $out"

# Stopped by the book: nothing is left, and the name is free at once.
kill -TERM $p1; wait $p1; rc=$?
[ $rc -eq 0 ] || fail "'one' exited $rc after SIGTERM"
ls "$rd" | grep -E '^one\.(ctl|pid)$' && fail "'one' left its files behind"
start one; p1=$started
kill -TERM $p1; wait $p1
out=$("$troupe" status 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "no running tree" || fail "status with no tree ($rc): $out"

# A name that is no file name: the tree runs, unreachable, and says so;
# nothing is made outside the run directory.
mkdir -m 700 "$rd/in"
printf 'supervisor:\n  name: ../up\n  children: []\n' >"$rd/up.yaml"
TROUPE_RUNDIR=$rd/in "$troupe" run "$rd/up.yaml" >/dev/null 2>"$rd/up.log" &
p=$!; pids="$pids $p"
for i in $(seq 1 200); do grep -q "running; Ctrl-C stops it" "$rd/up.log" && break; sleep 0.1; done
grep -q "warning: cannot claim the name '../up' (invalid argument)" "$rd/up.log" || fail "a tree named ../up said: $(cat "$rd/up.log")"
ls "$rd" | grep -E '^up\.(ctl|pid)$' && fail "a tree named ../up made files outside the run directory"
kill -TERM $p; wait $p; rc=$?
[ $rc -eq 0 ] || fail "the tree named ../up exited $rc"
echo "cli tree_names: all checks passed"
