/* SPDX-License-Identifier: MIT */
/*
 * The public side of nested entry and exit: L0's needs (nest_vmx_set_l0),
 * exits of L2 (nest_vmx_l2_exit), events L0 has for L1 while L2 runs
 * (nest_vmx_l2_event), and small queries.
 */
#include "vmx/context.h"
#include "vmx/entry.h"
#include "vmx/reflect.h"
#include "vmx/shadow.h"
#include "vmx/sync.h"

#include <nest/tdp.h>

#include "cpu/x86.h"
#include "paging/paging.h"
#include "vmx/check.h"
#include "vmx/context.h"
#include "vmx/hwfields.h"
#include "vmx/l2vmrw.h"
#include "vmx/vmfunc.h"
#include "vmx/vmx_arch.h"

#define VMRW_BITMAP_BYTES 4096u
#define VMRW_ENC_BITS 0x7fffu
#define MIN_EXTINT_VECTOR 16u
#define NMI_VECTOR 2u
#define SIPI_VECTOR_MASK 0xffu
#define EPT_QUAL_NMI_UNBLOCK (1ull << 12)
#define EPT_QUAL_ACCESS_R (1ull << 0)
#define EPT_QUAL_ACCESS_W (1ull << 1)
#define EPT_QUAL_ACCESS_X (1ull << 2)

static int rd(struct nest_vmx *ctx, uint32_t enc, uint64_t *v)
{
	*v = 0;
	return nest__be_vmcs_read(&ctx->be, NEST_VMCS02, enc, v);
}

/* The context and the caller's action, whose size may be an older one. */
static int action_args(const struct nest_vmx *ctx, const struct nest_vmx_action *act)
{
	uint32_t size;

	if (!nest__vmx_ctx_ok(ctx) || act == NULL)
		return NEST_E_INVAL;
	nest__memcpy(&size, act, sizeof(size));
	return size < NEST_VMX_ACTION_MIN_SIZE ? NEST_E_SIZE : NEST_OK;
}

static int begin(struct nest_vmx *ctx, struct nest_vmx_action *act, struct nest_vmx_action *a)
{
	int rc = action_args(ctx, act);

	if (rc != NEST_OK)
		return rc;
	if (!ctx->nested.guest_mode)
		return NEST_E_STATE;
	nest__vmx_msrs_consumed(&ctx->nested);
	nest__memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	return NEST_OK;
}

static int finish(struct nest_vmx_action *act, struct nest_vmx_action *a, int rc)
{
	if (rc != NEST_OK) {
		nest__memset(a, 0, sizeof(*a));
		a->size = sizeof(*a);
	}
	nest__copy_out(act, a, sizeof(*a), NEST_VMX_ACTION_MIN_SIZE);
	return rc;
}

/* Put an event into vmcs02's VM-entry interruption information, so the
 * next entry of L2 delivers it. */
static int inject_l2(struct nest_vmx *ctx, uint32_t info, uint32_t error, uint32_t len)
{
	struct nest__vmcs12 img = ctx->nested.vmcs02_cache;

	img.VM_ENTRY_INTR_INFO_FIELD = info;
	img.VM_ENTRY_EXCEPTION_ERROR_CODE = error;
	img.VM_ENTRY_INSTRUCTION_LEN = len;
	return nest__vmx_write_vmcs02(ctx, &img, false);
}

/* Set or clear window-exiting bits of vmcs02's primary controls. */
static int set_window(struct nest_vmx *ctx, uint32_t bits, bool on)
{
	struct nest__vmcs12 img = ctx->nested.vmcs02_cache;

	if (on)
		img.CPU_BASED_VM_EXEC_CONTROL |= bits;
	else
		img.CPU_BASED_VM_EXEC_CONTROL &= ~bits;
	return nest__vmx_write_vmcs02(ctx, &img, false);
}

/* L0 handles an exit and resumes L2: an event that was being delivered
 * (IDT-vectoring information, SDM 28.2.3) must be delivered again, or
 * L2 loses it. Bit 12 (NMI unblocking) is not part of an injection. */
static int reinject(struct nest_vmx *ctx, const struct nest__vmx_exit_report *r,
		    struct nest_vmx_action *a)
{
	uint32_t info = r->idt_info & ~NEST_VMX_INTR_INFO_NMI_UNBLOCKING_IRET;

	if (!(r->idt_info & NEST_VMX_INTR_INFO_VALID))
		return NEST_OK;
	a->flags |= NEST_VMX_ACT_F_REINJECT;
	a->vector = (uint8_t)(info & NEST_VMX_INTR_INFO_VECTOR_MASK);
	a->has_error_code = (info & NEST_VMX_INTR_INFO_DELIVER_ERROR_CODE) != 0;
	a->error_code = r->idt_error;
	return inject_l2(ctx, info, r->idt_error, r->insn_len);
}

#define EXIT_BIT(n) (1ull << ((unsigned)(n) % 64))

/*
 * Exits caused by executing an instruction (SDM appendix C). None happens
 * during event delivery, so their IDT-vectoring and VM-exit interruption
 * information are invalid (SDM 28.2.2, 28.2.4: 0 here) and no
 * guest-physical address is saved; the guest-linear address is saved only
 * for LMSW's memory operand (control-register accesses) and INS/OUTS
 * (SDM 28.2.1). Their instruction length is always saved (SDM 28.2.5).
 */
