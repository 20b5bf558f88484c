/* SPDX-License-Identifier: MIT */
/* Backend validation and size-checked calls into the ops table. */
#include "internal.h"

NEST_API int nest_backend_validate(const struct nest_backend *be)
{
	if (be == NULL || be->ops == NULL)
		return NEST_E_INVAL;
	if (be->ops->size < NEST_BACKEND_OPS_MIN_SIZE)
		return NEST_E_SIZE;
	if (!NEST_BE_HAS(be, read_l1) || !NEST_BE_HAS(be, write_l1))
		return NEST_E_MISSING_OP;
	return NEST_OK;
}

int nest__be_init(struct nest_backend *dst, const struct nest_backend *src)
{
	int rc = nest_backend_validate(src);

	if (rc != NEST_OK)
		return rc;
	*dst = *src;
	return NEST_OK;
}

int nest__be_read(const struct nest_backend *be, uint64_t gpa, void *buf, size_t len)
{
	if (len == 0)
		return NEST_OK;
	/* Reject wrap-around before the backend sees it. */
	if (gpa + (len - 1) < gpa)
		return NEST_E_FAULT;
	return be->ops->read_l1(be->ctx, gpa, buf, len);
}

int nest__be_write(const struct nest_backend *be, uint64_t gpa, const void *buf, size_t len)
{
	if (len == 0)
		return NEST_OK;
	if (gpa + (len - 1) < gpa)
		return NEST_E_FAULT;
	return be->ops->write_l1(be->ctx, gpa, buf, len);
}

int nest__be_cmpxchg(const struct nest_backend *be, uint64_t gpa, uint64_t expected,
		     uint64_t desired, uint64_t *actual)
{
	uint64_t cur;
	int rc;

	if (gpa & 7)
		return NEST_E_INVAL;
	if (NEST_BE_HAS(be, cmpxchg_l1))
		return be->ops->cmpxchg_l1(be->ctx, gpa, expected, desired, actual);
	/* Without an atomic op the backend promises L1 is not running
	 * concurrently on this memory; read-compare-write is then exact. */
	rc = nest__be_read(be, gpa, &cur, sizeof(cur));
	if (rc != NEST_OK)
		return rc;
	*actual = cur;
	if (cur != expected)
		return NEST_OK;
	return nest__be_write(be, gpa, &desired, sizeof(desired));
}

int nest__be_l1_to_host(const struct nest_backend *be, uint64_t gpa, struct nest_l0_map *out)
{
	if (!NEST_BE_HAS(be, l1_to_host))
		return NEST_E_MISSING_OP;
	return be->ops->l1_to_host(be->ctx, gpa, out);
}

int nest__be_page_alloc(const struct nest_backend *be, uint64_t *hpa, void **hva)
{
	if (!NEST_BE_HAS(be, page_alloc))
		return NEST_E_MISSING_OP;
	return be->ops->page_alloc(be->ctx, hpa, hva);
}

void nest__be_page_free(const struct nest_backend *be, uint64_t hpa, void *hva)
{
	if (NEST_BE_HAS(be, page_free))
		be->ops->page_free(be->ctx, hpa, hva);
}

void nest__be_flush(const struct nest_backend *be, uint32_t kind, uint64_t tag, uint64_t addr)
{
	if (NEST_BE_HAS(be, flush))
		be->ops->flush(be->ctx, kind, tag, addr);
}

void nest__be_log(const struct nest_backend *be, int level, const char *msg)
{
	if (NEST_BE_HAS(be, log))
		be->ops->log(be->ctx, level, msg);
}

bool nest__be_has_guest_rdmsr(const struct nest_backend *be)
{
	return NEST_BE_HAS(be, guest_rdmsr);
}

int nest__be_guest_rdmsr(const struct nest_backend *be, uint32_t msr, uint64_t *value)
{
	*value = 0;
	if (!NEST_BE_HAS(be, guest_rdmsr))
		return NEST_E_MISSING_OP;
	return be->ops->guest_rdmsr(be->ctx, msr, value);
}

bool nest__be_has_track(const struct nest_backend *be)
{
	return NEST_BE_HAS(be, track_l1_writes);
}

int nest__be_track(const struct nest_backend *be, const uint64_t *pages, unsigned n)
{
	if (!NEST_BE_HAS(be, track_l1_writes))
		return NEST_E_MISSING_OP;
	return be->ops->track_l1_writes(be->ctx, pages, n);
}
