/* SPDX-License-Identifier: MIT */
/*
 * The checks: each starts L2 at one payload of l2.S, lets it provoke one
 * kind of #VMEXIT and compares what the VMCB says with what the AMD APM
 * (vol. 2, chapter 15) requires. One line per check.
 */
#include "l1.h"
#include "l2.h"

#define U64(x) ((unsigned long long)(x))

/* ---- bookkeeping ---- */

void check_begin(struct check *c, const char *name, const struct l1_mode *mode)
{
	c->name = name;
	c->mode = mode->name;
	c->failed = false;
	c->why[0] = '\0';
	l1.current = c;
}

void check_fail(struct check *c, const char *fmt, ...)
{
	va_list ap;

	if (c->failed)
		return; /* the first difference is the one worth reading */
	c->failed = true;
	va_start(ap, fmt);
	bm_vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

bool expect(struct check *c, const char *what, uint64_t got, uint64_t want)
{
	if (got == want)
		return true;
	check_fail(c, "%s = 0x%llx, expected 0x%llx", what, U64(got), U64(want));
	return false;
}

bool expect_exit(struct check *c, const char *step, uint64_t code, const void *rip)
{
	const struct vmcb *v = l1.vmcb;

	if (v->exitcode != code) {
		check_fail(c,
			   "%s: exit code 0x%llx (info1 0x%llx, info2 0x%llx, rip 0x%llx), "
			   "expected 0x%llx",
			   step, U64(v->exitcode), U64(v->exitinfo1), U64(v->exitinfo2),
			   U64(v->rip), U64(code));
		return false;
	}
	if (rip && v->rip != pa(rip)) {
		check_fail(c, "%s: rip = 0x%llx, expected 0x%llx", step, U64(v->rip), U64(pa(rip)));
		return false;
	}
	return true;
}

void check_end(struct check *c)
{
	l1.current = NULL;
	l1.checks++;
	if (c->failed) {
		l1.failed++;
		printf("check %s%s: FAIL (%s)\n", c->name, c->mode, c->why);
	} else {
		printf("check %s%s: ok\n", c->name, c->mode);
	}
}

/* ---- checks run in both modes ---- */

#define CPUID_ANSWER_A 0xA1A1A1A1ull
#define CPUID_ANSWER_B 0xB2B2B2B2ull
#define CPUID_ANSWER_C 0xC3C3C3C3ull
#define CPUID_ANSWER_D 0xD4D4D4D4ull

/* CPUID: exit 0x72 at the instruction with L2's RAX/RCX; L1's answer reaches L2. */
static void check_cpuid(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, "cpuid", m);
	l2_prepare(m, l2_cpuid);
	l2_run(false);
	if (expect_exit(&c, "cpuid", VMEXIT_CPUID, l2_cpuid_insn)) {
		expect(&c, "rax (leaf)", v->rax, L2_CPUID_LEAF);
		expect(&c, "rcx (subleaf)", l1.regs.rcx, L2_CPUID_SUBLEAF);
		v->rax = CPUID_ANSWER_A;
		l1.regs.rbx = CPUID_ANSWER_B;
		l1.regs.rcx = CPUID_ANSWER_C;
		l1.regs.rdx = CPUID_ANSWER_D;
		v->rip += LEN_CPUID;
		l2_run(false);
		if (expect_exit(&c, "after cpuid", VMEXIT_VMMCALL, NULL))
			expect(&c, "L2's sum of the answer", l1.regs.r8,
			       CPUID_ANSWER_A + CPUID_ANSWER_B + CPUID_ANSWER_C + CPUID_ANSWER_D);
	}
	check_end(&c);
}

/* HLT: exit 0x78 at the instruction; L2 resumes after it. */
static void check_hlt(const struct l1_mode *m)
{
	struct check c;

	check_begin(&c, "hlt", m);
	l2_prepare(m, l2_hlt);
	l2_run(false);
	if (expect_exit(&c, "hlt", VMEXIT_HLT, l2_hlt_insn)) {
		l1.vmcb->rip += LEN_HLT;
		l2_run(false);
		expect_exit(&c, "after hlt", VMEXIT_VMMCALL, l2_hlt_insn + LEN_HLT);
	}
	check_end(&c);
}

