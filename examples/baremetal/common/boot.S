/* SPDX-License-Identifier: MIT */
/*
 * Multiboot (v1) entry: the loader enters here in 32-bit protected mode,
 * paging off, EAX = 0x2BADB002, EBX = multiboot information (spec 3.2).
 * We identity-map the first 4 GiB with 2 MiB pages, enter long mode
 * (AMD APM vol. 2, 14.6 "Enabling and activating long mode"), load a flat
 * GDT and call bm_start(magic, mbi) on a 64 KiB stack.
 *
 * The image is linked as x86-64 at 1 MiB and converted to ELF32 (QEMU's
 * multiboot loader refuses ELF64), so this code must not depend on the
 * ELF class.
 */
#include "multiboot.h"

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_ET (1 << 4)
#define CR0_NE (1 << 5)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xC0000080
#define EFER_SCE (1 << 0)
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)
#define PTE_P 0x1
#define PTE_RW 0x2
#define PTE_PS 0x80

#define BOOT_STACK_SIZE 0x10000

	.section .multiboot, "a"
	.align 4
mb_header:
	.long MB_HEADER_MAGIC
	.long MB_HDR_PAGE_ALIGN | MB_HDR_MEMORY_INFO
	.long -(MB_HEADER_MAGIC + (MB_HDR_PAGE_ALIGN | MB_HDR_MEMORY_INFO))

	.section .text.boot, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl %eax, bm_boot_magic
	movl %ebx, bm_boot_mbi
	movl $boot_stack_top, %esp

	/* PML4[0] -> PDPT, PDPT[0..3] -> four page directories. */
	movl $boot_pdpt, %eax
	orl $(PTE_P | PTE_RW), %eax
	movl %eax, boot_pml4
	movl $boot_pd, %eax
	orl $(PTE_P | PTE_RW), %eax
	xorl %ecx, %ecx
1:	movl %eax, boot_pdpt(, %ecx, 8)
	addl $0x1000, %eax
	incl %ecx
	cmpl $4, %ecx
	jb 1b

	/* 2048 PDEs of 2 MiB each: 0 .. 4 GiB, identity. */
	xorl %ecx, %ecx
	movl $(PTE_P | PTE_RW | PTE_PS), %eax
	xorl %edx, %edx
2:	movl %eax, boot_pd(, %ecx, 8)
	movl %edx, boot_pd + 4(, %ecx, 8)
	addl $0x200000, %eax
	incl %ecx
	cmpl $2048, %ecx
	jb 2b

	movl %cr4, %eax
	orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_SCE), %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP), %eax
	movl %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x08, $long_entry

	.code64
long_entry:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	xorq %rbp, %rbp
	movl bm_boot_magic, %edi
	movl bm_boot_mbi, %esi
	call bm_start
3:	cli
	hlt
	jmp 3b

	.section .rodata
	.align 16
	.globl bm_gdt
bm_gdt:
	.quad 0                     /* 0x00 null */
	.quad 0x00AF9A000000FFFF    /* 0x08 64-bit code, DPL 0 */
	.quad 0x00CF92000000FFFF    /* 0x10 data, DPL 0 */
	.quad 0x00CF9A000000FFFF    /* 0x18 32-bit code, DPL 0 */
bm_gdt_end:
boot_gdt_ptr:
	.word bm_gdt_end - bm_gdt - 1
	.long bm_gdt

	.data
	.align 4
	.globl bm_boot_magic, bm_boot_mbi
bm_boot_magic:
	.long 0
bm_boot_mbi:
	.long 0

	.bss
	.align 4096
	.globl bm_boot_pml4
bm_boot_pml4:
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4096 * 4
	.align 16
boot_stack:
	.skip BOOT_STACK_SIZE
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
