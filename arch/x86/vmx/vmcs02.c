/* SPDX-License-Identifier: MIT */
/*
 * vmcs02: the VMCS L0 really runs L2 with, built from vmcs12 (what L1
 * asked for) and L0's needs (struct nest_vmx_l0 and vmcs01's host state).
 *
 * The rules, per group of fields:
 *   - exits: every control bit L0 requires stays set (OR); bitmaps merge so
 *     that an MSR or port passes through only if L0 and L1 both pass it;
 *     exception bitmaps and CR guest/host masks are ORed, read shadows
 *     show L2 its own CR0/CR4 for bits only L0 owns;
 *   - features: L1's features that name L1-physical addresses libnest does
 *     not translate (posted interrupts, PML, VM functions, #VE, VMCS
 *     shadowing of L2, tertiary controls) are never set in vmcs02; L0's
 *     own features (EPT01, VPID) come from L0;
 *   - guest state: from vmcs12, with EFER/PAT/DEBUGCTL/DR7 loaded on every
 *     entry (L1's own values when L1 does not load them, SDM 27.3.2.1);
 *   - host state: vmcs01's (L0's), never vmcs12's.
 */
#include "vmx/vmcs02.h"

#include "cpu/x86.h"
#include "internal.h"
#include "vmx/vmx_arch.h"

/* TSC multipliers are fixed point with 48 fraction bits (SDM 26.6.5). */
#define TSC_MULT_FRAC_BITS 48
#define TSC_MULT_ONE (1ull << TSC_MULT_FRAC_BITS)

/* L1's secondary controls that vmcs02 may carry: those whose meaning does
 * not depend on an L1-physical address libnest would have to translate,
 * plus the APIC ones whose pages entry.c translates. */
#define PROC2_FROM_L1                                                                              \
	(NEST_VMX_PROC2_VIRT_APIC_ACCESSES | NEST_VMX_PROC2_DESC_TABLE_EXITING |                   \
	 NEST_VMX_PROC2_ENABLE_RDTSCP | NEST_VMX_PROC2_VIRT_X2APIC_MODE |                          \
	 NEST_VMX_PROC2_WBINVD_EXITING | NEST_VMX_PROC2_UNRESTRICTED_GUEST |                       \
	 NEST_VMX_PROC2_APIC_REGISTER_VIRT | NEST_VMX_PROC2_VIRT_INTR_DELIVERY |                   \
	 NEST_VMX_PROC2_PAUSE_LOOP_EXITING | NEST_VMX_PROC2_RDRAND_EXITING |                       \
	 NEST_VMX_PROC2_ENABLE_INVPCID | NEST_VMX_PROC2_ENCLS_EXITING |                            \
	 NEST_VMX_PROC2_RDSEED_EXITING | NEST_VMX_PROC2_ENABLE_XSAVES |                            \
	 NEST_VMX_PROC2_ENABLE_USER_WAIT_PAUSE | NEST_VMX_PROC2_ENABLE_ENCLV_EXITING |             \
	 NEST_VMX_PROC2_BUS_LOCK_DETECTION | NEST_VMX_PROC2_NOTIFY_VM_EXITING)

/* L1's primary controls vmcs02 never takes from L1: the bitmaps are always
 * libnest's merged copies, TSC offsetting is always composed, tertiary
 * controls are not offered. */
#define PROC_NOT_FROM_L1                                                                           \
	(NEST_VMX_PROC_USE_IO_BITMAPS | NEST_VMX_PROC_UNCOND_IO_EXITING |                          \
	 NEST_VMX_PROC_USE_MSR_BITMAPS | NEST_VMX_PROC_ACTIVATE_TERTIARY |                         \
	 NEST_VMX_PROC_ACTIVATE_SECONDARY)

/* L0's controls that never reach vmcs02: its APIC virtualization for L1
 * names L0's own pages for L1 (virtual-APIC page, APIC-access page,
 * posted-interrupt descriptor), which vmcs02 does not carry; with them
 * vmcs02 would run L2 on host page 0 or on L1's virtual APIC. vmcs02
 * virtualizes the APIC only as L1 asks, with L1's pages. */
