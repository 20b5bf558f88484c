/* SPDX-License-Identifier: MIT */
/* Unit tests of the EPT and x86 page walkers against hand-built tables. */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include <nest/nest.h>

#include "cpu/x86.h"
#include "tdp_testlib.h"

#define MEM (64ull << 20)
#define MAXPHY 46

static struct tb T;
static uint64_t root;

static void setup(void)
{
	ck_assert_int_eq(tb_init(&T, MEM, 64), 0);
	root = tb_new_table(&T);
}

static void teardown(void)
{
	tb_fini(&T);
}

static struct nest_ept_config ept_cfg(uint64_t caps, int mbec)
{
	struct nest_ept_config c;

	memset(&c, 0, sizeof(c));
	c.ept_vpid_cap = caps;
	c.maxphyaddr = MAXPHY;
	c.mbec = (uint8_t)mbec;
	return c;
}

static struct nest_walk_result ept(uint64_t caps, int mbec, uint64_t eptp, uint64_t gpa,
				   uint32_t acc, uint32_t flags)
{
	struct nest_ept_config c = ept_cfg(caps, mbec);
	struct nest_walk_result r;

	ck_assert_int_eq(nest_ept_walk(&T.be, &c, eptp, gpa, acc, flags, &r), NEST_OK);
	return r;
}

/* ---------------- EPT ---------------- */

START_TEST(ept_4k_leaf_translates_with_offset_and_memtype)
{
	struct nest_walk_result r;

	tb_map64(&T, root, 4, 0x12345000, 0x800000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	r = ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 0), 0x12345abc, NEST_ACC_R, 0);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
	ck_assert_uint_eq(r.addr, 0x800abc);
	ck_assert_uint_eq(r.page_shift, 12);
	ck_assert_uint_eq(r.memtype, NEST_MT_WB);
	ck_assert_uint_eq(r.levels, 4);
	ck_assert_uint_eq(r.level, 1);
	ck_assert_uint_eq(r.rights, NEST_ACC_R | NEST_ACC_W | NEST_ACC_X | NEST_ACC_UX);
}
END_TEST

START_TEST(ept_2m_and_1g_leaves_translate)
{
	struct nest_walk_result r;

	tb_map64(&T, root, 4, 0x40000000, 0x1200000, 2, TB_EPT_RWX | TB_EPT_PS | TB_EPT_MT(0),
		 TB_EPT_RWX);
	tb_map64(&T, root, 4, 0x80000000, 0x40000000, 3,
		 TB_EPT_R | TB_EPT_PS | TB_EPT_MT(6) | TB_EPT_IPAT, TB_EPT_RWX);
	r = ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 0), 0x40123456, NEST_ACC_W, 0);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
	ck_assert_uint_eq(r.addr, 0x1323456);
	ck_assert_uint_eq(r.page_shift, 21);
	ck_assert_uint_eq(r.memtype, NEST_MT_UC);
	r = ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 0), 0x8abcdef0, NEST_ACC_R, 0);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
	ck_assert_uint_eq(r.addr, 0x4abcdef0);
	ck_assert_uint_eq(r.page_shift, 30);
	ck_assert_uint_eq(r.ipat, 1);
}
END_TEST

START_TEST(ept_5level_walk_uses_bits_56_48)
{
	struct nest_walk_result r;
	uint64_t gpa = (3ull << 48) | 0x5000;

	tb_map64(&T, root, 5, gpa, 0x9000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	r = ept(TB_EPT_CAPS, 0, TB_EPTP(root, 5, 0), gpa | 8, NEST_ACC_X, 0);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
	ck_assert_uint_eq(r.addr, 0x9008);
	ck_assert_uint_eq(r.levels, 5);
	/* The same address through a 4-level walk is outside its 48 bits. */
	r = ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 0), gpa, NEST_ACC_R, 0);
	ck_assert_int_eq(r.status, NEST_WALK_FAULT);
}
END_TEST

