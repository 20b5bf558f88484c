/* SPDX-License-Identifier: MIT */
/*
 * Size-versioned output structs: the caller's struct starts with the
 * uint32_t size it was compiled with, which may be smaller (an older
 * caller) or larger (a newer one) than the struct this build knows. Every
 * public entry point that fills such a struct goes through these helpers,
 * so none writes past what the caller declared.
 */
#include "internal.h"

static uint32_t caller_size(const void *dst)
{
	uint32_t size;

	nest__memcpy(&size, dst, sizeof(size));
	return size;
}

int nest__copy_in(void *dst, size_t dst_size, const void *src, size_t min)
{
	uint32_t size = caller_size(src);

	if (size < min)
		return NEST_E_SIZE;
	nest__memset(dst, 0, dst_size);
	nest__memcpy(dst, src, size < dst_size ? size : dst_size);
	return NEST_OK;
}

int nest__copy_out(void *dst, const void *src, size_t src_size, size_t min)
{
	uint32_t size = caller_size(dst);

	if (size < min)
		return NEST_E_SIZE;
	nest__memcpy(dst, src, size < src_size ? size : src_size);
	nest__memcpy(dst, &size, sizeof(size));
	return NEST_OK;
}

void nest__reset_out(void *dst, size_t full_size)
{
	uint32_t size = caller_size(dst);

	nest__memset(dst, 0, size < full_size ? size : full_size);
	nest__memcpy(dst, &size, sizeof(size));
}
