/* SPDX-License-Identifier: MIT */
/*
 * The shadow EPT02/NPT02: L2-physical to host-physical tables composed of
 * L1's EPT12/NPT12 (walked with nest__ept_walk / nest__x86_walk) and L0's
 * map of L1 memory (nest_backend_ops::l1_to_host).
 *
 * Structure: up to NEST_TDP_MAX_ROOTS cached roots, keyed by L1's root and
 * its format; each owns a list of shadow table pages. Every page has a
 * descriptor in the context (host address, pointer, owner, level, and the
 * L1-physical range its leaves point into); a hash from host address to
 * descriptor finds a child table from a parent entry. Memory is bounded by
 * nest_tdp_config::max_pages: when full, whole roots are reclaimed, least
 * recently used first.
 *
 * Invariant 3 ("paging is a subset", docs/trust-model.md): a leaf maps an L2 page to a
 * host page only if L1's table maps it to an L1 page that L0 maps to that
 * host page, with rights no wider than both.
 */
#include "paging.h"

#define TDP_MAGIC 0x54445031u	   /* "TDP1": the VM object */
#define TDP_VCPU_MAGIC 0x54445643u /* "TDVC": a vCPU's handle on it */
#define TDP_MIN_PAGES 8u
#define TDP_MAX_PAGES (1u << 24)
#define TDP_MAX_RMAP (1u << 28)
#define TDP_RMAP_PER_PAGE 8u
#define TDP_NONE 0u /* list/index terminator: indices are stored +1 */
#define TDP_HASH_MULT 0x9e3779b97f4a7c15ull
#define TDP_SET_WORDS (NEST_MAX_VCPUS / 64)

/* NPT02 non-leaf rights: everything; leaves carry the real rights. */
#define NPT_TABLE_BITS (X86_PTE_P | X86_PTE_RW | X86_PTE_US | X86_PTE_A)
#define EPT_TABLE_BITS (EPT_R | EPT_W | EPT_X | EPT_UX)
#define EPTP02_MT_WB ((uint64_t)NEST_MT_WB)
/* NPT02 PAT index for an L0 mapping that is not WB: PCD|PWT = entry 3 (UC in the default PAT). */
#define NPT_PAT_INDEX_UC 3u

struct tdp_page {
	uint64_t hpa;
	uint64_t *hva;
	uint64_t l1_lo, l1_hi; /* L1-physical range its leaves point into (lo >= hi: none) */
	uint32_t hnext;	       /* hash chain */
	uint32_t next;	       /* next page of the same root, or of the free list */
	uint32_t rmap;	       /* reverse-map entries of its leaves (+1) */
	uint16_t root;
	uint8_t level;
	uint8_t used;
	uint8_t ovf; /* a leaf of it found the reverse map full */
	uint8_t pad[7];
};

/*
 * The reverse map: one entry per shadow leaf, keyed by the L1-physical
 * range the leaf maps (its base and size), hashed, and chained per page so
 * that the leaves of a released page leave the map with it.
 */
struct tdp_rmap {
	uint64_t key;	/* RMAP_KEY(base, size code); 0: free */
	uint32_t hnext; /* hash chain, or free list (+1) */
	uint32_t pnext; /* next entry of the same page (+1) */
	uint32_t page;	/* page descriptor (+1) */
	uint16_t slot;	/* entry index in that page */
	uint16_t pad;
};

#define RMAP_KEY(base, code) ((((base) >> PG_PAGE_SHIFT) << 3) | ((uint64_t)(code) << 1) | 1u)

struct tdp_root {
	uint64_t key_ptr;
	uint32_t key_mode;
	uint32_t page;	 /* descriptor of the root table (+1) */
	uint32_t pages;	 /* list of the other pages (+1) */
	uint32_t npages; /* pages owned, root table included */
	uint64_t lru;
	uint8_t valid, levels, kind;
	uint8_t ad; /* A/D flags in L1's table (EPTP bit 6; always for NPT) */
	uint8_t mbec;
	uint8_t pad[3];
	uint32_t pins;	    /* vCPUs whose current root this is */
	uint64_t eptp_bits; /* EPT: walk length and A/D of EPTP02 */
	struct nest_tdp_l1_root l1;
	/* vCPUs that loaded it since it was built: who may cache its entries. */
	struct nest_vcpu_set users;
	/* vCPUs that must flush L2's TLB tag before they next run on it. */
	struct nest_vcpu_set need_flush;
};

struct nest_tdp {
	uint32_t magic;
	uint32_t max_pages;
	uint32_t nbuckets; /* power of two */
	uint32_t hash_shift;
	uint32_t free_list;
	uint32_t pages_in_use;
	uint32_t rmap_n, rmap_nbuckets, rmap_shift, rmap_free;
	uint32_t n_ovf; /* pages with ovf set */
	uint32_t pad;
	uint64_t clock;
	struct nest_backend be;
	struct nest_tdp_config cfg;
	struct nest_tdp_stats st;
	struct tdp_root roots[NEST_TDP_MAX_ROOTS];
	uint64_t watched[NEST_TDP_MAX_WATCHED]; /* L1-physical pages, write-watched */
	uint32_t n_watched;
	struct nest_vcpu_set attached;
	int16_t cur[NEST_MAX_VCPUS]; /* per vCPU: the root it runs on (pinned), or -1 */
	struct tdp_page *pages;
	uint32_t *buckets;
	struct tdp_rmap *rmaps;
	uint32_t *rbuckets;
};

/* A vCPU's handle: what nest_tdp_vcpu_init() builds. */
struct tdp_vcpu {
	uint32_t magic;
	uint32_t vcpu;
	struct nest_tdp *vm;
};

/* ---- vCPU sets ---- */

static void set_add(struct nest_vcpu_set *s, unsigned v)
{
	s->bits[v / 64] |= 1ull << (v % 64);
}

static void set_del(struct nest_vcpu_set *s, unsigned v)
{
	s->bits[v / 64] &= ~(1ull << (v % 64));
}

static bool set_has(const struct nest_vcpu_set *s, unsigned v)
{
	return (s->bits[v / 64] >> (v % 64)) & 1;
}

static bool set_empty(const struct nest_vcpu_set *s)
{
	unsigned i;

	for (i = 0; i < TDP_SET_WORDS; i++)
		if (s->bits[i])
			return false;
	return true;
}

static void set_fill(struct nest_vcpu_set *s)
{
	nest__memset(s, 0xff, sizeof(*s));
}

/* ---- entries that hardware walkers read ----
 *
 * Shadow tables are live while any vCPU runs L2 on them: the processor may
 * walk them, and set accessed/dirty flags in them (EPTP02 enables EPT A/D
 * when EPTP12 does; NPT02 leaves and tables carry A/D), at any time. So
 * every store to a table entry is one aligned 64-bit atomic store, and an
 * entry that may be present is replaced by compare-and-exchange, which
 * cannot lose a flag the processor sets meanwhile unnoticed (the loop
 * reads it back) and tells exactly what was there. These are the
 * compiler's freestanding atomic builtins on libnest's own pages (no
 * library call: a plain MOV or LOCK CMPXCHG on x86-64).
 */