/* One IOIO exit: EXITINFO1's port, type, size, string and rep; EXITINFO2 = next RIP. */
static bool expect_ioio(struct check *c, const char *step, const char *insn, unsigned len,
			uint64_t info1)
{
	const struct vmcb *v = l1.vmcb;

	if (!expect_exit(c, step, VMEXIT_IOIO, insn))
		return false;
	/*
	 * Address size (bits 9:7) and segment (12:10) are left out: QEMU's
	 * TCG does not report them. They are printed in the failure text.
	 */
	if ((v->exitinfo1 & IOIO_CHECKED_MASK) != info1) {
		check_fail(c, "%s: exitinfo1 = 0x%llx, expected 0x%llx (under mask 0x%llx)", step,
			   U64(v->exitinfo1), U64(info1), U64(IOIO_CHECKED_MASK));
		return false;
	}
	return expect(c, "exitinfo2 (next rip)", v->exitinfo2, pa(insn) + len);
}

#define IO_IN_ANSWER 0xBEEF

/* I/O to a port whose IOPM bit is set: OUT imm8, IN DX (16-bit), REP OUTSB. */
static void check_ioio_intercepted(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, "ioio-iopm-set", m);
	l2_prepare(m, l2_io);
	l2_run(false);
	if (!expect_ioio(&c, "out", l2_io_out_insn, LEN_OUT_IMM8,
			 ((uint64_t)L2_IO_PORT << IOIO_PORT_SHIFT) | IOIO_SZ8))
		goto out;
	expect(&c, "al (out value)", v->rax & 0xFF, L2_IO_OUT_VALUE);
	v->rip = v->exitinfo2;
	l2_run(false);
	/* 16 bits at L2_IO_PORT - 1 cover L2_IO_PORT: intercepted (APM 15.10.1). */
	if (!expect_ioio(&c, "in", l2_io_in_insn, LEN_IN_DX_16,
			 ((uint64_t)(L2_IO_PORT - 1) << IOIO_PORT_SHIFT) | IOIO_SZ16 |
			     IOIO_TYPE_IN))
		goto out;
	v->rax = (v->rax & ~0xFFFFull) | IO_IN_ANSWER;
	v->rip = v->exitinfo2;
	l2_run(false);
	if (!expect_ioio(&c, "rep outsb", l2_io_outs_insn, LEN_REP_OUTSB,
			 ((uint64_t)L2_IO_PORT << IOIO_PORT_SHIFT) | IOIO_SZ8 | IOIO_STR |
			     IOIO_REP))
		goto out;
	expect(&c, "rcx (rep count)", l1.regs.rcx, 3);
	v->rip = v->exitinfo2;
	l2_run(false);
	if (expect_exit(&c, "after io", VMEXIT_VMMCALL, NULL))
		expect(&c, "rax (L1's IN answer)", v->rax, IO_IN_ANSWER);
out:
	check_end(&c);
}

/*
 * I/O L1 does not intercept, either because the ports' IOPM bits are
 * clear or because IOIO_PROT itself is clear: L2 writes and reads back
 * the UART scratch register, and L1 then reads what L2 wrote.
 */
static void check_ioio_pass(const struct l1_mode *m, bool global_off)
{
	struct vmcb *v = l1.vmcb;
	struct check c;
	const uint8_t value = global_off ? 0x3C : 0xA5;

	check_begin(&c, global_off ? "ioio-not-intercepted" : "ioio-iopm-clear", m);
	l2_prepare(m, l2_io_pass);
	if (global_off)
		v->icpt_misc1 &= ~ICPT1_IOIO_PROT;
	else
		iopm_set(L2_IO_PORT, false);
	l1.regs.rbx = value;
	l2_run(false);
	if (expect_exit(&c, "io", VMEXIT_VMMCALL, NULL)) {
		expect(&c, "L2's read-back", v->rax & 0xFF, value);
		expect(&c, "L1's read of the scratch register", inb(L2_SCRATCH_PORT), value);
	}
	iopm_set(L2_IO_PORT, true);
	check_end(&c);
}