#define L0_PROC_NOT_TO_L2                                                                          \
	(NEST_VMX_PROC_USE_TPR_SHADOW | NEST_VMX_PROC_ACTIVATE_TERTIARY |                          \
	 NEST_VMX_PROC_ACTIVATE_SECONDARY)
#define L0_PROC2_NOT_TO_L2                                                                         \
	(NEST_VMX_PROC2_VIRT_APIC_ACCESSES | NEST_VMX_PROC2_VIRT_X2APIC_MODE |                     \
	 NEST_VMX_PROC2_APIC_REGISTER_VIRT | NEST_VMX_PROC2_VIRT_INTR_DELIVERY)
#define L0_PIN_NOT_TO_L2 NEST_VMX_PIN_POSTED_INTR

/* The APIC-virtualization controls of vmcs02 (secondary): L1's, never
 * L0's (L0_PROC2_NOT_TO_L2). */
#define PROC2_APICV                                                                                \
	(NEST_VMX_PROC2_VIRT_APIC_ACCESSES | NEST_VMX_PROC2_VIRT_X2APIC_MODE |                     \
	 NEST_VMX_PROC2_APIC_REGISTER_VIRT | NEST_VMX_PROC2_VIRT_INTR_DELIVERY)

/* x2APIC MSRs (SDM 30.5) and their places in an MSR bitmap (SDM 25.6.9). */
#define X2APIC_MSR_FIRST 0x800u
#define X2APIC_MSR_COUNT 0x100u
#define X2APIC_MSR_TPR 0x808u
#define X2APIC_MSR_EOI 0x80bu
#define X2APIC_MSR_SELF_IPI 0x83fu
#define MSR_BITMAP_WRITE_LOW 2048u

/* Pin controls from L1: posted interrupts need a translated descriptor. */
#define PIN_FROM_L1                                                                                \
	(NEST_VMX_PIN_EXT_INTR_EXITING | NEST_VMX_PIN_NMI_EXITING | NEST_VMX_PIN_VIRTUAL_NMIS |    \
	 NEST_VMX_PIN_PREEMPTION_TIMER)

/* VM-entry controls from L1 (what L2's entry loads). */
#define ENTRY_FROM_L1                                                                              \
	(NEST_VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS | NEST_VMX_ENTRY_CTL_IA32E_MODE_GUEST |            \
	 NEST_VMX_ENTRY_CTL_LOAD_PERF_GLOBAL_CTRL | NEST_VMX_ENTRY_CTL_LOAD_PAT |                  \
	 NEST_VMX_ENTRY_CTL_LOAD_EFER)

static void copy_field(struct nest__vmcs12 *o, const struct nest__vmcs12 *v, unsigned i)
{
	const struct nest_vmcs_field *f = &nest__vmcs_fields[i];

	nest__memcpy((uint8_t *)o + f->offset, (const uint8_t *)v + f->offset,
		     nest_vmcs_width_bytes(f->width));
}

bool nest__vmx_vmcs02_field(unsigned index)
{
	return index < NEST__VF_COUNT && nest__vmcs_fields[index].type != NEST_VMCS_T_RO;
}

/* OR of two bitmaps, a word at a time; a NULL bitmap stands for its
 * default word (0 or all ones). */
static void or_words(uint8_t *out, const uint8_t *a, uint64_t a_default, const uint8_t *b,
		     uint64_t b_default, size_t len)
{
	size_t i;
	uint64_t x, y;

	for (i = 0; i < len; i += sizeof(x)) {
		x = a_default;
		y = b_default;
		if (a)
			nest__memcpy(&x, a + i, sizeof(x));
		if (b)
			nest__memcpy(&y, b + i, sizeof(y));
		x |= y;
		nest__memcpy(out + i, &x, sizeof(x));
	}
}

void nest__vmx_merge_msr_bitmap(uint8_t *out, const uint8_t *l0, const uint8_t *l1)
{
	or_words(out, l0, 0, l1, UINT64_MAX, NEST__VMX_MSR_BITMAP_SIZE);
}

