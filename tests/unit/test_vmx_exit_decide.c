/* SPDX-License-Identifier: MIT */
/* Unit tests of the exit decision (arch/x86/vmx/decide.c): which of
 * L0 and L1 an exit of L2 belongs to, SDM 26.1 and 26.2. */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "cpu/x86.h"
#include "vmx/decide.h"
#include "vmx/vmx_arch.h"

static struct nest__vmcs12 v;
static struct nest__vmx_l2_exit e;
static struct nest__vmx_l1_bitmaps bm;

static void setup(void)
{
	memset(&v, 0, sizeof(v));
	memset(&e, 0, sizeof(e));
	memset(&bm, 0, sizeof(bm));
}

static enum nest__vmx_owner owner(uint32_t reason)
{
	e.reason = reason;
	return nest__vmx_exit_owner(&v, &e, &bm);
}

static void set_bit(uint8_t *b, unsigned n)
{
	b[n / 8] |= (uint8_t)(1u << (n % 8));
}

/* ---- unconditional exits ---- */

START_TEST(cpuid_always_goes_to_l1)
{
	ck_assert_int_eq(owner(NEST_VMX_EXIT_CPUID), NEST__VMX_OWNER_L1);
}
END_TEST

START_TEST(triple_fault_always_goes_to_l1)
{
	ck_assert_int_eq(owner(NEST_VMX_EXIT_TRIPLE_FAULT), NEST__VMX_OWNER_L1);
}
END_TEST

START_TEST(vmx_instructions_of_l2_go_to_l1)
{
	static const uint32_t r[] = {
	    NEST_VMX_EXIT_VMCALL,   NEST_VMX_EXIT_VMCLEAR, NEST_VMX_EXIT_VMLAUNCH,
	    NEST_VMX_EXIT_VMPTRLD,  NEST_VMX_EXIT_VMPTRST, NEST_VMX_EXIT_VMREAD,
	    NEST_VMX_EXIT_VMRESUME, NEST_VMX_EXIT_VMWRITE, NEST_VMX_EXIT_VMXOFF,
	    NEST_VMX_EXIT_VMXON,    NEST_VMX_EXIT_INVEPT,  NEST_VMX_EXIT_INVVPID};
	unsigned i;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		ck_assert_int_eq(owner(r[i]), NEST__VMX_OWNER_L1);
}
END_TEST

START_TEST(entry_failure_goes_to_l1)
{
	ck_assert_int_eq(
	    owner(NEST_VMX_EXIT_INVALID_GUEST_STATE | NEST_VMX_EXIT_REASON_ENTRY_FAILURE),
	    NEST__VMX_OWNER_L1);
}
END_TEST

START_TEST(unknown_reason_stays_with_l0)
{
	ck_assert_int_eq(owner(200), NEST__VMX_OWNER_L0);
	ck_assert_int_eq(owner(35), NEST__VMX_OWNER_L0);
}
END_TEST

/* ---- L0's own ---- */

START_TEST(external_interrupt_belongs_to_l0_even_with_l1_exiting)
{
	v.PIN_BASED_VM_EXEC_CONTROL = NEST_VMX_PIN_EXT_INTR_EXITING;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_EXTERNAL_INTERRUPT), NEST__VMX_OWNER_L0);
}
END_TEST

START_TEST(hardware_nmi_belongs_to_l0)
{
	v.PIN_BASED_VM_EXEC_CONTROL = NEST_VMX_PIN_NMI_EXITING;
	v.EXCEPTION_BITMAP = 0xffffffffu;
	e.intr_info = NEST_VMX_INTR_INFO_VALID |
		      (NEST_VMX_INTR_TYPE_NMI << NEST_VMX_INTR_INFO_TYPE_SHIFT) | 2;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_EXCEPTION_NMI), NEST__VMX_OWNER_L0);
}
END_TEST

START_TEST(machine_check_belongs_to_l0)
{
	v.EXCEPTION_BITMAP = 1u << X86_EXC_MC;
	e.intr_info = NEST_VMX_INTR_INFO_VALID |
		      (NEST_VMX_INTR_TYPE_HW_EXCEPTION << NEST_VMX_INTR_INFO_TYPE_SHIFT) |
		      X86_EXC_MC;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_EXCEPTION_NMI), NEST__VMX_OWNER_L0);
}
END_TEST

