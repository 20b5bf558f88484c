/* SPDX-License-Identifier: MIT */
/* VMRUN consistency checks (APM 15.5.1, 15.20, 15.25): one failing vmcb12
 * per rule, through the pure checker and through an emulated VMRUN. */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include <nest/svm.h>

#include "cpu/x86.h"
#include "sim_svm.h"

static struct nest_svm_caps caps_all(void)
{
	struct nest_svm_caps c;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.features = NEST_SVM_F_SUPPORTED;
	c.maxphyaddr = 48;
	c.long_mode = 1;
	c.efer_allowed = X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE | X86_EFER_SVME;
	c.cr4_allowed = 0x3f07ff;
	return c;
}

typedef void (*mutator)(struct nest_vmcb *v);

static void m_efer_svme(struct nest_vmcb *v)
{
	v->save.efer &= ~X86_EFER_SVME;
}
static void m_cr0_cd_nw(struct nest_vmcb *v)
{
	v->save.cr0 |= X86_CR0_NW;
}
static void m_cr0_high(struct nest_vmcb *v)
{
	v->save.cr0 |= 1ull << 32;
}
static void m_cr3_mbz(struct nest_vmcb *v)
{
	v->save.cr3 |= 1ull << 50;
}
static void m_cr4_mbz(struct nest_vmcb *v)
{
	v->save.cr4 |= 1ull << 15;
}
static void m_dr6_high(struct nest_vmcb *v)
{
	v->save.dr6 |= 1ull << 40;
}
static void m_dr7_high(struct nest_vmcb *v)
{
	v->save.dr7 |= 1ull << 63;
}
static void m_efer_mbz(struct nest_vmcb *v)
{
	v->save.efer |= 1ull << 30;
}
static void m_efer_lm(struct nest_vmcb *v)
{
	(void)v; /* caps without long mode, below */
}
static void m_lme_pg_no_pae(struct nest_vmcb *v)
{
	v->save.cr4 &= ~X86_CR4_PAE;
}
static void m_lme_pg_no_pe(struct nest_vmcb *v)
{
	v->save.cr0 &= ~X86_CR0_PE;
}
static void m_cs_l_d(struct nest_vmcb *v)
{
	v->save.cs.attrib |= X86_SEG_DB >> 4;
}
static void m_vmrun_icpt(struct nest_vmcb *v)
{
	v->control.intercept_misc2 &= ~1u;
}
static void m_msrpm(struct nest_vmcb *v)
{
	v->control.msrpm_base_pa = (1ull << 48) - 0x1000;
}
static void m_iopm(struct nest_vmcb *v)
{
	v->control.iopm_base_pa = (1ull << 48) - 0x2000;
}
static void m_evt_type(struct nest_vmcb *v)
{
	v->control.event_inj = NEST_SVM_EVTINJ_VALID | (1ull << NEST_SVM_EVTINJ_TYPE_SHIFT) | 32;
}
static void m_evt_vector(struct nest_vmcb *v)
{
	v->control.event_inj =
	    NEST_SVM_EVTINJ_VALID |
	    ((uint64_t)NEST_SVM_EVTINJ_TYPE_EXCEPTION << NEST_SVM_EVTINJ_TYPE_SHIFT) | X86_EXC_NMI;
}
static void m_evt_reserved(struct nest_vmcb *v)
{
	v->control.event_inj = NEST_SVM_EVTINJ_VALID | (1ull << 20) | 0x20;
}
static void m_asid(struct nest_vmcb *v)
{
	v->control.asid = 0;
}
static void m_np(struct nest_vmcb *v)
{
	v->control.np_ctl = NEST_SVM_NP_ENABLE;
}
static void m_sev(struct nest_vmcb *v)
{
	v->control.np_ctl = NEST_SVM_NP_SEV;
}
static void m_ncr3(struct nest_vmcb *v)
{
	v->control.np_ctl = NEST_SVM_NP_ENABLE;
	v->control.n_cr3 = 1ull << 51;
}
static void m_gpat(struct nest_vmcb *v)
{
	v->control.np_ctl = NEST_SVM_NP_ENABLE;
	v->control.n_cr3 = 0x100000;
	v->save.g_pat = 0x0007040600070402ull; /* type 2 is reserved */
}

