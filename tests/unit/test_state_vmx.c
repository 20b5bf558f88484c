/* SPDX-License-Identifier: MIT */
/*
 * Save and restore of nested VMX state (nest/state.h, docs/state.md):
 * round trips outside VMX operation, in VMX root with a current VMCS and
 * in guest mode (an L2 exit after the restore is reflected as in the
 * original context), every rejection rule on a mutated stream, and every
 * truncation.
 */
#include "check_main.h"
#include "vmx_fixture.h"

#include <nest/state.h>

#include "state_bytes.h"

#include "vmx/check.h"
#include "vmx/context.h"
#include "vmx/entry.h"
#include "vmx/reflect.h"
#include "vmx/shadow.h"
#include "vmx/sync.h"

#define OFF_VERSION 4
#define OFF_ARCH 6
#define OFF_SIZE 8
#define OFF_FLAGS 12
#define OFF_RESERVED 16
#define OFF_VMXON_PTR 24
#define OFF_CURRENT_VMPTR 32
#define OFF_FEATURE_CONTROL 40
#define OFF_L1_CR0 48
#define OFF_L1_INTR 96
#define OFF_TIMER_START 104
#define OFF_TIMER_NOW 108
#define OFF_EVENT_INFO 112
#define OFF_EVENT_ERROR 116
#define OFF_EVENT_LEN 120
#define OFF_IMAGE_SIZE 124
#define OFF_IMAGE 128
#define IMG(field) (OFF_IMAGE + offsetof(struct nest__vmcs12, field))

#define L2_RIP 0x401234ull
#define L2_RSP 0x7ff0ull
#define L2_ES_BASE 0x12340000ull
#define L2_SYSENTER_ESP 0xffff8000ull
#define CPUID_LEN 2u

static uint8_t *S;	/* a saved stream */
static size_t SLEN;	/* its length */
static void *MEM2;	/* storage of a second context */
static uint8_t *BEFORE; /* a context's bytes before a rejected restore */

static void setup(void)
{
	nfx_setup();
	SLEN = nest_vmx_state_size();
	S = calloc(1, SLEN);
	BEFORE = malloc(nest_vmx_size());
	MEM2 = NULL;
	ck_assert_ptr_nonnull(S);
	ck_assert_ptr_nonnull(BEFORE);
}

static void teardown(void)
{
	free(S);
	free(BEFORE);
	free(MEM2);
	nfx_teardown();
}

/* A fresh context on the same simulated L0 (the destination). */
static struct nest_vmx *fresh_ctx(bool with_l0)
{
	struct nest_vmx *c;

	free(MEM2);
	MEM2 = aligned_alloc(64, (nest_vmx_size() + 63) & ~(size_t)63);
	ck_assert_ptr_nonnull(MEM2);
	ck_assert_int_eq(nest_vmx_init(MEM2, nest_vmx_size(), sim_backend(&N.s), &N.cfg, &c),
			 NEST_OK);
	c->caps = N.base.caps;
	if (with_l0)
		ck_assert_int_eq(nest_vmx_set_l0(c, &N.l0), NEST_OK);
	return c;
}

static void save(struct nest_vmx *c, uint8_t *buf)
{
	size_t written = 0;

	ck_assert_int_eq(nest_vmx_save_state(c, buf, SLEN, &written), NEST_OK);
	ck_assert_uint_eq(written, SLEN);
}

/* The restore fails with `status` and the context does not change. */
static void assert_rejected(struct nest_vmx *c, size_t len, int status)
{
	memcpy(BEFORE, c, nest_vmx_size());
	ck_assert_int_eq(nest_vmx_restore_state(c, S, len), status);
	ck_assert(memcmp(BEFORE, c, nest_vmx_size()) == 0);
}

/* Make L2 have run: registers and a rarely read field changed in vmcs02. */
static void l2_progress(void)
{
	set02(NEST_VMCS_GUEST_RIP, L2_RIP);
	set02(NEST_VMCS_GUEST_RSP, L2_RSP);
	set02(NEST_VMCS_GUEST_ES_BASE, L2_ES_BASE);
	set02(NEST_VMCS_GUEST_SYSENTER_ESP, L2_SYSENTER_ESP);
}

static int cpuid_exit(void)
{
	set02(NEST_VMCS_VM_EXIT_INSTRUCTION_LEN, CPUID_LEN);
	return l2_exit(NEST_VMX_EXIT_CPUID, 0);
}

/* A guest-mode stream of the fixture's L2 in S. */
static void save_guest_mode(void)
{
	launch_ok();
	l2_progress();
	save(N.ctx, S);
	ck_assert_uint_eq(get32(OFF_FLAGS) & NEST_STATE_VMX_F_GUEST_MODE,
			  NEST_STATE_VMX_F_GUEST_MODE);
}

