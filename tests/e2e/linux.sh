#!/bin/sh
# SPDX-License-Identifier: MIT
# End to end, Linux as L1: boots the bare-metal stub under QEMU with
# Debian's kernel as L1, whose KVM runs L2s through examples/kvm's minivmm
# (examples/baremetal/linux/README.md). Passes only on "e2e linux: PASS".
# The kernel and busybox come from Debian's archive (apt-get download into
# tests/e2e/linux-cache, kept until make clean). Skips when QEMU or apt-get is
# absent, or, outside CI (CI unset), when the packages cannot be fetched.
# E2E_LINUX_L2 picks the L2s: by default all three, the multiboot L2, L2
# Linux (about 3 minutes on an idle 2-core machine, up to 8 when other
# emulators share it) and the SVM test hypervisor with its guests at L3 and
# nested-state snapshots through libnest (10 to 20 s more);
# E2E_LINUX_L2=multiboot takes about 30 s, "multiboot svm" about 40 s.
# The stub moves L1's memory under all of it (E2E_LINUX_STUB_ARGS, the
# stub's command line, default "move=64": two of L1's pages swap host
# pages every 64 L0 exits, examples/baremetal/README.md).
# Then L1 Linux once more with two vCPUs (E2E_LINUX_SMP, default 2; empty:
# not run), the stub on two processors, L2s E2E_LINUX_SMP_L2 (default: those
# of E2E_LINUX_L2, L2 Linux then with two vCPUs of its own, about 2 minutes
# in all; "multiboot svm" about 60 s), the stub moving L1's memory as in the
# first run (each step with the other processor stopped).
qemu=${QEMU_SYSTEM_X86_64:-qemu-system-x86_64}
for tool in "$qemu" apt-get dpkg-deb; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool not found"
		exit 77
	fi
done
srcdir=${top_srcdir:-.}
out="$(pwd)/tests/e2e/linux"
cache="$(pwd)/tests/e2e/linux-cache"
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
# Keep make's directory and error lines out, so that the log ends with the
# verdict "e2e linux: ...".
${MAKE:-make} --no-print-directory -C "$srcdir/examples/baremetal" O="$out" QEMU="$qemu" \
	LINUX_CACHE="$cache" LINUX_L2="${E2E_LINUX_L2:-multiboot linux svm}" \
	LINUX_TIMEOUT=${LINUX_TIMEOUT:-1200} STUB_ARGS="${E2E_LINUX_STUB_ARGS-move=64}" run-linux >"$out/e2e.log" 2>&1
status=$?
# A run's log without make's own lines.
show_log() {
	grep -v -e '^make\(\[[0-9]*\]\)\{0,1\}: \(Entering\|Leaving\) directory' \
		-e '^make\(\[[0-9]*\]\)\{0,1\}: \*\*\* \[.*run-linux\] Error' "$1"
}
show_log "$out/e2e.log"
# The three-level run leaves L1's last snapshot (libnest's format, written
# in L1 from KVM's nested state): nestctl, built here, checks it and
# converts it to KVM's format.
nestctl=examples/nestctl/nestctl
if [ "$status" = 0 ] && [ -f "$out/l3.nst" ] && [ -x "$nestctl" ]; then
	if "$nestctl" state check "$out/l3.nst" >"$out/l3.check" 2>&1 &&
		"$nestctl" state convert --to kvm "$out/l3.nst" "$out/l3.kvm" >>"$out/l3.check" 2>&1 &&
		"$nestctl" state show "$out/l3.kvm" >>"$out/l3.check" 2>&1 &&
		grep -q '^flags: guest_mode gif_set$' "$out/l3.check"; then
		echo "linux.sh: nestctl checked L1's last snapshot ($out/l3.nst) and converted it to KVM's format"
	else
		cat "$out/l3.check"
		echo "e2e linux: FAIL (nestctl refused L1's last snapshot $out/l3.nst)"
		status=1
	fi
fi
smp=${E2E_LINUX_SMP-2}
if [ "$status" = 0 ] && [ -n "$smp" ]; then
	out2="$(pwd)/tests/e2e/linux-smp"
	mkdir -p "$out2" || exit 1
	${MAKE:-make} --no-print-directory -C "$srcdir/examples/baremetal" O="$out2" QEMU="$qemu" \
		LINUX_CACHE="$cache" LINUX_L2="${E2E_LINUX_SMP_L2:-${E2E_LINUX_L2:-multiboot linux svm}}" SMP="$smp" \
		LINUX_TIMEOUT=${LINUX_TIMEOUT:-1200} STUB_ARGS="${E2E_LINUX_STUB_ARGS-move=64}" \
		run-linux >"$out2/e2e.log" 2>&1
	status=$?
	show_log "$out2/e2e.log" | grep -v '^l1-snapshot: '
fi
exit $status
