// SPDX-License-Identifier: MIT
//! The safe crate on nestctl's samples: entry checks against each vmx-*.txt
//! sample's recorded expectation and, when NESTCTL names the nestctl
//! program, against its output; VMRUN checks of the *.vmcb samples against
//! nestctl; nested-state conversion of the state-* samples (round trips give
//! the samples back byte for byte; the bad ones are refused); a backend
//! written here, called through the trait.

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use libnest::offline::{convert_state, identify, validate_state, Format, Host};
use libnest::{check_vmcb, check_vmcs12, parse_vmcs12_text, sys, Backend, ContextMemory, Error,
              Result, SvmCaps, VmcsId, Vmcb, Vmx, VmxConfig};

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../examples/nestctl/samples")
}

fn sample_files(suffix: &str, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(samples())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            n.ends_with(suffix) && n.starts_with(prefix)
        })
        .collect();
    v.sort();
    v
}

fn nestctl(args: &[&str]) -> Option<(i32, String)> {
    let tool = std::env::var("NESTCTL").ok()?;
    let out = Command::new(tool).args(args).output().unwrap();
    Some((out.status.code().unwrap(), String::from_utf8_lossy(&out.stdout).into_owned()))
}

#[test]
fn vmx_samples_give_their_recorded_verdicts() {
    let files = sample_files(".txt", "vmx-");
    assert!(files.len() > 5);
    for f in files {
        let text = fs::read_to_string(&f).unwrap();
        let expect = text.lines().find_map(|l| l.strip_prefix("# expect: ")).unwrap();
        let (status, prefix) = expect.split_at(expect.find(' ').unwrap());
        let (v, caps, msrs) = parse_vmcs12_text(&text).unwrap();
        let r = check_vmcs12(&v, &caps, &msrs).unwrap();
        let line = r.to_string();
        assert!(line.starts_with(prefix.trim()), "{:?}: {} (want {})", f, line, prefix);
        assert_eq!(if r.ok() { "0" } else { "1" }, status, "{:?}", f);
        if let Some((rc, out)) = nestctl(&["vmx", "check", f.to_str().unwrap()]) {
            assert_eq!(out.trim(), line, "{:?}", f);
            assert_eq!(rc, if r.ok() { 0 } else { 1 });
        }
    }
}

#[test]
fn a_vmcs12_built_by_fields() {
    let text = fs::read_to_string(samples().join("vmx-ok-64bit.txt")).unwrap();
    let (mut v, caps, _) = parse_vmcs12_text(&text).unwrap();
    assert!(check_vmcs12(&v, &caps, &[]).unwrap().ok());
    v.set("VIRTUAL_PROCESSOR_ID", 0).unwrap();
    let r = check_vmcs12(&v, &caps, &[]).unwrap();
    assert_eq!((r.rule, r.section.as_str(), r.field, r.vm_instruction_error),
               ("CTL_VPID_ZERO", "SDM 27.2.1.1", Some("VIRTUAL_PROCESSOR_ID"), 7));
    assert_eq!(v.set("NO_SUCH_FIELD", 1), Err(Error::NOENT));
    assert_eq!(v.get("GUEST_RIP").unwrap(), 0x401000);
}

fn vmcb_from_text(text: &str) -> Vmcb {
    let mut v = Vmcb::default();
    for line in text.lines() {
        let line = line.split('#').next().unwrap().trim();
        if line.is_empty() {
            continue;
        }
        let mut kv = line.splitn(2, '=');
        let (k, val) = (kv.next().unwrap().trim(), kv.next().unwrap().trim());
        let x = if let Some(h) = val.strip_prefix("0x") {
            u64::from_str_radix(h, 16).unwrap()
        } else {
            val.parse().unwrap()
        };
        if let Some(h) = k.strip_prefix("0x") {
            let off = u32::from_str_radix(h, 16).unwrap();
            let f = unsafe { sys::nest_vmcb_field_by_offset(off) };
            let name = unsafe { std::ffi::CStr::from_ptr((*f).name) }.to_str().unwrap();
            v.set(name, x).unwrap();
        } else {
            v.set(k, x).unwrap();
        }
    }
    v
}

#[test]
fn vmcb_samples_as_nestctl() {
    let files: Vec<PathBuf> = sample_files(".vmcb", "")
        .into_iter()
        .filter(|p| !p.file_name().unwrap().to_str().unwrap().starts_with("bad-"))
        .collect();
    assert!(files.len() > 20);
    for f in files {
        let text = fs::read_to_string(&f).unwrap();
        // "# nestctl-options:" lines describe the processor checked against
        let opts: Vec<&str> = text.lines()
            .filter_map(|l| l.strip_prefix("# nestctl-options: "))
            .flat_map(|l| l.split_whitespace())
            .collect();
        let mut caps = SvmCaps::default();
        for (i, o) in opts.iter().enumerate() {
            match *o {
                "--no-long-mode" => caps.0.long_mode = 0,
                "--features" => {
                    caps.0.features =
                        u32::from_str_radix(opts[i + 1].trim_start_matches("0x"), 16).unwrap()
                }
                _ => {}
            }
        }
        let r = check_vmcb(&vmcb_from_text(&text), &caps).unwrap();
        // the samples are named after the rule they break
        let stem = f.file_stem().unwrap().to_str().unwrap();
        if stem == "valid" {
            assert!(r.ok());
        } else {
            assert!(stem.starts_with(r.rule), "{:?}: {}", f, r);
            assert!(r.section.starts_with("APM "), "{:?}: {}", f, r.section);
        }
        let mut args = vec!["svm", "check"];
        args.extend(opts.iter());
        args.push(f.to_str().unwrap());
        if let Some((rc, out)) = nestctl(&args) {
            assert_eq!(out.trim(), r.to_string(), "{:?}", f);
            assert_eq!(rc, if r.ok() { 0 } else { 1 });
        }
    }
}

