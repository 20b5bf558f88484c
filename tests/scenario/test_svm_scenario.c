/* SPDX-License-Identifier: MIT */
/*
 * Nested-SVM scenarios on the simulated backend: L1 runs L2 with VMRUN,
 * L2 exits for each intercept class, and each test checks where the exit
 * goes (L1 or L0), vmcb12 field by field after a reflection, vmcb01's
 * restored host state, vmcb02 as libnest built it, and backend calls.
 */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include <nest/svm.h>

#include "cpu/x86.h"
#include "sim_svm.h"

#define ALL_FLAGS (NEST_SVM_CFG_SVM_ALLOWED | NEST_SVM_CFG_LONG_MODE)
#define VMRUN_RIP 0x401000ull

static struct sim_svm t;
static struct nest_vmcb v12; /* what L1 wrote before VMRUN */

/* L0 keeps these for L2: INTR, NMI, SHUTDOWN, HLT, CPUID, #MC. */
static uint32_t l0_icpt[NEST_SVM_INTERCEPT_WORDS];

static void icpt_set(uint32_t *w, unsigned n)
{
	w[n / 32] |= 1u << (n % 32);
}

static void l1_icpt(unsigned n)
{
	icpt_set(&v12.control.intercept_cr, n);
}

static void start(uint32_t features, int with_tdp)
{
	memset(l0_icpt, 0, sizeof(l0_icpt));
	icpt_set(l0_icpt, NEST_SVM_ICPT_INTR);
	icpt_set(l0_icpt, NEST_SVM_ICPT_NMI);
	icpt_set(l0_icpt, NEST_SVM_ICPT_SHUTDOWN);
	icpt_set(l0_icpt, NEST_SVM_ICPT_HLT);
	icpt_set(l0_icpt, NEST_SVM_ICPT_CPUID);
	icpt_set(l0_icpt, NEST_SVM_ICPT_EXCEPTION(X86_EXC_MC));
	ck_assert_int_eq(sim_svm_init(&t, features, ALL_FLAGS, with_tdp, l0_icpt), 0);
	sim_svm_valid_vmcb12(&v12);
}

static void setup(void)
{
	start(NEST_SVM_F_SUPPORTED, 0);
}

static void teardown(void)
{
	sim_svm_fini(&t);
}

static void run_l2(void)
{
	ck_assert_int_eq(sim_svm_vmrun(&t, &v12), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
	ck_assert_uint_eq(t.act.vmcb_pa, SIM_SVM_HPA_VMCB02);
}

/* L2 ran: move its state on the way the hardware would. */
static void l2_ran(void)
{
	t.vmcb02->save.rip += 0x10;
	t.vmcb02->save.rsp -= 8;
	t.vmcb02->save.rax = 0xaaaa;
	t.vmcb02->save.cr2 = 0xdead000;
	t.vmcb02->save.rflags = 0x246;
	t.vmcb02->save.fs.base = 0xf5f5;
	t.vmcb02->save.kernel_gs_base = 0x6565;
	t.vmcb02->control.next_rip = t.vmcb02->save.rip + 2;
}

static void expect_reflected(uint64_t code, uint64_t info1, uint64_t info2)
{
	struct nest_vmcb m;
	struct nest_svm_state st = {.size = sizeof(st)};

	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert(t.act.flags & NEST_SVM_ACT_F_REFLECTED);
	ck_assert_uint_eq(t.act.exitcode, code);
	sim_svm_read_vmcb12(&t, &m);
	/* Exit information. */
	ck_assert_uint_eq(m.control.exitcode, code);
	ck_assert_uint_eq(m.control.exitinfo1, info1);
	ck_assert_uint_eq(m.control.exitinfo2, info2);
	ck_assert_uint_eq(m.control.event_inj, 0);
	/* L2's state, field by field. */
	ck_assert_uint_eq(m.save.rip, t.vmcb02->save.rip);
	ck_assert_uint_eq(m.save.rsp, t.vmcb02->save.rsp);
	ck_assert_uint_eq(m.save.rax, t.vmcb02->save.rax);
	ck_assert_uint_eq(m.save.rflags, t.vmcb02->save.rflags);
	ck_assert_uint_eq(m.save.cr0, t.vmcb02->save.cr0);
	ck_assert_uint_eq(m.save.cr2, t.vmcb02->save.cr2);
	ck_assert_uint_eq(m.save.cr3, t.vmcb02->save.cr3);
	ck_assert_uint_eq(m.save.cr4, t.vmcb02->save.cr4);
	ck_assert_uint_eq(m.save.efer, t.vmcb02->save.efer);
	ck_assert_uint_eq(m.save.dr6, t.vmcb02->save.dr6);
	ck_assert_uint_eq(m.save.dr7, t.vmcb02->save.dr7);
	ck_assert_uint_eq(m.save.cpl, t.vmcb02->save.cpl);
	ck_assert_int_eq(memcmp(&m.save.cs, &t.vmcb02->save.cs, sizeof(m.save.cs)), 0);
	ck_assert_int_eq(memcmp(&m.save.ss, &t.vmcb02->save.ss, sizeof(m.save.ss)), 0);
	ck_assert_int_eq(memcmp(&m.save.gdtr, &t.vmcb02->save.gdtr, sizeof(m.save.gdtr)), 0);
	ck_assert_int_eq(memcmp(&m.save.idtr, &t.vmcb02->save.idtr, sizeof(m.save.idtr)), 0);
	/* nRIP save is offered in these scenarios. */
	ck_assert_uint_eq(m.control.next_rip, t.vmcb02->control.next_rip);
	/* What #VMEXIT does not write keeps L1's values. */
	ck_assert_uint_eq(m.control.intercept_misc2, v12.control.intercept_misc2);
	ck_assert_uint_eq(m.control.asid, v12.control.asid);
	ck_assert_uint_eq(m.control.msrpm_base_pa, v12.control.msrpm_base_pa);
	ck_assert_uint_eq(m.control.tsc_offset, v12.control.tsc_offset);

	/* L1's host state, restored from VMRUN (APM 15.6). */
	ck_assert_uint_eq(t.vmcb01->save.rip, VMRUN_RIP + 3);
	ck_assert_uint_eq(t.vmcb01->save.rax, SIM_SVM_VMCB12);
	ck_assert_uint_eq(t.vmcb01->save.rsp, 0x9000);
	ck_assert_uint_eq(t.vmcb01->save.cr3, 0x3000);
	ck_assert_uint_eq(t.vmcb01->save.cs.selector, 0x8);
	ck_assert_uint_eq(t.vmcb01->save.cpl, 0);
	ck_assert_uint_eq(t.vmcb01->save.dr7, 0x400);
	ck_assert(t.vmcb01->save.cr0 & X86_CR0_PE);
	ck_assert(t.vmcb01->save.efer & X86_EFER_SVME);
	/* What #VMEXIT leaves alone stays L2's: CR2, FS, KernelGsBase. */
	ck_assert_uint_eq(t.vmcb01->save.cr2, t.vmcb02->save.cr2);
	ck_assert_uint_eq(t.vmcb01->save.fs.base, t.vmcb02->save.fs.base);
	ck_assert_uint_eq(t.vmcb01->save.kernel_gs_base, t.vmcb02->save.kernel_gs_base);
	ck_assert_uint_eq(t.vmcb01->control.event_inj, 0);

	ck_assert_int_eq(nest_svm_get_state(t.ctx, t.vmcb01, &st), NEST_OK);
	ck_assert_uint_eq(st.gif, 0); /* #VMEXIT clears GIF */
	ck_assert_uint_eq(st.guest_mode, 0);
	ck_assert_uint_eq(st.reflected, 1);
}

static void expect_l0(uint64_t code)
{
	struct nest_svm_state st = {.size = sizeof(st)};

	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_L0_HANDLES);
	ck_assert_uint_eq(t.act.flags & NEST_SVM_ACT_F_REFLECTED, 0);
	ck_assert_uint_eq(t.act.exitcode, code);
	ck_assert_int_eq(nest_svm_get_state(t.ctx, t.vmcb01, &st), NEST_OK);
	ck_assert_uint_eq(st.guest_mode, 1);
	ck_assert_uint_eq(t.vmcb01->save.rip, VMRUN_RIP + 3);
	ck_assert_int_eq(nest_svm_resume_l2(t.ctx, &t.act), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
}

static void build_npt12(void);

/* ---- VMRUN and vmcb02 ---- */

START_TEST(vmrun_builds_vmcb02)
{
	const struct nest_vmcb_control *c2 = &t.vmcb02->control;
	unsigned n;

	l1_icpt(NEST_SVM_ICPT_CR_WRITE(3));
	v12.control.tsc_offset = 50;
	t.vmcb01->control.tsc_offset = 1000;
	v12.control.int_ctl = NEST_SVM_INT_CTL_V_IRQ | 0x5 | (0x31ull << 32);
	run_l2();
	/* Guest state from vmcb12. */
	ck_assert_uint_eq(t.vmcb02->save.rip, v12.save.rip);
	ck_assert_uint_eq(t.vmcb02->save.rsp, v12.save.rsp);
	ck_assert_uint_eq(t.vmcb02->save.rax, v12.save.rax);
	ck_assert_uint_eq(t.vmcb02->save.cr3, v12.save.cr3);
	ck_assert_uint_eq(t.vmcb02->save.efer, v12.save.efer);
	/* Control area: L0's resources, both sets of intercepts. */
	ck_assert_uint_eq(c2->asid, SIM_SVM_L2_ASID);
	ck_assert_uint_eq(c2->tlb_control, NEST_SVM_TLB_FLUSH_ASID);
	ck_assert(t.act.flags & NEST_SVM_ACT_F_TLB_FLUSH);
	ck_assert_uint_eq(c2->np_ctl, NEST_SVM_NP_ENABLE);
	ck_assert_uint_eq(c2->n_cr3, SIM_SVM_NPT01_NCR3);
	ck_assert_uint_eq(c2->msrpm_base_pa, SIM_SVM_HPA_MSRPM02);
	ck_assert_uint_eq(c2->iopm_base_pa, SIM_SVM_HPA_IOPM02);
	ck_assert_uint_eq(c2->tsc_offset, 1050);
	ck_assert_uint_eq(c2->clean, 0);
	ck_assert_uint_eq(c2->int_ctl, NEST_SVM_INT_CTL_V_IRQ | 0x5 | (0x31ull << 32) |
					   NEST_SVM_INT_CTL_V_INTR_MASKING);
	for (n = 0; n < NEST_SVM_INTERCEPT_WORDS * 32; n++) {
		const uint32_t *w2 = &c2->intercept_cr, *w12 = &v12.control.intercept_cr;

		if (((w12[n / 32] | l0_icpt[n / 32]) >> (n % 32)) & 1)
			ck_assert_msg((w2[n / 32] >> (n % 32)) & 1, "intercept %u lost", n);
	}
	ck_assert(c2->intercept_misc2 & (1u << (NEST_SVM_ICPT_VMLOAD % 32)));
	ck_assert(c2->intercept_misc2 & (1u << (NEST_SVM_ICPT_VMSAVE % 32)));
	/* L1 resumes after VMRUN at the next exit; L2 runs now with GIF set. */
	ck_assert_uint_eq(t.vmcb01->save.rip, VMRUN_RIP + 3);
}
END_TEST

START_TEST(vmrun_reads_l1_memory_once)
{
	v12.control.intercept_misc1 |=
	    (1u << (NEST_SVM_ICPT_MSR_PROT % 32)) | (1u << (NEST_SVM_ICPT_IOIO_PROT % 32));
	run_l2();
	/* vmcb12, the MSRPM and the IOPM: one read each. */
	ck_assert_uint_eq(t.sim.calls.read_l1, 3);
	ck_assert_uint_eq(t.sim.calls.write_l1, 0);
	/* L1 changing its map after VMRUN does not change this run. */
	memset(sim_ptr(&t.sim, SIM_SVM_MSRPM12, NEST_SVM_MSRPM_SIZE), 0xff, NEST_SVM_MSRPM_SIZE);
	t.regs.gpr[1] = X86_MSR_IA32_LSTAR;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_MSR, 1, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_L0_HANDLES);
	ck_assert_uint_eq(t.sim.calls.read_l1, 3);
}
END_TEST

