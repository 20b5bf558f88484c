/* SPDX-License-Identifier: MIT */
/* Unit tests of the arch-neutral core: version, status strings, backend
 * validation and the size-checked backend calls. */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include <nest/nest.h>

#include "internal.h"
#include "sim.h"

START_TEST(version_matches_macros)
{
	char want[32];

	ck_assert_uint_eq(nest_version(), NEST_VERSION_HEX);
	snprintf(want, sizeof(want), "%d.%d.%d", NEST_VERSION_MAJOR, NEST_VERSION_MINOR,
		 NEST_VERSION_PATCH);
	ck_assert_str_eq(nest_version_string(), want);
}
END_TEST

START_TEST(strerror_names_every_status)
{
#define CHECK_ONE(name, value, text)                                                               \
	ck_assert_str_eq(nest_strerror(value), text);                                              \
	ck_assert_str_eq(nest_status_name(value), #name);
	NEST_STATUS_LIST(CHECK_ONE)
#undef CHECK_ONE
	ck_assert_str_eq(nest_strerror(-1), "unknown status");
	ck_assert_str_eq(nest_strerror(100000), "unknown status");
	ck_assert_str_eq(nest_status_name(-7), "NEST_E_UNKNOWN");
}
END_TEST

START_TEST(backend_validate_rejects_bad_tables)
{
	struct sim s;
	struct nest_backend be;
	struct nest_backend_ops ops;

	ck_assert_int_eq(sim_init(&s, 64 * 1024, 4), 0);
	ck_assert_int_eq(nest_backend_validate(NULL), NEST_E_INVAL);
	be.ops = NULL;
	be.ctx = NULL;
	ck_assert_int_eq(nest_backend_validate(&be), NEST_E_INVAL);
	ck_assert_int_eq(nest_backend_validate(sim_backend(&s)), NEST_OK);

	ops = s.ops;
	be.ops = &ops;
	be.ctx = &s;
	ops.size = 4;
	ck_assert_int_eq(nest_backend_validate(&be), NEST_E_SIZE);
	ops.size = (uint32_t)NEST_BACKEND_OPS_MIN_SIZE;
	ck_assert_int_eq(nest_backend_validate(&be), NEST_OK);
	ops.write_l1 = NULL;
	ck_assert_int_eq(nest_backend_validate(&be), NEST_E_MISSING_OP);
	sim_fini(&s);
}
END_TEST

START_TEST(ops_beyond_callers_size_are_absent)
{
	struct sim s;
	struct nest_backend be;
	struct nest_backend_ops ops;
	uint64_t hpa;
	void *hva;

	ck_assert_int_eq(sim_init(&s, 64 * 1024, 4), 0);
	ops = s.ops;
	/* A caller compiled against an older header that ended at write_l1. */
	ops.size = (uint32_t)NEST_BACKEND_OPS_MIN_SIZE;
	be.ops = &ops;
	be.ctx = &s;
	ck_assert_int_eq(nest__be_page_alloc(&be, &hpa, &hva), NEST_E_MISSING_OP);
	ck_assert_uint_eq(s.calls.page_alloc, 0);
	ops.size = sizeof(ops);
	ck_assert_int_eq(nest__be_page_alloc(&be, &hpa, &hva), NEST_OK);
	ck_assert_uint_eq(s.calls.page_alloc, 1);
	sim_fini(&s);
}
END_TEST

START_TEST(backend_read_rejects_wraparound)
{
	struct sim s;
	uint8_t buf[16];

	ck_assert_int_eq(sim_init(&s, 64 * 1024, 4), 0);
	ck_assert_int_eq(nest__be_read(sim_backend(&s), UINT64_MAX - 3, buf, 16), NEST_E_FAULT);
	ck_assert_uint_eq(s.calls.read_l1, 0);
	ck_assert_int_eq(nest__be_read(sim_backend(&s), 64 * 1024 - 8, buf, 16), NEST_E_FAULT);
	ck_assert_int_eq(nest__be_read(sim_backend(&s), 64 * 1024 - 16, buf, 16), NEST_OK);
	sim_fini(&s);
}
END_TEST

START_TEST(cmpxchg_falls_back_to_read_write)
{
	struct sim s;
	struct nest_backend be;
	struct nest_backend_ops ops;
	uint64_t actual = 0;

	ck_assert_int_eq(sim_init(&s, 64 * 1024, 4), 0);
	ops = s.ops;
	ops.cmpxchg_l1 = NULL;
	be.ops = &ops;
	be.ctx = &s;
	sim_write64(&s, 0x100, 5);
	ck_assert_int_eq(nest__be_cmpxchg(&be, 0x100, 4, 9, &actual), NEST_OK);
	ck_assert_uint_eq(actual, 5);
	ck_assert_uint_eq(sim_read64(&s, 0x100), 5);
	ck_assert_int_eq(nest__be_cmpxchg(&be, 0x100, 5, 9, &actual), NEST_OK);
	ck_assert_uint_eq(sim_read64(&s, 0x100), 9);
	ck_assert_int_eq(nest__be_cmpxchg(&be, 0x101, 5, 9, &actual), NEST_E_INVAL);
	sim_fini(&s);
}
END_TEST

static Suite *core_suite(void)
{
	Suite *su = suite_create("core");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, version_matches_macros);
	tcase_add_test(tc, strerror_names_every_status);
	tcase_add_test(tc, backend_validate_rejects_bad_tables);
	tcase_add_test(tc, ops_beyond_callers_size_are_absent);
	tcase_add_test(tc, backend_read_rejects_wraparound);
	tcase_add_test(tc, cmpxchg_falls_back_to_read_write);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return nest_test_run(core_suite());
}
