/* SPDX-License-Identifier: MIT */
/*
 * The smallest L1: prints its multiboot view over serial, touches the top of
 * the RAM it was given, and exits through the debug port. Used to check the
 * boot layer alone and, under the stub, that L1 sees the machine it is told.
 */
#include "../common/bm.h"

int kmain(uint32_t magic, const struct mb_info *mbi)
{
	printf("hello: booted, magic %#x\n", magic);
	bm_mb_dump(mbi);
	bm_mem_init_from_mb(mbi, 0);
	void *p = bm_page_alloc();
	BM_ASSERT(p != NULL);
	printf("hello: page at %p, %llu KiB free, tsc %llu\n", p,
	       (unsigned long long)(bm_mem_free_bytes() / 1024), (unsigned long long)rdtsc());
	/* "fault" on the command line checks the exception handlers. */
	const char *cmd = bm_mb_cmdline(mbi);
	for (size_t i = 0; cmd[i]; i++)
		if (!strncmp(cmd + i, "fault", 5))
			__asm__ volatile("ud2");
	printf("hello: PASS\n");
	return BM_EXIT_PASS;
}
