# SPDX-License-Identifier: MIT
# arch/x86/vmx: sources append to NEST_CORE_SOURCES, internal headers to
# noinst_HEADERS, unit tests to check_PROGRAMS and TESTS.
