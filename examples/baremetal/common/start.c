/* SPDX-License-Identifier: MIT */
/* C entry from boot.S, exit and panic. */
#include "bm.h"

void bm_start(uint32_t magic, uint32_t mbi_addr);

void bm_start(uint32_t magic, uint32_t mbi_addr)
{
	bm_serial_init();
	bm_idt_init();
	if (magic != MB_BOOTLOADER_MAGIC)
		bm_panic("not started by a multiboot loader (eax=%#x)\n", magic);
	int rc = kmain(magic, (const struct mb_info *)(uintptr_t)mbi_addr);
	bm_exit((uint32_t)rc);
}

void bm_debug_exit(uint32_t v)
{
	outl(BM_DEBUG_EXIT_PORT, v);
}

void bm_exit(uint32_t v)
{
	bm_debug_exit(v);
	cli();
	for (;;)
		hlt();
}

void bm_panic(const char *fmt, ...)
{
	va_list ap;

	bm_printf("PANIC: ");
	va_start(ap, fmt);
	bm_vprintf(fmt, ap);
	va_end(ap);
	bm_exit(BM_EXIT_FAIL);
}
