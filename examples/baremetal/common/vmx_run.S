/* SPDX-License-Identifier: MIT */
/*
 * VM entry and VM exit for a VMX hypervisor on the boot layer (Intel SDM
 * Vol. 3C ch. 27, 28); see bm_vmx.h.
 *
 * int bm_vmx_run(uint64_t gpr[16], int resume)
 *   loads the guest's general-purpose registers from gpr (encoding order:
 *   RAX RCX RDX RBX RSP RBP RSI RDI R8..R15; RSP is the VMCS's, its slot is
 *   ignored) and executes VMLAUNCH (resume == 0) or VMRESUME on the current
 *   VMCS. On a VM exit the processor continues at bm_vmx_exit_entry (HOST_RIP)
 *   with RSP = HOST_RSP, written here just before the entry; the guest's
 *   registers are stored back to gpr and 0 is returned. If the instruction
 *   itself fails, 1 (VMfailInvalid) or 2 (VMfailValid) is returned.
 */
#define HOST_RSP 0x6C14

#define G(n) (8 * (n))
#define G_RAX G(0)
#define G_RCX G(1)
#define G_RDX G(2)
#define G_RBX G(3)
#define G_RBP G(5)
#define G_RSI G(6)
#define G_RDI G(7)

#define RFLAGS_CF 0x1

	.text
	.code64
	.globl bm_vmx_run
bm_vmx_run:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi /* found at (%rsp) by bm_vmx_exit_entry */
	movl $HOST_RSP, %eax
	vmwrite %rsp, %rax
	testl %esi, %esi
	/* MOV does not change the flags that select VMLAUNCH or VMRESUME. */
	movq G_RAX(%rdi), %rax
	movq G_RCX(%rdi), %rcx
	movq G_RDX(%rdi), %rdx
	movq G_RBX(%rdi), %rbx
	movq G_RBP(%rdi), %rbp
	movq G_RSI(%rdi), %rsi
	movq G(8)(%rdi), %r8
	movq G(9)(%rdi), %r9
	movq G(10)(%rdi), %r10
	movq G(11)(%rdi), %r11
	movq G(12)(%rdi), %r12
	movq G(13)(%rdi), %r13
	movq G(14)(%rdi), %r14
	movq G(15)(%rdi), %r15
	movq G_RDI(%rdi), %rdi
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

	.globl bm_vmx_exit_entry
bm_vmx_exit_entry:
	pushq %rdi
	movq 8(%rsp), %rdi
	movq %rax, G_RAX(%rdi)
	movq %rcx, G_RCX(%rdi)
	movq %rdx, G_RDX(%rdi)
	rdtsc
	shlq $32, %rdx
	orq %rdx, %rax
	movq %rax, bm_vmx_exit_tsc(%rip)
	movq %rbx, G_RBX(%rdi)
	movq %rbp, G_RBP(%rdi)
	movq %rsi, G_RSI(%rdi)
	movq %r8, G(8)(%rdi)
	movq %r9, G(9)(%rdi)
	movq %r10, G(10)(%rdi)
	movq %r11, G(11)(%rdi)
	movq %r12, G(12)(%rdi)
	movq %r13, G(13)(%rdi)
	movq %r14, G(14)(%rdi)
	movq %r15, G(15)(%rdi)
	popq %rax
	movq %rax, G_RDI(%rdi)
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	xorl %eax, %eax
	ret

	.bss
	.balign 8
	.globl bm_vmx_exit_tsc
bm_vmx_exit_tsc:
	.quad 0

	.section .note.GNU-stack, "", @progbits
