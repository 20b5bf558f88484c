/* SPDX-License-Identifier: MIT */
/*
 * The nested-VMX context as the caller sees it: storage and size rules,
 * configuration and backend validation, struct-size versioning, and the
 * caller errors of every entry point. Nothing here is L1's doing.
 */
#include "vmx_fixture.h"

START_TEST(size_is_at_least_the_cached_vmcs12)
{
	ck_assert_uint_ge(nest_vmx_size(), sizeof(struct nest__vmcs12));
}
END_TEST

START_TEST(init_rejects_null_arguments)
{
	struct nest_vmx *out;

	ck_assert_int_eq(nest_vmx_init(NULL, nest_vmx_size(), sim_backend(&N.s), &N.cfg, &out),
			 NEST_E_INVAL);
	ck_assert_int_eq(nest_vmx_init(N.mem, nest_vmx_size(), NULL, &N.cfg, &out), NEST_E_INVAL);
	ck_assert_int_eq(nest_vmx_init(N.mem, nest_vmx_size(), sim_backend(&N.s), NULL, &out),
			 NEST_E_INVAL);
	ck_assert_int_eq(nest_vmx_init(N.mem, nest_vmx_size(), sim_backend(&N.s), &N.cfg, NULL),
			 NEST_E_INVAL);
	N.cfg.host_caps = NULL;
	ck_assert_int_eq(nest_vmx_init(N.mem, nest_vmx_size(), sim_backend(&N.s), &N.cfg, &out),
			 NEST_E_INVAL);
}
END_TEST

START_TEST(init_rejects_storage_smaller_than_size)
{
	struct nest_vmx *out;

	ck_assert_int_eq(nest_vmx_init(N.mem, nest_vmx_size() - 1, sim_backend(&N.s), &N.cfg, &out),
			 NEST_E_SIZE);
}
END_TEST

START_TEST(init_rejects_misaligned_storage)
{
	struct nest_vmx *out;
	char *big = malloc(nest_vmx_size() + 16);

	ck_assert_int_eq(nest_vmx_init(big + 1, nest_vmx_size(), sim_backend(&N.s), &N.cfg, &out),
			 NEST_E_INVAL);
	free(big);
}
END_TEST

START_TEST(init_rejects_config_below_minimum_size)
{
	N.cfg.size = NEST_VMX_CONFIG_MIN_SIZE - 1;
	ck_assert_int_eq(ctx_reinit(), NEST_E_SIZE);
}
END_TEST

START_TEST(init_accepts_config_from_a_newer_caller)
{
	struct {
		struct nest_vmx_config cfg;
		uint64_t future;
	} big;

	memset(&big, 0, sizeof(big));
	big.cfg = N.cfg;
	big.cfg.size = sizeof(big);
	big.future = 0xdead;
	ck_assert_int_eq(nest_vmx_init(N.mem, nest_vmx_size(), sim_backend(&N.s), &big.cfg, &N.ctx),
			 NEST_OK);
}
END_TEST

START_TEST(init_rejects_host_caps_below_minimum_size)
{
	N.host.size = 8;
	ck_assert_int_eq(ctx_reinit(), NEST_E_SIZE);
}
END_TEST

START_TEST(init_rejects_backend_without_read_or_write)
{
	struct nest_backend_ops ops = N.s.ops;
	struct nest_backend be = {&ops, &N.s};
	struct nest_vmx *out;

	ops.read_l1 = NULL;
	ck_assert_int_eq(nest_vmx_init(N.mem, nest_vmx_size(), &be, &N.cfg, &out),
			 NEST_E_MISSING_OP);
	ops = N.s.ops;
	ops.size = 4;
	ck_assert_int_eq(nest_vmx_init(N.mem, nest_vmx_size(), &be, &N.cfg, &out), NEST_E_SIZE);
}
END_TEST

START_TEST(init_accepts_oldest_backend_ops_table)
{
	struct nest_backend_ops ops = N.s.ops;
	struct nest_backend be = {&ops, &N.s};

	ops.size = (uint32_t)NEST_BACKEND_OPS_MIN_SIZE;
	ck_assert_int_eq(nest_vmx_init(N.mem, nest_vmx_size(), &be, &N.cfg, &N.ctx), NEST_OK);
	/* l1_linear_to_phys lies beyond that size: absent; without CR3 in
	 * the registers libnest cannot walk L1's tables either. */
	N.regs.size = NEST_VMX_L1_REGS_MIN_SIZE;
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_E_MISSING_OP);
}
END_TEST

