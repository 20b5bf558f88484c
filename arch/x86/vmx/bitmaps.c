/* SPDX-License-Identifier: MIT */
/*
 * L1's MSR bitmap and I/O bitmaps A and B (SDM 26.1.3, 26.6.9): the
 * copies libnest keeps of them, merged with L0's into the pages vmcs02
 * names, and how those copies stay equal to L1's memory.
 *
 * The processor reads the bitmaps in memory at each access. libnest reads
 * them once and keeps the copy (nest__vmx_l1_bitmaps) for as long as it
 * knows memory did not change:
 *   - L0 tracking L1's writes (nest_backend_ops::track_l1_writes): the
 *     pages are reported to L0, which tells libnest of a write through
 *     nest_vmx_l1_written(); a VMRESUME reads only a page written since
 *     the last read, or a page vmcs12 names anew. Without the op, every
 *     VM entry reads all three pages (and compares them with the copy, so
 *     the merge is redone only when they changed).
 *   - L2 writing them through EPT12: the pages are watched in EPT02
 *     (nest_tdp_watch_writes()).
 * A write while L2 runs makes that bitmap "live" until the next entry:
 * its part of the merged page is all ones, so every access it governs
 * exits, and L1's memory as it is at the exit decides (as the processor
 * would have read it at the access).
 */
#include <nest/tdp.h>

#include "vmx/context.h"
#include "vmx/entry.h"
#include "vmx/vmcs02.h"

#define PAGE_MASK 0xfffull
/* The x2APIC MSRs 800H-8FFH in the MSR bitmap's read-low and write-low
 * quarters (SDM 26.6.9). */
#define X2APIC_BYTES (0x100u / 8)
#define X2APIC_READ_OFF (0x800u / 8)
#define X2APIC_WRITE_OFF (2048u + 0x800u / 8)

static uint8_t bit_of(unsigned k)
{
	return (uint8_t)(1u << k);
}

static int alloc_page(struct nest_vmx *ctx, uint64_t *hpa, void **hva)
{
	if (*hva != NULL)
		return NEST_OK;
	return nest__be_page_alloc(&ctx->be, hpa, hva);
}

/* Where copy k (NEST__VMX_BM_MSR, _IO_A, _IO_B) lives in l1_bm. */
static uint8_t *copy_of(struct nest__vmx_nested *n, unsigned k)
{
	if (k == NEST__VMX_BM_MSR)
		return n->l1_bm.msr;
	return n->l1_bm.io + (k - NEST__VMX_BM_IO_A) * NEST__VMX_IO_BITMAP_A_SIZE;
}

/* Read one 4 KiB bitmap of L1 into its copy; memory L0 does not back
 * reads as all ones (everything exits). Returns whether it changed. */
static bool fetch_bitmap(struct nest_vmx *ctx, uint64_t gpa, uint8_t *copy)
{
	uint8_t *tmp = ctx->nested.scratch;

	if (nest__be_read(&ctx->be, gpa, tmp, NEST__VMX_IO_BITMAP_A_SIZE) != NEST_OK)
		nest__memset(tmp, 0xff, NEST__VMX_IO_BITMAP_A_SIZE);
	if (nest__memcmp(tmp, copy, NEST__VMX_IO_BITMAP_A_SIZE) == 0)
		return false;
	nest__memcpy(copy, tmp, NEST__VMX_IO_BITMAP_A_SIZE);
	return true;
}

/* The pages of the bitmaps vmcs12 uses (`used`, bits by NEST__VMX_BM_*),
 * each once, except those in `skip`. */
static unsigned pages_of(const struct nest__vmx_bm_track *t, uint8_t used, uint8_t skip,
			 uint64_t *pages)
{
	unsigned k, j, n = 0;

	for (k = 0; k < NEST__VMX_BM_COUNT; k++) {
		if (!(used & bit_of(k)) || (skip & bit_of(k)))
			continue;
		for (j = 0; j < n && pages[j] != t->gpa[k]; j++)
			;
		if (j == n)
			pages[n++] = t->gpa[k];
	}
	return n;
}

