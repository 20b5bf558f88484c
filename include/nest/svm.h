/* SPDX-License-Identifier: MIT */
/**
 * @file svm.h
 * @brief Nested SVM (AMD-V): the VMCB, VMRUN, \#VMEXIT reflection, the SVM
 *        instructions, MSRs and CPUID leaf that L1 sees.
 *
 * References are to the AMD64 Architecture Programmer's Manual, Vol. 2
 * (APM): chapter 15 and appendix B (VMCB layout) and C (exit codes).
 *
 * @par The three VMCBs
 * - vmcb01: L0's VMCB for running L1. It lives in L0 memory and belongs to
 *   the caller; libnest reads and writes it (struct nest_vmcb) during the
 *   calls that receive it.
 * - vmcb12: L1's VMCB for running L2, in L1 memory. libnest reads it once
 *   per emulated VMRUN into L0 memory, checks that copy and uses only the
 *   copy; it writes it back once per reflected \#VMEXIT.
 * - vmcb02: what L0 really runs L2 with. The caller provides the page
 *   (nest_svm_config::vmcb02) and the merged permission maps; libnest builds
 *   them at each emulated VMRUN.
 *
 * @par How a caller (L0) drives a context
 * 1. nest_svm_init() in caller memory of nest_svm_size() bytes. L0 runs L1
 *    on vmcb01 with these intercepts set: VMRUN, VMLOAD, VMSAVE, STGI, CLGI
 *    (unless it gives L1 hardware vGIF and sets NEST_SVM_CFG_L0_VGIF),
 *    SKINIT, INVLPGA, MSR accesses to EFER, VM_CR, VM_HSAVE_PA and
 *    TSC_RATIO, and CPUID.
 * 2. After every \#VMEXIT of L1 the caller makes vmcb01's save area complete
 *    (VMSAVE to vmcb01: FS, GS, TR, LDTR, KernelGsBase, STAR, LSTAR, CSTAR,
 *    SFMASK, SYSENTER_*), and before every VMRUN of a VMCB it does VMLOAD of
 *    that VMCB. The same holds for vmcb02 when running L2.
 * 3. L1 exit with an SVM exit code (VMRUN, VMLOAD, VMSAVE, STGI, CLGI,
 *    SKINIT, INVLPGA) or an MSR exit: nest_svm_l1_exit(). NEST_E_NOENT means
 *    "not libnest's" (an MSR it does not own): the caller handles it.
 *    L1 CPUID: the caller computes its answer and passes it through
 *    nest_svm_cpuid(), which owns leaf 0x8000000A and the SVM bit of
 *    0x80000001.
 * 4. Act on nest_svm_action::kind:
 *    - NEST_SVM_ACT_RESUME_L1: VMRUN vmcb01 (libnest updated it: RIP, RAX,
 *      state restored by a \#VMEXIT, ...). Write nest_svm_regs::gpr back to
 *      the registers if NEST_SVM_ACT_F_GPRS is set.
 *    - NEST_SVM_ACT_INJECT_L1: inject exception @c vector (with @c
 *      error_code if @c has_error_code) into L1, e.g. through vmcb01's
 *      EVENTINJ, then VMRUN vmcb01. RIP is unchanged.
 *    - NEST_SVM_ACT_RUN_L2: if @c tsc_ratio is nonzero, load it into the
 *      TSC_RATIO MSR while L2 runs; VMLOAD and VMRUN vmcb02 (@c vmcb_pa).
 *      When the \#VMEXIT comes, VMSAVE vmcb02 and call nest_svm_l2_exit().
 *    - NEST_SVM_ACT_L0_HANDLES: the L2 exit in vmcb02 (nest_svm_vmcb02()) is
 *      L0's, not L1's (a physical interrupt, an NPT01 fault, an intercept
 *      only L0 set, ...). Handle it as for any guest, on vmcb02 and the
 *      current registers (which are L2's), then call nest_svm_resume_l2().
 *      For \#NPF under NPT02, @c l1_gpa and @c l0_access say which page of
 *      L1 memory L0 must map first.
 *    - NEST_SVM_ACT_SHUTDOWN_L1: L1 is in the shutdown state (an L2
 *      shutdown that L1 does not intercept): treat it as L1's triple fault.
 * 5. Interrupts for L1 while L2 runs: nest_svm_get_state() says whether L1
 *    intercepts INTR/NMI and whether L1 can take them now; to deliver, call
 *    nest_svm_force_exit() with NEST_SVM_EXIT_INTR (or NMI) and run L1. While
 *    nest_svm_state::gif is 0, hold interrupts and NMIs for L1.
 * 6. Structures with a @c size member (config, regs, action, state, caps)
 *    must have it set by the caller before each call that receives them.
 *    After changing the contents of its own permission maps, L0 calls
 *    nest_svm_l0_maps_changed().
 *
 * The VMRUN consistency checks are also a pure function,
 * nest_svm_check_vmcb(), with one named rule per check
 * (NEST_SVM_CHECK_LIST). docs/conformance-svm.md lists every choice and
 * deviation.
 */
#ifndef NEST_SVM_H
#define NEST_SVM_H

#include <nest/base.h>
#include <nest/backend.h>
#include <nest/vmcb.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nest_tdp; /* tdp.h: the NPT02 shadow context */

/* ------------------------------------------------------------------------ */
/* Features, CPUID 0x8000000A and the policy */

