/* SPDX-License-Identifier: MIT */
/*
 * Checks with two vCPUs (run only when the machine has more than one
 * processor, bm_cpu_count(): fw_cfg, else the firmware's MP table): L1
 * starts its AP by INIT-SIPI-SIPI (bm_ap_start()), the AP enters VMX
 * operation with its own VMXON region and VMCS, and each vCPU runs an L2
 * of its own, both on one EPT that L1 builds, smp_ept (identity, 2 MiB
 * pages, 4 KiB pages around smp_page):
 *
 *  - smp-ap-start: the AP runs L1's code and its VMXON succeeds.
 *  - smp-l2-both: both L2s run at once; the BSP's L2 sees the AP's L2
 *    count while both are in VMX non-root operation.
 *  - smp-invept: the AP's L2 writes smp_page in a loop; L1 on the BSP
 *    makes the page read-only in smp_ept and executes INVEPT (single
 *    context if the CPU has it, else all contexts). The AP's L2 must stop
 *    with an EPT violation on that page. INVEPT invalidates mappings of
 *    the executing processor only (SDM Vol. 3C 29.4.3.1 and INVEPT in
 *    chapter 31): L1 would send its own IPI for the AP to INVEPT too.
 *    Under the bare-metal stub libnest's EPT02 is one shadow for both
 *    vCPUs and L1's INVEPT reaches the other processor (flush_vcpus,
 *    docs/porting.md, "Several vCPUs"): that is what this checks. It runs
 *    only with "shared-ept" on L1's command line (the stub's SMP run gives
 *    it; directly on Bochs the AP's TLB may keep the entry).
 *  - smp-ipi: the AP's L2 spins with external-interrupt exiting (and
 *    RFLAGS.IF set: Bochs 2.7 does not exit for an interrupt while L2's IF
 *    is clear, see note_extint_if0() in checks.c); L1 on the BSP sends a
 *    fixed IPI to the AP: an external-interrupt VM exit on the AP without
 *    "acknowledge interrupt on exit", so no vector in the exit's
 *    interruption information (SDM 27.2.2), and the AP's L1 then takes the
 *    vector itself once it sets IF.
 */
#include "l1.h"
#include "l2.h"

#define PAGE 4096
#define ALIGNED_PAGE __attribute__((aligned(PAGE)))
#define SIZE_2M 0x200000ull
#define AP_APIC_ID 1
#define AP_STACK_PAGES 4
#define L2_STACK_PAGES 2
#define IPI_VECTOR 0xE0
#define SPURIOUS_VECTOR 0xFF
#define ICR_FIXED_ASSERT 0x4000u
#define WAIT_CYCLES 2000000000ull /* the longest a check waits for the other vCPU */
#define L2_SEEN_STEPS 1000ull	  /* the BSP's L2 waits for this much progress of the AP's */
#define IRQ_WINDOW_STEPS 1000	  /* how long the AP's L1 keeps IF set for the IPI */
#define EPTQ_ACCESS_MASK                                                                           \
	(EPTQ_READ | EPTQ_WRITE | EPTQ_FETCH | EPTQ_READABLE | EPTQ_WRITABLE | EPTQ_EXECUTABLE)

enum ap_cmd { AP_IDLE, AP_RUN_COUNT, AP_RUN_WRITE, AP_RUN_INTR };

static uint64_t ap_vmxon_region[PAGE / 8] ALIGNED_PAGE;
static uint64_t ap_vmcs[PAGE / 8] ALIGNED_PAGE;
static uint64_t smp_ept_pml4[512] ALIGNED_PAGE;
static uint64_t smp_ept_pdpt[512] ALIGNED_PAGE;
static uint64_t smp_ept_pd[4 * 512] ALIGNED_PAGE;
static uint64_t smp_ept_pt[512] ALIGNED_PAGE;
static uint8_t smp_page[PAGE] ALIGNED_PAGE; /* the page the AP's L2 writes */
static uint8_t ap_stack[AP_STACK_PAGES * PAGE] ALIGNED_PAGE;
static uint8_t ap_l2_stack[L2_STACK_PAGES * PAGE] ALIGNED_PAGE;
static uint8_t bsp_l2_stack[L2_STACK_PAGES * PAGE] ALIGNED_PAGE;

/* How both vCPUs run their L2s: on smp_ept when the CPU has EPT. */
static struct l1_mode smp_mode = {.name = "", .ept = false};

