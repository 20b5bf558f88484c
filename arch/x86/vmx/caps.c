/* SPDX-License-Identifier: MIT */
/*
 * The VMX capability MSRs that L1 sees (SDM Vol. 3D appendix A), computed
 * from the host's values and the policy so that L1 is offered only what
 * libnest emulates:
 *   - each control MSR: allowed-1 = host allowed-1 AND the controls libnest
 *     supports (tables below), OR the host's must-be-1 settings, so the
 *     allowed-0 settings are always a subset of the allowed-1 settings;
 *   - IA32_VMX_BASIC carries libnest's revision identifier, a 4 KiB VMCS
 *     region, write-back VMCS memory, and no dual-monitor treatment;
 *   - TRUE_* MSRs only when the host reports them (BASIC bit 55);
 *   - CR0/CR4 fixed bits come from the host unchanged.
 */
#include "vmx/context.h"

#include "cpu/x86.h"
#include "vmx/vmx_arch.h"

/* IA32_VMX_VMFUNC bit 0: EPTP switching (SDM A.11, 26.5.6.3). */
#define VMX_VMFUNC_EPTP_SWITCHING (1ull << 0)

enum ctl_msr { CTL_PIN, CTL_PROC, CTL_PROC2, CTL_EXIT, CTL_ENTRY, CTL_COUNT };

/* Controls libnest emulates whatever the policy (SDM 25.6-25.8). Controls
 * left out on purpose: tertiary controls and secondary exit controls (no
 * such MSRs are offered), SMM dual-monitor treatment and entry to SMM,
 * ENCLS/ENCLV exiting, PCONFIG, PASID translation, sub-page write
 * permissions, Intel PT concealment and RTIT_CTL/LBR_CTL/UINV/CET/PKRS
 * state, EPT-violation #VE, bus-lock detection and notify exits, posted
 * interrupts. */
static const uint32_t ctl_base[CTL_COUNT] = {
    [CTL_PIN] = NEST_VMX_PIN_DEFAULT1 | NEST_VMX_PIN_EXT_INTR_EXITING | NEST_VMX_PIN_NMI_EXITING |
		NEST_VMX_PIN_VIRTUAL_NMIS,
    [CTL_PROC] = NEST_VMX_PROC_DEFAULT1 | VMX_PROC_EMULATED,
    [CTL_PROC2] = NEST_VMX_PROC2_DESC_TABLE_EXITING | NEST_VMX_PROC2_ENABLE_RDTSCP |
		  NEST_VMX_PROC2_WBINVD_EXITING | NEST_VMX_PROC2_PAUSE_LOOP_EXITING |
		  NEST_VMX_PROC2_RDRAND_EXITING | NEST_VMX_PROC2_ENABLE_INVPCID |
		  NEST_VMX_PROC2_RDSEED_EXITING | NEST_VMX_PROC2_ENABLE_XSAVES |
		  NEST_VMX_PROC2_ENABLE_USER_WAIT_PAUSE,
    [CTL_EXIT] = NEST_VMX_EXIT_CTL_DEFAULT1 | NEST_VMX_EXIT_CTL_SAVE_DEBUG_CONTROLS |
		 NEST_VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE | NEST_VMX_EXIT_CTL_LOAD_PERF_GLOBAL_CTRL |
		 NEST_VMX_EXIT_CTL_ACK_INTR_ON_EXIT | NEST_VMX_EXIT_CTL_SAVE_PAT |
		 NEST_VMX_EXIT_CTL_LOAD_PAT | NEST_VMX_EXIT_CTL_SAVE_EFER |
		 NEST_VMX_EXIT_CTL_LOAD_EFER | NEST_VMX_EXIT_CTL_CLEAR_BNDCFGS,
    [CTL_ENTRY] = NEST_VMX_ENTRY_CTL_DEFAULT1 | NEST_VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS |
		  NEST_VMX_ENTRY_CTL_IA32E_MODE_GUEST | NEST_VMX_ENTRY_CTL_LOAD_PERF_GLOBAL_CTRL |
		  NEST_VMX_ENTRY_CTL_LOAD_PAT | NEST_VMX_ENTRY_CTL_LOAD_EFER |
		  NEST_VMX_ENTRY_CTL_LOAD_BNDCFGS,
};

/* Controls offered only with a policy feature. The first row of each
 * feature is its defining control: the feature is available only if the
 * host allows that control. */
