/* SPDX-License-Identifier: MIT */
/*
 * The VMRESUME fast path of nested entry: a VMRESUME re-runs only the
 * entry-check groups whose inputs changed and re-merges vmcs02 only where
 * guest state changed, and gives exactly what the full path gives.
 *
 *   - the check-group input table (nest__vmx_check_groups_reading()) is
 *     verified against the check functions: changing a field outside a
 *     group's inputs never changes that group's result;
 *   - scenarios: which groups and which merge a VMRESUME runs after each
 *     kind of change;
 *   - equivalence: random VMWRITE sequences (and reflected exits, L0
 *     changes, L1 mode changes, direct vmcs12 writes) between entries give
 *     the same outcome, VMfail number, exit reason, qualification, rule,
 *     vmcs12 and vmcs02 with the fast path as with the full one.
 */
#include "check_main.h"
#include "vmx_fixture.h"

/* xorshift64: deterministic, seeded per test. */
static uint64_t rnd_state;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static unsigned rnd_below(unsigned n)
{
	return (unsigned)(rnd() % n);
}

/* A value for field `i` of the valid baseline: kept, one bit flipped,
 * zero, all ones or random, so both passing and failing images occur. */
static uint64_t mutated(const struct nest__vmcs12 *base, unsigned i)
{
	const struct nest_vmcs_field *f = &nest__vmcs_fields[i];
	unsigned bits = (unsigned)nest_vmcs_width_bytes(f->width) * 8;
	uint64_t old = 0;

	nest__vmcs12_read(base, f->encoding, &old);
	switch (rnd_below(6)) {
	case 0:
		return old;
	case 1:
	case 2:
		return old ^ (1ull << rnd_below(bits));
	case 3:
		return 0;
	case 4:
		return UINT64_MAX;
	default:
		return rnd();
	}
}

/* ---- the check-group input table ---- */

static const unsigned group_list[] = {NEST__VMX_CHECK_CONTROLS, NEST__VMX_CHECK_HOST,
				      NEST__VMX_CHECK_GUEST};

START_TEST(check_groups_read_no_field_outside_their_inputs)
{
	struct fx f;
	unsigned iter, g, m, i, k;

	rnd_state = 0x9e3779b97f4a7c15ull;
	for (iter = 0; iter < 3000; iter++) {
		struct nest__vmcs12 v;

		fx_init(&f);
		v = f.v;
		/* Half the images inject a hardware exception with an error
		 * code (rules that read guest state from the control checks). */
		if (iter & 1)
			v.VM_ENTRY_INTR_INFO_FIELD =
			    NEST_VMX_INTR_INFO_VALID |
			    (NEST_VMX_INTR_TYPE_HW_EXCEPTION << NEST_VMX_INTR_INFO_TYPE_SHIFT) |
			    NEST_VMX_INTR_INFO_DELIVER_ERROR_CODE | X86_EXC_GP;
		/* A few mutations anywhere, so groups fail at many rules. */
		for (k = rnd_below(4); k > 0; k--) {
			i = rnd_below(NEST__VF_COUNT);
			nest__vmcs12_write(&v, nest__vmcs_fields[i].encoding, mutated(&f.v, i));
		}
		for (g = 0; g < sizeof(group_list) / sizeof(group_list[0]); g++) {
			struct nest_vmx_entry_result r0, r1;
			struct nest__vmcs12 w = v;

			memset(&r0, 0, sizeof(r0));
			r0.size = sizeof(r0);
			r1 = r0;
			nest__vmx_check_entry_groups(&v, &f.caps, &f.env, &r0, group_list[g]);
			/* Change fields the group does not read, and the header. */
			for (m = 0; m < 8; m++) {
				i = rnd_below(NEST__VF_COUNT);
				if (nest__vmx_check_groups_reading(i) & group_list[g])
					continue;
				nest__vmcs12_write(&w, nest__vmcs_fields[i].encoding,
						   mutated(&v, i));
			}
			w.launch_state ^= 1;
			w.abort = (uint32_t)rnd();
			nest__vmx_check_entry_groups(&w, &f.caps, &f.env, &r1, group_list[g]);
			ck_assert_mem_eq(&r0, &r1, sizeof(r0));
		}
	}
}
END_TEST

