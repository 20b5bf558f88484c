#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check arch/x86/vmx/kvm-vmcs12.def against a kvm-intel.ko's BTF.

    python3 tests/abi/kvm-vmcs12-btf.py KVM_INTEL_KO [DEF]

KVM's struct vmcs12 is kernel-internal (not uapi); the module's BTF (split
BTF: names of the base kernel's string table are not resolved here) says
where each member is. Every field of the .def must start a member whose
name, where the module's strings have it, is the field's in lower case
(a few differ by name only: KVM says pdptr, bndcfgs, posted_intr_nv), and
every member that no field covers is listed. Exit 1 on a field at an
offset where no member starts. Debian's kvm-intel.ko of Linux 6.1 is in
the Linux-as-L1 run's package cache (x-linux-image-*/lib/modules/*/kernel/
arch/x86/kvm/kvm-intel.ko).
"""
import re
import struct
import subprocess
import sys

ALIASES = {"GUEST_PDPTE0": "guest_pdptr0", "GUEST_PDPTE1": "guest_pdptr1",
           "GUEST_PDPTE2": "guest_pdptr2", "GUEST_PDPTE3": "guest_pdptr3",
           "GUEST_IA32_BNDCFGS": "guest_bndcfgs",
           "POSTED_INTR_NOTIFICATION_VECTOR": "posted_intr_nv"}


def btf_section(ko):
    out = subprocess.check_output(["readelf", "-SW", ko]).decode()
    for line in out.splitlines():
        if " .BTF " in line:
            f = line.split("]")[1].split()
            off, size = int(f[3], 16), int(f[4], 16)
            return open(ko, "rb").read()[off:off + size]
    sys.exit("no .BTF section in " + ko)


def types_of(btf):
    magic, _, _, hdr_len, t_off, t_len, s_off, s_len = struct.unpack_from("<HBBIIIII", btf, 0)
    if magic != 0xEB9F:
        sys.exit("not BTF")
    types = btf[hdr_len + t_off:hdr_len + t_off + t_len]
    strs = btf[hdr_len + s_off:hdr_len + s_off + s_len]
    p, res = 0, []
    while p < len(types):
        name, info, size = struct.unpack_from("<III", types, p)
        p += 12
        kind, vlen, kflag = (info >> 24) & 0x1F, info & 0xFFFF, info >> 31
        members = []
        if kind in (1, 14, 17):  # int, var, decl tag
            p += 4
        elif kind == 3:  # array
            p += 12
        elif kind in (4, 5):  # struct, union
            for _ in range(vlen):
                mn, _, mo = struct.unpack_from("<III", types, p)
                p += 12
                members.append((mn, (mo & 0xFFFFFF) if kflag else mo))
        elif kind in (6, 13):  # enum, function prototype
            p += 8 * vlen
        elif kind in (15, 19):  # data section, enum64
            p += 12 * vlen
        res.append((kind, name, size, members))
    return res, strs


def main():
    ko = sys.argv[1]
    dfile = sys.argv[2] if len(sys.argv) > 2 else "arch/x86/vmx/kvm-vmcs12.def"
    fields = [(n, int(o)) for n, o in
              re.findall(r"NEST_KVM_VMCS12_FIELD\((\w+), (\d+)\)", open(dfile).read())]
    types, strs = types_of(btf_section(ko))
    # struct vmcs12: "guest_rip" at byte 544 and "io_bitmap_a" at 40 (the
    # module's string offsets start after the base kernel's: that base is
    # what makes both names come out).
    rip = strs.find(b"\0guest_rip\0") + 1
    for kind, _, size, members in types:
        if kind != 4:
            continue
        at = {mo // 8: mn for mn, mo in members}
        if 544 not in at or 40 not in at or at[544] < rip:
            continue
        base = at[544] - rip
        if at[40] >= base and strs[at[40] - base:].startswith(b"io_bitmap_a\0"):
            break
    else:
        sys.exit("no struct vmcs12 in " + ko)

    def name(o):
        if o < base:
            return None
        return strs[o - base:strs.index(b"\0", o - base)].decode()

    byoff = {mo // 8: name(mn) for mn, mo in members}
    bad = 0
    for n, o in fields:
        if o not in byoff:
            print("%s at %d: no member of KVM's vmcs12 starts there" % (n, o))
            bad += 1
        elif byoff[o] is not None and byoff[o] != ALIASES.get(n, n.lower()):
            print("%s at %d: KVM's member there is %s" % (n, o, byoff[o]))
            bad += 1
    covered = {o for _, o in fields}
    for o in sorted(byoff):
        if o not in covered:
            print("not in the list: %s at %d" % (byoff[o] or "(a base-kernel name)", o))
    print("struct vmcs12: %d bytes, %d members; %d fields listed, %d wrong"
          % (size, len(members), len(fields), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
