/* SPDX-License-Identifier: MIT */
/*
 * The VM exit libnest synthesizes into L1 (Intel SDM Vol. 3C chapter 28
 * "VM Exits"; 27 in editions before 2023): exit information (28.2), L2's
 * guest state saved into vmcs12 (28.3), L1's state loaded from vmcs12's
 * host-state area (28.5). Pure functions over images.
 */
#include "vmx/reflect.h"

#include "vmx/context.h"
#include "vmx/entry.h"
#include "vmx/shadow.h"
#include "vmx/sync.h"

#include "cpu/x86.h"
#include "internal.h"
#include "vmx/vmx_arch.h"

/* CR0 bits a VM exit does not modify (SDM 28.5.1): ET, CD, NW, bits 63:32,
 * 28:19, 17 and 15:6. */
#define CR0_EXIT_KEEP                                                                              \
	(X86_CR0_ET | X86_CR0_CD | X86_CR0_NW | 0xffffffff00000000ull | 0x1ff80000ull |            \
	 0x00020000ull | 0x0000ffc0ull)

/* DR7 after a VM exit (SDM 28.5.1). */
#define DR7_AFTER_EXIT X86_DR7_FIXED1

/* Descriptor-table limits and segment state after a VM exit (SDM 28.5.2). */
#define DT_LIMIT_AFTER_EXIT 0xffffu
#define SEG_LIMIT_FLAT 0xffffffffu
#define TR_LIMIT_AFTER_EXIT 0x67u
#define SEG_TYPE_CODE_XR_ACCESSED 11u
#define SEG_TYPE_DATA_RW_ACCESSED 3u
#define SEG_TYPE_TSS_BUSY 11u
#define SELECTOR_RPL_TI_MASK 0x7u

/* The guest state every exit handler of L1 may need at once (RIP, RSP,
 * RFLAGS, control registers, CPL through CS/SS, events, the MSRs the
 * save controls name); the rest is read from vmcs02 on demand. */
static const bool per_exit[NEST__VF_COUNT] = {
    [NEST__VF_GUEST_RIP] = true,
    [NEST__VF_GUEST_RSP] = true,
    [NEST__VF_GUEST_RFLAGS] = true,
    [NEST__VF_GUEST_CR0] = true,
    [NEST__VF_GUEST_CR3] = true,
    [NEST__VF_GUEST_CR4] = true,
    [NEST__VF_GUEST_DR7] = true,
    [NEST__VF_GUEST_IA32_DEBUGCTL] = true,
    [NEST__VF_GUEST_IA32_EFER] = true,
    [NEST__VF_GUEST_IA32_PAT] = true,
    [NEST__VF_GUEST_CS_SELECTOR] = true,
    [NEST__VF_GUEST_CS_AR_BYTES] = true,
    [NEST__VF_GUEST_SS_AR_BYTES] = true,
    [NEST__VF_GUEST_INTERRUPTIBILITY_INFO] = true,
    [NEST__VF_GUEST_ACTIVITY_STATE] = true,
    [NEST__VF_GUEST_PENDING_DBG_EXCEPTIONS] = true,
    [NEST__VF_GUEST_INTR_STATUS] = true,
    [NEST__VF_GUEST_PML_INDEX] = true,
    [NEST__VF_GUEST_PDPTE0] = true,
    [NEST__VF_GUEST_PDPTE1] = true,
    [NEST__VF_GUEST_PDPTE2] = true,
    [NEST__VF_GUEST_PDPTE3] = true,
    [NEST__VF_VMX_PREEMPTION_TIMER_VALUE] = true,
};

bool nest__vmx_per_exit_field(unsigned i)
{
	return i < NEST__VF_COUNT && per_exit[i];
}

void nest__vmx_write_exit_info(struct nest__vmcs12 *v, const struct nest__vmx_exit_report *r)
{
	v->VM_EXIT_REASON = r->reason;
	v->EXIT_QUALIFICATION = r->qual;
	v->GUEST_LINEAR_ADDRESS = r->gla;
	v->GUEST_PHYSICAL_ADDRESS = r->gpa;
	v->VM_EXIT_INTR_INFO = r->intr_info;
	v->VM_EXIT_INTR_ERROR_CODE = r->intr_error;
	v->IDT_VECTORING_INFO_FIELD = r->idt_info;
	v->IDT_VECTORING_ERROR_CODE = r->idt_error;
	v->VM_EXIT_INSTRUCTION_LEN = r->insn_len;
	v->VMX_INSTRUCTION_INFO = r->insn_info;
	v->IO_RCX = r->io_rcx;
	v->IO_RSI = r->io_rsi;
	v->IO_RDI = r->io_rdi;
	v->IO_RIP = r->io_rip;
	/* Every VM exit clears the valid bit of the VM-entry interruption-
	 * information field (SDM 25.8.3, the field's description; 24.8.3 in
	 * editions before 2023). */
	v->VM_ENTRY_INTR_INFO_FIELD &= ~NEST_VMX_INTR_INFO_VALID;
}

