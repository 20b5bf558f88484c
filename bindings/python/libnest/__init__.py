# SPDX-License-Identifier: MIT
"""ctypes binding of libnest.

Loads the shared library named by the NEST_LIBRARY environment variable, or
the installed libnest.so.0. Constants come from _constants.py, generated
from the C headers at build time. What it offers:

- the VMCS and VMCB field tables, status texts, the version;
- VM-entry checks of a vmcs12 (check_vmcs12) and VMRUN's consistency
  checks of a VMCB (check_vmcb), each naming the failing rule and its
  SDM/APM section;
- nested-state snapshots in libnest's format and KVM's kvm_nested_state:
  parse_state, validate_state, convert_state (nest/state.h);
- capabilities: what libnest offers L1 from a host's capability MSRs (VMX)
  or CPUID leaf 0x8000000A (SVM) and a policy (vmx_offered_caps,
  svm_offered), read_host_caps for capability dump files.
"""
import ctypes
import os
import struct

from . import _ffi as F
from ._constants import *  # noqa: F401,F403
from ._constants import (MACROS, NEST_E_FORMAT, NEST_KVM_NESTED_STATE_HDR_SIZE, NEST_OK,
                         NEST_STATE_ARCH_SVM, NEST_STATE_ARCH_VMX, NEST_STATE_MAGIC,
                         NEST_SVM_F_SUPPORTED, NEST_VMX_F_ALL, STATUS, STATUS_TEXT,
                         SVM_CHECKS, VERSION, VMCB, VMX_RULES)
from ._ffi import VMX_CAP_FIELDS, VMX_CAP_MSRS, lib
from ._offline import OfflineL0

__all__ = ["Error", "lib", "version", "strerror", "status_name", "VmcsField", "vmcs_field",
           "vmcs_fields", "vmcb_fields", "EntryResult", "VmcbResult", "vmx_caps_default",
           "read_vmcs12_text", "check_vmcs12", "read_vmcb_text", "check_vmcb",
           "read_host_caps", "vmx_offered_caps", "vmx_features_of", "svm_offered",
           "features_mask", "NestedState", "parse_state", "validate_state", "convert_state",
           "StateReport"]

_STATUS_NAME = {v: k for k, v in STATUS.items()}


class Error(Exception):
    """A libnest status other than NEST_OK."""

    def __init__(self, status, what=None):
        text = f"{STATUS_TEXT.get(status, 'unknown status')} ({status})"
        super().__init__(f"{what}: {text}" if what else text)
        self.status = status


def _ok(rc, what):
    if rc != NEST_OK:
        raise Error(rc, what)


def version():
    """The library's (major, minor, patch)."""
    v = lib.nest_version()
    return (v >> 16, (v >> 8) & 0xff, v & 0xff)


def strerror(status):
    """Text of a status code."""
    return lib.nest_strerror(status).decode()


def status_name(status):
    """NEST_OK, NEST_E_FORMAT, ... for a status code."""
    return _STATUS_NAME.get(status, f"status {status}")


class VmcsField:
    """One row of the VMCS field table."""
    WIDTHS = {0: 16, 1: 64, 2: 32, 3: "natural"}
    TYPES = {0: "control", 1: "read-only", 2: "guest", 3: "host"}

    def __init__(self, raw):
        self.name = raw.name.decode()
        self.encoding = raw.encoding
        self.offset = raw.offset
        self.width = self.WIDTHS[raw.width]
        self.type = self.TYPES[raw.type]
        self.flags = raw.flags

    @property
    def bits(self):
        return 64 if self.width == "natural" else self.width

    def __repr__(self):
        return f"VmcsField({self.name}, {self.encoding:#06x}, {self.width}, {self.type})"


def vmcs_field(key):
    """Look a field up by name (str) or encoding (int); None if unknown."""
    if isinstance(key, str):
        p = lib.nest_vmcs_field_by_name(key.encode())
    else:
        p = lib.nest_vmcs_field_by_encoding(key)
    return VmcsField(p.contents) if p else None


def vmcs_fields():
    """Every field, in table order."""
    return [VmcsField(lib.nest_vmcs_field_at(i).contents)
            for i in range(lib.nest_vmcs_field_count())]


def vmcb_fields():
    """Every VMCB field as (name, offset, width in bytes), in offset order."""
    out = []
    for i in range(lib.nest_vmcb_field_count()):
        f = lib.nest_vmcb_field_at(i).contents
        out.append((f.name.decode(), f.offset, f.width))
    return out


# ---------------------------------------------------------------- numbers

def _num(text):
    """A number as the text formats write it: decimal, or 0x hex with '_'."""
    t = text.strip()
    if t.lower().startswith("0x"):
        return int(t[2:].replace("_", ""), 16)
    if t.startswith(("-", "+")) or not t.isdigit():
        raise ValueError(f"bad number '{text.strip()}'")
    return int(t, 10)


def _lines(path_or_text):
    """(line number, content without comment) of a file, '-' or a text."""
    if "\n" in path_or_text or ("=" in path_or_text and not os.path.exists(path_or_text)):
        text = path_or_text
    else:
        with open(path_or_text, encoding="utf-8") as f:
            text = f.read()
    for i, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if line:
            yield i, line


