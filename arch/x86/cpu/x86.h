/* SPDX-License-Identifier: MIT */
/*
 * Shared x86 architectural rules: control-register, EFER, RFLAGS and debug
 * register bits, MSR numbers, exception vectors, canonical and
 * physical-address helpers. Names follow the Intel SDM and AMD APM.
 * Append only: VMX, SVM and paging all use these.
 */
#ifndef NEST_X86_H
#define NEST_X86_H

#include <stdbool.h>
#include <stdint.h>

/* CR0 (SDM 2.5) */
#define X86_CR0_PE (1ull << 0)
#define X86_CR0_MP (1ull << 1)
#define X86_CR0_EM (1ull << 2)
#define X86_CR0_TS (1ull << 3)
#define X86_CR0_ET (1ull << 4)
#define X86_CR0_NE (1ull << 5)
#define X86_CR0_WP (1ull << 16)
#define X86_CR0_AM (1ull << 18)
#define X86_CR0_NW (1ull << 29)
#define X86_CR0_CD (1ull << 30)
#define X86_CR0_PG (1ull << 31)

/* CR3 */
#define X86_CR3_PWT (1ull << 3)
#define X86_CR3_PCD (1ull << 4)
#define X86_CR3_PCID_MASK 0xfffull
#define X86_CR3_LAM_U57 (1ull << 61)
#define X86_CR3_LAM_U48 (1ull << 62)
#define X86_CR3_PCID_NOFLUSH (1ull << 63)

/* CR4 (SDM 2.5) */
#define X86_CR4_VME (1ull << 0)
#define X86_CR4_PVI (1ull << 1)
#define X86_CR4_TSD (1ull << 2)
#define X86_CR4_DE (1ull << 3)
#define X86_CR4_PSE (1ull << 4)
#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_MCE (1ull << 6)
#define X86_CR4_PGE (1ull << 7)
#define X86_CR4_PCE (1ull << 8)
#define X86_CR4_OSFXSR (1ull << 9)
#define X86_CR4_OSXMMEXCPT (1ull << 10)
#define X86_CR4_UMIP (1ull << 11)
#define X86_CR4_LA57 (1ull << 12)
#define X86_CR4_VMXE (1ull << 13)
#define X86_CR4_SMXE (1ull << 14)
#define X86_CR4_FSGSBASE (1ull << 16)
#define X86_CR4_PCIDE (1ull << 17)
#define X86_CR4_OSXSAVE (1ull << 18)
#define X86_CR4_KL (1ull << 19)
#define X86_CR4_SMEP (1ull << 20)
#define X86_CR4_SMAP (1ull << 21)
#define X86_CR4_PKE (1ull << 22)
#define X86_CR4_CET (1ull << 23)
#define X86_CR4_PKS (1ull << 24)
#define X86_CR4_UINTR (1ull << 25)
#define X86_CR4_LAM_SUP (1ull << 28)

/* EFER (SDM 2.2.1, APM 3.1.7) */
#define X86_EFER_SCE (1ull << 0)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)
#define X86_EFER_NXE (1ull << 11)
#define X86_EFER_SVME (1ull << 12)
#define X86_EFER_LMSLE (1ull << 13)
#define X86_EFER_FFXSR (1ull << 14)
#define X86_EFER_TCE (1ull << 15)
#define X86_EFER_MCOMMIT (1ull << 17)
#define X86_EFER_INTWB (1ull << 18)
#define X86_EFER_UAIE (1ull << 20)
#define X86_EFER_AIBRSE (1ull << 21)

/* RFLAGS (SDM 3.4.3) */
#define X86_RFLAGS_CF (1ull << 0)
#define X86_RFLAGS_FIXED1 (1ull << 1)
#define X86_RFLAGS_PF (1ull << 2)
#define X86_RFLAGS_AF (1ull << 4)
#define X86_RFLAGS_ZF (1ull << 6)
#define X86_RFLAGS_SF (1ull << 7)
#define X86_RFLAGS_TF (1ull << 8)
#define X86_RFLAGS_IF (1ull << 9)
#define X86_RFLAGS_DF (1ull << 10)
#define X86_RFLAGS_OF (1ull << 11)
#define X86_RFLAGS_IOPL_MASK (3ull << 12)
#define X86_RFLAGS_NT (1ull << 14)
#define X86_RFLAGS_RF (1ull << 16)
#define X86_RFLAGS_VM (1ull << 17)
#define X86_RFLAGS_AC (1ull << 18)
#define X86_RFLAGS_VIF (1ull << 19)
#define X86_RFLAGS_VIP (1ull << 20)
#define X86_RFLAGS_ID (1ull << 21)
/* Bits 3, 5, 15, 22-63 are reserved and must be zero. */
#define X86_RFLAGS_RESERVED_MASK (~0x3f7fd5ull)
/* The arithmetic flags that VMsucceed/VMfail write (SDM 31.2). */
#define X86_RFLAGS_ARITH_MASK                                                                     \
	(X86_RFLAGS_CF | X86_RFLAGS_PF | X86_RFLAGS_AF | X86_RFLAGS_ZF | X86_RFLAGS_SF |          \
	 X86_RFLAGS_OF)

