/* SPDX-License-Identifier: MIT */
/*
 * L0 moving L1's memory while L1 and its guests run ("move=N" on the
 * stub's command line: every N L0 exits). What an L0 does for compaction,
 * ballooning or live migration: the guest-physical page stays, the host
 * page behind it changes.
 *
 * One step swaps two 4 KiB pages of L1's RAM: their contents are exchanged
 * and NPT01/EPT01 then maps each guest-physical page onto the other's
 * former host page (each keeps its own rights, so a page write-protected
 * for libnest stays so). libnest is told with nest_tdp_l1_map_changed()
 * for both pages (nested_l1_map_changed()), which drops every shadow
 * entry of L2's that leads into them, and the next VMRUN flushes the TLB.
 * A swap keeps every host page inside L1's RAM, so the stub needs no spare
 * pool and its own checks of L1 RAM (backend.c) still hold.
 *
 * The pages are chosen by a pseudo-random sequence over L1's RAM, and in
 * turn the pages where libnest is busiest: vmcb12 and L1's NPT12 root on
 * SVM, L1's current VMCS region on VMX (nested_hot_pages()). Runs only
 * between L0 exits, with every other processor stopped (smp_stop_others()):
 * nothing of L1's runs meanwhile, nor libnest working for it.
 *
 * L1 can also give memory back to L0 and take it again (a balloon), by
 * the stub's hypercalls (VMMCALL from L1, found by CPUID 0x40000000; see
 * hypercall.c and examples/baremetal/README.md): while a range is given,
 * NPT01 leaves it unmapped and libnest has dropped every shadow entry into
 * it; taken back, it is mapped again onto zeroed pages. (L0 taking memory
 * L1 has not offered, as a platform hot-removes it, is shrink.c's.)
 */
#include "backend.h"
#include "stub.h"

#define PT_ENTRIES 512
#define HOT_MAX 4

static struct {
	uint64_t every; /* L0 exits between two steps; 0: off */
	uint64_t countdown;
	uint64_t seed;
	uint64_t steps, pages, hot, in_l2;
	uint8_t bounce[BM_PAGE_SIZE] __attribute__((aligned(BM_PAGE_SIZE)));
} mv;

void l1_move_init(const char *cmd)
{
	mv.every = stub_cmdline_num(cmd, "move", 0);
	mv.countdown = mv.every;
	mv.seed = 0x9E3779B97F4A7C15ull;
	if (mv.every)
		bm_printf("stub: moving two pages of L1's memory every %llu L0 exits\n",
			  (unsigned long long)mv.every);
}

static uint64_t next_random(void)
{
	/* xorshift64 (Marsaglia) */
	mv.seed ^= mv.seed << 13;
	mv.seed ^= mv.seed >> 7;
	mv.seed ^= mv.seed << 17;
	return mv.seed;
}

/* A random page of L1's RAM (not the legacy hole). */
static uint64_t random_page(void)
{
	for (;;) {
		uint64_t gpa = (next_random() % (stub.l1_size / BM_PAGE_SIZE)) * BM_PAGE_SIZE;
		if (l1_ram_ptr(gpa, BM_PAGE_SIZE))
			return gpa;
	}
}

static void swap(uint64_t a, uint64_t b)
{
	uint64_t *pa = npt_pte(stub.npt01, a), *pb = npt_pte(stub.npt01, b);

	if (!pa || !pb || a == b)
		return;
	uint64_t ha = *pa & NPT_ADDR_MASK, hb = *pb & NPT_ADDR_MASK;
	void *va = (void *)(uintptr_t)ha, *vb = (void *)(uintptr_t)hb;

	memcpy(mv.bounce, va, BM_PAGE_SIZE);
	memcpy(va, vb, BM_PAGE_SIZE);
	memcpy(vb, mv.bounce, BM_PAGE_SIZE);
	*pa = hb | (*pa & ~NPT_ADDR_MASK);
	*pb = ha | (*pb & ~NPT_ADDR_MASK);
	stub_mark_l1_moved();
	nested_l1_map_changed(a, BM_PAGE_SIZE);
	nested_l1_map_changed(b, BM_PAGE_SIZE);
	l1_map_flush();
	mv.pages += 2;
}

