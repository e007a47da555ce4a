#!/bin/bash
# check.sh -- tests the installed copy of troupe, as a user would see it.
#
#   check.sh BUILDDIR TOUR.c [SANITIZE]
#
# Installs BUILDDIR into a scratch DESTDIR (meson install --destdir),
# then builds the README's tour (examples/tour/tour.c) with nothing but
# `pkg-config troupe` pointed at that DESTDIR, twice -- linked to the
# installed libtroupe.so, and statically with `pkg-config --static` --
# and runs both, checking what they print.  SANITIZE is meson's
# b_sanitize value: a sanitized library can only be linked by a
# sanitized program.  CC picks the compiler.
set -euo pipefail

usage='usage: check.sh BUILDDIR TOUR.c [SANITIZE]'
builddir=$(cd "${1:?$usage}" && pwd)
tour=${2:?$usage}
sanitize=${3:-none}
cc=${CC:-cc}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/troupe-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

indent() {
	sed 's/^/    /'
}

fail() {
	echo "check.sh: FAIL: $*" >&2
	exit 1
}

echo "check.sh: meson install -C $builddir --destdir $dest"
meson install -C "$builddir" --no-rebuild --quiet --destdir "$dest"

pc=$(find "$dest" -name troupe.pc -path '*/pkgconfig/*' | head -n 1)
[ -n "$pc" ] || fail "no pkgconfig/troupe.pc was installed"
echo "check.sh: found ${pc#"$dest"}"
indent <"$pc"

# The .pc file names the real prefix (e.g. /usr/local); the sysroot makes
# pkg-config put DESTDIR in front of troupe's -I and -L.  The system
# default path stays searched, for msgpack-c, libuv and libyaml.
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
export PKG_CONFIG_SYSROOT_DIR=$dest
cflags=$(pkg-config --cflags troupe)
libs=$(pkg-config --libs troupe)
slibs=$(pkg-config --static --libs troupe)
echo "check.sh: pkg-config --cflags troupe: $cflags"
echo "check.sh: pkg-config --libs troupe: $libs"
echo "check.sh: pkg-config --static --libs troupe: $slibs"

case " $cflags " in
*" -I$dest"*) ;;
*) fail "--cflags does not point into DESTDIR" ;;
esac
# A path to a shared object in the link line links that library
# dynamically whatever --static asks (as an absolute path to this
# machine's libnng.so once did); a .pc names libraries with -l.
for word in $libs $slibs; do
	case $word in
	*.so | *.so.*) fail "the .pc links a shared object by path: $word" ;;
	esac
done
libdir=$(pkg-config --variable=libdir troupe)
libdir=$dest${libdir#"$dest"}
[ -e "$libdir/libtroupe.so" ] || fail "$libdir/libtroupe.so not installed"
[ -e "$libdir/libtroupe.a" ] || fail "$libdir/libtroupe.a not installed"

san=()
if [ "$sanitize" != none ] && [ -n "$sanitize" ]; then
	san=("-fsanitize=$sanitize")
fi

# run_tour PROGRAM: runs it and checks the tour's two lines.
run_tour() {
	local out
	out=$("$1")
	indent <<<"$out"
	grep -qx 'count = 55' <<<"$out" || fail "$1 did not print 'count = 55'"
	grep -qx 'counter exited: error(42)' <<<"$out" ||
		fail "$1 did not print 'counter exited: error(42)'"
}

# 1. Shared, as the README says: cc tour.c $(pkg-config --cflags --libs troupe)
# shellcheck disable=SC2086 # word splitting of pkg-config output is wanted
$cc -std=c11 -Wall -Wextra -Werror "${san[@]}" -o "$tmp/tour" \
    "$tour" $cflags $libs

# The header must be the installed one, not one found elsewhere.
# (Output is captured before grep -q: with pipefail, grep quitting early
# would fail the pipe.)
# shellcheck disable=SC2086
deps=$($cc -M "$tour" $cflags)
grep -q "$dest/[^ ]*/troupe.h" <<<"$deps" ||
	fail "tour.c did not include DESTDIR's troupe.h"

# The program must run against the installed library, not the build's.
deps=$(LD_LIBRARY_PATH=$libdir ldd "$tmp/tour")
grep -q "libtroupe.so.* => $libdir/" <<<"$deps" ||
	fail "tour does not load libtroupe from $libdir: $deps"
echo "check.sh: tour, linked to $libdir/libtroupe.so:"
LD_LIBRARY_PATH=$libdir run_tour "$tmp/tour"

# 2. Static: `pkg-config --static --libs troupe` with each library taken
# from its archive where one is installed (as meson's `static: true`
# does): libtroupe.a, libnng.a and what nng needs (mbedtls) must all
# come from Libs.private / Requires.private.  The C library's own parts
# stay shared, and so does libcurl (below).  Under ThreadSanitizer
# libuv stays shared too: the suppression that covers its raw close()
# names libuv.so.1 (tests/tsan.supp).
dirs=()
for word in $slibs; do
	case $word in -L*) dirs+=("${word#-L}") ;; esac
done
static=()
archived=()
for word in $slibs; do
	case $word in
	-lc | -lm | -lpthread | -ldl | -lrt | -lutil | -lresolv) ;;
	# libcurl stays shared: its archive needs libraries whose own
	# archives Debian's libcurl4-openssl-dev does not bring (troupe.pc
	# names -lcurl alone; meson.build says why).
	-lcurl) ;;
	-luv) [[ $sanitize == *thread* ]] && { static+=("$word"); continue; } ;;&
	-l*)
		name=${word#-l}
		a=''
		for d in "${dirs[@]}"; do
			[ -e "$d/lib$name.a" ] && { a=$d/lib$name.a; break; }
		done
		if [ -z "$a" ]; then
			a=$($cc -print-file-name="lib$name.a")
			[ "$a" != "lib$name.a" ] || a=''
		fi
		if [ -n "$a" ]; then
			static+=("$a")
			archived+=("lib$name.a")
			continue
		fi
		;;
	esac
	static+=("$word")
done
echo "check.sh: static link from archives: ${archived[*]}"
# shellcheck disable=SC2086
$cc -std=c11 -Wall -Wextra -Werror "${san[@]}" -o "$tmp/tour-static" \
    "$tour" $cflags "${static[@]}"
deps=$(ldd "$tmp/tour-static" || true)
for lib in libtroupe libnng libmbedtls libmbedx509 libmbedcrypto; do
	if grep -q "$lib" <<<"$deps"; then
		fail "tour-static loads a shared $lib:"$'\n'"$deps"
	fi
done
echo "check.sh: tour, static (no shared libtroupe, libnng, mbedtls):"
run_tour "$tmp/tour-static"
echo "check.sh: installed copy OK"
