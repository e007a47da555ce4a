#!/usr/bin/env bash
# bench/remote.sh -- `bench/run.sh remote`: what a message costs between
# two hosts.  Two network namespaces on a bridge (tests/net/netns.sh,
# node 1 = 10.77.0.1 = n1 serves, node 2 = n2 measures), certificates
# made for the run (examples/distributed/mkcerts.sh n1 n2), then per
# run: the raw nng floors over tcp:// and tls+tcp:// (remote_floors),
# the Erlang/OTP distribution rows (remote_erlang.sh), and troupe's own
# rows when bench_remote is built (run_troupe_rows below); then per
# figure the median across runs ("stat":"median_of_runs") and the
# ratios of those medians to the nng floor of the same transport.
# Everything is removed at the end, whatever happens.  bench/README.md,
# section remote.
#
# Needs root, iproute2 and nftables (exit 77 with the reason where
# namespaces cannot be made), openssl, meson and ninja.  Erlang: erl and
# erlc (erlang-base) and erlang-ssl, installed when missing unless
# --no-install (as bench/savina/run.sh does); without them the Erlang
# rows are skipped with a note.
set -euo pipefail

usage() {
	cat <<'USAGE'
usage: bench/run.sh remote [--quick] [--repeat R] [--rounds N] [--n N]
                           [--n4k N] [--bulk-n N] [--build DIR]
                           [--no-erlang] [--no-install] [--no-build]
  --quick        smoke run: small counts, one run (figures not meaningful)
  --repeat R     runs of each row (default 3)
  --rounds N     round trips per latency figure (default 10000)
  --n N          64-byte one-way messages per throughput figure (200000)
  --n4k N        4 KiB one-way messages (50000)
  --bulk-n N     1 MiB messages of the bulk figure (200; nng only)
  --build DIR    meson build directory (default: <repo>/build)
  --no-erlang    no Erlang rows
  --no-install   do not install erlang-base / erlang-ssl when missing
  --no-build     use the programs as built in the build directory (meson
                 test's bench-remote-quick: it has built them)
Per-run lines, medians and ratios go to stdout, progress to stderr.
USAGE
}

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
netns="$root/tests/net/netns.sh"
mkcerts="$root/examples/distributed/mkcerts.sh"
build="$root/build"
repeat=3
counts=()
quick=0
erlang=1
install=1
build_it=1

while [ $# -gt 0 ]; do
	case "$1" in
	--quick)
		quick=1
		repeat=1
		;;
	--repeat | --build)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		[ "$1" = --repeat ] && repeat=$2 || build=$2
		shift
		;;
	--rounds | --n | --n4k | --bulk-n)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		counts+=("$1" "$2")
		shift
		;;
	--no-erlang) erlang=0 ;;
	--no-install) install=0 ;;
	--no-build) build_it=0 ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
	shift
done
case "$repeat" in
'' | *[!0-9]* | 0)
	echo "run.sh remote: --repeat needs a positive integer" >&2
	exit 2
	;;
esac
note() { echo "run.sh remote: $*" >&2; }

rc=0
"$netns" check >&2 || rc=$?
if [ "$rc" -ne 0 ]; then
	note "SKIP: two hosts cannot be made here (network namespaces; reason above)"
	exit 77
fi

if [ "$build_it" -eq 1 ]; then
	if [ ! -f "$build/build.ninja" ]; then
		meson setup "$build" "$root" >&2
	fi
	ninja -C "$build" bench/remote_floors >&2
fi
floors="$build/bench/remote_floors"
[ -x "$floors" ] || { note "no $floors (build it: ninja -C $build)"; exit 1; }

