# SPDX-License-Identifier: MIT
# minivmm: a minimal KVM-based VMM (see examples/kvm/README.md). Built here
# against the in-tree libnest to keep it compiling and to check what it says
# about bad input; the Linux-as-L1 run (examples/baremetal run-linux) builds
# it static with its own Makefile and runs it inside L1.
noinst_PROGRAMS += examples/kvm/minivmm
examples_kvm_minivmm_SOURCES = examples/kvm/minivmm.c examples/kvm/snapshot.c examples/kvm/snapshot-vmx.c \
	examples/kvm/snapshot.h examples/nestctl/offline.c examples/nestctl/offline.h
examples_kvm_minivmm_CFLAGS = $(AM_CFLAGS)
examples_kvm_minivmm_LDADD = libnest.la
TESTS += examples/kvm/minivmm-test.sh
EXTRA_DIST += examples/kvm/minivmm-test.sh examples/kvm/Makefile examples/kvm/README.md
