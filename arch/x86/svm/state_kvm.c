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

/*
 * Guest mode in KVM's format: vmcb12's control area and L1's state saved
 * at VMRUN (the save area of the data, in KVM a copy of vmcb01's); L2's
 * own registers are not in it. As KVM takes them from the vCPU's current
 * registers, the import takes them from vmcb01's save area, where the
 * caller has loaded the vCPU's state (L2's) before the call. Both states
 * pass the consistency checks VMRUN applies (APM 15.5.1) under vmcb12's
 * controls; L1's also needs what VMRUN needs of its caller: EFER.SVME,
 * protected mode with paging (KVM refuses a saved state without PG, and
 * its VMRUN needs it), no virtual-8086 mode.
 */
static int check_kvm_guest_mode(const struct nest_svm *ctx, const struct nest_vmcb *vmcb01,
				const uint8_t *data, uint64_t vmcb12_pa)
{
	struct nest_vmcb v;
	struct nest_svm_caps caps;
	struct nest_svm_diag diag;

	if (!nest__svm_state_pa_ok(ctx, vmcb12_pa))
		return NEST_E_FORMAT;
	nest__memcpy(&v, data, sizeof(v));
	if (!(v.save.efer & X86_EFER_SVME) || !(v.save.cr0 & X86_CR0_PE) ||
	    !(v.save.cr0 & X86_CR0_PG) || (v.save.rflags & X86_RFLAGS_VM))
		return NEST_E_FORMAT;
	nest__svm_caps_of(ctx, &caps);
	nest__memset(&diag, 0, sizeof(diag));
	if (nest__svm_check(&v, &caps, &diag) != NEST_SVM_CHECK_OK)
		return NEST_E_FORMAT;
	nest__memcpy(&v.save, &vmcb01->save, sizeof(v.save));
	if (nest__svm_check(&v, &caps, &diag) != NEST_SVM_CHECK_OK)
		return NEST_E_FORMAT;
	return NEST_OK;
}

/* Into guest mode from checked data: vmcb12 (control from the data, save
 * area L2's current state), L1's saved state, vmcb02 built as VMRUN builds
 * it; then vmcb01 holds L1's state at VMRUN, as after a VMRUN. */
static int take_kvm_guest_mode(struct nest_svm *ctx, struct nest_vmcb *vmcb01, const uint8_t *data,
			       uint64_t vmcb12_pa)
{
	const struct nest_vmcb *d = (const struct nest_vmcb *)(const void *)data;
	struct nest_vmcb_save *s1 = &vmcb01->save;
	int rc;

	nest__svm_take_l1_state(ctx, vmcb01, true, true);
	ctx->vmcb12_pa = vmcb12_pa;
	nest__memcpy(&ctx->vmcb12.control, &d->control, sizeof(ctx->vmcb12.control));
	nest__memcpy(&ctx->vmcb12.save, s1, sizeof(ctx->vmcb12.save));
#define KVM_TAKE_HOST(f) nest__memcpy(&ctx->host.f, &d->save.f, sizeof(ctx->host.f));
	SVM_HOST_FIELDS(KVM_TAKE_HOST)
#undef KVM_TAKE_HOST
	rc = nest__svm_build_vmcb02(ctx, vmcb01);
	if (rc != NEST_OK)
		return rc;
#define KVM_L1_BACK(f) nest__memcpy(&s1->f, &ctx->host.f, sizeof(s1->f));
	SVM_HOST_FIELDS(KVM_L1_BACK)
#undef KVM_L1_BACK
	s1->cpl = 0;
	ctx->guest_mode = true;
	ctx->gif = true;
	return NEST_OK;
}

NEST_API int nest_svm_from_kvm_nested_state(struct nest_svm *ctx, struct nest_vmcb *vmcb01,
					    const void *buf, size_t len)
{
	const uint8_t *b = buf;
	struct kvm_svm_wire k;
	size_t need = NEST_KVM_NESTED_STATE_HDR_SIZE;
	bool gif, svme_before;
	int rc;

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
	/* A pending run belongs to guest mode. */
	if ((k.flags & NEST_KVM_STATE_NESTED_RUN_PENDING) &&
	    !(k.flags & NEST_KVM_STATE_NESTED_GUEST_MODE))
		return NEST_E_FORMAT;
	if (!(k.flags & NEST_KVM_STATE_NESTED_GUEST_MODE)) {
		/* GIF clear needs EFER.SVME (CLGI #UDs without it), which L0
		 * restores as an MSR first. KVM reports the last vmcb12
		 * address outside guest mode: unused. */
		if (!gif && !ctx->svme)
			return NEST_E_FORMAT;
		nest__svm_take_l1_state(ctx, vmcb01, ctx->svme, gif);
		return NEST_OK;
	}
	if (vmcb01 == NULL)
		return NEST_E_INVAL; /* L2's registers, and vmcb02 is built from it */
	rc = check_kvm_guest_mode(ctx, vmcb01, b + NEST_KVM_NESTED_STATE_HDR_SIZE, k.vmcb_pa);
	if (rc != NEST_OK)
		return rc;
	/* A VMRUN KVM emulated but did not enter yet, and GIF cleared in L2
	 * (L2's CLGI): states libnest does not take from this format. */
	if ((k.flags & NEST_KVM_STATE_NESTED_RUN_PENDING) || !gif)
		return NEST_E_UNSUPPORTED;
	svme_before = ctx->svme;
	rc = take_kvm_guest_mode(ctx, vmcb01, b + NEST_KVM_NESTED_STATE_HDR_SIZE, k.vmcb_pa);
	if (rc != NEST_OK) {
		/* A backend failure (L1's maps, the NPT02 root): outside
		 * guest mode, L1's SVM state as before, vmcb01 untouched. */
		nest__svm_take_l1_state(ctx, vmcb01, svme_before, true);
		return rc;
	}
	return NEST_OK;
}
