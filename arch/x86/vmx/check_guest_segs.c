/* SPDX-License-Identifier: MIT */
/*
 * VM-entry checks on the guest segment registers, descriptor-table
 * registers, RIP and RFLAGS (Intel SDM Vol. 3C 27.3.1.2 - 27.3.1.4;
 * 26.3.1.2 - 26.3.1.4 in editions before 2023). A failure is a VM-entry
 * failure with exit reason 33, qualification 0. The SDM groups the
 * segment checks by field (selector, base, limit, access rights) and
 * then by property; so does this file.
 */
#include "vmx/check.h"

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };

struct seg {
	uint64_t base;
	uint32_t limit, ar;
	uint16_t sel;
	uint32_t f_sel, f_base, f_limit, f_ar; /* VMCS encodings, for results */
};

#define SEG_INIT(s, NAME)                                                                          \
	(s) = (struct seg)                                                                         \
	{                                                                                          \
		v->GUEST_##NAME##_BASE, v->GUEST_##NAME##_LIMIT, v->GUEST_##NAME##_AR_BYTES,       \
		    v->GUEST_##NAME##_SELECTOR, NEST__F(GUEST_##NAME##_SELECTOR),                  \
		    NEST__F(GUEST_##NAME##_BASE), NEST__F(GUEST_##NAME##_LIMIT),                   \
		    NEST__F(GUEST_##NAME##_AR_BYTES)                                               \
	}

static void load_segs(const struct nest__vmcs12 *v, struct seg s[SEG_COUNT])
{
	SEG_INIT(s[SEG_ES], ES);
	SEG_INIT(s[SEG_CS], CS);
	SEG_INIT(s[SEG_SS], SS);
	SEG_INIT(s[SEG_DS], DS);
	SEG_INIT(s[SEG_FS], FS);
	SEG_INIT(s[SEG_GS], GS);
	SEG_INIT(s[SEG_LDTR], LDTR);
	SEG_INIT(s[SEG_TR], TR);
}

static bool usable(const struct seg *s)
{
	return !(s->ar & X86_SEG_UNUSABLE);
}

static unsigned type_of(const struct seg *s)
{
	return s->ar & X86_SEG_TYPE_MASK;
}

static unsigned dpl_of(const struct seg *s)
{
	return (s->ar & X86_SEG_DPL_MASK) >> X86_SEG_DPL_SHIFT;
}

/* Limit and granularity agree (SDM 27.3.1.2, "G" bullet). */
static bool g_ok(const struct seg *s)
{
	if ((s->limit & VMX_SEG_LIMIT_PAGE_LOW) != VMX_SEG_LIMIT_PAGE_LOW && (s->ar & X86_SEG_G))
		return false;
	if ((s->limit & VMX_SEG_LIMIT_HIGH) != 0 && !(s->ar & X86_SEG_G))
		return false;
	return true;
}

/* Selector fields. */
static int check_selectors(const struct nest__vmx_entry_ctx *c, const struct seg *s)
{
	NEST__CHECK(c, !(s[SEG_TR].sel & VMX_SELECTOR_TI), GUEST_TR_TI, s[SEG_TR].f_sel);
	if (usable(&s[SEG_LDTR]))
		NEST__CHECK(c, !(s[SEG_LDTR].sel & VMX_SELECTOR_TI), GUEST_LDTR_TI,
			    s[SEG_LDTR].f_sel);
	if (!c->v86 && !c->ug)
		NEST__CHECK(c,
			    (s[SEG_SS].sel & VMX_SELECTOR_RPL_MASK) ==
				(s[SEG_CS].sel & VMX_SELECTOR_RPL_MASK),
			    GUEST_SS_RPL, s[SEG_SS].f_sel);
	return 0;
}

/* Base-address fields. */
static int check_bases(const struct nest__vmx_entry_ctx *c, const struct seg *s)
{
	static const uint8_t canon[] = {SEG_TR, SEG_FS, SEG_GS, SEG_LDTR};
	static const uint8_t upper[] = {SEG_SS, SEG_DS, SEG_ES};
	unsigned i;

	if (c->v86)
		for (i = SEG_ES; i <= SEG_GS; i++)
			NEST__CHECK(c, s[i].base == (uint64_t)s[i].sel << VMX_SELECTOR_INDEX_SHIFT,
				    GUEST_V86_BASE, s[i].f_base);
	for (i = 0; i < NEST_ARRAY_SIZE(canon); i++) {
		const struct seg *x = &s[canon[i]];

		if (canon[i] == SEG_LDTR && !usable(x))
			continue;
		NEST__CHECK(c, x86_is_canonical(x->base, c->va_bits), GUEST_BASE_CANONICAL,
			    x->f_base);
	}
	NEST__CHECK(c, (s[SEG_CS].base & X86_HIGH32) == 0, GUEST_CS_BASE_UPPER, s[SEG_CS].f_base);
	for (i = 0; i < NEST_ARRAY_SIZE(upper); i++) {
		const struct seg *x = &s[upper[i]];

		if (usable(x))
			NEST__CHECK(c, (x->base & X86_HIGH32) == 0, GUEST_BASE_UPPER, x->f_base);
	}
	return 0;
}

/* Access rights of CS, SS, DS, ES, FS, GS outside virtual-8086 mode, one
 * bullet of SDM 27.3.1.2 after the other. */
static int check_code_data_ar(const struct nest__vmx_entry_ctx *c, const struct seg *s)
{
	static const uint8_t data[] = {SEG_DS, SEG_ES, SEG_FS, SEG_GS};
	static const uint8_t all[] = {SEG_CS, SEG_SS, SEG_DS, SEG_ES, SEG_FS, SEG_GS};
	const struct seg *cs = &s[SEG_CS], *ss = &s[SEG_SS];
	unsigned i, cs_type = type_of(cs);

	/* Type. */
	NEST__CHECK(c,
		    (cs_type & (X86_SEG_TYPE_CODE | X86_SEG_TYPE_ACCESSED)) ==
			    (X86_SEG_TYPE_CODE | X86_SEG_TYPE_ACCESSED) ||
			(c->ug && cs_type == VMX_SEG_TYPE_DATA_RW_ACCESSED),
		    GUEST_CS_TYPE, cs->f_ar);
	if (usable(ss))
		NEST__CHECK(c,
			    type_of(ss) == VMX_SEG_TYPE_DATA_RW_ACCESSED ||
				type_of(ss) == VMX_SEG_TYPE_DATA_RW_DOWN_ACCESSED,
			    GUEST_SS_TYPE, ss->f_ar);
	for (i = 0; i < NEST_ARRAY_SIZE(data); i++) {
		const struct seg *x = &s[data[i]];
		unsigned t = type_of(x);

		if (usable(x))
			NEST__CHECK(c,
				    (t & X86_SEG_TYPE_ACCESSED) &&
					(!(t & X86_SEG_TYPE_CODE) || (t & X86_SEG_TYPE_READABLE)),
				    GUEST_DATA_TYPE, x->f_ar);
	}
	/* S. */
	for (i = 0; i < NEST_ARRAY_SIZE(all); i++) {
		const struct seg *x = &s[all[i]];

		if (all[i] == SEG_CS || usable(x))
			NEST__CHECK(c, x->ar & X86_SEG_S, GUEST_SEG_S, x->f_ar);
	}
	/* DPL. */
	if (cs_type == VMX_SEG_TYPE_DATA_RW_ACCESSED)
		NEST__CHECK(c, dpl_of(cs) == 0, GUEST_CS_DPL, cs->f_ar);
	else if (cs_type <= VMX_SEG_TYPE_CODE_LAST_NONCONFORMING)
		NEST__CHECK(c, dpl_of(cs) == dpl_of(ss), GUEST_CS_DPL, cs->f_ar);
	else
		NEST__CHECK(c, dpl_of(cs) <= dpl_of(ss), GUEST_CS_DPL, cs->f_ar);
	if (!c->ug)
		NEST__CHECK(c, dpl_of(ss) == (ss->sel & VMX_SELECTOR_RPL_MASK), GUEST_SS_DPL,
			    ss->f_ar);
	if (cs_type == VMX_SEG_TYPE_DATA_RW_ACCESSED || !(c->v->GUEST_CR0 & X86_CR0_PE))
		NEST__CHECK(c, dpl_of(ss) == 0, GUEST_SS_DPL, ss->f_ar);
	for (i = 0; i < NEST_ARRAY_SIZE(data); i++) {
		const struct seg *x = &s[data[i]];

		if (!c->ug && usable(x) && type_of(x) <= VMX_SEG_TYPE_CODE_LAST_NONCONFORMING)
			NEST__CHECK(c, dpl_of(x) >= (x->sel & VMX_SELECTOR_RPL_MASK),
				    GUEST_DATA_DPL, x->f_ar);
	}
	/* P, reserved bits 11:8, D/B, G, reserved bits 31:17. */
	for (i = 0; i < NEST_ARRAY_SIZE(all); i++) {
		const struct seg *x = &s[all[i]];

		if (all[i] == SEG_CS || usable(x))
			NEST__CHECK(c, x->ar & X86_SEG_P, GUEST_SEG_P, x->f_ar);
	}
	for (i = 0; i < NEST_ARRAY_SIZE(all); i++) {
		const struct seg *x = &s[all[i]];

		if (all[i] == SEG_CS || usable(x))
			NEST__CHECK(c, (x->ar & VMX_SEG_AR_RESERVED_11_8) == 0,
				    GUEST_SEG_AR_RESERVED, x->f_ar);
	}
	if (c->ia32e_guest && (cs->ar & X86_SEG_L))
		NEST__CHECK(c, !(cs->ar & X86_SEG_DB), GUEST_CS_DB_WITH_L, cs->f_ar);
	for (i = 0; i < NEST_ARRAY_SIZE(all); i++) {
		const struct seg *x = &s[all[i]];

		if (all[i] == SEG_CS || usable(x))
			NEST__CHECK(c, g_ok(x), GUEST_SEG_G, x->f_ar);
	}
	for (i = 0; i < NEST_ARRAY_SIZE(all); i++) {
		const struct seg *x = &s[all[i]];

		if (all[i] == SEG_CS || usable(x))
			NEST__CHECK(c, (x->ar & VMX_SEG_AR_RESERVED_31_17) == 0,
				    GUEST_SEG_AR_RESERVED, x->f_ar);
	}
	return 0;
}

/* Access rights of TR, then LDTR (SDM 27.3.1.2). */
static int check_system_ar(const struct nest__vmx_entry_ctx *c, const struct seg *s)
{
	const struct seg *tr = &s[SEG_TR], *ldtr = &s[SEG_LDTR];
	unsigned t = type_of(tr);

	NEST__CHECK(c,
		    t == VMX_SEG_TYPE_TSS_BUSY || (!c->ia32e_guest && t == VMX_SEG_TYPE_TSS16_BUSY),
		    GUEST_TR_TYPE, tr->f_ar);
	NEST__CHECK(c, !(tr->ar & X86_SEG_S), GUEST_SYSTEM_SEG_S, tr->f_ar);
	NEST__CHECK(c, tr->ar & X86_SEG_P, GUEST_SEG_P, tr->f_ar);
	NEST__CHECK(c, (tr->ar & VMX_SEG_AR_RESERVED_11_8) == 0, GUEST_SEG_AR_RESERVED, tr->f_ar);
	NEST__CHECK(c, g_ok(tr), GUEST_SEG_G, tr->f_ar);
	NEST__CHECK(c, usable(tr), GUEST_TR_UNUSABLE, tr->f_ar);
	NEST__CHECK(c, (tr->ar & VMX_SEG_AR_RESERVED_31_17) == 0, GUEST_SEG_AR_RESERVED, tr->f_ar);
	if (!usable(ldtr))
		return 0;
	NEST__CHECK(c, type_of(ldtr) == VMX_SEG_TYPE_LDT, GUEST_LDTR_TYPE, ldtr->f_ar);
	NEST__CHECK(c, !(ldtr->ar & X86_SEG_S), GUEST_SYSTEM_SEG_S, ldtr->f_ar);
	NEST__CHECK(c, ldtr->ar & X86_SEG_P, GUEST_SEG_P, ldtr->f_ar);
	NEST__CHECK(c, (ldtr->ar & VMX_SEG_AR_RESERVED_11_8) == 0, GUEST_SEG_AR_RESERVED,
		    ldtr->f_ar);
	NEST__CHECK(c, g_ok(ldtr), GUEST_SEG_G, ldtr->f_ar);
	NEST__CHECK(c, (ldtr->ar & VMX_SEG_AR_RESERVED_31_17) == 0, GUEST_SEG_AR_RESERVED,
		    ldtr->f_ar);
	return 0;
}

/* SDM 27.3.1.2. */
static int check_segments(const struct nest__vmx_entry_ctx *c)
{
	struct seg s[SEG_COUNT];
	unsigned i;
	int r;

	load_segs(c->v, s);
	if ((r = check_selectors(c, s)) != 0)
		return r;
	if ((r = check_bases(c, s)) != 0)
		return r;
	if (c->v86) {
		for (i = SEG_ES; i <= SEG_GS; i++)
			NEST__CHECK(c, s[i].limit == VMX_SEG_V86_LIMIT, GUEST_V86_LIMIT,
				    s[i].f_limit);
		for (i = SEG_ES; i <= SEG_GS; i++)
			NEST__CHECK(c, s[i].ar == VMX_SEG_V86_AR, GUEST_V86_AR, s[i].f_ar);
	} else if ((r = check_code_data_ar(c, s)) != 0) {
		return r;
	}
	return check_system_ar(c, s);
}

/* SDM 27.3.1.3. */
static int check_descriptor_tables(const struct nest__vmx_entry_ctx *c)
{
	const struct nest__vmcs12 *v = c->v;

	NEST__CHECK(c, x86_is_canonical(v->GUEST_GDTR_BASE, c->va_bits), GUEST_DT_BASE_CANONICAL,
		    NEST__F(GUEST_GDTR_BASE));
	NEST__CHECK(c, x86_is_canonical(v->GUEST_IDTR_BASE, c->va_bits), GUEST_DT_BASE_CANONICAL,
		    NEST__F(GUEST_IDTR_BASE));
	NEST__CHECK(c, (v->GUEST_GDTR_LIMIT & VMX_DT_LIMIT_RESERVED) == 0, GUEST_DT_LIMIT,
		    NEST__F(GUEST_GDTR_LIMIT));
	NEST__CHECK(c, (v->GUEST_IDTR_LIMIT & VMX_DT_LIMIT_RESERVED) == 0, GUEST_DT_LIMIT,
		    NEST__F(GUEST_IDTR_LIMIT));
	return 0;
}

/* SDM 27.3.1.4. */
static int check_rip_rflags(const struct nest__vmx_entry_ctx *c)
{
	const struct nest__vmcs12 *v = c->v;
	uint64_t rflags = v->GUEST_RFLAGS;
	uint32_t info = v->VM_ENTRY_INTR_INFO_FIELD;

	if (!c->ia32e_guest || !(v->GUEST_CS_AR_BYTES & X86_SEG_L))
		NEST__CHECK(c, (v->GUEST_RIP & X86_HIGH32) == 0, GUEST_RIP_UPPER,
			    NEST__F(GUEST_RIP));
	else
		NEST__CHECK(c, x86_is_canonical(v->GUEST_RIP, c->va_bits), GUEST_RIP_CANONICAL,
			    NEST__F(GUEST_RIP));
	NEST__CHECK(c, (rflags & X86_RFLAGS_RESERVED_MASK) == X86_RFLAGS_FIXED1,
		    GUEST_RFLAGS_RESERVED, NEST__F(GUEST_RFLAGS));
	if (c->ia32e_guest || !(v->GUEST_CR0 & X86_CR0_PE))
		NEST__CHECK(c, !(rflags & X86_RFLAGS_VM), GUEST_RFLAGS_VM, NEST__F(GUEST_RFLAGS));
	if ((info & VMX_INTR_INFO_VALID) && ((info & VMX_INTR_INFO_TYPE_MASK) >>
					     VMX_INTR_INFO_TYPE_SHIFT) == VMX_INTR_TYPE_EXT_INTR)
		NEST__CHECK(c, rflags & X86_RFLAGS_IF, GUEST_RFLAGS_IF_FOR_EXT_INTR,
			    NEST__F(GUEST_RFLAGS));
	return 0;
}

int nest__vmx_check_guest_segs(const struct nest__vmx_entry_ctx *c)
{
	int r;

	if ((r = check_segments(c)) != 0)
		return r;
	if ((r = check_descriptor_tables(c)) != 0)
		return r;
	return check_rip_rflags(c);
}
