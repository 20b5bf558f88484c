/* SPDX-License-Identifier: MIT */
/*
 * VM-entry checks on the guest non-register state and the PDPTEs (Intel
 * SDM Vol. 3C 27.3.1.5 - 27.3.1.6; 26.3.1.5 - 26.3.1.6 in editions before
 * 2023). A failure is a VM-entry failure with exit reason 33; the exit
 * qualification is 3 (NMI with blocking by STI), 4 (VMCS link pointer) or
 * 2 (PDPTEs) where SDM 27.8 says so, 0 otherwise.
 */
#include "vmx/check.h"

struct event {
	bool valid;
	uint32_t type, vector;
};

static struct event injected(const struct nest__vmcs12 *v)
{
	uint32_t info = v->VM_ENTRY_INTR_INFO_FIELD;
	struct event e;

	e.valid = (info & VMX_INTR_INFO_VALID) != 0;
	e.type = (info & VMX_INTR_INFO_TYPE_MASK) >> VMX_INTR_INFO_TYPE_SHIFT;
	e.vector = info & VMX_INTR_INFO_VECTOR_MASK;
	return e;
}

/* May `e` be injected in activity state `act` (SDM 27.3.1.5)? */
static bool event_allowed(uint32_t act, const struct event *e)
{
	bool nmi = e->type == VMX_INTR_TYPE_NMI;
	bool mc = e->type == VMX_INTR_TYPE_HW_EXCEPTION && e->vector == X86_EXC_MC;

	switch (act) {
	case VMX_ACTIVITY_HLT:
		return e->type == VMX_INTR_TYPE_EXT_INTR || nmi || mc ||
		       (e->type == VMX_INTR_TYPE_HW_EXCEPTION && e->vector == X86_EXC_DB) ||
		       (e->type == VMX_INTR_TYPE_OTHER_EVENT && e->vector == 0);
	case VMX_ACTIVITY_SHUTDOWN:
		return nmi || mc;
	case VMX_ACTIVITY_WAIT_SIPI:
		return false;
	default:
		return true;
	}
}

/* Activity state. */
static int check_activity(const struct nest__vmx_entry_ctx *c, const struct event *e)
{
	const struct nest__vmcs12 *v = c->v;
	uint32_t act = v->GUEST_ACTIVITY_STATE, intr = v->GUEST_INTERRUPTIBILITY_INFO;
	uint64_t misc = c->caps->misc;
	bool supported = act == VMX_ACTIVITY_ACTIVE ||
			 (act == VMX_ACTIVITY_HLT && (misc & VMX_MISC_ACTIVITY_HLT)) ||
			 (act == VMX_ACTIVITY_SHUTDOWN && (misc & VMX_MISC_ACTIVITY_SHUTDOWN)) ||
			 (act == VMX_ACTIVITY_WAIT_SIPI && (misc & VMX_MISC_ACTIVITY_WAIT_SIPI));

	NEST__CHECK(c, supported, GUEST_ACTIVITY_UNSUPPORTED, NEST__F(GUEST_ACTIVITY_STATE));
	if (act == VMX_ACTIVITY_HLT)
		NEST__CHECK(c, (v->GUEST_SS_AR_BYTES & X86_SEG_DPL_MASK) == 0,
			    GUEST_ACTIVITY_HLT_SS_DPL, NEST__F(GUEST_ACTIVITY_STATE));
	if (intr & (VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS))
		NEST__CHECK(c, act == VMX_ACTIVITY_ACTIVE, GUEST_ACTIVITY_BLOCKING,
			    NEST__F(GUEST_ACTIVITY_STATE));
	if (e->valid)
		NEST__CHECK(c, event_allowed(act, e), GUEST_ACTIVITY_INJECTION,
			    NEST__F(GUEST_ACTIVITY_STATE));
	return 0;
}

/* Interruptibility state. */
static int check_interruptibility(const struct nest__vmx_entry_ctx *c, const struct event *e)
{
	const struct nest__vmcs12 *v = c->v;
	uint32_t intr = v->GUEST_INTERRUPTIBILITY_INFO;
	const uint32_t f = NEST__F(GUEST_INTERRUPTIBILITY_INFO);
	bool sti = intr & VMX_INTERRUPTIBILITY_STI, movss = intr & VMX_INTERRUPTIBILITY_MOV_SS;
	bool nmi = e->valid && e->type == VMX_INTR_TYPE_NMI;
	/* SGX is offered when ENCLS exiting may be set (SDM 25.6.2). */
	bool sgx = ((c->caps->procbased2 >> VMX_CAP_ALLOWED1_SHIFT) & VMX_PROC2_ENCLS_EXITING) != 0;

	NEST__CHECK(c, (intr & VMX_INTERRUPTIBILITY_RESERVED_MASK) == 0, GUEST_INTR_RESERVED, f);
	NEST__CHECK(c, !(sti && movss), GUEST_INTR_STI_AND_MOV_SS, f);
	if (!(v->GUEST_RFLAGS & X86_RFLAGS_IF))
		NEST__CHECK(c, !sti, GUEST_INTR_STI_WITHOUT_IF, f);
	if (e->valid && e->type == VMX_INTR_TYPE_EXT_INTR)
		NEST__CHECK(c, !sti && !movss, GUEST_INTR_EXT_INT_BLOCKED, f);
	if (nmi) {
		NEST__CHECK(c, !movss, GUEST_INTR_NMI_MOV_SS, f);
		/* Implementation-specific (SDM 27.3.1.5, 27.8 qualification 3). */
		NEST__CHECK(c, !sti, GUEST_INTR_NMI_STI, f);
	}
	/* L1 never runs in SMM under libnest. */
	NEST__CHECK(c, !(intr & VMX_INTERRUPTIBILITY_SMI), GUEST_INTR_SMI, f);
	if (nmi && (c->pin & VMX_PIN_VIRTUAL_NMIS))
		NEST__CHECK(c, !(intr & VMX_INTERRUPTIBILITY_NMI), GUEST_INTR_VIRTUAL_NMI_BLOCKED,
			    f);
	if (intr & VMX_INTERRUPTIBILITY_ENCLAVE)
		NEST__CHECK(c, sgx && !movss, GUEST_INTR_ENCLAVE, f);
	return 0;
}