#define MSR_READ_ANSWER_LO 0x11223344ull
#define MSR_READ_ANSWER_HI 0x55667788ull
#define MSR_L1_VALUE 0x77ull

/* RDMSR/WRMSR with the MSRPM bits set: exit 0x7C, EXITINFO1 0 / 1; the MSR is untouched. */
static void check_msr_intercepted(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, "msr-msrpm-set", m);
	wrmsr(L2_MSR, MSR_L1_VALUE);
	msrpm_set(L2_MSR, true, true);
	l2_prepare(m, l2_msr);
	l2_run(false);
	if (!expect_exit(&c, "rdmsr", VMEXIT_MSR, l2_rdmsr_insn))
		goto out;
	expect(&c, "rdmsr exitinfo1", v->exitinfo1, MSR_EXIT_READ);
	expect(&c, "rdmsr rcx", l1.regs.rcx, L2_MSR);
	v->rax = MSR_READ_ANSWER_LO;
	l1.regs.rdx = MSR_READ_ANSWER_HI;
	v->rip += LEN_RDMSR;
	l2_run(false);
	if (!expect_exit(&c, "wrmsr", VMEXIT_MSR, l2_wrmsr_insn))
		goto out;
	expect(&c, "wrmsr exitinfo1", v->exitinfo1, MSR_EXIT_WRITE);
	expect(&c, "wrmsr rcx", l1.regs.rcx, L2_MSR);
	expect(&c, "wrmsr eax", v->rax & 0xFFFFFFFFu, L2_MSR_WRITE_LO);
	expect(&c, "wrmsr edx", l1.regs.rdx & 0xFFFFFFFFu, L2_MSR_WRITE_HI);
	v->rip += LEN_WRMSR;
	l2_run(false);
	if (expect_exit(&c, "after wrmsr", VMEXIT_VMMCALL, l2_wrmsr_insn + LEN_WRMSR)) {
		expect(&c, "L2's rdmsr eax", l1.regs.r8, MSR_READ_ANSWER_LO);
		expect(&c, "L2's rdmsr edx", l1.regs.r9, MSR_READ_ANSWER_HI);
		expect(&c, "the MSR after the intercepted write", rdmsr(L2_MSR), MSR_L1_VALUE);
	}
out:
	msrpm_set(L2_MSR, false, false);
	check_end(&c);
}

/* An MSR outside the MSRPM's ranges always exits (APM 15.11). */
static void check_msr_outside(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, "msr-outside-msrpm", m);
	l2_prepare(m, l2_msr_outside);
	l2_run(false);
	if (expect_exit(&c, "rdmsr", VMEXIT_MSR, l2_msr_outside_insn)) {
		expect(&c, "exitinfo1", v->exitinfo1, MSR_EXIT_READ);
		expect(&c, "rcx", l1.regs.rcx, L2_MSR_OUTSIDE);
		v->rip += LEN_RDMSR;
		l2_run(false);
		expect_exit(&c, "after rdmsr", VMEXIT_VMMCALL, NULL);
	}
	check_end(&c);
}

/* MSRPM bits clear: L2's WRMSR reaches the MSR, its RDMSR reads it back. */
static void check_msr_pass(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;
	const uint64_t value = m->npt ? 0x5EED : 0x5EEE;

	check_begin(&c, "msr-msrpm-clear", m);
	wrmsr(L2_MSR, MSR_L1_VALUE);
	msrpm_set(L2_MSR, false, false);
	l2_prepare(m, l2_msr_pass);
	l1.regs.rbx = value;
	l2_run(false);
	if (expect_exit(&c, "wrmsr/rdmsr", VMEXIT_VMMCALL, NULL)) {
		expect(&c, "L2's rdmsr", v->rax, value);
		expect(&c, "L1's rdmsr", rdmsr(L2_MSR), value);
	}
	check_end(&c);
}

#define CR2_SENTINEL 0x5A5A000ull

