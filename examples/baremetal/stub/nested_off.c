/* SPDX-License-Identifier: MIT */
/*
 * Nesting switched off: L1 runs on a machine without SVM (CPUID hides it,
 * EFER.SVME cannot be set, SVM instructions raise #UD as APM 15.4 says
 * they do when EFER.SVME is clear).
 */
#include "nested.h"

void nested_init(void)
{
}

bool nested_available(void)
{
	return false;
}

void nested_cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	if (leaf == CPUID_EXT_FEATURES)
		*c &= ~CPUID_EXT_ECX_SVM;
	else if (leaf == CPUID_SVM_LEAF)
		*a = *b = *c = *d = 0;
}

void nested_efer_changed(uint64_t l1_efer)
{
}

void nested_hsave_changed(uint64_t pa)
{
}

void nested_l1_exit(uint8_t *vmcb01, uint64_t code)
{
	stub_inject(vmcb01, VEC_UD, false, 0);
}

void nested_l2_exit(uint8_t *vmcb02)
{
	stub_l2_fatal(vmcb02, "L2 exit without nesting");
}

uint8_t *nested_current_vmcb(void)
{
	return stub.vmcb01;
}
