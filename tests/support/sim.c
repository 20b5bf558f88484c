/* SPDX-License-Identifier: MIT */
/* The simulated backend (see sim.h). */
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 4096ull

static bool range_ok(const struct sim *s, uint64_t gpa, size_t len)
{
	return len <= s->mem_size && gpa <= s->mem_size - len;
}

/* Every page touched must be mapped by L0 with the right: the backend
 * grants access only to L1 memory that L0 maps. */
static bool pages_granted(const struct sim *s, uint64_t gpa, size_t len, uint8_t acc)
{
	uint64_t p;

	if (!range_ok(s, gpa, len))
		return false;
	for (p = gpa / PAGE; p <= (gpa + len - 1) / PAGE; p++)
		if (!s->page_mapped[p] || (s->page_rights[p] & acc) != acc)
			return false;
	return true;
}

static int op_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct sim *s = ctx;

	s->calls.read_l1++;
	if (s->fail_read_after && --s->fail_read_after == 0)
		return NEST_E_BACKEND;
	if (len == 0)
		return NEST_OK;
	if (!pages_granted(s, gpa, len, NEST_ACC_R))
		return NEST_E_FAULT;
	memcpy(buf, s->mem + gpa, len);
	return NEST_OK;
}

static int op_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct sim *s = ctx;

	s->calls.write_l1++;
	if (s->fail_write_after && --s->fail_write_after == 0)
		return NEST_E_BACKEND;
	if (len == 0)
		return NEST_OK;
	if (!pages_granted(s, gpa, len, NEST_ACC_W))
		return NEST_E_FAULT;
	memcpy(s->mem + gpa, buf, len);
	return NEST_OK;
}

static int op_cmpxchg(void *ctx, uint64_t gpa, uint64_t expected, uint64_t desired,
		      uint64_t *actual)
{
	struct sim *s = ctx;
	uint64_t cur;

	s->calls.cmpxchg_l1++;
	if ((gpa & 7) || !pages_granted(s, gpa, 8, NEST_ACC_R | NEST_ACC_W))
		return NEST_E_FAULT;
	memcpy(&cur, s->mem + gpa, 8);
	*actual = cur;
	if (cur == expected)
		memcpy(s->mem + gpa, &desired, 8);
	return NEST_OK;
}

static int op_l1_to_host(void *ctx, uint64_t gpa, struct nest_l0_map *out)
{
	struct sim *s = ctx;
	uint64_t p = gpa / PAGE;

	s->calls.l1_to_host++;
	if (gpa >= s->mem_size || !s->page_mapped[p])
		return NEST_E_NOT_MAPPED;
	memset(out, 0, sizeof(*out));
	out->hpa = s->page_hpa[p] + (gpa & (PAGE - 1));
	out->rights = s->page_rights[p];
	out->memtype = s->page_memtype[p];
	out->page_shift = 12;
	return NEST_OK;
}

static struct sim_vmcs *vmcs_of(struct sim *s, enum nest_vmcs_id which)
{
	if ((unsigned)which > NEST_VMCS_SHADOW)
		return NULL;
	return &s->vmcs[which];
}

/* The slot of @enc: where it is, or the free slot where it would go. */
static unsigned vmcs_slot(const struct sim_vmcs *vm, uint32_t enc)
{
	unsigned h = (unsigned)((enc * 2654435761u) >> 16) & (SIM_VMCS_SLOTS - 1);

	while (vm->slot[h] != 0 && vm->enc[vm->slot[h] - 1] != enc)
		h = (h + 1) & (SIM_VMCS_SLOTS - 1);
	return h;
}

bool sim_vmcs_get(const struct sim *s, enum nest_vmcs_id which, uint32_t enc, uint64_t *v)
{
	const struct sim_vmcs *vm;
	unsigned h;

	if ((unsigned)which > NEST_VMCS_SHADOW)
		return false;
	vm = &s->vmcs[which];
	h = vmcs_slot(vm, enc);
	if (vm->slot[h] == 0)
		return false;
	*v = vm->val[vm->slot[h] - 1];
	return true;
}

