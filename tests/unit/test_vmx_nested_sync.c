/* SPDX-License-Identifier: MIT */
/*
 * Scenarios of nested VMX on the simulated backend: how vmcs12 and the
 * hardware VMCSs stay in step - guest state left in vmcs02 until L1 needs
 * it, and hardware VMCS shadowing.
 */
#include "check_main.h"
#include "vmx_fixture.h"

/* ---- rarely read guest state, left in vmcs02 until needed ---- */

static int l1_vmread(uint32_t enc)
{
	N.regs.gpr[1] = enc; /* RCX */
	return l1_exec(NEST_VMX_EXIT_VMREAD, sim_vmx_info_reg(0 /* RAX */, 1 /* RCX */));
}

static int l1_vmwrite(uint32_t enc, uint64_t value)
{
	N.regs.gpr[1] = enc;   /* RCX */
	N.regs.gpr[2] = value; /* RDX */
	return l1_exec(NEST_VMX_EXIT_VMWRITE, sim_vmx_info_reg(2 /* RDX */, 1 /* RCX */));
}

START_TEST(reflected_exit_reads_only_the_per_exit_guest_state)
{
	launch_ok();
	sim_reset_counters(&N.s);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_uint_lt(N.s.calls.vmcs_read, 40);
}
END_TEST

/* An instruction's exit reads the exit information its reason defines and
 * no more (SDM 28.2): L1 sees the undefined or invalid fields as 0, not
 * what vmcs02 holds from an earlier exit. Another exit reads them all. */
START_TEST(instruction_exit_reads_only_the_exit_information_it_defines)
{
	launch_ok();
	set02(NEST_VMCS_IDT_VECTORING_INFO_FIELD, 0x80000b0e);
	set02(NEST_VMCS_VM_EXIT_INTR_INFO, 0x80000b0e);
	set02(NEST_VMCS_GUEST_PHYSICAL_ADDRESS, 0xdead000);
	set02(NEST_VMCS_GUEST_LINEAR_ADDRESS, 0xbeef000);
	set02(NEST_VMCS_VMX_INSTRUCTION_INFO, 0x1234);
	set02(NEST_VMCS_VM_EXIT_INSTRUCTION_LEN, 2);
	sim_reset_counters(&N.s);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0x77), NEST_OK);
	ck_assert_uint_le(N.s.calls.vmcs_read, 25);
	ck_assert_uint_eq(V12()->IDT_VECTORING_INFO_FIELD, 0);
	ck_assert_uint_eq(V12()->VM_EXIT_INTR_INFO, 0);
	ck_assert_uint_eq(V12()->GUEST_PHYSICAL_ADDRESS, 0);
	ck_assert_uint_eq(V12()->GUEST_LINEAR_ADDRESS, 0);
	ck_assert_uint_eq(V12()->VMX_INSTRUCTION_INFO, 0);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, 0);
	ck_assert_uint_eq(V12()->VM_EXIT_INSTRUCTION_LEN, 2);
	/* L2's VMCLEAR (always L1's) has a qualification (the displacement)
	 * and instruction information, and no linear address. */
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_VMCLEAR, 0x40), NEST_OK);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_VMCLEAR);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, 0x40);
	ck_assert_uint_eq(V12()->VMX_INSTRUCTION_INFO, 0x1234);
	ck_assert_uint_eq(V12()->GUEST_LINEAR_ADDRESS, 0);
	ck_assert_uint_eq(V12()->IDT_VECTORING_INFO_FIELD, 0);
	/* A triple fault may come during event delivery: all of it is read. */
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_TRIPLE_FAULT, 0), NEST_OK);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_TRIPLE_FAULT);
	ck_assert_uint_eq(V12()->IDT_VECTORING_INFO_FIELD, 0x80000b0e);
	ck_assert_uint_eq(V12()->GUEST_PHYSICAL_ADDRESS, 0xdead000);
}
END_TEST

