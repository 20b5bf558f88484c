/* SPDX-License-Identifier: MIT */
/*
 * The Intel VMX definitions this L1 needs, written from the Intel SDM
 * volume 3C (chapters 24 "Virtual Machine Control Structures", 25-27, 30
 * "VMX Instruction Reference", appendices A "VMX Capability Reporting
 * Facility" and B "Field Encoding in VMCS", C "VMX Basic Exit Reasons").
 * Deliberately independent of libnest's own tables.
 */
#ifndef VMX_H
#define VMX_H

#include <stdint.h>

/* ---- MSRs (SDM vol. 3C appendix A; vol. 4) ---- */
#define MSR_IA32_FEATURE_CONTROL 0x03Au
#define FEATURE_CONTROL_LOCK (1ull << 0)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX (1ull << 2)
#define MSR_IA32_SYSENTER_CS 0x174u
#define MSR_IA32_VMX_BASIC 0x480u
#define MSR_IA32_VMX_PINBASED_CTLS 0x481u
#define MSR_IA32_VMX_PROCBASED_CTLS 0x482u
#define MSR_IA32_VMX_EXIT_CTLS 0x483u
#define MSR_IA32_VMX_ENTRY_CTLS 0x484u
#define MSR_IA32_VMX_MISC 0x485u
#define MSR_IA32_VMX_CR0_FIXED0 0x486u
#define MSR_IA32_VMX_CR0_FIXED1 0x487u
#define MSR_IA32_VMX_CR4_FIXED0 0x488u
#define MSR_IA32_VMX_CR4_FIXED1 0x489u
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x48Bu
#define MSR_IA32_VMX_EPT_VPID_CAP 0x48Cu
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x48Du
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x48Eu
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x48Fu
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x490u
#define MSR_IA32_FS_BASE 0xC0000100u
#define MSR_IA32_GS_BASE 0xC0000101u

/* IA32_VMX_BASIC (SDM A.1). */
#define VMX_BASIC_REVISION_MASK 0x7FFFFFFFull
#define VMX_BASIC_TRUE_CTLS (1ull << 55)

/* IA32_VMX_EPT_VPID_CAP (SDM A.10). */
#define EPT_CAP_EXEC_ONLY (1ull << 0)
#define EPT_CAP_WALK_4 (1ull << 6)
#define EPT_CAP_WB (1ull << 14)
#define EPT_CAP_2M (1ull << 16)
#define EPT_CAP_INVEPT (1ull << 20)
#define EPT_CAP_AD (1ull << 21)
#define EPT_CAP_INVEPT_SINGLE (1ull << 25)
#define EPT_CAP_INVEPT_ALL (1ull << 26)

/* CR0/CR4 bits used here. */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_TS (1ull << 3)
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_PGE (1ull << 7)
#define CR4_VMXE (1ull << 13)
#define RFLAGS_RESERVED1 (1ull << 1)
#define RFLAGS_CF (1ull << 0)
#define RFLAGS_ZF (1ull << 6)
#define RFLAGS_IF (1ull << 9)

