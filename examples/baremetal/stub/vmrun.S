/* SPDX-License-Identifier: MIT */
/*
 * svm_run(regs, vmcb_pa, host_save_pa, host_if): one guest run (APM 15.5).
 * regs is a struct nest_svm_regs: gpr[i] at 8 + 8 * i, encoding order. VMRUN
 * saves and restores only RAX, RSP and RIP of the host and loads RAX, RSP
 * and RIP of the guest; the other general registers are swapped here.
 * FS, GS, TR, LDTR and the syscall MSRs are swapped with VMSAVE/VMLOAD
 * (APM 15.5.2). GIF is cleared across the switch (APM 15.17).
 */
#define R_RBX 32
#define R_RCX 16
#define R_RDX 24
#define R_RSI 56
#define R_RDI 64
#define R_RBP 48
#define R_R8 72
#define R_R9 80
#define R_R10 88
#define R_R11 96
#define R_R12 104
#define R_R13 112
#define R_R14 120
#define R_R15 128

	.text
	.globl svm_run
svm_run:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdx              /* 16(%rsp): host save area */
	pushq %rdi              /* 8(%rsp): regs */
	pushq %rsi              /* 0(%rsp): vmcb */

	clgi
	/* RFLAGS.IF at VMRUN is the "host IF" of V_INTR_MASKING; GIF is 0. */
	testb %cl, %cl
	jz 1f
	sti
1:	movq %rdx, %rax
	vmsave %rax
	movq (%rsp), %rax
	vmload %rax

	movq %rdi, %rax
	movq R_RBX(%rax), %rbx
	movq R_RCX(%rax), %rcx
	movq R_RDX(%rax), %rdx
	movq R_RSI(%rax), %rsi
	movq R_RDI(%rax), %rdi
	movq R_RBP(%rax), %rbp
	movq R_R8(%rax), %r8
	movq R_R9(%rax), %r9
	movq R_R10(%rax), %r10
	movq R_R11(%rax), %r11
	movq R_R12(%rax), %r12
	movq R_R13(%rax), %r13
	movq R_R14(%rax), %r14
	movq R_R15(%rax), %r15
	movq (%rsp), %rax

	vmrun %rax

	/* #VMEXIT: RAX is the VMCB address again, RSP the stack above. */
	vmsave %rax
	pushq %rax
	movq 16(%rsp), %rax     /* regs */
	movq %rbx, R_RBX(%rax)
	movq %rcx, R_RCX(%rax)
	movq %rdx, R_RDX(%rax)
	movq %rsi, R_RSI(%rax)
	movq %rdi, R_RDI(%rax)
	movq %rbp, R_RBP(%rax)
	movq %r8, R_R8(%rax)
	movq %r9, R_R9(%rax)
	movq %r10, R_R10(%rax)
	movq %r11, R_R11(%rax)
	movq %r12, R_R12(%rax)
	movq %r13, R_R13(%rax)
	movq %r14, R_R14(%rax)
	movq %r15, R_R15(%rax)
	popq %rax
	cli
	movq 16(%rsp), %rax     /* host save area */
	vmload %rax
	stgi

	addq $24, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.section .note.GNU-stack, "", @progbits
