#!/bin/sh
# A child for spawn_output: three lines on stdout, one on stderr, and a
# non-zero exit.
echo "hello from sh, pid $$"
echo "args: $*"
echo "a warning" >&2
echo "bye"
exit 3
