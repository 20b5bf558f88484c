/* SPDX-License-Identifier: MIT */
/*
 * L1's RDMSR/WRMSR of the VMX capability MSRs and IA32_FEATURE_CONTROL.
 *
 * The capability MSRs are read-only (WRMSR raises #GP(0), SDM A.1) and
 * exist only when the capability they describe is offered: a TRUE_* MSR
 * only with IA32_VMX_BASIC bit 55, PROCBASED_CTLS2 only if "activate
 * secondary controls" may be 1, EPT_VPID_CAP only if EPT or VPID may be
 * enabled, VMFUNC only if "enable VM functions" may be 1 (SDM A.3.3,
 * A.10, A.11). Reading an absent one raises #GP(0), as on hardware.
 *
 * IA32_FEATURE_CONTROL (SDM 24.7): writable until bit 0 (lock) is set;
 * once locked, or for a write that sets a bit L1 may not set, #GP(0).
 */
#include "vmx/context.h"

#include "cpu/x86.h"
#include "vmx/vmx_arch.h"

/* When an MSR exists, from the capabilities offered to L1. */
enum msr_cond {
	MSR_ALWAYS,
	MSR_TRUE_CTLS,
	MSR_SECONDARY,
	MSR_EPT_VPID,
	MSR_VMFUNC,
	MSR_TERTIARY,
	MSR_EXIT2,
};

static const struct vmx_msr {
	uint32_t msr;
	uint16_t offset; /* in struct nest_vmx_caps */
	uint8_t cond;
} vmx_msrs[] = {
#define M(name, field, cond)                                                                       \
	{                                                                                          \
		X86_MSR_IA32_VMX_##name, offsetof(struct nest_vmx_caps, field), cond               \
	}
    M(BASIC, basic, MSR_ALWAYS),
    M(PINBASED_CTLS, pinbased, MSR_ALWAYS),
    M(PROCBASED_CTLS, procbased, MSR_ALWAYS),
    M(EXIT_CTLS, exit, MSR_ALWAYS),
    M(ENTRY_CTLS, entry, MSR_ALWAYS),
    M(MISC, misc, MSR_ALWAYS),
    M(CR0_FIXED0, cr0_fixed0, MSR_ALWAYS),
    M(CR0_FIXED1, cr0_fixed1, MSR_ALWAYS),
    M(CR4_FIXED0, cr4_fixed0, MSR_ALWAYS),
    M(CR4_FIXED1, cr4_fixed1, MSR_ALWAYS),
    M(VMCS_ENUM, vmcs_enum, MSR_ALWAYS),
    M(PROCBASED_CTLS2, procbased2, MSR_SECONDARY),
    M(EPT_VPID_CAP, ept_vpid, MSR_EPT_VPID),
    M(TRUE_PINBASED_CTLS, true_pinbased, MSR_TRUE_CTLS),
    M(TRUE_PROCBASED_CTLS, true_procbased, MSR_TRUE_CTLS),
    M(TRUE_EXIT_CTLS, true_exit, MSR_TRUE_CTLS),
    M(TRUE_ENTRY_CTLS, true_entry, MSR_TRUE_CTLS),
    M(VMFUNC, vmfunc, MSR_VMFUNC),
    M(PROCBASED_CTLS3, procbased3, MSR_TERTIARY),
    M(EXIT_CTLS2, exit2, MSR_EXIT2),
#undef M
};

