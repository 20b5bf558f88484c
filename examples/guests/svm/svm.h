/* SPDX-License-Identifier: MIT */
/*
 * SVM definitions of the test L1 hypervisor, written from the AMD64
 * Architecture Programmer's Manual, Volume 2 (APM): chapter 15 and
 * appendix B (VMCB layout), appendix C (exit codes). Deliberately
 * independent of libnest's own headers: this L1 checks libnest, so it must
 * not share its understanding of the architecture.
 */
#ifndef L1_SVM_H
#define L1_SVM_H

#include <stddef.h>
#include <stdint.h>

/* CPUID Fn8000_0001 ECX (APM vol. 3, appendix E) */
#define CPUID_EXT_FEATURES 0x80000001u
#define CPUID_EXT_ECX_SVM (1u << 2)
/* CPUID Fn8000_000A: SVM revision and features (APM vol. 3, E.4.9) */
#define CPUID_SVM_LEAF 0x8000000Au
#define CPUID_SVM_EDX_NP (1u << 0)
#define CPUID_SVM_EDX_LBRV (1u << 1)
#define CPUID_SVM_EDX_SVML (1u << 2)
#define CPUID_SVM_EDX_NRIPS (1u << 3)
#define CPUID_SVM_EDX_TSCRATE (1u << 4)
#define CPUID_SVM_EDX_VMCBCLEAN (1u << 5)
#define CPUID_SVM_EDX_FLUSHBYASID (1u << 6)
#define CPUID_SVM_EDX_DECODEASSISTS (1u << 7)
#define CPUID_SVM_EDX_PAUSEFILTER (1u << 10)
#define CPUID_SVM_EDX_AVIC (1u << 13)
#define CPUID_SVM_EDX_VMSAVE_VIRT (1u << 15)
#define CPUID_SVM_EDX_VGIF (1u << 16)

/* MSRs (APM vol. 2, 15.30 and appendix A) */
#ifndef MSR_EFER /* the boot layer may define the same EFER names */
#define MSR_EFER 0xC0000080u
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define EFER_SVME (1ull << 12)
#endif
#define MSR_VM_CR 0xC0010114u
#define VM_CR_SVMDIS (1ull << 4)
#define MSR_VM_HSAVE_PA 0xC0010117u
#define MSR_TSC_AUX 0xC0000103u
/* The MSRs VMLOAD and VMSAVE move (APM 15.5.2) */
#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_CSTAR 0xC0000083u
#define MSR_SFMASK 0xC0000084u
#define MSR_FS_BASE 0xC0000100u
#define MSR_GS_BASE 0xC0000101u
#define MSR_KERNEL_GS_BASE 0xC0000102u
#define MSR_SYSENTER_CS 0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u

/* One segment register in the VMCB state-save area (APM B, table B-2). */
struct vmcb_seg {
	uint16_t sel;
	uint16_t attr; /* descriptor bits 40-47 and 52-55, packed */
	uint32_t limit;
	uint64_t base;
};

/*
 * IMPORTANT: layout. The VMCB: control area at 0, state save at 0x400. Every
 * field is naturally aligned, so no packing is needed; the asserts below pin it.
 */
