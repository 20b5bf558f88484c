/* SPDX-License-Identifier: MIT */
/*
 * Helpers for nested-SVM tests, fuzzers and benchmarks on the simulated
 * backend: a context with its vmcb02 and merged maps, L1's vmcb01 in a
 * standard 64-bit CPL-0 state, valid vmcb12 images, and one-call L1 and L2
 * exits. Test-only code: it uses libc.
 */
#ifndef SIM_SVM_H
#define SIM_SVM_H

#include <nest/svm.h>
#include <nest/tdp.h>

#include "sim.h"

/* L1-physical layout the helpers use. */
#define SIM_SVM_L1_MEM (4ull << 20)
#define SIM_SVM_VMCB12 0x10000ull
#define SIM_SVM_MSRPM12 0x20000ull
#define SIM_SVM_IOPM12 0x30000ull
#define SIM_SVM_HSAVE 0x40000ull
#define SIM_SVM_VMLOAD_AREA 0x50000ull
#define SIM_SVM_NPT12 0x100000ull /* NPT12 tables built by tests */
#define SIM_SVM_NPT01_NCR3 0x7000000ull
#define SIM_SVM_L2_ASID 7u
#define SIM_SVM_MAXPHYADDR 48u
#define SIM_SVM_HPA_VMCB02 0x300000000000ull
#define SIM_SVM_HPA_MSRPM02 0x300000010000ull
#define SIM_SVM_HPA_IOPM02 0x300000020000ull

struct sim_svm {
	struct sim sim;
	struct nest_svm *ctx;
	void *ctx_mem;
	struct nest_vmcb *vmcb01;
	struct nest_vmcb *vmcb02;
	uint8_t *msrpm02, *iopm02;
	uint8_t *l0_msrpm, *l0_iopm;
	struct nest_tdp *tdp;
	void *tdp_mem;
	struct nest_svm_config cfg;
	struct nest_svm_regs regs;
	struct nest_svm_action act;
};

/* Host CPUID 0x8000000A EDX of a generous host (every feature libnest supports). */
#define SIM_SVM_HOST_FEATURES NEST_SVM_F_SUPPORTED

/* Set up a context: host with every feature, policy `features`, config
 * `flags` (NEST_SVM_CFG_*; SVM_ALLOWED and LONG_MODE are typical), with an
 * NPT02 shadow when `with_tdp`. L0 intercepts L0_icpt for L2 (may be NULL).
 * L1 starts with EFER.SVME set through WRMSR. Returns 0 or -1. */
int sim_svm_init(struct sim_svm *t, uint32_t features, uint32_t flags, int with_tdp,
		 const uint32_t *l0_icpt);
void sim_svm_fini(struct sim_svm *t);

/* L1 in 64-bit mode at CPL 0 with paging, as vmcb01 holds it. */
void sim_svm_l1_state(struct nest_vmcb *v);
/* A vmcb12 that passes every check: 64-bit L2, VMRUN intercepted, ASID 1. */
void sim_svm_valid_vmcb12(struct nest_vmcb *v);

/* L1 executes an intercepted instruction: EXITCODE/EXITINFO1 in vmcb01,
 * 3-byte instruction. Returns the libnest status; the action is in t->act. */
int sim_svm_l1(struct sim_svm *t, uint64_t exitcode, uint64_t exitinfo1);
/* Write vmcb12 at SIM_SVM_VMCB12 and have L1 VMRUN it. */
int sim_svm_vmrun(struct sim_svm *t, const struct nest_vmcb *vmcb12);
/* L2 exits with this code and information (set in vmcb02). */
int sim_svm_l2(struct sim_svm *t, uint64_t exitcode, uint64_t exitinfo1, uint64_t exitinfo2);
/* vmcb12 as L1 memory holds it now. */
void sim_svm_read_vmcb12(struct sim_svm *t, struct nest_vmcb *out);

#endif /* SIM_SVM_H */
