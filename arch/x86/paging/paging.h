/* SPDX-License-Identifier: MIT */
/*
 * Internal header of arch/x86/paging: entry formats of EPT (SDM 29.3.2,
 * Tables 29-1..29-7) and x86 paging (SDM 4.3-4.5, APM 5.3-5.4), the memory
 * type combination (SDM 11.5.2.2 Table 11-7, 29.3.7) and the walker entry
 * points for the rest of the core (VMX instruction emulation walks L1's CR3
 * through nest__x86_walk()).
 */
#ifndef NEST_PAGING_H
#define NEST_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#include <nest/tdp.h>

#include "internal.h"
#include "cpu/x86.h"

#define PG_PAGE_SHIFT 12
#define PG_PAGE_SIZE (1ull << PG_PAGE_SHIFT)
#define PG_ENTRIES 512u
#define PG_LEVEL_BITS 9
#define PG_SHIFT_2M 21
#define PG_SHIFT_1G 30
#define PG_SHIFT_4M 22

/* The page size mapped by an entry at `level` of a 9-bit-per-level tree. */
static inline unsigned pg_level_shift(unsigned level)
{
	return PG_PAGE_SHIFT + PG_LEVEL_BITS * (level - 1);
}

/* Physical-address bits [maxphyaddr-1:12] of an entry. */
static inline uint64_t pg_addr_mask(unsigned maxphyaddr)
{
	return ((1ull << maxphyaddr) - 1) & ~(PG_PAGE_SIZE - 1);
}

/* Bits [51:maxphyaddr]: reserved in every entry (SDM 4.5, 29.3.2). */
static inline uint64_t pg_rsvd_phys(unsigned maxphyaddr)
{
	return ((1ull << 52) - 1) & ~((1ull << maxphyaddr) - 1);
}

/* --- EPT entries (SDM 29.3.2) --- */
#define EPT_R NEST_BIT(0)
#define EPT_W NEST_BIT(1)
#define EPT_X NEST_BIT(2)
#define EPT_RWX (EPT_R | EPT_W | EPT_X)
#define EPT_MT_SHIFT 3
#define EPT_MT_MASK (7ull << EPT_MT_SHIFT)
#define EPT_IPAT NEST_BIT(6)
#define EPT_PS NEST_BIT(7)
#define EPT_A NEST_BIT(8)
#define EPT_D NEST_BIT(9)
#define EPT_UX NEST_BIT(10)
/* Non-leaf entries: bits 7:3 are reserved (memory type, IPAT, PS). */
#define EPT_NONLEAF_RSVD (0x1full << 3)

/* --- EPTP (SDM 25.6.11) --- */
#define EPTP_MT_MASK 7ull
#define EPTP_PWL_SHIFT 3
#define EPTP_PWL_MASK (7ull << EPTP_PWL_SHIFT)
#define EPTP_AD NEST_BIT(6)
#define EPTP_SSS NEST_BIT(7)
#define EPTP_RSVD_LOW (0xfull << 8)

/* --- x86 paging entries (SDM 4.3-4.5) --- */
#define X86_PTE_P NEST_BIT(0)
#define X86_PTE_RW NEST_BIT(1)
#define X86_PTE_US NEST_BIT(2)
#define X86_PTE_PWT NEST_BIT(3)
#define X86_PTE_PCD NEST_BIT(4)
#define X86_PTE_A NEST_BIT(5)
#define X86_PTE_D NEST_BIT(6)
#define X86_PTE_PS NEST_BIT(7)
#define X86_PTE_G NEST_BIT(8) /* global in a leaf; AMD: MBZ in non-leaf PML4E/PDPE */
#define X86_PTE_PAT NEST_BIT(7)        /* in entries that map 4 KiB pages */
#define X86_PTE_PAT_LARGE NEST_BIT(12) /* in entries that map 2 MiB / 4 MiB / 1 GiB pages */
#define X86_PTE_NX NEST_BIT(63)
/* PAE PDPTE (SDM 4.4.1, Table 4-8): bits 2:1 and 8:5 are reserved. */
#define X86_PAE_PDPTE_RSVD (NEST_BIT(1) | NEST_BIT(2) | (0xfull << 5))
/* 32-bit 4 MiB PDE (SDM 4.3, Table 4-4): PSE-36 address bits 20:13 = PA 39:32, bit 21 reserved. */
#define X86_PSE36_SHIFT 13
#define X86_PSE36_BITS 8
#define X86_PSE_PDE_RSVD21 NEST_BIT(21)
/* PAE CR3: the PDPT is 32-byte aligned (SDM 4.4.1). */
#define X86_PAE_CR3_MASK 0xffffffe0ull
#define X86_PAE_PDPTES 4u

