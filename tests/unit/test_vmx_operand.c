/* SPDX-License-Identifier: MIT */
/*
 * Memory operands of VMX instructions: effective address from the
 * instruction information (SDM 28.2.5), segmentation (#GP/#SS), L1 paging
 * (#PF with CR2, page-crossing operands), and the caller errors.
 * VMPTRST is the probe: it writes 8 bytes at the operand.
 */
#include "vmx_fixture.h"

static int vmptrst(uint32_t info, uint64_t disp)
{
	return exec(NEST_VMX_EXIT_VMPTRST, info, disp);
}

START_TEST(operand_is_base_plus_scaled_index_plus_displacement)
{
	N.regs.gpr[RSI] = 0x400;
	N.regs.gpr[RDI] = 0x20;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, RDI, 3, SIM_ADDR64), 0x8), NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(sim_read64(&N.s, 0x400 + 0x20 * 8 + 0x8), VMCS_GPA);
}
END_TEST

START_TEST(operand_displacement_is_sign_extended)
{
	N.regs.gpr[RSI] = 0x900;
	ck_assert_int_eq(
	    vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR64), (uint64_t)-0x100),
	    NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(sim_read64(&N.s, 0x800), VMCS_GPA);
}
END_TEST

START_TEST(operand_without_base_or_index_is_the_displacement)
{
	ck_assert_int_eq(
	    vmptrst(sim_vmx_info_mem(SEG_DS, SIM_NO_REG, SIM_NO_REG, 0, SIM_ADDR64), 0x840),
	    NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(sim_read64(&N.s, 0x840), VMCS_GPA);
}
END_TEST

START_TEST(operand_32bit_address_size_truncates)
{
	N.regs.gpr[RSI] = 0xffffffff00000880ull;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR32), 0),
			 NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(sim_read64(&N.s, 0x880), VMCS_GPA);
}
END_TEST

START_TEST(operand_16bit_address_size_wraps_at_64k)
{
	sim_vmx_regs32(&N.regs);
	N.regs.gpr[RSI] = 0xfff0;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR16), 0x20),
			 NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(sim_read64(&N.s, 0x10), VMCS_GPA);
}
END_TEST

START_TEST(operand_in_64bit_mode_ignores_ds_base)
{
	N.regs.seg[SEG_DS].base = 0x10000;
	N.regs.gpr[RSI] = 0x800;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_OK);
	ck_assert_uint_eq(sim_read64(&N.s, 0x800), VMCS_GPA);
}
END_TEST

START_TEST(operand_in_64bit_mode_adds_fs_and_gs_base)
{
	N.regs.seg[SEG_FS].base = 0x10000;
	N.regs.seg[SEG_GS].base = 0x20000;
	N.regs.gpr[RSI] = 0x800;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_FS, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_OK);
	ck_assert_uint_eq(sim_read64(&N.s, 0x10800), VMCS_GPA);
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_GS, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_OK);
	ck_assert_uint_eq(sim_read64(&N.s, 0x20800), VMCS_GPA);
}
END_TEST

START_TEST(operand_noncanonical_is_gp)
{
	N.regs.gpr[RSI] = 0x0000800000000000ull;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(operand_noncanonical_via_ss_is_ss)
{
	N.regs.gpr[RSP] = 0x0000800000000000ull;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_SS, RSP, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_OK);
	assert_inject(VEC_SS, 1, 0);
}
END_TEST

START_TEST(operand_whose_last_byte_is_noncanonical_is_gp)
{
	N.regs.gpr[RSI] = 0x00007ffffffffffcull;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(operand_with_la57_accepts_57bit_addresses_then_faults_in_paging)
{
	N.regs.cr4 |= 1ull << 12;
	N.regs.gpr[RSI] = 0x0000800000000000ull; /* canonical with 57 bits */
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_OK);
	assert_inject(VEC_PF, 1, 2);
	ck_assert_uint_eq(N.act.cr2, 0x0000800000000000ull);
}
END_TEST

