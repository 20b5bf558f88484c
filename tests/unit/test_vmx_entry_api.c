/* SPDX-License-Identifier: MIT */
/*
 * The public VM-entry API (nest/vmx.h "VM entry"): rule strings, the
 * typical capabilities, the vmcs12 image accessors, size-versioned
 * results; and the checks in every guest mode (no false failures), with
 * the environment's L1-memory inputs (PDPTEs, link pointer, VTPR).
 */
#include "check_main.h"
#include "test_vmx_entry_fixture.h"

static struct nest_vmx_entry_result run(struct fx *f)
{
	struct nest_vmx_entry_result res;

	fx_run(f, &res);
	return res;
}

#define ck_assert_rule(res, name)                                                                  \
	ck_assert_msg((res).rule == NEST_VMX_RULE_##name, "expected " #name ", got %s",            \
		      nest_vmx_rule_name((res).rule))

START_TEST(rule_strings_name_every_rule)
{
	uint32_t r;

	for (r = 0; r < NEST_VMX_RULE_END_; r++) {
		ck_assert_ptr_nonnull(nest_vmx_rule_name(r));
		ck_assert_uint_gt(strlen(nest_vmx_rule_text(r)), 10);
		ck_assert_uint_gt(strlen(nest_vmx_rule_section(r)), 0);
	}
	ck_assert_str_eq(nest_vmx_rule_name(NEST_VMX_RULE_GUEST_CR0_FIXED), "GUEST_CR0_FIXED");
	ck_assert_str_eq(nest_vmx_rule_section(NEST_VMX_RULE_GUEST_CR0_FIXED), "27.3.1.1");
	ck_assert_str_eq(nest_vmx_rule_name(NEST_VMX_RULE_END_), "UNKNOWN");
	ck_assert_str_eq(nest_vmx_rule_text(UINT32_MAX), "unknown rule");
	ck_assert_str_eq(nest_vmx_rule_section(UINT32_MAX), "");
}
END_TEST

START_TEST(caps_default_checks_its_argument)
{
	struct nest_vmx_caps caps;

	ck_assert_int_eq(nest_vmx_caps_default(NULL), NEST_E_INVAL);
	caps.size = 8;
	ck_assert_int_eq(nest_vmx_caps_default(&caps), NEST_E_SIZE);
	caps.size = sizeof(caps);
	ck_assert_int_eq(nest_vmx_caps_default(&caps), NEST_OK);
	ck_assert_uint_eq(caps.size, sizeof(caps));
	ck_assert(caps.basic & VMX_BASIC_TRUE_CTLS);
	ck_assert_uint_eq(caps.basic & VMX_BASIC_REVISION_MASK, NEST_VMCS12_REVISION);
	ck_assert(caps.procbased2 >> 32 & VMX_PROC2_UNRESTRICTED_GUEST);
	ck_assert(caps.ept_vpid & VMX_EPT_CAP_PWL4);
}
END_TEST

START_TEST(image_accessors_follow_the_field_table)
{
	uint8_t img[NEST_VMCS12_REGION_SIZE];
	uint64_t x = 1;

	ck_assert_uint_le(nest_vmcs12_image_size(), sizeof(img));
	memset(img, 0xa5, sizeof(img));
	ck_assert_int_eq(nest_vmcs12_image_init(img), NEST_OK);
	ck_assert_int_eq(nest_vmcs12_image_read(img, NEST_VMCS_GUEST_CR0, &x), NEST_OK);
	ck_assert_uint_eq(x, 0);
	ck_assert_int_eq(nest_vmcs12_image_write(img, NEST_VMCS_GUEST_CS_SELECTOR, 0x12345),
			 NEST_OK);
	ck_assert_int_eq(nest_vmcs12_image_read(img, NEST_VMCS_GUEST_CS_SELECTOR, &x), NEST_OK);
	ck_assert_uint_eq(x, 0x2345); /* truncated to 16 bits */
	ck_assert_int_eq(nest_vmcs12_image_write(img, NEST_VMCS_EPT_POINTER + 1, 0xabc), NEST_OK);
	ck_assert_int_eq(nest_vmcs12_image_read(img, NEST_VMCS_EPT_POINTER, &x), NEST_OK);
	ck_assert_uint_eq(x, 0xabc00000000ull);
	ck_assert_int_eq(nest_vmcs12_image_write(img, 0x7ffe, 1), NEST_E_NOENT);
	ck_assert_int_eq(nest_vmcs12_image_read(img, 0x7ffe, &x), NEST_E_NOENT);
	ck_assert_int_eq(nest_vmcs12_image_read(NULL, NEST_VMCS_GUEST_CR0, &x), NEST_E_INVAL);
	ck_assert_int_eq(nest_vmcs12_image_init(NULL), NEST_E_INVAL);
}
END_TEST