static const struct ctl_feature {
	uint32_t feature;
	uint8_t ctl;
	uint32_t bits;
} ctl_features[] = {
    {NEST_VMX_F_EPT, CTL_PROC2, NEST_VMX_PROC2_ENABLE_EPT},
    {NEST_VMX_F_VPID, CTL_PROC2, NEST_VMX_PROC2_ENABLE_VPID},
    {NEST_VMX_F_UNRESTRICTED_GUEST, CTL_PROC2, NEST_VMX_PROC2_UNRESTRICTED_GUEST},
    {NEST_VMX_F_PREEMPTION_TIMER, CTL_PIN, NEST_VMX_PIN_PREEMPTION_TIMER},
    {NEST_VMX_F_PREEMPTION_TIMER, CTL_EXIT, NEST_VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER},
    {NEST_VMX_F_VMCS_SHADOWING, CTL_PROC2, NEST_VMX_PROC2_VMCS_SHADOWING},
    {NEST_VMX_F_PML, CTL_PROC2, NEST_VMX_PROC2_ENABLE_PML},
    {NEST_VMX_F_APICV, CTL_PROC2,
     NEST_VMX_PROC2_VIRT_APIC_ACCESSES | NEST_VMX_PROC2_VIRT_X2APIC_MODE |
	 NEST_VMX_PROC2_APIC_REGISTER_VIRT | NEST_VMX_PROC2_VIRT_INTR_DELIVERY},
    {NEST_VMX_F_POSTED_INTR, CTL_PIN, NEST_VMX_PIN_POSTED_INTR},
    {NEST_VMX_F_VMFUNC, CTL_PROC2, NEST_VMX_PROC2_ENABLE_VMFUNC},
    {NEST_VMX_F_TSC_SCALING, CTL_PROC2, NEST_VMX_PROC2_USE_TSC_SCALING},
};

/*
 * Features the policy may name but libnest never offers, whatever the host
 * and the config: none now. VMCS shadowing and VM functions (EPTP
 * switching) are offered: l2vmrw.c and vmfunc.c run them. Tertiary
 * controls, EPT-violation #VE and the others listed above ctl_base are
 * not offered (no feature names them).
 */
#define FEATURES_NEVER_OFFERED 0u

/*
 * Features libnest runs in software alone, so the host need not have their
 * controls (only the secondary controls that carry them, and EPT):
 *   - PML (SDM 29.3.6): vmcs02 never enables it. EPT02 is a shadow whose
 *     leaves stay read-only until EPT12's dirty flag is set, so every
 *     access that would set an accessed or dirty flag in EPT12 comes to
 *     the fault path (paging/shadow.c), which checks L1's PML index first
 *     (a PML-full exit above 511, nothing set), sets the flags, and logs
 *     the L2-physical page into L1's log when it set a dirty flag. That is
 *     the processor's rule with no access left out, whatever the host has.
 *   - posted interrupts (SDM 30.6): vmcs02 never processes them (L1's
 *     descriptor and notification vector are not L0's); L0 brings L1's
 *     notification vector to nest_vmx_l2_event(), which does the
 *     processing on L1's descriptor and virtual-APIC page and raises RVI
 *     in vmcs02, whose virtual-interrupt delivery (the host's, required
 *     with posted interrupts) then delivers as the processor would. Needs
 *     NEST_VMX_F_APICV from the host.
 *   - VMCS shadowing (SDM 25.10): vmcs02 never enables it, so every
 *     VMREAD and VMWRITE of L2 exits; those L1's bitmaps let through run
 *     on L1's shadow VMCS in L1 memory (l2vmrw.c), the others go to L1.
 */
#define FEATURES_SOFTWARE (NEST_VMX_F_PML | NEST_VMX_F_POSTED_INTR | NEST_VMX_F_VMCS_SHADOWING)

/* Features that only make sense with EPT (SDM 26.2.1.1: unrestricted
 * guest and PML require "enable EPT"; EPTP switching switches EPTPs). */
#define FEATURES_NEED_EPT (NEST_VMX_F_UNRESTRICTED_GUEST | NEST_VMX_F_PML | NEST_VMX_F_VMFUNC)

/* EPT and VPID capabilities the nested paging code emulates (SDM A.10). */
#define EPT_CAPS_SUPPORTED                                                                         \
	(VMX_EPT_CAP_EXECUTE_ONLY | VMX_EPT_CAP_PWL4 | VMX_EPT_CAP_MEMTYPE_UC |                    \
	 VMX_EPT_CAP_MEMTYPE_WB | VMX_EPT_CAP_2MB_PAGES | VMX_EPT_CAP_1GB_PAGES |                  \
	 VMX_EPT_CAP_INVEPT | VMX_EPT_CAP_AD_FLAGS | VMX_EPT_CAP_INVEPT_SINGLE |                   \
	 VMX_EPT_CAP_INVEPT_ALL)
