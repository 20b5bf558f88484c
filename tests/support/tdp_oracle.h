/* SPDX-License-Identifier: MIT */
/*
 * The "paging is a subset" oracle (invariant 3, docs/trust-model.md), shared by the
 * property test and the fuzzer: a byte stream builds random L1 tables (EPT
 * with or without A/D, or NPT in the host paging modes L1 may use: 4-level,
 * PAE, 32-bit with and without PSE; with occasional garbage entries) and a
 * random L0 map (4 KiB and 2 MiB pages, holes, partial rights), then
 * drives faults, L1 table changes followed by INVEPT, L0 map changes
 * followed by nest_tdp_l1_map_changed(), and range invalidations. After
 * every fault it checks the outcome against a reference walk, and every
 * shadow leaf against a brute-force composition of L1's table (reference
 * walker, written independently of the library's) and L0's map. EPT with
 * A/D runs half the time with L1's page-modification log (SDM 29.3.6),
 * from a random index: a PML-full event only at an index above 511 and
 * only when a flag had to be set, with L1's entry untouched; a log entry
 * (the 4 KiB page, at the index, which goes down by one) exactly when a
 * write set a clear dirty flag.
 * Test-only code: uses libc.
 */
#ifndef NEST_TDP_ORACLE_H
#define NEST_TDP_ORACLE_H

#include <stdio.h>

#include "tdp_testlib.h"
#include "paging/paging.h"

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
	bool accessed; /* every entry used holds its accessed flag (not PAE PDPTEs) */
};

/* Reference walks: deliberately simple, lenient on reserved bits. */
static struct or_ref or_ref_walk(struct tb *t, bool npt, uint64_t root, uint64_t gpa)
{
	struct or_ref r = { false, 0, 0, 0, 0, false };
	uint32_t rights = NEST_ACC_R | NEST_ACC_W | NEST_ACC_X;
	uint64_t table = root & OR_ADDR_MASK, e, ea;
	bool user = true, accessed = true;
	unsigned level;

	for (level = 4; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);

		ea = table + ((gpa >> shift) & 511) * 8;
		if (ea + 8 > OR_MEM)
			return r;
		e = sim_read64(&t->sim, ea);
		if (!(e & (npt ? TB_A : TB_EPT_A)))
			accessed = false;
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
			r.accessed = accessed;
			return r;
		}
		table = e & OR_ADDR_MASK;
	}
	return r;
}

/* Reference walk of legacy nested tables: PAE, or 32-bit with or without PSE. */
static struct or_ref or_ref_walk_legacy(struct tb *t, uint32_t mode, uint64_t cr3, uint64_t gpa)
{
	struct or_ref r = {false, 0, 0, 0, 0, false};
	uint32_t rights = NEST_ACC_R | NEST_ACC_W | NEST_ACC_X;
	bool user = true, pae = mode == NEST_X86_MODE_PAE, accessed = true;
	uint64_t ea, e, size;
	unsigned level;

	if (gpa >> 32)
		return r;
	if (pae) {
		ea = (cr3 & 0xffffffe0ull) + ((gpa >> 30) & 3) * 8;
		e = sim_read64(&t->sim, ea);
		if (!(e & TB_P) || (e & OR_ADDR_MASK) + TB_PAGE > OR_MEM)
			return r;
		ea = (e & OR_ADDR_MASK) + ((gpa >> 21) & 511) * 8;
	} else {
		ea = (cr3 & 0xfffff000ull) + (gpa >> 22) * 4;
	}
	for (level = 2; level >= 1; level--) {
		if (ea + 8 > OR_MEM)
			return r;
		e = pae ? sim_read64(&t->sim, ea) : sim_read32(&t->sim, ea);
		if (!(e & TB_P))
			return r;
		if (!(e & TB_A))
			accessed = false;
		if (!(e & TB_RW))
			rights &= ~NEST_ACC_W;
		if (!(e & TB_US))
			user = false;
		if (pae && (e & OR_NX))
			rights &= ~NEST_ACC_X;
		if (level == 1 || ((e & TB_PS) && mode != NEST_X86_MODE_32)) {
			if (!user)
				return r;
			r.mapped = true;
			r.rights = rights;
			r.leaf_addr = ea;
			r.leaf = e;
			r.accessed = accessed;
			if (level == 1) {
				r.l1 = (e & (pae ? OR_ADDR_MASK : 0xfffff000ull)) | (gpa & 0xfff);
			} else if (pae) {
				size = 1ull << 21;
				r.l1 = (e & OR_ADDR_MASK & ~(size - 1)) | (gpa & (size - 1));
			} else {
				size = 1ull << 22;
				r.l1 = (e & 0xffc00000ull) | (((e >> 13) & 0xff) << 32) |
				       (gpa & (size - 1));
			}
			return r;
		}
		ea = (e & (pae ? OR_ADDR_MASK : 0xfffff000ull)) +
		     ((gpa >> 12) & (pae ? 511 : 1023)) * (pae ? 8 : 4);
	}
	return r;
}

