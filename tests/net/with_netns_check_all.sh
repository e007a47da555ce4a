#!/bin/sh
# with_netns_check_all.sh DIR -- with_netns.sh 2 with_netns_check.sh,
# then nothing of its run may be left: no namespace, no certificates.
set -u
dir=$1
out=$("$dir/with_netns.sh" 2 "$dir/with_netns_check.sh" 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 77 ] && exit 77
[ "$rc" -eq 0 ] || { echo "with_netns_check_all: FAIL: exit $rc" >&2; exit 1; }
prefix=$(echo "$out" | sed -n 's/^with_netns_check: ok (\([^,]*\),.*/\1/p')
certs=$(echo "$out" | sed -n 's/.*certificates in \([^)]*\)).*/\1/p')
[ -n "$prefix" ] && [ -n "$certs" ] || { echo "with_netns_check_all: FAIL: no report" >&2; exit 1; }
if ip netns list | awk '{ print $1 }' | grep -q "^$prefix"; then
	echo "with_netns_check_all: FAIL: namespaces of $prefix left" >&2
	exit 1
fi
[ ! -e "$certs" ] || { echo "with_netns_check_all: FAIL: $certs left" >&2; exit 1; }
# A failing program's status comes through, and it too leaves nothing.
"$dir/with_netns.sh" 1 sh -c 'exit 3' 2>/dev/null
rc=$?
[ "$rc" -eq 3 ] || { echo "with_netns_check_all: FAIL: status $rc, not 3" >&2; exit 1; }
echo "with_netns_check_all: ok"
