/* SPDX-License-Identifier: MIT */
/*
 * CR4 bits whose feature the CPUID a guest is shown does not report. A bit
 * of a feature the processor lacks is reserved: MOV to CR4 setting it
 * raises #GP (SDM Vol. 3A 2.5, Vol. 2A CPUID). The VMX stub makes its
 * guests' CR4 follow the CPUID they see, even where the processor under it
 * takes more (Bochs 2.7 reports no CPUID leaf 7 features it lets CR4
 * enable). Pure, so the unit tests take it as the stub does.
 */
#ifndef STUB_CR4_CPUID_H
#define STUB_CR4_CPUID_H

#include <stdint.h>

#define CR4C_UMIP (1ull << 11)
#define CR4C_LA57 (1ull << 12)
#define CR4C_FSGSBASE (1ull << 16)
#define CR4C_PCIDE (1ull << 17)
#define CR4C_OSXSAVE (1ull << 18)
#define CR4C_SMEP (1ull << 20)
#define CR4C_SMAP (1ull << 21)
#define CR4C_PKE (1ull << 22)
#define CR4C_CET (1ull << 23)

/* @max_leaf: CPUID.0:EAX; @ecx1: CPUID.1:ECX; @ebx7, @ecx7: CPUID.(7,0)
 * (ignored when @max_leaf < 7). */
static inline uint64_t cr4_unreported(uint32_t max_leaf, uint32_t ecx1, uint32_t ebx7,
				      uint32_t ecx7)
{
	uint64_t off = 0;

	if (max_leaf < 7)
		ebx7 = ecx7 = 0;
	if (!(ecx1 & (1u << 17)))
		off |= CR4C_PCIDE;
	if (!(ecx1 & (1u << 26)))
		off |= CR4C_OSXSAVE;
	if (!(ebx7 & (1u << 0)))
		off |= CR4C_FSGSBASE;
	if (!(ebx7 & (1u << 7)))
		off |= CR4C_SMEP;
	if (!(ebx7 & (1u << 20)))
		off |= CR4C_SMAP;
	if (!(ecx7 & (1u << 2)))
		off |= CR4C_UMIP;
	if (!(ecx7 & (1u << 3)))
		off |= CR4C_PKE;
	if (!(ecx7 & (1u << 7)))
		off |= CR4C_CET;
	if (!(ecx7 & (1u << 16)))
		off |= CR4C_LA57;
	return off;
}

#endif /* STUB_CR4_CPUID_H */
