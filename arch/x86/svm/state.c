/* SPDX-License-Identifier: MIT */
/*
 * Save and restore of nested SVM state in libnest's own format
 * (docs/state.md, "SVM body"). A stream is hostile input: restore checks
 * every field into locals before the context changes.
 */
#include <nest/state.h>

#include "svm/context.h"
#include "svm/state_internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the state stream is little-endian, as x86 is: this file assumes a little-endian host"
#endif

/* L1's host state saved at VMRUN (APM 15.5.1), as the stream carries it. */
struct svm_host_wire {
	struct nest_vmcb_seg es, cs, ss, ds, gdtr, idtr;
	uint64_t efer, cr0, cr3, cr4, rflags, rip, rsp, rax;
};

/* IMPORTANT: layout. The body of an SVM stream, after the header. */
struct svm_wire {
	struct nest_state_header hdr;
	uint64_t hsave_pa;
	uint64_t vm_cr;
	uint64_t tsc_ratio;
	uint64_t vmcb12_pa;
	struct nest_vmcb vmcb12;
	struct nest_vmcb vmcb02;
	struct svm_host_wire host;
};

_Static_assert(sizeof(struct nest_state_header) == 24, "header size");
_Static_assert(sizeof(struct nest_vmcb_seg) == 16, "VMCB segment");
_Static_assert(offsetof(struct svm_wire, hsave_pa) == 24, "svm.hsave_pa");
_Static_assert(offsetof(struct svm_wire, vm_cr) == 32, "svm.vm_cr");
_Static_assert(offsetof(struct svm_wire, tsc_ratio) == 40, "svm.tsc_ratio");
_Static_assert(offsetof(struct svm_wire, vmcb12_pa) == 48, "svm.vmcb12_pa");
_Static_assert(offsetof(struct svm_wire, vmcb12) == 56, "svm.vmcb12");
_Static_assert(offsetof(struct svm_wire, vmcb02) == 4152, "svm.vmcb02");
_Static_assert(offsetof(struct svm_wire, host) == 8248, "svm.host");
_Static_assert(offsetof(struct svm_host_wire, es) == 0, "host.es");
_Static_assert(offsetof(struct svm_host_wire, cs) == 16, "host.cs");
_Static_assert(offsetof(struct svm_host_wire, ss) == 32, "host.ss");
_Static_assert(offsetof(struct svm_host_wire, ds) == 48, "host.ds");
_Static_assert(offsetof(struct svm_host_wire, gdtr) == 64, "host.gdtr");
_Static_assert(offsetof(struct svm_host_wire, idtr) == 80, "host.idtr");
_Static_assert(offsetof(struct svm_host_wire, efer) == 96, "host.efer");
_Static_assert(offsetof(struct svm_host_wire, cr0) == 104, "host.cr0");
_Static_assert(offsetof(struct svm_host_wire, cr3) == 112, "host.cr3");
_Static_assert(offsetof(struct svm_host_wire, cr4) == 120, "host.cr4");
_Static_assert(offsetof(struct svm_host_wire, rflags) == 128, "host.rflags");
_Static_assert(offsetof(struct svm_host_wire, rip) == 136, "host.rip");
_Static_assert(offsetof(struct svm_host_wire, rsp) == 144, "host.rsp");
_Static_assert(offsetof(struct svm_host_wire, rax) == 152, "host.rax");
_Static_assert(sizeof(struct svm_wire) == 8408, "svm stream size");

/* The wire's fields and the context's, one list for both directions. */
NEST_API size_t nest_svm_state_size(void)
{
	return sizeof(struct svm_wire);
}

