# SPDX-License-Identifier: MIT
# Example programs. `make demo` runs the main demonstration.
noinst_PROGRAMS += examples/minimal
examples_minimal_SOURCES = examples/minimal.c
examples_minimal_LDADD = libnest.la
# VMX instruction emulation on an in-memory backend (runs after minimal).
noinst_PROGRAMS += examples/vmx_demo
examples_vmx_demo_SOURCES = examples/vmx_demo.c
examples_vmx_demo_LDADD = libnest.la

# The demo (examples/demo.sh): the minimal program, the VMX instruction
# demo, then the bare-metal example under QEMU (the L0 stub with libnest
# inside, running an L1 hypervisor that runs L2; see
# examples/baremetal/README.md), then its VMX side under Bochs, and a summary
# table. Its outputs share tests/e2e/baremetal and tests/e2e/baremetal-vmx
# with the e2e runs; the demo's own are in tests/e2e/demo.
DEMO_DEPS = examples/minimal examples/vmx_demo
EXTRA_DIST += examples/demo.sh
demo: $(DEMO_DEPS)
	@srcdir='$(abs_srcdir)' builddir='$(abs_builddir)' MAKE='$(MAKE)' \
		QEMU='$(or $(QEMU_SYSTEM_X86_64),qemu-system-x86_64)' BOCHS='$(or $(BOCHS),bochs)' \
		NEST_CORE_SOURCES='$(NEST_CORE_SOURCES)' DEMO_OUT='$(abs_builddir)/tests/e2e/demo' \
		$(SHELL) $(srcdir)/examples/demo.sh
.PHONY: demo