START_TEST(all_groups_is_the_full_check)
{
	struct fx f;
	unsigned iter, k, i;

	rnd_state = 0x2545f4914f6cdd1dull;
	for (iter = 0; iter < 2000; iter++) {
		struct nest_vmx_entry_result r0, r1;

		fx_init(&f);
		for (k = rnd_below(3); k > 0; k--) {
			i = rnd_below(NEST__VF_COUNT);
			nest__vmcs12_write(&f.v, nest__vmcs_fields[i].encoding, mutated(&f.v, i));
		}
		memset(&r0, 0, sizeof(r0));
		r0.size = sizeof(r0);
		r1 = r0;
		nest__vmx_check_entry(&f.v, &f.caps, &f.env, &r0);
		nest__vmx_check_entry_groups(&f.v, &f.caps, &f.env, &r1, NEST__VMX_CHECK_ALL);
		ck_assert_mem_eq(&r0, &r1, sizeof(r0));
	}
}
END_TEST

START_TEST(every_field_is_read_by_the_groups_of_its_type)
{
	unsigned i;

	for (i = 0; i < NEST__VF_COUNT; i++) {
		unsigned g = nest__vmx_check_groups_reading(i);

		switch (nest__vmcs_fields[i].type) {
		case NEST_VMCS_T_CONTROL:
			ck_assert_uint_eq(g, NEST__VMX_CHECK_ALL);
			break;
		case NEST_VMCS_T_HOST:
			ck_assert_uint_eq(g, NEST__VMX_CHECK_HOST);
			break;
		case NEST_VMCS_T_GUEST:
			ck_assert(g & NEST__VMX_CHECK_GUEST);
			ck_assert(!(g & NEST__VMX_CHECK_HOST));
			break;
		default:
			ck_assert_uint_eq(g, 0);
			break;
		}
	}
}
END_TEST

/* ---- scenarios ---- */

static int l1_vmwrite(uint32_t enc, uint64_t value)
{
	N.regs.gpr[1] = enc;   /* RCX */
	N.regs.gpr[2] = value; /* RDX */
	return l1_exec(NEST_VMX_EXIT_VMWRITE, sim_vmx_info_reg(2 /* RDX */, 1 /* RCX */));
}

static const struct nest__vmx_fast *F(void)
{
	return &N.ctx->nested.fast;
}

/* Launch, then one reflected exit: L1 is about to VMRESUME. */
static void launched_and_exited(void)
{
	launch_ok();
	ck_assert_int_eq(l2_exit(NEST_VMX_EXIT_CPUID, 0), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
}

static void resume_ok(void)
{
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_ENTER_L2);
}

static void vmwrite_ok(uint32_t enc, uint64_t value)
{
	ck_assert_int_eq(l1_vmwrite(enc, value), NEST_OK);
	ck_assert_uint_eq(N.act.result, NEST_VMX_SUCCEED);
}

START_TEST(vmlaunch_runs_every_check_and_the_full_merge)
{
	launch_ok();
	ck_assert_uint_eq(F()->last_groups, NEST__VMX_CHECK_ALL);
	ck_assert(F()->last_full_merge);
}
END_TEST

START_TEST(vmresume_with_nothing_changed_runs_no_check_and_no_merge)
{
	launched_and_exited();
	sim_reset_counters(&N.s);
	resume_ok();
	ck_assert_uint_eq(F()->last_groups, 0);
	ck_assert(!F()->last_full_merge);
	ck_assert_uint_eq(N.s.calls.vmcs_write, 0);
}
END_TEST

START_TEST(vmresume_after_a_host_field_write_runs_the_host_checks_only)
{
	launched_and_exited();
	vmwrite_ok(NEST_VMCS_HOST_RIP, V12()->HOST_RIP + 0x10);
	resume_ok();
	ck_assert_uint_eq(F()->last_groups, NEST__VMX_CHECK_HOST);
	ck_assert(!F()->last_full_merge);
}
END_TEST

START_TEST(vmresume_after_a_guest_rip_write_runs_the_guest_checks_and_writes_rip)
{
	uint64_t rip = V12()->GUEST_RIP + 3;

	launched_and_exited();
	vmwrite_ok(NEST_VMCS_GUEST_RIP, rip);
	sim_reset_counters(&N.s);
	resume_ok();
	ck_assert_uint_eq(F()->last_groups, NEST__VMX_CHECK_GUEST);
	ck_assert(!F()->last_full_merge);
	ck_assert_uint_eq(N.s.calls.vmcs_write, 1);
	ck_assert_uint_eq(v02(NEST_VMCS_GUEST_RIP), rip);
}
END_TEST

