/* SPDX-License-Identifier: MIT */
/*
 * VMFUNC executed by L2 with L1's EPTP switching (arch/x86/vmx/vmfunc.c,
 * SDM 26.5.6.3): vmcs02 enables VM functions with no function, so L2's
 * VMFUNC exits to L0; libnest switches EPT12 and the shadow EPT02 from
 * L1's EPTP list and resumes L2, or gives L1 the VM exit (reason 59) the
 * SDM specifies for a failing VMFUNC.
 */
#include "check_main.h"
#include "vmx_fixture.h"

#include <nest/tdp.h>

#define EPT_RWX 0x7ull
#define EPT_LEAF (EPT_RWX | (6ull << 3)) /* RWX, WB */
#define EPTP_WB_4 (6ull | (3ull << 3))
#define EPT_ADDR_MASK 0x000ffffffffff000ull
#define EPT12_A 0x40000ull /* four tables from here */
#define EPT12_B 0x50000ull
#define EPTP_A (EPT12_A | EPTP_WB_4)
#define EPTP_B (EPT12_B | EPTP_WB_4)
#define EPTP_LIST 0x60000ull
#define EPTP_LIST_UNBACKED 0x200000ull /* page-aligned, beyond the sim's memory */
#define L2_PAGE 0x200000ull
#define L1_PAGE_A 0x80000ull
#define L1_PAGE_B 0x90000ull
#define L2_RIP 0x1000ull
#define VMFUNC_LEN 3u
#define RAX 0u
#define RCX 1u

static void *tdp_mem;
static struct nest_tdp *tdp;

/* An EPT12 at `root` (and the three pages after it) mapping L2_PAGE. */
static void ept12(uint64_t root, uint64_t target)
{
	memset(sim_ptr(&N.s, root, 0x4000), 0, 0x4000);
	sim_write64(&N.s, root + ((L2_PAGE >> 39) & 511) * 8, (root + 0x1000) | EPT_RWX);
	sim_write64(&N.s, root + 0x1000 + ((L2_PAGE >> 30) & 511) * 8, (root + 0x2000) | EPT_RWX);
	sim_write64(&N.s, root + 0x2000 + ((L2_PAGE >> 21) & 511) * 8, (root + 0x3000) | EPT_RWX);
	sim_write64(&N.s, root + 0x3000 + ((L2_PAGE >> 12) & 511) * 8, target | EPT_LEAF);
}

static void setup(void)
{
	struct nest__vmcs12 *v;

	nfx_setup();
	tdp = nfx_tdp(12, 4, &tdp_mem);

	ept12(EPT12_A, L1_PAGE_A);
	ept12(EPT12_B, L1_PAGE_B);
	memset(sim_ptr(&N.s, EPTP_LIST, 0x1000), 0, 0x1000);
	sim_write64(&N.s, EPTP_LIST, EPTP_A);
	sim_write64(&N.s, EPTP_LIST + 8, EPTP_B);
	sim_write64(&N.s, EPTP_LIST + 16, EPT12_B | 1u | (3ull << 3)); /* memory type 1 */
	v = V12();
	v->SECONDARY_VM_EXEC_CONTROL |= NEST_VMX_PROC2_ENABLE_EPT | NEST_VMX_PROC2_ENABLE_VMFUNC;
	v->EPT_POINTER = EPTP_A;
	v->VM_FUNCTION_CONTROL = 1; /* EPTP switching */
	v->EPTP_LIST_ADDRESS = EPTP_LIST;
	launch_ok();
	set02(NEST_VMCS_GUEST_RIP, L2_RIP);
	set02(NEST_VMCS_GUEST_RFLAGS, X86_RFLAGS_FIXED1);
	set02(NEST_VMCS_GUEST_CS_AR_BYTES, FX_CODE64_AR);
}

static void teardown(void)
{
	nfx_tdp_fini(tdp, tdp_mem);
	nfx_teardown();
}

/* L2 executes VMFUNC with EAX = leaf, ECX = index. */
static int vmfunc(uint64_t leaf, uint64_t index)
{
	N.l2regs.gpr[RAX] = leaf;
	N.l2regs.gpr[RCX] = index;
	set02(NEST_VMCS_VM_EXIT_INSTRUCTION_LEN, VMFUNC_LEN);
	return l2_exit(NEST_VMX_EXIT_VMFUNC, 0);
}