/* One failing mutation per rule, indexed by rule. */
static const mutator rule_mutators[NEST_SVM_CHECK_COUNT_] = {
    [NEST_SVM_CHECK_EFER_SVME] = m_efer_svme,
    [NEST_SVM_CHECK_CR0_CD_NW] = m_cr0_cd_nw,
    [NEST_SVM_CHECK_CR0_HIGH] = m_cr0_high,
    [NEST_SVM_CHECK_CR3_MBZ] = m_cr3_mbz,
    [NEST_SVM_CHECK_CR4_MBZ] = m_cr4_mbz,
    [NEST_SVM_CHECK_DR6_HIGH] = m_dr6_high,
    [NEST_SVM_CHECK_DR7_HIGH] = m_dr7_high,
    [NEST_SVM_CHECK_EFER_MBZ] = m_efer_mbz,
    [NEST_SVM_CHECK_EFER_LM_UNSUPPORTED] = m_efer_lm,
    [NEST_SVM_CHECK_LME_PG_NO_PAE] = m_lme_pg_no_pae,
    [NEST_SVM_CHECK_LME_PG_NO_PE] = m_lme_pg_no_pe,
    [NEST_SVM_CHECK_LME_PG_PAE_CS_L_D] = m_cs_l_d,
    [NEST_SVM_CHECK_VMRUN_INTERCEPT] = m_vmrun_icpt,
    [NEST_SVM_CHECK_MSRPM_RANGE] = m_msrpm,
    [NEST_SVM_CHECK_IOPM_RANGE] = m_iopm,
    [NEST_SVM_CHECK_EVENTINJ_TYPE] = m_evt_type,
    [NEST_SVM_CHECK_EVENTINJ_VECTOR] = m_evt_vector,
    [NEST_SVM_CHECK_EVENTINJ_RESERVED] = m_evt_reserved,
    [NEST_SVM_CHECK_ASID_ZERO] = m_asid,
    [NEST_SVM_CHECK_NP_UNSUPPORTED] = m_np,
    [NEST_SVM_CHECK_SEV_UNSUPPORTED] = m_sev,
    [NEST_SVM_CHECK_NCR3_MBZ] = m_ncr3,
    [NEST_SVM_CHECK_GPAT_INVALID] = m_gpat,
};

static void expect_rule(uint32_t rule)
{
	struct nest_vmcb *v = aligned_alloc(4096, sizeof(*v));
	struct nest_svm_caps caps = caps_all();
	struct nest_svm_diag d;

	ck_assert_ptr_nonnull(v);
	sim_svm_valid_vmcb12(v);
	ck_assert_int_eq(nest_svm_check_vmcb(v, &caps, &d), NEST_OK);
	ck_assert_uint_eq(d.rule, NEST_SVM_CHECK_OK);
	ck_assert_ptr_nonnull(rule_mutators[rule]);
	rule_mutators[rule](v);
	if (rule == NEST_SVM_CHECK_EFER_LM_UNSUPPORTED)
		caps.long_mode = 0;
	if (rule == NEST_SVM_CHECK_NP_UNSUPPORTED)
		caps.features &= ~NEST_SVM_F_NP;
	ck_assert_int_eq(nest_svm_check_vmcb(v, &caps, &d), NEST_OK);
	ck_assert_msg(d.rule == rule, "expected %s, got %s", nest_svm_check_name(rule),
		      nest_svm_check_name(d.rule));
	free(v);
}

