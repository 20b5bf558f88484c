/* SPDX-License-Identifier: MIT */
/**
 * @file vmx.h
 * @brief Nested VMX: capabilities, per-vCPU context, instruction emulation,
 *        VM entry and VM-exit reflection.
 */
#ifndef NEST_VMX_H
#define NEST_VMX_H

#include <nest/nest.h>
#include <nest/backend.h>
#include <nest/vmcs.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief VMX capabilities: the values of the IA32_VMX_* MSRs (Intel SDM
 *        Vol. 3D appendix A) and IA32_FEATURE_CONTROL.
 *
 * Used twice: for what the host offers (input to the policy) and for what
 * L1 is offered (the values L1 reads with RDMSR, and the reference for
 * every VM-entry check libnest makes on L1's behalf).
 *
 * IMPORTANT: layout. Append only; @c size first.
 */
struct nest_vmx_caps {
	uint32_t size;            ///< sizeof(struct nest_vmx_caps) as the caller compiled it
	uint32_t reserved0;       ///< zero
	uint64_t basic;           ///< IA32_VMX_BASIC (0x480)
	uint64_t pinbased;        ///< IA32_VMX_PINBASED_CTLS (0x481)
	uint64_t procbased;       ///< IA32_VMX_PROCBASED_CTLS (0x482)
	uint64_t exit;            ///< IA32_VMX_EXIT_CTLS (0x483)
	uint64_t entry;           ///< IA32_VMX_ENTRY_CTLS (0x484)
	uint64_t misc;            ///< IA32_VMX_MISC (0x485)
	uint64_t cr0_fixed0;      ///< IA32_VMX_CR0_FIXED0 (0x486)
	uint64_t cr0_fixed1;      ///< IA32_VMX_CR0_FIXED1 (0x487)
	uint64_t cr4_fixed0;      ///< IA32_VMX_CR4_FIXED0 (0x488)
	uint64_t cr4_fixed1;      ///< IA32_VMX_CR4_FIXED1 (0x489)
	uint64_t vmcs_enum;       ///< IA32_VMX_VMCS_ENUM (0x48a)
	uint64_t procbased2;      ///< IA32_VMX_PROCBASED_CTLS2 (0x48b)
	uint64_t ept_vpid;        ///< IA32_VMX_EPT_VPID_CAP (0x48c)
	uint64_t true_pinbased;   ///< IA32_VMX_TRUE_PINBASED_CTLS (0x48d)
	uint64_t true_procbased;  ///< IA32_VMX_TRUE_PROCBASED_CTLS (0x48e)
	uint64_t true_exit;       ///< IA32_VMX_TRUE_EXIT_CTLS (0x48f)
	uint64_t true_entry;      ///< IA32_VMX_TRUE_ENTRY_CTLS (0x490)
	uint64_t vmfunc;          ///< IA32_VMX_VMFUNC (0x491)
	uint64_t procbased3;      ///< IA32_VMX_PROCBASED_CTLS3 (0x492)
	uint64_t exit2;           ///< IA32_VMX_EXIT_CTLS2 (0x493)
	uint64_t feature_control; ///< IA32_FEATURE_CONTROL (0x3a)
	uint32_t maxphyaddr;      ///< physical-address width (CPUID 0x80000008 EAX[7:0])
	uint32_t reserved1;       ///< zero
};

#ifdef __cplusplus
}
#endif

#endif /* NEST_VMX_H */
