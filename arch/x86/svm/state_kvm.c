/* SPDX-License-Identifier: MIT */
/*
 * Nested SVM state as KVM's struct kvm_nested_state, SVM flavour (format
 * 1): export and import over libnest's own save/restore rules (state.c).
 */
#include <stddef.h>

#include <nest/state.h>

#include "svm/context.h"
#include "svm/state_internal.h"

/* Header: flags, format, size, hdr.svm.vmcb_pa, the rest of the 120-byte
 * header union; data.svm.vmcb12 follows at 128. */
struct kvm_svm_wire {
	uint16_t flags;
	uint16_t format;
	uint32_t size;
	uint64_t vmcb_pa;
	uint8_t hdr_rest[NEST_KVM_NESTED_STATE_HDR_SIZE - 16];
};

_Static_assert(offsetof(struct kvm_svm_wire, format) == 2, "kvm.format");
_Static_assert(offsetof(struct kvm_svm_wire, size) == 4, "kvm.size");
_Static_assert(offsetof(struct kvm_svm_wire, vmcb_pa) == 8, "kvm.hdr.svm.vmcb_pa");
_Static_assert(sizeof(struct kvm_svm_wire) == NEST_KVM_NESTED_STATE_HDR_SIZE, "kvm header");
_Static_assert(sizeof(struct nest_vmcb) == NEST_KVM_STATE_NESTED_SVM_VMCB_SIZE, "kvm vmcb12");

#define KVM_SVM_FLAGS_KNOWN                                                                        \
	(NEST_KVM_STATE_NESTED_GUEST_MODE | NEST_KVM_STATE_NESTED_RUN_PENDING |                    \
	 NEST_KVM_STATE_NESTED_GIF_SET)

NEST_API size_t nest_svm_kvm_state_size(void)
{
	return NEST_KVM_NESTED_STATE_HDR_SIZE + NEST_KVM_STATE_NESTED_SVM_VMCB_SIZE;
}

NEST_API int nest_svm_to_kvm_nested_state(const struct nest_svm *ctx,
					  const struct nest_vmcb *vmcb01, void *buf, size_t len,
					  size_t *written)
{
	struct kvm_svm_wire k;
	/* Built in place (4 KiB). */
	struct nest_vmcb *v = (struct nest_vmcb *)((uint8_t *)buf + NEST_KVM_NESTED_STATE_HDR_SIZE);

	if (!nest__svm_ctx_ok(ctx) || buf == NULL)
		return NEST_E_INVAL;
	if (len < nest_svm_kvm_state_size())
		return NEST_E_NOSPC;
	nest__memset(&k, 0, sizeof(k));
	k.format = NEST_KVM_STATE_NESTED_FORMAT_SVM;
	k.size = NEST_KVM_NESTED_STATE_HDR_SIZE;
	if (nest__svm_l1_gif(ctx, vmcb01))
		k.flags |= NEST_KVM_STATE_NESTED_GIF_SET;
	if (ctx->guest_mode) {
		k.flags |= NEST_KVM_STATE_NESTED_GUEST_MODE;
		k.size += NEST_KVM_STATE_NESTED_SVM_VMCB_SIZE;
		k.vmcb_pa = ctx->vmcb12_pa;
		/* KVM's data: vmcb12's control area as VMRUN read it, and
		 * L1's state saved at VMRUN in the save area's layout. */
		nest__memset(v, 0, sizeof(*v));
		nest__memcpy(&v->control, &ctx->vmcb12.control, sizeof(v->control));
#define KVM_HOST(f) nest__memcpy(&v->save.f, &ctx->host.f, sizeof(ctx->host.f));
		SVM_HOST_FIELDS(KVM_HOST)
#undef KVM_HOST
	}
	nest__memcpy(buf, &k, sizeof(k));
	if (written != NULL)
		*written = k.size;
	return NEST_OK;
}

NEST_API int nest_svm_from_kvm_nested_state(struct nest_svm *ctx, struct nest_vmcb *vmcb01,
					    const void *buf, size_t len)
{
	const uint8_t *b = buf;
	struct kvm_svm_wire k;
	size_t need = NEST_KVM_NESTED_STATE_HDR_SIZE;
	bool gif;

	if (!nest__svm_ctx_ok(ctx) || buf == NULL)
		return NEST_E_INVAL;
	if (len < sizeof(k))
		return NEST_E_FORMAT;
	nest__memcpy(&k, buf, sizeof(k));
	gif = (k.flags & NEST_KVM_STATE_NESTED_GIF_SET) != 0;
	if (k.format != NEST_KVM_STATE_NESTED_FORMAT_SVM || (k.flags & ~KVM_SVM_FLAGS_KNOWN) ||
	    !nest__svm_state_zero(k.hdr_rest, sizeof(k.hdr_rest)))
		return NEST_E_FORMAT;
	if (k.flags & NEST_KVM_STATE_NESTED_GUEST_MODE)
		need += NEST_KVM_STATE_NESTED_SVM_VMCB_SIZE;
	if (k.size < need || k.size > len || !nest__svm_state_zero(b + need, k.size - need))
		return NEST_E_FORMAT;
	/* A pending run belongs to guest mode; GIF clear needs EFER.SVME
	 * (CLGI #UDs without it), which L0 restores as an MSR first. */
	if (((k.flags & NEST_KVM_STATE_NESTED_RUN_PENDING) &&
	     !(k.flags & NEST_KVM_STATE_NESTED_GUEST_MODE)) ||
	    (!gif && !ctx->svme))
		return NEST_E_FORMAT;
	if (k.flags & NEST_KVM_STATE_NESTED_GUEST_MODE) {
		if (!ctx->svme || !nest__svm_state_pa_ok(ctx, k.vmcb_pa))
			return NEST_E_FORMAT;
		/* L2's state is vmcb02's, which KVM's format leaves to the
		 * vCPU's registers; and the vmcb02 merge is not reachable
		 * from here (docs/state.md). */
		return NEST_E_UNSUPPORTED;
	}
	/* Outside guest mode KVM reports the last vmcb12 address: unused. */
	nest__svm_take_l1_state(ctx, vmcb01, ctx->svme, gif);
	return NEST_OK;
}
