/* SPDX-License-Identifier: MIT */
/*
 * The smallest L1: checks the machine it was booted on as any multiboot
 * kernel would see it (multiboot information, fw_cfg's RAM size, the top of
 * its RAM) and reports "check NAME: ok|FAIL" lines, then exits through the
 * debug port. Runs alone under QEMU and as L1 under the stub, unchanged.
 */
#include "../common/bm.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_RAM_SIZE 0x0003
/* Firmware may keep the last pages of RAM for itself (SeaBIOS: 128 KiB). */
#define FIRMWARE_SLACK 0x200000ull

static unsigned checks, failed;

static void check(const char *name, bool ok)
{
	checks++;
	if (!ok)
		failed++;
	printf("check %s: %s\n", name, ok ? "ok" : "FAIL");
}

static uint64_t fwcfg_u64(uint16_t key)
{
	uint64_t v = 0;
	outw(FW_CFG_PORT_SEL, key);
	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)inb(FW_CFG_PORT_DATA) << (8 * i);
	return v;
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
	printf("hello: booted, magic %#x\n", magic);
	bm_mb_dump(mbi);
	check("multiboot-magic", magic == MB_BOOTLOADER_MAGIC);
	check("multiboot-mmap", (mbi->flags & MB_INFO_MEM_MAP) && (mbi->flags & MB_INFO_MEMORY));

	/* The end of the RAM the memory map gives us. */
	struct mb_mmap_entry e;
	uint32_t cur = 0;
	uint64_t top = 0;
	while (bm_mb_mmap_next(mbi, &cur, &e))
		if (e.type == MB_MEMORY_AVAILABLE && e.addr + e.len > top)
			top = e.addr + e.len;
	check("mem-upper-matches-mmap",
	      0x100000 + (uint64_t)mbi->mem_upper * 1024 <= top);

	outw(FW_CFG_PORT_SEL, FW_CFG_SIGNATURE);
	if (inb(FW_CFG_PORT_DATA) == 'Q') {
		uint64_t ram = fwcfg_u64(FW_CFG_RAM_SIZE);
		printf("hello: fw_cfg RAM size %llu KiB, memory map ends at %llu KiB\n",
		       (unsigned long long)(ram >> 10), (unsigned long long)(top >> 10));
		check("fwcfg-ram-size-matches-mmap", ram >= top && ram - top < FIRMWARE_SLACK);
	}

	/* The last page of RAM is ours: write it, read it back. */
	volatile uint64_t *last = (volatile uint64_t *)(uintptr_t)(top - 8);
	*last = 0x5a5aa5a5c3c33c3cull;
	check("top-of-ram-writable", *last == 0x5a5aa5a5c3c33c3cull);

	bm_mem_init_from_mb(mbi, 0);
	check("allocator", bm_page_alloc() != NULL);
	for (uint32_t i = 0; i < bm_mb_module_count(mbi); i++) {
		const struct mb_module *m = bm_mb_module(mbi, i);
		printf("hello: module %u: %u bytes, starts \"%.16s\"\n", i, m->mod_end - m->mod_start,
		       (const char *)(uintptr_t)m->mod_start);
	}

	/* "fault" on the command line checks the exception handlers. */
	const char *cmd = bm_mb_cmdline(mbi);
	for (size_t i = 0; cmd[i]; i++)
		if (!strncmp(cmd + i, "fault", 5))
			__asm__ volatile("ud2");
	printf("hello: %s (%u checks, %u failed)\n", failed ? "FAIL" : "PASS", checks, failed);
	return failed ? BM_EXIT_FAIL : BM_EXIT_PASS;
}