static const uint64_t insn_exits[2] = {
    EXIT_BIT(NEST_VMX_EXIT_CPUID) | EXIT_BIT(NEST_VMX_EXIT_GETSEC) | EXIT_BIT(NEST_VMX_EXIT_HLT) |
	EXIT_BIT(NEST_VMX_EXIT_INVD) | EXIT_BIT(NEST_VMX_EXIT_INVLPG) |
	EXIT_BIT(NEST_VMX_EXIT_RDPMC) | EXIT_BIT(NEST_VMX_EXIT_RDTSC) | EXIT_BIT(NEST_VMX_EXIT_RSM) |
	EXIT_BIT(NEST_VMX_EXIT_VMCALL) | EXIT_BIT(NEST_VMX_EXIT_VMCLEAR) |
	EXIT_BIT(NEST_VMX_EXIT_VMLAUNCH) | EXIT_BIT(NEST_VMX_EXIT_VMPTRLD) |
	EXIT_BIT(NEST_VMX_EXIT_VMPTRST) | EXIT_BIT(NEST_VMX_EXIT_VMREAD) |
	EXIT_BIT(NEST_VMX_EXIT_VMRESUME) | EXIT_BIT(NEST_VMX_EXIT_VMWRITE) |
	EXIT_BIT(NEST_VMX_EXIT_VMXOFF) | EXIT_BIT(NEST_VMX_EXIT_VMXON) |
	EXIT_BIT(NEST_VMX_EXIT_CR_ACCESS) | EXIT_BIT(NEST_VMX_EXIT_DR_ACCESS) |
	EXIT_BIT(NEST_VMX_EXIT_IO_INSTRUCTION) | EXIT_BIT(NEST_VMX_EXIT_MSR_READ) |
	EXIT_BIT(NEST_VMX_EXIT_MSR_WRITE) | EXIT_BIT(NEST_VMX_EXIT_MWAIT) |
	EXIT_BIT(NEST_VMX_EXIT_MONITOR) | EXIT_BIT(NEST_VMX_EXIT_PAUSE) |
	EXIT_BIT(NEST_VMX_EXIT_GDTR_IDTR) | EXIT_BIT(NEST_VMX_EXIT_LDTR_TR) |
	EXIT_BIT(NEST_VMX_EXIT_INVEPT) | EXIT_BIT(NEST_VMX_EXIT_RDTSCP) |
	EXIT_BIT(NEST_VMX_EXIT_INVVPID) | EXIT_BIT(NEST_VMX_EXIT_WBINVD) |
	EXIT_BIT(NEST_VMX_EXIT_XSETBV) | EXIT_BIT(NEST_VMX_EXIT_RDRAND) |
	EXIT_BIT(NEST_VMX_EXIT_INVPCID) | EXIT_BIT(NEST_VMX_EXIT_VMFUNC) |
	EXIT_BIT(NEST_VMX_EXIT_ENCLS) | EXIT_BIT(NEST_VMX_EXIT_RDSEED) |
	EXIT_BIT(NEST_VMX_EXIT_XSAVES),
    EXIT_BIT(NEST_VMX_EXIT_XRSTORS) | EXIT_BIT(NEST_VMX_EXIT_UMWAIT) |
	EXIT_BIT(NEST_VMX_EXIT_TPAUSE) | EXIT_BIT(NEST_VMX_EXIT_LOADIWKEY),
};

/* ... of which these save neither an exit qualification (it is cleared,
 * SDM 28.2.1) nor VM-exit instruction information (undefined, SDM 28.2.5). */
static const uint64_t plain_insn_exits[2] = {
    EXIT_BIT(NEST_VMX_EXIT_CPUID) | EXIT_BIT(NEST_VMX_EXIT_HLT) | EXIT_BIT(NEST_VMX_EXIT_INVD) |
	EXIT_BIT(NEST_VMX_EXIT_RDPMC) | EXIT_BIT(NEST_VMX_EXIT_RDTSC) |
	EXIT_BIT(NEST_VMX_EXIT_VMCALL) | EXIT_BIT(NEST_VMX_EXIT_MSR_READ) |
	EXIT_BIT(NEST_VMX_EXIT_MSR_WRITE) | EXIT_BIT(NEST_VMX_EXIT_PAUSE) |
	EXIT_BIT(NEST_VMX_EXIT_RDTSCP) | EXIT_BIT(NEST_VMX_EXIT_WBINVD) |
	EXIT_BIT(NEST_VMX_EXIT_XSETBV),
    0,
};

static bool exit_in(const uint64_t set[2], uint32_t basic)
{
	return basic < 128 && (set[basic / 64] & EXIT_BIT(basic)) != 0;
}

/*
 * The exit information of vmcs02: every field the exit reason defines,
 * and no other (each read is a VMREAD, or an access to L0's shadow of the
 * VMCS). An exit that is not an instruction's, or a failed VM entry, reads
 * all ten fields.
 */
static int read_report(struct nest_vmx *ctx, struct nest__vmx_exit_report *r)
{
	static const uint32_t enc[] = {
	    NEST_VMCS_VM_EXIT_REASON,		NEST_VMCS_EXIT_QUALIFICATION,
	    NEST_VMCS_VM_EXIT_INTR_INFO,	NEST_VMCS_VM_EXIT_INTR_ERROR_CODE,
	    NEST_VMCS_IDT_VECTORING_INFO_FIELD, NEST_VMCS_IDT_VECTORING_ERROR_CODE,
	    NEST_VMCS_VM_EXIT_INSTRUCTION_LEN,	NEST_VMCS_VMX_INSTRUCTION_INFO,
	    NEST_VMCS_GUEST_LINEAR_ADDRESS,	NEST_VMCS_GUEST_PHYSICAL_ADDRESS,
	};
	uint64_t v[NEST_ARRAY_SIZE(enc)];
	uint32_t basic;
	unsigned i;
	int rc;

	nest__memset(v, 0, sizeof(v));
	rc = rd(ctx, enc[0], &v[0]);
	if (rc != NEST_OK)
		return rc;
	basic = (uint32_t)v[0] & NEST_VMX_EXIT_REASON_BASIC_MASK;
	if (!((uint32_t)v[0] & NEST_VMX_EXIT_REASON_ENTRY_FAILURE) && exit_in(insn_exits, basic)) {
		rc = rd(ctx, NEST_VMCS_VM_EXIT_INSTRUCTION_LEN, &v[6]);
		if (rc == NEST_OK && !exit_in(plain_insn_exits, basic)) {
			rc = rd(ctx, NEST_VMCS_EXIT_QUALIFICATION, &v[1]);
			if (rc == NEST_OK)
				rc = rd(ctx, NEST_VMCS_VMX_INSTRUCTION_INFO, &v[7]);
		}
		if (rc == NEST_OK &&
		    (basic == NEST_VMX_EXIT_CR_ACCESS || basic == NEST_VMX_EXIT_IO_INSTRUCTION))
			rc = rd(ctx, NEST_VMCS_GUEST_LINEAR_ADDRESS, &v[8]);
		if (rc != NEST_OK)
			return rc;
	} else {
		for (i = 1; i < NEST_ARRAY_SIZE(enc); i++) {
			rc = rd(ctx, enc[i], &v[i]);
			if (rc != NEST_OK)
				return rc;
		}
	}
	nest__memset(r, 0, sizeof(*r));
	r->reason = (uint32_t)v[0];
	r->qual = v[1];
	r->intr_info = (uint32_t)v[2];
	r->intr_error = (uint32_t)v[3];
	r->idt_info = (uint32_t)v[4];
	r->idt_error = (uint32_t)v[5];
	r->insn_len = (uint32_t)v[6];
	r->insn_info = (uint32_t)v[7];
	r->gla = v[8];
	r->gpa = v[9];
	return NEST_OK;
}

/* L1's remaining preemption-timer value (SDM 26.5.1): the timer counted
 * down in vmcs02 from the smaller of L0's and L1's values. */
