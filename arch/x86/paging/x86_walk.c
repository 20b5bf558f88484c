/* SPDX-License-Identifier: MIT */
/*
 * The x86 page walker (SDM chapter 4, APM 5): 32-bit paging with and
 * without PSE (and PSE-36), PAE, 4- and 5-level paging; access rights with
 * CR0.WP, EFER.NXE, CR4.SMEP and CR4.SMAP (SDM 4.6); reserved bits (SDM
 * 4.3-4.5); accessed and dirty flags (SDM 4.8). For AMD nested tables
 * (APM 15.25.5) every access is a user access. Reads each entry once.
 */
#include "paging.h"

/* The shape of a paging mode's table tree, as data. */
struct x86_mode_shape {
	uint8_t levels;	    /* number of levels */
	uint8_t width;	    /* bytes per entry */
	uint8_t index_bits; /* bits of index per level (the top level of PAE has 2) */
	uint8_t va_bits;    /* linear-address width translated */
};

static const struct x86_mode_shape x86_shapes[] = {
    [NEST_X86_MODE_NONE] = {0, 0, 0, 64},    [NEST_X86_MODE_32] = {2, 4, 10, 32},
    [NEST_X86_MODE_32_PSE] = {2, 4, 10, 32}, [NEST_X86_MODE_PAE] = {3, 8, 9, 32},
    [NEST_X86_MODE_LONG4] = {4, 8, 9, 48},   [NEST_X86_MODE_LONG5] = {5, 8, 9, 57},
};

NEST_API uint32_t nest_x86_mode(uint64_t cr0, uint64_t cr4, uint64_t efer)
{
	if (!(cr0 & X86_CR0_PG))
		return NEST_X86_MODE_NONE;
	if (efer & X86_EFER_LMA)
		return (cr4 & X86_CR4_LA57) ? NEST_X86_MODE_LONG5 : NEST_X86_MODE_LONG4;
	if (cr4 & X86_CR4_PAE)
		return NEST_X86_MODE_PAE;
	return (cr4 & X86_CR4_PSE) ? NEST_X86_MODE_32_PSE : NEST_X86_MODE_32;
}

/* The shift of the address bits indexed at `level`. */
static unsigned x86_level_shift(const struct x86_mode_shape *sh, unsigned level)
{
	return PG_PAGE_SHIFT + sh->index_bits * (level - 1);
}

/* Reserved bits of an entry (SDM 4.3 Table 4-4..4-6, 4.4 Tables 4-8..4-11,
 * 4.5 Tables 4-15..4-20). `leaf_large` is a PS = 1 entry above level 1. */
static bool x86_reserved(const struct nest_x86_config *cfg, uint32_t mode, unsigned level,
			 uint64_t e, bool large)
{
	bool nxe = (cfg->efer & X86_EFER_NXE) != 0;
	unsigned shift;

	if (mode == NEST_X86_MODE_32 || mode == NEST_X86_MODE_32_PSE) {
		if (!large)
			return false;
		/* 4 MiB page: bit 21 and PSE-36 bits beyond MAXPHYADDR (max 40). */
		if (e & X86_PSE_PDE_RSVD21)
			return true;
		if (cfg->maxphyaddr < 32 + X86_PSE36_BITS) {
			uint64_t hi = ((1ull << X86_PSE36_BITS) - 1) << X86_PSE36_SHIFT;
			uint64_t ok = ((1ull << (cfg->maxphyaddr - 32)) - 1) << X86_PSE36_SHIFT;
			return (e & hi & ~ok) != 0;
		}
		return false;
	}
	if (mode == NEST_X86_MODE_PAE && level == 3)
		return (e & (X86_PAE_PDPTE_RSVD | X86_PTE_NX | pg_rsvd_phys(cfg->maxphyaddr))) != 0;
	if (e & pg_rsvd_phys(cfg->maxphyaddr))
		return true;
	if (!nxe && (e & X86_PTE_NX))
		return true;
	if (e & X86_PTE_PS) {
		if (level >= 4)
			return true; /* PS is reserved in PML4E and PML5E */
		if (level == 3 && !cfg->gbpages)
			return true;
	}
	/* AMD reserves bit 8 (G in a leaf) of non-leaf PML4Es and PDPEs (APM
	 * Vol. 2 5.3.3, figures 5-18 and 5-19: MBZ); a nested walk is always
	 * AMD's. Intel ignores the bit (SDM 4.5 tables 4-15 and 4-17). */
	if (cfg->nested && level >= 3 && !large && (e & X86_PTE_G))
		return true;
	if (large) {
		shift = pg_level_shift(level);
		/* Bits shift-1:13 of a large-page address are reserved (bit 12 is PAT). */
		if (e & ((1ull << shift) - 1) & ~((PG_PAGE_SIZE << 1) - 1))
			return true;
	}
	return false;
}