START_TEST(ept_violation_reports_rights_anded_over_levels)
{
	struct nest_walk_result r;

	/* Tables RWX, leaf R+X: a write is a violation; rights R and X. */
	tb_map64(&T, root, 4, 0x1000, 0x2000, 1, TB_EPT_R | TB_EPT_X | TB_EPT_MT(6), TB_EPT_RWX);
	r = ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 0), 0x1000, NEST_ACC_W, 0);
	ck_assert_int_eq(r.status, NEST_WALK_FAULT);
	ck_assert_uint_eq(r.rights, NEST_ACC_R | NEST_ACC_X | NEST_ACC_UX);
	/* Not present: rights 0, level where it stopped. */
	r = ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 0), 0x7f000000000ull, NEST_ACC_R, 0);
	ck_assert_int_eq(r.status, NEST_WALK_FAULT);
	ck_assert_uint_eq(r.rights, 0);
	ck_assert_uint_eq(r.level, 4);
}
END_TEST

START_TEST(ept_write_without_read_is_misconfig)
{
	tb_map64(&T, root, 4, 0x1000, 0x2000, 1, TB_EPT_W | TB_EPT_MT(6), TB_EPT_RWX);
	ck_assert_int_eq(ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 0), 0x1000, NEST_ACC_R, 0).status,
			 NEST_WALK_MISCONFIG);
}
END_TEST

START_TEST(ept_execute_only_needs_capability)
{
	tb_map64(&T, root, 4, 0x1000, 0x2000, 1, TB_EPT_X | TB_EPT_MT(6), TB_EPT_RWX);
	ck_assert_int_eq(ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 0), 0x1000, NEST_ACC_X, 0).status,
			 NEST_WALK_OK);
	ck_assert_int_eq(ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 0), 0x1000, NEST_ACC_R, 0).status,
			 NEST_WALK_FAULT);
	ck_assert_int_eq(ept(TB_EPT_CAPS & ~NEST_EPT_CAP_EXEC_ONLY, 0, TB_EPTP(root, 4, 0), 0x1000,
			     NEST_ACC_X, 0)
			     .status,
			 NEST_WALK_MISCONFIG);
}
END_TEST

START_TEST(ept_reserved_bits_are_misconfig)
{
	uint64_t ea;

	/* Address bit above MAXPHYADDR in a leaf. */
	ea = tb_map64(&T, root, 4, 0x1000, 0x2000 | (1ull << MAXPHY), 1, TB_EPT_RWX | TB_EPT_MT(6),
		      TB_EPT_RWX);
	ck_assert_int_eq(ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 0), 0x1000, NEST_ACC_R, 0).status,
			 NEST_WALK_MISCONFIG);
	/* Memory type bits in a non-leaf entry (bits 6:3 reserved there). */
	sim_write64(&T.sim, ea, 0x2000 | TB_EPT_RWX | TB_EPT_MT(6));
	sim_write64(&T.sim, root, sim_read64(&T.sim, root) | TB_EPT_MT(6));
	ck_assert_int_eq(ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 0), 0x1000, NEST_ACC_R, 0).status,
			 NEST_WALK_MISCONFIG);
}
END_TEST

START_TEST(ept_large_page_low_address_bits_are_misconfig)
{
	tb_map64(&T, root, 4, 0x200000, 0x400000 | 0x1000, 2, TB_EPT_RWX | TB_EPT_PS | TB_EPT_MT(6),
		 TB_EPT_RWX);
	ck_assert_int_eq(ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 0), 0x200000, NEST_ACC_R, 0).status,
			 NEST_WALK_MISCONFIG);
}
END_TEST

START_TEST(ept_leaf_memtype_2_3_7_are_misconfig)
{
	static const unsigned bad[] = {2, 3, 7};
	unsigned i;

	for (i = 0; i < 3; i++) {
		tb_map64(&T, root, 4, 0x1000, 0x2000, 1, TB_EPT_RWX | TB_EPT_MT(bad[i]),
			 TB_EPT_RWX);
		ck_assert_int_eq(
		    ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 0), 0x1000, NEST_ACC_R, 0).status,
		    NEST_WALK_MISCONFIG);
	}
}
END_TEST

