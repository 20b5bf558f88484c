// SPDX-License-Identifier: MIT
//! Safe wrappers of libnest, a C library that lets an x86 hypervisor (L0)
//! offer nested virtualization (VMX and SVM) to its guests.
//!
//! - [`check_vmcs12`] and [`check_vmcb`]: libnest's VM-entry checks (Intel
//!   SDM 27.2-27.4) and VMRUN consistency checks (AMD APM 15.5.1), naming
//!   the failing rule and its section;
//! - [`Vmx`] and [`Svm`]: per-vCPU contexts in memory the caller owns
//!   ([`ContextMemory`]), over a backend given as the [`Backend`] trait;
//!   nested-state save, restore and conversion to and from KVM's
//!   `kvm_nested_state`;
//! - [`offline`]: an L0 that only takes snapshots in, to check or convert
//!   them ([`offline::convert_state`], [`offline::validate_state`]).
//!
//! The raw declarations and the constants generated from the headers are in
//! [`sys`] (the `libnest-sys` crate).

pub use libnest_sys as sys;

use std::ffi::{CStr, CString};
use std::fmt;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub mod offline;

/// A libnest status other than NEST_OK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error(pub i32);

impl Error {
    pub const INVAL: Error = Error(sys::status::NEST_E_INVAL);
    pub const NOMEM: Error = Error(sys::status::NEST_E_NOMEM);
    pub const BACKEND: Error = Error(sys::status::NEST_E_BACKEND);
    pub const FAULT: Error = Error(sys::status::NEST_E_FAULT);
    pub const STATE: Error = Error(sys::status::NEST_E_STATE);
    pub const UNSUPPORTED: Error = Error(sys::status::NEST_E_UNSUPPORTED);
    pub const NOT_MAPPED: Error = Error(sys::status::NEST_E_NOT_MAPPED);
    pub const FORMAT: Error = Error(sys::status::NEST_E_FORMAT);
    pub const NOENT: Error = Error(sys::status::NEST_E_NOENT);

    /// "NEST_E_FORMAT", ...
    pub fn name(&self) -> &'static str {
        cstr(unsafe { sys::nest_status_name(self.0) })
    }
    /// The library's text of the status.
    pub fn text(&self) -> &'static str {
        cstr(unsafe { sys::nest_strerror(self.0) })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.text())
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

fn check(rc: c_int) -> Result<()> {
    if rc == sys::status::NEST_OK {
        Ok(())
    } else {
        Err(Error(rc))
    }
}

fn cstr(p: *const c_char) -> &'static str {
    if p.is_null() {
        return "";
    }
    // libnest's strings are static and ASCII.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap_or("")
}

/// The library's (major, minor, patch).
pub fn version() -> (u32, u32, u32) {
    let v = unsafe { sys::nest_version() };
    (v >> 16, (v >> 8) & 0xff, v & 0xff)
}

// ------------------------------------------------------------ VMCS, vmcs12

/// The encoding of a VMCS field by its name ("GUEST_RIP").
pub fn vmcs_field_encoding(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    let f = unsafe { sys::nest_vmcs_field_by_name(c.as_ptr()) };
    if f.is_null() {
        None
    } else {
        Some(unsafe { (*f).encoding })
    }
}

/// The name of a VMCS field by its encoding.
pub fn vmcs_field_name(encoding: u32) -> Option<&'static str> {
    let f = unsafe { sys::nest_vmcs_field_by_encoding(encoding) };
    if f.is_null() {
        None
    } else {
        Some(cstr(unsafe { (*f).name }))
    }
}

/// A vmcs12 in libnest's image format (the layout of vmcs-fields.def).
#[derive(Clone)]
pub struct Vmcs12 {
    img: Vec<u64>,
}

impl Default for Vmcs12 {
    fn default() -> Self {
        Self::new()
    }
}