static bool same_set(const uint64_t *a, unsigned na, const uint64_t *b, unsigned nb)
{
	return na == nb && (na == 0 || nest__memcmp(a, b, na * sizeof(a[0])) == 0);
}

/* Report the pages to L0 (track_l1_writes) when the set changed. */
static void track(struct nest_vmx *ctx, const uint64_t *pages, unsigned n)
{
	struct nest__vmx_bm_track *t = &ctx->nested.bmt;

	if (t->track_ok && same_set(pages, n, t->tracked, t->n_tracked))
		return;
	t->track_ok = nest__be_track(&ctx->be, n ? pages : NULL, n) == NEST_OK;
	t->n_tracked = t->track_ok ? n : 0;
	if (n && t->track_ok)
		nest__memcpy(t->tracked, pages, n * sizeof(pages[0]));
	if (!t->track_ok)
		t->have = 0;
}

/* Watch the pages in EPT02 (L2's writes through EPT12) when the set changed. */
static int watch(struct nest_vmx *ctx, const uint64_t *pages, unsigned n)
{
	struct nest__vmx_bm_track *t = &ctx->nested.bmt;
	struct nest_tdp *tdp = ctx->nested.l0.pub.tdp;
	int rc;

	if (tdp == NULL || same_set(pages, n, t->watched, t->n_watched))
		return NEST_OK;
	rc = nest_tdp_watch_writes(tdp, n ? pages : NULL, n);
	if (rc != NEST_OK)
		return rc;
	if (n)
		nest__memcpy(t->watched, pages, n * sizeof(pages[0]));
	t->n_watched = n;
	return NEST_OK;
}

static bool ept12(const struct nest__vmcs12 *v)
{
	return (v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_ACTIVATE_SECONDARY) &&
	       (v->SECONDARY_VM_EXEC_CONTROL & NEST_VMX_PROC2_ENABLE_EPT);
}

/* Nothing a full pass reads changed since the last one: the same controls,
 * bitmap pages and APIC virtualization, every copy still equal to its page
 * (tracked by the backend's op, nothing written since it was read, nothing
 * while L2 ran), EPT12
 * on or off as before and L0's side unchanged (nest_vmx_set_l0() clears
 * merged_valid). A full pass would then read, track, watch and merge
 * nothing: the steady VMRESUME skips it. */
static bool steady(const struct nest_vmx *ctx, const struct nest__vmcs12 *v, uint32_t use,
		   uint32_t apicv, uint8_t used, const uint64_t *addr)
{
	const struct nest__vmx_nested *n = &ctx->nested;
	const struct nest__vmx_bm_track *t = &n->bmt;
	unsigned k;

	if (!n->merged_valid || n->fast.force_full || !nest__be_has_track(&ctx->be) ||
	    use != n->merged_use ||
	    apicv != n->merged_apicv || !t->track_ok || t->live || t->clobbered ||
	    t->have != used || ept12(v) != t->ept12)
		return false;
	for (k = 0; k < NEST__VMX_BM_COUNT; k++)
		if ((used & bit_of(k)) && t->gpa[k] != (addr[k] & ~PAGE_MASK))
			return false;
	return true;
}

/* Bitmaps at a VM entry: L1's copies brought up to date (a page is read
 * unless L0 tracks its writes and none happened since it was read), then
 * merged with L0's into libnest's pages when an input changed. */
