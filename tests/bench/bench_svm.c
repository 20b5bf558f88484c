/* SPDX-License-Identifier: MIT */
/*
 * Hot paths of nested SVM on the simulated backend: an emulated VMRUN, a
 * reflected #VMEXIT, an L0-handled exit with resume, and backend calls per
 * round trip, against a baseline measured in the same run: copying one
 * 4 KiB VMCB. Figures, not pass/fail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim_svm.h"

#define ROUNDS 40000
#define REPEATS 5 /* best of: a loaded machine disturbs the figures less */

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static volatile uint8_t sink;

static double bench_copy(void)
{
	static struct nest_vmcb a, b;
	double t0, t1;
	int i;

	memset(&a, 1, sizeof(a));
	t0 = now_ns();
	for (i = 0; i < ROUNDS; i++) {
		a.control.exitcode = (uint64_t)i;
		memcpy(&b, &a, sizeof(b));
		__asm__ volatile("" : : "r"(&b) : "memory");
	}
	t1 = now_ns();
	sink = b.save.cpl;
	return (t1 - t0) / ROUNDS;
}

struct figures {
	double vmrun_ns, exit_ns;
	double calls_per_trip;
};

static void round_trips(struct sim_svm *t, const struct nest_vmcb *v12, uint64_t code,
			struct figures *f)
{
	double t_run = 0, t_exit = 0, a, b, c;
	unsigned long calls;
	int i;

	memcpy(sim_ptr(&t->sim, SIM_SVM_VMCB12, sizeof(*v12)), v12, sizeof(*v12));
	sim_reset_counters(&t->sim);
	for (i = 0; i < ROUNDS; i++) {
		t->vmcb01->save.rip = 0x401000;
		t->vmcb01->save.rax = SIM_SVM_VMCB12;
		t->vmcb01->control.exitcode = NEST_SVM_EXIT_VMRUN;
		t->vmcb01->control.next_rip = 0x401003;
		a = now_ns();
		if (nest_svm_l1_exit(t->ctx, t->vmcb01, &t->regs, &t->act) != NEST_OK ||
		    t->act.kind != NEST_SVM_ACT_RUN_L2)
			abort();
		b = now_ns();
		t->vmcb02->control.exitcode = code;
		if (nest_svm_l2_exit(t->ctx, t->vmcb01, &t->regs, &t->act) != NEST_OK ||
		    t->act.kind != NEST_SVM_ACT_RESUME_L1)
			abort();
		c = now_ns();
		t_run += b - a;
		t_exit += c - b;
	}
	calls = sim_total_calls(&t->sim);
	f->vmrun_ns = t_run / ROUNDS;
	f->exit_ns = t_exit / ROUNDS;
	f->calls_per_trip = (double)calls / ROUNDS;
}

static void best_round_trips(struct sim_svm *t, const struct nest_vmcb *v12, uint64_t code,
			     struct figures *f)
{
	struct figures g;
	int r;

	round_trips(t, v12, code, f);
	for (r = 1; r < REPEATS; r++) {
		round_trips(t, v12, code, &g);
		if (g.vmrun_ns < f->vmrun_ns)
			f->vmrun_ns = g.vmrun_ns;
		if (g.exit_ns < f->exit_ns)
			f->exit_ns = g.exit_ns;
	}
}

static double l0_exits(struct sim_svm *t, const struct nest_vmcb *v12, double *calls)
{
	double t0, t1;
	int i;

	memcpy(sim_ptr(&t->sim, SIM_SVM_VMCB12, sizeof(*v12)), v12, sizeof(*v12));
	t->vmcb01->save.rax = SIM_SVM_VMCB12;
	t->vmcb01->control.exitcode = NEST_SVM_EXIT_VMRUN;
	if (nest_svm_l1_exit(t->ctx, t->vmcb01, &t->regs, &t->act) != NEST_OK)
		abort();
	sim_reset_counters(&t->sim);
	t0 = now_ns();
	for (i = 0; i < ROUNDS; i++) {
		t->vmcb02->control.exitcode = NEST_SVM_EXIT_HLT;
		if (nest_svm_l2_exit(t->ctx, t->vmcb01, &t->regs, &t->act) != NEST_OK ||
		    t->act.kind != NEST_SVM_ACT_L0_HANDLES)
			abort();
		if (nest_svm_resume_l2(t->ctx, &t->act) != NEST_OK)
			abort();
	}
	t1 = now_ns();
	*calls = (double)sim_total_calls(&t->sim) / ROUNDS;
	if (nest_svm_force_exit(t->ctx, t->vmcb01, NEST_SVM_EXIT_INTR, 0, 0, &t->act) != NEST_OK)
		abort();
	return (t1 - t0) / ROUNDS;
}

/* "bench_svm trips N": N round trips (VMRUN with L1's MSRPM and IOPM, a
 * reflected CPUID #VMEXIT) and nothing else, for counting instructions per
 * operation under callgrind (tests/bench/count.sh). */
