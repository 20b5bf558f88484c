/* SPDX-License-Identifier: MIT */
/*
 * Several vCPUs on one shadow (nest_tdp_vcpu_init()): a threaded stress
 * test on the simulated backend, run by `make check` and, under
 * ThreadSanitizer, by `make tsan`.
 *
 * Each vCPU thread models a processor running L2: it enters
 * (nest_tdp_root() through its handle), then makes accesses that a
 * software "hardware walker" translates by reading EPT02 with atomic loads
 * and caches in a per-vCPU TLB, the way a processor does while libnest
 * changes the tables on other vCPUs. A miss or a denied access is an exit:
 * nest_tdp_fault(). Between two accesses the vCPU looks for flush requests
 * (the IPI of a real L0) and honours them at an exit, before it re-enters.
 *
 * Meanwhile an "L1" thread revokes write rights in EPT12 and executes
 * INVEPT (single-context or global, through any vCPU's handle), and an
 * "L0" thread revokes write rights in L0's map of L1 memory and calls
 * nest_tdp_l1_map_changed(). Each revocation is stamped, after its
 * invalidation returned, with a new value of a global epoch; a vCPU reads
 * the epoch at each entry, before it honours the requests made of it. The
 * oracle: no access of a vCPU may write a page whose revocation was
 * stamped before the vCPU's last entry (libnest must have emptied the
 * shadow and asked that vCPU to flush before the stamp). Also:
 * every translation leads to the host page of the right L1 page; and a
 * page libnest frees is never a root some vCPU runs on (root pinning).
 *
 * The backend quarantines freed pages until every vCPU has gone twice
 * through an exit, as backend.h asks of page_free after flush requests.
 */
#define _DEFAULT_SOURCE 1 /* rand_r, usleep */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sched.h>
#include <unistd.h>

#include "check_main.h"
#include "tdp_testlib.h"

#define NVCPU 4
#define NPAGES 256	    /* L2 pages 0..NPAGES-1 */
#define L1_DATA 0x100000ull /* L2 page i -> L1 page L1_DATA + i*4K */
#define NROOTS 5	    /* EPTP12s the vCPUs switch between */
#define POOL 64		    /* pages the backend owns */
#define MAX_PAGES 24	    /* libnest's bound: reclaim under load */
#define REVOKE 96	    /* revocations by L1, and by L0 */
#define ACCESSES (getenv("TDP_SMP_ACCESSES") ? atoi(getenv("TDP_SMP_ACCESSES")) : 20000)

struct vcpu {
	unsigned id;
	struct nest_tdp *h;
	_Alignas(8) unsigned char hmem[64];
	_Atomic uint64_t pending;  /* highest flush request made of it */
	_Atomic uint64_t quiesce;  /* exits so far */
	_Atomic uint64_t root_hpa; /* the root it runs on (0: none) */
	_Atomic int in_guest;	   /* in guest mode: its walker may be reading EPT02 */
	uint64_t synced;	   /* highest flush request honoured */
	uint64_t entry_epoch;	   /* revocations completed before its last entry */
	uint8_t tlb[NPAGES];	   /* 0: no entry, else NEST_ACC_* | 0x80 */
	unsigned seed;
	unsigned long accesses, exits, flushes, fixed, nomem;
};

struct smp {
	struct tb tb;
	struct nest_backend_ops ops;
	struct nest_backend be;
	pthread_mutex_t lock;
	struct nest_tdp *vm;
	void *vm_mem;
	uint64_t eptp[NROOTS];
	struct vcpu v[NVCPU];
	_Atomic uint64_t seq;		 /* flush requests so far */
	_Atomic uint64_t epoch;		 /* revocations completed so far */
	_Atomic uint64_t l1_rev[NPAGES]; /* epoch of L1's revocation of W (0: none) */
	_Atomic uint64_t l0_rev[NPAGES]; /* same, L0's */
	_Atomic int stop;
	_Atomic unsigned long failures, requests;
	struct nest_vcpu_set last_set; /* of the last request (under the VM lock) */
	uint32_t last_kind;
	char first_failure[256];
	/* The page pool: free, in use, or quarantined with a snapshot of the exits. */
	bool used[POOL];
	bool quarantined[POOL];
	uint64_t snap[POOL][NVCPU]; /* exits of each vCPU at the free; ~0: not in guest mode */
	unsigned long quarantine_waits;
};

