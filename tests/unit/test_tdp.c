/* SPDX-License-Identifier: MIT */
/* Unit tests of the shadow EPT02/NPT02: fault outcomes, exit qualifications,
 * rights, page sizes, memory types, A/D, the root cache, invalidation. */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include <nest/nest.h>

#include "cpu/x86.h"
#include "tdp_testlib.h"

#define MEM (64ull << 20)
#define MAXPHY 46
#define RWX (NEST_ACC_R | NEST_ACC_W | NEST_ACC_X)

static struct tb T;
static struct nest_tdp *ctx;
static void *ctx_mem;
static uint64_t l1root;

static struct nest_tdp_config config(uint32_t max_pages, uint32_t max_roots)
{
	struct nest_tdp_config c;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.max_pages = max_pages;
	c.max_roots = max_roots;
	c.ept_vpid_cap = TB_EPT_CAPS;
	c.maxphyaddr = MAXPHY;
	c.max_page_shift = 30;
	return c;
}

static void open_ctx(uint32_t max_pages, uint32_t max_roots)
{
	struct nest_tdp_config c = config(max_pages, max_roots);
	size_t n = nest_tdp_size(&c);

	ck_assert_uint_gt(n, 0);
	ctx_mem = aligned_alloc(64, (n + 63) & ~(size_t)63);
	ck_assert_ptr_nonnull(ctx_mem);
	ck_assert_int_eq(nest_tdp_init(ctx_mem, n, &T.be, &c, &ctx), NEST_OK);
}

static void setup(void)
{
	ck_assert_int_eq(tb_init(&T, MEM, 256), 0);
	l1root = tb_new_table(&T);
	open_ctx(128, 4);
}

static void teardown(void)
{
	nest_tdp_fini(ctx);
	ck_assert_uint_eq(T.sim.pool_in_use, 0); /* every page returned */
	free(ctx_mem);
	tb_fini(&T);
}

static struct nest_tdp_l1_root ept_root(int ad)
{
	struct nest_tdp_l1_root r;

	memset(&r, 0, sizeof(r));
	r.kind = NEST_TDP_EPT;
	r.pointer = TB_EPTP(l1root, 4, ad);
	return r;
}

static struct nest_tdp_l1_root npt_root(void)
{
	struct nest_tdp_l1_root r;

	memset(&r, 0, sizeof(r));
	r.kind = NEST_TDP_NPT;
	r.pointer = l1root;
	r.cr0 = X86_CR0_PG | X86_CR0_PE;
	r.cr4 = X86_CR4_PAE;
	r.efer = X86_EFER_LMA | X86_EFER_LME | X86_EFER_NXE | X86_EFER_SVME;
	return r;
}

static struct nest_tdp_fault_out fault(const struct nest_tdp_l1_root *r, uint64_t gpa, uint32_t acc,
				       uint32_t flags)
{
	struct nest_tdp_fault_in in;
	struct nest_tdp_fault_out out;

	memset(&in, 0, sizeof(in));
	in.l2_gpa = gpa;
	in.access = acc;
	in.flags = flags;
	in.gla = 0x7fff0000;
	ck_assert_int_eq(nest_tdp_fault(ctx, r, &in, &out), NEST_OK);
	return out;
}

/* Read the shadow leaf for `gpa` (0 if none); *level receives its level. */
static uint64_t shadow_leaf(const struct nest_tdp_l1_root *r, uint64_t gpa, unsigned *level)
{
	struct nest_tdp_root_info info;
	uint64_t *table, e = 0;
	unsigned l;

	ck_assert_int_eq(nest_tdp_root(ctx, r, &info), NEST_OK);
	table = sim_pool_hva(&T.sim, info.hpa);
	for (l = info.levels; l >= 1; l--) {
		e = table[(gpa >> (12 + 9 * (l - 1))) & 511];
		*level = l;
		if (!(e & (r->kind == NEST_TDP_EPT ? 0x407ull : 1ull)))
			return 0;
		if (l == 1 || (e & TB_EPT_PS))
			return e;
		table = sim_pool_hva(&T.sim, e & 0x000ffffffffff000ull);
		ck_assert_ptr_nonnull(table);
	}
	return 0;
}

START_TEST(fault_installs_intersection_of_l1_and_l0_rights)
{
	struct nest_tdp_l1_root r = ept_root(0);
	struct nest_tdp_fault_out o;
	uint64_t e;
	unsigned lvl;

	tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	tb_map(&T, 0x200000, 0xabc000, NEST_ACC_R | NEST_ACC_X, NEST_MT_WB, 12);
	o = fault(&r, 0x10123, NEST_ACC_R, 0);
	ck_assert_int_eq(o.kind, NEST_TDP_FIXED);
	ck_assert_uint_eq(o.hpa, 0xabc123);
	ck_assert_uint_eq(o.l1_gpa, 0x200123);
	ck_assert_uint_eq(o.page_shift, 12);
	e = shadow_leaf(&r, 0x10000, &lvl);
	ck_assert_uint_eq(lvl, 1);
	ck_assert_uint_eq(e & 0x000ffffffffff000ull, 0xabc000);
	ck_assert_uint_eq(e & TB_EPT_RWX, TB_EPT_R | TB_EPT_X);
	ck_assert_uint_eq((e >> 3) & 7, NEST_MT_WB);
}
END_TEST

START_TEST(access_l0_denies_goes_to_l0)
{
	struct nest_tdp_l1_root r = ept_root(0);
	struct nest_tdp_fault_out o;
	unsigned lvl;

	tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	tb_map(&T, 0x200000, 0xabc000, NEST_ACC_R, NEST_MT_WB, 12);
	o = fault(&r, 0x10008, NEST_ACC_W, 0);
	ck_assert_int_eq(o.kind, NEST_TDP_L0);
	ck_assert_uint_eq(o.l1_gpa, 0x200008);
	ck_assert_uint_eq(o.l0_access, NEST_ACC_W);
	ck_assert_uint_eq(shadow_leaf(&r, 0x10000, &lvl), 0);
}
END_TEST

START_TEST(unmapped_l1_memory_goes_to_l0)
{
	struct nest_tdp_l1_root r = ept_root(0);
	struct nest_tdp_fault_out o;

	tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	tb_unmap(&T, 0x200000);
	o = fault(&r, 0x10000, NEST_ACC_R, 0);
	ck_assert_int_eq(o.kind, NEST_TDP_L0);
	ck_assert_uint_eq(o.l1_gpa, 0x200000);
	/* An L1 page beyond L1's memory (e.g. a device L0 emulates) too. */
	tb_map64(&T, l1root, 4, 0x11000, MEM + 0x5000, 1, TB_EPT_RWX | TB_EPT_MT(0), TB_EPT_RWX);
	o = fault(&r, 0x11000, NEST_ACC_W, 0);
	ck_assert_int_eq(o.kind, NEST_TDP_L0);
	ck_assert_uint_eq(o.l1_gpa, MEM + 0x5000);
}
END_TEST

START_TEST(unreadable_l1_table_goes_to_l0)
{
	struct nest_tdp_l1_root r = ept_root(0);
	struct nest_tdp_fault_out o;

	sim_write64(&T.sim, l1root, (MEM + 0x20000) | TB_EPT_RWX);
	o = fault(&r, 0x1000, NEST_ACC_R, 0);
	ck_assert_int_eq(o.kind, NEST_TDP_L0);
	ck_assert_uint_eq(o.l1_gpa, MEM + 0x20000);
}
END_TEST

