/* SPDX-License-Identifier: MIT */
/*
 * Nesting through libnest (include/nest/svm.h): L1's SVM instructions and
 * SVM MSRs go to nest_svm_l1_exit(), L2's exits to nest_svm_l2_exit(), and
 * the stub carries out the action each returns. L2 runs on vmcb02, which
 * libnest builds from vmcb12 and L0's needs; with L1's nested paging, on
 * NPT02, libnest's shadow of L1's NPT over NPT01 (tdp.h).
 *
 * L1's GIF: STGI and CLGI exit and libnest keeps L1's GIF. While it is
 * clear the stub runs L1 with V_INTR_MASKING set and RFLAGS.IF clear at
 * VMRUN, so physical interrupts stay pending (APM 15.21.1) until STGI.
 * NMIs cannot be held that way: vmcb01 intercepts them while L1's GIF is
 * clear, the stub takes the NMI itself at its own STGI after the #VMEXIT,
 * and holds it until L1 (or L2) may take it, then injects it.
 *
 * Where the processor has vGIF (the default; "novgif" turns it off), L1's
 * GIF is vmcb01's V_GIF and its STGI and CLGI run without exits. V_GIF
 * masks virtual interrupts and virtual NMIs only (APM 15.33.2, "Virtual
 * GIF"): the physical ones the stub passes to L1 would reach it with V_GIF
 * clear. So vmcb01 intercepts INTR and NMI; at an INTR exit with V_GIF
 * set the next run lets the interrupt in, CLGI intercepted so that L1
 * cannot clear GIF before the exit after it intercepts INTR again; with
 * V_GIF clear (and for an NMI the stub holds) the stub holds physical
 * interrupts as above and intercepts STGI until L1 sets GIF (vgif_l1()).
 */
#include <nest/nest.h>

#include "backend.h"
#include "smp_core.h"
#include "svm_nested.h"

#define L2_ASID 2 /* L1 runs with ASID 1 */
#define TDP_MAX_PAGES 4096
#define TDP_MAX_ROOTS 8
#define INSN_LEN_SVM 3 /* VMRUN, VMMCALL, VMLOAD, VMSAVE, STGI, CLGI, SKINIT, INVLPGA: 0F 01 xx */
#define INSN_LEN_MSR 2 /* RDMSR, WRMSR */
#define RFLAGS_IF (1ull << 9)
#define CPUID_ADDR_SIZES 0x80000008u
#define CPUID_EXT_EDX_LM (1u << 29)
#define DEFAULT_MAXPHYADDR 36
#define PAGE_SHIFT_2M 21
#define MAX_EXCEPTION_VECTOR 31
#define V_INTR_VECTOR_SHIFT 32 /* int_ctl bits 39:32 */

/* CR4 bits (APM 3.1.3) and the CPUID bits that offer them. */
#define CR4_BASE 0x7FFull /* VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT */
#define CR4_UMIP (1ull << 11)
#define CR4_LA57 (1ull << 12)
#define CR4_FSGSBASE (1ull << 16)
#define CR4_PCIDE (1ull << 17)
#define CR4_OSXSAVE (1ull << 18)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define CR4_PKE (1ull << 22)

#define EVENTINJ_NMI (EVENTINJ_VALID | ((uint64_t)NEST_SVM_EVTINJ_TYPE_NMI << 8) | VEC_NMI)

/* Each processor's (smp.c): its vCPU's context, its handle on the VM's
 * shadow, what it holds for L1. */
static struct nested_cpu {
	struct nest_svm *svm;
	struct nest_tdp *tdp;
	uint8_t *current; /* VMCB of the next run */
	bool l2_host_if;  /* L1's RFLAGS.IF at its VMRUN */
	bool hold_intr;	  /* L2 cleared GIF: hold physical interrupts */
	volatile bool nmi_pending; /* a physical NMI the stub took: L1's */
	bool smi_pending;	   /* an SMI L1 intercepts, held while L2's GIF is clear */
	bool l0_vgif;	  /* L1 runs with hardware vGIF */
	bool intr_wait;	  /* vGIF: an interrupt came while L1's V_GIF was clear */
	bool intr_let_in; /* vGIF: one run without the INTR intercept */
	struct nest_svm_config cfg; /* for a new context after INIT */
} nested_cpus[STUB_MAX_CPUS];
#define n (nested_cpus[stub_cpu()])
static struct nest_tdp *vm_tdp; /* the VM's shared shadow (vCPU 0's handle) */

