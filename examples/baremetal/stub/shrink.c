/* SPDX-License-Identifier: MIT */
/*
 * L0 takes a range of L1's memory away while L2 runs, and later gives it
 * back ("shrink=N" on the SVM stub's command line), the way a platform
 * hot-removes memory: it asks, the OS vacates the range and acknowledges,
 * the platform removes it; later it adds the memory again and says so,
 * and the OS takes it back into use.
 *
 * The range is the top 2 MiB of L1's RAM (a multiboot L1's image, modules
 * and boot information lie low). L1's memory map calls it RAM like the
 * rest: neither multiboot's map nor e820 can say "hot-removable" (ACPI's
 * SRAT can, and the stub builds no ACPI tables), so L1 learns it by
 * hypercall (STUB_HC_SHRINK_INFO), which is also L1's consent: L0 asks
 * nothing of an L1 that never asked (Linux, say). From then on, every N
 * exits of L2's, at the next entry to L2 (L1 in guest mode), the stub
 * either asks for the range (STUB_SHRINK_ASKED) or, once it has it, gives
 * it back (STUB_SHRINK_RETURNED). L1 polls STUB_HC_SHRINK_STATUS; there is
 * no interrupt for it.
 *
 * At L1's acknowledgement of a request (STUB_HC_SHRINK_ACK) the range goes:
 * NPT01 no longer maps it (an access of L1's is a fatal #NPF), its host
 * pages are filled with a poison byte (a stale mapping shows), libnest is
 * told (nest_tdp_l1_map_changed(), which drops every NPT02 leaf that leads
 * into the range: L1 has rewritten its NPT12 but its flush comes only with
 * its next VMRUN), and the TLB is flushed. Then, right away and before each
 * entry to L2 while the range is away, the stub walks the NPT02 that L2
 * runs on (vmcb02's nCR3: the stub can read libnest's shadow tables, pages
 * of its own pool) and stops the run if a leaf maps a removed host page.
 * Given back, each page of the range is mapped onto another of the removed
 * host pages than before (the next one), zeroed.
 *
 * One processor only (as "move="): the changes are made between two exits,
 * while nothing of L1's runs.
 */
#include "backend.h"
#include "stub.h"
#include "svm_nested.h"

#define SHRINK_BYTES TWO_MIB
#define SHRINK_PAGES (SHRINK_BYTES / BM_PAGE_SIZE)
#define POISON_BYTE 0xA5

static struct {
	uint64_t every;		      /* exits of L2's between two steps; 0: off */
	uint64_t countdown;	      /* exits of L2's until the next step */
	uint64_t seen;		      /* stub.stats.l2_exits at the last tick */
	bool joined;		      /* L1 asked which range L0 may take back */
	unsigned state;		      /* STUB_SHRINK_* */
	uint64_t gpa;		      /* the range: [gpa, gpa + SHRINK_BYTES) */
	uint64_t *slot[SHRINK_PAGES]; /* NPT01's entries for it (table pages stay) */
	uint64_t pte[SHRINK_PAGES];   /* ... and what they held before the removal */
	uint64_t gone[SHRINK_PAGES];  /* the removed host pages, sorted */
	unsigned ngone;
	/* Counters: requests, removals, returns and returns L1 took; NPT02's
	 * leaves into the range at the removals (of them above 4 KiB), which
	 * libnest had to drop; NPT02 walks while removed, the leaves they saw,
	 * and those into removed memory. */
	unsigned cpu; /* the processor whose vCPU joined: its L2 exits count */
	uint64_t asked, removed, returned, taken, live, live_large, walks, leaves, bad;
} sh;

void shrink_init(const char *cmd)
{
	sh.every = stub_cmdline_num(cmd, "shrink", 0);
	if (!sh.every)
		return;
	sh.gpa = BM_ALIGN_DOWN(stub.l1_size, TWO_MIB) - SHRINK_BYTES;
	bm_printf("stub: L0 may take back L1's [%#llx, %#llx) every %llu exits of L2's "
		  "(hot-removable, named by hypercall)\n",
		  (unsigned long long)sh.gpa, (unsigned long long)(sh.gpa + SHRINK_BYTES),
		  (unsigned long long)sh.every);
}

