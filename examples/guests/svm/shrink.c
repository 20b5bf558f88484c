/* SPDX-License-Identifier: MIT */
/*
 * L0 takes a range of L1's memory away and gives it back while L2 runs
 * (the bare-metal stub's "shrink=N", examples/baremetal/README.md): run
 * only when CPUID 0x40000001 of the stub says L0 may ask for memory back.
 *
 * L1 asks which range L0 may take (the hypercall is also its consent),
 * keeps NPT12 from mapping it but through a window of 64 pages at
 * L2-physical WINDOW_GPA (at first one 2 MiB leaf onto the range, then a
 * table of 4 KiB entries), and runs L2 there again and again: each run
 * checks and rewrites the first and last word of every page (l2_shrink).
 * Between two runs L1 polls the stub. Asked for the range, L1 vacates it
 * as an OS does before a hot-remove: it copies each window page that lies
 * there to a page of its own elsewhere, points the NPT12 entry at the copy,
 * and acknowledges; its flush (TLB_CONTROL, as the APM requires after a
 * change of the nested table) comes with the next VMRUN, after L0 has
 * removed the range. L2 goes on meanwhile. Given the range back, L1
 * acknowledges, finds it zeroed, and moves L2's pages into it again, in
 * another order. Three rounds.
 *
 * The checks fail if the stub never asks or never gives the range back,
 * if it gives back pages that are not fresh (it did not really take them),
 * or if L2 or L1 ever reads a word that is not what L2 last wrote (a
 * shadow entry of L0's left pointing at the old pages, say). An L1 that
 * acknowledged without vacating would stop the run: L2's access to the
 * removed range is a nested page fault the stub cannot serve.
 */
#include "l1.h"
#include "l2.h"

#define HC_SHRINK_INFO 0x4C4E0003u
#define HC_SHRINK_STATUS 0x4C4E0004u
#define HC_SHRINK_ACK 0x4C4E0005u
#define ST_NONE 0u
#define ST_ASKED 1u
#define ST_REMOVED 2u
#define ST_RETURNED 3u

#define PAGE 4096ull
#define WORDS_PER_PAGE 512
#define SIZE_2M 0x200000ull
#define MAX_RANGE_PDES 8	 /* the range is at most 16 MiB */
#define WINDOW_GPA 0x30000000ull /* L2-physical, below 1 GiB: NPT12's PD */
#define WINDOW_PAGES 64
#define ROUNDS 3
#define MAX_RUNS 20000
#define FIRST_VALUE 0x5111000000000000ull

static uint64_t window_pt[WORDS_PER_PAGE] __attribute__((aligned(4096)));
static uint64_t spare[WINDOW_PAGES][WORDS_PER_PAGE] __attribute__((aligned(4096)));

static struct {
	uint64_t gpa, len;	      /* the range L0 may take back */
	uint64_t where[WINDOW_PAGES]; /* the L1 page behind each window page */
	uint64_t value;		      /* what L2 finds in page i: value + i */
	bool flush;		      /* NPT12 changed since the last VMRUN */
	unsigned runs, runs_removed, removed, returned;
} s;

static uint64_t ack(void)
{
	uint64_t b = s.gpa, c = s.len;

	return stub_vmmcall(HC_SHRINK_ACK, &b, &c);
}

static uint64_t status(uint64_t *gpa, uint64_t *len)
{
	*gpa = *len = 0;
	return stub_vmmcall(HC_SHRINK_STATUS, gpa, len);
}

/* Where window page @i lives in the range in round @round: in round 0
 * page i of the range (one 2 MiB leaf of NPT12 maps the window), then even
 * pages in even rounds, odd pages in reverse order in odd ones. */
static uint64_t range_page(unsigned i, unsigned round)
{
	unsigned k = round & 1 ? WINDOW_PAGES - 1 - i : i;

	if (!round)
		return s.gpa + i * PAGE;
	return s.gpa + (2ull * k + (round & 1)) * PAGE;
}

static void map_window(unsigned i, uint64_t l1_page)
{
	s.where[i] = l1_page;
	window_pt[i] = l1_page | PTE_P | PTE_RW | PTE_US;
	l1.npt_pd[WINDOW_GPA / SIZE_2M] = pa(window_pt) | PTE_P | PTE_RW | PTE_US;
	s.flush = true;
}

