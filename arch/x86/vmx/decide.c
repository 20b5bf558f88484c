/* SPDX-License-Identifier: MIT */
/*
 * Who handles an exit of L2: L1 (reflect), L0, or the shadow EPT02.
 *
 * Intel SDM Vol. 3C chapter 26 "VMX Non-Root Operation" (25 in editions
 * before 2023), 26.1 (instructions that cause VM exits, conditionally or
 * unconditionally) and 26.2 (other causes). Every basic exit reason has
 * one entry in `rules` below, saying what in vmcs12 governs it; the few
 * reasons whose condition needs more than one control bit (CR accesses,
 * I/O, MSRs, exceptions, EPT) have a named condition.
 */
#include "vmx/decide.h"

#include "cpu/x86.h"
#include "internal.h"
#include "vmx/vmx_arch.h"

/* MSR bitmap layout (SDM 26.6.9): four 1 KiB quarters. */
#define MSR_BM_READ_LOW 0u
#define MSR_BM_READ_HIGH 1024u
#define MSR_BM_WRITE_LOW 2048u
#define MSR_BM_WRITE_HIGH 3072u
#define MSR_LOW_LAST 0x00001fffu
#define MSR_HIGH_FIRST 0xc0000000u
#define MSR_HIGH_LAST 0xc0001fffu

/* I/O ports (SDM 26.1.3): 64 Ki ports, bitmap A covers 0-7FFFH. */
#define IO_PORT_LAST 0xffffu

/* CR-access exit qualification (SDM 28.2.1, table 28-3). */
#define CRQ_CR(q) ((unsigned)(q)&0xfu)
#define CRQ_TYPE(q) (((unsigned)(q) >> 4) & 3u)
#define CRQ_GPR(q) (((unsigned)(q) >> 8) & 0xfu)
#define CRQ_LMSW_DATA(q) (((uint64_t)(q) >> 16) & 0xffffu)
#define CRQ_TYPE_MOV_TO 0u
#define CRQ_TYPE_MOV_FROM 1u
#define CRQ_TYPE_CLTS 2u
#define CRQ_TYPE_LMSW 3u

/* I/O exit qualification (SDM 28.2.1, table 28-5). */
#define IOQ_SIZE(q) (((unsigned)(q)&7u) + 1u)
#define IOQ_PORT(q) (((unsigned)((q) >> 16)) & 0xffffu)

#define GPR_RCX 1u
#define GPR_RAX 0u
#define ENCLS_LEAF_LAST_BIT 63u

/* How an exit reason is governed. */
enum rule_kind {
	R_L0 = 0,    /* belongs to L0 (also: reasons L2 cannot produce) */
	R_L1,	     /* always reflected: L1 cannot turn it off */
	R_PIN,	     /* a pin-based control bit */
	R_PROC,	     /* a primary processor-based control bit */
	R_PROC2,     /* a secondary processor-based control bit (active only
		      * with "activate secondary controls") */
	R_PROC3,     /* a tertiary control bit */
	R_EXCEPTION, /* exception bitmap, #PF mask/match; NMIs and #MC are L0's */
	R_CR,	     /* CR masks, shadows, CR3 targets, CR3/CR8 exiting */
	R_DR,	     /* MOV-DR exiting */
	R_IO,	     /* I/O bitmaps or unconditional I/O exiting */
	R_MSR_READ,  /* MSR bitmaps */
	R_MSR_WRITE,
	R_EPT,	   /* EPT12 if L1 uses EPT, else EPT01 (L0) */
	R_TIMER,   /* whichever preemption timer fired */
	R_RDTSCP,  /* RDTSC exiting with "enable RDTSCP" */
	R_INVPCID, /* INVLPG exiting with "enable INVPCID" */
	R_PAUSE,   /* PAUSE exiting, or PAUSE-loop exiting */
	R_XSAVES,  /* "enable XSAVES/XRSTORS" and a nonzero XSS-exiting bitmap */
	R_ENCLS,   /* ENCLS exiting and the ENCLS-exiting bitmap bit of the leaf */
};