static void assert_exit_to_l1(void)
{
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_VMFUNC);
	ck_assert_uint_eq(V12()->VM_EXIT_INSTRUCTION_LEN, VMFUNC_LEN);
	ck_assert_uint_eq(V12()->EPT_POINTER, EPTP_A);
	ck_assert_uint_eq(V12()->GUEST_RIP, L2_RIP); /* fault-like: RIP unchanged */
}

/* After an exit to L1, L1 resumes L2 at the VMFUNC. */
static void back_to_l2(void)
{
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
}

static void l2_touches_the_page(void)
{
	set02(NEST_VMCS_GUEST_PHYSICAL_ADDRESS, L2_PAGE);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_EPT_VIOLATION, NEST_EPT_QUAL_READ), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
}

START_TEST(vmcs02_enables_vm_functions_with_no_function)
{
	ck_assert(v02(NEST_VMCS_SECONDARY_VM_EXEC_CONTROL) & NEST_VMX_PROC2_ENABLE_VMFUNC);
	ck_assert_uint_eq(v02(NEST_VMCS_VM_FUNCTION_CONTROL), 0);
	ck_assert_uint_eq(v02(NEST_VMCS_EPTP_LIST_ADDRESS), 0);
}
END_TEST

START_TEST(eptp_switching_switches_ept12_and_ept02_and_resumes_l2)
{
	uint64_t eptp02_a = v02(NEST_VMCS_EPT_POINTER);

	l2_touches_the_page();
	ck_assert_uint_eq(nfx_ept02_leaf(L2_PAGE) & EPT_ADDR_MASK, SIM_HPA_L1_BASE + L1_PAGE_A);
	ck_assert_int_eq(vmfunc(0, 1), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert(nest_vmx_in_l2(N.ctx));
	ck_assert_uint_eq(V12()->EPT_POINTER, EPTP_B);
	ck_assert_uint_ne(v02(NEST_VMCS_EPT_POINTER), eptp02_a);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_RIP), L2_RIP + VMFUNC_LEN);
	/* L2 now translates through EPT12 B. */
	l2_touches_the_page();
	ck_assert_uint_eq(nfx_ept02_leaf(L2_PAGE) & EPT_ADDR_MASK, SIM_HPA_L1_BASE + L1_PAGE_B);
	/* And back: the shadow of A is still cached. */
	ck_assert_int_eq(vmfunc(0, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_eq(V12()->EPT_POINTER, EPTP_A);
	ck_assert_uint_eq(v02(NEST_VMCS_EPT_POINTER), eptp02_a);
	ck_assert_uint_eq(nfx_ept02_leaf(L2_PAGE) & EPT_ADDR_MASK, SIM_HPA_L1_BASE + L1_PAGE_A);
}
END_TEST

START_TEST(l1_sees_the_switched_eptp_after_an_exit)
{
	ck_assert_int_eq(vmfunc(0, 1), NEST_OK);
	set02(NEST_VMCS_VM_EXIT_INSTRUCTION_LEN, 2);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->EPT_POINTER, EPTP_B);
	/* VMRESUME runs L2 on the shadow of EPT12 B. */
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
	l2_touches_the_page();
	ck_assert_uint_eq(nfx_ept02_leaf(L2_PAGE) & EPT_ADDR_MASK, SIM_HPA_L1_BASE + L1_PAGE_B);
}
END_TEST

START_TEST(index_512_exits_to_l1)
{
	ck_assert_int_eq(vmfunc(0, 512), NEST_OK);
	assert_exit_to_l1();
}
END_TEST

