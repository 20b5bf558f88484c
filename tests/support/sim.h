/* SPDX-License-Identifier: MIT */
/*
 * A software backend that models what an L0 gives libnest: L1-physical
 * memory, L0's map of it (per 4 KiB page: host address, rights, memory
 * type, present), hardware VMCS storage for vmcs01/vmcs02/shadow, a pool of
 * pages for shadow structures, invalidations, and a log. Every operation is
 * counted, so tests and benchmarks can assert or report backend calls per
 * transition. Test-only code: it uses libc.
 */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nest/backend.h>

/* Host-physical addresses the simulation hands out. */
#define SIM_HPA_L1_BASE 0x100000000000ull   /* L1 page N maps to base + N*4K by default */
#define SIM_HPA_POOL_BASE 0x200000000000ull /* page_alloc pages */
#define SIM_VMCS_MAX_FIELDS 512
#define SIM_FLUSH_LOG 64

#define SIM_GUEST_MSRS 16   /* MSRs the simulated guest can read */
#define SIM_VMCS_SLOTS 1024 /* hash slots, a power of two above 2 * SIM_VMCS_MAX_FIELDS */

struct sim_vmcs {
	uint32_t enc[SIM_VMCS_MAX_FIELDS];
	uint64_t val[SIM_VMCS_MAX_FIELDS];
	unsigned n;
	/* 1 + the index of an encoding in enc/val, 0 for a free slot (open
	 * addressing): a field access costs what a VMREAD would, not a search
	 * that would weigh on libnest's figures in tests/bench. */
	uint16_t slot[SIM_VMCS_SLOTS];
};

struct sim_calls {
	unsigned long read_l1, write_l1, cmpxchg_l1, l1_to_host, vmcs_read, vmcs_write, page_alloc,
	    page_free, flush, log, l1_linear_to_phys, guest_rdmsr, track_l1_writes;
};

struct sim_flush {
	uint32_t kind;
	uint64_t tag, addr;
};

struct sim {
	struct nest_backend_ops ops;
	struct nest_backend be;

	/* L1-physical memory. */
	uint8_t *mem;
	uint64_t mem_size;

	/* L0's map of L1 memory, per 4 KiB page of mem. */
	uint64_t *page_hpa;
	uint8_t *page_rights; /* NEST_ACC_*; 0 with page_mapped false = not mapped */
	uint8_t *page_memtype;
	bool *page_mapped;

	/* Hardware VMCSs (enum nest_vmcs_id). */
	struct sim_vmcs vmcs[3];

	/* Page pool for page_alloc. */
	uint8_t *pool;
	unsigned pool_pages;
	bool *pool_used;
	unsigned pool_in_use;

	/* Fault injection: fail the Nth next call of a kind (0 = never). */
	unsigned long fail_read_after, fail_write_after, fail_alloc_after;

	/* L1 paging for l1_linear_to_phys: identity when true (gla == gpa
	 * below mem_size, #PF above); when false the op is absent. */
	bool l1_identity_paging;

	/* The guest's MSRs as L0 emulates RDMSR for it (guest_rdmsr): any
	 * other MSR #GPs. */
	uint32_t guest_msr_index[SIM_GUEST_MSRS];
	uint64_t guest_msr_value[SIM_GUEST_MSRS];
	unsigned guest_msrs;
	/* L0 tracking writes to L1 pages (track_l1_writes): the op is present
	 * only with track_writes; sim_l1_store() calls on_write (libnest's
	 * nest_vmx_l1_written() or nest_svm_l1_written()) before it writes a
	 * tracked page. */
	bool track_writes;
	uint64_t tracked[NEST_MAX_TRACKED_L1_PAGES];
	unsigned ntracked;
	void (*on_write)(void *arg, uint64_t gpa);
	void *on_write_arg;
	struct sim_calls calls;
	struct sim_flush flushes[SIM_FLUSH_LOG];
	unsigned nflushes;
	char last_log[256];
	int last_log_level;
};

/* Set up a simulation with mem_size bytes of L1 memory (multiple of 4 KiB)
 * and pool_pages pages for page_alloc. Returns 0 or -1. */
int sim_init(struct sim *s, uint64_t mem_size, unsigned pool_pages);
void sim_fini(struct sim *s);
/* The backend descriptor to pass to libnest. */
const struct nest_backend *sim_backend(struct sim *s);
void sim_reset_counters(struct sim *s);
unsigned long sim_total_calls(const struct sim *s);

/* Direct access for tests (bypass the counters). */
void *sim_ptr(struct sim *s, uint64_t gpa, size_t len);
uint64_t sim_read64(struct sim *s, uint64_t gpa);
void sim_write64(struct sim *s, uint64_t gpa, uint64_t v);
uint32_t sim_read32(struct sim *s, uint64_t gpa);
void sim_write32(struct sim *s, uint64_t gpa, uint32_t v);

/* A write to L1 memory by anything but libnest (L1, a device, another
 * vCPU), as an L0 that tracks writes sees it: on_write first for each
 * tracked page it touches, then the bytes. */
void sim_l1_store(struct sim *s, uint64_t gpa, const void *buf, size_t len);
/* Whether the tracked set holds the page of @gpa. */
bool sim_tracked(const struct sim *s, uint64_t gpa);

/* L0's map: change one 4 KiB page's translation. */
void sim_map_page(struct sim *s, uint64_t gpa, uint64_t hpa, uint8_t rights, uint8_t memtype);
void sim_unmap_page(struct sim *s, uint64_t gpa);

/* Hardware VMCS storage. */
bool sim_vmcs_get(const struct sim *s, enum nest_vmcs_id which, uint32_t enc, uint64_t *v);
void sim_vmcs_set(struct sim *s, enum nest_vmcs_id which, uint32_t enc, uint64_t v);
void sim_vmcs_clear(struct sim *s, enum nest_vmcs_id which);

/* The value the guest reads from MSR @msr (guest_rdmsr); added or replaced. */
void sim_guest_msr(struct sim *s, uint32_t msr, uint64_t value);
/* Translate a pool hpa to its host pointer (NULL if not a pool page). */
void *sim_pool_hva(struct sim *s, uint64_t hpa);

#endif /* SIM_H */
