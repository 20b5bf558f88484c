# SPDX-License-Identifier: MIT
# ABI and build-shape checks, run by `make check`.
TESTS += tests/abi/check-symbols.sh tests/abi/check-headers.sh tests/abi/check-freestanding.sh
EXTRA_DIST += tests/abi/check-symbols.sh tests/abi/check-headers.sh \
	tests/abi/check-freestanding.sh tests/abi/libnest.symbols tests/abi/freestanding_mem.c
AM_TESTS_ENVIRONMENT += NEST_CORE_SOURCES='$(NEST_CORE_SOURCES)'; export NEST_CORE_SOURCES;

check-freestanding:
	@$(AM_TESTS_ENVIRONMENT) $(SHELL) $(srcdir)/tests/abi/check-freestanding.sh
.PHONY: check-freestanding

# Against the installed tree (run by `make installcheck` and distcheck): a
# program that includes <nest/nest.h> and links with pkg-config's flags.
installcheck-local:
	@tmp=$$(mktemp -d) && \
	PKG_CONFIG_PATH="$(DESTDIR)$(libdir)/pkgconfig" && export PKG_CONFIG_PATH && \
	flags=$$($(PKG_CONFIG) --cflags --libs libnest) && \
	$(CC) -std=c11 -Wall -Werror -o $$tmp/consumer $(srcdir)/tests/abi/consumer.c $$flags && \
	LD_LIBRARY_PATH="$(DESTDIR)$(libdir)" $$tmp/consumer && rm -rf $$tmp
EXTRA_DIST += tests/abi/consumer.c tests/abi/kvm-vmcs12-btf.py

# Every public entry point that fills a size-versioned struct, called as an
# older and a newer caller with a guard after the struct.
check_PROGRAMS += tests/abi/test_abi_sizes
TESTS += tests/abi/test_abi_sizes
tests_abi_test_abi_sizes_SOURCES = tests/abi/test_abi_sizes.c
tests_abi_test_abi_sizes_CPPFLAGS = $(TEST_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_abi_test_abi_sizes_LDADD = $(TEST_LDADD)
