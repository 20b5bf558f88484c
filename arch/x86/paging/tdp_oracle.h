/* SPDX-License-Identifier: MIT */
/*
 * The "paging is a subset" oracle (DESIGN.md invariant 3), shared by the
 * property test and the fuzzer: a byte stream builds random L1 tables (EPT
 * with or without A/D, or long-mode NPT, with occasional garbage entries)
 * and a random L0 map (4 KiB and 2 MiB pages, holes, partial rights), then
 * drives faults, L1 table changes followed by INVEPT, L0 map changes
 * followed by nest_tdp_l1_map_changed(), and range invalidations. After
 * every fault it checks the outcome against a reference walk, and every
 * shadow leaf against a brute-force composition of L1's table (reference
 * walker, written independently of the library's) and L0's map.
 * Test-only code: uses libc.
 */
#ifndef NEST_TDP_ORACLE_H
#define NEST_TDP_ORACLE_H

#include <stdio.h>

#include "paging/tdp_testlib.h"

#define OR_MEM (8ull << 20)
#define OR_MAXPHY 46
#define OR_POOL 96
#define OR_ADDR_MASK 0x000ffffffffff000ull
#define OR_NX (1ull << 63)

struct or_src {
	const uint8_t *p;
	size_t n;
};

static uint64_t or_next(struct or_src *s, unsigned bytes)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < bytes; i++) {
		v <<= 8;
		if (s->n) {
			v |= *s->p++;
			s->n--;
		}
	}
	return v;
}

struct or_ref {
	bool mapped;
	uint32_t rights; /* NEST_ACC_R/W/X */
	uint64_t l1;     /* L1-physical address */
	uint64_t leaf_addr, leaf;
};

/* Reference walks: deliberately simple, lenient on reserved bits. */
static struct or_ref or_ref_walk(struct tb *t, bool npt, uint64_t root, uint64_t gpa)
{
	struct or_ref r = { false, 0, 0, 0, 0 };
	uint32_t rights = NEST_ACC_R | NEST_ACC_W | NEST_ACC_X;
	uint64_t table = root & OR_ADDR_MASK, e, ea;
	bool user = true;
	unsigned level;

	for (level = 4; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);

		ea = table + ((gpa >> shift) & 511) * 8;
		if (ea + 8 > OR_MEM)
			return r;
		e = sim_read64(&t->sim, ea);
		if (npt) {
			if (!(e & TB_P))
				return r;
			if (!(e & TB_RW))
				rights &= ~NEST_ACC_W;
			if (e & OR_NX)
				rights &= ~NEST_ACC_X;
			if (!(e & TB_US))
				user = false;
		} else {
			if (!(e & TB_EPT_RWX))
				return r;
			rights &= (uint32_t)(e & TB_EPT_RWX); /* R, W, X are bits 0, 1, 2 in both */
		}
		if (level == 1 || (level <= 3 && (e & TB_PS))) {
			uint64_t size = 1ull << shift;

			if (npt && !user)
				return r;
			r.mapped = true;
			r.rights = rights;
			r.l1 = ((e & OR_ADDR_MASK) & ~(size - 1)) | (gpa & (size - 1));
			r.leaf_addr = ea;
			r.leaf = e;
			return r;
		}
		table = e & OR_ADDR_MASK;
	}
	return r;
}

struct or_state {
	struct tb t;
	struct nest_tdp *ctx;
	void *mem;
	struct nest_tdp_l1_root root;     /* the L1 root in use */
	struct nest_tdp_l1_root roots[2]; /* two L1 tables, used in turns */
	unsigned cur;
	bool npt, ad;
	char why[256];
	unsigned long faults, checks;
};

static bool or_fail(struct or_state *s, const char *msg, uint64_t a, uint64_t b)
{
	snprintf(s->why, sizeof(s->why), "%s (0x%llx, 0x%llx)", msg, (unsigned long long)a,
		 (unsigned long long)b);
	return false;
}

