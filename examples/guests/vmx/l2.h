/* SPDX-License-Identifier: MIT */
/* Constants and entry points shared by the L2 payloads (l2.S) and L1 (l1.c, checks.c). */
#ifndef VMX_L2_H
#define VMX_L2_H

#define L2_IO_PORT 0x80	     /* POST port: harmless to write */
#define L2_IO_PASS_PORT 0x84 /* unused DMA page register: passed through */
#define L2_IO_IN_PORT 0x84
#define L2_IO_HIGH_PORT 0x9000 /* in I/O bitmap B; nothing decodes it */
#define L2_IO_OUT_VALUE 0x5A
#define L2_IO_REP_COUNT 3
#define L2_MSR 0x174 /* IA32_SYSENTER_CS: guest state, so pass-through is visible */
#define L2_MSR_WRITE_VALUE 0x1234
#define L2_MSR_HIGH 0xC0000100	       /* IA32_FS_BASE: in the high MSR-bitmap range */
#define L2_MSR_OUTSIDE 0x40000000      /* outside both MSR-bitmap ranges */
#define L2_PF_ADDR 0x200000123	       /* above the 4 GiB that L1's page tables map */
#define L2_PF_MAGIC 0x50465046	       /* RAX when L2's own #PF handler ran */
#define L2_BAD_VECTOR_MAGIC 0xBAD0BAD0 /* RAX when another L2 vector ran */
#define L2_EPT_WALK_ADDR 0x8000000010  /* PML4[1]: its PDPT lies in an EPT hole */
#define L2_SPIN_COUNT 2000
#define L2_VMREAD_FIELD 0x681E /* GUEST_RIP */
#define L2_SHORT_IDT_LIMIT 47  /* vectors 0-2 only: delivering #BP (3) raises #GP */

#ifndef __ASSEMBLER__
#define L2_DECL(name) extern const char name[]
L2_DECL(l2_cpuid);
L2_DECL(l2_cpuid_insn);
L2_DECL(l2_hlt);
L2_DECL(l2_hlt_insn);
L2_DECL(l2_io_out);
L2_DECL(l2_io_out_insn);
L2_DECL(l2_io_in);
L2_DECL(l2_io_in_insn);
L2_DECL(l2_io_outs);
L2_DECL(l2_io_outs_insn);
L2_DECL(l2_io_outs_data);
L2_DECL(l2_io_bitmap);
L2_DECL(l2_io_bitmap_a_insn);
L2_DECL(l2_io_bitmap_b_insn);
L2_DECL(l2_io_bitmap_end);
L2_DECL(l2_rdmsr);
L2_DECL(l2_rdmsr_insn);
L2_DECL(l2_wrmsr);
L2_DECL(l2_wrmsr_insn);
L2_DECL(l2_cr_read);
L2_DECL(l2_cr0_write);
L2_DECL(l2_cr0_write_insn);
L2_DECL(l2_cr4_write);
L2_DECL(l2_cr4_write_insn);
L2_DECL(l2_cr3_read);
L2_DECL(l2_cr3_read_insn);
L2_DECL(l2_clts);
L2_DECL(l2_clts_insn);
L2_DECL(l2_lmsw);
L2_DECL(l2_lmsw_insn);
L2_DECL(l2_ud);
L2_DECL(l2_ud_insn);
L2_DECL(l2_int3);
L2_DECL(l2_int3_insn);
L2_DECL(l2_load);
L2_DECL(l2_load_insn);
L2_DECL(l2_store);
L2_DECL(l2_store_insn);
L2_DECL(l2_jump);
L2_DECL(l2_spin);
L2_DECL(l2_spin_end);
L2_DECL(l2_self_ipi);
L2_DECL(l2_vmcall);
L2_DECL(l2_vmcall_insn);
L2_DECL(l2_vmread);
L2_DECL(l2_vmread_insn);
L2_DECL(l2_vmlaunch);
L2_DECL(l2_vmlaunch_insn);
L2_DECL(l2_vmxon);
L2_DECL(l2_vmxon_insn);
L2_DECL(l2_vmclear);
L2_DECL(l2_vmclear_insn);
L2_DECL(l2_vmptrld);
L2_DECL(l2_vmptrld_insn);
L2_DECL(l2_vmptrst);
L2_DECL(l2_vmptrst_insn);
L2_DECL(l2_vmwrite);
L2_DECL(l2_vmwrite_insn);
L2_DECL(l2_vmresume);
L2_DECL(l2_vmresume_insn);
L2_DECL(l2_vmxoff);
L2_DECL(l2_vmxoff_insn);
L2_DECL(l2_invept);
L2_DECL(l2_invept_insn);
L2_DECL(l2_invvpid);
L2_DECL(l2_invvpid_insn);
L2_DECL(l2_rdtsc);
L2_DECL(l2_rdtsc_insn);
L2_DECL(l2_invlpg);
L2_DECL(l2_invlpg_insn);
L2_DECL(l2_mov_dr);
L2_DECL(l2_mov_dr_insn);
L2_DECL(l2_pause);
L2_DECL(l2_pause_insn);
L2_DECL(l2_wbinvd);
L2_DECL(l2_wbinvd_insn);
L2_DECL(l2_sgdt);
L2_DECL(l2_sgdt_insn);
L2_DECL(l2_cpuid_loop);
L2_DECL(l2_cpuid_loop_insn);
L2_DECL(l2_cpuid_loop_end);
L2_DECL(l2_pf_handler);
L2_DECL(l2_bad_vector);
#endif

#endif /* VMX_L2_H */
