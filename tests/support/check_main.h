/* SPDX-License-Identifier: MIT */
/*
 * The one Check runner of the test programs: run every test case of a
 * suite and turn the failures into the exit status automake's harness
 * reads (0 pass, 1 fail).
 */
#ifndef NEST_TEST_CHECK_MAIN_H
#define NEST_TEST_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

static inline int nest_test_run(Suite *su)
{
	SRunner *sr = srunner_create(su);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif /* NEST_TEST_CHECK_MAIN_H */
