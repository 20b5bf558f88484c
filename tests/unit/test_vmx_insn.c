/* SPDX-License-Identifier: MIT */
/*
 * VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD and VMWRITE: each check
 * of the SDM's "Operation" sections (Vol. 3C chapter 32) and each VMfail
 * number, one rule per test.
 */
#include "vmx_fixture.h"

/* ---- VMXON ---- */

START_TEST(vmxon_succeeds_enters_vmx_operation_and_advances_rip)
{
	struct nest_vmx_status st;

	N.regs.rflags = 0x2 | 0x8d5; /* every arithmetic flag set before */
	do_vmxon();
	ck_assert_uint_eq(N.act.flags & NEST_VMX_ACT_F_RIP, NEST_VMX_ACT_F_RIP);
	ck_assert_uint_eq(N.act.rflags, 0x2);
	fx_status(&st);
	ck_assert_uint_eq(st.in_vmx_operation, 1);
	ck_assert_uint_eq(st.vmxon_ptr, VMXON_GPA);
	ck_assert_uint_eq(st.current_vmptr, NEST_VMX_INVALID_VMPTR);
}
END_TEST

START_TEST(vmxon_with_register_operand_is_ud)
{
	N.regs.gpr[RBX] = VMXON_GPA;
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMXON, sim_vmx_info_reg(RBX, 0), 0), NEST_OK);
	assert_inject(VEC_UD, 0, 0);
}
END_TEST

START_TEST(vmxon_with_cr4_vmxe_clear_is_ud)
{
	N.regs.cr4 &= ~0x2000ull;
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_inject(VEC_UD, 0, 0);
}
END_TEST

START_TEST(vmxon_in_real_mode_is_ud)
{
	sim_vmx_regs32(&N.regs);
	N.regs.cr0 &= ~1ull;
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_inject(VEC_UD, 0, 0);
}
END_TEST

START_TEST(vmxon_in_virtual_8086_mode_is_ud)
{
	sim_vmx_regs32(&N.regs);
	N.regs.rflags |= 1ull << 17;
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_inject(VEC_UD, 0, 0);
}
END_TEST

START_TEST(vmxon_in_compatibility_mode_is_ud)
{
	N.regs.seg[SEG_CS].ar &= ~(1u << 13); /* CS.L = 0 with EFER.LMA = 1 */
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_inject(VEC_UD, 0, 0);
}
END_TEST

START_TEST(vmxon_when_vmx_not_allowed_is_ud)
{
	N.cfg.vmx_allowed = 0;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_inject(VEC_UD, 0, 0);
}
END_TEST

START_TEST(vmxon_at_cpl3_is_gp)
{
	N.regs.cpl = 3;
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(vmxon_with_cr0_fixed0_bit_clear_is_gp)
{
	N.regs.cr0 &= ~0x20ull; /* CR0.NE must be 1 in VMX operation */
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(vmxon_with_cr4_fixed1_bit_set_is_gp)
{
	N.regs.cr4 |= 1ull << 27; /* not allowed to be 1 by CR4_FIXED1 */
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(vmxon_with_feature_control_unlocked_is_gp)
{
	N.cfg.feature_control = 0x4;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(vmxon_with_vmxon_outside_smx_disabled_is_gp)
{
	N.cfg.feature_control = 0x1;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(vmxon_region_not_4k_aligned_is_vmfailinvalid)
{
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA + 8), NEST_OK);
	assert_fail_invalid();
}
END_TEST

START_TEST(vmxon_region_beyond_physical_address_width_is_vmfailinvalid)
{
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, 1ull << 46), NEST_OK);
	assert_fail_invalid();
}
END_TEST

START_TEST(vmxon_region_revision_mismatch_is_vmfailinvalid)
{
	sim_write32(&N.s, VMXON_GPA, NEST_VMCS12_REVISION + 1);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_fail_invalid();
}
END_TEST

START_TEST(vmxon_region_with_bit31_set_is_vmfailinvalid)
{
	sim_write32(&N.s, VMXON_GPA, NEST_VMCS12_REVISION | NEST_VMCS12_SHADOW_INDICATOR);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_fail_invalid();
}
END_TEST

START_TEST(vmxon_region_in_unbacked_memory_is_vmfailinvalid)
{
	sim_unmap_page(&N.s, VMXON_GPA);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_fail_invalid();
}
END_TEST

START_TEST(vmxon_in_vmx_root_without_current_vmcs_is_vmfailinvalid)
{
	do_vmxon();
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_fail_invalid();
}
END_TEST

START_TEST(vmxon_in_vmx_root_is_vmfail15)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_fail_valid(15);
}
END_TEST

