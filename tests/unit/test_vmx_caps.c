/* SPDX-License-Identifier: MIT */
/*
 * The VMX capability MSRs L1 sees (SDM Vol. 3D appendix A) and L1's
 * RDMSR/WRMSR of them and of IA32_FEATURE_CONTROL (SDM 24.7).
 */
#include "vmx_fixture.h"

static struct nest_vmx_caps offered(void)
{
	struct nest_vmx_caps c;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	ck_assert_int_eq(nest_vmx_offered_caps(N.ctx, &c), NEST_OK);
	return c;
}

static uint32_t may1(uint64_t msr)
{
	return (uint32_t)(msr >> 32);
}

static uint32_t must1(uint64_t msr)
{
	return (uint32_t)msr;
}

static int rdmsr(uint32_t msr, uint64_t *v)
{
	memset(&N.act, 0xcc, sizeof(N.act));
	N.act.size = sizeof(N.act);
	return nest_vmx_rdmsr(N.ctx, msr, v, &N.act);
}

static int wrmsr(uint32_t msr, uint64_t v)
{
	memset(&N.act, 0xcc, sizeof(N.act));
	N.act.size = sizeof(N.act);
	return nest_vmx_wrmsr(N.ctx, msr, v, &N.act);
}

#define assert_msr_ok()                                                                            \
	do {                                                                                       \
		ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);                             \
		ck_assert_uint_eq(N.act.flags, 0);                                                 \
	} while (0)

START_TEST(basic_carries_libnest_revision_4k_size_and_write_back)
{
	struct nest_vmx_caps c = offered();

	ck_assert_uint_eq(c.basic & 0x7fffffffull, NEST_VMCS12_REVISION);
	ck_assert_uint_eq((c.basic >> 32) & 0x1fff, 4096);
	ck_assert_uint_eq((c.basic >> 50) & 0xf, 6);
	ck_assert_uint_eq(c.basic & (1ull << 48), 0); /* full physical-address width */
	ck_assert_uint_eq(c.basic & (1ull << 49), 0); /* no dual-monitor treatment */
	ck_assert_uint_ne(c.basic & (1ull << 55), 0); /* host has TRUE_* */
}
END_TEST

START_TEST(allowed0_settings_are_a_subset_of_allowed1_in_every_control_msr)
{
	struct nest_vmx_caps c = offered();
	const uint64_t *m[] = {&c.pinbased,	  &c.procbased,	 &c.exit,
			       &c.entry,	  &c.procbased2, &c.true_pinbased,
			       &c.true_procbased, &c.true_exit,	 &c.true_entry};
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		ck_assert_uint_eq(must1(*m[i]) & ~may1(*m[i]), 0);
}
END_TEST

START_TEST(true_msrs_require_no_more_than_the_plain_ones)
{
	struct nest_vmx_caps c = offered();

	ck_assert_uint_eq(must1(c.true_pinbased) & ~must1(c.pinbased), 0);
	ck_assert_uint_eq(must1(c.true_procbased) & ~must1(c.procbased), 0);
	ck_assert_uint_eq(must1(c.true_exit) & ~must1(c.exit), 0);
	ck_assert_uint_eq(must1(c.true_entry) & ~must1(c.entry), 0);
	/* CR3-load exiting may be 0 only through the TRUE MSR. */
	ck_assert_uint_eq(must1(c.true_procbased) & NEST_VMX_PROC_CR3_LOAD_EXITING, 0);
	ck_assert_uint_ne(must1(c.procbased) & NEST_VMX_PROC_CR3_LOAD_EXITING, 0);
}
END_TEST

