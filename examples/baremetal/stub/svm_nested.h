/* SPDX-License-Identifier: MIT */
/* The stub's nesting: L1's SVM instructions and L2's exits, through libnest. */
#ifndef STUB_SVM_NESTED_H
#define STUB_SVM_NESTED_H

#include "stub.h"

void nested_init(void);
/* On an AP (nested_init() does it for the BSP): this vCPU's context. */
void nested_init_cpu(void);
/* L1 sent INIT to this vCPU: true if it became an exit or an exception
 * (#VMEXIT(INIT), #SX); false if the vCPU was reset (it then waits for
 * SIPI), or with *held if GIF holds the INIT pending. */
bool nested_init_signal(bool *held);
/* Whether L1 is offered SVM (CPUID, EFER.SVME). */
bool nested_available(void);
/* Adjusts a CPUID answer (EAX, EBX, ECX, EDX) for the guest: the SVM leaves. */
void nested_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]);
/*
 * An exit of L1's that nesting owns: an SVM instruction (VMRUN, VMLOAD,
 * VMSAVE, STGI, CLGI, INVLPGA, SKINIT) or an access to an SVM MSR (EFER,
 * VM_CR, VM_HSAVE_PA).
 */
void nested_l1_exit(uint8_t *vmcb01, uint64_t code);
/* An exit from L2 (stub.in_l2 was set). */
void nested_l2_exit(uint8_t *vmcb02);
/* The VMCB to run next: vmcb01, or vmcb02 while L2 runs. */
uint8_t *nested_current_vmcb(void);
/* RFLAGS.IF for the next VMRUN (L1's IF while L2 runs: V_INTR_MASKING's host IF). */
bool nested_host_if(void);
/* Just before each VMRUN: hand a physical NMI the stub holds to L1 or L2;
 * under vGIF, set what vmcb01 intercepts for L1's run. */
void nested_before_run(void);
/* A physical interrupt ended L1's run (vmcb01 intercepts INTR under vGIF). */
void nested_l1_intr(void);
/* The root of the shadow L2 runs on (NPT02: vmcb02's nCR3), or 0 when L2
 * has none (not run yet, or run on NPT01 itself). */
uint64_t nested_npt02_root(void);
/* A write fault on an L1 page the stub tracks for libnest (l1_tracked()):
 * tells libnest, which makes the page writable again; false without it. */
bool nested_l1_written(uint64_t gpa);

/* svm_main.c */
void stub_inject(uint8_t *vmcb, unsigned vector, bool has_error, uint32_t error);
__attribute__((noreturn)) void stub_fatal(const uint8_t *vmcb, const char *why);
/* Handles an exit L0 owns (I/O, CPUID) for the guest on @vmcb; false if not one. */
bool stub_l0_exit(uint8_t *vmcb, uint64_t code);
void stub_l1_exit(uint8_t *vmcb01);

/* strio.c: INS/OUTS (REP or not) of L1 on an intercepted port. */
void stub_string_io(uint8_t *vmcb, uint16_t port, bool in, unsigned size, bool rep,
		    uint32_t (*port_in)(uint16_t port, unsigned size),
		    void (*port_out)(uint16_t port, unsigned size, uint32_t val));

/* insnlen.c: the length of L2's instruction at CS:RIP of vmcb02, or 0. */
unsigned stub_l2_insn_len(const uint8_t *vmcb02);
/* The guest's instruction at CS:RIP of @vmcb (up to @max bytes into @buf);
 * its length, 0 if it cannot be fetched or decoded. */
unsigned stub_insn_fetch(const uint8_t *vmcb, uint8_t *buf, unsigned max, bool *long64);

/* smp.c: several processors (see there; smp_core.h for what both stubs
 * share: smp_setup(), smp_start_aps(), smp_wait_sipi(),
 * smp_init_pending()). */
/* First thing on an AP: its copy of the stub state. */
void smp_ap_arrived(void);
/* The INIT smp_init_pending() gave stays pending (GIF clear); after one
 * was taken, smp_init_done(). */
void smp_init_hold(void);
void smp_init_done(void);
/* Whether the NMI just taken is L1's (else the stub's kick). */
bool smp_nmi_is_l1(void);
/* Around each VMRUN: flush requests and kicks. */
void smp_enter(void);
void smp_exit(void);
/* NPT01 changed: every processor flushes before its next VMRUN. */
void smp_flush_all(void);
/* The backend of libnest's contexts (the shared one with several processors). */
const struct nest_backend *smp_nest_backend(void);
/* An #NPF of L1 (@vmcb vmcb01) or L2 (vmcb02) writing L1's local APIC at
 * L1-physical @gpa: carried out (true), or not one. */
bool smp_apic_write(uint8_t *vmcb, uint64_t gpa);
/* With several processors, L1's local APIC page read-only in NPT01. */
void smp_protect_apic(void);

#endif /* STUB_SVM_NESTED_H */
