/* SPDX-License-Identifier: MIT */
/**
 * @file state.h
 * @brief Save and restore of nested state (own format and KVM's).
 *
 * A nested vCPU is saved into a byte stream of libnest's own format and
 * restored from it, on the same or another L0, so a nested guest can be
 * snapshotted and migrated. The format is described field by field in
 * docs/state.md: a struct nest_state_header, then an architecture's body,
 * every integer little-endian, every offset fixed.
 *
 * A stream is untrusted input. Restore checks every field before it
 * changes anything: on any error the context is left as it was, and the
 * status says why (NEST_E_FORMAT for a malformed stream, NEST_E_STATE when
 * the context cannot take it, NEST_E_UNSUPPORTED for what this build
 * cannot represent). The context's previous nested state is discarded
 * without any access to L1 memory.
 *
 * What the stream does not hold: L1's own registers and vmcs01/vmcb01
 * (L0 saves them as for any guest), L1 memory (which holds L1's VMCS
 * regions, bitmaps and page tables), L0's configuration (nest_vmx_set_l0(),
 * the backend, the capabilities: restore into a context initialised with
 * the same configuration).
 */
#ifndef NEST_STATE_H
#define NEST_STATE_H

#include <nest/base.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nest_vmx;
struct nest_svm;
struct nest_vmcb;

/** Magic number of a libnest state stream: the bytes "NSTS". */
#define NEST_STATE_MAGIC 0x5354534eu
/** Version of the format this library writes and reads. */
#define NEST_STATE_VERSION 1u
/** nest_state_header::arch of a VMX stream. */
#define NEST_STATE_ARCH_VMX 1u
/** nest_state_header::arch of an SVM stream. */
#define NEST_STATE_ARCH_SVM 2u

/** @name VMX stream flags (nest_state_header::flags)
 * @{ */
/** L1 is in VMX operation (after VMXON). */
#define NEST_STATE_VMX_F_VMXON (1u << 0)
/** L1 has a current VMCS; the body holds its vmcs12 image. */
#define NEST_STATE_VMX_F_CURRENT_VMCS (1u << 1)
/** L2 runs (guest mode): the body holds what the exit back to L1 needs. */
#define NEST_STATE_VMX_F_GUEST_MODE (1u << 2)
/** vmcs02 runs a VMX-preemption timer (guest mode only). */
#define NEST_STATE_VMX_F_TIMER_ACTIVE (1u << 3)
/** vmcs02's timer value was L1's, not L0's (guest mode only). */
#define NEST_STATE_VMX_F_L1_TIMER (1u << 4)
/** Every VMX flag this version knows. */
#define NEST_STATE_VMX_F_ALL 0x1fu
/** @} */

/** @name SVM stream flags (nest_state_header::flags)
 * @{ */
/** L1's EFER.SVME is set (as L1 sees it). */
#define NEST_STATE_SVM_F_SVME (1u << 0)
/** The global interrupt flag is set. */
#define NEST_STATE_SVM_F_GIF (1u << 1)
/** L2 runs (guest mode): the body holds vmcb12, L2's state and L1's host state. */
#define NEST_STATE_SVM_F_GUEST_MODE (1u << 2)
/** Every SVM flag this version knows. */
#define NEST_STATE_SVM_F_ALL 0x7u
/** @} */

/**
 * @brief The first 24 bytes of every libnest state stream.
 *
 * IMPORTANT: layout. A wire format (little-endian, offsets asserted in
 * the library): magic at 0, version at 4, arch at 6, size at 8, flags at
 * 12, reserved at 16.
 */
struct nest_state_header {
	uint32_t magic;	   ///< NEST_STATE_MAGIC
	uint16_t version;  ///< NEST_STATE_VERSION
	uint16_t arch;	   ///< NEST_STATE_ARCH_VMX or NEST_STATE_ARCH_SVM
	uint32_t size;	   ///< total size of the stream in bytes, header included
	uint32_t flags;	   ///< NEST_STATE_VMX_F_* or NEST_STATE_SVM_F_*
	uint64_t reserved; ///< zero
};

/**
 * @brief Bytes a VMX state stream takes (the same for every state).
 * @return The size nest_vmx_save_state() writes.
 */
NEST_API size_t nest_vmx_state_size(void);

