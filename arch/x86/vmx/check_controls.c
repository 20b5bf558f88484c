/* SPDX-License-Identifier: MIT */
/*
 * VM-entry checks on the VMX controls (Intel SDM Vol. 3C 27.2.1; 26.2.1
 * in editions before 2023). A failure is VMfailValid with error 7.
 * The checks follow the SDM's bullets one by one, in its order.
 */
#include "vmx/check.h"

/* Reserved-bit settings of a control group: the TRUE capability MSR when
 * IA32_VMX_BASIC[55] says it exists (SDM A.3.1, A.3.2, A.4.1, A.5.1). */
static uint64_t ctl_cap(const struct nest_vmx_caps *caps, uint64_t plain, uint64_t truecap)
{
	return (caps->basic & VMX_BASIC_TRUE_CTLS) ? truecap : plain;
}

/* An area of `count` 16-byte entries: 16-byte aligned, last byte within
 * the physical-address width (SDM 27.2.1.2, 27.2.1.3). */
static bool msr_area_ok(uint64_t addr, uint32_t count, unsigned maxphyaddr)
{
	uint64_t last;

	if (count == 0)
		return true;
	if (addr & VMX_MSR_AREA_ALIGN)
		return false;
	last = addr + (uint64_t)count * VMX_MSR_ENTRY_SIZE - 1;
	return last >= addr && x86_pa_fits(last, maxphyaddr);
}

