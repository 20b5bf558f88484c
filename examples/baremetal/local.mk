# SPDX-License-Identifier: MIT
# The bare-metal example has its own GNU Makefile (it builds freestanding
# kernels and links libnest's sources into the stub); automake only ships
# its sources. tests/e2e/svm.sh runs its run-svm target, tests/e2e/vmx.sh its
# run-vmx target.
EXTRA_DIST += \
	examples/baremetal/Makefile \
	examples/baremetal/README.md \
	examples/baremetal/run-qemu.sh \
	examples/baremetal/run-svm.sh \
	examples/baremetal/run-vmx.sh \
	examples/baremetal/run-linux.sh \
	examples/baremetal/linux/README.md \
	examples/baremetal/linux/build-images.sh \
	examples/baremetal/linux/l1-init \
	examples/baremetal/linux/l2-init \
	examples/baremetal/linux/l2-linux.run \
	examples/baremetal/linux/l2-multiboot.run \
	examples/baremetal/linux/l2-svm.run \
	examples/baremetal/linux/l2-vmx.run \
	examples/baremetal/linux/l2-kut.run \
	examples/baremetal/linux/kut-table.sh \
	examples/baremetal/linux/l2exits.c \
	examples/baremetal/bochs/README.md \
	examples/baremetal/bochs/bochs.mk \
	examples/baremetal/bochs/mkiso.sh \
	examples/baremetal/bochs/bochsrc.sh \
	examples/baremetal/bochs/run-bochs.sh \
	examples/baremetal/common/README.md \
	examples/baremetal/common/common.mk \
	examples/baremetal/common/kernel.ld \
	examples/baremetal/common/multiboot.h \
	examples/baremetal/common/bm.h \
	examples/baremetal/common/boot.S \
	examples/baremetal/common/isr.S \
	examples/baremetal/common/start.c \
	examples/baremetal/common/idt.c \
	examples/baremetal/common/serial.c \
	examples/baremetal/common/printf.c \
	examples/baremetal/common/string.c \
	examples/baremetal/common/alloc.c \
	examples/baremetal/common/mb.c \
	examples/baremetal/common/smp.c \
	examples/baremetal/common/ap.S \
	examples/baremetal/common/bochs.c \
	examples/baremetal/common/bochs.h \
	examples/baremetal/common/bm_vmx.h \
	examples/baremetal/common/vmx_run.S \
	examples/baremetal/stub/stub.h \
	examples/baremetal/stub/svm_hw.h \
	examples/baremetal/stub/svm_nested.h \
	examples/baremetal/stub/backend.h \
	examples/baremetal/stub/apic_prio.h \
	examples/baremetal/stub/cr4_cpuid.h \
	examples/baremetal/stub/backend.c \
	examples/baremetal/stub/figures.c \
	examples/baremetal/stub/smp.c \
	examples/baremetal/stub/svm_main.c \
	examples/baremetal/stub/npt.c \
	examples/baremetal/stub/l1move.c \
	examples/baremetal/stub/hypercall.c \
	examples/baremetal/stub/shrink.c \
	examples/baremetal/stub/l1load.c \
	examples/baremetal/stub/linuxboot.c \
	examples/baremetal/stub/fwcfg.c \
	examples/baremetal/stub/strio.c \
	examples/baremetal/stub/insnlen.c \
	examples/baremetal/stub/insn_decode.c \
	examples/baremetal/stub/insn_decode.h \
	examples/baremetal/stub/vmx_hw.h \
	examples/baremetal/stub/vmx_stub.h \
	examples/baremetal/stub/vmx_main.c \
	examples/baremetal/stub/vmx_nested.c \
	examples/baremetal/stub/svm_nested_off.c \
	examples/baremetal/stub/svm_nested_libnest.c \
	examples/baremetal/stub/vmrun.S \
	examples/baremetal/tests-l1/hello.c