impl Vmcs12 {
    /// Every field 0, launch state clear, libnest's revision identifier.
    pub fn new() -> Vmcs12 {
        let n = unsafe { sys::nest_vmcs12_image_size() };
        let mut img = vec![0u64; (n + 7) / 8];
        unsafe { sys::nest_vmcs12_image_init(img.as_mut_ptr() as *mut c_void) };
        Vmcs12 { img }
    }
    /// An image from bytes (a shorter, older image reads missing fields as 0).
    pub fn from_bytes(b: &[u8]) -> Vmcs12 {
        let mut v = Vmcs12::new();
        let n = b.len().min(v.img.len() * 8);
        unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), v.img.as_mut_ptr() as *mut u8, n) };
        v
    }
    pub fn as_bytes(&self) -> &[u8] {
        let n = unsafe { sys::nest_vmcs12_image_size() };
        unsafe { std::slice::from_raw_parts(self.img.as_ptr() as *const u8, n) }
    }
    /// Write a field by encoding (truncated to its width).
    pub fn write(&mut self, encoding: u32, value: u64) -> Result<()> {
        check(unsafe {
            sys::nest_vmcs12_image_write(self.img.as_mut_ptr() as *mut c_void, encoding, value)
        })
    }
    /// Write a field by name.
    pub fn set(&mut self, name: &str, value: u64) -> Result<()> {
        self.write(vmcs_field_encoding(name).ok_or(Error::NOENT)?, value)
    }
    /// Read a field by encoding.
    pub fn read(&self, encoding: u32) -> Result<u64> {
        let mut v = 0;
        check(unsafe {
            sys::nest_vmcs12_image_read(self.img.as_ptr() as *const c_void, encoding, &mut v)
        })?;
        Ok(v)
    }
    /// Read a field by name.
    pub fn get(&self, name: &str) -> Result<u64> {
        self.read(vmcs_field_encoding(name).ok_or(Error::NOENT)?)
    }
    /// Every nonzero field, by name, in table order.
    pub fn fields(&self) -> Vec<(&'static str, u64)> {
        let n = unsafe { sys::nest_vmcs_field_count() };
        (0..n)
            .filter_map(|i| {
                let f = unsafe { &*sys::nest_vmcs_field_at(i) };
                match self.read(f.encoding) {
                    Ok(v) if v != 0 => Some((cstr(f.name), v)),
                    _ => None,
                }
            })
            .collect()
    }
}

/// VMX capabilities: the IA32_VMX_* MSR values (struct nest_vmx_caps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmxCaps(pub sys::nest_vmx_caps);

impl VmxCaps {
    /// All zero, with the size set.
    pub fn zeroed() -> VmxCaps {
        let mut c = sys::nest_vmx_caps::default();
        c.size = std::mem::size_of::<sys::nest_vmx_caps>() as u32;
        VmxCaps(c)
    }
}

impl Default for VmxCaps {
    /// nest_vmx_caps_default(): a typical processor.
    fn default() -> VmxCaps {
        let mut c = VmxCaps::zeroed();
        unsafe { sys::nest_vmx_caps_default(&mut c.0) };
        c
    }
}

/// What a VM entry does (enum nest_vmx_entry_outcome).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    VmFail,
    EntryFailure,
}

/// The outcome of the VM-entry checks, and the rule that decided it.
#[derive(Clone, Debug)]
pub struct EntryResult {
    pub outcome: Outcome,
    pub vm_instruction_error: u32,
    pub exit_reason: u32,
    pub exit_qualification: u64,
    pub rule: &'static str,
    /// "SDM 27.2.1.1"
    pub section: String,
    pub text: &'static str,
    pub field: Option<&'static str>,
}

impl EntryResult {
    fn from_raw(r: &sys::nest_vmx_entry_result) -> EntryResult {
        EntryResult {
            outcome: match r.outcome {
                0 => Outcome::Ok,
                1 => Outcome::VmFail,
                _ => Outcome::EntryFailure,
            },
            vm_instruction_error: r.vm_instruction_error,
            exit_reason: r.exit_reason,
            exit_qualification: r.exit_qualification,
            rule: cstr(unsafe { sys::nest_vmx_rule_name(r.rule) }),
            section: format!("SDM {}", cstr(unsafe { sys::nest_vmx_rule_section(r.rule) })),
            text: cstr(unsafe { sys::nest_vmx_rule_text(r.rule) }),
            field: if r.field == 0xffff_ffff { None } else { vmcs_field_name(r.field) },
        }
    }
    pub fn ok(&self) -> bool {
        self.outcome == Outcome::Ok
    }
}

impl fmt::Display for EntryResult {
    /// The line `nestctl vmx check` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.outcome {
            Outcome::Ok => return write!(f, "ok"),
            Outcome::VmFail => write!(f, "vmfail {}: ", self.vm_instruction_error)?,
            Outcome::EntryFailure => write!(f, "entry-failure reason={} qualification={}: ",
                                            self.exit_reason & 0xffff, self.exit_qualification)?,
        }
        write!(f, "{} ({}", self.rule, self.section)?;
        if let Some(field) = self.field {
            write!(f, ", field {}", field)?;
        }
        write!(f, "): {}", self.text)
    }
}

