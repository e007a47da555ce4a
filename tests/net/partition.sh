#!/usr/bin/env bash
# partition.sh -- three troupe nodes on hosts of their own (network
# namespaces, netns.sh) over tls+tcp with the cluster's certificates,
# and what the network does to them:
#   - a node killed with -9: the others know within a second;
#   - a silent partition both ways (nft drops everything between two
#     nodes): both know within 3 s (the default timeout is 2500 ms of
#     silence), the third keeps both; healed, both sessions come back;
#   - a partition one way only: both directions go down, no half-open
#     session; healed, back;
#   - a reconnect storm: every node killed and started again at once:
#     every pair comes up, each node with exactly its two peers.
# Times are printed as `detect <what> <ms>` lines.  Exits 77 (skipped)
# with the reason only where namespaces cannot be made.
# usage: partition.sh DIST_NODE NETNS_SH MKCERTS_SH
set -u
node_prog=${1:?usage: partition.sh DIST_NODE NETNS_SH MKCERTS_SH}
netns=${2:?}
mkcerts=${3:?}
P="trp$$-"
export NETNS_PREFIX=$P
work=$(mktemp -d /tmp/troupe-partition.XXXXXX)
failures=0
passes=0
declare -A pid fd

ns() { "$netns" "$@"; }
cleanup() {
	for k in 1 2 3; do
		[ -n "${pid[$k]:-}" ] && kill -KILL "${pid[$k]}" 2>/dev/null
	done
	ns down "$P" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	echo "partition: FAIL: $*" >&2
	failures=$((failures + 1))
}
ok() {
	echo "partition: ok: $*"
	passes=$((passes + 1))
}
now_ms() { date +%s%3N; }

ns check || exit $?
ns up 3 "$P" >/dev/null || { echo "partition: netns.sh up failed" >&2; exit 1; }
sh "$mkcerts" -q "$work/certs" n1 n2 n3 || exit 1

# start K: node nK in namespace K, seeded with n1, watching the others;
# its stdin is a fifo we hold open (closing it shuts it down in order).
start() {
	local k=$1 others="" j
	for j in 1 2 3; do
		[ "$j" != "$k" ] && others="$others --watch n$j"
	done
	rm -f "$work/in$k"
	mkfifo "$work/in$k"
	: >"$work/out$k"
	"$netns" exec "$k" "$node_prog" --cluster part --name "n$k" \
		--listen "tls+tcp://10.77.0.$k:4400" \
		--seed "tls+tcp://10.77.0.1:4400" \
		--ca "$work/certs/ca.crt" --cert "$work/certs/n$k.crt" \
		--key "$work/certs/n$k.key" $others \
		<"$work/in$k" >>"$work/out$k" 2>>"$work/err$k" &
	pid[$k]=$!
	exec {f}>"$work/in$k"
	fd[$k]=$f
}

# count K WORD PEER: how many "WORD nPEER" lines node K printed.
count() { grep -c "^$2 n$3 " "$work/out$1" 2>/dev/null || true; }

# wait_for K WORD PEER N MS: until node K printed N "WORD nPEER" lines;
# echoes the ms it took, or fails after MS.
wait_for() {
	local t0 now
	t0=$(now_ms)
	while [ "$(count "$1" "$2" "$3")" -lt "$4" ]; do
		now=$(now_ms)
		if [ $((now - t0)) -gt "$5" ]; then
			echo -1
			return 1
		fi
		sleep 0.02 # a poll of the node's output, with a deadline
	done
	echo $(($(now_ms) - t0))
}

expect_within() { # WHAT MS LIMIT
	if [ "$2" -ge 0 ] && [ "$2" -le "$3" ]; then
		ok "$1 in $2 ms (limit $3)"
	else
		fail "$1: $2 ms (limit $3)"
	fi
	echo "detect $1 $2"
}

for k in 1 2 3; do start "$k"; done
for k in 1 2 3; do
	for j in 1 2 3; do
		[ "$j" = "$k" ] && continue
		t=$(wait_for "$k" up "$j" 1 15000)
		[ "$t" -ge 0 ] || fail "n$k never saw n$j up"
	done
done
[ "$failures" = 0 ] && ok "three nodes up over tls+tcp"

