/* SPDX-License-Identifier: MIT */
/*
 * Figures for the shadow EPT02/NPT02 hot paths, each also as a ratio to a
 * baseline measured in the same run (a memcpy of one 4 KiB page-table
 * page): nanoseconds per shadow fault (4-level EPT12 over 4 KiB L0 pages,
 * with and without A/D; long-mode NPT12), per root-cache hit on re-entry,
 * per INVEPT (single-context, of a root with 512 leaves); backend calls per
 * fault; shadow pages per GiB of L2 shadowed (4 KiB and 2 MiB pages).
 * Each time is the best of several repetitions, so that a shared, loaded
 * machine disturbs the figures less.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tdp_testlib.h"

#define MEM (16ull << 20)
#define POOL 1200
#define NPAGES 4096 /* distinct L2 pages faulted per round */
#define ROUNDS 8

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static struct tb T;
static struct nest_tdp *ctx;
static void *ctx_mem;
static volatile uint64_t sink;

static void open_ctx(uint32_t max_pages)
{
	struct nest_tdp_config c;
	size_t n;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.max_pages = max_pages;
	c.max_roots = 8;
	c.ept_vpid_cap = TB_EPT_CAPS;
	c.maxphyaddr = 46;
	c.max_page_shift = 21;
	n = nest_tdp_size(&c);
	ctx_mem = aligned_alloc(64, (n + 63) & ~(size_t)63);
	if (!ctx_mem || nest_tdp_init(ctx_mem, n, &T.be, &c, &ctx) != NEST_OK) {
		fprintf(stderr, "bench_tdp: init failed\n");
		exit(1);
	}
}

static void close_ctx(void)
{
	nest_tdp_fini(ctx);
	free(ctx_mem);
}

static double baseline_ns(void)
{
	static uint8_t a[4096], b[4096];
	const int n = 200000;
	double t0, best = 1e30;
	int i, rep;

	memset(a, 1, sizeof(a));
	/* The best of a few repetitions: the first ones warm the CPU up. */
	for (rep = 0; rep < 5; rep++) {
		t0 = now_ns();
		for (i = 0; i < n; i++) {
			a[i & 4095] = (uint8_t)i;
			memcpy(b, a, sizeof(b));
			sink += b[(i * 7) & 4095];
		}
		if ((now_ns() - t0) / n < best)
			best = (now_ns() - t0) / n;
	}
	return best;
}

/* L1 table mapping L2 [0, NPAGES*4K) to L1 pages (aliased into 8 MiB). */
static uint64_t build_l1(int npt)
{
	uint64_t root = tb_new_table(&T), i;
	uint64_t leaf = npt ? (TB_P | TB_RW | TB_US) : (TB_EPT_RWX | TB_EPT_MT(6));
	uint64_t tbl = npt ? (TB_P | TB_RW | TB_US) : TB_EPT_RWX;

	for (i = 0; i < NPAGES; i++)
		tb_map64(&T, root, 4, i * 4096, (8ull << 20) + (i % 2048) * 4096, 1, leaf, tbl);
	return root;
}

struct fault_fig {
	double ns;
	double calls;
};

static struct fault_fig bench_faults(const struct nest_tdp_l1_root *r)
{
	struct nest_tdp_fault_in in;
	struct nest_tdp_fault_out out;
	struct fault_fig f = {0, 0};
	double best = 1e30, dt;
	unsigned round, i;
	unsigned long calls = 0;

	memset(&in, 0, sizeof(in));
	in.access = NEST_ACC_W;
	in.flags = NEST_TDP_F_FINAL;
	for (round = 0; round < ROUNDS; round++) {
		double t0;

		nest_tdp_invalidate_all(ctx);
		sim_reset_counters(&T.sim);
		t0 = now_ns();
		for (i = 0; i < NPAGES; i++) {
			in.l2_gpa = (uint64_t)i * 4096;
			if (nest_tdp_fault(ctx, r, &in, &out) != NEST_OK ||
			    out.kind != NEST_TDP_FIXED) {
				fprintf(stderr, "bench_tdp: fault not fixed\n");
				exit(1);
			}
		}
		dt = now_ns() - t0;
		if (dt < best)
			best = dt; /* the least disturbed round: the machine may be shared */
		calls += sim_total_calls(&T.sim);
	}
	f.ns = best / NPAGES;
	f.calls = (double)calls / (ROUNDS * NPAGES);
	return f;
}