START_TEST(ept_large_pages_need_capabilities)
{
	tb_map64(&T, root, 4, 0x80000000, 0x40000000, 3, TB_EPT_RWX | TB_EPT_PS | TB_EPT_MT(6),
		 TB_EPT_RWX);
	tb_map64(&T, root, 4, 0x200000, 0x400000, 2, TB_EPT_RWX | TB_EPT_PS | TB_EPT_MT(6),
		 TB_EPT_RWX);
	ck_assert_int_eq(
	    ept(TB_EPT_CAPS & ~NEST_EPT_CAP_1G, 0, TB_EPTP(root, 4, 0), 0x80000000, NEST_ACC_R, 0)
		.status,
	    NEST_WALK_MISCONFIG);
	ck_assert_int_eq(
	    ept(TB_EPT_CAPS & ~NEST_EPT_CAP_2M, 0, TB_EPTP(root, 4, 0), 0x200000, NEST_ACC_R, 0)
		.status,
	    NEST_WALK_MISCONFIG);
	/* PS in a PML4E is always reserved. */
	sim_write64(&T.sim, root + 8, 0x40000000 | TB_EPT_RWX | TB_EPT_PS);
	ck_assert_int_eq(ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 0), 1ull << 39, NEST_ACC_R, 0).status,
			 NEST_WALK_MISCONFIG);
}
END_TEST

START_TEST(ept_mbec_user_fetch_checks_bit_10)
{
	struct nest_walk_result r;

	tb_map64(&T, root, 4, 0x1000, 0x2000, 1, TB_EPT_R | TB_EPT_X | TB_EPT_MT(6),
		 TB_EPT_RWX | TB_EPT_UX);
	r = ept(TB_EPT_CAPS, 1, TB_EPTP(root, 4, 0), 0x1000, NEST_ACC_X, 0);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
	r = ept(TB_EPT_CAPS, 1, TB_EPTP(root, 4, 0), 0x1000, NEST_ACC_UX, 0);
	ck_assert_int_eq(r.status, NEST_WALK_FAULT);
	ck_assert_uint_eq(r.rights, NEST_ACC_R | NEST_ACC_X);
	/* Without MBEC, bit 2 also allows user-mode fetches. */
	r = ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 0), 0x1000, NEST_ACC_UX, 0);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
	/* With MBEC, an entry with only bit 10 is present (user-execute-only). */
	tb_map64(&T, root, 4, 0x1000, 0x2000, 1, TB_EPT_UX | TB_EPT_MT(6), TB_EPT_RWX | TB_EPT_UX);
	r = ept(TB_EPT_CAPS, 1, TB_EPTP(root, 4, 0), 0x1000, NEST_ACC_UX, 0);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
}
END_TEST

START_TEST(ept_ad_flags_set_only_when_eptp_enables_them)
{
	uint64_t leaf =
	    tb_map64(&T, root, 4, 0x1000, 0x2000, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	struct nest_walk_result r;

	r = ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 0), 0x1000, NEST_ACC_W, NEST_WALK_SET_AD);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
	ck_assert_uint_eq(sim_read64(&T.sim, leaf) & (TB_EPT_A | TB_EPT_D), 0);
	r = ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 1), 0x1000, NEST_ACC_R, NEST_WALK_SET_AD);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
	ck_assert_uint_eq(sim_read64(&T.sim, leaf) & (TB_EPT_A | TB_EPT_D), TB_EPT_A);
	ck_assert(sim_read64(&T.sim, root) & TB_EPT_A);
	ck_assert_uint_eq(r.dirty, 0);
	r = ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 1), 0x1000, NEST_ACC_W, NEST_WALK_SET_AD);
	ck_assert_uint_eq(sim_read64(&T.sim, leaf) & (TB_EPT_A | TB_EPT_D), TB_EPT_A | TB_EPT_D);
	ck_assert_uint_eq(r.dirty, 1);
	/* A violation sets nothing. */
	sim_write64(&T.sim, leaf, 0x2000 | TB_EPT_R | TB_EPT_MT(6));
	r = ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 1), 0x1000, NEST_ACC_W, NEST_WALK_SET_AD);
	ck_assert_int_eq(r.status, NEST_WALK_FAULT);
	ck_assert_uint_eq(sim_read64(&T.sim, leaf) & (TB_EPT_A | TB_EPT_D), 0);
}
END_TEST

