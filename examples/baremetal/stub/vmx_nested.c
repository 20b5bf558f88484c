/* SPDX-License-Identifier: MIT */
/*
 * Nested VMX through libnest (include/nest/vmx.h): L1's VMX instructions
 * and VMX MSRs go to nest_vmx_l1_exit()/nest_vmx_rdmsr()/nest_vmx_wrmsr(),
 * L2's exits to nest_vmx_l2_exit(), and the stub carries out the action
 * each returns. L2 runs on vmcs02, which libnest fills through the
 * backend's VMCS access; with L1's EPT, on EPT02, libnest's shadow of
 * L1's EPT over EPT01 (tdp.h).
 *
 * External interrupts: vmcs02 exits on them without acknowledging them, so
 * an interrupt L1 wants reported without "acknowledge interrupt on exit"
 * stays pending in the local APIC for L1, as on hardware. The stub reads
 * the vector from the APIC's IRR and asks libnest where it goes; if L1
 * acknowledges it on exit, or L2 is to receive it, the stub acknowledges
 * it in the APIC itself (the CPU delivers it to the stub's IDT with
 * interrupts briefly enabled, which sets its ISR bit as an acknowledge
 * does), so that exactly one of L1 or L2 ends it with an EOI.
 */
#include <nest/nest.h>

#include "apic_prio.h"
#include "backend.h"
#include "vmx_stub.h"

#define L2_VPID 2
#define TDP_MAX_PAGES 4096
#define TDP_MAX_ROOTS 8
#define PAGE_SHIFT_2M 21
#define DEFAULT_MAXPHYADDR 36
#define FIRST_IRQ_VECTOR 32
#define IRQ_VECTORS 256
#define ACK_ATTEMPTS 1000
#define APIC_PPR 0xa0u
#define APIC_IRR0 0x200u
#define APIC_REG_STRIDE 0x10u
#define INTR_BLOCK_NMI (1ull << 3)

/* Each processor's (its vCPU of L1's). */
static struct nested_cpu {
	struct nest_vmx *vmx;
	struct nest_tdp *tdp;	   /* the VM's shadow, through this vCPU's handle */
	volatile int acked_vector; /* set by the stub's interrupt handler */
} nested_cpus[STUB_MAX_CPUS];
#define n (nested_cpus[stub_cpu()])

/* What the processors share: the backend, the VM's shadow EPT02, the
 * configuration every context is made with. */
static struct {
	struct nest_backend be;
	struct nest_backend_ops ops;
	bool invept_single, invvpid_single;
	struct nest_tdp *vm_tdp;
	struct nest_vmx_config cfg;
} shared;

static void check(int rc, const char *what)
{
	if (rc != NEST_OK)
		bm_panic("stub: %s: %s\n", what, nest_strerror(rc));
}

static void *pages(size_t bytes)
{
	void *p = bm_pages_alloc((bytes + BM_PAGE_SIZE - 1) / BM_PAGE_SIZE, BM_PAGE_SIZE);
	if (!p)
		bm_panic("stub: out of memory for libnest\n");
	return p;
}

/* ---- the backend's VMX operations ---- */

static uint8_t *vmcs_of(enum nest_vmcs_id which)
{
	switch (which) {
	case NEST_VMCS01:
		return vs.vmcs01;
	case NEST_VMCS02:
		return vs.vmcs02;
	case NEST_VMCS_SHADOW:
		return vs.shadow;
	default:
		return NULL;
	}
}

static int be_vmcs_read(void *ctx, enum nest_vmcs_id which, uint32_t enc, uint64_t *value)
{
	uint8_t *v = vmcs_of(which);

	stub_be_calls.vmcs_read++;
	if (!v)
		return NEST_E_UNSUPPORTED;
	vmcs_load(v);
	if (vmread_checked(enc, value))
		return NEST_OK;
	bm_printf("stub: VMREAD of field %#x of vmcs0%u failed\n", enc, which + 1);
	return NEST_E_BACKEND;
}

static int be_vmcs_write(void *ctx, enum nest_vmcs_id which, uint32_t enc, uint64_t value)
{
	uint8_t *v = vmcs_of(which);

	stub_be_calls.vmcs_write++;
	if (!v)
		return NEST_E_UNSUPPORTED;
	vmcs_load(v);
	if (vmwrite_checked(enc, value))
		return NEST_OK;
	bm_printf("stub: VMWRITE of field %#x = %#llx to vmcs0%u failed\n", enc,
		  (unsigned long long)value, which + 1);
	return NEST_E_BACKEND;
}

