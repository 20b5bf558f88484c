/* SPDX-License-Identifier: MIT */
/*
 * Save and restore of nested VMX state in libnest's own format
 * (docs/state.md, "VMX body"). A stream is hostile input: restore checks
 * every field into locals before the context changes.
 */
#include <nest/state.h>

#include "cpu/x86.h"
#include "vmx/context.h"
#include "vmx/check.h"
#include "vmx/hwfields.h"
#include "vmx/context.h"
#include "vmx/entry.h"
#include "vmx/reflect.h"
#include "vmx/shadow.h"
#include "vmx/sync.h"
#include "vmx/state_internal.h"
#include "vmx/vmx_arch.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the state stream is little-endian, as x86 is: this file assumes a little-endian host"
#endif

/* VMCS and VMXON regions are 4 KiB aligned (SDM 25.2, 25.11.5). */
#define VMPTR_ALIGN_MASK 0xfffull
/* VM-entry instruction length: 0 to 15 bytes (SDM 26.8.3, 27.2.1.3). */
#define INSN_LEN_MAX 15u
/* Interruption type 1 is reserved (SDM 25.8.3). */
#define INTR_TYPE_RESERVED 1u

_Static_assert(offsetof(struct nest_state_header, magic) == 0, "header.magic");
_Static_assert(offsetof(struct nest_state_header, version) == 4, "header.version");
_Static_assert(offsetof(struct nest_state_header, arch) == 6, "header.arch");
_Static_assert(offsetof(struct nest_state_header, size) == 8, "header.size");
_Static_assert(offsetof(struct nest_state_header, flags) == 12, "header.flags");
_Static_assert(offsetof(struct nest_state_header, reserved) == 16, "header.reserved");
_Static_assert(sizeof(struct nest_state_header) == 24, "header size");
_Static_assert(offsetof(struct nest__vmx_state_wire, vmxon_ptr) == 24, "vmx.vmxon_ptr");
_Static_assert(offsetof(struct nest__vmx_state_wire, current_vmptr) == 32, "vmx.current_vmptr");
_Static_assert(offsetof(struct nest__vmx_state_wire, feature_control) == 40, "vmx.feature_control");
_Static_assert(offsetof(struct nest__vmx_state_wire, l1_cr0) == 48, "vmx.l1_cr0");
_Static_assert(offsetof(struct nest__vmx_state_wire, l1_cr4) == 56, "vmx.l1_cr4");
_Static_assert(offsetof(struct nest__vmx_state_wire, l1_efer) == 64, "vmx.l1_efer");
_Static_assert(offsetof(struct nest__vmx_state_wire, l1_pat) == 72, "vmx.l1_pat");
_Static_assert(offsetof(struct nest__vmx_state_wire, l1_debugctl) == 80, "vmx.l1_debugctl");
_Static_assert(offsetof(struct nest__vmx_state_wire, l1_dr7) == 88, "vmx.l1_dr7");
_Static_assert(offsetof(struct nest__vmx_state_wire, l1_intr) == 96, "vmx.l1_intr");
_Static_assert(offsetof(struct nest__vmx_state_wire, timer_start) == 104, "vmx.timer_start");
_Static_assert(offsetof(struct nest__vmx_state_wire, timer_now) == 108, "vmx.timer_now");
_Static_assert(offsetof(struct nest__vmx_state_wire, event_info) == 112, "vmx.event_info");
_Static_assert(offsetof(struct nest__vmx_state_wire, event_error) == 116, "vmx.event_error");
_Static_assert(offsetof(struct nest__vmx_state_wire, event_len) == 120, "vmx.event_len");
_Static_assert(offsetof(struct nest__vmx_state_wire, image_size) == 124, "vmx.image_size");
_Static_assert(sizeof(struct nest__vmx_state_wire) == 128, "vmx body: the image starts at 128");

#define IMAGE_OFFSET sizeof(struct nest__vmx_state_wire)
#define IMAGE_HEADER_SIZE offsetof(struct nest__vmcs12, VIRTUAL_PROCESSOR_ID)
#define IMAGE_ALIGN 8u

