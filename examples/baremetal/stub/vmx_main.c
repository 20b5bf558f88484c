/* SPDX-License-Identifier: MIT */
/*
 * The L0 stub on Intel VMX: enters VMX operation, gives L1 a machine like
 * the one the stub got (its RAM behind EPT01, devices passed through),
 * boots L1 by the multiboot protocol and runs it on vmcs01, handling the
 * few exits nesting needs; L1's VMX goes to libnest (vmx_nested.c).
 *
 * L1 starts as a multiboot loader leaves it: 32-bit protected mode without
 * paging, which VMX runs as an "unrestricted guest" (SDM 27.3.1.1). L1 owns
 * its CR0, CR4 and EFER except the bits VMX fixes (CR0.NE, CR4.VMXE), which
 * L0 owns with L1's view in the read shadows. Interrupts go straight to L1
 * (no external-interrupt exiting in vmcs01).
 *
 * Stub command line: "pool=MIB" (the stub's own page pool, default 32),
 * "l1mem=MIB" (L1's RAM, default: all the rest) and "posted" (offer L1
 * posted interrupts, and with them the whole of APIC virtualization as KVM
 * and kvm-unit-tests want it; off by default: see vmx_nested.c).
 */
#include <nest/cpu.h>

#include "backend.h"
#include "cr4_cpuid.h"
#include "bochs.h"
#include "smp_core.h"
#include "vmx_stub.h"

#define L1_VPID 1
#define FLAT_LIMIT 0xFFFFFFFFu
#define TABLE_LIMIT 0xFFFFu
#define DR7_RESET 0x400ull
#define LINK_POINTER_NONE UINT64_MAX
#define TSS_SIZE 128
#define SEL_TR 0x20 /* VM exits load TR from the VMCS: no GDT entry is read */
#define BOCHS_SHUTDOWN_PORT 0x8900
#define DEBUG_EXIT_PORTS 4
#define MSR_BITMAP_WRITE_OFF 2048 /* write bitmap for low MSRs (SDM 25.6.9) */
#define IO_BITMAP_PORTS_A 0x8000u
#define LOW32 0xFFFFFFFFull
#define INTR_BLOCK_MOVSS (1ull << 1)
#define INTR_BLOCK_NMI (1ull << 3)
#define CR0_INIT 0x60000010ull /* CD, NW, ET (SDM Table 9-1) */
#define AR_CODE16 0x009Bu /* execute/read accessed, S, P: real mode after SIPI */
#define AR_DATA16 0x0093u /* read/write accessed, S, P */

static uint8_t host_tss[TSS_SIZE] __attribute__((aligned(16)));

struct dtr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* ---- VMCS access ---- */

void vmcs_load(uint8_t *vmcs)
{
	if (vs.current == vmcs)
		return;
	if (!vmptrld((uint64_t)(uintptr_t)vmcs))
		bm_panic("stub: VMPTRLD %p failed\n", (void *)vmcs);
	vs.current = vmcs;
}

uint64_t vmr(uint32_t field)
{
	uint64_t v;
	if (!vmread_checked(field, &v))
		bm_panic("stub: VMREAD %#x failed\n", field);
	return v;
}

void vmw(uint32_t field, uint64_t value)
{
	if (!vmwrite_checked(field, value))
		bm_panic("stub: VMWRITE %#x = %#llx failed (error %llu)\n", field,
			 (unsigned long long)value,
			 (unsigned long long)vmr(NEST_VMCS_VM_INSTRUCTION_ERROR));
}

uint32_t ctl_adjust(uint64_t cap, uint32_t want, const char *what)
{
	uint32_t must = (uint32_t)cap, may = (uint32_t)(cap >> 32);
	if (want & ~may)
		bm_panic("stub: the CPU lacks %s controls %#x\n", what, want & ~may);
	return want | must;
}

uint64_t gpr_get(unsigned reg)
{
	return reg == GPR_RSP ? vmr(NEST_VMCS_GUEST_RSP) : vs.gpr[reg];
}

void gpr_set(unsigned reg, uint64_t value)
{
	if (reg == GPR_RSP)
		vmw(NEST_VMCS_GUEST_RSP, value);
	else
		vs.gpr[reg] = value;
}

void skip_insn(void)
{
	vmw(NEST_VMCS_GUEST_RIP,
	    vmr(NEST_VMCS_GUEST_RIP) + vmr(NEST_VMCS_VM_EXIT_INSTRUCTION_LEN));
	/* Blocking by STI or MOV SS ends with the instruction (SDM 25.4.2). */
	vmw(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO,
	    vmr(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO) & ~3ull);
	vs.insn_done = true;
}

void inject_exception(unsigned vector, bool has_error, uint32_t error)
{
	uint32_t info = NEST_VMX_INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | vector;
	if (has_error) {
		info |= NEST_VMX_INTR_INFO_DELIVER_ERROR_CODE;
		vmw(NEST_VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE, error);
	}
	vmw(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD, info);
}

void raise_exception(unsigned vector, bool has_error, uint32_t error)
{
	if (vs.in_l2)
		vmx_nested_l2_exception(vector, error);
	else
		inject_exception(vector, has_error, error);
}

/* ---- figures and failures ---- */

void vmx_fatal(const char *why)
{
	if (vs.current) {
		bm_printf("stub: %s: %s exit reason %#llx qualification %#llx at rip %#llx "
			  "(cr0 %#llx cr3 %#llx cr4 %#llx efer %#llx, intr info %#llx, "
			  "idt-vectoring %#llx, instruction error %llu)\n",
			  why, vs.in_l2 ? "L2" : "L1",
			  (unsigned long long)vmr(NEST_VMCS_VM_EXIT_REASON),
			  (unsigned long long)vmr(NEST_VMCS_EXIT_QUALIFICATION),
			  (unsigned long long)vmr(NEST_VMCS_GUEST_RIP),
			  (unsigned long long)vmr(NEST_VMCS_GUEST_CR0),
			  (unsigned long long)vmr(NEST_VMCS_GUEST_CR3),
			  (unsigned long long)vmr(NEST_VMCS_GUEST_CR4),
			  (unsigned long long)vmr(NEST_VMCS_GUEST_IA32_EFER),
			  (unsigned long long)vmr(NEST_VMCS_VM_EXIT_INTR_INFO),
			  (unsigned long long)vmr(NEST_VMCS_IDT_VECTORING_INFO_FIELD),
			  (unsigned long long)vmr(NEST_VMCS_VM_INSTRUCTION_ERROR));
		bm_printf("stub: controls pin %#llx proc %#llx proc2 %#llx exit %#llx entry %#llx\n",
			  (unsigned long long)vmr(NEST_VMCS_PIN_BASED_VM_EXEC_CONTROL),
			  (unsigned long long)vmr(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL),
			  (unsigned long long)vmr(NEST_VMCS_SECONDARY_VM_EXEC_CONTROL),
			  (unsigned long long)vmr(NEST_VMCS_VM_EXIT_CONTROLS),
			  (unsigned long long)vmr(NEST_VMCS_VM_ENTRY_CONTROLS));
	} else {
		bm_printf("stub: %s\n", why);
	}
	l1_move_report();
	stub_print_figures();
	bm_printf("e2e vmx: FAIL (stub: %s)\n", why);
	bm_serial_drain();
	bm_bochs_shutdown();
}

