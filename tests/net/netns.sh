#!/usr/bin/env bash
# netns.sh -- hosts of their own for troupe nodes on one machine: network
# namespaces on a private bridge, and faults between them.
#
#   netns.sh check                  can namespaces be made here?  0 if so;
#                                   77 (the skip status of meson and
#                                   automake) with the reason on stderr
#   netns.sh up N [PREFIX]          namespaces PREFIX1..PREFIXN, each with
#                                   eth0 = 10.77.0.K/24 and lo up, on a
#                                   bridge inside namespace PREFIXsw; in
#                                   each, host names n1..nN resolve to
#                                   10.77.0.1..N (below)
#   netns.sh down [PREFIX]          kill every process in them and remove
#                                   them all (idempotent; always exits 0
#                                   unless something of PREFIX is left)
#   netns.sh exec K CMD...          run CMD in namespace K (exec'd: its pid
#                                   is the caller's child, to wait or kill)
#   netns.sh addr K                 print node K's address, 10.77.0.K
#   netns.sh drop K PEER both|in|out
#                                   in namespace K, drop packets from
#                                   (in), to (out) or from and to (both)
#                                   node PEER's address, silently (nft):
#                                   a partition, as a dead cable looks
#   netns.sh heal K [PEER]          undo drop in K: for PEER, or all
#   netns.sh list [PREFIX]          the namespaces of PREFIX, one a line
#
# PREFIX defaults to $NETNS_PREFIX, else "trn".  It must start with a
# letter, not end with a digit (PREFIX "a-" has nodes a-1, a-2 ... and
# the switch a-sw) and be at most 12 characters; a test uses one of its
# own with its pid in it (e.g. "trh$$-") so that parallel runs do not
# collide.  exec, addr, drop and heal take the prefix from $NETNS_PREFIX.
#
# Nothing is made in the root namespace: the bridge and every address
# live in the namespaces, so test traffic never leaves them.  Each node
# namespace K holds eth0 (the veth end) and lo; the switch namespace
# holds the bridge br0 and the other veth ends p1..pN.  Host names: for
# programs run with `netns.sh exec` (ip netns exec), /etc/hosts is
# /etc/netns/PREFIXK/hosts, which up writes (localhost, and nJ for every
# node J) and down removes: a node name can be a host name, as on real
# hosts (tls+tcp://n2:4400; Erlang's -name a@n1).  Needs root,
# iproute2 and nftables (Debian: iproute2, nftables).  A caller traps
# EXIT to run `netns.sh down PREFIX`, so that nothing is left after a
# failure; `up` removes what it made if it fails itself.
set -euo pipefail

NFT_TABLE=troupe_netns
SUBNET=10.77.0
# How long up waits for the links to come up, in tenths of a second.
UP_WAIT_DS=100

me=netns.sh
die() {
	echo "$me: $*" >&2
	exit 1
}

usage() {
	sed -n '2,37s/^# \{0,1\}//p' "$0"
}

prefix_of() {
	local p=${1:-${NETNS_PREFIX:-trn}}

	case "$p" in
	[A-Za-z]*) ;;
	*) die "bad prefix '$p': must start with a letter" ;;
	esac
	case "$p" in
	*[!A-Za-z0-9_-]* | *[0-9]) die "bad prefix '$p': letters, digits, _ and -, not ending with a digit" ;;
	esac
	[ "${#p}" -le 12 ] || die "bad prefix '$p': longer than 12"
	echo "$p"
}

node_num() {
	case "$1" in
	'' | *[!0-9]* | 0*) die "bad node number '$1' (1..200)" ;;
	esac
	[ "$1" -le 200 ] || die "bad node number '$1' (1..200)"
}

# ours PREFIX: the namespaces of PREFIX that exist (nodes, then switch).
ours() {
	local p=$1

	ip netns list 2>/dev/null | awk -v p="$p" '
		{ n = $1 }
		index(n, p) == 1 {
			rest = substr(n, length(p) + 1)
			if (rest ~ /^[0-9]+$/) print n
			else if (rest == "sw") sw = n
		}
		END { if (sw != "") print sw }'
}

ns_exists() {
	ip netns list 2>/dev/null | awk -v n="$1" '$1 == n { f = 1 } END { exit !f }'
}

