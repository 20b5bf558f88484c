/* SPDX-License-Identifier: MIT */
/*
 * Moving VMCS fields between libnest's images and the hardware VMCSs
 * through the backend (see sync.h). The context's field lists are built
 * once from the fields the processor under L0 has (hwfields.c), so the
 * loops below touch only fields that exist and that the copy concerns.
 */
#include "vmx/sync.h"

#include "vmx/context.h"
#include "vmx/hwfields.h"
#include "vmx/reflect.h"

_Static_assert(sizeof(struct nest__vmcs12) % NEST__VMX_IMG_WORD == 0,
	       "vmcs12 image is whole words");
_Static_assert(NEST__VF_COUNT <= UINT16_MAX, "field positions fit a list entry");

/* The value of field `i` (table position) in an image, zero-extended. */
static inline uint64_t img_field(const struct nest__vmcs12 *img, unsigned i)
{
	const struct nest_vmcs_field *f = &nest__vmcs_fields[i];
	const uint8_t *p = (const uint8_t *)img + f->offset;
	uint16_t w16;
	uint32_t w32;
	uint64_t w64;

	switch (f->width) {
	case NEST_VMCS_W16:
		nest__memcpy(&w16, p, sizeof(w16));
		return w16;
	case NEST_VMCS_W32:
		nest__memcpy(&w32, p, sizeof(w32));
		return w32;
	default:
		nest__memcpy(&w64, p, sizeof(w64));
		return w64;
	}
}

static bool field_differs(const struct nest__vmcs12 *a, const struct nest__vmcs12 *b, unsigned i)
{
	return img_field(a, i) != img_field(b, i);
}

/* Field `i` of an image by its table entry (no lookup by encoding). */
static void img_set(struct nest__vmcs12 *img, unsigned i, uint64_t val)
{
	const struct nest_vmcs_field *f = &nest__vmcs_fields[i];
	uint8_t *p = (uint8_t *)img + f->offset;
	uint16_t w16 = (uint16_t)val;
	uint32_t w32 = (uint32_t)val;

	switch (f->width) {
	case NEST_VMCS_W16:
		nest__memcpy(p, &w16, sizeof(w16));
		break;
	case NEST_VMCS_W32:
		nest__memcpy(p, &w32, sizeof(w32));
		break;
	default:
		nest__memcpy(p, &val, sizeof(val));
		break;
	}
}

/* Guest-state fields that a reflected exit leaves in vmcs02 until L1
 * needs them (rare_stale). The link pointer is not guest state L2 changes. */
static bool rare_field(unsigned i)
{
	return nest__vmcs_fields[i].type == NEST_VMCS_T_GUEST && i != NEST__VF_VMCS_LINK_POINTER &&
	       !nest__vmx_per_exit_field(i);
}

static bool guest_field(unsigned i)
{
	return nest__vmcs_fields[i].type == NEST_VMCS_T_GUEST && i != NEST__VF_VMCS_LINK_POINTER &&
	       i != NEST__VF_VMX_PREEMPTION_TIMER_VALUE;
}

/* Per-exit guest state that the processor changes only under a control
 * vmcs02 may lack, or in one paging mode (read_cond()). The preemption
 * timer's value is no field of these lists: timer_remaining() (exit.c)
 * reads it at every exit while vmcs02's timer runs, and it does not
 * change otherwise. */
static bool cond_field(unsigned i)
{
	switch (i) {
	case NEST__VF_GUEST_PML_INDEX:
	case NEST__VF_GUEST_INTR_STATUS:
	case NEST__VF_GUEST_PDPTE0:
	case NEST__VF_GUEST_PDPTE1:
	case NEST__VF_GUEST_PDPTE2:
	case NEST__VF_GUEST_PDPTE3:
		return true;
	default:
		return false;
	}
}

static void list_add(struct nest__vmx_list *l, unsigned i)
{
	l->i[l->n++] = (uint16_t)i;
}