START_TEST(ept_violation_has_sdm_exit_qualification)
{
	struct nest_tdp_l1_root r = ept_root(0);
	struct nest_tdp_fault_out o;

	tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_EPT_R | TB_EPT_MT(6), TB_EPT_RWX);
	o = fault(&r, 0x10010, NEST_ACC_W, NEST_TDP_F_GLA_VALID | NEST_TDP_F_FINAL);
	ck_assert_int_eq(o.kind, NEST_TDP_REFLECT);
	ck_assert_uint_eq(o.exit_qual, NEST_EPT_QUAL_WRITE | NEST_EPT_QUAL_READABLE |
					   NEST_EPT_QUAL_GLA_VALID | NEST_EPT_QUAL_GLA_FINAL);
	ck_assert_uint_eq(o.gpa, 0x10010);
	ck_assert_uint_eq(o.gla, 0x7fff0000);
	/* A page-walk access of L2 (bit 8 clear) to an unmapped page: no rights. */
	o = fault(&r, 0x5000000, NEST_ACC_R, NEST_TDP_F_GLA_VALID);
	ck_assert_uint_eq(o.exit_qual, NEST_EPT_QUAL_READ | NEST_EPT_QUAL_GLA_VALID);
	/* A fetch without a linear address. */
	o = fault(&r, 0x10000, NEST_ACC_X, 0);
	ck_assert_uint_eq(o.exit_qual, NEST_EPT_QUAL_FETCH | NEST_EPT_QUAL_READABLE);
	ck_assert_uint_eq(o.gla, 0);
}
END_TEST

/* With EPT A/D flags on, L2's accesses to its own paging structures are
 * writes for EPT12 (SDM 29.3.3.2) and their EPT violations report read and
 * write (SDM 28.2.1), whatever the processor under L0 reported; an access
 * to the final page, or with A/D flags off, keeps its own kind. */
START_TEST(ept_ad_paging_structure_access_is_a_write_reporting_read_and_write)
{
	struct nest_tdp_l1_root ad = ept_root(1), plain = ept_root(0);
	const uint64_t want = NEST_EPT_QUAL_READ | NEST_EPT_QUAL_WRITE | NEST_EPT_QUAL_READABLE |
			      NEST_EPT_QUAL_GLA_VALID;
	struct nest_tdp_fault_out o;

	tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_EPT_R | TB_EPT_MT(6), TB_EPT_RWX);
	o = fault(&ad, 0x10008, NEST_ACC_W, NEST_TDP_F_GLA_VALID);
	ck_assert_int_eq(o.kind, NEST_TDP_REFLECT);
	ck_assert_uint_eq(o.exit_qual, want);
	o = fault(&ad, 0x10008, NEST_ACC_R, NEST_TDP_F_GLA_VALID);
	ck_assert_int_eq(o.kind, NEST_TDP_REFLECT);
	ck_assert_uint_eq(o.exit_qual, want);
	/* Not present: no rights, still read and write. */
	o = fault(&ad, 0x5000000, NEST_ACC_R, NEST_TDP_F_GLA_VALID);
	ck_assert_uint_eq(o.exit_qual,
			  NEST_EPT_QUAL_READ | NEST_EPT_QUAL_WRITE | NEST_EPT_QUAL_GLA_VALID);
	/* The final access reads the read-only page; without A/D, so does the walk. */
	ck_assert_int_eq(
	    fault(&ad, 0x10008, NEST_ACC_R, NEST_TDP_F_GLA_VALID | NEST_TDP_F_FINAL).kind,
	    NEST_TDP_FIXED);
	ck_assert_int_eq(fault(&plain, 0x10008, NEST_ACC_R, NEST_TDP_F_GLA_VALID).kind,
			 NEST_TDP_FIXED);
	o = fault(&plain, 0x5000000, NEST_ACC_R, NEST_TDP_F_GLA_VALID);
	ck_assert_uint_eq(o.exit_qual, NEST_EPT_QUAL_READ | NEST_EPT_QUAL_GLA_VALID);
}
END_TEST

START_TEST(ept_mbec_user_fetch_reports_bit_6)
{
	struct nest_tdp_l1_root r = ept_root(0);
	struct nest_tdp_fault_out o;

	r.mbec = 1;
	tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_EPT_R | TB_EPT_UX | TB_EPT_MT(6),
		 TB_EPT_RWX | TB_EPT_UX);
	o = fault(&r, 0x10000, NEST_ACC_X, 0);
	ck_assert_int_eq(o.kind, NEST_TDP_REFLECT);
	ck_assert_uint_eq(o.exit_qual,
			  NEST_EPT_QUAL_FETCH | NEST_EPT_QUAL_READABLE | NEST_EPT_QUAL_USER_EXEC);
	o = fault(&r, 0x10000, NEST_ACC_X,
		  NEST_TDP_F_USER | NEST_TDP_F_GLA_VALID | NEST_TDP_F_FINAL);
	ck_assert_int_eq(o.kind, NEST_TDP_FIXED);
}
END_TEST

START_TEST(ept_misconfig_is_reported)
{
	struct nest_tdp_l1_root r = ept_root(0);
	struct nest_tdp_fault_out o;

	tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_EPT_RWX | TB_EPT_MT(2), TB_EPT_RWX);
	o = fault(&r, 0x10000, NEST_ACC_R, 0);
	ck_assert_int_eq(o.kind, NEST_TDP_MISCONFIG);
	ck_assert_uint_eq(o.gpa, 0x10000);
}
END_TEST

