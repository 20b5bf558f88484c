# SPDX-License-Identifier: MIT
# The conformance runs: kvm-unit-tests' nested suites (an independent L1,
# GPL test code built outside the tree from KUT_DIR) on the emulator alone
# and as L1 of the bare-metal stub. Not part of `make check` (they need the
# suite's sources and take minutes); CI runs them after it.
#
#   make conformance-svm   svm.flat and svm_npt.flat under QEMU's TCG
#   make conformance-vmx   vmx.flat under Bochs
#   make conformance       both
#
# Variables: KUT_DIR (default ../shared/kvm-unit-tests beside the source
# tree), CASE_TIMEOUT (seconds per run, default 90), JOBS (VMs at a time,
# default 2), CASES ("SUITE/CASE ..." to run only those), EXCLUDE (shell
# patterns of SUITE/CASE to leave out), MODES ("stub
# alone", or "stub" with the committed alone-ARCH.tsv), CASE_STALL (VMX:
# seconds without serial output that end a run).
KUT_DIR ?= $(abs_top_srcdir)/../shared/kvm-unit-tests
CONFORMANCE_OUT = $(abs_top_builddir)/tests/conformance/out
CONFORMANCE_DIST = \
	tests/conformance/README.md \
	tests/conformance/kut-build.sh \
	tests/conformance/cases.sh \
	tests/conformance/run-case.sh \
	tests/conformance/run.sh \
	tests/conformance/expect-svm.txt \
	tests/conformance/expect-vmx.txt \
	tests/conformance/alone-vmx.tsv \
	tests/conformance/alone-svm-1cpu.tsv
EXTRA_DIST += $(CONFORMANCE_DIST)
BM_MAKE = $(MAKE) --no-print-directory -s -C $(srcdir)/examples/baremetal \
	O=$(CONFORMANCE_OUT)/bm

conformance-kut:
	@MAKE=$(MAKE) sh $(srcdir)/tests/conformance/kut-build.sh "$(KUT_DIR)" "$(CONFORMANCE_OUT)"

conformance-svm: conformance-kut
	@$(BM_MAKE) $(CONFORMANCE_OUT)/bm/stub.elf >$(CONFORMANCE_OUT)/bm-svm.log 2>&1 || \
		{ cat $(CONFORMANCE_OUT)/bm-svm.log; exit 1; }
	@KUT=$(CONFORMANCE_OUT)/kut STUB=$(CONFORMANCE_OUT)/bm/stub.elf \
		QEMU=$(QEMU_SYSTEM_X86_64) sh $(srcdir)/tests/conformance/run.sh svm $(CONFORMANCE_OUT)

conformance-vmx: conformance-kut
	@$(BM_MAKE) $(CONFORMANCE_OUT)/bm/stub-vmx.elf >$(CONFORMANCE_OUT)/bm-vmx.log 2>&1 || \
		{ cat $(CONFORMANCE_OUT)/bm-vmx.log; exit 1; }
	@KUT=$(CONFORMANCE_OUT)/kut STUB_VMX=$(CONFORMANCE_OUT)/bm/stub-vmx.elf \
		MKISO=$(abs_top_srcdir)/examples/baremetal/bochs/mkiso.sh \
		BOCHSRC=$(abs_top_srcdir)/examples/baremetal/bochs/bochsrc.sh \
		BOCHS=$(BOCHS) sh $(srcdir)/tests/conformance/run.sh vmx $(CONFORMANCE_OUT)

conformance: conformance-svm conformance-vmx

clean-local: clean-conformance
clean-conformance:
	rm -rf tests/conformance/out
.PHONY: conformance conformance-svm conformance-vmx conformance-kut clean-conformance
