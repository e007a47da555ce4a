#!/bin/bash
# dev.sh -- build, run and test troupe on a Debian 12 or 13 machine.
#
#   ./dev.sh demo    install what is missing, build, run the main job
#   ./dev.sh test    install what is missing, build, run the test suite,
#                    then fuzz the frame decoder for a while
#   ./dev.sh asan    build with AddressSanitizer + UBSan, run the suite
#   ./dev.sh tsan    build with ThreadSanitizer (clang), run the suite
#
# Packages are installed with apt-get (as root, or through sudo) only if
# they are missing.  Build directories: build/, build-fuzz/, build-asan/,
# build-tsan/.
set -euo pipefail

# What `./dev.sh demo` runs once the build is done: a path relative to
# the repository root, then its arguments.
MAIN_JOB="build/examples/demo/demo examples/demo/demo.yaml"

# How long the fuzz leg of `./dev.sh test` runs, in seconds.
FUZZ_SECONDS=${FUZZ_SECONDS:-20}

# How much longer than usual the ThreadSanitizer leg lets each test run:
# TSan makes the code several times slower, and the process placements
# start instrumented programs.
TSAN_TIMEOUT_MULTIPLIER=${TSAN_TIMEOUT_MULTIPLIER:-4}

# Debian's names, without version numbers where Debian has a name that
# follows its default (clang; libclang-rt-dev: that clang's sanitizer
# and fuzzer runtimes).  "a|b": the first that the distribution has --
# msgpack-c is libmsgpack-c-dev on Debian 13, libmsgpack-dev on 12.
# libmbedtls-dev: nng's TLS engine, which a static link of nng needs
# (and nng 1.10's CMake package looks for).  iproute2, nftables,
# iputils-ping, openssl: the distribution tests' ground (tests/net/:
# nodes in network namespaces, partitions made with nft, certificates
# made with the openssl command).
# libcurl4-openssl-dev: the etcd client (membership, transport/etcd*.c);
# etcd-server: the real etcd that test_etcd starts (3.4 on Debian 12,
# 3.5 on 13); etcd-client: etcdctl, to look at a cluster's keys by hand.
PACKAGES=(
	build-essential meson ninja-build pkg-config cmake
	libnng-dev libmbedtls-dev 'libmsgpack-c-dev|libmsgpack-dev'
	libuv1-dev libcmocka-dev libyaml-dev libhttp-parser-dev
	libcurl4-openssl-dev etcd-server etcd-client
	clang libclang-rt-dev
	iproute2 nftables iputils-ping openssl
)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"

if [ -t 1 ]; then
	BOLD=$'\033[1m' RED=$'\033[31m' GREEN=$'\033[32m' RESET=$'\033[0m'
else
	BOLD='' RED='' GREEN='' RESET=''
fi

CMD=''
STEP='starting'

say() {
	printf '%s==> %s%s\n' "$BOLD" "$*" "$RESET"
}

step() {
	STEP=$*
	say "$*"
}

die() {
	printf '%sdev.sh: %s%s\n' "$RED" "$*" "$RESET" >&2
	exit 1
}

# A failure anywhere names the step it happened in.
on_exit() {
	local rc=$?
	if [ "$rc" -ne 0 ] && [ -n "$CMD" ]; then
		printf '%sdev.sh %s: FAILED (exit %d) at: %s%s\n' \
		    "$RED" "$CMD" "$rc" "$STEP" "$RESET" >&2
	fi
}
trap on_exit EXIT

usage() {
	cat <<EOF
usage: ./dev.sh COMMAND

Commands (each installs missing Debian packages and builds first):
  demo    build build/ and run the main job: $MAIN_JOB
  test    build build/, run the test suite (meson test), then build
          build-fuzz/ with clang and fuzz the frame decoder for
          \$FUZZ_SECONDS seconds (now $FUZZ_SECONDS); fails on any crash
  asan    build build-asan/ with AddressSanitizer and UndefinedBehavior-
          Sanitizer and run the test suite there
  tsan    build build-tsan/ with clang's ThreadSanitizer and run the
          test suite there, with timeouts \$TSAN_TIMEOUT_MULTIPLIER times
          longer (now $TSAN_TIMEOUT_MULTIPLIER); suppressions: tests/tsan.supp
  --help  this text

Packages installed when missing (apt-get, as root or through sudo;
a|b: the first of them that the distribution has):
  ${PACKAGES[*]}
EOF
}

