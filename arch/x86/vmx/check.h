/* SPDX-License-Identifier: MIT */
/*
 * VM-entry checks (Intel SDM Vol. 3C chapter 27 "VM Entries"): pure
 * functions over a vmcs12 image, the capabilities offered to L1 and an
 * environment holding what a VM entry would read elsewhere (L1 memory, L1's
 * own mode). They serve the VMLAUNCH/VMRESUME emulation, nestctl and the
 * fuzzers alike. Internal to the core.
 *
 * Order (SDM 27.1 - 27.4): the caller makes the basic checks of 27.1
 * (launch state: errors 4 and 5; blocking by MOV SS: error 26), then
 * nest__vmx_check_entry() runs 27.2 (controls: error 7; host state: error
 * 8) and 27.3 (guest state: exit reason 33), and nest__vmx_check_msr_load()
 * runs 27.4 (exit reason 34) over the MSR-load entries the caller copied
 * from L1 memory once.
 */
#ifndef NEST_VMX_CHECK_H
#define NEST_VMX_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include <nest/vmx.h>

#include "internal.h"
#include "cpu/x86.h"
#include "vmx/vmcs12.h"
#include "vmx/vmx_arch.h"

/* What a VM entry reads outside the vmcs12 image. Zero-initialised, it
 * describes an L1 outside IA-32e mode that fetched nothing; fields flagged
 * "fetched" are used only when their flag is set (otherwise the check that
 * needs them uses the stated fallback). */
struct nest__vmx_entry_env {
	/* L1 executes VMLAUNCH/VMRESUME with IA32_EFER.LMA = 1 (SDM 27.2.4). */
	bool l1_ia32e;
	/* The four PDPTEs at guest CR3 (bits 31:5), read from L1 memory, for PAE
	 * paging without EPT (SDM 27.3.1.6). Not fetched: the image's
	 * GUEST_PDPTE0-3 fields are checked instead. */
	bool pdptes_fetched;
	uint64_t pdpte[4];
	/* The first 32 bits of the VMCS region at the VMCS link pointer
	 * (revision identifier, bit 31 shadow-VMCS indicator; SDM 27.3.1.5).
	 * Not fetched: those two checks are skipped. */
	bool link_fetched;
	uint32_t link_header;
	/* VTPR: byte 0x80 of the virtual-APIC page (SDM 27.2.1.1). Not fetched:
	 * the TPR-threshold-versus-VTPR check is skipped. */
	bool vtpr_fetched;
	uint8_t vtpr;
	/* Bits of IA32_PERF_GLOBAL_CTRL that are reserved for L1 (the
	 * architectural PMU L1 sees). Zero: no bit is known reserved. */
	uint64_t perf_global_ctrl_reserved;
	/* Reserved bits of IA32_RTIT_CTL (from the Intel PT capabilities, CPUID
	 * leaf 14H) and of IA32_LBR_CTL (CPUID leaf 1CH) for L1. Zero: no bit
	 * is known reserved. */
	uint64_t rtit_ctl_reserved;
	uint64_t lbr_ctl_reserved;
	/* A machine check hit during VM entry (SDM 27.9): exit reason 41 after
	 * the guest-state checks pass. */
	bool machine_check;
};

/* Shorthands derived once from the image, the caps and the env. */
struct nest__vmx_entry_ctx {
	const struct nest__vmcs12 *v;
	const struct nest_vmx_caps *caps;
	const struct nest__vmx_entry_env *env;
	uint32_t pin, proc, proc2, exit, entry;
	uint64_t proc3, exit2;
	unsigned maxphyaddr;
	unsigned va_bits; /* linear-address width: 57 if L1 may use 5-level paging, else 48 */
	bool ia32e_guest; /* VM-entry control "IA-32e mode guest" */
	bool ug;	  /* secondary control "unrestricted guest" (when active) */
	bool v86;	  /* guest RFLAGS.VM */
	bool host64;	  /* VM-exit control "host address-space size" */
	struct nest_vmx_entry_result *res;
};

/* Record the failure of `rule` on `field`: outcome, error number or exit
 * reason and qualification come from the rule table, except for MSR-loading
 * rules whose qualification is `msr_qual` (entry index + 1). Returns the
 * outcome. */
int nest__vmx_entry_fail(struct nest_vmx_entry_result *res, enum nest_vmx_rule rule, uint32_t field,
			 uint64_t msr_qual);

/* Each function returns 0 when its checks pass, or the outcome of the
 * first failing rule (recorded in ctx->res). */
int nest__vmx_check_controls(const struct nest__vmx_entry_ctx *c);   /* SDM 27.2.1 */
int nest__vmx_check_host(const struct nest__vmx_entry_ctx *c);	     /* SDM 27.2.2-27.2.4 */
int nest__vmx_check_guest_regs(const struct nest__vmx_entry_ctx *c); /* SDM 27.3.1.1 */
int nest__vmx_check_guest_segs(const struct nest__vmx_entry_ctx *c); /* SDM 27.3.1.2-27.3.1.4 */
int nest__vmx_check_guest_misc(const struct nest__vmx_entry_ctx *c); /* SDM 27.3.1.5-27.3.1.6 */

