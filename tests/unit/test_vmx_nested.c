/* SPDX-License-Identifier: MIT */
/*
 * Scenarios of nested VMX on the simulated backend: L1 configures vmcs12
 * and launches L2, L2 exits with each class of reason, and the tests check
 * vmcs12 field by field after each reflection, and L1's state in vmcs01.
 */
#include "check_main.h"
#include "vmx_fixture.h"

#define INTR_INFO(type, vec)                                                                       \
	(NEST_VMX_INTR_INFO_VALID | ((type) << NEST_VMX_INTR_INFO_TYPE_SHIFT) | (vec))
#define IOQ(port, size, in) (((uint64_t)(port) << 16) | ((size)-1u) | ((in) ? 8u : 0u))
#define CRQ_MOV_TO(cr, gpr) ((uint64_t)(cr) | ((uint64_t)(gpr) << 8))

/* ---- VM entry ---- */

START_TEST(vmlaunch_enters_l2_and_marks_the_vmcs_launched)
{
	launch_ok();
	ck_assert_uint_eq(V12()->launch_state, NEST_VMCS12_STATE_LAUNCHED);
	ck_assert(nest_vmx_in_l2(N.ctx));
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_RIP), V12()->GUEST_RIP);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_CS_AR_BYTES), FX_CODE64_AR);
}
END_TEST

START_TEST(vmcs02_host_state_is_vmcs01s_never_vmcs12s)
{
	launch_ok();
	ck_assert_uint_eq(v02(NEST_VMCS_HOST_RIP), L0_HOST_RIP);
	ck_assert_uint_eq(v02(NEST_VMCS_HOST_CR3), L0_HOST_CR3);
	ck_assert_uint_ne(v02(NEST_VMCS_HOST_RIP), V12()->HOST_RIP);
}
END_TEST

START_TEST(vmcs02_uses_merged_bitmaps_not_l1_addresses)
{
	launch_ok();
	ck_assert_uint_ne(v02(NEST_VMCS_MSR_BITMAP), V12()->MSR_BITMAP);
	ck_assert_ptr_nonnull(sim_pool_hva(&N.s, v02(NEST_VMCS_MSR_BITMAP)));
	ck_assert_ptr_nonnull(sim_pool_hva(&N.s, v02(NEST_VMCS_IO_BITMAP_A)));
	ck_assert_ptr_nonnull(sim_pool_hva(&N.s, v02(NEST_VMCS_IO_BITMAP_B)));
}
END_TEST

START_TEST(l0_owned_msr_stays_intercepted_when_l1_passes_it)
{
	uint8_t *merged;

	/* L0 intercepts writes of IA32_SPEC_CTRL; L1's bitmap (zero) passes all. */
	N.l0_msr_bitmap[2048 + X86_MSR_IA32_SPEC_CTRL / 8] |= 1u << (X86_MSR_IA32_SPEC_CTRL % 8);
	ck_assert_int_eq(nest_vmx_set_l0(N.ctx, &N.l0), NEST_OK);
	launch_ok();
	merged = sim_pool_hva(&N.s, v02(NEST_VMCS_MSR_BITMAP));
	ck_assert(merged[2048 + X86_MSR_IA32_SPEC_CTRL / 8] & (1u << (X86_MSR_IA32_SPEC_CTRL % 8)));
	ck_assert_uint_eq(merged[0], 0); /* everything else passes */
	/* And the exit it causes is L0's, not L1's. */
	N.l2regs.gpr[1] = X86_MSR_IA32_SPEC_CTRL;
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_MSR_WRITE, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
}
END_TEST

START_TEST(vpid12_runs_as_vpid02_with_a_flush_on_first_entry)
{
	launch_ok();
	ck_assert_uint_eq(v02(NEST_VMCS_VIRTUAL_PROCESSOR_ID), L0_VPID02);
	ck_assert_uint_ge(N.s.nflushes, 1);
	ck_assert_uint_eq(N.s.flushes[0].kind, NEST_FLUSH_VPID_CONTEXT);
	ck_assert_uint_eq(N.s.flushes[0].tag, L0_VPID02);
}
END_TEST

/* SDM 28.3.4: under EPT a VM exit saves the PDPTEs when L2 uses PAE
 * paging; in another mode their values are undefined, and libnest leaves
 * vmcs12's (it reads them from vmcs02 only in that mode). */
#define PDPTE_EPT12 0x50000ull
#define PDPTE_EPTP12 (PDPTE_EPT12 | 6ull | (3ull << 3))
START_TEST(exit_saves_the_pdptes_only_under_pae_paging)
{
	void *mem;
	struct nest_tdp *tdp = nfx_tdp(12, 4, &mem);
	struct nest__vmcs12 *v = V12();

	memset(sim_ptr(&N.s, PDPTE_EPT12, 0x1000), 0, 0x1000);
	v->SECONDARY_VM_EXEC_CONTROL |= NEST_VMX_PROC2_ENABLE_EPT;
	v->EPT_POINTER = PDPTE_EPTP12;
	v->GUEST_PDPTE0 = 0x11000ull;
	launch_ok();
	/* IA-32e mode at the exit: vmcs12 keeps L1's value. */
	set02(NEST_VMCS_GUEST_PDPTE0, 0x22001ull);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->GUEST_PDPTE0, 0x11000ull);
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
	/* L2 left IA-32e mode for PAE paging, its PDPTEs loaded. */
	set02(NEST_VMCS_GUEST_IA32_EFER,
	      v02(NEST_VMCS_GUEST_IA32_EFER) & ~(uint64_t)(X86_EFER_LMA | X86_EFER_LME));
	set02(NEST_VMCS_GUEST_PDPTE0, 0x33001ull);
	set02(NEST_VMCS_GUEST_PDPTE3, 0x44001ull);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->GUEST_PDPTE0, 0x33001ull);
	ck_assert_uint_eq(V12()->GUEST_PDPTE3, 0x44001ull);
	nfx_tdp_fini(tdp, mem);
}
END_TEST

START_TEST(vmlaunch_of_a_launched_vmcs_fails_with_error_4)
{
	V12()->launch_state = NEST_VMCS12_STATE_LAUNCHED;
	ck_assert_int_eq(vmlaunch(), NEST_OK);
	ck_assert_uint_eq(N.act.result, NEST_VMX_FAIL_VALID);
	ck_assert_uint_eq(N.act.vm_instruction_error, 4);
	ck_assert_uint_eq(V12()->VM_INSTRUCTION_ERROR, 4);
}
END_TEST

START_TEST(vmresume_of_a_clear_vmcs_fails_with_error_5)
{
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.result, NEST_VMX_FAIL_VALID);
	ck_assert_uint_eq(N.act.vm_instruction_error, 5);
}
END_TEST

START_TEST(entry_blocked_by_mov_ss_fails_with_error_26)
{
	sim_vmcs_set(&N.s, NEST_VMCS01, NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO,
		     NEST_VMX_INTERRUPTIBILITY_MOV_SS);
	ck_assert_int_eq(vmlaunch(), NEST_OK);
	ck_assert_uint_eq(N.act.vm_instruction_error, 26);
}
END_TEST

START_TEST(invalid_control_fails_with_error_7_and_no_vmcs02_write)
{
	V12()->PIN_BASED_VM_EXEC_CONTROL = 0; /* default1 bits missing */
	sim_reset_counters(&N.s);
	ck_assert_int_eq(vmlaunch(), NEST_OK);
	ck_assert_uint_eq(N.act.vm_instruction_error, 7);
	ck_assert_uint_eq(N.s.calls.vmcs_write, 0);
	ck_assert_uint_eq(V12()->launch_state, NEST_VMCS12_STATE_CLEAR);
}
END_TEST

/* VTPR, byte 80H of the fixture's virtual-APIC page (vmcs12 0x13000). */
#define N_VTPR_GPA (0x13000ull + 0x80)

/* SDM 27.2.1.1: with "use TPR shadow" and neither "virtualize APIC accesses"
 * nor "virtual-interrupt delivery", TPR threshold bits 3:0 must not exceed
 * VTPR bits 7:4, read from the virtual-APIC page in L1 memory. */
START_TEST(tpr_threshold_above_vtpr_fails_with_error_7)
{
	*(uint8_t *)sim_ptr(&N.s, N_VTPR_GPA, 1) = 0x40;
	V12()->TPR_THRESHOLD = 5;
	ck_assert_int_eq(vmlaunch(), NEST_OK);
	ck_assert_uint_eq(N.act.vm_instruction_error, 7);
	ck_assert_uint_eq(V12()->launch_state, NEST_VMCS12_STATE_CLEAR);
	*(uint8_t *)sim_ptr(&N.s, N_VTPR_GPA, 1) = 0x50;
	launch_ok();
}
END_TEST

/* VTPR lives in L1 memory, not in vmcs12: a VMRESUME with vmcs12 unchanged
 * still checks the VTPR of that entry (one read per entry, no stale copy). */
START_TEST(vmresume_checks_the_vtpr_l1_wrote_since_the_last_entry)
{
	*(uint8_t *)sim_ptr(&N.s, N_VTPR_GPA, 1) = 0x50;
	V12()->TPR_THRESHOLD = 5;
	launch_ok();
	set02(NEST_VMCS_GUEST_RIP, 0x401002);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	*(uint8_t *)sim_ptr(&N.s, N_VTPR_GPA, 1) = 0x30;
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.vm_instruction_error, 7);
}
END_TEST

/* SDM 27.3.1.5: the VMCS the link pointer names must carry the VMCS
 * revision identifier, and its shadow-VMCS indicator must equal "VMCS
 * shadowing"; both read from L1 memory at entry. */
