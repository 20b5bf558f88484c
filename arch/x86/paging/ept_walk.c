/* SPDX-License-Identifier: MIT */
/*
 * The EPT walker (SDM 29.3): 4- and 5-level tables, 2 MiB and 1 GiB pages,
 * execute-only translations and mode-based execute control, accessed and
 * dirty flags (SDM 29.3.5), misconfigurations (SDM 29.3.3.1) as the
 * capability MSR offered to L1 defines them. Reads each entry once.
 */
#include "paging.h"

#define EPT_MAX_LEVELS 5
#define EPT_MIN_LEVELS 4

/* SDM 26.2.1.1 (checks on EPTP at VM entry). */
NEST_API int nest_ept_eptp_valid(uint64_t eptp, const struct nest_ept_config *cfg)
{
	uint64_t caps, mt, levels;

	if (cfg == NULL || cfg->maxphyaddr < 32 || cfg->maxphyaddr > 52)
		return 0;
	caps = cfg->ept_vpid_cap;
	mt = eptp & EPTP_MT_MASK;
	if (!((mt == NEST_MT_UC && (caps & NEST_EPT_CAP_UC)) ||
	      (mt == NEST_MT_WB && (caps & NEST_EPT_CAP_WB))))
		return 0;
	levels = ((eptp & EPTP_PWL_MASK) >> EPTP_PWL_SHIFT) + 1;
	if (!((levels == 4 && (caps & NEST_EPT_CAP_PWL4)) ||
	      (levels == 5 && (caps & NEST_EPT_CAP_PWL5))))
		return 0;
	if ((eptp & EPTP_AD) && !(caps & NEST_EPT_CAP_AD))
		return 0;
	/* Supervisor shadow-stack control is not offered by libnest. */
	if (eptp & (EPTP_SSS | EPTP_RSVD_LOW))
		return 0;
	if (eptp & ~((1ull << cfg->maxphyaddr) - 1))
		return 0;
	return 1;
}

/* NEST_ACC_* rights that one EPT entry grants (before the AND over levels). */
static uint32_t ept_entry_rights(uint64_t e, bool mbec)
{
	uint32_t r = 0;

	if (e & EPT_R)
		r |= NEST_ACC_R;
	if (e & EPT_W)
		r |= NEST_ACC_W;
	if (e & EPT_X)
		r |= NEST_ACC_X;
	/* Without MBEC, bit 2 controls every fetch (SDM 29.3.3.2). */
	if (mbec ? (e & EPT_UX) != 0 : (e & EPT_X) != 0)
		r |= NEST_ACC_UX;
	return r;
}

/* Is a present entry misconfigured (SDM 29.3.3.1)? `leaf` tells whether it maps a page. */
static bool ept_misconfigured(uint64_t e, unsigned level, bool leaf,
			      const struct nest_ept_config *cfg)
{
	uint64_t caps = cfg->ept_vpid_cap;
	bool r = e & EPT_R, w = e & EPT_W;
	bool x = (e & EPT_X) || (cfg->mbec && (e & EPT_UX));

	if (w && !r)
		return true;
	if (x && !r && !w && !(caps & NEST_EPT_CAP_EXEC_ONLY))
		return true;
	if (e & pg_rsvd_phys(cfg->maxphyaddr))
		return true;
	if (!leaf)
		return (e & EPT_NONLEAF_RSVD) != 0;
	if (!nest__ept_mt_valid((uint8_t)((e & EPT_MT_MASK) >> EPT_MT_SHIFT)))
		return true;
	if (level > 1) {
		unsigned shift = pg_level_shift(level);
		/* Address bits below the page size are reserved in large pages. */
		if (e & ((1ull << shift) - 1) & ~(PG_PAGE_SIZE - 1))
			return true;
	}
	return false;
}

/* May the leaf at `level` have PS = 1 (SDM 29.3.2: PML4E/PML5E never)? */
static bool ept_large_allowed(unsigned level, uint64_t caps)
{
	if (level == 2)
		return (caps & NEST_EPT_CAP_2M) != 0;
	if (level == 3)
		return (caps & NEST_EPT_CAP_1G) != 0;
	return false;
}

static bool ept_access_ok(uint32_t rights, uint32_t access)
{
	return (rights & access) == access;
}

