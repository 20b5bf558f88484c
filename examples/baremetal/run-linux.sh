#!/bin/sh
# SPDX-License-Identifier: MIT
# run-linux.sh QEMU TIMEOUT OUTDIR STUB BZIMAGE L1_CPIO [L2_CPIO]
# The Linux-as-L1 run: boots the stub under QEMU (TCG, SVM) with Linux as
# L1 (BZIMAGE, initramfs L1_CPIO: KVM's modules, minivmm, the L2s), keeps
# the serial output in OUTDIR/run-linux.log (with the host time of its
# milestones in OUTDIR/run-linux.times) and judges it. With L2_CPIO, L2
# Linux (BZIMAGE with L2_CPIO) first boots on QEMU alone, for comparison
# (OUTDIR/run-linux-l2-alone.log). Passes only if QEMU exits through the
# debug port with the pass code, every "check NAME" line is ok (and there
# are some), L1 says "l1: PASS" and the stub printed its figures. The last
# line is the verdict (STUB_ARGS in the environment: the stub's command
# line; with "move=N" the stub must have moved L1's pages):
#   e2e linux: PASS (<figures>)
#   e2e linux: FAIL (<why>)
qemu=$1 timeout=$2 out=$3 stub=$4 bzimage=$5 l1cpio=$6 l2cpio=${7:-}
flags="-accel tcg -cpu max -display none -serial stdio -no-reboot
	-device isa-debug-exit,iobase=0xf4,iosize=4"
mkdir -p "$out"

fail() {
	echo "e2e linux: FAIL ($*)"
	exit 1
}
now() { date +%s.%N; }
# Copies standard input to FILE, with the host time of each milestone
# line (one that matches the extended regular expression RE) in FILE.times.
# mawk (Debian's awk) reads a pipe in blocks unless told to read lines.
interactive=
awk -W version 2>/dev/null | grep -q mawk && interactive="-W interactive"
stamp() { # stamp FILE RE
	awk $interactive -v f="$1" -v re="$2" '{
		sub(/\r$/, "")
		print > f
		fflush(f)
		if ($0 ~ re) {
			cmd = "date +%s.%N"
			cmd | getline t
			close(cmd)
			print t, $0 > (f ".times")
			fflush(f ".times")
		}
	}'
}
at() { # at FILE PREFIX: the host time of the first milestone that starts with PREFIX
	awk -v p="$2" 'index(substr($0, index($0, " ") + 1), p) == 1 { print $1; exit }' "$1.times"
}
secs() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "?"; else printf "%.1f", b - a }'; }

l2alone="not run"
if [ -n "$l2cpio" ]; then
	log="$out/run-linux-l2-alone.log"
	rm -f "$log" "$log.times"
	t0=$(now)
	timeout --foreground "$timeout" "$qemu" $flags -m 256 -kernel "$bzimage" -initrd "$l2cpio" \
		-append "console=ttyS0 panic=-1" </dev/null 2>&1 | stamp "$log" '^l2: '
	grep -q '^l2: PASS' "$log" || fail "L2 Linux alone on QEMU did not pass (see $log)"
	l2alone="$(secs "$t0" "$(at "$log" 'l2: Linux ')") s"
	echo "run-linux: L2 Linux alone on QEMU reached its init in $l2alone" \
		"($(sed -n 's/^l2: Linux .* up at \([0-9.]*\) s.*/\1/p' "$log") s by its clock)"
fi

log="$out/run-linux.log"
rm -f "$log"
t0=$(now)
# LINUX_SMP=n: the machine has n processors and the stub gives L1 n vCPUs.
smp=${LINUX_SMP:+-smp $LINUX_SMP}
( timeout --foreground "$timeout" "$qemu" $flags $smp -m 1024 -kernel "$stub" -append "${STUB_ARGS:-}" \
	-initrd "$bzimage console=ttyS0 panic=-1,$l1cpio" </dev/null 2>&1
  echo "run-linux: QEMU status $?" ) |
	stamp "$log" '^(stub: starting L1|l1: Linux |l1: KVM ready|l1: starting the |l2-linux: l2: Linux |l2-linux: l2: done|l2-mb: hello: PASS|l2-svm: e2e svm: |l1: done)'
t1=$(now)
cat "$log"
echo "run-linux: $(secs "$t0" "$t1") s under QEMU"