START_TEST(vmresume_after_a_guest_cr0_write_also_runs_the_control_checks)
{
	launched_and_exited();
	vmwrite_ok(NEST_VMCS_GUEST_CR0, V12()->GUEST_CR0 | X86_CR0_TS);
	resume_ok();
	ck_assert_uint_eq(F()->last_groups, NEST__VMX_CHECK_GUEST | NEST__VMX_CHECK_CONTROLS);
	ck_assert_uint_eq(v02(NEST_VMCS_CR0_READ_SHADOW) & X86_CR0_TS,
			  (V12()->CR0_GUEST_HOST_MASK & X86_CR0_TS) ? 0 : X86_CR0_TS);
}
END_TEST

START_TEST(vmresume_after_a_control_write_runs_everything)
{
	launched_and_exited();
	vmwrite_ok(NEST_VMCS_EXCEPTION_BITMAP, V12()->EXCEPTION_BITMAP ^ (1u << X86_EXC_UD));
	resume_ok();
	ck_assert_uint_eq(F()->last_groups, NEST__VMX_CHECK_ALL);
	ck_assert(F()->last_full_merge);
	ck_assert(v02(NEST_VMCS_EXCEPTION_BITMAP) & (1u << X86_EXC_UD));
}
END_TEST

START_TEST(set_l0_makes_the_next_merge_full)
{
	launched_and_exited();
	N.l0.exception_bitmap |= 1u << X86_EXC_DB;
	ck_assert_int_eq(nest_vmx_set_l0(N.ctx, &N.l0), NEST_OK);
	resume_ok();
	ck_assert_uint_eq(F()->last_groups, 0);
	ck_assert(F()->last_full_merge);
	ck_assert(v02(NEST_VMCS_EXCEPTION_BITMAP) & (1u << X86_EXC_DB));
}
END_TEST

START_TEST(l1_leaving_ia32e_mode_runs_every_check)
{
	launched_and_exited();
	N.regs.efer &= ~X86_EFER_LMA;
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(F()->last_groups, NEST__VMX_CHECK_ALL);
	/* SDM 27.2.4: outside IA-32e mode "host address-space size" must be 0. */
	ck_assert_uint_eq(N.act.result, NEST_VMX_FAIL_VALID);
	ck_assert_uint_eq(N.act.vm_instruction_error, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD);
}
END_TEST

START_TEST(changed_caps_run_every_check)
{
	launched_and_exited();
	N.ctx->caps.cr4_fixed1 &= ~X86_CR4_PGE;
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(F()->last_groups, NEST__VMX_CHECK_ALL);
	ck_assert_uint_eq(N.act.result, NEST_VMX_FAIL_VALID);
	ck_assert_uint_eq(N.act.vm_instruction_error, VMXERR_ENTRY_INVALID_HOST_STATE_FIELD);
}
END_TEST

START_TEST(a_failed_entry_makes_the_next_one_full)
{
	uint64_t cr3 = V12()->HOST_CR3;

	launched_and_exited();
	vmwrite_ok(NEST_VMCS_HOST_CR3, 1ull << 62);
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(N.act.result, NEST_VMX_FAIL_VALID);
	ck_assert_uint_eq(F()->last_groups, NEST__VMX_CHECK_HOST);
	ck_assert_uint_eq(F()->last_rule, NEST_VMX_RULE_HOST_CR3_RESERVED);
	vmwrite_ok(NEST_VMCS_HOST_CR3, cr3);
	resume_ok();
	ck_assert_uint_eq(F()->last_groups, NEST__VMX_CHECK_ALL);
	ck_assert(F()->last_full_merge);
}
END_TEST

START_TEST(a_guest_state_failure_is_reported_by_the_fast_path)
{
	launched_and_exited();
	vmwrite_ok(NEST_VMCS_GUEST_RFLAGS, V12()->GUEST_RFLAGS & ~X86_RFLAGS_FIXED1);
	ck_assert_int_eq(vmresume(), NEST_OK);
	ck_assert_uint_eq(F()->last_groups, NEST__VMX_CHECK_GUEST);
	ck_assert_uint_eq(N.act.kind, NEST_VMX_ACT_RESUME_L1);
	ck_assert_uint_eq(V12()->VM_EXIT_REASON,
			  NEST_VMX_EXIT_INVALID_GUEST_STATE | NEST_VMX_EXIT_REASON_ENTRY_FAILURE);
	ck_assert_uint_eq(F()->last_rule, NEST_VMX_RULE_GUEST_RFLAGS_RESERVED);
}
END_TEST

