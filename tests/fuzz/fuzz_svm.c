/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness of nested SVM: the input is a program of L1 and L2
 * events (L1 writes its vmcb12 and permission maps, executes SVM
 * instructions and MSR accesses; L2 exits with any code and information;
 * L0 forces exits and resumes L2). After every call the invariants of
 * docs/trust-model.md hold or the harness aborts:
 *  - status codes are the documented ones; actions are well formed;
 *  - a VMRUN that ran L2 had a vmcb12 that passes nest_svm_check_vmcb(), a
 *    refused one fails it with the rule the action names;
 *  - single fetch: one VMRUN reads L1 memory at most three times;
 *  - L0 keeps its exits: vmcb02 holds every L0 and forced intercept, the
 *    merged maps hold every bit of L0's maps;
 *  - vmcb02 never carries AVIC, vNMI, virtual VMLOAD/VMSAVE, SEV, or an
 *    ASID or nCR3 that is not L0's;
 *  - after a reflection vmcb01 is L1's host state (CPL 0, DR7 0x400, PE);
 *  - a vmcb02 that a VMRUN of L1 built passes every VMRUN consistency
 *    check itself (nest_svm_check_vmcb() with the host's features): L0's
 *    own VMRUN of it never fails.
 * Built with ASan/UBSan: any undefined behaviour aborts too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_svm.h"

#include "cpu/x86.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(why)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "fuzz_svm: invariant violated: %s (line %d)\n", why, __LINE__);    \
		abort();                                                                           \
	} while (0)

struct input {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct input *in, unsigned bytes)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < bytes && in->n; i++, in->p++, in->n--)
		v |= (uint64_t)*in->p << (8 * i);
	return v;
}

static const uint64_t l1_codes[] = {
    NEST_SVM_EXIT_VMRUN,  NEST_SVM_EXIT_VMLOAD, NEST_SVM_EXIT_VMSAVE,
    NEST_SVM_EXIT_STGI,	  NEST_SVM_EXIT_CLGI,	NEST_SVM_EXIT_INVLPGA,
    NEST_SVM_EXIT_SKINIT, NEST_SVM_EXIT_MSR,	NEST_SVM_EXIT_CPUID};
static const uint32_t msrs[] = {0xc0000080u, 0xc0010114u, 0xc0010117u, 0xc0000104u, 0x10u};
static const uint64_t pas[] = {SIM_SVM_VMCB12, SIM_SVM_VMLOAD_AREA,	SIM_SVM_VMCB12 + 1,
			       1ull << 48,     SIM_SVM_L1_MEM - 0x1000, SIM_SVM_L1_MEM};

static int use_tdp; /* this input gives libnest the NPT02 shadow */
static uint32_t l0_icpt[NEST_SVM_INTERCEPT_WORDS] = {0, 0, 1u << 18, 0x80000003u, 0, 0};

static void check_status(int rc)
{
	if (rc != NEST_OK && rc != NEST_E_NOENT && rc != NEST_E_STATE && rc != NEST_E_FAULT &&
	    rc != NEST_E_INVAL && rc != NEST_E_NOMEM && rc != NEST_E_BACKEND)
		FAIL("undocumented status");
}

