/* SPDX-License-Identifier: MIT */
/*
 * VMX architectural definitions (Intel SDM Vol. 3C chapters 25-31 and
 * Vol. 3D appendix A): control bits, capability-MSR layouts, exit reasons,
 * VM-instruction error numbers, interruption information, instruction
 * information. Names follow the SDM. Internal to the core; append only.
 */
#ifndef NEST_VMX_ARCH_H
#define NEST_VMX_ARCH_H

#include <stdint.h>

/* Basic exit reasons (exit-reasons.def); VMX_EXIT_CPUID and so on. */
enum vmx_exit_reason {
#define NEST_VMX_EXIT(name, nr) VMX_EXIT_##name = nr,
#include "vmx/exit-reasons.def"
#undef NEST_VMX_EXIT
	VMX_EXIT_REASON_MAX_ = 78
};
/* Exit-reason field bits above the basic reason (SDM 28.2.1). */
#define VMX_EXIT_REASON_BASIC_MASK 0xffffu
#define VMX_EXIT_REASON_BUS_LOCK_DETECTED (1u << 26)
#define VMX_EXIT_REASON_ENCLAVE_MODE (1u << 27)
#define VMX_EXIT_REASON_PENDING_MTF (1u << 28)
#define VMX_EXIT_REASON_FROM_ROOT (1u << 29)
#define VMX_EXIT_REASON_ENTRY_FAILURE (1u << 31)

/* VM-instruction error numbers (SDM 31.4). */
enum vmx_insn_error {
	VMXERR_VMCALL_IN_ROOT = 1,
	VMXERR_VMCLEAR_INVALID_ADDRESS = 2,
	VMXERR_VMCLEAR_VMXON_POINTER = 3,
	VMXERR_VMLAUNCH_NONCLEAR_VMCS = 4,
	VMXERR_VMRESUME_NONLAUNCHED_VMCS = 5,
	VMXERR_VMRESUME_AFTER_VMXOFF = 6,
	VMXERR_ENTRY_INVALID_CONTROL_FIELD = 7,
	VMXERR_ENTRY_INVALID_HOST_STATE_FIELD = 8,
	VMXERR_VMPTRLD_INVALID_ADDRESS = 9,
	VMXERR_VMPTRLD_VMXON_POINTER = 10,
	VMXERR_VMPTRLD_INCORRECT_REVISION = 11,
	VMXERR_UNSUPPORTED_VMCS_COMPONENT = 12,
	VMXERR_VMWRITE_READ_ONLY_COMPONENT = 13,
	VMXERR_VMXON_IN_ROOT = 15,
	VMXERR_ENTRY_INVALID_EXECUTIVE_VMCS = 16,
	VMXERR_ENTRY_NONLAUNCHED_EXECUTIVE_VMCS = 17,
	VMXERR_ENTRY_EXECUTIVE_VMCS_NOT_VMXON = 18,
	VMXERR_VMCALL_NONCLEAR_VMCS = 19,
	VMXERR_VMCALL_INVALID_EXIT_CONTROLS = 20,
	VMXERR_VMCALL_INCORRECT_MSEG_REVISION = 22,
	VMXERR_VMXOFF_DUAL_MONITOR = 23,
	VMXERR_VMCALL_INVALID_SMM_FEATURES = 24,
	VMXERR_ENTRY_INVALID_EXECUTION_CONTROLS_EXECUTIVE = 25,
	VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS = 26,
	VMXERR_INVALID_OPERAND_INVEPT_INVVPID = 28
};

/* Pin-based VM-execution controls (SDM 25.6.1). */
#define VMX_PIN_EXT_INTR_EXITING (1u << 0)
#define VMX_PIN_NMI_EXITING (1u << 3)
#define VMX_PIN_VIRTUAL_NMIS (1u << 5)
#define VMX_PIN_PREEMPTION_TIMER (1u << 6)
#define VMX_PIN_POSTED_INTR (1u << 7)

