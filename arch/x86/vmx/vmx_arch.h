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

/* The public constants (exit reasons NEST_VMX_EXIT_*, control bits
 * NEST_VMX_PIN_*, _PROC_*, _PROC2_*, _EXIT_CTL_*, _ENTRY_CTL_*, event
 * information) are in nest/vmx-arch.h; what follows is libnest's own. */
#include <nest/vmx-arch.h>

/* The primary processor-based controls libnest emulates for L1, all of
 * them (SDM 25.6.2): what nest_vmx_caps_default() offers and what the
 * capabilities are computed from (caps.c). */
#define VMX_PROC_EMULATED                                                                          \
	(NEST_VMX_PROC_INTR_WINDOW_EXITING | NEST_VMX_PROC_USE_TSC_OFFSETTING |                    \
	 NEST_VMX_PROC_HLT_EXITING | NEST_VMX_PROC_INVLPG_EXITING | NEST_VMX_PROC_MWAIT_EXITING |  \
	 NEST_VMX_PROC_RDPMC_EXITING | NEST_VMX_PROC_RDTSC_EXITING |                               \
	 NEST_VMX_PROC_CR3_LOAD_EXITING | NEST_VMX_PROC_CR3_STORE_EXITING |                        \
	 NEST_VMX_PROC_CR8_LOAD_EXITING | NEST_VMX_PROC_CR8_STORE_EXITING |                        \
	 NEST_VMX_PROC_USE_TPR_SHADOW | NEST_VMX_PROC_NMI_WINDOW_EXITING |                         \
	 NEST_VMX_PROC_MOV_DR_EXITING | NEST_VMX_PROC_UNCOND_IO_EXITING |                          \
	 NEST_VMX_PROC_USE_IO_BITMAPS | NEST_VMX_PROC_MONITOR_TRAP_FLAG |                          \
	 NEST_VMX_PROC_USE_MSR_BITMAPS | NEST_VMX_PROC_MONITOR_EXITING |                           \
	 NEST_VMX_PROC_PAUSE_EXITING | NEST_VMX_PROC_ACTIVATE_SECONDARY)

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

/* VM-exit instruction-information field for VMX instructions and
 * INVEPT/INVVPID/INVPCID (SDM 28.2.5, table 28-13/28-14). */
#define VMX_INSN_INFO_SCALE(i) ((i)&3u)
#define VMX_INSN_INFO_REG1(i) (((i) >> 3) & 0xfu)    /* VMREAD/VMWRITE: register operand */
#define VMX_INSN_INFO_ADDR_SIZE(i) (((i) >> 7) & 7u) /* 0: 16, 1: 32, 2: 64 */
#define VMX_INSN_INFO_MEM_REG(i) (((i) >> 10) & 1u)  /* 1: register operand */
#define VMX_INSN_INFO_SEG(i) (((i) >> 15) & 7u)	     /* ES CS SS DS FS GS */
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

/* VMX-abort indicators (SDM 28.7). */
#define VMX_ABORT_SAVE_GUEST_MSR 1u
#define VMX_ABORT_HOST_PDPTE 2u
#define VMX_ABORT_VMCS_CORRUPT 3u
#define VMX_ABORT_LOAD_HOST_MSR 4u
#define VMX_ABORT_MCE_DURING_EXIT 5u
#define VMX_ABORT_HOST_NOT_64BIT 6u

#endif /* NEST_VMX_ARCH_H */