uint32_t nest__vmx_apicv02(const struct nest__vmcs12 *v)
{
	if (!(v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_ACTIVATE_SECONDARY))
		return 0;
	return v->SECONDARY_VM_EXEC_CONTROL & PROC2_APICV & PROC2_FROM_L1;
}

/* Which x2APIC MSR accesses vmcs02's controls virtualize (SDM 30.5):
 * with "virtualize x2APIC mode", TPR reads and writes; with "APIC-register
 * virtualization" too, every read; with "virtual-interrupt delivery", EOI
 * and SELF-IPI writes. Every other access would reach the physical x2APIC
 * (KVM's fix of CVE-2019-3887 follows the same rule), and exits. A
 * virtualized access touches only the virtual-APIC page, L1's: whether it
 * exits is L1's bitmap's alone. L0's bit for the MSR is about L1's own
 * APIC, which the access never reaches (an L0 that emulates L1's x2APIC
 * intercepts every x2APIC MSR of L1's; merged, that would turn L2's
 * virtualized EOI into an access of L1's APIC). KVM takes L1's bits for
 * these MSRs the same way. */
static bool x2apic_virtualized(uint32_t msr, bool write, uint32_t apicv)
{
	if (!(apicv & NEST_VMX_PROC2_VIRT_X2APIC_MODE))
		return false;
	if (msr == X2APIC_MSR_TPR)
		return true;
	if (!write)
		return (apicv & NEST_VMX_PROC2_APIC_REGISTER_VIRT) != 0;
	return (apicv & NEST_VMX_PROC2_VIRT_INTR_DELIVERY) &&
	       (msr == X2APIC_MSR_EOI || msr == X2APIC_MSR_SELF_IPI);
}

void nest__vmx_msr_bitmap_x2apic(uint8_t *out, const uint8_t *l1, uint32_t apicv)
{
	uint32_t msr;

	for (msr = X2APIC_MSR_FIRST; msr < X2APIC_MSR_FIRST + X2APIC_MSR_COUNT; msr++) {
		uint8_t bit = (uint8_t)(1u << (msr % 8));
		unsigned rd = msr / 8, wr = MSR_BITMAP_WRITE_LOW + msr / 8;

		if (!x2apic_virtualized(msr, false, apicv) || l1 == NULL || (l1[rd] & bit))
			out[rd] |= bit;
		else
			out[rd] &= (uint8_t)~bit;
		if (!x2apic_virtualized(msr, true, apicv) || l1 == NULL || (l1[wr] & bit))
			out[wr] |= bit;
		else
			out[wr] &= (uint8_t)~bit;
	}
}

void nest__vmx_merge_io_bitmap(uint8_t *out_a, uint8_t *out_b, const uint8_t *l0, bool l0_uncond,
			       const uint8_t *l1, bool l1_uncond)
{
	uint64_t d0 = l0_uncond ? UINT64_MAX : 0;
	uint64_t d1 = l1_uncond ? UINT64_MAX : 0;

	or_words(out_a, l0, d0, l1, d1, NEST__VMX_IO_BITMAP_A_SIZE);
	or_words(out_b, l0 ? l0 + NEST__VMX_IO_BITMAP_A_SIZE : NULL, d0,
		 l1 ? l1 + NEST__VMX_IO_BITMAP_A_SIZE : NULL, d1, NEST__VMX_IO_BITMAP_A_SIZE);
}

bool nest__vmx_l0_io_uncond(const struct nest_vmx_l0 *l0)
{
	/* SDM 26.1.3: unconditional I/O exiting counts only without I/O
	 * bitmaps. */
	return (l0->proc & NEST_VMX_PROC_UNCOND_IO_EXITING) &&
	       !(l0->proc & NEST_VMX_PROC_USE_IO_BITMAPS);
}

/* 64x64 -> 128 bit product shifted right by 48 (fixed-point multiply). */
static uint64_t mul_frac(uint64_t a, uint64_t b)
{
	return (uint64_t)(((unsigned __int128)a * b) >> TSC_MULT_FRAC_BITS);
}