START_TEST(ept_unreadable_table_is_no_memory)
{
	struct nest_walk_result r;

	sim_write64(&T.sim, root, (MEM + 0x10000) | TB_EPT_RWX);
	r = ept(TB_EPT_CAPS, 0, TB_EPTP(root, 4, 0), 0x1000, NEST_ACC_R, 0);
	ck_assert_int_eq(r.status, NEST_WALK_NO_MEMORY);
	ck_assert_uint_eq(r.fault_addr, MEM + 0x10000);
}
END_TEST

START_TEST(eptp_validity_follows_capabilities)
{
	struct nest_ept_config c = ept_cfg(TB_EPT_CAPS, 0);

	ck_assert(nest_ept_eptp_valid(TB_EPTP(0x1000, 4, 1), &c));
	ck_assert(!nest_ept_eptp_valid(TB_EPTP(0x1000, 3, 0), &c));
	ck_assert(!nest_ept_eptp_valid(0x1000 | 2 | (3 << 3), &c));	    /* memtype 2 */
	ck_assert(!nest_ept_eptp_valid(TB_EPTP(0x1000, 4, 0) | 0x100, &c)); /* bits 11:8 */
	ck_assert(!nest_ept_eptp_valid(TB_EPTP(1ull << MAXPHY, 4, 0), &c));
	c.ept_vpid_cap &= ~(NEST_EPT_CAP_AD | NEST_EPT_CAP_PWL5);
	ck_assert(!nest_ept_eptp_valid(TB_EPTP(0x1000, 4, 1), &c));
	ck_assert(!nest_ept_eptp_valid(TB_EPTP(0x1000, 5, 0), &c));
	ck_assert_int_eq(ept(c.ept_vpid_cap, 0, TB_EPTP(root, 5, 0), 0, NEST_ACC_R, 0).status,
			 NEST_WALK_BAD_ROOT);
}
END_TEST

/* ---------------- x86 ---------------- */

static struct nest_walk_result x86(uint64_t cr0, uint64_t cr4, uint64_t efer, uint64_t cr3,
				   uint64_t va, uint32_t acc, uint32_t flags)
{
	struct nest_x86_config c;
	struct nest_walk_result r;

	memset(&c, 0, sizeof(c));
	c.cr0 = cr0;
	c.cr4 = cr4;
	c.efer = efer;
	c.maxphyaddr = MAXPHY;
	c.gbpages = 1;
	ck_assert_int_eq(nest_x86_walk(&T.be, &c, cr3, va, acc, flags, &r), NEST_OK);
	return r;
}

#define LM_CR0 (X86_CR0_PG | X86_CR0_PE | X86_CR0_WP)
#define LM_CR4 (X86_CR4_PAE)
#define LM_EFER (X86_EFER_LMA | X86_EFER_LME | X86_EFER_NXE)
#define TBL (TB_P | TB_RW | TB_US)

START_TEST(x86_mode_follows_control_registers)
{
	ck_assert_uint_eq(nest_x86_mode(0, 0, 0), NEST_X86_MODE_NONE);
	ck_assert_uint_eq(nest_x86_mode(X86_CR0_PG, 0, 0), NEST_X86_MODE_32);
	ck_assert_uint_eq(nest_x86_mode(X86_CR0_PG, X86_CR4_PSE, 0), NEST_X86_MODE_32_PSE);
	ck_assert_uint_eq(nest_x86_mode(X86_CR0_PG, X86_CR4_PAE, 0), NEST_X86_MODE_PAE);
	ck_assert_uint_eq(nest_x86_mode(X86_CR0_PG, X86_CR4_PAE, X86_EFER_LMA),
			  NEST_X86_MODE_LONG4);
	ck_assert_uint_eq(nest_x86_mode(X86_CR0_PG, X86_CR4_PAE | X86_CR4_LA57, X86_EFER_LMA),
			  NEST_X86_MODE_LONG5);
}
END_TEST