struct or_state {
	struct tb t;
	struct nest_tdp *ctx; /* the acting vCPU's handle (the VM object with one vCPU) */
	struct nest_tdp *vm;
	void *mem;
	/* Two vCPUs sharing the VM object: their handles, the L1 table each
	 * runs on, and the root each was last given (pinned). */
	unsigned nvcpu, v;
	struct nest_tdp *h[2];
	_Alignas(8) unsigned char hmem[2][64];
	unsigned vcur[2];
	uint64_t pinned[2];
	struct nest_tdp_l1_root root;     /* the L1 root in use */
	struct nest_tdp_l1_root roots[2]; /* two L1 tables, used in turns */
	unsigned cur;
	uint32_t mode; /* NPT: L1's paging mode (enum nest_x86_mode) */
	bool npt, ad;
	bool pml;		   /* EPT with A/D: L1 logs page modifications */
	struct nest__tdp_pml log; /* its log page and index */
	char why[256];
	unsigned long faults, checks;
};

static struct or_ref or_ref(struct or_state *s, uint64_t gpa)
{
	if (s->npt && s->mode != NEST_X86_MODE_LONG4)
		return or_ref_walk_legacy(&s->t, s->mode, s->root.pointer, gpa);
	return or_ref_walk(&s->t, s->npt, s->root.pointer, gpa);
}

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
		struct or_ref r = or_ref(s, base + off);
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
		/* An access through the leaf would owe L1 an accessed flag. */
		if ((s->npt || s->ad) && !r.accessed)
			return or_fail(s, "shadow maps a page whose L1 path is not accessed",
				       base + off, r.leaf);
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
	s->pinned[s->v] = info.hpa;
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

static void or_l1_change64(struct or_state *s, struct or_src *src);

/* Put a table pointer at `ea` unless a usable one is there; returns the table. */
static uint64_t or_legacy_table(struct or_state *s, uint64_t ea, bool pae, bool pdpte)
{
	uint64_t e = pae ? sim_read64(&s->t.sim, ea) : sim_read32(&s->t.sim, ea);
	uint64_t addr = e & (pae ? OR_ADDR_MASK : 0xfffff000ull);

	if ((e & TB_P) && (pdpte || !(e & TB_PS)) && addr + TB_PAGE <= OR_MEM && addr >= TB_PAGE &&
	    !(pdpte && (e & 0x1e6)))
		return addr;
	addr = tb_new_table(&s->t);
	if (pae)
		sim_write64(&s->t.sim, ea, addr | (pdpte ? TB_P : (TB_P | TB_RW | TB_US)));
	else
		sim_write32(&s->t.sim, ea, (uint32_t)(addr | TB_P | TB_RW | TB_US));
	return addr;
}