cmd_check() {
	local probe="trprobe$$-" ok=1 why=''

	if [ "$(id -u)" -ne 0 ]; then
		echo "$me: cannot make network namespaces: not root (uid $(id -u))" >&2
		exit 77
	fi
	command -v ip >/dev/null 2>&1 ||
		{ echo "$me: cannot make network namespaces: no ip command (Debian: iproute2)" >&2; exit 77; }
	command -v nft >/dev/null 2>&1 ||
		{ echo "$me: cannot make partitions: no nft command (Debian: nftables)" >&2; exit 77; }
	# Try it all once: a namespace, a veth pair into a second one, a
	# bridge, an nft table.  Containers refuse any of these.
	if ! why=$(ip netns add "${probe}1" 2>&1); then
		ok=0
		why="ip netns add: $why"
	elif ! why=$(ip netns add "${probe}sw" 2>&1); then
		ok=0
		why="ip netns add: $why"
	elif ! why=$(ip -n "${probe}sw" link add br0 type bridge 2>&1); then
		ok=0
		why="bridge: $why"
	elif ! why=$(ip -n "${probe}sw" link add p1 type veth peer name eth0 \
	    netns "${probe}1" 2>&1); then
		ok=0
		why="veth: $why"
	elif ! why=$(ip netns exec "${probe}1" nft add table inet "$NFT_TABLE" 2>&1); then
		ok=0
		why="nft in a namespace: $why"
	fi
	ip netns del "${probe}1" 2>/dev/null || true
	ip netns del "${probe}sw" 2>/dev/null || true
	if [ "$ok" -eq 0 ]; then
		echo "$me: cannot make network namespaces here: $why" >&2
		exit 77
	fi
	echo "$me: network namespaces, veth, bridge and nft work here"
}

# links_up P N: every node's eth0 and every switch port up, within
# UP_WAIT_DS tenths of a second.
links_up() {
	local p=$1 n=$2 k i

	for ((i = 0; i < UP_WAIT_DS; i++)); do
		for ((k = 1; k <= n; k++)); do
			ip -n "$p$k" -o link show eth0 | grep -q 'state UP' ||
				break
			ip -n "${p}sw" -o link show "p$k" | grep -q 'state UP' ||
				break
		done
		[ "$k" -gt "$n" ] && return 0
		sleep 0.1 # polling for the state, within the deadline above
	done
	return 1
}

# hosts_files P N: /etc/netns/PK/hosts for every node K.
hosts_files() {
	local p=$1 n=$2 k j

	for ((k = 1; k <= n; k++)); do
		mkdir -p "/etc/netns/$p$k"
		{
			echo "127.0.0.1 localhost"
			echo "::1 localhost ip6-localhost ip6-loopback"
			for ((j = 1; j <= n; j++)); do
				echo "$SUBNET.$j n$j"
			done
		} >"/etc/netns/$p$k/hosts"
	done
}

cmd_up() {
	local n=${1:-} p k

	[ -n "$n" ] || die "usage: up N [PREFIX]"
	node_num "$n"
	p=$(prefix_of "${2:-}")
	[ "$(id -u)" -eq 0 ] || die "up: needs root"
	[ -z "$(ours "$p")" ] ||
		die "namespaces of prefix '$p' exist already (netns.sh down $p)"
	# Whatever fails, leave nothing behind.
	trap 'cmd_down "$p" >/dev/null 2>&1; die "up $n $p failed: removed what it made"' ERR
	trap 'cmd_down "$p" >/dev/null 2>&1; exit 1' INT TERM HUP

	ip netns add "${p}sw"
	ip -n "${p}sw" link set lo up
	ip -n "${p}sw" link add br0 type bridge forward_delay 0 stp_state 0
	ip -n "${p}sw" link set br0 up
	for ((k = 1; k <= n; k++)); do
		ip netns add "$p$k"
		ip -n "$p$k" link set lo up
		ip -n "${p}sw" link add "p$k" type veth peer name eth0 \
		    netns "$p$k"
		ip -n "${p}sw" link set "p$k" master br0
		ip -n "${p}sw" link set "p$k" up
		ip -n "$p$k" addr add "$SUBNET.$k/24" dev eth0
		ip -n "$p$k" link set eth0 up
	done
	hosts_files "$p" "$n"
	links_up "$p" "$n" || false
	trap - ERR INT TERM HUP
	echo "$me: up: ${p}1..$p$n (10.77.0.1..$n) on bridge br0 in ${p}sw"
}

