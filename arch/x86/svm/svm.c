/* SPDX-License-Identifier: MIT */
/*
 * The nested-SVM context: initialisation and policy, the SVM CPUID leaf,
 * the SVM MSRs (EFER.SVME, VM_CR, VM_HSAVE_PA, TSC_RATIO) and the SVM
 * instructions L1 executes (APM Vol. 3 instruction pages, Vol. 2 15.5).
 */
#include "svm/svm_internal.h"

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

void nest__svm_caps_of(const struct nest_svm *ctx, struct nest_svm_caps *caps)
{
	caps->size = sizeof(*caps);
	caps->features = ctx->features;
	caps->maxphyaddr = ctx->maxphyaddr;
	caps->long_mode = (ctx->flags & NEST_SVM_CFG_LONG_MODE) != 0;
	caps->efer_allowed = ctx->efer_allowed;
	caps->cr4_allowed = ctx->cr4_allowed;
}

NEST_API int nest_svm_get_caps(const struct nest_svm *ctx, struct nest_svm_caps *caps)
{
	struct nest_svm_caps k;

	if (!nest__svm_ctx_ok(ctx) || !caps)
		return NEST_E_INVAL;
	if (caps->size < NEST_SVM_CAPS_MIN_SIZE)
		return NEST_E_SIZE;
	nest__svm_caps_of(ctx, &k);
	return nest__copy_out(caps, &k, sizeof(k), NEST_SVM_CAPS_MIN_SIZE);
}

NEST_API int nest_svm_cpuid(const struct nest_svm *ctx, uint32_t leaf, uint32_t subleaf,
			    uint32_t regs[4])
{
	bool allowed;

	(void)subleaf;
	if (!nest__svm_ctx_ok(ctx) || !regs)
		return NEST_E_INVAL;
	allowed = (ctx->flags & NEST_SVM_CFG_SVM_ALLOWED) != 0;
	if (leaf == CPUID_LEAF_EXT_FEATURES) {
		if (allowed)
			regs[2] |= CPUID_80000001_ECX_SVM;
		else
			regs[2] &= ~CPUID_80000001_ECX_SVM;
		return NEST_OK;
	}
	if (leaf != CPUID_LEAF_SVM)
		return NEST_E_NOENT;
	/* APM 15.5 / CPUID Fn8000_000A: EAX[7:0] revision, EBX ASIDs, EDX features. */
	regs[0] = allowed ? ((ctx->host_cpuid[0] & 0xffu) ? (ctx->host_cpuid[0] & 0xffu)
							  : SVM_REVISION_DEFAULT)
			  : 0;
	regs[1] = allowed ? ctx->l1_asids : 0;
	regs[2] = 0;
	regs[3] = allowed ? ctx->features : 0;
	return NEST_OK;
}

/* ---- actions ---- */

static void act_inject(struct nest_svm_action *act, uint8_t vector, bool has_ec, uint32_t ec)
{
	act->kind = NEST_SVM_ACT_INJECT_L1;
	act->vector = vector;
	act->has_error_code = has_ec;
	act->error_code = ec;
}

static void act_gp(struct nest_svm_action *act)
{
	act_inject(act, X86_EXC_GP, true, 0);
}

static void act_ud(struct nest_svm_action *act)
{
	act_inject(act, X86_EXC_UD, false, 0);
}

static bool act_size_ok(const struct nest_svm_action *act)
{
	return act && act->size >= NEST_SVM_ACTION_MIN_SIZE;
}

/* ---- MSRs ---- */

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

static int rdmsr_(struct nest_svm *ctx, uint32_t msr, uint64_t *value, struct nest_svm_action *act)
{
	switch (msr) {
	case X86_MSR_IA32_EFER:
		*value = (*value & ~X86_EFER_SVME) | (ctx->svme ? X86_EFER_SVME : 0);
		break;
	case X86_MSR_VM_CR:
		*value = ctx->vm_cr;
		break;
	case X86_MSR_VM_HSAVE_PA:
		*value = ctx->hsave_pa;
		break;
	case X86_MSR_AMD_TSC_RATIO:
		if (!(ctx->features & NEST_SVM_F_TSC_RATE)) {
			act_gp(act);
			return NEST_OK;
		}
		*value = ctx->tsc_ratio;
		break;
	default:
		return NEST_E_NOENT;
	}
	act->kind = NEST_SVM_ACT_RESUME_L1;
	return NEST_OK;
}

