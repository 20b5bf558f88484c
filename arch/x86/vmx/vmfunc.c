/* SPDX-License-Identifier: MIT */
/*
 * VMFUNC executed by L2. L1 may enable VM functions with EPTP switching
 * (leaf 0, SDM 26.5.6.3): L2 then selects one of up to 512 EPT pointers
 * from L1's EPTP list without an exit. The processor cannot run that list
 * itself, because its entries are EPT12 pointers and L2 runs on libnest's
 * shadow EPT02 (nest/tdp.h). So vmcs02 enables VM functions with all
 * function controls 0: every VMFUNC of L2 exits to L0 (EAX >= 64 still
 * raises #UD in L2 without an exit), and libnest does what the processor
 * would have done for L1's vmcs12:
 *
 *   IF EAX is not enabled in L1's VM-function controls THEN VM exit (to L1)
 *   ELSE (EAX = 0, the only function offered)
 *     IF ECX >= 512 THEN VM exit (to L1)
 *     tent_EPTP := 8 bytes at EPTP-list address + 8 * ECX (read once)
 *     IF tent_EPTP would fail the VM-entry checks of an EPTP (27.2.1.1)
 *       THEN VM exit (to L1)
 *     EPTP field of vmcs12 := tent_EPTP; L2 continues on the shadow of
 *     tent_EPTP; the instruction completes (RIP advances, blocking by STI
 *     or MOV SS ends, a single-step trap is pending if RFLAGS.TF = 1 and
 *     DEBUGCTL.BTF = 0).
 *
 * "EPT-violation #VE" is never offered, so the EPTP-index field is not
 * written. A failed VMFUNC exits with reason 59 and the exit information
 * the processor recorded in vmcs02.
 */
#include "vmx/vmfunc.h"

#include <nest/tdp.h>

#include "cpu/x86.h"
#include "vmx/context.h"
#include "vmx/check.h"
#include "vmx/vmx_arch.h"

#define VMFUNC_EPTP_SWITCHING 0u /* leaf 0 */
#define VMFUNC_LEAVES 64u	 /* EAX >= 64 is #UD, never an exit */
#define EPTP_LIST_ENTRIES 512u	 /* one page of 8-byte EPTPs */
#define EPTP_LIST_ENTRY_BYTES 8u
#define GPR_RAX 0u
#define GPR_RCX 1u
#define LOW32 0xffffffffull

int nest__vmx_vmfunc(struct nest_vmx *ctx, const struct nest__vmx_exit_report *r,
		     const uint64_t *gpr, bool *handled)
{
	struct nest__vmx_nested *n = &ctx->nested;
	struct nest__vmcs12 *v = &ctx->vmcs12;
	uint64_t leaf = gpr[GPR_RAX] & LOW32, index = gpr[GPR_RCX] & LOW32, eptp;
	struct nest_tdp_l1_root root;
	struct nest_tdp_root_info info;
	uint32_t proc2 = nest__vmcs12_proc2(v);
	int rc;

	*handled = false;
	if ((r->reason & NEST_VMX_EXIT_REASON_BASIC_MASK) != NEST_VMX_EXIT_VMFUNC ||
	    !(proc2 & NEST_VMX_PROC2_ENABLE_VMFUNC) || !(proc2 & NEST_VMX_PROC2_ENABLE_EPT) ||
	    n->l0.pub.tdp == NULL)
		return NEST_OK;
	if (leaf >= VMFUNC_LEAVES || !((v->VM_FUNCTION_CONTROL >> leaf) & 1u) ||
	    leaf != VMFUNC_EPTP_SWITCHING || index >= EPTP_LIST_ENTRIES)
		return NEST_OK; /* VM exit to L1 */
	/* Single fetch: memory L0 does not back reads as all ones, which is
	 * no valid EPTP. */
	if (nest__be_read(&ctx->be, v->EPTP_LIST_ADDRESS + index * EPTP_LIST_ENTRY_BYTES, &eptp,
			  sizeof(eptp)) != NEST_OK)
		eptp = UINT64_MAX;
	if (!nest__vmx_eptp_valid(ctx, eptp))
		return NEST_OK; /* VM exit to L1 */

	nest__memset(&root, 0, sizeof(root));
	root.kind = NEST_TDP_EPT;
	root.pointer = eptp;
	root.mbec = (proc2 & NEST_VMX_PROC2_MODE_BASED_EPT_EXEC) != 0;
	rc = nest_tdp_root(n->l0.pub.tdp, &root, &info);
	if (rc != NEST_OK)
		return rc;
	rc = nest__vmx_put02(ctx, NEST_VMCS_EPT_POINTER, info.pointer);
	if (rc == NEST_OK)
		rc = nest__vmx_complete_l2(ctx, r->insn_len);
	if (rc != NEST_OK)
		return rc;
	/* A new or emptied shadow: L2's translations tagged vpid02 may come
	 * from the table it replaced. */
	if (info.created && n->l0.pub.vpid02 != 0)
		nest__be_flush(&ctx->be, NEST_FLUSH_VPID_CONTEXT, n->l0.pub.vpid02, 0);
	n->pages.eptp02 = info.pointer;
	v->EPT_POINTER = eptp;
	*handled = true;
	return NEST_OK;
}
