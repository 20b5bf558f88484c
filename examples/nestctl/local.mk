# SPDX-License-Identifier: MIT
# nestctl: command-line access to libnest's checks (installed).
bin_PROGRAMS += examples/nestctl/nestctl
examples_nestctl_nestctl_SOURCES = examples/nestctl/nestctl.c examples/nestctl/nestctl.h \
	examples/nestctl/svm.c examples/nestctl/vmx.c examples/nestctl/state.c \
	examples/nestctl/caps.c examples/nestctl/offline.c examples/nestctl/offline.h
examples_nestctl_nestctl_CFLAGS = $(AM_CFLAGS)
examples_nestctl_nestctl_LDADD = libnest.la $(LIBBSD_LIBS)
dist_man_MANS += examples/nestctl/nestctl.1

TESTS += examples/nestctl/nestctl-test.sh
EXTRA_DIST += examples/nestctl/nestctl-test.sh
NESTCTL_SVM_SAMPLES = \
	examples/nestctl/samples/asid-zero-by-offset.vmcb \
	examples/nestctl/samples/asid-zero.vmcb \
	examples/nestctl/samples/bad-offset.vmcb \
	examples/nestctl/samples/bad-syntax.vmcb \
	examples/nestctl/samples/bad-too-wide.vmcb \
	examples/nestctl/samples/bad-unknown-field.vmcb \
	examples/nestctl/samples/cr0-cd-nw.vmcb \
	examples/nestctl/samples/cr0-high.vmcb \
	examples/nestctl/samples/cr3-mbz.vmcb \
	examples/nestctl/samples/cr4-mbz.vmcb \
	examples/nestctl/samples/cs-l-and-d.vmcb \
	examples/nestctl/samples/dr6-high.vmcb \
	examples/nestctl/samples/dr7-high.vmcb \
	examples/nestctl/samples/efer-long-mode-unsupported.vmcb \
	examples/nestctl/samples/efer-mbz.vmcb \
	examples/nestctl/samples/efer-svme-clear.vmcb \
	examples/nestctl/samples/eventinj-reserved.vmcb \
	examples/nestctl/samples/eventinj-type.vmcb \
	examples/nestctl/samples/eventinj-vector.vmcb \
	examples/nestctl/samples/gpat-invalid.vmcb \
	examples/nestctl/samples/iopm-range.vmcb \
	examples/nestctl/samples/lme-pg-no-pae.vmcb \
	examples/nestctl/samples/lme-pg-no-pe.vmcb \
	examples/nestctl/samples/msrpm-range.vmcb \
	examples/nestctl/samples/ncr3-mbz.vmcb \
	examples/nestctl/samples/np-unsupported.vmcb \
	examples/nestctl/samples/sev-unsupported.vmcb \
	examples/nestctl/samples/valid.vmcb \
	examples/nestctl/samples/vmrun-intercept-clear.vmcb
EXTRA_DIST += $(NESTCTL_SVM_SAMPLES)

# nestctl vmx: VM-entry check samples and their test.
NESTCTL_VMX_SAMPLES = \
	examples/nestctl/samples/vmx-caps-5level.txt \
	examples/nestctl/samples/vmx-fail-control.txt \
	examples/nestctl/samples/vmx-fail-guest.txt \
	examples/nestctl/samples/vmx-fail-host.txt \
	examples/nestctl/samples/vmx-fail-link.txt \
	examples/nestctl/samples/vmx-fail-msr.txt \
	examples/nestctl/samples/vmx-ok-64bit.txt
TESTS += tests/nestctl/vmx.sh
EXTRA_DIST += tests/nestctl/vmx.sh $(NESTCTL_VMX_SAMPLES)

# nestctl state and caps: snapshot samples (made by make-state-samples.py),
# capability dumps, and their test.
NESTCTL_STATE_SAMPLES = \
	examples/nestctl/samples/state-svm-bad-asid.nst \
	examples/nestctl/samples/state-svm-guest.nst \
	examples/nestctl/samples/state-svm-off.kvm \
	examples/nestctl/samples/state-svm-off.nst \
	examples/nestctl/samples/state-vmx-bad-guest.nst \
	examples/nestctl/samples/state-vmx-bad-vmxon.nst \
	examples/nestctl/samples/state-vmx-guest.kvm \
	examples/nestctl/samples/state-vmx-guest.nst \
	examples/nestctl/samples/state-vmx-off.nst \
	examples/nestctl/samples/state-vmx-root.kvm \
	examples/nestctl/samples/state-vmx-root.nst \
	examples/nestctl/samples/caps-svm-a.txt \
	examples/nestctl/samples/caps-svm-b.txt \
	examples/nestctl/samples/caps-vmx-a.txt \
	examples/nestctl/samples/caps-vmx-b.txt \
	examples/nestctl/samples/make-state-samples.py
TESTS += tests/nestctl/state.sh
EXTRA_DIST += tests/nestctl/state.sh $(NESTCTL_STATE_SAMPLES)
