/* SPDX-License-Identifier: MIT */
/*
 * String I/O (INS, OUTS, with or without REP) of L1 on a port the stub
 * intercepts (APM vol. 3, INS/OUTS; APM 15.10.2 for the IOIO exit). The
 * memory operand is ES:rDI (INS) or DS:rSI (OUTS) through L1's own paging,
 * walked with libnest's x86 walker over the stub's backend; a fault becomes
 * a #PF in L1 with the state of the iterations done so far, as the
 * processor leaves it. QEMU's TCG leaves EXITINFO1's address-size and
 * segment fields zero, so the address size comes from the mode (CS.L, CS.D)
 * and OUTS is taken to use DS (no segment override). Segment limits are
 * not checked.
 */
#include <nest/tdp.h>

#include "backend.h"
#include "svm_nested.h"

#define VEC_PF 14
#define RFLAGS_DF (1ull << 10)
#define SEG_ATTR_L (1u << 9)
#define SEG_ATTR_DB (1u << 10)
#define CPUID_EXT_EDX_GBPAGES (1u << 26)
#define CPUID_ADDR_SIZES 0x80000008u
#define STRIO_MAX_ITERATIONS 4096 /* per exit: a longer REP resumes where it stopped */

static uint64_t addr_mask(const uint8_t *v)
{
	uint16_t cs = VMCB_U16(v, VMCB_CS + VMCB_SEG_ATTR);

	if ((VMCB_U64(v, VMCB_EFER) & EFER_LMA) && (cs & SEG_ATTR_L))
		return UINT64_MAX;
	return (cs & SEG_ATTR_DB) ? 0xFFFFFFFFull : 0xFFFFull;
}

/* L1's linear @lin to a host pointer for one byte, or inject #PF and fail. */
static uint8_t *l1_linear(uint8_t *v, uint64_t lin, bool write)
{
	uint32_t a, b, c, d;
	struct nest_x86_config cfg = {
	    .cr0 = VMCB_U64(v, VMCB_CR0),
	    .cr4 = VMCB_U64(v, VMCB_CR4),
	    .efer = VMCB_U64(v, VMCB_EFER),
	};
	struct nest_walk_result res;

	cpuid(CPUID_ADDR_SIZES, 0, &a, &b, &c, &d);
	cfg.maxphyaddr = (uint8_t)(a & 0xFF);
	cpuid(CPUID_EXT_FEATURES, 0, &a, &b, &c, &d);
	cfg.gbpages = (d & CPUID_EXT_EDX_GBPAGES) != 0;
	uint32_t access =
	    (write ? NEST_ACC_W : NEST_ACC_R) | (VMCB_U8(v, VMCB_CPL) == 3 ? NEST_ACC_U : 0);
	if (nest_x86_walk(&stub_backend, &cfg, VMCB_U64(v, VMCB_CR3), lin, access, NEST_WALK_SET_AD,
			  &res) != NEST_OK)
		bm_panic("stub: nest_x86_walk refused a walk\n");
	if (res.status == NEST_WALK_FAULT || res.status == NEST_WALK_RSVD) {
		VMCB_U64(v, VMCB_CR2) = lin;
		stub_inject(v, VEC_PF, true, res.pfec);
		return NULL;
	}
	uint8_t *p = res.status == NEST_WALK_OK ? l1_ram_ptr(res.addr, 1) : NULL;
	if (!p)
		stub_fatal(v, "L1 string I/O to memory it does not have");
	return p;
}

void stub_string_io(uint8_t *v, uint16_t port, bool in, unsigned size, bool rep,
		    uint32_t (*port_in)(uint16_t port, unsigned size),
		    void (*port_out)(uint16_t port, unsigned size, uint32_t val))
{
	uint64_t mask = addr_mask(v);
	int64_t step = (VMCB_U64(v, VMCB_RFLAGS) & RFLAGS_DF) ? -(int64_t)size : (int64_t)size;
	uint64_t *areg = &stub.regs.gpr[in ? GPR_RDI : GPR_RSI];
	uint64_t base =
	    in ? VMCB_U64(v, VMCB_ES + VMCB_SEG_BASE) : VMCB_U64(v, VMCB_DS + VMCB_SEG_BASE);
	uint64_t *rcx = &stub.regs.gpr[GPR_RCX];

	if (mask == UINT64_MAX)
		base = 0; /* 64-bit mode: ES and DS bases are ignored */
	for (unsigned it = 0; it < STRIO_MAX_ITERATIONS; it++) {
		if (rep && (*rcx & mask) == 0)
			break;
		uint64_t off = *areg & mask;
		uint8_t bytes[4];
		uint32_t val = 0;
		if (in) {
			val = port_in(port, size);
			for (unsigned k = 0; k < size; k++) {
				uint8_t *p = l1_linear(v, base + ((off + k) & mask), true);
				if (!p)
					return;
				bytes[k] = (uint8_t)(val >> (8 * k));
				*p = bytes[k];
			}
		} else {
			for (unsigned k = 0; k < size; k++) {
				uint8_t *p = l1_linear(v, base + ((off + k) & mask), false);
				if (!p)
					return;
				val |= (uint32_t)*p << (8 * k);
			}
			port_out(port, size, val);
		}
		*areg = (*areg & ~mask) | ((*areg + (uint64_t)step) & mask);
		if (!rep) {
			VMCB_U64(v, VMCB_RIP) = VMCB_U64(v, VMCB_EXITINFO2);
			return;
		}
		*rcx = (*rcx & ~mask) | ((*rcx - 1) & mask);
	}
	/* Done, or the REP goes on from here at the next run (RIP unchanged). */
	if ((*rcx & mask) == 0)
		VMCB_U64(v, VMCB_RIP) = VMCB_U64(v, VMCB_EXITINFO2);
}
