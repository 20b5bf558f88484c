# SPDX-License-Identifier: MIT
# arch/x86/vmx: nested VMX.
NEST_CORE_SOURCES += arch/x86/vmx/vmcs12.c
# Which VMCS fields the processor under L0 has.
NEST_CORE_SOURCES += arch/x86/vmx/hwfields.c
noinst_HEADERS += arch/x86/vmx/hwfields.h arch/x86/vmx/hwfields.def
noinst_HEADERS += arch/x86/vmx/vmcs12.h
include_nest_HEADERS += include/nest/vmcs-fields.def

check_PROGRAMS += tests/unit/test_vmcs_fields
TESTS += tests/unit/test_vmcs_fields
tests_unit_test_vmcs_fields_SOURCES = tests/unit/test_vmcs_fields.c
tests_unit_test_vmcs_fields_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmcs_fields_LDADD = $(TEST_LDADD)
noinst_HEADERS += arch/x86/vmx/vmx_arch.h
include_nest_HEADERS += include/nest/vmx-exit-reasons.def

# Per-vCPU context, capability MSRs, VMX instruction emulation.
NEST_CORE_SOURCES += arch/x86/vmx/context.c arch/x86/vmx/caps.c arch/x86/vmx/msr.c \
	arch/x86/vmx/operand.c arch/x86/vmx/insn.c
NEST_CORE_SOURCES += arch/x86/vmx/invalidate.c
NEST_CORE_SOURCES += arch/x86/vmx/vmfunc.c arch/x86/vmx/l2vmrw.c
noinst_HEADERS += arch/x86/vmx/vmfunc.h arch/x86/vmx/l2vmrw.h
noinst_HEADERS += arch/x86/vmx/context.h arch/x86/vmx/operand.h

# VMX tests link the simulated backend's VMX helpers from tests/support.
check_PROGRAMS += tests/unit/test_vmx_context tests/unit/test_vmx_caps tests/unit/test_vmx_insn \
	tests/unit/test_vmx_operand
TESTS += tests/unit/test_vmx_context tests/unit/test_vmx_caps tests/unit/test_vmx_insn \
	tests/unit/test_vmx_operand
tests_unit_test_vmx_context_SOURCES = tests/unit/test_vmx_context.c
tests_unit_test_vmx_context_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_context_LDADD = $(TEST_LDADD)
tests_unit_test_vmx_caps_SOURCES = tests/unit/test_vmx_caps.c
tests_unit_test_vmx_caps_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_caps_LDADD = $(TEST_LDADD)
tests_unit_test_vmx_insn_SOURCES = tests/unit/test_vmx_insn.c
tests_unit_test_vmx_insn_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_insn_LDADD = $(TEST_LDADD)
tests_unit_test_vmx_operand_SOURCES = tests/unit/test_vmx_operand.c
tests_unit_test_vmx_operand_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_operand_LDADD = $(TEST_LDADD)
# libFuzzer harness of the VMX instructions and MSRs.
FUZZ_TARGETS += vmx_insn
EXTRA_DIST += tests/fuzz/fuzz_vmx_insn.c tests/fuzz/corpus/vmx_insn/script
EXTRA_DIST += docs/conformance-vmx.md
# VM-entry checks (SDM 27.2-27.4), the rule table and their tests.
NEST_CORE_SOURCES += arch/x86/vmx/check.c arch/x86/vmx/check_controls.c \
	arch/x86/vmx/check_host.c arch/x86/vmx/check_guest_regs.c \
	arch/x86/vmx/check_guest_segs.c arch/x86/vmx/check_guest_misc.c
noinst_HEADERS += arch/x86/vmx/check.h
include_nest_HEADERS += include/nest/vmx-entry-rules.def
check_PROGRAMS += tests/unit/test_vmx_entry_ctl_host tests/unit/test_vmx_entry_guest
TESTS += tests/unit/test_vmx_entry_ctl_host tests/unit/test_vmx_entry_guest
tests_unit_test_vmx_entry_ctl_host_SOURCES = tests/unit/test_vmx_entry_ctl_host.c
tests_unit_test_vmx_entry_ctl_host_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_entry_ctl_host_LDADD = $(TEST_LDADD)
tests_unit_test_vmx_entry_guest_SOURCES = tests/unit/test_vmx_entry_guest.c
tests_unit_test_vmx_entry_guest_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_entry_guest_LDADD = $(TEST_LDADD)
check_PROGRAMS += tests/unit/test_vmx_entry_api
TESTS += tests/unit/test_vmx_entry_api
tests_unit_test_vmx_entry_api_SOURCES = tests/unit/test_vmx_entry_api.c
tests_unit_test_vmx_entry_api_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_entry_api_LDADD = $(TEST_LDADD)
FUZZ_TARGETS += vmx_entry
EXTRA_DIST += tests/fuzz/fuzz_vmx_entry.c tests/fuzz/corpus/vmx_entry/baseline \
	tests/fuzz/corpus/vmx_entry/baseline-env