static void be_flush(void *ctx, uint32_t kind, uint64_t tag, uint64_t addr)
{
	bool ok = true;

	stub_be_calls.flush++;
	switch (kind) {
	case NEST_FLUSH_EPT_CONTEXT:
		ok = shared.invept_single ? invept(INVEPT_SINGLE, tag) : invept(INVEPT_ALL, 0);
		break;
	case NEST_FLUSH_EPT_ALL:
		ok = invept(INVEPT_ALL, 0);
		break;
	case NEST_FLUSH_VPID_ADDR:
		ok = invvpid(INVVPID_ADDR, (uint16_t)tag, addr);
		break;
	case NEST_FLUSH_VPID_CONTEXT:
		ok = shared.invvpid_single ? invvpid(INVVPID_SINGLE, (uint16_t)tag, 0)
				      : invvpid(INVVPID_ALL, 0, 0);
		break;
	case NEST_FLUSH_VPID_ALL:
		ok = invvpid(INVVPID_ALL, 0, 0);
		break;
	default:
		ok = invept(INVEPT_ALL, 0) && invvpid(INVVPID_ALL, 0, 0);
		break;
	}
	if (!ok)
		bm_printf("stub: flush kind %u tag %#llx failed\n", kind, (unsigned long long)tag);
	stub_flush.count++;
}

/* ---- set-up ---- */

/* This processor's vmcs02 and what L0 keeps while L2 runs: its I/O and
 * MSR intercepts, EPT01, VPID (vmcs01 current or not). */
static void set_l0(void)
{
	/* vmcs02: libnest fills it; it only needs the revision and a clear launch state. */
	vs.vmcs02 = bm_page_alloc();
	*(uint32_t *)vs.vmcs02 = vs.revision;
	if (!vmclear((uint64_t)(uintptr_t)vs.vmcs02))
		bm_panic("stub: VMCLEAR of vmcs02 failed\n");
	if (vs.current == vs.vmcs02)
		vs.current = NULL;

	vmcs_load(vs.vmcs01);
	struct nest_vmx_l0 l0 = {
	    .size = sizeof(l0),
	    .flags = vs.shadow ? NEST_VMX_L0_F_SHADOW_VMCS : 0,
	    .proc = NEST_VMX_PROC_USE_IO_BITMAPS | NEST_VMX_PROC_USE_MSR_BITMAPS |
		    NEST_VMX_PROC_ACTIVATE_SECONDARY,
	    .proc2 = NEST_VMX_PROC2_ENABLE_EPT |
		     (vmr(NEST_VMCS_VIRTUAL_PROCESSOR_ID) ? NEST_VMX_PROC2_ENABLE_VPID : 0),
	    .exit_ctls = (uint32_t)vmr(NEST_VMCS_VM_EXIT_CONTROLS),
	    .vpid02 = vmr(NEST_VMCS_VIRTUAL_PROCESSOR_ID) ? L2_VPID : 0,
	    .eptp01 = vs.eptp01,
	    /* L2 setting a CR4 bit of a feature L1's CPUID lacks: L0's #GP. */
	    .cr4_mask = vs.cr4_unreported,
	    .msr_bitmap = vs.msr_bitmap,
	    .io_bitmap = vs.io_bitmap,
	    .tdp = n.tdp,
	};
	check(NEST_CALL(nest_vmx_set_l0(n.vmx, &l0)), "nest_vmx_set_l0");
}

static void irq_handler(struct bm_regs *regs)
{
	n.acked_vector = (int)regs->vector; /* no EOI: the vector stays in service */
}

void vmx_nested_irq_taken(struct bm_regs *regs)
{
	irq_handler(regs);
}