START_TEST(operand_beyond_segment_limit_is_gp)
{
	sim_vmx_regs32(&N.regs);
	N.regs.seg[SEG_DS].limit = 0xfff;
	N.regs.gpr[RSI] = 0xffc; /* last byte at 0x1003 */
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR32), 0),
			 NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(operand_beyond_ss_limit_is_ss)
{
	sim_vmx_regs32(&N.regs);
	N.regs.seg[SEG_SS].limit = 0xfff;
	N.regs.gpr[RSP] = 0x1000;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_SS, RSP, SIM_NO_REG, 0, SIM_ADDR32), 0),
			 NEST_OK);
	assert_inject(VEC_SS, 1, 0);
}
END_TEST

START_TEST(operand_applies_segment_base_in_protected_mode)
{
	sim_vmx_regs32(&N.regs);
	N.regs.seg[SEG_ES].base = 0x30000;
	N.regs.gpr[RSI] = 0x800;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_ES, RSI, SIM_NO_REG, 0, SIM_ADDR32), 0),
			 NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(sim_read64(&N.s, 0x30800), VMCS_GPA);
}
END_TEST

START_TEST(operand_in_expand_down_segment_must_be_above_limit)
{
	sim_vmx_regs32(&N.regs);
	N.regs.seg[SEG_DS].ar = (N.regs.seg[SEG_DS].ar & ~0xfu) | 0x7u; /* RW expand-down */
	N.regs.seg[SEG_DS].limit = 0x7ff;
	N.regs.gpr[RSI] = 0x700;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR32), 0),
			 NEST_OK);
	assert_inject(VEC_GP, 1, 0);
	N.regs.gpr[RSI] = 0x800;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR32), 0),
			 NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(sim_read64(&N.s, 0x800), VMCS_GPA);
}
END_TEST

START_TEST(operand_in_unusable_segment_is_gp)
{
	sim_vmx_regs32(&N.regs);
	N.regs.seg[SEG_FS].ar |= 1u << 16;
	ck_assert_int_eq(
	    vmptrst(sim_vmx_info_mem(SEG_FS, SIM_NO_REG, SIM_NO_REG, 0, SIM_ADDR32), 0x800),
	    NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(operand_write_to_read_only_data_segment_is_gp)
{
	sim_vmx_regs32(&N.regs);
	N.regs.seg[SEG_DS].ar &= ~0x2u; /* read-only data */
	ck_assert_int_eq(
	    vmptrst(sim_vmx_info_mem(SEG_DS, SIM_NO_REG, SIM_NO_REG, 0, SIM_ADDR32), 0x800),
	    NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(operand_write_to_code_segment_is_gp)
{
	sim_vmx_regs32(&N.regs);
	ck_assert_int_eq(
	    vmptrst(sim_vmx_info_mem(SEG_CS, SIM_NO_REG, SIM_NO_REG, 0, SIM_ADDR32), 0x800),
	    NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(operand_read_from_execute_only_code_segment_is_gp)
{
	sim_vmx_regs32(&N.regs);
	N.regs.seg[SEG_CS].ar &= ~0x2u; /* execute-only */
	sim_write64(&N.s, 0x800, VMCS2_GPA);
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMPTRLD,
			      sim_vmx_info_mem(SEG_CS, SIM_NO_REG, SIM_NO_REG, 0, SIM_ADDR32),
			      0x800),
			 NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(operand_read_from_readable_code_segment_succeeds)
{
	struct nest_vmx_status st;

	sim_vmx_regs32(&N.regs);
	sim_write64(&N.s, 0x800, VMCS2_GPA);
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMPTRLD,
			      sim_vmx_info_mem(SEG_CS, SIM_NO_REG, SIM_NO_REG, 0, SIM_ADDR32),
			      0x800),
			 NEST_OK);
	assert_succeed();
	fx_status(&st);
	ck_assert_uint_eq(st.current_vmptr, VMCS2_GPA);
}
END_TEST

START_TEST(operand_not_mapped_by_l1_paging_is_pf_with_cr2)
{
	uint64_t la = MEM_SIZE + 0x10;

	N.regs.gpr[RSI] = la;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_OK);
	assert_inject(VEC_PF, 1, 2 /* W, supervisor, not present */);
	ck_assert_uint_eq(N.act.cr2, la);
}
END_TEST

START_TEST(operand_read_fault_has_read_error_code)
{
	N.regs.gpr[RSI] = MEM_SIZE;
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMPTRLD,
			      sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_OK);
	assert_inject(VEC_PF, 1, 0);
	ck_assert_uint_eq(N.act.cr2, MEM_SIZE);
}
END_TEST

START_TEST(page_crossing_operand_faulting_on_second_page_writes_nothing)
{
	uint64_t la = MEM_SIZE - 4;

	sim_write32(&N.s, la, 0x5a5a5a5a);
	N.regs.gpr[RSI] = la;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_OK);
	assert_inject(VEC_PF, 1, 2);
	ck_assert_uint_eq(N.act.cr2, MEM_SIZE);
	ck_assert_uint_eq(sim_read32(&N.s, la), 0x5a5a5a5a);
}
END_TEST

START_TEST(page_crossing_operand_is_split_across_pages)
{
	N.regs.gpr[RSI] = 0x4ffc;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(sim_read64(&N.s, 0x4ffc), VMCS_GPA);
	ck_assert_uint_eq(N.s.calls.l1_linear_to_phys >= 2, 1);
}
END_TEST

START_TEST(operand_without_paging_is_physical)
{
	N.s.l1_identity_paging = false; /* no l1_linear_to_phys op */
	sim_backend(&N.s);
	sim_vmx_regs32(&N.regs);
	N.regs.cr0 &= ~(1ull << 31);
	ck_assert_int_eq(
	    vmptrst(sim_vmx_info_mem(SEG_DS, SIM_NO_REG, SIM_NO_REG, 0, SIM_ADDR32), 0x800),
	    NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(sim_read64(&N.s, 0x800), VMCS_GPA);
}
END_TEST

START_TEST(operand_under_paging_without_translation_op_is_missing_op)
{
	struct nest_vmx_status st;

	N.s.l1_identity_paging = false;
	ck_assert_int_eq(ctx_reinit(), NEST_OK); /* the context copies the backend */
	N.regs.size = NEST_VMX_L1_REGS_MIN_SIZE; /* no CR3: libnest cannot walk either */
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_E_MISSING_OP);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_NONE);
	fx_status(&st);
	ck_assert_uint_eq(st.in_vmx_operation, 0);
}
END_TEST

