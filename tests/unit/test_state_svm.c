/* SPDX-License-Identifier: MIT */
/*
 * Save and restore of nested SVM state (nest/state.h, docs/state.md):
 * round trips of L1's SVM state, guest mode saved and refused at restore,
 * every rejection rule on a mutated stream, every truncation.
 */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include <nest/state.h>

#include "state_bytes.h"
#include <nest/svm.h>

#include "cpu/x86.h"
#include "sim_svm.h"

#define ALL_FLAGS (NEST_SVM_CFG_SVM_ALLOWED | NEST_SVM_CFG_LONG_MODE)
#define OFF_VERSION 4
#define OFF_SIZE 8
#define OFF_FLAGS 12
#define OFF_RESERVED 16
#define OFF_HSAVE 24
#define OFF_VM_CR 32
#define OFF_TSC_RATIO 40
#define OFF_VMCB12_PA 48
#define OFF_VMCB12 56
#define OFF_VMCB02 4152
#define OFF_HOST 8248
#define OFF_HOST_EFER (OFF_HOST + 96)
#define TSC_RATIO_ONE (1ull << 32)
#define TSC_RATIO_1_5 (3ull << 31)

static struct sim_svm t, u; /* u: the destination */
static uint8_t *S, *BEFORE;
static size_t SLEN;

static void setup(void)
{
	ck_assert_int_eq(sim_svm_init(&t, NEST_SVM_F_SUPPORTED, ALL_FLAGS, 0, NULL), 0);
	ck_assert_int_eq(sim_svm_init(&u, NEST_SVM_F_SUPPORTED, ALL_FLAGS, 0, NULL), 0);
	SLEN = nest_svm_state_size();
	S = calloc(1, SLEN);
	BEFORE = malloc(nest_svm_size());
	ck_assert_ptr_nonnull(S);
	ck_assert_ptr_nonnull(BEFORE);
}

static void teardown(void)
{
	free(S);
	free(BEFORE);
	sim_svm_fini(&u);
	sim_svm_fini(&t);
}

static void save(struct sim_svm *x, uint8_t *buf)
{
	size_t written = 0;

	ck_assert_int_eq(nest_svm_save_state(x->ctx, x->vmcb01, buf, SLEN, &written), NEST_OK);
	ck_assert_uint_eq(written, SLEN);
}

static void wrmsr(struct sim_svm *x, uint32_t msr, uint64_t value)
{
	uint64_t hw = 0;

	memset(&x->act, 0, sizeof(x->act));
	x->act.size = sizeof(x->act);
	ck_assert_int_eq(nest_svm_wrmsr(x->ctx, msr, value, &hw, &x->act), NEST_OK);
	ck_assert_uint_ne(x->act.kind, NEST_SVM_ACT_INJECT_L1);
}

static void assert_rejected(size_t len, int status)
{
	memcpy(BEFORE, u.ctx, nest_svm_size());
	ck_assert_int_eq(nest_svm_restore_state(u.ctx, u.vmcb01, S, len), status);
	ck_assert(memcmp(BEFORE, u.ctx, nest_svm_size()) == 0);
}

/* L1 state worth saving: VM_HSAVE_PA, a TSC ratio, GIF clear. */
static void l1_state(void)
{
	wrmsr(&t, X86_MSR_VM_HSAVE_PA, SIM_SVM_HSAVE);
	wrmsr(&t, X86_MSR_AMD_TSC_RATIO, TSC_RATIO_1_5);
	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_CLGI, 0), NEST_OK);
}

START_TEST(stream_has_the_header_and_a_fixed_size)
{
	save(&t, S);
	ck_assert_uint_eq(get32(0), NEST_STATE_MAGIC);
	ck_assert_uint_eq(get32(OFF_VERSION), NEST_STATE_VERSION | (NEST_STATE_ARCH_SVM << 16));
	ck_assert_uint_eq(get32(OFF_SIZE), SLEN);
	ck_assert_uint_eq(SLEN, 8408);
	ck_assert_int_eq(nest_svm_save_state(t.ctx, t.vmcb01, S, SLEN - 1, NULL), NEST_E_NOSPC);
	ck_assert_int_eq(nest_svm_save_state(NULL, t.vmcb01, S, SLEN, NULL), NEST_E_INVAL);
	ck_assert_int_eq(nest_svm_restore_state(u.ctx, u.vmcb01, NULL, SLEN), NEST_E_INVAL);
}
END_TEST

