/* SPDX-License-Identifier: MIT */
/*
 * The per-vCPU nested-VMX context: the internal layout of the opaque
 * struct nest_vmx that lives in caller storage (nest_vmx_size() bytes).
 *
 * The layout is private to one build of the library: callers only ever
 * see nest_vmx_size(), so any part below may grow. Grouped by concern so
 * each area extends its own part:
 *   - setup:        backend, policy, the capabilities offered to L1;
 *   - VMX operation: VMXON state, current-VMCS pointer, the cached vmcs12
 *                   (instruction emulation, arch/x86/vmx/insn.c);
 *   - nested entry: state of L2 while L1 runs it (reserved below for VM
 *                   entry, vmcs02 and exit reflection).
 *
 * Invariants after every public call:
 *   - vmxon == false implies vmxon_ptr == current_vmptr == NEST_VMX_INVALID_VMPTR;
 *   - current_vmptr != NEST_VMX_INVALID_VMPTR implies vmcs12 holds that
 *     VMCS (read once at VMPTRLD; L1 memory is stale until written back)
 *     and vmcs12.launch_state is NEST_VMCS12_STATE_CLEAR or _LAUNCHED;
 *   - current_vmptr, when valid, is 4 KiB aligned, within l1_maxphyaddr
 *     and differs from vmxon_ptr.
 */
#ifndef NEST_VMX_CONTEXT_H
#define NEST_VMX_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include <nest/vmx.h>

#include "internal.h"
#include "vmx/check.h"
#include "vmx/decide.h"
#include "vmx/vmcs02.h"
#include "vmx/vmcs12.h"

/* "NVMX": marks an initialised context, so calls on stray memory fail. */
#define NEST_VMX_MAGIC 0x584d564eu

/* ---- the nested entry and exit state of one vCPU (entry.c, exit.c) ---- */

/* Field lists (table positions, in table order) built once per context
 * from the fields the processor under L0 has (sync.c): every loop over
 * VMCS fields on a hot path walks one of these, never the whole table. */
struct nest__vmx_list {
	uint16_t n;
	uint16_t i[NEST__VF_COUNT];
};

struct nest__vmx_lists {
	struct nest__vmx_list v02;	  /* fields libnest writes in vmcs02 */
	struct nest__vmx_list guest_exit; /* guest state read at every reflected exit */
	struct nest__vmx_list guest_rare; /* guest state read when L1 asks (rare_stale) */
	/* guest state read at a reflected exit only when vmcs02 could have
	 * changed it (sync.c, read_cond()) */
	struct nest__vmx_list guest_cond;
	struct nest__vmx_list shadow_rd;  /* fields L1 reads through the shadow VMCS */
	struct nest__vmx_list shadow_wr;  /* fields L1 writes through the shadow VMCS */
	/* The fields the processor under L0 has (nest__vmx_hw_field()), as a set. */
	uint64_t hw[(NEST__VF_COUNT + 63) / 64];
	/* v02_word[w]: the first position in v02 of a field at or after word w
	 * of the image (8-byte words, sync.h); the fields of word w are
	 * v02.i[v02_word[w]] up to v02.i[v02_word[w + 1]]. */
	uint16_t v02_word[sizeof(struct nest__vmcs12) / 8 + 1];
};

/* The VMRESUME fast path: the inputs of the last successful VM entry, so
 * the next VMRESUME re-checks and re-merges only what changed (see
 * docs/conformance-vmx.md, "Nested entry fast path"). Which vmcs12 fields
 * changed is found by comparing values with `v12`, whoever wrote them (L1's
 * VMWRITEs, the shadow VMCS, a reflected exit, VMPTRLD of another VMCS). */
struct nest__vmx_fast {
	bool valid;	 /* the last VM entry succeeded; the fields below are its inputs */
	bool force_full; /* internal switch (tests): every entry takes the full path */
	/* The entry-check environment: L1's mode and what the checks read
	 * from L1 memory (VTPR, the link pointer's header, the PDPTEs). */
	struct nest__vmx_entry_env env;
	struct nest_vmx_caps caps;
	struct nest__vmx_vmcs02_pages pages;
	struct nest__vmcs12 v12; /* vmcs12 as checked and merged (fields; header unused) */
	struct nest__vmcs12 v02; /* nest__vmx_build_vmcs02() of v12 (before keep_rare) */
	/* What the last entry did (tests, bench): the check groups it ran
	 * (NEST__VMX_CHECK_*) and whether it merged vmcs02 in full. */
	unsigned last_groups;
	bool last_full_merge;
	uint32_t last_rule; /* the failing rule of the last entry (NEST_VMX_RULE_*) */
};

