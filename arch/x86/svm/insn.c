/* SPDX-License-Identifier: MIT */
/*
 * The SVM instructions L1 executes (APM Vol. 3 instruction pages, Vol. 2
 * 15.5): the dispatcher of L1's exits to L0, VMLOAD, VMSAVE, STGI, CLGI,
 * INVLPGA; VMRUN itself is entry.c.
 */
#include "svm/context.h"

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
			rc = nest__svm_msr_read(ctx, msr, &value, act);
			if (rc != NEST_OK || act->kind != NEST_SVM_ACT_RESUME_L1)
				return rc;
			vmcb01->save.rax = (uint32_t)value;
			regs->gpr[2] = value >> 32;
			act->flags |= NEST_SVM_ACT_F_GPRS;
		} else {
			uint64_t hw = vmcb01->save.efer;

			value = (uint32_t)vmcb01->save.rax | (regs->gpr[2] << 32);
			rc = nest__svm_msr_write(ctx, vmcb01, msr, value, &hw, act);
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
