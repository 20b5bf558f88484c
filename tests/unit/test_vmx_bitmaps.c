/* SPDX-License-Identifier: MIT */
/*
 * L1's MSR and I/O bitmaps with L0 tracking writes to their pages
 * (nest_backend_ops::track_l1_writes, nest_vmx_l1_written()): a VMRESUME
 * reads only what was written, and a write takes effect at the access
 * that follows it, as on the processor (SDM 26.1.3).
 */
#include <check.h>

#include "check_main.h"

#include "vmx_fixture.h"

#define IOQ_IN(port) (((uint64_t)(port) << 16) | 8u)

static void l1_wrote(void *arg, uint64_t gpa)
{
	(void)arg;
	ck_assert_int_eq(nest_vmx_l1_written(N.ctx, gpa), NEST_OK);
}

static void setup(void)
{
	nfx_setup();
	N.s.track_writes = true;
	N.s.on_write = l1_wrote;
	(void)sim_backend(&N.s);
}

/* L1 sets the bit of I/O port @port in its bitmap A, as a store would. */
static void l1_sets_port(uint32_t port)
{
	uint64_t gpa = N.base.v.IO_BITMAP_A + port / 8;
	uint8_t b = *(uint8_t *)sim_ptr(&N.s, gpa, 1) | (uint8_t)(1u << (port % 8));

	sim_l1_store(&N.s, gpa, &b, 1);
}

/* L2 exits on HLT (L1 intercepts it): back in L1. */
static void to_l1(void)
{
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_HLT, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
}

static void resume_ok(void)
{
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
}

START_TEST(the_entry_reports_the_three_bitmap_pages_to_l0)
{
	launch_ok();
	ck_assert_uint_eq(N.s.ntracked, 3);
	ck_assert(sim_tracked(&N.s, N.base.v.MSR_BITMAP));
	ck_assert(sim_tracked(&N.s, N.base.v.IO_BITMAP_A));
	ck_assert(sim_tracked(&N.s, N.base.v.IO_BITMAP_B));
}
END_TEST

START_TEST(a_vmresume_with_nothing_written_reads_no_bitmap)
{
	unsigned long tracked_reads, untracked_reads;

	launch_ok();
	to_l1();
	sim_reset_counters(&N.s);
	resume_ok();
	tracked_reads = N.s.calls.read_l1;
	ck_assert_uint_eq(N.s.calls.track_l1_writes, 0);

	/* The same without the op: the three pages are read again. */
	N.s.track_writes = false;
	(void)sim_backend(&N.s);
	to_l1();
	sim_reset_counters(&N.s);
	resume_ok();
	untracked_reads = N.s.calls.read_l1;
	ck_assert_uint_eq(untracked_reads, tracked_reads + 3);
}
END_TEST

/* The steady VMRESUME skips the bitmaps only while nothing they depend on
 * changed: L1 pointing its I/O bitmap A at another page (VMWRITE, no write
 * to any tracked page) is read there, tracked, and merged. */
START_TEST(a_vmresume_after_l1_moves_a_bitmap_reads_the_new_page)
{
	const uint64_t moved = 0x40000;
	uint8_t b = 1u << (0x60 % 8);

	launch_ok();
	to_l1();
	resume_ok();
	to_l1();
	memset(sim_ptr(&N.s, moved, 4096), 0, 4096);
	sim_l1_store(&N.s, moved + 0x60 / 8, &b, 1);
	V12()->IO_BITMAP_A = moved;
	sim_reset_counters(&N.s);
	resume_ok();
	ck_assert_uint_ge(N.s.calls.read_l1, 1);
	ck_assert(sim_tracked(&N.s, moved));
	ck_assert(!sim_tracked(&N.s, N.base.v.IO_BITMAP_A));
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_IO_INSTRUCTION, IOQ_IN(0x60)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	/* And steady again: the next VMRESUME reads nothing. */
	sim_reset_counters(&N.s);
	resume_ok();
	ck_assert_uint_eq(N.s.calls.track_l1_writes, 0);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_IO_INSTRUCTION, IOQ_IN(0x61)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
}
END_TEST

START_TEST(l1_writing_its_bitmap_between_entries_takes_effect_at_the_next)
{
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_IO_INSTRUCTION, IOQ_IN(0x60)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
	to_l1();
	l1_sets_port(0x60);
	/* L0 let the write through: the page is out of the set until read again. */
	ck_assert(!sim_tracked(&N.s, N.base.v.IO_BITMAP_A));
	ck_assert(sim_tracked(&N.s, N.base.v.IO_BITMAP_B));
	sim_reset_counters(&N.s);
	resume_ok();
	ck_assert(sim_tracked(&N.s, N.base.v.IO_BITMAP_A));
	ck_assert_uint_eq(*(uint8_t *)sim_pool_hva(&N.s, v02(NEST_VMCS_IO_BITMAP_A)) & 1u, 0);
	ck_assert_uint_ne(((uint8_t *)sim_pool_hva(&N.s, v02(NEST_VMCS_IO_BITMAP_A)))[0x60 / 8] &
			      (1u << (0x60 % 8)),
			  0);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_IO_INSTRUCTION, IOQ_IN(0x60)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
}
END_TEST

