#!/usr/bin/env bash
# http.sh -- the HTTP benchmark: examples/cluster (troupe's pool of forked
# HTTP members on one shared port) against nginx with the same number of
# workers, both driven by the same wrk command on 127.0.0.1, in the same
# run; then a rolling restart (`troupe restart http`) under wrk's load.
#
#   bench/http.sh [--duration S] [--repeat R] [--threads T]
#                 [--connections C] [--workers N] [--build DIR] [--quick]
#   bench/run.sh http [same options]
#
# Prints one JSON object per line (every run's figures, then per figure
# the median across runs, "stat":"median_of_runs"); progress goes to
# stderr.  Needs wrk and nginx (Debian packages wrk, nginx-light): when
# missing they are installed with apt-get, as root or through sudo --
# only this benchmark needs them, not the build or the tests.  nginx runs
# from a private nginx.conf in a temporary directory, in the foreground,
# on a free loopback port; no system nginx service is used or started.
# See bench/README.md ("bench/http.sh") for what the figures mean.
set -euo pipefail

usage() {
	cat <<'USAGE'
usage: bench/http.sh [--duration S] [--repeat R] [--threads T]
                     [--connections C] [--workers N] [--build DIR] [--quick]
  --duration S     seconds per wrk run (default 10)
  --repeat R       runs of each server (default 3)
  --threads T      wrk threads (default 2)
  --connections C  wrk connections (default 64)
  --workers N      members / nginx workers of the "per core" figures
                   (default: the number of online cores)
  --build DIR      meson build directory (default: <repo>/build)
  --quick          --duration 2 --repeat 1: checks that it all runs
USAGE
}

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build="$root/build"
duration=10
repeat=3
threads=2
conns=64
workers=$(nproc)

while [ $# -gt 0 ]; do
	case "$1" in
	--duration | --repeat | --threads | --connections | --workers | --build)
		[ $# -ge 2 ] || { usage >&2; exit 2; }
		case "$1" in
		--duration) duration=$2 ;;
		--repeat) repeat=$2 ;;
		--threads) threads=$2 ;;
		--connections) conns=$2 ;;
		--workers) workers=$2 ;;
		--build) build=$2 ;;
		esac
		shift
		;;
	--quick)
		duration=2
		repeat=1
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
for v in "$duration" "$repeat" "$threads" "$conns" "$workers"; do
	case "$v" in
	'' | *[!0-9]* | 0)
		echo "http.sh: counts and durations are positive integers" >&2
		exit 2
		;;
	esac
done
if [ "$duration" -lt 2 ]; then
	echo "http.sh: --duration must be at least 2 s" >&2
	exit 2
fi

say() { echo "http.sh: $*" >&2; }

# ------------------------------------------------------------------
# Tools: wrk and nginx from Debian, installed only if missing.

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		say "need root to install packages: $*"
		exit 1
	fi
}

nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
[ -x "$nginx_bin" ] || missing+=(nginx-light)
if [ "${#missing[@]}" -gt 0 ]; then
	say "installing ${missing[*]} (only this benchmark needs them)"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update >&2
	# policy-rc.d 101: the package must not start a system nginx.
	as_root sh -c 'printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d &&
	    chmod +x /usr/sbin/policy-rc.d'
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
	    --no-install-recommends "${missing[@]}" >&2 || {
		as_root rm -f /usr/sbin/policy-rc.d
		exit 1
	}
	as_root rm -f /usr/sbin/policy-rc.d
	nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
fi

# ------------------------------------------------------------------
# The build: the troupe command and the example's plugin.