START_TEST(link_pointer_to_a_wrong_revision_fails_with_reason_33)
{
	const uint64_t link = 0x14000;
	uint32_t *hdr = sim_ptr(&N.s, link, sizeof(*hdr));

	V12()->VMCS_LINK_POINTER = link;
	*hdr = (uint32_t)(N.ctx->caps.basic & VMX_BASIC_REVISION_MASK) + 1;
	ck_assert_int_eq(vmlaunch(), NEST_OK);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, 0x80000000u | NEST_VMX_EXIT_INVALID_GUEST_STATE);
	ck_assert_uint_eq(V12()->launch_state, NEST_VMCS12_STATE_CLEAR);
	*hdr =
	    (uint32_t)(N.ctx->caps.basic & VMX_BASIC_REVISION_MASK) | NEST_VMCS12_SHADOW_INDICATOR;
	ck_assert_int_eq(vmlaunch(), NEST_OK);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, 0x80000000u | NEST_VMX_EXIT_INVALID_GUEST_STATE);
	*hdr = (uint32_t)(N.ctx->caps.basic & VMX_BASIC_REVISION_MASK);
	launch_ok();
}
END_TEST

START_TEST(invalid_guest_state_exits_into_l1_with_reason_33)
{
	V12()->GUEST_RFLAGS = 0; /* reserved bit 1 clear */
	ck_assert_int_eq(vmlaunch(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, 0x80000000u | NEST_VMX_EXIT_INVALID_GUEST_STATE);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, 0);
	ck_assert_uint_eq(V12()->launch_state, NEST_VMCS12_STATE_CLEAR);
	assert_l1_host_state_loaded();
}
END_TEST

START_TEST(bad_msr_load_entry_exits_with_reason_34_and_its_index)
{
	struct nest_vmx_msr_entry e[2] = {{X86_MSR_IA32_SYSENTER_CS, 0, 0x10},
					  {X86_MSR_IA32_FS_BASE, 0, 0}};

	memcpy(sim_ptr(&N.s, 0x1d000, sizeof(e)), e, sizeof(e));
	V12()->VM_ENTRY_MSR_LOAD_COUNT = 2;
	ck_assert_int_eq(vmlaunch(), NEST_OK);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, 0x80000000u | NEST_VMX_EXIT_MSR_LOADING);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, 2);
}
END_TEST

START_TEST(entry_msr_load_area_is_read_once_and_given_to_l0)
{
	struct nest_vmx_msr_entry e = {X86_MSR_IA32_SYSENTER_CS, 0, 0x10};
	const struct nest_vmx_msr_entry *list;
	uint32_t n;

	memcpy(sim_ptr(&N.s, 0x1d000, sizeof(e)), &e, sizeof(e));
	V12()->VM_ENTRY_MSR_LOAD_COUNT = 1;
	launch_ok();
	ck_assert(N.act.flags & NEST_VMX_ACT_F_MSRS);
	ck_assert_int_eq(nest_vmx_pending_msrs(N.ctx, &list, &n), NEST_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(list[0].index, X86_MSR_IA32_SYSENTER_CS);
	ck_assert_uint_eq(list[0].value, 0x10);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_ENTRY_MSR_LOAD_COUNT), 0);
}
END_TEST

START_TEST(vmresume_with_nothing_changed_writes_no_vmcs02_field)
{
	launch_ok();
	set02(NEST_VMCS_GUEST_RIP, 0x401002);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	sim_reset_counters(&N.s);
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
	ck_assert_uint_eq(N.s.calls.vmcs_write, 0);
}
END_TEST

START_TEST(vmresume_writes_only_the_field_l1_changed)
{
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	V12()->GUEST_RIP += 2; /* L1 skips the instruction */
	sim_reset_counters(&N.s);
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.s.calls.vmcs_write, 1);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_RIP), V12()->GUEST_RIP);
}
END_TEST

/* ---- exits reflected into L1 ---- */

START_TEST(cpuid_is_reflected_with_exit_information_and_guest_state)
{
	launch_ok();
	set02(NEST_VMCS_GUEST_RIP, 0x401234);
	set02(NEST_VMCS_GUEST_RSP, 0x7fe000);
	set02(NEST_VMCS_GUEST_RFLAGS, 0x246);
	set02(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO, NEST_VMX_INTERRUPTIBILITY_STI);
	set02(NEST_VMCS_VM_EXIT_INSTRUCTION_LEN, 2);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_CPUID);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, 0);
	ck_assert_uint_eq(V12()->VM_EXIT_INSTRUCTION_LEN, 2);
	ck_assert_uint_eq(V12()->VM_EXIT_INTR_INFO, 0);
	ck_assert_uint_eq(V12()->IDT_VECTORING_INFO_FIELD, 0);
	ck_assert_uint_eq(V12()->GUEST_RIP, 0x401234);
	ck_assert_uint_eq(V12()->GUEST_RSP, 0x7fe000);
	ck_assert_uint_eq(V12()->GUEST_RFLAGS, 0x246);
	ck_assert_uint_eq(V12()->GUEST_INTERRUPTIBILITY_INFO, NEST_VMX_INTERRUPTIBILITY_STI);
	ck_assert_uint_eq(V12()->GUEST_CR3, N.base.v.GUEST_CR3);
	ck_assert_uint_eq(V12()->GUEST_CS_AR_BYTES, FX_CODE64_AR);
	ck_assert_uint_eq(V12()->VMCS_LINK_POINTER, UINT64_MAX);
	assert_l1_host_state_loaded();
}
END_TEST

START_TEST(efer_and_pat_saved_under_l1s_save_controls)
{
	launch_ok();
	set02(NEST_VMCS_GUEST_IA32_EFER, FX_EFER & ~X86_EFER_SCE);
	set02(NEST_VMCS_GUEST_IA32_PAT, 0x0606);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_uint_eq(V12()->GUEST_IA32_EFER, FX_EFER & ~X86_EFER_SCE);
	ck_assert_uint_eq(V12()->GUEST_IA32_PAT, 0x0606);
}
END_TEST

START_TEST(hlt_with_l1_hlt_exiting_is_reflected)
{
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_HLT, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_HLT);
}
END_TEST

START_TEST(hlt_without_l1_hlt_exiting_is_l0s)
{
	V12()->CPU_BASED_VM_EXEC_CONTROL &= ~NEST_VMX_PROC_HLT_EXITING;
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_HLT, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
	ck_assert(nest_vmx_in_l2(N.ctx));
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, 0);
}
END_TEST

START_TEST(io_with_l1_bitmap_bit_set_is_reflected_with_qualification)
{
	uint8_t *a = sim_ptr(&N.s, N.base.v.IO_BITMAP_A, 4096);

	a[0x60 / 8] |= 1u << (0x60 % 8);
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_IO_INSTRUCTION, IOQ(0x60, 1, true)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, IOQ(0x60, 1, true));
}
END_TEST

START_TEST(io_with_l1_bitmap_clear_is_l0s)
{
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_IO_INSTRUCTION, IOQ(0x60, 1, true)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
}
END_TEST

START_TEST(io_without_bitmaps_but_unconditional_exiting_is_reflected)
{
	V12()->CPU_BASED_VM_EXEC_CONTROL &= ~NEST_VMX_PROC_USE_IO_BITMAPS;
	V12()->CPU_BASED_VM_EXEC_CONTROL |= NEST_VMX_PROC_UNCOND_IO_EXITING;
	launch_ok();
	ck_assert(*(uint8_t *)sim_pool_hva(&N.s, v02(NEST_VMCS_IO_BITMAP_B)) == 0xff);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_IO_INSTRUCTION, IOQ(0x3f8, 1, false)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
}
END_TEST

START_TEST(msr_read_with_l1_bitmap_bit_set_is_reflected)
{
	uint8_t *b = sim_ptr(&N.s, N.base.v.MSR_BITMAP, 4096);

	b[1024 + 0x80 / 8] |= 1u << (0x80 % 8); /* read of 0xc0000080 */
	launch_ok();
	N.l2regs.gpr[1] = X86_MSR_IA32_EFER;
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_MSR_READ, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_MSR_READ);
}
END_TEST

START_TEST(msr_without_l1_bitmaps_is_reflected)
{
	V12()->CPU_BASED_VM_EXEC_CONTROL &= ~NEST_VMX_PROC_USE_MSR_BITMAPS;
	launch_ok();
	ck_assert_uint_eq(*(uint8_t *)sim_pool_hva(&N.s, v02(NEST_VMCS_MSR_BITMAP)), 0xff);
	N.l2regs.gpr[1] = X86_MSR_IA32_SYSENTER_CS;
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_MSR_WRITE, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
}
END_TEST

START_TEST(cr0_write_to_an_l1_owned_bit_is_reflected)
{
	V12()->CR0_GUEST_HOST_MASK = X86_CR0_CD;
	launch_ok();
	N.l2regs.gpr[0] = FX_CR0 | X86_CR0_CD;
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CR_ACCESS, CRQ_MOV_TO(0, 0)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, CRQ_MOV_TO(0, 0));
}
END_TEST

START_TEST(cr0_write_matching_l1s_shadow_is_l0s)
{
	V12()->CR0_GUEST_HOST_MASK = X86_CR0_CD;
	launch_ok();
	N.l2regs.gpr[0] = FX_CR0;
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CR_ACCESS, CRQ_MOV_TO(0, 0)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
}
END_TEST

START_TEST(page_fault_matching_l1s_mask_is_reflected_with_error_code)
{
	V12()->EXCEPTION_BITMAP = 1u << X86_EXC_PF;
	V12()->PAGE_FAULT_ERROR_CODE_MASK = X86_PFEC_P;
	V12()->PAGE_FAULT_ERROR_CODE_MATCH = 0;
	launch_ok();
	set02(NEST_VMCS_VM_EXIT_INTR_INFO, INTR_INFO(NEST_VMX_INTR_TYPE_HW_EXCEPTION, X86_EXC_PF) |
					       NEST_VMX_INTR_INFO_DELIVER_ERROR_CODE);
	set02(NEST_VMCS_VM_EXIT_INTR_ERROR_CODE, X86_PFEC_W);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_EXCEPTION_NMI, 0xdead000), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_INTR_INFO,
			  INTR_INFO(NEST_VMX_INTR_TYPE_HW_EXCEPTION, X86_EXC_PF) |
			      NEST_VMX_INTR_INFO_DELIVER_ERROR_CODE);
	ck_assert_uint_eq(V12()->VM_EXIT_INTR_ERROR_CODE, X86_PFEC_W);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, 0xdead000);
}
END_TEST

