// SPDX-License-Identifier: MIT
//! Finds libnest (LIBNEST_INCLUDE_DIR / LIBNEST_LIB_DIR, else pkg-config,
//! else the source tree's include/ folder) and generates the constants of
//! its public headers into OUT_DIR/constants.rs: every object-like integer
//! macro NEST_*, the status codes, the VMCS field encodings, the VMCB field
//! offsets, and the VM-entry and VMRUN rule names. Standard library only.

use std::collections::BTreeMap;
use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const HEADERS: &[&str] = &[
    "base.h", "backend.h", "vmcs.h", "vmx.h", "vmcb.h", "svm.h", "tdp.h", "state.h", "cpu.h",
];

fn pkg_config(arg: &str) -> Option<String> {
    let out = Command::new("pkg-config").args(&[arg, "libnest"]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn include_dir() -> PathBuf {
    if let Ok(d) = env::var("LIBNEST_INCLUDE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = pkg_config("--variable=includedir") {
        if Path::new(&d).join("nest/base.h").is_file() {
            return PathBuf::from(d);
        }
    }
    let tree = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("../../../include");
    if tree.join("nest/base.h").is_file() {
        return tree;
    }
    PathBuf::from("/usr/include")
}

fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && i + 1 < b.len() && b[i + 1] == b'*' {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
            out.push(' ');
        } else if b[i] == b'/' && i + 1 < b.len() && b[i + 1] == b'/' {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out.replace("\\\n", " ")
}

/// A tiny evaluator of the constant expressions the headers use.
struct Expr<'a> {
    toks: Vec<String>,
    pos: usize,
    known: &'a BTreeMap<String, u64>,
}

impl<'a> Expr<'a> {
    fn new(s: &str, known: &'a BTreeMap<String, u64>) -> Option<Expr<'a>> {
        let mut toks = Vec::new();
        let c: Vec<char> = s.chars().collect();
        let mut i = 0;
        while i < c.len() {
            if c[i].is_whitespace() {
                i += 1;
            } else if c[i].is_ascii_alphanumeric() || c[i] == '_' {
                let st = i;
                while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
                toks.push(c[st..i].iter().collect());
            } else if (c[i] == '<' || c[i] == '>') && i + 1 < c.len() && c[i + 1] == c[i] {
                toks.push(c[i..i + 2].iter().collect());
                i += 2;
            } else if "|&~+-()".contains(c[i]) {
                toks.push(c[i].to_string());
                i += 1;
            } else {
                return None;
            }
        }
        Some(Expr { toks, pos: 0, known })
    }
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.pos).map(|s| s.as_str())
    }
    fn eat(&mut self, t: &str) -> bool {
        if self.peek() == Some(t) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn binary(&mut self, level: usize) -> Option<u64> {
        const OPS: &[&[&str]] = &[&["|"], &["&"], &["<<", ">>"], &["+", "-"]];
        if level == OPS.len() {
            return self.unary();
        }
        let mut v = self.binary(level + 1)?;
        loop {
            let op = match self.peek() {
                Some(t) if OPS[level].contains(&t) => t.to_string(),
                _ => return Some(v),
            };
            self.pos += 1;
            let r = self.binary(level + 1)?;
            v = match op.as_str() {
                "|" => v | r,
                "&" => v & r,
                "<<" => v.checked_shl(r as u32)?,
                ">>" => v.checked_shr(r as u32)?,
                "+" => v.checked_add(r)?,
                _ => v.checked_sub(r)?,
            };
        }
    }
    fn unary(&mut self) -> Option<u64> {
        if self.eat("~") {
            return self.unary().map(|v| !v);
        }
        if self.eat("(") {
            let v = self.binary(0)?;
            return if self.eat(")") { Some(v) } else { None };
        }
        let t = self.peek()?.to_string();
        self.pos += 1;
        if t.starts_with(|c: char| c.is_ascii_digit()) {
            let t = t.trim_end_matches(|c| c == 'u' || c == 'U' || c == 'l' || c == 'L');
            return if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                u64::from_str_radix(h, 16).ok()
            } else {
                t.parse().ok()
            };
        }
        self.known.get(&t).copied()
    }
    fn eval(mut self) -> Option<u64> {
        let v = self.binary(0)?;
        if self.pos == self.toks.len() {
            Some(v)
        } else {
            None
        }
    }
}

fn quoted(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = s.split('"');
    it.next();
    while let Some(q) = it.next() {
        out.push(q.to_string());
        it.next();
    }
    out
}