/* Check one shadow leaf mapping L2 [base, base + size) to host `hpa`. */
static bool or_check_leaf(struct or_state *s, uint64_t e, unsigned level, uint64_t base)
{
	uint64_t size = 1ull << (12 + 9 * (level - 1)), hpa = e & OR_ADDR_MASK & ~(size - 1);
	uint32_t srights = 0;
	uint64_t step = size > (2ull << 20) ? size / 64 : 4096, off;

	if (s->npt) {
		srights = NEST_ACC_R | ((e & TB_RW) ? NEST_ACC_W : 0) |
			  ((e & OR_NX) ? 0 : NEST_ACC_X);
	} else {
		srights = (uint32_t)(e & TB_EPT_RWX);
		if ((e & TB_EPT_W) && !(e & TB_EPT_R))
			return or_fail(s, "EPT02 leaf is write-only", base, e);
		{
			unsigned mt = (unsigned)((e >> 3) & 7);
			if (mt == 2 || mt == 3 || mt == 7)
				return or_fail(s, "EPT02 leaf has an invalid memory type", base, e);
		}
	}
	for (off = 0; off < size; off += step) {
		struct or_ref r = or_ref_walk(&s->t, s->npt, s->root.pointer, base + off);
		uint64_t p;

		s->checks++;
		if (!r.mapped)
			return or_fail(s, "shadow maps an L2 page L1 does not map", base + off, e);
		if (srights & ~r.rights)
			return or_fail(s, "shadow rights exceed L1's", base + off, r.rights);
		if ((srights & NEST_ACC_W) && (s->npt || s->ad) &&
		    !(r.leaf & (s->npt ? TB_D : TB_EPT_D)))
			return or_fail(s, "shadow writable while L1's leaf is clean", base + off,
				       r.leaf);
		p = r.l1 / TB_PAGE;
		if (r.l1 >= OR_MEM || !s->t.mapped[p])
			return or_fail(s, "shadow maps an L1 page L0 does not map", base + off,
				       r.l1);
		if (s->t.hpa[p] != hpa + off)
			return or_fail(s, "shadow host page differs from L0's", hpa + off,
				       s->t.hpa[p]);
		if (srights & ~(uint32_t)(s->t.rights[p] & (NEST_ACC_R | NEST_ACC_W | NEST_ACC_X)))
			return or_fail(s, "shadow rights exceed L0's", base + off, s->t.rights[p]);
	}
	return true;
}

static bool or_check_table(struct or_state *s, const uint64_t *table, unsigned level,
			   uint64_t base)
{
	unsigned i;

	for (i = 0; i < 512; i++) {
		uint64_t e = table[i], span = 1ull << (12 + 9 * (level - 1));
		bool present = s->npt ? (e & TB_P) != 0 : (e & (TB_EPT_RWX | TB_EPT_UX)) != 0;

		if (!present)
			continue;
		if (level == 1 || (e & TB_PS)) {
			if (!or_check_leaf(s, e, level, base + i * span))
				return false;
		} else {
			const uint64_t *child = sim_pool_hva(&s->t.sim, e & OR_ADDR_MASK);

			if (child == NULL)
				return or_fail(s, "shadow table entry points outside the pool",
					       base + i * span, e);
			if (!s->t.sim.pool_used[((e & OR_ADDR_MASK) - SIM_HPA_POOL_BASE) / TB_PAGE])
				return or_fail(s, "shadow table entry points to a freed page",
					       base + i * span, e);
			if (!or_check_table(s, child, level - 1, base + i * span))
				return false;
		}
	}
	return true;
}

/* The whole invariant over one root. */
static bool or_check_root(struct or_state *s)
{
	struct nest_tdp_root_info info;
	const uint64_t *top;

	if (nest_tdp_root(s->ctx, &s->root, &info) != NEST_OK)
		return or_fail(s, "nest_tdp_root failed", 0, 0);
	top = sim_pool_hva(&s->t.sim, info.hpa);
	if (top == NULL)
		return or_fail(s, "root outside the pool", info.hpa, 0);
	return or_check_table(s, top, info.levels, 0);
}

/* The invariant over both roots; the one in use is looked up last (stays current). */
static bool or_check_all(struct or_state *s)
{
	struct nest_tdp_l1_root in_use = s->root;
	bool ok;

	s->root = s->roots[s->cur ^ 1];
	ok = or_check_root(s);
	s->root = in_use;
	return ok && or_check_root(s);
}

/* A random L2 address in a small space so that faults collide. */
static uint64_t or_gpa(struct or_src *src)
{
	uint64_t v = or_next(src, 2);

	return ((v & 3) << 30) | (((v >> 2) & 7) << 21) | (((v >> 5) & 15) << 12) |
	       ((v >> 9) & 0x7f) * 8;
}

