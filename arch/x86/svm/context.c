/* SPDX-License-Identifier: MIT */
/*
 * The nested-SVM context: size, initialisation and policy, L1's GIF, the
 * state query and vmcb02's address for L0.
 */
#include "svm/context.h"

NEST_STATIC_ASSERT(sizeof(struct nest_svm_action) == NEST_SVM_ACTION_MIN_SIZE,
		   "nest_svm_action has no tail padding");

NEST_API size_t nest_svm_size(void)
{
	return sizeof(struct nest_svm);
}

bool nest__svm_ctx_ok(const struct nest_svm *ctx)
{
	return ctx && ctx->magic == NEST_SVM_MAGIC;
}

void nest__svm_act_reset(struct nest_svm_action *act)
{
	nest__reset_out(act, sizeof(*act));
}

/* (a * b) >> 32 for 8.32 fixed-point ratios and offsets, in 32-bit halves
 * (no 128-bit type: the core also builds for 32-bit targets). */
uint64_t nest__svm_tsc_ratio_mul(uint64_t a, uint64_t b)
{
	uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
	uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
	uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;

	/* bits 95:32 of the 128-bit product */
	return (mid & 0xffffffffull) + ((hh + (lh >> 32) + (hl >> 32) + (mid >> 32)) << 32);
}

static bool aligned8(const void *p)
{
	return ((uintptr_t)p & 7u) == 0;
}

static bool page_ok(const struct nest_svm_page *pg)
{
	return pg->hva && ((uintptr_t)pg->hva & SVM_PAGE_MASK) == 0 &&
	       (pg->hpa & SVM_PAGE_MASK) == 0;
}

NEST_API int nest_svm_init(void *mem, size_t size, const struct nest_backend *be,
			   const struct nest_svm_config *cfg_in, struct nest_svm **out)
{
	struct nest_svm_config cfg;
	struct nest_svm *ctx = mem;
	uint32_t host_edx;
	int rc;

	if (!mem || !be || !cfg_in || !out || !aligned8(mem))
		return NEST_E_INVAL;
	if (size < sizeof(struct nest_svm))
		return NEST_E_SIZE;
	rc = nest__copy_in(&cfg, sizeof(cfg), cfg_in, NEST_SVM_CONFIG_MIN_SIZE);
	if (rc != NEST_OK)
		return rc;
	if (cfg.l1_maxphyaddr < 32 || cfg.l1_maxphyaddr > 52 || cfg.l2_asid == 0)
		return NEST_E_INVAL;
	if (!page_ok(&cfg.vmcb02) || !page_ok(&cfg.msrpm02) || !page_ok(&cfg.iopm02))
		return NEST_E_INVAL;

	nest__memset(ctx, 0, sizeof(*ctx));
	rc = nest__be_init(&ctx->be, be);
	if (rc != NEST_OK)
		return rc;
	ctx->flags = cfg.flags;
	nest__memcpy(ctx->host_cpuid, cfg.host_cpuid, sizeof(ctx->host_cpuid));
	host_edx = cfg.host_cpuid[3];
	ctx->host_features = host_edx;
	/* Features L0 and libnest carry out in software where the host lacks
	 * them (NEST_SVM_CFG_SOFT_*). */
	if (cfg.flags & NEST_SVM_CFG_SOFT_NRIPS)
		ctx->soft_features |= NEST_SVM_F_NRIPS;
	if (cfg.flags & NEST_SVM_CFG_SOFT_PAUSE_FILTER)
		ctx->soft_features |= NEST_SVM_F_PAUSE_FILTER;
	if ((cfg.flags & NEST_SVM_CFG_SOFT_TSC_RATE) && nest__be_has_guest_rdmsr(&ctx->be))
		ctx->soft_features |= NEST_SVM_F_TSC_RATE;
	ctx->soft_features &= cfg.features & ~host_edx;
	ctx->features = cfg.features & (host_edx | ctx->soft_features) & NEST_SVM_F_SUPPORTED;
	if (!cfg.tdp)
		ctx->features &= ~NEST_SVM_F_NP;
	if (!(cfg.flags & NEST_SVM_CFG_SVM_ALLOWED))
		ctx->features = 0;
	ctx->soft_features &= ctx->features;
	ctx->maxphyaddr = cfg.l1_maxphyaddr;
	ctx->l1_asids = cfg.l1_asids ? cfg.l1_asids : cfg.host_cpuid[1];
	ctx->l2_asid = cfg.l2_asid;
	ctx->efer_allowed = cfg.l1_efer_allowed | X86_EFER_SVME;
	if (cfg.flags & NEST_SVM_CFG_LONG_MODE)
		ctx->efer_allowed |= X86_EFER_LME | X86_EFER_LMA;
	else
		ctx->efer_allowed &= ~(X86_EFER_LME | X86_EFER_LMA);
	ctx->cr4_allowed = cfg.l1_cr4_allowed;
	ctx->npt01_ncr3 = cfg.npt01_ncr3;
	ctx->l0_tsc_ratio = cfg.l0_tsc_ratio ? cfg.l0_tsc_ratio : SVM_TSC_RATIO_ONE;
	nest__memcpy(ctx->l0_icpt, cfg.l0_intercepts, sizeof(ctx->l0_icpt));
	ctx->l0_msrpm = cfg.l0_msrpm;
	ctx->l0_iopm = cfg.l0_iopm;
	ctx->vmcb02 = cfg.vmcb02.hva;
	ctx->vmcb02_hpa = cfg.vmcb02.hpa;
	ctx->msrpm02 = cfg.msrpm02.hva;
	ctx->msrpm02_hpa = cfg.msrpm02.hpa;
	ctx->iopm02 = cfg.iopm02.hva;
	ctx->iopm02_hpa = cfg.iopm02.hpa;
	ctx->tdp = cfg.tdp;

	/* Reset state (APM 15.30): SVME clear, VM_HSAVE_PA 0, GIF set. */
	ctx->gif = true;
	ctx->vm_cr =
	    (cfg.flags & NEST_SVM_CFG_SVM_ALLOWED) ? 0 : (X86_VM_CR_SVMDIS | X86_VM_CR_LOCK);
	ctx->tsc_ratio = SVM_TSC_RATIO_ONE;
	ctx->magic = NEST_SVM_MAGIC;
	*out = ctx;
	return NEST_OK;
}

