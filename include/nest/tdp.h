/* SPDX-License-Identifier: MIT */
/**
 * @file tdp.h
 * @brief Two-dimensional paging: walkers and shadow EPT02/NPT02.
 *
 * Two parts:
 *
 * 1. Pure page-table walkers over L1 memory read through the backend:
 *    nest_ept_walk() (Intel EPT, SDM 29.3) and nest_x86_walk() (x86 paging
 *    in every mode, SDM chapter 4 / APM 5, also the format of AMD nested
 *    page tables). They only read, unless the caller asks them to set
 *    accessed/dirty flags (NEST_WALK_SET_AD).
 *
 * 2. The shadow: a context (one per L1, shared by its vCPUs through
 *    nest_tdp_vcpu_init() handles) that builds EPT02/NPT02 (L2-physical to
 *    host-physical) from L1's EPT12/NPT12 and L0's map of L1 memory
 *    (nest_backend_ops::l1_to_host). Use it like this:
 *    - nest_tdp_size() / nest_tdp_init() in caller memory, nest_tdp_fini();
 *    - before every entry to L2: nest_tdp_root() with EPTP12 or nCR3,
 *      load the returned pointer into vmcs02's EPTP / vmcb02's nCR3;
 *    - on an EPT violation / \#NPF of L2 on EPT02/NPT02: nest_tdp_fault(),
 *      then act on nest_tdp_fault_out::kind;
 *    - on INVEPT / TLB-control flushes of L1: nest_tdp_sync_root(),
 *      nest_tdp_invalidate_root() or nest_tdp_invalidate_all(); when L0
 *      changes its map of L1 memory: nest_tdp_l1_map_changed().
 *
 * Shadow tables are invalidated by re-validation: L1 must flush (INVEPT on
 * VMX, a TLB_CONTROL flush at VMRUN on SVM) after changing its tables, as the
 * architecture requires, and the flush re-checks (sync) or drops the shadow
 * of that root.
 * docs/conformance-paging.md lists every choice and deviation.
 *
 * Concurrency (docs/porting.md, "Several vCPUs"): calls on one VM object,
 * through any of its handles, are serialised by the VM lock
 * (nest_backend_ops::vm_lock) or, without it, by the caller. Entries of
 * the shadow tables, which hardware walkers read at any time, are written
 * with single aligned 64-bit atomic stores or compare-and-exchange.
 */
#ifndef NEST_TDP_H
#define NEST_TDP_H

#include <nest/base.h>
#include <nest/backend.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nest_backend; /* backend.h; declared here too because nest.h includes this header first */

/* ------------------------------------------------------------------------ */
/** @name Walk flags (nest_ept_walk(), nest_x86_walk())
 *  @{ */
/** Set accessed (and, for writes, dirty) flags in L1's tables, atomically
 *  through nest_backend_ops::cmpxchg_l1, as the hardware would. Without this
 *  flag the walkers only read. */
#define NEST_WALK_SET_AD 0x1u
/** x86 walks: the access is implicit supervisor (or RFLAGS.AC=1), so SMAP
 *  does not apply. */
#define NEST_WALK_SMAP_OFF 0x2u
/** @} */

/** How a walk ended. */
enum nest_walk_status {
	NEST_WALK_OK = 0,        ///< translated; the access is permitted
	NEST_WALK_FAULT = 1,     ///< not present or access not permitted (EPT violation / \#PF)
	NEST_WALK_MISCONFIG = 2, ///< EPT misconfiguration (reserved bits, bad memory type...)
	NEST_WALK_RSVD = 3,      ///< x86 paging: reserved bit set (\#PF with RSVD)
	NEST_WALK_NO_MEMORY = 4, ///< a table entry could not be read or updated through the backend
	NEST_WALK_BAD_ROOT = 5,  ///< the EPTP / CR3 itself is invalid for the configuration
	NEST_WALK_RACE = 6       ///< L1 kept rewriting an entry during the A/D update; retry later
};

/** The deepest table tree a walker handles: 5 levels (LA57 / 5-level EPT). */
#define NEST_WALK_MAX_LEVELS 5

