/* SPDX-License-Identifier: MIT */
/*
 * L2 payloads: tiny 64-bit routines that L1 starts one at a time by
 * pointing the VMCB's RIP at them. Each provokes the events one check
 * expects and ends with VMMCALL (intercepted: "done"). The labels
 * l2_*_insn mark the instruction that must exit, so that L1 can compare
 * the VMCB's RIP with it; L1 computes next RIP from the instruction lengths
 * given here (QEMU's SVM has no NRIP save).
 */
#include "l2.h"

	.code64
	.section .text.l2, "ax"

#define L2_FUNC(name) .globl name; .type name, @function; name:
#define L2_LABEL(name) .globl name; name:

/* CPUID intercept: leaf/subleaf go to L1; L2 sums what comes back. */
L2_FUNC(l2_cpuid)
	mov $L2_CPUID_LEAF, %eax
	mov $L2_CPUID_SUBLEAF, %ecx
L2_LABEL(l2_cpuid_insn)
	cpuid				/* 0f a2: 2 bytes */
	mov %rax, %r8
	add %rbx, %r8
	add %rcx, %r8
	add %rdx, %r8
	vmmcall

/* HLT intercept */
L2_FUNC(l2_hlt)
L2_LABEL(l2_hlt_insn)
	hlt				/* f4: 1 byte */
	vmmcall

/* IOIO with the IOPM bit set: three forms of I/O to L2_IO_PORT. */
L2_FUNC(l2_io)
	mov $L2_IO_OUT_VALUE, %al
L2_LABEL(l2_io_out_insn)
	out %al, $L2_IO_PORT		/* e6 ib: 2 bytes, 8-bit OUT */
	mov $(L2_IO_PORT - 1), %dx
L2_LABEL(l2_io_in_insn)
	in (%dx), %ax			/* 66 ed: 2 bytes, 16-bit IN covering L2_IO_PORT */
	mov %rax, %r9
	mov $L2_IO_PORT, %dx
	lea l2_io_buf(%rip), %rsi
	mov $3, %ecx
L2_LABEL(l2_io_outs_insn)
	rep outsb			/* f3 6e: 2 bytes, REP OUTSB */
	mov %r9, %rax
	vmmcall

/*
 * I/O that L1 does not intercept: write the UART scratch register
 * (16550 register 7) and read it back. L2_IO_PORT is touched first: with
 * IOIO_PROT clear it must not exit either.
 */
L2_FUNC(l2_io_pass)
	mov %bl, %al
	out %al, $L2_IO_PORT
	mov $L2_SCRATCH_PORT, %dx
	mov %bl, %al
	out %al, (%dx)
	xor %eax, %eax
	in (%dx), %al
	vmmcall

/* RDMSR then WRMSR of L2_MSR; L1 intercepts both. */
L2_FUNC(l2_msr)
	mov $L2_MSR, %ecx
	xor %eax, %eax
	xor %edx, %edx
L2_LABEL(l2_rdmsr_insn)
	rdmsr				/* 0f 32: 2 bytes */
	mov %rax, %r8
	mov %rdx, %r9
	mov $L2_MSR, %ecx
	mov $L2_MSR_WRITE_LO, %eax
	mov $L2_MSR_WRITE_HI, %edx
L2_LABEL(l2_wrmsr_insn)
	wrmsr				/* 0f 30: 2 bytes */
	vmmcall

/* RDMSR of an MSR outside every MSRPM range: always intercepted. */
L2_FUNC(l2_msr_outside)
	mov $L2_MSR_OUTSIDE, %ecx
L2_LABEL(l2_msr_outside_insn)
	rdmsr
	vmmcall

/* MSR pass-through: WRMSR then RDMSR of L2_MSR with no intercept. */
L2_FUNC(l2_msr_pass)
	mov $L2_MSR, %ecx
	mov %ebx, %eax
	xor %edx, %edx
	wrmsr
	xor %eax, %eax
	rdmsr
	vmmcall

