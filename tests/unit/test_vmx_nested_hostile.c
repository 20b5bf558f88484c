/* SPDX-License-Identifier: MIT */
/*
 * A hostile L1 against vmcs02 (issue #13): what L0 sets up for L1 itself
 * (its APIC virtualization, its pass-through MSRs, its I/O exiting) must
 * never become L2's, and vmcs02 must never let L2 reach hardware that L1
 * alone would not let it reach. Each test names the dangerous state it
 * rules out.
 */
#include "check_main.h"
#include "vmx_fixture.h"

#include "vmx/context.h"
#include "vmx/entry.h"
#include "vmx/reflect.h"
#include "vmx/shadow.h"
#include "vmx/sync.h"

#define X2APIC_TPR 0x808u
#define X2APIC_EOI 0x80bu
#define X2APIC_ICR 0x830u
#define X2APIC_SELF_IPI 0x83fu

static const uint8_t *merged_msr_bitmap(void)
{
	const uint8_t *b = sim_pool_hva(&N.s, v02(NEST_VMCS_MSR_BITMAP));

	ck_assert_ptr_nonnull(b);
	return b;
}

static bool intercepts(uint32_t msr, bool write)
{
	return nest__vmx_msr_bitmap_exits(merged_msr_bitmap(), msr, write);
}

/* L0 passes every MSR through for L1 (its APICv bitmap), L1 too for L2. */
static void pass_everything(void)
{
	memset(N.l0_msr_bitmap, 0, sizeof(N.l0_msr_bitmap));
	ck_assert_int_eq(nest_vmx_set_l0(N.ctx, &N.l0), NEST_OK);
	memset(sim_ptr(&N.s, N.base.v.MSR_BITMAP, 4096), 0, 4096);
}

static void l1_proc2(uint32_t set)
{
	V12()->SECONDARY_VM_EXEC_CONTROL |= set;
}

/* ---- 2. x2APIC MSRs follow what vmcs02 virtualizes ---- */

START_TEST(l2_reaches_no_x2apic_msr_without_virtualize_x2apic_mode)
{
	uint32_t msr;

	pass_everything();
	launch_ok();
	ck_assert(!(v02(NEST_VMCS_SECONDARY_VM_EXEC_CONTROL) & NEST_VMX_PROC2_VIRT_X2APIC_MODE));
	/* A non-x2APIC MSR both pass still passes: the rule is the range's. */
	ck_assert(!intercepts(X86_MSR_IA32_SYSENTER_CS, false));
	for (msr = 0x800; msr <= 0x8ff; msr++) {
		ck_assert(intercepts(msr, false));
		ck_assert(intercepts(msr, true));
	}
}
END_TEST

START_TEST(x2apic_mode_without_vid_still_intercepts_eoi_and_self_ipi_writes)
{
	pass_everything();
	l1_proc2(NEST_VMX_PROC2_VIRT_X2APIC_MODE);
	launch_ok();
	ck_assert(v02(NEST_VMCS_SECONDARY_VM_EXEC_CONTROL) & NEST_VMX_PROC2_VIRT_X2APIC_MODE);
	ck_assert(!intercepts(X2APIC_TPR, false));
	ck_assert(!intercepts(X2APIC_TPR, true));
	ck_assert(intercepts(X2APIC_EOI, true));
	ck_assert(intercepts(X2APIC_SELF_IPI, true));
	ck_assert(intercepts(X2APIC_ICR, true));
	/* Without APIC-register virtualization, reads other than TPR reach
	 * the APIC (SDM 30.5): they exit. */
	ck_assert(intercepts(X2APIC_ICR, false));
	ck_assert(intercepts(X2APIC_EOI, false));
}
END_TEST

START_TEST(x2apic_mode_with_register_virt_and_vid_passes_what_it_virtualizes)
{
	pass_everything();
	l1_proc2(NEST_VMX_PROC2_VIRT_X2APIC_MODE | NEST_VMX_PROC2_APIC_REGISTER_VIRT |
		 NEST_VMX_PROC2_VIRT_INTR_DELIVERY);
	V12()->PIN_BASED_VM_EXEC_CONTROL |= NEST_VMX_PIN_EXT_INTR_EXITING;
	launch_ok();
	ck_assert(!intercepts(X2APIC_ICR, false));
	ck_assert(!intercepts(X2APIC_EOI, true));
	ck_assert(!intercepts(X2APIC_SELF_IPI, true));
	ck_assert(intercepts(X2APIC_ICR, true));
	ck_assert(intercepts(0x8ff, true));
}
END_TEST

