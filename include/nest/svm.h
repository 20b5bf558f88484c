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

#ifdef __cplusplus
extern "C" {
#endif

struct nest_tdp; /* tdp.h: the NPT02 shadow context */

/* ------------------------------------------------------------------------ */
/* The VMCB (APM appendix B) */

/**
 * @brief A segment register in the VMCB state-save area (APM table B-2).
 *
 * IMPORTANT: layout (16 bytes).
 */
struct nest_vmcb_seg {
	uint16_t selector; ///< selector
	uint16_t attrib;   ///< attributes, compressed: type, S, DPL, P (7:0); AVL, L, D/B, G (11:8)
	uint32_t limit;	   ///< limit in bytes
	uint64_t base;	   ///< base address
};

/**
 * @brief The VMCB control area (APM table B-1), 1 KiB.
 *
 * IMPORTANT: layout. Offsets are in include/nest/vmcb-fields.def and are
 * asserted at build time.
 */
struct nest_vmcb_control {
	uint32_t intercept_cr;		 ///< 0x000: CR reads (bits 15:0) and writes (31:16)
	uint32_t intercept_dr;		 ///< 0x004: DR reads (15:0) and writes (31:16)
	uint32_t intercept_exceptions;	 ///< 0x008: exception vectors 0-31
	uint32_t intercept_misc1;	 ///< 0x00C: INTR ... SHUTDOWN (exit codes 0x60-0x7F)
	uint32_t intercept_misc2;	 ///< 0x010: VMRUN ... (exit codes 0x80-0x9F)
	uint32_t intercept_misc3;	 ///< 0x014: INVLPGB ... (exit codes 0xA0-0xBF)
	uint8_t reserved_018[0x24];	 ///< 0x018: reserved, zero
	uint16_t pause_filter_threshold; ///< 0x03C: pause filter threshold
	uint16_t pause_filter_count;	 ///< 0x03E: pause filter count
	uint64_t iopm_base_pa;		 ///< 0x040: I/O permission map (12 KiB; bits 11:0 ignored)
	uint64_t msrpm_base_pa;		 ///< 0x048: MSR permission map (8 KiB; bits 11:0 ignored)
	uint64_t tsc_offset;		 ///< 0x050: TSC offset
	uint32_t asid;			 ///< 0x058: guest ASID
	uint8_t tlb_control;		 ///< 0x05C: TLB control (NEST_SVM_TLB_*)
	uint8_t reserved_05d[3];	 ///< 0x05D: reserved
	uint64_t int_ctl;		 ///< 0x060: virtual interrupt control (NEST_SVM_INT_CTL_*)
	uint64_t int_state;		 ///< 0x068: interrupt shadow, guest interrupt mask
	uint64_t exitcode;		 ///< 0x070: EXITCODE (NEST_SVM_EXIT_*)
	uint64_t exitinfo1;		 ///< 0x078: EXITINFO1
	uint64_t exitinfo2;		 ///< 0x080: EXITINFO2
	uint64_t exitintinfo;		 ///< 0x088: EXITINTINFO (event being delivered)
	uint64_t np_ctl;		 ///< 0x090: NP_ENABLE, SEV, SEV-ES ... (NEST_SVM_NP_*)
	uint64_t avic_apic_bar;		 ///< 0x098: AVIC APIC_BAR
	uint64_t ghcb_pa;		 ///< 0x0A0: GHCB guest-physical address
	uint64_t event_inj;		 ///< 0x0A8: EVENTINJ (NEST_SVM_EVTINJ_*)
	uint64_t n_cr3;			 ///< 0x0B0: nested page table root (nCR3)
	uint64_t virt_ext;		 ///< 0x0B8: LBR virtualization, virtual VMSAVE/VMLOAD
	uint32_t clean;			 ///< 0x0C0: VMCB clean bits (NEST_VMCB_CLEAN_*)
	uint32_t reserved_0c4;		 ///< 0x0C4: reserved
	uint64_t next_rip;		 ///< 0x0C8: next sequential instruction pointer (nRIP)
	uint8_t insn_len;		 ///< 0x0D0: number of bytes fetched (decode assists)
	uint8_t insn_bytes[15];		 ///< 0x0D1: the bytes fetched
	uint64_t avic_backing_page;	 ///< 0x0E0: AVIC backing page
	uint64_t reserved_0e8;		 ///< 0x0E8: reserved
	uint64_t avic_logical_table;	 ///< 0x0F0: AVIC logical table
	uint64_t avic_physical_table;	 ///< 0x0F8: AVIC physical table
	uint64_t reserved_100;		 ///< 0x100: reserved
	uint64_t vmsa_pa;		 ///< 0x108: VMSA pointer (SEV-ES)
	uint8_t reserved_110[0x2d0];	 ///< 0x110: reserved
	uint8_t software[0x20];		 ///< 0x3E0: reserved for host software
};

/**
 * @brief The VMCB state-save area (APM table B-2), 3 KiB, at offset 0x400.
 *
 * IMPORTANT: layout. Offsets in comments are from the start of the VMCB.
 */
struct nest_vmcb_save {
	struct nest_vmcb_seg es;     ///< 0x400: ES
	struct nest_vmcb_seg cs;     ///< 0x410: CS
	struct nest_vmcb_seg ss;     ///< 0x420: SS
	struct nest_vmcb_seg ds;     ///< 0x430: DS
	struct nest_vmcb_seg fs;     ///< 0x440: FS (VMLOAD/VMSAVE)
	struct nest_vmcb_seg gs;     ///< 0x450: GS (VMLOAD/VMSAVE)
	struct nest_vmcb_seg gdtr;   ///< 0x460: GDTR (limit and base only)
	struct nest_vmcb_seg ldtr;   ///< 0x470: LDTR (VMLOAD/VMSAVE)
	struct nest_vmcb_seg idtr;   ///< 0x480: IDTR (limit and base only)
	struct nest_vmcb_seg tr;     ///< 0x490: TR (VMLOAD/VMSAVE)
	uint8_t reserved_4a0[0x2b];  ///< 0x4A0: reserved
	uint8_t cpl;		     ///< 0x4CB: current privilege level
	uint32_t reserved_4cc;	     ///< 0x4CC: reserved
	uint64_t efer;		     ///< 0x4D0: EFER
	uint8_t reserved_4d8[0x70];  ///< 0x4D8: reserved
	uint64_t cr4;		     ///< 0x548: CR4
	uint64_t cr3;		     ///< 0x550: CR3
	uint64_t cr0;		     ///< 0x558: CR0
	uint64_t dr7;		     ///< 0x560: DR7
	uint64_t dr6;		     ///< 0x568: DR6
	uint64_t rflags;	     ///< 0x570: RFLAGS
	uint64_t rip;		     ///< 0x578: RIP
	uint8_t reserved_580[0x58];  ///< 0x580: reserved
	uint64_t rsp;		     ///< 0x5D8: RSP
	uint64_t s_cet;		     ///< 0x5E0: S_CET
	uint64_t ssp;		     ///< 0x5E8: SSP
	uint64_t isst_addr;	     ///< 0x5F0: ISST_ADDR
	uint64_t rax;		     ///< 0x5F8: RAX
	uint64_t star;		     ///< 0x600: STAR (VMLOAD/VMSAVE)
	uint64_t lstar;		     ///< 0x608: LSTAR (VMLOAD/VMSAVE)
	uint64_t cstar;		     ///< 0x610: CSTAR (VMLOAD/VMSAVE)
	uint64_t sfmask;	     ///< 0x618: SFMASK (VMLOAD/VMSAVE)
	uint64_t kernel_gs_base;     ///< 0x620: KernelGsBase (VMLOAD/VMSAVE)
	uint64_t sysenter_cs;	     ///< 0x628: SYSENTER_CS (VMLOAD/VMSAVE)
	uint64_t sysenter_esp;	     ///< 0x630: SYSENTER_ESP (VMLOAD/VMSAVE)
	uint64_t sysenter_eip;	     ///< 0x638: SYSENTER_EIP (VMLOAD/VMSAVE)
	uint64_t cr2;		     ///< 0x640: CR2
	uint8_t reserved_648[0x20];  ///< 0x648: reserved
	uint64_t g_pat;		     ///< 0x668: guest PAT (nested paging)
	uint64_t dbgctl;	     ///< 0x670: DBGCTL (LBR virtualization)
	uint64_t br_from;	     ///< 0x678: BR_FROM
	uint64_t br_to;		     ///< 0x680: BR_TO
	uint64_t last_excp_from;     ///< 0x688: LASTEXCPFROM
	uint64_t last_excp_to;	     ///< 0x690: LASTEXCPTO
	uint8_t reserved_698[0x48];  ///< 0x698: reserved
	uint64_t spec_ctrl;	     ///< 0x6E0: SPEC_CTRL
	uint8_t reserved_6e8[0x918]; ///< 0x6E8: reserved up to the end of the page
};

/**
 * @brief A VMCB: one 4 KiB page (APM appendix B).
 *
 * IMPORTANT: layout. sizeof(struct nest_vmcb) is 4096; every field offset
 * of include/nest/vmcb-fields.def is asserted against it.
 */
struct nest_vmcb {
	struct nest_vmcb_control control; ///< control area, 0x000-0x3FF
	struct nest_vmcb_save save;	  ///< state-save area, 0x400-0xFFF
};

/** Size of a VMCB. */
#define NEST_VMCB_SIZE 4096u
/** Size of the MSR permission map (APM 15.11). */
#define NEST_SVM_MSRPM_SIZE 8192u
/** Size of the I/O permission map (APM 15.10.1). */
#define NEST_SVM_IOPM_SIZE 12288u

/** @name VMCB field offsets: NEST_VMCB_OFF_<NAME> for every entry of vmcb-fields.def
 *  @{ */
/// @cond INTERNAL
#define NEST_VMCB_FIELD(name, member, offset, width, clean) NEST_VMCB_OFF_##name = offset,
/// @endcond
/** Offsets of the VMCB fields (see include/nest/vmcb-fields.def). */
enum nest_vmcb_offset {
#include "vmcb-fields.def"
	NEST_VMCB_OFF_END_ = NEST_VMCB_SIZE ///< one past the last byte
};
#undef NEST_VMCB_FIELD
/** @} */

/** @name VMCB clean-bit groups (APM 15.15.3, table 15-9): bit numbers of control.clean
 *  @{ */
#define NEST_VMCB_CLEAN_I 0    ///< intercepts, TSC offset, pause filter
#define NEST_VMCB_CLEAN_IOPM 1 ///< IOPM_BASE, MSRPM_BASE
#define NEST_VMCB_CLEAN_ASID 2 ///< ASID
#define NEST_VMCB_CLEAN_TPR                                                                        \
	3 ///< V_TPR, V_IRQ, V_INTR_PRIO, V_IGN_TPR, V_INTR_MASKING, V_INTR_VECTOR
#define NEST_VMCB_CLEAN_NP 4	 ///< NP_ENABLE, nCR3, G_PAT
#define NEST_VMCB_CLEAN_CRX 5	 ///< CR0, CR3, CR4, EFER
#define NEST_VMCB_CLEAN_DRX 6	 ///< DR6, DR7
#define NEST_VMCB_CLEAN_DT 7	 ///< GDTR, IDTR
#define NEST_VMCB_CLEAN_SEG 8	 ///< ES, CS, SS, DS, CPL
#define NEST_VMCB_CLEAN_CR2 9	 ///< CR2
#define NEST_VMCB_CLEAN_LBR 10	 ///< DBGCTL, BR_FROM, BR_TO, LASTEXCP_FROM, LASTEXCP_TO
#define NEST_VMCB_CLEAN_AVIC 11	 ///< AVIC APIC_BAR, backing page, logical and physical tables
#define NEST_VMCB_CLEAN_CET 12	 ///< S_CET, SSP, ISST_ADDR
#define NEST_VMCB_CLEAN_NONE 255 ///< not covered by a clean bit (always reloaded)
/** @} */

/**
 * @brief One entry of the VMCB field table.
 *
 * IMPORTANT: layout.
 */
struct nest_vmcb_field {
	const char *name; ///< name as in vmcb-fields.def ("EXITCODE")
	uint16_t offset;  ///< byte offset in the VMCB
	uint8_t width;	  ///< 1, 2, 4 or 8 bytes
	uint8_t clean;	  ///< NEST_VMCB_CLEAN_* group
};

/**
 * @brief Number of entries in the VMCB field table.
 * @return The count.
 */
NEST_API size_t nest_vmcb_field_count(void);

/**
 * @brief The VMCB field table entry at @p index (in offset order).
 * @param index 0 .. nest_vmcb_field_count() - 1.
 * @return The entry, or NULL if @p index is out of range.
 */
NEST_API const struct nest_vmcb_field *nest_vmcb_field_at(size_t index);

/**
 * @brief Look a VMCB field up by name (case-insensitive).
 * @param name A name from vmcb-fields.def.
 * @return The entry, or NULL.
 */
NEST_API const struct nest_vmcb_field *nest_vmcb_field_by_name(const char *name);

/**
 * @brief Look a VMCB field up by its exact offset.
 * @param offset Byte offset in the VMCB.
 * @return The entry that starts at @p offset, or NULL.
 */
NEST_API const struct nest_vmcb_field *nest_vmcb_field_by_offset(uint32_t offset);

/**
 * @brief Read a field of a VMCB image.
 * @param vmcb The VMCB.
 * @param field A table entry.
 * @return The value, zero-extended; 0 if an argument is NULL.
 */
NEST_API uint64_t nest_vmcb_read(const struct nest_vmcb *vmcb, const struct nest_vmcb_field *field);

/**
 * @brief Write a field of a VMCB image (truncated to the field's width).
 * @param vmcb The VMCB.
 * @param field A table entry.
 * @param value The value.
 */
NEST_API void nest_vmcb_write(struct nest_vmcb *vmcb, const struct nest_vmcb_field *field,
			      uint64_t value);

/* ------------------------------------------------------------------------ */
/* Architectural constants */

/**
 * @name Intercept numbers
 *
 * The six intercept words of the control area (CR, DR, exceptions, misc1,
 * misc2, misc3) form one 192-bit vector; intercept number n is bit n % 32
 * of word n / 32. For exit codes below 0xC0 the exit code equals the
 * number of the intercept that causes it (APM appendix C).
 * @{
 */
#define NEST_SVM_INTERCEPT_WORDS 6	      ///< words at control offsets 0x000-0x017
#define NEST_SVM_ICPT_CR_READ(n) (n)	      ///< read of CRn
#define NEST_SVM_ICPT_CR_WRITE(n) (16 + (n))  ///< write of CRn
#define NEST_SVM_ICPT_DR_READ(n) (32 + (n))   ///< read of DRn
#define NEST_SVM_ICPT_DR_WRITE(n) (48 + (n))  ///< write of DRn
#define NEST_SVM_ICPT_EXCEPTION(v) (64 + (v)) ///< exception vector v
#define NEST_SVM_ICPT_INTR 96		      ///< physical interrupt
#define NEST_SVM_ICPT_NMI 97		      ///< NMI
#define NEST_SVM_ICPT_SMI 98		      ///< SMI
#define NEST_SVM_ICPT_INIT 99		      ///< INIT
#define NEST_SVM_ICPT_VINTR 100		      ///< virtual interrupt
#define NEST_SVM_ICPT_CR0_SEL_WRITE 101	      ///< CR0 writes other than TS/MP
#define NEST_SVM_ICPT_RDTSC 110		      ///< RDTSC
#define NEST_SVM_ICPT_CPUID 114		      ///< CPUID
#define NEST_SVM_ICPT_IRET 116		      ///< IRET
#define NEST_SVM_ICPT_PAUSE 119		      ///< PAUSE
#define NEST_SVM_ICPT_HLT 120		      ///< HLT
#define NEST_SVM_ICPT_INVLPG 121	      ///< INVLPG
#define NEST_SVM_ICPT_INVLPGA 122	      ///< INVLPGA
#define NEST_SVM_ICPT_IOIO_PROT 123	      ///< I/O through the IOPM
#define NEST_SVM_ICPT_MSR_PROT 124	      ///< MSR accesses through the MSRPM
#define NEST_SVM_ICPT_SHUTDOWN 127	      ///< shutdown
#define NEST_SVM_ICPT_VMRUN 128		      ///< VMRUN
#define NEST_SVM_ICPT_VMMCALL 129	      ///< VMMCALL
#define NEST_SVM_ICPT_VMLOAD 130	      ///< VMLOAD
#define NEST_SVM_ICPT_VMSAVE 131	      ///< VMSAVE
#define NEST_SVM_ICPT_STGI 132		      ///< STGI
#define NEST_SVM_ICPT_CLGI 133		      ///< CLGI
#define NEST_SVM_ICPT_SKINIT 134	      ///< SKINIT
#define NEST_SVM_ICPT_RDTSCP 135	      ///< RDTSCP
/** @} */

/**
 * @brief Exit codes (APM appendix C) as an X-macro: X(NAME, code).
 *
 * The ranges CR0-15 read/write, DR0-15 read/write, exceptions 0-31 and
 * CR0-15 write traps are listed by their first code.
 */
#define NEST_SVM_EXIT_LIST(X)                                                                      \
	X(CR0_READ, 0x000)                                                                         \
	X(CR0_WRITE, 0x010)                                                                        \
	X(DR0_READ, 0x020)                                                                         \
	X(DR0_WRITE, 0x030)                                                                        \
	X(EXCP_BASE, 0x040)                                                                        \
	X(INTR, 0x060)                                                                             \
	X(NMI, 0x061)                                                                              \
	X(SMI, 0x062)                                                                              \
	X(INIT, 0x063)                                                                             \
	X(VINTR, 0x064)                                                                            \
	X(CR0_SEL_WRITE, 0x065)                                                                    \
	X(IDTR_READ, 0x066)                                                                        \
	X(GDTR_READ, 0x067)                                                                        \
	X(LDTR_READ, 0x068)                                                                        \
	X(TR_READ, 0x069)                                                                          \
	X(IDTR_WRITE, 0x06a)                                                                       \
	X(GDTR_WRITE, 0x06b)                                                                       \
	X(LDTR_WRITE, 0x06c)                                                                       \
	X(TR_WRITE, 0x06d)                                                                         \
	X(RDTSC, 0x06e)                                                                            \
	X(RDPMC, 0x06f)                                                                            \
	X(PUSHF, 0x070)                                                                            \
	X(POPF, 0x071)                                                                             \
	X(CPUID, 0x072)                                                                            \
	X(RSM, 0x073)                                                                              \
	X(IRET, 0x074)                                                                             \
	X(SWINT, 0x075)                                                                            \
	X(INVD, 0x076)                                                                             \
	X(PAUSE, 0x077)                                                                            \
	X(HLT, 0x078)                                                                              \
	X(INVLPG, 0x079)                                                                           \
	X(INVLPGA, 0x07a)                                                                          \
	X(IOIO, 0x07b)                                                                             \
	X(MSR, 0x07c)                                                                              \
	X(TASK_SWITCH, 0x07d)                                                                      \
	X(FERR_FREEZE, 0x07e)                                                                      \
	X(SHUTDOWN, 0x07f)                                                                         \
	X(VMRUN, 0x080)                                                                            \
	X(VMMCALL, 0x081)                                                                          \
	X(VMLOAD, 0x082)                                                                           \
	X(VMSAVE, 0x083)                                                                           \
	X(STGI, 0x084)                                                                             \
	X(CLGI, 0x085)                                                                             \
	X(SKINIT, 0x086)                                                                           \
	X(RDTSCP, 0x087)                                                                           \
	X(ICEBP, 0x088)                                                                            \
	X(WBINVD, 0x089)                                                                           \
	X(MONITOR, 0x08a)                                                                          \
	X(MWAIT, 0x08b)                                                                            \
	X(MWAIT_CONDITIONAL, 0x08c)                                                                \
	X(XSETBV, 0x08d)                                                                           \
	X(RDPRU, 0x08e)                                                                            \
	X(EFER_WRITE_TRAP, 0x08f)                                                                  \
	X(CR0_WRITE_TRAP, 0x090)                                                                   \
	X(INVLPGB, 0x0a0)                                                                          \
	X(INVLPGB_ILLEGAL, 0x0a1)                                                                  \
	X(INVPCID, 0x0a2)                                                                          \
	X(MCOMMIT, 0x0a3)                                                                          \
	X(TLBSYNC, 0x0a4)                                                                          \
	X(NPF, 0x400)                                                                              \
	X(AVIC_INCOMPLETE_IPI, 0x401)                                                              \
	X(AVIC_NOACCEL, 0x402)                                                                     \
	X(VMGEXIT, 0x403)

/** Exit codes: NEST_SVM_EXIT_<NAME> (see NEST_SVM_EXIT_LIST). */
enum nest_svm_exit_code {
/// @cond INTERNAL
#define NEST_SVM_EXIT_ENUM_(name, code) NEST_SVM_EXIT_##name = code,
	NEST_SVM_EXIT_LIST(NEST_SVM_EXIT_ENUM_)
#undef NEST_SVM_EXIT_ENUM_
	/// @endcond
	NEST_SVM_EXIT_LAST_ = 0x403 ///< the largest listed code
};

/** EXITCODE of a VMRUN that failed its consistency checks (-1, APM 15.5.1). */
#define NEST_SVM_EXIT_INVALID UINT64_MAX

/**
 * @brief The name of an exit code ("CPUID", "INVALID"); codes inside the
 *        CR, DR, exception and CR-write-trap ranges give the range's name
 *        ("CR_READ", "CR_WRITE", "DR_READ", "DR_WRITE", "EXCP", "CR_WRITE_TRAP")
 *        unless they are its first code.
 * @param code An EXITCODE value.
 * @return A static string; "UNKNOWN" for codes not in the list.
 */
NEST_API const char *nest_svm_exit_name(uint64_t code);

/** @name int_ctl bits (APM table B-1, offset 0x060)
 *  @{ */
#define NEST_SVM_INT_CTL_V_TPR_MASK 0xffull		    ///< V_TPR (7:0)
#define NEST_SVM_INT_CTL_V_IRQ (1ull << 8)		    ///< V_IRQ: virtual interrupt pending
#define NEST_SVM_INT_CTL_V_GIF (1ull << 9)		    ///< V_GIF: virtual GIF
#define NEST_SVM_INT_CTL_V_NMI (1ull << 11)		    ///< V_NMI pending
#define NEST_SVM_INT_CTL_V_NMI_MASK (1ull << 12)	    ///< V_NMI blocked
#define NEST_SVM_INT_CTL_V_INTR_PRIO_MASK (0xfull << 16)    ///< V_INTR_PRIO (19:16)
#define NEST_SVM_INT_CTL_V_IGN_TPR (1ull << 20)		    ///< V_IGN_TPR
#define NEST_SVM_INT_CTL_V_INTR_MASKING (1ull << 24)	    ///< V_INTR_MASKING
#define NEST_SVM_INT_CTL_V_GIF_ENABLE (1ull << 25)	    ///< virtual GIF enabled
#define NEST_SVM_INT_CTL_V_NMI_ENABLE (1ull << 26)	    ///< virtual NMI enabled
#define NEST_SVM_INT_CTL_X2AVIC_ENABLE (1ull << 30)	    ///< x2AVIC enabled
#define NEST_SVM_INT_CTL_AVIC_ENABLE (1ull << 31)	    ///< AVIC enabled
#define NEST_SVM_INT_CTL_V_INTR_VECTOR_MASK (0xffull << 32) ///< V_INTR_VECTOR (39:32)
/** @} */

/** @name int_state bits (offset 0x068)
 *  @{ */
#define NEST_SVM_INT_STATE_SHADOW (1ull << 0) ///< interrupt shadow (STI / MOV SS)
#define NEST_SVM_INT_STATE_GUEST_MASK                                                              \
	(1ull << 1) ///< guest's RFLAGS.IF at \#VMEXIT (V_INTR_MASKING)
/** @} */

/** @name np_ctl bits (offset 0x090)
 *  @{ */
#define NEST_SVM_NP_ENABLE (1ull << 0) ///< nested paging
#define NEST_SVM_NP_SEV (1ull << 1)    ///< SEV
#define NEST_SVM_NP_SEV_ES (1ull << 2) ///< SEV-ES
#define NEST_SVM_NP_GMET (1ull << 3)   ///< guest-mode execute trap
/** @} */

/** @name virt_ext bits (offset 0x0B8)
 *  @{ */
#define NEST_SVM_VIRT_EXT_LBR (1ull << 0)      ///< LBR virtualization
#define NEST_SVM_VIRT_EXT_V_VMLOAD (1ull << 1) ///< virtualized VMSAVE/VMLOAD
/** @} */

/** @name TLB_CONTROL values (offset 0x05C, APM 15.16.2)
 *  @{ */
#define NEST_SVM_TLB_DO_NOTHING 0	///< no flush
#define NEST_SVM_TLB_FLUSH_ALL 1	///< flush the entire TLB
#define NEST_SVM_TLB_FLUSH_ASID 3	///< flush this guest's ASID
#define NEST_SVM_TLB_FLUSH_ASID_LOCAL 7 ///< flush this guest's non-global entries
/** @} */

/** @name EVENTINJ / EXITINTINFO format (APM 15.20)
 *  @{ */
#define NEST_SVM_EVTINJ_VECTOR_MASK 0xffull		 ///< vector
#define NEST_SVM_EVTINJ_TYPE_SHIFT 8			 ///< type (10:8)
#define NEST_SVM_EVTINJ_TYPE_MASK (7ull << 8)		 ///< type field
#define NEST_SVM_EVTINJ_TYPE_INTR 0			 ///< external or virtual interrupt
#define NEST_SVM_EVTINJ_TYPE_NMI 2			 ///< NMI
#define NEST_SVM_EVTINJ_TYPE_EXCEPTION 3		 ///< exception (fault or trap)
#define NEST_SVM_EVTINJ_TYPE_SOFT 4			 ///< software interrupt (INTn)
#define NEST_SVM_EVTINJ_EV (1ull << 11)			 ///< error code valid
#define NEST_SVM_EVTINJ_RESERVED_MASK (0x7ffffull << 12) ///< bits 30:12, reserved
#define NEST_SVM_EVTINJ_VALID (1ull << 31)		 ///< valid
#define NEST_SVM_EVTINJ_ERRCODE_SHIFT 32		 ///< error code (63:32)
/** @} */

/** @name IOIO EXITINFO1 bits (APM 15.10.2)
 *  @{ */
#define NEST_SVM_IOIO_TYPE_IN (1ull << 0) ///< IN (else OUT)
#define NEST_SVM_IOIO_STR (1ull << 2)	  ///< string instruction
#define NEST_SVM_IOIO_REP (1ull << 3)	  ///< REP prefix
#define NEST_SVM_IOIO_SZ8 (1ull << 4)	  ///< 8-bit operand
#define NEST_SVM_IOIO_SZ16 (1ull << 5)	  ///< 16-bit operand
#define NEST_SVM_IOIO_SZ32 (1ull << 6)	  ///< 32-bit operand
#define NEST_SVM_IOIO_PORT_SHIFT 16	  ///< port number (31:16)
/** @} */

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
	 *  offered and L2 always runs on NPT01. */
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
 * @brief vmcb02 as libnest built it (for L0's handling of L2 exits).
 * @param ctx The context.
 * @return The caller's vmcb02 page, or NULL.
 */
NEST_API struct nest_vmcb *nest_svm_vmcb02(struct nest_svm *ctx);

#ifdef __cplusplus
}
#endif

#endif /* NEST_SVM_H */