START_TEST(cve_2021_3656_vmload_vmsave_stay_intercepted)
{
	v12.control.virt_ext = NEST_SVM_VIRT_EXT_V_VMLOAD | NEST_SVM_VIRT_EXT_LBR;
	run_l2();
	ck_assert(t.vmcb02->control.intercept_misc2 & (1u << (NEST_SVM_ICPT_VMLOAD % 32)));
	ck_assert(t.vmcb02->control.intercept_misc2 & (1u << (NEST_SVM_ICPT_VMSAVE % 32)));
	ck_assert_uint_eq(t.vmcb02->control.virt_ext & NEST_SVM_VIRT_EXT_V_VMLOAD, 0);
}
END_TEST

START_TEST(cve_2021_3653_int_ctl_is_filtered)
{
	v12.control.int_ctl = NEST_SVM_INT_CTL_AVIC_ENABLE | NEST_SVM_INT_CTL_V_NMI_ENABLE |
			      NEST_SVM_INT_CTL_X2AVIC_ENABLE | NEST_SVM_INT_CTL_V_TPR_MASK;
	v12.control.avic_backing_page = 0x1000;
	run_l2();
	ck_assert_uint_eq(t.vmcb02->control.int_ctl,
			  NEST_SVM_INT_CTL_V_TPR_MASK | NEST_SVM_INT_CTL_V_INTR_MASKING);
	ck_assert_uint_eq(t.vmcb02->control.avic_backing_page, 0);
}
END_TEST

START_TEST(vgif_is_passed_only_when_offered)
{
	v12.control.int_ctl = NEST_SVM_INT_CTL_V_GIF_ENABLE | NEST_SVM_INT_CTL_V_GIF;
	run_l2();
	ck_assert(t.vmcb02->control.int_ctl & NEST_SVM_INT_CTL_V_GIF_ENABLE);
	ck_assert_uint_eq(t.vmcb02->control.intercept_misc2 &
			      (1u << (NEST_SVM_ICPT_STGI % 32) | 1u << (NEST_SVM_ICPT_CLGI % 32)),
			  0);
	sim_svm_fini(&t);
	start(NEST_SVM_F_SUPPORTED & ~NEST_SVM_F_VGIF, 0);
	v12.control.int_ctl = NEST_SVM_INT_CTL_V_GIF_ENABLE | NEST_SVM_INT_CTL_V_GIF;
	run_l2();
	ck_assert_uint_eq(t.vmcb02->control.int_ctl & NEST_SVM_INT_CTL_V_GIF_ENABLE, 0);
	ck_assert(t.vmcb02->control.intercept_misc2 & (1u << (NEST_SVM_ICPT_STGI % 32)));
}
END_TEST

START_TEST(tsc_ratio_composes)
{
	t.regs.gpr[1] = X86_MSR_AMD_TSC_RATIO;
	t.vmcb01->save.rax = 0;
	t.regs.gpr[2] = 2; /* 2.0 */
	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_MSR, 1), NEST_OK);
	t.vmcb01->save.rip = VMRUN_RIP;
	t.vmcb01->control.tsc_offset = 1000;
	v12.control.tsc_offset = 50;
	run_l2();
	ck_assert_uint_eq(t.vmcb02->control.tsc_offset, 2050);
	ck_assert_uint_eq(t.act.tsc_ratio, 2ull << 32);
}
END_TEST

START_TEST(asid_switch_and_tlb_control_flush)
{
	run_l2();
	ck_assert_int_eq(nest_svm_force_exit(t.ctx, t.vmcb01, NEST_SVM_EXIT_INTR, 0, 0, &t.act),
			 NEST_OK);
	t.vmcb01->save.rip = VMRUN_RIP;
	run_l2(); /* same ASID, no TLB_CONTROL */
	ck_assert_uint_eq(t.vmcb02->control.tlb_control, NEST_SVM_TLB_DO_NOTHING);
	nest_svm_force_exit(t.ctx, t.vmcb01, NEST_SVM_EXIT_INTR, 0, 0, &t.act);
	t.vmcb01->save.rip = VMRUN_RIP;
	v12.control.asid = 2;
	run_l2();
	ck_assert_uint_eq(t.vmcb02->control.tlb_control, NEST_SVM_TLB_FLUSH_ASID);
	ck_assert_uint_eq(t.vmcb02->control.asid, SIM_SVM_L2_ASID);
	nest_svm_force_exit(t.ctx, t.vmcb01, NEST_SVM_EXIT_INTR, 0, 0, &t.act);
	t.vmcb01->save.rip = VMRUN_RIP;
	v12.control.tlb_control = NEST_SVM_TLB_FLUSH_ALL;
	run_l2();
	ck_assert_uint_eq(t.vmcb02->control.tlb_control, NEST_SVM_TLB_FLUSH_ASID);
	/* The flush is for the first run only. */
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_INTR, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.vmcb02->control.tlb_control, NEST_SVM_TLB_DO_NOTHING);
}
END_TEST

/* ---- intercept classes ---- */

START_TEST(cpuid_reflected_when_l1_intercepts)
{
	l1_icpt(NEST_SVM_ICPT_CPUID);
	run_l2();
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_CPUID, 0, 0), NEST_OK);
	expect_reflected(NEST_SVM_EXIT_CPUID, 0, 0);
}
END_TEST

/* L1 single-stepped its VMRUN (TF set): the #DB trap comes at the
 * #VMEXIT, before L1's next instruction, with DR6.BS. */
START_TEST(single_stepped_vmrun_traps_after_the_vmexit)
{
	l1_icpt(NEST_SVM_ICPT_CPUID);
	t.vmcb01->save.rflags = 0x2 | X86_RFLAGS_TF;
	run_l2();
	l2_ran();
	t.vmcb02->save.dr6 = 0xffff0ff0;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_CPUID, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert_uint_eq(t.vmcb01->save.rip, VMRUN_RIP + 3);
	ck_assert(t.vmcb01->save.rflags & X86_RFLAGS_TF);
	ck_assert_uint_eq(t.vmcb01->save.dr6, 0xffff0ff0 | X86_DR6_BS);
	ck_assert_uint_eq(t.vmcb01->control.event_inj, NEST_SVM_EVTINJ_VALID |
							   ((uint64_t)NEST_SVM_EVTINJ_TYPE_EXCEPTION
							    << NEST_SVM_EVTINJ_TYPE_SHIFT) |
							   X86_EXC_DB);
}
END_TEST

START_TEST(cpuid_is_l0s_when_only_l0_intercepts)
{
	run_l2();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_CPUID, 0, 0), NEST_OK);
	expect_l0(NEST_SVM_EXIT_CPUID);
}
END_TEST

START_TEST(hlt_reflected_or_l0s)
{
	run_l2();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_HLT, 0, 0), NEST_OK);
	expect_l0(NEST_SVM_EXIT_HLT);
	nest_svm_force_exit(t.ctx, t.vmcb01, NEST_SVM_EXIT_INTR, 0, 0, &t.act);
	t.vmcb01->save.rip = VMRUN_RIP;
	l1_icpt(NEST_SVM_ICPT_HLT);
	run_l2();
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_HLT, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.exitcode, NEST_SVM_EXIT_HLT);
	ck_assert(t.act.flags & NEST_SVM_ACT_F_REFLECTED);
}
END_TEST

START_TEST(ioio_follows_l1s_iopm)
{
	uint8_t *iopm12 = sim_ptr(&t.sim, SIM_SVM_IOPM12, NEST_SVM_IOPM_SIZE);
	uint64_t in60 = (0x60ull << 16) | NEST_SVM_IOIO_TYPE_IN | NEST_SVM_IOIO_SZ8;
	uint64_t out61w = (0x5full << 16) | NEST_SVM_IOIO_SZ16; /* ports 0x5f, 0x60 */
	uint64_t in70 = (0x70ull << 16) | NEST_SVM_IOIO_SZ8;

	iopm12[0x60 / 8] |= 1u << (0x60 % 8);
	t.l0_iopm[0x70 / 8] |= 1u << (0x70 % 8);
	l1_icpt(NEST_SVM_ICPT_IOIO_PROT);
	run_l2();
	/* The merged map has both. */
	ck_assert(t.iopm02[0x60 / 8] & (1u << (0x60 % 8)));
	ck_assert(t.iopm02[0x70 / 8] & (1u << (0x70 % 8)));
	ck_assert_int_eq(nest_svm_l1_intercepts(t.ctx, NEST_SVM_EXIT_IOIO, out61w, 0), 1);
	ck_assert_int_eq(nest_svm_l1_intercepts(t.ctx, NEST_SVM_EXIT_IOIO, in70, 0), 0);
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_IOIO, in70, 0x8002), NEST_OK);
	expect_l0(NEST_SVM_EXIT_IOIO);
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_IOIO, in60, 0x8002), NEST_OK);
	expect_reflected(NEST_SVM_EXIT_IOIO, in60, 0x8002);
}
END_TEST

/* L0 tracking writes to the map pages (nest_backend_ops::track_l1_writes). */
static void svm_l1_wrote(void *arg, uint64_t gpa)
{
	(void)arg;
	ck_assert_int_eq(nest_svm_l1_written(t.ctx, gpa), NEST_OK);
}