if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$root" >&2
fi
ninja -C "$build" troupe examples/cluster/cluster_http.so >&2
troupe="$build/troupe"
plugin="$build/examples/cluster/cluster_http.so"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/troupe-http-bench.XXXXXX")
server_pid=
cleanup() {
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
# troupe's control sockets go here, not where a user's trees run.
export TROUPE_RUNDIR="$tmp/run"
mkdir -m 0700 "$TROUPE_RUNDIR"

# A free loopback port for nginx (the cluster asks for port 0 instead).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_listening PORT PID: until something accepts on PORT (10 s at most;
# fails at once if PID died).
wait_listening() {
	local i
	for i in $(seq 1 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

stop_server() {
	kill -TERM "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

# start_nginx N: nginx with N workers answering "Hello\n" to everything.
start_nginx() {
	local n=$1 port
	port=$(free_port)
	mkdir -p "$tmp/nginx"
	cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
worker_processes $n;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	default_type text/plain;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	server {
		listen 127.0.0.1:$port;
		location / { return 200 "Hello\n"; }
	}
}
EOF
	"$nginx_bin" -p "$tmp/nginx" -e "$tmp/nginx/error.log" \
	    -c "$tmp/nginx/nginx.conf" 2>>"$tmp/nginx/error.log" &
	server_pid=$!
	url="http://127.0.0.1:$port/"
	wait_listening "$port" "$server_pid" || {
		say "nginx did not start:"
		cat "$tmp/nginx/error.log" >&2
		exit 1
	}
}

# start_cluster N: examples/cluster/cluster.yaml with N members, the
# plugin as built here and any free port.
start_cluster() {
	local n=$1 port i
	sed -e "s#^plugins:.*#plugins: [$plugin]#" \
	    -e 's#^\(  http: \)127\.0\.0\.1:8080#\1127.0.0.1:0#' \
	    -e "s#^\( *instances: \)auto#\1$n#" \
	    "$root/examples/cluster/cluster.yaml" >"$tmp/cluster.yaml"
	"$troupe" run "$tmp/cluster.yaml" >"$tmp/cluster.out" \
	    2>"$tmp/cluster.log" &
	server_pid=$!
	port=
	for i in $(seq 1 200); do
		port=$(sed -n "s/^troupe: socket 'http' listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p" "$tmp/cluster.log")
		[ -n "$port" ] && break
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.05
	done
	# Serving once every member has started (the tree logs it).
	for i in $(seq 1 200); do
		[ "$(grep -c "'http\.[0-9]*' started" "$tmp/cluster.log")" -ge "$n" ] && break
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$port" ] || ! wait_listening "$port" "$server_pid"; then
		say "the cluster did not start:"
		cat "$tmp/cluster.log" >&2
		exit 1
	fi
	url="http://127.0.0.1:$port/"
}

# run_wrk OUT: the benchmark's one wrk command against $url.
run_wrk() {
	wrk -t"$threads" -c"$conns" -d"${duration}s" \
	    -s "$here/http_report.lua" "$url" >"$1"
}

# figure IMPL WORKERS WRK_OUT [EXTRA]: one JSON line from wrk's summary.
figure() {
	local line
	line=$(grep '^{"wrk":1,' "$3") || {
		say "no summary from wrk:"
		cat "$3" >&2
		exit 1
	}
	echo "$line" | awk -v impl="$1" -v w="$2" -v t="$threads" \
	    -v c="$conns" -v d="$duration" -v extra="${4:-}" '{
		s = $0
		sub(/^\{"wrk":1,/, "", s)
		match(s, /"requests":[0-9]+/)
		req = substr(s, RSTART + 11, RLENGTH - 11)
		match(s, /"duration_us":[0-9]+/)
		us = substr(s, RSTART + 14, RLENGTH - 14)
		printf "{\"bench\":\"http\",\"impl\":\"%s\",\"workers\":\"%s\",", impl, w
		printf "\"wrk\":\"-t%s -c%s -d%ss\",", t, c, d
		printf "\"req_per_s\":%.0f,%s%s\n", req / (us / 1e6), extra, s
	}'
}

all="$tmp/all.jsonl"
: >"$all"
emit() {
	tee -a "$all"
}

# ------------------------------------------------------------------
# Requests/s and latency: nginx and the cluster, 1 worker and N.

if [ "$workers" -gt 1 ]; then
	counts="1 $workers"
else
	counts=1
fi
say "wrk -t$threads -c$conns -d${duration}s, $repeat run(s) each; nginx and the cluster with $counts worker(s); $(nproc) core(s)"
for r in $(seq 1 "$repeat"); do
	for n in $counts; do
		say "run $r/$repeat: nginx, $n worker(s)"
		start_nginx "$n"
		run_wrk "$tmp/wrk.out"
		stop_server
		nginx_line=$(figure nginx "$n" "$tmp/wrk.out")
		echo "$nginx_line" | emit

		say "run $r/$repeat: cluster, $n member(s)"
		start_cluster "$n"
		run_wrk "$tmp/wrk.out"
		stop_server
		cluster_line=$(figure cluster "$n" "$tmp/wrk.out")
		echo "$cluster_line" | emit

		# The aim, taken within the run: cluster / nginx requests/s.
		printf '%s\n%s\n' "$nginx_line" "$cluster_line" | awk -v w="$n" '
			{ match($0, /"req_per_s":[0-9]+/)
			  v[NR] = substr($0, RSTART + 12, RLENGTH - 12) }
			END { printf "{\"bench\":\"http\",\"impl\":\"ratio_cluster_over_nginx\",\"workers\":\"%s\",\"aim\":\">= 0.8\",\"ratio\":%.3f}\n", w, v[2] / v[1] }' |
		    emit
	done
done

# ------------------------------------------------------------------
# A rolling restart under load: wrk runs while `troupe restart http`
# replaces the members one at a time; every request must succeed.

failed=0
for r in $(seq 1 "$repeat"); do
	say "run $r/$repeat: rolling restart of $workers member(s) under wrk"
	start_cluster "$workers"
	run_wrk "$tmp/wrk.out" &
	wrk_pid=$!
	# The restart starts a quarter into the run (a schedule, not a
	# synchronisation: wrk is running by then either way).
	sleep "$(awk -v d="$duration" 'BEGIN { print d / 4 }')"
	t0=$(date +%s%N)
	out=$("$troupe" restart http --tree cluster 2>&1) || {
		say "troupe restart failed: $out"
		failed=1
	}
	t1=$(date +%s%N)
	wrk_done_before=0
	kill -0 "$wrk_pid" 2>/dev/null || wrk_done_before=1
	wait "$wrk_pid"
	stop_server
	case "$out" in
	*"restarted $workers instances of 'http', one at a time"*) ;;
	*)
		say "troupe restart said: $out"
		failed=1
		;;
	esac
	if [ "$wrk_done_before" -eq 1 ]; then
		say "wrk ended before the restart did: use a longer --duration"
		failed=1
	fi
	line=$(figure cluster_rolling_restart "$workers" "$tmp/wrk.out" \
	    "\"restart_ms\":$(((t1 - t0) / 1000000)),")
	echo "$line" | emit
	errors=$(echo "$line" | awk '{
		n = 0
		while (match($0, /"(errors_[a-z]+|non2xx)":[0-9]+/)) {
			s = substr($0, RSTART, RLENGTH)
			sub(/.*:/, "", s)
			n += s
			$0 = substr($0, RSTART + RLENGTH)
		}
		print n
	}')
	if [ "$errors" -ne 0 ]; then
		say "rolling restart run $r: $errors failed requests"
		failed=1
	fi
done

say "medians across runs"
awk -f "$here/median.awk" "$all"
exit "$failed"
