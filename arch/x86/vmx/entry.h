/* SPDX-License-Identifier: MIT */
/*
 * Nested VM entry (entry.c): L1's VMLAUNCH and VMRESUME, the VMRESUME fast
 * path, what an entry reads from L1 memory once, and vmcs02 rebuilt after
 * a restore.
 */
#ifndef NEST_VMX_ENTRY_H
#define NEST_VMX_ENTRY_H

#include <stdbool.h>
#include <stdint.h>

#include <nest/vmx.h>

#include "vmx/check.h"
#include "vmx/vmcs12.h"

struct nest_vmx;
struct nest__vmx_insn;
struct nest__vmx_nested;

/* VMLAUNCH and VMRESUME executed by L1 (the instruction dispatcher of
 * insn.c calls these). Return as the other instruction handlers do. */
int nest__vmx_handle_vmlaunch(struct nest__vmx_insn *in);
int nest__vmx_handle_vmresume(struct nest__vmx_insn *in);

/* Tests: with `on`, every VM entry runs all checks and the full merge
 * (the reference the fast path must equal). Not a public API. */
void nest__vmx_entry_force_full(struct nest_vmx *ctx, bool on);

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

/* nest__vmx_fetch_msr_area(): more entries than libnest keeps
 * (NEST__VMX_MSR_AREA_MAX) although the capabilities allow them. */
#define NEST__VMX_MSR_AREA_TOO_LARGE (-1)
/* Read an MSR-load area of `count` entries once from L1 memory into the
 * pending list and check it (SDM 27.4, 28.6). Returns the check outcome
 * (NEST_VMX_ENTRY_OK when every entry passes). */
int nest__vmx_fetch_msr_area(struct nest_vmx *ctx, uint64_t gpa, uint32_t count,
			     struct nest_vmx_entry_result *res);

/* L0 could not load entry `index` of the pending MSR list
 * (nest_vmx_pending_msr_failed()): the VM entry fails with exit reason 34
 * (SDM 27.4, 27.8), or the VM exit becomes a VMX abort (28.7). */
int nest__vmx_msr_load_failed(struct nest_vmx *ctx, uint32_t index, struct nest_vmx_action *act);

/* bitmaps.c: L1's bitmaps at a VM entry (copies brought up to date,
 * merged with L0's); L2's write to a watched bitmap page; L1's verdict on
 * an I/O or MSR exit that a bitmap written while L2 runs decides (1, 0,
 * or -1 when none does). */
int nest__vmx_prepare_bitmaps(struct nest_vmx *ctx);
int nest__vmx_l2_wrote(struct nest_vmx *ctx, uint64_t l1_gpa);
struct nest__vmx_l2_exit;
int nest__vmx_live_verdict(const struct nest_vmx *ctx, const struct nest__vmx_l2_exit *e);

/* Saved state restored in guest mode (state.c): rebuild vmcs02 in full. */
int nest__vmx_rebuild_vmcs02(struct nest_vmx *ctx);

#endif /* NEST_VMX_ENTRY_H */
