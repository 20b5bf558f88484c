# SPDX-License-Identifier: MIT
# Language bindings. The Python binding's constants are generated from the
# C headers; its tests run against the freshly built library and nestctl.
PY_BINDING_FILES = bindings/python/gen_constants.py bindings/python/libnest/__init__.py \
	bindings/python/libnest/_ffi.py bindings/python/libnest/_offline.py \
	bindings/python/test_libnest.py bindings/python/pyproject.toml \
	bindings/python/build_backend/nest_build.py bindings/python/README.md
EXTRA_DIST += $(PY_BINDING_FILES)
bindings/python/libnest/_constants.py: $(srcdir)/bindings/python/gen_constants.py \
		$(include_nest_HEADERS)
	@mkdir -p bindings/python/libnest
	$(AM_V_GEN)python3 $(srcdir)/bindings/python/gen_constants.py $(srcdir)/include $@
check_DATA = bindings/python/libnest/_constants.py
CLEANFILES += bindings/python/libnest/_constants.py
TESTS += tests/bindings/python.sh
EXTRA_DIST += tests/bindings/python.sh