# ------------------------------------------------------------ VMX checks

def vmx_caps_default():
    """nest_vmx_caps_default(): the typical capabilities, as a dict."""
    c = F.VmxCaps()
    _ok(lib.nest_vmx_caps_default(ctypes.byref(c)), "nest_vmx_caps_default")
    return c.to_dict()


def _vmx_caps(d):
    c = F.VmxCaps()
    for k, v in d.items():
        if k not in VMX_CAP_FIELDS and k != "maxphyaddr":
            raise KeyError(f"unknown capability '{k}'")
        setattr(c, k, v)
    return c


class EntryResult:
    """What a VM entry of a vmcs12 would do (struct nest_vmx_entry_result)."""
    OUTCOMES = {0: "ok", 1: "vmfail", 2: "entry-failure"}

    def __init__(self, raw):
        self.outcome = self.OUTCOMES[raw.outcome]
        self.ok = raw.outcome == 0
        self.vm_instruction_error = raw.vm_instruction_error
        self.exit_reason = raw.exit_reason
        self.exit_qualification = raw.exit_qualification
        self.rule_id = raw.rule
        self.rule = lib.nest_vmx_rule_name(raw.rule).decode()
        self.section = "SDM " + lib.nest_vmx_rule_section(raw.rule).decode()
        self.text = lib.nest_vmx_rule_text(raw.rule).decode()
        f = None if raw.field == 0xffffffff else vmcs_field(raw.field)
        self.field = f.name if f else None

    def line(self):
        """The line `nestctl vmx check` prints."""
        if self.ok:
            return "ok"
        where = f"{self.section}, field {self.field}" if self.field else self.section
        rule = f"{self.rule} ({where}): {self.text}"
        if self.outcome == "vmfail":
            return f"vmfail {self.vm_instruction_error}: {rule}"
        return (f"entry-failure reason={self.exit_reason & 0xffff} "
                f"qualification={self.exit_qualification}: {rule}")

    def __repr__(self):
        return f"EntryResult({self.line()!r})"


def read_vmcs12_text(path_or_text):
    """Read the text format of `nestctl vmx check`: FIELD = VALUE lines,
    CAP NAME = VALUE capability overrides, MSR_LOAD = INDEX VALUE entries.
    Returns (fields by name, capability overrides, MSR-load entries)."""
    fields, caps, msrs = {}, {}, []
    for n, line in _lines(path_or_text):
        key, sep, val = (s.strip() for s in line.partition("="))
        if not sep or not val:
            raise ValueError(f"line {n}: expected 'FIELD = VALUE', got '{line}'")
        if key.startswith("CAP") and key[3:4].isspace():
            caps[key[4:].strip()] = _num(val)
        elif key == "MSR_LOAD":
            idx, val2 = val.replace(",", " ").split(None, 1)
            msrs.append((_num(idx), _num(val2)))
        else:
            f = vmcs_field(_num(key) if key[:1].isdigit() else key)
            if f is None:
                raise ValueError(f"line {n}: unknown VMCS field '{key}'")
            if f.name in fields:
                raise ValueError(f"line {n}: field '{f.name}' is set twice")
            fields[f.name] = _num(val)
    return fields, caps, msrs


def vmcs12_image(fields):
    """A libnest vmcs12 image (bytes) holding fields (name or encoding -> value)."""
    img = ctypes.create_string_buffer(lib.nest_vmcs12_image_size())
    lib.nest_vmcs12_image_init(img)
    for key, value in fields.items():
        f = vmcs_field(key)
        if f is None:
            raise KeyError(f"unknown VMCS field {key!r}")
        if f.bits < 64 and value >> f.bits:
            raise ValueError(f"{f.name}: {value:#x} is wider than the field")
        _ok(lib.nest_vmcs12_image_write(img, f.encoding, value), f.name)
    return img.raw


def vmcs12_fields(image):
    """Every nonzero field of a libnest vmcs12 image, by name, in table order."""
    buf = ctypes.create_string_buffer(max(len(image), lib.nest_vmcs12_image_size()))
    ctypes.memmove(buf, image, len(image))
    out, v = {}, ctypes.c_uint64()
    for f in vmcs_fields():
        if lib.nest_vmcs12_image_read(buf, f.encoding, ctypes.byref(v)) == NEST_OK and v.value:
            out[f.name] = v.value
    return out


