/* SPDX-License-Identifier: MIT */
/* CPUID bits that mirror the asking guest's state (include/nest/cpu.h). */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>

#include <nest/cpu.h>

#define CR4_OSXSAVE (1ull << 18)
#define CR4_PKE (1ull << 22)
#define APIC_EN (1ull << 11)
#define APIC_BASE_ON (0xfee00000ull | APIC_EN)
#define ALL_ONES 0xffffffffu

static void ask(uint32_t leaf, uint32_t sub, uint32_t r[4], uint64_t cr4, uint64_t apic_base)
{
	r[0] = r[1] = r[2] = r[3] = ALL_ONES;
	ck_assert_int_eq(nest_x86_cpuid_guest_state(leaf, sub, r, cr4, apic_base), NEST_OK);
}

START_TEST(osxsave_follows_cr4)
{
	uint32_t r[4];

	ask(1, 0, r, 0, APIC_BASE_ON);
	ck_assert_uint_eq(r[2], ALL_ONES & ~(1u << 27));
	ck_assert_uint_eq(r[3], ALL_ONES);
	r[2] = 0;
	ck_assert_int_eq(nest_x86_cpuid_guest_state(1, 0, r, CR4_OSXSAVE, APIC_BASE_ON), NEST_OK);
	ck_assert_uint_eq(r[2], 1u << 27);
}
END_TEST

START_TEST(ospke_follows_cr4_in_subleaf_0_only)
{
	uint32_t r[4];

	ask(7, 0, r, 0, APIC_BASE_ON);
	ck_assert_uint_eq(r[2], ALL_ONES & ~(1u << 4));
	r[2] = 0;
	ck_assert_int_eq(nest_x86_cpuid_guest_state(7, 0, r, CR4_PKE, APIC_BASE_ON), NEST_OK);
	ck_assert_uint_eq(r[2], 1u << 4);
	ask(7, 1, r, 0, APIC_BASE_ON);
	ck_assert_uint_eq(r[2], ALL_ONES);
}
END_TEST

START_TEST(apic_flag_clears_with_apic_base_en)
{
	uint32_t r[4];

	ask(1, 0, r, CR4_OSXSAVE, 0xfee00000ull);
	ck_assert_uint_eq(r[3], ALL_ONES & ~(1u << 9));
	ask(0x80000001u, 0, r, 0, 0xfee00000ull);
	ck_assert_uint_eq(r[3], ALL_ONES & ~(1u << 9));
	/* Enabled: the processor's own flag stands, present or not. */
	ask(0x80000001u, 0, r, 0, APIC_BASE_ON);
	ck_assert_uint_eq(r[3], ALL_ONES);
	r[3] = 0;
	ck_assert_int_eq(nest_x86_cpuid_guest_state(1, 0, r, 0, APIC_BASE_ON), NEST_OK);
	ck_assert_uint_eq(r[3], 0);
}
END_TEST

START_TEST(other_leaves_untouched)
{
	uint32_t r[4];

	ask(0, 0, r, 0, 0);
	ck_assert_uint_eq(r[0] & r[1] & r[2] & r[3], ALL_ONES);
	ask(0xd, 0, r, 0, 0);
	ck_assert_uint_eq(r[0] & r[1] & r[2] & r[3], ALL_ONES);
	ck_assert_int_eq(nest_x86_cpuid_guest_state(1, 0, NULL, 0, 0), NEST_E_INVAL);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("cpuid");
	TCase *tc = tcase_create("cpuid");

	tcase_add_test(tc, osxsave_follows_cr4);
	tcase_add_test(tc, ospke_follows_cr4_in_subleaf_0_only);
	tcase_add_test(tc, apic_flag_clears_with_apic_base_en);
	tcase_add_test(tc, other_leaves_untouched);
	suite_add_tcase(su, tc);
	return nest_test_run(su);
}
