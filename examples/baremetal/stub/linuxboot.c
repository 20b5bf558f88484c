/* SPDX-License-Identifier: MIT */
/*
 * L1 as a Linux kernel: the Linux/x86 boot protocol (the kernel's
 * Documentation/arch/x86/boot.rst, protocol 2.10 and later). A bzImage is
 * recognised by its setup header ("HdrS" at 0x202, the boot flag 0xAA55 at
 * 0x1FE); its protected-mode part (after the setup sectors) is loaded at
 * the kernel's preferred address, the next module becomes its initrd at
 * the top of L1's RAM, and "the zero page" (struct boot_params) carries
 * the setup header, the command line, the initrd and the e820 map that the
 * stub gives L1 (the same ranges as the multiboot memory map). Entry is the
 * 32-bit boot protocol: protected mode, paging off, flat segments with
 * selectors 0x10 (code) and 0x18 (data), ESI = the zero page, EBP = EDI =
 * EBX = 0, interrupts off.
 */
#include "stub.h"

/* Offsets in the image and in struct boot_params (the setup header is
 * copied to the same offsets of the zero page). */
#define LX_SETUP_SECTS 0x1F1	 /* u8: 512-byte setup sectors after the boot sector (0: 4) */
#define LX_BOOT_FLAG 0x1FE	 /* u16: 0xAA55 */
#define LX_JUMP 0x200		 /* u16: a short jump; its second byte ends the header */
#define LX_HEADER 0x202		 /* u32: "HdrS" */
#define LX_VERSION 0x206	 /* u16: protocol version */
#define LX_TYPE_OF_LOADER 0x210	 /* u8 */
#define LX_LOADFLAGS 0x211	 /* u8 */
#define LX_CODE32_START 0x214	 /* u32 */
#define LX_RAMDISK_IMAGE 0x218	 /* u32 */
#define LX_RAMDISK_SIZE 0x21C	 /* u32 */
#define LX_CMD_LINE_PTR 0x228	 /* u32 */
#define LX_INITRD_ADDR_MAX 0x22C /* u32: highest address the initrd may end at */
#define LX_KERNEL_ALIGN 0x230	 /* u32 */
#define LX_RELOCATABLE 0x234	 /* u8 */
#define LX_CMDLINE_SIZE 0x238	 /* u32: longest command line, without its NUL */
#define LX_PREF_ADDRESS 0x258	 /* u64 */
#define LX_INIT_SIZE 0x260	 /* u32: memory the kernel needs from its load address */
#define BP_ALT_MEM_K 0x1E0	 /* u32: KiB above 1 MiB */
#define BP_EXT_RAMDISK_IMAGE 0x0C0
#define BP_EXT_RAMDISK_SIZE 0x0C4
#define BP_EXT_CMD_LINE_PTR 0x0C8
#define BP_E820_ENTRIES 0x1E8 /* u8 */
#define BP_E820_TABLE 0x2D0   /* 128 entries of 20 bytes: addr, size, type */
#define BP_E820_MAX 128
#define BP_SIZE 0x1000

#define LX_MAGIC 0x53726448u /* "HdrS" */
#define LX_BOOT_FLAG_VALUE 0xAA55
#define LX_MIN_VERSION 0x020A /* pref_address and init_size */
#define LX_LOADED_HIGH 0x01   /* loadflags: protected-mode code at 1 MiB or above */
#define LX_LOADER_UNDEFINED 0xFF
#define LX_DEFAULT_SETUP_SECTS 4
#define LX_SECTOR 512
#define LX_SEL_CS 0x10 /* __BOOT_CS */
#define LX_SEL_DS 0x18 /* __BOOT_DS */

/* Where the stub puts the zero page and the command line in L1's low RAM
 * (Linux reserves the first MiB for itself and copies both early). */
#define LX_ZERO_PAGE_GPA 0x10000ull
#define LX_CMDLINE_GPA 0x11000ull
#define LX_CMDLINE_ROOM 0x8000ull