# (end of the VM-entry checks)
# Nested entry and exit: exit decision, vmcs02 merge, exit reflection.
NEST_CORE_SOURCES += arch/x86/vmx/decide.c arch/x86/vmx/vmcs02.c arch/x86/vmx/reflect.c \
	arch/x86/vmx/sync.c arch/x86/vmx/shadow.c arch/x86/vmx/entry.c arch/x86/vmx/exit.c \
	arch/x86/vmx/bitmaps.c arch/x86/vmx/l1map.c
noinst_HEADERS += arch/x86/vmx/vmx_limits.h arch/x86/vmx/decide.h arch/x86/vmx/vmcs02.h \
	arch/x86/vmx/reflect.h arch/x86/vmx/sync.h arch/x86/vmx/shadow.h arch/x86/vmx/entry.h
check_PROGRAMS += tests/unit/test_vmx_exit_decide tests/unit/test_vmx_vmcs02 tests/unit/test_vmx_reflect
TESTS += tests/unit/test_vmx_exit_decide tests/unit/test_vmx_vmcs02 tests/unit/test_vmx_reflect
tests_unit_test_vmx_exit_decide_SOURCES = tests/unit/test_vmx_exit_decide.c
tests_unit_test_vmx_exit_decide_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_exit_decide_LDADD = $(TEST_LDADD)
tests_unit_test_vmx_vmcs02_SOURCES = tests/unit/test_vmx_vmcs02.c
tests_unit_test_vmx_vmcs02_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_vmcs02_LDADD = $(TEST_LDADD)
tests_unit_test_vmx_reflect_SOURCES = tests/unit/test_vmx_reflect.c
tests_unit_test_vmx_reflect_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_reflect_LDADD = $(TEST_LDADD)
check_PROGRAMS += tests/unit/test_vmx_nested
TESTS += tests/unit/test_vmx_nested
tests_unit_test_vmx_nested_SOURCES = tests/unit/test_vmx_nested.c
tests_unit_test_vmx_nested_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_nested_LDADD = $(TEST_LDADD)
check_PROGRAMS += tests/unit/test_vmx_nested_sync
TESTS += tests/unit/test_vmx_nested_sync
tests_unit_test_vmx_nested_sync_SOURCES = tests/unit/test_vmx_nested_sync.c
tests_unit_test_vmx_nested_sync_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_nested_sync_LDADD = $(TEST_LDADD)
check_PROGRAMS += tests/unit/test_vmx_bitmaps
TESTS += tests/unit/test_vmx_bitmaps
tests_unit_test_vmx_bitmaps_SOURCES = tests/unit/test_vmx_bitmaps.c
tests_unit_test_vmx_bitmaps_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_bitmaps_LDADD = $(TEST_LDADD)
check_PROGRAMS += tests/unit/test_vmx_nested_ept
TESTS += tests/unit/test_vmx_nested_ept
tests_unit_test_vmx_nested_ept_SOURCES = tests/unit/test_vmx_nested_ept.c
tests_unit_test_vmx_nested_ept_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_nested_ept_LDADD = $(TEST_LDADD)
# libFuzzer harness of nested entry and exit (random vmcs12 writes, entries,
# exits and events; the invariants of docs/trust-model.md as oracle).
FUZZ_TARGETS += vmx_nested
EXTRA_DIST += tests/fuzz/fuzz_vmx_nested.c
# Figures of nested entry and exit (make bench).
NEST_BENCH_BINS += tests/bench/bench_vmx
tests_bench_bench_vmx_SOURCES = tests/bench/bench_vmx.c
tests_bench_bench_vmx_CPPFLAGS = $(TEST_CPPFLAGS)
tests_bench_bench_vmx_LDADD = $(TEST_LDADD)

# A host without some VMX features: libnest touches none of their fields.
check_PROGRAMS += tests/unit/test_vmx_hwfields
TESTS += tests/unit/test_vmx_hwfields
tests_unit_test_vmx_hwfields_SOURCES = tests/unit/test_vmx_hwfields.c
tests_unit_test_vmx_hwfields_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_vmx_hwfields_LDADD = $(TEST_LDADD)
# Save and restore of nested VMX state in libnest's format (docs/state.md).
NEST_CORE_SOURCES += arch/x86/vmx/state.c
check_PROGRAMS += tests/unit/test_state_vmx
TESTS += tests/unit/test_state_vmx
tests_unit_test_state_vmx_SOURCES = tests/unit/test_state_vmx.c
tests_unit_test_state_vmx_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_state_vmx_LDADD = $(TEST_LDADD)
EXTRA_DIST += docs/state.md
# KVM's struct kvm_nested_state (format 0) over the same core.
NEST_CORE_SOURCES += arch/x86/vmx/state_kvm.c
noinst_HEADERS += arch/x86/vmx/state_internal.h
EXTRA_DIST += arch/x86/vmx/kvm-vmcs12.def
check_PROGRAMS += tests/unit/test_state_kvm
TESTS += tests/unit/test_state_kvm
tests_unit_test_state_kvm_SOURCES = tests/unit/test_state_kvm.c
tests_unit_test_state_kvm_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_state_kvm_LDADD = $(TEST_LDADD)
