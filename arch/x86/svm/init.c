/* SPDX-License-Identifier: MIT */
/*
 * An INIT signal for L1's vCPU (AMD APM vol. 2): GIF clear holds it
 * pending (15.17); while L2 runs, L1's INIT intercept makes it a
 * #VMEXIT(INIT); VM_CR.R_INIT set redirects it into a #SX exception
 * (vector 30) whose error code 1 says "INIT redirected" (8.2, #SX),
 * delivered as any exception is where the vCPU runs (L1's exception
 * intercept applies while L2 runs); otherwise the processor takes INIT:
 * L1's vCPU resets (EFER zero, so SVME clear; GIF set; out of guest mode)
 * and waits for SIPI.
 */
#include "context.h"

#define SX_ERROR_CODE 1u /* INIT redirected */

static void reset_l1(struct nest_svm *ctx)
{
	ctx->guest_mode = false;
	ctx->svme = false;
	ctx->gif = true;
	ctx->l2_gif_clear = false;
	ctx->soft_inj = false;
	ctx->inj_window = false;
	ctx->last_asid_valid = false;
}

NEST_API int nest_svm_init_signal(struct nest_svm *ctx, struct nest_vmcb *vmcb01,
				  struct nest_svm_action *act)
{
	if (!nest__svm_ctx_ok(ctx) || !act || !vmcb01)
		return NEST_E_INVAL;
	if (act->size < NEST_SVM_ACTION_MIN_SIZE)
		return NEST_E_SIZE;
	nest__svm_act_reset(act);
	/* GIF: L1's outside L2; L2's own CLGI (without vGIF) while L2 runs. */
	if (ctx->guest_mode ? ctx->l2_gif_clear : !nest__svm_l1_gif(ctx, vmcb01))
		return NEST_E_STATE;
	if (ctx->guest_mode && nest__svm_l1_icpt(ctx, NEST_SVM_EXIT_INIT, 0, 0)) {
		ctx->l2_insn_len = 0;
		return nest__svm_reflect(ctx, vmcb01, NEST_SVM_EXIT_INIT, 0, 0, act);
	}
	if (ctx->vm_cr & X86_VM_CR_R_INIT) {
		uint64_t code = NEST_SVM_EXIT_EXCP_BASE + X86_EXC_SX;

		if (!ctx->guest_mode) {
			act->kind = NEST_SVM_ACT_INJECT_L1;
			act->vector = X86_EXC_SX;
			act->has_error_code = 1;
			act->error_code = SX_ERROR_CODE;
			return NEST_OK;
		}
		if (nest__svm_l1_icpt(ctx, code, SX_ERROR_CODE, 0)) {
			ctx->l2_insn_len = 0;
			return nest__svm_reflect(ctx, vmcb01, code, SX_ERROR_CODE, 0, act);
		}
		/* L2 takes the #SX itself, unless an event is already on its way. */
		if (ctx->vmcb02->control.event_inj & NEST_SVM_EVTINJ_VALID)
			return NEST_E_STATE;
		ctx->vmcb02->control.event_inj =
		    NEST_SVM_EVTINJ_VALID | NEST_SVM_EVTINJ_EV | X86_EXC_SX |
		    ((uint64_t)NEST_SVM_EVTINJ_TYPE_EXCEPTION << NEST_SVM_EVTINJ_TYPE_SHIFT) |
		    ((uint64_t)SX_ERROR_CODE << 32);
		nest__svm_act_run_l2(ctx, act);
		return NEST_OK;
	}
	reset_l1(ctx);
	act->kind = NEST_SVM_ACT_NONE;
	return NEST_OK;
}
