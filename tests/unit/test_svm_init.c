/* SPDX-License-Identifier: MIT */
/* An INIT for L1's vCPU (nest_svm_init_signal()): held while GIF is clear,
 * L1's INIT intercept while L2 runs, VM_CR.R_INIT redirecting it into #SX
 * with error code 1, else the vCPU's reset (AMD APM vol. 2). */
#include <check.h>

#include "check_main.h"

#include <nest/svm.h>

#include "cpu/x86.h"
#include "sim_svm.h"

#define ICPT_INIT_BIT (1u << (NEST_SVM_ICPT_INIT - 96)) /* intercept_misc1 */

static struct sim_svm t;

static void setup(void)
{
	ck_assert_int_eq(sim_svm_init(&t, NEST_SVM_F_SUPPORTED,
				      NEST_SVM_CFG_SVM_ALLOWED | NEST_SVM_CFG_LONG_MODE, 1, NULL),
			 0);
}

static void teardown(void)
{
	sim_svm_fini(&t);
}

static struct nest_svm_state state(void)
{
	struct nest_svm_state st = {.size = sizeof(st)};

	ck_assert_int_eq(nest_svm_get_state(t.ctx, t.vmcb01, &st), NEST_OK);
	return st;
}

static void set_r_init(void)
{
	uint64_t hw;

	ck_assert_int_eq(nest_svm_wrmsr(t.ctx, X86_MSR_VM_CR, X86_VM_CR_R_INIT, &hw, &t.act),
			 NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
}

static void run_l2(uint32_t misc1, uint32_t exceptions)
{
	struct nest_vmcb v12;

	sim_svm_valid_vmcb12(&v12);
	v12.control.intercept_misc1 |= misc1;
	v12.control.intercept_exceptions |= exceptions;
	ck_assert_int_eq(sim_svm_vmrun(&t, &v12), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
}

START_TEST(init_in_l1_resets_the_vcpu)
{
	ck_assert(state().svme);
	ck_assert_int_eq(nest_svm_init_signal(t.ctx, t.vmcb01, &t.act), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_NONE);
	struct nest_svm_state st = state();
	ck_assert(!st.svme);
	ck_assert(st.gif);
	ck_assert(!st.guest_mode);
}
END_TEST

START_TEST(init_is_held_while_gif_is_clear)
{
	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_CLGI, 0), NEST_OK);
	ck_assert(!state().gif);
	ck_assert_int_eq(nest_svm_init_signal(t.ctx, t.vmcb01, &t.act), NEST_E_STATE);
	ck_assert(state().svme); /* nothing happened */
	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_STGI, 0), NEST_OK);
	ck_assert_int_eq(nest_svm_init_signal(t.ctx, t.vmcb01, &t.act), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_NONE);
}
END_TEST

START_TEST(r_init_in_l1_is_sx_with_error_code_1)
{
	set_r_init();
	ck_assert_int_eq(nest_svm_init_signal(t.ctx, t.vmcb01, &t.act), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_INJECT_L1);
	ck_assert_uint_eq(t.act.vector, X86_EXC_SX);
	ck_assert_uint_eq(t.act.has_error_code, 1);
	ck_assert_uint_eq(t.act.error_code, 1);
	ck_assert(state().svme);
}
END_TEST

START_TEST(init_intercepted_by_l1_is_a_vmexit)
{
	struct nest_vmcb v12;

	run_l2(ICPT_INIT_BIT, 0);
	set_r_init(); /* the intercept comes first */
	ck_assert_int_eq(nest_svm_init_signal(t.ctx, t.vmcb01, &t.act), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert(t.act.flags & NEST_SVM_ACT_F_REFLECTED);
	ck_assert_uint_eq(t.act.exitcode, NEST_SVM_EXIT_INIT);
	sim_svm_read_vmcb12(&t, &v12);
	ck_assert_uint_eq(v12.control.exitcode, NEST_SVM_EXIT_INIT);
	ck_assert(!state().guest_mode);
	ck_assert(state().svme);
}
END_TEST

START_TEST(r_init_in_l2_is_an_sx_exception_of_l2s)
{
	struct nest_vmcb v12;

	set_r_init();
	run_l2(0, 1u << X86_EXC_SX);
	ck_assert_int_eq(nest_svm_init_signal(t.ctx, t.vmcb01, &t.act), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert_uint_eq(t.act.exitcode, NEST_SVM_EXIT_EXCP_BASE + X86_EXC_SX);
	sim_svm_read_vmcb12(&t, &v12);
	ck_assert_uint_eq(v12.control.exitinfo1, 1);

	/* Not intercepted: L2 takes #SX itself. */
	run_l2(0, 0);
	t.vmcb02->control.event_inj = 0;
	ck_assert_int_eq(nest_svm_init_signal(t.ctx, t.vmcb01, &t.act), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
	uint64_t ev = t.vmcb02->control.event_inj;
	ck_assert(ev & NEST_SVM_EVTINJ_VALID);
	ck_assert(ev & NEST_SVM_EVTINJ_EV);
	ck_assert_uint_eq(ev & NEST_SVM_EVTINJ_VECTOR_MASK, X86_EXC_SX);
	ck_assert_uint_eq((ev & NEST_SVM_EVTINJ_TYPE_MASK) >> NEST_SVM_EVTINJ_TYPE_SHIFT,
			  NEST_SVM_EVTINJ_TYPE_EXCEPTION);
	ck_assert_uint_eq(ev >> 32, 1);
	/* A second one while that event waits is held. */
	ck_assert_int_eq(nest_svm_init_signal(t.ctx, t.vmcb01, &t.act), NEST_E_STATE);
}
END_TEST

START_TEST(init_in_l2_not_intercepted_resets_the_vcpu)
{
	run_l2(0, 0);
	ck_assert_int_eq(nest_svm_init_signal(t.ctx, t.vmcb01, &t.act), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_NONE);
	ck_assert(!state().guest_mode);
	ck_assert(!state().svme);
	ck_assert_int_eq(nest_svm_resume_l2(t.ctx, &t.act), NEST_E_STATE);
}
END_TEST

START_TEST(init_signal_checks_its_arguments)
{
	struct nest_svm_action small = {.size = 8};

	ck_assert_int_eq(nest_svm_init_signal(NULL, t.vmcb01, &t.act), NEST_E_INVAL);
	ck_assert_int_eq(nest_svm_init_signal(t.ctx, NULL, &t.act), NEST_E_INVAL);
	ck_assert_int_eq(nest_svm_init_signal(t.ctx, t.vmcb01, NULL), NEST_E_INVAL);
	ck_assert_int_eq(nest_svm_init_signal(t.ctx, t.vmcb01, &small), NEST_E_SIZE);
	ck_assert(state().svme);
}
END_TEST

static Suite *svm_init_suite(void)
{
	Suite *su = suite_create("svm_init");
	TCase *tc = tcase_create("init");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, init_in_l1_resets_the_vcpu);
	tcase_add_test(tc, init_is_held_while_gif_is_clear);
	tcase_add_test(tc, r_init_in_l1_is_sx_with_error_code_1);
	tcase_add_test(tc, init_intercepted_by_l1_is_a_vmexit);
	tcase_add_test(tc, r_init_in_l2_is_an_sx_exception_of_l2s);
	tcase_add_test(tc, init_in_l2_not_intercepted_resets_the_vcpu);
	tcase_add_test(tc, init_signal_checks_its_arguments);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return nest_test_run(svm_init_suite());
}
