/* SPDX-License-Identifier: MIT */
/*
 * Nested VMX with L1 using EPT for L2: vmcs02 runs on the shadow EPT02 of
 * nest/tdp.h, and EPT violations of L2 are answered by the shadow (fixed:
 * L2 resumes; not mapped by EPT12: exit 48 into L1).
 */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "test_vmx_entry_baseline.h"

#include "tdp_testlib.h"
#include "sim_vmx.h"
#include "vmx/context.h"
#include "vmx/hwfields.h"

#define MEM (1u << 20)
#define VMXON_GPA 0x1000ull
#define VMCS_GPA 0x2000ull
#define PTR_GPA 0x100ull
#define TABLES 0x40000ull
#define L2_MAPPED 0x200000ull	/* L2-physical page EPT12 maps */
#define L1_BACKING 0x80000ull	/* ... to this L1-physical page */
#define L2_UNMAPPED 0x300000ull /* L2-physical page EPT12 does not map */

static struct tb T;
static struct nest_backend_ops ops;
static struct nest_backend be;
static void *vmx_mem, *tdp_mem;
static struct nest_vmx *ctx;
static struct nest_tdp *tdp;
static struct nest_vmx_l1_regs regs;
static struct nest_vmx_action act;
static uint64_t eptp12;

static int fwd_vmcs_read(void *c, enum nest_vmcs_id w, uint32_t enc, uint64_t *v)
{
	struct tb *t = c;

	return t->sim.ops.vmcs_read(&t->sim, w, enc, v);
}

static int fwd_vmcs_write(void *c, enum nest_vmcs_id w, uint32_t enc, uint64_t v)
{
	struct tb *t = c;

	return t->sim.ops.vmcs_write(&t->sim, w, enc, v);
}

static int fwd_linear(void *c, uint64_t gla, uint32_t access, uint64_t *gpa, uint32_t *pfec)
{
	struct tb *t = c;

	return t->sim.ops.l1_linear_to_phys(&t->sim, gla, access, gpa, pfec);
}

static uint64_t v02(uint32_t enc)
{
	uint64_t v = 0;

	sim_vmcs_get(&T.sim, NEST_VMCS02, enc, &v);
	return v;
}

static int l1_exec(uint32_t reason, uint32_t info)
{
	struct nest_vmx_exit e;

	sim_vmx_exit(&e, reason, info, 0);
	memset(&act, 0, sizeof(act));
	act.size = sizeof(act);
	return nest_vmx_l1_exit(ctx, &e, &regs, &act);
}

static void l1_m64(uint32_t reason, uint64_t value)
{
	sim_write64(&T.sim, PTR_GPA, value);
	regs.gpr[3] = PTR_GPA;
	ck_assert_int_eq(
	    l1_exec(reason, sim_vmx_info_mem(NEST_VMX_SEG_DS, 3, SIM_NO_REG, 0, SIM_ADDR64)),
	    NEST_OK);
	ck_assert_uint_eq(act.result, NEST_VMX_SUCCEED);
}

static void launch(uint32_t proc2_add, int ad, uint64_t pml_addr, uint16_t pml_index);
/* The processor under L0 has no PML, so vmcs02 has no PML-index field (Bochs). */
static bool host_without_pml;

static void setup(void)
{
	launch(0, 1, 0, 0);
}

