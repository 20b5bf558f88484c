/* SPDX-License-Identifier: MIT */
/*
 * L1's blocking by NMI across nested entry and reflected exits, through the
 * public calls: vmcs01's guest interruptibility after the exit follows SDM
 * 28.5.5 (an exit caused by an NMI blocks NMIs, other exits leave the
 * blocking L2 had; with "virtual NMIs" NMIs are not blocked in L2) and a
 * failed guest-state check keeps L1's own blocking.
 */
#include "check_main.h"
#include "vmx_fixture.h"

#define NMI_BLOCKED NEST_VMX_INTERRUPTIBILITY_NMI

static void setup(void)
{
	nfx_setup();
}

static void teardown(void)
{
	nfx_teardown();
}

static uint64_t l1_intr(void)
{
	return v01(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO);
}

/* L1 executes VMLAUNCH with `intr` as its interruptibility state. */
static void launch_with_l1_intr(uint64_t intr)
{
	sim_vmcs_set(&N.s, NEST_VMCS01, NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO, intr);
	launch_ok();
}

static void cpuid_exit_with_l2_intr(uint64_t intr)
{
	set02(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO, intr);
	set02(NEST_VMCS_VM_EXIT_INSTRUCTION_LEN, 2);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
}

START_TEST(without_virtual_nmis_l1_continues_with_l2_nmi_blocking)
{
	V12()->PIN_BASED_VM_EXEC_CONTROL &= ~NEST_VMX_PIN_VIRTUAL_NMIS;
	launch_with_l1_intr(0);
	cpuid_exit_with_l2_intr(NMI_BLOCKED);
	ck_assert_uint_eq(l1_intr(), NMI_BLOCKED);
	ck_assert_uint_eq(V12()->GUEST_INTERRUPTIBILITY_INFO, NMI_BLOCKED);
}
END_TEST

START_TEST(without_virtual_nmis_l2_unblocked_leaves_l1_unblocked)
{
	V12()->PIN_BASED_VM_EXEC_CONTROL &= ~NEST_VMX_PIN_VIRTUAL_NMIS;
	launch_with_l1_intr(NMI_BLOCKED);
	cpuid_exit_with_l2_intr(0);
	ck_assert_uint_eq(l1_intr(), 0);
}
END_TEST

START_TEST(with_virtual_nmis_l1_is_not_blocked_after_the_exit)
{
	launch_with_l1_intr(NMI_BLOCKED);
	cpuid_exit_with_l2_intr(NMI_BLOCKED); /* virtual-NMI blocking of L2 */
	ck_assert_uint_eq(l1_intr(), 0);
	ck_assert_uint_eq(V12()->GUEST_INTERRUPTIBILITY_INFO, NMI_BLOCKED);
}
END_TEST

START_TEST(nmi_exit_for_l1_blocks_nmis)
{
	launch_with_l1_intr(0);
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_NMI, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(l1_intr(), NMI_BLOCKED);
}
END_TEST

START_TEST(sti_blocking_of_l1_does_not_survive_the_exit)
{
	launch_with_l1_intr(NEST_VMX_INTERRUPTIBILITY_STI | NMI_BLOCKED);
	cpuid_exit_with_l2_intr(NEST_VMX_INTERRUPTIBILITY_STI);
	ck_assert_uint_eq(l1_intr(), 0);
}
END_TEST

START_TEST(failed_guest_state_check_keeps_l1_nmi_blocking)
{
	sim_vmcs_set(&N.s, NEST_VMCS01, NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO,
		     NEST_VMX_INTERRUPTIBILITY_STI | NMI_BLOCKED);
	V12()->GUEST_RFLAGS = 0; /* reserved bit 1 clear: exit reason 33 */
	ck_assert_int_eq(vmlaunch(), NEST_OK);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, 0x80000000u | NEST_VMX_EXIT_INVALID_GUEST_STATE);
	ck_assert_uint_eq(l1_intr(), NMI_BLOCKED);
}
END_TEST

START_TEST(failed_guest_state_check_keeps_l1_unblocked)
{
	V12()->GUEST_INTERRUPTIBILITY_INFO = NMI_BLOCKED;
	V12()->GUEST_RFLAGS = 0;
	ck_assert_int_eq(vmlaunch(), NEST_OK);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, 0x80000000u | NEST_VMX_EXIT_INVALID_GUEST_STATE);
	ck_assert_uint_eq(l1_intr(), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmx_nmi_blocking");
	TCase *t = tcase_create("nmi_blocking");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, without_virtual_nmis_l1_continues_with_l2_nmi_blocking);
	tcase_add_test(t, without_virtual_nmis_l2_unblocked_leaves_l1_unblocked);
	tcase_add_test(t, with_virtual_nmis_l1_is_not_blocked_after_the_exit);
	tcase_add_test(t, nmi_exit_for_l1_blocks_nmis);
	tcase_add_test(t, sti_blocking_of_l1_does_not_survive_the_exit);
	tcase_add_test(t, failed_guest_state_check_keeps_l1_nmi_blocking);
	tcase_add_test(t, failed_guest_state_check_keeps_l1_unblocked);
	suite_add_tcase(s, t);
	return nest_test_run(s);
}