/* ---- the header ---- */

START_TEST(stream_starts_with_the_header_and_has_a_fixed_size)
{
	save(N.ctx, S);
	ck_assert_uint_eq(get32(0), NEST_STATE_MAGIC);
	ck_assert_uint_eq(get32(OFF_VERSION) & 0xffff, NEST_STATE_VERSION);
	ck_assert_uint_eq(get32(OFF_VERSION) >> 16, NEST_STATE_ARCH_VMX);
	ck_assert_uint_eq(get32(OFF_SIZE), SLEN);
	ck_assert_uint_eq(get32(OFF_IMAGE_SIZE), sizeof(struct nest__vmcs12));
	ck_assert_uint_eq(SLEN, OFF_IMAGE + sizeof(struct nest__vmcs12));
}
END_TEST

START_TEST(save_into_a_short_buffer_is_nospc)
{
	ck_assert_int_eq(nest_vmx_save_state(N.ctx, S, SLEN - 1, NULL), NEST_E_NOSPC);
	ck_assert_int_eq(nest_vmx_save_state(NULL, S, SLEN, NULL), NEST_E_INVAL);
	ck_assert_int_eq(nest_vmx_save_state(N.ctx, NULL, SLEN, NULL), NEST_E_INVAL);
	ck_assert_int_eq(nest_vmx_restore_state(N.ctx, NULL, SLEN), NEST_E_INVAL);
}
END_TEST

/* ---- round trips ---- */

START_TEST(round_trip_outside_vmx_operation)
{
	struct nest_vmx *c = fresh_ctx(false), *d;
	struct nest_vmx_status st;
	uint8_t *again = calloc(1, SLEN);

	save(c, S);
	ck_assert_uint_eq(get32(OFF_FLAGS), 0);
	ck_assert_uint_eq(get64(OFF_VMXON_PTR), NEST_VMX_INVALID_VMPTR);
	/* Into a context in VMX operation: it leaves it. */
	ck_assert_int_eq(nest_vmx_restore_state(N.ctx, S, SLEN), NEST_OK);
	st.size = sizeof(st);
	ck_assert_int_eq(nest_vmx_get_status(N.ctx, &st), NEST_OK);
	ck_assert(!st.in_vmx_operation);
	ck_assert_uint_eq(st.current_vmptr, NEST_VMX_INVALID_VMPTR);
	d = N.ctx;
	save(d, again);
	ck_assert(memcmp(S, again, SLEN) == 0);
	free(again);
}
END_TEST

START_TEST(round_trip_in_vmx_root_with_a_current_vmcs)
{
	struct nest_vmx *c;
	struct nest_vmx_status a, b;
	uint8_t *again = calloc(1, SLEN);

	V12()->launch_state = NEST_VMCS12_STATE_LAUNCHED;
	V12()->GUEST_RIP = L2_RIP;
	save(N.ctx, S);
	ck_assert_uint_eq(get32(OFF_FLAGS), NEST_STATE_VMX_F_VMXON | NEST_STATE_VMX_F_CURRENT_VMCS);
	c = fresh_ctx(false);
	ck_assert_int_eq(nest_vmx_restore_state(c, S, SLEN), NEST_OK);
	a.size = b.size = sizeof(a);
	ck_assert_int_eq(nest_vmx_get_status(N.ctx, &a), NEST_OK);
	ck_assert_int_eq(nest_vmx_get_status(c, &b), NEST_OK);
	ck_assert(memcmp(&a, &b, sizeof(a)) == 0);
	ck_assert(memcmp(&c->vmcs12, V12(), sizeof(c->vmcs12)) == 0);
	ck_assert(!nest_vmx_in_l2(c));
	save(c, again);
	ck_assert(memcmp(S, again, SLEN) == 0);
	free(again);
}
END_TEST

START_TEST(vmresume_after_a_root_restore_enters_l2)
{
	struct nest_vmx *c;

	launch_ok();
	ck_assert_int_eq(cpuid_exit(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	save(N.ctx, S);
	c = fresh_ctx(true);
	ck_assert_int_eq(nest_vmx_restore_state(c, S, SLEN), NEST_OK);
	N.ctx = c;
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_RIP), V12()->GUEST_RIP);
}
END_TEST

START_TEST(save_in_root_brings_rarely_read_fields_up_to_date)
{
	launch_ok();
	l2_progress();
	ck_assert_int_eq(cpuid_exit(), NEST_OK);
	save(N.ctx, S);
	ck_assert_uint_eq(get64(IMG(GUEST_ES_BASE)), L2_ES_BASE);
	ck_assert_uint_eq(get64(IMG(GUEST_RIP)), L2_RIP);
}
END_TEST

