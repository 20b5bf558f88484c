/* SPDX-License-Identifier: MIT */
/* The stub's nesting: L1's SVM instructions and L2's exits, through libnest. */
#ifndef STUB_NESTED_H
#define STUB_NESTED_H

#include "stub.h"

void nested_init(void);
/* Whether L1 is offered SVM (CPUID, EFER.SVME). */
bool nested_available(void);
/* Adjusts what CPUID tells L1 about SVM. */
void nested_cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d);
void nested_efer_changed(uint64_t l1_efer);
void nested_hsave_changed(uint64_t pa);
/* An SVM instruction of L1's (VMRUN, VMLOAD, VMSAVE, STGI, CLGI, INVLPGA, SKINIT). */
void nested_l1_exit(uint8_t *vmcb01, uint64_t code);
/* An exit from L2 (stub.in_l2 was set). */
void nested_l2_exit(uint8_t *vmcb02);
/* The VMCB to run next: vmcb01, or vmcb02 while L2 runs. */
uint8_t *nested_current_vmcb(void);

/* main.c */
void stub_inject(uint8_t *vmcb, unsigned vector, bool has_error, uint32_t error);
void stub_print_figures(void);
__attribute__((noreturn)) void stub_l2_fatal(const uint8_t *vmcb, const char *why);
void stub_l1_exit(uint8_t *vmcb01);

#endif /* STUB_NESTED_H */