/// Run libnest's VM-entry checks (SDM 27.2, 27.3, then 27.4 on the
/// VM-entry MSR-load entries) on a vmcs12 against the capabilities
/// offered to L1.
pub fn check_vmcs12(vmcs12: &Vmcs12, caps: &VmxCaps, msr_load: &[(u32, u64)])
                    -> Result<EntryResult> {
    let mut res = sys::nest_vmx_entry_result {
        size: std::mem::size_of::<sys::nest_vmx_entry_result>() as u32,
        ..Default::default()
    };
    let b = vmcs12.as_bytes();
    check(unsafe {
        sys::nest_vmx_check_vmcs12(b.as_ptr() as *const c_void, b.len(), &caps.0, &mut res)
    })?;
    let count = vmcs12.read(sys::vmcs::VM_ENTRY_MSR_LOAD_COUNT)?;
    if res.outcome == 0 && count != 0 {
        let entries: Vec<sys::nest_vmx_msr_entry> = msr_load
            .iter()
            .map(|&(index, value)| sys::nest_vmx_msr_entry { index, reserved: 0, value })
            .collect();
        if (entries.len() as u64) < count {
            return Err(Error::INVAL);
        }
        check(unsafe {
            sys::nest_vmx_check_msr_load(entries.as_ptr(), count as u32, &caps.0, &mut res)
        })?;
    }
    Ok(EntryResult::from_raw(&res))
}

// -------------------------------------------------------------- VMCB

/// A VMCB image (4096 bytes, page aligned).
pub struct Vmcb(Box<sys::nest_vmcb>);

impl Default for Vmcb {
    fn default() -> Self {
        Vmcb(Box::new(sys::nest_vmcb { bytes: [0; 4096] }))
    }
}

fn vmcb_field(name: &str) -> Option<*const sys::nest_vmcb_field> {
    let c = CString::new(name).ok()?;
    let f = unsafe { sys::nest_vmcb_field_by_name(c.as_ptr()) };
    if f.is_null() {
        None
    } else {
        Some(f)
    }
}

impl Vmcb {
    pub fn from_bytes(b: &[u8]) -> Vmcb {
        let mut v = Vmcb::default();
        let n = b.len().min(4096);
        v.0.bytes[..n].copy_from_slice(&b[..n]);
        v
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0.bytes
    }
    pub fn as_ptr(&mut self) -> *mut sys::nest_vmcb {
        &mut *self.0
    }
    /// Write a field by its name in vmcb-fields.def (any case).
    pub fn set(&mut self, name: &str, value: u64) -> Result<()> {
        let f = vmcb_field(name).ok_or(Error::NOENT)?;
        unsafe { sys::nest_vmcb_write(&mut *self.0, f, value) };
        Ok(())
    }
    pub fn get(&self, name: &str) -> Result<u64> {
        let f = vmcb_field(name).ok_or(Error::NOENT)?;
        Ok(unsafe { sys::nest_vmcb_read(&*self.0, f) })
    }
    /// Every nonzero field, by name, in offset order.
    pub fn fields(&self) -> Vec<(&'static str, u64)> {
        let n = unsafe { sys::nest_vmcb_field_count() };
        (0..n)
            .filter_map(|i| {
                let f = unsafe { sys::nest_vmcb_field_at(i) };
                let v = unsafe { sys::nest_vmcb_read(&*self.0, f) };
                if v != 0 {
                    Some((cstr(unsafe { (*f).name }), v))
                } else {
                    None
                }
            })
            .collect()
    }
}

/// What VMRUN's checks compare against (struct nest_svm_caps).
#[derive(Clone, Copy, Debug)]
pub struct SvmCaps(pub sys::nest_svm_caps);

impl Default for SvmCaps {
    /// nestctl's default: long mode, MAXPHYADDR 48, every feature libnest
    /// offers, the usual EFER and CR4 bits.
    fn default() -> SvmCaps {
        SvmCaps(sys::nest_svm_caps {
            size: std::mem::size_of::<sys::nest_svm_caps>() as u32,
            features: sys::NEST_SVM_F_SUPPORTED as u32,
            maxphyaddr: 48,
            long_mode: 1,
            efer_allowed: 0x5d01,
            cr4_allowed: 0x77_0fff,
        })
    }
}

/// The outcome of VMRUN's consistency checks.
#[derive(Clone, Debug)]
pub struct VmcbResult {
    /// The rule's short name ("asid-zero"), "ok" if every check passed.
    pub rule: &'static str,
    /// What the rule forbids, with its APM section.
    pub text: &'static str,
    /// The APM section ("APM 15.5.1, 15.16").
    pub section: &'static str,
    pub field: Option<&'static str>,
    pub offset: u32,
    pub value: u64,
}

impl VmcbResult {
    pub fn ok(&self) -> bool {
        self.rule == "ok"
    }
}

impl fmt::Display for VmcbResult {
    /// The line `nestctl svm check` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ok() {
            write!(f, "ok")
        } else {
            write!(f, "vmexit-invalid: {}", self.rule)
        }
    }
}

