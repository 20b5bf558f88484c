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

void stub_mark_l1_moved(void)
{
	for (unsigned i = 0; i < STUB_MAX_CPUS; i++)
		stub_cpus[i].l1_moved = true;
}

void *l1_ram_ptr(uint64_t gpa, uint64_t len)
{
	/* L1's RAM is [0, l1_size) minus the legacy hole [0xA0000, 0x100000). */
	if (len == 0 || gpa >= stub.l1_size || len > stub.l1_size - gpa)
		return NULL;
	if (gpa < L1_HIGH_START && gpa + len > L1_LOW_RAM_END)
		return NULL;
	if (!stub.l1_moved)
		return (void *)(uintptr_t)(stub.l1_host + gpa);
	/* Pages have moved (l1move.c): one page at a time, through the map. */
	uint64_t hpa, flags;
	unsigned shift;
	if ((gpa & (BM_PAGE_SIZE - 1)) + len > BM_PAGE_SIZE ||
	    !npt_lookup(stub.npt01, gpa, &hpa, &shift, &flags))
		return NULL;
	return (void *)(uintptr_t)hpa;
}

/* The 4 KiB entry that maps @gpa in L0's map of L1, after splitting the
 * 2 MiB mapping that holds it; NULL if the page is not mapped (or lies in
 * a 1 GiB page, which npt_map() never makes). The caller flushes the TLB
 * after changing the entry. */
uint64_t *npt_pte(uint64_t *pml4, uint64_t gpa)
{
	uint64_t *t = pml4;

	for (int level = 3; level >= 1; level--) {
		uint64_t *e = &t[idx(gpa, level)];
		if (!(*e & NPT_P))
			return NULL;
		if (level == 1 && (*e & NPT_PS)) {
			uint64_t *pt = bm_page_alloc();
			uint64_t base = *e & NPT_ADDR_MASK & ~(TWO_MIB - 1);
			uint64_t flags = *e & ~NPT_ADDR_MASK & ~NPT_PS;
			if (!pt)
				return NULL;
			for (unsigned i = 0; i < PT_ENTRIES; i++)
				pt[i] = (base + (uint64_t)i * BM_PAGE_SIZE) | flags;
			*e = (uint64_t)(uintptr_t)pt | NPT_P | NPT_RW | NPT_US;
		} else if (level > 1 && (*e & NPT_PS)) {
			return NULL;
		}
		t = (uint64_t *)(uintptr_t)(*e & NPT_ADDR_MASK);
	}
	uint64_t *pte = &t[idx(gpa, 0)];
	return (*pte & NPT_P) ? pte : NULL;
}

static uint64_t leaves_of(const uint64_t *t, int level,
			  bool (*leaf)(uint64_t hpa, uint64_t size, void *ctx), void *ctx,
			  bool *stop)
{
	uint64_t count = 0;

	for (unsigned i = 0; i < PT_ENTRIES && !*stop; i++) {
		uint64_t e = t[i];
		if (!(e & NPT_P))
			continue;
		if (level == 0 || (level <= 2 && (e & NPT_PS))) {
			uint64_t size = 1ull << LEVEL_SHIFT(level);
			count++;
			*stop = !leaf(e & NPT_ADDR_MASK & ~(size - 1), size, ctx);
			continue;
		}
		count += leaves_of((const uint64_t *)(uintptr_t)(e & NPT_ADDR_MASK), level - 1,
				   leaf, ctx, stop);
	}
	return count;
}

/* Every present leaf of a 4-level table in NPT format (NPT01, or libnest's
 * NPT02 shadow, whose tables are pages of the stub's pool). */
uint64_t npt_leaves(const uint64_t *pml4, bool (*leaf)(uint64_t hpa, uint64_t size, void *ctx),
		    void *ctx)
{
	bool stop = false;

	return leaves_of(pml4, 3, leaf, ctx, &stop);
}

/* Make the 4 KiB page at @gpa read-only or writable again in L0's map of L1
 * (bit 1 is the write permission in NPT01 and in EPT01 alike). The caller
 * flushes the TLB. False if the page is not mapped. */
static bool npt_set_writable(uint64_t *pml4, uint64_t gpa, bool writable)
{
	uint64_t *pte = npt_pte(pml4, gpa);

	if (!pte)
		return false;
	*pte = writable ? *pte | NPT_RW : *pte & ~(uint64_t)NPT_RW;
	return true;
}

bool npt_protect(uint64_t *pml4, uint64_t gpa)
{
	return npt_set_writable(pml4, gpa, false);
}

/* The L1 pages libnest asked the stub to track (L1's bitmaps and maps):
 * read-only in NPT01/EPT01 until L1 writes one, then writable again. */
static struct {
	uint64_t page[NEST_MAX_TRACKED_L1_PAGES];
	unsigned n;
} tracked;

bool l1_tracked(uint64_t gpa)
{
	for (unsigned i = 0; i < tracked.n; i++)
		if (tracked.page[i] == (gpa & ~(uint64_t)(BM_PAGE_SIZE - 1)))
			return true;
	return false;
}

int l1_track_writes(const uint64_t *pages, unsigned n)
{
	bool changed = false;

	if (n > NEST_MAX_TRACKED_L1_PAGES)
		return NEST_E_INVAL;
	/* Writable again: the pages that leave the set. */
	for (unsigned i = 0; i < tracked.n; i++) {
		bool stays = false;
		for (unsigned j = 0; j < n; j++)
			stays |= pages[j] == tracked.page[i];
		if (!stays)
			changed |= npt_set_writable(stub.npt01, tracked.page[i], true);
	}
	tracked.n = 0;
	for (unsigned j = 0; j < n; j++) {
		if (!l1_ram_ptr(pages[j], BM_PAGE_SIZE) ||
		    !npt_set_writable(stub.npt01, pages[j], false)) {
			/* Not L1's RAM: libnest reads it at every entry instead. */
			l1_map_flush();
			return NEST_E_INVAL;
		}
		tracked.page[tracked.n++] = pages[j];
		changed = true;
	}
	if (changed)
		l1_map_flush();
	return NEST_OK;
}
