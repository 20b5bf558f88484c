/* SPDX-License-Identifier: MIT */
/* Constants and entry points shared by the L2 payloads (l2.S) and L1's checks. */
#ifndef L1_L2_H
#define L1_L2_H

#define L2_CPUID_LEAF 0x4C325F31 /* any value: the CPUID is intercepted */
#define L2_CPUID_SUBLEAF 7
#define L2_IO_PORT 0xED /* an unused port; only its IOPM bit is set */
#define L2_IO_OUT_VALUE 0x5A
#define L2_SCRATCH_PORT 0x3FF /* COM1 scratch register (16550 register 7) */
#define L2_MSR 0xC0000103     /* IA32_TSC_AUX: harmless to write */
#define L2_MSR_WRITE_LO 0x1234ABCD
#define L2_MSR_WRITE_HI 0
#define L2_MSR_OUTSIDE 0x40000000  /* outside the three MSRPM ranges */
#define L2_PF_READ_ADDR 0x80000123 /* L2's page tables map nothing at 2 GiB */
#define L2_PF_WRITE_ADDR 0x80400456
#define L2_NONCANONICAL 0x8000000000000000
#define L2_ROUND_TRIPS 1000
#define L2_MIXED_ROUNDS 300
#define L2_STATE_CR2 0x0000123456789000
#define L2_CR0_TS 0x8
#define L2_STATE_RSP_DELTA 0x100
#define L2_STATE_RAX 0x57A7E
#define L2_SHRINK_NEXT 0x100000	 /* what a shrink run adds to each word it checked */
#define L2_SHRINK_LAST_WORD 4088 /* the offset of a page's last word */

#ifndef __ASSEMBLER__
#define L2_DECL(name) extern const char name[]
L2_DECL(l2_cpuid);
L2_DECL(l2_cpuid_insn);
L2_DECL(l2_hlt);
L2_DECL(l2_hlt_insn);
L2_DECL(l2_io);
L2_DECL(l2_io_out_insn);
L2_DECL(l2_io_in_insn);
L2_DECL(l2_io_outs_insn);
L2_DECL(l2_io_pass);
L2_DECL(l2_msr);
L2_DECL(l2_rdmsr_insn);
L2_DECL(l2_wrmsr_insn);
L2_DECL(l2_msr_outside);
L2_DECL(l2_msr_outside_insn);
L2_DECL(l2_msr_pass);
L2_DECL(l2_pf);
L2_DECL(l2_pf_read_insn);
L2_DECL(l2_pf_write_insn);
L2_DECL(l2_ud);
L2_DECL(l2_ud_insn);
L2_DECL(l2_de);
L2_DECL(l2_de_insn);
L2_DECL(l2_gp);
L2_DECL(l2_gp_insn);
L2_DECL(l2_load);
L2_DECL(l2_load_insn);
L2_DECL(l2_store);
L2_DECL(l2_store_insn);
L2_DECL(l2_vmrun);
L2_DECL(l2_vmrun_insn);
L2_DECL(l2_spin);
L2_DECL(l2_spin_loop);
L2_DECL(l2_spin_end);
L2_DECL(l2_round_trips);
L2_DECL(l2_rt_insn);
L2_DECL(l2_state);
L2_DECL(l2_state_vmmcall);
L2_DECL(l2_inject_target);
L2_DECL(l2_event_handler);
L2_DECL(l2_event_handler_vmmcall);
L2_DECL(l2_sti_spin);
L2_DECL(l2_sti_spin_loop);
L2_DECL(l2_sti_spin_end);
L2_DECL(l2_rdtsc);
L2_DECL(l2_rdtsc_insn);
L2_DECL(l2_cr);
L2_DECL(l2_cr3_read_insn);
L2_DECL(l2_cr0_write_insn);
L2_DECL(l2_mixed);
L2_DECL(l2_mixed_cpuid_insn);
L2_DECL(l2_mixed_out_insn);
L2_DECL(l2_mixed_rdmsr_insn);
L2_DECL(l2_cpuid_twice);
L2_DECL(l2_cpuid_twice_insn);
L2_DECL(l2_shrink);
L2_DECL(l2_shrink_done);
/* The page L2 passes to its own VMRUN. */
extern char l2_nested_vmcb[];

/* Instruction lengths, for next RIP (no NRIP save on QEMU's SVM). */
#define LEN_CPUID 2
#define LEN_HLT 1
#define LEN_OUT_IMM8 2
#define LEN_IN_DX_16 2
#define LEN_REP_OUTSB 2
#define LEN_RDMSR 2
#define LEN_WRMSR 2
#define LEN_MOV_LOAD 3
#define LEN_MOV_STORE 3
#define LEN_MOVQ_IMM_STORE 7
#define LEN_VMRUN 3
#define LEN_VMMCALL 3
#define LEN_RDTSC 2
#define LEN_MOV_CR 3
#endif

#endif
