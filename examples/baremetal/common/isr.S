/* SPDX-License-Identifier: MIT */
/*
 * Interrupt and exception entry stubs, one per vector, each 16 bytes long
 * so that stub N lives at bm_isr_stubs + 16 * N. Vectors that push an error
 * code (AMD APM vol. 2, 8.2 / SDM 6.13) get none pushed here; the others get
 * a zero so that every frame has the layout of struct bm_regs.
 */
	.altmacro
	.macro isr_stub vec
	.balign 16
	.if ((\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30))
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp isr_common
	.endm

	.text
	.balign 16
	.globl bm_isr_stubs
bm_isr_stubs:
	.set vec, 0
	.rept 256
	isr_stub %vec
	.set vec, vec + 1
	.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	cld
	call bm_interrupt
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

	.section .note.GNU-stack, "", @progbits
