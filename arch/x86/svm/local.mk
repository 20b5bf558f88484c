# SPDX-License-Identifier: MIT
# arch/x86/svm: nested SVM.
include_nest_HEADERS += include/nest/vmcb-fields.def
NEST_CORE_SOURCES += arch/x86/svm/vmcb.c arch/x86/svm/context.c arch/x86/svm/caps.c \
	arch/x86/svm/msr.c arch/x86/svm/insn.c arch/x86/svm/l2insn.c arch/x86/svm/check.c \
	arch/x86/svm/entry.c arch/x86/svm/vmcb02.c arch/x86/svm/decide.c arch/x86/svm/reflect.c \
	arch/x86/svm/exit.c arch/x86/svm/init.c
noinst_HEADERS += arch/x86/svm/context.h arch/x86/svm/state_internal.h

# SVM tests link the simulated backend's SVM helpers from tests/support.

check_PROGRAMS += tests/unit/test_svm_checks
TESTS += tests/unit/test_svm_checks
tests_unit_test_svm_checks_SOURCES = tests/unit/test_svm_checks.c
tests_unit_test_svm_checks_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_svm_checks_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_svm_insn
TESTS += tests/unit/test_svm_insn
tests_unit_test_svm_insn_SOURCES = tests/unit/test_svm_insn.c
tests_unit_test_svm_insn_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_svm_insn_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_svm_init
TESTS += tests/unit/test_svm_init
tests_unit_test_svm_init_SOURCES = tests/unit/test_svm_init.c
tests_unit_test_svm_init_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_svm_init_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/scenario/test_svm_scenario
TESTS += tests/scenario/test_svm_scenario
tests_scenario_test_svm_scenario_SOURCES = tests/scenario/test_svm_scenario.c
tests_scenario_test_svm_scenario_CPPFLAGS = $(TEST_CPPFLAGS)
tests_scenario_test_svm_scenario_LDADD = $(TEST_LDADD)

FUZZ_TARGETS += svm
EXTRA_DIST += tests/fuzz/fuzz_svm.c

NEST_BENCH_BINS += tests/bench/bench_svm
tests_bench_bench_svm_SOURCES = tests/bench/bench_svm.c
tests_bench_bench_svm_CPPFLAGS = $(TEST_CPPFLAGS)
tests_bench_bench_svm_CFLAGS = $(AM_CFLAGS) -O2
tests_bench_bench_svm_LDADD = $(TEST_LDADD)

EXTRA_DIST += docs/conformance-svm.md
# Save and restore of nested SVM state in libnest's format (docs/state.md).
NEST_CORE_SOURCES += arch/x86/svm/state.c arch/x86/svm/state_kvm.c
check_PROGRAMS += tests/unit/test_state_svm
TESTS += tests/unit/test_state_svm
tests_unit_test_state_svm_SOURCES = tests/unit/test_state_svm.c
tests_unit_test_state_svm_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_state_svm_LDADD = $(TEST_LDADD)