/// Apply VMRUN's consistency checks to a VMCB.
pub fn check_vmcb(vmcb: &Vmcb, caps: &SvmCaps) -> Result<VmcbResult> {
    let mut d = sys::nest_svm_diag::default();
    check(unsafe { sys::nest_svm_check_vmcb(&*vmcb.0, &caps.0, &mut d) })?;
    let text = cstr(unsafe { sys::nest_svm_check_text(d.rule) });
    let section = match (text.rfind('('), text.ends_with(')')) {
        (Some(i), true) if d.rule != 0 => &text[i + 1..text.len() - 1],
        _ => "",
    };
    let f = unsafe { sys::nest_vmcb_field_by_offset(d.offset) };
    Ok(VmcbResult {
        rule: cstr(unsafe { sys::nest_svm_check_name(d.rule) }),
        text,
        section,
        field: if d.rule == 0 || f.is_null() { None } else { Some(cstr(unsafe { (*f).name })) },
        offset: d.offset,
        value: d.value,
    })
}

// ----------------------------------------------------------- the backend

/// The hardware VMCSs a VMX backend keeps (enum nest_vmcs_id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmcsId {
    Vmcs01,
    Vmcs02,
    Shadow,
}

/// What L0 provides libnest (struct nest_backend_ops): L1 memory, L0's map
/// of it, the hardware VMCSs, pages, invalidations. Every method but the
/// first two has a default that fails (or does nothing).
pub trait Backend {
    /// Read L1-physical memory.
    fn read_l1(&mut self, gpa: u64, buf: &mut [u8]) -> Result<()>;
    /// Write L1-physical memory.
    fn write_l1(&mut self, gpa: u64, buf: &[u8]) -> Result<()>;
    /// L0's map of an L1-physical address (EPT01/NPT01).
    fn l1_to_host(&mut self, _gpa: u64) -> Result<sys::nest_l0_map> {
        Err(Error::NOT_MAPPED)
    }
    fn vmcs_read(&mut self, _which: VmcsId, _encoding: u32) -> Result<u64> {
        Err(Error::BACKEND)
    }
    fn vmcs_write(&mut self, _which: VmcsId, _encoding: u32, _value: u64) -> Result<()> {
        Err(Error::BACKEND)
    }
    /// A zeroed 4 KiB page: (host-physical address, pointer libnest uses).
    fn page_alloc(&mut self) -> Result<(u64, *mut u8)> {
        Err(Error::NOMEM)
    }
    fn page_free(&mut self, _hpa: u64, _hva: *mut u8) {}
    fn flush(&mut self, _kind: u32, _tag: u64, _addr: u64) {}
    fn log(&mut self, _level: i32, _msg: &str) {}
}

fn status(r: Result<()>) -> c_int {
    match r {
        Ok(()) => sys::status::NEST_OK,
        Err(e) => e.0,
    }
}

fn guard<F: FnOnce() -> c_int>(f: F) -> c_int {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(sys::status::NEST_E_BACKEND)
}

unsafe fn be<'a, B: Backend>(ctx: *mut c_void) -> &'a mut B {
    &mut *(ctx as *mut B)
}

unsafe extern "C" fn t_read_l1<B: Backend>(c: *mut c_void, gpa: u64, buf: *mut c_void,
                                           len: usize) -> c_int {
    guard(|| status(be::<B>(c).read_l1(gpa, std::slice::from_raw_parts_mut(buf as *mut u8, len))))
}
unsafe extern "C" fn t_write_l1<B: Backend>(c: *mut c_void, gpa: u64, buf: *const c_void,
                                            len: usize) -> c_int {
    guard(|| status(be::<B>(c).write_l1(gpa, std::slice::from_raw_parts(buf as *const u8, len))))
}
unsafe extern "C" fn t_l1_to_host<B: Backend>(c: *mut c_void, gpa: u64,
                                              out: *mut sys::nest_l0_map) -> c_int {
    guard(|| match be::<B>(c).l1_to_host(gpa) {
        Ok(m) => {
            *out = m;
            sys::status::NEST_OK
        }
        Err(e) => e.0,
    })
}
fn vmcs_id(which: c_int) -> Option<VmcsId> {
    match which {
        0 => Some(VmcsId::Vmcs01),
        1 => Some(VmcsId::Vmcs02),
        2 => Some(VmcsId::Shadow),
        _ => None,
    }
}
unsafe extern "C" fn t_vmcs_read<B: Backend>(c: *mut c_void, which: c_int, enc: u32,
                                             value: *mut u64) -> c_int {
    guard(|| match vmcs_id(which).map(|w| be::<B>(c).vmcs_read(w, enc)) {
        Some(Ok(v)) => {
            *value = v;
            sys::status::NEST_OK
        }
        Some(Err(e)) => e.0,
        None => sys::status::NEST_E_INVAL,
    })
}
unsafe extern "C" fn t_vmcs_write<B: Backend>(c: *mut c_void, which: c_int, enc: u32,
                                              value: u64) -> c_int {
    guard(|| match vmcs_id(which) {
        Some(w) => status(be::<B>(c).vmcs_write(w, enc, value)),
        None => sys::status::NEST_E_INVAL,
    })
}
unsafe extern "C" fn t_page_alloc<B: Backend>(c: *mut c_void, hpa: *mut u64,
                                              hva: *mut *mut c_void) -> c_int {
    guard(|| match be::<B>(c).page_alloc() {
        Ok((p, v)) => {
            *hpa = p;
            *hva = v as *mut c_void;
            sys::status::NEST_OK
        }
        Err(e) => e.0,
    })
}
unsafe extern "C" fn t_page_free<B: Backend>(c: *mut c_void, hpa: u64, hva: *mut c_void) {
    let _ = catch_unwind(AssertUnwindSafe(|| be::<B>(c).page_free(hpa, hva as *mut u8)));
}
unsafe extern "C" fn t_flush<B: Backend>(c: *mut c_void, kind: u32, tag: u64, addr: u64) {
    let _ = catch_unwind(AssertUnwindSafe(|| be::<B>(c).flush(kind, tag, addr)));
}
unsafe extern "C" fn t_log<B: Backend>(c: *mut c_void, level: c_int, msg: *const c_char) {
    let m = CStr::from_ptr(msg).to_string_lossy();
    let _ = catch_unwind(AssertUnwindSafe(|| be::<B>(c).log(level, &m)));
}

