/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness of nest_vmx_restore_state() and
 * nest_svm_restore_state(): a valid stream (outside VMX/SVM operation, L1
 * in root operation, L2 running), or the input itself, is mutated by the
 * input and restored into a fresh context.
 *
 * Input: byte 0 selects the architecture (bit 0: SVM), the seed (bits
 * 2:1: outside, root, guest mode, raw input) and a truncation (bit 3: the
 * length is cut to byte 1 * 37; bit 4: KVM's struct kvm_nested_state
 * instead of libnest's format); then records of three bytes XOR a byte of
 * the stream at a 16-bit offset.
 *
 * Oracle: a rejected stream leaves the context byte for byte as it was; an
 * accepted one leaves the context's invariants (context.h) true and saves
 * back to the same bytes (same build, full image). In guest mode a save
 * reads L2's state from vmcs02, which holds what the entry loaded: there a
 * second restore and save must give the bytes of the first save.
 *
 * After every accepted restore into guest mode (issue #13): the rebuilt
 * vmcs02 passes libnest's VM-entry checks as the processor would apply
 * them to it (the host's capabilities: controls, host state, guest state,
 * the pending event), its hardware MSR lists are empty and its MSR bitmap
 * intercepts every x2APIC access it does not virtualize; the rebuilt
 * vmcb02 passes every VMRUN consistency check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nest/nest.h>

#include "sim.h"
#include "vmx/context.h"

#include "test_vmx_entry_baseline.h"
#include "sim_vmx.h"
#include "sim_svm.h"

#define MEM_SIZE (256u * 1024u)
#define VMXON_GPA 0x1000ull
#define VMCS_GPA 0x2000ull
#define PTR_GPA 0x100ull
#define RBX 3u
#define RECORD 3u
#define TRUNC_UNIT 37u

#define SEL_SVM 0x1u
#define SEL_SEED_SHIFT 1
#define SEL_SEED_MASK 0x3u
#define SEL_TRUNC 0x8u
#define SEL_KVM 0x10u
#define SEED_OUTSIDE 0u
#define SEED_ROOT 1u
#define SEED_GUEST 2u
#define SEED_RAW 3u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz_state"
#include "invariant.h"
#include "oracle_vmx.h"

static uint8_t stream[16384], again[16384];

/* Mutate the seed with the input's records; returns the length to restore. */
static size_t mutate(size_t len, const uint8_t *data, size_t size, size_t cap)
{
	size_t i;

	if ((data[0] >> SEL_SEED_SHIFT & SEL_SEED_MASK) == SEED_RAW) {
		len = size - 1 < cap ? size - 1 : cap;
		memcpy(stream, data + 1, len);
		return len;
	}
	for (i = 2; i + RECORD <= size; i += RECORD) {
		size_t off = ((size_t)data[i] | (size_t)data[i + 1] << 8) % len;

		stream[off] ^= data[i + 2];
	}
	if ((data[0] & SEL_TRUNC) && size > 1 && (size_t)data[1] * TRUNC_UNIT < len)
		len = (size_t)data[1] * TRUNC_UNIT;
	return len;
}

/* ---- VMX ---- */

static int l1_exec(struct sim *s, struct nest_vmx *ctx, uint32_t reason, uint64_t m64)
{
	struct nest_vmx_l1_regs regs;
	struct nest_vmx_exit e;
	struct nest_vmx_action a;

	sim_vmx_regs64(&regs);
	sim_write64(s, PTR_GPA, m64);
	regs.gpr[RBX] = PTR_GPA;
	sim_vmx_exit(&e, reason,
		     reason == NEST_VMX_EXIT_VMLAUNCH
			 ? 0
			 : sim_vmx_info_mem(NEST_VMX_SEG_DS, RBX, SIM_NO_REG, 0, SIM_ADDR64),
		     0);
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	if (nest_vmx_l1_exit(ctx, &e, &regs, &a) != NEST_OK)
		return -1;
	return (int)a.kind;
}

static struct nest_vmx *vmx_ctx(struct sim *s, void *mem, const struct fx *base)
{
	struct nest_vmx_caps host;
	struct nest_vmx_config c;
	struct nest_vmx_l0 l0;
	struct nest_vmx *ctx;

	unsigned i;

	sim_vmx_host_caps(&host);
	sim_vmx_config(&c, &host);
	if (nest_vmx_init(mem, nest_vmx_size(), sim_backend(s), &c, &ctx) != NEST_OK)
		abort();
	/* L0's host state in vmcs01 is a valid one (vmcs02 takes it). */
	for (i = 0; i < nest_vmcs_field_count(); i++) {
		const struct nest_vmcs_field *f = nest_vmcs_field_at(i);
		uint64_t v;

		if (f->type == NEST_VMCS_T_HOST && nest__vmcs12_read(&base->v, f->encoding, &v))
			sim_vmcs_set(s, NEST_VMCS01, f->encoding, v);
	}
	memset(&l0, 0, sizeof(l0));
	l0.size = sizeof(l0);
	l0.exit_ctls = NEST_VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE;
	l0.vpid02 = 5;
	if (nest_vmx_set_l0(ctx, &l0) != NEST_OK)
		abort();
	ctx->caps = base->caps;
	fuzz_caps_within_host(&ctx->caps, &host);
	return ctx;
}

/* Issue #13: the vmcs02 a guest-mode restore rebuilt is one the
 * processor enters. */
static void vmx_vmcs02_oracles(struct sim *s, const struct nest_vmx *ctx)
{
	const struct nest__vmcs12 *v02 = &ctx->nested.vmcs02_cache;
	struct nest_vmx_caps host;

	if (!ctx->nested.guest_mode)
		return;
	sim_vmx_host_caps(&host);
	oracle_vmcs02_msr_lists(v02);
	oracle_msr_bitmap(sim_pool_hva(s, v02->MSR_BITMAP),
			  (v02->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_ACTIVATE_SECONDARY)
			      ? v02->SECONDARY_VM_EXEC_CONTROL
			      : 0,
			  NULL, ctx->nested.l1_bm.msr_valid ? ctx->nested.l1_bm.msr : NULL);
	oracle_vmcs02_enterable(v02, &host);
}

static void vmx_invariants(const struct nest_vmx *ctx)
{
	if (!ctx->vmxon)
		CHECK(ctx->vmxon_ptr == NEST_VMX_INVALID_VMPTR &&
		      ctx->current_vmptr == NEST_VMX_INVALID_VMPTR);
	if (ctx->current_vmptr != NEST_VMX_INVALID_VMPTR) {
		CHECK((ctx->current_vmptr & 0xfff) == 0 && ctx->current_vmptr != ctx->vmxon_ptr);
		CHECK(ctx->vmcs12.launch_state <= NEST_VMCS12_STATE_LAUNCHED);
	}
	if (ctx->nested.guest_mode)
		CHECK(ctx->vmxon && ctx->current_vmptr != NEST_VMX_INVALID_VMPTR);
}

static void fuzz_vmx(const uint8_t *data, size_t size)
{
	unsigned seed = data[0] >> SEL_SEED_SHIFT & SEL_SEED_MASK;
	size_t n = nest_vmx_size(), len, written = 0;
	void *mem = aligned_alloc(64, (n + 63) & ~(size_t)63);
	void *mem2 = aligned_alloc(64, (n + 63) & ~(size_t)63);
	uint8_t *before = malloc(n);
	struct sim s;
	struct fx base;
	struct nest_vmx *src, *dst;
	uint32_t rev, image_size, flags;
	int rc;

	if (!mem || !mem2 || !before || sim_init(&s, MEM_SIZE, 16) != 0)
		abort();
	fx_init(&base);
	sim_vmx_region(&s, VMXON_GPA, NEST_VMCS12_REVISION);
	sim_vmx_region(&s, VMCS_GPA, NEST_VMCS12_REVISION);
	sim_vmcs_set(&s, NEST_VMCS01, NEST_VMCS_GUEST_CR0, FX_CR0);
	sim_vmcs_set(&s, NEST_VMCS01, NEST_VMCS_GUEST_CR4, FX_CR4);
	sim_vmcs_set(&s, NEST_VMCS01, NEST_VMCS_GUEST_IA32_EFER, FX_EFER);
	src = vmx_ctx(&s, mem, &base);
	if (seed == SEED_ROOT || seed == SEED_GUEST) {
		if (l1_exec(&s, src, NEST_VMX_EXIT_VMXON, VMXON_GPA) != NEST_VMX_ACT_RESUME_L1 ||
		    l1_exec(&s, src, NEST_VMX_EXIT_VMPTRLD, VMCS_GPA) != NEST_VMX_ACT_RESUME_L1)
			abort();
		rev = src->vmcs12.revision;
		src->vmcs12 = base.v;
		src->vmcs12.revision = rev;
		src->vmcs12.launch_state = NEST_VMCS12_STATE_CLEAR;
		src->vmcs12.SECONDARY_VM_EXEC_CONTROL &=
		    ~(NEST_VMX_PROC2_ENABLE_EPT | NEST_VMX_PROC2_UNRESTRICTED_GUEST);
		src->vmcs12.EPT_POINTER = 0;
		if (seed == SEED_GUEST &&
		    l1_exec(&s, src, NEST_VMX_EXIT_VMLAUNCH, 0) != NEST_VMX_ACT_ENTER_L2)
			abort();
	}
	if (data[0] & SEL_KVM) {
		if (nest_vmx_to_kvm_nested_state(src, stream, sizeof(stream), &written) != NEST_OK)
			abort();
		len = mutate(written, data, size, sizeof(stream));
		dst = vmx_ctx(&s, mem2, &base);
		dst->feature_control = src->feature_control;
		memcpy(before, dst, n);
		rc = nest_vmx_from_kvm_nested_state(dst, stream, len);
		if (rc != NEST_OK) {
			CHECK(memcmp(before, dst, n) == 0 || rc == NEST_E_BACKEND ||
			      rc == NEST_E_NOMEM);
		} else {
			vmx_invariants(dst);
			vmx_vmcs02_oracles(&s, dst);
			CHECK(nest_vmx_save_state(dst, again, sizeof(again), &written) == NEST_OK);
		}
		goto out;
	}
	if (nest_vmx_save_state(src, stream, sizeof(stream), &written) != NEST_OK)
		abort();
	len = mutate(written, data, size, sizeof(stream));

	dst = vmx_ctx(&s, mem2, &base);
	memcpy(before, dst, n);
	rc = nest_vmx_restore_state(dst, stream, len);
	if (rc != NEST_OK) {
		CHECK(memcmp(before, dst, n) == 0 || rc == NEST_E_BACKEND || rc == NEST_E_NOMEM);
	} else {
		vmx_invariants(dst);
		vmx_vmcs02_oracles(&s, dst);
		memcpy(&image_size, stream + 124, sizeof(image_size));
		memcpy(&flags, stream + 12, sizeof(flags));
		CHECK(nest_vmx_save_state(dst, again, sizeof(again), &written) == NEST_OK);
		if (!(flags & NEST_STATE_VMX_F_GUEST_MODE)) {
			if (image_size == sizeof(struct nest__vmcs12))
				CHECK(memcmp(stream, again, written) == 0);
		} else {
			/* In guest mode vmcs12 fields that the entry does not
			 * load into vmcs02 (their VM-entry control is 0) take
			 * vmcs02's value at the save, as at an exit: one round
			 * normalises the stream, the next changes nothing. */
			memcpy(stream, again, written);
			CHECK(nest_vmx_restore_state(dst, stream, written) == NEST_OK);
			vmx_invariants(dst);
			CHECK(nest_vmx_save_state(dst, again, sizeof(again), &written) == NEST_OK);
			CHECK(memcmp(stream, again, written) == 0);
		}
	}
out:
	sim_fini(&s);
	free(before);
	free(mem2);
	free(mem);
}

/* ---- SVM ---- */

static void fuzz_svm(const uint8_t *data, size_t size)
{
	unsigned seed = data[0] >> SEL_SEED_SHIFT & SEL_SEED_MASK;
	struct sim_svm *t = calloc(1, sizeof(*t)), *u = calloc(1, sizeof(*u));
	const uint32_t flags = NEST_SVM_CFG_SVM_ALLOWED | NEST_SVM_CFG_LONG_MODE;
	size_t n = nest_svm_size(), len, written = 0;
	uint8_t *before = malloc(n);
	struct nest_vmcb v12;
	uint64_t hw = 0;
	int rc;

	if (!t || !u || !before || sim_svm_init(t, NEST_SVM_F_SUPPORTED, flags, 0, NULL) != 0 ||
	    sim_svm_init(u, NEST_SVM_F_SUPPORTED, flags, 0, NULL) != 0)
		abort();
	t->act.size = sizeof(t->act);
	if (seed == SEED_OUTSIDE)
		nest_svm_wrmsr(t->ctx, X86_MSR_IA32_EFER, X86_EFER_LME | X86_EFER_LMA, &hw,
			       &t->act);
	if (seed == SEED_ROOT) {
		nest_svm_wrmsr(t->ctx, X86_MSR_VM_HSAVE_PA, SIM_SVM_HSAVE, &hw, &t->act);
		sim_svm_l1(t, NEST_SVM_EXIT_CLGI, 0);
	}
	if (seed == SEED_GUEST) {
		sim_svm_valid_vmcb12(&v12);
		if (sim_svm_vmrun(t, &v12) != NEST_OK)
			abort();
	}
	if (data[0] & SEL_KVM) {
		if (nest_svm_to_kvm_nested_state(t->ctx, t->vmcb01, stream, sizeof(stream),
						 &written) != NEST_OK)
			abort();
		len = mutate(written, data, size, sizeof(stream));
		memcpy(before, u->ctx, n);
		rc = nest_svm_from_kvm_nested_state(u->ctx, u->vmcb01, stream, len);
		if (rc != NEST_OK) {
			CHECK(memcmp(before, u->ctx, n) == 0);
		} else {
			uint16_t flags;

			memcpy(&flags, stream, sizeof(flags));
			CHECK(nest_svm_to_kvm_nested_state(u->ctx, u->vmcb01, again, sizeof(again),
							   &written) == NEST_OK);
			/* Guest mode taken is guest mode given back, with the
			 * controls and vmcb12 address it came with. */
			if (flags & NEST_KVM_STATE_NESTED_GUEST_MODE) {
				CHECK(written == NEST_KVM_NESTED_STATE_HDR_SIZE +
						     NEST_KVM_STATE_NESTED_SVM_VMCB_SIZE);
				CHECK(memcmp(again + 8, stream + 8, 8) == 0);
				CHECK(memcmp(again + NEST_KVM_NESTED_STATE_HDR_SIZE,
					     stream + NEST_KVM_NESTED_STATE_HDR_SIZE,
					     sizeof(struct nest_vmcb_control)) == 0);
			} else {
				CHECK(written == NEST_KVM_NESTED_STATE_HDR_SIZE);
			}
		}
		goto out;
	}
	if (nest_svm_save_state(t->ctx, t->vmcb01, stream, sizeof(stream), &written) != NEST_OK)
		abort();
	len = mutate(written, data, size, sizeof(stream));
	memcpy(before, u->ctx, n);
	rc = nest_svm_restore_state(u->ctx, u->vmcb01, stream, len);
	if (rc != NEST_OK) {
		CHECK(memcmp(before, u->ctx, n) == 0);
	} else {
		uint32_t flags;
		struct nest_svm_state st = {.size = sizeof(st)};

		/* Issue #13: a vmcb02 rebuilt in guest mode passes every VMRUN
		 * consistency check with the host's features. */
		CHECK(nest_svm_get_state(u->ctx, u->vmcb01, &st) == NEST_OK);
		if (st.guest_mode) {
			struct nest_svm_caps caps = {.size = sizeof(caps)};
			struct nest_svm_diag d;

			CHECK(nest_svm_get_caps(u->ctx, &caps) == NEST_OK);
			caps.features |= NEST_SVM_F_NP;
			memset(&d, 0, sizeof(d));
			CHECK(nest_svm_check_vmcb(u->vmcb02, &caps, &d) == NEST_OK);
			if (d.rule != NEST_SVM_CHECK_OK)
				fprintf(stderr, "fuzz_state: vmcb02 fails %s\n",
					nest_svm_check_name(d.rule));
			CHECK(d.rule == NEST_SVM_CHECK_OK);
		}
		CHECK(nest_svm_save_state(u->ctx, u->vmcb01, again, sizeof(again), &written) ==
		      NEST_OK);
		memcpy(&flags, stream + offsetof(struct nest_state_header, flags), sizeof(flags));
		if (!(flags & NEST_STATE_SVM_F_GUEST_MODE)) {
			CHECK(memcmp(stream, again, written) == 0);
		} else {
			/* In guest mode vmcb02's controls are rebuilt, not taken
			 * from the stream: a second restore and save give the
			 * bytes of the first save. */
			static uint8_t third[sizeof(again)];

			CHECK(nest_svm_restore_state(u->ctx, u->vmcb01, again, written) == NEST_OK);
			CHECK(nest_svm_save_state(u->ctx, u->vmcb01, third, sizeof(third),
						  &written) == NEST_OK);
			CHECK(memcmp(again, third, written) == 0);
		}
	}
out:
	sim_svm_fini(u);
	sim_svm_fini(t);
	free(before);
	free(u);
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & SEL_SVM)
		fuzz_svm(data, size);
	else
		fuzz_vmx(data, size);
	return 0;
}
