#!/bin/sh
# SPDX-License-Identifier: MIT
# `make demo`: the examples one after the other, each announced, with the
# bare-metal builds in short lines (V=1 shows the commands) and the emulator
# runs reporting progress; then a summary table of every verdict, its time,
# and the stub's figures. Outputs are kept in $DEMO_OUT.
# Environment (from examples/local.mk): srcdir, builddir, MAKE, QEMU, BOCHS,
# NEST_CORE_SOURCES, DEMO_OUT. Linux as L1 runs last when apt-get can fetch
# Debian's kernel (examples/baremetal/linux/README.md).
set -u
out=$DEMO_OUT
mkdir -p "$out"
rm -f "$out"/*.status "$out"/*.out "$out"/*.time
fail=0

# run NAME TITLE CMD...: announce, run (output shown and kept), time it
run() {
	name=$1 title=$2
	shift 2
	echo "== $title"
	start=$(date +%s)
	{
		"$@"
		echo $? >"$out/$name.status"
	} 2>&1 | tee "$out/$name.out"
	echo $(($(date +%s) - start)) >"$out/$name.time"
	[ "$(cat "$out/$name.status")" = 0 ] || fail=1
}

run minimal "examples/minimal: libnest linked through its public API" "$builddir/examples/minimal"
run vmx_demo "examples/vmx_demo: L1's VMX instructions on an in-memory backend" \
	"$builddir/examples/vmx_demo"
bm="$srcdir/examples/baremetal"
if command -v "$QEMU" >/dev/null 2>&1; then
	run svm "bare-metal SVM: the stub with libnest under QEMU, the SVM test hypervisor as L1" \
		$MAKE --no-print-directory -C "$bm" O="$builddir/tests/e2e/baremetal" QEMU="$QEMU" \
		NEST_CORE_SOURCES="$NEST_CORE_SOURCES" run-svm
else
	echo "demo: $QEMU not found: the bare-metal example needs it (sudo .ci/deps installs it)"
	fail=1
fi
if command -v "$BOCHS" >/dev/null 2>&1; then
	run vmx "bare-metal VMX: the stub with libnest under Bochs, the VMX test hypervisor as L1" \
		env BOCHS="$BOCHS" $MAKE --no-print-directory -C "$bm" \
		O="$builddir/tests/e2e/baremetal-vmx" NEST_CORE_SOURCES="$NEST_CORE_SOURCES" \
		BOCHS_TIMEOUT=300 run-vmx
else
	echo "demo: $BOCHS not found: the VMX bare-metal example needs it (sudo .ci/deps installs it)"
	fail=1
fi
if command -v "$QEMU" >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
	run linux "Linux as L1: Debian's kernel on the stub under QEMU, its KVM runs L2s (about 3 minutes)" \
		$MAKE --no-print-directory -C "$bm" O="$builddir/tests/e2e/linux" QEMU="$QEMU" \
		LINUX_CACHE="$builddir/tests/e2e/linux-cache" \
		NEST_CORE_SOURCES="$NEST_CORE_SOURCES" run-linux
fi

# The summary: one row per run, then the stub's figures of each nested run
# (exits per reflected L2 exit, cycles and backend calls per transition).
row() { # NAME LABEL VERDICT-PATTERN
	[ -f "$out/$1.status" ] || return 0
	if [ -n "$3" ]; then
		v=$(grep -E "$3" "$out/$1.out" | tail -n 1)
	else
		v=ok
	fi
	[ "$(cat "$out/$1.status")" = 0 ] || v="FAIL (exit status $(cat "$out/$1.status")) ${v#ok}"
	printf '  %-24s %-58s %4ss\n' "$2" "${v:-no verdict}" "$(cat "$out/$1.time")"
}
echo
echo "== demo summary"
printf '  %-24s %-58s %5s\n' run verdict time
row minimal "minimal" ""
row vmx_demo "vmx_demo" ""
row svm "SVM under QEMU" '^e2e svm: '
row vmx "VMX under Bochs" '^e2e vmx: '
row linux "Linux as L1 (SVM)" '^e2e linux: '
for f in "$builddir/tests/e2e/baremetal/run-svm.log:svm" \
	"$builddir/tests/e2e/baremetal-vmx/run-vmx.log.txt:vmx"; do
	log=${f%:*}
	[ -f "$out/${f##*:}.status" ] && [ -f "$log" ] || continue
	grep -E '^stub: (L0 exits|libnest: [0-9])' "$log" | sed "s/^stub: /  ${f##*:}: /"
done
exit $fail
