#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the nested-state samples of nestctl's tests (state-*.nst in
libnest's format, state-*.kvm in KVM's kvm_nested_state) into a folder.

The streams are laid out by hand after docs/state.md (header, body,
vmcs12 image or vmcb12), with vmcs12 and vmcb12 contents taken from the
text samples next to this script; the KVM samples are libnest's
conversions of the valid ones. Usage: make-state-samples.py OUTDIR
(needs the Python binding: PYTHONPATH and NEST_LIBRARY as in
tests/bindings/python.sh)."""
import os
import struct
import sys

import libnest as n

HERE = os.path.dirname(os.path.abspath(__file__))
ONES = (1 << 64) - 1
VMXON, VMCS = 0x1000000, 0x1001000
HOST_SIZE = n.lib.nest_svm_state_size() - 8248  # six segments and eight registers


def header(arch, size, flags):
    return struct.pack("<IHHIIQ", n.NEST_STATE_MAGIC, n.NEST_STATE_VERSION, arch, size,
                       flags, 0)


def vmx_stream(flags, vmxon=ONES, vmcs=ONES, fc=0x5, l1=(0,) * 7, timer=(0, 0),
               event=(0, 0, 0), fields=None, launched=0):
    img = bytearray(n.vmcs12_image(fields) if fields is not None else
                    bytes(n.lib.nest_vmcs12_image_size()))
    if fields is None:
        img[:] = bytes(len(img))
    else:
        struct.pack_into("<I", img, 8, launched)
    body = struct.pack("<QQQQQQQQQQIIIIII", vmxon, vmcs, fc, *l1, *timer, *event, len(img))
    return header(n.NEST_STATE_ARCH_VMX, 24 + len(body) + len(img), flags) + body + img


def vmx_samples():
    ok, _, _ = n.read_vmcs12_text(os.path.join(HERE, "vmx-ok-64bit.txt"))
    f = n.NEST_STATE_VMX_F_VMXON | n.NEST_STATE_VMX_F_CURRENT_VMCS
    guest_l1 = (0x80050033, 0x26a0, 0xd01, 0x0007040600070406, 0, 0x400, 0)
    bad_rflags = dict(ok, GUEST_RFLAGS=0)
    return {
        "state-vmx-off.nst": vmx_stream(0, fc=0x5),
        "state-vmx-root.nst": vmx_stream(f, VMXON, VMCS, fields=ok, launched=1),
        "state-vmx-guest.nst": vmx_stream(f | n.NEST_STATE_VMX_F_GUEST_MODE, VMXON, VMCS,
                                          l1=guest_l1, fields=ok, launched=1),
        # Rejected: a VMXON pointer that is not 4 KiB aligned.
        "state-vmx-bad-vmxon.nst": vmx_stream(f, VMXON + 0x10, VMCS, fields=ok, launched=1),
        # Rejected: guest mode with an L2 state VM entry refuses (RFLAGS bit 1 clear).
        "state-vmx-bad-guest.nst": vmx_stream(f | n.NEST_STATE_VMX_F_GUEST_MODE, VMXON, VMCS,
                                              l1=guest_l1, fields=bad_rflags, launched=1),
    }


def svm_stream(flags, hsave=0x2000000, vmcb12_pa=0, vmcb12=None, vmcb02=None, host=None):
    body = struct.pack("<QQQQ", hsave, 0, 1 << 32, vmcb12_pa)  # TSC_RATIO 1.0
    vmcb12 = n.vmcb_image(vmcb12) if vmcb12 is not None else bytes(4096)
    vmcb02 = n.vmcb_image(vmcb02) if vmcb02 is not None else bytes(4096)
    host = host or bytes(HOST_SIZE)
    size = 24 + len(body) + 4096 * 2 + HOST_SIZE
    return header(n.NEST_STATE_ARCH_SVM, size, flags) + body + vmcb12 + vmcb02 + host


def svm_host():
    segs = [(0x10, 0x93, 0xffffffff, 0), (0x8, 0x29b, 0xffffffff, 0),
            (0x10, 0x93, 0xffffffff, 0), (0x10, 0x93, 0xffffffff, 0),
            (0, 0, 0x7f, 0x3000), (0, 0, 0xfff, 0x4000)]
    b = b"".join(struct.pack("<HHIQ", *s) for s in segs)
    regs = (0x1d01, 0x80050033, 0x6000, 0x6a0, 0x2, 0x9000, 0x8000, 0)
    return b + struct.pack("<8Q", *regs)


def svm_samples():
    vmcb = n.read_vmcb_text(os.path.join(HERE, "valid.vmcb"))
    save = {k: v for k, v in vmcb.items() if n.VMCB[k][0] >= 0x400}
    f = n.NEST_STATE_SVM_F_SVME | n.NEST_STATE_SVM_F_GIF
    g = f | n.NEST_STATE_SVM_F_GUEST_MODE
    return {
        "state-svm-off.nst": svm_stream(f),
        "state-svm-guest.nst": svm_stream(g, vmcb12_pa=0x3000000, vmcb12=vmcb, vmcb02=save,
                                          host=svm_host()),
        # Rejected: vmcb12 with ASID 0 (APM 15.5.1).
        "state-svm-bad-asid.nst": svm_stream(g, vmcb12_pa=0x3000000,
                                             vmcb12=dict(vmcb, GUEST_ASID=0), vmcb02=save,
                                             host=svm_host()),
    }


def main(outdir):
    samples = vmx_samples()
    samples.update(svm_samples())
    samples["state-vmx-root.kvm"] = n.convert_state(samples["state-vmx-root.nst"], "kvm")
    samples["state-vmx-guest.kvm"] = n.convert_state(samples["state-vmx-guest.nst"], "kvm")
    samples["state-svm-off.kvm"] = n.convert_state(samples["state-svm-off.nst"], "kvm")
    for name, data in sorted(samples.items()):
        with open(os.path.join(outdir, name), "wb") as fp:
            fp.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