START_TEST(check_vmcs12_matches_the_internal_checks)
{
	struct fx f;
	struct nest_vmx_entry_result res;

	fx_init(&f);
	res.size = sizeof(res);
	ck_assert_int_eq(nest_vmx_check_vmcs12(&f.v, sizeof(f.v), &f.caps, &res), NEST_OK);
	ck_assert_uint_eq(res.outcome, NEST_VMX_ENTRY_OK);
	f.v.GUEST_RIP = 1ull << 47;
	ck_assert_int_eq(nest_vmx_check_vmcs12(&f.v, sizeof(f.v), &f.caps, &res), NEST_OK);
	ck_assert_rule(res, GUEST_RIP_CANONICAL);
	ck_assert_uint_eq(res.field, NEST_VMCS_GUEST_RIP);
	ck_assert_uint_eq(res.exit_reason,
			  VMX_EXIT_REASON_ENTRY_FAILURE | VMX_EXIT_INVALID_GUEST_STATE);
}
END_TEST

START_TEST(check_vmcs12_accepts_short_images_and_results)
{
	struct fx f;
	struct nest_vmx_entry_result res;

	fx_init(&f);
	/* An image cut after its header: every field reads 0. */
	res.size = sizeof(res);
	ck_assert_int_eq(nest_vmx_check_vmcs12(&f.v, 16, &f.caps, &res), NEST_OK);
	ck_assert_rule(res, CTL_PIN_RESERVED);
	ck_assert_int_eq(nest_vmx_check_vmcs12(&f.v, 15, &f.caps, &res), NEST_E_SIZE);
	/* A result one field shorter is refused; the minimum is accepted. */
	res.size = NEST_VMX_ENTRY_RESULT_MIN_SIZE - 1;
	ck_assert_int_eq(nest_vmx_check_vmcs12(&f.v, sizeof(f.v), &f.caps, &res), NEST_E_SIZE);
	res.size = NEST_VMX_ENTRY_RESULT_MIN_SIZE;
	ck_assert_int_eq(nest_vmx_check_vmcs12(&f.v, sizeof(f.v), &f.caps, &res), NEST_OK);
	f.caps.size = 8;
	ck_assert_int_eq(nest_vmx_check_vmcs12(&f.v, sizeof(f.v), &f.caps, &res), NEST_E_SIZE);
	ck_assert_int_eq(nest_vmx_check_vmcs12(&f.v, sizeof(f.v), NULL, &res), NEST_E_INVAL);
	ck_assert_int_eq(nest_vmx_check_vmcs12(NULL, sizeof(f.v), &f.caps, &res), NEST_E_INVAL);
}
END_TEST

START_TEST(msr_load_qualification_counts_from_one)
{
	struct fx f;
	struct nest_vmx_entry_result res;
	struct nest_vmx_msr_entry e[3] = {
	    {X86_MSR_IA32_SYSENTER_CS, 0, 0x10},
	    {X86_MSR_IA32_PAT, 0, FX_PAT},
	    {X86_MSR_IA32_FS_BASE, 0, 0},
	};

	fx_init(&f);
	res.size = sizeof(res);
	ck_assert_int_eq(nest_vmx_check_msr_load(e, 2, &f.caps, &res), NEST_OK);
	ck_assert_uint_eq(res.outcome, NEST_VMX_ENTRY_OK);
	ck_assert_int_eq(nest_vmx_check_msr_load(e, 3, &f.caps, &res), NEST_OK);
	ck_assert_rule(res, MSR_LOAD_FS_GS_BASE);
	ck_assert_uint_eq(res.exit_reason, VMX_EXIT_REASON_ENTRY_FAILURE | VMX_EXIT_MSR_LOADING);
	ck_assert_uint_eq(res.exit_qualification, 3);
	ck_assert_int_eq(nest_vmx_check_msr_load(NULL, 1, &f.caps, &res), NEST_E_INVAL);
	ck_assert_int_eq(nest_vmx_check_msr_load(NULL, 0, &f.caps, &res), NEST_OK);
}
END_TEST