int nest__vmx_prepare_bitmaps(struct nest_vmx *ctx)
{
	struct nest__vmx_nested *n = &ctx->nested;
	struct nest__vmx_bm_track *t = &n->bmt;
	const struct nest__vmcs12 *v = &ctx->vmcs12;
	struct nest__vmx_l1_bitmaps *bm = &n->l1_bm;
	uint32_t proc = v->CPU_BASED_VM_EXEC_CONTROL;
	uint32_t use = proc & (NEST_VMX_PROC_USE_MSR_BITMAPS | NEST_VMX_PROC_USE_IO_BITMAPS |
			       NEST_VMX_PROC_UNCOND_IO_EXITING);
	uint32_t apicv = nest__vmx_apicv02(v);
	bool l0_all = nest__vmx_l0_io_uncond(&n->l0.pub);
	bool remerge = !n->merged_valid || use != n->merged_use || apicv != n->merged_apicv;
	bool msr_changed = remerge || (t->clobbered & bit_of(NEST__VMX_BM_MSR));
	bool io_changed =
	    remerge || (t->clobbered & (bit_of(NEST__VMX_BM_IO_A) | bit_of(NEST__VMX_BM_IO_B)));
	const uint64_t addr[NEST__VMX_BM_COUNT] = {v->MSR_BITMAP, v->IO_BITMAP_A, v->IO_BITMAP_B};
	uint64_t pages[NEST__VMX_BM_COUNT];
	uint8_t used = 0;
	unsigned k, np;
	bool want_track;
	int rc;

	rc = alloc_page(ctx, &n->pages.msr_bitmap, &n->msr_bitmap_hva);
	if (rc == NEST_OK)
		rc = alloc_page(ctx, &n->pages.io_bitmap_a, &n->io_bitmap_hva);
	if (rc == NEST_OK)
		rc = alloc_page(ctx, &n->pages.io_bitmap_b, &n->io_bitmap_b_hva);
	if (rc != NEST_OK)
		return rc;
	bm->msr_valid = (proc & NEST_VMX_PROC_USE_MSR_BITMAPS) != 0;
	bm->io_valid = (proc & NEST_VMX_PROC_USE_IO_BITMAPS) != 0;
	if (bm->msr_valid)
		used |= bit_of(NEST__VMX_BM_MSR);
	if (bm->io_valid)
		used |= bit_of(NEST__VMX_BM_IO_A) | bit_of(NEST__VMX_BM_IO_B);
	if (steady(ctx, v, use, apicv, used, addr))
		return NEST_OK;
	/* A copy holds its page as last read only while L0 tracked it, and
	 * only for the page it was read from. */
	if (!n->merged_valid || n->fast.force_full)
		t->have = 0;
	for (k = 0; k < NEST__VMX_BM_COUNT; k++) {
		uint64_t page = addr[k] & ~PAGE_MASK;

		if (!(used & bit_of(k))) {
			t->have &= (uint8_t)~bit_of(k); /* no longer tracked */
			continue;
		}
		if (t->gpa[k] != page)
			t->have &= (uint8_t)~bit_of(k);
		t->gpa[k] = page;
	}
	/* Tracking starts before the reads: a write after them is reported. */
	want_track = nest__be_has_track(&ctx->be) && !n->fast.force_full;
	np = want_track || n->l0.pub.tdp != NULL ? pages_of(t, used, 0, pages) : 0;
	if (want_track)
		track(ctx, pages, np);
	else
		t->track_ok = false;
	for (k = 0; k < NEST__VMX_BM_COUNT; k++) {
		bool changed;

		if (!(used & bit_of(k)) || (t->track_ok && (t->have & bit_of(k))))
			continue;
		changed = fetch_bitmap(ctx, t->gpa[k], copy_of(n, k));
		if (k == NEST__VMX_BM_MSR)
			msr_changed |= changed;
		else
			io_changed |= changed;
		if (t->track_ok)
			t->have |= bit_of(k);
	}
	t->live = 0;
	t->clobbered = 0;
	/* L2 may write the pages through EPT12: watched in EPT02. */
	rc = watch(ctx, pages, ept12(v) ? np : 0);
	if (rc != NEST_OK)
		return rc;
	t->ept12 = ept12(v);
	if (msr_changed) {
		nest__vmx_merge_msr_bitmap(n->msr_bitmap_hva,
					   n->l0.msr_bitmap_valid ? n->l0.msr_bitmap : NULL,
					   bm->msr_valid ? bm->msr : NULL);
		nest__vmx_msr_bitmap_x2apic(n->msr_bitmap_hva, bm->msr_valid ? bm->msr : NULL,
					    apicv);
	}
	if (io_changed)
		nest__vmx_merge_io_bitmap(n->io_bitmap_hva, n->io_bitmap_b_hva,
					  n->l0.io_bitmap_valid && !l0_all ? n->l0.io_bitmap : NULL,
					  l0_all, bm->io_valid ? bm->io : NULL,
					  (proc & NEST_VMX_PROC_UNCOND_IO_EXITING) != 0);
	n->merged_valid = true;
	n->merged_use = use;
	n->merged_apicv = apicv;
	return NEST_OK;
}

