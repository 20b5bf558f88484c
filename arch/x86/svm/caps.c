/* SPDX-License-Identifier: MIT */
/*
 * What L1 is offered: the SVM capabilities (nest_svm_get_caps()) and the
 * CPUID leaves that describe them (APM 15.4, CPUID 8000_000Ah).
 */
#include "svm/context.h"

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
