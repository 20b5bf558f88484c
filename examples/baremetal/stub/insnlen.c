/* SPDX-License-Identifier: MIT */
/*
 * The length of L2's instruction at an exit, for a host without nRIP save
 * (QEMU's TCG): libnest fills vmcb12's NEXT_RIP from it
 * (NEST_SVM_CFG_SOFT_NRIPS). The bytes are fetched at CS:RIP through L2's
 * own paging (libnest's x86 walker) and vmcb02's nested table, which maps
 * L2-physical to host-physical memory whether L1 uses nested paging
 * (NPT02) or not (NPT01); the instruction just ran, so its page and its
 * page tables are mapped there. insn_decode.c gives the length; an
 * instruction it does not know, or that cannot be fetched, gives 0:
 * libnest then writes NEXT_RIP 0.
 */
#include <nest/tdp.h>

#include "backend.h"
#include "insn_decode.h"
#include "svm_nested.h"

#define INSN_MAX 15
#define SEG_ATTR_L (1u << 9)
#define SEG_ATTR_DB (1u << 10)
#define CPUID_ADDR_SIZES 0x80000008u
#define CPUID_EXT_EDX_GBPAGES (1u << 26)

/* ---- fetch ---- */

/* L2-physical memory, for the walker: through the nested table at *@ctx
 * (vmcb02's; each processor walks its own). */
static int l2_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	uint8_t *dst = buf;
	uint64_t ncr3 = *(const uint64_t *)ctx;

	while (len) {
		uint64_t hpa, flags;
		unsigned shift;
		size_t chunk = BM_PAGE_SIZE - (gpa & (BM_PAGE_SIZE - 1));

		if (chunk > len)
			chunk = len;
		if (!npt_lookup((const uint64_t *)(uintptr_t)ncr3, gpa, &hpa, &shift, &flags))
			return NEST_E_FAULT;
		memcpy(dst, (const void *)(uintptr_t)hpa, chunk);
		dst += chunk;
		gpa += chunk;
		len -= chunk;
	}
	return NEST_OK;
}

static int l2_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx, (void)gpa, (void)buf, (void)len;
	return NEST_E_FAULT; /* the walk sets no accessed bits */
}

static const struct nest_backend_ops l2_ops = {
    .size = sizeof(struct nest_backend_ops),
    .read_l1 = l2_read,
    .write_l1 = l2_write,
};

/* Up to @len bytes at L2's linear @lin; returns how many could be read. */
static unsigned fetch(const uint8_t *v, uint64_t lin, uint8_t *buf, unsigned len)
{
	uint32_t a, b, c, d;
	struct nest_x86_config cfg = {
	    .cr0 = VMCB_U64(v, VMCB_CR0),
	    .cr4 = VMCB_U64(v, VMCB_CR4),
	    .efer = VMCB_U64(v, VMCB_EFER),
	};
	unsigned got = 0;
	uint64_t ncr3 = VMCB_U64(v, VMCB_N_CR3);
	const struct nest_backend l2_backend = {.ops = &l2_ops, .ctx = &ncr3};

	cpuid(CPUID_ADDR_SIZES, 0, &a, &b, &c, &d);
	cfg.maxphyaddr = (uint8_t)(a & 0xFF);
	cpuid(CPUID_EXT_FEATURES, 0, &a, &b, &c, &d);
	cfg.gbpages = (d & CPUID_EXT_EDX_GBPAGES) != 0;
	while (got < len) {
		struct nest_walk_result res;
		unsigned chunk = BM_PAGE_SIZE - (unsigned)(lin & (BM_PAGE_SIZE - 1));

		if (chunk > len - got)
			chunk = len - got;
		if (nest_x86_walk(&l2_backend, &cfg, VMCB_U64(v, VMCB_CR3), lin, NEST_ACC_R, 0,
				  &res) != NEST_OK ||
		    res.status != NEST_WALK_OK ||
		    l2_read(&ncr3, res.addr, buf + got, chunk) != NEST_OK)
			break;
		got += chunk;
		lin += chunk;
	}
	return got;
}

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
	got = fetch(v, lin, buf, max);
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
