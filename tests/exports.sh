#!/bin/bash
# exports.sh -- what libtroupe.so exports is the API, and only the API.
#
#   exports.sh LIBTROUPE.so include/troupe.h [PROGRAM...]
#
# The library is built with hidden visibility; include/troupe.h makes
# its own declarations visible.  So the dynamic symbols the library
# defines must be exactly the functions (and objects) troupe.h
# declares: none of the internal tri_/trc_/trs_ symbols, and no
# declared function missing (which a user would meet as an undefined
# reference).  Each PROGRAM (holding the static library and exporting
# the API to its plugins) must export all of the API and none of the
# internal symbols.
set -euo pipefail

lib=${1:?usage: exports.sh LIB HEADER [PROGRAM...]}
header=${2:?usage: exports.sh LIB HEADER [PROGRAM...]}
shift 2
fail=0

indent() {
	sed 's/^/    /'
}

defined() {
	nm -D --defined-only "$1" | awk 'NF >= 3 { print $3 }' | sort -u
}

exported=$(defined "$lib")
# Functions declared in troupe.h: a declaration starts in column 0 with
# its type, the name follows, then its parameters (typedefs of function
# pointers are not functions of the library).
declared=$(grep -E '^[A-Za-z_].*[ *]tr_[a-z0-9_]+\(' "$header" |
	grep -v '^typedef' |
	sed -E 's/.*[ *](tr_[a-z0-9_]+)\(.*/\1/' | sort -u)

n=$(wc -l <<<"$exported")
echo "exports.sh: $lib exports $n symbols"

not_api=$(grep -v '^tr_' <<<"$exported" || true)
if [ -n "$not_api" ]; then
	echo "exports.sh: FAIL: exported but not tr_* API:" >&2
	indent <<<"$not_api" >&2
	fail=1
fi
undeclared=$(grep '^tr_' <<<"$exported" | while read -r s; do
	grep -qw "$s" "$header" || echo "$s"
done)
if [ -n "$undeclared" ]; then
	echo "exports.sh: FAIL: exported tr_* symbols troupe.h does not declare:" >&2
	indent <<<"$undeclared" >&2
	fail=1
fi
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
if [ -n "$missing" ]; then
	echo "exports.sh: FAIL: declared in troupe.h but not exported:" >&2
	indent <<<"$missing" >&2
	fail=1
fi

for prog in "$@"; do
	pexp=$(defined "$prog")
	internal=$(grep -E '^tr[a-z]+_' <<<"$pexp" | grep -v '^tr_' || true)
	if [ -n "$internal" ]; then
		echo "exports.sh: FAIL: $prog exports internal symbols:" >&2
		indent <<<"$internal" >&2
		fail=1
	fi
	# A plugin may call any API function: the program has them all.
	lacking=$(comm -23 <(echo "$exported") <(grep '^tr_' <<<"$pexp"))
	if [ -n "$lacking" ]; then
		echo "exports.sh: FAIL: $prog does not export, for its plugins:" >&2
		indent <<<"$lacking" >&2
		fail=1
	fi
	echo "exports.sh: $prog exports the $(grep -c '^tr_' <<<"$pexp")" \
	    "tr_* symbols, no internal one"
done

if [ "$fail" -ne 0 ]; then
	exit 1
fi
echo "exports.sh: OK: $n symbols, each declared in $(basename "$header")," \
    "every declared function exported"
