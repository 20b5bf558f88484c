/* SPDX-License-Identifier: MIT */
/**
 * @file vmx-arch.h
 * @brief VMX architectural constants an L0 needs beside libnest: basic
 *        exit reasons, the exit-reason bits, the VM-execution, VM-exit and
 *        VM-entry control bits, interruption information, interruptibility
 *        and activity states (Intel SDM Vol. 3C chapters 25-28, Vol. 3D
 *        appendix C). Names follow the SDM; values are those libnest itself
 *        uses. Append only.
 */
#ifndef NEST_VMX_ARCH_H_PUBLIC
#define NEST_VMX_ARCH_H_PUBLIC

#ifdef __cplusplus
extern "C" {
#endif

/** Basic exit reasons: NEST_VMX_EXIT_<NAME> (see vmx-exit-reasons.def). */
enum nest_vmx_exit_reason {
/// @cond INTERNAL
#define NEST_VMX_EXIT(name, nr) NEST_VMX_EXIT_##name = nr,
#include "vmx-exit-reasons.def"
#undef NEST_VMX_EXIT
	/// @endcond
	NEST_VMX_EXIT_REASON_COUNT = 78 ///< one more than the highest basic exit reason
};

/* Exit-reason field bits above the basic reason (SDM 28.2.1). */
#define NEST_VMX_EXIT_REASON_BASIC_MASK 0xffffu
#define NEST_VMX_EXIT_REASON_BUS_LOCK_DETECTED (1u << 26)
#define NEST_VMX_EXIT_REASON_ENCLAVE_MODE (1u << 27)
#define NEST_VMX_EXIT_REASON_PENDING_MTF (1u << 28)
#define NEST_VMX_EXIT_REASON_FROM_ROOT (1u << 29)
#define NEST_VMX_EXIT_REASON_ENTRY_FAILURE (1u << 31)

/* Pin-based VM-execution controls (SDM 25.6.1). */
#define NEST_VMX_PIN_EXT_INTR_EXITING (1u << 0)
#define NEST_VMX_PIN_NMI_EXITING (1u << 3)
#define NEST_VMX_PIN_VIRTUAL_NMIS (1u << 5)
#define NEST_VMX_PIN_PREEMPTION_TIMER (1u << 6)
#define NEST_VMX_PIN_POSTED_INTR (1u << 7)

/* Primary processor-based VM-execution controls (SDM 25.6.2). */
#define NEST_VMX_PROC_INTR_WINDOW_EXITING (1u << 2)
#define NEST_VMX_PROC_USE_TSC_OFFSETTING (1u << 3)
#define NEST_VMX_PROC_HLT_EXITING (1u << 7)
#define NEST_VMX_PROC_INVLPG_EXITING (1u << 9)
#define NEST_VMX_PROC_MWAIT_EXITING (1u << 10)
#define NEST_VMX_PROC_RDPMC_EXITING (1u << 11)
#define NEST_VMX_PROC_RDTSC_EXITING (1u << 12)
#define NEST_VMX_PROC_CR3_LOAD_EXITING (1u << 15)
#define NEST_VMX_PROC_CR3_STORE_EXITING (1u << 16)
#define NEST_VMX_PROC_ACTIVATE_TERTIARY (1u << 17)
#define NEST_VMX_PROC_CR8_LOAD_EXITING (1u << 19)
#define NEST_VMX_PROC_CR8_STORE_EXITING (1u << 20)
#define NEST_VMX_PROC_USE_TPR_SHADOW (1u << 21)
#define NEST_VMX_PROC_NMI_WINDOW_EXITING (1u << 22)
#define NEST_VMX_PROC_MOV_DR_EXITING (1u << 23)
#define NEST_VMX_PROC_UNCOND_IO_EXITING (1u << 24)
#define NEST_VMX_PROC_USE_IO_BITMAPS (1u << 25)
#define NEST_VMX_PROC_MONITOR_TRAP_FLAG (1u << 27)
#define NEST_VMX_PROC_USE_MSR_BITMAPS (1u << 28)
#define NEST_VMX_PROC_MONITOR_EXITING (1u << 29)
#define NEST_VMX_PROC_PAUSE_EXITING (1u << 30)
#define NEST_VMX_PROC_ACTIVATE_SECONDARY (1u << 31)

/* Secondary processor-based VM-execution controls (SDM 25.6.2). */
#define NEST_VMX_PROC2_VIRT_APIC_ACCESSES (1u << 0)
#define NEST_VMX_PROC2_ENABLE_EPT (1u << 1)
#define NEST_VMX_PROC2_DESC_TABLE_EXITING (1u << 2)
#define NEST_VMX_PROC2_ENABLE_RDTSCP (1u << 3)
#define NEST_VMX_PROC2_VIRT_X2APIC_MODE (1u << 4)
#define NEST_VMX_PROC2_ENABLE_VPID (1u << 5)
#define NEST_VMX_PROC2_WBINVD_EXITING (1u << 6)
#define NEST_VMX_PROC2_UNRESTRICTED_GUEST (1u << 7)
#define NEST_VMX_PROC2_APIC_REGISTER_VIRT (1u << 8)
#define NEST_VMX_PROC2_VIRT_INTR_DELIVERY (1u << 9)
#define NEST_VMX_PROC2_PAUSE_LOOP_EXITING (1u << 10)
#define NEST_VMX_PROC2_RDRAND_EXITING (1u << 11)
#define NEST_VMX_PROC2_ENABLE_INVPCID (1u << 12)
#define NEST_VMX_PROC2_ENABLE_VMFUNC (1u << 13)
#define NEST_VMX_PROC2_VMCS_SHADOWING (1u << 14)
#define NEST_VMX_PROC2_ENCLS_EXITING (1u << 15)
#define NEST_VMX_PROC2_RDSEED_EXITING (1u << 16)
#define NEST_VMX_PROC2_ENABLE_PML (1u << 17)
#define NEST_VMX_PROC2_EPT_VIOLATION_VE (1u << 18)
#define NEST_VMX_PROC2_CONCEAL_VMX_FROM_PT (1u << 19)
#define NEST_VMX_PROC2_ENABLE_XSAVES (1u << 20)
#define NEST_VMX_PROC2_PASID_TRANSLATION (1u << 21)
#define NEST_VMX_PROC2_MODE_BASED_EPT_EXEC (1u << 22)
#define NEST_VMX_PROC2_SUBPAGE_WRITE_PERM (1u << 23)
#define NEST_VMX_PROC2_PT_USE_GPA (1u << 24)
#define NEST_VMX_PROC2_USE_TSC_SCALING (1u << 25)
#define NEST_VMX_PROC2_ENABLE_USER_WAIT_PAUSE (1u << 26)
#define NEST_VMX_PROC2_ENABLE_PCONFIG (1u << 27)
#define NEST_VMX_PROC2_ENABLE_ENCLV_EXITING (1u << 28)
#define NEST_VMX_PROC2_BUS_LOCK_DETECTION (1u << 30)
#define NEST_VMX_PROC2_NOTIFY_VM_EXITING (1u << 31)

/* Primary VM-exit controls (SDM 25.7.1). */
#define NEST_VMX_EXIT_CTL_SAVE_DEBUG_CONTROLS (1u << 2)
#define NEST_VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE (1u << 9)
#define NEST_VMX_EXIT_CTL_LOAD_PERF_GLOBAL_CTRL (1u << 12)
#define NEST_VMX_EXIT_CTL_ACK_INTR_ON_EXIT (1u << 15)
#define NEST_VMX_EXIT_CTL_SAVE_PAT (1u << 18)
#define NEST_VMX_EXIT_CTL_LOAD_PAT (1u << 19)
#define NEST_VMX_EXIT_CTL_SAVE_EFER (1u << 20)
#define NEST_VMX_EXIT_CTL_LOAD_EFER (1u << 21)
#define NEST_VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER (1u << 22)
#define NEST_VMX_EXIT_CTL_CLEAR_BNDCFGS (1u << 23)
#define NEST_VMX_EXIT_CTL_CONCEAL_VMX_FROM_PT (1u << 24)
#define NEST_VMX_EXIT_CTL_CLEAR_RTIT_CTL (1u << 25)
#define NEST_VMX_EXIT_CTL_CLEAR_LBR_CTL (1u << 26)
#define NEST_VMX_EXIT_CTL_CLEAR_UINV (1u << 27)
#define NEST_VMX_EXIT_CTL_LOAD_CET_STATE (1u << 28)
#define NEST_VMX_EXIT_CTL_LOAD_PKRS (1u << 29)
#define NEST_VMX_EXIT_CTL_SAVE_PERF_GLOBAL_CTL (1u << 30)
#define NEST_VMX_EXIT_CTL_ACTIVATE_SECONDARY (1u << 31)

/* VM-entry controls (SDM 25.8.1). */
#define NEST_VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS (1u << 2)
#define NEST_VMX_ENTRY_CTL_IA32E_MODE_GUEST (1u << 9)
#define NEST_VMX_ENTRY_CTL_ENTRY_TO_SMM (1u << 10)
#define NEST_VMX_ENTRY_CTL_DEACT_DUAL_MONITOR (1u << 11)
#define NEST_VMX_ENTRY_CTL_LOAD_PERF_GLOBAL_CTRL (1u << 13)
#define NEST_VMX_ENTRY_CTL_LOAD_PAT (1u << 14)
#define NEST_VMX_ENTRY_CTL_LOAD_EFER (1u << 15)
#define NEST_VMX_ENTRY_CTL_LOAD_BNDCFGS (1u << 16)
#define NEST_VMX_ENTRY_CTL_CONCEAL_VMX_FROM_PT (1u << 17)
#define NEST_VMX_ENTRY_CTL_LOAD_RTIT_CTL (1u << 18)
#define NEST_VMX_ENTRY_CTL_LOAD_UINV (1u << 19)
#define NEST_VMX_ENTRY_CTL_LOAD_CET_STATE (1u << 20)
#define NEST_VMX_ENTRY_CTL_LOAD_LBR_CTL (1u << 21)
#define NEST_VMX_ENTRY_CTL_LOAD_PKRS (1u << 22)

/* Controls that are "default1" in the non-TRUE capability MSRs (SDM A.2). */
#define NEST_VMX_PIN_DEFAULT1 0x00000016u
#define NEST_VMX_PROC_DEFAULT1 0x0401e172u
#define NEST_VMX_EXIT_CTL_DEFAULT1 0x00036dffu
#define NEST_VMX_ENTRY_CTL_DEFAULT1 0x000011ffu

/* VM-entry/exit interruption information (SDM 25.8.3, 28.2.2). */
#define NEST_VMX_INTR_INFO_VECTOR_MASK 0xffu
#define NEST_VMX_INTR_INFO_TYPE_SHIFT 8
#define NEST_VMX_INTR_INFO_TYPE_MASK (7u << 8)
#define NEST_VMX_INTR_INFO_DELIVER_ERROR_CODE (1u << 11)
#define NEST_VMX_INTR_INFO_NMI_UNBLOCKING_IRET (1u << 12)
#define NEST_VMX_INTR_INFO_RESERVED_MASK 0x7ffff000u /* bits 30:12 for entry */
#define NEST_VMX_INTR_INFO_VALID (1u << 31)
#define NEST_VMX_INTR_TYPE_EXT_INTR 0u
#define NEST_VMX_INTR_TYPE_NMI 2u
#define NEST_VMX_INTR_TYPE_HW_EXCEPTION 3u
#define NEST_VMX_INTR_TYPE_SOFT_INTR 4u
#define NEST_VMX_INTR_TYPE_PRIV_SW_EXCEPTION 5u
#define NEST_VMX_INTR_TYPE_SOFT_EXCEPTION 6u
#define NEST_VMX_INTR_TYPE_OTHER_EVENT 7u

/* Guest interruptibility state (SDM 25.4.2). */
#define NEST_VMX_INTERRUPTIBILITY_STI (1u << 0)
#define NEST_VMX_INTERRUPTIBILITY_MOV_SS (1u << 1)
#define NEST_VMX_INTERRUPTIBILITY_SMI (1u << 2)
#define NEST_VMX_INTERRUPTIBILITY_NMI (1u << 3)
#define NEST_VMX_INTERRUPTIBILITY_ENCLAVE (1u << 4)
#define NEST_VMX_INTERRUPTIBILITY_RESERVED_MASK 0xffffffe0u

/* Guest activity state (SDM 25.4.2). */
#define NEST_VMX_ACTIVITY_ACTIVE 0u
#define NEST_VMX_ACTIVITY_HLT 1u
#define NEST_VMX_ACTIVITY_SHUTDOWN 2u
#define NEST_VMX_ACTIVITY_WAIT_SIPI 3u

/* Exit qualification for VM-entry failures (SDM 27.8). */
#define NEST_VMX_ENTRY_FAIL_QUAL_DEFAULT 0u
#define NEST_VMX_ENTRY_FAIL_QUAL_PDPTE 2u
#define NEST_VMX_ENTRY_FAIL_QUAL_NMI_INJECT 3u
#define NEST_VMX_ENTRY_FAIL_QUAL_LINK_POINTER 4u

#ifdef __cplusplus
}
#endif

#endif /* NEST_VMX_ARCH_H_PUBLIC */