START_TEST(page_fault_not_matching_l1s_mask_is_l0s)
{
	V12()->EXCEPTION_BITMAP = 1u << X86_EXC_PF;
	V12()->PAGE_FAULT_ERROR_CODE_MASK = X86_PFEC_P;
	V12()->PAGE_FAULT_ERROR_CODE_MATCH = 0;
	launch_ok();
	set02(NEST_VMCS_VM_EXIT_INTR_INFO, INTR_INFO(NEST_VMX_INTR_TYPE_HW_EXCEPTION, X86_EXC_PF) |
					       NEST_VMX_INTR_INFO_DELIVER_ERROR_CODE);
	set02(NEST_VMCS_VM_EXIT_INTR_ERROR_CODE, X86_PFEC_P);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_EXCEPTION_NMI, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
}
END_TEST

/* An exception L0 raises in L2 (its emulation faulted): an exit to L1 when
 * the exception bitmap selects it (SDM 25.2), else vmcs02 delivers it. */
START_TEST(exception_l0_raises_in_l2_exits_when_l1_intercepts_it)
{
	V12()->EXCEPTION_BITMAP = 1u << X86_EXC_GP;
	launch_ok();
	set02(NEST_VMCS_GUEST_CR0, X86_CR0_PE | X86_CR0_PG | X86_CR0_NE);
	set02(NEST_VMCS_GUEST_RIP, 0x401234);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CR_ACCESS, 4), NEST_OK);
	ck_assert_int_eq(l2_exception(X86_EXC_GP, 0x18, 0xbad), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_EXCEPTION_NMI);
	ck_assert_uint_eq(V12()->VM_EXIT_INTR_INFO,
			  INTR_INFO(NEST_VMX_INTR_TYPE_HW_EXCEPTION, X86_EXC_GP) |
			      NEST_VMX_INTR_INFO_DELIVER_ERROR_CODE);
	ck_assert_uint_eq(V12()->VM_EXIT_INTR_ERROR_CODE, 0x18);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, 0);
	ck_assert_uint_eq(V12()->IDT_VECTORING_INFO_FIELD, 0);
	ck_assert_uint_eq(V12()->GUEST_RIP, 0x401234);
	assert_l1_host_state_loaded();
}
END_TEST

START_TEST(exception_l0_raises_in_l2_is_delivered_when_l1_does_not_intercept_it)
{
	V12()->EXCEPTION_BITMAP = 1u << X86_EXC_UD;
	launch_ok();
	set02(NEST_VMCS_GUEST_CR0, X86_CR0_PE | X86_CR0_PG | X86_CR0_NE);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CR_ACCESS, 4), NEST_OK);
	ck_assert_int_eq(l2_exception(X86_EXC_GP, 0, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_TO_L2);
	ck_assert_uint_eq(N.act.vector, X86_EXC_GP);
	ck_assert_uint_eq(N.act.has_error_code, 1);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD),
			  INTR_INFO(NEST_VMX_INTR_TYPE_HW_EXCEPTION, X86_EXC_GP) |
			      NEST_VMX_INTR_INFO_DELIVER_ERROR_CODE);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), 0);
	/* Something queued already: the caller combines the two. */
	ck_assert_int_eq(l2_exception(X86_EXC_UD, 0, 0), NEST_E_STATE);
}
END_TEST

/* #PF: the error-code mask and match decide (SDM 25.2); the address is
 * the exit qualification, or CR2 for L0 to load; in real mode no error
 * code is delivered. */
START_TEST(page_fault_l0_raises_in_l2_follows_l1s_mask_and_match)
{
	V12()->EXCEPTION_BITMAP = 1u << X86_EXC_PF;
	V12()->PAGE_FAULT_ERROR_CODE_MASK = X86_PFEC_W;
	V12()->PAGE_FAULT_ERROR_CODE_MATCH = X86_PFEC_W;
	launch_ok();
	set02(NEST_VMCS_GUEST_CR0, X86_CR0_PE | X86_CR0_PG | X86_CR0_NE);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CR_ACCESS, 4), NEST_OK);
	ck_assert_int_eq(l2_exception(X86_EXC_PF, X86_PFEC_P, 0x7000), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
	ck_assert_uint_eq(N.act.cr2, 0x7000);
	ck_assert_uint_eq(N.act.error_code, X86_PFEC_P);
	/* The entry delivered it; the next exit. */
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CR_ACCESS, 4), NEST_OK);
	ck_assert_int_eq(l2_exception(X86_EXC_PF, X86_PFEC_P | X86_PFEC_W, 0x8000), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, 0x8000);
	ck_assert_uint_eq(V12()->VM_EXIT_INTR_ERROR_CODE, X86_PFEC_P | X86_PFEC_W);
}
END_TEST

START_TEST(exception_l0_raises_in_real_mode_l2_has_no_error_code)
{
	launch_ok();
	set02(NEST_VMCS_GUEST_CR0, X86_CR0_NE);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CR_ACCESS, 4), NEST_OK);
	ck_assert_int_eq(l2_exception(X86_EXC_GP, 0x10, 0), NEST_OK);
	ck_assert_uint_eq(N.act.has_error_code, 0);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD),
			  INTR_INFO(NEST_VMX_INTR_TYPE_HW_EXCEPTION, X86_EXC_GP));
	ck_assert_int_eq(l2_exception(X86_EXC_NMI, 0, 0), NEST_E_INVAL);
	ck_assert_int_eq(l2_exception(32, 0, 0), NEST_E_INVAL);
}
END_TEST

/* An instruction of L2 that L0 carried out in software ends as on the
 * processor (nest_vmx_l2_emulated()): L1's monitor trap flag exits on the
 * boundary after it (SDM 26.5.2), and RFLAGS.TF leaves a single-step trap
 * pending (SDM 17.3.1.4). */
static int l2_emulated(void)
{
	memset(&N.act, 0xcc, sizeof(N.act));
	N.act.size = sizeof(N.act);
	return nest_vmx_l2_emulated(N.ctx, &N.act);
}

#define EMULATED_NEXT_RIP 0x401002ull /* L0 moved RIP past L2's instruction */
#define PENDING_BS (1ull << 14)

START_TEST(emulated_instruction_under_l1s_mtf_exits_to_l1)
{
	V12()->CPU_BASED_VM_EXEC_CONTROL |= NEST_VMX_PROC_MONITOR_TRAP_FLAG;
	launch_ok();
	ck_assert(v02(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_MONITOR_TRAP_FLAG);
	set02(NEST_VMCS_GUEST_RIP, EMULATED_NEXT_RIP);
	set02(NEST_VMCS_GUEST_RFLAGS, X86_RFLAGS_FIXED1);
	ck_assert_int_eq(l2_emulated(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_MONITOR_TRAP_FLAG);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, 0);
	ck_assert_uint_eq(V12()->VM_EXIT_INTR_INFO, 0);
	ck_assert_uint_eq(V12()->IDT_VECTORING_INFO_FIELD, 0);
	ck_assert_uint_eq(V12()->GUEST_RIP, EMULATED_NEXT_RIP);
	ck_assert_uint_eq(V12()->GUEST_PENDING_DBG_EXCEPTIONS, 0);
	assert_l1_host_state_loaded();
}
END_TEST

START_TEST(emulated_instruction_with_tf_leaves_a_single_step_trap)
{
	launch_ok();
	set02(NEST_VMCS_GUEST_RIP, EMULATED_NEXT_RIP);
	set02(NEST_VMCS_GUEST_RFLAGS, X86_RFLAGS_FIXED1 | X86_RFLAGS_TF);
	set02(NEST_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	ck_assert_int_eq(l2_emulated(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_PENDING_DBG_EXCEPTIONS), PENDING_BS);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_RIP), EMULATED_NEXT_RIP);
	ck_assert(nest_vmx_in_l2(N.ctx));
	/* Branch single-stepping (IA32_DEBUGCTL.BTF) traps on branches only. */
	set02(NEST_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	set02(NEST_VMCS_GUEST_IA32_DEBUGCTL, 1u << 1);
	ck_assert_int_eq(l2_emulated(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_PENDING_DBG_EXCEPTIONS), 0);
	/* Without TF or MTF there is nothing to do. */
	set02(NEST_VMCS_GUEST_IA32_DEBUGCTL, 0);
	set02(NEST_VMCS_GUEST_RFLAGS, X86_RFLAGS_FIXED1);
	ck_assert_int_eq(l2_emulated(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_PENDING_DBG_EXCEPTIONS), 0);
}
END_TEST

/* MTF and a single-step trap on the same boundary: the MTF exit comes and
 * carries the trap in the pending debug exceptions; what L1 then writes
 * there is what the next entry of L2 runs with. */
START_TEST(emulated_instruction_with_tf_under_mtf_saves_the_trap_for_l1)
{
	V12()->CPU_BASED_VM_EXEC_CONTROL |= NEST_VMX_PROC_MONITOR_TRAP_FLAG;
	launch_ok();
	set02(NEST_VMCS_GUEST_RIP, EMULATED_NEXT_RIP);
	set02(NEST_VMCS_GUEST_RFLAGS, X86_RFLAGS_FIXED1 | X86_RFLAGS_TF);
	set02(NEST_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	ck_assert_int_eq(l2_emulated(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_MONITOR_TRAP_FLAG);
	ck_assert_uint_eq(V12()->GUEST_PENDING_DBG_EXCEPTIONS, PENDING_BS);
	V12()->GUEST_PENDING_DBG_EXCEPTIONS = 0;
	V12()->GUEST_RFLAGS = X86_RFLAGS_FIXED1;
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_PENDING_DBG_EXCEPTIONS), 0);
}
END_TEST

START_TEST(emulated_outside_l2_is_refused)
{
	ck_assert_int_eq(l2_emulated(), NEST_E_STATE);
	ck_assert_int_eq(nest_vmx_l2_emulated(NULL, &N.act), NEST_E_INVAL);
}
END_TEST

START_TEST(triple_fault_is_reflected)
{
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_TRIPLE_FAULT, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_TRIPLE_FAULT);
}
END_TEST