/* A change of legacy nested tables (PAE, 32-bit): a 4 KiB or a 2/4 MiB leaf. */
static void or_l1_change_legacy(struct or_state *s, struct or_src *src)
{
	bool pae = s->mode == NEST_X86_MODE_PAE;
	uint64_t gpa = or_gpa(src), l1pa, e, pd, pt;
	unsigned level = 1 + (unsigned)(or_next(src, 1) & 1);

	if (s->mode == NEST_X86_MODE_32 && (or_next(src, 1) & 7))
		level = 1; /* without PSE a PS entry is a table pointer: keep those rare */
	e = or_entry(s, src, level, &l1pa);
	if (pae) {
		pd = or_legacy_table(s, (s->root.pointer & 0xffffffe0ull) + ((gpa >> 30) & 3) * 8,
				     true, true);
		if (level == 2) {
			sim_write64(&s->t.sim, pd + ((gpa >> 21) & 511) * 8, e);
			return;
		}
		pt = or_legacy_table(s, pd + ((gpa >> 21) & 511) * 8, true, false);
		sim_write64(&s->t.sim, pt + ((gpa >> 12) & 511) * 8, e);
		return;
	}
	pd = s->root.pointer & 0xfffff000ull;
	e = (uint32_t)e; /* 4-byte entries: no NX, 32-bit addresses */
	if (level == 2) {
		/* 4 MiB page: address bits 31:22 and PSE-36 bits 39:32 in 20:13. */
		uint64_t pa = l1pa & ~((1ull << 22) - 1);

		if (e & TB_P)
			e = (e & 0xfffull) | (pa & 0xffc00000ull) | ((pa >> 32) << 13);
		sim_write32(&s->t.sim, pd + (gpa >> 22) * 4, (uint32_t)e);
		return;
	}
	pt = or_legacy_table(s, pd + (gpa >> 22) * 4, false, false);
	sim_write32(&s->t.sim, pt + ((gpa >> 12) & 1023) * 4, (uint32_t)e);
}

static void or_l1_change(struct or_state *s, struct or_src *src)
{
	if (s->npt && s->mode != NEST_X86_MODE_LONG4) {
		or_l1_change_legacy(s, src);
		return;
	}
	or_l1_change64(s, src);
}

static void or_l1_change64(struct or_state *s, struct or_src *src)
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

static bool or_fault_pml(struct or_state *s, const struct nest_tdp_fault_in *in);
static bool or_check_fault(struct or_state *s, const struct nest_tdp_fault_in *pin,
			   const struct nest_tdp_fault_out *pout);

/* One fault and the check of its outcome. */
static bool or_fault(struct or_state *s, struct or_src *src)
{
	static const uint32_t accs[4] = { NEST_ACC_R, NEST_ACC_W, NEST_ACC_X, NEST_ACC_R };
	struct nest_tdp_fault_in in;
	struct nest_tdp_fault_out out;
	int rc;

	memset(&in, 0, sizeof(in));
	in.l2_gpa = or_gpa(src);
	in.access = accs[or_next(src, 1) & 3];
	in.flags = NEST_TDP_F_FINAL;
	if (s->pml)
		return or_fault_pml(s, &in);
	rc = nest_tdp_fault(s->ctx, &s->root, &in, &out);
	s->faults++;
	if (rc != NEST_OK)
		return rc == NEST_E_NOMEM ? true : or_fail(s, "nest_tdp_fault failed", in.l2_gpa, rc);
	return or_check_fault(s, &in, &out);
}

/* A fault with L1's page-modification log, checked against the log rules
 * (SDM 29.3.6) and then as any fault. */