# ------------------------------------------------------------------
# The ground: two namespaces and a CA, removed on any exit.
# ------------------------------------------------------------------
P="trb$$-"
export NETNS_PREFIX=$P
export NETNS_SH=$netns
tmp=$(mktemp -d "${TMPDIR:-/tmp}/troupe-remote.XXXXXX")
server=
child=
cleanup() {
	[ -n "$server" ] && kill -KILL "$server" 2>/dev/null
	[ -n "$child" ] && kill -KILL "$child" 2>/dev/null
	"$netns" down "$P" >/dev/null 2>&1 || note "WARNING: netns.sh down $P failed"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

"$netns" up 2 "$P" >&2
certs="$tmp/certs"
"$mkcerts" -q "$certs" n1 n2
# What each end of a tls+tcp:// link is given (troupe's sessions take
# the same three files: tr_cluster_opts.ca, .cert, .key).
tls_server=(--ca "$certs/ca.crt" --cert "$certs/n1.crt" --key "$certs/n1.key")
tls_client=(--ca "$certs/ca.crt" --cert "$certs/n2.crt" --key "$certs/n2.key"
	--server-name n1)
url_tcp="tcp://$("$netns" addr 1):4400"
url_tls="tls+tcp://$("$netns" addr 1):4400"

all="$tmp/all"
one="$tmp/one"
: >"$all"
failed=0
qargs=()
[ "$quick" -eq 1 ] && qargs=(--quick)

# run LABEL CMD...: one run; its lines to stdout and to the pool.  The
# command runs in the background and is waited for, so that a signal
# to this script cleans up at once (bash runs traps only between
# commands, and wait is one).
run() {
	local label=$1 st=0
	shift
	note "$label"
	"$@" >"$one" &
	child=$!
	wait "$child" || st=$?
	child=
	cat "$one"
	cat "$one" >>"$all"
	return "$st"
}

# end_server: the server of a pair of programs has exited (it stops at
# the client's word) or is killed after 10 s.
end_server() {
	local i
	for i in $(seq 1 100); do
		kill -0 "$server" 2>/dev/null || break
		sleep 0.1 # polling for the server's exit, within 10 s
	done
	kill -KILL "$server" 2>/dev/null || true
	wait "$server" 2>/dev/null || true
	server=
}

# pair LABEL PROGRAM TRANSPORT [ARGS...]: PROGRAM --serve in node 1 and
# PROGRAM --client in node 2 over TRANSPORT (tcp or tls), the client's
# lines into the pool.  The same command lines serve remote_floors and
# troupe's bench_remote.
pair() {
	local label=$1 prog=$2 tr=$3 st=0
	shift 3
	if [ "$tr" = tls ]; then
		"$netns" exec 1 "$prog" --serve "$url_tls" "${tls_server[@]}" \
		    >&2 &
		server=$!
		run "$label" "$netns" exec 2 "$prog" --client "$url_tls" \
		    "${tls_client[@]}" "$@" || st=$?
	else
		"$netns" exec 1 "$prog" --serve "$url_tcp" >&2 &
		server=$!
		run "$label" "$netns" exec 2 "$prog" --client "$url_tcp" "$@" ||
			st=$?
	fi
	end_server
	return "$st"
}

# ------------------------------------------------------------------
# troupe's own rows -- THE HOOK for the sessions (issue #11).
#
# When the build has bench/bench_remote, each run calls it exactly as
# remote_floors is called: `bench_remote --serve URL [TLS options]` in
# node 1 and `bench_remote --client URL [TLS options] [--quick]
# [counts]` in node 2, URL tcp://10.77.0.1:4400 or
# tls+tcp://10.77.0.1:4400 (ports 4400 and up are free in the
# namespaces), TLS options --ca --cert --key --server-name as above
# (node names n1 and n2 are the certificates' names).  It prints the
# floors' JSON lines with impl troupe_tcp / troupe_tls:
#   remote_roundtrip   tr_call of a 64-byte body, actor on node 1
#   remote_oneway      tr_send flood, 64 B and 4 KiB bodies
#   remote_bulk        1 MiB bodies
# and, as it can, detection times (e.g. bench "remote_detect", case
# "kill9" / "partition", "detect_ms"), using netns.sh drop/heal through
# NETNS_PREFIX (exported).  The ratios below then include it.
# ------------------------------------------------------------------
run_troupe_rows() {
	local i=$1 tr exe="$build/bench/bench_remote"

	if [ "$build_it" -eq 1 ] && [ -f "$build/build.ninja" ] &&
	    ninja -C "$build" -t targets all 2>/dev/null |
	    grep -q '^bench/bench_remote:'; then
		ninja -C "$build" bench/bench_remote >&2
	fi
	if [ ! -x "$exe" ]; then
		[ "$i" -eq 1 ] && note "troupe rows: not built yet" \
		    "(no $exe; the sessions of issue #11 add it)"
		return 0
	fi
	for tr in tcp tls; do
		pair "troupe $tr, run $i/$repeat" "$exe" "$tr" \
		    ${qargs[@]+"${qargs[@]}"} ${counts[@]+"${counts[@]}"} ||
			{ note "troupe $tr run $i failed"; failed=1; }
	done
}

# Erlang: erl, erlc and the ssl application, installed if missing and
# allowed.
as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		return 1
	fi
}
have_erlang() {
	local pkgs=(erlang-base erlang-ssl)

	if command -v erlc >/dev/null 2>&1 && erl -noshell -noinput -eval \
	    'halt(case code:which(inet_tls_dist) of non_existing -> 1; _ -> 0 end).' \
	    >/dev/null 2>&1; then
		return 0
	fi
	if [ "$install" -eq 1 ] && command -v apt-get >/dev/null 2>&1; then
		note "Erlang missing: installing ${pkgs[*]}"
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
		    --no-install-recommends -o DPkg::Lock::Timeout=300 \
		    "${pkgs[@]}" >&2 ||
			{ as_root env DEBIAN_FRONTEND=noninteractive \
			      apt-get update >&2 &&
			  as_root env DEBIAN_FRONTEND=noninteractive \
			      apt-get install -y --no-install-recommends \
			      -o DPkg::Lock::Timeout=300 "${pkgs[@]}" >&2; } ||
			true
		command -v erlc >/dev/null 2>&1 && return 0
	fi
	note "NOTE: no Erlang (Debian: erlang-base, erlang-ssl; not" \
	    "installed: needs root, or --no-install): no Erlang rows"
	return 1
}
if [ "$erlang" -eq 1 ] && ! have_erlang; then
	erlang=0