START_TEST(x86_long4_translates_4k_2m_1g)
{
	struct nest_walk_result r;

	tb_map64(&T, root, 4, 0xffff800000001000ull, 0x5000, 1, TBL, TBL);
	tb_map64(&T, root, 4, 0x40200000, 0x600000, 2, TBL | TB_PS | TB_PCD, TBL);
	tb_map64(&T, root, 4, 0x80000000, 0xc0000000, 3, TBL | TB_PS, TBL);
	r = x86(LM_CR0, LM_CR4, LM_EFER, root, 0xffff800000001234ull, NEST_ACC_R, 0);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
	ck_assert_uint_eq(r.addr, 0x5234);
	r = x86(LM_CR0, LM_CR4, LM_EFER, root, 0x40212345, NEST_ACC_W, 0);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
	ck_assert_uint_eq(r.addr, 0x612345);
	ck_assert_uint_eq(r.page_shift, 21);
	ck_assert_uint_eq(r.memtype, 2); /* PAT index: PCD */
	r = x86(LM_CR0, LM_CR4, LM_EFER, root, 0x87654321, NEST_ACC_X, 0);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
	ck_assert_uint_eq(r.addr, 0xc7654321);
	ck_assert_uint_eq(r.page_shift, 30);
}
END_TEST

START_TEST(x86_long5_translates)
{
	uint64_t va = 0x0100000000001000ull;

	tb_map64(&T, root, 5, va, 0x7000, 1, TBL, TBL);
	ck_assert_uint_eq(
	    x86(LM_CR0, LM_CR4 | X86_CR4_LA57, LM_EFER, root, va + 5, NEST_ACC_R, 0).addr, 0x7005);
}
END_TEST

START_TEST(x86_pae_uses_four_pdptes_and_nx)
{
	uint64_t pdpt = root + 0x20; /* 32-byte aligned inside the page */
	uint64_t pd = tb_new_table(&T), pt = tb_new_table(&T);
	struct nest_walk_result r;

	sim_write64(&T.sim, pdpt + 2 * 8, pd | TB_P);
	sim_write64(&T.sim, pd + 1 * 8, pt | TBL);
	sim_write64(&T.sim, pt + 3 * 8, 0x9000 | TBL | TB_NX);
	sim_write64(&T.sim, pd + 5 * 8, 0x400000 | TBL | TB_PS);
	r = x86(X86_CR0_PG, X86_CR4_PAE, X86_EFER_NXE, pdpt, 0x80203456, NEST_ACC_R, 0);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
	ck_assert_uint_eq(r.addr, 0x9456);
	ck_assert_uint_eq(r.levels, 3);
	r = x86(X86_CR0_PG, X86_CR4_PAE, X86_EFER_NXE, pdpt, 0x80203456, NEST_ACC_X, 0);
	ck_assert_int_eq(r.status, NEST_WALK_FAULT);
	ck_assert_uint_eq(r.pfec, X86_PFEC_P | X86_PFEC_I);
	r = x86(X86_CR0_PG, X86_CR4_PAE, X86_EFER_NXE, pdpt, 0x80a12345, NEST_ACC_W, 0);
	ck_assert_uint_eq(r.addr, 0x412345);
	ck_assert_uint_eq(r.page_shift, 21);
	/* Without NXE, bit 63 is reserved. */
	r = x86(X86_CR0_PG, X86_CR4_PAE, 0, pdpt, 0x80203456, NEST_ACC_R, 0);
	ck_assert_int_eq(r.status, NEST_WALK_RSVD);
	/* PDPTE reserved bits (2:1). */
	sim_write64(&T.sim, pdpt + 2 * 8, pd | TB_P | TB_RW);
	r = x86(X86_CR0_PG, X86_CR4_PAE, X86_EFER_NXE, pdpt, 0x80a12345, NEST_ACC_R, 0);
	ck_assert_int_eq(r.status, NEST_WALK_RSVD);
	ck_assert_uint_eq(r.pfec, X86_PFEC_P | X86_PFEC_RSVD);
}
END_TEST

