/* SPDX-License-Identifier: MIT */
/*
 * The VMX context fixture of the unit and scenario tests: one simulated L0
 * (sim backend, 1 MiB of L1 memory), a context built from sim_vmx's host
 * caps, L1 in 64-bit mode, a VMXON region and two VMCS regions prepared
 * with libnest's revision. m64 operands live at PTR_GPA, addressed as
 * [RBX] in DS.
 *
 * fx_setup(): that much (the VMX instruction tests start from there).
 * nfx_setup(): also vmcs01 (L0's host state, L1's guest state) and L0's
 * side, then L1 executes VMXON and VMPTRLD and holds a valid vmcs12 (the
 * entry checks' baseline, without EPT); helpers launch L2 and make L2
 * "exit" by writing vmcs02's exit-information fields as the hardware would.
 */
#ifndef VMX_FIXTURE_H
#define VMX_FIXTURE_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <nest/nest.h>
#include <nest/tdp.h>

#include "test_vmx_entry_baseline.h"

#include "check_main.h"
#include "internal.h"
#include "cpu/x86.h"
#include "sim.h"
#include "sim_vmx.h"
#include "vmx/context.h"
#include "vmx/entry.h"
#include "vmx/sync.h"
#include "vmx/vmcs12.h"
#include "vmx/vmx_arch.h"

#define MEM_SIZE (1u << 20)
#define POOL_PAGES 16u
#define VMXON_GPA 0x1000ull
#define VMCS_GPA 0x2000ull
#define VMCS2_GPA 0x3000ull
#define PTR_GPA 0x100ull
#define DATA_GPA 0x800ull
#define N_EXIT_MSR_GPA 0x1c000ull

/* General-purpose register numbers (instruction-information encoding). */
#define RAX 0u
#define RCX 1u
#define RDX 2u
#define RBX 3u
#define RSP 4u
#define RBP 5u
#define RSI 6u
#define RDI 7u

#define SEG_ES NEST_VMX_SEG_ES
#define SEG_CS NEST_VMX_SEG_CS
#define SEG_SS NEST_VMX_SEG_SS
#define SEG_DS NEST_VMX_SEG_DS
#define SEG_FS NEST_VMX_SEG_FS
#define SEG_GS NEST_VMX_SEG_GS

/* L0's own values in vmcs01 (its host state, L1's guest state). */
#define L0_HOST_RIP 0xffffffff80100000ull
#define L0_HOST_CR3 0x7000000ull
#define L1_CR0 (X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG)
#define L1_EFER (X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE)
#define L0_VPID02 9u

struct vmx_fixture {
	struct sim s;
	struct nest_vmx_caps host;
	struct nest_vmx_config cfg;
	struct nest_vmx_l0 l0;
	uint8_t l0_msr_bitmap[4096];
	void *mem;
	struct nest_vmx *ctx;
	struct nest_vmx_l1_regs regs;
	struct nest_vmx_l2_regs l2regs;
	struct nest_vmx_exit exit;
	struct nest_vmx_action act;
	struct fx base; /* nfx_setup(): the valid vmcs12 */
};

static struct vmx_fixture N;

/* A new context in the same memory (after a change of N.host or N.cfg). */
static inline int ctx_reinit(void)
{
	return nest_vmx_init(N.mem, nest_vmx_size(), sim_backend(&N.s), &N.cfg, &N.ctx);
}

static inline void fx_setup(void)
{
	memset(&N, 0, sizeof(N));
	ck_assert_int_eq(sim_init(&N.s, MEM_SIZE, POOL_PAGES), 0);
	sim_vmx_host_caps(&N.host);
	sim_vmx_config(&N.cfg, &N.host);
	N.mem = aligned_alloc(64, (nest_vmx_size() + 63) & ~(size_t)63);
	ck_assert_ptr_nonnull(N.mem);
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	sim_vmx_regs64(&N.regs);
	sim_vmx_region(&N.s, VMXON_GPA, NEST_VMCS12_REVISION);
	sim_vmx_region(&N.s, VMCS_GPA, NEST_VMCS12_REVISION);
	sim_vmx_region(&N.s, VMCS2_GPA, NEST_VMCS12_REVISION);
	memset(&N.l2regs, 0, sizeof(N.l2regs));
	N.l2regs.size = sizeof(N.l2regs);
}

static inline void fx_teardown(void)
{
	free(N.mem);
	sim_fini(&N.s);
}

