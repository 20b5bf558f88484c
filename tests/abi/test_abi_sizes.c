/* SPDX-License-Identifier: MIT */
/*
 * Size-versioned output structs against callers of other versions: every
 * public entry point that fills one is called with an older caller's size
 * (the struct's MIN_SIZE, what the first release knew) and with a newer
 * caller's (larger than this build's struct), a guard of known bytes after
 * what the library may write. Nothing past min(caller's size, this build's
 * struct) may change, and the caller's size field stays as it set it.
 */
#include "check_main.h"
#include "vmx_fixture.h"

#include <nest/nest.h>

#include "sim_svm.h"

#define GUARD 0xa5
#define SLACK 64u

static union {
	uint8_t b[8192];
	uint64_t align;
} buf;
static size_t written_max; /* bytes the library may write */

/* A caller's struct of `caller` bytes whose version of the struct has
 * `ours` bytes in this build. */
static void *out(size_t caller, size_t ours)
{
	uint32_t size = (uint32_t)caller;

	ck_assert_uint_le(caller + SLACK, sizeof(buf.b));
	memset(buf.b, GUARD, sizeof(buf.b));
	memcpy(buf.b, &size, sizeof(size));
	written_max = caller < ours ? caller : ours;
	return buf.b;
}

static void *older(size_t min, size_t ours)
{
	return out(min, ours);
}

static void *newer(size_t ours)
{
	return out(ours + SLACK / 2, ours);
}

static void assert_guard_intact(size_t caller)
{
	uint32_t size;
	size_t i;

	memcpy(&size, buf.b, sizeof(size));
	ck_assert_uint_eq(size, caller);
	for (i = written_max; i < written_max + SLACK; i++)
		ck_assert_msg(buf.b[i] == GUARD, "byte %zu past the caller's struct was written",
			      i);
}

/* ---- the helper every entry point uses ---- */

START_TEST(copy_out_writes_only_what_an_older_caller_declared)
{
	struct {
		uint32_t size;
		uint32_t a;
		uint64_t b[8];
	} full;
	void *dst;

	memset(&full, 0x11, sizeof(full));
	dst = older(16, sizeof(full));
	ck_assert_int_eq(nest__copy_out(dst, &full, sizeof(full), 8), NEST_OK);
	assert_guard_intact(16);
	ck_assert_uint_eq(buf.b[8], 0x11);
	dst = older(4, sizeof(full));
	ck_assert_int_eq(nest__copy_out(dst, &full, sizeof(full), 8), NEST_E_SIZE);
	assert_guard_intact(4);
	dst = older(16, sizeof(full));
	nest__reset_out(dst, sizeof(full));
	assert_guard_intact(16);
	ck_assert_uint_eq(buf.b[8], 0);
}
END_TEST

/* ---- VMX ---- */