static int wrmsr_(struct nest_svm *ctx, struct nest_vmcb *vmcb01, uint32_t msr, uint64_t value,
		  uint64_t *hw_value, struct nest_svm_action *act)
{
	switch (msr) {
	case X86_MSR_IA32_EFER: {
		uint64_t old = hw_value ? *hw_value : 0;

		if (!hw_value)
			return NEST_E_INVAL;
		/* APM 3.1.7: reserved bits #GP; SVME #GP when SVM is disabled (15.4). */
		if (value & ~(ctx->efer_allowed | X86_EFER_LMA)) {
			act_gp(act);
			return NEST_OK;
		}
		if ((value & X86_EFER_SVME) &&
		    (!(ctx->flags & NEST_SVM_CFG_SVM_ALLOWED) || (ctx->vm_cr & X86_VM_CR_SVMDIS))) {
			act_gp(act);
			return NEST_OK;
		}
		/* Changing LME while paging is on is #GP (APM 14.6.1). */
		if (vmcb01 && (vmcb01->save.cr0 & X86_CR0_PG) && ((value ^ old) & X86_EFER_LME)) {
			act_gp(act);
			return NEST_OK;
		}
		ctx->svme = (value & X86_EFER_SVME) != 0;
		/* Leaving SVM with GIF clear would block L1's interrupts for
		 * good: GIF is set again (docs/conformance-svm.md). */
		if (!ctx->svme)
			nest__svm_set_l1_gif(ctx, vmcb01, true);
		/* LMA is the processor's; SVME stays set in hardware for a guest. */
		*hw_value = (value & ~X86_EFER_LMA) | (old & X86_EFER_LMA) | X86_EFER_SVME;
		break;
	}
	case X86_MSR_VM_CR: {
		uint64_t chg = SVM_VM_CR_WRITABLE;

		if (value & ~SVM_VM_CR_WRITABLE) {
			act_gp(act);
			return NEST_OK;
		}
		if (ctx->vm_cr & X86_VM_CR_LOCK)
			chg &= ~(X86_VM_CR_LOCK | X86_VM_CR_SVMDIS);
		if (((value ^ ctx->vm_cr) & ~chg & (X86_VM_CR_LOCK | X86_VM_CR_SVMDIS)) ||
		    ((value & X86_VM_CR_SVMDIS) && ctx->svme)) {
			act_gp(act);
			return NEST_OK;
		}
		ctx->vm_cr = (ctx->vm_cr & ~chg) | (value & chg);
		break;
	}
	case X86_MSR_VM_HSAVE_PA:
		/* APM 15.30.4: 4 KiB aligned, inside the physical address space. */
		if ((value & SVM_PAGE_MASK) || (value & x86_pa_reserved_mask(ctx->maxphyaddr))) {
			act_gp(act);
			return NEST_OK;
		}
		ctx->hsave_pa = value;
		break;
	case X86_MSR_AMD_TSC_RATIO:
		if (!(ctx->features & NEST_SVM_F_TSC_RATE) || (value & SVM_TSC_RATIO_MBZ)) {
			act_gp(act);
			return NEST_OK;
		}
		ctx->tsc_ratio = value;
		break;
	default:
		return NEST_E_NOENT;
	}
	act->kind = NEST_SVM_ACT_RESUME_L1;
	return NEST_OK;
}

NEST_API int nest_svm_rdmsr(struct nest_svm *ctx, uint32_t msr, uint64_t *value,
			    struct nest_svm_action *act)
{
	if (!nest__svm_ctx_ok(ctx) || !value || !act)
		return NEST_E_INVAL;
	if (!act_size_ok(act))
		return NEST_E_SIZE;
	nest__svm_act_reset(act);
	return rdmsr_(ctx, msr, value, act);
}

NEST_API int nest_svm_wrmsr(struct nest_svm *ctx, uint32_t msr, uint64_t value, uint64_t *hw_value,
			    struct nest_svm_action *act)
{
	if (!nest__svm_ctx_ok(ctx) || !act)
		return NEST_E_INVAL;
	if (!act_size_ok(act))
		return NEST_E_SIZE;
	nest__svm_act_reset(act);
	return wrmsr_(ctx, NULL, msr, value, hw_value, act);
}

/* ---- SVM instructions of L1 ---- */

enum insn_check { INSN_OK, INSN_UD, INSN_GP };

/* #UD unless EFER.SVME and protected mode; #GP(0) unless CPL 0 (the
 * exception lists of VMRUN, VMLOAD, VMSAVE, STGI, CLGI, INVLPGA). */
