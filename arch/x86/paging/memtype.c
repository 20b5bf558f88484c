/* SPDX-License-Identifier: MIT */
/*
 * Memory types: the MTRR x PAT combination of SDM 11.5.2.2 (Table 11-7),
 * which SDM 29.3.7.2 also applies to an EPT memory type combined with the
 * PAT type of the guest (when IPAT = 0), and helpers shared by the walkers.
 */
#include "paging.h"

#define UC NEST_MT_UC
#define WC NEST_MT_WC
#define WT NEST_MT_WT
#define WP NEST_MT_WP
#define WB NEST_MT_WB
#define UCM NEST_MT_UC_MINUS
#define BAD 0xff /* reserved encoding (2, 3) */

/* Rows: the outer (MTRR or EPT) type; columns: the inner (PAT) type, both
 * by encoding. Implementation-defined cells of Table 11-7 are UC (the
 * combination the table's notes recommend treating as strongest). */
/* clang-format off */
static const uint8_t mt_table[8][8] = {
	/*            UC  WC   -    -    WT  WP  WB  UC- */
	[UC] = { UC, WC, BAD, BAD, UC, UC, UC, UC },
	[WC] = { UC, WC, BAD, BAD, UC, UC, WC, WC },
	[2] = { BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD },
	[3] = { BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD },
	[WT] = { UC, WC, BAD, BAD, WT, WP, WT, UC },
	[WP] = { UC, WC, BAD, BAD, UC, WP, WP, WC },
	[WB] = { UC, WC, BAD, BAD, WT, WP, WB, UC },
	[UCM] = { BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD },
};
/* clang-format on */

uint8_t nest__mt_combine(uint8_t outer, uint8_t inner)
{
	uint8_t r;

	if (outer > 7 || inner > 7)
		return NEST_MT_UC;
	r = mt_table[outer][inner];
	return r == BAD ? NEST_MT_UC : r;
}

bool nest__ept_mt_valid(uint8_t mt)
{
	return mt == UC || mt == WC || mt == WT || mt == WP || mt == WB;
}

int nest__pg_set_bits(const struct nest_backend *be, uint64_t addr, unsigned width, uint64_t old,
		      uint64_t bits)
{
	uint64_t word_addr = addr & ~7ull, expect, desired, actual, cur;
	unsigned shift = (unsigned)(addr & 7) * 8;
	uint64_t mask = width == 8 ? ~0ull : 0xffffffffull;
	int rc;

	if ((old | bits) == old)
		return NEST_OK;
	if (width == 8) {
		expect = old;
		desired = old | bits;
	} else {
		/* A 4-byte entry (32-bit paging): exchange the aligned quadword
		 * that holds it, keeping the neighbour as read. */
		rc = nest__be_read(be, word_addr, &cur, sizeof(cur));
		if (rc != NEST_OK)
			return rc;
		if (((cur >> shift) & mask) != (old & mask))
			return NEST_E_NOENT;
		expect = cur;
		desired = cur | ((bits & mask) << shift);
	}
	rc = nest__be_cmpxchg(be, word_addr, expect, desired, &actual);
	if (rc != NEST_OK)
		return rc;
	return actual == expect ? NEST_OK : NEST_E_NOENT;
}
