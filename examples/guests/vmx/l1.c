/* SPDX-License-Identifier: MIT */
/*
 * A small Intel VMX hypervisor (L1) that runs tiny 64-bit L2 payloads and
 * checks, through VMREAD, what each L2 event produced. It uses no part of
 * libnest: booted directly on an emulator with VMX it shows that its checks
 * encode the hardware behaviour; booted as the L1 of libnest's bare-metal
 * stub it checks libnest's nested VMX against the same expectations.
 *
 * Output: one "check NAME: ok" or "check NAME: FAIL (details)" line per
 * check, then "e2e vmx: PASS (N checks, M L2 exits reflected)" or
 * "e2e vmx: FAIL (K of N checks failed)".
 */
#include "bochs.h"
#include "l1.h"
#include "l2.h"

struct l1 l1;
volatile unsigned l1_irqs;

#define CPUID_1_ECX_VMX (1u << 5)
#define MSR_IA32_APIC_BASE 0x1Bu
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_ADDR_MASK 0xFFFFFF000ull
#define APIC_TPR 0x080
#define APIC_EOI 0x0B0
#define APIC_SVR 0x0F0
#define APIC_SVR_ENABLE (1u << 8)
#define APIC_SPURIOUS_VECTOR 0xFF
#define APIC_ISR0 0x100
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_ICR_PENDING (1u << 12)
#define PIC1_DATA 0x21
#define PIC2_DATA 0xA1
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define SEL_TR 0x20 /* no such GDT entry is needed: VM exits load TR from the VMCS */
#define TSS64_LIMIT 0x67
#define IDT_GATE_INTR64 0x8E00ull
#define MB 0x100000ull
#define GB 0x40000000ull
#define L2_STACK_PAGES 4
#define VMCS_LINK_NONE (~0ull)
#define DR7_INIT 0x400

static uint8_t host_tss[128] __attribute__((aligned(16)));
static uint64_t apic_base;

/* ---- output ---- */

static void finish(void) __attribute__((noreturn));
static void finish(void)
{
	int rc;

	if (l1.failed == 0 && l1.checks > 0) {
		printf("e2e vmx: PASS (%u checks, %u L2 exits reflected)\n", l1.checks, l1.exits);
		rc = BM_EXIT_PASS;
	} else {
		printf("e2e vmx: FAIL (%u of %u checks failed)\n", l1.failed, l1.checks);
		rc = BM_EXIT_FAIL;
	}
	bm_serial_drain();
	/* QEMU's debug-exit port (or an L0 that intercepts it), then Bochs' power-off. */
	bm_debug_exit((uint32_t)rc);
	bm_bochs_shutdown();
}

static void fatal(const char *why)
{
	printf("check setup: FAIL (%s)\n", why);
	l1.checks++;
	l1.failed++;
	finish();
}

/* Any exception in L1 itself ends the run with a verdict rather than a hang. */
static void l1_exception(struct bm_regs *r)
{
	printf("L1 exception %llu, error %#llx at rip %#llx (cr2 %#llx)\n",
	       (unsigned long long)r->vector, (unsigned long long)r->error_code,
	       (unsigned long long)r->rip, (unsigned long long)read_cr2());
	fatal("unexpected exception in L1");
}

/* ---- VMCS access ---- */

void vmw(uint32_t field, uint64_t value)
{
	if (vmwrite_status(field, value) != VMX_OK) {
		printf("VMWRITE %#x <- %#llx failed (error %llu)\n", field,
		       (unsigned long long)value, (unsigned long long)vmr(VM_INSTRUCTION_ERROR));
		fatal("VMWRITE failed");
	}
}

uint64_t vmr(uint32_t field)
{
	uint64_t v;

	if (vmread_status(field, &v) != VMX_OK) {
		printf("VMREAD %#x failed\n", field);
		fatal("VMREAD failed");
	}
	return v;
}

static uint64_t ctl_msr(enum ctl_kind kind)
{
	return kind == CTL_PROC2 ? l1.proc2_msr : l1.ctl_msr[kind];
}