START_TEST(x86_32bit_with_and_without_pse)
{
	uint64_t pt = tb_new_table(&T);
	struct nest_walk_result r;

	sim_write32(&T.sim, root + 1 * 4, (uint32_t)(pt | TBL));
	sim_write32(&T.sim, pt + 2 * 4, 0x00abc000 | TBL);
	/* 4 MiB page with PSE-36: PDE bits 20:13 = PA 39:32. */
	sim_write32(&T.sim, root + 3 * 4, 0x00c00000 | (0x12u << 13) | TBL | TB_PS);
	r = x86(X86_CR0_PG, 0, 0, root, 0x00402123, NEST_ACC_R, 0);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
	ck_assert_uint_eq(r.addr, 0xabc123);
	ck_assert_uint_eq(r.levels, 2);
	r = x86(X86_CR0_PG, X86_CR4_PSE, 0, root, 0x00c12345, NEST_ACC_R, 0);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
	ck_assert_uint_eq(r.addr, 0x1200c12345ull);
	ck_assert_uint_eq(r.page_shift, 22);
	/* Without CR4.PSE the PS bit is ignored: the PDE points to a table. */
	r = x86(X86_CR0_PG, 0, 0, root, 0x00c12345, NEST_ACC_R, 0);
	ck_assert_int_eq(r.status, NEST_WALK_FAULT);
	ck_assert_uint_eq(r.level, 1);
	/* Bit 21 of a 4 MiB PDE is reserved. */
	sim_write32(&T.sim, root + 3 * 4, 0x00c00000 | (1u << 21) | TBL | TB_PS);
	r = x86(X86_CR0_PG, X86_CR4_PSE, 0, root, 0x00c12345, NEST_ACC_R, 0);
	ck_assert_int_eq(r.status, NEST_WALK_RSVD);
}
END_TEST

START_TEST(x86_rights_follow_us_rw_wp)
{
	struct nest_walk_result r;

	tb_map64(&T, root, 4, 0x1000, 0x2000, 1, TB_P, TBL); /* supervisor, read-only */
	r = x86(LM_CR0, LM_CR4, LM_EFER, root, 0x1000, NEST_ACC_R | NEST_ACC_U, 0);
	ck_assert_int_eq(r.status, NEST_WALK_FAULT);
	ck_assert_uint_eq(r.pfec, X86_PFEC_P | X86_PFEC_U);
	r = x86(LM_CR0, LM_CR4, LM_EFER, root, 0x1000, NEST_ACC_W, 0);
	ck_assert_int_eq(r.status, NEST_WALK_FAULT);
	ck_assert_uint_eq(r.pfec, X86_PFEC_P | X86_PFEC_W);
	r = x86(LM_CR0 & ~X86_CR0_WP, LM_CR4, LM_EFER, root, 0x1000, NEST_ACC_W, 0);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
	r = x86(LM_CR0, LM_CR4, LM_EFER, root, 0x5000, NEST_ACC_R, 0);
	ck_assert_int_eq(r.status, NEST_WALK_FAULT);
	ck_assert_uint_eq(r.pfec, 0);
}
END_TEST

START_TEST(x86_smep_and_smap_guard_user_pages)
{
	struct nest_walk_result r;

	tb_map64(&T, root, 4, 0x1000, 0x2000, 1, TBL, TBL);
	r = x86(LM_CR0, LM_CR4 | X86_CR4_SMEP, LM_EFER, root, 0x1000, NEST_ACC_X, 0);
	ck_assert_int_eq(r.status, NEST_WALK_FAULT);
	ck_assert_uint_eq(r.pfec, X86_PFEC_P | X86_PFEC_I);
	r = x86(LM_CR0, LM_CR4 | X86_CR4_SMAP, LM_EFER, root, 0x1000, NEST_ACC_R, 0);
	ck_assert_int_eq(r.status, NEST_WALK_FAULT);
	r = x86(LM_CR0, LM_CR4 | X86_CR4_SMAP, LM_EFER, root, 0x1000, NEST_ACC_R,
		NEST_WALK_SMAP_OFF);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
}
END_TEST