/* One pass of the walk; returns NEST_E_NOENT when an A/D update raced with L1. */
static int ept_walk_once(const struct nest_backend *be, const struct nest_ept_config *cfg,
			 uint64_t eptp, uint64_t gpa, uint32_t access, uint32_t flags,
			 struct nest_walk_result *res)
{
	uint64_t amask = pg_addr_mask(cfg->maxphyaddr);
	uint64_t table = eptp & amask, e = 0;
	unsigned levels = (unsigned)((eptp & EPTP_PWL_MASK) >> EPTP_PWL_SHIFT) + 1;
	uint32_t rights = NEST_ACC_R | NEST_ACC_W | NEST_ACC_X | NEST_ACC_UX;
	bool ad = (eptp & EPTP_AD) && (cfg->ept_vpid_cap & NEST_EPT_CAP_AD);
	unsigned level, shift = PG_PAGE_SHIFT;
	int rc;

	nest__memset(res, 0, sizeof(*res));
	res->levels = (uint8_t)levels;
	res->ad = ad;
	if (!nest_ept_eptp_valid(eptp, cfg)) {
		res->status = NEST_WALK_BAD_ROOT;
		res->rights = 0;
		return NEST_OK;
	}
	/* An L2-physical address wider than the walk cannot be translated. */
	if (gpa >> (pg_level_shift(levels) + PG_LEVEL_BITS)) {
		res->status = NEST_WALK_FAULT;
		res->rights = 0;
		return NEST_OK;
	}
	for (level = levels; level >= 1; level--) {
		uint64_t idx = (gpa >> pg_level_shift(level)) & (PG_ENTRIES - 1);
		uint64_t ea = table + idx * sizeof(uint64_t);
		bool present, leaf;

		res->level = (uint8_t)level;
		rc = nest__be_read(be, ea, &e, sizeof(e));
		if (rc != NEST_OK) {
			res->status = NEST_WALK_NO_MEMORY;
			res->fault_addr = ea;
			res->rights = 0;
			return NEST_OK;
		}
		res->entry[level - 1] = e;
		res->entry_addr[level - 1] = ea;
		rights &= ept_entry_rights(e, cfg->mbec);
		present = (e & EPT_RWX) || (cfg->mbec && (e & EPT_UX));
		if (!present) {
			res->status = NEST_WALK_FAULT;
			res->rights = rights;
			return NEST_OK;
		}
		if ((e & EPT_PS) && level > 1 && !ept_large_allowed(level, cfg->ept_vpid_cap)) {
			res->status = NEST_WALK_MISCONFIG;
			res->rights = rights;
			return NEST_OK;
		}
		leaf = level == 1 || (e & EPT_PS);
		if (ept_misconfigured(e, level, leaf, cfg)) {
			res->status = NEST_WALK_MISCONFIG;
			res->rights = rights;
			return NEST_OK;
		}
		if (leaf) {
			shift = pg_level_shift(level);
			break;
		}
		table = e & amask;
	}
	res->rights = rights;
	if (!ept_access_ok(rights, access)) {
		res->status = NEST_WALK_FAULT;
		return NEST_OK;
	}
	res->status = NEST_WALK_OK;
	res->page_shift = (uint8_t)shift;
	res->addr = (e & amask & ~((1ull << shift) - 1)) | (gpa & ((1ull << shift) - 1));
	res->memtype = (uint8_t)((e & EPT_MT_MASK) >> EPT_MT_SHIFT);
	res->ipat = (e & EPT_IPAT) != 0;
	res->dirty = ad && (e & EPT_D);
	/* SDM 29.3.5: every entry used gets A; the leaf gets D on a write. */
	if (ad && (flags & NEST_WALK_SET_AD))
		return nest__pg_set_ad(be, res, levels, level, sizeof(e), EPT_A, EPT_D, access, 0);
	return NEST_OK;
}

void nest__ept_walk(const struct nest_backend *be, const struct nest_ept_config *cfg, uint64_t eptp,
		    uint64_t gpa, uint32_t access, uint32_t flags, struct nest_walk_result *res)
{
	unsigned tries;

	/* Bounded: L1 rewriting an entry between our read and our A/D update
	 * restarts the walk a few times, then reports the race. */
	for (tries = 0; tries < PG_WALK_RETRIES; tries++)
		if (ept_walk_once(be, cfg, eptp, gpa, access, flags, res) == NEST_OK)
			return;
	res->status = NEST_WALK_RACE;
	res->fault_addr = res->entry_addr[res->level ? res->level - 1 : 0];
}

NEST_API int nest_ept_walk(const struct nest_backend *be, const struct nest_ept_config *cfg,
			   uint64_t eptp, uint64_t gpa, uint32_t access, uint32_t flags,
			   struct nest_walk_result *res)
{
	if (be == NULL || be->ops == NULL || cfg == NULL || res == NULL)
		return NEST_E_INVAL;
	nest__ept_walk(be, cfg, eptp, gpa, access, flags, res);
	return NEST_OK;
}
