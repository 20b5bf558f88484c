# SPDX-License-Identifier: MIT
# L1 guest hypervisors used by the bare-metal examples.
# They have their own GNU Makefiles (freestanding kernels); automake only
# ships their sources.
EXTRA_DIST += \
	examples/guests/README.md \
	examples/guests/svm/README.md \
	examples/guests/svm/Makefile \
	examples/guests/svm/svm.h \
	examples/guests/svm/smp.c \
	examples/guests/svm/l1.h \
	examples/guests/svm/l1.c \
	examples/guests/svm/checks.c \
	examples/guests/svm/events.c \
	examples/guests/svm/inject.c \
	examples/guests/svm/ctl.c \
	examples/guests/svm/balloon.c \
	examples/guests/svm/shrink.c \
	examples/guests/svm/svm_run.S \
	examples/guests/svm/l2.S \
	examples/guests/svm/l2.h \
	examples/guests/vmx/Makefile \
	examples/guests/vmx/README.md \
	examples/guests/vmx/vmx.h \
	examples/guests/vmx/l1.h \
	examples/guests/vmx/l1.c \
	examples/guests/vmx/checks.c \
	examples/guests/vmx/smp.c \
	examples/guests/vmx/l2.h \
	examples/guests/vmx/l2.S
