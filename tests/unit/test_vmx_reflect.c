/* SPDX-License-Identifier: MIT */
/* Unit tests of the synthesized VM exit (arch/x86/vmx/reflect.c): exit
 * information, guest-state saving, host-state loading (SDM 28.2-28.5). */
#include <check.h>

#include "check_main.h"
#include <stdlib.h>
#include <string.h>

#include "cpu/x86.h"
#include "vmx/reflect.h"
#include "vmx/vmx_arch.h"

static struct nest__vmcs12 v, v02, o;
static struct nest__vmx_exit_report r;
static struct nest__vmx_fieldset set;
static struct nest__vmx_l1_now l1;

static void setup(void)
{
	memset(&v, 0, sizeof(v));
	memset(&v02, 0, sizeof(v02));
	memset(&r, 0, sizeof(r));
	memset(&l1, 0, sizeof(l1));
	v.VM_EXIT_CONTROLS = NEST_VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE;
	v.HOST_CR0 = X86_CR0_PE | X86_CR0_NE | X86_CR0_PG | X86_CR0_WP;
	v.HOST_CR4 = X86_CR4_VMXE | X86_CR4_PAE;
	v.HOST_CR3 = 0x3000;
	v.HOST_CS_SELECTOR = 0x10;
	v.HOST_SS_SELECTOR = 0x18;
	v.HOST_DS_SELECTOR = 0;
	v.HOST_TR_SELECTOR = 0x40;
	v.HOST_RIP = 0xffff800000001000ull;
	v.HOST_RSP = 0xffff800000002000ull;
}

static bool in_set(unsigned i)
{
	return nest__vmx_fs_has(&set, i);
}

/* ---- exit information (SDM 28.2) ---- */

START_TEST(exit_information_fields_are_written)
{
	r.reason = NEST_VMX_EXIT_IO_INSTRUCTION;
	r.qual = 0x800008;
	r.gla = 0x1111;
	r.gpa = 0x2222;
	r.intr_info = 0x80000b0e;
	r.intr_error = 4;
	r.idt_info = 0x80000020;
	r.idt_error = 9;
	r.insn_len = 2;
	r.insn_info = 0x55;
	nest__vmx_write_exit_info(&v, &r);
	ck_assert_uint_eq(v.VM_EXIT_REASON, NEST_VMX_EXIT_IO_INSTRUCTION);
	ck_assert_uint_eq(v.EXIT_QUALIFICATION, 0x800008);
	ck_assert_uint_eq(v.GUEST_LINEAR_ADDRESS, 0x1111);
	ck_assert_uint_eq(v.GUEST_PHYSICAL_ADDRESS, 0x2222);
	ck_assert_uint_eq(v.VM_EXIT_INTR_INFO, 0x80000b0e);
	ck_assert_uint_eq(v.VM_EXIT_INTR_ERROR_CODE, 4);
	ck_assert_uint_eq(v.IDT_VECTORING_INFO_FIELD, 0x80000020);
	ck_assert_uint_eq(v.IDT_VECTORING_ERROR_CODE, 9);
	ck_assert_uint_eq(v.VM_EXIT_INSTRUCTION_LEN, 2);
	ck_assert_uint_eq(v.VMX_INSTRUCTION_INFO, 0x55);
}
END_TEST

START_TEST(exit_clears_entry_interruption_valid_bit_only)
{
	v.VM_ENTRY_INTR_INFO_FIELD = NEST_VMX_INTR_INFO_VALID | 0x30e;
	nest__vmx_write_exit_info(&v, &r);
	ck_assert_uint_eq(v.VM_ENTRY_INTR_INFO_FIELD, 0x30e);
}
END_TEST

START_TEST(exit_leaves_vm_instruction_error_alone)
{
	v.VM_INSTRUCTION_ERROR = 12;
	nest__vmx_write_exit_info(&v, &r);
	ck_assert_uint_eq(v.VM_INSTRUCTION_ERROR, 12);
}
END_TEST

/* ---- guest state (SDM 28.3) ---- */

