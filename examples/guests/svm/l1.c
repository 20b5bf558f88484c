/* SPDX-License-Identifier: MIT */
/*
 * The test L1 hypervisor: enables SVM, builds one VMCB for its L2 and runs
 * the checks (checks.c, inject.c, ctl.c, events.c), most of them once with
 * L2 on its own page tables only and once with L1's nested page tables as
 * well. It prints one line per check and a verdict, then leaves through
 * QEMU's debug-exit device.
 *
 * It uses no part of libnest: booted directly on QEMU (TCG, -cpu max) it
 * checks QEMU's SVM; booted as L1 under the bare-metal stub it checks that
 * libnest reflects the same results.
 */
#include "l1.h"
#include "l2.h"

struct l1 l1;

#define PAGE 4096
#define ALIGNED_PAGE __attribute__((aligned(PAGE)))

static struct vmcb vmcb12 ALIGNED_PAGE;
static uint8_t host_save_area[PAGE] ALIGNED_PAGE;
static uint8_t iopm[IOPM_SIZE] ALIGNED_PAGE;
static uint8_t msrpm[MSRPM_SIZE] ALIGNED_PAGE;
static uint64_t l2_pml4[512] ALIGNED_PAGE;
static uint64_t l2_pdpt[512] ALIGNED_PAGE;
static uint64_t l2_pd[512] ALIGNED_PAGE;
static uint64_t npt_pml4[512] ALIGNED_PAGE;
static uint64_t npt_pdpt[512] ALIGNED_PAGE;
static uint64_t npt_pd[512] ALIGNED_PAGE;
static uint64_t npt_pt[512] ALIGNED_PAGE;
static uint64_t fixup_page[512] ALIGNED_PAGE;
static uint8_t l2_stack[2 * PAGE] ALIGNED_PAGE;

#define SIZE_2M 0x200000ull

struct dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static void build_l2_page_tables(void)
{
	/* L2's own tables: [0, 1 GiB) identity in 2 MiB pages; nothing above. */
	l2_pml4[0] = pa(l2_pdpt) | PTE_P | PTE_RW;
	l2_pdpt[0] = pa(l2_pd) | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 512; i++)
		l2_pd[i] = (i * SIZE_2M) | PTE_P | PTE_RW | PTE_PS;
}

static void build_npt(void)
{
	/* Nested page tables: every access through them is a user access (APM 15.25.5). */
	const uint64_t leaf = PTE_P | PTE_RW | PTE_US;

	npt_pml4[0] = pa(npt_pdpt) | leaf;
	npt_pdpt[0] = pa(npt_pd) | leaf;
	for (uint64_t i = 0; i < 512; i++) {
		uint64_t gpa = i * SIZE_2M;

		if (gpa == NPT_RO_GPA)
			npt_pd[i] = gpa | PTE_P | PTE_US | PTE_PS;
		else if (gpa == NPT_PT_GPA)
			npt_pd[i] = pa(npt_pt) | leaf;
		else
			npt_pd[i] = gpa | leaf | PTE_PS;
	}
	for (uint64_t i = 0; i < 512; i++) {
		if (i == NPT_HOLE_INDEX || i == NPT_GPT_HOLE_INDEX)
			npt_pt[i] = 0;
		else
			npt_pt[i] = (NPT_PT_GPA + i * PAGE) | leaf;
	}
}

void iopm_set(uint16_t port, bool intercept)
{
	if (intercept)
		iopm[port / 8] |= (uint8_t)(1u << (port % 8));
	else
		iopm[port / 8] &= (uint8_t) ~(1u << (port % 8));
}

void msrpm_set(uint32_t msr, bool read, bool write)
{
	/* APM 15.11: three 2 KiB vectors, two bits (read, write) per MSR. */
	uint32_t base;

	if (msr <= 0x1FFF)
		base = 0;
	else if (msr >= 0xC0000000u && msr <= 0xC0001FFFu)
		base = 0x800 * 8;
	else if (msr >= 0xC0010000u && msr <= 0xC0011FFFu)
		base = 0x1000 * 8;
	else
		return; /* outside the map: always intercepted */
	uint32_t bit = base + (msr & 0x1FFF) * 2;

	msrpm[bit / 8] &= (uint8_t) ~(3u << (bit % 8));
	msrpm[bit / 8] |= (uint8_t)(((read ? 1u : 0u) | (write ? 2u : 0u)) << (bit % 8));
}

static void seg(struct vmcb_seg *s, uint16_t sel, uint16_t attr)
{
	s->sel = sel;
	s->attr = attr;
	s->limit = 0xFFFFFFFFu;
	s->base = 0;
}