static uint64_t cr4_allowed(void)
{
	uint32_t a, b, c, d, b7, c7;
	uint64_t cr4 = CR4_BASE;

	cpuid(1, 0, &a, &b, &c, &d);
	if (c & (1u << 17))
		cr4 |= CR4_PCIDE;
	if (c & (1u << 26))
		cr4 |= CR4_OSXSAVE;
	cpuid(7, 0, &a, &b7, &c7, &d);
	if (b7 & (1u << 0))
		cr4 |= CR4_FSGSBASE;
	if (b7 & (1u << 7))
		cr4 |= CR4_SMEP;
	if (b7 & (1u << 20))
		cr4 |= CR4_SMAP;
	if (c7 & (1u << 2))
		cr4 |= CR4_UMIP;
	if (c7 & (1u << 3))
		cr4 |= CR4_PKE;
	if (c7 & (1u << 16))
		cr4 |= CR4_LA57;
	return cr4;
}

static void apply(const struct nest_svm_action *act);
static void sync_gif(void);
static void held_events(void);

static void *pages(size_t bytes)
{
	void *p = bm_pages_alloc((bytes + BM_PAGE_SIZE - 1) / BM_PAGE_SIZE, BM_PAGE_SIZE);
	if (!p)
		bm_panic("stub: out of memory for libnest\n");
	return p;
}

static struct nest_svm_page page_of(void *p)
{
	return (struct nest_svm_page){.hva = p, .hpa = (uint64_t)(uintptr_t)p};
}

static void check(int rc, const char *what)
{
	if (rc != NEST_OK)
		bm_panic("stub: %s: %s\n", what, nest_strerror(rc));
}

/* The stub's own NMI handler: an NMI reaches the stub only after a
 * #VMEXIT(NMI), at its STGI; the devices are L1's, so is the NMI. */
static void take_nmi(struct bm_regs *r)
{
	(void)r;
	if (smp_nmi_is_l1()) /* else the stub's kick: it only had to exit */
		n.nmi_pending = true;
}

void nested_init(void)
{
	uint32_t a, b, c, d;
	struct nest_svm_config cfg = {.size = sizeof(cfg)};
	const struct nest_backend *be = smp_nest_backend();

	cpuid(CPUID_SVM_LEAF, 0, &cfg.host_cpuid[0], &cfg.host_cpuid[1], &cfg.host_cpuid[2],
	      &cfg.host_cpuid[3]);
	cpuid(CPUID_EXT_FEATURES, 0, &a, &b, &c, &d);
	cfg.flags =
	    NEST_SVM_CFG_SVM_ALLOWED | ((d & CPUID_EXT_EDX_LM) ? NEST_SVM_CFG_LONG_MODE : 0);
	/* What the host lacks of these, libnest carries out in software: the
	 * stub decodes L2's instruction lengths (insnlen.c) and reads the TSC
	 * (guest_rdmsr). */
	cfg.flags |=
	    NEST_SVM_CFG_SOFT_NRIPS | NEST_SVM_CFG_SOFT_PAUSE_FILTER | NEST_SVM_CFG_SOFT_TSC_RATE;
	cfg.l1_efer_allowed = EFER_SCE | ((d & CPUID_EXT_EDX_LM) ? EFER_LME : 0) |
			      ((d & CPUID_EXT_EDX_NX) ? EFER_NXE : 0);
	cpuid(CPUID_ADDR_SIZES, 0, &a, &b, &c, &d);
	cfg.l1_maxphyaddr = (a & 0xFF) ? (a & 0xFF) : DEFAULT_MAXPHYADDR;
	cfg.features = NEST_SVM_F_SUPPORTED; /* libnest keeps what the host has too */
	cfg.l2_asid = L2_ASID;
	cfg.l1_cr4_allowed = cr4_allowed();
	cfg.npt01_ncr3 = (uint64_t)(uintptr_t)stub.npt01;
	/* While L2 runs L0 keeps what it needs for L1 (main.c's vmcb01), with
	 * the same permission maps: fw_cfg, debug-exit, the SVM MSRs. */
	cfg.l0_intercepts[3] = VMCB_U32(stub.vmcb01, VMCB_ICPT_MISC1);
	cfg.l0_intercepts[4] = VMCB_U32(stub.vmcb01, VMCB_ICPT_MISC2) | ICPT2_STGI | ICPT2_CLGI;
	/* Several processors: NMIs are the stub's kicks too (smp.c). */
	if (stub_ncpus > 1) {
		cfg.l0_intercepts[3] |= ICPT1_NMI;
		VMCB_U32(stub.vmcb01, VMCB_ICPT_MISC1) |= ICPT1_NMI;
	}
	/* Unless "novgif" is on the stub's command line: L1's GIF is vmcb01's
	 * V_GIF, so its STGI and CLGI run without exits (APM 15.33). */
	if (!stub.l1_novgif && (cfg.host_cpuid[3] & CPUID_SVM_EDX_VGIF)) {
		cfg.flags |= NEST_SVM_CFG_L0_VGIF;
		VMCB_U32(stub.vmcb01, VMCB_ICPT_MISC2) &= ~(ICPT2_STGI | ICPT2_CLGI);
		VMCB_U64(stub.vmcb01, VMCB_INT_CTL) |=
		    NEST_SVM_INT_CTL_V_GIF_ENABLE | NEST_SVM_INT_CTL_V_GIF;
		n.l0_vgif = true;
	}
	/* Virtual VMLOAD/VMSAVE (APM 15.33.1) where the processor has it: L1's
	 * VMLOAD and VMSAVE run without exits, their address translated by
	 * NPT01 like any access of L1's. vmcb02 keeps intercepting L2's
	 * (libnest's rule). QEMU 7.2's TCG has none: not exercised there. */
	if (cfg.host_cpuid[3] & CPUID_SVM_EDX_V_VMSAVE_VMLOAD) {
		VMCB_U64(stub.vmcb01, VMCB_VIRT_EXT) |= NEST_SVM_VIRT_EXT_V_VMLOAD;
		VMCB_U32(stub.vmcb01, VMCB_ICPT_MISC2) &= ~(ICPT2_VMLOAD | ICPT2_VMSAVE);
	}
	cfg.l0_msrpm = stub.msrpm;
	cfg.l0_iopm = stub.iopm;

	struct nest_tdp_config tc = {
	    .size = sizeof(tc),
	    .max_pages = TDP_MAX_PAGES,
	    .max_roots = TDP_MAX_ROOTS,
	    .maxphyaddr = (uint8_t)cfg.l1_maxphyaddr,
	    .max_page_shift = PAGE_SHIFT_2M,
	};
	if (stub_ncpus > 1) /* each vCPU in L2 pins its root: room for them */
		tc.max_roots = TDP_MAX_ROOTS + stub_ncpus;
	size_t tsize = nest_tdp_size(&tc);
	if (!tsize)
		bm_panic("stub: nest_tdp_size refuses the configuration\n");
	check(nest_tdp_init(pages(tsize), tsize, be, &tc, &vm_tdp), "nest_tdp_init");
	n.cfg = cfg;
	nested_init_cpu();
	bm_set_handler(VEC_NMI, take_nmi);

	struct nest_svm_caps caps = {.size = sizeof(caps)};
	check(nest_svm_get_caps(n.svm, &caps), "nest_svm_get_caps");
	bm_printf("stub: libnest offers L1 SVM features %#x, MAXPHYADDR %u\n", caps.features,
		  caps.maxphyaddr);
}

