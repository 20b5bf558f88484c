/* SPDX-License-Identifier: MIT */
/*
 * The VMX stub's CR4 bits that follow the CPUID its guests see
 * (examples/baremetal/stub/cr4_cpuid.h): a feature CPUID does not report
 * has its CR4 bit reserved, one it reports does not.
 */
#include "check_main.h"

#include "../../examples/baremetal/stub/cr4_cpuid.h"

#define ALL                                                                                        \
	(CR4C_UMIP | CR4C_LA57 | CR4C_FSGSBASE | CR4C_PCIDE | CR4C_OSXSAVE | CR4C_SMEP |           \
	 CR4C_SMAP | CR4C_PKE | CR4C_CET)
#define ECX1_PCID (1u << 17)
#define ECX1_XSAVE (1u << 26)
#define EBX7_FSGSBASE (1u << 0)
#define EBX7_SMEP (1u << 7)
#define EBX7_SMAP (1u << 20)
#define ECX7_UMIP (1u << 2)
#define ECX7_PKU (1u << 3)
#define ECX7_CET_SS (1u << 7)
#define ECX7_LA57 (1u << 16)

START_TEST(nothing_reported_leaves_every_bit_reserved)
{
	ck_assert_uint_eq(cr4_unreported(0xd, 0, 0, 0), ALL);
}
END_TEST

START_TEST(each_reported_feature_frees_its_bit)
{
	ck_assert_uint_eq(cr4_unreported(0xd, ECX1_PCID | ECX1_XSAVE, 0, 0),
			  ALL & ~(CR4C_PCIDE | CR4C_OSXSAVE));
	ck_assert_uint_eq(cr4_unreported(0xd, 0, EBX7_SMEP, 0), ALL & ~CR4C_SMEP);
	ck_assert_uint_eq(cr4_unreported(0xd, 0, EBX7_SMAP | EBX7_FSGSBASE, 0),
			  ALL & ~(CR4C_SMAP | CR4C_FSGSBASE));
	ck_assert_uint_eq(cr4_unreported(0xd, 0, 0, ECX7_UMIP | ECX7_PKU | ECX7_CET_SS | ECX7_LA57),
			  ALL & ~(CR4C_UMIP | CR4C_PKE | CR4C_CET | CR4C_LA57));
	ck_assert_uint_eq(cr4_unreported(0xd, ECX1_PCID | ECX1_XSAVE,
					 EBX7_SMEP | EBX7_SMAP | EBX7_FSGSBASE,
					 ECX7_UMIP | ECX7_PKU | ECX7_CET_SS | ECX7_LA57),
			  0);
}
END_TEST

/* Below leaf 7, its registers say nothing (CPUID returns the highest
 * basic leaf's values there). */
START_TEST(leaf_7_counts_only_when_it_exists)
{
	ck_assert_uint_eq(cr4_unreported(6, ECX1_PCID | ECX1_XSAVE, EBX7_SMEP, ECX7_UMIP),
			  ALL & ~(CR4C_PCIDE | CR4C_OSXSAVE));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stub_cr4");
	TCase *tc = tcase_create("cr4");

	tcase_add_test(tc, nothing_reported_leaves_every_bit_reserved);
	tcase_add_test(tc, each_reported_feature_frees_its_bit);
	tcase_add_test(tc, leaf_7_counts_only_when_it_exists);
	suite_add_tcase(s, tc);
	return nest_test_run(s);
}
