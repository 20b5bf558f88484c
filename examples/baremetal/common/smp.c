/* SPDX-License-Identifier: MIT */
/*
 * Several processors: the local APIC (xAPIC, memory-mapped at its base
 * MSR's address), the number of processors (QEMU's fw_cfg, else the
 * firmware's MP table), and the
 * start of an application processor by INIT-SIPI-SIPI (MultiProcessor
 * Specification B.4; APM 16.5 for the ICR) on ap.S's code.
 */
#include "bm.h"

#define AP_BOOT_BASE 0x8000ull /* ap.S: below 1 MiB, page aligned */
#define AP_BOOT_DATA 0xF00u
#define APIC_BASE_MASK 0xFFFFFF000ull
#define APIC_ICR_MODE_INIT 0x500u
#define APIC_ICR_MODE_SIPI 0x600u
#define APIC_ICR_ASSERT 0x4000u
#define APIC_ICR_DEST_SHIFT 24
#define APIC_ID_SHIFT 24
#define GDT_LIMIT (4 * 8 - 1) /* boot.S's four descriptors */
#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_NB_CPUS 0x0005
/* MultiProcessor Specification 1.4, chapter 4: where the floating pointer
 * is looked for, and the layout of the configuration table. */
#define BDA_EBDA_SEGMENT 0x40E
#define EBDA_LOWEST 0x80000ull
#define EBDA_SEARCH_LEN 1024
#define BASE_MEM_TOP 0xA0000ull
#define BASE_MEM_SEARCH_LEN 1024
#define BIOS_ROM_BASE 0xF0000ull
#define BIOS_ROM_LEN 0x10000ull
#define MP_FLOATING_LEN 16
#define MP_FLOATING_ALIGN 16
#define MP_FLOATING_TABLE 4
#define MP_TABLE_LEN 4
#define MP_TABLE_ENTRIES 34
#define MP_TABLE_HEADER_LEN 44
#define MP_ENTRY_PROCESSOR 0
#define MP_PROCESSOR_LEN 20
#define MP_OTHER_LEN 8
#define MP_CPU_FLAGS 3
#define MP_CPU_ENABLED 1u
#define INIT_DELAY_CYCLES 10000000ull /* about 10 ms after INIT (MP spec B.4) */
#define SIPI_DELAY_CYCLES 200000ull   /* about 200 us after each SIPI */
#define AP_WAIT_CYCLES 2000000000ull  /* how long to wait for an AP */

struct ap_boot {
	uint16_t gdt_limit;
	uint32_t gdt_base;
	uint16_t pad;
	uint64_t cr3, stack, entry;
} __attribute__((packed));

extern const char bm_ap_boot[], bm_ap_boot_end[];
extern const char bm_gdt[];
extern uint64_t bm_boot_pml4[];

static volatile uint32_t *apic(unsigned reg)
{
	return (volatile uint32_t *)(uintptr_t)((rdmsr(MSR_APIC_BASE) & APIC_BASE_MASK) + reg);
}

uint32_t bm_apic_read(unsigned reg)
{
	return *apic(reg);
}

void bm_apic_write(unsigned reg, uint32_t val)
{
	*apic(reg) = val;
}

void bm_apic_ipi(uint8_t apic_id, uint32_t lo)
{
	bm_apic_write(BM_APIC_ICR_HI, (uint32_t)apic_id << APIC_ICR_DEST_SHIFT);
	bm_apic_write(BM_APIC_ICR_LO, lo);
}

unsigned bm_apic_id(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return b >> APIC_ID_SHIFT;
}

/* The MP floating pointer structure in [@base, @base + @len), on a 16-byte
 * boundary with its signature and a zero checksum (MP spec 4.1), or NULL. */
static const uint8_t *mp_floating(uint64_t base, uint64_t len)
{
	for (uint64_t a = base; a + MP_FLOATING_LEN <= base + len; a += MP_FLOATING_ALIGN) {
		const uint8_t *p = (const uint8_t *)(uintptr_t)a;
		uint8_t sum = 0;

		if (memcmp(p, "_MP_", 4) != 0)
			continue;
		for (unsigned i = 0; i < MP_FLOATING_LEN; i++)
			sum = (uint8_t)(sum + p[i]);
		if (sum == 0)
			return p;
	}
	return NULL;
}

/* The enabled processors the MP configuration table lists (MP spec 4.2,
 * 4.3.1), 0 without one (no table, or a default configuration). */