/* L1 runs next, from a fresh start (its context new, or reset by INIT). */
static void l1_fresh(void)
{
	n.current = stub.vmcb01;
	n.hold_intr = n.nmi_pending = n.smi_pending = false;
	n.intr_wait = n.intr_let_in = false;
	stub.in_l2 = false;
	sync_gif();
}

/* The libnest context for L1's vCPU on this processor: on the VM's shadow
 * through this vCPU's handle, with the BSP's configuration and pages of
 * its own. */
static void new_context(void)
{
	size_t size = nest_svm_size();

	check(nest_svm_init(pages(size), size, smp_nest_backend(), &n.cfg, &n.svm),
	      "nest_svm_init");
	l1_fresh();
}

void nested_init_cpu(void)
{
	unsigned cpu = stub_cpu();

	if (cpu) {
		n = nested_cpus[0];
		size_t hsize = nest_tdp_vcpu_size();
		check(nest_tdp_vcpu_init(pages(hsize), hsize, vm_tdp, cpu, &n.tdp),
		      "nest_tdp_vcpu_init");
	} else {
		n.tdp = vm_tdp;
	}
	n.cfg.tdp = n.tdp;
	n.cfg.vmcb02 = page_of(pages(BM_PAGE_SIZE));
	n.cfg.msrpm02 = page_of(pages(MSRPM_SIZE));
	n.cfg.iopm02 = page_of(pages(IOPM_SIZE));
	new_context();
}

/* INIT for L1's vCPU here (nest_svm_init_signal()): L1's #VMEXIT(INIT)
 * while L2 runs and L1 intercepts it, #SX where L1 set VM_CR.R_INIT
 * (true: the vCPU runs on); otherwise the vCPU is reset (false: the caller
 * puts vmcb01 in the INIT state and waits for SIPI). While GIF is clear
 * the INIT stays pending (false with *held). */
