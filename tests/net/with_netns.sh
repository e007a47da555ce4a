#!/usr/bin/env bash
# with_netns.sh -- run a test program on N hosts of its own: N network
# namespaces (netns.sh up N, a prefix unique to this run) and a cluster's
# certificates for nodes n1..nN, removed when the program ends, fails,
# times out (meson sends SIGTERM) or is interrupted.
#
#   with_netns.sh N PROGRAM [ARGS...]
#
# PROGRAM runs in the root namespace (a driver: it starts the nodes with
# `$NETNS_SH exec K ...` and makes faults with `$NETNS_SH drop/heal`),
# with:
#   NETNS_SH          the path of netns.sh
#   NETNS_PREFIX      this run's prefix: node K is namespace
#                     ${NETNS_PREFIX}K, address 10.77.0.K, host name nK
#   TROUPE_NET_NODES  N
#   TROUPE_NET_CERTS  a directory made by mkcerts.sh: ca.crt, and
#                     nK.crt/.key/.pem for K = 1..N (CN and DNS SAN nK);
#                     evil.* from another CA, old.* expired
# Its exit status is this script's; 77 (skipped) with the reason if
# namespaces cannot be made here.  tests/net/README.md shows a driver.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
n=${1:-}
case "$n" in
'' | *[!0-9]* | 0)
	echo "usage: with_netns.sh N PROGRAM [ARGS...]" >&2
	exit 2
	;;
esac
shift
[ $# -ge 1 ] || { echo "usage: with_netns.sh N PROGRAM [ARGS...]" >&2; exit 2; }

export NETNS_SH="$here/netns.sh"
rc=0
"$NETNS_SH" check >/dev/null || rc=$?
if [ "$rc" -ne 0 ]; then
	echo "with_netns.sh: SKIP: network namespaces cannot be made here" >&2
	exit 77
fi

export NETNS_PREFIX="trw$$-"
export TROUPE_NET_NODES=$n
tmp=$(mktemp -d "${TMPDIR:-/tmp}/troupe-net.XXXXXX")
export TROUPE_NET_CERTS="$tmp/certs"
child=
cleanup() {
	[ -n "$child" ] && kill -KILL "$child" 2>/dev/null
	"$NETNS_SH" down "$NETNS_PREFIX" >/dev/null 2>&1 ||
		echo "with_netns.sh: WARNING: netns.sh down $NETNS_PREFIX failed" >&2
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

"$NETNS_SH" up "$n" "$NETNS_PREFIX" >/dev/null || exit 1
nodes=()
for ((k = 1; k <= n; k++)); do
	nodes+=("n$k")
done
"$root/examples/distributed/mkcerts.sh" -q --rogue evil --expired old \
    "$TROUPE_NET_CERTS" "${nodes[@]}" || exit 1

# In the background and waited for, so that a signal is acted on at
# once (bash runs traps between commands; wait is one).
"$@" &
child=$!
rc=0
wait "$child" || rc=$?
child=
exit "$rc"
