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
# which L1 moves out when asked and back in when it returns), NPT02 must
# have held leaves into the range when it went (libnest had to drop them),
# and the stub must have found none while the range was away. The shrink
# adds under a second here.
shrink_checks="shrink-offered/npt shrink-l2-uses-the-range/npt shrink-vacated-on-request/npt
	shrink-l2-runs-while-removed/npt shrink-returned-zeroed/npt shrink-l2-back-in-the-range/npt"
# shrink_figures LOG: "removals returns taken live large walks bad" from the
# stub's shrink line (see examples/baremetal/README.md), or nothing.
shrink_figures() {
	sed -n 's/^stub: shrink: .* pages): [0-9]* requests and \([0-9]*\) returns while L2 ran, \([0-9]*\) removals at L1.s acknowledgement (NPT02 then held \([0-9]*\) leaves into the range, \([0-9]*\) of them 2 MiB), \([0-9]*\) returns taken; NPT02 walked \([0-9]*\) times while removed ([0-9]* leaves), \([0-9]*\) into removed memory$/\2 \1 \5 \3 \4 \6 \7/p' \
		"$1" | tail -n 1
}
# shrink_ok FIGURES: three removals, returns and returns L1 took, leaves
# into the range at the removals, NPT02 walked while it was away, and no
# leaf into it then.
shrink_ok() {
	[ -n "$1" ] && set -- $1 && [ "$1" -ge 3 ] && [ "$2" -ge 3 ] && [ "$3" -ge 3 ] &&
		[ "$4" -gt 0 ] && [ "$6" -gt 0 ] && [ "$7" = 0 ]
}
EXPECT_CHECKS="$shrink_checks" ${MAKE:-make} --no-print-directory -C "$srcdir/examples/baremetal" \
	O="$out" QEMU="$qemu" STUB_ARGS="move=4 shrink=256" run-svm >"$out/e2e-move.log" 2>&1
status=$?
moved=$(sed -n 's/^stub: moved \([0-9]*\) pages .* (\([0-9]*\) of vmcb12\/vmcs12 or L1.s NPT12 root, \([0-9]*\) steps while L2 ran)$/\1 \2 \3/p' \
	"$out/e2e-move.log" | tail -n 1)
shrunk=$(shrink_figures "$out/e2e-move.log")
verdict=$(grep '^e2e svm: ' "$out/e2e-move.log" | tail -n 1)
set -- $moved
if [ "$status" != 0 ] || [ -z "$moved" ] || [ "$1" -lt 1000 ] || [ "$2" -eq 0 ] || [ "$3" -eq 0 ]; then
	cat "$out/e2e-move.log"
	echo "e2e svm: FAIL (with L1's pages moving: ${verdict:-no verdict}; moved: ${moved:-none})"
	exit 1
fi
if ! shrink_ok "$shrunk"; then
	cat "$out/e2e-move.log"
	echo "e2e svm: FAIL (with L1's memory shrinking and moving: figures ${shrunk:-none}; wanted 3 removals, returns and returns taken, leaves to drop, NPT02 walked, none into removed memory)"
	exit 1
fi
set -- $moved $shrunk
echo "e2e svm, L1's pages moving and its memory shrinking: ${verdict#e2e svm: } ($1 pages moved, $2 of vmcb12 or L1's NPT12 root, $3 moves while L2 ran; $4 removals and $5 returns of 2 MiB, $7 leaves into the range dropped, NPT02 checked $9 times while removed)"

# The shrink alone, about 2 s more: without moves, NPT01 still maps the
# range with one 2 MiB page at the first removal, and NPT02 then holds a
# 2 MiB leaf into it (L1's first window is one 2 MiB leaf of NPT12).
EXPECT_CHECKS="$shrink_checks" ${MAKE:-make} --no-print-directory -C "$srcdir/examples/baremetal" \
	O="$out" QEMU="$qemu" STUB_ARGS="shrink=256" run-svm >"$out/e2e-shrink.log" 2>&1
status=$?
shrunk=$(shrink_figures "$out/e2e-shrink.log")
verdict=$(grep '^e2e svm: ' "$out/e2e-shrink.log" | tail -n 1)
if [ "$status" != 0 ] || ! shrink_ok "$shrunk"; then
	cat "$out/e2e-shrink.log"
	echo "e2e svm: FAIL (with L1's memory shrinking: ${verdict:-no verdict}; figures ${shrunk:-none})"
	exit 1
fi
set -- $shrunk
echo "e2e svm, L1's memory shrinking: ${verdict#e2e svm: } ($1 removals and $2 returns of 2 MiB, $4 leaves into the range dropped, $5 of them 2 MiB, NPT02 checked $6 times while removed)"

# L1 with two vCPUs while L0 moves its memory and takes part of it away
# (move=4 shrink=256), a few seconds: each step stops the other processor
# first (smp_stop_others(), stub/smp.c); the SMP, balloon and shrink checks
# must pass, pages must have moved while L2 ran, and the shrink figures be
# as above.
EXPECT_CHECKS="$shrink_checks" ${MAKE:-make} --no-print-directory -C "$srcdir/examples/baremetal" \
	O="$out" QEMU="$qemu" STUB_ARGS="move=4 shrink=256" run-svm-smp >"$out/e2e-smp-move.log" 2>&1
status=$?
shrunk=$(shrink_figures "$out/e2e-smp-move.log")
moved=$(sed -n 's/^stub: moved \([0-9]*\) pages .* (\([0-9]*\) of vmcb12\/vmcs12 or L1.s NPT12 root, \([0-9]*\) steps while L2 ran)$/\1 \2 \3/p' \
	"$out/e2e-smp-move.log" | tail -n 1)
verdict=$(grep '^e2e svm: ' "$out/e2e-smp-move.log" | tail -n 1)
set -- $moved
if [ "$status" != 0 ] || [ -z "$moved" ] || [ "$1" -lt 1000 ] || [ "$3" -eq 0 ] ||
	! shrink_ok "$shrunk"; then
	cat "$out/e2e-smp-move.log"
	echo "e2e svm: FAIL (two vCPUs with L1's memory moving and shrinking: ${verdict:-no verdict}; moved: ${moved:-none}; shrink figures ${shrunk:-none})"
	exit 1
fi
set -- $moved $shrunk
echo "e2e svm, two vCPUs, L1's pages moving and its memory shrinking: ${verdict#e2e svm: } ($1 pages moved, $3 moves while L2 ran; $4 removals and $5 returns of 2 MiB)"
exit 0
