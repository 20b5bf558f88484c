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

/** @name Exit-reason field bits above the basic reason (SDM 28.2.1).
 * @{
 */
#define NEST_VMX_EXIT_REASON_BASIC_MASK 0xffffu		  ///< exit-reason bit: basic mask
#define NEST_VMX_EXIT_REASON_BUS_LOCK_DETECTED (1u << 26) ///< exit-reason bit: bus lock detected
#define NEST_VMX_EXIT_REASON_ENCLAVE_MODE (1u << 27)	  ///< exit-reason bit: enclave mode
#define NEST_VMX_EXIT_REASON_PENDING_MTF (1u << 28)	  ///< exit-reason bit: pending mtf
#define NEST_VMX_EXIT_REASON_FROM_ROOT (1u << 29)	  ///< exit-reason bit: from root
#define NEST_VMX_EXIT_REASON_ENTRY_FAILURE (1u << 31)	  ///< exit-reason bit: entry failure
/** @} */

/** @name Pin-based VM-execution controls (SDM 25.6.1).
 * @{
 */
#define NEST_VMX_PIN_EXT_INTR_EXITING (1u << 0) ///< pin-based control: ext intr exiting
#define NEST_VMX_PIN_NMI_EXITING (1u << 3)	///< pin-based control: nmi exiting
#define NEST_VMX_PIN_VIRTUAL_NMIS (1u << 5)	///< pin-based control: virtual nmis
#define NEST_VMX_PIN_PREEMPTION_TIMER (1u << 6) ///< pin-based control: preemption timer
#define NEST_VMX_PIN_POSTED_INTR (1u << 7)	///< pin-based control: posted intr
/** @} */

/** @name Primary processor-based VM-execution controls (SDM 25.6.2).
 * @{
 */
#define NEST_VMX_PROC_INTR_WINDOW_EXITING (1u << 2) ///< primary control: intr window exiting
#define NEST_VMX_PROC_USE_TSC_OFFSETTING (1u << 3)  ///< primary control: use tsc offsetting
#define NEST_VMX_PROC_HLT_EXITING (1u << 7)	    ///< primary control: hlt exiting
#define NEST_VMX_PROC_INVLPG_EXITING (1u << 9)	    ///< primary control: invlpg exiting
#define NEST_VMX_PROC_MWAIT_EXITING (1u << 10)	    ///< primary control: mwait exiting
#define NEST_VMX_PROC_RDPMC_EXITING (1u << 11)	    ///< primary control: rdpmc exiting
#define NEST_VMX_PROC_RDTSC_EXITING (1u << 12)	    ///< primary control: rdtsc exiting
#define NEST_VMX_PROC_CR3_LOAD_EXITING (1u << 15)   ///< primary control: cr3 load exiting
#define NEST_VMX_PROC_CR3_STORE_EXITING (1u << 16)  ///< primary control: cr3 store exiting
#define NEST_VMX_PROC_ACTIVATE_TERTIARY (1u << 17)  ///< primary control: activate tertiary
#define NEST_VMX_PROC_CR8_LOAD_EXITING (1u << 19)   ///< primary control: cr8 load exiting
#define NEST_VMX_PROC_CR8_STORE_EXITING (1u << 20)  ///< primary control: cr8 store exiting
#define NEST_VMX_PROC_USE_TPR_SHADOW (1u << 21)	    ///< primary control: use tpr shadow
#define NEST_VMX_PROC_NMI_WINDOW_EXITING (1u << 22) ///< primary control: nmi window exiting
#define NEST_VMX_PROC_MOV_DR_EXITING (1u << 23)	    ///< primary control: mov dr exiting
#define NEST_VMX_PROC_UNCOND_IO_EXITING (1u << 24)  ///< primary control: uncond io exiting
#define NEST_VMX_PROC_USE_IO_BITMAPS (1u << 25)	    ///< primary control: use io bitmaps
#define NEST_VMX_PROC_MONITOR_TRAP_FLAG (1u << 27)  ///< primary control: monitor trap flag
#define NEST_VMX_PROC_USE_MSR_BITMAPS (1u << 28)    ///< primary control: use msr bitmaps
#define NEST_VMX_PROC_MONITOR_EXITING (1u << 29)    ///< primary control: monitor exiting
#define NEST_VMX_PROC_PAUSE_EXITING (1u << 30)	    ///< primary control: pause exiting
#define NEST_VMX_PROC_ACTIVATE_SECONDARY (1u << 31) ///< primary control: activate secondary
/** @} */