START_TEST(msr_load_limit_follows_misc)
{
	struct fx f;
	struct nest_vmx_entry_result res;

	fx_init(&f);
	/* IA32_VMX_MISC[27:25] = 1: 1024 entries are fine (SDM A.6). */
	f.caps.misc |= 1ull << VMX_MISC_MAX_MSR_LIST_SHIFT;
	ck_assert_int_eq(nest__vmx_check_msr_load(f.msr, 0, &f.caps, &res), 0);
	f.caps.misc &= ~VMX_MISC_MAX_MSR_LIST_MASK;
	ck_assert_int_eq(nest__vmx_check_msr_load(f.msr, 513, &f.caps, &res),
			 NEST_VMX_ENTRY_FAILURE);
	ck_assert_uint_eq(res.exit_reason,
			  VMX_EXIT_REASON_ENTRY_FAILURE | VMX_EXIT_MCE_DURING_VMENTRY);
}
END_TEST

/* Guest modes: each passes as a whole. */

START_TEST(protected_mode_32bit_guest_passes)
{
	struct fx f;

	fx_init(&f);
	f.v.VM_ENTRY_CONTROLS &= ~VMX_ENTRY_IA32E_MODE_GUEST;
	f.v.GUEST_IA32_EFER &= ~(X86_EFER_LMA | X86_EFER_LME);
	f.v.GUEST_CR4 &= ~X86_CR4_PAE;
	f.v.GUEST_CS_AR_BYTES = FX_CODE32_AR;
	f.v.GUEST_TR_AR_BYTES = X86_SEG_P | VMX_SEG_TYPE_TSS16_BUSY;
	ck_assert_uint_eq(run(&f).outcome, NEST_VMX_ENTRY_OK);
}
END_TEST

START_TEST(unrestricted_real_mode_guest_passes)
{
	struct fx f;

	fx_init(&f);
	f.v.VM_ENTRY_CONTROLS &= ~VMX_ENTRY_IA32E_MODE_GUEST;
	f.v.GUEST_IA32_EFER = 0;
	f.v.GUEST_CR0 = X86_CR0_ET | X86_CR0_NE;
	f.v.GUEST_CR4 = X86_CR4_VMXE;
#define REAL(S, ar)                                                                                \
	f.v.GUEST_##S##_SELECTOR = 0xf000;                                                         \
	f.v.GUEST_##S##_BASE = 0xf0000;                                                            \
	f.v.GUEST_##S##_LIMIT = 0xffff;                                                            \
	f.v.GUEST_##S##_AR_BYTES = ar
	REAL(CS, X86_SEG_P | X86_SEG_S | VMX_SEG_TYPE_DATA_RW_ACCESSED);
	REAL(SS, X86_SEG_P | X86_SEG_S | VMX_SEG_TYPE_DATA_RW_ACCESSED);
	REAL(DS, X86_SEG_P | X86_SEG_S | VMX_SEG_TYPE_DATA_RW_ACCESSED);
	REAL(ES, X86_SEG_P | X86_SEG_S | VMX_SEG_TYPE_DATA_RW_ACCESSED);
	REAL(FS, X86_SEG_P | X86_SEG_S | VMX_SEG_TYPE_DATA_RW_ACCESSED);
	REAL(GS, X86_SEG_P | X86_SEG_S | VMX_SEG_TYPE_DATA_RW_ACCESSED);
#undef REAL
	f.v.GUEST_TR_AR_BYTES = X86_SEG_P | VMX_SEG_TYPE_TSS16_BUSY;
	f.v.GUEST_RIP = 0xfff0;
	ck_assert_uint_eq(run(&f).outcome, NEST_VMX_ENTRY_OK);
	/* Without unrestricted guest, CR0.PE is required. */
	f.v.SECONDARY_VM_EXEC_CONTROL &= ~VMX_PROC2_UNRESTRICTED_GUEST;
	ck_assert_rule(run(&f), GUEST_CR0_FIXED);
}
END_TEST