struct exit_rule {
	uint8_t kind;
	uint32_t bit;
};

/* One entry per basic exit reason (exit-reasons.def). Reasons absent here
 * are zero: R_L0. */
static const struct exit_rule rules[NEST_VMX_EXIT_REASON_COUNT] = {
    [NEST_VMX_EXIT_EXCEPTION_NMI] = {R_EXCEPTION, 0},
    /* External interrupts while L2 runs are the host's (SDM 26.2: an
     * exit only with the pin control; L0 always sets it in vmcs02).
     * Interrupts for L1 reach it through nest_vmx_l2_event(). */
    [NEST_VMX_EXIT_EXTERNAL_INTERRUPT] = {R_L0, 0},
    [NEST_VMX_EXIT_TRIPLE_FAULT] = {R_L1, 0},
    /* INIT and SIPI signals in hardware are the host's; L1's virtual ones
     * come through nest_vmx_l2_event(). */
    [NEST_VMX_EXIT_INIT_SIGNAL] = {R_L0, 0},
    [NEST_VMX_EXIT_SIPI] = {R_L0, 0},
    [NEST_VMX_EXIT_INTERRUPT_WINDOW] = {R_PROC, NEST_VMX_PROC_INTR_WINDOW_EXITING},
    [NEST_VMX_EXIT_NMI_WINDOW] = {R_PROC, NEST_VMX_PROC_NMI_WINDOW_EXITING},
    [NEST_VMX_EXIT_TASK_SWITCH] = {R_L1, 0},
    [NEST_VMX_EXIT_CPUID] = {R_L1, 0},
    [NEST_VMX_EXIT_GETSEC] = {R_L1, 0},
    [NEST_VMX_EXIT_HLT] = {R_PROC, NEST_VMX_PROC_HLT_EXITING},
    [NEST_VMX_EXIT_INVD] = {R_L1, 0},
    [NEST_VMX_EXIT_INVLPG] = {R_PROC, NEST_VMX_PROC_INVLPG_EXITING},
    [NEST_VMX_EXIT_RDPMC] = {R_PROC, NEST_VMX_PROC_RDPMC_EXITING},
    [NEST_VMX_EXIT_RDTSC] = {R_PROC, NEST_VMX_PROC_RDTSC_EXITING},
    [NEST_VMX_EXIT_RSM] = {R_L1, 0},
    [NEST_VMX_EXIT_VMCALL] = {R_L1, 0},
    [NEST_VMX_EXIT_VMCLEAR] = {R_L1, 0},
    [NEST_VMX_EXIT_VMLAUNCH] = {R_L1, 0},
    [NEST_VMX_EXIT_VMPTRLD] = {R_L1, 0},
    [NEST_VMX_EXIT_VMPTRST] = {R_L1, 0},
    [NEST_VMX_EXIT_VMREAD] = {R_L1, 0},
    [NEST_VMX_EXIT_VMRESUME] = {R_L1, 0},
    [NEST_VMX_EXIT_VMWRITE] = {R_L1, 0},
    [NEST_VMX_EXIT_VMXOFF] = {R_L1, 0},
    [NEST_VMX_EXIT_VMXON] = {R_L1, 0},
    [NEST_VMX_EXIT_CR_ACCESS] = {R_CR, 0},
    [NEST_VMX_EXIT_DR_ACCESS] = {R_DR, NEST_VMX_PROC_MOV_DR_EXITING},
    [NEST_VMX_EXIT_IO_INSTRUCTION] = {R_IO, 0},
    [NEST_VMX_EXIT_MSR_READ] = {R_MSR_READ, 0},
    [NEST_VMX_EXIT_MSR_WRITE] = {R_MSR_WRITE, 0},
    [NEST_VMX_EXIT_MWAIT] = {R_PROC, NEST_VMX_PROC_MWAIT_EXITING},
    [NEST_VMX_EXIT_MONITOR_TRAP_FLAG] = {R_PROC, NEST_VMX_PROC_MONITOR_TRAP_FLAG},
    [NEST_VMX_EXIT_MONITOR] = {R_PROC, NEST_VMX_PROC_MONITOR_EXITING},
    [NEST_VMX_EXIT_PAUSE] = {R_PAUSE, 0},
    [NEST_VMX_EXIT_TPR_BELOW_THRESHOLD] = {R_PROC, NEST_VMX_PROC_USE_TPR_SHADOW},
    [NEST_VMX_EXIT_APIC_ACCESS] = {R_PROC2, NEST_VMX_PROC2_VIRT_APIC_ACCESSES},
    [NEST_VMX_EXIT_EOI_INDUCED] = {R_PROC2, NEST_VMX_PROC2_VIRT_INTR_DELIVERY},
    [NEST_VMX_EXIT_GDTR_IDTR] = {R_PROC2, NEST_VMX_PROC2_DESC_TABLE_EXITING},
    [NEST_VMX_EXIT_LDTR_TR] = {R_PROC2, NEST_VMX_PROC2_DESC_TABLE_EXITING},
    [NEST_VMX_EXIT_EPT_VIOLATION] = {R_EPT, 0},
    [NEST_VMX_EXIT_EPT_MISCONFIG] = {R_EPT, 0},
    [NEST_VMX_EXIT_INVEPT] = {R_L1, 0},
    [NEST_VMX_EXIT_RDTSCP] = {R_RDTSCP, 0},
    [NEST_VMX_EXIT_PREEMPTION_TIMER] = {R_TIMER, 0},
    [NEST_VMX_EXIT_INVVPID] = {R_L1, 0},
    [NEST_VMX_EXIT_WBINVD] = {R_PROC2, NEST_VMX_PROC2_WBINVD_EXITING},
    [NEST_VMX_EXIT_XSETBV] = {R_L1, 0},
    /* APIC-write exits come of APIC-register virtualization and of
     * virtual-interrupt delivery (a virtualized x2APIC SELF IPI write of
     * a value other than a vector of 16-255, SDM 30.5), both L1's only in
     * vmcs02. */
    [NEST_VMX_EXIT_APIC_WRITE] = {R_PROC2, NEST_VMX_PROC2_APIC_REGISTER_VIRT |
					       NEST_VMX_PROC2_VIRT_INTR_DELIVERY},
    [NEST_VMX_EXIT_RDRAND] = {R_PROC2, NEST_VMX_PROC2_RDRAND_EXITING},
    [NEST_VMX_EXIT_INVPCID] = {R_INVPCID, 0},
    /* VMFUNC exits only for a function L1 did not enable, or a failing
     * EPTP switch: both are L1's to see (SDM 26.5.6). */
    [NEST_VMX_EXIT_VMFUNC] = {R_PROC2, NEST_VMX_PROC2_ENABLE_VMFUNC},
    [NEST_VMX_EXIT_ENCLS] = {R_ENCLS, 0},
    [NEST_VMX_EXIT_RDSEED] = {R_PROC2, NEST_VMX_PROC2_RDSEED_EXITING},
    /* L1's PML never reaches vmcs02: the EPT02 fault path runs it and
     * makes L1's PML-full exits itself (exit.c). One from the processor
     * is from a log L0 keeps for vmcs02. */
    [NEST_VMX_EXIT_PML_FULL] = {R_L0, 0},
    [NEST_VMX_EXIT_XSAVES] = {R_XSAVES, 0},
    [NEST_VMX_EXIT_XRSTORS] = {R_XSAVES, 0},
    [NEST_VMX_EXIT_PCONFIG] = {R_PROC2, NEST_VMX_PROC2_ENABLE_PCONFIG},
    [NEST_VMX_EXIT_SPP_EVENT] = {R_PROC2, NEST_VMX_PROC2_SUBPAGE_WRITE_PERM},
    [NEST_VMX_EXIT_UMWAIT] = {R_PROC2, NEST_VMX_PROC2_ENABLE_USER_WAIT_PAUSE},
    [NEST_VMX_EXIT_TPAUSE] = {R_PROC2, NEST_VMX_PROC2_ENABLE_USER_WAIT_PAUSE},
    [NEST_VMX_EXIT_LOADIWKEY] = {R_PROC3, 1u /* LOADIWKEY exiting, tertiary bit 0 */},
    [NEST_VMX_EXIT_ENCLV] = {R_PROC2, NEST_VMX_PROC2_ENABLE_ENCLV_EXITING},
    [NEST_VMX_EXIT_BUS_LOCK] = {R_PROC2, NEST_VMX_PROC2_BUS_LOCK_DETECTION},
    [NEST_VMX_EXIT_NOTIFY] = {R_PROC2, NEST_VMX_PROC2_NOTIFY_VM_EXITING},
};