START_TEST(page_size_is_the_smaller_of_both_levels)
{
	struct nest_tdp_l1_root r = ept_root(0);
	struct nest_tdp_fault_out o;
	uint64_t i, e;
	unsigned lvl;

	/* L1: 2 MiB at L2 0x400000 -> L1 0x800000, and at 0x600000 -> 0xa00000. */
	tb_map64(&T, l1root, 4, 0x400000, 0x800000, 2, TB_EPT_RWX | TB_EPT_PS | TB_EPT_MT(6),
		 TB_EPT_RWX);
	tb_map64(&T, l1root, 4, 0x600000, 0xa00000, 2, TB_EPT_RWX | TB_EPT_PS | TB_EPT_MT(6),
		 TB_EPT_RWX);
	for (i = 0; i < 512; i++)
		tb_map(&T, 0x800000 + i * 4096, 0x40000000 + i * 4096, RWX, NEST_MT_WB, 21);
	o = fault(&r, 0x412345, NEST_ACC_R, 0);
	ck_assert_int_eq(o.kind, NEST_TDP_FIXED);
	ck_assert_uint_eq(o.page_shift, 21);
	ck_assert_uint_eq(o.hpa, 0x40012345);
	e = shadow_leaf(&r, 0x400000, &lvl);
	ck_assert_uint_eq(lvl, 2);
	ck_assert(e & TB_EPT_PS);
	/* L0 maps 0xa00000 with 4 KiB pages: the shadow uses 4 KiB. */
	o = fault(&r, 0x612345, NEST_ACC_R, 0);
	ck_assert_uint_eq(o.page_shift, 12);
	ck_assert_uint_eq(o.hpa, TB_HPA_BASE + 0xa12345);
	/* L1 4 KiB over L0 2 MiB: 4 KiB. */
	tb_map64(&T, l1root, 4, 0x20000, 0x801000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	o = fault(&r, 0x20000, NEST_ACC_R, 0);
	ck_assert_uint_eq(o.page_shift, 12);
	ck_assert_uint_eq(o.hpa, 0x40001000);
}
END_TEST

/* A watched L1 page: writes come to the caller before anything is built,
 * reads get a read-only 4 KiB entry even inside a large page on both
 * sides, and the rest of that large page stays writable. */
START_TEST(watched_page_writes_come_to_the_caller)
{
	struct nest_tdp_l1_root r = ept_root(0);
	struct nest_tdp_fault_out o;
	uint64_t i, e, page = 0x805000;
	unsigned lvl;

	tb_map64(&T, l1root, 4, 0x400000, 0x800000, 2, TB_EPT_RWX | TB_EPT_PS | TB_EPT_MT(6),
		 TB_EPT_RWX);
	for (i = 0; i < 512; i++)
		tb_map(&T, 0x800000 + i * 4096, 0x40000000 + i * 4096, RWX, NEST_MT_WB, 21);
	/* Built before the watch: a writable 2 MiB entry, which the watch drops. */
	ck_assert_uint_eq(fault(&r, 0x405000, NEST_ACC_W, 0).page_shift, 21);
	ck_assert_int_eq(nest_tdp_watch_writes(ctx, &page, 1), NEST_OK);
	ck_assert_uint_eq(shadow_leaf(&r, 0x405000, &lvl), 0);
	o = fault(&r, 0x405008, NEST_ACC_W, 0);
	ck_assert_int_eq(o.kind, NEST_TDP_WRITE_WATCHED);
	ck_assert_uint_eq(o.l1_gpa, 0x805008);
	ck_assert_uint_eq(shadow_leaf(&r, 0x405000, &lvl), 0);
	o = fault(&r, 0x405008, NEST_ACC_R, 0);
	ck_assert_int_eq(o.kind, NEST_TDP_FIXED);
	ck_assert_uint_eq(o.page_shift, 12);
	e = shadow_leaf(&r, 0x405000, &lvl);
	ck_assert_uint_eq(lvl, 1);
	ck_assert_uint_eq(e & TB_EPT_RWX, TB_EPT_R | TB_EPT_X);
	/* A neighbour in the same 2 MiB: writable, in 4 KiB. */
	o = fault(&r, 0x406000, NEST_ACC_W, 0);
	ck_assert_int_eq(o.kind, NEST_TDP_FIXED);
	ck_assert_uint_eq(o.page_shift, 12);
	/* Unwatched: the write goes through. */
	ck_assert_int_eq(nest_tdp_watch_writes(ctx, NULL, 0), NEST_OK);
	ck_assert_int_eq(fault(&r, 0x405008, NEST_ACC_W, 0).kind, NEST_TDP_FIXED);
	ck_assert_int_eq(nest_tdp_watch_writes(ctx, NULL, 1), NEST_E_INVAL);
	ck_assert_int_eq(nest_tdp_watch_writes(ctx, &page, NEST_TDP_MAX_WATCHED + 1),
			 NEST_E_INVAL);
}
END_TEST

START_TEST(one_gib_pages_on_both_sides_give_a_one_gib_shadow_page)
{
	struct nest_tdp_l1_root r = ept_root(0);
	struct nest_tdp_fault_out o;
	uint64_t g, e;
	unsigned lvl;

	/* L0 maps L1 [0, 1 GiB) as one 1 GiB page (its first 64 MiB exist). */
	for (g = 0; g < MEM; g += TB_PAGE)
		tb_map(&T, g, TB_HPA_BASE + g, RWX, NEST_MT_WB, 30);
	tb_map64(&T, l1root, 4, 0x80000000, 0, 3, TB_EPT_RWX | TB_EPT_PS | TB_EPT_MT(6),
		 TB_EPT_RWX);
	o = fault(&r, 0x80123456, NEST_ACC_R, 0);
	ck_assert_int_eq(o.kind, NEST_TDP_FIXED);
	ck_assert_uint_eq(o.page_shift, 30);
	ck_assert_uint_eq(o.hpa, TB_HPA_BASE + 0x123456);
	e = shadow_leaf(&r, 0x80000000, &lvl);
	ck_assert_uint_eq(lvl, 3);
	ck_assert_uint_eq(e & 0x000ffffffffff000ull, TB_HPA_BASE);
}
END_TEST

/* Memory type of the EPT02 leaf for L1 (mt1, ipat1) over L0 (mt0, ipat0). */
static uint64_t combined(uint8_t mt1, int ipat1, uint8_t mt0, int ipat0)
{
	struct nest_tdp_l1_root r = ept_root(0);
	unsigned lvl;

	tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1,
		 TB_EPT_RWX | TB_EPT_MT(mt1) | (ipat1 ? TB_EPT_IPAT : 0), TB_EPT_RWX);
	tb_map(&T, 0x200000, 0x200000, RWX, mt0, 12);
	T.ipat[0x200000 / TB_PAGE] = (uint8_t)ipat0;
	ck_assert_int_eq(nest_tdp_invalidate_all(ctx), NEST_OK);
	ck_assert_int_eq(fault(&r, 0x10000, NEST_ACC_R, 0).kind, NEST_TDP_FIXED);
	return shadow_leaf(&r, 0x10000, &lvl) & (TB_EPT_MT(7) | TB_EPT_IPAT);
}

START_TEST(memory_type_follows_sdm_combination)
{
	/* L0 WB: L1's choice stands, PAT still applies. */
	ck_assert_uint_eq(combined(NEST_MT_WC, 0, NEST_MT_WB, 0), TB_EPT_MT(NEST_MT_WC));
	/* L1 WB: L0's type, PAT still applies. */
	ck_assert_uint_eq(combined(NEST_MT_WB, 0, NEST_MT_UC, 0), TB_EPT_MT(NEST_MT_UC));
	/* L0 ignores PAT: L0's type wins outright. */
	ck_assert_uint_eq(combined(NEST_MT_WC, 1, NEST_MT_WT, 1),
			  TB_EPT_MT(NEST_MT_WT) | TB_EPT_IPAT);
	/* L1 ignores PAT: Table 11-7 of L0's type over L1's (WT over WP = WP). */
	ck_assert_uint_eq(combined(NEST_MT_WP, 1, NEST_MT_WT, 0),
			  TB_EPT_MT(NEST_MT_WP) | TB_EPT_IPAT);
	ck_assert_uint_eq(combined(NEST_MT_WB, 1, NEST_MT_WC, 0),
			  TB_EPT_MT(NEST_MT_WC) | TB_EPT_IPAT);
	/* Two different non-WB types with PAT in play: UC, the strongest. */
	ck_assert_uint_eq(combined(NEST_MT_WC, 0, NEST_MT_WT, 0),
			  TB_EPT_MT(NEST_MT_UC) | TB_EPT_IPAT);
}
END_TEST

START_TEST(l0_uc_minus_becomes_uc_never_a_misconfiguration)
{
	ck_assert_uint_eq(combined(NEST_MT_WB, 0, NEST_MT_UC_MINUS, 1),
			  TB_EPT_MT(NEST_MT_UC) | TB_EPT_IPAT);
	ck_assert_uint_eq(combined(NEST_MT_WB, 0, 3, 0), TB_EPT_MT(NEST_MT_UC));
}
END_TEST

START_TEST(ad_flags_set_and_clean_pages_write_protected)
{
	struct nest_tdp_l1_root r = ept_root(1);
	uint64_t leaf, e;
	unsigned lvl;

	leaf = tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	ck_assert_int_eq(fault(&r, 0x10000, NEST_ACC_R, 0).kind, NEST_TDP_FIXED);
	ck_assert_uint_eq(sim_read64(&T.sim, leaf) & (TB_EPT_A | TB_EPT_D), TB_EPT_A);
	ck_assert(sim_read64(&T.sim, l1root) & TB_EPT_A);
	e = shadow_leaf(&r, 0x10000, &lvl);
	ck_assert_uint_eq(e & TB_EPT_RWX, TB_EPT_R | TB_EPT_X); /* clean: no W yet */
	ck_assert_int_eq(fault(&r, 0x10000, NEST_ACC_W, 0).kind, NEST_TDP_FIXED);
	ck_assert_uint_eq(sim_read64(&T.sim, leaf) & (TB_EPT_A | TB_EPT_D), TB_EPT_A | TB_EPT_D);
	e = shadow_leaf(&r, 0x10000, &lvl);
	ck_assert_uint_eq(e & TB_EPT_RWX, TB_EPT_RWX);
	/* L1 cleans the page and flushes: writes fault again and re-dirty it. */
	sim_write64(&T.sim, leaf, sim_read64(&T.sim, leaf) & ~TB_EPT_D);
	ck_assert_int_eq(nest_tdp_invalidate_root(ctx, &r), NEST_OK);
	ck_assert_int_eq(fault(&r, 0x10000, NEST_ACC_R, 0).kind, NEST_TDP_FIXED);
	ck_assert_uint_eq(shadow_leaf(&r, 0x10000, &lvl) & TB_EPT_W, 0);
	ck_assert_uint_eq(sim_read64(&T.sim, leaf) & TB_EPT_D, 0);
}
END_TEST