void vmx_nested_init(void)
{
	uint32_t a, b, c, d;
	struct nest_vmx_config *cfg = &shared.cfg;

	shared.ops = stub_backend_ops;
	shared.ops.vmcs_read = be_vmcs_read;
	shared.ops.vmcs_write = be_vmcs_write;
	shared.ops.flush = be_flush;
	vmx_smp_backend_ops(&shared.ops);
	shared.be = (struct nest_backend){.ops = &shared.ops, .ctx = NULL};
	check(nest_backend_validate(&shared.be), "nest_backend_validate");
	shared.invept_single = vs.host.ept_vpid & EPT_VPID_CAP_INVEPT_SINGLE;
	shared.invvpid_single = vs.host.ept_vpid & EPT_VPID_CAP_INVVPID_SINGLE;

	*cfg = (struct nest_vmx_config){.size = sizeof(*cfg)};
	cfg->vmx_allowed = 1;
	cfg->host_caps = &vs_cpus[0].host;
	/* VMCS shadowing for L1's L2: the stub writes L2's register on
	 * RESUME_L2 (apply()). */
	cfg->features = NEST_VMX_F_EPT | NEST_VMX_F_VPID | NEST_VMX_F_UNRESTRICTED_GUEST |
			NEST_VMX_F_PREEMPTION_TIMER | NEST_VMX_F_VMWRITE_ANY | NEST_VMX_F_PML |
			NEST_VMX_F_APICV | NEST_VMX_F_VMCS_SHADOWING;
	/* Posted interrupts only when asked ("posted"): with them KVM as L1
	 * turns its APIC virtualization on for its guests, and under Bochs
	 * 2.7 such a guest then takes L1's own timer vector (0xEC) through
	 * its IDT, with no injection by libnest or the stub, no bit in the
	 * virtual-APIC page and nothing in service in the APIC
	 * (docs/conformance-vmx.md, "Open: KVM's APIC virtualization"). */
	if (stub.l1_posted)
		cfg->features |= NEST_VMX_F_POSTED_INTR;
	cpuid(CPUID_ADDR_SIZES, 0, &a, &b, &c, &d);
	cfg->l1_maxphyaddr = (a & 0xFF) ? (a & 0xFF) : DEFAULT_MAXPHYADDR;
	cfg->feature_control = FC_LOCK | FC_VMXON_OUTSIDE_SMX;
	cpuid(CPUID_EXT_FEATURES, 0, &a, &b, &c, &d);
	cfg->l1_gbpages = !!(d & CPUID_EXT_EDX_GBPAGES);
	size_t size = nest_vmx_size();
	check(nest_vmx_init(pages(size), size, &shared.be, cfg, &n.vmx), "nest_vmx_init");

	struct nest_vmx_caps offered = {.size = sizeof(offered)};
	check(nest_vmx_offered_caps(n.vmx, &offered), "nest_vmx_offered_caps");
	struct nest_tdp_config tc = {
	    .size = sizeof(tc),
	    .max_pages = TDP_MAX_PAGES,
	    .max_roots = TDP_MAX_ROOTS,
	    .ept_vpid_cap = offered.ept_vpid,
	    .maxphyaddr = (uint8_t)cfg->l1_maxphyaddr,
	    .max_page_shift = PAGE_SHIFT_2M,
	};
	if (stub_ncpus > 1) /* each vCPU in L2 pins its root: room for them */
		tc.max_roots = TDP_MAX_ROOTS + stub_ncpus;
	size_t tsize = nest_tdp_size(&tc);
	if (!tsize)
		bm_panic("stub: nest_tdp_size refuses the configuration\n");
	check(nest_tdp_init(pages(tsize), tsize, &shared.be, &tc, &shared.vm_tdp), "nest_tdp_init");
	n.tdp = shared.vm_tdp;
	set_l0();

	for (unsigned v = FIRST_IRQ_VECTOR; v < IRQ_VECTORS; v++)
		bm_set_handler(v, irq_handler);
	bm_printf("stub: libnest offers L1 VMX: pin %#llx proc %#llx proc2 %#llx EPT/VPID %#llx, "
		  "misc %#llx, MAXPHYADDR %u\n",
		  (unsigned long long)offered.pinbased, (unsigned long long)offered.procbased,
		  (unsigned long long)offered.procbased2, (unsigned long long)offered.ept_vpid,
		  (unsigned long long)offered.misc, offered.maxphyaddr);
}

void vmx_nested_init_cpu(void)
{
	size_t size = nest_vmx_size(), hsize = nest_tdp_vcpu_size();

	check(nest_vmx_init(pages(size), size, &shared.be, &shared.cfg, &n.vmx), "nest_vmx_init");
	check(nest_tdp_vcpu_init(pages(hsize), hsize, shared.vm_tdp, stub_cpu(), &n.tdp),
	      "nest_tdp_vcpu_init");
	set_l0();
}

bool vmx_nested_l1_written(uint64_t gpa)
{
	return NEST_CALL(nest_vmx_l1_written(n.vmx, gpa)) == NEST_OK;
}

bool vmx_nested_msr(uint32_t msr, bool write, uint64_t *value, bool *gp)
{
	struct nest_vmx_action act = {.size = sizeof(act)};
	int rc = write ? nest_vmx_wrmsr(n.vmx, msr, *value, &act)
		       : nest_vmx_rdmsr(n.vmx, msr, value, &act);

	stub.stats.transitions++;
	if (rc == NEST_E_NOENT)
		return false;
	check(rc, "nest_vmx_rdmsr/wrmsr");
	*gp = act.kind == NEST_VMX_ACT_INJECT;
	return true;
}

/* ---- actions ---- */

static void apply(const struct nest_vmx_action *act, bool from_l2);

/*
 * MSRs libnest hands to L0 (NEST_VMX_ACT_F_MSRS), loaded as WRMSR would:
 * those the VMCS switches go into the guest fields of @vmcs, the others as
 * L1's own WRMSR (vmx_l1_wrmsr()). Returns the index of the first entry
 * whose WRMSR would fault, none after it loaded (SDM 27.4, 28.6), or -1.
 */
