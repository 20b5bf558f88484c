/* SPDX-License-Identifier: MIT */
/* Unit tests of the vmcs02 merge (arch/x86/vmx/vmcs02.c). */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "cpu/x86.h"
#include "vmx/vmcs02.h"
#include "vmx/vmx_arch.h"

static struct nest__vmcs12 v, o;
static struct nest__vmx_l0 l0;
static struct nest__vmx_vmcs02_pages pg;
static struct nest__vmx_l1_now l1;

static void setup(void)
{
	memset(&v, 0, sizeof(v));
	memset(&l0, 0, sizeof(l0));
	memset(&pg, 0, sizeof(pg));
	memset(&l1, 0, sizeof(l1));
	pg.msr_bitmap = 0x200000001000ull;
	pg.io_bitmap_a = 0x200000002000ull;
	pg.io_bitmap_b = 0x200000003000ull;
}

static void build(void)
{
	nest__vmx_build_vmcs02(&o, &v, &l0, &pg, &l1);
}

START_TEST(l0_required_exits_survive_l1_clearing_them)
{
	l0.pub.proc = NEST_VMX_PROC_HLT_EXITING | NEST_VMX_PROC_CR3_LOAD_EXITING;
	l0.pub.proc2 = NEST_VMX_PROC2_WBINVD_EXITING;
	l0.pub.pin = NEST_VMX_PIN_VIRTUAL_NMIS;
	build();
	ck_assert(o.CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_HLT_EXITING);
	ck_assert(o.CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_CR3_LOAD_EXITING);
	ck_assert(o.SECONDARY_VM_EXEC_CONTROL & NEST_VMX_PROC2_WBINVD_EXITING);
	ck_assert(o.CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_ACTIVATE_SECONDARY);
	ck_assert(o.PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_VIRTUAL_NMIS);
}
END_TEST

START_TEST(external_interrupts_and_nmis_always_exit_to_l0)
{
	build();
	ck_assert(o.PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_EXT_INTR_EXITING);
	ck_assert(o.PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_NMI_EXITING);
}
END_TEST

/* libnest's NMI exiting would stop L2's IRET from unblocking NMIs (SDM
 * 26.3): for an L1 without NMI exiting, vmcs02 keeps L2's blocking by NMI
 * as virtual-NMI blocking, where the host has virtual NMIs. */
START_TEST(l2_of_an_l1_without_nmi_exiting_runs_with_virtual_nmis)
{
	l0.host_vnmi = true;
	v.GUEST_INTERRUPTIBILITY_INFO = NEST_VMX_INTERRUPTIBILITY_NMI;
	build();
	ck_assert(o.PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_VIRTUAL_NMIS);
	ck_assert(o.PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_NMI_EXITING);
	ck_assert_uint_eq(o.GUEST_INTERRUPTIBILITY_INFO & NEST_VMX_INTERRUPTIBILITY_NMI,
			  NEST_VMX_INTERRUPTIBILITY_NMI);

	l0.host_vnmi = false;
	build();
	ck_assert(!(o.PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_VIRTUAL_NMIS));
}
END_TEST

/* L1's own NMI exiting without virtual NMIs is L1's NMI semantics (IRET
 * leaves NMIs blocked): kept as L1 set it. */
START_TEST(l1s_nmi_exiting_without_virtual_nmis_is_kept)
{
	l0.host_vnmi = true;
	v.PIN_BASED_VM_EXEC_CONTROL = NEST_VMX_PIN_NMI_EXITING;
	build();
	ck_assert(!(o.PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_VIRTUAL_NMIS));
}
END_TEST

/* An NMI injected while vmcs12 (without virtual NMIs) says NMIs are
 * blocked is valid for L1; vmcs02 with virtual NMIs would fail the entry
 * (SDM 27.3.1.5), so the bit goes: the delivery sets it again. */
