/* SPDX-License-Identifier: MIT */
/*
 * Nested VM entry and exit: the pure parts (exit decision, vmcs02 merge,
 * synthesized VM exit) and the state the flow keeps per vCPU.
 *
 *   exit_decide.c  which of L0 and L1 an exit of L2 belongs to (SDM 26.1,
 *                  26.2; 25.1 in editions before 2023), MSR/I/O bitmaps,
 *                  CR masks and shadows, exception bitmap and #PF mask/match
 *   vmcs02.c       vmcs02 = vmcs12 merged with what L0 needs
 *   reflect.c      the VM exit into L1: vmcs12 exit information and guest
 *                  state, L1's host state (SDM 28.2-28.5)
 *   nested.c       VMLAUNCH/VMRESUME and L2 exits through the backend
 *
 * Everything here is internal to the core. The functions of the first three
 * files are pure: they read their arguments only, so unit tests and
 * fuzzers call them directly.
 */
#ifndef NEST_VMX_NESTED_H
#define NEST_VMX_NESTED_H

#include <stdbool.h>
#include <stdint.h>

#include <nest/vmx.h>

#include "vmx/entry.h"
#include "vmx/vmcs12.h"

/* Sizes of the bitmaps (SDM 26.6.4, 26.6.9). */
#define NEST__VMX_MSR_BITMAP_SIZE 4096u
#define NEST__VMX_IO_BITMAP_SIZE 8192u /* bitmaps A and B, contiguous here */
#define NEST__VMX_IO_BITMAP_A_SIZE 4096u

/* Entries of an MSR-load area libnest copies from L1 memory. */
#define NEST__VMX_MSR_STORE_MAX 256u /* one page of 16-byte entries */
#define NEST__VMX_MSR_AREA_MAX 512u  /* 512 * (IA32_VMX_MISC[27:25] + 1) with N = 0 */

/* ---- exit decision (exit_decide.c) ---- */

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

/* ---- vmcs02 merge (vmcs02.c) ---- */

/* L0's side of vmcs02 (from vmcs01 and L0's policy, see struct nest_vmx_l0
 * in nest/vmx.h), as kept in the context. */
struct nest__vmx_l0 {
	struct nest_vmx_l0 pub;	  /* as last set by nest_vmx_set_l0() */
	struct nest__vmcs12 host; /* vmcs01's host-state fields (HOST_*) */
	/* The host's must-be-1 control bits (allowed-0 settings of its TRUE
	 * capability MSRs when it has them, SDM A.3-A.5): pin, primary, VM-exit
	 * and VM-entry controls; vmcs02 always has them. */
	uint32_t host_must1_pin, host_must1_proc, host_must1_exit, host_must1_entry;
	bool msr_bitmap_valid;	  /* pub.msr_bitmap was given: msr_bitmap holds it */
	bool io_bitmap_valid;	  /* pub.io_bitmap was given: io_bitmap holds it */
	uint8_t msr_bitmap[NEST__VMX_MSR_BITMAP_SIZE];
	uint8_t io_bitmap[NEST__VMX_IO_BITMAP_SIZE];
};

/* Host-physical addresses vmcs02 uses: libnest's own pages and L1's pages
 * translated through L0's map. */
struct nest__vmx_vmcs02_pages {
	uint64_t msr_bitmap; /* merged MSR bitmap */
	uint64_t io_bitmap_a, io_bitmap_b;
	uint64_t virtual_apic;	 /* vmcs12's virtual-APIC page, translated */
	uint64_t apic_access;	 /* vmcs12's APIC-access page, translated */
	uint64_t eptp02;	 /* root of the shadow EPT02 (L1 uses EPT) */
	/* libnest's copy of L1's VM-exit MSR-store list (stored in software at
	 * the exit; never given to vmcs02's hardware store list). */
	uint64_t exit_msr_store;
	uint32_t exit_msr_store_count;
};

/* L1's state when it executed VMLAUNCH/VMRESUME (vmcs01 guest fields). */
struct nest__vmx_l1_now {
	uint64_t cr0, cr4, efer, pat, debugctl, dr7;
	uint64_t intr; /* guest interruptibility (its NMI blocking: reflect.c) */
	/* L2 in PAE paging that L1 runs without EPT: the PDPTEs the entry
	 * loaded from L2's CR3 in L1 memory (SDM 27.3.2.4), which vmcs02 (on
	 * EPT01, so loading them from its fields) must carry. */
	bool pdptes_loaded;
	uint64_t pdpte[4];
};

/* A set of VMCS fields, by table position. */
struct nest__vmx_fieldset {
	uint64_t w[(NEST__VF_COUNT + 63) / 64];
};

static inline void nest__vmx_fs_set(struct nest__vmx_fieldset *s, unsigned i)
{
	s->w[i / 64] |= 1ull << (i % 64);
}

static inline bool nest__vmx_fs_has(const struct nest__vmx_fieldset *s, unsigned i)
{
	return (s->w[i / 64] >> (i % 64)) & 1u;
}

