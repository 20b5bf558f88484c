/* SPDX-License-Identifier: MIT */
/*
 * vmcb02: the VMCB L0 really runs L2 with, built from the checked copy of
 * vmcb12 and L0's needs (intercepts, merged permission maps, ASID, NPT02
 * root, save area), and L1's permission maps watched while L2 runs.
 */
#include "svm/context.h"

/* Intercepts vmcb02 always has, whatever vmcb12 and the config say: the
 * SVM instructions (L2 never reaches the hardware's; CVE-2021-3656 was a
 * VMLOAD/VMSAVE of L2 left unintercepted), shutdown (L0 must see it), and
 * the permission-map intercepts (the merged maps carry L0's bits). */
static const uint8_t forced_intercepts[] = {
    NEST_SVM_ICPT_VMRUN,     NEST_SVM_ICPT_VMLOAD,   NEST_SVM_ICPT_VMSAVE, NEST_SVM_ICPT_SKINIT,
    NEST_SVM_ICPT_INVLPGA,   NEST_SVM_ICPT_SHUTDOWN, NEST_SVM_ICPT_STGI,   NEST_SVM_ICPT_CLGI,
    NEST_SVM_ICPT_IOIO_PROT, NEST_SVM_ICPT_MSR_PROT,
};

/* int_ctl bits that L1 controls for L2 (APM 15.21). AVIC, vNMI and x2AVIC
 * are never offered and never copied (CVE-2021-3653 was an unfiltered
 * int_ctl); V_GIF and its enable are copied only with vGIF offered. */
#define INT_CTL_FROM_L1                                                                            \
	(NEST_SVM_INT_CTL_V_TPR_MASK | NEST_SVM_INT_CTL_V_IRQ |                                    \
	 NEST_SVM_INT_CTL_V_INTR_PRIO_MASK | NEST_SVM_INT_CTL_V_IGN_TPR |                          \
	 NEST_SVM_INT_CTL_V_INTR_MASKING | NEST_SVM_INT_CTL_V_INTR_VECTOR_MASK)

#define INT_CTL_VGIF (NEST_SVM_INT_CTL_V_GIF | NEST_SVM_INT_CTL_V_GIF_ENABLE)

/* Read one of L1's permission maps once. An unreadable map reads as all
 * ones (every access intercepted), as unbacked memory reads on a PC. */
void nest__svm_read_map(struct nest_svm *ctx, uint64_t base, uint8_t *dst, size_t len)
{
	if (nest__be_read(&ctx->be, base & ~SVM_PAGE_MASK, dst, len) != NEST_OK)
		nest__memset(dst, 0xff, len);
}

static void merge_map(uint8_t *dst, const uint8_t *l0, const uint8_t *l1, size_t len)
{
	size_t i;

	if (!l0 && !l1) {
		nest__memset(dst, 0, len);
		return;
	}
	if (!l0) {
		nest__memcpy(dst, l1, len);
		return;
	}
	if (!l1) {
		nest__memcpy(dst, l0, len);
		return;
	}
	/* OR of both: L0 never loses an intercept (invariant 2, docs/trust-model.md). */
	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t a, b;

		nest__memcpy(&a, l0 + i, 8);
		nest__memcpy(&b, l1 + i, 8);
		a |= b;
		nest__memcpy(dst + i, &a, 8);
	}
}

/*
 * The processor reads the IOPM and MSRPM in memory at each access (APM
 * 15.10.1, 15.11), so a write of L2 to a map it runs under takes effect at
 * its next IN, OUT, RDMSR or WRMSR. vmcb02's maps are merged at VMRUN; to
 * stay exact, L1's map pages are write-watched in NPT02 (L2 reaches L1's
 * memory only through it when L1 uses nested paging). The set changes
 * only when the maps move.
 */
static unsigned map_pages(uint64_t base, size_t len, uint64_t *pages)
{
	unsigned i;

	for (i = 0; i < len / SVM_PAGE_SIZE; i++)
		pages[i] = (base & ~SVM_PAGE_MASK) + i * SVM_PAGE_SIZE;
	return i;
}

static int watch(struct nest_svm *ctx, const uint64_t *pages, unsigned n)
{
	int rc;

	if (n == ctx->n_watched &&
	    (n == 0 || nest__memcmp(pages, ctx->watched, n * sizeof(pages[0])) == 0))
		return NEST_OK;
	rc = nest_tdp_watch_writes(ctx->tdp, n ? pages : NULL, n);
	if (rc != NEST_OK)
		return rc;
	if (n)
		nest__memcpy(ctx->watched, pages, n * sizeof(pages[0]));
	ctx->n_watched = n;
	return NEST_OK;
}

