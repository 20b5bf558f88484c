/* SPDX-License-Identifier: MIT */
/**
 * @file backend.h
 * @brief The backend: every effect libnest has on the world goes through it.
 *
 * The L0 hypervisor fills a struct nest_backend_ops and passes it, with an
 * opaque context pointer, to each per-vCPU context it initialises. libnest
 * never touches memory, hardware or global state except through these
 * operations, so a backend decides exactly what libnest may read and write.
 *
 * IMPORTANT: layout. struct nest_backend_ops is part of the ABI. It only
 * grows at its end; @c size tells libnest how much of it the caller knows.
 * Operations beyond the caller's @c size are treated as NULL (absent).
 */
#ifndef NEST_BACKEND_H
#define NEST_BACKEND_H

#include <nest/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @name Access rights (translations, faults)
 *  @{ */
#define NEST_ACC_R 0x1u  ///< read
#define NEST_ACC_W 0x2u  ///< write
#define NEST_ACC_X 0x4u  ///< execute (supervisor-mode execute with EPT MBEC)
#define NEST_ACC_UX 0x8u ///< user-mode execute (EPT mode-based execute control)
#define NEST_ACC_U 0x10u ///< user-mode access (x86 paging U/S)
/** @} */

/** Memory types, numbered as in IA32_PAT and EPT entries (SDM 11.12, 29.3.7). */
enum nest_memtype {
	NEST_MT_UC = 0, ///< uncacheable
	NEST_MT_WC = 1, ///< write combining
	NEST_MT_WT = 4, ///< write through
	NEST_MT_WP = 5, ///< write protected
	NEST_MT_WB = 6, ///< write back
	NEST_MT_UC_MINUS = 7 ///< UC- (PAT only)
};

/**
 * @brief L0's translation of one L1-physical address (EPT01/NPT01).
 *
 * IMPORTANT: layout. Filled by the backend's @c l1_to_host operation.
 */
struct nest_l0_map {
	uint64_t hpa;       ///< host-physical address that the L1-physical address maps to
	uint32_t rights;    ///< NEST_ACC_* that L0 grants L1 on this page
	uint8_t memtype;    ///< enum nest_memtype of L0's mapping
	uint8_t page_shift; ///< size of L0's mapping that holds the address: 12, 21 or 30
	uint8_t ignore_pat; ///< nonzero if L0's mapping sets EPT "ignore PAT"
	uint8_t reserved;   ///< zero
};

/** Which VMCS a hardware VMCS access is for. */
enum nest_vmcs_id {
	NEST_VMCS01 = 0,      ///< L0's VMCS for running L1
	NEST_VMCS02 = 1,      ///< L0's VMCS for running L2 (built by libnest)
	NEST_VMCS_SHADOW = 2  ///< the shadow VMCS linked from vmcs01 (hardware VMCS shadowing)
};

/** Kinds of hardware invalidation libnest may ask for (see nest_backend_ops::flush). */
enum nest_flush_kind {
	NEST_FLUSH_EPT_CONTEXT = 0, ///< INVEPT single-context; @c tag is the EPTP
	NEST_FLUSH_EPT_ALL = 1,     ///< INVEPT all-context
	NEST_FLUSH_VPID_ADDR = 2,   ///< INVVPID individual-address; @c tag VPID, @c addr linear
	NEST_FLUSH_VPID_CONTEXT = 3,///< INVVPID single-context; @c tag is the VPID
	NEST_FLUSH_VPID_ALL = 4,    ///< INVVPID all-context
	NEST_FLUSH_ASID = 5,        ///< flush one ASID (SVM); @c tag is the ASID
	NEST_FLUSH_ASID_ADDR = 6,   ///< INVLPGA; @c tag ASID, @c addr linear
	NEST_FLUSH_ALL = 7,         ///< everything
	/** Only through nest_backend_ops::flush_vcpus: what the vCPUs cached
	 *  from the NPT02 whose nCR3 is @c tag (the ASID L2 runs with on each of
	 *  them: a TLB_CONTROL flush at their next VMRUN). Added after 0.1.0. */
	NEST_FLUSH_NPT_ROOT = 8
};

/** The most vCPUs one VM object (a shared struct nest_tdp) serves; vCPU
 *  numbers run from 0 to NEST_MAX_VCPUS - 1. Added after 0.1.0. */
#define NEST_MAX_VCPUS 256

/**
 * @brief A set of vCPUs of one VM: bit (n % 64) of bits[n / 64] is vCPU n.
 *
 * IMPORTANT: layout. Added after 0.1.0.
 */
struct nest_vcpu_set {
	uint64_t bits[NEST_MAX_VCPUS / 64]; ///< one bit per vCPU number
};

/** Log levels for nest_backend_ops::log. */
enum nest_log_level {
	NEST_LOG_ERROR = 0, ///< something the L0 developer must see
	NEST_LOG_WARN = 1,  ///< L1 did something suspicious
	NEST_LOG_INFO = 2,  ///< notable event
	NEST_LOG_DEBUG = 3  ///< diagnostics (failed entry checks name their rule here)
};

/**
 * @brief The backend operations table.
 *
 * Every operation takes the context pointer given at init. Operations
 * return 0 (NEST_OK) on success or a nonzero nest_status_t. Operations
 * marked optional may be NULL.
 *
 * IMPORTANT: layout. Append only.
 */
struct nest_backend_ops {
	/** sizeof(struct nest_backend_ops) as the caller compiled it. */
	uint32_t size;
	/** Zero. */
	uint32_t reserved0;

	/**
	 * Read @p len bytes of L1-physical memory at @p gpa into @p buf.
	 * Fails (NEST_E_FAULT) for any byte the backend does not grant.
	 */
	int (*read_l1)(void *ctx, uint64_t gpa, void *buf, size_t len);
	/** Write @p len bytes at L1-physical @p gpa. Fails like read_l1. */
	int (*write_l1)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	/**
	 * Atomically compare-exchange the aligned 64-bit word at L1-physical
	 * @p gpa: if it equals @p expected, store @p desired. @p actual
	 * receives the value found. Used to set accessed/dirty bits in L1's
	 * paging structures. Optional: without it A/D updates use read/write.
	 */
	int (*cmpxchg_l1)(void *ctx, uint64_t gpa, uint64_t expected, uint64_t desired,
			  uint64_t *actual);
	/**
	 * L0's map of L1 memory (EPT01/NPT01): translate L1-physical @p gpa.
	 * Returns NEST_E_NOT_MAPPED if L0 maps nothing there (yet).
	 */
	int (*l1_to_host)(void *ctx, uint64_t gpa, struct nest_l0_map *out);
	/** Read field @p encoding of a hardware VMCS (VMX only). */
	int (*vmcs_read)(void *ctx, enum nest_vmcs_id which, uint32_t encoding, uint64_t *value);
	/** Write field @p encoding of a hardware VMCS (VMX only). */
	int (*vmcs_write)(void *ctx, enum nest_vmcs_id which, uint32_t encoding, uint64_t value);
	/**
	 * Allocate one zeroed 4 KiB page for libnest's own structures (shadow
	 * page tables, merged bitmaps). @p hpa receives its host-physical
	 * address, @p hva a pointer through which libnest may access it.
	 */
	int (*page_alloc)(void *ctx, uint64_t *hpa, void **hva);
	/** Return a page obtained from page_alloc. */
	void (*page_free)(void *ctx, uint64_t hpa, void *hva);
	/** Carry out a hardware invalidation (enum nest_flush_kind). */
	void (*flush)(void *ctx, uint32_t kind, uint64_t tag, uint64_t addr);
	/** Optional: a diagnostic message (enum nest_log_level). */
	void (*log)(void *ctx, int level, const char *msg);
	/**
	 * Optional: translate an L1 linear address through L1's own paging
	 * (the current CR3 of L1) for an access of type NEST_ACC_* in
	 * @p access. On a page fault return NEST_E_FAULT and set
	 * @p pf_error to the \#PF error code; libnest then injects \#PF.
	 * Without it, libnest walks L1's page tables itself.
	 */
	int (*l1_linear_to_phys)(void *ctx, uint64_t gla, uint32_t access, uint64_t *gpa,
				 uint32_t *pf_error);
	/**
	 * Optional: the value of MSR @p msr that RDMSR executed by the guest
	 * L0 runs now would read in L0's emulation: at an exit of L2, L2's
	 * value as L1 is allowed to see it, never a host value L0 keeps from
	 * its guests. Return NEST_E_FAULT if that RDMSR would raise \#GP
	 * (write-only, nonexistent or host-private MSR). libnest stores these
	 * values into L1's VM-exit MSR-store area in software (SDM 28.4); L1's
	 * list never reaches vmcs02's hardware store list. Without this op a
	 * nested entry with a nonempty VM-exit MSR-store list fails with
	 * NEST_E_UNSUPPORTED. Added in 0.1.
	 */
	int (*guest_rdmsr)(void *ctx, uint32_t msr, uint64_t *value);
	/**
	 * Optional: report writes to these L1-physical pages. libnest keeps
	 * copies of data the processor reads from L1 memory at each access
	 * (VMX: L1's MSR bitmap and I/O bitmaps A and B; SVM: L1's MSRPM and
	 * IOPM). The call replaces the set (@p n = 0: no page; at most
	 * NEST_MAX_TRACKED_L1_PAGES, 4 KiB aligned). From its return on, L0
	 * makes every write to one of these pages come to it first (it
	 * write-protects them in its own map of L1, EPT01/NPT01, and in any
	 * other path that can write them: device emulation, DMA, another vCPU)
	 * and, before the write takes effect, calls nest_vmx_l1_written() or
	 * nest_svm_l1_written() on this context; during that call libnest
	 * calls this op again with the set minus the written page, and L0
	 * then lets the write through. L2's writes through EPT02/NPT02 are
	 * libnest's own (nest_tdp_watch_writes()). With this op, VMRESUME and
	 * VMRUN read those pages only after a write; without it, at every
	 * VMRESUME and VMRUN. A failure (nonzero) makes libnest fall back to
	 * reading at every entry until the set next changes. Added after
	 * 0.1.0.
	 */
	int (*track_l1_writes)(void *ctx, const uint64_t *pages, unsigned n);
	/**
	 * Optional (required by a VM object shared by several vCPUs, see
	 * nest_tdp_vcpu_init()): ask L0 to carry out the invalidation @p kind
	 * (enum nest_flush_kind, with @p tag and @p addr as for @c flush) on
	 * every vCPU of @p vcpus. libnest never waits for it. L0 honours the
	 * request on each of those vCPUs before it next resumes that vCPU in
	 * guest mode (L1 or L2): a vCPU in guest mode at the time of the request
	 * is made to exit (an IPI) and flushed before it re-enters. Pages that
	 * libnest returns through @c page_free after a request may still be
	 * cached by the paging-structure caches of those vCPUs until the request
	 * is honoured: L0 must not reuse them before then. The request may
	 * include the calling vCPU. When present, libnest's shadow tables send
	 * every invalidation through it instead of @c flush. Added after 0.1.0.
	 */
	void (*flush_vcpus)(void *ctx, const struct nest_vcpu_set *vcpus, uint32_t kind,
			    uint64_t tag, uint64_t addr);
	/**
	 * Optional: take and release the VM's lock. When both are present,
	 * every nest_tdp_* call (and every call of a VMX or SVM context that
	 * reaches its shadow) holds it while it reads or changes the shared
	 * shadow, so vCPUs may call libnest in parallel; without them the
	 * caller serialises those calls itself (docs/porting.md, "Several
	 * vCPUs"). libnest never calls back into itself while holding it, and
	 * the only backend operations called under it are read_l1, cmpxchg_l1,
	 * l1_to_host, page_alloc, page_free, flush, flush_vcpus and log.
	 * Added after 0.1.0.
	 */
	void (*vm_lock)(void *ctx);
	/** Release what vm_lock took. Added after 0.1.0. */
	void (*vm_unlock)(void *ctx);
};

/** How many pages nest_backend_ops::track_l1_writes is given at most. */
#define NEST_MAX_TRACKED_L1_PAGES 8

/** The smallest nest_backend_ops::size libnest accepts. */
#define NEST_BACKEND_OPS_MIN_SIZE                                                                  \
	(offsetof(struct nest_backend_ops, write_l1) + sizeof(void *))

/**
 * @brief A backend: an ops table and the context pointer passed to it.
 *
 * IMPORTANT: layout.
 */
struct nest_backend {
	const struct nest_backend_ops *ops; ///< operations; must outlive every context using it
	void *ctx;                          ///< passed as the first argument of each operation
};

/**
 * @brief Check that a backend is usable: sizes known, required ops present.
 * @param be The backend.
 * @return NEST_OK, NEST_E_INVAL (NULL), NEST_E_SIZE (size below
 *         NEST_BACKEND_OPS_MIN_SIZE) or NEST_E_MISSING_OP.
 */
NEST_API int nest_backend_validate(const struct nest_backend *be);

#ifdef __cplusplus
}
#endif

#endif /* NEST_BACKEND_H */
