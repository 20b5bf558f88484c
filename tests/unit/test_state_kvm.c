/* SPDX-License-Identifier: MIT */
/*
 * KVM's struct kvm_nested_state for VMX (nest/state.h, docs/state.md):
 * export of each state, KVM -> libnest -> KVM identity, a guest-mode
 * import that reflects the next exit as the original does, every
 * rejection rule, every truncation.
 */
#include "check_main.h"
#include "vmx_fixture.h"

#include <nest/state.h>

#include "state_bytes.h"

#include "vmx/context.h"
#include "vmx/entry.h"
#include "vmx/reflect.h"
#include "vmx/shadow.h"
#include "vmx/sync.h"

/* The layout against the uapi header of the build host's kernel (Debian
 * 12: Linux 6.1), where there is one. */
#if defined(__linux__) && defined(__has_include)
#if __has_include(<linux/kvm.h>)
#include <stddef.h>
#include <linux/kvm.h>
#define UAPI_OFF(m, o) _Static_assert(offsetof(struct kvm_nested_state, m) == (o), "uapi " #m)
UAPI_OFF(flags, 0);
UAPI_OFF(format, 2);
UAPI_OFF(size, 4);
UAPI_OFF(hdr.vmx.vmxon_pa, 8);
UAPI_OFF(hdr.vmx.vmcs12_pa, 16);
UAPI_OFF(hdr.vmx.smm.flags, 24);
UAPI_OFF(hdr.vmx.pad, 26);
UAPI_OFF(hdr.vmx.flags, 28);
UAPI_OFF(hdr.vmx.preemption_timer_deadline, 32);
UAPI_OFF(hdr.svm.vmcb_pa, 8);
UAPI_OFF(data, NEST_KVM_NESTED_STATE_HDR_SIZE);
_Static_assert(sizeof(struct kvm_nested_state) == NEST_KVM_NESTED_STATE_HDR_SIZE, "uapi header");
_Static_assert(sizeof(struct kvm_vmx_nested_state_data) == 2 * NEST_KVM_STATE_NESTED_VMX_VMCS_SIZE,
	       "uapi vmx data");
_Static_assert(sizeof(struct kvm_svm_nested_state_data) == NEST_KVM_STATE_NESTED_SVM_VMCB_SIZE,
	       "uapi svm data");
_Static_assert(KVM_STATE_NESTED_FORMAT_VMX == NEST_KVM_STATE_NESTED_FORMAT_VMX, "uapi");
_Static_assert(KVM_STATE_NESTED_FORMAT_SVM == NEST_KVM_STATE_NESTED_FORMAT_SVM, "uapi");
_Static_assert(KVM_STATE_NESTED_GUEST_MODE == NEST_KVM_STATE_NESTED_GUEST_MODE, "uapi");
_Static_assert(KVM_STATE_NESTED_RUN_PENDING == NEST_KVM_STATE_NESTED_RUN_PENDING, "uapi");
_Static_assert(KVM_STATE_NESTED_EVMCS == NEST_KVM_STATE_NESTED_EVMCS, "uapi");
_Static_assert(KVM_STATE_NESTED_MTF_PENDING == NEST_KVM_STATE_NESTED_MTF_PENDING, "uapi");
_Static_assert(KVM_STATE_NESTED_GIF_SET == NEST_KVM_STATE_NESTED_GIF_SET, "uapi");
_Static_assert(KVM_STATE_NESTED_VMX_VMCS_SIZE == NEST_KVM_STATE_NESTED_VMX_VMCS_SIZE, "uapi");
_Static_assert(KVM_STATE_NESTED_SVM_VMCB_SIZE == NEST_KVM_STATE_NESTED_SVM_VMCB_SIZE, "uapi");
_Static_assert(KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE ==
		   NEST_KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE,
	       "uapi");
#undef UAPI_OFF
#endif
#endif

