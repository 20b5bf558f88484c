/* SPDX-License-Identifier: MIT */
/*
 * INVEPT and INVVPID executed by L1 (SDM Vol. 3C chapter 32, "Operation"):
 * every #UD, #GP and VMfail case, the 128-bit descriptor read through the
 * operand decoding, and the effect: INVEPT empties the shadow EPT02 of
 * that EPTP12 (a changed EPT12 entry is seen after INVEPT, not before),
 * INVVPID flushes L0's vpid02.
 */
#include "check_main.h"
#include "vmx_fixture.h"

#include <nest/tdp.h>

#define DESC_GPA 0x600ull
#define TYPE_REG 1u /* RCX holds the type */
#define DESC_REG 3u /* [RBX] is the descriptor */
#define ERR_INVALID_OPERAND 28u
#define X86_ARITH 0x8d5ull

/* EPT12 in L1 memory: one 4 KiB page of L2 mapped, 4-level, WB. */
#define EPT12_PML4 0x40000ull
#define EPT12_PDPT 0x41000ull
#define EPT12_PD 0x42000ull
#define EPT12_PT 0x43000ull
#define EPT12_OTHER 0x50000ull /* another EPT12 root L1 never uses for L2 */
#define L2_PAGE 0x200000ull
#define L1_PAGE_OLD 0x80000ull
#define L1_PAGE_NEW 0x90000ull
#define EPT_RWX 0x7ull
#define EPT_LEAF (EPT_RWX | (6ull << 3)) /* RWX, memory type WB */
#define EPTP_WB_4 (6ull | (3ull << 3))
#define EPTP12 (EPT12_PML4 | EPTP_WB_4)
#define EPT_ADDR_MASK 0x000ffffffffff000ull

static void *tdp_mem;
static struct nest_tdp *tdp;

static void setup(void)
{
	nfx_setup();
	tdp_mem = NULL;
	tdp = NULL;
}

static void teardown(void)
{
	nfx_tdp_fini(tdp, tdp_mem);
	nfx_teardown();
}

/* INVEPT or INVVPID with the type in RCX and the descriptor at [RBX] = addr. */
static int inv_at(uint32_t reason, uint64_t type, uint64_t addr)
{
	unsigned asz = (N.regs.efer & X86_EFER_LMA) ? SIM_ADDR64 : SIM_ADDR32;
	uint32_t info = sim_vmx_info_mem(NEST_VMX_SEG_DS, DESC_REG, SIM_NO_REG, 0, asz);

	N.regs.gpr[DESC_REG] = addr;
	N.regs.gpr[TYPE_REG] = type;
	return l1_exec(reason, sim_vmx_info_mem_reg2(info, TYPE_REG));
}

/* ... with the descriptor lo (bits 63:0), hi (127:64) at DESC_GPA. */
static int inv(uint32_t reason, uint64_t type, uint64_t lo, uint64_t hi)
{
	sim_write64(&N.s, DESC_GPA, lo);
	sim_write64(&N.s, DESC_GPA + 8, hi);
	return inv_at(reason, type, DESC_GPA);
}

static void assert_fail28(void)
{
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(N.act.result, NEST_VMX_FAIL_VALID);
	ck_assert_uint_eq(N.act.rflags & X86_ARITH, X86_RFLAGS_ZF);
	ck_assert_uint_eq(N.act.vm_instruction_error, ERR_INVALID_OPERAND);
	ck_assert_uint_eq(V12()->VM_INSTRUCTION_ERROR, ERR_INVALID_OPERAND);
}

static unsigned count_flushes(uint32_t kind, uint64_t tag, uint64_t addr)
{
	unsigned i, n = 0;

	for (i = 0; i < N.s.nflushes && i < SIM_FLUSH_LOG; i++)
		if (N.s.flushes[i].kind == kind && N.s.flushes[i].tag == tag &&
		    N.s.flushes[i].addr == addr)
			n++;
	return n;
}