/* SDM 27.2.1.1: VM-execution control fields. */
static int check_execution(const struct nest__vmx_entry_ctx *c)
{
	const struct nest__vmcs12 *v = c->v;
	const struct nest_vmx_caps *caps = c->caps;
	const unsigned w = c->maxphyaddr;
	uint32_t pin = c->pin, proc = c->proc, proc2 = c->proc2;

	NEST__CHECK(c, nest__vmx_ctl_ok(pin, ctl_cap(caps, caps->pinbased, caps->true_pinbased)),
		    CTL_PIN_RESERVED, NEST__F(PIN_BASED_VM_EXEC_CONTROL));
	NEST__CHECK(c, nest__vmx_ctl_ok(proc, ctl_cap(caps, caps->procbased, caps->true_procbased)),
		    CTL_PROC_RESERVED, NEST__F(CPU_BASED_VM_EXEC_CONTROL));
	if (proc & VMX_PROC_ACTIVATE_SECONDARY)
		NEST__CHECK(c, nest__vmx_ctl_ok(proc2, caps->procbased2), CTL_PROC2_RESERVED,
			    NEST__F(SECONDARY_VM_EXEC_CONTROL));
	/* IA32_VMX_PROCBASED_CTLS3 is a 64-bit allowed-1 mask (SDM A.3.4). */
	if (proc & VMX_PROC_ACTIVATE_TERTIARY)
		NEST__CHECK(c, (c->proc3 & ~caps->procbased3) == 0, CTL_PROC3_RESERVED,
			    NEST__F(TERTIARY_VM_EXEC_CONTROL));
	NEST__CHECK(c,
		    v->CR3_TARGET_COUNT <= VMX_CR3_TARGET_MAX &&
			v->CR3_TARGET_COUNT <= ((caps->misc & VMX_MISC_CR3_TARGET_COUNT_MASK) >>
						VMX_MISC_CR3_TARGET_COUNT_SHIFT),
		    CTL_CR3_TARGET_COUNT, NEST__F(CR3_TARGET_COUNT));
	if (proc & VMX_PROC_USE_IO_BITMAPS) {
		NEST__CHECK(c, nest__vmx_page_addr_ok(v->IO_BITMAP_A, w), CTL_IO_BITMAP_A,
			    NEST__F(IO_BITMAP_A));
		NEST__CHECK(c, nest__vmx_page_addr_ok(v->IO_BITMAP_B, w), CTL_IO_BITMAP_B,
			    NEST__F(IO_BITMAP_B));
	}
	if (proc & VMX_PROC_USE_MSR_BITMAPS)
		NEST__CHECK(c, nest__vmx_page_addr_ok(v->MSR_BITMAP, w), CTL_MSR_BITMAP,
			    NEST__F(MSR_BITMAP));
	if (proc & VMX_PROC_USE_TPR_SHADOW) {
		NEST__CHECK(c, nest__vmx_page_addr_ok(v->VIRTUAL_APIC_PAGE_ADDR, w),
			    CTL_VIRTUAL_APIC_PAGE, NEST__F(VIRTUAL_APIC_PAGE_ADDR));
		if (!(proc2 & VMX_PROC2_VIRT_INTR_DELIVERY)) {
			NEST__CHECK(c, (v->TPR_THRESHOLD & VMX_TPR_THRESHOLD_RESERVED) == 0,
				    CTL_TPR_THRESHOLD_RESERVED, NEST__F(TPR_THRESHOLD));
			/* Needs VTPR from the virtual-APIC page (L1 memory). */
			if (!(proc2 & VMX_PROC2_VIRT_APIC_ACCESSES) && c->env->vtpr_fetched)
				NEST__CHECK(c,
					    (v->TPR_THRESHOLD & VMX_TPR_THRESHOLD_MASK) <=
						(uint32_t)(c->env->vtpr >> VMX_VTPR_PRIORITY_SHIFT),
					    CTL_TPR_THRESHOLD_VTPR, NEST__F(TPR_THRESHOLD));
		}
	} else {
		NEST__CHECK(c,
			    (proc2 & (VMX_PROC2_VIRT_X2APIC_MODE | VMX_PROC2_APIC_REGISTER_VIRT |
				      VMX_PROC2_VIRT_INTR_DELIVERY)) == 0,
			    CTL_TPR_SHADOW_REQUIRED, NEST__F(SECONDARY_VM_EXEC_CONTROL));
	}
	if (!(pin & VMX_PIN_NMI_EXITING))
		NEST__CHECK(c, !(pin & VMX_PIN_VIRTUAL_NMIS), CTL_VIRTUAL_NMIS_WITHOUT_NMI_EXITING,
			    NEST__F(PIN_BASED_VM_EXEC_CONTROL));
	if (!(pin & VMX_PIN_VIRTUAL_NMIS))
		NEST__CHECK(c, !(proc & VMX_PROC_NMI_WINDOW_EXITING),
			    CTL_NMI_WINDOW_WITHOUT_VIRTUAL_NMIS,
			    NEST__F(CPU_BASED_VM_EXEC_CONTROL));
	if (proc2 & VMX_PROC2_VIRT_APIC_ACCESSES)
		NEST__CHECK(c, nest__vmx_page_addr_ok(v->APIC_ACCESS_ADDR, w), CTL_APIC_ACCESS_ADDR,
			    NEST__F(APIC_ACCESS_ADDR));
	if (proc2 & VMX_PROC2_VIRT_X2APIC_MODE)
		NEST__CHECK(c, !(proc2 & VMX_PROC2_VIRT_APIC_ACCESSES), CTL_X2APIC_WITH_APIC_ACCESS,
			    NEST__F(SECONDARY_VM_EXEC_CONTROL));
	if (proc2 & VMX_PROC2_VIRT_INTR_DELIVERY)
		NEST__CHECK(c, pin & VMX_PIN_EXT_INTR_EXITING, CTL_VID_WITHOUT_EXT_INTR_EXITING,
			    NEST__F(PIN_BASED_VM_EXEC_CONTROL));
	if (pin & VMX_PIN_POSTED_INTR) {
		NEST__CHECK(c, proc2 & VMX_PROC2_VIRT_INTR_DELIVERY, CTL_POSTED_INTR_WITHOUT_VID,
			    NEST__F(SECONDARY_VM_EXEC_CONTROL));
		NEST__CHECK(c, c->exit & VMX_EXIT_ACK_INTR_ON_EXIT, CTL_POSTED_INTR_WITHOUT_ACK,
			    NEST__F(VM_EXIT_CONTROLS));
		NEST__CHECK(
		    c, (v->POSTED_INTR_NOTIFICATION_VECTOR & VMX_POSTED_INTR_VECTOR_RESERVED) == 0,
		    CTL_POSTED_INTR_VECTOR, NEST__F(POSTED_INTR_NOTIFICATION_VECTOR));
		NEST__CHECK(c,
			    (v->POSTED_INTR_DESC_ADDR & VMX_POSTED_INTR_DESC_ALIGN) == 0 &&
				x86_pa_fits(v->POSTED_INTR_DESC_ADDR, w),
			    CTL_POSTED_INTR_DESC, NEST__F(POSTED_INTR_DESC_ADDR));
	}
	if (proc2 & VMX_PROC2_ENABLE_VPID)
		NEST__CHECK(c, v->VIRTUAL_PROCESSOR_ID != 0, CTL_VPID_ZERO,
			    NEST__F(VIRTUAL_PROCESSOR_ID));
	if (proc2 & VMX_PROC2_ENABLE_EPT) {
		uint64_t eptp = v->EPT_POINTER, mt = eptp & VMX_EPTP_MEMTYPE_MASK;
		uint64_t pwl = eptp & VMX_EPTP_PWL_MASK;

		/* SDM 27.2.1.1 and 25.6.11, bullet by bullet. */
		NEST__CHECK(
		    c,
		    (mt == VMX_EPTP_MEMTYPE_UC && (caps->ept_vpid & VMX_EPT_CAP_MEMTYPE_UC)) ||
			(mt == VMX_EPTP_MEMTYPE_WB && (caps->ept_vpid & VMX_EPT_CAP_MEMTYPE_WB)),
		    CTL_EPTP_MEMTYPE, NEST__F(EPT_POINTER));
		NEST__CHECK(c,
			    (pwl == VMX_EPTP_PWL_4 && (caps->ept_vpid & VMX_EPT_CAP_PWL4)) ||
				(pwl == VMX_EPTP_PWL_5 && (caps->ept_vpid & VMX_EPT_CAP_PWL5)),
			    CTL_EPTP_WALK_LENGTH, NEST__F(EPT_POINTER));
		NEST__CHECK(c,
			    !(eptp & VMX_EPTP_AD_ENABLE) || (caps->ept_vpid & VMX_EPT_CAP_AD_FLAGS),
			    CTL_EPTP_AD, NEST__F(EPT_POINTER));
		NEST__CHECK(c,
			    !(eptp & VMX_EPTP_SSS_ENABLE) ||
				(caps->ept_vpid & VMX_EPT_CAP_SUPERVISOR_SHADOW_STACK),
			    CTL_EPTP_SSS, NEST__F(EPT_POINTER));
		NEST__CHECK(
		    c, (eptp & VMX_EPTP_RESERVED_LOW) == 0 && (eptp & x86_pa_reserved_mask(w)) == 0,
		    CTL_EPTP_RESERVED, NEST__F(EPT_POINTER));
	}
	if (proc2 & VMX_PROC2_ENABLE_PML) {
		NEST__CHECK(c, proc2 & VMX_PROC2_ENABLE_EPT, CTL_PML_WITHOUT_EPT,
			    NEST__F(SECONDARY_VM_EXEC_CONTROL));
		NEST__CHECK(c, nest__vmx_page_addr_ok(v->PML_ADDRESS, w), CTL_PML_ADDRESS,
			    NEST__F(PML_ADDRESS));
	}
	if (proc2 & VMX_PROC2_UNRESTRICTED_GUEST)
		NEST__CHECK(c, proc2 & VMX_PROC2_ENABLE_EPT, CTL_UNRESTRICTED_WITHOUT_EPT,
			    NEST__F(SECONDARY_VM_EXEC_CONTROL));
	if (proc2 & VMX_PROC2_MODE_BASED_EPT_EXEC)
		NEST__CHECK(c, proc2 & VMX_PROC2_ENABLE_EPT, CTL_MBEC_WITHOUT_EPT,
			    NEST__F(SECONDARY_VM_EXEC_CONTROL));
	if (proc2 & VMX_PROC2_SUBPAGE_WRITE_PERM)
		NEST__CHECK(c, proc2 & VMX_PROC2_ENABLE_EPT, CTL_SPP_WITHOUT_EPT,
			    NEST__F(SECONDARY_VM_EXEC_CONTROL));
	if (proc2 & VMX_PROC2_ENABLE_VMFUNC) {
		/* IA32_VMX_VMFUNC is an allowed-1 mask (SDM A.11). */
		NEST__CHECK(c, (v->VM_FUNCTION_CONTROL & ~caps->vmfunc) == 0, CTL_VMFUNC_RESERVED,
			    NEST__F(VM_FUNCTION_CONTROL));
		if (v->VM_FUNCTION_CONTROL & VMX_VMFUNC_EPTP_SWITCHING) {
			NEST__CHECK(c, proc2 & VMX_PROC2_ENABLE_EPT, CTL_EPTP_SWITCHING_WITHOUT_EPT,
				    NEST__F(SECONDARY_VM_EXEC_CONTROL));
			NEST__CHECK(c, nest__vmx_page_addr_ok(v->EPTP_LIST_ADDRESS, w),
				    CTL_EPTP_LIST_ADDRESS, NEST__F(EPTP_LIST_ADDRESS));
		}
	}
	if (proc2 & VMX_PROC2_VMCS_SHADOWING) {
		NEST__CHECK(c, nest__vmx_page_addr_ok(v->VMREAD_BITMAP, w), CTL_VMREAD_BITMAP,
			    NEST__F(VMREAD_BITMAP));
		NEST__CHECK(c, nest__vmx_page_addr_ok(v->VMWRITE_BITMAP, w), CTL_VMWRITE_BITMAP,
			    NEST__F(VMWRITE_BITMAP));
	}
	if (proc2 & VMX_PROC2_EPT_VIOLATION_VE)
		NEST__CHECK(c, nest__vmx_page_addr_ok(v->VE_INFORMATION_ADDRESS, w),
			    CTL_VE_INFO_ADDRESS, NEST__F(VE_INFORMATION_ADDRESS));
	if (proc2 & VMX_PROC2_PT_USE_GPA)
		NEST__CHECK(c,
			    (proc2 & VMX_PROC2_ENABLE_EPT) &&
				(c->entry & VMX_ENTRY_LOAD_RTIT_CTL) &&
				(c->exit & VMX_EXIT_CLEAR_RTIT_CTL),
			    CTL_PT_GPA_REQUIREMENTS, NEST__F(SECONDARY_VM_EXEC_CONTROL));
	return 0;
}