START_TEST(nmi_injected_over_blocking_by_nmi_stays_a_valid_vmcs02)
{
	l0.host_vnmi = true;
	v.GUEST_INTERRUPTIBILITY_INFO = NEST_VMX_INTERRUPTIBILITY_NMI;
	v.VM_ENTRY_INTR_INFO_FIELD = NEST_VMX_INTR_INFO_VALID |
				     (NEST_VMX_INTR_TYPE_NMI << NEST_VMX_INTR_INFO_TYPE_SHIFT) | 2;
	build();
	ck_assert(o.PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_VIRTUAL_NMIS);
	ck_assert_uint_eq(o.GUEST_INTERRUPTIBILITY_INFO & NEST_VMX_INTERRUPTIBILITY_NMI, 0);
	ck_assert_uint_eq(o.VM_ENTRY_INTR_INFO_FIELD, v.VM_ENTRY_INTR_INFO_FIELD);
}
END_TEST

START_TEST(l1_exits_are_ored_in)
{
	v.CPU_BASED_VM_EXEC_CONTROL =
	    NEST_VMX_PROC_RDTSC_EXITING | NEST_VMX_PROC_ACTIVATE_SECONDARY;
	v.SECONDARY_VM_EXEC_CONTROL = NEST_VMX_PROC2_DESC_TABLE_EXITING;
	build();
	ck_assert(o.CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_RDTSC_EXITING);
	ck_assert(o.SECONDARY_VM_EXEC_CONTROL & NEST_VMX_PROC2_DESC_TABLE_EXITING);
}
END_TEST

START_TEST(bitmaps_are_always_libnest_pages_never_l1_addresses)
{
	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_UNCOND_IO_EXITING;
	v.MSR_BITMAP = 0x5000;
	v.IO_BITMAP_A = 0x6000;
	build();
	ck_assert(o.CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_USE_MSR_BITMAPS);
	ck_assert(o.CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_USE_IO_BITMAPS);
	ck_assert(!(o.CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_UNCOND_IO_EXITING));
	ck_assert_uint_eq(o.MSR_BITMAP, pg.msr_bitmap);
	ck_assert_uint_eq(o.IO_BITMAP_A, pg.io_bitmap_a);
	ck_assert_uint_eq(o.IO_BITMAP_B, pg.io_bitmap_b);
}
END_TEST

START_TEST(l1_features_naming_untranslated_addresses_never_leak)
{
	v.PIN_BASED_VM_EXEC_CONTROL = NEST_VMX_PIN_POSTED_INTR;
	v.CPU_BASED_VM_EXEC_CONTROL =
	    NEST_VMX_PROC_ACTIVATE_SECONDARY | NEST_VMX_PROC_ACTIVATE_TERTIARY;
	v.SECONDARY_VM_EXEC_CONTROL = NEST_VMX_PROC2_ENABLE_PML | NEST_VMX_PROC2_ENABLE_VMFUNC |
				      NEST_VMX_PROC2_VMCS_SHADOWING |
				      NEST_VMX_PROC2_EPT_VIOLATION_VE;
	v.PML_ADDRESS = 0x7000;
	v.POSTED_INTR_DESC_ADDR = 0x8000;
	v.VM_FUNCTION_CONTROL = 1;
	v.EPTP_LIST_ADDRESS = 0x9000;
	build();
	ck_assert(!(o.PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_POSTED_INTR));
	ck_assert(!(o.CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_ACTIVATE_TERTIARY));
	ck_assert_uint_eq(o.SECONDARY_VM_EXEC_CONTROL &
			      (NEST_VMX_PROC2_ENABLE_PML | NEST_VMX_PROC2_VMCS_SHADOWING |
			       NEST_VMX_PROC2_EPT_VIOLATION_VE),
			  0);
	/* VM functions: enabled with no function, so L2's VMFUNC exits to L0
	 * (vmfunc.c runs L1's EPTP list). */
	ck_assert(o.SECONDARY_VM_EXEC_CONTROL & NEST_VMX_PROC2_ENABLE_VMFUNC);
	ck_assert_uint_eq(o.VM_FUNCTION_CONTROL, 0);
	ck_assert_uint_eq(o.EPTP_LIST_ADDRESS, 0);
	ck_assert_uint_eq(o.PML_ADDRESS, 0);
	ck_assert_uint_eq(o.POSTED_INTR_DESC_ADDR, 0);
}
END_TEST

START_TEST(host_state_comes_from_vmcs01_never_from_vmcs12)
{
	v.HOST_RIP = 0xbad;
	v.HOST_CR3 = 0xbad000;
	v.HOST_IA32_EFER = 0xbad;
	l0.host.HOST_RIP = 0xffffffff81000000ull;
	l0.host.HOST_CR3 = 0x1000;
	build();
	ck_assert_uint_eq(o.HOST_RIP, 0xffffffff81000000ull);
	ck_assert_uint_eq(o.HOST_CR3, 0x1000);
	ck_assert_uint_eq(o.HOST_IA32_EFER, 0);
}
END_TEST