/* DR6/DR7 (SDM 18.2) */
#define X86_DR6_FIXED1 0xffff0ff0ull /* bits that read as 1 (without RTM/BLD) */
#define X86_DR6_BLD (1ull << 11)
#define X86_DR6_BS (1ull << 14) /* single step */
#define X86_DR6_RTM (1ull << 16)
#define X86_DR7_FIXED1 (1ull << 10)
#define X86_DR7_GD (1ull << 13)

/* Exception vectors (SDM 6.3.1) */
#define X86_EXC_DE 0
#define X86_EXC_DB 1
#define X86_EXC_NMI 2
#define X86_EXC_BP 3
#define X86_EXC_OF 4
#define X86_EXC_BR 5
#define X86_EXC_UD 6
#define X86_EXC_NM 7
#define X86_EXC_DF 8
#define X86_EXC_TS 10
#define X86_EXC_NP 11
#define X86_EXC_SS 12
#define X86_EXC_GP 13
#define X86_EXC_PF 14
#define X86_EXC_MF 16
#define X86_EXC_AC 17
#define X86_EXC_MC 18
#define X86_EXC_XM 19
#define X86_EXC_VE 20
#define X86_EXC_CP 21
#define X86_EXC_SX 30 /* AMD security exception */

/* #PF error code bits (SDM 4.7) */
#define X86_PFEC_P (1u << 0)
#define X86_PFEC_W (1u << 1)
#define X86_PFEC_U (1u << 2)
#define X86_PFEC_RSVD (1u << 3)
#define X86_PFEC_I (1u << 4)
#define X86_PFEC_PK (1u << 5)
#define X86_PFEC_SS (1u << 6)
#define X86_PFEC_SGX (1u << 15)

/* MSRs */
#define X86_MSR_IA32_TIME_STAMP_COUNTER 0x00000010u
#define X86_MSR_IA32_APIC_BASE 0x0000001bu
#define X86_MSR_IA32_FEATURE_CONTROL 0x0000003au
#define X86_MSR_IA32_TSC_ADJUST 0x0000003bu
#define X86_MSR_IA32_SPEC_CTRL 0x00000048u
#define X86_MSR_IA32_PRED_CMD 0x00000049u
#define X86_MSR_IA32_SYSENTER_CS 0x00000174u
#define X86_MSR_IA32_SYSENTER_ESP 0x00000175u
#define X86_MSR_IA32_SYSENTER_EIP 0x00000176u
#define X86_MSR_IA32_DEBUGCTL 0x000001d9u
#define X86_MSR_IA32_PAT 0x00000277u
#define X86_MSR_IA32_PERF_GLOBAL_CTRL 0x0000038fu
#define X86_MSR_IA32_VMX_BASIC 0x00000480u
#define X86_MSR_IA32_VMX_PINBASED_CTLS 0x00000481u
#define X86_MSR_IA32_VMX_PROCBASED_CTLS 0x00000482u
#define X86_MSR_IA32_VMX_EXIT_CTLS 0x00000483u
#define X86_MSR_IA32_VMX_ENTRY_CTLS 0x00000484u
#define X86_MSR_IA32_VMX_MISC 0x00000485u
#define X86_MSR_IA32_VMX_CR0_FIXED0 0x00000486u
#define X86_MSR_IA32_VMX_CR0_FIXED1 0x00000487u
#define X86_MSR_IA32_VMX_CR4_FIXED0 0x00000488u
#define X86_MSR_IA32_VMX_CR4_FIXED1 0x00000489u
#define X86_MSR_IA32_VMX_VMCS_ENUM 0x0000048au
#define X86_MSR_IA32_VMX_PROCBASED_CTLS2 0x0000048bu
#define X86_MSR_IA32_VMX_EPT_VPID_CAP 0x0000048cu
#define X86_MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x0000048du
#define X86_MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x0000048eu
#define X86_MSR_IA32_VMX_TRUE_EXIT_CTLS 0x0000048fu
#define X86_MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x00000490u
#define X86_MSR_IA32_VMX_VMFUNC 0x00000491u
#define X86_MSR_IA32_VMX_PROCBASED_CTLS3 0x00000492u
#define X86_MSR_IA32_VMX_EXIT_CTLS2 0x00000493u
#define X86_MSR_IA32_BNDCFGS 0x00000d90u
#define X86_MSR_IA32_RTIT_CTL 0x00000570u
#define X86_MSR_IA32_S_CET 0x000006a2u
#define X86_MSR_IA32_INTERRUPT_SSP_TABLE_ADDR 0x000006a8u
#define X86_MSR_IA32_PKRS 0x000006e1u
#define X86_MSR_X2APIC_BASE 0x00000800u
#define X86_MSR_X2APIC_LAST 0x000008ffu
#define X86_MSR_IA32_EFER 0xc0000080u
#define X86_MSR_IA32_STAR 0xc0000081u
#define X86_MSR_IA32_LSTAR 0xc0000082u
#define X86_MSR_IA32_CSTAR 0xc0000083u
#define X86_MSR_IA32_FMASK 0xc0000084u
#define X86_MSR_IA32_FS_BASE 0xc0000100u
#define X86_MSR_IA32_GS_BASE 0xc0000101u
#define X86_MSR_IA32_KERNEL_GS_BASE 0xc0000102u
#define X86_MSR_IA32_TSC_AUX 0xc0000103u
/* AMD SVM MSRs (APM 15.30) */
#define X86_MSR_VM_CR 0xc0010114u
#define X86_MSR_VM_HSAVE_PA 0xc0010117u
#define X86_MSR_AMD_TSC_RATIO 0xc0000104u

