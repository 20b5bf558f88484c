/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness of the VM-entry checks (nest__vmx_check_entry,
 * nest__vmx_check_msr_load and the public nest_vmx_check_vmcs12).
 *
 * Input: byte 0 chooses the configuration (bit 0: start from the valid
 * baseline and overwrite fields, else from a raw image; bit 1: random
 * caps; bit 2: random environment); the rest is consumed as data.
 *
 * Oracle (invariants 5 and 6, docs/trust-model.md): no crash or undefined behaviour;
 * the result is deterministic and agrees with the public entry point; the
 * outcome, error number, exit reason and qualification agree with the
 * failing rule's class; OK is reported only if independent re-checks of a
 * few rules (one per area) hold.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_vmx_entry_baseline.h"

struct input {
	const uint8_t *p;
	size_t n;
};

static uint64_t take(struct input *in, size_t bytes)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < bytes && in->n > 0; i++, in->p++, in->n--)
		x |= (uint64_t)in->p[0] << (8 * i);
	return x;
}

static void check_consistent(const struct nest_vmx_entry_result *r)
{
	const char *name = nest_vmx_rule_name(r->rule);
	uint32_t basic = r->exit_reason & VMX_EXIT_REASON_BASIC_MASK;

	if (r->rule >= NEST_VMX_RULE_END_)
		abort();
	switch (r->outcome) {
	case NEST_VMX_ENTRY_OK:
		if (r->rule != NEST_VMX_RULE_NONE || r->vm_instruction_error || r->exit_reason)
			abort();
		break;
	case NEST_VMX_ENTRY_VMFAIL:
		if (r->exit_reason != 0)
			abort();
		if (strncmp(name, "CTL_", 4) == 0
			? r->vm_instruction_error != 7
			: (strncmp(name, "HOST_", 5) != 0 || r->vm_instruction_error != 8))
			abort();
		break;
	case NEST_VMX_ENTRY_FAILURE:
		if (r->vm_instruction_error || !(r->exit_reason & VMX_EXIT_REASON_ENTRY_FAILURE))
			abort();
		if (strncmp(name, "GUEST_", 6) == 0) {
			if (basic != VMX_EXIT_INVALID_GUEST_STATE ||
			    r->exit_qualification > VMX_ENTRY_FAIL_QUAL_LINK_POINTER)
				abort();
		} else if (strncmp(name, "MSR_LOAD_", 9) == 0 &&
			   r->rule != NEST_VMX_RULE_MSR_LOAD_COUNT_LIMIT) {
			if (basic != VMX_EXIT_MSR_LOADING || r->exit_qualification == 0)
				abort();
		} else if (basic != VMX_EXIT_MCE_DURING_VMENTRY) {
			abort();
		}
		break;
	default:
		abort();
	}
}