/* The bitmaps of `used` whose page is `page`. */
static uint8_t bitmaps_at(const struct nest__vmx_nested *n, uint64_t page)
{
	const struct nest__vmx_bm_track *t = &n->bmt;
	uint8_t hit = 0;
	unsigned k;

	for (k = 0; k < NEST__VMX_BM_COUNT; k++) {
		bool used = k == NEST__VMX_BM_MSR ? n->l1_bm.msr_valid : n->l1_bm.io_valid;

		if (used && t->gpa[k] == page)
			hit |= bit_of(k);
	}
	return hit;
}

/* Bitmaps `hit` were written: their copies no longer hold memory. While
 * L2 runs, every access they govern exits from now on (the merged page
 * all ones; the x2APIC MSRs that vmcs02 virtualizes keep their merged
 * bits, so such a write of L1's reaches them at the next entry). */
static void written(struct nest_vmx *ctx, uint8_t hit)
{
	struct nest__vmx_nested *n = &ctx->nested;
	struct nest__vmx_bm_track *t = &n->bmt;
	uint8_t fresh = hit & (uint8_t)~t->live;

	t->have &= (uint8_t)~hit;
	if (!n->guest_mode || fresh == 0)
		return;
	t->live |= fresh;
	t->clobbered |= fresh;
	if (fresh & bit_of(NEST__VMX_BM_MSR)) {
		uint8_t *m = n->msr_bitmap_hva;
		uint8_t rd[X2APIC_BYTES], wr[X2APIC_BYTES];

		nest__memcpy(rd, m + X2APIC_READ_OFF, X2APIC_BYTES);
		nest__memcpy(wr, m + X2APIC_WRITE_OFF, X2APIC_BYTES);
		nest__memset(m, 0xff, NEST__VMX_MSR_BITMAP_SIZE);
		nest__memcpy(m + X2APIC_READ_OFF, rd, X2APIC_BYTES);
		nest__memcpy(m + X2APIC_WRITE_OFF, wr, X2APIC_BYTES);
	}
	if (fresh & bit_of(NEST__VMX_BM_IO_A))
		nest__memset(n->io_bitmap_hva, 0xff, NEST__VMX_IO_BITMAP_A_SIZE);
	if (fresh & bit_of(NEST__VMX_BM_IO_B))
		nest__memset(n->io_bitmap_b_hva, 0xff, NEST__VMX_IO_BITMAP_A_SIZE);
}

/* L2 wrote L1-physical @l1_gpa, a page watched in EPT02 (nest/tdp.h). */
int nest__vmx_l2_wrote(struct nest_vmx *ctx, uint64_t l1_gpa)
{
	struct nest__vmx_nested *n = &ctx->nested;
	uint64_t pages[NEST__VMX_BM_COUNT];
	uint8_t used = 0;

	written(ctx, bitmaps_at(n, l1_gpa & ~PAGE_MASK));
	if (n->l1_bm.msr_valid)
		used |= bit_of(NEST__VMX_BM_MSR);
	if (n->l1_bm.io_valid)
		used |= bit_of(NEST__VMX_BM_IO_A) | bit_of(NEST__VMX_BM_IO_B);
	/* A live bitmap is read at each access: only the others stay watched. */
	return watch(ctx, pages, pages_of(&n->bmt, used, n->bmt.live, pages));
}

/* One bit of L1's bitmap k: from its memory now if it is live, else from
 * the copy. Unreadable memory reads as set (the access exits). */
