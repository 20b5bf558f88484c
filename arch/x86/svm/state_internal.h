/* SPDX-License-Identifier: MIT */
/*
 * The SVM state stream's shared pieces, used by libnest's own format
 * (state.c) and KVM's (state_kvm.c).
 */
#ifndef NEST_SVM_STATE_INTERNAL_H
#define NEST_SVM_STATE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svm/context.h"

/* L1's host state saved at VMRUN, field by field (struct svm_host_state). */
#define SVM_HOST_FIELDS(X)                                                                         \
	X(es)                                                                                      \
	X(cs)                                                                                      \
	X(ss) X(ds) X(gdtr) X(idtr) X(efer) X(cr0) X(cr3) X(cr4) X(rflags) X(rip) X(rsp) X(rax)

/* A page-aligned L1-physical address below L1's MAXPHYADDR. */
bool nest__svm_state_pa_ok(const struct nest_svm *ctx, uint64_t pa);
/* Every byte of [p, p + n) is zero. */
bool nest__svm_state_zero(const uint8_t *p, size_t n);
/* Take L1's SVM state (EFER.SVME, GIF) from a checked stream. */
void nest__svm_take_l1_state(struct nest_svm *ctx, struct nest_vmcb *vmcb01, bool svme, bool gif);

#endif /* NEST_SVM_STATE_INTERNAL_H */