NEST_API int nest_svm_save_state(const struct nest_svm *ctx, const struct nest_vmcb *vmcb01,
				 void *buf, size_t len, size_t *written)
{
	/* The stream is built in place: it is 8 KiB, too large for a stack. */
	struct svm_wire *w = buf;
	struct nest_state_header h;
	uint64_t v;

	if (!nest__svm_ctx_ok(ctx) || buf == NULL)
		return NEST_E_INVAL;
	if (len < sizeof(struct svm_wire))
		return NEST_E_NOSPC;
	nest__memset(buf, 0, sizeof(struct svm_wire));
	nest__state_hdr_init(&h, NEST_STATE_ARCH_SVM, (uint32_t)sizeof(struct svm_wire));
	if (ctx->svme)
		h.flags |= NEST_STATE_SVM_F_SVME;
	if (nest__svm_l1_gif(ctx, vmcb01))
		h.flags |= NEST_STATE_SVM_F_GIF;
	if (ctx->guest_mode)
		h.flags |= NEST_STATE_SVM_F_GUEST_MODE;
	nest__memcpy(&w->hdr, &h, sizeof(h));
	v = ctx->hsave_pa;
	nest__memcpy(&w->hsave_pa, &v, sizeof(v));
	v = ctx->vm_cr;
	nest__memcpy(&w->vm_cr, &v, sizeof(v));
	v = ctx->tsc_ratio;
	nest__memcpy(&w->tsc_ratio, &v, sizeof(v));
	if (ctx->guest_mode) {
		v = ctx->vmcb12_pa;
		nest__memcpy(&w->vmcb12_pa, &v, sizeof(v));
		nest__memcpy(&w->vmcb12, &ctx->vmcb12, sizeof(w->vmcb12));
		nest__memcpy(&w->vmcb02, ctx->vmcb02, sizeof(w->vmcb02));
#define SAVE_HOST(f) nest__memcpy(&w->host.f, &ctx->host.f, sizeof(ctx->host.f));
		SVM_HOST_FIELDS(SAVE_HOST)
#undef SAVE_HOST
	}
	if (written != NULL)
		*written = sizeof(struct svm_wire);
	return NEST_OK;
}

bool nest__svm_state_pa_ok(const struct nest_svm *ctx, uint64_t pa)
{
	return !(pa & SVM_PAGE_MASK) && !(pa & x86_pa_reserved_mask(ctx->maxphyaddr));
}