START_TEST(controls_libnest_cannot_emulate_are_never_offered)
{
	struct nest_vmx_caps c = offered();

	ck_assert_uint_eq(may1(c.procbased2) &
			      (NEST_VMX_PROC2_ENCLS_EXITING | NEST_VMX_PROC2_ENABLE_ENCLV_EXITING |
			       NEST_VMX_PROC2_ENABLE_PCONFIG | NEST_VMX_PROC2_PASID_TRANSLATION |
			       NEST_VMX_PROC2_SUBPAGE_WRITE_PERM |
			       NEST_VMX_PROC2_CONCEAL_VMX_FROM_PT | NEST_VMX_PROC2_PT_USE_GPA |
			       NEST_VMX_PROC2_EPT_VIOLATION_VE),
			  0);
	ck_assert_uint_eq(may1(c.procbased) & NEST_VMX_PROC_ACTIVATE_TERTIARY, 0);
	ck_assert_uint_eq(may1(c.exit) & (NEST_VMX_EXIT_CTL_CONCEAL_VMX_FROM_PT |
					  NEST_VMX_EXIT_CTL_CLEAR_RTIT_CTL |
					  NEST_VMX_EXIT_CTL_ACTIVATE_SECONDARY),
			  0);
	ck_assert_uint_eq(may1(c.entry) & (NEST_VMX_ENTRY_CTL_ENTRY_TO_SMM |
					   NEST_VMX_ENTRY_CTL_DEACT_DUAL_MONITOR |
					   NEST_VMX_ENTRY_CTL_CONCEAL_VMX_FROM_PT |
					   NEST_VMX_ENTRY_CTL_LOAD_RTIT_CTL),
			  0);
	ck_assert_uint_eq(c.procbased3, 0);
	ck_assert_uint_eq(c.misc & (VMX_MISC_INTEL_PT | VMX_MISC_RDMSR_IN_SMM |
				    VMX_MISC_SMM_MONITOR_CTL_BIT2 | (0xffffffffull << 32)),
			  0);
}
END_TEST

START_TEST(features_the_host_has_and_policy_allows_are_offered)
{
	struct nest_vmx_caps c = offered();

	ck_assert_uint_ne(may1(c.procbased2) & NEST_VMX_PROC2_ENABLE_EPT, 0);
	ck_assert_uint_ne(may1(c.procbased2) & NEST_VMX_PROC2_ENABLE_VPID, 0);
	ck_assert_uint_ne(may1(c.procbased2) & NEST_VMX_PROC2_UNRESTRICTED_GUEST, 0);
	ck_assert_uint_ne(may1(c.pinbased) & NEST_VMX_PIN_PREEMPTION_TIMER, 0);
	ck_assert_uint_ne(may1(c.procbased2) &
			      (NEST_VMX_PROC2_VIRT_APIC_ACCESSES | NEST_VMX_PROC2_VIRT_X2APIC_MODE |
			       NEST_VMX_PROC2_APIC_REGISTER_VIRT |
			       NEST_VMX_PROC2_VIRT_INTR_DELIVERY),
			  0);
	ck_assert_uint_ne(c.ept_vpid & VMX_EPT_CAP_PWL4, 0);
	ck_assert_uint_ne(c.ept_vpid & VMX_VPID_CAP_INVVPID, 0);
	ck_assert_uint_ne(c.misc & VMX_MISC_VMWRITE_ANY_FIELD, 0);
	/* VM functions: EPTP switching only (vmfunc.c). */
	ck_assert_uint_ne(may1(c.procbased2) & NEST_VMX_PROC2_ENABLE_VMFUNC, 0);
	ck_assert_uint_eq(c.vmfunc, 1);
}
END_TEST

START_TEST(policy_without_ept_hides_ept_and_what_needs_it)
{
	struct nest_vmx_caps c;

	N.cfg.features = NEST_VMX_F_ALL & ~NEST_VMX_F_EPT;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	c = offered();
	ck_assert_uint_eq(may1(c.procbased2) &
			      (NEST_VMX_PROC2_ENABLE_EPT | NEST_VMX_PROC2_UNRESTRICTED_GUEST |
			       NEST_VMX_PROC2_ENABLE_PML | NEST_VMX_PROC2_ENABLE_VMFUNC),
			  0);
	ck_assert_uint_eq(c.ept_vpid & 0xffffffffull, 0);
	ck_assert_uint_ne(c.ept_vpid & VMX_VPID_CAP_INVVPID, 0);
	ck_assert_uint_eq(c.vmfunc, 0);
}
END_TEST