/* ---- INVEPT: exceptions ---- */

START_TEST(invept_outside_vmx_operation_is_ud)
{
	ck_assert_int_eq(l1_exec(NEST_VMX_EXIT_VMXOFF, 0), NEST_OK);
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 2, 0, 0), NEST_OK);
	assert_inject(X86_EXC_UD, false, 0);
}
END_TEST

START_TEST(invept_without_ept_offered_is_ud)
{
	N.ctx->caps.procbased2 &= ~((uint64_t)NEST_VMX_PROC2_ENABLE_EPT << 32);
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 2, 0, 0), NEST_OK);
	assert_inject(X86_EXC_UD, false, 0);
}
END_TEST

START_TEST(invept_without_the_invept_capability_is_ud)
{
	N.ctx->caps.ept_vpid &= ~VMX_EPT_CAP_INVEPT;
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 2, 0, 0), NEST_OK);
	assert_inject(X86_EXC_UD, false, 0);
}
END_TEST

START_TEST(invept_when_the_policy_hides_ept_is_ud)
{
	N.cfg.features &= ~NEST_VMX_F_EPT;
	ck_assert_int_eq(nest_vmx_init(N.mem, nest_vmx_size(), sim_backend(&N.s), &N.cfg, &N.ctx),
			 NEST_OK);
	ck_assert_int_eq(l1_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	ck_assert_uint_eq(N.act.result, NEST_VMX_SUCCEED);
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 2, 0, 0), NEST_OK);
	assert_inject(X86_EXC_UD, false, 0);
}
END_TEST

START_TEST(invept_in_compatibility_mode_is_ud)
{
	N.regs.seg[NEST_VMX_SEG_CS].ar &= ~X86_SEG_L;
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 2, 0, 0), NEST_OK);
	assert_inject(X86_EXC_UD, false, 0);
}
END_TEST

START_TEST(invept_in_virtual_8086_mode_is_ud)
{
	sim_vmx_regs32(&N.regs);
	N.regs.rflags |= X86_RFLAGS_VM;
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 2, 0, 0), NEST_OK);
	assert_inject(X86_EXC_UD, false, 0);
}
END_TEST

START_TEST(invept_at_cpl3_is_gp0)
{
	N.regs.cpl = 3;
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 2, 0, 0), NEST_OK);
	assert_inject(X86_EXC_GP, true, 0);
}
END_TEST

START_TEST(invept_descriptor_at_a_non_canonical_address_is_gp0)
{
	N.regs.gpr[TYPE_REG] = 2;
	N.regs.gpr[DESC_REG] = 0x0000800000000000ull;
	ck_assert_int_eq(l1_exec(NEST_VMX_EXIT_INVEPT,
				 sim_vmx_info_mem_reg2(sim_vmx_info_mem(NEST_VMX_SEG_DS, DESC_REG,
									SIM_NO_REG, 0, SIM_ADDR64),
						       TYPE_REG)),
			 NEST_OK);
	assert_inject(X86_EXC_GP, true, 0);
}
END_TEST

START_TEST(invept_descriptor_fault_comes_after_the_type_check)
{
	ck_assert_int_eq(inv_at(NEST_VMX_EXIT_INVEPT, 3, 0x0000800000000000ull), NEST_OK);
	assert_fail28();
}
END_TEST

START_TEST(invept_descriptor_crossing_into_an_unmapped_page_is_pf)
{
	/* The sim's identity paging faults above L1 memory: bytes 8-15 of a
	 * descriptor at the last 8 bytes of memory are on a missing page. */
	ck_assert_int_eq(inv_at(NEST_VMX_EXIT_INVEPT, 2, MEM_SIZE - 8), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_INJECT);
	ck_assert_uint_eq(N.act.vector, X86_EXC_PF);
	ck_assert_uint_eq(N.act.cr2, MEM_SIZE);
}
END_TEST

/* ---- INVEPT: VMfail ---- */