static inline bool bit_set(const uint8_t *bm, uint32_t bit)
{
	return (bm[bit >> 3] >> (bit & 7u)) & 1u;
}

bool nest__vmx_msr_bitmap_exits(const uint8_t *bitmap, uint32_t msr, bool write)
{
	uint32_t base;

	if (msr <= MSR_LOW_LAST)
		base = write ? MSR_BM_WRITE_LOW : MSR_BM_READ_LOW;
	else if (msr >= MSR_HIGH_FIRST && msr <= MSR_HIGH_LAST)
		base = write ? MSR_BM_WRITE_HIGH : MSR_BM_READ_HIGH;
	else
		return true;
	return bit_set(bitmap + base, msr & MSR_LOW_LAST);
}

bool nest__vmx_io_bitmap_exits(const uint8_t *bitmaps, uint32_t port, unsigned size)
{
	unsigned i;

	for (i = 0; i < size; i++) {
		/* SDM 26.1.3: an access that wraps around to port 0 exits. */
		if (port + i > IO_PORT_LAST)
			return true;
		if (bit_set(bitmaps, port + i))
			return true;
	}
	return false;
}

static uint64_t proc3_of(const struct nest__vmcs12 *v)
{
	return (v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_ACTIVATE_TERTIARY)
		   ? v->TERTIARY_VM_EXEC_CONTROL
		   : 0;
}