/* Primary processor-based VM-execution controls (SDM 25.6.2). */
#define VMX_PROC_INTR_WINDOW_EXITING (1u << 2)
#define VMX_PROC_USE_TSC_OFFSETTING (1u << 3)
#define VMX_PROC_HLT_EXITING (1u << 7)
#define VMX_PROC_INVLPG_EXITING (1u << 9)
#define VMX_PROC_MWAIT_EXITING (1u << 10)
#define VMX_PROC_RDPMC_EXITING (1u << 11)
#define VMX_PROC_RDTSC_EXITING (1u << 12)
#define VMX_PROC_CR3_LOAD_EXITING (1u << 15)
#define VMX_PROC_CR3_STORE_EXITING (1u << 16)
#define VMX_PROC_ACTIVATE_TERTIARY (1u << 17)
#define VMX_PROC_CR8_LOAD_EXITING (1u << 19)
#define VMX_PROC_CR8_STORE_EXITING (1u << 20)
#define VMX_PROC_USE_TPR_SHADOW (1u << 21)
#define VMX_PROC_NMI_WINDOW_EXITING (1u << 22)
#define VMX_PROC_MOV_DR_EXITING (1u << 23)
#define VMX_PROC_UNCOND_IO_EXITING (1u << 24)
#define VMX_PROC_USE_IO_BITMAPS (1u << 25)
#define VMX_PROC_MONITOR_TRAP_FLAG (1u << 27)
#define VMX_PROC_USE_MSR_BITMAPS (1u << 28)
#define VMX_PROC_MONITOR_EXITING (1u << 29)
#define VMX_PROC_PAUSE_EXITING (1u << 30)
#define VMX_PROC_ACTIVATE_SECONDARY (1u << 31)

/* Secondary processor-based VM-execution controls (SDM 25.6.2). */
#define VMX_PROC2_VIRT_APIC_ACCESSES (1u << 0)
#define VMX_PROC2_ENABLE_EPT (1u << 1)
#define VMX_PROC2_DESC_TABLE_EXITING (1u << 2)
#define VMX_PROC2_ENABLE_RDTSCP (1u << 3)
#define VMX_PROC2_VIRT_X2APIC_MODE (1u << 4)
#define VMX_PROC2_ENABLE_VPID (1u << 5)
#define VMX_PROC2_WBINVD_EXITING (1u << 6)
#define VMX_PROC2_UNRESTRICTED_GUEST (1u << 7)
#define VMX_PROC2_APIC_REGISTER_VIRT (1u << 8)
#define VMX_PROC2_VIRT_INTR_DELIVERY (1u << 9)
#define VMX_PROC2_PAUSE_LOOP_EXITING (1u << 10)
#define VMX_PROC2_RDRAND_EXITING (1u << 11)
#define VMX_PROC2_ENABLE_INVPCID (1u << 12)
#define VMX_PROC2_ENABLE_VMFUNC (1u << 13)
#define VMX_PROC2_VMCS_SHADOWING (1u << 14)
#define VMX_PROC2_ENCLS_EXITING (1u << 15)
#define VMX_PROC2_RDSEED_EXITING (1u << 16)
#define VMX_PROC2_ENABLE_PML (1u << 17)
#define VMX_PROC2_EPT_VIOLATION_VE (1u << 18)
#define VMX_PROC2_CONCEAL_VMX_FROM_PT (1u << 19)
#define VMX_PROC2_ENABLE_XSAVES (1u << 20)
#define VMX_PROC2_PASID_TRANSLATION (1u << 21)
#define VMX_PROC2_MODE_BASED_EPT_EXEC (1u << 22)
#define VMX_PROC2_SUBPAGE_WRITE_PERM (1u << 23)
#define VMX_PROC2_PT_USE_GPA (1u << 24)
#define VMX_PROC2_USE_TSC_SCALING (1u << 25)
#define VMX_PROC2_ENABLE_USER_WAIT_PAUSE (1u << 26)
#define VMX_PROC2_ENABLE_PCONFIG (1u << 27)
#define VMX_PROC2_ENABLE_ENCLV_EXITING (1u << 28)
#define VMX_PROC2_BUS_LOCK_DETECTION (1u << 30)
#define VMX_PROC2_NOTIFY_VM_EXITING (1u << 31)