#define VMX_CALLS(CALL)                                                                            \
	CALL(vmx_offered_caps, struct nest_vmx_caps, NEST_VMX_CAPS_MIN_SIZE,                       \
	     nest_vmx_offered_caps(N.ctx, p))                                                      \
	CALL(vmx_caps_default, struct nest_vmx_caps, NEST_VMX_CAPS_MIN_SIZE,                       \
	     nest_vmx_caps_default(p))                                                             \
	CALL(vmx_get_status, struct nest_vmx_status, NEST_VMX_STATUS_MIN_SIZE,                     \
	     nest_vmx_get_status(N.ctx, p))                                                        \
	CALL(vmx_check_vmcs12, struct nest_vmx_entry_result, NEST_VMX_ENTRY_RESULT_MIN_SIZE,       \
	     nest_vmx_check_vmcs12(&N.base.v, sizeof(N.base.v), &N.base.caps, p))                  \
	CALL(vmx_check_msr_load, struct nest_vmx_entry_result, NEST_VMX_ENTRY_RESULT_MIN_SIZE,     \
	     nest_vmx_check_msr_load(NULL, 0, &N.base.caps, p))                                    \
	CALL(vmx_rdmsr, struct nest_vmx_action, NEST_VMX_ACTION_MIN_SIZE,                          \
	     nest_vmx_rdmsr(N.ctx, 0x480, &msr, p))                                                \
	CALL(vmx_wrmsr, struct nest_vmx_action, NEST_VMX_ACTION_MIN_SIZE,                          \
	     nest_vmx_wrmsr(N.ctx, 0x480, 0, p))                                                   \
	CALL(vmx_l1_exit, struct nest_vmx_action, NEST_VMX_ACTION_MIN_SIZE,                        \
	     (sim_vmx_exit(&N.exit, NEST_VMX_EXIT_VMLAUNCH, 0, 0),                                 \
	      nest_vmx_l1_exit(N.ctx, &N.exit, &N.regs, p)))                                       \
	CALL(vmx_l2_exit, struct nest_vmx_action, NEST_VMX_ACTION_MIN_SIZE,                        \
	     (launch_ok(), set02(NEST_VMCS_VM_EXIT_REASON, NEST_VMX_EXIT_CPUID),                   \
	      nest_vmx_l2_exit(N.ctx, &N.exit, &N.l2regs, p)))                                     \
	CALL(vmx_l2_event, struct nest_vmx_action, NEST_VMX_ACTION_MIN_SIZE,                       \
	     (launch_ok(), nest_vmx_l2_event(N.ctx, NEST_VMX_EVT_INIT, 0, p)))                     \
	CALL(vmx_pending_msr_failed, struct nest_vmx_action, NEST_VMX_ACTION_MIN_SIZE,             \
	     (launch_with_msr(), nest_vmx_pending_msr_failed(N.ctx, 0, p)))                        \
	CALL(vmx_l2_exception, struct nest_vmx_action, NEST_VMX_ACTION_MIN_SIZE,                   \
	     (launch_ok(), nest_vmx_l2_exception(N.ctx, 13, 0, 0, p)))                             \
	CALL(vmx_l2_emulated, struct nest_vmx_action, NEST_VMX_ACTION_MIN_SIZE,                    \
	     (launch_ok(), nest_vmx_l2_emulated(N.ctx, p)))

/* L1 enters L2 with one MSR for L0 to load. */
static void launch_with_msr(void)
{
	static const struct nest_vmx_msr_entry e = {0x174, 0, 8}; /* IA32_SYSENTER_CS */

	memcpy(sim_ptr(&N.s, 0x1d000, sizeof(e)), &e, sizeof(e));
	V12()->VM_ENTRY_MSR_LOAD_ADDR = 0x1d000;
	V12()->VM_ENTRY_MSR_LOAD_COUNT = 1;
	launch_ok();
}