uint32_t ctl_adjust(enum ctl_kind kind, uint32_t want)
{
	uint64_t m = ctl_msr(kind);

	/* Bits 31:0: allowed 0-settings (1 = must be 1); bits 63:32: allowed 1-settings. */
	return (want | (uint32_t)m) & (uint32_t)(m >> 32);
}

bool ctl_allowed(enum ctl_kind kind, uint32_t bits)
{
	return ((uint32_t)(ctl_msr(kind) >> 32) & bits) == bits;
}

/* ---- VMX on ---- */

static void vmx_enable(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & CPUID_1_ECX_VMX))
		fatal("CPUID.1:ECX.VMX is clear: no VMX");

	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCK)) {
		fc |= FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMXON_OUTSIDE_SMX;
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc);
	} else if (!(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX)) {
		fatal("IA32_FEATURE_CONTROL is locked with VMXON disabled");
	}

	l1.basic = rdmsr(MSR_IA32_VMX_BASIC);
	l1.revision = (uint32_t)(l1.basic & VMX_BASIC_REVISION_MASK);
	l1.misc = rdmsr(MSR_IA32_VMX_MISC);
	bool true_ctls = (l1.basic & VMX_BASIC_TRUE_CTLS) != 0;
	l1.ctl_msr[CTL_PIN] =
	    rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	l1.ctl_msr[CTL_PROC] =
	    rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	l1.ctl_msr[CTL_EXIT] =
	    rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	l1.ctl_msr[CTL_ENTRY] =
	    rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	if (ctl_allowed(CTL_PROC, CPU_SECONDARY_CONTROLS)) {
		l1.proc2_msr = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
		if (ctl_allowed(CTL_PROC2, CPU2_ENABLE_EPT))
			l1.ept_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	}
	printf("vmx: basic %#llx misc %#llx ept/vpid %#llx\n", (unsigned long long)l1.basic,
	       (unsigned long long)l1.misc, (unsigned long long)l1.ept_cap);
	printf("vmx: pin %#llx proc %#llx proc2 %#llx exit %#llx entry %#llx\n",
	       (unsigned long long)l1.ctl_msr[CTL_PIN], (unsigned long long)l1.ctl_msr[CTL_PROC],
	       (unsigned long long)l1.proc2_msr, (unsigned long long)l1.ctl_msr[CTL_EXIT],
	       (unsigned long long)l1.ctl_msr[CTL_ENTRY]);

	/* CR0 and CR4 must respect the fixed bits of VMX operation (SDM 23.8). */
	uint64_t cr0 = read_cr0();
	cr0 |= rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	cr0 &= rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	write_cr0(cr0);
	uint64_t cr4 = read_cr4() | CR4_VMXE;
	cr4 |= rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	cr4 &= rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	write_cr4(cr4);
	l1.cr0 = cr0;
	l1.cr4 = cr4;
	l1.efer = rdmsr(MSR_EFER);

	l1.vmxon_region = bm_page_alloc();
	l1.vmxon_region[0] = l1.revision;
	if (vmxon(pa(l1.vmxon_region)) != VMX_OK)
		fatal("VMXON failed");
}

/* ---- memory L2 uses ---- */

static void ept_build(void)
{
	uint64_t *pdpt = bm_page_alloc();
	uint64_t *pd = bm_pages_alloc(4, BM_PAGE_SIZE);

	l1.ept_pml4 = bm_page_alloc();
	l1.ept_pml4[0] = pa(pdpt) | EPT_RWX;
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = pa(pd + 512 * i) | EPT_RWX;
	for (unsigned i = 0; i < 2048; i++)
		pd[i] = (uint64_t)i * 2 * MB | EPT_RWX | EPT_MT_WB | EPT_LARGE;

	l1.ept_window_pt = bm_page_alloc();
	for (unsigned i = 0; i < 512; i++)
		l1.ept_window_pt[i] = (pa(l1.ept_window) + i * BM_PAGE_SIZE) | EPT_RWX | EPT_MT_WB;
	l1.ept_window_pt[EPT_WIN_HOLE] = 0;
	l1.ept_window_pt[EPT_WIN_RO] &= ~EPT_W;
	l1.ept_window_pt[EPT_WIN_NX] &= ~EPT_X;
	pd[pa(l1.ept_window) / (2 * MB)] = pa(l1.ept_window_pt) | EPT_RWX;
}

