/* SPDX-License-Identifier: MIT */
/*
 * A host processor without some VMX features has no VMCS fields for them:
 * VMREAD/VMWRITE of such a field fail (error 12, SDM 31.4). libnest must
 * never access one in vmcs01 or vmcs02, and vmcs02 must carry the host's
 * must-be-1 control bits even where L1 may clear them. The backend here
 * refuses every field a processor like Bochs' lacks (no TSC scaling, PKRS,
 * CET, PML, virtual-interrupt delivery, posted interrupts, tertiary
 * controls) and counts the attempts.
 */
#include "check_main.h"
#include "vmx_fixture.h"

#include "vmx/hwfields.h"

#define ALLOWED1(bits) ((uint64_t)(bits) << 32)

static struct nest_backend_ops strict_ops;
static unsigned refused;
static struct nest_vmx_caps small;

static int strict_read(void *c, enum nest_vmcs_id which, uint32_t enc, uint64_t *v)
{
	const struct nest_vmcs_field *f = nest_vmcs_field_by_encoding(enc);

	if (f == NULL || !nest__vmx_hw_field(&small, (unsigned)(f - nest__vmcs_fields))) {
		refused++;
		return NEST_E_BACKEND;
	}
	return sim_backend(&N.s)->ops->vmcs_read(c, which, enc, v);
}

static int strict_write(void *c, enum nest_vmcs_id which, uint32_t enc, uint64_t v)
{
	const struct nest_vmcs_field *f = nest_vmcs_field_by_encoding(enc);

	if (f == NULL || !nest__vmx_hw_field(&small, (unsigned)(f - nest__vmcs_fields))) {
		refused++;
		return NEST_E_BACKEND;
	}
	return sim_backend(&N.s)->ops->vmcs_write(c, which, enc, v);
}

/* The simulated host, less the features above. */
static void small_caps(struct nest_vmx_caps *c)
{
	sim_vmx_host_caps(c);
	c->procbased &= ~ALLOWED1(NEST_VMX_PROC_ACTIVATE_TERTIARY);
	c->true_procbased &= ~ALLOWED1(NEST_VMX_PROC_ACTIVATE_TERTIARY);
	c->pinbased &= ~ALLOWED1(NEST_VMX_PIN_POSTED_INTR);
	c->true_pinbased &= ~ALLOWED1(NEST_VMX_PIN_POSTED_INTR);
	c->procbased2 &= ~ALLOWED1(NEST_VMX_PROC2_USE_TSC_SCALING | NEST_VMX_PROC2_ENABLE_PML |
				   NEST_VMX_PROC2_VIRT_INTR_DELIVERY);
	c->exit &= ~ALLOWED1(NEST_VMX_EXIT_CTL_LOAD_PKRS | NEST_VMX_EXIT_CTL_LOAD_CET_STATE);
	c->true_exit &= ~ALLOWED1(NEST_VMX_EXIT_CTL_LOAD_PKRS | NEST_VMX_EXIT_CTL_LOAD_CET_STATE);
	c->entry &= ~ALLOWED1(NEST_VMX_ENTRY_CTL_LOAD_PKRS | NEST_VMX_ENTRY_CTL_LOAD_CET_STATE);
	c->true_entry &=
	    ~ALLOWED1(NEST_VMX_ENTRY_CTL_LOAD_PKRS | NEST_VMX_ENTRY_CTL_LOAD_CET_STATE);
}

static void setup(void)
{
	nfx_setup();
	small_caps(&small);
	strict_ops = *sim_backend(&N.s)->ops;
	strict_ops.vmcs_read = strict_read;
	strict_ops.vmcs_write = strict_write;
	/* The context as nest_vmx_init() would leave it for this host. */
	N.ctx->be.ops = &strict_ops;
	N.ctx->host = small;
	nest__vmx_build_lists(N.ctx);
	refused = 0;
	ck_assert_int_eq(nest_vmx_set_l0(N.ctx, &N.l0), NEST_OK);
}