/**
 * @brief Save a VMX context's nested state into libnest's format.
 *
 * Outside guest mode, the cached vmcs12 is first brought up to date (the
 * rarely read guest fields from vmcs02, L1's writes to a shadow VMCS).
 * In guest mode, L2's guest state is read from vmcs02 into the saved copy
 * of vmcs12, as a VM exit would save it (the context itself keeps its
 * vmcs12); vmcs02's pending event and timer are saved beside it.
 *
 * @param ctx A context from nest_vmx_init().
 * @param buf Where to write the stream.
 * @param len Bytes available at @p buf.
 * @param written Receives the bytes written (nest_vmx_state_size()); may be NULL.
 * @return NEST_OK; NEST_E_INVAL for bad arguments; NEST_E_NOSPC when @p len
 *         is below nest_vmx_state_size(); a backend status if vmcs02 or the
 *         shadow VMCS cannot be read.
 */
NEST_API int nest_vmx_save_state(struct nest_vmx *ctx, void *buf, size_t len, size_t *written);

/**
 * @brief Restore a VMX context's nested state from libnest's format.
 *
 * Every field is checked first (docs/state.md lists the rules; in guest
 * mode vmcs12 must pass libnest's VM-entry checks). Then the state
 * replaces the context's: with a current VMCS and VMCS shadowing, the
 * shadow VMCS is loaded; in guest mode vmcs02 is rebuilt in full (L1's
 * bitmaps fetched again, every field written, VPID02 flushed), so L0 may
 * run L2 at once. nest_vmx_set_l0() must have been called first for a
 * stream in guest mode.
 *
 * @param ctx A context from nest_vmx_init(), with the configuration of the
 *        saved one.
 * @param buf The stream.
 * @param len Bytes at @p buf (at least the header's size).
 * @return NEST_OK; NEST_E_INVAL for bad arguments; NEST_E_FORMAT for a
 *         malformed or inconsistent stream; NEST_E_STATE when the context
 *         cannot take it (VMX not allowed, guest mode without
 *         nest_vmx_set_l0()); NEST_E_UNSUPPORTED for a newer vmcs12 image;
 *         NEST_E_NOT_MAPPED when L0 does not map an L1 page vmcs02 names
 *         (virtual-APIC, APIC-access). In these cases the context is
 *         unchanged. A backend status if
 *         vmcs02 cannot be rebuilt: the context then holds the restored
 *         state outside guest mode (L2's state in vmcs12).
 */
NEST_API int nest_vmx_restore_state(struct nest_vmx *ctx, const void *buf, size_t len);

/**
 * @brief Bytes an SVM state stream takes (the same for every state).
 * @return The size nest_svm_save_state() writes.
 */
NEST_API size_t nest_svm_state_size(void);

/**
 * @brief Save an SVM context's nested state into libnest's format.
 *
 * In guest mode the stream holds the cached vmcb12 (as VMRUN read it),
 * vmcb02 (L2's current state) and L1's host state saved at VMRUN.
 *
 * @param ctx A context from nest_svm_init().
 * @param vmcb01 L1's VMCB: GIF is read from its V_GIF bit under
 *        NEST_SVM_CFG_L0_VGIF outside guest mode; may be NULL otherwise.
 * @param buf Where to write the stream.
 * @param len Bytes available at @p buf.
 * @param written Receives the bytes written (nest_svm_state_size()); may be NULL.
 * @return NEST_OK; NEST_E_INVAL for bad arguments; NEST_E_NOSPC when @p len
 *         is below nest_svm_state_size().
 */
NEST_API int nest_svm_save_state(const struct nest_svm *ctx, const struct nest_vmcb *vmcb01,
				 void *buf, size_t len, size_t *written);

/**
 * @brief Restore an SVM context's nested state from libnest's format.
 *
 * Every field is checked first (docs/state.md lists the rules; in guest
 * mode vmcb12 must pass libnest's VMRUN consistency checks).
 *
 * @param ctx A context from nest_svm_init(), with the configuration of the
 *        saved one.
 * @param vmcb01 L1's VMCB, restored by L0 first: under
 *        NEST_SVM_CFG_L0_VGIF its V_GIF bit receives GIF; in guest mode
 *        vmcb02 is built from it (required then); may be NULL otherwise.
 * @param buf The stream.
 * @param len Bytes at @p buf (at least the header's size).
 * @return NEST_OK; NEST_E_INVAL for bad arguments; NEST_E_FORMAT for a
 *         malformed or inconsistent stream (also one the context's
 *         configuration could not have produced); a backend status
 *         when rebuilding vmcb02 in guest mode fails (the context is then
 *         left outside guest mode, see docs/state.md). Otherwise, on error
 *         the context is unchanged. After a restore in guest mode L2 runs
 *         on vmcb02 (nest_svm_get_state() reports guest mode), rebuilt
 *         from the saved vmcb12 and L1's state as VMRUN builds it, with
 *         L2's own state from the stream.
 */