int main(void)
{
	struct nest_tdp_l1_root ept, ept_ad, npt;
	struct nest_tdp_root_info info;
	struct nest_tdp_stats st;
	struct fault_fig fe, fa, fn;
	double base, t0, hit_ns, invept_ns, inv_best = 1e30, drop_best = 1e30, sync_best = 1e30;
	uint64_t root, i;
	const int hits = 4000000, invs = 200;
	int k;

	if (tb_init(&T, MEM, POOL) != 0)
		return 1;
	open_ctx(POOL - 8);
	base = baseline_ns();

	root = build_l1(0);
	memset(&ept, 0, sizeof(ept));
	ept.kind = NEST_TDP_EPT;
	ept.pointer = TB_EPTP(root, 4, 0);
	ept_ad = ept;
	ept_ad.pointer = TB_EPTP(root, 4, 1);
	memset(&npt, 0, sizeof(npt));
	npt.kind = NEST_TDP_NPT;
	npt.pointer = build_l1(1);
	npt.cr0 = 0x80000011ull;
	npt.cr4 = 0x20ull;
	npt.efer = 0xd00ull;

	fe = bench_faults(&ept);
	fa = bench_faults(&ept_ad);
	fn = bench_faults(&npt);

	/* Re-entry: VMRESUME after VMRESUME looks the root up again. */
	nest_tdp_root(ctx, &ept, &info);
	hit_ns = 1e30;
	for (i = 0; i < 10; i++) {
		double dt;

		t0 = now_ns();
		for (k = 0; k < hits / 10; k++) {
			nest_tdp_root(ctx, &ept, &info);
			sink += info.hpa;
		}
		dt = (now_ns() - t0) / (hits / 10);
		if (dt < hit_ns)
			hit_ns = dt;
	}

	/* INVEPT single-context of a root holding 512 4 KiB leaves. */
	for (k = 0; k < invs; k++) {
		struct nest_tdp_fault_in in;
		struct nest_tdp_fault_out out;

		memset(&in, 0, sizeof(in));
		in.access = NEST_ACC_R;
		for (i = 0; i < 512; i++) {
			in.l2_gpa = i * 4096;
			nest_tdp_fault(ctx, &ept, &in, &out);
		}
		t0 = now_ns();
		nest_tdp_invalidate_root(ctx, &ept);
		if (now_ns() - t0 < inv_best)
			inv_best = now_ns() - t0;
	}
	invept_ns = inv_best;

	/* An L1 flush that changed nothing (kvm-unit-tests flushes at every
	 * VMRUN), L2 touching the same 16 pages after each entry: dropped,
	 * then 16 faults (16 exits to L0 on hardware), against synced (none). */
	for (k = 0; k < 2 * invs; k++) {
		struct nest_tdp_fault_in in;
		struct nest_tdp_fault_out out;
		double dt;

		memset(&in, 0, sizeof(in));
		in.access = NEST_ACC_R;
		t0 = now_ns();
		if (k % 2 == 0)
			nest_tdp_invalidate_root(ctx, &ept_ad);
		else
			nest_tdp_sync_root(ctx, &ept_ad);
		for (i = 0; i < 16; i++) {
			in.l2_gpa = i * 0x21000ull;
			if (k % 2 == 0)
				nest_tdp_fault(ctx, &ept_ad, &in, &out);
		}
		dt = now_ns() - t0;
		if (k % 2 == 0 && dt < drop_best)
			drop_best = dt;
		if (k % 2 == 1 && dt < sync_best)
			sync_best = dt;
	}

	printf("baseline: memcpy of a 4 KiB table page     %8.1f ns\n", base);
	printf("shadow fault, EPT 4-level / 4K L0          %8.1f ns  (x%.2f baseline)  %.2f "
	       "backend calls/fault\n",
	       fe.ns, fe.ns / base, fe.calls);
	printf("shadow fault, EPT 4-level with A/D         %8.1f ns  (x%.2f baseline)  %.2f "
	       "backend calls/fault\n",
	       fa.ns, fa.ns / base, fa.calls);
	printf("shadow fault, NPT long mode 4-level        %8.1f ns  (x%.2f baseline)  %.2f "
	       "backend calls/fault\n",
	       fn.ns, fn.ns / base, fn.calls);
	printf("root cache hit on re-entry                 %8.1f ns  (x%.3f baseline)  0 backend "
	       "calls\n",
	       hit_ns, hit_ns / base);
	printf("INVEPT single-context (512 leaves, 4 pages)%8.1f ns  (x%.2f baseline)\n", invept_ns,
	       invept_ns / base);
	printf("unchanged flush, 16 leaves: drop + 16 faults%7.1f ns  (x%.2f baseline)\n", drop_best,
	       drop_best / base);
	printf("unchanged flush, 16 leaves: sync, no fault  %8.1f ns  (x%.2f baseline)\n", sync_best,
	       sync_best / base);
	close_ctx();

	/* Memory per shadowed GiB of L2: 4 KiB pages (L1 and L0), then 2 MiB pages. */
	{
		static const struct {
			unsigned level;
			uint8_t l0_shift;
			const char *name;
		} cases[2] = {{1, 12, "4 KiB pages"}, {2, 21, "2 MiB pages"}};
		int c;

		for (c = 0; c < 2; c++) {
			struct nest_tdp_fault_in in;
			struct nest_tdp_fault_out out;
			uint64_t step = cases[c].level == 1 ? 4096 : (2ull << 20), r1, g;

			tb_fini(&T);
			if (tb_init(&T, MEM, POOL) != 0)
				return 1;
			for (g = 0; g < MEM; g += 4096)
				tb_map(&T, g, TB_HPA_BASE + g, NEST_ACC_R | NEST_ACC_W | NEST_ACC_X,
				       NEST_MT_WB, cases[c].l0_shift);
			open_ctx(POOL - 8);
			r1 = tb_new_table(&T);
			for (g = 0; g < (1ull << 30); g += step)
				tb_map64(&T, r1, 4, g,
					 (8ull << 20) +
					     (cases[c].level == 1 ? (g / 4096 % 1024) * 4096 : 0),
					 cases[c].level,
					 TB_EPT_RWX | TB_EPT_MT(6) |
					     (cases[c].level > 1 ? TB_EPT_PS : 0),
					 TB_EPT_RWX);
			memset(&ept, 0, sizeof(ept));
			ept.kind = NEST_TDP_EPT;
			ept.pointer = TB_EPTP(r1, 4, 0);
			memset(&in, 0, sizeof(in));
			in.access = NEST_ACC_R;
			for (g = 0; g < (1ull << 30); g += step) {
				in.l2_gpa = g;
				if (nest_tdp_fault(ctx, &ept, &in, &out) != NEST_OK ||
				    out.kind != NEST_TDP_FIXED) {
					fprintf(stderr, "bench_tdp: GiB fault not fixed\n");
					return 1;
				}
			}
			memset(&st, 0, sizeof(st));
			st.size = sizeof(st);
			nest_tdp_get_stats(ctx, &st);
			printf("memory per shadowed GiB of L2, %s  %5u pages (%.2f MiB, %.3f%% of "
			       "the GiB)\n",
			       cases[c].name, st.pages_in_use, st.pages_in_use * 4096.0 / (1 << 20),
			       st.pages_in_use * 4096.0 * 100 / (1 << 30));
			close_ctx();
		}
	}
	/* nest_tdp_l1_map_changed() of one page against the pool size: 512
	 * leaves built, one page changed and rebuilt, the change timed. */
	{
		static const uint32_t slots[] = {4096, 32768, 262144};
		unsigned c;

		for (c = 0; c < sizeof(slots) / sizeof(slots[0]); c++) {
			struct nest_tdp_fault_in in;
			struct nest_tdp_fault_out out;
			double best = 1e30;
			uint64_t r1;

			tb_fini(&T);
			if (tb_init(&T, MEM, POOL) != 0)
				return 1;
			open_ctx(slots[c]);
			r1 = build_l1(0);
			memset(&ept, 0, sizeof(ept));
			ept.kind = NEST_TDP_EPT;
			ept.pointer = TB_EPTP(r1, 4, 0);
			memset(&in, 0, sizeof(in));
			in.access = NEST_ACC_R;
			for (i = 0; i < 512; i++) {
				in.l2_gpa = (uint64_t)i * 4096;
				nest_tdp_fault(ctx, &ept, &in, &out);
			}
			for (k = 0; k < 200; k++) {
				uint64_t page = (8ull << 20) + (k % 512) * 4096;
				double dt = now_ns();

				nest_tdp_l1_map_changed(ctx, page, 4096);
				dt = now_ns() - dt;
				if (dt < best)
					best = dt;
				in.l2_gpa = (k % 512) * 4096;
				if (nest_tdp_fault(ctx, &ept, &in, &out) != NEST_OK ||
				    out.kind != NEST_TDP_FIXED) {
					fprintf(stderr, "bench_tdp: refault not fixed\n");
					return 1;
				}
			}
			printf("L1 map change of one page, pool of %6u slots %9.1f ns  (x%.2f "
			       "baseline)\n",
			       slots[c], best, best / base);
			close_ctx();
		}
	}
	tb_fini(&T);
	return 0;
}