void nest__vmx_build_lists(struct nest_vmx *ctx)
{
	struct nest__vmx_lists *L = &ctx->lists;
	unsigned i;

	nest__memset(L, 0, sizeof(*L));
	unsigned j = 0;
	size_t w;

	for (i = 0; i < NEST__VF_COUNT; i++) {
		uint32_t flags = nest__vmcs_fields[i].flags;

		if (!nest__vmx_hw_field(&ctx->host, i))
			continue;
		L->hw[i / 64] |= 1ull << (i % 64);
		if (nest__vmx_vmcs02_field(i))
			list_add(&L->v02, i);
		if (guest_field(i))
			list_add(rare_field(i)	 ? &L->guest_rare
				 : cond_field(i) ? &L->guest_cond
						 : &L->guest_exit,
				 i);
		if (flags & NEST_VMCS_F_SHADOW_READ)
			list_add(&L->shadow_rd, i);
		if (flags & NEST_VMCS_F_SHADOW_WRITE)
			list_add(&L->shadow_wr, i);
	}
	/* The v02 fields by image word (the table is in offset order). */
	for (w = 0; w <= NEST__VMX_IMG_WORDS; w++) {
		while (j < L->v02.n &&
		       nest__vmcs_fields[L->v02.i[j]].offset < w * NEST__VMX_IMG_WORD)
			j++;
		L->v02_word[w] = (uint16_t)j;
	}
}

/* The backend's VMCS accessors, for loops over many fields: checked once
 * by the caller (NEST_BE_HAS), then called directly. */
typedef int (*vmcs_rd_fn)(void *, enum nest_vmcs_id, uint32_t, uint64_t *);
typedef int (*vmcs_wr_fn)(void *, enum nest_vmcs_id, uint32_t, uint64_t);

static inline vmcs_rd_fn be_rd(const struct nest_vmx *ctx)
{
	return NEST_BE_HAS(&ctx->be, vmcs_read) ? ctx->be.ops->vmcs_read : NULL;
}

static inline vmcs_wr_fn be_wr(const struct nest_vmx *ctx)
{
	return NEST_BE_HAS(&ctx->be, vmcs_write) ? ctx->be.ops->vmcs_write : NULL;
}

static int hw_read(struct nest_vmx *ctx, enum nest_vmcs_id id, unsigned i, uint64_t *v)
{
	*v = 0;
	return nest__be_vmcs_read(&ctx->be, id, nest__vmcs_fields[i].encoding, v);
}

static int hw_write(struct nest_vmx *ctx, enum nest_vmcs_id id, unsigned i, uint64_t v)
{
	return nest__be_vmcs_write(&ctx->be, id, nest__vmcs_fields[i].encoding, v);
}

/* Write the fields of vmcs02 that differ from what the backend holds, in
 * table order; 64-bit words of the image that are equal are skipped
 * whole. */
int nest__vmx_write_vmcs02(struct nest_vmx *ctx, const struct nest__vmcs12 *img, bool keep_rare)
{
	struct nest__vmx_nested *n = &ctx->nested;
	const struct nest__vmx_list *l = &ctx->lists.v02;
	const size_t first = NEST__VMX_IMG_FIRST_WORD * NEST__VMX_IMG_WORD;
	size_t w;
	int rc;

	/* Nothing differs (a VMRESUME after an exit that changed nothing): one
	 * block comparison instead of one per word. */
	if (nest__memcmp((const uint8_t *)img + first, (const uint8_t *)&n->vmcs02_cache + first,
			 sizeof(*img) - first) == 0)
		return NEST_OK;
	for (w = NEST__VMX_IMG_FIRST_WORD; w < NEST__VMX_IMG_WORDS; w++) {
		unsigned j;

		if (nest__vmx_img_word(img, w) == nest__vmx_img_word(&n->vmcs02_cache, w))
			continue;
		for (j = ctx->lists.v02_word[w]; j < ctx->lists.v02_word[w + 1]; j++) {
			unsigned i = l->i[j];
			uint64_t val;

			if (!field_differs(img, &n->vmcs02_cache, i))
				continue;
			if (keep_rare && rare_field(i) && !nest__vmx_fs_has(&n->dirty, i))
				continue;
			val = img_field(img, i);
			rc = hw_write(ctx, NEST_VMCS02, i, val);
			if (rc != NEST_OK)
				return rc;
			img_set(&n->vmcs02_cache, i, val);
		}
	}
	return NEST_OK;
}