void sim_vmcs_set(struct sim *s, enum nest_vmcs_id which, uint32_t enc, uint64_t v)
{
	struct sim_vmcs *vm = vmcs_of(s, which);
	unsigned h;

	if (vm == NULL)
		return;
	h = vmcs_slot(vm, enc);
	if (vm->slot[h] != 0) {
		vm->val[vm->slot[h] - 1] = v;
		return;
	}
	if (vm->n < SIM_VMCS_MAX_FIELDS) {
		vm->enc[vm->n] = enc;
		vm->val[vm->n++] = v;
		vm->slot[h] = (uint16_t)vm->n;
	}
}

void sim_vmcs_clear(struct sim *s, enum nest_vmcs_id which)
{
	struct sim_vmcs *vm = vmcs_of(s, which);

	if (vm) {
		vm->n = 0;
		memset(vm->slot, 0, sizeof(vm->slot));
	}
}

static int op_vmcs_read(void *ctx, enum nest_vmcs_id which, uint32_t enc, uint64_t *value)
{
	struct sim *s = ctx;

	s->calls.vmcs_read++;
	if ((unsigned)which > NEST_VMCS_SHADOW)
		return NEST_E_INVAL;
	if (!sim_vmcs_get(s, which, enc, value))
		*value = 0; /* a fresh hardware VMCS reads as zero */
	return NEST_OK;
}

static int op_vmcs_write(void *ctx, enum nest_vmcs_id which, uint32_t enc, uint64_t value)
{
	struct sim *s = ctx;

	s->calls.vmcs_write++;
	if ((unsigned)which > NEST_VMCS_SHADOW)
		return NEST_E_INVAL;
	if (s->vmcs[which].n >= SIM_VMCS_MAX_FIELDS) {
		uint64_t dummy;
		if (!sim_vmcs_get(s, which, enc, &dummy))
			return NEST_E_NOSPC;
	}
	sim_vmcs_set(s, which, enc, value);
	return NEST_OK;
}

static int op_page_alloc(void *ctx, uint64_t *hpa, void **hva)
{
	struct sim *s = ctx;
	unsigned i;

	s->calls.page_alloc++;
	if (s->fail_alloc_after && --s->fail_alloc_after == 0)
		return NEST_E_NOMEM;
	for (i = 0; i < s->pool_pages; i++)
		if (!s->pool_used[i]) {
			s->pool_used[i] = true;
			s->pool_in_use++;
			memset(s->pool + (size_t)i * PAGE, 0, PAGE);
			*hpa = SIM_HPA_POOL_BASE + (uint64_t)i * PAGE;
			*hva = s->pool + (size_t)i * PAGE;
			return NEST_OK;
		}
	return NEST_E_NOMEM;
}

void *sim_pool_hva(struct sim *s, uint64_t hpa)
{
	uint64_t i;

	if (hpa < SIM_HPA_POOL_BASE || (hpa & (PAGE - 1)))
		return NULL;
	i = (hpa - SIM_HPA_POOL_BASE) / PAGE;
	if (i >= s->pool_pages)
		return NULL;
	return s->pool + i * PAGE;
}

static void op_page_free(void *ctx, uint64_t hpa, void *hva)
{
	struct sim *s = ctx;
	uint64_t i;

	s->calls.page_free++;
	if (sim_pool_hva(s, hpa) != hva || hva == NULL) {
		fprintf(stderr, "sim: page_free of a page not from the pool (%#llx)\n",
			(unsigned long long)hpa);
		abort();
	}
	i = (hpa - SIM_HPA_POOL_BASE) / PAGE;
	if (!s->pool_used[i]) {
		fprintf(stderr, "sim: double page_free (%#llx)\n", (unsigned long long)hpa);
		abort();
	}
	s->pool_used[i] = false;
	s->pool_in_use--;
}

static void op_flush(void *ctx, uint32_t kind, uint64_t tag, uint64_t addr)
{
	struct sim *s = ctx;

	s->calls.flush++;
	s->flushes[s->nflushes % SIM_FLUSH_LOG] = (struct sim_flush){kind, tag, addr};
	s->nflushes++;
}

