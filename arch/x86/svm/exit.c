/* SPDX-License-Identifier: MIT */
/*
 * #VMEXIT of L2: who handles it (L1 per vmcb12 and its permission maps, or
 * L0), and the reflection to L1 (APM 15.6 "#VMEXIT").
 */
#include "svm/svm_internal.h"

/* ---- permission maps ---- */

static const uint32_t msrpm_bases[] = {SVM_MSRPM_RANGE0_BASE, SVM_MSRPM_RANGE1_BASE,
				       SVM_MSRPM_RANGE2_BASE};

/* APM 15.11: two bits per MSR (read, then write) in three 2 KiB ranges; an
 * MSR outside them is always intercepted. */
bool nest__svm_msrpm_test(const uint8_t *map, uint32_t msr, bool write)
{
	size_t i;

	for (i = 0; i < NEST_ARRAY_SIZE(msrpm_bases); i++) {
		if (msr - msrpm_bases[i] < SVM_MSRPM_MSRS_PER_RANGE) {
			uint32_t bit = (msr - msrpm_bases[i]) * 2 + (write ? 1 : 0);

			return (map[i * SVM_MSRPM_RANGE_BYTES + bit / 8] >> (bit % 8)) & 1u;
		}
	}
	return true;
}

/* APM 15.10.1: one bit per port; an access of n bytes checks n bits (the
 * third page covers accesses that run past port 0xFFFF). */
bool nest__svm_iopm_test(const uint8_t *map, uint32_t port, unsigned size)
{
	unsigned i;

	for (i = 0; i < size && i < 4; i++) {
		uint32_t p = (port & 0xffffu) + i;

		if ((map[p / 8] >> (p % 8)) & 1u)
			return true;
	}
	return false;
}

static unsigned ioio_size(uint64_t exitinfo1)
{
	if (exitinfo1 & NEST_SVM_IOIO_SZ32)
		return 4;
	if (exitinfo1 & NEST_SVM_IOIO_SZ16)
		return 2;
	return 1;
}

/* ---- classification ---- */

static bool l1_intercepts(const struct nest_svm *ctx, uint64_t code, uint64_t info1, uint32_t msr)
{
	const struct nest_vmcb_control *c12 = &ctx->vmcb12.control;

	if (code == NEST_SVM_EXIT_IOIO)
		return ctx->l1_iopm_used &&
		       nest__svm_iopm_test(ctx->l1_iopm,
					   (uint32_t)(info1 >> NEST_SVM_IOIO_PORT_SHIFT) & 0xffffu,
					   ioio_size(info1));
	if (code == NEST_SVM_EXIT_MSR)
		return ctx->l1_msrpm_used && nest__svm_msrpm_test(ctx->l1_msrpm, msr, info1 != 0);
	if (code == NEST_SVM_EXIT_NPF)
		return ctx->npt12;
	/* Exit codes below 0xC0 are intercept numbers (APM appendix C). */
	if (code < NEST_SVM_INTERCEPT_WORDS * 32)
		return svm_icpt_test(c12, (unsigned)code);
	return false;
}

NEST_API int nest_svm_l1_intercepts(const struct nest_svm *ctx, uint64_t exitcode,
				    uint64_t exitinfo1, uint32_t msr)
{
	if (!nest__svm_ctx_ok(ctx) || !ctx->guest_mode)
		return 0;
	return l1_intercepts(ctx, exitcode, exitinfo1, msr);
}

/* APM 15.8.1 (decode assists): MOV-to-CR exits give the GPR in EXITINFO1. */
#define CR_EXITINFO_MOV (1ull << 63)
#define CR_EXITINFO_GPR_MASK 0xfull
#define GPR_RAX 0
#define GPR_RSP 4
/* Bits a CR0 write may change without a selective-CR0-write exit (APM 15.9). */
#define CR0_SEL_IGNORED (X86_CR0_TS | X86_CR0_MP)

/* L2 wrote CR0 and L1 intercepts only selective CR0 writes: is this write
 * selective? Needs the value: decode assists give its register; without
 * them the write is L0's (docs/conformance-svm.md). */
static bool cr0_write_is_selective(const struct nest_svm *ctx, uint64_t info1,
				   const struct nest_svm_regs *regs)
{
	const struct nest_vmcb_save *s2 = &ctx->vmcb02->save;
	unsigned gpr = (unsigned)(info1 & CR_EXITINFO_GPR_MASK);
	uint64_t val;

	if (!(info1 & CR_EXITINFO_MOV))
		return false;
	val = gpr == GPR_RAX ? s2->rax : gpr == GPR_RSP ? s2->rsp : regs->gpr[gpr];
	return ((val ^ s2->cr0) & ~CR0_SEL_IGNORED) != 0;
}