static int timer_remaining(struct nest_vmx *ctx, struct nest__vmx_exit_report *r)
{
	struct nest__vmx_nested *n = &ctx->nested;
	uint32_t l1 = ctx->vmcs12.VMX_PREEMPTION_TIMER_VALUE;
	uint64_t now;
	uint32_t elapsed;
	int rc;

	if (!n->timer_active)
		return NEST_OK;
	rc = rd(ctx, NEST_VMCS_VMX_PREEMPTION_TIMER_VALUE, &now);
	if (rc != NEST_OK)
		return rc;
	n->vmcs02_cache.VMX_PREEMPTION_TIMER_VALUE = (uint32_t)now;
	elapsed = n->timer_start > (uint32_t)now ? n->timer_start - (uint32_t)now : 0;
	r->timer = l1 > elapsed ? l1 - elapsed : 0;
	return NEST_OK;
}

/* Does L1 log page modifications (SDM 29.3.6)? Logging needs EPTP12's
 * accessed and dirty flags too; the fault path checks those. */
static bool pml12_on(const struct nest__vmcs12 *v)
{
	return (v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_ACTIVATE_SECONDARY) &&
	       (v->SECONDARY_VM_EXEC_CONTROL & NEST_VMX_PROC2_ENABLE_PML);
}

/* The PML index is a guest-state field that vmcs12 holds (an exit keeps
 * it, reflect.c); a processor with PML also has it in vmcs02, never
 * enabled there, which gets the same value so that both agree. */
static int pml12_set_index(struct nest_vmx *ctx, uint16_t index)
{
	ctx->vmcs12.GUEST_PML_INDEX = index;
	if (!nest__vmx_hw_field(&ctx->host, NEST__VF_GUEST_PML_INDEX))
		return NEST_OK;
	ctx->nested.vmcs02_cache.GUEST_PML_INDEX = index;
	return nest__be_vmcs_write(&ctx->be, NEST_VMCS02, NEST_VMCS_GUEST_PML_INDEX, index);
}

/* An EPT violation with EPT12: the shadow EPT02 answers (nest/tdp.h). */
static int ept_fault(struct nest_vmx *ctx, struct nest__vmx_exit_report *r,
		     struct nest_vmx_action *a, bool *to_l1)
{
	const struct nest__vmcs12 *v = &ctx->vmcs12;
	struct nest_tdp_l1_root root;
	struct nest_tdp_fault_in in;
	struct nest_tdp_fault_out out;
	struct nest__tdp_pml pml;
	bool pml_on = pml12_on(v);
	int rc;

	*to_l1 = false;
	nest__memset(&root, 0, sizeof(root));
	root.kind = NEST_TDP_EPT;
	root.pointer = v->EPT_POINTER;
	root.mbec = (v->SECONDARY_VM_EXEC_CONTROL & NEST_VMX_PROC2_MODE_BASED_EPT_EXEC) != 0;
	nest__memset(&in, 0, sizeof(in));
	in.l2_gpa = r->gpa;
	in.gla = r->gla;
	in.access = ((r->qual & EPT_QUAL_ACCESS_R) ? NEST_ACC_R : 0) |
		    ((r->qual & EPT_QUAL_ACCESS_W) ? NEST_ACC_W : 0) |
		    ((r->qual & EPT_QUAL_ACCESS_X) ? NEST_ACC_X : 0);
	in.flags = ((r->qual & NEST_EPT_QUAL_GLA_VALID) ? NEST_TDP_F_GLA_VALID : 0) |
		   ((r->qual & NEST_EPT_QUAL_GLA_FINAL) ? NEST_TDP_F_FINAL : 0);
	nest__memset(&pml, 0, sizeof(pml));
	pml.addr = v->PML_ADDRESS;
	pml.index = v->GUEST_PML_INDEX;
	rc = nest__tdp_fault_pml(ctx->nested.l0.pub.tdp, &root, &in, pml_on ? &pml : NULL, &out);
	if (rc == NEST_OK && pml.logged)
		rc = pml12_set_index(ctx, pml.index);
	if (rc != NEST_OK)
		return rc;
	if (pml.full) {
		/* SDM 29.3.6: a PML-full event is a VM exit (reason 62) instead
		 * of the access; its qualification has only "NMI unblocking due
		 * to IRET" (SDM 28.2.1), and no guest-physical address. */
		r->reason = NEST_VMX_EXIT_PML_FULL;
		r->qual &= EPT_QUAL_NMI_UNBLOCK;
		r->gpa = 0;
		r->gla = 0;
		*to_l1 = true;
		return NEST_OK;
	}
	switch (out.kind) {
	case NEST_TDP_REFLECT:
		r->reason = NEST_VMX_EXIT_EPT_VIOLATION;
		r->qual = out.exit_qual | (r->qual & EPT_QUAL_NMI_UNBLOCK);
		r->gpa = out.gpa;
		r->gla = out.gla;
		*to_l1 = true;
		return NEST_OK;
	case NEST_TDP_MISCONFIG:
		r->reason = NEST_VMX_EXIT_EPT_MISCONFIG;
		r->qual = 0;
		r->gpa = out.gpa;
		r->gla = 0;
		*to_l1 = true;
		return NEST_OK;
	case NEST_TDP_L0:
		a->kind = NEST_VMX_ACT_L0_HANDLES;
		a->l1_gpa = out.l1_gpa;
		a->l0_access = out.l0_access;
		return reinject(ctx, r, a);
	case NEST_TDP_WRITE_WATCHED:
		/* L2 writes one of L1's bitmaps: from now on that bitmap, as
		 * it is in L1's memory, decides; the write then goes through. */
		rc = nest__vmx_l2_wrote(ctx, out.l1_gpa);
		if (rc != NEST_OK)
			return rc;
		a->kind = NEST_VMX_ACT_RESUME_L2;
		return reinject(ctx, r, a);
	default: /* fixed, or retry: L2 runs again */
		a->kind = NEST_VMX_ACT_RESUME_L2;
		return reinject(ctx, r, a);
	}
}

static int l2_exit(struct nest_vmx *ctx, const struct nest_vmx_l2_regs *regs,
		   struct nest_vmx_action *a)
{
	struct nest__vmx_nested *n = &ctx->nested;
	struct nest__vmx_exit_report r;
	struct nest__vmx_l2_exit e;
	enum nest__vmx_owner owner;
	bool to_l1 = false, handled = false;
	uint32_t basic;
	int rc, live;

	rc = read_report(ctx, &r);
	if (rc == NEST_OK)
		rc = timer_remaining(ctx, &r);
	if (rc != NEST_OK)
		return rc;
	basic = r.reason & NEST_VMX_EXIT_REASON_BASIC_MASK;
	/* Every exit clears the valid bit of vmcs02's VM-entry interruption
	 * information, as it does in vmcs12 (SDM 25.8.3). */
	n->vmcs02_cache.VM_ENTRY_INTR_INFO_FIELD &= ~NEST_VMX_INTR_INFO_VALID;

