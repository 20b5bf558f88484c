/* SPDX-License-Identifier: MIT */
/* The VMCS field table: lookups, encodings, and the vmcs12 image. */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include <nest/nest.h>

#include "internal.h"
#include "vmx/vmcs12.h"

START_TEST(lookup_by_encoding_finds_sdm_fields)
{
	const struct nest_vmcs_field *f;

	f = nest_vmcs_field_by_encoding(0x6800);
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(f->name, "GUEST_CR0");
	ck_assert_uint_eq(f->width, NEST_VMCS_WNAT);
	ck_assert_uint_eq(f->type, NEST_VMCS_T_GUEST);
	f = nest_vmcs_field_by_encoding(NEST_VMCS_VM_EXIT_REASON);
	ck_assert_str_eq(f->name, "VM_EXIT_REASON");
	ck_assert_uint_eq(f->type, NEST_VMCS_T_RO);
	ck_assert_uint_eq(f->width, NEST_VMCS_W32);
	f = nest_vmcs_field_by_encoding(0x0c0c);
	ck_assert_str_eq(f->name, "HOST_TR_SELECTOR");
	ck_assert_uint_eq(f->type, NEST_VMCS_T_HOST);
}
END_TEST

START_TEST(high_access_only_for_64bit_fields)
{
	/* SDM 25.11.2: access type 1 is allowed only for 64-bit fields. */
	ck_assert_ptr_eq(nest_vmcs_field_by_encoding(NEST_VMCS_EPT_POINTER + 1),
			 nest_vmcs_field_by_encoding(NEST_VMCS_EPT_POINTER));
	ck_assert_ptr_null(nest_vmcs_field_by_encoding(NEST_VMCS_GUEST_CR0 + 1));
	ck_assert_ptr_null(nest_vmcs_field_by_encoding(NEST_VMCS_GUEST_ES_SELECTOR + 1));
	ck_assert_ptr_null(nest_vmcs_field_by_encoding(NEST_VMCS_VM_EXIT_REASON + 1));
}
END_TEST

START_TEST(unknown_encodings_are_rejected)
{
	ck_assert_ptr_null(nest_vmcs_field_by_encoding(0x482c)); /* reserved slot */
	ck_assert_ptr_null(nest_vmcs_field_by_encoding(0x00010000 | NEST_VMCS_GUEST_CR0));
	ck_assert_ptr_null(nest_vmcs_field_by_encoding(0xffffffffu));
	ck_assert_ptr_null(nest_vmcs_field_by_encoding(0x6c7e));
	/* Bit 12 is reserved: it must not alias the field without it. */
	ck_assert_ptr_null(nest_vmcs_field_by_encoding(0x1000 | NEST_VMCS_GUEST_RIP));
	ck_assert_ptr_null(nest_vmcs_field_by_encoding(0x1000 | NEST_VMCS_VIRTUAL_PROCESSOR_ID));
}
END_TEST

START_TEST(lookup_by_name_ignores_case_and_prefix)
{
	ck_assert_uint_eq(nest_vmcs_field_by_name("GUEST_RIP")->encoding, 0x681e);
	ck_assert_uint_eq(nest_vmcs_field_by_name("guest_rip")->encoding, 0x681e);
	ck_assert_uint_eq(nest_vmcs_field_by_name("NEST_VMCS_GUEST_RIP")->encoding, 0x681e);
	ck_assert_ptr_null(nest_vmcs_field_by_name("GUEST_RIPX"));
	ck_assert_ptr_null(nest_vmcs_field_by_name(""));
	ck_assert_ptr_null(nest_vmcs_field_by_name(NULL));
}
END_TEST