START_TEST(forced_full_path_runs_everything)
{
	launched_and_exited();
	nest__vmx_entry_force_full(N.ctx, true);
	resume_ok();
	ck_assert_uint_eq(F()->last_groups, NEST__VMX_CHECK_ALL);
	ck_assert(F()->last_full_merge);
}
END_TEST

/* ---- equivalence with the full path ---- */

#define EQ_STEPS 600u

/* What one step leaves observable. */
struct step {
	int rc;
	uint32_t kind, result, error, rule;
	uint64_t reason, qual;
	struct nest__vmcs12 v12;
	uint64_t v02[NEST__VF_COUNT];
	uint64_t merged; /* a hash of the merged MSR and I/O bitmap pages */
};

/* Changes L1 (or L2, for guest state) commonly makes and after which the
 * entry still succeeds: a field and bits that may flip. */
static const struct {
	uint32_t enc;
	uint64_t bits;
} benign[] = {
    {NEST_VMCS_GUEST_RIP, 0xfffull},
    {NEST_VMCS_GUEST_RSP, 0xff8ull},
    {NEST_VMCS_GUEST_RFLAGS, X86_RFLAGS_CF | X86_RFLAGS_ZF},
    {NEST_VMCS_GUEST_CR0, X86_CR0_TS | X86_CR0_MP | X86_CR0_WP},
    {NEST_VMCS_GUEST_CR4, X86_CR4_PGE | X86_CR4_OSXMMEXCPT},
    {NEST_VMCS_GUEST_CR3, 0xff000ull},
    {NEST_VMCS_CR0_READ_SHADOW, X86_CR0_TS | X86_CR0_MP},
    {NEST_VMCS_CR0_GUEST_HOST_MASK, X86_CR0_TS | X86_CR0_MP},
    {NEST_VMCS_CR4_GUEST_HOST_MASK, X86_CR4_PGE},
    {NEST_VMCS_EXCEPTION_BITMAP, 0xffffull},
    {NEST_VMCS_TSC_OFFSET, 0xffffffffull},
    {NEST_VMCS_HOST_RIP, 0xfffull},
    {NEST_VMCS_HOST_RSP, 0xff8ull},
    {NEST_VMCS_GUEST_ES_BASE, 0xfff000ull},
    {NEST_VMCS_GUEST_GS_BASE, 0xfff000ull},
    {NEST_VMCS_GUEST_DR7, 0xffull},
    {NEST_VMCS_GUEST_SYSENTER_EIP, 0xfffull},
    {NEST_VMCS_VMX_PREEMPTION_TIMER_VALUE, 0xffffull},
    {NEST_VMCS_PIN_BASED_VM_EXEC_CONTROL, NEST_VMX_PIN_PREEMPTION_TIMER},
    {NEST_VMCS_VM_ENTRY_CONTROLS,
     NEST_VMX_ENTRY_CTL_LOAD_PAT | NEST_VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS},
};

/* A benign change of the current value of one of the fields above. */
static void benign_change(uint32_t *enc, uint64_t *val, const struct nest__vmcs12 *cur)
{
	unsigned k = rnd_below(sizeof(benign) / sizeof(benign[0]));
	uint64_t old = 0;

	*enc = benign[k].enc;
	nest__vmcs12_read(cur, *enc, &old);
	*val = old ^ (rnd() & benign[k].bits);
}

static int pick_field(void)
{
	/* Mostly fields that pass through VMWRITE and matter to the checks. */
	for (;;) {
		unsigned i = rnd_below(NEST__VF_COUNT);

		if (nest__vmcs_fields[i].type != NEST_VMCS_T_RO || rnd_below(8) == 0)
			return (int)i;
	}
}