START_TEST(vmxon_in_vmx_root_at_cpl3_is_gp)
{
	do_vmxon();
	N.regs.cpl = 3;
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

/* ---- VMXOFF ---- */

START_TEST(vmxoff_outside_vmx_operation_is_ud)
{
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMXOFF, 0, 0), NEST_OK);
	assert_inject(VEC_UD, 0, 0);
}
END_TEST

START_TEST(vmxoff_at_cpl3_is_gp)
{
	do_vmxon();
	N.regs.cpl = 3;
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMXOFF, 0, 0), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(vmxoff_leaves_vmx_operation)
{
	struct nest_vmx_status st;

	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMXOFF, 0, 0), NEST_OK);
	assert_succeed();
	fx_status(&st);
	ck_assert_uint_eq(st.in_vmx_operation, 0);
	ck_assert_uint_eq(st.current_vmptr, NEST_VMX_INVALID_VMPTR);
	ck_assert_uint_eq(st.vmxon_ptr, NEST_VMX_INVALID_VMPTR);
	ck_assert_int_eq(vmread_reg(NEST_VMCS_GUEST_RIP), NEST_OK);
	assert_inject(VEC_UD, 0, 0);
}
END_TEST

START_TEST(vmxoff_writes_the_cached_vmcs_back)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_GUEST_RIP, 0x1234), NEST_OK);
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMXOFF, 0, 0), NEST_OK);
	ck_assert_uint_eq(sim_read64(&N.s, VMCS_GPA + offsetof(struct nest__vmcs12, GUEST_RIP)),
			  0x1234);
}
END_TEST

/* ---- VMCLEAR ---- */

START_TEST(vmclear_outside_vmx_operation_is_ud)
{
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMCLEAR, VMCS_GPA), NEST_OK);
	assert_inject(VEC_UD, 0, 0);
}
END_TEST

START_TEST(vmclear_with_register_operand_is_ud)
{
	do_vmxon();
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMCLEAR, sim_vmx_info_reg(RBX, 0), 0), NEST_OK);
	assert_inject(VEC_UD, 0, 0);
}
END_TEST

START_TEST(vmclear_at_cpl3_is_gp)
{
	do_vmxon();
	N.regs.cpl = 3;
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMCLEAR, VMCS_GPA), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(vmclear_unaligned_address_is_vmfail2)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMCLEAR, VMCS2_GPA + 0x10), NEST_OK);
	assert_fail_valid(2);
}
END_TEST

START_TEST(vmclear_address_beyond_width_is_vmfail2)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMCLEAR, 1ull << 50), NEST_OK);
	assert_fail_valid(2);
}
END_TEST

START_TEST(vmclear_invalid_address_without_current_vmcs_is_vmfailinvalid)
{
	do_vmxon();
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMCLEAR, 0x10), NEST_OK);
	assert_fail_invalid();
}
END_TEST

START_TEST(vmclear_of_vmxon_pointer_is_vmfail3)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMCLEAR, VMXON_GPA), NEST_OK);
	assert_fail_valid(3);
}
END_TEST

START_TEST(vmclear_of_current_vmcs_writes_back_and_invalidates_pointer)
{
	struct nest_vmx_status st;
	uint64_t off = offsetof(struct nest__vmcs12, GUEST_RSP);

	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_GUEST_RSP, 0xabcd), NEST_OK);
	ck_assert_uint_eq(sim_read64(&N.s, VMCS_GPA + off), 0); /* cached until VMCLEAR */
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMCLEAR, VMCS_GPA), NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(sim_read64(&N.s, VMCS_GPA + off), 0xabcd);
	ck_assert_uint_eq(sim_read32(&N.s, VMCS_GPA + offsetof(struct nest__vmcs12, launch_state)),
			  NEST_VMCS12_STATE_CLEAR);
	fx_status(&st);
	ck_assert_uint_eq(st.current_vmptr, NEST_VMX_INVALID_VMPTR);
}
END_TEST

