/* SPDX-License-Identifier: MIT */
/*
 * What the stub needs of SVM, from the AMD64 Architecture Programmer's
 * Manual, Volume 2 (APM): chapter 15, appendix B (VMCB layout, tables B-1
 * and B-2) and appendix C (exit codes). Fields are accessed by offset.
 */
#ifndef STUB_SVM_HW_H
#define STUB_SVM_HW_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_TSC 0x10u
#define MSR_TSC_RATIO 0xC0000104u
#define MSR_VM_CR 0xC0010114u
#define VM_CR_SVMDIS (1ull << 4)
#define MSR_VM_HSAVE_PA 0xC0010117u

#define CPUID_EXT_FEATURES 0x80000001u
#define CPUID_EXT_ECX_SVM (1u << 2)
#define CPUID_EXT_EDX_NX (1u << 20)
#define CPUID_SVM_LEAF 0x8000000Au
#define CPUID_SVM_EDX_NP (1u << 0)
#define CPUID_SVM_EDX_NRIPS (1u << 3)
#define CPUID_SVM_EDX_V_VMSAVE_VMLOAD (1u << 15)
#define CPUID_SVM_EDX_VGIF (1u << 16)

/* VMCB control area (APM table B-1). */
#define VMCB_ICPT_CR 0x000
#define VMCB_ICPT_DR 0x004
#define VMCB_ICPT_EXC 0x008
#define VMCB_ICPT_MISC1 0x00C
#define VMCB_ICPT_MISC2 0x010
#define VMCB_IOPM_BASE 0x040
#define VMCB_MSRPM_BASE 0x048
#define VMCB_TSC_OFFSET 0x050
#define VMCB_ASID 0x058
#define VMCB_TLB_CONTROL 0x05C
#define VMCB_INT_CTL 0x060
#define VMCB_INT_STATE 0x068
#define VMCB_EXITCODE 0x070
#define VMCB_EXITINFO1 0x078
#define VMCB_EXITINFO2 0x080
/* #NPF EXITINFO1: the access was a write (APM 15.25.6). */
#define NPF_WRITE (1ull << 1)
#define VMCB_EXITINTINFO 0x088
#define VMCB_NP_CTL 0x090
#define VMCB_EVENTINJ 0x0A8
#define VMCB_N_CR3 0x0B0
#define VMCB_VIRT_EXT 0x0B8
#define VMCB_CLEAN 0x0C0
#define VMCB_NRIP 0x0C8
/* State-save area (APM table B-2). */
#define VMCB_ES 0x400
#define VMCB_CS 0x410
#define VMCB_SS 0x420
#define VMCB_DS 0x430
#define VMCB_FS 0x440
#define VMCB_GS 0x450
#define VMCB_GDTR 0x460
#define VMCB_LDTR 0x470
#define VMCB_IDTR 0x480
#define VMCB_TR 0x490
#define VMCB_CPL 0x4CB
#define VMCB_EFER 0x4D0
#define VMCB_CR4 0x548
#define VMCB_CR3 0x550
#define VMCB_CR0 0x558
#define VMCB_DR7 0x560
#define VMCB_DR6 0x568
#define VMCB_RFLAGS 0x570
#define VMCB_RIP 0x578
#define VMCB_RSP 0x5D8
#define VMCB_RAX 0x5F8
#define VMCB_CR2 0x640
#define VMCB_G_PAT 0x668
/* A segment in the save area: selector, attributes, limit, base. */
#define VMCB_SEG_SEL 0
#define VMCB_SEG_ATTR 2
#define VMCB_SEG_LIMIT 4
#define VMCB_SEG_BASE 8

/* Intercept vector 3 (VMCB offset 0x00C), APM table B-1. */
#define ICPT1_INTR (1u << 0)
#define ICPT1_NMI (1u << 1)
#define ICPT1_CPUID (1u << 18)
#define ICPT1_HLT (1u << 24)
#define ICPT1_INVLPGA (1u << 26)
#define ICPT1_IOIO (1u << 27)
#define ICPT1_MSR (1u << 28)
#define ICPT1_SHUTDOWN (1u << 31)
/* Intercept vector 4 (VMCB offset 0x010). */
#define ICPT2_VMRUN (1u << 0)
#define ICPT2_VMMCALL (1u << 1)
#define ICPT2_VMLOAD (1u << 2)
#define ICPT2_VMSAVE (1u << 3)
#define ICPT2_STGI (1u << 4)
#define ICPT2_CLGI (1u << 5)
#define ICPT2_SKINIT (1u << 6)