/* An L0 that emulates L1's x2APIC intercepts every x2APIC MSR of L1's. The
 * accesses vmcs02 virtualizes never reach that APIC (only the virtual-APIC
 * page): they follow L1's bitmap alone, or L2's EOI would become an EOI of
 * L1's APIC. The others still exit. */
START_TEST(virtualized_x2apic_accesses_follow_l1_alone_when_l0_emulates_the_x2apic)
{
	pass_everything();
	memset(N.l0_msr_bitmap + 0x800 / 8, 0xff, 0x100 / 8);
	memset(N.l0_msr_bitmap + 2048 + 0x800 / 8, 0xff, 0x100 / 8);
	ck_assert_int_eq(nest_vmx_set_l0(N.ctx, &N.l0), NEST_OK);
	l1_proc2(NEST_VMX_PROC2_VIRT_X2APIC_MODE | NEST_VMX_PROC2_APIC_REGISTER_VIRT |
		 NEST_VMX_PROC2_VIRT_INTR_DELIVERY);
	V12()->PIN_BASED_VM_EXEC_CONTROL |= NEST_VMX_PIN_EXT_INTR_EXITING;
	launch_ok();
	ck_assert(!intercepts(X2APIC_TPR, true));
	ck_assert(!intercepts(X2APIC_TPR, false));
	ck_assert(!intercepts(X2APIC_EOI, true));
	ck_assert(!intercepts(X2APIC_SELF_IPI, true));
	ck_assert(!intercepts(X2APIC_ICR, false));
	ck_assert(intercepts(X2APIC_ICR, true));
	ck_assert(intercepts(0x8ff, true));
	/* Another MSR L0 intercepts stays intercepted. */
	N.l0_msr_bitmap[2048 + X86_MSR_IA32_SPEC_CTRL / 8] |= 1u << (X86_MSR_IA32_SPEC_CTRL % 8);
	ck_assert_int_eq(nest_vmx_set_l0(N.ctx, &N.l0), NEST_OK);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_TRIPLE_FAULT, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
	ck_assert(intercepts(X86_MSR_IA32_SPEC_CTRL, true));
	ck_assert(!intercepts(X2APIC_EOI, true));
}
END_TEST

START_TEST(l1_x2apic_intercepts_survive_virtualization)
{
	uint8_t *b;

	pass_everything();
	b = sim_ptr(&N.s, N.base.v.MSR_BITMAP, 4096);
	b[2048 + X2APIC_TPR / 8] |= 1u << (X2APIC_TPR % 8);
	l1_proc2(NEST_VMX_PROC2_VIRT_X2APIC_MODE);
	launch_ok();
	ck_assert(intercepts(X2APIC_TPR, true));
	ck_assert(!intercepts(X2APIC_TPR, false));
}
END_TEST

/* The merged bitmap follows a change of L1's APIC controls between two
 * entries (the merge is otherwise skipped when the bitmaps are equal). */
START_TEST(x2apic_intercepts_follow_l1s_controls_from_entry_to_entry)
{
	pass_everything();
	l1_proc2(NEST_VMX_PROC2_VIRT_X2APIC_MODE);
	launch_ok();
	ck_assert(!intercepts(X2APIC_TPR, true));
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	V12()->SECONDARY_VM_EXEC_CONTROL &= ~NEST_VMX_PROC2_VIRT_X2APIC_MODE;
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
	ck_assert(intercepts(X2APIC_TPR, true));
}
END_TEST

/* ---- 3. L2 never reaches the hardware TPR ---- */