fi
# remote_erlang.sh takes the floors' small-message counts.
ecounts=()
set -- ${counts[@]+"${counts[@]}"}
while [ $# -gt 0 ]; do
	case "$1" in
	--rounds | --n | --n4k) ecounts+=("$1" "$2") ;;
	esac
	shift 2
done

for i in $(seq 1 "$repeat"); do
	for tr in tcp tls; do
		pair "nng $tr floors, run $i/$repeat" "$floors" "$tr" \
		    ${qargs[@]+"${qargs[@]}"} ${counts[@]+"${counts[@]}"} ||
			{ note "nng $tr run $i failed"; failed=1; }
	done
	if [ "$erlang" -eq 1 ]; then
		for tr in tcp tls; do
			run "erlang $tr, run $i/$repeat" "$here/remote_erlang.sh" \
			    "$tr" --certs "$certs" ${qargs[@]+"${qargs[@]}"} \
			    ${ecounts[@]+"${ecounts[@]}"} ||
				{ note "erlang $tr run $i failed"; failed=1; }
		done
	fi
	run_troupe_rows "$i"
done

note "medians across runs, then ratios of the medians to the nng floor"
med=$(awk -v keys=body_bytes -f "$here/median.awk" "$all")
printf '%s\n' "$med"
printf '%s\n' "$med" | awk -f "$here/remote_ratios.awk"
exit "$failed"
