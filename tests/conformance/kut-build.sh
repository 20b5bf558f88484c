#!/bin/sh
# SPDX-License-Identifier: MIT
# kut-build.sh KUT_DIR OUT
#
# Builds the nested suites of kvm-unit-tests (x86/svm.flat, x86/svm_npt.flat,
# x86/vmx.flat) from the source tree KUT_DIR in OUT/kut. kvm-unit-tests is
# GPL test code that libnest only runs as an independent L1: it is copied
# into the build folder, never into libnest's tree. KUT_DIR may be read-only.
#
# A snapshot may store its symbolic links as small files holding the link's
# target (x86/sieve.c holds "../common/sieve.c"): such files are turned
# back into links before the build.
set -eu
if [ $# -ne 2 ]; then
	echo "usage: $0 KUT_DIR OUT" >&2
	exit 2
fi
src=$1 out=$2
if [ ! -f "$src/x86/svm.c" ] || [ ! -f "$src/configure" ]; then
	echo "kut-build: no kvm-unit-tests tree at $src (set KUT_DIR)" >&2
	exit 1
fi
flats="x86/svm.flat x86/svm_npt.flat x86/vmx.flat"
kut=$out/kut
stamp=$out/kut.stamp
# Rebuild only when the source tree is newer than the last build.
if [ -f "$stamp" ] && [ -z "$(find "$src" -newer "$stamp" -print -quit)" ]; then
	exit 0
fi
rm -rf "$kut"
mkdir -p "$out"
cp -R "$src" "$kut"
chmod -R u+w "$kut"
# Restore links stored as files: one line naming an existing file nearby.
find "$kut" -type f -size -200c | while read -r f; do
	t=$(cat "$f")
	case $t in
	*[[:space:]]* | "") continue ;;
	esac
	[ "$(wc -l <"$f")" -eq 0 ] || continue
	[ -f "$(dirname "$f")/$t" ] && ln -sf "$t" "$f"
done
(cd "$kut" && ./configure >/dev/null && ${MAKE:-make} -s $flats) >"$out/kut-build.log" 2>&1 || {
	tail -n 30 "$out/kut-build.log" >&2
	echo "kut-build: the build of kvm-unit-tests failed (log: $out/kut-build.log)" >&2
	exit 1
}
touch "$stamp"