void l2_prepare(const struct l1_mode *mode, const void *entry)
{
	struct vmcb *v = &vmcb12;
	struct dtr gdtr, idtr;
	uint16_t cs, ds;

	memset(v, 0, sizeof(*v));
	memset(&l1.regs, 0, sizeof(l1.regs));

	v->icpt_exc = L1_EXC_INTERCEPTS;
	v->icpt_misc1 = ICPT1_CPUID | ICPT1_HLT | ICPT1_IOIO_PROT | ICPT1_MSR_PROT | ICPT1_SHUTDOWN;
	v->icpt_misc2 = ICPT2_VMRUN | ICPT2_VMMCALL;
	v->iopm_base_pa = pa(iopm);
	v->msrpm_base_pa = pa(msrpm);
	v->asid = L2_ASID;
	v->tlb_control = TLB_CONTROL_FLUSH_ALL;
	v->int_ctl = INT_CTL_V_INTR_MASKING;
	if (mode->npt) {
		v->np_ctl = NP_CTL_NP_ENABLE;
		v->n_cr3 = pa(npt_pml4);
	}
	v->clean = 0;

	/* L2 runs in 64-bit mode at CPL 0 with L1's GDT, selectors and control registers. */
	__asm__ volatile("sgdt %0; sidt %1; mov %%cs, %2; mov %%ds, %3"
			 : "=m"(gdtr), "=m"(idtr), "=r"(cs), "=r"(ds));
	seg(&v->cs, cs, SEG_ATTR_TYPE_CODE_ERA | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_L | SEG_ATTR_G);
	seg(&v->ds, ds,
	    SEG_ATTR_TYPE_DATA_RWA | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G);
	v->es = v->ds;
	v->ss = v->ds;
	v->gdtr.base = gdtr.base;
	v->gdtr.limit = gdtr.limit;
	v->idtr.base = idtr.base;
	v->idtr.limit = idtr.limit;
	v->cpl = 0;
	v->efer = rdmsr(MSR_EFER);
	v->cr0 = read_cr0();
	v->cr3 = pa(l2_pml4);
	v->cr4 = read_cr4();
	v->dr7 = 0x400;		   /* architectural reset value */
	v->dr6 = 0xFFFF0FF0u;	   /* likewise */
	v->rflags = RFLAGS_FIXED1; /* IF clear */
	v->rip = (uint64_t)(uintptr_t)entry;
	v->rsp = pa(l2_stack + sizeof(l2_stack));
	v->g_pat = PAT_DEFAULT;
}

void l2_run(bool irq_window)
{
	svm_run(pa(&vmcb12), &l1.regs, irq_window ? 1 : 0);
	/* A refused VMRUN never ran L2: it is not an L2 exit (see README.md). */
	if ((uint32_t)vmcb12.exitcode == (uint32_t)VMEXIT_INVALID)
		l1.refused++;
	else
		l1.exits++;
	/* The flush was for the first VMRUN of this VMCB; resumes keep the TLB. */
	vmcb12.tlb_control = TLB_CONTROL_NOTHING;
}

static void print_svm_features(uint32_t eax, uint32_t ebx, uint32_t edx)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
	    {CPUID_SVM_EDX_NP, "NP"},
	    {CPUID_SVM_EDX_LBRV, "LBRV"},
	    {CPUID_SVM_EDX_SVML, "SVML"},
	    {CPUID_SVM_EDX_NRIPS, "NRIPS"},
	    {CPUID_SVM_EDX_TSCRATE, "TSCRATE"},
	    {CPUID_SVM_EDX_VMCBCLEAN, "VMCBCLEAN"},
	    {CPUID_SVM_EDX_FLUSHBYASID, "FLUSHBYASID"},
	    {CPUID_SVM_EDX_DECODEASSISTS, "DECODEASSISTS"},
	    {CPUID_SVM_EDX_PAUSEFILTER, "PAUSEFILTER"},
	    {CPUID_SVM_EDX_AVIC, "AVIC"},
	    {CPUID_SVM_EDX_VMSAVE_VIRT, "VMSAVEVIRT"},
	    {CPUID_SVM_EDX_VGIF, "VGIF"},
	};

	printf("svm: CPUID 0x8000000A: revision %u, %u ASIDs, EDX 0x%08x:", eax & 0xFF, ebx, edx);
	for (size_t i = 0; i < BM_ARRAY_SIZE(names); i++)
		if (edx & names[i].bit)
			printf(" %s", names[i].name);
	printf("%s\n", (edx & CPUID_SVM_EDX_NRIPS) ? "" : " (no NRIP save)");
}

