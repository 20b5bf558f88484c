/* SPDX-License-Identifier: MIT */
/* Multiboot (v1) information parsing (Multiboot Specification 0.6.96, 3.3). */
#include "bm.h"

#define MB_MAX_MODULES 64
#define MB_MAX_STRING 4096

static const void *phys(uint32_t addr)
{
	return (const void *)(uintptr_t)addr;
}

const char *bm_mb_cmdline(const struct mb_info *mbi)
{
	if (!(mbi->flags & MB_INFO_CMDLINE) || !mbi->cmdline)
		return "";
	return phys(mbi->cmdline);
}

uint32_t bm_mb_module_count(const struct mb_info *mbi)
{
	if (!(mbi->flags & MB_INFO_MODS))
		return 0;
	return mbi->mods_count < MB_MAX_MODULES ? mbi->mods_count : MB_MAX_MODULES;
}

const struct mb_module *bm_mb_module(const struct mb_info *mbi, uint32_t i)
{
	if (i >= bm_mb_module_count(mbi))
		return NULL;
	return (const struct mb_module *)phys(mbi->mods_addr) + i;
}

bool bm_mb_mmap_next(const struct mb_info *mbi, uint32_t *cursor, struct mb_mmap_entry *out)
{
	if (!(mbi->flags & MB_INFO_MEM_MAP))
		return false;
	/* Each entry is at least its size field plus 20 bytes (spec 3.3). */
	if ((uint64_t)*cursor + sizeof(*out) > mbi->mmap_length)
		return false;
	memcpy(out, (const char *)phys(mbi->mmap_addr) + *cursor, sizeof(*out));
	if (out->size < sizeof(*out) - sizeof(out->size))
		return false;
	*cursor += out->size + (uint32_t)sizeof(out->size);
	return true;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t string_end(uint32_t addr)
{
	const char *s = phys(addr);
	size_t n = 0;

	while (n < MB_MAX_STRING && s[n])
		n++;
	return (uint64_t)addr + n + 1;
}

uint64_t bm_mb_first_free(const struct mb_info *mbi)
{
	uint64_t top = (uint64_t)(uintptr_t)_image_end;

	top = max_u64(top, (uint64_t)(uintptr_t)mbi + sizeof(*mbi));
	if (mbi->flags & MB_INFO_CMDLINE && mbi->cmdline)
		top = max_u64(top, string_end(mbi->cmdline));
	if (mbi->flags & MB_INFO_MEM_MAP)
		top = max_u64(top, (uint64_t)mbi->mmap_addr + mbi->mmap_length);
	if (mbi->flags & MB_INFO_LOADER_NAME && mbi->boot_loader_name)
		top = max_u64(top, string_end(mbi->boot_loader_name));
	uint32_t n = bm_mb_module_count(mbi);
	if (n)
		top = max_u64(top, (uint64_t)mbi->mods_addr + n * sizeof(struct mb_module));
	for (uint32_t i = 0; i < n; i++) {
		const struct mb_module *m = bm_mb_module(mbi, i);
		top = max_u64(top, m->mod_end);
		if (m->string)
			top = max_u64(top, string_end(m->string));
	}
	return BM_ALIGN_UP(top, BM_PAGE_SIZE);
}

bool bm_mb_available_end(const struct mb_info *mbi, uint64_t addr, uint64_t *end)
{
	struct mb_mmap_entry e;
	uint32_t cur = 0;

	while (bm_mb_mmap_next(mbi, &cur, &e)) {
		if (e.type == MB_MEMORY_AVAILABLE && addr >= e.addr && addr - e.addr < e.len) {
			*end = e.addr + e.len;
			return true;
		}
	}
	if (!(mbi->flags & MB_INFO_MEM_MAP) && (mbi->flags & MB_INFO_MEMORY) && addr >= 0x100000 &&
	    addr < 0x100000 + (uint64_t)mbi->mem_upper * 1024) {
		*end = 0x100000 + (uint64_t)mbi->mem_upper * 1024;
		return true;
	}
	return false;
}

void bm_mem_init_from_mb(const struct mb_info *mbi, uint64_t limit)
{
	uint64_t base = bm_mb_first_free(mbi), end;

	if (!bm_mb_available_end(mbi, base, &end))
		bm_panic("no available RAM above %#llx\n", (unsigned long long)base);
	if (limit && end - base > limit)
		end = base + limit;
	bm_mem_init(base, end);
}

void bm_mb_dump(const struct mb_info *mbi)
{
	struct mb_mmap_entry e;
	uint32_t cur = 0;

	bm_printf("multiboot: flags=%#x cmdline=\"%s\" mem_lower=%uK mem_upper=%uK\n", mbi->flags,
		  bm_mb_cmdline(mbi), mbi->mem_lower, mbi->mem_upper);
	while (bm_mb_mmap_next(mbi, &cur, &e))
		bm_printf("  mmap %#014llx-%#014llx type %u\n", (unsigned long long)e.addr,
			  (unsigned long long)(e.addr + e.len), e.type);
	for (uint32_t i = 0; i < bm_mb_module_count(mbi); i++) {
		const struct mb_module *m = bm_mb_module(mbi, i);
		bm_printf("  module %u: %#x-%#x \"%s\"\n", i, m->mod_start, m->mod_end,
			  m->string ? (const char *)phys(m->string) : "");
	}
}
