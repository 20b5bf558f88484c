#!/bin/sh
# SPDX-License-Identifier: MIT
# The core (lib/, arch/x86/) builds with -ffreestanding and links with
# -nostdlib and no undefined symbols, given only memcpy/memset/memcmp.
set -eu
: "${top_srcdir:=.}" "${CC:=cc}" "${NEST_CORE_SOURCES:?}"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
srcs=
for f in $NEST_CORE_SOURCES; do
	case "$f" in *.c) srcs="$srcs $top_srcdir/$f" ;; esac
done
# shellcheck disable=SC2086
$CC -std=c11 -O2 -ffreestanding -fno-stack-protector -fno-pic -mno-red-zone \
	-Wall -Wextra -Werror -Wno-unused-parameter \
	-nostdlib -static -Wl,--no-undefined -Wl,-e,0 \
	-DNEST_BUILDING_LIBRARY ${LIBBSD_OVERLAY_CFLAGS:-} \
	-I"$top_srcdir/include" -I"$top_srcdir/lib" -I"$top_srcdir/arch/x86" \
	-o "$tmp/core.elf" $srcs "$top_srcdir/tests/abi/freestanding_mem.c"
undef=$(${NM:-nm} -u "$tmp/core.elf" || true)
if [ -n "$undef" ]; then
	echo "check-freestanding: undefined symbols:"; echo "$undef"; exit 1
fi
echo "check-freestanding: $(echo $srcs | wc -w) core sources link with -nostdlib"