/* A random entry for `level` (mostly sensible, sometimes garbage). */
static uint64_t or_entry(struct or_state *s, struct or_src *src, unsigned level, uint64_t *l1pa)
{
	uint64_t c = or_next(src, 1), e;
	uint64_t size = 1ull << (12 + 9 * (level - 1));
	uint64_t pa = (or_next(src, 2) * TB_PAGE) % (OR_MEM + (OR_MEM / 8)); /* some beyond memory */

	pa &= ~(size - 1);
	*l1pa = pa;
	if ((c & 0x1f) == 0)
		return or_next(src, 8); /* garbage */
	if (s->npt) {
		e = pa | TB_P | TB_US;
		if (c & 0x20)
			e |= TB_RW;
		if (c & 0x40)
			e |= OR_NX;
		if (c & 0x80)
			e |= TB_D | TB_A;
		if ((c & 0x1f) == 1)
			e &= ~TB_US;
		if (level > 1)
			e |= TB_PS;
		return e;
	}
	{
		static const uint64_t rights[8] = { TB_EPT_R, TB_EPT_R | TB_EPT_W,
						    TB_EPT_R | TB_EPT_X, TB_EPT_RWX,
						    TB_EPT_X, TB_EPT_RWX, TB_EPT_RWX, 0 };
		static const uint64_t mts[4] = { 6, 0, 1, 4 };

		e = pa | rights[(c >> 5) & 7] | TB_EPT_MT(mts[c & 3]) | ((c & 4) ? TB_EPT_IPAT : 0);
		if (c & 8)
			e |= TB_EPT_A | TB_EPT_D;
		if (level > 1)
			e |= TB_EPT_PS;
		return e;
	}
}

static void or_l1_change(struct or_state *s, struct or_src *src)
{
	uint64_t gpa = or_gpa(src), l1pa;
	unsigned level = 1 + (unsigned)(or_next(src, 1) % 3);
	uint64_t table_bits = s->npt ? (TB_P | TB_RW | TB_US) : TB_EPT_RWX;
	uint64_t e;

	if (level == 3 && (or_next(src, 1) & 3))
		level = 1; /* 1 GiB leaves mostly land outside L1 memory: keep them rare */
	e = or_entry(s, src, level, &l1pa);
	/* Never replace a table by a leaf here (it would orphan L1 tables; fine, but noisy). */
	tb_map64(&s->t, s->root.pointer & OR_ADDR_MASK, 4, gpa & ~((1ull << (12 + 9 * (level - 1))) - 1),
		 0, level, e, table_bits);
}

static void or_l0_change(struct or_state *s, struct or_src *src)
{
	uint64_t c = or_next(src, 1);
	uint64_t page = (or_next(src, 2) % (OR_MEM / TB_PAGE)) * TB_PAGE;
	static const uint8_t rights[4] = { NEST_ACC_R | NEST_ACC_W | NEST_ACC_X, NEST_ACC_R,
					   NEST_ACC_R | NEST_ACC_X, NEST_ACC_R | NEST_ACC_W };
	uint64_t hpa = TB_HPA_BASE + 0x100000000ull + (or_next(src, 2) << 21);
	uint64_t i, len = TB_PAGE, block = page & ~((2ull << 20) - 1);

	if ((c & 3) != 1 && s->t.shift[block / TB_PAGE] == 21) {
		/* Breaking up an L0 2 MiB page: the rest of it becomes 4 KiB pages. */
		for (i = 0; i < 512; i++)
			s->t.shift[block / TB_PAGE + i] = 12;
		nest_tdp_l1_map_changed(s->ctx, block, 2ull << 20);
	}
	if ((c & 3) == 0) {
		tb_unmap(&s->t, page);
	} else if ((c & 3) == 1) {
		/* A 2 MiB L0 page: contiguous, same rights. */
		page &= ~((2ull << 20) - 1);
		len = 2ull << 20;
		for (i = 0; i < 512; i++)
			tb_map(&s->t, page + i * TB_PAGE, hpa + i * TB_PAGE, rights[(c >> 2) & 3],
			       (c & 0x40) ? NEST_MT_UC : NEST_MT_WB, 21);
	} else {
		tb_map(&s->t, page, hpa + ((c >> 4) << 12), rights[(c >> 2) & 3], NEST_MT_WB, 12);
	}
	nest_tdp_l1_map_changed(s->ctx, page, len);
}