bool nested_init_signal(bool *held)
{
	struct nest_svm_action act = {.size = sizeof(act)};
	int rc = NEST_CALL(nest_svm_init_signal(n.svm, (struct nest_vmcb *)stub.vmcb01, &act));

	*held = rc == NEST_E_STATE;
	if (*held)
		return false;
	if (rc != NEST_OK)
		bm_panic("stub: nest_svm_init_signal: %s\n", nest_strerror(rc));
	if (act.kind != NEST_SVM_ACT_NONE) {
		apply(&act);
		return true;
	}
	l1_fresh(); /* libnest left guest mode, reset L1's GIF and EFER.SVME */
	return false;
}

bool nested_available(void)
{
	return true;
}

void nested_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	int rc = nest_svm_cpuid(n.svm, leaf, sub, r);
	if (rc != NEST_OK && rc != NEST_E_NOENT)
		bm_panic("stub: nest_svm_cpuid: %s\n", nest_strerror(rc));
}

/* L1's GIF: hold physical interrupts for L1 while it is clear. */
static void sync_gif(void)
{
	if (n.l0_vgif)
		return; /* the hardware holds interrupts while V_GIF is clear */
	struct nest_svm_state st = {.size = sizeof(st)};

	check(nest_svm_get_state(n.svm, (struct nest_vmcb *)stub.vmcb01, &st),
	      "nest_svm_get_state");
	uint64_t ctl = VMCB_U64(stub.vmcb01, VMCB_INT_CTL);
	uint32_t icpt = VMCB_U32(stub.vmcb01, VMCB_ICPT_MISC1);
	if (st.gif) {
		ctl &= ~NEST_SVM_INT_CTL_V_INTR_MASKING;
		if (stub_ncpus == 1) /* with several, NMIs are always intercepted */
			icpt &= ~ICPT1_NMI;
	} else {
		ctl |= NEST_SVM_INT_CTL_V_INTR_MASKING;
		icpt |= ICPT1_NMI;
	}
	VMCB_U64(stub.vmcb01, VMCB_INT_CTL) = ctl;
	VMCB_U32(stub.vmcb01, VMCB_ICPT_MISC1) = icpt;
}

static void l2_exit_for_l0(uint8_t *v02, const struct nest_svm_action *act);

static void apply(const struct nest_svm_action *act)
{
	/* A refused VMRUN (VMEXIT_INVALID) is not an exit of L2's. */
	if ((act->flags & NEST_SVM_ACT_F_REFLECTED) && !(act->flags & NEST_SVM_ACT_F_INVALID))
		stub.stats.l2_reflected++;
	switch (act->kind) {
	case NEST_SVM_ACT_RESUME_L1:
		n.current = stub.vmcb01;
		stub.in_l2 = false;
		break;
	case NEST_SVM_ACT_INJECT_L1:
		n.current = stub.vmcb01;
		stub.in_l2 = false;
		stub_inject(stub.vmcb01, act->vector, act->has_error_code, act->error_code);
		break;
	case NEST_SVM_ACT_RUN_L2:
		if (act->tsc_ratio)
			bm_panic("stub: libnest asks for a TSC ratio the stub does not offer\n");
		if (!stub.in_l2)
			n.l2_host_if = VMCB_U64(stub.vmcb01, VMCB_RFLAGS) & RFLAGS_IF;
		n.current = (uint8_t *)(uintptr_t)act->vmcb_pa;
		n.hold_intr = act->flags & NEST_SVM_ACT_F_HOLD_INTR;
		stub.in_l2 = true;
		break;
	case NEST_SVM_ACT_L0_HANDLES:
		l2_exit_for_l0(n.current, act);
		return;
	case NEST_SVM_ACT_SHUTDOWN_L1:
		stub_fatal(stub.vmcb01, "L1 shut down (an L2 shutdown L1 does not intercept)");
	default:
		bm_panic("stub: libnest returned action %u\n", act->kind);
	}
	sync_gif();
}

bool nested_l1_written(uint64_t gpa)
{
	return NEST_CALL(nest_svm_l1_written(n.svm, gpa)) == NEST_OK;
}

void nested_l1_exit(uint8_t *vmcb01, uint64_t code)
{
	struct nest_svm_action act = {.size = sizeof(act)};

	stub.regs.insn_len = code == VMEXIT_MSR ? INSN_LEN_MSR : INSN_LEN_SVM;
	int rc = NEST_CALL(nest_svm_l1_exit(n.svm, (struct nest_vmcb *)vmcb01, &stub.regs, &act));
	if (rc != NEST_OK) {
		bm_printf("stub: nest_svm_l1_exit: %s\n", nest_strerror(rc));
		stub_fatal(vmcb01, "libnest refused an L1 exit");
	}
	if (code == VMEXIT_VMRUN) {
		stub.stats.vmruns++;
		if (act.flags & NEST_SVM_ACT_F_INVALID)
			stub.stats.vmrun_failed++;
	}
	apply(&act);
}