/**
 * @name SVM features (CPUID 0x8000000A EDX bits, APM 15.5; the policy mask
 *       nest_svm_config::features uses the same bits)
 *
 * A feature is offered to L1 only if the policy asks for it, the host has it
 * (or L0 and libnest carry it out in software: NEST_SVM_CFG_SOFT_*) and
 * libnest implements it (NEST_SVM_F_SUPPORTED).
 * @{
 */
#define NEST_SVM_F_NP (1u << 0)		      ///< nested paging (needs nest_svm_config::tdp)
#define NEST_SVM_F_LBRV (1u << 1)	      ///< LBR virtualization
#define NEST_SVM_F_SVML (1u << 2)	      ///< SVM lock
#define NEST_SVM_F_NRIPS (1u << 3)	      ///< next-RIP save on \#VMEXIT
#define NEST_SVM_F_TSC_RATE (1u << 4)	      ///< TSC ratio MSR
#define NEST_SVM_F_VMCB_CLEAN (1u << 5)	      ///< VMCB clean bits
#define NEST_SVM_F_FLUSH_BY_ASID (1u << 6)    ///< TLB_CONTROL 3 and 7
#define NEST_SVM_F_DECODE_ASSISTS (1u << 7)   ///< decode assists
#define NEST_SVM_F_PAUSE_FILTER (1u << 10)    ///< pause filter count
#define NEST_SVM_F_PF_THRESHOLD (1u << 12)    ///< pause filter threshold
#define NEST_SVM_F_AVIC (1u << 13)	      ///< AVIC (never offered)
#define NEST_SVM_F_V_VMSAVE_VMLOAD (1u << 15) ///< virtual VMSAVE/VMLOAD (never offered)
#define NEST_SVM_F_VGIF (1u << 16)	      ///< virtual GIF
/** Features libnest can offer. */
#define NEST_SVM_F_SUPPORTED                                                                       \
	(NEST_SVM_F_NP | NEST_SVM_F_LBRV | NEST_SVM_F_SVML | NEST_SVM_F_NRIPS |                    \
	 NEST_SVM_F_TSC_RATE | NEST_SVM_F_VMCB_CLEAN | NEST_SVM_F_FLUSH_BY_ASID |                  \
	 NEST_SVM_F_DECODE_ASSISTS | NEST_SVM_F_PAUSE_FILTER | NEST_SVM_F_PF_THRESHOLD |           \
	 NEST_SVM_F_VGIF)
/** @} */

/** @name Configuration flags (nest_svm_config::flags)
 *  @{ */
#define NEST_SVM_CFG_SVM_ALLOWED 0x1u ///< L1 may use SVM (else: CPUID hides it, EFER.SVME \#GP)
#define NEST_SVM_CFG_LONG_MODE 0x2u   ///< L1 has long mode (CPUID 0x80000001 EDX.LM)
/** L0 runs L1 with hardware vGIF: L1's GIF is vmcb01's V_GIF and STGI/CLGI of L1 need not exit. */
#define NEST_SVM_CFG_L0_VGIF 0x4u
/** The host has no nRIP save and L0 gives nest_svm_regs::insn_len at every
 *  exit of L2 for which the processor saves nRIP (APM 15.7.1: instruction
 *  intercepts, MSR and IOIO intercepts, \#BP, \#OF and \#BR of INT3, INTO
 *  and BOUND): libnest offers NEST_SVM_F_NRIPS (when the policy allows it),
 *  fills vmcb12's NEXT_RIP from that length on those exits (0 on the
 *  others) and delivers L1's software interrupts at L1's NEXT_RIP. */
#define NEST_SVM_CFG_SOFT_NRIPS 0x8u
/** The host has no pause filter: libnest offers NEST_SVM_F_PAUSE_FILTER
 *  (not the threshold) and counts L2's PAUSE exits against vmcb12's pause
 *  filter count (APM 15.14.4): L1 gets the PAUSE intercept at the count-th
 *  PAUSE after its VMRUN; the PAUSEs before it libnest completes for L2. */
#define NEST_SVM_CFG_SOFT_PAUSE_FILTER 0x10u
/** The host has no TSC ratio: libnest offers NEST_SVM_F_TSC_RATE and, while
 *  L1's TSC_RATIO is not 1.0, runs vmcb02 on L1's time base, intercepts
 *  L2's RDTSC, RDTSCP and TSC reads and answers those L1 does not intercept
 *  itself (APM 15.30.5). Needs nest_backend_ops::guest_rdmsr: at an exit of
 *  L2 it reads IA32_TSC as vmcb02 runs (host TSC + vmcb02's TSC_OFFSET)
 *  and TSC_AUX (RDTSCP). */
#define NEST_SVM_CFG_SOFT_TSC_RATE 0x20u
/** @} */

/**
 * @brief Caller-provided memory for one L0 structure: its host address
 *        (through which libnest accesses it) and its host-physical address.
 *
 * IMPORTANT: layout.
 */
struct nest_svm_page {
	void *hva;    ///< pointer libnest uses (4 KiB aligned)
	uint64_t hpa; ///< host-physical address the hardware uses (4 KiB aligned)
};

/**
 * @brief Configuration of one nested-SVM context (one L1 vCPU).
 *
 * IMPORTANT: layout. Append only; @c size first. nest_svm_init() accepts
 * every size from NEST_SVM_CONFIG_MIN_SIZE up; fields beyond the caller's
 * size are zero.
 */