void nest__svm_set_l1_gif(struct nest_svm *ctx, struct nest_vmcb *vmcb01, bool gif)
{
	ctx->gif = gif;
	if ((ctx->flags & NEST_SVM_CFG_L0_VGIF) && vmcb01) {
		if (gif)
			vmcb01->control.int_ctl |= NEST_SVM_INT_CTL_V_GIF;
		else
			vmcb01->control.int_ctl &= ~NEST_SVM_INT_CTL_V_GIF;
	}
}

bool nest__svm_l1_gif(const struct nest_svm *ctx, const struct nest_vmcb *vmcb01)
{
	if ((ctx->flags & NEST_SVM_CFG_L0_VGIF) && vmcb01 && !ctx->guest_mode)
		return (vmcb01->control.int_ctl & NEST_SVM_INT_CTL_V_GIF) != 0;
	return ctx->gif;
}

NEST_API int nest_svm_get_state(const struct nest_svm *ctx, const struct nest_vmcb *vmcb01,
				struct nest_svm_state *st)
{
	struct nest_svm_state k;
	bool iflag;

	if (!nest__svm_ctx_ok(ctx) || !st)
		return NEST_E_INVAL;
	if (st->size < NEST_SVM_STATE_MIN_SIZE)
		return NEST_E_SIZE;
	nest__memset(&k, 0, sizeof(k));
	k.size = st->size;
	k.gif = nest__svm_l1_gif(ctx, vmcb01);
	k.guest_mode = ctx->guest_mode;
	k.svme = ctx->svme;
	k.hsave_pa = ctx->hsave_pa;
	k.vm_cr = ctx->vm_cr;
	k.tsc_ratio = ctx->tsc_ratio;
	k.vmruns = ctx->vmruns;
	k.reflected = ctx->reflected;
	if (ctx->guest_mode) {
		const struct nest_vmcb_control *c12 = &ctx->vmcb12.control;

		k.vmcb12_pa = ctx->vmcb12_pa;
		k.l1_intercepts_intr = svm_icpt_test(c12, NEST_SVM_ICPT_INTR);
		k.l1_intercepts_nmi = svm_icpt_test(c12, NEST_SVM_ICPT_NMI);
		k.v_intr_masking = (c12->int_ctl & NEST_SVM_INT_CTL_V_INTR_MASKING) != 0;
		/* APM 15.21.1: with V_INTR_MASKING, L1's IF at VMRUN masks
		 * physical interrupts; without it, L2's IF does. */
		iflag = k.v_intr_masking ? (ctx->host.rflags & X86_RFLAGS_IF) != 0
					 : (ctx->vmcb02->save.rflags & X86_RFLAGS_IF) != 0;
		k.l1_intr_allowed = k.gif && iflag && !ctx->l2_gif_clear;
	} else if (vmcb01) {
		k.l1_intr_allowed = k.gif && (vmcb01->save.rflags & X86_RFLAGS_IF) &&
				    !(vmcb01->control.int_state & NEST_SVM_INT_STATE_SHADOW);
	}
	return nest__copy_out(st, &k, sizeof(k), NEST_SVM_STATE_MIN_SIZE);
}

NEST_API int nest_svm_l0_maps_changed(struct nest_svm *ctx)
{
	if (!nest__svm_ctx_ok(ctx))
		return NEST_E_INVAL;
	ctx->msrpm02_l0_only = false;
	ctx->iopm02_l0_only = false;
	ctx->map_merged = 0;
	return NEST_OK;
}

NEST_API struct nest_vmcb *nest_svm_vmcb02(struct nest_svm *ctx)
{
	return nest__svm_ctx_ok(ctx) ? ctx->vmcb02 : NULL;
}