/* An MSR that neither L0 nor L1 intercepts, reaching the stub only while
 * libnest decides from L1's MSRPM as it is (L2 wrote it): the processor's,
 * as L2 would have had it without the exit. False if it faults (#GP). */
static bool msr_passthrough(bool wr, uint32_t msr, uint64_t *val)
{
	return wr ? stub_wrmsr_safe(msr, *val) : stub_rdmsr_safe(msr, val);
}

/* An MSR access of L2's that L1 does not intercept and L0 does. */
/* An exception of L2's that the stub raises (its MSR access faulted):
 * L1's #VMEXIT if L1 intercepts it, else L2's (APM 15.12). */
static void l2_raise(unsigned vector, uint32_t error)
{
	struct nest_svm_action act = {.size = sizeof(act)};
	int rc = NEST_CALL(nest_svm_l2_exception(n.svm, (struct nest_vmcb *)stub.vmcb01, vector,
						 error, 0, &act));

	if (rc != NEST_OK)
		bm_panic("stub: nest_svm_l2_exception: %s\n", nest_strerror(rc));
	apply(&act);
}

/* L2's RDMSR or WRMSR that L0 carries out; false if it raised an
 * exception instead (whose action is applied). */
static bool l2_msr(uint8_t *v)
{
	bool wr = VMCB_U64(v, VMCB_EXITINFO1) & 1;
	uint32_t msr = (uint32_t)stub.regs.gpr[GPR_RCX];
	uint64_t val = (VMCB_U64(v, VMCB_RAX) & 0xFFFFFFFFull) | (stub.regs.gpr[GPR_RDX] << 32);
	struct nest_svm_action act = {.size = sizeof(act)};
	int rc;

	if (msr == MSR_EFER) {
		/* L2's EFER is vmcb02's; SVME stays set (VMRUN checked vmcb12's). */
		uint64_t cur = VMCB_U64(v, VMCB_EFER);
		if (wr)
			VMCB_U64(v, VMCB_EFER) = (val & ~EFER_LMA) | (cur & EFER_LMA) | EFER_SVME;
		else
			val = cur;
		act.kind = NEST_SVM_ACT_RESUME_L1;
	} else {
		/* VM_HSAVE_PA, VM_CR: the "hardware" L2 reaches is L1's. */
		rc = wr ? nest_svm_wrmsr(n.svm, msr, val, NULL, &act)
			: nest_svm_rdmsr(n.svm, msr, &val, &act);
		if (rc == NEST_E_NOENT && !msr_passthrough(wr, msr, &val)) {
			l2_raise(VEC_GP, 0);
			return false;
		}
		if (rc != NEST_OK && rc != NEST_E_NOENT)
			stub_fatal(v, "L2 MSR access libnest refuses");
	}
	if (act.kind == NEST_SVM_ACT_INJECT_L1) {
		/* The exception is the accessing guest's: L2's. */
		l2_raise(act.vector, act.error_code);
		return false;
	}
	if (!wr) {
		VMCB_U64(v, VMCB_RAX) = val & 0xFFFFFFFFull;
		stub.regs.gpr[GPR_RDX] = val >> 32;
	}
	VMCB_U64(v, VMCB_RIP) += INSN_LEN_MSR;
	return true;
}

