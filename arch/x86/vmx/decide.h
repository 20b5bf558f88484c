/* SPDX-License-Identifier: MIT */
/*
 * Which of L0 and L1 an exit of L2 belongs to (decide.c; SDM 26.1, 26.2):
 * MSR and I/O bitmaps, CR masks and shadows, exception bitmap and #PF
 * mask/match. Pure functions of their arguments: unit tests and fuzzers
 * call them directly.
 */
#ifndef NEST_VMX_DECIDE_H
#define NEST_VMX_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/vmcs12.h"
#include "vmx/vmx_limits.h"

/* Who handles an exit of L2. */
enum nest__vmx_owner {
	NEST__VMX_OWNER_L0 = 0, /* L0's own reason: L0 handles, then resumes L2 */
	NEST__VMX_OWNER_L1 = 1, /* reflect into L1 */
	NEST__VMX_OWNER_TDP = 2 /* an EPT exit with EPT12 in use: the shadow EPT02 decides */
};

/* An exit of L2 as the decision sees it: vmcs02's exit-information fields
 * and the L2 registers that the exiting instruction used. */
struct nest__vmx_l2_exit {
	uint32_t reason;     /* full exit reason */
	uint32_t intr_info;  /* VM-exit interruption information */
	uint32_t intr_error; /* VM-exit interruption error code */
	uint32_t idt_info;   /* IDT-vectoring information */
	uint32_t idt_error;  /* IDT-vectoring error code */
	uint32_t insn_len;   /* VM-exit instruction length */
	uint32_t insn_info;  /* VM-exit instruction information */
	uint64_t qual;	     /* exit qualification */
	uint64_t gla;	     /* guest-linear address */
	uint64_t gpa;	     /* guest-physical address */
	uint64_t gpr[16];    /* L2's general-purpose registers, encoding order */
	/* The VMX-preemption timer that fired was L1's (its value was the
	 * smaller one in vmcs02), not L0's. */
	bool l1_timer_fired;
};

/* L1's bitmaps, fetched from L1 memory once at VM entry. */
struct nest__vmx_l1_bitmaps {
	bool msr_valid; /* msr[] holds L1's MSR bitmap (use MSR bitmaps was 1) */
	bool io_valid;	/* io[] holds L1's I/O bitmaps A and B (use I/O bitmaps was 1) */
	uint8_t msr[NEST__VMX_MSR_BITMAP_SIZE];
	uint8_t io[NEST__VMX_IO_BITMAP_SIZE];
};

/* An MSR bitmap's verdict for RDMSR (write false) or WRMSR of `msr`:
 * true = VM exit. MSRs outside 0-1FFFH and C0000000H-C0001FFFH always
 * exit (SDM 26.1.3). */
bool nest__vmx_msr_bitmap_exits(const uint8_t *bitmap, uint32_t msr, bool write);

/* The I/O bitmaps' verdict for an access of `size` bytes (1, 2 or 4) at
 * `port`: true if the bit of any byte accessed is set, or if the access
 * wraps past port FFFFH (SDM 26.1.3). `bitmaps` is A then B (8 KiB). */
bool nest__vmx_io_bitmap_exits(const uint8_t *bitmaps, uint32_t port, unsigned size);

/* Does L1's vmcs12 make this control-register access exit (SDM 26.1.3:
 * MOV to/from CR0/CR3/CR4/CR8, CLTS, LMSW)? `qual` is the CR-access exit
 * qualification, `gpr` L2's registers. */
bool nest__vmx_cr_access_exits(const struct nest__vmcs12 *v, uint64_t qual, const uint64_t *gpr);

/* Does L1's exception bitmap (and #PF error-code mask/match) make an
 * exception with `vector` and error code `pfec` exit (SDM 26.2)? */
bool nest__vmx_exception_exits(const struct nest__vmcs12 *v, unsigned vector, uint32_t pfec);

/* Who gets an exit of L2 (SDM 26.1, 26.2): L1 when its vmcs12 controls,
 * bitmaps, masks or EPT12 ask for it; L0 for what belongs to L0 (external
 * interrupts, NMIs, machine checks, EPT01 faults, its own timer); the
 * shadow EPT02 for EPT exits while L1 uses EPT. */
enum nest__vmx_owner nest__vmx_exit_owner(const struct nest__vmcs12 *v,
					  const struct nest__vmx_l2_exit *e,
					  const struct nest__vmx_l1_bitmaps *bm);

#endif /* NEST_VMX_DECIDE_H */
