/* SPDX-License-Identifier: MIT */
/*
 * Who handles a #VMEXIT of L2: L1 per vmcb12's intercepts and its
 * permission maps (APM 15.9-15.11), or L0.
 */
#include "svm/context.h"

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

bool nest__svm_l1_icpt(const struct nest_svm *ctx, uint64_t code, uint64_t info1, uint32_t msr)
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
	return nest__svm_l1_icpt(ctx, exitcode, exitinfo1, msr);
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
bool nest__svm_cr0_write_is_selective(const struct nest_svm *ctx, uint64_t info1,
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
bool nest__svm_l0_only(uint64_t code)
{
	return code == NEST_SVM_EXIT_INTR || code == NEST_SVM_EXIT_NMI ||
	       code == NEST_SVM_EXIT_SMI || code == NEST_SVM_EXIT_INIT ||
	       code == NEST_SVM_EXIT_EXCP_BASE + X86_EXC_MC || code > NEST_SVM_EXIT_LAST_;
}

bool nest__svm_is_svm_insn(uint64_t code)
{
	return code == NEST_SVM_EXIT_VMRUN || code == NEST_SVM_EXIT_VMLOAD ||
	       code == NEST_SVM_EXIT_VMSAVE || code == NEST_SVM_EXIT_STGI ||
	       code == NEST_SVM_EXIT_CLGI || code == NEST_SVM_EXIT_SKINIT ||
	       code == NEST_SVM_EXIT_INVLPGA;
}