static void launch(uint32_t proc2_add, int ad, uint64_t pml_addr, uint16_t pml_index)
{
	struct nest_vmx_caps host;
	struct nest_vmx_config cfg;
	struct nest_tdp_config tc;
	struct nest_vmx_l0 l0;
	static struct fx base;
	uint64_t root;
	uint32_t rev;
	size_t n;

	ck_assert_int_eq(tb_init(&T, MEM, 256), 0);
	ops = T.ops;
	ops.vmcs_read = fwd_vmcs_read;
	ops.vmcs_write = fwd_vmcs_write;
	/* L1 runs with identity paging: its VMX operands are physical. */
	T.sim.l1_identity_paging = true;
	ops.l1_linear_to_phys = fwd_linear;
	be.ops = &ops;
	be.ctx = &T;

	memset(&tc, 0, sizeof(tc));
	tc.size = sizeof(tc);
	tc.max_pages = 64;
	tc.max_roots = 4;
	tc.ept_vpid_cap = TB_EPT_CAPS;
	tc.maxphyaddr = 46;
	tc.max_page_shift = 30;
	n = nest_tdp_size(&tc);
	tdp_mem = aligned_alloc(64, (n + 63) & ~(size_t)63);
	ck_assert_int_eq(nest_tdp_init(tdp_mem, n, &be, &tc, &tdp), NEST_OK);

	sim_vmx_host_caps(&host);
	if (host_without_pml)
		host.procbased2 &= ~((uint64_t)NEST_VMX_PROC2_ENABLE_PML << 32);
	sim_vmx_config(&cfg, &host);
	vmx_mem = aligned_alloc(64, (nest_vmx_size() + 63) & ~(size_t)63);
	ck_assert_int_eq(nest_vmx_init(vmx_mem, nest_vmx_size(), &be, &cfg, &ctx), NEST_OK);
	sim_vmx_regs64(&regs);
	sim_vmx_region(&T.sim, VMXON_GPA, NEST_VMCS12_REVISION);
	sim_vmx_region(&T.sim, VMCS_GPA, NEST_VMCS12_REVISION);
	sim_vmcs_set(&T.sim, NEST_VMCS01, NEST_VMCS_GUEST_CR0, FX_CR0);
	sim_vmcs_set(&T.sim, NEST_VMCS01, NEST_VMCS_GUEST_IA32_EFER, FX_EFER);

	memset(&l0, 0, sizeof(l0));
	l0.size = sizeof(l0);
	l0.exit_ctls = NEST_VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE;
	l0.proc2 = NEST_VMX_PROC2_ENABLE_EPT;
	l0.eptp01 = 0x900001eull;
	l0.tdp = tdp;
	ck_assert_int_eq(nest_vmx_set_l0(ctx, &l0), NEST_OK);

	/* EPT12: L2 page L2_MAPPED -> L1 page L1_BACKING, 4-level, A/D. */
	T.next_table = TABLES;
	root = tb_new_table(&T);
	tb_map64(&T, root, 4, L2_MAPPED, L1_BACKING, 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
	eptp12 = TB_EPTP(root, 4, ad);

	l1_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA);
	l1_m64(NEST_VMX_EXIT_VMPTRLD, VMCS_GPA);
	fx_init(&base);
	ctx->caps = base.caps;
	rev = ctx->vmcs12.revision;
	ctx->vmcs12 = base.v;
	ctx->vmcs12.revision = rev;
	ctx->vmcs12.EPT_POINTER = eptp12;
	ctx->vmcs12.SECONDARY_VM_EXEC_CONTROL |= proc2_add;
	ctx->vmcs12.PML_ADDRESS = pml_addr;
	ctx->vmcs12.GUEST_PML_INDEX = pml_index;
	ck_assert_int_eq(l1_exec(NEST_VMX_EXIT_VMLAUNCH, 0), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_ENTER_L2);
}

static void teardown(void)
{
	free(vmx_mem);
	nest_tdp_fini(tdp);
	free(tdp_mem);
	tb_fini(&T);
}

/* L2 exits with @reason and @qual in vmcs02, as the hardware writes them. */
static int l2_exit_with(uint32_t reason, uint64_t qual)
{
	struct nest_vmx_exit e;
	struct nest_vmx_l2_regs r;

	sim_vmcs_set(&T.sim, NEST_VMCS02, NEST_VMCS_VM_EXIT_REASON, reason);
	sim_vmcs_set(&T.sim, NEST_VMCS02, NEST_VMCS_EXIT_QUALIFICATION, qual);
	memset(&e, 0, sizeof(e));
	e.size = sizeof(e);
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	memset(&act, 0, sizeof(act));
	act.size = sizeof(act);
	return nest_vmx_l2_exit(ctx, &e, &r, &act);
}

static int ept_exit(uint64_t gpa, uint64_t qual)
{
	sim_vmcs_set(&T.sim, NEST_VMCS02, NEST_VMCS_GUEST_PHYSICAL_ADDRESS, gpa);
	return l2_exit_with(NEST_VMX_EXIT_EPT_VIOLATION, qual);
}