START_TEST(exit_controls_are_l0s_plus_the_save_controls)
{
	v.VM_EXIT_CONTROLS = NEST_VMX_EXIT_CTL_LOAD_EFER | NEST_VMX_EXIT_CTL_ACK_INTR_ON_EXIT;
	l0.pub.exit_ctls = NEST_VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE;
	build();
	ck_assert_uint_eq(o.VM_EXIT_CONTROLS,
			  NEST_VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE | NEST_VMX_EXIT_CTL_SAVE_PAT |
			      NEST_VMX_EXIT_CTL_SAVE_EFER | NEST_VMX_EXIT_CTL_SAVE_DEBUG_CONTROLS);
}
END_TEST

START_TEST(exception_bitmaps_are_ored)
{
	v.EXCEPTION_BITMAP = 1u << X86_EXC_UD;
	l0.pub.exception_bitmap = 1u << X86_EXC_MC;
	build();
	ck_assert_uint_eq(o.EXCEPTION_BITMAP, (1u << X86_EXC_UD) | (1u << X86_EXC_MC));
}
END_TEST

START_TEST(l0_page_fault_intercept_forces_every_page_fault_to_exit)
{
	v.PAGE_FAULT_ERROR_CODE_MASK = X86_PFEC_W;
	v.PAGE_FAULT_ERROR_CODE_MATCH = X86_PFEC_W;
	l0.pub.exception_bitmap = 1u << X86_EXC_PF;
	build();
	ck_assert(o.EXCEPTION_BITMAP & (1u << X86_EXC_PF));
	ck_assert_uint_eq(o.PAGE_FAULT_ERROR_CODE_MASK, 0);
	ck_assert_uint_eq(o.PAGE_FAULT_ERROR_CODE_MATCH, 0);
}
END_TEST

START_TEST(l1_page_fault_mask_match_used_when_l0_does_not_intercept)
{
	v.EXCEPTION_BITMAP = 1u << X86_EXC_PF;
	v.PAGE_FAULT_ERROR_CODE_MASK = X86_PFEC_W;
	v.PAGE_FAULT_ERROR_CODE_MATCH = X86_PFEC_W;
	build();
	ck_assert_uint_eq(o.PAGE_FAULT_ERROR_CODE_MASK, X86_PFEC_W);
	ck_assert_uint_eq(o.PAGE_FAULT_ERROR_CODE_MATCH, X86_PFEC_W);
}
END_TEST

START_TEST(cr_masks_are_ored_and_l0_only_bits_read_as_l2s_value)
{
	v.CR0_GUEST_HOST_MASK = X86_CR0_PG;
	v.CR0_READ_SHADOW = X86_CR0_PG;
	v.GUEST_CR0 = X86_CR0_PE | X86_CR0_NE | X86_CR0_TS;
	l0.pub.cr0_mask = X86_CR0_TS | X86_CR0_NE;
	build();
	ck_assert_uint_eq(o.CR0_GUEST_HOST_MASK, X86_CR0_PG | X86_CR0_TS | X86_CR0_NE);
	ck_assert_uint_eq(o.CR0_READ_SHADOW, X86_CR0_PG | X86_CR0_PE | X86_CR0_NE | X86_CR0_TS);
}
END_TEST

START_TEST(cr3_targets_dropped_when_l0_needs_cr3_loads)
{
	v.CR3_TARGET_COUNT = 1;
	v.CR3_TARGET_VALUE0 = 0x3000;
	build();
	ck_assert_uint_eq(o.CR3_TARGET_COUNT, 1);
	l0.pub.proc = NEST_VMX_PROC_CR3_LOAD_EXITING;
	build();
	ck_assert_uint_eq(o.CR3_TARGET_COUNT, 0);
}
END_TEST