START_TEST(vmx_instruction_of_l2_is_reflected_with_instruction_information)
{
	launch_ok();
	set02(NEST_VMCS_VMX_INSTRUCTION_INFO, 0x12345);
	set02(NEST_VMCS_VM_EXIT_INSTRUCTION_LEN, 3);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_VMREAD, 0x10), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_VMREAD);
	ck_assert_uint_eq(V12()->VMX_INSTRUCTION_INFO, 0x12345);
	ck_assert_uint_eq(V12()->VM_EXIT_INSTRUCTION_LEN, 3);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, 0x10);
}
END_TEST

START_TEST(ept_violation_without_ept12_is_an_ept01_fault_for_l0)
{
	launch_ok();
	set02(NEST_VMCS_GUEST_PHYSICAL_ADDRESS, 0x123000);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_EPT_VIOLATION, 1), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
}
END_TEST

START_TEST(hardware_external_interrupt_is_l0s)
{
	launch_ok();
	set02(NEST_VMCS_VM_EXIT_INTR_INFO, INTR_INFO(NEST_VMX_INTR_TYPE_EXT_INTR, 0x30));
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_EXTERNAL_INTERRUPT, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
}
END_TEST

/* ---- IDT-vectoring information ---- */

START_TEST(event_being_delivered_is_reinjected_when_l0_handles_the_exit)
{
	launch_ok();
	set02(NEST_VMCS_IDT_VECTORING_INFO_FIELD,
	      INTR_INFO(NEST_VMX_INTR_TYPE_HW_EXCEPTION, X86_EXC_GP) |
		  NEST_VMX_INTR_INFO_DELIVER_ERROR_CODE);
	set02(NEST_VMCS_IDT_VECTORING_ERROR_CODE, 0x18);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_EPT_VIOLATION, 1), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_REINJECT);
	ck_assert_uint_eq(N.act.vector, X86_EXC_GP);
	ck_assert_uint_eq(N.act.error_code, 0x18);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD),
			  INTR_INFO(NEST_VMX_INTR_TYPE_HW_EXCEPTION, X86_EXC_GP) |
			      NEST_VMX_INTR_INFO_DELIVER_ERROR_CODE);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_ENTRY_EXCEPTION_ERROR_CODE), 0x18);
}
END_TEST

START_TEST(event_being_delivered_is_reported_to_l1_when_reflected)
{
	launch_ok();
	set02(NEST_VMCS_IDT_VECTORING_INFO_FIELD, INTR_INFO(NEST_VMX_INTR_TYPE_EXT_INTR, 0x40));
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_TRIPLE_FAULT, 0), NEST_OK);
	ck_assert_uint_eq(V12()->IDT_VECTORING_INFO_FIELD,
			  INTR_INFO(NEST_VMX_INTR_TYPE_EXT_INTR, 0x40));
}
END_TEST

START_TEST(reinjected_event_pending_at_a_later_reflection_goes_to_l1)
{
	launch_ok();
	set02(NEST_VMCS_IDT_VECTORING_INFO_FIELD, INTR_INFO(NEST_VMX_INTR_TYPE_EXT_INTR, 0x41));
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_EPT_VIOLATION, 1), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
	/* Before L2 runs again, L0 has an INIT for L1. */
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_INIT, 0), NEST_OK);
	ck_assert_uint_eq(V12()->IDT_VECTORING_INFO_FIELD,
			  INTR_INFO(NEST_VMX_INTR_TYPE_EXT_INTR, 0x41));
}
END_TEST

START_TEST(entry_injection_valid_bit_is_cleared_by_the_exit)
{
	V12()->VM_ENTRY_INTR_INFO_FIELD = INTR_INFO(NEST_VMX_INTR_TYPE_HW_EXCEPTION, X86_EXC_UD);
	launch_ok();
	ck_assert_uint_eq(v02(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD),
			  INTR_INFO(NEST_VMX_INTR_TYPE_HW_EXCEPTION, X86_EXC_UD));
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_uint_eq(V12()->VM_ENTRY_INTR_INFO_FIELD,
			  (NEST_VMX_INTR_TYPE_HW_EXCEPTION << NEST_VMX_INTR_INFO_TYPE_SHIFT) |
			      X86_EXC_UD);
}
END_TEST

/* ---- events for L1 while L2 runs ---- */

START_TEST(interrupt_for_l1_with_acknowledge_reports_its_vector)
{
	ck_assert_int_eq(nest_vmx_l2_extint_acked(N.ctx), 0); /* L2 not running */
	launch_ok();
	ck_assert_int_eq(nest_vmx_l2_extint_acked(N.ctx), 1);
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_EXTINT, 0x31), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_ACKED);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_EXTERNAL_INTERRUPT);
	ck_assert_uint_eq(V12()->VM_EXIT_INTR_INFO, INTR_INFO(NEST_VMX_INTR_TYPE_EXT_INTR, 0x31));
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, 0);
	assert_l1_host_state_loaded();
}
END_TEST

START_TEST(interrupt_for_l1_without_acknowledge_leaves_it_pending)
{
	V12()->VM_EXIT_CONTROLS &= ~NEST_VMX_EXIT_CTL_ACK_INTR_ON_EXIT;
	launch_ok();
	ck_assert_int_eq(nest_vmx_l2_extint_acked(N.ctx), 0);
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_EXTINT, 0x31), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert(!(N.act.flags & NEST_VMX_ACT_F_ACKED));
	ck_assert_uint_eq(V12()->VM_EXIT_INTR_INFO, 0);
}
END_TEST

START_TEST(interrupt_for_l1_without_exiting_goes_to_l2)
{
	V12()->PIN_BASED_VM_EXEC_CONTROL &= ~(NEST_VMX_PIN_EXT_INTR_EXITING);
	V12()->VM_EXIT_CONTROLS &= ~NEST_VMX_EXIT_CTL_ACK_INTR_ON_EXIT;
	launch_ok();
	ck_assert_int_eq(nest_vmx_l2_extint_acked(N.ctx), 1);
	set02(NEST_VMCS_GUEST_RFLAGS, 0x2 | X86_RFLAGS_IF);
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_EXTINT, 0x31), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_TO_L2);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD),
			  INTR_INFO(NEST_VMX_INTR_TYPE_EXT_INTR, 0x31));
}
END_TEST

/* L2 with RFLAGS.IF clear cannot take the interrupt L1 lets through: L0
 * gets an interrupt-window exit first (SDM 25.4.2, 26.7.5). */
/* Posted interrupts (SDM 30.6), run by libnest: the fixture's virtual-APIC
 * page is at 0x13000 (VIRR at +200H, one 32-bit register per 16 bytes), the
 * descriptor at N_PI_DESC_GPA. */
#define N_PI_DESC_GPA 0x14000ull
#define N_PI_NV 0xf2u
#define N_VAPIC_GPA 0x13000ull

static uint32_t *virr_reg(uint8_t vec)
{
	return sim_ptr(&N.s, N_VAPIC_GPA + 0x200 + 0x10u * (vec >> 5), 4);
}

static bool virr_has(uint8_t vec)
{
	return (*virr_reg(vec) >> (vec & 31)) & 1;
}

static uint64_t *pi_desc(void)
{
	return sim_ptr(&N.s, N_PI_DESC_GPA, 64);
}

static void posted_setup(uint16_t intr_status)
{
	struct nest__vmcs12 *v = V12();

	v->PIN_BASED_VM_EXEC_CONTROL |= NEST_VMX_PIN_POSTED_INTR;
	v->SECONDARY_VM_EXEC_CONTROL |= NEST_VMX_PROC2_VIRT_INTR_DELIVERY;
	v->POSTED_INTR_NOTIFICATION_VECTOR = N_PI_NV;
	v->POSTED_INTR_DESC_ADDR = N_PI_DESC_GPA;
	v->GUEST_INTR_STATUS = intr_status;
	memset(pi_desc(), 0, 64);
	launch_ok();
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_INTR_STATUS), intr_status);
	/* vmcs02 never processes L1's posted interrupts itself. */
	ck_assert(!(v02(NEST_VMCS_PIN_BASED_VM_EXEC_CONTROL) & NEST_VMX_PIN_POSTED_INTR));
}

static void post(uint8_t vec)
{
	pi_desc()[vec / 64] |= 1ull << (vec % 64);
	pi_desc()[4] |= 1; /* ON */
}

START_TEST(posted_notification_moves_pir_to_virr_and_raises_rvi)
{
	*virr_reg(0x31) |= 1u << (0x31 & 31); /* already requested */
	posted_setup(0x1030);		      /* SVI 10H, RVI 30H */
	post(0x45);
	post(0x81);
	pi_desc()[5] = 0xfeedull; /* the rest of the descriptor: L1's */
	pi_desc()[4] |= 0xab00ull;
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_EXTINT, N_PI_NV), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_POSTED);
	ck_assert_uint_eq(N.act.vector, N_PI_NV);
	ck_assert(nest_vmx_in_l2(N.ctx));
	/* PIR cleared, ON cleared, the rest kept. */
	for (unsigned i = 0; i < 4; i++)
		ck_assert_uint_eq(pi_desc()[i], 0);
	ck_assert_uint_eq(pi_desc()[4], 0xab00ull);
	ck_assert_uint_eq(pi_desc()[5], 0xfeedull);
	ck_assert(virr_has(0x45) && virr_has(0x81) && virr_has(0x31));
	ck_assert(!virr_has(0x46) && !virr_has(0x80));
	/* RVI = the highest vector posted, SVI kept. */
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_INTR_STATUS), 0x1081);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, 0); /* no exit to L1 */
}
END_TEST