static int watch_maps(struct nest_svm *ctx)
{
	const struct nest_vmcb_control *c12 = &ctx->vmcb12.control;
	uint64_t pages[NEST_ARRAY_SIZE(ctx->watched)];
	unsigned n = 0;

	ctx->iopm_live = ctx->msrpm_live = false;
	if (ctx->npt12 && ctx->l1_iopm_used)
		n += map_pages(c12->iopm_base_pa, NEST_SVM_IOPM_SIZE, pages + n);
	if (ctx->npt12 && ctx->l1_msrpm_used)
		n += map_pages(c12->msrpm_base_pa, NEST_SVM_MSRPM_SIZE, pages + n);
	return watch(ctx, pages, n);
}

static bool in_map(uint64_t pa, uint64_t base, size_t len)
{
	return pa - (base & ~SVM_PAGE_MASK) < len;
}

int nest__svm_maps_written(struct nest_svm *ctx, uint64_t l1_gpa)
{
	const struct nest_vmcb_control *c12 = &ctx->vmcb12.control;
	uint64_t pages[NEST_ARRAY_SIZE(ctx->watched)];
	unsigned n = 0;

	if (ctx->l1_iopm_used && in_map(l1_gpa, c12->iopm_base_pa, NEST_SVM_IOPM_SIZE)) {
		ctx->map_have &= (uint8_t)~SVM_MAP_IOPM;
		ctx->map_merged &= (uint8_t)~SVM_MAP_IOPM;
		ctx->iopm_live = true;
		nest__memset(ctx->iopm02, 0xff, NEST_SVM_IOPM_SIZE);
		ctx->iopm02_l0_only = false;
	}
	if (ctx->l1_msrpm_used && in_map(l1_gpa, c12->msrpm_base_pa, NEST_SVM_MSRPM_SIZE)) {
		ctx->map_have &= (uint8_t)~SVM_MAP_MSRPM;
		ctx->map_merged &= (uint8_t)~SVM_MAP_MSRPM;
		ctx->msrpm_live = true;
		nest__memset(ctx->msrpm02, 0xff, NEST_SVM_MSRPM_SIZE);
		ctx->msrpm02_l0_only = false;
	}
	/* A live map is read at each access: only the other stays watched. */
	if (ctx->npt12 && ctx->l1_iopm_used && !ctx->iopm_live)
		n += map_pages(c12->iopm_base_pa, NEST_SVM_IOPM_SIZE, pages + n);
	if (ctx->npt12 && ctx->l1_msrpm_used && !ctx->msrpm_live)
		n += map_pages(c12->msrpm_base_pa, NEST_SVM_MSRPM_SIZE, pages + n);
	return watch(ctx, pages, n);
}

/* Give L0 the set of map pages to track (a new set replaces the old one);
 * if it refuses, nothing is tracked and the maps are read at every VMRUN. */
static void track_set(struct nest_svm *ctx, const uint64_t *pages, unsigned n)
{
	ctx->track_ok = nest__be_track(&ctx->be, n ? pages : NULL, n) == NEST_OK;
	ctx->n_tracked = ctx->track_ok ? n : 0;
	if (ctx->track_ok && n)
		nest__memcpy(ctx->tracked, pages, n * sizeof(pages[0]));
}

/*
 * L0 tracking L1's writes to the map pages (nest_backend_ops::track_l1_writes):
 * the pages of the maps vmcb12 uses are reported (before they are read, so
 * a later write is seen), and a map is read only when it was written since
 * it was last read, or moved. Without the op, or with it failing, both are
 * read at every VMRUN. Returns the maps read (SVM_MAP_*).
 */
