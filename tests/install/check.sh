#!/bin/bash
# check.sh -- tests the installed copy of troupe, as a user would see it.
#
#   check.sh BUILDDIR SRCDIR [SANITIZE]
#
# Installs BUILDDIR into a scratch DESTDIR (meson install --destdir),
# builds SRCDIR/app.c with nothing but `pkg-config troupe` pointed at
# that DESTDIR, runs it against the installed shared library, and checks
# its output.  SANITIZE is meson's b_sanitize value: a sanitized library
# can only be linked by a sanitized program.  CC picks the compiler.
set -euo pipefail

builddir=$(cd "${1:?usage: check.sh BUILDDIR SRCDIR [SANITIZE]}" && pwd)
srcdir=$(cd "${2:?usage: check.sh BUILDDIR SRCDIR [SANITIZE]}" && pwd)
sanitize=${3:-none}
cc=${CC:-cc}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/troupe-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

echo "check.sh: meson install -C $builddir --destdir $dest"
meson install -C "$builddir" --no-rebuild --quiet --destdir "$dest"

pc=$(find "$dest" -name troupe.pc -path '*/pkgconfig/*' | head -n 1)
if [ -z "$pc" ]; then
	echo "check.sh: FAIL: no pkgconfig/troupe.pc was installed" >&2
	exit 1
fi
echo "check.sh: found ${pc#"$dest"}"

# The .pc file names the real prefix (e.g. /usr/local); the sysroot makes
# pkg-config put DESTDIR in front of troupe's -I and -L.  The system
# default path stays searched, for msgpack and libuv.
PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_PATH
export PKG_CONFIG_SYSROOT_DIR=$dest
cflags=$(pkg-config --cflags troupe)
libs=$(pkg-config --libs troupe)
echo "check.sh: pkg-config --cflags troupe: $cflags"
echo "check.sh: pkg-config --libs troupe: $libs"

case " $cflags " in
*" -I$dest"*) ;;
*)
	echo "check.sh: FAIL: --cflags does not point into DESTDIR" >&2
	exit 1
	;;
esac
libdir=$(pkg-config --variable=libdir troupe)
libdir=$dest${libdir#"$dest"}
if [ ! -e "$libdir/libtroupe.so" ]; then
	echo "check.sh: FAIL: $libdir/libtroupe.so not installed" >&2
	exit 1
fi

san=()
if [ "$sanitize" != none ] && [ -n "$sanitize" ]; then
	san=("-fsanitize=$sanitize")
fi

# 1. Shared, as `cc app.c $(pkg-config --cflags --libs troupe)`.
# shellcheck disable=SC2086 # word splitting of pkg-config output is wanted
$cc -std=c11 -Wall -Wextra -Werror "${san[@]}" -o "$tmp/app" \
    "$srcdir/app.c" $cflags $libs

# The header must be the installed one, not one found elsewhere.
# (Output is captured before grep -q: with pipefail, grep quitting early
# would fail the pipe.)
# shellcheck disable=SC2086
deps=$($cc -M "$srcdir/app.c" $cflags)
if ! grep -q "$dest/[^ ]*/troupe.h" <<<"$deps"; then
	echo "check.sh: FAIL: app.c did not include DESTDIR's troupe.h" >&2
	exit 1
fi

# The program must run against the installed library, not the build's.
export LD_LIBRARY_PATH=$libdir
deps=$(ldd "$tmp/app")
if ! grep -q "libtroupe.so.* => $libdir/" <<<"$deps"; then
	echo "check.sh: FAIL: app does not load libtroupe from $libdir:" >&2
	echo "$deps" >&2
	exit 1
fi
run_app() {
	local out
	out=$("$1")
	echo "$out"
	if [ "$(printf '%s\n' "$out" | tail -n 1)" != OK ]; then
		echo "check.sh: FAIL: $1 did not print OK" >&2
		exit 1
	fi
}
run_app "$tmp/app"

# 2. Static: libtroupe.a with `pkg-config --static`, which needs
# Libs.private (nng, pthread) to be right.
if [ -e "$libdir/libtroupe.a" ]; then
	slibs=$(pkg-config --static --libs troupe)
	slibs=${slibs/-ltroupe/$libdir/libtroupe.a}
	echo "check.sh: static: $slibs"
	# shellcheck disable=SC2086
	$cc -std=c11 -Wall -Wextra -Werror "${san[@]}" -o "$tmp/app-static" \
	    "$srcdir/app.c" $cflags $slibs
	deps=$(ldd "$tmp/app-static")
	if grep -q libtroupe <<<"$deps"; then
		echo "check.sh: FAIL: app-static loads a shared libtroupe" >&2
		exit 1
	fi
	run_app "$tmp/app-static"
fi
echo "check.sh: installed copy OK"
