/* SPDX-License-Identifier: MIT */
/*
 * Checks with two vCPUs (run only when the machine has more than one
 * processor): L1 starts its AP by INIT-SIPI-SIPI (bm_ap_start()), the AP
 * enables SVM with its own host save area and VMCB, and each vCPU runs an
 * L2 of its own on one nested page table, smp_npt:
 *
 *  - smp-l2-both: both L2s run at once; the BSP's L2 sees the AP's L2
 *    count while both are in guest mode.
 *  - smp-revoke: the AP's L2 writes a page in a loop; L1 on the BSP makes
 *    the page read-only in smp_npt and runs its own L2 with a TLB_CONTROL
 *    flush. The AP's L2 must stop with #VMEXIT(NPF) on that page. The
 *    architecture asks the flush only of the BSP (L1 would send its own
 *    IPI); under the bare-metal stub libnest's NPT02 is one for both
 *    vCPUs, so the entry the BSP's flush drops is gone for the AP too
 *    (docs/porting.md, "Several vCPUs"): that is what this checks. It
 *    runs only with "shared-npt" on L1's command line (the stub's SMP
 *    run gives it; directly on QEMU the AP's TLB may keep the entry).
 *  - smp-ipi: the AP's L2 spins with INTR intercepted; L1 on the BSP sends
 *    a fixed IPI to the AP: #VMEXIT(INTR) on the AP, whose L1 then takes
 *    the vector itself once it sets IF (APM 15.21.1).
 */
#include "l1.h"
#include "l2.h"

#define PAGE 4096
#define ALIGNED_PAGE __attribute__((aligned(PAGE)))
#define SIZE_2M 0x200000ull
#define AP_STACK_PAGES 4
#define SMP_ASID 2
#define SMP_PT_GPA 0x01400000ull /* smp_npt maps this 2 MiB range with 4 KiB pages */
#define SMP_PAGE_INDEX 3
#define SMP_PAGE_GPA (SMP_PT_GPA + SMP_PAGE_INDEX * PAGE)
#define IPI_VECTOR 0xE0
#define SPURIOUS_VECTOR 0xFF
#define ICR_FIXED_ASSERT 0x4000u
#define WAIT_CYCLES 3000000000ull /* the longest a check waits for the other vCPU */
#define L2_SEEN_STEPS 1000ull	  /* the BSP's L2 waits for this much progress of the AP's */
#define NPF_INFO_WRITE (1ull << 1)

enum ap_cmd { AP_IDLE, AP_RUN_COUNT, AP_RUN_WRITE, AP_RUN_INTR };

static struct vmcb ap_vmcb ALIGNED_PAGE;
static struct vmcb bsp_vmcb ALIGNED_PAGE;
static uint8_t ap_host_save[PAGE] ALIGNED_PAGE;
static uint64_t smp_npt_pml4[512] ALIGNED_PAGE;
static uint64_t smp_npt_pdpt[512] ALIGNED_PAGE;
static uint64_t smp_npt_pd[512] ALIGNED_PAGE;
static uint64_t smp_npt_pt[512] ALIGNED_PAGE;
static uint8_t ap_stack[AP_STACK_PAGES * PAGE] ALIGNED_PAGE;
static uint8_t ap_l2_stack[2 * PAGE] ALIGNED_PAGE;
static uint8_t bsp_l2_stack[2 * PAGE] ALIGNED_PAGE;

/* What the two vCPUs (and their L2s) share. */
static struct {
	volatile bool up;	    /* the AP runs L1's code */
	volatile uint32_t cmd;	    /* enum ap_cmd, set by the BSP */
	volatile uint32_t done;	    /* the AP finished the command */
	volatile uint64_t ap_count; /* the AP's L2 counts */
	volatile uint64_t stop;	    /* the AP's L2 leaves (VMMCALL) */
	volatile uint64_t bsp_saw;  /* the AP's progress the BSP's L2 saw */
	volatile uint64_t exitcode; /* the AP's last #VMEXIT */
	volatile uint64_t exitinfo1, exitinfo2;
	volatile uint32_t ipi_taken; /* vectors the AP's L1 took */
	volatile uint32_t exits;     /* the AP's L2 exits */
} box;

static struct l2_regs ap_regs, bsp_regs;

static void vmmcall(void)
{
	__asm__ volatile("vmmcall" ::: "memory");
}