def check_vmcs12(vmcs12, caps=None, msr_load=None):
    """Run libnest's VM-entry checks (SDM 27.2-27.4) on a vmcs12.

    vmcs12: a dict of field names (or encodings) to values, or the path of
    a file in `nestctl vmx check`'s format (its CAP and MSR_LOAD lines
    apply). caps: capability overrides of nest_vmx_caps_default() (a dict
    of nest_vmx_caps member names). msr_load: (index, value) pairs of the
    VM-entry MSR-load area. Returns an EntryResult."""
    cap_over, msrs = {}, list(msr_load or [])
    if isinstance(vmcs12, str):
        vmcs12, cap_over, file_msrs = read_vmcs12_text(vmcs12)
        msrs += file_msrs
    vmcs12 = dict(vmcs12)
    c = vmx_caps_default()
    c.update(cap_over)
    c.update(caps or {})
    ccaps = _vmx_caps(c)
    names = {vmcs_field(k).name for k in vmcs12 if vmcs_field(k)}
    if msrs and "VM_ENTRY_MSR_LOAD_COUNT" not in names:
        vmcs12["VM_ENTRY_MSR_LOAD_COUNT"] = len(msrs)
    img = ctypes.create_string_buffer(vmcs12_image(vmcs12))
    res = F.VmxEntryResult(size=ctypes.sizeof(F.VmxEntryResult))
    _ok(lib.nest_vmx_check_vmcs12(img, len(img.raw), ctypes.byref(ccaps), ctypes.byref(res)),
        "nest_vmx_check_vmcs12")
    count = ctypes.c_uint64()
    lib.nest_vmcs12_image_read(img, MACROS.get("NEST_VMCS_VM_ENTRY_MSR_LOAD_COUNT", 0x4014),
                               ctypes.byref(count))
    if res.outcome == 0 and count.value:
        if count.value > len(msrs):
            raise ValueError(f"VM_ENTRY_MSR_LOAD_COUNT is {count.value}, "
                             f"{len(msrs)} MSR-load entries given")
        arr = (F.VmxMsrEntry * max(1, len(msrs)))(*[F.VmxMsrEntry(i, 0, v) for i, v in msrs])
        _ok(lib.nest_vmx_check_msr_load(arr, count.value, ctypes.byref(ccaps),
                                        ctypes.byref(res)), "nest_vmx_check_msr_load")
    return EntryResult(res)


# ------------------------------------------------------------ SVM checks

EFER_DEFAULT_ALLOWED = 0x1 | 0x100 | 0x400 | 0x800 | 0x1000 | 0x4000
CR4_DEFAULT_ALLOWED = 0x770fff
_SVM_REF = {i + 1: c for i, c in enumerate(SVM_CHECKS)}


class VmcbResult:
    """The outcome of VMRUN's consistency checks (struct nest_svm_diag)."""

    def __init__(self, raw):
        self.ok = raw.rule == 0
        self.rule_id = raw.rule
        self.rule = lib.nest_svm_check_name(raw.rule).decode()
        ref = _SVM_REF.get(raw.rule)
        self.section = ref[3] if ref else ""
        self.text = ref[2] if ref else ""
        self.description = lib.nest_svm_check_text(raw.rule).decode()
        f = lib.nest_vmcb_field_by_offset(raw.offset) if not self.ok else None
        self.field = f.contents.name.decode() if f else None
        self.offset = raw.offset
        self.value = raw.value

    def line(self):
        """The line `nestctl svm check` prints."""
        return "ok" if self.ok else f"vmexit-invalid: {self.rule}"

    def __repr__(self):
        return f"VmcbResult({self.line()!r})"


def read_vmcb_text(path_or_text):
    """Read `nestctl svm check`'s format: FIELD = VALUE lines (names of the
    VMCB table, any case, or byte offsets; a later line overrides).
    Returns {field name: value}."""
    out = {}
    for n, line in _lines(path_or_text):
        key, sep, val = (s.strip() for s in line.partition("="))
        if not sep or not val:
            raise ValueError(f"line {n}: expected 'FIELD = VALUE', got '{line}'")
        if key[:1].isdigit():
            p = lib.nest_vmcb_field_by_offset(_num(key))
        else:
            p = lib.nest_vmcb_field_by_name(key.encode())
        if not p:
            raise ValueError(f"line {n}: unknown VMCB field '{key}'")
        f = p.contents
        value = int(val, 0)
        if f.width < 8 and value >> (8 * f.width):
            raise ValueError(f"line {n}: value '{val}' is wider than the field")
        out[f.name.decode()] = value
    return out


def vmcb_image(fields):
    """A 4096-byte VMCB image holding fields (name -> value)."""
    img = ctypes.create_string_buffer(4096)
    for name, value in fields.items():
        p = lib.nest_vmcb_field_by_name(name.encode())
        if not p:
            raise KeyError(f"unknown VMCB field {name!r}")
        lib.nest_vmcb_write(img, p, value)
    return img.raw


def vmcb_fields_of(image):
    """Every nonzero field of a VMCB image, by name, in offset order."""
    buf = ctypes.create_string_buffer(bytes(image[:4096]).ljust(4096, b"\0"))
    out = {}
    for i in range(lib.nest_vmcb_field_count()):
        p = lib.nest_vmcb_field_at(i)
        v = lib.nest_vmcb_read(buf, p)
        if v:
            out[p.contents.name.decode()] = v
    return out


