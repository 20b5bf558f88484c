# SPDX-License-Identifier: MIT
"""The shared library, the C structures the binding passes, and the
prototypes of the functions it calls. Layouts follow include/nest/*.h
(each marked IMPORTANT: layout there); sizes are checked against the
library where it reports them."""
import ctypes
import ctypes.util
import os

u8, u16, u32, u64 = ctypes.c_uint8, ctypes.c_uint16, ctypes.c_uint32, ctypes.c_uint64
vp, sz, cint = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int


def _load():
    path = os.environ.get("NEST_LIBRARY") or ctypes.util.find_library("nest") or "libnest.so.0"
    return ctypes.CDLL(path)


lib = _load()

# The IA32_VMX_* capability MSRs in the order of struct nest_vmx_caps.
VMX_CAP_FIELDS = ("basic", "pinbased", "procbased", "exit", "entry", "misc", "cr0_fixed0",
                  "cr0_fixed1", "cr4_fixed0", "cr4_fixed1", "vmcs_enum", "procbased2",
                  "ept_vpid", "true_pinbased", "true_procbased", "true_exit", "true_entry",
                  "vmfunc", "procbased3", "exit2", "feature_control")
VMX_CAP_MSRS = dict(zip(VMX_CAP_FIELDS, list(range(0x480, 0x494)) + [0x3a]))


class VmxCaps(ctypes.Structure):
    _fields_ = ([("size", u32), ("reserved0", u32)] + [(n, u64) for n in VMX_CAP_FIELDS] +
                [("maxphyaddr", u32), ("reserved1", u32)])

    def __init__(self, **kw):
        super().__init__(size=ctypes.sizeof(VmxCaps), **kw)

    def to_dict(self):
        d = {n: getattr(self, n) for n in VMX_CAP_FIELDS}
        d["maxphyaddr"] = self.maxphyaddr
        return d


class VmxEntryResult(ctypes.Structure):
    _fields_ = [("size", u32), ("outcome", u32), ("vm_instruction_error", u32),
                ("exit_reason", u32), ("exit_qualification", u64), ("rule", u32),
                ("field", u32)]


class VmxMsrEntry(ctypes.Structure):
    _fields_ = [("index", u32), ("reserved", u32), ("value", u64)]


class VmcsField(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("encoding", u32), ("offset", u16), ("width", u8),
                ("type", u8), ("flags", u32), ("reserved", u32)]


class VmcbField(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("offset", u16), ("width", u8), ("clean", u8)]


class SvmCaps(ctypes.Structure):
    _fields_ = [("size", u32), ("features", u32), ("maxphyaddr", u32), ("long_mode", u32),
                ("efer_allowed", u64), ("cr4_allowed", u64)]


class SvmDiag(ctypes.Structure):
    _fields_ = [("rule", u32), ("offset", u32), ("value", u64)]


class L0Map(ctypes.Structure):
    _fields_ = [("hpa", u64), ("rights", u32), ("memtype", u8), ("page_shift", u8),
                ("ignore_pat", u8), ("reserved", u8)]


READ_L1 = ctypes.CFUNCTYPE(cint, vp, u64, vp, sz)
WRITE_L1 = ctypes.CFUNCTYPE(cint, vp, u64, vp, sz)
CMPXCHG_L1 = ctypes.CFUNCTYPE(cint, vp, u64, u64, u64, ctypes.POINTER(u64))
L1_TO_HOST = ctypes.CFUNCTYPE(cint, vp, u64, ctypes.POINTER(L0Map))
VMCS_READ = ctypes.CFUNCTYPE(cint, vp, cint, u32, ctypes.POINTER(u64))
VMCS_WRITE = ctypes.CFUNCTYPE(cint, vp, cint, u32, u64)
PAGE_ALLOC = ctypes.CFUNCTYPE(cint, vp, ctypes.POINTER(u64), ctypes.POINTER(vp))
PAGE_FREE = ctypes.CFUNCTYPE(None, vp, u64, vp)
FLUSH = ctypes.CFUNCTYPE(None, vp, u32, u64, u64)
LOG = ctypes.CFUNCTYPE(None, vp, cint, ctypes.c_char_p)
LINEAR = ctypes.CFUNCTYPE(cint, vp, u64, u32, ctypes.POINTER(u64), ctypes.POINTER(u32))
GUEST_RDMSR = ctypes.CFUNCTYPE(cint, vp, u32, ctypes.POINTER(u64))


class BackendOps(ctypes.Structure):
    _fields_ = [("size", u32), ("reserved0", u32), ("read_l1", READ_L1), ("write_l1", WRITE_L1),
                ("cmpxchg_l1", CMPXCHG_L1), ("l1_to_host", L1_TO_HOST),
                ("vmcs_read", VMCS_READ), ("vmcs_write", VMCS_WRITE),
                ("page_alloc", PAGE_ALLOC), ("page_free", PAGE_FREE), ("flush", FLUSH),
                ("log", LOG), ("l1_linear_to_phys", LINEAR), ("guest_rdmsr", GUEST_RDMSR)]


class Backend(ctypes.Structure):
    _fields_ = [("ops", ctypes.POINTER(BackendOps)), ("ctx", vp)]


class VmxConfig(ctypes.Structure):
    _fields_ = [("size", u32), ("vmx_allowed", u32), ("host_caps", ctypes.POINTER(VmxCaps)),
                ("features", u32), ("l1_maxphyaddr", u32), ("feature_control", u64),
                ("feature_control_extra", u64), ("l1_gbpages", u32), ("reserved0", u32)]