/* #PF: read, then (after L1 resumes past it) write, of unmapped addresses. */
L2_FUNC(l2_pf)
	mov $L2_PF_READ_ADDR, %ebx
L2_LABEL(l2_pf_read_insn)
	mov (%rbx), %rax		/* 48 8b 03: 3 bytes */
	mov $L2_PF_WRITE_ADDR, %ebx
L2_LABEL(l2_pf_write_insn)
	movq $1, (%rbx)			/* 48 c7 03 imm32: 7 bytes */
	vmmcall

/* #UD */
L2_FUNC(l2_ud)
L2_LABEL(l2_ud_insn)
	ud2				/* 0f 0b: 2 bytes */
	vmmcall

/* #DE: divide by zero */
L2_FUNC(l2_de)
	mov $1, %eax
	xor %edx, %edx
	xor %ecx, %ecx
L2_LABEL(l2_de_insn)
	div %ecx			/* f7 f1: 2 bytes */
	vmmcall

/* #GP(0): a non-canonical address */
L2_FUNC(l2_gp)
	movabs $L2_NONCANONICAL, %rbx
L2_LABEL(l2_gp_insn)
	mov (%rbx), %rax		/* 3 bytes */
	vmmcall

/* A load from RBX: used for the nested page faults. */
L2_FUNC(l2_load)
L2_LABEL(l2_load_insn)
	mov (%rbx), %rax		/* 3 bytes */
	vmmcall

/* A store of RCX to RBX */
L2_FUNC(l2_store)
L2_LABEL(l2_store_insn)
	mov %rcx, (%rbx)		/* 48 89 0b: 3 bytes */
	vmmcall

/* L2 runs VMRUN itself; L1 must see it as an exit (the intercept is mandatory). */
L2_FUNC(l2_vmrun)
	lea l2_nested_vmcb(%rip), %rax
L2_LABEL(l2_vmrun_insn)
	vmrun %rax			/* 0f 01 d8: 3 bytes */
	vmmcall

/*
 * State L2 changes without exiting (CR2, CR0.TS, RFLAGS.DF, RSP) must be in
 * the VMCB at the next exit; what L1 then changes there must reach L2.
 */
L2_FUNC(l2_state)
	movabs $L2_STATE_CR2, %rax
	mov %rax, %cr2
	mov %cr0, %rax
	or $L2_CR0_TS, %rax
	mov %rax, %cr0
	std
	sub $L2_STATE_RSP_DELTA, %rsp
	mov $L2_STATE_RAX, %eax
L2_LABEL(l2_state_vmmcall)
	vmmcall				/* 0f 01 d9: 3 bytes */
	cld
	add $L2_STATE_RSP_DELTA, %rsp
	mov %cr2, %rbx
	mov %cr0, %rcx
	vmmcall

/* Where injected events are delivered: HLT would mean no event came. */
L2_FUNC(l2_inject_target)
	hlt
	vmmcall

/* L2's handler for injected events: reports the top of its stack in RBX. */
L2_FUNC(l2_event_handler)
	mov (%rsp), %rbx
L2_LABEL(l2_event_handler_vmmcall)
	vmmcall

/* STI, then spin RCX times: a virtual interrupt should come first. */
L2_FUNC(l2_sti_spin)
	sti
L2_LABEL(l2_sti_spin_loop)
	dec %rcx
	jnz l2_sti_spin_loop
L2_LABEL(l2_sti_spin_end)
	cli
	vmmcall

/* RDTSC: EDX:EAX combined in RAX. */
L2_FUNC(l2_rdtsc)
L2_LABEL(l2_rdtsc_insn)
	rdtsc				/* 0f 31: 2 bytes */
	shl $32, %rdx
	or %rdx, %rax
	vmmcall

/* CR3 read, then CR0 write of its own value. */
L2_FUNC(l2_cr)
L2_LABEL(l2_cr3_read_insn)
	mov %cr3, %rax			/* 0f 20 d8: 3 bytes */
	mov %cr0, %rbx