def check_vmcb(vmcb, maxphyaddr=48, features=NEST_SVM_F_SUPPORTED, long_mode=True,
               cr4_allowed=CR4_DEFAULT_ALLOWED, efer_allowed=EFER_DEFAULT_ALLOWED):
    """Apply VMRUN's consistency checks (APM 15.5.1) to a VMCB: a dict of
    field names to values, or the path of a `nestctl svm check` file. The
    keyword arguments describe the processor L1 sees (nestctl's defaults).
    Returns a VmcbResult."""
    if isinstance(vmcb, str):
        vmcb = read_vmcb_text(vmcb)
    img = ctypes.create_string_buffer(vmcb_image(vmcb))
    caps = F.SvmCaps(size=ctypes.sizeof(F.SvmCaps), features=features, maxphyaddr=maxphyaddr,
                     long_mode=1 if long_mode else 0, efer_allowed=efer_allowed,
                     cr4_allowed=cr4_allowed)
    diag = F.SvmDiag()
    _ok(lib.nest_svm_check_vmcb(img, ctypes.byref(caps), ctypes.byref(diag)),
        "nest_svm_check_vmcb")
    return VmcbResult(diag)


# ---------------------------------------------------------- capabilities

VMX_FEATURES = {k[len("NEST_VMX_F_"):].lower(): v for k, v in MACROS.items()
                if k.startswith("NEST_VMX_F_") and k != "NEST_VMX_F_ALL"}
SVM_FEATURES = {k[len("NEST_SVM_F_"):].lower(): v for k, v in MACROS.items()
                if k.startswith("NEST_SVM_F_") and k != "NEST_SVM_F_SUPPORTED"}


def features_mask(features, arch="vmx"):
    """A policy mask from an int, or names ('ept', 'vpid', ...; 'all', 'none')."""
    if isinstance(features, int):
        return features
    table = VMX_FEATURES if arch == "vmx" else SVM_FEATURES
    mask = 0
    for name in features:
        name = name.strip().lower()
        if name == "none":
            continue
        if name == "all":
            mask |= NEST_VMX_F_ALL if arch == "vmx" else NEST_SVM_F_SUPPORTED
        elif name in table:
            mask |= table[name]
        else:
            raise ValueError(f"unknown {arch} feature '{name}'")
    return mask


def read_host_caps(path_or_text):
    """Read a host's capability dump: KEY = VALUE lines, KEY an MSR number
    (0x480-0x493, 0x3a) or a nest_vmx_caps member name (basic, ...),
    'maxphyaddr', or 'cpuid_8000000a' with four values EAX EBX ECX EDX (an
    SVM host). Returns {'arch': 'vmx'|'svm', 'caps': {...}} with
    'cpuid' for SVM."""
    by_msr = {v: k for k, v in VMX_CAP_MSRS.items()}
    caps, cpuid, maxphy = {}, None, None
    for n, line in _lines(path_or_text):
        key, sep, val = (s.strip() for s in line.partition("="))
        if not sep or not val:
            raise ValueError(f"line {n}: expected 'KEY = VALUE', got '{line}'")
        k = key.lower()
        if k == "cpuid_8000000a":
            cpuid = [_num(x) for x in val.split()]
            if len(cpuid) != 4:
                raise ValueError(f"line {n}: cpuid_8000000a needs EAX EBX ECX EDX")
        elif k == "maxphyaddr":
            maxphy = _num(val)
        elif k in VMX_CAP_FIELDS:
            caps[k] = _num(val)
        elif k[:1].isdigit() and _num(k) in by_msr:
            caps[by_msr[_num(k)]] = _num(val)
        else:
            raise ValueError(f"line {n}: unknown key '{key}'")
    if cpuid is not None and caps:
        raise ValueError("a dump is either VMX (MSRs) or SVM (cpuid_8000000a)")
    if cpuid is not None:
        return {"arch": "svm", "cpuid": cpuid, "maxphyaddr": maxphy or 48}
    if "basic" not in caps:
        raise ValueError("no IA32_VMX_BASIC (0x480) in the dump")
    caps["maxphyaddr"] = maxphy or caps.get("maxphyaddr", 46)
    return {"arch": "vmx", "caps": caps}


def vmx_offered_caps(host_caps, features=NEST_VMX_F_ALL, maxphyaddr=None):
    """The capability MSRs libnest offers L1 (nest_vmx_offered_caps()) on a
    host with these MSR values (dict of nest_vmx_caps members) under a
    policy (NEST_VMX_F_* mask or names)."""
    host = _vmx_caps(host_caps)
    off = OfflineL0()
    rc, ctx = off.vmx(host, features_mask(features, "vmx"),
                      maxphyaddr or host_caps.get("maxphyaddr") or 46, with_l0=False)
    _ok(rc, "nest_vmx_init")
    out = F.VmxCaps()
    _ok(lib.nest_vmx_offered_caps(ctx, ctypes.byref(out)), "nest_vmx_offered_caps")
    return out.to_dict()


def _allowed1(caps, msr, true_msr, bit):
    value = caps.get(true_msr) if (caps["basic"] >> 55) & 1 and caps.get(true_msr) else caps[msr]
    return bool((value >> (32 + bit)) & 1)