START_TEST(hardware_init_and_sipi_belong_to_l0)
{
	ck_assert_int_eq(owner(NEST_VMX_EXIT_INIT_SIGNAL), NEST__VMX_OWNER_L0);
	ck_assert_int_eq(owner(NEST_VMX_EXIT_SIPI), NEST__VMX_OWNER_L0);
}
END_TEST

/* ---- control bits ---- */

START_TEST(hlt_follows_hlt_exiting)
{
	ck_assert_int_eq(owner(NEST_VMX_EXIT_HLT), NEST__VMX_OWNER_L0);
	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_HLT_EXITING;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_HLT), NEST__VMX_OWNER_L1);
}
END_TEST

START_TEST(secondary_control_counts_only_when_activated)
{
	v.SECONDARY_VM_EXEC_CONTROL = NEST_VMX_PROC2_WBINVD_EXITING;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_WBINVD), NEST__VMX_OWNER_L0);
	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_ACTIVATE_SECONDARY;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_WBINVD), NEST__VMX_OWNER_L1);
}
END_TEST

START_TEST(rdtscp_needs_rdtsc_exiting_and_enable_rdtscp)
{
	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_RDTSC_EXITING;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_RDTSCP), NEST__VMX_OWNER_L0);
	v.CPU_BASED_VM_EXEC_CONTROL |= NEST_VMX_PROC_ACTIVATE_SECONDARY;
	v.SECONDARY_VM_EXEC_CONTROL = NEST_VMX_PROC2_ENABLE_RDTSCP;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_RDTSCP), NEST__VMX_OWNER_L1);
}
END_TEST

START_TEST(pause_follows_pause_exiting_or_ple)
{
	ck_assert_int_eq(owner(NEST_VMX_EXIT_PAUSE), NEST__VMX_OWNER_L0);
	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_ACTIVATE_SECONDARY;
	v.SECONDARY_VM_EXEC_CONTROL = NEST_VMX_PROC2_PAUSE_LOOP_EXITING;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_PAUSE), NEST__VMX_OWNER_L1);
}
END_TEST

START_TEST(preemption_timer_goes_to_l1_only_when_its_timer_fired)
{
	v.PIN_BASED_VM_EXEC_CONTROL = NEST_VMX_PIN_PREEMPTION_TIMER;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_PREEMPTION_TIMER), NEST__VMX_OWNER_L0);
	e.l1_timer_fired = true;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_PREEMPTION_TIMER), NEST__VMX_OWNER_L1);
}
END_TEST

START_TEST(interrupt_window_follows_l1_control)
{
	ck_assert_int_eq(owner(NEST_VMX_EXIT_INTERRUPT_WINDOW), NEST__VMX_OWNER_L0);
	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_INTR_WINDOW_EXITING;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_INTERRUPT_WINDOW), NEST__VMX_OWNER_L1);
}
END_TEST

/* ---- MSR bitmaps (SDM 26.6.9) ---- */

START_TEST(msr_without_bitmaps_always_exits_to_l1)
{
	e.gpr[1] = 0x10;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_MSR_READ), NEST__VMX_OWNER_L1);
}
END_TEST

START_TEST(msr_bitmap_quarters_are_read_low_read_high_write_low_write_high)
{
	uint8_t b[4096];

	memset(b, 0, sizeof(b));
	set_bit(b, 0x10);	  /* read 0x10 */
	set_bit(b + 1024, 0x80);  /* read 0xc0000080 */
	set_bit(b + 2048, 0x1d9); /* write 0x1d9 */
	set_bit(b + 3072, 0x102); /* write 0xc0000102 */
	ck_assert(nest__vmx_msr_bitmap_exits(b, 0x10, false));
	ck_assert(!nest__vmx_msr_bitmap_exits(b, 0x10, true));
	ck_assert(nest__vmx_msr_bitmap_exits(b, 0xc0000080u, false));
	ck_assert(!nest__vmx_msr_bitmap_exits(b, 0xc0000080u, true));
	ck_assert(nest__vmx_msr_bitmap_exits(b, 0x1d9, true));
	ck_assert(!nest__vmx_msr_bitmap_exits(b, 0x1d9, false));
	ck_assert(nest__vmx_msr_bitmap_exits(b, 0xc0000102u, true));
	ck_assert(!nest__vmx_msr_bitmap_exits(b, 0xc0000102u, false));
}
END_TEST

