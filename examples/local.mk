# SPDX-License-Identifier: MIT
# Example programs. `make demo` runs the main demonstration.
noinst_PROGRAMS += examples/minimal
examples_minimal_SOURCES = examples/minimal.c
examples_minimal_LDADD = libnest.la

DEMO_DEPS = examples/minimal
demo: $(DEMO_DEPS)
	./examples/minimal
.PHONY: demo