static void track_writes(bool on)
{
	t.sim.track_writes = on;
	t.sim.on_write = svm_l1_wrote;
	(void)sim_backend(&t.sim);
}

static void l1_sets_iopm_port(uint32_t port)
{
	uint64_t gpa = SIM_SVM_IOPM12 + port / 8;
	uint8_t b = *(uint8_t *)sim_ptr(&t.sim, gpa, 1) | (uint8_t)(1u << (port % 8));

	sim_l1_store(&t.sim, gpa, &b, 1);
}

static void expect_to_l1(uint64_t code)
{
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert(t.act.flags & NEST_SVM_ACT_F_REFLECTED);
	ck_assert_uint_eq(t.act.exitcode, code);
}

/* With the pages tracked, a VMRUN reads L1's maps only after a write to
 * them: 20 KiB fewer at each VMRUN than without the op. */
START_TEST(tracked_maps_are_read_only_after_a_write)
{
	uint64_t in60 = (0x60ull << 16) | NEST_SVM_IOIO_TYPE_IN | NEST_SVM_IOIO_SZ8;
	unsigned long tracked, untracked;

	l1_icpt(NEST_SVM_ICPT_IOIO_PROT);
	l1_icpt(NEST_SVM_ICPT_MSR_PROT);
	l1_icpt(NEST_SVM_ICPT_HLT);
	track_writes(true);
	run_l2();
	ck_assert_uint_eq(t.sim.ntracked, 5);
	ck_assert(sim_tracked(&t.sim, SIM_SVM_IOPM12 + 0x2000));
	ck_assert(sim_tracked(&t.sim, SIM_SVM_MSRPM12 + 0x1000));
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_IOIO, in60, 0x8002), NEST_OK);
	expect_l0(NEST_SVM_EXIT_IOIO);
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_HLT, 0, 0), NEST_OK);
	expect_to_l1(NEST_SVM_EXIT_HLT);
	l1_sets_iopm_port(0x60); /* outside guest mode: nothing exits yet */
	ck_assert(!sim_tracked(&t.sim, SIM_SVM_IOPM12));
	sim_reset_counters(&t.sim);
	run_l2();
	tracked = t.sim.calls.read_l1;
	ck_assert(sim_tracked(&t.sim, SIM_SVM_IOPM12));
	ck_assert(t.iopm02[0x60 / 8] & (1u << (0x60 % 8)));
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_IOIO, in60, 0x8002), NEST_OK);
	expect_to_l1(NEST_SVM_EXIT_IOIO);
	/* Nothing written: no map is read. */
	sim_reset_counters(&t.sim);
	run_l2();
	ck_assert_uint_eq(t.sim.calls.read_l1, tracked - 1);
	ck_assert_uint_eq(t.sim.calls.track_l1_writes, 0);
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_IOIO, in60, 0x8002), NEST_OK);
	expect_to_l1(NEST_SVM_EXIT_IOIO);
	/* Without the op both maps are read at every VMRUN. */
	track_writes(false);
	sim_reset_counters(&t.sim);
	run_l2();
	untracked = t.sim.calls.read_l1;
	ck_assert_uint_eq(untracked, tracked - 1 + 2);
}
END_TEST

/* Another vCPU (or a device) writes the IOPM while L2 runs: the next IN
 * follows the new bit (APM 15.10.1); the next VMRUN merges again. */
START_TEST(a_tracked_iopm_written_while_l2_runs_decides_the_next_in)
{
	uint64_t in60 = (0x60ull << 16) | NEST_SVM_IOIO_TYPE_IN | NEST_SVM_IOIO_SZ8;
	uint64_t in61 = (0x61ull << 16) | NEST_SVM_IOIO_TYPE_IN | NEST_SVM_IOIO_SZ8;

	l1_icpt(NEST_SVM_ICPT_IOIO_PROT);
	track_writes(true);
	run_l2();
	ck_assert_uint_eq(t.iopm02[0], 0);
	l1_sets_iopm_port(0x60);
	ck_assert_uint_eq(t.iopm02[0], 0xff);
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_IOIO, in61, 0x8002), NEST_OK);
	expect_l0(NEST_SVM_EXIT_IOIO);
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_IOIO, in60, 0x8002), NEST_OK);
	expect_to_l1(NEST_SVM_EXIT_IOIO);
	run_l2();
	ck_assert_uint_eq(t.iopm02[0], 0);
	ck_assert_uint_eq(t.iopm02[0x60 / 8], 1u << (0x60 % 8));
}
END_TEST

/* L2 writes the IOPM it runs under (reachable through NPT12): the next IN
 * follows the new bit, as the processor reads the map at each access
 * (APM 15.10.1); the next VMRUN merges the map again. */
START_TEST(ioio_follows_l2s_write_to_the_live_iopm)
{
	const uint64_t iopm_l1 = 0x300000; /* L2-physical 0x100000 through NPT12 */
	uint8_t *iopm12;
	uint64_t in60 = (0x60ull << 16) | NEST_SVM_IOIO_TYPE_IN | NEST_SVM_IOIO_SZ8;
	uint64_t in61 = (0x61ull << 16) | NEST_SVM_IOIO_TYPE_IN | NEST_SVM_IOIO_SZ8;

	sim_svm_fini(&t);
	start(NEST_SVM_F_SUPPORTED, 1);
	iopm12 = sim_ptr(&t.sim, iopm_l1, NEST_SVM_IOPM_SIZE);
	memset(iopm12, 0, NEST_SVM_IOPM_SIZE);
	build_npt12();
	l1_icpt(NEST_SVM_ICPT_IOIO_PROT);
	v12.control.iopm_base_pa = iopm_l1;
	run_l2();
	ck_assert_uint_eq(t.iopm02[0x60 / 8] & (1u << (0x60 % 8)), 0);
	/* L2 reads the map page: read-only in NPT02. */
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NPF, NEST_NPF_U | NEST_NPF_FINAL, 0x100000),
			 NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
	/* L2 writes it: libnest notes it, and every I/O exits from now on. */
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NPF,
				    NEST_NPF_P | NEST_NPF_W | NEST_NPF_U | NEST_NPF_FINAL,
				    0x100008),
			 NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
	ck_assert_uint_eq(t.iopm02[0x61 / 8] & (1u << (0x61 % 8)), 1u << (0x61 % 8));
	/* The write completes (a second fault installs a writable entry). */
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NPF,
				    NEST_NPF_P | NEST_NPF_W | NEST_NPF_U | NEST_NPF_FINAL,
				    0x100008),
			 NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
	iopm12[0x60 / 8] |= 1u << (0x60 % 8);
	/* Port 0x61 is still L1's to leave alone: L0 performs it. */
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_IOIO, in61, 0x8002), NEST_OK);
	expect_l0(NEST_SVM_EXIT_IOIO);
	/* Port 0x60 now exits to L1. */
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_IOIO, in60, 0x8002), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert_uint_eq(t.act.exitcode, NEST_SVM_EXIT_IOIO);
	/* The next VMRUN merges L1's map as it now is. */
	run_l2();
	ck_assert(t.iopm02[0x60 / 8] & (1u << (0x60 % 8)));
	ck_assert_uint_eq(t.iopm02[0x61 / 8] & (1u << (0x61 % 8)), 0);
}
END_TEST

START_TEST(ioio_without_iopm_intercept_is_l0s)
{
	/* IOPM bits set but IOIO_PROT clear: L1 does not intercept I/O. */
	memset(sim_ptr(&t.sim, SIM_SVM_IOPM12, NEST_SVM_IOPM_SIZE), 0xff, NEST_SVM_IOPM_SIZE);
	run_l2();
	ck_assert(t.vmcb02->control.intercept_misc1 & (1u << (NEST_SVM_ICPT_IOIO_PROT % 32)));
	ck_assert_uint_eq(t.iopm02[0x60 / 8], 0);
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_IOIO, 0x600010, 0), NEST_OK);
	expect_l0(NEST_SVM_EXIT_IOIO);
}
END_TEST

/* The same for the MSRPM (APM 15.11): L2 writes it, the next WRMSR follows,
 * and the IOPM, still watched, is not made live by that write. */
START_TEST(msr_follows_l2s_write_to_the_live_msrpm)
{
	const uint64_t msrpm_l1 = 0x340000; /* L2-physical 0x140000 through NPT12 */
	const uint64_t iopm_l1 = 0x300000;
	unsigned bit = 0x81 * 2 + 1; /* STAR write: range 1 at 0x800 */
	uint8_t *msrpm12;

	sim_svm_fini(&t);
	start(NEST_SVM_F_SUPPORTED, 1);
	msrpm12 = sim_ptr(&t.sim, msrpm_l1, NEST_SVM_MSRPM_SIZE);
	memset(msrpm12, 0, NEST_SVM_MSRPM_SIZE);
	memset(sim_ptr(&t.sim, iopm_l1, NEST_SVM_IOPM_SIZE), 0, NEST_SVM_IOPM_SIZE);
	build_npt12();
	l1_icpt(NEST_SVM_ICPT_MSR_PROT);
	l1_icpt(NEST_SVM_ICPT_IOIO_PROT);
	v12.control.msrpm_base_pa = msrpm_l1;
	v12.control.iopm_base_pa = iopm_l1;
	run_l2();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NPF, NEST_NPF_W | NEST_NPF_U | NEST_NPF_FINAL,
				    0x140000 + 0x800),
			 NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
	ck_assert_uint_eq(t.msrpm02[0x800 + bit / 8], 0xff);
	ck_assert_uint_eq(t.iopm02[0x60 / 8] & (1u << (0x60 % 8)), 0);
	msrpm12[0x800 + bit / 8] |= 1u << (bit % 8);
	t.regs.gpr[1] = X86_MSR_IA32_STAR;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_MSR, 0, 0), NEST_OK); /* read: L0's */
	expect_l0(NEST_SVM_EXIT_MSR);
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_MSR, 1, 0), NEST_OK);
	expect_reflected(NEST_SVM_EXIT_MSR, 1, 0);
	/* The IOPM page is still watched: L2's write to it is noticed too. */
	run_l2();
	ck_assert_uint_eq(t.msrpm02[0], 0);
	ck_assert_int_eq(
	    sim_svm_l2(&t, NEST_SVM_EXIT_NPF, NEST_NPF_W | NEST_NPF_U | NEST_NPF_FINAL, 0x100000),
	    NEST_OK);
	ck_assert_uint_eq(t.iopm02[0], 0xff);
}
END_TEST