START_TEST(save_in_root_takes_what_l1_wrote_to_the_shadow_vmcs)
{
	struct nest_vmx *c;
	uint64_t rip = 0;

	N.l0.flags |= NEST_VMX_L0_F_SHADOW_VMCS;
	ck_assert_int_eq(nest_vmx_set_l0(N.ctx, &N.l0), NEST_OK);
	nest__vmx_shadow_load(N.ctx);
	/* L1's VMWRITE without an exit. */
	sim_vmcs_set(&N.s, NEST_VMCS_SHADOW, NEST_VMCS_GUEST_RIP, L2_RIP);
	save(N.ctx, S);
	ck_assert_uint_eq(get64(IMG(GUEST_RIP)), L2_RIP);
	/* The destination's shadow VMCS shows the restored vmcs12. */
	sim_vmcs_clear(&N.s, NEST_VMCS_SHADOW);
	c = fresh_ctx(false);
	ck_assert_int_eq(nest_vmx_set_l0(c, &N.l0), NEST_OK);
	ck_assert_int_eq(nest_vmx_restore_state(c, S, SLEN), NEST_OK);
	sim_vmcs_get(&N.s, NEST_VMCS_SHADOW, NEST_VMCS_GUEST_RIP, &rip);
	ck_assert_uint_eq(rip, L2_RIP);
}
END_TEST

START_TEST(save_in_guest_mode_holds_l2s_current_state_and_leaves_the_context)
{
	struct nest__vmcs12 before;

	launch_ok();
	before = *V12();
	l2_progress();
	save(N.ctx, S);
	ck_assert_uint_eq(get32(OFF_FLAGS), NEST_STATE_VMX_F_VMXON | NEST_STATE_VMX_F_CURRENT_VMCS |
						NEST_STATE_VMX_F_GUEST_MODE);
	ck_assert_uint_eq(get64(IMG(GUEST_RIP)), L2_RIP);
	ck_assert_uint_eq(get64(IMG(GUEST_RSP)), L2_RSP);
	ck_assert_uint_eq(get64(IMG(GUEST_ES_BASE)), L2_ES_BASE);
	ck_assert_uint_eq(get64(IMG(GUEST_SYSENTER_ESP)), L2_SYSENTER_ESP);
	ck_assert_uint_eq(get64(OFF_L1_CR0), N.ctx->nested.l1_now.cr0);
	ck_assert(memcmp(&before, V12(), sizeof(before)) == 0);
	ck_assert(nest_vmx_in_l2(N.ctx));
}
END_TEST

/* The destination's vmcs02 starts empty; L1's VMCS regions are in L1 memory
 * (the same here). */
static void compare_fields(const struct sim_vmcs *a, const struct sim_vmcs *b)
{
	unsigned i;

	for (i = 0; i < NEST__VF_COUNT; i++) {
		struct sim s1, s2;
		uint64_t x = 0, y = 0;

		s1.vmcs[NEST_VMCS01] = *a;
		s2.vmcs[NEST_VMCS01] = *b;
		sim_vmcs_get(&s1, NEST_VMCS01, nest__vmcs_fields[i].encoding, &x);
		sim_vmcs_get(&s2, NEST_VMCS01, nest__vmcs_fields[i].encoding, &y);
		ck_assert_msg(x == y, "vmcs01 field %s: %llx != %llx", nest__vmcs_fields[i].name,
			      (unsigned long long)x, (unsigned long long)y);
	}
}

