// SPDX-License-Identifier: MIT
//! Raw declarations of libnest's C API (include/nest/*.h), written by hand
//! after the headers' layouts (each marked "IMPORTANT: layout" there). The
//! constants are generated from the installed headers by build.rs.
//!
//! Only what the `libnest` crate wraps is declared: the field tables, the
//! entry checks, contexts, capabilities and nested-state save, restore and
//! conversion.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_void};

include!(concat!(env!("OUT_DIR"), "/constants.rs"));

/// struct nest_vmx_caps (nest/vmx.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct nest_vmx_caps {
    pub size: u32,
    pub reserved0: u32,
    pub basic: u64,
    pub pinbased: u64,
    pub procbased: u64,
    pub exit: u64,
    pub entry: u64,
    pub misc: u64,
    pub cr0_fixed0: u64,
    pub cr0_fixed1: u64,
    pub cr4_fixed0: u64,
    pub cr4_fixed1: u64,
    pub vmcs_enum: u64,
    pub procbased2: u64,
    pub ept_vpid: u64,
    pub true_pinbased: u64,
    pub true_procbased: u64,
    pub true_exit: u64,
    pub true_entry: u64,
    pub vmfunc: u64,
    pub procbased3: u64,
    pub exit2: u64,
    pub feature_control: u64,
    pub maxphyaddr: u32,
    pub reserved1: u32,
}

/// struct nest_vmx_entry_result.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct nest_vmx_entry_result {
    pub size: u32,
    pub outcome: u32,
    pub vm_instruction_error: u32,
    pub exit_reason: u32,
    pub exit_qualification: u64,
    pub rule: u32,
    pub field: u32,
}

/// struct nest_vmx_msr_entry.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct nest_vmx_msr_entry {
    pub index: u32,
    pub reserved: u32,
    pub value: u64,
}

/// struct nest_vmcs_field (nest/vmcs.h).
#[repr(C)]
pub struct nest_vmcs_field {
    pub name: *const c_char,
    pub encoding: u32,
    pub offset: u16,
    pub width: u8,
    pub type_: u8,
    pub flags: u32,
    pub reserved: u32,
}

/// struct nest_vmcb_field (nest/svm.h).
#[repr(C)]
pub struct nest_vmcb_field {
    pub name: *const c_char,
    pub offset: u16,
    pub width: u8,
    pub clean: u8,
}

/// struct nest_vmcb: 4096 bytes, opaque here.
#[repr(C, align(4096))]
pub struct nest_vmcb {
    pub bytes: [u8; 4096],
}

/// struct nest_svm_caps.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct nest_svm_caps {
    pub size: u32,
    pub features: u32,
    pub maxphyaddr: u32,
    pub long_mode: u32,
    pub efer_allowed: u64,
    pub cr4_allowed: u64,
}

/// struct nest_svm_diag.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct nest_svm_diag {
    pub rule: u32,
    pub offset: u32,
    pub value: u64,
}

/// struct nest_l0_map (nest/backend.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct nest_l0_map {
    pub hpa: u64,
    pub rights: u32,
    pub memtype: u8,
    pub page_shift: u8,
    pub ignore_pat: u8,
    pub reserved: u8,
}

/// struct nest_backend_ops.
#[repr(C)]
pub struct nest_backend_ops {
    pub size: u32,
    pub reserved0: u32,
    pub read_l1: Option<unsafe extern "C" fn(*mut c_void, u64, *mut c_void, usize) -> c_int>,
    pub write_l1: Option<unsafe extern "C" fn(*mut c_void, u64, *const c_void, usize) -> c_int>,
    pub cmpxchg_l1: Option<unsafe extern "C" fn(*mut c_void, u64, u64, u64, *mut u64) -> c_int>,
    pub l1_to_host: Option<unsafe extern "C" fn(*mut c_void, u64, *mut nest_l0_map) -> c_int>,
    pub vmcs_read: Option<unsafe extern "C" fn(*mut c_void, c_int, u32, *mut u64) -> c_int>,
    pub vmcs_write: Option<unsafe extern "C" fn(*mut c_void, c_int, u32, u64) -> c_int>,
    pub page_alloc: Option<unsafe extern "C" fn(*mut c_void, *mut u64, *mut *mut c_void) -> c_int>,
    pub page_free: Option<unsafe extern "C" fn(*mut c_void, u64, *mut c_void)>,
    pub flush: Option<unsafe extern "C" fn(*mut c_void, u32, u64, u64)>,
    pub log: Option<unsafe extern "C" fn(*mut c_void, c_int, *const c_char)>,
    pub l1_linear_to_phys:
        Option<unsafe extern "C" fn(*mut c_void, u64, u32, *mut u64, *mut u32) -> c_int>,
    pub guest_rdmsr: Option<unsafe extern "C" fn(*mut c_void, u32, *mut u64) -> c_int>,
}

/// struct nest_backend.
#[repr(C)]
pub struct nest_backend {
    pub ops: *const nest_backend_ops,
    pub ctx: *mut c_void,
}