static unsigned mp_cpu_count(void)
{
	uintptr_t bda = BDA_EBDA_SEGMENT;
	__asm__("" : "+r"(bda)); /* a physical address, not an object the compiler knows */
	uint64_t ebda = (uint64_t)*(const volatile uint16_t *)bda << 4;
	const uint8_t *fp = NULL;

	if (ebda >= EBDA_LOWEST && ebda < BIOS_ROM_BASE)
		fp = mp_floating(ebda, EBDA_SEARCH_LEN);
	if (!fp)
		fp = mp_floating(BASE_MEM_TOP - BASE_MEM_SEARCH_LEN, BASE_MEM_SEARCH_LEN);
	if (!fp)
		fp = mp_floating(BIOS_ROM_BASE, BIOS_ROM_LEN);
	if (!fp)
		return 0;
	uint32_t table;
	memcpy(&table, fp + MP_FLOATING_TABLE, sizeof(table));
	const uint8_t *t = (const uint8_t *)(uintptr_t)table;
	if (!table || memcmp(t, "PCMP", 4) != 0)
		return 0;
	uint16_t len, entries;
	memcpy(&len, t + MP_TABLE_LEN, sizeof(len));
	memcpy(&entries, t + MP_TABLE_ENTRIES, sizeof(entries));
	unsigned n = 0;
	const uint8_t *e = t + MP_TABLE_HEADER_LEN, *end = t + len;
	for (unsigned i = 0; i < entries && e < end; i++) {
		if (*e == MP_ENTRY_PROCESSOR) {
			n += (e[MP_CPU_FLAGS] & MP_CPU_ENABLED) != 0;
			e += MP_PROCESSOR_LEN;
		} else {
			e += MP_OTHER_LEN; /* bus, I/O APIC, interrupt assignments */
		}
	}
	return n;
}

unsigned bm_cpu_count(void)
{
	/* A machine with fw_cfg (its signature "QEMU") says there; elsewhere
	 * (Bochs, a KVM-based VMM without it) the ports read as no device,
	 * and the firmware's MP table says, if it has one. */
	char sig[4];

	outw(FW_CFG_PORT_SEL, FW_CFG_SIGNATURE);
	for (unsigned i = 0; i < sizeof(sig); i++)
		sig[i] = (char)inb(FW_CFG_PORT_DATA);
	if (memcmp(sig, "QEMU", sizeof(sig)) != 0) {
		unsigned n = mp_cpu_count();
		return n ? n : 1;
	}
	outw(FW_CFG_PORT_SEL, FW_CFG_NB_CPUS);
	unsigned n = inb(FW_CFG_PORT_DATA);
	n |= (unsigned)inb(FW_CFG_PORT_DATA) << 8;
	return n ? n : 1;
}

static void delay(uint64_t cycles)
{
	uint64_t t0 = rdtsc();
	while (rdtsc() - t0 < cycles)
		pause();
}

bool bm_ap_start(uint8_t apic_id, void (*entry)(void), void *stack_top, volatile bool *up)
{
	volatile struct ap_boot *boot =
	    (volatile struct ap_boot *)(uintptr_t)(AP_BOOT_BASE + AP_BOOT_DATA);
	size_t len = (size_t)(bm_ap_boot_end - bm_ap_boot);

	BM_ASSERT(len <= AP_BOOT_DATA);
	memcpy((void *)(uintptr_t)AP_BOOT_BASE, bm_ap_boot, len);
	boot->gdt_limit = GDT_LIMIT;
	boot->gdt_base = (uint32_t)(uintptr_t)bm_gdt;
	boot->cr3 = (uint64_t)(uintptr_t)bm_boot_pml4;
	boot->stack = (uint64_t)(uintptr_t)stack_top;
	boot->entry = (uint64_t)(uintptr_t)entry;
	bm_apic_ipi(apic_id, APIC_ICR_MODE_INIT | APIC_ICR_ASSERT);
	delay(INIT_DELAY_CYCLES);
	for (int s = 0; s < 2 && !*up; s++) {
		bm_apic_ipi(apic_id,
			    APIC_ICR_MODE_SIPI | APIC_ICR_ASSERT | (uint32_t)(AP_BOOT_BASE >> 12));
		delay(SIPI_DELAY_CYCLES);
	}
	uint64_t t0 = rdtsc();
	while (!*up)
		if (rdtsc() - t0 > AP_WAIT_CYCLES)
			return false;
	return true;
}
