/* SPDX-License-Identifier: MIT */
/*
 * The VMX state stream's layout and its save/restore core, shared by
 * libnest's own format (state.c) and KVM's (state_kvm.c).
 */
#ifndef NEST_VMX_STATE_INTERNAL_H
#define NEST_VMX_STATE_INTERNAL_H

#include <nest/state.h>

#include "vmx/context.h"

/* IMPORTANT: layout. The body of a VMX stream, after the header; then the
 * vmcs12 image of image_size bytes. Every field at a fixed offset. */
struct nest__vmx_state_wire {
	struct nest_state_header hdr;
	uint64_t vmxon_ptr;
	uint64_t current_vmptr;
	uint64_t feature_control;
	/* guest mode: L1's state at its VMLAUNCH/VMRESUME */
	uint64_t l1_cr0, l1_cr4, l1_efer, l1_pat, l1_debugctl, l1_dr7, l1_intr;
	/* guest mode: vmcs02's preemption timer and pending event */
	uint32_t timer_start;
	uint32_t timer_now;
	uint32_t event_info;
	uint32_t event_error;
	uint32_t event_len;
	uint32_t image_size;
};

/* Fill the body and the vmcs12 image of the current state (see
 * nest_vmx_save_state()). */
int nest__vmx_state_save(struct nest_vmx *ctx, struct nest__vmx_state_wire *w,
			 struct nest__vmcs12 *img);

/* Check a body and image (copied into L0 memory) against the context and
 * take them (see nest_vmx_restore_state()). `len` is the bytes the caller
 * had: the body's size must not exceed it. */
int nest__vmx_state_restore(struct nest_vmx *ctx, const struct nest__vmx_state_wire *w,
			    const struct nest__vmcs12 *v, size_t len);

#endif /* NEST_VMX_STATE_INTERNAL_H */
