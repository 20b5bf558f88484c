/* SPDX-License-Identifier: MIT */
/*
 * VMREAD and VMWRITE of L2 under L1's VMCS shadowing (arch/x86/vmx/
 * l2vmrw.c, SDM 25.10 and the instructions' Operation): vmcs02 never
 * shadows, so each exits to L0; libnest carries out on L1's shadow VMCS
 * those L1's bitmaps let through, with the flags, errors, faults and
 * completion the processor gives, and gives L1 the others.
 */
#include "check_main.h"
#include "vmx_fixture.h"

#define RDBM 0x30000ull	  /* L1's VMREAD bitmap */
#define WRBM 0x31000ull	  /* L1's VMWRITE bitmap */
#define SHADOW 0x32000ull /* L1's shadow VMCS */
#define L2_RIP 0x401000ull
#define INSN_LEN 4u
#define DATA 0x40000ull /* L2's memory operand (paging off: L1-physical) */
#define RDX_REG 2u
#define RSP_REG 4u
#define GUEST_RIP_FIELD NEST_VMCS_GUEST_RIP
#define EXIT_QUAL_FIELD NEST_VMCS_EXIT_QUALIFICATION
#define ARITH                                                                                      \
	(X86_RFLAGS_CF | X86_RFLAGS_PF | X86_RFLAGS_AF | X86_RFLAGS_ZF | X86_RFLAGS_SF |           \
	 X86_RFLAGS_OF)

/* Instruction information (SDM table 28-14): reg2 holds the encoding. */
#define INFO_REG(reg1, reg2) ((1u << 10) | ((reg1) << 3) | ((reg2) << 28))
/* A memory operand [base] with a 32-bit address in DS. */
#define INFO_MEM32(base, reg2)                                                                     \
	((1u << 7) | (3u << 15) | (1u << 22) | ((base) << 23) | ((reg2) << 28))

static void shadow_field(uint32_t enc, uint64_t v)
{
	struct nest__vmcs12 img;

	memcpy(&img, sim_ptr(&N.s, SHADOW, sizeof(img)), sizeof(img));
	ck_assert(nest__vmcs12_write(&img, enc, v));
	memcpy(sim_ptr(&N.s, SHADOW, sizeof(img)), &img, sizeof(img));
}

static uint64_t shadow_read(uint32_t enc)
{
	struct nest__vmcs12 img;
	uint64_t v = 0;

	memcpy(&img, sim_ptr(&N.s, SHADOW, sizeof(img)), sizeof(img));
	ck_assert(nest__vmcs12_read(&img, enc, &v));
	return v;
}

/* L1 runs L2 with VMCS shadowing, an empty shadow VMCS and empty bitmaps. */
static void shadowing_launch(void)
{
	struct nest__vmcs12 img, *v;

	memset(&img, 0, sizeof(img));
	img.revision = NEST_VMCS12_REVISION | NEST_VMCS12_SHADOW_INDICATOR;
	memcpy(sim_ptr(&N.s, SHADOW, sizeof(img)), &img, sizeof(img));
	memset(sim_ptr(&N.s, RDBM, 0x1000), 0, 0x1000);
	memset(sim_ptr(&N.s, WRBM, 0x1000), 0, 0x1000);
	N.ctx->caps.procbased2 |= (uint64_t)NEST_VMX_PROC2_VMCS_SHADOWING << 32;
	v = V12();
	v->SECONDARY_VM_EXEC_CONTROL |= NEST_VMX_PROC2_VMCS_SHADOWING;
	v->VMREAD_BITMAP = RDBM;
	v->VMWRITE_BITMAP = WRBM;
	v->VMCS_LINK_POINTER = SHADOW;
	launch_ok();
	set02(NEST_VMCS_GUEST_RIP, L2_RIP);
	set02(NEST_VMCS_GUEST_RFLAGS, X86_RFLAGS_FIXED1 | ARITH);
	set02(NEST_VMCS_VM_EXIT_INSTRUCTION_LEN, INSN_LEN);
}

static void setup(void)
{
	nfx_setup();
	shadowing_launch();
}

/* L2 executes VMREAD or VMWRITE with this instruction information. */
static int l2_insn(uint32_t reason, uint32_t info)
{
	set02(NEST_VMCS_VMX_INSTRUCTION_INFO, info);
	return l2_exit(reason, 0);
}

static void assert_completed(uint64_t flags)
{
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_RIP), L2_RIP + INSN_LEN);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_RFLAGS) & ARITH, flags);
	ck_assert(nest_vmx_in_l2(N.ctx));
}

