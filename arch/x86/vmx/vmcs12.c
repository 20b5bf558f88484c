/* SPDX-License-Identifier: MIT */
/* The VMCS field table, its lookups, and access to the vmcs12 image. */
#include "internal.h"
#include "vmx/vmcs12.h"

#include <nest/vmcs.h>

#define NEST__WIDTH_W16 NEST_VMCS_W16
#define NEST__WIDTH_W32 NEST_VMCS_W32
#define NEST__WIDTH_W64 NEST_VMCS_W64
#define NEST__WIDTH_WNAT NEST_VMCS_WNAT
#define NEST__SHADOW_NONE 0u
#define NEST__SHADOW_RO NEST_VMCS_F_SHADOW_READ
#define NEST__SHADOW_RW (NEST_VMCS_F_SHADOW_READ | NEST_VMCS_F_SHADOW_WRITE)

/* The width column must agree with the encoding, and the full-access bit
 * must be clear, for every entry. */
#define NEST_VMCS_FIELD(name, enc, width, shadow)                                                  \
	_Static_assert(NEST_VMCS_ENC_WIDTH(enc) == NEST__WIDTH_##width,                            \
		       "width of " #name " disagrees with its encoding");                          \
	_Static_assert(((enc) & 0xffff8001u) == 0, "encoding of " #name " is malformed");          \
	_Static_assert(NEST_VMCS_ENC_INDEX(enc) < 64, "index of " #name " exceeds the lookup");
#include <nest/vmcs-fields.def>
#undef NEST_VMCS_FIELD

const struct nest_vmcs_field nest__vmcs_fields[NEST__VF_COUNT] = {
#define NEST_VMCS_FIELD(name, enc, width, shadow)                                                  \
	[NEST__VF_##name] = {#name,                                                                \
			     enc,                                                                  \
			     offsetof(struct nest__vmcs12, name),                                  \
			     NEST__WIDTH_##width,                                                  \
			     NEST_VMCS_ENC_TYPE(enc),                                              \
			     NEST__SHADOW_##shadow,                                                \
			     0},
#include <nest/vmcs-fields.def>
#undef NEST_VMCS_FIELD
};

/* Direct lookup: [width][type][index] holds table position + 1 (0 = no
 * such field). Indices are below 64 for every field the SDM defines. */
static const uint8_t vmcs_lookup[4][4][64] = {
#define NEST_VMCS_FIELD(name, enc, width, shadow)                                                  \
	[NEST_VMCS_ENC_WIDTH(enc)][NEST_VMCS_ENC_TYPE(enc)][NEST_VMCS_ENC_INDEX(enc)] =            \
		NEST__VF_##name + 1,
#include <nest/vmcs-fields.def>
#undef NEST_VMCS_FIELD
};
_Static_assert(NEST__VF_COUNT < 255, "lookup entries are bytes");

#define RUN(first, last)                                                                           \
	{                                                                                          \
		offsetof(struct nest__vmcs12, first),                                              \
		    offsetof(struct nest__vmcs12, last) + sizeof(((struct nest__vmcs12 *)0)->last) \
	}
#define IN_RUN(name, first, last)                                                                  \
	(NEST__VF_##name >= NEST__VF_##first && NEST__VF_##name <= NEST__VF_##last)

/* The runs of guest-state (encoding bits 11:10 = 2, SDM 25.11.2) and of
 * host-state (3) fields. */
#define IN_GUEST_RUNS(name)                                                                        \
	(IN_RUN(name, GUEST_ES_SELECTOR, GUEST_UINV) ||                                            \
	 IN_RUN(name, VMCS_LINK_POINTER, GUEST_IA32_PKRS) ||                                       \
	 IN_RUN(name, GUEST_ES_LIMIT, VMX_PREEMPTION_TIMER_VALUE) ||                               \
	 IN_RUN(name, GUEST_CR0, GUEST_INTR_SSP_TABLE_ADDR))
#define IN_HOST_RUNS(name)                                                                         \
	(IN_RUN(name, HOST_ES_SELECTOR, HOST_TR_SELECTOR) ||                                       \
	 IN_RUN(name, HOST_IA32_PAT, HOST_IA32_PKRS) ||                                            \
	 IN_RUN(name, HOST_IA32_SYSENTER_CS, HOST_IA32_SYSENTER_CS) ||                             \
	 IN_RUN(name, HOST_CR0, HOST_INTR_SSP_TABLE_ADDR))
/* Fields of a type outside its runs, or inside runs of another type. */
enum {
#define NEST_VMCS_FIELD(name, enc, width, shadow)                                                  \
	+(((((enc) >> 10) & 3) == 2) != IN_GUEST_RUNS(name)) +                                     \
	    (((((enc) >> 10) & 3) == 3) != IN_HOST_RUNS(name))
	MISPLACED = 0
#include <nest/vmcs-fields.def>
#undef NEST_VMCS_FIELD
};
_Static_assert(MISPLACED == 0, "the guest-state (host-state) runs hold every guest-state "
			       "(host-state) field and no other");

const struct nest__vmx_run nest__vmx_guest_runs[NEST__VMX_RUNS] = {
    RUN(GUEST_ES_SELECTOR, GUEST_UINV),
    RUN(VMCS_LINK_POINTER, GUEST_IA32_PKRS),
    RUN(GUEST_ES_LIMIT, VMX_PREEMPTION_TIMER_VALUE),
    RUN(GUEST_CR0, GUEST_INTR_SSP_TABLE_ADDR),
};

const struct nest__vmx_run nest__vmx_host_runs[NEST__VMX_RUNS] = {
    RUN(HOST_ES_SELECTOR, HOST_TR_SELECTOR),
    RUN(HOST_IA32_PAT, HOST_IA32_PKRS),
    RUN(HOST_IA32_SYSENTER_CS, HOST_IA32_SYSENTER_CS),
    RUN(HOST_CR0, HOST_INTR_SSP_TABLE_ADDR),
};

void nest__vmx_copy_runs(struct nest__vmcs12 *dst, const struct nest__vmcs12 *src,
			 const struct nest__vmx_run *runs)
{
	unsigned k;

	for (k = 0; k < NEST__VMX_RUNS; k++)
		nest__memcpy((uint8_t *)dst + runs[k].lo, (const uint8_t *)src + runs[k].lo,
			     (size_t)(runs[k].hi - runs[k].lo));
}

const struct nest_vmcs_field *nest__vmcs_field(uint32_t enc)
{
	unsigned idx, pos;

	/* Bits 31:15 and bit 12 are reserved: no field has them (SDM
	 * 25.11.2); bit 12 set must not alias the field without it. */
	if (enc & 0xffff9000u)
		return NULL;
	idx = NEST_VMCS_ENC_INDEX(enc);
	if (idx >= 64)
		return NULL;
	pos = vmcs_lookup[NEST_VMCS_ENC_WIDTH(enc)][NEST_VMCS_ENC_TYPE(enc)][idx];
	if (pos == 0)
		return NULL;
	/* The high access type exists only for 64-bit fields (SDM 25.11.2). */
	if (NEST_VMCS_ENC_HIGH(enc) && NEST_VMCS_ENC_WIDTH(enc) != NEST_VMCS_W64)
		return NULL;
	return &nest__vmcs_fields[pos - 1];
}

unsigned nest__vmcs_max_index(void)
{
	unsigned i, max = 0;

	for (i = 0; i < NEST__VF_COUNT; i++)
		if (NEST_VMCS_ENC_INDEX(nest__vmcs_fields[i].encoding) > max)
			max = NEST_VMCS_ENC_INDEX(nest__vmcs_fields[i].encoding);
	return max;
}

bool nest__vmcs12_read(const struct nest__vmcs12 *v, uint32_t enc, uint64_t *value)
{
	const struct nest_vmcs_field *f = nest__vmcs_field(enc);
	const uint8_t *p;

	if (f == NULL)
		return false;
	p = (const uint8_t *)v + f->offset;
	switch (f->width) {
	case NEST_VMCS_W16: {
		uint16_t x;
		nest__memcpy(&x, p, sizeof(x));
		*value = x;
		break;
	}
	case NEST_VMCS_W32: {
		uint32_t x;
		nest__memcpy(&x, p, sizeof(x));
		*value = x;
		break;
	}
	default: {
		uint64_t x;
		nest__memcpy(&x, p, sizeof(x));
		*value = NEST_VMCS_ENC_HIGH(enc) ? x >> 32 : x;
		break;
	}
	}
	return true;
}

bool nest__vmcs12_write(struct nest__vmcs12 *v, uint32_t enc, uint64_t value)
{
	const struct nest_vmcs_field *f = nest__vmcs_field(enc);
	uint8_t *p;

	if (f == NULL)
		return false;
	p = (uint8_t *)v + f->offset;
	switch (f->width) {
	case NEST_VMCS_W16: {
		uint16_t x = (uint16_t)value;
		nest__memcpy(p, &x, sizeof(x));
		break;
	}
	case NEST_VMCS_W32: {
		uint32_t x = (uint32_t)value;
		nest__memcpy(p, &x, sizeof(x));
		break;
	}
	default: {
		uint64_t x;
		if (NEST_VMCS_ENC_HIGH(enc)) {
			nest__memcpy(&x, p, sizeof(x));
			x = (x & 0xffffffffull) | (value << 32);
		} else {
			x = value;
		}
		nest__memcpy(p, &x, sizeof(x));
		break;
	}
	}
	return true;
}

/* Public queries. */

NEST_API const struct nest_vmcs_field *nest_vmcs_field_by_encoding(uint32_t encoding)
{
	return nest__vmcs_field(encoding);
}

static char ascii_upper(char c)
{
	return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

static bool name_eq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (ascii_upper(*a) != ascii_upper(*b))
			return false;
	return *a == *b;
}

NEST_API const struct nest_vmcs_field *nest_vmcs_field_by_name(const char *name)
{
	static const char prefix[] = "NEST_VMCS_";
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < sizeof(prefix) - 1; i++)
		if (ascii_upper(name[i]) != prefix[i])
			break;
	if (i == sizeof(prefix) - 1)
		name += i;
	for (i = 0; i < NEST__VF_COUNT; i++)
		if (name_eq(name, nest__vmcs_fields[i].name))
			return &nest__vmcs_fields[i];
	return NULL;
}

NEST_API size_t nest_vmcs_field_count(void)
{
	return NEST__VF_COUNT;
}

NEST_API const struct nest_vmcs_field *nest_vmcs_field_at(size_t index)
{
	return index < NEST__VF_COUNT ? &nest__vmcs_fields[index] : NULL;
}

NEST_API unsigned nest_vmcs_width_bytes(unsigned width)
{
	static const uint8_t bytes[4] = {2, 8, 4, 8};

	return width < 4 ? bytes[width] : 0;
}