START_TEST(msr_outside_both_ranges_always_exits)
{
	uint8_t b[4096];

	memset(b, 0, sizeof(b));
	ck_assert(nest__vmx_msr_bitmap_exits(b, 0x2000, false));
	ck_assert(nest__vmx_msr_bitmap_exits(b, 0xbfffffffu, true));
	ck_assert(nest__vmx_msr_bitmap_exits(b, 0xc0002000u, false));
	ck_assert(!nest__vmx_msr_bitmap_exits(b, 0x1fff, false));
	ck_assert(!nest__vmx_msr_bitmap_exits(b, 0xc0001fffu, true));
}
END_TEST

START_TEST(msr_with_bitmap_clear_stays_with_l0)
{
	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_USE_MSR_BITMAPS;
	bm.msr_valid = true;
	e.gpr[1] = 0xffffffff00000010ull; /* only ECX counts */
	ck_assert_int_eq(owner(NEST_VMX_EXIT_MSR_WRITE), NEST__VMX_OWNER_L0);
	set_bit(bm.msr + 2048, 0x10);
	ck_assert_int_eq(owner(NEST_VMX_EXIT_MSR_WRITE), NEST__VMX_OWNER_L1);
}
END_TEST

/* ---- I/O (SDM 26.1.3) ---- */

#define IOQ(port, size) (((uint64_t)(port) << 16) | ((size)-1u))

START_TEST(io_without_controls_stays_with_l0)
{
	e.qual = IOQ(0x80, 1);
	ck_assert_int_eq(owner(NEST_VMX_EXIT_IO_INSTRUCTION), NEST__VMX_OWNER_L0);
}
END_TEST

START_TEST(io_unconditional_exiting_goes_to_l1)
{
	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_UNCOND_IO_EXITING;
	e.qual = IOQ(0x80, 1);
	ck_assert_int_eq(owner(NEST_VMX_EXIT_IO_INSTRUCTION), NEST__VMX_OWNER_L1);
}
END_TEST

START_TEST(io_bitmaps_override_unconditional_exiting)
{
	v.CPU_BASED_VM_EXEC_CONTROL =
	    NEST_VMX_PROC_UNCOND_IO_EXITING | NEST_VMX_PROC_USE_IO_BITMAPS;
	bm.io_valid = true;
	e.qual = IOQ(0x80, 1);
	ck_assert_int_eq(owner(NEST_VMX_EXIT_IO_INSTRUCTION), NEST__VMX_OWNER_L0);
}
END_TEST

START_TEST(io_bitmap_checks_every_byte_accessed)
{
	uint8_t b[8192];

	memset(b, 0, sizeof(b));
	set_bit(b, 0x7fff + 1); /* port 0x8000: first bit of bitmap B */
	ck_assert(!nest__vmx_io_bitmap_exits(b, 0x7ffc, 4));
	ck_assert(nest__vmx_io_bitmap_exits(b, 0x7ffe, 4));
	ck_assert(nest__vmx_io_bitmap_exits(b, 0x7fff, 2));
	ck_assert(!nest__vmx_io_bitmap_exits(b, 0x7fff, 1));
}
END_TEST

START_TEST(io_access_wrapping_past_ffff_exits)
{
	uint8_t b[8192];

	memset(b, 0, sizeof(b));
	ck_assert(nest__vmx_io_bitmap_exits(b, 0xffff, 2));
	ck_assert(nest__vmx_io_bitmap_exits(b, 0xfffe, 4));
	ck_assert(!nest__vmx_io_bitmap_exits(b, 0xfffc, 4));
}
END_TEST

/* ---- CR accesses (SDM 26.1.3) ---- */

#define CRQ(cr, type, gpr) ((uint64_t)(cr) | ((uint64_t)(type) << 4) | ((uint64_t)(gpr) << 8))

START_TEST(mov_to_cr0_exits_only_when_an_owned_bit_differs_from_shadow)
{
	uint64_t g[16] = {0};

	v.CR0_GUEST_HOST_MASK = X86_CR0_PG;
	v.CR0_READ_SHADOW = X86_CR0_PG;
	g[3] = X86_CR0_PG | X86_CR0_TS; /* TS not owned */
	ck_assert(!nest__vmx_cr_access_exits(&v, CRQ(0, 0, 3), g));
	g[3] = X86_CR0_TS;
	ck_assert(nest__vmx_cr_access_exits(&v, CRQ(0, 0, 3), g));
}
END_TEST

