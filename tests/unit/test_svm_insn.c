/* SPDX-License-Identifier: MIT */
/* L1's SVM instructions, MSRs and CPUID leaf (APM Vol. 3 instruction
 * pages; Vol. 2 15.4, 15.5.2, 15.30), and the VMCB field table. */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include <nest/svm.h>

#include "cpu/x86.h"
#include "sim_svm.h"

#define ALL_FLAGS (NEST_SVM_CFG_SVM_ALLOWED | NEST_SVM_CFG_LONG_MODE)

static struct sim_svm t;

static void setup(void)
{
	ck_assert_int_eq(sim_svm_init(&t, NEST_SVM_F_SUPPORTED, ALL_FLAGS, 0, NULL), 0);
}

static void teardown(void)
{
	sim_svm_fini(&t);
}

static void expect_inject(uint8_t vector)
{
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_INJECT_L1);
	ck_assert_uint_eq(t.act.vector, vector);
	if (vector == X86_EXC_GP) {
		ck_assert_uint_eq(t.act.has_error_code, 1);
		ck_assert_uint_eq(t.act.error_code, 0);
	} else {
		ck_assert_uint_eq(t.act.has_error_code, 0);
	}
}

static void clear_svme(void)
{
	uint64_t hw = t.vmcb01->save.efer;

	ck_assert_int_eq(nest_svm_wrmsr(t.ctx, X86_MSR_IA32_EFER, hw & ~X86_EFER_SVME, &hw, &t.act),
			 NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	/* The hardware keeps SVME for a guest. */
	ck_assert(hw & X86_EFER_SVME);
}

static const uint64_t svm_insns[] = {NEST_SVM_EXIT_VMRUN,  NEST_SVM_EXIT_VMLOAD,
				     NEST_SVM_EXIT_VMSAVE, NEST_SVM_EXIT_STGI,
				     NEST_SVM_EXIT_CLGI,   NEST_SVM_EXIT_INVLPGA};

START_TEST(svm_insns_ud_when_efer_svme_clear)
{
	size_t i;
	uint64_t rip = t.vmcb01->save.rip;

	clear_svme();
	for (i = 0; i < sizeof(svm_insns) / sizeof(svm_insns[0]); i++) {
		ck_assert_int_eq(sim_svm_l1(&t, svm_insns[i], 0), NEST_OK);
		expect_inject(X86_EXC_UD);
		ck_assert_uint_eq(t.vmcb01->save.rip, rip);
	}
}
END_TEST

START_TEST(svm_insns_ud_outside_protected_mode)
{
	size_t i;

	for (i = 0; i < sizeof(svm_insns) / sizeof(svm_insns[0]); i++) {
		sim_svm_l1_state(t.vmcb01);
		t.vmcb01->save.cr0 &= ~(X86_CR0_PE | X86_CR0_PG);
		ck_assert_int_eq(sim_svm_l1(&t, svm_insns[i], 0), NEST_OK);
		expect_inject(X86_EXC_UD);
		sim_svm_l1_state(t.vmcb01);
		t.vmcb01->save.rflags |= X86_RFLAGS_VM;
		ck_assert_int_eq(sim_svm_l1(&t, svm_insns[i], 0), NEST_OK);
		expect_inject(X86_EXC_UD);
	}
}
END_TEST

START_TEST(svm_insns_gp_above_cpl0)
{
	size_t i;

	t.vmcb01->save.cpl = 3;
	for (i = 0; i < sizeof(svm_insns) / sizeof(svm_insns[0]); i++) {
		ck_assert_int_eq(sim_svm_l1(&t, svm_insns[i], 0), NEST_OK);
		expect_inject(X86_EXC_GP);
	}
}
END_TEST

START_TEST(vmcb_address_must_be_aligned_and_in_range)
{
	static const uint64_t insns[] = {NEST_SVM_EXIT_VMRUN, NEST_SVM_EXIT_VMLOAD,
					 NEST_SVM_EXIT_VMSAVE};
	size_t i;

	for (i = 0; i < 3; i++) {
		t.vmcb01->save.rax = SIM_SVM_VMCB12 + 8;
		ck_assert_int_eq(sim_svm_l1(&t, insns[i], 0), NEST_OK);
		expect_inject(X86_EXC_GP);
		t.vmcb01->save.rax = 1ull << SIM_SVM_MAXPHYADDR;
		ck_assert_int_eq(sim_svm_l1(&t, insns[i], 0), NEST_OK);
		expect_inject(X86_EXC_GP);
	}
	ck_assert_uint_eq(t.sim.calls.read_l1 + t.sim.calls.write_l1, 0);
}
END_TEST

START_TEST(rax_is_truncated_outside_64bit_mode)
{
	/* Compatibility mode: CS.L clear, so EAX is the address. */
	t.vmcb01->save.cs.attrib &= (uint16_t) ~(X86_SEG_L >> 4);
	t.vmcb01->save.rax = 0xffffffff00000000ull | SIM_SVM_VMLOAD_AREA;
	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_VMSAVE, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
}
END_TEST

START_TEST(skinit_is_ud)
{
	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_SKINIT, 0), NEST_OK);
	expect_inject(X86_EXC_UD);
}
END_TEST

