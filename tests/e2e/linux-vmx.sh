#!/bin/sh
# SPDX-License-Identifier: MIT
# End to end, Linux as L1 on VMX: boots the VMX stub under Bochs (from a
# GRUB image) with Debian's kernel as L1, whose kvm_intel runs, through
# examples/kvm's minivmm, the multiboot L2 and the VMX test hypervisor
# (examples/guests/vmx), whose guests run at L3: three levels on VMX
# (about 8 minutes; E2E_LINUX_VMX_L2=multiboot takes about 3). Passes
# only on L1's "l1: PASS" (examples/baremetal/linux/README.md). Skips when
# Bochs, the GRUB image tools or apt-get are absent, or, outside CI (CI
# unset), when the packages cannot be fetched.
bochs=${BOCHS:-bochs}
for tool in "$bochs" ${GRUB_MKRESCUE:-grub-mkrescue} xorriso mformat apt-get dpkg-deb; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool not found"
		exit 77
	fi
done
if [ ! -d /usr/lib/grub/i386-pc ]; then
	echo "SKIP: /usr/lib/grub/i386-pc not found (install grub-pc-bin)"
	exit 77
fi
srcdir=${top_srcdir:-.}
out="$(pwd)/tests/e2e/linux-vmx"
cache="$(pwd)/tests/e2e/linux-vmx-cache"
mkdir -p "$out" "$cache" || exit 1
if ! ls "$cache"/busybox-static_*.deb >/dev/null 2>&1 &&
	! (cd "$cache" && apt-get download busybox-static >/dev/null 2>&1); then
	if [ -z "${CI:-}" ]; then
		echo "SKIP: apt-get download busybox-static failed (no network, or run apt-get update)"
		exit 77
	fi
	echo "apt-get download busybox-static failed"
	exit 1
fi
BOCHS="$bochs" ${MAKE:-make} --no-print-directory -C "$srcdir/examples/baremetal" O="$out" \
	LINUX_CACHE="$cache" LINUX_L2="${E2E_LINUX_VMX_L2:-multiboot vmx}" LINUX_VMX_TIMEOUT=${LINUX_VMX_TIMEOUT:-1800} \
	run-linux-vmx >"$out/e2e.log" 2>&1
status=$?
grep -v -e '^make\(\[[0-9]*\]\)\{0,1\}: \(Entering\|Leaving\) directory' \
	-e '^make\(\[[0-9]*\]\)\{0,1\}: \*\*\* \[.*run-linux-vmx\] Error' "$out/e2e.log"
# The verdict line: L1's, with its figures (L3 checks, snapshot round trips,
# tampered snapshots refused), and Bochs' time.
l1=$(grep -a '^l1: \(PASS\|FAIL\)' "$out/run-linux-vmx.log" 2>/dev/null | tail -n 1 | tr -d '\r')
secs=$(sed -n 's/^run-bochs: Bochs ran \([0-9]*\)s.*/\1/p' "$out/e2e.log" | tail -n 1)
if [ $status = 0 ]; then
	figures=$(echo "$l1" | sed -n 's/^l1: PASS (\(.*\))$/\1; /p')
	echo "e2e linux-vmx: PASS (${figures}Bochs ${secs:-?} s)"
else
	echo "e2e linux-vmx: FAIL (${l1:-no verdict from L1}; Bochs ${secs:-?} s)"
fi
exit $status