/* L1's bitmaps (bitmaps.c): which copy of nest__vmx_l1_bitmaps holds
 * which page, and how it is kept equal to L1's memory. */
enum { NEST__VMX_BM_MSR, NEST__VMX_BM_IO_A, NEST__VMX_BM_IO_B, NEST__VMX_BM_COUNT };

struct nest__vmx_bm_track {
	uint64_t gpa[NEST__VMX_BM_COUNT]; /* the page each copy was read from */
	/* Copies equal to their page since L0 tracks its writes (bits by
	 * NEST__VMX_BM_*); meaningful only with track_ok. */
	uint8_t have;
	/* While L2 runs: bitmaps written since the entry, decided from L1's
	 * memory at each exit; their part of the merged pages is all ones
	 * (clobbered, until the next merge). */
	uint8_t live, clobbered;
	bool track_ok; /* the backend tracks the pages of tracked[] */
	bool ept12;    /* L1 used EPT at the last full pass (what watched[] follows) */
	unsigned n_tracked, n_watched;
	uint64_t tracked[NEST__VMX_BM_COUNT]; /* reported to L0 (track_l1_writes) */
	uint64_t watched[NEST__VMX_BM_COUNT]; /* watched in EPT02 (nest_tdp_watch_writes) */
};

struct nest__vmx_nested {
	/* Window exits L0 asked for in vmcs02 (NEST_VMX_PROC_INTR_WINDOW_EXITING,
	 * NEST_VMX_PROC_NMI_WINDOW_EXITING) to deliver an event to L2 later. */
	uint32_t l0_window;
	bool l0_set;	       /* nest_vmx_set_l0() was called */
	bool guest_mode;       /* L2 runs (vmcs02 is current for the caller) */
	bool vpid12_valid;     /* last_vpid12 holds vmcs12's VPID at the last entry */
	bool l1_timer_smaller; /* vmcs02's preemption timer value was L1's */
	bool timer_active;     /* vmcs02 runs a preemption timer */
	bool shadow_loaded;    /* the shadow VMCS holds the current vmcs12 (VMCS shadowing) */
	bool shadow_cached;    /* shadow_cache holds what the shadow VMCS holds */
	/* Rarely read guest-state fields (segments, descriptor tables, MSRs
	 * other than EFER/PAT/DEBUGCTL) are not read from vmcs02 at a
	 * reflected exit: vmcs02 holds them until L1 reads one, its VMCS is
	 * written back, or the next entry (which leaves them in vmcs02). */
	bool rare_stale;
	/* L2 was entered in HLT with its interrupt window open: vmcs02 runs
	 * active (nest__vmx_hlt_window_open()) and L2's first reflected exit
	 * saves HLT, the state the processor left for it. */
	bool hlt_woken;
	struct nest__vmx_fieldset dirty;  /* fields L1 wrote since the last entry */
	struct nest__vmcs12 shadow_cache; /* the shadow VMCS's fields, with shadow_cached */
	uint16_t last_vpid12;
	uint32_t timer_start; /* vmcs02's timer value at the last entry */
	struct nest__vmx_l0 l0;
	struct nest__vmx_vmcs02_pages pages;
	void *msr_bitmap_hva, *io_bitmap_hva, *io_bitmap_b_hva;
	struct nest__vmx_l1_now l1_now;	   /* L1 at its last VMLAUNCH/VMRESUME */
	struct nest__vmx_l1_bitmaps l1_bm; /* fetched at the last entry */
	bool merged_valid;     /* libnest's bitmap pages hold the merge of l1_bm and L0's */
	uint32_t merged_use;   /* L1's bitmap controls at that merge */
	uint32_t merged_apicv; /* vmcs02's APIC virtualization at that merge */
	struct nest__vmx_bm_track bmt;
	uint8_t scratch[NEST__VMX_IO_BITMAP_A_SIZE]; /* one page of L1 being fetched */
	/* vmcs02 as last written through the backend (all zero before the
	 * first entry, as the backend's fresh vmcs02 is). */
	struct nest__vmcs12 vmcs02_cache;
	/* MSRs L0 must load (nest_vmx_pending_msrs()): L1's VM-entry
	 * MSR-load area after an entry, its VM-exit MSR-load area after a
	 * reflected exit. Copied once from L1 memory and checked. */
	uint32_t msr_count;
	struct nest_vmx_msr_entry msrs[NEST__VMX_MSR_AREA_MAX];
	/* Which list msrs[] holds while L0 may still refuse one of its
	 * entries (nest_vmx_pending_msr_failed()): until the guest runs. */
	enum { NEST__VMX_MSRS_NONE, NEST__VMX_MSRS_ENTRY, NEST__VMX_MSRS_EXIT } msrs_kind;
	bool entry_launch; /* the entry that gave the list was a VMLAUNCH */
	/* L1's VM-exit MSR-store list (SDM 28.4): its length, decided at
	 * entry; the list is copied from L1 at the exit (reflect.c), each
	 * value read through the backend's guest_rdmsr and the list written
	 * back to L1. */
	uint32_t msr_store_count;
	struct nest_vmx_msr_entry msr_store[NEST__VMX_MSR_AREA_MAX];
	bool msr_store_abort; /* an entry fails SDM 28.4: VMX abort at the exit */
	struct nest__vmx_fast fast;
};