NEST_API size_t nest_vmx_state_size(void)
{
	return IMAGE_OFFSET + sizeof(struct nest__vmcs12);
}

/* ---- save ---- */

/* In guest mode L2's state is in vmcs02: read its guest-state fields over a
 * copy of what libnest last wrote there. */
static int read_l2_guest(struct nest_vmx *ctx, struct nest__vmcs12 *v02)
{
	unsigned i;
	uint64_t val;
	int rc;

	*v02 = ctx->nested.vmcs02_cache;
	for (i = 0; i < NEST__VF_COUNT; i++) {
		if (nest__vmcs_fields[i].type != NEST_VMCS_T_GUEST ||
		    i == NEST__VF_VMCS_LINK_POINTER || !nest__vmx_hw_field(&ctx->host, i))
			continue;
		val = 0;
		rc = nest__be_vmcs_read(&ctx->be, NEST_VMCS02, nest__vmcs_fields[i].encoding, &val);
		if (rc != NEST_OK)
			return rc;
		nest__vmcs12_write(v02, nest__vmcs_fields[i].encoding, val);
	}
	return NEST_OK;
}

static int save_guest_mode(struct nest_vmx *ctx, struct nest__vmx_state_wire *w,
			   struct nest__vmcs12 *img)
{
	const struct nest__vmx_nested *n = &ctx->nested;
	struct nest__vmcs12 v02;
	struct nest__vmx_exit_report r;
	int rc = read_l2_guest(ctx, &v02);

	if (rc != NEST_OK)
		return rc;
	/* The guest state a VM exit now would save (SDM 28.3); the timer
	 * field keeps L1's value: vmcs02's count travels on its own. */
	nest__memset(&r, 0, sizeof(r));
	r.timer = img->VMX_PREEMPTION_TIMER_VALUE;
	nest__vmx_save_guest(img, &v02, &r);
	/* The event L1 injected was handed to vmcs02 at the entry: only
	 * vmcs02's copy is pending. L1 cannot read vmcs12 before the next
	 * exit, which clears the bit anyway (SDM 25.8.3). */
	img->VM_ENTRY_INTR_INFO_FIELD &= ~NEST_VMX_INTR_INFO_VALID;
	w->hdr.flags |= NEST_STATE_VMX_F_GUEST_MODE;
	w->l1_cr0 = n->l1_now.cr0;
	w->l1_cr4 = n->l1_now.cr4;
	w->l1_efer = n->l1_now.efer;
	w->l1_pat = n->l1_now.pat;
	w->l1_debugctl = n->l1_now.debugctl;
	w->l1_dr7 = n->l1_now.dr7;
	w->l1_intr = n->l1_now.intr;
	if (n->timer_active) {
		w->hdr.flags |= NEST_STATE_VMX_F_TIMER_ACTIVE;
		if (n->l1_timer_smaller)
			w->hdr.flags |= NEST_STATE_VMX_F_L1_TIMER;
		w->timer_start = n->timer_start;
		w->timer_now = v02.VMX_PREEMPTION_TIMER_VALUE;
		if (w->timer_now > w->timer_start)
			w->timer_now = w->timer_start;
	}
	if (n->vmcs02_cache.VM_ENTRY_INTR_INFO_FIELD & NEST_VMX_INTR_INFO_VALID) {
		w->event_info = n->vmcs02_cache.VM_ENTRY_INTR_INFO_FIELD;
		w->event_error = n->vmcs02_cache.VM_ENTRY_EXCEPTION_ERROR_CODE;
		w->event_len = n->vmcs02_cache.VM_ENTRY_INSTRUCTION_LEN;
	}
	return NEST_OK;
}