static void l2_memory_build(void)
{
	extern uint64_t bm_boot_pml4[];

	l1.ept_window = bm_pages_alloc(512, 2 * MB);
	if (!l1.ept_window || pa(l1.ept_window) + 2 * MB > 4 * GB)
		fatal("no 2 MiB window below 4 GiB for the EPT checks");

	/* L2's page tables: L1's, plus PML4[1] -> a PDPT in the EPT hole. */
	l1.l2_pml4 = bm_page_alloc();
	memcpy(l1.l2_pml4, bm_boot_pml4, BM_PAGE_SIZE);
	l1.l2_pml4[1] = (pa(l1.ept_window) + EPT_WIN_HOLE * BM_PAGE_SIZE) | PTE_P | PTE_RW;

	/* L2's IDT: vector 14 to its #PF handler, the rest to a catch-all. */
	l1.l2_idt = bm_page_alloc();
	for (unsigned v = 0; v < 256; v++) {
		uint64_t h = pa(v == 14 ? l2_pf_handler : l2_bad_vector);
		l1.l2_idt[2 * v] = (h & 0xFFFF) | ((uint64_t)BM_SEL_CODE64 << 16) |
				   IDT_GATE_INTR64 << 32 | ((h >> 16) & 0xFFFF) << 48;
		l1.l2_idt[2 * v + 1] = h >> 32;
	}
	l1.l2_stack_top =
	    (uint8_t *)bm_pages_alloc(L2_STACK_PAGES, BM_PAGE_SIZE) + L2_STACK_PAGES * BM_PAGE_SIZE;

	l1.io_bitmap_a = bm_page_alloc();
	l1.io_bitmap_b = bm_page_alloc();
	l1.msr_bitmap = bm_page_alloc();
	l1.msr_area = bm_page_alloc();
	l1.vmcs = bm_page_alloc();
	l1.vmcs_other = bm_page_alloc();
	if (l1.ept_cap)
		ept_build();
}

void io_bitmap_set(uint16_t port, bool intercept)
{
	uint8_t *bm = port < 0x8000 ? l1.io_bitmap_a : l1.io_bitmap_b;
	unsigned bit = port & 0x7FFF;

	if (intercept)
		bm[bit / 8] |= (uint8_t)(1u << (bit % 8));
	else
		bm[bit / 8] &= (uint8_t) ~(1u << (bit % 8));
}

/* SDM 24.6.9: read low, read high, write low, write high; 1 KiB each. */
void msr_bitmap_set(uint32_t msr, bool read, bool write)
{
	unsigned base = msr >= 0xC0000000u ? 1024 : 0;
	unsigned bit = msr & 0x1FFF;
	uint8_t m = (uint8_t)(1u << (bit % 8));

	if (read)
		l1.msr_bitmap[base + bit / 8] |= m;
	else
		l1.msr_bitmap[base + bit / 8] &= (uint8_t)~m;
	if (write)
		l1.msr_bitmap[2048 + base + bit / 8] |= m;
	else
		l1.msr_bitmap[2048 + base + bit / 8] &= (uint8_t)~m;
}

/* ---- VMCS setup ---- */

struct dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static void guest_segment(uint32_t sel_field, uint16_t sel, uint32_t ar)
{
	/* Selector, limit, AR and base fields of ES..GS are laid out in parallel. */
	unsigned idx = (sel_field - GUEST_ES_SELECTOR) / 2;