static int load_msrs(uint8_t *vmcs)
{
	const struct nest_vmx_msr_entry *e;
	uint32_t count;
	static const struct {
		uint32_t msr, field;
	} in_vmcs[] = {
	    {MSR_SYSENTER_CS, NEST_VMCS_GUEST_SYSENTER_CS},
	    {MSR_SYSENTER_ESP, NEST_VMCS_GUEST_SYSENTER_ESP},
	    {MSR_SYSENTER_EIP, NEST_VMCS_GUEST_SYSENTER_EIP},
	    {MSR_DEBUGCTL, NEST_VMCS_GUEST_IA32_DEBUGCTL},
	    {MSR_PAT, NEST_VMCS_GUEST_IA32_PAT},
	    {MSR_EFER, NEST_VMCS_GUEST_IA32_EFER},
	    {MSR_FS_BASE, NEST_VMCS_GUEST_FS_BASE},
	    {MSR_GS_BASE, NEST_VMCS_GUEST_GS_BASE},
	};

	check(nest_vmx_pending_msrs(n.vmx, &e, &count), "nest_vmx_pending_msrs");
	vmcs_load(vmcs);
	for (uint32_t i = 0; i < count; i++) {
		unsigned j = 0;
		while (j < BM_ARRAY_SIZE(in_vmcs) && in_vmcs[j].msr != e[i].index)
			j++;
		if (j < BM_ARRAY_SIZE(in_vmcs))
			vmw(in_vmcs[j].field, e[i].value);
		else if (!vmx_l1_wrmsr(e[i].index, e[i].value))
			return (int)i;
	}
	return -1;
}

/* After an action with NEST_VMX_ACT_F_MSRS: load the list, and when an
 * entry faults, carry out what libnest makes of it (a failed VM entry,
 * exit reason 34, or a VMX abort). False when that replaced the action. */
static bool load_msrs_or_fail(uint8_t *vmcs, bool from_l2)
{
	struct nest_vmx_action act = {.size = sizeof(act)};
	int bad = load_msrs(vmcs);

	if (bad < 0)
		return true;
	check(NEST_CALL(nest_vmx_pending_msr_failed(n.vmx, (uint32_t)bad, &act)),
	      "nest_vmx_pending_msr_failed");
	apply(&act, from_l2);
	return false;
}

/* The local APIC's IRR. */
static void apic_read_irr(uint32_t irr[APIC_IRR_WORDS])
{
	uint64_t base = rdmsr(MSR_APIC_BASE) & APIC_BASE_ADDR_MASK;

	for (int reg = 0; reg < APIC_IRR_WORDS; reg++)
		irr[reg] =
		    *(volatile uint32_t *)(uintptr_t)(base + APIC_IRR0 + APIC_REG_STRIDE * reg);
}

/* The highest vector requested in the local APIC (IRR), or -1. */
static int apic_pending_vector(void)
{
	uint32_t irr[APIC_IRR_WORDS];

	apic_read_irr(irr);
	return apic_highest_vector(irr);
}

/* The vector the local APIC would deliver now (above its processor
 * priority), or -1. */
static int apic_deliverable(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE) & APIC_BASE_ADDR_MASK;
	uint32_t irr[APIC_IRR_WORDS];

	apic_read_irr(irr);
	return apic_deliverable_vector(irr, *(volatile uint32_t *)(uintptr_t)(base + APIC_PPR));
}

/*
 * Acknowledges the interrupt the local APIC delivers now (the stub's
 * handler records its vector and leaves it in service: the guest that
 * receives it ends it with its EOI) and returns its vector, or -1 when
 * none comes. Acknowledging first, then deciding, is what the processor
 * does with "acknowledge interrupt on exit": reading the IRR and
 * acknowledging later could take a higher vector that arrived in between.
 */
static int apic_take(void)
{
	n.acked_vector = -1;
	for (unsigned i = 0; i < ACK_ATTEMPTS && n.acked_vector < 0; i++)
		__asm__ volatile("sti; nop; cli" ::: "memory");
	return n.acked_vector;
}

static void l2_exit_for_l0(uint32_t reason, const struct nest_vmx_action *act);
static void arm_l1_window(void);
static int pending_highest(void);
static void l2_interrupt(int vector, bool acked);
static void l2_apic_interrupt(void);