START_TEST(index_uses_ecx_only)
{
	ck_assert_int_eq(vmfunc(0, (1ull << 32) | 1), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_eq(V12()->EPT_POINTER, EPTP_B);
}
END_TEST

START_TEST(invalid_eptp_in_the_list_exits_to_l1)
{
	ck_assert_int_eq(vmfunc(0, 2), NEST_OK);
	assert_exit_to_l1();
	back_to_l2();
	ck_assert_int_eq(vmfunc(0, 3), NEST_OK); /* zero: memory type UC, walk length 1 */
	assert_exit_to_l1();
}
END_TEST

START_TEST(list_in_memory_l0_does_not_back_exits_to_l1)
{
	V12()->EPTP_LIST_ADDRESS = EPTP_LIST_UNBACKED;
	ck_assert_int_eq(vmfunc(0, 1), NEST_OK);
	assert_exit_to_l1();
}
END_TEST

START_TEST(function_l1_did_not_enable_exits_to_l1)
{
	ck_assert_int_eq(vmfunc(1, 0), NEST_OK);
	assert_exit_to_l1();
	back_to_l2();
	ck_assert_int_eq(vmfunc(63, 0), NEST_OK);
	assert_exit_to_l1();
}
END_TEST

START_TEST(eptp_switching_not_enabled_exits_to_l1)
{
	V12()->VM_FUNCTION_CONTROL = 0;
	ck_assert_int_eq(vmfunc(0, 1), NEST_OK);
	assert_exit_to_l1();
}
END_TEST

START_TEST(completion_ends_sti_blocking_and_traps_a_single_step)
{
	set02(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO, NEST_VMX_INTERRUPTIBILITY_STI);
	set02(NEST_VMCS_GUEST_RFLAGS, X86_RFLAGS_FIXED1 | X86_RFLAGS_TF | X86_RFLAGS_IF);
	set02(NEST_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	ck_assert_int_eq(vmfunc(0, 1), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L2);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO), 0);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_PENDING_DBG_EXCEPTIONS), 1u << 14 /* BS */);
}
END_TEST

/* The switch completes VMFUNC outside the processor: L1's monitor trap
 * flag then exits on the boundary after it (SDM 26.5.2), with the new
 * EPTP and RIP, and the single-step trap pending. */
START_TEST(monitor_trap_flag_exits_after_the_switch)
{
	V12()->CPU_BASED_VM_EXEC_CONTROL |= NEST_VMX_PROC_MONITOR_TRAP_FLAG;
	set02(NEST_VMCS_GUEST_RFLAGS, X86_RFLAGS_FIXED1 | X86_RFLAGS_TF);
	set02(NEST_VMCS_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	ck_assert_int_eq(vmfunc(0, 1), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_MONITOR_TRAP_FLAG);
	ck_assert_uint_eq(V12()->EPT_POINTER, EPTP_B);
	ck_assert_uint_eq(V12()->GUEST_RIP, L2_RIP + VMFUNC_LEN);
	ck_assert_uint_eq(V12()->GUEST_PENDING_DBG_EXCEPTIONS, 1u << 14 /* BS */);
}
END_TEST

START_TEST(rip_wraps_at_4gib_outside_64bit_mode)
{
	set02(NEST_VMCS_GUEST_CS_AR_BYTES, FX_CODE64_AR & ~X86_SEG_L);
	set02(NEST_VMCS_GUEST_RIP, 0xfffffffeull);
	ck_assert_int_eq(vmfunc(0, 1), NEST_OK);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_RIP), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmx_vmfunc");
	TCase *t = tcase_create("eptp_switching");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, vmcs02_enables_vm_functions_with_no_function);
	tcase_add_test(t, eptp_switching_switches_ept12_and_ept02_and_resumes_l2);
	tcase_add_test(t, l1_sees_the_switched_eptp_after_an_exit);
	tcase_add_test(t, index_512_exits_to_l1);
	tcase_add_test(t, index_uses_ecx_only);
	tcase_add_test(t, invalid_eptp_in_the_list_exits_to_l1);
	tcase_add_test(t, list_in_memory_l0_does_not_back_exits_to_l1);
	tcase_add_test(t, function_l1_did_not_enable_exits_to_l1);
	tcase_add_test(t, eptp_switching_not_enabled_exits_to_l1);
	tcase_add_test(t, completion_ends_sti_blocking_and_traps_a_single_step);
	tcase_add_test(t, rip_wraps_at_4gib_outside_64bit_mode);
	tcase_add_test(t, monitor_trap_flag_exits_after_the_switch);
	suite_add_tcase(s, t);
	return nest_test_run(s);
}