static inline int exec(uint32_t reason, uint32_t info, uint64_t qual)
{
	sim_vmx_exit(&N.exit, reason, info, qual);
	memset(&N.act, 0xcc, sizeof(N.act));
	N.act.size = sizeof(N.act);
	return nest_vmx_l1_exit(N.ctx, &N.exit, &N.regs, &N.act);
}

/* An m64 instruction (VMXON, VMCLEAR, VMPTRLD, VMPTRST) on [RBX] = PTR_GPA
 * holding `value`. */
static inline int exec_m64(uint32_t reason, uint64_t value)
{
	sim_write64(&N.s, PTR_GPA, value);
	N.regs.gpr[RBX] = PTR_GPA;
	return exec(reason, sim_vmx_info_mem(SEG_DS, RBX, SIM_NO_REG, 0, SIM_ADDR64), 0);
}

/* VMREAD RAX, RCX (encoding in RCX). */
static inline int vmread_reg(uint32_t enc)
{
	N.regs.gpr[RCX] = enc;
	return exec(NEST_VMX_EXIT_VMREAD, sim_vmx_info_reg(RAX, RCX), 0);
}

/* VMWRITE RCX, RDX (encoding in RCX, value in RDX). */
static inline int vmwrite_reg(uint32_t enc, uint64_t value)
{
	N.regs.gpr[RCX] = enc;
	N.regs.gpr[RDX] = value;
	return exec(NEST_VMX_EXIT_VMWRITE, sim_vmx_info_reg(RDX, RCX), 0);
}

#define assert_succeed()                                                                           \
	do {                                                                                       \
		ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);                             \
		ck_assert_uint_eq(N.act.result, NEST_VMX_SUCCEED);                                 \
		ck_assert_uint_eq(N.act.rflags &X86_ARITH, 0);                                     \
		ck_assert_uint_eq(N.act.rip, N.regs.rip + N.exit.insn_len);                        \
	} while (0)

#define assert_fail_invalid()                                                                      \
	do {                                                                                       \
		ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);                             \
		ck_assert_uint_eq(N.act.result, NEST_VMX_FAIL_INVALID);                            \
		ck_assert_uint_eq(N.act.rflags &X86_ARITH, 1u /* CF */);                           \
		ck_assert_uint_eq(N.act.vm_instruction_error, 0);                                  \
	} while (0)

#define assert_fail_valid(n)                                                                       \
	do {                                                                                       \
		ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);                             \
		ck_assert_uint_eq(N.act.result, NEST_VMX_FAIL_VALID);                              \
		ck_assert_uint_eq(N.act.rflags &X86_ARITH, 0x40u /* ZF */);                        \
		ck_assert_uint_eq(N.act.vm_instruction_error, (n));                                \
	} while (0)

#define assert_inject(vec, has_ec, ec)                                                             \
	do {                                                                                       \
		ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_INJECT);                                \
		ck_assert_uint_eq(N.act.vector, (vec));                                            \
		ck_assert_uint_eq(N.act.has_error_code, (has_ec));                                 \
		if (has_ec)                                                                        \
			ck_assert_uint_eq(N.act.error_code, (ec));                                 \
	} while (0)

#define X86_ARITH 0x8d5ull /* CF PF AF ZF SF OF */
#define VEC_UD 6
#define VEC_SS 12
#define VEC_GP 13
#define VEC_PF 14

static inline void do_vmxon(void)
{
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_succeed();
}

static inline void do_vmptrld(uint64_t gpa)
{
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMPTRLD, gpa), NEST_OK);
	assert_succeed();
}

/* fx_setup(), then VMXON and VMPTRLD of VMCS_GPA: L1 in VMX root operation
 * with a current VMCS. */
static inline void fx_setup_current_vmcs(void)
{
	fx_setup();
	do_vmxon();
	do_vmptrld(VMCS_GPA);
}

static inline void fx_status(struct nest_vmx_status *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	ck_assert_int_eq(nest_vmx_get_status(N.ctx, st), NEST_OK);
}

static inline uint64_t v01(uint32_t enc)
{
	uint64_t v = 0;

	sim_vmcs_get(&N.s, NEST_VMCS01, enc, &v);
	return v;
}

static inline uint64_t v02(uint32_t enc)
{
	uint64_t v = 0;

	sim_vmcs_get(&N.s, NEST_VMCS02, enc, &v);
	return v;
}

/* EPT entry bits the walk below reads (SDM 29.3.2). */
#define NFX_EPT_RWX 0x7ull
#define NFX_EPT_PS (1ull << 7)
#define NFX_EPT_ADDR_MASK 0x000ffffffffff000ull