START_TEST(x86_reserved_bits_give_rsvd_pfec)
{
	struct nest_walk_result r;

	tb_map64(&T, root, 4, 0x1000, 0x2000 | (1ull << MAXPHY), 1, TBL, TBL);
	r = x86(LM_CR0, LM_CR4, LM_EFER, root, 0x1000, NEST_ACC_W | NEST_ACC_U, 0);
	ck_assert_int_eq(r.status, NEST_WALK_RSVD);
	ck_assert_uint_eq(r.pfec, X86_PFEC_P | X86_PFEC_W | X86_PFEC_U | X86_PFEC_RSVD);
	/* PS in a PML4E. */
	sim_write64(&T.sim, root + 8, 0x40000000 | TBL | TB_PS);
	ck_assert_int_eq(x86(LM_CR0, LM_CR4, LM_EFER, root, 1ull << 39, NEST_ACC_R, 0).status,
			 NEST_WALK_RSVD);
}
END_TEST

START_TEST(x86_ad_flags_set_on_success)
{
	uint64_t leaf = tb_map64(&T, root, 4, 0x1000, 0x2000, 1, TBL, TBL);
	uint64_t pd = tb_new_table(&T), pt2 = tb_new_table(&T);
	struct nest_walk_result r;

	r = x86(LM_CR0, LM_CR4, LM_EFER, root, 0x1000, NEST_ACC_R, NEST_WALK_SET_AD);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
	ck_assert_uint_eq(sim_read64(&T.sim, leaf) & (TB_A | TB_D), TB_A);
	ck_assert(sim_read64(&T.sim, root) & TB_A);
	x86(LM_CR0, LM_CR4, LM_EFER, root, 0x1000, NEST_ACC_W, NEST_WALK_SET_AD);
	ck_assert_uint_eq(sim_read64(&T.sim, leaf) & (TB_A | TB_D), TB_A | TB_D);
	/* 32-bit entries: only the 4 bytes of the entry change. */
	sim_write32(&T.sim, pd, 0x00111000u | TBL);
	sim_write32(&T.sim, pd + 4, (uint32_t)(pt2 | TBL));
	sim_write32(&T.sim, pt2, 0x00222000u | TBL);
	r = x86(X86_CR0_PG, 0, 0, pd, 0x400000, NEST_ACC_R, NEST_WALK_SET_AD);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
	ck_assert_uint_eq(sim_read32(&T.sim, pd + 4), (uint32_t)(pt2 | TBL | TB_A));
	ck_assert_uint_eq(sim_read32(&T.sim, pd), 0x00111000u | TBL);
	ck_assert_uint_eq(sim_read32(&T.sim, pt2), 0x00222000u | TBL | TB_A);
}
END_TEST

/* An AMD nested walk of 4-level long-mode tables. */
static void nested_cfg(struct nest_x86_config *c)
{
	memset(c, 0, sizeof(*c));
	c->cr0 = LM_CR0;
	c->cr4 = LM_CR4;
	c->efer = LM_EFER;
	c->maxphyaddr = MAXPHY;
	c->nested = 1;
}

START_TEST(x86_nested_walk_is_a_user_access)
{
	struct nest_x86_config c;
	struct nest_walk_result r;

	tb_map64(&T, root, 4, 0x1000, 0x2000, 1, TB_P | TB_RW, TBL);
	nested_cfg(&c);
	ck_assert_int_eq(nest_x86_walk(&T.be, &c, root, 0x1000, NEST_ACC_R, 0, &r), NEST_OK);
	ck_assert_int_eq(r.status, NEST_WALK_FAULT);
	ck_assert_uint_eq(r.pfec, X86_PFEC_P | X86_PFEC_U);
	ck_assert_int_eq(nest_x86_walk(NULL, &c, root, 0, 0, 0, &r), NEST_E_INVAL);
}
END_TEST

/* Bit 8 of a non-leaf PML4E or PDPE: reserved on AMD, so in a nested walk
 * (APM 5.3.3); ignored by Intel's paging (SDM 4.5). */