static int trips_only(struct sim_svm *t, struct nest_vmcb *v12, unsigned long n)
{
	v12->control.intercept_misc1 |= (1u << (NEST_SVM_ICPT_CPUID % 32)) |
					(1u << (NEST_SVM_ICPT_MSR_PROT % 32)) |
					(1u << (NEST_SVM_ICPT_IOIO_PROT % 32));
	memcpy(sim_ptr(&t->sim, SIM_SVM_VMCB12, sizeof(*v12)), v12, sizeof(*v12));
	for (unsigned long i = 0; i < n; i++) {
		t->vmcb01->save.rip = 0x401000;
		t->vmcb01->save.rax = SIM_SVM_VMCB12;
		t->vmcb01->control.exitcode = NEST_SVM_EXIT_VMRUN;
		t->vmcb01->control.next_rip = 0x401003;
		if (nest_svm_l1_exit(t->ctx, t->vmcb01, &t->regs, &t->act) != NEST_OK ||
		    t->act.kind != NEST_SVM_ACT_RUN_L2)
			abort();
		t->vmcb02->control.exitcode = NEST_SVM_EXIT_CPUID;
		if (nest_svm_l2_exit(t->ctx, t->vmcb01, &t->regs, &t->act) != NEST_OK ||
		    t->act.kind != NEST_SVM_ACT_RESUME_L1)
			abort();
	}
	sim_svm_fini(t);
	return 0;
}

int main(int argc, char **argv)
{
	struct sim_svm t;
	struct nest_vmcb v12;
	struct figures plain, maps;
	uint32_t l0[NEST_SVM_INTERCEPT_WORDS] = {0, 0, 0, 1u << 24 /* HLT */, 0, 0};
	double copy, l0_ns, l0_calls;

	if (sim_svm_init(&t, NEST_SVM_F_SUPPORTED,
			 NEST_SVM_CFG_SVM_ALLOWED | NEST_SVM_CFG_LONG_MODE, 0, l0))
		return 1;
	/* L0 tracks writes to L1's map pages (track_l1_writes), as an
	 * integrator would; NEST_BENCH_REREAD=1 measures the fallback that
	 * reads them at every VMRUN. */
	t.sim.track_writes = getenv("NEST_BENCH_REREAD") == NULL;
	(void)sim_backend(&t.sim);
	if (argc == 3 && strcmp(argv[1], "trips") == 0) {
		sim_svm_valid_vmcb12(&v12);
		return trips_only(&t, &v12, strtoul(argv[2], NULL, 10));
	}
	copy = bench_copy();
	for (int r = 1; r < REPEATS; r++) {
		double c = bench_copy();

		if (c < copy)
			copy = c;
	}

	sim_svm_valid_vmcb12(&v12);
	v12.control.intercept_misc1 |= 1u << (NEST_SVM_ICPT_CPUID % 32);
	best_round_trips(&t, &v12, NEST_SVM_EXIT_CPUID, &plain);
	v12.control.intercept_misc1 |=
	    (1u << (NEST_SVM_ICPT_MSR_PROT % 32)) | (1u << (NEST_SVM_ICPT_IOIO_PROT % 32));
	best_round_trips(&t, &v12, NEST_SVM_EXIT_CPUID, &maps);
	v12.control.intercept_misc1 &=
	    ~((1u << (NEST_SVM_ICPT_MSR_PROT % 32)) | (1u << (NEST_SVM_ICPT_IOIO_PROT % 32)));
	l0_ns = l0_exits(&t, &v12, &l0_calls);
	for (int r = 1; r < REPEATS; r++) {
		double c, n = l0_exits(&t, &v12, &c);

		if (n < l0_ns)
			l0_ns = n;
	}

	printf("baseline: copy one 4 KiB VMCB            %8.1f ns\n", copy);
	printf("VMRUN (no L1 permission maps)            %8.1f ns  (%.1fx copy)\n", plain.vmrun_ns,
	       plain.vmrun_ns / copy);
	printf("reflected #VMEXIT (CPUID)                %8.1f ns  (%.1fx copy)\n", plain.exit_ns,
	       plain.exit_ns / copy);
	printf("backend calls per VMRUN + #VMEXIT        %8.1f\n", plain.calls_per_trip);
	printf("VMRUN with L1's MSRPM and IOPM merged    %8.1f ns  (%.1fx copy)\n", maps.vmrun_ns,
	       maps.vmrun_ns / copy);
	printf("reflected #VMEXIT after that VMRUN       %8.1f ns  (%.1fx copy)\n", maps.exit_ns,
	       maps.exit_ns / copy);
	printf("backend calls per round trip with maps   %8.1f\n", maps.calls_per_trip);
	printf(
	    "L0-handled exit (HLT) + resume           %8.1f ns  (%.1fx copy), %.1f backend calls\n",
	    l0_ns, l0_ns / copy, l0_calls);
	sim_svm_fini(&t);
	return 0;
}