/* What the two vCPUs (and their L2s) share. */
static struct {
	volatile bool up;	     /* the AP runs L1's code */
	volatile int vmxon;	     /* the AP's VMXON: enum vmx_status */
	volatile uint32_t cmd;	     /* enum ap_cmd, set by the BSP */
	const void *volatile entry;  /* where the AP's L2 starts */
	volatile uint32_t done;	     /* commands the AP finished (after its L2's exit) */
	volatile uint64_t ap_count;  /* the AP's L2 counts */
	volatile uint64_t stop;	     /* the AP's L2 leaves (VMCALL) */
	volatile uint64_t bsp_saw;   /* the AP's progress the BSP's L2 saw */
	volatile int status;	     /* the AP's last VM entry: 0, or VMfail */
	volatile uint32_t reason;    /* the AP's last exit: reason, qualification ... */
	volatile uint64_t qual, gpa; /* ... and guest-physical address */
	volatile uint32_t intr_info;
	volatile uint32_t ipi_taken; /* vectors the AP's L1 took */
	volatile uint32_t exits;     /* the AP's L2 exits */
} box;

static struct l2_regs ap_regs;

static void vmcall(void)
{
	__asm__ volatile("vmcall" ::: "memory");
}

/* ---- L2 code (runs in L2 on L1's identity map, its own stack) ---- */

static void l2_count(void)
{
	while (!box.stop)
		box.ap_count++;
	vmcall();
	for (;;)
		;
}

static void l2_watch(void)
{
	uint64_t start = box.ap_count, t0 = rdtsc();

	while (box.ap_count - start < L2_SEEN_STEPS && rdtsc() - t0 < WAIT_CYCLES)
		pause();
	box.bsp_saw = box.ap_count - start;
	vmcall();
	for (;;)
		;
}

static void l2_write(void)
{
	volatile uint64_t *p = (volatile uint64_t *)smp_page;

	while (!box.stop) {
		*p = box.ap_count;
		box.ap_count++;
	}
	vmcall();
	for (;;)
		;
}

/* ---- set-up ---- */

static uint64_t smp_eptp(void)
{
	return pa(smp_ept_pml4) | EPTP_MT_WB | EPTP_WALK_4;
}

static unsigned smp_page_index(void)
{
	return (unsigned)((pa(smp_page) % SIZE_2M) / PAGE);
}

/* smp_ept: [0, 4 GiB) identity and RWX, 4 KiB pages in smp_page's 2 MiB. */
static void build_smp_ept(void)
{
	uint64_t pt_base = pa(smp_page) & ~(SIZE_2M - 1);

	smp_ept_pml4[0] = pa(smp_ept_pdpt) | EPT_RWX;
	for (unsigned i = 0; i < 4; i++)
		smp_ept_pdpt[i] = pa(smp_ept_pd + 512 * i) | EPT_RWX;
	for (uint64_t i = 0; i < 4 * 512; i++)
		smp_ept_pd[i] = i * SIZE_2M == pt_base
				    ? pa(smp_ept_pt) | EPT_RWX
				    : i * SIZE_2M | EPT_RWX | EPT_MT_WB | EPT_LARGE;
	for (uint64_t i = 0; i < 512; i++)
		smp_ept_pt[i] = (pt_base + i * PAGE) | EPT_RWX | EPT_MT_WB;
}

/* The current VMCS (prepared by l2_prepare() or vmcs_prepare()) on
 * smp_ept, with its L2 on its own stack. */
static void smp_vmcs(uint8_t *stack, size_t stack_size)
{
	if (smp_mode.ept)
		vmw(EPT_POINTER, smp_eptp());
	vmw(GUEST_RSP, pa(stack + stack_size) - 8); /* as after a CALL */
}

static void take_ipi(struct bm_regs *r)
{
	(void)r;
	__atomic_fetch_add(&box.ipi_taken, 1, __ATOMIC_SEQ_CST);
	bm_apic_write(BM_APIC_EOI, 0);
}

static void take_spurious(struct bm_regs *r)
{
	(void)r;
}

/* VMX operation on the AP: the BSP's CR0 and CR4 (VMX's fixed bits, CR4.VMXE
 * included, vmx_enable() in l1.c), IA32_FEATURE_CONTROL as there, VMXON. */
static int ap_vmx_on(void)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	if (!(fc & FEATURE_CONTROL_LOCK))
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMXON_OUTSIDE_SMX);
	else if (!(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX))
		return VMX_FAIL_INVALID;
	write_cr0(l1.cr0);
	write_cr4(l1.cr4);
	ap_vmxon_region[0] = l1.revision;
	return vmxon(pa(ap_vmxon_region));
}