START_TEST(stgi_and_clgi_set_and_clear_gif)
{
	struct nest_svm_state st = {.size = sizeof(st)};
	uint64_t rip = t.vmcb01->save.rip;

	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_CLGI, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert_uint_eq(t.vmcb01->save.rip, rip + 3);
	nest_svm_get_state(t.ctx, t.vmcb01, &st);
	ck_assert_uint_eq(st.gif, 0);
	ck_assert_uint_eq(st.l1_intr_allowed, 0);
	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_STGI, 0), NEST_OK);
	nest_svm_get_state(t.ctx, t.vmcb01, &st);
	ck_assert_uint_eq(st.gif, 1);
	ck_assert_uint_eq(st.l1_intr_allowed, 1);
}
END_TEST

START_TEST(insn_len_overrides_next_rip)
{
	uint64_t rip = t.vmcb01->save.rip;

	t.vmcb01->control.exitcode = NEST_SVM_EXIT_STGI;
	t.vmcb01->control.next_rip = 0;
	t.regs.insn_len = 4; /* a prefixed STGI */
	ck_assert_int_eq(nest_svm_l1_exit(t.ctx, t.vmcb01, &t.regs, &t.act), NEST_OK);
	ck_assert_uint_eq(t.vmcb01->save.rip, rip + 4);
}
END_TEST

START_TEST(vmsave_writes_exactly_the_vmsave_state)
{
	struct nest_vmcb *mem = sim_ptr(&t.sim, SIM_SVM_VMLOAD_AREA, sizeof(*mem));
	struct nest_vmcb_save *s = &t.vmcb01->save;

	memset(mem, 0xaa, sizeof(*mem));
	s->fs.selector = 0x33;
	s->fs.base = 0x7000;
	s->gs.base = 0xffff800000000000ull;
	s->ldtr.selector = 0x28;
	s->tr.selector = 0x40;
	s->tr.limit = 0x67;
	s->kernel_gs_base = 0x1111;
	s->star = 0x2222;
	s->lstar = 0x3333;
	s->cstar = 0x4444;
	s->sfmask = 0x5555;
	s->sysenter_cs = 0x10;
	s->sysenter_esp = 0x6666;
	s->sysenter_eip = 0x7777;
	s->rax = SIM_SVM_VMLOAD_AREA;
	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_VMSAVE, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert_int_eq(memcmp(&mem->save.fs, &s->fs, sizeof(s->fs)), 0);
	ck_assert_int_eq(memcmp(&mem->save.gs, &s->gs, sizeof(s->gs)), 0);
	ck_assert_int_eq(memcmp(&mem->save.ldtr, &s->ldtr, sizeof(s->ldtr)), 0);
	ck_assert_int_eq(memcmp(&mem->save.tr, &s->tr, sizeof(s->tr)), 0);
	ck_assert_uint_eq(mem->save.kernel_gs_base, 0x1111);
	ck_assert_uint_eq(mem->save.star, 0x2222);
	ck_assert_uint_eq(mem->save.lstar, 0x3333);
	ck_assert_uint_eq(mem->save.cstar, 0x4444);
	ck_assert_uint_eq(mem->save.sfmask, 0x5555);
	ck_assert_uint_eq(mem->save.sysenter_cs, 0x10);
	ck_assert_uint_eq(mem->save.sysenter_esp, 0x6666);
	ck_assert_uint_eq(mem->save.sysenter_eip, 0x7777);
	/* GDTR, IDTR, CS and the control area are not VMSAVE's. */
	ck_assert_uint_eq(mem->save.gdtr.base, 0xaaaaaaaaaaaaaaaaull);
	ck_assert_uint_eq(mem->save.idtr.base, 0xaaaaaaaaaaaaaaaaull);
	ck_assert_uint_eq(mem->save.cs.base, 0xaaaaaaaaaaaaaaaaull);
	ck_assert_uint_eq(mem->save.cr2, 0xaaaaaaaaaaaaaaaaull);
	ck_assert_uint_eq(mem->control.exitcode, 0xaaaaaaaaaaaaaaaaull);
}
END_TEST

