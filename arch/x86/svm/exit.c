/* SPDX-License-Identifier: MIT */
/*
 * The L0 side of L2's exits: nest_svm_l2_exit() (decide, then reflect,
 * handle in libnest or leave to L0), nest_svm_resume_l2() and
 * nest_svm_force_exit().
 */
#include "svm/context.h"

/* ---- features carried out in software (NEST_SVM_CFG_SOFT_*) ---- */

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
	if (!nest__svm_l0_only(code)) {
		bool l1 = nest__svm_l1_icpt(ctx, code, info1, (uint32_t)regs->gpr[1]);

		if (l1 && code == NEST_SVM_EXIT_PAUSE && pause_filtered(ctx))
			return l2_complete(ctx, PAUSE_LEN, 0, act);
		if (l1)
			return nest__svm_reflect(ctx, vmcb01, code, info1, info2, act);
		if (ctx->tsc_soft && is_tsc_read(code, info1, (uint32_t)regs->gpr[1]))
			return l2_tsc_read(ctx, regs, code, act);
		/* L0's CR0-write intercept hid L1's selective one (APM 15.9). */
		if (code == NEST_SVM_EXIT_CR0_WRITE &&
		    svm_icpt_test(&ctx->vmcb12.control, NEST_SVM_ICPT_CR0_SEL_WRITE) &&
		    nest__svm_cr0_write_is_selective(ctx, info1, regs))
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
		if (nest__svm_is_svm_insn(code))
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

/* A software interrupt (INTn) or a software exception (INT3's #BP, INTO's
 * #OF, APM 15.20 type 3 with vector 3 or 4): an event an instruction of
 * L2's raises when it executes. */
static bool l2_soft_event(uint64_t ev)
{
	const unsigned type =
	    (unsigned)((ev & NEST_SVM_EVTINJ_TYPE_MASK) >> NEST_SVM_EVTINJ_TYPE_SHIFT);
	const unsigned vector = (unsigned)(ev & NEST_SVM_EVTINJ_VECTOR_MASK);

	return type == NEST_SVM_EVTINJ_TYPE_SOFT ||
	       (type == NEST_SVM_EVTINJ_TYPE_EXCEPTION &&
		(vector == X86_EXC_BP || vector == X86_EXC_OF));
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
		const uint64_t ev = c2->exitintinfo & ~NEST_SVM_EVTINJ_EV;

		if (ctx->soft_inj && ev == (ctx->soft_inj_event & ~NEST_SVM_EVTINJ_EV)) {
			/* L1's software interrupt again: with the return address L1 gave. */
			c2->event_inj = c2->exitintinfo;
			c2->next_rip = ctx->soft_inj_next_rip;
		} else if (!(ctx->inj_window && ev == (ctx->inj_event & ~NEST_SVM_EVTINJ_EV)) &&
			   l2_soft_event(ev)) {
			/* L2's own INTn, INT3 or INTO: RIP still points at the
			 * instruction, whose execution raises the event again with
			 * its own return address. Injected, the event would need a
			 * NEXT_RIP the exit did not save (APM 15.7.1). */
		} else {
			c2->event_inj = c2->exitintinfo;
		}
	} else {
		/* Any other event ends the window of L1's injection. */
		ctx->soft_inj = false;
		ctx->inj_window = false;
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

NEST_API int nest_svm_l2_exception(struct nest_svm *ctx, struct nest_vmcb *vmcb01, uint32_t vector,
				   uint32_t error_code, uint64_t payload,
				   struct nest_svm_action *act)
{
	struct nest_vmcb_control *c2;
	uint64_t code = NEST_SVM_EXIT_EXCP_BASE + vector;
	bool err;
	int rc = check_args(ctx, act);

	if (rc != NEST_OK)
		return rc;
	if (!vmcb01 || !x86_exc_vector(vector, true))
		return NEST_E_INVAL;
	c2 = &ctx->vmcb02->control;
	/* An event on its way to L2 (L0's or one an exit interrupted):
	 * combining the two is the caller's (APM 8.2.9, double faults). */
	if ((c2->event_inj | c2->exitintinfo) & NEST_SVM_EVTINJ_VALID)
		return NEST_E_STATE;
	err = x86_exc_error_code(vector) && (ctx->vmcb02->save.cr0 & X86_CR0_PE);
	if (!err)
		error_code = 0;
	/* As the processor: L1's exception intercept (APM 15.12), with the
	 * error code in EXITINFO1 and for #PF the address in EXITINFO2 (CR2
	 * unchanged), else delivery to L2. */
	if (nest__svm_l1_icpt(ctx, code, error_code, 0)) {
		ctx->l2_insn_len = 0;
		return nest__svm_reflect(ctx, vmcb01, code, error_code,
					 vector == X86_EXC_PF ? payload : 0, act);
	}
	c2->event_inj = NEST_SVM_EVTINJ_VALID | vector |
			((uint64_t)NEST_SVM_EVTINJ_TYPE_EXCEPTION << NEST_SVM_EVTINJ_TYPE_SHIFT) |
			(err ? NEST_SVM_EVTINJ_EV | ((uint64_t)error_code << 32) : 0);
	if (vector == X86_EXC_PF)
		ctx->vmcb02->save.cr2 = payload;
	ctx->soft_inj = false;
	ctx->inj_window = false;
	c2->clean = 0;
	nest__svm_act_run_l2(ctx, act);
	return NEST_OK;
}
