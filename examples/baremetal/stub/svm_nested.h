/* SPDX-License-Identifier: MIT */
/* The stub's nesting: L1's SVM instructions and L2's exits, through libnest. */
#ifndef STUB_SVM_NESTED_H
#define STUB_SVM_NESTED_H

#include "stub.h"

void nested_init(void);
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
/* Just before each VMRUN: hand a physical NMI the stub holds to L1 or L2. */
void nested_before_run(void);
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

#endif /* STUB_SVM_NESTED_H */