START_TEST(vmclear_of_other_vmcs_sets_its_launch_state_clear)
{
	uint64_t ls = VMCS2_GPA + offsetof(struct nest__vmcs12, launch_state);
	struct nest_vmx_status st;

	sim_write32(&N.s, ls, NEST_VMCS12_STATE_LAUNCHED);
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMCLEAR, VMCS2_GPA), NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(sim_read32(&N.s, ls), NEST_VMCS12_STATE_CLEAR);
	fx_status(&st);
	ck_assert_uint_eq(st.current_vmptr, VMCS_GPA);
}
END_TEST

/* ---- VMPTRLD ---- */

START_TEST(vmptrld_outside_vmx_operation_is_ud)
{
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMPTRLD, VMCS_GPA), NEST_OK);
	assert_inject(VEC_UD, 0, 0);
}
END_TEST

START_TEST(vmptrld_with_register_operand_is_ud)
{
	do_vmxon();
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMPTRLD, sim_vmx_info_reg(RBX, 0), 0), NEST_OK);
	assert_inject(VEC_UD, 0, 0);
}
END_TEST

START_TEST(vmptrld_in_compatibility_mode_is_ud)
{
	do_vmxon();
	N.regs.seg[SEG_CS].ar &= ~(1u << 13);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMPTRLD, VMCS_GPA), NEST_OK);
	assert_inject(VEC_UD, 0, 0);
}
END_TEST

START_TEST(vmptrld_at_cpl3_is_gp)
{
	do_vmxon();
	N.regs.cpl = 3;
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMPTRLD, VMCS_GPA), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(vmptrld_unaligned_address_is_vmfail9)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMPTRLD, VMCS2_GPA + 0x800), NEST_OK);
	assert_fail_valid(9);
}
END_TEST

START_TEST(vmptrld_address_beyond_width_is_vmfail9)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMPTRLD, 0xfffff000ull << 20), NEST_OK);
	assert_fail_valid(9);
}
END_TEST

START_TEST(vmptrld_invalid_address_without_current_vmcs_is_vmfailinvalid)
{
	do_vmxon();
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMPTRLD, 1), NEST_OK);
	assert_fail_invalid();
}
END_TEST

START_TEST(vmptrld_of_vmxon_pointer_is_vmfail10)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMPTRLD, VMXON_GPA), NEST_OK);
	assert_fail_valid(10);
}
END_TEST

START_TEST(vmptrld_revision_mismatch_is_vmfail11)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	sim_write32(&N.s, VMCS2_GPA, 0x12345678);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMPTRLD, VMCS2_GPA), NEST_OK);
	assert_fail_valid(11);
}
END_TEST

START_TEST(vmptrld_shadow_indicator_without_shadowing_is_vmfail11)
{
	N.cfg.features &= ~NEST_VMX_F_VMCS_SHADOWING;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	sim_write32(&N.s, VMCS2_GPA, NEST_VMCS12_REVISION | NEST_VMCS12_SHADOW_INDICATOR);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMPTRLD, VMCS2_GPA), NEST_OK);
	assert_fail_valid(11);
}
END_TEST

START_TEST(vmptrld_shadow_indicator_with_shadowing_succeeds)
{
	/* The config asks for every feature: VMCS shadowing is offered, and
	 * L1 makes its shadow VMCS current to write it (SDM 25.10). */
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	sim_write32(&N.s, VMCS2_GPA, NEST_VMCS12_REVISION | NEST_VMCS12_SHADOW_INDICATOR);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMPTRLD, VMCS2_GPA), NEST_OK);
	assert_succeed();
}
END_TEST

START_TEST(vmptrld_of_unbacked_memory_is_vmfail11)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	sim_unmap_page(&N.s, VMCS2_GPA);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMPTRLD, VMCS2_GPA), NEST_OK);
	assert_fail_valid(11);
}
END_TEST

START_TEST(vmptrld_fetches_the_region_once)
{
	do_vmxon();
	sim_reset_counters(&N.s);
	do_vmptrld(VMCS_GPA);
	/* One read of the m64 operand, one of the region. */
	ck_assert_uint_eq(N.s.calls.read_l1, 2);
	sim_reset_counters(&N.s);
	ck_assert_int_eq(vmread_reg(NEST_VMCS_GUEST_RIP), NEST_OK);
	ck_assert_uint_eq(N.s.calls.read_l1, 0);
}
END_TEST