START_TEST(invept_type_0_is_an_invalid_operand)
{
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 0, EPTP12, 0), NEST_OK);
	assert_fail28();
}
END_TEST

START_TEST(invept_type_3_is_an_invalid_operand)
{
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 3, EPTP12, 0), NEST_OK);
	assert_fail28();
}
END_TEST

START_TEST(invept_type_with_bits_63_32_set_in_64bit_mode_is_an_invalid_operand)
{
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, (1ull << 32) | 2, EPTP12, 0), NEST_OK);
	assert_fail28();
}
END_TEST

START_TEST(invept_type_register_is_32_bits_outside_64bit_mode)
{
	sim_vmx_regs32(&N.regs);
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, (1ull << 32) | 2, 0, 0), NEST_OK);
	assert_succeed();
}
END_TEST

START_TEST(invept_single_context_not_offered_is_an_invalid_operand)
{
	N.ctx->caps.ept_vpid &= ~VMX_EPT_CAP_INVEPT_SINGLE;
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 1, EPTP12, 0), NEST_OK);
	assert_fail28();
}
END_TEST

START_TEST(invept_global_not_offered_is_an_invalid_operand)
{
	N.ctx->caps.ept_vpid &= ~VMX_EPT_CAP_INVEPT_ALL;
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 2, 0, 0), NEST_OK);
	assert_fail28();
}
END_TEST

START_TEST(invept_single_context_with_a_bad_memory_type_is_an_invalid_operand)
{
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 1, EPT12_PML4 | (3ull << 3) | 1, 0), NEST_OK);
	assert_fail28();
}
END_TEST

START_TEST(invept_single_context_with_a_5level_walk_not_offered_is_an_invalid_operand)
{
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 1, EPT12_PML4 | 6 | (4ull << 3), 0), NEST_OK);
	assert_fail28();
}
END_TEST

START_TEST(invept_single_context_with_ad_not_offered_is_an_invalid_operand)
{
	N.ctx->caps.ept_vpid &= ~VMX_EPT_CAP_AD_FLAGS;
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 1, EPTP12 | VMX_EPTP_AD_ENABLE, 0), NEST_OK);
	assert_fail28();
}
END_TEST

START_TEST(invept_single_context_with_reserved_eptp_bits_is_an_invalid_operand)
{
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 1, EPTP12 | (1ull << 8), 0), NEST_OK);
	assert_fail28();
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 1, EPTP12 | (1ull << 46), 0), NEST_OK);
	assert_fail28();
}
END_TEST

START_TEST(invept_global_ignores_the_descriptor)
{
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 2, ~0ull, ~0ull), NEST_OK);
	assert_succeed();
}
END_TEST

START_TEST(invept_single_context_succeeds_with_a_valid_eptp)
{
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 1, EPTP12 | VMX_EPTP_AD_ENABLE, 0), NEST_OK);
	assert_succeed();
}
END_TEST

START_TEST(invept_failure_without_a_current_vmcs_is_vmfail_invalid)
{
	ck_assert_int_eq(l1_m64(NEST_VMX_EXIT_VMCLEAR, VMCS_GPA), NEST_OK);
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 0, 0, 0), NEST_OK);
	ck_assert_uint_eq(N.act.result, NEST_VMX_FAIL_INVALID);
	ck_assert_uint_eq(N.act.rflags & X86_ARITH, X86_RFLAGS_CF);
}
END_TEST

/* ---- INVVPID ---- */

START_TEST(invvpid_outside_vmx_operation_is_ud)
{
	ck_assert_int_eq(l1_exec(NEST_VMX_EXIT_VMXOFF, 0), NEST_OK);
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 2, 0, 0), NEST_OK);
	assert_inject(X86_EXC_UD, false, 0);
}
END_TEST