struct nest_svm_config {
	uint32_t size;	///< sizeof(struct nest_svm_config) as the caller compiled it
	uint32_t flags; ///< NEST_SVM_CFG_*
	/** The host's CPUID 0x8000000A: EAX (revision), EBX (number of ASIDs),
	 *  ECX, EDX (features). */
	uint32_t host_cpuid[4];
	uint32_t features;	///< NEST_SVM_F_* the policy allows L1 to see
	uint32_t l1_maxphyaddr; ///< L1's physical-address width (CPUID 0x80000008 EAX[7:0]), 32..52
	uint32_t l1_asids; ///< ASIDs reported to L1 (CPUID 0x8000000A EBX); 0: the host's count
	/** L0's ASID for L2 (nonzero, distinct from vmcb01's). libnest maps
	 *  every ASID of L1 to it and flushes when L1 switches ASIDs. */
	uint32_t l2_asid;
	/** EFER bits L1 may set besides SVME (SCE, LME, NXE, ...); LMA is
	 *  implied with LME. The reference for the EFER MBZ check of VMRUN. */
	uint64_t l1_efer_allowed;
	/** CR4 bits L1's CPUID offers: the reference for the CR4 MBZ check. */
	uint64_t l1_cr4_allowed;
	/** nCR3 of vmcb02 when L1 runs L2 without nested paging: L0's NPT01
	 *  root, the value L0 uses in vmcb01. */
	uint64_t npt01_ncr3;
	/** L0's TSC ratio for L1 (8.32 fixed point, as the TSC_RATIO MSR);
	 *  0 means 1.0. Composed with L1's ratio for L2. */
	uint64_t l0_tsc_ratio;
	/** Intercepts L0 needs while L2 runs (the six words, as in the VMCB):
	 *  vmcb02 always has these, whatever vmcb12 says. */
	uint32_t l0_intercepts[NEST_SVM_INTERCEPT_WORDS];
	/** L0's MSR permission map for L2 (8 KiB; read during calls), or NULL
	 *  (no MSR intercepts of L0's own). libnest may keep a merged copy
	 *  across VMRUNs: after changing it, call nest_svm_l0_maps_changed(). */
	const void *l0_msrpm;
	/** L0's I/O permission map for L2 (12 KiB), or NULL. */
	const void *l0_iopm;
	struct nest_svm_page vmcb02;  ///< the vmcb02 page
	struct nest_svm_page msrpm02; ///< 8 KiB, physically contiguous: the merged MSRPM
	struct nest_svm_page iopm02;  ///< 12 KiB, physically contiguous: the merged IOPM
	/** The NPT02 shadow (tdp.h), or NULL: then NEST_SVM_F_NP is not
	 *  offered and L2 always runs on NPT01. With several vCPUs, this
	 *  vCPU's handle (nest_tdp_vcpu_init()) on the VM's shared shadow. */
	struct nest_tdp *tdp;
};

/** The smallest nest_svm_config::size libnest accepts. */
#define NEST_SVM_CONFIG_MIN_SIZE (offsetof(struct nest_svm_config, tdp) + sizeof(void *))

/**
 * @brief What VMRUN's consistency checks compare against: the processor
 *        L1 sees.
 *
 * IMPORTANT: layout. Append only; @c size first.
 */
struct nest_svm_caps {
	uint32_t size;	       ///< sizeof(struct nest_svm_caps) as the caller compiled it
	uint32_t features;     ///< NEST_SVM_F_* offered to L1
	uint32_t maxphyaddr;   ///< L1's physical-address width, 32..52
	uint32_t long_mode;    ///< nonzero: L1's processor has long mode
	uint64_t efer_allowed; ///< EFER bits that are not MBZ (SVME included)
	uint64_t cr4_allowed;  ///< CR4 bits that are not MBZ
};

/** The smallest nest_svm_caps::size libnest accepts. */
#define NEST_SVM_CAPS_MIN_SIZE (offsetof(struct nest_svm_caps, cr4_allowed) + sizeof(uint64_t))

/* ------------------------------------------------------------------------ */
/* VMRUN consistency checks (APM 15.5.1 and 15.20) */

/**
 * @brief The VMRUN consistency rules, as an X-macro:
 *        X(NAME, "rule-name", "what is illegal", "APM reference").
 *
 * Checked in this order; the first that fails is reported. Append only.
 */
