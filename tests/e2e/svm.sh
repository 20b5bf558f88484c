#!/bin/sh
# SPDX-License-Identifier: MIT
# End to end, SVM: boots the bare-metal L0 stub under QEMU (TCG emulates
# SVM), with an L1 hypervisor that runs L2 guests; libnest inside the stub
# makes the nesting work, once with one vCPU and once with two. Passes
# only if both runs end on "e2e svm: PASS" (see examples/baremetal/run-svm.sh).
# Skips only when QEMU is absent.
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
# invalidation and an IPI across them), about 3 s more; its verdict last.
${MAKE:-make} --no-print-directory -C "$srcdir/examples/baremetal" O="$out" QEMU="$qemu" \
	run-svm >"$out/e2e.log" 2>&1
status=$?
${MAKE:-make} --no-print-directory -C "$srcdir/examples/baremetal" O="$out" QEMU="$qemu" \
	run-svm-smp >>"$out/e2e.log" 2>&1 || status=1
grep -v -e '^make\(\[[0-9]*\]\)\{0,1\}: \(Entering\|Leaving\) directory' \
	-e '^make\(\[[0-9]*\]\)\{0,1\}: \*\*\* \[.*run-svm\(-smp\)\{0,1\}\] Error' "$out/e2e.log"
exit $status