START_TEST(invvpid_without_vpid_offered_is_ud)
{
	N.ctx->caps.procbased2 &= ~((uint64_t)NEST_VMX_PROC2_ENABLE_VPID << 32);
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 2, 0, 0), NEST_OK);
	assert_inject(X86_EXC_UD, false, 0);
}
END_TEST

START_TEST(invvpid_without_the_invvpid_capability_is_ud)
{
	N.ctx->caps.ept_vpid &= ~VMX_VPID_CAP_INVVPID;
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 2, 0, 0), NEST_OK);
	assert_inject(X86_EXC_UD, false, 0);
}
END_TEST

START_TEST(invvpid_in_real_mode_is_ud)
{
	N.regs.cr0 &= ~X86_CR0_PE;
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 2, 0, 0), NEST_OK);
	assert_inject(X86_EXC_UD, false, 0);
}
END_TEST

START_TEST(invvpid_at_cpl1_is_gp0)
{
	N.regs.cpl = 1;
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 2, 0, 0), NEST_OK);
	assert_inject(X86_EXC_GP, true, 0);
}
END_TEST

START_TEST(invvpid_type_4_is_an_invalid_operand)
{
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 4, 1, 0), NEST_OK);
	assert_fail28();
}
END_TEST

START_TEST(invvpid_type_not_offered_is_an_invalid_operand)
{
	static const uint64_t cap[4] = {VMX_VPID_CAP_INVVPID_ADDR, VMX_VPID_CAP_INVVPID_SINGLE,
					VMX_VPID_CAP_INVVPID_ALL,
					VMX_VPID_CAP_INVVPID_SINGLE_NONGLOBAL};
	uint64_t saved = N.ctx->caps.ept_vpid;
	unsigned t;

	for (t = 0; t < 4; t++) {
		N.ctx->caps.ept_vpid = saved & ~cap[t];
		ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, t, 1, 0), NEST_OK);
		assert_fail28();
	}
}
END_TEST

START_TEST(invvpid_descriptor_bits_63_16_are_reserved)
{
	unsigned t;

	for (t = 0; t < 4; t++) {
		ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, t, 1 | (1ull << 16), 0), NEST_OK);
		assert_fail28();
		ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, t, 1 | (1ull << 63), 0), NEST_OK);
		assert_fail28();
	}
}
END_TEST

START_TEST(invvpid_vpid_0_is_an_invalid_operand_except_for_all_context)
{
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 0, 0, 0x1000), NEST_OK);
	assert_fail28();
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 1, 0, 0), NEST_OK);
	assert_fail28();
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 3, 0, 0), NEST_OK);
	assert_fail28();
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 2, 0, 0), NEST_OK);
	assert_succeed();
}
END_TEST

START_TEST(invvpid_individual_address_must_be_canonical)
{
	/* The baseline caps do not allow CR4.LA57: 48-bit canonical addresses. */
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 0, 1, 0x0000800000000000ull), NEST_OK);
	assert_fail28();
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 0, 1, 0xffff800000000000ull), NEST_OK);
	assert_succeed();
}
END_TEST

START_TEST(invvpid_canonical_width_is_57_bits_with_la57)
{
	N.ctx->caps.cr4_fixed1 |= X86_CR4_LA57;
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 0, 1, 0x0000800000000000ull), NEST_OK);
	assert_succeed();
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 0, 1, 0x0100000000000000ull), NEST_OK);
	assert_fail28();
}
END_TEST

START_TEST(invvpid_other_types_ignore_the_address)
{
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 1, 1, 0x0100000000000000ull), NEST_OK);
	assert_succeed();
}
END_TEST

START_TEST(invvpid_individual_address_flushes_that_address_of_vpid02)
{
	N.s.nflushes = 0;
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 0, 5, 0x7000), NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(N.s.nflushes, 1);
	ck_assert_uint_eq(count_flushes(NEST_FLUSH_VPID_ADDR, L0_VPID02, 0x7000), 1);
}
END_TEST

