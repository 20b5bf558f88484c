#!/bin/sh
# SPDX-License-Identifier: MIT
# Build libnest's Debian packages (libnest0, libnest-dev, nestctl,
# python3-libnest) with dpkg-buildpackage -us -uc -b from a copy of the
# tracked files (the tree itself may hold an in-tree build), then check them
# with lintian (no error, no warning). The packages land in OUTDIR
# (default ./deb). DEB_BUILD_OPTIONS passes through (nocheck skips make
# check inside the build). Needs the Build-Depends of debian/control,
# lintian and git: sh .ci/deps installs them.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$PWD/deb}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/libnest" "$out"
(cd "$src" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$tmp/libnest"
echo "deb: dpkg-buildpackage -us -uc -b (log: $out/build.log)"
if ! (cd "$tmp/libnest" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log"
	echo "deb: dpkg-buildpackage failed"
	exit 1
fi
cp "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo "$out"/
for d in "$out"/*.deb; do
	echo "deb: $(basename "$d")"
done
echo "deb: lintian"
lintian --fail-on error,warning --info "$tmp"/*.changes
echo "deb: ok"