/**
 * @brief The result of one page-table walk.
 *
 * Levels are numbered as in the SDM: 1 is the page table (4 KiB pages), 2
 * the page directory, 3 the PDPT, 4 the PML4, 5 the PML5. Entry arrays are
 * indexed by level - 1; only the levels walked are filled.
 *
 * IMPORTANT: layout. Output only; fixed size.
 */
struct nest_walk_result {
	uint32_t status;     ///< enum nest_walk_status
	uint32_t rights;     ///< NEST_ACC_* granted by the translation (AND over all levels walked)
	uint64_t addr;       ///< NEST_WALK_OK: the translated address (offset included)
	uint64_t fault_addr; ///< NEST_WALK_NO_MEMORY: the L1-physical address that failed
	uint32_t pfec;       ///< x86 walks that fail: the \#PF error code (X86_PFEC_* bits)
	uint8_t level;       ///< level of the last entry used (the leaf, or where the walk stopped)
	uint8_t page_shift;  ///< NEST_WALK_OK: log2 of the page size (12, 21, 22 or 30)
	uint8_t memtype;     ///< EPT leaf memory type (enum nest_memtype); x86: PAT index (0-7)
	uint8_t ipat;        ///< EPT leaf "ignore PAT" bit
	uint8_t levels;      ///< number of levels of the table tree (2, 3, 4 or 5)
	uint8_t dirty;       ///< the leaf's dirty flag after the walk (1 = set)
	uint8_t ad;          ///< accessed/dirty flags are in use for this walk
	uint8_t reserved;    ///< zero
	uint64_t entry[NEST_WALK_MAX_LEVELS];     ///< the entry read at each level
	uint64_t entry_addr[NEST_WALK_MAX_LEVELS]; ///< the L1-physical address of that entry
};

/* ------------------------------------------------------------------------ */
/* EPT (SDM 29.3) */

/** Configuration of an EPT walk: what libnest offers L1. IMPORTANT: layout. */
struct nest_ept_config {
	uint64_t ept_vpid_cap; ///< IA32_VMX_EPT_VPID_CAP as offered to L1 (SDM A.10)
	uint8_t maxphyaddr;    ///< L1's MAXPHYADDR (CPUID.80000008H:EAX[7:0]), 32..52
	uint8_t mbec;          ///< nonzero: "mode-based execute control for EPT" is 1 in vmcs12
	uint8_t reserved[6];   ///< zero
};

/** @name IA32_VMX_EPT_VPID_CAP bits the EPT walker honours (SDM A.10)
 *  @{ */
#define NEST_EPT_CAP_EXEC_ONLY (1ull << 0) ///< execute-only translations
#define NEST_EPT_CAP_PWL4 (1ull << 6)      ///< 4-level walks
#define NEST_EPT_CAP_PWL5 (1ull << 7)      ///< 5-level walks
#define NEST_EPT_CAP_UC (1ull << 8)        ///< EPTP memory type UC
#define NEST_EPT_CAP_WB (1ull << 14)       ///< EPTP memory type WB
#define NEST_EPT_CAP_2M (1ull << 16)       ///< 2 MiB pages
#define NEST_EPT_CAP_1G (1ull << 17)       ///< 1 GiB pages
#define NEST_EPT_CAP_AD (1ull << 21)       ///< accessed and dirty flags
/** @} */

/**
 * @brief Is @p eptp a valid EPT pointer for @p cfg (SDM 26.2.1.1)?
 * @param eptp The EPT pointer (memory type, walk length, A/D, address).
 * @param cfg What libnest offers L1.
 * @return Nonzero if a VM entry would accept it.
 */
NEST_API int nest_ept_eptp_valid(uint64_t eptp, const struct nest_ept_config *cfg);

