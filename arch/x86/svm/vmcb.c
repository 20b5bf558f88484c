/* SPDX-License-Identifier: MIT */
/*
 * The VMCB as data: the field table generated from vmcb-fields.def, its
 * layout asserts against struct nest_vmcb, lookups and the exit-code names.
 */
#include <stddef.h>

#include "svm/context.h"

/* Layout asserts (APM appendix B): the struct, then every table entry. */
NEST_STATIC_ASSERT(sizeof(struct nest_vmcb_seg) == 16, "VMCB segment is 16 bytes");
NEST_STATIC_ASSERT(sizeof(struct nest_vmcb_control) == 0x400, "VMCB control area is 1 KiB");
NEST_STATIC_ASSERT(sizeof(struct nest_vmcb) == NEST_VMCB_SIZE, "VMCB is 4 KiB");
NEST_STATIC_ASSERT(offsetof(struct nest_vmcb, save) == 0x400, "save area at 0x400");

#define NEST_VMCB_FIELD(name, member, off, width, clean)                                           \
	NEST_STATIC_ASSERT(offsetof(struct nest_vmcb, member) == (off), "offset of " #name);       \
	NEST_STATIC_ASSERT(sizeof(((struct nest_vmcb *)0)->member) == (width), "width of " #name);
#include <nest/vmcb-fields.def>
#undef NEST_VMCB_FIELD

static const struct nest_vmcb_field vmcb_fields[] = {
#define NEST_VMCB_FIELD(name, member, off, width, clean)                                           \
	{#name, (uint16_t)(off), (uint8_t)(width), (uint8_t)NEST_VMCB_CLEAN_##clean},
#include <nest/vmcb-fields.def>
#undef NEST_VMCB_FIELD
};

NEST_API size_t nest_vmcb_field_count(void)
{
	return NEST_ARRAY_SIZE(vmcb_fields);
}

NEST_API const struct nest_vmcb_field *nest_vmcb_field_at(size_t index)
{
	return index < NEST_ARRAY_SIZE(vmcb_fields) ? &vmcb_fields[index] : NULL;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool name_eq(const char *a, const char *b)
{
	size_t i;

	/* Bounded: table names are short; a caller string longer than 64 never matches. */
	for (i = 0; i < 64; i++) {
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
		if (a[i] == '\0')
			return true;
	}
	return false;
}

NEST_API const struct nest_vmcb_field *nest_vmcb_field_by_name(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < NEST_ARRAY_SIZE(vmcb_fields); i++)
		if (name_eq(name, vmcb_fields[i].name))
			return &vmcb_fields[i];
	return NULL;
}

NEST_API const struct nest_vmcb_field *nest_vmcb_field_by_offset(uint32_t offset)
{
	size_t i;

	for (i = 0; i < NEST_ARRAY_SIZE(vmcb_fields); i++)
		if (vmcb_fields[i].offset == offset)
			return &vmcb_fields[i];
	return NULL;
}

NEST_API uint64_t nest_vmcb_read(const struct nest_vmcb *vmcb, const struct nest_vmcb_field *field)
{
	uint64_t v = 0;

	if (!vmcb || !field || field->width > 8 || field->offset + field->width > NEST_VMCB_SIZE)
		return 0;
	/* Little endian, as the VMCB. */
	nest__memcpy(&v, (const uint8_t *)vmcb + field->offset, field->width);
	return v;
}

NEST_API void nest_vmcb_write(struct nest_vmcb *vmcb, const struct nest_vmcb_field *field,
			      uint64_t value)
{
	if (!vmcb || !field || field->width > 8 || field->offset + field->width > NEST_VMCB_SIZE)
		return;
	nest__memcpy((uint8_t *)vmcb + field->offset, &value, field->width);
}

struct exit_name {
	uint32_t code;
	const char *name;
};

static const struct exit_name exit_names[] = {
#define NEST_SVM_EXIT_NAME_(name, code) {code, #name},
    NEST_SVM_EXIT_LIST(NEST_SVM_EXIT_NAME_)
#undef NEST_SVM_EXIT_NAME_
};

NEST_API const char *nest_svm_exit_name(uint64_t code)
{
	size_t i;

	if (code == NEST_SVM_EXIT_INVALID)
		return "INVALID";
	for (i = 0; i < NEST_ARRAY_SIZE(exit_names); i++)
		if (exit_names[i].code == code)
			return exit_names[i].name;
	if (code < 0x10)
		return "CR_READ";
	if (code < 0x20)
		return "CR_WRITE";
	if (code < 0x30)
		return "DR_READ";
	if (code < 0x40)
		return "DR_WRITE";
	if (code < 0x60)
		return "EXCP";
	if (code >= 0x90 && code < 0xa0)
		return "CR_WRITE_TRAP";
	return "UNKNOWN";
}
