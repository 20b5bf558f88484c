/* SPDX-License-Identifier: MIT */
/*
 * svm_run(vmcb_pa, regs, irq_window): one VMRUN of L2 from L1.
 * VMRUN saves and restores only RAX, RSP and RIP of the host; every other
 * general-purpose register keeps L2's value after #VMEXIT (APM 15.5.1,
 * 15.6), so they are swapped here by software.
 */
	.code64
	.text

#define R_RBX 0
#define R_RCX 8
#define R_RDX 16
#define R_RSI 24
#define R_RDI 32
#define R_RBP 40
#define R_R8 48
#define R_R9 56
#define R_R10 64
#define R_R11 72
#define R_R12 80
#define R_R13 88
#define R_R14 96
#define R_R15 104

	.globl svm_run
	.type svm_run, @function
svm_run:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	push %rsi		/* regs: needed after #VMEXIT */
	push %rsi		/* keeps the stack 16-byte aligned */

	mov %rdi, %rax		/* VMRUN takes the VMCB physical address in RAX */
	clgi
	test %edx, %edx
	jz 1f
	sti			/* GIF=0 still holds the interrupt until VMRUN */
1:
	mov R_RBX(%rsi), %rbx
	mov R_RCX(%rsi), %rcx
	mov R_RDX(%rsi), %rdx
	mov R_RDI(%rsi), %rdi
	mov R_RBP(%rsi), %rbp
	mov R_R8(%rsi), %r8
	mov R_R9(%rsi), %r9
	mov R_R10(%rsi), %r10
	mov R_R11(%rsi), %r11
	mov R_R12(%rsi), %r12
	mov R_R13(%rsi), %r13
	mov R_R14(%rsi), %r14
	mov R_R15(%rsi), %r15
	mov R_RSI(%rsi), %rsi

	vmrun %rax

	/* #VMEXIT: RAX, RSP, RIP are L1's again; the rest are L2's. */
	mov 8(%rsp), %rax
	mov %rbx, R_RBX(%rax)
	mov %rcx, R_RCX(%rax)
	mov %rdx, R_RDX(%rax)
	mov %rsi, R_RSI(%rax)
	mov %rdi, R_RDI(%rax)
	mov %rbp, R_RBP(%rax)
	mov %r8, R_R8(%rax)
	mov %r9, R_R9(%rax)
	mov %r10, R_R10(%rax)
	mov %r11, R_R11(%rax)
	mov %r12, R_R12(%rax)
	mov %r13, R_R13(%rax)
	mov %r14, R_R14(%rax)
	mov %r15, R_R15(%rax)

	cli			/* GIF is 0 after #VMEXIT: nothing is taken before STGI */
	stgi

	add $16, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret
	.size svm_run, . - svm_run

	.section .note.GNU-stack, "", @progbits
