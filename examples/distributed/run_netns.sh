#!/usr/bin/env bash
# run_netns.sh -- the distributed example on three hosts of one machine:
# three network namespaces on a bridge (tests/net/netns.sh), certificates
# made for the run, n2 and n3 started in the background, n1 in the
# foreground; n1's table is printed and checked, then everything is
# removed.  Root only: exits 77 with the reason where namespaces cannot
# be made.
# usage: run_netns.sh TROUPE PLUGIN EXAMPLE_DIR NETNS_SH [--n N]
set -u
troupe=${1:?usage: run_netns.sh TROUPE PLUGIN EXAMPLE_DIR NETNS_SH [--n N]}
plugin=${2:?}
dir=${3:?}
netns=${4:?}
n=
[ "${5:-}" = --n ] && n=${6:?}
troupe=$(realpath "$troupe")
plugin=$(realpath "$plugin")
dir=$(realpath "$dir")
netns=$(realpath "$netns")
P="trx$$-"
export NETNS_PREFIX=$P
work=$(mktemp -d /tmp/troupe-distributed.XXXXXX)
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	"$netns" down "$P" >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

"$netns" check || exit $?
"$netns" up 3 "$P" >/dev/null || { echo "run_netns: netns.sh up failed" >&2; exit 1; }
cp "$dir"/n1.yaml "$dir"/n2.yaml "$dir"/n3.yaml "$work"/
sh "$dir/mkcerts.sh" -q "$work/certs" n1 n2 n3 || exit 1
# The copies name the plugin of this build.
sed -i "s|^plugins: .*|plugins: [$plugin]|" "$work"/n[123].yaml
if [ -n "$n" ]; then
	sed -i "s/^        n: [0-9]*$/        n: $n/" "$work/n1.yaml"
fi
cd "$work"
# Each node its own run directory: the namespaces share the filesystem.
for k in 2 3; do
	mkdir -m 700 "$work/run$k"
	TROUPE_RUNDIR="$work/run$k" "$netns" exec "$k" "$troupe" run "n$k.yaml" \
		>"$work/out$k" 2>&1 &
	pids+=($!)
done
mkdir -m 700 "$work/run1"
TROUPE_RUNDIR="$work/run1" timeout 100 "$netns" exec 1 "$troupe" run n1.yaml \
	>"$work/out1" 2>&1
rc=$?
cat "$work/out1"
# n2 and n3 stop in order on SIGTERM, as any tree does.
for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
for p in "${pids[@]}"; do
	wait "$p" || { echo "run_netns: a node did not stop in order" >&2; rc=1; }
done
pids=()
if [ "$rc" != 0 ]; then
	echo "run_netns: n1 exited $rc" >&2
	for k in 2 3; do echo "--- n$k"; cat "$work/out$k"; done >&2
	exit 1
fi
# Three rows, the same count on each, and work on every node of each.
rows=$(grep -Ec '^[123] +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9]+ +n1:[0-9]+' "$work/out1")
counts=$(grep -E '^[123] +[0-9]+ ' "$work/out1" | awk '{print $5}' | sort -u | wc -l)
three=$(grep -E '^3 +[0-9]+ ' "$work/out1" | grep -Ec 'n1:[1-9][0-9]* n2:[1-9][0-9]* n3:[1-9][0-9]*$')
if [ "$rows" != 3 ] || [ "$counts" != 1 ] || [ "$three" != 1 ] ||
	! grep -q '^coordinator: done$' "$work/out1"; then
	echo "run_netns: the table is not as expected" >&2
	exit 1
fi
echo "run_netns: OK"
