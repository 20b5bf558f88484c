#!/bin/sh
# SPDX-License-Identifier: MIT
# The dynamic symbol table of libnest.so must hold exactly the functions and
# objects listed in libnest.symbols: nothing outside the nest_ namespace
# leaks, and nothing is added or removed without updating the baseline.
set -eu
: "${top_srcdir:=.}" "${top_builddir:=.}" "${NM:=nm}"
so=$(ls "$top_builddir"/.libs/libnest.so.* 2>/dev/null | head -n 1)
if [ -z "$so" ]; then
	echo "check-symbols: no shared library built"; exit 1
fi
actual=$(mktemp); trap 'rm -f "$actual"' EXIT
$NM -D --defined-only "$so" | awk '$2 ~ /^[TDRB]$/ { sub(/@.*/, "", $3); print $3 }' |
	sort -u > "$actual"
if [ ! -s "$actual" ]; then echo "check-symbols: could not read the symbol table of $so"; exit 1; fi
bad=$(grep -v -E '^(nest_|NEST_|LIBNEST_)' "$actual" || true)
if [ -n "$bad" ]; then
	echo "check-symbols: symbols outside the nest_ namespace are exported:"; echo "$bad"; exit 1
fi
grep -v '^#' "$top_srcdir/tests/abi/libnest.symbols" | grep . | sort -u > "$actual.want"
if ! diff -u "$actual.want" "$actual"; then
	echo "check-symbols: exported symbols differ from tests/abi/libnest.symbols"
	echo "(an ABI change must be deliberate: update the baseline in the same commit)"
	rm -f "$actual.want"; exit 1
fi
rm -f "$actual.want"
echo "check-symbols: $(wc -l < "$actual") exported symbols match the baseline"