cmd_down() {
	local p pids ns left

	p=$(prefix_of "${1:-}")
	for ns in $(ours "$p"); do
		# Processes first: a namespace lives on while one is in it.
		pids=$(ip netns pids "$ns" 2>/dev/null || true)
		if [ -n "$pids" ]; then
			# shellcheck disable=SC2086
			kill -KILL $pids 2>/dev/null || true
		fi
		ip netns del "$ns" 2>/dev/null || true
	done
	# The hosts files, whether or not their namespaces were there.
	for ns in /etc/netns/"$p"[0-9]*; do
		[ -d "$ns" ] || continue
		case "${ns#/etc/netns/"$p"}" in
		*[!0-9]*) ;;
		*) rm -rf "$ns" ;;
		esac
	done
	left=$(ours "$p")
	[ -z "$left" ] || die "down: still there: $left"
	echo "$me: down: nothing of prefix '$p' left"
}

cmd_exec() {
	local k=${1:-} p

	[ $# -ge 2 ] || die "usage: exec K CMD..."
	node_num "$k"
	p=$(prefix_of "")
	shift
	ns_exists "$p$k" || die "exec: no namespace $p$k (netns.sh up)"
	exec ip netns exec "$p$k" "$@"
}

cmd_addr() {
	[ $# -eq 1 ] || die "usage: addr K"
	node_num "$1"
	echo "$SUBNET.$1"
}

nft_in() {
	ip netns exec "$1" nft "${@:2}"
}

cmd_drop() {
	local k=${1:-} peer=${2:-} dir=${3:-} p ns

	[ $# -eq 3 ] || die "usage: drop K PEER both|in|out"
	node_num "$k"
	node_num "$peer"
	p=$(prefix_of "")
	ns=$p$k
	ns_exists "$ns" || die "drop: no namespace $ns (netns.sh up)"
	case "$dir" in
	both | in | out) ;;
	*) die "drop: direction must be both, in or out, not '$dir'" ;;
	esac
	nft_in "$ns" add table inet "$NFT_TABLE"
	nft_in "$ns" add chain inet "$NFT_TABLE" input \
	    '{ type filter hook input priority 0 ; policy accept ; }'
	nft_in "$ns" add chain inet "$NFT_TABLE" output \
	    '{ type filter hook output priority 0 ; policy accept ; }'
	if [ "$dir" != out ]; then
		nft_in "$ns" add rule inet "$NFT_TABLE" input \
		    ip saddr "$SUBNET.$peer" drop comment "\"peer $peer\""
	fi
	if [ "$dir" != in ]; then
		nft_in "$ns" add rule inet "$NFT_TABLE" output \
		    ip daddr "$SUBNET.$peer" drop comment "\"peer $peer\""
	fi
}

cmd_heal() {
	local k=${1:-} peer=${2:-} p ns chain h

	[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: heal K [PEER]"
	node_num "$k"
	p=$(prefix_of "")
	ns=$p$k
	ns_exists "$ns" || die "heal: no namespace $ns (netns.sh up)"
	nft_in "$ns" list table inet "$NFT_TABLE" >/dev/null 2>&1 || return 0
	if [ -z "$peer" ]; then
		nft_in "$ns" delete table inet "$NFT_TABLE"
		return 0
	fi
	node_num "$peer"
	for chain in input output; do
		for h in $(nft_in "$ns" -a list chain inet "$NFT_TABLE" "$chain" |
		    sed -n "s/.*comment \"peer $peer\" # handle \([0-9]*\)\$/\1/p"); do
			nft_in "$ns" delete rule inet "$NFT_TABLE" "$chain" handle "$h"
		done
	done
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
check) cmd_check ;;
up) cmd_up "$@" ;;
down) cmd_down "$@" ;;
exec) cmd_exec "$@" ;;
addr) cmd_addr "$@" ;;
drop) cmd_drop "$@" ;;
heal) cmd_heal "$@" ;;
list) ours "$(prefix_of "${1:-}")" ;;
-h | --help | help) usage ;;
*)
	usage >&2
	exit 2
	;;
esac
