#!/bin/sh
# SPDX-License-Identifier: MIT
# kut-table.sh LOG ALONE OUT
# The table of the kvm-unit-tests run as L2 (linux/l2-kut.run): the
# "kut-result: " lines of the Linux-as-L1 run's serial log LOG go to
# OUT/kut-results.tsv (tests/conformance/run-case.sh's format, mode "l2"),
# and OUT/kut-table.md puts each case beside its outcome on QEMU alone
# (ALONE: run-case.sh's lines of a run with MODES=alone, e.g.
# tests/conformance/alone-svm-1cpu.tsv). Prints the table and a summary;
# fails when there are no results or fewer cases pass as L2 than alone
# (that every case L1 started said how it ended is L1's check
# kut-cases-ran, judged by run-linux.sh).
set -u
log=$1 alone=$2 out=$3
mkdir -p "$out"
results=$out/kut-results.tsv
table=$out/kut-table.md
sed -n 's/^kut-result: //p' "$log" >"$results"
if [ ! -s "$results" ]; then
	echo "kut: no results in $log"
	exit 1
fi
awk -F '\t' -v table="$table" '
	function show(o, p, f) { return o == "fail" ? sprintf("fail %d/%d", p, p + f) : o }
	function rank(o) { return o == "pass" ? 3 : (o == "fail" || o == "skip") ? 2 : 1 }
	FNR == NR {
		if ($0 !~ /^#/ && $3 == "alone") {
			id = $1 "/" $2; ao[id] = $4; ap[id] = $5; af[id] = $6; at[id] = $8
		}
		next
	}
	{
		id = $1 "/" $2; order[n++] = id
		lo[id] = $4; lp[id] = $5; lf[id] = $6; lt[id] = $8
	}
	END {
		print "| case | QEMU alone | L2 under L1 KVM | s alone | s L2 |" > table
		print "|---|---|---|---|---|" > table
		for (i = 0; i < n; i++) {
			id = order[i]
			a = (id in ao) ? show(ao[id], ap[id], af[id]) : "-"
			printf "| %s | %s | %s | %s | %s |\n", id, a, show(lo[id], lp[id], lf[id]),
				(id in at) ? at[id] : "-", lt[id] > table
			if (lo[id] == "pass") lpass++
			if (ao[id] == "pass") apass++
			if (!(id in ao)) noref = noref " " id
			else if (rank(lo[id]) < rank(ao[id])) worse = worse " " id
			else if (rank(lo[id]) > rank(ao[id])) better = better " " id
		}
		close(table)
		while ((getline line < table) > 0) print line
		if (noref != "") printf "kut: not in the alone reference:%s\n", noref
		if (worse != "") printf "kut: worse as L2 than alone:%s\n", worse
		if (better != "") printf "kut: better as L2 than alone:%s\n", better
		printf "kut: %d/%d pass as L2 under L1 KVM on libnest, %d/%d on QEMU alone\n",
			lpass, n, apass, n
		exit lpass < apass
	}' "$alone" "$results"
