/* SPDX-License-Identifier: MIT */
/*
 * Checks of the remaining intercept and control fields: the TSC offset and
 * the RDTSC intercept, control-register read and write intercepts.
 */
#include "l1.h"
#include "l2.h"

#define U64(x) ((unsigned long long)(x))
#define TSC_OFFSET (1ull << 40)

/* RDTSC in L2 returns the TSC plus the VMCB's TSC_OFFSET (APM 15.30.5). */
static void check_tsc_offset(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, "tsc-offset", m);
	l2_prepare(m, l2_rdtsc);
	v->tsc_offset = TSC_OFFSET;
	const uint64_t before = rdtsc();

	l2_run(false);
	const uint64_t after = rdtsc();

	if (expect_exit(&c, "rdtsc", VMEXIT_VMMCALL, NULL)) {
		if (v->rax < before + TSC_OFFSET || v->rax > after + TSC_OFFSET)
			check_fail(&c, "L2's tsc 0x%llx outside [0x%llx, 0x%llx] (L1's + offset)",
				   U64(v->rax), U64(before + TSC_OFFSET), U64(after + TSC_OFFSET));
	}
	check_end(&c);
}

/* RDTSC intercepted: exit 0x6E at the instruction. */
static void check_rdtsc_intercept(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, "rdtsc-intercept", m);
	l2_prepare(m, l2_rdtsc);
	v->icpt_misc1 |= ICPT1_RDTSC;
	l2_run(false);
	if (expect_exit(&c, "rdtsc", VMEXIT_RDTSC, l2_rdtsc_insn)) {
		v->rax = 0x1234;
		l1.regs.rdx = 0x5678;
		v->rip += LEN_RDTSC;
		l2_run(false);
		if (expect_exit(&c, "after rdtsc", VMEXIT_VMMCALL, NULL))
			expect(&c, "L2's tsc (L1's answer)", v->rax, 0x567800001234ull);
	}
	check_end(&c);
}

#define CR3_ANSWER 0xC0FFEE000ull

/* CR3 read and CR0 write intercepted: exits 0x03 and 0x10 at the instructions. */
static void check_cr_intercepts(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, "cr-intercepts", m);
	l2_prepare(m, l2_cr);
	v->icpt_cr_read = ICPT_CR(3);
	v->icpt_cr_write = ICPT_CR(0);
	l2_run(false);
	if (!expect_exit(&c, "mov from cr3", VMEXIT_CR_READ_BASE + 3, l2_cr3_read_insn))
		goto out;
	v->rax = CR3_ANSWER; /* emulate the read: the destination is RAX */
	v->rip += LEN_MOV_CR;
	l2_run(false);
	if (!expect_exit(&c, "mov to cr0", VMEXIT_CR_WRITE_BASE + 0, l2_cr0_write_insn))
		goto out;
	expect(&c, "rbx (the value to write)", l1.regs.rbx, v->cr0);
	v->rip += LEN_MOV_CR;
	l2_run(false);
	if (expect_exit(&c, "after the writes", VMEXIT_VMMCALL, NULL))
		expect(&c, "L2's cr3 (L1's answer)", v->rax, CR3_ANSWER);
out:
	check_end(&c);
}

void run_ctl_checks(const struct l1_mode *m)
{
	check_tsc_offset(m);
	check_rdtsc_intercept(m);
	check_cr_intercepts(m);
}
