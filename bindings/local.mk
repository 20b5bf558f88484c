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

# The Rust binding: libnest-sys (raw declarations, constants generated from
# the headers by its build.rs) and the safe libnest crate; no crates from
# outside. `make check` runs `cargo test --offline` when cargo is installed.
RUST_BINDING_FILES = bindings/rust/Cargo.toml bindings/rust/Cargo.lock \
	bindings/rust/README.md \
	bindings/rust/libnest-sys/Cargo.toml bindings/rust/libnest-sys/build.rs \
	bindings/rust/libnest-sys/src/lib.rs \
	bindings/rust/libnest/Cargo.toml bindings/rust/libnest/src/lib.rs \
	bindings/rust/libnest/src/offline.rs bindings/rust/libnest/tests/samples.rs
EXTRA_DIST += $(RUST_BINDING_FILES) tests/bindings/rust.sh
TESTS += tests/bindings/rust.sh
clean-local: clean-local-rust
clean-local-rust:
	-rm -rf bindings/rust/target
.PHONY: clean-local-rust
