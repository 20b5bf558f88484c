/* SPDX-License-Identifier: MIT */
/*
 * L2 payloads: 64-bit code run at CPL 0 in VMX non-root operation. Each
 * starts at its entry label and marks the instruction meant to exit with a
 * label ending in _insn, whose address L1 compares with the guest RIP and
 * the exit it caused. Anything after it runs only if L1 resumes L2 there;
 * a trailing VMCALL ends the payload. Registers are set up by L1.
 */
#include "l2.h"

	.text
	.code64

#define ENTRY(name) .globl name; name:

/* CPUID (exit reason 10, length 2). */
ENTRY(l2_cpuid)
	xorl %eax, %eax
ENTRY(l2_cpuid_insn)
	cpuid
	vmcall

/* HLT (reason 12, length 1). */
ENTRY(l2_hlt)
	nop
ENTRY(l2_hlt_insn)
	hlt
	vmcall

/* OUT imm8: 1 byte, out, immediate operand. */
ENTRY(l2_io_out)
	movb $L2_IO_OUT_VALUE, %al
ENTRY(l2_io_out_insn)
	outb %al, $L2_IO_PORT
	vmcall

/* IN DX: 2 bytes, in, DX operand. */
ENTRY(l2_io_in)
	movw $L2_IO_IN_PORT, %dx
ENTRY(l2_io_in_insn)
	inw %dx, %ax
	vmcall

/* REP OUTSB: string, rep, DX operand; guest-linear address = RSI. */
ENTRY(l2_io_outs)
	leaq l2_io_outs_data(%rip), %rsi
	movl $L2_IO_REP_COUNT, %ecx
	movw $L2_IO_PORT, %dx
ENTRY(l2_io_outs_insn)
	rep outsb
	vmcall
ENTRY(l2_io_outs_data)
	.byte 1, 2, 3, 4

/*
 * With I/O bitmaps: L2_IO_PASS_PORT (bit clear) passes, L2_IO_PORT (bit
 * set in bitmap A) exits; resumed, L2_IO_HIGH_PORT (bit set in bitmap B)
 * exits; resumed, L2_IO_HIGH_PORT + 1 (clear) passes, then VMCALL.
 */
ENTRY(l2_io_bitmap)
	movb $L2_IO_OUT_VALUE, %al
	outb %al, $L2_IO_PASS_PORT
ENTRY(l2_io_bitmap_a_insn)
	outb %al, $L2_IO_PORT
	movw $L2_IO_HIGH_PORT, %dx
ENTRY(l2_io_bitmap_b_insn)
	outb %al, %dx
	incw %dx
	outb %al, %dx
ENTRY(l2_io_bitmap_end)
	vmcall

/* RDMSR of ECX (set by L1); the result stays in EDX:EAX for L1 to see. */
ENTRY(l2_rdmsr)
	xorl %eax, %eax
	xorl %edx, %edx
ENTRY(l2_rdmsr_insn)
	rdmsr
	vmcall

/* WRMSR of ECX with EDX:EAX (set by L1). */
ENTRY(l2_wrmsr)
	nop
ENTRY(l2_wrmsr_insn)
	wrmsr
	vmcall

/* Reads CR0 into RAX and CR4 into RBX: L1 checks the read shadows. */
ENTRY(l2_cr_read)
	movq %cr0, %rax
	movq %cr4, %rbx
	vmcall

/* Toggles CR0.TS through RBX (register 3). */
ENTRY(l2_cr0_write)
	movq %cr0, %rbx
	xorq $0x8, %rbx
ENTRY(l2_cr0_write_insn)
	movq %rbx, %cr0
	vmcall

/*
 * Writes CR4 back unchanged (its masked bits equal the read shadow: no
 * exit), then sets CR4.VMXE through RCX (register 1): exit.
 */
ENTRY(l2_cr4_write)
	movq %cr4, %rcx
	movq %rcx, %cr4
	orq $0x2000, %rcx
ENTRY(l2_cr4_write_insn)
	movq %rcx, %cr4
	vmcall

/* MOV from CR3 into RDX (register 2). */
ENTRY(l2_cr3_read)
	nop
ENTRY(l2_cr3_read_insn)
	movq %cr3, %rdx
	vmcall

ENTRY(l2_clts)
	nop
ENTRY(l2_clts_insn)
	clts
	vmcall

/* LMSW with source 0x0001 (PE set, TS clear) from a register. */
ENTRY(l2_lmsw)
	movl $1, %eax
ENTRY(l2_lmsw_insn)
	lmsw %ax
	vmcall

ENTRY(l2_ud)
	nop
ENTRY(l2_ud_insn)
	ud2
	vmcall

ENTRY(l2_int3)
	nop
ENTRY(l2_int3_insn)
	int3
	vmcall

/* Load from / store to RBX (set by L1). */
ENTRY(l2_load)
	nop
ENTRY(l2_load_insn)
	movq (%rbx), %rax
	vmcall