static void check_vmcb02(struct sim_svm *t)
{
	const struct nest_vmcb_control *c2 = &t->vmcb02->control;
	const uint32_t *w2 = &c2->intercept_cr;
	size_t i;

	for (i = 0; i < NEST_SVM_INTERCEPT_WORDS; i++)
		if ((w2[i] & l0_icpt[i]) != l0_icpt[i])
			FAIL("vmcb02 lost an intercept of L0");
	if ((c2->intercept_misc2 & 0x4d) != 0x4d) /* VMRUN, VMLOAD, VMSAVE, SKINIT */
		FAIL("vmcb02 lost a forced SVM intercept");
	if ((c2->intercept_misc1 & 0x98000000u) != 0x98000000u) /* IOIO, MSR, SHUTDOWN */
		FAIL("vmcb02 lost a forced intercept");
	for (i = 0; i < NEST_SVM_MSRPM_SIZE; i++)
		if ((t->msrpm02[i] & t->l0_msrpm[i]) != t->l0_msrpm[i])
			FAIL("merged MSRPM lost a bit of L0");
	for (i = 0; i < NEST_SVM_IOPM_SIZE; i++)
		if ((t->iopm02[i] & t->l0_iopm[i]) != t->l0_iopm[i])
			FAIL("merged IOPM lost a bit of L0");
	if (c2->int_ctl & (NEST_SVM_INT_CTL_AVIC_ENABLE | NEST_SVM_INT_CTL_V_NMI_ENABLE |
			   NEST_SVM_INT_CTL_X2AVIC_ENABLE))
		FAIL("int_ctl carries an unoffered feature");
	if (!(c2->int_ctl & NEST_SVM_INT_CTL_V_INTR_MASKING))
		FAIL("physical interrupts left to L2");
	if (c2->virt_ext & NEST_SVM_VIRT_EXT_V_VMLOAD)
		FAIL("virtual VMLOAD/VMSAVE in vmcb02");
	if (c2->np_ctl != NEST_SVM_NP_ENABLE)
		FAIL("np_ctl of vmcb02 is not plain nested paging");
	if (c2->asid != SIM_SVM_L2_ASID)
		FAIL("vmcb02 ASID is not L0's");
	if (!use_tdp && c2->n_cr3 != SIM_SVM_NPT01_NCR3)
		FAIL("vmcb02 nCR3 is not NPT01");
	if (c2->msrpm_base_pa != SIM_SVM_HPA_MSRPM02 || c2->iopm_base_pa != SIM_SVM_HPA_IOPM02)
		FAIL("vmcb02 maps are not L0's");
	if (c2->avic_backing_page || c2->avic_physical_table || c2->vmsa_pa)
		FAIL("vmcb02 carries L1 pointers");
}

/* vmcb02 is a VMCB the processor runs (APM 15.5.1): the checks libnest
 * applies to vmcb12, applied to vmcb02 with the host's features (vmcb02
 * runs on L0's nested paging). */
static void check_vmcb02_runnable(struct sim_svm *t)
{
	struct nest_svm_caps caps = {.size = sizeof(caps)};
	struct nest_svm_diag d;

	nest_svm_get_caps(t->ctx, &caps);
	caps.features |= NEST_SVM_F_NP;
	memset(&d, 0, sizeof(d));
	if (nest_svm_check_vmcb(t->vmcb02, &caps, &d) != NEST_OK || d.rule != NEST_SVM_CHECK_OK) {
		fprintf(stderr, "fuzz_svm: vmcb02 fails %s\n", nest_svm_check_name(d.rule));
		FAIL("vmcb02 fails a VMRUN consistency check");
	}
}

static void check_host_state(struct sim_svm *t)
{
	if (t->vmcb01->save.cpl != 0 || t->vmcb01->save.dr7 != 0x400 ||
	    !(t->vmcb01->save.cr0 & X86_CR0_PE))
		FAIL("vmcb01 is not L1's host state after #VMEXIT");
}