# ------------------------------------------------------------------
# Packages
# ------------------------------------------------------------------

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "need root to run: $* (run as root or install sudo)"
	fi
}

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = \
	    "install ok installed" ]
}

# available NAME: this distribution has a package NAME (apt's lists must
# be current: after apt-get update).
available() {
	local c
	c=$(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p')
	[ -n "$c" ] && [ "$c" != "(none)" ]
}

install_packages() {
	local missing=() chosen=() entry alt alts found

	step "checking Debian packages"
	if ! command -v dpkg-query >/dev/null 2>&1; then
		say "no dpkg-query: not Debian; make sure these are installed:"
		echo "    ${PACKAGES[*]}"
		return 0
	fi
	for entry in "${PACKAGES[@]}"; do
		IFS='|' read -r -a alts <<<"$entry"
		found=''
		for alt in "${alts[@]}"; do
			if installed "$alt"; then
				found=$alt
				break
			fi
		done
		[ -n "$found" ] || missing+=("$entry")
	done
	if [ "${#missing[@]}" -eq 0 ]; then
		echo "    all ${#PACKAGES[@]} packages installed"
		return 0
	fi
	step "updating apt's lists, for ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update
	# Each missing entry becomes the first of its names that this
	# distribution has.
	for entry in "${missing[@]}"; do
		IFS='|' read -r -a alts <<<"$entry"
		found=''
		for alt in "${alts[@]}"; do
			if available "$alt"; then
				found=$alt
				break
			fi
		done
		[ -n "$found" ] ||
			die "this distribution has no package ${entry//|/ or }"
		chosen+=("$found")
	done
	step "installing ${chosen[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    --no-install-recommends "${chosen[@]}"
}

# ------------------------------------------------------------------
# Building
# ------------------------------------------------------------------

# configure DIR [meson options...]: set up DIR, or reconfigure it with
# the same options if it is already a meson build directory.
configure() {
	local dir=$1
	shift
	if [ -f "$dir/meson-private/coredata.dat" ]; then
		step "reconfiguring $dir/ (${CC:+CC=$CC }$*)"
		meson setup --reconfigure "$dir" "$@"
	else
		step "configuring $dir/ (${CC:+CC=$CC }$*)"
		meson setup "$dir" "$@"
	fi
}

build() {
	step "building $1/"
	meson compile -C "$1"
}

# ------------------------------------------------------------------
# Commands
# ------------------------------------------------------------------

cmd_demo() {
	local job
	install_packages
	configure build -Dwerror=true
	build build
	read -r -a job <<<"$MAIN_JOB"
	step "running the main job: $MAIN_JOB"
	if [ ! -x "${job[0]}" ]; then
		die "the main job ${job[0]} was not built (is its folder listed in examples/meson.build?)"
	fi
	"${job[@]}"
	printf '%sdev.sh demo: OK%s\n' "$GREEN" "$RESET"
}

# fuzz_one NAME CORPUS SECONDS: run libFuzzer target NAME of build-fuzz/
# on a copy of tests/fuzz/CORPUS for SECONDS; dies on a failing input.
fuzz_one() {
	local name=$1 corpus=$2 secs=$3
	local bin=build-fuzz/tests/fuzz/$name
	local log=build-fuzz/$name.log
	local tmp runs rundir

	[ -x "$bin" ] || die "$bin was not built"
	step "fuzzing with $name for ${secs}s ($bin, log in $log)"
	# libFuzzer writes new inputs into its corpus directory: give it a
	# copy, so that a run never changes the repository.
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/troupe-fuzz.XXXXXX")
	cp -R "tests/fuzz/$corpus" "$tmp/corpus"
	# Targets that start a runtime get a run directory of their own.
	rundir="$tmp/run"
	mkdir -m 700 "$rundir"
	rm -f build-fuzz/crash-* build-fuzz/leak-* build-fuzz/timeout-* \
	    build-fuzz/oom-*
	if ! TROUPE_RUNDIR="$rundir" "$bin" -max_total_time="$secs" \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=build-fuzz/ "$tmp/corpus" >"$log" 2>&1; then
		rm -rf "$tmp"
		tail -n 60 "$log" >&2
		echo "reproduce with: $bin build-fuzz/<artifact>" >&2
		ls build-fuzz/crash-* build-fuzz/leak-* build-fuzz/timeout-* \
		    build-fuzz/oom-* 2>/dev/null >&2 || true
		die "$name found a failing input (full log: $log)"
	fi
	rm -rf "$tmp"
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
	FUZZ_SUMMARY="${FUZZ_SUMMARY:+$FUZZ_SUMMARY; }$name ${secs}s, ${runs:-?} inputs, no crash"
	echo "    $name ${secs}s, ${runs:-?} inputs, no crash"
}

# The fuzz leg: the frame decoder, then what a node reads from another,
# then the JSON reader of etcd's answers.
fuzz_frame() {
	CC=clang configure build-fuzz -Dfuzz=true -Dtests=false
	build build-fuzz
	FUZZ_SUMMARY=
	fuzz_one fuzz_frame corpus "$FUZZ_SECONDS"
	fuzz_one fuzz_dist corpus_dist $((FUZZ_SECONDS / 2))
	fuzz_one fuzz_json corpus_json $((FUZZ_SECONDS / 4))
}

# run_suite DIR [OPTION...]: meson test in DIR.  On failure, a digest naming each
# failed test with the end of its output goes to DIR/failure-digest.txt
# and to stderr (.ci/run prints it again at the end of a CI run).
run_suite() {
	local dir=$1
	shift
	rm -f "$dir/failure-digest.txt"
	if meson test -C "$dir" --print-errorlogs "$@"; then
		return 0
	fi
	python3 .ci/digest.py "$dir" >"$dir/failure-digest.txt" || true
	{
		echo "==> failed tests in $dir/ (digest in $dir/failure-digest.txt)"
		cat "$dir/failure-digest.txt"
	} >&2
	return 1
}

cmd_test() {
	install_packages
	configure build -Dwerror=true
	build build
	step "running the test suite (meson test -C build)"
	run_suite build
	fuzz_frame
	printf '%sdev.sh test: PASSED -- meson test (build/) OK; %s%s\n' \
	    "$GREEN" "$FUZZ_SUMMARY" "$RESET"
}

cmd_asan() {
	install_packages
	configure build-asan -Db_sanitize=address,undefined -Db_lundef=false \
	    -Dwerror=true
	build build-asan
	step "running the test suite under ASan+UBSan (meson test -C build-asan)"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	LSAN_OPTIONS=suppressions="$ROOT/tests/lsan.supp":print_suppressions=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    run_suite build-asan
	printf '%sdev.sh asan: PASSED -- meson test (build-asan/) OK under ASan+UBSan%s\n' \
	    "$GREEN" "$RESET"
}

cmd_tsan() {
	install_packages
	CC=clang configure build-tsan -Db_sanitize=thread -Db_lundef=false \
	    -Dwerror=true
	build build-tsan
	step "running the test suite under ThreadSanitizer (meson test -C build-tsan)"
	# atexit_sleep_ms=0: TSan otherwise sleeps a second in every process
	# that exits, and the process placements end hundreds of them.
	TSAN_OPTIONS=suppressions="$ROOT/tests/tsan.supp":print_suppressions=0:atexit_sleep_ms=0:second_deadlock_stack=1 \
	    run_suite build-tsan --timeout-multiplier "$TSAN_TIMEOUT_MULTIPLIER"
	printf '%sdev.sh tsan: PASSED -- meson test (build-tsan/) OK under ThreadSanitizer%s\n' \
	    "$GREEN" "$RESET"
}

case "${1:-}" in
demo | test | asan | tsan)
	CMD=$1
	[ "$#" -eq 1 ] || { usage >&2; exit 2; }
	"cmd_$1"
	;;
-h | --help | help)
	usage
	;;
*)
	usage >&2
	exit 2
	;;
esac
