# SPDX-License-Identifier: MIT
# The bare-metal example has its own GNU Makefile (it cross-builds freestanding
# kernels); automake only ships its sources.
EXTRA_DIST += \
	examples/baremetal/Makefile \
	examples/baremetal/run-qemu.sh \
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
	examples/baremetal/tests-l1/hello.c