/* The leaf entry the shadow EPT02 holds for L2-physical @gpa (0: none),
 * walked from vmcs02's EPTP through the simulated page pool. */
static inline uint64_t nfx_ept02_leaf(uint64_t gpa)
{
	uint64_t table = v02(NEST_VMCS_EPT_POINTER) & NFX_EPT_ADDR_MASK, e = 0;
	unsigned level;

	for (level = 4; level >= 1; level--) {
		const uint64_t *t = sim_pool_hva(&N.s, table);

		ck_assert_ptr_nonnull(t);
		e = t[(gpa >> (12 + 9 * (level - 1))) & 511];
		if (!(e & NFX_EPT_RWX))
			return 0;
		if (level == 1 || (e & NFX_EPT_PS))
			return e;
		table = e & NFX_EPT_ADDR_MASK;
	}
	return e;
}

static inline void set02(uint32_t enc, uint64_t v)
{
	sim_vmcs_set(&N.s, NEST_VMCS02, enc, v);
}

static inline struct nest__vmcs12 *V12(void)
{
	return &N.ctx->vmcs12;
}

/* L1 instruction exits, as the nested scenarios write them. */
static inline int l1_exec(uint32_t reason, uint32_t info)
{
	return exec(reason, info, 0);
}

static inline int l1_m64(uint32_t reason, uint64_t value)
{
	return exec_m64(reason, value);
}

/* fx_setup(), vmcs01 and L0's side, then L1's VMXON, VMPTRLD and its
 * vmcs12 (the entry checks' baseline, without EPT). */
static inline void nfx_setup(void)
{
	struct nest__vmcs12 *v;
	uint32_t rev;

	fx_setup();
	/* vmcs01: L0's host state and L1's guest state. */
	sim_vmcs_set(&N.s, NEST_VMCS01, NEST_VMCS_HOST_RIP, L0_HOST_RIP);
	sim_vmcs_set(&N.s, NEST_VMCS01, NEST_VMCS_HOST_CR3, L0_HOST_CR3);
	sim_vmcs_set(&N.s, NEST_VMCS01, NEST_VMCS_GUEST_CR0, L1_CR0 | X86_CR0_CD);
	sim_vmcs_set(&N.s, NEST_VMCS01, NEST_VMCS_GUEST_CR4, FX_CR4);
	sim_vmcs_set(&N.s, NEST_VMCS01, NEST_VMCS_GUEST_IA32_EFER, L1_EFER);
	sim_vmcs_set(&N.s, NEST_VMCS01, NEST_VMCS_GUEST_IA32_PAT, FX_PAT);

	memset(&N.l0, 0, sizeof(N.l0));
	N.l0.size = sizeof(N.l0);
	N.l0.exit_ctls = NEST_VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE | NEST_VMX_EXIT_CTL_LOAD_EFER;
	N.l0.proc2 = NEST_VMX_PROC2_ENABLE_EPT | NEST_VMX_PROC2_ENABLE_VPID;
	N.l0.eptp01 = 0x800001eull;
	N.l0.vpid02 = L0_VPID02;
	N.l0.exception_bitmap = 1u << X86_EXC_MC;
	N.l0.msr_bitmap = N.l0_msr_bitmap;
	ck_assert_int_eq(nest_vmx_set_l0(N.ctx, &N.l0), NEST_OK);

	/* L1: VMXON, VMPTRLD, then its vmcs12 (the baseline, without EPT). */
	do_vmxon();
	do_vmptrld(VMCS_GPA);
	fx_init(&N.base);
	N.ctx->caps = N.base.caps;
	v = V12();
	rev = v->revision;
	*v = N.base.v;
	v->revision = rev;
	v->launch_state = NEST_VMCS12_STATE_CLEAR;
	v->SECONDARY_VM_EXEC_CONTROL &=
	    ~(NEST_VMX_PROC2_ENABLE_EPT | NEST_VMX_PROC2_UNRESTRICTED_GUEST);
	v->EPT_POINTER = 0;
}

static inline void nfx_teardown(void)
{
	fx_teardown();
}

/* L0's shadow EPT02 context for L1 using EPT: a small pool (`pages` pages,
 * `roots` roots) on the simulated backend, given to libnest through
 * nest_vmx_set_l0(). Freed with nfx_tdp_fini(). */