START_TEST(round_trip_of_l1s_svm_state)
{
	struct nest_svm_state a, b;
	uint8_t *again = calloc(1, SLEN);

	l1_state();
	save(&t, S);
	ck_assert_uint_eq(get32(OFF_FLAGS), NEST_STATE_SVM_F_SVME);
	ck_assert_uint_eq(get64(OFF_HSAVE), SIM_SVM_HSAVE);
	ck_assert_uint_eq(get64(OFF_TSC_RATIO), TSC_RATIO_1_5);
	ck_assert_int_eq(nest_svm_restore_state(u.ctx, u.vmcb01, S, SLEN), NEST_OK);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.size = b.size = sizeof(a);
	ck_assert_int_eq(nest_svm_get_state(t.ctx, t.vmcb01, &a), NEST_OK);
	ck_assert_int_eq(nest_svm_get_state(u.ctx, u.vmcb01, &b), NEST_OK);
	ck_assert_uint_eq(a.gif, b.gif);
	ck_assert_uint_eq(a.svme, b.svme);
	ck_assert_uint_eq(a.hsave_pa, b.hsave_pa);
	ck_assert_uint_eq(a.vm_cr, b.vm_cr);
	ck_assert_uint_eq(a.tsc_ratio, b.tsc_ratio);
	save(&u, again);
	ck_assert(memcmp(S, again, SLEN) == 0);
	free(again);
}
END_TEST

START_TEST(round_trip_outside_svm)
{
	uint8_t *again = calloc(1, SLEN);
	uint64_t hw = 0;

	memset(&t.act, 0, sizeof(t.act));
	t.act.size = sizeof(t.act);
	ck_assert_int_eq(
	    nest_svm_wrmsr(t.ctx, X86_MSR_IA32_EFER, X86_EFER_LME | X86_EFER_LMA, &hw, &t.act),
	    NEST_OK);
	save(&t, S);
	ck_assert_uint_eq(get32(OFF_FLAGS), NEST_STATE_SVM_F_GIF);
	ck_assert_int_eq(nest_svm_restore_state(u.ctx, u.vmcb01, S, SLEN), NEST_OK);
	save(&u, again);
	ck_assert(memcmp(S, again, SLEN) == 0);
	free(again);
}
END_TEST

/* The same exit of L2 (VMRUN, which vmcb12 always intercepts) in the
 * original and the restored context: the same action, vmcb12 and L1 state. */
static void assert_same_next_exit(void)
{
	struct nest_vmcb a, b;

	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_VMRUN, 0, 0), NEST_OK);
	ck_assert_int_eq(sim_svm_l2(&u, NEST_SVM_EXIT_VMRUN, 0, 0), NEST_OK);
	ck_assert_uint_eq(u.act.kind, t.act.kind);
	sim_svm_read_vmcb12(&t, &a);
	sim_svm_read_vmcb12(&u, &b);
	ck_assert(memcmp(&a, &b, sizeof(a)) == 0);
	ck_assert(memcmp(&t.vmcb01->save, &u.vmcb01->save, sizeof(t.vmcb01->save)) == 0);
}

START_TEST(vmrun_after_a_restore_runs_l2)
{
	struct nest_vmcb v12;

	l1_state();
	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_STGI, 0), NEST_OK);
	save(&t, S);
	ck_assert_int_eq(nest_svm_restore_state(u.ctx, u.vmcb01, S, SLEN), NEST_OK);
	sim_svm_valid_vmcb12(&v12);
	ck_assert_int_eq(sim_svm_vmrun(&u, &v12), NEST_OK);
	ck_assert_uint_eq(u.act.kind, NEST_SVM_ACT_RUN_L2);
}
END_TEST