START_TEST(policy_without_preemption_timer_hides_its_controls_and_rate)
{
	struct nest_vmx_caps c;

	N.cfg.features = NEST_VMX_F_ALL & ~NEST_VMX_F_PREEMPTION_TIMER;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	c = offered();
	ck_assert_uint_eq(may1(c.pinbased) & NEST_VMX_PIN_PREEMPTION_TIMER, 0);
	ck_assert_uint_eq(may1(c.exit) & NEST_VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER, 0);
	ck_assert_uint_eq(c.misc & VMX_MISC_PREEMPTION_TIMER_RATE_MASK, 0);
}
END_TEST

START_TEST(host_without_a_feature_never_offers_it)
{
	struct nest_vmx_caps c;

	N.host.procbased2 &= ~((uint64_t)NEST_VMX_PROC2_ENABLE_VPID << 32);
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	c = offered();
	ck_assert_uint_eq(may1(c.procbased2) & NEST_VMX_PROC2_ENABLE_VPID, 0);
	ck_assert_uint_eq(c.ept_vpid >> 32, 0);
}
END_TEST

START_TEST(vmwrite_any_field_is_offered_by_policy_alone)
{
	struct nest_vmx_caps c;

	N.host.misc &= ~VMX_MISC_VMWRITE_ANY_FIELD;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	c = offered();
	ck_assert_uint_ne(c.misc & VMX_MISC_VMWRITE_ANY_FIELD, 0);
	N.cfg.features &= ~NEST_VMX_F_VMWRITE_ANY;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	c = offered();
	ck_assert_uint_eq(c.misc & VMX_MISC_VMWRITE_ANY_FIELD, 0);
}
END_TEST

/* The MSR lists: libnest keeps 512 entries per list, the least the SDM
 * allows (A.6: 512 * (N + 1)), so N is offered as 0 whatever the host says. */
START_TEST(msr_list_size_is_offered_as_512_entries)
{
	struct nest_vmx_caps c;

	N.host.misc |= 3ull << VMX_MISC_MAX_MSR_LIST_SHIFT;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	c = offered();
	ck_assert_uint_eq(c.misc & VMX_MISC_MAX_MSR_LIST_MASK, 0);
	ck_assert_uint_ne(c.misc & VMX_MISC_ACTIVITY_HLT, 0);
}
END_TEST

/* The activity states: HLT and wait-for-SIPI follow the host (L0 brings
 * SIPIs to L2 through nest_vmx_l2_event()); shutdown is never offered. */
START_TEST(activity_states_follow_the_host_except_shutdown)
{
	struct nest_vmx_caps c;

	N.host.misc |= VMX_MISC_ACTIVITY_HLT | VMX_MISC_ACTIVITY_SHUTDOWN | VMX_MISC_ACTIVITY_WAIT_SIPI;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	c = offered();
	ck_assert_uint_ne(c.misc & VMX_MISC_ACTIVITY_WAIT_SIPI, 0);
	ck_assert_uint_ne(c.misc & VMX_MISC_ACTIVITY_HLT, 0);
	ck_assert_uint_eq(c.misc & VMX_MISC_ACTIVITY_SHUTDOWN, 0);

	N.host.misc &= ~(VMX_MISC_ACTIVITY_HLT | VMX_MISC_ACTIVITY_WAIT_SIPI);
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	c = offered();
	ck_assert_uint_eq(c.misc & (VMX_MISC_ACTIVITY_WAIT_SIPI | VMX_MISC_ACTIVITY_HLT), 0);
}
END_TEST

/* Features vmcs02 cannot carry are never offered, whatever the host has
 * and the config asks (docs/conformance-vmx.md). VMCS shadowing is
 * offered, run by libnest (l2vmrw.c), whether the host has it or not. */