L2_LABEL(l2_cr0_write_insn)
	mov %rbx, %cr0			/* 0f 22 c3: 3 bytes */
	vmmcall

/*
 * Mixed round trips: L2_MIXED_ROUNDS times CPUID (L1 answers EAX = i + 1),
 * OUT of i to L2_IO_PORT, RDMSR of L2_MSR (L1 answers EAX = ~i). RAX = 0 at
 * the end if every answer was right, else 1.
 */
L2_FUNC(l2_mixed)
	xor %r12d, %r12d
1:	mov %r12d, %eax
	xor %ecx, %ecx
L2_LABEL(l2_mixed_cpuid_insn)
	cpuid
	lea 1(%r12), %r13d
	cmp %r13d, %eax
	jne 2f
	mov %r12d, %eax
L2_LABEL(l2_mixed_out_insn)
	out %al, $L2_IO_PORT
	mov $L2_MSR, %ecx
L2_LABEL(l2_mixed_rdmsr_insn)
	rdmsr
	mov %r12d, %r13d
	not %r13d
	cmp %r13d, %eax
	jne 2f
	inc %r12d
	cmp $L2_MIXED_ROUNDS, %r12d
	jne 1b
	xor %eax, %eax
	vmmcall
2:	mov $1, %eax
	vmmcall

/* CPUID twice: L1 drops the CPUID intercept in between. */
L2_FUNC(l2_cpuid_twice)
	xor %eax, %eax
	xor %ecx, %ecx
L2_LABEL(l2_cpuid_twice_insn)
	cpuid
	xor %eax, %eax
	xor %ecx, %ecx
	cpuid
	vmmcall

/* A busy loop of RCX iterations: an interrupt should end it early. */
L2_FUNC(l2_spin)
L2_LABEL(l2_spin_loop)
	dec %rcx
	jnz l2_spin_loop
L2_LABEL(l2_spin_end)
	vmmcall

/*
 * Round trips: L2_ROUND_TRIPS CPUIDs with EAX = i; L1 answers
 * EAX = 3i + 1, EBX = ~i. RAX = 0 at the end if every answer was right,
 * else 1 and R12 = the failing i.
 */
L2_FUNC(l2_round_trips)
	xor %r12d, %r12d
1:	mov %r12d, %eax
	xor %ecx, %ecx
L2_LABEL(l2_rt_insn)
	cpuid
	lea 1(%r12, %r12, 2), %r13d
	cmp %r13d, %eax
	jne 2f
	mov %r12d, %r13d
	not %r13d
	cmp %r13d, %ebx
	jne 2f
	inc %r12d
	cmp $L2_ROUND_TRIPS, %r12d
	jne 1b
	xor %eax, %eax
	vmmcall
2:	mov $1, %eax
	vmmcall

/*
 * The shrink checks' L2 (shrink.c): RCX pages from RBX on, 4 KiB apart.
 * The first and the last word of page i must hold RDX + i; both then get
 * RDX + L2_SHRINK_NEXT + i. RAX: how many words differed.
 */
L2_FUNC(l2_shrink)
	xor %eax, %eax
	xor %r8d, %r8d
1:	lea (%rdx, %r8), %r9
	cmp %r9, (%rbx)
	je 2f
	inc %rax
2:	cmp %r9, L2_SHRINK_LAST_WORD(%rbx)
	je 3f
	inc %rax
3:	add $L2_SHRINK_NEXT, %r9
	mov %r9, (%rbx)
	mov %r9, L2_SHRINK_LAST_WORD(%rbx)
	add $4096, %rbx
	inc %r8
	cmp %rcx, %r8
	jb 1b
L2_LABEL(l2_shrink_done)
	vmmcall

	.section .rodata.l2, "a"
l2_io_buf:
	.byte 0x11, 0x22, 0x33

	.bss
	.balign 4096
	.globl l2_nested_vmcb
l2_nested_vmcb:
	.skip 4096

	.section .note.GNU-stack, "", @progbits
