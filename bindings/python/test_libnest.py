# SPDX-License-Identifier: MIT
"""Tests of the Python binding against the built library, and against
nestctl (the C tool over the same library) on nestctl's samples.

NESTCTL names the nestctl program and NESTCTL_SAMPLES its samples folder;
without them the comparisons with nestctl are skipped."""
import glob
import importlib.util
import os
import subprocess
import tempfile
import unittest

import libnest

NESTCTL = os.environ.get("NESTCTL")
SAMPLES = os.environ.get("NESTCTL_SAMPLES", "")


def sample(name):
    return os.path.join(SAMPLES, name)


def nestctl(*args):
    p = subprocess.run([NESTCTL] + list(args), capture_output=True)
    return p.returncode, p.stdout.decode(), p.stdout


class BindingTest(unittest.TestCase):
    def test_version_matches_generated_constants(self):
        self.assertEqual(libnest.version(), libnest.VERSION)

    def test_status_text_comes_from_the_library(self):
        for name, value in libnest.STATUS.items():
            self.assertEqual(libnest.strerror(value), libnest.STATUS_TEXT[value], name)
        self.assertEqual(libnest.NEST_E_INVAL, 1)

    def test_every_generated_encoding_is_in_the_library_table(self):
        fields = libnest.vmcs_fields()
        self.assertEqual(len(fields), len(libnest.VMCS))
        for f in fields:
            self.assertEqual(libnest.VMCS[f.name], f.encoding)

    def test_generated_vmcb_table_and_rules_match_the_library(self):
        table = libnest.vmcb_fields()
        self.assertEqual(len(table), len(libnest.VMCB))
        for name, off, width in table:
            self.assertEqual(libnest.VMCB[name], (off, width), name)
        for i, (name, section, _text) in enumerate(libnest.VMX_RULES):
            self.assertEqual(libnest.lib.nest_vmx_rule_name(i).decode(), name)
            self.assertEqual(libnest.lib.nest_vmx_rule_section(i).decode(), section)
        for i, (_n, rule, text, ref) in enumerate(libnest.SVM_CHECKS, 1):
            self.assertEqual(libnest.lib.nest_svm_check_name(i).decode(), rule)
            self.assertEqual(libnest.lib.nest_svm_check_text(i).decode(), f"{text} ({ref})")

    def test_generated_macros(self):
        self.assertEqual(libnest.NEST_STATE_MAGIC, 0x5354534e)
        self.assertEqual(libnest.NEST_SVM_F_VGIF, 1 << 16)
        self.assertEqual(libnest.NEST_VMX_F_ALL, 0x7ff)
        self.assertEqual(libnest.NEST_KVM_VMCS12_REVISION, 0x11e57ed0)

    def test_lookup_by_name_and_encoding(self):
        f = libnest.vmcs_field("GUEST_CR0")
        self.assertEqual(f.encoding, libnest.VMCS_GUEST_CR0)
        self.assertEqual((f.width, f.type), ("natural", "guest"))
        self.assertEqual(libnest.vmcs_field(0x4402).name, "VM_EXIT_REASON")
        self.assertIsNone(libnest.vmcs_field("NO_SUCH_FIELD"))
        self.assertIsNone(libnest.vmcs_field(0x6801))


