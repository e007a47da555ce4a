#!/usr/bin/env bash
# remote_erlang.sh -- the Erlang/OTP peer row of bench/run.sh remote:
# two Erlang nodes in network namespaces 1 and 2 of tests/net/netns.sh
# (a@n1 serves, b@n2 measures; bench/remote_erlang.erl; n1 and n2 are
# 10.77.0.1 and .2 in the namespaces' hosts files),
# over plain distribution (inet_tcp_dist) or TLS distribution
# (inet_tls_dist, with the same certificates as troupe's floors: the
# cluster CA, node certificates n1 and n2, peers verified both ways,
# the dialer checking the server's name).
#
#   remote_erlang.sh tcp|tls [--certs DIR] [--quick] [--rounds N]
#                    [--n N] [--n4k N]
#
# The namespaces must be up (netns.sh up 2, prefix $NETNS_PREFIX);
# --certs DIR (tls): made by examples/distributed/mkcerts.sh DIR n1 n2.
# Short node names (-sname a@n1): TLS distribution checks the server's
# certificate against the host part of the node name it dials, which
# must then be n1, not an address; long names (-name) would want a
# dotted host name.
# Prints the client's JSON lines (impl erlang_dist_tcp or
# erlang_dist_tls); exits 0, 1 if the run failed, 3 if erl, erlc or
# (tls) Erlang's ssl application are missing (Debian: erlang-base,
# erlang-ssl), 2 for bad arguments.  TLS: Erlang negotiates its own
# default, TLS 1.3 on OTP 25; nng with mbedTLS 2.28 speaks TLS 1.2.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
netns="$root/tests/net/netns.sh"
mode=${1:-}
[ $# -gt 0 ] && shift
certs=''
rounds=10000
n=200000
n4k=50000
while [ $# -gt 0 ]; do
	case "$1" in
	--quick)
		rounds=200
		n=2000
		n4k=500
		;;
	--certs | --rounds | --n | --n4k)
		[ $# -ge 2 ] || { echo "remote_erlang.sh: $1 needs a value" >&2; exit 2; }
		case "$1" in
		--certs) certs=$2 ;;
		--rounds) rounds=$2 ;;
		--n) n=$2 ;;
		--n4k) n4k=$2 ;;
		esac
		shift
		;;
	*)
		echo "remote_erlang.sh: unknown argument $1" >&2
		exit 2
		;;
	esac
	shift
done
case "$mode" in
tcp | tls) ;;
*)
	echo "usage: remote_erlang.sh tcp|tls [--certs DIR] [--quick] [--rounds N] [--n N] [--n4k N]" >&2
	exit 2
	;;
esac
for v in "$rounds" "$n" "$n4k"; do
	case "$v" in
	'' | *[!0-9]* | 0) echo "remote_erlang.sh: counts must be positive integers" >&2; exit 2 ;;
	esac
done
if ! command -v erl >/dev/null 2>&1 || ! command -v erlc >/dev/null 2>&1; then
	echo "remote_erlang.sh: no erl/erlc (Debian: erlang-base)" >&2
	exit 3
fi
if [ "$mode" = tls ]; then
	[ -n "$certs" ] && [ -f "$certs/ca.crt" ] && [ -f "$certs/n1.pem" ] &&
		[ -f "$certs/n2.pem" ] ||
		{ echo "remote_erlang.sh: tls needs --certs DIR with ca.crt, n1.pem, n2.pem" >&2; exit 2; }
	if ! erl -noshell -noinput -eval \
	    'halt(case code:which(inet_tls_dist) of non_existing -> 1; _ -> 0 end).' \
	    >/dev/null 2>&1; then
		echo "remote_erlang.sh: Erlang's ssl application is missing (Debian: erlang-ssl)" >&2
		exit 3
	fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/remote_erlang.XXXXXX")
server=
client=
cleanup() {
	[ -n "$server" ] && kill -KILL "$server" 2>/dev/null
	[ -n "$client" ] && kill -KILL "$client" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

erlc -o "$tmp" "$here/remote_erlang.erl"
cookie=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')

# ssl_dist_optfile for node SELF (n1 or n2): its own certificate, the
# cluster CA, the peer verified both ways; as a client, Erlang checks
# the server's certificate against the host part of the node name it
# dials (n1: its DNS SAN), as troupe's dialer checks the node name.
optfile() {
	cat >"$tmp/$1.conf" <<EOF
[{server, [{certfile, "$certs/$1.crt"}, {keyfile, "$certs/$1.key"},
           {cacertfile, "$certs/ca.crt"}, {verify, verify_peer},
           {fail_if_no_peer_cert, true}, {secure_renegotiate, true}]},
 {client, [{certfile, "$certs/$1.crt"}, {keyfile, "$certs/$1.key"},
           {cacertfile, "$certs/ca.crt"}, {verify, verify_peer},
           {secure_renegotiate, true}]}].
EOF
}
dist_a=()
dist_b=()
if [ "$mode" = tls ]; then
	optfile n1
	optfile n2
	dist_a=(-proto_dist inet_tls -ssl_dist_optfile "$tmp/n1.conf")
	dist_b=(-proto_dist inet_tls -ssl_dist_optfile "$tmp/n2.conf")
fi
a=a@n1
b=b@n2

"$netns" exec 1 erl -noshell -noinput -pa "$tmp" -sname "$a" \
    -setcookie "$cookie" "${dist_a[@]}" -s remote_erlang serve \
    >"$tmp/server.log" 2>&1 &
server=$!
rc=0
# In the background and waited for: a signal to this script is acted on
# at once (bash runs traps between commands; wait is one).
"$netns" exec 2 erl -noshell -noinput -pa "$tmp" -sname "$b" \
    -setcookie "$cookie" "${dist_b[@]}" -kernel logger_level warning \
    -s remote_erlang client \
    "$a" "erlang_dist_$mode" "$rounds" "$n" "$n4k" &
client=$!
wait "$client" || rc=$?
client=
# The client stopped the server (or failed): wait for it, bounded.
for _ in $(seq 1 100); do
	kill -0 "$server" 2>/dev/null || break
	sleep 0.1 # polling for the server node's exit, within 10 s
done
if kill -0 "$server" 2>/dev/null; then
	kill -KILL "$server" 2>/dev/null || true
fi
wait "$server" 2>/dev/null || true
server=
if [ "$rc" -ne 0 ]; then
	echo "remote_erlang.sh: $mode run failed ($rc); the end of the server node's output:" >&2
	tail -n 20 "$tmp/server.log" >&2
	exit 1
fi