/** @name Secondary processor-based VM-execution controls (SDM 25.6.2).
 * @{
 */
#define NEST_VMX_PROC2_VIRT_APIC_ACCESSES (1u << 0)   ///< secondary control: virt apic accesses
#define NEST_VMX_PROC2_ENABLE_EPT (1u << 1)	      ///< secondary control: enable ept
#define NEST_VMX_PROC2_DESC_TABLE_EXITING (1u << 2)   ///< secondary control: desc table exiting
#define NEST_VMX_PROC2_ENABLE_RDTSCP (1u << 3)	      ///< secondary control: enable rdtscp
#define NEST_VMX_PROC2_VIRT_X2APIC_MODE (1u << 4)     ///< secondary control: virt x2apic mode
#define NEST_VMX_PROC2_ENABLE_VPID (1u << 5)	      ///< secondary control: enable vpid
#define NEST_VMX_PROC2_WBINVD_EXITING (1u << 6)	      ///< secondary control: wbinvd exiting
#define NEST_VMX_PROC2_UNRESTRICTED_GUEST (1u << 7)   ///< secondary control: unrestricted guest
#define NEST_VMX_PROC2_APIC_REGISTER_VIRT (1u << 8)   ///< secondary control: apic register virt
#define NEST_VMX_PROC2_VIRT_INTR_DELIVERY (1u << 9)   ///< secondary control: virt intr delivery
#define NEST_VMX_PROC2_PAUSE_LOOP_EXITING (1u << 10)  ///< secondary control: pause loop exiting
#define NEST_VMX_PROC2_RDRAND_EXITING (1u << 11)      ///< secondary control: rdrand exiting
#define NEST_VMX_PROC2_ENABLE_INVPCID (1u << 12)      ///< secondary control: enable invpcid
#define NEST_VMX_PROC2_ENABLE_VMFUNC (1u << 13)	      ///< secondary control: enable vmfunc
#define NEST_VMX_PROC2_VMCS_SHADOWING (1u << 14)      ///< secondary control: vmcs shadowing
#define NEST_VMX_PROC2_ENCLS_EXITING (1u << 15)	      ///< secondary control: encls exiting
#define NEST_VMX_PROC2_RDSEED_EXITING (1u << 16)      ///< secondary control: rdseed exiting
#define NEST_VMX_PROC2_ENABLE_PML (1u << 17)	      ///< secondary control: enable pml
#define NEST_VMX_PROC2_EPT_VIOLATION_VE (1u << 18)    ///< secondary control: ept violation ve
#define NEST_VMX_PROC2_CONCEAL_VMX_FROM_PT (1u << 19) ///< secondary control: conceal vmx from pt
#define NEST_VMX_PROC2_ENABLE_XSAVES (1u << 20)	      ///< secondary control: enable xsaves
#define NEST_VMX_PROC2_PASID_TRANSLATION (1u << 21)   ///< secondary control: pasid translation
#define NEST_VMX_PROC2_MODE_BASED_EPT_EXEC (1u << 22) ///< secondary control: mode based ept exec
#define NEST_VMX_PROC2_SUBPAGE_WRITE_PERM (1u << 23)  ///< secondary control: subpage write perm
#define NEST_VMX_PROC2_PT_USE_GPA (1u << 24)	      ///< secondary control: pt use gpa
#define NEST_VMX_PROC2_USE_TSC_SCALING (1u << 25)     ///< secondary control: use tsc scaling
#define NEST_VMX_PROC2_ENABLE_USER_WAIT_PAUSE                                                      \
	(1u << 26)				 ///< secondary control: enable user wait pause
#define NEST_VMX_PROC2_ENABLE_PCONFIG (1u << 27) ///< secondary control: enable pconfig
#define NEST_VMX_PROC2_ENABLE_ENCLV_EXITING (1u << 28) ///< secondary control: enable enclv exiting
#define NEST_VMX_PROC2_BUS_LOCK_DETECTION (1u << 30)   ///< secondary control: bus lock detection
#define NEST_VMX_PROC2_NOTIFY_VM_EXITING (1u << 31)    ///< secondary control: notify vm exiting
/** @} */

/** @name Primary VM-exit controls (SDM 25.7.1).
 * @{
 */
