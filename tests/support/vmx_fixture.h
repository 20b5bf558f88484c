/* SPDX-License-Identifier: MIT */
/*
 * Shared fixture of the VMX instruction tests: one simulated L1 with 1 MiB
 * of memory, a context built from sim_vmx's host caps, L1 in 64-bit mode,
 * a VMXON region and two VMCS regions prepared with libnest's revision.
 * m64 operands live at PTR_GPA, addressed as [RBX] in DS.
 */
#ifndef VMX_FIXTURE_H
#define VMX_FIXTURE_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <nest/nest.h>

#include "check_main.h"
#include "internal.h"
#include "cpu/x86.h"
#include "sim.h"
#include "sim_vmx.h"
#include "vmx/vmcs12.h"
#include "vmx/vmx_arch.h"

#define MEM_SIZE (1u << 20)
#define VMXON_GPA 0x1000ull
#define VMCS_GPA 0x2000ull
#define VMCS2_GPA 0x3000ull
#define PTR_GPA 0x100ull
#define DATA_GPA 0x800ull

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

struct vmx_fixture {
	struct sim s;
	struct nest_vmx_caps host;
	struct nest_vmx_config cfg;
	void *mem;
	struct nest_vmx *ctx;
	struct nest_vmx_l1_regs regs;
	struct nest_vmx_exit exit;
	struct nest_vmx_action act;
};

static struct vmx_fixture F;

static inline int fx_init(void)
{
	return nest_vmx_init(F.mem, nest_vmx_size(), sim_backend(&F.s), &F.cfg, &F.ctx);
}

static inline void fx_setup(void)
{
	memset(&F, 0, sizeof(F));
	ck_assert_int_eq(sim_init(&F.s, MEM_SIZE, 4), 0);
	sim_vmx_host_caps(&F.host);
	sim_vmx_config(&F.cfg, &F.host);
	F.mem = aligned_alloc(64, (nest_vmx_size() + 63) & ~(size_t)63);
	ck_assert_ptr_nonnull(F.mem);
	ck_assert_int_eq(fx_init(), NEST_OK);
	sim_vmx_regs64(&F.regs);
	sim_vmx_region(&F.s, VMXON_GPA, NEST_VMCS12_REVISION);
	sim_vmx_region(&F.s, VMCS_GPA, NEST_VMCS12_REVISION);
	sim_vmx_region(&F.s, VMCS2_GPA, NEST_VMCS12_REVISION);
}

static inline void fx_teardown(void)
{
	free(F.mem);
	sim_fini(&F.s);
}

static inline int exec(uint32_t reason, uint32_t info, uint64_t qual)
{
	sim_vmx_exit(&F.exit, reason, info, qual);
	memset(&F.act, 0xcc, sizeof(F.act));
	F.act.size = sizeof(F.act);
	return nest_vmx_l1_exit(F.ctx, &F.exit, &F.regs, &F.act);
}

/* An m64 instruction (VMXON, VMCLEAR, VMPTRLD, VMPTRST) on [RBX] = PTR_GPA
 * holding `value`. */
static inline int exec_m64(uint32_t reason, uint64_t value)
{
	sim_write64(&F.s, PTR_GPA, value);
	F.regs.gpr[RBX] = PTR_GPA;
	return exec(reason, sim_vmx_info_mem(SEG_DS, RBX, SIM_NO_REG, 0, SIM_ADDR64), 0);
}

/* VMREAD RAX, RCX (encoding in RCX). */
static inline int vmread_reg(uint32_t enc)
{
	F.regs.gpr[RCX] = enc;
	return exec(NEST_VMX_EXIT_VMREAD, sim_vmx_info_reg(RAX, RCX), 0);
}

/* VMWRITE RCX, RDX (encoding in RCX, value in RDX). */
static inline int vmwrite_reg(uint32_t enc, uint64_t value)
{
	F.regs.gpr[RCX] = enc;
	F.regs.gpr[RDX] = value;
	return exec(NEST_VMX_EXIT_VMWRITE, sim_vmx_info_reg(RDX, RCX), 0);
}

#define assert_succeed()                                                                           \
	do {                                                                                       \
		ck_assert_uint_eq(F.act.kind, NEST_VMX_ACT_RESUME_L1);                             \
		ck_assert_uint_eq(F.act.result, NEST_VMX_SUCCEED);                                 \
		ck_assert_uint_eq(F.act.rflags &X86_ARITH, 0);                                     \
		ck_assert_uint_eq(F.act.rip, F.regs.rip + F.exit.insn_len);                        \
	} while (0)

#define assert_fail_invalid()                                                                      \
	do {                                                                                       \
		ck_assert_uint_eq(F.act.kind, NEST_VMX_ACT_RESUME_L1);                             \
		ck_assert_uint_eq(F.act.result, NEST_VMX_FAIL_INVALID);                            \
		ck_assert_uint_eq(F.act.rflags &X86_ARITH, 1u /* CF */);                           \
		ck_assert_uint_eq(F.act.vm_instruction_error, 0);                                  \
	} while (0)

#define assert_fail_valid(n)                                                                       \
	do {                                                                                       \
		ck_assert_uint_eq(F.act.kind, NEST_VMX_ACT_RESUME_L1);                             \
		ck_assert_uint_eq(F.act.result, NEST_VMX_FAIL_VALID);                              \
		ck_assert_uint_eq(F.act.rflags &X86_ARITH, 0x40u /* ZF */);                        \
		ck_assert_uint_eq(F.act.vm_instruction_error, (n));                                \
	} while (0)

#define assert_inject(vec, has_ec, ec)                                                             \
	do {                                                                                       \
		ck_assert_uint_eq(F.act.kind, NEST_VMX_ACT_INJECT);                                \
		ck_assert_uint_eq(F.act.vector, (vec));                                            \
		ck_assert_uint_eq(F.act.has_error_code, (has_ec));                                 \
		if (has_ec)                                                                        \
			ck_assert_uint_eq(F.act.error_code, (ec));                                 \
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
	ck_assert_int_eq(nest_vmx_get_status(F.ctx, st), NEST_OK);
}

static inline int run_suite(Suite *su)
{
	return nest_test_run(su);
}

#endif /* VMX_FIXTURE_H */