START_TEST(virtual_8086_guest_passes)
{
	struct fx f;

	fx_init(&f);
	f.v.SECONDARY_VM_EXEC_CONTROL &= ~VMX_PROC2_UNRESTRICTED_GUEST;
	f.v.VM_ENTRY_CONTROLS &= ~VMX_ENTRY_IA32E_MODE_GUEST;
	f.v.GUEST_IA32_EFER &= ~(X86_EFER_LMA | X86_EFER_LME);
	f.v.GUEST_CR4 &= ~X86_CR4_PAE;
	f.v.GUEST_RFLAGS |= X86_RFLAGS_VM;
#define V86(S)                                                                                     \
	f.v.GUEST_##S##_SELECTOR = 0x1234;                                                         \
	f.v.GUEST_##S##_BASE = 0x12340;                                                            \
	f.v.GUEST_##S##_LIMIT = VMX_SEG_V86_LIMIT;                                                 \
	f.v.GUEST_##S##_AR_BYTES = VMX_SEG_V86_AR
	V86(CS);
	V86(SS);
	V86(DS);
	V86(ES);
	V86(FS);
	V86(GS);
#undef V86
	f.v.GUEST_TR_AR_BYTES = X86_SEG_P | VMX_SEG_TYPE_TSS_BUSY;
	ck_assert_uint_eq(run(&f).outcome, NEST_VMX_ENTRY_OK);
}
END_TEST

START_TEST(pdptes_come_from_l1_memory_without_ept)
{
	struct fx f;
	struct nest_vmx_entry_result res;

	fx_init(&f);
	f.v.VM_ENTRY_CONTROLS &= ~VMX_ENTRY_IA32E_MODE_GUEST;
	f.v.GUEST_IA32_EFER &= ~(X86_EFER_LMA | X86_EFER_LME);
	f.v.GUEST_CS_AR_BYTES = FX_CODE32_AR;
	f.v.SECONDARY_VM_EXEC_CONTROL &= ~(VMX_PROC2_ENABLE_EPT | VMX_PROC2_UNRESTRICTED_GUEST);
	f.v.GUEST_PDPTE0 = VMX_PDPTE_P | (1ull << 5); /* ignored: EPT is off */
	f.env.pdptes_fetched = true;
	f.env.pdpte[1] = 0x5000 | VMX_PDPTE_P;
	ck_assert_uint_eq(run(&f).outcome, NEST_VMX_ENTRY_OK);
	f.env.pdpte[3] = 0x6000 | VMX_PDPTE_P | (1ull << 63);
	res = run(&f);
	ck_assert_rule(res, GUEST_PDPTE_RESERVED);
	ck_assert_uint_eq(res.exit_qualification, VMX_ENTRY_FAIL_QUAL_PDPTE);
	ck_assert_uint_eq(res.field, NEST_VMCS_GUEST_PDPTE3);
	/* A non-present PDPTE may hold anything. */
	f.env.pdpte[3] = ~VMX_PDPTE_P;
	ck_assert_uint_eq(run(&f).outcome, NEST_VMX_ENTRY_OK);
}
END_TEST

START_TEST(link_pointer_with_shadowing_needs_the_indicator)
{
	struct fx f;

	fx_init(&f);
	f.v.SECONDARY_VM_EXEC_CONTROL |= VMX_PROC2_VMCS_SHADOWING;
	f.v.VMREAD_BITMAP = 0x19000;
	f.v.VMWRITE_BITMAP = 0x1a000;
	f.v.VMCS_LINK_POINTER = FX_LINK_PTR;
	f.env.link_fetched = true;
	f.env.link_header = NEST_VMCS12_REVISION | NEST_VMCS12_SHADOW_INDICATOR;
	ck_assert_uint_eq(run(&f).outcome, NEST_VMX_ENTRY_OK);
	f.env.link_header = NEST_VMCS12_REVISION;
	ck_assert_rule(run(&f), GUEST_LINK_SHADOW);
	/* Not fetched: only the pointer's own form is checked. */
	f.env.link_fetched = false;
	ck_assert_uint_eq(run(&f).outcome, NEST_VMX_ENTRY_OK);
}
END_TEST