START_TEST(mov_cr8_exits_when_l1_has_no_tpr_shadow_and_no_cr8_exiting)
{
	V12()->CPU_BASED_VM_EXEC_CONTROL &=
	    ~(NEST_VMX_PROC_USE_TPR_SHADOW | NEST_VMX_PROC_CR8_LOAD_EXITING |
	      NEST_VMX_PROC_CR8_STORE_EXITING);
	launch_ok();
	ck_assert(!(v02(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_USE_TPR_SHADOW));
	ck_assert(v02(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_CR8_LOAD_EXITING);
	ck_assert(v02(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_CR8_STORE_EXITING);
	/* The exit is L0's (L1 did not ask): L0 gives L2 L1's TPR. */
	N.l2regs.gpr[0] = 5;
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CR_ACCESS, 8 /* MOV to CR8 from RAX */), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
}
END_TEST

START_TEST(l0s_tpr_shadow_never_reaches_vmcs02_with_a_zero_virtual_apic_page)
{
	N.l0.proc |= NEST_VMX_PROC_USE_TPR_SHADOW;
	N.l0.proc2 |= NEST_VMX_PROC2_VIRT_X2APIC_MODE | NEST_VMX_PROC2_APIC_REGISTER_VIRT |
		      NEST_VMX_PROC2_VIRT_INTR_DELIVERY;
	N.l0.pin |= NEST_VMX_PIN_POSTED_INTR;
	ck_assert_int_eq(nest_vmx_set_l0(N.ctx, &N.l0), NEST_OK);
	V12()->CPU_BASED_VM_EXEC_CONTROL &= ~NEST_VMX_PROC_USE_TPR_SHADOW;
	launch_ok();
	ck_assert(!(v02(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_USE_TPR_SHADOW));
	ck_assert(!(v02(NEST_VMCS_SECONDARY_VM_EXEC_CONTROL) &
		    (NEST_VMX_PROC2_VIRT_X2APIC_MODE | NEST_VMX_PROC2_APIC_REGISTER_VIRT |
		     NEST_VMX_PROC2_VIRT_INTR_DELIVERY)));
	ck_assert(!(v02(NEST_VMCS_PIN_BASED_VM_EXEC_CONTROL) & NEST_VMX_PIN_POSTED_INTR));
	ck_assert(v02(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_CR8_LOAD_EXITING);
}
END_TEST

START_TEST(l1s_tpr_shadow_uses_l1s_translated_virtual_apic_page)
{
	launch_ok();
	ck_assert(v02(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_USE_TPR_SHADOW);
	ck_assert_uint_eq(v02(NEST_VMCS_VIRTUAL_APIC_PAGE_ADDR),
			  SIM_HPA_L1_BASE + N.base.v.VIRTUAL_APIC_PAGE_ADDR);
	ck_assert(!(v02(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_CR8_LOAD_EXITING));
}
END_TEST

/* L0 moves L1's virtual-APIC page to another host page while L2 runs:
 * nest_vmx_l1_map_changed() re-points vmcs02 at once; a range without the
 * page, or no guest mode, writes nothing; an unmapped page fails the call. */
START_TEST(l1_map_change_repoints_vmcs02s_virtual_apic_page)
{
	const uint64_t vapic = N.base.v.VIRTUAL_APIC_PAGE_ADDR;
	const uint64_t moved = SIM_HPA_L1_BASE + 0x7770000ull;
	const uint8_t rw = NEST_ACC_R | NEST_ACC_W | NEST_ACC_X | NEST_ACC_UX | NEST_ACC_U;

	launch_ok();
	ck_assert_uint_eq(v02(NEST_VMCS_VIRTUAL_APIC_PAGE_ADDR), SIM_HPA_L1_BASE + vapic);
	sim_map_page(&N.s, vapic, moved, rw, NEST_MT_WB);
	/* A range beside the page: nothing to re-point. */
	ck_assert_int_eq(nest_vmx_l1_map_changed(N.ctx, vapic + 4096, 4096), NEST_OK);
	ck_assert_uint_eq(v02(NEST_VMCS_VIRTUAL_APIC_PAGE_ADDR), SIM_HPA_L1_BASE + vapic);
	ck_assert_int_eq(nest_vmx_l1_map_changed(N.ctx, vapic + 0x800, 1), NEST_OK);
	ck_assert_uint_eq(v02(NEST_VMCS_VIRTUAL_APIC_PAGE_ADDR), moved);
	/* The next entry of L1's keeps the new page (no write of the old one). */
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(v02(NEST_VMCS_VIRTUAL_APIC_PAGE_ADDR), moved);
	/* Unmapped: the backend's status, vmcs02 untouched. */
	sim_unmap_page(&N.s, vapic);
	ck_assert_int_ne(nest_vmx_l1_map_changed(N.ctx, 0, UINT64_MAX), NEST_OK);
	ck_assert_uint_eq(v02(NEST_VMCS_VIRTUAL_APIC_PAGE_ADDR), moved);
	ck_assert_int_eq(nest_vmx_l1_map_changed(NULL, 0, 4096), NEST_E_INVAL);
}
END_TEST

START_TEST(l1_map_change_outside_guest_mode_does_nothing)
{
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	sim_reset_counters(&N.s);
	ck_assert_int_eq(nest_vmx_l1_map_changed(N.ctx, 0, UINT64_MAX), NEST_OK);
	ck_assert_uint_eq(N.s.calls.vmcs_write, 0);
	ck_assert_uint_eq(N.s.calls.l1_to_host, 0);
}
END_TEST

/* ---- 8. L0's unconditional I/O exiting survives without an L0 bitmap ---- */

#define IOQ(port, size, in) (((uint64_t)(port) << 16) | ((size)-1u) | ((in) ? 8u : 0u))

static void l1_passes_every_port(void)
{
	memset(sim_ptr(&N.s, N.base.v.IO_BITMAP_A, 4096), 0, 4096);
	memset(sim_ptr(&N.s, N.base.v.IO_BITMAP_B, 4096), 0, 4096);
}

START_TEST(l0_unconditional_io_exiting_without_a_bitmap_intercepts_every_port)
{
	const uint8_t *a, *b;
	unsigned i;

	N.l0.proc |= NEST_VMX_PROC_UNCOND_IO_EXITING;
	N.l0.io_bitmap = NULL;
	ck_assert_int_eq(nest_vmx_set_l0(N.ctx, &N.l0), NEST_OK);
	l1_passes_every_port();
	launch_ok();
	ck_assert(v02(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_USE_IO_BITMAPS);
	a = sim_pool_hva(&N.s, v02(NEST_VMCS_IO_BITMAP_A));
	b = sim_pool_hva(&N.s, v02(NEST_VMCS_IO_BITMAP_B));
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	for (i = 0; i < 4096; i++) {
		ck_assert_uint_eq(a[i], 0xff);
		ck_assert_uint_eq(b[i], 0xff);
	}
	/* L1 did not ask for it: the exit is L0's. */
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_IO_INSTRUCTION, IOQ(0x3f8, 1, false)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
}
END_TEST

START_TEST(l0_io_bitmap_is_kept_when_l0_uses_io_bitmaps)
{
	static uint8_t l0io[8192];
	const uint8_t *a;

	memset(l0io, 0, sizeof(l0io));
	l0io[0x70 / 8] = 1u << (0x70 % 8);
	N.l0.proc |= NEST_VMX_PROC_USE_IO_BITMAPS | NEST_VMX_PROC_UNCOND_IO_EXITING;
	N.l0.io_bitmap = l0io;
	ck_assert_int_eq(nest_vmx_set_l0(N.ctx, &N.l0), NEST_OK);
	l1_passes_every_port();
	launch_ok();
	a = sim_pool_hva(&N.s, v02(NEST_VMCS_IO_BITMAP_A));
	ck_assert_uint_eq(a[0x70 / 8], 1u << (0x70 % 8));
	ck_assert_uint_eq(a[0x3f8 / 8], 0);
	ck_assert(!(v02(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_UNCOND_IO_EXITING));
}
END_TEST

/* ---- 5. MSR loading: IA32_SMBASE, and L0 refusing one entry ---- */

#define ENTRY_MSR_GPA 0x1d000ull

static void entry_msrs(const struct nest_vmx_msr_entry *e, uint32_t n)
{
	memcpy(sim_ptr(&N.s, ENTRY_MSR_GPA, n * sizeof(*e)), e, n * sizeof(*e));
	V12()->VM_ENTRY_MSR_LOAD_ADDR = ENTRY_MSR_GPA;
	V12()->VM_ENTRY_MSR_LOAD_COUNT = n;
}

static int refuse(uint32_t index)
{
	memset(&N.act, 0xcc, sizeof(N.act));
	N.act.size = sizeof(N.act);
	return nest_vmx_pending_msr_failed(N.ctx, index, &N.act);
}

START_TEST(smbase_in_the_entry_msr_load_area_fails_the_entry_with_reason_34)
{
	struct nest_vmx_msr_entry e[2] = {{X86_MSR_IA32_SYSENTER_CS, 0, 8}, {0x9e, 0, 0x30000}};

	entry_msrs(e, 2);
	ck_assert_int_eq(vmlaunch(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON,
			  NEST_VMX_EXIT_MSR_LOADING | NEST_VMX_EXIT_REASON_ENTRY_FAILURE);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, 2);
	ck_assert(!nest_vmx_in_l2(N.ctx));
}
END_TEST

START_TEST(l0_refusing_a_pending_entry_msr_fails_the_entry_with_its_index)
{
	struct nest_vmx_msr_entry e[3] = {{X86_MSR_IA32_SYSENTER_CS, 0, 8},
					  {X86_MSR_IA32_SYSENTER_ESP, 0, 0x1000},
					  {X86_MSR_IA32_SYSENTER_EIP, 0, 0x2000}};

	entry_msrs(e, 3);
	launch_ok();
	ck_assert(N.act.flags & NEST_VMX_ACT_F_MSRS);
	ck_assert(nest_vmx_in_l2(N.ctx));
	/* L0 loaded entry 0; entry 1 faults in its emulation. */
	ck_assert_int_eq(refuse(1), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON,
			  NEST_VMX_EXIT_MSR_LOADING | NEST_VMX_EXIT_REASON_ENTRY_FAILURE);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, 2);
	ck_assert_uint_eq(V12()->launch_state, NEST_VMCS12_STATE_CLEAR);
	assert_l1_host_state_loaded();
	/* Once: the list is gone, and L1 may launch again. */
	ck_assert_int_eq(refuse(1), NEST_E_STATE);
	launch_ok();
}
END_TEST

START_TEST(a_pending_msr_cannot_be_refused_once_the_guest_ran)
{
	struct nest_vmx_msr_entry e = {X86_MSR_IA32_SYSENTER_CS, 0, 8};

	entry_msrs(&e, 1);
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_int_eq(refuse(0), NEST_E_STATE);
}
END_TEST

START_TEST(refusing_beyond_the_pending_list_is_invalid)
{
	struct nest_vmx_msr_entry e = {X86_MSR_IA32_SYSENTER_CS, 0, 8};

	entry_msrs(&e, 1);
	launch_ok();
	ck_assert_int_eq(refuse(1), NEST_E_INVAL);
	ck_assert(nest_vmx_in_l2(N.ctx));
}
END_TEST

START_TEST(l0_refusing_a_pending_exit_msr_is_a_vmx_abort)
{
	struct nest_vmx_msr_entry e = {X86_MSR_IA32_SYSENTER_ESP, 0, 0x5000};

	memcpy(sim_ptr(&N.s, N_EXIT_MSR_GPA, sizeof(e)), &e, sizeof(e));
	V12()->VM_EXIT_MSR_LOAD_ADDR = N_EXIT_MSR_GPA;
	V12()->VM_EXIT_MSR_LOAD_COUNT = 1;
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_MSRS);
	ck_assert_int_eq(refuse(0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_ABORT);
	ck_assert_uint_eq(V12()->abort, VMX_ABORT_LOAD_HOST_MSR);
}
END_TEST

/* ---- 9. PAE PDPTEs come from L2's CR3 when L1 runs L2 without EPT ---- */

#define PDPT_GPA 0x1e000ull
#define PDPTE_P 0x1ull
#define PDPTE_RESERVED_BIT1 0x2ull /* bits 2:1 are reserved (SDM 4.4.1) */

/* L2 in 32-bit protected mode with PAE paging, its PDPT at PDPT_GPA. */
static void l2_in_pae_paging(uint64_t pdpte0)
{
	struct nest__vmcs12 *v = V12();

	v->VM_ENTRY_CONTROLS &= ~NEST_VMX_ENTRY_CTL_IA32E_MODE_GUEST;
	v->GUEST_IA32_EFER &= ~(X86_EFER_LMA | X86_EFER_LME);
	v->GUEST_CS_AR_BYTES = FX_CODE32_AR;
	v->GUEST_CR4 |= X86_CR4_PAE;
	v->GUEST_CR3 = PDPT_GPA;
	sim_write64(&N.s, PDPT_GPA, pdpte0);
	sim_write64(&N.s, PDPT_GPA + 8, 0x6000 | PDPTE_P);
	sim_write64(&N.s, PDPT_GPA + 16, 0);
	sim_write64(&N.s, PDPT_GPA + 24, 0);
	/* vmcs12's PDPTE fields hold junk: entry does not read them. */
	v->GUEST_PDPTE0 = PDPTE_P | PDPTE_RESERVED_BIT1;
	v->GUEST_PDPTE1 = ~0ull;
}

START_TEST(pae_entry_without_ept_loads_the_pdptes_from_l2s_cr3)
{
	l2_in_pae_paging(0x5000 | PDPTE_P);
	launch_ok();
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_PDPTE0), 0x5000 | PDPTE_P);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_PDPTE1), 0x6000 | PDPTE_P);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_PDPTE2), 0);
	/* The fast path of VMRESUME keeps them too, and follows memory. */
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	sim_write64(&N.s, PDPT_GPA, 0x7000 | PDPTE_P);
	V12()->GUEST_PDPTE0 = 0x123;
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_PDPTE0), 0x7000 | PDPTE_P);
}
END_TEST