#define K_FLAGS 0
#define K_FORMAT 2
#define K_SIZE 4
#define K_VMXON 8
#define K_VMCS12 16
#define K_SMM 24
#define K_PAD 26
#define K_VMX_FLAGS 28
#define K_DEADLINE 32
#define K_DATA 128
#define K_SHADOW (K_DATA + 4096)
/* Offsets in KVM's vmcs12 (Linux arch/x86/kvm/vmx/vmcs12.h). */
#define KV_LAUNCH_STATE 8
#define KV_GUEST_RIP 544
#define KV_GUEST_CR0 424
#define KV_HOST_RIP 672
#define KV_PIN 744
#define KV_ENCLS_BITMAP 320
#define KV_TSC_MULTIPLIER 328
#define KV_PADDING64 336
#define KV_DEAD_SPACE 376 /* where the CR3-target values were, 32 bytes */
#define KV_GUEST_CS_SELECTOR 966
#define FULL (K_DATA + 2 * 4096)

#define L2_RIP 0x401234ull
#define CPUID_LEN 2u

static uint8_t S[FULL], T[FULL];
static size_t SLEN;
static void *MEM2;
static uint8_t *BEFORE;

static void setup(void)
{
	nfx_setup();
	memset(S, 0, sizeof(S));
	memset(T, 0, sizeof(T));
	BEFORE = malloc(nest_vmx_size());
	MEM2 = NULL;
	ck_assert_ptr_nonnull(BEFORE);
}

static void teardown(void)
{
	free(BEFORE);
	free(MEM2);
	nfx_teardown();
}

static struct nest_vmx *fresh_ctx(void)
{
	struct nest_vmx *c;

	free(MEM2);
	MEM2 = aligned_alloc(64, (nest_vmx_size() + 63) & ~(size_t)63);
	ck_assert_ptr_nonnull(MEM2);
	ck_assert_int_eq(nest_vmx_init(MEM2, nest_vmx_size(), sim_backend(&N.s), &N.cfg, &c),
			 NEST_OK);
	c->caps = N.base.caps;
	c->feature_control = N.ctx->feature_control;
	ck_assert_int_eq(nest_vmx_set_l0(c, &N.l0), NEST_OK);
	return c;
}

static void export(struct nest_vmx *c, uint8_t *buf)
{
	SLEN = 0;
	ck_assert_int_eq(nest_vmx_to_kvm_nested_state(c, buf, FULL, &SLEN), NEST_OK);
}

static void put16(size_t off, uint16_t v)
{
	memcpy(S + off, &v, sizeof(v));
}

static void assert_rejected(struct nest_vmx *c, size_t len, int status)
{
	memcpy(BEFORE, c, nest_vmx_size());
	ck_assert_int_eq(nest_vmx_from_kvm_nested_state(c, S, len), status);
	ck_assert(memcmp(BEFORE, c, nest_vmx_size()) == 0);
}

static int cpuid_exit(void)
{
	set02(NEST_VMCS_VM_EXIT_INSTRUCTION_LEN, CPUID_LEN);
	return l2_exit(NEST_VMX_EXIT_CPUID, 0);
}

static void export_guest_mode(void)
{
	launch_ok();
	set02(NEST_VMCS_GUEST_RIP, L2_RIP);
	export(N.ctx, S);
}

START_TEST(export_outside_vmx_operation_is_the_bare_header)
{
	export(fresh_ctx(), S);
	ck_assert_uint_eq(SLEN, K_DATA);
	ck_assert_uint_eq(get32(K_SIZE), K_DATA);
	ck_assert_uint_eq(get32(K_FLAGS) & 0xffff, 0);
	ck_assert_uint_eq(get32(K_FLAGS) >> 16, NEST_KVM_STATE_NESTED_FORMAT_VMX);
	ck_assert_uint_eq(get64(K_VMXON), UINT64_MAX);
	ck_assert_uint_eq(get64(K_VMCS12), UINT64_MAX);
	ck_assert_int_eq(nest_vmx_to_kvm_nested_state(N.ctx, S, FULL - 4097, NULL), NEST_E_NOSPC);
}
END_TEST

