#!/usr/bin/env bash
# Two nodes on loopback, each a tree run by the troupe command: status
# lists the other node (up, then down), a child of a `nodes:` list runs
# on the other node when it is up (NODE, no pid), and when that node is
# killed the child comes back here after its default backoff.
# Needs the node sessions (actors/dist*.c); tests/meson.build registers
# it where they are.
# usage: cluster_two.sh TROUPE
set -u
troupe=$1
rd=$(mktemp -d)
export TROUPE_RUNDIR=$rd
unset TROUPE_NODE
pa=; pb=
trap '[ -n "$pa" ] && kill -9 $pa 2>/dev/null; [ -n "$pb" ] && kill -9 $pb 2>/dev/null; rm -rf "$rd"' EXIT
fail() { echo "cluster_two: FAIL: $*" >&2; for f in loga logb; do [ -f "$rd/$f" ] && { echo "-- $f" >&2; cat "$rd/$f" >&2; }; done; exit 1; }

# Two free ports (a node's address must be known to be dialled).
read -r porta portb < <(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])') || fail "no free ports"

cat >"$rd/a.yaml" <<YAML
cluster:
  name: two
  node: na
  listen: tcp://127.0.0.1:$porta
  seeds: [tcp://127.0.0.1:$portb]
  insecure: true
  tick: 100
  timeout: 600
supervisor:
  name: ta
  intensity: 10
  period: 60000
  children:
    - {id: here, command: [cat], shutdown: brutal}
    - {id: far, command: [cat], shutdown: brutal, nodes: [nb, na]}
YAML
cat >"$rd/b.yaml" <<YAML
cluster:
  name: two
  node: nb
  listen: tcp://127.0.0.1:$portb
  seeds: [tcp://127.0.0.1:$porta]
  insecure: true
  tick: 100
  timeout: 600
supervisor:
  name: tb
  children: []
YAML

# Other processes: poll (bounded, 10 s); a shell has no message to wait on.
until_ok() { # what, then a command that must succeed
	local what=$1; shift
	for i in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	fail "$what"
}
status_has() { "$troupe" status "$1" | grep -Eq "$2"; }

"$troupe" run "$rd/b.yaml" >/dev/null 2>"$rd/logb" & pb=$!
until_ok "tb did not start" "$troupe" status tb
"$troupe" run "$rd/a.yaml" >/dev/null 2>"$rd/loga" & pa=$!
until_ok "ta did not start" "$troupe" status ta
until_ok "nb is not up at na" status_has ta '^nb +up +[0-9a-f]{8} +[0-9.]+s +[0-9.]+(us|ms|s) +1$'
until_ok "na is not up at nb" status_has tb '^na +up +[0-9a-f]{8} '

# Restarted now that nb is up: the first of its list.
out=$("$troupe" restart far --tree ta) || fail "restart far: $out"
st=$("$troupe" status ta)
# Its placement is the spec's (auto): the node it runs on chooses.
echo "$st" | grep -Eq '^far +auto +nb +- +running ' || fail "far is not on nb: $st"
echo "$st" | grep -Eq '^here +exec +- +[0-9]+ +running ' || fail "here: $st"
grep -q "'far' started (on nb)" "$rd/loga" || fail "no log of far on nb"
"$troupe" status --json ta | grep -q '"path":"far",[^}]*"node":"nb"}' || fail "far's node in JSON"

# nb dies: far ends (noconnection) and, after its backoff, runs here.
kill -9 $pb; wait $pb 2>/dev/null; pb=
until_ok "far did not come back here" status_has ta '^far +exec +- +[0-9]+ +running '
st=$("$troupe" status ta)
echo "$st" | grep -Eq '^nb +down +[0-9a-f]{8} ' || fail "nb is not down: $st"
grep -q "'far' exited: noconnection(" "$rd/loga" || fail "no noconnection exit in the log"
grep -Eq "'far' restarted \(exec, pid [0-9]+\)" "$rd/loga" || fail "no restart here in the log"

kill -TERM $pa; wait $pa; rc=$?; pa=
[ $rc -eq 0 ] || fail "ta exited $rc after SIGTERM"
echo "cluster_two: all checks passed"
