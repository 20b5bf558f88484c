/* SPDX-License-Identifier: MIT */
/*
 * L2's SVM instructions that L1 does not intercept.
 *
 * VMRUN must be intercepted (a VMRUN consistency check), but vmcb12 may
 * leave VMLOAD, VMSAVE, STGI, CLGI and INVLPGA to L2, which then runs them
 * as the processor would: L2 is a guest whose EFER.SVME is set (VMRUN
 * requires it of vmcb12). vmcb02 keeps intercepting them all the same
 * (CVE-2021-3656: a VMLOAD/VMSAVE that reached the hardware would use an
 * L2 address as a host-physical one), and libnest carries them out here
 * on L2's state in vmcb02, with L2's addresses translated through NPT12.
 */
#include "svm/context.h"

/* #NPF EXITINFO1 bits 4:0 share the #PF error code's layout (APM 15.25.6). */
#define NPF_PFEC_BITS (NEST_NPF_P | NEST_NPF_W | NEST_NPF_U | NEST_NPF_RSVD | NEST_NPF_ID)

/* The length of 0F 01 /r forms without prefixes (APM 3 VMLOAD ... STGI). */
#define SVM_INSN_LEN 3u

/* Where L2 goes on after the instruction: the length L0 decoded, else the
 * processor's next RIP (NRIP save), else the unprefixed length. */
static uint64_t l2_next_rip(const struct nest_vmcb *v2, const struct nest_svm_regs *regs)
{
	if (regs->insn_len)
		return v2->save.rip + regs->insn_len;
	if (v2->control.next_rip)
		return v2->control.next_rip;
	return v2->save.rip + SVM_INSN_LEN;
}

static void l2_exception(struct nest_svm *ctx, uint8_t vector, struct nest_svm_action *act)
{
	ctx->vmcb02->control.event_inj =
	    NEST_SVM_EVTINJ_VALID | vector |
	    ((uint64_t)NEST_SVM_EVTINJ_TYPE_EXCEPTION << NEST_SVM_EVTINJ_TYPE_SHIFT) |
	    (vector == X86_EXC_GP ? NEST_SVM_EVTINJ_EV : 0);
	nest__svm_act_run_l2(ctx, act);
}

/*
 * An L2-physical address to L1-physical: through NPT12 when L1 runs L2
 * with nested paging (APM 15.25.5: a guest-physical access is a user
 * access, its A/D bits set as the walker would), else L2's physical
 * addresses are L1's. Returns false with the #NPF exit information when
 * NPT12 does not allow the access.
 */
static bool l2_gpa_to_l1(struct nest_svm *ctx, uint64_t gpa, bool write, uint64_t *l1_pa,
			 uint64_t *npf_info1)
{
	struct nest_x86_config cfg;
	struct nest_walk_result res;

	if (!ctx->npt12) {
		*l1_pa = gpa;
		return true;
	}
	nest__memset(&cfg, 0, sizeof(cfg));
	cfg.cr0 = ctx->tdp_root.cr0;
	cfg.cr4 = ctx->tdp_root.cr4;
	cfg.efer = ctx->tdp_root.efer;
	cfg.maxphyaddr = ctx->maxphyaddr;
	cfg.nested = 1;
	if (nest_x86_walk(&ctx->be, &cfg, ctx->tdp_root.pointer, gpa,
			  write ? NEST_ACC_W : NEST_ACC_R, NEST_WALK_SET_AD, &res) == NEST_OK &&
	    res.status == NEST_WALK_OK) {
		*l1_pa = res.addr;
		return true;
	}
	/* The walker's error code has the #NPF's low bits (APM 15.25.6); a
	 * table outside L1's memory is a not-present entry to L1. */
	*npf_info1 = (res.status == NEST_WALK_NO_MEMORY ? 0 : res.pfec & NPF_PFEC_BITS) |
		     NEST_NPF_U | (write ? NEST_NPF_W : 0) | NEST_NPF_FINAL;
	return false;
}