static void op_log(void *ctx, int level, const char *msg)
{
	struct sim *s = ctx;

	s->calls.log++;
	s->last_log_level = level;
	snprintf(s->last_log, sizeof(s->last_log), "%s", msg);
	if (getenv("SIM_LOG"))
		fprintf(stderr, "libnest[%d]: %s\n", level, msg);
}

static int op_l1_linear_to_phys(void *ctx, uint64_t gla, uint32_t access, uint64_t *gpa,
				uint32_t *pf_error)
{
	struct sim *s = ctx;

	s->calls.l1_linear_to_phys++;
	if (gla >= s->mem_size) {
		/* Not present; W/R and U/S bits of the error code from the access. */
		*pf_error = ((access & NEST_ACC_W) ? 2u : 0u) | ((access & NEST_ACC_U) ? 4u : 0u) |
			    ((access & NEST_ACC_X) ? 0x10u : 0u);
		return NEST_E_FAULT;
	}
	*gpa = gla;
	return NEST_OK;
}

static int op_guest_rdmsr(void *ctx, uint32_t msr, uint64_t *value)
{
	struct sim *s = ctx;
	unsigned i;

	s->calls.guest_rdmsr++;
	for (i = 0; i < s->guest_msrs; i++) {
		if (s->guest_msr_index[i] == msr) {
			*value = s->guest_msr_value[i];
			return NEST_OK;
		}
	}
	return NEST_E_FAULT;
}

static int op_track_l1_writes(void *ctx, const uint64_t *pages, unsigned n)
{
	struct sim *s = ctx;

	s->calls.track_l1_writes++;
	if (n > NEST_MAX_TRACKED_L1_PAGES || (n && pages == NULL))
		return NEST_E_INVAL;
	if (n)
		memcpy(s->tracked, pages, n * sizeof(pages[0]));
	s->ntracked = n;
	return NEST_OK;
}

bool sim_tracked(const struct sim *s, uint64_t gpa)
{
	unsigned i;

	if (!s->track_writes)
		return false;
	for (i = 0; i < s->ntracked; i++)
		if (s->tracked[i] == (gpa & ~(uint64_t)(PAGE - 1)))
			return true;
	return false;
}

void sim_l1_store(struct sim *s, uint64_t gpa, const void *buf, size_t len)
{
	uint64_t page;

	for (page = gpa & ~(uint64_t)(PAGE - 1); len && page < gpa + len; page += PAGE)
		if (sim_tracked(s, page) && s->on_write)
			s->on_write(s->on_write_arg, page);
	memcpy(sim_ptr(s, gpa, len), buf, len);
}

int sim_init(struct sim *s, uint64_t mem_size, unsigned pool_pages)
{
	uint64_t npages = mem_size / PAGE, i;

	memset(s, 0, sizeof(*s));
	if (mem_size == 0 || (mem_size & (PAGE - 1)))
		return -1;
	s->mem = calloc(1, mem_size);
	s->page_hpa = calloc(npages, sizeof(*s->page_hpa));
	s->page_rights = calloc(npages, 1);
	s->page_memtype = calloc(npages, 1);
	s->page_mapped = calloc(npages, sizeof(bool));
	s->pool = aligned_alloc(PAGE, (size_t)(pool_pages ? pool_pages : 1) * PAGE);
	s->pool_used = calloc(pool_pages ? pool_pages : 1, sizeof(bool));
	if (!s->mem || !s->page_hpa || !s->page_rights || !s->page_memtype || !s->page_mapped ||
	    !s->pool || !s->pool_used) {
		sim_fini(s);
		return -1;
	}
	s->mem_size = mem_size;
	s->pool_pages = pool_pages;
	for (i = 0; i < npages; i++) {
		s->page_hpa[i] = SIM_HPA_L1_BASE + i * PAGE;
		s->page_rights[i] = NEST_ACC_R | NEST_ACC_W | NEST_ACC_X | NEST_ACC_UX;
		s->page_memtype[i] = NEST_MT_WB;
		s->page_mapped[i] = true;
	}
	s->l1_identity_paging = true;

	s->ops.size = sizeof(s->ops);
	s->ops.read_l1 = op_read;
	s->ops.write_l1 = op_write;
	s->ops.cmpxchg_l1 = op_cmpxchg;
	s->ops.l1_to_host = op_l1_to_host;
	s->ops.vmcs_read = op_vmcs_read;
	s->ops.vmcs_write = op_vmcs_write;
	s->ops.page_alloc = op_page_alloc;
	s->ops.page_free = op_page_free;
	s->ops.flush = op_flush;
	s->ops.log = op_log;
	s->ops.l1_linear_to_phys = op_l1_linear_to_phys;
	s->ops.guest_rdmsr = op_guest_rdmsr;
	s->be.ops = &s->ops;
	s->be.ctx = s;
	return 0;
}

