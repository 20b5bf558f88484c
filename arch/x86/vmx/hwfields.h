/* SPDX-License-Identifier: MIT */
/* Which VMCS fields the processor under L0 has (see hwfields.c). */
#ifndef NEST_VMX_HWFIELDS_H
#define NEST_VMX_HWFIELDS_H

#include <stdbool.h>

#include <nest/vmx.h>

/*
 * Whether the host processor, as its capability MSRs @h describe it, has
 * field @i (a NEST__VF_* index) in its VMCS. A field belongs to a feature
 * (SDM Vol. 3D appendix B: "this field exists only on processors that
 * support the 1-setting of ..."); VMREAD and VMWRITE of a field the
 * processor lacks fail with error 12 (SDM 31.4), so libnest never accesses
 * one in vmcs01 or vmcs02.
 */
bool nest__vmx_hw_field(const struct nest_vmx_caps *h, unsigned i);

#endif /* NEST_VMX_HWFIELDS_H */
