/* SPDX-License-Identifier: MIT */
/* The per-vCPU nested-VMX context: size query, initialisation, queries. */
#include "vmx/context.h"

#include "cpu/x86.h"
#include "vmx/shadow.h"
#include "vmx/sync.h"

/* L1 physical-address widths libnest accepts (SDM 4.1.4: MAXPHYADDR is at
 * most 52; 32 without PAE-era extensions is the smallest a 64-bit L1 has). */
#define L1_MAXPHYADDR_MIN 32u
#define L1_MAXPHYADDR_MAX 52u

NEST_API size_t nest_vmx_size(void)
{
	return sizeof(struct nest_vmx);
}

NEST_API int nest_vmx_init(void *mem, size_t size, const struct nest_backend *be,
			   const struct nest_vmx_config *cfg, struct nest_vmx **out)
{
	struct nest_vmx_config c;
	struct nest_vmx *ctx = mem;
	int rc;

	if (mem == NULL || be == NULL || cfg == NULL || out == NULL)
		return NEST_E_INVAL;
	if ((uintptr_t)mem % _Alignof(struct nest_vmx) != 0)
		return NEST_E_INVAL;
	if (size < sizeof(struct nest_vmx))
		return NEST_E_SIZE;
	rc = nest__copy_in(&c, sizeof(c), cfg, NEST_VMX_CONFIG_MIN_SIZE);
	if (rc != NEST_OK)
		return rc;
	if (c.host_caps == NULL)
		return NEST_E_INVAL;
	if (c.l1_maxphyaddr < L1_MAXPHYADDR_MIN || c.l1_maxphyaddr > L1_MAXPHYADDR_MAX)
		return NEST_E_INVAL;

	nest__memset(ctx, 0, sizeof(*ctx));
	rc = nest__be_init(&ctx->be, be);
	if (rc != NEST_OK)
		return rc;
	rc = nest__copy_in(&ctx->host, sizeof(ctx->host), c.host_caps, NEST_VMX_CAPS_MIN_SIZE);
	if (rc != NEST_OK)
		return rc;
	ctx->host.size = sizeof(ctx->host);
	nest__vmx_build_lists(ctx);
	ctx->vmx_allowed = c.vmx_allowed != 0;
	ctx->l1_maxphyaddr = c.l1_maxphyaddr;
	ctx->l1_gbpages = c.l1_gbpages != 0;
	ctx->features = c.features & NEST_VMX_F_ALL;
	ctx->feature_control_valid = X86_FEATURE_CONTROL_LOCK | c.feature_control_extra;
	if (ctx->vmx_allowed)
		ctx->feature_control_valid |= X86_FEATURE_CONTROL_VMXON_OUTSIDE_SMX;
	/* The reset value is firmware's choice; bits L1 could never write are
	 * dropped so L1 never reads a value it could not have produced. */
	ctx->feature_control = c.feature_control & ctx->feature_control_valid;
	ctx->vmxon = false;
	ctx->vmxon_ptr = NEST_VMX_INVALID_VMPTR;
	ctx->current_vmptr = NEST_VMX_INVALID_VMPTR;
	nest__vmx_compute_caps(ctx);
	ctx->magic = NEST_VMX_MAGIC;
	*out = ctx;
	return NEST_OK;
}

NEST_API int nest_vmx_offered_caps(const struct nest_vmx *ctx, struct nest_vmx_caps *caps)
{
	struct nest_vmx_caps c;

	if (!nest__vmx_ctx_ok(ctx) || caps == NULL)
		return NEST_E_INVAL;
	c = ctx->caps;
	c.feature_control = ctx->feature_control; /* L1 may have written it since */
	return nest__copy_out(caps, &c, sizeof(c), NEST_VMX_CAPS_MIN_SIZE);
}

NEST_API int nest_vmx_get_status(const struct nest_vmx *ctx, struct nest_vmx_status *st)
{
	struct nest_vmx_status s;

	if (!nest__vmx_ctx_ok(ctx) || st == NULL)
		return NEST_E_INVAL;
	nest__memset(&s, 0, sizeof(s));
	s.size = sizeof(s);
	s.in_vmx_operation = ctx->vmxon;
	s.vmxon_ptr = ctx->vmxon_ptr;
	s.current_vmptr = ctx->current_vmptr;
	if (ctx->current_vmptr != NEST_VMX_INVALID_VMPTR)
		s.launch_state = ctx->vmcs12.launch_state;
	s.feature_control = ctx->feature_control;
	return nest__copy_out(st, &s, sizeof(s), NEST_VMX_STATUS_MIN_SIZE);
}

void nest__vmx_writeback_vmcs12(struct nest_vmx *ctx)
{
	int rc;

	if (ctx->current_vmptr == NEST_VMX_INVALID_VMPTR)
		return;
	nest__vmx_shadow_release(ctx); /* shadow.c */
	rc = nest__be_write(&ctx->be, ctx->current_vmptr, &ctx->vmcs12, sizeof(ctx->vmcs12));
	if (rc != NEST_OK)
		nest__be_log(&ctx->be, NEST_LOG_WARN,
			     "vmx: could not write the current VMCS back to L1 memory");
}
