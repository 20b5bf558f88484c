/* SPDX-License-Identifier: MIT */
/*
 * The harnesses' invariant check: say what failed, then abort (libFuzzer
 * keeps the input that did it). A harness defines FUZZ_NAME first.
 */
#ifndef FUZZ_INVARIANT_H
#define FUZZ_INVARIANT_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s: invariant violated: %s (line %d)\n", FUZZ_NAME,       \
				#cond, __LINE__);                                                  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif /* FUZZ_INVARIANT_H */