/**
 * @brief Walk L1's EPT for one access.
 * @param be Backend whose read_l1 (and cmpxchg_l1 for NEST_WALK_SET_AD) is used.
 * @param cfg EPT features offered to L1.
 * @param eptp L1's EPT pointer (EPTP12).
 * @param gpa The L2-physical address to translate.
 * @param access NEST_ACC_R / NEST_ACC_W / NEST_ACC_X (supervisor fetch) /
 *        NEST_ACC_UX (user-mode fetch, MBEC); 0 just translates.
 * @param flags NEST_WALK_* flags.
 * @param[out] res The result; always filled.
 * @return NEST_OK when @p res is filled (whatever its status), NEST_E_INVAL
 *         for NULL arguments.
 */
NEST_API int nest_ept_walk(const struct nest_backend *be, const struct nest_ept_config *cfg,
			   uint64_t eptp, uint64_t gpa, uint32_t access, uint32_t flags,
			   struct nest_walk_result *res);

/* ------------------------------------------------------------------------ */
/* x86 paging (SDM 4, APM 5) and AMD nested paging (APM 15.25) */

/** Paging modes, as selected by CR0.PG, CR4.PAE, CR4.PSE, EFER.LMA, CR4.LA57. */
enum nest_x86_mode {
	NEST_X86_MODE_NONE = 0,   ///< paging disabled: identity
	NEST_X86_MODE_32 = 1,     ///< 32-bit paging, CR4.PSE = 0 (no 4 MiB pages)
	NEST_X86_MODE_32_PSE = 2, ///< 32-bit paging with 4 MiB pages (and PSE-36)
	NEST_X86_MODE_PAE = 3,    ///< PAE paging
	NEST_X86_MODE_LONG4 = 4,  ///< 4-level paging (IA-32e)
	NEST_X86_MODE_LONG5 = 5   ///< 5-level paging (IA-32e with LA57)
};

/** Configuration of an x86 walk: the control registers that shape it. IMPORTANT: layout. */
struct nest_x86_config {
	uint64_t cr0;       ///< CR0 (PG, WP)
	uint64_t cr4;       ///< CR4 (PSE, PAE, LA57, SMEP, SMAP)
	uint64_t efer;      ///< EFER (LMA, NXE)
	uint8_t maxphyaddr; ///< MAXPHYADDR of the walker's physical space, 32..52
	uint8_t gbpages;    ///< nonzero: 1 GiB pages are supported (CPUID.80000001H:EDX[26])
	uint8_t nested;     ///< nonzero: an AMD nested-table walk (every access is a user access)
	uint8_t reserved[5]; ///< zero
};

/**
 * @brief The paging mode selected by control registers.
 * @param cr0 CR0.
 * @param cr4 CR4.
 * @param efer EFER.
 * @return enum nest_x86_mode.
 */
NEST_API uint32_t nest_x86_mode(uint64_t cr0, uint64_t cr4, uint64_t efer);

/**
 * @brief Walk x86 page tables (L1's CR3, or an nCR3) for one access.
 * @param be Backend whose read_l1 (and cmpxchg_l1 for NEST_WALK_SET_AD) is used.
 * @param cfg Control registers of the walk.
 * @param cr3 The root: CR3 or nCR3.
 * @param va The linear (or, for nested walks, guest-physical) address.
 * @param access NEST_ACC_R / NEST_ACC_W / NEST_ACC_X, plus NEST_ACC_U for a
 *        CPL-3 access (always implied when cfg->nested).
 * @param flags NEST_WALK_* flags.
 * @param[out] res The result; always filled. On NEST_WALK_FAULT and
 *        NEST_WALK_RSVD, res->pfec holds the \#PF error code.
 * @return NEST_OK when @p res is filled, NEST_E_INVAL for NULL arguments.
 */
NEST_API int nest_x86_walk(const struct nest_backend *be, const struct nest_x86_config *cfg,
			   uint64_t cr3, uint64_t va, uint32_t access, uint32_t flags,
			   struct nest_walk_result *res);

/* ------------------------------------------------------------------------ */
/* The shadow (EPT02 / NPT02) */