/// An SVM stream (docs/state.md, "SVM body") with vmcb02's host-physical
/// page addresses cleared: IOPM_BASE_PA, MSRPM_BASE_PA and N_CR3.
fn without_host_pages(stream: &[u8]) -> Vec<u8> {
    const VMCB02: usize = 56 + 4096;
    let mut s = stream.to_vec();
    for off in [0x40usize, 0x48, 0xb0] {
        for b in &mut s[VMCB02 + off..VMCB02 + off + 8] {
            *b = 0;
        }
    }
    s
}

#[test]
fn state_samples_convert_and_round_trip() {
    let host = Host::default();
    let mut n = 0;
    for f in sample_files("", "state-") {
        let name = f.file_name().unwrap().to_str().unwrap().to_string();
        let data = fs::read(&f).unwrap();
        let (format, vmx) = identify(&data).unwrap();
        assert_eq!(vmx, name.starts_with("state-vmx"));
        let verdict = validate_state(&data, &host);
        if name.contains("-bad-") {
            assert_eq!(verdict, Err(Error::FORMAT), "{}", name);
        } else {
            assert_eq!(verdict, Ok(()), "{}", name);
        }
        if let Some((rc, _)) = nestctl(&["state", "check", f.to_str().unwrap()]) {
            assert_eq!(rc, if verdict.is_ok() { 0 } else { 1 }, "{}", name);
        }
        if verdict.is_err() || format == Format::Kvm {
            continue;
        }
        // libnest -> libnest: the identity for VMX; for SVM a fixed point
        // (the saved vmcb02 is the one the restore rebuilt)
        let again = convert_state(&data, Format::Libnest, &host).unwrap();
        if vmx {
            assert!(again == data, "{}: libnest -> libnest changed the stream", name);
        } else {
            // vmcb02's IOPM, MSRPM and nCR3 are host-physical addresses of
            // the pages the converting context was given: they name that
            // context's pages, not L1's state, and differ between contexts.
            let third = convert_state(&again, Format::Libnest, &host).unwrap();
            assert!(without_host_pages(&third) == without_host_pages(&again), "{}", name);
        }
        // libnest -> KVM gives the KVM sample (made by nestctl's library)
        let kvm = convert_state(&data, Format::Kvm, &host).unwrap();
        let kvm_sample = samples().join(name.replace(".nst", ".kvm"));
        if kvm_sample.exists() {
            assert!(kvm == fs::read(&kvm_sample).unwrap(), "{}: differs from the KVM sample", name);
            n += 1;
        }
        if vmx {
            assert!(convert_state(&kvm, Format::Libnest, &host).unwrap() == data,
                    "{}: KVM -> libnest does not give the stream back", name);
        }
    }
    assert_eq!(n, 3);
    assert_eq!(identify(b"junk"), Err(Error::FORMAT));
}

/// A backend of the test's own: L1 memory in a vector, the VMCSs in maps;
/// it counts what libnest asks of it.
#[derive(Default)]
struct Counting {
    mem: Vec<u8>,
    vmcs: std::collections::HashMap<(u8, u32), u64>,
    reads: usize,
    vmcs_writes: usize,
}

impl Backend for Counting {
    fn read_l1(&mut self, gpa: u64, buf: &mut [u8]) -> Result<()> {
        self.reads += 1;
        let a = gpa as usize;
        let src = self.mem.get(a..a + buf.len()).ok_or(Error::FAULT)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn write_l1(&mut self, gpa: u64, buf: &[u8]) -> Result<()> {
        let a = gpa as usize;
        self.mem.get_mut(a..a + buf.len()).ok_or(Error::FAULT)?.copy_from_slice(buf);
        Ok(())
    }
    fn vmcs_read(&mut self, which: VmcsId, enc: u32) -> Result<u64> {
        Ok(*self.vmcs.get(&(which as u8, enc)).unwrap_or(&0))
    }
    fn vmcs_write(&mut self, which: VmcsId, enc: u32, value: u64) -> Result<()> {
        self.vmcs_writes += 1;
        self.vmcs.insert((which as u8, enc), value);
        Ok(())
    }
}

#[test]
fn a_backend_of_our_own_through_the_trait() {
    let mut be = Counting { mem: vec![0; 1 << 20], ..Default::default() };
    let mut mem = ContextMemory::for_vmx();
    let data = fs::read(samples().join("state-vmx-root.nst")).unwrap();
    {
        let mut ctx = Vmx::new(&mut mem, &mut be, &VmxConfig::default()).unwrap();
        // the offered capabilities hide what libnest never offers (EPT-violation #VE)
        assert_eq!(ctx.offered_caps().0.procbased2 >> 32 & (1 << 18), 0);
        ctx.restore_state(&data).unwrap();
        assert!(ctx.save_state().unwrap() == data);
        let kvm = ctx.to_kvm().unwrap();
        assert!(kvm == fs::read(samples().join("state-vmx-root.kvm")).unwrap());
        // a stream in guest mode needs L0's side first
        let guest = fs::read(samples().join("state-vmx-guest.nst")).unwrap();
        assert_eq!(ctx.restore_state(&guest), Err(Error::STATE));
        assert_eq!(ctx.restore_state(&data[..100]), Err(Error::FORMAT));
    }
    // the restore wrote nothing to L1 memory and nothing to a hardware VMCS
    assert!(be.mem.iter().all(|&b| b == 0));
    assert_eq!(be.vmcs_writes, 0);
}