START_TEST(msr_follows_l1s_msrpm)
{
	uint8_t *msrpm12 = sim_ptr(&t.sim, SIM_SVM_MSRPM12, NEST_SVM_MSRPM_SIZE);
	/* STAR (0xc0000081): range 1 at 0x800, write bit of MSR 0x81. */
	unsigned bit = 0x81 * 2 + 1;

	msrpm12[0x800 + bit / 8] |= 1u << (bit % 8);
	l1_icpt(NEST_SVM_ICPT_MSR_PROT);
	run_l2();
	ck_assert(t.msrpm02[0x800 + bit / 8] & (1u << (bit % 8)));
	t.regs.gpr[1] = X86_MSR_IA32_STAR;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_MSR, 0, 0), NEST_OK); /* read: not L1's */
	expect_l0(NEST_SVM_EXIT_MSR);
	/* MSRs outside the three ranges always exit to L1 when MSR_PROT is set. */
	ck_assert_int_eq(nest_svm_l1_intercepts(t.ctx, NEST_SVM_EXIT_MSR, 0, 0x40000000), 1);
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_MSR, 1, 0), NEST_OK);
	expect_reflected(NEST_SVM_EXIT_MSR, 1, 0);
}
END_TEST

START_TEST(l0_msrpm_bits_survive_the_merge)
{
	unsigned bit = (X86_MSR_IA32_EFER - 0xc0000000u) * 2 + 1;

	t.l0_msrpm[0x800 + bit / 8] |= 1u << (bit % 8);
	l1_icpt(NEST_SVM_ICPT_MSR_PROT); /* L1's map is all zero */
	run_l2();
	ck_assert(t.msrpm02[0x800 + bit / 8] & (1u << (bit % 8)));
	t.regs.gpr[1] = X86_MSR_IA32_EFER;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_MSR, 1, 0), NEST_OK);
	expect_l0(NEST_SVM_EXIT_MSR);
}
END_TEST

START_TEST(cr_and_dr_accesses)
{
	uint64_t info = (1ull << 63) | 3; /* decode assists: MOV CR3, RBX */

	l1_icpt(NEST_SVM_ICPT_CR_WRITE(3));
	l1_icpt(NEST_SVM_ICPT_DR_READ(7));
	run_l2();
	ck_assert_int_eq(nest_svm_l1_intercepts(t.ctx, NEST_SVM_EXIT_DR0_WRITE + 7, 0, 0), 0);
	ck_assert_int_eq(nest_svm_l1_intercepts(t.ctx, NEST_SVM_EXIT_DR0_READ + 7, 0, 0), 1);
	ck_assert_int_eq(nest_svm_l1_intercepts(t.ctx, NEST_SVM_EXIT_CR0_WRITE + 0, 0, 0), 0);
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_DR0_WRITE + 7, 0, 0), NEST_OK);
	expect_l0(NEST_SVM_EXIT_DR0_WRITE + 7);
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_CR0_WRITE + 3, info, 0), NEST_OK);
	expect_reflected(NEST_SVM_EXIT_CR0_WRITE + 3, info, 0);
}
END_TEST

START_TEST(exceptions_reflect_per_bitmap_and_mc_stays_l0s)
{
	l1_icpt(NEST_SVM_ICPT_EXCEPTION(X86_EXC_PF));
	l1_icpt(NEST_SVM_ICPT_EXCEPTION(X86_EXC_MC));
	run_l2();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_EXCP_BASE + X86_EXC_MC, 0, 0), NEST_OK);
	expect_l0(NEST_SVM_EXIT_EXCP_BASE + X86_EXC_MC);
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_EXCP_BASE + X86_EXC_UD, 0, 0), NEST_OK);
	expect_l0(NEST_SVM_EXIT_EXCP_BASE + X86_EXC_UD);
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_EXCP_BASE + X86_EXC_PF, 0x6, 0xbad000),
			 NEST_OK);
	expect_reflected(NEST_SVM_EXIT_EXCP_BASE + X86_EXC_PF, 0x6, 0xbad000);
}
END_TEST

START_TEST(npf_without_l1_nested_paging_is_l0s)
{
	run_l2();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NPF, 0x100000004ull, 0x5000), NEST_OK);
	expect_l0(NEST_SVM_EXIT_NPF);
}
END_TEST

/* NPT12: 4-level long-mode tables mapping L2-physical [0, 2 MiB) to
 * L1-physical [2 MiB, 4 MiB) with one large page. */
static void build_npt12(void)
{
	sim_write64(&t.sim, SIM_SVM_NPT12, (SIM_SVM_NPT12 + 0x1000) | 0x7);
	sim_write64(&t.sim, SIM_SVM_NPT12 + 0x1000, (SIM_SVM_NPT12 + 0x2000) | 0x7);
	sim_write64(&t.sim, SIM_SVM_NPT12 + 0x2000, 0x200000 | 0x87);
	v12.control.np_ctl = NEST_SVM_NP_ENABLE;
	v12.control.n_cr3 = SIM_SVM_NPT12;
}

START_TEST(npf_under_npt02_fixes_or_reflects)
{
	struct nest_vmcb m;

	sim_svm_fini(&t);
	start(NEST_SVM_F_SUPPORTED, 1);
	build_npt12();
	run_l2();
	ck_assert_uint_ne(t.vmcb02->control.n_cr3, SIM_SVM_NPT01_NCR3);
	ck_assert_uint_eq(t.vmcb02->save.g_pat, v12.save.g_pat);
	/* Mapped by NPT12: libnest fills NPT02 and L2 runs again. */
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NPF, NEST_NPF_U | NEST_NPF_FINAL, 0x3000),
			 NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
	/* Not mapped by NPT12: a #NPF for L1. */
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NPF, NEST_NPF_U | NEST_NPF_FINAL, 0x40000000),
			 NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert_uint_eq(t.act.exitcode, NEST_SVM_EXIT_NPF);
	sim_svm_read_vmcb12(&t, &m);
	ck_assert_uint_eq(m.control.exitcode, NEST_SVM_EXIT_NPF);
	ck_assert_uint_eq(m.control.exitinfo2, 0x40000000);
	ck_assert_uint_eq(m.control.exitinfo1 & NEST_NPF_P, 0);
	ck_assert_uint_eq(m.save.g_pat, v12.save.g_pat);
	ck_assert_uint_eq(m.save.rip, t.vmcb02->save.rip);
}
END_TEST

START_TEST(intr_with_v_intr_masking)
{
	struct nest_svm_state st = {.size = sizeof(st)};

	l1_icpt(NEST_SVM_ICPT_INTR);
	v12.control.int_ctl = NEST_SVM_INT_CTL_V_INTR_MASKING;
	t.vmcb01->save.rflags = 0x2; /* L1's IF clear at VMRUN */
	run_l2();
	t.vmcb02->save.rflags = 0x202; /* L2's IF set */
	/* A physical interrupt is L0's, whoever intercepts INTR. */
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_INTR, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_L0_HANDLES);
	nest_svm_get_state(t.ctx, t.vmcb01, &st);
	ck_assert_uint_eq(st.l1_intercepts_intr, 1);
	ck_assert_uint_eq(st.v_intr_masking, 1);
	/* L1's IF at VMRUN masks L1's interrupts, not L2's IF (APM 15.21.1). */
	ck_assert_uint_eq(st.l1_intr_allowed, 0);
	/* L0 delivers one to L1: #VMEXIT(INTR). */
	l2_ran();
	ck_assert_int_eq(nest_svm_force_exit(t.ctx, t.vmcb01, NEST_SVM_EXIT_INTR, 0, 0, &t.act),
			 NEST_OK);
	t.vmcb01->save.rflags = 0x2;
	expect_reflected(NEST_SVM_EXIT_INTR, 0, 0);
}
END_TEST

/* Who masks physical interrupts while L2 runs (APM 15.21.1): vmcb02 keeps
 * V_INTR_MASKING on for an L0 that intercepts INTR; for one that hands
 * interrupts to L1, vmcb12's choice stands (L2's IF gates them when off). */
START_TEST(v_intr_masking_is_l1s_unless_l0_intercepts_intr)
{
	uint32_t icpt[NEST_SVM_INTERCEPT_WORDS] = {0};

	v12.control.int_ctl = 0;
	run_l2();
	ck_assert(t.vmcb02->control.int_ctl & NEST_SVM_INT_CTL_V_INTR_MASKING);
	sim_svm_fini(&t);
	icpt_set(icpt, NEST_SVM_ICPT_CPUID); /* no INTR for L0 */
	ck_assert_int_eq(sim_svm_init(&t, NEST_SVM_F_SUPPORTED, ALL_FLAGS, 0, icpt), 0);
	run_l2();
	ck_assert_uint_eq(t.vmcb02->control.int_ctl & NEST_SVM_INT_CTL_V_INTR_MASKING, 0);
	ck_assert(t.vmcb02->control.intercept_misc1 & (1u << (NEST_SVM_ICPT_CPUID % 32)));
	v12.control.int_ctl = NEST_SVM_INT_CTL_V_INTR_MASKING;
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_VMRUN, 0, 0), NEST_OK);
	run_l2();
	ck_assert(t.vmcb02->control.int_ctl & NEST_SVM_INT_CTL_V_INTR_MASKING);
}
END_TEST

START_TEST(intr_without_v_intr_masking_follows_l2_if)
{
	struct nest_svm_state st = {.size = sizeof(st)};

	l1_icpt(NEST_SVM_ICPT_INTR);
	l1_icpt(NEST_SVM_ICPT_NMI);
	v12.control.int_ctl = 0;
	t.vmcb01->save.rflags = 0x2;
	run_l2();
	t.vmcb02->save.rflags = 0x202;
	nest_svm_get_state(t.ctx, t.vmcb01, &st);
	ck_assert_uint_eq(st.v_intr_masking, 0);
	ck_assert_uint_eq(st.l1_intr_allowed, 1);
	ck_assert_uint_eq(st.l1_intercepts_nmi, 1);
	/* vmcb02 keeps V_INTR_MASKING: physical interrupts stay L0's. */
	ck_assert(t.vmcb02->control.int_ctl & NEST_SVM_INT_CTL_V_INTR_MASKING);
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NMI, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_L0_HANDLES);
}
END_TEST

START_TEST(vmrun_by_l2_is_reflected)
{
	run_l2();
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_VMRUN, 0, 0), NEST_OK);
	expect_reflected(NEST_SVM_EXIT_VMRUN, 0, 0);
}
END_TEST

/* L2 stays in vmcb02's RIP + 3 after an SVM instruction libnest ran for it. */
static void expect_l2_went_on(uint64_t rip)
{
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
	ck_assert_uint_eq(t.vmcb02->control.event_inj, 0);
	ck_assert_uint_eq(t.vmcb02->save.rip, rip + 3);
}