bool shrink_offered(void)
{
	return sh.every != 0;
}

bool shrink_removed(uint64_t gpa)
{
	return sh.state == STUB_SHRINK_REMOVED && gpa - sh.gpa < SHRINK_BYTES;
}

/* What a walk of NPT02 found: leaves that hold a removed page. */
struct finds {
	bool all;	   /* count them all (else stop at the first) */
	uint64_t first;	   /* the first such page */
	uint64_t n, large; /* how many leaves, how many of them above 4 KiB */
};

static bool leaf_check(uint64_t hpa, uint64_t size, void *ctx)
{
	struct finds *f = ctx;
	unsigned lo = 0, hi = sh.ngone;

	while (lo < hi) { /* the first removed page at or above hpa */
		unsigned mid = (lo + hi) / 2;
		if (sh.gone[mid] < hpa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == sh.ngone || sh.gone[lo] - hpa >= size)
		return true;
	if (!f->n++)
		f->first = sh.gone[lo];
	f->large += size > BM_PAGE_SIZE;
	return f->all;
}

static struct finds walk_npt02(bool all)
{
	uint64_t root = nested_npt02_root();
	struct finds f = {.all = all};

	if (root)
		npt_leaves((const uint64_t *)(uintptr_t)root, leaf_check, &f);
	return f;
}

static void check_npt02(const char *when)
{
	uint64_t root = nested_npt02_root();
	struct finds f = {.all = false};

	if (!root)
		return;
	sh.walks++;
	sh.leaves += npt_leaves((const uint64_t *)(uintptr_t)root, leaf_check, &f);
	if (!f.n)
		return;
	sh.bad++;
	bm_printf("stub: shrink: %s, NPT02 (root %#llx) maps host page %#llx, which backed L1's "
		  "[%#llx, %#llx) until L0 took it\n",
		  when, (unsigned long long)root, (unsigned long long)f.first,
		  (unsigned long long)sh.gpa, (unsigned long long)(sh.gpa + SHRINK_BYTES));
	stub_fatal(nested_current_vmcb(), "libnest's NPT02 leads into memory L0 took from L1");
}

/* L1 vacated the range: it goes. */
static uint64_t take_away(void)
{
	for (unsigned i = 0; i < SHRINK_PAGES; i++) {
		uint64_t g = sh.gpa + (uint64_t)i * BM_PAGE_SIZE;
		/* Not vacated while libnest still reads L1's maps there (nor
		 * while a page of it is ballooned: not mapped). */
		sh.slot[i] = l1_tracked(g) ? NULL : npt_pte(stub.npt01, g);
		if (!sh.slot[i])
			return STUB_HC_EINVAL;
	}
	for (unsigned i = 0; i < SHRINK_PAGES; i++) {
		uint64_t h = *sh.slot[i] & NPT_ADDR_MASK;
		/* Sorted as it goes (insertion): 512 pages, once per removal. */
		unsigned j = i;
		for (; j > 0 && sh.gone[j - 1] > h; j--)
			sh.gone[j] = sh.gone[j - 1];
		sh.gone[j] = h;
	}
	sh.ngone = SHRINK_PAGES;
	/* What libnest has to drop: the leaves into the range now (L1's
	 * flush after its change of NPT12 comes only with its next VMRUN). */
	struct finds live = walk_npt02(true);
	sh.live += live.n;
	sh.live_large += live.large;
	for (unsigned i = 0; i < SHRINK_PAGES; i++) {
		sh.pte[i] = *sh.slot[i];
		*sh.slot[i] = 0;
		memset((void *)(uintptr_t)(sh.pte[i] & NPT_ADDR_MASK), POISON_BYTE, BM_PAGE_SIZE);
	}
	stub_mark_l1_moved(); /* l1_ram_ptr() through NPT01 from now on */
	nested_l1_map_changed(sh.gpa, SHRINK_BYTES);
	l1_map_flush();
	sh.state = STUB_SHRINK_REMOVED;
	sh.removed++;
	check_npt02("at the removal");
	return 0;
}

/* The range comes back: each page onto the next one's former host page. */
static void give_back(void)
{
	for (unsigned i = 0; i < SHRINK_PAGES; i++) {
		uint64_t next = sh.pte[(i + 1) % SHRINK_PAGES] & NPT_ADDR_MASK;
		memset((void *)(uintptr_t)next, 0, BM_PAGE_SIZE);
		*sh.slot[i] = next | (sh.pte[i] & ~NPT_ADDR_MASK);
	}
	sh.ngone = 0;
	nested_l1_map_changed(sh.gpa, SHRINK_BYTES);
	l1_map_flush();
	sh.state = STUB_SHRINK_RETURNED;
	sh.returned++;
}

void shrink_tick(void)
{
	if (!sh.joined || stub_cpu() != sh.cpu)
		return;
	bool l2 = nested_l2_running();
	if (l2 && sh.state == STUB_SHRINK_REMOVED)
		check_npt02("before L2 runs");
	uint64_t exits = stub.stats.l2_exits, d = exits - sh.seen;
	sh.seen = exits;
	/* The clock runs while L0 waits for nothing of L1's. */
	if (sh.state != STUB_SHRINK_NONE && sh.state != STUB_SHRINK_REMOVED)
		return;
	sh.countdown = d >= sh.countdown ? 0 : sh.countdown - d;
	if (sh.countdown || !l2)
		return; /* due: at the next entry to L2 */
	sh.countdown = sh.every;
	if (sh.state == STUB_SHRINK_NONE) {
		sh.state = STUB_SHRINK_ASKED;
		sh.asked++;
	} else {
		smp_stop_others_wait();
		give_back();
		smp_resume_others();
	}
}

uint64_t shrink_info(uint64_t *gpa, uint64_t *len)
{
	if (!sh.every) {
		*gpa = *len = 0;
		return STUB_HC_EINVAL;
	}
	if (!sh.joined) {
		sh.joined = true;
		sh.cpu = stub_cpu(); /* its L2 exits are the clock */
		sh.seen = stub.stats.l2_exits;
		sh.countdown = sh.every;
	}
	*gpa = sh.gpa;
	*len = SHRINK_BYTES;
	return 0;
}

uint64_t shrink_status(uint64_t *gpa, uint64_t *len)
{
	bool any = sh.state != STUB_SHRINK_NONE;

	*gpa = any ? sh.gpa : 0;
	*len = any ? SHRINK_BYTES : 0;
	return sh.state;
}

uint64_t shrink_ack(uint64_t gpa, uint64_t len)
{
	if (!sh.joined || gpa != sh.gpa || len != SHRINK_BYTES)
		return STUB_HC_EINVAL;
	switch (sh.state) {
	case STUB_SHRINK_ASKED: {
		/* NPT01 changes while nothing of L1's runs (the others stopped). */
		smp_stop_others_wait();
		uint64_t rc = take_away();
		smp_resume_others();
		return rc;
	}
	case STUB_SHRINK_RETURNED:
		sh.state = STUB_SHRINK_NONE;
		sh.taken++;
		return 0;
	default:
		return STUB_HC_EINVAL;
	}
}

void shrink_report(void)
{
	if (!sh.every)
		return;
	if (!sh.joined) {
		bm_printf(
		    "stub: shrink: L1 never asked which memory L0 may take back: none taken\n");
		return;
	}
	bm_printf(
	    "stub: shrink: L1's [%#llx, %#llx) (%llu pages): %llu requests and %llu returns "
	    "while L2 ran, %llu removals at L1's acknowledgement (NPT02 then held %llu leaves "
	    "into the range, %llu of them 2 MiB), %llu returns taken; NPT02 walked %llu times "
	    "while removed (%llu leaves), %llu into removed memory\n",
	    (unsigned long long)sh.gpa, (unsigned long long)(sh.gpa + SHRINK_BYTES),
	    (unsigned long long)SHRINK_PAGES, (unsigned long long)sh.asked,
	    (unsigned long long)sh.returned, (unsigned long long)sh.removed,
	    (unsigned long long)sh.live, (unsigned long long)sh.live_large,
	    (unsigned long long)sh.taken, (unsigned long long)sh.walks,
	    (unsigned long long)sh.leaves, (unsigned long long)sh.bad);
}
