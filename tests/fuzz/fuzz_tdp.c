/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness of the shadow EPT02/NPT02. The input builds random L1
 * tables (EPT, EPT with A/D, or long-mode NPT: first byte) and random L0
 * maps, then drives faults, INVEPT after L1 table changes, L0 map changes
 * and range invalidations; after every fault the oracle of
 * tests/support/tdp_oracle.h asserts "paging is a subset" over every
 * shadow leaf, and that the fault's outcome matches a reference walk.
 * Each input runs twice: with one vCPU, and with two vCPUs taking turns on
 * one shared shadow (nest_tdp_vcpu_init()), where the oracle also checks
 * that neither vCPU's pinned root is reclaimed by the other.
 * Built with ASan/UBSan: any undefined behaviour aborts too.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tdp_oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct or_state st;

	if (size > 4096)
		size = 4096; /* bounds the work per input */
	if (!or_run(&st, data, size)) {
		fprintf(stderr, "fuzz_tdp: invariant violated: %s\n", st.why);
		abort();
	}
	if (!or_run_vcpus(&st, data, size, 2)) {
		fprintf(stderr, "fuzz_tdp: invariant violated with two vCPUs: %s\n", st.why);
		abort();
	}
	return 0;
}
