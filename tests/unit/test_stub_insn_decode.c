/* SPDX-License-Identifier: MIT */
/*
 * The bare-metal stub's instruction-length decoder
 * (examples/baremetal/stub/insn_decode.c), which gives libnest the length
 * of L2's intercepted instruction for the software nRIP save: the lengths
 * of the encodings GNU as produces for the instructions an L1 may
 * intercept, and more, in 64-bit and 32-bit code.
 */
#include <string.h>

#include "check_main.h"
#include "../../examples/baremetal/stub/insn_decode.h"

enum { M64, M32 };

struct insn {
	int mode;
	const char *bytes;
	unsigned len;
};

static const struct insn insns[] = {
    {M64, "\x0f\x31", 2},			  /* rdtsc */
    {M64, "\x0f\x01\xf9", 3},			  /* rdtscp */
    {M64, "\x0f\xa2", 2},			  /* cpuid */
    {M64, "\xf4", 1},				  /* hlt */
    {M64, "\xf3\x90", 2},			  /* pause */
    {M64, "\x0f\x32", 2},			  /* rdmsr */
    {M64, "\x0f\x30", 2},			  /* wrmsr */
    {M64, "\x0f\x33", 2},			  /* rdpmc */
    {M64, "\x9c", 1},				  /* pushf */
    {M64, "\x9d", 1},				  /* popf */
    {M64, "\x48\xcf", 2},			  /* iretq */
    {M64, "\xcd\x80", 2},			  /* int $0x80 */
    {M64, "\xcc", 1},				  /* int3 */
    {M64, "\x0f\x08", 2},			  /* invd */
    {M64, "\x0f\x09", 2},			  /* wbinvd */
    {M64, "\x0f\x01\x38", 3},			  /* invlpg (%rax) */
    {M64, "\x0f\x01\x3d\x78\x56\x34\x12", 7},	  /* invlpg 0x12345678(%rip) # 0x1234569d */
    {M64, "\x0f\x01\x7c\x24\x10", 5},		  /* invlpg 0x10(%rsp) */
    {M64, "\x0f\x01\xbc\xcb\x00\x10\x00\x00", 8}, /* invlpg 0x1000(%rbx,%rcx,8) */
    {M64, "\x0f\x01\xdf", 3},			  /* invlpga */
    {M64, "\x0f\x01\xd8", 3},			  /* vmrun */
    {M64, "\x0f\x01\xd9", 3},			  /* vmmcall */
    {M64, "\x0f\x01\xda", 3},			  /* vmload */
    {M64, "\x0f\x01\xdb", 3},			  /* vmsave */
    {M64, "\x0f\x01\xdc", 3},			  /* stgi */
    {M64, "\x0f\x01\xdd", 3},			  /* clgi */
    {M64, "\x0f\x01\xde", 3},			  /* skinit */
    {M64, "\x0f\x01\xc8", 3},			  /* monitor %rax,%ecx,%edx */
    {M64, "\x0f\x01\xc9", 3},			  /* mwait %eax,%ecx */
    {M64, "\x0f\x01\xd1", 3},			  /* xsetbv */
    {M64, "\x0f\x01\x10", 3},			  /* lgdt (%rax) */
    {M64, "\x0f\x01\x5d\x20", 4},		  /* lidt 0x20(%rbp) */
    {M64, "\x0f\x01\x04\x24", 4},		  /* sgdt (%rsp) */
    {M64, "\x0f\x01\x8c\x58\x00\x01\x00\x00", 8}, /* sidt 0x100(%rax,%rbx,2) */
    {M64, "\x0f\x00\xd0", 3},			  /* lldt %ax */
    {M64, "\x0f\x00\xd8", 3},			  /* ltr %ax */
    {M64, "\x0f\x00\xc0", 3},			  /* sldt %eax */
    {M64, "\x0f\x00\xc8", 3},			  /* str %eax */
    {M64, "\xf0\x83\x00\x01", 4},		  /* lock addl $0x1,(%rax) */
    {M64, "\xf3\x6c", 2},			  /* rep insb (%dx),%es:(%rdi) */
    {M64, "\xe6\x80", 2},			  /* out %al,$0x80 */
    {M64, "\xe4\x80", 2},			  /* in $0x80,%al */
    {M64, "\xed", 1},				  /* in (%dx),%eax */
    {M64, "\x66\xf3\x6f", 3},			  /* rep outsw %ds:(%rsi),(%dx) */
    {M64, "\x0f\x20\xd8", 3},			  /* mov %cr3,%rax */
    {M64, "\x0f\x22\xc0", 3},			  /* mov %rax,%cr0 */
    {M64, "\x44\x0f\x22\xc0", 4},		  /* mov %rax,%cr8 */
    {M64, "\x0f\x21\xf8", 3},			  /* mov %db7,%rax */
    {M64, "\x0f\x01\xf0", 3},			  /* lmsw %ax */
    {M64, "\x0f\x01\xe0", 3},			  /* smsw %eax */
    {M64, "\x0f\x06", 2},			  /* clts */
    {M64, "\xf1", 1},				  /* int1 */
    {M64, "\x48\xb8\x88\x77\x66\x55\x44\x33\x22\x11", 10}, /* movabs $0x1122334455667788,%rax */
    {M64, "\xb8\x78\x56\x34\x12", 5},			   /* mov $0x12345678,%eax */
    {M64, "\x66\xb8\x34\x12", 4},			   /* mov $0x1234,%ax */
    {M64, "\x48\x81\x40\x10\x78\x56\x34\x12", 8},	   /* addq $0x12345678,0x10(%rax) */
    {M64, "\xf6\x00\x01", 3},				   /* testb $0x1,(%rax) */
    {M64, "\xf7\x44\x18\x08\x00\x01\x00\x00", 8},	   /* testl $0x100,0x8(%rax,%rbx,1) */
    {M64, "\x66\xf7\x00\x00\x01", 5},			   /* testw $0x100,(%rax) */
    {M64, "\xe9\xfb\x0f\x00\x00", 5},			   /* jmp 0x10c1 */
    {M64, "\xe8\xfb\x0f\x00\x00", 5},			   /* call 0x10c6 */
    {M64, "\x0f\x85\xfa\x0f\x00\x00", 6},		   /* jne 0x10cb */
    {M64, "\x74\x00", 2},				   /* je 0xd3 */
    {M64, "\xa0\x88\x77\x66\x55\x44\x33\x22\x11", 9},	   /* movabs 0x1122334455667788,%al */
    {M64, "\x66\x0f\x38\x82\x00", 5},			   /* invpcid (%rax),%rax */
    {M64, "\x66\x0f\x70\xc8\x01", 5},			   /* pshufd $0x1,%xmm0,%xmm1 */
    {M64, "\x66\x0f\x3a\x16\xc0\x01", 6},		   /* pextrd $0x1,%xmm0,%eax */
    {M64, "\xf2\x0f\x38\xf0\xc0", 5},			   /* crc32 %al,%eax */
    {M64, "\x0f\x01\xfd", 3},				   /* rdpru */
    {M64, "\xc8\x10\x00\x01", 4},			   /* enter $0x10,$0x1 */
    {M64, "\xc2\x08\x00", 3},				   /* ret $0x8 */
    {M64, "\x68\x78\x56\x34\x12", 5},			   /* push $0x12345678 */
    {M64, "\x69\xd8\x34\x12\x00\x00", 6},		   /* imul $0x1234,%eax,%ebx */
    {M64, "\x6b\xd8\x03", 3},				   /* imul $0x3,%eax,%ebx */
    {M32, "\x0f\x31", 2},				   /* rdtsc */
    {M32, "\x0f\xa2", 2},				   /* cpuid */
    {M32, "\x9c", 1},					   /* pushf */
    {M32, "\x9d", 1},					   /* popf */
    {M32, "\xcf", 1},					   /* iret */
    {M32, "\xce", 1},					   /* into */
    {M32, "\x62\x03", 2},				   /* bound %eax,(%ebx) */
    {M32, "\xcc", 1},					   /* int3 */
    {M32, "\x0f\x01\x38", 3},				   /* invlpg (%eax) */
    {M32, "\x0f\x01\x7c\x24\x10", 5},			   /* invlpg 0x10(%esp) */
    {M32, "\x67\x0f\x01\x38", 4},			   /* invlpg (%bx,%si) */
    {M32, "\x0f\x01\x15\x78\x56\x34\x12", 7},		   /* lgdtl 0x12345678 */
    {M32, "\xea\x78\x56\x34\x12\x10\x00", 7},		   /* ljmp $0x10,$0x12345678 */
    {M32, "\xa1\x78\x56\x34\x12", 5},			   /* mov 0x12345678,%eax */
    {M32, "\xc4\x00", 2},				   /* les (%eax),%eax */
    {M32, "\x66\x68\x34\x12", 4},			   /* pushw $0x1234 */
};