START_TEST(vmload_reads_exactly_the_vmload_state)
{
	struct nest_vmcb *mem = sim_ptr(&t.sim, SIM_SVM_VMLOAD_AREA, sizeof(*mem));
	struct nest_vmcb before;

	memset(mem, 0x5c, sizeof(*mem));
	memcpy(&before, t.vmcb01, sizeof(before));
	t.vmcb01->save.rax = SIM_SVM_VMLOAD_AREA;
	before.save.rax = SIM_SVM_VMLOAD_AREA;
	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_VMLOAD, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert_uint_eq(t.vmcb01->save.fs.base, 0x5c5c5c5c5c5c5c5cull);
	ck_assert_uint_eq(t.vmcb01->save.gs.selector, 0x5c5c);
	ck_assert_uint_eq(t.vmcb01->save.ldtr.limit, 0x5c5c5c5c);
	ck_assert_uint_eq(t.vmcb01->save.tr.base, 0x5c5c5c5c5c5c5c5cull);
	ck_assert_uint_eq(t.vmcb01->save.sysenter_eip, 0x5c5c5c5c5c5c5c5cull);
	ck_assert_uint_eq(t.vmcb01->save.kernel_gs_base, 0x5c5c5c5c5c5c5c5cull);
	/* Everything else of vmcb01 is as before, except RIP. */
	ck_assert_int_eq(memcmp(&t.vmcb01->save.gdtr, &before.save.gdtr, sizeof(before.save.gdtr)),
			 0);
	ck_assert_int_eq(memcmp(&t.vmcb01->save.idtr, &before.save.idtr, sizeof(before.save.idtr)),
			 0);
	ck_assert_int_eq(memcmp(&t.vmcb01->save.cs, &before.save.cs, sizeof(before.save.cs)), 0);
	ck_assert_uint_eq(t.vmcb01->save.cr3, before.save.cr3);
	ck_assert_uint_eq(t.vmcb01->save.rip, before.save.rip + 3);
	/* One read of L1 memory. */
	ck_assert_uint_eq(t.sim.calls.read_l1, 1);
}
END_TEST