/* Exits that belong to L0 whatever L1 intercepts: physical events (the
 * interrupt, NMI, SMI or INIT is the host's; L0 forwards what is L1's with
 * nest_svm_force_exit()) and machine checks. */
static bool l0_only(uint64_t code)
{
	return code == NEST_SVM_EXIT_INTR || code == NEST_SVM_EXIT_NMI ||
	       code == NEST_SVM_EXIT_SMI || code == NEST_SVM_EXIT_INIT ||
	       code == NEST_SVM_EXIT_EXCP_BASE + X86_EXC_MC || code > NEST_SVM_EXIT_LAST_;
}

static bool is_svm_insn(uint64_t code)
{
	return code == NEST_SVM_EXIT_VMRUN || code == NEST_SVM_EXIT_VMLOAD ||
	       code == NEST_SVM_EXIT_VMSAVE || code == NEST_SVM_EXIT_STGI ||
	       code == NEST_SVM_EXIT_CLGI || code == NEST_SVM_EXIT_SKINIT ||
	       code == NEST_SVM_EXIT_INVLPGA;
}

/* ---- features carried out in software (NEST_SVM_CFG_SOFT_*) ---- */

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

/* Lengths of instructions libnest completes for L2, when L0 gave none
 * (the encodings without prefixes). */
#define PAUSE_LEN 2u  /* F3 90 */
#define RDTSC_LEN 2u  /* 0F 31 */
#define RDTSCP_LEN 3u /* 0F 01 F9 */
#define RDMSR_LEN 2u  /* 0F 32 */
#define INSN_LEN_MAX 15u

/* L2 goes on after an instruction libnest carried out for it: past it,
 * out of any interrupt shadow. */
static int l2_complete(struct nest_svm *ctx, uint32_t len, uint32_t flags,
		       struct nest_svm_action *act)
{
	struct nest_vmcb *v2 = ctx->vmcb02;
	int rc;

	v2->save.rip += ctx->l2_insn_len ? ctx->l2_insn_len : len;
	v2->control.int_state &= ~NEST_SVM_INT_STATE_SHADOW;
	rc = nest_svm_resume_l2(ctx, act);
	act->flags |= flags;
	return rc;
}

/* A software pause filter (APM 15.14.4): the count-th PAUSE after VMRUN is
 * L1's intercept; libnest completes the ones before it. */
static bool pause_filtered(struct nest_svm *ctx)
{
	if (ctx->pause_left <= 1)
		return false;
	ctx->pause_left--;
	return true;
}

/* Is this exit a read of L2's TSC (RDTSC, RDTSCP, RDMSR of IA32_TSC)? */
static bool is_tsc_read(uint64_t code, uint64_t info1, uint32_t msr)
{
	return code == NEST_SVM_EXIT_RDTSC || code == NEST_SVM_EXIT_RDTSCP ||
	       (code == NEST_SVM_EXIT_MSR && info1 == 0 && msr == X86_MSR_IA32_TIME_STAMP_COUNTER);
}

/* A software TSC ratio (APM 15.30.5): vmcb02 runs on L1's time base, so
 * L2 reads (L1's TSC * L1's ratio) + vmcb12's offset; EDX:EAX (and ECX =
 * TSC_AUX for RDTSCP) as the instruction writes them. */
static int l2_tsc_read(struct nest_svm *ctx, struct nest_svm_regs *regs, uint64_t code,
		       struct nest_svm_action *act)
{
	uint64_t tsc, aux = 0;
	int rc;

	rc = nest__be_guest_rdmsr(&ctx->be, X86_MSR_IA32_TIME_STAMP_COUNTER, &tsc);
	if (rc == NEST_OK && code == NEST_SVM_EXIT_RDTSCP)
		rc = nest__be_guest_rdmsr(&ctx->be, X86_MSR_IA32_TSC_AUX, &aux);
	if (rc != NEST_OK)
		return rc;
	tsc = nest__svm_tsc_ratio_mul(tsc, ctx->tsc_ratio) + ctx->vmcb12.control.tsc_offset;
	ctx->vmcb02->save.rax = (uint32_t)tsc;
	regs->gpr[2] = tsc >> 32;
	if (code == NEST_SVM_EXIT_RDTSCP)
		regs->gpr[1] = (uint32_t)aux;
	return l2_complete(ctx,
			   code == NEST_SVM_EXIT_RDTSC    ? RDTSC_LEN
			   : code == NEST_SVM_EXIT_RDTSCP ? RDTSCP_LEN
							  : RDMSR_LEN,
			   NEST_SVM_ACT_F_GPRS, act);
}

