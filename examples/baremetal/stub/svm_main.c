/* SPDX-License-Identifier: MIT */
/*
 * The L0 stub: enables SVM, gives L1 a machine like the one the stub got
 * (its RAM behind NPT01, devices passed through), boots L1 by the
 * multiboot protocol and runs it, handling the few exits nesting needs.
 *
 * Stub command line: "pool=MIB" (the stub's own page pool, default 32),
 * "l1mem=MIB" (L1's RAM, default: all the rest), "novgif" (run L1
 * without the processor's vGIF, see svm_nested_libnest.c), "move=N"
 * (l1move.c) and "shrink=N" (shrink.c).
 */
#include <nest/cpu.h>

#include "stub.h"
#include "backend.h"
#include "smp_core.h"
#include "svm_nested.h"

#define L1_ASID 1
#define GUEST_RFLAGS_FIXED 0x2ull /* bit 1 is reserved, set */
#define CR0_PE 0x1ull
#define CR0_ET 0x10ull
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define SEG_ATTR_CODE16_RESET 0x09B /* P, S, type 0xB: after INIT (APM 14.1.3) */
#define SEG_ATTR_DATA16_RESET 0x093 /* P, S, type 0x3 */
#define DEBUG_EXIT_PORTS 4
#define INSN_LEN_CPUID 2
#define INSN_LEN_VMMCALL 3
#define FLAT_LIMIT 0xFFFFFFFFu	/* 4 GiB segments */
#define TABLE_LIMIT 0xFFFFu	/* descriptor tables and TR/LDTR after reset */
#define DR6_RESET 0xFFFF0FF0ull /* APM 13.1.1.3 */
#define DR7_RESET 0x400ull	/* APM 13.1.1.4 */
#define DR7_ENABLES 0xFFull	/* L0-L3, G0-G3 */
#define DR7_LE (1ull << 8)
/* MSRPM ranges (APM 15.11): MSRs [base, base + 0x2000) at byte offset off. */
#define MSRPM_RANGE_MSRS 0x2000u
#define MSRPM_R0_BASE 0x00000000u
#define MSRPM_R1_BASE 0xC0000000u
#define MSRPM_R2_BASE 0xC0010000u
#define MSRPM_R1_OFF 0x800u
#define MSRPM_R2_OFF 0x1000u

/* SVM on this processor: EFER.SVME (and NXE), its host save area. */
static void svm_enable_cpu(void)
{
	uint32_t a, b, c, d;

	cpuid(CPUID_EXT_FEATURES, 0, &a, &b, &c, &d);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME | (d & CPUID_EXT_EDX_NX ? EFER_NXE : 0));
	void *hsave = bm_page_alloc();
	wrmsr(MSR_VM_HSAVE_PA, (uint64_t)(uintptr_t)hsave);
	stub.host_save = bm_page_alloc();
}

static void svm_enable(void)
{
	uint32_t a, b, c, d;

	cpuid(CPUID_EXT_FEATURES, 0, &a, &b, &c, &d);
	if (!(c & CPUID_EXT_ECX_SVM))
		bm_panic("stub: this CPU has no SVM (QEMU: -accel tcg -cpu max)\n");
	if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS)
		bm_panic("stub: SVM disabled by VM_CR\n");
	cpuid(CPUID_SVM_LEAF, 0, &a, &b, &c, &d);
	bm_printf("stub: SVM revision %u, %u ASIDs, features %#x%s%s%s\n", a & 0xFF, b, d,
		  d & CPUID_SVM_EDX_NP ? " NPT" : "", d & CPUID_SVM_EDX_VGIF ? " vGIF" : "",
		  d & CPUID_SVM_EDX_NRIPS ? " NRIPS" : "");
	if (!(d & CPUID_SVM_EDX_NP))
		bm_panic("stub: nested paging is required\n");
	/* NPT02 carries L1's no-execute bits, which the nested walk honours
	 * only under the host's EFER.NXE (else bit 63 is reserved). */
	svm_enable_cpu();
}