START_TEST(init_rejects_implausible_physical_address_width)
{
	N.cfg.l1_maxphyaddr = 53;
	ck_assert_int_eq(ctx_reinit(), NEST_E_INVAL);
	N.cfg.l1_maxphyaddr = 0;
	ck_assert_int_eq(ctx_reinit(), NEST_E_INVAL);
}
END_TEST

START_TEST(calls_on_uninitialised_context_are_caller_errors)
{
	struct nest_vmx_caps caps = {.size = sizeof(caps)};
	struct nest_vmx_status st = {.size = sizeof(st)};
	struct nest_vmx_action act = {.size = sizeof(act)};
	uint64_t v;

	memset(N.mem, 0, nest_vmx_size());
	sim_vmx_exit(&N.exit, NEST_VMX_EXIT_VMXOFF, 0, 0);
	ck_assert_int_eq(nest_vmx_l1_exit(N.ctx, &N.exit, &N.regs, &act), NEST_E_INVAL);
	ck_assert_int_eq(nest_vmx_offered_caps(N.ctx, &caps), NEST_E_INVAL);
	ck_assert_int_eq(nest_vmx_get_status(N.ctx, &st), NEST_E_INVAL);
	ck_assert_int_eq(nest_vmx_rdmsr(N.ctx, 0x480, &v, &act), NEST_E_INVAL);
	ck_assert_int_eq(nest_vmx_wrmsr(N.ctx, 0x3a, 0, &act), NEST_E_INVAL);
	ck_assert_int_eq(nest_vmx_l1_exit(NULL, &N.exit, &N.regs, &act), NEST_E_INVAL);
	ck_assert_int_eq(nest_vmx_offered_caps(NULL, &caps), NEST_E_INVAL);
	ck_assert_int_eq(nest_vmx_get_status(NULL, &st), NEST_E_INVAL);
}
END_TEST

START_TEST(l1_exit_rejects_null_pointers)
{
	sim_vmx_exit(&N.exit, NEST_VMX_EXIT_VMXOFF, 0, 0);
	N.act.size = sizeof(N.act);
	ck_assert_int_eq(nest_vmx_l1_exit(N.ctx, NULL, &N.regs, &N.act), NEST_E_INVAL);
	ck_assert_int_eq(nest_vmx_l1_exit(N.ctx, &N.exit, NULL, &N.act), NEST_E_INVAL);
	ck_assert_int_eq(nest_vmx_l1_exit(N.ctx, &N.exit, &N.regs, NULL), NEST_E_INVAL);
}
END_TEST

START_TEST(l1_exit_rejects_structs_below_minimum_size)
{
	sim_vmx_exit(&N.exit, NEST_VMX_EXIT_VMXOFF, 0, 0);
	N.act.size = NEST_VMX_ACTION_MIN_SIZE - 1;
	ck_assert_int_eq(nest_vmx_l1_exit(N.ctx, &N.exit, &N.regs, &N.act), NEST_E_SIZE);
	N.act.size = sizeof(N.act);
	N.exit.size = 8;
	ck_assert_int_eq(nest_vmx_l1_exit(N.ctx, &N.exit, &N.regs, &N.act), NEST_E_SIZE);
	N.exit.size = sizeof(N.exit);
	N.regs.size = 16;
	ck_assert_int_eq(nest_vmx_l1_exit(N.ctx, &N.exit, &N.regs, &N.act), NEST_E_SIZE);
}
END_TEST

START_TEST(l1_exit_writes_only_the_callers_action_size)
{
	struct {
		struct nest_vmx_action act;
		uint64_t canary;
	} big;

	memset(&big, 0xab, sizeof(big));
	big.act.size = sizeof(big.act);
	sim_vmx_exit(&N.exit, NEST_VMX_EXIT_VMXOFF, 0, 0);
	ck_assert_int_eq(nest_vmx_l1_exit(N.ctx, &N.exit, &N.regs, &big.act), NEST_OK);
	ck_assert_uint_eq(big.act.size, sizeof(big.act));
	ck_assert_uint_eq(big.act.kind, NEST_VMX_ACT_INJECT);
	ck_assert_uint_eq(big.canary, 0xababababababababull);
}
END_TEST