static bool or_fault_pml(struct or_state *s, const struct nest_tdp_fault_in *in)
{
	struct nest_tdp_fault_out out;
	struct or_ref r0 = or_ref(s, in->l2_gpa), r1;
	uint16_t index = s->log.index;
	uint64_t slot = s->log.addr + 8ull * index, before = 0;
	bool write = (in->access & NEST_ACC_W) != 0;
	bool set_d = r0.mapped && write && !(r0.leaf & TB_EPT_D);
	int rc;

	if (index < PML_ENTRIES)
		before = sim_read64(&s->t.sim, slot);
	rc = nest__tdp_fault_pml(s->ctx, &s->root, in, &s->log, &out);
	s->faults++;
	if (rc != NEST_OK)
		return rc == NEST_E_NOMEM ? true : or_fail(s, "PML fault failed", in->l2_gpa, rc);
	r1 = or_ref(s, in->l2_gpa);
	if (s->log.full) {
		if (index < PML_ENTRIES)
			return or_fail(s, "PML full below index 512", in->l2_gpa, index);
		if (r0.mapped && r0.accessed && !set_d)
			return or_fail(s, "PML full with no flag to set", in->l2_gpa, r0.leaf);
		if (r1.leaf != r0.leaf || r1.accessed != r0.accessed)
			return or_fail(s, "PML full but a flag was set", r0.leaf, r1.leaf);
		if (s->log.index != index || s->log.logged)
			return or_fail(s, "PML full but logged", index, s->log.index);
		s->log.index = PML_ENTRIES - 1; /* L1 empties its log */
		return or_check_all(s);
	}
	if (s->log.logged) {
		if (!set_d || index >= PML_ENTRIES || !(r1.leaf & TB_EPT_D))
			return or_fail(s, "logged without setting a dirty flag", in->l2_gpa,
				       r0.leaf);
		if (sim_read64(&s->t.sim, slot) != (in->l2_gpa & ~0xfffull))
			return or_fail(s, "wrong log entry", in->l2_gpa, sim_read64(&s->t.sim, slot));
		if (s->log.index != (uint16_t)(index - 1))
			return or_fail(s, "index not decremented", index, s->log.index);
	} else {
		if (s->log.index != index)
			return or_fail(s, "index moved without a log entry", index, s->log.index);
		if (index < PML_ENTRIES && sim_read64(&s->t.sim, slot) != before)
			return or_fail(s, "log written without an entry", index, before);
		if (out.kind == NEST_TDP_FIXED && set_d && !s->log.lost)
			return or_fail(s, "dirty flag set but not logged", in->l2_gpa, r0.leaf);
	}
	if (index >= PML_ENTRIES && out.kind == NEST_TDP_FIXED && !(r0.accessed && !set_d))
		return or_fail(s, "flag set at a full index", in->l2_gpa, index);
	return or_check_fault(s, in, &out);
}