static void l2_exit_for_l0(uint8_t *v02, const struct nest_svm_action *act)
{
	uint64_t code = VMCB_U64(v02, VMCB_EXITCODE);

	stub.stats.l2_handled++;
	if (!stub_l0_exit(v02, code)) {
		switch (code) {
		case VMEXIT_MSR:
			if (!l2_msr(v02))
				return;
			break;
		case VMEXIT_NMI:
			/* Held by the stub (take_nmi): nested_before_run() hands
			 * it on once L2's GIF allows. */
			break;
		case VMEXIT_INTR:
		case VMEXIT_SMI:
			/* Physical events are L0's; the devices are L1's, so is the
			 * event: a #VMEXIT for L1 if it intercepts it (APM 15.21).
			 * GIF holds an SMI (APM 15.17): while L2 holds it clear, the
			 * #VMEXIT(SMI) waits for its STGI (nested_before_run()); the
			 * platform takes the SMI itself at the stub's STGI. */
			if (code == VMEXIT_SMI && n.hold_intr &&
			    nest_svm_l1_intercepts(n.svm, code, 0, 0) == 1) {
				n.smi_pending = true;
				break;
			}
			if (nest_svm_l1_intercepts(n.svm, code, 0, 0) == 1) {
				struct nest_svm_action fwd = {.size = sizeof(fwd)};
				int rc = NEST_CALL(nest_svm_force_exit(
				    n.svm, (struct nest_vmcb *)stub.vmcb01, code, 0, 0, &fwd));
				if (rc != NEST_OK)
					bm_panic("stub: nest_svm_force_exit: %s\n",
						 nest_strerror(rc));
				apply(&fwd);
				return;
			}
			break; /* L2 takes it itself once it runs again */
		case VMEXIT_NPF: {
			/* Under NPT02 libnest names the L1 page; L2 without
			 * nested paging of L1's runs on NPT01 itself. */
			uint64_t gpa = act->l0_access ? act->l1_gpa : VMCB_U64(v02, VMCB_EXITINFO2);
			if (smp_apic_write(v02, gpa)) /* L1's APIC, mapped into L2 */
				break;
			if ((VMCB_U64(v02, VMCB_EXITINFO1) & NPF_WRITE) && l1_tracked(gpa) &&
			    nested_l1_written(gpa))
				break;
			bm_printf("stub: L2 reached L1-physical %#llx, which L1 does not have%s\n",
				  (unsigned long long)gpa,
				  shrink_removed(gpa) ? " (L0 took it back: shrink)" : "");
			stub_fatal(v02, "nested page fault outside L1's memory");
		}
		default:
			stub_fatal(v02, "L2 exit that neither L1 nor L0 handles");
		}
	}
	struct nest_svm_action next = {.size = sizeof(next)};
	int rc = NEST_CALL(nest_svm_resume_l2(n.svm, &next));
	if (rc != NEST_OK)
		bm_panic("stub: nest_svm_resume_l2: %s\n", nest_strerror(rc));
	apply(&next);
}

/*
 * Where QEMU's TCG differs from the APM in what an L2 exit reports.
 *
 * QEMU's TCG reports an interrupt whose delivery an exit interrupted as an
 * exception (EXITINTINFO type 3) with the interrupt's vector; the APM has
 * type 0 (INTR) for it, and VMRUN refuses to inject an exception above
 * vector 31. An exception above 31 cannot exist: it was an interrupt.
 */
static void fix_qemu_exit(uint8_t *v)
{
	uint64_t info = VMCB_U64(v, VMCB_EXITINTINFO);

	/* QEMU writes a refused VMRUN's VMEXIT_INVALID (-1) as a 32-bit code;
	 * EXITCODE is 64 bits wide (APM 15.6, appendix C). */
	if (VMCB_U64(v, VMCB_EXITCODE) == 0xFFFFFFFFull)
		VMCB_U64(v, VMCB_EXITCODE) = VMEXIT_INVALID;

	if ((info & NEST_SVM_EVTINJ_VALID) &&
	    (info & NEST_SVM_EVTINJ_TYPE_MASK) >> NEST_SVM_EVTINJ_TYPE_SHIFT ==
		NEST_SVM_EVTINJ_TYPE_EXCEPTION &&
	    (info & NEST_SVM_EVTINJ_VECTOR_MASK) > MAX_EXCEPTION_VECTOR)
		info = (info & ~NEST_SVM_EVTINJ_TYPE_MASK) |
		       ((uint64_t)NEST_SVM_EVTINJ_TYPE_INTR << NEST_SVM_EVTINJ_TYPE_SHIFT);
	/* The same for an NMI: QEMU reports it as exception 2, which VMRUN
	 * refuses to inject (APM 15.20: an exception with vector 2 is illegal). */
	if ((info & NEST_SVM_EVTINJ_VALID) &&
	    (info & NEST_SVM_EVTINJ_TYPE_MASK) >> NEST_SVM_EVTINJ_TYPE_SHIFT ==
		NEST_SVM_EVTINJ_TYPE_EXCEPTION &&
	    (info & NEST_SVM_EVTINJ_VECTOR_MASK) == VEC_NMI)
		info = (info & ~(NEST_SVM_EVTINJ_TYPE_MASK | NEST_SVM_EVTINJ_EV)) |
		       ((uint64_t)NEST_SVM_EVTINJ_TYPE_NMI << NEST_SVM_EVTINJ_TYPE_SHIFT);
	VMCB_U64(v, VMCB_EXITINTINFO) = info;

	/*
	 * The processor clears V_IRQ when it takes the virtual interrupt
	 * (APM 15.21.4), before delivering it; QEMU clears it only once the
	 * delivery is complete. An exit during the delivery (a fault of L2 on
	 * NPT02 that L0 fixes, typically) then leaves both EXITINTINFO and
	 * V_IRQ set, and the interrupt would arrive twice.
	 */
	uint64_t ctl = VMCB_U64(v, VMCB_INT_CTL);
	if ((info & NEST_SVM_EVTINJ_VALID) &&
	    (info & NEST_SVM_EVTINJ_TYPE_MASK) >> NEST_SVM_EVTINJ_TYPE_SHIFT ==
		NEST_SVM_EVTINJ_TYPE_INTR &&
	    (ctl & NEST_SVM_INT_CTL_V_IRQ) &&
	    (info & NEST_SVM_EVTINJ_VECTOR_MASK) ==
		(ctl & NEST_SVM_INT_CTL_V_INTR_VECTOR_MASK) >> V_INTR_VECTOR_SHIFT)
		VMCB_U64(v, VMCB_INT_CTL) = ctl & ~NEST_SVM_INT_CTL_V_IRQ;
}

