#!/bin/sh
# SPDX-License-Identifier: MIT
# nestctl state and nestctl caps over the samples: every snapshot's check
# verdict and the field it names, show's field-by-field view, conversion
# both ways (a round trip gives the sample back byte for byte), the
# capabilities of one host and of a pool, and bad input (status 2).
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
tool="$top_builddir/examples/nestctl/nestctl"
s="$top_srcdir/examples/nestctl/samples"
fail=0
n=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# run WANT-STATUS CMD...: output in $tmp/out, stderr in $tmp/err
run() {
	want=$1; shift
	"$tool" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	n=$((n + 1))
	if [ "$rc" != "$want" ]; then
		echo "FAIL: nestctl $*: status $rc, want $want"; cat "$tmp/out" "$tmp/err"; fail=1
	fi
}
# has LINE: $tmp/out holds this exact line
has() {
	if ! grep -qxF -- "$1" "$tmp/out"; then
		echo "FAIL: no line '$1' in:"; cat "$tmp/out"; fail=1
	fi
}

# check: the valid snapshots of both formats and architectures
for f in state-vmx-off.nst state-vmx-root.nst state-vmx-guest.nst state-vmx-root.kvm \
	state-vmx-guest.kvm state-svm-off.nst state-svm-guest.nst state-svm-off.kvm; do
	run 0 state check "$s/$f"; has "ok"
done
# check: each rejected snapshot names its field
run 1 state check "$s/state-vmx-bad-vmxon.nst"
has "rejected: NEST_E_FORMAT (malformed serialized data)"; has "  vmxon_ptr: not 4 KiB aligned"
run 1 state check "$s/state-vmx-bad-guest.nst"
grep -q '^  vmcs12.GUEST_RFLAGS: entry-failure reason=33 qualification=0: GUEST_RFLAGS_RESERVED (SDM 27.3.1.4' "$tmp/out" ||
	{ echo "FAIL: bad-guest does not name GUEST_RFLAGS"; cat "$tmp/out"; fail=1; }
run 1 state check "$s/state-svm-bad-asid.nst"
has "  vmcb12.GUEST_ASID: asid-zero: the guest ASID is zero (APM 15.5.1, 15.16)"
# check against a host: the guest-mode vmcs12 enables EPT, VPID and
# unrestricted guest; under a policy without EPT, libnest refuses it
run 1 state check --features vpid "$s/state-vmx-guest.nst"
has "rejected: NEST_E_FORMAT (malformed serialized data)"
run 0 state check --caps "$s/caps-vmx-a.txt" "$s/state-vmx-guest.nst"; has "ok"
run 2 state check --caps "$s/caps-svm-a.txt" "$s/state-vmx-guest.nst"

# show: header, body and vmcs12/vmcb12 fields by name
run 0 state show "$s/state-vmx-guest.nst"
has "format: libnest vmx"; has "flags: vmxon current_vmcs guest_mode"
has "vmxon_ptr = 0x1000000"; has "l1_cr0 = 0x80050033"; has "vmcs12.launch_state = 0x1"
has "vmcs12.GUEST_RIP = 0x401000"; has "vmcs12.EPT_POINTER = 0x1405e"
run 0 state show "$s/state-vmx-root.kvm"
has "format: kvm vmx"; has "hdr.vmx.vmcs12_pa = 0x1001000"; has "vmcs12.revision = 0x11e57ed0"
has "vmcs12.GUEST_RIP = 0x401000"
run 0 state show "$s/state-svm-guest.nst"
has "format: libnest svm"; has "flags: svme gif guest_mode"; has "vmcb12_pa = 0x3000000"
has "vmcb12.GUEST_ASID = 0x1"; has "vmcb02.RIP = 0x8000"; has "host.cs.selector = 0x8"
has "host.efer = 0x1d01"
run 0 state show "$s/state-svm-off.kvm"
has "format: kvm svm"; has "flags: gif_set"

# convert: both directions, round trips byte for byte
for p in vmx-root vmx-guest svm-off; do
	run 0 state convert "$s/state-$p.nst" "$tmp/$p.kvm"
	cmp -s "$tmp/$p.kvm" "$s/state-$p.kvm" || { echo "FAIL: $p.nst -> kvm differs from the sample"; fail=1; }
	run 0 state convert "$tmp/$p.kvm" "$tmp/$p.nst"
	case $p in
	vmx-*) cmp -s "$tmp/$p.nst" "$s/state-$p.nst" || { echo "FAIL: $p kvm -> libnest differs from the sample"; fail=1; } ;;
	esac