int nest__vmx_write_vmcs02_all(struct nest_vmx *ctx, const struct nest__vmcs12 *img)
{
	struct nest__vmx_nested *n = &ctx->nested;
	const struct nest__vmx_list *l = &ctx->lists.v02;
	unsigned j;
	int rc;

	vmcs_wr_fn wr = be_wr(ctx);

	if (!wr)
		return NEST_E_MISSING_OP;
	nest__memset(&n->vmcs02_cache, 0, sizeof(n->vmcs02_cache));
	for (j = 0; j < l->n; j++) {
		uint64_t val = img_field(img, l->i[j]);

		rc = wr(ctx->be.ctx, NEST_VMCS02, nest__vmcs_fields[l->i[j]].encoding, val);
		if (rc != NEST_OK)
			return rc;
		img_set(&n->vmcs02_cache, l->i[j], val);
	}
	return NEST_OK;
}

static int read_list(struct nest_vmx *ctx, const struct nest__vmx_list *l)
{
	unsigned j;
	uint64_t val;
	int rc;

	/* The backend's accessor, checked once for the list. */
	vmcs_rd_fn rd = be_rd(ctx);
	void *bctx = ctx->be.ctx;

	if (!rd)
		return NEST_E_MISSING_OP;

	for (j = 0; j < l->n; j++) {
		unsigned i = l->i[j];

		val = 0;
		rc = rd(bctx, NEST_VMCS02, nest__vmcs_fields[i].encoding, &val);
		if (rc != NEST_OK)
			return rc;
		img_set(&ctx->nested.vmcs02_cache, i, val);
	}
	return NEST_OK;
}

/*
 * The fields of guest_cond that the processor may have changed while L2
 * ran on vmcs02 (its controls as libnest wrote them, and L2's CR0, CR4
 * and EFER as just read): the PML index only with PML in vmcs02, the
 * guest interrupt status only with virtual-interrupt delivery (SDM 30.2),
 * the PDPTEs only under EPT and while L2 uses PAE paging (SDM 28.3.4:
 * saved in that mode, "undefined" otherwise, so vmcs12 keeps its values;
 * the processor loads them only in that mode). A field not read keeps in
 * libnest's copy of vmcs02 the value it has there.
 */
static bool cond_changed(const struct nest__vmcs12 *c, unsigned i)
{
	uint32_t proc2 = nest__vmcs12_proc2(c);

	switch (i) {
	case NEST__VF_GUEST_PML_INDEX:
		return (proc2 & NEST_VMX_PROC2_ENABLE_PML) != 0;
	case NEST__VF_GUEST_INTR_STATUS:
		return (proc2 & NEST_VMX_PROC2_VIRT_INTR_DELIVERY) != 0;
	default: /* the PDPTEs */
		return (proc2 & NEST_VMX_PROC2_ENABLE_EPT) && (c->GUEST_CR0 & X86_CR0_PG) &&
		       (c->GUEST_CR4 & X86_CR4_PAE) && !(c->GUEST_IA32_EFER & X86_EFER_LMA);
	}
}

static int read_cond(struct nest_vmx *ctx)
{
	const struct nest__vmx_list *l = &ctx->lists.guest_cond;
	struct nest__vmcs12 *c = &ctx->nested.vmcs02_cache;
	unsigned j;
	uint64_t val;
	int rc;

	for (j = 0; j < l->n; j++) {
		unsigned i = l->i[j];

		if (!cond_changed(c, i))
			continue;
		val = 0;
		rc = nest__be_vmcs_read(&ctx->be, NEST_VMCS02, nest__vmcs_fields[i].encoding, &val);
		if (rc != NEST_OK)
			return rc;
		img_set(c, i, val);
	}
	return NEST_OK;
}