START_TEST(features_vmcs02_cannot_carry_are_never_offered)
{
	struct nest_vmx_caps c = offered();

	ck_assert_uint_eq(N.cfg.features, NEST_VMX_F_ALL);
	ck_assert_uint_eq(may1(c.procbased2) & NEST_VMX_PROC2_EPT_VIOLATION_VE, 0);
	ck_assert_uint_ne(may1(c.procbased2) & NEST_VMX_PROC2_VMCS_SHADOWING, 0);
	N.host.procbased2 &= ~((uint64_t)NEST_VMX_PROC2_VMCS_SHADOWING << 32);
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	c = offered();
	ck_assert_uint_ne(may1(c.procbased2) & NEST_VMX_PROC2_VMCS_SHADOWING, 0);
	N.cfg.features &= ~NEST_VMX_F_VMCS_SHADOWING;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	c = offered();
	ck_assert_uint_eq(may1(c.procbased2) & NEST_VMX_PROC2_VMCS_SHADOWING, 0);
	ck_assert_uint_eq(may1(c.procbased) & NEST_VMX_PROC_ACTIVATE_TERTIARY, 0);
	ck_assert_uint_eq(may1(c.true_procbased) & NEST_VMX_PROC_ACTIVATE_TERTIARY, 0);
	ck_assert_uint_eq(c.procbased3, 0);
}
END_TEST

/* Posted interrupts run in software (SDM 30.6, nest_vmx_l2_event()): offered
 * with the policy feature and APIC virtualization, whether or not the host
 * processes posted interrupts; never without APIC virtualization. */
START_TEST(posted_interrupts_are_offered_with_apicv_whatever_the_host)
{
	struct nest_vmx_caps c;

	N.host.pinbased &= ~((uint64_t)NEST_VMX_PIN_POSTED_INTR << 32);
	N.host.true_pinbased &= ~((uint64_t)NEST_VMX_PIN_POSTED_INTR << 32);
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	c = offered();
	ck_assert_uint_ne(may1(c.pinbased) & NEST_VMX_PIN_POSTED_INTR, 0);
	ck_assert_uint_ne(may1(c.true_pinbased) & NEST_VMX_PIN_POSTED_INTR, 0);
	ck_assert_uint_eq((uint32_t)c.pinbased & NEST_VMX_PIN_POSTED_INTR, 0); /* may be 0 */
	ck_assert_uint_ne(N.ctx->features & NEST_VMX_F_POSTED_INTR, 0);

	N.cfg.features = NEST_VMX_F_ALL & ~NEST_VMX_F_POSTED_INTR;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	ck_assert_uint_eq(may1(offered().pinbased) & NEST_VMX_PIN_POSTED_INTR, 0);

	/* No virtual-interrupt delivery on the host: no APIC virtualization,
	 * so no posted interrupts either. */
	N.cfg.features = NEST_VMX_F_ALL;
	N.host.procbased2 &= ~((uint64_t)NEST_VMX_PROC2_VIRT_INTR_DELIVERY << 32);
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	c = offered();
	ck_assert_uint_eq(may1(c.pinbased) & NEST_VMX_PIN_POSTED_INTR, 0);
	ck_assert_uint_eq(may1(c.true_pinbased) & NEST_VMX_PIN_POSTED_INTR, 0);
	ck_assert_uint_eq(N.ctx->features & (NEST_VMX_F_POSTED_INTR | NEST_VMX_F_APICV), 0);
}
END_TEST

/* PML runs in software (SDM 29.3.6 emulated by the EPT02 fault path):
 * offered with EPT, whether or not the host has it. */
START_TEST(pml_is_offered_with_ept_whatever_the_host)
{
	struct nest_vmx_caps c = offered();

	ck_assert_uint_ne(may1(c.procbased2) & NEST_VMX_PROC2_ENABLE_PML, 0);
	ck_assert_uint_eq((uint32_t)c.procbased2 & NEST_VMX_PROC2_ENABLE_PML, 0);
	N.host.procbased2 &= ~((uint64_t)NEST_VMX_PROC2_ENABLE_PML << 32);
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	c = offered();
	ck_assert_uint_ne(may1(c.procbased2) & NEST_VMX_PROC2_ENABLE_PML, 0);
	ck_assert_uint_ne(N.ctx->features & NEST_VMX_F_PML, 0);
}
END_TEST

