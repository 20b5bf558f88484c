/* SPDX-License-Identifier: MIT */
/*
 * Nested VMX state as KVM's struct kvm_nested_state (format 0): export
 * and import through libnest's own save/restore core (state.c), vmcs12
 * translated between libnest's image and KVM's layout with the table
 * kvm-vmcs12.def. The byte layout is described in nest/state.h and
 * docs/state.md; the import treats its input as hostile.
 */
#include <nest/state.h>

#include "vmx/context.h"
#include "vmx/state_internal.h"
#include "vmx/vmx_arch.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "KVM's state is little-endian on x86: this file assumes a little-endian host"
#endif

/* struct kvm_nested_state, VMX flavour (Linux uapi asm/kvm.h). */
struct kvm_vmx_wire {
	uint16_t flags;
	uint16_t format;
	uint32_t size;
	uint64_t vmxon_pa;
	uint64_t vmcs12_pa;
	uint16_t smm_flags;
	uint16_t pad;
	uint32_t vmx_flags;
	uint64_t preemption_timer_deadline;
	uint8_t hdr_rest[NEST_KVM_NESTED_STATE_HDR_SIZE - 40];
};

_Static_assert(offsetof(struct kvm_vmx_wire, format) == 2, "kvm.format");
_Static_assert(offsetof(struct kvm_vmx_wire, size) == 4, "kvm.size");
_Static_assert(offsetof(struct kvm_vmx_wire, vmxon_pa) == 8, "kvm.hdr.vmx.vmxon_pa");
_Static_assert(offsetof(struct kvm_vmx_wire, vmcs12_pa) == 16, "kvm.hdr.vmx.vmcs12_pa");
_Static_assert(offsetof(struct kvm_vmx_wire, smm_flags) == 24, "kvm.hdr.vmx.smm.flags");
_Static_assert(offsetof(struct kvm_vmx_wire, pad) == 26, "kvm.hdr.vmx.pad");
_Static_assert(offsetof(struct kvm_vmx_wire, vmx_flags) == 28, "kvm.hdr.vmx.flags");
_Static_assert(offsetof(struct kvm_vmx_wire, preemption_timer_deadline) == 32,
	       "kvm.hdr.vmx.preemption_timer_deadline");
_Static_assert(sizeof(struct kvm_vmx_wire) == NEST_KVM_NESTED_STATE_HDR_SIZE, "kvm header");

#define KVM_VMCS12_OFF_REVISION 0u
#define KVM_VMCS12_OFF_ABORT 4u
#define KVM_VMCS12_OFF_LAUNCH_STATE 8u
#define KVM_VMCS_SIZE NEST_KVM_STATE_NESTED_VMX_VMCS_SIZE
#define KVM_FLAGS_KNOWN                                                                            \
	(NEST_KVM_STATE_NESTED_GUEST_MODE | NEST_KVM_STATE_NESTED_RUN_PENDING |                    \
	 NEST_KVM_STATE_NESTED_EVMCS | NEST_KVM_STATE_NESTED_MTF_PENDING)
#define KVM_FLAGS_UNSUPPORTED                                                                      \
	(NEST_KVM_STATE_NESTED_RUN_PENDING | NEST_KVM_STATE_NESTED_EVMCS |                         \
	 NEST_KVM_STATE_NESTED_MTF_PENDING)

/* The table: libnest field position and KVM offset. */
static const struct {
	uint16_t index;
	uint16_t kvm_offset;
} kvm_fields[] = {
#define NEST_KVM_VMCS12_FIELD(name, off) {NEST__VF_##name, off},
#include "vmx/kvm-vmcs12.def"
#undef NEST_KVM_VMCS12_FIELD
};