START_TEST(l1_vmread_of_a_rare_field_sees_l2s_value)
{
	launch_ok();
	set02(NEST_VMCS_GUEST_ES_BASE, 0x1234);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_int_eq(l1_vmread(NEST_VMCS_GUEST_ES_BASE), NEST_OK);
	ck_assert_uint_eq(N.act.result, NEST_VMX_SUCCEED);
	ck_assert_uint_eq(N.act.gpr_value, 0x1234);
}
END_TEST

START_TEST(rare_field_l1_did_not_write_keeps_l2s_value_in_vmcs02)
{
	launch_ok();
	set02(NEST_VMCS_GUEST_ES_BASE, 0x1234);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_ES_BASE), 0x1234);
}
END_TEST

START_TEST(rare_field_l1_wrote_reaches_vmcs02)
{
	launch_ok();
	set02(NEST_VMCS_GUEST_ES_BASE, 0x1234);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_int_eq(l1_vmwrite(NEST_VMCS_GUEST_ES_BASE, 0x5678), NEST_OK);
	ck_assert_uint_eq(N.act.result, NEST_VMX_SUCCEED);
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_ES_BASE), 0x5678);
}
END_TEST

START_TEST(vmclear_writes_l2s_rare_fields_to_l1_memory)
{
	struct nest__vmcs12 img;

	launch_ok();
	set02(NEST_VMCS_GUEST_GS_BASE, 0xabcd);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_int_eq(l1_m64(NEST_VMX_EXIT_VMCLEAR, VMCS_GPA), NEST_OK);
	memcpy(&img, sim_ptr(&N.s, VMCS_GPA, sizeof(img)), sizeof(img));
	ck_assert_uint_eq(img.GUEST_GS_BASE, 0xabcd);
}
END_TEST

/* ---- hardware VMCS shadowing ---- */

static uint64_t shadow(uint32_t enc)
{
	uint64_t v = 0;

	sim_vmcs_get(&N.s, NEST_VMCS_SHADOW, enc, &v);
	return v;
}

/* L0 links a shadow VMCS; L1 makes its VMCS current again. */
static void with_shadowing(void)
{
	N.l0.flags = NEST_VMX_L0_F_SHADOW_VMCS;
	ck_assert_int_eq(nest_vmx_set_l0(N.ctx, &N.l0), NEST_OK);
	ck_assert_int_eq(l1_m64(NEST_VMX_EXIT_VMCLEAR, VMCS_GPA), NEST_OK);
	ck_assert_int_eq(l1_m64(NEST_VMX_EXIT_VMPTRLD, VMCS_GPA), NEST_OK);
	ck_assert_uint_eq(N.act.result, NEST_VMX_SUCCEED);
}

START_TEST(vmptrld_fills_the_shadow_vmcs)
{
	with_shadowing();
	ck_assert_uint_eq(shadow(NEST_VMCS_GUEST_RIP), V12()->GUEST_RIP);
	ck_assert_uint_eq(shadow(NEST_VMCS_GUEST_RSP), V12()->GUEST_RSP);
}
END_TEST

START_TEST(l1_write_through_the_shadow_reaches_vmcs02_at_entry)
{
	with_shadowing();
	sim_vmcs_set(&N.s, NEST_VMCS_SHADOW, NEST_VMCS_GUEST_RIP, 0x405000);
	launch_ok();
	ck_assert_uint_eq(V12()->GUEST_RIP, 0x405000);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_RIP), 0x405000);
}
END_TEST

START_TEST(reflected_exit_shows_in_the_shadow_vmcs)
{
	with_shadowing();
	launch_ok();
	set02(NEST_VMCS_GUEST_RIP, 0x401777);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_uint_eq(shadow(NEST_VMCS_VM_EXIT_REASON), NEST_VMX_EXIT_CPUID);
	ck_assert_uint_eq(shadow(NEST_VMCS_GUEST_RIP), 0x401777);
}
END_TEST

/* A guest field L1 cannot read through the shadow (GDTR base, ES selector):
 * L1's VMREAD of it exits and sees vmcs02's value (what L2 left there), and
 * L1's VMWRITE of one reaches vmcs02 at the next VMRESUME. A shadowed field
 * (RIP) is in the shadow after the exit. */
