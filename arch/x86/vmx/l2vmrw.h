/* SPDX-License-Identifier: MIT */
/*
 * VMREAD and VMWRITE executed by L2 under L1's VMCS shadowing (l2vmrw.c).
 */
#ifndef NEST_VMX_L2VMRW_H
#define NEST_VMX_L2VMRW_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/reflect.h"

struct nest_vmx;

/* For an exit of L2 on VMREAD or VMWRITE (vmcs02 never shadows, so every
 * one exits to L0) with `gpr` holding L2's registers: when vmcs12's "VMCS
 * shadowing" and L1's VMREAD or VMWRITE bitmap let the access through,
 * libnest carries the instruction out on L1's shadow VMCS as the
 * processor would have, sets *handled and fills `a` (RESUME_L2, maybe
 * writing L2's register; or the exit or exception the instruction led
 * to). Otherwise *handled stays false: the VM exit goes to L1. Returns
 * NEST_OK or a backend status. */
int nest__vmx_l2_vmrw(struct nest_vmx *ctx, const struct nest__vmx_exit_report *r,
		      const uint64_t *gpr, struct nest_vmx_action *a, bool *handled);

#endif /* NEST_VMX_L2VMRW_H */