/* Primary VM-exit controls (SDM 25.7.1). */
#define VMX_EXIT_SAVE_DEBUG_CONTROLS (1u << 2)
#define VMX_EXIT_HOST_ADDR_SPACE_SIZE (1u << 9)
#define VMX_EXIT_LOAD_PERF_GLOBAL_CTRL (1u << 12)
#define VMX_EXIT_ACK_INTR_ON_EXIT (1u << 15)
#define VMX_EXIT_SAVE_PAT (1u << 18)
#define VMX_EXIT_LOAD_PAT (1u << 19)
#define VMX_EXIT_SAVE_EFER (1u << 20)
#define VMX_EXIT_LOAD_EFER (1u << 21)
#define VMX_EXIT_SAVE_PREEMPTION_TIMER (1u << 22)
#define VMX_EXIT_CLEAR_BNDCFGS (1u << 23)
#define VMX_EXIT_CONCEAL_VMX_FROM_PT (1u << 24)
#define VMX_EXIT_CLEAR_RTIT_CTL (1u << 25)
#define VMX_EXIT_CLEAR_LBR_CTL (1u << 26)
#define VMX_EXIT_CLEAR_UINV (1u << 27)
#define VMX_EXIT_LOAD_CET_STATE (1u << 28)
#define VMX_EXIT_LOAD_PKRS (1u << 29)
#define VMX_EXIT_SAVE_PERF_GLOBAL_CTL (1u << 30)
#define VMX_EXIT_ACTIVATE_SECONDARY (1u << 31)

/* VM-entry controls (SDM 25.8.1). */
#define VMX_ENTRY_LOAD_DEBUG_CONTROLS (1u << 2)
#define VMX_ENTRY_IA32E_MODE_GUEST (1u << 9)
#define VMX_ENTRY_ENTRY_TO_SMM (1u << 10)
#define VMX_ENTRY_DEACT_DUAL_MONITOR (1u << 11)
#define VMX_ENTRY_LOAD_PERF_GLOBAL_CTRL (1u << 13)
#define VMX_ENTRY_LOAD_PAT (1u << 14)
#define VMX_ENTRY_LOAD_EFER (1u << 15)
#define VMX_ENTRY_LOAD_BNDCFGS (1u << 16)
#define VMX_ENTRY_CONCEAL_VMX_FROM_PT (1u << 17)
#define VMX_ENTRY_LOAD_RTIT_CTL (1u << 18)
#define VMX_ENTRY_LOAD_UINV (1u << 19)
#define VMX_ENTRY_LOAD_CET_STATE (1u << 20)
#define VMX_ENTRY_LOAD_LBR_CTL (1u << 21)
#define VMX_ENTRY_LOAD_PKRS (1u << 22)

/* Controls that are "default1" in the non-TRUE capability MSRs (SDM A.2). */
#define VMX_PIN_DEFAULT1 0x00000016u
#define VMX_PROC_DEFAULT1 0x0401e172u
#define VMX_EXIT_DEFAULT1 0x00036dffu
#define VMX_ENTRY_DEFAULT1 0x000011ffu

/* IA32_VMX_BASIC (SDM A.1). */
#define VMX_BASIC_REVISION_MASK 0x7fffffffull
#define VMX_BASIC_VMCS_SIZE_SHIFT 32
#define VMX_BASIC_VMCS_SIZE_MASK (0x1fffull << 32)
#define VMX_BASIC_32BIT_PHYS_ADDR_ONLY (1ull << 48)
#define VMX_BASIC_DUAL_MONITOR (1ull << 49)
#define VMX_BASIC_MEMTYPE_SHIFT 50
#define VMX_BASIC_MEMTYPE_MASK (0xfull << 50)
#define VMX_BASIC_MEMTYPE_WB 6ull
#define VMX_BASIC_INOUT (1ull << 54)
#define VMX_BASIC_TRUE_CTLS (1ull << 55)
#define VMX_BASIC_NO_HW_ERRCODE_CHECK (1ull << 56)

