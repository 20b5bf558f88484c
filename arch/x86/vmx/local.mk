# SPDX-License-Identifier: MIT
# arch/x86/vmx: nested VMX.
NEST_CORE_SOURCES += arch/x86/vmx/vmcs12.c
noinst_HEADERS += arch/x86/vmx/vmcs12.h
include_nest_HEADERS += include/nest/vmcs-fields.def

check_PROGRAMS += tests/unit/test_vmcs_fields
TESTS += tests/unit/test_vmcs_fields
tests_unit_test_vmcs_fields_SOURCES = tests/unit/test_vmcs_fields.c
tests_unit_test_vmcs_fields_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmcs_fields_LDADD = $(TEST_LDADD)
noinst_HEADERS += arch/x86/vmx/vmx_arch.h
EXTRA_DIST += arch/x86/vmx/exit-reasons.def

# Per-vCPU context, capability MSRs, VMX instruction emulation.
NEST_CORE_SOURCES += arch/x86/vmx/context.c arch/x86/vmx/caps.c arch/x86/vmx/msr.c \
	arch/x86/vmx/operand.c arch/x86/vmx/insn.c
noinst_HEADERS += arch/x86/vmx/context.h arch/x86/vmx/operand.h
