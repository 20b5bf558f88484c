# SPDX-License-Identifier: MIT
# Unit tests of lib/. Each area adds its own test programs in its local.mk.
check_PROGRAMS += tests/unit/test_core
TESTS += tests/unit/test_core
tests_unit_test_core_SOURCES = tests/unit/test_core.c
tests_unit_test_core_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_core_LDADD = $(TEST_LDADD)
# INVEPT/INVVPID executed by L1 (arch/x86/vmx/invalidate.c).
check_PROGRAMS += tests/unit/test_vmx_invalidate
TESTS += tests/unit/test_vmx_invalidate
tests_unit_test_vmx_invalidate_SOURCES = tests/unit/test_vmx_invalidate.c
tests_unit_test_vmx_invalidate_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_invalidate_LDADD = $(TEST_LDADD)
# The VMRESUME fast path of nested VMX entry (arch/x86/vmx/entry.c).
check_PROGRAMS += tests/unit/test_vmx_nested_fast
TESTS += tests/unit/test_vmx_nested_fast
tests_unit_test_vmx_nested_fast_SOURCES = tests/unit/test_vmx_nested_fast.c
tests_unit_test_vmx_nested_fast_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_nested_fast_LDADD = $(TEST_LDADD)
# L1's blocking by NMI across nested entry and exit (arch/x86/vmx/reflect.c).
check_PROGRAMS += tests/unit/test_vmx_nmi_blocking
TESTS += tests/unit/test_vmx_nmi_blocking
tests_unit_test_vmx_nmi_blocking_SOURCES = tests/unit/test_vmx_nmi_blocking.c
tests_unit_test_vmx_nmi_blocking_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_nmi_blocking_LDADD = $(TEST_LDADD)
# VMFUNC (EPTP switching) executed by L2 (arch/x86/vmx/vmfunc.c).
check_PROGRAMS += tests/unit/test_vmx_vmfunc
TESTS += tests/unit/test_vmx_vmfunc
tests_unit_test_vmx_vmfunc_SOURCES = tests/unit/test_vmx_vmfunc.c
tests_unit_test_vmx_vmfunc_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_vmfunc_LDADD = $(TEST_LDADD)
check_PROGRAMS += tests/unit/test_vmx_l2vmrw
TESTS += tests/unit/test_vmx_l2vmrw
tests_unit_test_vmx_l2vmrw_SOURCES = tests/unit/test_vmx_l2vmrw.c
tests_unit_test_vmx_l2vmrw_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_l2vmrw_LDADD = $(TEST_LDADD)
# A hostile L1 against vmcs02: APIC, MSR lists, L0's intercepts (issue #13).
check_PROGRAMS += tests/unit/test_vmx_nested_hostile
TESTS += tests/unit/test_vmx_nested_hostile
tests_unit_test_vmx_nested_hostile_SOURCES = tests/unit/test_vmx_nested_hostile.c
tests_unit_test_vmx_nested_hostile_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_nested_hostile_LDADD = $(TEST_LDADD)
# The bare-metal stub's instruction-length decoder (software nRIP save).
check_PROGRAMS += tests/unit/test_stub_insn_decode
TESTS += tests/unit/test_stub_insn_decode
tests_unit_test_stub_insn_decode_SOURCES = tests/unit/test_stub_insn_decode.c \
	examples/baremetal/stub/insn_decode.c examples/baremetal/stub/insn_decode.h
tests_unit_test_stub_insn_decode_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_stub_insn_decode_LDADD = $(TEST_LDADD)
check_PROGRAMS += tests/unit/test_stub_apic
TESTS += tests/unit/test_stub_apic
tests_unit_test_stub_apic_SOURCES = tests/unit/test_stub_apic.c \
	examples/baremetal/stub/apic_prio.h
tests_unit_test_stub_apic_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_stub_apic_LDADD = $(TEST_LDADD)
check_PROGRAMS += tests/unit/test_stub_cr4
TESTS += tests/unit/test_stub_cr4
tests_unit_test_stub_cr4_SOURCES = tests/unit/test_stub_cr4.c \
	examples/baremetal/stub/cr4_cpuid.h
tests_unit_test_stub_cr4_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_stub_cr4_LDADD = $(TEST_LDADD)