/* IA32_VMX_MISC (SDM A.6). */
#define VMX_MISC_PREEMPTION_TIMER_RATE_MASK 0x1full
#define VMX_MISC_SAVE_EFER_LMA (1ull << 5)
#define VMX_MISC_ACTIVITY_HLT (1ull << 6)
#define VMX_MISC_ACTIVITY_SHUTDOWN (1ull << 7)
#define VMX_MISC_ACTIVITY_WAIT_SIPI (1ull << 8)
#define VMX_MISC_INTEL_PT (1ull << 14)
#define VMX_MISC_RDMSR_IN_SMM (1ull << 15)
#define VMX_MISC_CR3_TARGET_COUNT_SHIFT 16
#define VMX_MISC_CR3_TARGET_COUNT_MASK (0x1ffull << 16)
#define VMX_MISC_MAX_MSR_LIST_SHIFT 25
#define VMX_MISC_MAX_MSR_LIST_MASK (0x7ull << 25)
#define VMX_MISC_SMM_MONITOR_CTL_BIT2 (1ull << 28)
#define VMX_MISC_VMWRITE_ANY_FIELD (1ull << 29)
#define VMX_MISC_ZERO_LEN_INJECTION (1ull << 30)
#define VMX_MISC_MSEG_REVISION_SHIFT 32

/* IA32_VMX_EPT_VPID_CAP (SDM A.10). */
#define VMX_EPT_CAP_EXECUTE_ONLY (1ull << 0)
#define VMX_EPT_CAP_PWL4 (1ull << 6)
#define VMX_EPT_CAP_PWL5 (1ull << 7)
#define VMX_EPT_CAP_MEMTYPE_UC (1ull << 8)
#define VMX_EPT_CAP_MEMTYPE_WB (1ull << 14)
#define VMX_EPT_CAP_2MB_PAGES (1ull << 16)
#define VMX_EPT_CAP_1GB_PAGES (1ull << 17)
#define VMX_EPT_CAP_INVEPT (1ull << 20)
#define VMX_EPT_CAP_AD_FLAGS (1ull << 21)
#define VMX_EPT_CAP_ADVANCED_EXIT_INFO (1ull << 22)
#define VMX_EPT_CAP_SUPERVISOR_SHADOW_STACK (1ull << 23)
#define VMX_EPT_CAP_INVEPT_SINGLE (1ull << 25)
#define VMX_EPT_CAP_INVEPT_ALL (1ull << 26)
#define VMX_VPID_CAP_INVVPID (1ull << 32)
#define VMX_VPID_CAP_INVVPID_ADDR (1ull << 40)
#define VMX_VPID_CAP_INVVPID_SINGLE (1ull << 41)
#define VMX_VPID_CAP_INVVPID_ALL (1ull << 42)
#define VMX_VPID_CAP_INVVPID_SINGLE_NONGLOBAL (1ull << 43)

/* EPTP (SDM 25.6.11). */
#define VMX_EPTP_MEMTYPE_MASK 0x7ull
#define VMX_EPTP_MEMTYPE_UC 0ull
#define VMX_EPTP_MEMTYPE_WB 6ull
#define VMX_EPTP_PWL_MASK (0x7ull << 3) /* page-walk length minus 1 */
#define VMX_EPTP_PWL_4 (3ull << 3)
#define VMX_EPTP_PWL_5 (4ull << 3)
#define VMX_EPTP_AD_ENABLE (1ull << 6)
#define VMX_EPTP_SSS_ENABLE (1ull << 7)
#define VMX_EPTP_RESERVED_LOW (0xf00ull)