/* One run of L2 over the window; then L1 reads what it wrote. */
static bool run_window(struct check *c, const struct l1_mode *m)
{
	l2_prepare(m, l2_shrink);
	l1.vmcb->tlb_control = !s.flush ? TLB_CONTROL_NOTHING
			       : (l1.svm_features & CPUID_SVM_EDX_FLUSHBYASID)
				   ? TLB_CONTROL_FLUSH_GUEST
				   : TLB_CONTROL_FLUSH_ALL;
	s.flush = false;
	l1.regs.rbx = WINDOW_GPA;
	l1.regs.rcx = WINDOW_PAGES;
	l1.regs.rdx = s.value;
	l2_run(false);
	s.runs++;
	if (!expect_exit(c, "L2's run", VMEXIT_VMMCALL, l2_shrink_done) ||
	    !expect(c, "words L2 found wrong", l1.vmcb->rax, 0))
		return false;
	s.value += L2_SHRINK_NEXT;
	for (unsigned i = 0; i < WINDOW_PAGES; i++) {
		const uint64_t *p = (const uint64_t *)(uintptr_t)s.where[i];
		if (p[0] != s.value + i || p[WORDS_PER_PAGE - 1] != s.value + i) {
			check_fail(
			    c,
			    "L1 reads 0x%llx/0x%llx in window page %u (L1 0x%llx), expected 0x%llx",
			    (unsigned long long)p[0], (unsigned long long)p[WORDS_PER_PAGE - 1], i,
			    (unsigned long long)s.where[i], (unsigned long long)(s.value + i));
			return false;
		}
	}
	return true;
}

/* Asked for the range: every window page in it moves to L1's own spare
 * (the first time from under NPT12's 2 MiB leaf, which gives way to the
 * window's table: L2 uses only the window's pages of it). */
static void vacate(void)
{
	for (unsigned i = 0; i < WINDOW_PAGES; i++) {
		if (s.where[i] - s.gpa >= s.len)
			continue;
		memcpy(spare[i], (const void *)(uintptr_t)s.where[i], PAGE);
		map_window(i, pa(spare[i]));
	}
}

/* The range is back: the window pages move into it, placed for @round. */
static void move_in(unsigned round)
{
	for (unsigned i = 0; i < WINDOW_PAGES; i++) {
		uint64_t to = range_page(i, round);
		memcpy((void *)(uintptr_t)to, (const void *)(uintptr_t)s.where[i], PAGE);
		map_window(i, to);
	}
}

static bool range_is_zero(void)
{
	const uint64_t *p = (const uint64_t *)(uintptr_t)s.gpa;

	for (uint64_t w = 0; w < s.len / 8; w++)
		if (p[w])
			return false;
	return true;
}

/* The range L0 names: 2 MiB pages of L1's RAM above its image, room for
 * the window in both placements; nothing to acknowledge yet. */
static bool offered(const struct l1_mode *m, const struct mb_info *mbi)
{
	struct check c;
	uint64_t end = 0, b = 0, n = 0;

	check_begin(&c, "shrink-offered", m);
	expect(&c, "the range's hypercall", stub_vmmcall(HC_SHRINK_INFO, &b, &n), 0);
	s.gpa = b;
	s.len = n;
	if (!c.failed && ((b | n) & (SIZE_2M - 1) || n < 2 * WINDOW_PAGES * PAGE ||
			  n > MAX_RANGE_PDES * SIZE_2M || b + n > WINDOW_GPA))
		check_fail(&c, "range [0x%llx, 0x%llx): not 2 MiB pages, too small or too large",
			   (unsigned long long)b, (unsigned long long)(b + n));
	if (!c.failed && b < pa(_image_end))
		check_fail(&c, "range at 0x%llx, below the end of L1's image 0x%llx",
			   (unsigned long long)b, (unsigned long long)pa(_image_end));
	if (!c.failed && (!bm_mb_available_end(mbi, b, &end) || end < b + n))
		check_fail(&c, "range [0x%llx, 0x%llx) is not RAM in L1's memory map",
			   (unsigned long long)b, (unsigned long long)(b + n));
	if (!c.failed) {
		uint64_t g, l;
		expect(&c, "state before any request", status(&g, &l), ST_NONE);
		expect(&c, "acknowledgement of nothing", ack(), 1);
		g = b + PAGE;
		l = n;
		expect(&c, "acknowledgement of another range", stub_vmmcall(HC_SHRINK_ACK, &g, &l),
		       1);
	}
	check_end(&c);
	if (!c.failed)
		printf("l1-svm: L0 may take back [0x%llx, 0x%llx)\n", (unsigned long long)b,
		       (unsigned long long)(b + n));
	return !c.failed;
}

