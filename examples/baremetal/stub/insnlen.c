/* SPDX-License-Identifier: MIT */
/*
 * The length of L2's instruction at an exit, for a host without nRIP save
 * (QEMU's TCG): libnest fills vmcb12's NEXT_RIP from it
 * (NEST_SVM_CFG_SOFT_NRIPS). The bytes are fetched at CS:RIP through L2's
 * own paging and vmcb02's nested table, which maps L2-physical to
 * host-physical memory whether L1 uses nested paging (NPT02) or not
 * (NPT01) (guest_fetch.c). insn_decode.c gives the length; an
 * instruction it does not know, or that cannot be fetched, gives 0:
 * libnest then writes NEXT_RIP 0.
 */
#include "backend.h"
#include "insn_decode.h"
#include "svm_nested.h"

#define INSN_MAX 15
#define SEG_ATTR_L (1u << 9)
#define SEG_ATTR_DB (1u << 10)

/* The guest's instruction at CS:RIP of @v (vmcb01 or vmcb02): its bytes
 * into @buf, its length (0 if unknown or not fetched). */
unsigned stub_insn_fetch(const uint8_t *v, uint8_t *buf, unsigned max, bool *long64_out)
{
	uint16_t cs = VMCB_U16(v, VMCB_CS + VMCB_SEG_ATTR);
	bool long64 = (VMCB_U64(v, VMCB_EFER) & EFER_LMA) && (cs & SEG_ATTR_L);
	uint64_t lin = VMCB_U64(v, VMCB_RIP);
	unsigned got, len;

	if (!long64)
		lin = (lin + VMCB_U64(v, VMCB_CS + VMCB_SEG_BASE)) & 0xFFFFFFFFull;
	got = stub_guest_fetch(VMCB_U64(v, VMCB_CR0), VMCB_U64(v, VMCB_CR4), VMCB_U64(v, VMCB_EFER),
			       VMCB_U64(v, VMCB_CR3), VMCB_U64(v, VMCB_N_CR3), lin, buf, max);
	len = stub_insn_decode(buf, got, long64, long64 || (cs & SEG_ATTR_DB));
	*long64_out = long64;
	return len <= got ? len : 0;
}

unsigned stub_l2_insn_len(const uint8_t *v)
{
	uint8_t buf[INSN_MAX];
	bool long64;

	return stub_insn_fetch(v, buf, INSN_MAX, &long64);
}