/* ---- reflection ---- */

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
	ctx->gif = false; /* #VMEXIT clears GIF (APM 15.6) */
	if (ctx->flags & NEST_SVM_CFG_L0_VGIF)
		vmcb01->control.int_ctl &= ~NEST_SVM_INT_CTL_V_GIF;
	ctx->reflected++;
	act->kind = NEST_SVM_ACT_RESUME_L1;
	act->flags |= NEST_SVM_ACT_F_REFLECTED;
	act->exitcode = exitcode;
	act->exitinfo1 = exitinfo1;
	act->exitinfo2 = exitinfo2;
	return NEST_OK;
}

static int check_args(struct nest_svm *ctx, struct nest_svm_action *act)
{
	if (!nest__svm_ctx_ok(ctx) || !act)
		return NEST_E_INVAL;
	if (act->size < NEST_SVM_ACTION_MIN_SIZE)
		return NEST_E_SIZE;
	if (!ctx->guest_mode)
		return NEST_E_STATE;
	nest__svm_act_reset(act);
	return NEST_OK;
}

static int l2_npf(struct nest_svm *ctx, struct nest_vmcb *vmcb01, struct nest_svm_action *act)
{
	const struct nest_vmcb_control *c2 = &ctx->vmcb02->control;
	struct nest_tdp_fault_in in;
	struct nest_tdp_fault_out out;
	int rc;

	nest__memset(&in, 0, sizeof(in));
	in.l2_gpa = c2->exitinfo2;
	in.access = (c2->exitinfo1 & NEST_NPF_W)    ? NEST_ACC_W
		    : (c2->exitinfo1 & NEST_NPF_ID) ? NEST_ACC_X
						    : NEST_ACC_R;
	if (c2->exitinfo1 & NEST_NPF_FINAL)
		in.flags |= NEST_TDP_F_FINAL;
	rc = nest_tdp_fault(ctx->tdp, &ctx->tdp_root, &in, &out);
	if (rc != NEST_OK)
		return rc;
	switch (out.kind) {
	case NEST_TDP_REFLECT:
		return nest__svm_reflect(ctx, vmcb01, NEST_SVM_EXIT_NPF, out.exitinfo1,
					 out.exitinfo2, act);
	case NEST_TDP_L0:
		act->kind = NEST_SVM_ACT_L0_HANDLES;
		act->exitcode = NEST_SVM_EXIT_NPF;
		act->exitinfo1 = c2->exitinfo1;
		act->exitinfo2 = c2->exitinfo2;
		act->l1_gpa = out.l1_gpa;
		act->l0_access = out.l0_access;
		return NEST_OK;
	case NEST_TDP_WRITE_WATCHED:
		/* L2 writes L1's IOPM or MSRPM: from now on that map, as it is
		 * in L1's memory, decides. */
		rc = nest__svm_maps_written(ctx, out.l1_gpa);
		if (rc != NEST_OK)
			return rc;
		return nest_svm_resume_l2(ctx, act);
	default: /* FIXED, RETRY: run L2 again, re-delivering an interrupted event */
		return nest_svm_resume_l2(ctx, act);
	}
}

NEST_API int nest_svm_l2_exit(struct nest_svm *ctx, struct nest_vmcb *vmcb01,
			      struct nest_svm_regs *regs, struct nest_svm_action *act)
{
	struct nest_vmcb_control *c2;
	uint64_t code, info1, info2;
	int rc;

	rc = check_args(ctx, act);
	if (rc != NEST_OK)
		return rc;
	if (!vmcb01 || !regs)
		return NEST_E_INVAL;
	if (regs->size < NEST_SVM_REGS_MIN_SIZE)
		return NEST_E_SIZE;
	c2 = &ctx->vmcb02->control;
	/* The VMRUN that flushed has happened. */
	c2->tlb_control = NEST_SVM_TLB_DO_NOTHING;
	code = c2->exitcode;
	info1 = c2->exitinfo1;
	info2 = c2->exitinfo2;
	ctx->l2_insn_len = regs->insn_len <= INSN_LEN_MAX ? regs->insn_len : 0;