START_TEST(vmptrld_uses_fields_from_l1_memory)
{
	sim_write64(&N.s, VMCS_GPA + offsetof(struct nest__vmcs12, GUEST_RIP), 0xfeedull);
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmread_reg(NEST_VMCS_GUEST_RIP), NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(N.act.gpr_value, 0xfeed);
}
END_TEST

START_TEST(vmptrld_of_another_vmcs_writes_back_the_previous)
{
	struct nest_vmx_status st;

	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_GUEST_RIP, 0x77), NEST_OK);
	do_vmptrld(VMCS2_GPA);
	ck_assert_uint_eq(sim_read64(&N.s, VMCS_GPA + offsetof(struct nest__vmcs12, GUEST_RIP)),
			  0x77);
	fx_status(&st);
	ck_assert_uint_eq(st.current_vmptr, VMCS2_GPA);
}
END_TEST

START_TEST(vmptrld_of_current_vmcs_keeps_cached_values)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_GUEST_RIP, 0x55), NEST_OK);
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmread_reg(NEST_VMCS_GUEST_RIP), NEST_OK);
	ck_assert_uint_eq(N.act.gpr_value, 0x55);
}
END_TEST

START_TEST(vmptrld_normalises_a_corrupt_launch_state)
{
	struct nest_vmx_status st;

	sim_write32(&N.s, VMCS_GPA + offsetof(struct nest__vmcs12, launch_state), 0xdead);
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	fx_status(&st);
	ck_assert_uint_eq(st.launch_state, NEST_VMCS12_STATE_CLEAR);
}
END_TEST

/* ---- VMPTRST ---- */

START_TEST(vmptrst_without_current_vmcs_stores_all_ones)
{
	do_vmxon();
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMPTRST, 0), NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(sim_read64(&N.s, PTR_GPA), UINT64_MAX);
}
END_TEST

START_TEST(vmptrst_stores_current_vmcs_pointer)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMPTRST, 0), NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(sim_read64(&N.s, PTR_GPA), VMCS_GPA);
}
END_TEST

START_TEST(vmptrst_with_register_operand_is_ud)
{
	do_vmxon();
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMPTRST, sim_vmx_info_reg(RBX, 0), 0), NEST_OK);
	assert_inject(VEC_UD, 0, 0);
}
END_TEST

START_TEST(vmptrst_at_cpl3_is_gp)
{
	do_vmxon();
	N.regs.cpl = 3;
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMPTRST, 0), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

/* ---- VMREAD ---- */

START_TEST(vmread_outside_vmx_operation_is_ud)
{
	ck_assert_int_eq(vmread_reg(NEST_VMCS_GUEST_RIP), NEST_OK);
	assert_inject(VEC_UD, 0, 0);
}
END_TEST

START_TEST(vmread_in_virtual_8086_mode_is_ud)
{
	do_vmxon();
	sim_vmx_regs32(&N.regs);
	N.regs.rflags |= 1ull << 17;
	ck_assert_int_eq(vmread_reg(NEST_VMCS_GUEST_RIP), NEST_OK);
	assert_inject(VEC_UD, 0, 0);
}
END_TEST

START_TEST(vmread_at_cpl3_is_gp)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	N.regs.cpl = 3;
	ck_assert_int_eq(vmread_reg(NEST_VMCS_GUEST_RIP), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(vmread_without_current_vmcs_is_vmfailinvalid)
{
	do_vmxon();
	ck_assert_int_eq(vmread_reg(NEST_VMCS_GUEST_RIP), NEST_OK);
	assert_fail_invalid();
}
END_TEST

START_TEST(vmread_of_unsupported_field_is_vmfail12)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmread_reg(0x6ffe), NEST_OK);
	assert_fail_valid(12);
}
END_TEST

START_TEST(vmread_encoding_with_bits_63_32_set_is_vmfail12)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmread_reg(0), NEST_OK);
	N.regs.gpr[RCX] = (1ull << 32) | NEST_VMCS_GUEST_RIP;
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMREAD, sim_vmx_info_reg(RAX, RCX), 0), NEST_OK);
	assert_fail_valid(12);
}
END_TEST

/* Bit 12 of an encoding is reserved (SDM 25.11.2): 0x781e is no field, not
 * GUEST_RIP (0x681e). */