void l1_move_tick(void)
{
	/* Counted by every processor; the one that ends the count moves, once
	 * it has stopped the others (if another is stopping them, the step is
	 * skipped). */
	if (!mv.every || __atomic_sub_fetch(&mv.countdown, 1, __ATOMIC_SEQ_CST) != 0)
		return;
	__atomic_store_n(&mv.countdown, mv.every, __ATOMIC_SEQ_CST);
	if (!smp_stop_others())
		return;
	uint64_t hot[HOT_MAX];
	unsigned nhot = nested_hot_pages(hot, HOT_MAX);
	uint64_t a = random_page();

	/* Every other step moves one of the pages libnest works on. */
	if (nhot && (mv.steps & 1)) {
		uint64_t h = hot[(mv.steps >> 1) % nhot] & ~(uint64_t)(BM_PAGE_SIZE - 1);
		if (l1_ram_ptr(h, BM_PAGE_SIZE)) {
			a = h;
			mv.hot++;
		}
	}
	mv.in_l2 += nested_l2_running();
	mv.steps++;
	swap(a, random_page());
	smp_resume_others();
}

/* The range L1 gave back (one at a time). */
#define BALLOON_MAX_PAGES 1024
static struct {
	uint64_t gpa, pages;
	uint64_t pte[BALLOON_MAX_PAGES];   /* NPT01's entries before */
	uint64_t *slot[BALLOON_MAX_PAGES]; /* where they were (table pages stay) */
	uint64_t given, taken_back;	   /* counters (ranges) */
} bl;

static uint64_t give(uint64_t gpa, uint64_t len)
{
	uint64_t n = len / BM_PAGE_SIZE;

	if (bl.pages || !len || (gpa | len) & (BM_PAGE_SIZE - 1) || n > BALLOON_MAX_PAGES)
		return STUB_HC_EINVAL;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t g = gpa + i * BM_PAGE_SIZE;
		/* L1's RAM only, and not a page tracked for libnest. */
		if (!l1_ram_ptr(g, BM_PAGE_SIZE) || l1_tracked(g) || !npt_pte(stub.npt01, g))
			return STUB_HC_EINVAL;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t *pte = npt_pte(stub.npt01, gpa + i * BM_PAGE_SIZE);
		bl.slot[i] = pte;
		bl.pte[i] = *pte;
		*pte = 0;
	}
	bl.gpa = gpa;
	bl.pages = n;
	bl.given++;
	stub_mark_l1_moved(); /* l1_ram_ptr() through NPT01 from now on */
	nested_l1_map_changed(gpa, len);
	l1_map_flush();
	return 0;
}

static uint64_t take(uint64_t gpa, uint64_t len)
{
	if (!bl.pages || gpa != bl.gpa || len != bl.pages * BM_PAGE_SIZE)
		return STUB_HC_EINVAL;
	/* Zeroed, as fresh pages from L0 would be, and each onto another host
	 * page than before (the next one of the range): a shadow entry left
	 * pointing at the old page would show. */
	for (uint64_t i = 0; i < bl.pages; i++) {
		uint64_t next = bl.pte[(i + 1) % bl.pages] & NPT_ADDR_MASK;
		memset((void *)(uintptr_t)next, 0, BM_PAGE_SIZE);
		*bl.slot[i] = next | (bl.pte[i] & ~NPT_ADDR_MASK);
	}
	bl.pages = 0;
	bl.taken_back++;
	nested_l1_map_changed(gpa, len);
	l1_map_flush();
	return 0;
}

/* NPT01 changes while nothing of L1's runs (the other processors stopped). */
uint64_t l1_balloon_give(uint64_t gpa, uint64_t len)
{
	smp_stop_others_wait();
	uint64_t rc = give(gpa, len);
	smp_resume_others();
	return rc;
}

uint64_t l1_balloon_take(uint64_t gpa, uint64_t len)
{
	smp_stop_others_wait();
	uint64_t rc = take(gpa, len);
	smp_resume_others();
	return rc;
}

void l1_move_report(void)
{
	if (bl.given)
		bm_printf("stub: L1 gave back %llu range(s) of its memory and took %llu back\n",
			  (unsigned long long)bl.given, (unsigned long long)bl.taken_back);
	if (!mv.every)
		return;
	bm_printf("stub: moved %llu pages of L1's memory in %llu steps (%llu of vmcb12/vmcs12 or "
		  "L1's NPT12 root, %llu steps while L2 ran)\n",
		  (unsigned long long)mv.pages, (unsigned long long)mv.steps,
		  (unsigned long long)mv.hot, (unsigned long long)mv.in_l2);
}