static uint64_t ent_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void ent_store(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static uint64_t ent_replace(uint64_t *p, uint64_t v)
{
	uint64_t old = ent_load(p);

	while (!__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		;
	return old;
}

/* ---- sizes and layout ---- */

static uint32_t tdp_buckets(uint32_t max_pages, uint32_t *shift)
{
	uint32_t n = 1, s = 0;

	while (n < max_pages) {
		n <<= 1;
		s++;
	}
	*shift = 64 - (s ? s : 1);
	return n < 2 ? 2 : n;
}

/* The caller's configuration in the current layout (older callers: new fields 0). */
static bool tdp_cfg_get(const struct nest_tdp_config *in, struct nest_tdp_config *cfg)
{
	if (in == NULL || nest__copy_in(cfg, sizeof(*cfg), in, NEST_TDP_CONFIG_MIN_SIZE) != NEST_OK)
		return false;
	if (cfg->max_pages < TDP_MIN_PAGES || cfg->max_pages > TDP_MAX_PAGES)
		return false;
	if (cfg->max_roots < 1 || cfg->max_roots > NEST_TDP_MAX_ROOTS)
		return false;
	if (cfg->maxphyaddr < 32 || cfg->maxphyaddr > 52)
		return false;
	if (cfg->rmap_entries > TDP_MAX_RMAP)
		return false;
	if (cfg->rmap_entries == 0) {
		uint64_t n = (uint64_t)cfg->max_pages * TDP_RMAP_PER_PAGE;

		cfg->rmap_entries = n > TDP_MAX_RMAP ? TDP_MAX_RMAP : (uint32_t)n;
	}
	cfg->size = sizeof(*cfg);
	return cfg->max_page_shift == PG_PAGE_SHIFT || cfg->max_page_shift == PG_SHIFT_2M ||
	       cfg->max_page_shift == PG_SHIFT_1G;
}

static size_t tdp_align(size_t n)
{
	return (n + 15) & ~(size_t)15;
}

static size_t tdp_bytes(const struct nest_tdp_config *cfg)
{
	uint32_t shift;

	return tdp_align(sizeof(struct nest_tdp)) +
	       tdp_align((size_t)cfg->max_pages * sizeof(struct tdp_page)) +
	       tdp_align((size_t)tdp_buckets(cfg->max_pages, &shift) * sizeof(uint32_t)) +
	       tdp_align((size_t)cfg->rmap_entries * sizeof(struct tdp_rmap)) +
	       (size_t)tdp_buckets(cfg->rmap_entries / 2, &shift) * sizeof(uint32_t);
}

NEST_API size_t nest_tdp_size(const struct nest_tdp_config *in)
{
	struct nest_tdp_config cfg;

	if (!tdp_cfg_get(in, &cfg))
		return 0;
	return tdp_bytes(&cfg);
}

NEST_API int nest_tdp_init(void *mem, size_t size, const struct nest_backend *be,
			   const struct nest_tdp_config *in, struct nest_tdp **out)
{
	struct nest_tdp *t = mem;
	struct nest_tdp_config cfg;
	size_t need;
	uint32_t i;
	char *p;
	int rc;

	if (mem == NULL || out == NULL || in == NULL || ((uintptr_t)mem & 15))
		return NEST_E_INVAL;
	if (in->size < NEST_TDP_CONFIG_MIN_SIZE)
		return NEST_E_SIZE;
	if (!tdp_cfg_get(in, &cfg))
		return NEST_E_INVAL;
	need = tdp_bytes(&cfg);
	if (size < need)
		return NEST_E_NOSPC;
	nest__memset(t, 0, need);
	rc = nest__be_init(&t->be, be);
	if (rc != NEST_OK)
		return rc;
	if (!NEST_BE_HAS(&t->be, l1_to_host) || !NEST_BE_HAS(&t->be, page_alloc) ||
	    !NEST_BE_HAS(&t->be, page_free))
		return NEST_E_MISSING_OP;
	t->cfg = cfg;
	t->max_pages = cfg.max_pages;
	p = (char *)t + tdp_align(sizeof(*t));
	t->pages = (struct tdp_page *)p;
	p += tdp_align((size_t)cfg.max_pages * sizeof(struct tdp_page));
	t->nbuckets = tdp_buckets(cfg.max_pages, &t->hash_shift);
	t->buckets = (uint32_t *)p;
	p += tdp_align((size_t)t->nbuckets * sizeof(uint32_t));
	t->rmaps = (struct tdp_rmap *)p;
	p += tdp_align((size_t)cfg.rmap_entries * sizeof(struct tdp_rmap));
	t->rbuckets = (uint32_t *)p;
	t->rmap_n = cfg.rmap_entries;
	t->rmap_nbuckets = tdp_buckets(cfg.rmap_entries / 2, &t->rmap_shift);
	for (i = 0; i < t->max_pages; i++)
		t->pages[i].next = i + 2 <= t->max_pages ? i + 2 : TDP_NONE;
	t->free_list = 1;
	for (i = 0; i < t->rmap_n; i++)
		t->rmaps[i].hnext = i + 2 <= t->rmap_n ? i + 2 : TDP_NONE;
	t->rmap_free = t->rmap_n ? 1 : TDP_NONE;
	for (i = 0; i < NEST_MAX_VCPUS; i++)
		t->cur[i] = -1;
	set_add(&t->attached, 0);
	t->st.size = sizeof(t->st);
	t->st.pages_max = cfg.max_pages;
	t->magic = TDP_MAGIC;
	*out = t;
	return NEST_OK;
}

/* The VM object behind a context or a vCPU handle, and the vCPU it names. */
static struct nest_tdp *tdp_resolve(const struct nest_tdp *h, unsigned *vcpu)
{
	const uint32_t *magic = (const uint32_t *)(const void *)h;

	if (h == NULL)
		return NULL;
	if (*magic == TDP_MAGIC) {
		*vcpu = 0;
		return (struct nest_tdp *)(uintptr_t)h;
	}
	if (*magic == TDP_VCPU_MAGIC) {
		const struct tdp_vcpu *v = (const struct tdp_vcpu *)(const void *)h;

		if (v->vm != NULL && v->vm->magic == TDP_MAGIC && v->vcpu < NEST_MAX_VCPUS) {
			*vcpu = v->vcpu;
			return v->vm;
		}
	}
	return NULL;
}

static bool tdp_multi(const struct nest_tdp *t)
{
	return NEST_BE_HAS(&t->be, flush_vcpus);
}

static bool tdp_has_lock(const struct nest_tdp *t)
{
	return NEST_BE_HAS(&t->be, vm_lock) && NEST_BE_HAS(&t->be, vm_unlock);
}

static void tdp_lock(struct nest_tdp *t)
{
	if (tdp_has_lock(t))
		t->be.ops->vm_lock(t->be.ctx);
}

static void tdp_unlock(struct nest_tdp *t)
{
	if (tdp_has_lock(t))
		t->be.ops->vm_unlock(t->be.ctx);
}

NEST_API size_t nest_tdp_vcpu_size(void)
{
	return sizeof(struct tdp_vcpu);
}

NEST_API int nest_tdp_vcpu_init(void *mem, size_t size, struct nest_tdp *vm, uint32_t vcpu,
				struct nest_tdp **out)
{
	struct tdp_vcpu *v = mem;

	if (mem == NULL || out == NULL || vm == NULL || vm->magic != TDP_MAGIC ||
	    vcpu >= NEST_MAX_VCPUS || ((uintptr_t)mem & 7))
		return NEST_E_INVAL;
	if (size < sizeof(*v))
		return NEST_E_NOSPC;
	if (vcpu != 0 && !tdp_multi(vm))
		return NEST_E_MISSING_OP;
	tdp_lock(vm);
	set_add(&vm->attached, vcpu);
	tdp_unlock(vm);
	nest__memset(v, 0, sizeof(*v));
	v->vcpu = vcpu;
	v->vm = vm;
	v->magic = TDP_VCPU_MAGIC;
	*out = (struct nest_tdp *)mem;
	return NEST_OK;
}

/* ---- page descriptors ---- */

static uint32_t tdp_hash(const struct nest_tdp *t, uint64_t hpa)
{
	return (uint32_t)(((hpa >> PG_PAGE_SHIFT) * TDP_HASH_MULT) >> t->hash_shift) &
	       (t->nbuckets - 1);
}

static uint32_t tdp_lookup(const struct nest_tdp *t, uint64_t hpa)
{
	uint32_t i = t->buckets[tdp_hash(t, hpa)];
	uint32_t guard = 0;

	while (i != TDP_NONE && guard++ < t->max_pages) {
		if (t->pages[i - 1].hpa == hpa)
			return i;
		i = t->pages[i - 1].hnext;
	}
	return TDP_NONE;
}

static void tdp_unhash(struct nest_tdp *t, uint32_t idx1)
{
	uint32_t *link = &t->buckets[tdp_hash(t, t->pages[idx1 - 1].hpa)];
	uint32_t guard = 0;

	while (*link != TDP_NONE && guard++ < t->max_pages) {
		if (*link == idx1) {
			*link = t->pages[idx1 - 1].hnext;
			return;
		}
		link = &t->pages[*link - 1].hnext;
	}
}

/* ---- the reverse map ---- */

static uint32_t rmap_hash(const struct nest_tdp *t, uint64_t key)
{
	return (uint32_t)((key * TDP_HASH_MULT) >> t->rmap_shift) & (t->rmap_nbuckets - 1);
}

/* Record that leaf `slot` of page `idx1` maps L1 range [base, base + 2^(12+9*code)). */
static void rmap_add(struct nest_tdp *t, uint32_t idx1, unsigned slot, uint64_t base, unsigned code)
{
	struct tdp_page *p = &t->pages[idx1 - 1];
	uint32_t i = t->rmap_free, h;
	struct tdp_rmap *m;

	if (i == TDP_NONE) {
		if (!p->ovf) {
			p->ovf = 1;
			t->n_ovf++;
		}
		return;
	}
	m = &t->rmaps[i - 1];
	t->rmap_free = m->hnext;
	m->key = RMAP_KEY(base, code);
	m->page = idx1;
	m->slot = (uint16_t)slot;
	h = rmap_hash(t, m->key);
	m->hnext = t->rbuckets[h];
	t->rbuckets[h] = i;
	m->pnext = p->rmap;
	p->rmap = i;
}

static void rmap_unhash_put(struct nest_tdp *t, uint32_t i)
{
	struct tdp_rmap *m = &t->rmaps[i - 1];
	uint32_t *link = &t->rbuckets[rmap_hash(t, m->key)];
	uint32_t guard = 0;

	while (*link != TDP_NONE && guard++ < t->rmap_n) {
		if (*link == i) {
			*link = m->hnext;
			break;
		}
		link = &t->rmaps[*link - 1].hnext;
	}
	nest__memset(m, 0, sizeof(*m));
	m->hnext = t->rmap_free;
	t->rmap_free = i;
}

/* Forget the reverse-map entry of leaf `slot` of page `idx1` (at most PG_ENTRIES steps). */
static void rmap_del_slot(struct nest_tdp *t, uint32_t idx1, unsigned slot)
{
	uint32_t *link = &t->pages[idx1 - 1].rmap;
	uint32_t guard = 0;

	while (*link != TDP_NONE && guard++ <= PG_ENTRIES) {
		uint32_t i = *link;

		if (t->rmaps[i - 1].slot == slot) {
			*link = t->rmaps[i - 1].pnext;
			rmap_unhash_put(t, i);
			return;
		}
		link = &t->rmaps[i - 1].pnext;
	}
}

/* Every leaf of page `idx1` is gone: forget its entries. */
static void rmap_del_page(struct nest_tdp *t, uint32_t idx1)
{
	struct tdp_page *p = &t->pages[idx1 - 1];
	uint32_t i = p->rmap, guard = 0;

	while (i != TDP_NONE && guard++ <= PG_ENTRIES) {
		uint32_t next = t->rmaps[i - 1].pnext;

		rmap_unhash_put(t, i);
		i = next;
	}
	p->rmap = TDP_NONE;
	if (p->ovf) {
		p->ovf = 0;
		t->n_ovf--;
	}
}

static uint32_t tdp_page_index(const struct nest_tdp *t, const struct tdp_page *pg)
{
	return (uint32_t)(pg - t->pages) + 1;
}

/* Allocate a zeroed shadow page for root `r` at `level`. Returns its index (+1) or 0. */
static uint32_t tdp_page_new(struct nest_tdp *t, unsigned r, unsigned level, int *rc)
{
	uint32_t idx1 = t->free_list;
	struct tdp_page *p;
	uint64_t hpa;
	void *hva;

	if (idx1 == TDP_NONE || t->pages_in_use >= t->max_pages) {
		*rc = NEST_E_NOMEM;
		return TDP_NONE;
	}
	*rc = nest__be_page_alloc(&t->be, &hpa, &hva);
	if (*rc != NEST_OK)
		return TDP_NONE;
	if (hva == NULL || (hpa & (PG_PAGE_SIZE - 1))) {
		nest__be_page_free(&t->be, hpa, hva);
		*rc = NEST_E_BACKEND;
		return TDP_NONE;
	}
	p = &t->pages[idx1 - 1];
	t->free_list = p->next;
	/* Not yet linked into any table: no walker sees it before the
	 * release store that links it (ent_store). */
	nest__memset(hva, 0, PG_PAGE_SIZE);
	p->hpa = hpa;
	p->hva = hva;
	p->l1_lo = ~0ull;
	p->l1_hi = 0;
	p->rmap = TDP_NONE;
	p->root = (uint16_t)r;
	p->level = (uint8_t)level;
	p->used = 1;
	p->hnext = t->buckets[tdp_hash(t, hpa)];
	t->buckets[tdp_hash(t, hpa)] = idx1;
	p->next = TDP_NONE;
	t->pages_in_use++;
	t->roots[r].npages++;
	return idx1;
}

static void tdp_page_release(struct nest_tdp *t, uint32_t idx1)
{
	struct tdp_page *p = &t->pages[idx1 - 1];

	rmap_del_page(t, idx1);
	tdp_unhash(t, idx1);
	nest__be_page_free(&t->be, p->hpa, p->hva);
	nest__memset(p, 0, sizeof(*p));
	p->next = t->free_list;
	t->free_list = idx1;
	t->pages_in_use--;
}

/* ---- roots ---- */

static uint64_t tdp_root_pointer(const struct nest_tdp *t, const struct tdp_root *rt)
{
	uint64_t hpa = t->pages[rt->page - 1].hpa;

	return rt->kind == NEST_TDP_EPT ? hpa | EPTP02_MT_WB | rt->eptp_bits : hpa;
}

/*
 * Tell hardware to forget translations of a root whose entries were
 * removed: every vCPU flushes L2's tag before it next runs on the root
 * (nest_tdp_root_info::created), and, with several vCPUs, L0 is asked to
 * flush each vCPU that loaded it before it resumes that vCPU.
 */
static void tdp_root_flush(struct nest_tdp *t, struct tdp_root *rt)
{
	set_fill(&rt->need_flush);
	if (tdp_multi(t)) {
		if (!set_empty(&rt->users)) {
			t->be.ops->flush_vcpus(t->be.ctx, &rt->users,
					       rt->kind == NEST_TDP_EPT ? NEST_FLUSH_EPT_CONTEXT
									: NEST_FLUSH_NPT_ROOT,
					       tdp_root_pointer(t, rt), 0);
		}
		return;
	}
	if (rt->kind == NEST_TDP_EPT)
		nest__be_flush(&t->be, NEST_FLUSH_EPT_CONTEXT, tdp_root_pointer(t, rt), 0);
	/* NPT: nothing is tagged by nCR3; the caller flushes the ASID when
	 * nest_tdp_root_info::created says so (TLB_CONTROL in vmcb02). */
}

/*
 * Free every page of a root except its root table, and clear that table.
 * The table is emptied first, then the flush is asked for, then the pages
 * go back to L0: a walker that still holds them in its caches is one the
 * flush request covers (backend.h, flush_vcpus).
 */
static void tdp_root_zap(struct nest_tdp *t, unsigned r, bool flush)
{
	struct tdp_root *rt = &t->roots[r];
	uint32_t i = rt->pages, guard = 0;
	struct tdp_page *top;
	unsigned k;

	if (rt->page) {
		top = &t->pages[rt->page - 1];
		for (k = 0; k < PG_ENTRIES; k++)
			if (ent_load(&top->hva[k]))
				ent_replace(&top->hva[k], 0);
		rmap_del_page(t, rt->page);
		top->l1_lo = ~0ull;
		top->l1_hi = 0;
		if (flush)
			tdp_root_flush(t, rt);
	}
	while (i != TDP_NONE && guard++ < t->max_pages) {
		uint32_t next = t->pages[i - 1].next;

		tdp_page_release(t, i);
		i = next;
	}
	rt->pages = TDP_NONE;
	rt->npages = rt->page ? 1 : 0;
}

static void tdp_root_free(struct nest_tdp *t, unsigned r)
{
	struct tdp_root *rt = &t->roots[r];
	unsigned v;

	/* With several vCPUs, those that loaded it may still cache it. */
	tdp_root_zap(t, r, tdp_multi(t));
	if (rt->page)
		tdp_page_release(t, rt->page);
	if (rt->pins)
		for (v = 0; v < NEST_MAX_VCPUS; v++)
			if (t->cur[v] == (int16_t)r)
				t->cur[v] = -1;
	nest__memset(rt, 0, sizeof(*rt));
	t->st.roots--;
}

/* Reclaim the least recently used root other than `keep` and the pinned ones; false if none. */
static bool tdp_reclaim_one(struct nest_tdp *t, int keep)
{
	unsigned r, victim = NEST_TDP_MAX_ROOTS;

	for (r = 0; r < t->cfg.max_roots; r++) {
		if (!t->roots[r].valid || (int)r == keep || t->roots[r].pins)
			continue;
		if (victim == NEST_TDP_MAX_ROOTS || t->roots[r].lru < t->roots[victim].lru)
			victim = r;
	}
	if (victim == NEST_TDP_MAX_ROOTS)
		return false;
	tdp_root_free(t, victim);
	t->st.reclaims++;
	return true;
}

/* Empty the valid root holding the most pages (pinned ones too: emptying is
 * safe with a flush, freeing is not); false if no root holds more than its table. */
static bool tdp_zap_largest(struct nest_tdp *t)
{
	unsigned r, victim = NEST_TDP_MAX_ROOTS;

	for (r = 0; r < t->cfg.max_roots; r++)
		if (t->roots[r].valid && t->roots[r].npages > 1 &&
		    (victim == NEST_TDP_MAX_ROOTS || t->roots[r].npages > t->roots[victim].npages))
			victim = r;
	if (victim == NEST_TDP_MAX_ROOTS)
		return false;
	tdp_root_zap(t, victim, true);
	t->st.reclaims++;
	return true;
}

static void tdp_set_cur(struct nest_tdp *t, unsigned v, int r)
{
	int old = t->cur[v];

	if (old == r)
		return;
	if (old >= 0 && t->roots[old].pins)
		t->roots[old].pins--;
	t->cur[v] = (int16_t)r;
	if (r >= 0)
		t->roots[r].pins++;
}

/* The cache key of an L1 root and the parameters derived from it. */
struct tdp_key {
	uint64_t ptr;
	uint32_t mode;
	uint8_t levels, kind, ad, mbec;
	uint64_t eptp_bits;
};

#define KEY_KIND_SHIFT 0
#define KEY_MODE_SHIFT 4
#define KEY_NXE (1u << 8)
#define KEY_MBEC (1u << 9)

static int tdp_make_key(const struct nest_tdp *t, const struct nest_tdp_l1_root *l1,
			struct tdp_key *k)
{
	nest__memset(k, 0, sizeof(*k));
	if (l1 == NULL)
		return NEST_E_INVAL;
	k->kind = (uint8_t)l1->kind;
	if (l1->kind == NEST_TDP_EPT) {
		struct nest_ept_config ec = {
		    t->cfg.ept_vpid_cap, t->cfg.maxphyaddr, l1->mbec != 0, {0}};

		if (!nest_ept_eptp_valid(l1->pointer, &ec))
			return NEST_E_INVAL;
		k->levels = (uint8_t)(((l1->pointer & EPTP_PWL_MASK) >> EPTP_PWL_SHIFT) + 1);
		k->ad = (l1->pointer & EPTP_AD) != 0;
		k->mbec = l1->mbec != 0;
		k->eptp_bits = l1->pointer & (EPTP_PWL_MASK | EPTP_AD);
		k->ptr = l1->pointer & (pg_addr_mask(t->cfg.maxphyaddr) | EPTP_PWL_MASK | EPTP_AD);
		k->mode = (NEST_TDP_EPT << KEY_KIND_SHIFT) | (k->mbec ? KEY_MBEC : 0);
		return NEST_OK;
	}
	if (l1->kind == NEST_TDP_NPT) {
		uint32_t mode = nest_x86_mode(l1->cr0, l1->cr4, l1->efer);

		if (mode == NEST_X86_MODE_NONE)
			return NEST_E_INVAL;
		k->levels = (t->cfg.flags & NEST_TDP_CFG_NPT02_LA57) ? 5 : 4;
		k->ad = 1; /* APM 15.25.5: nested tables always carry A/D */
		if (mode == NEST_X86_MODE_PAE)
			k->ptr = l1->pointer & X86_PAE_CR3_MASK;
		else if (mode <= NEST_X86_MODE_32_PSE)
			k->ptr = l1->pointer & 0xfffff000ull;
		else
			k->ptr = l1->pointer & pg_addr_mask(t->cfg.maxphyaddr);
		k->mode = (NEST_TDP_NPT << KEY_KIND_SHIFT) | (mode << KEY_MODE_SHIFT) |
			  ((l1->efer & X86_EFER_NXE) ? KEY_NXE : 0);
		return NEST_OK;
	}
	return NEST_E_INVAL;
}

static int tdp_find(const struct nest_tdp *t, unsigned v, const struct tdp_key *k)
{
	unsigned r;

	if (t->cur[v] >= 0) {
		const struct tdp_root *c = &t->roots[t->cur[v]];

		if (c->valid && c->key_ptr == k->ptr && c->key_mode == k->mode)
			return t->cur[v];
	}
	for (r = 0; r < t->cfg.max_roots; r++)
		if (t->roots[r].valid && t->roots[r].key_ptr == k->ptr &&
		    t->roots[r].key_mode == k->mode)
			return (int)r;
	return -1;
}

/* Find or build the root for `l1` for vCPU `v`; returns its index or a negative status. */
static int tdp_get_root(struct nest_tdp *t, unsigned v, const struct nest_tdp_l1_root *l1,
			bool *hit)
{
	struct tdp_key k;
	struct tdp_root *rt;
	unsigned r;
	int rc, found;

	rc = tdp_make_key(t, l1, &k);
	if (rc != NEST_OK)
		return -rc;
	found = tdp_find(t, v, &k);
	if (found >= 0) {
		*hit = true;
		t->roots[found].lru = ++t->clock;
		return found;
	}
	*hit = false;
	for (r = 0; r < t->cfg.max_roots; r++)
		if (!t->roots[r].valid)
			break;
	if (r == t->cfg.max_roots) {
		if (!tdp_reclaim_one(t, -1)) {
			/* Every root is pinned. This vCPU's own root may go if no other
			 * vCPU runs on it; otherwise max_roots is below the number of
			 * vCPUs that run L2 at once. */
			int c = t->cur[v];

			if (c < 0 || t->roots[c].pins > 1)
				return -NEST_E_NOMEM;
			tdp_root_free(t, (unsigned)c);
			t->st.reclaims++;
		}
		for (r = 0; r < t->cfg.max_roots; r++)
			if (!t->roots[r].valid)
				break;
	}
	while (t->pages_in_use >= t->max_pages && tdp_reclaim_one(t, -1))
		;
	while (t->pages_in_use >= t->max_pages && tdp_zap_largest(t))
		;
	rt = &t->roots[r];
	nest__memset(rt, 0, sizeof(*rt));
	rt->page = tdp_page_new(t, r, k.levels, &rc);
	if (rt->page == TDP_NONE) {
		rt->npages = 0;
		return -(rc == NEST_E_NOMEM ? NEST_E_NOMEM : NEST_E_BACKEND);
	}
	rt->valid = 1;
	rt->key_ptr = k.ptr;
	rt->key_mode = k.mode;
	rt->levels = k.levels;
	rt->kind = k.kind;
	rt->ad = k.ad;
	rt->mbec = k.mbec;
	rt->eptp_bits = k.eptp_bits;
	rt->l1 = *l1;
	rt->lru = ++t->clock;
	t->st.roots++;
	/* A recycled page may still be cached by hardware under this pointer
	 * (with several vCPUs, the flush went to the old root's users when it
	 * was freed; this one has none yet). */
	tdp_root_flush(t, rt);
	return (int)r;
}

NEST_API int nest_tdp_root(struct nest_tdp *h, const struct nest_tdp_l1_root *l1,
			   struct nest_tdp_root_info *info)
{
	struct nest_tdp *t;
	struct tdp_root *rt;
	unsigned v = 0;
	bool hit;
	int r;

	t = tdp_resolve(h, &v);
	if (t == NULL || l1 == NULL || info == NULL)
		return NEST_E_INVAL;
	tdp_lock(t);
	r = tdp_get_root(t, v, l1, &hit);
	if (r < 0) {
		tdp_unlock(t);
		return -r;
	}
	if (hit)
		t->st.root_hits++;
	else
		t->st.root_misses++;
	tdp_set_cur(t, v, r);
	rt = &t->roots[r];
	set_add(&rt->users, v);
	nest__memset(info, 0, sizeof(*info));
	info->hpa = t->pages[rt->page - 1].hpa;
	info->pointer = tdp_root_pointer(t, rt);
	info->levels = rt->levels;
	info->created = set_has(&rt->need_flush, v);
	set_del(&rt->need_flush, v);
	tdp_unlock(t);
	return NEST_OK;
}

NEST_API void nest_tdp_fini(struct nest_tdp *t)
{
	unsigned r;

	if (t == NULL || t->magic != TDP_MAGIC)
		return;
	tdp_lock(t);
	for (r = 0; r < NEST_TDP_MAX_ROOTS; r++)
		if (t->roots[r].valid)
			tdp_root_free(t, r);
	t->magic = 0;
	tdp_unlock(t);
}

/* ---- entry formats ---- */

static bool tdp_present(unsigned kind, uint64_t e)
{
	return kind == NEST_TDP_EPT ? (e & (EPT_RWX | EPT_UX)) != 0 : (e & X86_PTE_P) != 0;
}

static bool tdp_is_leaf(unsigned level, uint64_t e)
{
	/* Bit 7 is PS in both formats above level 1. */
	return level == 1 || (e & EPT_PS);
}

static uint64_t tdp_entry_addr(uint64_t e)
{
	return e & pg_addr_mask(52);
}

static uint64_t tdp_table_entry(unsigned kind, uint64_t child_hpa)
{
	return child_hpa | (kind == NEST_TDP_EPT ? EPT_TABLE_BITS : NPT_TABLE_BITS);
}

/*
 * Memory type of an EPT02 leaf (SDM 29.3.7.2 applied twice): L2's access
 * type is L1's EPT type combined with L2's PAT (unless L1's IPAT), then L0's
 * EPT type combined with that (unless L0's IPAT). One EPT02 entry can
 * express this exactly when one layer ignores PAT, or one layer is WB (WB
 * is the identity of Table 11-7 as an outer type), or both are equal;
 * otherwise it uses UC with IPAT, the strongest type.
 */
static void tdp_ept_memtype(uint8_t mt1, bool ipat1, uint8_t mt0, bool ipat0, uint8_t *mt,
			    bool *ipat)
{
	/* UC- (PAT only) or a bad encoding from the backend: UC, never a misconfiguration. */
	if (!nest__ept_mt_valid(mt0))
		mt0 = NEST_MT_UC;
	if (ipat0) {
		*mt = mt0;
		*ipat = true;
	} else if (ipat1) {
		*mt = nest__mt_combine(mt0, mt1);
		*ipat = true;
	} else if (mt0 == NEST_MT_WB || mt0 == mt1) {
		*mt = mt1;
		*ipat = false;
	} else if (mt1 == NEST_MT_WB) {
		*mt = mt0;
		*ipat = false;
	} else {
		*mt = NEST_MT_UC;
		*ipat = true;
	}
}

static uint64_t tdp_ept_leaf(uint64_t hpa, unsigned level, uint32_t rights, uint8_t mt, bool ipat)
{
	uint64_t e = hpa | ((uint64_t)mt << EPT_MT_SHIFT) | EPT_A;

	if (rights & NEST_ACC_R)
		e |= EPT_R;
	if (rights & NEST_ACC_W)
		e |= EPT_W | EPT_D;
	if (rights & NEST_ACC_X)
		e |= EPT_X;
	if (rights & NEST_ACC_UX)
		e |= EPT_UX;
	if (ipat)
		e |= EPT_IPAT;
	if (level > 1)
		e |= EPT_PS;
	return e;
}

static uint64_t tdp_npt_leaf(uint64_t hpa, unsigned level, uint32_t rights, uint8_t pat_index)
{
	uint64_t e = hpa | X86_PTE_P | X86_PTE_US | X86_PTE_A;

	if (rights & NEST_ACC_W)
		e |= X86_PTE_RW | X86_PTE_D;
	if (!(rights & NEST_ACC_X))
		e |= X86_PTE_NX;
	if (pat_index & 1)
		e |= X86_PTE_PWT;
	if (pat_index & 2)
		e |= X86_PTE_PCD;
	if (pat_index & 4)
		e |= level > 1 ? X86_PTE_PAT_LARGE : X86_PTE_PAT;
	if (level > 1)
		e |= X86_PTE_PS;
	return e;
}

/* ---- installing ---- */

struct tdp_install {
	uint64_t l2_gpa;
	uint64_t l1_gpa; /* exact L1-physical address l2_gpa led to */
	uint64_t hpa;	 /* exact host address of l1_gpa */
	unsigned shift;	 /* largest page both layers allow */
	uint32_t rights;
	uint8_t mt, pat_index;
	bool ipat;
	bool watched; /* W taken away because the page is watched */
};

/* The shadow leaf of @in's memory type at @level for @hpa with @rights,
 * in the format of a root of @kind. */
static uint64_t tdp_leaf_entry(unsigned kind, uint64_t hpa, unsigned level, uint32_t rights,
			       const struct tdp_install *in)
{
	return kind == NEST_TDP_EPT ? tdp_ept_leaf(hpa, level, rights, in->mt, in->ipat)
				    : tdp_npt_leaf(hpa, level, rights, in->pat_index);
}

/* Make sure `need` more pages can be allocated for root `r`. */
static void tdp_make_room(struct nest_tdp *t, unsigned r, unsigned need)
{
	while (t->pages_in_use + need > t->max_pages && tdp_reclaim_one(t, (int)r))
		;
	if (t->pages_in_use + need > t->max_pages) {
		tdp_root_zap(t, r, true);
		t->st.reclaims++;
	}
	while (t->pages_in_use + need > t->max_pages && tdp_zap_largest(t))
		;
}

static int tdp_install(struct nest_tdp *t, unsigned r, const struct tdp_install *in,
		       uint64_t *hpa_out, unsigned *shift_out)
{
	struct tdp_root *rt = &t->roots[r];
	struct tdp_page *pg = &t->pages[rt->page - 1];
	unsigned level = rt->levels, target = 1, shift;
	uint64_t e, newe, mask, hpa;
	uint32_t idx;
	int rc;

	if (in->shift >= PG_SHIFT_1G)
		target = 3;
	else if (in->shift >= PG_SHIFT_2M)
		target = 2;
	if (in->l2_gpa >> (pg_level_shift(rt->levels) + PG_LEVEL_BITS))
		return NEST_E_RANGE;
	tdp_make_room(t, r, rt->levels - target);
	pg = &t->pages[rt->page - 1];
	for (;; level--) {
		idx = (uint32_t)((in->l2_gpa >> pg_level_shift(level)) & (PG_ENTRIES - 1));
		e = ent_load(&pg->hva[idx]);
		if (level <= target && !(tdp_present(rt->kind, e) && !tdp_is_leaf(level, e)))
			break;
		if (level == 1)
			break;
		if (tdp_present(rt->kind, e) && !tdp_is_leaf(level, e)) {
			uint32_t c = tdp_lookup(t, tdp_entry_addr(e));

			if (c == TDP_NONE || t->pages[c - 1].root != r)
				return NEST_E_BACKEND; /* cannot happen: our own tables */
			pg = &t->pages[c - 1];
			continue;
		}
		if (tdp_present(rt->kind, e)) {
			/* A larger leaf where a table is needed: drop it first. */
			ent_replace(&pg->hva[idx], 0);
			rmap_del_slot(t, tdp_page_index(t, pg), idx);
			tdp_root_flush(t, rt);
		}
		{
			uint32_t c = tdp_page_new(t, r, level - 1, &rc);
			struct tdp_page *child;

			if (c == TDP_NONE)
				return rc;
			child = &t->pages[c - 1];
			child->next = rt->pages;
			rt->pages = c;
			ent_store(&pg->hva[idx], tdp_table_entry(rt->kind, child->hpa));
			pg = child;
		}
	}
	shift = pg_level_shift(level);
	mask = (1ull << shift) - 1;
	hpa = in->hpa - (in->l1_gpa & mask);
	if (hpa & mask)
		return NEST_E_BACKEND; /* L0's map is not aligned as it claimed */
	newe = tdp_leaf_entry(rt->kind, hpa, level, in->rights, in);
	e = ent_replace(&pg->hva[idx], newe);
	if (tdp_present(rt->kind, e))
		rmap_del_slot(t, tdp_page_index(t, pg), idx);
	rmap_add(t, tdp_page_index(t, pg), idx, in->l1_gpa & ~mask, level - 1);
	if (tdp_present(rt->kind, e) &&
	    (tdp_entry_addr(e) != tdp_entry_addr(newe) || (e & ~newe & (EPT_RWX | EPT_UX))))
		tdp_root_flush(t, rt);
	if ((in->l1_gpa & ~mask) < pg->l1_lo)
		pg->l1_lo = in->l1_gpa & ~mask;
	if ((in->l1_gpa | mask) + 1 > pg->l1_hi)
		pg->l1_hi = (in->l1_gpa | mask) + 1;
	*hpa_out = hpa | (in->l2_gpa & mask);
	*shift_out = shift;
	return NEST_OK;
}

/* ---- faults ---- */

/* @access: the access as L1's EPT sees it (tdp_ept_access()). */
static void tdp_reflect_ept(const struct nest_tdp_fault_in *in, uint32_t access,
			    const struct nest_walk_result *w, bool mbec,
			    struct nest_tdp_fault_out *out)
{
	uint64_t q = 0;

	if (access & NEST_ACC_R)
		q |= NEST_EPT_QUAL_READ;
	if (access & NEST_ACC_W)
		q |= NEST_EPT_QUAL_WRITE;
	if (access & (NEST_ACC_X | NEST_ACC_UX))
		q |= NEST_EPT_QUAL_FETCH;
	if (w->rights & NEST_ACC_R)
		q |= NEST_EPT_QUAL_READABLE;
	if (w->rights & NEST_ACC_W)
		q |= NEST_EPT_QUAL_WRITABLE;
	if (w->rights & NEST_ACC_X)
		q |= NEST_EPT_QUAL_EXECUTABLE;
	if (mbec && (w->rights & NEST_ACC_UX))
		q |= NEST_EPT_QUAL_USER_EXEC;
	if (in->flags & NEST_TDP_F_GLA_VALID) {
		q |= NEST_EPT_QUAL_GLA_VALID;
		if (in->flags & NEST_TDP_F_FINAL)
			q |= NEST_EPT_QUAL_GLA_FINAL;
		out->gla = in->gla;
	}
	out->kind = NEST_TDP_REFLECT;
	out->exit_qual = q;
	out->gpa = in->l2_gpa;
}

/*
 * The access of an EPT fault as L1's EPT sees it. With its accessed and
 * dirty flags on (EPTP bit 6), the processor's accesses to guest
 * paging-structure entries (a linear address, bit 8 of the qualification
 * clear) are writes for EPT (SDM 29.3.3.2), and an EPT violation one causes
 * sets both bit 0 and bit 1 of the exit qualification (SDM 28.2.1, the
 * qualification's table). The processor under L0 may report only one of
 * them, or a read when EPT02 has no A/D flags: L1's table decides.
 */
static uint32_t tdp_ept_access(const struct tdp_root *rt, const struct nest_tdp_fault_in *in)
{
	if (rt->ad && (in->flags & NEST_TDP_F_GLA_VALID) && !(in->flags & NEST_TDP_F_FINAL))
		return in->access | NEST_ACC_R | NEST_ACC_W;
	return in->access;
}

/* Does the aligned L1 range of 2^shift bytes around @l1 hold a watched page? */
static bool tdp_watched(const struct nest_tdp *t, uint64_t l1, unsigned shift)
{
	uint64_t lo = l1 & ~((1ull << shift) - 1);
	uint32_t i;

	for (i = 0; i < t->n_watched; i++)
		if (t->watched[i] - lo < (1ull << shift))
			return true;
	return false;
}

static void tdp_reflect_npt(const struct nest_tdp_fault_in *in, const struct nest_walk_result *w,
			    struct nest_tdp_fault_out *out)
{
	/* The #PF error code of the walk under L1's paging controls (APM
	 * 15.25.6): I/D only where a #PF would have it, that is with L1's
	 * EFER.NXE (PAE or long mode) or CR4.SMEP (SDM 4.7, APM 8.4.2). */
	uint64_t info = NEST_NPF_U | (w->pfec & (NEST_NPF_P | NEST_NPF_RSVD | NEST_NPF_ID));

	if (in->access & NEST_ACC_W)
		info |= NEST_NPF_W;
	info |= (in->flags & NEST_TDP_F_FINAL) ? NEST_NPF_FINAL : NEST_NPF_WALK;
	out->kind = NEST_TDP_REFLECT;
	out->exitinfo1 = info;
	out->exitinfo2 = in->l2_gpa;
	out->gpa = in->l2_gpa;
}

static void tdp_to_l0(struct nest_tdp_fault_out *out, uint64_t l1_gpa, uint32_t access)
{
	out->kind = NEST_TDP_L0;
	out->l1_gpa = l1_gpa;
	out->l0_access = access;
}

static unsigned tdp_min(unsigned a, unsigned b)
{
	return a < b ? a : b;
}

/* The rights L0's map of an L1 page grants; an L0 that does not tell
 * user-mode execute apart grants it with X. */
static uint32_t tdp_l0_rights(const struct nest_l0_map *m)
{
	uint32_t r = m->rights & (NEST_ACC_R | NEST_ACC_W | NEST_ACC_X | NEST_ACC_UX);

	if (!(m->rights & NEST_ACC_UX) && (m->rights & NEST_ACC_X))
		r |= NEST_ACC_UX;
	return r;
}

/*
 * The shadow leaf for a successful walk @w of root @rt over L0's mapping
 * @m of its target: rights, largest page size and memory type, everything
 * but the L2 address. The fault path installs it; a sync compares the
 * leaves it keeps with it, so both build the same entry from the same
 * tables.
 */
static void tdp_plan(const struct nest_tdp *t, const struct tdp_root *rt,
		     const struct nest_walk_result *w, const struct nest_l0_map *m,
		     struct tdp_install *ins)
{
	uint32_t l0_rights = tdp_l0_rights(m), l1_rights;
	unsigned s0, shift;

	nest__memset(ins, 0, sizeof(*ins));
	l1_rights = w->rights & (NEST_ACC_R | NEST_ACC_W | NEST_ACC_X | NEST_ACC_UX);
	if (rt->kind == NEST_TDP_NPT) {
		/* x86 rights: U/S is always 1 here; X means "not NX". Reads always allowed. */
		l1_rights |= NEST_ACC_R;
		if (!(rt->l1.efer & X86_EFER_NXE) ||
		    nest_x86_mode(rt->l1.cr0, rt->l1.cr4, rt->l1.efer) < NEST_X86_MODE_PAE)
			l1_rights |= NEST_ACC_X;
		l1_rights =
		    (l1_rights & ~NEST_ACC_UX) | ((l1_rights & NEST_ACC_X) ? NEST_ACC_UX : 0);
	}
	ins->rights = l1_rights & l0_rights;
	/* A watched page is mapped by a read-only 4 KiB entry (nest_tdp_watch_writes()). */
	if ((ins->rights & NEST_ACC_W) && tdp_watched(t, w->addr, PG_PAGE_SHIFT)) {
		ins->rights &= ~NEST_ACC_W;
		ins->watched = true;
	}
	/* Dirty tracking: until L1's leaf is dirty, writes must fault (SDM 29.3.5, APM 15.25.5). */
	if (rt->ad && !w->dirty)
		ins->rights &= ~NEST_ACC_W;
	/* Never build a write-only EPT02 entry (a misconfiguration for L0). */
	if (!(ins->rights & NEST_ACC_R))
		ins->rights &= ~NEST_ACC_W;
	s0 = m->page_shift;
	if (s0 != PG_SHIFT_2M && s0 != PG_SHIFT_1G)
		s0 = PG_PAGE_SHIFT;
	shift = tdp_min(tdp_min(w->page_shift, s0), t->cfg.max_page_shift);
	if (shift > PG_PAGE_SHIFT && (l1_rights & l0_rights & NEST_ACC_W) &&
	    tdp_watched(t, w->addr, shift))
		shift = PG_PAGE_SHIFT; /* keep the watched page's entry apart */
	ins->shift = shift;
	ins->l1_gpa = w->addr;
	ins->hpa = m->hpa;
	if (rt->kind == NEST_TDP_EPT)
		tdp_ept_memtype(w->memtype, w->ipat, m->memtype, m->ignore_pat != 0, &ins->mt,
				&ins->ipat);
	else
		ins->pat_index = m->memtype == NEST_MT_WB ? w->memtype : NPT_PAT_INDEX_UC;
}

/*
 * Walk L1's table of root @rt for @l2_gpa through @be, with @access and
 * @flags as for nest__ept_walk() / nest__x86_walk(); an NPT walk takes
 * L1's paging controls from @ctl.
 */
static void tdp_walk(const struct nest_tdp *t, const struct tdp_root *rt,
		     const struct nest_backend *be, const struct nest_tdp_l1_root *ctl,
		     uint64_t l2_gpa, uint32_t access, uint32_t flags, struct nest_walk_result *w)
{
	if (rt->kind == NEST_TDP_EPT) {
		struct nest_ept_config ec = {t->cfg.ept_vpid_cap, t->cfg.maxphyaddr, rt->mbec, {0}};

		nest__ept_walk(be, &ec, rt->l1.pointer, l2_gpa, access, flags, w);
	} else {
		struct nest_x86_config xc = {ctl->cr0, ctl->cr4, ctl->efer, t->cfg.maxphyaddr,
					     1, 1, {0}};

		nest__x86_walk(be, &xc, rt->l1.pointer, l2_gpa, access, flags, w);
	}
}

/*
 * The accessed/dirty update of an EPT walk @w (made without one) under
 * L1's page-modification log (SDM 29.3.6). Before it sets an accessed or
 * dirty flag the processor checks the PML index: above 511, a PML-full
 * event, the flags stay as they are and the access does not happen
 * (pml->full). Otherwise it sets the flags and, when it changed the
 * leaf's dirty flag from 0 to 1, writes the 4 KiB-aligned guest-physical
 * address (L2-physical) of the access at PML address + 8 * index and
 * decrements the index. A log write the backend refuses (an address
 * without L1 memory) loses that entry and leaves the index as it is
 * (docs/conformance-vmx.md, "Page-modification logging"). Returns
 * NEST_E_NOENT when L1 changed an entry meanwhile (the caller walks again;
 * nothing was logged).
 */
static int tdp_ept_pml_ad(const struct nest_tdp *t, struct nest_walk_result *w, uint32_t acc,
			  uint64_t l2_gpa, struct nest__tdp_pml *pml)
{
	uint64_t leaf = w->entry[w->level - 1], rec;
	bool set_d = (acc & NEST_ACC_W) && !(leaf & EPT_D), set_a = false;
	unsigned l;
	int rc;

	for (l = w->levels; l >= w->level; l--)
		if (!(w->entry[l - 1] & EPT_A))
			set_a = true;
	if (!set_a && !set_d)
		return NEST_OK;
	if (pml->index >= PML_ENTRIES) {
		pml->full = 1;
		return NEST_OK;
	}
	rc =
	    nest__pg_set_ad(&t->be, w, w->levels, w->level, sizeof(uint64_t), EPT_A, EPT_D, acc, 0);
	if (rc != NEST_OK || w->status != NEST_WALK_OK || !set_d)
		return rc;
	rec = l2_gpa & ~(PG_PAGE_SIZE - 1);
	if (nest__be_write(&t->be, pml->addr + (uint64_t)pml->index * PML_ENTRY_SIZE, &rec,
			   sizeof(rec)) != NEST_OK) {
		pml->lost = 1;
		return NEST_OK;
	}
	pml->index--;
	pml->logged = 1;
	return NEST_OK;
}

/* The walk of a fault: with L1's page-modification log on an EPT root with
 * A/D flags, a walk that sets nothing, then tdp_ept_pml_ad(); restarted as
 * nest__ept_walk() restarts when L1 changes an entry under it. */
static void tdp_fault_walk(const struct nest_tdp *t, const struct tdp_root *rt,
			   const struct nest_tdp_l1_root *l1, uint64_t l2_gpa, uint32_t acc,
			   struct nest__tdp_pml *pml, struct nest_walk_result *w)
{
	unsigned tries;

	if (pml == NULL || rt->kind != NEST_TDP_EPT || !rt->ad) {
		tdp_walk(t, rt, &t->be, l1, l2_gpa, acc, NEST_WALK_SET_AD, w);
		return;
	}
	for (tries = 0; tries < PG_WALK_RETRIES; tries++) {
		tdp_walk(t, rt, &t->be, l1, l2_gpa, acc, 0, w);
		if (w->status != NEST_WALK_OK ||
		    tdp_ept_pml_ad(t, w, acc, l2_gpa, pml) != NEST_E_NOENT)
			return;
	}
	w->status = NEST_WALK_RACE;
}

static int tdp_fault(struct nest_tdp *t, unsigned v, const struct nest_tdp_l1_root *l1,
		     const struct nest_tdp_fault_in *in, struct nest__tdp_pml *pml,
		     struct nest_tdp_fault_out *out)
{
	struct nest_walk_result w;
	struct nest_l0_map m;
	struct tdp_install ins;
	struct tdp_root *rt;
	uint32_t access, acc;
	unsigned shift = 0;
	bool hit;
	int r, rc;

	nest__memset(out, 0, sizeof(*out));
	r = tdp_get_root(t, v, l1, &hit);
	if (r < 0)
		return -r;
	rt = &t->roots[r];
	t->st.faults++;
	access = rt->kind == NEST_TDP_EPT ? tdp_ept_access(rt, in) : in->access;
	acc = access & (NEST_ACC_R | NEST_ACC_W | NEST_ACC_X);

	/* With MBEC a fetch by a user-mode linear address checks bit 10 (SDM 29.3.3.2). */
	if (rt->kind == NEST_TDP_EPT && (acc & NEST_ACC_X) && rt->mbec &&
	    (in->flags & NEST_TDP_F_USER))
		acc = (acc & ~NEST_ACC_X) | NEST_ACC_UX;
	/* L1's controls of this entry: a root is shared by every CR4 with the
	 * same paging mode and EFER.NXE, but CR4.SMEP still shapes the error
	 * code (the I/D bit) of a reflected fault. */
	tdp_fault_walk(t, rt, l1, in->l2_gpa, acc, pml, &w);
	if (pml != NULL && pml->full) {
		out->kind = NEST_TDP_RETRY;
		return NEST_OK;
	}

	switch (w.status) {
	case NEST_WALK_OK:
		break;
	case NEST_WALK_FAULT:
	case NEST_WALK_RSVD:
		if (rt->kind == NEST_TDP_EPT)
			tdp_reflect_ept(in, access, &w, rt->mbec, out);
		else
			tdp_reflect_npt(in, &w, out);
		t->st.reflected++;
		return NEST_OK;
	case NEST_WALK_MISCONFIG:
		out->kind = NEST_TDP_MISCONFIG;
		out->gpa = in->l2_gpa;
		t->st.misconfigs++;
		return NEST_OK;
	case NEST_WALK_RACE:
		out->kind = NEST_TDP_RETRY;
		return NEST_OK;
	case NEST_WALK_NO_MEMORY:
		/* L1's table lives where L0 maps nothing readable (or writable, for A/D). */
		tdp_to_l0(out, w.fault_addr, rt->ad ? NEST_ACC_R | NEST_ACC_W : NEST_ACC_R);
		t->st.l0_faults++;
		return NEST_OK;
	default:
		return NEST_E_INVAL;
	}

	nest__memset(&m, 0, sizeof(m));
	rc = nest__be_l1_to_host(&t->be, w.addr, &m);
	if (rc == NEST_E_NOT_MAPPED) {
		tdp_to_l0(out, w.addr, acc);
		t->st.l0_faults++;
		return NEST_OK;
	}
	if (rc != NEST_OK)
		return NEST_E_BACKEND;
	if (acc & ~tdp_l0_rights(&m)) {
		tdp_to_l0(out, w.addr, acc);
		t->st.l0_faults++;
		return NEST_OK;
	}
	tdp_plan(t, rt, &w, &m, &ins);
	/* A watched page: a write comes to the caller (nest_tdp_watch_writes()). */
	if (ins.watched && (acc & NEST_ACC_W)) {
		out->kind = NEST_TDP_WRITE_WATCHED;
		out->l1_gpa = w.addr;
		return NEST_OK;
	}
	ins.l2_gpa = in->l2_gpa;
	rc = tdp_install(t, (unsigned)r, &ins, &out->hpa, &shift);
	if (rc != NEST_OK)
		return rc;
	out->kind = NEST_TDP_FIXED;
	out->l1_gpa = w.addr;
	out->page_shift = (uint8_t)shift;
	t->st.fixed++;
	return NEST_OK;
}

int nest__tdp_fault_pml(struct nest_tdp *h, const struct nest_tdp_l1_root *l1,
			const struct nest_tdp_fault_in *in, struct nest__tdp_pml *pml,
			struct nest_tdp_fault_out *out)
{
	struct nest_tdp *t;
	unsigned v = 0;
	int rc;

	t = tdp_resolve(h, &v);
	if (t == NULL || l1 == NULL || in == NULL || out == NULL)
		return NEST_E_INVAL;
	if (pml != NULL) {
		pml->full = 0;
		pml->logged = 0;
		pml->lost = 0;
	}
	tdp_lock(t);
	rc = tdp_fault(t, v, l1, in, pml, out);
	tdp_unlock(t);
	return rc;
}

NEST_API int nest_tdp_fault(struct nest_tdp *h, const struct nest_tdp_l1_root *l1,
			    const struct nest_tdp_fault_in *in, struct nest_tdp_fault_out *out)
{
	return nest__tdp_fault_pml(h, l1, in, NULL, out);
}

/* ---- invalidation ---- */

static void tdp_map_changed(struct nest_tdp *t, uint64_t l1_gpa, uint64_t hi);

NEST_API int nest_tdp_watch_writes(struct nest_tdp *h, const uint64_t *l1_pages, unsigned n)
{
	struct nest_tdp *t;
	unsigned i, v;

	t = tdp_resolve(h, &v);
	if (t == NULL || n > NEST_TDP_MAX_WATCHED || (n && l1_pages == NULL))
		return NEST_E_INVAL;
	tdp_lock(t);
	t->n_watched = 0;
	for (i = 0; i < n; i++) {
		t->watched[i] = l1_pages[i] & ~(PG_PAGE_SIZE - 1);
		/* Entries built before may map it writable (or in a large page). */
		tdp_map_changed(t, t->watched[i], t->watched[i] + PG_PAGE_SIZE);
	}
	t->n_watched = n;
	tdp_unlock(t);
	return NEST_OK;
}

static void tdp_root_sync(struct nest_tdp *t, unsigned r);

/*
 * Drop (or sync) every root of L1's table @l1 names. INVEPT single-context
 * invalidates the mappings of EPTP bits 51:12 whatever its other bits (SDM
 * 30.3, INVEPT), so every root with that table address goes, whatever its
 * walk length, A/D or MBEC; an SVM flush of one nCR3 likewise drops it in
 * every paging mode. The shadow is shared by the vCPUs of the VM, so the
 * flush goes to every vCPU that loaded the root (more than the
 * architecture asks of INVEPT, which is local, never less).
 */
static int tdp_flush_l1_root(struct nest_tdp *h, const struct nest_tdp_l1_root *l1, bool sync)
{
	struct nest_tdp *t;
	uint64_t addr;
	unsigned r, v;

	t = tdp_resolve(h, &v);
	if (t == NULL || l1 == NULL || (l1->kind != NEST_TDP_EPT && l1->kind != NEST_TDP_NPT))
		return NEST_E_INVAL;
	addr = l1->pointer & pg_addr_mask(52);
	tdp_lock(t);
	for (r = 0; r < t->cfg.max_roots; r++) {
		const struct tdp_root *rt = &t->roots[r];

		if (!rt->valid || rt->kind != l1->kind)
			continue;
		if (l1->kind == NEST_TDP_EPT ? (rt->key_ptr & pg_addr_mask(52)) != addr
					     : (rt->l1.pointer & pg_addr_mask(52)) != addr)
			continue;
		if (sync) {
			tdp_root_sync(t, r);
		} else {
			tdp_root_zap(t, r, true);
			t->st.invalidations++;
		}
	}
	tdp_unlock(t);
	return NEST_OK;
}

NEST_API int nest_tdp_invalidate_root(struct nest_tdp *h, const struct nest_tdp_l1_root *l1)
{
	return tdp_flush_l1_root(h, l1, false);
}

NEST_API int nest_tdp_invalidate_all(struct nest_tdp *h)
{
	struct nest_tdp *t;
	unsigned r, v;

	t = tdp_resolve(h, &v);
	if (t == NULL)
		return NEST_E_INVAL;
	tdp_lock(t);
	for (r = 0; r < t->cfg.max_roots; r++)
		if (t->roots[r].valid) {
			tdp_root_zap(t, r, true);
			t->st.invalidations++;
		}
	tdp_unlock(t);
	return NEST_OK;
}

/* ---- sync: a flush that keeps what L1 did not change ---- */

/* Bounds of one sync: beyond them dropping the root is the cheaper answer. */
#define TDP_SYNC_MAX_LEAVES 512u
#define TDP_SYNC_MAX_PAGES 64u

/*
 * The entries one sync reads of L1's table: the leaves of one shadow table
 * share their upper entries, so each is read from L1 once per sync rather
 * than once per leaf. A sync is one snapshot of L1's table, taken at its
 * flush (an entry L1 changes meanwhile races with the flush itself).
 */
#define TDP_SYNC_CACHE 8u

struct tdp_sync {
	unsigned budget;
	uint64_t kept, dropped;
	const struct nest_backend *be; /* the caller's */
	struct nest_backend_ops ops;   /* read_l1 only: sync_read_l1 */
	struct nest_backend cbe;       /* what the sync's walks read through */
	uint64_t addr[TDP_SYNC_CACHE], val[TDP_SYNC_CACHE];
	uint8_t len[TDP_SYNC_CACHE];
	unsigned n, next;
};

static int sync_read_l1(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct tdp_sync *s = ctx;
	unsigned i;
	int rc;

	if (len != 4 && len != 8)
		return nest__be_read(s->be, gpa, buf, len);
	for (i = 0; i < s->n; i++)
		if (s->addr[i] == gpa && s->len[i] == len) {
			nest__memcpy(buf, &s->val[i], len);
			return NEST_OK;
		}
	rc = nest__be_read(s->be, gpa, buf, len);
	if (rc != NEST_OK)
		return rc;
	i = s->n < TDP_SYNC_CACHE ? s->n++ : s->next++ % TDP_SYNC_CACHE;
	s->addr[i] = gpa;
	s->len[i] = (uint8_t)len;
	s->val[i] = 0;
	nest__memcpy(&s->val[i], buf, len);
	return NEST_OK;
}

static void tdp_sync_start(struct nest_tdp *t, struct tdp_sync *s)
{
	nest__memset(s, 0, sizeof(*s));
	s->budget = TDP_SYNC_MAX_LEAVES;
	s->be = &t->be;
	s->ops.size = sizeof(s->ops);
	s->ops.read_l1 = sync_read_l1;
	s->cbe.ops = &s->ops;
	s->cbe.ctx = s;
}

/* Does every entry walk @w used already hold its accessed flag, so that
 * an access through the kept leaf owes L1 no A/D update (SDM 29.3.5, APM
 * 15.25.5)? The PAE PDPTEs of a legacy-mode nested table have none. */
static bool tdp_walk_accessed(const struct tdp_root *rt, const struct nest_walk_result *w)
{
	bool pae = rt->kind == NEST_TDP_NPT &&
		   nest_x86_mode(rt->l1.cr0, rt->l1.cr4, rt->l1.efer) == NEST_X86_MODE_PAE;
	uint64_t a = rt->kind == NEST_TDP_EPT ? EPT_A : X86_PTE_A;
	unsigned l;

	if (!rt->ad)
		return true;
	for (l = w->levels; l >= w->level && l >= 1; l--)
		if (!(pae && l == 3) && !(w->entry[l - 1] & a))
			return false;
	return true;
}

/*
 * Would a fault at @gpa now build leaf @e (at @level, recorded as mapping
 * L1 range @l1_base)? The walk reads L1's table without setting a flag; the
 * leaf stays only if its address, memory type and size are what L1's and
 * L0's tables give now, its rights no wider, and every flag the processor
 * would set on an access through it is set already.
 */
static bool tdp_leaf_current(struct nest_tdp *t, const struct tdp_root *rt,
			     const struct nest_backend *walk_be, uint64_t gpa, unsigned level,
			     uint64_t e, uint64_t l1_base)
{
	uint64_t mask = (1ull << pg_level_shift(level)) - 1, ign, want, hpa;
	struct nest_walk_result w;
	struct nest_l0_map m;
	struct tdp_install ins;

	tdp_walk(t, rt, walk_be, &rt->l1, gpa, 0, 0, &w);
	ign = rt->kind == NEST_TDP_EPT ? EPT_A | EPT_D : X86_PTE_A | X86_PTE_D;
	if (w.status != NEST_WALK_OK || !tdp_walk_accessed(rt, &w) ||
	    (w.addr & ~mask) != l1_base || (w.addr & mask))
		return false;
	nest__memset(&m, 0, sizeof(m));
	if (nest__be_l1_to_host(&t->be, w.addr, &m) != NEST_OK)
		return false;
	tdp_plan(t, rt, &w, &m, &ins);
	hpa = ins.hpa;
	if (ins.shift < pg_level_shift(level) || (hpa & mask))
		return false;
	/* The leaf may lack W that the plan grants (installed before L1's
	 * leaf was dirty): narrower is still exact, the next write faults. */
	want = tdp_leaf_entry(rt->kind, hpa, level, ins.rights, &ins);
	if (!((e ^ want) & ~ign))
		return true;
	want = tdp_leaf_entry(rt->kind, hpa, level, ins.rights & ~NEST_ACC_W, &ins);
	return !((e ^ want) & ~ign);
}

/* Sync the leaves of table @pg (at @level, mapping from @base) and of the
 * tables below it; false when the budget runs out or the reverse map is
 * incomplete (the caller then drops the root). */
static bool tdp_sync_table(struct nest_tdp *t, const struct tdp_root *rt, struct tdp_page *pg,
			   unsigned level, uint64_t base, struct tdp_sync *s)
{
	unsigned shift = pg_level_shift(level);
	uint32_t *link = &pg->rmap, guard = 0, i;

	if (pg->ovf)
		return false;
	/* Every leaf has its reverse-map entry, which knows its slot and its L1 range. */
	while (*link != TDP_NONE && guard++ <= PG_ENTRIES) {
		uint32_t k = *link;
		const struct tdp_rmap *rm = &t->rmaps[k - 1];
		uint64_t e = ent_load(&pg->hva[rm->slot]);

		if (s->budget == 0)
			return false;
		s->budget--;
		if (tdp_present(rt->kind, e) && tdp_is_leaf(level, e) &&
		    tdp_leaf_current(t, rt, &s->cbe, base + ((uint64_t)rm->slot << shift), level, e,
				     (rm->key >> 3) << PG_PAGE_SHIFT)) {
			s->kept++;
			link = &t->rmaps[k - 1].pnext;
			continue;
		}
		ent_replace(&pg->hva[rm->slot], 0);
		*link = rm->pnext;
		rmap_unhash_put(t, k);
		s->dropped++;
	}
	for (i = 0; level > 1 && i < PG_ENTRIES; i++) {
		uint64_t e = ent_load(&pg->hva[i]);
		uint32_t c;

		if (!tdp_present(rt->kind, e) || tdp_is_leaf(level, e))
			continue;
		c = tdp_lookup(t, tdp_entry_addr(e));
		if (c == TDP_NONE ||
		    !tdp_sync_table(t, rt, &t->pages[c - 1], level - 1, base + ((uint64_t)i << shift), s))
			return false;
	}
	return true;
}

/*
 * Sync root @r: keep the leaves that L1's and L0's tables still give, drop
 * the others; a root too large to re-read cheaply is dropped whole. Either
 * way the translations hardware may cache from the root are flushed, as
 * the invalidation that asked for the sync requires (combined mappings
 * included).
 */
static void tdp_root_sync(struct nest_tdp *t, unsigned r)
{
	struct tdp_root *rt = &t->roots[r];
	struct tdp_sync s;

	tdp_sync_start(t, &s);
	if (rt->npages > TDP_SYNC_MAX_PAGES ||
	    !tdp_sync_table(t, rt, &t->pages[rt->page - 1], rt->levels, 0, &s)) {
		tdp_root_zap(t, r, true);
		t->st.invalidations++;
		return;
	}
	t->st.sync_kept += s.kept;
	t->st.sync_dropped += s.dropped;
	tdp_root_flush(t, rt);
}

/* The roots nest_tdp_invalidate_root() would drop. */
NEST_API int nest_tdp_sync_root(struct nest_tdp *h, const struct nest_tdp_l1_root *l1)
{
	return tdp_flush_l1_root(h, l1, true);
}

/* Clear leaves of `pg` (a table at `level` mapping from `base`) that overlap [lo, hi]. */
static bool tdp_zap_range(struct nest_tdp *t, unsigned r, struct tdp_page *pg, unsigned level,
			  uint64_t base, uint64_t lo, uint64_t hi)
{
	unsigned shift = pg_level_shift(level), kind = t->roots[r].kind;
	uint64_t span = 1ull << shift;
	bool changed = false;
	uint32_t i;

	for (i = 0; i < PG_ENTRIES; i++) {
		uint64_t start = base + (uint64_t)i * span, end = start + (span - 1);
		uint64_t e = ent_load(&pg->hva[i]);

		if (end < lo || start > hi || !tdp_present(kind, e))
			continue;
		if (tdp_is_leaf(level, e)) {
			ent_replace(&pg->hva[i], 0);
			rmap_del_slot(t, tdp_page_index(t, pg), i);
			changed = true;
		} else {
			uint32_t c = tdp_lookup(t, tdp_entry_addr(e));

			if (c != TDP_NONE && level > 1)
				changed |=
				    tdp_zap_range(t, r, &t->pages[c - 1], level - 1, start, lo, hi);
		}
	}
	return changed;
}

NEST_API int nest_tdp_invalidate_range(struct nest_tdp *h, const struct nest_tdp_l1_root *l1,
				       uint64_t l2_gpa, uint64_t len)
{
	struct nest_tdp *t;
	struct tdp_key k;
	uint64_t hi;
	unsigned v;
	int r;

	t = tdp_resolve(h, &v);
	if (t == NULL || tdp_make_key(t, l1, &k) != NEST_OK)
		return NEST_E_INVAL;
	if (len == 0)
		return NEST_OK;
	hi = l2_gpa + (len - 1) < l2_gpa ? ~0ull : l2_gpa + (len - 1);
	tdp_lock(t);
	r = tdp_find(t, v, &k);
	if (r >= 0 && tdp_zap_range(t, (unsigned)r, &t->pages[t->roots[r].page - 1],
				    t->roots[r].levels, 0, l2_gpa, hi)) {
		tdp_root_flush(t, &t->roots[r]);
		t->st.invalidations++;
	}
	tdp_unlock(t);
	return NEST_OK;
}

/* The pool scan: clear every leaf of each page whose L1 range meets [lo, hi). */
static void tdp_map_scan(struct nest_tdp *t, uint64_t lo, uint64_t hi, uint8_t *dirty)
{
	uint32_t i, j;

	for (i = 0; i < t->max_pages; i++) {
		struct tdp_page *pg = &t->pages[i];

		if (!pg->used || pg->l1_lo >= pg->l1_hi || pg->l1_hi <= lo || pg->l1_lo >= hi)
			continue;
		for (j = 0; j < PG_ENTRIES; j++) {
			uint64_t e = ent_load(&pg->hva[j]);

			if (tdp_present(t->roots[pg->root].kind, e) && tdp_is_leaf(pg->level, e))
				ent_replace(&pg->hva[j], 0);
		}
		rmap_del_page(t, i + 1);
		pg->l1_lo = ~0ull;
		pg->l1_hi = 0;
		dirty[pg->root] = 1;
	}
}

/* Clear the leaves the reverse map lists under `key`. */
static void tdp_map_probe(struct nest_tdp *t, uint64_t key, uint8_t *dirty)
{
	uint32_t i = t->rbuckets[rmap_hash(t, key)], guard = 0;

	while (i != TDP_NONE && guard++ < t->rmap_n) {
		struct tdp_rmap *m = &t->rmaps[i - 1];
		uint32_t next = m->hnext;

		if (m->key == key) {
			struct tdp_page *pg = &t->pages[m->page - 1];
			uint32_t idx1 = m->page;
			unsigned slot = m->slot;

			ent_replace(&pg->hva[slot], 0);
			dirty[pg->root] = 1;
			rmap_del_slot(t, idx1, slot); /* m goes back to the free list */
		}
		i = next;
	}
}

/*
 * Every shadow leaf that maps into [l1_gpa, hi) goes. With the reverse map
 * (every leaf recorded) that is one probe per L1 page and size of leaf, so
 * the cost follows the range, not the pool; if some leaf found the map full,
 * or the range is wider than the pool, the pool is scanned instead (every
 * leaf of a page whose L1 range meets it is cleared: over-clearing is safe).
 */
static void tdp_map_changed(struct nest_tdp *t, uint64_t l1_gpa, uint64_t hi)
{
	uint8_t dirty[NEST_TDP_MAX_ROOTS];
	unsigned r, code;

	nest__memset(dirty, 0, sizeof(dirty));
	if (t->n_ovf || ((hi - l1_gpa) >> PG_PAGE_SHIFT) >= t->max_pages) {
		tdp_map_scan(t, l1_gpa, hi, dirty);
	} else {
		for (code = 0; code < 3; code++) {
			uint64_t size = 1ull << (PG_PAGE_SHIFT + PG_LEVEL_BITS * code);
			uint64_t b;

			for (b = l1_gpa & ~(size - 1); b < hi; b += size) {
				tdp_map_probe(t, RMAP_KEY(b, code), dirty);
				if (b + size < b)
					break;
			}
		}
	}
	for (r = 0; r < t->cfg.max_roots; r++)
		if (dirty[r] && t->roots[r].valid) {
			tdp_root_flush(t, &t->roots[r]);
			t->st.invalidations++;
		}
}

NEST_API int nest_tdp_l1_map_changed(struct nest_tdp *h, uint64_t l1_gpa, uint64_t len)
{
	struct nest_tdp *t;
	unsigned v;

	t = tdp_resolve(h, &v);
	if (t == NULL)
		return NEST_E_INVAL;
	if (len == 0)
		return NEST_OK;
	tdp_lock(t);
	tdp_map_changed(t, l1_gpa, l1_gpa + len < l1_gpa ? ~0ull : l1_gpa + len);
	tdp_unlock(t);
	return NEST_OK;
}

NEST_API int nest_tdp_get_stats(const struct nest_tdp *h, struct nest_tdp_stats *st)
{
	struct nest_tdp_stats cur;
	struct nest_tdp *t;
	unsigned v;

	t = tdp_resolve(h, &v);
	if (t == NULL || st == NULL)
		return NEST_E_INVAL;
	tdp_lock(t);
	cur = t->st;
	cur.pages_in_use = t->pages_in_use;
	cur.pages_max = t->max_pages;
	tdp_unlock(t);
	return nest__copy_out(st, &cur, sizeof(cur), sizeof(uint32_t) * 4);
}