static void apply(const struct nest_vmx_action *act, bool from_l2)
{
	switch (act->kind) {
	case NEST_VMX_ACT_RESUME_L1:
		if (from_l2)
			stub.stats.l2_reflected++;
		vs.in_l2 = false;
		vmcs_load(vs.vmcs01);
		if (act->flags & NEST_VMX_ACT_F_ABORT)
			vmx_fatal("VMX abort: L1's vCPU shuts down");
		if (act->flags & NEST_VMX_ACT_F_RIP) {
			vmw(NEST_VMCS_GUEST_RIP, act->rip);
			vmw(NEST_VMCS_GUEST_RFLAGS, act->rflags);
			vmw(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO,
			    vmr(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO) & ~3ull);
		}
		if (act->flags & NEST_VMX_ACT_F_GPR)
			gpr_set(act->gpr, act->gpr_value);
		if ((act->flags & NEST_VMX_ACT_F_MSRS) && !load_msrs_or_fail(vs.vmcs01, from_l2))
			break;
		arm_l1_window();
		break;
	case NEST_VMX_ACT_INJECT:
		vs.in_l2 = false;
		vmcs_load(vs.vmcs01);
		if (act->vector == VEC_PF)
			write_cr2(act->cr2);
		inject_exception(act->vector, act->has_error_code, act->error_code);
		break;
	case NEST_VMX_ACT_ENTER_L2: {
		vs.in_l2 = true;
		if ((act->flags & NEST_VMX_ACT_F_MSRS) && !load_msrs_or_fail(vs.vmcs02, false))
			break;
		/* An interrupt the stub holds for L1's vCPU is pending there
		 * when L2 starts: it exits at once with "external-interrupt
		 * exiting", else L2 takes it when it can (SDM 26.7). Not when
		 * the entry injects an event: the processor delivers that
		 * first, as part of the entry (SDM 26.6), and a pending
		 * interrupt exits only after it, so taken here the exit would
		 * report the injected event as being delivered (IDT-vectoring
		 * information), which an L1 such as KVM refuses for an
		 * external-interrupt exit. Such an interrupt waits for the
		 * next exit of L2's. */
		vmcs_load(vs.vmcs02);
		if (vmr(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD) & NEST_VMX_INTR_INFO_VALID)
			break;
		int vector = pending_highest();
		if (vector >= 0) {
			l2_interrupt(vector, true);
		} else if (apic_deliverable() >= 0) {
			/* One the local APIC would deliver now: vmcs02 exits on
			 * external interrupts, so the exit comes before L2's
			 * first instruction, whatever L2's RFLAGS.IF (SDM 26.2)
			 * and from HLT as well. Taken here, not left to the
			 * processor: Bochs 2.7 runs L2 on while its IF is
			 * clear, and stays halted. */
			l2_apic_interrupt();
		}
		break;
	}
	case NEST_VMX_ACT_RESUME_L2:
		stub.stats.l2_handled++;
		if (act->flags & NEST_VMX_ACT_F_GPR)
			gpr_set(act->gpr, act->gpr_value); /* L2's VMREAD on L1's shadow VMCS */
		break;
	case NEST_VMX_ACT_L0_HANDLES:
		vmcs_load(vs.vmcs02);
		l2_exit_for_l0(EXIT_REASON_BASIC((uint32_t)vmr(NEST_VMCS_VM_EXIT_REASON)), act);
		break;
	default:
		bm_panic("stub: libnest returned action %u\n", act->kind);
	}
}

/* L1's registers for libnest, from vmcs01 and the saved GPRs. */
static void l1_regs(struct nest_vmx_l1_regs *r)
{
	*r = (struct nest_vmx_l1_regs){.size = sizeof(*r)};
	for (unsigned i = 0; i < BM_GPR_COUNT; i++)
		r->gpr[i] = vs.gpr[i];
	r->gpr[GPR_RSP] = vmr(NEST_VMCS_GUEST_RSP);
	r->rip = vmr(NEST_VMCS_GUEST_RIP);
	r->rflags = vmr(NEST_VMCS_GUEST_RFLAGS);
	r->cr0 = (vmr(NEST_VMCS_GUEST_CR0) & ~vs.cr0_mask) |
		 (vmr(NEST_VMCS_CR0_READ_SHADOW) & vs.cr0_mask);
	r->cr4 = (vmr(NEST_VMCS_GUEST_CR4) & ~vs.cr4_mask) |
		 (vmr(NEST_VMCS_CR4_READ_SHADOW) & vs.cr4_mask);
	r->cr3 = vmr(NEST_VMCS_GUEST_CR3);
	r->efer = vmr(NEST_VMCS_GUEST_IA32_EFER);
	for (unsigned s = 0; s < 6; s++) {
		r->seg[s].selector = (uint16_t)vmr(NEST_VMCS_GUEST_ES_SELECTOR + 2 * s);
		r->seg[s].limit = (uint32_t)vmr(NEST_VMCS_GUEST_ES_LIMIT + 2 * s);
		r->seg[s].ar = (uint32_t)vmr(NEST_VMCS_GUEST_ES_AR_BYTES + 2 * s);
		r->seg[s].base = vmr(NEST_VMCS_GUEST_ES_BASE + 2 * s);
	}
	r->cpl = (r->seg[NEST_VMX_SEG_SS].ar >> AR_DPL_SHIFT) & AR_DPL_MASK;
}

/*
 * The shadow VMCS is linked from vmcs01 only while L1 has a current VMCS:
 * without one, L1's VMREAD and VMWRITE must fail (VMfailInvalid), which
 * they do with the link pointer at ~0 (SDM 31.3, VMREAD).
 */
static void link_shadow(void)
{
	struct nest_vmx_status st = {.size = sizeof(st)};

	if (!vs.shadow)
		return;
	check(nest_vmx_get_status(n.vmx, &st), "nest_vmx_get_status");
	vmcs_load(vs.vmcs01);
	vmw(NEST_VMCS_VMCS_LINK_POINTER, st.current_vmptr != NEST_VMX_INVALID_VMPTR
					     ? (uint64_t)(uintptr_t)vs.shadow
					     : UINT64_MAX);
}