START_TEST(tsc_offsets_add_without_scaling)
{
	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_USE_TSC_OFFSETTING;
	v.TSC_OFFSET = (uint64_t)-1000;
	l0.pub.tsc_offset = 5000;
	build();
	ck_assert_uint_eq(o.TSC_OFFSET, 4000);
	ck_assert(o.CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_USE_TSC_OFFSETTING);
	ck_assert(!(o.SECONDARY_VM_EXEC_CONTROL & NEST_VMX_PROC2_USE_TSC_SCALING));
}
END_TEST

START_TEST(tsc_offset_of_l1_ignored_without_its_offsetting_control)
{
	v.TSC_OFFSET = 1234;
	l0.pub.tsc_offset = 10;
	build();
	ck_assert_uint_eq(o.TSC_OFFSET, 10);
}
END_TEST

START_TEST(tsc_multipliers_compose)
{
	v.CPU_BASED_VM_EXEC_CONTROL =
	    NEST_VMX_PROC_USE_TSC_OFFSETTING | NEST_VMX_PROC_ACTIVATE_SECONDARY;
	v.SECONDARY_VM_EXEC_CONTROL = NEST_VMX_PROC2_USE_TSC_SCALING;
	v.TSC_MULTIPLIER = 1ull << 47; /* x 0.5 */
	v.TSC_OFFSET = 7;
	l0.pub.tsc_multiplier = 3ull << 48; /* x 3 */
	l0.pub.tsc_offset = 100;
	build();
	/* L2 = ((h * 3 + 100) * 0.5) + 7 = h * 1.5 + 57 */
	ck_assert_uint_eq(o.TSC_MULTIPLIER, 3ull << 47);
	ck_assert_uint_eq(o.TSC_OFFSET, 57);
	ck_assert(o.SECONDARY_VM_EXEC_CONTROL & NEST_VMX_PROC2_USE_TSC_SCALING);
}
END_TEST

START_TEST(negative_l0_offset_scales_as_signed)
{
	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_ACTIVATE_SECONDARY;
	v.SECONDARY_VM_EXEC_CONTROL = NEST_VMX_PROC2_USE_TSC_SCALING;
	v.TSC_MULTIPLIER = 2ull << 48;
	l0.pub.tsc_offset = (uint64_t)-50;
	build();
	ck_assert_uint_eq(o.TSC_OFFSET, (uint64_t)-100);
}
END_TEST

START_TEST(vpid12_maps_to_l0s_vpid02)
{
	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_ACTIVATE_SECONDARY;
	v.SECONDARY_VM_EXEC_CONTROL = NEST_VMX_PROC2_ENABLE_VPID;
	v.VIRTUAL_PROCESSOR_ID = 7;
	l0.pub.vpid02 = 42;
	build();
	ck_assert_uint_eq(o.VIRTUAL_PROCESSOR_ID, 42);
	ck_assert(o.SECONDARY_VM_EXEC_CONTROL & NEST_VMX_PROC2_ENABLE_VPID);
}
END_TEST

START_TEST(vpid_disabled_without_a_vpid02)
{
	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_ACTIVATE_SECONDARY;
	v.SECONDARY_VM_EXEC_CONTROL = NEST_VMX_PROC2_ENABLE_VPID;
	v.VIRTUAL_PROCESSOR_ID = 7;
	build();
	ck_assert(!(o.SECONDARY_VM_EXEC_CONTROL & NEST_VMX_PROC2_ENABLE_VPID));
	ck_assert_uint_eq(o.VIRTUAL_PROCESSOR_ID, 0);
}
END_TEST

START_TEST(l1_without_ept_runs_on_ept01)
{
	l0.pub.proc2 = NEST_VMX_PROC2_ENABLE_EPT;
	l0.pub.eptp01 = 0xabc01e;
	build();
	ck_assert_uint_eq(o.EPT_POINTER, 0xabc01e);
	ck_assert(o.SECONDARY_VM_EXEC_CONTROL & NEST_VMX_PROC2_ENABLE_EPT);
}
END_TEST

START_TEST(l1_with_ept_runs_on_the_shadow_ept02)
{
	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_ACTIVATE_SECONDARY;
	v.SECONDARY_VM_EXEC_CONTROL = NEST_VMX_PROC2_ENABLE_EPT;
	v.EPT_POINTER = 0x5000 | VMX_EPTP_PWL_4 | VMX_EPTP_MEMTYPE_WB;
	l0.pub.proc2 = NEST_VMX_PROC2_ENABLE_EPT;
	l0.pub.eptp01 = 0xabc01e;
	pg.eptp02 = 0x200000009000ull | VMX_EPTP_PWL_4 | VMX_EPTP_MEMTYPE_WB;
	build();
	ck_assert_uint_eq(o.EPT_POINTER, pg.eptp02);
}
END_TEST

