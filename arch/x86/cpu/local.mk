# SPDX-License-Identifier: MIT
# arch/x86/cpu: sources append to NEST_CORE_SOURCES, internal headers to
# noinst_HEADERS, unit tests to check_PROGRAMS and TESTS.
noinst_HEADERS += arch/x86/cpu/x86.h
# CPUID bits that mirror a guest's state (include/nest/cpu.h).
NEST_CORE_SOURCES += arch/x86/cpu/cpuid.c
# Rules VMX and SVM share (PAT validity).
NEST_CORE_SOURCES += arch/x86/cpu/rules.c
check_PROGRAMS += tests/unit/test_cpuid
TESTS += tests/unit/test_cpuid
tests_unit_test_cpuid_SOURCES = tests/unit/test_cpuid.c
tests_unit_test_cpuid_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_cpuid_LDADD = $(TEST_LDADD)