/** Which kind of L1 table a shadow root shadows. */
enum nest_tdp_kind {
	NEST_TDP_EPT = 0, ///< EPT12 (root is vmcs12's EPTP), shadow is EPT02
	NEST_TDP_NPT = 1  ///< NPT12 (root is vmcb12's nCR3), shadow is NPT02 (4/5-level long mode)
};

/** Shadow configuration flag: build NPT02 as 5-level tables (L0 runs with LA57). */
#define NEST_TDP_CFG_NPT02_LA57 0x1u

/**
 * @brief Configuration of a shadow context.
 *
 * IMPORTANT: layout. May grow at its end; @c size tells how much the
 * caller knows.
 */
struct nest_tdp_config {
	uint32_t size;        ///< sizeof(struct nest_tdp_config) as the caller compiled it
	uint32_t max_pages;   ///< bound on shadow table pages held, 8..2^24; roots are reclaimed beyond it
	uint32_t max_roots;   ///< number of cached roots, 1..NEST_TDP_MAX_ROOTS
	uint32_t flags;       ///< NEST_TDP_CFG_* flags
	uint64_t ept_vpid_cap; ///< IA32_VMX_EPT_VPID_CAP offered to L1 (EPT walks)
	uint8_t maxphyaddr;   ///< L1's MAXPHYADDR, 32..52
	uint8_t max_page_shift; ///< largest page the hardware maps in EPT02/NPT02: 12, 21 or 30
	uint8_t reserved[6];  ///< zero
	/** Entries of the reverse map from L1-physical pages to shadow leaves
	 *  (24 bytes each, in the context's memory): nest_tdp_l1_map_changed()
	 *  of a few pages costs the same whatever max_pages while the leaves fit;
	 *  leaves beyond it fall back to a scan of the pool. 0: 8 per page of
	 *  max_pages. At most 2^28. Added after 0.1.0 (older callers get 0). */
	uint32_t rmap_entries;
	uint32_t reserved2; ///< zero
};

/** The smallest nest_tdp_config::size libnest accepts (the 0.1.0 layout). */
#define NEST_TDP_CONFIG_MIN_SIZE (offsetof(struct nest_tdp_config, reserved) + 6)

/** The largest nest_tdp_config::max_roots. */
#define NEST_TDP_MAX_ROOTS 64

/**
 * @brief Which L1 table a shadow is for.
 *
 * For EPT the key is the EPTP's address, walk length and A/D bit, and the
 * MBEC control; for NPT
 * it is nCR3 with the paging mode and EFER.NXE of L1 (the host mode at
 * VMRUN, APM 15.25.3).
 *
 * IMPORTANT: layout.
 */
struct nest_tdp_l1_root {
	uint32_t kind;     ///< enum nest_tdp_kind
	uint8_t mbec;      ///< EPT: vmcs12 enables mode-based execute control
	uint8_t reserved[3]; ///< zero
	uint64_t pointer;  ///< EPTP12, or nCR3 of vmcb12
	uint64_t cr0;      ///< NPT: L1's CR0 (at VMRUN)
	uint64_t cr4;      ///< NPT: L1's CR4
	uint64_t efer;     ///< NPT: L1's EFER
};

/** What nest_tdp_root() returns. IMPORTANT: layout. */
struct nest_tdp_root_info {
	uint64_t pointer; ///< value to load: EPTP02 (WB, same walk length and A/D as EPTP12) or nCR3 of vmcb02
	uint64_t hpa;     ///< host-physical address of the root table page
	uint8_t levels;   ///< levels of the shadow tree (4 or 5)
	uint8_t created;  ///< 1 if the shadow was built, or lost entries, since the last call: flush L2's TLB tag (VPID/ASID) before entry
	uint8_t reserved[6]; ///< zero
};

