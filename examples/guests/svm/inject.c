/* SPDX-License-Identifier: MIT */
/*
 * Checks of state that crosses VMRUN and #VMEXIT without an intercept of
 * its own: L2's saved state, events L1 injects (APM 15.20), the event
 * being delivered when an exit interrupts it (EXITINTINFO), and L1's own
 * VMLOAD and VMSAVE (APM 15.5.2).
 */
#include "l1.h"
#include "l2.h"

#define PAGE 4096
#define ALIGNED_PAGE __attribute__((aligned(PAGE)))
#define U64(x) ((unsigned long long)(x))

/* L2's IDT for the injection checks: 64-bit interrupt gates, 16 bytes each. */
static uint64_t l2_idt[512] ALIGNED_PAGE;
#define GATE_TYPE_INT64 0xEull
#define GATE_P (1ull << 15)

#define INJECT_VECTOR 0x30
#define INJECT_ABSENT_VECTOR 0x31 /* gate not present: delivery faults with #NP */
#define INJECT_GP_ERROR_CODE 0x1234
/* 64-bit delivery pushes SS, RSP, RFLAGS, CS, RIP (and the error code). */
#define FRAME_BYTES 40

static void idt_set_gate(unsigned vector, const void *handler, uint16_t cs, bool present)
{
	uint64_t off = pa(handler);

	l2_idt[vector * 2] = (off & 0xFFFF) | ((uint64_t)cs << 16) | (GATE_TYPE_INT64 << 40) |
			     ((present ? GATE_P : 0) << 32) | ((off >> 16) & 0xFFFF) << 48;
	l2_idt[vector * 2 + 1] = off >> 32;
}

static void use_l2_idt(void)
{
	struct vmcb *v = l1.vmcb;

	idt_set_gate(INJECT_VECTOR, l2_event_handler, v->cs.sel, true);
	idt_set_gate(EXC_GP, l2_event_handler, v->cs.sel, true);
	idt_set_gate(INJECT_ABSENT_VECTOR, l2_event_handler, v->cs.sel, false);
	v->idtr.base = pa(l2_idt);
	v->idtr.limit = sizeof(l2_idt) - 1;
}

#define L1_CR2_ANSWER 0xABCDE000ull

/* L2's own changes reach the VMCB; L1's changes to the VMCB reach L2. */
static void check_state(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, "l2-state", m);
	l2_prepare(m, l2_state);
	const uint64_t rsp0 = v->rsp;

	l2_run(false);
	if (expect_exit(&c, "first vmmcall", VMEXIT_VMMCALL, l2_state_vmmcall)) {
		expect(&c, "cr2", v->cr2, L2_STATE_CR2);
		expect(&c, "cr0.ts", v->cr0 & L2_CR0_TS, L2_CR0_TS);
		expect(&c, "rflags.df", v->rflags & RFLAGS_DF, RFLAGS_DF);
		expect(&c, "rsp", v->rsp, rsp0 - L2_STATE_RSP_DELTA);
		expect(&c, "rax", v->rax, L2_STATE_RAX);
		expect(&c, "cpl", v->cpl, 0);
		v->cr2 = L1_CR2_ANSWER;
		v->cr0 &= ~(uint64_t)L2_CR0_TS;
		v->rip += LEN_VMMCALL;
		l2_run(false);
		if (expect_exit(&c, "second vmmcall", VMEXIT_VMMCALL, NULL)) {
			expect(&c, "L2's cr2", l1.regs.rbx, L1_CR2_ANSWER);
			expect(&c, "L2's cr0.ts", l1.regs.rcx & L2_CR0_TS, 0);
			expect(&c, "rflags.df", v->rflags & RFLAGS_DF, 0);
			expect(&c, "rsp", v->rsp, rsp0);
		}
	}
	check_end(&c);
}

/* An injected external interrupt is delivered through L2's IDT before its first instruction. */
static void check_inject_intr(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, "inject-interrupt", m);
	l2_prepare(m, l2_inject_target);
	use_l2_idt();
	const uint64_t rsp0 = v->rsp;

	v->eventinj = EVENT_V | EVENT_TYPE_INTR | INJECT_VECTOR;
	l2_run(false);
	if (expect_exit(&c, "handler", VMEXIT_VMMCALL, l2_event_handler_vmmcall)) {
		expect(&c, "pushed rip", l1.regs.rbx, pa(l2_inject_target));
		expect(&c, "rsp", v->rsp, rsp0 - FRAME_BYTES);
		/* EXITINTINFO's other bits mean nothing when V is clear. */
		expect(&c, "exitintinfo.v", v->exitintinfo & EVENT_V, 0);
	}
	check_end(&c);
}

