/* SPDX-License-Identifier: MIT */
/*
 * The smallest L1: checks the machine it was booted on as any multiboot
 * kernel would see it (multiboot information, fw_cfg's RAM size, the top of
 * its RAM) and reports "check NAME: ok|FAIL" lines, then exits through the
 * debug port (and powers Bochs off). Runs alone under QEMU and as L1 under
 * either stub (SVM under QEMU, VMX under Bochs), unchanged.
 */
#include "../common/bm.h"
#include "../common/bochs.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_RAM_SIZE 0x0003
/* Firmware may keep the last pages of RAM for itself (SeaBIOS: 128 KiB). */
#define FIRMWARE_SLACK 0x200000ull

/* Local APIC (SDM 10.4.1, 10.4.8): its default base and version register. */
#define LAPIC_BASE 0xFEE00000ull
#define LAPIC_VERSION 0x30
#define LAPIC_VERSION_MASK 0xFF
#define LAPIC_SPIV 0xF0
#define LAPIC_SPIV_ENABLE (1u << 8)
#define APIC_BASE_EN (1ull << 11)
/* CPUID bits that report software state (SDM Vol. 2A, CPUID; SDM 11.4.3). */
#define CPUID_1_ECX_XSAVE (1u << 26)
#define CPUID_1_ECX_OSXSAVE (1u << 27)
#define CPUID_1_EDX_APIC (1u << 9)
#define CR4_OSXSAVE (1ull << 18)
/* DR7 with GE set and no breakpoint enabled (bit 10 reads as 1). */
#define DR7_TEST 0x600ul
/* 8259 PIC (ICW1-ICW4) and 8254 PIT channel 0, mode 0 (interrupt on terminal count). */
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define PIC_ICW1_INIT_ICW4 0x11
#define PIC_ICW4_8086 0x01
#define PIC_EOI 0x20
#define PIC_IRQ_BASE 0x20
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_CH0_LOHI_MODE0 0x30
#define PIT_10MS 11932 /* 1.193182 MHz / 100 */
#define IRQ_SPIN_LIMIT 2000000000ull

static volatile unsigned timer_irqs;

static void timer_irq(struct bm_regs *r)
{
	timer_irqs++;
	outb(PIC1_CMD, PIC_EOI);
}

/* One PIT interrupt through the 8259 to vector 0x20, taken with IF set. */
static bool pit_interrupt(void)
{
	bm_set_handler(PIC_IRQ_BASE, timer_irq);
	outb(PIC1_CMD, PIC_ICW1_INIT_ICW4);
	outb(PIC2_CMD, PIC_ICW1_INIT_ICW4);
	outb(PIC1_DATA, PIC_IRQ_BASE);
	outb(PIC2_DATA, PIC_IRQ_BASE + 8);
	outb(PIC1_DATA, 4); /* slave on IRQ2 */
	outb(PIC2_DATA, 2);
	outb(PIC1_DATA, PIC_ICW4_8086);
	outb(PIC2_DATA, PIC_ICW4_8086);
	outb(PIC1_DATA, 0xFE); /* only IRQ0 */
	outb(PIC2_DATA, 0xFF);
	outb(PIT_CMD, PIT_CH0_LOHI_MODE0);
	outb(PIT_CH0, PIT_10MS & 0xFF);
	outb(PIT_CH0, PIT_10MS >> 8);
	sti();
	for (uint64_t i = 0; i < IRQ_SPIN_LIMIT && !timer_irqs; i++)
		pause();
	cli();
	outb(PIC1_DATA, 0xFF);
	return timer_irqs == 1;
}

static unsigned checks, failed;

static void check(const char *name, bool ok);

static uint32_t cpuid1(bool edx)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	return edx ? d : c;
}

/*
 * IA32_APIC_BASE.EN cleared, then set again: the APIC is back (SDM 11.4.3,
 * as on processors since the P6 family), and CPUID.1:EDX.APIC follows EN.
 * Bochs 2.7 alone ignores the set; the VMX stub keeps L0's APIC enabled.
 */