START_TEST(guest_registers_and_segments_are_saved)
{
	v02.GUEST_RIP = 0x401000;
	v02.GUEST_RSP = 0x7000;
	v02.GUEST_RFLAGS = 0x246;
	v02.GUEST_CR3 = 0x9000;
	v02.GUEST_FS_BASE = 0x1234;
	v02.GUEST_SS_AR_BYTES = 0xc093;
	v02.GUEST_INTERRUPTIBILITY_INFO = NEST_VMX_INTERRUPTIBILITY_STI;
	v02.GUEST_ACTIVITY_STATE = NEST_VMX_ACTIVITY_HLT;
	nest__vmx_save_guest(&v, &v02, &r);
	ck_assert_uint_eq(v.GUEST_RIP, 0x401000);
	ck_assert_uint_eq(v.GUEST_RSP, 0x7000);
	ck_assert_uint_eq(v.GUEST_RFLAGS, 0x246);
	ck_assert_uint_eq(v.GUEST_CR3, 0x9000);
	ck_assert_uint_eq(v.GUEST_FS_BASE, 0x1234);
	ck_assert_uint_eq(v.GUEST_SS_AR_BYTES, 0xc093);
	ck_assert_uint_eq(v.GUEST_INTERRUPTIBILITY_INFO, NEST_VMX_INTERRUPTIBILITY_STI);
	ck_assert_uint_eq(v.GUEST_ACTIVITY_STATE, NEST_VMX_ACTIVITY_HLT);
}
END_TEST

/* Every guest-state field of the list (nest/vmcs-fields.def) is saved from
 * vmcs02, except those saved only under a control, or never, which keep
 * L1's values when no control asks for them (CR0/CR4: L2's view, below).
 * The PML index is never taken from vmcs02: libnest runs L1's PML. */
START_TEST(every_guest_field_is_saved_except_the_conditional_ones)
{
	unsigned i, saved = 0;

	for (i = 0; i < NEST__VF_COUNT; i++) {
		const struct nest_vmcs_field *f = &nest__vmcs_fields[i];
		unsigned bytes = nest_vmcs_width_bytes(f->width);

		memset((uint8_t *)&v + f->offset, 0x11, bytes);
		memset((uint8_t *)&v02 + f->offset, 0x22 + (i & 0x3f), bytes);
	}
	v.VM_EXIT_CONTROLS = 0;
	v.PIN_BASED_VM_EXEC_CONTROL = 0;
	v.CPU_BASED_VM_EXEC_CONTROL = 0;
	nest__vmx_save_guest(&v, &v02, &r);
	for (i = 0; i < NEST__VF_COUNT; i++) {
		const struct nest_vmcs_field *f = &nest__vmcs_fields[i];
		unsigned bytes = nest_vmcs_width_bytes(f->width);
		bool kept = i == NEST__VF_VMCS_LINK_POINTER || i == NEST__VF_GUEST_IA32_EFER ||
			    i == NEST__VF_GUEST_IA32_PAT || i == NEST__VF_GUEST_IA32_DEBUGCTL ||
			    i == NEST__VF_GUEST_DR7 || i == NEST__VF_VMX_PREEMPTION_TIMER_VALUE ||
			    i == NEST__VF_GUEST_IA32_PERF_GLOBAL_CTRL ||
			    i == NEST__VF_GUEST_PDPTE0 || i == NEST__VF_GUEST_PDPTE1 ||
			    i == NEST__VF_GUEST_PDPTE2 || i == NEST__VF_GUEST_PDPTE3 ||
			    i == NEST__VF_GUEST_PML_INDEX;

		if (f->type != NEST_VMCS_T_GUEST || i == NEST__VF_GUEST_CR0 ||
		    i == NEST__VF_GUEST_CR4)
			continue;
		if (kept) {
			for (unsigned b = 0; b < bytes; b++)
				ck_assert_msg(((uint8_t *)&v)[f->offset + b] == 0x11,
					      "%s was saved without its control", f->name);
		} else {
			ck_assert_msg(memcmp((uint8_t *)&v + f->offset, (uint8_t *)&v02 + f->offset,
					     bytes) == 0,
				      "%s was not saved", f->name);
			saved++;
		}
	}
	ck_assert_uint_gt(saved, 40);
}
END_TEST

START_TEST(link_pointer_is_never_overwritten)
{
	v.VMCS_LINK_POINTER = UINT64_MAX;
	v02.VMCS_LINK_POINTER = 0;
	nest__vmx_save_guest(&v, &v02, &r);
	ck_assert_uint_eq(v.VMCS_LINK_POINTER, UINT64_MAX);
}
END_TEST