static uint64_t l2_view(uint64_t cr02, uint64_t cr12, uint64_t mask12, uint64_t mask02,
			uint64_t shadow02)
{
	uint64_t l0_only = mask02 & ~mask12;

	/* Bits L1 owns cannot change without an exit to L1: vmcs12 holds
	 * them. Bits only L0 owns read, for L2, as vmcs02's shadow. */
	return (cr02 & ~mask02) | (cr12 & mask12) | (shadow02 & l0_only);
}

/*
 * L2's state at an exit: the guest-state runs of vmcs02 (vmcs12.h) copied
 * whole, then the fields saved only under a VM-exit control, or never (the
 * link pointer is not state L2 changes; CR0 and CR4 are L2's view, below),
 * get L1's values back before the rules below decide them.
 */
void nest__vmx_save_guest(struct nest__vmcs12 *v, const struct nest__vmcs12 *v02,
			  const struct nest__vmx_exit_report *r)
{
	uint32_t ctl = v->VM_EXIT_CONTROLS;
	/* L1's values of the fields saved only under a control, or never. */
	const uint64_t link = v->VMCS_LINK_POINTER, efer = v->GUEST_IA32_EFER,
		       pat = v->GUEST_IA32_PAT, debugctl = v->GUEST_IA32_DEBUGCTL,
		       dr7 = v->GUEST_DR7, perf = v->GUEST_IA32_PERF_GLOBAL_CTRL,
		       pdpte0 = v->GUEST_PDPTE0, pdpte1 = v->GUEST_PDPTE1, pdpte2 = v->GUEST_PDPTE2,
		       pdpte3 = v->GUEST_PDPTE3, cr0 = v->GUEST_CR0, cr4 = v->GUEST_CR4;
	const uint32_t timer = v->VMX_PREEMPTION_TIMER_VALUE;
	/* L1's PML runs in libnest (exit.c), never in vmcs02: vmcs12 holds
	 * the index, which a processor without the field leaves 0 here. */
	const uint16_t pml_index = v->GUEST_PML_INDEX;

	nest__vmx_copy_runs(v, v02, nest__vmx_guest_runs);
	v->GUEST_PML_INDEX = pml_index;
	v->VMCS_LINK_POINTER = link;
	v->GUEST_IA32_EFER = efer;
	v->GUEST_IA32_PAT = pat;
	v->GUEST_IA32_DEBUGCTL = debugctl;
	v->GUEST_DR7 = dr7;
	v->GUEST_IA32_PERF_GLOBAL_CTRL = perf;
	v->GUEST_PDPTE0 = pdpte0;
	v->GUEST_PDPTE1 = pdpte1;
	v->GUEST_PDPTE2 = pdpte2;
	v->GUEST_PDPTE3 = pdpte3;
	v->GUEST_CR0 = cr0;
	v->GUEST_CR4 = cr4;
	v->VMX_PREEMPTION_TIMER_VALUE = timer;
	v->GUEST_CR0 = l2_view(v02->GUEST_CR0, v->GUEST_CR0, v->CR0_GUEST_HOST_MASK,
			       v02->CR0_GUEST_HOST_MASK, v02->CR0_READ_SHADOW);
	v->GUEST_CR4 = l2_view(v02->GUEST_CR4, v->GUEST_CR4, v->CR4_GUEST_HOST_MASK,
			       v02->CR4_GUEST_HOST_MASK, v02->CR4_READ_SHADOW);
	/* SDM 28.3.1: DR7 and DEBUGCTL with "save debug controls", PAT and
	 * EFER with their save controls, the timer with its save control. */
	if (ctl & NEST_VMX_EXIT_CTL_SAVE_DEBUG_CONTROLS) {
		v->GUEST_DR7 = v02->GUEST_DR7;
		v->GUEST_IA32_DEBUGCTL = v02->GUEST_IA32_DEBUGCTL;
	}
	if (ctl & NEST_VMX_EXIT_CTL_SAVE_PAT)
		v->GUEST_IA32_PAT = v02->GUEST_IA32_PAT;
	if (ctl & NEST_VMX_EXIT_CTL_SAVE_EFER)
		v->GUEST_IA32_EFER = v02->GUEST_IA32_EFER;
	if (ctl & NEST_VMX_EXIT_CTL_SAVE_PERF_GLOBAL_CTL)
		v->GUEST_IA32_PERF_GLOBAL_CTRL = v02->GUEST_IA32_PERF_GLOBAL_CTRL;
	if ((ctl & NEST_VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER) &&
	    (v->PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_PREEMPTION_TIMER))
		v->VMX_PREEMPTION_TIMER_VALUE = r->timer;
	/* SDM 28.3.4: the PDPTEs are saved when EPT is in use by L2. */
	if ((v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_ACTIVATE_SECONDARY) &&
	    (v->SECONDARY_VM_EXEC_CONTROL & NEST_VMX_PROC2_ENABLE_EPT)) {
		v->GUEST_PDPTE0 = v02->GUEST_PDPTE0;
		v->GUEST_PDPTE1 = v02->GUEST_PDPTE1;
		v->GUEST_PDPTE2 = v02->GUEST_PDPTE2;
		v->GUEST_PDPTE3 = v02->GUEST_PDPTE3;
	}
}