START_TEST(guest_mode_is_saved_whole)
{
	struct nest_vmcb v12;

	sim_svm_valid_vmcb12(&v12);
	ck_assert_int_eq(sim_svm_vmrun(&t, &v12), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
	t.vmcb02->save.rip = 0x4321;
	save(&t, S);
	ck_assert_uint_eq(get32(OFF_FLAGS), NEST_STATE_SVM_F_SVME | NEST_STATE_SVM_F_GIF |
						NEST_STATE_SVM_F_GUEST_MODE);
	ck_assert_uint_eq(get64(OFF_VMCB12_PA), SIM_SVM_VMCB12);
	ck_assert(memcmp(S + OFF_VMCB12, &v12.control, sizeof(v12.control)) == 0);
	ck_assert_uint_eq(get64(OFF_VMCB02 + 0x400 + offsetof(struct nest_vmcb_save, rip)), 0x4321);
	ck_assert_uint_ne(get64(OFF_HOST_EFER) & X86_EFER_SVME, 0);
}
END_TEST

/* Restored in guest mode, L2 goes on where it was: vmcb02 is rebuilt from
 * vmcb12 and L1's state, with L2's own state from the stream, and the
 * next exit reaches L1 exactly as it would have in the saved context. */
START_TEST(guest_mode_restore_continues_l2)
{
	struct nest_vmcb v12;
	struct nest_svm_state st = {.size = sizeof(st)};

	sim_svm_valid_vmcb12(&v12);
	ck_assert_int_eq(sim_svm_vmrun(&t, &v12), NEST_OK);
	t.vmcb02->save.rip = 0x4321;
	t.vmcb02->save.rax = 0x77;
	t.vmcb02->control.int_ctl |= NEST_SVM_INT_CTL_V_IRQ | 0x5;
	save(&t, S);
	/* L0 restores L1's memory (vmcb12 among it) and vmcb01 first. */
	memcpy(sim_ptr(&u.sim, SIM_SVM_VMCB12, sizeof(v12)),
	       sim_ptr(&t.sim, SIM_SVM_VMCB12, sizeof(v12)), sizeof(v12));
	*u.vmcb01 = *t.vmcb01;
	ck_assert_int_eq(nest_svm_restore_state(u.ctx, u.vmcb01, S, SLEN), NEST_OK);
	ck_assert_int_eq(nest_svm_get_state(u.ctx, u.vmcb01, &st), NEST_OK);
	ck_assert(st.guest_mode);
	ck_assert_uint_eq(u.vmcb02->save.rip, 0x4321);
	ck_assert_uint_eq(u.vmcb02->save.rax, 0x77);
	ck_assert_uint_eq(u.vmcb02->control.int_ctl & (NEST_SVM_INT_CTL_V_IRQ | 0xff),
			  NEST_SVM_INT_CTL_V_IRQ | 0x5);
	/* The controls are rebuilt, not taken from the stream. */
	ck_assert(memcmp(&u.vmcb02->control.intercept_cr, &t.vmcb02->control.intercept_cr,
			 NEST_SVM_INTERCEPT_WORDS * sizeof(uint32_t)) == 0);
	ck_assert_uint_eq(u.vmcb02->control.asid, t.vmcb02->control.asid);

	/* The same exit (VMRUN, which vmcb12 always intercepts) in both. */
	assert_same_next_exit();
}
END_TEST

/* L2's state in the saved vmcb02 passes VMRUN's checks, or the stream is
 * refused (here: EFER.SVME clear, APM 15.5.1). */
START_TEST(guest_mode_with_a_bad_l2_state_is_format)
{
	struct nest_vmcb v12;
	uint64_t efer;
	size_t off = OFF_VMCB02 + 0x400 + offsetof(struct nest_vmcb_save, efer);

	sim_svm_valid_vmcb12(&v12);
	ck_assert_int_eq(sim_svm_vmrun(&t, &v12), NEST_OK);
	save(&t, S);
	efer = get64(off);
	put64(off, efer & ~X86_EFER_SVME);
	assert_rejected(SLEN, NEST_E_FORMAT);
}
END_TEST

/* The controls of the saved vmcb02 are not L2's to keep: an intercept
 * cleared in the stream is back after the restore. */
START_TEST(guest_mode_restore_takes_no_control_from_the_stream)
{
	struct nest_vmcb v12;

	sim_svm_valid_vmcb12(&v12);
	ck_assert_int_eq(sim_svm_vmrun(&t, &v12), NEST_OK);
	save(&t, S);
	memset(S + OFF_VMCB02, 0, 0x60); /* intercepts, map addresses, TSC offset, ASID */
	ck_assert_int_eq(nest_svm_restore_state(u.ctx, u.vmcb01, S, SLEN), NEST_OK);
	ck_assert(memcmp(&u.vmcb02->control.intercept_cr, &t.vmcb02->control.intercept_cr,
			 NEST_SVM_INTERCEPT_WORDS * sizeof(uint32_t)) == 0);
	ck_assert_uint_eq(u.vmcb02->control.msrpm_base_pa, t.vmcb02->control.msrpm_base_pa);
	ck_assert_uint_ne(u.vmcb02->control.asid, 0);
}
END_TEST

/* Issue #13.4: a G_PAT with reserved memory types in the saved vmcb02 of
 * an L1 without nested paging never reaches vmcb02 (VMRUN gave it L1's
 * PAT), and the vmcb02 rebuilt passes VMRUN's checks. */
START_TEST(guest_mode_restore_keeps_l1s_pat_without_nested_paging)
{
	struct nest_vmcb v12;
	size_t off = OFF_VMCB02 + 0x400 + offsetof(struct nest_vmcb_save, g_pat);
	struct nest_svm_caps caps = {.size = sizeof(caps)};
	struct nest_svm_diag diag;

	sim_svm_valid_vmcb12(&v12);
	ck_assert_int_eq(sim_svm_vmrun(&t, &v12), NEST_OK);
	save(&t, S);
	put64(off, 0x0202020202020202ull); /* type 2: reserved */
	*u.vmcb01 = *t.vmcb01;
	ck_assert_int_eq(nest_svm_restore_state(u.ctx, u.vmcb01, S, SLEN), NEST_OK);
	ck_assert_uint_eq(u.vmcb02->save.g_pat, t.vmcb01->save.g_pat);
	ck_assert_int_eq(nest_svm_get_caps(u.ctx, &caps), NEST_OK);
	caps.features |= NEST_SVM_F_NP; /* vmcb02 runs on L0's NPT01: the host has it */
	memset(&diag, 0, sizeof(diag));
	ck_assert_int_eq(nest_svm_check_vmcb(u.vmcb02, &caps, &diag), NEST_OK);
	ck_assert_uint_eq(diag.rule, NEST_SVM_CHECK_OK);
}
END_TEST

/* EVENTINJ of the saved vmcb02 passes VMRUN's EVENTINJ checks or the
 * stream is refused (APM 15.20: type 1, or an exception with vector 2). */
START_TEST(guest_mode_with_a_bad_pending_event_is_format)
{
	struct nest_vmcb v12;
	size_t off = OFF_VMCB02 + offsetof(struct nest_vmcb_control, event_inj);

	sim_svm_valid_vmcb12(&v12);
	ck_assert_int_eq(sim_svm_vmrun(&t, &v12), NEST_OK);
	save(&t, S);
	put64(off, NEST_SVM_EVTINJ_VALID | (1ull << NEST_SVM_EVTINJ_TYPE_SHIFT) | 0x20);
	assert_rejected(SLEN, NEST_E_FORMAT);
	put64(off, NEST_SVM_EVTINJ_VALID |
		       ((uint64_t)NEST_SVM_EVTINJ_TYPE_EXCEPTION << NEST_SVM_EVTINJ_TYPE_SHIFT) |
		       2);
	assert_rejected(SLEN, NEST_E_FORMAT);
	put64(off, NEST_SVM_EVTINJ_VALID |
		       ((uint64_t)NEST_SVM_EVTINJ_TYPE_EXCEPTION << NEST_SVM_EVTINJ_TYPE_SHIFT) |
		       6);
	ck_assert_int_eq(nest_svm_restore_state(u.ctx, u.vmcb01, S, SLEN), NEST_OK);
	ck_assert_uint_eq(u.vmcb02->control.event_inj, get64(off));
}
END_TEST

#define REJECT_TEST(name, prepare, mutate, status)                                                 \
	START_TEST(name)                                                                           \
	{                                                                                          \
		prepare;                                                                           \
		save(&t, S);                                                                       \
		mutate;                                                                            \
		assert_rejected(SLEN, status);                                                     \
	}                                                                                          \
	END_TEST

static void run_l2(void)
{
	struct nest_vmcb v12;

	sim_svm_valid_vmcb12(&v12);
	ck_assert_int_eq(sim_svm_vmrun(&t, &v12), NEST_OK);
}

#define L1 l1_state()
#define L2 run_l2()

REJECT_TEST(bad_magic_is_format, L1, put32(0, 0), NEST_E_FORMAT)
REJECT_TEST(other_version_is_format, L1, put32(OFF_VERSION, get32(OFF_VERSION) + 1), NEST_E_FORMAT)
REJECT_TEST(vmx_stream_is_format, L1,
	    put32(OFF_VERSION, NEST_STATE_VERSION | (NEST_STATE_ARCH_VMX << 16)), NEST_E_FORMAT)
REJECT_TEST(other_size_is_format, L1, put32(OFF_SIZE, (uint32_t)SLEN - 8), NEST_E_FORMAT)
REJECT_TEST(reserved_header_bits_are_format, L1, put64(OFF_RESERVED, 4), NEST_E_FORMAT)
REJECT_TEST(unknown_flag_is_format, L1, put32(OFF_FLAGS, get32(OFF_FLAGS) | (1u << 9)),
	    NEST_E_FORMAT)
REJECT_TEST(unaligned_hsave_is_format, L1, put64(OFF_HSAVE, SIM_SVM_HSAVE + 0x10), NEST_E_FORMAT)
REJECT_TEST(hsave_beyond_maxphyaddr_is_format, L1, put64(OFF_HSAVE, 1ull << SIM_SVM_MAXPHYADDR),
	    NEST_E_FORMAT)
REJECT_TEST(vm_cr_bit_l1_cannot_write_is_format, L1, put64(OFF_VM_CR, 1ull << 7), NEST_E_FORMAT)
REJECT_TEST(svme_with_svm_disabled_is_format, L1, put64(OFF_VM_CR, X86_VM_CR_SVMDIS), NEST_E_FORMAT)
REJECT_TEST(tsc_ratio_reserved_bits_are_format, L1, put64(OFF_TSC_RATIO, 1ull << 40), NEST_E_FORMAT)
REJECT_TEST(gif_clear_without_svme_is_format, L1,
	    put32(OFF_FLAGS, get32(OFF_FLAGS) & ~(NEST_STATE_SVM_F_SVME | NEST_STATE_SVM_F_GIF)),
	    NEST_E_FORMAT)
REJECT_TEST(guest_fields_outside_guest_mode_are_format, L1, put64(OFF_VMCB12_PA, 0x10000),
	    NEST_E_FORMAT)
REJECT_TEST(host_state_outside_guest_mode_is_format, L1, put64(OFF_HOST_EFER, 1), NEST_E_FORMAT)
REJECT_TEST(guest_mode_without_svme_is_format, L2,
	    put32(OFF_FLAGS, get32(OFF_FLAGS) & ~NEST_STATE_SVM_F_SVME), NEST_E_FORMAT)
REJECT_TEST(guest_mode_with_an_unaligned_vmcb12_is_format, L2,
	    put64(OFF_VMCB12_PA, SIM_SVM_VMCB12 + 8), NEST_E_FORMAT)
REJECT_TEST(guest_mode_host_without_svme_is_format, L2,
	    put64(OFF_HOST_EFER, get64(OFF_HOST_EFER) & ~X86_EFER_SVME), NEST_E_FORMAT)
REJECT_TEST(guest_mode_vmcb12_failing_the_vmrun_checks_is_format, L2,
	    put32(OFF_VMCB12 + offsetof(struct nest_vmcb_control, asid), 0), NEST_E_FORMAT)

START_TEST(tsc_ratio_without_the_feature_is_format)
{
	sim_svm_fini(&u);
	ck_assert_int_eq(
	    sim_svm_init(&u, NEST_SVM_F_SUPPORTED & ~NEST_SVM_F_TSC_RATE, ALL_FLAGS, 0, NULL), 0);
	l1_state();
	save(&t, S);
	assert_rejected(SLEN, NEST_E_FORMAT);
	put64(OFF_TSC_RATIO, TSC_RATIO_ONE);
	ck_assert_int_eq(nest_svm_restore_state(u.ctx, u.vmcb01, S, SLEN), NEST_OK);
}
END_TEST

START_TEST(svme_into_a_context_without_svm_is_format)
{
	sim_svm_fini(&u);
	ck_assert_int_eq(sim_svm_init(&u, NEST_SVM_F_SUPPORTED, NEST_SVM_CFG_LONG_MODE, 0, NULL),
			 0);
	save(&t, S);
	assert_rejected(SLEN, NEST_E_FORMAT);
}
END_TEST

START_TEST(every_truncation_is_rejected_and_changes_nothing)
{
	size_t len;

	l1_state();
	save(&t, S);
	for (len = 0; len < SLEN; len++)
		assert_rejected(len, NEST_E_FORMAT);
	ck_assert_int_eq(nest_svm_restore_state(u.ctx, u.vmcb01, S, SLEN), NEST_OK);
}
END_TEST

/* ---- KVM's struct kvm_nested_state, format 1 ---- */

#define K_FLAGS 0
#define K_FORMAT 2
#define K_SIZE 4
#define K_VMCB_PA 8
#define K_DATA 128
#define K_LEN (K_DATA + 4096)

static void kvm_export(struct sim_svm *x, uint8_t *buf, size_t *n)
{
	ck_assert_int_eq(nest_svm_to_kvm_nested_state(x->ctx, x->vmcb01, buf, K_LEN, n), NEST_OK);
}

static void kvm_rejected(size_t len, int status)
{
	memcpy(BEFORE, u.ctx, nest_svm_size());
	ck_assert_int_eq(nest_svm_from_kvm_nested_state(u.ctx, u.vmcb01, S, len), status);
	ck_assert(memcmp(BEFORE, u.ctx, nest_svm_size()) == 0);
}

START_TEST(kvm_export_outside_guest_mode_is_the_header_with_gif)
{
	size_t n = 0;

	kvm_export(&t, S, &n);
	ck_assert_uint_eq(n, K_DATA);
	ck_assert_uint_eq(get32(K_FLAGS),
			  NEST_KVM_STATE_NESTED_GIF_SET | (NEST_KVM_STATE_NESTED_FORMAT_SVM << 16));
	ck_assert_uint_eq(get32(K_SIZE), K_DATA);
	ck_assert_int_eq(nest_svm_to_kvm_nested_state(t.ctx, t.vmcb01, S, K_LEN - 1, NULL),
			 NEST_E_NOSPC);
}
END_TEST

START_TEST(kvm_round_trip_of_gif)
{
	uint8_t again[K_LEN];
	size_t n = 0, m = 0;
	struct nest_svm_state st;

	l1_state();
	kvm_export(&t, S, &n);
	ck_assert_uint_eq(get32(K_FLAGS) & 0xffff, 0);
	ck_assert_int_eq(nest_svm_from_kvm_nested_state(u.ctx, u.vmcb01, S, n), NEST_OK);
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	ck_assert_int_eq(nest_svm_get_state(u.ctx, u.vmcb01, &st), NEST_OK);
	ck_assert_uint_eq(st.gif, 0);
	kvm_export(&u, again, &m);
	ck_assert_uint_eq(m, n);
	ck_assert(memcmp(S, again, n) == 0);
}
END_TEST

START_TEST(kvm_export_in_guest_mode_holds_vmcb12_and_l1s_host_state)
{
	struct nest_vmcb v12, k;
	size_t n = 0;

	sim_svm_valid_vmcb12(&v12);
	ck_assert_int_eq(sim_svm_vmrun(&t, &v12), NEST_OK);
	kvm_export(&t, S, &n);
	ck_assert_uint_eq(n, K_LEN);
	ck_assert_uint_eq(get32(K_FLAGS) & 0xffff,
			  NEST_KVM_STATE_NESTED_GUEST_MODE | NEST_KVM_STATE_NESTED_GIF_SET);
	ck_assert_uint_eq(get64(K_VMCB_PA), SIM_SVM_VMCB12);
	memcpy(&k, S + K_DATA, sizeof(k));
	ck_assert(memcmp(&k.control, &v12.control, sizeof(k.control)) == 0);
	ck_assert_uint_eq(k.save.efer, t.vmcb01->save.efer);
	ck_assert_uint_eq(k.save.cr3, t.vmcb01->save.cr3);
}
END_TEST

/* Guest mode in t, exported; u as L0 restores it as a KVM VMM does: L1's
 * memory, the vCPU's registers (L2's, here in vmcb01's save area), then
 * the nested state. */
static size_t kvm_guest_mode(void)
{
	struct nest_vmcb v12;
	size_t n = 0;

	sim_svm_valid_vmcb12(&v12);
	ck_assert_int_eq(sim_svm_vmrun(&t, &v12), NEST_OK);
	t.vmcb02->save.rip = 0x4321;
	t.vmcb02->save.rax = 0x77;
	kvm_export(&t, S, &n);
	memcpy(sim_ptr(&u.sim, SIM_SVM_VMCB12, sizeof(v12)),
	       sim_ptr(&t.sim, SIM_SVM_VMCB12, sizeof(v12)), sizeof(v12));
	*u.vmcb01 = *t.vmcb01;
	u.vmcb01->save = t.vmcb02->save;
	return n;
}

START_TEST(kvm_guest_mode_import_continues_l2)
{
	struct nest_svm_state st = {.size = sizeof(st)};
	uint8_t *again = calloc(1, K_LEN), *own = calloc(1, SLEN);
	size_t n = kvm_guest_mode(), m = 0;

	ck_assert_ptr_nonnull(again);
	ck_assert_ptr_nonnull(own);
	ck_assert_int_eq(nest_svm_from_kvm_nested_state(u.ctx, u.vmcb01, S, n), NEST_OK);
	ck_assert_int_eq(nest_svm_get_state(u.ctx, u.vmcb01, &st), NEST_OK);
	ck_assert(st.guest_mode);
	ck_assert(st.svme);
	ck_assert_uint_eq(st.vmcb12_pa, SIM_SVM_VMCB12);
	/* L2 goes on from its registers; vmcb01 is L1's again. */
	ck_assert_uint_eq(u.vmcb02->save.rip, 0x4321);
	ck_assert_uint_eq(u.vmcb02->save.rax, 0x77);
	ck_assert_uint_eq(u.vmcb01->save.rip, t.vmcb01->save.rip);
	ck_assert_uint_eq(u.vmcb01->save.cr3, t.vmcb01->save.cr3);
	ck_assert_uint_eq(u.vmcb02->control.asid, t.vmcb02->control.asid);
	ck_assert(memcmp(&u.vmcb02->control.intercept_cr, &t.vmcb02->control.intercept_cr,
			 NEST_SVM_INTERCEPT_WORDS * sizeof(uint32_t)) == 0);
	/* KVM's format again, and through libnest's own: the same bytes. */
	kvm_export(&u, again, &m);
	ck_assert_uint_eq(m, n);
	ck_assert(memcmp(S, again, n) == 0);
	save(&u, own);
	ck_assert_int_eq(nest_svm_restore_state(u.ctx, u.vmcb01, own, SLEN), NEST_OK);
	kvm_export(&u, again, &m);
	ck_assert(memcmp(S, again, n) == 0);
	/* The next exit is reflected as in the original. */
	assert_same_next_exit();
	free(again);
	free(own);
}
END_TEST

/* One tampered field per validation class of a guest-mode import: the
 * context and vmcb01 are left as they were. */
#define K_SAVE(f) (K_DATA + offsetof(struct nest_vmcb, save) + offsetof(struct nest_vmcb_save, f))
#define K_CTL(f)                                                                                   \
	(K_DATA + offsetof(struct nest_vmcb, control) + offsetof(struct nest_vmcb_control, f))
#define KVM_GUEST_REJECT_TEST(name, mutate, status)                                                \
	START_TEST(name)                                                                           \
	{                                                                                          \
		struct nest_vmcb before01;                                                         \
		size_t n = kvm_guest_mode();                                                       \
		mutate;                                                                            \
		before01 = *u.vmcb01;                                                              \
		kvm_rejected(n, status);                                                           \
		ck_assert(memcmp(&before01, u.vmcb01, sizeof(before01)) == 0);                     \
	}                                                                                          \
	END_TEST

/* header and flags */
KVM_GUEST_REJECT_TEST(kvm_guest_run_pending_is_unsupported,
		      put32(K_FLAGS, get32(K_FLAGS) | NEST_KVM_STATE_NESTED_RUN_PENDING),
		      NEST_E_UNSUPPORTED)
KVM_GUEST_REJECT_TEST(kvm_guest_gif_clear_is_unsupported,
		      put32(K_FLAGS, get32(K_FLAGS) & ~NEST_KVM_STATE_NESTED_GIF_SET),
		      NEST_E_UNSUPPORTED)
/* vmcb12's address */
KVM_GUEST_REJECT_TEST(kvm_guest_vmcb12_beyond_maxphyaddr_is_format,
		      put64(K_VMCB_PA, 1ull << SIM_SVM_MAXPHYADDR), NEST_E_FORMAT)
/* vmcb12's controls, as VMRUN checks them */
KVM_GUEST_REJECT_TEST(kvm_guest_vmcb12_asid_zero_is_format, put32(K_CTL(asid), 0), NEST_E_FORMAT)
KVM_GUEST_REJECT_TEST(kvm_guest_vmcb12_without_the_vmrun_intercept_is_format,
		      put32(K_CTL(intercept_misc2), get32(K_CTL(intercept_misc2)) & ~1u),
		      NEST_E_FORMAT)
KVM_GUEST_REJECT_TEST(kvm_guest_vmcb12_bad_event_is_format,
		      put64(K_CTL(event_inj), NEST_SVM_EVTINJ_VALID | (7ull << 8)), NEST_E_FORMAT)
/* L1's state saved at VMRUN */
KVM_GUEST_REJECT_TEST(kvm_guest_l1_without_svme_is_format,
		      put64(K_SAVE(efer), get64(K_SAVE(efer)) & ~X86_EFER_SVME), NEST_E_FORMAT)
KVM_GUEST_REJECT_TEST(kvm_guest_l1_without_paging_is_format,
		      put64(K_SAVE(cr0), get64(K_SAVE(cr0)) & ~X86_CR0_PG), NEST_E_FORMAT)
KVM_GUEST_REJECT_TEST(kvm_guest_l1_in_v86_mode_is_format,
		      put64(K_SAVE(rflags), get64(K_SAVE(rflags)) | X86_RFLAGS_VM), NEST_E_FORMAT)
KVM_GUEST_REJECT_TEST(kvm_guest_l1_cr0_high_bits_are_format,
		      put64(K_SAVE(cr0), get64(K_SAVE(cr0)) | (1ull << 40)), NEST_E_FORMAT)
/* L2's registers, from the vCPU */
KVM_GUEST_REJECT_TEST(kvm_guest_l2_without_svme_is_format, u.vmcb01->save.efer &= ~X86_EFER_SVME,
		      NEST_E_FORMAT)
KVM_GUEST_REJECT_TEST(kvm_guest_l2_cr4_reserved_is_format, u.vmcb01->save.cr4 |= 1ull << 40,
		      NEST_E_FORMAT)

#define KVM_REJECT_TEST(name, prepare, mutate, len, status)                                        \
	START_TEST(name)                                                                           \
	{                                                                                          \
		size_t n = 0;                                                                      \
		prepare;                                                                           \
		kvm_export(&t, S, &n);                                                             \
		mutate;                                                                            \
		kvm_rejected(len, status);                                                         \
	}                                                                                          \
	END_TEST

KVM_REJECT_TEST(kvm_vmx_format_is_format, L1, put32(K_FLAGS, 0), n, NEST_E_FORMAT)
KVM_REJECT_TEST(kvm_vmx_flag_is_format, L1,
		put32(K_FLAGS,
		      NEST_KVM_STATE_NESTED_EVMCS | (NEST_KVM_STATE_NESTED_FORMAT_SVM << 16)),
		n, NEST_E_FORMAT)
KVM_REJECT_TEST(kvm_size_beyond_the_buffer_is_format, L1, put32(K_SIZE, K_DATA + 1), n,
		NEST_E_FORMAT)
KVM_REJECT_TEST(kvm_header_padding_is_format, L1, S[64] = 1, n, NEST_E_FORMAT)
KVM_REJECT_TEST(kvm_trailing_bytes_are_format, L1, (put32(K_SIZE, K_LEN), S[K_DATA + 5] = 1), K_LEN,
		NEST_E_FORMAT)
KVM_REJECT_TEST(kvm_run_pending_outside_guest_mode_is_format, L1,
		put32(K_FLAGS,
		      NEST_KVM_STATE_NESTED_RUN_PENDING | (NEST_KVM_STATE_NESTED_FORMAT_SVM << 16)),
		n, NEST_E_FORMAT)
KVM_REJECT_TEST(kvm_guest_mode_with_an_unaligned_vmcb12_is_format, L2,
		put64(K_VMCB_PA, SIM_SVM_VMCB12 + 8), n, NEST_E_FORMAT)
KVM_REJECT_TEST(kvm_guest_mode_without_its_vmcb12_is_format, L2, put32(K_SIZE, K_DATA), n,
		NEST_E_FORMAT)

START_TEST(kvm_gif_clear_without_svme_is_format)
{
	size_t n = 0;
	uint64_t hw = 0;

	l1_state();
	kvm_export(&t, S, &n);
	u.act.size = sizeof(u.act);
	ck_assert_int_eq(
	    nest_svm_wrmsr(u.ctx, X86_MSR_IA32_EFER, X86_EFER_LME | X86_EFER_LMA, &hw, &u.act),
	    NEST_OK);
	kvm_rejected(n, NEST_E_FORMAT);
}
END_TEST

START_TEST(kvm_every_truncation_is_rejected)
{
	size_t n = 0, len;

	run_l2();
	kvm_export(&t, S, &n);
	for (len = 0; len < n; len++)
		kvm_rejected(len, NEST_E_FORMAT);
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("state_svm");
	TCase *tc = tcase_create("svm");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, stream_has_the_header_and_a_fixed_size);
	tcase_add_test(tc, round_trip_of_l1s_svm_state);
	tcase_add_test(tc, round_trip_outside_svm);
	tcase_add_test(tc, vmrun_after_a_restore_runs_l2);
	tcase_add_test(tc, guest_mode_is_saved_whole);
	tcase_add_test(tc, guest_mode_restore_continues_l2);
	tcase_add_test(tc, guest_mode_restore_takes_no_control_from_the_stream);
	tcase_add_test(tc, guest_mode_with_a_bad_l2_state_is_format);
	tcase_add_test(tc, guest_mode_restore_keeps_l1s_pat_without_nested_paging);
	tcase_add_test(tc, guest_mode_with_a_bad_pending_event_is_format);
	tcase_add_test(tc, bad_magic_is_format);
	tcase_add_test(tc, other_version_is_format);
	tcase_add_test(tc, vmx_stream_is_format);
	tcase_add_test(tc, other_size_is_format);
	tcase_add_test(tc, reserved_header_bits_are_format);
	tcase_add_test(tc, unknown_flag_is_format);
	tcase_add_test(tc, unaligned_hsave_is_format);
	tcase_add_test(tc, hsave_beyond_maxphyaddr_is_format);
	tcase_add_test(tc, vm_cr_bit_l1_cannot_write_is_format);
	tcase_add_test(tc, svme_with_svm_disabled_is_format);
	tcase_add_test(tc, tsc_ratio_reserved_bits_are_format);
	tcase_add_test(tc, gif_clear_without_svme_is_format);
	tcase_add_test(tc, guest_fields_outside_guest_mode_are_format);
	tcase_add_test(tc, host_state_outside_guest_mode_is_format);
	tcase_add_test(tc, guest_mode_without_svme_is_format);
	tcase_add_test(tc, guest_mode_with_an_unaligned_vmcb12_is_format);
	tcase_add_test(tc, guest_mode_host_without_svme_is_format);
	tcase_add_test(tc, guest_mode_vmcb12_failing_the_vmrun_checks_is_format);
	tcase_add_test(tc, tsc_ratio_without_the_feature_is_format);
	tcase_add_test(tc, svme_into_a_context_without_svm_is_format);
	tcase_add_test(tc, every_truncation_is_rejected_and_changes_nothing);
	tcase_add_test(tc, kvm_export_outside_guest_mode_is_the_header_with_gif);
	tcase_add_test(tc, kvm_round_trip_of_gif);
	tcase_add_test(tc, kvm_export_in_guest_mode_holds_vmcb12_and_l1s_host_state);
	tcase_add_test(tc, kvm_guest_mode_import_continues_l2);
	tcase_add_test(tc, kvm_guest_run_pending_is_unsupported);
	tcase_add_test(tc, kvm_guest_gif_clear_is_unsupported);
	tcase_add_test(tc, kvm_guest_vmcb12_beyond_maxphyaddr_is_format);
	tcase_add_test(tc, kvm_guest_vmcb12_asid_zero_is_format);
	tcase_add_test(tc, kvm_guest_vmcb12_without_the_vmrun_intercept_is_format);
	tcase_add_test(tc, kvm_guest_vmcb12_bad_event_is_format);
	tcase_add_test(tc, kvm_guest_l1_without_svme_is_format);
	tcase_add_test(tc, kvm_guest_l1_without_paging_is_format);
	tcase_add_test(tc, kvm_guest_l1_in_v86_mode_is_format);
	tcase_add_test(tc, kvm_guest_l1_cr0_high_bits_are_format);
	tcase_add_test(tc, kvm_guest_l2_without_svme_is_format);
	tcase_add_test(tc, kvm_guest_l2_cr4_reserved_is_format);
	tcase_add_test(tc, kvm_vmx_format_is_format);
	tcase_add_test(tc, kvm_vmx_flag_is_format);
	tcase_add_test(tc, kvm_size_beyond_the_buffer_is_format);
	tcase_add_test(tc, kvm_header_padding_is_format);
	tcase_add_test(tc, kvm_trailing_bytes_are_format);
	tcase_add_test(tc, kvm_run_pending_outside_guest_mode_is_format);
	tcase_add_test(tc, kvm_guest_mode_with_an_unaligned_vmcb12_is_format);
	tcase_add_test(tc, kvm_guest_mode_without_its_vmcb12_is_format);
	tcase_add_test(tc, kvm_gif_clear_without_svme_is_format);
	tcase_add_test(tc, kvm_every_truncation_is_rejected);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nest_test_run(state_suite());
}