START_TEST(efer_pat_debug_saved_only_under_their_save_controls)
{
	v.GUEST_IA32_EFER = 1;
	v.GUEST_IA32_PAT = 2;
	v.GUEST_DR7 = 0x400;
	v.GUEST_IA32_DEBUGCTL = 0;
	v02.GUEST_IA32_EFER = 0xd01;
	v02.GUEST_IA32_PAT = 0x0606;
	v02.GUEST_DR7 = 0x401;
	v02.GUEST_IA32_DEBUGCTL = 3;
	nest__vmx_save_guest(&v, &v02, &r);
	ck_assert_uint_eq(v.GUEST_IA32_EFER, 1);
	ck_assert_uint_eq(v.GUEST_IA32_PAT, 2);
	ck_assert_uint_eq(v.GUEST_DR7, 0x400);
	ck_assert_uint_eq(v.GUEST_IA32_DEBUGCTL, 0);
	v.VM_EXIT_CONTROLS |= NEST_VMX_EXIT_CTL_SAVE_EFER | NEST_VMX_EXIT_CTL_SAVE_PAT |
			      NEST_VMX_EXIT_CTL_SAVE_DEBUG_CONTROLS;
	nest__vmx_save_guest(&v, &v02, &r);
	ck_assert_uint_eq(v.GUEST_IA32_EFER, 0xd01);
	ck_assert_uint_eq(v.GUEST_IA32_PAT, 0x0606);
	ck_assert_uint_eq(v.GUEST_DR7, 0x401);
	ck_assert_uint_eq(v.GUEST_IA32_DEBUGCTL, 3);
}
END_TEST

START_TEST(preemption_timer_saved_only_with_save_control)
{
	v.PIN_BASED_VM_EXEC_CONTROL = NEST_VMX_PIN_PREEMPTION_TIMER;
	v.VMX_PREEMPTION_TIMER_VALUE = 1000;
	r.timer = 250;
	nest__vmx_save_guest(&v, &v02, &r);
	ck_assert_uint_eq(v.VMX_PREEMPTION_TIMER_VALUE, 1000);
	v.VM_EXIT_CONTROLS |= NEST_VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER;
	nest__vmx_save_guest(&v, &v02, &r);
	ck_assert_uint_eq(v.VMX_PREEMPTION_TIMER_VALUE, 250);
}
END_TEST

START_TEST(cr0_bits_only_l0_owns_are_saved_as_l2_sees_them)
{
	/* L0 owns TS and keeps it set in hardware; L2 thinks it is clear. */
	v.GUEST_CR0 = X86_CR0_PE | X86_CR0_PG;
	v.CR0_GUEST_HOST_MASK = X86_CR0_PG;
	v02.CR0_GUEST_HOST_MASK = X86_CR0_PG | X86_CR0_TS;
	v02.CR0_READ_SHADOW = X86_CR0_PG | X86_CR0_PE | X86_CR0_MP;
	v02.GUEST_CR0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_TS | X86_CR0_MP;
	nest__vmx_save_guest(&v, &v02, &r);
	ck_assert_uint_eq(v.GUEST_CR0, X86_CR0_PE | X86_CR0_PG | X86_CR0_MP);
}
END_TEST

START_TEST(pdptes_saved_only_when_l2_uses_ept)
{
	v02.GUEST_PDPTE0 = 0x1001;
	nest__vmx_save_guest(&v, &v02, &r);
	ck_assert_uint_eq(v.GUEST_PDPTE0, 0);
	v.CPU_BASED_VM_EXEC_CONTROL = NEST_VMX_PROC_ACTIVATE_SECONDARY;
	v.SECONDARY_VM_EXEC_CONTROL = NEST_VMX_PROC2_ENABLE_EPT;
	nest__vmx_save_guest(&v, &v02, &r);
	ck_assert_uint_eq(v.GUEST_PDPTE0, 0x1001);
}
END_TEST

/* ---- host state (SDM 28.5) ---- */

START_TEST(host_cr0_loaded_except_the_bits_the_sdm_keeps)
{
	l1.cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_CD | X86_CR0_NW | X86_CR0_ET | X86_CR0_TS;
	nest__vmx_load_host_state(&o, &set, &v, &l1);
	ck_assert_uint_eq(o.GUEST_CR0, X86_CR0_PE | X86_CR0_NE | X86_CR0_PG | X86_CR0_WP |
					   X86_CR0_CD | X86_CR0_NW | X86_CR0_ET);
	ck_assert(in_set(NEST__VF_GUEST_CR0));
}
END_TEST