START_TEST(shadowed_vmread_reads_the_shadow_vmcs_into_a_register)
{
	shadow_field(GUEST_RIP_FIELD, 0x1234567890ull);
	N.l2regs.gpr[RCX] = GUEST_RIP_FIELD;
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMREAD, INFO_REG(RDX_REG, RCX)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_GPR);
	ck_assert_uint_eq(N.act.gpr, RDX_REG);
	ck_assert_uint_eq(N.act.gpr_value, 0x1234567890ull);
	assert_completed(0); /* VMsucceed */
	/* vmcs12 (the current VMCS) is not what was read. */
	ck_assert_uint_ne(V12()->GUEST_RIP, 0x1234567890ull);
}
END_TEST

START_TEST(shadowed_vmread_into_rsp_writes_vmcs02)
{
	shadow_field(EXIT_QUAL_FIELD, 0xabcd);
	N.l2regs.gpr[RCX] = EXIT_QUAL_FIELD;
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMREAD, INFO_REG(RSP_REG, RCX)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert(!(N.act.flags & NEST_VMX_ACT_F_GPR));
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_RSP), 0xabcd);
}
END_TEST

START_TEST(shadowed_vmwrite_writes_the_shadow_vmcs)
{
	N.l2regs.gpr[RCX] = EXIT_QUAL_FIELD;
	N.l2regs.gpr[RDX_REG] = 0x77;
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMWRITE, INFO_REG(RDX_REG, RCX)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	assert_completed(0);
	ck_assert_uint_eq(shadow_read(EXIT_QUAL_FIELD), 0x77);
	ck_assert_uint_ne(V12()->EXIT_QUALIFICATION, 0x77);
}
END_TEST

/* Only the field's bytes of the shadow VMCS change; a high access writes
 * bits 63:32 and keeps the low half. */
START_TEST(shadowed_vmwrite_of_a_high_half_keeps_the_low_half_and_the_rest)
{
	shadow_field(NEST_VMCS_TSC_OFFSET, 0x1111111122222222ull);
	shadow_field(EXIT_QUAL_FIELD, 0x5555);
	N.l2regs.gpr[RCX] = NEST_VMCS_TSC_OFFSET | 1; /* high access */
	N.l2regs.gpr[RDX_REG] = 0x33333333;
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMWRITE, INFO_REG(RDX_REG, RCX)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	assert_completed(0);
	ck_assert_uint_eq(shadow_read(NEST_VMCS_TSC_OFFSET), 0x3333333322222222ull);
	ck_assert_uint_eq(shadow_read(EXIT_QUAL_FIELD), 0x5555);
}
END_TEST

/* The bitmap bit set, or an encoding above bit 14: L1's exit. */
START_TEST(bitmap_bit_or_high_encoding_bits_exit_to_l1)
{
	uint8_t *bm = sim_ptr(&N.s, RDBM, 0x1000);

	bm[GUEST_RIP_FIELD >> 3] |= 1u << (GUEST_RIP_FIELD & 7);
	N.l2regs.gpr[RCX] = GUEST_RIP_FIELD;
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMREAD, INFO_REG(RDX_REG, RCX)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_VMREAD);
	ck_assert_uint_eq(V12()->GUEST_RIP, L2_RIP);
	/* The VMWRITE bitmap is the other one: that field writes through. */
	ck_assert_int_eq(vmresume(), NEST_OK);
	set02(NEST_VMCS_GUEST_RIP, L2_RIP);
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMWRITE, INFO_REG(RDX_REG, RCX)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	/* Bit 15 and above always exit (SDM VMREAD: bits 63:15). */
	N.l2regs.gpr[RCX] = 1ull << 15;
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMREAD, INFO_REG(RDX_REG, RCX)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	N.l2regs.gpr[RCX] = 1ull << 40;
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMWRITE, INFO_REG(RDX_REG, RCX)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_VMWRITE);
}
END_TEST

START_TEST(without_shadowing_every_vmread_exits_to_l1)
{
	V12()->SECONDARY_VM_EXEC_CONTROL &= ~NEST_VMX_PROC2_VMCS_SHADOWING;
	N.l2regs.gpr[RCX] = GUEST_RIP_FIELD;
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMREAD, INFO_REG(RDX_REG, RCX)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_VMREAD);
}
END_TEST

START_TEST(link_pointer_all_ones_is_vmfail_invalid)
{
	V12()->VMCS_LINK_POINTER = UINT64_MAX;
	N.l2regs.gpr[RCX] = GUEST_RIP_FIELD;
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMREAD, INFO_REG(RDX_REG, RCX)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert(!(N.act.flags & NEST_VMX_ACT_F_GPR));
	assert_completed(X86_RFLAGS_CF);
}
END_TEST

