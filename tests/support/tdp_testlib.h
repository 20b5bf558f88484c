/* SPDX-License-Identifier: MIT */
/*
 * Test support for the paging tests, fuzzer and benchmark (not part of the
 * library): a backend built on the simulated one whose L0 map
 * (l1_to_host) is the test's own, per 4 KiB page, with large L0 pages; and
 * builders of EPT and x86 tables in L1 memory. Uses libc.
 */
#ifndef NEST_TDP_TESTLIB_H
#define NEST_TDP_TESTLIB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <nest/nest.h>

#include "sim.h"

#define TB_PAGE 4096ull
#define TB_HPA_BASE 0x300000000000ull

struct tb {
	struct sim sim;
	struct nest_backend_ops ops;
	struct nest_backend be;
	uint64_t npages;
	/* L0's map of L1 memory, per 4 KiB page. */
	uint64_t *hpa;
	uint8_t *rights, *memtype, *shift, *ipat;
	bool *mapped;
	uint64_t next_table; /* bump allocator for L1 tables */
	unsigned long l1_to_host_calls;
	/* flush_vcpus (set only by tb_enable_vcpus()): requests and their union. */
	unsigned long vcpu_requests;
	uint64_t vcpus_seen[NEST_MAX_VCPUS / 64];
};

static int tb_l1_to_host(void *ctx, uint64_t gpa, struct nest_l0_map *out)
{
	struct tb *t = ctx;
	uint64_t p = gpa / TB_PAGE;

	t->l1_to_host_calls++;
	t->sim.calls.l1_to_host++;
	if (gpa >= t->npages * TB_PAGE || !t->mapped[p])
		return NEST_E_NOT_MAPPED;
	memset(out, 0, sizeof(*out));
	out->hpa = t->hpa[p] + (gpa & (TB_PAGE - 1));
	out->rights = t->rights[p];
	out->memtype = t->memtype[p];
	out->page_shift = t->shift[p];
	out->ignore_pat = t->ipat[p];
	return NEST_OK;
}

/* The sim ops with our context: forwarders. */
static int tb_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct tb *t = ctx;
	return t->sim.ops.read_l1(&t->sim, gpa, buf, len);
}
static int tb_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct tb *t = ctx;
	return t->sim.ops.write_l1(&t->sim, gpa, buf, len);
}
static int tb_cmpxchg(void *ctx, uint64_t gpa, uint64_t e, uint64_t d, uint64_t *a)
{
	struct tb *t = ctx;
	return t->sim.ops.cmpxchg_l1(&t->sim, gpa, e, d, a);
}
static int tb_alloc(void *ctx, uint64_t *hpa, void **hva)
{
	struct tb *t = ctx;
	return t->sim.ops.page_alloc(&t->sim, hpa, hva);
}
static void tb_free(void *ctx, uint64_t hpa, void *hva)
{
	struct tb *t = ctx;
	t->sim.ops.page_free(&t->sim, hpa, hva);
}
static void tb_flush(void *ctx, uint32_t kind, uint64_t tag, uint64_t addr)
{
	struct tb *t = ctx;
	t->sim.ops.flush(&t->sim, kind, tag, addr);
}

static void tb_flush_vcpus(void *ctx, const struct nest_vcpu_set *set, uint32_t kind, uint64_t tag,
			   uint64_t addr)
{
	struct tb *t = ctx;
	unsigned i;

	t->vcpu_requests++;
	for (i = 0; i < NEST_MAX_VCPUS / 64; i++)
		t->vcpus_seen[i] |= set->bits[i];
	t->sim.ops.flush(&t->sim, kind, tag, addr);
}

/* Identity-like default L0 map: page N -> TB_HPA_BASE + N*4K, RWX, WB, 4 KiB. */
static inline void tb_map(struct tb *t, uint64_t gpa, uint64_t hpa, uint8_t rights,
			  uint8_t memtype, uint8_t shift)
{
	uint64_t p = gpa / TB_PAGE;

	if (p >= t->npages)
		return;
	t->hpa[p] = hpa & ~(TB_PAGE - 1);
	t->rights[p] = rights;
	t->memtype[p] = memtype;
	t->shift[p] = shift;
	t->ipat[p] = 0;
	t->mapped[p] = true;
}

static inline void tb_unmap(struct tb *t, uint64_t gpa)
{
	if (gpa / TB_PAGE < t->npages)
		t->mapped[gpa / TB_PAGE] = false;
}

