/* SPDX-License-Identifier: MIT */
/*
 * A valid baseline for the VM-entry checks: a vmcs12 for a 64-bit guest
 * with EPT, VPID and unrestricted guest under the typical capabilities of
 * nest_vmx_caps_default(), entered by an L1 in IA-32e mode. Shared by the
 * unit tests (which mutate one thing and expect exactly one rule to fail)
 * and the fuzzer (which mutates many).
 */
#ifndef TEST_VMX_ENTRY_BASELINE_H
#define TEST_VMX_ENTRY_BASELINE_H

#include <string.h>

#include <nest/nest.h>

#include "internal.h"
#include "vmx/check.h"

#define FX_MSR_MAX 520u

struct fx {
	struct nest__vmcs12 v;
	struct nest_vmx_caps caps;
	struct nest__vmx_entry_env env;
	struct nest_vmx_msr_entry msr[FX_MSR_MAX];
};

/* Baseline values (a typical 64-bit Linux-like L2 and L1 host state). */
#define FX_CR0 (X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG)
#define FX_CR4 (X86_CR4_PAE | X86_CR4_PGE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | X86_CR4_VMXE)
#define FX_EFER (X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE)
#define FX_PAT 0x0007040600070406ull
#define FX_CODE64_AR 0xa09bu /* G, L, P, S, type 11 */
#define FX_CODE32_AR 0xc09bu /* G, D/B, P, S, type 11 */
#define FX_DATA_AR 0xc093u   /* G, D/B, P, S, type 3 */
#define FX_TSS_AR 0x008bu    /* P, busy 64-bit TSS */
#define FX_SEL_CODE 0x10u
#define FX_SEL_DATA 0x18u
#define FX_SEL_TSS 0x40u
#define FX_EPTP (0x14000ull | VMX_EPTP_MEMTYPE_WB | VMX_EPTP_PWL_4 | VMX_EPTP_AD_ENABLE)
#define FX_LINK_PTR 0x1e000ull
#define FX_PIN                                                                                     \
	(VMX_PIN_DEFAULT1 | VMX_PIN_EXT_INTR_EXITING | VMX_PIN_NMI_EXITING | VMX_PIN_VIRTUAL_NMIS)