static void run(struct sim_svm *t, struct input *in)
{
	struct nest_svm_state st = {.size = sizeof(st)};
	unsigned steps;
	int rc;

	for (steps = 0; steps < 64 && in->n; steps++) {
		unsigned op = (unsigned)take(in, 1) % 8;

		nest_svm_get_state(t->ctx, t->vmcb01, &st);
		switch (op) {
		case 0: { /* L1 writes 8 bytes of its vmcb12 */
			uint64_t off = take(in, 2) % (NEST_VMCB_SIZE - 8);
			uint64_t v = take(in, 8);

			memcpy(sim_ptr(&t->sim, SIM_SVM_VMCB12 + off, 8), &v, 8);
			break;
		}
		case 1: { /* L1 writes its maps */
			uint64_t off = take(in, 2) % NEST_SVM_MSRPM_SIZE;

			uint8_t b = (uint8_t)take(in, 1);

			/* Through L0, which reports writes to the pages it tracks. */
			sim_l1_store(&t->sim, SIM_SVM_MSRPM12 + off, &b, 1);
			b = (uint8_t)take(in, 1);
			sim_l1_store(&t->sim, SIM_SVM_IOPM12 + off, &b, 1);
			break;
		}
		case 2: { /* L1 exits */
			uint64_t code =
			    l1_codes[take(in, 1) % (sizeof(l1_codes) / sizeof(l1_codes[0]))];
			unsigned long reads;

			if (st.guest_mode)
				break;
			t->vmcb01->save.rax = pas[take(in, 1) % (sizeof(pas) / sizeof(pas[0]))];
			t->regs.gpr[1] = msrs[take(in, 1) % (sizeof(msrs) / sizeof(msrs[0]))];
			t->regs.gpr[2] = take(in, 1);
			t->vmcb01->save.cpl = (take(in, 1) & 7) == 7 ? 3 : 0;
			reads = t->sim.calls.read_l1;
			rc = sim_svm_l1(t, code, take(in, 1) & 1);
			check_status(rc);
			if (t->sim.calls.read_l1 - reads > 3)
				FAIL("VMRUN read L1 memory more than once per structure");
			if (rc == NEST_OK && code == NEST_SVM_EXIT_VMRUN &&
			    t->vmcb01->save.rax == SIM_SVM_VMCB12 &&
			    (t->act.kind == NEST_SVM_ACT_RUN_L2 ||
			     (t->act.flags & NEST_SVM_ACT_F_INVALID))) {
				struct nest_svm_caps caps = {.size = sizeof(caps)};
				struct nest_svm_diag d;

				nest_svm_get_caps(t->ctx, &caps);
				nest_svm_check_vmcb(
				    sim_ptr(&t->sim, SIM_SVM_VMCB12, NEST_VMCB_SIZE), &caps, &d);
				if (t->act.kind == NEST_SVM_ACT_RUN_L2 &&
				    d.rule != NEST_SVM_CHECK_OK)
					FAIL("VMRUN ran an invalid vmcb12");
				if ((t->act.flags & NEST_SVM_ACT_F_INVALID) &&
				    d.rule != t->act.check)
					FAIL("VMRUN refused for another rule");
			}
			if (rc == NEST_OK && t->act.kind == NEST_SVM_ACT_RUN_L2) {
				check_vmcb02(t);
				check_vmcb02_runnable(t);
			}
			break;
		}
		case 3:
		case 4: { /* L2 exits */
			struct nest_vmcb_control *c2 = &t->vmcb02->control;

			if (!st.guest_mode)
				break;
			c2->exitcode = take(in, 1) & 1 ? take(in, 2) & 0x4ff : take(in, 1);
			c2->exitinfo1 = take(in, 8);
			c2->exitinfo2 = take(in, 8);
			c2->exitintinfo = take(in, 1) & 1 ? take(in, 8) : 0;
			t->regs.gpr[1] = take(in, 4);
			rc = nest_svm_l2_exit(t->ctx, t->vmcb01, &t->regs, &t->act);
			check_status(rc);
			if (rc == NEST_OK && (t->act.flags & NEST_SVM_ACT_F_REFLECTED))
				check_host_state(t);
			if (rc == NEST_OK && t->act.kind == NEST_SVM_ACT_RUN_L2)
				check_vmcb02(t);
			break;
		}
		case 5: /* L0 forces an exit, or raises an exception in L2 */
			if (take(in, 1) & 2) {
				uint32_t vector = (uint32_t)take(in, 1) % 34;
				uint32_t error = (uint32_t)take(in, 2);

				rc = nest_svm_l2_exception(t->ctx, t->vmcb01, vector, error,
							   take(in, 4), &t->act);
				check_status(rc);
				if (rc == NEST_OK && t->act.kind == NEST_SVM_ACT_RUN_L2)
					check_vmcb02(t);
				else if (rc == NEST_OK)
					check_host_state(t);
				break;
			}
			rc = nest_svm_force_exit(t->ctx, t->vmcb01, take(in, 1) & 1 ? 0x60 : 0x61,
						 0, 0, &t->act);
			check_status(rc);
			if (rc == NEST_OK)
				check_host_state(t);
			break;
		case 6: /* L0 resumes L2 */
			rc = nest_svm_resume_l2(t->ctx, &t->act);
			check_status(rc);
			if (rc == NEST_OK)
				check_vmcb02(t);
			break;
		default: /* L1 changes its own mode */
			if (st.guest_mode)
				break;
			t->vmcb01->save.cr0 ^= take(in, 1) & 1 ? X86_CR0_PE : 0;
			t->vmcb01->save.efer ^= take(in, 1) & 1 ? X86_EFER_LMA : 0;
			break;
		}
	}
}

