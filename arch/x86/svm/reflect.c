/* SPDX-License-Identifier: MIT */
/*
 * The #VMEXIT libnest synthesizes into L1 (APM 15.6 "#VMEXIT"): vmcb12's
 * exit information and L2's state, then L1's host state restored.
 */
#include "svm/context.h"

/* APM 15.7.1: the processor saves nRIP on the #VMEXITs of instruction
 * intercepts (15.9), of MSR and IOIO intercepts, and of the #BP, #OF and
 * #BR that INT3, INTO and BOUND raise; for every other exit nRIP is 0. */
static bool saves_nrip(uint64_t code)
{
	return (code >= NEST_SVM_EXIT_IDTR_READ && code <= NEST_SVM_EXIT_MSR) ||
	       (code >= NEST_SVM_EXIT_VMRUN && code <= NEST_SVM_EXIT_RDPRU) ||
	       (code >= NEST_SVM_EXIT_INVLPGB && code <= NEST_SVM_EXIT_TLBSYNC) ||
	       code == NEST_SVM_EXIT_EXCP_BASE + X86_EXC_BP ||
	       code == NEST_SVM_EXIT_EXCP_BASE + X86_EXC_OF ||
	       code == NEST_SVM_EXIT_EXCP_BASE + X86_EXC_BR;
}

/* vmcb12's NEXT_RIP for an exit of L2, from the length L0 gave (an IOIO
 * exit carries the next RIP in EXITINFO2, APM 15.10.2). */
static uint64_t soft_next_rip(const struct nest_svm *ctx, uint64_t code, uint64_t exitinfo2)
{
	if (!saves_nrip(code))
		return 0;
	if (code == NEST_SVM_EXIT_IOIO)
		return exitinfo2;
	return ctx->l2_insn_len ? ctx->vmcb02->save.rip + ctx->l2_insn_len : 0;
}

static void restore_host(struct nest_svm *ctx, struct nest_vmcb *vmcb01)
{
	const struct svm_host_state *h = &ctx->host;
	const struct nest_vmcb_save *s2 = &ctx->vmcb02->save;
	struct nest_vmcb_save *s1 = &vmcb01->save;

	/* State that #VMEXIT does not reload stays as L2 left it (APM 15.6):
	 * FS, GS, TR, LDTR, the syscall MSRs, CR2, DR6. */
	s1->fs = s2->fs;
	s1->gs = s2->gs;
	s1->ldtr = s2->ldtr;
	s1->tr = s2->tr;
	s1->star = s2->star;
	s1->lstar = s2->lstar;
	s1->cstar = s2->cstar;
	s1->sfmask = s2->sfmask;
	s1->kernel_gs_base = s2->kernel_gs_base;
	s1->sysenter_cs = s2->sysenter_cs;
	s1->sysenter_esp = s2->sysenter_esp;
	s1->sysenter_eip = s2->sysenter_eip;
	s1->cr2 = s2->cr2;
	s1->dr6 = s2->dr6;

	/* The host state saved at VMRUN (APM 15.6). */
	s1->es = h->es;
	s1->cs = h->cs;
	s1->ss = h->ss;
	s1->ds = h->ds;
	s1->gdtr = h->gdtr;
	s1->idtr = h->idtr;
	s1->efer = h->efer;
	s1->cr0 = h->cr0 | X86_CR0_PE;
	s1->cr3 = h->cr3;
	s1->cr4 = h->cr4;
	s1->rflags = h->rflags;
	s1->rip = h->rip;
	s1->rsp = h->rsp;
	s1->rax = h->rax;
	s1->dr7 = SVM_DR7_RESET;
	s1->cpl = 0;

	vmcb01->control.int_state &= ~NEST_SVM_INT_STATE_SHADOW;
	vmcb01->control.event_inj = 0;
	/* VMRUN ends at the #VMEXIT: when L1 single-stepped it (RFLAGS.TF set
	 * at VMRUN), its single-step #DB trap comes now, before L1's next
	 * instruction, with DR6.BS (VMRUN, APM 15.5; the single-step trap,
	 * APM ch. 13): what the processor does for a host stepping over VMRUN. */
	if (h->rflags & X86_RFLAGS_TF) {
		s1->dr6 |= X86_DR6_BS;
		vmcb01->control.event_inj =
		    NEST_SVM_EVTINJ_VALID |
		    ((uint64_t)NEST_SVM_EVTINJ_TYPE_EXCEPTION << NEST_SVM_EVTINJ_TYPE_SHIFT) |
		    X86_EXC_DB;
	}
	/* libnest rewrote CRx, segments, descriptor tables, DRx, CR2. */
	vmcb01->control.clean = 0;
}