/* ---- L2 code (runs in L2 on L1's identity map, its own stack) ---- */

static void l2_count(void)
{
	while (!box.stop)
		box.ap_count++;
	vmmcall();
	for (;;)
		;
}

static void l2_watch(void)
{
	uint64_t start = box.ap_count, t0 = rdtsc();

	while (box.ap_count - start < L2_SEEN_STEPS && rdtsc() - t0 < WAIT_CYCLES)
		pause();
	box.bsp_saw = box.ap_count - start;
	vmmcall();
	for (;;)
		;
}

static void l2_write(void)
{
	volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)SMP_PAGE_GPA;

	while (!box.stop) {
		*p = box.ap_count;
		box.ap_count++;
	}
	vmmcall();
	for (;;)
		;
}

static void l2_leave(void)
{
	vmmcall();
	for (;;)
		;
}

/* ---- set-up ---- */

static void build_smp_npt(void)
{
	const uint64_t leaf = PTE_P | PTE_RW | PTE_US;

	smp_npt_pml4[0] = pa(smp_npt_pdpt) | leaf;
	smp_npt_pdpt[0] = pa(smp_npt_pd) | leaf;
	for (uint64_t i = 0; i < 512; i++)
		smp_npt_pd[i] = i * SIZE_2M == SMP_PT_GPA ? pa(smp_npt_pt) | leaf
							  : (i * SIZE_2M) | leaf | PTE_PS;
	for (uint64_t i = 0; i < 512; i++)
		smp_npt_pt[i] = (SMP_PT_GPA + i * PAGE) | leaf;
}

/* A VMCB like l2_prepare()'s (NPT mode) with smp_npt, its own ASID, entry and stack. */
static void prepare(struct vmcb *v, void (*entry)(void), uint8_t *stack, size_t stack_size)
{
	static const struct l1_mode npt = {"/npt", true};

	l2_prepare(&npt, (const void *)entry);
	*v = *l1.vmcb;
	v->n_cr3 = pa(smp_npt_pml4);
	v->asid = SMP_ASID;
	v->rsp = pa(stack + stack_size);
	v->tlb_control = TLB_CONTROL_FLUSH_ALL;
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

/* L1 on the AP: SVM on, then the BSP's commands, one L2 run each. */
static void ap_main(void)
{
	bm_idt_init();
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, pa(ap_host_save));
	bm_apic_write(BM_APIC_SVR, BM_APIC_SVR_ENABLE | SPURIOUS_VECTOR);
	box.up = true;
	for (;;) {
		uint32_t cmd;
		while ((cmd = box.cmd) == AP_IDLE)
			pause();
		svm_run(pa(&ap_vmcb), &ap_regs, cmd == AP_RUN_INTR);
		box.exitcode = ap_vmcb.exitcode;
		box.exitinfo1 = ap_vmcb.exitinfo1;
		box.exitinfo2 = ap_vmcb.exitinfo2;
		box.exits++;
		if (cmd == AP_RUN_INTR)
			__asm__ volatile("sti; nop; cli" ::: "memory"); /* the IPI, L1's now */
		box.cmd = AP_IDLE;
		__atomic_fetch_add(&box.done, 1, __ATOMIC_SEQ_CST);
	}
}

