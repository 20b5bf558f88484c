/* SPDX-License-Identifier: MIT */
/*
 * vmcs02 = vmcs12 merged with what L0 needs (vmcs02.c): L0's side of the
 * merge, the pages vmcs02 names, L1's state at entry, and the pure merge
 * functions (unit tests and fuzzers call them directly).
 */
#ifndef NEST_VMX_VMCS02_H
#define NEST_VMX_VMCS02_H

#include <stdbool.h>
#include <stdint.h>

#include <nest/vmx.h>

#include "cpu/x86.h"
#include "vmx/vmcs12.h"
#include "vmx/vmx_limits.h"

/* L0's side of vmcs02 (from vmcs01 and L0's policy, see struct nest_vmx_l0
 * in nest/vmx.h), as kept in the context. */
struct nest__vmx_l0 {
	struct nest_vmx_l0 pub;	  /* as last set by nest_vmx_set_l0() */
	struct nest__vmcs12 host; /* vmcs01's host-state fields (HOST_*) */
	/* The host's must-be-1 control bits (allowed-0 settings of its TRUE
	 * capability MSRs when it has them, SDM A.3-A.5): pin, primary, VM-exit
	 * and VM-entry controls; vmcs02 always has them. */
	uint32_t host_must1_pin, host_must1_proc, host_must1_exit, host_must1_entry;
	bool host_vnmi;	       /* the host allows "virtual NMIs" */
	bool msr_bitmap_valid; /* pub.msr_bitmap was given: msr_bitmap holds it */
	bool io_bitmap_valid;  /* pub.io_bitmap was given: io_bitmap holds it */
	uint8_t msr_bitmap[NEST__VMX_MSR_BITMAP_SIZE];
	uint8_t io_bitmap[NEST__VMX_IO_BITMAP_SIZE];
};

/* Host-physical addresses vmcs02 uses: libnest's own pages and L1's pages
 * translated through L0's map. */
struct nest__vmx_vmcs02_pages {
	uint64_t msr_bitmap; /* merged MSR bitmap */
	uint64_t io_bitmap_a, io_bitmap_b;
	uint64_t virtual_apic; /* vmcs12's virtual-APIC page, translated */
	uint64_t apic_access;  /* vmcs12's APIC-access page, translated */
	uint64_t eptp02;       /* root of the shadow EPT02 (L1 uses EPT) */
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

/* An entry in the HLT activity state whose interrupt-window exit is due
 * before any instruction (SDM 26.7.5): "interrupt-window exiting", RFLAGS.IF
 * set, no event injected (blocking by STI or MOV SS cannot come with HLT,
 * SDM 27.3.1.5). Such an exit wakes the processor from HLT as an external
 * interrupt would; vmcs02 enters in the active state, where the processor
 * takes it at once, and the exit saves HLT for L1 (reflect.c). */
bool nest__vmx_hlt_window_open(const struct nest__vmcs12 *v);

/* Virtual-interrupt delivery: with guest interrupt status `intr_status`
 * (SVI in bits 15:8, RVI in 7:0) and VTPR `vtpr`, is a pending virtual
 * interrupt recognized? PPR virtualization (VPPR = VTPR if VTPR[7:4] >=
 * SVI[7:4], else SVI[7:4]:0, SDM 30.1.3), then RVI[7:4] > VPPR[7:4] (SDM
 * 30.2.1; "interrupt-window exiting", which prevents recognition, is the
 * caller's to check). */
static inline bool nest__vmx_virq_recognized(uint16_t intr_status, uint8_t vtpr)
{
	uint32_t rvi = intr_status & 0xFFu, svi = (uint32_t)intr_status >> 8;
	uint32_t vppr = (vtpr & 0xF0u) >= (svi & 0xF0u) ? vtpr : (svi & 0xF0u);

	return (rvi & 0xF0u) > (vppr & 0xF0u);
}

/* VTPR: byte 80H of the virtual-APIC page (SDM 30.1.1). */
#define NEST__VMX_VAPIC_VTPR_OFFSET 0x80u

/* Does an L2 in HLT take its pending virtual interrupt at once, which ends
 * HLT (SDM 30.2.2)? Recognized (no "interrupt-window exiting" in `proc`,
 * RVI above VPPR, SDM 30.2.1), RFLAGS.IF set and no event injected
 * (`entry_intr`). Blocking by STI or MOV SS cannot come with HLT (SDM
 * 27.3.1.5): the callers' to handle. */
static inline bool nest__vmx_hlt_virq_taken(uint32_t proc, uint64_t rflags, uint32_t entry_intr,
					    uint16_t intr_status, uint8_t vtpr)
{
	return !(proc & NEST_VMX_PROC_INTR_WINDOW_EXITING) && (rflags & X86_RFLAGS_IF) != 0 &&
	       !(entry_intr & NEST_VMX_INTR_INFO_VALID) &&
	       nest__vmx_virq_recognized(intr_status, vtpr);
}

/* Merge MSR bitmaps: a bit is clear (pass through) only if clear in both.
 * `l1` NULL means L1 intercepts every MSR; `l0` NULL means L0 none. */
void nest__vmx_merge_msr_bitmap(uint8_t *out, const uint8_t *l0, const uint8_t *l1);

/* The APIC-virtualization controls vmcs02 has for vmcs12 (L1's, never
 * L0's): NEST_VMX_PROC2_VIRT_APIC_ACCESSES, _VIRT_X2APIC_MODE,
 * _APIC_REGISTER_VIRT, _VIRT_INTR_DELIVERY. */
uint32_t nest__vmx_apicv02(const struct nest__vmcs12 *v);

/* After the merge: every x2APIC MSR access (800H-8FFH) that vmcs02's
 * controls `apicv` (nest__vmx_apicv02()) do not virtualize exits, so L2
 * never reaches the physical x2APIC through L0's pass-through for L1; one
 * they virtualize exits as L1's bitmap `l1` (NULL: every access) says,
 * whatever L0's: it reaches the virtual-APIC page, never an APIC. */
void nest__vmx_msr_bitmap_x2apic(uint8_t *out, const uint8_t *l1, uint32_t apicv);

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

#endif /* NEST_VMX_VMCS02_H */