#define NEST_SVM_CHECK_LIST(X)                                                                     \
	X(EFER_SVME, "efer-svme-clear", "EFER.SVME is zero", "APM 15.5.1")                         \
	X(CR0_CD_NW, "cr0-cd-nw", "CR0.CD is zero and CR0.NW is set", "APM 15.5.1")                \
	X(CR0_HIGH, "cr0-high", "CR0[63:32] are not zero", "APM 15.5.1")                           \
	X(CR3_MBZ, "cr3-mbz", "an MBZ bit of CR3 is set", "APM 15.5.1, 3.1.2")                     \
	X(CR4_MBZ, "cr4-mbz", "an MBZ bit of CR4 is set", "APM 15.5.1, 3.1.3")                     \
	X(DR6_HIGH, "dr6-high", "DR6[63:32] are not zero", "APM 15.5.1")                           \
	X(DR7_HIGH, "dr7-high", "DR7[63:32] are not zero", "APM 15.5.1")                           \
	X(EFER_MBZ, "efer-mbz", "an MBZ bit of EFER is set", "APM 15.5.1, 3.1.7")                  \
	X(EFER_LM_UNSUPPORTED, "efer-long-mode-unsupported",                                       \
	  "EFER.LMA or EFER.LME is set and the processor has no long mode", "APM 15.5.1")          \
	X(LME_PG_NO_PAE, "lme-pg-no-pae", "EFER.LME and CR0.PG are set and CR4.PAE is zero",       \
	  "APM 15.5.1")                                                                            \
	X(LME_PG_NO_PE, "lme-pg-no-pe", "EFER.LME and CR0.PG are set and CR0.PE is zero",          \
	  "APM 15.5.1")                                                                            \
	X(LME_PG_PAE_CS_L_D, "cs-l-and-d", "EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D are all set", \
	  "APM 15.5.1")                                                                            \
	X(VMRUN_INTERCEPT, "vmrun-intercept-clear", "the VMRUN intercept bit is clear",            \
	  "APM 15.5.1")                                                                            \
	X(MSRPM_RANGE, "msrpm-range",                                                              \
	  "the MSR permission map extends to or beyond the maximum physical address",              \
	  "APM 15.5.1, 15.11")                                                                     \
	X(IOPM_RANGE, "iopm-range",                                                                \
	  "the I/O permission map extends to or beyond the maximum physical address",              \
	  "APM 15.5.1, 15.10.1")                                                                   \
	X(EVENTINJ_TYPE, "eventinj-type", "EVENTINJ has a reserved type (1, 5, 6 or 7)",           \
	  "APM 15.20")                                                                             \
	X(EVENTINJ_VECTOR, "eventinj-vector",                                                      \
	  "EVENTINJ injects an exception with vector 2 (NMI) or above 31", "APM 15.20")            \
	X(EVENTINJ_RESERVED, "eventinj-reserved", "EVENTINJ bits 30:12 are not zero", "APM 15.20") \
	X(ASID_ZERO, "asid-zero", "the guest ASID is zero", "APM 15.5.1, 15.16")                   \
	X(NP_UNSUPPORTED, "np-unsupported", "nested paging is enabled and not supported",          \
	  "APM 15.25.3")                                                                           \
	X(SEV_UNSUPPORTED, "sev-unsupported", "SEV or SEV-ES is enabled and not supported",        \
	  "APM 15.34")                                                                             \
	X(NCR3_MBZ, "ncr3-mbz", "nested paging is enabled and nCR3 sets bits beyond MAXPHYADDR",   \
	  "APM 15.25.3")                                                                           \
	X(GPAT_INVALID, "gpat-invalid",                                                            \
	  "nested paging is enabled and G_PAT holds a reserved memory type", "APM 15.25.8, 7.8.1")

/** VMRUN consistency rules: NEST_SVM_CHECK_<NAME>; 0 means every check passed. */
enum nest_svm_check {
	NEST_SVM_CHECK_OK = 0, ///< no rule violated
/// @cond INTERNAL
#define NEST_SVM_CHECK_ENUM_(name, id, text, ref) NEST_SVM_CHECK_##name,
	NEST_SVM_CHECK_LIST(NEST_SVM_CHECK_ENUM_)
#undef NEST_SVM_CHECK_ENUM_
	/// @endcond
	NEST_SVM_CHECK_COUNT_ ///< one past the last rule
};

/**
 * @brief The outcome of nest_svm_check_vmcb().
 *
 * IMPORTANT: layout.
 */
struct nest_svm_diag {
	uint32_t rule;	 ///< enum nest_svm_check (NEST_SVM_CHECK_OK if valid)
	uint32_t offset; ///< VMCB offset of the field the rule is about (0 if none)
	uint64_t value;	 ///< that field's value
};

/**
 * @brief Apply every VMRUN consistency check to a VMCB image.
 *
 * Pure: reads only @p vmcb and @p caps. A failure is what the hardware
 * reports as EXITCODE VMEXIT_INVALID (NEST_SVM_EXIT_INVALID).
 * @param vmcb The VMCB (already in L0 memory).
 * @param caps The processor L1 sees.
 * @param diag Receives the first failing rule, or NEST_SVM_CHECK_OK.
 * @return NEST_OK (whatever the verdict), NEST_E_INVAL (NULL) or
 *         NEST_E_SIZE (@c caps->size too small).
 */
NEST_API int nest_svm_check_vmcb(const struct nest_vmcb *vmcb, const struct nest_svm_caps *caps,
				 struct nest_svm_diag *diag);

/**
 * @brief The short name of a rule ("cr0-cd-nw"); "ok" for NEST_SVM_CHECK_OK.
 * @param rule enum nest_svm_check.
 * @return A static string; "unknown" for unknown values.
 */
NEST_API const char *nest_svm_check_name(uint32_t rule);

/**
 * @brief What a rule forbids, and the APM section ("CR0.CD is zero and
 *        CR0.NW is set (APM 15.5.1)").
 * @param rule enum nest_svm_check.
 * @return A static string; "unknown" for unknown values.
 */
NEST_API const char *nest_svm_check_text(uint32_t rule);

/* ------------------------------------------------------------------------ */
/* The per-vCPU context */

/**
 * @brief A per-vCPU nested-SVM context (opaque).
 *
 * It lives in caller storage (nest_svm_size() bytes, aligned to 8) and holds
 * L1's virtual SVM state (EFER.SVME, VM_HSAVE_PA, VM_CR, TSC_RATIO, GIF),
 * the copy of vmcb12 taken at the last VMRUN, L1's saved host state, the
 * cached permission maps of L1, and the backend.
 */
struct nest_svm;

