#!/bin/sh
# SPDX-License-Identifier: MIT
# End to end, VMX: boots the bare-metal L0 stub under Bochs (which emulates
# VMX with EPT), with an L1 hypervisor that runs L2 guests; libnest inside
# the stub makes the nesting work. Passes only on "e2e vmx: PASS" (see
# examples/baremetal/run-vmx.sh): with one processor, with L1's pages
# moving, and with two processors. Skips only when Bochs or the GRUB image
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
[ "$status" = 0 ] || exit $status

# The same run while L0 moves L1's memory under it (the stub's "move=N",
# examples/baremetal/stub/l1move.c): two pages of L1 swap host pages every
# 4 L0 exits, L1's current VMCS region among them; everything must still
# pass, and the stub must have moved pages while L2 ran (libnest re-points
# vmcs02 with nest_vmx_l1_map_changed()).
BOCHS="$bochs" ${MAKE:-make} --no-print-directory -C "$srcdir/examples/baremetal" O="$out" \
	BOCHS_TIMEOUT=${BOCHS_TIMEOUT:-300} STUB_ARGS="move=4" run-vmx >"$out/e2e-move.log" 2>&1
status=$?
moved=$(sed -n 's/^stub: moved \([0-9]*\) pages .* (\([0-9]*\) of vmcb12\/vmcs12 or L1.s NPT12 root, \([0-9]*\) steps while L2 ran)$/\1 \2 \3/p' \
	"$out/e2e-move.log" | tail -n 1)
verdict=$(grep '^e2e vmx: ' "$out/e2e-move.log" | tail -n 1)
set -- $moved
if [ "$status" != 0 ] || [ -z "$moved" ] || [ "$1" -lt 1000 ] || [ "$2" -eq 0 ] || [ "$3" -eq 0 ]; then
	cat "$out/e2e-move.log"
	echo "e2e vmx: FAIL (with L1's pages moving: ${verdict:-no verdict}; moved: ${moved:-none})"
	exit 1
fi
echo "e2e vmx, L1's pages moving: ${verdict#e2e vmx: } ($1 pages moved, $2 of L1's current VMCS region, $3 moves while L2 ran)"

# The same L1 on two processors (run-vmx-smp: Bochs' "cpu: count=2", the
# stub's AP, "shared-ept" on L1's command line), about 15 s: every check
# must pass, the SMP ones among them (L1's AP by INIT-SIPI-SIPI, L2 on both
# vCPUs at once, an INVEPT on the BSP stopping the AP's L2, an IPI to the
# AP's L2; examples/guests/vmx/smp.c), and the stub must have run L1 on
# both processors.
BOCHS="$bochs" ${MAKE:-make} --no-print-directory -C "$srcdir/examples/baremetal" O="$out" \
	BOCHS_TIMEOUT=${BOCHS_TIMEOUT:-300} run-vmx-smp >"$out/e2e-smp.log" 2>&1
status=$?
verdict=$(grep '^e2e vmx: ' "$out/e2e-smp.log" | tail -n 1)
if [ "$status" != 0 ] || ! grep -q '^stub: 2 processors up; L1 gets 2 vCPUs$' "$out/e2e-smp.log"; then
	cat "$out/e2e-smp.log"
	echo "e2e vmx: FAIL (two processors: ${verdict:-no verdict})"
	exit 1
fi
echo "e2e vmx, two processors: ${verdict#e2e vmx: } (smp-ap-start, smp-l2-both, smp-invept and smp-ipi among them)"
exit 0
