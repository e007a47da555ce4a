#!/usr/bin/env bash
# Ctrl-C in the terminal of `troupe run`: the terminal sends SIGINT to
# its whole foreground process group.  Only the tree's own shutdown may
# stop its children -- newest first, none restarted, exit status 0 --
# so wrapped and exec'd programs must not be in that group.  Also: the
# pids that the log and `troupe status` show for wrapped programs are
# the programs' own.
# usage: sigint.sh TROUPE EXEC_HOST PLUGIN
set -u
troupe=$1; exec_host=$(realpath "$2"); plugin=$(realpath "$3")
rd=$(mktemp -d)
export TROUPE_RUNDIR=$rd
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$rd"' EXIT
fail() { echo "sigint: FAIL: $*" >&2; [ -f "$rd/log" ] && cat "$rd/log" >&2; exit 1; }

# Intensity 1: two children ended by the Ctrl-C would make it give up.
cat >"$rd/sigint.yaml" <<EOF
plugins: [$plugin]
supervisor:
  name: sigint
  intensity: 1
  period: 60000
  children:
    - {id: member, behavior: plugin.echo, placement: fork}
    - {id: prog, behavior: msg.die, command: [$exec_host]}
    - {id: shell, command: [sh, -c, 'sleep 1000 & echo "bg \$!"; wait'], shutdown: 5000}
    - {id: s1, command: [sleep, "1000"], shutdown: 5000}
    - {id: s2, command: [sleep, "1000"], shutdown: 5000}
EOF

# The tree in a process group of its own, as a shell with job control
# runs a foreground job (pgid = its pid).
set -m
"$troupe" run "$rd/sigint.yaml" >"$rd/out" 2>"$rd/log" &
pid=$!
set +m
[ "$(ps -o pgid= -p $pid | tr -d ' ')" = "$pid" ] || fail "the tree is not in a group of its own"
# Another process: poll its control socket (bounded, 20 s).
for i in $(seq 1 200); do
	"$troupe" status sigint >/dev/null 2>&1 && break
	sleep 0.1
done
st=$("$troupe" status --json sigint) || fail "status: $st"
child_pid() { echo "$st" | sed -n "s/.*\"path\":\"$1\",[^}]*\"pid\":\([0-9]*\).*/\1/p"; }
for c in member prog shell s1 s2; do
	eval "p_$c=\$(child_pid $c)"
	eval "[ -n \"\$p_$c\" ] && [ \"\$p_$c\" -gt 0 ]" || fail "no pid for '$c': $st"
done
# The bash builtin ps needs no procps: read /proc.
pgid() { awk '{ sub(/^.*\) /, ""); print $3 }' /proc/$1/stat; }
cmd() { tr '\0' ' ' </proc/$1/cmdline; }

# A wrapped program's pid is its own, in status and in the log.
for c in shell s1 s2; do
	eval "p=\$p_$c"
	[ "$p" != "$pid" ] || fail "'$c' shows the tree's pid $pid"
	grep -q "'$c' started (exec, pid $p)" "$rd/log" || fail "the log has another pid for '$c' than $p"
done
cmd $p_s1 | grep -Eq "^(\S*\/)?sleep 1000" || fail "pid $p_s1 of 's1' is not its program: $(cmd $p_s1)"
# Wrapped and exec'd programs are out of the terminal's group.
for c in prog shell s1 s2; do
	eval "p=\$p_$c"
	[ "$(pgid $p)" != "$pid" ] || fail "'$c' (pid $p) is in the tree's process group"
done
# The shell's own child, for the check that nothing outlives the tree.
for i in $(seq 1 100); do grep -q '^\[sigint/shell\] bg ' "$rd/out" && break; sleep 0.1; done
bg=$(sed -n 's/^\[sigint\/shell\] bg \([0-9]*\)$/\1/p' "$rd/out")
[ -n "$bg" ] || fail "the shell did not say its child's pid"

# Ctrl-C, as the terminal sends it: to the whole group.
kill -INT -- -$pid
wait $pid; rc=$?
pid=
[ $rc -eq 0 ] || fail "troupe run exited $rc after Ctrl-C"
grep -q "SIGINT: stopping the tree" "$rd/log" || fail "no stop line"
grep -q "exited:" "$rd/log" && fail "a child ended before the tree stopped it: $(grep "exited:" "$rd/log")"
grep -q "restarted" "$rd/log" && fail "a child was restarted during the stop"
order=$(sed -n "s/^troupe: sigint: '\([a-z0-9]*\)' stopping$/\1/p" "$rd/log" | tr '\n' ' ')
[ "$order" = "s2 s1 shell prog member " ] || fail "not stopped newest first: $order"
grep -q "tree 'sigint' stopped" "$rd/log" || fail "no end line"

# Nothing outlives the tree: its programs and the shell's child.
gone() { [ ! -e /proc/$1 ] || [ "$(awk '{ sub(/^.*\) /, ""); print $1 }' /proc/$1/stat 2>/dev/null)" = Z ]; }
for p in $p_member $p_prog $p_shell $p_s1 $p_s2 $bg; do
	# The kernel ends them as the root ends (signals, parent-death
	# signal): poll, bounded (10 s).
	for i in $(seq 1 100); do gone $p && break; sleep 0.1; done
	gone $p || fail "pid $p ($(cmd $p)) outlived the tree"
done
echo "sigint: all checks passed"