START_TEST(mov_to_cr4_exits_only_when_an_owned_bit_differs_from_shadow)
{
	uint64_t g[16] = {0};

	v.CR4_GUEST_HOST_MASK = X86_CR4_VMXE;
	g[0] = X86_CR4_PAE;
	ck_assert(!nest__vmx_cr_access_exits(&v, CRQ(4, 0, 0), g));
	g[0] = X86_CR4_VMXE;
	ck_assert(nest__vmx_cr_access_exits(&v, CRQ(4, 0, 0), g));
}
END_TEST

START_TEST(mov_to_cr3_matching_a_target_value_does_not_exit)
{
	uint64_t g[16] = {0};

	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_CR3_LOAD_EXITING;
	v.CR3_TARGET_COUNT = 2;
	v.CR3_TARGET_VALUE1 = 0x5000;
	v.CR3_TARGET_VALUE2 = 0x6000; /* beyond the count */
	g[2] = 0x5000;
	ck_assert(!nest__vmx_cr_access_exits(&v, CRQ(3, 0, 2), g));
	g[2] = 0x6000;
	ck_assert(nest__vmx_cr_access_exits(&v, CRQ(3, 0, 2), g));
}
END_TEST

START_TEST(mov_to_cr3_without_load_exiting_does_not_exit)
{
	uint64_t g[16] = {0};

	g[2] = 0x1000;
	ck_assert(!nest__vmx_cr_access_exits(&v, CRQ(3, 0, 2), g));
}
END_TEST

START_TEST(mov_from_cr3_and_cr8_follow_store_exiting)
{
	uint64_t g[16] = {0};

	ck_assert(!nest__vmx_cr_access_exits(&v, CRQ(3, 1, 0), g));
	ck_assert(!nest__vmx_cr_access_exits(&v, CRQ(8, 1, 0), g));
	v.CPU_BASED_VM_EXEC_CONTROL =
	    NEST_VMX_PROC_CR3_STORE_EXITING | NEST_VMX_PROC_CR8_STORE_EXITING;
	ck_assert(nest__vmx_cr_access_exits(&v, CRQ(3, 1, 0), g));
	ck_assert(nest__vmx_cr_access_exits(&v, CRQ(8, 1, 0), g));
}
END_TEST

START_TEST(mov_to_cr8_follows_load_exiting)
{
	uint64_t g[16] = {0};

	ck_assert(!nest__vmx_cr_access_exits(&v, CRQ(8, 0, 0), g));
	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_CR8_LOAD_EXITING;
	ck_assert(nest__vmx_cr_access_exits(&v, CRQ(8, 0, 0), g));
}
END_TEST

START_TEST(clts_exits_when_ts_owned_and_shadow_ts_set)
{
	uint64_t g[16] = {0};

	v.CR0_GUEST_HOST_MASK = X86_CR0_TS;
	ck_assert(!nest__vmx_cr_access_exits(&v, CRQ(0, 2, 0), g));
	v.CR0_READ_SHADOW = X86_CR0_TS;
	ck_assert(nest__vmx_cr_access_exits(&v, CRQ(0, 2, 0), g));
}
END_TEST

START_TEST(lmsw_cannot_clear_pe_so_owned_pe_exits_only_when_setting_it)
{
	uint64_t g[16] = {0};
	uint64_t lmsw_pe = CRQ(0, 3, 0) | ((uint64_t)X86_CR0_PE << 16);
	uint64_t lmsw_0 = CRQ(0, 3, 0);

	v.CR0_GUEST_HOST_MASK = X86_CR0_PE;
	v.CR0_READ_SHADOW = X86_CR0_PE;
	ck_assert(!nest__vmx_cr_access_exits(&v, lmsw_0, g)); /* clearing PE: no effect */
	v.CR0_READ_SHADOW = 0;
	ck_assert(nest__vmx_cr_access_exits(&v, lmsw_pe, g));
	ck_assert(!nest__vmx_cr_access_exits(&v, lmsw_0, g));
}
END_TEST