/* A cmpxchg that always loses: L1 rewrites the entry each time. */
static int racing_cmpxchg(void *c, uint64_t gpa, uint64_t expected, uint64_t desired,
			  uint64_t *actual)
{
	(void)c;
	(void)gpa;
	(void)desired;
	*actual = expected ^ TB_EPT_A;
	return NEST_OK;
}

START_TEST(ad_update_racing_with_l1_asks_for_retry)
{
	struct nest_tdp_l1_root r = ept_root(1);
	struct nest_tdp_stats st;
	unsigned lvl;

	tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	T.ops.cmpxchg_l1 = racing_cmpxchg;
	ck_assert_int_eq(fault(&r, 0x10000, NEST_ACC_R, 0).kind, NEST_TDP_RETRY);
	ck_assert_uint_eq(shadow_leaf(&r, 0x10000, &lvl), 0);
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	nest_tdp_get_stats(ctx, &st);
	ck_assert_uint_eq(st.fixed, 0);
	T.ops.cmpxchg_l1 = tb_cmpxchg;
	ck_assert_int_eq(fault(&r, 0x10000, NEST_ACC_R, 0).kind, NEST_TDP_FIXED);
}
END_TEST

START_TEST(ad_flags_untouched_without_eptp_ad)
{
	struct nest_tdp_l1_root r = ept_root(0);
	uint64_t leaf;
	unsigned lvl;

	leaf = tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	ck_assert_int_eq(fault(&r, 0x10000, NEST_ACC_R, 0).kind, NEST_TDP_FIXED);
	ck_assert_uint_eq(sim_read64(&T.sim, leaf) & (TB_EPT_A | TB_EPT_D), 0);
	ck_assert_uint_eq(shadow_leaf(&r, 0x10000, &lvl) & TB_EPT_RWX, TB_EPT_RWX);
}
END_TEST

#define NPT_TBL (TB_P | TB_RW | TB_US)

START_TEST(npt_fault_reflects_exitinfo)
{
	struct nest_tdp_l1_root r = npt_root();
	struct nest_tdp_fault_out o;
	uint64_t leaf;

	leaf = tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_P | TB_US, NPT_TBL);
	o = fault(&r, 0x10004, NEST_ACC_W, NEST_TDP_F_FINAL);
	ck_assert_int_eq(o.kind, NEST_TDP_REFLECT);
	ck_assert_uint_eq(o.exitinfo1, NEST_NPF_P | NEST_NPF_W | NEST_NPF_U | NEST_NPF_FINAL);
	ck_assert_uint_eq(o.exitinfo2, 0x10004);
	o = fault(&r, 0x90000, NEST_ACC_R, 0);
	ck_assert_uint_eq(o.exitinfo1, NEST_NPF_U | NEST_NPF_WALK);
	sim_write64(&T.sim, leaf, 0x200000 | TB_P | TB_US | (1ull << MAXPHY));
	o = fault(&r, 0x10000, NEST_ACC_X, NEST_TDP_F_FINAL);
	ck_assert_uint_eq(o.exitinfo1,
			  NEST_NPF_P | NEST_NPF_RSVD | NEST_NPF_U | NEST_NPF_ID | NEST_NPF_FINAL);
	/* A supervisor-only nested page faults: nested walks are user accesses. */
	sim_write64(&T.sim, leaf, 0x200000 | TB_P | TB_RW);
	o = fault(&r, 0x10000, NEST_ACC_R, NEST_TDP_F_FINAL);
	ck_assert_uint_eq(o.exitinfo1, NEST_NPF_P | NEST_NPF_U | NEST_NPF_FINAL);
}
END_TEST

/* The I/D bit of a reflected #NPF is the #PF error code's: set for a fetch
 * only under L1's EFER.NXE or CR4.SMEP (APM 15.25.6, SDM 4.7). */
START_TEST(npt_fault_id_bit_follows_l1_nxe_and_smep)
{
	struct nest_tdp_l1_root r = npt_root();
	struct nest_tdp_fault_out o;
	uint64_t leaf;

	leaf = tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_P | TB_US, NPT_TBL);
	sim_write64(&T.sim, leaf, 0x200000 | TB_P | TB_US | (1ull << MAXPHY));
	r.efer &= ~X86_EFER_NXE;
	o = fault(&r, 0x10000, NEST_ACC_X, NEST_TDP_F_FINAL);
	ck_assert_int_eq(o.kind, NEST_TDP_REFLECT);
	ck_assert_uint_eq(o.exitinfo1, NEST_NPF_P | NEST_NPF_RSVD | NEST_NPF_U | NEST_NPF_FINAL);
	r.cr4 |= X86_CR4_SMEP;
	o = fault(&r, 0x10000, NEST_ACC_X, NEST_TDP_F_FINAL);
	ck_assert_uint_eq(o.exitinfo1,
			  NEST_NPF_P | NEST_NPF_RSVD | NEST_NPF_U | NEST_NPF_ID | NEST_NPF_FINAL);
}
END_TEST

/* A root built under one CR4 serves a later entry with another CR4.SMEP
 * (same paging mode): the error code follows the CR4 of this entry. */
START_TEST(npt_fault_id_bit_follows_the_current_smep_on_a_shared_root)
{
	struct nest_tdp_l1_root r = npt_root();
	struct nest_tdp_fault_out o;
	uint64_t leaf;

	r.efer &= ~X86_EFER_NXE;
	tb_map64(&T, l1root, 4, 0x20000, 0x300000, 1, TB_P | TB_US, NPT_TBL);
	ck_assert_int_eq(fault(&r, 0x20000, NEST_ACC_R, NEST_TDP_F_FINAL).kind, NEST_TDP_FIXED);
	leaf = tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_P | TB_US, NPT_TBL);
	sim_write64(&T.sim, leaf, 0x200000 | TB_P | TB_US | (1ull << MAXPHY));
	r.cr4 |= X86_CR4_SMEP;
	o = fault(&r, 0x10000, NEST_ACC_X, NEST_TDP_F_FINAL);
	ck_assert_int_eq(o.kind, NEST_TDP_REFLECT);
	ck_assert_uint_eq(o.exitinfo1,
			  NEST_NPF_P | NEST_NPF_RSVD | NEST_NPF_U | NEST_NPF_ID | NEST_NPF_FINAL);
}
END_TEST

START_TEST(npt_shadow_entry_is_user_nx_and_dirty_tracked)
{
	struct nest_tdp_l1_root r = npt_root();
	uint64_t leaf, e;
	unsigned lvl;

	leaf = tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_P | TB_US | TB_RW | TB_NX, NPT_TBL);
	ck_assert_int_eq(fault(&r, 0x10000, NEST_ACC_R, NEST_TDP_F_FINAL).kind, NEST_TDP_FIXED);
	ck_assert_uint_eq(sim_read64(&T.sim, leaf) & (TB_A | TB_D), TB_A);
	e = shadow_leaf(&r, 0x10000, &lvl);
	ck_assert_uint_eq(e & (TB_P | TB_US | TB_RW | TB_NX), TB_P | TB_US | TB_NX);
	ck_assert_uint_eq(e & 0x000ffffffffff000ull, TB_HPA_BASE + 0x200000);
	ck_assert_int_eq(fault(&r, 0x10000, NEST_ACC_W, NEST_TDP_F_FINAL).kind, NEST_TDP_FIXED);
	ck_assert_uint_eq(sim_read64(&T.sim, leaf) & (TB_A | TB_D), TB_A | TB_D);
	ck_assert(shadow_leaf(&r, 0x10000, &lvl) & TB_RW);
	ck_assert_int_eq(fault(&r, 0x10000, NEST_ACC_X, NEST_TDP_F_FINAL).kind, NEST_TDP_REFLECT);
}
END_TEST