def vmx_features_of(caps):
    """Which NEST_VMX_F_* features a set of capability MSRs offers."""
    p2 = caps["procbased2"] if _allowed1(caps, "procbased", "true_procbased", 31) else 0
    sec = lambda bit: bool((p2 >> (32 + bit)) & 1)  # noqa: E731
    return {
        "ept": sec(1), "vpid": sec(5), "unrestricted_guest": sec(7),
        "preemption_timer": _allowed1(caps, "pinbased", "true_pinbased", 6),
        "vmcs_shadowing": sec(14), "pml": sec(17), "apicv": sec(0) or sec(8),
        "vmfunc": sec(13), "tsc_scaling": sec(25),
        "vmwrite_any": bool((caps["misc"] >> 29) & 1),
        "posted_intr": _allowed1(caps, "pinbased", "true_pinbased", 7),
    }


def svm_offered(host_cpuid, features=NEST_SVM_F_SUPPORTED, maxphyaddr=48, long_mode=True):
    """What libnest offers L1 on an SVM host with CPUID 0x8000000A =
    host_cpuid (EAX, EBX, ECX, EDX) under a policy: {'features': mask,
    'names': [...], 'cpuid': L1's 0x8000000A, 'maxphyaddr', 'asids'}."""
    off = OfflineL0()
    rc, ctx, _vmcb01 = off.svm(host_cpuid, features_mask(features, "svm"), maxphyaddr,
                               long_mode)
    _ok(rc, "nest_svm_init")
    caps = F.SvmCaps(size=ctypes.sizeof(F.SvmCaps))
    _ok(lib.nest_svm_get_caps(ctx, ctypes.byref(caps)), "nest_svm_get_caps")
    regs = (ctypes.c_uint32 * 4)(*host_cpuid)
    lib.nest_svm_cpuid(ctx, 0x8000000a, 0, regs)
    return {"features": caps.features,
            "names": [n for n, m in SVM_FEATURES.items() if caps.features & m],
            "cpuid": list(regs), "maxphyaddr": caps.maxphyaddr, "asids": regs[1]}


# ---------------------------------------------------------- nested state

_HDR = struct.Struct("<IHHIIQ")
_VMX_BODY = struct.Struct("<QQQQQQQQQQIIIIII")
_VMX_BODY_NAMES = ("vmxon_ptr", "current_vmptr", "feature_control", "l1_cr0", "l1_cr4",
                   "l1_efer", "l1_pat", "l1_debugctl", "l1_dr7", "l1_intr", "timer_start",
                   "timer_now", "event_info", "event_error", "event_len", "image_size")
_SVM_BODY = struct.Struct("<QQQQ")
_SVM_BODY_NAMES = ("hsave_pa", "vm_cr", "tsc_ratio", "vmcb12_pa")
_KVM_HDR = struct.Struct("<HHI")
_KVM_VMX = struct.Struct("<QQHHIQ")
_KVM_VMX_NAMES = ("vmxon_pa", "vmcs12_pa", "smm_flags", "pad", "vmx_flags",
                  "preemption_timer_deadline")
_SVM_HOST_SEGS = ("es", "cs", "ss", "ds", "gdtr", "idtr")
_SVM_HOST_REGS = ("efer", "cr0", "cr3", "cr4", "rflags", "rip", "rsp", "rax")


# Flag names in bit order, as `nestctl state show` prints them.
STATE_FLAGS = {
    ("libnest", "vmx"): ("vmxon", "current_vmcs", "guest_mode", "timer_active", "l1_timer"),
    ("libnest", "svm"): ("svme", "gif", "guest_mode"),
    ("kvm", "vmx"): ("guest_mode", "run_pending", "evmcs", "mtf_pending", "", "", "", "",
                     "gif_set"),
}
STATE_FLAGS[("kvm", "svm")] = STATE_FLAGS[("kvm", "vmx")]


def _flag_names(flags, fmt, arch):
    names = STATE_FLAGS.get((fmt, arch), ())
    out = [n for i, n in enumerate(names) if n and flags >> i & 1]
    known = sum(1 << i for i, n in enumerate(names) if n)
    return out + ([f"{flags & ~known:#x}"] if flags & ~known else [])