struct vmcb {
	/* control area, APM appendix B table B-1 */
	uint16_t icpt_cr_read;	/* 0x000 */
	uint16_t icpt_cr_write; /* 0x002 */
	uint16_t icpt_dr_read;	/* 0x004 */
	uint16_t icpt_dr_write; /* 0x006 */
	uint32_t icpt_exc;	/* 0x008 */
	uint32_t icpt_misc1;	/* 0x00C */
	uint32_t icpt_misc2;	/* 0x010 */
	uint32_t icpt_misc3;	/* 0x014 */
	uint8_t rsvd_018[0x03C - 0x018];
	uint16_t pause_thresh;	/* 0x03C */
	uint16_t pause_count;	/* 0x03E */
	uint64_t iopm_base_pa;	/* 0x040 */
	uint64_t msrpm_base_pa; /* 0x048 */
	uint64_t tsc_offset;	/* 0x050 */
	uint32_t asid;		/* 0x058 */
	uint8_t tlb_control;	/* 0x05C */
	uint8_t rsvd_05d[3];
	uint64_t int_ctl;     /* 0x060: V_TPR, V_IRQ, V_INTR_MASKING, ... */
	uint64_t int_state;   /* 0x068: interrupt shadow */
	uint64_t exitcode;    /* 0x070 */
	uint64_t exitinfo1;   /* 0x078 */
	uint64_t exitinfo2;   /* 0x080 */
	uint64_t exitintinfo; /* 0x088 */
	uint64_t np_ctl;      /* 0x090: NP_ENABLE bit 0 */
	uint64_t avic_bar;    /* 0x098 */
	uint64_t ghcb_pa;     /* 0x0A0 */
	uint64_t eventinj;    /* 0x0A8 */
	uint64_t n_cr3;	      /* 0x0B0 */
	uint64_t virt_ext;    /* 0x0B8: LBR virtualization, VMSAVE/VMLOAD virt. */
	uint32_t clean;	      /* 0x0C0: VMCB clean bits */
	uint32_t rsvd_0c4;
	uint64_t nrip;		/* 0x0C8 */
	uint8_t insn_len;	/* 0x0D0 */
	uint8_t insn_bytes[15]; /* 0x0D1 */
	uint8_t rsvd_0e0[0x400 - 0x0E0];
	/* state save area, APM appendix B table B-2 */
	struct vmcb_seg es;   /* 0x400 */
	struct vmcb_seg cs;   /* 0x410 */
	struct vmcb_seg ss;   /* 0x420 */
	struct vmcb_seg ds;   /* 0x430 */
	struct vmcb_seg fs;   /* 0x440 */
	struct vmcb_seg gs;   /* 0x450 */
	struct vmcb_seg gdtr; /* 0x460 */
	struct vmcb_seg ldtr; /* 0x470 */
	struct vmcb_seg idtr; /* 0x480 */
	struct vmcb_seg tr;   /* 0x490 */
	uint8_t rsvd_4a0[0x4CB - 0x4A0];
	uint8_t cpl; /* 0x4CB */
	uint32_t rsvd_4cc;
	uint64_t efer; /* 0x4D0 */
	uint8_t rsvd_4d8[0x548 - 0x4D8];
	uint64_t cr4;	 /* 0x548 */
	uint64_t cr3;	 /* 0x550 */
	uint64_t cr0;	 /* 0x558 */
	uint64_t dr7;	 /* 0x560 */
	uint64_t dr6;	 /* 0x568 */
	uint64_t rflags; /* 0x570 */
	uint64_t rip;	 /* 0x578 */
	uint8_t rsvd_580[0x5D8 - 0x580];
	uint64_t rsp; /* 0x5D8 */
	uint8_t rsvd_5e0[0x5F8 - 0x5E0];
	uint64_t rax;		 /* 0x5F8 */
	uint64_t star;		 /* 0x600 */
	uint64_t lstar;		 /* 0x608 */
	uint64_t cstar;		 /* 0x610 */
	uint64_t sfmask;	 /* 0x618 */
	uint64_t kernel_gs_base; /* 0x620 */
	uint64_t sysenter_cs;	 /* 0x628 */
	uint64_t sysenter_esp;	 /* 0x630 */
	uint64_t sysenter_eip;	 /* 0x638 */
	uint64_t cr2;		 /* 0x640 */
	uint8_t rsvd_648[0x668 - 0x648];
	uint64_t g_pat; /* 0x668 */
	uint8_t rsvd_670[0x1000 - 0x670];
};

_Static_assert(sizeof(struct vmcb) == 0x1000, "VMCB is one page");
_Static_assert(offsetof(struct vmcb, icpt_exc) == 0x008, "APM B-1");
_Static_assert(offsetof(struct vmcb, icpt_misc1) == 0x00C, "APM B-1");
_Static_assert(offsetof(struct vmcb, icpt_misc2) == 0x010, "APM B-1");
_Static_assert(offsetof(struct vmcb, iopm_base_pa) == 0x040, "APM B-1");
_Static_assert(offsetof(struct vmcb, msrpm_base_pa) == 0x048, "APM B-1");
_Static_assert(offsetof(struct vmcb, asid) == 0x058, "APM B-1");
_Static_assert(offsetof(struct vmcb, tlb_control) == 0x05C, "APM B-1");
_Static_assert(offsetof(struct vmcb, int_ctl) == 0x060, "APM B-1");
_Static_assert(offsetof(struct vmcb, exitcode) == 0x070, "APM B-1");
_Static_assert(offsetof(struct vmcb, exitinfo1) == 0x078, "APM B-1");
_Static_assert(offsetof(struct vmcb, exitinfo2) == 0x080, "APM B-1");
_Static_assert(offsetof(struct vmcb, exitintinfo) == 0x088, "APM B-1");
_Static_assert(offsetof(struct vmcb, np_ctl) == 0x090, "APM B-1");
_Static_assert(offsetof(struct vmcb, eventinj) == 0x0A8, "APM B-1");
_Static_assert(offsetof(struct vmcb, n_cr3) == 0x0B0, "APM B-1");
_Static_assert(offsetof(struct vmcb, clean) == 0x0C0, "APM B-1");
_Static_assert(offsetof(struct vmcb, nrip) == 0x0C8, "APM B-1");
_Static_assert(offsetof(struct vmcb, es) == 0x400, "APM B-2");
_Static_assert(offsetof(struct vmcb, idtr) == 0x480, "APM B-2");
_Static_assert(offsetof(struct vmcb, cpl) == 0x4CB, "APM B-2");
_Static_assert(offsetof(struct vmcb, efer) == 0x4D0, "APM B-2");
_Static_assert(offsetof(struct vmcb, cr4) == 0x548, "APM B-2");
_Static_assert(offsetof(struct vmcb, rip) == 0x578, "APM B-2");
_Static_assert(offsetof(struct vmcb, rsp) == 0x5D8, "APM B-2");
_Static_assert(offsetof(struct vmcb, rax) == 0x5F8, "APM B-2");
_Static_assert(offsetof(struct vmcb, cr2) == 0x640, "APM B-2");
_Static_assert(offsetof(struct vmcb, g_pat) == 0x668, "APM B-2");

