#!/usr/bin/env bash
# A tree that is a node of a cluster (its file's `cluster:`), run by the
# troupe command: check names the node (TROUPE_NODE overrides the
# file's), the run logs it, and status shows this node, the nodes it
# knows (or why it cannot list them) and a NODE column -- in text and in
# --json -- while a tree without a cluster keeps its columns.
#
# No other node runs here, so the tree's children are local; what other
# nodes add (the NODES table, children on them) is rendered from a fake
# tree's reply (fake_status.c).
# usage: cluster.sh TROUPE FAKE_STATUS
set -u
troupe=$1; fake=$2
rd=$(mktemp -d)
export TROUPE_RUNDIR=$rd
unset TROUPE_NODE
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$rd"' EXIT
fail() { echo "cluster: FAIL: $*" >&2; [ -f "$rd/log" ] && cat "$rd/log" >&2; exit 1; }

# A program that may start on another node: its arguments in a script.
printf '#!/bin/sh\nexec sleep 1000\n' >"$rd/sleeper"
chmod +x "$rd/sleeper"
# Plain tcp on loopback, any free port: no certificates needed.
cat >"$rd/cl.yaml" <<YAML
cluster:
  name: clitest
  node: cli-1
  listen: tcp://127.0.0.1:0
  insecure: true
  tick: 200
  timeout: 1000
supervisor:
  name: clustered
  children:
    - {id: worker, command: [sleep, "1000"], shutdown: brutal}
    - {id: here, command: [$rd/sleeper], shutdown: brutal, node: cli-1}
    - {id: first-up, command: [$rd/sleeper], shutdown: brutal, nodes: [ghost, cli-1]}
    - id: sub
      supervisor:
        children:
          - {id: inner, command: [sleep, "1000"], shutdown: brutal}
YAML

out=$("$troupe" check "$rd/cl.yaml") || fail "check: $out"
[ "$out" = "$rd/cl.yaml: ok: tree 'clustered', 4 top-level children, node 'cli-1' of cluster 'clitest'" ] || fail "check said: $out"
out=$(TROUPE_NODE=cli-2 "$troupe" check "$rd/cl.yaml") || fail "check with TROUPE_NODE: $out"
echo "$out" | grep -q "node 'cli-2' of cluster 'clitest'$" || fail "TROUPE_NODE was not taken: $out"
out=$(TROUPE_NODE='no good' "$troupe" check "$rd/cl.yaml" 2>&1); rc=$?
[ $rc -eq 2 ] || fail "a bad TROUPE_NODE: exit $rc"
echo "$out" | grep -q "cl.yaml:2:3: TROUPE_NODE must be a node name" || fail "a bad TROUPE_NODE said: $out"

"$troupe" run "$rd/cl.yaml" >"$rd/out" 2>"$rd/log" &
pid=$!
# Another process: poll its control socket (bounded, 10 s).
for i in $(seq 1 100); do
	"$troupe" status clustered >/dev/null 2>&1 && break
	kill -0 $pid 2>/dev/null || fail "the tree did not start"
	sleep 0.1
done
grep -Eq "^troupe: node 'cli-1' of cluster 'clitest', id [0-9a-f]{8}, listen tcp://127\.0\.0\.1:0$" "$rd/log" || fail "no node line in the log"

st=$("$troupe" status clustered) || fail "status"
echo "$st" | sed -n 2p | grep -Eq '^node cli-1, cluster clitest, id [0-9a-f]{8}, listen tcp://127\.0\.0\.1:0 \(membership static\)$' || fail "no node line: $st"
# Then the other nodes: none is known here.
echo "$st" | sed -n 3p | grep -Eq '^no other node known yet$' || fail "no nodes part: $st"
echo "$st" | grep -Eq '^CHILD +PLACEMENT NODE +PID +STATE +BUSY +RESTARTS +UPTIME +MAILBOX +IN +OUT +TIMERS$' || fail "no NODE column: $st"
# Local children: '-'.
echo "$st" | grep -Eq '^worker +exec +- +[0-9]+ +running ' || fail "worker's row: $st"
echo "$st" | grep -Eq '^sub +sup +- +[0-9]+ +running ' || fail "sub's row: $st"
# Children placed on this node by name, or as the first of a list up.
echo "$st" | grep -Eq '^here +exec +- +[0-9]+ +running ' || fail "here's row: $st"
echo "$st" | grep -Eq '^first-up +exec +- +[0-9]+ +running ' || fail "first-up's row: $st"
echo "$st" | grep -Eq '^sub/inner +exec +- +[0-9]+ +running ' || fail "sub/inner's row: $st"

js=$("$troupe" status --json clustered) || fail "status --json"
echo "$js" | python3 -c 'import json, sys; json.load(sys.stdin)' || fail "not JSON: $js"
echo "$js" | grep -q '"path":"worker","placement":"exec",[^}]*"timers":0,"node":"cli-1"}' || fail "worker's node in JSON: $js"
echo "$js" | grep -q '"path":"sub/inner",[^}]*"node":"cli-1"}' || fail "sub/inner's node in JSON: $js"
echo "$js" | grep -Eq '"cluster":\{"name":"clitest","node":"cli-1","id":[0-9]+,"listen":"tcp://127\.0\.0\.1:0","membership":"static","error":null,"nodes":\[.*\]\}\}$' || fail "no cluster in JSON: $js"

