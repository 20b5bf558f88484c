#!/bin/sh
# SPDX-License-Identifier: MIT
# mkiso.sh ISO KERNEL [KERNEL-ARGS [MODULE MODULE-ARGS]...]
#
# Builds a GRUB rescue image (BIOS, El Torito) that boots KERNEL with the
# multiboot (v1) protocol and loads each MODULE as a multiboot module, with
# GRUB's console on COM1 at 115200 baud and no menu delay. Bochs has no
# direct kernel loader, so this is how a bare-metal kernel gets into it.
#
# The kernel is installed as /boot/stub and the modules as /boot/l1,
# /boot/mod2, /boot/mod3 ...; each ARGS is split into words by GRUB and
# becomes that image's multiboot command line (GRUB 2.06 passes the words
# after the file name, joined by spaces, without the file name). Keep ARGS
# to plain words: GRUB re-quotes a word that contains a space, and its
# script syntax gives meaning to $ ; { } ' " and backslash, which are
# refused here. Needs grub-mkrescue (grub-pc-bin), xorriso and mtools.
set -eu

if [ $# -lt 2 ]; then
	echo "usage: $0 ISO KERNEL [KERNEL-ARGS [MODULE MODULE-ARGS]...]" >&2
	exit 2
fi
iso=$1 kernel=$2
kargs=${3-}
shift 2
[ $# -gt 0 ] && shift

GRUB_MKRESCUE=${GRUB_MKRESCUE:-grub-mkrescue}
for tool in "$GRUB_MKRESCUE" xorriso mformat; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "mkiso: $tool not found (install grub-pc-bin, xorriso and mtools)" >&2
		exit 1
	fi
done
if [ ! -d /usr/lib/grub/i386-pc ]; then
	echo "mkiso: /usr/lib/grub/i386-pc missing (install grub-pc-bin)" >&2
	exit 1
fi

plain() {
	case $1 in
	*[\$\;\{\}\'\"\\]*)
		echo "mkiso: arguments must be plain words: '$1'" >&2
		exit 2
		;;
	esac
}
plain "$kargs"

tree=$(mktemp -d "${TMPDIR:-/tmp}/mkiso.XXXXXX")
trap 'rm -rf "$tree"' EXIT INT TERM
mkdir -p "$tree/boot/grub"
cp "$kernel" "$tree/boot/stub"

cfg=$tree/boot/grub/grub.cfg
{
	echo "# SPDX-License-Identifier: MIT"
	echo "serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1"
	echo "terminal_input serial"
	echo "terminal_output serial"
	echo "set timeout=0"
	echo "set default=0"
	echo "menuentry 'bare-metal' {"
	printf '\tmultiboot /boot/stub'
	[ -n "$kargs" ] && printf ' %s' "$kargs"
	printf '\n'
	n=1
	while [ $# -gt 0 ]; do
		mod=$1
		margs=${2-}
		shift
		[ $# -gt 0 ] && shift
		plain "$margs"
		if [ $n -eq 1 ]; then name=l1; else name=mod$n; fi
		cp "$mod" "$tree/boot/$name"
		printf '\tmodule /boot/%s' "$name"
		[ -n "$margs" ] && printf ' %s' "$margs"
		printf '\n'
		n=$((n + 1))
	done
	printf '\tboot\n'
	echo "}"
} >"$cfg"

# Only the modules GRUB needs for this: a smaller image boots faster.
"$GRUB_MKRESCUE" -o "$iso" --compress=no \
	--install-modules="multiboot serial terminal normal configfile iso9660 biosdisk echo test" \
	--locales= --fonts= --themes= \
	"$tree" >"$tree.log" 2>&1 || {
	cat "$tree.log" >&2
	rm -f "$tree.log"
	exit 1
}
rm -f "$tree.log"