static uint8_t rd8(const uint8_t *p, unsigned off)
{
	return p[off];
}
static uint16_t rd16(const uint8_t *p, unsigned off)
{
	uint16_t v;
	memcpy(&v, p + off, sizeof(v));
	return v;
}
static uint32_t rd32(const uint8_t *p, unsigned off)
{
	uint32_t v;
	memcpy(&v, p + off, sizeof(v));
	return v;
}
static uint64_t rd64(const uint8_t *p, unsigned off)
{
	uint64_t v;
	memcpy(&v, p + off, sizeof(v));
	return v;
}
static void wr32(uint8_t *p, unsigned off, uint32_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

bool linux_is_bzimage(const uint8_t *img, uint64_t size)
{
	return size > LX_HEADER + 4 && rd16(img, LX_BOOT_FLAG) == LX_BOOT_FLAG_VALUE &&
	       rd32(img, LX_HEADER) == LX_MAGIC;
}

static void *l1_mem(uint64_t gpa, uint64_t len, const char *what)
{
	void *p = l1_ram_ptr(gpa, len);
	if (!p)
		bm_panic("stub: Linux %s [%#llx, +%#llx) is outside L1's RAM\n", what,
			 (unsigned long long)gpa, (unsigned long long)len);
	return p;
}

/* Whether [a, a + n) and [b, b + m) overlap. */
static bool overlaps(uint64_t a, uint64_t n, uint64_t b, uint64_t m)
{
	return a < b + m && b < a + n;
}

void linux_load(const uint8_t *img, uint64_t size, const char *cmdline, const uint8_t *initrd,
		uint64_t initrd_len, struct l1_boot *boot)
{
	uint16_t version = rd16(img, LX_VERSION);
	if (version < LX_MIN_VERSION)
		bm_panic("stub: Linux boot protocol %u.%02u is older than 2.10\n", version >> 8,
			 version & 0xFF);
	if (!(rd8(img, LX_LOADFLAGS) & LX_LOADED_HIGH))
		bm_panic("stub: not a bzImage (a zImage loads below 1 MiB)\n");
	unsigned sects = rd8(img, LX_SETUP_SECTS);
	uint64_t setup = (uint64_t)((sects ? sects : LX_DEFAULT_SETUP_SECTS) + 1) * LX_SECTOR;
	unsigned hdr_end = LX_JUMP + 2 + rd8(img, LX_JUMP + 1);
	if (setup >= size || hdr_end > setup || hdr_end > BP_SIZE)
		bm_panic("stub: Linux image shorter than its setup header says\n");

	/* The protected-mode kernel at its preferred address (which a
	 * relocatable kernel only prefers; a fixed one needs it). */
	uint64_t load = rd64(img, LX_PREF_ADDRESS);
	uint64_t init_size = rd32(img, LX_INIT_SIZE);
	uint64_t pm_len = size - setup;
	if (init_size < pm_len)
		init_size = pm_len;
	if (load < L1_HIGH_START || load + init_size > stub.l1_size)
		bm_panic("stub: Linux needs [%#llx, +%#llx), beyond L1's RAM\n",
			 (unsigned long long)load, (unsigned long long)init_size);
	memcpy(l1_mem(load, init_size, "kernel"), img + setup, pm_len);

	/* The initrd at the top of RAM, below what the kernel can reach. */
	uint64_t rd_gpa = 0;
	if (initrd) {
		uint64_t limit = (uint64_t)rd32(img, LX_INITRD_ADDR_MAX) + 1;
		if (limit > stub.l1_size)
			limit = stub.l1_size;
		if (initrd_len > limit)
			bm_panic("stub: initrd of %llu KiB does not fit L1's RAM\n",
				 (unsigned long long)(initrd_len >> 10));
		rd_gpa = BM_ALIGN_DOWN(limit - initrd_len, BM_PAGE_SIZE);
		if (overlaps(rd_gpa, initrd_len, load, init_size) || rd_gpa < L1_HIGH_START)
			bm_panic("stub: no room for an initrd of %llu KiB above the kernel\n",
				 (unsigned long long)(initrd_len >> 10));
		memcpy(l1_mem(rd_gpa, initrd_len, "initrd"), initrd, initrd_len);
	}

	/* The command line. */
	uint64_t max_cmd = rd32(img, LX_CMDLINE_SIZE);
	uint64_t cmd_len = strlen(cmdline);
	if (max_cmd > LX_CMDLINE_ROOM - 1)
		max_cmd = LX_CMDLINE_ROOM - 1;
	if (cmd_len > max_cmd)
		bm_panic("stub: Linux command line longer than the kernel's %llu bytes\n",
			 (unsigned long long)max_cmd);
	memcpy(l1_mem(LX_CMDLINE_GPA, cmd_len + 1, "command line"), cmdline, cmd_len + 1);

	/* The zero page: the image's setup header, then what the loader fills. */
	uint8_t *bp = l1_mem(LX_ZERO_PAGE_GPA, BP_SIZE, "zero page");
	memset(bp, 0, BP_SIZE);
	memcpy(bp + LX_SETUP_SECTS, img + LX_SETUP_SECTS, hdr_end - LX_SETUP_SECTS);
	bp[LX_TYPE_OF_LOADER] = LX_LOADER_UNDEFINED;
	wr32(bp, LX_CODE32_START, (uint32_t)load);
	wr32(bp, LX_RAMDISK_IMAGE, (uint32_t)rd_gpa);
	wr32(bp, LX_RAMDISK_SIZE, (uint32_t)initrd_len);
	wr32(bp, BP_EXT_RAMDISK_IMAGE, (uint32_t)(rd_gpa >> 32));
	wr32(bp, BP_EXT_RAMDISK_SIZE, (uint32_t)(initrd_len >> 32));
	wr32(bp, LX_CMD_LINE_PTR, (uint32_t)LX_CMDLINE_GPA);
	wr32(bp, BP_EXT_CMD_LINE_PTR, 0);
	wr32(bp, BP_ALT_MEM_K, (uint32_t)((stub.l1_size - L1_HIGH_START) >> 10));
	unsigned n = 0;
	for (unsigned i = 0; i < stub.l1_mmap_count && n < BP_E820_MAX; i++, n++) {
		uint8_t *e = bp + BP_E820_TABLE + n * 20;
		memcpy(e, &stub.l1_mmap[i].addr, 8);
		memcpy(e + 8, &stub.l1_mmap[i].len, 8);
		memcpy(e + 16, &stub.l1_mmap[i].type, 4);
	}
	bp[BP_E820_ENTRIES] = (uint8_t)n;

	*boot = (struct l1_boot){
	    .rip = load,
	    .rsi = LX_ZERO_PAGE_GPA,
	    .cs_sel = LX_SEL_CS,
	    .ds_sel = LX_SEL_DS,
	};
	bm_printf("stub: L1 is Linux (boot protocol %u.%02u): kernel at %#llx (+%#llx), "
		  "initrd at %#llx (%llu KiB), zero page at %#llx, %u e820 entries\n",
		  version >> 8, version & 0xFF, (unsigned long long)load,
		  (unsigned long long)init_size, (unsigned long long)rd_gpa,
		  (unsigned long long)(initrd_len >> 10), (unsigned long long)LX_ZERO_PAGE_GPA, n);
	bm_printf("stub: Linux command line \"%s\"\n", cmdline);
}