/* One L2 run on the AP for @cmd; its exit goes to box. */
static void ap_run(uint32_t cmd)
{
	uint32_t taken = box.ipi_taken;

	vmcs_prepare(ap_vmcs, &smp_mode, box.entry);
	smp_vmcs(ap_l2_stack, sizeof(ap_l2_stack));
	if (cmd == AP_RUN_INTR) {
		vmw(PIN_BASED_VM_EXEC_CONTROL, ctl_adjust(CTL_PIN, PIN_EXT_INTR_EXITING));
		vmw(GUEST_RFLAGS, RFLAGS_RESERVED1 | RFLAGS_IF);
	}
	memset(&ap_regs, 0, sizeof(ap_regs));
	box.status = vmx_run(&ap_regs, 0);
	if (box.status == 0) {
		box.reason = (uint32_t)vmr(VM_EXIT_REASON);
		box.qual = vmr(EXIT_QUALIFICATION);
		box.intr_info = (uint32_t)vmr(VM_EXIT_INTR_INFO);
		box.gpa = smp_mode.ept ? vmr(GUEST_PHYSICAL_ADDRESS) : 0;
		if (!(box.reason & EXIT_REASON_ENTRY_FAILURE))
			box.exits++;
	}
	if (cmd == AP_RUN_INTR) {
		/* The interrupt stayed pending in the AP's APIC: L1's now. */
		sti();
		for (unsigned i = 0; i < IRQ_WINDOW_STEPS && box.ipi_taken == taken; i++)
			pause();
		cli();
	}
}

/* L1 on the AP: VMX on, then the BSP's commands, one L2 run each. */
static void ap_main(void)
{
	bm_idt_init(); /* the BSP's IDT, loaded here too */
	bm_apic_write(BM_APIC_SVR, BM_APIC_SVR_ENABLE | SPURIOUS_VECTOR);
	box.vmxon = ap_vmx_on();
	box.up = true;
	for (;;) {
		uint32_t cmd;
		while ((cmd = box.cmd) == AP_IDLE)
			pause();
		if (box.vmxon == VMX_OK)
			ap_run(cmd);
		box.cmd = AP_IDLE;
		__atomic_fetch_add(&box.done, 1, __ATOMIC_SEQ_CST);
	}
}

/* Gives the AP @cmd (its L2 at @entry) and waits until its L2 counts. */
static bool ap_start_l2(uint32_t cmd, const void *entry)
{
	uint64_t t0 = rdtsc(), start;

	box.stop = 0;
	box.entry = entry;
	start = box.ap_count;
	__atomic_store_n(&box.cmd, cmd, __ATOMIC_SEQ_CST);
	while (box.ap_count - start < L2_SEEN_STEPS)
		if (rdtsc() - t0 > WAIT_CYCLES)
			return false;
	return true;
}

/* Waits until the AP has finished its command (after its L2's exit). */
static bool ap_wait(uint32_t done_before)
{
	uint64_t t0 = rdtsc();

	while (box.done == done_before)
		if (rdtsc() - t0 > WAIT_CYCLES)
			return false;
	return true;
}

/* Stops the AP's L2 if a check left it running (it leaves by VMCALL). */
static void ap_stop(uint32_t done_before)
{
	box.stop = 1;
	ap_wait(done_before);
}

/* What the AP's last run gave, for a failure message. */
static void ap_fail(struct check *c, const char *what)
{
	check_fail(c, "%s (AP: %u commands done, entry status %d, last exit reason %#x)", what,
		   box.done, box.status, box.reason);
}

static bool expect_ap_exit(struct check *c, uint32_t reason)
{
	if (box.status != 0) {
		ap_fail(c, "the AP's VM entry failed");
		return false;
	}
	return expect(c, "AP L2 exit reason", box.reason, reason);
}

static void check_both(void)
{
	struct check c;
	uint32_t done = box.done;

	check_begin(&c, "smp-l2-both", NULL);
	if (!ap_start_l2(AP_RUN_COUNT, l2_count)) {
		ap_fail(&c, "the AP's L2 did not run");
	} else {
		box.bsp_saw = 0;
		l2_prepare(&smp_mode, l2_watch);
		smp_vmcs(bsp_l2_stack, sizeof(bsp_l2_stack));
		expect_exit(&c, l2_run(), EXIT_REASON_VMCALL);
		expect(&c, "AP L2 progress seen from the BSP's L2", box.bsp_saw >= L2_SEEN_STEPS,
		       1);
		box.stop = 1;
		if (!ap_wait(done))
			ap_fail(&c, "the AP's L2 did not stop");
		else
			expect_ap_exit(&c, EXIT_REASON_VMCALL);
	}
	ap_stop(done);
	check_end(&c);
}