START_TEST(host_cr3_cr4_loaded_and_pae_forced_in_64bit_host)
{
	v.HOST_CR4 = X86_CR4_VMXE;
	nest__vmx_load_host_state(&o, &set, &v, &l1);
	ck_assert_uint_eq(o.GUEST_CR3, 0x3000);
	ck_assert_uint_eq(o.GUEST_CR4, X86_CR4_VMXE | X86_CR4_PAE);
}
END_TEST

START_TEST(dr7_is_400h_and_debugctl_cleared)
{
	nest__vmx_load_host_state(&o, &set, &v, &l1);
	ck_assert_uint_eq(o.GUEST_DR7, 0x400);
	ck_assert_uint_eq(o.GUEST_IA32_DEBUGCTL, 0);
	ck_assert(in_set(NEST__VF_GUEST_DR7) && in_set(NEST__VF_GUEST_IA32_DEBUGCTL));
}
END_TEST

START_TEST(rflags_is_2_and_rip_rsp_from_host_fields)
{
	nest__vmx_load_host_state(&o, &set, &v, &l1);
	ck_assert_uint_eq(o.GUEST_RFLAGS, 0x2);
	ck_assert_uint_eq(o.GUEST_RIP, v.HOST_RIP);
	ck_assert_uint_eq(o.GUEST_RSP, v.HOST_RSP);
}
END_TEST

START_TEST(efer_lma_lme_follow_host_address_space_size)
{
	l1.efer = X86_EFER_SCE | X86_EFER_NXE;
	nest__vmx_load_host_state(&o, &set, &v, &l1);
	ck_assert_uint_eq(o.GUEST_IA32_EFER,
			  X86_EFER_SCE | X86_EFER_NXE | X86_EFER_LMA | X86_EFER_LME);
	v.VM_EXIT_CONTROLS = 0;
	l1.efer |= X86_EFER_LMA | X86_EFER_LME;
	nest__vmx_load_host_state(&o, &set, &v, &l1);
	ck_assert_uint_eq(o.GUEST_IA32_EFER, X86_EFER_SCE | X86_EFER_NXE);
}
END_TEST

START_TEST(efer_loaded_from_host_field_with_load_efer)
{
	v.VM_EXIT_CONTROLS |= NEST_VMX_EXIT_CTL_LOAD_EFER;
	v.HOST_IA32_EFER = X86_EFER_LMA | X86_EFER_LME;
	l1.efer = X86_EFER_SCE;
	nest__vmx_load_host_state(&o, &set, &v, &l1);
	ck_assert_uint_eq(o.GUEST_IA32_EFER, X86_EFER_LMA | X86_EFER_LME);
}
END_TEST

START_TEST(pat_and_perf_global_ctrl_loaded_only_under_their_controls)
{
	v.HOST_IA32_PAT = 0x0606;
	v.HOST_IA32_PERF_GLOBAL_CTRL = 3;
	nest__vmx_load_host_state(&o, &set, &v, &l1);
	ck_assert(!in_set(NEST__VF_GUEST_IA32_PAT));
	ck_assert(!in_set(NEST__VF_GUEST_IA32_PERF_GLOBAL_CTRL));
	v.VM_EXIT_CONTROLS |= NEST_VMX_EXIT_CTL_LOAD_PAT | NEST_VMX_EXIT_CTL_LOAD_PERF_GLOBAL_CTRL;
	nest__vmx_load_host_state(&o, &set, &v, &l1);
	ck_assert_uint_eq(o.GUEST_IA32_PAT, 0x0606);
	ck_assert_uint_eq(o.GUEST_IA32_PERF_GLOBAL_CTRL, 3);
}
END_TEST

START_TEST(sysenter_msrs_loaded_from_host_fields)
{
	v.HOST_IA32_SYSENTER_CS = 0x10;
	v.HOST_IA32_SYSENTER_ESP = 0x1000;
	v.HOST_IA32_SYSENTER_EIP = 0x2000;
	nest__vmx_load_host_state(&o, &set, &v, &l1);
	ck_assert_uint_eq(o.GUEST_SYSENTER_CS, 0x10);
	ck_assert_uint_eq(o.GUEST_SYSENTER_ESP, 0x1000);
	ck_assert_uint_eq(o.GUEST_SYSENTER_EIP, 0x2000);
}
END_TEST