fn main() {
    let inc = include_dir();
    let nest = inc.join("nest");
    println!("cargo:rerun-if-env-changed=LIBNEST_INCLUDE_DIR");
    println!("cargo:rerun-if-env-changed=LIBNEST_LIB_DIR");
    let read = |name: &str| -> String {
        let p = nest.join(name);
        println!("cargo:rerun-if-changed={}", p.display());
        fs::read_to_string(&p).unwrap_or_else(|e| {
            panic!("libnest-sys: {}: {} (install libnest's headers or set LIBNEST_INCLUDE_DIR)", p.display(), e)
        })
    };

    let mut known: BTreeMap<String, u64> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for h in HEADERS {
        let text = strip_comments(&read(h));
        for line in text.lines() {
            let l = line.trim_start();
            if !l.starts_with('#') {
                continue;
            }
            let l = l[1..].trim_start();
            if !l.starts_with("define") {
                continue;
            }
            let l = l["define".len()..].trim_start();
            let name: String = l.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            let rest = &l[name.len()..];
            if !name.starts_with("NEST_") || name.ends_with("_H") || name.ends_with('_') || rest.starts_with('(') {
                continue;
            }
            if let Some(v) = Expr::new(rest.trim(), &known).and_then(|e| e.eval()) {
                if !known.contains_key(&name) {
                    order.push(name.clone());
                }
                known.insert(name, v);
            }
        }
    }

    let mut out = String::from("// Generated by libnest-sys's build.rs from libnest's headers.\n");
    for name in &order {
        out += &format!("pub const {}: u64 = {:#x};\n", name, known[name]);
    }
    // Status codes (NEST_STATUS_LIST) as c_int.
    let base = read("base.h");
    let mut statuses = Vec::new();
    for l in base.lines() {
        if let Some(i) = l.find("X(NEST_") {
            let args: Vec<&str> = l[i + 2..].splitn(3, ',').collect();
            if args.len() == 3 {
                let name = args[0].trim();
                let value: i32 = args[1].trim().parse().unwrap();
                let text = quoted(args[2]).into_iter().next().unwrap_or_default();
                statuses.push((name.to_string(), value, text));
            }
        }
    }
    assert!(statuses.len() > 10, "libnest-sys: no status list in nest/base.h");
    out += "pub mod status {\n";
    for (n, v, _) in &statuses {
        out += &format!("    pub const {}: std::os::raw::c_int = {};\n", n, v);
    }
    out += "}\n";
    // VMCS field encodings.
    out += "pub mod vmcs {\n";
    let mut nvmcs = 0;
    for l in read("vmcs-fields.def").lines() {
        if let Some(r) = l.strip_prefix("NEST_VMCS_FIELD(") {
            let a: Vec<&str> = r.split(',').map(|s| s.trim()).collect();
            out += &format!("    pub const {}: u32 = {};\n", a[0], a[1]);
            nvmcs += 1;
        }
    }
    out += "}\n";
    // VMCB field offsets.
    out += "pub mod vmcb {\n";
    let mut nvmcb = 0;
    for l in read("vmcb-fields.def").lines() {
        if let Some(r) = l.strip_prefix("NEST_VMCB_FIELD(") {
            let a: Vec<&str> = r.split(',').map(|s| s.trim()).collect();
            out += &format!("    pub const {}: u32 = {};\n", a[0], a[2]);
            nvmcb += 1;
        }
    }
    out += "}\n";
    // VM-entry rules, in enum order.
    out += "pub const VMX_RULES: &[&str] = &[\n";
    let rules = read("vmx-entry-rules.def");
    let mut nrules = 0;
    for l in rules.lines() {
        if let Some(r) = l.strip_prefix("NEST_VMX_RULE(") {
            out += &format!("    \"{}\",\n", r.split(',').next().unwrap().trim());
            nrules += 1;
        }
    }
    out += "];\n";
    // VMRUN rules, from 1 (NEST_SVM_CHECK_LIST).
    let svm = strip_comments(&read("svm.h"));
    let list = svm.find("#define NEST_SVM_CHECK_LIST").and_then(|s| {
        svm[s..].find("enum nest_svm_check").map(|e| &svm[s..s + e])
    }).expect("libnest-sys: no NEST_SVM_CHECK_LIST in nest/svm.h");
    out += "pub const SVM_CHECKS: &[&str] = &[\n";
    let mut nchecks = 0;
    for chunk in list.split("X(").skip(1) {
        let q = quoted(chunk);
        if let Some(id) = q.first() {
            out += &format!("    \"{}\",\n", id);
            nchecks += 1;
        }
    }
    out += "];\n";
    assert!(nvmcs > 100 && nvmcb > 50 && nrules > 100 && nchecks > 10,
            "libnest-sys: could not parse the headers in {}", inc.display());
    let dest = Path::new(&env::var("OUT_DIR").unwrap()).join("constants.rs");
    fs::write(dest, out).unwrap();

    // Linking: an explicit folder, else pkg-config's, else the default path.
    if let Ok(d) = env::var("LIBNEST_LIB_DIR") {
        println!("cargo:rustc-link-search=native={}", d);
    } else if let Some(l) = pkg_config("--libs-only-L") {
        for p in l.split_whitespace() {
            if let Some(d) = p.strip_prefix("-L") {
                println!("cargo:rustc-link-search=native={}", d);
            }
        }
    }
    println!("cargo:rustc-link-lib=dylib=nest");
    println!("cargo:include={}", inc.display());
}
