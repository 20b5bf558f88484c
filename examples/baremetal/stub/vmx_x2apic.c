/* SPDX-License-Identifier: MIT */
/*
 * L1's x2APIC, on the xAPIC the stub runs on (SDM 11.12).
 *
 * The processor under the stub keeps its local APIC in xAPIC mode: the stub
 * reads and writes it through its register page, and Bochs 2.7 cannot leave
 * x2APIC mode again (a re-enable after a disable is ignored), which L1 does
 * when it resets an APIC. L1 is shown an x2APIC (CPUID.1:ECX[21]) and
 * IA32_APIC_BASE.EXTD is part of L1's own view of that MSR (vmx_main.c);
 * in x2APIC mode L1's RDMSR and WRMSR of 800H-8FFH, which vmcs01 makes
 * exit, are carried out here on the xAPIC registers, with the x2APIC's
 * rules: the register set, read-only and write-only registers, 32-bit
 * APIC IDs, the logical ID derived from the APIC ID, the 64-bit ICR and
 * the SELF IPI register; anything else is #GP (SDM 11.12.1.2, 11.12.9,
 * 11.12.10, 11.12.11). L2's accesses that vmcs02 does not virtualize exit
 * to the stub too and reach the same registers (libnest: L2 gets L1's own
 * x2APIC); those vmcs02 virtualizes never come here.
 */
#include "smp_core.h"
#include "vmx_hw.h"
#include "vmx_stub.h"

#define X2APIC_ID 0x802u
#define X2APIC_VERSION 0x803u
#define X2APIC_TPR 0x808u
#define X2APIC_PPR 0x80Au
#define X2APIC_EOI 0x80Bu
#define X2APIC_LDR 0x80Du
#define X2APIC_SVR 0x80Fu
#define X2APIC_ISR0 0x810u
#define X2APIC_IRR7 0x827u
#define X2APIC_ESR 0x828u
#define X2APIC_LVT_CMCI 0x82Fu
#define X2APIC_ICR 0x830u
#define X2APIC_LVT_FIRST 0x832u /* timer, thermal, PMC, LINT0, LINT1, error */
#define X2APIC_LVT_LAST 0x837u
#define X2APIC_TMICT 0x838u
#define X2APIC_TMCCT 0x839u
#define X2APIC_TDCR 0x83Eu
#define X2APIC_SELF_IPI 0x83Fu
#define X2APIC_BROADCAST 0xFFFFFFFFu
#define X2APIC_CLUSTER_SHIFT 16
#define X2APIC_CLUSTER_BITS 16u
#define ICR_RESERVED_X2APIC 0xFFF33000u /* bits 31:20, 17:16, 13:12 (SDM 11.12.9) */
#define XAPIC_ID_REG 0x20u
#define XAPIC_VERSION_REG 0x30u
#define XAPIC_MAX_LVT_SHIFT 16
#define XAPIC_LVT_CMCI_INDEX 6u
#define XAPIC_ID_SHIFT 24

/* The xAPIC register at the x2APIC MSR's offset (SDM 11.12.1.2). */
static unsigned xreg(uint32_t msr)
{
	return (msr - X2APIC_MSRS) << 4;
}

bool vmx_x2apic_mode(void)
{
	return (vs.apic_base & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD);
}

/* An IPI of L1's through the x2APIC ICR: the destination is a 32-bit APIC
 * ID (physical) or a cluster and a bit map of 16 (logical, SDM 11.12.10.2);
 * the xAPIC takes it as the ICR high byte, one IPI per logical target. */
static void icr_write(uint64_t v)
{
	uint32_t lo = (uint32_t)v, dest = (uint32_t)(v >> 32);

	if ((lo >> ICR_SHORTHAND_SHIFT) & ICR_SHORTHAND_MASK) {
		vmx_smp_l1_icr(0, lo);
		return;
	}
	if (!(lo & ICR_LOGICAL)) {
		if (dest == X2APIC_BROADCAST)
			vmx_smp_l1_icr(ICR_BROADCAST, lo);
		else if (dest < ICR_BROADCAST)
			vmx_smp_l1_icr((uint8_t)dest, lo);
		return; /* no such APIC ID: nobody */
	}
	uint32_t cluster = dest >> X2APIC_CLUSTER_SHIFT;
	for (unsigned bit = 0; bit < X2APIC_CLUSTER_BITS; bit++) {
		uint32_t id = cluster * X2APIC_CLUSTER_BITS + bit;

		if (((dest >> bit) & 1) && id < ICR_BROADCAST)
			vmx_smp_l1_icr((uint8_t)id, lo & ~ICR_LOGICAL);
	}
}