/* ---- VMX operation ---- */

static uint64_t rdmsr_if(bool present, uint32_t msr)
{
	return present ? rdmsr(msr) : 0;
}

static void vmx_enable(void)
{
	uint32_t a, b, c, d;
	struct nest_vmx_caps *h = &vs.host;

	cpuid(CPUID_FEATURES, 0, &a, &b, &c, &d);
	if (!(c & CPUID_1_ECX_VMX))
		bm_panic("stub: this CPU has no VMX (Bochs: cpuid vmx=2)\n");
	uint64_t fc = rdmsr(MSR_FEATURE_CONTROL);
	if (!(fc & FC_LOCK))
		wrmsr(MSR_FEATURE_CONTROL, fc | FC_LOCK | FC_VMXON_OUTSIDE_SMX);
	else if (!(fc & FC_VMXON_OUTSIDE_SMX))
		bm_panic("stub: VMX is locked off by IA32_FEATURE_CONTROL\n");

	/* The capability MSRs (SDM A.1-A.11), each read only if it exists. */
	*h = (struct nest_vmx_caps){.size = sizeof(*h)};
	h->basic = rdmsr(MSR_VMX_BASIC);
	h->pinbased = rdmsr(MSR_VMX_PINBASED);
	h->procbased = rdmsr(MSR_VMX_PROCBASED);
	h->exit = rdmsr(MSR_VMX_EXIT);
	h->entry = rdmsr(MSR_VMX_ENTRY);
	h->misc = rdmsr(MSR_VMX_MISC);
	h->cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
	h->cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
	h->cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
	h->cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);
	/* CR4 follows the CPUID L1 is shown (the processor's, handle_cpuid()):
	 * a bit of a feature it does not report may not be set, by L1 or by
	 * L2 (cr4_cpuid.h), whatever IA32_VMX_CR4_FIXED1 allows. */
	{
		uint32_t max, ebx7 = 0, ecx7 = 0, x;
		cpuid(0, 0, &max, &x, &x, &x);
		if (max >= 7)
			cpuid(7, 0, &x, &ebx7, &ecx7, &x);
		vs.cr4_unreported = cr4_unreported(max, c, ebx7, ecx7);
		h->cr4_fixed1 &= ~vs.cr4_unreported;
	}
	h->vmcs_enum = rdmsr(MSR_VMX_VMCS_ENUM);
	bool secondary = (h->procbased >> 32) & NEST_VMX_PROC_ACTIVATE_SECONDARY;
	h->procbased2 = rdmsr_if(secondary, MSR_VMX_PROCBASED2);
	uint32_t p2 = (uint32_t)(h->procbased2 >> 32);
	h->ept_vpid = rdmsr_if(p2 & (NEST_VMX_PROC2_ENABLE_EPT | NEST_VMX_PROC2_ENABLE_VPID), MSR_VMX_EPT_VPID);
	bool true_ctls = h->basic & VMX_BASIC_TRUE_CTLS;
	h->true_pinbased = rdmsr_if(true_ctls, MSR_VMX_TRUE_PINBASED);
	h->true_procbased = rdmsr_if(true_ctls, MSR_VMX_TRUE_PROCBASED);
	h->true_exit = rdmsr_if(true_ctls, MSR_VMX_TRUE_EXIT);
	h->true_entry = rdmsr_if(true_ctls, MSR_VMX_TRUE_ENTRY);
	h->feature_control = rdmsr(MSR_FEATURE_CONTROL);
	cpuid(CPUID_ADDR_SIZES, 0, &a, &b, &c, &d);
	h->maxphyaddr = a & 0xFF;
	if (!(p2 & NEST_VMX_PROC2_ENABLE_EPT) || !(p2 & NEST_VMX_PROC2_UNRESTRICTED_GUEST))
		bm_panic("stub: EPT and unrestricted guest are required\n");

	vs.revision = (uint32_t)h->basic & 0x7FFFFFFFu;
	bm_printf("stub: VMX revision %#x, controls pin %#llx (true %#llx) proc %#llx (true %#llx) "
		  "proc2 %#llx, EPT/VPID %#llx, misc %#llx\n",
		  vs.revision, (unsigned long long)h->pinbased, (unsigned long long)h->true_pinbased,
		  (unsigned long long)h->procbased, (unsigned long long)h->true_procbased,
		  (unsigned long long)h->procbased2, (unsigned long long)h->ept_vpid,
		  (unsigned long long)h->misc);

	write_cr0((read_cr0() | h->cr0_fixed0) & h->cr0_fixed1);
	write_cr4((read_cr4() | h->cr4_fixed0 | CR4_VMXE) & h->cr4_fixed1);
	vs.vmxon = bm_page_alloc();
	*(uint32_t *)vs.vmxon = vs.revision;
	if (!vmxon((uint64_t)(uintptr_t)vs.vmxon))
		bm_panic("stub: VMXON failed\n");
}

/* Intercepts ports [port, port + n) in the I/O bitmaps (SDM 25.6.4). */
static void io_intercept(uint16_t port, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned p = port + i;
		vs.io_bitmap[p / 8] |= (uint8_t)(1u << (p % 8));
	}
}

/* Intercepts reads and writes of a low MSR (0-1FFFH) in the MSR bitmap (SDM 25.6.9). */
static void msr_intercept(uint32_t msr)
{
	vs.msr_bitmap[msr / 8] |= (uint8_t)(1u << (msr % 8));
	vs.msr_bitmap[MSR_BITMAP_WRITE_OFF + msr / 8] |= (uint8_t)(1u << (msr % 8));
}

static void guest_seg(uint32_t sel_field, uint16_t sel, uint32_t limit, uint32_t ar,
		      uint64_t base)
{
	/* Selector, limit, access rights and base of ES..TR are laid out in parallel. */
	unsigned idx = (sel_field - NEST_VMCS_GUEST_ES_SELECTOR) / 2;

	vmw(sel_field, sel);
	vmw(NEST_VMCS_GUEST_ES_LIMIT + 2 * idx, limit);
	vmw(NEST_VMCS_GUEST_ES_AR_BYTES + 2 * idx, ar);
	vmw(NEST_VMCS_GUEST_ES_BASE + 2 * idx, base);
}

/* The guest's RFLAGS, RSP, EFER, PAT, debug and SYSENTER MSRs and
 * non-register state as a reset leaves them (SDM Table 9-1), in the
 * current VMCS: vmcs01 at L1's start and at its INIT. */