START_TEST(posted_notification_keeps_a_higher_rvi_and_an_empty_pir_changes_nothing)
{
	posted_setup(0x0090);
	post(0x45);
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_EXTINT, N_PI_NV), NEST_OK);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_POSTED);
	ck_assert(virr_has(0x45));
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_INTR_STATUS), 0x0090);
	/* A second notification with nothing posted: dismissed, no change. */
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_EXTINT, N_PI_NV), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_POSTED);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_INTR_STATUS), 0x0090);
	ck_assert_uint_eq(*virr_reg(0x45), 1u << (0x45 & 31));
}
END_TEST

/* An L2 halted when the notification comes: the virtual interrupt is
 * delivered and ends HLT (SDM 30.2.2), so vmcs02 resumes active; not while
 * RFLAGS.IF is clear or VPPR masks it. A blocking by STI the host still
 * reports in HLT (after "sti; hlt") is over: it wakes, blocking cleared. */
START_TEST(posted_notification_wakes_a_halted_l2_it_is_delivered_to)
{
	for (unsigned i = 0; i < 4; i++) {
		V12()->launch_state = NEST_VMCS12_STATE_CLEAR;
		*(uint8_t *)sim_ptr(&N.s, N_VTPR_GPA, 1) = i == 2 ? 0x50 : 0x10;
		posted_setup(0);
		set02(NEST_VMCS_GUEST_ACTIVITY_STATE, NEST_VMX_ACTIVITY_HLT);
		set02(NEST_VMCS_GUEST_RFLAGS, 0x2 | (i == 1 ? 0 : X86_RFLAGS_IF));
		set02(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO,
		      i == 3 ? NEST_VMX_INTERRUPTIBILITY_STI : 0);
		post(0x45);
		ck_assert_int_eq(l2_event(NEST_VMX_EVT_EXTINT, N_PI_NV), NEST_OK);
		ck_assert(N.act.flags & NEST_VMX_ACT_F_POSTED);
		ck_assert_uint_eq(v02(NEST_VMCS_GUEST_INTR_STATUS), 0x45);
		ck_assert_uint_eq(v02(NEST_VMCS_GUEST_ACTIVITY_STATE),
				  (i == 0 || i == 3) ? NEST_VMX_ACTIVITY_ACTIVE
						     : NEST_VMX_ACTIVITY_HLT);
		ck_assert_uint_eq(v02(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO), 0);
		ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_TRIPLE_FAULT, 0), NEST_OK);
	}
}
END_TEST

/* Any other vector is an ordinary external interrupt (SDM 30.6 step 2). */
START_TEST(other_vector_with_posted_interrupts_exits_to_l1)
{
	posted_setup(0);
	post(0x45);
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_EXTINT, 0x31), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert(!(N.act.flags & NEST_VMX_ACT_F_POSTED));
	ck_assert(N.act.flags & NEST_VMX_ACT_F_ACKED);
	ck_assert_uint_eq(V12()->VM_EXIT_INTR_INFO, INTR_INFO(NEST_VMX_INTR_TYPE_EXT_INTR, 0x31));
	ck_assert_uint_eq(pi_desc()[1], 1ull << (0x45 % 64)); /* untouched */
	ck_assert(!virr_has(0x45));
}
END_TEST

/* Without "process posted interrupts" the notification vector is just a
 * vector. */
START_TEST(notification_vector_without_posted_interrupts_exits_to_l1)
{
	V12()->POSTED_INTR_NOTIFICATION_VECTOR = N_PI_NV;
	launch_ok();
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_EXTINT, N_PI_NV), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert(!(N.act.flags & NEST_VMX_ACT_F_POSTED));
}
END_TEST

/* A descriptor L0 does not grant: a clean error, nothing half done to L2. */
START_TEST(posted_descriptor_outside_l1_memory_is_a_clean_error)
{
	V12()->PIN_BASED_VM_EXEC_CONTROL |= NEST_VMX_PIN_POSTED_INTR;
	V12()->SECONDARY_VM_EXEC_CONTROL |= NEST_VMX_PROC2_VIRT_INTR_DELIVERY;
	V12()->POSTED_INTR_NOTIFICATION_VECTOR = N_PI_NV;
	V12()->POSTED_INTR_DESC_ADDR = MEM_SIZE + 0x40;
	launch_ok();
	ck_assert_int_ne(l2_event(NEST_VMX_EVT_EXTINT, N_PI_NV), NEST_OK);
	ck_assert(nest_vmx_in_l2(N.ctx));
}
END_TEST

START_TEST(interrupt_for_l2_with_if_clear_waits_for_the_window)
{
	V12()->PIN_BASED_VM_EXEC_CONTROL &= ~(NEST_VMX_PIN_EXT_INTR_EXITING);
	launch_ok();
	set02(NEST_VMCS_GUEST_RFLAGS, 0x2);
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_EXTINT, 0x31), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_WINDOW);
	ck_assert(!(N.act.flags & NEST_VMX_ACT_F_TO_L2));
	ck_assert(!(v02(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD) & NEST_VMX_INTR_INFO_VALID));
	ck_assert(v02(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_INTR_WINDOW_EXITING);

	/* L2 sets IF: the window exit is L0's, and the bit goes away. */
	set02(NEST_VMCS_GUEST_RFLAGS, 0x2 | X86_RFLAGS_IF);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_INTERRUPT_WINDOW, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
	ck_assert(!(v02(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_INTR_WINDOW_EXITING));
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_EXTINT, 0x31), NEST_OK);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_TO_L2);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD),
			  INTR_INFO(NEST_VMX_INTR_TYPE_EXT_INTR, 0x31));
}
END_TEST

START_TEST(interrupt_for_l2_in_an_sti_or_mov_ss_shadow_waits)
{
	static const uint32_t shadows[] = {NEST_VMX_INTERRUPTIBILITY_STI,
					   NEST_VMX_INTERRUPTIBILITY_MOV_SS};

	V12()->PIN_BASED_VM_EXEC_CONTROL &= ~(NEST_VMX_PIN_EXT_INTR_EXITING);
	launch_ok();
	set02(NEST_VMCS_GUEST_RFLAGS, 0x2 | X86_RFLAGS_IF);
	for (unsigned i = 0; i < 2; i++) {
		set02(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO, shadows[i]);
		ck_assert_int_eq(l2_event(NEST_VMX_EVT_EXTINT, 0x40), NEST_OK);
		ck_assert(N.act.flags & NEST_VMX_ACT_F_WINDOW);
		ck_assert(!(v02(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD) & NEST_VMX_INTR_INFO_VALID));
	}
}
END_TEST

/* A second event while one is queued for L2's entry waits as well. */
START_TEST(interrupt_for_l2_while_one_is_queued_waits)
{
	V12()->PIN_BASED_VM_EXEC_CONTROL &= ~(NEST_VMX_PIN_EXT_INTR_EXITING);
	launch_ok();
	set02(NEST_VMCS_GUEST_RFLAGS, 0x2 | X86_RFLAGS_IF);
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_EXTINT, 0x31), NEST_OK);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_TO_L2);
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_EXTINT, 0x32), NEST_OK);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_WINDOW);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD),
			  INTR_INFO(NEST_VMX_INTR_TYPE_EXT_INTR, 0x31));
}
END_TEST

/* When L1 asked for the interrupt window too, the window exit is L1's;
 * L0's request ends with it. */
START_TEST(window_l1_asked_for_too_is_reflected_to_l1)
{
	V12()->PIN_BASED_VM_EXEC_CONTROL &= ~(NEST_VMX_PIN_EXT_INTR_EXITING);
	V12()->CPU_BASED_VM_EXEC_CONTROL |= NEST_VMX_PROC_INTR_WINDOW_EXITING;
	V12()->GUEST_RFLAGS = 0x2;
	launch_ok();
	set02(NEST_VMCS_GUEST_RFLAGS, 0x2);
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_EXTINT, 0x31), NEST_OK);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_WINDOW);
	set02(NEST_VMCS_GUEST_RFLAGS, 0x2 | X86_RFLAGS_IF);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_INTERRUPT_WINDOW, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_INTERRUPT_WINDOW);
	ck_assert_uint_eq(N.ctx->nested.l0_window, 0);
}
END_TEST

/* L2 entered in HLT with "interrupt-window exiting" and RFLAGS.IF set: the
 * exit is due before any instruction (SDM 26.7.5), so vmcs02 enters active
 * (the processor takes the exit at once, not waiting for a wake-up), and
 * the exit L1 gets saves HLT, the state L2 was in. */
START_TEST(hlt_entry_with_the_interrupt_window_open_exits_at_once)
{
	V12()->CPU_BASED_VM_EXEC_CONTROL |= NEST_VMX_PROC_INTR_WINDOW_EXITING;
	V12()->GUEST_RFLAGS = 0x2 | X86_RFLAGS_IF;
	V12()->GUEST_ACTIVITY_STATE = NEST_VMX_ACTIVITY_HLT;
	launch_ok();
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_ACTIVITY_STATE), NEST_VMX_ACTIVITY_ACTIVE);
	ck_assert_uint_eq(v02(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) &
			      NEST_VMX_PROC_INTR_WINDOW_EXITING,
			  NEST_VMX_PROC_INTR_WINDOW_EXITING);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_INTERRUPT_WINDOW, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_INTERRUPT_WINDOW);
	ck_assert_uint_eq(V12()->GUEST_ACTIVITY_STATE, NEST_VMX_ACTIVITY_HLT);

	/* L1 makes L2 active: the next exit saves what the processor left. */
	ck_assert_int_eq(vmwrite_reg(NEST_VMCS_GUEST_ACTIVITY_STATE, NEST_VMX_ACTIVITY_ACTIVE),
			 NEST_OK);
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_INTERRUPT_WINDOW, 0), NEST_OK);
	ck_assert_uint_eq(V12()->GUEST_ACTIVITY_STATE, NEST_VMX_ACTIVITY_ACTIVE);
}
END_TEST

