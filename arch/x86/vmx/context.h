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
#include "vmx/nested.h"
#include "vmx/vmcs12.h"

/* "NVMX": marks an initialised context, so calls on stray memory fail. */
#define NEST_VMX_MAGIC 0x584d564eu

struct nest_vmx {
	uint32_t magic; /* NEST_VMX_MAGIC once nest_vmx_init() succeeded */
	uint32_t features; /* NEST_VMX_F_* actually offered (policy AND host) */

	/* ---- setup ---- */
	struct nest_backend be;
	bool vmx_allowed;       /* config: L1 may use VMX at all */
	uint32_t l1_maxphyaddr; /* L1's physical-address width */
	bool l1_gbpages;        /* L1 has 1 GiB pages (for libnest's walk of L1 paging) */
	struct nest_vmx_caps host; /* host's capability MSRs, as given */
	struct nest_vmx_caps caps; /* what L1 is offered (RDMSR values, entry-check reference) */
	uint64_t feature_control_valid; /* IA32_FEATURE_CONTROL bits L1 may write */
	uint64_t feature_control;       /* L1's IA32_FEATURE_CONTROL */

	/* ---- VMX operation (VMXON ... VMXOFF) ---- */
	bool vmxon;             /* L1 is in VMX operation (root, from L1's view) */
	uint64_t vmxon_ptr;     /* VMXON pointer, NEST_VMX_INVALID_VMPTR outside VMX operation */
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
	/* -- begin: nested entry and exit (arch/x86/vmx/nested.h) -- */
	struct nest__vmx_nested nested;
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

/* Copy an input struct that starts with `uint32_t size` into a zeroed
 * local of the current layout: fields a smaller (older) caller does not
 * know read as zero. Returns NEST_E_SIZE below `min`. */
int nest__vmx_copy_in(void *dst, size_t dst_size, const void *src, size_t min);

/* Whether a VM entry with "enable EPT" would take @eptp (SDM 27.2.1.1),
 * against the capabilities L1 was offered (invalidate.c; INVEPT and
 * VMFUNC use it). */
bool nest__vmx_eptp_valid(const struct nest_vmx *ctx, uint64_t eptp);

#endif /* NEST_VMX_CONTEXT_H */
