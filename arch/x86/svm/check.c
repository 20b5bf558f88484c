/* SPDX-License-Identifier: MIT */
/*
 * VMRUN's consistency checks (APM 15.5.1 "Canonicalization and Consistency
 * Checks", 15.20 event injection, 15.25 nested paging), in the order the
 * APM lists them. Pure functions of a VMCB copy in L0 memory.
 */
#include "svm/svm_internal.h"

static const char *const check_names[] = {"ok",
#define NAME_(name, id, text, ref) id,
					  NEST_SVM_CHECK_LIST(NAME_)
#undef NAME_
};

static const char *const check_texts[] = {"every consistency check passed",
#define TEXT_(name, id, text, ref) text " (" ref ")",
					  NEST_SVM_CHECK_LIST(TEXT_)
#undef TEXT_
};

NEST_API const char *nest_svm_check_name(uint32_t rule)
{
	return rule < NEST_ARRAY_SIZE(check_names) ? check_names[rule] : "unknown";
}

NEST_API const char *nest_svm_check_text(uint32_t rule)
{
	return rule < NEST_ARRAY_SIZE(check_texts) ? check_texts[rule] : "unknown";
}

/* CS attributes in the VMCB's compressed format: bits 11:8 hold AVL, L, D/B, G. */
#define VMCB_ATTR_L (X86_SEG_L >> 4)
#define VMCB_ATTR_DB (X86_SEG_DB >> 4)

/* Does [base, base + size) reach MAXPHYADDR? Bits 11:0 of the base are ignored. */
static bool map_out_of_range(uint64_t base_pa, uint64_t size, unsigned maxphyaddr)
{
	uint64_t base = base_pa & ~SVM_PAGE_MASK;
	uint64_t limit = maxphyaddr >= 64 ? UINT64_MAX : (1ull << maxphyaddr) - 1;

	return limit < size - 1 || base > limit - (size - 1);
}

#define FAIL(rule_, field, val)                                                                    \
	do {                                                                                       \
		diag->rule = NEST_SVM_CHECK_##rule_;                                               \
		diag->offset = NEST_VMCB_OFF_##field;                                              \
		diag->value = (val);                                                               \
		return diag->rule;                                                                 \
	} while (0)

uint32_t nest__svm_check(const struct nest_vmcb *vmcb, const struct nest_svm_caps *caps,
			 struct nest_svm_diag *diag)
{
	const struct nest_vmcb_save *s = &vmcb->save;
	const struct nest_vmcb_control *c = &vmcb->control;
	bool lme_pg = (s->efer & X86_EFER_LME) && (s->cr0 & X86_CR0_PG);
	uint64_t efer_mbz = ~caps->efer_allowed & ~(X86_EFER_LME | X86_EFER_LMA);

	diag->rule = NEST_SVM_CHECK_OK;
	diag->offset = 0;
	diag->value = 0;