static struct smp S;

static void oops(const char *fmt, unsigned long a, unsigned long b, unsigned long c)
{
	if (atomic_fetch_add(&S.failures, 1) == 0)
		snprintf(S.first_failure, sizeof(S.first_failure), fmt, a, b, c);
}

/* ---- the backend ---- */

static int smp_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	uint8_t *p;

	(void)ctx;
	if (gpa + len > S.tb.sim.mem_size || gpa + len < gpa)
		return NEST_E_FAULT;
	p = S.tb.sim.mem + gpa;
	/* L1 changes its tables while libnest walks them: word-sized atomics. */
	if (len == 8 && !(gpa & 7))
		*(uint64_t *)buf = __atomic_load_n((uint64_t *)p, __ATOMIC_ACQUIRE);
	else if (len == 4 && !(gpa & 3))
		*(uint32_t *)buf = __atomic_load_n((uint32_t *)p, __ATOMIC_ACQUIRE);
	else
		return NEST_E_INVAL;
	return NEST_OK;
}

static int smp_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx, (void)gpa, (void)buf, (void)len;
	oops("the shadow wrote L1 memory other than by compare-exchange%lu%lu%lu", 0, 0, 0);
	return NEST_E_FAULT;
}

static int smp_cmpxchg(void *ctx, uint64_t gpa, uint64_t expected, uint64_t desired,
		       uint64_t *actual)
{
	(void)ctx;
	if (gpa + 8 > S.tb.sim.mem_size || (gpa & 7))
		return NEST_E_FAULT;
	__atomic_compare_exchange_n((uint64_t *)(S.tb.sim.mem + gpa), &expected, desired, false,
				    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	*actual = expected;
	return NEST_OK;
}

static int smp_l1_to_host(void *ctx, uint64_t gpa, struct nest_l0_map *out)
{
	(void)ctx;
	return tb_l1_to_host(&S.tb, gpa, out); /* under the VM lock, like the map changes */
}

static bool reusable(unsigned i)
{
	unsigned v;

	/* Every vCPU that was in guest mode when the page was freed has
	 * exited since: no walk of it still holds the page. */
	for (v = 0; v < NVCPU; v++)
		if (S.snap[i][v] != ~0ull && atomic_load(&S.v[v].quiesce) <= S.snap[i][v])
			return false;
	return true;
}

static int smp_alloc(void *ctx, uint64_t *hpa, void **hva)
{
	unsigned i, pass;

	(void)ctx;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < POOL; i++) {
			if (S.used[i] || (S.quarantined[i] && (pass == 0 || !reusable(i))))
				continue;
			S.used[i] = true;
			S.quarantined[i] = false;
			*hpa = SIM_HPA_POOL_BASE + (uint64_t)i * TB_PAGE;
			*hva = sim_pool_hva(&S.tb.sim, *hpa);
			return NEST_OK;
		}
	S.quarantine_waits++;
	return NEST_E_NOMEM;
}

static void smp_free(void *ctx, uint64_t hpa, void *hva)
{
	unsigned i = (unsigned)((hpa - SIM_HPA_POOL_BASE) / TB_PAGE), v;

	(void)ctx;
	if (i >= POOL || !S.used[i] || hva != sim_pool_hva(&S.tb.sim, hpa)) {
		oops("page_free of a page not in use (%#lx)%lu%lu", (unsigned long)hpa, 0, 0);
		return;
	}
	for (v = 0; v < NVCPU; v++) {
		if (atomic_load(&S.v[v].root_hpa) == hpa)
			oops("page %#lx freed while vCPU %lu runs on it as its root%lu",
			     (unsigned long)hpa, v, 0);
		S.snap[i][v] = atomic_load(&S.v[v].quiesce);
		if (!atomic_load(&S.v[v].in_guest))
			S.snap[i][v] = ~0ull;
	}
	S.used[i] = false;
	S.quarantined[i] = true;
}

static void smp_flush(void *ctx, uint32_t kind, uint64_t tag, uint64_t addr)
{
	(void)ctx, (void)kind, (void)tag, (void)addr;
	oops("flush called with several vCPUs (kind %lu)%lu%lu", kind, 0, 0);
}