static bool bit_now(const struct nest_vmx *ctx, unsigned k, uint32_t bit)
{
	const struct nest__vmx_nested *n = &ctx->nested;
	const uint8_t *copy = k == NEST__VMX_BM_MSR ? n->l1_bm.msr
						    : n->l1_bm.io + (k - NEST__VMX_BM_IO_A) *
									NEST__VMX_IO_BITMAP_A_SIZE;
	uint8_t b;

	if (!(n->bmt.live & bit_of(k)))
		b = copy[bit / 8];
	else if (nest__be_read(&ctx->be, n->bmt.gpa[k] + bit / 8, &b, 1) != NEST_OK)
		return true;
	return (b >> (bit % 8)) & 1u;
}

/*
 * An I/O or MSR exit that a live bitmap governs: L1's verdict on its
 * bitmaps as they are in memory at this exit (SDM 26.1.3, the rules of
 * nest__vmx_io_bitmap_exits() and nest__vmx_msr_bitmap_exits(), reading
 * only the bits concerned). Returns 1 (L1's), 0 (not L1's), or -1 when no
 * live bitmap decides this exit.
 */
int nest__vmx_live_verdict(const struct nest_vmx *ctx, const struct nest__vmx_l2_exit *e)
{
	const struct nest__vmx_nested *n = &ctx->nested;
	uint32_t basic = e->reason & NEST_VMX_EXIT_REASON_BASIC_MASK;
	uint32_t proc = ctx->vmcs12.CPU_BASED_VM_EXEC_CONTROL;

	if (n->bmt.live == 0 || (e->reason & NEST_VMX_EXIT_REASON_ENTRY_FAILURE))
		return -1;
	if (basic == NEST_VMX_EXIT_IO_INSTRUCTION && (proc & NEST_VMX_PROC_USE_IO_BITMAPS) &&
	    n->l1_bm.io_valid) {
		uint32_t port = (uint32_t)(e->qual >> 16) & 0xffffu;
		unsigned size = ((unsigned)e->qual & 7u) + 1u, i;

		for (i = 0; i < size; i++) {
			uint32_t p = port + i;

			if (p > 0xffffu)
				return 1; /* wraps around: exits */
			if (bit_now(ctx, p < 0x8000u ? NEST__VMX_BM_IO_A : NEST__VMX_BM_IO_B,
				    p & 0x7fffu))
				return 1;
		}
		return 0;
	}
	if ((basic == NEST_VMX_EXIT_MSR_READ || basic == NEST_VMX_EXIT_MSR_WRITE) &&
	    (proc & NEST_VMX_PROC_USE_MSR_BITMAPS) && n->l1_bm.msr_valid &&
	    (n->bmt.live & bit_of(NEST__VMX_BM_MSR))) {
		uint32_t msr = (uint32_t)e->gpr[1]; /* RCX */
		bool write = basic == NEST_VMX_EXIT_MSR_WRITE;
		uint32_t quarter;

		if (msr <= 0x1fffu)
			quarter = write ? 2u : 0u;
		else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
			quarter = write ? 3u : 1u;
		else
			return 1; /* outside both ranges: exits */
		return bit_now(ctx, NEST__VMX_BM_MSR, quarter * 8192u + (msr & 0x1fffu));
	}
	return -1;
}

NEST_API int nest_vmx_l1_written(struct nest_vmx *ctx, uint64_t l1_gpa)
{
	struct nest__vmx_bm_track *t;
	uint64_t page = l1_gpa & ~PAGE_MASK;
	uint64_t pages[NEST_MAX_TRACKED_L1_PAGES];
	unsigned i, np = 0;

	if (!nest__vmx_ctx_ok(ctx))
		return NEST_E_INVAL;
	t = &ctx->nested.bmt;
	written(ctx, bitmaps_at(&ctx->nested, page));
	/* L0 lets the write through: the page leaves the tracked set until
	 * the next entry has read it again. */
	for (i = 0; i < t->n_tracked; i++)
		if (t->tracked[i] != page)
			pages[np++] = t->tracked[i];
	if (t->track_ok && np != t->n_tracked)
		track(ctx, pages, np);
	return NEST_OK;
}
