#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh ARCH OUT
#
# The conformance run: every case of kvm-unit-tests' nested suites for ARCH
# (svm: svm.flat and svm_npt.flat under QEMU's TCG; vmx: vmx.flat under
# Bochs), each twice in a VM of its own: on the emulator alone (the suite is
# L1) and as L1 of the bare-metal stub (libnest nests it). Writes
# OUT/ARCH-results.tsv (run-case.sh's lines) and OUT/ARCH-table.md, prints
# the table and a summary line, and compares the stub's outcomes with the
# committed expectations (expect-ARCH.txt beside this script): it fails when
# a case does worse on the stub than its expectation, and says when one
# does better.
#
# Environment: KUT (the built suite), STUB / STUB_VMX, CASE_TIMEOUT, JOBS
# (parallel VMs, default 2), CASES (a space-separated list of SUITE/CASE to
# run instead of all), EXCLUDE (shell patterns of SUITE/CASE not to run,
# e.g. "vmx/ept_access_*"), MODES (default "stub alone"; "stub" alone takes the
# emulator-alone column from the committed reference alone-ARCH.tsv beside
# this script, when there is one), and run-case.sh's.
set -u
arch=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
case $arch in
svm) suites="svm svm_npt" ;;
vmx) suites="vmx" ;;
*)
	echo "usage: $0 svm|vmx OUT" >&2
	exit 2
	;;
esac
modes=${MODES:-stub alone}
reference=$here/alone-$arch.tsv
mkdir -p "$out"
results=$out/$arch-results.tsv
table=$out/$arch-table.md
logs=$out/logs-$arch
jobs=$out/$arch-jobs

for s in $suites; do
	sh "$here/cases.sh" "$KUT" "$s" | while read -r c; do
		if [ -n "${CASES:-}" ]; then
			case " $CASES " in *" $s/$c "*) ;; *) continue ;; esac
		fi
		skip=
		set -f # the patterns are for case, not for file names
		for x in ${EXCLUDE:-}; do
			# shellcheck disable=SC2254
			case $s/$c in $x) skip=1 ;; esac
		done
		set +f
		[ -n "$skip" ] && continue
		# The stub first: its runs are the longer ones.
		for m in $modes; do echo "$s $c $m"; done
	done
done >"$jobs"
# REPORT_ONLY=1: judge the results of an earlier run again (after an edit
# of the expectations) without running anything.
if [ -z "${REPORT_ONLY:-}" ]; then
	echo "conformance $arch: $(wc -l <"$jobs") runs, ${JOBS:-2} at a time," \
		"at most ${CASE_TIMEOUT:-90}s each"
	: >"$results"
	sed "s|\$| $logs $results|" "$jobs" >"$jobs.args"
	# Each run appends one short line (an atomic append) and shows it.
	xargs -P "${JOBS:-2}" -L 1 sh -c \
		'sh "$0/run-case.sh" "$1" "$2" "$3" "$4" | tee -a "$5"' "$here" <"$jobs.args"
	# Without "alone" in MODES, the emulator-alone column comes from the
	# committed reference run (alone-ARCH.tsv, run-case.sh's lines of a full
	# run), for the cases this run took.
	case " $modes " in
	*" alone "*) ;;
	*)
		if [ -f "$reference" ]; then
			echo "conformance $arch: the alone column is the reference run $(basename "$reference")"
			awk -F '\t' -v jobs="$jobs" '
				BEGIN { while ((getline line < jobs) > 0) { split(line, w, " "); want[w[1] "/" w[2]] = 1 } }
				!/^#/ && $3 == "alone" && (($1 "/" $2) in want)' "$reference" >>"$results"
		fi
		;;
	esac
fi

# The table, the summary and the verdict against the expectations.
case " $modes " in
*" alone "*) alone_live=1 ;;
*) alone_live=0 ;;
esac
awk -F '\t' -v arch="$arch" -v table="$table" -v expect="$here/expect-$arch.txt" -v jobs="$jobs" \
	-v alone_live="$alone_live" '
	function rank(o) { return o == "pass" ? 3 : (o == "fail" || o == "skip") ? 2 : 1 }
	function show(o, p, f) { return o == "fail" ? sprintf("fail %d/%d", p, p + f) : o }
	BEGIN {
		while ((getline line < expect) > 0) {
			if (line ~ /^#/ || line !~ /[^ \t]/) continue
			split(line, w, /[ \t]+/)
			exp_out[w[1]] = w[2]
		}
		# The table follows the order of the suites.
		while ((getline line < jobs) > 0) {
			split(line, w, " ")
			id = w[1] "/" w[2]
			if (!(id in seen)) { order[n++] = id; seen[id] = 1 }
		}
	}
	{
		id = $1 "/" $2
		o[id, $3] = $4; p[id, $3] = $5; f[id, $3] = $6; t[id, $3] = $8; r[id, $3] = $9
	}
	END {
		print "| case | QEMU/Bochs alone | on the stub | s alone | s stub | L0 exits per reflected L2 exit | expected on the stub |" > table
		print "|---|---|---|---|---|---|---|" > table
		for (i = 0; i < n; i++) {
			id = order[i]
			so = o[id, "stub"]; ao = o[id, "alone"]
			e = (id in exp_out) ? exp_out[id] : "pass"
			split(e, ew, ":")
			printf "| %s | %s | %s | %s | %s | %s | %s |\n", id, show(ao, p[id, "alone"], f[id, "alone"]),
				show(so, p[id, "stub"], f[id, "stub"]), t[id, "alone"], t[id, "stub"],
				r[id, "stub"], e > table
			total++
			if (so == "pass") spass++
			if (ao == "pass") apass++
			if (rank(so) < rank(ao)) { wa++; worse_alone = worse_alone " " id }
			if (rank(so) > rank(ao)) ba++
			if (alone_live && ew[1] == "pass" && so != "pass" && ao != "" && ao != "pass") {
				# The emulator itself fails it in this run: nothing the stub can pass.
				emu++; printf "conformance %s: %s is %s on the stub and %s alone in this run: the emulator fails it, not counted against the expectation (pass)\n", arch, id, show(so, p[id, "stub"], f[id, "stub"]), show(ao, p[id, "alone"], f[id, "alone"])
			} else if (rank(so) < rank(ew[1]) || (so == "fail" && ew[1] == "fail" && ew[2] != "" && f[id, "stub"] > ew[2] + 0)) {
				bad++; printf "conformance %s: WORSE than expected: %s is %s, expected %s\n", arch, id, show(so, p[id, "stub"], f[id, "stub"]), e
			} else if (rank(so) > rank(ew[1]) || (so == "fail" && ew[2] != "" && f[id, "stub"] < ew[2] + 0)) {
				good++; printf "conformance %s: better than expected: %s is %s, expected %s (update expect-%s.txt)\n", arch, id, show(so, p[id, "stub"], f[id, "stub"]), e, arch
			}
		}
		close(table)
		while ((getline line < table) > 0) print line
		if (worse_alone != "") printf "conformance %s: worse on the stub than alone:%s\n", arch, worse_alone
		printf "conformance %s: %d/%d pass on the stub, %d/%d alone; %d worse than alone, %d better; %d worse than expected, %d better; %d failed by the emulator alone too\n",
			arch, spass, total, apass, total, wa, ba, bad, good, emu + 0
		exit bad > 0
	}' "$results"
