/* SPDX-License-Identifier: MIT */
/*
 * L1's SVM MSRs (APM 15.30): EFER.SVME, VM_CR, VM_HSAVE_PA and TSC_RATIO,
 * read and written as the processor would.
 */
#include "svm/context.h"

int nest__svm_msr_read(struct nest_svm *ctx, uint32_t msr, uint64_t *value, struct nest_svm_action *act)
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

int nest__svm_msr_write(struct nest_svm *ctx, struct nest_vmcb *vmcb01, uint32_t msr, uint64_t value,
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
	return nest__svm_msr_read(ctx, msr, value, act);
}

NEST_API int nest_svm_wrmsr(struct nest_svm *ctx, uint32_t msr, uint64_t value, uint64_t *hw_value,
			    struct nest_svm_action *act)
{
	if (!nest__svm_ctx_ok(ctx) || !act)
		return NEST_E_INVAL;
	if (!act_size_ok(act))
		return NEST_E_SIZE;
	nest__svm_act_reset(act);
	return nest__svm_msr_write(ctx, NULL, msr, value, hw_value, act);
}