int nest__vmx_state_save(struct nest_vmx *ctx, struct nest__vmx_state_wire *w,
			 struct nest__vmcs12 *img)
{
	nest__memset(w, 0, sizeof(*w));
	nest__memset(img, 0, sizeof(*img));
	nest__state_hdr_init(&w->hdr, NEST_STATE_ARCH_VMX, (uint32_t)nest_vmx_state_size());
	w->vmxon_ptr = ctx->vmxon_ptr;
	w->current_vmptr = ctx->current_vmptr;
	w->feature_control = ctx->feature_control;
	w->image_size = sizeof(*img);
	if (ctx->vmxon)
		w->hdr.flags |= NEST_STATE_VMX_F_VMXON;
	if (ctx->current_vmptr == NEST_VMX_INVALID_VMPTR)
		return NEST_OK;
	w->hdr.flags |= NEST_STATE_VMX_F_CURRENT_VMCS;
	if (!ctx->nested.guest_mode) {
		/* L1's view of its VMCS: vmcs02's newer rarely read fields,
		 * what L1 wrote to the shadow VMCS. */
		if (ctx->nested.shadow_loaded) {
			nest__vmx_shadow_release(ctx);
			nest__vmx_shadow_load(ctx);
		} else {
			nest__vmx_sync_rare(ctx);
		}
	}
	*img = ctx->vmcs12;
	if (ctx->nested.guest_mode)
		return save_guest_mode(ctx, w, img);
	return NEST_OK;
}

NEST_API int nest_vmx_save_state(struct nest_vmx *ctx, void *buf, size_t len, size_t *written)
{
	struct nest__vmx_state_wire w;
	struct nest__vmcs12 img;
	int rc;

	if (!nest__vmx_ctx_ok(ctx) || buf == NULL)
		return NEST_E_INVAL;
	if (len < nest_vmx_state_size())
		return NEST_E_NOSPC;
	rc = nest__vmx_state_save(ctx, &w, &img);
	if (rc != NEST_OK)
		return rc;
	nest__memcpy(buf, &w, sizeof(w));
	nest__memcpy((uint8_t *)buf + IMAGE_OFFSET, &img, sizeof(img));
	if (written != NULL)
		*written = nest_vmx_state_size();
	return NEST_OK;
}

/* ---- restore ---- */

static bool vmptr_ok(const struct nest_vmx *ctx, uint64_t p)
{
	return (p & VMPTR_ALIGN_MASK) == 0 && x86_pa_fits(p, ctx->l1_maxphyaddr);
}