/* One fault and the check of its outcome. */
static bool or_fault(struct or_state *s, struct or_src *src)
{
	static const uint32_t accs[4] = { NEST_ACC_R, NEST_ACC_W, NEST_ACC_X, NEST_ACC_R };
	struct nest_tdp_fault_in in;
	struct nest_tdp_fault_out out;
	struct or_ref r;
	int rc;

	memset(&in, 0, sizeof(in));
	in.l2_gpa = or_gpa(src);
	in.access = accs[or_next(src, 1) & 3];
	in.flags = NEST_TDP_F_FINAL;
	rc = nest_tdp_fault(s->ctx, &s->root, &in, &out);
	s->faults++;
	if (rc != NEST_OK)
		return rc == NEST_E_NOMEM ? true : or_fail(s, "nest_tdp_fault failed", in.l2_gpa, rc);
	r = or_ref_walk(&s->t, s->npt, s->root.pointer, in.l2_gpa);
	switch (out.kind) {
	case NEST_TDP_FIXED:
		if (!r.mapped || (in.access & ~r.rights))
			return or_fail(s, "FIXED although L1 denies", in.l2_gpa, r.rights);
		if (r.l1 != out.l1_gpa)
			return or_fail(s, "FIXED at another L1 address", r.l1, out.l1_gpa);
		break;
	case NEST_TDP_REFLECT:
		if (s->npt && (out.exitinfo1 & NEST_NPF_RSVD))
			break;
		if (r.mapped && !(in.access & ~r.rights))
			return or_fail(s, "REFLECT although L1 permits", in.l2_gpa, r.rights);
		break;
	case NEST_TDP_L0: {
		uint64_t p = out.l1_gpa / TB_PAGE;

		if (out.l1_gpa < OR_MEM && s->t.mapped[p] &&
		    (s->t.rights[p] & out.l0_access) == out.l0_access)
			return or_fail(s, "L0 asked to map what it maps", out.l1_gpa,
				       s->t.rights[p]);
		break;
	}
	case NEST_TDP_MISCONFIG:
		if (s->npt)
			return or_fail(s, "misconfiguration on NPT", in.l2_gpa, 0);
		break;
	case NEST_TDP_RETRY:
		break;
	default:
		return or_fail(s, "unknown fault kind", out.kind, 0);
	}
	return or_check_all(s);
}

/* Run one scenario from `data`; returns true when every check held (else s->why). */
static bool or_run(struct or_state *s, const uint8_t *data, size_t size)
{
	struct or_src src = { data, size };
	struct nest_tdp_config cfg;
	uint64_t c = or_next(&src, 1), l1root;
	unsigned k;
	size_t need;
	unsigned op, ops;
	bool ok = true;

	memset(s, 0, sizeof(*s));
	if (tb_init(&s->t, OR_MEM, OR_POOL) != 0)
		return or_fail(s, "tb_init", 0, 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.size = sizeof(cfg);
	cfg.max_pages = 8 + (uint32_t)(c >> 4) * 4; /* small budgets exercise reclaim */
	cfg.max_roots = 2;
	cfg.ept_vpid_cap = TB_EPT_CAPS;
	cfg.maxphyaddr = OR_MAXPHY;
	cfg.max_page_shift = (c & 8) ? 30 : 21;
	need = nest_tdp_size(&cfg);
	s->mem = aligned_alloc(64, (need + 63) & ~(size_t)63);
	if (s->mem == NULL || nest_tdp_init(s->mem, need, &s->t.be, &cfg, &s->ctx) != NEST_OK) {
		ok = or_fail(s, "nest_tdp_init", 0, 0);
		goto out;
	}
	s->npt = (c & 1) != 0;
	s->ad = (c & 2) != 0;
	for (k = 0; k < 2; k++) {
		l1root = tb_new_table(&s->t);
		s->root.kind = s->npt ? NEST_TDP_NPT : NEST_TDP_EPT;
		if (s->npt) {
			s->root.pointer = l1root;
			s->root.cr0 = 0x80000011ull;
			s->root.cr4 = 0x20ull;   /* PAE */
			s->root.efer = 0xd00ull; /* LME, LMA, NXE */
		} else {
			s->root.pointer = TB_EPTP(l1root, 4, s->ad);
		}
		/* An initial table. */
		for (op = 0; op < 16; op++)
			or_l1_change(s, &src);
		s->roots[k] = s->root;
	}
	s->cur = 1;
	ops = 0;
	while (ok && src.n > 0 && ops++ < 400) {
		op = (unsigned)or_next(&src, 1);
		switch (op & 7) {
		case 0:
			or_l1_change(s, &src);
			nest_tdp_invalidate_root(s->ctx, &s->root); /* as L1 must (INVEPT) */
			break;
		case 1:
			or_l0_change(s, &src);
			break;
		case 3:
			/* L1 switches to its other table (another L2, or VMFUNC). */
			s->cur ^= 1;
			s->root = s->roots[s->cur];
			break;
		case 2:
			if (op & 8)
				nest_tdp_invalidate_all(s->ctx);
			else
				nest_tdp_invalidate_range(s->ctx, &s->root, or_gpa(&src), 1ull << 21);
			break;
		default:
			ok = or_fault(s, &src);
			break;
		}
	}
	if (ok)
		ok = or_check_all(s);
	nest_tdp_fini(s->ctx);
	if (ok && s->t.sim.pool_in_use != 0)
		ok = or_fail(s, "pages leaked after fini", s->t.sim.pool_in_use, 0);
out:
	free(s->mem);
	tb_fini(&s->t);
	return ok;
}

#endif /* NEST_TDP_ORACLE_H */
