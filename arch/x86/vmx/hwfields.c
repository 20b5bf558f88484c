/* SPDX-License-Identifier: MIT */
/*
 * The VMCS fields of the processor under L0. Each field that belongs to a
 * feature exists only when the capability MSRs allow the feature's
 * control to be 1 (Intel SDM Vol. 3D appendix B, per field; A.3-A.5 and
 * A.11 for the MSRs); every other field always exists.
 */
#include "vmx/hwfields.h"

#include "vmx/vmcs12.h"
#include "vmx/vmx_arch.h"

#define ALLOWED1(msr) ((uint32_t)((msr) >> 32))

enum req_kind { REQ_NONE, REQ_PIN, REQ_PROC, REQ_PROC2, REQ_EXIT, REQ_ENTRY, REQ_VMFUNC };

struct req {
	enum req_kind kind;
	uint32_t bits; /* any one of them allowed to be 1 */
};

static const struct req reqs[NEST__VF_COUNT] = {
#define NEST__VMX_HWFIELD(field, kind, bits) [NEST__VF_##field] = {REQ_##kind, bits},
#include "vmx/hwfields.def"
#undef NEST__VMX_HWFIELD
};

static struct req requirement(unsigned i)
{
	return i < NEST__VF_COUNT ? reqs[i] : (struct req){REQ_NONE, 0};
}

bool nest__vmx_hw_field(const struct nest_vmx_caps *h, unsigned i)
{
	struct req r = requirement(i);
	bool secondary = (ALLOWED1(h->procbased) & NEST_VMX_PROC_ACTIVATE_SECONDARY) != 0;

	switch (r.kind) {
	case REQ_PIN:
		return (ALLOWED1(h->pinbased) & r.bits) != 0;
	case REQ_PROC:
		return (ALLOWED1(h->procbased) & r.bits) != 0;
	case REQ_PROC2:
		return secondary && (ALLOWED1(h->procbased2) & r.bits) != 0;
	case REQ_EXIT:
		return (ALLOWED1(h->exit) & r.bits) != 0;
	case REQ_ENTRY:
		return (ALLOWED1(h->entry) & r.bits) != 0;
	case REQ_VMFUNC:
		return secondary && (ALLOWED1(h->procbased2) & NEST_VMX_PROC2_ENABLE_VMFUNC) != 0 &&
		       (h->vmfunc & r.bits) != 0;
	default:
		return true;
	}
}