/* Gives the AP @cmd and waits until its L2 counts. */
static bool ap_start_l2(uint32_t cmd)
{
	uint64_t t0 = rdtsc(), start;

	box.stop = 0;
	start = box.ap_count;
	__atomic_store_n(&box.cmd, cmd, __ATOMIC_SEQ_CST); /* after the VMCB */
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

/* Stops the AP's L2 if a check left it running (it leaves by VMMCALL). */
static void ap_stop(uint32_t done_before)
{
	box.stop = 1;
	ap_wait(done_before);
}

static void check_both(void)
{
	struct check c;
	const struct l1_mode m = {"", true};
	uint32_t done = box.done;

	check_begin(&c, "smp-l2-both", &m);
	prepare(&ap_vmcb, l2_count, ap_l2_stack, sizeof(ap_l2_stack));
	prepare(&bsp_vmcb, l2_watch, bsp_l2_stack, sizeof(bsp_l2_stack));
	if (!ap_start_l2(AP_RUN_COUNT)) {
		check_fail(&c, "the AP's L2 did not run (AP: %u commands done, last exit %#llx)",
			   box.done, (unsigned long long)box.exitcode);
	} else {
		box.bsp_saw = 0;
		svm_run(pa(&bsp_vmcb), &bsp_regs, 0);
		l1.exits++;
		expect(&c, "BSP L2 exit", bsp_vmcb.exitcode, VMEXIT_VMMCALL);
		expect(&c, "AP L2 progress seen from the BSP's L2", box.bsp_saw >= L2_SEEN_STEPS,
		       1);
		box.stop = 1;
		if (!ap_wait(done))
			check_fail(&c, "the AP's L2 did not stop");
		else
			expect(&c, "AP L2 exit", box.exitcode, VMEXIT_VMMCALL);
	}
	ap_stop(done);
	check_end(&c);
}

static void check_revoke(void)
{
	struct check c;
	const struct l1_mode m = {"", true};
	uint32_t done = box.done;

	check_begin(&c, "smp-revoke", &m);
	build_smp_npt();
	prepare(&ap_vmcb, l2_write, ap_l2_stack, sizeof(ap_l2_stack));
	prepare(&bsp_vmcb, l2_leave, bsp_l2_stack, sizeof(bsp_l2_stack));
	if (!ap_start_l2(AP_RUN_WRITE)) {
		check_fail(&c, "the AP's L2 did not run");
	} else {
		/* Read-only in NPT12, then a TLB_CONTROL flush on this vCPU only. */
		smp_npt_pt[SMP_PAGE_INDEX] &= ~PTE_RW;
		bsp_vmcb.tlb_control = TLB_CONTROL_FLUSH_ALL;
		svm_run(pa(&bsp_vmcb), &bsp_regs, 0);
		l1.exits++;
		expect(&c, "BSP L2 exit", bsp_vmcb.exitcode, VMEXIT_VMMCALL);
		if (!ap_wait(done)) {
			check_fail(&c, "the AP's L2 kept writing the page");
		} else {
			expect(&c, "AP L2 exit", box.exitcode, VMEXIT_NPF);
			expect(&c, "AP #NPF address", box.exitinfo2, SMP_PAGE_GPA);
			expect(&c, "AP #NPF write, present", box.exitinfo1 & (NPF_INFO_WRITE | 1),
			       NPF_INFO_WRITE | 1);
		}
	}
	ap_stop(done);
	smp_npt_pt[SMP_PAGE_INDEX] |= PTE_RW;
	check_end(&c);
}

static void check_ipi(void)
{
	struct check c;
	const struct l1_mode m = {"", true};
	uint32_t done = box.done, taken = box.ipi_taken;

	check_begin(&c, "smp-ipi", &m);
	build_smp_npt();
	prepare(&ap_vmcb, l2_count, ap_l2_stack, sizeof(ap_l2_stack));
	ap_vmcb.icpt_misc1 |= ICPT1_INTR;
	if (!ap_start_l2(AP_RUN_INTR)) {
		check_fail(&c, "the AP's L2 did not run");
	} else {
		bm_apic_ipi(1, ICR_FIXED_ASSERT | IPI_VECTOR);
		if (!ap_wait(done)) {
			check_fail(&c, "no exit of the AP's L2 after the IPI");
		} else {
			expect(&c, "AP L2 exit", box.exitcode, VMEXIT_INTR);
			expect(&c, "vectors the AP's L1 took", box.ipi_taken - taken, 1);
		}
	}
	ap_stop(done);
	check_end(&c);
}

void run_smp_checks(bool shared_npt)
{
	struct check c;
	const struct l1_mode m = {"", true};
	unsigned n = bm_cpu_count();

	if (n < 2)
		return;
	bm_set_handler(IPI_VECTOR, take_ipi);
	bm_set_handler(SPURIOUS_VECTOR, take_spurious);
	check_begin(&c, "smp-ap-start", &m);
	if (!bm_ap_start(1, ap_main, ap_stack + sizeof(ap_stack), &box.up))
		check_fail(&c, "the AP (APIC ID 1) did not start");
	check_end(&c);
	if (c.failed)
		return;
	build_smp_npt();
	check_both();
	if (shared_npt)
		check_revoke();
	else
		printf("l1-svm: smp-revoke not run (L1's command line has no \"shared-npt\")\n");
	check_ipi();
	l1.exits += box.exits;
}
