/* SPDX-License-Identifier: MIT */
/*
 * Figures of nested VMX on the simulated backend: nanoseconds per
 * VMLAUNCH (entry checks and a full vmcs02 build), per VMRESUME with
 * nothing changed, per reflected exit (CPUID), and backend calls per round
 * trip (L2 exit reflected + VMRESUME), beside the same-run cost of copying
 * a vmcs12 image once (the floor). Not a test: it prints, and fails only
 * if a call does not do what the scenario expects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nest/nest.h>

#include "../unit/test_vmx_entry_baseline.h"
#include "sim.h"
#include "sim_vmx.h"
#include "vmx/context.h"

#define ITER 20000u
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
	l0.exit_ctls = VMX_EXIT_HOST_ADDR_SPACE_SIZE;
	l0.proc2 = VMX_PROC2_ENABLE_EPT | VMX_PROC2_ENABLE_VPID;
	l0.vpid02 = 3;
	l0.exception_bitmap = 1u << X86_EXC_MC;
	if (nest_vmx_set_l0(ctx, &l0) != NEST_OK)
		die("set_l0");
	l1_m64(VMX_EXIT_VMXON, 0x1000);
	l1_m64(VMX_EXIT_VMPTRLD, 0x2000);
	fx_init(&base);
	ctx->caps = base.caps;
	rev = ctx->vmcs12.revision;
	ctx->vmcs12 = base.v;
	ctx->vmcs12.revision = rev;
	ctx->vmcs12.SECONDARY_VM_EXEC_CONTROL &=
	    ~(VMX_PROC2_ENABLE_EPT | VMX_PROC2_UNRESTRICTED_GUEST);
}

static void l2_cpuid_exit(void)
{
	struct nest_vmx_exit e;
	struct nest_vmx_l2_regs r;

	sim_vmcs_set(&S, NEST_VMCS02, NEST_VMCS_VM_EXIT_REASON, VMX_EXIT_CPUID);
	memset(&e, 0, sizeof(e));
	e.size = sizeof(e);
	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	memset(&act, 0, sizeof(act));
	act.size = sizeof(act);
	if (nest_vmx_l2_exit(ctx, &e, &r, &act) != NEST_OK || act.kind != NEST_VMX_ACT_RESUME_L1)
		die("CPUID exit not reflected");
}

int main(void)
{
	static struct nest__vmcs12 copy;
	uint64_t t0, t_launch = 0, t_resume = 0, t_exit = 0, t_copy;
	struct sim_calls before;
	volatile uint32_t sink = 0;
	unsigned i;

	setup();

	/* VMLAUNCH: checks + a full vmcs02 build and write (a fresh vmcs02). */
	for (i = 0; i < ITER / 10; i++) {
		ctx->vmcs12.launch_state = NEST_VMCS12_STATE_CLEAR;
		ctx->nested.guest_mode = false;
		memset(&ctx->nested.vmcs02_cache, 0, sizeof(ctx->nested.vmcs02_cache));
		sim_vmcs_clear(&S, NEST_VMCS02);
		t0 = now_ns();
		if (l1_exec(VMX_EXIT_VMLAUNCH, 0) != NEST_OK || act.kind != NEST_VMX_ACT_ENTER_L2)
			die("VMLAUNCH failed");
		t_launch += now_ns() - t0;
	}
	sim_reset_counters(&S);
	ctx->vmcs12.launch_state = NEST_VMCS12_STATE_CLEAR;
	ctx->nested.guest_mode = false;
	memset(&ctx->nested.vmcs02_cache, 0, sizeof(ctx->nested.vmcs02_cache));
	sim_vmcs_clear(&S, NEST_VMCS02);
	if (l1_exec(VMX_EXIT_VMLAUNCH, 0) != NEST_OK)
		die("VMLAUNCH failed");
	printf("VMLAUNCH (fresh vmcs02):  vmcs_read %lu  vmcs_write %lu  read_l1 %lu\n",
	       S.calls.vmcs_read, S.calls.vmcs_write, S.calls.read_l1);

	/* Round trips: a reflected CPUID exit, then VMRESUME, nothing changed. */
	for (i = 0; i < ITER; i++) {
		t0 = now_ns();
		l2_cpuid_exit();
		t_exit += now_ns() - t0;
		t0 = now_ns();
		if (l1_exec(VMX_EXIT_VMRESUME, 0) != NEST_OK || act.kind != NEST_VMX_ACT_ENTER_L2)
			die("VMRESUME failed");
		t_resume += now_ns() - t0;
	}
	before = S.calls;
	l2_cpuid_exit();
	printf("reflected exit (CPUID):   vmcs_read %lu  vmcs_write %lu  read_l1 %lu\n",
	       S.calls.vmcs_read - before.vmcs_read, S.calls.vmcs_write - before.vmcs_write,
	       S.calls.read_l1 - before.read_l1);
	before = S.calls;
	if (l1_exec(VMX_EXIT_VMRESUME, 0) != NEST_OK)
		die("VMRESUME failed");
	printf("VMRESUME (no change):     vmcs_read %lu  vmcs_write %lu  read_l1 %lu\n",
	       S.calls.vmcs_read - before.vmcs_read, S.calls.vmcs_write - before.vmcs_write,
	       S.calls.read_l1 - before.read_l1);

	/* The floor: copying one vmcs12 image. */
	t0 = now_ns();
	for (i = 0; i < ITER; i++) {
		memcpy(&copy, &ctx->vmcs12, sizeof(copy));
		sink += copy.GUEST_RIP;
		__asm__ volatile("" ::: "memory");
	}
	t_copy = now_ns() - t0;

	printf("ns per VMLAUNCH:          %8.0f\n", (double)t_launch / (ITER / 10));
	printf("ns per VMRESUME:          %8.0f\n", (double)t_resume / ITER);
	printf("ns per reflected exit:    %8.0f\n", (double)t_exit / ITER);
	printf("ns per vmcs12 copy (floor): %6.1f  (%zu bytes)\n", (double)t_copy / ITER,
	       sizeof(copy));
	printf("ratios to the floor: launch %.0fx, resume %.0fx, exit %.0fx\n",
	       (double)t_launch / (ITER / 10) / ((double)t_copy / ITER),
	       (double)t_resume / ITER / ((double)t_copy / ITER),
	       (double)t_exit / ITER / ((double)t_copy / ITER));
	(void)sink;
	sim_fini(&S);
	return 0;
}
