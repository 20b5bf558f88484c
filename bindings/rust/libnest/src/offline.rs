// SPDX-License-Identifier: MIT
//! An offline L0: the backend libnest needs to take in a nested state it is
//! only asked to check or convert (the same as nestctl's and the Python
//! binding's). L1 memory reads as zeros and L0 maps every L1 page
//! (identity, write-back); the hardware VMCSs are maps; pages come from the
//! heap. vmcs01 starts with a typical 64-bit L1, which KVM's format leaves
//! to vmcs01 on import.

use std::collections::HashMap;

use crate::{sys, Backend, ContextMemory, Error, Pages, Result, Svm, SvmConfig, SvmPages, Tdp,
            VmcsId, Vmcb, Vmx, VmxConfig};

/// The offline backend.
pub struct OfflineL0 {
    vmcs: HashMap<(u8, u32), u64>,
    pages: Vec<Pages>,
    /// Messages libnest logged.
    pub log: Vec<(i32, String)>,
}

impl Default for OfflineL0 {
    fn default() -> Self {
        let mut o = OfflineL0 { vmcs: HashMap::new(), pages: Vec::new(), log: Vec::new() };
        for &(enc, v) in &[(sys::vmcs::GUEST_CR0, 0x8005_0033u64), (sys::vmcs::GUEST_CR4, 0x26a0),
                           (sys::vmcs::GUEST_IA32_EFER, 0xd01),
                           (sys::vmcs::GUEST_IA32_PAT, 0x0007_0406_0007_0406),
                           (sys::vmcs::GUEST_DR7, 0x400)] {
            o.vmcs.insert((0, enc), v);
        }
        o
    }
}

impl Backend for OfflineL0 {
    fn read_l1(&mut self, _gpa: u64, buf: &mut [u8]) -> Result<()> {
        for b in buf.iter_mut() {
            *b = 0;
        }
        Ok(())
    }
    fn write_l1(&mut self, _gpa: u64, _buf: &[u8]) -> Result<()> {
        Ok(())
    }
    fn l1_to_host(&mut self, gpa: u64) -> Result<sys::nest_l0_map> {
        Ok(sys::nest_l0_map { hpa: gpa & !0xfff, rights: 0x1f, memtype: 6, page_shift: 12,
                              ignore_pat: 0, reserved: 0 })
    }
    fn vmcs_read(&mut self, which: VmcsId, enc: u32) -> Result<u64> {
        Ok(*self.vmcs.get(&(which as u8, enc)).unwrap_or(&0))
    }
    fn vmcs_write(&mut self, which: VmcsId, enc: u32, value: u64) -> Result<()> {
        self.vmcs.insert((which as u8, enc), value);
        Ok(())
    }
    fn page_alloc(&mut self) -> Result<(u64, *mut u8)> {
        let mut p = Pages::new(1);
        let v = p.as_mut_ptr();
        self.pages.push(p);
        Ok((v as u64, v))
    }
    fn log(&mut self, level: i32, msg: &str) {
        self.log.push((level, msg.to_string()));
    }
}

/// The two formats of a nested-state snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// libnest's own (docs/state.md).
    Libnest,
    /// KVM's struct kvm_nested_state.
    Kvm,
}

/// The format and architecture (true: VMX) of a snapshot.
pub fn identify(data: &[u8]) -> Result<(Format, bool)> {
    if data.len() >= 8 && u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as u64
        == sys::NEST_STATE_MAGIC
    {
        let arch = u16::from_le_bytes([data[6], data[7]]) as u64;
        if arch == sys::NEST_STATE_ARCH_VMX || arch == sys::NEST_STATE_ARCH_SVM {
            return Ok((Format::Libnest, arch == sys::NEST_STATE_ARCH_VMX));
        }
    } else if data.len() >= sys::NEST_KVM_NESTED_STATE_HDR_SIZE as usize {
        let f = u16::from_le_bytes([data[2], data[3]]) as u64;
        if f == sys::NEST_KVM_STATE_NESTED_FORMAT_VMX || f == sys::NEST_KVM_STATE_NESTED_FORMAT_SVM {
            return Ok((Format::Kvm, f == sys::NEST_KVM_STATE_NESTED_FORMAT_VMX));
        }
    }
    Err(Error::FORMAT)
}

/// The host a snapshot is checked or converted for.
#[derive(Clone, Copy, Debug, Default)]
pub struct Host {
    pub vmx: VmxConfig,
    pub svm: SvmConfig,
}

/// Take a snapshot into a scratch context of `host`, then write it in
/// format `to`: libnest's answer, Err(status) when it refuses the input.
pub fn convert_state(data: &[u8], to: Format, host: &Host) -> Result<Vec<u8>> {
    let (from, vmx) = identify(data)?;
    let mut l0 = OfflineL0::default();
    // libnest calls the backend through the tdp and the context alike;
    // both hold the same pointer, which outlives them here.
    let l0p: *mut OfflineL0 = &mut l0;
    let mut tdp_mem = ContextMemory::with_size(0);
    if vmx {
        let mut mem = ContextMemory::for_vmx();
        let mut ctx = Vmx::new(&mut mem, unsafe { &mut *l0p }, &host.vmx)?;
        let cfg = sys::nest_tdp_config {
            max_pages: 64, max_roots: 4, ept_vpid_cap: ctx.offered_caps().0.ept_vpid,
            maxphyaddr: host.vmx.l1_maxphyaddr as u8, max_page_shift: 12, ..Default::default()
        };
        let mut tdp = Tdp::new(&mut tdp_mem, unsafe { &mut *l0p }, cfg)?;
        ctx.set_l0(sys::nest_vmx_l0 {
            size: 0, flags: 0, pin: 0, proc_: 0, proc2: 0, exit_ctls: 0x200, exception_bitmap: 0,
            vpid02: 0, cr0_mask: 0, cr4_mask: 0, tsc_offset: 0, tsc_multiplier: 0, eptp01: 0,
            preemption_timer: 0, reserved0: 0, msr_bitmap: std::ptr::null(),
            io_bitmap: std::ptr::null(), tdp: tdp.as_ptr(),
        })?;
        match from {
            Format::Libnest => ctx.restore_state(data)?,
            Format::Kvm => ctx.from_kvm(data)?,
        }
        let out = match to {
            Format::Libnest => ctx.save_state(),
            Format::Kvm => ctx.to_kvm(),
        };
        drop(ctx);
        drop(tdp);
        out
    } else {
        let mut mem = ContextMemory::for_svm();
        let mut pages = SvmPages::default();
        let cfg = sys::nest_tdp_config {
            max_pages: 64, max_roots: 4, maxphyaddr: host.svm.l1_maxphyaddr as u8,
            max_page_shift: 12, ..Default::default()
        };
        let mut tdp = Tdp::new(&mut tdp_mem, unsafe { &mut *l0p }, cfg)?;
        let mut vmcb01 = Vmcb::default();
        let mut ctx = Svm::new(&mut mem, &mut pages, unsafe { &mut *l0p }, &host.svm,
                               Some(&mut tdp))?;
        match from {
            Format::Libnest => ctx.restore_state(&mut vmcb01, data)?,
            Format::Kvm => ctx.from_kvm(&mut vmcb01, data)?,
        }
        match to {
            Format::Libnest => ctx.save_state(&mut vmcb01),
            Format::Kvm => ctx.to_kvm(&mut vmcb01),
        }
    }
}

/// Would libnest restore this snapshot on `host`? Ok, or the status.
pub fn validate_state(data: &[u8], host: &Host) -> Result<()> {
    convert_state(data, Format::Libnest, host).map(|_| ())
}
