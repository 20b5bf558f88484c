/* SPDX-License-Identifier: MIT */
/* nestctl's offline L0 (offline.c): one context at a time, in memory this
 * module owns; each call of offline_vmx() or offline_svm() drops the
 * previous one. */
#ifndef NESTCTL_OFFLINE_H
#define NESTCTL_OFFLINE_H

#include <nest/nest.h>

/* Drop the current context and its pages. */
void offline_reset(void);

/* A VMX context for an L1 of a host with these capabilities, under the
 * policy @p features; with @p with_l0, L0's side is set (a shadow EPT02
 * included) so that a state in guest mode can be taken in. */
int offline_vmx(const struct nest_vmx_caps *host, uint32_t features, uint32_t maxphyaddr,
		int with_l0, struct nest_vmx **out);

/* Set a field of one of the offline hardware VMCSs (vmcs01: L1's state,
 * which KVM's VMX format leaves to the destination). */
int offline_vmcs_write(enum nest_vmcs_id which, uint32_t enc, uint64_t value);

/* An SVM context for an L1 of a host with CPUID 0x8000000A = @p host_cpuid,
 * and L1's vmcb01 (zero). */
int offline_svm(const uint32_t host_cpuid[4], uint32_t features, uint32_t maxphyaddr, int long_mode,
		struct nest_svm **out, struct nest_vmcb **vmcb01);

#endif /* NESTCTL_OFFLINE_H */