	nest__memset(&e, 0, sizeof(e));
	e.reason = r.reason;
	e.intr_info = r.intr_info;
	e.intr_error = r.intr_error;
	e.idt_info = r.idt_info;
	e.idt_error = r.idt_error;
	e.insn_len = r.insn_len;
	e.insn_info = r.insn_info;
	e.qual = r.qual;
	e.gla = r.gla;
	e.gpa = r.gpa;
	nest__memcpy(e.gpr, regs->gpr, sizeof(e.gpr));
	e.l1_timer_fired = n->l1_timer_smaller;
	live = nest__vmx_live_verdict(ctx, &e);
	owner = live > 0    ? NEST__VMX_OWNER_L1
		: live == 0 ? NEST__VMX_OWNER_L0
			    : nest__vmx_exit_owner(&ctx->vmcs12, &e, &n->l1_bm);
	if (owner == NEST__VMX_OWNER_TDP) {
		if ((r.reason & NEST_VMX_EXIT_REASON_BASIC_MASK) != NEST_VMX_EXIT_EPT_VIOLATION) {
			/* EPT02 holds no misconfigured entry: a misconfiguration
			 * is L0's to diagnose. */
			a->kind = NEST_VMX_ACT_L0_HANDLES;
			return reinject(ctx, &r, a);
		}
		rc = ept_fault(ctx, &r, a, &to_l1);
		if (rc != NEST_OK || !to_l1)
			return rc;
		owner = NEST__VMX_OWNER_L1;
	}
	if (owner == NEST__VMX_OWNER_L0) {
		uint32_t bit =
		    basic == NEST_VMX_EXIT_INTERRUPT_WINDOW ? NEST_VMX_PROC_INTR_WINDOW_EXITING
		    : basic == NEST_VMX_EXIT_NMI_WINDOW	    ? NEST_VMX_PROC_NMI_WINDOW_EXITING
							    : 0;

		/* L0's own window exit (L1 did not ask for one): done. */
		if (bit & n->l0_window) {
			n->l0_window &= ~bit;
			rc = set_window(ctx, bit, false);
			if (rc != NEST_OK)
				return rc;
		}
		a->kind = NEST_VMX_ACT_L0_HANDLES;
		return reinject(ctx, &r, a);
	}
	/* L1's EPTP switching runs here (vmfunc.c); a failing VMFUNC exits. */
	rc = nest__vmx_vmfunc(ctx, &r, regs->gpr, &handled);
	if (rc != NEST_OK)
		return rc;
	if (handled)
		return nest__vmx_l2_boundary(ctx, a);
	/* So does L2's VMREAD and VMWRITE that L1's VMCS shadowing lets
	 * through (l2vmrw.c). */
	if (basic == NEST_VMX_EXIT_VMREAD || basic == NEST_VMX_EXIT_VMWRITE) {
		rc = nest__vmx_l2_vmrw(ctx, &r, regs->gpr, a, &handled);
		if (rc != NEST_OK || handled)
			return rc;
	}
	return nest__vmx_reflect(ctx, &r, true, a);
}

int nest__vmx_put02(struct nest_vmx *ctx, uint32_t enc, uint64_t val)
{
	int rc = nest__be_vmcs_write(&ctx->be, NEST_VMCS02, enc, val);

	if (rc == NEST_OK)
		nest__vmcs12_write(&ctx->nested.vmcs02_cache, enc, val);
	return rc;
}

int nest__vmx_complete_l2(struct nest_vmx *ctx, uint32_t insn_len)
{
	uint64_t rip, intr, efer, cs_ar;
	int rc = rd(ctx, NEST_VMCS_GUEST_RIP, &rip);

	if (rc == NEST_OK)
		rc = rd(ctx, NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO, &intr);
	if (rc == NEST_OK)
		rc = rd(ctx, NEST_VMCS_GUEST_IA32_EFER, &efer);
	if (rc == NEST_OK)
		rc = rd(ctx, NEST_VMCS_GUEST_CS_AR_BYTES, &cs_ar);
	if (rc != NEST_OK)
		return rc;
	rip += insn_len;
	/* Outside 64-bit mode EIP wraps at 4 GiB. */
	if (!(efer & X86_EFER_LMA) || !(cs_ar & X86_SEG_L))
		rip &= 0xffffffffull;
	rc = nest__vmx_put02(ctx, NEST_VMCS_GUEST_RIP, rip);
	if (rc == NEST_OK &&
	    (intr & (NEST_VMX_INTERRUPTIBILITY_STI | NEST_VMX_INTERRUPTIBILITY_MOV_SS)))
		rc = nest__vmx_put02(ctx, NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO,
				     intr & ~(uint64_t)(NEST_VMX_INTERRUPTIBILITY_STI |
							NEST_VMX_INTERRUPTIBILITY_MOV_SS));
	return rc;
}

/*
 * The instruction boundary after an instruction of L2 that completed
 * outside the processor (libnest's VMFUNC, or L0's emulation), where the
 * processor would have acted on L2's single-step flag and on vmcs12's
 * monitor trap flag:
 * - RFLAGS.TF (without IA32_DEBUGCTL.BTF) leaves a single-step trap
 *   pending (SDM 17.3.1.4): BS in vmcs02's pending debug exceptions, which
 *   the next VM entry of L2 delivers (SDM 27.7.3), through L1's exception
 *   bitmap like any #DB of L2;
 * - with "monitor trap flag" in vmcs12, an MTF VM exit into L1 comes on
 *   that boundary (SDM 26.5.2), before the single-step trap is delivered:
 *   the trap stays pending and the exit saves it in vmcs12's pending
 *   debug exceptions (SDM 28.3.4), as the processor does.
 * Otherwise L2 goes on (RESUME_L2).
 */
int nest__vmx_l2_boundary(struct nest_vmx *ctx, struct nest_vmx_action *a)
{
	struct nest__vmx_exit_report r;
	uint64_t rflags, debugctl, pending;
	int rc = rd(ctx, NEST_VMCS_GUEST_RFLAGS, &rflags);

	if (rc == NEST_OK)
		rc = rd(ctx, NEST_VMCS_GUEST_IA32_DEBUGCTL, &debugctl);
	if (rc == NEST_OK)
		rc = rd(ctx, NEST_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, &pending);
	if (rc != NEST_OK)
		return rc;
	if ((rflags & X86_RFLAGS_TF) && !(debugctl & X86_DEBUGCTL_BTF) &&
	    !(pending & VMX_PENDING_DBG_BS)) {
		rc = nest__vmx_put02(ctx, NEST_VMCS_GUEST_PENDING_DBG_EXCEPTIONS,
				     pending | VMX_PENDING_DBG_BS);
		if (rc != NEST_OK)
			return rc;
	}
	if (ctx->vmcs12.CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_MONITOR_TRAP_FLAG) {
		nest__memset(&r, 0, sizeof(r));
		r.reason = NEST_VMX_EXIT_MONITOR_TRAP_FLAG;
		return nest__vmx_reflect(ctx, &r, true, a);
	}
	a->kind = NEST_VMX_ACT_RESUME_L2;
	return NEST_OK;
}

