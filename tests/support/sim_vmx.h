/* SPDX-License-Identifier: MIT */
/*
 * VMX helpers for the simulated backend: a plausible host's capability
 * MSRs, L1 register states for each processor mode, and builders for the
 * VM-exit instruction-information field. Test-only code.
 */
#ifndef SIM_VMX_H
#define SIM_VMX_H

#include <stdint.h>

#include <nest/vmx.h>

#include "sim.h"

/* Instruction-information address sizes (SDM table 28-13). */
#define SIM_ADDR16 0u
#define SIM_ADDR32 1u
#define SIM_ADDR64 2u
#define SIM_NO_REG 0xffu /* base or index not used */

/* Capability MSRs of a recent Intel processor with EPT, VPID, unrestricted
 * guest, VMCS shadowing, PML and the TRUE_* MSRs. */
void sim_vmx_host_caps(struct nest_vmx_caps *caps);

/* A configuration allowing VMX with every feature, L1 MAXPHYADDR 46,
 * IA32_FEATURE_CONTROL locked with VMXON outside SMX enabled. */
void sim_vmx_config(struct nest_vmx_config *cfg, const struct nest_vmx_caps *host);

/* L1 at CPL 0 in 64-bit mode (paging, CR4.VMXE set, flat segments). */
void sim_vmx_regs64(struct nest_vmx_l1_regs *r);
/* L1 at CPL 0 in 32-bit protected mode with paging (flat 4 GiB segments). */
void sim_vmx_regs32(struct nest_vmx_l1_regs *r);

/* Instruction information for a memory operand [base + index*2^scale +
 * displacement] in segment `seg`. */
uint32_t sim_vmx_info_mem(unsigned seg, unsigned base, unsigned index, unsigned scale,
			  unsigned addr_size);
/* Instruction information for VMREAD/VMWRITE with register operand reg1
 * and the field encoding in reg2. */
uint32_t sim_vmx_info_reg(unsigned reg1, unsigned reg2);
/* VMREAD/VMWRITE with a memory operand and the encoding in reg2. */
uint32_t sim_vmx_info_mem_reg2(uint32_t mem_info, unsigned reg2);

/* An exit record for a VMX instruction (instruction length 3 or 4). */
void sim_vmx_exit(struct nest_vmx_exit *e, uint32_t reason, uint32_t info, uint64_t qual);

/* Prepare a VMCS or VMXON region at gpa: libnest's revision, rest zero. */
void sim_vmx_region(struct sim *s, uint64_t gpa, uint32_t revision);

#endif /* SIM_VMX_H */
