/* SPDX-License-Identifier: MIT */
/*
 * The VMX stub's view of its local APIC at a nested VM entry
 * (examples/baremetal/stub/apic_prio.h): an interrupt the APIC would
 * deliver now makes L2's entry exit at once (vmcs02 exits on external
 * interrupts), one masked by the processor priority does not.
 */
#include <string.h>

#include "check_main.h"
#include "../../examples/baremetal/stub/apic_prio.h"

static void irr_set(uint32_t irr[APIC_IRR_WORDS], int vector)
{
	irr[vector / 32] |= 1u << (vector % 32);
}

START_TEST(highest_requested_vector_wins)
{
	uint32_t irr[APIC_IRR_WORDS];

	memset(irr, 0, sizeof(irr));
	ck_assert_int_eq(apic_highest_vector(irr), -1);
	irr_set(irr, 0x31);
	ck_assert_int_eq(apic_highest_vector(irr), 0x31);
	irr_set(irr, 0xf1);
	irr_set(irr, 0x40);
	ck_assert_int_eq(apic_highest_vector(irr), 0xf1);
	irr_set(irr, 0xff);
	ck_assert_int_eq(apic_highest_vector(irr), 0xff);
}
END_TEST

/* SDM Vol. 3A 11.8.3.1: delivered only when the vector's class (7:4) is
 * above the processor-priority class. */
START_TEST(delivery_needs_a_class_above_the_processor_priority)
{
	uint32_t irr[APIC_IRR_WORDS];

	memset(irr, 0, sizeof(irr));
	ck_assert_int_eq(apic_deliverable_vector(irr, 0), -1);
	irr_set(irr, 0xf1);
	ck_assert_int_eq(apic_deliverable_vector(irr, 0), 0xf1);
	ck_assert_int_eq(apic_deliverable_vector(irr, 0xe0), 0xf1);
	ck_assert_int_eq(apic_deliverable_vector(irr, 0xef), 0xf1);
	/* Same class in service or as the task priority: held. */
	ck_assert_int_eq(apic_deliverable_vector(irr, 0xf0), -1);
	ck_assert_int_eq(apic_deliverable_vector(irr, 0xff), -1);
	/* A lower vector never passes a higher one that is held. */
	irr_set(irr, 0x41);
	ck_assert_int_eq(apic_deliverable_vector(irr, 0xf0), -1);
	memset(irr, 0, sizeof(irr));
	irr_set(irr, 0x41);
	ck_assert_int_eq(apic_deliverable_vector(irr, 0x30), 0x41);
	ck_assert_int_eq(apic_deliverable_vector(irr, 0x40), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stub_apic");
	TCase *tc = tcase_create("apic");

	tcase_add_test(tc, highest_requested_vector_wins);
	tcase_add_test(tc, delivery_needs_a_class_above_the_processor_priority);
	suite_add_tcase(s, tc);
	return nest_test_run(s);
}
