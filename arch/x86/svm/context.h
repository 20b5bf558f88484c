/* SPDX-License-Identifier: MIT */
/*
 * The per-vCPU nested-SVM context: the internal layout of struct nest_svm,
 * the action helpers, and the functions the files of arch/x86/svm share,
 * grouped by the file that defines them.
 */
#ifndef NEST_SVM_CONTEXT_H
#define NEST_SVM_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include <nest/svm.h>
#include <nest/tdp.h>

#include "internal.h"
#include "cpu/x86.h"

/* SVM revision reported in CPUID 0x8000000A EAX[7:0] when the host reports none. */
#define SVM_REVISION_DEFAULT 1u
/* CPUID 0x80000001 ECX bit 2: SVM (APM 15.4). */
#define CPUID_80000001_ECX_SVM (1u << 2)
#define CPUID_LEAF_EXT_FEATURES 0x80000001u
#define CPUID_LEAF_SVM 0x8000000Au

/* TSC_RATIO (APM 15.30.5): 8.32 fixed point, bits 63:40 MBZ; reset value 1.0. */
#define SVM_TSC_RATIO_ONE (1ull << 32)
#define SVM_TSC_RATIO_MBZ (~((1ull << 40) - 1))
#define SVM_TSC_RATIO_FRAC_BITS 32

/* The two permission maps, as bits of nest_svm::map_have and map_merged. */
#define SVM_MAP_IOPM 0x1u
#define SVM_MAP_MSRPM 0x2u

/* VM_HSAVE_PA (APM 15.30.4): 4 KiB aligned. */
#define SVM_PAGE_SIZE 4096ull
#define SVM_PAGE_MASK (SVM_PAGE_SIZE - 1)

/* DR7 after #VMEXIT (APM 15.7.2: "DR7 = 0x400"), DR6 fixed bits. */
#define SVM_DR7_RESET 0x400ull

/* MSRPM (APM 15.11): three 2 KiB ranges, two bits per MSR (read, write). */
#define SVM_MSRPM_RANGE_BYTES 0x800u
#define SVM_MSRPM_MSRS_PER_RANGE 0x2000u
#define SVM_MSRPM_RANGE0_BASE 0x00000000u
#define SVM_MSRPM_RANGE1_BASE 0xc0000000u
#define SVM_MSRPM_RANGE2_BASE 0xc0010000u

/* VM_CR bits L1 may write (APM 15.30.1). */
#define SVM_VM_CR_WRITABLE                                                                         \
	(X86_VM_CR_DPD | X86_VM_CR_R_INIT | X86_VM_CR_DIS_A20M | X86_VM_CR_LOCK | X86_VM_CR_SVMDIS)

/* The VMCB save-area fields VMLOAD and VMSAVE transfer (APM 15.5.2): two
 * contiguous ranges of the VMCB. */
#define SVM_VMLOAD_SEG_START                                                                       \
	NEST_VMCB_OFF_FS_SELECTOR /* FS, GS, GDTR(skipped), LDTR, IDTR(skipped), TR */
#define SVM_VMLOAD_SEG_END (NEST_VMCB_OFF_TR_BASE + 8)
#define SVM_VMLOAD_MSR_START NEST_VMCB_OFF_STAR
#define SVM_VMLOAD_MSR_END (NEST_VMCB_OFF_SYSENTER_EIP + 8)

/* L1's host state, saved at VMRUN and restored at #VMEXIT (APM 15.5.1/15.6). */
struct svm_host_state {
	struct nest_vmcb_seg es, cs, ss, ds, gdtr, idtr;
	uint64_t efer, cr0, cr3, cr4, rflags, rip, rsp, rax;
};

struct nest_svm {
	uint64_t magic;
	struct nest_backend be;
	uint32_t flags;	   /* NEST_SVM_CFG_* */
	uint32_t features; /* offered NEST_SVM_F_* */
	uint32_t host_features;
	uint32_t soft_features; /* offered, not on the host: carried out in software */
	uint32_t host_cpuid[4];
	uint32_t maxphyaddr;
	uint32_t l1_asids;
	uint32_t l2_asid;
	uint32_t reserved0;
	uint64_t efer_allowed;
	uint64_t cr4_allowed;
	uint64_t npt01_ncr3;
	uint64_t l0_tsc_ratio;
	uint32_t l0_icpt[NEST_SVM_INTERCEPT_WORDS];
	const uint8_t *l0_msrpm;
	const uint8_t *l0_iopm;
	struct nest_vmcb *vmcb02;
	uint64_t vmcb02_hpa;
	uint8_t *msrpm02;
	uint64_t msrpm02_hpa;
	uint8_t *iopm02;
	uint64_t iopm02_hpa;
	struct nest_tdp *tdp;