/* SDM 27.2.1.2: VM-exit control fields. */
static int check_exit(const struct nest__vmx_entry_ctx *c)
{
	const struct nest__vmcs12 *v = c->v;
	const struct nest_vmx_caps *caps = c->caps;

	NEST__CHECK(c, nest__vmx_ctl_ok(c->exit, ctl_cap(caps, caps->exit, caps->true_exit)),
		    CTL_EXIT_RESERVED, NEST__F(VM_EXIT_CONTROLS));
	/* IA32_VMX_EXIT_CTLS2 is a 64-bit allowed-1 mask (SDM A.4.2). */
	if (c->exit & VMX_EXIT_ACTIVATE_SECONDARY)
		NEST__CHECK(c, (c->exit2 & ~caps->exit2) == 0, CTL_EXIT2_RESERVED,
			    NEST__F(SECONDARY_VM_EXIT_CONTROLS));
	if (!(c->pin & VMX_PIN_PREEMPTION_TIMER))
		NEST__CHECK(c, !(c->exit & VMX_EXIT_SAVE_PREEMPTION_TIMER),
			    CTL_SAVE_PREEMPTION_TIMER, NEST__F(VM_EXIT_CONTROLS));
	NEST__CHECK(
	    c, msr_area_ok(v->VM_EXIT_MSR_STORE_ADDR, v->VM_EXIT_MSR_STORE_COUNT, c->maxphyaddr),
	    CTL_EXIT_MSR_STORE_ADDR, NEST__F(VM_EXIT_MSR_STORE_ADDR));
	NEST__CHECK(c,
		    msr_area_ok(v->VM_EXIT_MSR_LOAD_ADDR, v->VM_EXIT_MSR_LOAD_COUNT, c->maxphyaddr),
		    CTL_EXIT_MSR_LOAD_ADDR, NEST__F(VM_EXIT_MSR_LOAD_ADDR));
	return 0;
}

