/* SPDX-License-Identifier: MIT */
/*
 * Hardware VMCS shadowing for L1 (shadow.c; SDM 25.10, 26.6.16): when L0
 * sets NEST_VMX_L0_F_SHADOW_VMCS, L1's non-exiting VMREAD/VMWRITE work on
 * the shadow VMCS, which libnest keeps in step with vmcs12.
 */
#ifndef NEST_VMX_SHADOW_H
#define NEST_VMX_SHADOW_H

#include <stdbool.h>
#include <stdint.h>

struct nest_vmx;

/* L0 asked for VMCS shadowing. */
bool nest__vmx_shadowing(const struct nest_vmx *ctx);

/* The instruction emulation calls these when the current VMCS stops being
 * current (before writing it back), when one becomes current, and after
 * an exiting VMWRITE. No-ops without shadowing. */
void nest__vmx_shadow_release(struct nest_vmx *ctx);
void nest__vmx_shadow_load(struct nest_vmx *ctx);
void nest__vmx_shadow_field(struct nest_vmx *ctx, uint32_t enc);
/* libnest itself changed field @enc of vmcs12 (the VM-instruction error of
 * a VMfail): show the new value in the shadow VMCS if L1 reads it there. */
void nest__vmx_shadow_mirror(struct nest_vmx *ctx, uint32_t enc);
/* VM entry: what L1 wrote through the shadow goes into vmcs12. */
int nest__vmx_shadow_collect(struct nest_vmx *ctx);
/* After a reflected exit: L1 reads the new vmcs12 through the shadow. */
int nest__vmx_shadow_publish(struct nest_vmx *ctx);

#endif /* NEST_VMX_SHADOW_H */