START_TEST(pae_entry_without_ept_fails_on_a_bad_pdpte_at_cr3)
{
	l2_in_pae_paging(0x5000 | PDPTE_P | PDPTE_RESERVED_BIT1);
	ck_assert_int_eq(vmlaunch(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON,
			  NEST_VMX_EXIT_INVALID_GUEST_STATE | NEST_VMX_EXIT_REASON_ENTRY_FAILURE);
}
END_TEST

/* ---- 6. The emulator's question: would L1 intercept this? ---- */

static int l1_intercepts(uint32_t reason, uint64_t qual)
{
	return nest_vmx_l1_intercepts(N.ctx, reason, qual, 0, 0, &N.l2regs);
}

/* The same answer as the reflection's, for every kind of exit it asks
 * about: the port L1's bitmap intercepts and one it passes, an MSR. */
START_TEST(l1_intercepts_answers_as_the_reflection_decides)
{
	uint8_t *io = sim_ptr(&N.s, N.base.v.IO_BITMAP_A, 4096);
	uint8_t *msr = sim_ptr(&N.s, N.base.v.MSR_BITMAP, 4096);

	memset(io, 0, 4096);
	memset(msr, 0, 4096);
	io[0x60 / 8] |= 1u << (0x60 % 8);
	msr[2048 + X86_MSR_IA32_SYSENTER_CS / 8] |= 1u << (X86_MSR_IA32_SYSENTER_CS % 8);
	ck_assert_int_eq(l1_intercepts(NEST_VMX_EXIT_CPUID, 0), 0); /* L2 not running */
	launch_ok();
	ck_assert_int_eq(l1_intercepts(NEST_VMX_EXIT_IO_INSTRUCTION, IOQ(0x60, 1, true)), 1);
	ck_assert_int_eq(l1_intercepts(NEST_VMX_EXIT_IO_INSTRUCTION, IOQ(0x61, 1, true)), 0);
	/* A 2-byte access at 5FH touches port 60H. */
	ck_assert_int_eq(l1_intercepts(NEST_VMX_EXIT_IO_INSTRUCTION, IOQ(0x5f, 2, false)), 1);
	N.l2regs.gpr[1] = X86_MSR_IA32_SYSENTER_CS;
	ck_assert_int_eq(l1_intercepts(NEST_VMX_EXIT_MSR_WRITE, 0), 1);
	ck_assert_int_eq(l1_intercepts(NEST_VMX_EXIT_MSR_READ, 0), 0);
	ck_assert_int_eq(l1_intercepts(NEST_VMX_EXIT_CPUID, 0), 1);
	/* The reflection agrees. */
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_IO_INSTRUCTION, IOQ(0x61, 1, true)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_IO_INSTRUCTION, IOQ(0x60, 1, true)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
}
END_TEST

START_TEST(l1_intercepts_follows_l1s_exception_bitmap)
{
	uint32_t ud = NEST_VMX_INTR_INFO_VALID |
		      (NEST_VMX_INTR_TYPE_HW_EXCEPTION << NEST_VMX_INTR_INFO_TYPE_SHIFT) |
		      X86_EXC_UD;

	V12()->EXCEPTION_BITMAP = 1u << X86_EXC_UD;
	launch_ok();
	ck_assert_int_eq(
	    nest_vmx_l1_intercepts(N.ctx, NEST_VMX_EXIT_EXCEPTION_NMI, 0, ud, 0, &N.l2regs), 1);
	ck_assert_int_eq(nest_vmx_l1_intercepts(N.ctx, NEST_VMX_EXIT_EXCEPTION_NMI, 0,
						(ud & ~0xffu) | X86_EXC_GP, 0, &N.l2regs),
			 0);
	ck_assert_int_eq(nest_vmx_l1_intercepts(N.ctx, NEST_VMX_EXIT_EXCEPTION_NMI, 0, ud, 0, NULL),
			 0);
}
END_TEST

static Suite *hostile_suite(void)
{
	Suite *s = suite_create("vmx_nested_hostile");
	TCase *t = tcase_create("hostile");

	tcase_add_checked_fixture(t, nfx_setup, nfx_teardown);
	tcase_add_test(t, l2_reaches_no_x2apic_msr_without_virtualize_x2apic_mode);
	tcase_add_test(t, x2apic_mode_without_vid_still_intercepts_eoi_and_self_ipi_writes);
	tcase_add_test(t, x2apic_mode_with_register_virt_and_vid_passes_what_it_virtualizes);
	tcase_add_test(t, virtualized_x2apic_accesses_follow_l1_alone_when_l0_emulates_the_x2apic);
	tcase_add_test(t, l1_x2apic_intercepts_survive_virtualization);
	tcase_add_test(t, x2apic_intercepts_follow_l1s_controls_from_entry_to_entry);
	tcase_add_test(t, mov_cr8_exits_when_l1_has_no_tpr_shadow_and_no_cr8_exiting);
	tcase_add_test(t, l0s_tpr_shadow_never_reaches_vmcs02_with_a_zero_virtual_apic_page);
	tcase_add_test(t, l1s_tpr_shadow_uses_l1s_translated_virtual_apic_page);
	tcase_add_test(t, l1_map_change_repoints_vmcs02s_virtual_apic_page);
	tcase_add_test(t, l1_map_change_outside_guest_mode_does_nothing);
	tcase_add_test(t, l0_unconditional_io_exiting_without_a_bitmap_intercepts_every_port);
	tcase_add_test(t, l0_io_bitmap_is_kept_when_l0_uses_io_bitmaps);
	tcase_add_test(t, smbase_in_the_entry_msr_load_area_fails_the_entry_with_reason_34);
	tcase_add_test(t, l0_refusing_a_pending_entry_msr_fails_the_entry_with_its_index);
	tcase_add_test(t, a_pending_msr_cannot_be_refused_once_the_guest_ran);
	tcase_add_test(t, refusing_beyond_the_pending_list_is_invalid);
	tcase_add_test(t, l0_refusing_a_pending_exit_msr_is_a_vmx_abort);
	tcase_add_test(t, pae_entry_without_ept_loads_the_pdptes_from_l2s_cr3);
	tcase_add_test(t, pae_entry_without_ept_fails_on_a_bad_pdpte_at_cr3);
	tcase_add_test(t, l1_intercepts_answers_as_the_reflection_decides);
	tcase_add_test(t, l1_intercepts_follows_l1s_exception_bitmap);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return nest_test_run(hostile_suite());
}