/* SDM 27.2.1.3: VM-entry control fields, event injection first. */
static int check_entry(const struct nest__vmx_entry_ctx *c)
{
	const struct nest__vmcs12 *v = c->v;
	const struct nest_vmx_caps *caps = c->caps;
	uint32_t info = v->VM_ENTRY_INTR_INFO_FIELD;

	NEST__CHECK(c, nest__vmx_ctl_ok(c->entry, ctl_cap(caps, caps->entry, caps->true_entry)),
		    CTL_ENTRY_RESERVED, NEST__F(VM_ENTRY_CONTROLS));
	if (info & VMX_INTR_INFO_VALID) {
		uint32_t type = (info & VMX_INTR_INFO_TYPE_MASK) >> VMX_INTR_INFO_TYPE_SHIFT;
		uint32_t vec = info & VMX_INTR_INFO_VECTOR_MASK;
		bool deliver = (info & VMX_INTR_INFO_DELIVER_ERROR_CODE) != 0;
		bool pe_ok = !c->ug || (v->GUEST_CR0 & X86_CR0_PE);
		bool mtf = (ctl_cap(caps, caps->procbased, caps->true_procbased) >>
			    VMX_CAP_ALLOWED1_SHIFT) &
			   VMX_PROC_MONITOR_TRAP_FLAG;
		bool want;

		/* Type 1 is reserved; type 7 needs the 1-setting of MTF. */
		NEST__CHECK(
		    c, type != VMX_INTR_TYPE_RESERVED && (type != VMX_INTR_TYPE_OTHER_EVENT || mtf),
		    CTL_EVENT_TYPE_RESERVED, NEST__F(VM_ENTRY_INTR_INFO_FIELD));
		if (type == VMX_INTR_TYPE_NMI)
			NEST__CHECK(c, vec == X86_EXC_NMI, CTL_EVENT_NMI_VECTOR,
				    NEST__F(VM_ENTRY_INTR_INFO_FIELD));
		if (type == VMX_INTR_TYPE_HW_EXCEPTION)
			NEST__CHECK(c, vec <= X86_EXC_LAST, CTL_EVENT_EXCEPTION_VECTOR,
				    NEST__F(VM_ENTRY_INTR_INFO_FIELD));
		if (type == VMX_INTR_TYPE_OTHER_EVENT)
			NEST__CHECK(c, vec == 0, CTL_EVENT_OTHER_VECTOR,
				    NEST__F(VM_ENTRY_INTR_INFO_FIELD));
		/* Deliver-error-code iff (1) no unrestricted guest or CR0.PE,
		 * (2) hardware exception, (3) a vector that pushes an error code;
		 * IA32_VMX_BASIC[56] lifts (3) (SDM A.1). */
		want = pe_ok && type == VMX_INTR_TYPE_HW_EXCEPTION &&
		       ((caps->basic & VMX_BASIC_NO_HW_ERRCODE_CHECK) ||
			((X86_EXC_HAS_ERROR_CODE >> vec) & 1u));
		if (caps->basic & VMX_BASIC_NO_HW_ERRCODE_CHECK)
			NEST__CHECK(c, !deliver || want, CTL_EVENT_DELIVER_ERROR_CODE,
				    NEST__F(VM_ENTRY_INTR_INFO_FIELD));
		else
			NEST__CHECK(c, deliver == want, CTL_EVENT_DELIVER_ERROR_CODE,
				    NEST__F(VM_ENTRY_INTR_INFO_FIELD));
		NEST__CHECK(c, (info & VMX_INTR_INFO_RESERVED_MASK) == 0, CTL_EVENT_RESERVED,
			    NEST__F(VM_ENTRY_INTR_INFO_FIELD));
		if (deliver)
			NEST__CHECK(
			    c,
			    (v->VM_ENTRY_EXCEPTION_ERROR_CODE & VMX_ENTRY_ERROR_CODE_RESERVED) == 0,
			    CTL_EVENT_ERROR_CODE_RESERVED, NEST__F(VM_ENTRY_EXCEPTION_ERROR_CODE));
		if (type == VMX_INTR_TYPE_SOFT_INTR || type == VMX_INTR_TYPE_PRIV_SW_EXCEPTION ||
		    type == VMX_INTR_TYPE_SOFT_EXCEPTION) {
			uint32_t len = v->VM_ENTRY_INSTRUCTION_LEN;
			bool zero_ok = (caps->misc & VMX_MISC_ZERO_LEN_INJECTION) != 0;

			NEST__CHECK(c, len <= VMX_ENTRY_INSN_LEN_MAX && (len != 0 || zero_ok),
				    CTL_EVENT_INSTRUCTION_LENGTH,
				    NEST__F(VM_ENTRY_INSTRUCTION_LEN));
		}
	}
	NEST__CHECK(
	    c, msr_area_ok(v->VM_ENTRY_MSR_LOAD_ADDR, v->VM_ENTRY_MSR_LOAD_COUNT, c->maxphyaddr),
	    CTL_ENTRY_MSR_LOAD_ADDR, NEST__F(VM_ENTRY_MSR_LOAD_ADDR));
	/* L1 never runs in SMM under libnest (SDM 27.2.1.3, 34.15.1). */
	NEST__CHECK(c, !(c->entry & (VMX_ENTRY_ENTRY_TO_SMM | VMX_ENTRY_DEACT_DUAL_MONITOR)),
		    CTL_ENTRY_SMM_OUTSIDE_SMM, NEST__F(VM_ENTRY_CONTROLS));
	return 0;
}

int nest__vmx_check_controls(const struct nest__vmx_entry_ctx *c)
{
	int r;

	if ((r = check_execution(c)) != 0)
		return r;
	if ((r = check_exit(c)) != 0)
		return r;
	return check_entry(c);
}