/// The backend as libnest sees it: an ops table of trampolines into `B`
/// and a pointer to the caller's `B` (both must stay put: boxed).
struct Glue {
    _ops: Box<sys::nest_backend_ops>,
    be: Box<sys::nest_backend>,
}

impl Glue {
    fn new<B: Backend>(b: &mut B) -> Glue {
        let ops = Box::new(sys::nest_backend_ops {
            size: std::mem::size_of::<sys::nest_backend_ops>() as u32,
            reserved0: 0,
            read_l1: Some(t_read_l1::<B>),
            write_l1: Some(t_write_l1::<B>),
            cmpxchg_l1: None,
            l1_to_host: Some(t_l1_to_host::<B>),
            vmcs_read: Some(t_vmcs_read::<B>),
            vmcs_write: Some(t_vmcs_write::<B>),
            page_alloc: Some(t_page_alloc::<B>),
            page_free: Some(t_page_free::<B>),
            flush: Some(t_flush::<B>),
            log: Some(t_log::<B>),
            l1_linear_to_phys: None,
            guest_rdmsr: None,
        });
        let be = Box::new(sys::nest_backend { ops: &*ops, ctx: b as *mut B as *mut c_void });
        Glue { _ops: ops, be }
    }
}

// ------------------------------------------------------------- contexts

/// Storage for a context, owned by the caller (8-byte aligned).
pub struct ContextMemory {
    buf: Vec<u64>,
}

impl ContextMemory {
    pub fn with_size(bytes: usize) -> ContextMemory {
        ContextMemory { buf: vec![0; (bytes + 7) / 8] }
    }
    /// nest_vmx_size() bytes.
    pub fn for_vmx() -> ContextMemory {
        Self::with_size(unsafe { sys::nest_vmx_size() })
    }
    /// nest_svm_size() bytes.
    pub fn for_svm() -> ContextMemory {
        Self::with_size(unsafe { sys::nest_svm_size() })
    }
    fn ptr(&mut self) -> (*mut c_void, usize) {
        (self.buf.as_mut_ptr() as *mut c_void, self.buf.len() * 8)
    }
}

/// Page-aligned memory the caller owns (vmcb02, merged permission maps).
pub struct Pages {
    buf: Vec<u8>,
    off: usize,
    len: usize,
}

impl Pages {
    pub fn new(n: usize) -> Pages {
        let len = n * 4096;
        let buf = vec![0u8; len + 4096];
        let off = (4096 - (buf.as_ptr() as usize) % 4096) % 4096;
        Pages { buf, off, len }
    }
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.buf[self.off..self.off + self.len].as_mut_ptr()
    }
}

/// A shadow EPT02/NPT02 context (nest/tdp.h) in caller memory.
pub struct Tdp<'a> {
    ptr: *mut sys::nest_tdp,
    _glue: Glue,
    _mem: PhantomData<&'a mut ContextMemory>,
}

impl<'a> Tdp<'a> {
    /// `cfg.size` is set here.
    pub fn new<B: Backend>(mem: &'a mut ContextMemory, backend: &'a mut B,
                           mut cfg: sys::nest_tdp_config) -> Result<Tdp<'a>> {
        cfg.size = std::mem::size_of::<sys::nest_tdp_config>() as u32;
        let need = unsafe { sys::nest_tdp_size(&cfg) };
        if mem.buf.len() * 8 < need {
            *mem = ContextMemory::with_size(need);
        }
        let glue = Glue::new(backend);
        let (p, n) = mem.ptr();
        let mut out = std::ptr::null_mut();
        check(unsafe { sys::nest_tdp_init(p, n, &*glue.be, &cfg, &mut out) })?;
        Ok(Tdp { ptr: out, _glue: glue, _mem: PhantomData })
    }
    pub fn as_ptr(&mut self) -> *mut sys::nest_tdp {
        self.ptr
    }
}