/* The page address of a leaf. */
static uint64_t x86_leaf_addr(const struct nest_x86_config *cfg, uint32_t mode, uint64_t e,
			      unsigned shift)
{
	if (mode == NEST_X86_MODE_32 || mode == NEST_X86_MODE_32_PSE) {
		uint64_t lo = e & 0xfffff000ull;

		if (shift == PG_SHIFT_4M) {
			uint64_t hi = (e >> X86_PSE36_SHIFT) & ((1ull << X86_PSE36_BITS) - 1);
			return (lo & ~((1ull << PG_SHIFT_4M) - 1)) | (hi << 32);
		}
		return lo;
	}
	return e & pg_addr_mask(cfg->maxphyaddr) & ~((1ull << shift) - 1);
}

/* SDM 4.6: is `access` permitted by the accumulated rights? */
static bool x86_access_ok(const struct nest_x86_config *cfg, uint32_t mode, uint32_t rights,
			  uint32_t access, uint32_t flags)
{
	bool user = (access & NEST_ACC_U) != 0;
	bool user_page = (rights & NEST_ACC_U) != 0;
	bool long_or_pae = mode >= NEST_X86_MODE_PAE;

	if (user) {
		if (!user_page)
			return false;
		if ((access & NEST_ACC_W) && !(rights & NEST_ACC_W))
			return false;
	} else {
		if ((access & NEST_ACC_W) && !(rights & NEST_ACC_W) && (cfg->cr0 & X86_CR0_WP))
			return false;
		if ((access & NEST_ACC_X) && user_page && (cfg->cr4 & X86_CR4_SMEP))
			return false;
		if ((access & (NEST_ACC_R | NEST_ACC_W)) && user_page &&
		    (cfg->cr4 & X86_CR4_SMAP) && !(flags & NEST_WALK_SMAP_OFF))
			return false;
	}
	if ((access & NEST_ACC_X) && long_or_pae && (cfg->efer & X86_EFER_NXE) &&
	    !(rights & NEST_ACC_X))
		return false;
	return true;
}

/* The #PF error code of a failed access (SDM 4.7). */
static uint32_t x86_pfec(const struct nest_x86_config *cfg, uint32_t mode, uint32_t access,
			 bool present, bool rsvd)
{
	uint32_t ec = 0;

	if (present)
		ec |= X86_PFEC_P;
	if (access & NEST_ACC_W)
		ec |= X86_PFEC_W;
	if (access & NEST_ACC_U)
		ec |= X86_PFEC_U;
	if (rsvd)
		ec |= X86_PFEC_RSVD;
	if ((access & NEST_ACC_X) && ((mode >= NEST_X86_MODE_PAE && (cfg->efer & X86_EFER_NXE)) ||
				      (cfg->cr4 & X86_CR4_SMEP)))
		ec |= X86_PFEC_I;
	return ec;
}

static int x86_read_entry(const struct nest_backend *be, uint64_t ea, unsigned width, uint64_t *e)
{
	uint32_t v32;
	int rc;

	if (width == 4) {
		rc = nest__be_read(be, ea, &v32, sizeof(v32));
		*e = v32;
		return rc;
	}
	return nest__be_read(be, ea, e, sizeof(*e));
}

static void x86_fail(struct nest_walk_result *res, uint32_t status, uint32_t pfec)
{
	res->status = status;
	res->pfec = pfec;
}

static int x86_walk_once(const struct nest_backend *be, const struct nest_x86_config *cfg,
			 uint64_t cr3, uint64_t va, uint32_t access, uint32_t flags,
			 struct nest_walk_result *res)
{
	uint32_t mode = nest_x86_mode(cfg->cr0, cfg->cr4, cfg->efer);
	const struct x86_mode_shape *sh = &x86_shapes[mode];
	uint32_t rights = NEST_ACC_R | NEST_ACC_W | NEST_ACC_X | NEST_ACC_U;
	uint64_t table, e = 0;
	unsigned level, shift = PG_PAGE_SHIFT;
	bool pae = mode == NEST_X86_MODE_PAE;
	int rc;

	nest__memset(res, 0, sizeof(*res));
	if (cfg->nested)
		access |= NEST_ACC_U; /* APM 15.25.5: nested walks are user accesses */
	res->levels = sh->levels;
	res->ad = 1;
	if (mode == NEST_X86_MODE_NONE) {
		res->status = NEST_WALK_OK;
		res->rights = rights;
		res->addr = va;
		res->page_shift = PG_PAGE_SHIFT;
		return NEST_OK;
	}
	if (cfg->maxphyaddr < 32 || cfg->maxphyaddr > 52) {
		res->status = NEST_WALK_BAD_ROOT;
		return NEST_OK;
	}
	if ((va >> sh->va_bits) &&
	    (cfg->nested || !(mode >= NEST_X86_MODE_LONG4 && x86_is_canonical(va, sh->va_bits)))) {
		/* Outside the translated width (non-canonical is the caller's #GP). */
		x86_fail(res, NEST_WALK_FAULT, x86_pfec(cfg, mode, access, false, false));
		return NEST_OK;
	}
	if (pae)
		table = cr3 & X86_PAE_CR3_MASK;
	else if (sh->width == 4)
		table = cr3 & 0xfffff000ull;
	else
		table = cr3 & pg_addr_mask(cfg->maxphyaddr);

