# SPDX-License-Identifier: MIT
# Language bindings. The Python binding's constants are generated from the
# C headers; its tests run against the freshly built library.
EXTRA_DIST += bindings/python/gen_constants.py bindings/python/libnest/__init__.py \
	bindings/python/test_libnest.py
bindings/python/libnest/_constants.py: $(srcdir)/bindings/python/gen_constants.py \
		$(srcdir)/include/nest/base.h $(srcdir)/include/nest/vmcs-fields.def
	@mkdir -p bindings/python/libnest
	$(AM_V_GEN)python3 $(srcdir)/bindings/python/gen_constants.py $(srcdir)/include $@
check_DATA = bindings/python/libnest/_constants.py
CLEANFILES += bindings/python/libnest/_constants.py
TESTS += tests/bindings/python.sh
EXTRA_DIST += tests/bindings/python.sh
