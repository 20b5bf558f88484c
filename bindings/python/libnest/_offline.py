# SPDX-License-Identifier: MIT
"""An offline L0: the backend libnest needs to take in a nested state it
is only asked to check or convert. L1 memory reads as zeros and L0 maps
every L1 page (identity, write-back), hardware VMCSs are dictionaries,
pages come from Python memory. vmcs01 starts with a typical 64-bit L1
(what KVM's format leaves to vmcs01 on import)."""
import ctypes

from . import _ffi as F
from ._constants import (NEST_E_INVAL, NEST_E_NOMEM, NEST_OK, NEST_SVM_CFG_L0_VGIF,
                         NEST_SVM_CFG_LONG_MODE, NEST_SVM_CFG_SVM_ALLOWED, NEST_VMX_F_ALL, VMCS)

PAGE = 4096
# L1's state at its VMLAUNCH/VMRESUME when nothing says otherwise: paging,
# protected mode, long mode, VMXE (the fixed bits of every VMX host).
L1_VMCS01 = {
    "GUEST_CR0": 0x80050033, "GUEST_CR4": 0x26a0, "GUEST_IA32_EFER": 0xd01,
    "GUEST_IA32_PAT": 0x0007040600070406, "GUEST_DR7": 0x400,
}


def aligned(size, align=PAGE, keep=None):
    """A zeroed buffer of size bytes at an aligned address (kept alive by keep)."""
    raw = ctypes.create_string_buffer(size + align)
    addr = (ctypes.addressof(raw) + align - 1) & ~(align - 1)
    if keep is not None:
        keep.append(raw)
    return addr