/* SDM 27.2 and 27.3 (then 27.9 if env->machine_check). `res->size` is
 * ignored: the whole struct is written. Returns the outcome (0 = OK). */
int nest__vmx_check_entry(const struct nest__vmcs12 *v, const struct nest_vmx_caps *caps,
			  const struct nest__vmx_entry_env *env, struct nest_vmx_entry_result *res);

/* Check groups, in the order nest__vmx_check_entry() runs them, for the
 * VMRESUME fast path (entry.c). What each reads, besides the caps and the
 * environment:
 *   CONTROLS  (27.2.1)      every control field, and GUEST_CR0 (event
 *                           injection under "unrestricted guest");
 *   HOST      (27.2.2-4)    every control field and every host-state field;
 *   GUEST     (27.3.1)      every control field and every guest-state field.
 * No group reads a VM-exit information field or the image header.
 * nest__vmx_check_groups_reading() is this table; tests verify it against
 * the check functions by mutating fields outside a group's inputs. */
#define NEST__VMX_CHECK_CONTROLS (1u << 0)
#define NEST__VMX_CHECK_HOST (1u << 1)
#define NEST__VMX_CHECK_GUEST (1u << 2)
#define NEST__VMX_CHECK_ALL                                                                        \
	(NEST__VMX_CHECK_CONTROLS | NEST__VMX_CHECK_HOST | NEST__VMX_CHECK_GUEST)

/* The check groups that read field `index` (table position). */
unsigned nest__vmx_check_groups_reading(unsigned index);

/* nest__vmx_check_entry() running only the groups in `groups` (in their
 * order), then 27.9. The caller asserts that the groups left out pass: their
 * inputs are those of an earlier run that passed. With NEST__VMX_CHECK_ALL
 * it is nest__vmx_check_entry(). */
int nest__vmx_check_entry_groups(const struct nest__vmcs12 *v, const struct nest_vmx_caps *caps,
				 const struct nest__vmx_entry_env *env,
				 struct nest_vmx_entry_result *res, unsigned groups);

/* SDM 27.4 over `count` entries already copied to L0 memory (single
 * fetch). `entries` may be NULL when `count` is 0 or above the limit of
 * IA32_VMX_MISC[27:25] (the count is refused before any entry is read).
 * Returns the outcome. */
int nest__vmx_check_msr_load(const struct nest_vmx_msr_entry *entries, uint32_t count,
			     const struct nest_vmx_caps *caps, struct nest_vmx_entry_result *res);

/* Architectural constants the entry checks need beyond vmx_arch.h and
 * cpu/x86.h, named as in the SDM. */