bool vmx_nested_in_vmx_root(void)
{
	struct nest_vmx_status st = {.size = sizeof(st)};

	check(nest_vmx_get_status(n.vmx, &st), "nest_vmx_get_status");
	return st.in_vmx_operation;
}

void vmx_nested_l1_insn(uint32_t reason)
{
	struct nest_vmx_exit ex = {
	    .size = sizeof(ex),
	    .reason = reason,
	    .qualification = vmr(NEST_VMCS_EXIT_QUALIFICATION),
	    .insn_info = (uint32_t)vmr(NEST_VMCS_VMX_INSTRUCTION_INFO),
	    .insn_len = (uint32_t)vmr(NEST_VMCS_VM_EXIT_INSTRUCTION_LEN),
	};
	struct nest_vmx_l1_regs regs;
	struct nest_vmx_action act = {.size = sizeof(act)};
	unsigned basic = EXIT_REASON_BASIC(reason);

	l1_regs(&regs);
	int rc = NEST_CALL(nest_vmx_l1_exit(n.vmx, &ex, &regs, &act));
	if (rc != NEST_OK) {
		bm_printf("stub: nest_vmx_l1_exit (reason %u): %s\n", basic, nest_strerror(rc));
		vmcs_load(vs.vmcs01);
		vmx_fatal("libnest refused an L1 exit");
	}
	link_shadow();
	if (basic == NEST_VMX_EXIT_VMLAUNCH || basic == NEST_VMX_EXIT_VMRESUME) {
		stub.stats.vmruns++;
		if (act.kind != NEST_VMX_ACT_ENTER_L2)
			stub.stats.vmrun_failed++;
	}
	apply(&act, false);
}

/* ---- interrupts held by the stub (a guest could not take them yet) ---- */

static void pending_set(int vector, bool on)
{
	uint8_t bit = (uint8_t)(1u << (vector % 8));

	if (on)
		vs.pending_irq[vector / 8] |= bit;
	else
		vs.pending_irq[vector / 8] &= (uint8_t)~bit;
}

/* The highest vector held, or -1. */
static int pending_highest(void)
{
	for (int v = IRQ_VECTORS - 1; v >= FIRST_IRQ_VECTOR; v--)
		if (vs.pending_irq[v / 8] & (1u << (v % 8)))
			return v;
	return -1;
}

/* Running L1 with interrupts held for it: exit when it can take one. */
static void arm_l1_window(void)
{
	uint64_t proc;

	vmcs_load(vs.vmcs01);
	proc = vmr(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL);
	if (pending_highest() >= 0)
		proc |= NEST_VMX_PROC_INTR_WINDOW_EXITING;
	else
		proc &= ~(uint64_t)NEST_VMX_PROC_INTR_WINDOW_EXITING;
	vmw(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL, proc);
}

void vmx_nested_l1_window(void)
{
	int vector = pending_highest();

	if (vector >= 0) {
		pending_set(vector, false);
		vmw(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD,
		    NEST_VMX_INTR_INFO_VALID | INTR_TYPE_EXT_INTR | vector);
	}
	arm_l1_window();
}

/*
 * An external interrupt for L1's vCPU while L2 runs: libnest says whether
 * L1 takes it as an exit, L2 receives it, or L2 cannot take it yet.
 * @acked: the stub has taken it from the APIC (apic_take(), or one it
 * holds); else it stays pending there for L1, which exits without
 * acknowledging it.
 */
static void l2_interrupt(int vector, bool acked)
{
	struct nest_vmx_action act = {.size = sizeof(act)};

	int rc = NEST_CALL(nest_vmx_l2_event(n.vmx, NEST_VMX_EVT_EXTINT, (uint32_t)vector, &act));
	if (rc != NEST_OK) {
		bm_printf("stub: nest_vmx_l2_event: %s\n", nest_strerror(rc));
		vmx_fatal("libnest refused an interrupt");
	}
	/* Held until a guest can take it: for L2 (window), or for L1 when it
	 * exits without acknowledging it although the stub already did. */
	pending_set(vector, acked && ((act.flags & NEST_VMX_ACT_F_WINDOW) ||
				      (act.kind == NEST_VMX_ACT_RESUME_L1 &&
				       !(act.flags & NEST_VMX_ACT_F_ACKED))));
	if (act.flags & NEST_VMX_ACT_F_POSTED) {
		/* L1's posted-interrupt notification, processed by libnest:
		 * dismissed from the APIC as the processor does (SDM 30.6),
		 * and L2 goes on. Posted interrupts need "acknowledge
		 * interrupt on exit", so the stub has taken it. */
		bm_apic_write(BM_APIC_EOI, 0);
		stub.stats.l2_handled++;
		return;
	}
	if (act.kind == NEST_VMX_ACT_L0_HANDLES) {
		stub.stats.l2_handled++;
		return; /* queued in vmcs02 for L2, or waiting for its window */
	}
	apply(&act, true);
}