impl Drop for Tdp<'_> {
    fn drop(&mut self) {
        unsafe { sys::nest_tdp_fini(self.ptr) };
    }
}

/// The configuration of a VMX context (struct nest_vmx_config).
#[derive(Clone, Copy, Debug)]
pub struct VmxConfig {
    pub host_caps: VmxCaps,
    /// NEST_VMX_F_* offered to L1.
    pub features: u32,
    pub l1_maxphyaddr: u32,
    pub feature_control: u64,
}

impl Default for VmxConfig {
    fn default() -> Self {
        VmxConfig {
            host_caps: VmxCaps::default(),
            features: sys::NEST_VMX_F_ALL as u32,
            l1_maxphyaddr: 46,
            feature_control: 0x5,
        }
    }
}

/// A nested-VMX context for one L1 vCPU, in caller memory, over a backend.
pub struct Vmx<'a, B: Backend> {
    ctx: *mut sys::nest_vmx,
    glue: Glue,
    l0: Option<Box<sys::nest_vmx_l0>>,
    _borrow: PhantomData<(&'a mut ContextMemory, &'a mut B)>,
}

fn out_buf(len: usize) -> Vec<u8> {
    vec![0u8; len]
}

impl<'a, B: Backend> Vmx<'a, B> {
    pub fn new(mem: &'a mut ContextMemory, backend: &'a mut B, cfg: &VmxConfig)
               -> Result<Vmx<'a, B>> {
        let glue = Glue::new(backend);
        let c = sys::nest_vmx_config {
            size: std::mem::size_of::<sys::nest_vmx_config>() as u32,
            vmx_allowed: 1,
            host_caps: &cfg.host_caps.0,
            features: cfg.features,
            l1_maxphyaddr: cfg.l1_maxphyaddr,
            feature_control: cfg.feature_control,
            feature_control_extra: 0,
            l1_gbpages: 0,
            reserved0: 0,
        };
        let (p, n) = mem.ptr();
        let mut out = std::ptr::null_mut();
        check(unsafe { sys::nest_vmx_init(p, n, &*glue.be, &c, &mut out) })?;
        Ok(Vmx { ctx: out, glue, l0: None, _borrow: PhantomData })
    }
    /// The capability MSRs L1 sees.
    pub fn offered_caps(&self) -> VmxCaps {
        let mut c = VmxCaps::zeroed();
        unsafe { sys::nest_vmx_offered_caps(self.ctx, &mut c.0) };
        c
    }
    /// What L0 needs in vmcs02 (nest_vmx_set_l0()); `l0.size` is set here.
    /// A shadow EPT02 in `l0.tdp` must outlive the context.
    pub fn set_l0(&mut self, mut l0: sys::nest_vmx_l0) -> Result<()> {
        l0.size = std::mem::size_of::<sys::nest_vmx_l0>() as u32;
        let l0 = Box::new(l0);
        check(unsafe { sys::nest_vmx_set_l0(self.ctx, &*l0) })?;
        self.l0 = Some(l0);
        Ok(())
    }
    /// Save the nested state in libnest's format.
    pub fn save_state(&mut self) -> Result<Vec<u8>> {
        let mut b = out_buf(unsafe { sys::nest_vmx_state_size() });
        let mut w = 0;
        check(unsafe {
            sys::nest_vmx_save_state(self.ctx, b.as_mut_ptr() as *mut c_void, b.len(), &mut w)
        })?;
        b.truncate(w);
        Ok(b)
    }
    /// Restore the nested state from libnest's format.
    pub fn restore_state(&mut self, data: &[u8]) -> Result<()> {
        check(unsafe {
            sys::nest_vmx_restore_state(self.ctx, data.as_ptr() as *const c_void, data.len())
        })
    }
    /// Export the nested state as KVM's kvm_nested_state.
    pub fn to_kvm(&mut self) -> Result<Vec<u8>> {
        let mut b = out_buf(unsafe { sys::nest_vmx_kvm_state_size() });
        let mut w = 0;
        check(unsafe {
            sys::nest_vmx_to_kvm_nested_state(self.ctx, b.as_mut_ptr() as *mut c_void, b.len(),
                                              &mut w)
        })?;
        b.truncate(w);
        Ok(b)
    }
    /// Import the nested state from KVM's kvm_nested_state.
    pub fn from_kvm(&mut self, data: &[u8]) -> Result<()> {
        check(unsafe {
            sys::nest_vmx_from_kvm_nested_state(self.ctx, data.as_ptr() as *const c_void,
                                                data.len())
        })
    }
    /// The raw context, for the functions this crate does not wrap.
    pub fn as_ptr(&mut self) -> *mut sys::nest_vmx {
        let _ = &self.glue;
        self.ctx
    }
}