START_TEST(unshadowed_guest_fields_are_l2s_with_shadowing)
{
	with_shadowing();
	launch_ok();
	ck_assert(!(nest_vmcs_field_by_encoding(NEST_VMCS_GUEST_GDTR_BASE)->flags &
		    NEST_VMCS_F_SHADOW_READ));
	ck_assert(!(nest_vmcs_field_by_encoding(NEST_VMCS_GUEST_ES_SELECTOR)->flags &
		    NEST_VMCS_F_SHADOW_READ));
	set02(NEST_VMCS_GUEST_GDTR_BASE, 0xfffffe0000001000ull);
	set02(NEST_VMCS_GUEST_ES_SELECTOR, 0x28);
	set02(NEST_VMCS_GUEST_RIP, 0x401777);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_uint_eq(shadow(NEST_VMCS_GUEST_RIP), 0x401777);
	ck_assert_int_eq(vmread_reg(NEST_VMCS_GUEST_GDTR_BASE), NEST_OK);
	ck_assert_uint_eq(N.act.gpr_value, 0xfffffe0000001000ull);
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_GUEST_ES_SELECTOR, 0x18), NEST_OK);
	ck_assert_uint_eq(N.act.result, NEST_VMX_SUCCEED);
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMRESUME, 0, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_ES_SELECTOR), 0x18);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_GDTR_BASE), 0xfffffe0000001000ull);
}
END_TEST

/* Every field L1 reads through the shadow equals vmcs12's. */
static void assert_shadow_is_vmcs12(void)
{
	for (size_t i = 0; i < nest_vmcs_field_count(); i++) {
		const struct nest_vmcs_field *f = nest_vmcs_field_at(i);
		uint64_t want = 0;

		if (!(f->flags & NEST_VMCS_F_SHADOW_READ))
			continue;
		nest_vmcs12_image_read(V12(), f->encoding, &want);
		ck_assert_msg(shadow(f->encoding) == want, "shadow field %#x", f->encoding);
	}
}

/* Counting the backend's writes to the shadow VMCS. */
static struct nest_backend_ops counting_ops;
static unsigned shadow_writes;

static int counting_write(void *c, enum nest_vmcs_id which, uint32_t enc, uint64_t v)
{
	if (which == NEST_VMCS_SHADOW)
		shadow_writes++;
	return sim_backend(&N.s)->ops->vmcs_write(c, which, enc, v);
}

static void count_shadow_writes(void)
{
	counting_ops = *sim_backend(&N.s)->ops;
	counting_ops.vmcs_write = counting_write;
	N.ctx->be.ops = &counting_ops;
	shadow_writes = 0;
}

static unsigned shadow_read_fields(void)
{
	unsigned n = 0;

	for (size_t i = 0; i < nest_vmcs_field_count(); i++)
		n += (nest_vmcs_field_at(i)->flags & NEST_VMCS_F_SHADOW_READ) != 0;
	return n;
}

/* A reflected exit writes the shadow fields that changed, not all of them
 * (the shadow holds what libnest last wrote or read back). */
START_TEST(reflected_exit_writes_only_changed_shadow_fields)
{
	with_shadowing();
	launch_ok();
	count_shadow_writes();
	set02(NEST_VMCS_GUEST_RIP, 0x401777);
	set02(NEST_VMCS_GUEST_RSP, V12()->GUEST_RSP + 8);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_HLT, 0), NEST_OK);
	assert_shadow_is_vmcs12();
	ck_assert_uint_eq(shadow(NEST_VMCS_VM_EXIT_REASON), NEST_VMX_EXIT_HLT);
	ck_assert_uint_eq(shadow(NEST_VMCS_GUEST_RSP), V12()->GUEST_RSP);
	ck_assert_uint_gt(shadow_writes, 0);
	ck_assert_uint_lt(shadow_writes, shadow_read_fields() / 2);

	/* L1 writes RIP through the shadow; the next exit still shows vmcs12. */
	sim_vmcs_set(&N.s, NEST_VMCS_SHADOW, NEST_VMCS_GUEST_RIP, 0x401779);
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
	ck_assert_uint_eq(V12()->GUEST_RIP, 0x401779);
	set02(NEST_VMCS_GUEST_RIP, 0x401790);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	assert_shadow_is_vmcs12();
}
END_TEST