/* #PF intercepted: exit 0x4E, EXITINFO1 = error code, EXITINFO2 = address, CR2 untouched. */
static void check_pf(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, "exception-pf", m);
	l2_prepare(m, l2_pf);
	v->cr2 = CR2_SENTINEL;
	l2_run(false);
	if (!expect_exit(&c, "read", VMEXIT_PF, l2_pf_read_insn))
		goto out;
	expect(&c, "read: exitinfo1 (error code)", v->exitinfo1, 0);
	expect(&c, "read: exitinfo2 (address)", v->exitinfo2, L2_PF_READ_ADDR);
	/* APM 15.12: an intercepted #PF does not write CR2. */
	expect(&c, "read: L2's cr2", v->cr2, CR2_SENTINEL);
	v->rip += LEN_MOV_LOAD;
	l2_run(false);
	if (!expect_exit(&c, "write", VMEXIT_PF, l2_pf_write_insn))
		goto out;
	expect(&c, "write: exitinfo1 (error code)", v->exitinfo1, PFEC_RW);
	expect(&c, "write: exitinfo2 (address)", v->exitinfo2, L2_PF_WRITE_ADDR);
	v->rip += LEN_MOVQ_IMM_STORE;
	l2_run(false);
	expect_exit(&c, "after #PF", VMEXIT_VMMCALL, NULL);
out:
	check_end(&c);
}

/* Other intercepted exceptions: #UD (ud2), #DE (div by 0), #GP(0) (non-canonical). */
static void check_exception(const struct l1_mode *m, const char *name, const void *entry,
			    const void *insn, uint64_t code, bool error_code)
{
	struct check c;

	check_begin(&c, name, m);
	l2_prepare(m, entry);
	l2_run(false);
	if (expect_exit(&c, name, code, insn) && error_code)
		expect(&c, "exitinfo1 (error code)", l1.vmcb->exitinfo1, 0);
	check_end(&c);
}

/* L2 executes VMRUN: always intercepted by L1 (a VMCB without it is invalid). */
static void check_vmrun_in_l2(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, "l2-vmrun", m);
	l2_prepare(m, l2_vmrun);
	l2_run(false);
	if (expect_exit(&c, "vmrun", VMEXIT_VMRUN, l2_vmrun_insn)) {
		expect(&c, "rax (L2's VMCB)", v->rax, pa(l2_nested_vmcb));
		v->rip += LEN_VMRUN;
		l2_run(false);
		expect_exit(&c, "after vmrun", VMEXIT_VMMCALL, l2_vmrun_insn + LEN_VMRUN);
	}
	check_end(&c);
}

/*
 * L2_ROUND_TRIPS CPUID exits in a row, each answered by L1 and verified by
 * L2; from the second VMRUN on, L1 marks everything it did not touch as
 * clean (APM 15.15.3).
 */
static void check_round_trips(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;
	uint32_t i = 0;

	check_begin(&c, "round-trips", m);
	l2_prepare(m, l2_round_trips);
	for (;;) {
		l2_run(false);
		v->clean = CLEAN_I | CLEAN_IOPM | CLEAN_ASID | CLEAN_NP | CLEAN_CRX | CLEAN_DRX |
			   CLEAN_DT | CLEAN_SEG | CLEAN_CR2;
		if (v->exitcode != VMEXIT_CPUID || i > L2_ROUND_TRIPS)
			break;
		if (!expect(&c, "rip", v->rip, pa(l2_rt_insn)) ||
		    !expect(&c, "rax (i)", v->rax, i) || !expect(&c, "r12 (i)", l1.regs.r12, i))
			break;
		v->rax = 3 * (uint64_t)i + 1;
		l1.regs.rbx = (uint32_t)~i;
		l1.regs.rcx = 0;
		l1.regs.rdx = 0;
		v->rip += LEN_CPUID;
		i++;
	}
	if (!c.failed && expect_exit(&c, "end", VMEXIT_VMMCALL, NULL)) {
		expect(&c, "L2's verdict (0 = every answer right)", v->rax, 0);
		expect(&c, "cpuid exits", i, L2_ROUND_TRIPS);
	}
	check_end(&c);
}

/*
 * L2_MIXED_ROUNDS rounds of CPUID, OUT and RDMSR exits in a fixed order,
 * each checked and answered; clean bits as in round-trips.
 */