/**
 * @brief Bytes of storage a context needs.
 * @return The size; constant for a given library build.
 */
NEST_API size_t nest_svm_size(void);

/**
 * @brief Initialise a context in caller storage.
 *
 * Computes the features offered to L1 (policy AND host AND supported) and
 * puts L1 in its reset state: EFER.SVME clear, VM_HSAVE_PA 0, GIF set, not
 * in guest mode.
 * @param mem Storage of at least nest_svm_size() bytes, aligned to 8.
 * @param size Bytes at @p mem.
 * @param be The backend: read_l1 and write_l1 are required, flush is used
 *        for INVLPGA. The ops table must outlive the context.
 * @param cfg The configuration; read during the call only (the pages and
 *        bitmaps it points to must outlive the context).
 * @param out Receives the context (== @p mem).
 * @return NEST_OK; NEST_E_INVAL (NULL, misaligned memory or pages,
 *         l1_maxphyaddr outside 32..52, l2_asid 0); NEST_E_SIZE;
 *         NEST_E_MISSING_OP.
 */
NEST_API int nest_svm_init(void *mem, size_t size, const struct nest_backend *be,
			   const struct nest_svm_config *cfg, struct nest_svm **out);

/**
 * @brief The processor L1 sees (for nest_svm_check_vmcb() and tools).
 * @param ctx The context.
 * @param caps Receives the values; set @c caps->size first.
 * @return NEST_OK, NEST_E_INVAL or NEST_E_SIZE.
 */
NEST_API int nest_svm_get_caps(const struct nest_svm *ctx, struct nest_svm_caps *caps);

/**
 * @brief Adjust a CPUID answer for L1: leaf 0x8000000A (SVM revision,
 *        ASIDs, offered features) and the SVM bit (ECX bit 2) of 0x80000001.
 * @param ctx The context.
 * @param leaf EAX input.
 * @param subleaf ECX input.
 * @param regs EAX, EBX, ECX, EDX: in, the caller's answer; out, L1's.
 * @return NEST_OK if libnest changed the leaf, NEST_E_NOENT for other
 *         leaves (unchanged), NEST_E_INVAL.
 */
NEST_API int nest_svm_cpuid(const struct nest_svm *ctx, uint32_t leaf, uint32_t subleaf,
			    uint32_t regs[4]);

/* ------------------------------------------------------------------------ */
/* Events and actions */

/** What the caller does next (nest_svm_action::kind). Append only. */
enum nest_svm_action_kind {
	NEST_SVM_ACT_NONE = 0,	     ///< nothing (the call failed)
	NEST_SVM_ACT_RESUME_L1 = 1,  ///< VMRUN vmcb01 (as libnest left it)
	NEST_SVM_ACT_INJECT_L1 = 2,  ///< inject the exception in the action into L1, then run L1
	NEST_SVM_ACT_RUN_L2 = 3,     ///< VMRUN vmcb02 (nest_svm_action::vmcb_pa)
	NEST_SVM_ACT_L0_HANDLES = 4, ///< handle the L2 exit in vmcb02, then nest_svm_resume_l2()
	NEST_SVM_ACT_SHUTDOWN_L1 = 5 ///< L1 entered the shutdown state
};

/** @name Action flags (nest_svm_action::flags)
 *  @{ */
#define NEST_SVM_ACT_F_REFLECTED 0x1u ///< a \#VMEXIT was delivered to L1 (exitcode says which)
#define NEST_SVM_ACT_F_GPRS 0x2u      ///< nest_svm_regs::gpr changed: write them back
#define NEST_SVM_ACT_F_INVALID 0x4u   ///< the VMRUN failed its checks (nest_svm_action::check)
#define NEST_SVM_ACT_F_TLB_FLUSH 0x8u ///< RUN_L2: vmcb02's TLB_CONTROL asks for a flush
/** RUN_L2: L2 cleared the processor's GIF (CLGI without vGIF), so no
 *  physical interrupt of L1's may reach L2 or L1 until its STGI: an L0
 *  that passes interrupts through runs vmcb02 with RFLAGS.IF clear (vmcb02
 *  has V_INTR_MASKING set meanwhile); one that virtualizes them keeps
 *  them pending (nest_svm_state::l1_intr_allowed is 0). NMIs are not held. */
#define NEST_SVM_ACT_F_HOLD_INTR 0x10u
/** @} */

/**
 * @brief What the caller must do after an event, filled by libnest.
 *
 * IMPORTANT: layout. Append only; the caller sets @c size.
 */
struct nest_svm_action {
	uint32_t size;	  ///< sizeof(struct nest_svm_action) as the caller compiled it
	uint32_t kind;	  ///< enum nest_svm_action_kind
	uint32_t flags;	  ///< NEST_SVM_ACT_F_*
	uint32_t check;	  ///< enum nest_svm_check of a failed VMRUN (with NEST_SVM_ACT_F_INVALID)
	uint64_t vmcb_pa; ///< RUN_L2: host-physical address of vmcb02
	/** RUN_L2: TSC_RATIO to load while L2 runs (8.32); 0 when no ratio is
	 *  offered (keep L0's ratio for L1). */
	uint64_t tsc_ratio;
	uint64_t exitcode;	///< REFLECTED: the code given to L1; L0_HANDLES: vmcb02's code
	uint64_t exitinfo1;	///< with exitcode: EXITINFO1
	uint64_t exitinfo2;	///< with exitcode: EXITINFO2
	uint64_t l1_gpa;	///< L0_HANDLES for \#NPF under NPT02: L1-physical page L0 must map
	uint32_t l0_access;	///< with l1_gpa: NEST_ACC_* L0's map must grant
	uint8_t vector;		///< INJECT_L1: exception vector
	uint8_t has_error_code; ///< INJECT_L1: nonzero if @c error_code is delivered
	uint16_t reserved0;	///< zero
	uint32_t error_code;	///< INJECT_L1: error code
	uint32_t reserved1;	///< zero
};