class NestedState:
    """A parsed snapshot: format ('libnest' or 'kvm'), arch ('vmx'/'svm'),
    header and body fields in file order, and the nonzero fields of the
    vmcs12/vmcb12 it carries (for KVM's VMX format, those of libnest's
    conversion; None when it cannot be converted)."""

    def __init__(self, data):
        self.data = bytes(data)
        self.fields = []   # (name, value) in file order
        self.vmcs12 = None
        self.vmcb12 = None
        self.vmcb02 = None
        self.host = None
        if len(data) >= 4 and struct.unpack_from("<I", data)[0] == NEST_STATE_MAGIC:
            self._libnest()
        else:
            self._kvm()

    def _libnest(self):
        d = self.data
        if len(d) < _HDR.size:
            raise Error(NEST_E_FORMAT, "shorter than the 24-byte header")
        magic, ver, arch, size, flags, res = _HDR.unpack_from(d)
        self.format = "libnest"
        self.arch = {NEST_STATE_ARCH_VMX: "vmx", NEST_STATE_ARCH_SVM: "svm"}.get(arch,
                                                                               f"arch {arch}")
        self.flags = flags
        self.fields += [("magic", magic), ("version", ver), ("arch", arch), ("size", size),
                        ("flags", flags), ("reserved", res)]
        self.flag_names = _flag_names(flags, "libnest", self.arch)
        if self.arch == "vmx" and len(d) >= _HDR.size + _VMX_BODY.size:
            body = dict(zip(_VMX_BODY_NAMES, _VMX_BODY.unpack_from(d, _HDR.size)))
            self.fields += list(body.items())
            img = d[128:128 + body["image_size"]]
            if len(img) >= 16:
                rev, abort, launch = struct.unpack_from("<III", img)
                self.fields += [("vmcs12.revision", rev), ("vmcs12.abort", abort),
                                ("vmcs12.launch_state", launch)]
                self.vmcs12 = vmcs12_fields(img)
        elif self.arch == "svm" and len(d) >= lib.nest_svm_state_size():
            self.fields += list(zip(_SVM_BODY_NAMES, _SVM_BODY.unpack_from(d, _HDR.size)))
            self.vmcb12 = vmcb_fields_of(d[56:56 + 4096])
            self.vmcb02 = vmcb_fields_of(d[4152:4152 + 4096])
            self.host = self._svm_host(d[8248:lib.nest_svm_state_size()])

    @staticmethod
    def _svm_host(b):
        out = {}
        for i, s in enumerate(_SVM_HOST_SEGS):
            sel, attr, limit, base = struct.unpack_from("<HHIQ", b, 16 * i)
            out[s] = {"selector": sel, "attrib": attr, "limit": limit, "base": base}
        for i, r in enumerate(_SVM_HOST_REGS):
            out[r] = struct.unpack_from("<Q", b, 96 + 8 * i)[0]
        return out

    def _kvm(self):
        d = self.data
        if len(d) < NEST_KVM_NESTED_STATE_HDR_SIZE:
            raise Error(NEST_E_FORMAT, "neither a libnest stream (magic NSTS) nor a "
                        "kvm_nested_state (128-byte header)")
        flags, fmt, size = _KVM_HDR.unpack_from(d)
        self.format = "kvm"
        self.arch = {0: "vmx", 1: "svm"}.get(fmt, f"format {fmt}")
        self.flags = flags
        self.flag_names = _flag_names(flags, "kvm", self.arch)
        self.fields += [("flags", flags), ("format", fmt), ("size", size)]
        if self.arch == "vmx":
            hdr = dict(zip(_KVM_VMX_NAMES, _KVM_VMX.unpack_from(d, 8)))
            self.fields += [("hdr.vmx." + k, v) for k, v in hdr.items()]
            if size > 128 and len(d) >= 128 + 12:
                rev, abort, launch = struct.unpack_from("<III", d, 128)
                self.fields += [("vmcs12.revision", rev), ("vmcs12.abort", abort),
                                ("vmcs12.launch_state", launch)]
            try:
                self.vmcs12 = NestedState(convert_state(d, "libnest")).vmcs12
            except Error:
                self.vmcs12 = None
        elif self.arch == "svm":
            self.fields.append(("hdr.svm.vmcb_pa", struct.unpack_from("<Q", d, 8)[0]))
            if size > 128 and len(d) >= 128 + 4096:
                area = d[128:128 + 4096]
                self.vmcb12 = vmcb_fields_of(area[:0x400] + bytes(4096 - 0x400))
                save = vmcb_fields_of(bytes(0x400) + area[0x400:])
                self.host = save

    def show(self):
        """The field-by-field text `nestctl state show` prints."""
        out = [f"format: {self.format} {self.arch}",
               f"flags: {' '.join(self.flag_names) or '-'}"]
        out += [f"{k} = {v:#x}" for k, v in self.fields]
        for title, table in (("vmcs12", self.vmcs12), ("vmcb12", self.vmcb12),
                             ("vmcb02", self.vmcb02)):
            if table:
                out += [f"{title}.{k} = {v:#x}" for k, v in table.items()]
        if self.host and self.format == "libnest":
            for k, v in self.host.items():
                if isinstance(v, dict):
                    out += [f"host.{k}.{kk} = {vv:#x}" for kk, vv in v.items()]
                else:
                    out.append(f"host.{k} = {v:#x}")
        elif self.host:
            out += [f"host.{k} = {v:#x}" for k, v in self.host.items()]
        return "\n".join(out)


def parse_state(data):
    """Parse a snapshot (bytes, or a path) in either format."""
    if isinstance(data, str):
        with open(data, "rb") as f:
            data = f.read()
    return NestedState(data)


class StateReport:
    """validate_state()'s outcome: status (NEST_OK when the library takes
    the state in), problems [(field, message)] naming each rejected field,
    and the entry-check result of a vmcs12 in guest mode."""

    def __init__(self, status, problems, entry=None):
        self.status = status
        self.status_name = status_name(status)
        self.ok = status == NEST_OK
        self.problems = problems
        self.entry = entry

    def __repr__(self):
        return f"StateReport({self.status_name}, {self.problems})"


def _host_vmx(host_caps):
    caps = dict(host_caps) if host_caps else vmx_caps_default()
    return _vmx_caps(caps), caps.get("maxphyaddr") or 46