#define VPID_CAPS_SUPPORTED                                                                        \
	(VMX_VPID_CAP_INVVPID | VMX_VPID_CAP_INVVPID_ADDR | VMX_VPID_CAP_INVVPID_SINGLE |          \
	 VMX_VPID_CAP_INVVPID_ALL | VMX_VPID_CAP_INVVPID_SINGLE_NONGLOBAL)

/* IA32_VMX_MISC bits passed through from the host (SDM A.6). The HLT and
 * wait-for-SIPI activity states are offered where the host has them:
 * vmcs02 carries the state, and SIPIs for L1's vCPU reach L2 through L0
 * (nest_vmx_l2_event(), docs/porting.md). The shutdown state, Intel PT in
 * VMX, SMM features and the MSEG revision are not offered. The MSR-list size field (bits 27:25) is
 * offered as 0, that is 512 entries per list, the least the SDM allows
 * and what libnest keeps (vmx_limits.h), whatever the host's value. */
#define MISC_PASSED                                                                                \
	(VMX_MISC_SAVE_EFER_LMA | VMX_MISC_ACTIVITY_HLT | VMX_MISC_ACTIVITY_WAIT_SIPI |             \
	 VMX_MISC_CR3_TARGET_COUNT_MASK | VMX_MISC_ZERO_LEN_INJECTION)

/* IA32_VMX_BASIC bits passed through from the host (SDM A.1). */
#define BASIC_PASSED (VMX_BASIC_INOUT | VMX_BASIC_TRUE_CTLS | VMX_BASIC_NO_HW_ERRCODE_CHECK)

static uint32_t allowed1(uint64_t msr)
{
	return (uint32_t)(msr >> 32);
}

/* One control MSR: bits 31:0 are the allowed-0 settings (1 = must be 1),
 * bits 63:32 the allowed-1 settings (SDM A.3). `soft`: controls libnest
 * runs in software (FEATURES_SOFTWARE), allowed whatever the host has. */
static uint64_t ctl_msr(uint64_t host, uint32_t supported, uint32_t soft)
{
	uint32_t must1 = (uint32_t)host;
	uint32_t may1 = (allowed1(host) & supported) | soft | must1;

	return ((uint64_t)may1 << 32) | must1;
}

/* The non-TRUE MSR requires at least what the TRUE one requires. */
static uint64_t ctl_merge_true(uint64_t msr, uint64_t true_msr)
{
	uint32_t must1 = (uint32_t)msr | (uint32_t)true_msr;
	uint32_t may1 = allowed1(msr) | must1;

	return ((uint64_t)may1 << 32) | must1;
}

static const uint64_t *host_ctl(const struct nest_vmx_caps *h, unsigned ctl)
{
	switch (ctl) {
	case CTL_PIN:
		return &h->pinbased;
	case CTL_PROC:
		return &h->procbased;
	case CTL_PROC2:
		return &h->procbased2;
	case CTL_EXIT:
		return &h->exit;
	default:
		return &h->entry;
	}
}

/* Which policy features the host can back. */
static uint32_t available_features(const struct nest_vmx *ctx)
{
	const struct nest_vmx_caps *h = &ctx->host;
	uint32_t avail = ctx->features & ~FEATURES_NEVER_OFFERED;
	bool secondary = (allowed1(h->procbased) & NEST_VMX_PROC_ACTIVATE_SECONDARY) != 0;
	size_t i;

	for (i = 0; i < NEST_ARRAY_SIZE(ctl_features); i++) {
		const struct ctl_feature *f = &ctl_features[i];

		if (i > 0 && ctl_features[i - 1].feature == f->feature)
			continue; /* only the defining control decides */
		if (f->ctl == CTL_PROC2 && !secondary)
			avail &= ~f->feature;
		if ((f->feature & FEATURES_SOFTWARE) == 0 &&
		    (allowed1(*host_ctl(h, f->ctl)) & f->bits) != f->bits)
			avail &= ~f->feature;
	}
	if (!(avail & NEST_VMX_F_EPT))
		avail &= ~FEATURES_NEED_EPT;
	if (!(avail & NEST_VMX_F_APICV))
		avail &= ~NEST_VMX_F_POSTED_INTR;
	if ((avail & NEST_VMX_F_VMFUNC) && !(h->vmfunc & VMX_VMFUNC_EPTP_SWITCHING))
		avail &= ~NEST_VMX_F_VMFUNC;
	/* VMWRITE to exit-information fields is pure software on the cached
	 * vmcs12 and on L1's shadow VMCS (which never runs in hardware for
	 * L2), so the host need not have it. */
	return avail;
}

