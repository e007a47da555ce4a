#!/bin/sh
# with_netns_check.sh -- what with_netns.sh promises a driver: its
# environment, nodes that reach each other by host name, certificates
# for every node.  Run by with_netns.sh (tests/net/meson.build).
set -u
fail() { echo "with_netns_check: FAIL: $*" >&2; exit 1; }
[ -x "${NETNS_SH:-}" ] || fail "NETNS_SH not set"
[ -n "${NETNS_PREFIX:-}" ] || fail "NETNS_PREFIX not set"
[ "${TROUPE_NET_NODES:-}" = 2 ] || fail "TROUPE_NET_NODES is '${TROUPE_NET_NODES:-}'"
for f in ca.crt n1.pem n1.crt n1.key n2.pem evil.pem old.pem; do
	[ -s "$TROUPE_NET_CERTS/$f" ] || fail "no $f in TROUPE_NET_CERTS"
done
"$NETNS_SH" list | grep -qx "${NETNS_PREFIX}2" || fail "no namespace ${NETNS_PREFIX}2"
"$NETNS_SH" exec 1 ping -n -q -c 1 -W 2 n2 >/dev/null 2>&1 ||
	fail "node 1 does not reach n2"
echo "with_netns_check: ok ($NETNS_PREFIX, certificates in $TROUPE_NET_CERTS)"