static void iopm_intercept(uint16_t port, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		stub.iopm[(port + i) / 8] |= (uint8_t)(1u << ((port + i) % 8));
}

/* MSRPM (APM 15.11): two bits per MSR (read, write) in three 2 KiB ranges. */
static void msrpm_intercept(uint32_t msr, bool rd, bool wr)
{
	uint32_t base;
	if (msr - MSRPM_R0_BASE < MSRPM_RANGE_MSRS)
		base = 0, msr -= MSRPM_R0_BASE;
	else if (msr - MSRPM_R1_BASE < MSRPM_RANGE_MSRS)
		base = MSRPM_R1_OFF, msr -= MSRPM_R1_BASE;
	else if (msr - MSRPM_R2_BASE < MSRPM_RANGE_MSRS)
		base = MSRPM_R2_OFF, msr -= MSRPM_R2_BASE;
	else
		bm_panic("stub: MSR %#x outside the MSRPM\n", msr);
	uint32_t bit = msr * 2;
	if (rd)
		stub.msrpm[base + bit / 8] |= (uint8_t)(1u << (bit % 8));
	if (wr)
		stub.msrpm[base + (bit + 1) / 8] |= (uint8_t)(1u << ((bit + 1) % 8));
}

static void set_seg(uint8_t *vmcb, unsigned off, uint16_t sel, uint16_t attr, uint32_t limit,
		    uint64_t base)
{
	VMCB_U16(vmcb, off + VMCB_SEG_SEL) = sel;
	VMCB_U16(vmcb, off + VMCB_SEG_ATTR) = attr;
	VMCB_U32(vmcb, off + VMCB_SEG_LIMIT) = limit;
	VMCB_U64(vmcb, off + VMCB_SEG_BASE) = base;
}

/* vmcb01: L1 as its boot loader leaves it (Multiboot Specification 3.2, or
 * Linux's 32-bit boot protocol): protected mode, flat segments, paging off. */
