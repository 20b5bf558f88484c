# SPDX-License-Identifier: MIT
# `make doc`: the API manual, with doxygen warnings as errors.
EXTRA_DIST += docs/Doxyfile.in docs/mainpage.md docs/porting.md docs/conformance.md \
	docs/design.md docs/trust-model.md docs/architecture.md docs/performance.md
doc: docs/Doxyfile
	@if test -z "$(DOXYGEN)"; then echo "doxygen not found: install doxygen"; exit 1; fi
	$(AM_V_GEN)$(DOXYGEN) docs/Doxyfile
.PHONY: doc
clean-local: clean-doc
clean-doc:
	-rm -rf docs/html
.PHONY: clean-doc