	/* L1's virtual SVM state. */
	bool svme;
	bool gif;
	bool guest_mode;
	bool last_asid_valid;
	uint32_t last_asid12;
	uint64_t hsave_pa;
	uint64_t vm_cr;
	uint64_t tsc_ratio;

	/* Guest mode: what VMRUN took from L1. */
	uint64_t vmcb12_pa;
	struct nest_vmcb vmcb12;    /* the single copy of vmcb12 */
	struct svm_host_state host; /* L1's state at VMRUN */
	bool l1_msrpm_used;	    /* vmcb12 MSR_PROT: l1_msrpm holds L1's map */
	bool msrpm02_l0_only;	    /* msrpm02 is a copy of L0's map (no L1 bits) */
	bool iopm02_l0_only;	    /* iopm02 likewise */
	bool l1_iopm_used;
	bool npt12;		    /* L2 runs on NPT02 */
	bool l2_gif_clear;	    /* L2 ran CLGI without vGIF (l2insn.c) */
	/* L1's IOPM and MSRPM pages watched in NPT02 (L2 may write them);
	 * after a write to one map, until the next VMRUN, every access that
	 * map governs exits and is decided from L1's map as it is in memory. */
	uint64_t watched[(NEST_SVM_IOPM_SIZE + NEST_SVM_MSRPM_SIZE) / SVM_PAGE_SIZE];
	unsigned n_watched;
	bool iopm_live, msrpm_live;
	/* L0 tracking writes to the map pages (nest_backend_ops::track_l1_writes):
	 * l1_iopm/l1_msrpm equal L1's memory at map_pa[] while their bit
	 * (SVM_MAP_*) is in map_have; iopm02/msrpm02 hold the merge of those
	 * copies with L0's maps while it is in map_merged. */
	uint64_t map_pa[2];
	uint8_t map_have, map_merged;
	bool track_ok;
	unsigned n_tracked;
	uint64_t tracked[(NEST_SVM_IOPM_SIZE + NEST_SVM_MSRPM_SIZE) / SVM_PAGE_SIZE];
	bool inj_window;	    /* vmcb12's EVENTINJ may not be delivered yet ... */
	uint64_t inj_event;	    /* ... this one (any type) */
	bool soft_inj;		    /* vmcb12 injected a software interrupt ... */
	uint64_t soft_inj_event;    /* ... this EVENTINJ ... */
	uint64_t soft_inj_next_rip; /* ... returning to this NEXT_RIP */
	uint64_t soft_inj_rip;	    /* ... from this RIP (software nRIP: vmcb02 runs at NEXT_RIP) */
	uint32_t l2_insn_len;	    /* L0's length of L2's instruction at this exit (software nRIP) */
	uint32_t pause_left;	    /* software pause filter: PAUSEs until L1's intercept, 0 = next */
	bool tsc_soft;		    /* software TSC ratio: vmcb02 runs on L1's time base */
	struct nest_tdp_l1_root tdp_root;
	uint8_t l1_msrpm[NEST_SVM_MSRPM_SIZE];
	uint8_t l1_iopm[NEST_SVM_IOPM_SIZE];

	uint64_t vmruns;
	uint64_t reflected;
};

#define NEST_SVM_MAGIC 0x6e65737473766d31ull /* "nestsvm1" */

static inline bool svm_icpt_test(const struct nest_vmcb_control *c, unsigned n)
{
	const uint32_t *w = &c->intercept_cr;

	return n < NEST_SVM_INTERCEPT_WORDS * 32 && (w[n / 32] >> (n % 32)) & 1u;
}

static inline void svm_icpt_set(struct nest_vmcb_control *c, unsigned n)
{
	uint32_t *w = &c->intercept_cr;

	if (n < NEST_SVM_INTERCEPT_WORDS * 32)
		w[n / 32] |= 1u << (n % 32);
}

static inline void svm_icpt_clear(struct nest_vmcb_control *c, unsigned n)
{
	uint32_t *w = &c->intercept_cr;

	if (n < NEST_SVM_INTERCEPT_WORDS * 32)
		w[n / 32] &= ~(1u << (n % 32));
}

/* ---- actions ---- */

static inline void act_inject(struct nest_svm_action *act, uint8_t vector, bool has_ec, uint32_t ec)
{
	act->kind = NEST_SVM_ACT_INJECT_L1;
	act->vector = vector;
	act->has_error_code = has_ec;
	act->error_code = ec;
}

static inline void act_gp(struct nest_svm_action *act)
{
	act_inject(act, X86_EXC_GP, true, 0);
}

static inline void act_ud(struct nest_svm_action *act)
{
	act_inject(act, X86_EXC_UD, false, 0);
}

static inline bool act_size_ok(const struct nest_svm_action *act)
{
	return act && act->size >= NEST_SVM_ACTION_MIN_SIZE;
}

/* ---- what the files of arch/x86/svm share, by the file that defines it ---- */