/* The LVT CMCI register exists where the version register counts at least
 * seven LVT entries (max LVT entry >= 6, SDM 11.4.8, 15.5.1). */
static bool has_cmci(void)
{
	return ((smp_apic_reg_read(XAPIC_VERSION_REG) >> XAPIC_MAX_LVT_SHIFT) & 0xFFu) >=
	       XAPIC_LVT_CMCI_INDEX;
}

/* Read-write registers (SDM table 11-6): 32 bits, bits 63:32 reserved. */
static bool read_write(uint32_t msr)
{
	return msr == X2APIC_TPR || msr == X2APIC_SVR || msr == X2APIC_ESR ||
	       (msr == X2APIC_LVT_CMCI && has_cmci()) ||
	       (msr >= X2APIC_LVT_FIRST && msr <= X2APIC_LVT_LAST) || msr == X2APIC_TMICT ||
	       msr == X2APIC_TDCR;
}

/* Read-only registers. */
static bool read_only(uint32_t msr)
{
	return msr == X2APIC_VERSION || msr == X2APIC_PPR ||
	       (msr >= X2APIC_ISR0 && msr <= X2APIC_IRR7) || msr == X2APIC_TMCCT;
}

bool vmx_x2apic_msr(uint32_t msr, bool write, uint64_t *val, bool *gp)
{
	if (msr < X2APIC_MSRS || msr >= X2APIC_MSRS + X2APIC_MSR_COUNT)
		return false;
	*gp = true;
	if (!vmx_x2apic_mode())
		return true; /* SDM 11.12.1.2: #GP outside x2APIC mode */
	uint32_t id = smp_apic_reg_read(XAPIC_ID_REG) >> XAPIC_ID_SHIFT;
	if (write) {
		if (msr == X2APIC_EOI || msr == X2APIC_SELF_IPI) {
			if (msr == X2APIC_EOI && *val != 0)
				return true;
			if (msr == X2APIC_SELF_IPI && (*val >> 8) != 0)
				return true;
			if (msr == X2APIC_EOI)
				smp_apic_reg_write(APIC_EOI, 0);
			else /* a fixed, edge IPI to self (SDM 11.12.11) */
				vmx_smp_l1_icr(0, (uint32_t)(*val & ICR_VECTOR_MASK) |
						      (1u << ICR_SHORTHAND_SHIFT));
		} else if (msr == X2APIC_ICR) {
			if ((uint32_t)*val & ICR_RESERVED_X2APIC)
				return true;
			icr_write(*val);
		} else if (read_write(msr)) {
			if ((*val >> 32) != 0 || (msr == X2APIC_ESR && *val != 0))
				return true;
			smp_apic_reg_write(xreg(msr), (uint32_t)*val);
		} else {
			return true;
		}
	} else if (msr == X2APIC_ID) {
		*val = id;
	} else if (msr == X2APIC_LDR) {
		/* Derived from the APIC ID (SDM 11.12.10.2). */
		*val = ((id / X2APIC_CLUSTER_BITS) << X2APIC_CLUSTER_SHIFT) |
		       (1u << (id % X2APIC_CLUSTER_BITS));
	} else if (msr == X2APIC_ICR) {
		*val = ((uint64_t)(smp_cpus[stub_cpu()].icr_hi >> ICR_DEST_SHIFT) << 32) |
		       smp_apic_reg_read(APIC_ICR_LO);
	} else if (read_write(msr) || read_only(msr)) {
		*val = smp_apic_reg_read(xreg(msr));
	} else {
		return true;
	}
	*gp = false;
	return true;
}