NEST_API int nest_vmx_l2_emulated(struct nest_vmx *ctx, struct nest_vmx_action *act)
{
	struct nest_vmx_action a;
	int rc = begin(ctx, act, &a);

	if (rc != NEST_OK)
		return rc;
	return finish(act, &a, nest__vmx_l2_boundary(ctx, &a));
}

NEST_API int nest_vmx_l2_exit(struct nest_vmx *ctx, const struct nest_vmx_exit *exit,
			      const struct nest_vmx_l2_regs *regs, struct nest_vmx_action *act)
{
	struct nest_vmx_action a;
	struct nest_vmx_l2_regs r;
	uint32_t size;
	int rc;

	if (exit == NULL || regs == NULL)
		return NEST_E_INVAL;
	rc = begin(ctx, act, &a);
	if (rc != NEST_OK)
		return rc;
	nest__memcpy(&size, exit, sizeof(size));
	if (size < NEST_VMX_EXIT_MIN_SIZE)
		return NEST_E_SIZE;
	rc = nest__copy_in(&r, sizeof(r), regs, NEST_VMX_L2_REGS_MIN_SIZE);
	if (rc != NEST_OK)
		return rc;
	return finish(act, &a, l2_exit(ctx, &r, &a));
}

/*
 * Whether L2 can take an event L1 lets through now (SDM 25.4.2, table
 * 25-3; 6.8.1): an external interrupt needs RFLAGS.IF and no blocking by
 * STI or MOV SS, an NMI no blocking by NMI, MOV SS or STI (STI blocks NMIs
 * on some processors: waiting one instruction is always correct), and
 * nothing may already be queued for L2's next entry.
 */
static int l2_can_take(struct nest_vmx *ctx, uint32_t kind, bool *take)
{
	uint64_t rflags, intr;
	uint32_t blocking = NEST_VMX_INTERRUPTIBILITY_STI | NEST_VMX_INTERRUPTIBILITY_MOV_SS;
	int rc;

	*take = false;
	if (ctx->nested.vmcs02_cache.VM_ENTRY_INTR_INFO_FIELD & NEST_VMX_INTR_INFO_VALID)
		return NEST_OK;
	rc = rd(ctx, NEST_VMCS_GUEST_RFLAGS, &rflags);
	if (rc == NEST_OK)
		rc = rd(ctx, NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO, &intr);
	if (rc != NEST_OK)
		return rc;
	if (kind == NEST_VMX_EVT_NMI)
		*take = !(intr & (blocking | NEST_VMX_INTERRUPTIBILITY_NMI));
	else
		*take = (rflags & X86_RFLAGS_IF) && !(intr & blocking);
	return NEST_OK;
}

/* Posted-interrupt descriptor (SDM 30.6): PIR in bits 255:0, the
 * outstanding-notification bit (ON) at bit 256. Virtual-APIC page: VIRR is
 * eight 32-bit registers at 200H, 210H, ... 270H (SDM 30.1.1). */
#define PI_DESC_ON_OFFSET 32u
#define PI_DESC_ON 1ull
#define PIR_WORDS 4u
#define VAPIC_IRR_OFFSET 0x200u
#define VAPIC_REG_STRIDE 0x10u
#define RVI_MASK 0xffull

/* Atomically clear the bits `clear` of the aligned word at L1-physical
 * `gpa`; `old` receives the word as it was. */
static int l1_clear_bits(struct nest_vmx *ctx, uint64_t gpa, uint64_t clear, uint64_t *old)
{
	uint64_t cur, seen;
	int rc = nest__be_read(&ctx->be, gpa, &cur, sizeof(cur));

	while (rc == NEST_OK && (cur & clear)) {
		rc = nest__be_cmpxchg(&ctx->be, gpa, cur, cur & ~clear, &seen);
		if (rc != NEST_OK || seen == cur)
			break;
		cur = seen; /* another agent posted meanwhile: again */
	}
	*old = cur;
	return rc;
}

/*
 * After posted-interrupt processing raised RVI to `status`: an L2 in HLT
 * that the virtual interrupt is delivered to leaves HLT (SDM 30.2.2), as
 * the processor would on its own, so vmcs02 resumes active and delivers it
 * at the VMRESUME (SDM 27.3.2.5), rather than relying on the host to wake
 * itself from HLT for it (Bochs 2.7 does not): nest__vmx_hlt_virq_taken()
 * on vmcs02's state.
 */
static int wake_for_virq(struct nest_vmx *ctx, uint16_t status)
{
	const struct nest__vmcs12 *c = &ctx->nested.vmcs02_cache;
	uint64_t activity, rflags, intr;
	uint8_t vtpr;
	int rc = rd(ctx, NEST_VMCS_GUEST_ACTIVITY_STATE, &activity);

	if (rc != NEST_OK || activity != NEST_VMX_ACTIVITY_HLT)
		return rc;
	rc = rd(ctx, NEST_VMCS_GUEST_RFLAGS, &rflags);
	if (rc == NEST_OK)
		rc = rd(ctx, NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO, &intr);
	if (rc == NEST_OK)
		rc = nest__be_read(&ctx->be, ctx->vmcs12.VIRTUAL_APIC_PAGE_ADDR + NEST__VMX_VAPIC_VTPR_OFFSET,
				   &vtpr, sizeof(vtpr));
	/* In HLT the shadow of an STI or MOV SS is over (the HLT executed, and
	 * SDM 27.3.1.5 rules the pair out at entry); a host that still
	 * reports it (Bochs 2.7 after "sti; hlt") must not keep L2 asleep. */
	if (rc != NEST_OK || !nest__vmx_hlt_virq_taken(c->CPU_BASED_VM_EXEC_CONTROL, rflags,
							c->VM_ENTRY_INTR_INFO_FIELD, status, vtpr))
		return rc;
	if (intr & (NEST_VMX_INTERRUPTIBILITY_STI | NEST_VMX_INTERRUPTIBILITY_MOV_SS))
		rc = nest__be_vmcs_write(&ctx->be, NEST_VMCS02,
					 NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO,
					 intr & ~(uint64_t)(NEST_VMX_INTERRUPTIBILITY_STI |
							    NEST_VMX_INTERRUPTIBILITY_MOV_SS));
	if (rc != NEST_OK)
		return rc;
	return nest__be_vmcs_write(&ctx->be, NEST_VMCS02, NEST_VMCS_GUEST_ACTIVITY_STATE,
				   NEST_VMX_ACTIVITY_ACTIVE);
}

