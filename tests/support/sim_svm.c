/* SPDX-License-Identifier: MIT */
/* Nested-SVM helpers over the simulated backend (see sim_svm.h). */
#include <stdlib.h>
#include <string.h>

#include "sim_svm.h"

#define L1_RIP 0x401000ull
#define SIM_MSR_EFER 0xc0000080u
#define L2_RIP 0x8000ull

static void *page_zalloc(size_t len)
{
	void *p = aligned_alloc(4096, (len + 4095) & ~(size_t)4095);

	if (p)
		memset(p, 0, len);
	return p;
}

/* 64-bit code, data and system segments in the VMCB's compressed format. */
#define ATTR_CODE64 0x029b /* P, DPL0, S, type code/read/accessed, L */
#define ATTR_DATA 0x0093   /* P, DPL0, S, type data/write/accessed */

void sim_svm_l1_state(struct nest_vmcb *v)
{
	struct nest_vmcb_save *s = &v->save;

	memset(s, 0, sizeof(*s));
	s->cs.selector = 0x8;
	s->cs.attrib = ATTR_CODE64;
	s->cs.limit = 0xffffffff;
	s->ss.selector = 0x10;
	s->ss.attrib = ATTR_DATA;
	s->ss.limit = 0xffffffff;
	s->ds = s->ss;
	s->es = s->ss;
	s->gdtr.base = 0x1000;
	s->gdtr.limit = 0x7f;
	s->idtr.base = 0x2000;
	s->idtr.limit = 0xfff;
	s->efer = (1ull << 0) | (1ull << 8) | (1ull << 10) | (1ull << 11) | (1ull << 12);
	s->cr0 = 0x80050033ull; /* PG, AM, WP, NE, ET, MP, PE */
	s->cr3 = 0x3000;
	s->cr4 = 0x6a0; /* PAE, PGE, OSFXSR, OSXMMEXCPT */
	s->dr6 = 0xffff0ff0;
	s->dr7 = 0x400;
	s->rflags = 0x202;
	s->rip = L1_RIP;
	s->rsp = 0x9000;
	s->g_pat = 0x0007040600070406ull;
	v->control.asid = 1;
	v->control.np_ctl = NEST_SVM_NP_ENABLE;
	v->control.n_cr3 = SIM_SVM_NPT01_NCR3;
}

void sim_svm_valid_vmcb12(struct nest_vmcb *v)
{
	memset(v, 0, sizeof(*v));
	sim_svm_l1_state(v);
	v->save.rip = L2_RIP;
	v->save.rsp = 0x7000;
	v->save.cr3 = 0x5000;
	v->save.rax = 0x1234;
	v->control.np_ctl = 0;
	v->control.n_cr3 = 0;
	v->control.asid = 1;
	v->control.intercept_misc2 = 1u << (NEST_SVM_ICPT_VMRUN % 32);
	v->control.msrpm_base_pa = SIM_SVM_MSRPM12;
	v->control.iopm_base_pa = SIM_SVM_IOPM12;
}

