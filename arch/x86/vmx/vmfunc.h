/* SPDX-License-Identifier: MIT */
/*
 * VMFUNC executed by L2 (exit reason 59 of vmcs02): EPTP switching
 * emulated on L1's EPTP list (vmfunc.c).
 */
#ifndef NEST_VMX_VMFUNC_H
#define NEST_VMX_VMFUNC_H

#include <stdbool.h>
#include <stdint.h>

#include "vmx/reflect.h"

struct nest_vmx;

/* vmcs02 enables VM functions with no function when L1 enables them, so
 * every VMFUNC of L2 with EAX < 64 exits to L0 (SDM 26.5.6: a function
 * whose VM-function control bit is 0 causes a VM exit). For such an exit,
 * `gpr` holding L2's registers: if L1 enabled the function in EAX (EPTP
 * switching, leaf 0) and the switch succeeds, L2's EPTP is switched
 * (vmcs12's EPT_POINTER, vmcs02's EPT02 root) and L2's RIP advanced, and
 * *handled is set (the caller ends the instruction with
 * nest__vmx_l2_boundary()). Otherwise *handled stays false: the VM
 * exit goes to L1, as the SDM says for a VMFUNC that fails. Returns NEST_OK
 * or a backend status. */
int nest__vmx_vmfunc(struct nest_vmx *ctx, const struct nest__vmx_exit_report *r,
		     const uint64_t *gpr, bool *handled);

#endif /* NEST_VMX_VMFUNC_H */
