#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generate libnest/_constants.py from the C headers, so the Python
binding never retypes a constant:

- status codes from NEST_STATUS_LIST in nest/base.h;
- every object-like integer macro NEST_* of the public headers whose value
  is a constant expression (flags, sizes, magic numbers, feature bits);
- VMCS field encodings from nest/vmcs-fields.def, VMCB field offsets and
  widths from nest/vmcb-fields.def;
- the VM-entry rules (nest/vmx-entry-rules.def) and the VMRUN consistency
  rules (NEST_SVM_CHECK_LIST in nest/svm.h) with their SDM/APM sections.

Usage: gen_constants.py INCLUDE_DIR OUTPUT
"""
import os
import re
import sys

HEADERS = ("base.h", "backend.h", "vmcs.h", "vmx.h", "vmcb.h", "svm.h", "tdp.h", "state.h", "cpu.h")
_NUM = re.compile(r"\b(0[xX][0-9a-fA-F]+|[0-9]+)(?:[uU]?[lL]{0,2}|[lL]{1,2}[uU]?)\b")
_SAFE = re.compile(r"^[0-9a-fA-FxX\s()|&<>~+\-*]*$")


def _strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def integer_macros(texts):
    """Object-like NEST_* macros whose value evaluates to a non-negative int."""
    found = {}
    for text in texts:
        text = _strip_comments(text).replace("\\\n", " ")
        for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+(NEST_[A-Z0-9_]+)[ \t]+([^\n]+)$",
                             text, re.M):
            name, value = m.group(1), m.group(2).strip()
            if name.endswith("_H") or name.endswith("_"):
                continue
            expr = re.sub(r"\bNEST_[A-Z0-9_]+\b",
                          lambda r: str(found[r.group(0)]) if r.group(0) in found else "?",
                          value)
            expr = _NUM.sub(lambda r: str(int(r.group(1), 0)), expr)
            if "?" in expr or not _SAFE.match(expr):
                continue
            try:
                v = eval(expr, {"__builtins__": {}}, {})  # only digits and operators
            except (SyntaxError, TypeError, ValueError):
                continue
            if isinstance(v, int) and v >= 0:
                found[name] = v
    return found


def parse(include_dir):
    def read(name):
        with open(os.path.join(include_dir, "nest", name), encoding="utf-8") as f:
            return f.read()

    base = read("base.h")
    statuses = re.findall(r'X\((NEST_[A-Z0-9_]+), (\d+), "([^"]*)"\)', base)
    version = {k: int(v) for k, v in re.findall(
        r"#define NEST_VERSION_(MAJOR|MINOR|PATCH) (\d+)", base)}
    vmcs = re.findall(r"^NEST_VMCS_FIELD\(([A-Z0-9_]+), (0x[0-9a-fA-F]+),",
                      read("vmcs-fields.def"), re.M)
    vmcb = re.findall(r"^NEST_VMCB_FIELD\(([A-Z0-9_]+), [^,]+, (0x[0-9a-fA-F]+), (\d+),",
                      read("vmcb-fields.def"), re.M)
    rules = re.findall(r'^NEST_VMX_RULE\(([A-Z0-9_]+),\s*\w+,\s*\w+,\s*"([^"]*)",\s*"((?:[^"\\]|\\.)*)"\)',
                       read("vmx-entry-rules.def"), re.M)
    svm = read("svm.h")
    checks_block = svm[svm.index("#define NEST_SVM_CHECK_LIST"):]
    checks_block = checks_block[:checks_block.index("enum nest_svm_check")]
    checks_block = re.sub(r'"\s*\\?\s*\n\s*"', "", checks_block.replace("\\\n", "\n"))
    checks = re.findall(r'X\((\w+),\s*"([^"]+)",\s*"([^"]+)",\s*"([^"]+)"\)', checks_block)
    macros = integer_macros(read(h) for h in HEADERS)
    if not statuses or not vmcs or not vmcb or not rules or not checks or len(version) != 3:
        sys.exit("gen_constants: could not parse the headers")
    return statuses, version, vmcs, vmcb, rules, checks, macros


def main(include_dir, out_path):
    statuses, version, vmcs, vmcb, rules, checks, macros = parse(include_dir)
    lines = ["# SPDX-License-Identifier: MIT",
             "# Generated from include/nest by gen_constants.py; do not edit.",
             f"VERSION = ({version['MAJOR']}, {version['MINOR']}, {version['PATCH']})",
             "STATUS = {"]
    lines += [f"    {name!r}: {value}," for name, value, _ in statuses]
    lines += ["}", "STATUS_TEXT = {"]
    lines += [f"    {value}: {text!r}," for _, value, text in statuses]
    lines += ["}", "# VMCS field name -> encoding", "VMCS = {"]
    lines += [f"    {name!r}: {enc}," for name, enc in vmcs]
    lines += ["}", "# VMCB field name -> (offset, width in bytes)", "VMCB = {"]
    lines += [f"    {name!r}: ({off}, {width})," for name, off, width in vmcb]
    lines += ["}", "# VM-entry rules in enum order: (name, SDM section, text)", "VMX_RULES = ["]
    lines += [f"    ({name!r}, {sec!r}, {text!r})," for name, sec, text in rules]
    lines += ["]", "# VMRUN rules from 1 in enum order: (NAME, rule-name, text, APM reference)",
              "SVM_CHECKS = ["]
    lines += [f"    ({n!r}, {i!r}, {t!r}, {r!r})," for n, i, t, r in checks]
    lines += ["]", "MACROS = {"]
    lines += [f"    {k!r}: {v:#x}," for k, v in sorted(macros.items())]
    lines += ["}", ""]
    for name, value, _ in statuses:
        lines.append(f"{name} = {value}")
    for name, enc in vmcs:
        lines.append(f"VMCS_{name} = {enc}")
    for name, value in sorted(macros.items()):
        if name not in dict((s[0], 0) for s in statuses):
            lines.append(f"{name} = {value:#x}")
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
