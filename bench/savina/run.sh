#!/usr/bin/env bash
# bench/savina/run.sh -- `bench/run.sh savina`: the six Savina cases on
# troupe under each placement asked for, and in Erlang (savina.erl, by
# escript) in the same session; then the spawn figure at each size; then
# per figure the median across runs ("stat":"median_of_runs") and the
# ratios troupe / Erlang per case (bench/savina/ratios.awk).  See
# bench/README.md, section Savina.
#
# Needs bash and awk; builds bench_savina with meson and ninja if needed.
# Erlang: escript, from Debian's erlang-base, which this script installs
# when it is missing (apt-get, as root or through sudo; --no-install to
# never do so); without it the Erlang lines and the ratios are skipped,
# with a note on stderr.
set -euo pipefail

usage() {
	cat <<'USAGE'
usage: bench/run.sh savina [--quick] [--repeat R] [--case NAME]
                           [--placements "P..."] [--spawn "N..."|none]
                           [--build DIR] [--no-erlang] [--no-install]
  --quick          smoke run: 1/100 of Savina's counts, one run, spawn 1000
  --repeat R       runs per placement and for Erlang (default 3)
  --case NAME      one case (pingpong, counting, threadring, fjthrput, big,
                   chameneos, or spawn: the spawn figure only); default
                   all six and the spawn figure
  --placements L   troupe placements to run, in order (default
                   "scheduled thread"); one this build does not have is
                   skipped with a note
  --spawn L        actor counts of the spawn figure (default
                   "10000 100000 1000000"); none: no spawn figure
  --build DIR      meson build directory (default: <repo>/build)
  --no-erlang      troupe only (no ratios)
  --no-install     do not install erlang-base when escript is missing
Per-run lines, medians and ratios go to stdout, progress to stderr.
USAGE
}

here=$(cd "$(dirname "$0")" && pwd)
bench=$(dirname "$here")
root=$(dirname "$bench")
build="$root/build"
repeat=3
quick=()
which=all
placements="scheduled thread"
sizes="10000 100000 1000000"
erlang=1
install=1

while [ $# -gt 0 ]; do
	case "$1" in
	--quick)
		quick=(--quick)
		repeat=1
		sizes="1000"
		;;
	--repeat | --case | --placements | --spawn | --build)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		case "$1" in
		--repeat) repeat=$2 ;;
		--case) which=$2 ;;
		--placements) placements=$2 ;;
		--spawn) sizes=$2 ;;
		--build) build=$2 ;;
		esac
		shift
		;;
	--no-erlang) erlang=0 ;;
	--no-install) install=0 ;;
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
	echo "run.sh savina: --repeat needs a positive integer" >&2
	exit 2
	;;
esac
[ "$sizes" = none ] && sizes=""

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$root" >&2
fi
ninja -C "$build" bench/savina/bench_savina >&2
exe="$build/bench/savina/bench_savina"

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo -n "$@"
	else
		return 1
	fi
}

# escript, installed from Debian's erlang-base if missing and allowed.
have_escript() {
	command -v escript >/dev/null 2>&1 && return 0
	if [ "$install" -eq 1 ] && command -v apt-get >/dev/null 2>&1; then
		echo "run.sh savina: escript missing: installing erlang-base" >&2
		if as_root env DEBIAN_FRONTEND=noninteractive apt-get install \
		    -y --no-install-recommends -o DPkg::Lock::Timeout=300 \
		    erlang-base >&2 ||
		    { as_root env DEBIAN_FRONTEND=noninteractive apt-get \
		        update >&2 &&
		      as_root env DEBIAN_FRONTEND=noninteractive apt-get \
		        install -y --no-install-recommends \
		        -o DPkg::Lock::Timeout=300 erlang-base >&2; }; then
			command -v escript >/dev/null 2>&1 && return 0
		fi
	fi
	echo "run.sh savina: NOTE: no escript (Debian package erlang-base;" \
	    "not installed: needs root or sudo, or --no-install): no Erlang" \
	    "lines and no ratios in this run" >&2
	return 1
}
if [ "$erlang" -eq 1 ] && ! have_escript; then
	erlang=0
fi

all=$(mktemp)
one=$(mktemp)
trap 'rm -f "$all" "$one"' EXIT
failed=0

# run LABEL CMD...: one run; its lines to stdout and to the pool.
# Returns the program's status.
run() {
	local label=$1 rc=0
	shift
	echo "run.sh savina: $label" >&2
	"$@" >"$one" || rc=$?
	cat "$one"
	cat "$one" >>"$all"
	return "$rc"
}

cases_wanted=1
[ "$which" = spawn ] && cases_wanted=0
for p in $placements; do
	[ "$cases_wanted" -eq 1 ] || break
	for i in $(seq 1 "$repeat"); do
		rc=0
		run "troupe $p, run $i/$repeat" "$exe" --placement "$p" \
		    --case "$which" ${quick[@]+"${quick[@]}"} || rc=$?
		if [ "$rc" -eq 3 ]; then
			echo "run.sh savina: NOTE: placement $p is not in this" \
			    "build: skipped" >&2
			break
		elif [ "$rc" -ne 0 ]; then
			echo "run.sh savina: troupe $p run $i failed" >&2
			failed=1
		fi
	done
done
if [ "$erlang" -eq 1 ] && [ "$cases_wanted" -eq 1 ]; then
	for i in $(seq 1 "$repeat"); do
		run "erlang, run $i/$repeat" escript "$here/savina.erl" \
		    --case "$which" ${quick[@]+"${quick[@]}"} || {
			echo "run.sh savina: erlang run $i failed" >&2
			failed=1
		}
	done
fi

# The spawn figure, one process per run.  A placement that did not reach
# a count is not asked for a larger one (a thread actor is an OS thread:
# the thread placement stops near the descriptor limit).
if [ -n "$sizes" ] && { [ "$which" = all ] || [ "$which" = spawn ]; }; then
	stopped=" "
	for n in $sizes; do
		for p in $placements; do
			case "$stopped" in *" $p "*) continue ;; esac
			for i in $(seq 1 "$repeat"); do
				rc=0
				run "spawn $n, troupe $p, run $i/$repeat" "$exe" \
				    --placement "$p" --case spawn --actors "$n" ||
				    rc=$?
				if [ "$rc" -eq 3 ]; then
					echo "run.sh savina: NOTE: placement $p is" \
					    "not in this build: skipped" >&2
					stopped="$stopped$p "
					break
				elif ! grep -q "\"actors_reached\":$n," "$one"; then
					echo "run.sh savina: spawn: $p did not reach" \
					    "$n actors: no larger counts for it" >&2
					stopped="$stopped$p "
					break
				fi
			done
		done
		if [ "$erlang" -eq 1 ]; then
			for i in $(seq 1 "$repeat"); do
				run "spawn $n, erlang, run $i/$repeat" escript \
				    "$here/savina.erl" --case spawn --actors "$n" ||
				    failed=1
			done
		fi
	done
fi

echo "run.sh savina: medians across runs, then troupe / erlang" >&2
med=$(awk -v keys=actors -f "$bench/median.awk" "$all")
printf '%s\n' "$med"
printf '%s\n' "$med" | awk -f "$here/ratios.awk"
exit "$failed"