START_TEST(cs_is_flat_64bit_code_in_a_64bit_host)
{
	nest__vmx_load_host_state(&o, &set, &v, &l1);
	ck_assert_uint_eq(o.GUEST_CS_SELECTOR, 0x10);
	ck_assert_uint_eq(o.GUEST_CS_BASE, 0);
	ck_assert_uint_eq(o.GUEST_CS_LIMIT, 0xffffffffu);
	ck_assert_uint_eq(o.GUEST_CS_AR_BYTES, 0xa09b);
}
END_TEST

START_TEST(null_data_selector_makes_the_segment_unusable)
{
	nest__vmx_load_host_state(&o, &set, &v, &l1);
	ck_assert_uint_eq(o.GUEST_SS_AR_BYTES, 0xc093);
	ck_assert_uint_eq(o.GUEST_DS_AR_BYTES, X86_SEG_UNUSABLE);
}
END_TEST

START_TEST(fs_gs_tr_bases_from_host_fields)
{
	v.HOST_FS_BASE = 0xf5;
	v.HOST_GS_BASE = 0x65;
	v.HOST_TR_BASE = 0x7500;
	nest__vmx_load_host_state(&o, &set, &v, &l1);
	ck_assert_uint_eq(o.GUEST_FS_BASE, 0xf5);
	ck_assert_uint_eq(o.GUEST_GS_BASE, 0x65);
	ck_assert_uint_eq(o.GUEST_TR_BASE, 0x7500);
	ck_assert_uint_eq(o.GUEST_TR_SELECTOR, 0x40);
	ck_assert_uint_eq(o.GUEST_TR_LIMIT, 0x67);
	ck_assert_uint_eq(o.GUEST_TR_AR_BYTES, 0x8b);
}
END_TEST

START_TEST(gdtr_idtr_limits_are_ffff)
{
	v.HOST_GDTR_BASE = 0x5000;
	v.HOST_IDTR_BASE = 0x6000;
	nest__vmx_load_host_state(&o, &set, &v, &l1);
	ck_assert_uint_eq(o.GUEST_GDTR_BASE, 0x5000);
	ck_assert_uint_eq(o.GUEST_GDTR_LIMIT, 0xffff);
	ck_assert_uint_eq(o.GUEST_IDTR_BASE, 0x6000);
	ck_assert_uint_eq(o.GUEST_IDTR_LIMIT, 0xffff);
}
END_TEST

START_TEST(ldtr_is_null_and_unusable)
{
	nest__vmx_load_host_state(&o, &set, &v, &l1);
	ck_assert_uint_eq(o.GUEST_LDTR_SELECTOR, 0);
	ck_assert_uint_eq(o.GUEST_LDTR_AR_BYTES, X86_SEG_UNUSABLE);
	ck_assert(in_set(NEST__VF_GUEST_LDTR_AR_BYTES));
}
END_TEST

START_TEST(host_state_load_touches_only_guest_fields)
{
	unsigned i;

	nest__vmx_load_host_state(&o, &set, &v, &l1);
	for (i = 0; i < NEST__VF_COUNT; i++)
		if (in_set(i))
			ck_assert_uint_eq(nest__vmcs_fields[i].type, NEST_VMCS_T_GUEST);
}
END_TEST

/* ---- blocking by NMI after the exit (SDM 28.5.5, 27.7.1) ---- */

#define NMI_BLOCKED NEST_VMX_INTERRUPTIBILITY_NMI
#define STI_MOVSS (NEST_VMX_INTERRUPTIBILITY_STI | NEST_VMX_INTERRUPTIBILITY_MOV_SS)

static uint64_t l1_intr_after(uint32_t reason)
{
	v.VM_EXIT_REASON = reason;
	nest__vmx_load_host_state(&o, &set, &v, &l1);
	ck_assert(in_set(NEST__VF_GUEST_INTERRUPTIBILITY_INFO));
	return o.GUEST_INTERRUPTIBILITY_INFO;
}