/* CPUID says SVM with nested paging; EFER.SVME on; host save area set. */
static bool svm_enable(void)
{
	struct check c;
	uint32_t a, b, cx, d;
	const struct l1_mode none = {"", false};

	check_begin(&c, "svm-available", &none);
	cpuid(CPUID_EXT_FEATURES, 0, &a, &b, &cx, &d);
	if (expect(&c, "CPUID 0x80000001 ECX.SVM", cx & CPUID_EXT_ECX_SVM, CPUID_EXT_ECX_SVM)) {
		cpuid(CPUID_SVM_LEAF, 0, &a, &b, &cx, &d);
		l1.svm_features = d;
		print_svm_features(a, b, d);
		expect(&c, "CPUID 0x8000000A EDX.NP", d & CPUID_SVM_EDX_NP, CPUID_SVM_EDX_NP);
		expect(&c, "number of ASIDs > 1", b > 1, 1);
	}
	if (!c.failed) {
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
		wrmsr(MSR_VM_HSAVE_PA, pa(host_save_area));
		expect(&c, "EFER.SVME after WRMSR", rdmsr(MSR_EFER) & EFER_SVME, EFER_SVME);
		expect(&c, "VM_HSAVE_PA", rdmsr(MSR_VM_HSAVE_PA), pa(host_save_area));
	}
	if ((uint64_t)(uintptr_t)_image_end > NPT_RO_GPA)
		check_fail(&c, "image ends at 0x%llx, above 0x%llx",
			   (unsigned long long)pa(_image_end), (unsigned long long)NPT_RO_GPA);
	check_end(&c);
	return !c.failed;
}

#define BOCHS_SHUTDOWN_PORT 0x8900
#define UART_LSR (BM_COM1 + 5)
#define UART_LSR_TEMT 0x40 /* transmitter empty */
#define UART_DRAIN_POLLS 1000000

/*
 * The verdict code goes to QEMU's debug-exit port. Where that returns
 * (Bochs has no such device), let the UART drain and ask Bochs to stop by
 * writing "Shutdown" to its port 0x8900; elsewhere that port is unused.
 */
static int l1_leave(uint32_t code)
{
	bm_debug_exit(code);
	for (unsigned i = 0; i < UART_DRAIN_POLLS && !(inb(UART_LSR) & UART_LSR_TEMT); i++)
		pause();
	for (const char *p = "Shutdown"; *p; p++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
	return (int)code;
}

/*
 * Any exception or interrupt L1 did not ask for ends the run, with the
 * verdict line still last on the serial port.
 */
void l1_unexpected(struct bm_regs *r)
{
	const struct check *c = l1.current;

	printf("l1-svm: unexpected vector %llu (error 0x%llx) at rip 0x%llx, cr2 0x%llx, in %s%s\n",
	       (unsigned long long)r->vector, (unsigned long long)r->error_code,
	       (unsigned long long)r->rip, (unsigned long long)read_cr2(), c ? c->name : "set-up",
	       c ? c->mode : "");
	printf("e2e svm: FAIL (%u of %u checks failed; L1 stopped by vector %llu)\n", l1.failed + 1,
	       l1.checks + 1, (unsigned long long)r->vector);
	l1_leave(BM_EXIT_FAIL);
	bm_exit(BM_EXIT_FAIL);
}

/* Whether @word is one of the space-separated words of @s. */
static bool strstr_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = s; *p; p++)
		if ((p == s || p[-1] == ' ') && !strncmp(p, word, n) && (!p[n] || p[n] == ' '))
			return true;
	return false;
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
	const struct l1_mode nonpt = {"/nonpt", false};
	const struct l1_mode npt = {"/npt", true};

	(void)magic;
	for (unsigned vector = 0; vector < 256; vector++)
		bm_set_handler(vector, l1_unexpected);
	l1_mask_legacy_irqs();
	printf("l1-svm: test L1 hypervisor, image [0x%llx, 0x%llx)\n",
	       (unsigned long long)pa(_image_start), (unsigned long long)pa(_image_end));

	l1.vmcb = &vmcb12;
	l1.iopm = iopm;
	l1.msrpm = msrpm;
	l1.l2_pdpt = l2_pdpt;
	l1.npt_pd = npt_pd;
	l1.npt_pt = npt_pt;
	l1.fixup_page = fixup_page;
	build_l2_page_tables();
	build_npt();
	iopm_set(L2_IO_PORT, true);

	if (svm_enable()) {
		run_mode_checks(&nonpt);
		run_inject_checks(&nonpt);
		run_ctl_checks(&nonpt);
		run_mode_checks(&npt);
		run_inject_checks(&npt);
		run_ctl_checks(&npt);
		run_npt_checks(&npt);
		run_balloon_checks(&npt);
		run_shrink_checks(&npt, mbi);
		run_interrupt_checks(&nonpt);
		run_interrupt_checks(&npt);
		run_single_checks(&nonpt);
		run_vmload_checks(&nonpt);
		run_smp_checks(strstr_word(bm_mb_cmdline(mbi), "shared-npt"));
	}

	printf("l1-svm: %u VMRUNs refused with VMEXIT_INVALID (not counted as L2 exits)\n",
	       l1.refused);
	if (l1.failed == 0) {
		printf("e2e svm: PASS (%u checks, %u L2 exits reflected)\n", l1.checks, l1.exits);
		return l1_leave(BM_EXIT_PASS);
	}
	printf("e2e svm: FAIL (%u of %u checks failed)\n", l1.failed, l1.checks);
	return l1_leave(BM_EXIT_FAIL);
}