/* L1 makes a VMCS current: the shadow is written in full. */
START_TEST(vmptrld_rewrites_the_whole_shadow)
{
	with_shadowing();
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_int_eq(l1_m64(NEST_VMX_EXIT_VMCLEAR, VMCS_GPA), NEST_OK);
	count_shadow_writes();
	ck_assert_int_eq(l1_m64(NEST_VMX_EXIT_VMPTRLD, VMCS_GPA), NEST_OK);
	ck_assert_uint_eq(shadow_writes, shadow_read_fields());
	assert_shadow_is_vmcs12();
}
END_TEST

/* L1 reads the VM-instruction error through the shadow after a VMfail. */
START_TEST(vmfail_error_number_shows_in_the_shadow_vmcs)
{
	with_shadowing();
	ck_assert_int_eq(vmresume(), NEST_OK); /* not launched: VMfail(5), SDM 31.4 */
	ck_assert_uint_eq(N.act.result, NEST_VMX_FAIL_VALID);
	ck_assert_uint_eq(shadow(NEST_VMCS_VM_INSTRUCTION_ERROR), 5);
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_int_eq(vmlaunch(), NEST_OK); /* launched: VMfail(4) */
	ck_assert_uint_eq(shadow(NEST_VMCS_VM_INSTRUCTION_ERROR), 4);
	/* An exiting VMREAD of a field that does not exist: VMfail(12). */
	N.regs.gpr[RBX] = 0x7ffe;
	ck_assert_int_eq(l1_exec(NEST_VMX_EXIT_VMREAD, sim_vmx_info_reg(0, RBX)), NEST_OK);
	ck_assert_uint_eq(N.act.result, NEST_VMX_FAIL_VALID);
	ck_assert_uint_eq(shadow(NEST_VMCS_VM_INSTRUCTION_ERROR), 12);
}
END_TEST

START_TEST(vmclear_takes_shadow_writes_into_l1_memory)
{
	struct nest__vmcs12 img;

	with_shadowing();
	sim_vmcs_set(&N.s, NEST_VMCS_SHADOW, NEST_VMCS_GUEST_RIP, 0x406000);
	ck_assert_int_eq(l1_m64(NEST_VMX_EXIT_VMCLEAR, VMCS_GPA), NEST_OK);
	memcpy(&img, sim_ptr(&N.s, VMCS_GPA, sizeof(img)), sizeof(img));
	ck_assert_uint_eq(img.GUEST_RIP, 0x406000);
}
END_TEST

static Suite *nested_sync_suite(void)
{
	Suite *s = suite_create("vmx_nested_sync");
	TCase *t = tcase_create("sync");

	tcase_add_checked_fixture(t, nfx_setup, nfx_teardown);
	tcase_add_test(t, reflected_exit_reads_only_the_per_exit_guest_state);
	tcase_add_test(t, instruction_exit_reads_only_the_exit_information_it_defines);
	tcase_add_test(t, l1_vmread_of_a_rare_field_sees_l2s_value);
	tcase_add_test(t, rare_field_l1_did_not_write_keeps_l2s_value_in_vmcs02);
	tcase_add_test(t, rare_field_l1_wrote_reaches_vmcs02);
	tcase_add_test(t, vmclear_writes_l2s_rare_fields_to_l1_memory);
	tcase_add_test(t, vmptrld_fills_the_shadow_vmcs);
	tcase_add_test(t, l1_write_through_the_shadow_reaches_vmcs02_at_entry);
	tcase_add_test(t, reflected_exit_shows_in_the_shadow_vmcs);
	tcase_add_test(t, unshadowed_guest_fields_are_l2s_with_shadowing);
	tcase_add_test(t, vmfail_error_number_shows_in_the_shadow_vmcs);
	tcase_add_test(t, reflected_exit_writes_only_changed_shadow_fields);
	tcase_add_test(t, vmptrld_rewrites_the_whole_shadow);
	tcase_add_test(t, vmclear_takes_shadow_writes_into_l1_memory);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return nest_test_run(nested_sync_suite());
}
