/* SPDX-License-Identifier: MIT */
/*
 * Checks run once: a physical interrupt while L2 runs, and VMRUNs of
 * VMCBs that the consistency checks of APM 15.5.1 must refuse.
 */
#include "l1.h"
#include "l2.h"

/* 8259A PIC and 8254 PIT, as on the PC */
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define PIC_ICW1_INIT_ICW4 0x11
#define PIC_ICW4_8086 0x01
#define PIC_EOI 0x20
#define PIC_ICW3_MASTER 0x04 /* a slave on IRQ2 */
#define PIC_ICW3_SLAVE 0x02  /* cascade identity 2 */
#define PIC_MASK_ALL 0xFF
#define PIC_MASK_ALL_BUT_IRQ0 0xFE
#define PIC_VECTOR_BASE 0x20 /* IRQ0 -> vector 0x20, clear of the exceptions */
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_CH0_LOHI_MODE0 0x30 /* channel 0, low then high byte, interrupt on terminal count */
#define PIT_HZ 1193182u
#define IRQ_DELAY_MS 10
/* Iterations of L2's spin loop: far longer than IRQ_DELAY_MS on QEMU's TCG. */
#define L2_SPIN_ITERATIONS 400000000ull

static volatile unsigned irq0_count;

static void irq0_handler(struct bm_regs *regs)
{
	(void)regs;
	irq0_count++;
	outb(PIC1_CMD, PIC_EOI);
}

static void pic_init(uint8_t master_mask)
{
	outb(PIC1_CMD, PIC_ICW1_INIT_ICW4);
	outb(PIC2_CMD, PIC_ICW1_INIT_ICW4);
	outb(PIC1_DATA, PIC_VECTOR_BASE);
	outb(PIC2_DATA, PIC_VECTOR_BASE + 8);
	outb(PIC1_DATA, PIC_ICW3_MASTER);
	outb(PIC2_DATA, PIC_ICW3_SLAVE);
	outb(PIC1_DATA, PIC_ICW4_8086);
	outb(PIC2_DATA, PIC_ICW4_8086);
	outb(PIC1_DATA, master_mask);
	outb(PIC2_DATA, PIC_MASK_ALL);
}

void l1_mask_legacy_irqs(void)
{
	/*
	 * The firmware leaves the PIT ticking on IRQ0 at vector 8; remapped
	 * and masked, nothing reaches L1 or L2 unless a check asks for it.
	 */
	pic_init(PIC_MASK_ALL);
}

static void pit_one_shot(unsigned ms)
{
	uint32_t count = PIT_HZ / 1000 * ms;

	outb(PIT_CMD, PIT_CH0_LOHI_MODE0);
	outb(PIT_CH0, count & 0xFF);
	outb(PIT_CH0, (count >> 8) & 0xFF);
}

/*
 * INTR intercepted, V_INTR_MASKING set, L1's RFLAGS.IF set at VMRUN: the
 * PIT's interrupt, raised while L2 spins, must exit with code 0x60 before
 * L2 sees it; L1 then takes it itself once it sets IF (APM 15.21.1-15.21.3).
 */
static void check_interrupt(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, "interrupt", m);
	bm_set_handler(PIC_VECTOR_BASE, irq0_handler);
	pic_init(PIC_MASK_ALL);
	irq0_count = 0;
	l2_prepare(m, l2_spin);
	v->icpt_misc1 |= ICPT1_INTR;
	l1.regs.rcx = L2_SPIN_ITERATIONS;
	pit_one_shot(IRQ_DELAY_MS);
	outb(PIC1_DATA, PIC_MASK_ALL_BUT_IRQ0);
	l2_run(true);
	if (expect_exit(&c, "spin", VMEXIT_INTR, NULL)) {
		if (v->rip < pa(l2_spin_loop) || v->rip > pa(l2_spin_end))
			check_fail(&c, "rip 0x%llx outside L2's loop", (unsigned long long)v->rip);
		expect(&c, "exitintinfo.v", v->exitintinfo & EVENT_V, 0);
		/* On a loaded host the PIT may fire before L2's first instruction:
		 * pending at VMRUN, the interrupt then exits right away (rcx
		 * untouched, rip at the loop), which is as correct. */
		if (l1.regs.rcx == 0 || l1.regs.rcx > L2_SPIN_ITERATIONS)
			check_fail(&c, "rcx = 0x%llx: L2's loop ran out before the interrupt",
				   (unsigned long long)l1.regs.rcx);
		expect(&c, "interrupts taken by L1 before STI", irq0_count, 0);
		/* The interrupt is still pending at the PIC: L1 takes it now. */
		sti();
		for (unsigned i = 0; i < 1000000 && irq0_count == 0; i++)
			pause();
		cli();
		expect(&c, "interrupts taken by L1 after STI", irq0_count, 1);
	}
	outb(PIC1_DATA, PIC_MASK_ALL);
	bm_set_handler(PIC_VECTOR_BASE, l1_unexpected);
	check_end(&c);
}

enum invalid_kind { NO_VMRUN_INTERCEPT, ASID_ZERO, EFER_SVME_CLEAR };

/* VMRUN of an illegal VMCB exits at once with VMEXIT_INVALID (-1) (APM 15.5.1). */
static void check_invalid(const struct l1_mode *m, const char *name, enum invalid_kind kind)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, name, m);
	l2_prepare(m, l2_hlt);
	switch (kind) {
	case NO_VMRUN_INTERCEPT:
		v->icpt_misc2 &= ~ICPT2_VMRUN;
		break;
	case ASID_ZERO:
		v->asid = 0;
		break;
	case EFER_SVME_CLEAR:
		v->efer &= ~EFER_SVME;
		break;
	}
	l2_run(false);
	/*
	 * APM appendix C: VMEXIT_INVALID is -1. QEMU writes it as a 32-bit
	 * -1 (upper half 0), as does KVM for its nested guests; accept
	 * either upper half, nothing else.
	 */
	uint64_t code = v->exitcode;

	if ((uint32_t)code != (uint32_t)VMEXIT_INVALID ||
	    ((code >> 32) != 0 && (code >> 32) != 0xFFFFFFFFu))
		expect_exit(&c, name, VMEXIT_INVALID, NULL);
	check_end(&c);
}

/* After the refused VMRUNs, a good VMCB still runs. */
static void check_valid_after_invalid(const struct l1_mode *m)
{
	struct check c;

	check_begin(&c, "valid-after-invalid", m);
	l2_prepare(m, l2_hlt);
	l2_run(false);
	expect_exit(&c, "hlt", VMEXIT_HLT, l2_hlt_insn);
	check_end(&c);
}

void run_interrupt_checks(const struct l1_mode *m)
{
	check_interrupt(m);
}

void run_single_checks(const struct l1_mode *m)
{
	check_invalid(m, "invalid-no-vmrun-intercept", NO_VMRUN_INTERCEPT);
	check_invalid(m, "invalid-asid-zero", ASID_ZERO);
	check_invalid(m, "invalid-efer-svme-clear", EFER_SVME_CLEAR);
	check_valid_after_invalid(m);
}
