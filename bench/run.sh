#!/usr/bin/env bash
# run.sh -- runs a benchmark several times, unpinned and then pinned to
# one core, and prints every run's JSON lines followed by the per-figure
# medians across runs (lines with "stat":"median_of_runs").
#
#   bench/run.sh [messaging] [options]   bench_messaging (the default)
#   bench/run.sh placement [options]     bench_placement
#   bench/run.sh restart [options]       bench_restart
#   bench/run.sh http [options]          bench/http.sh: the cluster
#                                        example against nginx, with wrk
#   bench/run.sh compute [options]       bench_compute (unpinned only)
#   bench/run.sh buffers [--quick]       bench_buffers: bodies by ref and
#                                        by copy (unpinned only)
#   bench/run.sh savina [options]        bench/savina/run.sh: the Savina
#                                        cases on troupe and in Erlang
#   bench/run.sh remote [options]        bench/remote.sh: two hosts in
#                                        network namespaces, nng tcp and
#                                        tls+tcp floors, Erlang
#                                        distribution, troupe's rows
#
# Needs bash, awk and taskset (util-linux); builds the program with meson
# and ninja if needed.  See bench/README.md for what the figures mean.
set -euo pipefail

usage() {
	cat <<'USAGE'
usage: bench/run.sh [messaging] [--quick] [--n N] [--rounds N] [--repeat R]
                    [--cpu C] [--build DIR] [--floors-only]
       bench/run.sh placement [same options] [--spawn-thread N]
                    [--spawn-fork N] [--spawn-exec N] [--spawn-scheduled N]
                    [--spawn-budget S] [--only thread|fork|exec|scheduled]
       bench/run.sh restart [--quick] [--repeat R] [--cpu C] [--build DIR]
                    [--thread N] [--fork N] [--exec N] [--budget S]
                    [--only thread|fork|exec]
       bench/run.sh compute [--quick] [--n N] [--repeat R] [--build DIR]
                    [--workers W] [--only thread|fork|exec]
  messaging      bench_messaging: thread actors vs inproc nng and pipes
  placement      bench_placement: thread / fork / exec / scheduled actors
                 vs nng ipc
  restart        bench_restart: supervised child's death -> new one answers
  http           bench/http.sh (its own options: bench/http.sh --help)
  buffers        bench_buffers: 1 KiB, 1 MiB, 16 MiB handed to a thread
                 actor, fork member and exec'd program, by reference
                 (shared buffer) and by copy (unpinned only)
  compute        bench_compute: CPU-bound job, W workers over 1, per
                 placement (no pinned runs: one core cannot speed up)
  savina         bench/savina/run.sh (its own options: bench/run.sh savina
                 --help): the six Savina cases per placement and in
                 Erlang, with ratios, and the spawn figure
  remote         bench/remote.sh (its own options: bench/run.sh remote
                 --help): between two network namespaces (root), raw nng
                 over tcp and tls+tcp, Erlang distribution, troupe
  --quick        small counts (a smoke test: the figures are not meaningful)
  --n N          one-way messages per throughput figure (default 1000000,
                 placement 300000); compute: primes below N (4000000)
  --rounds N     round trips per latency figure (default 20000)
  --repeat R     runs in each mode, unpinned and pinned (default 5,
                 placement and restart 3; compute 5, unpinned only)
  --cpu C        the core of the pinned runs (default 0)
  --build DIR    meson build directory (default: <repo>/build)
  --floors-only  raw floors only, no troupe
  --spawn-thread N, --spawn-fork N, --spawn-exec N
                 placement: timed spawns per placement (200, 100, 50)
  --spawn-budget S  placement: at most S seconds of spawns per placement
                 (default 20)
  --only P       placement, restart, compute: one placement only
                 (placement: with the floors)
  --thread N, --fork N, --exec N
                 restart: timed restarts per figure (300, 100, 50)
  --budget S     restart: at most S seconds of restarts per figure
                 (default 20)
  --workers W    compute: workers of the many-worker run (default: one
                 per core)
Per-run lines and medians go to stdout, progress to stderr.
USAGE
}

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")

