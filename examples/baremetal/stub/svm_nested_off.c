/* SPDX-License-Identifier: MIT */
/*
 * Nesting switched off: L1 runs on a machine without SVM (CPUID hides it,
 * EFER.SVME cannot be set, SVM instructions raise #UD as APM 15.4 says
 * they do when EFER.SVME is clear). The EFER the hardware runs L1 with
 * keeps SVME set, as VMRUN requires; L1 reads its own value.
 */
#include "svm_nested.h"

#define INSN_LEN_MSR 2
#define EFER_LMSLE (1ull << 13)
#define EFER_FFXSR (1ull << 14)
#define EFER_TCE (1ull << 15)
#define EFER_WRITABLE                                                                              \
	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_LMSLE | EFER_FFXSR | EFER_TCE)

void nested_init(void)
{
}

bool nested_available(void)
{
	return false;
}

void nested_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	if (leaf == CPUID_EXT_FEATURES)
		r[2] &= ~CPUID_EXT_ECX_SVM;
	else if (leaf == CPUID_SVM_LEAF)
		r[0] = r[1] = r[2] = r[3] = 0;
}

static void msr_exit(uint8_t *v)
{
	bool wr = VMCB_U64(v, VMCB_EXITINFO1) & 1;
	uint32_t msr = (uint32_t)stub.regs.gpr[GPR_RCX];
	uint64_t val = (VMCB_U64(v, VMCB_RAX) & 0xFFFFFFFFull) | (stub.regs.gpr[GPR_RDX] << 32);

	if (msr == MSR_EFER && wr) {
		if (val & ~EFER_WRITABLE) {
			stub_inject(v, VEC_GP, true, 0);
			return;
		}
		uint64_t cur = VMCB_U64(v, VMCB_EFER);
		VMCB_U64(v, VMCB_EFER) = (val & ~EFER_LMA) | (cur & EFER_LMA) | EFER_SVME;
	} else if (msr == MSR_EFER) {
		val = VMCB_U64(v, VMCB_EFER) & ~EFER_SVME;
	} else {
		/* VM_HSAVE_PA and VM_CR without SVM: #GP (APM 15.30). */
		stub_inject(v, VEC_GP, true, 0);
		return;
	}
	if (!wr) {
		VMCB_U64(v, VMCB_RAX) = val & 0xFFFFFFFFull;
		stub.regs.gpr[GPR_RDX] = val >> 32;
	}
	VMCB_U64(v, VMCB_RIP) += INSN_LEN_MSR;
}

bool nested_l1_written(uint64_t gpa)
{
	(void)gpa;
	return false;
}

void nested_l1_exit(uint8_t *vmcb01, uint64_t code)
{
	if (code == VMEXIT_MSR)
		msr_exit(vmcb01);
	else
		stub_inject(vmcb01, VEC_UD, false, 0);
}

void nested_l2_exit(uint8_t *vmcb02)
{
	stub_fatal(vmcb02, "L2 exit without nesting");
}

uint8_t *nested_current_vmcb(void)
{
	return stub.vmcb01;
}

bool nested_host_if(void)
{
	return false;
}

void nested_before_run(void)
{
}

void nested_l1_intr(void)
{
}

void nested_init_cpu(void)
{
}

bool nested_init_signal(bool *held)
{
	*held = false;
	return false; /* no L2: INIT resets L1's vCPU */
}

void nested_l1_map_changed(uint64_t gpa, uint64_t len)
{
	(void)gpa;
	(void)len; /* no shadow of L1's memory without nesting */
}

unsigned nested_hot_pages(uint64_t *gpa, unsigned max)
{
	(void)gpa;
	(void)max;
	return 0;
}

bool nested_l2_running(void)
{
	return false;
}

uint64_t nested_npt02_root(void)
{
	return 0; /* no L2 */
}
