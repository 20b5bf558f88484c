/* SPDX-License-Identifier: MIT */
/*
 * What the stub needs of VMX, from the Intel SDM Vol. 3C (chapters 25-33)
 * and Vol. 3D (appendix A, capability MSRs; appendix C, exit reasons).
 * VMCS field encodings are libnest's (nest/vmcs.h, NEST_VMCS_*).
 */
#ifndef STUB_VMX_HW_H
#define STUB_VMX_HW_H

#include <stdbool.h>
#include <stdint.h>

#include <nest/vmcs.h>
#include <nest/vmx-arch.h>

/* Included after svm_hw.h (through stub.h), whose GPR_*, VEC_*, PAT_DEFAULT
 * and CPUID_EXT_FEATURES it shares. */

#define CPUID_FEATURES 1u
#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_X2APIC (1u << 21)
#define X2APIC_MSRS 0x800u /* the x2APIC MSRs: 800H-8FFH (SDM 11.12.1.2) */
#define X2APIC_MSR_COUNT 0x100u
#define CPUID_ADDR_SIZES 0x80000008u
#define CPUID_EXT_EDX_GBPAGES (1u << 26)

#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN (1ull << 11)
#define APIC_BASE_ADDR_MASK 0xFFFFFF000ull
#define APIC_SPIV 0xF0u
#define APIC_SPIV_ENABLE (1u << 8)
#define MSR_FEATURE_CONTROL 0x3Au
#define FC_LOCK (1ull << 0)
#define FC_VMXON_OUTSIDE_SMX (1ull << 2)
#define MSR_SYSENTER_CS 0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u
#define MSR_DEBUGCTL 0x1D9u
#define MSR_PAT 0x277u
#define MSR_FS_BASE 0xC0000100u
#define MSR_GS_BASE 0xC0000101u
#define MSR_VMX_BASIC 0x480u
#define MSR_VMX_LAST 0x493u /* IA32_VMX_EXIT_CTLS2 */
#define VMX_BASIC_TRUE_CTLS (1ull << 55)

/* Capability MSRs, in struct nest_vmx_caps order (SDM A.1-A.11). */
#define MSR_VMX_PINBASED 0x481u
#define MSR_VMX_PROCBASED 0x482u
#define MSR_VMX_EXIT 0x483u
#define MSR_VMX_ENTRY 0x484u
#define MSR_VMX_MISC 0x485u
#define MSR_VMX_CR0_FIXED0 0x486u
#define MSR_VMX_CR0_FIXED1 0x487u
#define MSR_VMX_CR4_FIXED0 0x488u
#define MSR_VMX_CR4_FIXED1 0x489u
#define MSR_VMX_VMCS_ENUM 0x48Au
#define MSR_VMX_PROCBASED2 0x48Bu
#define MSR_VMX_EPT_VPID 0x48Cu
#define MSR_VMX_TRUE_PINBASED 0x48Du
#define MSR_VMX_TRUE_PROCBASED 0x48Eu
#define MSR_VMX_TRUE_EXIT 0x48Fu
#define MSR_VMX_TRUE_ENTRY 0x490u

#define CR0_PE (1ull << 0)
#define CR0_ET (1ull << 4)
#define CR0_PG (1ull << 31)
#define CR4_VMXE (1ull << 13)
#define CR4_OSXSAVE (1ull << 18)
#define RFLAGS_FIXED 0x2ull
#define RFLAGS_IF (1ull << 9)

/* Controls, exit reasons and event information: nest/vmx-arch.h. */
#define VMCS_SHADOW_INDICATOR (1u << 31) /* revision-identifier bit 31 (SDM 25.2) */

/* Interruption information (SDM 25.8.3, 26.9.2). */
#define INTR_TYPE_EXT_INTR (NEST_VMX_INTR_TYPE_EXT_INTR << NEST_VMX_INTR_INFO_TYPE_SHIFT)
#define INTR_TYPE_HW_EXCEPTION (NEST_VMX_INTR_TYPE_HW_EXCEPTION << NEST_VMX_INTR_INFO_TYPE_SHIFT)
#define VEC_PF 14

