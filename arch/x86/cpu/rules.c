/* SPDX-License-Identifier: MIT */
/*
 * x86 architectural rules that VMX and SVM checks share (declared in
 * cpu/x86.h).
 */
#include "cpu/x86.h"

/* IA32_PAT (SDM 11.12.2; APM 7.8.1): each of the eight entries holds UC,
 * WC, WT, WP, WB or UC-; types 2, 3 and 8-255 are reserved, and a WRMSR
 * (or a VM entry / VMRUN loading the value) with one of them fails. */
bool nest__x86_pat_valid(uint64_t pat)
{
	unsigned i;

	for (i = 0; i < X86_PAT_ENTRIES; i++) {
		uint8_t t = (uint8_t)(pat >> (i * X86_PAT_ENTRY_BITS));

		if (t == X86_PAT_TYPE_RESERVED2 || t == X86_PAT_TYPE_RESERVED3 ||
		    t > X86_PAT_TYPE_MAX)
			return false;
	}
	return true;
}