/* FNV-1a over the pages vmcs02's bitmaps come from (zero before the first entry). */
static uint64_t merged_hash(void)
{
	const uint8_t *p[3] = {N.ctx->nested.msr_bitmap_hva, N.ctx->nested.io_bitmap_hva,
			       N.ctx->nested.io_bitmap_b_hva};
	uint64_t h = 0xcbf29ce484222325ull;
	unsigned k, i;

	for (k = 0; k < 3; k++)
		for (i = 0; p[k] != NULL && i < 4096; i++)
			h = (h ^ p[k][i]) * 0x100000001b3ull;
	return h;
}

/* L0 tracking L1's writes (the fast run): it tells libnest of each one. */
static void l1_wrote(void *arg, uint64_t gpa)
{
	(void)arg;
	ck_assert_int_eq(nest_vmx_l1_written(N.ctx, gpa), NEST_OK);
}

/* L1 stores a random byte into one of its bitmaps, where the exits of the
 * run look (ports 0-3FH of A and 8000H-803FH of B, MSRs 0-3FH). */
static void l1_bitmap_store(void)
{
	static const uint32_t msr_off[2] = {0, 2048};
	uint8_t b = (uint8_t)rnd();
	unsigned which = rnd_below(3);
	uint64_t gpa = which == 0   ? N.base.v.MSR_BITMAP + msr_off[rnd_below(2)]
		       : which == 1 ? N.base.v.IO_BITMAP_A
				    : N.base.v.IO_BITMAP_B;

	sim_l1_store(&N.s, gpa + rnd_below(8), &b, 1);
}

/* An exit of L2 whose decision reads the bitmaps, or one that does not. */
static int random_l2_exit(void)
{
	uint32_t port;

	switch (rnd_below(4)) {
	case 0:
		port = (rnd_below(2) ? 0x8000u : 0) + rnd_below(0x40);
		return l2_exit(NEST_VMX_EXIT_IO_INSTRUCTION,
			       (uint64_t)port << 16 | (rnd_below(2) ? 8u : 0) | rnd_below(2));
	case 1:
		N.l2regs.gpr[1] = rnd_below(0x40);
		return l2_exit(rnd_below(2) ? NEST_VMX_EXIT_MSR_READ : NEST_VMX_EXIT_MSR_WRITE, 0);
	default:
		return l2_exit(rnd_below(2) ? NEST_VMX_EXIT_CPUID : NEST_VMX_EXIT_HLT,
			       rnd_below(4));
	}
}

static void record(struct step *s, int rc, bool entry)
{
	unsigned i;

	s->rc = rc;
	s->kind = N.act.kind;
	s->result = N.act.result;
	s->error = N.act.vm_instruction_error;
	s->rule = entry ? N.ctx->nested.fast.last_rule : 0;
	s->reason = V12()->VM_EXIT_REASON;
	s->qual = V12()->EXIT_QUALIFICATION;
	s->v12 = *V12();
	for (i = 0; i < NEST__VF_COUNT; i++)
		s->v02[i] = v02(nest__vmcs_fields[i].encoding);
	s->merged = merged_hash();
}

/* What a run exercised. */
struct tally {
	unsigned fast_entries;	 /* VMRESUMEs into L2 by a fast path */
	unsigned partial_checks; /* ... that ran some check groups, not all */
	unsigned vmfails, entry_failures;
};

