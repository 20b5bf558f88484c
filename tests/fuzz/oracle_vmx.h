/* SPDX-License-Identifier: MIT */
/*
 * Oracles on vmcs02, shared by the VMX harnesses (issue #13): vmcs02 as
 * the backend holds it must be a VMCS the processor under L0 accepts, its
 * hardware MSR lists must hold nothing of L1's, and its merged MSR bitmap
 * must intercept every x2APIC access vmcs02 does not virtualize. A harness
 * defines FUZZ_NAME and includes invariant.h first.
 */
#ifndef FUZZ_ORACLE_VMX_H
#define FUZZ_ORACLE_VMX_H

#include <string.h>

#include "vmx/check.h"
#include "vmx/context.h"
#include "vmx/entry.h"
#include "vmx/reflect.h"
#include "vmx/shadow.h"
#include "vmx/sync.h"
#include "vmx/vmx_arch.h"

/* The harnesses give libnest the baseline's capabilities (under which the
 * valid vmcs12 is valid) instead of those it derives from the host. As
 * libnest's derivation does (caps.c), the CR0/CR4 bits offered are the
 * host's: a vmcs12 CR4 bit the host cannot run (UMIP on the simulated
 * host) would otherwise pass the restore's checks and fail vmcs02's. */
static inline void fuzz_caps_within_host(struct nest_vmx_caps *c, const struct nest_vmx_caps *host)
{
	c->cr0_fixed0 |= host->cr0_fixed0;
	c->cr0_fixed1 &= host->cr0_fixed1;
	c->cr4_fixed0 |= host->cr4_fixed0;
	c->cr4_fixed1 &= host->cr4_fixed1;
}

/* The entry checks libnest applies to vmcs12, applied to vmcs02 with the
 * host's capabilities, L0 in IA-32e mode: the processor's own VM entry of
 * vmcs02 (controls, host state, guest state, event injection, MSR-load
 * area) would succeed. */
static inline void oracle_vmcs02_enterable(const struct nest__vmcs12 *v02,
					   const struct nest_vmx_caps *host)
{
	struct nest__vmx_entry_env env;
	struct nest_vmx_entry_result res;
	int outcome;

	memset(&env, 0, sizeof(env));
	env.l1_ia32e = true;
	memset(&res, 0, sizeof(res));
	res.size = sizeof(res);
	outcome = nest__vmx_check_entry(v02, host, &env, &res);
	if (outcome != NEST_VMX_ENTRY_OK)
		fprintf(stderr, "%s: vmcs02 fails rule %s (%s)\n", FUZZ_NAME,
			nest_vmx_rule_name(res.rule), nest_vmx_rule_text(res.rule));
	CHECK(outcome == NEST_VMX_ENTRY_OK);
}

/* vmcs02's hardware MSR lists are L0's: libnest puts none of L1's there. */
static inline void oracle_vmcs02_msr_lists(const struct nest__vmcs12 *v02)
{
	CHECK(v02->VM_ENTRY_MSR_LOAD_COUNT == 0);
	CHECK(v02->VM_EXIT_MSR_LOAD_COUNT == 0);
	CHECK(v02->VM_EXIT_MSR_STORE_COUNT == 0);
}

/* SDM 30.5, written out independently of vmcs02.c: which x2APIC accesses
 * vmcs02's secondary controls virtualize. */
static inline bool oracle_x2apic_virtualized(uint32_t proc2, uint32_t msr, bool write)
{
	if (!(proc2 & NEST_VMX_PROC2_VIRT_X2APIC_MODE))
		return false;
	if (msr == 0x808)
		return true;
	if (!write)
		return (proc2 & NEST_VMX_PROC2_APIC_REGISTER_VIRT) != 0;
	return (proc2 & NEST_VMX_PROC2_VIRT_INTR_DELIVERY) && (msr == 0x80b || msr == 0x83f);
}

/* Whether bitmap `b` (4 KiB, SDM 25.6.9 layout; NULL: every access) makes
 * the access exit, written out independently of libnest's lookup. */
static inline bool oracle_bitmap_bit(const uint8_t *b, uint32_t msr, bool write)
{
	unsigned base = write ? 2048u : 0u;

	if (b == NULL)
		return true;
	if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
		return (b[base + 1024u + (msr - 0xc0000000u) / 8] >> (msr % 8)) & 1;
	return (b[base + msr / 8] >> (msr % 8)) & 1;
}

/* The merged MSR bitmap: L1's intercepts survive (`l1` NULL: L1
 * intercepts everything); L0's too (`l0` NULL: none), except for the
 * x2APIC accesses vmcs02 virtualizes, which reach only the virtual-APIC
 * page and exit exactly when L1's bitmap says so; every other x2APIC
 * access exits. */
static inline void oracle_msr_bitmap(const uint8_t *merged, uint32_t proc2_02, const uint8_t *l0,
				     const uint8_t *l1)
{
	uint32_t msr;
	unsigned i;

	CHECK(merged != NULL);
	for (i = 0; i < NEST__VMX_MSR_BITMAP_SIZE; i++) {
		bool x2apic = (i % 2048u) >= 0x800 / 8 && (i % 2048u) < 0x900 / 8;

		if (l0 != NULL && !x2apic)
			CHECK((merged[i] & l0[i]) == l0[i]);
		CHECK((merged[i] & (l1 ? l1[i] : 0xff)) == (l1 ? l1[i] : 0xff));
	}
	for (msr = 0x800; msr <= 0x8ff; msr++) {
		for (int w = 0; w < 2; w++) {
			bool exits = nest__vmx_msr_bitmap_exits(merged, msr, w);

			if (!oracle_x2apic_virtualized(proc2_02, msr, w))
				CHECK(exits);
			else
				CHECK(exits == oracle_bitmap_bit(l1, msr, w));
		}
	}
}

/* The merged I/O bitmaps (A then B): L0's intercepts survive, all ports
 * when L0 asks for unconditional I/O exiting without bitmaps. */
static inline void oracle_io_bitmaps(const uint8_t *a, const uint8_t *b, const uint8_t *l0,
				     bool l0_all)
{
	unsigned i;

	CHECK(a != NULL && b != NULL);
	for (i = 0; i < NEST__VMX_IO_BITMAP_A_SIZE; i++) {
		uint8_t la = l0_all ? 0xff : l0 ? l0[i] : 0;
		uint8_t lb = l0_all ? 0xff : l0 ? l0[NEST__VMX_IO_BITMAP_A_SIZE + i] : 0;

		CHECK((a[i] & la) == la);
		CHECK((b[i] & lb) == lb);
	}
}

#endif /* FUZZ_ORACLE_VMX_H */