static int64_t mul_frac_signed(int64_t a, uint64_t b)
{
	return (int64_t)(((__int128)a * (__int128)b) >> TSC_MULT_FRAC_BITS);
}

/* L2's TSC = ((host * m01 >> 48) + o01) * m12 >> 48 + o12 (SDM 26.6.5 applied
 * twice): vmcs02 uses m02 = m01 * m12 >> 48 and o02 = (o01 * m12 >> 48) + o12. */
static void compose_tsc(struct nest__vmcs12 *o, const struct nest__vmcs12 *v,
			const struct nest_vmx_l0 *l0, uint32_t proc2_12)
{
	uint64_t m01 = l0->tsc_multiplier ? l0->tsc_multiplier : TSC_MULT_ONE;
	uint64_t m12 =
	    (proc2_12 & NEST_VMX_PROC2_USE_TSC_SCALING) ? v->TSC_MULTIPLIER : TSC_MULT_ONE;
	uint64_t o12 =
	    (v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_USE_TSC_OFFSETTING) ? v->TSC_OFFSET : 0;

	o->TSC_OFFSET = (uint64_t)mul_frac_signed((int64_t)l0->tsc_offset, m12) + o12;
	o->TSC_MULTIPLIER = mul_frac(m01, m12);
	o->CPU_BASED_VM_EXEC_CONTROL |= NEST_VMX_PROC_USE_TSC_OFFSETTING;
	/* Without scaling the field stays 0 and unwritten: a processor without
	 * TSC scaling has no such VMCS field (VMWRITE fails, SDM 31.4). */
	if (o->TSC_MULTIPLIER != TSC_MULT_ONE)
		o->SECONDARY_VM_EXEC_CONTROL |= NEST_VMX_PROC2_USE_TSC_SCALING;
	else
		o->TSC_MULTIPLIER = 0;
}

static void merge_cr_masks(struct nest__vmcs12 *o, const struct nest__vmcs12 *v,
			   const struct nest_vmx_l0 *l0)
{
	/* A bit L1 owns reads as L1's shadow; a bit only L0 owns reads as
	 * L2's own CR value, as it would with L1 alone. */
	o->CR0_GUEST_HOST_MASK = v->CR0_GUEST_HOST_MASK | l0->cr0_mask;
	o->CR4_GUEST_HOST_MASK = v->CR4_GUEST_HOST_MASK | l0->cr4_mask;
	o->CR0_READ_SHADOW = (v->GUEST_CR0 & ~v->CR0_GUEST_HOST_MASK) |
			     (v->CR0_READ_SHADOW & v->CR0_GUEST_HOST_MASK);
	o->CR4_READ_SHADOW = (v->GUEST_CR4 & ~v->CR4_GUEST_HOST_MASK) |
			     (v->CR4_READ_SHADOW & v->CR4_GUEST_HOST_MASK);
}

static void merge_exceptions(struct nest__vmcs12 *o, const struct nest__vmcs12 *v,
			     const struct nest_vmx_l0 *l0)
{
	o->EXCEPTION_BITMAP = v->EXCEPTION_BITMAP | l0->exception_bitmap;
	if (l0->exception_bitmap & (1u << X86_EXC_PF)) {
		/* L0 needs every #PF: bit 14 set with mask = match = 0 exits on
		 * all of them (SDM 26.2); the decision then asks L1's rule. */
		o->PAGE_FAULT_ERROR_CODE_MASK = 0;
		o->PAGE_FAULT_ERROR_CODE_MATCH = 0;
	} else {
		o->PAGE_FAULT_ERROR_CODE_MASK = v->PAGE_FAULT_ERROR_CODE_MASK;
		o->PAGE_FAULT_ERROR_CODE_MATCH = v->PAGE_FAULT_ERROR_CODE_MATCH;
	}
}