static inline int tb_init(struct tb *t, uint64_t mem_size, unsigned pool_pages)
{
	uint64_t i;

	memset(t, 0, sizeof(*t));
	if (sim_init(&t->sim, mem_size, pool_pages) != 0)
		return -1;
	t->npages = mem_size / TB_PAGE;
	t->hpa = calloc(t->npages, sizeof(uint64_t));
	t->rights = calloc(t->npages, 1);
	t->memtype = calloc(t->npages, 1);
	t->shift = calloc(t->npages, 1);
	t->ipat = calloc(t->npages, 1);
	t->mapped = calloc(t->npages, sizeof(bool));
	if (!t->hpa || !t->rights || !t->memtype || !t->shift || !t->ipat || !t->mapped)
		return -1;
	for (i = 0; i < t->npages; i++)
		tb_map(t, i * TB_PAGE, TB_HPA_BASE + i * TB_PAGE,
		       NEST_ACC_R | NEST_ACC_W | NEST_ACC_X, NEST_MT_WB, 12);
	t->ops = t->sim.ops;
	t->ops.read_l1 = tb_read;
	t->ops.write_l1 = tb_write;
	t->ops.cmpxchg_l1 = tb_cmpxchg;
	t->ops.l1_to_host = tb_l1_to_host;
	t->ops.page_alloc = tb_alloc;
	t->ops.page_free = tb_free;
	t->ops.flush = tb_flush;
	t->ops.log = NULL;
	t->ops.vmcs_read = NULL;
	t->ops.vmcs_write = NULL;
	t->ops.l1_linear_to_phys = NULL;
	t->be.ops = &t->ops;
	t->be.ctx = t;
	t->next_table = TB_PAGE; /* page 0 stays free */
	return 0;
}

static inline void tb_fini(struct tb *t)
{
	sim_fini(&t->sim);
	free(t->hpa);
	free(t->rights);
	free(t->memtype);
	free(t->shift);
	free(t->ipat);
	free(t->mapped);
}

/* Give the backend flush_vcpus, which a shadow shared by several vCPUs needs. */
static inline void tb_enable_vcpus(struct tb *t)
{
	t->ops.flush_vcpus = tb_flush_vcpus;
}

static inline uint64_t tb_new_table(struct tb *t)
{
	uint64_t a = t->next_table;

	t->next_table += TB_PAGE;
	memset(sim_ptr(&t->sim, a, TB_PAGE), 0, TB_PAGE);
	return a;
}

/* EPT entry bits (SDM 29.3.2). */
#define TB_EPT_R 0x1ull
#define TB_EPT_W 0x2ull
#define TB_EPT_X 0x4ull
#define TB_EPT_RWX 0x7ull
#define TB_EPT_MT(t) ((uint64_t)(t) << 3)
#define TB_EPT_IPAT (1ull << 6)
#define TB_EPT_PS (1ull << 7)
#define TB_EPT_A (1ull << 8)
#define TB_EPT_D (1ull << 9)
#define TB_EPT_UX (1ull << 10)
#define TB_EPTP(root, levels, ad) ((root) | 6ull | ((uint64_t)((levels)-1) << 3) | ((ad) ? 1ull << 6 : 0))
#define TB_EPT_CAPS                                                                                \
	((1ull << 0) | (1ull << 6) | (1ull << 7) | (1ull << 8) | (1ull << 14) | (1ull << 16) |    \
	 (1ull << 17) | (1ull << 21))

/* x86 entry bits (SDM 4.5). */
#define TB_P 0x1ull
#define TB_RW 0x2ull
#define TB_US 0x4ull
#define TB_PWT 0x8ull
#define TB_PCD 0x10ull
#define TB_A 0x20ull
#define TB_D 0x40ull
#define TB_PS 0x80ull
#define TB_NX (1ull << 63)

/*
 * Map `gpa` -> `pa` with a leaf at `level` (1: 4K, 2: 2M, 3: 1G) in a
 * 64-bit-entry tree of `levels` levels rooted at L1 address `root`.
 * Intermediate entries get `table_bits`. Returns the leaf's L1 address.
 */
static inline uint64_t tb_map64(struct tb *t, uint64_t root, unsigned levels, uint64_t gpa,
				uint64_t pa, unsigned level, uint64_t leaf_bits, uint64_t table_bits)
{
	uint64_t table = root, ea, e;
	unsigned l;

	for (l = levels; l > level; l--) {
		ea = table + ((gpa >> (12 + 9 * (l - 1))) & 511) * 8;
		e = sim_read64(&t->sim, ea);
		/* Not a table we can follow (absent, a large leaf, or outside L1
		 * memory): put a fresh table there. */
		if (!(e & table_bits) || (l <= 3 && (e & TB_EPT_PS)) ||
		    (e & 0x000ffffffffff000ull) + TB_PAGE > t->sim.mem_size) {
			e = tb_new_table(t) | table_bits;
			sim_write64(&t->sim, ea, e);
		}
		table = e & 0x000ffffffffff000ull;
	}
	ea = table + ((gpa >> (12 + 9 * (level - 1))) & 511) * 8;
	sim_write64(&t->sim, ea, pa | leaf_bits);
	return ea;
}

#endif /* NEST_TDP_TESTLIB_H */