/*
 * Posted-interrupt processing for L2 (SDM 30.6), in software: vmcs02 never
 * processes posted interrupts (L1's descriptor and notification vector are
 * not L0's), so L1's notification vector, acknowledged by L0 as "acknowledge
 * interrupt on exit" requires, comes here instead of exiting to L1:
 *   - the ON bit is cleared (atomically, the rest of the descriptor kept);
 *   - the notification is dismissed from L1's local APIC (an EOI): L0's,
 *     NEST_VMX_ACT_F_POSTED;
 *   - PIR is ORed into VIRR and cleared, each word read and cleared
 *     atomically, so no posting agent loses a bit;
 *   - RVI becomes the highest vector PIR held if that is above it;
 *   - pending virtual interrupts are evaluated: by the processor at the
 *     VMRESUME that follows (SDM 27.3.2.5), vmcs02 having virtual-interrupt
 *     delivery whenever L1's vmcs12 has posted interrupts (SDM 27.2.1.1);
 *     an L2 in HLT the interrupt is delivered to resumes active.
 * L2 then goes on (RESUME_L2).
 */
static int posted_interrupt(struct nest_vmx *ctx, struct nest_vmx_action *a)
{
	const struct nest__vmcs12 *v = &ctx->vmcs12;
	uint64_t desc = v->POSTED_INTR_DESC_ADDR, pir[PIR_WORDS], word, status;
	int rc, top = -1;
	unsigned i;

	rc = l1_clear_bits(ctx, desc + PI_DESC_ON_OFFSET, PI_DESC_ON, &word);
	for (i = 0; rc == NEST_OK && i < PIR_WORDS; i++)
		rc = l1_clear_bits(ctx, desc + 8u * i, ~0ull, &pir[i]);
	for (i = 0; rc == NEST_OK && i < 2u * PIR_WORDS; i++) {
		uint32_t bits = (uint32_t)(pir[i / 2] >> (32u * (i & 1u))), irr;
		uint64_t reg = v->VIRTUAL_APIC_PAGE_ADDR + VAPIC_IRR_OFFSET + VAPIC_REG_STRIDE * i;

		if (bits == 0)
			continue;
		rc = nest__be_read(&ctx->be, reg, &irr, sizeof(irr));
		irr |= bits;
		if (rc == NEST_OK)
			rc = nest__be_write(&ctx->be, reg, &irr, sizeof(irr));
		top = (int)(32u * i + 31u - (unsigned)__builtin_clz(bits));
	}
	if (rc == NEST_OK && top >= 0) {
		rc = rd(ctx, NEST_VMCS_GUEST_INTR_STATUS, &status);
		if (rc == NEST_OK && (status & RVI_MASK) < (uint64_t)top) {
			status = (status & ~RVI_MASK) | (uint64_t)top;
			rc = nest__be_vmcs_write(&ctx->be, NEST_VMCS02, NEST_VMCS_GUEST_INTR_STATUS,
						 status);
			ctx->nested.vmcs02_cache.GUEST_INTR_STATUS = (uint16_t)status;
		}
		if (rc == NEST_OK)
			rc = wake_for_virq(ctx, (uint16_t)status);
	}
	if (rc != NEST_OK)
		return rc;
	a->kind = NEST_VMX_ACT_RESUME_L2;
	a->flags |= NEST_VMX_ACT_F_POSTED;
	a->vector = (uint8_t)v->POSTED_INTR_NOTIFICATION_VECTOR;
	return NEST_OK;
}

static int event(struct nest_vmx *ctx, uint32_t kind, uint32_t vector, struct nest_vmx_action *a)
{
	const struct nest__vmcs12 *v = &ctx->vmcs12;
	struct nest__vmx_exit_report r;
	uint32_t pin = v->PIN_BASED_VM_EXEC_CONTROL;
	uint64_t activity;
	bool take;
	int rc;

	nest__memset(&r, 0, sizeof(r));
	switch (kind) {
	case NEST_VMX_EVT_EXTINT:
		if (vector < MIN_EXTINT_VECTOR || vector > NEST_VMX_INTR_INFO_VECTOR_MASK)
			return NEST_E_INVAL;
		if (!(pin & NEST_VMX_PIN_EXT_INTR_EXITING))
			break;
		if ((pin & NEST_VMX_PIN_POSTED_INTR) &&
		    vector == (v->POSTED_INTR_NOTIFICATION_VECTOR & NEST_VMX_INTR_INFO_VECTOR_MASK))
			return posted_interrupt(ctx, a);
		r.reason = NEST_VMX_EXIT_EXTERNAL_INTERRUPT;
		/* SDM 28.2.2: with "acknowledge interrupt on exit" the vector
		 * is reported and the interrupt is acknowledged; without, the
		 * field is invalid and the interrupt stays pending. */
		if (v->VM_EXIT_CONTROLS & NEST_VMX_EXIT_CTL_ACK_INTR_ON_EXIT) {
			r.intr_info =
			    NEST_VMX_INTR_INFO_VALID |
			    (NEST_VMX_INTR_TYPE_EXT_INTR << NEST_VMX_INTR_INFO_TYPE_SHIFT) | vector;
			a->flags |= NEST_VMX_ACT_F_ACKED;
		}
		return nest__vmx_reflect(ctx, &r, true, a);
	case NEST_VMX_EVT_NMI:
		if (!(pin & NEST_VMX_PIN_NMI_EXITING))
			break;
		r.reason = NEST_VMX_EXIT_EXCEPTION_NMI;
		r.intr_info = NEST_VMX_INTR_INFO_VALID |
			      (NEST_VMX_INTR_TYPE_NMI << NEST_VMX_INTR_INFO_TYPE_SHIFT) |
			      NMI_VECTOR;
		return nest__vmx_reflect(ctx, &r, true, a);
	case NEST_VMX_EVT_INIT:
		/* INIT always exits in VMX non-root operation (SDM 26.2). */
		r.reason = NEST_VMX_EXIT_INIT_SIGNAL;
		return nest__vmx_reflect(ctx, &r, true, a);
	case NEST_VMX_EVT_SIPI:
		rc = rd(ctx, NEST_VMCS_GUEST_ACTIVITY_STATE, &activity);
		if (rc != NEST_OK)
			return rc;
		if (activity != NEST_VMX_ACTIVITY_WAIT_SIPI) {
			a->kind = NEST_VMX_ACT_RESUME_L2; /* SIPIs are ignored otherwise */
			return NEST_OK;
		}
		r.reason = NEST_VMX_EXIT_SIPI;
		r.qual = vector & SIPI_VECTOR_MASK;
		return nest__vmx_reflect(ctx, &r, true, a);
	default:
		return NEST_E_INVAL;
	}
	/* Not an exit: the event goes to L2 once L2 can take it. */
	rc = l2_can_take(ctx, kind, &take);
	if (rc != NEST_OK)
		return rc;
	a->kind = NEST_VMX_ACT_L0_HANDLES;
	if (!take) {
		uint32_t bit = kind == NEST_VMX_EVT_NMI ? NEST_VMX_PROC_NMI_WINDOW_EXITING
							: NEST_VMX_PROC_INTR_WINDOW_EXITING;
		/* The NMI window needs virtual NMIs (SDM 27.2.1.1); without
		 * them, the interrupt window is the next chance L0 gets. */
		if (bit == NEST_VMX_PROC_NMI_WINDOW_EXITING &&
		    !(ctx->nested.vmcs02_cache.PIN_BASED_VM_EXEC_CONTROL &
		      NEST_VMX_PIN_VIRTUAL_NMIS))
			bit = NEST_VMX_PROC_INTR_WINDOW_EXITING;
		ctx->nested.l0_window |= bit;
		a->flags |= NEST_VMX_ACT_F_WINDOW;
		return set_window(ctx, bit, true);
	}
	a->flags |= NEST_VMX_ACT_F_TO_L2;
	a->vector = (uint8_t)(kind == NEST_VMX_EVT_NMI ? NMI_VECTOR : vector);
	return inject_l2(
	    ctx,
	    NEST_VMX_INTR_INFO_VALID | a->vector |
		((kind == NEST_VMX_EVT_NMI ? NEST_VMX_INTR_TYPE_NMI : NEST_VMX_INTR_TYPE_EXT_INTR)
		 << NEST_VMX_INTR_INFO_TYPE_SHIFT),
	    0, 0);
}

