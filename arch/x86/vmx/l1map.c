/* SPDX-License-Identifier: MIT */
/*
 * L0 changed its map of L1 memory while L2 runs: the pages of L1's that
 * vmcs02 names by host address, the virtual-APIC page (SDM 30.1) and the
 * APIC-access page (SDM 30.4), are translated again and vmcs02 re-pointed,
 * so that L0 may resume L2 at once. An entry of L1's translates them anyway
 * (entry.c, prepare_pages()). The shadow EPT02 belongs to the VM object:
 * nest_tdp_l1_map_changed(). libnest keeps no other host address of an L1
 * page in vmcs02: the MSR and I/O bitmaps are its own pages, posted
 * interrupts and VMCS shadowing for L2 are not offered to L1, and L1's PML
 * is run by libnest (its log is written through write_l1).
 */
#include <nest/vmx.h>

#include "internal.h"
#include "vmx/context.h"

#define PAGE_4K 4096u

static bool in_range(uint64_t gpa, uint64_t lo, uint64_t hi)
{
	gpa &= ~(uint64_t)(PAGE_4K - 1);
	return gpa + PAGE_4K > lo && gpa < hi;
}

/* vmcs02's @field (and libnest's copy of it) onto the host page of @gpa. */
static int repoint(struct nest_vmx *ctx, uint32_t field, uint64_t gpa, uint64_t *copy)
{
	struct nest_l0_map m;
	int rc = nest__be_l1_to_host(&ctx->be, gpa, &m);

	if (rc != NEST_OK)
		return rc;
	if (m.hpa == *copy)
		return NEST_OK;
	rc = nest__be_vmcs_write(&ctx->be, NEST_VMCS02, field, m.hpa);
	if (rc == NEST_OK)
		*copy = m.hpa;
	return rc;
}

NEST_API int nest_vmx_l1_map_changed(struct nest_vmx *ctx, uint64_t l1_gpa, uint64_t len)
{
	const struct nest__vmcs12 *v;
	struct nest__vmx_nested *n;
	uint64_t hi;
	uint32_t proc2;
	int rc = NEST_OK;

	if (!nest__vmx_ctx_ok(ctx))
		return NEST_E_INVAL;
	n = &ctx->nested;
	if (len == 0 || !n->guest_mode)
		return NEST_OK;
	hi = l1_gpa + len < l1_gpa ? UINT64_MAX : l1_gpa + len;
	v = &ctx->vmcs12;
	proc2 = nest__vmcs12_proc2(v);
	if ((v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_USE_TPR_SHADOW) &&
	    in_range(v->VIRTUAL_APIC_PAGE_ADDR, l1_gpa, hi))
		rc = repoint(ctx, NEST_VMCS_VIRTUAL_APIC_PAGE_ADDR, v->VIRTUAL_APIC_PAGE_ADDR,
			     &n->vmcs02_cache.VIRTUAL_APIC_PAGE_ADDR);
	if (rc == NEST_OK && (proc2 & NEST_VMX_PROC2_VIRT_APIC_ACCESSES) &&
	    in_range(v->APIC_ACCESS_ADDR, l1_gpa, hi))
		rc = repoint(ctx, NEST_VMCS_APIC_ACCESS_ADDR, v->APIC_ACCESS_ADDR,
			     &n->vmcs02_cache.APIC_ACCESS_ADDR);
	return rc;
}