/* Without an open window at entry, L2 enters HLT as L1 asked: IF clear,
 * no interrupt-window exiting, or an event injected (delivered first). */
START_TEST(hlt_entry_without_an_open_window_stays_halted)
{
	for (unsigned i = 0; i < 3; i++) {
		V12()->launch_state = NEST_VMCS12_STATE_CLEAR;
		V12()->CPU_BASED_VM_EXEC_CONTROL |= NEST_VMX_PROC_INTR_WINDOW_EXITING;
		V12()->GUEST_RFLAGS = 0x2 | X86_RFLAGS_IF;
		V12()->GUEST_ACTIVITY_STATE = NEST_VMX_ACTIVITY_HLT;
		V12()->VM_ENTRY_INTR_INFO_FIELD = 0;
		if (i == 0)
			V12()->GUEST_RFLAGS = 0x2;
		else if (i == 1)
			V12()->CPU_BASED_VM_EXEC_CONTROL &= ~NEST_VMX_PROC_INTR_WINDOW_EXITING;
		else
			V12()->VM_ENTRY_INTR_INFO_FIELD =
			    INTR_INFO(NEST_VMX_INTR_TYPE_HW_EXCEPTION, X86_EXC_DB);
		launch_ok();
		ck_assert_uint_eq(v02(NEST_VMCS_GUEST_ACTIVITY_STATE), NEST_VMX_ACTIVITY_HLT);
		set02(NEST_VMCS_GUEST_ACTIVITY_STATE, NEST_VMX_ACTIVITY_ACTIVE);
		ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_TRIPLE_FAULT, 0), NEST_OK);
		ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
		ck_assert_uint_eq(V12()->GUEST_ACTIVITY_STATE, NEST_VMX_ACTIVITY_ACTIVE);
	}
}
END_TEST

/* An entry in HLT with virtual-interrupt delivery and a virtual interrupt
 * above VPPR: delivered at entry, which ends HLT (SDM 27.3.2.5, 30.2), so
 * vmcs02 enters active; VTPR (80H of the virtual-APIC page) and SVI
 * decide, and an exit after it does not put L2 back in HLT. */
/* An APIC-write exit under virtual-interrupt delivery alone (an x2APIC
 * SELF IPI write vmcs02 virtualizes, of an illegal value) is L1's. */
START_TEST(apic_write_exit_under_virtual_interrupt_delivery_is_reflected)
{
	V12()->SECONDARY_VM_EXEC_CONTROL |=
	    NEST_VMX_PROC2_VIRT_X2APIC_MODE | NEST_VMX_PROC2_VIRT_INTR_DELIVERY;
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_APIC_WRITE, 0x3f0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_APIC_WRITE);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, 0x3f0);
}
END_TEST

START_TEST(hlt_entry_with_a_deliverable_virtual_interrupt_runs_active)
{
	*(uint8_t *)sim_ptr(&N.s, N_VTPR_GPA, 1) = 0x20;
	V12()->SECONDARY_VM_EXEC_CONTROL |= NEST_VMX_PROC2_VIRT_INTR_DELIVERY;
	V12()->GUEST_RFLAGS = 0x2 | X86_RFLAGS_IF;
	V12()->GUEST_ACTIVITY_STATE = NEST_VMX_ACTIVITY_HLT;
	V12()->GUEST_INTR_STATUS = 0x0031; /* RVI 31H over VTPR 20H */
	launch_ok();
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_ACTIVITY_STATE), NEST_VMX_ACTIVITY_ACTIVE);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_INTR_STATUS), 0x0031);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_TRIPLE_FAULT, 0), NEST_OK);
	ck_assert_uint_eq(V12()->GUEST_ACTIVITY_STATE, NEST_VMX_ACTIVITY_ACTIVE);
}
END_TEST

/* Not deliverable at entry: same priority class as VTPR, SVI above RVI or
 * RFLAGS.IF clear: L2 stays in HLT. With an interrupt-window exit L1 asked
 * for, no virtual interrupt is recognized (SDM 30.2.1): the window exit
 * comes first (active, as hlt_entry_with_the_interrupt_window_open_...). */
START_TEST(hlt_entry_without_a_deliverable_virtual_interrupt_stays_halted)
{
	for (unsigned i = 0; i < 4; i++) {
		V12()->launch_state = NEST_VMCS12_STATE_CLEAR;
		*(uint8_t *)sim_ptr(&N.s, N_VTPR_GPA, 1) = 0x20;
		V12()->SECONDARY_VM_EXEC_CONTROL |= NEST_VMX_PROC2_VIRT_INTR_DELIVERY;
		V12()->CPU_BASED_VM_EXEC_CONTROL &= ~NEST_VMX_PROC_INTR_WINDOW_EXITING;
		V12()->GUEST_RFLAGS = 0x2 | X86_RFLAGS_IF;
		V12()->GUEST_ACTIVITY_STATE = NEST_VMX_ACTIVITY_HLT;
		V12()->GUEST_INTR_STATUS = 0x0031;
		if (i == 0)
			*(uint8_t *)sim_ptr(&N.s, N_VTPR_GPA, 1) = 0x3f;
		else if (i == 1)
			V12()->GUEST_INTR_STATUS = 0x4031; /* SVI 40H in service */
		else if (i == 2)
			V12()->GUEST_RFLAGS = 0x2;
		else
			V12()->CPU_BASED_VM_EXEC_CONTROL |= NEST_VMX_PROC_INTR_WINDOW_EXITING;
		launch_ok();
		ck_assert_uint_eq(v02(NEST_VMCS_GUEST_ACTIVITY_STATE),
				  i == 3 ? NEST_VMX_ACTIVITY_ACTIVE : NEST_VMX_ACTIVITY_HLT);
		ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_TRIPLE_FAULT, 0), NEST_OK);
	}
}
END_TEST

/* An NMI for L2 while it is blocked: vmcs02 runs an L2 of an L1 without
 * NMI exiting with virtual NMIs (where the host has them), so L0 gets the
 * NMI window; without them, the interrupt window is the next chance. */
START_TEST(nmi_for_l2_blocked_waits_for_a_window)
{
	V12()->PIN_BASED_VM_EXEC_CONTROL &= ~(NEST_VMX_PIN_NMI_EXITING | NEST_VMX_PIN_VIRTUAL_NMIS);
	launch_ok();
	ck_assert(v02(NEST_VMCS_PIN_BASED_VM_EXEC_CONTROL) & NEST_VMX_PIN_VIRTUAL_NMIS);
	set02(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO, NEST_VMX_INTERRUPTIBILITY_NMI);
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_NMI, 0), NEST_OK);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_WINDOW);
	ck_assert(v02(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_NMI_WINDOW_EXITING);
	ck_assert(!(v02(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_INTR_WINDOW_EXITING));
	set02(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_NMI, 0), NEST_OK);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_TO_L2);
}
END_TEST

START_TEST(nmi_for_l2_blocked_on_a_host_without_virtual_nmis_waits_for_interrupts)
{
	N.ctx->nested.l0.host_vnmi = false;
	V12()->PIN_BASED_VM_EXEC_CONTROL &= ~(NEST_VMX_PIN_NMI_EXITING | NEST_VMX_PIN_VIRTUAL_NMIS);
	launch_ok();
	ck_assert(!(v02(NEST_VMCS_PIN_BASED_VM_EXEC_CONTROL) & NEST_VMX_PIN_VIRTUAL_NMIS));
	set02(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO, NEST_VMX_INTERRUPTIBILITY_NMI);
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_NMI, 0), NEST_OK);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_WINDOW);
	ck_assert(v02(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_INTR_WINDOW_EXITING);
	ck_assert(!(v02(NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_NMI_WINDOW_EXITING));
}
END_TEST

START_TEST(nmi_for_l1_with_nmi_exiting_is_reflected)
{
	launch_ok();
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_NMI, 0), NEST_OK);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_EXCEPTION_NMI);
	ck_assert_uint_eq(V12()->VM_EXIT_INTR_INFO, INTR_INFO(NEST_VMX_INTR_TYPE_NMI, 2));
}
END_TEST

START_TEST(init_for_l1_always_exits_with_reason_3)
{
	launch_ok();
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_INIT, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_INIT_SIGNAL);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, 0);
}
END_TEST

START_TEST(sipi_in_wait_for_sipi_exits_with_its_vector)
{
	launch_ok();
	set02(NEST_VMCS_GUEST_ACTIVITY_STATE, NEST_VMX_ACTIVITY_WAIT_SIPI);
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_SIPI, 0x9a), NEST_OK);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_SIPI);
	ck_assert_uint_eq(V12()->EXIT_QUALIFICATION, 0x9a);
	ck_assert_uint_eq(V12()->GUEST_ACTIVITY_STATE, NEST_VMX_ACTIVITY_WAIT_SIPI);
}
END_TEST

