/* SPDX-License-Identifier: MIT */
/*
 * VM-entry checks: the rule table, the order of the check groups (SDM
 * 27.2, 27.3, 27.9), the public pure entry points over a vmcs12 image, and
 * a typical capability set for tools and tests.
 */
#include "vmx/check.h"

/* Outcome per rule kind (see nest/vmx-entry-rules.def). */
enum rule_kind { KIND_NONE, KIND_CTL, KIND_HOST, KIND_GUEST, KIND_MSR, KIND_MCE };

struct rule_desc {
	const char *name;
	const char *section;
	const char *text;
	uint8_t kind;
	uint8_t qual;
};

static const struct rule_desc rules[NEST_VMX_RULE_END_] = {
#define NEST_VMX_RULE(name, kind, qual, section, text)                                             \
	[NEST_VMX_RULE_##                                                                          \
	    name] = {#name, section, text, KIND_##kind, NEST_VMX_ENTRY_FAIL_QUAL_##qual},
#include <nest/vmx-entry-rules.def>
#undef NEST_VMX_RULE
};

int nest__vmx_entry_fail(struct nest_vmx_entry_result *res, enum nest_vmx_rule rule, uint32_t field,
			 uint64_t msr_qual)
{
	const struct rule_desc *d = &rules[rule];

	res->rule = rule;
	res->field = field;
	res->vm_instruction_error = 0;
	res->exit_reason = 0;
	res->exit_qualification = 0;
	switch (d->kind) {
	case KIND_CTL:
		res->outcome = NEST_VMX_ENTRY_VMFAIL;
		res->vm_instruction_error = VMXERR_ENTRY_INVALID_CONTROL_FIELD;
		break;
	case KIND_HOST:
		res->outcome = NEST_VMX_ENTRY_VMFAIL;
		res->vm_instruction_error = VMXERR_ENTRY_INVALID_HOST_STATE_FIELD;
		break;
	case KIND_GUEST:
		/* SDM 27.8: exit reason 33, qualification per the rule. */
		res->outcome = NEST_VMX_ENTRY_FAILURE;
		res->exit_reason =
		    NEST_VMX_EXIT_INVALID_GUEST_STATE | NEST_VMX_EXIT_REASON_ENTRY_FAILURE;
		res->exit_qualification = d->qual;
		break;
	case KIND_MSR:
		/* SDM 27.8: the qualification counts entries from 1. */
		res->outcome = NEST_VMX_ENTRY_FAILURE;
		res->exit_reason = NEST_VMX_EXIT_MSR_LOADING | NEST_VMX_EXIT_REASON_ENTRY_FAILURE;
		res->exit_qualification = msr_qual;
		break;
	case KIND_MCE:
		res->outcome = NEST_VMX_ENTRY_FAILURE;
		res->exit_reason =
		    NEST_VMX_EXIT_MCE_DURING_VMENTRY | NEST_VMX_EXIT_REASON_ENTRY_FAILURE;
		break;
	default:
		res->outcome = NEST_VMX_ENTRY_OK;
		break;
	}
	return (int)res->outcome;
}

static void result_ok(struct nest_vmx_entry_result *res)
{
	uint32_t size = res->size;

	nest__memset(res, 0, sizeof(*res));
	res->size = size;
	res->outcome = NEST_VMX_ENTRY_OK;
	res->rule = NEST_VMX_RULE_NONE;
	res->field = NEST_VMX_ENTRY_NO_FIELD;
}

unsigned nest__vmx_check_groups_reading(unsigned index)
{
	if (index >= NEST__VF_COUNT)
		return 0;
	switch (nest__vmcs_fields[index].type) {
	case NEST_VMCS_T_CONTROL:
		return NEST__VMX_CHECK_ALL;
	case NEST_VMCS_T_HOST:
		return NEST__VMX_CHECK_HOST;
	case NEST_VMCS_T_GUEST:
		/* 27.2.1.3: the error-code rule of event injection reads
		 * CR0.PE when "unrestricted guest" is 1. */
		if (index == NEST__VF_GUEST_CR0)
			return NEST__VMX_CHECK_GUEST | NEST__VMX_CHECK_CONTROLS;
		return NEST__VMX_CHECK_GUEST;
	default:
		return 0; /* VM-exit information: no VM-entry check reads it */
	}
}

int nest__vmx_check_entry(const struct nest__vmcs12 *v, const struct nest_vmx_caps *caps,
			  const struct nest__vmx_entry_env *env, struct nest_vmx_entry_result *res)
{
	return nest__vmx_check_entry_groups(v, caps, env, res, NEST__VMX_CHECK_ALL);
}

int nest__vmx_check_entry_groups(const struct nest__vmcs12 *v, const struct nest_vmx_caps *caps,
				 const struct nest__vmx_entry_env *env,
				 struct nest_vmx_entry_result *res, unsigned groups)
{
	struct nest__vmx_entry_ctx c;
	int r;

	result_ok(res);
	c.v = v;
	c.caps = caps;
	c.env = env;
	c.res = res;
	c.pin = v->PIN_BASED_VM_EXEC_CONTROL;
	c.proc = v->CPU_BASED_VM_EXEC_CONTROL;
	/* SDM 25.6.2: a control group that is not activated acts as all 0. */
	c.proc2 = (c.proc & NEST_VMX_PROC_ACTIVATE_SECONDARY) ? v->SECONDARY_VM_EXEC_CONTROL : 0;
	c.proc3 = (c.proc & NEST_VMX_PROC_ACTIVATE_TERTIARY) ? v->TERTIARY_VM_EXEC_CONTROL : 0;
	c.exit = v->VM_EXIT_CONTROLS;
	c.exit2 =
	    (c.exit & NEST_VMX_EXIT_CTL_ACTIVATE_SECONDARY) ? v->SECONDARY_VM_EXIT_CONTROLS : 0;
	c.entry = v->VM_ENTRY_CONTROLS;
	c.maxphyaddr = caps->maxphyaddr;
	/* Linear-address width: 57 bits when L1 may enable 5-level paging
	 * (CR4.LA57 allowed by IA32_VMX_CR4_FIXED1), else 48 (SDM 4.1.1). */
	c.va_bits = (caps->cr4_fixed1 & X86_CR4_LA57) ? X86_LA57 : X86_LA48;
	c.ia32e_guest = (c.entry & NEST_VMX_ENTRY_CTL_IA32E_MODE_GUEST) != 0;
	c.ug = (c.proc2 & NEST_VMX_PROC2_UNRESTRICTED_GUEST) != 0;
	c.v86 = (v->GUEST_RFLAGS & X86_RFLAGS_VM) != 0;
	c.host64 = (c.exit & NEST_VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE) != 0;

	/* SDM 27.2: controls, then host state (VMfailValid 7 or 8). */
	if ((groups & NEST__VMX_CHECK_CONTROLS) && (r = nest__vmx_check_controls(&c)) != 0)
		return r;
	if ((groups & NEST__VMX_CHECK_HOST) && (r = nest__vmx_check_host(&c)) != 0)
		return r;
	/* SDM 27.3.1: guest state (exit reason 33). */
	if (groups & NEST__VMX_CHECK_GUEST) {
		if ((r = nest__vmx_check_guest_regs(&c)) != 0)
			return r;
		if ((r = nest__vmx_check_guest_segs(&c)) != 0)
			return r;
		if ((r = nest__vmx_check_guest_misc(&c)) != 0)
			return r;
	}
	/* SDM 27.9: a machine check while loading guest state. */
	if (env->machine_check)
		return nest__vmx_entry_fail(res, NEST_VMX_RULE_MCE_DURING_ENTRY,
					    NEST_VMX_ENTRY_NO_FIELD, 0);
	return 0;
}

/* MSRs that no VM entry may load (SDM 27.4). */
#define MSR_IA32_BIOS_UPDT_TRIG 0x00000079u
#define MSR_IA32_BIOS_SIGN_ID 0x0000008bu
#define MSR_IA32_SMM_MONITOR_CTL 0x0000009bu
#define MSR_IA32_SMBASE 0x0000009eu
#define MSR_X2APIC_RANGE_SHIFT 8
#define MSR_X2APIC_RANGE (X86_MSR_X2APIC_BASE >> MSR_X2APIC_RANGE_SHIFT)
/* Entries per 512 in IA32_VMX_MISC[27:25] (SDM A.6). */
#define MSR_LIST_UNIT 512u

/* Would WRMSR at CPL 0 accept `value` for `index`? Only the MSRs whose
 * architectural rules need no model knowledge are judged; others pass. */
static bool wrmsr_ok(uint32_t index, uint64_t value, unsigned va_bits)
{
	switch (index) {
	case X86_MSR_IA32_EFER:
		return (value & ~NEST__EFER_INTEL_VALID) == 0;
	case X86_MSR_IA32_PAT:
		return nest__x86_pat_valid(value);
	case X86_MSR_IA32_SYSENTER_ESP:
	case X86_MSR_IA32_SYSENTER_EIP:
	case X86_MSR_IA32_LSTAR:
	case X86_MSR_IA32_CSTAR:
	case X86_MSR_IA32_KERNEL_GS_BASE:
		/* SDM 2.2.1, 5.8.8: these hold linear addresses. */
		return x86_is_canonical(value, va_bits);
	case X86_MSR_IA32_TSC_AUX:
		return (value & X86_HIGH32) == 0;
	default:
		return true;
	}
}

int nest__vmx_check_msr_load(const struct nest_vmx_msr_entry *entries, uint32_t count,
			     const struct nest_vmx_caps *caps, struct nest_vmx_entry_result *res)
{
	uint32_t limit, i;
	unsigned va_bits = (caps->cr4_fixed1 & X86_CR4_LA57) ? X86_LA57 : X86_LA48;

	result_ok(res);
	/* SDM A.6: beyond the recommended maximum, behaviour is undefined and
	 * may include a machine check during the VMX transition; libnest
	 * reports that machine check, before loading anything. */
	limit = MSR_LIST_UNIT * (uint32_t)(((caps->misc & VMX_MISC_MAX_MSR_LIST_MASK) >>
					    VMX_MISC_MAX_MSR_LIST_SHIFT) +
					   1);
	if (count > limit)
		return nest__vmx_entry_fail(res, NEST_VMX_RULE_MSR_LOAD_COUNT_LIMIT,
					    NEST__F(VM_ENTRY_MSR_LOAD_COUNT), 0);
	for (i = 0; i < count; i++) {
		const struct nest_vmx_msr_entry *e = &entries[i];
		uint64_t q = (uint64_t)i + 1;
		enum nest_vmx_rule rule = NEST_VMX_RULE_NONE;

		/* SDM 27.4, in the order of its list. */
		if (e->index == X86_MSR_IA32_FS_BASE || e->index == X86_MSR_IA32_GS_BASE)
			rule = NEST_VMX_RULE_MSR_LOAD_FS_GS_BASE;
		else if ((e->index >> MSR_X2APIC_RANGE_SHIFT) == MSR_X2APIC_RANGE)
			rule = NEST_VMX_RULE_MSR_LOAD_X2APIC;
		else if (e->index == MSR_IA32_SMM_MONITOR_CTL || e->index == MSR_IA32_SMBASE)
			rule = NEST_VMX_RULE_MSR_LOAD_SMM_ONLY;
		else if (e->index == MSR_IA32_BIOS_UPDT_TRIG || e->index == MSR_IA32_BIOS_SIGN_ID)
			rule = NEST_VMX_RULE_MSR_LOAD_MODEL_SPECIFIC;
		else if (e->reserved != 0)
			rule = NEST_VMX_RULE_MSR_LOAD_RESERVED;
		else if (!wrmsr_ok(e->index, e->value, va_bits))
			rule = NEST_VMX_RULE_MSR_LOAD_WRMSR_GP;
		if (rule != NEST_VMX_RULE_NONE)
			return nest__vmx_entry_fail(res, rule, NEST__F(VM_ENTRY_MSR_LOAD_ADDR), q);
	}
	return 0;
}

/* Public API. */

NEST_API const char *nest_vmx_rule_name(uint32_t rule)
{
	return rule < NEST_VMX_RULE_END_ ? rules[rule].name : "UNKNOWN";
}

NEST_API const char *nest_vmx_rule_text(uint32_t rule)
{
	return rule < NEST_VMX_RULE_END_ ? rules[rule].text : "unknown rule";
}

NEST_API const char *nest_vmx_rule_section(uint32_t rule)
{
	return rule < NEST_VMX_RULE_END_ ? rules[rule].section : "";
}

#define CAPS_MIN_SIZE (offsetof(struct nest_vmx_caps, reserved1) + sizeof(uint32_t))
#define RESULT_MIN_SIZE (offsetof(struct nest_vmx_entry_result, field) + sizeof(uint32_t))

_Static_assert(offsetof(struct nest_vmx_entry_result, outcome) == 4, "result layout");
_Static_assert(offsetof(struct nest_vmx_entry_result, vm_instruction_error) == 8, "result layout");
_Static_assert(offsetof(struct nest_vmx_entry_result, exit_reason) == 12, "result layout");
_Static_assert(offsetof(struct nest_vmx_entry_result, exit_qualification) == 16, "result layout");
_Static_assert(offsetof(struct nest_vmx_entry_result, rule) == 24, "result layout");
_Static_assert(offsetof(struct nest_vmx_entry_result, field) == 28, "result layout");
_Static_assert(sizeof(struct nest_vmx_msr_entry) == 16, "MSR entries are 16 bytes (SDM 25.7.2)");
_Static_assert(offsetof(struct nest_vmx_msr_entry, reserved) == 4, "MSR entry layout");
_Static_assert(offsetof(struct nest_vmx_msr_entry, value) == 8, "MSR entry layout");

/* Copy a caller's caps (any size from the minimum up) into a full struct. */
static int load_caps(struct nest_vmx_caps *dst, const struct nest_vmx_caps *src)
{
	size_t n;

	if (src == NULL)
		return NEST_E_INVAL;
	if (src->size < CAPS_MIN_SIZE)
		return NEST_E_SIZE;
	n = src->size < sizeof(*dst) ? src->size : sizeof(*dst);
	nest__memset(dst, 0, sizeof(*dst));
	nest__memcpy(dst, src, n);
	return NEST_OK;
}

static void store_result(struct nest_vmx_entry_result *dst, const struct nest_vmx_entry_result *src)
{
	nest__copy_out(dst, src, sizeof(*src), RESULT_MIN_SIZE);
}

/* The typical capability set's scalar choices. */
#define NEST_DEFAULT_PREEMPTION_RATE 5ull /* timer ticks every 2^5 TSC cycles (SDM A.6) */
#define NEST_DEFAULT_CR3_TARGETS 4u	  /* CR3-target values (SDM A.6) */
#define NEST_DEFAULT_MAXPHYADDR 46u	  /* physical-address width */

NEST_API int nest_vmx_caps_default(struct nest_vmx_caps *caps)
{
	struct nest_vmx_caps c;
	uint32_t size;
	uint64_t pin1, proc1, proc2_1, exit1, entry1;

	if (caps == NULL)
		return NEST_E_INVAL;
	size = caps->size;
	if (size < CAPS_MIN_SIZE)
		return NEST_E_SIZE;
	nest__memset(&c, 0, sizeof(c));
	c.basic = NEST_VMCS12_REVISION |
		  ((uint64_t)NEST_VMCS12_REGION_SIZE << VMX_BASIC_VMCS_SIZE_SHIFT) |
		  (VMX_BASIC_MEMTYPE_WB << VMX_BASIC_MEMTYPE_SHIFT) | VMX_BASIC_INOUT |
		  VMX_BASIC_TRUE_CTLS;
	pin1 = NEST_VMX_PIN_DEFAULT1 | NEST_VMX_PIN_EXT_INTR_EXITING | NEST_VMX_PIN_NMI_EXITING |
	       NEST_VMX_PIN_VIRTUAL_NMIS | NEST_VMX_PIN_PREEMPTION_TIMER | NEST_VMX_PIN_POSTED_INTR;
	c.pinbased = (pin1 << VMX_CAP_ALLOWED1_SHIFT) | NEST_VMX_PIN_DEFAULT1;
	c.true_pinbased = c.pinbased;
	proc1 = NEST_VMX_PROC_DEFAULT1 | VMX_PROC_EMULATED;
	c.procbased = (proc1 << VMX_CAP_ALLOWED1_SHIFT) | NEST_VMX_PROC_DEFAULT1;
	/* SDM A.3.2: the true MSR lets CR3-load and CR3-store exiting be 0. */
	c.true_procbased = (proc1 << VMX_CAP_ALLOWED1_SHIFT) |
			   (NEST_VMX_PROC_DEFAULT1 &
			    ~(NEST_VMX_PROC_CR3_LOAD_EXITING | NEST_VMX_PROC_CR3_STORE_EXITING));
	proc2_1 = NEST_VMX_PROC2_VIRT_APIC_ACCESSES | NEST_VMX_PROC2_ENABLE_EPT |
		  NEST_VMX_PROC2_DESC_TABLE_EXITING | NEST_VMX_PROC2_ENABLE_RDTSCP |
		  NEST_VMX_PROC2_VIRT_X2APIC_MODE | NEST_VMX_PROC2_ENABLE_VPID |
		  NEST_VMX_PROC2_WBINVD_EXITING | NEST_VMX_PROC2_UNRESTRICTED_GUEST |
		  NEST_VMX_PROC2_APIC_REGISTER_VIRT | NEST_VMX_PROC2_VIRT_INTR_DELIVERY |
		  NEST_VMX_PROC2_PAUSE_LOOP_EXITING | NEST_VMX_PROC2_RDRAND_EXITING |
		  NEST_VMX_PROC2_ENABLE_INVPCID | NEST_VMX_PROC2_ENABLE_VMFUNC |
		  NEST_VMX_PROC2_VMCS_SHADOWING | NEST_VMX_PROC2_RDSEED_EXITING |
		  NEST_VMX_PROC2_ENABLE_PML | NEST_VMX_PROC2_EPT_VIOLATION_VE |
		  NEST_VMX_PROC2_ENABLE_XSAVES | NEST_VMX_PROC2_USE_TSC_SCALING;
	c.procbased2 = proc2_1 << VMX_CAP_ALLOWED1_SHIFT;
	exit1 = NEST_VMX_EXIT_CTL_DEFAULT1 | NEST_VMX_EXIT_CTL_SAVE_DEBUG_CONTROLS |
		NEST_VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE | NEST_VMX_EXIT_CTL_LOAD_PERF_GLOBAL_CTRL |
		NEST_VMX_EXIT_CTL_ACK_INTR_ON_EXIT | NEST_VMX_EXIT_CTL_SAVE_PAT |
		NEST_VMX_EXIT_CTL_LOAD_PAT | NEST_VMX_EXIT_CTL_SAVE_EFER |
		NEST_VMX_EXIT_CTL_LOAD_EFER | NEST_VMX_EXIT_CTL_SAVE_PREEMPTION_TIMER;
	c.exit = (exit1 << VMX_CAP_ALLOWED1_SHIFT) | NEST_VMX_EXIT_CTL_DEFAULT1;
	/* SDM A.4.2: the true MSR lets "save debug controls" be 0. */
	c.true_exit = (exit1 << VMX_CAP_ALLOWED1_SHIFT) |
		      (NEST_VMX_EXIT_CTL_DEFAULT1 & ~NEST_VMX_EXIT_CTL_SAVE_DEBUG_CONTROLS);
	entry1 = NEST_VMX_ENTRY_CTL_DEFAULT1 | NEST_VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS |
		 NEST_VMX_ENTRY_CTL_IA32E_MODE_GUEST | NEST_VMX_ENTRY_CTL_LOAD_PERF_GLOBAL_CTRL |
		 NEST_VMX_ENTRY_CTL_LOAD_PAT | NEST_VMX_ENTRY_CTL_LOAD_EFER;
	c.entry = (entry1 << VMX_CAP_ALLOWED1_SHIFT) | NEST_VMX_ENTRY_CTL_DEFAULT1;
	/* SDM A.5.2: the true MSR lets "load debug controls" be 0. */
	c.true_entry = (entry1 << VMX_CAP_ALLOWED1_SHIFT) |
		       (NEST_VMX_ENTRY_CTL_DEFAULT1 & ~NEST_VMX_ENTRY_CTL_LOAD_DEBUG_CONTROLS);
	c.misc = NEST_DEFAULT_PREEMPTION_RATE | VMX_MISC_SAVE_EFER_LMA | VMX_MISC_ACTIVITY_HLT |
		 VMX_MISC_ACTIVITY_SHUTDOWN | VMX_MISC_ACTIVITY_WAIT_SIPI |
		 ((uint64_t)NEST_DEFAULT_CR3_TARGETS << VMX_MISC_CR3_TARGET_COUNT_SHIFT) |
		 VMX_MISC_VMWRITE_ANY_FIELD;
	c.cr0_fixed0 = X86_CR0_PE | X86_CR0_NE | X86_CR0_PG;
	c.cr0_fixed1 = UINT32_MAX;
	c.cr4_fixed0 = X86_CR4_VMXE;
	c.cr4_fixed1 = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE | X86_CR4_PSE |
		       X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PCE | X86_CR4_OSFXSR |
		       X86_CR4_OSXMMEXCPT | X86_CR4_UMIP | X86_CR4_VMXE | X86_CR4_FSGSBASE |
		       X86_CR4_PCIDE | X86_CR4_OSXSAVE | X86_CR4_SMEP | X86_CR4_SMAP | X86_CR4_PKE;
	c.vmcs_enum = (uint64_t)nest__vmcs_max_index() << VMX_VMCS_ENUM_INDEX_SHIFT;
	c.ept_vpid = VMX_EPT_CAP_EXECUTE_ONLY | VMX_EPT_CAP_PWL4 | VMX_EPT_CAP_MEMTYPE_UC |
		     VMX_EPT_CAP_MEMTYPE_WB | VMX_EPT_CAP_2MB_PAGES | VMX_EPT_CAP_1GB_PAGES |
		     VMX_EPT_CAP_INVEPT | VMX_EPT_CAP_AD_FLAGS | VMX_EPT_CAP_INVEPT_SINGLE |
		     VMX_EPT_CAP_INVEPT_ALL | VMX_VPID_CAP_INVVPID | VMX_VPID_CAP_INVVPID_ADDR |
		     VMX_VPID_CAP_INVVPID_SINGLE | VMX_VPID_CAP_INVVPID_ALL |
		     VMX_VPID_CAP_INVVPID_SINGLE_NONGLOBAL;
	c.vmfunc = VMX_VMFUNC_EPTP_SWITCHING;
	c.feature_control = X86_FEATURE_CONTROL_LOCK | X86_FEATURE_CONTROL_VMXON_OUTSIDE_SMX;
	c.maxphyaddr = NEST_DEFAULT_MAXPHYADDR;
	return nest__copy_out(caps, &c, sizeof(c), CAPS_MIN_SIZE);
}

NEST_API size_t nest_vmcs12_image_size(void)
{
	return sizeof(struct nest__vmcs12);
}

NEST_API int nest_vmcs12_image_init(void *img)
{
	struct nest__vmcs12 *v = img;

	if (img == NULL)
		return NEST_E_INVAL;
	nest__memset(v, 0, sizeof(*v));
	v->revision = NEST_VMCS12_REVISION;
	v->launch_state = NEST_VMCS12_STATE_CLEAR;
	return NEST_OK;
}

NEST_API int nest_vmcs12_image_read(const void *img, uint32_t encoding, uint64_t *value)
{
	if (img == NULL || value == NULL)
		return NEST_E_INVAL;
	return nest__vmcs12_read(img, encoding, value) ? NEST_OK : NEST_E_NOENT;
}

NEST_API int nest_vmcs12_image_write(void *img, uint32_t encoding, uint64_t value)
{
	if (img == NULL)
		return NEST_E_INVAL;
	return nest__vmcs12_write(img, encoding, value) ? NEST_OK : NEST_E_NOENT;
}

NEST_API int nest_vmx_check_vmcs12(const void *img, size_t len, const struct nest_vmx_caps *caps,
				   struct nest_vmx_entry_result *res)
{
	struct nest__vmcs12 v;
	struct nest_vmx_caps c;
	struct nest__vmx_entry_env env;
	struct nest_vmx_entry_result r;
	int st;

	if (img == NULL || res == NULL)
		return NEST_E_INVAL;
	if (res->size < RESULT_MIN_SIZE ||
	    len < offsetof(struct nest__vmcs12, VIRTUAL_PROCESSOR_ID))
		return NEST_E_SIZE;
	if ((st = load_caps(&c, caps)) != NEST_OK)
		return st;
	/* One copy of the image; an older, shorter image reads as zeros. */
	nest__memset(&v, 0, sizeof(v));
	nest__memcpy(&v, img, len < sizeof(v) ? len : sizeof(v));
	nest__memset(&env, 0, sizeof(env));
	env.l1_ia32e = true;
	r.size = sizeof(r);
	nest__vmx_check_entry(&v, &c, &env, &r);
	store_result(res, &r);
	return NEST_OK;
}

NEST_API int nest_vmx_check_msr_load(const struct nest_vmx_msr_entry *entries, uint32_t count,
				     const struct nest_vmx_caps *caps,
				     struct nest_vmx_entry_result *res)
{
	struct nest_vmx_caps c;
	struct nest_vmx_entry_result r;
	int st;

	if (res == NULL || (entries == NULL && count != 0))
		return NEST_E_INVAL;
	if (res->size < RESULT_MIN_SIZE)
		return NEST_E_SIZE;
	if ((st = load_caps(&c, caps)) != NEST_OK)
		return st;
	r.size = sizeof(r);
	nest__vmx_check_msr_load(entries, count, &c, &r);
	store_result(res, &r);
	return NEST_OK;
}