def _vmx_field_problems(st):
    """The field-by-field rules of docs/state.md a stream breaks (what the
    library reports as one status)."""
    f, p = dict(st.fields), []
    ones = (1 << 64) - 1
    if st.format == "libnest":
        if f["version"] != MACROS["NEST_STATE_VERSION"]:
            p.append(("version", f"{f['version']} is not {MACROS['NEST_STATE_VERSION']}"))
        if f["reserved"]:
            p.append(("reserved", "must be zero"))
        if f["flags"] & ~MACROS["NEST_STATE_VMX_F_ALL"]:
            p.append(("flags", "unknown bits"))
        if "image_size" not in f:
            p.append(("size", "shorter than the 128-byte body"))
            return p
        if f["size"] != 128 + f["image_size"]:
            p.append(("size", f"is not 128 + image_size ({128 + f['image_size']})"))
        if f["size"] > len(st.data):
            p.append(("size", f"beyond the {len(st.data)} bytes of the file"))
        vmxon = f["flags"] & MACROS["NEST_STATE_VMX_F_VMXON"]
        cur = f["flags"] & MACROS["NEST_STATE_VMX_F_CURRENT_VMCS"]
        guest = f["flags"] & MACROS["NEST_STATE_VMX_F_GUEST_MODE"]
        if not vmxon:
            for k in ("vmxon_ptr", "current_vmptr"):
                if f[k] != ones:
                    p.append((k, "not all ones outside VMX operation"))
        else:
            if f["feature_control"] & 5 != 5:
                p.append(("feature_control", "lock and VMXON outside SMX must be set"))
            if f["vmxon_ptr"] & 0xfff:
                p.append(("vmxon_ptr", "not 4 KiB aligned"))
        if cur:
            if f["current_vmptr"] & 0xfff:
                p.append(("current_vmptr", "not 4 KiB aligned"))
            if f["current_vmptr"] == f["vmxon_ptr"]:
                p.append(("current_vmptr", "is the VMXON pointer"))
            if f.get("vmcs12.launch_state", 0) > 1:
                p.append(("vmcs12.launch_state", "neither 0 nor 1"))
        elif cur == 0 and any(st.data[128:f["size"]]):
            p.append(("vmcs12", "not all zero without a current VMCS"))
        if not guest:
            for k in _VMX_BODY_NAMES[3:15]:
                if f[k]:
                    p.append((k, "nonzero outside guest mode"))
        elif not (vmxon and cur and f.get("vmcs12.launch_state") == 1):
            p.append(("flags", "guest mode without VMX operation and a launched current VMCS"))
    else:
        if f["flags"] & 0x2 or f["flags"] & 0x4 or f["flags"] & 0x8:
            p.append(("flags", "RUN_PENDING, EVMCS or MTF_PENDING: libnest cannot represent it"))
        if f["hdr.vmx.smm_flags"]:
            p.append(("hdr.vmx.smm_flags", "SMM state: libnest cannot represent it"))
        if f["size"] > 128 and f.get("vmcs12.revision", 0) & 0x7fffffff != \
                MACROS["NEST_KVM_VMCS12_REVISION"]:
            p.append(("vmcs12.revision", "not KVM's vmcs12 revision"))
    return p


def _vmx_guest_entry(st, caps):
    """Guest mode: the VM-entry checks on the image (SDM 27.2-27.3)."""
    if not st.flags & MACROS["NEST_STATE_VMX_F_GUEST_MODE"] or st.vmcs12 is None:
        return None
    fields = dict(st.vmcs12)
    info = dict(st.fields).get("event_info", 0)
    if info:
        fields["VM_ENTRY_INTR_INFO_FIELD"] = info
    img = ctypes.create_string_buffer(vmcs12_image(fields))
    res = F.VmxEntryResult(size=ctypes.sizeof(F.VmxEntryResult))
    lib.nest_vmx_check_vmcs12(img, len(img.raw), ctypes.byref(caps), ctypes.byref(res))
    return EntryResult(res)