START_TEST(vmload_of_unbacked_memory_fails_cleanly)
{
	struct nest_vmcb before;

	memcpy(&before, t.vmcb01, sizeof(before));
	t.vmcb01->save.rax = SIM_SVM_L1_MEM + 0x1000; /* beyond L1 memory */
	before.save.rax = t.vmcb01->save.rax;
	ck_assert_int_ne(sim_svm_l1(&t, NEST_SVM_EXIT_VMLOAD, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_NONE);
	before.control.exitcode = t.vmcb01->control.exitcode;
	before.control.exitinfo1 = t.vmcb01->control.exitinfo1;
	before.control.next_rip = t.vmcb01->control.next_rip;
	ck_assert_int_eq(memcmp(&before, t.vmcb01, sizeof(before)), 0);
}
END_TEST

START_TEST(invlpga_flushes_l1_or_l2_asid)
{
	t.vmcb01->save.rax = 0x400000;
	t.regs.gpr[1] = 0; /* ASID 0: L1 itself */
	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_INVLPGA, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert_uint_eq(t.sim.nflushes, 1);
	ck_assert_uint_eq(t.sim.flushes[0].kind, NEST_FLUSH_ASID_ADDR);
	ck_assert_uint_eq(t.sim.flushes[0].tag, t.vmcb01->control.asid);
	ck_assert_uint_eq(t.sim.flushes[0].addr, 0x400000);
	/* An ASID L2 never ran with has nothing to flush. */
	t.regs.gpr[1] = 5;
	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_INVLPGA, 0), NEST_OK);
	ck_assert_uint_eq(t.sim.nflushes, 1);
}
END_TEST

/* ---- MSRs ---- */

static int wrmsr(uint32_t msr, uint64_t v)
{
	t.regs.gpr[1] = msr;
	t.vmcb01->save.rax = (uint32_t)v;
	t.regs.gpr[2] = v >> 32;
	return sim_svm_l1(&t, NEST_SVM_EXIT_MSR, 1);
}

static uint64_t rdmsr(uint32_t msr)
{
	t.regs.gpr[1] = msr;
	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_MSR, 0), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert(t.act.flags & NEST_SVM_ACT_F_GPRS);
	return (uint32_t)t.vmcb01->save.rax | (t.regs.gpr[2] << 32);
}

