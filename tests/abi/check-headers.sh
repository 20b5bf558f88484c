#!/bin/sh
# SPDX-License-Identifier: MIT
# Every public header compiles on its own as C99 and C11 with strict
# warnings, and as C++ (extern "C" blocks, no C-only constructs).
set -eu
: "${top_srcdir:=.}" "${CC:=cc}" "${CXX:=c++}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0
for h in "$top_srcdir"/include/nest/*.h; do
	name=$(basename "$h")
	printf '#include <nest/%s>\nint nest_header_test_%s;\n' "$name" "$n" > "$tmp/t.c"
	for std in c99 c11; do
		$CC -std=$std -Wall -Wextra -Wpedantic -Werror -I"$top_srcdir/include" \
			-c "$tmp/t.c" -o "$tmp/t.o" || { echo "FAIL: $name as $std"; exit 1; }
	done
	cp "$tmp/t.c" "$tmp/t.cc"
	$CXX -std=c++11 -Wall -Wextra -Wpedantic -Werror -I"$top_srcdir/include" \
		-c "$tmp/t.cc" -o "$tmp/t.o" || { echo "FAIL: $name as C++"; exit 1; }
	n=$((n + 1))
done
echo "check-headers: $n public headers compile alone as C99, C11 and C++11"