START_TEST(round_trip_in_guest_mode_reflects_the_next_exit_identically)
{
	static struct sim_vmcs snap[3], vmcs01_after;
	static struct nest__vmcs12 v12_after;
	uint8_t *mem = malloc(MEM_SIZE), *again = calloc(1, SLEN);
	struct nest_vmx *c;

	save_guest_mode();
	memcpy(snap, N.s.vmcs, sizeof(snap));
	memcpy(mem, N.s.mem, MEM_SIZE);
	/* The original goes on. */
	ck_assert_int_eq(cpuid_exit(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	nest__vmx_sync_rare(N.ctx); /* L1's view: what its VMREADs see */
	v12_after = *V12();
	vmcs01_after = N.s.vmcs[NEST_VMCS01];

	/* The destination: same L1 memory and vmcs01, an empty vmcs02. */
	memcpy(N.s.vmcs, snap, sizeof(snap));
	memcpy(N.s.mem, mem, MEM_SIZE);
	sim_vmcs_clear(&N.s, NEST_VMCS02);
	c = fresh_ctx(true);
	ck_assert_int_eq(nest_vmx_restore_state(c, S, SLEN), NEST_OK);
	ck_assert(nest_vmx_in_l2(c));
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_RIP), L2_RIP);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_ES_BASE), L2_ES_BASE);
	ck_assert_uint_eq(v02(NEST_VMCS_HOST_RIP), L0_HOST_RIP);
	/* A restored state saves back to the same bytes. */
	save(c, again);
	ck_assert(memcmp(S, again, SLEN) == 0);

	N.ctx = c;
	ck_assert_int_eq(cpuid_exit(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	nest__vmx_sync_rare(c);
	ck_assert(memcmp(&v12_after, &c->vmcs12, sizeof(v12_after)) == 0);
	compare_fields(&vmcs01_after, &N.s.vmcs[NEST_VMCS01]);
	free(mem);
	free(again);
}
END_TEST

START_TEST(restore_in_guest_mode_rewrites_every_vmcs02_field)
{
	struct nest_vmx *c;

	save_guest_mode();
	/* The destination's vmcs02 holds stale values. */
	set02(NEST_VMCS_HOST_RIP, 0xdead);
	set02(NEST_VMCS_GUEST_RIP, 0xbeef);
	set02(NEST_VMCS_PIN_BASED_VM_EXEC_CONTROL, 0);
	c = fresh_ctx(true);
	/* Its cache believes vmcs02 holds the values a VM entry would write. */
	c->nested.vmcs02_cache = N.ctx->nested.vmcs02_cache;
	ck_assert_int_eq(nest_vmx_restore_state(c, S, SLEN), NEST_OK);
	ck_assert_uint_eq(v02(NEST_VMCS_HOST_RIP), L0_HOST_RIP);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_RIP), L2_RIP);
	ck_assert_uint_eq(v02(NEST_VMCS_PIN_BASED_VM_EXEC_CONTROL),
			  N.ctx->nested.vmcs02_cache.PIN_BASED_VM_EXEC_CONTROL);
	ck_assert(!c->nested.fast.valid);
}
END_TEST

START_TEST(event_pending_in_vmcs02_survives_a_restore)
{
	struct nest_vmx *c;
	uint32_t ev = NEST_VMX_INTR_INFO_VALID |
		      (NEST_VMX_INTR_TYPE_EXT_INTR << NEST_VMX_INTR_INFO_TYPE_SHIFT) | 0x31;

	/* L2 takes interrupts: an external interrupt is injected only with
	 * RFLAGS.IF set (SDM 27.3.1.5), which a restore checks as entry does. */
	V12()->GUEST_RFLAGS |= X86_RFLAGS_IF;
	launch_ok();
	/* L0 handles an exit during delivery of an interrupt to L2. */
	set02(NEST_VMCS_IDT_VECTORING_INFO_FIELD, ev);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_EXTERNAL_INTERRUPT, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD), ev);
	save(N.ctx, S);
	ck_assert_uint_eq(get32(OFF_EVENT_INFO), ev);
	sim_vmcs_clear(&N.s, NEST_VMCS02);
	c = fresh_ctx(true);
	ck_assert_int_eq(nest_vmx_restore_state(c, S, SLEN), NEST_OK);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD), ev);
}
END_TEST

START_TEST(event_l1_injected_travels_as_vmcs02s_pending_event)
{
	struct nest_vmx *c;
	/* #UD: a hardware exception without error code. */
	uint32_t ev = NEST_VMX_INTR_INFO_VALID |
		      (NEST_VMX_INTR_TYPE_HW_EXCEPTION << NEST_VMX_INTR_INFO_TYPE_SHIFT) |
		      X86_EXC_UD;

	V12()->VM_ENTRY_INTR_INFO_FIELD = ev;
	launch_ok();
	save(N.ctx, S);
	/* vmcs12's copy was handed over at the entry: one pending event. */
	ck_assert_uint_eq(get32(IMG(VM_ENTRY_INTR_INFO_FIELD)) & NEST_VMX_INTR_INFO_VALID, 0);
	ck_assert_uint_eq(get32(OFF_EVENT_INFO), ev);
	sim_vmcs_clear(&N.s, NEST_VMCS02);
	c = fresh_ctx(true);
	ck_assert_int_eq(nest_vmx_restore_state(c, S, SLEN), NEST_OK);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD), ev);
	ck_assert_uint_eq(c->vmcs12.VM_ENTRY_INTR_INFO_FIELD & NEST_VMX_INTR_INFO_VALID, 0);
}
END_TEST

START_TEST(restored_timer_counts_on_from_where_it_was)
{
	struct nest_vmx *c;

	V12()->PIN_BASED_VM_EXEC_CONTROL |= NEST_VMX_PIN_PREEMPTION_TIMER;
	V12()->VMX_PREEMPTION_TIMER_VALUE = 1000;
	launch_ok();
	set02(NEST_VMCS_VMX_PREEMPTION_TIMER_VALUE, 600);
	save(N.ctx, S);
	ck_assert_uint_eq(get32(OFF_FLAGS) & NEST_STATE_VMX_F_TIMER_ACTIVE,
			  NEST_STATE_VMX_F_TIMER_ACTIVE);
	ck_assert_uint_eq(get32(OFF_TIMER_START), 1000);
	ck_assert_uint_eq(get32(OFF_TIMER_NOW), 600);
	sim_vmcs_clear(&N.s, NEST_VMCS02);
	c = fresh_ctx(true);
	ck_assert_int_eq(nest_vmx_restore_state(c, S, SLEN), NEST_OK);
	ck_assert_uint_eq(v02(NEST_VMCS_VMX_PREEMPTION_TIMER_VALUE), 600);
	ck_assert_uint_eq(c->nested.timer_start, 1000);
}
END_TEST

