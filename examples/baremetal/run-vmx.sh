#!/bin/sh
# SPDX-License-Identifier: MIT
# [BOOT_LOG=FILE BOOT_STATUS=N] run-vmx.sh ISO LOG TIMEOUT
# Boots the VMX stub and its L1 (the GRUB image ISO) under Bochs with a
# timeout (bochs/run-bochs.sh), keeps the serial output in LOG and judges
# the run. With BOOT_LOG, the serial log of an earlier boot run (status
# BOOT_STATUS from run-bochs.sh) must show checks and no failure as well,
# and its checks count in <n>. It passes only if L1 reported at least one
# "check NAME: ok" line
# and no "check NAME: FAIL" line, L1's own verdict is "e2e vmx: PASS (N
# checks, M L2 exits reflected)" with N the checks seen, the stub printed
# its figures, and the stub reflected M L2 exits. With EXPECT_CHECKS="name
# ...", each of those checks must be among the ones that passed. The last
# line is the verdict:
#   e2e vmx: PASS (<n> checks, <m> L2 exits reflected)
#   e2e vmx: FAIL (<why>)
iso=$1 log=$2 timeout=$3
here=$(cd "$(dirname "$0")" && pwd)

# A first boot (the Makefile's) may have left its log and status: it counts.
boot_ok=0 boot_bad=0
if [ -n "${BOOT_LOG:-}" ]; then
	tr -d '\r' <"$BOOT_LOG"
	boot_ok=$(tr -d '\r' <"$BOOT_LOG" | grep -c '^check .*: ok$')
	boot_bad=$(tr -d '\r' <"$BOOT_LOG" | grep -c '^check .*: FAIL')
fi

start=$(date +%s)
# run-bochs.sh's progress lines show as they come; its output is kept too.
sh "$here/bochs/run-bochs.sh" "$iso" "$log" "$timeout" 2>&1 | tr -d '\r' | tee "$log.run"
elapsed=$(($(date +%s) - start))

fail() {
	echo "e2e vmx: FAIL ($*)"
	exit 1
}

if [ -n "${BOOT_LOG:-}" ]; then
	[ "${BOOT_STATUS:-1}" = 0 ] || fail "the boot run with the plain L1 failed"
	[ "$boot_bad" -eq 0 ] || fail "$boot_bad checks of the boot run failed"
	[ "$boot_ok" -gt 0 ] || fail "the boot run ran no check"
fi
[ -f "$log" ] || fail "Bochs wrote no serial log"
tr -d '\r' <"$log" >"$log.txt"
ok=$(grep -c '^check .*: ok$' "$log.txt")
bad=$(grep -c '^check .*: FAIL' "$log.txt")
reflected=$(sed -n 's/^stub: L0 exits .* L2 exits reflected \([0-9]*\),.*/\1/p' "$log.txt" | tail -n 1)
l1line=$(grep '^e2e vmx: ' "$log.txt" | tail -n 1)

case $l1line in
"e2e vmx: PASS ("*) ;;
"") fail "no verdict from L1 within ${timeout}s" ;;
*) fail "the run said: ${l1line#e2e vmx: }" ;;
esac
[ "$bad" -eq 0 ] || fail "$bad of $((ok + bad)) checks failed"
[ "$ok" -gt 0 ] || fail "no check ran"
[ -n "$reflected" ] || fail "the stub printed no figures"
for c in ${EXPECT_CHECKS:-}; do
	grep -q "^check $c: ok\$" "$log.txt" || fail "check $c did not run"
done
n=$(echo "$l1line" | sed -n 's/^e2e vmx: PASS (\([0-9]*\) checks, \([0-9]*\) L2 exits reflected)$/\1/p')
m=$(echo "$l1line" | sed -n 's/^e2e vmx: PASS (\([0-9]*\) checks, \([0-9]*\) L2 exits reflected)$/\2/p')
[ "$n" = "$ok" ] || fail "L1 counted $n checks, its log shows $ok"
[ "$m" = "$reflected" ] || fail "L1 saw $m L2 exits, the stub reflected $reflected"
echo "run-vmx: ${elapsed}s under Bochs"
echo "e2e vmx: PASS ($((ok + boot_ok)) checks, $reflected L2 exits reflected)"
exit 0