/* Pending debug exceptions. */
static int check_pending_dbg(const struct nest__vmx_entry_ctx *c)
{
	const struct nest__vmcs12 *v = c->v;
	uint64_t pde = v->GUEST_PENDING_DBG_EXCEPTIONS;
	const uint32_t f = NEST__F(GUEST_PENDING_DBG_EXCEPTIONS);
	bool tf = (v->GUEST_RFLAGS & X86_RFLAGS_TF) != 0;
	bool btf = (v->GUEST_IA32_DEBUGCTL & X86_DEBUGCTL_BTF) != 0;

	/* RTM (bit 16) is not offered to L1, so bit 16 is reserved too. */
	NEST__CHECK(c, (pde & ~VMX_PENDING_DBG_VALID) == 0, GUEST_PENDING_DBG_RESERVED, f);
	if ((v->GUEST_INTERRUPTIBILITY_INFO &
	     (VMX_INTERRUPTIBILITY_STI | VMX_INTERRUPTIBILITY_MOV_SS)) ||
	    v->GUEST_ACTIVITY_STATE == VMX_ACTIVITY_HLT) {
		if (tf && !btf)
			NEST__CHECK(c, pde & VMX_PENDING_DBG_BS, GUEST_PENDING_DBG_BS_SET, f);
		else
			NEST__CHECK(c, !(pde & VMX_PENDING_DBG_BS), GUEST_PENDING_DBG_BS_CLEAR, f);
	}
	return 0;
}

/* VMCS link pointer. */
static int check_link_pointer(const struct nest__vmx_entry_ctx *c)
{
	const struct nest__vmcs12 *v = c->v;
	uint64_t link = v->VMCS_LINK_POINTER;
	const uint32_t f = NEST__F(VMCS_LINK_POINTER);
	uint32_t hdr = c->env->link_header;
	bool shadowing = (c->proc2 & VMX_PROC2_VMCS_SHADOWING) != 0;

	if (link == VMX_VMCS_LINK_NONE)
		return 0;
	NEST__CHECK(c, (link & NEST__PAGE_MASK) == 0, GUEST_LINK_ALIGNMENT, f);
	NEST__CHECK(c, x86_pa_fits(link, c->maxphyaddr), GUEST_LINK_WIDTH, f);
	if (c->env->link_fetched) {
		NEST__CHECK(c,
			    (hdr & VMX_REVISION_MASK) ==
				(uint32_t)(c->caps->basic & VMX_BASIC_REVISION_MASK),
			    GUEST_LINK_REVISION, f);
		NEST__CHECK(c, ((hdr & NEST_VMCS12_SHADOW_INDICATOR) != 0) == shadowing,
			    GUEST_LINK_SHADOW, f);
	}
	return 0;
}

/* SDM 27.3.1.6: with PAE paging outside IA-32e mode, the PDPTEs: from
 * L1 memory at CR3 without EPT (env), from the guest-state fields with. */
static int check_pdptes(const struct nest__vmx_entry_ctx *c)
{
	const struct nest__vmcs12 *v = c->v;
	static const uint32_t fields[4] = {NEST__F(GUEST_PDPTE0), NEST__F(GUEST_PDPTE1),
					   NEST__F(GUEST_PDPTE2), NEST__F(GUEST_PDPTE3)};
	uint64_t pdpte[4] = {v->GUEST_PDPTE0, v->GUEST_PDPTE1, v->GUEST_PDPTE2, v->GUEST_PDPTE3};
	uint64_t reserved = VMX_PDPTE_RESERVED | x86_pa_reserved_mask(c->maxphyaddr);
	unsigned i;

	if (!(v->GUEST_CR0 & X86_CR0_PG) || !(v->GUEST_CR4 & X86_CR4_PAE) || c->ia32e_guest)
		return 0;
	if (!(c->proc2 & VMX_PROC2_ENABLE_EPT) && c->env->pdptes_fetched)
		for (i = 0; i < 4; i++)
			pdpte[i] = c->env->pdpte[i];
	for (i = 0; i < 4; i++)
		if (pdpte[i] & VMX_PDPTE_P)
			NEST__CHECK(c, (pdpte[i] & reserved) == 0, GUEST_PDPTE_RESERVED, fields[i]);
	return 0;
}

int nest__vmx_check_guest_misc(const struct nest__vmx_entry_ctx *c)
{
	struct event e = injected(c->v);
	int r;

	if ((r = check_activity(c, &e)) != 0)
		return r;
	if ((r = check_interruptibility(c, &e)) != 0)
		return r;
	if ((r = check_pending_dbg(c)) != 0)
		return r;
	if ((r = check_link_pointer(c)) != 0)
		return r;
	return check_pdptes(c);
}