class OfflineL0:
    def __init__(self):
        self._keep = []
        self.vmcs = {0: {VMCS[k]: v for k, v in L1_VMCS01.items()}, 1: {}, 2: {}}
        self.log = []

        def read_l1(_c, gpa, buf, n):
            ctypes.memset(buf, 0, n)
            return NEST_OK

        def write_l1(_c, gpa, buf, n):
            return NEST_OK

        def l1_to_host(_c, gpa, out):
            out[0].hpa = gpa & ~(PAGE - 1)
            out[0].rights = 0x1f
            out[0].memtype = 6
            out[0].page_shift = 12
            return NEST_OK

        def vmcs_read(_c, which, enc, value):
            if which not in self.vmcs:
                return NEST_E_INVAL
            value[0] = self.vmcs[which].get(enc, 0)
            return NEST_OK

        def vmcs_write(_c, which, enc, value):
            if which not in self.vmcs:
                return NEST_E_INVAL
            self.vmcs[which][enc] = value
            return NEST_OK

        def page_alloc(_c, hpa, hva):
            try:
                addr = aligned(PAGE, keep=self._keep)
            except MemoryError:
                return NEST_E_NOMEM
            hpa[0] = addr
            hva[0] = addr
            return NEST_OK

        def page_free(_c, hpa, hva):
            pass

        def flush(_c, kind, tag, addr):
            pass

        def log(_c, level, msg):
            self.log.append((level, msg.decode(errors="replace")))

        self._cbs = [F.READ_L1(read_l1), F.WRITE_L1(write_l1), F.L1_TO_HOST(l1_to_host),
                     F.VMCS_READ(vmcs_read), F.VMCS_WRITE(vmcs_write),
                     F.PAGE_ALLOC(page_alloc), F.PAGE_FREE(page_free), F.FLUSH(flush),
                     F.LOG(log)]
        self.ops = F.BackendOps(size=ctypes.sizeof(F.BackendOps), read_l1=self._cbs[0],
                                write_l1=self._cbs[1], l1_to_host=self._cbs[2],
                                vmcs_read=self._cbs[3], vmcs_write=self._cbs[4],
                                page_alloc=self._cbs[5], page_free=self._cbs[6],
                                flush=self._cbs[7], log=self._cbs[8])
        self.backend = F.Backend(ops=ctypes.pointer(self.ops), ctx=None)

    def tdp(self, ept_vpid_cap, maxphyaddr):
        cfg = F.TdpConfig(size=ctypes.sizeof(F.TdpConfig), max_pages=64, max_roots=4,
                          ept_vpid_cap=ept_vpid_cap, maxphyaddr=maxphyaddr, max_page_shift=12)
        n = F.lib.nest_tdp_size(ctypes.byref(cfg))
        mem = aligned(n, 64, self._keep)
        out = ctypes.c_void_p()
        rc = F.lib.nest_tdp_init(mem, n, ctypes.byref(self.backend), ctypes.byref(cfg),
                                 ctypes.byref(out))
        return rc, out.value

    def vmx(self, host_caps, features=NEST_VMX_F_ALL, maxphyaddr=None, with_l0=True):
        """A VMX context for an L1 of this host, its vmcs01 and L0 side set."""
        maxphyaddr = maxphyaddr or host_caps.maxphyaddr or 46
        self._host = host_caps
        cfg = F.VmxConfig(size=ctypes.sizeof(F.VmxConfig), vmx_allowed=1,
                          host_caps=ctypes.pointer(host_caps), features=features,
                          l1_maxphyaddr=maxphyaddr, feature_control=0x5)
        n = F.lib.nest_vmx_size()
        mem = aligned(n, 64, self._keep)
        out = ctypes.c_void_p()
        rc = F.lib.nest_vmx_init(mem, n, ctypes.byref(self.backend), ctypes.byref(cfg),
                                 ctypes.byref(out))
        if rc != NEST_OK or not with_l0:
            return rc, out.value
        offered = F.VmxCaps()
        F.lib.nest_vmx_offered_caps(out.value, ctypes.byref(offered))
        rc, tdp = self.tdp(offered.ept_vpid, maxphyaddr)
        if rc != NEST_OK:
            return rc, None
        self._l0 = F.VmxL0(size=ctypes.sizeof(F.VmxL0), exit_ctls=0x200, tdp=tdp)
        rc = F.lib.nest_vmx_set_l0(out.value, ctypes.byref(self._l0))
        return rc, out.value

    def svm(self, host_cpuid, features, maxphyaddr=48, long_mode=True, vgif=False):
        """An SVM context for an L1 of this host, with vmcb01 (returned) for L1."""
        flags = NEST_SVM_CFG_SVM_ALLOWED | (NEST_SVM_CFG_LONG_MODE if long_mode else 0)
        if vgif:
            flags |= NEST_SVM_CFG_L0_VGIF
        cpuid = (ctypes.c_uint32 * 4)(*host_cpuid)
        page = lambda n: F.SvmPage(hva=aligned(n, keep=self._keep), hpa=0)  # noqa: E731
        cfg = F.SvmConfig(size=ctypes.sizeof(F.SvmConfig), flags=flags, host_cpuid=cpuid,
                          features=features, l1_maxphyaddr=maxphyaddr, l2_asid=1,
                          l1_efer_allowed=0x4d01 if long_mode else 0x4801,
                          l1_cr4_allowed=0x770fff, vmcb02=page(PAGE), msrpm02=page(2 * PAGE),
                          iopm02=page(3 * PAGE))
        for p in (cfg.vmcb02, cfg.msrpm02, cfg.iopm02):
            p.hpa = p.hva
        rc, tdp = self.tdp(0, maxphyaddr)
        if rc != NEST_OK:
            return rc, None, None
        cfg.tdp = tdp
        n = F.lib.nest_svm_size()
        mem = aligned(n, 64, self._keep)
        out = ctypes.c_void_p()
        rc = F.lib.nest_svm_init(mem, n, ctypes.byref(self.backend), ctypes.byref(cfg),
                                 ctypes.byref(out))
        vmcb01 = aligned(PAGE, keep=self._keep)
        return rc, out.value, vmcb01