static void check_invept(void)
{
	struct check c;
	uint32_t done = box.done;
	unsigned idx = smp_page_index();
	bool single = (l1.ept_cap & EPT_CAP_INVEPT_SINGLE) != 0;
	uint64_t type = single ? INVEPT_SINGLE_CONTEXT : INVEPT_ALL_CONTEXT;

	check_begin(&c, "smp-invept", NULL);
	if (!smp_mode.ept) {
		check_fail(&c, "the CPU reports no EPT");
		check_end(&c);
		return;
	}
	if (!(l1.ept_cap & EPT_CAP_INVEPT) ||
	    !(l1.ept_cap & (EPT_CAP_INVEPT_SINGLE | EPT_CAP_INVEPT_ALL))) {
		check_fail(&c, "the CPU reports no INVEPT (EPT/VPID capabilities %#llx)",
			   (unsigned long long)l1.ept_cap);
		check_end(&c);
		return;
	}
	if (!ap_start_l2(AP_RUN_WRITE, l2_write)) {
		ap_fail(&c, "the AP's L2 did not run");
	} else {
		/* Read-only in EPT12, then INVEPT on this processor only. */
		__atomic_and_fetch(&smp_ept_pt[idx], ~EPT_W, __ATOMIC_SEQ_CST);
		expect(&c, single ? "INVEPT single-context" : "INVEPT all-context",
		       invept(type, smp_eptp()), VMX_OK);
		if (!ap_wait(done)) {
			ap_fail(&c, "the AP's L2 kept writing the page");
		} else if (expect_ap_exit(&c, EXIT_REASON_EPT_VIOLATION)) {
			expect(&c, "AP EPT violation address", box.gpa, pa(smp_page));
			expect(&c, "AP EPT violation access", box.qual & EPTQ_ACCESS_MASK,
			       EPTQ_WRITE | EPTQ_READABLE | EPTQ_EXECUTABLE);
		}
	}
	ap_stop(done);
	__atomic_or_fetch(&smp_ept_pt[idx], EPT_W, __ATOMIC_SEQ_CST);
	if (invept(type, smp_eptp()) != VMX_OK)
		check_fail(&c, "INVEPT after the page became writable again failed");
	check_end(&c);
}

static void check_ipi(void)
{
	struct check c;
	uint32_t done = box.done, taken = box.ipi_taken;

	check_begin(&c, "smp-ipi", NULL);
	if (!ap_start_l2(AP_RUN_INTR, l2_count)) {
		ap_fail(&c, "the AP's L2 did not run");
	} else {
		bm_apic_ipi(AP_APIC_ID, ICR_FIXED_ASSERT | IPI_VECTOR);
		if (!ap_wait(done)) {
			ap_fail(&c, "no exit of the AP's L2 after the IPI");
		} else if (expect_ap_exit(&c, EXIT_REASON_EXTERNAL_INTERRUPT)) {
			expect(&c, "AP interruption info valid",
			       !!(box.intr_info & INTR_INFO_VALID), 0);
			expect(&c, "vectors the AP's L1 took", box.ipi_taken - taken, 1);
		}
	}
	ap_stop(done);
	check_end(&c);
}

void checks_smp(bool shared_ept)
{
	struct check c;
	unsigned n = bm_cpu_count();

	if (n < 2) {
		printf("l1-vmx: one processor: no SMP checks\n");
		return;
	}
	printf("l1-vmx: %u processors: SMP checks with the AP at APIC ID %u\n", n, AP_APIC_ID);
	smp_mode.ept = l1.ept_cap != 0;
	build_smp_ept();
	bm_set_handler(IPI_VECTOR, take_ipi);
	bm_set_handler(SPURIOUS_VECTOR, take_spurious);
	check_begin(&c, "smp-ap-start", NULL);
	if (!bm_ap_start(AP_APIC_ID, ap_main, ap_stack + sizeof(ap_stack), &box.up))
		check_fail(&c, "the AP (APIC ID %u) did not start", AP_APIC_ID);
	else
		expect(&c, "the AP's VMXON", (uint64_t)box.vmxon, VMX_OK);
	check_end(&c);
	if (c.failed)
		return;
	check_both();
	if (shared_ept)
		check_invept();
	else
		printf("l1-vmx: smp-invept not run (L1's command line has no \"shared-ept\")\n");
	check_ipi();
	l1.exits += box.exits;
}