int sim_svm_init(struct sim_svm *t, uint32_t features, uint32_t flags, int with_tdp,
		 const uint32_t *l0_icpt)
{
	struct nest_svm_config *c = &t->cfg;
	uint64_t hw;
	int rc;

	memset(t, 0, sizeof(*t));
	if (sim_init(&t->sim, SIM_SVM_L1_MEM, 256) != 0)
		return -1;
	t->vmcb01 = page_zalloc(sizeof(struct nest_vmcb));
	t->vmcb02 = page_zalloc(sizeof(struct nest_vmcb));
	t->msrpm02 = page_zalloc(NEST_SVM_MSRPM_SIZE);
	t->iopm02 = page_zalloc(NEST_SVM_IOPM_SIZE);
	t->l0_msrpm = page_zalloc(NEST_SVM_MSRPM_SIZE);
	t->l0_iopm = page_zalloc(NEST_SVM_IOPM_SIZE);
	t->ctx_mem = page_zalloc(nest_svm_size());
	if (!t->vmcb01 || !t->vmcb02 || !t->msrpm02 || !t->iopm02 || !t->l0_msrpm || !t->l0_iopm ||
	    !t->ctx_mem)
		return -1;
	if (with_tdp) {
		struct nest_tdp_config tc;
		size_t sz;

		memset(&tc, 0, sizeof(tc));
		tc.size = sizeof(tc);
		tc.max_pages = 64;
		tc.max_roots = 4;
		tc.maxphyaddr = SIM_SVM_MAXPHYADDR;
		tc.max_page_shift = 30;
		sz = nest_tdp_size(&tc);
		t->tdp_mem = page_zalloc(sz);
		if (!t->tdp_mem ||
		    nest_tdp_init(t->tdp_mem, sz, sim_backend(&t->sim), &tc, &t->tdp) != NEST_OK)
			return -1;
	}

	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->flags = flags;
	c->host_cpuid[0] = 1;
	c->host_cpuid[1] = 64;
	c->host_cpuid[3] = SIM_SVM_HOST_FEATURES;
	c->features = features;
	c->l1_maxphyaddr = SIM_SVM_MAXPHYADDR;
	c->l2_asid = SIM_SVM_L2_ASID;
	c->l1_efer_allowed = (1ull << 0) | (1ull << 11) | (1ull << 14);
	c->l1_cr4_allowed = 0x3f07ffull; /* VME..OSXMMEXCPT, FSGSBASE..SMAP */
	c->npt01_ncr3 = SIM_SVM_NPT01_NCR3;
	if (l0_icpt)
		memcpy(c->l0_intercepts, l0_icpt, sizeof(c->l0_intercepts));
	c->l0_msrpm = t->l0_msrpm;
	c->l0_iopm = t->l0_iopm;
	c->vmcb02.hva = t->vmcb02;
	c->vmcb02.hpa = SIM_SVM_HPA_VMCB02;
	c->msrpm02.hva = t->msrpm02;
	c->msrpm02.hpa = SIM_SVM_HPA_MSRPM02;
	c->iopm02.hva = t->iopm02;
	c->iopm02.hpa = SIM_SVM_HPA_IOPM02;
	c->tdp = t->tdp;
	rc = nest_svm_init(t->ctx_mem, nest_svm_size(), sim_backend(&t->sim), c, &t->ctx);
	if (rc != NEST_OK)
		return -1;

	sim_svm_l1_state(t->vmcb01);
	t->regs.size = sizeof(t->regs);
	t->act.size = sizeof(t->act);
	if (flags & NEST_SVM_CFG_SVM_ALLOWED) {
		hw = t->vmcb01->save.efer;
		rc = nest_svm_wrmsr(t->ctx, SIM_MSR_EFER, hw, &hw, &t->act);
		if (rc != NEST_OK || t->act.kind != NEST_SVM_ACT_RESUME_L1)
			return -1;
		t->vmcb01->save.efer = hw;
	}
	sim_reset_counters(&t->sim);
	return 0;
}

void sim_svm_fini(struct sim_svm *t)
{
	if (t->tdp)
		nest_tdp_fini(t->tdp);
	free(t->tdp_mem);
	free(t->vmcb01);
	free(t->vmcb02);
	free(t->msrpm02);
	free(t->iopm02);
	free(t->l0_msrpm);
	free(t->l0_iopm);
	free(t->ctx_mem);
	sim_fini(&t->sim);
}

int sim_svm_l1(struct sim_svm *t, uint64_t exitcode, uint64_t exitinfo1)
{
	t->vmcb01->control.exitcode = exitcode;
	t->vmcb01->control.exitinfo1 = exitinfo1;
	t->vmcb01->control.next_rip = t->vmcb01->save.rip + 3;
	t->regs.insn_len = 0;
	return nest_svm_l1_exit(t->ctx, t->vmcb01, &t->regs, &t->act);
}

int sim_svm_vmrun(struct sim_svm *t, const struct nest_vmcb *vmcb12)
{
	memcpy(sim_ptr(&t->sim, SIM_SVM_VMCB12, sizeof(*vmcb12)), vmcb12, sizeof(*vmcb12));
	t->vmcb01->save.rax = SIM_SVM_VMCB12;
	return sim_svm_l1(t, NEST_SVM_EXIT_VMRUN, 0);
}

int sim_svm_l2(struct sim_svm *t, uint64_t exitcode, uint64_t exitinfo1, uint64_t exitinfo2)
{
	t->vmcb02->control.exitcode = exitcode;
	t->vmcb02->control.exitinfo1 = exitinfo1;
	t->vmcb02->control.exitinfo2 = exitinfo2;
	return nest_svm_l2_exit(t->ctx, t->vmcb01, &t->regs, &t->act);
}

void sim_svm_read_vmcb12(struct sim_svm *t, struct nest_vmcb *out)
{
	memcpy(out, sim_ptr(&t->sim, SIM_SVM_VMCB12, sizeof(*out)), sizeof(*out));
}
