/* SPDX-License-Identifier: MIT */
/*
 * A guest's bytes at a linear address, for decoding its instruction: the
 * walk of its own paging (libnest's x86 walker) over the nested table
 * that maps its physical memory to the host's (vmcb's NPT or vmcs's EPT,
 * both four levels with present, large-page and address bits where this
 * reader looks: npt_lookup()). The instruction just ran, so its page and
 * its page tables are mapped there. And the decoding of the 32-bit stores
 * local-APIC drivers write with.
 */
#include <nest/tdp.h>

#include "backend.h"
#include "insn_decode.h"

#define CPUID_ADDR_SIZES 0x80000008u
#define CPUID_EXT_FEATURES 0x80000001u
#define CPUID_EXT_EDX_GBPAGES (1u << 26)
#define OP_MOV_RM_R 0x89
#define OP_MOV_RM_IMM 0xC7
#define OP_MOV_MOFFS_EAX 0xA3
#define MODRM_REG_SHIFT 3
#define MODRM_REG_MASK 7u
#define REX_R (1u << 2)
#define IMM32_LEN 4

/* The guest's physical memory, for the walker: through the nested table
 * whose root is at *@ctx. */
static int nested_read(void *ctx, uint64_t gpa, void *buf, size_t len)
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

static int nested_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx, (void)gpa, (void)buf, (void)len;
	return NEST_E_FAULT; /* the walk sets no accessed bits */
}

static const struct nest_backend_ops nested_ops = {
    .size = sizeof(struct nest_backend_ops),
    .read_l1 = nested_read,
    .write_l1 = nested_write,
};

unsigned stub_guest_fetch(uint64_t cr0, uint64_t cr4, uint64_t efer, uint64_t cr3, uint64_t ncr3,
			  uint64_t lin, uint8_t *buf, unsigned len)
{
	uint32_t a, b, c, d;
	struct nest_x86_config cfg = {.cr0 = cr0, .cr4 = cr4, .efer = efer};
	const struct nest_backend be = {.ops = &nested_ops, .ctx = &ncr3};
	unsigned got = 0;

	cpuid(CPUID_ADDR_SIZES, 0, &a, &b, &c, &d);
	cfg.maxphyaddr = (uint8_t)(a & 0xFF);
	cpuid(CPUID_EXT_FEATURES, 0, &a, &b, &c, &d);
	cfg.gbpages = (d & CPUID_EXT_EDX_GBPAGES) != 0;
	while (got < len) {
		struct nest_walk_result res;
		unsigned chunk = BM_PAGE_SIZE - (unsigned)(lin & (BM_PAGE_SIZE - 1));

		if (chunk > len - got)
			chunk = len - got;
		if (nest_x86_walk(&be, &cfg, cr3, lin, NEST_ACC_R, 0, &res) != NEST_OK ||
		    res.status != NEST_WALK_OK ||
		    nested_read(&ncr3, res.addr, buf + got, chunk) != NEST_OK)
			break;
		got += chunk;
		lin += chunk;
	}
	return got;
}

bool stub_decode_store32(const uint8_t *buf, unsigned len, bool long64, const uint64_t gpr[16],
			 uint32_t *val)
{
	unsigned i = 0, rex = 0;

	while (i < len && (buf[i] == 0x2E || buf[i] == 0x36 || buf[i] == 0x3E || buf[i] == 0x26 ||
			   buf[i] == 0x64 || buf[i] == 0x65))
		i++;
	if (long64 && i < len && (buf[i] & 0xF0) == 0x40)
		rex = buf[i++];
	if (i + 1 < len && buf[i] == OP_MOV_RM_R) {
		unsigned reg =
		    ((buf[i + 1] >> MODRM_REG_SHIFT) & MODRM_REG_MASK) | ((rex & REX_R) ? 8 : 0);
		*val = (uint32_t)gpr[reg];
		return true;
	}
	if (i < len && buf[i] == OP_MOV_MOFFS_EAX) {
		*val = (uint32_t)gpr[0];
		return true;
	}
	if (i + 1 < len && buf[i] == OP_MOV_RM_IMM &&
	    !(buf[i + 1] & (MODRM_REG_MASK << MODRM_REG_SHIFT)) && len >= IMM32_LEN) {
		*val = (uint32_t)buf[len - 4] | (uint32_t)buf[len - 3] << 8 |
		       (uint32_t)buf[len - 2] << 16 | (uint32_t)buf[len - 1] << 24;
		return true;
	}
	return false;
}
