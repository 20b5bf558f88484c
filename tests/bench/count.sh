#!/bin/sh
# SPDX-License-Identifier: MIT
# count.sh BENCHDIR [N]
# Instructions per operation on the nested hot paths, counted by callgrind
# (exact, unlike times): bench_vmx and bench_svm run "trips N" (N round
# trips and nothing else) with collection switched on only inside one
# libnest entry point at a time. Each figure is given whole and without
# the simulated backend's own instructions (the functions of tests/support,
# whose cost stands for L0's: a hash lookup per VMCS access, a memcpy per
# L1 read), which is libnest's own work.
#   VMX VMRESUME:  (Ir(N) - Ir(0)) / N inside nest_vmx_l1_exit (Ir(0) is
#                  the set-up: VMXON, VMPTRLD, the VMLAUNCH)
#   VMX exit:      Ir(N) / N inside nest_vmx_l2_exit (a reflected CPUID)
#   VMX round trip on a shadow VMCS: the VMRESUME and the exit as above,
#                  with NEST_BENCH_SHADOW=1 (L0 gives L1 VMCS shadowing)
#   VMX VMLAUNCH:  (Ir(N) - Ir(0)) / N inside nest_vmx_l1_exit of
#                  "bench_vmx launches N" (each of a fresh vmcs02: every
#                  entry check, the full merge, every field written)
#   SVM VMRUN:     Ir(N) / N inside nest_svm_l1_exit (L1's MSRPM and IOPM)
#   SVM #VMEXIT:   Ir(N) / N inside nest_svm_l2_exit (a reflected CPUID)
# L0 tracks writes to L1's bitmaps (as make bench's timed figures).
set -u
dir=$1 n=${2:-1000}
if ! command -v valgrind >/dev/null 2>&1 || ! command -v callgrind_annotate >/dev/null 2>&1; then
	echo "count.sh: valgrind is not installed: no instruction counts"
	exit 0
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# measure BIN FUNCTION N [MODE]: "ALL BACKEND" instructions collected inside
# FUNCTION while BIN runs "MODE N" (MODE: trips, the default, or launches).
measure() {
	mode=${4:-trips}
	out="$tmp/cg.$2.$3.$mode"
	valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
		--toggle-collect="$2" "$dir/$1" "$mode" "$3" >/dev/null 2>&1 || {
		echo "count.sh: $1 $mode $3 failed under valgrind" >&2
		exit 1
	}
	callgrind_annotate --auto=no --inclusive=no --threshold=100 "$out" 2>/dev/null | awk '
		function num(s) { gsub(/,/, "", s); return s + 0 }
		/PROGRAM TOTALS/ { all = num($1) }
		/^ *[0-9,]+ .* [^ ]*tests\/support\/[^ ]*:[^ ]+ / { be += num($1) }
		END { printf "%d %d\n", all, be }'
}

# per VALUES...: the difference (or the value) divided by N, "ALL (OWN)".
row() { # row LABEL ALL BE [ALL0 BE0]
	awk -v l="$1" -v a="$2" -v b="$3" -v a0="${4:-0}" -v b0="${5:-0}" -v n="$n" 'BEGIN {
		all = (a - a0) / n; own = all - (b - b0) / n
		printf "%-44s %8.0f %8.0f\n", l, all, own
	}'
}

set -- $(measure bench_vmx nest_vmx_l1_exit "$n") $(measure bench_vmx nest_vmx_l1_exit 0)
vr_a=$1 vr_b=$2 vr_a0=$3 vr_b0=$4
set -- $(measure bench_vmx nest_vmx_l2_exit "$n")
vx_a=$1 vx_b=$2
set -- $(measure bench_vmx nest_vmx_l1_exit "$n" launches) $(measure bench_vmx nest_vmx_l1_exit 0 launches)
vl_a=$1 vl_b=$2 vl_a0=$3 vl_b0=$4
# The same round trip with L0 giving L1 a shadow VMCS (NEST_BENCH_SHADOW).
export NEST_BENCH_SHADOW=1
set -- $(measure bench_vmx nest_vmx_l1_exit "$n") $(measure bench_vmx nest_vmx_l1_exit 0)
sh_a=$(($1 - $3)) sh_b=$(($2 - $4))
set -- $(measure bench_vmx nest_vmx_l2_exit "$n")
sh_a=$((sh_a + $1)) sh_b=$((sh_b + $2))
unset NEST_BENCH_SHADOW
set -- $(measure bench_svm nest_svm_l1_exit "$n")
sr_a=$1 sr_b=$2
set -- $(measure bench_svm nest_svm_l2_exit "$n")
sx_a=$1 sx_b=$2

echo "instructions per operation (callgrind, $n round trips)      all   libnest"
row "VMX VMRESUME, nothing changed" "$vr_a" "$vr_b" "$vr_a0" "$vr_b0"
row "VMX reflected exit (CPUID)" "$vx_a" "$vx_b"
row "VMX round trip" "$((vr_a - vr_a0 + vx_a))" "$((vr_b - vr_b0 + vx_b))"
row "VMX VMLAUNCH, every entry check" "$vl_a" "$vl_b" "$vl_a0" "$vl_b0"
row "VMX round trip, L1 on a shadow VMCS" "$sh_a" "$sh_b"
row "SVM VMRUN with L1's MSRPM and IOPM" "$sr_a" "$sr_b"
row "SVM reflected #VMEXIT (CPUID)" "$sx_a" "$sx_b"
row "SVM round trip" "$((sr_a + sx_a))" "$((sr_b + sx_b))"