START_TEST(table_is_consistent)
{
	size_t i, j, n = nest_vmcs_field_count();

	ck_assert_uint_ge(n, 180);
	ck_assert_ptr_null(nest_vmcs_field_at(n));
	for (i = 0; i < n; i++) {
		const struct nest_vmcs_field *f = nest_vmcs_field_at(i);
		unsigned sz = nest_vmcs_width_bytes(f->width);

		ck_assert_ptr_eq(nest_vmcs_field_by_encoding(f->encoding), f);
		ck_assert_ptr_eq(nest_vmcs_field_by_name(f->name), f);
		ck_assert_uint_eq(f->width, NEST_VMCS_ENC_WIDTH(f->encoding));
		ck_assert_uint_eq(f->type, NEST_VMCS_ENC_TYPE(f->encoding));
		ck_assert_uint_eq(f->offset % sz, 0);
		ck_assert_uint_le(f->offset + sz, sizeof(struct nest__vmcs12));
		/* Read-only data fields are never shadow-writable. */
		if (f->type == NEST_VMCS_T_RO)
			ck_assert_uint_eq(f->flags & NEST_VMCS_F_SHADOW_WRITE, 0);
		for (j = 0; j < i; j++) {
			const struct nest_vmcs_field *g = nest_vmcs_field_at(j);
			ck_assert_uint_ne(g->encoding, f->encoding);
			ck_assert(g->offset + nest_vmcs_width_bytes(g->width) <= f->offset ||
				  f->offset + sz <= g->offset);
		}
	}
}
END_TEST

START_TEST(image_write_truncates_to_width)
{
	struct nest__vmcs12 v;
	uint64_t x;

	memset(&v, 0, sizeof(v));
	ck_assert(nest__vmcs12_write(&v, NEST_VMCS_GUEST_CS_SELECTOR, 0x12345678));
	ck_assert(nest__vmcs12_read(&v, NEST_VMCS_GUEST_CS_SELECTOR, &x));
	ck_assert_uint_eq(x, 0x5678);
	ck_assert_uint_eq(v.GUEST_CS_SELECTOR, 0x5678);
	ck_assert(nest__vmcs12_write(&v, NEST_VMCS_GUEST_CS_LIMIT, 0x1ffffffffull));
	ck_assert_uint_eq(v.GUEST_CS_LIMIT, 0xffffffffu);
	ck_assert(nest__vmcs12_write(&v, NEST_VMCS_GUEST_RIP, 0xffffffff80001234ull));
	ck_assert_uint_eq(v.GUEST_RIP, 0xffffffff80001234ull);
	ck_assert(!nest__vmcs12_write(&v, 0x482c, 1));
	ck_assert(!nest__vmcs12_read(&v, 0x482c, &x));
}
END_TEST

START_TEST(image_high_access_touches_upper_half)
{
	struct nest__vmcs12 v;
	uint64_t x;

	memset(&v, 0, sizeof(v));
	ck_assert(nest__vmcs12_write(&v, NEST_VMCS_TSC_OFFSET, 0x1111111122222222ull));
	ck_assert(nest__vmcs12_write(&v, NEST_VMCS_TSC_OFFSET + 1, 0xaaaaaaaabbbbbbbbull));
	ck_assert_uint_eq(v.TSC_OFFSET, 0xbbbbbbbb22222222ull);
	ck_assert(nest__vmcs12_read(&v, NEST_VMCS_TSC_OFFSET + 1, &x));
	ck_assert_uint_eq(x, 0xbbbbbbbbull);
}
END_TEST

START_TEST(max_index_matches_table)
{
	/* The largest index is IA32_SPEC_CTRL_SHADOW's (0x26). */
	ck_assert_uint_eq(nest__vmcs_max_index(), NEST_VMCS_ENC_INDEX(NEST_VMCS_IA32_SPEC_CTRL_SHADOW));
}
END_TEST

int main(void)
{
	Suite *su = suite_create("vmcs_fields");
	TCase *tc = tcase_create("fields");

	tcase_add_test(tc, lookup_by_encoding_finds_sdm_fields);
	tcase_add_test(tc, high_access_only_for_64bit_fields);
	tcase_add_test(tc, unknown_encodings_are_rejected);
	tcase_add_test(tc, lookup_by_name_ignores_case_and_prefix);
	tcase_add_test(tc, table_is_consistent);
	tcase_add_test(tc, image_write_truncates_to_width);
	tcase_add_test(tc, image_high_access_touches_upper_half);
	tcase_add_test(tc, max_index_matches_table);
	suite_add_tcase(su, tc);
	return nest_test_run(su);
}