START_TEST(operand_backend_failure_is_reported_to_the_caller)
{
	N.s.fail_write_after = 1;
	N.regs.gpr[RSI] = 0x800;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_E_BACKEND);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_NONE);
}
END_TEST

START_TEST(operand_in_memory_l0_does_not_back_is_a_fault_status)
{
	sim_unmap_page(&N.s, 0x800);
	N.regs.gpr[RSI] = 0x800;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_E_FAULT);
}
END_TEST

START_TEST(impossible_address_size_is_a_caller_error)
{
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, 3), 0), NEST_E_INVAL);
	sim_vmx_regs32(&N.regs);
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_E_INVAL);
}
END_TEST

START_TEST(impossible_segment_is_a_caller_error)
{
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(6, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_E_INVAL);
}
END_TEST

/* 4-level tables for libnest's own walk: linear WALK_LA maps to WALK_GPA;
 * the next page is not present. */
#define WALK_LA 0x0000008000203000ull /* PML4 1, PDPT 0, PD 1, PT 3 */
#define WALK_GPA 0x20000ull
#define PTE_P_RW 0x3ull

static void build_tables(void)
{
	sim_write64(&N.s, 0x10000 + 1 * 8, 0x11000 | PTE_P_RW);
	sim_write64(&N.s, 0x11000 + 0 * 8, 0x12000 | PTE_P_RW);
	sim_write64(&N.s, 0x12000 + 1 * 8, 0x13000 | PTE_P_RW);
	sim_write64(&N.s, 0x13000 + 3 * 8, WALK_GPA | PTE_P_RW);
	N.s.l1_identity_paging = false;
	sim_backend(&N.s); /* no l1_linear_to_phys: libnest walks */
	N.regs.cr3 = 0x10000;
	sim_reset_counters(&N.s);
}

START_TEST(operand_without_translation_op_walks_l1_page_tables)
{
	build_tables();
	N.regs.gpr[RSI] = WALK_LA + 0x10;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(sim_read64(&N.s, WALK_GPA + 0x10), VMCS_GPA);
	ck_assert_uint_eq(N.s.calls.l1_linear_to_phys, 0);
}
END_TEST

