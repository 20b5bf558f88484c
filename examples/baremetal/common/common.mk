# SPDX-License-Identifier: MIT
# GNU make fragment for kernels built on the boot layer. Include it after
# setting BM_OUT (the output directory); it defines
#   BM_CFLAGS, BM_LDFLAGS      compiler and linker flags for kernel code
#   BM_COMMON_OBJS             the boot layer's objects, under $(BM_OUT)/common/
#   bm_link                    $(call bm_link,OUT.elf,OBJECTS): link at 1 MiB and
#                              convert to the ELF32 that QEMU's -kernel accepts
BM_COMMON_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
BM_OUT ?= .
BM_CC ?= gcc
BM_OBJCOPY ?= objcopy
BM_AR ?= ar

BM_CFLAGS = -std=gnu11 -O2 -g -m64 -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
	-mno-red-zone -mcmodel=small -mgeneral-regs-only -fno-asynchronous-unwind-tables \
	-fno-tree-loop-distribute-patterns -fno-omit-frame-pointer \
	-Wall -Wextra -Wno-unused-parameter -I$(BM_COMMON_DIR)
BM_ASFLAGS = -m64 -fno-pic -I$(BM_COMMON_DIR)
BM_LDFLAGS = -m64 -nostdlib -static -no-pie -Wl,-T,$(BM_COMMON_DIR)/kernel.ld \
	-Wl,-z,max-page-size=0x1000 -Wl,--build-id=none -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments

# Silent rules, as automake's: one short line per file built; V=1 shows the
# commands. $(call bm_say,TAG,FILE) prefixes a recipe line; $(bm_q) hides
# one that needs no line of its own.
V ?= 0
ifeq ($(V),1)
bm_say =
bm_q =
else
bm_say = @printf '  %-7s %s\n' '$(1)' '$(patsubst $(abspath $(BM_OUT))/%,%,$(abspath $(2)))';
bm_q = @
endif

BM_COMMON_SRCS = boot.S isr.S start.c idt.c serial.c printf.c string.c alloc.c mb.c smp.c ap.S
BM_COMMON_HDRS = bm.h multiboot.h
BM_COMMON_OBJS = $(addprefix $(BM_OUT)/common/,$(addsuffix .o,$(basename $(BM_COMMON_SRCS))))

$(BM_OUT)/common/%.o: $(BM_COMMON_DIR)/%.c $(addprefix $(BM_COMMON_DIR)/,$(BM_COMMON_HDRS))
	@mkdir -p $(@D)
	$(call bm_say,CC,$@)$(BM_CC) $(BM_CFLAGS) -c -o $@ $<

$(BM_OUT)/common/%.o: $(BM_COMMON_DIR)/%.S $(BM_COMMON_DIR)/multiboot.h
	@mkdir -p $(@D)
	$(call bm_say,AS,$@)$(BM_CC) $(BM_ASFLAGS) -c -o $@ $<

define bm_link
	$(call bm_say,LD,$(1))$(BM_CC) $(BM_LDFLAGS) -o $(1).64 $(2) -lgcc
	$(bm_q)$(BM_OBJCOPY) -O elf32-i386 $(1).64 $(1)
endef
