#!/bin/sh
# SPDX-License-Identifier: MIT
# run-case.sh SUITE CASE MODE LOGDIR
#
# Runs one case of a kvm-unit-tests nested suite in a VM of its own and
# prints one tab-separated result line:
#   SUITE CASE MODE OUTCOME PASSES FAILS SKIPS SECONDS L0-EXITS-PER-REFLECTED
# MODE is "alone" (the suite is L1 itself, on the emulator's own nested
# virtualization) or "stub" (the suite is L1 of the bare-metal stub, on
# libnest). SVM suites run under QEMU's TCG, the VMX suite under Bochs.
# OUTCOME is pass (a summary and no failure), fail (failed checks),
# skip (every check skipped), timeout, or crash (no summary: the VM
# stopped without the suite's verdict).
#
# Environment: KUT (the built kvm-unit-tests tree), STUB (stub.elf) for SVM,
# STUB_VMX (stub-vmx.elf) for VMX, CASE_TIMEOUT (seconds, default 90),
# QEMU, QEMU_MEM (MiB, default 1024), BOCHS_MEGS (default 2048), MKISO and
# RUN_BOCHS (the bare-metal example's Bochs scripts).
set -u
suite=$1 case=$2 mode=$3 logdir=$4
timeout=${CASE_TIMEOUT:-90}
log=$logdir/$suite.$case.$mode.log
mkdir -p "$logdir"
env=$logdir/env
# The environment the suite's own runner gives it under TCG.
printf 'QEMU_ACCEL=tcg\nERRATA_FORCE=y\n' >"$env"

start=$(date +%s)
case $suite in
svm | svm_npt)
	flat=$KUT/x86/$suite.flat
	qemu=${QEMU:-qemu-system-x86_64}
	set -- -accel tcg -cpu max -m "${QEMU_MEM:-1024}" -display none -serial stdio \
		-no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4
	if [ "$mode" = alone ]; then
		set -- "$@" -kernel "$flat" -append "$case" -initrd "$env"
	else
		set -- "$@" -kernel "$STUB" -initrd "$flat $case,$env"
	fi
	timeout -k 5 --foreground "$timeout" "$qemu" "$@" </dev/null >"$log.raw" 2>&1
	status=$?
	tr -d '\r' <"$log.raw" >"$log"
	rm -f "$log.raw"
	# isa-debug-exit: QEMU exits with (code << 1) | 1; the suite exits
	# with 0 (pass), 1 (failures) or 77 >> 1 (all skipped).
	case $status in
	1) verdict=pass ;;
	3) verdict=fail ;;
	77) verdict=skip ;;
	124 | 137) verdict=timeout ;;
	*) verdict=crash ;;
	esac
	;;
vmx)
	iso=$logdir/$suite.$case.$mode.iso
	if [ "$mode" = alone ]; then
		sh "$MKISO" "$iso" "$KUT/x86/vmx.flat" "$case" "$env" ""
	else
		sh "$MKISO" "$iso" "$STUB_VMX" "" "$KUT/x86/vmx.flat" "vmx.flat $case" "$env" ""
	fi || {
		printf '%s\t%s\t%s\tcrash\t0\t0\t0\t0\t-\n' "$suite" "$case" "$mode"
		exit 0
	}
	BOCHS_MEGS=${BOCHS_MEGS:-2048} BOCHS_VERDICT='^SUMMARY:' \
		sh "$RUN_BOCHS" "$iso" "$log.serial" "$timeout" >"$log.raw" 2>&1
	tr -d '\r' <"$log.raw" >"$log"
	rm -f "$log.raw" "$log.serial" "$iso"
	if grep -q 'run-bochs: timed out' "$log"; then
		verdict=timeout
	else
		verdict=crash
	fi
	;;
*)
	echo "run-case: unknown suite '$suite'" >&2
	exit 2
	;;
esac
secs=$(($(date +%s) - start))

passes=$(grep -c '^PASS: ' "$log")
fails=$(grep -c '^FAIL: ' "$log")
skips=$(grep -c '^SKIP: ' "$log")
summary=$(grep '^SUMMARY: ' "$log" | tail -n 1)
# Bochs' exit status says nothing of the verdict: read the summary line.
if [ "$suite" = vmx ] && [ -n "$summary" ]; then
	case $summary in
	*"unexpected failures"*) verdict=fail ;;
	*) [ "$passes" -eq 0 ] && [ "$skips" -gt 0 ] && verdict=skip || verdict=pass ;;
	esac
fi
# A pass needs the suite's own summary and no failed check.
if [ "$verdict" = pass ] && { [ -z "$summary" ] || [ "$fails" -gt 0 ]; }; then
	verdict=crash
fi
ratio=$(sed -n 's/^stub: L0 exits per reflected L2 exit: \([0-9.]*\).*/\1/p' "$log" | tail -n 1)
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$suite" "$case" "$mode" "$verdict" \
	"$passes" "$fails" "$skips" "$secs" "${ratio:--}"