# --- a silent partition between n1 and n2, both ways ---------------
d1=$(count 1 down 2)
d2=$(count 2 down 1)
u1=$(count 1 up 2)
u2=$(count 2 up 1)
ns drop 1 2 both
t=$(wait_for 1 down 2 $((d1 + 1)) 6000)
expect_within "partition n1-sees-n2" "$t" 3000
t=$(wait_for 2 down 1 $((d2 + 1)) 2000)
expect_within "partition n2-sees-n1-after" "$t" 2000
if [ "$(count 3 down 1)" = 0 ] && [ "$(count 3 down 2)" = 0 ]; then
	ok "n3 kept n1 and n2 through their partition"
else
	fail "n3 lost a node it could reach"
fi
t0=$(now_ms)
ns heal 1
t=$(wait_for 1 up 2 $((u1 + 1)) 20000)
t2=$(wait_for 2 up 1 $((u2 + 1)) 20000)
expect_within "reconnect n1-n2" "$t" 15000
[ "$t2" -ge 0 ] || fail "n2 never saw n1 again"

# --- one way only: n1 drops what n2 sends --------------------------
d1=$(count 1 down 2)
d2=$(count 2 down 1)
u1=$(count 1 up 2)
u2=$(count 2 up 1)
ns drop 1 2 in
t=$(wait_for 1 down 2 $((d1 + 1)) 6000)
expect_within "one-way n1-sees-n2" "$t" 3000
t=$(wait_for 2 down 1 $((d2 + 1)) 6000)
expect_within "one-way n2-sees-n1" "$t" 6000
ns heal 1
t=$(wait_for 1 up 2 $((u1 + 1)) 20000)
expect_within "reconnect one-way" "$t" 15000
t=$(wait_for 2 up 1 $((u2 + 1)) 20000)
[ "$t" -ge 0 ] || fail "n2 never saw n1 again after the one-way cut"

# --- kill -9 of n3 --------------------------------------------------
d1=$(count 1 down 3)
d2=$(count 2 down 3)
kill -KILL "${pid[3]}"
t=$(wait_for 1 down 3 $((d1 + 1)) 3000)
expect_within "kill n1-sees-n3" "$t" 1000
t=$(wait_for 2 down 3 $((d2 + 1)) 3000)
expect_within "kill n2-sees-n3" "$t" 1000
wait "${pid[3]}" 2>/dev/null
exec {fd[3]}>&-

# --- reconnect storm: all three killed and started at once ----------
for k in 1 2; do kill -KILL "${pid[$k]}"; done
for k in 1 2; do
	wait "${pid[$k]}" 2>/dev/null
	exec {fd[$k]}>&-
done
for k in 1 2 3; do : >"$work/err$k"; done
t0=$(now_ms)
for k in 1 2 3; do start "$k"; done
storm_ok=1
for k in 1 2 3; do
	for j in 1 2 3; do
		[ "$j" = "$k" ] && continue
		t=$(wait_for "$k" up "$j" 1 20000)
		[ "$t" -ge 0 ] || { fail "storm: n$k never saw n$j up"; storm_ok=0; }
	done
done
echo "detect storm-converged $(($(now_ms) - t0))"
# One session per pair: no node saw a peer go down and up again.
sleep_until=$(($(now_ms) + 1500))
while [ "$(now_ms)" -lt "$sleep_until" ]; do sleep 0.1; done # settle window
for k in 1 2 3; do
	for j in 1 2 3; do
		[ "$j" = "$k" ] && continue
		if [ "$(count "$k" up "$j")" != 1 ] || [ "$(count "$k" down "$j")" != 0 ]; then
			fail "storm: n$k saw n$j $(count "$k" up "$j") times up, $(count "$k" down "$j") down"
			storm_ok=0
		fi
	done
done
[ "$storm_ok" = 1 ] && ok "reconnect storm: every pair up once"

# Orderly ends.
for k in 1 2 3; do exec {fd[$k]}>&-; done
for k in 1 2 3; do
	wait "${pid[$k]}" || fail "n$k did not end in order"
	pid[$k]=
done
echo "partition: $passes passed, $failures failed"
if [ "$failures" != 0 ]; then
	for k in 1 2 3; do
		echo "--- n$k stdout"; cat "$work/out$k"
		echo "--- n$k stderr"; cat "$work/err$k"
	done
fi
[ "$failures" = 0 ]
