#!/bin/sh
# SPDX-License-Identifier: MIT
# End to end, SVM: boots the bare-metal L0 stub under QEMU (TCG emulates
# SVM), with an L1 hypervisor that runs L2 guests; libnest inside the stub
# makes the nesting work: with one vCPU, with two, and with one while L0
# moves L1's memory and takes part of it away. Passes only if every run
# ends on "e2e svm: PASS" (see examples/baremetal/run-svm.sh). Skips only
# when QEMU is absent.
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
# pass, and the stub must have moved pages while L2 ran. In the same run L0
# takes the top 2 MiB of L1's RAM away and gives it back, three times, while
# L2 runs ("shrink=N", examples/baremetal/stub/shrink.c, every 256 exits of
# L2's): L1's shrink-* checks must pass (L2 works on pages of the range,
# which L1 moves out when asked and back in when it returns), and the stub
# must have found no NPT02 leaf into the removed range. The shrink adds
# under a second.
shrink_checks="shrink-offered/npt shrink-l2-uses-the-range/npt shrink-vacated-on-request/npt
	shrink-l2-runs-while-removed/npt shrink-returned-zeroed/npt shrink-l2-back-in-the-range/npt"
EXPECT_CHECKS="$shrink_checks" ${MAKE:-make} --no-print-directory -C "$srcdir/examples/baremetal" \
	O="$out" QEMU="$qemu" STUB_ARGS="move=4 shrink=256" run-svm >"$out/e2e-move.log" 2>&1
status=$?
moved=$(sed -n 's/^stub: moved \([0-9]*\) pages .* (\([0-9]*\) of vmcb12\/vmcs12 or L1.s NPT12 root, \([0-9]*\) steps while L2 ran)$/\1 \2 \3/p' \
	"$out/e2e-move.log" | tail -n 1)
shrunk=$(sed -n 's/^stub: shrink: .* pages): [0-9]* requests and \([0-9]*\) returns while L2 ran, \([0-9]*\) removals at L1.s acknowledgement, \([0-9]*\) returns taken; NPT02 walked \([0-9]*\) times while removed ([0-9]* leaves), \([0-9]*\) into removed memory$/\2 \1 \3 \4 \5/p' \
	"$out/e2e-move.log" | tail -n 1)
verdict=$(grep '^e2e svm: ' "$out/e2e-move.log" | tail -n 1)
set -- $moved $shrunk
if [ "$status" != 0 ] || [ -z "$moved" ] || [ "$1" -lt 1000 ] || [ "$2" -eq 0 ] || [ "$3" -eq 0 ]; then
	cat "$out/e2e-move.log"
	echo "e2e svm: FAIL (with L1's pages moving: ${verdict:-no verdict}; moved: ${moved:-none})"
	exit 1
fi
if [ -z "$shrunk" ] || [ "$4" -lt 3 ] || [ "$5" -lt 3 ] || [ "$6" -lt 3 ] || [ "$7" -eq 0 ] || [ "$8" != 0 ]; then
	cat "$out/e2e-move.log"
	echo "e2e svm: FAIL (with L1's memory shrinking: ${shrunk:-no figures}, wanted 3 removals, returns and returns taken, NPT02 walked, no leaf into removed memory)"
	exit 1
fi
echo "e2e svm, L1's pages moving and its memory shrinking: ${verdict#e2e svm: } ($1 pages moved, $2 of vmcb12 or L1's NPT12 root, $3 moves while L2 ran; $4 removals and $5 returns of 2 MiB, NPT02 checked $7 times while removed)"
exit 0