status=$(sed -n 's/^run-linux: QEMU status \([0-9]*\)$/\1/p' "$log")
# L1's checks, and L2's as L1 passed them on ("l2-linux: check ...").
ok=$(grep -Ec '^(l2-[a-z]+: )?check .*: ok$' "$log")
bad=$(grep -Ec '^(l2-[a-z]+: )?check .*: FAIL' "$log")
exits=$(sed -n 's/^stub: L0 exits \([0-9]*\) .*/\1/p' "$log" | tail -n 1)
reflected=$(sed -n 's/^stub: L0 exits .* L2 exits reflected \([0-9]*\),.*/\1/p' "$log" | tail -n 1)
per=$(sed -n 's/^stub: L0 exits per reflected L2 exit: \(.*\)$/\1/p' "$log" | tail -n 1)
case $status in
33) ;;
124) fail "timed out after ${timeout}s" ;;
35) fail "L1 reported failure through the debug port" ;;
*) fail "QEMU exited with status $status" ;;
esac
[ "$bad" -eq 0 ] || fail "$bad of $((ok + bad)) checks failed"
[ "$ok" -gt 0 ] || fail "no check ran"
grep -q '^l1: PASS' "$log" || fail "L1 did not say PASS"
[ -n "$reflected" ] || fail "the stub printed no figures"

cpus=$(sed -n 's/^l1: Linux .*, \([0-9]*\) CPU(s),.*/\1/p' "$log" | head -n 1)
[ "${cpus:-0}" -eq "${LINUX_SMP:-1}" ] || fail "L1 Linux runs with ${cpus:-?} CPUs, not ${LINUX_SMP:-1}"
l1boot=$(secs "$(at "$log" 'stub: starting L1')" "$(at "$log" 'l1: Linux ')")
figures="$ok checks; L1 with $cpus vCPU(s), boot ${l1boot} s"
if grep -q '^l2-linux: l2: Linux ' "$log"; then
	l2boot=$(secs "$(at "$log" 'l1: starting the Linux L2')" "$(at "$log" 'l2-linux: l2: Linux ')")
	figures="$figures, L2 Linux boot ${l2boot} s (QEMU alone: $l2alone)"
fi
if grep -q '^l2-mb: hello: PASS' "$log"; then
	mb=$(secs "$(at "$log" 'l1: starting the multiboot L2')" "$(at "$log" 'l2-mb: hello: PASS')")
	figures="$figures, multiboot L2 ${mb} s"
fi
if grep -q '^l1-snapshot: ' "$log"; then
	# The last snapshot minivmm wrote in L1, in libnest's format.
	sed -n 's/^l1-snapshot: //p' "$log" | base64 -d >"$out/l3.nst" ||
		fail "the snapshot's base64 in the log does not decode"
	want=$(sed -n 's/^l1: snapshot \([0-9a-f]*\)$/\1/p' "$log")
	[ "$(sha256sum <"$out/l3.nst" | cut -d' ' -f1)" = "$want" ] ||
		fail "the snapshot copied from L1 differs from its checksum"
	echo "run-linux: L1's last snapshot in $out/l3.nst ($(wc -c <"$out/l3.nst") bytes)"
fi
if grep -q '^l2-svm: e2e svm: PASS' "$log"; then
	l3=$(secs "$(at "$log" 'l1: starting the SVM L2')" "$(at "$log" 'l2-svm: e2e svm: ')")
	l3checks=$(sed -n 's/^l2-svm: e2e svm: PASS (\([0-9]*\) checks, \([0-9]*\) L2 exits.*/\1 checks, \2 L3 exits/p' "$log")
	snaps=$(sed -n 's/^l2-svm: minivmm: snapshots: \([0-9]*\) round trips in guest mode (KVM \([0-9]*\) bytes, libnest \([0-9]*\) bytes, \([0-9]*\) us each.*, \([0-9]*\) tampered refused.*/\1 snapshot round trips (KVM \2 bytes, libnest \3 bytes, \4 us each), \5 tampered refused/p' "$log")
	figures="$figures, L3 under the SVM L2 ${l3} s ($l3checks; $snaps)"
fi
case " ${STUB_ARGS:-} " in
*" move="*)
	moved=$(sed -n 's/^stub: moved \([0-9]*\) pages of L1.s memory in [0-9]* steps (\([0-9]*\) of vmcb12\/vmcs12 or L1.s NPT12 root, \([0-9]*\) steps while L2 ran).*/\1 \2 \3/p' "$log" | tail -n 1)
	[ -n "$moved" ] && [ "${moved%% *}" -gt 0 ] || fail "the stub moved none of L1's pages"
	set -- $moved
	mvs=$(secs "$(at "$log" 'stub: starting L1')" "$t1")
	figures="$figures; L0 moved $1 pages of L1 (vmcb12/NPT12 roots $2, $3 moves while L2 ran; $(awk -v n="$1" -v s="$mvs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }') pages/s)"
	;;
esac
echo "e2e linux: PASS ($figures; L0 exits $exits, L2 exits reflected $reflected, L0 exits per reflected exit $per)"
exit 0