START_TEST(basic_bit56_relaxes_error_code_delivery)
{
	struct fx f;
	uint32_t ud_with_code = VMX_INTR_INFO_VALID |
				(VMX_INTR_TYPE_HW_EXCEPTION << VMX_INTR_INFO_TYPE_SHIFT) |
				VMX_INTR_INFO_DELIVER_ERROR_CODE | X86_EXC_UD;

	fx_init(&f);
	f.v.VM_ENTRY_INTR_INFO_FIELD = ud_with_code;
	ck_assert_rule(run(&f), CTL_EVENT_DELIVER_ERROR_CODE);
	f.caps.basic |= VMX_BASIC_NO_HW_ERRCODE_CHECK;
	ck_assert_uint_eq(run(&f).outcome, NEST_VMX_ENTRY_OK);
	/* Still only for hardware exceptions. */
	f.v.VM_ENTRY_INTR_INFO_FIELD = VMX_INTR_INFO_VALID |
				       (VMX_INTR_TYPE_NMI << VMX_INTR_INFO_TYPE_SHIFT) |
				       VMX_INTR_INFO_DELIVER_ERROR_CODE | X86_EXC_NMI;
	ck_assert_rule(run(&f), CTL_EVENT_DELIVER_ERROR_CODE);
}
END_TEST

START_TEST(non_true_caps_keep_default1_controls)
{
	struct fx f;

	fx_init(&f);
	/* Without IA32_VMX_BASIC[55], CR3-load/store exiting are default1. */
	f.caps.basic &= ~VMX_BASIC_TRUE_CTLS;
	ck_assert_rule(run(&f), CTL_PROC_RESERVED);
	f.v.CPU_BASED_VM_EXEC_CONTROL |= VMX_PROC_CR3_LOAD_EXITING | VMX_PROC_CR3_STORE_EXITING;
	ck_assert_rule(run(&f), CTL_EXIT_RESERVED);
}
END_TEST

START_TEST(injected_events_allowed_in_hlt)
{
	struct fx f;

	fx_init(&f);
	f.v.GUEST_ACTIVITY_STATE = VMX_ACTIVITY_HLT;
	f.v.VM_ENTRY_INTR_INFO_FIELD = VMX_INTR_INFO_VALID |
				       (VMX_INTR_TYPE_HW_EXCEPTION << VMX_INTR_INFO_TYPE_SHIFT) |
				       X86_EXC_MC;
	ck_assert_uint_eq(run(&f).outcome, NEST_VMX_ENTRY_OK);
	f.v.VM_ENTRY_INTR_INFO_FIELD = VMX_INTR_INFO_VALID |
				       (VMX_INTR_TYPE_HW_EXCEPTION << VMX_INTR_INFO_TYPE_SHIFT) |
				       X86_EXC_UD;
	ck_assert_rule(run(&f), GUEST_ACTIVITY_INJECTION);
}
END_TEST

static Suite *entry_api_suite(void)
{
	Suite *s = suite_create("vmx_entry_api");
	TCase *tc = tcase_create("api");

	tcase_add_test(tc, rule_strings_name_every_rule);
	tcase_add_test(tc, caps_default_checks_its_argument);
	tcase_add_test(tc, image_accessors_follow_the_field_table);
	tcase_add_test(tc, check_vmcs12_matches_the_internal_checks);
	tcase_add_test(tc, check_vmcs12_accepts_short_images_and_results);
	tcase_add_test(tc, msr_load_qualification_counts_from_one);
	tcase_add_test(tc, msr_load_limit_follows_misc);
	tcase_add_test(tc, protected_mode_32bit_guest_passes);
	tcase_add_test(tc, unrestricted_real_mode_guest_passes);
	tcase_add_test(tc, virtual_8086_guest_passes);
	tcase_add_test(tc, pdptes_come_from_l1_memory_without_ept);
	tcase_add_test(tc, link_pointer_with_shadowing_needs_the_indicator);
	tcase_add_test(tc, basic_bit56_relaxes_error_code_delivery);
	tcase_add_test(tc, non_true_caps_keep_default1_controls);
	tcase_add_test(tc, injected_events_allowed_in_hlt);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return nest_test_run(entry_api_suite());
}