/// struct nest_vmx_config.
#[repr(C)]
pub struct nest_vmx_config {
    pub size: u32,
    pub vmx_allowed: u32,
    pub host_caps: *const nest_vmx_caps,
    pub features: u32,
    pub l1_maxphyaddr: u32,
    pub feature_control: u64,
    pub feature_control_extra: u64,
    pub l1_gbpages: u32,
    pub reserved0: u32,
}

/// struct nest_vmx_l0.
#[repr(C)]
pub struct nest_vmx_l0 {
    pub size: u32,
    pub flags: u32,
    pub pin: u32,
    pub proc_: u32,
    pub proc2: u32,
    pub exit_ctls: u32,
    pub exception_bitmap: u32,
    pub vpid02: u32,
    pub cr0_mask: u64,
    pub cr4_mask: u64,
    pub tsc_offset: u64,
    pub tsc_multiplier: u64,
    pub eptp01: u64,
    pub preemption_timer: u32,
    pub reserved0: u32,
    pub msr_bitmap: *const c_void,
    pub io_bitmap: *const c_void,
    pub tdp: *mut nest_tdp,
}

/// struct nest_svm_page.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct nest_svm_page {
    pub hva: *mut c_void,
    pub hpa: u64,
}

/// struct nest_svm_config.
#[repr(C)]
pub struct nest_svm_config {
    pub size: u32,
    pub flags: u32,
    pub host_cpuid: [u32; 4],
    pub features: u32,
    pub l1_maxphyaddr: u32,
    pub l1_asids: u32,
    pub l2_asid: u32,
    pub l1_efer_allowed: u64,
    pub l1_cr4_allowed: u64,
    pub npt01_ncr3: u64,
    pub l0_tsc_ratio: u64,
    pub l0_intercepts: [u32; 6],
    pub l0_msrpm: *const c_void,
    pub l0_iopm: *const c_void,
    pub vmcb02: nest_svm_page,
    pub msrpm02: nest_svm_page,
    pub iopm02: nest_svm_page,
    pub tdp: *mut nest_tdp,
}

/// struct nest_tdp_config (nest/tdp.h).
#[repr(C)]
#[derive(Default)]
pub struct nest_tdp_config {
    pub size: u32,
    pub max_pages: u32,
    pub max_roots: u32,
    pub flags: u32,
    pub ept_vpid_cap: u64,
    pub maxphyaddr: u8,
    pub max_page_shift: u8,
    pub reserved: [u8; 6],
}

/// Opaque contexts.
#[repr(C)]
pub struct nest_vmx {
    _private: [u8; 0],
}
#[repr(C)]
pub struct nest_svm {
    _private: [u8; 0],
}
#[repr(C)]
pub struct nest_tdp {
    _private: [u8; 0],
}