/** The smallest nest_svm_action::size libnest accepts. */
#define NEST_SVM_ACTION_MIN_SIZE (offsetof(struct nest_svm_action, reserved1) + sizeof(uint32_t))

/**
 * @brief The general-purpose registers that are not in the VMCB.
 *
 * RAX and RSP live in the VMCB save area; their slots here are ignored.
 *
 * IMPORTANT: layout. Append only; @c size first.
 */
struct nest_svm_regs {
	uint32_t size; ///< sizeof(struct nest_svm_regs) as the caller compiled it
	/** Length of the intercepted instruction of an L1 exit, when the host
	 *  has no nRIP save; 0: use vmcb01's NEXT_RIP. At an exit of L2, the
	 *  length of L2's instruction (NEST_SVM_CFG_SOFT_NRIPS), or 0. */
	uint32_t insn_len;
	uint64_t gpr[16]; ///< RAX (ignored), RCX, RDX, RBX, RSP (ignored), RBP, RSI, RDI, R8..R15
};

/** The smallest nest_svm_regs::size libnest accepts. */
#define NEST_SVM_REGS_MIN_SIZE (offsetof(struct nest_svm_regs, gpr) + 16 * sizeof(uint64_t))

/**
 * @brief Handle an intercept of L1: VMRUN, VMLOAD, VMSAVE, STGI, CLGI,
 *        SKINIT, INVLPGA, or RDMSR/WRMSR of EFER, VM_CR, VM_HSAVE_PA,
 *        TSC_RATIO.
 *
 * Reads the exit from vmcb01's EXITCODE/EXITINFO1. Applies the
 * instruction's checks (\#UD when L1's EFER.SVME is clear or outside
 * protected mode, \#GP at CPL > 0, \#GP for a misaligned or out-of-range
 * rAX), then its operation; RIP advances past it on success.
 *
 * VMRUN: reads vmcb12 once, saves L1's host state, applies the
 * consistency checks; on failure it writes VMEXIT_INVALID into vmcb12 and
 * resumes L1 (NEST_SVM_ACT_F_INVALID, @c check names the rule); otherwise
 * it builds vmcb02 and asks for NEST_SVM_ACT_RUN_L2.
 * @param ctx The context.
 * @param vmcb01 L1's VMCB (complete: see the file comment); updated.
 * @param regs L1's other registers; RCX and RDX may be updated (RDMSR).
 * @param act Receives what to do; set @c act->size first.
 * @return NEST_OK with @p act filled (architectural failures are NEST_OK);
 *         NEST_E_NOENT (not an exit libnest handles); NEST_E_STATE (L2 is
 *         running: use nest_svm_l2_exit()); NEST_E_INVAL; NEST_E_SIZE;
 *         a backend status (L1 memory L0 does not back: nothing changed).
 */
NEST_API int nest_svm_l1_exit(struct nest_svm *ctx, struct nest_vmcb *vmcb01,
			      struct nest_svm_regs *regs, struct nest_svm_action *act);

/**
 * @brief L1 reads an SVM MSR (EFER, VM_CR, VM_HSAVE_PA, TSC_RATIO).
 *
 * For EFER, @p value holds vmcb01's EFER on input; libnest replaces SVME
 * with L1's view.
 * @param ctx The context.
 * @param msr The MSR number.
 * @param value In/out: the value.
 * @param act Receives NEST_SVM_ACT_RESUME_L1 (the caller completes RDMSR)
 *        or NEST_SVM_ACT_INJECT_L1 of \#GP(0).
 * @return NEST_OK; NEST_E_NOENT (not an SVM MSR); NEST_E_INVAL; NEST_E_SIZE.
 */
NEST_API int nest_svm_rdmsr(struct nest_svm *ctx, uint32_t msr, uint64_t *value,
			    struct nest_svm_action *act);

/**
 * @brief L1 writes an SVM MSR.
 *
 * For EFER, libnest owns SVME (and checks reserved bits and LME changes
 * under paging): @p value is what L1 writes; *@p hw_value holds vmcb01's
 * EFER on input and, on success, receives the EFER to load into vmcb01
 * (SVME forced on, as the hardware requires for a guest; LMA kept). For
 * the other MSRs *@p hw_value is unchanged.
 * @param ctx The context.
 * @param msr The MSR number.
 * @param value The value L1 writes.
 * @param hw_value In/out, see above (may be NULL for MSRs other than EFER).
 * @param act Receives NEST_SVM_ACT_RESUME_L1 or NEST_SVM_ACT_INJECT_L1 of \#GP(0).
 * @return As nest_svm_rdmsr().
 */
NEST_API int nest_svm_wrmsr(struct nest_svm *ctx, uint32_t msr, uint64_t value, uint64_t *hw_value,
			    struct nest_svm_action *act);