static void merge_timer(struct nest__vmcs12 *o, const struct nest__vmcs12 *v,
			const struct nest_vmx_l0 *l0)
{
	bool l0t = (l0->pin & NEST_VMX_PIN_PREEMPTION_TIMER) != 0;
	bool l1t = (v->PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_PREEMPTION_TIMER) != 0;

	if (l1t && (!l0t || v->VMX_PREEMPTION_TIMER_VALUE <= l0->preemption_timer))
		o->VMX_PREEMPTION_TIMER_VALUE = v->VMX_PREEMPTION_TIMER_VALUE;
	else if (l0t)
		o->VMX_PREEMPTION_TIMER_VALUE = l0->preemption_timer;
	/* The value L2 leaves is needed back at the exit (vmcs12's save
	 * control, or the other timer's remaining time). */
	if (l0t || l1t)
		o->VM_EXIT_CONTROLS |= NEST_VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER;
}

bool nest__vmx_hlt_window_open(const struct nest__vmcs12 *v)
{
	return v->GUEST_ACTIVITY_STATE == NEST_VMX_ACTIVITY_HLT &&
	       (v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_INTR_WINDOW_EXITING) &&
	       (v->GUEST_RFLAGS & X86_RFLAGS_IF) &&
	       !(v->GUEST_INTERRUPTIBILITY_INFO &
		 (NEST_VMX_INTERRUPTIBILITY_STI | NEST_VMX_INTERRUPTIBILITY_MOV_SS)) &&
	       !(v->VM_ENTRY_INTR_INFO_FIELD & NEST_VMX_INTR_INFO_VALID);
}

/* The guest-state fields of vmcs02 that are not vmcs12's copied as they
 * are: a function of vmcs12's controls and guest state and L1's state. */
static void guest_fixups(struct nest__vmcs12 *o, const struct nest__vmcs12 *v,
			 const struct nest__vmx_l1_now *l1)
{
	/* No VMCS shadowing for L2's own VMX instructions. */
	o->VMCS_LINK_POINTER = UINT64_MAX;
	/* An interrupt-window exit due at entry in HLT: the processor takes
	 * it from the active state, before any instruction (SDM 26.7.5), not
	 * relying on it to wake itself for an exit. */
	o->GUEST_ACTIVITY_STATE =
	    nest__vmx_hlt_window_open(v) ? NEST_VMX_ACTIVITY_ACTIVE : v->GUEST_ACTIVITY_STATE;
	/* What L1 does not load on entry, L2 inherits from L1 (SDM 27.3.2.1):
	 * vmcs02 loads it explicitly, as the hardware holds L0's values. */
	if (!(v->VM_ENTRY_CONTROLS & NEST_VMX_ENTRY_CTL_LOAD_EFER)) {
		o->GUEST_IA32_EFER = l1->efer & ~(X86_EFER_LMA | X86_EFER_LME);
		if (v->VM_ENTRY_CONTROLS & NEST_VMX_ENTRY_CTL_IA32E_MODE_GUEST)
			o->GUEST_IA32_EFER |= X86_EFER_LMA | X86_EFER_LME;
	}
	if (!(v->VM_ENTRY_CONTROLS & NEST_VMX_ENTRY_CTL_LOAD_PAT))
		o->GUEST_IA32_PAT = l1->pat;
	if (!(v->VM_ENTRY_CONTROLS & NEST_VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS)) {
		o->GUEST_IA32_DEBUGCTL = l1->debugctl;
		o->GUEST_DR7 = l1->dr7;
	}
	/* PAE paging without EPT12: vmcs02 runs on EPT01, whose entry takes
	 * the PDPTEs from the fields, so they are the ones L1's entry would
	 * have loaded from L2's CR3 (SDM 27.3.2.4), never vmcs12's. */
	if (l1->pdptes_loaded) {
		o->GUEST_PDPTE0 = l1->pdpte[0];
		o->GUEST_PDPTE1 = l1->pdpte[1];
		o->GUEST_PDPTE2 = l1->pdpte[2];
		o->GUEST_PDPTE3 = l1->pdpte[3];
	}
}

/* Guest state: vmcs12's, plus the MSR state vmcs02 always loads. */
static void build_guest(struct nest__vmcs12 *o, const struct nest__vmcs12 *v,
			const struct nest__vmx_l1_now *l1)
{
	nest__vmx_copy_runs(o, v, nest__vmx_guest_runs);
	guest_fixups(o, v, l1);
	o->VM_ENTRY_CONTROLS |= NEST_VMX_ENTRY_CTL_LOAD_EFER | NEST_VMX_ENTRY_CTL_LOAD_PAT |
				NEST_VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS;
}