START_TEST(vmread_encoding_with_bit_12_set_is_vmfail12)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmread_reg(0x1000 | NEST_VMCS_GUEST_RIP), NEST_OK);
	assert_fail_valid(12);
	ck_assert_int_eq(vmwrite_reg(0x1000 | NEST_VMCS_GUEST_RIP, 0x1234), NEST_OK);
	assert_fail_valid(12);
}
END_TEST

START_TEST(vmread_high_access_of_natural_width_field_is_vmfail12)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmread_reg(NEST_VMCS_GUEST_RIP | 1), NEST_OK);
	assert_fail_valid(12);
}
END_TEST

START_TEST(vmread_to_register_returns_the_field)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_GUEST_CR3, 0x123456789000ull), NEST_OK);
	ck_assert_int_eq(vmread_reg(NEST_VMCS_GUEST_CR3), NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(N.act.flags & NEST_VMX_ACT_F_GPR, NEST_VMX_ACT_F_GPR);
	ck_assert_uint_eq(N.act.gpr, RAX);
	ck_assert_uint_eq(N.act.gpr_value, 0x123456789000ull);
}
END_TEST

START_TEST(vmread_to_memory_writes_eight_bytes_in_64bit_mode)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_GUEST_RSP, 0x1122334455667788ull), NEST_OK);
	N.regs.gpr[RCX] = NEST_VMCS_GUEST_RSP;
	N.regs.gpr[RSI] = DATA_GPA;
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMREAD,
			      sim_vmx_info_mem_reg2(
				  sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR64), RCX),
			      0),
			 NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(N.act.flags & NEST_VMX_ACT_F_GPR, 0);
	ck_assert_uint_eq(sim_read64(&N.s, DATA_GPA), 0x1122334455667788ull);
}
END_TEST

START_TEST(vmread_of_16bit_field_zero_extends)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_GUEST_CS_SELECTOR, 0xffffffffffff0008ull), NEST_OK);
	ck_assert_int_eq(vmread_reg(NEST_VMCS_GUEST_CS_SELECTOR), NEST_OK);
	ck_assert_uint_eq(N.act.gpr_value, 0x0008);
}
END_TEST

START_TEST(vmread_in_32bit_mode_returns_low_half_of_64bit_field)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_TSC_OFFSET, 0xaaaabbbbccccddddull), NEST_OK);
	sim_vmx_regs32(&N.regs);
	ck_assert_int_eq(vmread_reg(NEST_VMCS_TSC_OFFSET), NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(N.act.gpr_value, 0xccccddddull);
	ck_assert_int_eq(vmread_reg(NEST_VMCS_TSC_OFFSET | 1), NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(N.act.gpr_value, 0xaaaabbbbull);
}
END_TEST

START_TEST(vmread_in_32bit_mode_ignores_encoding_register_high_bits)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	sim_vmx_regs32(&N.regs);
	N.regs.gpr[RCX] = (1ull << 40) | NEST_VMCS_GUEST_RIP;
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMREAD, sim_vmx_info_reg(RAX, RCX), 0), NEST_OK);
	assert_succeed();
}
END_TEST

START_TEST(vmread_in_32bit_mode_writes_four_bytes_to_memory)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_GUEST_RSP, 0x1122334455667788ull), NEST_OK);
	sim_write64(&N.s, DATA_GPA, UINT64_MAX);
	sim_vmx_regs32(&N.regs);
	N.regs.gpr[RCX] = NEST_VMCS_GUEST_RSP;
	N.regs.gpr[RSI] = DATA_GPA;
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMREAD,
			      sim_vmx_info_mem_reg2(
				  sim_vmx_info_mem(SEG_DS, RSI, SIM_NO_REG, 0, SIM_ADDR32), RCX),
			      0),
			 NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(sim_read64(&N.s, DATA_GPA), 0xffffffff55667788ull);
}
END_TEST

/* ---- VMWRITE ---- */

START_TEST(vmwrite_outside_vmx_operation_is_ud)
{
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_GUEST_RIP, 1), NEST_OK);
	assert_inject(VEC_UD, 0, 0);
}
END_TEST

START_TEST(vmwrite_at_cpl3_is_gp)
{
	do_vmxon();
	N.regs.cpl = 3;
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_GUEST_RIP, 1), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(vmwrite_without_current_vmcs_is_vmfailinvalid)
{
	do_vmxon();
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_GUEST_RIP, 1), NEST_OK);
	assert_fail_invalid();
}
END_TEST