class EntryCheckTest(unittest.TestCase):
    def test_a_dict_of_fields(self):
        fields, _caps, _msrs = libnest.read_vmcs12_text(
            os.path.join(os.path.dirname(__file__), "vmx-ok-64bit.txt")
            if not SAMPLES else sample("vmx-ok-64bit.txt"))
        self.assertTrue(libnest.check_vmcs12(fields).ok)
        r = libnest.check_vmcs12(dict(fields, VIRTUAL_PROCESSOR_ID=0))
        self.assertEqual((r.outcome, r.vm_instruction_error), ("vmfail", 7))
        self.assertEqual((r.rule, r.section, r.field),
                         ("CTL_VPID_ZERO", "SDM 27.2.1.1", "VIRTUAL_PROCESSOR_ID"))
        r = libnest.check_vmcs12(dict(fields, GUEST_RFLAGS=0))
        self.assertEqual((r.outcome, r.exit_reason, r.field),
                         ("entry-failure", 0x80000021, "GUEST_RFLAGS"))
        # a capability without VPID makes the VPID control itself reserved
        caps = libnest.vmx_caps_default()
        caps["procbased2"] &= ~(1 << (32 + 5))
        caps["ept_vpid"] &= ~(1 << 32)
        r = libnest.check_vmcs12(fields, caps=caps)
        self.assertEqual((r.outcome, r.rule), ("vmfail", "CTL_PROC2_RESERVED"))
        with self.assertRaises(KeyError):
            libnest.check_vmcs12({"NO_SUCH_FIELD": 1})
        with self.assertRaises(ValueError):
            libnest.check_vmcs12({"VIRTUAL_PROCESSOR_ID": 1 << 16})
        with self.assertRaises(ValueError):
            libnest.check_vmcs12(dict(fields, VM_ENTRY_MSR_LOAD_COUNT=2), msr_load=[(0x10, 0)])

    def test_vmcb_dict(self):
        r = libnest.check_vmcb({"GUEST_ASID": 1})
        self.assertEqual((r.ok, r.rule, r.section, r.field),
                         (False, "efer-svme-clear", "APM 15.5.1", "EFER"))
        r = libnest.check_vmcb({"EFER": 0x1000, "INTERCEPT_MISC2": 1, "GUEST_ASID": 0})
        self.assertEqual((r.rule, r.field, r.value), ("asid-zero", "GUEST_ASID", 0))

    @unittest.skipUnless(NESTCTL, "NESTCTL not set")
    def test_vmx_samples_as_nestctl(self):
        files = sorted(glob.glob(sample("vmx-*.txt")))
        self.assertGreater(len(files), 5)
        for f in files:
            rc, out, _ = nestctl("vmx", "check", f)
            r = libnest.check_vmcs12(f)
            self.assertEqual(r.line(), out.strip(), f)
            self.assertEqual(rc, 0 if r.ok else 1, f)

    @unittest.skipUnless(NESTCTL, "NESTCTL not set")
    def test_svm_samples_as_nestctl(self):
        files = [f for f in sorted(glob.glob(sample("*.vmcb")))
                 if not os.path.basename(f).startswith("bad-")]
        self.assertGreater(len(files), 20)
        for f in files:
            with open(f, encoding="utf-8") as fp:
                opts = [o for line in fp if line.startswith("# nestctl-options: ")
                        for o in line.split()[2:]]
            kw = {}
            if "--no-long-mode" in opts:
                kw["long_mode"] = False
            if "--features" in opts:
                kw["features"] = int(opts[opts.index("--features") + 1], 0)
            rc, out, _ = nestctl("svm", "check", *opts, f)
            r = libnest.check_vmcb(f, **kw)
            self.assertEqual(r.line(), out.strip(), f)
            self.assertEqual(rc, 0 if r.ok else 1, f)
            stem = os.path.basename(f)[:-len(".vmcb")]
            self.assertTrue(r.ok if stem == "valid" else stem.startswith(r.rule), f)
            if not r.ok:
                self.assertTrue(r.section.startswith("APM "), f)
                _, verbose, _ = nestctl("svm", "check", "-v", *opts, f)
                self.assertIn(r.section, verbose, f)


@unittest.skipUnless(NESTCTL, "NESTCTL not set")
class StateTest(unittest.TestCase):
    def states(self):
        files = sorted(glob.glob(sample("state-*.nst")) + glob.glob(sample("state-*.kvm")))
        self.assertGreater(len(files), 10)
        return files

    def test_show_as_nestctl(self):
        for f in self.states():
            rc, out, _ = nestctl("state", "show", f)
            self.assertEqual(rc, 0)
            self.assertEqual(libnest.parse_state(f).show(), out.rstrip("\n"), f)

    def test_validate_as_nestctl(self):
        for f in self.states():
            rc, out, _ = nestctl("state", "check", f)
            r = libnest.validate_state(f)
            if r.ok:
                self.assertEqual((rc, out), (0, "ok\n"), f)
                continue
            lines = out.splitlines()
            self.assertEqual(rc, 1, f)
            self.assertEqual(lines[0], f"rejected: {r.status_name} ({libnest.strerror(r.status)})")
            self.assertEqual(lines[1:], [f"  {k}: {m}" for k, m in r.problems], f)
        r = libnest.validate_state(sample("state-vmx-bad-guest.nst"))
        self.assertEqual((r.entry.rule, r.entry.field), ("GUEST_RFLAGS_RESERVED", "GUEST_RFLAGS"))

    def test_validate_under_a_policy(self):
        f = sample("state-vmx-guest.nst")
        self.assertTrue(libnest.validate_state(f).ok)
        r = libnest.validate_state(f, features=["vpid"])
        rc, out, _ = nestctl("state", "check", "--features", "vpid", f)
        self.assertEqual((r.status, rc), (libnest.NEST_E_FORMAT, 1))
        self.assertEqual(out.splitlines()[1:], [f"  {k}: {m}" for k, m in r.problems])

    def test_convert_as_nestctl(self):
        with tempfile.TemporaryDirectory() as d:
            for f in self.states():
                st = libnest.parse_state(f)
                to = "libnest" if st.format == "kvm" else "kvm"
                out = os.path.join(d, "out")
                rc, _, _ = nestctl("state", "convert", f, out)
                try:
                    mine = libnest.convert_state(st.data, to)
                except libnest.Error as e:
                    self.assertEqual(rc, 1, f)
                    self.assertEqual(e.status, libnest.validate_state(f).status, f)
                    continue
                self.assertEqual(rc, 0, f)
                with open(out, "rb") as fp:
                    self.assertEqual(mine, fp.read(), f)
        nst = libnest.parse_state(sample("state-vmx-root.nst")).data
        self.assertEqual(libnest.convert_state(libnest.convert_state(nst, "kvm"), "libnest"), nst)

    def test_parse_errors(self):
        with self.assertRaises(libnest.Error):
            libnest.parse_state(b"NSTS")
        with self.assertRaises(libnest.Error):
            libnest.parse_state(b"junk")
        with self.assertRaises(libnest.Error) as e:
            libnest.convert_state(bytes(200), "kvm")  # KVM VMX, size 0
        self.assertEqual(e.exception.status, libnest.NEST_E_FORMAT)

    def test_samples_are_reproducible(self):
        spec = importlib.util.spec_from_file_location("mk", sample("make-state-samples.py"))
        mk = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mk)
        with tempfile.TemporaryDirectory() as d:
            mk.main(d)
            made = sorted(os.listdir(d))
            self.assertEqual(made, [os.path.basename(f) for f in self.states()])
            for name in made:
                with open(os.path.join(d, name), "rb") as a, open(sample(name), "rb") as b:
                    self.assertEqual(a.read(), b.read(), name)