ENTRY(l2_store)
	movq $0x5354, %rax
ENTRY(l2_store_insn)
	movq %rax, (%rbx)
	vmcall

/* Jumps to RBX (set by L1). */
ENTRY(l2_jump)
	jmpq *%rbx

/* Spins a while (for interrupts to arrive), then VMCALL. */
ENTRY(l2_spin)
	movl $L2_SPIN_COUNT, %ecx
1:	pause
	decl %ecx
	jnz 1b
ENTRY(l2_spin_end)
	vmcall

/* Sends itself the IPI in ECX through the xAPIC at RBX (ICR), then spins. */
ENTRY(l2_self_ipi)
	movl $0, 0x310(%rbx)
	movl %ecx, 0x300(%rbx)
	jmp l2_spin

ENTRY(l2_vmcall)
	nop
ENTRY(l2_vmcall_insn)
	vmcall
	ud2

/* VMREAD with the field in RAX (Reg2 = 0) into RBX (Reg1 = 3). */
ENTRY(l2_vmread)
	movl $L2_VMREAD_FIELD, %eax
ENTRY(l2_vmread_insn)
	vmread %rax, %rbx
	vmcall

ENTRY(l2_vmlaunch)
	nop
ENTRY(l2_vmlaunch_insn)
	vmlaunch
	vmcall

/* VMXON with a memory operand at RBX. */
ENTRY(l2_vmxon)
	nop
ENTRY(l2_vmxon_insn)
	vmxon (%rbx)
	vmcall

/* More VMX instructions, each with its operand (a memory operand at RBX). */
ENTRY(l2_vmclear)
	nop
ENTRY(l2_vmclear_insn)
	vmclear (%rbx)
	vmcall

ENTRY(l2_vmptrld)
	nop
ENTRY(l2_vmptrld_insn)
	vmptrld (%rbx)
	vmcall

ENTRY(l2_vmptrst)
	nop
ENTRY(l2_vmptrst_insn)
	vmptrst (%rbx)
	vmcall

/* VMWRITE of RCX's value to the field in RDX (Reg1 = 1, Reg2 = 2). */
ENTRY(l2_vmwrite)
	movl $L2_VMREAD_FIELD, %edx
ENTRY(l2_vmwrite_insn)
	vmwrite %rcx, %rdx
	vmcall

ENTRY(l2_vmresume)
	nop
ENTRY(l2_vmresume_insn)
	vmresume
	vmcall

ENTRY(l2_vmxoff)
	nop
ENTRY(l2_vmxoff_insn)
	vmxoff
	vmcall

/* INVEPT type RCX with the descriptor at RBX. */
ENTRY(l2_invept)
	nop
ENTRY(l2_invept_insn)
	invept (%rbx), %rcx
	vmcall

ENTRY(l2_invvpid)
	nop
ENTRY(l2_invvpid_insn)
	invvpid (%rbx), %rcx
	vmcall

/* Instructions that exit only when a control says so. */
ENTRY(l2_rdtsc)
	nop
ENTRY(l2_rdtsc_insn)
	rdtsc
	vmcall

ENTRY(l2_invlpg)
	nop
ENTRY(l2_invlpg_insn)
	invlpg (%rbx)
	vmcall

/* MOV from DR7 into RDX: DR 7, direction "from", register 2. */
ENTRY(l2_mov_dr)
	nop
ENTRY(l2_mov_dr_insn)
	movq %dr7, %rdx
	vmcall

ENTRY(l2_pause)
	nop
ENTRY(l2_pause_insn)
	pause
	vmcall

ENTRY(l2_wbinvd)
	nop
ENTRY(l2_wbinvd_insn)
	wbinvd
	vmcall

ENTRY(l2_sgdt)
	nop
ENTRY(l2_sgdt_insn)
	sgdt (%rbx)
	vmcall

/*
 * Round trips: R12 (set by L1) CPUIDs; each result's EAX is added to R14
 * and R13 counts them, so L1 can check that every exit kept L2's registers.
 */
ENTRY(l2_cpuid_loop)
	xorq %r13, %r13
	xorq %r14, %r14
1:	movl $0, %eax
ENTRY(l2_cpuid_loop_insn)
	cpuid
	addq %rax, %r14
	incq %r13
	cmpq %r12, %r13
	jb 1b
ENTRY(l2_cpuid_loop_end)
	vmcall

/*
 * L2's own exception handlers (its IDT is built by L1): a #PF that L1 does
 * not intercept lands here with the error code on the stack.
 */
	.align 16
ENTRY(l2_pf_handler)
	popq %rcx
	movq %cr2, %rdx
	movl $L2_PF_MAGIC, %eax
	vmcall
	ud2

	.align 16
ENTRY(l2_bad_vector)
	movl $L2_BAD_VECTOR_MAGIC, %eax
	vmcall
	ud2

	.section .note.GNU-stack, "", @progbits