int nest__vmx_read_vmcs02_guest(struct nest_vmx *ctx, bool all)
{
	int rc = read_list(ctx, &ctx->lists.guest_exit);

	if (rc == NEST_OK)
		rc = read_cond(ctx);
	if (rc == NEST_OK && all)
		rc = read_list(ctx, &ctx->lists.guest_rare);
	return rc;
}

void nest__vmx_sync_rare(struct nest_vmx *ctx)
{
	struct nest__vmx_nested *n = &ctx->nested;
	const struct nest__vmx_list *l = &ctx->lists.guest_rare;
	unsigned j;
	uint64_t val;

	if (!n->rare_stale)
		return;
	for (j = 0; j < l->n; j++) {
		/* A field L1 wrote since the exit keeps L1's value. */
		if (nest__vmx_fs_has(&n->dirty, l->i[j]))
			continue;
		if (hw_read(ctx, NEST_VMCS02, l->i[j], &val) != NEST_OK) {
			nest__be_log(&ctx->be, NEST_LOG_WARN, "vmx: could not read vmcs02");
			return;
		}
		img_set(&n->vmcs02_cache, l->i[j], val);
		img_set(&ctx->vmcs12, l->i[j], val);
	}
	n->rare_stale = false;
}

int nest__vmx_write_vmcs01(struct nest_vmx *ctx, const struct nest__vmcs12 *img,
			   const struct nest__vmx_fieldset *set)
{
	size_t w;
	int rc;

	/* The backend's accessor, checked once for the whole set (52 fields
	 * at a reflection's host-state load). */
	vmcs_wr_fn wr = be_wr(ctx);
	void *bctx = ctx->be.ctx;

	if (!wr)
		return NEST_E_MISSING_OP;

	_Static_assert(sizeof(set->w) == sizeof(ctx->lists.hw), "one word per 64 fields");
	for (w = 0; w < sizeof(set->w) / sizeof(set->w[0]); w++) {
		uint64_t bits = set->w[w] & ctx->lists.hw[w]; /* fields the processor has */

		while (bits != 0) {
			unsigned i = (unsigned)(w * 64u) + (unsigned)__builtin_ctzll(bits);

			bits &= bits - 1;
			rc = wr(bctx, NEST_VMCS01, nest__vmcs_fields[i].encoding, img_field(img, i));
			if (rc != NEST_OK)
				return rc;
		}
	}
	return NEST_OK;
}

int nest__vmx_shadow_read_all(struct nest_vmx *ctx)
{
	const struct nest__vmx_list *l = &ctx->lists.shadow_wr;
	unsigned j;
	uint64_t val;
	int rc;

	vmcs_rd_fn rd = be_rd(ctx);

	if (!rd)
		return NEST_E_MISSING_OP;
	for (j = 0; j < l->n; j++) {
		unsigned i = l->i[j];

		val = 0;
		rc = rd(ctx->be.ctx, NEST_VMCS_SHADOW, nest__vmcs_fields[i].encoding, &val);
		if (rc != NEST_OK)
			return rc;
		if (img_field(&ctx->vmcs12, i) != val)
			nest__vmx_fs_set(&ctx->nested.dirty, i);
		img_set(&ctx->vmcs12, i, val);
		img_set(&ctx->nested.shadow_cache, i, val);
	}
	return NEST_OK;
}

int nest__vmx_shadow_write_all(struct nest_vmx *ctx, bool cached)
{
	struct nest__vmx_nested *n = &ctx->nested;
	const struct nest__vmx_list *l = &ctx->lists.shadow_rd;
	unsigned j;
	int rc;
	vmcs_wr_fn wr = be_wr(ctx);

	if (!wr)
		return NEST_E_MISSING_OP;

	for (j = 0; j < l->n; j++) {
		unsigned i = l->i[j];
		uint64_t val;

		if (cached && !field_differs(&ctx->vmcs12, &n->shadow_cache, i))
			continue;
		val = img_field(&ctx->vmcs12, i);
		rc = wr(ctx->be.ctx, NEST_VMCS_SHADOW, nest__vmcs_fields[i].encoding, val);
		if (rc != NEST_OK)
			return rc;
		img_set(&n->shadow_cache, i, val);
	}
	return NEST_OK;
}