START_TEST(invvpid_context_types_flush_vpid02)
{
	unsigned t;

	for (t = 1; t < 4; t++) {
		N.s.nflushes = 0;
		ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, t, 5, 0), NEST_OK);
		assert_succeed();
		ck_assert_uint_eq(N.s.nflushes, 1);
		/* Never L0's other tags: only the one L2 runs with. */
		ck_assert_uint_eq(count_flushes(NEST_FLUSH_VPID_CONTEXT, L0_VPID02, 0), 1);
	}
}
END_TEST

START_TEST(invvpid_without_vpid02_flushes_nothing)
{
	N.l0.vpid02 = 0;
	ck_assert_int_eq(nest_vmx_set_l0(N.ctx, &N.l0), NEST_OK);
	N.s.nflushes = 0;
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 1, 5, 0), NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(N.s.nflushes, 0);
}
END_TEST

START_TEST(invvpid_failure_flushes_nothing)
{
	N.s.nflushes = 0;
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVVPID, 1, 0, 0), NEST_OK);
	assert_fail28();
	ck_assert_uint_eq(N.s.nflushes, 0);
}
END_TEST

/* ---- INVEPT: the shadow EPT02 ---- */

/* L1 runs L2 on EPT12 (EPTP12), shadowed by a nest_tdp context. */
static void launch_with_ept12(void)
{
	struct nest__vmcs12 *v = V12();

	tdp = nfx_tdp(8, 2, &tdp_mem);

	memset(sim_ptr(&N.s, EPT12_PML4, 0x4000), 0, 0x4000);
	sim_write64(&N.s, EPT12_PML4 + ((L2_PAGE >> 39) & 511) * 8, EPT12_PDPT | EPT_RWX);
	sim_write64(&N.s, EPT12_PDPT + ((L2_PAGE >> 30) & 511) * 8, EPT12_PD | EPT_RWX);
	sim_write64(&N.s, EPT12_PD + ((L2_PAGE >> 21) & 511) * 8, EPT12_PT | EPT_RWX);
	sim_write64(&N.s, EPT12_PT + ((L2_PAGE >> 12) & 511) * 8, L1_PAGE_OLD | EPT_LEAF);
	v->SECONDARY_VM_EXEC_CONTROL |= NEST_VMX_PROC2_ENABLE_EPT;
	v->EPT_POINTER = EPTP12;
	launch_ok();
}

static uint64_t host_of(uint64_t l1_gpa)
{
	return SIM_HPA_L1_BASE + l1_gpa;
}

/* L2 touches L2_PAGE: the shadow fills in from EPT12. */
static void l2_touches_the_page(void)
{
	set02(NEST_VMCS_GUEST_PHYSICAL_ADDRESS, L2_PAGE + 0x10);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_EPT_VIOLATION, NEST_EPT_QUAL_READ), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
}

/* L2 exits to L1 (CPUID), L1 then runs the given code, then VMRESUME. */
static void l2_exits_to_l1(void)
{
	set02(NEST_VMCS_VM_EXIT_INSTRUCTION_LEN, 2);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
}

static void resume_ok(void)
{
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
}

static void l1_changes_the_leaf(void)
{
	sim_write64(&N.s, EPT12_PT + ((L2_PAGE >> 12) & 511) * 8, L1_PAGE_NEW | EPT_LEAF);
}

START_TEST(ept12_change_is_not_seen_before_invept)
{
	launch_with_ept12();
	l2_touches_the_page();
	ck_assert_uint_eq(nfx_ept02_leaf(L2_PAGE) & EPT_ADDR_MASK, host_of(L1_PAGE_OLD));
	l2_exits_to_l1();
	l1_changes_the_leaf();
	resume_ok();
	/* The shadow is cached: L2 still reaches the old page (as a processor
	 * that cached the translation would), until L1 invalidates. */
	ck_assert_uint_eq(nfx_ept02_leaf(L2_PAGE) & EPT_ADDR_MASK, host_of(L1_PAGE_OLD));
}
END_TEST