START_TEST(pml_is_not_offered_by_a_policy_without_it)
{
	struct nest_vmx_caps c;

	N.cfg.features = NEST_VMX_F_ALL & ~NEST_VMX_F_PML;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	c = offered();
	ck_assert_uint_eq(may1(c.procbased2) & NEST_VMX_PROC2_ENABLE_PML, 0);
	ck_assert_uint_ne(may1(c.procbased2) & NEST_VMX_PROC2_ENABLE_EPT, 0);
}
END_TEST

START_TEST(host_without_true_ctls_yields_no_true_msrs)
{
	struct nest_vmx_caps c;
	uint64_t v;

	N.host.basic &= ~VMX_BASIC_TRUE_CTLS;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	c = offered();
	ck_assert_uint_eq(c.basic & VMX_BASIC_TRUE_CTLS, 0);
	ck_assert_uint_eq(c.true_pinbased | c.true_procbased | c.true_exit | c.true_entry, 0);
	ck_assert_int_eq(rdmsr(X86_MSR_IA32_VMX_TRUE_PROCBASED_CTLS, &v), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(host_without_secondary_controls_yields_no_procbased2)
{
	uint64_t v;

	N.host.procbased &= ~((uint64_t)NEST_VMX_PROC_ACTIVATE_SECONDARY << 32);
	N.host.true_procbased &= ~((uint64_t)NEST_VMX_PROC_ACTIVATE_SECONDARY << 32);
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	ck_assert_uint_eq(offered().procbased2, 0);
	ck_assert_int_eq(rdmsr(X86_MSR_IA32_VMX_PROCBASED_CTLS2, &v), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
	ck_assert_int_eq(rdmsr(X86_MSR_IA32_VMX_EPT_VPID_CAP, &v), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(vmcs_enum_reports_highest_field_index)
{
	ck_assert_uint_eq(offered().vmcs_enum, (uint64_t)nest__vmcs_max_index() << 1);
}
END_TEST

START_TEST(cr_fixed_bits_come_from_the_host)
{
	struct nest_vmx_caps c = offered();

	ck_assert_uint_eq(c.cr0_fixed0, N.host.cr0_fixed0);
	ck_assert_uint_eq(c.cr0_fixed1, N.host.cr0_fixed1);
	ck_assert_uint_eq(c.cr4_fixed0, N.host.cr4_fixed0);
	ck_assert_uint_eq(c.cr4_fixed1, N.host.cr4_fixed1);
	ck_assert_uint_eq(c.maxphyaddr, 46);
}
END_TEST

START_TEST(vmx_not_allowed_offers_nothing)
{
	struct nest_vmx_caps c;
	uint64_t v;

	N.cfg.vmx_allowed = 0;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	c = offered();
	ck_assert_uint_eq(c.basic | c.pinbased | c.procbased | c.procbased2 | c.misc, 0);
	ck_assert_int_eq(rdmsr(X86_MSR_IA32_VMX_BASIC, &v), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
	/* Firmware cannot have enabled VMXON: bit 2 is not writable. */
	ck_assert_int_eq(rdmsr(X86_MSR_IA32_FEATURE_CONTROL, &v), NEST_OK);
	ck_assert_uint_eq(v & X86_FEATURE_CONTROL_VMXON_OUTSIDE_SMX, 0);
}
END_TEST

START_TEST(offered_caps_rejects_bad_arguments)
{
	struct nest_vmx_caps c = {.size = 8};

	ck_assert_int_eq(nest_vmx_offered_caps(N.ctx, &c), NEST_E_SIZE);
	ck_assert_int_eq(nest_vmx_offered_caps(N.ctx, NULL), NEST_E_INVAL);
}
END_TEST

START_TEST(rdmsr_returns_each_offered_capability)
{
	struct nest_vmx_caps c = offered();
	uint64_t v;

	ck_assert_int_eq(rdmsr(X86_MSR_IA32_VMX_BASIC, &v), NEST_OK);
	assert_msr_ok();
	ck_assert_uint_eq(v, c.basic);
	ck_assert_int_eq(rdmsr(X86_MSR_IA32_VMX_PROCBASED_CTLS2, &v), NEST_OK);
	ck_assert_uint_eq(v, c.procbased2);
	ck_assert_int_eq(rdmsr(X86_MSR_IA32_VMX_TRUE_ENTRY_CTLS, &v), NEST_OK);
	ck_assert_uint_eq(v, c.true_entry);
	ck_assert_int_eq(rdmsr(X86_MSR_IA32_VMX_EPT_VPID_CAP, &v), NEST_OK);
	ck_assert_uint_eq(v, c.ept_vpid);
	ck_assert_int_eq(rdmsr(X86_MSR_IA32_VMX_VMFUNC, &v), NEST_OK);
	ck_assert_uint_eq(v, c.vmfunc);
	ck_assert_int_eq(rdmsr(X86_MSR_IA32_VMX_CR4_FIXED1, &v), NEST_OK);
	ck_assert_uint_eq(v, c.cr4_fixed1);
}
END_TEST

START_TEST(rdmsr_of_tertiary_and_secondary_exit_controls_is_gp)
{
	uint64_t v;

	ck_assert_int_eq(rdmsr(X86_MSR_IA32_VMX_PROCBASED_CTLS3, &v), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
	ck_assert_int_eq(rdmsr(X86_MSR_IA32_VMX_EXIT_CTLS2, &v), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(rdmsr_of_other_msrs_is_left_to_the_caller)
{
	uint64_t v;

	ck_assert_int_eq(rdmsr(X86_MSR_IA32_EFER, &v), NEST_E_NOENT);
	ck_assert_int_eq(wrmsr(X86_MSR_IA32_EFER, 0), NEST_E_NOENT);
	ck_assert_int_eq(rdmsr(0x494, &v), NEST_E_NOENT);
}
END_TEST

START_TEST(msr_calls_reject_bad_arguments)
{
	uint64_t v;

	N.act.size = sizeof(N.act);
	ck_assert_int_eq(nest_vmx_rdmsr(N.ctx, X86_MSR_IA32_VMX_BASIC, NULL, &N.act), NEST_E_INVAL);
	ck_assert_int_eq(nest_vmx_rdmsr(N.ctx, X86_MSR_IA32_VMX_BASIC, &v, NULL), NEST_E_INVAL);
	N.act.size = 4;
	ck_assert_int_eq(nest_vmx_rdmsr(N.ctx, X86_MSR_IA32_VMX_BASIC, &v, &N.act), NEST_E_SIZE);
	ck_assert_int_eq(nest_vmx_wrmsr(N.ctx, X86_MSR_IA32_FEATURE_CONTROL, 0, &N.act),
			 NEST_E_SIZE);
}
END_TEST

START_TEST(wrmsr_to_capability_msrs_is_gp)
{
	ck_assert_int_eq(wrmsr(X86_MSR_IA32_VMX_BASIC, 0), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
	ck_assert_int_eq(wrmsr(X86_MSR_IA32_VMX_VMFUNC, 1), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(feature_control_is_writable_until_locked)
{
	uint64_t v;

	N.cfg.feature_control = 0;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	ck_assert_int_eq(wrmsr(X86_MSR_IA32_FEATURE_CONTROL, 0x4), NEST_OK);
	assert_msr_ok();
	ck_assert_int_eq(wrmsr(X86_MSR_IA32_FEATURE_CONTROL, 0x5), NEST_OK);
	assert_msr_ok();
	ck_assert_int_eq(rdmsr(X86_MSR_IA32_FEATURE_CONTROL, &v), NEST_OK);
	ck_assert_uint_eq(v, 0x5);
	ck_assert_uint_eq(offered().feature_control, 0x5);
	ck_assert_int_eq(wrmsr(X86_MSR_IA32_FEATURE_CONTROL, 0x1), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
	ck_assert_int_eq(rdmsr(X86_MSR_IA32_FEATURE_CONTROL, &v), NEST_OK);
	ck_assert_uint_eq(v, 0x5);
}
END_TEST

START_TEST(feature_control_rejects_bits_l1_may_not_set)
{
	N.cfg.feature_control = 0;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	ck_assert_int_eq(wrmsr(X86_MSR_IA32_FEATURE_CONTROL, 0x2), NEST_OK); /* no SMX */
	assert_inject(VEC_GP, 1, 0);
	ck_assert_int_eq(wrmsr(X86_MSR_IA32_FEATURE_CONTROL, 1ull << 20), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
}
END_TEST

START_TEST(feature_control_accepts_extra_bits_the_config_allows)
{
	N.cfg.feature_control = 0;
	N.cfg.feature_control_extra = 1ull << 20; /* LMCE */
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	ck_assert_int_eq(wrmsr(X86_MSR_IA32_FEATURE_CONTROL, (1ull << 20) | 1), NEST_OK);
	assert_msr_ok();
}
END_TEST

START_TEST(vmxon_after_l1_enables_and_locks_feature_control_succeeds)
{
	N.cfg.feature_control = 0;
	ck_assert_int_eq(ctx_reinit(), NEST_OK);
	ck_assert_int_eq(exec_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA), NEST_OK);
	assert_inject(VEC_GP, 1, 0);
	ck_assert_int_eq(wrmsr(X86_MSR_IA32_FEATURE_CONTROL, 0x5), NEST_OK);
	do_vmxon();
}
END_TEST

static Suite *caps_suite(void)
{
	Suite *su = suite_create("vmx_caps");
	TCase *tc = tcase_create("caps");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, basic_carries_libnest_revision_4k_size_and_write_back);
	tcase_add_test(tc, allowed0_settings_are_a_subset_of_allowed1_in_every_control_msr);
	tcase_add_test(tc, true_msrs_require_no_more_than_the_plain_ones);
	tcase_add_test(tc, controls_libnest_cannot_emulate_are_never_offered);
	tcase_add_test(tc, features_the_host_has_and_policy_allows_are_offered);
	tcase_add_test(tc, policy_without_ept_hides_ept_and_what_needs_it);
	tcase_add_test(tc, policy_without_preemption_timer_hides_its_controls_and_rate);
	tcase_add_test(tc, host_without_a_feature_never_offers_it);
	tcase_add_test(tc, vmwrite_any_field_is_offered_by_policy_alone);
	tcase_add_test(tc, msr_list_size_is_offered_as_512_entries);
	tcase_add_test(tc, activity_states_follow_the_host_except_shutdown);
	tcase_add_test(tc, features_vmcs02_cannot_carry_are_never_offered);
	tcase_add_test(tc, pml_is_offered_with_ept_whatever_the_host);
	tcase_add_test(tc, posted_interrupts_are_offered_with_apicv_whatever_the_host);
	tcase_add_test(tc, pml_is_not_offered_by_a_policy_without_it);
	tcase_add_test(tc, host_without_true_ctls_yields_no_true_msrs);
	tcase_add_test(tc, host_without_secondary_controls_yields_no_procbased2);
	tcase_add_test(tc, vmcs_enum_reports_highest_field_index);
	tcase_add_test(tc, cr_fixed_bits_come_from_the_host);
	tcase_add_test(tc, vmx_not_allowed_offers_nothing);
	tcase_add_test(tc, offered_caps_rejects_bad_arguments);
	tcase_add_test(tc, rdmsr_returns_each_offered_capability);
	tcase_add_test(tc, rdmsr_of_tertiary_and_secondary_exit_controls_is_gp);
	tcase_add_test(tc, rdmsr_of_other_msrs_is_left_to_the_caller);
	tcase_add_test(tc, msr_calls_reject_bad_arguments);
	tcase_add_test(tc, wrmsr_to_capability_msrs_is_gp);
	tcase_add_test(tc, feature_control_is_writable_until_locked);
	tcase_add_test(tc, feature_control_rejects_bits_l1_may_not_set);
	tcase_add_test(tc, feature_control_accepts_extra_bits_the_config_allows);
	tcase_add_test(tc, vmxon_after_l1_enables_and_locks_feature_control_succeeds);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return run_suite(caps_suite());
}
