/* SPDX-License-Identifier: MIT */
/*
 * Hardware VMCS shadowing for L1 (SDM 25.10 "VMCS Types", 26.6.16 VMCS
 * shadowing controls). With NEST_VMX_L0_F_SHADOW_VMCS, L0 links a shadow
 * VMCS to vmcs01 and L1's VMREAD/VMWRITE of the fields marked
 * NEST_VMCS_F_SHADOW_READ/_WRITE run without exits on it; libnest keeps
 * it and vmcs12 in step at the points where either side may look.
 */
#include "vmx/shadow.h"

#include "vmx/context.h"
#include "vmx/sync.h"

bool nest__vmx_shadowing(const struct nest_vmx *ctx)
{
	return (ctx->nested.l0.pub.flags & NEST_VMX_L0_F_SHADOW_VMCS) != 0;
}

int nest__vmx_shadow_collect(struct nest_vmx *ctx)
{
	if (!nest__vmx_shadowing(ctx) || !ctx->nested.shadow_loaded)
		return NEST_OK;
	return nest__vmx_shadow_read_all(ctx);
}

/*
 * After an exit L1 reads the shadow: give it every shadowed field. With
 * shadow_cached, shadow_cache holds what the shadow VMCS holds (libnest
 * wrote it, or read it back after L1's non-exiting VMWRITEs, and L1 does
 * not run in between), so only the fields whose vmcs12 value differs are
 * written: after a reflected exit, the exit information and the guest
 * state L2 changed.
 */
static int vmcs12_to_shadow(struct nest_vmx *ctx)
{
	struct nest__vmx_nested *n = &ctx->nested;
	bool cached = n->shadow_cached;
	int rc;

	n->shadow_cached = false;
	rc = nest__vmx_shadow_write_all(ctx, cached);
	if (rc == NEST_OK)
		n->shadow_cached = true;
	return rc;
}

int nest__vmx_shadow_publish(struct nest_vmx *ctx)
{
	int rc;

	if (!nest__vmx_shadowing(ctx))
		return NEST_OK;
	rc = vmcs12_to_shadow(ctx);
	ctx->nested.shadow_loaded = rc == NEST_OK;
	return rc;
}

/* The current VMCS stops being current (VMCLEAR, VMPTRLD of another,
 * VMXOFF): what L1 wrote through the shadow goes into vmcs12 first. */
void nest__vmx_shadow_release(struct nest_vmx *ctx)
{
	nest__vmx_sync_rare(ctx);
	nest__memset(&ctx->nested.dirty, 0, sizeof(ctx->nested.dirty));
	if (nest__vmx_shadow_collect(ctx) != NEST_OK)
		nest__be_log(&ctx->be, NEST_LOG_WARN, "vmx: could not read the shadow VMCS");
	ctx->nested.shadow_loaded = false;
}

/* A VMCS became current (VMPTRLD): L1 reads it through the shadow, all
 * of it written anew. */
void nest__vmx_shadow_load(struct nest_vmx *ctx)
{
	if (!nest__vmx_shadowing(ctx))
		return;
	ctx->nested.shadow_cached = false;
	if (vmcs12_to_shadow(ctx) != NEST_OK) {
		nest__be_log(&ctx->be, NEST_LOG_WARN, "vmx: could not write the shadow VMCS");
		return;
	}
	ctx->nested.shadow_loaded = true;
}

/* L1 wrote a field through an exiting VMWRITE: it is dirty (a rarely read
 * guest field keeps L1's value, see rare_stale), and a field L1 reads
 * through the shadow must show the new value. */
void nest__vmx_shadow_field(struct nest_vmx *ctx, uint32_t enc)
{
	const struct nest_vmcs_field *f = nest__vmcs_field(enc);

	if (f == NULL)
		return;
	nest__vmx_fs_set(&ctx->nested.dirty, (unsigned)(f - nest__vmcs_fields));
	nest__vmx_shadow_mirror(ctx, enc);
}

void nest__vmx_shadow_mirror(struct nest_vmx *ctx, uint32_t enc)
{
	const struct nest_vmcs_field *f = nest__vmcs_field(enc);
	uint64_t val;

	if (f == NULL || !nest__vmx_shadowing(ctx) || !ctx->nested.shadow_loaded ||
	    !(f->flags & NEST_VMCS_F_SHADOW_READ))
		return;
	nest__vmcs12_read(&ctx->vmcs12, f->encoding, &val);
	if (nest__be_vmcs_write(&ctx->be, NEST_VMCS_SHADOW, f->encoding, val) != NEST_OK) {
		nest__be_log(&ctx->be, NEST_LOG_WARN, "vmx: could not write the shadow VMCS");
		ctx->nested.shadow_cached = false;
		return;
	}
	nest__vmcs12_write(&ctx->nested.shadow_cache, f->encoding, val);
}