def nestctl_caps(*args):
    rc, out, _ = nestctl("caps", *args)
    feats, values = {}, {}
    for line in out.splitlines():
        if line.startswith("# feature "):
            name, yes = line[len("# feature "):].split()
            feats[name] = yes == "yes"
        elif not line.startswith("#") and "=" in line:
            k, v = line.split("#")[0].split("=")
            values[k.strip()] = [int(x, 0) for x in v.split()]
    return rc, feats, values


@unittest.skipUnless(NESTCTL, "NESTCTL not set")
class CapsTest(unittest.TestCase):
    def test_vmx_host_as_nestctl(self):
        host = libnest.read_host_caps(sample("caps-vmx-a.txt"))
        self.assertEqual(host["arch"], "vmx")
        for policy in (None, "vpid,preemption_timer", "ept,unrestricted_guest", "none"):
            args = ["--host", sample("caps-vmx-a.txt")] + (["--features", policy] if policy else [])
            rc, feats, values = nestctl_caps(*args)
            mine = libnest.vmx_offered_caps(host["caps"],
                                            policy.split(",") if policy else libnest.NEST_VMX_F_ALL)
            self.assertEqual(rc, 0)
            self.assertEqual({k: v[0] for k, v in values.items()}, mine, policy)
            self.assertEqual(feats, libnest.vmx_features_of(mine), policy)
        off = libnest.vmx_offered_caps(host["caps"], ["vpid"])
        self.assertFalse(libnest.vmx_features_of(off)["ept"])
        self.assertTrue(libnest.vmx_features_of(off)["vpid"])

    def test_svm_host_as_nestctl(self):
        host = libnest.read_host_caps(sample("caps-svm-a.txt"))
        self.assertEqual(host["arch"], "svm")
        for policy in (None, "np,nrips,vgif"):
            args = ["--host", sample("caps-svm-a.txt")] + (["--features", policy] if policy else [])
            rc, feats, values = nestctl_caps(*args)
            mine = libnest.svm_offered(host["cpuid"], policy.split(",") if policy
                                       else libnest.NEST_SVM_F_SUPPORTED, host["maxphyaddr"])
            self.assertEqual(rc, 0)
            self.assertEqual(values["cpuid_8000000a"], mine["cpuid"])
            self.assertEqual(values["maxphyaddr"], [mine["maxphyaddr"]])
            self.assertEqual(sorted(k for k, v in feats.items() if v), sorted(mine["names"]))

    def test_bad_dumps(self):
        with self.assertRaises(ValueError):
            libnest.read_host_caps("0x480 = 1\nfoo = 2\n")
        with self.assertRaises(ValueError):
            libnest.read_host_caps("cpuid_8000000a = 1 2 3\n")
        with self.assertRaises(ValueError):
            libnest.features_mask(["warp"])


if __name__ == "__main__":
    unittest.main()