START_TEST(sipi_outside_wait_for_sipi_is_dropped)
{
	launch_ok();
	ck_assert_int_eq(l2_event(NEST_VMX_EVT_SIPI, 0x9a), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert(nest_vmx_in_l2(N.ctx));
}
END_TEST

/* ---- VM-exit MSR-load area ---- */

START_TEST(exit_msr_load_area_is_given_to_l0)
{
	struct nest_vmx_msr_entry e = {X86_MSR_IA32_SYSENTER_ESP, 0, 0x5000};
	const struct nest_vmx_msr_entry *list;
	uint32_t n;

	memcpy(sim_ptr(&N.s, N_EXIT_MSR_GPA, sizeof(e)), &e, sizeof(e));
	V12()->VM_EXIT_MSR_LOAD_ADDR = N_EXIT_MSR_GPA;
	V12()->VM_EXIT_MSR_LOAD_COUNT = 1;
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_MSRS);
	ck_assert_int_eq(nest_vmx_pending_msrs(N.ctx, &list, &n), NEST_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(list[0].value, 0x5000);
}
END_TEST

START_TEST(bad_exit_msr_load_entry_is_a_vmx_abort)
{
	struct nest_vmx_msr_entry e = {X86_MSR_IA32_GS_BASE, 0, 0};

	memcpy(sim_ptr(&N.s, N_EXIT_MSR_GPA, sizeof(e)), &e, sizeof(e));
	V12()->VM_EXIT_MSR_LOAD_ADDR = N_EXIT_MSR_GPA;
	V12()->VM_EXIT_MSR_LOAD_COUNT = 1;
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_ABORT);
	ck_assert_uint_eq(V12()->abort, VMX_ABORT_LOAD_HOST_MSR);
}
END_TEST

/* ---- VM-exit MSR-store area ---- */

#define N_STORE_GPA 0x1b000ull

START_TEST(exit_msr_store_area_receives_l2s_values)
{
	struct nest_vmx_msr_entry e = {X86_MSR_IA32_SYSENTER_CS, 0, 0xdeadbeef};

	memcpy(sim_ptr(&N.s, N_STORE_GPA, sizeof(e)), &e, sizeof(e));
	V12()->VM_EXIT_MSR_STORE_ADDR = N_STORE_GPA;
	V12()->VM_EXIT_MSR_STORE_COUNT = 1;
	launch_ok();
	sim_guest_msr(&N.s, X86_MSR_IA32_SYSENTER_CS, 0x23); /* L2's value, in L0's view */
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_uint_eq(sim_read32(&N.s, N_STORE_GPA), X86_MSR_IA32_SYSENTER_CS);
	ck_assert_uint_eq(sim_read64(&N.s, N_STORE_GPA + 8), 0x23);
	ck_assert(!(N.act.flags & NEST_VMX_ACT_F_ABORT));
}
END_TEST

/* Issue #13.1: a write-only or nonexistent MSR (0x79, 0x40000000) in the
 * hardware store list VMX-aborts the physical CPU at L2's exit, and a host
 * MSR (IA32_VMX_BASIC, IA32_TSC) would be read with the host's value: L1's
 * list never reaches vmcs02's hardware list. */
START_TEST(exit_msr_store_list_never_reaches_the_hardware_list)
{
	struct nest_vmx_msr_entry e[4] = {
	    {0x79, 0, 0}, {0x40000000u, 0, 0}, {0x480, 0, 0}, {0x10, 0, 0}};

	memcpy(sim_ptr(&N.s, N_STORE_GPA, sizeof(e)), e, sizeof(e));
	V12()->VM_EXIT_MSR_STORE_ADDR = N_STORE_GPA;
	V12()->VM_EXIT_MSR_STORE_COUNT = 4;
	launch_ok();
	ck_assert_uint_eq(v02(NEST_VMCS_VM_EXIT_MSR_STORE_COUNT), 0);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_EXIT_MSR_STORE_ADDR), 0);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_EXIT_MSR_LOAD_COUNT), 0);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_ENTRY_MSR_LOAD_COUNT), 0);
}
END_TEST

/* The values come from L0's view of the guest: an MSR the guest cannot
 * read there (write-only, nonexistent, host-private) is a VMX abort into
 * L1 (SDM 28.4), never a host value. */
START_TEST(exit_msr_store_of_an_msr_the_guest_cannot_read_is_a_vmx_abort)
{
	struct nest_vmx_msr_entry e[2] = {{X86_MSR_IA32_SYSENTER_CS, 0, 0}, {0x480, 0, 0}};

	memcpy(sim_ptr(&N.s, N_STORE_GPA, sizeof(e)), e, sizeof(e));
	V12()->VM_EXIT_MSR_STORE_ADDR = N_STORE_GPA;
	V12()->VM_EXIT_MSR_STORE_COUNT = 2;
	sim_guest_msr(&N.s, X86_MSR_IA32_SYSENTER_CS, 0x23);
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_ABORT);
	ck_assert_uint_eq(V12()->abort, VMX_ABORT_SAVE_GUEST_MSR);
	ck_assert_uint_eq(sim_read64(&N.s, N_STORE_GPA + 24), 0);
}
END_TEST

START_TEST(exit_msr_store_without_a_guest_rdmsr_op_is_unsupported)
{
	struct nest_vmx_msr_entry e = {X86_MSR_IA32_SYSENTER_CS, 0, 0};

	memcpy(sim_ptr(&N.s, N_STORE_GPA, sizeof(e)), &e, sizeof(e));
	V12()->VM_EXIT_MSR_STORE_ADDR = N_STORE_GPA;
	V12()->VM_EXIT_MSR_STORE_COUNT = 1;
	N.s.ops.guest_rdmsr = NULL;
	ck_assert_int_eq(vmlaunch(), NEST_E_UNSUPPORTED);
	ck_assert(!nest_vmx_in_l2(N.ctx));
}
END_TEST

/* The processor reads the store list at the exit (SDM 28.4): an entry
 * that L2 writes while it runs is the one stored. */
START_TEST(exit_msr_store_list_is_read_at_the_exit)
{
	struct nest_vmx_msr_entry e = {X86_MSR_IA32_SYSENTER_CS, 0, 0};

	memset(sim_ptr(&N.s, N_STORE_GPA, sizeof(e)), 0, sizeof(e));
	V12()->VM_EXIT_MSR_STORE_ADDR = N_STORE_GPA;
	V12()->VM_EXIT_MSR_STORE_COUNT = 1;
	launch_ok();
	memcpy(sim_ptr(&N.s, N_STORE_GPA, sizeof(e)), &e, sizeof(e)); /* L2 writes it */
	sim_guest_msr(&N.s, X86_MSR_IA32_SYSENTER_CS, 0x31415927);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_VMCALL, 0), NEST_OK);
	ck_assert(!(N.act.flags & NEST_VMX_ACT_F_ABORT));
	ck_assert_uint_eq(sim_read32(&N.s, N_STORE_GPA), X86_MSR_IA32_SYSENTER_CS);
	ck_assert_uint_eq(sim_read64(&N.s, N_STORE_GPA + 8), 0x31415927);
}
END_TEST

/* A list of the full offered size (512 entries, IA32_VMX_MISC N = 0) is
 * stored whole; one entry beyond it is a VMX abort, never a failed call. */
START_TEST(exit_msr_store_of_the_offered_maximum_is_stored_whole)
{
	static struct nest_vmx_msr_entry e[513];
	unsigned i;

	for (i = 0; i < 513; i++)
		e[i] = (struct nest_vmx_msr_entry){X86_MSR_IA32_SYSENTER_CS, 0, 0};
	memcpy(sim_ptr(&N.s, N_STORE_GPA, sizeof(e)), e, sizeof(e));
	sim_guest_msr(&N.s, X86_MSR_IA32_SYSENTER_CS, 0x23);
	V12()->VM_EXIT_MSR_STORE_ADDR = N_STORE_GPA;
	V12()->VM_EXIT_MSR_STORE_COUNT = 512;
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert(!(N.act.flags & NEST_VMX_ACT_F_ABORT));
	ck_assert_uint_eq(sim_read64(&N.s, N_STORE_GPA + 8), 0x23);
	ck_assert_uint_eq(sim_read64(&N.s, N_STORE_GPA + 511 * 16 + 8), 0x23);
	ck_assert_uint_eq(sim_read64(&N.s, N_STORE_GPA + 512 * 16 + 8), 0);
}
END_TEST

START_TEST(exit_msr_store_beyond_the_offered_maximum_is_a_vmx_abort)
{
	V12()->VM_EXIT_MSR_STORE_ADDR = N_STORE_GPA;
	V12()->VM_EXIT_MSR_STORE_COUNT = 513;
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_ABORT);
	ck_assert_uint_eq(V12()->abort, VMX_ABORT_SAVE_GUEST_MSR);
}
END_TEST

START_TEST(exit_msr_store_of_an_x2apic_msr_is_a_vmx_abort)
{
	struct nest_vmx_msr_entry e = {0x808, 0, 0};

	memcpy(sim_ptr(&N.s, N_STORE_GPA, sizeof(e)), &e, sizeof(e));
	V12()->VM_EXIT_MSR_STORE_ADDR = N_STORE_GPA;
	V12()->VM_EXIT_MSR_STORE_COUNT = 1;
	launch_ok();
	ck_assert_uint_eq(v02(NEST_VMCS_VM_EXIT_MSR_STORE_COUNT), 0);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_ABORT);
	ck_assert_uint_eq(V12()->abort, VMX_ABORT_SAVE_GUEST_MSR);
}
END_TEST

START_TEST(exit_msr_load_count_beyond_what_libnest_keeps_is_an_abort_not_a_crash)
{
	N.ctx->caps.misc |= 1ull << VMX_MISC_MAX_MSR_LIST_SHIFT; /* 1024 entries allowed */
	V12()->VM_EXIT_MSR_LOAD_ADDR = N_EXIT_MSR_GPA;
	V12()->VM_EXIT_MSR_LOAD_COUNT = 600;
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert(N.act.flags & NEST_VMX_ACT_F_ABORT);
}
END_TEST

START_TEST(entry_msr_load_count_beyond_what_libnest_keeps_is_unsupported)
{
	N.ctx->caps.misc |= 1ull << VMX_MISC_MAX_MSR_LIST_SHIFT;
	V12()->VM_ENTRY_MSR_LOAD_COUNT = 600;
	ck_assert_int_eq(vmlaunch(), NEST_E_UNSUPPORTED);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_NONE);
}
END_TEST

/* ---- API misuse ---- */

START_TEST(l2_exit_outside_l2_is_a_state_error)
{
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_E_STATE);
}
END_TEST

