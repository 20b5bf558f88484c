/* SPDX-License-Identifier: MIT */
/*
 * The bare-metal boot layer: everything a small 64-bit multiboot kernel
 * needs (serial console, printf, exceptions, port I/O, MSRs, a page
 * allocator, multiboot parsing, QEMU's debug-exit). See README.md.
 *
 * Memory is identity-mapped (virtual == physical) for the first 4 GiB, so
 * a pointer and a physical address below 4 GiB are interchangeable.
 */
#ifndef BM_H
#define BM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "multiboot.h"

#define BM_PAGE_SIZE 4096ull
#define BM_ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((uint64_t)(a)-1))
#define BM_ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a)-1))
#define BM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Selectors of the GDT that boot.S loads. */
#define BM_SEL_CODE64 0x08
#define BM_SEL_DATA 0x10
#define BM_SEL_CODE32 0x18

/* ---- entry ---------------------------------------------------------- */

/*
 * The kernel's main function, which the user of this layer provides. It is
 * called in long mode with serial and IDT ready; @magic is the value the
 * loader left in EAX (MB_BOOTLOADER_MAGIC), @mbi the multiboot information.
 * Its return value is passed to bm_exit().
 */
int kmain(uint32_t magic, const struct mb_info *mbi);

/* Linker-script symbols: the loaded image spans [_image_start, _image_end). */
extern char _image_start[], _image_end[];