static void smp_flush_vcpus(void *ctx, const struct nest_vcpu_set *set, uint32_t kind, uint64_t tag,
			    uint64_t addr)
{
	uint64_t g;
	unsigned v;

	(void)ctx, (void)tag, (void)addr;
	if (kind != NEST_FLUSH_EPT_CONTEXT)
		oops("flush request of kind %lu%lu%lu", kind, 0, 0);
	atomic_fetch_add(&S.requests, 1);
	S.last_set = *set;
	S.last_kind = kind;
	/* Under the VM lock: requests are numbered in the order they are made. */
	g = atomic_fetch_add(&S.seq, 1) + 1;
	for (v = 0; v < NEST_MAX_VCPUS; v++) {
		if (!(set->bits[v / 64] >> (v % 64) & 1))
			continue;
		if (v >= NVCPU) {
			oops("flush request for vCPU %lu, never attached%lu%lu", v, 0, 0);
			continue;
		}
		uint64_t cur = atomic_load(&S.v[v].pending);

		while (cur < g && !atomic_compare_exchange_weak(&S.v[v].pending, &cur, g))
			;
	}
}

static void smp_lock(void *ctx)
{
	(void)ctx;
	pthread_mutex_lock(&S.lock);
}

static void smp_unlock(void *ctx)
{
	(void)ctx;
	pthread_mutex_unlock(&S.lock);
}

/* ---- the hardware model of one vCPU ---- */

/* Walk EPT02 as a processor does: atomic loads, no lock. 0 if not mapped. */
static uint32_t hw_walk(uint64_t root, uint64_t gpa, uint64_t *hpa)
{
	uint64_t table = root, e = 0;
	unsigned l;

	for (l = 4; l >= 1; l--) {
		uint64_t *t = sim_pool_hva(&S.tb.sim, table);

		if (t == NULL) {
			oops("EPT02 walk reached %#lx, not a pool page (gpa %#lx)%lu",
			     (unsigned long)table, (unsigned long)gpa, 0);
			return 0;
		}
		e = __atomic_load_n(&t[(gpa >> (12 + 9 * (l - 1))) & 511], __ATOMIC_ACQUIRE);
		if (!(e & TB_EPT_RWX))
			return 0;
		if (l == 1 || (e & TB_EPT_PS))
			break;
		table = e & 0x000ffffffffff000ull;
	}
	*hpa = (e & 0x000ffffffffff000ull & ~((1ull << (12 + 9 * (l - 1))) - 1)) |
	       (gpa & ((1ull << (12 + 9 * (l - 1))) - 1) & ~0xfffull);
	return (uint32_t)(e & TB_EPT_RWX);
}

/* Out of guest mode. */
static void vcpu_exit(struct vcpu *c)
{
	atomic_store(&c->in_guest, 0);
	atomic_store(&c->root_hpa, 0);
	atomic_fetch_add(&c->quiesce, 1);
	c->exits++;
}

/* Into guest mode: the root for this entry, then the flush requests made of
 * this vCPU are honoured before it runs (the contract of flush_vcpus). */
static bool vcpu_enter(struct vcpu *c, const struct nest_tdp_l1_root *r)
{
	struct nest_tdp_root_info info;
	uint64_t p;

	int rc, tries = 0;

	/* NEST_E_NOMEM: every page of the backend is in quarantine until the
	 * other vCPUs exit; they do, so try again. */
	while ((rc = nest_tdp_root(c->h, r, &info)) == NEST_E_NOMEM && tries++ < 100000) {
		c->nomem++;
		sched_yield();
	}
	if (rc != NEST_OK) {
		oops("vCPU %lu: nest_tdp_root failed (%lu)%lu", c->id, (unsigned long)rc, 0);
		return false;
	}
	/* The epoch first: a revocation it counts made its flush requests
	 * before, so the load of pending after it sees them. */
	c->entry_epoch = atomic_load(&S.epoch);
	p = atomic_load(&c->pending);
	if (p > c->synced || info.created) {
		memset(c->tlb, 0, sizeof(c->tlb));
		if (p > c->synced)
			c->flushes++;
		c->synced = p;
	}
	atomic_store(&c->root_hpa, info.hpa);
	atomic_store(&c->in_guest, 1);
	return true;
}