/* The outcome of one fault against the reference walk, then every leaf. */
static bool or_check_fault(struct or_state *s, const struct nest_tdp_fault_in *pin,
			   const struct nest_tdp_fault_out *pout)
{
	const struct nest_tdp_fault_in in = *pin;
	const struct nest_tdp_fault_out out = *pout;
	struct or_ref r = or_ref(s, in.l2_gpa);

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

/* Two vCPUs: the other vCPU's pinned root is still its root, whatever the
 * acting one did; and flush requests name only attached vCPUs. */
static bool or_check_other(struct or_state *s)
{
	unsigned u = s->v ^ 1, i;
	struct nest_tdp_root_info info;

	for (i = 1; i < NEST_MAX_VCPUS / 64; i++)
		if (s->t.vcpus_seen[i])
			return or_fail(s, "flush request for a vCPU never attached", i, 0);
	if (s->t.vcpus_seen[0] & ~3ull)
		return or_fail(s, "flush request for a vCPU never attached", s->t.vcpus_seen[0], 0);
	if (!s->pinned[u])
		return true;
	if (nest_tdp_root(s->h[u], &s->roots[s->vcur[u]], &info) != NEST_OK)
		return or_fail(s, "nest_tdp_root of the other vCPU failed", u, 0);
	if (info.hpa != s->pinned[u])
		return or_fail(s, "a vCPU's pinned root was reclaimed by another", s->pinned[u],
			       info.hpa);
	return true;
}

/* Run one scenario from `data` with `nvcpu` (1 or 2) vCPUs on one shadow;
 * returns true when every check held (else s->why). */
static bool or_run_vcpus(struct or_state *s, const uint8_t *data, size_t size, unsigned nvcpu)
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
	cfg.max_roots = nvcpu > 1 ? 3 : 2;	    /* one per vCPU running, one more to build */
	cfg.ept_vpid_cap = TB_EPT_CAPS;
	cfg.maxphyaddr = OR_MAXPHY;
	cfg.max_page_shift = (c & 8) ? 30 : 21;
	need = nest_tdp_size(&cfg);
	s->mem = aligned_alloc(64, (need + 63) & ~(size_t)63);
	if (nvcpu > 1)
		tb_enable_vcpus(&s->t);
	if (s->mem == NULL || nest_tdp_init(s->mem, need, &s->t.be, &cfg, &s->vm) != NEST_OK) {
		ok = or_fail(s, "nest_tdp_init", 0, 0);
		goto out;
	}
	s->nvcpu = nvcpu > 1 ? 2 : 1;
	s->ctx = s->h[0] = s->h[1] = s->vm;
	for (k = 1; k < s->nvcpu; k++)
		if (nest_tdp_vcpu_init(s->hmem[k], sizeof(s->hmem[k]), s->vm, k, &s->h[k]) !=
		    NEST_OK) {
			ok = or_fail(s, "nest_tdp_vcpu_init", k, 0);
			nest_tdp_fini(s->vm);
			goto out;
		}
	s->npt = (c & 1) != 0;
	s->ad = (c & 2) != 0;
	/* NPT: L1's host paging mode from bits 2:1. */
	{
		static const uint32_t modes[4] = {NEST_X86_MODE_LONG4, NEST_X86_MODE_PAE,
						  NEST_X86_MODE_32_PSE, NEST_X86_MODE_32};
		s->mode = modes[(c >> 1) & 3];
	}
	for (k = 0; k < 2; k++) {
		l1root = tb_new_table(&s->t);
		s->root.kind = s->npt ? NEST_TDP_NPT : NEST_TDP_EPT;
		if (s->npt) {
			s->root.pointer = l1root;
			s->root.cr0 = 0x80000011ull; /* PG, ET, PE */
			s->root.cr4 = s->mode == NEST_X86_MODE_LONG4  ? 0x20ull  /* PAE */
				      : s->mode == NEST_X86_MODE_PAE  ? 0x20ull
				      : s->mode == NEST_X86_MODE_32_PSE ? 0x10ull /* PSE */
									: 0;
			s->root.efer = s->mode == NEST_X86_MODE_LONG4 ? 0xd00ull /* LME, LMA, NXE */
				       : s->mode == NEST_X86_MODE_PAE ? 0x800ull /* NXE */
								      : 0;
		} else {
			s->root.pointer = TB_EPTP(l1root, 4, s->ad);
		}
		/* An initial table. */
		for (op = 0; op < 16; op++)
			or_l1_change(s, &src);
		s->roots[k] = s->root;
	}
	/* EPT with A/D: bit 2 (an NPT mode bit) turns L1's log on, from an
	 * index near 0, near 511, or above 511. */
	s->pml = !s->npt && s->ad && (c & 4);
	if (s->pml) {
		uint64_t b = or_next(&src, 1);

		s->log.addr = tb_new_table(&s->t);
		s->log.index = (b & 0x80)   ? (uint16_t)(0xff00u | b)
			       : (b & 0x40) ? (uint16_t)(PML_ENTRIES - 1 - (b & 0x3f))
					    : (uint16_t)(b & 0x3f);
	}
	s->cur = 1;
	s->vcur[0] = s->vcur[1] = 1;
	ops = 0;
	while (ok && src.n > 0 && ops++ < 400) {
		op = (unsigned)or_next(&src, 1);
		if (s->nvcpu > 1) {
			/* Bit 4: which vCPU acts, on the table it runs on. */
			s->v = (op >> 4) & 1;
			s->ctx = s->h[s->v];
			s->cur = s->vcur[s->v];
			s->root = s->roots[s->cur];
		}
		switch (op & 7) {
		case 0:
			or_l1_change(s, &src);
			/* As L1 must (INVEPT, a TLB_CONTROL flush): drop, or sync. */
			if (op & 8)
				nest_tdp_sync_root(s->ctx, &s->root);
			else
				nest_tdp_invalidate_root(s->ctx, &s->root);
			break;
		case 1:
			or_l0_change(s, &src);
			break;
		case 3:
			/* L1 switches to its other table (another L2, or VMFUNC). */
			s->cur ^= 1;
			s->vcur[s->v] = s->cur;
			s->root = s->roots[s->cur];
			s->pinned[s->v] = 0; /* its next entry asks for the other root */
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
		if (ok && s->nvcpu > 1)
			ok = or_check_other(s);
	}
	if (ok)
		ok = or_check_all(s);
	nest_tdp_fini(s->vm);
	if (ok && s->t.sim.pool_in_use != 0)
		ok = or_fail(s, "pages leaked after fini", s->t.sim.pool_in_use, 0);
out:
	free(s->mem);
	tb_fini(&s->t);
	return ok;
}

static inline bool or_run(struct or_state *s, const uint8_t *data, size_t size)
{
	return or_run_vcpus(s, data, size, 1);
}

#endif /* NEST_TDP_ORACLE_H */
