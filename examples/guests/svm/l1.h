/* SPDX-License-Identifier: MIT */
/* The test L1 hypervisor: state shared by its setup (l1.c) and its checks (checks.c). */
#ifndef L1_H
#define L1_H

#include <stdbool.h>
#include <stdint.h>

#include "bm.h"
#include "svm.h"

/* How L2's memory is translated: by its own page tables only, or also by L1's NPT. */
struct l1_mode {
	const char *name; /* suffix of the check names */
	bool npt;
};

/*
 * L1's nested page table (NPT12) for L2: identity for guest-physical
 * [0, 1 GiB) in 2 MiB pages, except
 *  - NPT_RO_GPA: one 2 MiB page mapped read-only,
 *  - NPT_PT_GPA: one 2 MiB range mapped by 4 KiB pages, identity except
 *    two holes, NPT_HOLE_GPA (data) and NPT_GPT_HOLE_GPA (where L2's page
 *    tables will point to provoke a fault during the guest walk).
 * L1's own image must lie below NPT_RO_GPA (checked at start).
 */
#define NPT_RO_GPA 0x00E00000ull
#define NPT_PT_GPA 0x01000000ull
#define NPT_HOLE_INDEX 5
#define NPT_GPT_HOLE_INDEX 7
#define NPT_HOLE_GPA (NPT_PT_GPA + NPT_HOLE_INDEX * 4096ull)
#define NPT_GPT_HOLE_GPA (NPT_PT_GPA + NPT_GPT_HOLE_INDEX * 4096ull)
/* Guest-virtual address whose walk goes through NPT_GPT_HOLE_GPA (L2 PDPT[1]). */
#define L2_GPT_FAULT_ADDR 0x40000010ull

/* The exceptions L2 must never take itself: any of them ends the run cleanly. */
#define L1_EXC_INTERCEPTS                                                                          \
	((1u << EXC_DE) | (1u << EXC_UD) | (1u << EXC_DF) | (1u << EXC_TS) | (1u << EXC_NP) |      \
	 (1u << EXC_SS) | (1u << EXC_GP) | (1u << EXC_PF) | (1u << EXC_AC))

#define L2_ASID 1

/* Everything L1 keeps for its one L2. */
struct l1 {
	struct vmcb *vmcb;
	struct l2_regs regs;
	uint8_t *iopm;
	uint8_t *msrpm;
	uint64_t *l2_pdpt;
	uint64_t *npt_pd; /* NPT12's PD: [0, 1 GiB) in 2 MiB pages */
	uint64_t *npt_pt;
	uint64_t *fixup_page;
	uint32_t svm_features;	     /* CPUID Fn8000_000A EDX */
	unsigned exits;		     /* #VMEXITs observed from a running L2 */
	unsigned refused;	     /* VMRUNs that ended in VMEXIT_INVALID */
	unsigned checks;	     /* checks run */
	unsigned failed;	     /* checks failed */
	const struct check *current; /* the check running, for an unexpected trap's report */
};
extern struct l1 l1;

/* ---- L2 control (l1.c) ---- */
static inline uint64_t pa(const void *p)
{
	return (uint64_t)(uintptr_t)p; /* identity-mapped */
}
/* A fresh VMCB that starts L2 at @entry in @mode, with L1's standard intercepts. */
void l2_prepare(const struct l1_mode *mode, const void *entry);
/* One VMRUN; counts the #VMEXIT. */
void l2_run(bool irq_window);
void iopm_set(uint16_t port, bool intercept);
void msrpm_set(uint32_t msr, bool read, bool write);

/* ---- checks (checks.c) ---- */
struct check {
	const char *name;
	const char *mode;
	bool failed;
	char why[192];
};
void check_begin(struct check *c, const char *name, const struct l1_mode *mode);
void check_fail(struct check *c, const char *fmt, ...) __attribute__((format(__printf__, 2, 3)));
/* Records "what = got, expected want" unless they match; returns whether they did. */
bool expect(struct check *c, const char *what, uint64_t got, uint64_t want);
/* The exit code, and RIP when @rip is not NULL; on mismatch records the exit's details. */
bool expect_exit(struct check *c, const char *step, uint64_t code, const void *rip);
/* Prints "check NAME: ok" or "check NAME: FAIL (...)" and counts it. */
void check_end(struct check *c);

/* L1's handler for every vector it does not expect: reports, then FAIL verdict and exit. */
void l1_unexpected(struct bm_regs *regs);
/* Remaps the 8259 PICs clear of the exceptions and masks every IRQ. */
void l1_mask_legacy_irqs(void);

void run_mode_checks(const struct l1_mode *mode);
void run_npt_checks(const struct l1_mode *mode);
void run_single_checks(const struct l1_mode *mode);
void run_interrupt_checks(const struct l1_mode *mode);
void run_inject_checks(const struct l1_mode *mode);
void run_vmload_checks(const struct l1_mode *mode);
void run_ctl_checks(const struct l1_mode *mode);
/* The bare-metal stub's hypercalls (examples/baremetal/README.md). */
#define STUB_CPUID_SIGNATURE 0x40000000u
#define STUB_CPUID_FEATURES 0x40000001u
#define STUB_HC_F_BALLOON (1u << 0)
#define STUB_HC_F_SHRINK (1u << 1)
/* CPUID 0x40000001 EAX (STUB_HC_F_*) when CPUID 0x40000000 names the stub, else 0. */
uint32_t stub_features(void);
/* VMMCALL with RAX = @nr, RBX and RCX in and out: RAX after it. */
uint64_t stub_vmmcall(uint64_t nr, uint64_t *rbx, uint64_t *rcx);
void run_balloon_checks(const struct l1_mode *mode);
/* L0 takes a range of L1's memory away and gives it back while L2 runs
 * (shrink.c): with @mbi, L1's memory map. */
void run_shrink_checks(const struct l1_mode *mode, const struct mb_info *mbi);
/* With more than one processor: L1's AP and two L2s at once (smp.c);
 * @shared_npt: also the check that needs L0's NPT02 shared by the vCPUs. */
void run_smp_checks(bool shared_npt);

#endif