static void check_write(struct vcpu *c, unsigned page)
{
	uint64_t a = atomic_load(&S.l1_rev[page]), b = atomic_load(&S.l0_rev[page]);

	if ((a && a <= c->entry_epoch) || (b && b <= c->entry_epoch))
		oops("vCPU %lu writes L2 page %lu, entered after its revocation (epoch %lu) "
		     "returned",
		     c->id, page, a && a <= c->entry_epoch ? a : b);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;
	struct nest_tdp_l1_root r;
	long n, total = ACCESSES;
	int ri = (int)(c->id % NROOTS);

	memset(&r, 0, sizeof(r));
	r.kind = NEST_TDP_EPT;
	r.pointer = S.eptp[ri];
	if (!vcpu_enter(c, &r))
		return NULL;
	for (n = 0; (n < total || !atomic_load(&S.stop)) && atomic_load(&S.failures) == 0; n++) {
		unsigned page = (unsigned)rand_r(&c->seed) % NPAGES;
		uint32_t acc = (rand_r(&c->seed) & 1) ? NEST_ACC_W : NEST_ACC_R;
		uint32_t rights;
		uint64_t hpa = 0;

		/* An IPI: a flush request for this vCPU makes it exit first. */
		if (atomic_load(&c->pending) > c->synced || rand_r(&c->seed) % 64 == 0) {
			vcpu_exit(c);
			if (rand_r(&c->seed) % 8 == 0) {
				ri = (ri + 1) % NROOTS;
				r.pointer = S.eptp[ri];
			}
			if (!vcpu_enter(c, &r))
				return NULL;
		}
		c->accesses++;
		if (c->tlb[page]) {
			rights = c->tlb[page] & 0x7f;
		} else {
			rights = hw_walk(atomic_load(&c->root_hpa), (uint64_t)page << 12, &hpa);
			if (rights) {
				if (hpa != TB_HPA_BASE + L1_DATA + ((uint64_t)page << 12))
					oops("vCPU %lu: L2 page %lu leads to host %#lx", c->id,
					     page, (unsigned long)hpa);
				c->tlb[page] = (uint8_t)(0x80 | rights);
			}
		}
		if ((acc & NEST_ACC_W) && (rights & NEST_ACC_W)) {
			check_write(c, page);
			continue;
		}
		if (acc == NEST_ACC_R && (rights & NEST_ACC_R))
			continue;
		/* An EPT violation: exit, let libnest fix or reflect it, re-enter. */
		{
			struct nest_tdp_fault_in in;
			struct nest_tdp_fault_out out;
			int rc;

			vcpu_exit(c);
			memset(&in, 0, sizeof(in));
			in.l2_gpa = (uint64_t)page << 12;
			in.access = acc;
			rc = nest_tdp_fault(c->h, &r, &in, &out);
			if (rc == NEST_E_NOMEM) {
				/* The backend's pages are all in quarantine for now. */
				c->nomem++;
			} else if (rc != NEST_OK) {
				oops("vCPU %lu: nest_tdp_fault failed on page %lu (%lu)", c->id,
				     page, (unsigned long)rc);
				return NULL;
			} else if (out.kind == NEST_TDP_FIXED)
				c->fixed++;
			c->tlb[page] = 0;
			if (!vcpu_enter(c, &r))
				return NULL;
		}
	}
	vcpu_exit(c);
	return NULL;
}

/* ---- L1 and L0 ---- */

static uint64_t leaf_addr(unsigned page)
{
	/* tb_map64 placed the L1 tables: walk them to the leaf (shared by every root). */
	uint64_t table = S.eptp[0] & ~0xfffull, ea = 0;
	unsigned l;

	for (l = 4; l >= 1; l--) {
		ea = table + (((uint64_t)page << 12 >> (12 + 9 * (l - 1))) & 511) * 8;
		table = sim_read64(&S.tb.sim, ea) & 0x000ffffffffff000ull;
	}
	return ea;
}