static inline struct nest_tdp *nfx_tdp(unsigned pages, unsigned roots, void **mem)
{
	struct nest_tdp_config tc;
	struct nest_tdp *tdp;
	size_t n;

	memset(&tc, 0, sizeof(tc));
	tc.size = sizeof(tc);
	tc.max_pages = pages;
	tc.max_roots = roots;
	tc.ept_vpid_cap = N.base.caps.ept_vpid;
	tc.maxphyaddr = 46;
	tc.max_page_shift = 12;
	n = nest_tdp_size(&tc);
	*mem = aligned_alloc(64, (n + 63) & ~(size_t)63);
	ck_assert_ptr_nonnull(*mem);
	ck_assert_int_eq(nest_tdp_init(*mem, n, sim_backend(&N.s), &tc, &tdp), NEST_OK);
	N.l0.tdp = tdp;
	ck_assert_int_eq(nest_vmx_set_l0(N.ctx, &N.l0), NEST_OK);
	return tdp;
}

static inline void nfx_tdp_fini(struct nest_tdp *tdp, void *mem)
{
	if (tdp != NULL)
		nest_tdp_fini(tdp);
	free(mem);
}

static inline int vmlaunch(void)
{
	return exec(NEST_VMX_EXIT_VMLAUNCH, 0, 0);
}

static inline int vmresume(void)
{
	return exec(NEST_VMX_EXIT_VMRESUME, 0, 0);
}

static inline void launch_ok(void)
{
	ck_assert_int_eq(vmlaunch(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
}

/* L2 exits: write what the hardware would into vmcs02, then ask libnest. */
static inline int l2_exit(uint32_t reason, uint64_t qual)
{
	struct nest_vmx_exit e;

	set02(NEST_VMCS_VM_EXIT_REASON, reason);
	set02(NEST_VMCS_EXIT_QUALIFICATION, qual);
	memset(&e, 0, sizeof(e));
	e.size = sizeof(e);
	memset(&N.act, 0xcc, sizeof(N.act));
	N.act.size = sizeof(N.act);
	return nest_vmx_l2_exit(N.ctx, &e, &N.l2regs, &N.act);
}

static inline int l2_event(uint32_t kind, uint32_t vector)
{
	memset(&N.act, 0xcc, sizeof(N.act));
	N.act.size = sizeof(N.act);
	return nest_vmx_l2_event(N.ctx, kind, vector, &N.act);
}

static inline int l2_exception(uint32_t vector, uint32_t error, uint64_t payload)
{
	memset(&N.act, 0xcc, sizeof(N.act));
	N.act.size = sizeof(N.act);
	return nest_vmx_l2_exception(N.ctx, vector, error, payload, &N.act);
}

/* L1's state after a reflected exit is vmcs12's host state (SDM 28.5). */
static inline void assert_l1_host_state_loaded(void)
{
	const struct nest__vmcs12 *v = V12();

	ck_assert_uint_eq(v01(NEST_VMCS_GUEST_RIP), v->HOST_RIP);
	ck_assert_uint_eq(v01(NEST_VMCS_GUEST_RSP), v->HOST_RSP);
	ck_assert_uint_eq(v01(NEST_VMCS_GUEST_RFLAGS), 0x2);
	ck_assert_uint_eq(v01(NEST_VMCS_GUEST_CR3), v->HOST_CR3);
	ck_assert_uint_eq(v01(NEST_VMCS_GUEST_CR4), v->HOST_CR4);
	/* CD is kept from L1's CR0 before the exit. */
	ck_assert_uint_eq(v01(NEST_VMCS_GUEST_CR0), v->HOST_CR0 | X86_CR0_CD);
	ck_assert_uint_eq(v01(NEST_VMCS_GUEST_DR7), 0x400);
	ck_assert_uint_eq(v01(NEST_VMCS_GUEST_IA32_EFER), v->HOST_IA32_EFER);
	ck_assert_uint_eq(v01(NEST_VMCS_GUEST_IA32_PAT), v->HOST_IA32_PAT);
	ck_assert_uint_eq(v01(NEST_VMCS_GUEST_CS_SELECTOR), v->HOST_CS_SELECTOR);
	ck_assert_uint_eq(v01(NEST_VMCS_GUEST_CS_AR_BYTES), FX_CODE64_AR);
	ck_assert_uint_eq(v01(NEST_VMCS_GUEST_TR_BASE), v->HOST_TR_BASE);
	ck_assert_uint_eq(v01(NEST_VMCS_GUEST_GDTR_LIMIT), 0xffff);
	ck_assert_uint_eq(v01(NEST_VMCS_GUEST_LDTR_AR_BYTES), X86_SEG_UNUSABLE);
	ck_assert(!nest_vmx_in_l2(N.ctx));
}

static inline int run_suite(Suite *su)
{
	return nest_test_run(su);
}

#endif /* VMX_FIXTURE_H */