/* Exception vectors (APM vol. 2, 8.2) */
#define EXC_DE 0
#define EXC_UD 6
#define EXC_DF 8
#define EXC_TS 10
#define EXC_NP 11
#define EXC_SS 12
#define EXC_GP 13
#define EXC_PF 14
#define EXC_AC 17

/* RFLAGS (APM vol. 2, 3.1.6) */
#define RFLAGS_FIXED1 (1ull << 1) /* reads as one */
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_DF (1ull << 10)

/* CR intercept vectors at 0x000 (reads) and 0x002 (writes): bit n is CRn */
#define ICPT_CR(n) (1u << (n))

/* Intercept vector at 0x00C (APM B-1): bit n intercepts exit code 0x60 + n. */
#define ICPT1_INTR (1u << 0)
#define ICPT1_NMI (1u << 1)
#define ICPT1_SMI (1u << 2)
#define ICPT1_INIT (1u << 3)
#define ICPT1_VINTR (1u << 4)
#define ICPT1_RDTSC (1u << 14)
#define ICPT1_CPUID (1u << 18)
#define ICPT1_HLT (1u << 24)
#define ICPT1_IOIO_PROT (1u << 27)
#define ICPT1_MSR_PROT (1u << 28)
#define ICPT1_SHUTDOWN (1u << 31)
/* Intercept vector at 0x010 */
#define ICPT2_VMRUN (1u << 0)
#define ICPT2_VMMCALL (1u << 1)
#define ICPT2_VMLOAD (1u << 2)
#define ICPT2_VMSAVE (1u << 3)
#define ICPT2_STGI (1u << 4)
#define ICPT2_CLGI (1u << 5)

/* VMCB 0x05C TLB_CONTROL */
#define TLB_CONTROL_NOTHING 0
#define TLB_CONTROL_FLUSH_ALL 1
#define TLB_CONTROL_FLUSH_GUEST 3 /* this guest's ASID (CPUID FlushByAsid) */
/* VMCB 0x060 (APM B-1) */
#define INT_CTL_V_TPR_MASK 0xFFull
#define INT_CTL_V_IRQ (1ull << 8)
#define INT_CTL_V_INTR_PRIO_SHIFT 16
#define INT_CTL_V_IGN_TPR (1ull << 20)
#define INT_CTL_V_INTR_MASKING (1ull << 24)
#define INT_CTL_V_INTR_VECTOR_SHIFT 32
/* VMCB 0x090 */
#define NP_CTL_NP_ENABLE (1ull << 0)
/* VMCB 0x0C0 clean bits (APM 15.15.3) */
#define CLEAN_I (1u << 0)
#define CLEAN_IOPM (1u << 1)
#define CLEAN_ASID (1u << 2)
#define CLEAN_TPR (1u << 3)
#define CLEAN_NP (1u << 4)
#define CLEAN_CRX (1u << 5)
#define CLEAN_DRX (1u << 6)
#define CLEAN_DT (1u << 7)
#define CLEAN_SEG (1u << 8)
#define CLEAN_CR2 (1u << 9)
#define CLEAN_LBR (1u << 10)

/* Exit codes (APM appendix C) */
#define VMEXIT_EXCP_BASE 0x040u
#define VMEXIT_EXCP(vector) (VMEXIT_EXCP_BASE + (vector))
#define VMEXIT_PF VMEXIT_EXCP(EXC_PF)
#define VMEXIT_UD VMEXIT_EXCP(EXC_UD)
#define VMEXIT_DE VMEXIT_EXCP(EXC_DE)
#define VMEXIT_NP VMEXIT_EXCP(EXC_NP)
#define VMEXIT_GP VMEXIT_EXCP(EXC_GP)
#define VMEXIT_CR_READ_BASE 0x000u
#define VMEXIT_CR_WRITE_BASE 0x010u
#define VMEXIT_INTR 0x060u
#define VMEXIT_VINTR 0x064u
#define VMEXIT_RDTSC 0x06Eu
#define VMEXIT_CPUID 0x072u
#define VMEXIT_HLT 0x078u
#define VMEXIT_IOIO 0x07Bu
#define VMEXIT_MSR 0x07Cu
#define VMEXIT_SHUTDOWN 0x07Fu
#define VMEXIT_VMRUN 0x080u
#define VMEXIT_VMMCALL 0x081u
#define VMEXIT_NPF 0x400u
#define VMEXIT_INVALID ((uint64_t)-1)

