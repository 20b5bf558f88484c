/* SPDX-License-Identifier: MIT */
/*
 * VM-entry checks on the guest control registers, debug registers and
 * MSRs (Intel SDM Vol. 3C 27.3.1.1; 26.3.1.1 in editions before 2023).
 * A failure is a VM-entry failure with exit reason 33, qualification 0.
 */
#include "vmx/check.h"

int nest__vmx_check_guest_regs(const struct nest__vmx_entry_ctx *c)
{
	const struct nest__vmcs12 *v = c->v;
	const struct nest_vmx_caps *caps = c->caps;
	uint64_t cr0 = v->GUEST_CR0, cr4 = v->GUEST_CR4;
	uint64_t fixed0 = caps->cr0_fixed0;

	/* With unrestricted guest, PE and PG are free (SDM 27.3.1.1, A.7). */
	if (c->ug)
		fixed0 &= ~(X86_CR0_PE | X86_CR0_PG);
	NEST__CHECK(c, (cr0 & fixed0) == fixed0 && (cr0 & ~caps->cr0_fixed1) == 0, GUEST_CR0_FIXED,
		    NEST__F(GUEST_CR0));
	if (cr0 & X86_CR0_PG)
		NEST__CHECK(c, cr0 & X86_CR0_PE, GUEST_CR0_PG_WITHOUT_PE, NEST__F(GUEST_CR0));
	if (cr4 & X86_CR4_CET)
		NEST__CHECK(c, cr0 & X86_CR0_WP, GUEST_CET_WITHOUT_WP, NEST__F(GUEST_CR0));
	NEST__CHECK(c,
		    (cr4 & caps->cr4_fixed0) == caps->cr4_fixed0 && (cr4 & ~caps->cr4_fixed1) == 0,
		    GUEST_CR4_FIXED, NEST__F(GUEST_CR4));
	if (c->entry & VMX_ENTRY_LOAD_DEBUG_CONTROLS)
		NEST__CHECK(c, (v->GUEST_IA32_DEBUGCTL & X86_DEBUGCTL_RESERVED) == 0,
			    GUEST_DEBUGCTL_RESERVED, NEST__F(GUEST_IA32_DEBUGCTL));
	if (c->ia32e_guest)
		NEST__CHECK(c, (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE),
			    GUEST_IA32E_WITHOUT_PG_PAE, NEST__F(GUEST_CR4));
	else
		NEST__CHECK(c, !(cr4 & X86_CR4_PCIDE), GUEST_PCIDE_OUTSIDE_IA32E,
			    NEST__F(GUEST_CR4));
	NEST__CHECK(c, x86_pa_fits(v->GUEST_CR3, c->maxphyaddr), GUEST_CR3_RESERVED,
		    NEST__F(GUEST_CR3));
	if (c->entry & VMX_ENTRY_LOAD_DEBUG_CONTROLS)
		NEST__CHECK(c, (v->GUEST_DR7 & X86_HIGH32) == 0, GUEST_DR7_UPPER,
			    NEST__F(GUEST_DR7));
	NEST__CHECK(c, x86_is_canonical(v->GUEST_SYSENTER_ESP, c->va_bits),
		    GUEST_SYSENTER_CANONICAL, NEST__F(GUEST_SYSENTER_ESP));
	NEST__CHECK(c, x86_is_canonical(v->GUEST_SYSENTER_EIP, c->va_bits),
		    GUEST_SYSENTER_CANONICAL, NEST__F(GUEST_SYSENTER_EIP));
	if (c->entry & VMX_ENTRY_LOAD_CET_STATE) {
		NEST__CHECK(c, nest__s_cet_ok(v->GUEST_S_CET, c->va_bits), GUEST_CET_MSRS,
			    NEST__F(GUEST_S_CET));
		NEST__CHECK(c, x86_is_canonical(v->GUEST_INTR_SSP_TABLE_ADDR, c->va_bits),
			    GUEST_CET_MSRS, NEST__F(GUEST_INTR_SSP_TABLE_ADDR));
		NEST__CHECK(c,
			    (v->GUEST_SSP & X86_SSP_ALIGN_MASK) == 0 &&
				(c->ia32e_guest ? x86_is_canonical(v->GUEST_SSP, c->va_bits)
						: (v->GUEST_SSP & X86_HIGH32) == 0),
			    GUEST_SSP, NEST__F(GUEST_SSP));
	}
	if (c->entry & VMX_ENTRY_LOAD_PERF_GLOBAL_CTRL)
		NEST__CHECK(
		    c, (v->GUEST_IA32_PERF_GLOBAL_CTRL & c->env->perf_global_ctrl_reserved) == 0,
		    GUEST_PERF_GLOBAL_CTRL, NEST__F(GUEST_IA32_PERF_GLOBAL_CTRL));
	if (c->entry & VMX_ENTRY_LOAD_PAT)
		NEST__CHECK(c, nest__x86_pat_valid(v->GUEST_IA32_PAT), GUEST_PAT,
			    NEST__F(GUEST_IA32_PAT));
	if (c->entry & VMX_ENTRY_LOAD_EFER) {
		uint64_t efer = v->GUEST_IA32_EFER;

		NEST__CHECK(c, (efer & ~NEST__EFER_INTEL_VALID) == 0, GUEST_EFER_RESERVED,
			    NEST__F(GUEST_IA32_EFER));
		NEST__CHECK(c, ((efer & X86_EFER_LMA) != 0) == c->ia32e_guest, GUEST_EFER_LMA,
			    NEST__F(GUEST_IA32_EFER));
		if (cr0 & X86_CR0_PG)
			NEST__CHECK(c, ((efer & X86_EFER_LME) != 0) == c->ia32e_guest,
				    GUEST_EFER_LME, NEST__F(GUEST_IA32_EFER));
	}
	if (c->entry & VMX_ENTRY_LOAD_BNDCFGS)
		NEST__CHECK(
		    c,
		    (v->GUEST_IA32_BNDCFGS & X86_BNDCFGS_RESERVED) == 0 &&
			x86_is_canonical(v->GUEST_IA32_BNDCFGS & X86_BNDCFGS_BASE_MASK, c->va_bits),
		    GUEST_BNDCFGS, NEST__F(GUEST_IA32_BNDCFGS));
	if (c->entry & VMX_ENTRY_LOAD_RTIT_CTL)
		NEST__CHECK(c, (v->GUEST_IA32_RTIT_CTL & c->env->rtit_ctl_reserved) == 0,
			    GUEST_RTIT_CTL, NEST__F(GUEST_IA32_RTIT_CTL));
	if (c->entry & VMX_ENTRY_LOAD_PKRS)
		NEST__CHECK(c, (v->GUEST_IA32_PKRS & X86_HIGH32) == 0, GUEST_PKRS,
			    NEST__F(GUEST_IA32_PKRS));
	if (c->entry & VMX_ENTRY_LOAD_UINV)
		NEST__CHECK(c, (v->GUEST_UINV & X86_UINV_RESERVED) == 0, GUEST_UINV,
			    NEST__F(GUEST_UINV));
	if (c->entry & VMX_ENTRY_LOAD_LBR_CTL)
		NEST__CHECK(c, (v->GUEST_IA32_LBR_CTL & c->env->lbr_ctl_reserved) == 0,
			    GUEST_LBR_CTL, NEST__F(GUEST_IA32_LBR_CTL));
	return 0;
}