/** What the caller of nest_tdp_fault() must do. */
enum nest_tdp_fault_kind {
	NEST_TDP_FIXED = 0,     ///< an entry was installed; resume L2
	NEST_TDP_REFLECT = 1,   ///< reflect an EPT violation (exit reason 48) / \#NPF to L1
	NEST_TDP_MISCONFIG = 2, ///< reflect an EPT misconfiguration (exit reason 49) to L1
	NEST_TDP_L0 = 3,        ///< L0 must handle: L1-physical l1_gpa is not mapped (or lacks rights) in L0's map
	NEST_TDP_RETRY = 4,     ///< nothing done (L1 changed its tables meanwhile); resume L2
	/** L2 writes an L1-physical page that nest_tdp_watch_writes() watches
	 *  (l1_gpa says where); nothing was installed. Added after 0.1.0. */
	NEST_TDP_WRITE_WATCHED = 5
};

/** How many L1-physical pages nest_tdp_watch_writes() watches at most. */
#define NEST_TDP_MAX_WATCHED 8

/** @name Fault input flags (nest_tdp_fault_in::flags)
 *  @{ */
#define NEST_TDP_F_GLA_VALID 0x1u  ///< a guest-linear address exists (EPT exit qual bit 7)
#define NEST_TDP_F_FINAL 0x2u      ///< access to the final translation (bit 8 / EXITINFO1 bit 32); else a guest page-walk access (EXITINFO1 bit 33)
#define NEST_TDP_F_USER 0x4u       ///< the linear address is a user-mode one (MBEC: fetch uses UX)
/** @} */

/** One fault of L2 on EPT02/NPT02, as the hardware reported it. IMPORTANT: layout. */
struct nest_tdp_fault_in {
	uint64_t l2_gpa; ///< faulting L2-physical address (guest-physical address / EXITINFO2)
	uint64_t gla;    ///< guest-linear address if NEST_TDP_F_GLA_VALID
	uint32_t access; ///< NEST_ACC_R / NEST_ACC_W / NEST_ACC_X of the access
	uint32_t flags;  ///< NEST_TDP_F_* flags
};

/** @name EPT-violation exit qualification bits (SDM 28.3.3.2, Table 28-7)
 *  @{ */
#define NEST_EPT_QUAL_READ (1ull << 0)       ///< data read
#define NEST_EPT_QUAL_WRITE (1ull << 1)      ///< data write
#define NEST_EPT_QUAL_FETCH (1ull << 2)      ///< instruction fetch
#define NEST_EPT_QUAL_READABLE (1ull << 3)   ///< the translation allows reads
#define NEST_EPT_QUAL_WRITABLE (1ull << 4)   ///< the translation allows writes
#define NEST_EPT_QUAL_EXECUTABLE (1ull << 5) ///< allows (supervisor-mode, with MBEC) fetches
#define NEST_EPT_QUAL_USER_EXEC (1ull << 6)  ///< allows user-mode fetches (MBEC only)
#define NEST_EPT_QUAL_GLA_VALID (1ull << 7)  ///< guest-linear address field valid
#define NEST_EPT_QUAL_GLA_FINAL (1ull << 8)  ///< access to the final translation (not a page walk)
#define NEST_EPT_QUAL_NMI_UNBLOCK (1ull << 12) ///< NMI unblocking due to IRET (the caller sets it)
/** @} */

/** @name \#NPF EXITINFO1 bits (APM 15.25.6)
 *  @{ */
#define NEST_NPF_P (1ull << 0)      ///< the nested entry was present (protection violation)
#define NEST_NPF_W (1ull << 1)      ///< write access
#define NEST_NPF_U (1ull << 2)      ///< user access (always: nested walks are user accesses)
#define NEST_NPF_RSVD (1ull << 3)   ///< reserved bit set in a nested entry
#define NEST_NPF_ID (1ull << 4)     ///< instruction fetch
#define NEST_NPF_FINAL (1ull << 32) ///< fault during the final guest-physical translation
#define NEST_NPF_WALK (1ull << 33)  ///< fault during a guest page-table walk
/** @} */