START_TEST(a_write_while_l2_runs_decides_the_next_access)
{
	uint8_t *merged;

	launch_ok();
	merged = sim_pool_hva(&N.s, v02(NEST_VMCS_IO_BITMAP_A));
	/* Another vCPU of L1 (or a device) writes the bitmap L2 runs under. */
	l1_sets_port(0x60);
	ck_assert_uint_eq(merged[0], 0xff);
	ck_assert_uint_eq(merged[4095], 0xff);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_IO_INSTRUCTION, IOQ_IN(0x61)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_IO_INSTRUCTION, IOQ_IN(0x60)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	/* The next entry merges again: only L1's bit is set. */
	resume_ok();
	ck_assert_uint_eq(merged[0], 0);
	ck_assert_uint_eq(merged[0x60 / 8], 1u << (0x60 % 8));
}
END_TEST

START_TEST(nest_vmx_l1_intercepts_follows_a_bitmap_written_while_l2_runs)
{
	launch_ok();
	ck_assert_int_eq(nest_vmx_l1_intercepts(N.ctx, NEST_VMX_EXIT_IO_INSTRUCTION, IOQ_IN(0x60),
						0, 0, &N.l2regs),
			 0);
	l1_sets_port(0x60);
	ck_assert_int_eq(nest_vmx_l1_intercepts(N.ctx, NEST_VMX_EXIT_IO_INSTRUCTION, IOQ_IN(0x60),
						0, 0, &N.l2regs),
			 1);
	ck_assert_int_eq(nest_vmx_l1_intercepts(N.ctx, NEST_VMX_EXIT_IO_INSTRUCTION, IOQ_IN(0x61),
						0, 0, &N.l2regs),
			 0);
}
END_TEST

/* The MSR bitmap: a read of MSR 10H (IA32_TIME_STAMP_COUNTER) that L1 starts
 * intercepting while L2 runs; the read of 11H stays L0's. */
START_TEST(an_msr_bitmap_written_while_l2_runs_decides_the_next_rdmsr)
{
	uint64_t gpa = N.base.v.MSR_BITMAP + 0x10 / 8;
	uint8_t b = *(uint8_t *)sim_ptr(&N.s, gpa, 1) | (uint8_t)(1u << (0x10 % 8));
	uint8_t *merged;

	launch_ok();
	merged = sim_pool_hva(&N.s, v02(NEST_VMCS_MSR_BITMAP));
	sim_l1_store(&N.s, gpa, &b, 1);
	ck_assert_uint_eq(merged[0], 0xff);
	N.l2regs.gpr[1] = 0x11;
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_MSR_READ, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_L0_HANDLES);
	N.l2regs.gpr[1] = 0x10;
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_MSR_READ, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON, NEST_VMX_EXIT_MSR_READ);
}
END_TEST

START_TEST(a_page_libnest_does_not_track_is_ignored)
{
	launch_ok();
	sim_reset_counters(&N.s);
	ck_assert_int_eq(nest_vmx_l1_written(N.ctx, 0x7000), NEST_OK);
	ck_assert_uint_eq(N.s.calls.track_l1_writes, 0);
	ck_assert_uint_eq(N.s.ntracked, 3);
	ck_assert_int_eq(nest_vmx_l1_written(NULL, 0x7000), NEST_E_INVAL);
}
END_TEST

START_TEST(without_the_op_every_entry_reads_the_bitmaps)
{
	N.s.ops.track_l1_writes = NULL; /* as an L0 that cannot track */
	launch_ok();
	to_l1();
	/* An untracked store is seen anyway: the entry reads the page. */
	l1_sets_port(0x60);
	resume_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_IO_INSTRUCTION, IOQ_IN(0x60)), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmx_bitmaps");
	TCase *tc = tcase_create("tracked");

	tcase_add_checked_fixture(tc, setup, nfx_teardown);
	tcase_add_test(tc, the_entry_reports_the_three_bitmap_pages_to_l0);
	tcase_add_test(tc, a_vmresume_with_nothing_written_reads_no_bitmap);
	tcase_add_test(tc, a_vmresume_after_l1_moves_a_bitmap_reads_the_new_page);
	tcase_add_test(tc, l1_writing_its_bitmap_between_entries_takes_effect_at_the_next);
	tcase_add_test(tc, a_write_while_l2_runs_decides_the_next_access);
	tcase_add_test(tc, nest_vmx_l1_intercepts_follows_a_bitmap_written_while_l2_runs);
	tcase_add_test(tc, an_msr_bitmap_written_while_l2_runs_decides_the_next_rdmsr);
	tcase_add_test(tc, a_page_libnest_does_not_track_is_ignored);
	tcase_add_test(tc, without_the_op_every_entry_reads_the_bitmaps);
	suite_add_tcase(s, tc);
	return nest_test_run(s);
}