/* An interrupt the APIC holds for L1's vCPU while L2 runs. When it is to
 * be acknowledged (libnest: L2's, or L1 acknowledges on exit), it is
 * acknowledged first and the vector taken is the one reported, as the
 * processor does; reading the IRR and acknowledging after would take a
 * higher vector arriving in between. Else it stays pending for L1. */
static void l2_apic_interrupt(void)
{
	bool ack = nest_vmx_l2_extint_acked(n.vmx);
	int vector = ack ? apic_take() : apic_pending_vector();

	if (vector >= FIRST_IRQ_VECTOR)
		l2_interrupt(vector, ack);
	/* else gone (or spurious): resume L2 */
}

/* An INIT signal while L2 runs: L1's, and it always exits (SDM 26.2). */
static void l2_init(void)
{
	struct nest_vmx_action act = {.size = sizeof(act)};

	check(NEST_CALL(nest_vmx_l2_event(n.vmx, NEST_VMX_EVT_INIT, 0, &act)), "nest_vmx_l2_event");
	apply(&act, true);
}

void vmx_nested_l2_init(void)
{
	l2_init();
}

void vmx_nested_l2_nmi(void)
{
	struct nest_vmx_action act = {.size = sizeof(act)};

	check(NEST_CALL(nest_vmx_l2_event(n.vmx, NEST_VMX_EVT_NMI, 0, &act)), "nest_vmx_l2_event");
	if (act.kind == NEST_VMX_ACT_L0_HANDLES)
		return; /* queued in vmcs02 for L2, or waiting for its window */
	apply(&act, true);
}

void vmx_nested_l2_sipi(uint8_t vector)
{
	struct nest_vmx_action act = {.size = sizeof(act)};

	check(NEST_CALL(nest_vmx_l2_event(n.vmx, NEST_VMX_EVT_SIPI, vector, &act)),
	      "nest_vmx_l2_event");
	apply(&act, true); /* L1's exit, or L2 goes on (no SIPI wait: ignored) */
}

bool vmx_nested_l2_waits_for_sipi(void)
{
	vmcs_load(vs.vmcs02);
	return vmr(NEST_VMCS_GUEST_ACTIVITY_STATE) == NEST_VMX_ACTIVITY_WAIT_SIPI;
}

/*
 * The stub carried out L2's instruction (skip_insn() ended it): libnest
 * ends it as the processor would, with its single-step trap and L1's
 * monitor trap flag (an MTF exit into L1, which the processor never gives
 * for an instruction L0 emulated). False when L2 no longer runs.
 */
static bool l2_emulated(void)
{
	struct nest_vmx_action act = {.size = sizeof(act)};

	if (!vs.insn_done)
		return vs.in_l2; /* it faulted: the exception went to L2 or L1 */
	check(NEST_CALL(nest_vmx_l2_emulated(n.vmx, &act)), "nest_vmx_l2_emulated");
	if (act.kind == NEST_VMX_ACT_RESUME_L2)
		return true;
	apply(&act, true);
	return false;
}

static void l2_exit_for_l0(uint32_t reason, const struct nest_vmx_action *act)
{
	if (reason == NEST_VMX_EXIT_EXTERNAL_INTERRUPT) {
		l2_apic_interrupt();
		return;
	}
	if (reason == NEST_VMX_EXIT_INTERRUPT_WINDOW) {
		/* libnest's window for an interrupt the stub holds for L2. */
		int vector = pending_highest();
		if (vector >= 0)
			l2_interrupt(vector, true);
		return;
	}
	if (reason == NEST_VMX_EXIT_EXCEPTION_NMI && stub_ncpus > 1) {
		/* An NMI: a kick, or one L1 sent (taken before the next entry).
		 * Without virtual NMIs an NMI exits only where L2 does not
		 * block NMIs (SDM 25.3: with NMI exiting, blocking lasts while
		 * in VMX non-root operation), so the saved state must say L2
		 * does not; Bochs 2.7 blocks NMIs before the exit and saves
		 * blocking by NMI, which libnest would then keep an NMI for
		 * L2 waiting on. docs/conformance-vmx.md. */
		if (!(vmr(NEST_VMCS_PIN_BASED_VM_EXEC_CONTROL) & NEST_VMX_PIN_VIRTUAL_NMIS))
			vmw(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO,
			    vmr(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO) & ~INTR_BLOCK_NMI);
		vmx_smp_nmi_exit();
		return;
	}
	if (reason == NEST_VMX_EXIT_INIT_SIGNAL) {
		/* With several processors, INITs are events the stub keeps
		 * (vmx_smp.c), taken before the next entry; a real one is a kick. */
		if (stub_ncpus == 1)
			l2_init();
		return;
	}
	stub.stats.l2_handled++;
	vs.insn_done = false;
	switch (reason) {
	case NEST_VMX_EXIT_IO_INSTRUCTION:
		if (!l0_port_io(vmr(NEST_VMCS_EXIT_QUALIFICATION)))
			vmx_fatal("L2 I/O exit that neither L1 nor L0 handles");
		l2_emulated();
		return;
	case NEST_VMX_EXIT_MSR_READ:
	case NEST_VMX_EXIT_MSR_WRITE:
		vmx_msr_exit(reason == NEST_VMX_EXIT_MSR_WRITE); /* the VMX MSRs, as L1 sees them */
		if (!l2_emulated())
			return;
		/* A write of L1's x2APIC may have sent an interrupt to this
		 * processor (a self IPI): vmcs02 exits on it before L2's next
		 * instruction (SDM 26.2), which Bochs 2.7 does not do while
		 * L2's IF is clear, so it is taken here. */
		if (reason == NEST_VMX_EXIT_MSR_WRITE &&
		    !(vmr(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD) & NEST_VMX_INTR_INFO_VALID) &&
		    apic_deliverable() >= 0)
			l2_apic_interrupt();
		return;
	case NEST_VMX_EXIT_CR_ACCESS:
		if (!l0_cr8_access(vmr(NEST_VMCS_EXIT_QUALIFICATION)))
			vmx_fatal("L2 CR access that neither L1 nor L0 handles");
		l2_emulated();
		return;
	case NEST_VMX_EXIT_EPT_VIOLATION: {
		/* L2 on EPT01 (L1 without EPT) writes a page the stub tracks. */
		uint64_t gpa = vmr(NEST_VMCS_GUEST_PHYSICAL_ADDRESS);
		if ((vmr(NEST_VMCS_EXIT_QUALIFICATION) & EPT_QUAL_WRITE) && l1_tracked(gpa) &&
		    vmx_nested_l1_written(gpa))
			return;
		/* L2 writes L1's local APIC (several processors): on EPT01 the
		 * address is L1-physical; on L1's EPT libnest names the
		 * L1-physical byte EPT12 led to. */
		if (vmx_smp_apic_write(act->l0_access ? act->l1_gpa : gpa))
			return;
		bm_printf("stub: L2 reached L1-physical %#llx, which L1 does not have\n",
			  (unsigned long long)gpa);
		vmx_fatal("EPT violation outside L1's memory");
	}
	default:
		vmx_fatal("L2 exit that neither L1 nor L0 handles");
	}
}