/* An injected exception with an error code: the handler finds the code on its stack. */
static void check_inject_exception(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, "inject-exception", m);
	l2_prepare(m, l2_inject_target);
	use_l2_idt();
	/* Not intercepted here, so the check does not depend on how injection meets intercepts. */
	v->icpt_exc &= ~(1u << EXC_GP);
	const uint64_t rsp0 = v->rsp;

	v->eventinj = EVENT_V | EVENT_EV | EVENT_TYPE_EXCEPTION | EXC_GP |
		      ((uint64_t)INJECT_GP_ERROR_CODE << EVENT_ERRORCODE_SHIFT);
	l2_run(false);
	if (expect_exit(&c, "handler", VMEXIT_VMMCALL, l2_event_handler_vmmcall)) {
		expect(&c, "pushed error code", l1.regs.rbx, INJECT_GP_ERROR_CODE);
		expect(&c, "rsp", v->rsp, rsp0 - FRAME_BYTES - 8);
	}
	check_end(&c);
}

/*
 * The injected interrupt's gate is not present: its delivery raises #NP
 * (intercepted), and EXITINTINFO holds the interrupted event (APM 15.7.2).
 * Of the #NP error code only the IDT bit is compared: the APM wants
 * vector * 8 | IDT | EXT, QEMU's TCG reports vector * 16 | IDT.
 */
static void check_exitintinfo(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, "exitintinfo", m);
	l2_prepare(m, l2_inject_target);
	use_l2_idt();
	v->eventinj = EVENT_V | EVENT_TYPE_INTR | INJECT_ABSENT_VECTOR;
	l2_run(false);
	if (expect_exit(&c, "delivery", VMEXIT_NP, l2_inject_target)) {
		expect(&c, "exitinfo1 (#NP error code) & IDT", v->exitinfo1 & SELEC_IDT, SELEC_IDT);
		expect(&c, "exitintinfo", v->exitintinfo,
		       EVENT_V | EVENT_TYPE_INTR | INJECT_ABSENT_VECTOR);
	}
	check_end(&c);
}

#define VIRQ_SPIN_ITERATIONS 1000000ull
#define VIRQ_PRIO 0xF

static void prepare_virq(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;

	l2_prepare(m, l2_sti_spin);
	use_l2_idt();
	v->int_ctl |= INT_CTL_V_IRQ | ((uint64_t)VIRQ_PRIO << INT_CTL_V_INTR_PRIO_SHIFT) |
		      ((uint64_t)INJECT_VECTOR << INT_CTL_V_INTR_VECTOR_SHIFT);
	l1.regs.rcx = VIRQ_SPIN_ITERATIONS;
}

static bool rip_in_spin(uint64_t rip)
{
	return rip >= pa(l2_sti_spin) && rip <= pa(l2_sti_spin_end);
}

/*
 * A virtual interrupt (V_IRQ, priority above V_TPR = 0) is taken through
 * L2's IDT as soon as L2 sets IF; the processor then clears V_IRQ
 * (APM 15.21.4).
 */
static void check_virtual_interrupt(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, "virtual-interrupt", m);
	prepare_virq(m);
	l2_run(false);
	if (expect_exit(&c, "handler", VMEXIT_VMMCALL, l2_event_handler_vmmcall)) {
		if (!rip_in_spin(l1.regs.rbx))
			check_fail(&c, "pushed rip 0x%llx outside L2's STI loop", U64(l1.regs.rbx));
		expect(&c, "int_ctl.v_irq", v->int_ctl & INT_CTL_V_IRQ, 0);
	}
	check_end(&c);
}

/* With VINTR intercepted the same pending virtual interrupt exits (0x64) instead. */
static void check_vintr_intercept(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, "vintr-intercept", m);
	prepare_virq(m);
	v->icpt_misc1 |= ICPT1_VINTR;
	l2_run(false);
	if (expect_exit(&c, "vintr", VMEXIT_VINTR, NULL)) {
		if (!rip_in_spin(v->rip) || v->rip == pa(l2_sti_spin))
			check_fail(&c, "rip 0x%llx not after L2's STI", U64(v->rip));
		expect(&c, "int_ctl.v_irq (still pending)", v->int_ctl & INT_CTL_V_IRQ,
		       INT_CTL_V_IRQ);
	}
	check_end(&c);
}