START_TEST(npt_leaf_keeps_l1_pat_index_unless_l0_is_not_wb)
{
	struct nest_tdp_l1_root r = npt_root();
	unsigned lvl;

	tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_P | TB_US | TB_RW | TB_PWT, NPT_TBL);
	tb_map64(&T, l1root, 4, 0x11000, 0x201000, 1, TB_P | TB_US | TB_RW, NPT_TBL);
	tb_map(&T, 0x201000, 0x201000, RWX, NEST_MT_UC, 12);
	fault(&r, 0x10000, NEST_ACC_R, NEST_TDP_F_FINAL);
	fault(&r, 0x11000, NEST_ACC_R, NEST_TDP_F_FINAL);
	ck_assert_uint_eq(shadow_leaf(&r, 0x10000, &lvl) & (TB_PWT | TB_PCD | TB_PS), TB_PWT);
	ck_assert_uint_eq(shadow_leaf(&r, 0x11000, &lvl) & (TB_PWT | TB_PCD | TB_PS),
			  TB_PWT | TB_PCD);
}
END_TEST

START_TEST(npt_32bit_host_mode_is_shadowed)
{
	struct nest_tdp_l1_root r = npt_root();
	uint64_t pt = tb_new_table(&T);
	struct nest_tdp_fault_out o;

	r.cr4 = X86_CR4_PSE;
	r.efer = X86_EFER_SVME;
	sim_write32(&T.sim, l1root, (uint32_t)(pt | NPT_TBL));
	sim_write32(&T.sim, pt + 4 * 5, 0x00300000u | NPT_TBL);
	sim_write32(&T.sim, l1root + 4 * 2, 0x00c00000u | NPT_TBL | TB_PS);
	o = fault(&r, 0x5123, NEST_ACC_W, NEST_TDP_F_FINAL);
	ck_assert_int_eq(o.kind, NEST_TDP_FIXED);
	ck_assert_uint_eq(o.hpa, TB_HPA_BASE + 0x300123);
	o = fault(&r, 0x00812345, NEST_ACC_R, NEST_TDP_F_FINAL);
	ck_assert_int_eq(o.kind, NEST_TDP_FIXED);
	ck_assert_uint_eq(o.l1_gpa, 0x00c12345);
}
END_TEST

START_TEST(root_cache_reuses_roots_across_entries)
{
	struct nest_tdp_l1_root r = ept_root(0), r2 = ept_root(1);
	struct nest_tdp_root_info a, b, c;
	struct nest_tdp_stats st;

	ck_assert_int_eq(nest_tdp_root(ctx, &r, &a), NEST_OK);
	ck_assert_uint_eq(a.created, 1);
	ck_assert_uint_eq(a.pointer, a.hpa | 6 | (3 << 3));
	ck_assert_int_eq(nest_tdp_root(ctx, &r, &b), NEST_OK);
	ck_assert_uint_eq(b.hpa, a.hpa);
	ck_assert_uint_eq(b.created, 0);
	/* The A/D bit is part of the key, and of EPTP02. */
	ck_assert_int_eq(nest_tdp_root(ctx, &r2, &c), NEST_OK);
	ck_assert_uint_ne(c.hpa, a.hpa);
	ck_assert_uint_eq(c.pointer & (1 << 6), 1 << 6);
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	ck_assert_int_eq(nest_tdp_get_stats(ctx, &st), NEST_OK);
	ck_assert_uint_eq(st.root_hits, 1);
	ck_assert_uint_eq(st.root_misses, 2);
	ck_assert_uint_eq(st.roots, 2);
	ck_assert_uint_eq(st.pages_in_use, 2);
}
END_TEST