START_TEST(a_field_exists_only_with_its_feature)
{
	struct nest_vmx_caps full;

	sim_vmx_host_caps(&full);
	ck_assert(nest__vmx_hw_field(&full, NEST__VF_TSC_MULTIPLIER));
	ck_assert(!nest__vmx_hw_field(&small, NEST__VF_TSC_MULTIPLIER));
	ck_assert(nest__vmx_hw_field(&full, NEST__VF_GUEST_INTR_STATUS));
	ck_assert(!nest__vmx_hw_field(&small, NEST__VF_GUEST_INTR_STATUS));
	ck_assert(!nest__vmx_hw_field(&small, NEST__VF_HOST_IA32_PKRS));
	ck_assert(!nest__vmx_hw_field(&small, NEST__VF_GUEST_S_CET));
	ck_assert(!nest__vmx_hw_field(&small, NEST__VF_TERTIARY_VM_EXEC_CONTROL));
	ck_assert(!nest__vmx_hw_field(&small, NEST__VF_POSTED_INTR_DESC_ADDR));
	/* Fields of no particular feature always exist. */
	ck_assert(nest__vmx_hw_field(&small, NEST__VF_GUEST_RIP));
	ck_assert(nest__vmx_hw_field(&small, NEST__VF_EXCEPTION_BITMAP));
	ck_assert(nest__vmx_hw_field(&small, NEST__VF_GUEST_PDPTE0)); /* EPT is there */
}
END_TEST

START_TEST(eptp_list_needs_both_vm_functions_and_eptp_switching)
{
	struct nest_vmx_caps c;

	sim_vmx_host_caps(&c);
	ck_assert(nest__vmx_hw_field(&c, NEST__VF_EPTP_LIST_ADDRESS));
	c.vmfunc = 0;
	ck_assert(!nest__vmx_hw_field(&c, NEST__VF_EPTP_LIST_ADDRESS));
	sim_vmx_host_caps(&c);
	c.procbased &= ~ALLOWED1(NEST_VMX_PROC_ACTIVATE_SECONDARY);
	ck_assert(!nest__vmx_hw_field(&c, NEST__VF_EPTP_LIST_ADDRESS));
	ck_assert(!nest__vmx_hw_field(&c, NEST__VF_EPT_POINTER));
}
END_TEST

START_TEST(set_l0_reads_no_host_field_the_host_lacks)
{
	ck_assert_uint_eq(refused, 0);
}
END_TEST

START_TEST(entry_and_reflected_exit_touch_no_field_the_host_lacks)
{
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	V12()->GUEST_RIP += 2;
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
	ck_assert_uint_eq(refused, 0);
}
END_TEST

START_TEST(no_tsc_multiplier_is_written_without_scaling)
{
	launch_ok();
	ck_assert_uint_eq(v02(NEST_VMCS_TSC_MULTIPLIER), 0);
	ck_assert_uint_eq(v02(NEST_VMCS_SECONDARY_VM_EXEC_CONTROL) & NEST_VMX_PROC2_USE_TSC_SCALING,
			  0);
}
END_TEST

START_TEST(vmcs02_has_the_hosts_must_be_one_bits_that_l1_cleared)
{
	/* The TRUE MSRs let L1 clear default-1 bits the host still requires. */
	N.ctx->host.true_pinbased |= NEST_VMX_PIN_DEFAULT1;
	N.ctx->host.true_entry |= NEST_VMX_ENTRY_CTL_DEFAULT1;
	ck_assert_int_eq(nest_vmx_set_l0(N.ctx, &N.l0), NEST_OK);
	V12()->PIN_BASED_VM_EXEC_CONTROL &= ~NEST_VMX_PIN_DEFAULT1;
	V12()->VM_ENTRY_CONTROLS &=
	    ~(NEST_VMX_ENTRY_CTL_DEFAULT1 & ~NEST_VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS);
	N.ctx->caps.true_pinbased &= ~(uint64_t)NEST_VMX_PIN_DEFAULT1;
	N.ctx->caps.true_entry &= ~(uint64_t)NEST_VMX_ENTRY_CTL_DEFAULT1;
	launch_ok();
	ck_assert_uint_eq(v02(NEST_VMCS_PIN_BASED_VM_EXEC_CONTROL) & NEST_VMX_PIN_DEFAULT1,
			  NEST_VMX_PIN_DEFAULT1);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_ENTRY_CONTROLS) & NEST_VMX_ENTRY_CTL_DEFAULT1,
			  NEST_VMX_ENTRY_CTL_DEFAULT1);
}
END_TEST

static Suite *hwfields_suite(void)
{
	Suite *s = suite_create("vmx_hwfields");
	TCase *t = tcase_create("host fields");

	tcase_add_checked_fixture(t, setup, nfx_teardown);
	tcase_add_test(t, a_field_exists_only_with_its_feature);
	tcase_add_test(t, eptp_list_needs_both_vm_functions_and_eptp_switching);
	tcase_add_test(t, set_l0_reads_no_host_field_the_host_lacks);
	tcase_add_test(t, entry_and_reflected_exit_touch_no_field_the_host_lacks);
	tcase_add_test(t, no_tsc_multiplier_is_written_without_scaling);
	tcase_add_test(t, vmcs02_has_the_hosts_must_be_one_bits_that_l1_cleared);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return nest_test_run(hwfields_suite());
}
