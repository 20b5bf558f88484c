/* SPDX-License-Identifier: MIT */
/* Built against the installed headers and library through pkg-config. */
#include <stdio.h>
#include <string.h>

#include <nest/nest.h>

int main(void)
{
	if (nest_version() != NEST_VERSION_HEX) {
		fprintf(stderr, "consumer: header/library version mismatch\n");
		return 1;
	}
	if (strcmp(nest_strerror(NEST_E_INVAL), "invalid argument") != 0)
		return 1;
	printf("consumer: linked libnest %s from the installed tree\n", nest_version_string());
	return 0;
}
