/* SPDX-License-Identifier: MIT */
/*
 * VM entry and exit for a VMX hypervisor built on the boot layer
 * (vmx_run.S): the stub on VMX and the VMX test hypervisor share it.
 */
#ifndef BM_VMX_H
#define BM_VMX_H

#include <stdint.h>

/* General-purpose registers in instruction-encoding order. */
#define BM_GPR_COUNT 16

/*
 * Loads the guest's general-purpose registers from @gpr (RAX RCX RDX RBX
 * RSP RBP RSI RDI R8..R15; the RSP slot is ignored, the VMCS holds RSP)
 * and executes VMLAUNCH (@resume 0) or VMRESUME on the current VMCS, whose
 * HOST_RIP must be bm_vmx_exit_entry (HOST_RSP is written here). Returns 0
 * after a VM exit, with the guest's registers stored back to @gpr; 1 for
 * VMfailInvalid, 2 for VMfailValid (then @gpr is unchanged).
 */
int bm_vmx_run(uint64_t *gpr, int resume);
extern char bm_vmx_exit_entry[];

/* The time-stamp counter read by the first instructions after the last VM
 * exit (vmx_run.S): what a VM-exit MSR-store list holds for IA32_TSC,
 * taken when the processor would take it (SDM 28.4), not later. */
extern uint64_t bm_vmx_exit_tsc;

#endif /* BM_VMX_H */