static unsigned track_maps(struct nest_svm *ctx)
{
	const struct nest_vmcb_control *c12 = &ctx->vmcb12.control;
	uint64_t pages[NEST_ARRAY_SIZE(ctx->tracked)];
	uint64_t iopm = c12->iopm_base_pa & ~SVM_PAGE_MASK;
	uint64_t msrpm = c12->msrpm_base_pa & ~SVM_PAGE_MASK;
	unsigned n = 0, fresh = 0;

	if (!ctx->l1_iopm_used && !ctx->l1_msrpm_used && ctx->n_tracked == 0) {
		ctx->map_have = 0; /* nothing used, nothing tracked */
		return 0;
	}
	if (!ctx->l1_iopm_used || ctx->map_pa[0] != iopm)
		ctx->map_have &= (uint8_t)~SVM_MAP_IOPM;
	if (!ctx->l1_msrpm_used || ctx->map_pa[1] != msrpm)
		ctx->map_have &= (uint8_t)~SVM_MAP_MSRPM;
	if (ctx->l1_iopm_used)
		n += map_pages(iopm, NEST_SVM_IOPM_SIZE, pages + n);
	if (ctx->l1_msrpm_used)
		n += map_pages(msrpm, NEST_SVM_MSRPM_SIZE, pages + n);
	if (!nest__be_has_track(&ctx->be)) {
		ctx->track_ok = false;
	} else if (!ctx->track_ok || n != ctx->n_tracked ||
		   (n && nest__memcmp(pages, ctx->tracked, n * sizeof(pages[0])) != 0)) {
		track_set(ctx, pages, n);
	}
	if (!ctx->track_ok)
		ctx->map_have = 0;
	if (ctx->l1_iopm_used && !(ctx->map_have & SVM_MAP_IOPM)) {
		nest__svm_read_map(ctx, iopm, ctx->l1_iopm, NEST_SVM_IOPM_SIZE);
		fresh |= SVM_MAP_IOPM;
	}
	if (ctx->l1_msrpm_used && !(ctx->map_have & SVM_MAP_MSRPM)) {
		nest__svm_read_map(ctx, msrpm, ctx->l1_msrpm, NEST_SVM_MSRPM_SIZE);
		fresh |= SVM_MAP_MSRPM;
	}
	ctx->map_pa[0] = iopm;
	ctx->map_pa[1] = msrpm;
	if (ctx->track_ok)
		ctx->map_have |= (uint8_t)fresh;
	return fresh;
}

NEST_API int nest_svm_l1_written(struct nest_svm *ctx, uint64_t l1_gpa)
{
	uint64_t page = l1_gpa & ~SVM_PAGE_MASK;
	uint64_t pages[NEST_ARRAY_SIZE(ctx->tracked)];
	unsigned i, n = 0;
	int rc = NEST_OK;

	if (!nest__svm_ctx_ok(ctx))
		return NEST_E_INVAL;
	if (ctx->l1_iopm_used && in_map(page, ctx->map_pa[0], NEST_SVM_IOPM_SIZE))
		ctx->map_have &= (uint8_t)~SVM_MAP_IOPM;
	if (ctx->l1_msrpm_used && in_map(page, ctx->map_pa[1], NEST_SVM_MSRPM_SIZE))
		ctx->map_have &= (uint8_t)~SVM_MAP_MSRPM;
	/* While L2 runs, the map decides from L1's memory at each access. */
	if (ctx->guest_mode)
		rc = nest__svm_maps_written(ctx, page);
	/* L0 lets the write through: the page leaves the set until read again. */
	for (i = 0; i < ctx->n_tracked; i++)
		if (ctx->tracked[i] != page)
			pages[n++] = ctx->tracked[i];
	if (ctx->track_ok && n != ctx->n_tracked) {
		track_set(ctx, pages, n);
		if (!ctx->track_ok)
			ctx->map_have = 0;
	}
	return rc;
}

static bool l0_icpt(const struct nest_svm *ctx, unsigned n)
{
	return (ctx->l0_icpt[n / 32] >> (n % 32)) & 1u;
}

static uint8_t flush_kind(const struct nest_svm *ctx)
{
	return (ctx->host_features & NEST_SVM_F_FLUSH_BY_ASID) ? NEST_SVM_TLB_FLUSH_ASID
							       : NEST_SVM_TLB_FLUSH_ALL;
}

/*
 * V_INTR_MASKING decides who masks physical interrupts while L2 runs (APM
 * 15.21.1): the host's RFLAGS.IF, or the guest's. An L0 that intercepts
 * INTR keeps physical interrupts (and the TPR) to itself: always set. An
 * L0 that does not has handed them to L1, so L1's choice stands, and with
 * it clear L2's own IF gates them, as on the processor; while L2 holds the
 * processor's GIF clear, the host's IF (clear, NEST_SVM_ACT_F_HOLD_INTR)
 * must hold them.
 */