/* ---- rejections: each rule on a mutated stream ---- */

#define REJECT_TEST(name, prepare, mutate, status)                                                 \
	START_TEST(name)                                                                           \
	{                                                                                          \
		struct nest_vmx *c;                                                                \
		prepare;                                                                           \
		c = fresh_ctx(true);                                                               \
		ck_assert_int_eq(nest_vmx_restore_state(c, S, SLEN), NEST_OK);                     \
		mutate;                                                                            \
		assert_rejected(c, SLEN, status);                                                  \
	}                                                                                          \
	END_TEST

#define GUEST save_guest_mode()
#define ROOT save(N.ctx, S)
#define OUTSIDE save(fresh_ctx(false), S)

REJECT_TEST(bad_magic_is_format, GUEST, put32(0, 0x12345678), NEST_E_FORMAT)
REJECT_TEST(other_version_is_format, GUEST, put32(OFF_VERSION, get32(OFF_VERSION) + 1),
	    NEST_E_FORMAT)
REJECT_TEST(svm_stream_is_format, GUEST,
	    put32(OFF_VERSION, NEST_STATE_VERSION | (NEST_STATE_ARCH_SVM << 16)), NEST_E_FORMAT)
REJECT_TEST(size_not_the_images_is_format, GUEST, put32(OFF_SIZE, (uint32_t)SLEN - 8),
	    NEST_E_FORMAT)
REJECT_TEST(size_beyond_the_buffer_is_format, GUEST, put32(OFF_SIZE, (uint32_t)SLEN + 8),
	    NEST_E_FORMAT)
REJECT_TEST(reserved_header_bits_are_format, GUEST, put64(OFF_RESERVED, 1), NEST_E_FORMAT)
REJECT_TEST(unknown_flag_is_format, GUEST, put32(OFF_FLAGS, get32(OFF_FLAGS) | (1u << 31)),
	    NEST_E_FORMAT)
REJECT_TEST(larger_image_is_unsupported, GUEST,
	    put32(OFF_IMAGE_SIZE, (uint32_t)sizeof(struct nest__vmcs12) + 8), NEST_E_UNSUPPORTED)
REJECT_TEST(unaligned_image_size_is_format, GUEST,
	    put32(OFF_IMAGE_SIZE, (uint32_t)sizeof(struct nest__vmcs12) - 4), NEST_E_FORMAT)
REJECT_TEST(unaligned_vmxon_pointer_is_format, ROOT, put64(OFF_VMXON_PTR, VMXON_GPA + 8),
	    NEST_E_FORMAT)
REJECT_TEST(vmxon_pointer_beyond_maxphyaddr_is_format, ROOT, put64(OFF_VMXON_PTR, 1ull << 52),
	    NEST_E_FORMAT)
REJECT_TEST(unaligned_vmcs_pointer_is_format, ROOT, put64(OFF_CURRENT_VMPTR, VMCS_GPA + 1),
	    NEST_E_FORMAT)
REJECT_TEST(vmcs_pointer_beyond_maxphyaddr_is_format, ROOT, put64(OFF_CURRENT_VMPTR, 1ull << 50),
	    NEST_E_FORMAT)
REJECT_TEST(vmcs_pointer_equal_to_vmxon_is_format, ROOT, put64(OFF_CURRENT_VMPTR, VMXON_GPA),
	    NEST_E_FORMAT)
REJECT_TEST(current_vmcs_without_the_flag_is_format, ROOT, put32(OFF_FLAGS, NEST_STATE_VMX_F_VMXON),
	    NEST_E_FORMAT)
REJECT_TEST(pointer_outside_vmx_operation_is_format, OUTSIDE, put64(OFF_VMXON_PTR, VMXON_GPA),
	    NEST_E_FORMAT)
REJECT_TEST(image_without_a_current_vmcs_is_format, OUTSIDE, put32(IMG(GUEST_RIP), 1),
	    NEST_E_FORMAT)