START_TEST(vmcs02_runs_on_the_shadow_ept02_not_on_eptp12)
{
	uint64_t eptp02 = v02(NEST_VMCS_EPT_POINTER);

	ck_assert_uint_ne(eptp02, eptp12);
	ck_assert_uint_ne(eptp02, 0x900001eull);
	ck_assert_ptr_nonnull(sim_pool_hva(&T.sim, eptp02 & ~0xfffull));
	ck_assert(v02(NEST_VMCS_SECONDARY_VM_EXEC_CONTROL) & NEST_VMX_PROC2_ENABLE_EPT);
}
END_TEST

START_TEST(violation_on_a_page_ept12_maps_is_fixed_and_l2_resumes)
{
	ck_assert_int_eq(ept_exit(L2_MAPPED + 0x10, NEST_EPT_QUAL_READ), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert(nest_vmx_in_l2(ctx));
	ck_assert_uint_eq(ctx->vmcs12.VM_EXIT_REASON, 0);
}
END_TEST

START_TEST(violation_on_a_page_ept12_does_not_map_is_reflected_as_exit_48)
{
	ck_assert_int_eq(ept_exit(L2_UNMAPPED + 0x20, NEST_EPT_QUAL_WRITE), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(ctx->vmcs12.VM_EXIT_REASON, NEST_VMX_EXIT_EPT_VIOLATION);
	ck_assert_uint_eq(ctx->vmcs12.GUEST_PHYSICAL_ADDRESS, L2_UNMAPPED + 0x20);
	ck_assert(ctx->vmcs12.EXIT_QUALIFICATION & NEST_EPT_QUAL_WRITE);
	ck_assert(!(ctx->vmcs12.EXIT_QUALIFICATION & NEST_EPT_QUAL_READABLE));
}
END_TEST

/* A write EPT12 allows to a page L0's map has read-only (an L0 that traps
 * L1's writes there, as the bare-metal stub does for L1's local APIC): L0
 * handles it, and the action names the L1-physical byte L2 reached
 * through EPT12 and the right L0's map lacks. */
START_TEST(violation_l0s_map_causes_names_the_l1_physical_address)
{
	T.rights[L1_BACKING / TB_PAGE] = NEST_ACC_R | NEST_ACC_X | NEST_ACC_UX;
	ck_assert_int_eq(ept_exit(L2_MAPPED + 0x300, NEST_EPT_QUAL_WRITE), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_L0_HANDLES);
	ck_assert_uint_eq(act.l1_gpa, L1_BACKING + 0x300);
	ck_assert_uint_ne(act.l0_access & NEST_ACC_W, 0);
	ck_assert_uint_eq(ctx->vmcs12.VM_EXIT_REASON, 0);

	/* A fault libnest fixes itself names nothing. */
	ck_assert_int_eq(ept_exit(L2_MAPPED + 0x10, NEST_EPT_QUAL_READ), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_eq(act.l1_gpa, 0);
	ck_assert_uint_eq(act.l0_access, 0);
}
END_TEST

#define L2_BITMAP 0x400000ull /* L2-physical page EPT12 maps to L1's I/O bitmap A */
#define IOQ_IN(port) (((uint64_t)(port) << 16) | 8u)

static int io_exit(uint32_t port)
{
	return l2_exit_with(NEST_VMX_EXIT_IO_INSTRUCTION, IOQ_IN(port));
}

/* SDM 26.1.3: the processor reads the I/O bitmaps at each access, so L2's
 * write to the bitmap it runs under (mapped to it by EPT12) decides its
 * next IN; the write itself reaches L1's memory. */
START_TEST(l2_writing_its_io_bitmap_through_ept12_decides_its_next_access)
{
	uint64_t bm = ctx->vmcs12.IO_BITMAP_A;
	uint8_t *merged = sim_pool_hva(&T.sim, v02(NEST_VMCS_IO_BITMAP_A));
	uint8_t *l1 = sim_ptr(&T.sim, bm, 4096);

	tb_map64(&T, eptp12 & ~0xfffull, 4, L2_BITMAP, bm, 1, TB_EPT_RWX | TB_EPT_MT(6),
		 TB_EPT_RWX);
	ck_assert_ptr_nonnull(merged);
	ck_assert_uint_eq(merged[0x60 / 8], 0);
	/* Before the write, port 60H passes to L0. */
	ck_assert_int_eq(io_exit(0x60), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_L0_HANDLES);
	/* L2 writes the page: the watch stops it first, L2 resumes to write. */
	ck_assert_int_eq(ept_exit(L2_BITMAP + 0x60 / 8, NEST_EPT_QUAL_WRITE), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_eq(merged[0x60 / 8], 0xff);
	l1[0x60 / 8] = 1u << (0x60 % 8); /* the write itself */
	ck_assert_int_eq(io_exit(0x60), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(ctx->vmcs12.VM_EXIT_REASON, NEST_VMX_EXIT_IO_INSTRUCTION);
}
END_TEST

START_TEST(l2_writing_its_io_bitmap_leaves_ports_l1_passes_to_l0)
{
	uint64_t bm = ctx->vmcs12.IO_BITMAP_A;
	uint8_t *l1 = sim_ptr(&T.sim, bm, 4096);

	tb_map64(&T, eptp12 & ~0xfffull, 4, L2_BITMAP, bm, 1, TB_EPT_RWX | TB_EPT_MT(6),
		 TB_EPT_RWX);
	ck_assert_int_eq(ept_exit(L2_BITMAP, NEST_EPT_QUAL_WRITE), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L2);
	l1[0x60 / 8] = 1u << (0x60 % 8);
	/* Every port now exits in vmcs02; one L1 does not ask for is L0's. */
	ck_assert_int_eq(io_exit(0x61), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_L0_HANDLES);
	/* A second write to the page is not stopped again: the watch is off it. */
	ck_assert_int_eq(ept_exit(L2_BITMAP + 8, NEST_EPT_QUAL_WRITE), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_eq(ctx->nested.bmt.n_watched, 2);
}
END_TEST

/* ---- page-modification logging (SDM 29.3.6) ---- */

#define PML_GPA 0x90000ull	   /* L1's log page */
#define L2_SECOND 0x201000ull	   /* a second L2 page EPT12 maps ... */
#define L1_SECOND 0x81000ull	   /* ... to this L1 page */
#define PML_FULL_INDEX 0xffffu	   /* where the index goes after entry 0 */
#define NOT_L1_MEMORY 0x4000000ull /* page-aligned, no L1 memory there */
#define QUAL_NMI_UNBLOCK (1ull << 12)

/* The EPT12 leaf of an L2 page, read back through L1 memory. */
static uint64_t ept12_leaf(uint64_t l2)
{
	uint64_t table = eptp12 & ~0xfffull, e = 0;
	unsigned l;

	for (l = 4; l >= 1; l--) {
		e = sim_read64(&T.sim, table + ((l2 >> (12 + 9 * (l - 1))) & 511) * 8);
		table = e & 0x000ffffffffff000ull;
	}
	return e;
}

/* The EPT02 leaf libnest built for an L2 page (0 if none). */
static uint64_t ept02_leaf(uint64_t l2)
{
	uint64_t table = v02(NEST_VMCS_EPT_POINTER) & ~0xfffull, e = 0;
	unsigned l;

	for (l = 4; l >= 1; l--) {
		uint64_t *t = sim_pool_hva(&T.sim, table);

		if (t == NULL)
			return 0;
		e = t[(l2 >> (12 + 9 * (l - 1))) & 511];
		if (!(e & TB_EPT_RWX) || (l > 1 && (e & TB_EPT_PS)))
			return e;
		table = e & 0x000ffffffffff000ull;
	}
	return e;
}

static uint64_t pml_entry(unsigned i)
{
	return sim_read64(&T.sim, PML_GPA + 8ull * i);
}

static void map_second(uint64_t bits)
{
	tb_map64(&T, eptp12 & ~0xfffull, 4, L2_SECOND, L1_SECOND, 1,
		 TB_EPT_RWX | TB_EPT_MT(6) | bits, TB_EPT_RWX);
}

/* L1 set the index before its entry: vmcs12 and vmcs02 hold it. */
static void set_index(uint16_t index)
{
	ctx->vmcs12.GUEST_PML_INDEX = index;
	sim_vmcs_set(&T.sim, NEST_VMCS02, NEST_VMCS_GUEST_PML_INDEX, index);
}

static void setup_pml(void)
{
	launch(NEST_VMX_PROC2_ENABLE_PML, 1, PML_GPA, 511);
	memset(sim_ptr(&T.sim, PML_GPA, 4096), 0, 4096);
}

START_TEST(pml_write_logs_the_4k_page_at_the_index_and_decrements_it)
{
	ck_assert_int_eq(ept_exit(L2_MAPPED + 0x123, NEST_EPT_QUAL_WRITE), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_eq(pml_entry(511), L2_MAPPED);
	ck_assert_uint_eq(ctx->vmcs12.GUEST_PML_INDEX, 510);
	ck_assert_uint_eq(ept12_leaf(L2_MAPPED) & (TB_EPT_A | TB_EPT_D), TB_EPT_A | TB_EPT_D);
	/* The next page goes to the next entry down. */
	map_second(0);
	ck_assert_int_eq(ept_exit(L2_SECOND + 8, NEST_EPT_QUAL_WRITE), NEST_OK);
	ck_assert_uint_eq(pml_entry(510), L2_SECOND);
	ck_assert_uint_eq(ctx->vmcs12.GUEST_PML_INDEX, 509);
	ck_assert_uint_eq(pml_entry(511), L2_MAPPED);
}
END_TEST

START_TEST(pml_read_sets_accessed_and_logs_nothing)
{
	ck_assert_int_eq(ept_exit(L2_MAPPED, NEST_EPT_QUAL_READ), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_eq(ept12_leaf(L2_MAPPED) & (TB_EPT_A | TB_EPT_D), TB_EPT_A);
	ck_assert_uint_eq(ctx->vmcs12.GUEST_PML_INDEX, 511);
	ck_assert_uint_eq(pml_entry(511), 0);
}
END_TEST

/* EPT02 cannot let a write through while EPT12's dirty flag is clear: the
 * write must come to the fault path, which logs it. */
START_TEST(pml_ept02_leaf_stays_read_only_until_the_logged_write)
{
	ck_assert_int_eq(ept_exit(L2_MAPPED, NEST_EPT_QUAL_READ), NEST_OK);
	ck_assert_uint_ne(ept02_leaf(L2_MAPPED) & TB_EPT_R, 0);
	ck_assert_uint_eq(ept02_leaf(L2_MAPPED) & TB_EPT_W, 0);
	ck_assert_int_eq(ept_exit(L2_MAPPED, NEST_EPT_QUAL_WRITE), NEST_OK);
	ck_assert_uint_ne(ept02_leaf(L2_MAPPED) & TB_EPT_W, 0);
	ck_assert_uint_eq(pml_entry(511), L2_MAPPED);
	ck_assert_uint_eq(ctx->vmcs12.GUEST_PML_INDEX, 510);
}
END_TEST

START_TEST(pml_no_log_when_the_dirty_flag_was_already_set)
{
	map_second(TB_EPT_A | TB_EPT_D);
	ck_assert_int_eq(ept_exit(L2_SECOND, NEST_EPT_QUAL_WRITE), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_eq(ctx->vmcs12.GUEST_PML_INDEX, 511);
	ck_assert_uint_eq(pml_entry(511), 0);
}
END_TEST

/* SDM 29.3.6: the index goes from 0 to FFFFH; the next access that would
 * set a flag is a PML-full VM exit: nothing set, nothing logged, no access. */
START_TEST(pml_index_0_logs_then_ffff_gives_a_pml_full_exit)
{
	uint64_t before;

	set_index(0);
	ck_assert_int_eq(ept_exit(L2_MAPPED, NEST_EPT_QUAL_WRITE), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_eq(pml_entry(0), L2_MAPPED);
	ck_assert_uint_eq(ctx->vmcs12.GUEST_PML_INDEX, PML_FULL_INDEX);

	map_second(0);
	before = ept12_leaf(L2_SECOND);
	ck_assert_int_eq(ept_exit(L2_SECOND + 0x40, NEST_EPT_QUAL_WRITE | QUAL_NMI_UNBLOCK),
			 NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert(!nest_vmx_in_l2(ctx));
	ck_assert_uint_eq(ctx->vmcs12.VM_EXIT_REASON, NEST_VMX_EXIT_PML_FULL);
	ck_assert_uint_eq(ctx->vmcs12.EXIT_QUALIFICATION, QUAL_NMI_UNBLOCK);
	ck_assert_uint_eq(ctx->vmcs12.GUEST_PML_INDEX, PML_FULL_INDEX);
	ck_assert_uint_eq(ept12_leaf(L2_SECOND), before);
	ck_assert_uint_eq(ept02_leaf(L2_SECOND) & TB_EPT_RWX, 0);
	ck_assert_uint_eq(pml_entry(0), L2_MAPPED);
	ck_assert_uint_eq(sim_read64(&T.sim, PML_GPA - 8), 0);
	ck_assert_uint_eq(sim_read64(&T.sim, PML_GPA + 4096), 0);
}
END_TEST

/* Any index above 511 is full, and so is a read that would set an
 * accessed flag ("an accessed or dirty flag", SDM 29.3.6). */
START_TEST(pml_index_above_511_stops_a_read_that_sets_accessed)
{
	set_index(512);
	ck_assert_int_eq(ept_exit(L2_MAPPED, NEST_EPT_QUAL_READ), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(ctx->vmcs12.VM_EXIT_REASON, NEST_VMX_EXIT_PML_FULL);
	ck_assert_uint_eq(ctx->vmcs12.EXIT_QUALIFICATION, 0);
	ck_assert_uint_eq(ept12_leaf(L2_MAPPED) & (TB_EPT_A | TB_EPT_D), 0);
	ck_assert_uint_eq(ctx->vmcs12.GUEST_PML_INDEX, 512);
}
END_TEST

/* With every flag set already there is nothing to log: a full index does
 * not stop the access. */
START_TEST(pml_full_index_lets_an_access_that_sets_no_flag_through)
{
	/* A read of the first page sets the accessed flags of the tables. */
	ck_assert_int_eq(ept_exit(L2_MAPPED, NEST_EPT_QUAL_READ), NEST_OK);
	map_second(TB_EPT_A | TB_EPT_D);
	set_index(PML_FULL_INDEX);
	ck_assert_int_eq(ept_exit(L2_SECOND, NEST_EPT_QUAL_WRITE), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_ne(ept02_leaf(L2_SECOND) & TB_EPT_W, 0);
}
END_TEST

/* With EPT A/D on, the processor's accesses to guest paging structures are
 * writes for EPT (SDM 29.3.3.2): the table's page is logged. */
START_TEST(pml_guest_paging_structure_access_is_a_logged_write)
{
	ck_assert_int_eq(ept_exit(L2_MAPPED + 0x18, NEST_EPT_QUAL_READ | NEST_EPT_QUAL_GLA_VALID),
			 NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_eq(pml_entry(511), L2_MAPPED);
	ck_assert_uint_eq(ctx->vmcs12.GUEST_PML_INDEX, 510);
}
END_TEST

/* The index is guest state: vmcs02 (which has the field on this host,
 * never with PML on) moves with vmcs12, so a later exit to L1, which
 * saves guest state from vmcs02, keeps the emulated value. */
START_TEST(pml_index_survives_a_reflected_exit_and_vmcs02_has_no_pml)
{
	ck_assert_uint_eq(v02(NEST_VMCS_SECONDARY_VM_EXEC_CONTROL) & NEST_VMX_PROC2_ENABLE_PML, 0);
	ck_assert_int_eq(ept_exit(L2_MAPPED, NEST_EPT_QUAL_WRITE), NEST_OK);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_PML_INDEX), 510);
	ck_assert_int_eq(ept_exit(L2_UNMAPPED, NEST_EPT_QUAL_READ), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(ctx->vmcs12.VM_EXIT_REASON, NEST_VMX_EXIT_EPT_VIOLATION);
	ck_assert_uint_eq(ctx->vmcs12.GUEST_PML_INDEX, 510);
}
END_TEST

/* The SDM says nothing of a log address without memory: the entry is lost,
 * the index stays, the dirty flag is set and the write goes through
 * (docs/conformance-vmx.md). */
START_TEST(pml_log_write_to_no_memory_loses_the_entry_keeps_the_index)
{
	ctx->vmcs12.PML_ADDRESS = NOT_L1_MEMORY; /* L1 wrote it before the entry */
	ck_assert_int_eq(ept_exit(L2_MAPPED, NEST_EPT_QUAL_WRITE), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_eq(ctx->vmcs12.GUEST_PML_INDEX, 511);
	ck_assert_uint_ne(ept12_leaf(L2_MAPPED) & TB_EPT_D, 0);
}
END_TEST

static void setup_pml_host_without_pml(void)
{
	host_without_pml = true;
	launch(NEST_VMX_PROC2_ENABLE_PML, 1, PML_GPA, 511);
	host_without_pml = false;
	memset(sim_ptr(&T.sim, PML_GPA, 4096), 0, 4096);
}

/* Without the field in vmcs02, the exit to L1 (which saves L2's state from
 * vmcs02) keeps the index libnest moved, and L1's own value across it. */
START_TEST(pml_index_survives_exits_on_a_host_without_pml)
{
	ck_assert(!nest__vmx_hw_field(&ctx->host, NEST__VF_GUEST_PML_INDEX));
	ck_assert_int_eq(ept_exit(L2_MAPPED, NEST_EPT_QUAL_WRITE), NEST_OK);
	ck_assert_uint_eq(ctx->vmcs12.GUEST_PML_INDEX, 510);
	ck_assert_int_eq(ept_exit(L2_UNMAPPED, NEST_EPT_QUAL_READ), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(ctx->vmcs12.GUEST_PML_INDEX, 510);
	ck_assert_uint_eq(pml_entry(511), L2_MAPPED);
}
END_TEST

static void setup_pml_no_ad(void)
{
	launch(NEST_VMX_PROC2_ENABLE_PML, 0, PML_GPA, 511);
	memset(sim_ptr(&T.sim, PML_GPA, 4096), 0, 4096);
}

/* Without EPTP bit 6 there are no dirty flags to set, so nothing is logged. */
START_TEST(pml_without_eptp_ad_logs_nothing)
{
	ck_assert_int_eq(ept_exit(L2_MAPPED, NEST_EPT_QUAL_WRITE), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_eq(ctx->vmcs12.GUEST_PML_INDEX, 511);
	ck_assert_uint_eq(pml_entry(511), 0);
	ck_assert_uint_eq(ept12_leaf(L2_MAPPED) & (TB_EPT_A | TB_EPT_D), 0);
	set_index(PML_FULL_INDEX);
	map_second(0);
	ck_assert_int_eq(ept_exit(L2_SECOND, NEST_EPT_QUAL_WRITE), NEST_OK);
	ck_assert_uint_eq(act.kind, NEST_VMX_ACT_RESUME_L2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmx_nested_ept");
	TCase *t = tcase_create("ept12");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, vmcs02_runs_on_the_shadow_ept02_not_on_eptp12);
	tcase_add_test(t, violation_on_a_page_ept12_maps_is_fixed_and_l2_resumes);
	tcase_add_test(t, violation_on_a_page_ept12_does_not_map_is_reflected_as_exit_48);
	tcase_add_test(t, violation_l0s_map_causes_names_the_l1_physical_address);
	tcase_add_test(t, l2_writing_its_io_bitmap_through_ept12_decides_its_next_access);
	tcase_add_test(t, l2_writing_its_io_bitmap_leaves_ports_l1_passes_to_l0);
	suite_add_tcase(s, t);
	t = tcase_create("pml");
	tcase_add_checked_fixture(t, setup_pml, teardown);
	tcase_add_test(t, pml_write_logs_the_4k_page_at_the_index_and_decrements_it);
	tcase_add_test(t, pml_read_sets_accessed_and_logs_nothing);
	tcase_add_test(t, pml_ept02_leaf_stays_read_only_until_the_logged_write);
	tcase_add_test(t, pml_no_log_when_the_dirty_flag_was_already_set);
	tcase_add_test(t, pml_index_0_logs_then_ffff_gives_a_pml_full_exit);
	tcase_add_test(t, pml_index_above_511_stops_a_read_that_sets_accessed);
	tcase_add_test(t, pml_full_index_lets_an_access_that_sets_no_flag_through);
	tcase_add_test(t, pml_guest_paging_structure_access_is_a_logged_write);
	tcase_add_test(t, pml_index_survives_a_reflected_exit_and_vmcs02_has_no_pml);
	tcase_add_test(t, pml_log_write_to_no_memory_loses_the_entry_keeps_the_index);
	suite_add_tcase(s, t);
	t = tcase_create("pml_host_without_pml");
	tcase_add_checked_fixture(t, setup_pml_host_without_pml, teardown);
	tcase_add_test(t, pml_index_survives_exits_on_a_host_without_pml);
	suite_add_tcase(s, t);
	t = tcase_create("pml_no_ad");
	tcase_add_checked_fixture(t, setup_pml_no_ad, teardown);
	tcase_add_test(t, pml_without_eptp_ad_logs_nothing);
	suite_add_tcase(s, t);
	return nest_test_run(s);
}