/* Independent re-checks that must hold whenever the checks say OK. */
static void check_ok_is_sound(const struct fx *f)
{
	const struct nest__vmcs12 *v = &f->v;
	uint32_t proc = v->CPU_BASED_VM_EXEC_CONTROL;
	uint32_t proc2 = (proc & VMX_PROC_ACTIVATE_SECONDARY) ? v->SECONDARY_VM_EXEC_CONTROL : 0;
	uint64_t must0 =
	    (f->caps.basic & VMX_BASIC_TRUE_CTLS) ? f->caps.true_pinbased : f->caps.pinbased;

	/* 27.2.1.1 */
	if ((v->PIN_BASED_VM_EXEC_CONTROL & (uint32_t)must0) != (uint32_t)must0)
		abort();
	if ((proc2 & VMX_PROC2_ENABLE_VPID) && v->VIRTUAL_PROCESSOR_ID == 0)
		abort();
	if ((proc2 & VMX_PROC2_UNRESTRICTED_GUEST) && !(proc2 & VMX_PROC2_ENABLE_EPT))
		abort();
	/* 27.2.3 */
	if (v->HOST_CS_SELECTOR == 0 || v->HOST_TR_SELECTOR == 0)
		abort();
	/* 27.3.1.1, 27.3.1.2, 27.3.1.4, 27.3.1.5 */
	if ((v->GUEST_CR0 & X86_CR0_PG) && !(v->GUEST_CR0 & X86_CR0_PE))
		abort();
	if (v->GUEST_TR_AR_BYTES & X86_SEG_UNUSABLE)
		abort();
	if (!(v->GUEST_RFLAGS & X86_RFLAGS_FIXED1) || (v->GUEST_RFLAGS >> 22) != 0)
		abort();
	if ((v->GUEST_INTERRUPTIBILITY_INFO & 3u) == 3u)
		abort();
	if (v->VMCS_LINK_POINTER != UINT64_MAX && (v->VMCS_LINK_POINTER & 0xfffu))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fx f, g;
	struct input in = {data, size};
	struct nest_vmx_entry_result r1, r2, r3;
	uint8_t mode = (uint8_t)take(&in, 1);
	size_t count = nest_vmcs_field_count(), i;

	fx_init(&f);
	if (!(mode & 1)) {
		uint8_t *img = (uint8_t *)&f.v;
		size_t n = in.n < sizeof(f.v) ? in.n : sizeof(f.v);

		memcpy(img, in.p, n);
		in.p += n;
		in.n -= n;
	} else {
		/* Overwrite a few fields: (index, value) pairs. */
		while (in.n >= 3) {
			const struct nest_vmcs_field *fld =
			    nest_vmcs_field_at(take(&in, 1) % count);
			uint64_t val = take(&in, nest_vmcs_width_bytes(fld->width));

			nest__vmcs12_write(&f.v, fld->encoding, val);
			if (take(&in, 1) & 1)
				break;
		}
	}
	if (mode & 2) {
		uint64_t *c = &f.caps.basic;

		for (i = 0; i < 21 && in.n; i++)
			c[i] ^= take(&in, 8);
		f.caps.maxphyaddr = 32 + (uint32_t)(take(&in, 1) % 21);
	}
	if (mode & 4) {
		f.env.l1_ia32e = take(&in, 1) & 1;
		f.env.pdptes_fetched = take(&in, 1) & 1;
		for (i = 0; i < 4; i++)
			f.env.pdpte[i] = take(&in, 8);
		f.env.link_fetched = take(&in, 1) & 1;
		f.env.link_header = (uint32_t)take(&in, 4);
		f.env.vtpr_fetched = take(&in, 1) & 1;
		f.env.vtpr = (uint8_t)take(&in, 1);
		f.env.perf_global_ctrl_reserved = take(&in, 8);
		f.env.rtit_ctl_reserved = take(&in, 8);
		f.env.lbr_ctl_reserved = take(&in, 8);
		f.env.machine_check = (take(&in, 1) & 0x1f) == 0;
	}
	for (i = 0; i < FX_MSR_MAX && in.n >= 12; i++) {
		f.msr[i].index = (uint32_t)take(&in, 4);
		f.msr[i].reserved = (uint32_t)take(&in, 1);
		f.msr[i].value = take(&in, 8);
	}

	g = f;
	fx_run(&f, &r1);
	check_consistent(&r1);
	fx_run(&g, &r2);
	if (memcmp(&r1, &r2, sizeof(r1)) != 0)
		abort();
	if (r1.outcome == NEST_VMX_ENTRY_OK)
		check_ok_is_sound(&f);
	/* The public entry point assumes an L1 in IA-32e mode and fetches
	 * nothing; with that environment it must agree with the internal one. */
	if (f.env.l1_ia32e && !f.env.pdptes_fetched && !f.env.link_fetched && !f.env.vtpr_fetched &&
	    !f.env.perf_global_ctrl_reserved && !f.env.rtit_ctl_reserved &&
	    !f.env.lbr_ctl_reserved && !f.env.machine_check) {
		struct nest_vmx_entry_result ri;

		r3.size = sizeof(r3);
		ri.size = sizeof(ri);
		if (nest_vmx_check_vmcs12(&f.v, sizeof(f.v), &f.caps, &r3) != NEST_OK)
			abort();
		nest__vmx_check_entry(&f.v, &f.caps, &f.env, &ri);
		if (memcmp(&ri, &r3, sizeof(ri)) != 0)
			abort();
	}
	return 0;
}