/* One simulation for the whole run (allocations are the slow part); each
 * input re-initialises the context and clears what the programs touch. */
static struct sim_svm t;
static int ready;

/* L0 tracking writes to L1's map pages: it tells libnest of each. */
static void l1_wrote(void *arg, uint64_t gpa)
{
	(void)arg;
	if (nest_svm_l1_written(t.ctx, gpa) != NEST_OK)
		FAIL("nest_svm_l1_written failed");
}

static void reset(uint32_t features, uint32_t flags, int with_tdp, bool track)
{
	struct nest_svm_config c;
	uint64_t hw;

	if (!ready) {
		if (sim_svm_init(&t, NEST_SVM_F_SUPPORTED,
				 NEST_SVM_CFG_SVM_ALLOWED | NEST_SVM_CFG_LONG_MODE, 1, l0_icpt))
			abort();
		ready = 1;
	}
	memset(t.sim.mem, 0, SIM_SVM_NPT12 + 0x10000);
	nest_tdp_invalidate_all(t.tdp);
	memset(t.vmcb02, 0, sizeof(*t.vmcb02));
	c = t.cfg;
	c.features = features;
	c.flags = flags;
	c.tdp = with_tdp ? t.tdp : NULL;
	use_tdp = with_tdp;
	t.sim.track_writes = track;
	t.sim.ntracked = 0;
	t.sim.on_write = l1_wrote;
	if (nest_svm_init(t.ctx_mem, nest_svm_size(), sim_backend(&t.sim), &c, &t.ctx) != NEST_OK)
		abort();
	sim_svm_l1_state(t.vmcb01);
	hw = t.vmcb01->save.efer;
	if (nest_svm_wrmsr(t.ctx, 0xc0000080u, hw, &hw, &t.act) != NEST_OK)
		abort();
	t.vmcb01->save.efer = hw;
	t.regs.size = sizeof(t.regs);
	t.act.size = sizeof(t.act);
	sim_reset_counters(&t.sim);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct nest_vmcb v;
	uint32_t features;
	uint8_t cfg;

	if (size < 1)
		return 0;
	cfg = (uint8_t)take(&in, 1);
	features = NEST_SVM_F_SUPPORTED;
	if (cfg & 1)
		features &= ~NEST_SVM_F_VGIF;
	if (cfg & 2)
		features &= ~NEST_SVM_F_NRIPS;
	if (cfg & 4)
		features &= ~NEST_SVM_F_TSC_RATE;
	reset(features,
	      NEST_SVM_CFG_SVM_ALLOWED | NEST_SVM_CFG_LONG_MODE |
		  ((cfg & 8) ? NEST_SVM_CFG_L0_VGIF : 0),
	      (cfg & 16) != 0, (size & 1) != 0 /* L0 tracks the map pages */);
	/* L0's maps: a pattern from the configuration byte. */
	memset(t.l0_msrpm, (cfg & 32) ? 0x11 : 0, NEST_SVM_MSRPM_SIZE);
	memset(t.l0_iopm, (cfg & 64) ? 0x81 : 0, NEST_SVM_IOPM_SIZE);
	/* Start from a valid vmcb12 so that the program reaches L2. */
	sim_svm_valid_vmcb12(&v);
	if (cfg & 128) {
		v.control.np_ctl = NEST_SVM_NP_ENABLE;
		v.control.n_cr3 = SIM_SVM_NPT12;
		sim_write64(&t.sim, SIM_SVM_NPT12, (SIM_SVM_NPT12 + 0x1000) | 0x7);
		sim_write64(&t.sim, SIM_SVM_NPT12 + 0x1000, (SIM_SVM_NPT12 + 0x2000) | 0x7);
		sim_write64(&t.sim, SIM_SVM_NPT12 + 0x2000, 0x200000 | 0x87);
	}
	memcpy(sim_ptr(&t.sim, SIM_SVM_VMCB12, sizeof(v)), &v, sizeof(v));
	run(&t, &in);
	return 0;
}