REJECT_TEST(wrong_vmcs_revision_is_format, ROOT, put32(OFF_IMAGE, 0x1234), NEST_E_FORMAT)
REJECT_TEST(unknown_launch_state_is_format, ROOT, put32(IMG(launch_state), 2), NEST_E_FORMAT)
REJECT_TEST(image_header_reserved_is_format, ROOT, put32(IMG(header_reserved), 1), NEST_E_FORMAT)
REJECT_TEST(feature_control_without_lock_is_format, ROOT,
	    put64(OFF_FEATURE_CONTROL, get64(OFF_FEATURE_CONTROL) & ~X86_FEATURE_CONTROL_LOCK),
	    NEST_E_FORMAT)
REJECT_TEST(feature_control_bits_l1_cannot_write_are_format, OUTSIDE,
	    put64(OFF_FEATURE_CONTROL, 1ull << 63), NEST_E_FORMAT)
REJECT_TEST(guest_mode_without_vmx_operation_is_format, GUEST,
	    put32(OFF_FLAGS, get32(OFF_FLAGS) & ~NEST_STATE_VMX_F_VMXON), NEST_E_FORMAT)
REJECT_TEST(guest_mode_without_a_current_vmcs_is_format, GUEST,
	    (put32(OFF_FLAGS, get32(OFF_FLAGS) & ~NEST_STATE_VMX_F_CURRENT_VMCS),
	     put64(OFF_CURRENT_VMPTR, NEST_VMX_INVALID_VMPTR),
	     memset(S + OFF_IMAGE, 0, SLEN - OFF_IMAGE)),
	    NEST_E_FORMAT)
REJECT_TEST(guest_mode_with_a_clear_vmcs_is_format, GUEST,
	    put32(IMG(launch_state), NEST_VMCS12_STATE_CLEAR), NEST_E_FORMAT)
REJECT_TEST(guest_mode_vmcs12_failing_the_entry_checks_is_format, GUEST, put64(IMG(HOST_CR0), 0),
	    NEST_E_FORMAT)
REJECT_TEST(guest_mode_vmcs12_with_a_bad_guest_state_is_format, GUEST,
	    put64(IMG(VMCS_LINK_POINTER), 0x1001), NEST_E_FORMAT)
REJECT_TEST(guest_mode_l1_cr0_outside_the_fixed_bits_is_format, GUEST, put64(OFF_L1_CR0, 0),
	    NEST_E_FORMAT)
REJECT_TEST(guest_mode_l1_blocked_by_mov_ss_is_format, GUEST,
	    put64(OFF_L1_INTR, NEST_VMX_INTERRUPTIBILITY_MOV_SS), NEST_E_FORMAT)
REJECT_TEST(timer_count_above_its_start_is_format, GUEST,
	    (put32(OFF_FLAGS, get32(OFF_FLAGS) | NEST_STATE_VMX_F_TIMER_ACTIVE),
	     put32(OFF_TIMER_START, 5), put32(OFF_TIMER_NOW, 6)),
	    NEST_E_FORMAT)
REJECT_TEST(timer_values_without_a_timer_are_format, GUEST, put32(OFF_TIMER_START, 5),
	    NEST_E_FORMAT)
REJECT_TEST(l1_timer_without_an_active_timer_is_format, GUEST,
	    put32(OFF_FLAGS, get32(OFF_FLAGS) | NEST_STATE_VMX_F_L1_TIMER), NEST_E_FORMAT)
REJECT_TEST(event_of_reserved_type_is_format, GUEST,
	    put32(OFF_EVENT_INFO, NEST_VMX_INTR_INFO_VALID | (1u << NEST_VMX_INTR_INFO_TYPE_SHIFT)),
	    NEST_E_FORMAT)
REJECT_TEST(error_code_without_the_deliver_bit_is_format, GUEST,
	    (put32(OFF_EVENT_INFO,
		   NEST_VMX_INTR_INFO_VALID | 14u |
		       (NEST_VMX_INTR_TYPE_HW_EXCEPTION << NEST_VMX_INTR_INFO_TYPE_SHIFT)),
	     put32(OFF_EVENT_ERROR, 2)),
	    NEST_E_FORMAT)
REJECT_TEST(event_fields_of_no_event_are_format, GUEST, put32(OFF_EVENT_ERROR, 2), NEST_E_FORMAT)
/* Issue #13.4: what VMLAUNCH refuses (SDM 27.2.1.3), a restore refuses. */
#define EVT(type, vector)                                                                          \
	(NEST_VMX_INTR_INFO_VALID | ((type) << NEST_VMX_INTR_INFO_TYPE_SHIFT) | (vector))
REJECT_TEST(exception_with_vector_64_is_format, GUEST,
	    put32(OFF_EVENT_INFO, EVT(NEST_VMX_INTR_TYPE_HW_EXCEPTION, 64u)), NEST_E_FORMAT)
REJECT_TEST(nmi_with_vector_5_is_format, GUEST,
	    put32(OFF_EVENT_INFO, EVT(NEST_VMX_INTR_TYPE_NMI, 5u)), NEST_E_FORMAT)