START_TEST(hsave_pa_must_be_page_aligned_and_in_range)
{
	ck_assert_int_eq(wrmsr(X86_MSR_VM_HSAVE_PA, SIM_SVM_HSAVE + 0x10), NEST_OK);
	expect_inject(X86_EXC_GP);
	ck_assert_int_eq(wrmsr(X86_MSR_VM_HSAVE_PA, 1ull << SIM_SVM_MAXPHYADDR), NEST_OK);
	expect_inject(X86_EXC_GP);
	ck_assert_int_eq(wrmsr(X86_MSR_VM_HSAVE_PA, SIM_SVM_HSAVE), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert_uint_eq(rdmsr(X86_MSR_VM_HSAVE_PA), SIM_SVM_HSAVE);
}
END_TEST

START_TEST(efer_reads_l1s_svme)
{
	ck_assert(rdmsr(X86_MSR_IA32_EFER) & X86_EFER_SVME);
	clear_svme();
	ck_assert(!(rdmsr(X86_MSR_IA32_EFER) & X86_EFER_SVME));
}
END_TEST

START_TEST(efer_svme_gp_when_svm_disabled)
{
	uint64_t v;

	sim_svm_fini(&t);
	ck_assert_int_eq(sim_svm_init(&t, NEST_SVM_F_SUPPORTED, NEST_SVM_CFG_LONG_MODE, 0, NULL),
			 0);
	v = t.vmcb01->save.efer | X86_EFER_SVME;
	ck_assert_int_eq(wrmsr(X86_MSR_IA32_EFER, v), NEST_OK);
	expect_inject(X86_EXC_GP);
	ck_assert_uint_eq(rdmsr(X86_MSR_VM_CR) & X86_VM_CR_SVMDIS, X86_VM_CR_SVMDIS);
}
END_TEST

START_TEST(efer_reserved_bits_gp)
{
	ck_assert_int_eq(wrmsr(X86_MSR_IA32_EFER, t.vmcb01->save.efer | (1ull << 40)), NEST_OK);
	expect_inject(X86_EXC_GP);
}
END_TEST

START_TEST(efer_lme_change_under_paging_gp)
{
	ck_assert_int_eq(wrmsr(X86_MSR_IA32_EFER, t.vmcb01->save.efer & ~X86_EFER_LME), NEST_OK);
	expect_inject(X86_EXC_GP);
	/* LMA is the processor's: a write of LMA = 0 keeps it. */
	ck_assert_int_eq(wrmsr(X86_MSR_IA32_EFER, t.vmcb01->save.efer & ~X86_EFER_LMA), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert(t.vmcb01->save.efer & X86_EFER_LMA);
}
END_TEST

START_TEST(vm_cr_svmdis_refused_while_svme_set)
{
	ck_assert_int_eq(wrmsr(X86_MSR_VM_CR, X86_VM_CR_SVMDIS), NEST_OK);
	expect_inject(X86_EXC_GP);
	clear_svme();
	ck_assert_int_eq(wrmsr(X86_MSR_VM_CR, X86_VM_CR_SVMDIS | X86_VM_CR_LOCK), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	/* Locked: SVMDIS cannot change; SVME cannot be set. */
	ck_assert_int_eq(wrmsr(X86_MSR_VM_CR, X86_VM_CR_LOCK), NEST_OK);
	expect_inject(X86_EXC_GP);
	ck_assert_int_eq(wrmsr(X86_MSR_IA32_EFER, t.vmcb01->save.efer | X86_EFER_SVME), NEST_OK);
	expect_inject(X86_EXC_GP);
}
END_TEST

START_TEST(tsc_ratio_reserved_bits_gp)
{
	ck_assert_uint_eq(rdmsr(X86_MSR_AMD_TSC_RATIO), 1ull << 32);
	ck_assert_int_eq(wrmsr(X86_MSR_AMD_TSC_RATIO, 1ull << 40), NEST_OK);
	expect_inject(X86_EXC_GP);
	ck_assert_int_eq(wrmsr(X86_MSR_AMD_TSC_RATIO, 3ull << 31), NEST_OK);
	ck_assert_uint_eq(rdmsr(X86_MSR_AMD_TSC_RATIO), 3ull << 31);
}
END_TEST

START_TEST(tsc_ratio_gp_when_not_offered)
{
	sim_svm_fini(&t);
	ck_assert_int_eq(
	    sim_svm_init(&t, NEST_SVM_F_SUPPORTED & ~NEST_SVM_F_TSC_RATE, ALL_FLAGS, 0, NULL), 0);
	t.regs.gpr[1] = X86_MSR_AMD_TSC_RATIO;
	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_MSR, 0), NEST_OK);
	expect_inject(X86_EXC_GP);
}
END_TEST

START_TEST(other_msrs_are_not_libnests)
{
	t.regs.gpr[1] = X86_MSR_IA32_LSTAR;
	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_MSR, 0), NEST_E_NOENT);
	ck_assert_int_eq(sim_svm_l1(&t, NEST_SVM_EXIT_CPUID, 0), NEST_E_NOENT);
}
END_TEST

/* ---- CPUID ---- */

START_TEST(cpuid_svm_leaf_is_policy_and_host)
{
	uint32_t r[4] = {9, 9, 9, 9};

	sim_svm_fini(&t);
	ck_assert_int_eq(sim_svm_init(&t, NEST_SVM_F_NP | NEST_SVM_F_NRIPS | NEST_SVM_F_AVIC,
				      ALL_FLAGS, 0, NULL),
			 0);
	ck_assert_int_eq(nest_svm_cpuid(t.ctx, 0x8000000a, 0, r), NEST_OK);
	ck_assert_uint_eq(r[0], 1);
	ck_assert_uint_eq(r[1], 64);
	ck_assert_uint_eq(r[2], 0);
	/* NP needs the shadow (no tdp here); AVIC is never offered. */
	ck_assert_uint_eq(r[3], NEST_SVM_F_NRIPS);
	r[2] = 0;
	ck_assert_int_eq(nest_svm_cpuid(t.ctx, 0x80000001, 0, r), NEST_OK);
	ck_assert_uint_eq(r[2], 1u << 2);
	ck_assert_int_eq(nest_svm_cpuid(t.ctx, 0x1, 0, r), NEST_E_NOENT);
}
END_TEST

