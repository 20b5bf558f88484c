/* SPDX-License-Identifier: MIT */
/*
 * The SVM stub's hypercalls: L1 finds them by CPUID 0x40000000 (the
 * signature) and 0x40000001 (what exists), and makes them by VMMCALL with
 * the number in RAX (examples/baremetal/README.md has the table). The
 * balloon is l1move.c's, the shrink shrink.c's. The VMX stub has none.
 */
#include "stub.h"

void stub_hv_cpuid(uint32_t leaf, uint32_t r[4])
{
	if (leaf == STUB_CPUID_SIGNATURE) {
		r[0] = STUB_CPUID_FEATURES;
		memcpy(&r[1], "libn", 4);
		memcpy(&r[2], "est ", 4);
		memcpy(&r[3], "stub", 4);
	} else if (leaf == STUB_CPUID_FEATURES) {
		r[0] = STUB_HC_F_BALLOON | (shrink_offered() ? STUB_HC_F_SHRINK : 0);
		r[1] = r[2] = r[3] = 0;
	}
}

bool stub_hypercall(uint64_t nr, uint64_t *rbx, uint64_t *rcx, uint64_t *ret)
{
	switch (nr) {
	case STUB_HC_GIVE:
		*ret = l1_balloon_give(*rbx, *rcx);
		return true;
	case STUB_HC_TAKE:
		*ret = l1_balloon_take(*rbx, *rcx);
		return true;
	case STUB_HC_SHRINK_INFO:
		*ret = shrink_info(rbx, rcx);
		return true;
	case STUB_HC_SHRINK_STATUS:
		*ret = shrink_status(rbx, rcx);
		return true;
	case STUB_HC_SHRINK_ACK:
		*ret = shrink_ack(*rbx, *rcx);
		return true;
	default:
		return false;
	}
}