	if (code == NEST_SVM_EXIT_NPF && ctx->npt12)
		return l2_npf(ctx, vmcb01, act);
	if (code == NEST_SVM_EXIT_IOIO && ctx->iopm_live)
		nest__svm_read_map(ctx, ctx->vmcb12.control.iopm_base_pa, ctx->l1_iopm,
				   NEST_SVM_IOPM_SIZE);
	if (code == NEST_SVM_EXIT_MSR && ctx->msrpm_live)
		nest__svm_read_map(ctx, ctx->vmcb12.control.msrpm_base_pa, ctx->l1_msrpm,
				   NEST_SVM_MSRPM_SIZE);
	if (!l0_only(code)) {
		bool l1 = l1_intercepts(ctx, code, info1, (uint32_t)regs->gpr[1]);

		if (l1 && code == NEST_SVM_EXIT_PAUSE && pause_filtered(ctx))
			return l2_complete(ctx, PAUSE_LEN, 0, act);
		if (l1)
			return nest__svm_reflect(ctx, vmcb01, code, info1, info2, act);
		if (ctx->tsc_soft && is_tsc_read(code, info1, (uint32_t)regs->gpr[1]))
			return l2_tsc_read(ctx, regs, code, act);
		/* L0's CR0-write intercept hid L1's selective one (APM 15.9). */
		if (code == NEST_SVM_EXIT_CR0_WRITE &&
		    svm_icpt_test(&ctx->vmcb12.control, NEST_SVM_ICPT_CR0_SEL_WRITE) &&
		    cr0_write_is_selective(ctx, info1, regs))
			return nest__svm_reflect(ctx, vmcb01, NEST_SVM_EXIT_CR0_SEL_WRITE, info1,
						 info2, act);
		if (code == NEST_SVM_EXIT_SHUTDOWN) {
			/* L2's shutdown, unintercepted, is the processor's: L1's. */
			ctx->guest_mode = false;
			act->kind = NEST_SVM_ACT_SHUTDOWN_L1;
			act->exitcode = code;
			return NEST_OK;
		}
		/* What the processor does for L2 (VMRUN is always L1's). */
		if (is_svm_insn(code))
			return nest__svm_l2_insn(ctx, vmcb01, regs, code, act);
	}
	/* The processor refused vmcb02 (APM 15.5.1): L1 gets what its VMRUN
	 * would have given on that processor, #VMEXIT(VMEXIT_INVALID). Only a
	 * vmcb02 that libnest's checks missed can get here (a defect to
	 * report: vmcb02 is meant to pass every consistency check). */
	if (code == NEST_SVM_EXIT_INVALID) {
		act->flags |= NEST_SVM_ACT_F_INVALID;
		return nest__svm_reflect(ctx, vmcb01, code, 0, 0, act);
	}
	act->kind = NEST_SVM_ACT_L0_HANDLES;
	act->exitcode = code;
	act->exitinfo1 = info1;
	act->exitinfo2 = info2;
	return NEST_OK;
}

NEST_API int nest_svm_resume_l2(struct nest_svm *ctx, struct nest_svm_action *act)
{
	struct nest_vmcb_control *c2;
	int rc;

	rc = check_args(ctx, act);
	if (rc != NEST_OK)
		return rc;
	c2 = &ctx->vmcb02->control;
	/* Re-deliver an event whose delivery the L0-handled exit interrupted
	 * (APM 15.7.2), unless L0 queued one itself. */
	if ((c2->exitintinfo & NEST_SVM_EVTINJ_VALID) && !(c2->event_inj & NEST_SVM_EVTINJ_VALID)) {
		c2->event_inj = c2->exitintinfo;
		/* L1's software interrupt again: with the return address L1 gave. */
		if (ctx->soft_inj && (c2->exitintinfo & ~NEST_SVM_EVTINJ_EV) ==
					 (ctx->soft_inj_event & ~NEST_SVM_EVTINJ_EV))
			c2->next_rip = ctx->soft_inj_next_rip;
	} else {
		/* Any other event ends the window of L1's injection. */
		ctx->soft_inj = false;
	}
	c2->exitintinfo = 0;
	c2->clean = 0;
	nest__svm_act_run_l2(ctx, act);
	return NEST_OK;
}

NEST_API int nest_svm_force_exit(struct nest_svm *ctx, struct nest_vmcb *vmcb01, uint64_t exitcode,
				 uint64_t exitinfo1, uint64_t exitinfo2,
				 struct nest_svm_action *act)
{
	int rc = check_args(ctx, act);

	if (rc != NEST_OK)
		return rc;
	if (!vmcb01)
		return NEST_E_INVAL;
	ctx->l2_insn_len = 0; /* no instruction of L2's */
	return nest__svm_reflect(ctx, vmcb01, exitcode, exitinfo1, exitinfo2, act);
}