/* ---- VMCS field encodings (SDM appendix B) ---- */
enum vmcs_field {
	/* 16-bit guest state */
	GUEST_ES_SELECTOR = 0x0800,
	GUEST_CS_SELECTOR = 0x0802,
	GUEST_SS_SELECTOR = 0x0804,
	GUEST_DS_SELECTOR = 0x0806,
	GUEST_FS_SELECTOR = 0x0808,
	GUEST_GS_SELECTOR = 0x080A,
	GUEST_LDTR_SELECTOR = 0x080C,
	GUEST_TR_SELECTOR = 0x080E,
	/* 16-bit host state */
	HOST_ES_SELECTOR = 0x0C00,
	HOST_CS_SELECTOR = 0x0C02,
	HOST_SS_SELECTOR = 0x0C04,
	HOST_DS_SELECTOR = 0x0C06,
	HOST_FS_SELECTOR = 0x0C08,
	HOST_GS_SELECTOR = 0x0C0A,
	HOST_TR_SELECTOR = 0x0C0C,
	/* 64-bit control */
	IO_BITMAP_A = 0x2000,
	IO_BITMAP_B = 0x2002,
	MSR_BITMAP = 0x2004,
	VM_EXIT_MSR_STORE_ADDR = 0x2006,
	VM_EXIT_MSR_LOAD_ADDR = 0x2008,
	VM_ENTRY_MSR_LOAD_ADDR = 0x200A,
	EPT_POINTER = 0x201A,
	/* 64-bit read-only data */
	GUEST_PHYSICAL_ADDRESS = 0x2400,
	/* 64-bit guest state */
	VMCS_LINK_POINTER = 0x2800,
	GUEST_IA32_DEBUGCTL = 0x2802,
	GUEST_IA32_PAT = 0x2804,
	GUEST_IA32_EFER = 0x2806,
	/* 64-bit host state */
	HOST_IA32_PAT = 0x2C00,
	HOST_IA32_EFER = 0x2C02,
	/* 32-bit control */
	PIN_BASED_VM_EXEC_CONTROL = 0x4000,
	CPU_BASED_VM_EXEC_CONTROL = 0x4002,
	EXCEPTION_BITMAP = 0x4004,
	PAGE_FAULT_ERROR_CODE_MASK = 0x4006,
	PAGE_FAULT_ERROR_CODE_MATCH = 0x4008,
	CR3_TARGET_COUNT = 0x400A,
	VM_EXIT_CONTROLS = 0x400C,
	VM_EXIT_MSR_STORE_COUNT = 0x400E,
	VM_EXIT_MSR_LOAD_COUNT = 0x4010,
	VM_ENTRY_CONTROLS = 0x4012,
	VM_ENTRY_MSR_LOAD_COUNT = 0x4014,
	VM_ENTRY_INTR_INFO = 0x4016,
	VM_ENTRY_EXCEPTION_ERROR_CODE = 0x4018,
	VM_ENTRY_INSTRUCTION_LEN = 0x401A,
	SECONDARY_VM_EXEC_CONTROL = 0x401E,
	/* 32-bit read-only data */
	VM_INSTRUCTION_ERROR = 0x4400,
	VM_EXIT_REASON = 0x4402,
	VM_EXIT_INTR_INFO = 0x4404,
	VM_EXIT_INTR_ERROR_CODE = 0x4406,
	IDT_VECTORING_INFO = 0x4408,
	IDT_VECTORING_ERROR_CODE = 0x440A,
	VM_EXIT_INSTRUCTION_LEN = 0x440C,
	VMX_INSTRUCTION_INFO = 0x440E,
	/* 32-bit guest state */
	GUEST_ES_LIMIT = 0x4800,
	GUEST_CS_LIMIT = 0x4802,
	GUEST_SS_LIMIT = 0x4804,
	GUEST_DS_LIMIT = 0x4806,
	GUEST_FS_LIMIT = 0x4808,
	GUEST_GS_LIMIT = 0x480A,
	GUEST_LDTR_LIMIT = 0x480C,
	GUEST_TR_LIMIT = 0x480E,
	GUEST_GDTR_LIMIT = 0x4810,
	GUEST_IDTR_LIMIT = 0x4812,
	GUEST_ES_AR_BYTES = 0x4814,
	GUEST_CS_AR_BYTES = 0x4816,
	GUEST_SS_AR_BYTES = 0x4818,
	GUEST_DS_AR_BYTES = 0x481A,
	GUEST_FS_AR_BYTES = 0x481C,
	GUEST_GS_AR_BYTES = 0x481E,
	GUEST_LDTR_AR_BYTES = 0x4820,
	GUEST_TR_AR_BYTES = 0x4822,
	GUEST_INTERRUPTIBILITY_INFO = 0x4824,
	GUEST_ACTIVITY_STATE = 0x4826,
	GUEST_SYSENTER_CS = 0x482A,
	VMX_PREEMPTION_TIMER_VALUE = 0x482E,
	/* 32-bit host state */
	HOST_IA32_SYSENTER_CS = 0x4C00,
	/* natural-width control */
	CR0_GUEST_HOST_MASK = 0x6000,
	CR4_GUEST_HOST_MASK = 0x6002,
	CR0_READ_SHADOW = 0x6004,
	CR4_READ_SHADOW = 0x6006,
	/* natural-width read-only data */
	EXIT_QUALIFICATION = 0x6400,
	GUEST_LINEAR_ADDRESS = 0x640A,
	/* natural-width guest state */
	GUEST_CR0 = 0x6800,
	GUEST_CR3 = 0x6802,
	GUEST_CR4 = 0x6804,
	GUEST_ES_BASE = 0x6806,
	GUEST_CS_BASE = 0x6808,
	GUEST_SS_BASE = 0x680A,
	GUEST_DS_BASE = 0x680C,
	GUEST_FS_BASE = 0x680E,
	GUEST_GS_BASE = 0x6810,
	GUEST_LDTR_BASE = 0x6812,
	GUEST_TR_BASE = 0x6814,
	GUEST_GDTR_BASE = 0x6816,
	GUEST_IDTR_BASE = 0x6818,
	GUEST_DR7 = 0x681A,
	GUEST_RSP = 0x681C,
	GUEST_RIP = 0x681E,
	GUEST_RFLAGS = 0x6820,
	GUEST_PENDING_DBG_EXCEPTIONS = 0x6822,
	GUEST_SYSENTER_ESP = 0x6824,
	GUEST_SYSENTER_EIP = 0x6826,
	/* natural-width host state */
	HOST_CR0 = 0x6C00,
	HOST_CR3 = 0x6C02,
	HOST_CR4 = 0x6C04,
	HOST_FS_BASE = 0x6C06,
	HOST_GS_BASE = 0x6C08,
	HOST_TR_BASE = 0x6C0A,
	HOST_GDTR_BASE = 0x6C0C,
	HOST_IDTR_BASE = 0x6C0E,
	HOST_IA32_SYSENTER_ESP = 0x6C10,
	HOST_IA32_SYSENTER_EIP = 0x6C12,
	HOST_RSP = 0x6C14,
	HOST_RIP = 0x6C16,
};