	if (!(s->efer & X86_EFER_SVME))
		FAIL(EFER_SVME, EFER, s->efer);
	if (!(s->cr0 & X86_CR0_CD) && (s->cr0 & X86_CR0_NW))
		FAIL(CR0_CD_NW, CR0, s->cr0);
	if (s->cr0 >> 32)
		FAIL(CR0_HIGH, CR0, s->cr0);
	/* CR3's MBZ bits are those above MAXPHYADDR in long mode (APM 3.1.2);
	 * the legacy forms ignore no bit the VMCB can express (see
	 * docs/conformance-svm.md). */
	if (lme_pg && (s->cr3 & x86_pa_reserved_mask(caps->maxphyaddr)))
		FAIL(CR3_MBZ, CR3, s->cr3);
	if (s->cr4 & ~caps->cr4_allowed)
		FAIL(CR4_MBZ, CR4, s->cr4);
	if (s->dr6 >> 32)
		FAIL(DR6_HIGH, DR6, s->dr6);
	if (s->dr7 >> 32)
		FAIL(DR7_HIGH, DR7, s->dr7);
	if (s->efer & efer_mbz)
		FAIL(EFER_MBZ, EFER, s->efer);
	if ((s->efer & (X86_EFER_LMA | X86_EFER_LME)) && !caps->long_mode)
		FAIL(EFER_LM_UNSUPPORTED, EFER, s->efer);
	if (lme_pg && !(s->cr4 & X86_CR4_PAE))
		FAIL(LME_PG_NO_PAE, CR4, s->cr4);
	if (lme_pg && !(s->cr0 & X86_CR0_PE))
		FAIL(LME_PG_NO_PE, CR0, s->cr0);
	if (lme_pg && (s->cr4 & X86_CR4_PAE) && (s->cs.attrib & VMCB_ATTR_L) &&
	    (s->cs.attrib & VMCB_ATTR_DB))
		FAIL(LME_PG_PAE_CS_L_D, CS_ATTRIB, s->cs.attrib);
	if (!svm_icpt_test(c, NEST_SVM_ICPT_VMRUN))
		FAIL(VMRUN_INTERCEPT, INTERCEPT_MISC2, c->intercept_misc2);
	if (map_out_of_range(c->msrpm_base_pa, NEST_SVM_MSRPM_SIZE, caps->maxphyaddr))
		FAIL(MSRPM_RANGE, MSRPM_BASE_PA, c->msrpm_base_pa);
	if (map_out_of_range(c->iopm_base_pa, NEST_SVM_IOPM_SIZE, caps->maxphyaddr))
		FAIL(IOPM_RANGE, IOPM_BASE_PA, c->iopm_base_pa);
	if (c->event_inj & NEST_SVM_EVTINJ_VALID) {
		unsigned type = (unsigned)((c->event_inj & NEST_SVM_EVTINJ_TYPE_MASK) >>
					   NEST_SVM_EVTINJ_TYPE_SHIFT);
		unsigned vector = (unsigned)(c->event_inj & NEST_SVM_EVTINJ_VECTOR_MASK);

		if (type != NEST_SVM_EVTINJ_TYPE_INTR && type != NEST_SVM_EVTINJ_TYPE_NMI &&
		    type != NEST_SVM_EVTINJ_TYPE_EXCEPTION && type != NEST_SVM_EVTINJ_TYPE_SOFT)
			FAIL(EVENTINJ_TYPE, EVENTINJ, c->event_inj);
		if (type == NEST_SVM_EVTINJ_TYPE_EXCEPTION &&
		    (vector == X86_EXC_NMI || vector > 31))
			FAIL(EVENTINJ_VECTOR, EVENTINJ, c->event_inj);
		if (c->event_inj & NEST_SVM_EVTINJ_RESERVED_MASK)
			FAIL(EVENTINJ_RESERVED, EVENTINJ, c->event_inj);
	}
	if (c->asid == 0)
		FAIL(ASID_ZERO, GUEST_ASID, c->asid);
	if ((c->np_ctl & NEST_SVM_NP_ENABLE) && !(caps->features & NEST_SVM_F_NP))
		FAIL(NP_UNSUPPORTED, NP_CTL, c->np_ctl);
	if (c->np_ctl & (NEST_SVM_NP_SEV | NEST_SVM_NP_SEV_ES))
		FAIL(SEV_UNSUPPORTED, NP_CTL, c->np_ctl);
	if (c->np_ctl & NEST_SVM_NP_ENABLE) {
		if (c->n_cr3 & x86_pa_reserved_mask(caps->maxphyaddr))
			FAIL(NCR3_MBZ, N_CR3, c->n_cr3);
		if (!nest__x86_pat_valid(s->g_pat))
			FAIL(GPAT_INVALID, G_PAT, s->g_pat);
	}
	return NEST_SVM_CHECK_OK;
}

NEST_API int nest_svm_check_vmcb(const struct nest_vmcb *vmcb, const struct nest_svm_caps *caps,
				 struct nest_svm_diag *diag)
{
	struct nest_svm_caps k;

	if (!vmcb || !caps || !diag)
		return NEST_E_INVAL;
	if (caps->size < NEST_SVM_CAPS_MIN_SIZE)
		return NEST_E_SIZE;
	nest__memcpy(&k, caps, sizeof(k));
	if (k.maxphyaddr < 32 || k.maxphyaddr > 52)
		return NEST_E_INVAL;
	nest__svm_check(vmcb, &k, diag);
	return NEST_OK;
}