/* EVENTINJ and EXITINTINFO (APM 15.20, figure 15-4) */
#define EVENT_VECTOR_MASK 0xFFull
#define EVENT_TYPE_SHIFT 8
#define EVENT_TYPE_INTR (0ull << EVENT_TYPE_SHIFT)
#define EVENT_TYPE_NMI (2ull << EVENT_TYPE_SHIFT)
#define EVENT_TYPE_EXCEPTION (3ull << EVENT_TYPE_SHIFT)
#define EVENT_TYPE_SOFT_INT (4ull << EVENT_TYPE_SHIFT)
#define EVENT_EV (1ull << 11) /* error code valid */
#define EVENT_V (1ull << 31)
#define EVENT_ERRORCODE_SHIFT 32

/* Selector error code (APM vol. 2, 8.4.1) */
#define SELEC_EXT (1ull << 0)
#define SELEC_IDT (1ull << 1)
#define SELEC_INDEX_SHIFT 3

/* IOIO EXITINFO1 (APM 15.10.2, figure 15-2) */
#define IOIO_TYPE_IN (1ull << 0)
#define IOIO_STR (1ull << 2)
#define IOIO_REP (1ull << 3)
#define IOIO_SZ8 (1ull << 4)
#define IOIO_SZ16 (1ull << 5)
#define IOIO_SZ32 (1ull << 6)
#define IOIO_A16 (1ull << 7)
#define IOIO_A32 (1ull << 8)
#define IOIO_A64 (1ull << 9)
#define IOIO_SEG_SHIFT 10
#define IOIO_SEG_MASK (7ull << IOIO_SEG_SHIFT)
#define IOIO_PORT_SHIFT 16
/* The fields this L1 checks; address size and segment are printed only. */
#define IOIO_CHECKED_MASK                                                                          \
	(0xFFFF0000ull | IOIO_TYPE_IN | IOIO_STR | IOIO_REP | IOIO_SZ8 | IOIO_SZ16 | IOIO_SZ32)

/* MSR EXITINFO1 (APM 15.11) */
#define MSR_EXIT_READ 0
#define MSR_EXIT_WRITE 1

/* #PF error code (APM vol. 2, 8.4.2) and NPF EXITINFO1 (APM 15.25.6) */
#define PFEC_P (1ull << 0)
#define PFEC_RW (1ull << 1)
#define PFEC_US (1ull << 2)
#define PFEC_RSV (1ull << 3)
#define PFEC_ID (1ull << 4)
#define NPF_FINAL_GPA (1ull << 32)
#define NPF_GUEST_PT (1ull << 33)

/* Page-table entries (long mode, APM vol. 2, 5.3); NPT uses the same format. */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_ADDR_MASK 0x000FFFFFFFFFF000ull

/* Segment attributes in VMCB format (APM 15.5.1: descriptor bits 47:40, 55:52) */
#define SEG_ATTR_TYPE_CODE_ERA 0x00Bu
#define SEG_ATTR_TYPE_DATA_RWA 0x003u
#define SEG_ATTR_S (1u << 4)
#define SEG_ATTR_P (1u << 7)
#define SEG_ATTR_L (1u << 9)
#define SEG_ATTR_DB (1u << 10)
#define SEG_ATTR_G (1u << 11)
#define SEG_ATTR_TSS64_BUSY 0x08Bu

/* The power-on PAT value, APM vol. 2, 7.8.2 */
#define PAT_DEFAULT 0x0007040600070406ull

/* IOPM: 12 KiB, one bit per port; MSRPM: 8 KiB, two bits per MSR (APM 15.10.1, 15.11) */
#define IOPM_SIZE (3 * 4096)
#define MSRPM_SIZE (2 * 4096)

/* L2's general-purpose registers that VMRUN does not swap (RAX and RSP are in the VMCB). */
struct l2_regs {
	uint64_t rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/*
 * Run L2 once: load its registers from *regs, VMRUN the VMCB at physical
 * address vmcb_pa, store its registers back. GIF is clear around it; with
 * irq_window non-zero, RFLAGS.IF is set while GIF is clear so that a
 * physical interrupt can reach L2 (and exit on INTR).
 */
void svm_run(uint64_t vmcb_pa, struct l2_regs *regs, int irq_window);

#endif
