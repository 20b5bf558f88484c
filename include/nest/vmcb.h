/* SPDX-License-Identifier: MIT */
/**
 * @file vmcb.h
 * @brief The VMCB as data (AMD64 APM Vol. 2 appendix B) and the SVM
 *        architectural constants: intercept numbers, exit codes and exit
 *        information (appendix C, chapter 15).
 *
 * Pure definitions and the VMCB field table, usable without a nested-SVM
 * context (emulators, fuzzers, tools). nest/svm.h includes this header;
 * the context API is there.
 */
#ifndef NEST_VMCB_H
#define NEST_VMCB_H

#include <nest/base.h>

#ifdef __cplusplus
extern "C" {
#endif

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

#ifdef __cplusplus
}
#endif

#endif /* NEST_VMCB_H */