/* Build vmcs02 as an image of the same layout as vmcs12: controls as the
 * OR of L0's required exits and L1's, L0-only features from L0 only,
 * guest state from vmcs12, host state from vmcs01 (l0->pub.host), the
 * L0 pages in `pages`. `o` is overwritten. */
void nest__vmx_build_vmcs02(struct nest__vmcs12 *o, const struct nest__vmcs12 *v,
			    const struct nest__vmx_l0 *l0,
			    const struct nest__vmx_vmcs02_pages *pages,
			    const struct nest__vmx_l1_now *l1);

/* The VMRESUME fast path: `o` is the merge (nest__vmx_build_vmcs02()) of
 * an earlier vmcs12 with the same control fields, the same L0 and pages;
 * re-derive what depends on the guest-state fields in `changed` (a
 * superset of those that differ) and on L1's state. The result equals the
 * full merge. */
void nest__vmx_refresh_vmcs02(struct nest__vmcs12 *o, const struct nest__vmcs12 *v,
			      const struct nest__vmx_l0 *l0x,
			      const struct nest__vmx_fieldset *changed,
			      const struct nest__vmx_l1_now *l1);

/* Merge MSR bitmaps: a bit is clear (pass through) only if clear in both.
 * `l1` NULL means L1 intercepts every MSR; `l0` NULL means L0 none. */
void nest__vmx_merge_msr_bitmap(uint8_t *out, const uint8_t *l0, const uint8_t *l1);

/* The APIC-virtualization controls vmcs02 has for vmcs12 (L1's, never
 * L0's): VMX_PROC2_VIRT_APIC_ACCESSES, _VIRT_X2APIC_MODE,
 * _APIC_REGISTER_VIRT, _VIRT_INTR_DELIVERY. */
uint32_t nest__vmx_apicv02(const struct nest__vmcs12 *v);

/* After the merge: every x2APIC MSR access (800H-8FFH) that vmcs02's
 * controls `apicv` (nest__vmx_apicv02()) do not virtualize exits, so L2
 * never reaches the physical x2APIC through L0's pass-through for L1. */
void nest__vmx_msr_bitmap_x2apic(uint8_t *out, uint32_t apicv);

/* Merge I/O bitmaps (A then B, 8 KiB) into two 4 KiB pages: an access
 * passes only if both let it. `l1` NULL with l1_uncond means L1 exits on
 * all I/O; NULL without it, L1 exits on none; the same for `l0` and
 * l0_uncond. */
void nest__vmx_merge_io_bitmap(uint8_t *out_a, uint8_t *out_b, const uint8_t *l0, bool l0_uncond,
			       const uint8_t *l1, bool l1_uncond);

/* L0 asks for every I/O access of L2: unconditional I/O exiting without
 * "use I/O bitmaps" in nest_vmx_l0::proc (its bitmap, if any, then does
 * not count, as on the processor). */
bool nest__vmx_l0_io_uncond(const struct nest_vmx_l0 *l0);

/* The vmcs02 fields libnest writes (guest state, controls, host state). */
bool nest__vmx_vmcs02_field(unsigned index);

/* ---- the synthesized VM exit (reflect.c) ---- */

/* What a VM exit into L1 reports (SDM 28.2), as read from vmcs02 or made
 * up for an exit libnest synthesizes. */
struct nest__vmx_exit_report {
	uint32_t reason;
	uint32_t intr_info, intr_error;
	uint32_t idt_info, idt_error;
	uint32_t insn_len, insn_info;
	uint64_t qual;
	uint64_t gla, gpa;
	uint64_t io_rcx, io_rsi, io_rdi, io_rip;
	uint32_t timer; /* L1's remaining VMX-preemption timer value */
};

/* Write the exit-information fields of vmcs12 (SDM 28.2) and clear the
 * valid bit of its VM-entry interruption-information field, as every VM
 * exit does. */
void nest__vmx_write_exit_info(struct nest__vmcs12 *v, const struct nest__vmx_exit_report *r);

/* Save L2's guest state from a vmcs02 image into vmcs12 (SDM 28.3),
 * honouring vmcs12's VM-exit save controls; CR0/CR4 bits that only L0
 * owns are taken from vmcs02's read shadows (L2's view of them). */
void nest__vmx_save_guest(struct nest__vmcs12 *v, const struct nest__vmcs12 *v02,
			  const struct nest__vmx_exit_report *r);

/* L1's state after the VM exit (SDM 28.5 "Loading Host State"), from
 * vmcs12's host-state area and VM-exit controls, as vmcs01 guest-state
 * fields: `o` receives them, `set` names the fields to write. */
void nest__vmx_load_host_state(struct nest__vmcs12 *o, struct nest__vmx_fieldset *set,
			       const struct nest__vmcs12 *v, const struct nest__vmx_l1_now *l1);

/* ---- per-vCPU nested state (nested.c) ---- */

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

struct nest_vmx;

/* Tests: with `on`, every VM entry runs all checks and the full merge
 * (the reference the fast path must equal). Not a public API. */
void nest__vmx_entry_force_full(struct nest_vmx *ctx, bool on);

