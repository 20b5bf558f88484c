/* SPDX-License-Identifier: MIT */
/*
 * VM entry and VM exit for L1 (SDM vol. 3C 26 and 27).
 *
 * int vmx_run(struct l2_regs *regs, int resume)
 *   loads L2's general-purpose registers from *regs and executes VMLAUNCH
 *   (resume == 0) or VMRESUME. On a VM exit (or a VM-entry failure that
 *   loads host state) the processor continues at vmx_exit_entry (HOST_RIP)
 *   with RSP = HOST_RSP, which this function writes just before the entry;
 *   L2's registers are stored back to *regs and 0 is returned. If the
 *   instruction itself fails, it returns 1 (VMfailInvalid) or 2
 *   (VMfailValid) and *regs is unchanged.
 */
#define HOST_RSP 0x6C14

#define R_RAX 0
#define R_RBX 8
#define R_RCX 16
#define R_RDX 24
#define R_RSI 32
#define R_RDI 40
#define R_RBP 48
#define R_R8 56
#define R_R9 64
#define R_R10 72
#define R_R11 80
#define R_R12 88
#define R_R13 96
#define R_R14 104
#define R_R15 112

#define RFLAGS_CF 0x1
#define RFLAGS_ZF 0x40

	.text
	.code64
	.globl vmx_run
vmx_run:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi /* found at (%rsp) by vmx_exit_entry */
	/*
	 * Only VMfailInvalid (no current VMCS) can make this VMWRITE fail, and
	 * then VMLAUNCH/VMRESUME fail the same way: their status is returned.
	 */
	movl $HOST_RSP, %eax
	vmwrite %rsp, %rax
	testl %esi, %esi
	/* MOV does not change the flags that select VMLAUNCH or VMRESUME. */
	movq R_RAX(%rdi), %rax
	movq R_RBX(%rdi), %rbx
	movq R_RCX(%rdi), %rcx
	movq R_RDX(%rdi), %rdx
	movq R_RSI(%rdi), %rsi
	movq R_RBP(%rdi), %rbp
	movq R_R8(%rdi), %r8
	movq R_R9(%rdi), %r9
	movq R_R10(%rdi), %r10
	movq R_R11(%rdi), %r11
	movq R_R12(%rdi), %r12
	movq R_R13(%rdi), %r13
	movq R_R14(%rdi), %r14
	movq R_R15(%rdi), %r15
	movq R_RDI(%rdi), %rdi
	jnz 1f
	vmlaunch
	jmp .Lfail
1:	vmresume
.Lfail:
	pushfq
	popq %rdx
	movl $1, %eax
	testl $RFLAGS_CF, %edx
	jnz 2f
	movl $2, %eax
2:	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

	.globl vmx_exit_entry
vmx_exit_entry:
	pushq %rdi
	movq 8(%rsp), %rdi
	movq %rax, R_RAX(%rdi)
	movq %rbx, R_RBX(%rdi)
	movq %rcx, R_RCX(%rdi)
	movq %rdx, R_RDX(%rdi)
	movq %rsi, R_RSI(%rdi)
	movq %rbp, R_RBP(%rdi)
	movq %r8, R_R8(%rdi)
	movq %r9, R_R9(%rdi)
	movq %r10, R_R10(%rdi)
	movq %r11, R_R11(%rdi)
	movq %r12, R_R12(%rdi)
	movq %r13, R_R13(%rdi)
	movq %r14, R_R14(%rdi)
	movq %r15, R_R15(%rdi)
	popq %rax
	movq %rax, R_RDI(%rdi)
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	xorl %eax, %eax
	ret

	.section .note.GNU-stack, "", @progbits