/**
 * @brief Handle a \#VMEXIT of L2 (after VMRUN of vmcb02 and VMSAVE of vmcb02).
 *
 * Decides from vmcb12's intercepts and L1's permission maps whether L1
 * intercepts the exit. If so, reflects it: writes EXITCODE, EXITINFO1/2,
 * EXITINTINFO, NEXT_RIP (when nRIP save is offered) and L2's state into
 * vmcb12, restores L1's host state into vmcb01, clears GIF, and asks for
 * NEST_SVM_ACT_RESUME_L1. Otherwise NEST_SVM_ACT_L0_HANDLES (or RUN_L2 when
 * libnest itself resolved it, e.g. an NPT02 fault it fixed).
 * @param ctx The context.
 * @param vmcb01 L1's VMCB; written when an exit is reflected.
 * @param regs The current registers (L2's; they become L1's on reflection).
 * @param act Receives what to do.
 * @return NEST_OK; NEST_E_STATE (L2 is not running); NEST_E_INVAL;
 *         NEST_E_SIZE; a backend status.
 */
NEST_API int nest_svm_l2_exit(struct nest_svm *ctx, struct nest_vmcb *vmcb01,
			      struct nest_svm_regs *regs, struct nest_svm_action *act);

/**
 * @brief Resume L2 after L0 handled an L2 exit itself.
 *
 * An event whose delivery the exit interrupted (vmcb02 EXITINTINFO valid)
 * is re-injected through vmcb02's EVENTINJ, unless the caller already put
 * an event there.
 * @param ctx The context.
 * @param act Receives NEST_SVM_ACT_RUN_L2.
 * @return NEST_OK; NEST_E_STATE; NEST_E_INVAL; NEST_E_SIZE.
 */
NEST_API int nest_svm_resume_l2(struct nest_svm *ctx, struct nest_svm_action *act);

/**
 * @brief Synthesize a \#VMEXIT from L2 to L1 (e.g. INTR or NMI for an event
 *        L0 delivers to L1 while L2 runs).
 *
 * An event pending in vmcb02's EVENTINJ (not yet delivered) is reported in
 * vmcb12's EXITINTINFO, as the hardware would.
 * @param ctx The context.
 * @param vmcb01 L1's VMCB; written.
 * @param exitcode EXITCODE for L1.
 * @param exitinfo1 EXITINFO1.
 * @param exitinfo2 EXITINFO2.
 * @param act Receives NEST_SVM_ACT_RESUME_L1.
 * @return NEST_OK; NEST_E_STATE (L2 not running); NEST_E_INVAL; NEST_E_SIZE;
 *         a backend status.
 */
NEST_API int nest_svm_force_exit(struct nest_svm *ctx, struct nest_vmcb *vmcb01, uint64_t exitcode,
				 uint64_t exitinfo1, uint64_t exitinfo2,
				 struct nest_svm_action *act);

/**
 * @brief L0 raises a hardware exception in L2.
 *
 * For an L0 that carries out something on L2's behalf and finds that it
 * faults (its emulation of an instruction of L2's, an MSR L0 refuses): the
 * exception is L2's, raised at the instruction of the current exit (L0 has
 * not advanced RIP), and goes where the processor would send it: a
 * \#VMEXIT to L1 (exit code 0x40 + vector, EXITINFO1 the error code,
 * EXITINFO2 the faulting address for \#PF, APM 15.12) when vmcb12
 * intercepts the exception, else it is delivered to L2 (vmcb02's EVENTINJ;
 * for \#PF vmcb02's CR2 is the payload). The error code is delivered for
 * the exceptions that push one (\#DF, \#TS, \#NP, \#SS, \#GP, \#PF,
 * \#AC, \#CP, \#SX) when L2 is in protected mode, else ignored. Call it in
 * place of nest_svm_resume_l2() after an exit L0 handles. Added after
 * 0.1.0.
 * @param ctx The context (L2 running).
 * @param vmcb01 L1's VMCB; written for a \#VMEXIT.
 * @param vector Exception vector: 0, 1, 3-8, 10-14, 16-21 or 30.
 * @param error_code The error code.
 * @param payload \#PF: the faulting linear address; ignored otherwise
 *        (for \#DB the caller sets vmcb02's DR6 as the processor would).
 * @param act Receives RESUME_L1 (with NEST_SVM_ACT_F_REFLECTED) or RUN_L2.
 * @return NEST_OK; NEST_E_INVAL (not such a vector); NEST_E_STATE (L2 not
 *         running, or an event already in vmcb02's EVENTINJ or EXITINTINFO:
 *         the caller combines the two); NEST_E_SIZE; a backend status.
 */
NEST_API int nest_svm_l2_exception(struct nest_svm *ctx, struct nest_vmcb *vmcb01, uint32_t vector,
				   uint32_t error_code, uint64_t payload,
				   struct nest_svm_action *act);

/**
 * @brief An INIT signal for this vCPU (another vCPU's INIT IPI, or the
 *        platform's): what it does to L1 and L2 (AMD APM vol. 2).
 *
 * While GIF is clear (L1's, or L2's own CLGI) INIT is held: NEST_E_STATE,
 * call again once GIF is set. While L2 runs and L1 intercepts INIT, L1
 * gets \#VMEXIT(INIT). Else, with L1's VM_CR.R_INIT set, INIT becomes a
 * \#SX exception with error code 1: injected into L1, or while L2 runs a
 * \#VMEXIT(exception 30) if L1 intercepts it, else injected into L2
 * (vmcb02's EVENTINJ). Else the vCPU takes INIT: libnest leaves guest
 * mode, sets GIF and clears L1's EFER.SVME, and the action is
 * NEST_SVM_ACT_NONE: L0 puts vmcb01 in the INIT state and holds the vCPU
 * until a SIPI. Added after 0.1.0.
 * @param ctx The context.
 * @param vmcb01 L1's VMCB; written for a \#VMEXIT.
 * @param act Receives RESUME_L1 (with NEST_SVM_ACT_F_REFLECTED), INJECT_L1,
 *        RUN_L2, or NONE (the vCPU resets).
 * @return NEST_OK; NEST_E_STATE (held: GIF clear, or an event already in
 *         vmcb02's EVENTINJ); NEST_E_INVAL; NEST_E_SIZE; a backend status.
 */