static void vmcb01_init(const struct l1_boot *boot)
{
	uint8_t *v = stub.vmcb01 = bm_page_alloc();

	stub.iopm = bm_pages_alloc(IOPM_SIZE / BM_PAGE_SIZE, BM_PAGE_SIZE);
	stub.msrpm = bm_pages_alloc(MSRPM_SIZE / BM_PAGE_SIZE, BM_PAGE_SIZE);
	iopm_intercept(BM_DEBUG_EXIT_PORT, DEBUG_EXIT_PORTS); /* to print the figures first */
	iopm_intercept(FW_CFG_PORT_SEL, FW_CFG_PIO_PORTS);    /* selector, data */
	iopm_intercept(FW_CFG_PORT_DMA, FW_CFG_DMA_PORTS);    /* DMA address */
	msrpm_intercept(MSR_EFER, true, true);
	msrpm_intercept(MSR_VM_HSAVE_PA, true, true);
	msrpm_intercept(MSR_VM_CR, false, true);
	msrpm_intercept(MSR_TSC_RATIO, true, true); /* libnest's, when it offers the ratio */

	VMCB_U32(v, VMCB_ICPT_MISC1) =
	    ICPT1_CPUID | ICPT1_INVLPGA | ICPT1_IOIO | ICPT1_MSR | ICPT1_SHUTDOWN;
	VMCB_U32(v, VMCB_ICPT_MISC2) =
	    ICPT2_VMRUN | ICPT2_VMLOAD | ICPT2_VMSAVE | ICPT2_STGI | ICPT2_CLGI | ICPT2_SKINIT;
	VMCB_U64(v, VMCB_IOPM_BASE) = (uint64_t)(uintptr_t)stub.iopm;
	VMCB_U64(v, VMCB_MSRPM_BASE) = (uint64_t)(uintptr_t)stub.msrpm;
	VMCB_U32(v, VMCB_ASID) = L1_ASID;
	stub_flush.control = TLB_CONTROL_FLUSH_ALL;
	VMCB_U64(v, VMCB_NP_CTL) = NP_CTL_ENABLE;
	VMCB_U64(v, VMCB_N_CR3) = (uint64_t)(uintptr_t)stub.npt01;

	set_seg(v, VMCB_CS, boot->cs_sel, SEG_ATTR_CODE32, FLAT_LIMIT, 0);
	set_seg(v, VMCB_DS, boot->ds_sel, SEG_ATTR_DATA32, FLAT_LIMIT, 0);
	set_seg(v, VMCB_ES, boot->ds_sel, SEG_ATTR_DATA32, FLAT_LIMIT, 0);
	set_seg(v, VMCB_SS, boot->ds_sel, SEG_ATTR_DATA32, FLAT_LIMIT, 0);
	set_seg(v, VMCB_FS, boot->ds_sel, SEG_ATTR_DATA32, FLAT_LIMIT, 0);
	set_seg(v, VMCB_GS, boot->ds_sel, SEG_ATTR_DATA32, FLAT_LIMIT, 0);
	set_seg(v, VMCB_GDTR, 0, 0, TABLE_LIMIT, 0);
	set_seg(v, VMCB_IDTR, 0, 0, TABLE_LIMIT, 0);
	set_seg(v, VMCB_LDTR, 0, SEG_ATTR_LDT, TABLE_LIMIT, 0);
	set_seg(v, VMCB_TR, 0, SEG_ATTR_TSS32_BUSY, TABLE_LIMIT, 0);
	VMCB_U8(v, VMCB_CPL) = 0;
	VMCB_U64(v, VMCB_EFER) = EFER_SVME; /* VMRUN requires it; L1 sees its own */
	VMCB_U64(v, VMCB_CR0) = CR0_PE | CR0_ET;
	VMCB_U64(v, VMCB_CR3) = 0;
	VMCB_U64(v, VMCB_CR4) = 0;
	VMCB_U64(v, VMCB_DR6) = DR6_RESET;
	VMCB_U64(v, VMCB_DR7) = DR7_RESET;
	VMCB_U64(v, VMCB_RFLAGS) = GUEST_RFLAGS_FIXED;
	VMCB_U64(v, VMCB_RIP) = boot->rip;
	VMCB_U64(v, VMCB_RSP) = 0;
	VMCB_U64(v, VMCB_RAX) = boot->rax;
	VMCB_U64(v, VMCB_G_PAT) = PAT_DEFAULT;
	stub.regs.size = sizeof(stub.regs);
	stub.regs.gpr[GPR_RBX] = boot->rbx;
	stub.regs.gpr[GPR_RSI] = boot->rsi;
}

/* vmcb01 of L1's vCPU after INIT and SIPI with @vector: real mode at
 * CS:IP = vector << 8 : 0 (APM 14.1.3 for the INIT state, 16.5 for SIPI). */