NEST_API int nest_svm_restore_state(struct nest_svm *ctx, struct nest_vmcb *vmcb01, const void *buf,
				    size_t len);

/** @name KVM's struct kvm_nested_state (Linux uapi asm/kvm.h), as bytes
 * The layout: flags (u16) at 0, format (u16) at 2, size (u32) at 4, a
 * 120-byte header union at 8, data at 128. VMX header: vmxon_pa (u64) at
 * 8, vmcs12_pa (u64) at 16, smm.flags (u16) at 24, pad (u16) at 26, flags
 * (u32) at 28, preemption_timer_deadline (u64) at 32. VMX data: vmcs12
 * (4096 bytes, KVM's layout) at 128, shadow_vmcs12 (4096 bytes) at 4224.
 * @{ */
/** Size of struct kvm_nested_state without data. */
#define NEST_KVM_NESTED_STATE_HDR_SIZE 128u
/** kvm_nested_state::format of a VMX state. */
#define NEST_KVM_STATE_NESTED_FORMAT_VMX 0u
/** kvm_nested_state::format of an SVM state. */
#define NEST_KVM_STATE_NESTED_FORMAT_SVM 1u
/** kvm_nested_state::flags: L2 runs. */
#define NEST_KVM_STATE_NESTED_GUEST_MODE 0x1u
/** kvm_nested_state::flags: VMLAUNCH/VMRESUME/VMRUN emulated, L2 not yet entered. */
#define NEST_KVM_STATE_NESTED_RUN_PENDING 0x2u
/** kvm_nested_state::flags: L1 uses Hyper-V's enlightened VMCS. */
#define NEST_KVM_STATE_NESTED_EVMCS 0x4u
/** kvm_nested_state::flags: a monitor-trap-flag exit is pending. */
#define NEST_KVM_STATE_NESTED_MTF_PENDING 0x8u
/** kvm_nested_state::flags: GIF is set (SVM). */
#define NEST_KVM_STATE_NESTED_GIF_SET 0x100u
/** Size of the vmcs12 and shadow-vmcs12 areas of the VMX data. */
#define NEST_KVM_STATE_NESTED_VMX_VMCS_SIZE 0x1000u
/** kvm_vmx_nested_state_hdr::flags: preemption_timer_deadline is valid. */
#define NEST_KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE 0x1u
/** Size of the vmcb12 area of the SVM data (at 128; hdr.svm.vmcb_pa, u64, at 8). */
#define NEST_KVM_STATE_NESTED_SVM_VMCB_SIZE 0x1000u
/** Revision identifier of KVM's vmcs12 layout (its first 31 bits). */
#define NEST_KVM_VMCS12_REVISION 0x11e57ed0u
/** @} */

/**
 * @brief Bytes nest_vmx_to_kvm_nested_state() may write at most.
 * @return The header and one vmcs12 area (4224).
 */
NEST_API size_t nest_vmx_kvm_state_size(void);

/**
 * @brief Export a VMX context's nested state as KVM's struct kvm_nested_state.
 *
 * The state is first brought up to date as nest_vmx_save_state() does;
 * vmcs12 is written in KVM's layout (the fields KVM's layout has, see
 * docs/state.md). No shadow vmcs12 is written, nor a preemption-timer
 * deadline: when vmcs12 enables VMCS shadowing with a link pointer, KVM's
 * format needs L1's shadow VMCS as a second vmcs12, which libnest does not
 * build (NEST_E_UNSUPPORTED; libnest's own format needs nothing: the
 * shadow VMCS is L1 memory).
 *
 * @param ctx A context from nest_vmx_init().
 * @param buf Where to write the state.
 * @param len Bytes available at @p buf.
 * @param written Receives the bytes written (128, or 4224 with a current
 *        VMCS); may be NULL.
 * @return NEST_OK; NEST_E_INVAL; NEST_E_NOSPC when @p len is too small;
 *         NEST_E_STATE in guest mode while vmcs02 holds an event to
 *         deliver to L2 (KVM's format has no place for it: export after L2
 *         ran again); NEST_E_UNSUPPORTED when L1's vmcs12 uses VMCS
 *         shadowing (above); a backend status.
 */
