# SPDX-License-Identifier: MIT
# Test support, shared by unit, scenario, fuzz and bench programs: the
# simulated backend (sim.c) with its VMX and SVM helpers, built once as a
# library; the paging oracle and its test library; the Check runner.
check_LTLIBRARIES += tests/support/libnestsim.la
tests_support_libnestsim_la_SOURCES = tests/support/sim.c tests/support/sim.h \
	tests/support/sim_vmx.c tests/support/sim_vmx.h \
	tests/support/sim_svm.c tests/support/sim_svm.h
tests_support_libnestsim_la_CPPFLAGS = $(TEST_CPPFLAGS)
tests_support_libnestsim_la_CFLAGS = $(AM_CFLAGS)
noinst_HEADERS += tests/support/tdp_oracle.h tests/support/tdp_testlib.h \
	tests/support/check_main.h tests/support/state_bytes.h \
	tests/support/vmx_fixture.h \
	tests/support/test_vmx_entry_fixture.h tests/support/test_vmx_entry_baseline.h