/* Instruction intercepts (APM 15.9), MSR and IOIO (whose next RIP is in
 * EXITINFO2), #BP, #OF and #BR of INT3, INTO and BOUND. */
static bool saves_nrip(uint64_t code)
{
	return (code >= VMEXIT_EXCP_BASE + 3 && code <= VMEXIT_EXCP_BASE + 5) ||
	       (code >= NEST_SVM_EXIT_IDTR_READ && code <= NEST_SVM_EXIT_MSR &&
		code != NEST_SVM_EXIT_IOIO) ||
	       (code >= NEST_SVM_EXIT_VMRUN && code <= NEST_SVM_EXIT_RDPRU) ||
	       (code >= NEST_SVM_EXIT_INVLPGB && code <= NEST_SVM_EXIT_TLBSYNC);
}

void nested_l2_exit(uint8_t *vmcb02)
{
	struct nest_svm_action act = {.size = sizeof(act)};

	stub.stats.l2_exits++;
	fix_qemu_exit(vmcb02);
	/* QEMU has no nRIP save: the length of L2's instruction, for the
	 * exits on which the processor saves nRIP (APM 15.7.1). */
	stub.regs.insn_len =
	    saves_nrip(VMCB_U64(vmcb02, VMCB_EXITCODE)) ? stub_l2_insn_len(vmcb02) : 0;
	int rc =
	    NEST_CALL(nest_svm_l2_exit(n.svm, (struct nest_vmcb *)stub.vmcb01, &stub.regs, &act));
	if (rc != NEST_OK) {
		bm_printf("stub: nest_svm_l2_exit: %s\n", nest_strerror(rc));
		stub_fatal(vmcb02, "libnest refused an L2 exit");
	}
	apply(&act);
}

/*
 * vGIF: what vmcb01 intercepts for L1's next run (see the top of this
 * file). V_GIF clear with an event L1 is to get (an interrupt the INTR
 * intercept saw, an NMI the stub holds, an INIT): physical interrupts held
 * (V_INTR_MASKING set, RFLAGS.IF clear at VMRUN), STGI intercepted, as KVM
 * does for a vGIF guest. After an INTR exit with V_GIF set: one run
 * without the INTR intercept, which the interrupt enters L1 by, with CLGI
 * intercepted. Otherwise INTR and NMI intercepted, nothing held.
 */
static void vgif_l1(void)
{
	uint64_t ctl = VMCB_U64(stub.vmcb01, VMCB_INT_CTL) & ~NEST_SVM_INT_CTL_V_INTR_MASKING;
	uint32_t m1 = VMCB_U32(stub.vmcb01, VMCB_ICPT_MISC1) | ICPT1_INTR | ICPT1_NMI;
	uint32_t m2 = VMCB_U32(stub.vmcb01, VMCB_ICPT_MISC2) & ~(ICPT2_STGI | ICPT2_CLGI);

	if (!n.l0_vgif || stub.in_l2)
		return;
	if (ctl & NEST_SVM_INT_CTL_V_GIF) {
		n.intr_wait = false;
		if (n.intr_let_in) {
			m1 &= ~ICPT1_INTR;
			m2 |= ICPT2_CLGI;
		}
	} else if (n.intr_wait || n.nmi_pending || smp_init_waiting()) {
		ctl |= NEST_SVM_INT_CTL_V_INTR_MASKING;
		m1 &= ~ICPT1_INTR;
		m2 |= ICPT2_STGI;
	}
	n.intr_let_in = false;
	VMCB_U64(stub.vmcb01, VMCB_INT_CTL) = ctl;
	VMCB_U32(stub.vmcb01, VMCB_ICPT_MISC1) = m1;
	VMCB_U32(stub.vmcb01, VMCB_ICPT_MISC2) = m2;
}

/* vGIF: L1 ran into a physical interrupt (vmcb01 intercepts INTR). */
void nested_l1_intr(void)
{
	if (VMCB_U64(stub.vmcb01, VMCB_INT_CTL) & NEST_SVM_INT_CTL_V_GIF)
		n.intr_let_in = true;
	else
		n.intr_wait = true;
}

