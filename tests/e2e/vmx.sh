#!/bin/sh
# SPDX-License-Identifier: MIT
# End to end, VMX: boots the bare-metal L0 stub under Bochs (which emulates
# VMX with EPT), with an L1 hypervisor that runs L2 guests; libnest inside
# the stub makes the nesting work. Passes only on "e2e vmx: PASS" (see
# examples/baremetal/run-vmx.sh). Skips only when Bochs or the GRUB image
# tools are absent.
bochs=${BOCHS:-bochs}
for tool in "$bochs" ${GRUB_MKRESCUE:-grub-mkrescue} xorriso mformat; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool not found (install bochs, bochsbios, vgabios, grub-pc-bin, xorriso, mtools)"
		exit 77
	fi
done
if [ ! -d /usr/lib/grub/i386-pc ]; then
	echo "SKIP: /usr/lib/grub/i386-pc not found (install grub-pc-bin)"
	exit 77
fi
srcdir=${top_srcdir:-.}
out="$(pwd)/tests/e2e/baremetal-vmx"
mkdir -p "$out" || exit 1
# Keep make's directory and error lines out, so that the log ends with the
# verdict "e2e vmx: ...".
BOCHS="$bochs" ${MAKE:-make} --no-print-directory -C "$srcdir/examples/baremetal" O="$out" \
	BOCHS_TIMEOUT=${BOCHS_TIMEOUT:-300} run-vmx >"$out/e2e.log" 2>&1
status=$?
grep -v -e '^make\(\[[0-9]*\]\)\{0,1\}: \(Entering\|Leaving\) directory' \
	-e '^make\(\[[0-9]*\]\)\{0,1\}: \*\*\* \[.*run-vmx\] Error' "$out/e2e.log"
exit $status