# The HTTP benchmark is a script of its own (wrk against servers).
if [ "${1:-}" = http ]; then
	shift
	exec "$here/http.sh" "$@"
fi
# So are the Savina cases (troupe and Erlang, then the ratios).
if [ "${1:-}" = savina ]; then
	shift
	exec "$here/savina/run.sh" "$@"
fi
# And the figures between hosts (network namespaces, certificates).
if [ "${1:-}" = remote ]; then
	shift
	exec "$here/remote.sh" "$@"
fi
build="$root/build"
prog=messaging
repeat=
cpu=0
args=()

case "${1:-}" in
messaging | placement | restart | compute | buffers)
	prog=$1
	shift
	;;
esac

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) args+=("$1") ;;
	--floors-only)
		[ "$prog" != restart ] && [ "$prog" != compute ] ||
			{ usage >&2; exit 2; }
		args+=("$1")
		;;
	--n)
		[ "$prog" != restart ] && [ $# -ge 2 ] || { usage >&2; exit 2; }
		args+=("$1" "$2")
		shift
		;;
	--rounds)
		[ "$prog" != restart ] && [ "$prog" != compute ] &&
			[ $# -ge 2 ] || { usage >&2; exit 2; }
		args+=("$1" "$2")
		shift
		;;
	--workers)
		[ "$prog" = compute ] && [ $# -ge 2 ] || { usage >&2; exit 2; }
		args+=("$1" "$2")
		shift
		;;
	--spawn-thread | --spawn-fork | --spawn-exec | --spawn-budget)
		[ "$prog" = placement ] && [ $# -ge 2 ] || { usage >&2; exit 2; }
		args+=("$1" "$2")
		shift
		;;
	--only)
		[ "$prog" != messaging ] && [ $# -ge 2 ] || { usage >&2; exit 2; }
		args+=("$1" "$2")
		shift
		;;
	--thread | --fork | --exec | --budget)
		[ "$prog" = restart ] && [ $# -ge 2 ] || { usage >&2; exit 2; }
		args+=("$1" "$2")
		shift
		;;
	--repeat)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		repeat=$2
		shift
		;;
	--cpu)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		cpu=$2
		shift
		;;
	--build)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		build=$2
		shift
		;;
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
if [ -z "$repeat" ]; then
	if [ "$prog" = placement ] || [ "$prog" = restart ]; then
		repeat=3 # slower: a placement run takes about 10 s
	else
		repeat=5
	fi
fi
case "$repeat" in
'' | *[!0-9]* | 0)
	echo "run.sh: --repeat needs a positive integer" >&2
	exit 2
	;;
esac

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$root" >&2
fi
ninja -C "$build" "bench/bench_$prog" >&2
exe="$build/bench/bench_$prog"

modes="unpinned pinned"
if [ "$prog" = compute ] || [ "$prog" = buffers ]; then
	# buffers: a hand-over between processes needs two cores to
	# measure what a user sees; compute: a speedup over one worker needs more than one core: pinned runs
	# would only measure the overhead of sharing one.
	modes="unpinned"
elif ! command -v taskset >/dev/null 2>&1; then
	echo "run.sh: taskset not found (util-linux): no pinned runs" >&2
	modes="unpinned"
fi

all=$(mktemp)
one=$(mktemp)
trap 'rm -f "$all" "$one"' EXIT
failed=0

for mode in $modes; do
	for i in $(seq 1 "$repeat"); do
		echo "run.sh: $mode run $i/$repeat" >&2
		if [ "$mode" = pinned ]; then
			set -- taskset -c "$cpu" "$exe"
		else
			set -- "$exe"
		fi
		# ${args[@]+...}: an empty array under set -u on older bash.
		if ! "$@" ${args[@]+"${args[@]}"} >"$one"; then
			echo "run.sh: $mode run $i failed" >&2
			failed=1
		fi
		cat "$one"
		cat "$one" >>"$all"
	done
done

echo "run.sh: medians across runs" >&2
if [ "$prog" = buffers ]; then
	awk -v keys=bytes -f "$here/median.awk" "$all"
else
	awk -f "$here/median.awk" "$all"
fi
exit "$failed"