def validate_state(data, host_caps=None, features=NEST_VMX_F_ALL, svm_cpuid=None,
                   svm_features=NEST_SVM_F_SUPPORTED, maxphyaddr=None):
    """Would libnest restore this snapshot on this host? The library
    restores it into a scratch context (an offline L0 whose L1 memory is
    zero); problems name the fields that break the format's rules.
    host_caps: VMX capability MSRs (dict; default nest_vmx_caps_default());
    svm_cpuid: the host's CPUID 0x8000000A (default: every feature)."""
    st = parse_state(data)
    data = st.data
    off = OfflineL0()
    problems, entry = [], None
    if st.arch == "vmx":
        host, mpa = _host_vmx(host_caps)
        rc, ctx = off.vmx(host, features_mask(features, "vmx"), maxphyaddr or mpa)
        _ok(rc, "offline VMX context")
        fn = lib.nest_vmx_restore_state if st.format == "libnest" else \
            lib.nest_vmx_from_kvm_nested_state
        status = fn(ctx, data, len(data))
        if status != NEST_OK:
            problems = _vmx_field_problems(st)
            offered = F.VmxCaps()
            lib.nest_vmx_offered_caps(ctx, ctypes.byref(offered))
            if st.format == "libnest":
                entry = _vmx_guest_entry(st, offered)
                if entry is not None and not entry.ok:
                    problems.append((f"vmcs12.{entry.field or entry.rule}", entry.line()))
    elif st.arch == "svm":
        rc, ctx, vmcb01 = off.svm(svm_cpuid or (1, 64, 0, 0xffffffff),
                                  features_mask(svm_features, "svm"), maxphyaddr or 48)
        _ok(rc, "offline SVM context")
        fn = lib.nest_svm_restore_state if st.format == "libnest" else \
            lib.nest_svm_from_kvm_nested_state
        status = fn(ctx, vmcb01, data, len(data))
        if status != NEST_OK and st.vmcb12 is not None and st.format == "libnest" and \
                st.flags & MACROS["NEST_STATE_SVM_F_GUEST_MODE"]:
            r = check_vmcb(st.vmcb12, maxphyaddr=maxphyaddr or 48)
            if not r.ok:
                problems.append((f"vmcb12.{r.field or r.rule}", f"{r.rule}: {r.description}"))
    else:
        status = NEST_E_FORMAT
        problems.append(("arch" if st.format == "libnest" else "format", "unknown architecture"))
    if status != NEST_OK and not problems:
        problems.append(("-", f"{status_name(status)}: {strerror(status)}"))
    return StateReport(status, problems, entry)


def convert_state(data, to, host_caps=None, features=NEST_VMX_F_ALL, svm_cpuid=None,
                  svm_features=NEST_SVM_F_SUPPORTED, maxphyaddr=None):
    """Convert a snapshot between libnest's format (to='libnest') and KVM's
    kvm_nested_state (to='kvm'), through the library: the input is taken in
    by a scratch context, which then writes the other format. Raises Error
    with the library's status when the input is refused."""
    st_format = "libnest" if len(data) >= 4 and \
        struct.unpack_from("<I", data)[0] == NEST_STATE_MAGIC else "kvm"
    if to not in ("libnest", "kvm"):
        raise ValueError("to must be 'libnest' or 'kvm'")
    if st_format == "libnest":
        arch = struct.unpack_from("<H", data, 6)[0] if len(data) >= 8 else 0
        arch = {NEST_STATE_ARCH_VMX: "vmx", NEST_STATE_ARCH_SVM: "svm"}.get(arch)
    else:
        arch = {0: "vmx", 1: "svm"}.get(struct.unpack_from("<H", data, 2)[0]
                                        if len(data) >= 4 else -1)
    if arch is None:
        raise Error(NEST_E_FORMAT, "unknown architecture")
    data = bytes(data)
    off = OfflineL0()
    wrote = ctypes.c_size_t()
    if arch == "vmx":
        host, mpa = _host_vmx(host_caps)
        rc, ctx = off.vmx(host, features_mask(features, "vmx"), maxphyaddr or mpa)
        _ok(rc, "offline VMX context")
        if st_format == "libnest":
            _ok(lib.nest_vmx_restore_state(ctx, data, len(data)), "nest_vmx_restore_state")
        else:
            _ok(lib.nest_vmx_from_kvm_nested_state(ctx, data, len(data)),
                "nest_vmx_from_kvm_nested_state")
        if to == "kvm":
            buf = ctypes.create_string_buffer(lib.nest_vmx_kvm_state_size())
            _ok(lib.nest_vmx_to_kvm_nested_state(ctx, buf, len(buf), ctypes.byref(wrote)),
                "nest_vmx_to_kvm_nested_state")
        else:
            buf = ctypes.create_string_buffer(lib.nest_vmx_state_size())
            _ok(lib.nest_vmx_save_state(ctx, buf, len(buf), ctypes.byref(wrote)),
                "nest_vmx_save_state")
    else:
        rc, ctx, vmcb01 = off.svm(svm_cpuid or (1, 64, 0, 0xffffffff),
                                  features_mask(svm_features, "svm"), maxphyaddr or 48)
        _ok(rc, "offline SVM context")
        if st_format == "libnest":
            _ok(lib.nest_svm_restore_state(ctx, vmcb01, data, len(data)),
                "nest_svm_restore_state")
        else:
            _ok(lib.nest_svm_from_kvm_nested_state(ctx, vmcb01, data, len(data)),
                "nest_svm_from_kvm_nested_state")
        if to == "kvm":
            buf = ctypes.create_string_buffer(lib.nest_svm_kvm_state_size())
            _ok(lib.nest_svm_to_kvm_nested_state(ctx, vmcb01, buf, len(buf),
                                                 ctypes.byref(wrote)),
                "nest_svm_to_kvm_nested_state")
        else:
            buf = ctypes.create_string_buffer(lib.nest_svm_state_size())
            _ok(lib.nest_svm_save_state(ctx, vmcb01, buf, len(buf), ctypes.byref(wrote)),
                "nest_svm_save_state")
    return buf.raw[:wrote.value]


if version() != VERSION:
    raise ImportError(f"libnest {version()} does not match the binding's headers {VERSION}")