START_TEST(x86_nested_walk_reserves_bit_8_of_pml4e_and_pdpe)
{
	struct nest_x86_config c;
	struct nest_walk_result r;
	uint64_t leaf = tb_map64(&T, root, 4, 0x1000, 0x2000, 1, TBL, TBL);
	uint64_t pml4e = sim_read64(&T.sim, root);
	uint64_t pdpt = pml4e & ~0xfffull;

	nested_cfg(&c);
	sim_write64(&T.sim, root, pml4e | (1ull << 8));
	ck_assert_int_eq(nest_x86_walk(&T.be, &c, root, 0x1000, NEST_ACC_R, 0, &r), NEST_OK);
	ck_assert_int_eq(r.status, NEST_WALK_RSVD);
	ck_assert_uint_eq(r.pfec, X86_PFEC_P | X86_PFEC_U | X86_PFEC_RSVD);
	/* The same tables under Intel's rules translate. */
	ck_assert_int_eq(x86(LM_CR0, LM_CR4, LM_EFER, root, 0x1000, NEST_ACC_R, 0).status,
			 NEST_WALK_OK);
	sim_write64(&T.sim, root, pml4e);
	sim_write64(&T.sim, pdpt, sim_read64(&T.sim, pdpt) | (1ull << 8));
	ck_assert_int_eq(nest_x86_walk(&T.be, &c, root, 0x1000, NEST_ACC_R, 0, &r), NEST_OK);
	ck_assert_int_eq(r.status, NEST_WALK_RSVD);
	/* A leaf's bit 8 is its G bit, allowed. */
	sim_write64(&T.sim, pdpt, sim_read64(&T.sim, pdpt) & ~(1ull << 8));
	sim_write64(&T.sim, leaf, sim_read64(&T.sim, leaf) | (1ull << 8));
	ck_assert_int_eq(nest_x86_walk(&T.be, &c, root, 0x1000, NEST_ACC_R, 0, &r), NEST_OK);
	ck_assert_int_eq(r.status, NEST_WALK_OK);
}
END_TEST

static Suite *paging_suite(void)
{
	Suite *s = suite_create("paging");
	TCase *e = tcase_create("ept"), *x = tcase_create("x86");

	tcase_add_checked_fixture(e, setup, teardown);
	tcase_add_checked_fixture(x, setup, teardown);
	tcase_add_test(e, ept_4k_leaf_translates_with_offset_and_memtype);
	tcase_add_test(e, ept_2m_and_1g_leaves_translate);
	tcase_add_test(e, ept_5level_walk_uses_bits_56_48);
	tcase_add_test(e, ept_violation_reports_rights_anded_over_levels);
	tcase_add_test(e, ept_write_without_read_is_misconfig);
	tcase_add_test(e, ept_execute_only_needs_capability);
	tcase_add_test(e, ept_reserved_bits_are_misconfig);
	tcase_add_test(e, ept_large_page_low_address_bits_are_misconfig);
	tcase_add_test(e, ept_leaf_memtype_2_3_7_are_misconfig);
	tcase_add_test(e, ept_large_pages_need_capabilities);
	tcase_add_test(e, ept_mbec_user_fetch_checks_bit_10);
	tcase_add_test(e, ept_ad_flags_set_only_when_eptp_enables_them);
	tcase_add_test(e, ept_unreadable_table_is_no_memory);
	tcase_add_test(e, eptp_validity_follows_capabilities);
	tcase_add_test(x, x86_mode_follows_control_registers);
	tcase_add_test(x, x86_long4_translates_4k_2m_1g);
	tcase_add_test(x, x86_long5_translates);
	tcase_add_test(x, x86_pae_uses_four_pdptes_and_nx);
	tcase_add_test(x, x86_32bit_with_and_without_pse);
	tcase_add_test(x, x86_rights_follow_us_rw_wp);
	tcase_add_test(x, x86_smep_and_smap_guard_user_pages);
	tcase_add_test(x, x86_reserved_bits_give_rsvd_pfec);
	tcase_add_test(x, x86_ad_flags_set_on_success);
	tcase_add_test(x, x86_nested_walk_is_a_user_access);
	tcase_add_test(x, x86_nested_walk_reserves_bit_8_of_pml4e_and_pdpe);
	suite_add_tcase(s, e);
	suite_add_tcase(s, x);
	return s;
}

int main(void)
{
	return nest_test_run(paging_suite());
}
