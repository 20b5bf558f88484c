/* SPDX-License-Identifier: MIT */
/*
 * Figures of nested VMX on the simulated backend: nanoseconds per
 * VMLAUNCH (entry checks and a full vmcs02 build), per VMRESUME with
 * nothing changed and after L1 wrote GUEST_RIP (the fast path, and the
 * full path forced for comparison), per reflected exit (CPUID), and
 * backend calls per round trip (L2 exit reflected + VMRESUME), beside the
 * same-run cost of copying a vmcs12 image once (the floor). Each figure is
 * the best of five runs. Not a test: it prints, and fails only if a call
 * does not do what the scenario expects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nest/nest.h>

#include "test_vmx_entry_baseline.h"
#include "sim.h"
#include "sim_vmx.h"
#include "vmx/context.h"
#include "vmx/entry.h"
#include "vmx/shadow.h"
#include "vmx/sync.h"

#define ITER 20000u
#define RUNS 5u
#define MEM_SIZE (1u << 20)

static struct sim S;
static struct nest_vmx *ctx;
static struct nest_vmx_l1_regs regs;
static struct nest_vmx_action act;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_vmx: %s\n", what);
	exit(1);
}

static int l1_exec(uint32_t reason, uint32_t info)
{
	struct nest_vmx_exit e;

	sim_vmx_exit(&e, reason, info, 0);
	memset(&act, 0, sizeof(act));
	act.size = sizeof(act);
	return nest_vmx_l1_exit(ctx, &e, &regs, &act);
}

static void l1_m64(uint32_t reason, uint64_t value)
{
	sim_write64(&S, 0x100, value);
	regs.gpr[3] = 0x100;
	if (l1_exec(reason, sim_vmx_info_mem(NEST_VMX_SEG_DS, 3, SIM_NO_REG, 0, SIM_ADDR64)) !=
		NEST_OK ||
	    act.result != NEST_VMX_SUCCEED)
		die("VMXON/VMPTRLD failed");
}

static void setup(void)
{
	struct nest_vmx_caps host;
	struct nest_vmx_config cfg;
	struct nest_vmx_l0 l0;
	static struct fx base;
	void *mem;
	uint32_t rev;

	if (sim_init(&S, MEM_SIZE, 16) != 0)
		die("sim_init");
	/* L0 tracks writes to L1's bitmap pages (track_l1_writes), as an
	 * integrator would; NEST_BENCH_REREAD=1 measures the fallback that
	 * reads them at every VMRESUME. */
	S.track_writes = getenv("NEST_BENCH_REREAD") == NULL;
	sim_vmx_host_caps(&host);
	sim_vmx_config(&cfg, &host);
	mem = aligned_alloc(64, (nest_vmx_size() + 63) & ~(size_t)63);
	if (mem == NULL || nest_vmx_init(mem, nest_vmx_size(), sim_backend(&S), &cfg, &ctx))
		die("init");
	sim_vmx_regs64(&regs);
	sim_vmx_region(&S, 0x1000, NEST_VMCS12_REVISION);
	sim_vmx_region(&S, 0x2000, NEST_VMCS12_REVISION);
	sim_vmcs_set(&S, NEST_VMCS01, NEST_VMCS_HOST_RIP, 0xffffffff80100000ull);
	sim_vmcs_set(&S, NEST_VMCS01, NEST_VMCS_GUEST_CR0, FX_CR0);
	sim_vmcs_set(&S, NEST_VMCS01, NEST_VMCS_GUEST_IA32_EFER, FX_EFER);
	memset(&l0, 0, sizeof(l0));
	l0.size = sizeof(l0);
	l0.exit_ctls = NEST_VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE;
	l0.proc2 = NEST_VMX_PROC2_ENABLE_EPT | NEST_VMX_PROC2_ENABLE_VPID;
	l0.vpid02 = 3;
	l0.exception_bitmap = 1u << X86_EXC_MC;
	/* NEST_BENCH_SHADOW=1: L0 gives L1 a shadow VMCS (VMCS shadowing). */
	if (getenv("NEST_BENCH_SHADOW") != NULL)
		l0.flags |= NEST_VMX_L0_F_SHADOW_VMCS;
	if (nest_vmx_set_l0(ctx, &l0) != NEST_OK)
		die("set_l0");
	l1_m64(NEST_VMX_EXIT_VMXON, 0x1000);
	l1_m64(NEST_VMX_EXIT_VMPTRLD, 0x2000);
	fx_init(&base);
	ctx->caps = base.caps;
	rev = ctx->vmcs12.revision;
	ctx->vmcs12 = base.v;
	ctx->vmcs12.revision = rev;
	ctx->vmcs12.SECONDARY_VM_EXEC_CONTROL &=
	    ~(NEST_VMX_PROC2_ENABLE_EPT | NEST_VMX_PROC2_UNRESTRICTED_GUEST);
	/* vmcs12 written behind libnest's back: the shadow VMCS shows it. */
	nest__vmx_shadow_load(ctx);
}