START_TEST(cpuid_hides_svm_when_not_allowed)
{
	uint32_t r[4] = {0, 0, 0xffffffff, 0};

	sim_svm_fini(&t);
	ck_assert_int_eq(sim_svm_init(&t, NEST_SVM_F_SUPPORTED, NEST_SVM_CFG_LONG_MODE, 0, NULL),
			 0);
	ck_assert_int_eq(nest_svm_cpuid(t.ctx, 0x80000001, 0, r), NEST_OK);
	ck_assert_uint_eq(r[2] & (1u << 2), 0);
	ck_assert_int_eq(nest_svm_cpuid(t.ctx, 0x8000000a, 0, r), NEST_OK);
	ck_assert_uint_eq(r[0] | r[1] | r[2] | r[3], 0);
}
END_TEST

/* ---- the field table and API hygiene ---- */

START_TEST(field_table_lookups_agree)
{
	size_t i, n = nest_vmcb_field_count();
	struct nest_vmcb *v = calloc(1, sizeof(*v));

	ck_assert_uint_gt(n, 90);
	for (i = 0; i < n; i++) {
		const struct nest_vmcb_field *f = nest_vmcb_field_at(i);

		ck_assert_ptr_eq(nest_vmcb_field_by_name(f->name), f);
		ck_assert_ptr_eq(nest_vmcb_field_by_offset(f->offset), f);
		ck_assert(f->width == 1 || f->width == 2 || f->width == 4 || f->width == 8);
		ck_assert_uint_le(f->offset + f->width, NEST_VMCB_SIZE);
		if (i > 0)
			ck_assert_uint_ge(f->offset, nest_vmcb_field_at(i - 1)->offset +
							 nest_vmcb_field_at(i - 1)->width);
		nest_vmcb_write(v, f, UINT64_MAX);
		ck_assert_uint_eq(nest_vmcb_read(v, f),
				  f->width == 8 ? UINT64_MAX : (1ull << (8 * f->width)) - 1);
	}
	ck_assert_ptr_null(nest_vmcb_field_at(n));
	ck_assert_ptr_eq(nest_vmcb_field_by_name("exitcode"), nest_vmcb_field_by_offset(0x70));
	ck_assert_ptr_null(nest_vmcb_field_by_name("NOPE"));
	ck_assert_ptr_null(nest_vmcb_field_by_offset(0x71));
	ck_assert_uint_eq(nest_vmcb_field_by_name("CR0")->clean, NEST_VMCB_CLEAN_CRX);
	ck_assert_uint_eq(nest_vmcb_field_by_name("G_PAT")->clean, NEST_VMCB_CLEAN_NP);
	ck_assert_uint_eq(nest_vmcb_field_by_name("CR2")->clean, NEST_VMCB_CLEAN_CR2);
	free(v);
}
END_TEST

START_TEST(exit_names)
{
	ck_assert_str_eq(nest_svm_exit_name(0x72), "CPUID");
	ck_assert_str_eq(nest_svm_exit_name(0x400), "NPF");
	ck_assert_str_eq(nest_svm_exit_name(NEST_SVM_EXIT_INVALID), "INVALID");
	ck_assert_str_eq(nest_svm_exit_name(0x4e), "EXCP");
	ck_assert_str_eq(nest_svm_exit_name(0x13), "CR_WRITE");
	ck_assert_str_eq(nest_svm_exit_name(0x12345), "UNKNOWN");
}
END_TEST

START_TEST(init_rejects_bad_config)
{
	struct nest_svm_config c = t.cfg;
	struct nest_svm *ctx;
	void *mem = aligned_alloc(4096, nest_svm_size());

	c.l2_asid = 0;
	ck_assert_int_eq(nest_svm_init(mem, nest_svm_size(), sim_backend(&t.sim), &c, &ctx),
			 NEST_E_INVAL);
	c = t.cfg;
	c.l1_maxphyaddr = 53;
	ck_assert_int_eq(nest_svm_init(mem, nest_svm_size(), sim_backend(&t.sim), &c, &ctx),
			 NEST_E_INVAL);
	c = t.cfg;
	c.vmcb02.hpa |= 0x10;
	ck_assert_int_eq(nest_svm_init(mem, nest_svm_size(), sim_backend(&t.sim), &c, &ctx),
			 NEST_E_INVAL);
	c = t.cfg;
	c.size = 8;
	ck_assert_int_eq(nest_svm_init(mem, nest_svm_size(), sim_backend(&t.sim), &c, &ctx),
			 NEST_E_SIZE);
	c = t.cfg;
	ck_assert_int_eq(nest_svm_init(mem, nest_svm_size() - 1, sim_backend(&t.sim), &c, &ctx),
			 NEST_E_SIZE);
	ck_assert_int_eq(nest_svm_init(mem, nest_svm_size(), sim_backend(&t.sim), &c, &ctx),
			 NEST_OK);
	free(mem);
}
END_TEST

