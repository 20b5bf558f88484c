/* SPDX-License-Identifier: MIT */
/*
 * VMRUN of L1 (APM 15.5.1): read vmcb12 once, save L1's host state, run
 * the consistency checks (check.c), then build vmcb02 (vmcb02.c).
 */
#include "svm/context.h"

static void save_host(struct svm_host_state *h, const struct nest_vmcb_save *s, uint64_t next_rip)
{
	h->es = s->es;
	h->cs = s->cs;
	h->ss = s->ss;
	h->ds = s->ds;
	h->gdtr = s->gdtr;
	h->idtr = s->idtr;
	h->efer = s->efer;
	h->cr0 = s->cr0;
	h->cr3 = s->cr3;
	h->cr4 = s->cr4;
	h->rflags = s->rflags;
	h->rip = next_rip;
	h->rsp = s->rsp;
	h->rax = s->rax;
}

void nest__svm_act_run_l2(struct nest_svm *ctx, struct nest_svm_action *act)
{
	act->kind = NEST_SVM_ACT_RUN_L2;
	act->vmcb_pa = ctx->vmcb02_hpa;
	if (ctx->features & ~ctx->soft_features & NEST_SVM_F_TSC_RATE)
		act->tsc_ratio = nest__svm_tsc_ratio_mul(ctx->l0_tsc_ratio, ctx->tsc_ratio);
	if (ctx->vmcb02->control.tlb_control != NEST_SVM_TLB_DO_NOTHING)
		act->flags |= NEST_SVM_ACT_F_TLB_FLUSH;
	if (ctx->l2_gif_clear)
		act->flags |= NEST_SVM_ACT_F_HOLD_INTR;
}

int nest__svm_vmrun(struct nest_svm *ctx, struct nest_vmcb *vmcb01, uint64_t vmcb12_pa,
		    uint64_t next_rip, struct nest_svm_action *act)
{
	struct nest_svm_caps caps;
	struct nest_svm_diag diag;
	int rc;

	/* Single fetch: vmcb12 is read once; everything below uses the copy. */
	rc = nest__be_read(&ctx->be, vmcb12_pa, &ctx->vmcb12, sizeof(ctx->vmcb12));
	if (rc != NEST_OK)
		return rc;
	save_host(&ctx->host, &vmcb01->save, next_rip);
	ctx->vmcb12_pa = vmcb12_pa;

	nest__svm_caps_of(ctx, &caps);
	if (nest__svm_check(&ctx->vmcb12, &caps, &diag) != NEST_SVM_CHECK_OK) {
		/* #VMEXIT with VMEXIT_INVALID: EXITCODE -1, EXITINFO1/2 zero, L1
		 * resumes after VMRUN with GIF clear (APM 15.5.1, 15.6). */
		uint64_t exitinfo[3] = {NEST_SVM_EXIT_INVALID, 0, 0};

		rc = nest__be_write(&ctx->be, vmcb12_pa + NEST_VMCB_OFF_EXITCODE, exitinfo,
				    sizeof(exitinfo));
		if (rc != NEST_OK)
			return rc;
		vmcb01->save.rip = next_rip;
		vmcb01->save.dr7 = SVM_DR7_RESET;
		vmcb01->control.int_state &= ~NEST_SVM_INT_STATE_SHADOW;
		nest__svm_set_l1_gif(ctx, vmcb01, false);
		act->kind = NEST_SVM_ACT_RESUME_L1;
		act->flags |= NEST_SVM_ACT_F_INVALID | NEST_SVM_ACT_F_REFLECTED;
		act->check = diag.rule;
		act->exitcode = NEST_SVM_EXIT_INVALID;
		nest__be_log(&ctx->be, NEST_LOG_DEBUG, nest_svm_check_text(diag.rule));
		return NEST_OK;
	}

	rc = nest__svm_build_vmcb02(ctx, vmcb01);
	if (rc != NEST_OK)
		return rc;
	vmcb01->save.rip = next_rip;
	ctx->guest_mode = true;
	ctx->gif = true; /* VMRUN sets GIF (APM 15.5.1) */
	ctx->vmruns++;
	nest__svm_act_run_l2(ctx, act);
	return NEST_OK;
}