void vmx_nested_l2_exit(uint32_t reason)
{
	struct nest_vmx_exit ex = {.size = sizeof(ex)};
	struct nest_vmx_l2_regs regs = {.size = sizeof(regs)};
	struct nest_vmx_action act = {.size = sizeof(act)};

	stub.stats.l2_exits++;
	for (unsigned i = 0; i < BM_GPR_COUNT; i++)
		regs.gpr[i] = vs.gpr[i];
	regs.gpr[GPR_RSP] = vmr(NEST_VMCS_GUEST_RSP);
	int rc = NEST_CALL(nest_vmx_l2_exit(n.vmx, &ex, &regs, &act));
	if (rc != NEST_OK) {
		bm_printf("stub: nest_vmx_l2_exit: %s\n", nest_strerror(rc));
		vmcs_load(vs.vmcs02);
		vmx_fatal("libnest refused an L2 exit");
	}
	apply(&act, true);
}

void vmx_nested_l2_exception(unsigned vector, uint32_t error)
{
	struct nest_vmx_action act = {.size = sizeof(act)};
	int rc = NEST_CALL(nest_vmx_l2_exception(n.vmx, vector, error, 0, &act));

	if (rc != NEST_OK) {
		bm_printf("stub: nest_vmx_l2_exception: %s\n", nest_strerror(rc));
		vmx_fatal("libnest refused an exception for L2");
	}
	if (act.kind == NEST_VMX_ACT_L0_HANDLES) {
		/* L2's: vmcs02 delivers it at the VMRESUME (CR2 for #PF). */
		vmcs_load(vs.vmcs02);
		if (act.vector == VEC_PF)
			write_cr2(act.cr2);
		return;
	}
	apply(&act, true); /* L1's exit */
}

/* L0 moved L1's memory (l1move.c): the shadow EPT02 of the VM, and vmcs02's
 * own pointers into L1 (virtual-APIC and APIC-access pages) while L2 runs. */
void nested_l1_map_changed(uint64_t gpa, uint64_t len)
{
	check(NEST_CALL(nest_tdp_l1_map_changed(n.tdp, gpa, len)), "nest_tdp_l1_map_changed");
	check(NEST_CALL(nest_vmx_l1_map_changed(n.vmx, gpa, len)), "nest_vmx_l1_map_changed");
}

/* The L1 page libnest works on while L2 runs: L1's current VMCS region. */
unsigned nested_hot_pages(uint64_t *gpa, unsigned max)
{
	struct nest_vmx_status st = {.size = sizeof(st)};

	check(nest_vmx_get_status(n.vmx, &st), "nest_vmx_get_status");
	if (!vs.in_l2 || max < 1 || st.current_vmptr == NEST_VMX_INVALID_VMPTR)
		return 0;
	gpa[0] = st.current_vmptr;
	return 1;
}

bool nested_l2_running(void)
{
	return vs.in_l2;
}
