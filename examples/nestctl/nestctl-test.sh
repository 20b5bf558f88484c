#!/bin/sh
# SPDX-License-Identifier: MIT
# nestctl svm check over the samples: valid*.vmcb print "ok" (exit 0), bad-*
# files are bad input (exit 2, a message naming the line), every other
# sample is named after the rule it breaks and must print
# "vmexit-invalid: RULE" (exit 1). A "# nestctl-options:" line adds options.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
tool="$top_builddir/examples/nestctl/nestctl"
samples="$top_srcdir/examples/nestctl/samples"
fail=0
n=0
out=$(mktemp); errf=$(mktemp); trap 'rm -f "$out" "$errf"' EXIT

run() { # file expected-status expected-stdout
	f=$1; want_rc=$2; want_out=$3
	opts=$(sed -n 's/^# nestctl-options: //p' "$f")
	# shellcheck disable=SC2086
	"$tool" svm check $opts "$f" >"$out" 2>"$errf"
	rc=$?
	got=$(cat "$out")
	n=$((n + 1))
	if [ "$rc" != "$want_rc" ] || { [ -n "$want_out" ] && [ "$got" != "$want_out" ]; }; then
		echo "FAIL: $(basename "$f"): status $rc (want $want_rc), output '$got' (want '$want_out')"
		cat "$errf"
		fail=1
	fi
}

for f in "$samples"/*.vmcb; do
	b=$(basename "$f" .vmcb)
	case "$b" in
	valid*) run "$f" 0 ok ;;
	bad-*)
		run "$f" 2 ""
		grep -q ':[0-9][0-9]*: ' "$errf" || { echo "FAIL: $b: message names no line"; fail=1; }
		;;
	*-by-offset) run "$f" 1 "vmexit-invalid: ${b%-by-offset}" ;;
	*) run "$f" 1 "vmexit-invalid: $b" ;;
	esac
done

# Every rule libnest knows has a sample.
for rule in $("$tool" svm check --list-rules 2>/dev/null); do
	[ -f "$samples/$rule.vmcb" ] || { echo "FAIL: no sample for rule $rule"; fail=1; }
done

# Usage errors and help.
"$tool" svm check >/dev/null 2>&1; [ $? = 2 ] || { echo "FAIL: missing FILE is not status 2"; fail=1; }
"$tool" svm check /nonexistent/file >/dev/null 2>&1; [ $? = 2 ] || { echo "FAIL: unreadable FILE"; fail=1; }
"$tool" --help | grep -q "svm check" || { echo "FAIL: --help"; fail=1; }
"$tool" vmx check x >/dev/null 2>&1; [ $? = 2 ] || { echo "FAIL: vmx placeholder status"; fail=1; }
printf 'GUEST_ASID = 1\n' | "$tool" svm check - >/dev/null; [ $? = 1 ] || { echo "FAIL: stdin"; fail=1; }

[ $fail = 0 ] && echo "nestctl: $n samples behave as named"
exit $fail