START_TEST(export_in_root_has_vmcs12_in_kvms_layout)
{
	V12()->GUEST_RIP = L2_RIP;
	V12()->ENCLS_EXITING_BITMAP = 0x8000000000000401ull;
	V12()->TSC_MULTIPLIER = 3ull << 47;
	export(N.ctx, S);
	ck_assert_uint_eq(SLEN, K_DATA + 4096);
	/* Linux 6.1's vmcs12 keeps both (its padding64 shrank to one). */
	ck_assert_uint_eq(get64(K_DATA + KV_ENCLS_BITMAP), 0x8000000000000401ull);
	ck_assert_uint_eq(get64(K_DATA + KV_TSC_MULTIPLIER), 3ull << 47);
	ck_assert_uint_eq(get64(K_DATA + KV_PADDING64), 0);
	ck_assert_uint_eq(get64(K_VMXON), VMXON_GPA);
	ck_assert_uint_eq(get64(K_VMCS12), VMCS_GPA);
	ck_assert_uint_eq(get32(K_DATA), NEST_KVM_VMCS12_REVISION);
	ck_assert_uint_eq(get32(K_DATA + KV_LAUNCH_STATE), NEST_VMCS12_STATE_CLEAR);
	ck_assert_uint_eq(get64(K_DATA + KV_GUEST_RIP), L2_RIP);
	ck_assert_uint_eq(get64(K_DATA + KV_GUEST_CR0), V12()->GUEST_CR0);
	ck_assert_uint_eq(get64(K_DATA + KV_HOST_RIP), V12()->HOST_RIP);
	ck_assert_uint_eq(get32(K_DATA + KV_PIN), V12()->PIN_BASED_VM_EXEC_CONTROL);
	ck_assert_uint_eq(S[K_DATA + KV_GUEST_CS_SELECTOR] | S[K_DATA + KV_GUEST_CS_SELECTOR + 1]
								 << 8,
			  V12()->GUEST_CS_SELECTOR);
}
END_TEST

/* KVM's format would need L1's shadow VMCS as a second vmcs12. */
START_TEST(export_of_a_vmcs12_using_vmcs_shadowing_is_unsupported)
{
	V12()->CPU_BASED_VM_EXEC_CONTROL |= NEST_VMX_PROC_ACTIVATE_SECONDARY;
	V12()->SECONDARY_VM_EXEC_CONTROL |= NEST_VMX_PROC2_VMCS_SHADOWING;
	V12()->VMCS_LINK_POINTER = 0x1e000;
	ck_assert_int_eq(nest_vmx_to_kvm_nested_state(N.ctx, S, FULL, NULL), NEST_E_UNSUPPORTED);
	/* Without a link pointer there is no shadow VMCS to carry. */
	V12()->VMCS_LINK_POINTER = UINT64_MAX;
	export(N.ctx, S);
	ck_assert_uint_eq(SLEN, K_DATA + 4096);
}
END_TEST

START_TEST(kvm_to_libnest_to_kvm_is_identity)
{
	struct nest_vmx *c;
	size_t n;

	V12()->launch_state = NEST_VMCS12_STATE_LAUNCHED;
	export(N.ctx, S);
	n = SLEN;
	c = fresh_ctx();
	ck_assert_int_eq(nest_vmx_from_kvm_nested_state(c, S, n), NEST_OK);
	ck_assert(c->vmxon);
	ck_assert_uint_eq(c->current_vmptr, VMCS_GPA);
	ck_assert_uint_eq(c->vmcs12.revision, NEST_VMCS12_REVISION);
	export(c, T);
	ck_assert_uint_eq(SLEN, n);
	ck_assert(memcmp(S, T, n) == 0);
}
END_TEST

START_TEST(import_takes_the_encls_bitmap_and_tsc_multiplier_at_kvms_offsets)
{
	struct nest_vmx *c;
	uint64_t encls = 0x4000000000000011ull, mult = 5ull << 46;

	export(N.ctx, S);
	memcpy(S + K_DATA + KV_ENCLS_BITMAP, &encls, sizeof(encls));
	memcpy(S + K_DATA + KV_TSC_MULTIPLIER, &mult, sizeof(mult));
	c = fresh_ctx();
	ck_assert_int_eq(nest_vmx_from_kvm_nested_state(c, S, SLEN), NEST_OK);
	ck_assert_uint_eq(c->vmcs12.ENCLS_EXITING_BITMAP, encls);
	ck_assert_uint_eq(c->vmcs12.TSC_MULTIPLIER, mult);
}
END_TEST