/* ---- controls (SDM 24.6, 24.7, 24.8) ---- */
#define PIN_EXT_INTR_EXITING (1u << 0)
#define PIN_NMI_EXITING (1u << 3)
#define PIN_PREEMPTION_TIMER (1u << 6)

#define CPU_INTR_WINDOW_EXITING (1u << 2)
#define CPU_HLT_EXITING (1u << 7)
#define CPU_INVLPG_EXITING (1u << 9)
#define CPU_RDTSC_EXITING (1u << 12)
#define CPU_CR3_LOAD_EXITING (1u << 15)
#define CPU_CR3_STORE_EXITING (1u << 16)
#define CPU_MOV_DR_EXITING (1u << 23)
#define CPU_UNCOND_IO_EXITING (1u << 24)
#define CPU_USE_IO_BITMAPS (1u << 25)
#define CPU_MONITOR_TRAP_FLAG (1u << 27)
#define CPU_USE_MSR_BITMAPS (1u << 28)
#define CPU_PAUSE_EXITING (1u << 30)
#define CPU_SECONDARY_CONTROLS (1u << 31)

#define CPU2_ENABLE_EPT (1u << 1)
#define CPU2_DESC_TABLE_EXITING (1u << 2)
#define CPU2_ENABLE_VPID (1u << 5)
#define CPU2_WBINVD_EXITING (1u << 6)

#define EXIT_HOST_ADDR_SPACE_SIZE (1u << 9)
#define EXIT_ACK_INTR_ON_EXIT (1u << 15)
#define EXIT_SAVE_IA32_EFER (1u << 20)
#define EXIT_LOAD_IA32_EFER (1u << 21)

#define ENTRY_IA32E_MODE_GUEST (1u << 9)
#define ENTRY_LOAD_IA32_EFER (1u << 15)

/* ---- basic exit reasons (SDM appendix C) ---- */
#define EXIT_REASON_EXCEPTION_NMI 0
#define EXIT_REASON_EXTERNAL_INTERRUPT 1
#define EXIT_REASON_INTERRUPT_WINDOW 7
#define EXIT_REASON_CPUID 10
#define EXIT_REASON_HLT 12
#define EXIT_REASON_INVLPG 14
#define EXIT_REASON_RDTSC 16
#define EXIT_REASON_VMCALL 18
#define EXIT_REASON_VMCLEAR 19
#define EXIT_REASON_VMLAUNCH 20
#define EXIT_REASON_VMPTRLD 21
#define EXIT_REASON_VMPTRST 22
#define EXIT_REASON_VMREAD 23
#define EXIT_REASON_VMRESUME 24
#define EXIT_REASON_VMWRITE 25
#define EXIT_REASON_VMXOFF 26
#define EXIT_REASON_VMXON 27
#define EXIT_REASON_CR_ACCESS 28
#define EXIT_REASON_DR_ACCESS 29
#define EXIT_REASON_IO_INSTRUCTION 30
#define EXIT_REASON_MSR_READ 31
#define EXIT_REASON_MSR_WRITE 32
#define EXIT_REASON_INVALID_GUEST_STATE 33
#define EXIT_REASON_MSR_LOADING 34
#define EXIT_REASON_MONITOR_TRAP_FLAG 37
#define EXIT_REASON_PAUSE 40
#define EXIT_REASON_GDTR_IDTR 46
#define EXIT_REASON_EPT_VIOLATION 48
#define EXIT_REASON_INVEPT 50
#define EXIT_REASON_INVVPID 53
#define EXIT_REASON_WBINVD 54
#define EXIT_REASON_PREEMPTION_TIMER 52
#define EXIT_REASON_ENTRY_FAILURE (1u << 31)
#define EXIT_REASON_BASIC_MASK 0xFFFFu