START_TEST(five_level_ept12_gets_five_level_ept02)
{
	struct nest_tdp_l1_root r = ept_root(0);
	struct nest_tdp_root_info info;
	struct nest_tdp_fault_out o;
	uint64_t gpa = (5ull << 48) | 0x3000;

	r.pointer = TB_EPTP(l1root, 5, 0);
	tb_map64(&T, l1root, 5, gpa, 0x200000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	ck_assert_int_eq(nest_tdp_root(ctx, &r, &info), NEST_OK);
	ck_assert_uint_eq(info.levels, 5);
	ck_assert_uint_eq(info.pointer, info.hpa | 6 | (4 << 3));
	o = fault(&r, gpa, NEST_ACC_W, 0);
	ck_assert_int_eq(o.kind, NEST_TDP_FIXED);
	ck_assert_uint_eq(o.hpa, TB_HPA_BASE + 0x200000);
}
END_TEST

START_TEST(npt02_is_long_mode_whatever_l1_host_mode)
{
	struct nest_tdp_l1_root r = npt_root();
	struct nest_tdp_root_info info;

	r.cr4 = X86_CR4_PAE;
	r.efer = 0; /* L1 runs PAE paging: NPT12 is PAE, NPT02 still 4-level long mode */
	ck_assert_int_eq(nest_tdp_root(ctx, &r, &info), NEST_OK);
	ck_assert_uint_eq(info.levels, 4);
	ck_assert_uint_eq(info.pointer, info.hpa);
	r.cr0 = 0; /* no paging: no nested paging either */
	ck_assert_int_eq(nest_tdp_root(ctx, &r, &info), NEST_E_INVAL);
}
END_TEST

START_TEST(bad_eptp_is_rejected)
{
	struct nest_tdp_l1_root r = ept_root(0);
	struct nest_tdp_root_info info;

	r.pointer |= 0x800; /* reserved bit 11 */
	ck_assert_int_eq(nest_tdp_root(ctx, &r, &info), NEST_E_INVAL);
	r = ept_root(0);
	r.kind = 7;
	ck_assert_int_eq(nest_tdp_root(ctx, &r, &info), NEST_E_INVAL);
}
END_TEST

START_TEST(invept_single_context_empties_that_root_only)
{
	struct nest_tdp_l1_root r = ept_root(0), r2 = ept_root(1);
	struct nest_tdp_root_info info;
	unsigned lvl;

	tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	r2.pointer = TB_EPTP(tb_new_table(&T), 4, 1); /* another EPT12 */
	tb_map64(&T, r2.pointer & ~0xfffull, 4, 0x10000, 0x200000, 1, TB_EPT_RWX | TB_EPT_MT(6),
		 TB_EPT_RWX);
	ck_assert_int_eq(fault(&r, 0x10000, NEST_ACC_R, 0).kind, NEST_TDP_FIXED);
	ck_assert_int_eq(fault(&r2, 0x10000, NEST_ACC_R, 0).kind, NEST_TDP_FIXED);
	ck_assert_int_eq(nest_tdp_root(ctx, &r, &info), NEST_OK);
	T.sim.nflushes = 0;
	ck_assert_int_eq(nest_tdp_invalidate_root(ctx, &r), NEST_OK);
	ck_assert_uint_eq(T.sim.nflushes, 1);
	ck_assert_uint_eq(T.sim.flushes[0].kind, NEST_FLUSH_EPT_CONTEXT);
	ck_assert_uint_eq(T.sim.flushes[0].tag, info.pointer);
	ck_assert_uint_eq(shadow_leaf(&r, 0x10000, &lvl), 0);
	ck_assert_uint_ne(shadow_leaf(&r2, 0x10000, &lvl), 0);
	/* The root page itself stays: vmcs02 keeps pointing at it. */
	ck_assert_int_eq(nest_tdp_root(ctx, &r, &info), NEST_OK);
	ck_assert_ptr_nonnull(sim_pool_hva(&T.sim, info.hpa));
}
END_TEST

START_TEST(invept_single_context_matches_address_bits_only)
{
	struct nest_tdp_l1_root r = ept_root(0), r_ad = ept_root(1), other = ept_root(0);
	unsigned lvl;

	tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	other.pointer = TB_EPTP(tb_new_table(&T), 4, 0);
	tb_map64(&T, other.pointer & ~0xfffull, 4, 0x10000, 0x200000, 1, TB_EPT_RWX | TB_EPT_MT(6),
		 TB_EPT_RWX);
	fault(&r, 0x10000, NEST_ACC_R, 0);
	fault(&r_ad, 0x10000, NEST_ACC_R, 0);
	fault(&other, 0x10000, NEST_ACC_R, 0);
	/* INVEPT with the A/D variant (and a memory type INVEPT ignores) drops both. */
	r_ad.pointer = (r_ad.pointer & ~7ull) | 0;
	ck_assert_int_eq(nest_tdp_invalidate_root(ctx, &r_ad), NEST_OK);
	ck_assert_uint_eq(shadow_leaf(&r, 0x10000, &lvl), 0);
	ck_assert_uint_eq(shadow_leaf(&other, 0x10000, &lvl) & 0x000ffffffffff000ull,
			  TB_HPA_BASE + 0x200000);
}
END_TEST

START_TEST(invept_global_empties_every_root)
{
	struct nest_tdp_l1_root r = ept_root(0), r2 = ept_root(1);
	struct nest_tdp_stats st;
	unsigned lvl;

	tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	fault(&r, 0x10000, NEST_ACC_R, 0);
	fault(&r2, 0x10000, NEST_ACC_R, 0);
	ck_assert_int_eq(nest_tdp_invalidate_all(ctx), NEST_OK);
	ck_assert_uint_eq(shadow_leaf(&r, 0x10000, &lvl), 0);
	ck_assert_uint_eq(shadow_leaf(&r2, 0x10000, &lvl), 0);
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	nest_tdp_get_stats(ctx, &st);
	ck_assert_uint_eq(st.pages_in_use, 2);
}
END_TEST

/* A flush that changed nothing keeps every leaf; the stats say so. */
static struct nest_tdp_stats tdp_stats(void)
{
	struct nest_tdp_stats st;

	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	ck_assert_int_eq(nest_tdp_get_stats(ctx, &st), NEST_OK);
	return st;
}

START_TEST(sync_keeps_what_l1_did_not_change)
{
	struct nest_tdp_l1_root r = npt_root();
	struct nest_tdp_root_info info;
	struct nest_tdp_stats st;
	uint64_t e1, e2, leaf2;
	unsigned lvl;

	tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_P | TB_US | TB_RW, NPT_TBL);
	leaf2 = tb_map64(&T, l1root, 4, 0x11000, 0x201000, 1, TB_P | TB_US | TB_RW, NPT_TBL);
	ck_assert_int_eq(fault(&r, 0x10000, NEST_ACC_W, NEST_TDP_F_FINAL).kind, NEST_TDP_FIXED);
	ck_assert_int_eq(fault(&r, 0x11000, NEST_ACC_R, NEST_TDP_F_FINAL).kind, NEST_TDP_FIXED);
	e1 = shadow_leaf(&r, 0x10000, &lvl);
	e2 = shadow_leaf(&r, 0x11000, &lvl);
	ck_assert(e1 & TB_RW);
	ck_assert(!(e2 & TB_RW)); /* L1's leaf is clean */
	/* L1 flushes without a change: both stay as they were. The two walks
	 * read the three upper entries they share once (3 + 2 reads, not 8). */
	T.sim.calls.read_l1 = 0;
	ck_assert_int_eq(nest_tdp_sync_root(ctx, &r), NEST_OK);
	ck_assert_uint_eq(T.sim.calls.read_l1, 5);
	/* Hardware must still forget what it cached from the root. */
	ck_assert_int_eq(nest_tdp_root(ctx, &r, &info), NEST_OK);
	ck_assert(info.created);
	ck_assert_uint_eq(shadow_leaf(&r, 0x10000, &lvl), e1);
	ck_assert_uint_eq(shadow_leaf(&r, 0x11000, &lvl), e2);
	st = tdp_stats();
	ck_assert_uint_eq(st.sync_kept, 2);
	ck_assert_uint_eq(st.sync_dropped, 0);
	ck_assert_uint_eq(st.invalidations, 0);
	/* L1 moves the second page: that leaf goes, the first stays. */
	sim_write64(&T.sim, leaf2, 0x202000 | TB_P | TB_US | TB_RW | TB_A);
	ck_assert_int_eq(nest_tdp_sync_root(ctx, &r), NEST_OK);
	ck_assert_uint_eq(shadow_leaf(&r, 0x10000, &lvl), e1);
	ck_assert_uint_eq(shadow_leaf(&r, 0x11000, &lvl), 0);
	st = tdp_stats();
	ck_assert_uint_eq(st.sync_kept, 3);
	ck_assert_uint_eq(st.sync_dropped, 1);
	ck_assert_int_eq(fault(&r, 0x11000, NEST_ACC_R, NEST_TDP_F_FINAL).kind, NEST_TDP_FIXED);
	ck_assert_uint_eq(shadow_leaf(&r, 0x11000, &lvl) & 0x000ffffffffff000ull,
			  TB_HPA_BASE + 0x202000);
}
END_TEST

/* What the processor would set again after the flush must fault again:
 * an accessed flag L1 cleared anywhere on the path, a dirty flag under a
 * writable leaf, and narrower rights or another memory type. */