#define TLB_CONTROL_FLUSH_ALL 1
#define NP_CTL_ENABLE 1ull
/* The power-on PAT value (APM 7.8.2), a valid G_PAT for nested paging. */
#define PAT_DEFAULT 0x0007040600070406ull

/* Event injection (APM 15.20). */
#define EVENTINJ_VALID (1ull << 31)
#define EVENTINJ_EV (1ull << 11)
#define EVENTINJ_TYPE_EXCEPTION (3ull << 8)
#define VEC_NMI 2
#define VEC_UD 6
#define VEC_GP 13

/* IOIO intercept EXITINFO1 (APM 15.10.2). */
#define IOIO_TYPE_IN (1u << 0)
#define IOIO_STR (1u << 2)
#define IOIO_REP (1u << 3)
#define IOIO_SZ8 (1u << 4)
#define IOIO_SZ16 (1u << 5)
#define IOIO_SZ32 (1u << 6)
#define IOIO_PORT_SHIFT 16

/* Exit codes (APM appendix C). */
#define VMEXIT_EXCP_BASE 0x40
#define VMEXIT_INTR 0x60
#define VMEXIT_NMI 0x61
#define VMEXIT_SMI 0x62
#define VMEXIT_INIT 0x63
#define VMEXIT_CPUID 0x72
#define VMEXIT_HLT 0x78
#define VMEXIT_INVLPGA 0x7A
#define VMEXIT_IOIO 0x7B
#define VMEXIT_MSR 0x7C
#define VMEXIT_SHUTDOWN 0x7F
#define VMEXIT_VMRUN 0x80
#define VMEXIT_VMMCALL 0x81
#define VMEXIT_VMLOAD 0x82
#define VMEXIT_VMSAVE 0x83
#define VMEXIT_STGI 0x84
#define VMEXIT_CLGI 0x85
#define VMEXIT_SKINIT 0x86
#define VMEXIT_NPF 0x400
#define VMEXIT_INVALID 0xFFFFFFFFFFFFFFFFull

/* Segment attributes in the VMCB's packed form (APM 15.5.1). */
#define SEG_ATTR_CODE32 0xC9B /* G, D, P, S, type 0xB (execute/read, accessed) */
#define SEG_ATTR_DATA32 0xC93 /* G, B, P, S, type 0x3 (read/write, accessed) */
#define SEG_ATTR_TSS32_BUSY 0x08B
#define SEG_ATTR_LDT 0x082

/* Sizes of the permission maps (APM 15.10.1, 15.11). */
#define IOPM_SIZE (3 * 4096)
#define MSRPM_SIZE (2 * 4096)

#define VMCB_U64(v, off) (*(volatile uint64_t *)((uint8_t *)(v) + (off)))
#define VMCB_U32(v, off) (*(volatile uint32_t *)((uint8_t *)(v) + (off)))
#define VMCB_U16(v, off) (*(volatile uint16_t *)((uint8_t *)(v) + (off)))
#define VMCB_U8(v, off) (*(volatile uint8_t *)((uint8_t *)(v) + (off)))

/*
 * The general registers VMRUN does not switch live in a struct nest_svm_regs
 * (include/nest/svm.h): gpr[] in encoding order; the RAX and RSP slots are
 * unused (the VMCB holds them).
 */
#define GPR_RCX 1
#define GPR_RDX 2
#define GPR_RBX 3
#define GPR_RBP 5
#define GPR_RSI 6
#define GPR_RDI 7

struct nest_svm_regs;
/*
 * Runs the guest whose VMCB is at physical @vmcb until its next #VMEXIT,
 * with @regs as its general registers (updated on return). @host_save is a
 * VMCB-sized page holding the stub's own VMLOAD/VMSAVE state meanwhile.
 * @host_if is RFLAGS.IF at VMRUN (what V_INTR_MASKING compares against,
 * APM 15.21.1); GIF stays clear around it, so the stub takes no interrupt.
 */
void svm_run(struct nest_svm_regs *regs, uint64_t vmcb, uint64_t host_save, bool host_if);

#endif /* STUB_SVM_HW_H */
