/* SPDX-License-Identifier: MIT */
/*
 * VM-entry checks on the host-state area (Intel SDM Vol. 3C 27.2.2 -
 * 27.2.4; 26.2.2 - 26.2.4 in editions before 2023). A failure is
 * VMfailValid with error 8. The checks follow the SDM's bullets in order.
 */
#include "vmx/check.h"

/* Bits FIXED0 requires set and FIXED1 requires clear (SDM A.7, A.8). */
static bool fixed_ok(uint64_t val, uint64_t fixed0, uint64_t fixed1)
{
	return (val & fixed0) == fixed0 && (val & ~fixed1) == 0;
}

/* IA32_S_CET as loaded on VM entry or exit (SDM 27.2.2, 27.3.1.1). */
/* SDM 27.2.2: host control registers and MSRs. */
static int check_host_regs(const struct nest__vmx_entry_ctx *c)
{
	const struct nest__vmcs12 *v = c->v;
	const struct nest_vmx_caps *caps = c->caps;

	NEST__CHECK(c, fixed_ok(v->HOST_CR0, caps->cr0_fixed0, caps->cr0_fixed1), HOST_CR0_FIXED,
		    NEST__F(HOST_CR0));
	NEST__CHECK(c, fixed_ok(v->HOST_CR4, caps->cr4_fixed0, caps->cr4_fixed1), HOST_CR4_FIXED,
		    NEST__F(HOST_CR4));
	if (v->HOST_CR4 & X86_CR4_CET)
		NEST__CHECK(c, v->HOST_CR0 & X86_CR0_WP, HOST_CET_WITHOUT_WP, NEST__F(HOST_CR4));
	NEST__CHECK(c, x86_pa_fits(v->HOST_CR3, c->maxphyaddr), HOST_CR3_RESERVED,
		    NEST__F(HOST_CR3));
	NEST__CHECK(c, x86_is_canonical(v->HOST_IA32_SYSENTER_ESP, c->va_bits),
		    HOST_SYSENTER_CANONICAL, NEST__F(HOST_IA32_SYSENTER_ESP));
	NEST__CHECK(c, x86_is_canonical(v->HOST_IA32_SYSENTER_EIP, c->va_bits),
		    HOST_SYSENTER_CANONICAL, NEST__F(HOST_IA32_SYSENTER_EIP));
	if (c->exit & NEST_VMX_EXIT_CTL_LOAD_CET_STATE) {
		NEST__CHECK(c, nest__s_cet_ok(v->HOST_S_CET, c->va_bits), HOST_CET_MSRS,
			    NEST__F(HOST_S_CET));
		NEST__CHECK(c, x86_is_canonical(v->HOST_INTR_SSP_TABLE_ADDR, c->va_bits),
			    HOST_CET_MSRS, NEST__F(HOST_INTR_SSP_TABLE_ADDR));
		NEST__CHECK(c, (v->HOST_SSP & X86_SSP_ALIGN_MASK) == 0, HOST_SSP_ALIGNMENT,
			    NEST__F(HOST_SSP));
	}
	if (c->exit & NEST_VMX_EXIT_CTL_LOAD_PERF_GLOBAL_CTRL)
		NEST__CHECK(
		    c, (v->HOST_IA32_PERF_GLOBAL_CTRL & c->env->perf_global_ctrl_reserved) == 0,
		    HOST_PERF_GLOBAL_CTRL, NEST__F(HOST_IA32_PERF_GLOBAL_CTRL));
	if (c->exit & NEST_VMX_EXIT_CTL_LOAD_PAT)
		NEST__CHECK(c, nest__x86_pat_valid(v->HOST_IA32_PAT), HOST_PAT,
			    NEST__F(HOST_IA32_PAT));
	if (c->exit & NEST_VMX_EXIT_CTL_LOAD_EFER) {
		bool lma = (v->HOST_IA32_EFER & X86_EFER_LMA) != 0;
		bool lme = (v->HOST_IA32_EFER & X86_EFER_LME) != 0;

		NEST__CHECK(c, (v->HOST_IA32_EFER & ~NEST__EFER_INTEL_VALID) == 0,
			    HOST_EFER_RESERVED, NEST__F(HOST_IA32_EFER));
		NEST__CHECK(c, lma == c->host64 && lme == c->host64, HOST_EFER_LMA_LME,
			    NEST__F(HOST_IA32_EFER));
	}
	if (c->exit & NEST_VMX_EXIT_CTL_LOAD_PKRS)
		NEST__CHECK(c, (v->HOST_IA32_PKRS & X86_HIGH32) == 0, HOST_PKRS,
			    NEST__F(HOST_IA32_PKRS));
	return 0;
}