/* EPT (SDM 29.3). */
#define EPT_R (1ull << 0)
#define EPT_W (1ull << 1)
#define EPT_X (1ull << 2)
#define EPT_MT_SHIFT 3
#define EPT_MT_UC 0ull
#define EPT_MT_WB 6ull
#define EPTP_WB 6ull
#define EPTP_WALK_4 (3ull << 3)
#define EPT_VPID_CAP_INVEPT_SINGLE (1ull << 25)
#define EPT_VPID_CAP_INVVPID_SINGLE (1ull << 41)
#define INVEPT_SINGLE 1ull
#define INVEPT_ALL 2ull
#define INVVPID_ADDR 0ull
#define INVVPID_SINGLE 1ull
#define INVVPID_ALL 2ull

/* Access rights in the VMCS format (SDM 25.4.1). */
#define AR_CODE32 0xC09Bu /* execute/read accessed, S, P, D, G */
#define AR_DATA32 0xC093u /* read/write accessed, S, P, D, G */
#define AR_LDT 0x0082u
#define AR_TSS32_BUSY 0x008Bu
#define AR_DPL_SHIFT 5
#define AR_DPL_MASK 3u

/* Basic exit reasons (SDM appendix C). */
#define EXIT_REASON_BASIC(r) ((r)&NEST_VMX_EXIT_REASON_BASIC_MASK)

/* Exit qualifications (SDM 28.2.1). */
#define CRQ_CR(q) ((unsigned)(q)&0xFu)
#define CRQ_TYPE(q) ((unsigned)((q) >> 4) & 3u)
#define CRQ_TYPE_MOV_TO 0
#define CRQ_TYPE_MOV_FROM 1
#define CRQ_TYPE_CLTS 2
#define CRQ_TYPE_LMSW 3
#define CRQ_GPR(q) ((unsigned)((q) >> 8) & 0xFu)
#define CRQ_LMSW_DATA(q) ((uint16_t)((q) >> 16))
#define IOQ_SIZE(q) ((unsigned)((q)&7u) + 1)
#define IOQ_IN (1u << 3)
#define IOQ_STRING (1u << 4)
#define IOQ_PORT(q) ((uint16_t)((q) >> 16))

/* General-purpose registers in instruction-encoding order, as libnest has them. */
#define GPR_RAX 0
#define GPR_RSP 4

/* ---- instructions (SDM 31.3); each returns true on VMsucceed ---- */

static inline bool vmx_ok(uint8_t fail)
{
	return !fail;
}

static inline bool vmxon(uint64_t pa)
{
	uint8_t fail;
	__asm__ volatile("vmxon %1; setbe %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return vmx_ok(fail);
}

static inline bool vmptrld(uint64_t pa)
{
	uint8_t fail;
	__asm__ volatile("vmptrld %1; setbe %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return vmx_ok(fail);
}

static inline bool vmclear(uint64_t pa)
{
	uint8_t fail;
	__asm__ volatile("vmclear %1; setbe %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return vmx_ok(fail);
}

static inline bool vmread_checked(uint64_t field, uint64_t *value)
{
	uint8_t fail;
	__asm__ volatile("vmread %2, %1; setbe %0" : "=q"(fail), "=rm"(*value) : "r"(field) : "cc");
	return vmx_ok(fail);
}

static inline bool vmwrite_checked(uint64_t field, uint64_t value)
{
	uint8_t fail;
	__asm__ volatile("vmwrite %2, %1; setbe %0" : "=q"(fail) : "r"(field), "rm"(value) : "cc");
	return vmx_ok(fail);
}

struct inv_desc {
	uint64_t lo, hi;
};

/* EPT-violation exit qualification: the access was a write (SDM 28.2.1). */
#define EPT_QUAL_WRITE (1ull << 1)

static inline bool invept(uint64_t type, uint64_t eptp)
{
	struct inv_desc d = {eptp, 0};
	uint8_t fail;
	__asm__ volatile("invept %1, %2; setbe %0" : "=q"(fail) : "m"(d), "r"(type) : "cc", "memory");
	return vmx_ok(fail);
}

static inline bool invvpid(uint64_t type, uint16_t vpid, uint64_t addr)
{
	struct inv_desc d = {vpid, addr};
	uint8_t fail;
	__asm__ volatile("invvpid %1, %2; setbe %0" : "=q"(fail) : "m"(d), "r"(type) : "cc", "memory");
	return vmx_ok(fail);
}

#endif /* STUB_VMX_HW_H */