static void *l1_thread(void *arg)
{
	unsigned seed = 7, k = 0;

	(void)arg;
	while (k < REVOKE && !atomic_load(&S.stop) && atomic_load(&S.failures) == 0) {
		unsigned page = (unsigned)rand_r(&seed) % NPAGES;
		uint64_t *leaf = (uint64_t *)(S.tb.sim.mem + leaf_addr(page));
		struct nest_tdp_l1_root r;
		unsigned v = (unsigned)rand_r(&seed) % NVCPU, i;

		if (atomic_load(&S.l1_rev[page]))
			continue;
		/* L1 revokes write in EPT12, then executes INVEPT on some vCPU. */
		__atomic_fetch_and(leaf, ~TB_EPT_W, __ATOMIC_ACQ_REL);
		if (k++ % 4 == 0) {
			nest_tdp_invalidate_all(S.v[v].h);
		} else {
			memset(&r, 0, sizeof(r));
			r.kind = NEST_TDP_EPT;
			for (i = 0; i < NROOTS; i++) {
				r.pointer = S.eptp[i];
				nest_tdp_invalidate_root(S.v[v].h, &r);
			}
		}
		atomic_store(&S.l1_rev[page], atomic_fetch_add(&S.epoch, 1) + 1);
		usleep(200);
	}
	return NULL;
}

static void *l0_thread(void *arg)
{
	unsigned seed = 11, k = 0;

	(void)arg;
	while (k++ < REVOKE && !atomic_load(&S.stop) && atomic_load(&S.failures) == 0) {
		unsigned page = (unsigned)rand_r(&seed) % NPAGES;
		uint64_t gpa = L1_DATA + ((uint64_t)page << 12);

		if (atomic_load(&S.l0_rev[page])) {
			k--;
			continue;
		}
		/* L0 takes its VM lock to change its map, then tells libnest. */
		pthread_mutex_lock(&S.lock);
		S.tb.rights[gpa / TB_PAGE] = NEST_ACC_R | NEST_ACC_X;
		pthread_mutex_unlock(&S.lock);
		nest_tdp_l1_map_changed(S.v[rand_r(&seed) % NVCPU].h, gpa, TB_PAGE);
		atomic_store(&S.l0_rev[page], atomic_fetch_add(&S.epoch, 1) + 1);
		usleep(200);
	}
	return NULL;
}

/* ---- the test ---- */

static void setup(void)
{
	struct nest_tdp_config c;
	unsigned i, v;
	size_t n;

	memset(&S, 0, sizeof(S));
	ck_assert_int_eq(tb_init(&S.tb, 4ull << 20, POOL), 0);
	pthread_mutex_init(&S.lock, NULL);
	/* L1: NROOTS EPTP12s sharing their lower tables; L2 page i -> L1 page L1_DATA + i. */
	{
		uint64_t root0 = tb_new_table(&S.tb);

		for (i = 0; i < NPAGES; i++)
			tb_map64(&S.tb, root0, 4, (uint64_t)i << 12, L1_DATA + ((uint64_t)i << 12),
				 1, TB_EPT_RWX | TB_EPT_MT(6), TB_EPT_RWX);
		S.eptp[0] = TB_EPTP(root0, 4, 0);
		for (i = 1; i < NROOTS; i++) {
			uint64_t r = tb_new_table(&S.tb);

			memcpy(sim_ptr(&S.tb.sim, r, TB_PAGE), sim_ptr(&S.tb.sim, root0, TB_PAGE),
			       TB_PAGE);
			S.eptp[i] = TB_EPTP(r, 4, 0);
		}
	}
	S.ops = S.tb.ops;
	S.ops.size = sizeof(S.ops);
	S.ops.read_l1 = smp_read;
	S.ops.write_l1 = smp_write;
	S.ops.cmpxchg_l1 = smp_cmpxchg;
	S.ops.l1_to_host = smp_l1_to_host;
	S.ops.page_alloc = smp_alloc;
	S.ops.page_free = smp_free;
	S.ops.flush = smp_flush;
	S.ops.flush_vcpus = smp_flush_vcpus;
	S.ops.vm_lock = smp_lock;
	S.ops.vm_unlock = smp_unlock;
	S.be.ops = &S.ops;
	S.be.ctx = &S;

	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.max_pages = MAX_PAGES;
	c.max_roots = NVCPU; /* every vCPU can pin its own root */
	c.ept_vpid_cap = TB_EPT_CAPS;
	c.maxphyaddr = 46;
	c.max_page_shift = 12;
	n = nest_tdp_size(&c);
	S.vm_mem = aligned_alloc(64, (n + 63) & ~(size_t)63);
	ck_assert_ptr_nonnull(S.vm_mem);
	ck_assert_int_eq(nest_tdp_init(S.vm_mem, n, &S.be, &c, &S.vm), NEST_OK);
	ck_assert_uint_le(nest_tdp_vcpu_size(), sizeof(S.v[0].hmem));
	for (v = 0; v < NVCPU; v++) {
		S.v[v].id = v;
		S.v[v].seed = 1234 + v;
		ck_assert_int_eq(
		    nest_tdp_vcpu_init(S.v[v].hmem, sizeof(S.v[v].hmem), S.vm, v, &S.v[v].h),
		    NEST_OK);
	}
}