/* VMfailValid writes the error into the current VMCS: vmcs12. */
START_TEST(unsupported_field_and_read_only_field_are_vmfail_valid)
{
	N.l2regs.gpr[RCX] = 0x7ffe; /* no such field */
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMREAD, INFO_REG(RDX_REG, RCX)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	assert_completed(X86_RFLAGS_ZF);
	ck_assert_uint_eq(V12()->VM_INSTRUCTION_ERROR, 12);
	/* A read-only field without IA32_VMX_MISC[29]: error 13. */
	N.ctx->caps.misc &= ~(1ull << 29);
	set02(NEST_VMCS_GUEST_RIP, L2_RIP);
	N.l2regs.gpr[RCX] = EXIT_QUAL_FIELD;
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMWRITE, INFO_REG(RDX_REG, RCX)), NEST_OK);
	assert_completed(X86_RFLAGS_ZF);
	ck_assert_uint_eq(V12()->VM_INSTRUCTION_ERROR, 13);
	ck_assert_uint_eq(shadow_read(EXIT_QUAL_FIELD), 0);
}
END_TEST

/* CPL > 0: #GP(0), an exit to L1 when its exception bitmap asks. */
START_TEST(cpl3_is_a_general_protection_fault)
{
	V12()->EXCEPTION_BITMAP |= 1u << X86_EXC_GP;
	set02(NEST_VMCS_GUEST_SS_AR_BYTES, 0xc0f3u); /* DPL 3 */
	N.l2regs.gpr[RCX] = GUEST_RIP_FIELD;
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMREAD, INFO_REG(RDX_REG, RCX)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_EXCEPTION_NMI);
	ck_assert_uint_eq(V12()->VM_EXIT_INTR_INFO & 0xff, X86_EXC_GP);
	ck_assert_uint_eq(V12()->GUEST_RIP, L2_RIP);
}
END_TEST

/* L2 in 32-bit protected mode without paging: the operand's linear
 * address is L2-physical, which is L1-physical without EPT. */
static void l2_flat32(void)
{
	set02(NEST_VMCS_GUEST_CR0, X86_CR0_PE | X86_CR0_NE);
	set02(NEST_VMCS_GUEST_IA32_EFER, 0);
	set02(NEST_VMCS_GUEST_CS_AR_BYTES, FX_CODE32_AR);
	set02(NEST_VMCS_GUEST_DS_AR_BYTES, FX_DATA_AR);
	set02(NEST_VMCS_GUEST_DS_BASE, 0);
	set02(NEST_VMCS_GUEST_DS_LIMIT, 0xffffffffu);
}

START_TEST(memory_operands_go_through_l2s_segments)
{
	l2_flat32();
	shadow_field(GUEST_RIP_FIELD, 0x1122334455667788ull);
	memset(sim_ptr(&N.s, DATA, 8), 0xee, 8);
	N.l2regs.gpr[RBX] = DATA;
	N.l2regs.gpr[RCX] = GUEST_RIP_FIELD;
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMREAD, INFO_MEM32(RBX, RCX)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert(!(N.act.flags & NEST_VMX_ACT_F_GPR));
	/* 32 bits outside 64-bit mode; the next bytes untouched. */
	ck_assert_uint_eq(sim_read32(&N.s, DATA), 0x55667788u);
	ck_assert_uint_eq(sim_read32(&N.s, DATA + 4), 0xeeeeeeeeu);
	assert_completed(0);
	/* VMWRITE reads its source there. */
	sim_write32(&N.s, DATA, 0x99);
	set02(NEST_VMCS_GUEST_RIP, L2_RIP);
	N.l2regs.gpr[RCX] = EXIT_QUAL_FIELD;
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMWRITE, INFO_MEM32(RBX, RCX)), NEST_OK);
	ck_assert_uint_eq(shadow_read(EXIT_QUAL_FIELD), 0x99);
	/* Past DS's limit: #GP(0) for L2 (L1 does not intercept it). */
	set02(NEST_VMCS_GUEST_DS_LIMIT, 0xfff);
	set02(NEST_VMCS_GUEST_RIP, L2_RIP);
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMREAD, INFO_MEM32(RBX, RCX)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_TO_L2);
	ck_assert_uint_eq(N.act.vector, X86_EXC_GP);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_RIP), L2_RIP);
}
END_TEST

/* The instruction ends as any other: L1's monitor trap flag exits after
 * it, and the register written is the one L1 then sees. */
START_TEST(monitor_trap_flag_exits_after_a_shadowed_vmread)
{
	V12()->CPU_BASED_VM_EXEC_CONTROL |= NEST_VMX_PROC_MONITOR_TRAP_FLAG;
	shadow_field(GUEST_RIP_FIELD, 0x42);
	N.l2regs.gpr[RCX] = GUEST_RIP_FIELD;
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMREAD, INFO_REG(RDX_REG, RCX)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_MONITOR_TRAP_FLAG);
	ck_assert_uint_eq(V12()->GUEST_RIP, L2_RIP + INSN_LEN);
	ck_assert_uint_eq(V12()->GUEST_RFLAGS & ARITH, 0);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_GPR);
	ck_assert_uint_eq(N.act.gpr_value, 0x42);
}
END_TEST