int nest__svm_reflect(struct nest_svm *ctx, struct nest_vmcb *vmcb01, uint64_t exitcode,
		      uint64_t exitinfo1, uint64_t exitinfo2, struct nest_svm_action *act)
{
	struct nest_vmcb *v12 = &ctx->vmcb12;
	const struct nest_vmcb *v2 = ctx->vmcb02;
	struct nest_vmcb_control *c12 = &v12->control;
	const struct nest_vmcb_control *c2 = &v2->control;
	uint64_t int_ctl_back = NEST_SVM_INT_CTL_V_TPR_MASK | NEST_SVM_INT_CTL_V_IRQ;
	int rc;

	/* L2's state into (the copy of) vmcb12 (APM 15.6). */
	v12->save.es = v2->save.es;
	v12->save.cs = v2->save.cs;
	v12->save.ss = v2->save.ss;
	v12->save.ds = v2->save.ds;
	v12->save.gdtr = v2->save.gdtr;
	v12->save.idtr = v2->save.idtr;
	v12->save.efer = v2->save.efer;
	v12->save.cr0 = v2->save.cr0;
	v12->save.cr2 = v2->save.cr2;
	v12->save.cr3 = v2->save.cr3;
	v12->save.cr4 = v2->save.cr4;
	v12->save.rflags = v2->save.rflags;
	v12->save.rip = v2->save.rip;
	/* L1's software interrupt, its delivery interrupted, on a host without
	 * nRIP save: vmcb02 ran from NEXT_RIP; L2 is still at the INT's RIP. */
	if (ctx->soft_inj && (ctx->soft_features & NEST_SVM_F_NRIPS) &&
	    (((c2->event_inj & NEST_SVM_EVTINJ_VALID) ? c2->event_inj : c2->exitintinfo) &
	     ~NEST_SVM_EVTINJ_EV) == (ctx->soft_inj_event & ~NEST_SVM_EVTINJ_EV))
		v12->save.rip = ctx->soft_inj_rip;
	v12->save.rsp = v2->save.rsp;
	v12->save.rax = v2->save.rax;
	v12->save.dr7 = v2->save.dr7;
	v12->save.dr6 = v2->save.dr6;
	v12->save.cpl = v2->save.cpl;
	if (ctx->npt12)
		v12->save.g_pat = v2->save.g_pat;
	if (c2->virt_ext & NEST_SVM_VIRT_EXT_LBR && (c12->virt_ext & NEST_SVM_VIRT_EXT_LBR)) {
		v12->save.dbgctl = v2->save.dbgctl;
		v12->save.br_from = v2->save.br_from;
		v12->save.br_to = v2->save.br_to;
		v12->save.last_excp_from = v2->save.last_excp_from;
		v12->save.last_excp_to = v2->save.last_excp_to;
	}

	if ((ctx->features & NEST_SVM_F_VGIF) && (c12->int_ctl & NEST_SVM_INT_CTL_V_GIF_ENABLE))
		int_ctl_back |= NEST_SVM_INT_CTL_V_GIF;
	c12->int_ctl = (c12->int_ctl & ~int_ctl_back) | (c2->int_ctl & int_ctl_back);
	c12->int_state = c2->int_state & NEST_SVM_INT_STATE_SHADOW;
	/* With V_INTR_MASKING the guest's IF is reported in bit 1 (APM 15.21.1). */
	if (v2->save.rflags & X86_RFLAGS_IF)
		c12->int_state |= NEST_SVM_INT_STATE_GUEST_MASK;
	c12->exitcode = exitcode;
	c12->exitinfo1 = exitinfo1;
	c12->exitinfo2 = exitinfo2;
	/* An event not delivered yet (still in EVENTINJ) or interrupted in its
	 * delivery (EXITINTINFO) is L1's to re-inject (APM 15.7.2, 15.20). */
	c12->exitintinfo =
	    (c2->event_inj & NEST_SVM_EVTINJ_VALID) ? c2->event_inj : c2->exitintinfo;
	c12->event_inj = 0;
	if (!(ctx->features & NEST_SVM_F_NRIPS))
		c12->next_rip = 0;
	else if (ctx->soft_features & NEST_SVM_F_NRIPS)
		c12->next_rip = soft_next_rip(ctx, exitcode, exitinfo2);
	else
		c12->next_rip = c2->next_rip;
	if (ctx->features & NEST_SVM_F_DECODE_ASSISTS) {
		c12->insn_len = c2->insn_len;
		nest__memcpy(c12->insn_bytes, c2->insn_bytes, sizeof(c12->insn_bytes));
	} else {
		c12->insn_len = 0;
		nest__memset(c12->insn_bytes, 0, sizeof(c12->insn_bytes));
	}

	/* Write back what #VMEXIT writes: the control fields from int_ctl to
	 * the instruction bytes, and the save area up to the LBR registers. */
	rc = nest__be_write(&ctx->be, ctx->vmcb12_pa + NEST_VMCB_OFF_INT_CTL,
			    (const uint8_t *)v12 + NEST_VMCB_OFF_INT_CTL,
			    NEST_VMCB_OFF_AVIC_BACKING_PAGE - NEST_VMCB_OFF_INT_CTL);
	if (rc == NEST_OK)
		rc = nest__be_write(&ctx->be, ctx->vmcb12_pa + NEST_VMCB_OFF_ES_SELECTOR,
				    (const uint8_t *)v12 + NEST_VMCB_OFF_ES_SELECTOR,
				    NEST_VMCB_OFF_LASTEXCP_TO + 8 - NEST_VMCB_OFF_ES_SELECTOR);
	if (rc != NEST_OK)
		return rc;

	restore_host(ctx, vmcb01);
	ctx->guest_mode = false;
	nest__svm_set_l1_gif(ctx, vmcb01, false); /* #VMEXIT clears GIF (APM 15.6) */
	ctx->reflected++;
	act->kind = NEST_SVM_ACT_RESUME_L1;
	act->flags |= NEST_SVM_ACT_F_REFLECTED;
	act->exitcode = exitcode;
	act->exitinfo1 = exitinfo1;
	act->exitinfo2 = exitinfo2;
	return NEST_OK;
}