void nest__vmx_compute_caps(struct nest_vmx *ctx)
{
	const struct nest_vmx_caps *h = &ctx->host;
	struct nest_vmx_caps *c = &ctx->caps;
	uint32_t supported[CTL_COUNT], soft[CTL_COUNT] = {0};
	uint32_t avail;
	size_t i;

	nest__memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	c->feature_control = ctx->feature_control;
	c->maxphyaddr = ctx->l1_maxphyaddr;
	if (!ctx->vmx_allowed) {
		ctx->features = 0;
		return;
	}

	avail = available_features(ctx);
	ctx->features = avail;
	for (i = 0; i < CTL_COUNT; i++)
		supported[i] = ctl_base[i];
	for (i = 0; i < NEST_ARRAY_SIZE(ctl_features); i++) {
		if (avail & ctl_features[i].feature)
			supported[ctl_features[i].ctl] |= ctl_features[i].bits;
		if (avail & ctl_features[i].feature & FEATURES_SOFTWARE)
			soft[ctl_features[i].ctl] |= ctl_features[i].bits;
	}

	c->basic = NEST_VMCS12_REVISION |
		   ((uint64_t)NEST_VMCS12_REGION_SIZE << VMX_BASIC_VMCS_SIZE_SHIFT) |
		   (VMX_BASIC_MEMTYPE_WB << VMX_BASIC_MEMTYPE_SHIFT) | (h->basic & BASIC_PASSED);
	c->pinbased = ctl_msr(h->pinbased, supported[CTL_PIN], soft[CTL_PIN]);
	c->procbased = ctl_msr(h->procbased, supported[CTL_PROC], soft[CTL_PROC]);
	c->exit = ctl_msr(h->exit, supported[CTL_EXIT], soft[CTL_EXIT]);
	c->entry = ctl_msr(h->entry, supported[CTL_ENTRY], soft[CTL_ENTRY]);
	if (allowed1(c->procbased) & NEST_VMX_PROC_ACTIVATE_SECONDARY)
		c->procbased2 = ctl_msr(h->procbased2, supported[CTL_PROC2], soft[CTL_PROC2]);
	if (c->basic & VMX_BASIC_TRUE_CTLS) {
		c->true_pinbased = ctl_msr(h->true_pinbased, supported[CTL_PIN], soft[CTL_PIN]);
		c->true_procbased = ctl_msr(h->true_procbased, supported[CTL_PROC], soft[CTL_PROC]);
		c->true_exit = ctl_msr(h->true_exit, supported[CTL_EXIT], soft[CTL_EXIT]);
		c->true_entry = ctl_msr(h->true_entry, supported[CTL_ENTRY], soft[CTL_ENTRY]);
		c->pinbased = ctl_merge_true(c->pinbased, c->true_pinbased);
		c->procbased = ctl_merge_true(c->procbased, c->true_procbased);
		c->exit = ctl_merge_true(c->exit, c->true_exit);
		c->entry = ctl_merge_true(c->entry, c->true_entry);
	}

	c->misc = h->misc & MISC_PASSED;
	if (avail & NEST_VMX_F_PREEMPTION_TIMER)
		c->misc |= h->misc & VMX_MISC_PREEMPTION_TIMER_RATE_MASK;
	if (avail & NEST_VMX_F_VMWRITE_ANY)
		c->misc |= VMX_MISC_VMWRITE_ANY_FIELD;

	c->cr0_fixed0 = h->cr0_fixed0;
	c->cr0_fixed1 = h->cr0_fixed1;
	c->cr4_fixed0 = h->cr4_fixed0;
	c->cr4_fixed1 = h->cr4_fixed1;
	/* Bits 9:1: the highest field index in libnest's table (SDM A.9). */
	c->vmcs_enum = (uint64_t)nest__vmcs_max_index() << 1;

	if (avail & NEST_VMX_F_EPT)
		c->ept_vpid |= h->ept_vpid & EPT_CAPS_SUPPORTED;
	if (avail & NEST_VMX_F_VPID)
		c->ept_vpid |= h->ept_vpid & VPID_CAPS_SUPPORTED;
	if (avail & NEST_VMX_F_VMFUNC)
		c->vmfunc = VMX_VMFUNC_EPTP_SWITCHING;
	/* No tertiary processor-based controls, no secondary exit controls. */
	c->procbased3 = 0;
	c->exit2 = 0;
}
