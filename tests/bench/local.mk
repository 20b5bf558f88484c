# SPDX-License-Identifier: MIT
# Microbenchmarks: not tests. `make bench` builds and runs them; `make check`
# builds them (so they follow the internal headers) without running them.
EXTRA_PROGRAMS = $(NEST_BENCH_BINS)
check_PROGRAMS += $(NEST_BENCH_BINS)
bench: $(NEST_BENCH_BINS)
	@for b in $(NEST_BENCH_BINS); do echo "== $$b"; ./$$b || exit 1; done
	@echo "== tests/bench/bench_vmx, L1 on a shadow VMCS"; NEST_BENCH_SHADOW=1 ./tests/bench/bench_vmx
	@echo "== instructions (callgrind)"; sh $(srcdir)/tests/bench/count.sh tests/bench
.PHONY: bench
CLEANFILES += $(NEST_BENCH_BINS)
EXTRA_DIST += tests/bench/count.sh