START_TEST(invept_single_context_makes_l2_see_the_changed_ept12_entry)
{
	uint64_t eptp02;

	launch_with_ept12();
	l2_touches_the_page();
	l2_exits_to_l1();
	l1_changes_the_leaf();
	eptp02 = v02(NEST_VMCS_EPT_POINTER);
	N.s.nflushes = 0;
	/* INVEPT ignores the EPTP's memory type and A/D bit: same table. */
	ck_assert_int_eq(
	    inv(NEST_VMX_EXIT_INVEPT, 1, EPT12_PML4 | VMX_EPTP_MEMTYPE_UC | (3ull << 3), 0),
	    NEST_OK);
	assert_succeed();
	ck_assert_uint_ge(count_flushes(NEST_FLUSH_EPT_CONTEXT, eptp02, 0), 1);
	resume_ok();
	ck_assert_uint_eq(nfx_ept02_leaf(L2_PAGE), 0);
	l2_touches_the_page();
	ck_assert_uint_eq(nfx_ept02_leaf(L2_PAGE) & EPT_ADDR_MASK, host_of(L1_PAGE_NEW));
}
END_TEST

START_TEST(invept_global_makes_l2_see_the_changed_ept12_entry)
{
	launch_with_ept12();
	l2_touches_the_page();
	l2_exits_to_l1();
	l1_changes_the_leaf();
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 2, 0, 0), NEST_OK);
	assert_succeed();
	resume_ok();
	ck_assert_uint_eq(nfx_ept02_leaf(L2_PAGE), 0);
	l2_touches_the_page();
	ck_assert_uint_eq(nfx_ept02_leaf(L2_PAGE) & EPT_ADDR_MASK, host_of(L1_PAGE_NEW));
}
END_TEST

START_TEST(invept_of_another_eptp_keeps_the_shadow)
{
	launch_with_ept12();
	l2_touches_the_page();
	l2_exits_to_l1();
	l1_changes_the_leaf();
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 1, EPT12_OTHER | EPTP_WB_4, 0), NEST_OK);
	assert_succeed();
	resume_ok();
	ck_assert_uint_eq(nfx_ept02_leaf(L2_PAGE) & EPT_ADDR_MASK, host_of(L1_PAGE_OLD));
}
END_TEST

START_TEST(invept_failure_keeps_the_shadow)
{
	launch_with_ept12();
	l2_touches_the_page();
	l2_exits_to_l1();
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 1, EPT12_PML4 | 1 | (3ull << 3), 0), NEST_OK);
	assert_fail28();
	resume_ok();
	ck_assert_uint_eq(nfx_ept02_leaf(L2_PAGE) & EPT_ADDR_MASK, host_of(L1_PAGE_OLD));
}
END_TEST

