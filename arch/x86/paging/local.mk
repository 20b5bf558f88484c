# SPDX-License-Identifier: MIT
# arch/x86/paging: the EPT and x86 page walkers and the shadow EPT02/NPT02
# (include/nest/tdp.h), their unit, property and invalidation tests, the
# fuzz target and the benchmark.
NEST_CORE_SOURCES += arch/x86/paging/memtype.c arch/x86/paging/ept_walk.c \
	arch/x86/paging/x86_walk.c arch/x86/paging/shadow.c
noinst_HEADERS += arch/x86/paging/paging.h

check_PROGRAMS += tests/unit/test_paging
TESTS += tests/unit/test_paging
tests_unit_test_paging_SOURCES = tests/unit/test_paging.c
tests_unit_test_paging_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_paging_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_tdp
TESTS += tests/unit/test_tdp
tests_unit_test_tdp_SOURCES = tests/unit/test_tdp.c
tests_unit_test_tdp_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_tdp_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/unit/test_tdp_prop
TESTS += tests/unit/test_tdp_prop
tests_unit_test_tdp_prop_SOURCES = tests/unit/test_tdp_prop.c
tests_unit_test_tdp_prop_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_tdp_prop_LDADD = $(TEST_LDADD)

# Several vCPUs on one shadow: the threaded stress test (about 2 s), and
# `make tsan`, the same under ThreadSanitizer (core, simulated backend and
# test built with -fsanitize=thread in a scratch directory).
check_PROGRAMS += tests/unit/test_tdp_smp
TESTS += tests/unit/test_tdp_smp
tests_unit_test_tdp_smp_SOURCES = tests/unit/test_tdp_smp.c
tests_unit_test_tdp_smp_CPPFLAGS = $(TEST_CPPFLAGS)
tests_unit_test_tdp_smp_CFLAGS = $(AM_CFLAGS) -pthread
tests_unit_test_tdp_smp_LDADD = $(TEST_LDADD) -lpthread

TSAN_DIR = tests/unit/tsan
tsan:
	@mkdir -p $(TSAN_DIR)
	srcs=; for f in $(NEST_CORE_SOURCES); do \
		case "$$f" in *.c) srcs="$$srcs $(top_srcdir)/$$f" ;; esac; \
	done; \
	$(CC) -std=c11 -O1 -g -fsanitize=thread -pthread $(NEST_CORE_CPPFLAGS) \
		-I$(top_srcdir)/tests/support $(CHECK_CFLAGS) \
		-o $(TSAN_DIR)/test_tdp_smp $(top_srcdir)/tests/unit/test_tdp_smp.c \
		$(top_srcdir)/tests/support/sim.c $$srcs $(CHECK_LIBS)
	CK_FORK=no TSAN_OPTIONS='halt_on_error=1 exitcode=66' ./$(TSAN_DIR)/test_tdp_smp
.PHONY: tsan
clean-local: clean-tsan
clean-tsan:
	rm -rf $(TSAN_DIR)
.PHONY: clean-tsan

FUZZ_TARGETS += tdp
EXTRA_DIST += tests/fuzz/fuzz_tdp.c

NEST_BENCH_BINS += tests/bench/bench_tdp
tests_bench_bench_tdp_SOURCES = tests/bench/bench_tdp.c
tests_bench_bench_tdp_CPPFLAGS = $(TEST_CPPFLAGS)
tests_bench_bench_tdp_CFLAGS = $(AM_CFLAGS) -O2
tests_bench_bench_tdp_LDADD = $(TEST_LDADD)
EXTRA_DIST += docs/conformance-paging.md