struct nest__vmx_nested {
	/* Window exits L0 asked for in vmcs02 (VMX_PROC_INTR_WINDOW_EXITING,
	 * VMX_PROC_NMI_WINDOW_EXITING) to deliver an event to L2 later. */
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
	struct nest__vmx_fieldset dirty; /* fields L1 wrote since the last entry */
	struct nest__vmcs12 shadow_cache; /* the shadow VMCS's fields, with shadow_cached */
	uint16_t last_vpid12;
	uint32_t timer_start; /* vmcs02's timer value at the last entry */
	struct nest__vmx_l0 l0;
	struct nest__vmx_vmcs02_pages pages;
	void *msr_bitmap_hva, *io_bitmap_hva, *io_bitmap_b_hva;
	struct nest__vmx_l1_now l1_now;	   /* L1 at its last VMLAUNCH/VMRESUME */
	struct nest__vmx_l1_bitmaps l1_bm; /* fetched at the last entry */
	bool merged_valid;   /* libnest's bitmap pages hold the merge of l1_bm and L0's */
	uint32_t merged_use; /* L1's bitmap controls at that merge */
	uint32_t merged_apicv; /* vmcs02's APIC virtualization at that merge */
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
	/* L1's VM-exit MSR-store list (SDM 28.4), copied at entry into a page
	 * of libnest; at reflection each value is read through the backend's
	 * guest_rdmsr and the list written to L1. */
	void *msr_store_hva;
	bool msr_store_abort; /* an entry fails SDM 28.4: VMX abort at the exit */
	struct nest__vmx_fast fast;
};

struct nest__vmx_insn;
struct nest_vmx;

/* Write the vmcs02 fields of `img` that differ from the cache. */
int nest__vmx_write_vmcs02(struct nest_vmx *ctx, const struct nest__vmcs12 *img);

/* The VM exit into L1 (nested.c): exit information, L2's guest state
 * (read from vmcs02) unless save_guest is false (failed VM entry), L1's
 * host state into vmcs01, the VM-exit MSR-load area. */
int nest__vmx_reflect(struct nest_vmx *ctx, struct nest__vmx_exit_report *r, bool save_guest,
		      struct nest_vmx_action *act);

/* Hardware VMCS shadowing (nest_vmx_l0::flags): keep NEST_VMCS_SHADOW and
 * vmcs12 in step. The instruction emulation calls these when the current
 * VMCS stops being current (before writing it back), when one becomes
 * current, and after an exiting VMWRITE. No-ops without shadowing. */
void nest__vmx_shadow_release(struct nest_vmx *ctx);
void nest__vmx_shadow_load(struct nest_vmx *ctx);
void nest__vmx_shadow_field(struct nest_vmx *ctx, uint32_t enc);
/* libnest itself changed field @enc of vmcs12 (the VM-instruction error of
 * a VMfail): show the new value in the shadow VMCS if L1 reads it there. */
void nest__vmx_shadow_mirror(struct nest_vmx *ctx, uint32_t enc);

/* L0 could not load entry `index` of the pending MSR list
 * (nest_vmx_pending_msr_failed()): the VM entry fails with exit reason 34
 * (SDM 27.4, 27.8), or the VM exit becomes a VMX abort (28.7). */
int nest__vmx_msr_load_failed(struct nest_vmx *ctx, uint32_t index, struct nest_vmx_action *act);

/* The guest ran: the pending MSR list can no longer be refused. */
static inline void nest__vmx_msrs_consumed(struct nest__vmx_nested *n)
{
	n->msrs_kind = NEST__VMX_MSRS_NONE;
}

/* SDM 27.3.2.4: an L2 in PAE paging outside IA-32e mode that L1 runs
 * without EPT has its PDPTEs loaded from L2's CR3 (an L1-physical
 * address), not from vmcs12's fields. Returns whether vmcs12 is such an
 * entry; if so `pdpte` receives them, read once (memory L0 does not back
 * reads as all ones, which the checks refuse). */
bool nest__vmx_fetch_pdptes(const struct nest_vmx *ctx, const struct nest__vmcs12 *v,
			    uint64_t pdpte[4]);
/* What entry checks read from L1 memory, once: VTPR, the link pointer's
 * VMCS header and the PDPTEs, each where vmcs12 makes it matter. */
void nest__vmx_fetch_entry_env(const struct nest_vmx *ctx, const struct nest__vmcs12 *v,
			       struct nest__vmx_entry_env *env);

/* Bring the rarely read guest-state fields of vmcs12 up to date from
 * vmcs02 (before an exiting VMREAD; see rare_stale). */
void nest__vmx_sync_rare(struct nest_vmx *ctx);

/* Guest-state fields read from vmcs02 at every reflected exit. */
bool nest__vmx_per_exit_field(unsigned index);

/* VMLAUNCH and VMRESUME executed by L1 (the instruction dispatcher of
 * insn.c calls these). Return as the other instruction handlers do. */
int nest__vmx_handle_vmlaunch(struct nest__vmx_insn *in);
int nest__vmx_handle_vmresume(struct nest__vmx_insn *in);

/* Saved state restored in guest mode (state.c): rebuild vmcs02 in full. */
int nest__vmx_rebuild_vmcs02(struct nest_vmx *ctx);

#endif /* NEST_VMX_NESTED_H */