void nest__svm_set_v_intr_masking(struct nest_svm *ctx)
{
	struct nest_vmcb_control *c2 = &ctx->vmcb02->control;

	if (l0_icpt(ctx, NEST_SVM_ICPT_INTR) || ctx->l2_gif_clear ||
	    (ctx->vmcb12.control.int_ctl & NEST_SVM_INT_CTL_V_INTR_MASKING))
		c2->int_ctl |= NEST_SVM_INT_CTL_V_INTR_MASKING;
	else
		c2->int_ctl &= ~NEST_SVM_INT_CTL_V_INTR_MASKING;
}

/* Build vmcb02 from the checked copy of vmcb12 and vmcb01. */
int nest__svm_build_vmcb02(struct nest_svm *ctx, const struct nest_vmcb *vmcb01)
{
	const struct nest_vmcb_control *c12 = &ctx->vmcb12.control;
	const struct nest_vmcb_save *s12 = &ctx->vmcb12.save;
	struct nest_vmcb *v2 = ctx->vmcb02;
	struct nest_vmcb_control *c2 = &v2->control;
	struct nest_vmcb_save *s2 = &v2->save;
	uint32_t *w2 = &c2->intercept_cr;
	const uint32_t *w12 = &c12->intercept_cr;
	bool flush = c12->tlb_control != NEST_SVM_TLB_DO_NOTHING;
	unsigned fresh;
	uint64_t r12;
	size_t i;
	int rc;

	ctx->l2_gif_clear = false; /* VMRUN sets GIF (APM 15.5.1) */
	/* Save area: what VMRUN loads comes from vmcb12; the rest (FS, GS,
	 * TR, LDTR, the syscall MSRs, ...) is L1's current state, which L2
	 * inherits on the hardware (APM 15.5.1). */
	nest__memcpy(s2, &vmcb01->save, sizeof(*s2));
	s2->es = s12->es;
	s2->cs = s12->cs;
	s2->ss = s12->ss;
	s2->ds = s12->ds;
	s2->gdtr = s12->gdtr;
	s2->idtr = s12->idtr;
	s2->efer = s12->efer;
	s2->cr0 = s12->cr0;
	s2->cr2 = s12->cr2;
	s2->cr3 = s12->cr3;
	s2->cr4 = s12->cr4;
	s2->dr6 = s12->dr6;
	s2->dr7 = s12->dr7;
	s2->rflags = s12->rflags | X86_RFLAGS_FIXED1;
	s2->rip = s12->rip;
	s2->rsp = s12->rsp;
	s2->rax = s12->rax;
	/* CPL is 0 in real mode and 3 in virtual-8086 mode (APM 15.5.1). */
	s2->cpl = !(s12->cr0 & X86_CR0_PE) ? 0 : (s12->rflags & X86_RFLAGS_VM) ? 3 : s12->cpl;

	/* Control area: rebuilt from zero. */
	nest__memset(c2, 0, sizeof(*c2));
	for (i = 0; i < NEST_SVM_INTERCEPT_WORDS; i++)
		w2[i] = w12[i] | ctx->l0_icpt[i];
	for (i = 0; i < NEST_ARRAY_SIZE(forced_intercepts); i++)
		svm_icpt_set(c2, forced_intercepts[i]);

	/* Permission maps: L1's OR L0's. L1's are read at this VMRUN unless
	 * L0 tracked their pages since they were read (track_maps()). */
	ctx->l1_msrpm_used = svm_icpt_test(c12, NEST_SVM_ICPT_MSR_PROT);
	ctx->l1_iopm_used = svm_icpt_test(c12, NEST_SVM_ICPT_IOIO_PROT);
	fresh = track_maps(ctx);
	/* A map that holds L0's bits only is kept from the last VMRUN (L0's
	 * maps change only with nest_svm_l0_maps_changed()); one with L1's
	 * bits, while L1's copy and L0's map did not change. */
	if (ctx->l1_msrpm_used ? (fresh & SVM_MAP_MSRPM) || !(ctx->map_merged & SVM_MAP_MSRPM)
			       : !ctx->msrpm02_l0_only)
		merge_map(ctx->msrpm02, ctx->l0_msrpm, ctx->l1_msrpm_used ? ctx->l1_msrpm : NULL,
			  NEST_SVM_MSRPM_SIZE);
	if (ctx->l1_iopm_used ? (fresh & SVM_MAP_IOPM) || !(ctx->map_merged & SVM_MAP_IOPM)
			      : !ctx->iopm02_l0_only)
		merge_map(ctx->iopm02, ctx->l0_iopm, ctx->l1_iopm_used ? ctx->l1_iopm : NULL,
			  NEST_SVM_IOPM_SIZE);
	ctx->msrpm02_l0_only = !ctx->l1_msrpm_used;
	ctx->iopm02_l0_only = !ctx->l1_iopm_used;
	ctx->map_merged =
	    (ctx->l1_msrpm_used ? SVM_MAP_MSRPM : 0) | (ctx->l1_iopm_used ? SVM_MAP_IOPM : 0);
	c2->msrpm_base_pa = ctx->msrpm02_hpa;
	c2->iopm_base_pa = ctx->iopm02_hpa;

	/* TSC (APM 15.30.5): L2 = (host * r0 + off01) * r12 + off12. */
	r12 = (ctx->features & NEST_SVM_F_TSC_RATE) ? ctx->tsc_ratio : SVM_TSC_RATIO_ONE;
	c2->tsc_offset =
	    (r12 == SVM_TSC_RATIO_ONE ? vmcb01->control.tsc_offset
				      : nest__svm_tsc_ratio_mul(vmcb01->control.tsc_offset, r12)) +
	    c12->tsc_offset;
	/* A ratio the host cannot apply: vmcb02 runs on L1's time base and
	 * every read of L2's TSC exits; exit.c scales the reads L1 leaves to
	 * L2. The TSC read bit goes into msrpm02 (never L0's map alone). */
	ctx->tsc_soft = (ctx->soft_features & NEST_SVM_F_TSC_RATE) && r12 != SVM_TSC_RATIO_ONE;
	if (ctx->tsc_soft) {
		c2->tsc_offset = vmcb01->control.tsc_offset;
		svm_icpt_set(c2, NEST_SVM_ICPT_RDTSC);
		svm_icpt_set(c2, NEST_SVM_ICPT_RDTSCP);
		ctx->msrpm02[X86_MSR_IA32_TIME_STAMP_COUNTER * 2 / 8] |=
		    (uint8_t)(1u << (X86_MSR_IA32_TIME_STAMP_COUNTER * 2 % 8));
		ctx->msrpm02_l0_only = false;
		ctx->map_merged &= (uint8_t)~SVM_MAP_MSRPM;
	}

	/* ASID: every ASID of L1 maps to L0's l2_asid; switching flushes. */
	c2->asid = ctx->l2_asid;
	if (!ctx->last_asid_valid || ctx->last_asid12 != c12->asid)
		flush = true;
	ctx->last_asid_valid = true;
	ctx->last_asid12 = c12->asid;

	/* Virtual interrupts (APM 15.21): L1's V_TPR/V_IRQ/vector/priority. */
	c2->int_ctl = c12->int_ctl & INT_CTL_FROM_L1;
	nest__svm_set_v_intr_masking(ctx);
	if ((ctx->features & NEST_SVM_F_VGIF) && (c12->int_ctl & NEST_SVM_INT_CTL_V_GIF_ENABLE)) {
		c2->int_ctl |= c12->int_ctl & INT_CTL_VGIF;
		/* L2's STGI/CLGI run on vGIF, unless L0 or L1 intercepts them. */
		if (!svm_icpt_test(c12, NEST_SVM_ICPT_STGI) && !l0_icpt(ctx, NEST_SVM_ICPT_STGI))
			svm_icpt_clear(c2, NEST_SVM_ICPT_STGI);
		if (!svm_icpt_test(c12, NEST_SVM_ICPT_CLGI) && !l0_icpt(ctx, NEST_SVM_ICPT_CLGI))
			svm_icpt_clear(c2, NEST_SVM_ICPT_CLGI);
	}
	c2->int_state = c12->int_state & NEST_SVM_INT_STATE_SHADOW;
	c2->event_inj = c12->event_inj;
	if (ctx->features & NEST_SVM_F_NRIPS)
		c2->next_rip = c12->next_rip;
	/* A software interrupt is delivered with NEXT_RIP as its return
	 * address; remember it in case an L0 exit interrupts the delivery
	 * and the hardware's NEXT_RIP is gone (APM 15.20). */
	ctx->soft_inj = (c12->event_inj & NEST_SVM_EVTINJ_VALID) &&
			((c12->event_inj & NEST_SVM_EVTINJ_TYPE_MASK) >>
			 NEST_SVM_EVTINJ_TYPE_SHIFT) == NEST_SVM_EVTINJ_TYPE_SOFT &&
			(ctx->features & NEST_SVM_F_NRIPS);
	ctx->soft_inj_event = c12->event_inj;
	ctx->inj_window = (c12->event_inj & NEST_SVM_EVTINJ_VALID) != 0;
	ctx->inj_event = c12->event_inj;
	ctx->soft_inj_next_rip = c12->next_rip;
	ctx->soft_inj_rip = s12->rip;
	/* Without the host's nRIP save the processor pushes RIP as the return
	 * address of an injected software interrupt: vmcb02 starts at L1's
	 * NEXT_RIP (reflect.c reports RIP again if the delivery is interrupted). */
	if (ctx->soft_inj && (ctx->soft_features & NEST_SVM_F_NRIPS))
		s2->rip = c12->next_rip;

	/* Pause filter: L1's values when L1 intercepts PAUSE and the filter is
	 * offered, else L0's for L1. A software filter counts in the context
	 * (APM 15.14.4: loaded at VMRUN; 0 disables it, every PAUSE exits). */
	ctx->pause_left = 0;
	if (svm_icpt_test(c12, NEST_SVM_ICPT_PAUSE)) {
		if (ctx->soft_features & NEST_SVM_F_PAUSE_FILTER)
			ctx->pause_left = c12->pause_filter_count;
		else if (ctx->features & NEST_SVM_F_PAUSE_FILTER)
			c2->pause_filter_count = c12->pause_filter_count;
		if (ctx->features & NEST_SVM_F_PF_THRESHOLD)
			c2->pause_filter_threshold = c12->pause_filter_threshold;
	} else {
		c2->pause_filter_count = vmcb01->control.pause_filter_count;
		c2->pause_filter_threshold = vmcb01->control.pause_filter_threshold;
	}

	/* LBR virtualization: L1's when offered and enabled, else L1's own. */
	if ((ctx->features & NEST_SVM_F_LBRV) && (c12->virt_ext & NEST_SVM_VIRT_EXT_LBR)) {
		c2->virt_ext = NEST_SVM_VIRT_EXT_LBR;
		s2->dbgctl = s12->dbgctl;
		s2->br_from = s12->br_from;
		s2->br_to = s12->br_to;
		s2->last_excp_from = s12->last_excp_from;
		s2->last_excp_to = s12->last_excp_to;
	} else {
		c2->virt_ext = vmcb01->control.virt_ext & NEST_SVM_VIRT_EXT_LBR;
	}

	/* Nested paging: NPT02 for L1's nCR3, or NPT01 when L1 runs L2 with
	 * L1-physical addresses (no nested paging of its own). */
	c2->np_ctl = NEST_SVM_NP_ENABLE;
	ctx->npt12 = (c12->np_ctl & NEST_SVM_NP_ENABLE) && ctx->tdp;
	if (ctx->npt12) {
		struct nest_tdp_root_info info;

		nest__memset(&ctx->tdp_root, 0, sizeof(ctx->tdp_root));
		ctx->tdp_root.kind = NEST_TDP_NPT;
		ctx->tdp_root.pointer = c12->n_cr3;
		/* The nested walk uses L1's (host) paging mode (APM 15.25.3). */
		ctx->tdp_root.cr0 = ctx->host.cr0;
		ctx->tdp_root.cr4 = ctx->host.cr4;
		ctx->tdp_root.efer = ctx->host.efer;
		if (flush)
			nest_tdp_sync_root(ctx->tdp, &ctx->tdp_root);
		rc = nest_tdp_root(ctx->tdp, &ctx->tdp_root, &info);
		if (rc != NEST_OK)
			return rc;
		c2->n_cr3 = info.pointer;
		s2->g_pat = s12->g_pat;
		if (info.created)
			flush = true;
	} else {
		c2->n_cr3 = ctx->npt01_ncr3;
		s2->g_pat = vmcb01->save.g_pat;
	}
	rc = watch_maps(ctx);
	if (rc != NEST_OK)
		return rc;
	c2->tlb_control = flush ? flush_kind(ctx) : NEST_SVM_TLB_DO_NOTHING;
	/* Every VMRUN of L1 rebuilds vmcb02: nothing is clean. */
	c2->clean = 0;
	return NEST_OK;
}