REJECT_TEST(ud_with_an_error_code_is_format, GUEST,
	    put32(OFF_EVENT_INFO,
		  EVT(NEST_VMX_INTR_TYPE_HW_EXCEPTION, 6u) | NEST_VMX_INTR_INFO_DELIVER_ERROR_CODE),
	    NEST_E_FORMAT)
REJECT_TEST(software_interrupt_of_length_0_is_format, GUEST,
	    (put32(OFF_EVENT_INFO, EVT(NEST_VMX_INTR_TYPE_SOFT_INTR, 0x80u)),
	     put32(OFF_EVENT_LEN, 0)),
	    NEST_E_FORMAT)
REJECT_TEST(external_interrupt_with_rflags_if_clear_is_format, GUEST,
	    (put32(OFF_EVENT_INFO, EVT(NEST_VMX_INTR_TYPE_EXT_INTR, 0x30u)),
	     put64(IMG(GUEST_RFLAGS), X86_RFLAGS_FIXED1)),
	    NEST_E_FORMAT)

/* A restore ends any MSR list L0 could still refuse
 * (nest_vmx_pending_msr_failed()): it belonged to the replaced state. */
START_TEST(a_restore_leaves_no_pending_msr_to_refuse)
{
	struct nest_vmx_msr_entry e = {X86_MSR_IA32_SYSENTER_CS, 0, 8};
	struct nest_vmx_action a;

	memcpy(sim_ptr(&N.s, 0x1d000, sizeof(e)), &e, sizeof(e));
	V12()->VM_ENTRY_MSR_LOAD_ADDR = 0x1d000;
	V12()->VM_ENTRY_MSR_LOAD_COUNT = 1;
	launch_ok();
	ck_assert(N.act.flags & NEST_VMX_ACT_F_MSRS);
	save(N.ctx, S);
	ck_assert_int_eq(nest_vmx_restore_state(N.ctx, S, SLEN), NEST_OK);
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	ck_assert_int_eq(nest_vmx_pending_msr_failed(N.ctx, 0, &a), NEST_E_STATE);
	ck_assert(nest_vmx_in_l2(N.ctx));
}
END_TEST

START_TEST(software_interrupt_with_its_length_is_restored)
{
	struct nest_vmx *c;

	save_guest_mode();
	c = fresh_ctx(true);
	put32(OFF_EVENT_INFO, EVT(NEST_VMX_INTR_TYPE_SOFT_INTR, 0x80u));
	put32(OFF_EVENT_LEN, 2);
	ck_assert_int_eq(nest_vmx_restore_state(c, S, SLEN), NEST_OK);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD),
			  EVT(NEST_VMX_INTR_TYPE_SOFT_INTR, 0x80u));
	ck_assert_uint_eq(v02(NEST_VMCS_VM_ENTRY_INSTRUCTION_LEN), 2);
}
END_TEST
REJECT_TEST(guest_mode_fields_outside_guest_mode_are_format, ROOT, put64(OFF_L1_CR0, L1_CR0),
	    NEST_E_FORMAT)
REJECT_TEST(injection_still_valid_in_vmcs12_is_format, GUEST,
	    put32(IMG(VM_ENTRY_INTR_INFO_FIELD),
		  NEST_VMX_INTR_INFO_VALID |
		      (NEST_VMX_INTR_TYPE_EXT_INTR << NEST_VMX_INTR_INFO_TYPE_SHIFT) | 0x30),
	    NEST_E_FORMAT)

START_TEST(virtual_apic_page_l0_does_not_map_is_not_mapped)
{
	struct nest_vmx *c;

	V12()->CPU_BASED_VM_EXEC_CONTROL |= NEST_VMX_PROC_USE_TPR_SHADOW;
	V12()->VIRTUAL_APIC_PAGE_ADDR = 0x3000;
	V12()->TPR_THRESHOLD = 0;
	save_guest_mode();
	c = fresh_ctx(true);
	put64(IMG(VIRTUAL_APIC_PAGE_ADDR), 0x40000000ull); /* beyond L1 memory */
	assert_rejected(c, SLEN, NEST_E_NOT_MAPPED);
}
END_TEST

START_TEST(guest_mode_without_l0_set_is_a_state_error)
{
	struct nest_vmx *c;

	save_guest_mode();
	c = fresh_ctx(false);
	assert_rejected(c, SLEN, NEST_E_STATE);
}
END_TEST

