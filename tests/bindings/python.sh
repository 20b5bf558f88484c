#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the Python binding's tests against the library just built.
set -eu
: "${top_srcdir:=.}" "${top_builddir:=.}"
if ! command -v python3 >/dev/null 2>&1; then
	echo "python3 not found: skipping the Python binding tests"; exit 77
fi
so=$(ls "$top_builddir"/.libs/libnest.so.* 2>/dev/null | head -n 1)
[ -n "$so" ] || { echo "no shared library built"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# The package: sources from the tree, generated constants from the build.
cp -r "$top_srcdir/bindings/python/libnest" "$tmp/"
chmod -R u+w "$tmp/libnest"
cp "$top_builddir/bindings/python/libnest/_constants.py" "$tmp/libnest/"
cp "$top_srcdir/bindings/python/test_libnest.py" "$tmp/"
NEST_LIBRARY=$so PYTHONDONTWRITEBYTECODE=1 python3 "$tmp/test_libnest.py" -v 2>&1