/* MOV to CR3 with "CR3-load exiting": no exit if the value equals one of
 * the first CR3_TARGET_COUNT target values (SDM 26.1.3). The count is at
 * most 4 after the entry checks; the loop is bounded regardless. */
static bool cr3_load_exits(const struct nest__vmcs12 *v, uint64_t value)
{
	const uint64_t targets[4] = {v->CR3_TARGET_VALUE0, v->CR3_TARGET_VALUE1,
				     v->CR3_TARGET_VALUE2, v->CR3_TARGET_VALUE3};
	uint32_t n = v->CR3_TARGET_COUNT < 4 ? v->CR3_TARGET_COUNT : 4;
	uint32_t i;

	if (!(v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_CR3_LOAD_EXITING))
		return false;
	for (i = 0; i < n; i++)
		if (targets[i] == value)
			return false;
	return true;
}

bool nest__vmx_cr_access_exits(const struct nest__vmcs12 *v, uint64_t qual, const uint64_t *gpr)
{
	unsigned cr = CRQ_CR(qual);
	uint64_t val = gpr[CRQ_GPR(qual)];
	uint32_t proc = v->CPU_BASED_VM_EXEC_CONTROL;

	switch (CRQ_TYPE(qual)) {
	case CRQ_TYPE_MOV_TO:
		if (cr == 0)
			return ((val ^ v->CR0_READ_SHADOW) & v->CR0_GUEST_HOST_MASK) != 0;
		if (cr == 3)
			return cr3_load_exits(v, val);
		if (cr == 4)
			return ((val ^ v->CR4_READ_SHADOW) & v->CR4_GUEST_HOST_MASK) != 0;
		if (cr == 8)
			return (proc & NEST_VMX_PROC_CR8_LOAD_EXITING) != 0;
		return false;
	case CRQ_TYPE_MOV_FROM:
		/* Reads of CR0/CR4 never exit: they return the shadows. */
		if (cr == 3)
			return (proc & NEST_VMX_PROC_CR3_STORE_EXITING) != 0;
		if (cr == 8)
			return (proc & NEST_VMX_PROC_CR8_STORE_EXITING) != 0;
		return false;
	case CRQ_TYPE_CLTS:
		return (v->CR0_GUEST_HOST_MASK & X86_CR0_TS) && (v->CR0_READ_SHADOW & X86_CR0_TS);
	default: {
		/* LMSW: it cannot clear PE, so an owned PE exits only when it
		 * would set a PE that reads as 0; MP, EM, TS exit on any change
		 * of an owned bit (SDM 26.1.3). */
		uint64_t src = CRQ_LMSW_DATA(qual);
		uint64_t mask = v->CR0_GUEST_HOST_MASK, shadow = v->CR0_READ_SHADOW;
		uint64_t others = X86_CR0_MP | X86_CR0_EM | X86_CR0_TS;

		if ((mask & X86_CR0_PE) && !(shadow & X86_CR0_PE) && (src & X86_CR0_PE))
			return true;
		return ((src ^ shadow) & mask & others) != 0;
	}
	}
}

