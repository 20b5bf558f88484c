#!/bin/sh
# SPDX-License-Identifier: MIT
# End to end, SVM: boots the bare-metal L0 stub under QEMU (TCG emulates
# SVM), with an L1 hypervisor that runs L2 guests; libnest inside the stub
# makes the nesting work: with one vCPU, with two, and with one while L0
# moves L1's memory. Passes only if every run ends on "e2e svm: PASS" (see
# examples/baremetal/run-svm.sh). Skips only when QEMU is absent.
qemu=${QEMU_SYSTEM_X86_64:-qemu-system-x86_64}
if ! command -v "$qemu" >/dev/null 2>&1; then
	echo "SKIP: qemu-system-x86_64 not found (install the qemu-system-x86 package)"
	exit 77
fi
srcdir=${top_srcdir:-.}
out="$(pwd)/tests/e2e/baremetal"
mkdir -p "$out" || exit 1
# make's own "Entering/Leaving directory" lines, and its "Error" line for
# run-svm, would follow the verdict: keep them out, so that the log ends
# with "e2e svm: ...".
# Then the same L1 with two vCPUs (run-svm-smp: L1's AP, L2 on both, an
# invalidation and an IPI across them), about 3 s more.
${MAKE:-make} --no-print-directory -C "$srcdir/examples/baremetal" O="$out" QEMU="$qemu" \
	run-svm >"$out/e2e.log" 2>&1
status=$?
${MAKE:-make} --no-print-directory -C "$srcdir/examples/baremetal" O="$out" QEMU="$qemu" \
	run-svm-smp >>"$out/e2e.log" 2>&1 || status=1
grep -v -e '^make\(\[[0-9]*\]\)\{0,1\}: \(Entering\|Leaving\) directory' \
	-e '^make\(\[[0-9]*\]\)\{0,1\}: \*\*\* \[.*run-svm\(-smp\)\{0,1\}\] Error' "$out/e2e.log"
[ "$status" = 0 ] || exit $status

# The same run while L0 moves L1's memory under it (the stub's "move=N",
# examples/baremetal/stub/l1move.c): two pages of L1 swap host pages every
# 4 L0 exits, vmcb12 and L1's NPT12 root among them; everything must still
# pass, and the stub must have moved pages while L2 ran.
${MAKE:-make} --no-print-directory -C "$srcdir/examples/baremetal" O="$out" QEMU="$qemu" \
	STUB_ARGS="move=4" run-svm >"$out/e2e-move.log" 2>&1
status=$?
moved=$(sed -n 's/^stub: moved \([0-9]*\) pages .* (\([0-9]*\) of vmcb12\/vmcs12 or L1.s NPT12 root, \([0-9]*\) steps while L2 ran)$/\1 \2 \3/p' \
	"$out/e2e-move.log" | tail -n 1)
verdict=$(grep '^e2e svm: ' "$out/e2e-move.log" | tail -n 1)
set -- $moved
if [ "$status" != 0 ] || [ -z "$moved" ] || [ "$1" -lt 1000 ] || [ "$2" -eq 0 ] || [ "$3" -eq 0 ]; then
	cat "$out/e2e-move.log"
	echo "e2e svm: FAIL (with L1's pages moving: ${verdict:-no verdict}; moved: ${moved:-none})"
	exit 1
fi
echo "e2e svm, L1's pages moving: ${verdict#e2e svm: } ($1 pages moved, $2 of vmcb12 or L1's NPT12 root, $3 moves while L2 ran)"
exit 0
