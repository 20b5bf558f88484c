/* SPDX-License-Identifier: MIT */
/* Property test of the shadow: over random L1 tables and L0 maps (EPT with
 * and without A/D, long-mode NPT), every fault's outcome agrees with a
 * reference walk and every shadow leaf is a subset of the composition of
 * L1's table and L0's map (tdp_oracle.h). Deterministic seeds. */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "tdp_oracle.h"

#define RUNS 160
#define BYTES 2048

static uint64_t rng_state;

static uint8_t rng8(void)
{
	/* xorshift64*: deterministic, seeded per run. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint8_t)((rng_state * 0x2545f4914f6cdd1dull) >> 56);
}

static void run_seeds_vcpus(unsigned mode_bits, unsigned mode_mask, unsigned nvcpu)
{
	static uint8_t buf[BYTES];
	static struct or_state st;
	unsigned run, i;
	unsigned long faults = 0, checks = 0, requests = 0;

	for (run = 0; run < RUNS; run++) {
		rng_state = 0x9e3779b97f4a7c15ull ^ ((uint64_t)run << 32) ^ mode_bits;
		for (i = 0; i < BYTES; i++)
			buf[i] = rng8();
		buf[0] = (uint8_t)((buf[0] & ~mode_mask) | mode_bits);
		if (!or_run_vcpus(&st, buf, sizeof(buf), nvcpu))
			ck_abort_msg("run %u: %s", run, st.why);
		faults += st.faults;
		checks += st.checks;
		requests += st.t.vcpu_requests;
	}
	ck_assert_uint_gt(faults, RUNS * 100);
	ck_assert_uint_gt(checks, faults);
	if (nvcpu > 1)
		ck_assert_uint_gt(requests, 0); /* flushes went through flush_vcpus */
}

static void run_seeds(unsigned mode_bits, unsigned mode_mask)
{
	run_seeds_vcpus(mode_bits, mode_mask, 1);
}

START_TEST(ept_shadow_is_subset_of_composition)
{
	run_seeds(0, 3);
}
END_TEST

START_TEST(ept_ad_shadow_is_subset_and_dirty_tracked)
{
	run_seeds(2, 3);
}
END_TEST

START_TEST(npt_shadow_is_subset_of_composition)
{
	run_seeds(1, 1);
}
END_TEST

/* Two vCPUs on one shadow, taking turns: the same oracle, and neither
 * vCPU's pinned root is reclaimed by the other (tdp_oracle.h). */
START_TEST(two_vcpus_share_one_shadow)
{
	run_seeds_vcpus(0, 3, 2);
	run_seeds_vcpus(2, 3, 2);
	run_seeds_vcpus(1, 1, 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tdp-property");
	TCase *tc = tcase_create("subset");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, ept_shadow_is_subset_of_composition);
	tcase_add_test(tc, ept_ad_shadow_is_subset_and_dirty_tracked);
	tcase_add_test(tc, npt_shadow_is_subset_of_composition);
	tcase_add_test(tc, two_vcpus_share_one_shadow);
	suite_add_tcase(s, tc);
	return nest_test_run(s);
}