/** The answer to one fault. IMPORTANT: layout. */
struct nest_tdp_fault_out {
	uint32_t kind;      ///< enum nest_tdp_fault_kind
	uint32_t l0_access; ///< NEST_TDP_L0: NEST_ACC_* that L0's map must grant at l1_gpa
	uint64_t exit_qual; ///< EPT REFLECT: exit qualification (NEST_EPT_QUAL_*); MISCONFIG: 0
	uint64_t gpa;       ///< REFLECT / MISCONFIG: guest-physical address (EPT) / EXITINFO2 (NPF)
	uint64_t gla;       ///< EPT REFLECT: guest-linear address (if bit 7 of exit_qual)
	uint64_t exitinfo1; ///< NPT REFLECT: \#NPF EXITINFO1 (NEST_NPF_*)
	uint64_t exitinfo2; ///< NPT REFLECT: \#NPF EXITINFO2 (the L2-physical address)
	uint64_t l1_gpa;    ///< NEST_TDP_L0: the L1-physical address L0 must map; FIXED: where l2_gpa led
	uint64_t hpa;       ///< FIXED: host-physical address installed for l2_gpa
	uint8_t page_shift; ///< FIXED: size of the installed shadow page (12, 21 or 30)
	uint8_t reserved[7]; ///< zero
};

/** Counters of a shadow context. IMPORTANT: layout; may grow (size first). */
struct nest_tdp_stats {
	uint32_t size;        ///< sizeof(struct nest_tdp_stats) as the caller compiled it
	uint32_t pages_in_use; ///< shadow table pages held now
	uint32_t pages_max;   ///< configured bound
	uint32_t roots;       ///< cached roots now
	uint64_t root_hits;   ///< nest_tdp_root() found a cached root
	uint64_t root_misses; ///< nest_tdp_root() had to build a new root
	uint64_t faults;      ///< nest_tdp_fault() calls
	uint64_t fixed;       ///< ... that installed an entry
	uint64_t reflected;   ///< ... that asked for an EPT violation / \#NPF
	uint64_t misconfigs;  ///< ... that asked for an EPT misconfiguration
	uint64_t l0_faults;   ///< ... that asked L0 to map L1 memory
	uint64_t reclaims;    ///< roots reclaimed to respect max_pages / max_roots
	uint64_t invalidations; ///< roots emptied by invalidation calls
	uint64_t sync_kept;    ///< leaves nest_tdp_sync_root() kept (added after 0.1.0)
	uint64_t sync_dropped; ///< leaves it dropped as L1's tables changed (added after 0.1.0)
};

/** An opaque shadow context (lives in caller memory of nest_tdp_size() bytes). */
struct nest_tdp;

/**
 * @brief Bytes of caller memory a shadow context needs.
 * @param cfg The configuration (max_pages and max_roots size it).
 * @return The size, or 0 if @p cfg is invalid.
 */
NEST_API size_t nest_tdp_size(const struct nest_tdp_config *cfg);

/**
 * @brief Initialise a shadow context in caller memory.
 * @param mem Memory of nest_tdp_size(cfg) bytes, 16-byte aligned.
 * @param size Its size.
 * @param be The backend (read_l1, cmpxchg_l1, l1_to_host, page_alloc,
 *        page_free, flush); copied.
 * @param cfg The configuration; copied.
 * @param[out] out The context (== @p mem).
 * @return NEST_OK, NEST_E_INVAL, NEST_E_SIZE, NEST_E_NOSPC (mem too small)
 *         or NEST_E_MISSING_OP.
 */
NEST_API int nest_tdp_init(void *mem, size_t size, const struct nest_backend *be,
			   const struct nest_tdp_config *cfg, struct nest_tdp **out);

/**
 * @brief Bytes of caller memory one vCPU's handle on a shared shadow needs.
 * @return The size (small and fixed). Added after 0.1.0.
 */
NEST_API size_t nest_tdp_vcpu_size(void);