class VmxL0(ctypes.Structure):
    _fields_ = [("size", u32), ("flags", u32), ("pin", u32), ("proc", u32), ("proc2", u32),
                ("exit_ctls", u32), ("exception_bitmap", u32), ("vpid02", u32),
                ("cr0_mask", u64), ("cr4_mask", u64), ("tsc_offset", u64),
                ("tsc_multiplier", u64), ("eptp01", u64), ("preemption_timer", u32),
                ("reserved0", u32), ("msr_bitmap", vp), ("io_bitmap", vp), ("tdp", vp)]


class SvmPage(ctypes.Structure):
    _fields_ = [("hva", vp), ("hpa", u64)]


class SvmConfig(ctypes.Structure):
    _fields_ = [("size", u32), ("flags", u32), ("host_cpuid", u32 * 4), ("features", u32),
                ("l1_maxphyaddr", u32), ("l1_asids", u32), ("l2_asid", u32),
                ("l1_efer_allowed", u64), ("l1_cr4_allowed", u64), ("npt01_ncr3", u64),
                ("l0_tsc_ratio", u64), ("l0_intercepts", u32 * 6), ("l0_msrpm", vp),
                ("l0_iopm", vp), ("vmcb02", SvmPage), ("msrpm02", SvmPage),
                ("iopm02", SvmPage), ("tdp", vp)]


class TdpConfig(ctypes.Structure):
    _fields_ = [("size", u32), ("max_pages", u32), ("max_roots", u32), ("flags", u32),
                ("ept_vpid_cap", u64), ("maxphyaddr", u8), ("max_page_shift", u8),
                ("reserved", u8 * 6)]


def _proto(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)


P = ctypes.POINTER
for _name, _res, _args in (
        ("nest_version", u32, ()),
        ("nest_strerror", ctypes.c_char_p, (cint,)),
        ("nest_vmcs_field_by_encoding", P(VmcsField), (u32,)),
        ("nest_vmcs_field_by_name", P(VmcsField), (ctypes.c_char_p,)),
        ("nest_vmcs_field_at", P(VmcsField), (sz,)),
        ("nest_vmcs_field_count", sz, ()),
        ("nest_vmcb_field_by_name", P(VmcbField), (ctypes.c_char_p,)),
        ("nest_vmcb_field_by_offset", P(VmcbField), (u32,)),
        ("nest_vmcb_field_at", P(VmcbField), (sz,)),
        ("nest_vmcb_field_count", sz, ()),
        ("nest_vmcb_read", u64, (vp, P(VmcbField))),
        ("nest_vmcb_write", None, (vp, P(VmcbField), u64)),
        ("nest_vmx_caps_default", cint, (P(VmxCaps),)),
        ("nest_vmcs12_image_size", sz, ()),
        ("nest_vmcs12_image_init", cint, (vp,)),
        ("nest_vmcs12_image_read", cint, (vp, u32, P(u64))),
        ("nest_vmcs12_image_write", cint, (vp, u32, u64)),
        ("nest_vmx_check_vmcs12", cint, (vp, sz, P(VmxCaps), P(VmxEntryResult))),
        ("nest_vmx_check_msr_load", cint, (P(VmxMsrEntry), u32, P(VmxCaps), P(VmxEntryResult))),
        ("nest_vmx_rule_name", ctypes.c_char_p, (u32,)),
        ("nest_vmx_rule_text", ctypes.c_char_p, (u32,)),
        ("nest_vmx_rule_section", ctypes.c_char_p, (u32,)),
        ("nest_svm_check_vmcb", cint, (vp, P(SvmCaps), P(SvmDiag))),
        ("nest_svm_check_name", ctypes.c_char_p, (u32,)),
        ("nest_svm_check_text", ctypes.c_char_p, (u32,)),
        ("nest_vmx_size", sz, ()),
        ("nest_vmx_init", cint, (vp, sz, P(Backend), P(VmxConfig), P(vp))),
        ("nest_vmx_offered_caps", cint, (vp, P(VmxCaps))),
        ("nest_vmx_set_l0", cint, (vp, P(VmxL0))),
        ("nest_svm_size", sz, ()),
        ("nest_svm_init", cint, (vp, sz, P(Backend), P(SvmConfig), P(vp))),
        ("nest_svm_get_caps", cint, (vp, P(SvmCaps))),
        ("nest_svm_cpuid", cint, (vp, u32, u32, P(u32))),
        ("nest_tdp_size", sz, (P(TdpConfig),)),
        ("nest_tdp_init", cint, (vp, sz, P(Backend), P(TdpConfig), P(vp))),
        ("nest_tdp_fini", None, (vp,)),
        ("nest_vmx_state_size", sz, ()),
        ("nest_vmx_save_state", cint, (vp, vp, sz, P(sz))),
        ("nest_vmx_restore_state", cint, (vp, vp, sz)),
        ("nest_vmx_kvm_state_size", sz, ()),
        ("nest_vmx_to_kvm_nested_state", cint, (vp, vp, sz, P(sz))),
        ("nest_vmx_from_kvm_nested_state", cint, (vp, vp, sz)),
        ("nest_svm_state_size", sz, ()),
        ("nest_svm_save_state", cint, (vp, vp, vp, sz, P(sz))),
        ("nest_svm_restore_state", cint, (vp, vp, vp, sz)),
        ("nest_svm_kvm_state_size", sz, ()),
        ("nest_svm_to_kvm_nested_state", cint, (vp, vp, vp, sz, P(sz))),
        ("nest_svm_from_kvm_nested_state", cint, (vp, vp, vp, sz)),
):
    _proto(_name, _res, *_args)