void run_inject_checks(const struct l1_mode *m)
{
	check_state(m);
	check_inject_intr(m);
	check_inject_exception(m);
	check_exitintinfo(m);
	check_virtual_interrupt(m);
	check_vintr_intercept(m);
}

/* ---- L1's VMLOAD and VMSAVE ---- */

static struct vmcb vmload_saved ALIGNED_PAGE;
static struct vmcb vmload_test ALIGNED_PAGE;
static struct vmcb vmsave_out ALIGNED_PAGE;

static void vmload(const struct vmcb *p)
{
	__asm__ volatile("vmload %%rax" ::"a"(pa(p)) : "memory");
}

static void vmsave(struct vmcb *p)
{
	__asm__ volatile("vmsave %%rax" ::"a"(pa(p)) : "memory");
}

static const struct {
	uint32_t msr;
	size_t offset; /* of the value in the VMCB */
	uint64_t value;
	const char *name;
} vmload_msrs[] = {
    {MSR_FS_BASE, offsetof(struct vmcb, fs.base), 0x1000, "fs.base"},
    {MSR_GS_BASE, offsetof(struct vmcb, gs.base), 0x2000, "gs.base"},
    {MSR_KERNEL_GS_BASE, offsetof(struct vmcb, kernel_gs_base), 0xFFFF800000003000ull,
     "kernel_gs_base"},
    {MSR_STAR, offsetof(struct vmcb, star), 0x0023001000000000ull, "star"},
    {MSR_LSTAR, offsetof(struct vmcb, lstar), 0xFFFF800000004000ull, "lstar"},
    {MSR_CSTAR, offsetof(struct vmcb, cstar), 0xFFFF800000005000ull, "cstar"},
    {MSR_SFMASK, offsetof(struct vmcb, sfmask), 0x47700, "sfmask"},
    {MSR_SYSENTER_CS, offsetof(struct vmcb, sysenter_cs), 0x10, "sysenter_cs"},
    {MSR_SYSENTER_ESP, offsetof(struct vmcb, sysenter_esp), 0x6000, "sysenter_esp"},
    {MSR_SYSENTER_EIP, offsetof(struct vmcb, sysenter_eip), 0x7000, "sysenter_eip"},
};

static uint64_t *vmcb_u64(struct vmcb *p, size_t offset)
{
	return (uint64_t *)((char *)p + offset);
}

/* VMLOAD puts a VMCB's values into the MSRs; VMSAVE writes the MSRs back out. */
static void check_vmload_vmsave(const struct l1_mode *m)
{
	struct check c;
	char what[48];

	check_begin(&c, "vmload-vmsave", m);
	vmsave(&vmload_saved);
	memcpy(&vmload_test, &vmload_saved, sizeof(vmload_test));
	for (size_t i = 0; i < BM_ARRAY_SIZE(vmload_msrs); i++)
		*vmcb_u64(&vmload_test, vmload_msrs[i].offset) = vmload_msrs[i].value;
	vmload(&vmload_test);
	for (size_t i = 0; i < BM_ARRAY_SIZE(vmload_msrs); i++) {
		snprintf(what, sizeof(what), "rdmsr %s after vmload", vmload_msrs[i].name);
		expect(&c, what, rdmsr(vmload_msrs[i].msr), vmload_msrs[i].value);
		wrmsr(vmload_msrs[i].msr, vmload_msrs[i].value + 0x10);
	}
	memset(&vmsave_out, 0, sizeof(vmsave_out));
	vmsave(&vmsave_out);
	for (size_t i = 0; i < BM_ARRAY_SIZE(vmload_msrs); i++) {
		snprintf(what, sizeof(what), "vmsave %s", vmload_msrs[i].name);
		expect(&c, what, *vmcb_u64(&vmsave_out, vmload_msrs[i].offset),
		       vmload_msrs[i].value + 0x10);
	}
	vmload(&vmload_saved);
	expect(&c, "fs.base restored", rdmsr(MSR_FS_BASE), vmload_saved.fs.base);
	check_end(&c);
}

void run_vmload_checks(const struct l1_mode *m)
{
	check_vmload_vmsave(m);
}