NEST_API int nest_vmx_to_kvm_nested_state(struct nest_vmx *ctx, void *buf, size_t len,
					  size_t *written);

/**
 * @brief Import a VMX context's nested state from KVM's struct kvm_nested_state.
 *
 * Every field is checked before the context changes, then the state is
 * taken as nest_vmx_restore_state() takes libnest's own. What KVM's format
 * lacks comes from the destination: IA32_FEATURE_CONTROL from the context
 * (L0 restores that MSR first) and, in guest mode, L1's state at its
 * VMLAUNCH/VMRESUME from vmcs01's guest-state fields (L0 restores vmcs01
 * first).
 *
 * @param ctx A context from nest_vmx_init().
 * @param buf The state.
 * @param len Bytes at @p buf.
 * @return NEST_OK; NEST_E_INVAL; NEST_E_FORMAT for a malformed or
 *         inconsistent state; NEST_E_UNSUPPORTED for what libnest cannot
 *         represent (enlightened VMCS, SMM, a pending run, a pending MTF
 *         exit, a shadow vmcs12); the other statuses of
 *         nest_vmx_restore_state(). On these errors the context is unchanged.
 */
NEST_API int nest_vmx_from_kvm_nested_state(struct nest_vmx *ctx, const void *buf, size_t len);

/**
 * @brief Bytes nest_svm_to_kvm_nested_state() may write at most.
 * @return The header and the vmcb12 area (4224).
 */
NEST_API size_t nest_svm_kvm_state_size(void);

/**
 * @brief Export an SVM context's nested state as KVM's struct kvm_nested_state.
 *
 * Format 1: GIF_SET as L1's GIF; in guest mode GUEST_MODE, hdr.svm.vmcb_pa
 * and data.svm.vmcb12 holding vmcb12's control area as VMRUN read it and
 * L1's host state saved at VMRUN in the state-save area (as KVM keeps it).
 * L2's own state is vmcb02's (nest_svm_vmcb02()), which L0 saves.
 *
 * @param ctx A context from nest_svm_init().
 * @param vmcb01 L1's VMCB (GIF under NEST_SVM_CFG_L0_VGIF); may be NULL otherwise.
 * @param buf Where to write the state.
 * @param len Bytes available at @p buf (nest_svm_kvm_state_size()).
 * @param written Receives the bytes written (128, or 4224 in guest mode); may be NULL.
 * @return NEST_OK; NEST_E_INVAL; NEST_E_NOSPC.
 */
NEST_API int nest_svm_to_kvm_nested_state(const struct nest_svm *ctx,
					  const struct nest_vmcb *vmcb01, void *buf, size_t len,
					  size_t *written);

/**
 * @brief Import an SVM context's nested state from KVM's struct kvm_nested_state.
 *
 * Outside guest mode the state is GIF (EFER.SVME, VM_HSAVE_PA, VM_CR and
 * TSC_RATIO are MSRs L0 restores first through nest_svm_wrmsr()). In guest
 * mode KVM's format carries vmcb12's controls and L1's state saved at
 * VMRUN, not L2's registers: as KVM takes them from the vCPU's state, the
 * caller loads them (L2's) into @p vmcb01's save area before the call.
 * Both states are checked with vmcb12's controls as VMRUN checks them
 * (docs/state.md); vmcb02 is then built as VMRUN builds it, L2 running
 * on the given registers, and @p vmcb01 receives L1's saved state.
 *
 * @param ctx A context from nest_svm_init().
 * @param vmcb01 L1's VMCB: its V_GIF receives GIF under
 *        NEST_SVM_CFG_L0_VGIF; may be NULL otherwise outside guest mode.
 *        In guest mode it is required, its save area holding L2's registers.
 * @param buf The state.
 * @param len Bytes at @p buf.
 * @return NEST_OK; NEST_E_INVAL; NEST_E_FORMAT for a malformed or
 *         inconsistent state; NEST_E_UNSUPPORTED for a well-formed state in
 *         guest mode with RUN_PENDING or GIF clear; a backend error while
 *         building vmcb02 (the context is then outside guest mode). On any
 *         other error the context and @p vmcb01 are unchanged.
 */
NEST_API int nest_svm_from_kvm_nested_state(struct nest_svm *ctx, struct nest_vmcb *vmcb01,
					    const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* NEST_STATE_H */
