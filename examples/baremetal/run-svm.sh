#!/bin/sh
# SPDX-License-Identifier: MIT
# [BOOT_LOG=FILE BOOT_STATUS=N] run-svm.sh QEMU TIMEOUT LOG -- QEMU-ARGS...
# Boots the stub and its L1 under QEMU (with a timeout), keeps the serial
# output in LOG, and judges the run. It passes only if QEMU exits through
# the debug port with the pass code (status 33), L1 reported at least one
# "check NAME: ok" line and no "check NAME: FAIL" line, the stub printed its
# figures, and, where L1 prints its own "e2e svm: PASS (N checks, M L2 exits
# reflected)" line, N and M agree with the checks seen and with the L2 exits
# the stub reflected. With BOOT_LOG, the log of an earlier run (status
# BOOT_STATUS from run-qemu.sh) must show checks and no failure as well, and
# its checks count in <n>. With EXPECT_CHECKS="name ...", each of those
# checks must be among the ones that passed. The last line is the verdict:
#   e2e svm: PASS (<n> checks, <m> L2 exits reflected)
#   e2e svm: FAIL (<why>)
qemu=$1 timeout=$2 log=$3
shift 3
[ "$1" = "--" ] && shift

# A first boot (the Makefile's) may have left its log and status: it counts.
boot_ok=0 boot_bad=0
if [ -n "$BOOT_LOG" ]; then
	tr -d '\r' <"$BOOT_LOG"
	boot_ok=$(tr -d '\r' <"$BOOT_LOG" | grep -c '^check .*: ok$')
	boot_bad=$(tr -d '\r' <"$BOOT_LOG" | grep -c '^check .*: FAIL')
fi

# progress PID FILE WHAT: while PID runs, a line every 15 s with the time
# and the checks FILE (the serial output so far) shows.
progress() {
	t0=$(date +%s) next=15
	while kill -0 "$1" 2>/dev/null; do
		sleep 1
		t=$(($(date +%s) - t0))
		if [ "$t" -ge "$next" ]; then
			n=$(grep -ac '^check .*: ok' "$2" 2>/dev/null)
			echo "  ... $3: ${t}s, ${n:-0} checks so far"
			next=$((next + 15))
		fi
	done
}

echo "run-svm: QEMU boots the stub with its L1 hypervisor (time-out ${timeout}s)"
start=$(date +%s)
timeout --foreground "$timeout" "$qemu" "$@" </dev/null >"$log.raw" 2>&1 &
pid=$!
progress "$pid" "$log.raw" QEMU
wait "$pid"
status=$?
tr -d '\r' <"$log.raw" >"$log" && rm -f "$log.raw"
cat "$log"
echo "run-svm: QEMU ran $(($(date +%s) - start))s"

fail() {
	echo "e2e svm: FAIL ($*)"
	exit 1
}

ok=$(grep -c '^check .*: ok$' "$log")
bad=$(grep -c '^check .*: FAIL' "$log")
reflected=$(sed -n 's/^stub: L0 exits .* L2 exits reflected \([0-9]*\),.*/\1/p' "$log" | tail -n 1)

if [ -n "$BOOT_LOG" ]; then
	[ "${BOOT_STATUS:-1}" = 0 ] || fail "the boot run with the plain L1 failed"
	[ "$boot_bad" -eq 0 ] || fail "$boot_bad checks of the boot run failed"
	[ "$boot_ok" -gt 0 ] || fail "the boot run ran no check"
fi
case $status in
33) ;;
124) fail "timed out after ${timeout}s" ;;
35) fail "the guest reported failure through the debug port" ;;
*) fail "QEMU exited with status $status" ;;
esac
[ "$bad" -eq 0 ] || fail "$bad of $((ok + bad)) checks failed"
[ "$ok" -gt 0 ] || fail "no check ran"
[ -n "$reflected" ] || fail "the stub printed no figures"
for c in $EXPECT_CHECKS; do
	grep -q "^check $c: ok\$" "$log" || fail "check $c did not run"
done
if grep -q '^e2e svm: FAIL' "$log"; then
	fail "L1 said: $(grep '^e2e svm: FAIL' "$log" | tail -n 1)"
fi
l1line=$(grep '^e2e svm: PASS' "$log" | tail -n 1)
if [ -n "$l1line" ]; then
	n=$(echo "$l1line" | sed -n 's/^e2e svm: PASS (\([0-9]*\) checks, \([0-9]*\) L2 exits reflected)$/\1/p')
	m=$(echo "$l1line" | sed -n 's/^e2e svm: PASS (\([0-9]*\) checks, \([0-9]*\) L2 exits reflected)$/\2/p')
	[ "$n" = "$ok" ] || fail "L1 counted $n checks, its log shows $ok"
	[ "$m" = "$reflected" ] || fail "L1 saw $m L2 exits, the stub reflected $reflected"
fi
echo "e2e svm: PASS ($((ok + boot_ok)) checks, $reflected L2 exits reflected)"
exit 0
