/* SPDX-License-Identifier: MIT */
/*
 * Which interrupt a local APIC would deliver now (SDM Vol. 3A 11.8.3.1,
 * "Task and Processor Priorities"): the highest vector requested in the
 * IRR, when its priority class (bits 7:4) is above that of the processor-
 * priority register. Pure, so the unit tests take it as the stub does.
 */
#ifndef STUB_APIC_PRIO_H
#define STUB_APIC_PRIO_H

#include <stdint.h>

#define APIC_IRR_WORDS 8
#define APIC_PRIO_CLASS(x) (((x) >> 4) & 0xfu)

/* The highest vector set in @irr (eight 32-bit words, vector 0 at bit 0 of
 * word 0), or -1. */
static inline int apic_highest_vector(const uint32_t irr[APIC_IRR_WORDS])
{
	for (int w = APIC_IRR_WORDS - 1; w >= 0; w--)
		if (irr[w] != 0)
			return w * 32 + 31 - __builtin_clz(irr[w]);
	return -1;
}

/* The vector the APIC delivers now with @irr and processor priority @ppr,
 * or -1 when none is above the processor's priority class. */
static inline int apic_deliverable_vector(const uint32_t irr[APIC_IRR_WORDS], uint32_t ppr)
{
	int v = apic_highest_vector(irr);

	return v >= 0 && APIC_PRIO_CLASS((uint32_t)v) > APIC_PRIO_CLASS(ppr) ? v : -1;
}

#endif /* STUB_APIC_PRIO_H */