/* SDM 27.2.3: host segment and descriptor-table registers. */
static int check_host_segs(const struct nest__vmx_entry_ctx *c)
{
	const struct nest__vmcs12 *v = c->v;
	static const uint32_t sel_fields[] = {
	    NEST__F(HOST_ES_SELECTOR), NEST__F(HOST_CS_SELECTOR), NEST__F(HOST_SS_SELECTOR),
	    NEST__F(HOST_DS_SELECTOR), NEST__F(HOST_FS_SELECTOR), NEST__F(HOST_GS_SELECTOR),
	    NEST__F(HOST_TR_SELECTOR),
	};
	static const uint32_t base_fields[] = {
	    NEST__F(HOST_FS_BASE),   NEST__F(HOST_GS_BASE), NEST__F(HOST_GDTR_BASE),
	    NEST__F(HOST_IDTR_BASE), NEST__F(HOST_TR_BASE),
	};
	/* The values in the order of the two lists above. */
	const uint16_t sel[] = {v->HOST_ES_SELECTOR, v->HOST_CS_SELECTOR, v->HOST_SS_SELECTOR,
				v->HOST_DS_SELECTOR, v->HOST_FS_SELECTOR, v->HOST_GS_SELECTOR,
				v->HOST_TR_SELECTOR};
	const uint64_t base[] = {v->HOST_FS_BASE, v->HOST_GS_BASE, v->HOST_GDTR_BASE,
				 v->HOST_IDTR_BASE, v->HOST_TR_BASE};
	size_t i;

	_Static_assert(NEST_ARRAY_SIZE(sel) == NEST_ARRAY_SIZE(sel_fields) &&
			   NEST_ARRAY_SIZE(base) == NEST_ARRAY_SIZE(base_fields),
		       "one value per field");
	for (i = 0; i < NEST_ARRAY_SIZE(sel_fields); i++)
		NEST__CHECK(c, (sel[i] & (VMX_SELECTOR_RPL_MASK | VMX_SELECTOR_TI)) == 0,
			    HOST_SELECTOR_RPL_TI, sel_fields[i]);
	NEST__CHECK(c, v->HOST_CS_SELECTOR != 0, HOST_CS_NULL, NEST__F(HOST_CS_SELECTOR));
	NEST__CHECK(c, v->HOST_TR_SELECTOR != 0, HOST_TR_NULL, NEST__F(HOST_TR_SELECTOR));
	if (!c->host64)
		NEST__CHECK(c, v->HOST_SS_SELECTOR != 0, HOST_SS_NULL, NEST__F(HOST_SS_SELECTOR));
	for (i = 0; i < NEST_ARRAY_SIZE(base_fields); i++)
		NEST__CHECK(c, x86_is_canonical(base[i], c->va_bits), HOST_BASE_CANONICAL,
			    base_fields[i]);
	return 0;
}

/* SDM 27.2.4: checks related to address-space size. */
static int check_host_addr_size(const struct nest__vmx_entry_ctx *c)
{
	const struct nest__vmcs12 *v = c->v;

	if (!c->env->l1_ia32e)
		NEST__CHECK(c, !c->host64 && !c->ia32e_guest, HOST_ADDR_SPACE_OUTSIDE_IA32E,
			    NEST__F(VM_EXIT_CONTROLS));
	else
		NEST__CHECK(c, c->host64, HOST_ADDR_SPACE_REQUIRED, NEST__F(VM_EXIT_CONTROLS));
	/* The SDM's next bullet also requires "IA-32e mode guest" = 0 without
	 * host address-space size; the two bullets above already imply it. */
	if (!c->host64) {
		NEST__CHECK(c, !(v->HOST_CR4 & X86_CR4_PCIDE), HOST_PCIDE_WITHOUT_64BIT_HOST,
			    NEST__F(HOST_CR4));
		NEST__CHECK(c, (v->HOST_RIP & X86_HIGH32) == 0, HOST_RIP_UPPER, NEST__F(HOST_RIP));
		if (c->exit & NEST_VMX_EXIT_CTL_LOAD_CET_STATE)
			NEST__CHECK(c, (v->HOST_SSP & X86_HIGH32) == 0, HOST_SSP,
				    NEST__F(HOST_SSP));
	} else {
		NEST__CHECK(c, v->HOST_CR4 & X86_CR4_PAE, HOST_PAE_REQUIRED, NEST__F(HOST_CR4));
		/* Canonical relative to the host's own paging depth. */
		NEST__CHECK(c,
			    x86_is_canonical(v->HOST_RIP,
					     (v->HOST_CR4 & X86_CR4_LA57) ? X86_LA57 : X86_LA48),
			    HOST_RIP_CANONICAL, NEST__F(HOST_RIP));
		if (c->exit & NEST_VMX_EXIT_CTL_LOAD_CET_STATE)
			NEST__CHECK(c, x86_is_canonical(v->HOST_SSP, c->va_bits), HOST_SSP,
				    NEST__F(HOST_SSP));
	}
	return 0;
}

int nest__vmx_check_host(const struct nest__vmx_entry_ctx *c)
{
	int r;

	if ((r = check_host_regs(c)) != 0)
		return r;
	if ((r = check_host_segs(c)) != 0)
		return r;
	return check_host_addr_size(c);
}