static void apic_reenable(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);
	volatile uint32_t *spiv = (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + LAPIC_SPIV);
	uint32_t spiv_before = *spiv;

	wrmsr(MSR_APIC_BASE, base & ~APIC_BASE_EN);
	bool off = !(rdmsr(MSR_APIC_BASE) & APIC_BASE_EN) && !(cpuid1(true) & CPUID_1_EDX_APIC);
	wrmsr(MSR_APIC_BASE, base);
	bool on = rdmsr(MSR_APIC_BASE) == base && (cpuid1(true) & CPUID_1_EDX_APIC);
	*spiv = spiv_before | LAPIC_SPIV_ENABLE;
	uint32_t ver = *(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + LAPIC_VERSION);
	check("apic-base-clear-and-set",
	      off && on && ver != 0 && ver != 0xFFFFFFFFu && (*spiv & LAPIC_SPIV_ENABLE));
}

/* CPUID.1:ECX.OSXSAVE is CR4.OSXSAVE (SDM Vol. 2A, CPUID), whoever answers CPUID. */
static void cpuid_osxsave(void)
{
	if (!(cpuid1(false) & CPUID_1_ECX_XSAVE))
		return;
	uint64_t cr4 = read_cr4();
	write_cr4(cr4 | CR4_OSXSAVE);
	bool set = cpuid1(false) & CPUID_1_ECX_OSXSAVE;
	write_cr4(cr4 & ~CR4_OSXSAVE);
	bool clear = !(cpuid1(false) & CPUID_1_ECX_OSXSAVE);
	write_cr4(cr4);
	check("cpuid-osxsave-follows-cr4", set && clear);
}

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

/* XSETBV (which VMX makes exit unconditionally) sets XCR0, as Linux does
 * at boot: x87 alone, then x87 and SSE, read back with XGETBV. */
static void xsetbv_xcr0(void)
{
	if (!(cpuid1(false) & CPUID_1_ECX_XSAVE))
		return;
	uint64_t cr4 = read_cr4();
	write_cr4(cr4 | CR4_OSXSAVE);
	uint64_t old = xgetbv0();
	__asm__ volatile("xsetbv" : : "a"(1u), "d"(0u), "c"(0u));
	bool x87 = xgetbv0() == 1;
	__asm__ volatile("xsetbv" : : "a"(3u), "d"(0u), "c"(0u));
	bool sse = xgetbv0() == 3;
	__asm__ volatile("xsetbv" : : "a"((uint32_t)old), "d"((uint32_t)(old >> 32)), "c"(0u));
	write_cr4(cr4);
	check("xsetbv-sets-xcr0", x87 && sse);
}

/* DR7 keeps what L1 wrote across an instruction that exits to L0 (CPUID). */
static void dr7_kept(void)
{
	uint32_t a, b, c, d;
	unsigned long dr7 = DR7_TEST, back, saved;

	__asm__ volatile("mov %%dr7, %0" : "=r"(saved));
	__asm__ volatile("mov %0, %%dr7" ::"r"(dr7));
	cpuid(0, 0, &a, &b, &c, &d);
	__asm__ volatile("mov %%dr7, %0" : "=r"(back));
	__asm__ volatile("mov %0, %%dr7" ::"r"(saved));
	check("dr7-kept-across-exits", back == dr7);
}