START_TEST(vmload_vmsave_by_l2)
{
	struct nest_vmcb area;
	uint64_t rip;

	l1_icpt(NEST_SVM_ICPT_VMSAVE);
	run_l2();
	/* vmcb02 intercepts both whatever L1 asks (CVE-2021-3656). */
	ck_assert(t.vmcb02->control.intercept_misc2 & (1u << (NEST_SVM_ICPT_VMLOAD % 32)));
	ck_assert(t.vmcb02->control.intercept_misc2 & (1u << (NEST_SVM_ICPT_VMSAVE % 32)));
	/* Not intercepted by L1: L2's VMLOAD loads L2's state from the VMCB
	 * at its rAX (APM 15.5.2), here L1-physical (no NPT12). */
	memset(&area, 0, sizeof(area));
	area.save.fs.base = 0x1234f5;
	area.save.lstar = 0xffff800000001000ull;
	area.save.sysenter_cs = 0x10;
	memcpy(sim_ptr(&t.sim, SIM_SVM_VMLOAD_AREA, sizeof(area)), &area, sizeof(area));
	t.vmcb02->save.rax = SIM_SVM_VMLOAD_AREA;
	rip = t.vmcb02->save.rip;
	t.vmcb02->control.next_rip = 0;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_VMLOAD, 0, 0), NEST_OK);
	expect_l2_went_on(rip);
	ck_assert_uint_eq(t.vmcb02->save.fs.base, 0x1234f5);
	ck_assert_uint_eq(t.vmcb02->save.lstar, 0xffff800000001000ull);
	ck_assert_uint_eq(t.vmcb02->save.sysenter_cs, 0x10);
	/* A misaligned operand is #GP(0) in L2. */
	t.vmcb02->save.rax = SIM_SVM_VMLOAD_AREA + 8;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_VMLOAD, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
	ck_assert_uint_eq(t.vmcb02->control.event_inj,
			  NEST_SVM_EVTINJ_VALID | NEST_SVM_EVTINJ_EV | (3ull << 8) | X86_EXC_GP);
	t.vmcb02->control.event_inj = 0;
	/* L1 intercepts VMSAVE: reflected. */
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_VMSAVE, 0, 0), NEST_OK);
	expect_reflected(NEST_SVM_EXIT_VMSAVE, 0, 0);
}
END_TEST

START_TEST(vmsave_by_l2_goes_through_npt12)
{
	struct nest_vmcb m;

	sim_svm_fini(&t);
	start(NEST_SVM_F_SUPPORTED, 1);
	build_npt12(); /* L2-physical [0, 2 MiB) is L1-physical [2 MiB, 4 MiB) */
	run_l2();
	t.vmcb02->save.kernel_gs_base = 0x6565;
	t.vmcb02->save.rax = 0x5000;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_VMSAVE, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
	memcpy(&m, sim_ptr(&t.sim, 0x205000, sizeof(m)), sizeof(m));
	ck_assert_uint_eq(m.save.kernel_gs_base, 0x6565);
	/* L1-physical 0x5000 itself is untouched. */
	memcpy(&m, sim_ptr(&t.sim, 0x5000, sizeof(m)), sizeof(m));
	ck_assert_uint_eq(m.save.kernel_gs_base, 0);
	/* An address NPT12 does not map is L1's #NPF, on the final address. */
	l2_ran();
	t.vmcb02->save.rax = 0x40000000;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_VMSAVE, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	sim_svm_read_vmcb12(&t, &m);
	ck_assert_uint_eq(m.control.exitcode, NEST_SVM_EXIT_NPF);
	ck_assert_uint_eq(m.control.exitinfo2, 0x40000000);
	ck_assert_uint_eq(m.control.exitinfo1, NEST_NPF_W | NEST_NPF_U | NEST_NPF_FINAL);
}
END_TEST

START_TEST(stgi_clgi_by_l2_with_vgif)
{
	uint64_t rip;

	v12.control.int_ctl = NEST_SVM_INT_CTL_V_GIF_ENABLE | NEST_SVM_INT_CTL_V_GIF;
	run_l2();
	rip = t.vmcb02->save.rip;
	t.vmcb02->control.next_rip = 0;
	/* vmcb02 may intercept them for L0: L2's CLGI still clears V_GIF. */
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_CLGI, 0, 0), NEST_OK);
	expect_l2_went_on(rip);
	ck_assert_uint_eq(t.vmcb02->control.int_ctl & NEST_SVM_INT_CTL_V_GIF, 0);
	ck_assert(t.vmcb02->control.int_ctl & NEST_SVM_INT_CTL_V_GIF_ENABLE);
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_STGI, 0, 0), NEST_OK);
	expect_l2_went_on(rip + 3);
	ck_assert(t.vmcb02->control.int_ctl & NEST_SVM_INT_CTL_V_GIF);
	/* Above CPL 0: #GP(0), V_GIF unchanged. */
	t.vmcb02->save.cpl = 3;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_CLGI, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.vmcb02->control.event_inj & 0xff, X86_EXC_GP);
	ck_assert(t.vmcb02->control.int_ctl & NEST_SVM_INT_CTL_V_GIF);
	/* V_GIF goes back to vmcb12 with the next #VMEXIT. */
	t.vmcb02->control.event_inj = 0;
	t.vmcb02->save.cpl = 0;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_CLGI, 0, 0), NEST_OK);
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_VMRUN, 0, 0), NEST_OK);
	{
		struct nest_vmcb m;

		sim_svm_read_vmcb12(&t, &m);
		ck_assert_uint_eq(m.control.int_ctl & NEST_SVM_INT_CTL_V_GIF, 0);
	}
}
END_TEST

/* Without vGIF, L2's CLGI clears the processor's GIF: libnest keeps it
 * and asks L0 to hold physical interrupts until L2's STGI. */
START_TEST(clgi_by_l2_without_vgif_holds_interrupts)
{
	uint32_t icpt[NEST_SVM_INTERCEPT_WORDS] = {0};
	struct nest_svm_state st = {.size = sizeof(st)};
	uint64_t rip;

	sim_svm_fini(&t);
	icpt_set(icpt, NEST_SVM_ICPT_CPUID); /* L0 hands interrupts to L1 */
	ck_assert_int_eq(sim_svm_init(&t, NEST_SVM_F_SUPPORTED, ALL_FLAGS, 0, icpt), 0);
	l1_icpt(NEST_SVM_ICPT_INTR);
	v12.control.int_ctl = 0; /* L2's IF gates physical interrupts */
	run_l2();
	ck_assert_uint_eq(t.act.flags & NEST_SVM_ACT_F_HOLD_INTR, 0);
	t.vmcb02->save.rflags = 0x202;
	rip = t.vmcb02->save.rip;
	t.vmcb02->control.next_rip = 0;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_CLGI, 0, 0), NEST_OK);
	expect_l2_went_on(rip);
	ck_assert(t.act.flags & NEST_SVM_ACT_F_HOLD_INTR);
	ck_assert(t.vmcb02->control.int_ctl & NEST_SVM_INT_CTL_V_INTR_MASKING);
	ck_assert_int_eq(nest_svm_get_state(t.ctx, t.vmcb01, &st), NEST_OK);
	ck_assert_uint_eq(st.l1_intr_allowed, 0);
	/* Any later run of L2 holds them too, until STGI. */
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_CPUID, 0, 0), NEST_OK);
	ck_assert_int_eq(nest_svm_resume_l2(t.ctx, &t.act), NEST_OK);
	ck_assert(t.act.flags & NEST_SVM_ACT_F_HOLD_INTR);
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_STGI, 0, 0), NEST_OK);
	expect_l2_went_on(rip + 3);
	ck_assert_uint_eq(t.act.flags & NEST_SVM_ACT_F_HOLD_INTR, 0);
	ck_assert_uint_eq(t.vmcb02->control.int_ctl & NEST_SVM_INT_CTL_V_INTR_MASKING, 0);
	ck_assert_int_eq(nest_svm_get_state(t.ctx, t.vmcb01, &st), NEST_OK);
	ck_assert_uint_eq(st.l1_intr_allowed, 1);
	/* The next VMRUN starts with GIF set. */
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_CLGI, 0, 0), NEST_OK);
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_VMRUN, 0, 0), NEST_OK);
	run_l2();
	ck_assert_uint_eq(t.act.flags & NEST_SVM_ACT_F_HOLD_INTR, 0);
}
END_TEST

START_TEST(vmcb02_refused_by_the_cpu_is_l1s_vmexit_invalid)
{
	struct nest_vmcb m;

	run_l2();
	l2_ran();
	/* An event the processor will not inject (an "exception" 2). */
	t.vmcb02->control.event_inj = NEST_SVM_EVTINJ_VALID | (3ull << 8) | 2;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_INVALID, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert(t.act.flags & NEST_SVM_ACT_F_INVALID);
	ck_assert_uint_eq(t.act.exitcode, NEST_SVM_EXIT_INVALID);
	sim_svm_read_vmcb12(&t, &m);
	ck_assert_uint_eq(m.control.exitcode, NEST_SVM_EXIT_INVALID);
	ck_assert_uint_eq(m.save.rip, t.vmcb02->save.rip);
	/* L1 runs again, out of guest mode. */
	ck_assert_uint_eq(t.vmcb01->save.rip, VMRUN_RIP + 3);
}
END_TEST

START_TEST(shutdown_reflected_or_l1_shuts_down)
{
	l1_icpt(NEST_SVM_ICPT_SHUTDOWN);
	run_l2();
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_SHUTDOWN, 0, 0), NEST_OK);
	expect_reflected(NEST_SVM_EXIT_SHUTDOWN, 0, 0);
	t.vmcb01->save.rip = VMRUN_RIP;
	v12.control.intercept_misc1 &= ~(1u << (NEST_SVM_ICPT_SHUTDOWN % 32));
	run_l2();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_SHUTDOWN, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_SHUTDOWN_L1);
}
END_TEST

/* ---- events being delivered ---- */

START_TEST(eventinj_reaches_vmcb02)
{
	v12.control.event_inj =
	    NEST_SVM_EVTINJ_VALID | NEST_SVM_EVTINJ_EV | (3ull << 8) | X86_EXC_GP | (0x18ull << 32);
	run_l2();
	ck_assert_uint_eq(t.vmcb02->control.event_inj, v12.control.event_inj);
}
END_TEST

START_TEST(exitintinfo_of_l0_exit_is_reinjected)
{
	uint64_t ev = NEST_SVM_EVTINJ_VALID | (0ull << 8) | 0x31;

	run_l2();
	t.vmcb02->control.exitintinfo = ev;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NPF, 0x4, 0x9000), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_L0_HANDLES);
	ck_assert_int_eq(nest_svm_resume_l2(t.ctx, &t.act), NEST_OK);
	ck_assert_uint_eq(t.vmcb02->control.event_inj, ev);
	ck_assert_uint_eq(t.vmcb02->control.exitintinfo, 0);
}
END_TEST