#define VMX_TEST(name, type, min, call)                                                            \
	START_TEST(name##_older_caller)                                                            \
	{                                                                                          \
		uint64_t msr;                                                                      \
		type *p = older(min, sizeof(type));                                                \
                                                                                                   \
		(void)msr;                                                                         \
		ck_assert_int_eq(call, NEST_OK);                                                   \
		assert_guard_intact(min);                                                          \
	}                                                                                          \
	END_TEST                                                                                   \
	START_TEST(name##_newer_caller)                                                            \
	{                                                                                          \
		uint64_t msr;                                                                      \
		type *p = newer(sizeof(type));                                                     \
                                                                                                   \
		(void)msr;                                                                         \
		ck_assert_int_eq(call, NEST_OK);                                                   \
		assert_guard_intact(sizeof(type) + SLACK / 2);                                     \
	}                                                                                          \
	END_TEST
VMX_CALLS(VMX_TEST)

/* ---- SVM and the shadow TDP ---- */

static struct sim_svm T;

static void svm_setup(void)
{
	ck_assert_int_eq(sim_svm_init(&T, NEST_SVM_F_SUPPORTED,
				      NEST_SVM_CFG_SVM_ALLOWED | NEST_SVM_CFG_LONG_MODE, 1, NULL),
			 0);
}

static void svm_teardown(void)
{
	sim_svm_fini(&T);
}

static void svm_in_l2(void)
{
	struct nest_vmcb v12;

	sim_svm_valid_vmcb12(&v12);
	ck_assert_int_eq(sim_svm_vmrun(&T, &v12), NEST_OK);
	ck_assert_uint_eq(T.act.kind, NEST_SVM_ACT_RUN_L2);
}

#define SVM_CALLS(CALL)                                                                            \
	CALL(svm_get_caps, struct nest_svm_caps, NEST_SVM_CAPS_MIN_SIZE,                           \
	     nest_svm_get_caps(T.ctx, p))                                                          \
	CALL(svm_get_state, struct nest_svm_state, NEST_SVM_STATE_MIN_SIZE,                        \
	     nest_svm_get_state(T.ctx, T.vmcb01, p))                                               \
	CALL(svm_rdmsr, struct nest_svm_action, NEST_SVM_ACTION_MIN_SIZE,                          \
	     nest_svm_rdmsr(T.ctx, 0xc0010114u, &msr, p))                                          \
	CALL(svm_wrmsr, struct nest_svm_action, NEST_SVM_ACTION_MIN_SIZE,                          \
	     nest_svm_wrmsr(T.ctx, 0xc0010114u, 0, &msr, p))                                       \
	CALL(svm_l1_exit, struct nest_svm_action, NEST_SVM_ACTION_MIN_SIZE,                        \
	     (T.vmcb01->control.exitcode = NEST_SVM_EXIT_CLGI,                                     \
	      T.vmcb01->control.next_rip = T.vmcb01->save.rip + 3,                                 \
	      nest_svm_l1_exit(T.ctx, T.vmcb01, &T.regs, p)))                                      \
	CALL(svm_l2_exit, struct nest_svm_action, NEST_SVM_ACTION_MIN_SIZE,                        \
	     (svm_in_l2(), T.vmcb02->control.exitcode = NEST_SVM_EXIT_CPUID,                       \
	      nest_svm_l2_exit(T.ctx, T.vmcb01, &T.regs, p)))                                      \
	CALL(svm_resume_l2, struct nest_svm_action, NEST_SVM_ACTION_MIN_SIZE,                      \
	     (svm_in_l2(), nest_svm_resume_l2(T.ctx, p)))                                          \
	CALL(svm_force_exit, struct nest_svm_action, NEST_SVM_ACTION_MIN_SIZE,                     \
	     (svm_in_l2(), nest_svm_force_exit(T.ctx, T.vmcb01, NEST_SVM_EXIT_INTR, 0, 0, p)))     \
	CALL(svm_init_signal, struct nest_svm_action, NEST_SVM_ACTION_MIN_SIZE,                    \
	     (svm_in_l2(), nest_svm_init_signal(T.ctx, T.vmcb01, p)))                              \
	CALL(svm_l2_exception, struct nest_svm_action, NEST_SVM_ACTION_MIN_SIZE,                   \
	     (svm_in_l2(), nest_svm_l2_exception(T.ctx, T.vmcb01, 13, 0, 0, p)))                   \
	CALL(tdp_get_stats, struct nest_tdp_stats, 4 * sizeof(uint32_t),                           \
	     nest_tdp_get_stats(T.tdp, p))

SVM_CALLS(VMX_TEST)

static Suite *abi_suite(void)
{
	Suite *s = suite_create("abi_sizes");
	TCase *h = tcase_create("helper");
	TCase *v = tcase_create("vmx");
	TCase *a = tcase_create("svm");

	tcase_add_test(h, copy_out_writes_only_what_an_older_caller_declared);
	suite_add_tcase(s, h);
	tcase_add_checked_fixture(v, nfx_setup, nfx_teardown);
#define ADD_V(name, type, min, call)                                                               \
	tcase_add_test(v, name##_older_caller);                                                    \
	tcase_add_test(v, name##_newer_caller);
	VMX_CALLS(ADD_V)
	suite_add_tcase(s, v);
	tcase_add_checked_fixture(a, svm_setup, svm_teardown);
#define ADD_A(name, type, min, call)                                                               \
	tcase_add_test(a, name##_older_caller);                                                    \
	tcase_add_test(a, name##_newer_caller);
	SVM_CALLS(ADD_A)
	suite_add_tcase(s, a);
	return s;
}

int main(void)
{
	return nest_test_run(abi_suite());
}