#define SET(field, value)                                                                          \
	do {                                                                                       \
		o->field = (value);                                                                \
		nest__vmx_fs_set(set, NEST__VF_##field);                                           \
	} while (0)

/* A data segment after a VM exit (SDM 28.5.2): usable iff its selector is
 * not null; flat, read/write accessed, DPL 0, 32-bit, 4 KiB granular. */
static uint32_t data_ar(uint16_t sel)
{
	if ((sel & ~SELECTOR_RPL_TI_MASK) == 0)
		return X86_SEG_UNUSABLE;
	return SEG_TYPE_DATA_RW_ACCESSED | X86_SEG_S | X86_SEG_P | X86_SEG_DB | X86_SEG_G;
}

static void load_segments(struct nest__vmcs12 *o, struct nest__vmx_fieldset *set,
			  const struct nest__vmcs12 *v, bool host64)
{
	uint32_t cs_ar = SEG_TYPE_CODE_XR_ACCESSED | X86_SEG_S | X86_SEG_P | X86_SEG_G |
			 (host64 ? X86_SEG_L : X86_SEG_DB);

	SET(GUEST_CS_SELECTOR, v->HOST_CS_SELECTOR);
	SET(GUEST_CS_BASE, 0);
	SET(GUEST_CS_LIMIT, SEG_LIMIT_FLAT);
	SET(GUEST_CS_AR_BYTES, cs_ar);
#define DATA_SEG(S, base)                                                                          \
	SET(GUEST_##S##_SELECTOR, v->HOST_##S##_SELECTOR);                                         \
	SET(GUEST_##S##_BASE, base);                                                               \
	SET(GUEST_##S##_LIMIT, SEG_LIMIT_FLAT);                                                    \
	SET(GUEST_##S##_AR_BYTES, data_ar(v->HOST_##S##_SELECTOR))
	DATA_SEG(SS, 0);
	DATA_SEG(DS, 0);
	DATA_SEG(ES, 0);
	DATA_SEG(FS, v->HOST_FS_BASE);
	DATA_SEG(GS, v->HOST_GS_BASE);
#undef DATA_SEG
	/* SS.DPL is 0 even when SS is unusable (SDM 28.5.2). */
	SET(GUEST_TR_SELECTOR, v->HOST_TR_SELECTOR);
	SET(GUEST_TR_BASE, v->HOST_TR_BASE);
	SET(GUEST_TR_LIMIT, TR_LIMIT_AFTER_EXIT);
	SET(GUEST_TR_AR_BYTES, SEG_TYPE_TSS_BUSY | X86_SEG_P);
	/* LDTR: null selector, unusable. */
	SET(GUEST_LDTR_SELECTOR, 0);
	SET(GUEST_LDTR_BASE, 0);
	SET(GUEST_LDTR_LIMIT, 0);
	SET(GUEST_LDTR_AR_BYTES, X86_SEG_UNUSABLE);
	SET(GUEST_GDTR_BASE, v->HOST_GDTR_BASE);
	SET(GUEST_GDTR_LIMIT, DT_LIMIT_AFTER_EXIT);
	SET(GUEST_IDTR_BASE, v->HOST_IDTR_BASE);
	SET(GUEST_IDTR_LIMIT, DT_LIMIT_AFTER_EXIT);
}

/*
 * L1's blocking by NMI after the VM exit. The processor has one NMI-blocking
 * state; a VM exit changes it only when an NMI causes the exit directly
 * (SDM 28.5.5: "VM exits caused directly by NMIs cause blocking by NMI.
 * Other VM exits do not affect blocking by NMI"). What was in effect in L2
 * is what L1 continues with:
 *   - without "virtual NMIs", the VM entry loaded blocking by NMI from
 *     the guest interruptibility state (SDM 27.7.1) and L2 kept it up to
 *     date (its IRETs and NMIs; with "NMI exiting" the blocking stays until
 *     the exit): L2's blocking as saved into vmcs12 at the exit;
 *   - with "virtual NMIs", NMIs are not blocked in VMX non-root operation
 *     (bit 3 is virtual-NMI blocking): no blocking after the exit;
 *   - a VM entry that failed its guest-state checks (exit reason 33) never
 *     loaded guest state: L1's blocking when it executed VMLAUNCH/VMRESUME.
 *     A failure in MSR loading (34) or a machine check (41) comes after the
 *     guest state was loaded: as without/with virtual NMIs above, from the
 *     vmcs12 guest state (not saved by a failed entry: what L1 wrote).
 */
static uint64_t nmi_blocking_after_exit(const struct nest__vmcs12 *v,
					const struct nest__vmx_l1_now *l1)
{
	uint32_t reason = v->VM_EXIT_REASON;
	uint32_t info = v->VM_EXIT_INTR_INFO;
	uint32_t type = (info & NEST_VMX_INTR_INFO_TYPE_MASK) >> NEST_VMX_INTR_INFO_TYPE_SHIFT;
	bool entry_failure = (reason & NEST_VMX_EXIT_REASON_ENTRY_FAILURE) != 0;

	reason &= NEST_VMX_EXIT_REASON_BASIC_MASK;
	if (!entry_failure && reason == NEST_VMX_EXIT_EXCEPTION_NMI &&
	    (info & NEST_VMX_INTR_INFO_VALID) && type == NEST_VMX_INTR_TYPE_NMI)
		return NEST_VMX_INTERRUPTIBILITY_NMI;
	if (entry_failure && reason == NEST_VMX_EXIT_INVALID_GUEST_STATE)
		return l1->intr & NEST_VMX_INTERRUPTIBILITY_NMI;
	if (v->PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_VIRTUAL_NMIS)
		return 0;
	return v->GUEST_INTERRUPTIBILITY_INFO & NEST_VMX_INTERRUPTIBILITY_NMI;
}

void nest__vmx_load_host_state(struct nest__vmcs12 *o, struct nest__vmx_fieldset *set,
			       const struct nest__vmcs12 *v, const struct nest__vmx_l1_now *l1)
{
	uint32_t ctl = v->VM_EXIT_CONTROLS;
	bool host64 = (ctl & NEST_VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE) != 0;
	uint64_t efer;

	/* Only the fields of `set` are written into `o` (and read from it). */
	nest__memset(set, 0, sizeof(*set));
	/* SDM 28.5.1: control and debug registers, MSRs. */
	SET(GUEST_CR0, (l1->cr0 & CR0_EXIT_KEEP) | (v->HOST_CR0 & ~CR0_EXIT_KEEP));
	SET(GUEST_CR3, v->HOST_CR3);
	SET(GUEST_CR4, v->HOST_CR4 | (host64 ? X86_CR4_PAE : 0));
	SET(GUEST_DR7, DR7_AFTER_EXIT);
	SET(GUEST_IA32_DEBUGCTL, 0);
	SET(GUEST_SYSENTER_CS, v->HOST_IA32_SYSENTER_CS);
	SET(GUEST_SYSENTER_ESP, v->HOST_IA32_SYSENTER_ESP);
	SET(GUEST_SYSENTER_EIP, v->HOST_IA32_SYSENTER_EIP);
	if (ctl & NEST_VMX_EXIT_CTL_LOAD_EFER)
		efer = v->HOST_IA32_EFER;
	else
		efer = (l1->efer & ~(X86_EFER_LMA | X86_EFER_LME)) |
		       (host64 ? X86_EFER_LMA | X86_EFER_LME : 0);
	SET(GUEST_IA32_EFER, efer);
	if (ctl & NEST_VMX_EXIT_CTL_LOAD_PAT)
		SET(GUEST_IA32_PAT, v->HOST_IA32_PAT);
	if (ctl & NEST_VMX_EXIT_CTL_LOAD_PERF_GLOBAL_CTRL)
		SET(GUEST_IA32_PERF_GLOBAL_CTRL, v->HOST_IA32_PERF_GLOBAL_CTRL);
	if (ctl & NEST_VMX_EXIT_CTL_CLEAR_BNDCFGS)
		SET(GUEST_IA32_BNDCFGS, 0);
	if (ctl & NEST_VMX_EXIT_CTL_CLEAR_RTIT_CTL)
		SET(GUEST_IA32_RTIT_CTL, 0);
	if (ctl & NEST_VMX_EXIT_CTL_CLEAR_LBR_CTL)
		SET(GUEST_IA32_LBR_CTL, 0);
	if (ctl & NEST_VMX_EXIT_CTL_LOAD_PKRS)
		SET(GUEST_IA32_PKRS, v->HOST_IA32_PKRS);
	if (ctl & NEST_VMX_EXIT_CTL_LOAD_CET_STATE) {
		SET(GUEST_S_CET, v->HOST_S_CET);
		SET(GUEST_SSP, v->HOST_SSP);
		SET(GUEST_INTR_SSP_TABLE_ADDR, v->HOST_INTR_SSP_TABLE_ADDR);
	}
	/* SDM 28.5.2, 28.5.3: segments, descriptor tables, RIP, RSP, RFLAGS. */
	load_segments(o, set, v, host64);
	SET(GUEST_RIP, v->HOST_RIP);
	SET(GUEST_RSP, v->HOST_RSP);
	SET(GUEST_RFLAGS, X86_RFLAGS_FIXED1);
	/* SDM 28.5.5: L1 is active, with no blocking by STI or MOV SS and no
	 * pending debug exceptions; blocking by NMI as above. */
	SET(GUEST_ACTIVITY_STATE, NEST_VMX_ACTIVITY_ACTIVE);
	SET(GUEST_INTERRUPTIBILITY_INFO, nmi_blocking_after_exit(v, l1));
	SET(GUEST_PENDING_DBG_EXCEPTIONS, 0);
}

/* ---- the VM exit through the backend ---- */

#define MSR_IA32_SMBASE 0x9eu
#define MSR_X2APIC_SHIFT 8
#define MSR_X2APIC_RANGE 0x8u

/* SDM 28.4: L1's VM-exit MSR-store list, read from L1 memory at the exit
 * (where the processor reads it: L2 may have written it while it ran)
 * once into libnest's copy, checked, then each listed MSR's value as L2
 * has it, read through L0's view of the guest (backend guest_rdmsr),
 * never from the hardware, and one write of the list into L1's area.
 * The list never reaches vmcs02's hardware store list, where a write-only
 * or nonexistent MSR (0x79, 0x40000000) would make the processor itself
 * VMX-abort at L2's exit and a host-private MSR (IA32_VMX_BASIC, IA32_TSC)
 * would hand the host's value to L1. An entry the processor could not
 * store (x2APIC range, IA32_SMBASE, reserved bits 63:32), an MSR the guest
 * cannot read (RDMSR would #GP) or a list L0 does not back makes the exit
 * a VMX abort. */
static void store_msrs(struct nest_vmx *ctx)
{
	struct nest__vmx_nested *n = &ctx->nested;
	struct nest_vmx_msr_entry *e = n->msr_store;
	uint32_t count = n->msr_store_count, i;
	uint64_t gpa = ctx->vmcs12.VM_EXIT_MSR_STORE_ADDR;

	if (count == 0 || n->msr_store_abort)
		return;
	if (nest__be_read(&ctx->be, gpa, e, (size_t)count * sizeof(*e)) != NEST_OK) {
		n->msr_store_abort = true;
		return;
	}
	for (i = 0; i < count; i++) {
		if ((e[i].index >> MSR_X2APIC_SHIFT) == MSR_X2APIC_RANGE ||
		    e[i].index == MSR_IA32_SMBASE || e[i].reserved != 0 ||
		    nest__be_guest_rdmsr(&ctx->be, e[i].index, &e[i].value) != NEST_OK) {
			n->msr_store_abort = true;
			return;
		}
	}
	if (nest__be_write(&ctx->be, gpa, e, (size_t)count * sizeof(*e)) != NEST_OK)
		n->msr_store_abort = true;
}

/* The VM exit into L1, SDM 28.2-28.6: exit information, guest state (not
 * for a failed VM entry), host state into vmcs01, the VM-exit MSR-load
 * area (a failure there is a VMX abort, 28.7). */
int nest__vmx_reflect(struct nest_vmx *ctx, struct nest__vmx_exit_report *r, bool save_guest,
		      struct nest_vmx_action *act)
{
	struct nest__vmx_nested *n = &ctx->nested;
	struct nest__vmcs12 *v = &ctx->vmcs12;
	struct nest__vmcs12 img;
	struct nest__vmx_fieldset set;
	struct nest_vmx_entry_result res;
	int rc;

	if (save_guest) {
		/* With VMCS shadowing L1 reads its shadowed fields without an
		 * exit, and its next VMRESUME is checked on vmcs12 without a
		 * VMREAD having brought the rare fields up to date first: all of
		 * them are read now, so that vmcs12 is L2's state as a whole. */
		rc = nest__vmx_read_vmcs02_guest(ctx, nest__vmx_shadowing(ctx));
		if (rc != NEST_OK)
			return rc;
		n->rare_stale = !nest__vmx_shadowing(ctx);
		nest__memset(&n->dirty, 0, sizeof(n->dirty));
		/* An event L0 was to re-inject into L2 was being delivered
		 * when the exit happened: L1 sees it as IDT-vectoring info. */
		if ((n->vmcs02_cache.VM_ENTRY_INTR_INFO_FIELD & NEST_VMX_INTR_INFO_VALID) &&
		    !(r->idt_info & NEST_VMX_INTR_INFO_VALID)) {
			r->idt_info = n->vmcs02_cache.VM_ENTRY_INTR_INFO_FIELD;
			r->idt_error = n->vmcs02_cache.VM_ENTRY_EXCEPTION_ERROR_CODE;
		}
		nest__vmx_save_guest(v, &n->vmcs02_cache, r);
		/* Entered in HLT, run active for an exit due before any
		 * instruction: the processor was in HLT when it came. */
		if (n->hlt_woken && v->GUEST_ACTIVITY_STATE == NEST_VMX_ACTIVITY_ACTIVE)
			v->GUEST_ACTIVITY_STATE = NEST_VMX_ACTIVITY_HLT;
		store_msrs(ctx);
	}
	n->hlt_woken = false;
	nest__vmx_write_exit_info(v, r);
	if (!save_guest) {
		/* SDM 27.8: a failed entry reports reason and qualification. */
		v->VM_EXIT_INTR_INFO = 0;
		v->IDT_VECTORING_INFO_FIELD = 0;
	}

	nest__vmx_load_host_state(&img, &set, v, &n->l1_now);
	rc = nest__vmx_write_vmcs01(ctx, &img, &set);
	if (rc != NEST_OK)
		return rc;
	n->guest_mode = false;
	n->msrs_kind = NEST__VMX_MSRS_NONE;
	/* A window L0 asked for in vmcs02 ends with L2's run: vmcs02's
	 * controls are vmcs12's again at the next entry, and L0 gives a
	 * pending event to L1 now. */
	n->l0_window = 0;
	act->kind = NEST_VMX_ACT_RESUME_L1;
	res.size = sizeof(res);
	if (save_guest && n->msr_store_abort) {
		v->abort = VMX_ABORT_SAVE_GUEST_MSR;
		act->flags |= NEST_VMX_ACT_F_ABORT;
	} else if (nest__vmx_fetch_msr_area(ctx, v->VM_EXIT_MSR_LOAD_ADDR,
					    v->VM_EXIT_MSR_LOAD_COUNT, &res) != NEST_VMX_ENTRY_OK) {
		v->abort = VMX_ABORT_LOAD_HOST_MSR;
		act->flags |= NEST_VMX_ACT_F_ABORT;
	} else if (n->msr_count != 0) {
		act->flags |= NEST_VMX_ACT_F_MSRS;
		n->msrs_kind = NEST__VMX_MSRS_EXIT;
	}
	return nest__vmx_shadow_publish(ctx);
}