START_TEST(smaller_preemption_timer_wins)
{
	v.PIN_BASED_VM_EXEC_CONTROL = NEST_VMX_PIN_PREEMPTION_TIMER;
	v.VMX_PREEMPTION_TIMER_VALUE = 500;
	l0.pub.pin = NEST_VMX_PIN_PREEMPTION_TIMER;
	l0.pub.preemption_timer = 100;
	build();
	ck_assert_uint_eq(o.VMX_PREEMPTION_TIMER_VALUE, 100);
	ck_assert(o.VM_EXIT_CONTROLS & NEST_VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER);
	l0.pub.preemption_timer = 1000;
	build();
	ck_assert_uint_eq(o.VMX_PREEMPTION_TIMER_VALUE, 500);
}
END_TEST

START_TEST(event_injection_comes_from_vmcs12)
{
	v.VM_ENTRY_INTR_INFO_FIELD = NEST_VMX_INTR_INFO_VALID | 0x30;
	v.VM_ENTRY_EXCEPTION_ERROR_CODE = 5;
	v.VM_ENTRY_INSTRUCTION_LEN = 2;
	build();
	ck_assert_uint_eq(o.VM_ENTRY_INTR_INFO_FIELD, NEST_VMX_INTR_INFO_VALID | 0x30);
	ck_assert_uint_eq(o.VM_ENTRY_EXCEPTION_ERROR_CODE, 5);
	ck_assert_uint_eq(o.VM_ENTRY_INSTRUCTION_LEN, 2);
}
END_TEST

START_TEST(l1_msr_load_area_never_reaches_the_hardware_list)
{
	v.VM_ENTRY_MSR_LOAD_ADDR = 0x9000;
	v.VM_ENTRY_MSR_LOAD_COUNT = 3;
	v.VM_EXIT_MSR_LOAD_ADDR = 0xa000;
	v.VM_EXIT_MSR_LOAD_COUNT = 3;
	build();
	ck_assert_uint_eq(o.VM_ENTRY_MSR_LOAD_COUNT, 0);
	ck_assert_uint_eq(o.VM_EXIT_MSR_LOAD_COUNT, 0);
	ck_assert_uint_eq(o.VM_ENTRY_MSR_LOAD_ADDR, 0);
}
END_TEST

START_TEST(efer_pat_debugctl_inherited_from_l1_when_not_loaded)
{
	v.VM_ENTRY_CONTROLS = NEST_VMX_ENTRY_CTL_IA32E_MODE_GUEST;
	v.GUEST_IA32_EFER = 0xdead;
	l1.efer = X86_EFER_SCE | X86_EFER_NXE;
	l1.pat = 0x0007040600070406ull;
	l1.debugctl = 1;
	l1.dr7 = 0x401;
	build();
	ck_assert_uint_eq(o.GUEST_IA32_EFER,
			  X86_EFER_SCE | X86_EFER_NXE | X86_EFER_LMA | X86_EFER_LME);
	ck_assert_uint_eq(o.GUEST_IA32_PAT, l1.pat);
	ck_assert_uint_eq(o.GUEST_IA32_DEBUGCTL, 1);
	ck_assert_uint_eq(o.GUEST_DR7, 0x401);
	ck_assert(o.VM_ENTRY_CONTROLS & NEST_VMX_ENTRY_CTL_LOAD_EFER);
	ck_assert(o.VM_ENTRY_CONTROLS & NEST_VMX_ENTRY_CTL_IA32E_MODE_GUEST);
}
END_TEST

START_TEST(guest_state_copied_and_link_pointer_invalid)
{
	v.GUEST_RIP = 0x1234;
	v.GUEST_CS_AR_BYTES = 0xa09b;
	v.VMCS_LINK_POINTER = 0x5000;
	build();
	ck_assert_uint_eq(o.GUEST_RIP, 0x1234);
	ck_assert_uint_eq(o.GUEST_CS_AR_BYTES, 0xa09b);
	ck_assert_uint_eq(o.VMCS_LINK_POINTER, UINT64_MAX);
}
END_TEST

