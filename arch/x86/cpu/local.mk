# SPDX-License-Identifier: MIT
# arch/x86/cpu: sources append to NEST_CORE_SOURCES, internal headers to
# noinst_HEADERS, unit tests to check_PROGRAMS and TESTS.
noinst_HEADERS += arch/x86/cpu/x86.h
