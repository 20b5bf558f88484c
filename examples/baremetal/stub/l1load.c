/* SPDX-License-Identifier: MIT */
/*
 * L1's machine: its memory (a host range distinct from the stub's, mapped by
 * NPT01 at the guest-physical addresses a PC has), and its boot by the
 * multiboot protocol (Multiboot Specification 0.6.96): the first module is
 * L1's kernel, with the module's string as its command line; every further
 * module is handed on to L1 as its own module.
 */
#include "stub.h"

#define MB_SEARCH_BYTES 8192
#define MB_HDR_REQUIRED_MASK 0xFFFFu /* flags 0-15: the loader must support them */
#define MB_HDR_VIDEO_MODE (1u << 2)
#define LOADER_NAME "libnest baremetal stub"
#define DEFAULT_POOL_MIB 32 /* the stub's own page pool */

#define ELF_MAGIC 0x464C457Fu /* "\x7fELF" */
#define ELFCLASS32 1
#define ELFCLASS64 2
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define ELF_MAX_PHDRS 64

struct elf_ident {
	uint32_t magic;
	uint8_t class, data, version, osabi;
	uint8_t pad[8];
};

struct elf32_ehdr {
	struct elf_ident id;
	uint16_t type, machine;
	uint32_t version, entry, phoff, shoff, flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf32_phdr {
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
};

struct elf64_ehdr {
	struct elf_ident id;
	uint16_t type, machine;
	uint32_t version;
	uint64_t entry, phoff, shoff;
	uint32_t flags;
	uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct mb_header {
	uint32_t magic, flags, checksum;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};

/* ---- memory ---------------------------------------------------------- */

static void mmap_add(uint64_t addr, uint64_t len, uint32_t type)
{
	if (stub.l1_mmap_count >= STUB_MAX_L1_MMAP || len == 0)
		return;
	stub.l1_mmap[stub.l1_mmap_count++] = (struct mb_mmap_entry){
	    .size = sizeof(struct mb_mmap_entry) - sizeof(uint32_t),
	    .addr = addr,
	    .len = len,
	    .type = type,
	};
}

struct range {
	uint64_t start, end;
};

void l1_setup_memory(const struct mb_info *mbi, const char *cmdline)
{
	uint64_t pool_bytes = stub_cmdline_mib(cmdline, "pool", DEFAULT_POOL_MIB << 20);
	uint64_t l1_bytes = stub_cmdline_mib(cmdline, "l1mem", 0);
	uint64_t first = bm_mb_first_free(mbi), avail_end;

	if (!bm_mb_available_end(mbi, first, &avail_end))
		bm_panic("stub: no RAM above %#llx\n", (unsigned long long)first);
	if (avail_end > FOUR_GIB)
		avail_end = FOUR_GIB;
	uint64_t pool_end = first + pool_bytes;
	stub.l1_host = BM_ALIGN_UP(pool_end, TWO_MIB);
	uint64_t host_end = BM_ALIGN_DOWN(avail_end, TWO_MIB);
	if (stub.l1_host + 8 * TWO_MIB > host_end)
		bm_panic("stub: not enough RAM for L1 (need more than %llu MiB)\n",
			 (unsigned long long)((stub.l1_host + 8 * TWO_MIB) >> 20));
	stub.l1_size = host_end - stub.l1_host;
	if (l1_bytes && l1_bytes < stub.l1_size)
		stub.l1_size = BM_ALIGN_UP(l1_bytes, TWO_MIB);
	bm_mem_init(first, stub.l1_host);

	/* The host's available RAM, sorted: whatever is not RAM is devices. */
	struct range ram[STUB_MAX_L1_MMAP];
	unsigned nram = 0;
	struct mb_mmap_entry e;
	uint32_t cur = 0;
	while (bm_mb_mmap_next(mbi, &cur, &e) && nram < BM_ARRAY_SIZE(ram)) {
		if (e.type != MB_MEMORY_AVAILABLE)
			continue;
		unsigned i = nram++;
		while (i > 0 && ram[i - 1].start > e.addr) {
			ram[i] = ram[i - 1];
			i--;
		}
		ram[i] = (struct range){e.addr, e.addr + e.len};
	}

	stub.npt01 = bm_page_alloc();
	const uint64_t rw = stub.map_ram;
	/* L1's RAM, and the legacy VGA/ROM window passed through. */
	npt_map(stub.npt01, 0, stub.l1_host, L1_LOW_RAM_END, rw);
	npt_map(stub.npt01, L1_LOW_RAM_END, L1_LOW_RAM_END, L1_HIGH_START - L1_LOW_RAM_END, rw);
	npt_map(stub.npt01, L1_HIGH_START, stub.l1_host + L1_HIGH_START,
		stub.l1_size - L1_HIGH_START, rw);
	/* Above L1's RAM and below 4 GiB, what is not host RAM: passed through. */
	uint64_t pos = stub.l1_size;
	for (unsigned i = 0; i <= nram && pos < FOUR_GIB; i++) {
		uint64_t gap_end = i < nram ? ram[i].start : FOUR_GIB;
		if (gap_end > FOUR_GIB)
			gap_end = FOUR_GIB;
		if (gap_end > pos)
			npt_map(stub.npt01, pos, pos, gap_end - pos, stub.map_dev);
		if (i < nram && ram[i].end > pos)
			pos = ram[i].end;
	}

	/* L1's memory map: a PC's low memory, its RAM, the host's reserved ranges. */
	mmap_add(0, L1_EBDA_START, MB_MEMORY_AVAILABLE);
	mmap_add(L1_EBDA_START, L1_LOW_RAM_END - L1_EBDA_START, MB_MEMORY_RESERVED);
	mmap_add(L1_BIOS_START, L1_HIGH_START - L1_BIOS_START, MB_MEMORY_RESERVED);
	mmap_add(L1_HIGH_START, stub.l1_size - L1_HIGH_START, MB_MEMORY_AVAILABLE);
	cur = 0;
	while (bm_mb_mmap_next(mbi, &cur, &e)) {
		if (e.type == MB_MEMORY_AVAILABLE || e.addr < stub.l1_size || e.addr >= FOUR_GIB)
			continue;
		mmap_add(e.addr, e.len, e.type);
	}

	/* L1's low memory starts as a copy of the host's (BIOS data area, EBDA). */
	uintptr_t low = 0;
	__asm__("" : "+r"(low)); /* physical address 0 is a real address here */
	memcpy((void *)(uintptr_t)stub.l1_host, (const void *)low, L1_LOW_RAM_END);
	bm_printf("stub: L1 RAM %llu MiB at host %#llx (guest-physical 0); stub pool %llu KiB\n",
		  (unsigned long long)(stub.l1_size >> 20), (unsigned long long)stub.l1_host,
		  (unsigned long long)(bm_mem_free_bytes() >> 10));
}

/* ---- loading ----------------------------------------------------------- */

static void *l1_ptr_or_panic(uint64_t gpa, uint64_t len, const char *what)
{
	void *p = l1_ram_ptr(gpa, len);
	if (!p)
		bm_panic("stub: L1 %s [%#llx, +%#llx) is outside L1's RAM\n", what,
			 (unsigned long long)gpa, (unsigned long long)len);
	return p;
}

static void copy_to_l1(uint64_t gpa, const void *src, uint64_t filesz, uint64_t memsz,
		       const char *what)
{
	if (memsz < filesz)
		memsz = filesz;
	if (!memsz)
		return;
	uint8_t *dst = l1_ptr_or_panic(gpa, memsz, what);
	memcpy(dst, src, filesz);
	memset(dst + filesz, 0, memsz - filesz);
}

static const struct mb_header *find_mb_header(const uint8_t *img, uint64_t size, uint64_t *off)
{
	for (uint64_t o = 0; o + sizeof(struct mb_header) <= size && o < MB_SEARCH_BYTES; o += 4) {
		const struct mb_header *h = (const void *)(img + o);
		if (h->magic == MB_HEADER_MAGIC && h->magic + h->flags + h->checksum == 0) {
			*off = o;
			return h;
		}
	}
	return NULL;
}

/* Loads the kernel image; returns its entry point and sets *top to its end. */
static uint64_t load_kernel(const uint8_t *img, uint64_t size, uint64_t *top)
{
	uint64_t hoff;
	const struct mb_header *h = find_mb_header(img, size, &hoff);

	if (!h)
		bm_panic("stub: L1 module has no multiboot header\n");
	if (h->flags & MB_HDR_REQUIRED_MASK &
	    ~(MB_HDR_PAGE_ALIGN | MB_HDR_MEMORY_INFO | MB_HDR_VIDEO_MODE))
		bm_panic("stub: L1 requires multiboot features %#x\n", h->flags);
	*top = 0;
	if (h->flags & MB_HDR_AOUT_KLUDGE) {
		/* Spec 3.1.3: the file from header_addr's offset backwards to load_addr. */
		if (h->header_addr < h->load_addr || h->header_addr - h->load_addr > hoff)
			bm_panic("stub: bad multiboot address fields\n");
		uint64_t foff = hoff - (h->header_addr - h->load_addr);
		uint64_t len =
		    h->load_end_addr ? (uint64_t)h->load_end_addr - h->load_addr : size - foff;
		if (h->load_end_addr && h->load_end_addr < h->load_addr)
			bm_panic("stub: bad multiboot load_end_addr\n");
		if (foff > size || len > size - foff)
			bm_panic("stub: multiboot image shorter than its header says\n");
		uint64_t memsz = len;
		if (h->bss_end_addr > h->load_addr + len)
			memsz = h->bss_end_addr - h->load_addr;
		copy_to_l1(h->load_addr, img + foff, len, memsz, "image");
		*top = h->load_addr + memsz;
		return h->entry_addr;
	}

	const struct elf_ident *id = (const void *)img;
	if (size < sizeof(struct elf64_ehdr) || id->magic != ELF_MAGIC)
		bm_panic("stub: L1 is neither ELF nor a.out-kludge multiboot\n");
	uint64_t entry, phoff, phnum, phentsize;
	if (id->class == ELFCLASS32) {
		const struct elf32_ehdr *eh = (const void *)img;
		entry = eh->entry, phoff = eh->phoff, phnum = eh->phnum;
		phentsize = eh->phentsize;
		if (phentsize < sizeof(struct elf32_phdr))
			bm_panic("stub: bad ELF program headers\n");
	} else if (id->class == ELFCLASS64) {
		const struct elf64_ehdr *eh = (const void *)img;
		entry = eh->entry, phoff = eh->phoff, phnum = eh->phnum;
		phentsize = eh->phentsize;
		if (phentsize < sizeof(struct elf64_phdr))
			bm_panic("stub: bad ELF program headers\n");
	} else {
		bm_panic("stub: unknown ELF class %u\n", id->class);
	}
	if (phnum > ELF_MAX_PHDRS || phoff > size || phnum * phentsize > size - phoff)
		bm_panic("stub: bad ELF program headers\n");
	uint64_t phys_entry = entry;
	for (uint64_t i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + i * phentsize;
		uint64_t type, off, vaddr, paddr, filesz, memsz;
		if (id->class == ELFCLASS32) {
			const struct elf32_phdr *p = (const void *)ph;
			type = p->type, off = p->offset, vaddr = p->vaddr, paddr = p->paddr;
			filesz = p->filesz, memsz = p->memsz;
		} else {
			const struct elf64_phdr *p = (const void *)ph;
			type = p->type, off = p->offset, vaddr = p->vaddr, paddr = p->paddr;
			filesz = p->filesz, memsz = p->memsz;
		}
		if (type != PT_LOAD)
			continue;
		if (off > size || filesz > size - off)
			bm_panic("stub: ELF segment beyond the file\n");
		copy_to_l1(paddr, img + off, filesz, memsz, "segment");
		if (paddr + memsz > *top)
			*top = paddr + memsz;
		/* The entry point is virtual: find it in a segment (as loaders do). */
		if (entry >= vaddr && entry - vaddr < memsz)
			phys_entry = paddr + (entry - vaddr);
	}
	return phys_entry;
}

/* Copies a NUL-terminated string of the host's into L1 at *pos; returns its GPA. */
static uint32_t put_string(uint64_t *pos, const char *s)
{
	uint64_t n = strlen(s) + 1;
	uint64_t gpa = *pos;
	memcpy(l1_ptr_or_panic(gpa, n, "string"), s, n);
	*pos += n;
	return (uint32_t)gpa;
}

/* A module's string without its first word (the image's path). */
static const char *skip_path(const char *s)
{
	while (*s && *s != ' ')
		s++;
	while (*s == ' ')
		s++;
	return s;
}

void l1_load(const struct mb_info *mbi, struct l1_boot *boot)
{
	uint32_t nmod = bm_mb_module_count(mbi);
	if (nmod == 0)
		bm_panic("stub: no L1 given (pass it as the first module: -initrd l1.elf)\n");
	if (nmod - 1 > STUB_MAX_MODULES)
		bm_panic("stub: too many modules\n");

	const struct mb_module *m0 = bm_mb_module(mbi, 0);
	if (m0->mod_end < m0->mod_start)
		bm_panic("stub: bad module 0\n");
	const uint8_t *img = (const uint8_t *)(uintptr_t)m0->mod_start;
	uint64_t img_len = m0->mod_end - m0->mod_start;
	if (linux_is_bzimage(img, img_len)) {
		/* Linux: the module's string after the path is its command
		 * line, the next module its initrd; nothing else is handed on. */
		const struct mb_module *rd = nmod > 1 ? bm_mb_module(mbi, 1) : NULL;
		if (nmod > 2)
			bm_panic("stub: Linux takes one module (its initrd), not %u\n", nmod - 1);
		if (rd && rd->mod_end < rd->mod_start)
			bm_panic("stub: bad module 1\n");
		linux_load(img, img_len,
			   skip_path(m0->string ? (const char *)(uintptr_t)m0->string : ""),
			   rd ? (const uint8_t *)(uintptr_t)rd->mod_start : NULL,
			   rd ? rd->mod_end - rd->mod_start : 0, boot);
		return;
	}
	uint64_t top;
	uint64_t entry = load_kernel((const uint8_t *)(uintptr_t)m0->mod_start, m0->mod_end - m0->mod_start,
			     &top);
	if (top < L1_HIGH_START)
		top = L1_HIGH_START;

	/* Modules after the kernel, page aligned (L1 asks for it; we always do it). */
	struct mb_module mods[STUB_MAX_MODULES];
	uint64_t pos = BM_ALIGN_UP(top, BM_PAGE_SIZE);
	for (uint32_t i = 1; i < nmod; i++) {
		const struct mb_module *m = bm_mb_module(mbi, i);
		uint64_t len = m->mod_end >= m->mod_start ? m->mod_end - m->mod_start : 0;
		copy_to_l1(pos, (const void *)(uintptr_t)m->mod_start, len, len, "module");
		mods[i - 1] = (struct mb_module){.mod_start = (uint32_t)pos,
						 .mod_end = (uint32_t)(pos + len)};
		pos = BM_ALIGN_UP(pos + len, BM_PAGE_SIZE);
	}

	/* The information structure and what it points to. */
	uint64_t info_gpa = pos;
	struct mb_info info = {0};
	pos += sizeof(info);
	info.flags =
	    MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MEM_MAP | MB_INFO_LOADER_NAME | MB_INFO_MODS;
	info.mem_lower = (uint32_t)(L1_EBDA_START / 1024);
	info.mem_upper = (uint32_t)((stub.l1_size - L1_HIGH_START) / 1024);
	info.cmdline = put_string(&pos, m0->string ? (const char *)(uintptr_t)m0->string : "");
	info.boot_loader_name = put_string(&pos, LOADER_NAME);
	for (uint32_t i = 1; i < nmod; i++) {
		const struct mb_module *m = bm_mb_module(mbi, i);
		mods[i - 1].string =
		    put_string(&pos, m->string ? (const char *)(uintptr_t)m->string : "");
	}
	pos = BM_ALIGN_UP(pos, 8);
	info.mods_count = nmod - 1;
	info.mods_addr = (uint32_t)pos;
	if (nmod > 1)
		memcpy(l1_ptr_or_panic(pos, (nmod - 1) * sizeof(mods[0]), "modules"), mods,
		       (nmod - 1) * sizeof(mods[0]));
	pos += (nmod - 1) * sizeof(mods[0]);
	info.mmap_addr = (uint32_t)pos;
	info.mmap_length = stub.l1_mmap_count * (uint32_t)sizeof(struct mb_mmap_entry);
	memcpy(l1_ptr_or_panic(pos, info.mmap_length, "memory map"), stub.l1_mmap,
	       info.mmap_length);
	pos += info.mmap_length;
	memcpy(l1_ptr_or_panic(info_gpa, sizeof(info), "multiboot information"), &info,
	       sizeof(info));
	*boot = (struct l1_boot){
	    .rip = entry,
	    .rax = MB_BOOTLOADER_MAGIC,
	    .rbx = info_gpa,
	    .cs_sel = BM_SEL_CODE32,
	    .ds_sel = BM_SEL_DATA,
	};
	bm_printf("stub: L1 loaded: entry %#llx, %u module(s), boot information at %#llx-%#llx\n",
		  (unsigned long long)entry, nmod - 1, (unsigned long long)info_gpa,
		  (unsigned long long)pos);
}