static enum insn_check svm_insn_check(const struct nest_svm *ctx, const struct nest_vmcb *v)
{
	if (!ctx->svme || !(v->save.cr0 & X86_CR0_PE) || (v->save.rflags & X86_RFLAGS_VM))
		return INSN_UD;
	if (v->save.cpl != 0)
		return INSN_GP;
	return INSN_OK;
}

/* rAX with the effective address size: RAX in 64-bit mode, else EAX. */
uint64_t nest__svm_rax_operand(const struct nest_vmcb *v)
{
	bool mode64 = (v->save.efer & X86_EFER_LMA) && (v->save.cs.attrib & (X86_SEG_L >> 4));

	return mode64 ? v->save.rax : (uint32_t)v->save.rax;
}

/* VMRUN/VMLOAD/VMSAVE: #GP unless page aligned and below MAXPHYADDR. */
bool nest__svm_vmcb_pa_ok(const struct nest_svm *ctx, uint64_t pa)
{
	return !(pa & SVM_PAGE_MASK) && !(pa & x86_pa_reserved_mask(ctx->maxphyaddr));
}

static void finish_insn(struct nest_vmcb *v, uint64_t next_rip, struct nest_svm_action *act)
{
	v->save.rip = next_rip;
	v->control.int_state &= ~NEST_SVM_INT_STATE_SHADOW;
	act->kind = NEST_SVM_ACT_RESUME_L1;
}

/* VMLOAD/VMSAVE state (APM 15.5.2): FS, GS, TR, LDTR with hidden state,
 * KernelGsBase, STAR, LSTAR, CSTAR, SFMASK, SYSENTER_CS/ESP/EIP. */
struct vmload_part {
	uint16_t off, len;
};

static const struct vmload_part vmload_parts[] = {
    {NEST_VMCB_OFF_FS_SELECTOR, 2 * sizeof(struct nest_vmcb_seg)}, /* FS, GS */
    {NEST_VMCB_OFF_LDTR_SELECTOR, sizeof(struct nest_vmcb_seg)},
    {NEST_VMCB_OFF_TR_SELECTOR, sizeof(struct nest_vmcb_seg)},
    {NEST_VMCB_OFF_STAR, NEST_VMCB_OFF_SYSENTER_EIP + 8 - NEST_VMCB_OFF_STAR},
};

int nest__svm_vmload(struct nest_svm *ctx, struct nest_vmcb *v, uint64_t pa)
{
	uint8_t buf[NEST_VMCB_OFF_SYSENTER_EIP + 8 - NEST_VMCB_OFF_FS_SELECTOR];
	size_t i;
	int rc;

	/* Read everything first (once), then commit: a fault leaves vmcb01 as it was. */
	rc = nest__be_read(&ctx->be, pa + NEST_VMCB_OFF_FS_SELECTOR, buf, sizeof(buf));
	if (rc != NEST_OK)
		return rc;
	for (i = 0; i < NEST_ARRAY_SIZE(vmload_parts); i++)
		nest__memcpy((uint8_t *)v + vmload_parts[i].off,
			     buf + (vmload_parts[i].off - NEST_VMCB_OFF_FS_SELECTOR),
			     vmload_parts[i].len);
	return NEST_OK;
}

int nest__svm_vmsave(struct nest_svm *ctx, const struct nest_vmcb *v, uint64_t pa)
{
	size_t i;
	int rc;

	for (i = 0; i < NEST_ARRAY_SIZE(vmload_parts); i++) {
		rc = nest__be_write(&ctx->be, pa + vmload_parts[i].off,
				    (const uint8_t *)v + vmload_parts[i].off, vmload_parts[i].len);
		if (rc != NEST_OK)
			return rc;
	}
	return NEST_OK;
}

static void do_invlpga(struct nest_svm *ctx, const struct nest_vmcb *v, uint64_t va, uint32_t asid)
{
	/* ASID 0 is L1 itself; the ASID L2 last ran with is L0's l2_asid; other
	 * ASIDs of L1 hold nothing in the TLB (libnest flushes when L1
	 * switches ASIDs). */
	if (asid == 0)
		nest__be_flush(&ctx->be, NEST_FLUSH_ASID_ADDR, v->control.asid, va);
	else if (ctx->last_asid_valid && asid == ctx->last_asid12)
		nest__be_flush(&ctx->be, NEST_FLUSH_ASID_ADDR, ctx->l2_asid, va);
}

