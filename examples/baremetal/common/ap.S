/* SPDX-License-Identifier: MIT */
/*
 * Application processors start here (smp.c copies this code to
 * AP_BOOT_BASE, below 1 MiB, and sends INIT-SIPI-SIPI with vector
 * AP_BOOT_BASE >> 12). An AP starts in real mode at CS:IP = vector << 8 : 0
 * (MultiProcessor Specification B.4, APM 16.2) and goes to long mode the
 * way boot.S does for the BSP (APM 14.6): boot.S's GDT and page tables,
 * then a call of the C entry on the stack the BSP left in the data block.
 *
 * Data block at AP_BOOT_BASE + AP_BOOT_DATA (struct ap_boot in smp.c):
 * +0 GDTR (limit, 32-bit base), +8 CR3, +16 stack top, +24 C entry.
 */
#define AP_BOOT_BASE 0x8000
#define AP_BOOT_DATA 0xF00
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
#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_CODE32 0x18
#define AT(label) (label - bm_ap_boot + AP_BOOT_BASE)

	.section .rodata
	.globl bm_ap_boot, bm_ap_boot_end
	.code16
bm_ap_boot:
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl AP_BOOT_BASE + AP_BOOT_DATA
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE32, $AT(ap_pm32)

	.code32
ap_pm32:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4
	movl AP_BOOT_BASE + AP_BOOT_DATA + 8, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_SCE), %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP), %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE64, $AT(ap_lm64)

	.code64
ap_lm64:
	movw $SEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq AP_BOOT_BASE + AP_BOOT_DATA + 16, %rsp
	xorq %rbp, %rbp
	movq AP_BOOT_BASE + AP_BOOT_DATA + 24, %rax
	call *%rax
1:	cli
	hlt
	jmp 1b
bm_ap_boot_end:

	.section .note.GNU-stack, "", @progbits