static unsigned decode(const struct insn *in, unsigned left)
{
	uint8_t buf[15];

	memset(buf, 0x90, sizeof(buf)); /* NOPs after the instruction */
	memcpy(buf, in->bytes, in->len);
	return stub_insn_decode(buf, left, in->mode == M64, 1);
}

START_TEST(lengths_of_assembled_instructions)
{
	const struct insn *in = &insns[_i];

	ck_assert_msg(decode(in, 15) == in->len, "instruction %d: %u bytes, decoded %u", _i,
		      in->len, decode(in, 15));
}
END_TEST

START_TEST(too_few_bytes_give_zero)
{
	const struct insn *in = &insns[_i];

	ck_assert_uint_eq(decode(in, in->len - 1), 0);
}
END_TEST

START_TEST(sixteen_bit_forms)
{
	/* 16-bit code: ModRM without SIB, 16-bit displacement and immediates. */
	static const uint8_t invlpg_bx_si[] = {0x0f, 0x01, 0x38};
	static const uint8_t invlpg_disp16[] = {0x0f, 0x01, 0x3e, 0x34, 0x12};
	static const uint8_t mov_ax_imm16[] = {0xb8, 0x34, 0x12};
	static const uint8_t mov_eax_imm32[] = {0x66, 0xb8, 0x78, 0x56, 0x34, 0x12};
	static const uint8_t addr32_invlpg_sib[] = {0x67, 0x0f, 0x01, 0x3c, 0x24};

	ck_assert_uint_eq(stub_insn_decode(invlpg_bx_si, 15, 0, 0), 3);
	ck_assert_uint_eq(stub_insn_decode(invlpg_disp16, 15, 0, 0), 5);
	ck_assert_uint_eq(stub_insn_decode(mov_ax_imm16, 15, 0, 0), 3);
	ck_assert_uint_eq(stub_insn_decode(mov_eax_imm32, 15, 0, 0), 6);
	ck_assert_uint_eq(stub_insn_decode(addr32_invlpg_sib, 15, 0, 0), 5);
}
END_TEST

START_TEST(vex_forms_are_not_decoded)
{
	static const uint8_t vaddps[] = {0xc5, 0xf4, 0x58, 0xc2}; /* vaddps %ymm2,%ymm1,%ymm0 */
	static const uint8_t les[] = {0xc4, 0x03};		  /* les (%ebx),%eax (32-bit) */

	ck_assert_uint_eq(stub_insn_decode(vaddps, 15, 1, 1), 0);
	ck_assert_uint_eq(stub_insn_decode(vaddps, 15, 0, 1), 0);
	ck_assert_uint_eq(stub_insn_decode(les, 15, 0, 1), 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stub_insn_decode");
	TCase *tc = tcase_create("decode");
	int n = (int)(sizeof(insns) / sizeof(insns[0]));

	tcase_add_loop_test(tc, lengths_of_assembled_instructions, 0, n);
	tcase_add_loop_test(tc, too_few_bytes_give_zero, 0, n);
	tcase_add_test(tc, sixteen_bit_forms);
	tcase_add_test(tc, vex_forms_are_not_decoded);
	suite_add_tcase(s, tc);
	return nest_test_run(s);
}