START_TEST(exit_never_leaves_blocking_by_sti_or_mov_ss)
{
	v.GUEST_INTERRUPTIBILITY_INFO = STI_MOVSS;
	l1.intr = STI_MOVSS;
	ck_assert_uint_eq(l1_intr_after(NEST_VMX_EXIT_CPUID), 0);
	ck_assert_uint_eq(
	    l1_intr_after(NEST_VMX_EXIT_INVALID_GUEST_STATE | NEST_VMX_EXIT_REASON_ENTRY_FAILURE),
	    0);
}
END_TEST

START_TEST(exit_keeps_l2_nmi_blocking_without_virtual_nmis)
{
	/* L1 was not blocking NMIs at VMLAUNCH; L2 is (in its NMI handler,
	 * or from the entry's interruptibility state): L1 continues blocked. */
	v.PIN_BASED_VM_EXEC_CONTROL = NEST_VMX_PIN_EXT_INTR_EXITING | NEST_VMX_PIN_NMI_EXITING;
	v.GUEST_INTERRUPTIBILITY_INFO = NMI_BLOCKED | NEST_VMX_INTERRUPTIBILITY_STI;
	ck_assert_uint_eq(l1_intr_after(NEST_VMX_EXIT_CPUID), NMI_BLOCKED);
}
END_TEST

START_TEST(exit_does_not_restore_l1_nmi_blocking_l2_left)
{
	/* L1 blocked NMIs at VMLAUNCH, L2 (without virtual NMIs) did not. */
	l1.intr = NMI_BLOCKED;
	v.GUEST_INTERRUPTIBILITY_INFO = 0;
	ck_assert_uint_eq(l1_intr_after(NEST_VMX_EXIT_HLT), 0);
}
END_TEST

START_TEST(exit_with_virtual_nmis_leaves_nmis_unblocked)
{
	/* Bit 3 is virtual-NMI blocking; NMIs are not blocked in VMX non-root
	 * operation, whatever L1's blocking at VMLAUNCH was. */
	v.PIN_BASED_VM_EXEC_CONTROL = NEST_VMX_PIN_NMI_EXITING | NEST_VMX_PIN_VIRTUAL_NMIS;
	v.GUEST_INTERRUPTIBILITY_INFO = NMI_BLOCKED;
	l1.intr = NMI_BLOCKED;
	ck_assert_uint_eq(l1_intr_after(NEST_VMX_EXIT_CPUID), 0);
}
END_TEST

START_TEST(exit_caused_by_an_nmi_blocks_nmis)
{
	v.PIN_BASED_VM_EXEC_CONTROL = NEST_VMX_PIN_NMI_EXITING | NEST_VMX_PIN_VIRTUAL_NMIS;
	v.VM_EXIT_INTR_INFO = NEST_VMX_INTR_INFO_VALID |
			      (NEST_VMX_INTR_TYPE_NMI << NEST_VMX_INTR_INFO_TYPE_SHIFT) |
			      X86_EXC_NMI;
	ck_assert_uint_eq(l1_intr_after(NEST_VMX_EXIT_EXCEPTION_NMI), NMI_BLOCKED);
	v.PIN_BASED_VM_EXEC_CONTROL = NEST_VMX_PIN_NMI_EXITING;
	ck_assert_uint_eq(l1_intr_after(NEST_VMX_EXIT_EXCEPTION_NMI), NMI_BLOCKED);
}
END_TEST

START_TEST(exit_caused_by_an_exception_does_not_block_nmis)
{
	v.VM_EXIT_INTR_INFO = NEST_VMX_INTR_INFO_VALID |
			      (NEST_VMX_INTR_TYPE_HW_EXCEPTION << NEST_VMX_INTR_INFO_TYPE_SHIFT) |
			      X86_EXC_GP;
	ck_assert_uint_eq(l1_intr_after(NEST_VMX_EXIT_EXCEPTION_NMI), 0);
}
END_TEST