static bool cr_fixed_ok(uint64_t cr, uint64_t fixed0, uint64_t fixed1)
{
	return (cr & fixed0) == fixed0 && (cr & ~fixed1) == 0;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* An event vmcs02 was to deliver (SDM 25.8.3 format; 27.2.1.3 rules that
 * do not depend on guest state). */
static bool event_ok(const struct nest__vmx_state_wire *w)
{
	uint32_t type =
	    (w->event_info & NEST_VMX_INTR_INFO_TYPE_MASK) >> NEST_VMX_INTR_INFO_TYPE_SHIFT;

	if (!(w->event_info & NEST_VMX_INTR_INFO_VALID))
		return w->event_info == 0 && w->event_error == 0 && w->event_len == 0;
	if ((w->event_info & NEST_VMX_INTR_INFO_RESERVED_MASK) != 0 || type == INTR_TYPE_RESERVED ||
	    w->event_len > INSN_LEN_MAX)
		return false;
	return (w->event_info & NEST_VMX_INTR_INFO_DELIVER_ERROR_CODE) || w->event_error == 0;
}

/* The L1 pages vmcs02 names by host address must be L0's to give: the
 * rebuild would fail after the context changed. (Queries only.) */
static int check_l1_pages(const struct nest_vmx *ctx, const struct nest__vmcs12 *v)
{
	uint32_t proc2 = (v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_ACTIVATE_SECONDARY)
			     ? v->SECONDARY_VM_EXEC_CONTROL
			     : 0;
	struct nest_l0_map m;
	int rc = NEST_OK;

	if (v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_USE_TPR_SHADOW)
		rc = nest__be_l1_to_host(&ctx->be, v->VIRTUAL_APIC_PAGE_ADDR, &m);
	if (rc == NEST_OK && (proc2 & NEST_VMX_PROC2_VIRT_APIC_ACCESSES))
		rc = nest__be_l1_to_host(&ctx->be, v->APIC_ACCESS_ADDR, &m);
	return rc;
}

/* Guest-mode fields: L1's state at the entry, the timer, the event. */
static int check_guest_mode(const struct nest_vmx *ctx, const struct nest__vmx_state_wire *w,
			    const struct nest__vmcs12 *v)
{
	uint32_t f = w->hdr.flags;
	struct nest__vmx_entry_env env;
	struct nest_vmx_entry_result res;
	struct nest__vmcs12 with_event, *ev = &with_event;

	if (!(f & NEST_STATE_VMX_F_GUEST_MODE)) {
		/* Nothing of a nested entry may be there. */
		if ((f & (NEST_STATE_VMX_F_TIMER_ACTIVE | NEST_STATE_VMX_F_L1_TIMER)) ||
		    !all_zero(&w->l1_cr0, offsetof(struct nest__vmx_state_wire, image_size) -
					      offsetof(struct nest__vmx_state_wire, l1_cr0)))
			return NEST_E_FORMAT;
		return NEST_OK;
	}
	/* VMLAUNCH/VMRESUME need VMX operation and a current VMCS, and a
	 * successful VMLAUNCH leaves it launched (SDM 31 VMLAUNCH). */
	if (!(f & NEST_STATE_VMX_F_VMXON) || !(f & NEST_STATE_VMX_F_CURRENT_VMCS) ||
	    v->launch_state != NEST_VMCS12_STATE_LAUNCHED)
		return NEST_E_FORMAT;
	/* L1 is in VMX root operation: its CR0/CR4 obey the fixed bits (SDM
	 * 24.8); L1 ran in 64-bit or protected mode (VMLAUNCH #UDs else). */
	if (!cr_fixed_ok(w->l1_cr0, ctx->caps.cr0_fixed0, ctx->caps.cr0_fixed1) ||
	    !cr_fixed_ok(w->l1_cr4, ctx->caps.cr4_fixed0, ctx->caps.cr4_fixed1) ||
	    (w->l1_intr &
	     ~(uint64_t)(NEST_VMX_INTERRUPTIBILITY_STI | NEST_VMX_INTERRUPTIBILITY_SMI |
			 NEST_VMX_INTERRUPTIBILITY_NMI | NEST_VMX_INTERRUPTIBILITY_ENCLAVE)) ||
	    ((w->l1_efer & X86_EFER_LMA) && !(w->l1_efer & X86_EFER_LME)))
		return NEST_E_FORMAT;
	if ((f & NEST_STATE_VMX_F_L1_TIMER) && !(f & NEST_STATE_VMX_F_TIMER_ACTIVE))
		return NEST_E_FORMAT;
	if ((f & NEST_STATE_VMX_F_L1_TIMER) &&
	    !(v->PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_PREEMPTION_TIMER))
		return NEST_E_FORMAT;
	if (!(f & NEST_STATE_VMX_F_TIMER_ACTIVE) && (w->timer_start != 0 || w->timer_now != 0))
		return NEST_E_FORMAT;
	if (w->timer_now > w->timer_start)
		return NEST_E_FORMAT;
	if (!event_ok(w) || (v->VM_ENTRY_INTR_INFO_FIELD & NEST_VMX_INTR_INFO_VALID))
		return NEST_E_FORMAT;
	/* vmcs12 must be one libnest would have entered (SDM 27.2-27.3), and
	 * the event vmcs02 delivers at its next entry one that entry accepts
	 * with this guest state (27.2.1.3 and the interruptibility rules of
	 * 27.3.1.5): both checked at once, by the entry checks themselves, on
	 * vmcs12 carrying the event. */
	nest__memcpy(ev, v, sizeof(*ev));
	if (w->event_info & NEST_VMX_INTR_INFO_VALID) {
		ev->VM_ENTRY_INTR_INFO_FIELD = w->event_info;
		ev->VM_ENTRY_EXCEPTION_ERROR_CODE = w->event_error;
		ev->VM_ENTRY_INSTRUCTION_LEN = w->event_len;
	}
	nest__memset(&env, 0, sizeof(env));
	env.l1_ia32e = (w->l1_efer & X86_EFER_LMA) != 0;
	nest__vmx_fetch_entry_env(ctx, v, &env);
	nest__memset(&res, 0, sizeof(res));
	res.size = sizeof(res);
	if (nest__vmx_check_entry(ev, &ctx->caps, &env, &res) != NEST_VMX_ENTRY_OK)
		return NEST_E_FORMAT;
	/* The context must be able to run L2: L0's side is set, and L1's
	 * EPT needs the shadow EPT02. */
	if (!ctx->nested.l0_set)
		return NEST_E_STATE;
	if ((v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_ACTIVATE_SECONDARY) &&
	    (v->SECONDARY_VM_EXEC_CONTROL & NEST_VMX_PROC2_ENABLE_EPT) &&
	    ctx->nested.l0.pub.tdp == NULL)
		return NEST_E_STATE;
	return check_l1_pages(ctx, v);
}

static int check_stream(const struct nest_vmx *ctx, const struct nest__vmx_state_wire *w,
			const struct nest__vmcs12 *v, size_t len)
{
	uint32_t f = w->hdr.flags;
	bool shadow_ok = (ctx->features & NEST_VMX_F_VMCS_SHADOWING) != 0;

	if (!nest__state_hdr_ok(&w->hdr, NEST_STATE_ARCH_VMX, NEST_STATE_VMX_F_ALL))
		return NEST_E_FORMAT;
	if (w->image_size > sizeof(struct nest__vmcs12))
		return NEST_E_UNSUPPORTED; /* a newer image than this build knows */
	if (w->image_size < IMAGE_HEADER_SIZE || w->image_size % IMAGE_ALIGN != 0 ||
	    w->hdr.size != IMAGE_OFFSET + w->image_size || w->hdr.size > len)
		return NEST_E_FORMAT;
	if ((w->feature_control & ~ctx->feature_control_valid) != 0)
		return NEST_E_FORMAT;

	if (!(f & NEST_STATE_VMX_F_VMXON)) {
		if (w->vmxon_ptr != NEST_VMX_INVALID_VMPTR ||
		    w->current_vmptr != NEST_VMX_INVALID_VMPTR ||
		    (f & NEST_STATE_VMX_F_CURRENT_VMCS))
			return NEST_E_FORMAT;
	} else {
		/* VMXON needs VMX allowed, and the lock and "VMXON outside
		 * SMX" bits (SDM 24.7); a valid VMXON pointer. */
		if (!ctx->vmx_allowed)
			return NEST_E_STATE;
		if (!(w->feature_control & X86_FEATURE_CONTROL_LOCK) ||
		    !(w->feature_control & X86_FEATURE_CONTROL_VMXON_OUTSIDE_SMX) ||
		    !vmptr_ok(ctx, w->vmxon_ptr))
			return NEST_E_FORMAT;
	}
	if (!(f & NEST_STATE_VMX_F_CURRENT_VMCS)) {
		if (w->current_vmptr != NEST_VMX_INVALID_VMPTR || !all_zero(v, sizeof(*v)))
			return NEST_E_FORMAT;
	} else {
		/* SDM 31.3 VMPTRLD: aligned, within MAXPHYADDR, not the VMXON
		 * region, of libnest's revision. */
		if (!vmptr_ok(ctx, w->current_vmptr) || w->current_vmptr == w->vmxon_ptr)
			return NEST_E_FORMAT;
		if ((v->revision & ~NEST_VMCS12_SHADOW_INDICATOR) != NEST_VMCS12_REVISION ||
		    ((v->revision & NEST_VMCS12_SHADOW_INDICATOR) && !shadow_ok))
			return NEST_E_FORMAT;
		if ((v->launch_state != NEST_VMCS12_STATE_CLEAR &&
		     v->launch_state != NEST_VMCS12_STATE_LAUNCHED) ||
		    v->header_reserved != 0)
			return NEST_E_FORMAT;
	}
	return check_guest_mode(ctx, w, v);
}

/* After vmcs02 is rebuilt: vmcs02's own event and timer count. */
static int restore_vmcs02_extras(struct nest_vmx *ctx, const struct nest__vmx_state_wire *w)
{
	struct nest__vmx_nested *n = &ctx->nested;
	struct nest__vmcs12 img = n->vmcs02_cache;

	if (w->event_info & NEST_VMX_INTR_INFO_VALID) {
		img.VM_ENTRY_INTR_INFO_FIELD = w->event_info;
		img.VM_ENTRY_EXCEPTION_ERROR_CODE = w->event_error;
		img.VM_ENTRY_INSTRUCTION_LEN = w->event_len;
	}
	/* The count goes on from where it was; never beyond the value this
	 * L0's merge starts it at (a stream cannot lengthen L0's timer). */
	if ((w->hdr.flags & NEST_STATE_VMX_F_TIMER_ACTIVE) && n->timer_active) {
		uint32_t start = w->timer_start < n->timer_start ? w->timer_start : n->timer_start;

		img.VMX_PREEMPTION_TIMER_VALUE = w->timer_now < start ? w->timer_now : start;
		n->timer_start = start;
		n->l1_timer_smaller = (w->hdr.flags & NEST_STATE_VMX_F_L1_TIMER) != 0;
	}
	return nest__vmx_write_vmcs02(ctx, &img, false);
}

int nest__vmx_state_restore(struct nest_vmx *ctx, const struct nest__vmx_state_wire *w,
			    const struct nest__vmcs12 *v, size_t len)
{
	struct nest__vmx_nested *n;
	int rc;

	rc = check_stream(ctx, w, v, len);
	if (rc != NEST_OK)
		return rc;

	n = &ctx->nested;
	ctx->vmxon = (w->hdr.flags & NEST_STATE_VMX_F_VMXON) != 0;
	ctx->vmxon_ptr = w->vmxon_ptr;
	ctx->current_vmptr = w->current_vmptr;
	ctx->feature_control = w->feature_control;
	ctx->vmcs12 = *v;
	/* Nothing of the old nested state survives. */
	n->guest_mode = false;
	n->shadow_loaded = false;
	n->rare_stale = false;
	n->vpid12_valid = false;
	n->timer_active = false;
	n->l1_timer_smaller = false;
	n->timer_start = 0;
	n->merged_valid = false;
	n->msr_count = 0;
	n->msrs_kind = NEST__VMX_MSRS_NONE;
	n->msr_store_abort = false;
	n->msr_store_count = 0;
	n->fast.valid = false;
	nest__memset(&n->dirty, 0, sizeof(n->dirty));
	nest__memset(&n->l1_now, 0, sizeof(n->l1_now));
	if (ctx->current_vmptr != NEST_VMX_INVALID_VMPTR)
		nest__vmx_shadow_load(ctx);
	if (!(w->hdr.flags & NEST_STATE_VMX_F_GUEST_MODE))
		return NEST_OK;

	n->l1_now.cr0 = w->l1_cr0;
	n->l1_now.cr4 = w->l1_cr4;
	n->l1_now.efer = w->l1_efer;
	n->l1_now.pat = w->l1_pat;
	n->l1_now.debugctl = w->l1_debugctl;
	n->l1_now.dr7 = w->l1_dr7;
	n->l1_now.intr = w->l1_intr;
	rc = nest__vmx_rebuild_vmcs02(ctx);
	if (rc == NEST_OK)
		rc = restore_vmcs02_extras(ctx, w);
	if (rc != NEST_OK) {
		nest__be_log(&ctx->be, NEST_LOG_WARN, "vmx: could not rebuild vmcs02 of a restore");
		return rc;
	}
	n->guest_mode = true;
	return NEST_OK;
}

NEST_API int nest_vmx_restore_state(struct nest_vmx *ctx, const void *buf, size_t len)
{
	struct nest__vmx_state_wire w;
	struct nest__vmcs12 v;

	if (!nest__vmx_ctx_ok(ctx) || buf == NULL)
		return NEST_E_INVAL;
	if (len < sizeof(w))
		return NEST_E_FORMAT;
	/* One copy of the stream into L0 locals, then checks, then use. */
	nest__memcpy(&w, buf, sizeof(w));
	nest__memset(&v, 0, sizeof(v));
	if (w.image_size <= sizeof(v) && w.image_size <= len - sizeof(w))
		nest__memcpy(&v, (const uint8_t *)buf + IMAGE_OFFSET, w.image_size);
	return nest__vmx_state_restore(ctx, &w, &v, len);
}
