# SPDX-License-Identifier: MIT
# Example programs. `make demo` runs the main demonstration.
noinst_PROGRAMS += examples/minimal
examples_minimal_SOURCES = examples/minimal.c
examples_minimal_LDADD = libnest.la
# VMX instruction emulation on an in-memory backend (runs after minimal).
noinst_PROGRAMS += examples/vmx_demo
examples_vmx_demo_SOURCES = examples/vmx_demo.c
examples_vmx_demo_LDADD = libnest.la

# The demo: the minimal program, then the bare-metal example under QEMU (the
# L0 stub with libnest inside, running an L1 hypervisor that runs L2; see
# examples/baremetal/README.md), then its VMX side under Bochs, then Linux
# as L1 on the stub (Debian's kernel, fetched with apt-get download; its KVM
# runs L2s through examples/kvm's minivmm; about 3 minutes). Its outputs
# share tests/e2e/baremetal, tests/e2e/baremetal-vmx and tests/e2e/linux
# with the e2e runs.
DEMO_DEPS = examples/minimal examples/vmx_demo
demo: $(DEMO_DEPS)
	./examples/minimal
	./examples/vmx_demo
	@if command -v '$(or $(QEMU_SYSTEM_X86_64),qemu-system-x86_64)' >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory -C $(srcdir)/examples/baremetal \
			O='$(abs_builddir)/tests/e2e/baremetal' \
			QEMU='$(or $(QEMU_SYSTEM_X86_64),qemu-system-x86_64)' \
			NEST_CORE_SOURCES='$(NEST_CORE_SOURCES)' run-svm; \
	else \
		echo "demo: qemu-system-x86_64 not found: the bare-metal example needs it" \
			"(sudo .ci/deps installs it)"; exit 1; \
	fi
	@if command -v '$(or $(BOCHS),bochs)' >/dev/null 2>&1; then \
		BOCHS='$(or $(BOCHS),bochs)' $(MAKE) --no-print-directory \
			-C $(srcdir)/examples/baremetal \
			O='$(abs_builddir)/tests/e2e/baremetal-vmx' \
			NEST_CORE_SOURCES='$(NEST_CORE_SOURCES)' BOCHS_TIMEOUT=300 run-vmx; \
	else \
		echo "demo: bochs not found: the VMX bare-metal example needs it" \
			"(sudo .ci/deps installs it)"; exit 1; \
	fi
	$(MAKE) --no-print-directory -C $(srcdir)/examples/baremetal \
		O='$(abs_builddir)/tests/e2e/linux' LINUX_CACHE='$(abs_builddir)/tests/e2e/linux-cache' \
		QEMU='$(or $(QEMU_SYSTEM_X86_64),qemu-system-x86_64)' \
		NEST_CORE_SOURCES='$(NEST_CORE_SOURCES)' run-linux
.PHONY: demo
