# SPDX-License-Identifier: MIT
# GNU make fragment for booting bare-metal kernels under Bochs (VMX).
# Include it; it defines
#   BOCHS_DIR       this directory
#   BOCHS_TIMEOUT   seconds a run may take (default 600)
#   bochs_iso       $(call bochs_iso,ISO,KERNEL,KERNEL-ARGS,MODULE MODULE-ARGS ...):
#                   a GRUB rescue image booting KERNEL (multiboot) with the
#                   modules (each followed by its quoted argument string)
#   bochs_run       $(call bochs_run,ISO,SERIAL-LOG): boot it, print the serial
#                   log, succeed only if its last "e2e ...:" verdict is PASS
# The scripts are run through sh, so they work from a tree without execute bits.
BOCHS_DIR := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
BOCHS_TIMEOUT ?= 600

define bochs_iso
	$(call bm_say,ISO,$(1))sh $(BOCHS_DIR)/mkiso.sh $(1) $(2) "$(3)" $(4)
endef

define bochs_run
	sh $(BOCHS_DIR)/run-bochs.sh $(1) $(2) $(BOCHS_TIMEOUT)
endef
