/* SPDX-License-Identifier: MIT */
/* NPT01: L0's map of L1's guest-physical memory (APM 15.25). */
#include "stub.h"

#define PT_ENTRIES 512
#define LEVEL_SHIFT(l) (12 + 9 * (l)) /* level 0: 4 KiB PTE ... level 3: PML4E */

static unsigned idx(uint64_t gpa, int level)
{
	return (unsigned)((gpa >> LEVEL_SHIFT(level)) & (PT_ENTRIES - 1));
}

static uint64_t *next_table(uint64_t *table, unsigned i)
{
	if (!(table[i] & NPT_P)) {
		uint64_t *t = bm_page_alloc();
		if (!t)
			bm_panic("npt: out of pages\n");
		table[i] = (uint64_t)(uintptr_t)t | NPT_P | NPT_RW | NPT_US;
	}
	if (table[i] & NPT_PS)
		bm_panic("npt: overlapping large page\n");
	return (uint64_t *)(uintptr_t)(table[i] & NPT_ADDR_MASK);
}

void npt_map(uint64_t *pml4, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t flags)
{
	uint64_t end = gpa + size;

	while (gpa < end) {
		uint64_t *pdpt = next_table(pml4, idx(gpa, 3));
		uint64_t *pd = next_table(pdpt, idx(gpa, 2));
		if (!(gpa & (TWO_MIB - 1)) && !(hpa & (TWO_MIB - 1)) && end - gpa >= TWO_MIB &&
		    !(pd[idx(gpa, 1)] & NPT_P)) {
			pd[idx(gpa, 1)] = hpa | flags | NPT_PS;
			gpa += TWO_MIB;
			hpa += TWO_MIB;
			continue;
		}
		uint64_t *pt = next_table(pd, idx(gpa, 1));
		pt[idx(gpa, 0)] = hpa | flags;
		gpa += BM_PAGE_SIZE;
		hpa += BM_PAGE_SIZE;
	}
}

bool npt_lookup(const uint64_t *pml4, uint64_t gpa, uint64_t *hpa, unsigned *shift, uint64_t *flags)
{
	const uint64_t *t = pml4;

	for (int level = 3; level >= 0; level--) {
		uint64_t e = t[idx(gpa, level)];
		if (!(e & NPT_P))
			return false;
		if (level == 0 || (level <= 2 && (e & NPT_PS))) {
			uint64_t mask = (1ull << LEVEL_SHIFT(level)) - 1;
			*hpa = (e & NPT_ADDR_MASK & ~mask) | (gpa & mask);
			*shift = (unsigned)LEVEL_SHIFT(level);
			*flags = e & ~NPT_ADDR_MASK;
			return true;
		}
		t = (const uint64_t *)(uintptr_t)(e & NPT_ADDR_MASK);
	}
	return false;
}

void *l1_ram_ptr(uint64_t gpa, uint64_t len)
{
	/* L1's RAM is [0, l1_size) minus the legacy hole [0xA0000, 0x100000). */
	if (len == 0 || gpa >= stub.l1_size || len > stub.l1_size - gpa)
		return NULL;
	if (gpa < L1_HIGH_START && gpa + len > L1_LOW_RAM_END)
		return NULL;
	return (void *)(uintptr_t)(stub.l1_host + gpa);
}
