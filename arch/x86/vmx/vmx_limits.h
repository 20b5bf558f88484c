/* SPDX-License-Identifier: MIT */
/*
 * Sizes libnest keeps for what L1 points vmcs12 at: the bitmaps and the
 * MSR lists (SDM 26.6.4, 26.6.9, 26.7.2, A.6).
 */
#ifndef NEST_VMX_LIMITS_H
#define NEST_VMX_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

/* Sizes of the bitmaps (SDM 26.6.4, 26.6.9). */
#define NEST__VMX_MSR_BITMAP_SIZE 4096u
#define NEST__VMX_IO_BITMAP_SIZE 8192u /* bitmaps A and B, contiguous here */
#define NEST__VMX_IO_BITMAP_A_SIZE 4096u

/* Entries of an MSR list (load or store) libnest copies from L1 memory:
 * 512 * (IA32_VMX_MISC[27:25] + 1) with N = 0, the value libnest offers. */
#define NEST__VMX_MSR_AREA_MAX 512u

#endif /* NEST_VMX_LIMITS_H */
