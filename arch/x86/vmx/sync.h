/* SPDX-License-Identifier: MIT */
/*
 * Moving VMCS fields between libnest's images and the hardware VMCSs
 * (sync.c): the vmcs02 write cache, L2's guest state read back from
 * vmcs02 at an exit, and the field-by-field copies between an image and
 * vmcs01, vmcs02 or the shadow VMCS. Every loop walks a field list built
 * once per context from the fields the processor under L0 has
 * (struct nest__vmx_lists), never the whole field table.
 */
#ifndef NEST_VMX_SYNC_H
#define NEST_VMX_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nest/vmx.h>

#include "internal.h"
#include "vmx/vmcs12.h"

struct nest_vmx;
struct nest__vmx_fieldset;

/* Images are compared a 64-bit word at a time: every field is naturally
 * aligned (vmcs12.h), so it lies within one word. */
#define NEST__VMX_IMG_WORD 8u
#define NEST__VMX_IMG_WORDS (sizeof(struct nest__vmcs12) / NEST__VMX_IMG_WORD)
#define NEST__VMX_IMG_FIRST_WORD                                                                   \
	(offsetof(struct nest__vmcs12, VIRTUAL_PROCESSOR_ID) / NEST__VMX_IMG_WORD)

static inline uint64_t nest__vmx_img_word(const struct nest__vmcs12 *img, size_t w)
{
	uint64_t x;

	nest__memcpy(&x, (const uint8_t *)img + w * NEST__VMX_IMG_WORD, sizeof(x));
	return x;
}

/* Build the context's field lists from the fields the processor under L0
 * has (nest_vmx_init(), and whenever the host's capabilities change). */
void nest__vmx_build_lists(struct nest_vmx *ctx);

/* Write the vmcs02 fields of `img` that differ from the cache. With
 * keep_rare, the rarely read guest fields L1 did not write keep vmcs02's
 * values (see rare_stale in context.h). */
int nest__vmx_write_vmcs02(struct nest_vmx *ctx, const struct nest__vmcs12 *img, bool keep_rare);
/* Write every vmcs02 field of `img` (the backend's vmcs02 is unknown). */
int nest__vmx_write_vmcs02_all(struct nest_vmx *ctx, const struct nest__vmcs12 *img);
/* Read L2's guest state from vmcs02 into the vmcs02 cache: the fields
 * read at every exit, or all guest fields. */
int nest__vmx_read_vmcs02_guest(struct nest_vmx *ctx, bool all);
/* Bring the rarely read guest-state fields of vmcs12 up to date from
 * vmcs02 (before an exiting VMREAD; see rare_stale). */
void nest__vmx_sync_rare(struct nest_vmx *ctx);
/* Write the fields of `set` from `img` into vmcs01 (L1's host state at a
 * reflected exit). */
int nest__vmx_write_vmcs01(struct nest_vmx *ctx, const struct nest__vmcs12 *img,
			   const struct nest__vmx_fieldset *set);
/* The shadow VMCS: read the fields L1 may write without an exit into
 * vmcs12 (marking what changed dirty), or write the fields L1 may read
 * (only those that differ from `cache` when `cached`). */
int nest__vmx_shadow_read_all(struct nest_vmx *ctx);
int nest__vmx_shadow_write_all(struct nest_vmx *ctx, bool cached);

#endif /* NEST_VMX_SYNC_H */