/* context.c */
void nest__svm_act_reset(struct nest_svm_action *act);
bool nest__svm_ctx_ok(const struct nest_svm *ctx);
uint64_t nest__svm_tsc_ratio_mul(uint64_t a, uint64_t b);
/* L1's GIF: under L0's vGIF it lives in vmcb01's V_GIF while L1 runs
 * (APM 15.33), else in the context. */
bool nest__svm_l1_gif(const struct nest_svm *ctx, const struct nest_vmcb *vmcb01);
void nest__svm_set_l1_gif(struct nest_svm *ctx, struct nest_vmcb *vmcb01, bool gif);

/* caps.c */
void nest__svm_caps_of(const struct nest_svm *ctx, struct nest_svm_caps *caps);

/* msr.c: L1's RDMSR/WRMSR of the SVM MSRs (NEST_E_NOENT: not libnest's). */
int nest__svm_msr_read(struct nest_svm *ctx, uint32_t msr, uint64_t *value,
		       struct nest_svm_action *act);
int nest__svm_msr_write(struct nest_svm *ctx, struct nest_vmcb *vmcb01, uint32_t msr,
			uint64_t value, uint64_t *hw_value, struct nest_svm_action *act);

/* insn.c: the SVM instructions' shared parts. */
/* rAX with the effective address size of the guest in @v. */
uint64_t nest__svm_rax_operand(const struct nest_vmcb *v);
/* A VMCB address of VMRUN/VMLOAD/VMSAVE: page aligned, below MAXPHYADDR. */
bool nest__svm_vmcb_pa_ok(const struct nest_svm *ctx, uint64_t pa);
/* VMLOAD/VMSAVE between @v and the VMCB at L1-physical @pa (APM 15.5.2). */
int nest__svm_vmload(struct nest_svm *ctx, struct nest_vmcb *v, uint64_t pa);
int nest__svm_vmsave(struct nest_svm *ctx, const struct nest_vmcb *v, uint64_t pa);

/* l2insn.c: L2's SVM instruction that L1 does not intercept. */
int nest__svm_l2_insn(struct nest_svm *ctx, struct nest_vmcb *vmcb01,
		      const struct nest_svm_regs *regs, uint64_t code, struct nest_svm_action *act);

/* check.c: VMRUN's consistency checks on a copy of vmcb12. */
uint32_t nest__svm_check(const struct nest_vmcb *vmcb, const struct nest_svm_caps *caps,
			 struct nest_svm_diag *diag);

/* entry.c */
int nest__svm_vmrun(struct nest_svm *ctx, struct nest_vmcb *vmcb01, uint64_t vmcb12_pa,
		    uint64_t next_rip, struct nest_svm_action *act);
void nest__svm_act_run_l2(struct nest_svm *ctx, struct nest_svm_action *act);

/* vmcb02.c */
/* Build vmcb02 (controls, merged maps, ASID, NPT02 root, save area) from
 * the checked copy of vmcb12, L1's state saved at VMRUN and vmcb01, as
 * VMRUN does; used again by a restore in guest mode. */
int nest__svm_build_vmcb02(struct nest_svm *ctx, const struct nest_vmcb *vmcb01);
/* vmcb02's V_INTR_MASKING as L0's intercepts, vmcb12 and L2's GIF say. */
void nest__svm_set_v_intr_masking(struct nest_svm *ctx);
/* Read one of L1's permission maps (all ones where unreadable). */
void nest__svm_read_map(struct nest_svm *ctx, uint64_t base, uint8_t *dst, size_t len);
/* L2 writes L1-physical @l1_gpa, a watched map page: every access that map
 * governs exits until the next VMRUN. */
int nest__svm_maps_written(struct nest_svm *ctx, uint64_t l1_gpa);

/* decide.c */
/* Bitmap lookups: does the map intercept this access? */
bool nest__svm_msrpm_test(const uint8_t *map, uint32_t msr, bool write);
bool nest__svm_iopm_test(const uint8_t *map, uint32_t port, unsigned size);
/* Does L1 intercept this exit of L2 (vmcb12's intercepts and maps)? */
bool nest__svm_l1_icpt(const struct nest_svm *ctx, uint64_t code, uint64_t info1, uint32_t msr);
bool nest__svm_cr0_write_is_selective(const struct nest_svm *ctx, uint64_t info1,
				      const struct nest_svm_regs *regs);
/* Exits only L0 handles (physical events, L0's own faults). */
bool nest__svm_l0_only(uint64_t code);
bool nest__svm_is_svm_insn(uint64_t code);

/* reflect.c */
int nest__svm_reflect(struct nest_svm *ctx, struct nest_vmcb *vmcb01, uint64_t exitcode,
		      uint64_t exitinfo1, uint64_t exitinfo2, struct nest_svm_action *act);

#endif /* NEST_SVM_CONTEXT_H */