/**
 * @brief A vCPU's handle on a shadow shared by every vCPU of one L1 (the VM object).
 *
 * The context nest_tdp_init() returns is the VM object: the shadow tables,
 * their cache, the pool and the reverse map, shared by all vCPUs of one L1.
 * Used directly it acts as vCPU 0 (what a single-vCPU caller does). For
 * several vCPUs, give each one a handle made here and pass the handle
 * wherever a struct nest_tdp is taken (nest_vmx_l0::tdp,
 * nest_svm_config::tdp, every nest_tdp_* call): the handle names the vCPU
 * whose root is pinned, whose hardware may cache what, and who must flush.
 *
 * Per vCPU, the root that nest_tdp_root() last returned stays pinned: no
 * other vCPU's call reclaims it while that vCPU may run on it. Every
 * invalidation (nest_tdp_invalidate_*, nest_tdp_l1_map_changed(), roots
 * reclaimed or emptied for room) is sent through
 * nest_backend_ops::flush_vcpus to the set of vCPUs that loaded the
 * affected root; L0 honours it before it resumes any of them in guest mode.
 * docs/porting.md, "Several vCPUs", gives the whole contract.
 *
 * @param mem Memory of nest_tdp_vcpu_size() bytes, 8-byte aligned.
 * @param size Its size.
 * @param vm The VM object (from nest_tdp_init(); not a handle).
 * @param vcpu The vCPU number, below NEST_MAX_VCPUS; one handle per number.
 * @param[out] out The handle (== @p mem).
 * @return NEST_OK, NEST_E_INVAL, NEST_E_NOSPC (mem too small), or
 *         NEST_E_MISSING_OP (the VM's backend has no flush_vcpus and
 *         @p vcpu is not 0). Added after 0.1.0.
 */
NEST_API int nest_tdp_vcpu_init(void *mem, size_t size, struct nest_tdp *vm, uint32_t vcpu,
				struct nest_tdp **out);

/**
 * @brief Free every shadow page (through page_free). The memory may then be reused.
 *
 * On the VM object only, once no vCPU runs on its shadow; vCPU handles
 * need no finalisation (a handle given here is ignored).
 * @param ctx The context (NULL is ignored).
 */
NEST_API void nest_tdp_fini(struct nest_tdp *ctx);

/**
 * @brief Find or build the shadow root for L1's table; call before every entry to L2.
 *
 * The returned root stays valid until the next nest_tdp_root() call on
 * this context (it is never reclaimed while it is the current root).
 * @param ctx The context.
 * @param l1 L1's root (EPTP12 or nCR3 and mode).
 * @param[out] info What to load into vmcs02/vmcb02.
 * @return NEST_OK, NEST_E_INVAL (bad EPTP or mode), NEST_E_NOMEM or NEST_E_BACKEND
 *         (page_alloc failed or returned an unusable page).
 */
NEST_API int nest_tdp_root(struct nest_tdp *ctx, const struct nest_tdp_l1_root *l1,
			   struct nest_tdp_root_info *info);

/**
 * @brief Handle an EPT violation / \#NPF of L2 on EPT02/NPT02.
 * @param ctx The context.
 * @param l1 The same L1 root as given to nest_tdp_root() for this entry.
 * @param in The fault as the hardware reported it.
 * @param[out] out What to do; always filled on NEST_OK.
 * @return NEST_OK, NEST_E_INVAL, NEST_E_NOMEM, NEST_E_BACKEND (l1_to_host failed
 *         otherwise than NEST_E_NOT_MAPPED) or NEST_E_RANGE (L2 address wider than
 *         the shadow tree).
 */
NEST_API int nest_tdp_fault(struct nest_tdp *ctx, const struct nest_tdp_l1_root *l1,
			    const struct nest_tdp_fault_in *in, struct nest_tdp_fault_out *out);

/**
 * @brief INVEPT single-context (or an SVM TLB flush of one nCR3): empty that root's shadow.
 * @param ctx The context.
 * @param l1 L1's root; only @c kind and the table address in @c pointer matter (INVEPT
 *        ignores the other EPTP bits), so every cached variant of that table is emptied.
 *        Unknown roots are ignored.
 * @return NEST_OK or NEST_E_INVAL.
 */
NEST_API int nest_tdp_invalidate_root(struct nest_tdp *ctx, const struct nest_tdp_l1_root *l1);

