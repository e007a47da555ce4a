#!/bin/sh
# A program that cannot run is an error at spawn time, with its name and
# a non-zero exit -- not a silent dead actor.  usage: spawn_missing.sh SPAWN_OUTPUT
out=$("$1" /no/such/program 2>&1); rc=$?
echo "$out"
[ $rc -eq 1 ] || { echo "exit $rc, expected 1" >&2; exit 1; }
echo "$out" | grep -q "^spawn_output: /no/such/program: " || { echo "no error line" >&2; exit 1; }
echo "spawn_missing: ok"