/* IA32_FEATURE_CONTROL (SDM 24.7) */
#define X86_FEATURE_CONTROL_LOCK (1ull << 0)
#define X86_FEATURE_CONTROL_VMXON_IN_SMX (1ull << 1)
#define X86_FEATURE_CONTROL_VMXON_OUTSIDE_SMX (1ull << 2)

/* VM_CR (APM 15.30.1) */
#define X86_VM_CR_DPD (1ull << 0)
#define X86_VM_CR_R_INIT (1ull << 1)
#define X86_VM_CR_DIS_A20M (1ull << 2)
#define X86_VM_CR_LOCK (1ull << 3)
#define X86_VM_CR_SVMDIS (1ull << 4)

/* Segment access rights as in VMX (SDM 24.4.1) and, compressed, SVM. */
#define X86_SEG_TYPE_MASK 0xfu
#define X86_SEG_TYPE_ACCESSED 0x1u
#define X86_SEG_TYPE_WRITABLE 0x2u   /* data */
#define X86_SEG_TYPE_READABLE 0x2u   /* code */
#define X86_SEG_TYPE_EXPAND_DOWN 0x4u /* data */
#define X86_SEG_TYPE_CONFORMING 0x4u /* code */
#define X86_SEG_TYPE_CODE 0x8u
#define X86_SEG_S (1u << 4)
#define X86_SEG_DPL_SHIFT 5
#define X86_SEG_DPL_MASK (3u << 5)
#define X86_SEG_P (1u << 7)
#define X86_SEG_AVL (1u << 12)
#define X86_SEG_L (1u << 13)
#define X86_SEG_DB (1u << 14)
#define X86_SEG_G (1u << 15)
#define X86_SEG_UNUSABLE (1u << 16) /* VMX only */

/* Canonical addresses: bits 63..(va_bits-1) all equal (SDM 3.3.7.1). */
/* Vectors an exception can have (SDM 6.3.1): 0-21 but the NMI, 9 (not
 * raised by processors since the i486) and 15 (reserved); with amd, also
 * #SX (APM vol. 2, 8.2.21). */
static inline bool x86_exc_vector(unsigned vector, bool amd)
{
	if (amd && vector == X86_EXC_SX)
		return true;
	return vector <= X86_EXC_CP && vector != X86_EXC_NMI && vector != 9 && vector != 15;
}

/* Exceptions that push an error code in protected mode (SDM 6.13, table
 * 6-1; #SX, APM vol. 2, 8.2.21). */
static inline bool x86_exc_error_code(unsigned vector)
{
	return vector == X86_EXC_DF || (vector >= X86_EXC_TS && vector <= X86_EXC_PF) ||
	       vector == X86_EXC_AC || vector == X86_EXC_CP || vector == X86_EXC_SX;
}

static inline bool x86_is_canonical(uint64_t va, unsigned va_bits)
{
	int64_t sva = (int64_t)(va << (64 - va_bits));

	return (uint64_t)(sva >> (64 - va_bits)) == va;
}

/* A physical address fits in maxphyaddr bits. */
static inline bool x86_pa_fits(uint64_t pa, unsigned maxphyaddr)
{
	return maxphyaddr >= 64 || (pa >> maxphyaddr) == 0;
}

/* A mask of the physical-address bits at and above maxphyaddr. */
static inline uint64_t x86_pa_reserved_mask(unsigned maxphyaddr)
{
	return maxphyaddr >= 64 ? 0 : ~((1ull << maxphyaddr) - 1);
}

/* IA32_PAT: eight 8-bit entries; types 2, 3 and above 7 are reserved. */
#define X86_PAT_TYPE_RESERVED2 2u
#define X86_PAT_TYPE_RESERVED3 3u
#define X86_PAT_TYPE_MAX 7u
#define X86_PAT_ENTRIES 8u
#define X86_PAT_ENTRY_BITS 8u
/* IA32_PAT holds only architecturally defined memory types (rules.c). */
bool nest__x86_pat_valid(uint64_t pat);

#endif /* NEST_X86_H */