#define VMX_VMFUNC_EPTP_SWITCHING (1ull << 0) /* SDM 25.6.14 */
#define VMX_CAP_ALLOWED1_SHIFT 32	      /* allowed-1 settings: bits 63:32 (SDM A.3) */
#define VMX_INTR_TYPE_RESERVED 1u	      /* interruption type 1 (SDM 25.8.3) */
#define VMX_VMCS_ENUM_INDEX_SHIFT 1	      /* IA32_VMX_VMCS_ENUM bits 9:1 (SDM A.9) */
#define VMX_PROC3_LOADIWKEY_EXITING (1ull << 0) /* SDM 25.6.2 */
#define VMX_POSTED_INTR_VECTOR_RESERVED 0xff00u /* bits 15:8 (SDM 27.2.1.1) */
#define VMX_POSTED_INTR_DESC_ALIGN 0x3full	/* 64-byte aligned */
#define VMX_TPR_THRESHOLD_RESERVED 0xfffffff0u	/* bits 31:4 */
#define VMX_TPR_THRESHOLD_MASK 0xfu
#define VMX_VTPR_PRIORITY_SHIFT 4 /* VTPR bits 7:4 */
#define VMX_EPTP_SSS_SHIFT 7
#define VMX_MSR_AREA_ALIGN 0xfull /* 16-byte aligned (SDM 27.2.1.2) */
#define VMX_MSR_ENTRY_SIZE 16u
#define VMX_ENTRY_ERROR_CODE_RESERVED 0xffff0000u /* bits 31:16 (SDM 27.2.1.3) */
#define VMX_ENTRY_INSN_LEN_MAX 15u
#define VMX_CR3_TARGET_MAX 4u
#define VMX_SELECTOR_RPL_MASK 0x3u
#define VMX_SELECTOR_TI (1u << 2)
#define VMX_SELECTOR_INDEX_SHIFT 4 /* real-mode base = selector << 4 */
#define VMX_SEG_V86_LIMIT 0xffffu
#define VMX_SEG_V86_AR 0xf3u /* present, DPL 3, read/write accessed data */
#define VMX_SEG_AR_RESERVED_11_8 0xf00u
#define VMX_SEG_AR_RESERVED_31_17 0xfffe0000u
#define VMX_SEG_LIMIT_PAGE_LOW 0xfffu  /* limit bits 11:0 */
#define VMX_SEG_LIMIT_HIGH 0xfff00000u /* limit bits 31:20 */
#define VMX_SEG_TYPE_DATA_RW_ACCESSED 3u
#define VMX_SEG_TYPE_DATA_RW_DOWN_ACCESSED 7u
#define VMX_SEG_TYPE_LDT 2u
#define VMX_SEG_TYPE_TSS16_BUSY 3u
#define VMX_SEG_TYPE_TSS_BUSY 11u
#define VMX_SEG_TYPE_CODE_LAST_NONCONFORMING 11u /* types 9 and 11 */
#define VMX_DT_LIMIT_RESERVED 0xffff0000u	 /* GDTR/IDTR limit bits 31:16 */
#define VMX_PENDING_DBG_BS (1ull << 14)
#define VMX_PENDING_DBG_VALID 0x500full /* B3-B0, enabled breakpoint (12), BS (14) */
#define VMX_VMCS_LINK_NONE UINT64_MAX
#define VMX_REVISION_MASK 0x7fffffffu
#define VMX_PDPTE_P (1ull << 0)
#define VMX_PDPTE_RESERVED 0x1e6ull	  /* bits 2:1 and 8:5 (SDM 4.4.1) */
#define VMX_PDPTE_ADDR_MASK 0xffffffe0ull /* CR3 bits 31:5 under PAE paging */
/* IA32_DEBUGCTL (SDM 18.4.1, 17.3.1.1): bits 5:2 and 63:16 reserved. */
#define X86_DEBUGCTL_BTF (1ull << 1)
#define X86_DEBUGCTL_RESERVED 0xffffffffffff003cull
/* IA32_S_CET (SDM Vol. 4 table 2-2): bits 9:6 reserved; SUPPRESS (10), TRACKER (11). */
#define X86_CET_RESERVED_9_6 0x3c0ull
#define X86_SSP_ALIGN_MASK 0x3ull /* SSP bits 1:0: 4-byte aligned */
#define X86_CET_SUPPRESS (1ull << 10)
#define X86_CET_TRACKER (1ull << 11)
/* IA32_BNDCFGS (SDM 17.3.3): bits 11:2 reserved, 63:12 a linear address. */
#define X86_BNDCFGS_RESERVED 0xffcull
#define X86_BNDCFGS_BASE_MASK (~0xfffull)
#define X86_UINV_RESERVED 0xff00u /* bits 15:8 */
#define X86_HIGH32 0xffffffff00000000ull
/* IA32_EFER bits an Intel processor implements (SDM 2.2.1). */
#define NEST__EFER_INTEL_VALID (X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE)
#define X86_LA48 48u
#define X86_LA57 57u
/* Exceptions that push an error code (SDM 6.13; 27.2.1.3). */
#define X86_EXC_HAS_ERROR_CODE                                                                     \
	((1u << X86_EXC_DF) | (1u << X86_EXC_TS) | (1u << X86_EXC_NP) | (1u << X86_EXC_SS) |       \
	 (1u << X86_EXC_GP) | (1u << X86_EXC_PF) | (1u << X86_EXC_AC))
#define X86_EXC_LAST 31u

/* Helpers shared by the check files. */
#define NEST__PAGE_MASK 0xfffull

/* The allowed-0/allowed-1 rule of a 32-bit control capability MSR (SDM
 * A.3): bits 31:0 must be set in the control, bits 63:32 may be. */
static inline bool nest__vmx_ctl_ok(uint32_t ctl, uint64_t cap)
{
	uint32_t must = (uint32_t)cap, may = (uint32_t)(cap >> VMX_CAP_ALLOWED1_SHIFT);

	return (ctl & must) == must && (ctl & ~may) == 0;
}

/* A 4 KiB-aligned physical address within the width (SDM 27.2.1.1). */
static inline bool nest__vmx_page_addr_ok(uint64_t pa, unsigned maxphyaddr)
{
	return (pa & NEST__PAGE_MASK) == 0 && x86_pa_fits(pa, maxphyaddr);
}

/* IA32_S_CET as loaded on VM entry or exit (SDM 27.2.2, 27.3.1.1). */
static inline bool nest__s_cet_ok(uint64_t s_cet, unsigned va_bits)
{
	return (s_cet & X86_CET_RESERVED_9_6) == 0 &&
	       (s_cet & (X86_CET_SUPPRESS | X86_CET_TRACKER)) !=
		   (X86_CET_SUPPRESS | X86_CET_TRACKER) &&
	       x86_is_canonical(s_cet, va_bits);
}


/* The VMCS encoding of a field, for results. */
#define NEST__F(name) ((uint32_t)NEST_VMCS_##name)

/* Check `cond`; when false, record `rule` on `field` and return. */
#define NEST__CHECK(c, cond, rule, field)                                                          \
	do {                                                                                       \
		if (NEST_UNLIKELY(!(cond)))                                                        \
			return nest__vmx_entry_fail((c)->res, NEST_VMX_RULE_##rule, (field), 0);   \
	} while (0)

#endif /* NEST_VMX_CHECK_H */
