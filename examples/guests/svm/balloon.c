/* SPDX-License-Identifier: MIT */
/*
 * L1 gives memory back to L0 and takes it again while its L2 runs, by the
 * bare-metal stub's hypercalls (examples/baremetal/README.md, "L1's memory
 * moving under its guests"). Run only when CPUID 0x40000000 names the stub:
 * under another L0 (QEMU alone, or Linux's KVM when this L1 runs at L2)
 * there is nothing of this to check.
 *
 * The page given back is still mapped by NPT12 when L0 takes it, and L1
 * does not flush after taking it back: L1's tables never changed, only L0's
 * map of L1 did, so L2 must see the new page without any flush of L1's
 * (L0 maps the range back onto other host pages than before: a shadow
 * entry of L2's left pointing at the old page would show).
 */
#include "l1.h"
#include "l2.h"

#define STUB_HC_GIVE 0x4C4E0001u
#define STUB_HC_TAKE 0x4C4E0002u
#define BALLOON_PAGES 64
#define WORDS_PER_PAGE 512
#define PROBE_WORD 0x24
#define VALUE_BEFORE 0x0BA1100DEAD0001ull
#define VALUE_AFTER 0x0BA1100DEAD0002ull
#define OTHER_GPA (NPT_PT_GPA + 0x100) /* L1 memory NPT12 maps identity */

static uint64_t balloon[BALLOON_PAGES][WORDS_PER_PAGE] __attribute__((aligned(4096)));

uint32_t stub_features(void)
{
	uint32_t a, b, c, d;

	cpuid(STUB_CPUID_SIGNATURE, 0, &a, &b, &c, &d);
	if (a < STUB_CPUID_FEATURES || memcmp(&b, "libn", 4) || memcmp(&c, "est ", 4) ||
	    memcmp(&d, "stub", 4))
		return 0;
	cpuid(STUB_CPUID_FEATURES, 0, &a, &b, &c, &d);
	return a;
}

uint64_t stub_vmmcall(uint64_t nr, uint64_t *rbx, uint64_t *rcx)
{
	uint64_t rax = nr, b = *rbx, c = *rcx;

	__asm__ volatile("vmmcall" : "+a"(rax), "+b"(b), "+c"(c) : : "memory");
	*rbx = b;
	*rcx = c;
	return rax;
}

static uint64_t hypercall(uint64_t nr, uint64_t a1, uint64_t a2)
{
	return stub_vmmcall(nr, &a1, &a2);
}

/* L2 loads the word at @gpa (with L1's flush of all ASIDs at the VMRUN, or
 * none): the value it read, or ~0 after recording a wrong exit. */
static uint64_t l2_reads(struct check *c, const struct l1_mode *m, uint64_t gpa, bool flush)
{
	l2_prepare(m, l2_load);
	if (!flush)
		l1.vmcb->tlb_control = TLB_CONTROL_NOTHING;
	l1.regs.rbx = gpa;
	l2_run(false);
	if (!expect_exit(c, "L2's load", VMEXIT_VMMCALL, l2_load_insn + LEN_MOV_LOAD))
		return ~0ull;
	return l1.vmcb->rax;
}

static void check_balloon(const struct l1_mode *m)
{
	struct check give, runs, take, sees, bad;
	const uint64_t probe_gpa = NPT_HOLE_GPA + PROBE_WORD * 8;
	const uint64_t leaf = PTE_P | PTE_RW | PTE_US;
	bool zero = true;

	for (unsigned p = 0; p < BALLOON_PAGES; p++)
		for (unsigned w = 0; w < WORDS_PER_PAGE; w++)
			balloon[p][w] = VALUE_BEFORE + p;

	/* L2 uses the first page through NPT12 (the shadow gets a leaf to it). */
	check_begin(&give, "balloon-give", m);
	l1.npt_pt[NPT_HOLE_INDEX] = pa(balloon[0]) | leaf;
	expect(&give, "L2 reads L1's page", l2_reads(&give, m, probe_gpa, true), VALUE_BEFORE);
	expect(&give, "give", hypercall(STUB_HC_GIVE, pa(balloon), sizeof(balloon)), 0);
	check_end(&give);

	/* L2 goes on running elsewhere while the range is L0's. */
	check_begin(&runs, "balloon-l2-runs-meanwhile", m);
	for (unsigned i = 0; i < 8; i++)
		if (!expect(&runs, "L2 reads", l2_reads(&runs, m, OTHER_GPA, false),
			    *(uint64_t *)OTHER_GPA))
			break;
	check_end(&runs);

	/* Taken back: zeroed pages, and L2 sees the new page at once. */
	check_begin(&take, "balloon-take-back", m);
	expect(&take, "take", hypercall(STUB_HC_TAKE, pa(balloon), sizeof(balloon)), 0);
	for (unsigned p = 0; p < BALLOON_PAGES && zero; p++)
		for (unsigned w = 0; w < WORDS_PER_PAGE && zero; w++)
			zero = balloon[p][w] == 0;
	expect(&take, "every word zero", zero, true);
	check_end(&take);

	check_begin(&sees, "balloon-l2-sees-the-new-page", m);
	balloon[0][PROBE_WORD] = VALUE_AFTER;
	expect(&sees, "L2's load, no flush by L1", l2_reads(&sees, m, probe_gpa, false),
	       VALUE_AFTER);
	l1.npt_pt[NPT_HOLE_INDEX] = 0; /* the next l2_prepare() flushes */
	check_end(&sees);

	/* Ranges the stub refuses: unaligned, taking what was not given. */
	check_begin(&bad, "balloon-refuses-bad-ranges", m);
	expect(&bad, "unaligned give", hypercall(STUB_HC_GIVE, pa(balloon) + 8, 4096) != 0, true);
	expect(&bad, "take without give", hypercall(STUB_HC_TAKE, pa(balloon), 4096) != 0, true);
	check_end(&bad);
}

void run_balloon_checks(const struct l1_mode *m)
{
	if (stub_features() & STUB_HC_F_BALLOON)
		check_balloon(m);
	else
		printf("l1-svm: not on the bare-metal stub: no balloon checks\n");
}