/* One random run. */
static void run(uint64_t seed, bool full, struct step *trace, struct tally *t)
{
	unsigned i;
	bool in_l2 = false;

	nfx_setup();
	nest__vmx_entry_force_full(N.ctx, full);
	/* The fast run has L0 track the bitmap pages; the full run reads them
	 * at every entry. */
	N.s.track_writes = !full;
	N.s.on_write = l1_wrote;
	(void)sim_backend(&N.s);
	rnd_state = seed;
	/* Odd seeds: L2 inherits PAT, DEBUGCTL and DR7 from L1 (SDM 27.3.2.1). */
	if (seed & 1)
		V12()->VM_ENTRY_CONTROLS &=
		    ~(NEST_VMX_ENTRY_CTL_LOAD_PAT | NEST_VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS);
	launch_ok();
	in_l2 = true;
	for (i = 0; i < EQ_STEPS; i++) {
		struct step *s = &trace[i];
		unsigned op = rnd_below(16), k;
		int rc = NEST_OK;
		bool entry = false;

		memset(s, 0, sizeof(*s));
		if (in_l2) {
			/* L2 runs: the hardware may change its guest state, then
			 * an exit is reflected. */
			for (k = rnd_below(3); k > 0; k--) {
				unsigned f = rnd_below(NEST__VF_COUNT);
				uint32_t enc;
				uint64_t val;

				benign_change(&enc, &val, V12());
				if (rnd_below(2) &&
				    nest__vmcs_field(enc)->type == NEST_VMCS_T_GUEST)
					set02(enc, val);
				else if (nest__vmcs_fields[f].type == NEST_VMCS_T_GUEST &&
					 f != NEST__VF_VMCS_LINK_POINTER && rnd_below(4) == 0)
					set02(nest__vmcs_fields[f].encoding, mutated(&N.base.v, f));
			}
			rc = random_l2_exit();
			in_l2 = nest_vmx_in_l2(N.ctx);
			record(s, rc, false);
			continue;
		}
		if (op < 2) {
			/* L1's VMWRITEs, one or two, of any field. */
			for (k = 1 + rnd_below(2); k > 0; k--) {
				unsigned f = (unsigned)pick_field();

				rc = l1_vmwrite(nest__vmcs_fields[f].encoding,
						mutated(&N.base.v, f));
				if (rc != NEST_OK)
					break;
			}
		} else if (op < 4) {
			/* L1's usual VMWRITEs between exits. */
			for (k = 1 + rnd_below(3); k > 0; k--) {
				uint32_t enc;
				uint64_t val;

				benign_change(&enc, &val, V12());
				rc = l1_vmwrite(enc, val);
				if (rc != NEST_OK)
					break;
			}
		} else if (op < 7) {
			/* Restore a field of the baseline (so entries succeed again). */
			unsigned f = (unsigned)pick_field();
			uint64_t val = 0;

			nest__vmcs12_read(&N.base.v, nest__vmcs_fields[f].encoding, &val);
			rc = l1_vmwrite(nest__vmcs_fields[f].encoding, val);
		} else if (op == 7) {
			/* L1 writes its bitmaps. */
			for (k = 1 + rnd_below(3); k > 0; k--)
				l1_bitmap_store();
		} else if (op == 8) {
			/* A writer other than VMWRITE (libnest's own code paths). */
			unsigned f = (unsigned)pick_field();

			nest__vmcs12_write(V12(), nest__vmcs_fields[f].encoding,
					   mutated(&N.base.v, f));
		} else if (op == 9) {
			/* L0 changes what it needs. */
			N.l0.exception_bitmap ^= 1u << rnd_below(32);
			N.l0.exception_bitmap |= 1u << X86_EXC_MC;
			if (rnd_below(2)) {
				N.l0.pin ^= NEST_VMX_PIN_PREEMPTION_TIMER;
				N.l0.preemption_timer = (uint32_t)rnd_below(0x20000);
			}
			rc = nest_vmx_set_l0(N.ctx, &N.l0);
		} else if (op == 10) {
			/* L1's own state (vmcs01) and mode change. */
			sim_vmcs_set(&N.s, NEST_VMCS01, NEST_VMCS_GUEST_IA32_PAT,
				     rnd_below(2) ? FX_PAT : 0x0606060606060606ull);
			sim_vmcs_set(&N.s, NEST_VMCS01, NEST_VMCS_GUEST_DR7,
				     0x400 | rnd_below(256));
			if (rnd_below(4) == 0)
				N.regs.efer ^= X86_EFER_LMA;
		} else if (op == 11 || op == 12) {
			/* Back to the valid baseline in one go. */
			uint32_t rev = V12()->revision, ls = V12()->launch_state;

			*V12() = N.base.v;
			V12()->revision = rev;
			V12()->launch_state = ls;
			V12()->SECONDARY_VM_EXEC_CONTROL &=
			    ~(NEST_VMX_PROC2_ENABLE_EPT | NEST_VMX_PROC2_UNRESTRICTED_GUEST);
			V12()->EPT_POINTER = 0;
			if (seed & 1)
				V12()->VM_ENTRY_CONTROLS &=
				    ~(NEST_VMX_ENTRY_CTL_LOAD_PAT |
				      NEST_VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS);
			N.regs.efer |= X86_EFER_LMA;
		} else {
			rc = vmresume();
			entry = true;
			if (rc == NEST_OK && N.act.kind == NEST_VMX_ACT_ENTER_L2) {
				in_l2 = true;
				if (F()->last_groups != NEST__VMX_CHECK_ALL ||
				    !F()->last_full_merge)
					t->fast_entries++;
				if (F()->last_groups != NEST__VMX_CHECK_ALL &&
				    F()->last_groups != 0)
					t->partial_checks++;
			} else if (rc == NEST_OK && N.act.result == NEST_VMX_FAIL_VALID) {
				t->vmfails++;
			} else if (rc == NEST_OK && N.act.kind == NEST_VMX_ACT_RESUME_L1) {
				t->entry_failures++;
			}
		}
		record(s, rc, entry);
	}
	nfx_teardown();
}