START_TEST(shadow_bitmaps_clear_exactly_the_shadowed_fields)
{
	static uint8_t rd[4096], wr[4096];

	ck_assert_int_eq(nest_vmx_shadow_bitmaps(rd, wr), NEST_OK);
	/* GUEST_RIP is RW-shadowed, VM_EXIT_REASON at most RO, HOST_RIP not. */
	ck_assert(!(rd[NEST_VMCS_GUEST_RIP >> 3] & (1u << (NEST_VMCS_GUEST_RIP & 7))));
	ck_assert(!(wr[NEST_VMCS_GUEST_RIP >> 3] & (1u << (NEST_VMCS_GUEST_RIP & 7))));
	ck_assert(wr[NEST_VMCS_VM_EXIT_REASON >> 3] & (1u << (NEST_VMCS_VM_EXIT_REASON & 7)));
	ck_assert(rd[NEST_VMCS_HOST_RIP >> 3] & (1u << (NEST_VMCS_HOST_RIP & 7)));
}
END_TEST

/* libnest runs L1's PML: the index lives in vmcs12, which a shadow VMCS of
 * a processor without PML could not hold, so L1's VMREAD and VMWRITE of it
 * always exit. */
START_TEST(shadow_bitmaps_make_the_pml_index_exit)
{
	static uint8_t rd[4096], wr[4096];
	const unsigned e = NEST_VMCS_GUEST_PML_INDEX;

	ck_assert_int_eq(nest_vmx_shadow_bitmaps(rd, wr), NEST_OK);
	ck_assert(rd[e >> 3] & (1u << (e & 7)));
	ck_assert(wr[e >> 3] & (1u << (e & 7)));
}
END_TEST

static Suite *nested_suite(void)
{
	Suite *s = suite_create("vmx_nested");
	TCase *t = tcase_create("scenario");

	tcase_add_checked_fixture(t, nfx_setup, nfx_teardown);
	tcase_add_test(t, vmlaunch_enters_l2_and_marks_the_vmcs_launched);
	tcase_add_test(t, vmcs02_host_state_is_vmcs01s_never_vmcs12s);
	tcase_add_test(t, vmcs02_uses_merged_bitmaps_not_l1_addresses);
	tcase_add_test(t, l0_owned_msr_stays_intercepted_when_l1_passes_it);
	tcase_add_test(t, vpid12_runs_as_vpid02_with_a_flush_on_first_entry);
	tcase_add_test(t, vmlaunch_of_a_launched_vmcs_fails_with_error_4);
	tcase_add_test(t, exit_saves_the_pdptes_only_under_pae_paging);
	tcase_add_test(t, vmresume_of_a_clear_vmcs_fails_with_error_5);
	tcase_add_test(t, entry_blocked_by_mov_ss_fails_with_error_26);
	tcase_add_test(t, invalid_control_fails_with_error_7_and_no_vmcs02_write);
	tcase_add_test(t, tpr_threshold_above_vtpr_fails_with_error_7);
	tcase_add_test(t, vmresume_checks_the_vtpr_l1_wrote_since_the_last_entry);
	tcase_add_test(t, link_pointer_to_a_wrong_revision_fails_with_reason_33);
	tcase_add_test(t, invalid_guest_state_exits_into_l1_with_reason_33);
	tcase_add_test(t, bad_msr_load_entry_exits_with_reason_34_and_its_index);
	tcase_add_test(t, entry_msr_load_area_is_read_once_and_given_to_l0);
	tcase_add_test(t, vmresume_with_nothing_changed_writes_no_vmcs02_field);
	tcase_add_test(t, vmresume_writes_only_the_field_l1_changed);
	tcase_add_test(t, cpuid_is_reflected_with_exit_information_and_guest_state);
	tcase_add_test(t, emulated_instruction_under_l1s_mtf_exits_to_l1);
	tcase_add_test(t, emulated_instruction_with_tf_leaves_a_single_step_trap);
	tcase_add_test(t, emulated_instruction_with_tf_under_mtf_saves_the_trap_for_l1);
	tcase_add_test(t, emulated_outside_l2_is_refused);
	tcase_add_test(t, efer_and_pat_saved_under_l1s_save_controls);
	tcase_add_test(t, hlt_with_l1_hlt_exiting_is_reflected);
	tcase_add_test(t, hlt_without_l1_hlt_exiting_is_l0s);
	tcase_add_test(t, io_with_l1_bitmap_bit_set_is_reflected_with_qualification);
	tcase_add_test(t, io_with_l1_bitmap_clear_is_l0s);
	tcase_add_test(t, io_without_bitmaps_but_unconditional_exiting_is_reflected);
	tcase_add_test(t, msr_read_with_l1_bitmap_bit_set_is_reflected);
	tcase_add_test(t, msr_without_l1_bitmaps_is_reflected);
	tcase_add_test(t, cr0_write_to_an_l1_owned_bit_is_reflected);
	tcase_add_test(t, cr0_write_matching_l1s_shadow_is_l0s);
	tcase_add_test(t, page_fault_matching_l1s_mask_is_reflected_with_error_code);
	tcase_add_test(t, page_fault_not_matching_l1s_mask_is_l0s);
	tcase_add_test(t, exception_l0_raises_in_l2_exits_when_l1_intercepts_it);
	tcase_add_test(t, exception_l0_raises_in_l2_is_delivered_when_l1_does_not_intercept_it);
	tcase_add_test(t, page_fault_l0_raises_in_l2_follows_l1s_mask_and_match);
	tcase_add_test(t, exception_l0_raises_in_real_mode_l2_has_no_error_code);
	tcase_add_test(t, triple_fault_is_reflected);
	tcase_add_test(t, vmx_instruction_of_l2_is_reflected_with_instruction_information);
	tcase_add_test(t, ept_violation_without_ept12_is_an_ept01_fault_for_l0);
	tcase_add_test(t, hardware_external_interrupt_is_l0s);
	tcase_add_test(t, event_being_delivered_is_reinjected_when_l0_handles_the_exit);
	tcase_add_test(t, event_being_delivered_is_reported_to_l1_when_reflected);
	tcase_add_test(t, reinjected_event_pending_at_a_later_reflection_goes_to_l1);
	tcase_add_test(t, entry_injection_valid_bit_is_cleared_by_the_exit);
	tcase_add_test(t, interrupt_for_l1_with_acknowledge_reports_its_vector);
	tcase_add_test(t, posted_notification_moves_pir_to_virr_and_raises_rvi);
	tcase_add_test(t, posted_notification_keeps_a_higher_rvi_and_an_empty_pir_changes_nothing);
	tcase_add_test(t, posted_notification_wakes_a_halted_l2_it_is_delivered_to);
	tcase_add_test(t, other_vector_with_posted_interrupts_exits_to_l1);
	tcase_add_test(t, notification_vector_without_posted_interrupts_exits_to_l1);
	tcase_add_test(t, posted_descriptor_outside_l1_memory_is_a_clean_error);
	tcase_add_test(t, interrupt_for_l1_without_acknowledge_leaves_it_pending);
	tcase_add_test(t, interrupt_for_l1_without_exiting_goes_to_l2);
	tcase_add_test(t, interrupt_for_l2_with_if_clear_waits_for_the_window);
	tcase_add_test(t, interrupt_for_l2_in_an_sti_or_mov_ss_shadow_waits);
	tcase_add_test(t, interrupt_for_l2_while_one_is_queued_waits);
	tcase_add_test(t, window_l1_asked_for_too_is_reflected_to_l1);
	tcase_add_test(t, hlt_entry_with_the_interrupt_window_open_exits_at_once);
	tcase_add_test(t, hlt_entry_without_an_open_window_stays_halted);
	tcase_add_test(t, apic_write_exit_under_virtual_interrupt_delivery_is_reflected);
	tcase_add_test(t, hlt_entry_with_a_deliverable_virtual_interrupt_runs_active);
	tcase_add_test(t, hlt_entry_without_a_deliverable_virtual_interrupt_stays_halted);
	tcase_add_test(t, nmi_for_l2_blocked_waits_for_a_window);
	tcase_add_test(t, nmi_for_l2_blocked_on_a_host_without_virtual_nmis_waits_for_interrupts);
	tcase_add_test(t, nmi_for_l1_with_nmi_exiting_is_reflected);
	tcase_add_test(t, init_for_l1_always_exits_with_reason_3);
	tcase_add_test(t, sipi_in_wait_for_sipi_exits_with_its_vector);
	tcase_add_test(t, sipi_outside_wait_for_sipi_is_dropped);
	tcase_add_test(t, exit_msr_load_area_is_given_to_l0);
	tcase_add_test(t, bad_exit_msr_load_entry_is_a_vmx_abort);
	tcase_add_test(t, exit_msr_store_area_receives_l2s_values);
	tcase_add_test(t, exit_msr_store_list_never_reaches_the_hardware_list);
	tcase_add_test(t, exit_msr_store_of_an_msr_the_guest_cannot_read_is_a_vmx_abort);
	tcase_add_test(t, exit_msr_store_without_a_guest_rdmsr_op_is_unsupported);
	tcase_add_test(t, exit_msr_store_of_an_x2apic_msr_is_a_vmx_abort);
	tcase_add_test(t, exit_msr_store_list_is_read_at_the_exit);
	tcase_add_test(t, exit_msr_store_of_the_offered_maximum_is_stored_whole);
	tcase_add_test(t, exit_msr_store_beyond_the_offered_maximum_is_a_vmx_abort);
	tcase_add_test(t, exit_msr_load_count_beyond_what_libnest_keeps_is_an_abort_not_a_crash);
	tcase_add_test(t, entry_msr_load_count_beyond_what_libnest_keeps_is_unsupported);
	tcase_add_test(t, l2_exit_outside_l2_is_a_state_error);
	tcase_add_test(t, shadow_bitmaps_clear_exactly_the_shadowed_fields);
	tcase_add_test(t, shadow_bitmaps_make_the_pml_index_exit);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return nest_test_run(nested_suite());
}
