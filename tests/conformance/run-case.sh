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
# OUTCOME is pass (a summary, or on the stub the suite's exit code 0, and
# no failure), fail (failed checks), skip (every check skipped), timeout,
# or crash (no summary nor exit code: the VM stopped without the suite's
# verdict).
#
# Environment: KUT (the built kvm-unit-tests tree), STUB (stub.elf) for SVM,
# STUB_VMX (stub-vmx.elf) for VMX, CASE_TIMEOUT (seconds, default 90),
# CASE_SMP (vCPUs for the case instead of the suite's own count),
# QEMU, QEMU_MEM (MiB, default 1024), BOCHS, BOCHS_MEGS (default 2048),
# BOCHS_MEGS_EPT (for the ept_access cases, default 2560), CASE_STALL
# (seconds without serial output that end a Bochs run, default the
# timeout), SUMMARY_GRACE (seconds a Bochs run may go on after the summary,
# default 5), MKISO and BOCHSRC (the bare-metal example's Bochs scripts).
set -u
suite=$1 case=$2 mode=$3 logdir=$4
timeout=${CASE_TIMEOUT:-90}
# A case name may hold a slash (vmx's I/O_bitmap): not in file names.
log=$logdir/$suite.$(echo "$case" | tr / -).$mode.log
mkdir -p "$logdir"
env=$logdir/env
# The environment the suite's own runner gives it under TCG.
printf 'QEMU_ACCEL=tcg\nERRATA_FORCE=y\n' >"$env"