/* ---- VM-instruction error numbers (SDM 30.4) ---- */
#define VMXERR_VMCLEAR_VMXON_POINTER 3
#define VMXERR_VMLAUNCH_NONCLEAR_VMCS 4
#define VMXERR_VMRESUME_NONLAUNCHED_VMCS 5
#define VMXERR_ENTRY_INVALID_CONTROL_FIELD 7
#define VMXERR_ENTRY_INVALID_HOST_STATE_FIELD 8
#define VMXERR_VMPTRLD_INVALID_ADDRESS 9
#define VMXERR_VMPTRLD_VMXON_POINTER 10
#define VMXERR_VMPTRLD_INCORRECT_REVISION 11
#define VMXERR_UNSUPPORTED_VMCS_COMPONENT 12
#define VMXERR_VMWRITE_READ_ONLY_COMPONENT 13

/* ---- interruption information (SDM 24.9.2, table 24-15) ---- */
#define INTR_INFO_VECTOR_MASK 0xFFu
#define INTR_INFO_TYPE_SHIFT 8
#define INTR_TYPE_EXT_INTR 0u
#define INTR_TYPE_NMI 2u
#define INTR_TYPE_HW_EXCEPTION 3u
#define INTR_TYPE_SW_EXCEPTION 6u
#define INTR_INFO_ERROR_CODE_VALID (1u << 11)
#define INTR_INFO_VALID (1u << 31)
#define INTR_INFO(vec, type) (INTR_INFO_VALID | ((type) << INTR_INFO_TYPE_SHIFT) | (vec))

/* Exception vectors and error-code bits (SDM vol. 3A 6.13, 6.15). */
#define EXC_BP 3
#define EXC_UD 6
#define EXC_GP 13
#define EXC_PF 14
#define PFEC_WRITE (1u << 1)
#define PFEC_USER (1u << 2)
#define ERRCODE_IDT (1u << 1) /* the selector index refers to the IDT */
#define ERRCODE_IDT_VECTOR(v) (((v) << 3) | ERRCODE_IDT)

/* ---- exit qualifications ---- */
/* Control-register accesses (SDM 27.2.1, table 27-3). */
#define CRQ_CR(q) ((q)&0xF)
#define CRQ_TYPE(q) (((q) >> 4) & 3)
#define CRQ_TYPE_MOV_TO 0
#define CRQ_TYPE_MOV_FROM 1
#define CRQ_TYPE_CLTS 2
#define CRQ_TYPE_LMSW 3
#define CRQ_LMSW_MEMORY (1u << 6)
#define CRQ_REG(q) (((q) >> 8) & 0xF)
#define CRQ_LMSW_DATA(q) (((q) >> 16) & 0xFFFF)
/* MOV DR (table 27-4). */
#define DRQ_DR(q) ((q)&7)
#define DRQ_FROM_DR (1u << 4)
#define DRQ_REG(q) (((q) >> 8) & 0xF)
/* I/O instructions (table 27-5). */
#define IOQ_SIZE(q) ((q)&7) /* bytes - 1 */
#define IOQ_IN (1u << 3)
#define IOQ_STRING (1u << 4)
#define IOQ_REP (1u << 5)
#define IOQ_IMMEDIATE (1u << 6)
#define IOQ_PORT(q) (((q) >> 16) & 0xFFFF)
/* EPT violations (table 27-7). */
#define EPTQ_READ (1u << 0)
#define EPTQ_WRITE (1u << 1)
#define EPTQ_FETCH (1u << 2)
#define EPTQ_READABLE (1u << 3)
#define EPTQ_WRITABLE (1u << 4)
#define EPTQ_EXECUTABLE (1u << 5)
#define EPTQ_LINEAR_VALID (1u << 7)
#define EPTQ_FINAL_TRANSLATION (1u << 8)
#define EPTQ_NMI_UNBLOCKING (1u << 12)
/* The bits this L1 compares: access, permissions, linear-address info. */
#define EPTQ_CHECKED_MASK 0x1BFu