static void check_mixed_round_trips(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;
	uint32_t i = 0, step = 0;

	check_begin(&c, "round-trips-mixed", m);
	msrpm_set(L2_MSR, true, false);
	l2_prepare(m, l2_mixed);
	for (unsigned runs = 0; runs <= 3 * L2_MIXED_ROUNDS; runs++) {
		l2_run(false);
		v->clean = CLEAN_I | CLEAN_IOPM | CLEAN_ASID | CLEAN_NP | CLEAN_CRX | CLEAN_DRX |
			   CLEAN_DT | CLEAN_SEG | CLEAN_CR2;
		if (v->exitcode == VMEXIT_VMMCALL)
			break;
		if (step == 0) {
			if (!expect_exit(&c, "cpuid", VMEXIT_CPUID, l2_mixed_cpuid_insn) ||
			    !expect(&c, "cpuid rax (i)", v->rax, i))
				break;
			v->rax = (uint64_t)i + 1;
			l1.regs.rbx = l1.regs.rcx = l1.regs.rdx = 0;
			v->rip += LEN_CPUID;
		} else if (step == 1) {
			if (!expect_exit(&c, "out", VMEXIT_IOIO, l2_mixed_out_insn) ||
			    !expect(&c, "out al (i)", v->rax & 0xFF, i & 0xFF) ||
			    !expect(&c, "out exitinfo1", v->exitinfo1 & IOIO_CHECKED_MASK,
				    ((uint64_t)L2_IO_PORT << IOIO_PORT_SHIFT) | IOIO_SZ8))
				break;
			v->rip = v->exitinfo2;
		} else {
			if (!expect_exit(&c, "rdmsr", VMEXIT_MSR, l2_mixed_rdmsr_insn) ||
			    !expect(&c, "rdmsr exitinfo1", v->exitinfo1, MSR_EXIT_READ) ||
			    !expect(&c, "rdmsr rcx", l1.regs.rcx, L2_MSR))
				break;
			v->rax = (uint32_t)~i;
			l1.regs.rdx = 0;
			v->rip += LEN_RDMSR;
			i++;
		}
		step = (step + 1) % 3;
	}
	if (!c.failed && expect_exit(&c, "end", VMEXIT_VMMCALL, NULL)) {
		expect(&c, "L2's verdict (0 = every answer right)", v->rax, 0);
		expect(&c, "rounds", i, L2_MIXED_ROUNDS);
	}
	msrpm_set(L2_MSR, false, false);
	check_end(&c);
}

/*
 * Clean bits are a promise about what L1 left alone: after L1 drops the
 * CPUID intercept and clears only the intercepts' clean bit (I), the next
 * CPUID must run in L2 without an exit (APM 15.15.3).
 */
static void check_clean_bits(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;

	check_begin(&c, "clean-bits", m);
	l2_prepare(m, l2_cpuid_twice);
	l2_run(false);
	if (expect_exit(&c, "first cpuid", VMEXIT_CPUID, l2_cpuid_twice_insn)) {
		v->icpt_misc1 &= ~ICPT1_CPUID;
		v->clean = CLEAN_IOPM | CLEAN_ASID | CLEAN_TPR | CLEAN_NP | CLEAN_CRX | CLEAN_DRX |
			   CLEAN_DT | CLEAN_SEG | CLEAN_CR2 | CLEAN_LBR;
		v->rip += LEN_CPUID;
		l2_run(false);
		expect_exit(&c, "second cpuid", VMEXIT_VMMCALL, NULL);
	}
	check_end(&c);
}

void run_mode_checks(const struct l1_mode *m)
{
	check_cpuid(m);
	check_hlt(m);
	check_ioio_intercepted(m);
	check_ioio_pass(m, false);
	check_ioio_pass(m, true);
	check_msr_intercepted(m);
	check_msr_outside(m);
	check_msr_pass(m);
	check_pf(m);
	check_exception(m, "exception-ud", l2_ud, l2_ud_insn, VMEXIT_UD, false);
	check_exception(m, "exception-de", l2_de, l2_de_insn, VMEXIT_DE, false);
	check_exception(m, "exception-gp", l2_gp, l2_gp_insn, VMEXIT_GP, true);
	check_vmrun_in_l2(m);
	check_round_trips(m);
	check_mixed_round_trips(m);
	check_clean_bits(m);
}

/* ---- nested page faults on L1's NPT ---- */