static void vmcb01_sipi(uint8_t vector)
{
	uint8_t *v = stub.vmcb01;

	set_seg(v, VMCB_CS, (uint16_t)(vector << 8), SEG_ATTR_CODE16_RESET, TABLE_LIMIT,
		(uint64_t)vector << 12);
	set_seg(v, VMCB_DS, 0, SEG_ATTR_DATA16_RESET, TABLE_LIMIT, 0);
	set_seg(v, VMCB_ES, 0, SEG_ATTR_DATA16_RESET, TABLE_LIMIT, 0);
	set_seg(v, VMCB_SS, 0, SEG_ATTR_DATA16_RESET, TABLE_LIMIT, 0);
	set_seg(v, VMCB_FS, 0, SEG_ATTR_DATA16_RESET, TABLE_LIMIT, 0);
	set_seg(v, VMCB_GS, 0, SEG_ATTR_DATA16_RESET, TABLE_LIMIT, 0);
	set_seg(v, VMCB_GDTR, 0, 0, TABLE_LIMIT, 0);
	set_seg(v, VMCB_IDTR, 0, 0, TABLE_LIMIT, 0);
	set_seg(v, VMCB_LDTR, 0, SEG_ATTR_LDT, TABLE_LIMIT, 0);
	set_seg(v, VMCB_TR, 0, SEG_ATTR_TSS32_BUSY, TABLE_LIMIT, 0);
	VMCB_U8(v, VMCB_CPL) = 0;
	VMCB_U64(v, VMCB_EFER) = EFER_SVME;
	VMCB_U64(v, VMCB_CR0) = CR0_CD | CR0_NW | CR0_ET;
	VMCB_U64(v, VMCB_CR2) = 0;
	VMCB_U64(v, VMCB_CR3) = 0;
	VMCB_U64(v, VMCB_CR4) = 0;
	VMCB_U64(v, VMCB_DR6) = DR6_RESET;
	VMCB_U64(v, VMCB_DR7) = DR7_RESET;
	VMCB_U64(v, VMCB_RFLAGS) = GUEST_RFLAGS_FIXED;
	VMCB_U64(v, VMCB_RIP) = 0;
	VMCB_U64(v, VMCB_RSP) = 0;
	VMCB_U64(v, VMCB_RAX) = 0;
	VMCB_U64(v, VMCB_G_PAT) = PAT_DEFAULT;
	VMCB_U64(v, VMCB_EVENTINJ) = 0;
	memset(&stub.regs, 0, sizeof(stub.regs));
	stub.regs.size = sizeof(stub.regs);
}

void stub_inject(uint8_t *vmcb, unsigned vector, bool has_error, uint32_t error)
{
	uint64_t ev = EVENTINJ_VALID | EVENTINJ_TYPE_EXCEPTION | vector;
	if (has_error)
		ev |= EVENTINJ_EV | ((uint64_t)error << 32);
	VMCB_U64(vmcb, VMCB_EVENTINJ) = ev;
}

static void advance(uint8_t *vmcb, unsigned len)
{
	VMCB_U64(vmcb, VMCB_RIP) += len;
}

/* A guest's access to a port the stub intercepts, or (for L2, while
 * libnest decides every I/O from L1's map as it is) one that only L1 could
 * have intercepted and did not: the devices are L1's, so it goes through. */
static uint32_t port_in(uint16_t port, unsigned size)
{
	uint32_t val = 0xFFFFFFFFu;

	if (!fwcfg_io(port, true, size, &val))
		val = size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
	return val;
}

static void port_out(uint16_t port, unsigned size, uint32_t val)
{
	if (port >= BM_DEBUG_EXIT_PORT && port < BM_DEBUG_EXIT_PORT + DEBUG_EXIT_PORTS) {
		/* The figures first; without the device QEMU goes on: so does L1. */
		bm_printf("stub: L1 wrote %#x to the debug-exit port\n", val);
		l1_move_report();
		shrink_report();
		stub_print_figures();
	} else if (fwcfg_io(port, false, size, &val)) {
		return;
	}
	if (size == 1)
		outb(port, (uint8_t)val);
	else if (size == 2)
		outw(port, (uint16_t)val);
	else
		outl(port, val);
}

