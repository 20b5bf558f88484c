/* SPDX-License-Identifier: MIT */
/**
 * @file cpu.h
 * @brief x86 rules that every L0 needs, whether it nests VMX or SVM.
 */
#ifndef NEST_CPU_H
#define NEST_CPU_H

#include <stdint.h>

#include <nest/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Make a CPUID answer follow the state of the guest that asked.
 *
 * A few CPUID bits are not properties of the processor but mirror its
 * current state (SDM Vol. 2A CPUID, APM Vol. 3 appendix E): OSXSAVE
 * (leaf 1 ECX bit 27) is CR4.OSXSAVE, OSPKE (leaf 7 subleaf 0 ECX bit 4) is
 * CR4.PKE, and APIC (leaf 1 EDX bit 9, and leaf 0x80000001 EDX bit 9 on
 * AMD) is clear while IA32_APIC_BASE disables the local APIC. An L0 that
 * executes CPUID for a guest (L1, or L2 when L1 does not intercept CPUID)
 * gets the bits of its own state: this replaces them by the guest's.
 * Every other bit is left as the caller gave it. The XSAVE area sizes of
 * leaf 0xD follow XCR0 and are left to the caller.
 *
 * @param leaf EAX of the CPUID.
 * @param subleaf ECX of the CPUID.
 * @param[in,out] regs EAX, EBX, ECX, EDX of the answer.
 * @param cr4 The guest's CR4.
 * @param apic_base The guest's IA32_APIC_BASE (bit 11: global enable).
 * @return NEST_OK, or NEST_E_INVAL when @p regs is NULL.
 */
NEST_API int nest_x86_cpuid_guest_state(uint32_t leaf, uint32_t subleaf, uint32_t regs[4],
					uint64_t cr4, uint64_t apic_base);

#ifdef __cplusplus
}
#endif

#endif /* NEST_CPU_H */