	vmw(sel_field, sel);
	vmw(GUEST_ES_LIMIT + 2 * idx, 0xFFFFFFFF);
	vmw(GUEST_ES_AR_BYTES + 2 * idx, ar);
	vmw(GUEST_ES_BASE + 2 * idx, 0);
}

void l2_prepare(const struct l1_mode *mode, const void *entry)
{
	l1.launched = false;
	memset(&l1.regs, 0, sizeof(l1.regs));
	memset(l1.io_bitmap_a, 0, BM_PAGE_SIZE);
	memset(l1.io_bitmap_b, 0, BM_PAGE_SIZE);
	memset(l1.msr_bitmap, 0, BM_PAGE_SIZE);
	vmcs_prepare(l1.vmcs, mode, entry);
}

void vmcs_prepare(uint64_t *vmcs, const struct l1_mode *mode, const void *entry)
{
	struct dtr gdtr, idtr;

	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	__asm__ volatile("sidt %0" : "=m"(idtr));

	if (vmclear(pa(vmcs)) != VMX_OK)
		fatal("VMCLEAR failed");
	vmcs[0] = l1.revision;
	if (vmptrld(pa(vmcs)) != VMX_OK)
		fatal("VMPTRLD failed");

	/* Controls (SDM 24.6-24.8). */
	vmw(PIN_BASED_VM_EXEC_CONTROL, ctl_adjust(CTL_PIN, 0));
	uint32_t proc = CPU_HLT_EXITING | CPU_UNCOND_IO_EXITING;
	if (mode->ept)
		proc |= CPU_SECONDARY_CONTROLS;
	vmw(CPU_BASED_VM_EXEC_CONTROL, ctl_adjust(CTL_PROC, proc));
	if (mode->ept) {
		vmw(SECONDARY_VM_EXEC_CONTROL, ctl_adjust(CTL_PROC2, CPU2_ENABLE_EPT));
		vmw(EPT_POINTER, pa(l1.ept_pml4) | EPTP_MT_WB | EPTP_WALK_4);
	}
	vmw(EXCEPTION_BITMAP, 0xFFFFFFFF);
	vmw(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmw(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmw(IO_BITMAP_A, pa(l1.io_bitmap_a));
	vmw(IO_BITMAP_B, pa(l1.io_bitmap_b));
	vmw(MSR_BITMAP, pa(l1.msr_bitmap));
	vmw(CR3_TARGET_COUNT, 0);
	vmw(CR0_GUEST_HOST_MASK, 0);
	vmw(CR0_READ_SHADOW, l1.cr0);
	vmw(CR4_GUEST_HOST_MASK, CR4_VMXE);
	vmw(CR4_READ_SHADOW, l1.cr4 & ~CR4_VMXE);
	vmw(VM_EXIT_CONTROLS, ctl_adjust(CTL_EXIT, EXIT_HOST_ADDR_SPACE_SIZE | EXIT_SAVE_IA32_EFER |
						       EXIT_LOAD_IA32_EFER));
	vmw(VM_EXIT_MSR_STORE_COUNT, 0);
	vmw(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmw(VM_ENTRY_CONTROLS,
	    ctl_adjust(CTL_ENTRY, ENTRY_IA32E_MODE_GUEST | ENTRY_LOAD_IA32_EFER));
	vmw(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmw(VM_ENTRY_MSR_LOAD_ADDR, pa(l1.msr_area));
	vmw(VM_ENTRY_INTR_INFO, 0);
	vmw(VM_ENTRY_EXCEPTION_ERROR_CODE, 0);
	vmw(VM_ENTRY_INSTRUCTION_LEN, 0);

	/* Host state (SDM 24.5): L1 as it runs now, continuing at bm_vmx_exit_entry. */
	vmw(HOST_CR0, read_cr0());
	vmw(HOST_CR3, read_cr3());
	vmw(HOST_CR4, read_cr4());
	vmw(HOST_CS_SELECTOR, BM_SEL_CODE64);
	vmw(HOST_SS_SELECTOR, BM_SEL_DATA);
	vmw(HOST_DS_SELECTOR, BM_SEL_DATA);
	vmw(HOST_ES_SELECTOR, BM_SEL_DATA);
	vmw(HOST_FS_SELECTOR, 0);
	vmw(HOST_GS_SELECTOR, 0);
	vmw(HOST_TR_SELECTOR, SEL_TR);
	vmw(HOST_FS_BASE, 0);
	vmw(HOST_GS_BASE, 0);
	vmw(HOST_TR_BASE, pa(host_tss));
	vmw(HOST_GDTR_BASE, gdtr.base);
	vmw(HOST_IDTR_BASE, idtr.base);
	vmw(HOST_IA32_SYSENTER_CS, 0);
	vmw(HOST_IA32_SYSENTER_ESP, 0);
	vmw(HOST_IA32_SYSENTER_EIP, 0);
	vmw(HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmw(HOST_RIP, pa(bm_vmx_exit_entry));
	vmw(HOST_RSP, 0); /* vmx_run writes the real value */

	/* Guest state (SDM 24.4): 64-bit, CPL 0, flat segments, L1's GDT. */
	vmw(GUEST_CR0, l1.cr0);
	vmw(GUEST_CR3, pa(l1.l2_pml4));
	vmw(GUEST_CR4, l1.cr4);
	vmw(GUEST_DR7, DR7_INIT);
	vmw(GUEST_RSP, pa(l1.l2_stack_top));
	vmw(GUEST_RIP, pa(entry));
	vmw(GUEST_RFLAGS, RFLAGS_RESERVED1);
	guest_segment(GUEST_ES_SELECTOR, BM_SEL_DATA, AR_DATA);
	guest_segment(GUEST_CS_SELECTOR, BM_SEL_CODE64, AR_CODE64);
	guest_segment(GUEST_SS_SELECTOR, BM_SEL_DATA, AR_DATA);
	guest_segment(GUEST_DS_SELECTOR, BM_SEL_DATA, AR_DATA);
	guest_segment(GUEST_FS_SELECTOR, BM_SEL_DATA, AR_DATA);
	guest_segment(GUEST_GS_SELECTOR, BM_SEL_DATA, AR_DATA);
	vmw(GUEST_LDTR_SELECTOR, 0);
	vmw(GUEST_LDTR_LIMIT, 0);
	vmw(GUEST_LDTR_AR_BYTES, AR_UNUSABLE);
	vmw(GUEST_LDTR_BASE, 0);
	vmw(GUEST_TR_SELECTOR, SEL_TR);
	vmw(GUEST_TR_LIMIT, TSS64_LIMIT);
	vmw(GUEST_TR_AR_BYTES, AR_TSS64_BUSY);
	vmw(GUEST_TR_BASE, pa(host_tss));
	vmw(GUEST_GDTR_BASE, gdtr.base);
	vmw(GUEST_GDTR_LIMIT, gdtr.limit);
	vmw(GUEST_IDTR_BASE, pa(l1.l2_idt));
	vmw(GUEST_IDTR_LIMIT, 256 * 16 - 1);
	vmw(GUEST_IA32_DEBUGCTL, 0);
	vmw(GUEST_IA32_EFER, l1.efer);
	vmw(GUEST_SYSENTER_CS, 0);
	vmw(GUEST_SYSENTER_ESP, 0);
	vmw(GUEST_SYSENTER_EIP, 0);
	vmw(VMCS_LINK_POINTER, VMCS_LINK_NONE);
	vmw(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmw(GUEST_ACTIVITY_STATE, 0);
	vmw(GUEST_PENDING_DBG_EXCEPTIONS, 0);
}

int l2_run(void)
{
	int status = vmx_run(&l1.regs, l1.launched);

	memset(&l1.exit, 0, sizeof(l1.exit));
	if (status != 0)
		return status;
	struct l2_exit *e = &l1.exit;
	e->reason = (uint32_t)vmr(VM_EXIT_REASON);
	e->qual = vmr(EXIT_QUALIFICATION);
	if (e->reason & EXIT_REASON_ENTRY_FAILURE)
		return 0;
	l1.launched = true;
	l1.exits++;
	e->intr_info = (uint32_t)vmr(VM_EXIT_INTR_INFO);
	e->intr_error = (uint32_t)vmr(VM_EXIT_INTR_ERROR_CODE);
	e->idt_vectoring = (uint32_t)vmr(IDT_VECTORING_INFO);
	e->insn_len = (uint32_t)vmr(VM_EXIT_INSTRUCTION_LEN);
	e->insn_info = (uint32_t)vmr(VMX_INSTRUCTION_INFO);
	e->rip = vmr(GUEST_RIP);
	e->gla = vmr(GUEST_LINEAR_ADDRESS);
	if (l1.ept_cap)
		e->gpa = vmr(GUEST_PHYSICAL_ADDRESS);
	return 0;
}

int l2_skip_and_run(void)
{
	vmw(GUEST_RIP, l1.exit.rip + l1.exit.insn_len);
	return l2_run();
}

/* ---- local APIC (xAPIC, memory-mapped and identity-mapped by boot.S) ---- */

static volatile uint32_t *apic_reg(unsigned off)
{
	return (volatile uint32_t *)(uintptr_t)(apic_base + off);
}

void apic_self_ipi(uint8_t vector)
{
	*apic_reg(APIC_ICR_HI) = 0;
	*apic_reg(APIC_ICR_LO) = APIC_ICR_SELF | vector;
	for (unsigned i = 0; i < 100000 && (*apic_reg(APIC_ICR_LO) & APIC_ICR_PENDING); i++)
		pause();
}

uint64_t apic_base_address(void)
{
	return apic_base;
}

void apic_eoi(void)
{
	*apic_reg(APIC_EOI) = 0;
}

bool apic_isr_set(uint8_t vector)
{
	return (*apic_reg(APIC_ISR0 + 0x10 * (vector / 32)) >> (vector % 32)) & 1;
}

static void l1_irq(struct bm_regs *r)
{
	(void)r;
	l1_irqs++;
	apic_eoi();
}

static void apic_init(void)
{
	/* The legacy PICs stay masked: only the self-IPIs of the checks interrupt. */
	outb(PIC1_DATA, 0xFF);
	outb(PIC2_DATA, 0xFF);
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_ENABLE);
	apic_base = base & APIC_BASE_ADDR_MASK;
	*apic_reg(APIC_SVR) = APIC_SVR_ENABLE | APIC_SPURIOUS_VECTOR;
	*apic_reg(APIC_TPR) = 0;
	bm_set_handler(L1_IRQ_VECTOR, l1_irq);
}

/* Whether @word is one of the space-separated words of @s. */
static bool has_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = s; *p; p++)
		if ((p == s || p[-1] == ' ') && !strncmp(p, word, n) && (!p[n] || p[n] == ' '))
			return true;
	return false;
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
	static const struct l1_mode modes[] = {
	    {.name = "", .ept = false},
	    {.name = "/ept", .ept = true},
	};

	(void)magic;
	printf("l1-vmx: cmdline \"%s\"\n", bm_mb_cmdline(mbi));
	for (unsigned v = 0; v < 32; v++)
		bm_set_handler(v, l1_exception);
	bm_mem_init_from_mb(mbi, 0);
	apic_init();
	vmx_enable();
	l2_memory_build();

	for (unsigned i = 0; i < BM_ARRAY_SIZE(modes); i++) {
		const struct l1_mode *m = &modes[i];
		if (m->ept && !l1.ept_cap) {
			printf("check ept: FAIL (the CPU reports no EPT)\n");
			l1.checks++;
			l1.failed++;
			continue;
		}
		checks_exits(m);
		checks_events(m);
		if (m->ept)
			checks_ept(m);
		checks_round_trips(m);
	}
	checks_vmfail();
	checks_smp(has_word(bm_mb_cmdline(mbi), "shared-ept"));
	finish();
}
