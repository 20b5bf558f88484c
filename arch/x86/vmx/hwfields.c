/* SPDX-License-Identifier: MIT */
/*
 * The VMCS fields of the processor under L0. Each field that belongs to a
 * feature exists only when the capability MSRs allow the feature's
 * control to be 1 (Intel SDM Vol. 3D appendix B, per field; A.3-A.5 and
 * A.11 for the MSRs); every other field always exists.
 */
#include "vmx/hwfields.h"

#include "vmx/vmcs12.h"
#include "vmx/vmx_arch.h"

#define ALLOWED1(msr) ((uint32_t)((msr) >> 32))

enum req_kind { REQ_NONE, REQ_PIN, REQ_PROC, REQ_PROC2, REQ_EXIT, REQ_ENTRY, REQ_VMFUNC };

struct req {
	enum req_kind kind;
	uint32_t bits; /* any one of them allowed to be 1 */
};

static struct req requirement(unsigned i)
{
	switch (i) {
	case NEST__VF_VIRTUAL_PROCESSOR_ID:
		return (struct req){REQ_PROC2, NEST_VMX_PROC2_ENABLE_VPID};
	case NEST__VF_POSTED_INTR_NOTIFICATION_VECTOR:
	case NEST__VF_POSTED_INTR_DESC_ADDR:
		return (struct req){REQ_PIN, NEST_VMX_PIN_POSTED_INTR};
	case NEST__VF_EPTP_INDEX:
	case NEST__VF_VE_INFORMATION_ADDRESS:
		return (struct req){REQ_PROC2, NEST_VMX_PROC2_EPT_VIOLATION_VE};
	case NEST__VF_GUEST_INTR_STATUS:
	case NEST__VF_EOI_EXIT_BITMAP0:
	case NEST__VF_EOI_EXIT_BITMAP1:
	case NEST__VF_EOI_EXIT_BITMAP2:
	case NEST__VF_EOI_EXIT_BITMAP3:
		return (struct req){REQ_PROC2, NEST_VMX_PROC2_VIRT_INTR_DELIVERY};
	case NEST__VF_GUEST_PML_INDEX:
	case NEST__VF_PML_ADDRESS:
		return (struct req){REQ_PROC2, NEST_VMX_PROC2_ENABLE_PML};
	case NEST__VF_VIRTUAL_APIC_PAGE_ADDR:
	case NEST__VF_TPR_THRESHOLD:
		return (struct req){REQ_PROC, NEST_VMX_PROC_USE_TPR_SHADOW};
	case NEST__VF_APIC_ACCESS_ADDR:
		return (struct req){REQ_PROC2, NEST_VMX_PROC2_VIRT_APIC_ACCESSES};
	case NEST__VF_VM_FUNCTION_CONTROL:
		return (struct req){REQ_PROC2, NEST_VMX_PROC2_ENABLE_VMFUNC};
	case NEST__VF_EPTP_LIST_ADDRESS:
		return (struct req){REQ_VMFUNC, 1u}; /* EPTP switching */
	case NEST__VF_EPT_POINTER:
	case NEST__VF_GUEST_PHYSICAL_ADDRESS:
	case NEST__VF_GUEST_PDPTE0:
	case NEST__VF_GUEST_PDPTE1:
	case NEST__VF_GUEST_PDPTE2:
	case NEST__VF_GUEST_PDPTE3:
		return (struct req){REQ_PROC2, NEST_VMX_PROC2_ENABLE_EPT};
	case NEST__VF_VMREAD_BITMAP:
	case NEST__VF_VMWRITE_BITMAP:
		return (struct req){REQ_PROC2, NEST_VMX_PROC2_VMCS_SHADOWING};
	case NEST__VF_XSS_EXIT_BITMAP:
		return (struct req){REQ_PROC2, NEST_VMX_PROC2_ENABLE_XSAVES};
	case NEST__VF_ENCLS_EXITING_BITMAP:
		return (struct req){REQ_PROC2, NEST_VMX_PROC2_ENCLS_EXITING};
	case NEST__VF_SUB_PAGE_PERMISSION_TABLE_POINTER:
		return (struct req){REQ_PROC2, NEST_VMX_PROC2_SUBPAGE_WRITE_PERM};
	case NEST__VF_TSC_MULTIPLIER:
		return (struct req){REQ_PROC2, NEST_VMX_PROC2_USE_TSC_SCALING};
	case NEST__VF_ENCLV_EXITING_BITMAP:
		return (struct req){REQ_PROC2, NEST_VMX_PROC2_ENABLE_ENCLV_EXITING};
	case NEST__VF_PCONFIG_EXITING_BITMAP:
		return (struct req){REQ_PROC2, NEST_VMX_PROC2_ENABLE_PCONFIG};
	case NEST__VF_LOW_PASID_DIRECTORY_ADDRESS:
	case NEST__VF_HIGH_PASID_DIRECTORY_ADDRESS:
		return (struct req){REQ_PROC2, NEST_VMX_PROC2_PASID_TRANSLATION};
	case NEST__VF_PLE_GAP:
	case NEST__VF_PLE_WINDOW:
		return (struct req){REQ_PROC2, NEST_VMX_PROC2_PAUSE_LOOP_EXITING};
	case NEST__VF_NOTIFY_WINDOW:
		return (struct req){REQ_PROC2, NEST_VMX_PROC2_NOTIFY_VM_EXITING};
	/* Tertiary controls and what only they enable (HLAT, IPI
	 * virtualization, shared EPT, SPEC_CTRL virtualization). */
	case NEST__VF_TERTIARY_VM_EXEC_CONTROL:
	case NEST__VF_HLAT_PREFIX_SIZE:
	case NEST__VF_LAST_PID_POINTER_INDEX:
	case NEST__VF_SHARED_EPT_POINTER:
	case NEST__VF_HLAT_POINTER:
	case NEST__VF_PID_POINTER_TABLE_ADDRESS:
	case NEST__VF_IA32_SPEC_CTRL_MASK:
	case NEST__VF_IA32_SPEC_CTRL_SHADOW:
		return (struct req){REQ_PROC, NEST_VMX_PROC_ACTIVATE_TERTIARY};
	case NEST__VF_SECONDARY_VM_EXIT_CONTROLS:
		return (struct req){REQ_EXIT, NEST_VMX_EXIT_CTL_ACTIVATE_SECONDARY};
	case NEST__VF_VMX_PREEMPTION_TIMER_VALUE:
		return (struct req){REQ_PIN, NEST_VMX_PIN_PREEMPTION_TIMER};
	case NEST__VF_GUEST_IA32_PAT:
		return (struct req){REQ_ENTRY, NEST_VMX_ENTRY_CTL_LOAD_PAT};
	case NEST__VF_HOST_IA32_PAT:
		return (struct req){REQ_EXIT, NEST_VMX_EXIT_CTL_LOAD_PAT};
	case NEST__VF_GUEST_IA32_EFER:
		return (struct req){REQ_ENTRY, NEST_VMX_ENTRY_CTL_LOAD_EFER};
	case NEST__VF_HOST_IA32_EFER:
		return (struct req){REQ_EXIT, NEST_VMX_EXIT_CTL_LOAD_EFER};
	case NEST__VF_GUEST_IA32_PERF_GLOBAL_CTRL:
		return (struct req){REQ_ENTRY, NEST_VMX_ENTRY_CTL_LOAD_PERF_GLOBAL_CTRL};
	case NEST__VF_HOST_IA32_PERF_GLOBAL_CTRL:
		return (struct req){REQ_EXIT, NEST_VMX_EXIT_CTL_LOAD_PERF_GLOBAL_CTRL};
	case NEST__VF_GUEST_IA32_BNDCFGS:
		return (struct req){REQ_ENTRY, NEST_VMX_ENTRY_CTL_LOAD_BNDCFGS};
	case NEST__VF_GUEST_IA32_RTIT_CTL:
		return (struct req){REQ_ENTRY, NEST_VMX_ENTRY_CTL_LOAD_RTIT_CTL};
	case NEST__VF_GUEST_IA32_LBR_CTL:
		return (struct req){REQ_ENTRY, NEST_VMX_ENTRY_CTL_LOAD_LBR_CTL};
	case NEST__VF_GUEST_UINV:
		return (struct req){REQ_ENTRY, NEST_VMX_ENTRY_CTL_LOAD_UINV};
	case NEST__VF_GUEST_IA32_PKRS:
		return (struct req){REQ_ENTRY, NEST_VMX_ENTRY_CTL_LOAD_PKRS};
	case NEST__VF_HOST_IA32_PKRS:
		return (struct req){REQ_EXIT, NEST_VMX_EXIT_CTL_LOAD_PKRS};
	case NEST__VF_GUEST_S_CET:
	case NEST__VF_GUEST_SSP:
	case NEST__VF_GUEST_INTR_SSP_TABLE_ADDR:
		return (struct req){REQ_ENTRY, NEST_VMX_ENTRY_CTL_LOAD_CET_STATE};
	case NEST__VF_HOST_S_CET:
	case NEST__VF_HOST_SSP:
	case NEST__VF_HOST_INTR_SSP_TABLE_ADDR:
		return (struct req){REQ_EXIT, NEST_VMX_EXIT_CTL_LOAD_CET_STATE};
	default:
		return (struct req){REQ_NONE, 0};
	}
}

bool nest__vmx_hw_field(const struct nest_vmx_caps *h, unsigned i)
{
	struct req r = requirement(i);
	bool secondary = (ALLOWED1(h->procbased) & NEST_VMX_PROC_ACTIVATE_SECONDARY) != 0;

	switch (r.kind) {
	case REQ_PIN:
		return (ALLOWED1(h->pinbased) & r.bits) != 0;
	case REQ_PROC:
		return (ALLOWED1(h->procbased) & r.bits) != 0;
	case REQ_PROC2:
		return secondary && (ALLOWED1(h->procbased2) & r.bits) != 0;
	case REQ_EXIT:
		return (ALLOWED1(h->exit) & r.bits) != 0;
	case REQ_ENTRY:
		return (ALLOWED1(h->entry) & r.bits) != 0;
	case REQ_VMFUNC:
		return secondary && (ALLOWED1(h->procbased2) & NEST_VMX_PROC2_ENABLE_VMFUNC) != 0 &&
		       (h->vmfunc & r.bits) != 0;
	default:
		return true;
	}
}