void nest__vmx_build_vmcs02(struct nest__vmcs12 *o, const struct nest__vmcs12 *v,
			    const struct nest__vmx_l0 *l0x, const struct nest__vmx_vmcs02_pages *pg,
			    const struct nest__vmx_l1_now *l1)
{
	const struct nest_vmx_l0 *l0 = &l0x->pub;
	uint32_t proc2_12 = (v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_ACTIVATE_SECONDARY)
				? v->SECONDARY_VM_EXEC_CONTROL
				: 0;

	nest__memset(o, 0, sizeof(*o));
	build_guest(o, v, l1);

	/* Host state: vmcs01's, as read by nest_vmx_set_l0(). */
	nest__vmx_copy_runs(o, &l0x->host, nest__vmx_host_runs);

	/* Execution controls: OR of L0's and L1's exits. External interrupts
	 * and NMIs while L2 runs always reach L0 first (SDM 26.2). */
	o->PIN_BASED_VM_EXEC_CONTROL = (v->PIN_BASED_VM_EXEC_CONTROL & PIN_FROM_L1) |
				       (l0->pin & ~L0_PIN_NOT_TO_L2) |
				       NEST_VMX_PIN_EXT_INTR_EXITING | NEST_VMX_PIN_NMI_EXITING;
	/* With NMI exiting and without virtual NMIs, IRET does not unblock
	 * NMIs (SDM 26.3): the NMI exiting added above would leave an L2 of
	 * an L1 without NMI exiting blocking NMIs for as long as it runs once
	 * it took one. That L2's blocking by NMI is the ordinary kind, which
	 * virtual-NMI blocking reproduces: set by the delivery of an NMI,
	 * ended by IRET, bit 3 of the interruptibility state in both (SDM
	 * 25.4.2, 27.7.1). So vmcs02 uses virtual NMIs there. */
	if (!(v->PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_NMI_EXITING) && l0x->host_vnmi)
		o->PIN_BASED_VM_EXEC_CONTROL |= NEST_VMX_PIN_VIRTUAL_NMIS;
	o->CPU_BASED_VM_EXEC_CONTROL = (v->CPU_BASED_VM_EXEC_CONTROL & ~PROC_NOT_FROM_L1) |
				       (l0->proc & ~L0_PROC_NOT_TO_L2) |
				       NEST_VMX_PROC_USE_MSR_BITMAPS | NEST_VMX_PROC_USE_IO_BITMAPS;
	/* Without a TPR shadow, L2's MOV CR8 would reach the physical TPR:
	 * it exits to L0, which gives L2 L1's TPR (SDM 26.1.3, 30.3). */
	if (!(o->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_USE_TPR_SHADOW))
		o->CPU_BASED_VM_EXEC_CONTROL |=
		    NEST_VMX_PROC_CR8_LOAD_EXITING | NEST_VMX_PROC_CR8_STORE_EXITING;
	/* With the I/O bitmaps on, unconditional I/O exiting is ignored (SDM
	 * 26.1.3): L0's and L1's wishes are in the merged bitmaps instead. */
	o->CPU_BASED_VM_EXEC_CONTROL &= ~NEST_VMX_PROC_UNCOND_IO_EXITING;
	o->SECONDARY_VM_EXEC_CONTROL =
	    (proc2_12 & PROC2_FROM_L1) | (l0->proc2 & ~L0_PROC2_NOT_TO_L2);
	o->MSR_BITMAP = pg->msr_bitmap;
	o->IO_BITMAP_A = pg->io_bitmap_a;
	o->IO_BITMAP_B = pg->io_bitmap_b;
	merge_exceptions(o, v, l0);
	merge_cr_masks(o, v, l0);
	compose_tsc(o, v, l0, proc2_12);

	/* CR3 targets spare an exit only when L0 does not want CR3 loads. */
	if (!(l0->proc & NEST_VMX_PROC_CR3_LOAD_EXITING)) {
		o->CR3_TARGET_COUNT = v->CR3_TARGET_COUNT;
		o->CR3_TARGET_VALUE0 = v->CR3_TARGET_VALUE0;
		o->CR3_TARGET_VALUE1 = v->CR3_TARGET_VALUE1;
		o->CR3_TARGET_VALUE2 = v->CR3_TARGET_VALUE2;
		o->CR3_TARGET_VALUE3 = v->CR3_TARGET_VALUE3;
	}

	/* APIC virtualization: the pages entry.c translated. */
	if (o->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_USE_TPR_SHADOW) {
		o->VIRTUAL_APIC_PAGE_ADDR = pg->virtual_apic;
		o->TPR_THRESHOLD = v->TPR_THRESHOLD;
	}
	if (proc2_12 & NEST_VMX_PROC2_VIRT_APIC_ACCESSES)
		o->APIC_ACCESS_ADDR = pg->apic_access;
	if (proc2_12 & NEST_VMX_PROC2_VIRT_INTR_DELIVERY) {
		o->EOI_EXIT_BITMAP0 = v->EOI_EXIT_BITMAP0;
		o->EOI_EXIT_BITMAP1 = v->EOI_EXIT_BITMAP1;
		o->EOI_EXIT_BITMAP2 = v->EOI_EXIT_BITMAP2;
		o->EOI_EXIT_BITMAP3 = v->EOI_EXIT_BITMAP3;
	}
	if (proc2_12 & NEST_VMX_PROC2_PAUSE_LOOP_EXITING) {
		o->PLE_GAP = v->PLE_GAP;
		o->PLE_WINDOW = v->PLE_WINDOW;
	}
	if (proc2_12 & NEST_VMX_PROC2_ENABLE_XSAVES)
		o->XSS_EXIT_BITMAP = v->XSS_EXIT_BITMAP;
	if (proc2_12 & NEST_VMX_PROC2_ENCLS_EXITING)
		o->ENCLS_EXITING_BITMAP = v->ENCLS_EXITING_BITMAP;
	if (proc2_12 & NEST_VMX_PROC2_NOTIFY_VM_EXITING)
		o->NOTIFY_WINDOW = v->NOTIFY_WINDOW;

	/* Paging: EPT02 (the shadow of EPT12) or EPT01. */
	if (proc2_12 & NEST_VMX_PROC2_ENABLE_EPT) {
		o->SECONDARY_VM_EXEC_CONTROL |= NEST_VMX_PROC2_ENABLE_EPT;
		o->EPT_POINTER = pg->eptp02;
	} else if (l0->proc2 & NEST_VMX_PROC2_ENABLE_EPT) {
		o->EPT_POINTER = l0->eptp01;
	}

	/* VM functions: enabled with no function (VM_FUNCTION_CONTROL 0), so
	 * every VMFUNC of L2 exits to L0, which runs L1's EPTP switching on
	 * the shadow EPT02 (vmfunc.c) or reflects the exit. */
	if (proc2_12 & NEST_VMX_PROC2_ENABLE_VMFUNC)
		o->SECONDARY_VM_EXEC_CONTROL |= NEST_VMX_PROC2_ENABLE_VMFUNC;

	/* VPID: L2 gets L0's vpid02 whatever vpid12 is (entry.c flushes it
	 * when vpid12 changes, or on every entry when L1 uses no VPID). */
	o->SECONDARY_VM_EXEC_CONTROL &= ~NEST_VMX_PROC2_ENABLE_VPID;
	if (l0->vpid02 != 0) {
		o->SECONDARY_VM_EXEC_CONTROL |= NEST_VMX_PROC2_ENABLE_VPID;
		o->VIRTUAL_PROCESSOR_ID = (uint16_t)l0->vpid02;
	}
	if (o->SECONDARY_VM_EXEC_CONTROL)
		o->CPU_BASED_VM_EXEC_CONTROL |= NEST_VMX_PROC_ACTIVATE_SECONDARY;

	/* Exit controls are L0's: every exit of L2 goes to L0 first. PAT and
	 * EFER are saved so that a reflection can report them. */
	o->VM_EXIT_CONTROLS = l0->exit_ctls | NEST_VMX_EXIT_CTL_SAVE_PAT |
			      NEST_VMX_EXIT_CTL_SAVE_EFER | NEST_VMX_EXIT_CTL_SAVE_DEBUG_CONTROLS;
	merge_timer(o, v, l0);

	/* Entry: L1's mode and loads, its event injection. L1's MSR-load
	 * area never goes to the hardware list: the MSRs would stay loaded
	 * for L0 after the exit; L0 loads them as L2's values instead
	 * (nest_vmx_pending_msrs()). */
	o->VM_ENTRY_CONTROLS |= v->VM_ENTRY_CONTROLS & ENTRY_FROM_L1;
	o->VM_ENTRY_INTR_INFO_FIELD = v->VM_ENTRY_INTR_INFO_FIELD;
	o->VM_ENTRY_EXCEPTION_ERROR_CODE = v->VM_ENTRY_EXCEPTION_ERROR_CODE;
	/* The host's reserved must-be-1 bits, whatever L1 set in its own
	 * (libnest may offer them as 0; SDM A.3-A.5, 27.2.1.1). */
	o->PIN_BASED_VM_EXEC_CONTROL |= l0x->host_must1_pin;
	/* An NMI the entry injects while vmcs12 says NMIs are blocked: L1
	 * may (without virtual NMIs the check of SDM 27.3.1.5 does not
	 * apply), vmcs02 with virtual NMIs may not; the delivery blocks NMIs
	 * again either way. */
	if ((o->PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_VIRTUAL_NMIS) &&
	    !(v->PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_VIRTUAL_NMIS) &&
	    (o->VM_ENTRY_INTR_INFO_FIELD & NEST_VMX_INTR_INFO_VALID) &&
	    ((o->VM_ENTRY_INTR_INFO_FIELD & NEST_VMX_INTR_INFO_TYPE_MASK) >>
	     NEST_VMX_INTR_INFO_TYPE_SHIFT) == NEST_VMX_INTR_TYPE_NMI)
		o->GUEST_INTERRUPTIBILITY_INFO &= ~(uint32_t)NEST_VMX_INTERRUPTIBILITY_NMI;
	o->CPU_BASED_VM_EXEC_CONTROL |= l0x->host_must1_proc;
	o->VM_EXIT_CONTROLS |= l0x->host_must1_exit;
	o->VM_ENTRY_CONTROLS |= l0x->host_must1_entry;
	o->VM_ENTRY_INSTRUCTION_LEN = v->VM_ENTRY_INSTRUCTION_LEN;
	/* vmcs02's hardware MSR lists stay empty: L1's VM-exit MSR-store list
	 * is stored in software at the exit (reflect.c), from L0's view of L2's
	 * MSRs; the hardware would read any MSR, the host's own included. */
}

/*
 * The fast path of VMRESUME. The merge above reads, besides vmcs12's
 * control fields, L0 (l0x), the pages and L1's state: every guest-state
 * field (copied, or replaced by guest_fixups() from controls and L1's
 * state), GUEST_CR0 and GUEST_CR4 (the read shadows) and the
 * VMX-preemption timer value (the smaller timer). When only guest-state
 * fields changed, re-deriving exactly those reproduces the full merge.
 */
void nest__vmx_refresh_vmcs02(struct nest__vmcs12 *o, const struct nest__vmcs12 *v,
			      const struct nest__vmx_l0 *l0x,
			      const struct nest__vmx_fieldset *changed,
			      const struct nest__vmx_l1_now *l1)
{
	unsigned w, i;

	for (w = 0; w < sizeof(changed->w) / sizeof(changed->w[0]); w++) {
		uint64_t bits = changed->w[w];

		while (bits != 0) {
			i = w * 64 + (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			if (i < NEST__VF_COUNT && nest__vmcs_fields[i].type == NEST_VMCS_T_GUEST)
				copy_field(o, v, i);
		}
	}
	guest_fixups(o, v, l1);
	merge_cr_masks(o, v, &l0x->pub);
	merge_timer(o, v, &l0x->pub);
}