START_TEST(failed_guest_state_checks_keep_l1_nmi_blocking)
{
	/* Exit reason 33: guest state was never loaded. */
	l1.intr = NMI_BLOCKED | NEST_VMX_INTERRUPTIBILITY_STI;
	v.GUEST_INTERRUPTIBILITY_INFO = 0;
	ck_assert_uint_eq(
	    l1_intr_after(NEST_VMX_EXIT_INVALID_GUEST_STATE | NEST_VMX_EXIT_REASON_ENTRY_FAILURE),
	    NMI_BLOCKED);
	l1.intr = 0;
	v.GUEST_INTERRUPTIBILITY_INFO = NMI_BLOCKED;
	ck_assert_uint_eq(
	    l1_intr_after(NEST_VMX_EXIT_INVALID_GUEST_STATE | NEST_VMX_EXIT_REASON_ENTRY_FAILURE),
	    0);
}
END_TEST

START_TEST(failed_msr_loading_has_the_loaded_guest_nmi_blocking)
{
	/* Exit reason 34 comes after the guest state was loaded. */
	l1.intr = 0;
	v.GUEST_INTERRUPTIBILITY_INFO = NMI_BLOCKED;
	ck_assert_uint_eq(
	    l1_intr_after(NEST_VMX_EXIT_MSR_LOADING | NEST_VMX_EXIT_REASON_ENTRY_FAILURE),
	    NMI_BLOCKED);
	v.PIN_BASED_VM_EXEC_CONTROL = NEST_VMX_PIN_NMI_EXITING | NEST_VMX_PIN_VIRTUAL_NMIS;
	ck_assert_uint_eq(
	    l1_intr_after(NEST_VMX_EXIT_MSR_LOADING | NEST_VMX_EXIT_REASON_ENTRY_FAILURE), 0);
}
END_TEST

static Suite *reflect_suite(void)
{
	Suite *s = suite_create("vmx_reflect");
	TCase *t = tcase_create("reflect");

	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, exit_information_fields_are_written);
	tcase_add_test(t, exit_clears_entry_interruption_valid_bit_only);
	tcase_add_test(t, exit_leaves_vm_instruction_error_alone);
	tcase_add_test(t, guest_registers_and_segments_are_saved);
	tcase_add_test(t, every_guest_field_is_saved_except_the_conditional_ones);
	tcase_add_test(t, link_pointer_is_never_overwritten);
	tcase_add_test(t, efer_pat_debug_saved_only_under_their_save_controls);
	tcase_add_test(t, preemption_timer_saved_only_with_save_control);
	tcase_add_test(t, cr0_bits_only_l0_owns_are_saved_as_l2_sees_them);
	tcase_add_test(t, pdptes_saved_only_when_l2_uses_ept);
	tcase_add_test(t, host_cr0_loaded_except_the_bits_the_sdm_keeps);
	tcase_add_test(t, host_cr3_cr4_loaded_and_pae_forced_in_64bit_host);
	tcase_add_test(t, dr7_is_400h_and_debugctl_cleared);
	tcase_add_test(t, rflags_is_2_and_rip_rsp_from_host_fields);
	tcase_add_test(t, efer_lma_lme_follow_host_address_space_size);
	tcase_add_test(t, efer_loaded_from_host_field_with_load_efer);
	tcase_add_test(t, pat_and_perf_global_ctrl_loaded_only_under_their_controls);
	tcase_add_test(t, sysenter_msrs_loaded_from_host_fields);
	tcase_add_test(t, cs_is_flat_64bit_code_in_a_64bit_host);
	tcase_add_test(t, null_data_selector_makes_the_segment_unusable);
	tcase_add_test(t, fs_gs_tr_bases_from_host_fields);
	tcase_add_test(t, gdtr_idtr_limits_are_ffff);
	tcase_add_test(t, ldtr_is_null_and_unusable);
	tcase_add_test(t, host_state_load_touches_only_guest_fields);
	tcase_add_test(t, exit_never_leaves_blocking_by_sti_or_mov_ss);
	tcase_add_test(t, exit_keeps_l2_nmi_blocking_without_virtual_nmis);
	tcase_add_test(t, exit_does_not_restore_l1_nmi_blocking_l2_left);
	tcase_add_test(t, exit_with_virtual_nmis_leaves_nmis_unblocked);
	tcase_add_test(t, exit_caused_by_an_nmi_blocks_nmis);
	tcase_add_test(t, exit_caused_by_an_exception_does_not_block_nmis);
	tcase_add_test(t, failed_guest_state_checks_keep_l1_nmi_blocking);
	tcase_add_test(t, failed_msr_loading_has_the_loaded_guest_nmi_blocking);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return nest_test_run(reflect_suite());
}