START_TEST(vmwrite_of_unsupported_field_is_vmfail12)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmwrite_reg(0x8000, 1), NEST_OK);
	assert_fail_valid(12);
}
END_TEST

START_TEST(vmwrite_encoding_with_bits_63_32_set_is_vmfail12)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	N.regs.gpr[RCX] = (1ull << 63) | NEST_VMCS_GUEST_RIP;
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMWRITE, sim_vmx_info_reg(RDX, RCX), 0), NEST_OK);
	assert_fail_valid(12);
}
END_TEST

START_TEST(vmwrite_to_read_only_field_is_vmfail13_without_misc_bit29)
{
	N.cfg.features &= ~NEST_VMX_F_VMWRITE_ANY;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_EXIT_QUALIFICATION, 1), NEST_OK);
	assert_fail_valid(13);
}
END_TEST

START_TEST(vmwrite_to_read_only_field_succeeds_with_misc_bit29)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_EXIT_QUALIFICATION, 0x99), NEST_OK);
	assert_succeed();
	ck_assert_int_eq(vmread_reg(NEST_VMCS_EXIT_QUALIFICATION), NEST_OK);
	ck_assert_uint_eq(N.act.gpr_value, 0x99);
}
END_TEST

START_TEST(vmfail_valid_stores_the_error_number_in_the_vmcs)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmwrite_reg(0x8000, 1), NEST_OK);
	assert_fail_valid(12);
	ck_assert_int_eq(vmread_reg(NEST_VMCS_VM_INSTRUCTION_ERROR), NEST_OK);
	assert_succeed();
	ck_assert_uint_eq(N.act.gpr_value, 12);
}
END_TEST

START_TEST(vmwrite_from_memory_reads_the_operand)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	sim_write64(&N.s, DATA_GPA, 0xcafef00dull);
	N.regs.gpr[RCX] = NEST_VMCS_GUEST_RIP;
	N.regs.gpr[RDI] = DATA_GPA;
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMWRITE,
			      sim_vmx_info_mem_reg2(
				  sim_vmx_info_mem(SEG_DS, RDI, SIM_NO_REG, 0, SIM_ADDR64), RCX),
			      0),
			 NEST_OK);
	assert_succeed();
	ck_assert_int_eq(vmread_reg(NEST_VMCS_GUEST_RIP), NEST_OK);
	ck_assert_uint_eq(N.act.gpr_value, 0xcafef00dull);
}
END_TEST

START_TEST(vmwrite_memory_fault_comes_before_field_check)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	N.regs.gpr[RCX] = 0x8000;     /* unsupported */
	N.regs.gpr[RDI] = 1ull << 47; /* non-canonical */
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMWRITE,
			      sim_vmx_info_mem_reg2(
				  sim_vmx_info_mem(SEG_DS, RDI, SIM_NO_REG, 0, SIM_ADDR64), RCX),
			      0),
			 NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(vmread_field_check_comes_before_memory_fault)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	N.regs.gpr[RCX] = 0x8000;
	N.regs.gpr[RDI] = 1ull << 47;
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMREAD,
			      sim_vmx_info_mem_reg2(
				  sim_vmx_info_mem(SEG_DS, RDI, SIM_NO_REG, 0, SIM_ADDR64), RCX),
			      0),
			 NEST_OK);
	assert_fail_valid(12);
}
END_TEST

START_TEST(vmwrite_in_32bit_mode_full_access_clears_high_half)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_TSC_OFFSET, 0xffffffffffffffffull), NEST_OK);
	sim_vmx_regs32(&N.regs);
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_TSC_OFFSET, 0x1234), NEST_OK);
	assert_succeed();
	sim_vmx_regs64(&N.regs);
	ck_assert_int_eq(vmread_reg(NEST_VMCS_TSC_OFFSET), NEST_OK);
	ck_assert_uint_eq(N.act.gpr_value, 0x1234);
}
END_TEST

START_TEST(vmwrite_high_access_writes_only_the_high_half)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_TSC_OFFSET, 0x11112222ull), NEST_OK);
	sim_vmx_regs32(&N.regs);
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_TSC_OFFSET | 1, 0x33334444ull), NEST_OK);
	assert_succeed();
	sim_vmx_regs64(&N.regs);
	ck_assert_int_eq(vmread_reg(NEST_VMCS_TSC_OFFSET), NEST_OK);
	ck_assert_uint_eq(N.act.gpr_value, 0x3333444411112222ull);
}
END_TEST

