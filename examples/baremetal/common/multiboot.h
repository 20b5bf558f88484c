/* SPDX-License-Identifier: MIT */
/*
 * Multiboot version 1 structures (Multiboot Specification 0.6.96, section 3).
 * Shared by the 32-bit entry (boot.S, through the MB_* constants) and C code.
 */
#ifndef BM_MULTIBOOT_H
#define BM_MULTIBOOT_H

/* Header magic and the value a compliant loader leaves in EAX (spec 3.1.2, 3.2). */
#define MB_HEADER_MAGIC 0x1BADB002
#define MB_BOOTLOADER_MAGIC 0x2BADB002

/* Header flags (spec 3.1.2). */
#define MB_HDR_PAGE_ALIGN (1 << 0)   /* modules page aligned */
#define MB_HDR_MEMORY_INFO (1 << 1)  /* mem_* and mmap_* wanted */
#define MB_HDR_AOUT_KLUDGE (1 << 16) /* address fields valid */

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Information structure flags (spec 3.3). */
#define MB_INFO_MEMORY (1u << 0)
#define MB_INFO_BOOTDEV (1u << 1)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MB_INFO_AOUT_SYMS (1u << 4)
#define MB_INFO_ELF_SHDR (1u << 5)
#define MB_INFO_MEM_MAP (1u << 6)
#define MB_INFO_LOADER_NAME (1u << 9)

/* Memory map entry types (spec 3.3, same as the ACPI address range types). */
#define MB_MEMORY_AVAILABLE 1
#define MB_MEMORY_RESERVED 2
#define MB_MEMORY_ACPI 3
#define MB_MEMORY_NVS 4
#define MB_MEMORY_BADRAM 5

/* The boot information structure; all addresses are 32-bit physical. */
struct mb_info {
	uint32_t flags;
	uint32_t mem_lower; /* KiB below 1 MiB */
	uint32_t mem_upper; /* KiB from 1 MiB to the first hole */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
	uint32_t drives_length;
	uint32_t drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info;
	uint32_t vbe_mode_info;
	uint16_t vbe_mode;
	uint16_t vbe_interface_seg;
	uint16_t vbe_interface_off;
	uint16_t vbe_interface_len;
} __attribute__((packed));
_Static_assert(sizeof(struct mb_info) == 88, "multiboot info size");

/* One module (spec 3.3): [mod_start, mod_end) and a NUL-terminated string. */
struct mb_module {
	uint32_t mod_start;
	uint32_t mod_end;
	uint32_t string;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct mb_module) == 16, "multiboot module size");

/*
 * One memory map entry (spec 3.3). @size counts the bytes that follow it,
 * so the next entry is at (char *)e + e->size + 4.
 */
struct mb_mmap_entry {
	uint32_t size;
	uint64_t addr;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct mb_mmap_entry) == 24, "multiboot mmap entry size");

#endif /* __ASSEMBLER__ */
#endif /* BM_MULTIBOOT_H */