static bool cmdline_has(const char *cmd, const char *word)
{
	size_t n = strlen(word);

	for (size_t i = 0; cmd[i]; i++)
		if (!strncmp(cmd + i, word, n))
			return true;
	return false;
}

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
	check("mem-upper-matches-mmap", 0x100000 + (uint64_t)mbi->mem_upper * 1024 <= top);

	outw(FW_CFG_PORT_SEL, FW_CFG_SIGNATURE);
	if (inb(FW_CFG_PORT_DATA) == 'Q') {
		uint64_t ram = fwcfg_u64(FW_CFG_RAM_SIZE);
		printf("hello: fw_cfg RAM size %llu KiB, memory map ends at %llu KiB\n",
		       (unsigned long long)(ram >> 10), (unsigned long long)(top >> 10));
		check("fwcfg-ram-size-matches-mmap", ram >= top && ram - top < FIRMWARE_SLACK);
		/* The same item read with REP INSB, as Linux's fw_cfg driver does. */
		uint64_t ram_rep = 0;
		void *dst = &ram_rep;
		uint64_t n = sizeof(ram_rep);
		outw(FW_CFG_PORT_SEL, FW_CFG_RAM_SIZE);
		__asm__ volatile("rep insb"
				 : "+D"(dst), "+c"(n)
				 : "d"(FW_CFG_PORT_DATA)
				 : "memory");
		check("fwcfg-rep-insb", ram_rep == ram && n == 0);
	}

	/* The last page of RAM is ours: write it, read it back. */
	volatile uint64_t *last = (volatile uint64_t *)(uintptr_t)(top - 8);
	*last = 0x5a5aa5a5c3c33c3cull;
	check("top-of-ram-writable", *last == 0x5a5aa5a5c3c33c3cull);

	uint32_t apic_ver = *(volatile uint32_t *)(uintptr_t)(LAPIC_BASE + LAPIC_VERSION);
	printf("hello: local APIC version %#x\n", apic_ver & LAPIC_VERSION_MASK);
	check("lapic-mmio", apic_ver != 0 && apic_ver != 0xFFFFFFFFu);
	check("pit-interrupt", pit_interrupt());
	/* "cpu-state": what an L1 sees of its own CPU state (APIC base, the
	 * CPUID bits of CR4, DR7 across exits); the VMX boot run asks for it. */
	if (cmdline_has(bm_mb_cmdline(mbi), "cpu-state")) {
		apic_reenable();
		cpuid_osxsave();
		xsetbv_xcr0();
		dr7_kept();
	}

	bm_mem_init_from_mb(mbi, 0);
	check("allocator", bm_page_alloc() != NULL);
	/* "expect-modules=N": the loader must hand over N modules, each with its string. */
	const char *cmdline = bm_mb_cmdline(mbi);
	for (size_t i = 0; cmdline[i]; i++) {
		if (strncmp(cmdline + i, "expect-modules=", 15))
			continue;
		uint32_t want = (uint32_t)bm_strtou64(cmdline + i + 15, NULL);
		bool ok = bm_mb_module_count(mbi) == want;
		for (uint32_t m = 0; ok && m < want; m++) {
			const struct mb_module *mod = bm_mb_module(mbi, m);
			ok = mod->mod_end > mod->mod_start && mod->string &&
			     *(const char *)(uintptr_t)mod->string && !(mod->mod_start & 0xFFF);
		}
		check("multiboot-modules", ok);
		break;
	}
	for (uint32_t i = 0; i < bm_mb_module_count(mbi); i++) {
		const struct mb_module *m = bm_mb_module(mbi, i);
		printf("hello: module %u: %u bytes, starts \"%.16s\"\n", i,
		       m->mod_end - m->mod_start, (const char *)(uintptr_t)m->mod_start);
	}

	/* "fault" on the command line checks the exception handlers. */
	const char *cmd = bm_mb_cmdline(mbi);
	for (size_t i = 0; cmd[i]; i++)
		if (!strncmp(cmd + i, "fault", 5))
			__asm__ volatile("ud2");
	printf("hello: %s (%u checks, %u failed)\n", failed ? "FAIL" : "PASS", checks, failed);
	uint32_t code = failed ? BM_EXIT_FAIL : BM_EXIT_PASS;
	/* Bochs has no debug-exit device: after the port write, power off. */
	if (bm_bochs_present()) {
		bm_debug_exit(code);
		bm_bochs_shutdown();
	}
	return code;
}