START_TEST(every_truncation_is_rejected_and_changes_nothing)
{
	struct nest_vmx *c;
	size_t len;

	save_guest_mode();
	c = fresh_ctx(true);
	for (len = 0; len < SLEN; len++)
		assert_rejected(c, len, NEST_E_FORMAT);
	ck_assert_int_eq(nest_vmx_restore_state(c, S, SLEN), NEST_OK);
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("state_vmx");
	TCase *t = tcase_create("vmx");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 60);
	tcase_add_test(t, stream_starts_with_the_header_and_has_a_fixed_size);
	tcase_add_test(t, save_into_a_short_buffer_is_nospc);
	tcase_add_test(t, round_trip_outside_vmx_operation);
	tcase_add_test(t, round_trip_in_vmx_root_with_a_current_vmcs);
	tcase_add_test(t, vmresume_after_a_root_restore_enters_l2);
	tcase_add_test(t, save_in_root_brings_rarely_read_fields_up_to_date);
	tcase_add_test(t, save_in_root_takes_what_l1_wrote_to_the_shadow_vmcs);
	tcase_add_test(t, save_in_guest_mode_holds_l2s_current_state_and_leaves_the_context);
	tcase_add_test(t, round_trip_in_guest_mode_reflects_the_next_exit_identically);
	tcase_add_test(t, restore_in_guest_mode_rewrites_every_vmcs02_field);
	tcase_add_test(t, event_pending_in_vmcs02_survives_a_restore);
	tcase_add_test(t, event_l1_injected_travels_as_vmcs02s_pending_event);
	tcase_add_test(t, restored_timer_counts_on_from_where_it_was);
	tcase_add_test(t, bad_magic_is_format);
	tcase_add_test(t, other_version_is_format);
	tcase_add_test(t, svm_stream_is_format);
	tcase_add_test(t, size_not_the_images_is_format);
	tcase_add_test(t, size_beyond_the_buffer_is_format);
	tcase_add_test(t, reserved_header_bits_are_format);
	tcase_add_test(t, unknown_flag_is_format);
	tcase_add_test(t, larger_image_is_unsupported);
	tcase_add_test(t, unaligned_image_size_is_format);
	tcase_add_test(t, unaligned_vmxon_pointer_is_format);
	tcase_add_test(t, vmxon_pointer_beyond_maxphyaddr_is_format);
	tcase_add_test(t, unaligned_vmcs_pointer_is_format);
	tcase_add_test(t, vmcs_pointer_beyond_maxphyaddr_is_format);
	tcase_add_test(t, vmcs_pointer_equal_to_vmxon_is_format);
	tcase_add_test(t, current_vmcs_without_the_flag_is_format);
	tcase_add_test(t, pointer_outside_vmx_operation_is_format);
	tcase_add_test(t, image_without_a_current_vmcs_is_format);
	tcase_add_test(t, wrong_vmcs_revision_is_format);
	tcase_add_test(t, unknown_launch_state_is_format);
	tcase_add_test(t, image_header_reserved_is_format);
	tcase_add_test(t, feature_control_without_lock_is_format);
	tcase_add_test(t, feature_control_bits_l1_cannot_write_are_format);
	tcase_add_test(t, guest_mode_without_vmx_operation_is_format);
	tcase_add_test(t, guest_mode_without_a_current_vmcs_is_format);
	tcase_add_test(t, guest_mode_with_a_clear_vmcs_is_format);
	tcase_add_test(t, guest_mode_vmcs12_failing_the_entry_checks_is_format);
	tcase_add_test(t, guest_mode_vmcs12_with_a_bad_guest_state_is_format);
	tcase_add_test(t, guest_mode_l1_cr0_outside_the_fixed_bits_is_format);
	tcase_add_test(t, guest_mode_l1_blocked_by_mov_ss_is_format);
	tcase_add_test(t, timer_count_above_its_start_is_format);
	tcase_add_test(t, timer_values_without_a_timer_are_format);
	tcase_add_test(t, l1_timer_without_an_active_timer_is_format);
	tcase_add_test(t, event_of_reserved_type_is_format);
	tcase_add_test(t, error_code_without_the_deliver_bit_is_format);
	tcase_add_test(t, event_fields_of_no_event_are_format);
	tcase_add_test(t, exception_with_vector_64_is_format);
	tcase_add_test(t, nmi_with_vector_5_is_format);
	tcase_add_test(t, ud_with_an_error_code_is_format);
	tcase_add_test(t, software_interrupt_of_length_0_is_format);
	tcase_add_test(t, external_interrupt_with_rflags_if_clear_is_format);
	tcase_add_test(t, software_interrupt_with_its_length_is_restored);
	tcase_add_test(t, a_restore_leaves_no_pending_msr_to_refuse);
	tcase_add_test(t, guest_mode_fields_outside_guest_mode_are_format);
	tcase_add_test(t, injection_still_valid_in_vmcs12_is_format);
	tcase_add_test(t, virtual_apic_page_l0_does_not_map_is_not_mapped);
	tcase_add_test(t, guest_mode_without_l0_set_is_a_state_error);
	tcase_add_test(t, every_truncation_is_rejected_and_changes_nothing);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return nest_test_run(state_suite());
}
