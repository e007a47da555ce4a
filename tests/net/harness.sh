#!/usr/bin/env bash
# harness.sh -- the network namespaces harness (netns.sh) on itself:
# three nodes reach each other; a partition cuts exactly the pair it
# names, both ways, and heals; down kills what runs inside and leaves no
# namespace and no veth behind.  Exits 77 (skipped) with the reason only
# where namespaces cannot be made (netns.sh check).
# usage: harness.sh NETNS_SH
set -u
netns=${1:?usage: harness.sh NETNS_SH}
P="trh$$-"
export NETNS_PREFIX=$P
failures=0
bg=

ns() { "$netns" "$@"; }
cleanup() {
	[ -n "$bg" ] && kill -KILL "$bg" 2>/dev/null
	ns down "$P" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	echo "harness: FAIL: $*" >&2
	failures=$((failures + 1))
}
ok() { echo "harness: ok: $*"; }

# reaches A B: one ping from node A to node B's address answered.  Up
# to three tries: the first may spend its wait on ARP.
reaches() {
	local i
	for i in 1 2 3; do
		ns exec "$1" ping -n -q -c 1 -W 1 "10.77.0.$2" >/dev/null 2>&1 &&
			return 0
	done
	return 1
}
# cut A B: a ping from A to B not answered within a second.
cut() {
	! ns exec "$1" ping -n -q -c 1 -W 1 "10.77.0.$2" >/dev/null 2>&1
}
expect_reach() {
	if reaches "$1" "$2"; then ok "$3: $1 -> $2 answered"; else fail "$3: $1 -> $2 not answered"; fi
}
expect_cut() {
	if cut "$1" "$2"; then ok "$3: $1 -> $2 dropped"; else fail "$3: $1 -> $2 answered"; fi
}

rc=0
ns check || rc=$?
if [ "$rc" -eq 77 ]; then
	echo "harness: SKIP: network namespaces cannot be made here (reason above)"
	exit 77
elif [ "$rc" -ne 0 ]; then
	echo "harness: FAIL: netns.sh check exited $rc" >&2
	exit 1
fi
command -v ping >/dev/null 2>&1 ||
	{ echo "harness: FAIL: no ping (Debian: iputils-ping; ./dev.sh installs it)" >&2; exit 1; }

veths_before=$(ip -o link show type veth 2>/dev/null | awk -F': ' '{ print $2 }' | sort)

ns up 3 "$P" || { echo "harness: FAIL: up 3 $P" >&2; exit 1; }
[ "$(ns list "$P" | wc -l)" -eq 4 ] || fail "up 3 made $(ns list "$P" | tr '\n' ' ')"
if ns up 3 "$P" 2>/dev/null; then fail "a second up of the same prefix was taken"; fi
if ns up 2 "bad1" 2>/dev/null; then fail "a prefix ending with a digit was taken"; fi
if ns exec 4 true 2>/dev/null; then fail "exec in a node that was not made ran"; fi
[ "$(ns addr 3)" = 10.77.0.3 ] || fail "addr 3 is $(ns addr 3)"
# Nothing of it in the root namespace: no bridge, no address of ours.
if ip -o addr show 2>/dev/null | grep -q ' 10\.77\.0\.'; then
	fail "an address 10.77.0.x in the root namespace"
fi
if ip -o link show type bridge 2>/dev/null | grep -q ': br0[:@]'; then
	fail "a bridge br0 in the root namespace"
fi
# Each node has lo up and only its own address.
ns exec 2 ping -n -q -c 1 -W 1 127.0.0.1 >/dev/null 2>&1 || fail "node 2's loopback is down"
[ "$(ns exec 2 ip -o -4 addr show dev eth0 | awk '{ print $4 }')" = 10.77.0.2/24 ] ||
	fail "node 2's eth0: $(ns exec 2 ip -o -4 addr show dev eth0)"

# Node names resolve in every node (its own hosts file), nowhere else.
[ "$(ns exec 1 getent hosts n3 | awk '{ print $1 }')" = 10.77.0.3 ] ||
	fail "n3 does not resolve to 10.77.0.3 in node 1: $(ns exec 1 getent hosts n3)"
[ -f "/etc/netns/${P}2/hosts" ] || fail "no /etc/netns/${P}2/hosts"

expect_reach 1 3 "up"
expect_reach 3 1 "up"
expect_reach 1 2 "up"

# A partition between 1 and 3, made at node 1 only: both directions.
ns drop 1 3 both || fail "drop 1 3 both"
expect_cut 1 3 "1<->3 cut"
expect_cut 3 1 "1<->3 cut"
expect_reach 1 2 "1<->3 cut"
expect_reach 2 3 "1<->3 cut"

# Healing one peer leaves the others' cuts alone.
ns drop 1 2 both || fail "drop 1 2 both"
expect_cut 1 2 "1<->2 cut too"
ns heal 1 3 || fail "heal 1 3"
expect_reach 1 3 "healed 1<->3"
expect_reach 3 1 "healed 1<->3"
expect_cut 1 2 "healed 1<->3 only"
ns heal 1 || fail "heal 1"
expect_reach 1 2 "healed all of 1"

# One direction: node 1 drops what comes from 3, so 3's echo requests
# never arrive and 1's requests to 3 get no reply through; 2 unaffected.
ns drop 1 3 in || fail "drop 1 3 in"
expect_cut 3 1 "1 drops in from 3"
expect_cut 1 3 "1 drops in from 3 (replies)"
expect_reach 3 2 "1 drops in from 3"
ns heal 1 || fail "heal 1"
expect_reach 3 1 "healed"
ns heal 1 || fail "heal 1 when healed already"

# down kills what runs inside (a process that would run 1000 s) and
# leaves nothing.
"$netns" exec 2 sleep 1000 &
bg=$!
# Wait (bounded) until it runs in the namespace.
for _ in $(seq 1 100); do
	ip netns pids "${P}2" 2>/dev/null | grep -qx "$bg" && break
	sleep 0.05 # polling for the process to appear, within 5 s
done
ip netns pids "${P}2" 2>/dev/null | grep -qx "$bg" || fail "the process in node 2 did not start"
ns down "$P" >/dev/null || fail "down $P"
wait "$bg" 2>/dev/null
st=$?
bg=
[ "$st" -eq 137 ] || fail "the process in node 2 ended with $st, not killed (137)"
left=$(ip netns list | awk '{ print $1 }' | grep -F "$P" || true)
[ -z "$left" ] || fail "namespaces left after down: $left"
ls -d /etc/netns/"$P"* >/dev/null 2>&1 && fail "hosts files left after down: $(ls -d /etc/netns/"$P"*)"
veths_after=$(ip -o link show type veth 2>/dev/null | awk -F': ' '{ print $2 }' | sort)
[ "$veths_before" = "$veths_after" ] || fail "veths in the root namespace changed: $(diff <(echo "$veths_before") <(echo "$veths_after") | tr '\n' ' ')"
ns down "$P" >/dev/null || fail "a second down"
[ -z "$left" ] && ok "down: no namespace of $P, root veths unchanged, process killed"

if [ "$failures" -ne 0 ]; then
	echo "harness: $failures failed" >&2
	exit 1
fi
echo "harness: all passed"