static void check_shrink(const struct l1_mode *m, const struct mb_info *mbi)
{
	struct check uses, ask, gone, back, again;
	uint64_t saved_pd[MAX_RANGE_PDES], saved_window;
	bool removed = false;
	unsigned round = 0;

	if (!offered(m, mbi))
		return;

	/* NPT12 reaches the range only through the window (the identity map
	 * of [0, 1 GiB) covered it too). */
	for (unsigned k = 0; k < s.len / SIZE_2M; k++) {
		saved_pd[k] = l1.npt_pd[s.gpa / SIZE_2M + k];
		l1.npt_pd[s.gpa / SIZE_2M + k] = 0;
	}
	saved_window = l1.npt_pd[WINDOW_GPA / SIZE_2M];
	l1.npt_pd[WINDOW_GPA / SIZE_2M] = s.gpa | PTE_P | PTE_RW | PTE_US | PTE_PS;
	s.flush = true;
	s.value = FIRST_VALUE;
	for (unsigned i = 0; i < WINDOW_PAGES; i++) {
		uint64_t *p = (uint64_t *)(uintptr_t)range_page(i, 0);
		p[0] = p[WORDS_PER_PAGE - 1] = s.value + i;
		s.where[i] = range_page(i, 0);
	}

	check_begin(&uses, "shrink-l2-uses-the-range", m);
	bool ok = run_window(&uses, m);
	check_end(&uses);

	check_begin(&ask, "shrink-vacated-on-request", m);
	check_begin(&gone, "shrink-l2-runs-while-removed", m);
	check_begin(&back, "shrink-returned-zeroed", m);
	check_begin(&again, "shrink-l2-back-in-the-range", m);
	while (ok && s.returned < ROUNDS && s.runs < MAX_RUNS) {
		uint64_t g, l;
		if (!run_window(removed ? &gone : &again, m))
			break;
		s.runs_removed += removed;
		unsigned st = (unsigned)status(&g, &l);
		if (st == ST_NONE || (st == ST_REMOVED && removed))
			continue; /* nothing new */
		struct check *c = removed ? &back : &ask;
		if (!expect(c, "the state's range", g, s.gpa) || !expect(c, "its length", l, s.len))
			break;
		if (st == ST_ASKED && !removed) {
			vacate();
			if (!expect(&ask, "acknowledgement", ack(), 0) ||
			    !expect(&ask, "state after it", status(&g, &l), ST_REMOVED))
				break;
			removed = true;
			s.removed++;
		} else if (st == ST_RETURNED && removed) {
			if (!expect(&back, "acknowledgement", ack(), 0) ||
			    !expect(&back, "state after it", status(&g, &l), ST_NONE) ||
			    !expect(&back, "every word zero", range_is_zero(), true))
				break;
			move_in(++round);
			removed = false;
			s.returned++;
		} else {
			check_fail(c, "state %u while the range is %s", st,
				   removed ? "removed" : "L1's");
			break;
		}
	}
	if (!ok)
		check_fail(&ask, "L2 could not use the range");
	if (ok && s.returned < ROUNDS && !ask.failed && !gone.failed && !back.failed &&
	    !again.failed)
		check_fail(s.removed == s.returned ? &ask : &back,
			   "%u runs of L2: %u removals and %u returns, expected %u", s.runs,
			   s.removed, s.returned, ROUNDS);
	if (!s.runs_removed && !gone.failed)
		check_fail(&gone, "L2 never ran while the range was removed");
	check_end(&ask);
	check_end(&gone);
	check_end(&back);
	check_end(&again);
	printf("l1-svm: shrink: %u removals and %u returns in %u runs of L2 (%u while removed)\n",
	       s.removed, s.returned, s.runs, s.runs_removed);

	for (unsigned k = 0; k < s.len / SIZE_2M; k++)
		l1.npt_pd[s.gpa / SIZE_2M + k] = saved_pd[k];
	l1.npt_pd[WINDOW_GPA / SIZE_2M] = saved_window; /* the next l2_prepare() flushes */
}

void run_shrink_checks(const struct l1_mode *m, const struct mb_info *mbi)
{
	if (stub_features() & STUB_HC_F_SHRINK)
		check_shrink(m, mbi);
	else
		printf("l1-svm: L0 does not ask for memory back: no shrink checks\n");
}
