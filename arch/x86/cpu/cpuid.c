/* SPDX-License-Identifier: MIT */
/*
 * CPUID bits that mirror the asking guest's state (SDM Vol. 2A, CPUID:
 * "OSXSAVE: a value of 1 indicates that the OS has set CR4.OSXSAVE[bit
 * 18]"; "OSPKE: if 1, OS has set CR4.PKE"; APM Vol. 3 E.3.2 and SDM 11.4.3:
 * the APIC feature flag reads 0 once IA32_APIC_BASE[11] disables the APIC).
 */
#include <stdbool.h>

#include <nest/cpu.h>

#include "cpu/x86.h"

#define CPUID_REG_ECX 2
#define CPUID_REG_EDX 3
#define CPUID_LEAF_FEATURES 1u
#define CPUID_LEAF_EXT_FEATURES_7 7u
#define CPUID_LEAF_AMD_FEATURES 0x80000001u
#define CPUID_1_ECX_OSXSAVE (1u << 27)
#define CPUID_1_EDX_APIC (1u << 9)
#define CPUID_7_ECX_OSPKE (1u << 4)
#define CPUID_80000001_EDX_APIC (1u << 9)
#define APIC_BASE_EN (1ull << 11)

static void mirror(uint32_t *reg, uint32_t bit, bool on)
{
	*reg = on ? *reg | bit : *reg & ~bit;
}

NEST_API int nest_x86_cpuid_guest_state(uint32_t leaf, uint32_t subleaf, uint32_t regs[4],
					uint64_t cr4, uint64_t apic_base)
{
	bool apic = (apic_base & APIC_BASE_EN) != 0;

	if (!regs)
		return NEST_E_INVAL;
	switch (leaf) {
	case CPUID_LEAF_FEATURES:
		mirror(&regs[CPUID_REG_ECX], CPUID_1_ECX_OSXSAVE, (cr4 & X86_CR4_OSXSAVE) != 0);
		/* An APIC the processor lacks stays absent. */
		if (!apic)
			regs[CPUID_REG_EDX] &= ~CPUID_1_EDX_APIC;
		break;
	case CPUID_LEAF_EXT_FEATURES_7:
		if (subleaf == 0)
			mirror(&regs[CPUID_REG_ECX], CPUID_7_ECX_OSPKE, (cr4 & X86_CR4_PKE) != 0);
		break;
	case CPUID_LEAF_AMD_FEATURES:
		if (!apic)
			regs[CPUID_REG_EDX] &= ~CPUID_80000001_EDX_APIC;
		break;
	default:
		break;
	}
	return NEST_OK;
}