/* --- memory types --- */
/* SDM 11.5.2.2 Table 11-7: effective type of an MTRR-like type `outer` with
 * a PAT-like type `inner`. Returns NEST_MT_UC for invalid encodings. */
uint8_t nest__mt_combine(uint8_t outer, uint8_t inner);
/* Is `mt` an EPT memory type L1 may use in a leaf (0, 1, 4, 5, 6)? */
bool nest__ept_mt_valid(uint8_t mt);

/* Walk entry points for the core (same as the exported ones, no NULL checks). */
void nest__ept_walk(const struct nest_backend *be, const struct nest_ept_config *cfg,
		    uint64_t eptp, uint64_t gpa, uint32_t access, uint32_t flags,
		    struct nest_walk_result *res);
void nest__x86_walk(const struct nest_backend *be, const struct nest_x86_config *cfg,
		    uint64_t cr3, uint64_t va, uint32_t access, uint32_t flags,
		    struct nest_walk_result *res);

/* Set `bits` in the entry of `width` bytes (4 or 8) at L1-physical `addr`
 * whose value was `old`, atomically through the backend. Returns NEST_OK,
 * NEST_E_NOENT when L1 changed the entry meanwhile, or a backend error. */
int nest__pg_set_bits(const struct nest_backend *be, uint64_t addr, unsigned width, uint64_t old,
		      uint64_t bits);

/* The accessed/dirty update that ends a successful walk (SDM 4.8, 29.3.5):
 * set `a_bit` in every entry used, from `top` down to the leaf at `leaf`
 * (res->entry[] and res->entry_addr[] as the walk read them), and `d_bit`
 * in the leaf too when `access` writes; levels whose bit is set in
 * `no_a_levels` (bit n for level n) have no accessed flag and are skipped.
 * Entries are `width` bytes (4 or 8). Updates res->entry[] and, on a write,
 * sets res->dirty. Returns NEST_E_NOENT when L1 changed an entry meanwhile
 * (the caller restarts the walk); otherwise NEST_OK, with res->status
 * NEST_WALK_NO_MEMORY and res->fault_addr set when an update failed.
 * Inline, so that each walker's loop keeps its constants. */
static inline int nest__pg_set_ad(const struct nest_backend *be, struct nest_walk_result *res,
				  unsigned top, unsigned leaf, unsigned width, uint64_t a_bit,
				  uint64_t d_bit, uint32_t access, uint32_t no_a_levels)
{
	unsigned l;
	int rc;

	for (l = top; l >= leaf; l--) {
		uint64_t bits = a_bit;

		if (no_a_levels & (1u << l))
			continue;
		if (l == leaf && (access & NEST_ACC_W))
			bits |= d_bit;
		rc = nest__pg_set_bits(be, res->entry_addr[l - 1], width, res->entry[l - 1], bits);
		if (rc == NEST_E_NOENT)
			return rc;
		if (rc != NEST_OK) {
			res->status = NEST_WALK_NO_MEMORY;
			res->fault_addr = res->entry_addr[l - 1];
			return NEST_OK;
		}
		res->entry[l - 1] |= bits;
	}
	if (access & NEST_ACC_W)
		res->dirty = 1;
	return NEST_OK;
}

/* How many times a walk restarts when L1 changes an entry under it. */
#define PG_WALK_RETRIES 4

/* --- page-modification logging of L1 (SDM 29.3.6) --- */
/* The log holds 512 entries of 8 bytes; an index above 511 means it is full. */
#define PML_ENTRIES 512u
#define PML_ENTRY_SIZE 8u

/*
 * L1's page-modification log for one fault on an EPT root whose EPTP
 * enables accessed and dirty flags (the caller's vmcs12 has "enable PML"):
 * the fault sets EPT12's flags only after checking the index, logs the
 * L2-physical page whose dirty flag it set, and tells a PML-full event.
 */
struct nest__tdp_pml {
	uint64_t addr;	/* PML address: L1-physical, 4 KiB aligned */
	uint16_t index; /* in: the PML index; out: after the fault */
	uint8_t full;	/* out: PML-full event (nothing set, nothing installed) */
	uint8_t logged; /* out: an entry was written and the index decremented */
	uint8_t lost;	/* out: a dirty flag was set but the log write failed */
	uint8_t pad[3];
};

/* nest_tdp_fault() with L1's page-modification log (NULL: none). On a
 * PML-full event, out->kind is NEST_TDP_RETRY and pml->full is set. */
int nest__tdp_fault_pml(struct nest_tdp *h, const struct nest_tdp_l1_root *l1,
			const struct nest_tdp_fault_in *in, struct nest__tdp_pml *pml,
			struct nest_tdp_fault_out *out);

#endif /* NEST_PAGING_H */