NEST_API int nest_vmx_l2_event(struct nest_vmx *ctx, uint32_t kind, uint32_t vector,
			       struct nest_vmx_action *act)
{
	struct nest_vmx_action a;
	int rc = begin(ctx, act, &a);

	if (rc != NEST_OK)
		return rc;
	return finish(act, &a, event(ctx, kind, vector, &a));
}

/*
 * An exception L0 raises in L2, as the processor would have raised it
 * there: a VM exit when vmcs12's exception bitmap selects it (for #PF
 * with the error-code mask and match, SDM 25.2; the decision of
 * nest_vmx_l2_exit() for the same exit), else delivery to L2 through
 * vmcs02's VM-entry interruption information (SDM 26.6). The exception
 * happens at the instruction of the current exit, outside event delivery:
 * no IDT-vectoring information, L2's RIP as the exit saved it.
 */
static int l2_exception(struct nest_vmx *ctx, uint32_t vector, uint32_t error, uint64_t payload,
			struct nest_vmx_action *a)
{
	struct nest__vmx_exit_report r;
	struct nest__vmx_l2_exit e;
	uint64_t cr0;
	bool err;
	uint32_t info;
	int rc;

	/* NMIs and interrupts are nest_vmx_l2_event()'s. */
	if (!x86_exc_vector(vector, false))
		return NEST_E_INVAL;
	/* Something is already queued for L2's entry (an event whose delivery
	 * the exit interrupted): combining the two is the caller's (SDM 6.15). */
	if (ctx->nested.vmcs02_cache.VM_ENTRY_INTR_INFO_FIELD & NEST_VMX_INTR_INFO_VALID)
		return NEST_E_STATE;
	rc = rd(ctx, NEST_VMCS_GUEST_CR0, &cr0);
	if (rc != NEST_OK)
		return rc;
	/* In real mode (unrestricted guest) nothing pushes an error code
	 * (SDM 26.2.1.3). */
	err = x86_exc_error_code(vector) && (cr0 & X86_CR0_PE);
	info = NEST_VMX_INTR_INFO_VALID | vector |
	       (NEST_VMX_INTR_TYPE_HW_EXCEPTION << NEST_VMX_INTR_INFO_TYPE_SHIFT) |
	       (err ? NEST_VMX_INTR_INFO_DELIVER_ERROR_CODE : 0);
	if (!err)
		error = 0;
	if (vector != X86_EXC_PF && vector != X86_EXC_DB)
		payload = 0;
	nest__memset(&e, 0, sizeof(e));
	e.reason = NEST_VMX_EXIT_EXCEPTION_NMI;
	e.intr_info = info;
	e.intr_error = error;
	if (nest__vmx_exit_owner(&ctx->vmcs12, &e, &ctx->nested.l1_bm) == NEST__VMX_OWNER_L1) {
		nest__memset(&r, 0, sizeof(r));
		r.reason = NEST_VMX_EXIT_EXCEPTION_NMI;
		r.intr_info = info;
		r.intr_error = error;
		/* #PF: the linear address; #DB: the DR6 bits (SDM 28.2.1). */
		r.qual = payload;
		return nest__vmx_reflect(ctx, &r, true, a);
	}
	a->kind = NEST_VMX_ACT_L0_HANDLES;
	a->flags |= NEST_VMX_ACT_F_TO_L2;
	a->vector = (uint8_t)vector;
	a->has_error_code = err;
	a->error_code = error;
	a->cr2 = payload;
	return inject_l2(ctx, info, error, 0);
}

int nest__vmx_l2_raise(struct nest_vmx *ctx, uint32_t vector, uint32_t error, uint64_t payload,
		       struct nest_vmx_action *a)
{
	return l2_exception(ctx, vector, error, payload, a);
}

NEST_API int nest_vmx_l2_exception(struct nest_vmx *ctx, uint32_t vector, uint32_t error_code,
				   uint64_t payload, struct nest_vmx_action *act)
{
	struct nest_vmx_action a;
	int rc = begin(ctx, act, &a);

	if (rc != NEST_OK)
		return rc;
	return finish(act, &a, l2_exception(ctx, vector, error_code, payload, &a));
}

/* Bits 31:0 of a control capability MSR: its must-be-1 settings; the TRUE
 * MSR's when IA32_VMX_BASIC[55] says they exist (SDM A.2). */
static uint32_t host_must1(const struct nest_vmx_caps *h, uint64_t msr, uint64_t true_msr)
{
	return (uint32_t)((h->basic & VMX_BASIC_TRUE_CTLS) ? true_msr : msr);
}