/* ---- with EPT12 ---- */

#define EPT12 0x50000ull /* four tables from here */
#define EPTP12 (EPT12 | 6ull | (3ull << 3))
#define L2_PAGE 0x200000ull /* mapped by EPT12 to L1_PAGE */
#define L1_PAGE 0x80000ull
#define L2_HOLE 0x300000ull /* not mapped by EPT12 */

static void *tdp_mem;
static struct nest_tdp *tdp;

static void setup_ept(void)
{
	nfx_setup();
	tdp = nfx_tdp(12, 4, &tdp_mem);
	memset(sim_ptr(&N.s, EPT12, 0x4000), 0, 0x4000);
	sim_write64(&N.s, EPT12 + ((L2_PAGE >> 39) & 511) * 8, (EPT12 + 0x1000) | 7);
	sim_write64(&N.s, EPT12 + 0x1000 + ((L2_PAGE >> 30) & 511) * 8, (EPT12 + 0x2000) | 7);
	sim_write64(&N.s, EPT12 + 0x2000 + ((L2_PAGE >> 21) & 511) * 8, (EPT12 + 0x3000) | 7);
	sim_write64(&N.s, EPT12 + 0x3000 + ((L2_PAGE >> 12) & 511) * 8, L1_PAGE | 7 | (6ull << 3));
	V12()->SECONDARY_VM_EXEC_CONTROL |= NEST_VMX_PROC2_ENABLE_EPT;
	V12()->EPT_POINTER = EPTP12;
	shadowing_launch();
}

static void teardown_ept(void)
{
	nfx_tdp_fini(tdp, tdp_mem);
	nfx_teardown();
}

/* The operand's L2-physical address goes through EPT12; where EPT12 has
 * no translation, L1 gets the EPT violation the processor reports for
 * the final access (SDM 28.2.1, table 28-7). */
START_TEST(memory_operand_goes_through_ept12)
{
	l2_flat32();
	shadow_field(GUEST_RIP_FIELD, 0x5a5a5a5a);
	N.l2regs.gpr[RBX] = L2_PAGE + 0x10;
	N.l2regs.gpr[RCX] = GUEST_RIP_FIELD;
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMREAD, INFO_MEM32(RBX, RCX)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_eq(sim_read32(&N.s, L1_PAGE + 0x10), 0x5a5a5a5au);
	assert_completed(0);

	set02(NEST_VMCS_GUEST_RIP, L2_RIP);
	N.l2regs.gpr[RBX] = L2_HOLE + 0x20;
	ck_assert_int_eq(l2_insn(NEST_VMX_EXIT_VMREAD, INFO_MEM32(RBX, RCX)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_EPT_VIOLATION);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION,
			  NEST_EPT_QUAL_WRITE | NEST_EPT_QUAL_GLA_VALID | NEST_EPT_QUAL_GLA_FINAL);
	ck_assert_uint_eq(V12()->GUEST_PHYSICAL_ADDRESS, L2_HOLE + 0x20);
	ck_assert_uint_eq(V12()->GUEST_LINEAR_ADDRESS, L2_HOLE + 0x20);
	ck_assert_uint_eq(V12()->GUEST_RIP, L2_RIP); /* fault-like */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmx_l2vmrw");
	TCase *t = tcase_create("shadowing");

	tcase_add_checked_fixture(t, setup, nfx_teardown);
	tcase_add_test(t, shadowed_vmread_reads_the_shadow_vmcs_into_a_register);
	tcase_add_test(t, shadowed_vmread_into_rsp_writes_vmcs02);
	tcase_add_test(t, shadowed_vmwrite_writes_the_shadow_vmcs);
	tcase_add_test(t, shadowed_vmwrite_of_a_high_half_keeps_the_low_half_and_the_rest);
	tcase_add_test(t, bitmap_bit_or_high_encoding_bits_exit_to_l1);
	tcase_add_test(t, without_shadowing_every_vmread_exits_to_l1);
	tcase_add_test(t, link_pointer_all_ones_is_vmfail_invalid);
	tcase_add_test(t, unsupported_field_and_read_only_field_are_vmfail_valid);
	tcase_add_test(t, cpl3_is_a_general_protection_fault);
	tcase_add_test(t, memory_operands_go_through_l2s_segments);
	tcase_add_test(t, monitor_trap_flag_exits_after_a_shadowed_vmread);
	suite_add_tcase(s, t);
	t = tcase_create("ept12");
	tcase_add_checked_fixture(t, setup_ept, teardown_ept);
	tcase_add_test(t, memory_operand_goes_through_ept12);
	suite_add_tcase(s, t);
	return nest_test_run(s);
}