void nested_before_run(void)
{
	held_events();
	vgif_l1();
}

static void held_events(void)
{
	struct nest_svm_state st = {.size = sizeof(st)};

	if (n.smi_pending && (!stub.in_l2 || !n.hold_intr)) {
		n.smi_pending = false;
		/* L2 set GIF again: L1's #VMEXIT(SMI), after L2's STGI. Once L1
		 * runs, the SMI was the platform's. */
		if (stub.in_l2 && nest_svm_l1_intercepts(n.svm, VMEXIT_SMI, 0, 0) == 1) {
			struct nest_svm_action fwd = {.size = sizeof(fwd)};
			int rc = NEST_CALL(nest_svm_force_exit(n.svm, (struct nest_vmcb *)stub.vmcb01,
							       VMEXIT_SMI, 0, 0, &fwd));
			if (rc != NEST_OK)
				bm_panic("stub: nest_svm_force_exit: %s\n", nest_strerror(rc));
			apply(&fwd);
		}
	}
	if (!n.nmi_pending)
		return;
	if (stub.in_l2) {
		if (n.hold_intr)
			return; /* L2 holds GIF clear: until its STGI */
		if (nest_svm_l1_intercepts(n.svm, VMEXIT_NMI, 0, 0) == 1) {
			/* L1's #VMEXIT(NMI); the NMI waits for L1's STGI. */
			struct nest_svm_action fwd = {.size = sizeof(fwd)};
			int rc = NEST_CALL(nest_svm_force_exit(n.svm, (struct nest_vmcb *)stub.vmcb01,
							       VMEXIT_NMI, 0, 0, &fwd));
			if (rc != NEST_OK)
				bm_panic("stub: nest_svm_force_exit: %s\n", nest_strerror(rc));
			apply(&fwd);
			return;
		}
		if (!(VMCB_U64(n.current, VMCB_EVENTINJ) & EVENTINJ_VALID)) {
			VMCB_U64(n.current, VMCB_EVENTINJ) = EVENTINJ_NMI;
			n.nmi_pending = false;
		}
		return;
	}
	check(nest_svm_get_state(n.svm, (struct nest_vmcb *)stub.vmcb01, &st), "nest_svm_get_state");
	if (st.gif && !(VMCB_U64(stub.vmcb01, VMCB_EVENTINJ) & EVENTINJ_VALID)) {
		VMCB_U64(stub.vmcb01, VMCB_EVENTINJ) = EVENTINJ_NMI;
		n.nmi_pending = false;
	}
}

uint8_t *nested_current_vmcb(void)
{
	return n.current;
}

bool nested_host_if(void)
{
	return stub.in_l2 && n.l2_host_if && !n.hold_intr;
}

void nested_l1_map_changed(uint64_t gpa, uint64_t len)
{
	check(NEST_CALL(nest_tdp_l1_map_changed(n.tdp, gpa, len)), "nest_tdp_l1_map_changed");
}

unsigned nested_hot_pages(uint64_t *gpa, unsigned max)
{
	struct nest_svm_state st = {.size = sizeof(st)};
	uint64_t np = 0, ncr3 = 0;
	unsigned n_hot = 0;

	check(nest_svm_get_state(n.svm, NULL, &st), "nest_svm_get_state");
	if (!st.guest_mode || max < 2)
		return 0;
	gpa[n_hot++] = st.vmcb12_pa;
	/* L1's NPT12 root, as vmcb12 names it (read the way libnest reads it). */
	const struct nest_backend_ops *ops = stub_backend.ops;
	if (ops->read_l1(stub_backend.ctx, st.vmcb12_pa + VMCB_NP_CTL, &np, sizeof(np)) ==
		NEST_OK &&
	    (np & NP_CTL_ENABLE) &&
	    ops->read_l1(stub_backend.ctx, st.vmcb12_pa + VMCB_N_CR3, &ncr3, sizeof(ncr3)) ==
		NEST_OK)
		gpa[n_hot++] = ncr3 & NPT_ADDR_MASK;
	return n_hot;
}

bool nested_l2_running(void)
{
	return stub.in_l2;
}

uint64_t nested_npt02_root(void)
{
	const uint8_t *v02 = n.cfg.vmcb02.hva;
	uint64_t root = VMCB_U64(v02, VMCB_N_CR3) & NPT_ADDR_MASK;

	if (!(VMCB_U64(v02, VMCB_NP_CTL) & NP_CTL_ENABLE) ||
	    root == (uint64_t)(uintptr_t)stub.npt01)
		return 0;
	return root;
}
