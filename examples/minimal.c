/* SPDX-License-Identifier: MIT */
/*
 * The smallest integration of libnest: an L0 describes L1's memory to the
 * library through a backend and checks that libnest accepts it. Real L0s
 * fill more operations (see docs/porting.md).
 */
#include <stdio.h>
#include <string.h>

#include <nest/nest.h>

static unsigned char l1_ram[1 << 20]; /* L1-physical 0 .. 1 MiB */

static int read_l1(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa > sizeof(l1_ram) || len > sizeof(l1_ram) - gpa)
		return NEST_E_FAULT;
	memcpy(buf, l1_ram + gpa, len);
	return NEST_OK;
}

static int write_l1(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	if (gpa > sizeof(l1_ram) || len > sizeof(l1_ram) - gpa)
		return NEST_E_FAULT;
	memcpy(l1_ram + gpa, buf, len);
	return NEST_OK;
}

int main(void)
{
	static const struct nest_backend_ops ops = {
		.size = sizeof(struct nest_backend_ops),
		.read_l1 = read_l1,
		.write_l1 = write_l1,
	};
	struct nest_backend be = {.ops = &ops, .ctx = NULL};
	int rc;

	printf("libnest %s\n", nest_version_string());
	rc = nest_backend_validate(&be);
	printf("backend: %s (%s)\n", nest_status_name(rc), nest_strerror(rc));
	return rc == NEST_OK ? 0 : 1;
}
