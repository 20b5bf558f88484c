#!/bin/sh
# SPDX-License-Identifier: MIT
# run-bochs.sh ISO SERIAL_LOG TIMEOUT
#
# Boots ISO (from mkiso.sh) under Bochs with a VMX-capable Intel CPU, COM1
# written to SERIAL_LOG, for at most TIMEOUT seconds, then prints the serial
# log and judges it. Bochs exits with status 1 after a kernel writes
# "Shutdown" to port 0x8900, whatever the kernel's verdict, so the verdict
# comes from the serial log: the last line matching BOCHS_VERDICT (default
# "^e2e [^:]*: (PASS|FAIL)") must contain ": PASS". Exit status 0 only then.
#
# Environment: BOCHS (the binary), BOCHS_MEGS (RAM, default 256),
# BOCHS_CPU (vmx or svm, see bochsrc.sh), BOCHS_VERDICT, BOCHS_DISPLAY.
# Bochs' own log goes to SERIAL_LOG.bochs; its configuration to
# SERIAL_LOG.bochsrc.
set -u

if [ $# -ne 3 ]; then
	echo "usage: $0 ISO SERIAL_LOG TIMEOUT" >&2
	exit 2
fi
iso=$1 log=$2 limit=$3
here=$(cd "$(dirname "$0")" && pwd)
bochs=${BOCHS:-bochs}
verdict_re=${BOCHS_VERDICT:-'^e2e [^:]*: (PASS|FAIL)'}

if ! command -v "$bochs" >/dev/null 2>&1; then
	echo "run-bochs: $bochs not found (install bochs, bochsbios, vgabios)" >&2
	exit 1
fi
[ -r "$iso" ] || {
	echo "run-bochs: cannot read $iso" >&2
	exit 1
}

rc=$log.bochsrc
cmds=$log.cmds
blog=$log.bochs
rm -f "$log" "$blog"
# Debian builds Bochs with its debugger, which waits for a command at start:
# "c" (continue) runs the machine.
echo c >"$cmds"
sh "$here/bochsrc.sh" "$iso" "$log" "${BOCHS_MEGS:-256}" "${BOCHS_CPU:-vmx}" >"$rc" || exit 1

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

echo "run-bochs: Bochs boots $(basename "$iso") (time-out ${limit}s)"
start=$(date +%s)
timeout --foreground "$limit" "$bochs" -q -f "$rc" -rc "$cmds" </dev/null >"$blog" 2>&1 &
pid=$!
progress "$pid" "$log" Bochs
wait "$pid"
status=$?
elapsed=$(($(date +%s) - start))

# (GRUB's screen-control sequences left out)
[ -f "$log" ] && sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$log"
echo "run-bochs: Bochs ran ${elapsed}s (exit status $status)"
if [ $status -eq 124 ]; then
	echo "run-bochs: timed out after ${limit}s" >&2
fi
verdict=$(grep -aE "$verdict_re" "$log" 2>/dev/null | tail -n 1 | tr -d '\r')
case $verdict in
*": PASS"*)
	exit 0
	;;
"")
	echo "run-bochs: no verdict line in $log; Bochs' log ends:" >&2
	grep -av '^[0-9]*i\[' "$blog" | tail -n 15 >&2
	;;
*)
	echo "run-bochs: verdict: $verdict" >&2
	;;
esac
exit 1