static int l2_vmload_vmsave(struct nest_svm *ctx, struct nest_vmcb *vmcb01, uint64_t code,
			    struct nest_svm_action *act)
{
	struct nest_vmcb *v2 = ctx->vmcb02;
	bool save = code == NEST_SVM_EXIT_VMSAVE;
	uint64_t gpa = nest__svm_rax_operand(v2), pa = 0, info1 = 0;

	/* #GP unless 4 KiB aligned and a legal physical address (APM VMLOAD). */
	if (!nest__svm_vmcb_pa_ok(ctx, gpa)) {
		l2_exception(ctx, X86_EXC_GP, act);
		return NEST_OK;
	}
	if (!l2_gpa_to_l1(ctx, gpa, save, &pa, &info1))
		return nest__svm_reflect(ctx, vmcb01, NEST_SVM_EXIT_NPF, info1, gpa, act);
	return save ? nest__svm_vmsave(ctx, v2, pa) : nest__svm_vmload(ctx, v2, pa);
}

int nest__svm_l2_insn(struct nest_svm *ctx, struct nest_vmcb *vmcb01,
		      const struct nest_svm_regs *regs, uint64_t code, struct nest_svm_action *act)
{
	struct nest_vmcb *v2 = ctx->vmcb02;
	const struct nest_vmcb_control *c12 = &ctx->vmcb12.control;
	bool vgif =
	    (ctx->features & NEST_SVM_F_VGIF) && (c12->int_ctl & NEST_SVM_INT_CTL_V_GIF_ENABLE);
	uint64_t next_rip = l2_next_rip(v2, regs);
	int rc;

	/* The exceptions of each instruction: #UD outside protected mode
	 * (EFER.SVME is set in any L2), #GP(0) above CPL 0. SKINIT is not
	 * offered. */
	if (!(v2->save.cr0 & X86_CR0_PE) || (v2->save.rflags & X86_RFLAGS_VM) ||
	    code == NEST_SVM_EXIT_SKINIT) {
		l2_exception(ctx, X86_EXC_UD, act);
		return NEST_OK;
	}
	if (v2->save.cpl != 0) {
		l2_exception(ctx, X86_EXC_GP, act);
		return NEST_OK;
	}

	switch (code) {
	case NEST_SVM_EXIT_STGI:
	case NEST_SVM_EXIT_CLGI:
		/* APM 15.33.2: with vGIF they set and clear V_GIF. Without it,
		 * the processor's GIF, which libnest keeps for L2 and the L0
		 * holds physical interrupts for (NEST_SVM_ACT_F_HOLD_INTR). */
		if (vgif && code == NEST_SVM_EXIT_STGI)
			v2->control.int_ctl |= NEST_SVM_INT_CTL_V_GIF;
		else if (vgif)
			v2->control.int_ctl &= ~NEST_SVM_INT_CTL_V_GIF;
		else {
			ctx->l2_gif_clear = code == NEST_SVM_EXIT_CLGI;
			nest__svm_set_v_intr_masking(ctx);
		}
		break;
	case NEST_SVM_EXIT_INVLPGA:
		/* L2's ASIDs all live in L0's one ASID for L2: flush it. */
		nest__be_flush(&ctx->be, NEST_FLUSH_ASID, ctx->l2_asid, 0);
		break;
	case NEST_SVM_EXIT_VMLOAD:
	case NEST_SVM_EXIT_VMSAVE:
		act->kind = NEST_SVM_ACT_NONE;
		rc = l2_vmload_vmsave(ctx, vmcb01, code, act);
		if (rc != NEST_OK || act->kind != NEST_SVM_ACT_NONE)
			return rc;
		break;
	default:
		return NEST_E_INVAL;
	}
	v2->save.rip = next_rip;
	v2->control.int_state &= ~NEST_SVM_INT_STATE_SHADOW;
	nest__svm_act_run_l2(ctx, act);
	return NEST_OK;
}
