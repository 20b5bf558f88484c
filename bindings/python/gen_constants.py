#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generate libnest/_constants.py from the C headers, so the Python
binding never retypes a constant: status codes from NEST_STATUS_LIST in
nest/base.h and VMCS field encodings from nest/vmcs-fields.def."""
import re
import sys


def main(include_dir, out_path):
    nest_h = open(f"{include_dir}/nest/base.h", encoding="utf-8").read()
    statuses = re.findall(r'X\((NEST_[A-Z0-9_]+), (\d+), "([^"]*)"\)', nest_h)
    version = {k: int(v) for k, v in re.findall(
        r"#define NEST_VERSION_(MAJOR|MINOR|PATCH) (\d+)", nest_h)}
    fields = re.findall(r"^NEST_VMCS_FIELD\(([A-Z0-9_]+), (0x[0-9a-fA-F]+),",
                        open(f"{include_dir}/nest/vmcs-fields.def", encoding="utf-8").read(),
                        re.M)
    if not statuses or not fields or len(version) != 3:
        sys.exit("gen_constants: could not parse the headers")
    lines = ["# SPDX-License-Identifier: MIT",
             "# Generated from include/nest by gen_constants.py; do not edit.",
             f"VERSION = ({version['MAJOR']}, {version['MINOR']}, {version['PATCH']})",
             "STATUS = {"]
    lines += [f"    {name!r}: {value}," for name, value, _ in statuses]
    lines += ["}", "STATUS_TEXT = {"]
    lines += [f"    {value}: {text!r}," for _, value, text in statuses]
    lines += ["}", "VMCS = {"]
    lines += [f"    {name!r}: {enc}," for name, enc in fields]
    lines += ["}", ""]
    for name, value, _ in statuses:
        lines.append(f"{name} = {value}")
    for name, enc in fields:
        lines.append(f"VMCS_{name} = {enc}")
    open(out_path, "w", encoding="utf-8").write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