/* ---- port I/O, MSRs, CPUID, TSC, control registers ------------------- */

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t *a, uint32_t *b, uint32_t *c,
			 uint32_t *d)
{
	__asm__ volatile("cpuid"
			 : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(subleaf));
}
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
#define BM_DEFINE_CR(n)                                                                            \
	static inline uint64_t read_cr##n(void)                                                    \
	{                                                                                          \
		uint64_t v;                                                                        \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                  \
		return v;                                                                          \
	}                                                                                          \
	static inline void write_cr##n(uint64_t v)                                                 \
	{                                                                                          \
		__asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory");                           \
	}
BM_DEFINE_CR(0)
BM_DEFINE_CR(2)
BM_DEFINE_CR(3)
BM_DEFINE_CR(4)
#undef BM_DEFINE_CR
static inline void cli(void)
{
	__asm__ volatile("cli" ::: "memory");
}
static inline void sti(void)
{
	__asm__ volatile("sti" ::: "memory");
}
static inline void hlt(void)
{
	__asm__ volatile("hlt" ::: "memory");
}
static inline void pause(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* MSRs used by the boot layer and its users. */
#define MSR_EFER 0xC0000080u
#define MSR_APIC_BASE 0x1Bu
#define MSR_IA32_TSC 0x10u
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define EFER_SVME (1ull << 12)

/* ---- string ---------------------------------------------------------- */

void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Parses a decimal or 0x-prefixed hex number; *end (if set) gets the first unparsed char. */
uint64_t bm_strtou64(const char *s, const char **end);

/* ---- serial console (COM1, polled 16550) ----------------------------- */

#define BM_COM1 0x3F8
void bm_serial_init(void);
void bm_serial_putc(char c);
void bm_serial_write(const char *s, size_t n);
/* Returns -1 when no byte is waiting. */
int bm_serial_getc(void);

/* ---- printf ---------------------------------------------------------- */
/*
 * Conversions: %c %s %d %i %u %x %X %p %%, length modifiers l ll z, flags
 * '-', '0' and '#', a field width (e.g. %016llx) and a precision for %s (%.16s).
 */
int bm_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int bm_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(__printf__, 3, 4)));
int bm_printf(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
int bm_vprintf(const char *fmt, va_list ap);
#define printf bm_printf
#define snprintf bm_snprintf

/* ---- exit, panic ----------------------------------------------------- */

/*
 * QEMU's isa-debug-exit device (-device isa-debug-exit,iobase=0xf4,iosize=4):
 * writing v to port 0xf4 exits QEMU with status (v << 1) | 1.
 */
#define BM_DEBUG_EXIT_PORT 0xF4
#define BM_EXIT_PASS 0x10 /* QEMU exit status 33 */
#define BM_EXIT_FAIL 0x11 /* QEMU exit status 35 */
void bm_debug_exit(uint32_t v);
/* bm_debug_exit(v), then halt forever (when no debug-exit device is present). */
__attribute__((noreturn)) void bm_exit(uint32_t v);
__attribute__((noreturn, format(__printf__, 1, 2))) void bm_panic(const char *fmt, ...);
#define BM_ASSERT(c)                                                                               \
	do {                                                                                       \
		if (!(c))                                                                          \
			bm_panic("assertion failed: %s at %s:%d\n", #c, __FILE__, __LINE__);       \
	} while (0)

/* ---- interrupts and exceptions --------------------------------------- */

/* The frame isr.S builds; handlers may change it (iretq restores it). */
struct bm_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};
typedef void (*bm_irq_handler)(struct bm_regs *regs);

/* Loads the IDT (done by bm_start before kmain). */
void bm_idt_init(void);
/*
 * Installs @fn for @vector (NULL restores the default, which prints the
 * vector, error code, RIP, CR2 and registers on the serial port and exits
 * with BM_EXIT_FAIL).
 */
void bm_set_handler(unsigned vector, bm_irq_handler fn);

/* ---- page allocator ---------------------------------------------------- */
/*
 * Hands out 4 KiB pages from one physical range [base, end). Freed single
 * pages are kept on a free list and reused. Pages come back zeroed.
 */
void bm_mem_init(uint64_t base, uint64_t end);
void *bm_page_alloc(void);
void bm_page_free(void *page);
/* @npages contiguous zeroed pages aligned to @align bytes (a power of two >= 4096). */
void *bm_pages_alloc(size_t npages, uint64_t align);
/* Pages still available from the range (not counting the free list). */
uint64_t bm_mem_free_bytes(void);

/* ---- several processors (smp.c, ap.S) ---------------------------------- */

/* Local APIC registers (xAPIC, at the base IA32_APIC_BASE gives). */
#define BM_APIC_TPR 0x80
#define BM_APIC_EOI 0xB0
#define BM_APIC_SVR 0xF0
#define BM_APIC_ISR 0x100
#define BM_APIC_ICR_LO 0x300
#define BM_APIC_ICR_HI 0x310
#define BM_APIC_SVR_ENABLE 0x100u
uint32_t bm_apic_read(unsigned reg);
void bm_apic_write(unsigned reg, uint32_t val);
/* An IPI: ICR high half the destination @apic_id, then @lo (mode, vector). */
void bm_apic_ipi(uint8_t apic_id, uint32_t lo);
/* This processor's initial APIC ID (CPUID 1, EBX bits 31:24). */
unsigned bm_apic_id(void);
/* The number of processors: QEMU's fw_cfg FW_CFG_NB_CPUS, else the enabled
 * processors of the firmware's MP table (Bochs), else 1. */
unsigned bm_cpu_count(void);
/*
 * Starts the processor @apic_id by INIT-SIPI-SIPI: it runs @entry (which
 * must not return) in long mode on boot.S's GDT and page tables, with
 * @stack_top, interrupts off and no IDT loaded (call bm_idt_init()). The
 * page at 0x8000 is overwritten. Waits until @entry sets *@up; false if
 * it did not within about a second. One processor at a time.
 */
bool bm_ap_start(uint8_t apic_id, void (*entry)(void), void *stack_top, volatile bool *up);

/* ---- multiboot information --------------------------------------------- */

/* The command line, or "" if the loader gave none. */
const char *bm_mb_cmdline(const struct mb_info *mbi);
/* Number of modules and module @i (NULL when out of range). */
uint32_t bm_mb_module_count(const struct mb_info *mbi);
const struct mb_module *bm_mb_module(const struct mb_info *mbi, uint32_t i);
/*
 * Iterates the memory map: call with *cursor = 0 first; returns false at
 * the end. Entries are copied out, so callers may overwrite the original.
 */
bool bm_mb_mmap_next(const struct mb_info *mbi, uint32_t *cursor, struct mb_mmap_entry *out);
/*
 * The first byte above everything the loader placed (this image, the
 * information structure, command lines, the memory map and modules),
 * page aligned: memory from there on is free if the memory map says so.
 */
uint64_t bm_mb_first_free(const struct mb_info *mbi);
/*
 * The available memory-map range that contains @addr: sets *end to its
 * end (exclusive) and returns true; false if @addr is not available RAM.
 */
bool bm_mb_available_end(const struct mb_info *mbi, uint64_t addr, uint64_t *end);
/* Prints the command line, memory map and modules. */
void bm_mb_dump(const struct mb_info *mbi);

/*
 * Convenience: bm_mem_init() over the available RAM from bm_mb_first_free()
 * up to the end of its memory-map range, at most @limit bytes (0: no limit).
 */
void bm_mem_init_from_mb(const struct mb_info *mbi, uint64_t limit);

#endif /* BM_H */
