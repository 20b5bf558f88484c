#!/bin/sh
# SPDX-License-Identifier: MIT
# minivmm's answers to bad use, which need no /dev/kvm: each failure says
# what is wrong and exits with status 2, before KVM is asked anything.
vmm=${MINIVMM:-examples/kvm/minivmm}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
expect() { # expect NAME STATUS PATTERN -- ARGS...
	name=$1 want=$2 pattern=$3
	shift 4
	"$vmm" "$@" >"$tmp/out" 2>&1
	got=$?
	if [ "$got" = "$want" ] && grep -q -- "$pattern" "$tmp/out"; then
		echo "ok: $name"
	else
		echo "FAIL: $name (status $got, want $want; output:)"
		cat "$tmp/out"
		fails=$((fails + 1))
	fi
}
printf 'not a kernel\n' >"$tmp/text"
# A bzImage's setup header with an old protocol version (2.01).
dd if=/dev/zero of="$tmp/old-bz" bs=1024 count=8 2>/dev/null
printf '\125\252' | dd of="$tmp/old-bz" bs=1 seek=510 conv=notrunc 2>/dev/null
printf 'HdrS\001\002' | dd of="$tmp/old-bz" bs=1 seek=514 conv=notrunc 2>/dev/null
# A multiboot header (magic, flags 0, checksum) with nothing to load.
printf '\002\260\255\033\000\000\000\000\376\117\122\344' >"$tmp/mb-empty"
dd if=/dev/zero bs=1 count=64 2>/dev/null >>"$tmp/mb-empty"
# A multiboot a.out-kludge image: load at 1 MiB, entry there (a HLT).
a='\000\000\020\000'
printf "\002\260\255\033\000\000\001\000\376\117\121\344$a$a\000\000\000\000\000\000\000\000$a\364" \
	>"$tmp/mb-kludge"

expect usage 2 "usage: minivmm" --
expect help 0 "usage: minivmm" -- -h
expect missing-file 2 "cannot open $tmp/none" -- "$tmp/none"
expect directory 2 "is not a regular file" -- "$tmp"
expect not-a-kernel 2 "neither a bzImage nor a multiboot kernel" -- "$tmp/text"
expect two-initrds 2 "a bzImage takes one initrd" -- -i "$tmp/text" -i "$tmp/text" "$tmp/old-bz"
expect too-many-modules 2 "at most 4 files" -- -i "$tmp/text" -i "$tmp/text" -i "$tmp/text" \
	-i "$tmp/text" -i "$tmp/text" "$tmp/mb-kludge"
expect missing-module 2 "cannot open $tmp/none" -- -i "$tmp/none" "$tmp/mb-kludge"
expect unknown-feature 2 'cannot take away "foo"' -- -f max,+svm,-foo "$tmp/mb-kludge"
expect bad-memory 2 "give MiB between 4 and" -- -m 1 "$tmp/mb-empty"
expect bad-timeout 2 "give seconds" -- -t x "$tmp/mb-empty"
expect bad-vcpus 2 "give 1 to 8 vCPUs" -- -c 9 "$tmp/mb-empty"
expect zero-vcpus 2 "give 1 to 8 vCPUs" -- -c 0 "$tmp/mb-empty"
# Snapshots (-S): their options are checked before the image and KVM.
expect tamper-without-snapshots 2 "-x needs -S" -- -x kvm-asid "$tmp/mb-kludge"
expect unknown-tamper-class 2 "not a tamper class; the classes on SVM: kvm-flags" -- \
	-S "$tmp/snap" -x nope "$tmp/mb-kludge"
expect unknown-tamper-class-vmx 2 "; on VMX: kvm-flags kvm-format kvm-smm" -- \
	-S "$tmp/snap" -x nope "$tmp/mb-kludge"
expect zero-snapshots 2 "give a number of snapshots" -- -S "$tmp/snap" -N 0 "$tmp/mb-kludge"
expect bad-period 2 "give milliseconds" -- -S "$tmp/snap" -P 0 "$tmp/mb-kludge"
if [ -e /dev/kvm ]; then
	echo "skip: the checks that need no /dev/kvm (this machine has one)"
else
	expect no-dev-kvm 2 "no /dev/kvm: load kvm" -- "$tmp/mb-kludge"
	# A class of VMX only passes the option checks (the vendor is KVM's).
	expect vmx-tamper-class 2 "no /dev/kvm: load kvm" -- -S "$tmp/snap" -x kvm-pin-ctls \
		"$tmp/mb-kludge"
fi
expect old-protocol 2 "older than 2.10" -- "$tmp/old-bz"
expect empty-multiboot 2 "neither a bzImage, an ELF file nor" -- "$tmp/mb-empty"
[ "$fails" = 0 ] || { echo "minivmm-test: $fails failed"; exit 1; }
echo "minivmm-test: PASS"