NEST_API int nest_vmx_set_l0(struct nest_vmx *ctx, const struct nest_vmx_l0 *l0)
{
	struct nest__vmx_l0 *k;
	unsigned i;
	uint64_t val;
	int rc;

	if (!nest__vmx_ctx_ok(ctx) || l0 == NULL)
		return NEST_E_INVAL;
	k = &ctx->nested.l0;
	rc = nest__copy_in(&k->pub, sizeof(k->pub), l0, NEST_VMX_L0_MIN_SIZE);
	if (rc != NEST_OK)
		return rc;
	k->msr_bitmap_valid = k->pub.msr_bitmap != NULL;
	if (k->msr_bitmap_valid)
		nest__memcpy(k->msr_bitmap, k->pub.msr_bitmap, sizeof(k->msr_bitmap));
	k->io_bitmap_valid = k->pub.io_bitmap != NULL;
	if (k->io_bitmap_valid)
		nest__memcpy(k->io_bitmap, k->pub.io_bitmap, sizeof(k->io_bitmap));
	k->pub.msr_bitmap = NULL; /* copied: libnest keeps no caller pointer */
	k->pub.io_bitmap = NULL;
	/* vmcs02's host state is vmcs01's (L0's). */
	for (i = 0; i < NEST__VF_COUNT; i++) {
		if (nest__vmcs_fields[i].type != NEST_VMCS_T_HOST)
			continue;
		val = 0;
		if (!nest__vmx_hw_field(&ctx->host, i)) {
			nest__vmcs12_write(&k->host, nest__vmcs_fields[i].encoding, 0);
			continue;
		}
		rc = nest__be_vmcs_read(&ctx->be, NEST_VMCS01, nest__vmcs_fields[i].encoding, &val);
		if (rc == NEST_E_MISSING_OP)
			return rc;
		nest__vmcs12_write(&k->host, nest__vmcs_fields[i].encoding,
				   rc == NEST_OK ? val : 0);
	}
	k->host_must1_pin = host_must1(&ctx->host, ctx->host.pinbased, ctx->host.true_pinbased);
	k->host_must1_proc = host_must1(&ctx->host, ctx->host.procbased, ctx->host.true_procbased);
	k->host_must1_exit = host_must1(&ctx->host, ctx->host.exit, ctx->host.true_exit);
	k->host_must1_entry = host_must1(&ctx->host, ctx->host.entry, ctx->host.true_entry);
	k->host_vnmi = ((ctx->host.pinbased >> 32) & NEST_VMX_PIN_VIRTUAL_NMIS) != 0;
	ctx->nested.l0_set = true;
	ctx->nested.shadow_cached = false; /* L0 may link another shadow VMCS */
	ctx->nested.merged_valid = false;  /* L0's bitmaps may have changed */
	return NEST_OK;
}

NEST_API int nest_vmx_shadow_bitmaps(uint8_t *vmread_bitmap, uint8_t *vmwrite_bitmap)
{
	unsigned i;

	if (vmread_bitmap == NULL || vmwrite_bitmap == NULL)
		return NEST_E_INVAL;
	nest__memset(vmread_bitmap, 0xff, VMRW_BITMAP_BYTES);
	nest__memset(vmwrite_bitmap, 0xff, VMRW_BITMAP_BYTES);
	for (i = 0; i < NEST__VF_COUNT; i++) {
		const struct nest_vmcs_field *f = &nest__vmcs_fields[i];
		unsigned accesses = f->width == NEST_VMCS_W64 ? 2 : 1, k;

		for (k = 0; k < accesses; k++) {
			uint32_t bit = (f->encoding + k) & VMRW_ENC_BITS;
			uint8_t clear = (uint8_t) ~(1u << (bit & 7u));

			if (f->flags & NEST_VMCS_F_SHADOW_READ)
				vmread_bitmap[bit >> 3] &= clear;
			if (f->flags & NEST_VMCS_F_SHADOW_WRITE)
				vmwrite_bitmap[bit >> 3] &= clear;
		}
	}
	return NEST_OK;
}

NEST_API int nest_vmx_in_l2(const struct nest_vmx *ctx)
{
	return nest__vmx_ctx_ok(ctx) && ctx->nested.guest_mode;
}

/* SDM 26.2, 28.2.2: without "external-interrupt exiting" the interrupt is
 * L2's (taken, now or at its window); with it, the exit acknowledges it
 * only with "acknowledge interrupt on exit". */
NEST_API int nest_vmx_l2_extint_acked(const struct nest_vmx *ctx)
{
	const struct nest__vmcs12 *v;

	if (!nest_vmx_in_l2(ctx))
		return 0;
	v = &ctx->vmcs12;
	return !(v->PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_EXT_INTR_EXITING) ||
	       (v->VM_EXIT_CONTROLS & NEST_VMX_EXIT_CTL_ACK_INTR_ON_EXIT) != 0;
}

NEST_API int nest_vmx_l1_intercepts(const struct nest_vmx *ctx, uint32_t reason,
				    uint64_t qualification, uint32_t intr_info, uint32_t intr_error,
				    const struct nest_vmx_l2_regs *regs)
{
	struct nest__vmx_l2_exit e;
	int live;

	if (!nest__vmx_ctx_ok(ctx) || regs == NULL || regs->size < NEST_VMX_L2_REGS_MIN_SIZE ||
	    !ctx->nested.guest_mode)
		return 0;
	/* The decision nest_vmx_l2_exit() takes for the same exit, on the
	 * bitmaps fetched at the last entry (one implementation: SDM 26.1,
	 * 26.2). EPT exits under EPT12 belong to the shadow EPT02. */
	nest__memset(&e, 0, sizeof(e));
	e.reason = reason;
	e.intr_info = intr_info;
	e.intr_error = intr_error;
	e.qual = qualification;
	nest__memcpy(e.gpr, regs->gpr, sizeof(e.gpr));
	/* A bitmap written while L2 runs decides as it is in memory now. */
	live = nest__vmx_live_verdict(ctx, &e);
	if (live >= 0)
		return live;
	return nest__vmx_exit_owner(&ctx->vmcs12, &e, &ctx->nested.l1_bm) == NEST__VMX_OWNER_L1;
}

NEST_API int nest_vmx_pending_msr_failed(struct nest_vmx *ctx, uint32_t index,
					 struct nest_vmx_action *act)
{
	struct nest_vmx_action a;
	int rc = action_args(ctx, act);

	if (rc != NEST_OK)
		return rc;
	nest__memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	return finish(act, &a, nest__vmx_msr_load_failed(ctx, index, &a));
}

NEST_API int nest_vmx_pending_msrs(const struct nest_vmx *ctx,
				   const struct nest_vmx_msr_entry **entries, uint32_t *count)
{
	if (!nest__vmx_ctx_ok(ctx) || entries == NULL || count == NULL)
		return NEST_E_INVAL;
	*entries = ctx->nested.msrs;
	*count = ctx->nested.msr_count;
	return NEST_OK;
}