static void compare_runs(uint64_t seed)
{
	struct step *a = calloc(EQ_STEPS, sizeof(*a));
	struct step *b = calloc(EQ_STEPS, sizeof(*b));
	struct tally ta, tb;
	unsigned i;

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	memset(&ta, 0, sizeof(ta));
	memset(&tb, 0, sizeof(tb));
	run(seed, false, a, &ta);
	run(seed, true, b, &tb);
	for (i = 0; i < EQ_STEPS; i++) {
		ck_assert_int_eq(a[i].rc, b[i].rc);
		ck_assert_uint_eq(a[i].kind, b[i].kind);
		ck_assert_uint_eq(a[i].result, b[i].result);
		ck_assert_uint_eq(a[i].error, b[i].error);
		ck_assert_uint_eq(a[i].rule, b[i].rule);
		ck_assert_uint_eq(a[i].reason, b[i].reason);
		ck_assert_uint_eq(a[i].qual, b[i].qual);
		ck_assert_mem_eq(&a[i].v12, &b[i].v12, sizeof(a[i].v12));
		ck_assert_mem_eq(a[i].v02, b[i].v02, sizeof(a[i].v02));
		ck_assert_uint_eq(a[i].merged, b[i].merged);
	}
	/* The fast path was exercised, with partial checks, and the full path
	 * never took it; both kinds of failure occurred. */
	ck_assert_uint_gt(ta.fast_entries, 10);
	ck_assert_uint_gt(ta.partial_checks, 2);
	ck_assert_uint_eq(tb.fast_entries, 0);
	ck_assert_uint_gt(ta.vmfails, 0);
	ck_assert_uint_gt(ta.entry_failures, 0);
	free(a);
	free(b);
}

START_TEST(random_vmwrites_between_entries_match_the_full_path)
{
	static const uint64_t seeds[] = {
	    1,	0x1234567, 0xdeadbeefcafeull, 0x5555aaaa5555ull, 0x0123456789abcdefull,
	    42, 7777,	   0xfeedface1ull};

	compare_runs(seeds[_i]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmx_nested_fast");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, nfx_setup, nfx_teardown);
	tcase_add_test(tc, vmlaunch_runs_every_check_and_the_full_merge);
	tcase_add_test(tc, vmresume_with_nothing_changed_runs_no_check_and_no_merge);
	tcase_add_test(tc, vmresume_after_a_host_field_write_runs_the_host_checks_only);
	tcase_add_test(tc, vmresume_after_a_guest_rip_write_runs_the_guest_checks_and_writes_rip);
	tcase_add_test(tc, vmresume_after_a_guest_cr0_write_also_runs_the_control_checks);
	tcase_add_test(tc, vmresume_after_a_control_write_runs_everything);
	tcase_add_test(tc, set_l0_makes_the_next_merge_full);
	tcase_add_test(tc, l1_leaving_ia32e_mode_runs_every_check);
	tcase_add_test(tc, changed_caps_run_every_check);
	tcase_add_test(tc, a_failed_entry_makes_the_next_one_full);
	tcase_add_test(tc, a_guest_state_failure_is_reported_by_the_fast_path);
	tcase_add_test(tc, forced_full_path_runs_everything);
	suite_add_tcase(s, tc);

	tc = tcase_create("groups");
	tcase_add_test(tc, check_groups_read_no_field_outside_their_inputs);
	tcase_add_test(tc, all_groups_is_the_full_check);
	tcase_add_test(tc, every_field_is_read_by_the_groups_of_its_type);
	suite_add_tcase(s, tc);

	tc = tcase_create("equivalence");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, random_vmwrites_between_entries_match_the_full_path, 0, 8);
	suite_add_tcase(s, tc);

	return nest_test_run(s);
}