#define NEST_VMX_EXIT_CTL_SAVE_DEBUG_CONTROLS (1u << 2)	 ///< VM-exit control: save debug controls
#define NEST_VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE (1u << 9) ///< VM-exit control: host addr space size
#define NEST_VMX_EXIT_CTL_LOAD_PERF_GLOBAL_CTRL                                                    \
	(1u << 12)				      ///< VM-exit control: load perf global ctrl
#define NEST_VMX_EXIT_CTL_ACK_INTR_ON_EXIT (1u << 15) ///< VM-exit control: ack intr on exit
#define NEST_VMX_EXIT_CTL_SAVE_PAT (1u << 18)	      ///< VM-exit control: save pat
#define NEST_VMX_EXIT_CTL_LOAD_PAT (1u << 19)	      ///< VM-exit control: load pat
#define NEST_VMX_EXIT_CTL_SAVE_EFER (1u << 20)	      ///< VM-exit control: save efer
#define NEST_VMX_EXIT_CTL_LOAD_EFER (1u << 21)	      ///< VM-exit control: load efer
#define NEST_VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER                                                    \
	(1u << 22)					 ///< VM-exit control: save preemption timer
#define NEST_VMX_EXIT_CTL_CLEAR_BNDCFGS (1u << 23)	 ///< VM-exit control: clear bndcfgs
#define NEST_VMX_EXIT_CTL_CONCEAL_VMX_FROM_PT (1u << 24) ///< VM-exit control: conceal vmx from pt
#define NEST_VMX_EXIT_CTL_CLEAR_RTIT_CTL (1u << 25)	 ///< VM-exit control: clear rtit ctl
#define NEST_VMX_EXIT_CTL_CLEAR_LBR_CTL (1u << 26)	 ///< VM-exit control: clear lbr ctl
#define NEST_VMX_EXIT_CTL_CLEAR_UINV (1u << 27)		 ///< VM-exit control: clear uinv
#define NEST_VMX_EXIT_CTL_LOAD_CET_STATE (1u << 28)	 ///< VM-exit control: load cet state
#define NEST_VMX_EXIT_CTL_LOAD_PKRS (1u << 29)		 ///< VM-exit control: load pkrs
#define NEST_VMX_EXIT_CTL_SAVE_PERF_GLOBAL_CTL (1u << 30) ///< VM-exit control: save perf global ctl
#define NEST_VMX_EXIT_CTL_ACTIVATE_SECONDARY (1u << 31)	  ///< VM-exit control: activate secondary
/** @} */

/** @name VM-entry controls (SDM 25.8.1).
 * @{
 */
#define NEST_VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS (1u << 2) ///< VM-entry control: load debug controls
#define NEST_VMX_ENTRY_CTL_IA32E_MODE_GUEST (1u << 9)	 ///< VM-entry control: ia32e mode guest
#define NEST_VMX_ENTRY_CTL_ENTRY_TO_SMM (1u << 10)	 ///< VM-entry control: entry to smm
#define NEST_VMX_ENTRY_CTL_DEACT_DUAL_MONITOR (1u << 11) ///< VM-entry control: deact dual monitor
#define NEST_VMX_ENTRY_CTL_LOAD_PERF_GLOBAL_CTRL                                                   \
	(1u << 13)				   ///< VM-entry control: load perf global ctrl
#define NEST_VMX_ENTRY_CTL_LOAD_PAT (1u << 14)	   ///< VM-entry control: load pat
#define NEST_VMX_ENTRY_CTL_LOAD_EFER (1u << 15)	   ///< VM-entry control: load efer
#define NEST_VMX_ENTRY_CTL_LOAD_BNDCFGS (1u << 16) ///< VM-entry control: load bndcfgs
#define NEST_VMX_ENTRY_CTL_CONCEAL_VMX_FROM_PT (1u << 17) ///< VM-entry control: conceal vmx from pt
#define NEST_VMX_ENTRY_CTL_LOAD_RTIT_CTL (1u << 18)	  ///< VM-entry control: load rtit ctl
#define NEST_VMX_ENTRY_CTL_LOAD_UINV (1u << 19)		  ///< VM-entry control: load uinv
#define NEST_VMX_ENTRY_CTL_LOAD_CET_STATE (1u << 20)	  ///< VM-entry control: load cet state
#define NEST_VMX_ENTRY_CTL_LOAD_LBR_CTL (1u << 21)	  ///< VM-entry control: load lbr ctl
#define NEST_VMX_ENTRY_CTL_LOAD_PKRS (1u << 22)		  ///< VM-entry control: load pkrs
/** @} */

