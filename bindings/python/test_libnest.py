# SPDX-License-Identifier: MIT
"""Tests of the Python binding against the built library."""
import unittest

import libnest


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

    def test_lookup_by_name_and_encoding(self):
        f = libnest.vmcs_field("GUEST_CR0")
        self.assertEqual(f.encoding, libnest.VMCS_GUEST_CR0)
        self.assertEqual((f.width, f.type), ("natural", "guest"))
        self.assertEqual(libnest.vmcs_field(0x4402).name, "VM_EXIT_REASON")
        self.assertIsNone(libnest.vmcs_field("NO_SUCH_FIELD"))
        self.assertIsNone(libnest.vmcs_field(0x6801))


if __name__ == "__main__":
    unittest.main()
