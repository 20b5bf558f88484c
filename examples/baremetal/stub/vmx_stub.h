/* SPDX-License-Identifier: MIT */
/* The L0 stub on VMX: state shared by vmx_main.c and vmx_nested.c. */
#ifndef STUB_VMX_STUB_H
#define STUB_VMX_STUB_H

#include <nest/vmx.h>

#include "bm_vmx.h"
#include "stub.h"
#include "vmx_hw.h"

struct vmx_stub {
	uint8_t *vmxon;
	uint8_t *vmcs01; /* L1 runs on it */
	uint8_t *vmcs02; /* L2 runs on it; libnest fills it */
	uint8_t *shadow; /* the shadow VMCS of vmcs01 (NULL without VMCS shadowing) */
	uint8_t *current; /* the current VMCS (VMPTRLD), NULL if none */
	bool launched01, launched02;
	uint32_t revision;
	uint64_t gpr[BM_GPR_COUNT]; /* the running guest's registers; RSP is the VMCS's */
	uint8_t *io_bitmap;	 /* A then B, 8 KiB */
	uint8_t *msr_bitmap;	 /* 4 KiB */
	struct nest_vmx_caps host; /* the processor's capability MSRs */
	uint64_t eptp01;
	/* CR0/CR4 bits L0 owns in vmcs01 (the VMX fixed bits), with L1's view in the read shadows. */
	uint64_t cr0_mask, cr4_mask;
	uint64_t cr4_unreported; /* CR4 bits of features L1's CPUID does not report */
	bool in_l2;
	bool insn_done; /* skip_insn() ended the running guest's instruction */
	bool figures_printed;
	uint64_t apic_base; /* IA32_APIC_BASE as L1 sees it (L0's APIC stays enabled) */
	/* Interrupts the stub acknowledged in the APIC for a guest that could
	 * not take them yet (vector bitmap): delivered at a window exit. */
	uint8_t pending_irq[32];
	/* An INIT for L1's vCPU that VMX root operation holds (vmx_main.c). */
	bool init_latched;
	bool nmi_pending; /* an NMI for L1 that waits for its NMI window */
};
/* Each processor's: vs is this processor's (stub_cpu()). */
extern struct vmx_stub vs_cpus[STUB_MAX_CPUS];
#define vs (vs_cpus[stub_cpu()])

/* vmx_main.c */
/* Makes @vmcs current (VMPTRLD) unless it is. */
void vmcs_load(uint8_t *vmcs);
/* VMREAD/VMWRITE of the current VMCS; a failure is fatal. */
uint64_t vmr(uint32_t field);
void vmw(uint32_t field, uint64_t value);
/* Adjusts wanted control bits to a capability MSR (allowed-0 in 31:0, allowed-1 in 63:32). */
uint32_t ctl_adjust(uint64_t cap, uint32_t want, const char *what);
/* The guest's RSP-aware register access on the current VMCS. */
uint64_t gpr_get(unsigned reg);
void gpr_set(unsigned reg, uint64_t value);
/* Advances the current guest past the exiting instruction. */
void skip_insn(void);
/* Injects a hardware exception into the guest of the current VMCS. */
void inject_exception(unsigned vector, bool has_error, uint32_t error);
/* A hardware exception of the running guest's: L1's is injected; L2's
 * goes where the processor would send it, L1 or L2 (vmx_nested.c). */
void raise_exception(unsigned vector, bool has_error, uint32_t error);
/* I/O on a port L0 intercepts, for L1 or for L2 (current VMCS); false if not one of L0's. */
bool l0_port_io(uint64_t qual);
/* L2's MOV to or from CR8 that only L0 intercepts (libnest keeps L2 off
 * the TPR it may not reach); false if the exit is not one. */
bool l0_cr8_access(uint64_t qual);
/* RDMSR/WRMSR of an MSR L0 intercepts (the VMX ones), by L1 or by L2 (current VMCS). */
void vmx_msr_exit(bool write);
/* WRMSR at CPL 0 as L1's vCPU has it (the MSR-load lists libnest gives
 * L0); false where it faults. */
bool vmx_l1_wrmsr(uint32_t msr, uint64_t val);
__attribute__((noreturn)) void vmx_fatal(const char *why);

/* vmx_nested.c */
void vmx_nested_init(void);
/* L1 executed a VMX instruction (exit @reason on vmcs01). */
void vmx_nested_l1_insn(uint32_t reason);
/* L1 read or wrote an MSR L0 intercepts for nesting; false if not one. */
bool vmx_nested_msr(uint32_t msr, bool write, uint64_t *value, bool *gp);
/* L1's interrupt-window exit: deliver an interrupt the stub holds for it. */
void vmx_nested_l1_window(void);
/* Whether L1 is in VMX operation (after its VMXON, before its VMXOFF). */
bool vmx_nested_in_vmx_root(void);
/* A write fault on an L1 page the stub tracks for libnest (l1_tracked()):
 * tells libnest, which makes the page writable again. */
bool vmx_nested_l1_written(uint64_t gpa);
/* An exit from L2 (vs.in_l2, vmcs02 current). */
void vmx_nested_l2_exit(uint32_t reason);
/* An exception L0 raises in L2 (nest_vmx_l2_exception()). */
void vmx_nested_l2_exception(unsigned vector, uint32_t error);
/* This processor's libnest context, on the VM's shadow (an AP; the BSP's
 * comes from vmx_nested_init()). */
void vmx_nested_init_cpu(void);
/* An INIT for L1's vCPU while L2 runs: L1's VM exit (SDM 26.2). */
void vmx_nested_l2_init(void);
/* An NMI for L1's vCPU while L2 runs: L1's VM exit or L2's NMI. */
void vmx_nested_l2_nmi(void);
/* A SIPI for L1's vCPU while L2 runs: L1's VM exit if L2 waits for SIPI. */
void vmx_nested_l2_sipi(uint8_t vector);
/* Whether vmcs02 puts L2 in the wait-for-SIPI state. */
bool vmx_nested_l2_waits_for_sipi(void);
/* An interrupt the stub's handler took (its vector in @regs). */
void vmx_nested_irq_taken(struct bm_regs *regs);

/* vmx_x2apic.c: L1's x2APIC on the xAPIC. True if @msr is an x2APIC MSR,
 * which it then carries out for L1 (or L2) or faults (*gp). */
bool vmx_x2apic_msr(uint32_t msr, bool write, uint64_t *val, bool *gp);
bool vmx_x2apic_mode(void);
void vmx_smp_l1_icr(uint8_t dest, uint32_t lo);

/* vmx_smp.c: several processors (see there; smp_core.h for the rest). */
void vmx_smp_start_aps(unsigned n, void (*entry)(void));
void vmx_smp_ap_arrived(void);
void vmx_smp_ap_ready(void);
/* A SIPI (its vector, else -1) for L1's vCPU here, taken once. */
int vmx_smp_take_sipi(void);
/* An NMI L1 sent to its vCPU here, taken once. */
bool vmx_smp_take_nmi(void);
/* L2 is in the wait-for-SIPI state: wait until an INIT or SIPI comes. */
void vmx_smp_l2_wait_sipi(void);
/* After a VM exit caused by an NMI: unblocks NMIs. */
void vmx_smp_nmi_exit(void);
void vmx_smp_backend_ops(struct nest_backend_ops *ops);
void vmx_smp_enter(void);
void vmx_smp_exit(void);
bool vmx_smp_apic_write(uint64_t gpa);
void vmx_smp_protect_apic(void);


#endif /* STUB_VMX_STUB_H */