/** @name Controls that are "default1" in the non-TRUE capability MSRs (SDM A.2).
 * @{
 */
#define NEST_VMX_PIN_DEFAULT1 0x00000016u	///< pin-based control: default1
#define NEST_VMX_PROC_DEFAULT1 0x0401e172u	///< primary control: default1
#define NEST_VMX_EXIT_CTL_DEFAULT1 0x00036dffu	///< VM-exit control: default1
#define NEST_VMX_ENTRY_CTL_DEFAULT1 0x000011ffu ///< VM-entry control: default1
/** @} */

/** @name VM-entry/exit interruption information (SDM 25.8.3, 28.2.2).
 * @{
 */
#define NEST_VMX_INTR_INFO_VECTOR_MASK 0xffu   ///< interruption information: vector mask
#define NEST_VMX_INTR_INFO_TYPE_SHIFT 8	       ///< interruption information: type shift
#define NEST_VMX_INTR_INFO_TYPE_MASK (7u << 8) ///< interruption information: type mask
#define NEST_VMX_INTR_INFO_DELIVER_ERROR_CODE                                                      \
	(1u << 11) ///< interruption information: deliver error code
#define NEST_VMX_INTR_INFO_NMI_UNBLOCKING_IRET                                                     \
	(1u << 12) ///< interruption information: nmi unblocking iret
#define NEST_VMX_INTR_INFO_RESERVED_MASK                                                           \
	0x7ffff000u ///< interruption information: reserved mask (bits 30:12 for entry)
#define NEST_VMX_INTR_INFO_VALID (1u << 31)	///< interruption information: valid
#define NEST_VMX_INTR_TYPE_EXT_INTR 0u		///< interruption type: ext intr
#define NEST_VMX_INTR_TYPE_NMI 2u		///< interruption type: nmi
#define NEST_VMX_INTR_TYPE_HW_EXCEPTION 3u	///< interruption type: hw exception
#define NEST_VMX_INTR_TYPE_SOFT_INTR 4u		///< interruption type: soft intr
#define NEST_VMX_INTR_TYPE_PRIV_SW_EXCEPTION 5u ///< interruption type: priv sw exception
#define NEST_VMX_INTR_TYPE_SOFT_EXCEPTION 6u	///< interruption type: soft exception
#define NEST_VMX_INTR_TYPE_OTHER_EVENT 7u	///< interruption type: other event
/** @} */

/** @name Guest interruptibility state (SDM 25.4.2).
 * @{
 */
#define NEST_VMX_INTERRUPTIBILITY_STI (1u << 0)		    ///< interruptibility: sti
#define NEST_VMX_INTERRUPTIBILITY_MOV_SS (1u << 1)	    ///< interruptibility: mov ss
#define NEST_VMX_INTERRUPTIBILITY_SMI (1u << 2)		    ///< interruptibility: smi
#define NEST_VMX_INTERRUPTIBILITY_NMI (1u << 3)		    ///< interruptibility: nmi
#define NEST_VMX_INTERRUPTIBILITY_ENCLAVE (1u << 4)	    ///< interruptibility: enclave
#define NEST_VMX_INTERRUPTIBILITY_RESERVED_MASK 0xffffffe0u ///< interruptibility: reserved mask
/** @} */

/** @name Guest activity state (SDM 25.4.2).
 * @{
 */
#define NEST_VMX_ACTIVITY_ACTIVE 0u    ///< activity state: active
#define NEST_VMX_ACTIVITY_HLT 1u       ///< activity state: hlt
#define NEST_VMX_ACTIVITY_SHUTDOWN 2u  ///< activity state: shutdown
#define NEST_VMX_ACTIVITY_WAIT_SIPI 3u ///< activity state: wait sipi
/** @} */

/** @name Exit qualification for VM-entry failures (SDM 27.8).
 * @{
 */
#define NEST_VMX_ENTRY_FAIL_QUAL_DEFAULT 0u	 ///< entry-failure qualification: default
#define NEST_VMX_ENTRY_FAIL_QUAL_PDPTE 2u	 ///< entry-failure qualification: pdpte
#define NEST_VMX_ENTRY_FAIL_QUAL_NMI_INJECT 3u	 ///< entry-failure qualification: nmi inject
#define NEST_VMX_ENTRY_FAIL_QUAL_LINK_POINTER 4u ///< entry-failure qualification: link pointer
/** @} */

#ifdef __cplusplus
}
#endif

#endif /* NEST_VMX_ARCH_H_PUBLIC */