bool nest__vmx_exception_exits(const struct nest__vmcs12 *v, unsigned vector, uint32_t pfec)
{
	bool bit = vector < 32 && ((v->EXCEPTION_BITMAP >> vector) & 1u);

	if (vector == X86_EXC_PF) {
		/* SDM 26.2: with bit 14 set, #PF exits iff PFEC & mask ==
		 * match; with it clear, iff they differ. */
		bool match =
		    (pfec & v->PAGE_FAULT_ERROR_CODE_MASK) == v->PAGE_FAULT_ERROR_CODE_MATCH;

		return bit == match;
	}
	return bit;
}

static bool exception_to_l1(const struct nest__vmcs12 *v, const struct nest__vmx_l2_exit *e)
{
	unsigned type =
	    (e->intr_info & NEST_VMX_INTR_INFO_TYPE_MASK) >> NEST_VMX_INTR_INFO_TYPE_SHIFT;
	unsigned vector = e->intr_info & NEST_VMX_INTR_INFO_VECTOR_MASK;

	if (!(e->intr_info & NEST_VMX_INTR_INFO_VALID))
		return false;
	/* A hardware NMI or machine check is the host's (SDM 26.2: NMIs exit
	 * with "NMI exiting"; #MC is delivered to L0 whatever L1 asked). */
	if (type == NEST_VMX_INTR_TYPE_NMI || vector == X86_EXC_MC)
		return false;
	return nest__vmx_exception_exits(v, vector, e->intr_error);
}

static bool io_to_l1(const struct nest__vmcs12 *v, const struct nest__vmx_l2_exit *e,
		     const struct nest__vmx_l1_bitmaps *bm)
{
	uint32_t proc = v->CPU_BASED_VM_EXEC_CONTROL;

	/* SDM 26.1.3: with "use I/O bitmaps" the bitmaps decide and the
	 * unconditional control is ignored. */
	if (proc & NEST_VMX_PROC_USE_IO_BITMAPS)
		return bm == NULL || !bm->io_valid ||
		       nest__vmx_io_bitmap_exits(bm->io, IOQ_PORT(e->qual), IOQ_SIZE(e->qual));
	return (proc & NEST_VMX_PROC_UNCOND_IO_EXITING) != 0;
}

static bool msr_to_l1(const struct nest__vmcs12 *v, const struct nest__vmx_l2_exit *e,
		      const struct nest__vmx_l1_bitmaps *bm, bool write)
{
	uint32_t msr = (uint32_t)e->gpr[GPR_RCX];

	if (!(v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_USE_MSR_BITMAPS))
		return true;
	if (bm == NULL || !bm->msr_valid)
		return true;
	return nest__vmx_msr_bitmap_exits(bm->msr, msr, write);
}