NEST_API int nest_svm_init_signal(struct nest_svm *ctx, struct nest_vmcb *vmcb01,
				  struct nest_svm_action *act);

/**
 * @brief Would L1 intercept this L2 exit (vmcb12 intercepts and L1's maps)?
 * @param ctx The context (L2 running).
 * @param exitcode EXITCODE.
 * @param exitinfo1 EXITINFO1 (IOIO: port and size; MSR: 0 read, 1 write).
 * @param msr ECX for MSR exits.
 * @return 1 if L1 intercepts, 0 if not (or L2 is not running).
 */
NEST_API int nest_svm_l1_intercepts(const struct nest_svm *ctx, uint64_t exitcode,
				    uint64_t exitinfo1, uint32_t msr);

/**
 * @brief A snapshot of L1's SVM state.
 *
 * IMPORTANT: layout. Append only; @c size first.
 */
struct nest_svm_state {
	uint32_t size;	    ///< sizeof(struct nest_svm_state) as the caller compiled it
	uint8_t gif;	    ///< L1's GIF (0: hold interrupts and NMIs for L1)
	uint8_t guest_mode; ///< 1 while L2 runs (between VMRUN and \#VMEXIT)
	uint8_t svme;	    ///< L1's EFER.SVME
	/** Guest mode: L1 intercepts INTR (an interrupt for L1 becomes a \#VMEXIT). */
	uint8_t l1_intercepts_intr;
	/** Guest mode: L1 intercepts NMI. */
	uint8_t l1_intercepts_nmi;
	/** Guest mode: vmcb12 sets V_INTR_MASKING (L2's RFLAGS.IF does not mask
	 *  L1's interrupts; L1's IF at VMRUN does). */
	uint8_t v_intr_masking;
	/** L1 can take a maskable interrupt now (GIF, and IF as the mode says). */
	uint8_t l1_intr_allowed;
	uint8_t reserved0;  ///< zero
	uint64_t hsave_pa;  ///< VM_HSAVE_PA
	uint64_t vmcb12_pa; ///< guest mode: the vmcb12 address of the last VMRUN
	uint64_t vm_cr;	    ///< VM_CR as L1 reads it
	uint64_t tsc_ratio; ///< L1's TSC_RATIO
	uint64_t vmruns;    ///< emulated VMRUNs (counter)
	uint64_t reflected; ///< reflected \#VMEXITs (counter)
};

/** The smallest nest_svm_state::size libnest accepts. */
#define NEST_SVM_STATE_MIN_SIZE (offsetof(struct nest_svm_state, reflected) + sizeof(uint64_t))

/**
 * @brief Read L1's SVM state.
 * @param ctx The context.
 * @param vmcb01 L1's VMCB (for RFLAGS.IF outside guest mode and V_GIF), or NULL.
 * @param st Receives the state; set @c st->size first.
 * @return NEST_OK, NEST_E_INVAL or NEST_E_SIZE.
 */
NEST_API int nest_svm_get_state(const struct nest_svm *ctx, const struct nest_vmcb *vmcb01,
				struct nest_svm_state *st);

/**
 * @brief L0 changed the contents of its permission maps
 *        (nest_svm_config::l0_msrpm and nest_svm_config::l0_iopm): the next VMRUN merges
 *        them again. Without this call libnest may reuse vmcb02's maps from
 *        an earlier VMRUN when L1 has none of its own.
 * @param ctx The context.
 * @return NEST_OK or NEST_E_INVAL.
 */
NEST_API int nest_svm_l0_maps_changed(struct nest_svm *ctx);

/**
 * @brief A write to an L1-physical page that libnest asked L0 to track
 *        (nest_backend_ops::track_l1_writes: L1's IOPM and MSRPM) is about
 *        to take effect.
 *
 * As nest_vmx_l1_written(): L0 calls it before letting the write through;
 * during the call the page leaves the tracked set, until the next VMRUN
 * reads it again; while L2 runs, every access the written map governs
 * exits and L1's map as it is in memory decides (APM 15.10.1, 15.11). L0
 * that restores L1's memory behind a context (a snapshot) calls it for
 * the tracked pages too. A page libnest does not track is ignored.
 * @param ctx The context.
 * @param l1_gpa An L1-physical address in the page (any offset).
 * @return NEST_OK, NEST_E_INVAL or a status of nest_tdp_watch_writes().
 */
NEST_API int nest_svm_l1_written(struct nest_svm *ctx, uint64_t l1_gpa);

/**
 * @brief vmcb02 as libnest built it (for L0's handling of L2 exits).
 * @param ctx The context.
 * @return The caller's vmcb02 page, or NULL.
 */
NEST_API struct nest_vmcb *nest_svm_vmcb02(struct nest_svm *ctx);

#ifdef __cplusplus
}
#endif

#endif /* NEST_SVM_H */