START_TEST(import_in_guest_mode_reflects_the_next_exit_as_the_original)
{
	static struct sim_vmcs snap[3];
	static struct nest__vmcs12 after;
	struct nest_vmx *c;
	size_t n;

	export_guest_mode();
	n = SLEN;
	ck_assert_uint_eq(get32(K_FLAGS) & 0xffff, NEST_KVM_STATE_NESTED_GUEST_MODE);
	memcpy(snap, N.s.vmcs, sizeof(snap));
	ck_assert_int_eq(cpuid_exit(), NEST_OK);
	nest__vmx_sync_rare(N.ctx);
	after = *V12();

	memcpy(N.s.vmcs, snap, sizeof(snap));
	sim_vmcs_clear(&N.s, NEST_VMCS02);
	c = fresh_ctx();
	ck_assert_int_eq(nest_vmx_from_kvm_nested_state(c, S, n), NEST_OK);
	ck_assert(nest_vmx_in_l2(c));
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_RIP), L2_RIP);
	N.ctx = c;
	ck_assert_int_eq(cpuid_exit(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	nest__vmx_sync_rare(c);
	ck_assert_uint_eq(c->vmcs12.GUEST_RIP, after.GUEST_RIP);
	ck_assert_uint_eq(c->vmcs12.VM_EXIT_REASON, after.VM_EXIT_REASON);
	ck_assert_uint_eq(c->vmcs12.VM_EXIT_INSTRUCTION_LEN, after.VM_EXIT_INSTRUCTION_LEN);
	ck_assert_uint_eq(c->vmcs12.GUEST_CR0, after.GUEST_CR0);
	ck_assert_uint_eq(v01(NEST_VMCS_GUEST_RIP), after.HOST_RIP);
}
END_TEST

/* Linux 6.1's vmcs12 has no CR3-target values: 32 bytes of dead space. */
START_TEST(cr3_target_values_do_not_travel_in_kvms_dead_space)
{
	struct nest_vmx *c;
	unsigned i;

	for (i = 0; i < 4; i++)
		ck_assert_int_eq(nest_vmcs12_image_write(V12(), NEST_VMCS_CR3_TARGET_VALUE0 + 2 * i,
							 0x1000ull * (i + 1)),
				 NEST_OK);
	export(N.ctx, S);
	for (i = 0; i < 32; i++)
		ck_assert_uint_eq(S[K_DATA + KV_DEAD_SPACE + i], 0);
	memset(S + K_DATA + KV_DEAD_SPACE, 0x5a, 32);
	c = fresh_ctx();
	ck_assert_int_eq(nest_vmx_from_kvm_nested_state(c, S, SLEN), NEST_OK);
	ck_assert_uint_eq(c->vmcs12.CR3_TARGET_VALUE0, 0);
	ck_assert_uint_eq(c->vmcs12.CR3_TARGET_VALUE3, 0);
}
END_TEST

/* Real KVM (Linux 6.1) in guest mode between a VMLAUNCH and L2's first
 * exit: vmcs12's launch state still reads clear (KVM sets it at the exit). */
START_TEST(import_in_guest_mode_before_the_first_exit_takes_vmcs12_as_launched)
{
	struct nest_vmx *c;
	size_t n;

	export_guest_mode();
	n = SLEN;
	ck_assert_uint_eq(get32(K_DATA + KV_LAUNCH_STATE), NEST_VMCS12_STATE_LAUNCHED);
	put32(K_DATA + KV_LAUNCH_STATE, NEST_VMCS12_STATE_CLEAR);
	c = fresh_ctx();
	ck_assert_int_eq(nest_vmx_from_kvm_nested_state(c, S, n), NEST_OK);
	ck_assert(nest_vmx_in_l2(c));
	ck_assert_uint_eq(c->vmcs12.launch_state, NEST_VMCS12_STATE_LAUNCHED);
	export(c, T);
	ck_assert_uint_eq(SLEN, n);
	ck_assert_uint_eq(T[K_DATA + KV_LAUNCH_STATE], NEST_VMCS12_STATE_LAUNCHED);
	/* A launch state that is neither is still refused. */
	put32(K_DATA + KV_LAUNCH_STATE, 2);
	assert_rejected(fresh_ctx(), n, NEST_E_FORMAT);
}
END_TEST

START_TEST(export_with_an_event_pending_in_vmcs02_is_a_state_error)
{
	uint32_t ev = NEST_VMX_INTR_INFO_VALID |
		      (NEST_VMX_INTR_TYPE_HW_EXCEPTION << NEST_VMX_INTR_INFO_TYPE_SHIFT) |
		      X86_EXC_UD;

	V12()->VM_ENTRY_INTR_INFO_FIELD = ev;
	launch_ok();
	ck_assert_int_eq(nest_vmx_to_kvm_nested_state(N.ctx, S, FULL, NULL), NEST_E_STATE);
}
END_TEST

#define REJECT_TEST(name, prepare, mutate, status)                                                 \
	START_TEST(name)                                                                           \
	{                                                                                          \
		struct nest_vmx *c;                                                                \
		prepare;                                                                           \
		c = fresh_ctx();                                                                   \
		mutate;                                                                            \
		assert_rejected(c, FULL, status);                                                  \
	}                                                                                          \
	END_TEST

#define ROOT export(N.ctx, S)
#define GUEST export_guest_mode()

REJECT_TEST(svm_format_is_format, ROOT, put16(K_FORMAT, NEST_KVM_STATE_NESTED_FORMAT_SVM),
	    NEST_E_FORMAT)
REJECT_TEST(unknown_flag_is_format, ROOT, put16(K_FLAGS, 0x40), NEST_E_FORMAT)
REJECT_TEST(gif_flag_is_format, ROOT, put16(K_FLAGS, NEST_KVM_STATE_NESTED_GIF_SET), NEST_E_FORMAT)
REJECT_TEST(size_below_the_vmcs12_is_format, ROOT, put32(K_SIZE, K_DATA + 4095), NEST_E_FORMAT)
REJECT_TEST(size_beyond_the_buffer_is_format, ROOT, put32(K_SIZE, FULL + 1), NEST_E_FORMAT)
REJECT_TEST(header_padding_is_format, ROOT, S[100] = 1, NEST_E_FORMAT)
REJECT_TEST(vmx_pad_is_format, ROOT, put16(K_PAD, 1), NEST_E_FORMAT)
REJECT_TEST(unknown_vmx_flag_is_format, ROOT, put32(K_VMX_FLAGS, 2), NEST_E_FORMAT)
REJECT_TEST(timer_deadline_outside_guest_mode_is_format, ROOT,
	    put32(K_VMX_FLAGS, NEST_KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE), NEST_E_FORMAT)
REJECT_TEST(other_vmcs12_revision_is_format, ROOT, put32(K_DATA, 0x1234), NEST_E_FORMAT)
REJECT_TEST(vmcs12_without_vmxon_is_format, ROOT, put64(K_VMXON, UINT64_MAX), NEST_E_FORMAT)
REJECT_TEST(unaligned_vmcs12_is_format, ROOT, put64(K_VMCS12, VMCS_GPA + 8), NEST_E_FORMAT)
REJECT_TEST(bad_launch_state_is_format, ROOT, put32(K_DATA + KV_LAUNCH_STATE, 7), NEST_E_FORMAT)
REJECT_TEST(guest_mode_without_vmcs12_is_format, GUEST,
	    (put64(K_VMCS12, UINT64_MAX), put32(K_SIZE, K_DATA)), NEST_E_FORMAT)
REJECT_TEST(guest_mode_vmcs12_failing_entry_checks_is_format, GUEST,
	    put64(K_DATA + KV_HOST_RIP, 0x8000000000000000ull), NEST_E_FORMAT)
REJECT_TEST(evmcs_is_unsupported, ROOT, put16(K_FLAGS, NEST_KVM_STATE_NESTED_EVMCS),
	    NEST_E_UNSUPPORTED)
REJECT_TEST(run_pending_is_unsupported, GUEST,
	    put16(K_FLAGS, NEST_KVM_STATE_NESTED_GUEST_MODE | NEST_KVM_STATE_NESTED_RUN_PENDING),
	    NEST_E_UNSUPPORTED)
REJECT_TEST(mtf_pending_is_unsupported, GUEST,
	    put16(K_FLAGS, NEST_KVM_STATE_NESTED_GUEST_MODE | NEST_KVM_STATE_NESTED_MTF_PENDING),
	    NEST_E_UNSUPPORTED)
REJECT_TEST(smm_is_unsupported, ROOT, put16(K_SMM, 2), NEST_E_UNSUPPORTED)
REJECT_TEST(shadow_vmcs12_is_unsupported, ROOT, (put32(K_SIZE, FULL), S[K_SHADOW] = 1),
	    NEST_E_UNSUPPORTED)

START_TEST(empty_shadow_area_is_accepted)
{
	struct nest_vmx *c;

	export(N.ctx, S);
	put32(K_SIZE, FULL);
	c = fresh_ctx();
	ck_assert_int_eq(nest_vmx_from_kvm_nested_state(c, S, FULL), NEST_OK);
}
END_TEST

START_TEST(every_truncation_is_rejected_and_changes_nothing)
{
	struct nest_vmx *c;
	size_t len, n;

	export_guest_mode();
	n = SLEN;
	c = fresh_ctx();
	for (len = 0; len < n; len++)
		assert_rejected(c, len, NEST_E_FORMAT);
	ck_assert_int_eq(nest_vmx_from_kvm_nested_state(c, S, n), NEST_OK);
}
END_TEST

static Suite *kvm_suite(void)
{
	Suite *s = suite_create("state_kvm");
	TCase *t = tcase_create("kvm_vmx");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, export_outside_vmx_operation_is_the_bare_header);
	tcase_add_test(t, export_in_root_has_vmcs12_in_kvms_layout);
	tcase_add_test(t, export_of_a_vmcs12_using_vmcs_shadowing_is_unsupported);
	tcase_add_test(t, kvm_to_libnest_to_kvm_is_identity);
	tcase_add_test(t, import_takes_the_encls_bitmap_and_tsc_multiplier_at_kvms_offsets);
	tcase_add_test(t, import_in_guest_mode_before_the_first_exit_takes_vmcs12_as_launched);
	tcase_add_test(t, cr3_target_values_do_not_travel_in_kvms_dead_space);
	tcase_add_test(t, import_in_guest_mode_reflects_the_next_exit_as_the_original);
	tcase_add_test(t, export_with_an_event_pending_in_vmcs02_is_a_state_error);
	tcase_add_test(t, svm_format_is_format);
	tcase_add_test(t, unknown_flag_is_format);
	tcase_add_test(t, gif_flag_is_format);
	tcase_add_test(t, size_below_the_vmcs12_is_format);
	tcase_add_test(t, size_beyond_the_buffer_is_format);
	tcase_add_test(t, header_padding_is_format);
	tcase_add_test(t, vmx_pad_is_format);
	tcase_add_test(t, unknown_vmx_flag_is_format);
	tcase_add_test(t, timer_deadline_outside_guest_mode_is_format);
	tcase_add_test(t, other_vmcs12_revision_is_format);
	tcase_add_test(t, vmcs12_without_vmxon_is_format);
	tcase_add_test(t, unaligned_vmcs12_is_format);
	tcase_add_test(t, bad_launch_state_is_format);
	tcase_add_test(t, guest_mode_without_vmcs12_is_format);
	tcase_add_test(t, guest_mode_vmcs12_failing_entry_checks_is_format);
	tcase_add_test(t, evmcs_is_unsupported);
	tcase_add_test(t, run_pending_is_unsupported);
	tcase_add_test(t, mtf_pending_is_unsupported);
	tcase_add_test(t, smm_is_unsupported);
	tcase_add_test(t, shadow_vmcs12_is_unsupported);
	tcase_add_test(t, empty_shadow_area_is_accepted);
	tcase_add_test(t, every_truncation_is_rejected_and_changes_nothing);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return nest_test_run(kvm_suite());
}