kill -TERM $pid
wait $pid; rc=$?; pid=
[ $rc -eq 0 ] || fail "run exited $rc after SIGTERM"

# A tree without a cluster: the columns of old, no node anywhere.
cat >"$rd/plain.yaml" <<'YAML'
supervisor:
  name: plain
  children:
    - {id: worker, command: [sleep, "1000"], shutdown: brutal}
YAML
"$troupe" run "$rd/plain.yaml" >"$rd/out" 2>"$rd/log" &
pid=$!
for i in $(seq 1 100); do
	"$troupe" status plain >/dev/null 2>&1 && break
	kill -0 $pid 2>/dev/null || fail "the plain tree did not start"
	sleep 0.1
done
st=$("$troupe" status plain) || fail "status of the plain tree"
[ "$(echo "$st" | sed -n 2p)" = "CHILD                        PLACEMENT PID     STATE      BUSY          RESTARTS    UPTIME      MAILBOX        IN       OUT   TIMERS" ] || fail "the plain tree's header: $st"
[ "$(echo "$st" | wc -l)" -eq 3 ] || fail "the plain tree's status: $st"
js=$("$troupe" status --json plain) || fail "status --json of the plain tree"
echo "$js" | grep -Eq '^\{"tree":"plain","pid":[0-9]+,"children":\[\{"path":"worker","placement":"exec","supervisor":false,"pid":[0-9]+,"state":"running","callback_ms":0,"waiting":false,"restarts":0,"uptime_ms":[0-9]+,"mailbox_depth":0,"mailbox_capacity":[0-9]+,"msgs_in":[0-9]+,"msgs_out":[0-9]+,"timers":0\}\],"not_answering":\[\]\}$' || fail "the plain tree's JSON: $js"
grep -q "^troupe: node " "$rd/log" && fail "a node line for a tree in no cluster"
kill -TERM $pid
wait $pid; rc=$?; pid=
[ $rc -eq 0 ] || fail "the plain tree exited $rc after SIGTERM"

# What a node with sessions shows: other nodes up, down, connecting; a
# child on another node, one not placed yet.  The fake says "ready" once
# it listens, and ends when its input does.
coproc FAKE { "$fake" fakeshop; }
read -r -u "${FAKE[0]}" ready || fail "fake_status did not start"
[ "$ready" = ready ] || fail "fake_status said: $ready"
st=$("$troupe" status fakeshop) || fail "status of the fake"
want="node web-1, cluster shop, id 0badf00d, listen tls+tcp://10.77.0.1:4400 (membership static)
NODE                 STATE      ID       LAST TICK      RTT SESSIONS
db-1                 up         1234abcd      0.3s    412us        1
db-2                 down       deadbeef     12.0s    1.5ms        2
db-3                 connecting -                -        -        0
CHILD                        PLACEMENT NODE         PID     STATE      BUSY          RESTARTS    UPTIME      MAILBOX        IN       OUT   TIMERS
web                          fork      -            4250    running    -                    2      8.1s       0/1024         5         7        0
db                           auto      db-1         -       running    -                    2      8.1s            -         5         7        0
cache                        thread    ?            -       restarting -                    2         -            -         5         7        0
self                         thread    -            4242    running    -                    2      8.1s       0/1024         5         7        0"
[ "$(echo "$st" | tail -n +2)" = "$want" ] || fail "the fake's status:
$st
-- want:
$want"
js=$("$troupe" status --json fakeshop) || fail "status --json of the fake"
echo "$js" | python3 -c 'import json, sys; json.load(sys.stdin)' || fail "not JSON: $js"
echo "$js" | grep -q '"path":"db",[^}]*,"node":"db-1"}' || fail "db's node: $js"
echo "$js" | grep -q '"path":"cache",[^}]*,"node":null}' || fail "cache's node: $js"
echo "$js" | grep -q '"path":"web",[^}]*,"node":"web-1"}' || fail "web's node: $js"
echo "$js" | grep -q '"nodes":\[{"name":"db-1","state":"up","id":305441741,"url":"tls+tcp://10.77.0.2:4400","last_heard_ms":312,"rtt_us":412,"sessions":1,"frames_in":100,"frames_out":90},' || fail "the nodes in JSON: $js"
echo "$js" | grep -q '"error":null,' || fail "an error in JSON: $js"
echo "$js" | grep -q '{"name":"db-3","state":"connecting","id":0,"url":"tls+tcp://10.77.0.2:4400","last_heard_ms":null,"rtt_us":0,' || fail "a node never heard from, in JSON: $js"
exec {FAKE[1]}>&-
wait "$FAKE_PID" || fail "fake_status failed"
echo "cluster: all checks passed"