START_TEST(calls_check_sizes_and_state)
{
	struct nest_svm_action small = {.size = 8};
	struct nest_svm_regs r = {.size = 8};

	ck_assert_int_eq(nest_svm_l1_exit(t.ctx, t.vmcb01, &t.regs, &small), NEST_E_SIZE);
	ck_assert_int_eq(nest_svm_l1_exit(t.ctx, t.vmcb01, &r, &t.act), NEST_E_SIZE);
	ck_assert_int_eq(nest_svm_l1_exit(NULL, t.vmcb01, &t.regs, &t.act), NEST_E_INVAL);
	ck_assert_int_eq(nest_svm_l2_exit(t.ctx, t.vmcb01, &t.regs, &t.act), NEST_E_STATE);
	ck_assert_int_eq(nest_svm_resume_l2(t.ctx, &t.act), NEST_E_STATE);
	ck_assert_int_eq(nest_svm_force_exit(t.ctx, t.vmcb01, NEST_SVM_EXIT_INTR, 0, 0, &t.act),
			 NEST_E_STATE);
	ck_assert_ptr_eq(nest_svm_vmcb02(t.ctx), t.vmcb02);
	ck_assert_ptr_null(nest_svm_vmcb02(NULL));
}
END_TEST

static Suite *svm_insn_suite(void)
{
	Suite *su = suite_create("svm_insn");
	TCase *tc = tcase_create("insn");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, svm_insns_ud_when_efer_svme_clear);
	tcase_add_test(tc, svm_insns_ud_outside_protected_mode);
	tcase_add_test(tc, svm_insns_gp_above_cpl0);
	tcase_add_test(tc, vmcb_address_must_be_aligned_and_in_range);
	tcase_add_test(tc, rax_is_truncated_outside_64bit_mode);
	tcase_add_test(tc, skinit_is_ud);
	tcase_add_test(tc, stgi_and_clgi_set_and_clear_gif);
	tcase_add_test(tc, insn_len_overrides_next_rip);
	tcase_add_test(tc, vmsave_writes_exactly_the_vmsave_state);
	tcase_add_test(tc, vmload_reads_exactly_the_vmload_state);
	tcase_add_test(tc, vmload_of_unbacked_memory_fails_cleanly);
	tcase_add_test(tc, invlpga_flushes_l1_or_l2_asid);
	tcase_add_test(tc, hsave_pa_must_be_page_aligned_and_in_range);
	tcase_add_test(tc, efer_reads_l1s_svme);
	tcase_add_test(tc, efer_svme_gp_when_svm_disabled);
	tcase_add_test(tc, efer_reserved_bits_gp);
	tcase_add_test(tc, efer_lme_change_under_paging_gp);
	tcase_add_test(tc, vm_cr_svmdis_refused_while_svme_set);
	tcase_add_test(tc, tsc_ratio_reserved_bits_gp);
	tcase_add_test(tc, tsc_ratio_gp_when_not_offered);
	tcase_add_test(tc, other_msrs_are_not_libnests);
	tcase_add_test(tc, cpuid_svm_leaf_is_policy_and_host);
	tcase_add_test(tc, cpuid_hides_svm_when_not_allowed);
	tcase_add_test(tc, field_table_lookups_agree);
	tcase_add_test(tc, exit_names);
	tcase_add_test(tc, init_rejects_bad_config);
	tcase_add_test(tc, calls_check_sizes_and_state);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return nest_test_run(svm_insn_suite());
}