bool nest__svm_state_zero(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* L2 runs: the state L1 had at VMRUN and the vmcb12 it ran, checked as
 * VMRUN checks them. */
static int check_guest_mode(const struct nest_svm *ctx, const uint8_t *buf, uint64_t vmcb12_pa)
{
	struct nest_vmcb v12;
	struct nest_svm_caps caps;
	struct nest_svm_diag diag;
	struct svm_host_wire h;

	nest__memcpy(&h, buf + offsetof(struct svm_wire, host), sizeof(h));
	/* VMRUN needs EFER.SVME and protected mode (APM 15.5.1), an
	 * aligned vmcb12 within the physical address space. */
	if (!(h.efer & X86_EFER_SVME) || !(h.cr0 & X86_CR0_PE) || !nest__svm_state_pa_ok(ctx, vmcb12_pa))
		return NEST_E_FORMAT;
	nest__memcpy(&v12, buf + offsetof(struct svm_wire, vmcb12), sizeof(v12));
	nest__svm_caps_of(ctx, &caps);
	nest__memset(&diag, 0, sizeof(diag));
	if (nest__svm_check(&v12, &caps, &diag) != NEST_SVM_CHECK_OK)
		return NEST_E_FORMAT;
	/* L2's state as vmcb02 holds it must pass the same checks under
	 * vmcb12's controls: it becomes the save area of vmcb02, and its
	 * pending EVENTINJ vmcb02's (APM 15.5.1, 15.20: what VMRUN refuses,
	 * a restore refuses). */
	nest__memcpy(&v12.save,
		     buf + offsetof(struct svm_wire, vmcb02) + offsetof(struct nest_vmcb, save),
		     sizeof(v12.save));
	nest__memcpy(&v12.control.event_inj,
		     buf + offsetof(struct svm_wire, vmcb02) + offsetof(struct nest_vmcb, control) +
			 offsetof(struct nest_vmcb_control, event_inj),
		     sizeof(v12.control.event_inj));
	if (nest__svm_check(&v12, &caps, &diag) != NEST_SVM_CHECK_OK)
		return NEST_E_FORMAT;
	return NEST_OK;
}

/* vmcb02 control bits that change while L2 runs (APM 15.21: V_TPR, V_IRQ;
 * V_GIF when vmcb02 runs L2 on vGIF), kept from the saved vmcb02. */
#define INT_CTL_LIVE                                                                               \
	(NEST_SVM_INT_CTL_V_TPR_MASK | NEST_SVM_INT_CTL_V_IRQ | NEST_SVM_INT_CTL_V_GIF)

/*
 * Back into guest mode: vmcb12 and L1's state at VMRUN as saved, vmcb02
 * rebuilt from them as VMRUN builds it (controls, L1's permission maps
 * read again, ASID flushed, NPT02 root), then L2's own state (the save
 * area, and the virtual-interrupt state, interrupt shadow and pending
 * injection of the control area) from the saved vmcb02. Its save area
 * gives L2 nothing the checks of the next VMRUN by L0 would refuse
 * (APM 15.5.1): the controls are rebuilt, not taken.
 */
static int take_guest_mode(struct nest_svm *ctx, struct nest_vmcb *vmcb01, const uint8_t *b,
			   uint64_t vmcb12_pa)
{
	const struct nest_vmcb *s02 =
	    (const struct nest_vmcb *)(const void *)(b + offsetof(struct svm_wire, vmcb02));
	struct nest_vmcb_control *c2 = &ctx->vmcb02->control;
	uint64_t live, g_pat;
	int rc;

	ctx->vmcb12_pa = vmcb12_pa;
	nest__memcpy(&ctx->vmcb12, b + offsetof(struct svm_wire, vmcb12), sizeof(ctx->vmcb12));
#define LOAD_HOST(f)                                                                               \
	nest__memcpy(&ctx->host.f, b + offsetof(struct svm_wire, host) +                           \
				       offsetof(struct svm_host_wire, f),                         \
		     sizeof(ctx->host.f));
	SVM_HOST_FIELDS(LOAD_HOST)
#undef LOAD_HOST
	rc = nest__svm_build_vmcb02(ctx, vmcb01);
	if (rc != NEST_OK)
		return rc;
	/* G_PAT is L2's own only with L1's nested paging; otherwise VMRUN
	 * gave vmcb02 L1's PAT (vmcb02.c), which the saved one must not
	 * replace: unchecked, its reserved types would reach vmcb02. */
	g_pat = ctx->vmcb02->save.g_pat;
	nest__memcpy(&ctx->vmcb02->save, &s02->save, sizeof(ctx->vmcb02->save));
	if (!ctx->npt12)
		ctx->vmcb02->save.g_pat = g_pat;
	live = INT_CTL_LIVE;
	if (!(c2->int_ctl & NEST_SVM_INT_CTL_V_GIF_ENABLE))
		live &= ~NEST_SVM_INT_CTL_V_GIF;
	c2->int_ctl = (c2->int_ctl & ~live) | (s02->control.int_ctl & live);
	c2->int_state = s02->control.int_state & NEST_SVM_INT_STATE_SHADOW;
	c2->event_inj = s02->control.event_inj;
	ctx->guest_mode = true;
	ctx->gif = true; /* VMRUN set it (APM 15.5.1) */
	return NEST_OK;
}

/* Take L1's SVM state outside guest mode; nothing cached survives: the
 * next VMRUN flushes and merges anew. */
void nest__svm_take_l1_state(struct nest_svm *ctx, struct nest_vmcb *vmcb01, bool svme, bool gif)
{
	ctx->svme = svme;
	nest__svm_set_l1_gif(ctx, vmcb01, gif);
	ctx->guest_mode = false;
	ctx->vmcb12_pa = 0;
	nest__memset(&ctx->vmcb12, 0, sizeof(ctx->vmcb12));
	nest__memset(&ctx->host, 0, sizeof(ctx->host));
	ctx->last_asid_valid = false;
	ctx->msrpm02_l0_only = false;
	ctx->iopm02_l0_only = false;
	ctx->soft_inj = false;
	ctx->inj_window = false;
	ctx->npt12 = false;
}

NEST_API int nest_svm_restore_state(struct nest_svm *ctx, struct nest_vmcb *vmcb01, const void *buf,
				    size_t len)
{
	const uint8_t *b = buf;
	struct nest_state_header h;
	uint64_t hsave_pa, vm_cr, tsc_ratio, vmcb12_pa;
	const size_t guest_first = offsetof(struct svm_wire, vmcb12_pa);
	bool svme, gif;

	if (!nest__svm_ctx_ok(ctx) || buf == NULL)
		return NEST_E_INVAL;
	if (len < sizeof(struct svm_wire))
		return NEST_E_FORMAT;
	nest__memcpy(&h, b, sizeof(h));
	nest__memcpy(&hsave_pa, b + offsetof(struct svm_wire, hsave_pa), sizeof(hsave_pa));
	nest__memcpy(&vm_cr, b + offsetof(struct svm_wire, vm_cr), sizeof(vm_cr));
	nest__memcpy(&tsc_ratio, b + offsetof(struct svm_wire, tsc_ratio), sizeof(tsc_ratio));
	nest__memcpy(&vmcb12_pa, b + offsetof(struct svm_wire, vmcb12_pa), sizeof(vmcb12_pa));
	svme = (h.flags & NEST_STATE_SVM_F_SVME) != 0;
	gif = (h.flags & NEST_STATE_SVM_F_GIF) != 0;

	if (!nest__state_hdr_ok(&h, NEST_STATE_ARCH_SVM, NEST_STATE_SVM_F_ALL) ||
	    h.size != sizeof(struct svm_wire))
		return NEST_E_FORMAT;
	/* The MSRs as WRMSR would have let L1 write them (APM 15.30). */
	if (!nest__svm_state_pa_ok(ctx, hsave_pa) || (vm_cr & ~SVM_VM_CR_WRITABLE) ||
	    (tsc_ratio & SVM_TSC_RATIO_MBZ) ||
	    (!(ctx->features & NEST_SVM_F_TSC_RATE) && tsc_ratio != SVM_TSC_RATIO_ONE))
		return NEST_E_FORMAT;
	/* Without SVM allowed, VM_CR is locked with SVMDIS from reset. */
	if (!(ctx->flags & NEST_SVM_CFG_SVM_ALLOWED) &&
	    (vm_cr & (X86_VM_CR_LOCK | X86_VM_CR_SVMDIS)) != (X86_VM_CR_LOCK | X86_VM_CR_SVMDIS))
		return NEST_E_FORMAT;
	if (svme && ((vm_cr & X86_VM_CR_SVMDIS) || !(ctx->flags & NEST_SVM_CFG_SVM_ALLOWED)))
		return NEST_E_FORMAT;
	/* CLGI needs EFER.SVME, and clearing SVME sets GIF again. */
	if (!svme && !gif)
		return NEST_E_FORMAT;
	if (!(h.flags & NEST_STATE_SVM_F_GUEST_MODE)) {
		if (!nest__svm_state_zero(b + guest_first, sizeof(struct svm_wire) - guest_first))
			return NEST_E_FORMAT;
	} else {
		int rc;

		if (!svme)
			return NEST_E_FORMAT;
		if (vmcb01 == NULL)
			return NEST_E_INVAL; /* vmcb02 is built from it */
		rc = check_guest_mode(ctx, b, vmcb12_pa);
		if (rc != NEST_OK)
			return rc;
	}

	nest__svm_take_l1_state(ctx, vmcb01, svme, gif);
	ctx->hsave_pa = hsave_pa;
	ctx->vm_cr = vm_cr;
	ctx->tsc_ratio = tsc_ratio;
	if (h.flags & NEST_STATE_SVM_F_GUEST_MODE) {
		/* A backend failure here (L1's maps, the NPT02 root) leaves the
		 * context outside guest mode with L1's state (docs/state.md). */
		int rc = take_guest_mode(ctx, vmcb01, b, vmcb12_pa);

		if (rc != NEST_OK) {
			nest__svm_take_l1_state(ctx, vmcb01, svme, gif);
			return rc;
		}
	}
	return NEST_OK;
}