/// The configuration of an SVM context (part of struct nest_svm_config;
/// the pages are the caller's [`SvmPages`]).
#[derive(Clone, Copy, Debug)]
pub struct SvmConfig {
    /// The host's CPUID 0x8000000A: EAX, EBX, ECX, EDX.
    pub host_cpuid: [u32; 4],
    /// NEST_SVM_F_* offered to L1.
    pub features: u32,
    pub l1_maxphyaddr: u32,
    pub long_mode: bool,
    pub l2_asid: u32,
}

impl Default for SvmConfig {
    fn default() -> Self {
        SvmConfig {
            host_cpuid: [1, 64, 0, 0xffff_ffff],
            features: sys::NEST_SVM_F_SUPPORTED as u32,
            l1_maxphyaddr: 48,
            long_mode: true,
            l2_asid: 1,
        }
    }
}

/// The pages an SVM context uses: vmcb02, the merged MSRPM (2 pages) and
/// IOPM (3 pages); host-physical addresses are their addresses here.
pub struct SvmPages {
    pub vmcb02: Pages,
    pub msrpm02: Pages,
    pub iopm02: Pages,
}

impl Default for SvmPages {
    fn default() -> Self {
        SvmPages { vmcb02: Pages::new(1), msrpm02: Pages::new(2), iopm02: Pages::new(3) }
    }
}

/// A nested-SVM context for one L1 vCPU, in caller memory, over a backend.
pub struct Svm<'a, B: Backend> {
    ctx: *mut sys::nest_svm,
    glue: Glue,
    _borrow: PhantomData<(&'a mut ContextMemory, &'a mut SvmPages, &'a mut B)>,
}

impl<'a, B: Backend> Svm<'a, B> {
    /// `tdp`: the NPT02 shadow, or None (nested paging not offered).
    pub fn new<'t: 'a>(mem: &'a mut ContextMemory, pages: &'a mut SvmPages, backend: &'a mut B,
                       cfg: &SvmConfig, tdp: Option<&'a mut Tdp<'t>>) -> Result<Svm<'a, B>> {
        let glue = Glue::new(backend);
        let page = |p: &mut Pages| {
            let v = p.as_mut_ptr();
            sys::nest_svm_page { hva: v as *mut c_void, hpa: v as u64 }
        };
        let c = sys::nest_svm_config {
            size: std::mem::size_of::<sys::nest_svm_config>() as u32,
            flags: (sys::NEST_SVM_CFG_SVM_ALLOWED
                | if cfg.long_mode { sys::NEST_SVM_CFG_LONG_MODE } else { 0 }) as u32,
            host_cpuid: cfg.host_cpuid,
            features: cfg.features,
            l1_maxphyaddr: cfg.l1_maxphyaddr,
            l1_asids: 0,
            l2_asid: cfg.l2_asid,
            l1_efer_allowed: if cfg.long_mode { 0x4d01 } else { 0x4801 },
            l1_cr4_allowed: 0x77_0fff,
            npt01_ncr3: 0,
            l0_tsc_ratio: 0,
            l0_intercepts: [0; 6],
            l0_msrpm: std::ptr::null(),
            l0_iopm: std::ptr::null(),
            vmcb02: page(&mut pages.vmcb02),
            msrpm02: page(&mut pages.msrpm02),
            iopm02: page(&mut pages.iopm02),
            tdp: tdp.map_or(std::ptr::null_mut(), |t| t.as_ptr()),
        };
        let (p, n) = mem.ptr();
        let mut out = std::ptr::null_mut();
        check(unsafe { sys::nest_svm_init(p, n, &*glue.be, &c, &mut out) })?;
        Ok(Svm { ctx: out, glue, _borrow: PhantomData })
    }
    /// The processor L1 sees.
    pub fn caps(&self) -> SvmCaps {
        let mut c = SvmCaps::default();
        unsafe { sys::nest_svm_get_caps(self.ctx, &mut c.0) };
        c
    }
    pub fn save_state(&self, vmcb01: &mut Vmcb) -> Result<Vec<u8>> {
        let mut b = out_buf(unsafe { sys::nest_svm_state_size() });
        let mut w = 0;
        check(unsafe {
            sys::nest_svm_save_state(self.ctx, vmcb01.as_ptr(), b.as_mut_ptr() as *mut c_void,
                                     b.len(), &mut w)
        })?;
        b.truncate(w);
        Ok(b)
    }
    pub fn restore_state(&mut self, vmcb01: &mut Vmcb, data: &[u8]) -> Result<()> {
        check(unsafe {
            sys::nest_svm_restore_state(self.ctx, vmcb01.as_ptr(),
                                        data.as_ptr() as *const c_void, data.len())
        })
    }
    pub fn to_kvm(&self, vmcb01: &mut Vmcb) -> Result<Vec<u8>> {
        let mut b = out_buf(unsafe { sys::nest_svm_kvm_state_size() });
        let mut w = 0;
        check(unsafe {
            sys::nest_svm_to_kvm_nested_state(self.ctx, vmcb01.as_ptr(),
                                              b.as_mut_ptr() as *mut c_void, b.len(), &mut w)
        })?;
        b.truncate(w);
        Ok(b)
    }
    pub fn from_kvm(&mut self, vmcb01: &mut Vmcb, data: &[u8]) -> Result<()> {
        check(unsafe {
            sys::nest_svm_from_kvm_nested_state(self.ctx, vmcb01.as_ptr(),
                                                data.as_ptr() as *const c_void, data.len())
        })
    }
    pub fn as_ptr(&mut self) -> *mut sys::nest_svm {
        let _ = &self.glue;
        self.ctx
    }
}

