#!/bin/sh
# SPDX-License-Identifier: MIT
# cases.sh KUT SUITE
#
# Prints the case names of one nested suite of kvm-unit-tests (svm, svm_npt
# or vmx), one a line, as the suite's own command line selects them (spaces
# written as '_'), read from the suite's table of tests in its source: the
# same list whatever snapshot of the suite is given.
set -eu
kut=$1 suite=$2
case $suite in
svm) file=$kut/x86/svm_tests.c table='^struct svm_test svm_tests\[\] = \{' ;;
svm_npt) file=$kut/x86/svm_npt.c table='^static struct svm_test npt_tests\[\] = \{' ;;
vmx) file=$kut/x86/vmx_tests.c table='^struct vmx_test vmx_tests\[\] = \{' ;;
*)
	echo "cases: unknown suite '$suite'" >&2
	exit 2
	;;
esac
# An entry opens with { "name", or with a macro whose first argument is the
# name: TEST(name), NPT_V1_TEST(name, ...), NPT_V2_TEST(name).
awk -v table="$table" '
	$0 ~ table { on = 1; next }
	on && /^};/ { exit }
	on && match($0, /^[ \t]*\{ *"[^"]+"/) {
		s = substr($0, RSTART, RLENGTH); sub(/^[^"]*"/, "", s); sub(/"$/, "", s)
		gsub(/ /, "_", s); print s; next
	}
	on && match($0, /^[ \t]*[A-Z0-9_]*TEST\([A-Za-z0-9_]+/) {
		s = substr($0, RSTART, RLENGTH); sub(/^.*\(/, "", s); print s
	}' "$file"
