/* SPDX-License-Identifier: MIT */
/**
 * @file vmx.h
 * @brief Nested VMX: capabilities, per-vCPU context, instruction emulation,
 *        VM entry and VM-exit reflection.
 */
#ifndef NEST_VMX_H
#define NEST_VMX_H

#include <nest/base.h>
#include <nest/backend.h>
#include <nest/vmcs.h>
#include <nest/vmx-arch.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief VMX capabilities: the values of the IA32_VMX_* MSRs (Intel SDM
 *        Vol. 3D appendix A) and IA32_FEATURE_CONTROL.
 *
 * Used twice: for what the host offers (input to the policy) and for what
 * L1 is offered (the values L1 reads with RDMSR, and the reference for
 * every VM-entry check libnest makes on L1's behalf).
 *
 * IMPORTANT: layout. Append only; @c size first.
 */
struct nest_vmx_caps {
	uint32_t size;		  ///< sizeof(struct nest_vmx_caps) as the caller compiled it
	uint32_t reserved0;	  ///< zero
	uint64_t basic;		  ///< IA32_VMX_BASIC (0x480)
	uint64_t pinbased;	  ///< IA32_VMX_PINBASED_CTLS (0x481)
	uint64_t procbased;	  ///< IA32_VMX_PROCBASED_CTLS (0x482)
	uint64_t exit;		  ///< IA32_VMX_EXIT_CTLS (0x483)
	uint64_t entry;		  ///< IA32_VMX_ENTRY_CTLS (0x484)
	uint64_t misc;		  ///< IA32_VMX_MISC (0x485)
	uint64_t cr0_fixed0;	  ///< IA32_VMX_CR0_FIXED0 (0x486)
	uint64_t cr0_fixed1;	  ///< IA32_VMX_CR0_FIXED1 (0x487)
	uint64_t cr4_fixed0;	  ///< IA32_VMX_CR4_FIXED0 (0x488)
	uint64_t cr4_fixed1;	  ///< IA32_VMX_CR4_FIXED1 (0x489)
	uint64_t vmcs_enum;	  ///< IA32_VMX_VMCS_ENUM (0x48a)
	uint64_t procbased2;	  ///< IA32_VMX_PROCBASED_CTLS2 (0x48b)
	uint64_t ept_vpid;	  ///< IA32_VMX_EPT_VPID_CAP (0x48c)
	uint64_t true_pinbased;	  ///< IA32_VMX_TRUE_PINBASED_CTLS (0x48d)
	uint64_t true_procbased;  ///< IA32_VMX_TRUE_PROCBASED_CTLS (0x48e)
	uint64_t true_exit;	  ///< IA32_VMX_TRUE_EXIT_CTLS (0x48f)
	uint64_t true_entry;	  ///< IA32_VMX_TRUE_ENTRY_CTLS (0x490)
	uint64_t vmfunc;	  ///< IA32_VMX_VMFUNC (0x491)
	uint64_t procbased3;	  ///< IA32_VMX_PROCBASED_CTLS3 (0x492)
	uint64_t exit2;		  ///< IA32_VMX_EXIT_CTLS2 (0x493)
	uint64_t feature_control; ///< IA32_FEATURE_CONTROL (0x3a)
	uint32_t maxphyaddr;	  ///< physical-address width (CPUID 0x80000008 EAX[7:0])
	uint32_t reserved1;	  ///< zero
};

/* ---- per-vCPU context, configuration and policy ---- */

/**
 * @name Capability policy (nest_vmx_config::features)
 *
 * Features libnest may offer L1, each only if the host has it too (but
 * page-modification logging, which libnest runs in software). A
 * feature that is not asked for is hidden from L1: its controls read as
 * allowed-0 in the capability MSRs L1 sees. Some features are never offered,
 * whatever the config and the host, because vmcs02 cannot give L2 the
 * behaviour L1 would be promised (docs/conformance-vmx.md, "Capability
 * MSRs"): their flags are accepted and ignored.
 * @{
 */
#define NEST_VMX_F_EPT 0x00000001u		  ///< EPT (nested paging for L2)
#define NEST_VMX_F_VPID 0x00000002u		  ///< VPID and INVVPID
#define NEST_VMX_F_UNRESTRICTED_GUEST 0x00000004u ///< unrestricted guest (needs EPT)
#define NEST_VMX_F_PREEMPTION_TIMER 0x00000008u	  ///< VMX-preemption timer
/** VMCS shadowing offered to L1 (its L2's VMREAD and VMWRITE on L1's shadow
 *  VMCS), carried out by libnest: vmcs02 never shadows. Offered after
 *  0.1.0 (ignored before). */
#define NEST_VMX_F_VMCS_SHADOWING 0x00000010u
#define NEST_VMX_F_PML 0x00000020u   ///< page-modification logging (needs EPT), emulated by libnest
#define NEST_VMX_F_APICV                                                                           \
	0x00000040u ///< APIC virtualization (posted interrupts: NEST_VMX_F_POSTED_INTR)
#define NEST_VMX_F_VMFUNC                                                                          \
	0x00000080u ///< VM functions: EPTP switching (needs EPT), run by libnest for L2
#define NEST_VMX_F_TSC_SCALING 0x00000100u ///< TSC scaling
#define NEST_VMX_F_VMWRITE_ANY                                                                     \
	0x00000200u		   ///< IA32_VMX_MISC bit 29 (VMWRITE to exit-information fields)
/** Posted interrupts (needs NEST_VMX_F_APICV), processed by libnest when L0
 *  brings L1's notification vector to nest_vmx_l2_event(); L0 then dismisses
 *  it (NEST_VMX_ACT_F_POSTED). Added after 0.1.0. */
#define NEST_VMX_F_POSTED_INTR 0x00000400u
#define NEST_VMX_F_ALL 0x000007ffu ///< every feature above
/** @} */

/** Value of the VMCS-pointer registers when no VMCS is current (SDM 31.3). */
#define NEST_VMX_INVALID_VMPTR UINT64_MAX

/**
 * @brief Configuration of one nested-VMX context (one L1 vCPU).
 *
 * IMPORTANT: layout. Append only; @c size first. nest_vmx_init() accepts
 * every size from NEST_VMX_CONFIG_MIN_SIZE up.
 */
struct nest_vmx_config {
	uint32_t size;	      ///< sizeof(struct nest_vmx_config) as the caller compiled it
	uint32_t vmx_allowed; ///< nonzero: L1 may use VMX; zero: VMX MSRs \#GP, VMXON \#UD
	/** The host's capability MSRs: what the hardware under L0 offers. Read
	 *  during nest_vmx_init() only; its @c size must be at least
	 *  NEST_VMX_CAPS_MIN_SIZE. */
	const struct nest_vmx_caps *host_caps;
	uint32_t features;	///< NEST_VMX_F_* that L1 may be offered
	uint32_t l1_maxphyaddr; ///< L1's physical-address width (CPUID 0x80000008 EAX[7:0]), 32..52
	/** L1's IA32_FEATURE_CONTROL after reset, as L1's firmware leaves it
	 *  (typically lock | VMXON outside SMX when VMX is allowed). */
	uint64_t feature_control;
	/** Bits of IA32_FEATURE_CONTROL besides lock and "VMXON outside SMX"
	 *  that L1 may set (e.g. LMCE, SGX); L0 handles their meaning. */
	uint64_t feature_control_extra;
	/** Nonzero: L1 has 1 GiB pages (CPUID.80000001H:EDX[26]); used by
	 *  libnest's own walk of L1's page tables. */
	uint32_t l1_gbpages;
	uint32_t reserved0; ///< zero
};

/** The smallest nest_vmx_config::size libnest accepts. */
#define NEST_VMX_CONFIG_MIN_SIZE                                                                   \
	(offsetof(struct nest_vmx_config, feature_control_extra) + sizeof(uint64_t))

/** The smallest nest_vmx_caps::size libnest accepts. */
#define NEST_VMX_CAPS_MIN_SIZE (offsetof(struct nest_vmx_caps, reserved1) + sizeof(uint32_t))

/**
 * @brief A per-vCPU nested-VMX context (opaque).
 *
 * It lives in storage the caller provides (nest_vmx_size() bytes, aligned
 * to 8); libnest keeps no pointer into it beyond the calls that receive
 * it. It holds L1's VMX-operation state (VMXON pointer, current-VMCS
 * pointer, a cached copy of the current vmcs12), L1's view of the VMX
 * capability MSRs and IA32_FEATURE_CONTROL, and the backend.
 */
struct nest_vmx;

/**
 * @brief Bytes of storage a context needs.
 * @return The size; constant for a given library build.
 */
NEST_API size_t nest_vmx_size(void);

/**
 * @brief Initialise a context in caller storage.
 *
 * Computes the capabilities L1 is offered from @p cfg (see
 * nest_vmx_offered_caps()) and puts L1 outside VMX operation.
 *
 * @param mem Storage of at least nest_vmx_size() bytes, aligned to 8.
 * @param size Bytes at @p mem.
 * @param be The backend; read_l1 and write_l1 are required. The ops table
 *        must outlive the context.
 * @param cfg Configuration; only read during the call.
 * @param out Receives the context (which equals @p mem).
 * @return NEST_OK; NEST_E_INVAL (a NULL pointer, misaligned @p mem,
 *         l1_maxphyaddr outside 32..52); NEST_E_SIZE (@p size too small,
 *         or a config, caps or ops-table size below its minimum);
 *         NEST_E_MISSING_OP (a required backend op is absent).
 */
NEST_API int nest_vmx_init(void *mem, size_t size, const struct nest_backend *be,
			   const struct nest_vmx_config *cfg, struct nest_vmx **out);

/**
 * @brief The capability MSRs that L1 sees.
 *
 * Computed from the host's values and the policy: allowed-1 settings
 * limited to the controls libnest emulates, must-be-1 settings kept,
 * libnest's VMCS revision identifier and a 4 KiB VMCS size in
 * IA32_VMX_BASIC, CR0/CR4 fixed bits from the host. All zero except
 * feature_control and maxphyaddr when VMX is not allowed.
 *
 * @param ctx The context.
 * @param caps Receives the values; set @c caps->size first (at least
 *        NEST_VMX_CAPS_MIN_SIZE). Only @c size bytes are written.
 * @return NEST_OK, NEST_E_INVAL (NULL or uninitialised context) or
 *         NEST_E_SIZE.
 */
NEST_API int nest_vmx_offered_caps(const struct nest_vmx *ctx, struct nest_vmx_caps *caps);

/* ---- actions: what the caller does after an event ---- */

/** What the caller does next (nest_vmx_action::kind). Append only. */
enum nest_vmx_action_kind {
	/** Nothing to do (the call failed with a status code). */
	NEST_VMX_ACT_NONE = 0,
	/** Resume L1. With NEST_VMX_ACT_F_RIP, load RIP and RFLAGS from the
	 *  action; with NEST_VMX_ACT_F_GPR, write a general-purpose register.
	 *  Without NEST_VMX_ACT_F_RIP (MSR calls) the caller completes the
	 *  instruction it emulates itself. */
	NEST_VMX_ACT_RESUME_L1 = 1,
	/** Inject the exception nest_vmx_action::vector into L1 (with its
	 *  error code if @c has_error_code, with CR2 for \#PF); RIP unchanged. */
	NEST_VMX_ACT_INJECT = 2,
	/** L1's VMLAUNCH or VMRESUME succeeded: make vmcs02 current and enter
	 *  L2 (hardware VMLAUNCH the first time vmcs02 runs, VMRESUME after);
	 *  libnest has written the vmcs02 fields that changed. */
	NEST_VMX_ACT_ENTER_L2 = 3,
	/** An L2 exit was dealt with inside libnest (e.g. a shadow-EPT fault it
	 *  fixed): resume L2 on vmcs02. With NEST_VMX_ACT_F_GPR (an instruction
	 *  of L2's libnest carried out, such as a VMREAD on L1's shadow VMCS),
	 *  write L2's general-purpose register first; a RESUME_L1 from
	 *  nest_vmx_l2_exit() may carry it too (that instruction, then L1's
	 *  monitor-trap-flag exit): the register L1 then sees. */
	NEST_VMX_ACT_RESUME_L2 = 4,
	/** The L2 exit (or event) is L0's own: L0 handles it, then resumes L2
	 *  on vmcs02; any event to re-inject is already in vmcs02 and the action. */
	NEST_VMX_ACT_L0_HANDLES = 5
};

/** Outcome of a VMX instruction (nest_vmx_action::result), SDM 31.2. */
enum nest_vmx_result {
	NEST_VMX_NO_RESULT = 0,	   ///< not a VMsucceed/VMfail outcome (e.g. an exception)
	NEST_VMX_SUCCEED = 1,	   ///< VMsucceed: CF, PF, AF, ZF, SF, OF cleared
	NEST_VMX_FAIL_INVALID = 2, ///< VMfailInvalid: CF set, others cleared
	NEST_VMX_FAIL_VALID = 3	   ///< VMfailValid(n): ZF set, others cleared, n in the VMCS
};

/** @name Action flags (nest_vmx_action::flags)
 *  @{ */
#define NEST_VMX_ACT_F_RIP 0x1u ///< load nest_vmx_action::rip and nest_vmx_action::rflags into L1
#define NEST_VMX_ACT_F_GPR                                                                         \
	0x2u ///< write nest_vmx_action::gpr_value to register nest_vmx_action::gpr
/** @} */

/**
 * @brief What the caller must do after an event, filled by libnest.
 *
 * IMPORTANT: layout. Append only; the caller sets @c size; libnest
 * writes only the first @c size bytes (at least NEST_VMX_ACTION_MIN_SIZE).
 */
struct nest_vmx_action {
	uint32_t size;	 ///< sizeof(struct nest_vmx_action) as the caller compiled it
	uint32_t kind;	 ///< enum nest_vmx_action_kind
	uint32_t flags;	 ///< NEST_VMX_ACT_F_*
	uint32_t result; ///< enum nest_vmx_result (VMX instructions)
	/** VM-instruction error number for NEST_VMX_FAIL_VALID (SDM 31.4),
	 *  also stored in the current vmcs12's VM_INSTRUCTION_ERROR; 0 else. */
	uint32_t vm_instruction_error;
	uint32_t gpr;		///< register number (0 RAX .. 15 R15) for NEST_VMX_ACT_F_GPR
	uint64_t gpr_value;	///< full 64-bit value to store (zero-extended outside 64-bit mode)
	uint64_t rip;		///< new RIP (past the instruction) for NEST_VMX_ACT_F_RIP
	uint64_t rflags;	///< new RFLAGS for NEST_VMX_ACT_F_RIP
	uint8_t vector;		///< exception vector for NEST_VMX_ACT_INJECT
	uint8_t has_error_code; ///< nonzero: deliver @c error_code
	uint16_t reserved0;	///< zero
	uint32_t error_code;	///< exception error code
	uint64_t cr2;		///< faulting linear address for \#PF
	/** NEST_VMX_ACT_L0_HANDLES for an EPT violation under the shadow
	 *  EPT02 (L1 uses EPT) that L0's map of L1 memory caused: the
	 *  L1-physical address L2's access reached through EPT12 (the byte
	 *  the exit's guest-physical address names), which L0's map must
	 *  grant @c l0_access at; 0 otherwise. Added after 0.1.0. */
	uint64_t l1_gpa;
	uint32_t l0_access; ///< with @c l1_gpa: the NEST_ACC_* L0's map must grant
	uint32_t reserved1; ///< zero
};

/** The smallest nest_vmx_action::size libnest accepts. */
#define NEST_VMX_ACTION_MIN_SIZE (offsetof(struct nest_vmx_action, cr2) + sizeof(uint64_t))

/* ---- VMX instructions executed by L1 ---- */

/**
 * @brief A segment register as in the VMCS guest-state area (SDM 25.4.1).
 *
 * IMPORTANT: layout.
 */
struct nest_vmx_segment {
	uint64_t base;	    ///< base address
	uint32_t limit;	    ///< limit in bytes (granularity already applied)
	uint32_t ar;	    ///< access rights in VMCS format (type, S, DPL, P, L, D/B, G, unusable)
	uint16_t selector;  ///< selector
	uint16_t reserved0; ///< zero
	uint32_t reserved1; ///< zero
};

/** @name Segment register numbers (nest_vmx_l1_regs::seg), as in instruction information
 *  @{ */
#define NEST_VMX_SEG_ES 0 ///< ES
#define NEST_VMX_SEG_CS 1 ///< CS
#define NEST_VMX_SEG_SS 2 ///< SS
#define NEST_VMX_SEG_DS 3 ///< DS
#define NEST_VMX_SEG_FS 4 ///< FS
#define NEST_VMX_SEG_GS 5 ///< GS
/** @} */

/**
 * @brief L1's register state when it exited to L0 (input; never modified).
 *
 * Control registers are L1's view (after L0's read shadows): a VMXON with
 * CR4.VMXE clear in L1's view raises \#UD although the hardware CR4 has it.
 *
 * IMPORTANT: layout. Append only; @c size first.
 */
struct nest_vmx_l1_regs {
	uint32_t size;	  ///< sizeof(struct nest_vmx_l1_regs) as the caller compiled it
	uint32_t cpl;	  ///< current privilege level (SS.DPL)
	uint64_t gpr[16]; ///< RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15 (encoding order)
	uint64_t rip;	  ///< RIP of the VMX instruction
	uint64_t rflags;  ///< RFLAGS
	uint64_t cr0;	  ///< CR0 as L1 sees it
	uint64_t cr4;	  ///< CR4 as L1 sees it
	uint64_t efer;	  ///< IA32_EFER
	struct nest_vmx_segment seg[6]; ///< ES, CS, SS, DS, FS, GS (NEST_VMX_SEG_*)
	/** L1's CR3, for libnest's own walk of L1's page tables when the
	 *  backend has no l1_linear_to_phys. Added in 0.1: a caller whose
	 *  @c size ends before it has no walk (NEST_E_MISSING_OP). */
	uint64_t cr3;
};

/** The smallest nest_vmx_l1_regs::size libnest accepts. */
#define NEST_VMX_L1_REGS_MIN_SIZE                                                                  \
	(offsetof(struct nest_vmx_l1_regs, seg) + 6 * sizeof(struct nest_vmx_segment))

/**
 * @brief The exit information of an L1 exit, as read from vmcs01.
 *
 * IMPORTANT: layout. Append only; @c size first.
 */
struct nest_vmx_exit {
	uint32_t size;		///< sizeof(struct nest_vmx_exit) as the caller compiled it
	uint32_t reason;	///< exit reason field (basic reason in bits 15:0)
	uint64_t qualification; ///< exit qualification (the displacement, sign-extended)
	uint32_t insn_info;	///< VM-exit instruction-information field
	uint32_t insn_len;	///< VM-exit instruction length (1..15)
};

/** The smallest nest_vmx_exit::size libnest accepts. */
#define NEST_VMX_EXIT_MIN_SIZE (offsetof(struct nest_vmx_exit, insn_len) + sizeof(uint32_t))

/**
 * @brief Handle an L1 exit caused by a VMX instruction.
 *
 * Handles VMXON, VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE,
 * INVEPT, INVVPID, VMLAUNCH and VMRESUME as the SDM's "Operation" sections
 * specify (Vol. 3C chapter 32): mode and
 * privilege checks (\#UD, \#GP), operand decoding from the instruction
 * information (address sizes, segments, canonical and limit checks, L1
 * paging through the backend's l1_linear_to_phys, \#GP/\#SS/\#PF), every
 * VMfailInvalid and VMfailValid condition. Memory operands of VMPTRST and
 * VMREAD are written by libnest through the backend. VMLAUNCH and VMRESUME
 * run the VM-entry checks (see the VM entry section below), build vmcs02
 * and answer NEST_VMX_ACT_ENTER_L2, or VMfail, or
 * a VM-entry failure reflected into L1 (NEST_VMX_ACT_RESUME_L1). INVEPT
 * empties the shadow EPT02 of the EPTP (single-context) or all of them
 * (global) in nest_vmx_l0::tdp; INVVPID flushes nest_vmx_l0::vpid02
 * through the backend's flush op (every VPID of L1 runs as vpid02).
 *
 * The current VMCS is cached: VMPTRLD reads L1's VMCS region once into the
 * context, VMREAD and VMWRITE use the cached copy, VMCLEAR (and VMPTRLD of
 * another VMCS, and VMXOFF) write it back to L1 memory. L1 must not rely
 * on the region's contents while the VMCS is active (SDM 25.11.1).
 *
 * @param ctx The context.
 * @param exit The exit information.
 * @param regs L1's registers at the exit.
 * @param act Receives what to do; set @c act->size first.
 * @return NEST_OK with @p act filled (an architectural outcome, good or
 *         bad for L1, is NEST_OK); NEST_E_INVAL (NULL, uninitialised
 *         context, an exit reason that is not one of these instructions,
 *         instruction information that hardware cannot produce);
 *         NEST_E_SIZE (a struct size below its minimum);
 *         NEST_E_MISSING_OP (a memory operand under L1 paging without
 *         l1_linear_to_phys, and regs too old to carry CR3); NEST_E_STATE
 *         (libnest's own walk cannot use L1's paging mode or CR3);
 *         NEST_E_FAULT or another backend status (L1 memory, or an L1
 *         page table, that L0 does not back). On error L1's state and the
 *         context are unchanged and @c act->kind is NEST_VMX_ACT_NONE.
 */
NEST_API int nest_vmx_l1_exit(struct nest_vmx *ctx, const struct nest_vmx_exit *exit,
			      const struct nest_vmx_l1_regs *regs, struct nest_vmx_action *act);

/**
 * @brief L1 executed RDMSR: emulate the VMX capability MSRs and
 *        IA32_FEATURE_CONTROL.
 * @param ctx The context.
 * @param msr The MSR number (ECX).
 * @param value Receives the value for EDX:EAX when the read succeeds.
 * @param act Receives NEST_VMX_ACT_RESUME_L1 (without NEST_VMX_ACT_F_RIP:
 *        the caller completes RDMSR) or NEST_VMX_ACT_INJECT of \#GP(0)
 *        (an MSR that L1's offered capabilities do not have).
 * @return NEST_OK; NEST_E_NOENT (not an MSR libnest emulates: the caller
 *         handles it); NEST_E_INVAL; NEST_E_SIZE.
 */
NEST_API int nest_vmx_rdmsr(struct nest_vmx *ctx, uint32_t msr, uint64_t *value,
			    struct nest_vmx_action *act);

/**
 * @brief L1 executed WRMSR: the VMX capability MSRs are read-only (\#GP);
 *        IA32_FEATURE_CONTROL is writable until locked.
 * @param ctx The context.
 * @param msr The MSR number (ECX).
 * @param value The value (EDX:EAX).
 * @param act Receives NEST_VMX_ACT_RESUME_L1 (the caller completes WRMSR)
 *        or NEST_VMX_ACT_INJECT of \#GP(0).
 * @return As nest_vmx_rdmsr().
 */
NEST_API int nest_vmx_wrmsr(struct nest_vmx *ctx, uint32_t msr, uint64_t value,
			    struct nest_vmx_action *act);

/**
 * @brief A snapshot of L1's VMX-operation state.
 *
 * IMPORTANT: layout. Append only; @c size first.
 */
struct nest_vmx_status {
	uint32_t size;		   ///< sizeof(struct nest_vmx_status) as the caller compiled it
	uint32_t in_vmx_operation; ///< nonzero after a successful VMXON, until VMXOFF
	uint64_t vmxon_ptr;	   ///< VMXON pointer (NEST_VMX_INVALID_VMPTR outside VMX operation)
	uint64_t current_vmptr;	   ///< current-VMCS pointer (NEST_VMX_INVALID_VMPTR if none)
	uint32_t launch_state;	   ///< current VMCS: 0 clear, 1 launched (0 if none)
	uint32_t reserved0;	   ///< zero
	uint64_t feature_control;  ///< L1's IA32_FEATURE_CONTROL
};

/** The smallest nest_vmx_status::size libnest accepts. */
#define NEST_VMX_STATUS_MIN_SIZE                                                                   \
	(offsetof(struct nest_vmx_status, feature_control) + sizeof(uint64_t))

/**
 * @brief Read L1's VMX-operation state.
 * @param ctx The context.
 * @param st Receives the state; set @c st->size first.
 * @return NEST_OK, NEST_E_INVAL or NEST_E_SIZE.
 */
NEST_API int nest_vmx_get_status(const struct nest_vmx *ctx, struct nest_vmx_status *st);

/* ---- VM entry ---- */

/**
 * @brief The VM-entry rules libnest checks, each with its SDM section
 *        (Intel SDM Vol. 3C chapter 27; 26 in editions before 2023).
 *
 * Generated from nest/vmx-entry-rules.def. Append only: a value, once
 * released, keeps its meaning.
 */
enum nest_vmx_rule {
/// @cond INTERNAL
#define NEST_VMX_RULE(name, kind, qual, section, text) NEST_VMX_RULE_##name,
#include <nest/vmx-entry-rules.def>
#undef NEST_VMX_RULE
	NEST_VMX_RULE_END_
	/// @endcond
};

/** Outcome of the VM-entry checks (nest_vmx_entry_result::outcome). */
enum nest_vmx_entry_outcome {
	NEST_VMX_ENTRY_OK = 0,	   ///< every check passed: L2 may run
	NEST_VMX_ENTRY_VMFAIL = 1, ///< VMfailValid with vm_instruction_error (SDM 27.2)
	NEST_VMX_ENTRY_FAILURE = 2 ///< VM-entry failure: exit_reason, exit_qualification (SDM 27.8)
};

/** nest_vmx_entry_result::field when the rule names no single VMCS field. */
#define NEST_VMX_ENTRY_NO_FIELD 0xffffffffu

/**
 * @brief What a VM entry of a vmcs12 would do, and why.
 *
 * For a VMfail, @c vm_instruction_error is 7 (control fields) or 8 (host
 * state). For a VM-entry failure, @c exit_reason is 33, 34 or 41 with bit 31
 * (VM-entry failure) set and @c exit_qualification as the SDM defines it
 * (27.8: 0, 2 PDPTEs, 3 NMI with STI blocking, 4 VMCS link pointer; the
 * failing entry's index + 1 for MSR loading). @c rule names the exact check
 * that failed (nest_vmx_rule_text()), @c field the VMCS field it examined.
 *
 * IMPORTANT: layout. Append only; @c size first.
 */
struct nest_vmx_entry_result {
	uint32_t size;	  ///< sizeof(struct nest_vmx_entry_result) as the caller compiled it
	uint32_t outcome; ///< enum nest_vmx_entry_outcome
	uint32_t vm_instruction_error; ///< VMfail error number; 0 unless outcome is VMFAIL
	uint32_t exit_reason;	     ///< full exit reason (bit 31 set); 0 unless outcome is FAILURE
	uint64_t exit_qualification; ///< exit qualification of a VM-entry failure
	uint32_t rule;		     ///< enum nest_vmx_rule; NEST_VMX_RULE_NONE when OK
	uint32_t field; ///< encoding of the VMCS field examined, or NEST_VMX_ENTRY_NO_FIELD
};

/** The smallest nest_vmx_entry_result::size libnest accepts. */
#define NEST_VMX_ENTRY_RESULT_MIN_SIZE                                                             \
	(offsetof(struct nest_vmx_entry_result, field) + sizeof(uint32_t))

/**
 * @brief One entry of a VM-entry/VM-exit MSR area (SDM 25.7.2, 25.8.2).
 *
 * IMPORTANT: layout. A wire format (16 bytes, as in L1 memory).
 */
struct nest_vmx_msr_entry {
	uint32_t index;	   ///< MSR index (bits 31:0)
	uint32_t reserved; ///< bits 63:32; must be 0
	uint64_t value;	   ///< MSR data (bits 127:64)
};

/**
 * @brief The symbolic name of a rule ("GUEST_CR0_FIXED").
 * @param rule An enum nest_vmx_rule value.
 * @return A static string; "UNKNOWN" for values this library does not know.
 */
NEST_API const char *nest_vmx_rule_name(uint32_t rule);

/**
 * @brief The one-line text of a rule, for diagnostics.
 * @param rule An enum nest_vmx_rule value.
 * @return A static string; "unknown rule" for unknown values.
 */
NEST_API const char *nest_vmx_rule_text(uint32_t rule);

/**
 * @brief The Intel SDM section that states a rule ("27.3.1.2").
 * @param rule An enum nest_vmx_rule value.
 * @return A static string; "" for unknown values.
 */
NEST_API const char *nest_vmx_rule_section(uint32_t rule);

/**
 * @brief Fill @p caps with a typical set of VMX capabilities.
 *
 * The set models a processor with true controls, EPT (4-level, WB and UC,
 * accessed/dirty flags, 2 MiB and 1 GiB pages), VPID, unrestricted guest,
 * APIC virtualization and posted interrupts, VMCS shadowing, PML, EPTP
 * switching, the VMX-preemption timer, HLT/shutdown/wait-for-SIPI activity
 * states, and a 46-bit physical-address width; the exact values are listed
 * in docs/conformance-vmx.md. Tools and tests use it when they have no
 * capabilities of their own.
 * @param caps Receives the capabilities; set @c caps->size first (at least
 *        NEST_VMX_CAPS_MIN_SIZE).
 * @return NEST_OK, NEST_E_INVAL (NULL) or NEST_E_SIZE.
 */
NEST_API int nest_vmx_caps_default(struct nest_vmx_caps *caps);

/**
 * @brief Size in bytes of libnest's vmcs12 image (the layout of
 *        nest/vmcs-fields.def behind a 16-byte header).
 * @return The size; at most 4096.
 */
NEST_API size_t nest_vmcs12_image_size(void);

/**
 * @brief Initialise a vmcs12 image: every field 0, launch state clear,
 *        libnest's VMCS revision identifier in the header.
 * @param img nest_vmcs12_image_size() bytes of storage.
 * @return NEST_OK or NEST_E_INVAL.
 */
NEST_API int nest_vmcs12_image_init(void *img);

/**
 * @brief Read a field of a vmcs12 image, as VMREAD would.
 * @param img An image.
 * @param encoding The field's encoding (the high access of a 64-bit field
 *        reads bits 63:32).
 * @param value Receives the value, zero-extended.
 * @return NEST_OK, NEST_E_INVAL or NEST_E_NOENT (no such field).
 */
NEST_API int nest_vmcs12_image_read(const void *img, uint32_t encoding, uint64_t *value);

/**
 * @brief Write a field of a vmcs12 image (truncated to the field's width).
 * @param img An image.
 * @param encoding The field's encoding.
 * @param value The value.
 * @return NEST_OK, NEST_E_INVAL or NEST_E_NOENT (no such field).
 */
NEST_API int nest_vmcs12_image_write(void *img, uint32_t encoding, uint64_t value);

/**
 * @brief Run the VM-entry checks of SDM 27.2 and 27.3 on a vmcs12 image.
 *
 * A pure function: it reads nothing but its arguments. The checks run in
 * the SDM's order and stop at the first failure. What a VM entry reads
 * from L1 memory is taken as follows: the PDPTEs (PAE paging without EPT)
 * from the image's GUEST_PDPTE0-3 fields, where the caller stores what it
 * read at guest CR3; the VMCS referenced by the link pointer is assumed to
 * carry the right revision identifier and shadow-VMCS indicator; the
 * VM-entry MSR-load area is checked by nest_vmx_check_msr_load(). L1 is
 * assumed to execute VMLAUNCH/VMRESUME in IA-32e mode, outside SMM; the
 * launch-state and MOV-SS checks of SDM 27.1 are the caller's.
 *
 * @param img A vmcs12 image; images from older libnest versions (shorter)
 *        are accepted, missing fields read as 0.
 * @param len Length of @p img in bytes (at least 16).
 * @param caps The capabilities offered to L1 (the reference for every
 *        reserved-bit check); @c size at least NEST_VMX_CAPS_MIN_SIZE.
 * @param res Receives the outcome; set @c res->size first.
 * @return NEST_OK when the checks ran (whatever their outcome),
 *         NEST_E_INVAL or NEST_E_SIZE.
 */
NEST_API int nest_vmx_check_vmcs12(const void *img, size_t len, const struct nest_vmx_caps *caps,
				   struct nest_vmx_entry_result *res);

/**
 * @brief Run the VM-entry MSR-loading checks of SDM 27.4 on MSR-load entries
 *        already copied from L1 memory.
 *
 * A failing entry gives a VM-entry failure with exit reason 34 and exit
 * qualification = its index + 1; more entries than IA32_VMX_MISC[27:25]
 * allows give exit reason 41 (SDM A.6: the processor may machine-check).
 * @param entries The entries (may be NULL when @p count is 0).
 * @param count Number of entries (the VM-entry MSR-load count).
 * @param caps The capabilities offered to L1.
 * @param res Receives the outcome; set @c res->size first.
 * @return NEST_OK when the checks ran, NEST_E_INVAL or NEST_E_SIZE.
 */
NEST_API int nest_vmx_check_msr_load(const struct nest_vmx_msr_entry *entries, uint32_t count,
				     const struct nest_vmx_caps *caps,
				     struct nest_vmx_entry_result *res);

/* ---- Nested entry and exit ---- */

struct nest_tdp; /* nest/tdp.h */

/** @name L0 flags (nest_vmx_l0::flags)
 *  @{ */
/** The hardware under L0 has VMCS shadowing and the backend's
 *  NEST_VMCS_SHADOW is linked from vmcs01 while L1 runs: libnest keeps it
 *  in step with vmcs12 (see nest_vmx_shadow_bitmaps()). */
#define NEST_VMX_L0_F_SHADOW_VMCS 0x1u
/** @} */

/**
 * @brief What L0 needs in vmcs02: its own exits, features, offsets, and
 *        the maps it uses for L1.
 *
 * vmcs02 is vmcs12 merged with this: every control bit set here stays set
 * in vmcs02 whatever L1 asks (L0 keeps its exits); an MSR or I/O port
 * passes through to L2 only if both L0 and L1 let it; the host-state area
 * of vmcs02 is read from vmcs01 through the backend, never taken from
 * vmcs12.
 *
 * IMPORTANT: layout. Append only; @c size first.
 */
struct nest_vmx_l0 {
	uint32_t size;	///< sizeof(struct nest_vmx_l0) as the caller compiled it
	uint32_t flags; ///< NEST_VMX_L0_F_*
	uint32_t pin;	///< pin-based controls L0 requires in vmcs02 (external-interrupt and NMI
			///< exiting are always added)
	uint32_t proc;	///< primary processor-based controls L0 requires
	uint32_t proc2; ///< secondary controls L0 requires (its exits, and its own features such as
			///< enable EPT or VPID)
	uint32_t exit_ctls; ///< VM-exit controls of vmcs02 (L0's: host address-space size, load
			    ///< EFER/PAT ...)
	uint32_t exception_bitmap; ///< exceptions L0 intercepts in L2 (ORed with L1's)
	uint32_t vpid02;	   ///< VPID L0 reserves for L2 (0: L2 runs without VPID)
	uint64_t cr0_mask;	   ///< CR0 bits L0 owns (ORed with L1's mask)
	uint64_t cr4_mask;	   ///< CR4 bits L0 owns
	uint64_t tsc_offset;	   ///< vmcs01's TSC offset (L1's offset against the host)
	uint64_t tsc_multiplier;   ///< vmcs01's TSC multiplier; 0: L0 does not scale L1's TSC
	uint64_t eptp01;	   ///< EPTP of EPT01, used for L2 when L1 does not use EPT
	uint32_t preemption_timer; ///< L0's own VMX-preemption timer value for L2, if @c pin has
				   ///< the timer
	uint32_t reserved0;	   ///< zero
	/** L0's MSR bitmap for L1 (4 KiB, SDM 26.6.9), copied during
	 *  nest_vmx_set_l0(); NULL: L0 intercepts no MSR access of L2. */
	const void *msr_bitmap;
	/** L0's I/O bitmaps A then B (8 KiB), copied during the call; NULL: L0
	 *  intercepts no port. */
	const void *io_bitmap;
	/** The shadow EPT02 context for L1 using EPT (nest/tdp.h); NULL: L1
	 *  may not enable EPT for L2 (VM entry then fails with error 7). With
	 *  several vCPUs, this vCPU's handle (nest_tdp_vcpu_init()) on the VM's
	 *  shared shadow. */
	struct nest_tdp *tdp;
};

/** The smallest nest_vmx_l0::size libnest accepts. */
#define NEST_VMX_L0_MIN_SIZE (offsetof(struct nest_vmx_l0, tdp) + sizeof(void *))

/**
 * @brief Tell libnest what L0 needs in vmcs02; read vmcs02's host state
 *        from vmcs01.
 *
 * Call once before L1's first VMLAUNCH and again whenever L0 changes what
 * it needs (the next VM entry then rewrites the affected vmcs02 fields).
 *
 * L1's VMLAUNCH and VMRESUME (exit reasons 20 and 24) go through
 * nest_vmx_l1_exit(): the checks of SDM 27.1-27.4 give a VMfail (action
 * RESUME_L1 with the error number), a VM-entry failure reported into L1
 * (RESUME_L1, L1's host state loaded into vmcs01), or NEST_VMX_ACT_ENTER_L2
 * once vmcs02 holds the merged state (only the fields that changed since
 * the previous entry are written). Before this call, they fail with
 * NEST_E_STATE.
 *
 * The host-state fields of vmcs01 are read through the backend's
 * vmcs_read during the call.
 * @param ctx The context.
 * @param l0 L0's needs; only read during the call.
 * @return NEST_OK, NEST_E_INVAL, NEST_E_SIZE or a backend status.
 */
NEST_API int nest_vmx_set_l0(struct nest_vmx *ctx, const struct nest_vmx_l0 *l0);

/**
 * @brief A write to an L1-physical page that libnest asked L0 to track
 *        (nest_backend_ops::track_l1_writes) is about to take effect.
 *
 * L0 calls this from its handling of the write, before letting the write
 * through (by L1, by device emulation or DMA, by another vCPU, or by L2
 * through L0's own map when L1 runs L2 without EPT). During the call
 * libnest calls track_l1_writes again with the set minus that page; it is
 * tracked again from the next VM entry, which reads it anew. While L2
 * runs, every access the written bitmap governs exits from the call on
 * and is decided on L1's memory as it is at the exit (the processor reads
 * the bitmaps at each access, SDM 26.1.3). Call it on every context whose
 * set holds the page, serialized with that context's other calls. A page
 * libnest does not track is ignored.
 * @param ctx The context.
 * @param l1_gpa An L1-physical address in the page (any offset).
 * @return NEST_OK or NEST_E_INVAL.
 */
NEST_API int nest_vmx_l1_written(struct nest_vmx *ctx, uint64_t l1_gpa);

/**
 * @brief L0 changed its map of L1-physical memory [l1_gpa, l1_gpa+len)
 *        while L2 runs (a page moved to another host page, or unmapped).
 *
 * The pages of L1's that vmcs02 names by host address, the virtual-APIC
 * page and the APIC-access page (as L1's controls use them), are
 * translated again through nest_backend_ops::l1_to_host and vmcs02 is
 * re-pointed, so that L0 may resume L2 at once. Outside guest mode there is
 * nothing to do (every entry of L1's translates them). Call it for every
 * vCPU context of the L1, after changing L0's map and before resuming L2
 * on that vCPU; the shadow EPT02, shared by the VM's vCPUs, is dropped
 * separately, once, by nest_tdp_l1_map_changed(). A page that is no longer
 * mapped fails the call with the backend's status and vmcs02 keeps the old
 * address: L0 must not resume L2 then. SVM has no counterpart: vmcb02 names
 * no L1 page by host address. Added after 0.1.0.
 * @param ctx The context.
 * @param l1_gpa Start of the L1-physical range.
 * @param len Length in bytes (0 is nothing; a range past 2^64 is clamped).
 * @return NEST_OK, NEST_E_INVAL or a backend status.
 */
NEST_API int nest_vmx_l1_map_changed(struct nest_vmx *ctx, uint64_t l1_gpa, uint64_t len);

/** @name Action flags of nested entry and exit (nest_vmx_action::flags)
 *  @{ */
/** L0_HANDLES: an event that was being delivered when L2 exited
 *  (IDT-vectoring information) has been written to vmcs02's VM-entry
 *  interruption-information fields, so the next entry of L2 delivers it
 *  again; @c vector, @c has_error_code and @c error_code describe it. */
#define NEST_VMX_ACT_F_REINJECT 0x4u
/** RESUME_L1 after nest_vmx_l2_event(): L1 acknowledged the interrupt on
 *  exit (its vector is in vmcs12's VM-exit interruption information); L0
 *  marks it in service in L1's virtual APIC. */
#define NEST_VMX_ACT_F_ACKED 0x8u
/** L0_HANDLES after nest_vmx_l2_event(): the event goes to L2; it has been
 *  written to vmcs02's VM-entry interruption information. */
#define NEST_VMX_ACT_F_TO_L2 0x10u
/** RESUME_L1: a VMX abort happened (SDM 28.7): L1's vCPU must be shut
 *  down; vmcs12's abort indicator holds the reason. */
#define NEST_VMX_ACT_F_ABORT 0x20u
/** ENTER_L2 or RESUME_L1: L0 loads the MSRs that nest_vmx_pending_msrs()
 *  lists (L1's VM-entry MSR-load area as L2's values, or its VM-exit
 *  MSR-load area as L1's), as WRMSR would, before running the guest. */
#define NEST_VMX_ACT_F_MSRS 0x40u
/** L0_HANDLES after nest_vmx_l2_event(): L2 cannot take the event yet
 *  (external interrupt: RFLAGS.IF clear, or blocking by STI or MOV SS;
 *  NMI: blocking by NMI or MOV SS; or an event is already queued for its
 *  entry). libnest has asked vmcs02 for an interrupt-window (NMI-window)
 *  exit: L0 keeps the event pending and calls nest_vmx_l2_event() again
 *  when nest_vmx_l2_exit() gives it that exit (L0_HANDLES), or gives it to
 *  L1 itself if L2 exits to L1 first. */
#define NEST_VMX_ACT_F_WINDOW 0x80u
/** RESUME_L2 after nest_vmx_l2_event(): the interrupt was L1's posted-
 *  interrupt notification vector (vmcs12 "process posted interrupts",
 *  NEST_VMX_F_POSTED_INTR) and libnest carried out the posted-interrupt
 *  processing (SDM 30.6): L0 dismisses the notification from L1's virtual
 *  APIC as an EOI would (the vector, acknowledged, is in @c vector), and
 *  resumes L2, whose next VM entry evaluates the virtual interrupts it got.
 *  Added after 0.1.0. */
#define NEST_VMX_ACT_F_POSTED 0x100u
/** @} */

/**
 * @brief L2's general-purpose registers at an exit (the exit decision
 *        needs the operands of MOV to CR, RDMSR/WRMSR, ENCLS).
 *
 * IMPORTANT: layout. Append only; @c size first.
 */
struct nest_vmx_l2_regs {
	uint32_t size;	    ///< sizeof(struct nest_vmx_l2_regs) as the caller compiled it
	uint32_t reserved0; ///< zero
	uint64_t gpr[16];   ///< RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15 (encoding order)
};

/** The smallest nest_vmx_l2_regs::size libnest accepts. */
#define NEST_VMX_L2_REGS_MIN_SIZE (offsetof(struct nest_vmx_l2_regs, gpr) + 16 * sizeof(uint64_t))

/**
 * @brief Handle an exit of L2 (vmcs02).
 *
 * Reads the exit information from vmcs02 through the backend, decides
 * whether L1 asked for the exit (its vmcs12 controls, MSR and I/O bitmaps
 * as fetched at the last entry, CR masks and read shadows, exception
 * bitmap and \#PF error-code mask/match, EPT12 through the shadow EPT02),
 * and either
 * - reflects it: vmcs12 receives L2's guest state (per its VM-exit save
 *   controls), the exit information and IDT-vectoring information; L1's
 *   state is loaded from vmcs12's host-state area into vmcs01's guest
 *   fields (SDM 28.5) and the VM-exit MSR-load area is read from L1 memory
 *   once; the action is NEST_VMX_ACT_RESUME_L1 (L0 switches to vmcs01);
 * - or leaves it to L0: NEST_VMX_ACT_L0_HANDLES (L0 handles the exit on
 *   vmcs02, then resumes L2), with NEST_VMX_ACT_F_REINJECT when an event
 *   must be delivered again; or NEST_VMX_ACT_RESUME_L2 when the shadow
 *   EPT02 fixed an EPT violation.
 * @param ctx The context (L2 running).
 * @param exit The exit; only @c size is used (the rest is read from vmcs02).
 * @param regs L2's general-purpose registers.
 * @param act Receives what to do; set @c act->size first.
 * @return NEST_OK; NEST_E_STATE (L2 is not running); NEST_E_INVAL;
 *         NEST_E_SIZE; a backend status.
 */
NEST_API int nest_vmx_l2_exit(struct nest_vmx *ctx, const struct nest_vmx_exit *exit,
			      const struct nest_vmx_l2_regs *regs, struct nest_vmx_action *act);

/** Events L0 has for L1's vCPU while L2 runs (nest_vmx_l2_event()). */
enum nest_vmx_event {
	NEST_VMX_EVT_EXTINT = 0, ///< an external interrupt for L1 (vector 16..255)
	NEST_VMX_EVT_NMI = 1,	 ///< an NMI for L1
	NEST_VMX_EVT_INIT = 2,	 ///< an INIT signal for L1
	NEST_VMX_EVT_SIPI = 3	 ///< a start-up IPI for L1 (vector: the SIPI vector)
};

/**
 * @brief L0 has an event for L1's vCPU while L2 runs.
 *
 * As the SDM specifies for VMX non-root operation (26.2): an external
 * interrupt exits to L1 if vmcs12 has "external-interrupt exiting" (with
 * "acknowledge interrupt on exit", the vector is in the VM-exit
 * interruption information and NEST_VMX_ACT_F_ACKED is set), else it is
 * delivered to L2 as soon as L2 can take it (NEST_VMX_ACT_F_TO_L2 now, or
 * NEST_VMX_ACT_F_WINDOW: later); an NMI exits with "NMI exiting", else goes
 * to L2 likewise; INIT always exits (reason 3); SIPI exits (reason 4) when
 * L2 is in the wait-for-SIPI state and is dropped otherwise.
 * @param ctx The context (L2 running).
 * @param event enum nest_vmx_event.
 * @param vector Interrupt or SIPI vector.
 * @param act Receives RESUME_L1 (reflected), L0_HANDLES with
 *        NEST_VMX_ACT_F_TO_L2 (injected into L2) or NEST_VMX_ACT_F_WINDOW
 *        (L2 cannot take it yet), or RESUME_L2 (dropped).
 * @return NEST_OK, NEST_E_STATE, NEST_E_INVAL, NEST_E_SIZE or a backend status.
 */
NEST_API int nest_vmx_l2_event(struct nest_vmx *ctx, uint32_t event, uint32_t vector,
			       struct nest_vmx_action *act);

/**
 * @brief L0 raises a hardware exception in L2.
 *
 * For an L0 that carries out something on L2's behalf and finds that it
 * faults (its emulation of an instruction of L2's, a CR4 bit or an MSR L0
 * refuses): the exception is L2's, raised at the instruction of the
 * current exit (L0 has not advanced RIP), and goes where the processor
 * would send it (SDM 25.2): a VM exit to L1 (reason 0, the exception in
 * the VM-exit interruption information, no IDT-vectoring information) when
 * vmcs12's exception bitmap selects it (for \#PF with the page-fault
 * error-code mask and match), else it is delivered to L2 by the next VM
 * entry (vmcs02's VM-entry interruption information). The error code is
 * delivered for the exceptions that push one (\#DF, \#TS, \#NP, \#SS,
 * \#GP, \#PF, \#AC, \#CP) when L2 is in protected mode, else ignored.
 * @param ctx The context (L2 running, after nest_vmx_l2_exit() gave
 *        NEST_VMX_ACT_L0_HANDLES).
 * @param vector Exception vector: 0, 1, 3-8, 10-14, 16-21.
 * @param error_code The error code.
 * @param payload \#PF: the faulting linear address (the exit
 *        qualification, or CR2 on delivery); \#DB: the DR6 bits the
 *        exit qualification reports (SDM 28.2.1); ignored otherwise.
 * @param act Receives NEST_VMX_ACT_RESUME_L1 (the exit to L1, applied as
 *        for nest_vmx_l2_exit()) or NEST_VMX_ACT_L0_HANDLES with
 *        NEST_VMX_ACT_F_TO_L2 (vmcs02 delivers the exception at the next
 *        VMRESUME; @c vector, @c has_error_code and @c error_code say
 *        which; for \#PF load CR2 from @c cr2 before it, for \#DB update
 *        L2's DR6 with the payload as the processor would).
 * Added after 0.1.0.
 * @return NEST_OK, NEST_E_INVAL (not such a vector), NEST_E_STATE (L2 not
 *         running, or an event already queued for L2's next entry: the
 *         caller combines the two, SDM 6.15), NEST_E_SIZE or a backend
 *         status.
 */
NEST_API int nest_vmx_l2_exception(struct nest_vmx *ctx, uint32_t vector, uint32_t error_code,
				   uint64_t payload, struct nest_vmx_action *act);

/**
 * @brief L0 carried out the instruction of L2's current exit in software
 *        (an exit nest_vmx_l2_exit() left to it: an MSR, port or CR8
 *        access of L0's, for example); end it as the processor would.
 *
 * Call it once L0 has done the instruction's work, moved L2's RIP past
 * it and ended blocking by STI or MOV SS in vmcs02, and before it gives
 * L2 any event; not for an instruction that faulted
 * (nest_vmx_l2_exception()). On that instruction boundary:
 * - RFLAGS.TF (without IA32_DEBUGCTL.BTF) leaves a single-step trap
 *   pending (SDM 17.3.1.4): libnest sets BS in vmcs02's pending debug
 *   exceptions, and the next VM entry delivers the \#DB (to L2, or as an
 *   exit when L1's exception bitmap asks). L0 does not raise it itself.
 * - With "monitor trap flag" in vmcs12, an MTF VM exit into L1 comes
 *   (SDM 26.5.2), which the processor gives for an instruction it
 *   executes but never for one L0 emulated; the pending single-step trap
 *   is saved with it (vmcs12's pending debug exceptions).
 * Added after 0.1.0.
 * @param ctx The context (L2 running).
 * @param act Receives NEST_VMX_ACT_RESUME_L2 (nothing else to do) or
 *        NEST_VMX_ACT_RESUME_L1 (the MTF exit, applied as for
 *        nest_vmx_l2_exit()); set @c act->size first.
 * @return NEST_OK, NEST_E_INVAL, NEST_E_STATE (L2 not running),
 *         NEST_E_SIZE or a backend status.
 */
NEST_API int nest_vmx_l2_emulated(struct nest_vmx *ctx, struct nest_vmx_action *act);

/**
 * @brief Would an external interrupt for L1's vCPU, arriving now while L2
 *        runs, be acknowledged (taken from the interrupt controller)?
 *
 * Yes when vmcs12 lacks "external-interrupt exiting" (the interrupt is
 * L2's: nest_vmx_l2_event() gives NEST_VMX_ACT_F_TO_L2 or
 * NEST_VMX_ACT_F_WINDOW) or has "acknowledge interrupt on exit" (the exit
 * carries its vector, NEST_VMX_ACT_F_ACKED); no when L1 exits without
 * acknowledging it, where the interrupt must stay pending for L1 (SDM
 * 26.2, 28.2.2). For an L0 whose interrupt controller acknowledges the
 * highest pending vector (a local APIC it passes through): acknowledge
 * first when this says yes, then call nest_vmx_l2_event() with the vector
 * acknowledged, so a higher vector arriving in between is not mistaken
 * for the one reported.
 * @param ctx The context.
 * @return 1 or 0 (0 also when L2 is not running or @p ctx is invalid).
 */
NEST_API int nest_vmx_l2_extint_acked(const struct nest_vmx *ctx);

/**
 * @brief The VMREAD and VMWRITE bitmaps for hardware VMCS shadowing
 *        (SDM 25.6.15): a set bit makes L1's access exit.
 *
 * Fields marked shadowable in nest/vmcs-fields.def (NEST_VMCS_F_SHADOW_*)
 * have their bit clear, every other bit is set. L0 puts the bitmaps in
 * vmcs01 when it links NEST_VMCS_SHADOW (NEST_VMX_L0_F_SHADOW_VMCS).
 * @param vmread_bitmap 4096 bytes.
 * @param vmwrite_bitmap 4096 bytes.
 * @return NEST_OK or NEST_E_INVAL.
 */
NEST_API int nest_vmx_shadow_bitmaps(uint8_t *vmread_bitmap, uint8_t *vmwrite_bitmap);

/**
 * @brief Whether L2 is running (between a successful nested entry and the
 *        exit that returns to L1).
 * @param ctx The context.
 * @return 1 if L2 runs, 0 if not (or for an invalid context).
 */
NEST_API int nest_vmx_in_l2(const struct nest_vmx *ctx);

/**
 * @brief The MSRs L0 must load after an action with NEST_VMX_ACT_F_MSRS.
 *
 * They were copied from L1 memory once and passed the checks of SDM 27.4
 * (entry) or 28.6 (exit); libnest never puts them in vmcs02's hardware
 * MSR-load lists, where they would stay loaded for L0 after L2 exits.
 * @param ctx The context.
 * @param entries Receives a pointer into the context, valid until the
 *        next call on it.
 * @param count Receives the number of entries (0 if none).
 * @return NEST_OK or NEST_E_INVAL.
 */
NEST_API int nest_vmx_pending_msrs(const struct nest_vmx *ctx,
				   const struct nest_vmx_msr_entry **entries, uint32_t *count);

/**
 * @brief Would L1 intercept this exit of L2 (vmcs12's controls, its MSR
 *        and I/O bitmaps as fetched at the last entry, CR masks and
 *        shadows, exception bitmap and \#PF mask/match)?
 *
 * For an L0 that carries out an instruction on L2's behalf (its
 * instruction emulator, an MMIO access, a string I/O instruction): before
 * it performs an access, it asks whether the hardware would have exited to
 * L1 for it; if so, it gives the exit to L1 instead (the emulator half of
 * CVE-2020-2732). The answer is the decision nest_vmx_l2_exit() takes for
 * the same exit: one implementation. EPT exits while L1 uses EPT are the
 * shadow EPT02's (nest_vmx_l2_exit() decides them) and answer 0.
 * @param ctx The context (L2 running).
 * @param reason Basic exit reason (e.g. 30 I/O instruction, 31/32 RDMSR/WRMSR,
 *        28 control-register access, 0 exception).
 * @param qualification Exit qualification as the processor would report it
 *        (I/O: port, size, direction; CR access: register and operand).
 * @param intr_info Exceptions: VM-exit interruption information (vector, type).
 * @param intr_error Exceptions: the error code (\#PF mask/match).
 * @param regs L2's general-purpose registers (RDMSR/WRMSR: ECX; MOV to CR:
 *        the source register).
 * @return 1 if L1 intercepts, 0 if not (or L2 is not running, or an
 *         argument is invalid).
 */
NEST_API int nest_vmx_l1_intercepts(const struct nest_vmx *ctx, uint32_t reason,
				    uint64_t qualification, uint32_t intr_info, uint32_t intr_error,
				    const struct nest_vmx_l2_regs *regs);

/**
 * @brief L0 could not load entry @p index of the MSRs that
 *        nest_vmx_pending_msrs() lists: WRMSR of that value would fault in
 *        L0's emulation of the guest's MSRs.
 *
 * Call it after an action with NEST_VMX_ACT_F_MSRS, having loaded the
 * entries before @p index and none after, before the guest runs.
 * - After NEST_VMX_ACT_ENTER_L2 (L1's VM-entry MSR-load area): the VM entry
 *   fails as the SDM specifies (27.4, 27.8): vmcs12 receives exit reason 34
 *   with bit 31 set and exit qualification @p index + 1, L1's host state
 *   is loaded into vmcs01, no guest state is saved, and a VMLAUNCH leaves
 *   the launch state clear; @p act is NEST_VMX_ACT_RESUME_L1 (with
 *   NEST_VMX_ACT_F_MSRS if L1's VM-exit MSR-load area is now pending).
 * - After NEST_VMX_ACT_RESUME_L1 (L1's VM-exit MSR-load area): a VMX abort
 *   (SDM 28.7, indicator 4): NEST_VMX_ACT_RESUME_L1 with
 *   NEST_VMX_ACT_F_ABORT.
 * @param ctx The context.
 * @param index 0-based index into the pending list.
 * @param act Receives what to do; set @c act->size first.
 * @return NEST_OK; NEST_E_STATE (no pending list, or the guest already
 *         ran); NEST_E_INVAL (@p index beyond the list, NULL); NEST_E_SIZE;
 *         a backend status.
 */
NEST_API int nest_vmx_pending_msr_failed(struct nest_vmx *ctx, uint32_t index,
					 struct nest_vmx_action *act);

#ifdef __cplusplus
}
#endif

#endif /* NEST_VMX_H */