#define FIXUP_OFFSET 0x120
#define FIXUP_VALUE 0x1122334455667788ull

/*
 * A read of a guest-physical address that NPT12 leaves unmapped: exit
 * 0x400, EXITINFO1 = US (nested walks are user accesses) | final-GPA bit
 * 32, EXITINFO2 = the address (APM 15.25.6). Then L1 maps a page there and
 * resumes L2 at the same instruction, which now reads the page.
 */
static void check_npf_not_present(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c, f;
	const uint64_t gpa = NPT_HOLE_GPA + FIXUP_OFFSET;

	check_begin(&c, "npf-not-present", m);
	check_begin(&f, "npf-fixup-resume", m);
	l2_prepare(m, l2_load);
	l1.regs.rbx = gpa;
	l2_run(false);
	if (expect_exit(&c, "load", VMEXIT_NPF, l2_load_insn)) {
		expect(&c, "exitinfo1", v->exitinfo1, NPF_FINAL_GPA | PFEC_US);
		expect(&c, "exitinfo2 (gpa)", v->exitinfo2, gpa);

		l1.fixup_page[FIXUP_OFFSET / 8] = FIXUP_VALUE;
		l1.npt_pt[NPT_HOLE_INDEX] = pa(l1.fixup_page) | PTE_P | PTE_RW | PTE_US;
		v->tlb_control = TLB_CONTROL_FLUSH_ALL;
		l2_run(false);
		if (expect_exit(&f, "after the fix", VMEXIT_VMMCALL, l2_load_insn + LEN_MOV_LOAD))
			expect(&f, "L2's load", v->rax, FIXUP_VALUE);
		l1.npt_pt[NPT_HOLE_INDEX] = 0;
	} else {
		check_fail(&f, "no NPF to fix");
	}
	check_end(&c);
	check_end(&f);
}

/* A write to a page NPT12 maps read-only: EXITINFO1 = P | RW | US | bit 32. */
static void check_npf_write(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;
	const uint64_t gpa = NPT_RO_GPA + 0x40;

	check_begin(&c, "npf-write-protect", m);
	l2_prepare(m, l2_store);
	l1.regs.rbx = gpa;
	l1.regs.rcx = 1;
	l2_run(false);
	if (expect_exit(&c, "store", VMEXIT_NPF, l2_store_insn)) {
		expect(&c, "exitinfo1", v->exitinfo1, NPF_FINAL_GPA | PFEC_P | PFEC_RW | PFEC_US);
		expect(&c, "exitinfo2 (gpa)", v->exitinfo2, gpa);
	}
	check_end(&c);
}

/*
 * L2's own page-table walk reaches a table NPT12 does not map: bit 33 set,
 * bit 32 clear, not present; EXITINFO2 = the GPA of the guest table entry.
 * The RW bit is not checked: whether the walk counts as a write (for the
 * accessed bit) is not pinned down here.
 */
static void check_npf_guest_walk(const struct l1_mode *m)
{
	struct vmcb *v = l1.vmcb;
	struct check c;
	const uint64_t pde_index = (L2_GPT_FAULT_ADDR >> 21) & 511;

	check_begin(&c, "npf-guest-page-table", m);
	l1.l2_pdpt[1] = NPT_GPT_HOLE_GPA | PTE_P | PTE_RW;
	l2_prepare(m, l2_load);
	l1.regs.rbx = L2_GPT_FAULT_ADDR;
	l2_run(false);
	if (expect_exit(&c, "load", VMEXIT_NPF, l2_load_insn)) {
		expect(&c, "exitinfo1 bits 33, 32, P, US",
		       v->exitinfo1 & (NPF_GUEST_PT | NPF_FINAL_GPA | PFEC_P | PFEC_US),
		       NPF_GUEST_PT | PFEC_US);
		expect(&c, "exitinfo2 (gpa of the PDE)", v->exitinfo2,
		       NPT_GPT_HOLE_GPA + pde_index * 8);
	}
	l1.l2_pdpt[1] = 0;
	check_end(&c);
}

void run_npt_checks(const struct l1_mode *m)
{
	check_npf_not_present(m);
	check_npf_write(m);
	check_npf_guest_walk(m);
}