START_TEST(invept_without_a_shadow_context_succeeds)
{
	/* The fixture's L0 has no nest_tdp: nothing is cached for EPT12. */
	ck_assert_int_eq(inv(NEST_VMX_EXIT_INVEPT, 1, EPTP12, 0), NEST_OK);
	assert_succeed();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmx_invalidate");
	TCase *ex = tcase_create("invept_exceptions");
	TCase *fail = tcase_create("invept_vmfail");
	TCase *vpid = tcase_create("invvpid");
	TCase *shadow = tcase_create("invept_shadow");

	tcase_add_checked_fixture(ex, setup, teardown);
	tcase_add_test(ex, invept_outside_vmx_operation_is_ud);
	tcase_add_test(ex, invept_without_ept_offered_is_ud);
	tcase_add_test(ex, invept_without_the_invept_capability_is_ud);
	tcase_add_test(ex, invept_when_the_policy_hides_ept_is_ud);
	tcase_add_test(ex, invept_in_compatibility_mode_is_ud);
	tcase_add_test(ex, invept_in_virtual_8086_mode_is_ud);
	tcase_add_test(ex, invept_at_cpl3_is_gp0);
	tcase_add_test(ex, invept_descriptor_at_a_non_canonical_address_is_gp0);
	tcase_add_test(ex, invept_descriptor_fault_comes_after_the_type_check);
	tcase_add_test(ex, invept_descriptor_crossing_into_an_unmapped_page_is_pf);
	suite_add_tcase(s, ex);

	tcase_add_checked_fixture(fail, setup, teardown);
	tcase_add_test(fail, invept_type_0_is_an_invalid_operand);
	tcase_add_test(fail, invept_type_3_is_an_invalid_operand);
	tcase_add_test(fail, invept_type_with_bits_63_32_set_in_64bit_mode_is_an_invalid_operand);
	tcase_add_test(fail, invept_type_register_is_32_bits_outside_64bit_mode);
	tcase_add_test(fail, invept_single_context_not_offered_is_an_invalid_operand);
	tcase_add_test(fail, invept_global_not_offered_is_an_invalid_operand);
	tcase_add_test(fail, invept_single_context_with_a_bad_memory_type_is_an_invalid_operand);
	tcase_add_test(fail,
		       invept_single_context_with_a_5level_walk_not_offered_is_an_invalid_operand);
	tcase_add_test(fail, invept_single_context_with_ad_not_offered_is_an_invalid_operand);
	tcase_add_test(fail, invept_single_context_with_reserved_eptp_bits_is_an_invalid_operand);
	tcase_add_test(fail, invept_global_ignores_the_descriptor);
	tcase_add_test(fail, invept_single_context_succeeds_with_a_valid_eptp);
	tcase_add_test(fail, invept_failure_without_a_current_vmcs_is_vmfail_invalid);
	suite_add_tcase(s, fail);

	tcase_add_checked_fixture(vpid, setup, teardown);
	tcase_add_test(vpid, invvpid_outside_vmx_operation_is_ud);
	tcase_add_test(vpid, invvpid_without_vpid_offered_is_ud);
	tcase_add_test(vpid, invvpid_without_the_invvpid_capability_is_ud);
	tcase_add_test(vpid, invvpid_in_real_mode_is_ud);
	tcase_add_test(vpid, invvpid_at_cpl1_is_gp0);
	tcase_add_test(vpid, invvpid_type_4_is_an_invalid_operand);
	tcase_add_test(vpid, invvpid_type_not_offered_is_an_invalid_operand);
	tcase_add_test(vpid, invvpid_descriptor_bits_63_16_are_reserved);
	tcase_add_test(vpid, invvpid_vpid_0_is_an_invalid_operand_except_for_all_context);
	tcase_add_test(vpid, invvpid_individual_address_must_be_canonical);
	tcase_add_test(vpid, invvpid_canonical_width_is_57_bits_with_la57);
	tcase_add_test(vpid, invvpid_other_types_ignore_the_address);
	tcase_add_test(vpid, invvpid_individual_address_flushes_that_address_of_vpid02);
	tcase_add_test(vpid, invvpid_context_types_flush_vpid02);
	tcase_add_test(vpid, invvpid_without_vpid02_flushes_nothing);
	tcase_add_test(vpid, invvpid_failure_flushes_nothing);
	suite_add_tcase(s, vpid);

	tcase_add_checked_fixture(shadow, setup, teardown);
	tcase_add_test(shadow, ept12_change_is_not_seen_before_invept);
	tcase_add_test(shadow, invept_single_context_makes_l2_see_the_changed_ept12_entry);
	tcase_add_test(shadow, invept_global_makes_l2_see_the_changed_ept12_entry);
	tcase_add_test(shadow, invept_of_another_eptp_keeps_the_shadow);
	tcase_add_test(shadow, invept_failure_keeps_the_shadow);
	tcase_add_test(shadow, invept_without_a_shadow_context_succeeds);
	suite_add_tcase(s, shadow);

	return nest_test_run(s);
}
