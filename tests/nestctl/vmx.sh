#!/bin/sh
# SPDX-License-Identifier: MIT
# nestctl vmx over the samples and over bad input: each vmx-*.txt sample
# declares its expected first line of output and exit status in a
# "# expect: STATUS OUTPUT-PREFIX" comment; bad input must give status 2 and
# a message naming the file and line; fields, rules and --help must work.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
tool="$top_builddir/examples/nestctl/nestctl"
samples="$top_srcdir/examples/nestctl/samples"
fail=0
n=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

check() { # file expected-status expected-output-prefix
	f=$1; want_rc=$2; want=$3
	"$tool" vmx check "$f" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	got=$(cat "$tmp/out")
	n=$((n + 1))
	case "$got" in
	"$want"*) ok=1 ;;
	*) ok=0 ;;
	esac
	if [ "$rc" != "$want_rc" ] || [ "$ok" != 1 ]; then
		echo "FAIL: $(basename "$f"): status $rc (want $want_rc), output '$got' (want '$want...')"
		cat "$tmp/err"
		fail=1
	fi
}

# The samples, each with its expectation.
for f in "$samples"/vmx-*.txt; do
	line=$(sed -n 's/^# expect: //p' "$f")
	if [ -z "$line" ]; then echo "FAIL: $(basename "$f") has no '# expect:' line"; fail=1; continue; fi
	check "$f" "${line%% *}" "${line#* }"
done

# Bad input: status 2, nothing on stdout, the line named on stderr.
bad() { # name expected-line content
	printf '%b' "$3" >"$tmp/$1.txt"
	check "$tmp/$1.txt" 2 ""
	[ -s "$tmp/out" ] && { echo "FAIL: $1: printed '$(cat "$tmp/out")'"; fail=1; }
	grep -q "$1.txt:$2: " "$tmp/err" || { echo "FAIL: $1: message does not name line $2:"; cat "$tmp/err"; fail=1; }
}
bad no-equals 2 '# comment\nGUEST_CR0 0x31\n'
bad unknown-field 1 'GUEST_CR9 = 1\n'
bad unknown-encoding 1 '0x6ffe = 1\n'
bad too-wide 3 '\n\nGUEST_CS_SELECTOR = 0x10000\n'
bad bad-number 1 'GUEST_CR0 = 0x1g\n'
bad negative 1 'GUEST_CR0 = -1\n'
bad twice 2 'GUEST_CR0 = 1\nguest_cr0 = 1\n'
bad unknown-cap 1 'CAP vmx_basic = 1\n'
bad msr-syntax 1 'MSR_LOAD = 0x174\n'
bad no-value 1 'GUEST_CR3 =\n'

# An encoding works as well as a name; missing files are bad input.
printf 'GUEST_RFLAGS = 2\n0x681e = 0x1234\n' >"$tmp/enc.txt"
"$tool" vmx check "$tmp/enc.txt" >"$tmp/out" 2>&1
[ $? = 1 ] || { echo "FAIL: encoding: status"; fail=1; }
"$tool" vmx check "$tmp/missing.txt" >/dev/null 2>&1
[ $? = 2 ] || { echo "FAIL: missing file: status"; fail=1; }

# Listings and usage.
"$tool" vmx fields | grep -q '^GUEST_CR0  *0x00006800 natural guest$' || { echo "FAIL: fields"; fail=1; }
"$tool" vmx rules | grep -q '^GUEST_CR0_FIXED  *27.3.1.1 ' || { echo "FAIL: rules"; fail=1; }
"$tool" vmx --help | grep -q 'CAP NAME = VALUE' || { echo "FAIL: --help"; fail=1; }
"$tool" vmx frobnicate >/dev/null 2>&1
[ $? = 2 ] || { echo "FAIL: unknown subcommand: status"; fail=1; }

[ "$fail" = 0 ] && echo "nestctl vmx: $n checks passed"
exit "$fail"