START_TEST(lmsw_exits_on_owned_mp_em_ts_change)
{
	uint64_t g[16] = {0};

	v.CR0_GUEST_HOST_MASK = X86_CR0_EM;
	ck_assert(!nest__vmx_cr_access_exits(&v, CRQ(0, 3, 0) | ((uint64_t)X86_CR0_TS << 16), g));
	ck_assert(nest__vmx_cr_access_exits(&v, CRQ(0, 3, 0) | ((uint64_t)X86_CR0_EM << 16), g));
}
END_TEST

START_TEST(cr_access_reflects_through_the_decision)
{
	e.gpr[5] = X86_CR0_CD;
	v.CR0_GUEST_HOST_MASK = X86_CR0_CD;
	e.qual = CRQ(0, 0, 5);
	ck_assert_int_eq(owner(NEST_VMX_EXIT_CR_ACCESS), NEST__VMX_OWNER_L1);
	v.CR0_READ_SHADOW = X86_CR0_CD;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_CR_ACCESS), NEST__VMX_OWNER_L0);
}
END_TEST

/* ---- exceptions (SDM 26.2) ---- */

START_TEST(exception_follows_exception_bitmap)
{
	ck_assert(!nest__vmx_exception_exits(&v, X86_EXC_UD, 0));
	v.EXCEPTION_BITMAP = 1u << X86_EXC_UD;
	ck_assert(nest__vmx_exception_exits(&v, X86_EXC_UD, 0));
}
END_TEST

START_TEST(page_fault_with_bit14_set_exits_iff_pfec_matches)
{
	v.EXCEPTION_BITMAP = 1u << X86_EXC_PF;
	v.PAGE_FAULT_ERROR_CODE_MASK = X86_PFEC_W;
	v.PAGE_FAULT_ERROR_CODE_MATCH = X86_PFEC_W;
	ck_assert(nest__vmx_exception_exits(&v, X86_EXC_PF, X86_PFEC_W | X86_PFEC_P));
	ck_assert(!nest__vmx_exception_exits(&v, X86_EXC_PF, X86_PFEC_P));
}
END_TEST

START_TEST(page_fault_with_bit14_clear_exits_iff_pfec_does_not_match)
{
	v.PAGE_FAULT_ERROR_CODE_MASK = X86_PFEC_W;
	v.PAGE_FAULT_ERROR_CODE_MATCH = X86_PFEC_W;
	ck_assert(!nest__vmx_exception_exits(&v, X86_EXC_PF, X86_PFEC_W));
	ck_assert(nest__vmx_exception_exits(&v, X86_EXC_PF, 0));
}
END_TEST

START_TEST(exception_exit_goes_through_decision_with_error_code)
{
	v.EXCEPTION_BITMAP = 1u << X86_EXC_PF;
	e.intr_info = NEST_VMX_INTR_INFO_VALID |
		      (NEST_VMX_INTR_TYPE_HW_EXCEPTION << NEST_VMX_INTR_INFO_TYPE_SHIFT) |
		      NEST_VMX_INTR_INFO_DELIVER_ERROR_CODE | X86_EXC_PF;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_EXCEPTION_NMI), NEST__VMX_OWNER_L1);
	v.PAGE_FAULT_ERROR_CODE_MASK = X86_PFEC_U;
	v.PAGE_FAULT_ERROR_CODE_MATCH = X86_PFEC_U;
	e.intr_error = 0;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_EXCEPTION_NMI), NEST__VMX_OWNER_L0);
}
END_TEST

/* ---- EPT ---- */

START_TEST(ept_violation_without_ept12_is_an_ept01_fault_for_l0)
{
	ck_assert_int_eq(owner(NEST_VMX_EXIT_EPT_VIOLATION), NEST__VMX_OWNER_L0);
	ck_assert_int_eq(owner(NEST_VMX_EXIT_EPT_MISCONFIG), NEST__VMX_OWNER_L0);
}
END_TEST

START_TEST(ept_violation_with_ept12_goes_to_the_shadow)
{
	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_ACTIVATE_SECONDARY;
	v.SECONDARY_VM_EXEC_CONTROL = NEST_VMX_PROC2_ENABLE_EPT;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_EPT_VIOLATION), NEST__VMX_OWNER_TDP);
}
END_TEST