NEST_API int nest_svm_l1_exit(struct nest_svm *ctx, struct nest_vmcb *vmcb01,
			      struct nest_svm_regs *regs, struct nest_svm_action *act)
{
	uint64_t code, next_rip, pa;
	enum insn_check chk;
	int rc;

	if (!nest__svm_ctx_ok(ctx) || !vmcb01 || !regs || !act)
		return NEST_E_INVAL;
	if (!act_size_ok(act) || regs->size < NEST_SVM_REGS_MIN_SIZE)
		return NEST_E_SIZE;
	if (ctx->guest_mode)
		return NEST_E_STATE;
	nest__svm_act_reset(act);
	if ((ctx->flags & NEST_SVM_CFG_L0_VGIF))
		ctx->gif = nest__svm_l1_gif(ctx, vmcb01);
	code = vmcb01->control.exitcode;
	if (regs->insn_len > 15)
		return NEST_E_INVAL;
	next_rip = regs->insn_len ? vmcb01->save.rip + regs->insn_len : vmcb01->control.next_rip;

	if (code == NEST_SVM_EXIT_MSR) {
		uint32_t msr = (uint32_t)regs->gpr[1];
		uint64_t value;

		if (vmcb01->control.exitinfo1 == 0) {
			value = vmcb01->save.efer;
			rc = rdmsr_(ctx, msr, &value, act);
			if (rc != NEST_OK || act->kind != NEST_SVM_ACT_RESUME_L1)
				return rc;
			vmcb01->save.rax = (uint32_t)value;
			regs->gpr[2] = value >> 32;
			act->flags |= NEST_SVM_ACT_F_GPRS;
		} else {
			uint64_t hw = vmcb01->save.efer;

			value = (uint32_t)vmcb01->save.rax | (regs->gpr[2] << 32);
			rc = wrmsr_(ctx, vmcb01, msr, value, &hw, act);
			if (rc != NEST_OK || act->kind != NEST_SVM_ACT_RESUME_L1)
				return rc;
			if (msr == X86_MSR_IA32_EFER)
				vmcb01->save.efer = hw;
		}
		finish_insn(vmcb01, next_rip, act);
		return NEST_OK;
	}

	switch (code) {
	case NEST_SVM_EXIT_VMRUN:
	case NEST_SVM_EXIT_VMLOAD:
	case NEST_SVM_EXIT_VMSAVE:
	case NEST_SVM_EXIT_STGI:
	case NEST_SVM_EXIT_CLGI:
	case NEST_SVM_EXIT_INVLPGA:
	case NEST_SVM_EXIT_SKINIT:
		break;
	default:
		return NEST_E_NOENT;
	}

	chk = svm_insn_check(ctx, vmcb01);
	/* SKINIT is not offered (no SVM-Lock/DEV secure init): #UD (APM SKINIT). */
	if (chk == INSN_UD || code == NEST_SVM_EXIT_SKINIT) {
		act_ud(act);
		return NEST_OK;
	}
	if (chk == INSN_GP) {
		act_gp(act);
		return NEST_OK;
	}

	switch (code) {
	case NEST_SVM_EXIT_STGI:
		nest__svm_set_l1_gif(ctx, vmcb01, true);
		break;
	case NEST_SVM_EXIT_CLGI:
		nest__svm_set_l1_gif(ctx, vmcb01, false);
		break;
	case NEST_SVM_EXIT_INVLPGA:
		do_invlpga(ctx, vmcb01, nest__svm_rax_operand(vmcb01), (uint32_t)regs->gpr[1]);
		break;
	default:
		pa = nest__svm_rax_operand(vmcb01);
		if (!nest__svm_vmcb_pa_ok(ctx, pa)) {
			act_gp(act);
			return NEST_OK;
		}
		if (code == NEST_SVM_EXIT_VMRUN)
			return nest__svm_vmrun(ctx, vmcb01, pa, next_rip, act);
		rc = code == NEST_SVM_EXIT_VMLOAD ? nest__svm_vmload(ctx, vmcb01, pa)
						  : nest__svm_vmsave(ctx, vmcb01, pa);
		if (rc != NEST_OK)
			return rc;
		break;
	}
	finish_insn(vmcb01, next_rip, act);
	return NEST_OK;
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
	return NEST_OK;
}

NEST_API struct nest_vmcb *nest_svm_vmcb02(struct nest_svm *ctx)
{
	return nest__svm_ctx_ok(ctx) ? ctx->vmcb02 : NULL;
}
