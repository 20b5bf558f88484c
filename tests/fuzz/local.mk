# SPDX-License-Identifier: MIT
# libFuzzer harnesses, built with clang and sanitizers over the core sources
# and the simulated backend. `make fuzz` builds them; `make fuzz-run` runs
# each for FUZZ_SECONDS (the corpus under tests/fuzz/corpus/NAME seeds it).
FUZZ_SECONDS = 15
FUZZ_CFLAGS = -g -O1 -std=c11 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer \
	-I$(top_srcdir)/include -I$(top_srcdir)/lib -I$(top_srcdir)/arch/x86 \
	-I$(top_srcdir)/tests/support -DNEST_BUILDING_LIBRARY $(LIBBSD_OVERLAY_CFLAGS)
FUZZ_SIM_SRCS = tests/support/sim.c tests/support/sim_vmx.c tests/support/sim_svm.c
FUZZ_DEPS = $(addprefix $(srcdir)/,$(filter %.c,$(NEST_CORE_SOURCES)) $(FUZZ_SIM_SRCS))

tests/fuzz/fuzz_%: $(srcdir)/tests/fuzz/fuzz_%.c $(srcdir)/tests/fuzz/invariant.h \
		$(srcdir)/tests/fuzz/oracle_vmx.h $(FUZZ_DEPS)
	@mkdir -p tests/fuzz
	$(AM_V_CC)$(CLANG) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_DEPS)

fuzz: $(addprefix tests/fuzz/fuzz_,$(FUZZ_TARGETS))

fuzz-run: fuzz
	@set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p tests/fuzz/work/$$t; \
	  seeds=; test -d $(srcdir)/tests/fuzz/corpus/$$t && seeds=$(srcdir)/tests/fuzz/corpus/$$t; \
	  echo "fuzz $$t for $(FUZZ_SECONDS)s"; \
	  if ./tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	      -artifact_prefix=tests/fuzz/work/$$t- tests/fuzz/work/$$t $$seeds \
	      > tests/fuzz/work/$$t.out 2>&1; then tail -n 14 tests/fuzz/work/$$t.out; \
	  else tail -n 80 tests/fuzz/work/$$t.out; exit 1; fi; \
	done
.PHONY: fuzz fuzz-run
EXTRA_DIST += tests/fuzz/invariant.h tests/fuzz/oracle_vmx.h
CLEANFILES += $(addprefix tests/fuzz/fuzz_,$(FUZZ_TARGETS))
clean-local: clean-fuzz
clean-fuzz:
	-rm -rf tests/fuzz/work
.PHONY: clean-fuzz
# Restore of saved nested state (nest/state.h): arbitrary and mutated streams.
FUZZ_TARGETS += state
EXTRA_DIST += tests/fuzz/fuzz_state.c