static void handle_ioio(uint8_t *v)
{
	uint32_t info = (uint32_t)VMCB_U64(v, VMCB_EXITINFO1);
	uint16_t port = (uint16_t)(info >> IOIO_PORT_SHIFT);
	bool in = info & IOIO_TYPE_IN;
	unsigned size = info & IOIO_SZ32 ? 4 : info & IOIO_SZ16 ? 2 : 1;
	uint64_t rax = VMCB_U64(v, VMCB_RAX);

	if (info & IOIO_STR) {
		if (v != stub.vmcb01)
			stub_fatal(v, "string I/O of L2 on a port only L0 intercepts");
		stub_string_io(v, port, in, size, info & IOIO_REP, port_in, port_out);
		return;
	}
	if (in) {
		uint32_t val = port_in(port, size);
		if (size == 4)
			rax = val;
		else if (size == 2)
			rax = (rax & ~0xFFFFull) | (val & 0xFFFF);
		else
			rax = (rax & ~0xFFull) | (val & 0xFF);
		VMCB_U64(v, VMCB_RAX) = rax;
	} else {
		port_out(port, size, (uint32_t)rax);
	}
	VMCB_U64(v, VMCB_RIP) = VMCB_U64(v, VMCB_EXITINFO2); /* next RIP */
}