static void teardown(void)
{
	nest_tdp_fini(S.vm);
	free(S.vm_mem);
	tb_fini(&S.tb);
	pthread_mutex_destroy(&S.lock);
}

START_TEST(vcpus_fault_enter_and_invalidate_at_once)
{
	pthread_t vt[NVCPU], l1, l0;
	unsigned long fixed = 0, flushes = 0;
	unsigned v, revoked = 0, i;

	for (v = 0; v < NVCPU; v++)
		ck_assert_int_eq(pthread_create(&vt[v], NULL, vcpu_thread, &S.v[v]), 0);
	/* L1 revokes, then L0 (L1's INVEPTs would hide a map change that
	 * missed a leaf); the vCPUs run until both are done. */
	ck_assert_int_eq(pthread_create(&l1, NULL, l1_thread, NULL), 0);
	pthread_join(l1, NULL);
	ck_assert_int_eq(pthread_create(&l0, NULL, l0_thread, NULL), 0);
	pthread_join(l0, NULL);
	atomic_store(&S.stop, 1);
	for (v = 0; v < NVCPU; v++)
		pthread_join(vt[v], NULL);
	ck_assert_msg(atomic_load(&S.failures) == 0, "%lu failures, first: %s",
		      atomic_load(&S.failures), S.first_failure);
	for (v = 0; v < NVCPU; v++) {
		fixed += S.v[v].fixed;
		flushes += S.v[v].flushes;
	}
	for (i = 0; i < NPAGES; i++)
		revoked += atomic_load(&S.l1_rev[i]) || atomic_load(&S.l0_rev[i]);
	for (v = 0; v < NVCPU; v++)
		printf("vCPU %u: %lu accesses, %lu exits, %lu faults fixed, %lu flushes honoured, "
		       "%lu waits for pages\n",
		       v, S.v[v].accesses, S.v[v].exits, S.v[v].fixed, S.v[v].flushes,
		       S.v[v].nomem);
	printf("%lu flush requests, %u pages revoked, %lu allocations refused by the quarantine\n",
	       atomic_load(&S.requests), revoked, S.quarantine_waits);
	/* The run did what it is for: faults fixed, requests made and honoured,
	 * rights revoked. */
	ck_assert_uint_gt(fixed, 0);
	ck_assert_uint_gt(atomic_load(&S.requests), 0);
	ck_assert_uint_gt(flushes, 0);
	ck_assert_uint_gt(revoked, 0);
	/* After the run, with every vCPU synchronised: no shadow leaf writable for
	 * a revoked page, whatever root. */
	for (v = 0; v < NVCPU; v++) {
		struct nest_tdp_l1_root r;
		struct nest_tdp_root_info info;
		unsigned k;

		memset(&r, 0, sizeof(r));
		r.kind = NEST_TDP_EPT;
		for (k = 0; k < NROOTS; k++) {
			r.pointer = S.eptp[k];
			ck_assert_int_eq(nest_tdp_root(S.v[v].h, &r, &info), NEST_OK);
			for (i = 0; i < NPAGES; i++) {
				uint64_t hpa;
				uint32_t rights = hw_walk(info.hpa, (uint64_t)i << 12, &hpa);

				if (atomic_load(&S.l1_rev[i]) || atomic_load(&S.l0_rev[i]))
					ck_assert_msg(!(rights & NEST_ACC_W),
						      "page %u revoked but writable in EPT02", i);
			}
		}
	}
}
END_TEST

/* Flush requests go to the vCPUs that loaded the root, and a root another
 * vCPU runs on is never reclaimed, however many roots one vCPU goes through. */
