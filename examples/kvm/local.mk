# SPDX-License-Identifier: MIT
# minivmm: a minimal KVM-based VMM (see examples/kvm/README.md). Built here
# to keep it compiling and to check what it says about bad input; the
# Linux-as-L1 run (examples/baremetal run-linux) builds it static with its
# own Makefile and runs it inside L1.
noinst_PROGRAMS += examples/kvm/minivmm
examples_kvm_minivmm_SOURCES = examples/kvm/minivmm.c
TESTS += examples/kvm/minivmm-test.sh
EXTRA_DIST += examples/kvm/minivmm-test.sh examples/kvm/Makefile examples/kvm/README.md