START_TEST(soft_interrupt_reinjected_with_l1s_next_rip)
{
	uint64_t ev = NEST_SVM_EVTINJ_VALID | ((uint64_t)NEST_SVM_EVTINJ_TYPE_SOFT << 8) | 0x80;

	v12.control.event_inj = ev;
	v12.control.next_rip = 0x8002;
	run_l2();
	ck_assert_uint_eq(t.vmcb02->control.next_rip, 0x8002);
	/* Delivery hit an NPT01 fault: the hardware reports the event, its
	 * NEXT_RIP is gone. */
	t.vmcb02->control.event_inj = 0;
	t.vmcb02->control.exitintinfo = ev;
	t.vmcb02->control.next_rip = 0;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NPF, 0x6, 0x7ff8), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_L0_HANDLES);
	ck_assert_int_eq(nest_svm_resume_l2(t.ctx, &t.act), NEST_OK);
	ck_assert_uint_eq(t.vmcb02->control.event_inj, ev);
	ck_assert_uint_eq(t.vmcb02->control.next_rip, 0x8002);
}
END_TEST

/* L2's own INT3, INTO or INTn whose delivery an L0 exit interrupted (a
 * fault on NPT02 under the IDT or the stack): not injected again, since
 * RIP still points at the instruction and an injection would push a return
 * address the exit did not save; the instruction runs again. An event L1
 * injected is delivered again whatever its type. */
START_TEST(l2s_own_software_event_runs_its_instruction_again)
{
	static const uint64_t own[] = {
	    NEST_SVM_EVTINJ_VALID | ((uint64_t)NEST_SVM_EVTINJ_TYPE_EXCEPTION << 8) | X86_EXC_BP,
	    NEST_SVM_EVTINJ_VALID | ((uint64_t)NEST_SVM_EVTINJ_TYPE_EXCEPTION << 8) | X86_EXC_OF,
	    NEST_SVM_EVTINJ_VALID | ((uint64_t)NEST_SVM_EVTINJ_TYPE_SOFT << 8) | X86_EXC_BP,
	    NEST_SVM_EVTINJ_VALID | ((uint64_t)NEST_SVM_EVTINJ_TYPE_SOFT << 8) | 0x80,
	};
	const uint64_t hw =
	    NEST_SVM_EVTINJ_VALID | ((uint64_t)NEST_SVM_EVTINJ_TYPE_EXCEPTION << 8) | X86_EXC_DB;
	unsigned i;

	run_l2();
	l2_ran();
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
		t.vmcb02->save.rip = 0x5000 + i;
		t.vmcb02->control.exitintinfo = own[i];
		ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NPF, 0x6, 0x7ff8), NEST_OK);
		ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_L0_HANDLES);
		ck_assert_int_eq(nest_svm_resume_l2(t.ctx, &t.act), NEST_OK);
		ck_assert_uint_eq(t.vmcb02->control.event_inj, 0);
		ck_assert_uint_eq(t.vmcb02->save.rip, 0x5000 + i);
		ck_assert_uint_eq(t.vmcb02->control.exitintinfo, 0);
	}
	/* A #DB (not an instruction's own event) is delivered again. */
	t.vmcb02->control.exitintinfo = hw;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NPF, 0x6, 0x7ff8), NEST_OK);
	ck_assert_int_eq(nest_svm_resume_l2(t.ctx, &t.act), NEST_OK);
	ck_assert_uint_eq(t.vmcb02->control.event_inj, hw);
}
END_TEST

START_TEST(l1s_injected_breakpoint_is_delivered_again)
{
	const uint64_t ev =
	    NEST_SVM_EVTINJ_VALID | ((uint64_t)NEST_SVM_EVTINJ_TYPE_EXCEPTION << 8) | X86_EXC_BP;

	v12.control.event_inj = ev;
	run_l2();
	t.vmcb02->control.event_inj = 0;
	t.vmcb02->control.exitintinfo = ev;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NPF, 0x6, 0x7ff8), NEST_OK);
	ck_assert_int_eq(nest_svm_resume_l2(t.ctx, &t.act), NEST_OK);
	ck_assert_uint_eq(t.vmcb02->control.event_inj, ev);
	/* Delivered at last; L2's own INT3 later is L2's. */
	t.vmcb02->control.event_inj = 0;
	t.vmcb02->control.exitintinfo = 0;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NPF, 0x6, 0x7ff8), NEST_OK);
	ck_assert_int_eq(nest_svm_resume_l2(t.ctx, &t.act), NEST_OK);
	t.vmcb02->control.exitintinfo = ev;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NPF, 0x6, 0x7ff8), NEST_OK);
	ck_assert_int_eq(nest_svm_resume_l2(t.ctx, &t.act), NEST_OK);
	ck_assert_uint_eq(t.vmcb02->control.event_inj, 0);
}
END_TEST

/* An exception L0 raises in L2 (its emulation of L2's MSR access faulted):
 * #VMEXIT(exception) when L1 intercepts it (APM 15.12), else EVENTINJ. */
START_TEST(exception_l0_raises_in_l2_follows_l1s_intercept)
{
	l1_icpt(NEST_SVM_ICPT_EXCEPTION(X86_EXC_PF));
	v12.save.cr0 |= X86_CR0_PE;
	run_l2();
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NPF, 0x6, 0x7ff8), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_L0_HANDLES);
	/* Not intercepted: delivered to L2 with its error code. */
	ck_assert_int_eq(nest_svm_l2_exception(t.ctx, t.vmcb01, X86_EXC_GP, 0x20, 0, &t.act),
			 NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
	ck_assert_uint_eq(t.vmcb02->control.event_inj,
			  NEST_SVM_EVTINJ_VALID | NEST_SVM_EVTINJ_EV |
			      ((uint64_t)NEST_SVM_EVTINJ_TYPE_EXCEPTION << 8) | X86_EXC_GP |
			      (0x20ull << 32));
	/* An event on its way already: the caller's to combine. */
	ck_assert_int_eq(nest_svm_l2_exception(t.ctx, t.vmcb01, X86_EXC_UD, 0, 0, &t.act),
			 NEST_E_STATE);
	t.vmcb02->control.event_inj = 0;
	ck_assert_int_eq(nest_svm_l2_exception(t.ctx, t.vmcb01, X86_EXC_NMI, 0, 0, &t.act),
			 NEST_E_INVAL);
	/* Intercepted #PF: EXITINFO1 the error code, EXITINFO2 the address. */
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NPF, 0x6, 0x7ff8), NEST_OK);
	ck_assert_int_eq(
	    nest_svm_l2_exception(t.ctx, t.vmcb01, X86_EXC_PF, X86_PFEC_W, 0x5000, &t.act),
	    NEST_OK);
	expect_reflected(NEST_SVM_EXIT_EXCP_BASE + X86_EXC_PF, X86_PFEC_W, 0x5000);
}
END_TEST

START_TEST(page_fault_l0_raises_in_l2_sets_cr2_when_delivered)
{
	v12.save.cr0 |= X86_CR0_PE;
	run_l2();
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_NPF, 0x6, 0x7ff8), NEST_OK);
	ck_assert_int_eq(
	    nest_svm_l2_exception(t.ctx, t.vmcb01, X86_EXC_PF, X86_PFEC_P, 0x6000, &t.act),
	    NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
	ck_assert_uint_eq(t.vmcb02->save.cr2, 0x6000);
	ck_assert_uint_eq(t.vmcb02->control.event_inj & 0xffffffffu,
			  NEST_SVM_EVTINJ_VALID | NEST_SVM_EVTINJ_EV |
			      ((uint64_t)NEST_SVM_EVTINJ_TYPE_EXCEPTION << 8) | X86_EXC_PF);
}
END_TEST

START_TEST(exitintinfo_of_l1_exit_goes_to_vmcb12)
{
	struct nest_vmcb m;
	uint64_t ev =
	    NEST_SVM_EVTINJ_VALID | NEST_SVM_EVTINJ_EV | (3ull << 8) | X86_EXC_PF | (2ull << 32);

	l1_icpt(NEST_SVM_ICPT_EXCEPTION(X86_EXC_PF));
	run_l2();
	l2_ran();
	t.vmcb02->control.exitintinfo = ev;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_EXCP_BASE + X86_EXC_PF, 2, 0x1000), NEST_OK);
	expect_reflected(NEST_SVM_EXIT_EXCP_BASE + X86_EXC_PF, 2, 0x1000);
	sim_svm_read_vmcb12(&t, &m);
	ck_assert_uint_eq(m.control.exitintinfo, ev);
}
END_TEST

START_TEST(undelivered_eventinj_becomes_exitintinfo)
{
	struct nest_vmcb m;

	v12.control.event_inj = NEST_SVM_EVTINJ_VALID | 0x40;
	run_l2();
	l2_ran();
	/* L0 synthesizes an exit before L2 ran: the injection is pending. */
	ck_assert_int_eq(nest_svm_force_exit(t.ctx, t.vmcb01, NEST_SVM_EXIT_INTR, 0, 0, &t.act),
			 NEST_OK);
	sim_svm_read_vmcb12(&t, &m);
	ck_assert_uint_eq(m.control.exitintinfo, NEST_SVM_EVTINJ_VALID | 0x40);
	ck_assert_uint_eq(m.control.event_inj, 0);
}
END_TEST

START_TEST(interrupt_shadow_and_v_irq_go_back)
{
	struct nest_vmcb m;

	l1_icpt(NEST_SVM_ICPT_HLT);
	v12.control.int_ctl = NEST_SVM_INT_CTL_V_IRQ | 0x3 | NEST_SVM_INT_CTL_V_INTR_MASKING;
	run_l2();
	l2_ran();
	/* L2 took the virtual interrupt and raised its TPR. */
	t.vmcb02->control.int_ctl = (t.vmcb02->control.int_ctl & ~0x1ffull) | 0x8;
	t.vmcb02->control.int_state = NEST_SVM_INT_STATE_SHADOW;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_HLT, 0, 0), NEST_OK);
	sim_svm_read_vmcb12(&t, &m);
	ck_assert_uint_eq(m.control.int_ctl, 0x8 | NEST_SVM_INT_CTL_V_INTR_MASKING);
	ck_assert_uint_eq(m.control.int_state,
			  NEST_SVM_INT_STATE_SHADOW | NEST_SVM_INT_STATE_GUEST_MASK);
}
END_TEST

