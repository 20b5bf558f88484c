#!/bin/sh
# SPDX-License-Identifier: MIT
# Run the Python binding's tests against the library just built, and
# against nestctl over its samples (pytest when present, unittest otherwise).
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
NEST_LIBRARY=$(cd "$(dirname "$so")" && pwd)/$(basename "$so"); NESTCTL="$top_builddir/examples/nestctl/.libs/nestctl"
NESTCTL_SAMPLES=$(cd "$top_srcdir/examples/nestctl/samples" && pwd)
# nestctl's libtool wrapper would relink; run the binary on the built library
LD_LIBRARY_PATH="$(dirname "$NEST_LIBRARY")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
[ -x "$NESTCTL" ] || NESTCTL="$top_builddir/examples/nestctl/nestctl"
NESTCTL=$(cd "$(dirname "$NESTCTL")" && pwd)/$(basename "$NESTCTL")
export NEST_LIBRARY NESTCTL NESTCTL_SAMPLES LD_LIBRARY_PATH PYTHONPATH="$tmp"
export PYTHONDONTWRITEBYTECODE=1
cd "$tmp"
if python3 -c 'import pytest' 2>/dev/null; then
	python3 -m pytest -q -p no:cacheprovider test_libnest.py 2>&1
else
	python3 test_libnest.py -v 2>&1
fi