/* VMREAD/VMWRITE instruction information (table 27-14). */
#define VMXII_REG1(i) (((i) >> 3) & 0xF)
#define VMXII_REGISTER (1u << 10)
#define VMXII_REG2(i) (((i) >> 28) & 0xF)
#define VMXII_BASE_REG(i) (((i) >> 23) & 0xF)
#define VMXII_BASE_INVALID (1u << 27)
/* LGDT/LIDT/SGDT/SIDT instruction information (table 27-10): bits 29:28. */
#define DTII_IDENTITY(i) (((i) >> 28) & 3)
#define DTII_SGDT 0

/* General-purpose register numbers, as exit qualifications encode them. */
enum gpr { GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI };

/* ---- EPT (SDM 28.2) ---- */
#define EPT_R (1ull << 0)
#define EPT_W (1ull << 1)
#define EPT_X (1ull << 2)
#define EPT_RWX (EPT_R | EPT_W | EPT_X)
#define EPT_MT_WB (6ull << 3)
#define EPT_LARGE (1ull << 7)
#define EPTP_MT_WB 6ull
#define EPTP_WALK_4 (3ull << 3)

/* ---- segment access rights (SDM 24.4.1, table 24-2) ---- */
#define AR_CODE64 0xA09Bu /* G, L, P, S, execute/read accessed */
#define AR_DATA 0xC093u	  /* G, D/B, P, S, read/write accessed */
#define AR_TSS64_BUSY 0x008Bu
#define AR_UNUSABLE (1u << 16)

/* ---- instructions (SDM chapter 30); each returns the VMX status ---- */
enum vmx_status {
	VMX_OK = 0,
	VMX_FAIL_INVALID = 1, /* CF = 1: no current VMCS */
	VMX_FAIL_VALID = 2,   /* ZF = 1: error number in VM_INSTRUCTION_ERROR */
};

#define VMX_STATUS_ASM "setbe %b0\n\tsetb %h0\n\t"
static inline enum vmx_status vmx_status_from(uint16_t flags)
{
	/* low byte: CF|ZF, high byte: CF */
	if (flags >> 8)
		return VMX_FAIL_INVALID;
	return (flags & 0xFF) ? VMX_FAIL_VALID : VMX_OK;
}

static inline enum vmx_status vmxon(uint64_t pa)
{
	uint16_t f;
	__asm__ volatile("vmxon %1\n\t" VMX_STATUS_ASM : "=&Q"(f) : "m"(pa) : "cc", "memory");
	return vmx_status_from(f);
}
static inline enum vmx_status vmclear(uint64_t pa)
{
	uint16_t f;
	__asm__ volatile("vmclear %1\n\t" VMX_STATUS_ASM : "=&Q"(f) : "m"(pa) : "cc", "memory");
	return vmx_status_from(f);
}
static inline enum vmx_status vmptrld(uint64_t pa)
{
	uint16_t f;
	__asm__ volatile("vmptrld %1\n\t" VMX_STATUS_ASM : "=&Q"(f) : "m"(pa) : "cc", "memory");
	return vmx_status_from(f);
}
static inline enum vmx_status vmwrite_status(uint64_t field, uint64_t value)
{
	uint16_t f;
	__asm__ volatile("vmwrite %2, %1\n\t" VMX_STATUS_ASM
			 : "=&Q"(f)
			 : "r"(field), "rm"(value)
			 : "cc", "memory");
	return vmx_status_from(f);
}
static inline enum vmx_status vmread_status(uint64_t field, uint64_t *value)
{
	uint16_t f;
	uint64_t v = 0;
	__asm__ volatile("vmread %2, %1\n\t" VMX_STATUS_ASM
			 : "=&Q"(f), "=&r"(v)
			 : "r"(field)
			 : "cc", "memory");
	*value = v;
	return vmx_status_from(f);
}

/* INVEPT (SDM Vol. 3C 31.3): type 1 single-context (the EPTP), 2 all-context. */
#define INVEPT_SINGLE_CONTEXT 1ull
#define INVEPT_ALL_CONTEXT 2ull
struct invept_desc {
	uint64_t eptp, reserved;
};
static inline enum vmx_status invept(uint64_t type, uint64_t eptp)
{
	struct invept_desc d = {eptp, 0};
	uint16_t f;
	__asm__ volatile("invept %1, %2\n\t" VMX_STATUS_ASM
			 : "=&Q"(f)
			 : "m"(d), "r"(type)
			 : "cc", "memory");
	return vmx_status_from(f);
}

#endif /* VMX_H */