START_TEST(sync_drops_leaves_whose_flags_or_rights_changed)
{
	struct nest_tdp_l1_root r = ept_root(1);
	uint64_t leaf1, leaf2, leaf3, e3;
	unsigned lvl;

	leaf1 = tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	leaf2 = tb_map64(&T, l1root, 4, 0x11000, 0x201000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	leaf3 = tb_map64(&T, l1root, 4, 0x12000, 0x202000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	ck_assert_int_eq(fault(&r, 0x10000, NEST_ACC_W, 0).kind, NEST_TDP_FIXED);
	ck_assert_int_eq(fault(&r, 0x11000, NEST_ACC_W, 0).kind, NEST_TDP_FIXED);
	ck_assert_int_eq(fault(&r, 0x12000, NEST_ACC_W, 0).kind, NEST_TDP_FIXED);
	/* Page 1: L1 clears A; page 2: L1 clears D under a writable leaf;
	 * page 3: L1 makes it read-only and UC. */
	sim_write64(&T.sim, leaf1, sim_read64(&T.sim, leaf1) & ~TB_EPT_A);
	sim_write64(&T.sim, leaf2, sim_read64(&T.sim, leaf2) & ~TB_EPT_D);
	sim_write64(&T.sim, leaf3, 0x202000 | TB_EPT_R | TB_EPT_X | TB_EPT_MT(0) | TB_EPT_A);
	ck_assert_int_eq(nest_tdp_sync_root(ctx, &r), NEST_OK);
	ck_assert_uint_eq(shadow_leaf(&r, 0x10000, &lvl), 0);
	ck_assert_uint_eq(shadow_leaf(&r, 0x11000, &lvl), 0);
	ck_assert_uint_eq(shadow_leaf(&r, 0x12000, &lvl), 0);
	/* The next accesses set the flags again, as on the processor. */
	ck_assert_int_eq(fault(&r, 0x10000, NEST_ACC_R, 0).kind, NEST_TDP_FIXED);
	ck_assert(sim_read64(&T.sim, leaf1) & TB_EPT_A);
	ck_assert_int_eq(fault(&r, 0x12000, NEST_ACC_R, 0).kind, NEST_TDP_FIXED);
	e3 = shadow_leaf(&r, 0x12000, &lvl);
	ck_assert_uint_eq(e3 & TB_EPT_RWX, TB_EPT_R | TB_EPT_X);
	ck_assert_uint_eq((e3 >> 3) & 7, 0);
	/* A cleared accessed flag higher up drops every leaf below it. */
	sim_write64(&T.sim, l1root, sim_read64(&T.sim, l1root) & ~TB_EPT_A);
	ck_assert_int_eq(nest_tdp_sync_root(ctx, &r), NEST_OK);
	ck_assert_uint_eq(shadow_leaf(&r, 0x10000, &lvl), 0);
	ck_assert_uint_eq(shadow_leaf(&r, 0x12000, &lvl), 0);
}
END_TEST

/* A large root is not re-read leaf by leaf: it is dropped whole. */
START_TEST(sync_of_a_large_root_drops_it)
{
	struct nest_tdp_l1_root r = npt_root();
	struct nest_tdp_stats st;
	unsigned i, lvl;

	for (i = 0; i < 600; i++) {
		tb_map64(&T, l1root, 4, 0x100000 + i * 0x1000ull, 0x200000 + i * 0x1000ull, 1,
			 TB_P | TB_US | TB_RW | TB_A, NPT_TBL);
		ck_assert_int_eq(fault(&r, 0x100000 + i * 0x1000ull, NEST_ACC_R, NEST_TDP_F_FINAL).kind,
				 NEST_TDP_FIXED);
	}
	ck_assert_int_eq(nest_tdp_sync_root(ctx, &r), NEST_OK);
	st = tdp_stats();
	ck_assert_uint_eq(st.invalidations, 1);
	ck_assert_uint_eq(shadow_leaf(&r, 0x100000, &lvl), 0);
	ck_assert_uint_eq(shadow_leaf(&r, 0x100000 + 599 * 0x1000ull, &lvl), 0);
}
END_TEST

START_TEST(invalidate_range_drops_only_that_range)
{
	struct nest_tdp_l1_root r = ept_root(0);
	unsigned lvl;

	tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	tb_map64(&T, l1root, 4, 0x11000, 0x201000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	fault(&r, 0x10000, NEST_ACC_R, 0);
	fault(&r, 0x11000, NEST_ACC_R, 0);
	ck_assert_int_eq(nest_tdp_invalidate_range(ctx, &r, 0x11000, 0x1000), NEST_OK);
	ck_assert_uint_ne(shadow_leaf(&r, 0x10000, &lvl), 0);
	ck_assert_uint_eq(shadow_leaf(&r, 0x11000, &lvl), 0);
}
END_TEST

START_TEST(l1_map_change_drops_entries_into_the_range)
{
	struct nest_tdp_l1_root r = ept_root(0);
	struct nest_tdp_fault_out o;
	unsigned lvl;

	/* Two L2 regions far apart (different shadow tables). */
	tb_map64(&T, l1root, 4, 0x10000, 0x200000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	tb_map64(&T, l1root, 4, 0x40000000, 0x300000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	fault(&r, 0x10000, NEST_ACC_R, 0);
	fault(&r, 0x40000000, NEST_ACC_R, 0);
	/* L0 migrates L1 page 0x300000 elsewhere. */
	tb_map(&T, 0x300000, 0x7770000, RWX, NEST_MT_WB, 12);
	ck_assert_int_eq(nest_tdp_l1_map_changed(ctx, 0x300000, 0x1000), NEST_OK);
	ck_assert_uint_ne(shadow_leaf(&r, 0x10000, &lvl), 0);
	ck_assert_uint_eq(shadow_leaf(&r, 0x40000000, &lvl), 0);
	o = fault(&r, 0x40000000, NEST_ACC_R, 0);
	ck_assert_uint_eq(o.hpa, 0x7770000);
	/* L0 balloons it out: L2's next access goes to L0. */
	tb_unmap(&T, 0x300000);
	nest_tdp_l1_map_changed(ctx, 0x300000, 0x1000);
	ck_assert_int_eq(fault(&r, 0x40000000, NEST_ACC_R, 0).kind, NEST_TDP_L0);
}
END_TEST

/* The reverse map: one page's change clears exactly the leaves that lead
 * into it, in the same shadow table as others that stay, in every root
 * that maps it, and 2 MiB leaves that contain it. */
START_TEST(l1_map_change_clears_only_leaves_into_that_page)
{
	struct nest_tdp_l1_root r = ept_root(0), r2;
	uint64_t root2 = tb_new_table(&T), i;
	unsigned lvl;

	memset(&r2, 0, sizeof(r2));
	r2.kind = NEST_TDP_EPT;
	r2.pointer = TB_EPTP(root2, 4, 0);
	/* L2 pages 0..7 -> L1 0x200000 + i*4K in one shadow table; L2 page 8 also
	 * leads to L1 0x203000 (an alias); root 2 maps L1 0x203000 too. */
	for (i = 0; i < 8; i++)
		tb_map64(&T, l1root, 4, i << 12, 0x200000 + (i << 12), 1, TB_EPT_RWX | TB_EPT_MT(6),
			 TB_EPT_RWX);
	tb_map64(&T, l1root, 4, 8 << 12, 0x203000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	tb_map64(&T, root2, 4, 0x5000, 0x203000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	for (i = 0; i <= 8; i++)
		ck_assert_int_eq(fault(&r, i << 12, NEST_ACC_R, 0).kind, NEST_TDP_FIXED);
	ck_assert_int_eq(fault(&r2, 0x5000, NEST_ACC_R, 0).kind, NEST_TDP_FIXED);
	ck_assert_int_eq(nest_tdp_l1_map_changed(ctx, 0x203000, 0x1000), NEST_OK);
	for (i = 0; i < 8; i++)
		if (i == 3)
			ck_assert_uint_eq(shadow_leaf(&r, i << 12, &lvl), 0);
		else
			ck_assert_uint_ne(shadow_leaf(&r, i << 12, &lvl), 0);
	ck_assert_uint_eq(shadow_leaf(&r, 8 << 12, &lvl), 0);
	ck_assert_uint_eq(shadow_leaf(&r2, 0x5000, &lvl), 0);
	/* Rebuilt, then changed again: the map follows the new leaves. */
	ck_assert_int_eq(fault(&r, 3 << 12, NEST_ACC_R, 0).kind, NEST_TDP_FIXED);
	ck_assert_int_eq(nest_tdp_l1_map_changed(ctx, 0x203000, 0x1000), NEST_OK);
	ck_assert_uint_eq(shadow_leaf(&r, 3 << 12, &lvl), 0);
	ck_assert_uint_ne(shadow_leaf(&r, 4 << 12, &lvl), 0);
	/* A 2 MiB leaf on both sides goes when one 4 KiB page inside it changes. */
	tb_map64(&T, l1root, 4, 0x400000, 0x800000, 2, TB_EPT_RWX | TB_EPT_PS | TB_EPT_MT(6),
		 TB_EPT_RWX);
	for (i = 0; i < 512; i++)
		tb_map(&T, 0x800000 + i * 4096, TB_HPA_BASE + 0x40000000 + i * 4096, RWX,
		       NEST_MT_WB, 21);
	ck_assert_uint_eq(fault(&r, 0x400000, NEST_ACC_R, 0).page_shift, 21);
	ck_assert_int_eq(nest_tdp_l1_map_changed(ctx, 0x9ff000, 0x1000), NEST_OK);
	ck_assert_uint_eq(shadow_leaf(&r, 0x400000, &lvl), 0);
	ck_assert_uint_ne(shadow_leaf(&r, 4 << 12, &lvl), 0);
}
END_TEST

/* With a reverse map too small for the leaves, a change falls back to the
 * scan and still drops every leaf into the page. */
START_TEST(l1_map_change_with_a_full_reverse_map_scans)
{
	struct nest_tdp_config c = config(64, 4);
	struct nest_tdp_l1_root r = ept_root(0);
	uint64_t i;
	unsigned lvl;
	size_t n;

	nest_tdp_fini(ctx);
	free(ctx_mem);
	c.rmap_entries = 2;
	n = nest_tdp_size(&c);
	ctx_mem = aligned_alloc(64, (n + 63) & ~(size_t)63);
	ck_assert_int_eq(nest_tdp_init(ctx_mem, n, &T.be, &c, &ctx), NEST_OK);
	for (i = 0; i < 6; i++) {
		tb_map64(&T, l1root, 4, i << 12, 0x200000 + (i << 12), 1, TB_EPT_RWX | TB_EPT_MT(6),
			 TB_EPT_RWX);
		ck_assert_int_eq(fault(&r, i << 12, NEST_ACC_R, 0).kind, NEST_TDP_FIXED);
	}
	/* Pages 0 and 1 have entries; 2..5 do not fit. */
	ck_assert_int_eq(nest_tdp_l1_map_changed(ctx, 0x204000, 0x1000), NEST_OK);
	ck_assert_uint_eq(shadow_leaf(&r, 4 << 12, &lvl), 0);
	/* An older caller's configuration (no rmap_entries) is taken. */
	c.size = NEST_TDP_CONFIG_MIN_SIZE;
	ck_assert_uint_gt(nest_tdp_size(&c), 0);
}
END_TEST

START_TEST(memory_stays_bounded_by_reclaim)
{
	struct nest_tdp_l1_root r;
	struct nest_tdp_stats st;
	uint64_t roots[6];
	unsigned i, j;

	nest_tdp_fini(ctx);
	free(ctx_mem);
	open_ctx(8, 4);
	for (i = 0; i < 6; i++) {
		roots[i] = tb_new_table(&T);
		for (j = 0; j < 4; j++)
			tb_map64(&T, roots[i], 4, (uint64_t)j << 30, 0x200000 + j * 4096, 1,
				 TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	}
	for (i = 0; i < 24; i++) {
		memset(&r, 0, sizeof(r));
		r.kind = NEST_TDP_EPT;
		r.pointer = TB_EPTP(roots[i % 6], 4, 0);
		ck_assert_int_eq(fault(&r, (uint64_t)(i % 4) << 30, NEST_ACC_R, 0).kind,
				 NEST_TDP_FIXED);
		memset(&st, 0, sizeof(st));
		st.size = sizeof(st);
		nest_tdp_get_stats(ctx, &st);
		ck_assert_uint_le(st.pages_in_use, 8);
		ck_assert_uint_le(st.roots, 4);
		ck_assert_uint_le(T.sim.pool_in_use, 8);
	}
	ck_assert_uint_gt(st.reclaims, 0);
}
END_TEST

START_TEST(init_rejects_bad_arguments)
{
	struct nest_tdp_config c = config(128, 4);
	struct nest_tdp *t;
	static _Alignas(16) uint64_t small[16];

	ck_assert_int_eq(nest_tdp_init(small, sizeof(small), &T.be, &c, &t), NEST_E_NOSPC);
	c.max_roots = 0;
	ck_assert_uint_eq(nest_tdp_size(&c), 0);
	c = config(128, 4);
	c.max_page_shift = 13;
	ck_assert_uint_eq(nest_tdp_size(&c), 0);
	c = config(128, 4);
	c.size = 4;
	ck_assert_int_eq(nest_tdp_init(small, sizeof(small), &T.be, &c, &t), NEST_E_SIZE);
	ck_assert_int_eq(nest_tdp_fault(NULL, NULL, NULL, NULL), NEST_E_INVAL);
}
END_TEST

static Suite *tdp_suite(void)
{
	Suite *s = suite_create("tdp");
	TCase *f = tcase_create("fault"), *c = tcase_create("cache"), *n = tcase_create("npt");

	tcase_add_checked_fixture(f, setup, teardown);
	tcase_add_checked_fixture(c, setup, teardown);
	tcase_add_checked_fixture(n, setup, teardown);
	tcase_add_test(f, fault_installs_intersection_of_l1_and_l0_rights);
	tcase_add_test(f, access_l0_denies_goes_to_l0);
	tcase_add_test(f, unmapped_l1_memory_goes_to_l0);
	tcase_add_test(f, unreadable_l1_table_goes_to_l0);
	tcase_add_test(f, ept_violation_has_sdm_exit_qualification);
	tcase_add_test(f, ept_ad_paging_structure_access_is_a_write_reporting_read_and_write);
	tcase_add_test(f, ept_mbec_user_fetch_reports_bit_6);
	tcase_add_test(f, ept_misconfig_is_reported);
	tcase_add_test(f, page_size_is_the_smaller_of_both_levels);
	tcase_add_test(f, one_gib_pages_on_both_sides_give_a_one_gib_shadow_page);
	tcase_add_test(f, memory_type_follows_sdm_combination);
	tcase_add_test(f, l0_uc_minus_becomes_uc_never_a_misconfiguration);
	tcase_add_test(f, ad_flags_set_and_clean_pages_write_protected);
	tcase_add_test(f, ad_flags_untouched_without_eptp_ad);
	tcase_add_test(f, ad_update_racing_with_l1_asks_for_retry);
	tcase_add_test(n, npt_fault_reflects_exitinfo);
	tcase_add_test(n, watched_page_writes_come_to_the_caller);
	tcase_add_test(n, npt_fault_id_bit_follows_l1_nxe_and_smep);
	tcase_add_test(n, npt_fault_id_bit_follows_the_current_smep_on_a_shared_root);
	tcase_add_test(n, npt_shadow_entry_is_user_nx_and_dirty_tracked);
	tcase_add_test(n, npt_leaf_keeps_l1_pat_index_unless_l0_is_not_wb);
	tcase_add_test(n, npt_32bit_host_mode_is_shadowed);
	tcase_add_test(c, root_cache_reuses_roots_across_entries);
	tcase_add_test(c, five_level_ept12_gets_five_level_ept02);
	tcase_add_test(c, npt02_is_long_mode_whatever_l1_host_mode);
	tcase_add_test(c, bad_eptp_is_rejected);
	tcase_add_test(c, invept_single_context_empties_that_root_only);
	tcase_add_test(c, invept_single_context_matches_address_bits_only);
	tcase_add_test(c, invept_global_empties_every_root);
	tcase_add_test(c, invalidate_range_drops_only_that_range);
	tcase_add_test(c, sync_keeps_what_l1_did_not_change);
	tcase_add_test(c, sync_drops_leaves_whose_flags_or_rights_changed);
	tcase_add_test(c, sync_of_a_large_root_drops_it);
	tcase_add_test(c, l1_map_change_drops_entries_into_the_range);
	tcase_add_test(c, l1_map_change_clears_only_leaves_into_that_page);
	tcase_add_test(c, l1_map_change_with_a_full_reverse_map_scans);
	tcase_add_test(c, memory_stays_bounded_by_reclaim);
	tcase_add_test(c, init_rejects_bad_arguments);
	suite_add_tcase(s, f);
	suite_add_tcase(s, n);
	suite_add_tcase(s, c);
	return s;
}

int main(void)
{
	return nest_test_run(tdp_suite());
}