extern "C" {
    pub fn nest_version() -> u32;
    pub fn nest_version_string() -> *const c_char;
    pub fn nest_strerror(status: c_int) -> *const c_char;
    pub fn nest_status_name(status: c_int) -> *const c_char;

    pub fn nest_vmcs_field_count() -> usize;
    pub fn nest_vmcs_field_at(index: usize) -> *const nest_vmcs_field;
    pub fn nest_vmcs_field_by_name(name: *const c_char) -> *const nest_vmcs_field;
    pub fn nest_vmcs_field_by_encoding(encoding: u32) -> *const nest_vmcs_field;
    pub fn nest_vmcb_field_count() -> usize;
    pub fn nest_vmcb_field_at(index: usize) -> *const nest_vmcb_field;
    pub fn nest_vmcb_field_by_name(name: *const c_char) -> *const nest_vmcb_field;
    pub fn nest_vmcb_field_by_offset(offset: u32) -> *const nest_vmcb_field;
    pub fn nest_vmcb_read(vmcb: *const nest_vmcb, field: *const nest_vmcb_field) -> u64;
    pub fn nest_vmcb_write(vmcb: *mut nest_vmcb, field: *const nest_vmcb_field, value: u64);

    pub fn nest_vmx_caps_default(caps: *mut nest_vmx_caps) -> c_int;
    pub fn nest_vmcs12_image_size() -> usize;
    pub fn nest_vmcs12_image_init(img: *mut c_void) -> c_int;
    pub fn nest_vmcs12_image_read(img: *const c_void, encoding: u32, value: *mut u64) -> c_int;
    pub fn nest_vmcs12_image_write(img: *mut c_void, encoding: u32, value: u64) -> c_int;
    pub fn nest_vmx_check_vmcs12(img: *const c_void, len: usize, caps: *const nest_vmx_caps,
                                 res: *mut nest_vmx_entry_result) -> c_int;
    pub fn nest_vmx_check_msr_load(entries: *const nest_vmx_msr_entry, count: u32,
                                   caps: *const nest_vmx_caps,
                                   res: *mut nest_vmx_entry_result) -> c_int;
    pub fn nest_vmx_rule_name(rule: u32) -> *const c_char;
    pub fn nest_vmx_rule_text(rule: u32) -> *const c_char;
    pub fn nest_vmx_rule_section(rule: u32) -> *const c_char;

    pub fn nest_svm_check_vmcb(vmcb: *const nest_vmcb, caps: *const nest_svm_caps,
                               diag: *mut nest_svm_diag) -> c_int;
    pub fn nest_svm_check_name(rule: u32) -> *const c_char;
    pub fn nest_svm_check_text(rule: u32) -> *const c_char;

    pub fn nest_backend_validate(be: *const nest_backend) -> c_int;
    pub fn nest_vmx_size() -> usize;
    pub fn nest_vmx_init(mem: *mut c_void, size: usize, be: *const nest_backend,
                         cfg: *const nest_vmx_config, out: *mut *mut nest_vmx) -> c_int;
    pub fn nest_vmx_offered_caps(ctx: *const nest_vmx, caps: *mut nest_vmx_caps) -> c_int;
    pub fn nest_vmx_set_l0(ctx: *mut nest_vmx, l0: *const nest_vmx_l0) -> c_int;
    pub fn nest_svm_size() -> usize;
    pub fn nest_svm_init(mem: *mut c_void, size: usize, be: *const nest_backend,
                         cfg: *const nest_svm_config, out: *mut *mut nest_svm) -> c_int;
    pub fn nest_svm_get_caps(ctx: *const nest_svm, caps: *mut nest_svm_caps) -> c_int;
    pub fn nest_tdp_size(cfg: *const nest_tdp_config) -> usize;
    pub fn nest_tdp_init(mem: *mut c_void, size: usize, be: *const nest_backend,
                         cfg: *const nest_tdp_config, out: *mut *mut nest_tdp) -> c_int;
    pub fn nest_tdp_fini(ctx: *mut nest_tdp);

    pub fn nest_vmx_state_size() -> usize;
    pub fn nest_vmx_save_state(ctx: *mut nest_vmx, buf: *mut c_void, len: usize,
                               written: *mut usize) -> c_int;
    pub fn nest_vmx_restore_state(ctx: *mut nest_vmx, buf: *const c_void, len: usize) -> c_int;
    pub fn nest_vmx_kvm_state_size() -> usize;
    pub fn nest_vmx_to_kvm_nested_state(ctx: *mut nest_vmx, buf: *mut c_void, len: usize,
                                        written: *mut usize) -> c_int;
    pub fn nest_vmx_from_kvm_nested_state(ctx: *mut nest_vmx, buf: *const c_void,
                                          len: usize) -> c_int;
    pub fn nest_svm_state_size() -> usize;
    pub fn nest_svm_save_state(ctx: *const nest_svm, vmcb01: *const nest_vmcb, buf: *mut c_void,
                               len: usize, written: *mut usize) -> c_int;
    pub fn nest_svm_restore_state(ctx: *mut nest_svm, vmcb01: *mut nest_vmcb,
                                  buf: *const c_void, len: usize) -> c_int;
    pub fn nest_svm_kvm_state_size() -> usize;
    pub fn nest_svm_to_kvm_nested_state(ctx: *const nest_svm, vmcb01: *const nest_vmcb,
                                        buf: *mut c_void, len: usize,
                                        written: *mut usize) -> c_int;
    pub fn nest_svm_from_kvm_nested_state(ctx: *mut nest_svm, vmcb01: *mut nest_vmcb,
                                          buf: *const c_void, len: usize) -> c_int;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_the_headers() {
        assert_eq!(std::mem::size_of::<nest_vmx_caps>(), 184);
        assert_eq!(std::mem::size_of::<nest_vmx_entry_result>(), 32);
        assert_eq!(std::mem::size_of::<nest_vmcb>(), 4096);
        assert_eq!(std::mem::size_of::<nest_backend_ops>(), 8 + 12 * 8);
        assert_eq!(std::mem::size_of::<nest_svm_caps>(), 32);
    }

    #[test]
    fn generated_constants_agree_with_the_library() {
        let v = unsafe { nest_version() } as u64;
        assert_eq!(v >> 16, NEST_VERSION_MAJOR);
        assert_eq!(v >> 8 & 0xff, NEST_VERSION_MINOR);
        assert_eq!(NEST_STATE_MAGIC, 0x5354_534e);
        assert_eq!(status::NEST_E_FORMAT, 10);
        let f = unsafe { nest_vmcs_field_by_encoding(vmcs::GUEST_RIP) };
        assert!(!f.is_null());
        for (i, name) in VMX_RULES.iter().enumerate() {
            let n = unsafe { std::ffi::CStr::from_ptr(nest_vmx_rule_name(i as u32)) };
            assert_eq!(n.to_str().unwrap(), *name);
        }
        assert!(SVM_CHECKS.len() > 20);
        for (i, name) in SVM_CHECKS.iter().enumerate() {
            let n = unsafe { std::ffi::CStr::from_ptr(nest_svm_check_name(i as u32 + 1)) };
            assert_eq!(n.to_str().unwrap(), *name);
        }
        let f = unsafe { nest_vmcb_field_by_offset(vmcb::GUEST_ASID) };
        assert!(!f.is_null());
    }
}
