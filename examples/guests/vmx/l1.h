/* SPDX-License-Identifier: MIT */
/* The test VMX L1 hypervisor: state shared by its setup (l1.c) and its checks (checks.c). */
#ifndef VMX_L1_H
#define VMX_L1_H

#include <stdbool.h>
#include <stdint.h>

#include "bm.h"
#include "bm_vmx.h"
#include "vmx.h"

/* How L2's memory is translated: by L1's page tables alone, or also by L1's EPT. */
struct l1_mode {
	const char *name; /* suffix of the check names */
	bool ept;
};

/*
 * L1's EPT for L2 identity-maps guest-physical [0, 4 GiB) with 2 MiB pages,
 * except the 2 MiB window l1.ept_window, mapped with 4 KiB pages, identity
 * and RWX except these pages:
 */
#define EPT_WIN_HOLE 1 /* not present; also holds L2's PDPT for PML4[1] */
#define EPT_WIN_RO 2   /* read and execute */
#define EPT_WIN_NX 3   /* read and write */

/* General-purpose registers of L2 in encoding order, as bm_vmx_run() takes them
 * (RSP and RIP live in the VMCS). */
struct l2_regs {
	uint64_t rax, rcx, rdx, rbx, rsp_slot, rbp, rsi, rdi;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};
_Static_assert(sizeof(struct l2_regs) == BM_GPR_COUNT * sizeof(uint64_t),
	       "struct l2_regs is bm_vmx_run()'s register array");

/* What L1 reads through VMREAD after each VM exit. */
struct l2_exit {
	uint32_t reason; /* full exit reason, bit 31 set for VM-entry failures */
	uint64_t qual;
	uint32_t intr_info, intr_error;
	uint32_t idt_vectoring;
	uint32_t insn_len, insn_info;
	uint64_t rip;
	uint64_t gpa, gla;
};

/* Everything L1 keeps for its one L2. */
struct l1 {
	uint32_t revision;
	uint64_t basic, misc, ept_cap;
	uint64_t ctl_msr[4]; /* pin, proc, exit, entry (the TRUE_ MSRs when available) */
	uint64_t proc2_msr;
	uint64_t *vmxon_region;
	uint64_t *vmcs;	      /* the VMCS every check uses */
	uint64_t *vmcs_other; /* a second one, for VMPTRLD checks */
	uint8_t *io_bitmap_a, *io_bitmap_b;
	uint8_t *msr_bitmap;
	uint64_t *msr_area; /* VM-entry MSR-load area */
	uint64_t *ept_pml4;
	uint64_t *ept_window_pt;
	uint8_t *ept_window; /* 2 MiB, 2 MiB aligned */
	uint64_t *l2_pml4;   /* L1's PML4 plus entry 1 (see L2_EPT_WALK_ADDR) */
	uint64_t *l2_idt;    /* 256 gates */
	uint8_t *l2_stack_top;
	uint64_t cr0, cr4, efer;
	bool launched;
	struct l2_regs regs;
	struct l2_exit exit;
	unsigned exits;	 /* VM exits from L2 (not counting VM-entry failures) */
	unsigned checks; /* checks run */
	unsigned failed; /* checks failed */
};
extern struct l1 l1;

static inline uint64_t pa(const void *p)
{
	return (uint64_t)(uintptr_t)p; /* identity-mapped */
}

/* ---- VMCS access (l1.c) ---- */
/* VMWRITE/VMREAD that must succeed; a failure is reported and counted. */
void vmw(uint32_t field, uint64_t value);
uint64_t vmr(uint32_t field);
/* The value of a control field with @want set, adjusted to what the CPU allows (SDM A.3-A.5). */
enum ctl_kind { CTL_PIN, CTL_PROC, CTL_EXIT, CTL_ENTRY, CTL_PROC2 };
uint32_t ctl_adjust(enum ctl_kind kind, uint32_t want);
/* True if the CPU allows the 1-setting of every bit of @bits in @kind. */
bool ctl_allowed(enum ctl_kind kind, uint32_t bits);

/* ---- L2 control (l1.c) ---- */
/*
 * A fresh VMCS (VMCLEAR, VMPTRLD, every field written) that starts L2 at
 * @entry in @mode: HLT and unconditional I/O exiting, no MSR bitmaps (every
 * MSR access exits), every exception intercepted, CR4.VMXE owned by L1
 * and hidden by the read shadow, registers zeroed.
 */
void l2_prepare(const struct l1_mode *mode, const void *entry);
/* The VMCS part of l2_prepare() on @vmcs, which becomes this processor's
 * current VMCS; the bitmaps are l1's (left as they are), nothing of l1
 * changes: the AP's L1 prepares its own VMCS with it (smp.c). */
void vmcs_prepare(uint64_t *vmcs, const struct l1_mode *mode, const void *entry);
/* One VM entry (VMLAUNCH first, then VMRESUME); returns vmx_run's status and records the exit. */
int l2_run(void);
/* Advances L2's RIP past the exiting instruction and runs it again. */
int l2_skip_and_run(void);
void io_bitmap_set(uint16_t port, bool intercept);
void msr_bitmap_set(uint32_t msr, bool read, bool write);

static inline int vmx_run(struct l2_regs *regs, int resume)
{
	return bm_vmx_run(&regs->rax, resume);
}

/* ---- local APIC (l1.c) ---- */
#define L1_IRQ_VECTOR 0x40
void apic_self_ipi(uint8_t vector);
uint64_t apic_base_address(void);
#define APIC_ICR_SELF (1u << 18) /* destination shorthand 01: self */
void apic_eoi(void);
bool apic_isr_set(uint8_t vector);
extern volatile unsigned l1_irqs; /* interrupts at L1_IRQ_VECTOR taken by L1 */

/* ---- checks (checks.c) ---- */
struct check {
	char name[64];
	bool failed;
	char why[256];
	size_t len;
};
void check_begin(struct check *c, const char *name, const struct l1_mode *mode);
void check_fail(struct check *c, const char *fmt, ...) __attribute__((format(__printf__, 2, 3)));
/* Records "what = got, expected want" unless they match; returns whether they did. */
bool expect(struct check *c, const char *what, uint64_t got, uint64_t want);
/* Checks that L2 exited (not a VMfail, not an entry failure) with basic reason @reason. */
bool expect_exit(struct check *c, int status, uint32_t reason);
void check_end(struct check *c);

void checks_exits(const struct l1_mode *mode);
void checks_events(const struct l1_mode *mode);
void checks_ept(const struct l1_mode *mode);
void checks_vmfail(void);
void checks_round_trips(const struct l1_mode *mode);
/* With more than one processor (smp.c): L1's AP, L2 on both vCPUs, an IPI
 * across them; @shared_ept: also the check that needs L0's EPT02 shared by
 * the vCPUs (INVEPT on one processor reaching the other). */
void checks_smp(bool shared_ept);

#endif /* VMX_L1_H */