enum nest__vmx_owner nest__vmx_exit_owner(const struct nest__vmcs12 *v,
					  const struct nest__vmx_l2_exit *e,
					  const struct nest__vmx_l1_bitmaps *bm)
{
	uint32_t basic = e->reason & NEST_VMX_EXIT_REASON_BASIC_MASK;
	const struct exit_rule *r;
	bool l1;

	/* A failed VM entry is reported to L1 whatever its controls. */
	if (e->reason & NEST_VMX_EXIT_REASON_ENTRY_FAILURE)
		return basic == NEST_VMX_EXIT_MCE_DURING_VMENTRY ? NEST__VMX_OWNER_L0
								 : NEST__VMX_OWNER_L1;
	if (basic >= NEST_ARRAY_SIZE(rules))
		return NEST__VMX_OWNER_L0;
	r = &rules[basic];
	switch (r->kind) {
	case R_L1:
		l1 = true;
		break;
	case R_PIN:
		l1 = (v->PIN_BASED_VM_EXEC_CONTROL & r->bit) != 0;
		break;
	case R_PROC:
		l1 = (v->CPU_BASED_VM_EXEC_CONTROL & r->bit) != 0;
		break;
	case R_PROC2:
		l1 = (nest__vmcs12_proc2(v) & r->bit) != 0;
		break;
	case R_PROC3:
		l1 = (proc3_of(v) & r->bit) != 0;
		break;
	case R_EXCEPTION:
		l1 = exception_to_l1(v, e);
		break;
	case R_CR:
		l1 = nest__vmx_cr_access_exits(v, e->qual, e->gpr);
		break;
	case R_DR:
		l1 = (v->CPU_BASED_VM_EXEC_CONTROL & r->bit) != 0;
		break;
	case R_IO:
		l1 = io_to_l1(v, e, bm);
		break;
	case R_MSR_READ:
	case R_MSR_WRITE:
		l1 = msr_to_l1(v, e, bm, r->kind == R_MSR_WRITE);
		break;
	case R_EPT:
		/* With EPT12, the shadow decides between a fixed EPT02 entry,
		 * a reflection and L0; without, the fault is in EPT01. */
		return (nest__vmcs12_proc2(v) & NEST_VMX_PROC2_ENABLE_EPT) ? NEST__VMX_OWNER_TDP
									   : NEST__VMX_OWNER_L0;
	case R_TIMER:
		l1 = (v->PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_PREEMPTION_TIMER) &&
		     e->l1_timer_fired;
		break;
	case R_RDTSCP:
		l1 = (v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_RDTSC_EXITING) &&
		     (nest__vmcs12_proc2(v) & NEST_VMX_PROC2_ENABLE_RDTSCP);
		break;
	case R_INVPCID:
		l1 = (v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_INVLPG_EXITING) &&
		     (nest__vmcs12_proc2(v) & NEST_VMX_PROC2_ENABLE_INVPCID);
		break;
	case R_PAUSE:
		l1 = (v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_PAUSE_EXITING) ||
		     (nest__vmcs12_proc2(v) & NEST_VMX_PROC2_PAUSE_LOOP_EXITING);
		break;
	case R_XSAVES:
		l1 = (nest__vmcs12_proc2(v) & NEST_VMX_PROC2_ENABLE_XSAVES) &&
		     v->XSS_EXIT_BITMAP != 0;
		break;
	case R_ENCLS: {
		uint64_t leaf = e->gpr[GPR_RAX] & 0xffffffffull;
		unsigned b = leaf < ENCLS_LEAF_LAST_BIT ? (unsigned)leaf : ENCLS_LEAF_LAST_BIT;

		l1 = (nest__vmcs12_proc2(v) & NEST_VMX_PROC2_ENCLS_EXITING) &&
		     ((v->ENCLS_EXITING_BITMAP >> b) & 1u);
		break;
	}
	default:
		l1 = false;
		break;
	}
	return l1 ? NEST__VMX_OWNER_L1 : NEST__VMX_OWNER_L0;
}