struct nest_vmx {
	uint32_t magic;	   /* NEST_VMX_MAGIC once nest_vmx_init() succeeded */
	uint32_t features; /* NEST_VMX_F_* actually offered (policy AND host) */

	/* ---- setup ---- */
	struct nest_backend be;
	bool vmx_allowed;	   /* config: L1 may use VMX at all */
	uint32_t l1_maxphyaddr;	   /* L1's physical-address width */
	bool l1_gbpages;	   /* L1 has 1 GiB pages (for libnest's walk of L1 paging) */
	struct nest_vmx_caps host; /* host's capability MSRs, as given */
	struct nest_vmx_caps caps; /* what L1 is offered (RDMSR values, entry-check reference) */
	uint64_t feature_control_valid; /* IA32_FEATURE_CONTROL bits L1 may write */
	uint64_t feature_control;	/* L1's IA32_FEATURE_CONTROL */

	/* ---- VMX operation (VMXON ... VMXOFF) ---- */
	bool vmxon;		/* L1 is in VMX operation (root, from L1's view) */
	uint64_t vmxon_ptr;	/* VMXON pointer, NEST_VMX_INVALID_VMPTR outside VMX operation */
	uint64_t current_vmptr; /* current-VMCS pointer, NEST_VMX_INVALID_VMPTR if none */
	/* The current VMCS, cached in L0 memory (valid iff current_vmptr is).
	 * Nested entry reads controls and guest state from here; exit
	 * reflection writes exit information here. Written back to L1 memory
	 * by VMCLEAR, VMPTRLD of another VMCS and VMXOFF. */
	struct nest__vmcs12 vmcs12;

	/* ---- nested entry / exit reflection ----
	 * Reserved for the VM-entry and VM-exit code: whether L2 is running
	 * (guest mode), vmcs02 bookkeeping (the backend's NEST_VMCS02),
	 * dirty-field tracking for the vmcs02 merge, pending nested events.
	 * Add members here; nest_vmx_size() follows sizeof(struct nest_vmx)
	 * and nest_vmx_init() zeroes the whole structure first. */
	/* -- begin: nested entry and exit (entry.c, exit.c, reflect.c) -- */
	struct nest__vmx_nested nested;
	struct nest__vmx_lists lists;
	/* -- end: nested entry and exit -- */
};

/* Offered-capability computation (caps.c). */
void nest__vmx_compute_caps(struct nest_vmx *ctx);

/* Write the cached vmcs12 back to L1 memory at current_vmptr (context.c).
 * Best effort: a backend failure is logged, never reported to L1. */
void nest__vmx_writeback_vmcs12(struct nest_vmx *ctx);

/* Validate a context pointer passed to a public call. */
static inline bool nest__vmx_ctx_ok(const struct nest_vmx *ctx)
{
	return ctx != NULL && ctx->magic == NEST_VMX_MAGIC;
}

/* Whether a VM entry with "enable EPT" would take @eptp (SDM 27.2.1.1),
 * against the capabilities L1 was offered (invalidate.c; INVEPT and
 * VMFUNC use it). */
bool nest__vmx_eptp_valid(const struct nest_vmx *ctx, uint64_t eptp);

/* The guest ran: the pending MSR list can no longer be refused. */
static inline void nest__vmx_msrs_consumed(struct nest__vmx_nested *n)
{
	n->msrs_kind = NEST__VMX_MSRS_NONE;
}

#endif /* NEST_VMX_CONTEXT_H */