START_TEST(no_nrip_when_not_offered)
{
	struct nest_vmcb m;

	sim_svm_fini(&t);
	start(NEST_SVM_F_SUPPORTED & ~NEST_SVM_F_NRIPS, 0);
	l1_icpt(NEST_SVM_ICPT_CPUID);
	run_l2();
	l2_ran();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_CPUID, 0, 0), NEST_OK);
	sim_svm_read_vmcb12(&t, &m);
	ck_assert_uint_eq(m.control.next_rip, 0);
}
END_TEST

START_TEST(round_trip_backend_calls)
{
	l1_icpt(NEST_SVM_ICPT_CPUID);
	run_l2();
	ck_assert_uint_eq(sim_total_calls(&t.sim), 1); /* vmcb12 */
	sim_reset_counters(&t.sim);
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_CPUID, 0, 0), NEST_OK);
	/* Two writes: the control fields and the save area of vmcb12. */
	ck_assert_uint_eq(t.sim.calls.write_l1, 2);
	ck_assert_uint_eq(sim_total_calls(&t.sim), 2);
}
END_TEST

START_TEST(l0_map_changes_need_the_call)
{
	run_l2();
	ck_assert_uint_eq(t.iopm02[0x80 / 8], 0);
	nest_svm_force_exit(t.ctx, t.vmcb01, NEST_SVM_EXIT_INTR, 0, 0, &t.act);
	t.vmcb01->save.rip = VMRUN_RIP;
	t.l0_iopm[0x80 / 8] = 1;
	ck_assert_int_eq(nest_svm_l0_maps_changed(t.ctx), NEST_OK);
	run_l2();
	ck_assert_uint_eq(t.iopm02[0x80 / 8], 1);
}
END_TEST

START_TEST(selective_cr0_write_hidden_by_l0)
{
	uint64_t info = (1ull << 63) | 3; /* MOV CR0, RBX */

	sim_svm_fini(&t);
	memset(l0_icpt, 0, sizeof(l0_icpt));
	icpt_set(l0_icpt, NEST_SVM_ICPT_CR_WRITE(0));
	ck_assert_int_eq(sim_svm_init(&t, NEST_SVM_F_SUPPORTED, ALL_FLAGS, 0, l0_icpt), 0);
	sim_svm_valid_vmcb12(&v12);
	l1_icpt(NEST_SVM_ICPT_CR0_SEL_WRITE);
	run_l2();
	/* Only TS changes: not selective, L0's. */
	t.regs.gpr[3] = t.vmcb02->save.cr0 | X86_CR0_TS;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_CR0_WRITE, info, 0), NEST_OK);
	expect_l0(NEST_SVM_EXIT_CR0_WRITE);
	/* CD changes: L1 sees its selective-write exit. */
	l2_ran();
	t.regs.gpr[3] = t.vmcb02->save.cr0 | X86_CR0_CD;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_CR0_WRITE, info, 0), NEST_OK);
	expect_reflected(NEST_SVM_EXIT_CR0_SEL_WRITE, info, 0);
}
END_TEST

START_TEST(l0_vgif_keeps_l1_gif_in_vmcb01)
{
	struct nest_svm_state st = {.size = sizeof(st)};

	sim_svm_fini(&t);
	ck_assert_int_eq(
	    sim_svm_init(&t, NEST_SVM_F_SUPPORTED, ALL_FLAGS | NEST_SVM_CFG_L0_VGIF, 0, l0_icpt),
	    0);
	sim_svm_valid_vmcb12(&v12);
	l1_icpt(NEST_SVM_ICPT_CPUID);
	t.vmcb01->control.int_ctl |= NEST_SVM_INT_CTL_V_GIF_ENABLE | NEST_SVM_INT_CTL_V_GIF;
	run_l2();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_CPUID, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	/* #VMEXIT cleared L1's GIF: in vmcb01's V_GIF, which the hardware uses. */
	ck_assert_uint_eq(t.vmcb01->control.int_ctl & NEST_SVM_INT_CTL_V_GIF, 0);
	nest_svm_get_state(t.ctx, t.vmcb01, &st);
	ck_assert_uint_eq(st.gif, 0);
	/* L1 ran STGI natively (no exit): libnest reads V_GIF. */
	t.vmcb01->control.int_ctl |= NEST_SVM_INT_CTL_V_GIF;
	nest_svm_get_state(t.ctx, t.vmcb01, &st);
	ck_assert_uint_eq(st.gif, 1);
}
END_TEST

/* ---- features carried out in software (NEST_SVM_CFG_SOFT_*) ---- */

#define SOFT_FEATURES (NEST_SVM_F_NRIPS | NEST_SVM_F_PAUSE_FILTER | NEST_SVM_F_TSC_RATE)
#define SOFT_FLAGS                                                                                 \
	(NEST_SVM_CFG_SOFT_NRIPS | NEST_SVM_CFG_SOFT_PAUSE_FILTER | NEST_SVM_CFG_SOFT_TSC_RATE)

/* The context again, on a host without nRIP save, pause filter (count and
 * threshold) and TSC ratio, with the NEST_SVM_CFG_SOFT_* flags given. */
static void restart_without_soft_features(uint32_t soft_flags)
{
	uint64_t hw;

	t.cfg.host_cpuid[3] = SIM_SVM_HOST_FEATURES & ~(SOFT_FEATURES | NEST_SVM_F_PF_THRESHOLD);
	t.cfg.flags = ALL_FLAGS | soft_flags;
	ck_assert_int_eq(
	    nest_svm_init(t.ctx_mem, nest_svm_size(), sim_backend(&t.sim), &t.cfg, &t.ctx),
	    NEST_OK);
	hw = t.vmcb01->save.efer;
	ck_assert_int_eq(nest_svm_wrmsr(t.ctx, 0xc0000080u, hw, &hw, &t.act), NEST_OK);
	t.vmcb01->save.efer = hw;
}

static uint32_t offered(void)
{
	uint32_t r[4] = {0, 0, 0, 0};

	ck_assert_int_eq(nest_svm_cpuid(t.ctx, 0x8000000Au, 0, r), NEST_OK);
	return r[3];
}

START_TEST(soft_features_offered_only_with_their_flags)
{
	restart_without_soft_features(0);
	ck_assert_uint_eq(offered() & (SOFT_FEATURES | NEST_SVM_F_PF_THRESHOLD), 0);
	restart_without_soft_features(SOFT_FLAGS);
	ck_assert_uint_eq(offered() & (SOFT_FEATURES | NEST_SVM_F_PF_THRESHOLD), SOFT_FEATURES);
	/* The policy still decides. */
	t.cfg.features = NEST_SVM_F_SUPPORTED & ~NEST_SVM_F_NRIPS;
	restart_without_soft_features(SOFT_FLAGS);
	ck_assert_uint_eq(offered() & SOFT_FEATURES, NEST_SVM_F_PAUSE_FILTER | NEST_SVM_F_TSC_RATE);
	/* No software TSC ratio without guest_rdmsr to read the TSC. */
	t.cfg.features = NEST_SVM_F_SUPPORTED;
	t.sim.ops.guest_rdmsr = NULL;
	restart_without_soft_features(SOFT_FLAGS);
	ck_assert_uint_eq(offered() & SOFT_FEATURES, NEST_SVM_F_NRIPS | NEST_SVM_F_PAUSE_FILTER);
}
END_TEST

START_TEST(soft_nrip_from_l0s_length_on_the_exits_that_save_it)
{
	struct nest_vmcb m;
	uint64_t rip;

	restart_without_soft_features(NEST_SVM_CFG_SOFT_NRIPS);
	l1_icpt(NEST_SVM_ICPT_RDTSC);
	run_l2();
	rip = t.vmcb02->save.rip;
	t.regs.insn_len = 2;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_RDTSC, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	sim_svm_read_vmcb12(&t, &m);
	ck_assert_uint_eq(m.control.next_rip, rip + 2);
	ck_assert_uint_eq(m.save.rip, rip);

	/* IOIO: the next RIP is EXITINFO2 (APM 15.10.2). */
	memset(sim_ptr(&t.sim, SIM_SVM_IOPM12, NEST_SVM_IOPM_SIZE), 0xff, NEST_SVM_IOPM_SIZE);
	l1_icpt(NEST_SVM_ICPT_IOIO_PROT);
	t.vmcb01->save.rip = VMRUN_RIP;
	run_l2();
	t.regs.insn_len = 0;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_IOIO, (0x80ull << 16) | NEST_SVM_IOIO_SZ8,
				    t.vmcb02->save.rip + 1),
			 NEST_OK);
	sim_svm_read_vmcb12(&t, &m);
	ck_assert_uint_eq(m.control.next_rip, t.vmcb02->save.rip + 1);

	/* #BP of INT3: saved. */
	l1_icpt(NEST_SVM_ICPT_EXCEPTION(X86_EXC_BP));
	t.vmcb01->save.rip = VMRUN_RIP;
	run_l2();
	t.regs.insn_len = 1;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_EXCP_BASE + X86_EXC_BP, 0, 0), NEST_OK);
	sim_svm_read_vmcb12(&t, &m);
	ck_assert_uint_eq(m.control.next_rip, t.vmcb02->save.rip + 1);

	/* A CR read is not an instruction intercept of APM 15.9: 0, whatever
	 * the length; so is an event L0 forwards. */
	l1_icpt(NEST_SVM_ICPT_CR_READ(3));
	t.vmcb01->save.rip = VMRUN_RIP;
	run_l2();
	t.regs.insn_len = 3;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_CR0_READ + 3, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	sim_svm_read_vmcb12(&t, &m);
	ck_assert_uint_eq(m.control.next_rip, 0);
	t.vmcb01->save.rip = VMRUN_RIP;
	run_l2();
	ck_assert_int_eq(nest_svm_force_exit(t.ctx, t.vmcb01, NEST_SVM_EXIT_INTR, 0, 0, &t.act),
			 NEST_OK);
	sim_svm_read_vmcb12(&t, &m);
	ck_assert_uint_eq(m.control.next_rip, 0);
}
END_TEST

START_TEST(soft_nrip_software_interrupt_returns_to_next_rip)
{
	struct nest_vmcb m;
	uint64_t ev = NEST_SVM_EVTINJ_VALID | ((uint64_t)NEST_SVM_EVTINJ_TYPE_SOFT << 8) | 0x80;

	restart_without_soft_features(NEST_SVM_CFG_SOFT_NRIPS);
	l1_icpt(NEST_SVM_ICPT_EXCEPTION(X86_EXC_PF));
	v12.control.event_inj = ev;
	v12.control.next_rip = v12.save.rip + 2;
	run_l2();
	/* The host pushes RIP: vmcb02 starts past the INT. */
	ck_assert_uint_eq(t.vmcb02->save.rip, v12.save.rip + 2);
	ck_assert_uint_eq(t.vmcb02->control.event_inj, ev);
	/* The delivery faults (#PF on the IDT): L1 sees L2 at the INT. */
	t.vmcb02->control.event_inj = 0;
	t.vmcb02->control.exitintinfo = ev;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_EXCP_BASE + X86_EXC_PF, 0, 0x1000), NEST_OK);
	sim_svm_read_vmcb12(&t, &m);
	ck_assert_uint_eq(m.save.rip, v12.save.rip);
	ck_assert_uint_eq(m.control.exitintinfo, ev);
}
END_TEST