START_TEST(requests_go_to_the_users_and_roots_stay_pinned)
{
	struct nest_tdp_l1_root a, b;
	struct nest_tdp_root_info ia, ib, ia2;
	unsigned long before;
	unsigned k;

	memset(&a, 0, sizeof(a));
	a.kind = NEST_TDP_EPT;
	b = a;
	a.pointer = S.eptp[0];
	b.pointer = S.eptp[1];
	ck_assert_int_eq(nest_tdp_root(S.v[1].h, &a, &ia), NEST_OK);
	ck_assert_int_eq(nest_tdp_root(S.v[2].h, &b, &ib), NEST_OK);
	ck_assert_int_eq(nest_tdp_root(S.v[3].h, &b, &ib), NEST_OK);
	before = atomic_load(&S.requests);
	ck_assert_int_eq(nest_tdp_invalidate_root(S.v[0].h, &a), NEST_OK);
	ck_assert_uint_eq(atomic_load(&S.requests), before + 1);
	ck_assert_uint_eq(S.last_kind, NEST_FLUSH_EPT_CONTEXT);
	ck_assert_uint_eq(S.last_set.bits[0], 1u << 1);
	ck_assert_int_eq(nest_tdp_invalidate_root(S.v[1].h, &b), NEST_OK);
	ck_assert_uint_eq(S.last_set.bits[0], (1u << 2) | (1u << 3));
	/* vCPU 0 cycles through every other root while vCPU 1 stays on a. */
	for (k = 0; k < 20; k++) {
		struct nest_tdp_l1_root c = a;
		struct nest_tdp_root_info ic;

		c.pointer = S.eptp[2 + k % (NROOTS - 2)];
		ck_assert_int_eq(nest_tdp_root(S.v[0].h, &c, &ic), NEST_OK);
		ck_assert_uint_ne(ic.hpa, ia.hpa);
	}
	ck_assert_int_eq(nest_tdp_root(S.v[1].h, &a, &ia2), NEST_OK);
	ck_assert_uint_eq(ia2.hpa, ia.hpa);
	ck_assert_uint_eq(atomic_load(&S.failures), 0);
}
END_TEST

/* A second vCPU without flush_vcpus in the backend is refused; vCPU 0 is
 * what a single-vCPU caller already is. */
START_TEST(vcpu_handles_need_flush_requests)
{
	struct nest_backend_ops ops = S.ops;
	struct nest_backend be = {&ops, &S};
	struct nest_tdp_config c;
	struct nest_tdp *vm, *h;
	_Alignas(8) unsigned char hm[64];
	void *mem;
	size_t n;

	ops.flush_vcpus = NULL;
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.max_pages = 16;
	c.max_roots = 2;
	c.ept_vpid_cap = TB_EPT_CAPS;
	c.maxphyaddr = 46;
	c.max_page_shift = 12;
	n = nest_tdp_size(&c);
	mem = aligned_alloc(64, (n + 63) & ~(size_t)63);
	ck_assert_int_eq(nest_tdp_init(mem, n, &be, &c, &vm), NEST_OK);
	ck_assert_int_eq(nest_tdp_vcpu_init(hm, sizeof(hm), vm, 1, &h), NEST_E_MISSING_OP);
	ck_assert_int_eq(nest_tdp_vcpu_init(hm, sizeof(hm), vm, 0, &h), NEST_OK);
	ck_assert_int_eq(nest_tdp_vcpu_init(hm, sizeof(hm), vm, NEST_MAX_VCPUS, &h), NEST_E_INVAL);
	ck_assert_int_eq(nest_tdp_vcpu_init(hm, 4, vm, 0, &h), NEST_E_NOSPC);
	/* A handle is not a VM object. */
	ck_assert_int_eq(nest_tdp_vcpu_init(S.v[1].hmem, sizeof(S.v[1].hmem), S.v[0].h, 1, &h),
			 NEST_E_INVAL);
	nest_tdp_fini(vm);
	free(mem);
}
END_TEST

static Suite *smp_suite(void)
{
	Suite *s = suite_create("tdp_smp");
	TCase *t = tcase_create("stress");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 300);
	tcase_add_test(t, vcpus_fault_enter_and_invalidate_at_once);
	tcase_add_test(t, vcpu_handles_need_flush_requests);
	tcase_add_test(t, requests_go_to_the_users_and_roots_stay_pinned);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return nest_test_run(smp_suite());
}