static void handle_cpuid(uint8_t *v)
{
	uint32_t leaf = (uint32_t)VMCB_U64(v, VMCB_RAX);
	uint32_t sub = (uint32_t)stub.regs.gpr[GPR_RCX];
	uint32_t r[4];

	cpuid(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
	/* The bits that mirror CR4 and the APIC enable are the guest's, not
	 * the stub's (the APIC base MSR is passed through: it is the guest's). */
	nest_x86_cpuid_guest_state(leaf, sub, r, VMCB_U64(v, VMCB_CR4), rdmsr(MSR_APIC_BASE));
	nested_cpuid(leaf, sub, r);
	stub_hv_cpuid(leaf, r);
	VMCB_U64(v, VMCB_RAX) = r[0];
	stub.regs.gpr[GPR_RBX] = r[1];
	stub.regs.gpr[GPR_RCX] = r[2];
	stub.regs.gpr[GPR_RDX] = r[3];
	advance(v, INSN_LEN_CPUID);
}

void stub_fatal(const uint8_t *v, const char *why)
{
	bm_printf(
	    "stub: %s: exit %#llx info1 %#llx info2 %#llx intinfo %#llx at rip %#llx "
	    "(cr0 %#llx cr3 %#llx cr4 %#llx efer %#llx)\n",
	    why, (unsigned long long)VMCB_U64(v, VMCB_EXITCODE),
	    (unsigned long long)VMCB_U64(v, VMCB_EXITINFO1),
	    (unsigned long long)VMCB_U64(v, VMCB_EXITINFO2),
	    (unsigned long long)VMCB_U64(v, VMCB_EXITINTINFO),
	    (unsigned long long)VMCB_U64(v, VMCB_RIP), (unsigned long long)VMCB_U64(v, VMCB_CR0),
	    (unsigned long long)VMCB_U64(v, VMCB_CR3), (unsigned long long)VMCB_U64(v, VMCB_CR4),
	    (unsigned long long)VMCB_U64(v, VMCB_EFER));
	l1_move_report();
	shrink_report();
	stub_print_figures();
	bm_exit(BM_EXIT_FAIL);
}

/* An exit L0 handles for whichever guest ran on @v (L1, or L2 for L1). */
bool stub_l0_exit(uint8_t *v, uint64_t code)
{
	switch (code) {
	case VMEXIT_IOIO:
		handle_ioio(v);
		return true;
	case VMEXIT_CPUID:
		handle_cpuid(v);
		return true;
	default:
		return false;
	}
}

/* The processor's own values, as the guest that ran last reads them: its
 * TSC with the VMCB's offset (the stub sets no TSC ratio). */
bool stub_guest_rdmsr(uint32_t msr, uint64_t *value)
{
	if (msr == MSR_TSC) {
		*value = rdtsc() + VMCB_U64(nested_current_vmcb(), VMCB_TSC_OFFSET);
		return true;
	}
	return stub_rdmsr_safe(msr, value);
}

/* One exit of L1's. */
void stub_l1_exit(uint8_t *v)
{
	uint64_t code = VMCB_U64(v, VMCB_EXITCODE);

	stub.stats.l1_exits++;
	if (code < BM_ARRAY_SIZE(stub.stats.by_code))
		stub.stats.by_code[code]++;
	if (stub_l0_exit(v, code))
		return;
	switch (code) {
	case VMEXIT_MSR:
	case VMEXIT_VMRUN:
	case VMEXIT_VMLOAD:
	case VMEXIT_VMSAVE:
	case VMEXIT_STGI:
	case VMEXIT_CLGI:
	case VMEXIT_INVLPGA:
	case VMEXIT_SKINIT:
		nested_l1_exit(v, code);
		break;
	case VMEXIT_VMMCALL: {
		/* The stub's hypercalls (hypercall.c); any other VMMCALL is #UD, as
		 * without the intercept (APM 15.9, VMMCALL in volume 3). */
		uint64_t ret;
		if (stub_hypercall(VMCB_U64(v, VMCB_RAX), &stub.regs.gpr[GPR_RBX],
				   &stub.regs.gpr[GPR_RCX], &ret)) {
			VMCB_U64(v, VMCB_RAX) = ret;
			advance(v, INSN_LEN_VMMCALL);
		} else {
			stub_inject(v, VEC_UD, false, 0);
		}
		break;
	}
	case VMEXIT_NMI:
		/* Intercepted while L1's GIF is clear: the stub took the NMI at
		 * its STGI and holds it for L1 (nested_before_run()). */
		break;
	case VMEXIT_INTR:
		/* Intercepted under vGIF: see nested_l1_intr(). */
		nested_l1_intr();
		break;
	case VMEXIT_SHUTDOWN:
		stub_fatal(v, "L1 shut down (triple fault)");
	case VMEXIT_NPF: {
		/* L1 writes a bitmap page libnest tracks: libnest takes note and
		 * the write goes through when L1 runs the instruction again. */
		uint64_t gpa = VMCB_U64(v, VMCB_EXITINFO2);
		if (smp_apic_write(v, gpa)) /* several processors: its APIC writes */
			break;
		if ((VMCB_U64(v, VMCB_EXITINFO1) & NPF_WRITE) && l1_tracked(gpa) &&
		    nested_l1_written(gpa))
			break;
		if (shrink_removed(gpa))
			stub_fatal(v, "L1 touched memory L0 took back (shrink)");
		stub_fatal(v, "L1 touched memory it does not have");
	}
	case VMEXIT_INVALID:
		stub_fatal(v, "vmcb01 rejected by VMRUN");
	default:
		stub_fatal(v, "unexpected L1 exit");
	}
}

/* NPT01 changed (l1_track_writes()): the next VMRUN flushes every ASID. */
void l1_map_flush(void)
{
	if (stub_ncpus > 1)
		smp_flush_all(); /* and the other processors' before their next VMRUN */
	stub_flush.control = TLB_CONTROL_FLUSH_ALL;
}

/*
 * QEMU's TCG inserts its breakpoints for DR7 when a MOV to DR7 executes,
 * but VMRUN and #VMEXIT load DR7 without redoing them: a breakpoint L1
 * armed stays armed in L2, and in L1 after the #VMEXIT that reset its DR7
 * to 400H (APM 15.6; kvm-unit-tests' host_rflags loops on it). So when
 * the DR7 of the guest about to run differs from the one the last guest
 * left and either enables a breakpoint, the stub moves to DR7 itself
 * (the first write differs above bit 7, so every breakpoint is taken out,
 * the second puts in those of the next guest's DR7), just before VMRUN.
 * DR0-DR3 are the guest's already: VMRUN does not switch them.
 */
static uint64_t exit_dr7[STUB_MAX_CPUS];

static void sync_breakpoints(const uint8_t *vmcb)
{
	uint64_t next = VMCB_U64(vmcb, VMCB_DR7), last = exit_dr7[stub_cpu()];

	if (next == last || !((next | last) & DR7_ENABLES))
		return;
	__asm__ volatile("mov %0, %%dr7" ::"r"(DR7_RESET | DR7_LE) : "memory");
	__asm__ volatile("mov %0, %%dr7" ::"r"(next) : "memory");
}

/* Runs L1's vCPU on this processor, for ever. */
static __attribute__((noreturn)) void run(void)
{
	for (;;) {
		l1_move_tick();
		shrink_tick();
		/* INIT from a vCPU of L1's: an exit or #SX for L1, or a reset;
		 * held while GIF is clear (tried again at the next run). */
		bool held = false;
		if (smp_init_pending() && !nested_init_signal(&held)) {
			if (held) {
				smp_init_hold();
			} else {
				smp_init_done();
				vmcb01_sipi(smp_wait_sipi());
			}
		}
		uint8_t *vmcb = nested_current_vmcb();
		/* TLB work asked for since the last run (first run: flush all). */
		nested_before_run();
		vmcb = nested_current_vmcb();
		smp_enter();
		if (stub_flush.control)
			VMCB_U8(vmcb, VMCB_TLB_CONTROL) = stub_flush.control;
		sync_breakpoints(vmcb);
		svm_run(&stub.regs, (uint64_t)(uintptr_t)vmcb, (uint64_t)(uintptr_t)stub.host_save,
			nested_host_if());
		smp_exit();
		exit_dr7[stub_cpu()] = VMCB_U64(vmcb, VMCB_DR7);
		VMCB_U8(vmcb, VMCB_TLB_CONTROL) = 0;
		stub_flush.control = 0;
		stub.stats.l0_exits++;
		if (stub.in_l2)
			nested_l2_exit(vmcb);
		else
			stub_l1_exit(vmcb);
	}
}

/* An AP of the stub's: SVM on, vmcb01 as the BSP's, its libnest context;
 * then L1's vCPU waits for SIPI. */
static void ap_main(void)
{
	smp_ap_arrived();
	svm_enable_cpu();
	stub.vmcb01 = bm_page_alloc();
	memcpy(stub.vmcb01, stub_cpus[0].vmcb01, BM_PAGE_SIZE);
	stub_flush.control = TLB_CONTROL_FLUSH_ALL;
	nested_init_cpu();
	vmcb01_sipi(smp_wait_sipi());
	run();
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
	const char *cmd = bm_mb_cmdline(mbi);
	struct l1_boot boot;

	bm_printf("stub: libnest bare-metal L0, command line \"%s\"\n", cmd);
	stub.entry_name = "VMRUNs";
	stub.failed_name = "refused";
	stub.exit_hex = true;
	stub.map_ram = NPT_P | NPT_RW | NPT_US;
	stub.map_dev = stub.map_ram | NPT_PCD | NPT_PWT;
	l1_setup_memory(mbi, cmd);
	unsigned ncpus = smp_setup(cmd);
	stub.l1_novgif = stub_cmdline_flag(cmd, "novgif");
	l1_move_init(cmd);
	shrink_init(cmd);
	svm_enable();
	l1_load(mbi, &boot);
	fwcfg_init();
	vmcb01_init(&boot);
	if (nest_backend_validate(&stub_backend) != NEST_OK)
		bm_panic("stub: libnest refuses the backend\n");
	nested_init();
	/* The stub's hypercalls: L1's VMMCALL. After nested_init(), which takes
	 * L0's intercepts for L2 from vmcb01: L2's VMMCALL stays L1's. Before
	 * the APs start: they copy vmcb01. */
	VMCB_U32(stub.vmcb01, VMCB_ICPT_MISC2) |= ICPT2_VMMCALL;
	smp_protect_apic();
	smp_start_aps(ncpus, ap_main);
	bm_printf("stub: starting L1 (nesting %s)\n", nested_available() ? "on" : "off");
	run();
}