void sim_fini(struct sim *s)
{
	free(s->mem);
	free(s->page_hpa);
	free(s->page_rights);
	free(s->page_memtype);
	free(s->page_mapped);
	free(s->pool);
	free(s->pool_used);
	memset(s, 0, sizeof(*s));
}

void sim_guest_msr(struct sim *s, uint32_t msr, uint64_t value)
{
	unsigned i;

	for (i = 0; i < s->guest_msrs; i++) {
		if (s->guest_msr_index[i] == msr) {
			s->guest_msr_value[i] = value;
			return;
		}
	}
	if (s->guest_msrs < SIM_GUEST_MSRS) {
		s->guest_msr_index[s->guest_msrs] = msr;
		s->guest_msr_value[s->guest_msrs++] = value;
	}
}

const struct nest_backend *sim_backend(struct sim *s)
{
	s->ops.l1_linear_to_phys = s->l1_identity_paging ? op_l1_linear_to_phys : NULL;
	s->ops.track_l1_writes = s->track_writes ? op_track_l1_writes : NULL;
	return &s->be;
}

void sim_reset_counters(struct sim *s)
{
	memset(&s->calls, 0, sizeof(s->calls));
}

unsigned long sim_total_calls(const struct sim *s)
{
	const struct sim_calls *c = &s->calls;

	return c->read_l1 + c->write_l1 + c->cmpxchg_l1 + c->l1_to_host + c->vmcs_read +
	       c->vmcs_write + c->page_alloc + c->page_free + c->flush + c->log +
	       c->l1_linear_to_phys + c->guest_rdmsr + c->track_l1_writes;
}

void *sim_ptr(struct sim *s, uint64_t gpa, size_t len)
{
	if (!range_ok(s, gpa, len)) {
		fprintf(stderr, "sim: test touched %#llx+%zu outside L1 memory\n",
			(unsigned long long)gpa, len);
		abort();
	}
	return s->mem + gpa;
}

uint64_t sim_read64(struct sim *s, uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, sim_ptr(s, gpa, 8), 8);
	return v;
}

void sim_write64(struct sim *s, uint64_t gpa, uint64_t v)
{
	memcpy(sim_ptr(s, gpa, 8), &v, 8);
}

uint32_t sim_read32(struct sim *s, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, sim_ptr(s, gpa, 4), 4);
	return v;
}

void sim_write32(struct sim *s, uint64_t gpa, uint32_t v)
{
	memcpy(sim_ptr(s, gpa, 4), &v, 4);
}

void sim_map_page(struct sim *s, uint64_t gpa, uint64_t hpa, uint8_t rights, uint8_t memtype)
{
	uint64_t p = gpa / PAGE;

	if (gpa >= s->mem_size)
		return;
	s->page_hpa[p] = hpa & ~(PAGE - 1);
	s->page_rights[p] = rights;
	s->page_memtype[p] = memtype;
	s->page_mapped[p] = true;
}

void sim_unmap_page(struct sim *s, uint64_t gpa)
{
	if (gpa >= s->mem_size)
		return;
	s->page_mapped[gpa / PAGE] = false;
}