/* Every KVM field lies inside KVM's 4 KiB area (checked at build time). */
#define NEST_KVM_VMCS12_FIELD(name, off)                                                           \
	_Static_assert((off) + sizeof(((struct nest__vmcs12 *)0)->name) <= KVM_VMCS_SIZE,          \
		       "KVM offset of " #name);
#include "vmx/kvm-vmcs12.def"
#undef NEST_KVM_VMCS12_FIELD

static void put32(uint8_t *p, uint32_t v)
{
	nest__memcpy(p, &v, sizeof(v));
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	nest__memcpy(&v, p, sizeof(v));
	return v;
}

NEST_API size_t nest_vmx_kvm_state_size(void)
{
	return NEST_KVM_NESTED_STATE_HDR_SIZE + KVM_VMCS_SIZE;
}

NEST_API int nest_vmx_to_kvm_nested_state(struct nest_vmx *ctx, void *buf, size_t len,
					  size_t *written)
{
	struct nest__vmx_state_wire w;
	struct nest__vmcs12 img;
	struct kvm_vmx_wire k;
	uint8_t *data = (uint8_t *)buf + NEST_KVM_NESTED_STATE_HDR_SIZE;
	size_t size = NEST_KVM_NESTED_STATE_HDR_SIZE, i;
	int rc;

	if (!nest__vmx_ctx_ok(ctx) || buf == NULL)
		return NEST_E_INVAL;
	if (len < nest_vmx_kvm_state_size())
		return NEST_E_NOSPC;
	rc = nest__vmx_state_save(ctx, &w, &img);
	if (rc != NEST_OK)
		return rc;
	if (w.event_info & NEST_VMX_INTR_INFO_VALID)
		return NEST_E_STATE;
	/* KVM's format then carries L1's shadow VMCS as a second vmcs12 and
	 * KVM requires it; libnest reads it from L1 memory and does not build
	 * that part (the import refuses it too). */
	if ((w.hdr.flags & NEST_STATE_VMX_F_CURRENT_VMCS) &&
	    (nest__vmcs12_proc2(&img) & NEST_VMX_PROC2_VMCS_SHADOWING) &&
	    img.VMCS_LINK_POINTER != UINT64_MAX)
		return NEST_E_UNSUPPORTED;
	nest__memset(&k, 0, sizeof(k));
	k.format = NEST_KVM_STATE_NESTED_FORMAT_VMX;
	k.vmxon_pa = w.vmxon_ptr;
	k.vmcs12_pa = w.current_vmptr;
	if (w.hdr.flags & NEST_STATE_VMX_F_GUEST_MODE)
		k.flags |= NEST_KVM_STATE_NESTED_GUEST_MODE;
	if (w.hdr.flags & NEST_STATE_VMX_F_CURRENT_VMCS) {
		size += KVM_VMCS_SIZE;
		nest__memset(data, 0, KVM_VMCS_SIZE);
		put32(data + KVM_VMCS12_OFF_REVISION,
		      NEST_KVM_VMCS12_REVISION | (img.revision & NEST_VMCS12_SHADOW_INDICATOR));
		put32(data + KVM_VMCS12_OFF_ABORT, img.abort);
		put32(data + KVM_VMCS12_OFF_LAUNCH_STATE, img.launch_state);
		for (i = 0; i < NEST_ARRAY_SIZE(kvm_fields); i++) {
			const struct nest_vmcs_field *f = &nest__vmcs_fields[kvm_fields[i].index];

			nest__memcpy(data + kvm_fields[i].kvm_offset,
				     (const uint8_t *)&img + f->offset,
				     nest_vmcs_width_bytes(f->width));
		}
	}
	k.size = (uint32_t)size;
	nest__memcpy(buf, &k, sizeof(k));
	if (written != NULL)
		*written = size;
	return NEST_OK;
}

/* L1's state at its VMLAUNCH/VMRESUME, which KVM's format does not carry:
 * vmcs01's guest-state fields, as the entry read them. */
static int read_l1_state(struct nest_vmx *ctx, struct nest__vmx_state_wire *w)
{
	static const uint32_t enc[] = {
	    NEST_VMCS_GUEST_CR0,
	    NEST_VMCS_GUEST_CR4,
	    NEST_VMCS_GUEST_IA32_EFER,
	    NEST_VMCS_GUEST_IA32_PAT,
	    NEST_VMCS_GUEST_IA32_DEBUGCTL,
	    NEST_VMCS_GUEST_DR7,
	    NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO,
	};
	uint64_t *dst[] = {&w->l1_cr0,	    &w->l1_cr4, &w->l1_efer, &w->l1_pat,
			   &w->l1_debugctl, &w->l1_dr7, &w->l1_intr};
	unsigned i;
	int rc;

	_Static_assert(NEST_ARRAY_SIZE(enc) == NEST_ARRAY_SIZE(dst), "one destination per field");
	for (i = 0; i < NEST_ARRAY_SIZE(enc); i++) {
		*dst[i] = 0;
		rc = nest__be_vmcs_read(&ctx->be, NEST_VMCS01, enc[i], dst[i]);
		if (rc != NEST_OK)
			return rc;
	}
	return NEST_OK;
}

NEST_API int nest_vmx_from_kvm_nested_state(struct nest_vmx *ctx, const void *buf, size_t len)
{
	const uint8_t *data = (const uint8_t *)buf + NEST_KVM_NESTED_STATE_HDR_SIZE;
	struct nest__vmx_state_wire w;
	struct nest__vmcs12 v;
	struct kvm_vmx_wire k;
	uint32_t rev;
	size_t i, need = NEST_KVM_NESTED_STATE_HDR_SIZE;
	int rc;

	if (!nest__vmx_ctx_ok(ctx) || buf == NULL)
		return NEST_E_INVAL;
	if (len < sizeof(k))
		return NEST_E_FORMAT;
	nest__memcpy(&k, buf, sizeof(k));
	if (k.format != NEST_KVM_STATE_NESTED_FORMAT_VMX || (k.flags & ~KVM_FLAGS_KNOWN) ||
	    k.pad != 0 || (k.vmx_flags & ~NEST_KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE))
		return NEST_E_FORMAT;
	for (i = 0; i < sizeof(k.hdr_rest); i++)
		if (k.hdr_rest[i] != 0)
			return NEST_E_FORMAT;
	if (!(k.flags & NEST_KVM_STATE_NESTED_GUEST_MODE) &&
	    ((k.vmx_flags & NEST_KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE) ||
	     k.preemption_timer_deadline != 0))
		return NEST_E_FORMAT;
	if (k.vmcs12_pa != NEST_VMX_INVALID_VMPTR)
		need += KVM_VMCS_SIZE;
	if (k.size < need || k.size > len)
		return NEST_E_FORMAT;
	if ((k.flags & KVM_FLAGS_UNSUPPORTED) || k.smm_flags != 0)
		return NEST_E_UNSUPPORTED;
	/* A shadow vmcs12 (L1 using VMCS shadowing) cannot be represented. */
	for (i = need; i < k.size; i++)
		if (((const uint8_t *)buf)[i] != 0)
			return NEST_E_UNSUPPORTED;

	nest__memset(&w, 0, sizeof(w));
	nest__memset(&v, 0, sizeof(v));
	nest__state_hdr_init(&w.hdr, NEST_STATE_ARCH_VMX, (uint32_t)nest_vmx_state_size());
	w.image_size = sizeof(v);
	w.vmxon_ptr = k.vmxon_pa;
	w.current_vmptr = k.vmcs12_pa;
	w.feature_control = ctx->feature_control;
	if (k.vmxon_pa != NEST_VMX_INVALID_VMPTR)
		w.hdr.flags |= NEST_STATE_VMX_F_VMXON;
	if (k.vmcs12_pa != NEST_VMX_INVALID_VMPTR) {
		w.hdr.flags |= NEST_STATE_VMX_F_CURRENT_VMCS;
		rev = get32(data + KVM_VMCS12_OFF_REVISION);
		if ((rev & ~NEST_VMCS12_SHADOW_INDICATOR) != NEST_KVM_VMCS12_REVISION)
			return NEST_E_FORMAT;
		v.revision = NEST_VMCS12_REVISION | (rev & NEST_VMCS12_SHADOW_INDICATOR);
		v.abort = get32(data + KVM_VMCS12_OFF_ABORT);
		v.launch_state = get32(data + KVM_VMCS12_OFF_LAUNCH_STATE);
		for (i = 0; i < NEST_ARRAY_SIZE(kvm_fields); i++) {
			const struct nest_vmcs_field *f = &nest__vmcs_fields[kvm_fields[i].index];

			nest__memcpy((uint8_t *)&v + f->offset, data + kvm_fields[i].kvm_offset,
				     nest_vmcs_width_bytes(f->width));
		}
	}
	if (k.flags & NEST_KVM_STATE_NESTED_GUEST_MODE) {
		w.hdr.flags |= NEST_STATE_VMX_F_GUEST_MODE;
		/* Without a pending run, the event vmcs12 injected was
		 * handed to the hardware at the entry (as in state.c). */
		v.VM_ENTRY_INTR_INFO_FIELD &= ~NEST_VMX_INTR_INFO_VALID;
		/* KVM marks vmcs12 launched at the first VM exit that follows
		 * (Linux 6.1's prepare_vmcs12()), not at the VMLAUNCH: guest
		 * mode with vmcs12 still clear is L2 entered by VMLAUNCH and
		 * not yet out. A VMLAUNCH that entered L2 has left the VMCS
		 * launched (SDM, VMLAUNCH's operation), as libnest keeps it. */
		if (v.launch_state == NEST_VMCS12_STATE_CLEAR)
			v.launch_state = NEST_VMCS12_STATE_LAUNCHED;
		rc = read_l1_state(ctx, &w);
		if (rc != NEST_OK)
			return rc;
	}
	return nest__vmx_state_restore(ctx, &w, &v, w.hdr.size);
}
