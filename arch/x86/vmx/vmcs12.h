/* SPDX-License-Identifier: MIT */
/*
 * libnest's vmcs12 image: L1's current VMCS as libnest keeps it in L0
 * memory, and the bytes libnest writes to L1's VMCS region on VMCLEAR.
 *
 * IMPORTANT: layout. A wire format: a header, then every field of
 * nest/vmcs-fields.def in list order, each at its natural alignment. The
 * field list is append-only, so an image written by an older libnest reads
 * correctly in a newer one.
 */
#ifndef NEST_VMX_VMCS12_H
#define NEST_VMX_VMCS12_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nest/vmcs.h>
#include <nest/vmx-arch.h>

/* libnest's VMCS revision identifier (IA32_VMX_BASIC bits 30:0) as offered
 * to L1. Bit 31 of a VMCS region's first word is the shadow-VMCS indicator. */
#define NEST_VMCS12_REVISION 0x4e455354u /* "TSEN" */
#define NEST_VMCS12_SHADOW_INDICATOR (1u << 31)
#define NEST_VMCS12_REGION_SIZE 4096u

/* Launch state kept in the image header (SDM 25.1: clear or launched). */
#define NEST_VMCS12_STATE_CLEAR 0u
#define NEST_VMCS12_STATE_LAUNCHED 1u

#define NEST__VMCS_CTYPE_W16 uint16_t
#define NEST__VMCS_CTYPE_W32 uint32_t
#define NEST__VMCS_CTYPE_W64 uint64_t
#define NEST__VMCS_CTYPE_WNAT uint64_t

struct nest__vmcs12 {
	uint32_t revision;     /* revision identifier, bit 31 shadow-VMCS indicator */
	uint32_t abort;        /* VMX-abort indicator (SDM 25.2) */
	uint32_t launch_state; /* NEST_VMCS12_STATE_* */
	uint32_t header_reserved;
#define NEST_VMCS_FIELD(name, enc, width, shadow) NEST__VMCS_CTYPE_##width name;
#include <nest/vmcs-fields.def>
#undef NEST_VMCS_FIELD
};

_Static_assert(sizeof(struct nest__vmcs12) <= NEST_VMCS12_REGION_SIZE,
	       "the vmcs12 image must fit in a 4 KiB VMCS region");
_Static_assert(offsetof(struct nest__vmcs12, VIRTUAL_PROCESSOR_ID) == 16,
	       "vmcs12 header is 16 bytes");

/* Table position of each field (NEST__VF_GUEST_CR0 ...). */
enum nest__vmcs_field_index {
#define NEST_VMCS_FIELD(name, enc, width, shadow) NEST__VF_##name,
#include <nest/vmcs-fields.def>
#undef NEST_VMCS_FIELD
	NEST__VF_COUNT
};

/* The field table (lookup by position). */
extern const struct nest_vmcs_field nest__vmcs_fields[NEST__VF_COUNT];

/* Read field `enc` (full or high access) from an image. Returns false for
 * an encoding that names no field. Narrow fields are zero-extended. */
bool nest__vmcs12_read(const struct nest__vmcs12 *v, uint32_t enc, uint64_t *value);

/* Write field `enc`; the value is truncated to the field's width, a high
 * access writes bits 63:32 only. Returns false for an unknown encoding. */
bool nest__vmcs12_write(struct nest__vmcs12 *v, uint32_t enc, uint64_t value);

/* The field for `enc` (NULL if none); internal fast path. */
const struct nest_vmcs_field *nest__vmcs_field(uint32_t enc);

/* The secondary processor-based controls in force: 0 unless the primary
 * controls activate them (SDM 25.6.2). */
static inline uint32_t nest__vmcs12_proc2(const struct nest__vmcs12 *v)
{
	return (v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_ACTIVATE_SECONDARY)
		   ? v->SECONDARY_VM_EXEC_CONTROL
		   : 0;
}

/*
 * The guest-state fields of the image lie in four runs, one per width, and
 * so do the host-state fields (nest/vmcs-fields.def lists each group so,
 * SDM B.1.2-B.4.4, and the image follows the list): a copy of every field
 * of one type is four block copies. vmcs12.c asserts at build time that
 * the runs hold every field of their type and no other.
 */
struct nest__vmx_run {
	uint16_t lo, hi; /* byte offsets in the image, [lo, hi) */
};
#define NEST__VMX_RUNS 4
extern const struct nest__vmx_run nest__vmx_guest_runs[NEST__VMX_RUNS];
extern const struct nest__vmx_run nest__vmx_host_runs[NEST__VMX_RUNS];

/* Copy the fields of `runs` (one of the two above) from src to dst. */
void nest__vmx_copy_runs(struct nest__vmcs12 *dst, const struct nest__vmcs12 *src,
			 const struct nest__vmx_run *runs);

/* Highest index among all fields (IA32_VMX_VMCS_ENUM bits 9:1, SDM A.9). */
unsigned nest__vmcs_max_index(void);

#endif /* NEST_VMX_VMCS12_H */