START_TEST(l1_exit_rejects_exit_reasons_it_does_not_handle)
{
	ck_assert_int_eq(exec(NEST_VMX_EXIT_CPUID, 0, 0), NEST_E_INVAL);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_NONE);
	ck_assert_int_eq(exec(NEST_VMX_EXIT_VMXOFF | (1u << 31), 0, 0), NEST_E_INVAL);
	ck_assert_int_eq(exec(0xffff, 0, 0), NEST_E_INVAL);
}
END_TEST

START_TEST(l1_exit_rejects_impossible_instruction_length_or_cpl)
{
	sim_vmx_exit(&N.exit, NEST_VMX_EXIT_VMXOFF, 0, 0);
	N.act.size = sizeof(N.act);
	N.exit.insn_len = 0;
	ck_assert_int_eq(nest_vmx_l1_exit(N.ctx, &N.exit, &N.regs, &N.act), NEST_E_INVAL);
	N.exit.insn_len = 16;
	ck_assert_int_eq(nest_vmx_l1_exit(N.ctx, &N.exit, &N.regs, &N.act), NEST_E_INVAL);
	N.exit.insn_len = 3;
	N.regs.cpl = 4;
	ck_assert_int_eq(nest_vmx_l1_exit(N.ctx, &N.exit, &N.regs, &N.act), NEST_E_INVAL);
}
END_TEST

START_TEST(status_after_init_is_outside_vmx_operation)
{
	struct nest_vmx_status st;

	fx_status(&st);
	ck_assert_uint_eq(st.in_vmx_operation, 0);
	ck_assert_uint_eq(st.vmxon_ptr, NEST_VMX_INVALID_VMPTR);
	ck_assert_uint_eq(st.current_vmptr, NEST_VMX_INVALID_VMPTR);
	ck_assert_uint_eq(st.feature_control, 0x5);
	st.size = 4;
	ck_assert_int_eq(nest_vmx_get_status(N.ctx, &st), NEST_E_SIZE);
	ck_assert_int_eq(nest_vmx_get_status(N.ctx, NULL), NEST_E_INVAL);
}
END_TEST

START_TEST(reinit_resets_vmx_operation)
{
	struct nest_vmx_status st;

	do_vmxon();
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	fx_status(&st);
	ck_assert_uint_eq(st.in_vmx_operation, 0);
}
END_TEST

static Suite *context_suite(void)
{
	Suite *su = suite_create("vmx_context");
	TCase *tc = tcase_create("context");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, size_is_at_least_the_cached_vmcs12);
	tcase_add_test(tc, init_rejects_null_arguments);
	tcase_add_test(tc, init_rejects_storage_smaller_than_size);
	tcase_add_test(tc, init_rejects_misaligned_storage);
	tcase_add_test(tc, init_rejects_config_below_minimum_size);
	tcase_add_test(tc, init_accepts_config_from_a_newer_caller);
	tcase_add_test(tc, init_rejects_host_caps_below_minimum_size);
	tcase_add_test(tc, init_rejects_backend_without_read_or_write);
	tcase_add_test(tc, init_accepts_oldest_backend_ops_table);
	tcase_add_test(tc, init_rejects_implausible_physical_address_width);
	tcase_add_test(tc, calls_on_uninitialised_context_are_caller_errors);
	tcase_add_test(tc, l1_exit_rejects_null_pointers);
	tcase_add_test(tc, l1_exit_rejects_structs_below_minimum_size);
	tcase_add_test(tc, l1_exit_writes_only_the_callers_action_size);
	tcase_add_test(tc, l1_exit_rejects_exit_reasons_it_does_not_handle);
	tcase_add_test(tc, l1_exit_rejects_impossible_instruction_length_or_cpl);
	tcase_add_test(tc, status_after_init_is_outside_vmx_operation);
	tcase_add_test(tc, reinit_resets_vmx_operation);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return run_suite(context_suite());
}