static void l2_cpuid_exit(void)
{
	struct nest_vmx_exit e;
	struct nest_vmx_l2_regs r;

	sim_vmcs_set(&S, NEST_VMCS02, NEST_VMCS_VM_EXIT_REASON, NEST_VMX_EXIT_CPUID);
	memset(&e, 0, sizeof(e));
	e.size = sizeof(e);
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	memset(&act, 0, sizeof(act));
	act.size = sizeof(act);
	if (nest_vmx_l2_exit(ctx, &e, &r, &act) != NEST_OK || act.kind != NEST_VMX_ACT_RESUME_L1)
		die("CPUID exit not reflected");
}

/* As after VMCLEAR of vmcs12 and a new vmcs02: clear launch state, every
 * vmcs12 field in vmcs12 (VMCLEAR brings the rarely read guest fields
 * back from vmcs02), an empty vmcs02. */
static void fresh_vmcs02(void)
{
	nest__vmx_sync_rare(ctx);
	ctx->vmcs12.launch_state = NEST_VMCS12_STATE_CLEAR;
	ctx->nested.guest_mode = false;
	memset(&ctx->nested.vmcs02_cache, 0, sizeof(ctx->nested.vmcs02_cache));
	sim_vmcs_clear(&S, NEST_VMCS02);
}

/* L1's VMWRITE of GUEST_RIP (register operands: RCX field, RDX value). */
static void l1_vmwrite_rip(uint64_t rip)
{
	regs.gpr[1] = NEST_VMCS_GUEST_RIP;
	regs.gpr[2] = rip;
	if (l1_exec(NEST_VMX_EXIT_VMWRITE, sim_vmx_info_reg(2, 1)) != NEST_OK ||
	    act.result != NEST_VMX_SUCCEED)
		die("VMWRITE failed");
}

/* Round trips (a reflected CPUID exit, then VMRESUME), ns per exit and per
 * VMRESUME; with rip, L1 writes GUEST_RIP in between (not timed). */
static void round_trips(bool full, bool rip, double *ns_exit, double *ns_resume)
{
	uint64_t t0, t_exit = 0, t_resume = 0;
	unsigned i;

	nest__vmx_entry_force_full(ctx, full);
	for (i = 0; i < ITER; i++) {
		t0 = now_ns();
		l2_cpuid_exit();
		t_exit += now_ns() - t0;
		if (rip)
			l1_vmwrite_rip(0x401000ull + (i & 0xff));
		t0 = now_ns();
		if (l1_exec(NEST_VMX_EXIT_VMRESUME, 0) != NEST_OK ||
		    act.kind != NEST_VMX_ACT_ENTER_L2)
			die("VMRESUME failed");
		t_resume += now_ns() - t0;
	}
	nest__vmx_entry_force_full(ctx, false);
	*ns_exit = (double)t_exit / ITER;
	*ns_resume = (double)t_resume / ITER;
}

static double best(double a, double b)
{
	return a < b ? a : b;
}

/* "bench_vmx trips N": VMLAUNCH, then N round trips and nothing else, for
 * counting instructions per operation under callgrind (tests/bench/count.sh). */
static int trips_only(unsigned long n)
{
	unsigned long i;

	setup();
	if (l1_exec(NEST_VMX_EXIT_VMLAUNCH, 0) != NEST_OK || act.kind != NEST_VMX_ACT_ENTER_L2)
		die("VMLAUNCH failed");
	for (i = 0; i < n; i++) {
		l2_cpuid_exit();
		if (l1_exec(NEST_VMX_EXIT_VMRESUME, 0) != NEST_OK ||
		    act.kind != NEST_VMX_ACT_ENTER_L2)
			die("VMRESUME failed");
	}
	sim_fini(&S);
	return 0;
}

/* "bench_vmx launches N": N VMLAUNCHes of a fresh vmcs02 (every entry check,
 * the full merge and write) and nothing else, for callgrind. */
static int launches_only(unsigned long n)
{
	unsigned long i;

	setup();
	for (i = 0; i < n; i++) {
		fresh_vmcs02();
		if (l1_exec(NEST_VMX_EXIT_VMLAUNCH, 0) != NEST_OK ||
		    act.kind != NEST_VMX_ACT_ENTER_L2)
			die("VMLAUNCH failed");
	}
	sim_fini(&S);
	return 0;
}