/// Read `nestctl vmx check`'s text format: FIELD = VALUE lines (names or
/// encodings), CAP NAME = VALUE overrides of the typical capabilities,
/// MSR_LOAD = INDEX VALUE entries. Returns the vmcs12, the capabilities
/// and the MSR-load entries (VM_ENTRY_MSR_LOAD_COUNT set from them when
/// the text does not set it).
pub fn parse_vmcs12_text(text: &str) -> std::result::Result<(Vmcs12, VmxCaps, Vec<(u32, u64)>), String> {
    fn num(s: &str) -> Option<u64> {
        let s = s.trim();
        if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            u64::from_str_radix(&h.replace('_', ""), 16).ok()
        } else {
            s.parse().ok()
        }
    }
    let mut v = Vmcs12::new();
    let mut caps = VmxCaps::default();
    let mut msrs = Vec::new();
    let mut count_set = false;
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap().trim();
        if line.is_empty() {
            continue;
        }
        let mut kv = line.splitn(2, '=');
        let (k, val) = (kv.next().unwrap().trim(), kv.next().map(str::trim).unwrap_or(""));
        let bad = |what: &str| format!("line {}: {} '{}'", n + 1, what, line);
        if val.is_empty() {
            return Err(bad("expected FIELD = VALUE"));
        }
        if let Some(cap) = k.strip_prefix("CAP ") {
            let x = num(val).ok_or_else(|| bad("bad number"))?;
            let c = &mut caps.0;
            match cap.trim() {
                "basic" => c.basic = x, "pinbased" => c.pinbased = x,
                "procbased" => c.procbased = x, "exit" => c.exit = x, "entry" => c.entry = x,
                "misc" => c.misc = x, "cr0_fixed0" => c.cr0_fixed0 = x,
                "cr0_fixed1" => c.cr0_fixed1 = x, "cr4_fixed0" => c.cr4_fixed0 = x,
                "cr4_fixed1" => c.cr4_fixed1 = x, "vmcs_enum" => c.vmcs_enum = x,
                "procbased2" => c.procbased2 = x, "ept_vpid" => c.ept_vpid = x,
                "true_pinbased" => c.true_pinbased = x, "true_procbased" => c.true_procbased = x,
                "true_exit" => c.true_exit = x, "true_entry" => c.true_entry = x,
                "vmfunc" => c.vmfunc = x, "procbased3" => c.procbased3 = x, "exit2" => c.exit2 = x,
                "feature_control" => c.feature_control = x, "maxphyaddr" => c.maxphyaddr = x as u32,
                _ => return Err(bad("unknown capability")),
            }
        } else if k == "MSR_LOAD" {
            let mut it = val.split(|c: char| c.is_whitespace() || c == ',').filter(|s| !s.is_empty());
            let i = it.next().and_then(num).ok_or_else(|| bad("bad MSR index"))?;
            let x = it.next().and_then(num).ok_or_else(|| bad("bad MSR value"))?;
            msrs.push((i as u32, x));
        } else {
            let enc = if k.starts_with(|c: char| c.is_ascii_digit()) {
                num(k).map(|e| e as u32)
            } else {
                vmcs_field_encoding(k)
            }.ok_or_else(|| bad("unknown VMCS field"))?;
            let x = num(val).ok_or_else(|| bad("bad number"))?;
            count_set |= enc == sys::vmcs::VM_ENTRY_MSR_LOAD_COUNT;
            v.write(enc, x).map_err(|e| bad(&e.to_string()))?;
        }
    }
    if !count_set && !msrs.is_empty() {
        v.write(sys::vmcs::VM_ENTRY_MSR_LOAD_COUNT, msrs.len() as u64).unwrap();
    }
    Ok((v, caps, msrs))
}