START_TEST(operand_walk_to_not_present_page_is_pf)
{
	build_tables();
	N.regs.gpr[RSI] = WALK_LA + 0x1000;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_OK);
	assert_inject(VEC_PF, 1, 2 /* W, supervisor, not present */);
	ck_assert_uint_eq(N.act.cr2, WALK_LA + 0x1000);
}
END_TEST

START_TEST(operand_walk_with_table_in_unbacked_memory_is_a_fault_status)
{
	build_tables();
	sim_unmap_page(&N.s, 0x12000);
	N.regs.gpr[RSI] = WALK_LA;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_E_FAULT);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_NONE);
}
END_TEST

START_TEST(operand_without_translation_op_or_cr3_is_missing_op)
{
	build_tables();
	N.regs.size = NEST_VMX_L1_REGS_MIN_SIZE; /* a caller that predates cr3 */
	N.regs.gpr[RSI] = WALK_LA;
	ck_assert_int_eq(vmptrst(sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR64), 0),
			 NEST_E_MISSING_OP);
}
END_TEST

static Suite *operand_suite(void)
{
	Suite *su = suite_create("vmx_operand");
	TCase *tc = tcase_create("operand");
	TCase *raw = tcase_create("outside_vmx");

	tcase_add_checked_fixture(tc, fx_setup_current_vmcs, fx_teardown);
	tcase_add_test(tc, operand_is_base_plus_scaled_index_plus_displacement);
	tcase_add_test(tc, operand_displacement_is_sign_extended);
	tcase_add_test(tc, operand_without_base_or_index_is_the_displacement);
	tcase_add_test(tc, operand_32bit_address_size_truncates);
	tcase_add_test(tc, operand_16bit_address_size_wraps_at_64k);
	tcase_add_test(tc, operand_in_64bit_mode_ignores_ds_base);
	tcase_add_test(tc, operand_in_64bit_mode_adds_fs_and_gs_base);
	tcase_add_test(tc, operand_noncanonical_is_gp);
	tcase_add_test(tc, operand_noncanonical_via_ss_is_ss);
	tcase_add_test(tc, operand_whose_last_byte_is_noncanonical_is_gp);
	tcase_add_test(tc, operand_with_la57_accepts_57bit_addresses_then_faults_in_paging);
	tcase_add_test(tc, operand_beyond_segment_limit_is_gp);
	tcase_add_test(tc, operand_beyond_ss_limit_is_ss);
	tcase_add_test(tc, operand_applies_segment_base_in_protected_mode);
	tcase_add_test(tc, operand_in_expand_down_segment_must_be_above_limit);
	tcase_add_test(tc, operand_in_unusable_segment_is_gp);
	tcase_add_test(tc, operand_write_to_read_only_data_segment_is_gp);
	tcase_add_test(tc, operand_write_to_code_segment_is_gp);
	tcase_add_test(tc, operand_read_from_execute_only_code_segment_is_gp);
	tcase_add_test(tc, operand_read_from_readable_code_segment_succeeds);
	tcase_add_test(tc, operand_not_mapped_by_l1_paging_is_pf_with_cr2);
	tcase_add_test(tc, operand_read_fault_has_read_error_code);
	tcase_add_test(tc, page_crossing_operand_faulting_on_second_page_writes_nothing);
	tcase_add_test(tc, page_crossing_operand_is_split_across_pages);
	tcase_add_test(tc, operand_without_paging_is_physical);
	tcase_add_test(tc, operand_backend_failure_is_reported_to_the_caller);
	tcase_add_test(tc, operand_in_memory_l0_does_not_back_is_a_fault_status);
	tcase_add_test(tc, impossible_address_size_is_a_caller_error);
	tcase_add_test(tc, impossible_segment_is_a_caller_error);
	tcase_add_test(tc, operand_without_translation_op_walks_l1_page_tables);
	tcase_add_test(tc, operand_walk_to_not_present_page_is_pf);
	tcase_add_test(tc, operand_walk_with_table_in_unbacked_memory_is_a_fault_status);
	tcase_add_test(tc, operand_without_translation_op_or_cr3_is_missing_op);
	suite_add_tcase(su, tc);
	tcase_add_checked_fixture(raw, fx_setup, fx_teardown);
	tcase_add_test(raw, operand_under_paging_without_translation_op_is_missing_op);
	suite_add_tcase(su, raw);
	return su;
}

int main(void)
{
	return run_suite(operand_suite());
}