int main(int argc, char **argv)
{
	static struct nest__vmcs12 copy;
	uint64_t t0, t_launch = 0, t_copy;
	double launch = 1e30, resume = 1e30, exit_ns = 1e30, rip = 1e30, full = 1e30,
	       full_rip = 1e30, floor = 1e30, e, r;
	struct sim_calls before, trip;
	volatile uint32_t sink = 0;
	unsigned i, run;

	if (argc == 3 && strcmp(argv[1], "trips") == 0)
		return trips_only(strtoul(argv[2], NULL, 10));
	if (argc == 3 && strcmp(argv[1], "launches") == 0)
		return launches_only(strtoul(argv[2], NULL, 10));
	setup();

	for (run = 0; run < RUNS; run++) {
		/* VMLAUNCH: checks + a full vmcs02 build and write (a fresh vmcs02). */
		t_launch = 0;
		for (i = 0; i < ITER / 10; i++) {
			fresh_vmcs02();
			t0 = now_ns();
			if (l1_exec(NEST_VMX_EXIT_VMLAUNCH, 0) != NEST_OK ||
			    act.kind != NEST_VMX_ACT_ENTER_L2)
				die("VMLAUNCH failed");
			t_launch += now_ns() - t0;
		}
		launch = best(launch, (double)t_launch / (ITER / 10));
		round_trips(false, false, &e, &r);
		exit_ns = best(exit_ns, e);
		resume = best(resume, r);
		round_trips(false, true, &e, &r);
		rip = best(rip, r);
		round_trips(true, false, &e, &r);
		full = best(full, r);
		round_trips(true, true, &e, &r);
		full_rip = best(full_rip, r);

		/* The floor: copying one vmcs12 image. */
		t0 = now_ns();
		for (i = 0; i < ITER; i++) {
			memcpy(&copy, &ctx->vmcs12, sizeof(copy));
			sink += copy.GUEST_RIP;
			__asm__ volatile("" ::: "memory");
		}
		t_copy = now_ns() - t0;
		floor = best(floor, (double)t_copy / ITER);
	}

	/* Backend calls (after two round trips, L1's state is steady). */
	fresh_vmcs02();
	sim_reset_counters(&S);
	if (l1_exec(NEST_VMX_EXIT_VMLAUNCH, 0) != NEST_OK)
		die("VMLAUNCH failed");
	printf("VMLAUNCH (fresh vmcs02):  vmcs_read %lu  vmcs_write %lu  read_l1 %lu\n",
	       S.calls.vmcs_read, S.calls.vmcs_write, S.calls.read_l1);
	for (i = 0; i < 2; i++) {
		l2_cpuid_exit();
		if (l1_exec(NEST_VMX_EXIT_VMRESUME, 0) != NEST_OK)
			die("VMRESUME failed");
	}
	trip = S.calls;
	before = S.calls;
	l2_cpuid_exit();
	printf("reflected exit (CPUID):   vmcs_read %lu  vmcs_write %lu  read_l1 %lu\n",
	       S.calls.vmcs_read - before.vmcs_read, S.calls.vmcs_write - before.vmcs_write,
	       S.calls.read_l1 - before.read_l1);
	before = S.calls;
	if (l1_exec(NEST_VMX_EXIT_VMRESUME, 0) != NEST_OK)
		die("VMRESUME failed");
	printf("VMRESUME (no change):     vmcs_read %lu  vmcs_write %lu  read_l1 %lu"
	       "  (check groups run %u, full merge %d)\n",
	       S.calls.vmcs_read - before.vmcs_read, S.calls.vmcs_write - before.vmcs_write,
	       S.calls.read_l1 - before.read_l1, ctx->nested.fast.last_groups,
	       ctx->nested.fast.last_full_merge);
	printf("round trip (both):        vmcs_read %lu  vmcs_write %lu  read_l1 %lu\n",
	       S.calls.vmcs_read - trip.vmcs_read, S.calls.vmcs_write - trip.vmcs_write,
	       S.calls.read_l1 - trip.read_l1);
	l2_cpuid_exit();
	l1_vmwrite_rip(0x402000ull);
	before = S.calls;
	if (l1_exec(NEST_VMX_EXIT_VMRESUME, 0) != NEST_OK)
		die("VMRESUME failed");
	printf("VMRESUME (RIP written):   vmcs_read %lu  vmcs_write %lu  read_l1 %lu"
	       "  (check groups run %u, full merge %d)\n",
	       S.calls.vmcs_read - before.vmcs_read, S.calls.vmcs_write - before.vmcs_write,
	       S.calls.read_l1 - before.read_l1, ctx->nested.fast.last_groups,
	       ctx->nested.fast.last_full_merge);

	printf("ns per VMLAUNCH:                   %8.0f\n", launch);
	printf("ns per VMRESUME, nothing changed:  %8.0f  (full path forced: %.0f)\n", resume,
	       full);
	printf("ns per VMRESUME, RIP written:      %8.0f  (full path forced: %.0f)\n", rip,
	       full_rip);
	printf("ns per reflected exit:             %8.0f\n", exit_ns);
	printf("ns per vmcs12 copy (floor):        %8.1f  (%zu bytes)\n", floor, sizeof(copy));
	printf("ratios to the floor: launch %.0fx, resume %.0fx (full %.0fx), resume after "
	       "RIP %.0fx (full %.0fx), exit %.0fx\n",
	       launch / floor, resume / floor, full / floor, rip / floor, full_rip / floor,
	       exit_ns / floor);
	(void)sink;
	sim_fini(&S);
	return 0;
}