/* VM-entry/exit interruption information (SDM 25.8.3, 28.2.2). */
#define VMX_INTR_INFO_VECTOR_MASK 0xffu
#define VMX_INTR_INFO_TYPE_SHIFT 8
#define VMX_INTR_INFO_TYPE_MASK (7u << 8)
#define VMX_INTR_INFO_DELIVER_ERROR_CODE (1u << 11)
#define VMX_INTR_INFO_NMI_UNBLOCKING_IRET (1u << 12)
#define VMX_INTR_INFO_RESERVED_MASK 0x7ffff000u /* bits 30:12 for entry */
#define VMX_INTR_INFO_VALID (1u << 31)
#define VMX_INTR_TYPE_EXT_INTR 0u
#define VMX_INTR_TYPE_NMI 2u
#define VMX_INTR_TYPE_HW_EXCEPTION 3u
#define VMX_INTR_TYPE_SOFT_INTR 4u
#define VMX_INTR_TYPE_PRIV_SW_EXCEPTION 5u
#define VMX_INTR_TYPE_SOFT_EXCEPTION 6u
#define VMX_INTR_TYPE_OTHER_EVENT 7u

/* Guest interruptibility state (SDM 25.4.2). */
#define VMX_INTERRUPTIBILITY_STI (1u << 0)
#define VMX_INTERRUPTIBILITY_MOV_SS (1u << 1)
#define VMX_INTERRUPTIBILITY_SMI (1u << 2)
#define VMX_INTERRUPTIBILITY_NMI (1u << 3)
#define VMX_INTERRUPTIBILITY_ENCLAVE (1u << 4)
#define VMX_INTERRUPTIBILITY_RESERVED_MASK 0xffffffe0u

/* Guest activity state (SDM 25.4.2). */
#define VMX_ACTIVITY_ACTIVE 0u
#define VMX_ACTIVITY_HLT 1u
#define VMX_ACTIVITY_SHUTDOWN 2u
#define VMX_ACTIVITY_WAIT_SIPI 3u

/* VM-exit instruction-information field for VMX instructions and
 * INVEPT/INVVPID/INVPCID (SDM 28.2.5, table 28-13/28-14). */
#define VMX_INSN_INFO_SCALE(i) ((i) & 3u)
#define VMX_INSN_INFO_REG1(i) (((i) >> 3) & 0xfu) /* VMREAD/VMWRITE: register operand */
#define VMX_INSN_INFO_ADDR_SIZE(i) (((i) >> 7) & 7u) /* 0: 16, 1: 32, 2: 64 */
#define VMX_INSN_INFO_MEM_REG(i) (((i) >> 10) & 1u)   /* 1: register operand */
#define VMX_INSN_INFO_SEG(i) (((i) >> 15) & 7u)       /* ES CS SS DS FS GS */
#define VMX_INSN_INFO_INDEX(i) (((i) >> 18) & 0xfu)
#define VMX_INSN_INFO_INDEX_INVALID(i) (((i) >> 22) & 1u)
#define VMX_INSN_INFO_BASE(i) (((i) >> 23) & 0xfu)
#define VMX_INSN_INFO_BASE_INVALID(i) (((i) >> 27) & 1u)
#define VMX_INSN_INFO_REG2(i) (((i) >> 28) & 0xfu)

/* Segment register numbers used in instruction information. */
#define VMX_SEG_ES 0u
#define VMX_SEG_CS 1u
#define VMX_SEG_SS 2u
#define VMX_SEG_DS 3u
#define VMX_SEG_FS 4u
#define VMX_SEG_GS 5u

/* Exit qualification for VM-entry failures (SDM 27.8). */
#define VMX_ENTRY_FAIL_QUAL_DEFAULT 0u
#define VMX_ENTRY_FAIL_QUAL_PDPTE 2u
#define VMX_ENTRY_FAIL_QUAL_NMI_INJECT 3u
#define VMX_ENTRY_FAIL_QUAL_LINK_POINTER 4u

/* VMX-abort indicators (SDM 28.7). */
#define VMX_ABORT_SAVE_GUEST_MSR 1u
#define VMX_ABORT_HOST_PDPTE 2u
#define VMX_ABORT_VMCS_CORRUPT 3u
#define VMX_ABORT_LOAD_HOST_MSR 4u
#define VMX_ABORT_MCE_DURING_EXIT 5u
#define VMX_ABORT_HOST_NOT_64BIT 6u

#endif /* NEST_VMX_ARCH_H */