# The case's vCPU count, from the suite's own configuration
# (x86/unittests.cfg): the case's own section, else the section
# that runs the file's other cases (test_args a list of "-case"
# exclusions without this one), else 1. The stub runs L1 with as many.
smp=$(awk -v file="$suite.flat" -v want="$case" '
	function done() {
		if (f != file) return
		if (a == want) { own = s == "" ? 1 : s; return }
		n = split(a, w, " "); all = n > 0
		for (i = 1; i <= n; i++)
			if (substr(w[i], 1, 1) != "-" || w[i] == "-" want) all = 0
		if (all && gen == "") gen = s == "" ? 1 : s
	}
	/^\[/ { done(); f = ""; a = ""; s = ""; next }
	/^file *=/ { sub(/^file *= */, ""); f = $0 }
	/^test_args *=/ { sub(/^test_args *= */, ""); gsub(/"/, ""); a = $0 }
	/^smp *=/ { sub(/^smp *= */, ""); s = $0 }
	END { done(); print own != "" ? own : gen != "" ? gen : 1 }
' "$KUT/x86/unittests.cfg" 2>/dev/null)
smp=${CASE_SMP:-$smp}
start=$(date +%s)
case $suite in
svm | svm_npt)
	flat=$KUT/x86/$suite.flat
	qemu=${QEMU:-qemu-system-x86_64}
	# The suite's own configuration (x86/unittests.cfg) gives some cases a
	# section of their own with a CPU model (features taken away that the
	# case needs absent): that model, or -cpu max. Both modes get the same.
	cpu=$(awk -v file="$suite.flat" -v want="$case" '
		/^\[/ { f = ""; a = ""; p = ""; next }
		/^file *=/ { sub(/^file *= */, ""); f = $0 }
		/^test_args *=/ { sub(/^test_args *= */, ""); gsub(/"/, ""); a = $0 }
		/^qemu_params *=/ { sub(/^qemu_params *= */, ""); p = $0 }
		f == file && a == want && match(p, /-cpu [^ ]+/) {
			print substr(p, RSTART + 5, RLENGTH - 5); exit
		}' "$KUT/x86/unittests.cfg" 2>/dev/null)
	set -- -accel tcg -cpu "${cpu:-max}" -smp "${smp:-1}" -m "${QEMU_MEM:-1024}" -display none \
		-serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=4
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
	iso=${log%.log}.iso
	# The EPT access cases need more than 2 GiB.
	case $case in
	ept_access_*) megs=${BOCHS_MEGS_EPT:-2560} ;;
	*) megs=${BOCHS_MEGS:-2048} ;;
	esac
	# Bochs has no fw_cfg, where the suite reads the number of CPUs and
	# the RAM size: its environment gives both instead (NR_CPUS, MEMSIZE
	# in MiB), as for any machine without fw_cfg. Bochs gets as many
	# processors (its BIOS lists them in its MP table). On the stub, L1's RAM
	# is set (l1mem=) below what the stub's own pool and image leave, and
	# the stub offers posted interrupts ("posted"), which the suite's APIC
	# virtualization cases require (docs/conformance-vmx.md).
	# Nor has Bochs QEMU's test device (pc-testdev, which raises the IRQ
	# lines some cases need): TEST_DEVICE=0 says so, and those skip.
	env=$log.env
	l1mem=$((megs - 64))
	[ "$mode" = alone ] && l1mem=$megs
	printf 'QEMU_ACCEL=tcg\nERRATA_FORCE=y\nNR_CPUS=%s\nMEMSIZE=%s\nTEST_DEVICE=0\n' \
		"${smp:-1}" "$l1mem" >"$env"
	if [ "$mode" = alone ]; then
		sh "$MKISO" "$iso" "$KUT/x86/vmx.flat" "$case" "$env" ""
	else
		sh "$MKISO" "$iso" "$STUB_VMX" "l1mem=$l1mem posted" "$KUT/x86/vmx.flat" "vmx.flat $case" "$env" ""
	fi || {
		printf '%s\t%s\t%s\tcrash\t0\t0\t0\t0\t-\n' "$suite" "$case" "$mode"
		exit 0
	}
	serial=$log.serial
	rm -f "$serial"
	echo c >"$log.cmds" # Bochs' debugger waits for a command at start
	# An MSR Bochs does not model faults, as on a processor without it
	# (Bochs' default ignores the access): the suite's VM-entry MSR-load
	# case (invalid_msr) loads MSR 0, which L1's WRMSR must not accept.
	BOCHS_IGNORE_BAD_MSRS=0 BOCHS_CPUS=${smp:-1} sh "$BOCHSRC" "$iso" "$serial" "$megs" vmx >"$log.bochsrc" || exit 1
	${BOCHS:-bochs} -q -f "$log.bochsrc" -rc "$log.cmds" </dev/null >"$log.bochs" 2>&1 &
	pid=$!
	# Bochs powers off when the suite writes "Shutdown" to port 0x8900
	# (after port 0xf4, which Bochs lacks); the stub does it for its L1.
	# Watch the serial log: once the summary is there, give the stub a
	# moment for its figures and stop the VM; stop it too at the case's
	# timeout, or when the serial log has not grown for CASE_STALL seconds
	# (the suite waiting for an event that never comes).
	stall=${CASE_STALL:-$timeout}
	verdict=crash last=-1 quiet=0 after=-1 now=0
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		now=$(($(date +%s) - start))
		size=0
		[ -f "$serial" ] && size=$(wc -c <"$serial")
		if [ "$size" -eq "$last" ]; then quiet=$((quiet + 1)); else quiet=0 last=$size; fi
		if [ "$after" -lt 0 ] && grep -aq '^SUMMARY: ' "$serial" 2>/dev/null; then
			after=$now
		fi
		if [ "$after" -ge 0 ] && [ $((now - after)) -ge "${SUMMARY_GRACE:-5}" ]; then
			break
		elif [ "$now" -ge "$timeout" ] || [ "$quiet" -ge "$stall" ]; then
			verdict=timeout
			echo "run-case: stopped after ${now}s (serial output quiet for ${quiet}s)" >>"$log.bochs"
			break
		fi
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null
		sleep 1
		kill -9 "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	: >"$log"
	[ -f "$serial" ] && tr -d '\r' <"$serial" >"$log" && echo >>"$log"
	grep -a '^run-case: ' "$log.bochs" >>"$log"
	rm -f "$serial" "$iso" "$log.cmds" "$env"
	;;
*)
	echo "run-case: unknown suite '$suite'" >&2
	exit 2
	;;
esac
secs=$(($(date +%s) - start))

# -a: the serial logs hold GRUB's terminal escapes.
passes=$(grep -ac '^PASS: ' "$log")
# An unexpected pass (XPASS: a check the suite marks as a known failure
# passed) counts as a failure, as the suite's own summary counts it.
fails=$(grep -acE '^(FAIL|XPASS): ' "$log")
skips=$(grep -ac '^SKIP: ' "$log")
summary=$(grep -a '^SUMMARY: ' "$log" | tail -n 1)
# Bochs' exit status says nothing of the verdict: read the summary line.
if [ "$suite" = vmx ] && [ -n "$summary" ]; then
	tests=$(echo "$summary" | sed -n 's/^SUMMARY: \([0-9]*\) tests.*/\1/p')
	skipped=$(echo "$summary" | sed -n 's/.*, \([0-9]*\) skipped.*/\1/p')
	case $summary in
	*"unexpected failures"*) verdict=fail ;;
	*) [ "${tests:-0}" = "${skipped:-0}" ] && verdict=skip || verdict=pass ;;
	esac
fi
# The suite's exit code, as the stub saw it written to the debug-exit
# port (the last such line; none alone). A case may end without a summary
# (exit_monitor_from_l2_test calls exit(0) from L2): upstream's runner
# judges every case by this code alone, so it decides here where no
# summary came: 0 pass, 1 fail, 77 >> 1 skip, anything else crash.
# QEMU's own status is not enough alone: QEMU also exits with 1 when it
# cannot start.
code=$(sed -n 's/^stub: L1 wrote \(0x[0-9a-fA-F]*\|0\) to the debug-exit port$/\1/p' "$log" |
	tail -n 1)
if [ -z "$summary" ] && [ -n "$code" ] && [ "$mode" = stub ]; then
	case $((code)) in
	0) verdict=pass ;;
	1) verdict=fail ;;
	38) verdict=skip ;;
	*) verdict=crash ;;
	esac
fi
# A pass needs the suite's own summary or exit code, and no failed check.
if [ "$verdict" = pass ] && { { [ -z "$summary" ] && [ -z "$code" ]; } || [ "$fails" -gt 0 ]; }; then
	verdict=crash
fi
ratio=$(sed -n 's/^stub: L0 exits per reflected L2 exit: \([0-9.]*\).*/\1/p' "$log" | tail -n 1)
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$suite" "$case" "$mode" "$verdict" \
	"$passes" "$fails" "$skips" "$secs" "${ratio:--}"
