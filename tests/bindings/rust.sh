#!/bin/sh
# SPDX-License-Identifier: MIT
# Build and test the Rust binding (bindings/rust) against the library just
# built, offline, and against nestctl over its samples. Skipped when cargo
# is not installed (.ci/deps installs Debian's cargo and rustc).
set -eu
: "${top_srcdir:=.}" "${top_builddir:=.}"
CARGO=${CARGO:-cargo}
if ! command -v "$CARGO" >/dev/null 2>&1; then
	echo "cargo not found: skipping the Rust binding tests (sh .ci/deps installs it)"
	exit 77
fi
abs() { (cd "$1" && pwd); }
so=$(ls "$top_builddir"/.libs/libnest.so.* 2>/dev/null | head -n 1)
[ -n "$so" ] || { echo "no shared library built"; exit 1; }
libdir=$(abs "$(dirname "$so")")
mkdir -p "$top_builddir/bindings/rust"
LIBNEST_INCLUDE_DIR=$(abs "$top_srcdir/include")
LIBNEST_LIB_DIR=$libdir
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
NESTCTL="$(abs "$top_builddir/examples/nestctl")/.libs/nestctl"
[ -x "$NESTCTL" ] || NESTCTL="$(abs "$top_builddir/examples/nestctl")/nestctl"
export LIBNEST_INCLUDE_DIR LIBNEST_LIB_DIR LD_LIBRARY_PATH NESTCTL
"$CARGO" --version
"$CARGO" test --offline --manifest-path "$(abs "$top_srcdir/bindings/rust")/Cargo.toml" \
	--target-dir "$(abs "$top_builddir/bindings/rust")/target" 2>&1
