/* SPDX-License-Identifier: MIT */
/*
 * The stub's libnest backend: L1 memory through NPT01 (or EPT01), pages
 * from the stub's allocator, TLB flushes by INVLPGA or the next VMRUN's TLB
 * control. The VMX stub extends the table (vmx_nested.c).
 */
#include <nest/nest.h>

#include "backend.h"

stub_flush_state stub_flush_cpus[STUB_MAX_CPUS];
struct stub_be_calls stub_be_calls;

/*
 * The host address of L1 RAM at @gpa, for an access that must not cross a
 * page: L1 owns it only if NPT01 maps it into L1's RAM (not a device).
 */
static int l1_page(uint64_t gpa, uint8_t **hva)
{
	uint64_t hpa, flags;
	unsigned shift;

	if (!npt_lookup(stub.npt01, gpa, &hpa, &shift, &flags))
		return NEST_E_FAULT;
	/* A page write-protected for libnest (l1_track_writes()) is still L1's RAM. */
	if (hpa < stub.l1_host || hpa - stub.l1_host >= stub.l1_size ||
	    (!(flags & NPT_RW) && !l1_tracked(gpa)))
		return NEST_E_FAULT;
	*hva = (uint8_t *)(uintptr_t)hpa;
	return NEST_OK;
}

static int be_rw(uint64_t gpa, void *buf, const void *src, size_t len)
{
	while (len) {
		size_t chunk = BM_PAGE_SIZE - (gpa & (BM_PAGE_SIZE - 1));
		uint8_t *hva;
		if (chunk > len)
			chunk = len;
		int rc = l1_page(gpa, &hva);
		if (rc != NEST_OK)
			return rc;
		if (buf) {
			memcpy(buf, hva, chunk);
			buf = (uint8_t *)buf + chunk;
		} else {
			memcpy(hva, src, chunk);
			src = (const uint8_t *)src + chunk;
		}
		gpa += chunk;
		len -= chunk;
	}
	return NEST_OK;
}

static int be_read_l1(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	stub_be_calls.read_l1++;
	return be_rw(gpa, buf, NULL, len);
}

static int be_write_l1(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	stub_be_calls.write_l1++;
	return be_rw(gpa, NULL, buf, len);
}

static int be_cmpxchg_l1(void *ctx, uint64_t gpa, uint64_t expected, uint64_t desired,
			 uint64_t *actual)
{
	stub_be_calls.cmpxchg_l1++;
	uint8_t *hva;
	int rc = l1_page(gpa, &hva);

	if (rc != NEST_OK)
		return rc;
	uint64_t *p = (uint64_t *)(void *)hva;
	*actual = expected;
	__atomic_compare_exchange_n(p, actual, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	return NEST_OK;
}

static int be_l1_to_host(void *ctx, uint64_t gpa, struct nest_l0_map *out)
{
	stub_be_calls.l1_to_host++;
	uint64_t hpa, flags;
	unsigned shift;

	if (!npt_lookup(stub.npt01, gpa, &hpa, &shift, &flags))
		return NEST_E_NOT_MAPPED;
	*out = (struct nest_l0_map){
	    .hpa = hpa,
	    .rights = NEST_ACC_R | NEST_ACC_X | NEST_ACC_UX | NEST_ACC_U |
		      ((flags & NPT_RW) ? NEST_ACC_W : 0),
	    .memtype = stub_map_uc(flags) ? NEST_MT_UC : NEST_MT_WB,
	    .page_shift = (uint8_t)shift,
	};
	return NEST_OK;
}

static int be_page_alloc(void *ctx, uint64_t *hpa, void **hva)
{
	stub_be_calls.page_alloc++;
	void *p = bm_page_alloc();

	if (!p)
		return NEST_E_NOMEM;
	*hva = p;
	*hpa = (uint64_t)(uintptr_t)p;
	return NEST_OK;
}

static void be_page_free(void *ctx, uint64_t hpa, void *hva)
{
	stub_be_calls.page_free++;
	bm_page_free(hva);
}

static void be_flush(void *ctx, uint32_t kind, uint64_t tag, uint64_t addr)
{
	stub_be_calls.flush++;
	switch (kind) {
	case NEST_FLUSH_ASID_ADDR:
		/* INVLPGA: rAX the linear address, ECX the ASID (APM 15.16.2). */
		__asm__ volatile("invlpga %0, %1" ::"a"(addr), "c"((uint32_t)tag) : "memory");
		break;
	case NEST_FLUSH_ASID: /* the next VMRUN may be of another ASID: flush all */
	case NEST_FLUSH_ALL:
	default:
		stub_flush.control = TLB_CONTROL_FLUSH_ALL;
		break;
	}
	stub_flush.count++;
}

static void be_log(void *ctx, int level, const char *msg)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};

	if (level <= stub_log_level)
		bm_printf("libnest %s: %s\n",
			  level >= 0 && level < (int)BM_ARRAY_SIZE(names) ? names[level] : "?",
			  msg);
}

int stub_log_level = NEST_LOG_WARN;

static volatile bool msr_faulted;

static void msr_gp(struct bm_regs *r)
{
	msr_faulted = true;
	r->rip += 2; /* past RDMSR/WRMSR (0F 32, 0F 30) */
}

bool stub_rdmsr_safe(uint32_t msr, uint64_t *value)
{
	msr_faulted = false;
	bm_set_handler(VEC_GP, msr_gp);
	*value = rdmsr(msr);
	bm_set_handler(VEC_GP, NULL);
	return !msr_faulted;
}

bool stub_wrmsr_safe(uint32_t msr, uint64_t value)
{
	msr_faulted = false;
	bm_set_handler(VEC_GP, msr_gp);
	wrmsr(msr, value);
	bm_set_handler(VEC_GP, NULL);
	return !msr_faulted;
}

static int be_track_l1_writes(void *ctx, const uint64_t *pages, unsigned n)
{
	(void)ctx;
	return l1_track_writes(pages, n);
}

static int be_guest_rdmsr(void *ctx, uint32_t msr, uint64_t *value)
{
	(void)ctx;
	return stub_guest_rdmsr(msr, value) ? NEST_OK : NEST_E_FAULT;
}

const struct nest_backend_ops stub_backend_ops = {
    .size = sizeof(struct nest_backend_ops),
    .read_l1 = be_read_l1,
    .write_l1 = be_write_l1,
    .cmpxchg_l1 = be_cmpxchg_l1,
    .l1_to_host = be_l1_to_host,
    .page_alloc = be_page_alloc,
    .page_free = be_page_free,
    .flush = be_flush,
    .log = be_log,
    .guest_rdmsr = be_guest_rdmsr,
    .track_l1_writes = be_track_l1_writes,
};

const struct nest_backend stub_backend = {.ops = &stub_backend_ops, .ctx = NULL};