/* L1's PML is emulated (its PML-full exits come from the EPT02 fault
 * path): a PML-full exit of the processor is from L0's own log. */
START_TEST(pml_full_from_the_processor_is_l0s_even_with_l1_pml)
{
	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_ACTIVATE_SECONDARY;
	v.SECONDARY_VM_EXEC_CONTROL = NEST_VMX_PROC2_ENABLE_EPT | NEST_VMX_PROC2_ENABLE_PML;
	ck_assert_int_eq(owner(NEST_VMX_EXIT_PML_FULL), NEST__VMX_OWNER_L0);
}
END_TEST

static Suite *exit_decide_suite(void)
{
	Suite *s = suite_create("vmx_exit_decide");
	TCase *t = tcase_create("decide");

	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, cpuid_always_goes_to_l1);
	tcase_add_test(t, triple_fault_always_goes_to_l1);
	tcase_add_test(t, vmx_instructions_of_l2_go_to_l1);
	tcase_add_test(t, entry_failure_goes_to_l1);
	tcase_add_test(t, unknown_reason_stays_with_l0);
	tcase_add_test(t, external_interrupt_belongs_to_l0_even_with_l1_exiting);
	tcase_add_test(t, hardware_nmi_belongs_to_l0);
	tcase_add_test(t, machine_check_belongs_to_l0);
	tcase_add_test(t, hardware_init_and_sipi_belong_to_l0);
	tcase_add_test(t, hlt_follows_hlt_exiting);
	tcase_add_test(t, secondary_control_counts_only_when_activated);
	tcase_add_test(t, rdtscp_needs_rdtsc_exiting_and_enable_rdtscp);
	tcase_add_test(t, pause_follows_pause_exiting_or_ple);
	tcase_add_test(t, preemption_timer_goes_to_l1_only_when_its_timer_fired);
	tcase_add_test(t, interrupt_window_follows_l1_control);
	tcase_add_test(t, msr_without_bitmaps_always_exits_to_l1);
	tcase_add_test(t, msr_bitmap_quarters_are_read_low_read_high_write_low_write_high);
	tcase_add_test(t, msr_outside_both_ranges_always_exits);
	tcase_add_test(t, msr_with_bitmap_clear_stays_with_l0);
	tcase_add_test(t, io_without_controls_stays_with_l0);
	tcase_add_test(t, io_unconditional_exiting_goes_to_l1);
	tcase_add_test(t, io_bitmaps_override_unconditional_exiting);
	tcase_add_test(t, io_bitmap_checks_every_byte_accessed);
	tcase_add_test(t, io_access_wrapping_past_ffff_exits);
	tcase_add_test(t, mov_to_cr0_exits_only_when_an_owned_bit_differs_from_shadow);
	tcase_add_test(t, mov_to_cr4_exits_only_when_an_owned_bit_differs_from_shadow);
	tcase_add_test(t, mov_to_cr3_matching_a_target_value_does_not_exit);
	tcase_add_test(t, mov_to_cr3_without_load_exiting_does_not_exit);
	tcase_add_test(t, mov_from_cr3_and_cr8_follow_store_exiting);
	tcase_add_test(t, mov_to_cr8_follows_load_exiting);
	tcase_add_test(t, clts_exits_when_ts_owned_and_shadow_ts_set);
	tcase_add_test(t, lmsw_cannot_clear_pe_so_owned_pe_exits_only_when_setting_it);
	tcase_add_test(t, lmsw_exits_on_owned_mp_em_ts_change);
	tcase_add_test(t, cr_access_reflects_through_the_decision);
	tcase_add_test(t, exception_follows_exception_bitmap);
	tcase_add_test(t, page_fault_with_bit14_set_exits_iff_pfec_matches);
	tcase_add_test(t, page_fault_with_bit14_clear_exits_iff_pfec_does_not_match);
	tcase_add_test(t, exception_exit_goes_through_decision_with_error_code);
	tcase_add_test(t, ept_violation_without_ept12_is_an_ept01_fault_for_l0);
	tcase_add_test(t, ept_violation_with_ept12_goes_to_the_shadow);
	tcase_add_test(t, pml_full_from_the_processor_is_l0s_even_with_l1_pml);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return nest_test_run(exit_decide_suite());
}