static bool msr_exists(const struct nest_vmx *ctx, unsigned cond)
{
	const struct nest_vmx_caps *c = &ctx->caps;
	uint32_t proc1 = (uint32_t)(c->procbased >> 32);
	uint32_t proc2 = (uint32_t)(c->procbased2 >> 32);
	uint32_t exit1 = (uint32_t)(c->exit >> 32);

	if (!ctx->vmx_allowed)
		return false;
	switch (cond) {
	case MSR_ALWAYS:
		return true;
	case MSR_TRUE_CTLS:
		return (c->basic & VMX_BASIC_TRUE_CTLS) != 0;
	case MSR_SECONDARY:
		return (proc1 & NEST_VMX_PROC_ACTIVATE_SECONDARY) != 0;
	case MSR_EPT_VPID:
		return (proc1 & NEST_VMX_PROC_ACTIVATE_SECONDARY) &&
		       (proc2 & (NEST_VMX_PROC2_ENABLE_EPT | NEST_VMX_PROC2_ENABLE_VPID));
	case MSR_VMFUNC:
		return (proc1 & NEST_VMX_PROC_ACTIVATE_SECONDARY) &&
		       (proc2 & NEST_VMX_PROC2_ENABLE_VMFUNC);
	case MSR_TERTIARY:
		return (proc1 & NEST_VMX_PROC_ACTIVATE_TERTIARY) != 0;
	case MSR_EXIT2:
		return (exit1 & NEST_VMX_EXIT_CTL_ACTIVATE_SECONDARY) != 0;
	default:
		return false;
	}
}

static const struct vmx_msr *find_msr(uint32_t msr)
{
	size_t i;

	for (i = 0; i < NEST_ARRAY_SIZE(vmx_msrs); i++)
		if (vmx_msrs[i].msr == msr)
			return &vmx_msrs[i];
	return NULL;
}

static void act_msr(struct nest_vmx_action *a, bool gp)
{
	nest__memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	if (gp) {
		a->kind = NEST_VMX_ACT_INJECT;
		a->vector = X86_EXC_GP;
		a->has_error_code = 1;
		a->error_code = 0;
	} else {
		a->kind = NEST_VMX_ACT_RESUME_L1;
	}
}

static int check_args(const struct nest_vmx *ctx, const struct nest_vmx_action *act)
{
	uint32_t size;

	if (!nest__vmx_ctx_ok(ctx) || act == NULL)
		return NEST_E_INVAL;
	nest__memcpy(&size, act, sizeof(size));
	if (size < NEST_VMX_ACTION_MIN_SIZE)
		return NEST_E_SIZE;
	return NEST_OK;
}

NEST_API int nest_vmx_rdmsr(struct nest_vmx *ctx, uint32_t msr, uint64_t *value,
			    struct nest_vmx_action *act)
{
	struct nest_vmx_action a;
	const struct vmx_msr *m;
	int rc = check_args(ctx, act);

	if (rc != NEST_OK)
		return rc;
	if (value == NULL)
		return NEST_E_INVAL;
	if (msr == X86_MSR_IA32_FEATURE_CONTROL) {
		*value = ctx->feature_control;
		act_msr(&a, false);
	} else if ((m = find_msr(msr)) != NULL) {
		bool exists = msr_exists(ctx, m->cond);

		if (exists)
			nest__memcpy(value, (const uint8_t *)&ctx->caps + m->offset,
				     sizeof(*value));
		act_msr(&a, !exists);
	} else {
		return NEST_E_NOENT;
	}
	return nest__copy_out(act, &a, sizeof(a), NEST_VMX_ACTION_MIN_SIZE);
}

NEST_API int nest_vmx_wrmsr(struct nest_vmx *ctx, uint32_t msr, uint64_t value,
			    struct nest_vmx_action *act)
{
	struct nest_vmx_action a;
	int rc = check_args(ctx, act);

	if (rc != NEST_OK)
		return rc;
	if (msr == X86_MSR_IA32_FEATURE_CONTROL) {
		bool gp = (ctx->feature_control & X86_FEATURE_CONTROL_LOCK) ||
			  (value & ~ctx->feature_control_valid);

		if (!gp)
			ctx->feature_control = value;
		act_msr(&a, gp);
	} else if (find_msr(msr) != NULL) {
		act_msr(&a, true); /* read-only (SDM A.1) */
	} else {
		return NEST_E_NOENT;
	}
	return nest__copy_out(act, &a, sizeof(a), NEST_VMX_ACTION_MIN_SIZE);
}