START_TEST(msr_bitmap_merge_passes_only_what_both_pass)
{
	static uint8_t a[4096], b[4096], out[4096];

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	a[10] = 0x0f;
	b[10] = 0xf0;
	b[11] = 0x01;
	nest__vmx_merge_msr_bitmap(out, a, b);
	ck_assert_uint_eq(out[10], 0xff);
	ck_assert_uint_eq(out[11], 0x01);
	ck_assert_uint_eq(out[12], 0);
}
END_TEST

START_TEST(msr_bitmap_merge_without_l1_bitmap_intercepts_all)
{
	static uint8_t a[4096], out[4096];
	unsigned i;

	memset(a, 0, sizeof(a));
	nest__vmx_merge_msr_bitmap(out, a, NULL);
	for (i = 0; i < sizeof(out); i++)
		ck_assert_uint_eq(out[i], 0xff);
}
END_TEST

START_TEST(io_bitmap_merge_follows_l1_unconditional_exiting)
{
	static uint8_t out[8192];

	nest__vmx_merge_io_bitmap(out, out + 4096, NULL, false, NULL, true);
	ck_assert_uint_eq(out[0], 0xff);
	ck_assert_uint_eq(out[8191], 0xff);
	nest__vmx_merge_io_bitmap(out, out + 4096, NULL, false, NULL, false);
	ck_assert_uint_eq(out[0], 0);
}
END_TEST

static Suite *vmcs02_suite(void)
{
	Suite *s = suite_create("vmx_vmcs02");
	TCase *t = tcase_create("merge");

	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, l0_required_exits_survive_l1_clearing_them);
	tcase_add_test(t, external_interrupts_and_nmis_always_exit_to_l0);
	tcase_add_test(t, l1_exits_are_ored_in);
	tcase_add_test(t, l2_of_an_l1_without_nmi_exiting_runs_with_virtual_nmis);
	tcase_add_test(t, l1s_nmi_exiting_without_virtual_nmis_is_kept);
	tcase_add_test(t, nmi_injected_over_blocking_by_nmi_stays_a_valid_vmcs02);
	tcase_add_test(t, bitmaps_are_always_libnest_pages_never_l1_addresses);
	tcase_add_test(t, l1_features_naming_untranslated_addresses_never_leak);
	tcase_add_test(t, host_state_comes_from_vmcs01_never_from_vmcs12);
	tcase_add_test(t, exit_controls_are_l0s_plus_the_save_controls);
	tcase_add_test(t, exception_bitmaps_are_ored);
	tcase_add_test(t, l0_page_fault_intercept_forces_every_page_fault_to_exit);
	tcase_add_test(t, l1_page_fault_mask_match_used_when_l0_does_not_intercept);
	tcase_add_test(t, cr_masks_are_ored_and_l0_only_bits_read_as_l2s_value);
	tcase_add_test(t, cr3_targets_dropped_when_l0_needs_cr3_loads);
	tcase_add_test(t, tsc_offsets_add_without_scaling);
	tcase_add_test(t, tsc_offset_of_l1_ignored_without_its_offsetting_control);
	tcase_add_test(t, tsc_multipliers_compose);
	tcase_add_test(t, negative_l0_offset_scales_as_signed);
	tcase_add_test(t, vpid12_maps_to_l0s_vpid02);
	tcase_add_test(t, vpid_disabled_without_a_vpid02);
	tcase_add_test(t, l1_without_ept_runs_on_ept01);
	tcase_add_test(t, l1_with_ept_runs_on_the_shadow_ept02);
	tcase_add_test(t, smaller_preemption_timer_wins);
	tcase_add_test(t, event_injection_comes_from_vmcs12);
	tcase_add_test(t, l1_msr_load_area_never_reaches_the_hardware_list);
	tcase_add_test(t, efer_pat_debugctl_inherited_from_l1_when_not_loaded);
	tcase_add_test(t, guest_state_copied_and_link_pointer_invalid);
	tcase_add_test(t, msr_bitmap_merge_passes_only_what_both_pass);
	tcase_add_test(t, msr_bitmap_merge_without_l1_bitmap_intercepts_all);
	tcase_add_test(t, io_bitmap_merge_follows_l1_unconditional_exiting);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return nest_test_run(vmcs02_suite());
}
