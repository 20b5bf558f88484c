/* SPDX-License-Identifier: MIT */
/* The IDT: 256 interrupt gates to isr.S's stubs, with replaceable handlers. */
#include "bm.h"

#define IDT_GATE_INTERRUPT 0x8E /* present, DPL 0, 64-bit interrupt gate (APM 4.8.3) */
#define ISR_STUB_SIZE 16
#define VEC_PF 14

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate size");

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern char bm_isr_stubs[];
static struct idt_gate idt[256] __attribute__((aligned(16)));
static bm_irq_handler handlers[256];

static const char *const exc_names[32] = {
    "#DE",  "#DB",  "NMI",  "#BP",  "#OF",  "#BR",  "#UD", "#NM", "#DF", "#MF(9)", "#TS",
    "#NP",  "#SS",  "#GP",  "#PF",  "(15)", "#MF",  "#AC", "#MC", "#XM", "#VE",	   "#CP",
    "(22)", "(23)", "(24)", "(25)", "(26)", "(27)", "#HV", "#VC", "#SX", "(31)",
};

void bm_idt_init(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = (uint64_t)(uintptr_t)bm_isr_stubs + (uint64_t)v * ISR_STUB_SIZE;
		idt[v] = (struct idt_gate){
		    .off_lo = (uint16_t)a,
		    .sel = BM_SEL_CODE64,
		    .type = IDT_GATE_INTERRUPT,
		    .off_mid = (uint16_t)(a >> 16),
		    .off_hi = (uint32_t)(a >> 32),
		};
	}
	struct idt_ptr p = {.limit = sizeof(idt) - 1, .base = (uint64_t)(uintptr_t)idt};
	__asm__ volatile("lidt %0" ::"m"(p));
}

void bm_set_handler(unsigned vector, bm_irq_handler fn)
{
	if (vector < 256)
		handlers[vector] = fn;
}

static void default_handler(struct bm_regs *r)
{
	const char *name = r->vector < 32 ? exc_names[r->vector] : "interrupt";

	bm_printf("\nEXCEPTION %s vector=%llu error=%#llx rip=%#llx cs=%#llx rflags=%#llx\n", name,
		  (unsigned long long)r->vector, (unsigned long long)r->error_code,
		  (unsigned long long)r->rip, (unsigned long long)r->cs,
		  (unsigned long long)r->rflags);
	if (r->vector == VEC_PF)
		bm_printf("  cr2=%#llx\n", (unsigned long long)read_cr2());
	bm_printf("  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
		  "  rsi=%016llx rdi=%016llx rbp=%016llx rsp=%016llx\n"
		  "  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n"
		  "  r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n",
		  (unsigned long long)r->rax, (unsigned long long)r->rbx,
		  (unsigned long long)r->rcx, (unsigned long long)r->rdx,
		  (unsigned long long)r->rsi, (unsigned long long)r->rdi,
		  (unsigned long long)r->rbp, (unsigned long long)r->rsp, (unsigned long long)r->r8,
		  (unsigned long long)r->r9, (unsigned long long)r->r10, (unsigned long long)r->r11,
		  (unsigned long long)r->r12, (unsigned long long)r->r13,
		  (unsigned long long)r->r14, (unsigned long long)r->r15);
	bm_exit(BM_EXIT_FAIL);
}

void bm_interrupt(struct bm_regs *r);

void bm_interrupt(struct bm_regs *r)
{
	bm_irq_handler fn = handlers[r->vector & 0xFF];

	if (fn)
		fn(r);
	else
		default_handler(r);
}
