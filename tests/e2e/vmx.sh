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
exit 0