static inline void fx_init(struct fx *f)
{
	struct nest__vmcs12 *v = &f->v;

	memset(f, 0, sizeof(*f));
	f->caps.size = sizeof(f->caps);
	nest_vmx_caps_default(&f->caps);
	f->env.l1_ia32e = true;
	v->revision = NEST_VMCS12_REVISION;

	/* Controls. */
	v->PIN_BASED_VM_EXEC_CONTROL = FX_PIN;
	v->CPU_BASED_VM_EXEC_CONTROL =
	    (VMX_PROC_DEFAULT1 & ~(VMX_PROC_CR3_LOAD_EXITING | VMX_PROC_CR3_STORE_EXITING)) |
	    VMX_PROC_HLT_EXITING | VMX_PROC_USE_TPR_SHADOW | VMX_PROC_USE_IO_BITMAPS |
	    VMX_PROC_USE_MSR_BITMAPS | VMX_PROC_ACTIVATE_SECONDARY;
	v->SECONDARY_VM_EXEC_CONTROL = VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_VPID |
				       VMX_PROC2_UNRESTRICTED_GUEST | VMX_PROC2_ENABLE_RDTSCP;
	v->IO_BITMAP_A = 0x10000;
	v->IO_BITMAP_B = 0x11000;
	v->MSR_BITMAP = 0x12000;
	v->VIRTUAL_APIC_PAGE_ADDR = 0x13000;
	v->EPT_POINTER = FX_EPTP;
	v->VIRTUAL_PROCESSOR_ID = 1;
	v->VM_EXIT_CONTROLS = (VMX_EXIT_DEFAULT1 & ~VMX_EXIT_SAVE_DEBUG_CONTROLS) |
			      VMX_EXIT_HOST_ADDR_SPACE_SIZE | VMX_EXIT_ACK_INTR_ON_EXIT |
			      VMX_EXIT_SAVE_PAT | VMX_EXIT_LOAD_PAT | VMX_EXIT_SAVE_EFER |
			      VMX_EXIT_LOAD_EFER;
	v->VM_ENTRY_CONTROLS = VMX_ENTRY_DEFAULT1 | VMX_ENTRY_IA32E_MODE_GUEST |
			       VMX_ENTRY_LOAD_PAT | VMX_ENTRY_LOAD_EFER;
	v->VM_ENTRY_MSR_LOAD_ADDR = 0x1d000;

	/* Host state. */
	v->HOST_CR0 = FX_CR0;
	v->HOST_CR3 = 0x1000;
	v->HOST_CR4 = FX_CR4;
	v->HOST_CS_SELECTOR = FX_SEL_CODE;
	v->HOST_SS_SELECTOR = FX_SEL_DATA;
	v->HOST_DS_SELECTOR = FX_SEL_DATA;
	v->HOST_ES_SELECTOR = FX_SEL_DATA;
	v->HOST_TR_SELECTOR = FX_SEL_TSS;
	v->HOST_TR_BASE = 0xffff880000001000ull;
	v->HOST_GDTR_BASE = 0xffff880000002000ull;
	v->HOST_IDTR_BASE = 0xffff880000003000ull;
	v->HOST_RIP = 0xffffffff81000000ull;
	v->HOST_RSP = 0xffff880000010000ull;
	v->HOST_IA32_PAT = FX_PAT;
	v->HOST_IA32_EFER = FX_EFER;

	/* Guest state. */
	v->GUEST_CR0 = FX_CR0;
	v->GUEST_CR3 = 0x2000;
	v->GUEST_CR4 = FX_CR4;
	v->GUEST_DR7 = X86_DR7_FIXED1;
	v->GUEST_RFLAGS = X86_RFLAGS_FIXED1;
	v->GUEST_RIP = 0x401000;
	v->GUEST_RSP = 0x7ff000;
	v->GUEST_CS_SELECTOR = FX_SEL_CODE;
	v->GUEST_CS_LIMIT = UINT32_MAX;
	v->GUEST_CS_AR_BYTES = FX_CODE64_AR;
	v->GUEST_SS_SELECTOR = FX_SEL_DATA;
	v->GUEST_SS_LIMIT = UINT32_MAX;
	v->GUEST_SS_AR_BYTES = FX_DATA_AR;
	v->GUEST_DS_SELECTOR = FX_SEL_DATA;
	v->GUEST_DS_LIMIT = UINT32_MAX;
	v->GUEST_DS_AR_BYTES = FX_DATA_AR;
	v->GUEST_ES_SELECTOR = FX_SEL_DATA;
	v->GUEST_ES_LIMIT = UINT32_MAX;
	v->GUEST_ES_AR_BYTES = FX_DATA_AR;
	v->GUEST_FS_SELECTOR = FX_SEL_DATA;
	v->GUEST_FS_LIMIT = UINT32_MAX;
	v->GUEST_FS_AR_BYTES = FX_DATA_AR;
	v->GUEST_GS_SELECTOR = FX_SEL_DATA;
	v->GUEST_GS_LIMIT = UINT32_MAX;
	v->GUEST_GS_AR_BYTES = FX_DATA_AR;
	v->GUEST_LDTR_AR_BYTES = X86_SEG_UNUSABLE;
	v->GUEST_TR_SELECTOR = FX_SEL_TSS;
	v->GUEST_TR_LIMIT = 0x67;
	v->GUEST_TR_AR_BYTES = FX_TSS_AR;
	v->GUEST_GDTR_LIMIT = 0x7f;
	v->GUEST_IDTR_LIMIT = 0xfff;
	v->GUEST_IA32_PAT = FX_PAT;
	v->GUEST_IA32_EFER = FX_EFER;
	v->VMCS_LINK_POINTER = UINT64_MAX;
}

/* Run the checks as a VM entry does: 27.2 and 27.3, then 27.4 over the
 * fixture's MSR-load entries (VM_ENTRY_MSR_LOAD_COUNT of them). */
static inline int fx_run(struct fx *f, struct nest_vmx_entry_result *res)
{
	int r;
	uint32_t n = f->v.VM_ENTRY_MSR_LOAD_COUNT;

	/* The fixture holds FX_MSR_MAX entries: a larger count reads no further. */
	if (n > FX_MSR_MAX)
		n = FX_MSR_MAX;

	memset(res, 0, sizeof(*res));
	res->size = sizeof(*res);
	r = nest__vmx_check_entry(&f->v, &f->caps, &f->env, res);
	if (r != 0)
		return r;
	return nest__vmx_check_msr_load(f->msr, n, &f->caps, res);
}

/* Let the caps offer an extra 1-setting in a control capability (both
 * the plain and the true MSR). */
static inline void fx_allow(uint64_t *plain, uint64_t *truecap, uint32_t bits)
{
	*plain |= (uint64_t)bits << 32;
	if (truecap)
		*truecap |= (uint64_t)bits << 32;
}

#endif /* TEST_VMX_ENTRY_BASELINE_H */