START_TEST(soft_pause_filter_counts_pauses)
{
	uint64_t rip;
	unsigned i;

	restart_without_soft_features(NEST_SVM_CFG_SOFT_PAUSE_FILTER);
	l1_icpt(NEST_SVM_ICPT_PAUSE);
	v12.control.pause_filter_count = 3;
	run_l2();
	rip = t.vmcb02->save.rip;
	ck_assert(t.vmcb02->control.intercept_misc1 & (1u << (NEST_SVM_ICPT_PAUSE % 32)));
	/* The first two PAUSEs are completed for L2 ... */
	for (i = 1; i <= 2; i++) {
		t.vmcb02->control.int_state = NEST_SVM_INT_STATE_SHADOW;
		ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_PAUSE, 0, 0), NEST_OK);
		ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
		ck_assert_uint_eq(t.vmcb02->save.rip, rip + 2 * i);
		ck_assert_uint_eq(t.vmcb02->control.int_state, 0);
	}
	/* ... an exit L0 handles does not reset the count ... */
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_CPUID, 0, 0), NEST_OK);
	expect_l0(NEST_SVM_EXIT_CPUID);
	/* ... the third is L1's. */
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_PAUSE, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert_uint_eq(t.act.exitcode, NEST_SVM_EXIT_PAUSE);
	/* VMRUN loads the count again; count 0 filters nothing. */
	t.vmcb01->save.rip = VMRUN_RIP;
	run_l2();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_PAUSE, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
	ck_assert_int_eq(nest_svm_force_exit(t.ctx, t.vmcb01, NEST_SVM_EXIT_INTR, 0, 0, &t.act),
			 NEST_OK);
	v12.control.pause_filter_count = 0;
	t.vmcb01->save.rip = VMRUN_RIP;
	run_l2();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_PAUSE, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
}
END_TEST

START_TEST(soft_tsc_ratio_scales_l2s_reads)
{
	const uint64_t l1_tsc = 0x100000100ull;
	struct nest_vmcb_control *c2 = &t.vmcb02->control;

	restart_without_soft_features(NEST_SVM_CFG_SOFT_TSC_RATE);
	/* Ratio 1.0: the hardware's offset does it all, no intercepts. */
	t.vmcb01->control.tsc_offset = 1000;
	v12.control.tsc_offset = 50;
	run_l2();
	ck_assert_uint_eq(c2->tsc_offset, 1050);
	ck_assert_uint_eq(c2->intercept_misc1 & (1u << (NEST_SVM_ICPT_RDTSC % 32)), 0);
	ck_assert_uint_eq(t.act.tsc_ratio, 0);
	ck_assert_int_eq(nest_svm_force_exit(t.ctx, t.vmcb01, NEST_SVM_EXIT_INTR, 0, 0, &t.act),
			 NEST_OK);

	/* L1 sets 2.0: vmcb02 keeps L1's time base and every read exits. */
	t.regs.gpr[1] = X86_MSR_AMD_TSC_RATIO;
	t.vmcb01->save.rax = 0;
	t.regs.gpr[2] = 2;
	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_MSR, 1), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	t.vmcb01->save.rip = VMRUN_RIP;
	run_l2();
	ck_assert_uint_eq(t.act.tsc_ratio, 0); /* the host has no ratio to load */
	ck_assert_uint_eq(c2->tsc_offset, 1000);
	ck_assert(c2->intercept_misc1 & (1u << (NEST_SVM_ICPT_RDTSC % 32)));
	ck_assert(c2->intercept_misc2 & (1u << (NEST_SVM_ICPT_RDTSCP % 32)));
	ck_assert(t.msrpm02[0x10 * 2 / 8] & (1u << (0x10 * 2 % 8)));

	/* RDTSC: (L1's TSC * 2.0) + 50 in EDX:EAX, past the instruction. */
	sim_guest_msr(&t.sim, 0x10, l1_tsc);
	sim_guest_msr(&t.sim, 0xc0000103u, 0x1234567);
	t.vmcb02->save.rip = 0x8000;
	t.vmcb02->save.rax = ~0ull;
	t.regs.insn_len = 0;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_RDTSC, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
	ck_assert(t.act.flags & NEST_SVM_ACT_F_GPRS);
	ck_assert_uint_eq(t.vmcb02->save.rax, 0x232);
	ck_assert_uint_eq(t.regs.gpr[2], 2);
	ck_assert_uint_eq(t.vmcb02->save.rip, 0x8002);
	/* RDTSCP also gives TSC_AUX in ECX; L0's length wins. */
	t.regs.insn_len = 4;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_RDTSCP, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.regs.gpr[1], 0x1234567);
	ck_assert_uint_eq(t.vmcb02->save.rip, 0x8006);
	/* RDMSR of IA32_TSC. */
	t.regs.insn_len = 0;
	t.regs.gpr[1] = 0x10;
	t.regs.gpr[2] = 0;
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_MSR, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RUN_L2);
	ck_assert_uint_eq(t.vmcb02->save.rax, 0x232);
	ck_assert_uint_eq(t.regs.gpr[2], 2);
	ck_assert_uint_eq(t.vmcb02->save.rip, 0x8008);

	/* A read L1 intercepts is L1's. */
	ck_assert_int_eq(nest_svm_force_exit(t.ctx, t.vmcb01, NEST_SVM_EXIT_INTR, 0, 0, &t.act),
			 NEST_OK);
	l1_icpt(NEST_SVM_ICPT_RDTSC);
	t.vmcb01->save.rip = VMRUN_RIP;
	run_l2();
	ck_assert_int_eq(sim_svm_l2(&t, NEST_SVM_EXIT_RDTSC, 0, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert_uint_eq(t.act.exitcode, NEST_SVM_EXIT_RDTSC);
}
END_TEST

static Suite *svm_scenario_suite(void)
{
	Suite *su = suite_create("svm_scenario");
	TCase *tc = tcase_create("scenario");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, vmrun_builds_vmcb02);
	tcase_add_test(tc, vmrun_reads_l1_memory_once);
	tcase_add_test(tc, cve_2021_3656_vmload_vmsave_stay_intercepted);
	tcase_add_test(tc, cve_2021_3653_int_ctl_is_filtered);
	tcase_add_test(tc, vgif_is_passed_only_when_offered);
	tcase_add_test(tc, tsc_ratio_composes);
	tcase_add_test(tc, asid_switch_and_tlb_control_flush);
	tcase_add_test(tc, cpuid_reflected_when_l1_intercepts);
	tcase_add_test(tc, single_stepped_vmrun_traps_after_the_vmexit);
	tcase_add_test(tc, cpuid_is_l0s_when_only_l0_intercepts);
	tcase_add_test(tc, hlt_reflected_or_l0s);
	tcase_add_test(tc, ioio_follows_l1s_iopm);
	tcase_add_test(tc, tracked_maps_are_read_only_after_a_write);
	tcase_add_test(tc, a_tracked_iopm_written_while_l2_runs_decides_the_next_in);
	tcase_add_test(tc, ioio_follows_l2s_write_to_the_live_iopm);
	tcase_add_test(tc, ioio_without_iopm_intercept_is_l0s);
	tcase_add_test(tc, msr_follows_l1s_msrpm);
	tcase_add_test(tc, msr_follows_l2s_write_to_the_live_msrpm);
	tcase_add_test(tc, l0_msrpm_bits_survive_the_merge);
	tcase_add_test(tc, cr_and_dr_accesses);
	tcase_add_test(tc, exceptions_reflect_per_bitmap_and_mc_stays_l0s);
	tcase_add_test(tc, npf_without_l1_nested_paging_is_l0s);
	tcase_add_test(tc, npf_under_npt02_fixes_or_reflects);
	tcase_add_test(tc, intr_with_v_intr_masking);
	tcase_add_test(tc, intr_without_v_intr_masking_follows_l2_if);
	tcase_add_test(tc, v_intr_masking_is_l1s_unless_l0_intercepts_intr);
	tcase_add_test(tc, vmrun_by_l2_is_reflected);
	tcase_add_test(tc, vmload_vmsave_by_l2);
	tcase_add_test(tc, vmsave_by_l2_goes_through_npt12);
	tcase_add_test(tc, stgi_clgi_by_l2_with_vgif);
	tcase_add_test(tc, clgi_by_l2_without_vgif_holds_interrupts);
	tcase_add_test(tc, vmcb02_refused_by_the_cpu_is_l1s_vmexit_invalid);
	tcase_add_test(tc, shutdown_reflected_or_l1_shuts_down);
	tcase_add_test(tc, eventinj_reaches_vmcb02);
	tcase_add_test(tc, exitintinfo_of_l0_exit_is_reinjected);
	tcase_add_test(tc, exitintinfo_of_l1_exit_goes_to_vmcb12);
	tcase_add_test(tc, soft_interrupt_reinjected_with_l1s_next_rip);
	tcase_add_test(tc, l2s_own_software_event_runs_its_instruction_again);
	tcase_add_test(tc, l1s_injected_breakpoint_is_delivered_again);
	tcase_add_test(tc, exception_l0_raises_in_l2_follows_l1s_intercept);
	tcase_add_test(tc, page_fault_l0_raises_in_l2_sets_cr2_when_delivered);
	tcase_add_test(tc, undelivered_eventinj_becomes_exitintinfo);
	tcase_add_test(tc, interrupt_shadow_and_v_irq_go_back);
	tcase_add_test(tc, no_nrip_when_not_offered);
	tcase_add_test(tc, round_trip_backend_calls);
	tcase_add_test(tc, l0_map_changes_need_the_call);
	tcase_add_test(tc, selective_cr0_write_hidden_by_l0);
	tcase_add_test(tc, l0_vgif_keeps_l1_gif_in_vmcb01);
	tcase_add_test(tc, soft_features_offered_only_with_their_flags);
	tcase_add_test(tc, soft_nrip_from_l0s_length_on_the_exits_that_save_it);
	tcase_add_test(tc, soft_nrip_software_interrupt_returns_to_next_rip);
	tcase_add_test(tc, soft_pause_filter_counts_pauses);
	tcase_add_test(tc, soft_tsc_ratio_scales_l2s_reads);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return nest_test_run(svm_scenario_suite());
}