done
# KVM's SVM format outside guest mode is GIF alone (EFER.SVME, VM_HSAVE_PA
# and TSC_RATIO are MSRs L0 restores first): the scratch context has SVME
# clear, so the round trip keeps GIF and loses the rest.
run 0 state show "$tmp/svm-off.nst"
has "flags: gif"; has "hsave_pa = 0x0"; has "tsc_ratio = 0x100000000"
run 0 state convert --to libnest "$s/state-vmx-root.nst" "$tmp/same.nst"
cmp -s "$tmp/same.nst" "$s/state-vmx-root.nst" || { echo "FAIL: libnest -> libnest changed the stream"; fail=1; }
run 1 state convert "$s/state-vmx-bad-vmxon.nst" "$tmp/bad.kvm"
grep -q "nest_vmx_restore_state: NEST_E_FORMAT" "$tmp/err" || { echo "FAIL: convert of a bad stream"; cat "$tmp/err"; fail=1; }

# standard input and output ('-'), as in a pipe
"$tool" state convert "$s/state-vmx-guest.nst" - | "$tool" state show - >"$tmp/out"
has "format: kvm vmx"; has "flags: guest_mode"

# bad input
printf 'NSTS' >"$tmp/short"; run 2 state show "$tmp/short"
printf 'hello' >"$tmp/junk"; run 2 state check "$tmp/junk"
run 2 state check; run 2 state frobnicate "$s/state-vmx-off.nst"
run 2 state check --features warp "$s/state-vmx-off.nst"
grep -q "unknown VMX feature 'warp'" "$tmp/err" || { echo "FAIL: unknown feature not named"; fail=1; }

# caps: one host, every feature
run 0 caps --host "$s/caps-vmx-a.txt"
has "# feature ept                yes"; has "# feature vmcs_shadowing     yes"
has "# feature unrestricted_guest yes"; has "maxphyaddr       = 46"
# the policy hides a feature: no EPT means no unrestricted guest either
run 0 caps --host "$s/caps-vmx-a.txt" --features vpid,preemption_timer
has "# feature ept                no"; has "# feature unrestricted_guest no"; has "# feature vpid               yes"
# the output is a dump: reading it back offers the same
grep -v '^#' "$tmp/out" >"$tmp/l1.txt"
run 0 caps --host "$tmp/l1.txt" --features vpid,preemption_timer
has "# feature ept                no"; has "# feature vpid               yes"
# a pool: what every host honours
run 0 caps --pool "$s/caps-vmx-a.txt" "$s/caps-vmx-b.txt"
has "# feature ept                yes"; has "# feature unrestricted_guest no"
has "# feature vmfunc             no"; has "# feature tsc_scaling        no"
has "maxphyaddr       = 39"; has "vmfunc           = 0x0000000000000000  # MSR 0x491"
run 0 caps --pool "$s/caps-svm-a.txt" "$s/caps-svm-b.txt"
has "# feature np                 yes"; has "# feature vgif               no"
has "# feature pf_threshold       no"; has "maxphyaddr       = 40"
has "cpuid_8000000a   = 0x1 0x40 0x0 0x4ff  # revision, ASIDs, -, features"
run 0 caps --host "$s/caps-svm-a.txt"
has "# feature vgif               yes"; has "# feature avic               no"
# a pool whose hosts disagree: one requires a pin-based control (bit 3)
# the other does not allow: status 1, the bits named
sed -e 's/^0x481 = .*/0x481 = 0x000000ff0000001e/' -e 's/^0x48d = .*/0x48d = 0x000000ff0000001e/' \
	"$s/caps-vmx-a.txt" >"$tmp/x.txt"
sed -e 's/^0x481 = .*/0x481 = 0x000000f700000016/' -e 's/^0x48d = .*/0x48d = 0x000000f700000016/' \
	"$s/caps-vmx-a.txt" >"$tmp/y.txt"
run 1 caps --pool "$tmp/x.txt" "$tmp/y.txt"
has "# conflict: control bits 0x8 are required by one host and not allowed by another"
run 0 caps --pool "$tmp/x.txt" "$s/caps-vmx-a.txt"
# bad input
run 2 caps --pool "$s/caps-vmx-a.txt" "$s/caps-svm-a.txt"
printf '0x480 = 1\nfoo = 2\n' >"$tmp/bad.txt"; run 2 caps --host "$tmp/bad.txt"
grep -q "bad.txt:2: unknown key 'foo'" "$tmp/err" || { echo "FAIL: bad key not named"; cat "$tmp/err"; fail=1; }
printf 'cpuid_8000000a = 1 2 3\n' >"$tmp/bad.txt"; run 2 caps --host "$tmp/bad.txt"
run 2 caps --pool
run 0 caps --help

echo "nestctl state/caps: $n runs"
exit $fail