	for (level = sh->levels; level >= 1; level--) {
		unsigned bits = (pae && level == 3) ? 2 : sh->index_bits;
		uint64_t idx = (va >> x86_level_shift(sh, level)) & ((1ull << bits) - 1);
		uint64_t ea = table + idx * sh->width;
		bool large, pdpte = pae && level == 3;

		res->level = (uint8_t)level;
		rc = x86_read_entry(be, ea, sh->width, &e);
		if (rc != NEST_OK) {
			res->status = NEST_WALK_NO_MEMORY;
			res->fault_addr = ea;
			return NEST_OK;
		}
		res->entry[level - 1] = e;
		res->entry_addr[level - 1] = ea;
		if (!(e & X86_PTE_P)) {
			res->rights = rights;
			x86_fail(res, NEST_WALK_FAULT, x86_pfec(cfg, mode, access, false, false));
			return NEST_OK;
		}
		/* PS is honoured in PDEs (32-bit only with CR4.PSE) and PDPTEs. */
		large = level > 1 && !pdpte && (e & X86_PTE_PS) &&
			!(mode == NEST_X86_MODE_32 && level == 2) && level <= 3;
		if (x86_reserved(cfg, mode, level, e, large)) {
			res->rights = rights;
			x86_fail(res, NEST_WALK_RSVD, x86_pfec(cfg, mode, access, true, true));
			return NEST_OK;
		}
		if (!pdpte) {
			/* SDM 4.6: PAE PDPTEs carry no access rights. */
			if (!(e & X86_PTE_RW))
				rights &= ~NEST_ACC_W;
			if (!(e & X86_PTE_US))
				rights &= ~NEST_ACC_U;
			if ((e & X86_PTE_NX) && (cfg->efer & X86_EFER_NXE))
				rights &= ~NEST_ACC_X;
		}
		if (level == 1 || large) {
			shift = large ? (sh->width == 4 ? PG_SHIFT_4M : pg_level_shift(level))
				      : PG_PAGE_SHIFT;
			break;
		}
		table = sh->width == 4 ? (e & 0xfffff000ull) : (e & pg_addr_mask(cfg->maxphyaddr));
	}
	res->rights = rights;
	if (!x86_access_ok(cfg, mode, rights, access, flags)) {
		x86_fail(res, NEST_WALK_FAULT, x86_pfec(cfg, mode, access, true, false));
		return NEST_OK;
	}
	res->status = NEST_WALK_OK;
	res->page_shift = (uint8_t)shift;
	res->addr = x86_leaf_addr(cfg, mode, e, shift) | (va & ((1ull << shift) - 1));
	/* The PAT index of the leaf (SDM 11.12.3): PAT, PCD, PWT. */
	res->memtype =
	    (uint8_t)(((e & X86_PTE_PWT) ? 1 : 0) | ((e & X86_PTE_PCD) ? 2 : 0) |
		      ((e & (shift == PG_PAGE_SHIFT ? X86_PTE_PAT : X86_PTE_PAT_LARGE)) ? 4 : 0));
	res->dirty = (e & X86_PTE_D) != 0;
	/* SDM 4.8: every entry used gets A, but for the PAE PDPTEs (level 3),
	 * which have no accessed flag; the leaf gets D on a write. */
	if (flags & NEST_WALK_SET_AD)
		return nest__pg_set_ad(be, res, sh->levels, level, sh->width, X86_PTE_A, X86_PTE_D,
				       access, pae ? 1u << 3 : 0);
	return NEST_OK;
}

void nest__x86_walk(const struct nest_backend *be, const struct nest_x86_config *cfg, uint64_t cr3,
		    uint64_t va, uint32_t access, uint32_t flags, struct nest_walk_result *res)
{
	unsigned tries;

	for (tries = 0; tries < PG_WALK_RETRIES; tries++)
		if (x86_walk_once(be, cfg, cr3, va, access, flags, res) == NEST_OK)
			return;
	res->status = NEST_WALK_RACE;
	res->fault_addr = res->entry_addr[res->level ? res->level - 1 : 0];
}

NEST_API int nest_x86_walk(const struct nest_backend *be, const struct nest_x86_config *cfg,
			   uint64_t cr3, uint64_t va, uint32_t access, uint32_t flags,
			   struct nest_walk_result *res)
{
	if (be == NULL || be->ops == NULL || cfg == NULL || res == NULL)
		return NEST_E_INVAL;
	nest__x86_walk(be, cfg, cr3, va, access, flags, res);
	return NEST_OK;
}