static void guest_reset_regs(void)
{
	vmw(NEST_VMCS_GUEST_RFLAGS, RFLAGS_FIXED);
	vmw(NEST_VMCS_GUEST_RSP, 0);
	vmw(NEST_VMCS_GUEST_IA32_EFER, 0);
	vmw(NEST_VMCS_GUEST_IA32_PAT, PAT_DEFAULT);
	vmw(NEST_VMCS_GUEST_IA32_DEBUGCTL, 0);
	vmw(NEST_VMCS_GUEST_SYSENTER_CS, 0);
	vmw(NEST_VMCS_GUEST_SYSENTER_ESP, 0);
	vmw(NEST_VMCS_GUEST_SYSENTER_EIP, 0);
	vmw(NEST_VMCS_GUEST_ACTIVITY_STATE, 0);
	vmw(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	vmw(NEST_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
}

static void host_state(void)
{
	struct dtr gdtr, idtr;

	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	__asm__ volatile("sidt %0" : "=m"(idtr));
	vmw(NEST_VMCS_HOST_CR0, read_cr0());
	vmw(NEST_VMCS_HOST_CR3, read_cr3());
	vmw(NEST_VMCS_HOST_CR4, read_cr4());
	vmw(NEST_VMCS_HOST_CS_SELECTOR, BM_SEL_CODE64);
	vmw(NEST_VMCS_HOST_SS_SELECTOR, BM_SEL_DATA);
	vmw(NEST_VMCS_HOST_DS_SELECTOR, BM_SEL_DATA);
	vmw(NEST_VMCS_HOST_ES_SELECTOR, BM_SEL_DATA);
	vmw(NEST_VMCS_HOST_FS_SELECTOR, 0);
	vmw(NEST_VMCS_HOST_GS_SELECTOR, 0);
	vmw(NEST_VMCS_HOST_TR_SELECTOR, SEL_TR);
	vmw(NEST_VMCS_HOST_FS_BASE, 0);
	vmw(NEST_VMCS_HOST_GS_BASE, 0);
	vmw(NEST_VMCS_HOST_TR_BASE, (uint64_t)(uintptr_t)host_tss);
	vmw(NEST_VMCS_HOST_GDTR_BASE, gdtr.base);
	vmw(NEST_VMCS_HOST_IDTR_BASE, idtr.base);
	vmw(NEST_VMCS_HOST_IA32_SYSENTER_CS, 0);
	vmw(NEST_VMCS_HOST_IA32_SYSENTER_ESP, 0);
	vmw(NEST_VMCS_HOST_IA32_SYSENTER_EIP, 0);
	vmw(NEST_VMCS_HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmw(NEST_VMCS_HOST_IA32_PAT, rdmsr(MSR_PAT));
	vmw(NEST_VMCS_HOST_RIP, (uint64_t)(uintptr_t)bm_vmx_exit_entry);
	vmw(NEST_VMCS_HOST_RSP, 0); /* bm_vmx_run writes the real value */
}

/* vmcs01: L1 as a multiboot loader leaves it (Multiboot Specification 3.2). */
static void vmcs01_init(const struct l1_boot *boot)
{
	const struct nest_vmx_caps *h = &vs.host;
	bool t = h->basic & VMX_BASIC_TRUE_CTLS;

	vs.vmcs01 = bm_page_alloc();
	*(uint32_t *)vs.vmcs01 = vs.revision;
	if (!vmclear((uint64_t)(uintptr_t)vs.vmcs01))
		bm_panic("stub: VMCLEAR of vmcs01 failed\n");
	vmcs_load(vs.vmcs01);

	vs.io_bitmap = bm_pages_alloc(2, BM_PAGE_SIZE);
	vs.msr_bitmap = bm_page_alloc();
	io_intercept(BM_DEBUG_EXIT_PORT, DEBUG_EXIT_PORTS); /* to print the figures first */
	io_intercept(BOCHS_SHUTDOWN_PORT, 1);
	msr_intercept(MSR_FEATURE_CONTROL);
	msr_intercept(MSR_APIC_BASE);
	msr_intercept(MSR_DEBUGCTL); /* the VMCS field holds it (debugctl_msr()) */
	for (uint32_t m = X2APIC_MSRS; m < X2APIC_MSRS + X2APIC_MSR_COUNT; m++)
		msr_intercept(m); /* L1's x2APIC (vmx_x2apic.c) */
	vs.apic_base = rdmsr(MSR_APIC_BASE);
	for (uint32_t m = MSR_VMX_BASIC; m <= MSR_VMX_LAST; m++)
		msr_intercept(m);

	/* Several processors: NMIs are the stub's kicks too (vmx_smp.c), and
	 * L1's own NMIs are injected at its NMI window (virtual NMIs). */
	vmw(NEST_VMCS_PIN_BASED_VM_EXEC_CONTROL,
	    ctl_adjust(t ? h->true_pinbased : h->pinbased,
		       stub_ncpus > 1 ? NEST_VMX_PIN_NMI_EXITING | NEST_VMX_PIN_VIRTUAL_NMIS : 0,
		       "pin-based"));
	vmw(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL,
	    ctl_adjust(t ? h->true_procbased : h->procbased,
		       NEST_VMX_PROC_USE_IO_BITMAPS | NEST_VMX_PROC_USE_MSR_BITMAPS | NEST_VMX_PROC_ACTIVATE_SECONDARY,
		       "processor-based"));
	uint32_t p2 = NEST_VMX_PROC2_ENABLE_EPT | NEST_VMX_PROC2_UNRESTRICTED_GUEST;
	if ((h->procbased2 >> 32) & NEST_VMX_PROC2_ENABLE_VPID)
		p2 |= NEST_VMX_PROC2_ENABLE_VPID;
	/* L1 sees the CPU's CPUID: the instructions it reports must work in
	 * L1, and without these controls RDTSCP, INVPCID and XSAVES/XRSTORS
	 * raise #UD in a guest (SDM 25.6.2; Linux uses RDTSCP as soon as
	 * CPUID reports it). Set where the CPU allows them. */
	p2 |= (uint32_t)(h->procbased2 >> 32) &
	      (NEST_VMX_PROC2_ENABLE_RDTSCP | NEST_VMX_PROC2_ENABLE_INVPCID |
	       NEST_VMX_PROC2_ENABLE_XSAVES);
	/* VMCS shadowing: L1's VMREAD and VMWRITE of the fields libnest marks
	 * shadowable run without exits on a shadow VMCS libnest keeps in step
	 * with vmcs12 (SDM 25.10, 26.3). Linked while L1 has a current VMCS. */
	if ((h->procbased2 >> 32) & NEST_VMX_PROC2_VMCS_SHADOWING) {
		p2 |= NEST_VMX_PROC2_VMCS_SHADOWING;
		vs.shadow = bm_page_alloc();
		*(uint32_t *)vs.shadow = vs.revision | VMCS_SHADOW_INDICATOR;
		if (!vmclear((uint64_t)(uintptr_t)vs.shadow))
			bm_panic("stub: VMCLEAR of the shadow VMCS failed\n");
		uint8_t *rd = bm_page_alloc(), *wr = bm_page_alloc();
		if (nest_vmx_shadow_bitmaps(rd, wr) != NEST_OK)
			bm_panic("stub: nest_vmx_shadow_bitmaps failed\n");
		vmw(NEST_VMCS_VMREAD_BITMAP, (uint64_t)(uintptr_t)rd);
		vmw(NEST_VMCS_VMWRITE_BITMAP, (uint64_t)(uintptr_t)wr);
	}
	vmw(NEST_VMCS_SECONDARY_VM_EXEC_CONTROL, ctl_adjust(h->procbased2, p2, "secondary"));
	/* L1's DR7 and DEBUGCTL survive L0's exits only if vmcs01 saves and
	 * loads them: a VM exit sets DR7 to 400H and clears DEBUGCTL (SDM
	 * 28.5.1), and libnest reads L1's values from vmcs01 for an L2 that
	 * L1 enters without "load debug controls" (SDM 27.3.2.1). */
	vmw(NEST_VMCS_VM_EXIT_CONTROLS,
	    ctl_adjust(t ? h->true_exit : h->exit,
		       NEST_VMX_EXIT_CTL_SAVE_DEBUG_CONTROLS | NEST_VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE | NEST_VMX_EXIT_CTL_SAVE_EFER |
			   NEST_VMX_EXIT_CTL_LOAD_EFER | NEST_VMX_EXIT_CTL_SAVE_PAT | NEST_VMX_EXIT_CTL_LOAD_PAT,
		       "VM-exit"));
	vmw(NEST_VMCS_VM_ENTRY_CONTROLS,
	    ctl_adjust(t ? h->true_entry : h->entry,
		       NEST_VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS | NEST_VMX_ENTRY_CTL_LOAD_EFER | NEST_VMX_ENTRY_CTL_LOAD_PAT, "VM-entry"));
	vmw(NEST_VMCS_EXCEPTION_BITMAP, 0);
	vmw(NEST_VMCS_IO_BITMAP_A, (uint64_t)(uintptr_t)vs.io_bitmap);
	vmw(NEST_VMCS_IO_BITMAP_B, (uint64_t)(uintptr_t)vs.io_bitmap + BM_PAGE_SIZE);
	vmw(NEST_VMCS_MSR_BITMAP, (uint64_t)(uintptr_t)vs.msr_bitmap);
	if (p2 & NEST_VMX_PROC2_ENABLE_VPID)
		vmw(NEST_VMCS_VIRTUAL_PROCESSOR_ID, L1_VPID);
	vs.eptp01 = (uint64_t)(uintptr_t)stub.npt01 | EPTP_WB | EPTP_WALK_4;
	vmw(NEST_VMCS_EPT_POINTER, vs.eptp01);

	/* L0 owns the bits VMX fixes (besides PE and PG, free for an
	 * unrestricted guest) and the ones it forbids; L1 sees its own. */
	vs.cr0_mask = (h->cr0_fixed0 & ~(CR0_PE | CR0_PG)) | (~h->cr0_fixed1 & LOW32);
	vs.cr4_mask = h->cr4_fixed0 | (~h->cr4_fixed1 & LOW32);
	uint64_t cr0 = CR0_PE | CR0_ET, cr4 = 0;
	vmw(NEST_VMCS_CR0_GUEST_HOST_MASK, vs.cr0_mask);
	vmw(NEST_VMCS_CR4_GUEST_HOST_MASK, vs.cr4_mask);
	vmw(NEST_VMCS_CR0_READ_SHADOW, cr0);
	vmw(NEST_VMCS_CR4_READ_SHADOW, cr4);
	vmw(NEST_VMCS_GUEST_CR0, (cr0 | (h->cr0_fixed0 & ~(CR0_PE | CR0_PG))) & h->cr0_fixed1);
	vmw(NEST_VMCS_GUEST_CR4, (cr4 | h->cr4_fixed0) & h->cr4_fixed1);
	vmw(NEST_VMCS_GUEST_CR3, 0);
	vmw(NEST_VMCS_GUEST_DR7, DR7_RESET);

	guest_seg(NEST_VMCS_GUEST_CS_SELECTOR, boot->cs_sel, FLAT_LIMIT, AR_CODE32, 0);
	guest_seg(NEST_VMCS_GUEST_SS_SELECTOR, boot->ds_sel, FLAT_LIMIT, AR_DATA32, 0);
	guest_seg(NEST_VMCS_GUEST_DS_SELECTOR, boot->ds_sel, FLAT_LIMIT, AR_DATA32, 0);
	guest_seg(NEST_VMCS_GUEST_ES_SELECTOR, boot->ds_sel, FLAT_LIMIT, AR_DATA32, 0);
	guest_seg(NEST_VMCS_GUEST_FS_SELECTOR, boot->ds_sel, FLAT_LIMIT, AR_DATA32, 0);
	guest_seg(NEST_VMCS_GUEST_GS_SELECTOR, boot->ds_sel, FLAT_LIMIT, AR_DATA32, 0);
	guest_seg(NEST_VMCS_GUEST_LDTR_SELECTOR, 0, TABLE_LIMIT, AR_LDT, 0);
	guest_seg(NEST_VMCS_GUEST_TR_SELECTOR, 0, TABLE_LIMIT, AR_TSS32_BUSY, 0);
	vmw(NEST_VMCS_GUEST_GDTR_BASE, 0);
	vmw(NEST_VMCS_GUEST_GDTR_LIMIT, TABLE_LIMIT);
	vmw(NEST_VMCS_GUEST_IDTR_BASE, 0);
	vmw(NEST_VMCS_GUEST_IDTR_LIMIT, TABLE_LIMIT);
	vmw(NEST_VMCS_GUEST_RIP, boot->rip);
	guest_reset_regs();
	vmw(NEST_VMCS_VMCS_LINK_POINTER, LINK_POINTER_NONE);
	host_state();

	vs.gpr[GPR_RAX] = boot->rax;
	vs.gpr[GPR_RBX] = boot->rbx;
	vs.gpr[GPR_RSI] = boot->rsi;
}

/* ---- L1's exits ---- */

static void handle_cpuid(void)
{
	uint32_t leaf = (uint32_t)vs.gpr[GPR_RAX], sub = (uint32_t)vs.gpr[GPR_RCX];
	uint32_t r[4];

	/* L1 sees the CPU's own answers, VMX included: libnest offers it; and
	 * an x2APIC, which the stub carries out on the xAPIC (vmx_x2apic.c). */
	cpuid(leaf, sub, &r[0], &r[1], &r[2], &r[3]);
	if (leaf == CPUID_FEATURES)
		r[2] |= CPUID_1_ECX_X2APIC;
	/* The bits that report software state (OSXSAVE, OSPKE, APIC) are L1's,
	 * not the stub's: L1 owns both CR4 bits, so vmcs01's guest CR4 holds
	 * them, and its IA32_APIC_BASE is its own view. */
	nest_x86_cpuid_guest_state(leaf, sub, r, vmr(NEST_VMCS_GUEST_CR4), vs.apic_base);
	vs.gpr[GPR_RAX] = r[0];
	vs.gpr[GPR_RBX] = r[1];
	vs.gpr[GPR_RCX] = r[2];
	vs.gpr[GPR_RDX] = r[3];
	skip_insn();
}

/*
 * IA32_APIC_BASE as L1 sees it. L0's local APIC stays globally enabled
 * whatever L1 writes: Bochs 2.7 ignores a set of EN after a clear, which
 * real processors honour (SDM 11.4.3), and L0 reads the APIC itself (the
 * IRR, for L2's interrupts). L1 reads back its own value. Clearing EN
 * software-disables the APIC (SPIV bit 8, as after a reset: SDM 11.4.7.1,
 * 11.4.7.2) so that it delivers nothing to L1 until L1 enables it again;
 * the register page stays reachable, which a disabled APIC would not be.
 * EXTD is L1's alone: the processor's APIC stays in xAPIC mode and L1's
 * x2APIC is carried out on it (vmx_x2apic.c). A write that sets a reserved
 * bit, sets EXTD without EN, goes from x2APIC to xAPIC mode without
 * disabling the APIC first, or from disabled to x2APIC mode, is refused
 * with #GP (SDM 11.12.5, figure 11-27).
 */
static bool apic_base_msr(bool write, uint64_t *val)
{
	if (!write) {
		*val = vs.apic_base;
		return true;
	}
	uint64_t writable = APIC_BASE_EN | APIC_BASE_EXTD |
			    (APIC_BASE_ADDR_MASK & ((1ull << vs.host.maxphyaddr) - 1));
	uint64_t v = *val & ~APIC_BASE_BSP;
	bool x2 = vmx_x2apic_mode(), on = (vs.apic_base & APIC_BASE_EN) != 0;
	if ((v & ~writable) || ((v & APIC_BASE_EXTD) && !(v & APIC_BASE_EN)) ||
	    (x2 && (v & APIC_BASE_EN) && !(v & APIC_BASE_EXTD)) || (!on && (v & APIC_BASE_EXTD)))
		return false;
	uint64_t hw = rdmsr(MSR_APIC_BASE);
	volatile uint32_t *spiv =
	    (volatile uint32_t *)(uintptr_t)((hw & APIC_BASE_ADDR_MASK) + APIC_SPIV);
	if ((vs.apic_base & APIC_BASE_EN) && !(v & APIC_BASE_EN))
		*spiv &= ~APIC_SPIV_ENABLE;
	uint64_t want =
	    (hw & APIC_BASE_BSP) | (v & ~(APIC_BASE_EN | APIC_BASE_EXTD)) | APIC_BASE_EN;
	if (want != hw)
		wrmsr(MSR_APIC_BASE, want);
	vs.apic_base = (hw & APIC_BASE_BSP) | v;
	return true;
}

/* L1's shutdown: the figures first, then the port (Bochs powers off at "Shutdown"). */
static void port_out(uint16_t port, unsigned size, uint32_t val)
{
	if (port >= BM_DEBUG_EXIT_PORT && port < BM_DEBUG_EXIT_PORT + DEBUG_EXIT_PORTS) {
		bm_printf("stub: L1 wrote %#x to the debug-exit port\n", val);
		l1_move_report();
	stub_print_figures();
		vs.figures_printed = true;
		/* Bochs has no debug-exit device: L1 asked to power off, so do
		 * it, once the UART has sent L1's last bytes and the figures. */
		if (bm_bochs_present())
			bm_bochs_shutdown();
	} else if (port == BOCHS_SHUTDOWN_PORT && !vs.figures_printed) {
		l1_move_report();
	stub_print_figures();
		vs.figures_printed = true;
	}
	if (port == BOCHS_SHUTDOWN_PORT)
		bm_serial_drain();
	if (size == 1)
		outb(port, (uint8_t)val);
	else if (size == 2)
		outw(port, (uint16_t)val);
	else
		outl(port, val);
}

bool l0_port_io(uint64_t qual)
{
	uint16_t port = IOQ_PORT(qual);
	unsigned size = IOQ_SIZE(qual);

	if (!(port >= BM_DEBUG_EXIT_PORT && port < BM_DEBUG_EXIT_PORT + DEBUG_EXIT_PORTS) &&
	    port != BOCHS_SHUTDOWN_PORT)
		return false;
	if (qual & IOQ_STRING)
		vmx_fatal("string I/O on a port L0 intercepts");
	if (qual & IOQ_IN) {
		uint32_t v = size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
		uint64_t mask = size == 4 ? LOW32 : (1ull << (8 * size)) - 1;
		vs.gpr[GPR_RAX] = size == 4 ? v : (vs.gpr[GPR_RAX] & ~mask) | (v & mask);
	} else {
		port_out(port, size, (uint32_t)vs.gpr[GPR_RAX]);
	}
	skip_insn();
	return true;
}

/*
 * vmcs02 exits on CR8 when L1 gives L2 neither a TPR shadow nor CR8
 * exiting, so that L2 never reaches a TPR L0 has not granted (SDM 29.1).
 * The stub has granted it: the local APIC is L1's, and L1 lets L2 use it,
 * so the stub carries the MOV out on the processor's TPR.
 */
bool l0_cr8_access(uint64_t qual)
{
	unsigned type = CRQ_TYPE(qual);

	/* L2's MOV to CR4 comes to L0 only for the bits L0 owns in vmcs02,
	 * those of features L1's CPUID does not report (vmx_nested.c): L2 set
	 * one, a reserved bit (SDM Vol. 3A 2.5). */
	if (CRQ_CR(qual) == 4 && type == CRQ_TYPE_MOV_TO &&
	    (gpr_get(CRQ_GPR(qual)) & vs.cr4_unreported)) {
		raise_exception(VEC_GP, true, 0);
		return true;
	}
	if (CRQ_CR(qual) != 8 || (type != CRQ_TYPE_MOV_TO && type != CRQ_TYPE_MOV_FROM))
		return false;
	if (type == CRQ_TYPE_MOV_TO) {
		uint64_t v = gpr_get(CRQ_GPR(qual));
		__asm__ volatile("mov %0, %%cr8" ::"r"(v));
	} else {
		uint64_t v;
		__asm__ volatile("mov %%cr8, %0" : "=r"(v));
		gpr_set(CRQ_GPR(qual), v);
	}
	skip_insn();
	return true;
}

/*
 * MOV to CR0/CR4, CLTS or LMSW that would change a bit L0 owns (SDM
 * 26.1.3): L1's view goes to the read shadow, the real register keeps the
 * VMX fixed bits; a bit VMX forbids raises #GP as the CPU would.
 */
static void handle_cr(void)
{
	uint64_t q = vmr(NEST_VMCS_EXIT_QUALIFICATION);
	unsigned cr = CRQ_CR(q), type = CRQ_TYPE(q);
	const struct nest_vmx_caps *h = &vs.host;
	uint64_t val;

	if (cr == 0 && type == CRQ_TYPE_CLTS) {
		val = vmr(NEST_VMCS_CR0_READ_SHADOW) & ~(1ull << 3);
	} else if (cr == 0 && type == CRQ_TYPE_LMSW) {
		/* LMSW loads bits 3:0 and cannot clear PE (SDM Vol. 2A, LMSW). */
		uint64_t old = vmr(NEST_VMCS_CR0_READ_SHADOW);
		val = (old & ~0xEull) | (CRQ_LMSW_DATA(q) & 0xFu) | (old & CR0_PE);
	} else if (type == CRQ_TYPE_MOV_TO && (cr == 0 || cr == 4)) {
		val = gpr_get(CRQ_GPR(q));
	} else {
		vmx_fatal("unexpected control-register exit of L1");
	}
	if (cr == 0) {
		uint64_t fixed0 = h->cr0_fixed0 & ~(CR0_PE | CR0_PG);
		if ((val >> 32) || (val & ~h->cr0_fixed1 & LOW32 & ~fixed0)) {
			inject_exception(VEC_GP, true, 0);
			return;
		}
		uint64_t efer = vmr(NEST_VMCS_GUEST_IA32_EFER);
		uint64_t old = vmr(NEST_VMCS_GUEST_CR0);
		uint32_t entry = (uint32_t)vmr(NEST_VMCS_VM_ENTRY_CONTROLS);
		/* Paging turned on or off with EFER.LME: IA-32e mode follows (SDM 10.8.5). */
		if ((val & CR0_PG) && !(old & CR0_PG) && (efer & EFER_LME)) {
			efer |= EFER_LMA;
			entry |= NEST_VMX_ENTRY_CTL_IA32E_MODE_GUEST;
		} else if (!(val & CR0_PG) && (old & CR0_PG)) {
			efer &= ~EFER_LMA;
			entry &= ~NEST_VMX_ENTRY_CTL_IA32E_MODE_GUEST;
		}
		vmw(NEST_VMCS_GUEST_IA32_EFER, efer);
		vmw(NEST_VMCS_VM_ENTRY_CONTROLS, entry);
		vmw(NEST_VMCS_CR0_READ_SHADOW, val);
		vmw(NEST_VMCS_GUEST_CR0, (val | fixed0) & h->cr0_fixed1);
	} else {
		if ((val >> 32) || (val & ~h->cr4_fixed1 & LOW32)) {
			inject_exception(VEC_GP, true, 0);
			return;
		}
		vmw(NEST_VMCS_CR4_READ_SHADOW, val);
		vmw(NEST_VMCS_GUEST_CR4, val | h->cr4_fixed0);
	}
	skip_insn();
}

/* IA32_DEBUGCTL bits a VM entry rejects in the guest field (SDM 27.3.1.1). */
#define DEBUGCTL_RESERVED 0xffffffffffff003cull

/*
 * IA32_DEBUGCTL of the guest that exited (L1 on vmcs01, L2 on vmcs02, the
 * current VMCS). Bochs 2.7 has the VMCS field, which VM entries load and
 * VM exits save, but not the MSR (RDMSR and WRMSR of it fault once Bochs
 * is told to fault on MSRs it lacks), where the processors the stub's
 * CPUID names all have it: the guest's value lives in that field. A
 * reserved bit is a #GP (false).
 */
static bool debugctl_msr(bool write, uint64_t *val)
{
	if (!write) {
		*val = vmr(NEST_VMCS_GUEST_IA32_DEBUGCTL);
		return true;
	}
	if (*val & DEBUGCTL_RESERVED)
		return false;
	vmw(NEST_VMCS_GUEST_IA32_DEBUGCTL, *val);
	return true;
}

/* The value of an MSR as the guest that exited sees it, for L1's VM-exit
 * MSR-store list: L1's own view where L0 keeps one (IA32_APIC_BASE, the
 * VMX MSRs libnest answers), else the processor's, which L1 and L2 share.
 * IA32_TSC is L1's (the stub runs L1 without TSC offsetting) as the exit
 * left it, not as it is when libnest stores the list. */
bool stub_guest_rdmsr(uint32_t msr, uint64_t *value)
{
	bool gp = false;

	if (msr == MSR_IA32_TSC) {
		*value = bm_vmx_exit_tsc;
		return true;
	}
	if (msr == MSR_APIC_BASE) {
		*value = vs.apic_base;
		return true;
	}
	if (msr == MSR_DEBUGCTL) {
		vmcs_load(vs.vmcs02); /* L2's, as its exit saved it */
		return debugctl_msr(false, value);
	}
	if (vmx_nested_msr(msr, false, value, &gp))
		return !gp;
	return stub_rdmsr_safe(msr, value);
}

/* RDMSR or WRMSR at CPL 0 as L1's vCPU has them: L1's own view where L0
 * keeps one (IA32_APIC_BASE, the VMX MSRs libnest answers), else the
 * processor's, which L1 and L2 share (the MSR bitmaps pass the others, and
 * an MSR outside the bitmaps' ranges always exits, SDM 26.1.3: the CPU's
 * too, its #GP L1's). False where the instruction faults. */
static bool l1_msr(uint32_t msr, bool write, uint64_t *val)
{
	bool gp = false;

	if (msr == MSR_APIC_BASE)
		return apic_base_msr(write, val);
	if (msr == MSR_DEBUGCTL)
		return debugctl_msr(write, val);
	if (vmx_x2apic_msr(msr, write, val, &gp))
		return !gp;
	if (vmx_nested_msr(msr, write, val, &gp))
		return !gp;
	return write ? stub_wrmsr_safe(msr, *val) : stub_rdmsr_safe(msr, val);
}

bool vmx_l1_wrmsr(uint32_t msr, uint64_t val)
{
	return l1_msr(msr, true, &val);
}

void vmx_msr_exit(bool write)
{
	uint32_t msr = (uint32_t)vs.gpr[GPR_RCX];
	uint64_t val = (vs.gpr[GPR_RAX] & LOW32) | (vs.gpr[GPR_RDX] << 32);
	bool gp = !l1_msr(msr, write, &val);

	if (gp) {
		raise_exception(VEC_GP, true, 0);
		return;
	}
	if (!write) {
		vs.gpr[GPR_RAX] = val & LOW32;
		vs.gpr[GPR_RDX] = val >> 32;
	}
	skip_insn();
}

/* XCR0 components (SDM Vol. 1, 13.3) whose combinations XSETBV checks. */
#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)
#define XCR0_MPX (3ull << 3)     /* BNDREGS, BNDCSR: both or neither */
#define XCR0_AVX512 (7ull << 5)  /* opmask, ZMM_Hi256, Hi16_ZMM: all or none */
#define CPUID_XSAVE_LEAF 0xD

/*
 * XSETBV exits unconditionally in VMX non-root operation (SDM 26.1.3).
 * VMX does not switch XCR0: L1's is the processor's, so the stub performs
 * L1's XSETBV itself once the value passes the instruction's checks (SDM
 * Vol. 2C, XSETBV; CPL and CR4.OSXSAVE faults come before the exit). The
 * stub sets CR4.OSXSAVE for the one instruction; it saves no extended state
 * of its own (general registers only), so L1's XCR0 costs it nothing.
 */
static void handle_xsetbv(void)
{
	uint64_t val = (vs.gpr[GPR_RAX] & LOW32) | (vs.gpr[GPR_RDX] << 32);
	uint32_t a, b, c, d;

	cpuid(CPUID_XSAVE_LEAF, 0, &a, &b, &c, &d);
	uint64_t supported = ((uint64_t)d << 32) | a;
	if ((uint32_t)vs.gpr[GPR_RCX] != 0 || !(val & XCR0_X87) || (val & ~supported) ||
	    ((val & XCR0_AVX) && !(val & XCR0_SSE)) ||
	    ((val & XCR0_MPX) && (val & XCR0_MPX) != XCR0_MPX) ||
	    ((val & XCR0_AVX512) &&
	     ((val & XCR0_AVX512) != XCR0_AVX512 || !(val & XCR0_AVX)))) {
		inject_exception(VEC_GP, true, 0);
		return;
	}
	uint64_t cr4 = read_cr4();
	write_cr4(cr4 | CR4_OSXSAVE);
	__asm__ volatile("xsetbv" : : "a"((uint32_t)val), "d"((uint32_t)(val >> 32)), "c"(0));
	write_cr4(cr4);
	skip_insn();
}

static void l1_nmi(void);

static void l1_exit(uint32_t reason)
{
	unsigned basic = EXIT_REASON_BASIC(reason);

	stub.stats.l1_exits++;
	if (basic < BM_ARRAY_SIZE(stub.stats.by_code))
		stub.stats.by_code[basic]++;
	if (reason & NEST_VMX_EXIT_REASON_ENTRY_FAILURE)
		vmx_fatal("vmcs01 rejected by VM entry");
	switch (basic) {
	case NEST_VMX_EXIT_CPUID:
		handle_cpuid();
		break;
	case NEST_VMX_EXIT_IO_INSTRUCTION:
		if (!l0_port_io(vmr(NEST_VMCS_EXIT_QUALIFICATION)))
			vmx_fatal("unexpected I/O exit");
		break;
	case NEST_VMX_EXIT_CR_ACCESS:
		handle_cr();
		break;
	case NEST_VMX_EXIT_MSR_READ:
	case NEST_VMX_EXIT_MSR_WRITE:
		vmx_msr_exit(basic == NEST_VMX_EXIT_MSR_WRITE);
		break;
	case NEST_VMX_EXIT_VMCLEAR:
	case NEST_VMX_EXIT_VMLAUNCH:
	case NEST_VMX_EXIT_VMPTRLD:
	case NEST_VMX_EXIT_VMPTRST:
	case NEST_VMX_EXIT_VMREAD:
	case NEST_VMX_EXIT_VMRESUME:
	case NEST_VMX_EXIT_VMWRITE:
	case NEST_VMX_EXIT_VMXOFF:
	case NEST_VMX_EXIT_VMXON:
	case NEST_VMX_EXIT_INVEPT:
	case NEST_VMX_EXIT_INVVPID:
		vmx_nested_l1_insn(reason);
		break;
	case NEST_VMX_EXIT_XSETBV:
		handle_xsetbv();
		break;
	case NEST_VMX_EXIT_VMCALL:
	case NEST_VMX_EXIT_VMFUNC:
		/* No hypercalls; VM functions are not offered to L1 (SDM 26.5.6). */
		inject_exception(VEC_UD, false, 0);
		break;
	case NEST_VMX_EXIT_INTERRUPT_WINDOW:
		vmx_nested_l1_window();
		break;
	case NEST_VMX_EXIT_EXCEPTION_NMI:
		/* No exception is intercepted: an NMI, with several processors
		 * (a kick, or one of L1's, taken in smp_events()). */
		if (stub_ncpus == 1)
			vmx_fatal("NMI exit of L1");
		vmx_smp_nmi_exit();
		break;
	case NEST_VMX_EXIT_NMI_WINDOW:
		l1_nmi();
		break;
	case NEST_VMX_EXIT_INIT_SIGNAL:
		/* With several processors, INITs are events the stub keeps
		 * (vmx_smp.c), taken in smp_events(); a real one is a kick. */
		if (stub_ncpus > 1)
			break;
		/* INIT is blocked in VMX root operation (SDM 26.2, 33.14); a
		 * vCPU reset of L1 outside it is not emulated. */
		if (!vmx_nested_in_vmx_root())
			vmx_fatal("INIT of L1 outside VMX operation (a reset)");
		break;
	case NEST_VMX_EXIT_TRIPLE_FAULT:
		vmx_fatal("L1 shut down (triple fault)");
	case NEST_VMX_EXIT_EPT_VIOLATION: {
		/* L1 writes a bitmap page libnest tracks: libnest takes note and
		 * the write goes through when L1 runs the instruction again. */
		uint64_t gpa = vmr(NEST_VMCS_GUEST_PHYSICAL_ADDRESS);
		if ((vmr(NEST_VMCS_EXIT_QUALIFICATION) & EPT_QUAL_WRITE) && l1_tracked(gpa) &&
		    vmx_nested_l1_written(gpa))
			break;
		if (vmx_smp_apic_write(gpa)) /* several processors: its APIC writes */
			break;
		bm_printf("stub: L1 touched L1-physical %#llx, which it does not have\n",
			  (unsigned long long)gpa);
		vmx_fatal("EPT violation of L1");
	}
	default:
		vmx_fatal("unexpected L1 exit");
	}
}

/* EPT01 changed (l1_track_writes()): drop what the TLB holds of it. */
void l1_map_flush(void)
{
	invept(INVEPT_ALL, 0);
}

/*
 * L1's vCPU as INIT leaves it, then started by a SIPI with @vector (SDM
 * 9.1.1, Table 9-1; 8.4.4.1 for the SIPI's CS:IP): real mode at
 * VV00:0000, which vmcs01 runs as an unrestricted guest. L0 keeps the bits
 * VMX fixes, with L1's view in the read shadows.
 */
static void vmcs01_sipi(uint8_t vector)
{
	const struct nest_vmx_caps *h = &vs.host;
	uint64_t cr0 = CR0_INIT, fixed0 = h->cr0_fixed0 & ~(CR0_PE | CR0_PG);
	uint32_t a, b, c, d;

	vmcs_load(vs.vmcs01);
	vmw(NEST_VMCS_CR0_READ_SHADOW, cr0);
	vmw(NEST_VMCS_CR4_READ_SHADOW, 0);
	vmw(NEST_VMCS_GUEST_CR0, (cr0 | fixed0) & h->cr0_fixed1);
	vmw(NEST_VMCS_GUEST_CR4, h->cr4_fixed0 & h->cr4_fixed1);
	vmw(NEST_VMCS_GUEST_CR3, 0);
	vmw(NEST_VMCS_GUEST_DR7, DR7_RESET);
	guest_seg(NEST_VMCS_GUEST_CS_SELECTOR, (uint16_t)(vector << 8), TABLE_LIMIT, AR_CODE16,
		  (uint64_t)vector << 12);
	guest_seg(NEST_VMCS_GUEST_SS_SELECTOR, 0, TABLE_LIMIT, AR_DATA16, 0);
	guest_seg(NEST_VMCS_GUEST_DS_SELECTOR, 0, TABLE_LIMIT, AR_DATA16, 0);
	guest_seg(NEST_VMCS_GUEST_ES_SELECTOR, 0, TABLE_LIMIT, AR_DATA16, 0);
	guest_seg(NEST_VMCS_GUEST_FS_SELECTOR, 0, TABLE_LIMIT, AR_DATA16, 0);
	guest_seg(NEST_VMCS_GUEST_GS_SELECTOR, 0, TABLE_LIMIT, AR_DATA16, 0);
	guest_seg(NEST_VMCS_GUEST_LDTR_SELECTOR, 0, TABLE_LIMIT, AR_LDT, 0);
	guest_seg(NEST_VMCS_GUEST_TR_SELECTOR, 0, TABLE_LIMIT, AR_TSS32_BUSY, 0);
	vmw(NEST_VMCS_GUEST_GDTR_BASE, 0);
	vmw(NEST_VMCS_GUEST_GDTR_LIMIT, TABLE_LIMIT);
	vmw(NEST_VMCS_GUEST_IDTR_BASE, 0);
	vmw(NEST_VMCS_GUEST_IDTR_LIMIT, TABLE_LIMIT);
	vmw(NEST_VMCS_GUEST_RIP, 0);
	vmw(NEST_VMCS_VM_ENTRY_CONTROLS,
	    vmr(NEST_VMCS_VM_ENTRY_CONTROLS) & ~(uint64_t)NEST_VMX_ENTRY_CTL_IA32E_MODE_GUEST);
	guest_reset_regs();
	vmw(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD, 0);
	vmw(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL,
	    vmr(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & ~(uint64_t)NEST_VMX_PROC_INTR_WINDOW_EXITING);
	memset(vs.gpr, 0, sizeof(vs.gpr));
	cpuid(CPUID_FEATURES, 0, &a, &b, &c, &d);
	vs.gpr[GPR_RDX] = a; /* the processor's signature, as after INIT */
	memset(vs.pending_irq, 0, sizeof(vs.pending_irq));
	vs.nmi_pending = false;
	vmw(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL, vmr(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) &
						     ~(uint64_t)NEST_VMX_PROC_NMI_WINDOW_EXITING);
	/* INIT keeps the APIC's mode (x2APIC included). */
	vs.apic_base = rdmsr(MSR_APIC_BASE) | APIC_BASE_EN | (vs.apic_base & APIC_BASE_EXTD);
}

/* An NMI for L1 (vmcs01): injected when L1 can take one, else at its NMI
 * window (SDM 26.3.1.5: no blocking by NMI or MOV SS, no other event). */
static void l1_nmi(void)
{
	uint64_t proc, intr;

	vmcs_load(vs.vmcs01);
	proc = vmr(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL);
	intr = vmr(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO);
	if (vs.nmi_pending && !(intr & (INTR_BLOCK_MOVSS | INTR_BLOCK_NMI)) &&
	    !(vmr(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD) & NEST_VMX_INTR_INFO_VALID)) {
		vmw(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD,
		    NEST_VMX_INTR_INFO_VALID |
			(NEST_VMX_INTR_TYPE_NMI << NEST_VMX_INTR_INFO_TYPE_SHIFT) | VEC_NMI);
		vs.nmi_pending = false;
	}
	if (vs.nmi_pending)
		proc |= NEST_VMX_PROC_NMI_WINDOW_EXITING;
	else
		proc &= ~(uint64_t)NEST_VMX_PROC_NMI_WINDOW_EXITING;
	vmw(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
}

/* L1's vCPU here is reset by INIT, waits for SIPI, and starts there. */
static void l1_init_reset(void)
{
	vs.init_latched = false;
	vmcs01_sipi(smp_wait_sipi());
}

/*
 * INIT and SIPI for L1's vCPU here (several processors, vmx_smp.c), as the
 * processor takes them (SDM 26.2, 33.14): INIT is L1's VM exit while L2
 * runs, is held in VMX root operation (until L1 enters L2, which then
 * exits at once, or leaves VMX operation), and otherwise resets the vCPU,
 * which waits for SIPI; a SIPI is L1's VM exit for an L2 in the
 * wait-for-SIPI state, and is ignored by a running vCPU.
 */
static void smp_events(void)
{
	if (stub_ncpus == 1)
		return;
	if (smp_init_pending())
		vs.init_latched = true;
	if (vs.init_latched) {
		if (vs.in_l2) {
			vs.init_latched = false;
			vmx_nested_l2_init();
		} else if (!vmx_nested_in_vmx_root()) {
			l1_init_reset();
		}
	}
	int sipi = vmx_smp_take_sipi();
	if (sipi >= 0 && vs.in_l2)
		vmx_nested_l2_sipi((uint8_t)sipi);
	while (vmx_smp_take_nmi()) {
		if (vs.in_l2) {
			vmx_nested_l2_nmi();
		} else {
			vs.nmi_pending = true; /* NMIs do not queue up beyond one */
			l1_nmi();
		}
	}
}

static __attribute__((noreturn)) void run(void)
{
	for (;;) {
		smp_events();
		if (stub_ncpus > 1 && vs.in_l2 && vmx_nested_l2_waits_for_sipi()) {
			vmx_smp_l2_wait_sipi();
			continue;
		}
		uint8_t *vmcs = vs.in_l2 ? vs.vmcs02 : vs.vmcs01;
		bool *launched = vs.in_l2 ? &vs.launched02 : &vs.launched01;

		l1_move_tick();
		vmcs_load(vmcs);
		vmx_smp_enter();
		int rc = bm_vmx_run(vs.gpr, *launched);
		vmx_smp_exit();
		if (rc != 0)
			vmx_fatal(rc == 1 ? "VM entry: VMfailInvalid" : "VM entry: VMfailValid");
		*launched = true;
		stub.stats.l0_exits++;
		uint32_t reason = (uint32_t)vmr(NEST_VMCS_VM_EXIT_REASON);
		if (vs.in_l2)
			vmx_nested_l2_exit(reason);
		else
			l1_exit(reason);
	}
}

/* An application processor: VMX operation, its vmcs01 and libnest
 * context, then L1's vCPU waits for L1's SIPI. */
static void ap_main(void)
{
	struct l1_boot boot = {0};

	vmx_smp_ap_arrived();
	vmx_enable();
	vmcs01_init(&boot);
	vs.apic_base = rdmsr(MSR_APIC_BASE);
	vmx_nested_init_cpu();
	vmx_smp_ap_ready();
	l1_init_reset();
	run();
}

int kmain(uint32_t magic, const struct mb_info *mbi)
{
	const char *cmd = bm_mb_cmdline(mbi);
	struct l1_boot boot;

	bm_printf("stub: libnest bare-metal L0 (VMX), command line \"%s\"\n", cmd);
	stub.entry_name = "VMLAUNCH/VMRESUMEs";
	stub.failed_name = "failed";
	stub.ept = true;
	stub.map_ram = EPT_R | EPT_W | EPT_X | (EPT_MT_WB << EPT_MT_SHIFT);
	stub.map_dev = EPT_R | EPT_W | EPT_X | (EPT_MT_UC << EPT_MT_SHIFT);
	unsigned ncpus = smp_setup(cmd);
	stub.l1_posted = stub_cmdline_flag(cmd, "posted");
	l1_setup_memory(mbi, cmd);
	l1_move_init(cmd);
	if (ncpus > 1 && stub_cmdline_num(cmd, "move", 0))
		bm_panic("stub: move= needs a single processor on VMX\n");
	vmx_enable();
	l1_load(mbi, &boot);
	vmcs01_init(&boot);
	vmx_nested_init();
	vmx_smp_protect_apic();
	vmx_smp_start_aps(ncpus, ap_main);
	bm_printf("stub: starting L1\n");
	/* L1 may reset the UART's FIFO first thing: let the stub's lines out. */
	bm_serial_drain();
	run();
}
