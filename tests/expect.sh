#!/usr/bin/env bash
# usage: expect.sh PROGRAM [ARGS...] -- PATTERN...
# Runs PROGRAM and checks that its exit code is 0 and that every PATTERN
# (an extended regex) matches some line of its standard output.
set -u
prog=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do prog+=("$1"); shift; done
shift
out=$("${prog[@]}" 2>&1); rc=$?
printf '%s\n' "$out"
if [ $rc -ne 0 ]; then echo "expect: ${prog[0]} exited with $rc" >&2; exit 1; fi
for pat in "$@"; do
  if ! printf '%s\n' "$out" | grep -Eq -- "$pat"; then
    echo "expect: no line matches /$pat/" >&2; exit 1
  fi
done
echo "expect: all ${#} patterns matched"