START_TEST(vmwrite_to_16bit_field_keeps_low_16_bits)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_VIRTUAL_PROCESSOR_ID, 0x12345), NEST_OK);
	ck_assert_int_eq(vmread_reg(NEST_VMCS_VIRTUAL_PROCESSOR_ID), NEST_OK);
	ck_assert_uint_eq(N.act.gpr_value, 0x2345);
}
END_TEST

START_TEST(rip_wraps_at_4g_outside_64bit_mode)
{
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	sim_vmx_regs32(&N.regs);
	N.regs.rip = 0xfffffffeull;
	ck_assert_int_eq(vmread_reg(NEST_VMCS_GUEST_RIP), NEST_OK);
	ck_assert_uint_eq(N.act.rip, 1);
}
END_TEST

static Suite *insn_suite(void)
{
	Suite *su = suite_create("vmx_insn");
	TCase *tc = tcase_create("insn");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, vmxon_succeeds_enters_vmx_operation_and_advances_rip);
	tcase_add_test(tc, vmxon_with_register_operand_is_ud);
	tcase_add_test(tc, vmxon_with_cr4_vmxe_clear_is_ud);
	tcase_add_test(tc, vmxon_in_real_mode_is_ud);
	tcase_add_test(tc, vmxon_in_virtual_8086_mode_is_ud);
	tcase_add_test(tc, vmxon_in_compatibility_mode_is_ud);
	tcase_add_test(tc, vmxon_when_vmx_not_allowed_is_ud);
	tcase_add_test(tc, vmxon_at_cpl3_is_gp);
	tcase_add_test(tc, vmxon_with_cr0_fixed0_bit_clear_is_gp);
	tcase_add_test(tc, vmxon_with_cr4_fixed1_bit_set_is_gp);
	tcase_add_test(tc, vmxon_with_feature_control_unlocked_is_gp);
	tcase_add_test(tc, vmxon_with_vmxon_outside_smx_disabled_is_gp);
	tcase_add_test(tc, vmxon_region_not_4k_aligned_is_vmfailinvalid);
	tcase_add_test(tc, vmxon_region_beyond_physical_address_width_is_vmfailinvalid);
	tcase_add_test(tc, vmxon_region_revision_mismatch_is_vmfailinvalid);
	tcase_add_test(tc, vmxon_region_with_bit31_set_is_vmfailinvalid);
	tcase_add_test(tc, vmxon_region_in_unbacked_memory_is_vmfailinvalid);
	tcase_add_test(tc, vmxon_in_vmx_root_without_current_vmcs_is_vmfailinvalid);
	tcase_add_test(tc, vmxon_in_vmx_root_is_vmfail15);
	tcase_add_test(tc, vmxon_in_vmx_root_at_cpl3_is_gp);
	tcase_add_test(tc, vmxoff_outside_vmx_operation_is_ud);
	tcase_add_test(tc, vmxoff_at_cpl3_is_gp);
	tcase_add_test(tc, vmxoff_leaves_vmx_operation);
	tcase_add_test(tc, vmxoff_writes_the_cached_vmcs_back);
	tcase_add_test(tc, vmclear_outside_vmx_operation_is_ud);
	tcase_add_test(tc, vmclear_with_register_operand_is_ud);
	tcase_add_test(tc, vmclear_at_cpl3_is_gp);
	tcase_add_test(tc, vmclear_unaligned_address_is_vmfail2);
	tcase_add_test(tc, vmclear_address_beyond_width_is_vmfail2);
	tcase_add_test(tc, vmclear_invalid_address_without_current_vmcs_is_vmfailinvalid);
	tcase_add_test(tc, vmclear_of_vmxon_pointer_is_vmfail3);
	tcase_add_test(tc, vmclear_of_current_vmcs_writes_back_and_invalidates_pointer);
	tcase_add_test(tc, vmclear_of_other_vmcs_sets_its_launch_state_clear);
	tcase_add_test(tc, vmptrld_outside_vmx_operation_is_ud);
	tcase_add_test(tc, vmptrld_with_register_operand_is_ud);
	tcase_add_test(tc, vmptrld_in_compatibility_mode_is_ud);
	tcase_add_test(tc, vmptrld_at_cpl3_is_gp);
	tcase_add_test(tc, vmptrld_unaligned_address_is_vmfail9);
	tcase_add_test(tc, vmptrld_address_beyond_width_is_vmfail9);
	tcase_add_test(tc, vmptrld_invalid_address_without_current_vmcs_is_vmfailinvalid);
	tcase_add_test(tc, vmptrld_of_vmxon_pointer_is_vmfail10);
	tcase_add_test(tc, vmptrld_revision_mismatch_is_vmfail11);
	tcase_add_test(tc, vmptrld_shadow_indicator_without_shadowing_is_vmfail11);
	tcase_add_test(tc, vmptrld_shadow_indicator_with_shadowing_succeeds);
	tcase_add_test(tc, vmptrld_of_unbacked_memory_is_vmfail11);
	tcase_add_test(tc, vmptrld_fetches_the_region_once);
	tcase_add_test(tc, vmptrld_uses_fields_from_l1_memory);
	tcase_add_test(tc, vmptrld_of_another_vmcs_writes_back_the_previous);
	tcase_add_test(tc, vmptrld_of_current_vmcs_keeps_cached_values);
	tcase_add_test(tc, vmptrld_normalises_a_corrupt_launch_state);
	tcase_add_test(tc, vmptrst_without_current_vmcs_stores_all_ones);
	tcase_add_test(tc, vmptrst_stores_current_vmcs_pointer);
	tcase_add_test(tc, vmptrst_with_register_operand_is_ud);
	tcase_add_test(tc, vmptrst_at_cpl3_is_gp);
	tcase_add_test(tc, vmread_outside_vmx_operation_is_ud);
	tcase_add_test(tc, vmread_in_virtual_8086_mode_is_ud);
	tcase_add_test(tc, vmread_at_cpl3_is_gp);
	tcase_add_test(tc, vmread_without_current_vmcs_is_vmfailinvalid);
	tcase_add_test(tc, vmread_of_unsupported_field_is_vmfail12);
	tcase_add_test(tc, vmread_encoding_with_bits_63_32_set_is_vmfail12);
	tcase_add_test(tc, vmread_encoding_with_bit_12_set_is_vmfail12);
	tcase_add_test(tc, vmread_high_access_of_natural_width_field_is_vmfail12);
	tcase_add_test(tc, vmread_to_register_returns_the_field);
	tcase_add_test(tc, vmread_to_memory_writes_eight_bytes_in_64bit_mode);
	tcase_add_test(tc, vmread_of_16bit_field_zero_extends);
	tcase_add_test(tc, vmread_in_32bit_mode_returns_low_half_of_64bit_field);
	tcase_add_test(tc, vmread_in_32bit_mode_ignores_encoding_register_high_bits);
	tcase_add_test(tc, vmread_in_32bit_mode_writes_four_bytes_to_memory);
	tcase_add_test(tc, vmwrite_outside_vmx_operation_is_ud);
	tcase_add_test(tc, vmwrite_at_cpl3_is_gp);
	tcase_add_test(tc, vmwrite_without_current_vmcs_is_vmfailinvalid);
	tcase_add_test(tc, vmwrite_of_unsupported_field_is_vmfail12);
	tcase_add_test(tc, vmwrite_encoding_with_bits_63_32_set_is_vmfail12);
	tcase_add_test(tc, vmwrite_to_read_only_field_is_vmfail13_without_misc_bit29);
	tcase_add_test(tc, vmwrite_to_read_only_field_succeeds_with_misc_bit29);
	tcase_add_test(tc, vmfail_valid_stores_the_error_number_in_the_vmcs);
	tcase_add_test(tc, vmwrite_from_memory_reads_the_operand);
	tcase_add_test(tc, vmwrite_memory_fault_comes_before_field_check);
	tcase_add_test(tc, vmread_field_check_comes_before_memory_fault);
	tcase_add_test(tc, vmwrite_in_32bit_mode_full_access_clears_high_half);
	tcase_add_test(tc, vmwrite_high_access_writes_only_the_high_half);
	tcase_add_test(tc, vmwrite_to_16bit_field_keeps_low_16_bits);
	tcase_add_test(tc, rip_wraps_at_4g_outside_64bit_mode);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return run_suite(insn_suite());
}