#define RULE_TEST(fn, rule)                                                                        \
	START_TEST(fn)                                                                             \
	{                                                                                          \
		expect_rule(NEST_SVM_CHECK_##rule);                                                \
	}                                                                                          \
	END_TEST

RULE_TEST(efer_svme_clear_is_invalid, EFER_SVME)
RULE_TEST(cr0_nw_without_cd_is_invalid, CR0_CD_NW)
RULE_TEST(cr0_high_bits_are_invalid, CR0_HIGH)
RULE_TEST(cr3_bits_beyond_maxphyaddr_are_invalid_in_long_mode, CR3_MBZ)
RULE_TEST(cr4_reserved_bit_is_invalid, CR4_MBZ)
RULE_TEST(dr6_high_bits_are_invalid, DR6_HIGH)
RULE_TEST(dr7_high_bits_are_invalid, DR7_HIGH)
RULE_TEST(efer_reserved_bit_is_invalid, EFER_MBZ)
RULE_TEST(efer_lme_without_long_mode_is_invalid, EFER_LM_UNSUPPORTED)
RULE_TEST(lme_pg_without_pae_is_invalid, LME_PG_NO_PAE)
RULE_TEST(lme_pg_without_pe_is_invalid, LME_PG_NO_PE)
RULE_TEST(cs_l_and_d_together_are_invalid, LME_PG_PAE_CS_L_D)
RULE_TEST(vmrun_intercept_clear_is_invalid, VMRUN_INTERCEPT)
RULE_TEST(msrpm_reaching_maxphyaddr_is_invalid, MSRPM_RANGE)
RULE_TEST(iopm_reaching_maxphyaddr_is_invalid, IOPM_RANGE)
RULE_TEST(eventinj_reserved_type_is_invalid, EVENTINJ_TYPE)
RULE_TEST(eventinj_exception_vector_2_is_invalid, EVENTINJ_VECTOR)
RULE_TEST(eventinj_reserved_bits_are_invalid, EVENTINJ_RESERVED)
RULE_TEST(asid_zero_is_invalid, ASID_ZERO)
RULE_TEST(np_without_support_is_invalid, NP_UNSUPPORTED)
RULE_TEST(sev_is_invalid, SEV_UNSUPPORTED)
RULE_TEST(ncr3_beyond_maxphyaddr_is_invalid, NCR3_MBZ)
RULE_TEST(gpat_reserved_type_is_invalid, GPAT_INVALID)

START_TEST(every_rule_has_a_failing_vmcb)
{
	uint32_t r;

	for (r = 1; r < NEST_SVM_CHECK_COUNT_; r++) {
		ck_assert_msg(rule_mutators[r] != NULL, "rule %s has no test",
			      nest_svm_check_name(r));
		expect_rule(r);
	}
}
END_TEST

START_TEST(rule_names_and_texts_are_distinct)
{
	uint32_t a, b;

	ck_assert_str_eq(nest_svm_check_name(NEST_SVM_CHECK_OK), "ok");
	ck_assert_str_eq(nest_svm_check_name(NEST_SVM_CHECK_COUNT_), "unknown");
	ck_assert_str_eq(nest_svm_check_text(9999), "unknown");
	for (a = 1; a < NEST_SVM_CHECK_COUNT_; a++) {
		ck_assert_ptr_nonnull(strstr(nest_svm_check_text(a), "APM"));
		for (b = a + 1; b < NEST_SVM_CHECK_COUNT_; b++)
			ck_assert_str_ne(nest_svm_check_name(a), nest_svm_check_name(b));
	}
}
END_TEST

START_TEST(diag_names_the_field)
{
	struct nest_vmcb *v = aligned_alloc(4096, sizeof(*v));
	struct nest_svm_caps caps = caps_all();
	struct nest_svm_diag d;

	sim_svm_valid_vmcb12(v);
	v->save.dr7 |= 1ull << 33;
	ck_assert_int_eq(nest_svm_check_vmcb(v, &caps, &d), NEST_OK);
	ck_assert_uint_eq(d.rule, NEST_SVM_CHECK_DR7_HIGH);
	ck_assert_uint_eq(d.offset, NEST_VMCB_OFF_DR7);
	ck_assert_uint_eq(d.value, v->save.dr7);
	free(v);
}
END_TEST

START_TEST(boundary_maps_below_maxphyaddr_are_valid)
{
	struct nest_vmcb *v = aligned_alloc(4096, sizeof(*v));
	struct nest_svm_caps caps = caps_all();
	struct nest_svm_diag d;

	sim_svm_valid_vmcb12(v);
	/* The last 8 KiB / 12 KiB below 2^48, with ignored low bits set. */
	v->control.msrpm_base_pa = (1ull << 48) - 0x2000 + 0xfff;
	v->control.iopm_base_pa = (1ull << 48) - 0x3000 + 0x123;
	ck_assert_int_eq(nest_svm_check_vmcb(v, &caps, &d), NEST_OK);
	ck_assert_uint_eq(d.rule, NEST_SVM_CHECK_OK);
	v->control.msrpm_base_pa = UINT64_MAX;
	ck_assert_int_eq(nest_svm_check_vmcb(v, &caps, &d), NEST_OK);
	ck_assert_uint_eq(d.rule, NEST_SVM_CHECK_MSRPM_RANGE);
	free(v);
}
END_TEST

START_TEST(cd_and_nw_together_are_valid)
{
	struct nest_vmcb *v = aligned_alloc(4096, sizeof(*v));
	struct nest_svm_caps caps = caps_all();
	struct nest_svm_diag d;

	sim_svm_valid_vmcb12(v);
	v->save.cr0 |= X86_CR0_CD | X86_CR0_NW;
	ck_assert_int_eq(nest_svm_check_vmcb(v, &caps, &d), NEST_OK);
	ck_assert_uint_eq(d.rule, NEST_SVM_CHECK_OK);
	free(v);
}
END_TEST

START_TEST(check_rejects_bad_arguments)
{
	struct nest_vmcb *v = aligned_alloc(4096, sizeof(*v));
	struct nest_svm_caps caps = caps_all();
	struct nest_svm_diag d;

	sim_svm_valid_vmcb12(v);
	ck_assert_int_eq(nest_svm_check_vmcb(NULL, &caps, &d), NEST_E_INVAL);
	ck_assert_int_eq(nest_svm_check_vmcb(v, NULL, &d), NEST_E_INVAL);
	ck_assert_int_eq(nest_svm_check_vmcb(v, &caps, NULL), NEST_E_INVAL);
	caps.size = 4;
	ck_assert_int_eq(nest_svm_check_vmcb(v, &caps, &d), NEST_E_SIZE);
	caps = caps_all();
	caps.maxphyaddr = 60;
	ck_assert_int_eq(nest_svm_check_vmcb(v, &caps, &d), NEST_E_INVAL);
	free(v);
}
END_TEST

/* Through VMRUN: EXITCODE -1 in vmcb12, L1 resumes after VMRUN with GIF clear. */
START_TEST(failed_vmrun_writes_vmexit_invalid)
{
	struct sim_svm t;
	struct nest_vmcb v12, out;
	struct nest_svm_state st;
	uint64_t rip;

	ck_assert_int_eq(sim_svm_init(&t, NEST_SVM_F_SUPPORTED,
				      NEST_SVM_CFG_SVM_ALLOWED | NEST_SVM_CFG_LONG_MODE, 0, NULL),
			 0);
	sim_svm_valid_vmcb12(&v12);
	v12.control.asid = 0;
	v12.control.exitinfo1 = 0x55;
	rip = t.vmcb01->save.rip;
	ck_assert_int_eq(sim_svm_vmrun(&t, &v12), NEST_OK);
	ck_assert_uint_eq(t.act.kind, NEST_SVM_ACT_RESUME_L1);
	ck_assert(t.act.flags & NEST_SVM_ACT_F_INVALID);
	ck_assert_uint_eq(t.act.check, NEST_SVM_CHECK_ASID_ZERO);
	ck_assert_uint_eq(t.vmcb01->save.rip, rip + 3);
	sim_svm_read_vmcb12(&t, &out);
	ck_assert_uint_eq(out.control.exitcode, NEST_SVM_EXIT_INVALID);
	ck_assert_uint_eq(out.control.exitinfo1, 0);
	ck_assert_uint_eq(out.control.exitinfo2, 0);
	/* Nothing else of vmcb12 changed. */
	ck_assert_int_eq(memcmp(&out.save, &v12.save, sizeof(out.save)), 0);
	ck_assert_uint_eq(out.control.asid, 0);
	st.size = sizeof(st);
	ck_assert_int_eq(nest_svm_get_state(t.ctx, t.vmcb01, &st), NEST_OK);
	ck_assert_uint_eq(st.gif, 0);
	ck_assert_uint_eq(st.guest_mode, 0);
	ck_assert_uint_eq(st.vmruns, 0);
	sim_svm_fini(&t);
}
END_TEST

START_TEST(np_rule_follows_the_policy)
{
	struct sim_svm t;
	struct nest_vmcb v12;

	/* NP allowed by the host but not by the policy: NP_ENABLE is invalid. */
	ck_assert_int_eq(sim_svm_init(&t, NEST_SVM_F_SUPPORTED & ~NEST_SVM_F_NP,
				      NEST_SVM_CFG_SVM_ALLOWED | NEST_SVM_CFG_LONG_MODE, 1, NULL),
			 0);
	sim_svm_valid_vmcb12(&v12);
	v12.control.np_ctl = NEST_SVM_NP_ENABLE;
	v12.control.n_cr3 = SIM_SVM_NPT12;
	ck_assert_int_eq(sim_svm_vmrun(&t, &v12), NEST_OK);
	ck_assert_uint_eq(t.act.check, NEST_SVM_CHECK_NP_UNSUPPORTED);
	sim_svm_fini(&t);
}
END_TEST

static Suite *svm_checks_suite(void)
{
	Suite *su = suite_create("svm_checks");
	TCase *tc = tcase_create("rules");

	tcase_add_test(tc, efer_svme_clear_is_invalid);
	tcase_add_test(tc, cr0_nw_without_cd_is_invalid);
	tcase_add_test(tc, cr0_high_bits_are_invalid);
	tcase_add_test(tc, cr3_bits_beyond_maxphyaddr_are_invalid_in_long_mode);
	tcase_add_test(tc, cr4_reserved_bit_is_invalid);
	tcase_add_test(tc, dr6_high_bits_are_invalid);
	tcase_add_test(tc, dr7_high_bits_are_invalid);
	tcase_add_test(tc, efer_reserved_bit_is_invalid);
	tcase_add_test(tc, efer_lme_without_long_mode_is_invalid);
	tcase_add_test(tc, lme_pg_without_pae_is_invalid);
	tcase_add_test(tc, lme_pg_without_pe_is_invalid);
	tcase_add_test(tc, cs_l_and_d_together_are_invalid);
	tcase_add_test(tc, vmrun_intercept_clear_is_invalid);
	tcase_add_test(tc, msrpm_reaching_maxphyaddr_is_invalid);
	tcase_add_test(tc, iopm_reaching_maxphyaddr_is_invalid);
	tcase_add_test(tc, eventinj_reserved_type_is_invalid);
	tcase_add_test(tc, eventinj_exception_vector_2_is_invalid);
	tcase_add_test(tc, eventinj_reserved_bits_are_invalid);
	tcase_add_test(tc, asid_zero_is_invalid);
	tcase_add_test(tc, np_without_support_is_invalid);
	tcase_add_test(tc, sev_is_invalid);
	tcase_add_test(tc, ncr3_beyond_maxphyaddr_is_invalid);
	tcase_add_test(tc, gpat_reserved_type_is_invalid);
	tcase_add_test(tc, every_rule_has_a_failing_vmcb);
	tcase_add_test(tc, rule_names_and_texts_are_distinct);
	tcase_add_test(tc, diag_names_the_field);
	tcase_add_test(tc, boundary_maps_below_maxphyaddr_are_valid);
	tcase_add_test(tc, cd_and_nw_together_are_valid);
	tcase_add_test(tc, check_rejects_bad_arguments);
	tcase_add_test(tc, failed_vmrun_writes_vmexit_invalid);
	tcase_add_test(tc, np_rule_follows_the_policy);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return nest_test_run(svm_checks_suite());
}