/**
 * @brief L1 flushed a root (INVEPT single-context, a TLB_CONTROL flush at
 *        VMRUN): make its shadow agree with L1's table as it is now.
 *
 * For L2 the same as nest_tdp_invalidate_root(): after the call every
 * access of L2 sees L1's and L0's tables as they are, with the accessed
 * and dirty flags set as the processor would set them. It costs less when
 * L1 flushes without having changed much (kvm-unit-tests flushes at every
 * VMRUN): each shadow leaf is checked against a fresh walk of L1's table
 * (which sets no flag) and kept if the walk gives the same entry and every
 * accessed flag it needs is set already, dropped otherwise. A root with
 * more than a few hundred leaves is dropped whole, as by
 * nest_tdp_invalidate_root(). The translations hardware may cache from the
 * root are flushed in both cases (nest_tdp_root_info::created, or
 * NEST_FLUSH_EPT_CONTEXT). Same roots as nest_tdp_invalidate_root().
 * Added after 0.1.0.
 * @param ctx The context.
 * @param l1 L1's root. Unknown roots are ignored.
 * @return NEST_OK or NEST_E_INVAL.
 */
NEST_API int nest_tdp_sync_root(struct nest_tdp *ctx, const struct nest_tdp_l1_root *l1);

/**
 * @brief INVEPT global (or an SVM flush of everything): empty every shadow.
 * @param ctx The context.
 * @return NEST_OK or NEST_E_INVAL.
 */
NEST_API int nest_tdp_invalidate_all(struct nest_tdp *ctx);

/**
 * @brief Drop shadow entries for an L2-physical range of one root.
 *
 * Not needed by INVVPID or INVLPGA (they invalidate linear mappings, which
 * the shadow does not hold); offered for callers that want a precise flush.
 * @param ctx The context.
 * @param l1 L1's root (unknown roots are ignored).
 * @param l2_gpa Start of the range.
 * @param len Length in bytes (0 is nothing).
 * @return NEST_OK or NEST_E_INVAL.
 */
NEST_API int nest_tdp_invalidate_range(struct nest_tdp *ctx, const struct nest_tdp_l1_root *l1,
				       uint64_t l2_gpa, uint64_t len);

/**
 * @brief L0 unmapped, remapped or resized L1-physical memory [l1_gpa, l1_gpa+len).
 *
 * Call after changing L0's map (before L2 runs again); every shadow entry
 * that may lead into the range is dropped, and hardware is flushed.
 * @param ctx The context.
 * @param l1_gpa Start of the L1-physical range.
 * @param len Length in bytes (UINT64_MAX: everything).
 * @return NEST_OK or NEST_E_INVAL.
 */
NEST_API int nest_tdp_l1_map_changed(struct nest_tdp *ctx, uint64_t l1_gpa, uint64_t len);

/**
 * @brief Make L2's writes to some L1-physical pages come to L0 first.
 *
 * For data the processor consults in L1's memory while L2 runs (L1's I/O
 * and MSR permission maps, say), which L2 may be able to write. Replaces
 * the watched set: the shadow entries that map those pages go, and later
 * ones map them read-only (in 4 KiB pages). A write of L2 to one of them
 * then ends nest_tdp_fault() with NEST_TDP_WRITE_WATCHED before anything is
 * installed; the caller takes note, removes the page from the set (or
 * clears it) and resumes L2, whose write then goes through.
 *
 * @param ctx The context.
 * @param l1_pages L1-physical addresses (any offset: the page is watched),
 *        or NULL with @p n = 0 to watch nothing.
 * @param n At most NEST_TDP_MAX_WATCHED.
 * @return NEST_OK, NEST_E_INVAL.
 */
NEST_API int nest_tdp_watch_writes(struct nest_tdp *ctx, const uint64_t *l1_pages, unsigned n);

/**
 * @brief Read the counters.
 * @param ctx The context.
 * @param[in,out] st Set st->size first; as much as the caller knows is filled.
 * @return NEST_OK, NEST_E_INVAL or NEST_E_SIZE.
 */
NEST_API int nest_tdp_get_stats(const struct nest_tdp *ctx, struct nest_tdp_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* NEST_TDP_H */
