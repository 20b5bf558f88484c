/* SPDX-License-Identifier: MIT */
/*
 * Nested VM entry (L1's VMLAUNCH/VMRESUME) and the exits of L2, through
 * the backend: fetch what L1 controls once, run the entry checks, write
 * vmcs02's changed fields, decide each exit, reflect it into vmcs12 and
 * load L1's host state into vmcs01.
 *
 * Order of VMLAUNCH/VMRESUME (SDM 27.1-27.4, 31 VMLAUNCH/VMRESUME): #UD and
 * #GP checks, VMfailInvalid without a current VMCS, VMfail(26) under MOV-SS
 * blocking, VMfail(4)/(5) for the launch state, the checks of controls and
 * host state (VMfail 7/8), the guest-state checks and MSR loading (exit
 * reason 33/34 into L1).
 */
#include "vmx/nested.h"

#include <nest/tdp.h>

#include "cpu/x86.h"
#include "vmx/context.h"
#include "vmx/hwfields.h"
#include "vmx/entry.h"
#include "vmx/operand.h"
#include "vmx/vmx_arch.h"

#define CPL_MAX 3u
#define MSR_ENTRY_BYTES 16u
#define MSR_LIST_UNIT 512u /* SDM A.6: 512 * (N + 1) entries */
/* fetch_msr_area(): more entries than libnest keeps (NEST__VMX_MSR_AREA_MAX)
 * although the capabilities allow them. */
#define MSR_AREA_TOO_LARGE (-1)

/* Action flag: L0 loads the MSRs nest_vmx_pending_msrs() lists. */
#define ACT_F_MSRS NEST_VMX_ACT_F_MSRS

/* ---- backend helpers ---- */

static int vmcs_rd(struct nest_vmx *ctx, enum nest_vmcs_id id, uint32_t enc, uint64_t *v)
{
	*v = 0;
	return nest__be_vmcs_read(&ctx->be, id, enc, v);
}

static int field_value(const struct nest__vmcs12 *img, unsigned i, uint64_t *v)
{
	return nest__vmcs12_read(img, nest__vmcs_fields[i].encoding, v) ? NEST_OK : NEST_E_INVAL;
}

static uint64_t raw_field(const struct nest__vmcs12 *img, const struct nest_vmcs_field *f)
{
	const uint8_t *p = (const uint8_t *)img + f->offset;
	uint16_t w16;
	uint32_t w32;
	uint64_t w64;

	switch (f->width) {
	case NEST_VMCS_W16:
		nest__memcpy(&w16, p, sizeof(w16));
		return w16;
	case NEST_VMCS_W32:
		nest__memcpy(&w32, p, sizeof(w32));
		return w32;
	default:
		nest__memcpy(&w64, p, sizeof(w64));
		return w64;
	}
}

static bool field_differs(const struct nest__vmcs12 *a, const struct nest__vmcs12 *b, unsigned i)
{
	return raw_field(a, &nest__vmcs_fields[i]) != raw_field(b, &nest__vmcs_fields[i]);
}

/* Images are compared a 64-bit word at a time: every field is naturally
 * aligned (vmcs12.h), so it lies within one word. */
#define IMG_WORD 8u
#define IMG_WORDS (sizeof(struct nest__vmcs12) / IMG_WORD)
#define IMG_FIRST_WORD (offsetof(struct nest__vmcs12, VIRTUAL_PROCESSOR_ID) / IMG_WORD)
_Static_assert(sizeof(struct nest__vmcs12) % IMG_WORD == 0, "vmcs12 image is whole words");

static uint64_t img_word(const struct nest__vmcs12 *img, size_t w)
{
	uint64_t x;

	nest__memcpy(&x, (const uint8_t *)img + w * IMG_WORD, sizeof(x));
	return x;
}

static bool rare_field(unsigned i);

/* Write the fields of vmcs02 that differ from what the backend holds, in
 * field-table order; words that are equal are skipped whole. With
 * keep_rare, the rarely read guest fields L1 did not write keep vmcs02's
 * values (see rare_stale). */
static int write_vmcs02(struct nest_vmx *ctx, const struct nest__vmcs12 *img, bool keep_rare)
{
	struct nest__vmx_nested *n = &ctx->nested;
	unsigned i = 0;
	size_t w;
	uint64_t val;
	int rc;

	for (w = IMG_FIRST_WORD; w < IMG_WORDS; w++) {
		if (img_word(img, w) == img_word(&n->vmcs02_cache, w))
			continue;
		while (i < NEST__VF_COUNT && nest__vmcs_fields[i].offset < w * IMG_WORD)
			i++;
		for (; i < NEST__VF_COUNT && nest__vmcs_fields[i].offset < (w + 1) * IMG_WORD;
		     i++) {
			if (!nest__vmx_vmcs02_field(i) ||
			    !field_differs(img, &n->vmcs02_cache, i) ||
			    !nest__vmx_hw_field(&ctx->host, i))
				continue;
			if (keep_rare && rare_field(i) && !nest__vmx_fs_has(&n->dirty, i))
				continue;
			field_value(img, i, &val);
			rc = nest__be_vmcs_write(&ctx->be, NEST_VMCS02,
						 nest__vmcs_fields[i].encoding, val);
			if (rc != NEST_OK)
				return rc;
			nest__vmcs12_write(&n->vmcs02_cache, nest__vmcs_fields[i].encoding, val);
		}
	}
	return NEST_OK;
}

int nest__vmx_write_vmcs02(struct nest_vmx *ctx, const struct nest__vmcs12 *img)
{
	return write_vmcs02(ctx, img, false);
}

/* ---- the VMRESUME fast path ---- */

void nest__vmx_entry_force_full(struct nest_vmx *ctx, bool on)
{
	ctx->nested.fast.force_full = on;
	ctx->nested.fast.valid = false;
}

/* Which vmcs12 fields differ from the last successful entry's (`changed`,
 * by table position), and the check groups that read them; the snapshot
 * takes the new values. Fields are found by value, not by who wrote them,
 * so no writer of vmcs12 can be missed. */
static unsigned fast_diff(struct nest__vmx_nested *n, const struct nest__vmcs12 *v,
			  struct nest__vmx_fieldset *changed, bool *ctl_changed)
{
	struct nest__vmcs12 *s = &n->fast.v12;
	const size_t first = IMG_FIRST_WORD * IMG_WORD;
	unsigned groups = 0, i = 0;
	size_t w;

	nest__memset(changed, 0, sizeof(*changed));
	*ctl_changed = false;
	if (nest__memcmp((const uint8_t *)v + first, (const uint8_t *)s + first,
			 sizeof(*v) - first) == 0)
		return 0;
	for (w = IMG_FIRST_WORD; w < IMG_WORDS; w++) {
		uint64_t x = img_word(v, w);

		if (x == img_word(s, w))
			continue;
		nest__memcpy((uint8_t *)s + w * IMG_WORD, &x, sizeof(x));
		while (i < NEST__VF_COUNT && nest__vmcs_fields[i].offset < w * IMG_WORD)
			i++;
		/* Every field sharing the word counts as changed (a superset). */
		for (; i < NEST__VF_COUNT && nest__vmcs_fields[i].offset < (w + 1) * IMG_WORD;
		     i++) {
			nest__vmx_fs_set(changed, i);
			groups |= nest__vmx_check_groups_reading(i);
			if (nest__vmcs_fields[i].type == NEST_VMCS_T_CONTROL)
				*ctl_changed = true;
		}
	}
	return groups;
}

/* ---- hardware VMCS shadowing ---- */

static bool shadowing(const struct nest_vmx *ctx)
{
	return (ctx->nested.l0.pub.flags & NEST_VMX_L0_F_SHADOW_VMCS) != 0;
}

/* L1 wrote the shadow VMCS without exits: take its writable fields. */
static int shadow_to_vmcs12(struct nest_vmx *ctx)
{
	unsigned i;
	uint64_t val;
	int rc;

	for (i = 0; i < NEST__VF_COUNT; i++) {
		if (!(nest__vmcs_fields[i].flags & NEST_VMCS_F_SHADOW_WRITE) ||
		    !nest__vmx_hw_field(&ctx->host, i))
			continue;
		rc = vmcs_rd(ctx, NEST_VMCS_SHADOW, nest__vmcs_fields[i].encoding, &val);
		if (rc != NEST_OK)
			return rc;
		if (raw_field(&ctx->vmcs12, &nest__vmcs_fields[i]) != val)
			nest__vmx_fs_set(&ctx->nested.dirty, i);
		nest__vmcs12_write(&ctx->vmcs12, nest__vmcs_fields[i].encoding, val);
		nest__vmcs12_write(&ctx->nested.shadow_cache, nest__vmcs_fields[i].encoding, val);
	}
	return NEST_OK;
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
	unsigned i;
	uint64_t val;
	int rc;

	n->shadow_cached = false;
	for (i = 0; i < NEST__VF_COUNT; i++) {
		if (!(nest__vmcs_fields[i].flags & NEST_VMCS_F_SHADOW_READ) ||
		    !nest__vmx_hw_field(&ctx->host, i) ||
		    (cached && !field_differs(&ctx->vmcs12, &n->shadow_cache, i)))
			continue;
		field_value(&ctx->vmcs12, i, &val);
		rc = nest__be_vmcs_write(&ctx->be, NEST_VMCS_SHADOW, nest__vmcs_fields[i].encoding,
					 val);
		if (rc != NEST_OK)
			return rc;
		nest__vmcs12_write(&n->shadow_cache, nest__vmcs_fields[i].encoding, val);
	}
	n->shadow_cached = true;
	return NEST_OK;
}

/* The current VMCS stops being current (VMCLEAR, VMPTRLD of another,
 * VMXOFF): what L1 wrote through the shadow goes into vmcs12 first. */
void nest__vmx_shadow_release(struct nest_vmx *ctx)
{
	nest__vmx_sync_rare(ctx);
	nest__memset(&ctx->nested.dirty, 0, sizeof(ctx->nested.dirty));
	if (shadowing(ctx) && ctx->nested.shadow_loaded && shadow_to_vmcs12(ctx) != NEST_OK)
		nest__be_log(&ctx->be, NEST_LOG_WARN, "vmx: could not read the shadow VMCS");
	ctx->nested.shadow_loaded = false;
}

/* A VMCS became current (VMPTRLD): L1 reads it through the shadow, all
 * of it written anew. */
void nest__vmx_shadow_load(struct nest_vmx *ctx)
{
	if (!shadowing(ctx))
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

	if (f == NULL || !shadowing(ctx) || !ctx->nested.shadow_loaded ||
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

/* ---- outcomes of VMLAUNCH/VMRESUME (SDM 31.2) ---- */

static int complete(struct nest__vmx_insn *in, uint32_t result, uint64_t flags)
{
	struct nest_vmx_action *a = &in->act;
	uint64_t rip = in->regs.rip + in->exit.insn_len;

	if (!in->mode64)
		rip &= 0xffffffffull;
	a->kind = NEST_VMX_ACT_RESUME_L1;
	a->flags |= NEST_VMX_ACT_F_RIP;
	a->result = result;
	a->rip = rip;
	a->rflags = (in->regs.rflags & ~X86_RFLAGS_ARITH_MASK) | flags;
	return NEST_OK;
}

static int vmfail(struct nest__vmx_insn *in, uint32_t error)
{
	struct nest_vmx *ctx = in->ctx;

	if (ctx->current_vmptr == NEST_VMX_INVALID_VMPTR)
		return complete(in, NEST_VMX_FAIL_INVALID, X86_RFLAGS_CF);
	ctx->vmcs12.VM_INSTRUCTION_ERROR = error;
	nest__vmx_shadow_mirror(ctx, NEST_VMCS_VM_INSTRUCTION_ERROR);
	in->act.vm_instruction_error = error;
	return complete(in, NEST_VMX_FAIL_VALID, X86_RFLAGS_ZF);
}

/* ---- VM-exit MSR-store area (SDM 28.4) ---- */

#define MSR_IA32_SMBASE 0x9eu
#define MSR_X2APIC_SHIFT 8
#define MSR_X2APIC_RANGE 0x8u

/* Copy L1's MSR-store list once into libnest's page. The store itself is
 * done in software at the exit (store_msrs()): the list never reaches
 * vmcs02's hardware store list, where a write-only or nonexistent MSR
 * (0x79, 0x40000000) would make the processor itself VMX-abort at L2's
 * exit and a host-private MSR (IA32_VMX_BASIC, IA32_TSC, energy counters)
 * would hand the host's value to L1. An entry that processing would fail
 * (x2APIC range, IA32_SMBASE, reserved bits 63:32, SDM 28.4) makes the
 * exit a VMX abort. */
static int prepare_msr_store(struct nest_vmx *ctx)
{
	struct nest__vmx_nested *n = &ctx->nested;
	const struct nest__vmcs12 *v = &ctx->vmcs12;
	struct nest_vmx_msr_entry *e;
	uint32_t count = v->VM_EXIT_MSR_STORE_COUNT, i;
	size_t bytes = (size_t)count * MSR_ENTRY_BYTES;
	int rc;

	n->pages.exit_msr_store_count = 0;
	n->msr_store_abort = false;
	if (count == 0)
		return NEST_OK;
	if (count > NEST__VMX_MSR_STORE_MAX || !nest__be_has_guest_rdmsr(&ctx->be))
		return NEST_E_UNSUPPORTED;
	if (n->msr_store_hva == NULL) {
		rc = nest__be_page_alloc(&ctx->be, &n->pages.exit_msr_store, &n->msr_store_hva);
		if (rc != NEST_OK)
			return rc;
	}
	e = n->msr_store_hva;
	if (nest__be_read(&ctx->be, v->VM_EXIT_MSR_STORE_ADDR, e, bytes) != NEST_OK)
		nest__memset(e, 0xff, bytes);
	for (i = 0; i < count; i++) {
		if ((e[i].index >> MSR_X2APIC_SHIFT) == MSR_X2APIC_RANGE ||
		    e[i].index == MSR_IA32_SMBASE || e[i].reserved != 0)
			n->msr_store_abort = true;
		e[i].value = 0;
	}
	if (!n->msr_store_abort)
		n->pages.exit_msr_store_count = count;
	return NEST_OK;
}

/* SDM 28.4: each listed MSR's value as L2 has it, read through L0's view
 * of the guest (backend guest_rdmsr), never from the hardware; an MSR the
 * guest cannot read (RDMSR would #GP) makes the exit a VMX abort. Then one
 * write of the list into L1's store area. */
static void store_msrs(struct nest_vmx *ctx)
{
	struct nest__vmx_nested *n = &ctx->nested;
	struct nest_vmx_msr_entry *e = n->msr_store_hva;
	uint32_t count = n->pages.exit_msr_store_count, i;

	if (count == 0 || n->msr_store_abort)
		return;
	for (i = 0; i < count; i++) {
		if (nest__be_guest_rdmsr(&ctx->be, e[i].index, &e[i].value) != NEST_OK) {
			n->msr_store_abort = true;
			return;
		}
	}
	if (nest__be_write(&ctx->be, ctx->vmcs12.VM_EXIT_MSR_STORE_ADDR, e,
			   (size_t)count * MSR_ENTRY_BYTES) != NEST_OK)
		n->msr_store_abort = true;
}

/* ---- the VM exit into L1 ---- */

static bool rare_field(unsigned i)
{
	return nest__vmcs_fields[i].type == NEST_VMCS_T_GUEST && i != NEST__VF_VMCS_LINK_POINTER &&
	       !nest__vmx_per_exit_field(i);
}

/* L2's guest state: read the guest-state fields of vmcs02 (the hardware
 * changed them while L2 ran) into the cache: the per-exit set, or all. */
static int read_vmcs02_guest(struct nest_vmx *ctx, bool all)
{
	struct nest__vmx_nested *n = &ctx->nested;
	unsigned i;
	uint64_t val;
	int rc;

	for (i = 0; i < NEST__VF_COUNT; i++) {
		if (nest__vmcs_fields[i].type != NEST_VMCS_T_GUEST ||
		    i == NEST__VF_VMCS_LINK_POINTER || (!all && rare_field(i)) ||
		    !nest__vmx_hw_field(&ctx->host, i))
			continue;
		rc = vmcs_rd(ctx, NEST_VMCS02, nest__vmcs_fields[i].encoding, &val);
		if (rc != NEST_OK)
			return rc;
		nest__vmcs12_write(&n->vmcs02_cache, nest__vmcs_fields[i].encoding, val);
	}
	return NEST_OK;
}

void nest__vmx_sync_rare(struct nest_vmx *ctx)
{
	struct nest__vmx_nested *n = &ctx->nested;
	unsigned i;
	uint64_t val;

	if (!n->rare_stale)
		return;
	for (i = 0; i < NEST__VF_COUNT; i++) {
		uint32_t enc = nest__vmcs_fields[i].encoding;

		/* A field L1 wrote since the exit keeps L1's value. */
		if (!rare_field(i) || nest__vmx_fs_has(&n->dirty, i) ||
		    !nest__vmx_hw_field(&ctx->host, i))
			continue;
		if (vmcs_rd(ctx, NEST_VMCS02, enc, &val) != NEST_OK) {
			nest__be_log(&ctx->be, NEST_LOG_WARN, "vmx: could not read vmcs02");
			return;
		}
		nest__vmcs12_write(&n->vmcs02_cache, enc, val);
		nest__vmcs12_write(&ctx->vmcs12, enc, val);
	}
	n->rare_stale = false;
}

/* Read an MSR area of `count` entries once from L1 memory and check it
 * (SDM 27.4 / 28.6 rules). Memory L0 does not back reads as all ones, so
 * its entries fail the checks. Returns the check outcome (0 = OK). */
static int fetch_msr_area(struct nest_vmx *ctx, uint64_t gpa, uint32_t count,
			  struct nest_vmx_entry_result *res)
{
	struct nest__vmx_nested *n = &ctx->nested;
	uint32_t limit =
	    MSR_LIST_UNIT * (uint32_t)(((ctx->caps.misc & VMX_MISC_MAX_MSR_LIST_MASK) >>
					VMX_MISC_MAX_MSR_LIST_SHIFT) +
				       1);

	n->msr_count = 0;
	/* Beyond the SDM's limit the checks fail on the count alone (no
	 * entry is looked at); within it but beyond what libnest keeps, the
	 * area cannot be handled. */
	if (count > limit)
		return nest__vmx_check_msr_load(NULL, count, &ctx->caps, res);
	if (count > NEST__VMX_MSR_AREA_MAX)
		return MSR_AREA_TOO_LARGE;
	if (count == 0)
		return NEST_VMX_ENTRY_OK;
	if (nest__be_read(&ctx->be, gpa, n->msrs, (size_t)count * MSR_ENTRY_BYTES) != NEST_OK)
		nest__memset(n->msrs, 0xff, (size_t)count * MSR_ENTRY_BYTES);
	if (nest__vmx_check_msr_load(n->msrs, count, &ctx->caps, res) != NEST_VMX_ENTRY_OK)
		return res->outcome;
	n->msr_count = count;
	return NEST_VMX_ENTRY_OK;
}

/* The VM exit into L1, SDM 28.2-28.6: exit information, guest state (not
 * for a failed VM entry), host state into vmcs01, the VM-exit MSR-load
 * area (a failure there is a VMX abort, 28.7). */
int nest__vmx_reflect(struct nest_vmx *ctx, struct nest__vmx_exit_report *r, bool save_guest,
		      struct nest_vmx_action *act)
{
	struct nest__vmx_nested *n = &ctx->nested;
	struct nest__vmcs12 *v = &ctx->vmcs12;
	struct nest__vmcs12 img;
	struct nest__vmx_fieldset set;
	struct nest_vmx_entry_result res;
	unsigned i;
	uint64_t val;
	int rc;

	if (save_guest) {
		/* With VMCS shadowing L1 reads every field without an exit:
		 * all of them are needed now. */
		rc = read_vmcs02_guest(ctx, shadowing(ctx));
		if (rc != NEST_OK)
			return rc;
		n->rare_stale = !shadowing(ctx);
		nest__memset(&n->dirty, 0, sizeof(n->dirty));
		/* An event L0 was to re-inject into L2 was being delivered
		 * when the exit happened: L1 sees it as IDT-vectoring info. */
		if ((n->vmcs02_cache.VM_ENTRY_INTR_INFO_FIELD & VMX_INTR_INFO_VALID) &&
		    !(r->idt_info & VMX_INTR_INFO_VALID)) {
			r->idt_info = n->vmcs02_cache.VM_ENTRY_INTR_INFO_FIELD;
			r->idt_error = n->vmcs02_cache.VM_ENTRY_EXCEPTION_ERROR_CODE;
		}
		nest__vmx_save_guest(v, &n->vmcs02_cache, r);
		store_msrs(ctx);
	}
	nest__vmx_write_exit_info(v, r);
	if (!save_guest) {
		/* SDM 27.8: a failed entry reports reason and qualification. */
		v->VM_EXIT_INTR_INFO = 0;
		v->IDT_VECTORING_INFO_FIELD = 0;
	}

	nest__vmx_load_host_state(&img, &set, v, &n->l1_now);
	for (i = 0; i < NEST__VF_COUNT; i++) {
		if (!nest__vmx_fs_has(&set, i) || !nest__vmx_hw_field(&ctx->host, i))
			continue;
		field_value(&img, i, &val);
		rc = nest__be_vmcs_write(&ctx->be, NEST_VMCS01, nest__vmcs_fields[i].encoding, val);
		if (rc != NEST_OK)
			return rc;
	}
	n->guest_mode = false;
	n->msrs_kind = NEST__VMX_MSRS_NONE;
	/* A window L0 asked for in vmcs02 ends with L2's run: vmcs02's
	 * controls are vmcs12's again at the next entry, and L0 gives a
	 * pending event to L1 now. */
	n->l0_window = 0;
	act->kind = NEST_VMX_ACT_RESUME_L1;
	res.size = sizeof(res);
	if (save_guest && n->msr_store_abort) {
		v->abort = VMX_ABORT_SAVE_GUEST_MSR;
		act->flags |= NEST_VMX_ACT_F_ABORT;
	} else if (fetch_msr_area(ctx, v->VM_EXIT_MSR_LOAD_ADDR, v->VM_EXIT_MSR_LOAD_COUNT, &res) !=
		   NEST_VMX_ENTRY_OK) {
		v->abort = VMX_ABORT_LOAD_HOST_MSR;
		act->flags |= NEST_VMX_ACT_F_ABORT;
	} else if (n->msr_count != 0) {
		act->flags |= ACT_F_MSRS;
		n->msrs_kind = NEST__VMX_MSRS_EXIT;
	}
	if (shadowing(ctx)) {
		rc = vmcs12_to_shadow(ctx);
		ctx->nested.shadow_loaded = rc == NEST_OK;
		return rc;
	}
	return NEST_OK;
}

/* ---- VM entry ---- */

bool nest__vmx_fetch_pdptes(const struct nest_vmx *ctx, const struct nest__vmcs12 *v,
			    uint64_t pdpte[4])
{
	bool ept = (v->CPU_BASED_VM_EXEC_CONTROL & VMX_PROC_ACTIVATE_SECONDARY) &&
		   (v->SECONDARY_VM_EXEC_CONTROL & VMX_PROC2_ENABLE_EPT);

	if (ept || !(v->GUEST_CR0 & X86_CR0_PG) || !(v->GUEST_CR4 & X86_CR4_PAE) ||
	    (v->VM_ENTRY_CONTROLS & VMX_ENTRY_IA32E_MODE_GUEST))
		return false;
	if (nest__be_read(&ctx->be, v->GUEST_CR3 & VMX_PDPTE_ADDR_MASK, pdpte,
			  4 * sizeof(uint64_t)) != NEST_OK)
		nest__memset(pdpte, 0xff, 4 * sizeof(uint64_t));
	return true;
}

static int read_l1_now(struct nest_vmx *ctx)
{
	struct nest__vmx_l1_now *l = &ctx->nested.l1_now;
	int rc = vmcs_rd(ctx, NEST_VMCS01, NEST_VMCS_GUEST_CR0, &l->cr0);

	if (rc == NEST_OK)
		rc = vmcs_rd(ctx, NEST_VMCS01, NEST_VMCS_GUEST_CR4, &l->cr4);
	if (rc == NEST_OK)
		rc = vmcs_rd(ctx, NEST_VMCS01, NEST_VMCS_GUEST_IA32_EFER, &l->efer);
	if (rc == NEST_OK)
		rc = vmcs_rd(ctx, NEST_VMCS01, NEST_VMCS_GUEST_IA32_PAT, &l->pat);
	if (rc == NEST_OK)
		rc = vmcs_rd(ctx, NEST_VMCS01, NEST_VMCS_GUEST_IA32_DEBUGCTL, &l->debugctl);
	if (rc == NEST_OK)
		rc = vmcs_rd(ctx, NEST_VMCS01, NEST_VMCS_GUEST_DR7, &l->dr7);
	return rc;
}

static int alloc_page(struct nest_vmx *ctx, uint64_t *hpa, void **hva)
{
	if (*hva != NULL)
		return NEST_OK;
	return nest__be_page_alloc(&ctx->be, hpa, hva);
}

/* Read one 4 KiB bitmap of L1 into its snapshot; memory L0 does not back
 * reads as all ones (everything exits). Returns whether it changed. */
static bool fetch_bitmap(struct nest_vmx *ctx, uint64_t gpa, uint8_t *snap)
{
	uint8_t *tmp = ctx->nested.scratch;

	if (nest__be_read(&ctx->be, gpa, tmp, NEST__VMX_IO_BITMAP_A_SIZE) != NEST_OK)
		nest__memset(tmp, 0xff, NEST__VMX_IO_BITMAP_A_SIZE);
	if (nest__memcmp(tmp, snap, NEST__VMX_IO_BITMAP_A_SIZE) == 0)
		return false;
	nest__memcpy(snap, tmp, NEST__VMX_IO_BITMAP_A_SIZE);
	return true;
}

/* Bitmaps: L1's read once per entry from its memory (the processor
 * consults them on every access, so a change between entries counts),
 * merged with L0's into libnest's pages; the merge is redone only when an
 * input changed. */
static int prepare_bitmaps(struct nest_vmx *ctx)
{
	struct nest__vmx_nested *n = &ctx->nested;
	const struct nest__vmcs12 *v = &ctx->vmcs12;
	struct nest__vmx_l1_bitmaps *bm = &n->l1_bm;
	uint32_t proc = v->CPU_BASED_VM_EXEC_CONTROL;
	uint32_t use = proc & (VMX_PROC_USE_MSR_BITMAPS | VMX_PROC_USE_IO_BITMAPS |
			       VMX_PROC_UNCOND_IO_EXITING);
	uint32_t apicv = nest__vmx_apicv02(v);
	bool l0_all = nest__vmx_l0_io_uncond(&n->l0.pub);
	bool msr_changed = !n->merged_valid || use != n->merged_use || apicv != n->merged_apicv;
	bool io_changed = msr_changed;
	int rc;

	rc = alloc_page(ctx, &n->pages.msr_bitmap, &n->msr_bitmap_hva);
	if (rc == NEST_OK)
		rc = alloc_page(ctx, &n->pages.io_bitmap_a, &n->io_bitmap_hva);
	if (rc == NEST_OK)
		rc = alloc_page(ctx, &n->pages.io_bitmap_b, &n->io_bitmap_b_hva);
	if (rc != NEST_OK)
		return rc;
	bm->msr_valid = (proc & VMX_PROC_USE_MSR_BITMAPS) != 0;
	if (bm->msr_valid)
		msr_changed |= fetch_bitmap(ctx, v->MSR_BITMAP, bm->msr);
	bm->io_valid = (proc & VMX_PROC_USE_IO_BITMAPS) != 0;
	if (bm->io_valid) {
		io_changed |= fetch_bitmap(ctx, v->IO_BITMAP_A, bm->io);
		io_changed |=
		    fetch_bitmap(ctx, v->IO_BITMAP_B, bm->io + NEST__VMX_IO_BITMAP_A_SIZE);
	}
	if (msr_changed) {
		nest__vmx_merge_msr_bitmap(n->msr_bitmap_hva,
					   n->l0.msr_bitmap_valid ? n->l0.msr_bitmap : NULL,
					   bm->msr_valid ? bm->msr : NULL);
		nest__vmx_msr_bitmap_x2apic(n->msr_bitmap_hva, apicv);
	}
	if (io_changed)
		nest__vmx_merge_io_bitmap(n->io_bitmap_hva, n->io_bitmap_b_hva,
					  n->l0.io_bitmap_valid && !l0_all ? n->l0.io_bitmap : NULL,
					  l0_all, bm->io_valid ? bm->io : NULL,
					  (proc & VMX_PROC_UNCOND_IO_EXITING) != 0);
	n->merged_valid = true;
	n->merged_use = use;
	n->merged_apicv = apicv;
	return NEST_OK;
}

/* L1-physical pages vmcs02 names: translated through L0's map. */
static int translate(struct nest_vmx *ctx, uint64_t gpa, uint64_t *hpa)
{
	struct nest_l0_map m;
	int rc = nest__be_l1_to_host(&ctx->be, gpa, &m);

	if (rc != NEST_OK)
		return rc;
	*hpa = m.hpa;
	return NEST_OK;
}

static int prepare_pages(struct nest_vmx *ctx)
{
	struct nest__vmx_nested *n = &ctx->nested;
	const struct nest__vmcs12 *v = &ctx->vmcs12;
	uint32_t proc2 = (v->CPU_BASED_VM_EXEC_CONTROL & VMX_PROC_ACTIVATE_SECONDARY)
			     ? v->SECONDARY_VM_EXEC_CONTROL
			     : 0;
	int rc = NEST_OK;

	if (v->CPU_BASED_VM_EXEC_CONTROL & VMX_PROC_USE_TPR_SHADOW)
		rc = translate(ctx, v->VIRTUAL_APIC_PAGE_ADDR, &n->pages.virtual_apic);
	if (rc == NEST_OK && (proc2 & VMX_PROC2_VIRT_APIC_ACCESSES))
		rc = translate(ctx, v->APIC_ACCESS_ADDR, &n->pages.apic_access);
	if (rc == NEST_OK && (proc2 & VMX_PROC2_ENABLE_EPT)) {
		struct nest_tdp_l1_root root;
		struct nest_tdp_root_info info;

		nest__memset(&root, 0, sizeof(root));
		root.kind = NEST_TDP_EPT;
		root.pointer = v->EPT_POINTER;
		root.mbec = (proc2 & VMX_PROC2_MODE_BASED_EPT_EXEC) != 0;
		rc = nest_tdp_root(n->l0.pub.tdp, &root, &info);
		if (rc == NEST_OK) {
			n->pages.eptp02 = info.pointer;
			if (info.created && n->l0.pub.vpid02 != 0)
				nest__be_flush(&ctx->be, NEST_FLUSH_VPID_CONTEXT, n->l0.pub.vpid02,
					       0);
		}
	}
	return rc;
}

/* What an entry takes from L1's memory and L0's map: L1's bitmaps, the
 * pages vmcs02 names, the VM-exit MSR-store list. */
static int prepare_inputs(struct nest_vmx *ctx)
{
	int rc = prepare_bitmaps(ctx);

	if (rc == NEST_OK)
		rc = prepare_pages(ctx);
	if (rc == NEST_OK)
		rc = prepare_msr_store(ctx);
	return rc;
}

/* VPID (SDM 29.4.3): L2's translations are tagged vpid02; a new vpid12, or
 * an L1 without VPID (whose entries flush), flushes that tag. */
static void flush_vpid(struct nest_vmx *ctx)
{
	struct nest__vmx_nested *n = &ctx->nested;
	const struct nest__vmcs12 *v = &ctx->vmcs12;
	bool l1_vpid = (v->CPU_BASED_VM_EXEC_CONTROL & VMX_PROC_ACTIVATE_SECONDARY) &&
		       (v->SECONDARY_VM_EXEC_CONTROL & VMX_PROC2_ENABLE_VPID);

	if (n->l0.pub.vpid02 == 0)
		return;
	if (!l1_vpid || !n->vpid12_valid || n->last_vpid12 != v->VIRTUAL_PROCESSOR_ID)
		nest__be_flush(&ctx->be, NEST_FLUSH_VPID_CONTEXT, n->l0.pub.vpid02, 0);
	n->last_vpid12 = v->VIRTUAL_PROCESSOR_ID;
	n->vpid12_valid = l1_vpid;
}

/* VTPR: byte 80H of the virtual-APIC page (SDM 30.1.1). */
#define VAPIC_VTPR_OFFSET 0x80u

/*
 * The entry checks that depend on L1 memory rather than on vmcs12, each
 * read once here and checked on that copy (DESIGN: single fetch): VTPR
 * for the TPR threshold (SDM 27.2.1.1), the header of the VMCS the link
 * pointer names (SDM 27.3.1.5), the PDPTEs at guest CR3 for PAE paging
 * without EPT (SDM 27.3.1.6). Only well-formed addresses are read (a bad
 * one fails its own check first); a read L0 does not back leaves the rule
 * unchecked, as before.
 */
void nest__vmx_fetch_entry_env(const struct nest_vmx *ctx, const struct nest__vmcs12 *v,
			       struct nest__vmx_entry_env *env)
{
	const unsigned w = ctx->caps.maxphyaddr;
	uint32_t proc = v->CPU_BASED_VM_EXEC_CONTROL;
	uint32_t proc2 = (proc & VMX_PROC_ACTIVATE_SECONDARY) ? v->SECONDARY_VM_EXEC_CONTROL : 0;

	if ((proc & VMX_PROC_USE_TPR_SHADOW) &&
	    !(proc2 & (VMX_PROC2_VIRT_INTR_DELIVERY | VMX_PROC2_VIRT_APIC_ACCESSES)) &&
	    nest__vmx_page_addr_ok(v->VIRTUAL_APIC_PAGE_ADDR, w))
		env->vtpr_fetched =
		    nest__be_read(&ctx->be, v->VIRTUAL_APIC_PAGE_ADDR + VAPIC_VTPR_OFFSET,
				  &env->vtpr, sizeof(env->vtpr)) == NEST_OK;
	if (v->VMCS_LINK_POINTER != VMX_VMCS_LINK_NONE &&
	    nest__vmx_page_addr_ok(v->VMCS_LINK_POINTER, w))
		env->link_fetched = nest__be_read(&ctx->be, v->VMCS_LINK_POINTER, &env->link_header,
						  sizeof(env->link_header)) == NEST_OK;
	env->pdptes_fetched = nest__vmx_fetch_pdptes(ctx, v, env->pdpte);
}

static bool real_or_v86_or_compat(const struct nest__vmx_insn *in)
{
	const struct nest_vmx_l1_regs *r = &in->regs;

	return !(r->cr0 & X86_CR0_PE) || (r->rflags & X86_RFLAGS_VM) ||
	       ((r->efer & X86_EFER_LMA) && !(r->seg[VMX_SEG_CS].ar & X86_SEG_L));
}

static int enter(struct nest__vmx_insn *in, bool launch)
{
	struct nest_vmx *ctx = in->ctx;
	struct nest__vmx_nested *n = &ctx->nested;
	struct nest__vmcs12 *v = &ctx->vmcs12;
	struct nest__vmx_fast *f = &n->fast;
	struct nest__vmx_entry_env env;
	struct nest_vmx_entry_result res;
	struct nest__vmx_fieldset changed = {{0}};
	unsigned groups = NEST__VMX_CHECK_ALL;
	bool fast, ctl_changed = true, l0_changed;
	uint64_t intr;
	int rc, outcome;

	if (!ctx->vmxon || real_or_v86_or_compat(in))
		return nest__vmx_inject(in, X86_EXC_UD, false, 0, 0);
	if (in->regs.cpl > 0)
		return nest__vmx_inject(in, X86_EXC_GP, true, 0, 0);
	if (!n->l0_set || n->guest_mode)
		return NEST_E_STATE;
	if (ctx->current_vmptr == NEST_VMX_INVALID_VMPTR)
		return complete(in, NEST_VMX_FAIL_INVALID, X86_RFLAGS_CF);
	rc = vmcs_rd(ctx, NEST_VMCS01, NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO, &intr);
	if (rc != NEST_OK)
		return rc;
	if (intr & VMX_INTERRUPTIBILITY_MOV_SS)
		return vmfail(in, VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS);
	if (launch && v->launch_state != NEST_VMCS12_STATE_CLEAR)
		return vmfail(in, VMXERR_VMLAUNCH_NONCLEAR_VMCS);
	if (!launch && v->launch_state != NEST_VMCS12_STATE_LAUNCHED)
		return vmfail(in, VMXERR_VMRESUME_NONLAUNCHED_VMCS);
	if (shadowing(ctx) && n->shadow_loaded) {
		rc = shadow_to_vmcs12(ctx);
		if (rc != NEST_OK)
			return rc;
	}

	nest__memset(&env, 0, sizeof(env));
	env.l1_ia32e = (in->regs.efer & X86_EFER_LMA) != 0;
	nest__vmx_fetch_entry_env(ctx, v, &env);
	nest__memset(&res, 0, sizeof(res));
	res.size = sizeof(res);
	/* The fast path (VMRESUME only): the checks are a pure function of
	 * vmcs12, the caps and env; groups whose inputs are those of the last
	 * successful entry pass again. Anything else runs everything. */
	fast = !launch && f->valid && !f->force_full &&
	       nest__memcmp(&f->env, &env, sizeof(env)) == 0 &&
	       nest__memcmp(&f->caps, &ctx->caps, sizeof(f->caps)) == 0;
	f->valid = false;
	if (fast)
		groups = fast_diff(n, v, &changed, &ctl_changed);
	/* PDPTEs read from L1 memory are not vmcs12 fields: checked anew. */
	if (env.pdptes_fetched)
		groups |= NEST__VMX_CHECK_GUEST;
	f->last_groups = groups;
	outcome = nest__vmx_check_entry_groups(v, &ctx->caps, &env, &res, groups);
	f->last_rule = res.rule;
	if (outcome == NEST_VMX_ENTRY_VMFAIL)
		return vmfail(in, res.vm_instruction_error);
	/* L1 using EPT needs the shadow EPT02 that L0 provides. */
	if ((v->CPU_BASED_VM_EXEC_CONTROL & VMX_PROC_ACTIVATE_SECONDARY) &&
	    (v->SECONDARY_VM_EXEC_CONTROL & VMX_PROC2_ENABLE_EPT) && n->l0.pub.tdp == NULL)
		return vmfail(in, VMXERR_ENTRY_INVALID_CONTROL_FIELD);
	rc = read_l1_now(ctx);
	if (rc != NEST_OK)
		return rc;
	n->l1_now.intr = intr;
	n->l1_now.pdptes_loaded = env.pdptes_fetched;
	nest__memcpy(n->l1_now.pdpte, env.pdpte, sizeof(n->l1_now.pdpte));
	if (outcome == NEST_VMX_ENTRY_OK) {
		outcome = fetch_msr_area(ctx, v->VM_ENTRY_MSR_LOAD_ADDR, v->VM_ENTRY_MSR_LOAD_COUNT,
					 &res);
		if (outcome == MSR_AREA_TOO_LARGE)
			return NEST_E_UNSUPPORTED;
		f->last_rule = res.rule;
	}
	if (outcome == NEST_VMX_ENTRY_FAILURE) {
		/* SDM 27.8: L1 continues after its host state with the exit
		 * reason (bit 31 set) and qualification; no guest state is
		 * saved and the launch state does not change. */
		struct nest__vmx_exit_report r;

		nest__memset(&r, 0, sizeof(r));
		r.reason = res.exit_reason;
		r.qual = res.exit_qualification;
		ctx->nested.msr_count = 0;
		return nest__vmx_reflect(ctx, &r, false, &in->act);
	}

	/* nest_vmx_set_l0() clears merged_valid: L0's side of the merge may
	 * have changed. */
	l0_changed = !n->merged_valid;
	rc = prepare_inputs(ctx);
	if (rc != NEST_OK)
		return rc;
	/* The merge reads vmcs12, L0, the pages and L1's state: with none
	 * but guest-state fields and L1's state changed, the refresh re-derives
	 * what those reach (L1's state only reaches guest fields, which the
	 * refresh always re-derives from it). */
	f->last_full_merge = !fast || ctl_changed || l0_changed ||
			     nest__memcmp(&f->pages, &n->pages, sizeof(f->pages)) != 0;
	if (f->last_full_merge)
		nest__vmx_build_vmcs02(&f->v02, v, &n->l0, &n->pages, &n->l1_now);
	else
		nest__vmx_refresh_vmcs02(&f->v02, v, &n->l0, &changed, &n->l1_now);
	/* vmcs12's rarely read guest fields are older than vmcs02's unless L1
	 * wrote them: vmcs02 keeps its own. */
	rc = write_vmcs02(ctx, &f->v02, n->rare_stale);
	if (rc != NEST_OK)
		return rc;
	/* The inputs of this successful entry, for the next VMRESUME. */
	if (!fast)
		nest__memcpy(&f->v12, v, sizeof(f->v12));
	f->caps = ctx->caps;
	nest__memcpy(&f->env, &env, sizeof(f->env));
	f->pages = n->pages;
	f->valid = true;
	nest__memset(&n->dirty, 0, sizeof(n->dirty));
	flush_vpid(ctx);
	n->timer_active = (f->v02.PIN_BASED_VM_EXEC_CONTROL & VMX_PIN_PREEMPTION_TIMER) != 0;
	n->timer_start = f->v02.VMX_PREEMPTION_TIMER_VALUE;
	n->l1_timer_smaller = (v->PIN_BASED_VM_EXEC_CONTROL & VMX_PIN_PREEMPTION_TIMER) &&
			      f->v02.VMX_PREEMPTION_TIMER_VALUE == v->VMX_PREEMPTION_TIMER_VALUE;
	if (launch)
		v->launch_state = NEST_VMCS12_STATE_LAUNCHED;
	n->guest_mode = true;
	in->act.kind = NEST_VMX_ACT_ENTER_L2;
	in->act.result = NEST_VMX_NO_RESULT;
	if (n->msr_count != 0) {
		in->act.flags |= ACT_F_MSRS;
		n->msrs_kind = NEST__VMX_MSRS_ENTRY;
		n->entry_launch = launch;
	}
	return NEST_OK;
}

int nest__vmx_msr_load_failed(struct nest_vmx *ctx, uint32_t index, struct nest_vmx_action *act)
{
	struct nest__vmx_nested *n = &ctx->nested;
	struct nest__vmx_exit_report r;
	int kind = n->msrs_kind;

	if (kind == NEST__VMX_MSRS_NONE)
		return NEST_E_STATE;
	if (index >= n->msr_count)
		return NEST_E_INVAL;
	n->msrs_kind = NEST__VMX_MSRS_NONE;
	n->msr_count = 0;
	if (kind == NEST__VMX_MSRS_EXIT) {
		/* SDM 28.7: a failure loading the VM-exit MSR-load area is a
		 * VMX abort. */
		ctx->vmcs12.abort = VMX_ABORT_LOAD_HOST_MSR;
		act->kind = NEST_VMX_ACT_RESUME_L1;
		act->flags |= NEST_VMX_ACT_F_ABORT;
		return NEST_OK;
	}
	/* SDM 27.4, 27.8: the entries before `index` stay loaded; the VM
	 * entry fails with exit reason 34 and the entry's 1-based index, L1's
	 * host state is loaded as for a VM exit, no guest state is saved,
	 * and a VMLAUNCH leaves the launch state clear (SDM 31 VMLAUNCH). */
	if (n->entry_launch)
		ctx->vmcs12.launch_state = NEST_VMCS12_STATE_CLEAR;
	n->fast.valid = false;
	nest__memset(&r, 0, sizeof(r));
	r.reason = VMX_EXIT_MSR_LOADING | VMX_EXIT_REASON_ENTRY_FAILURE;
	r.qual = (uint64_t)index + 1;
	return nest__vmx_reflect(ctx, &r, false, act);
}

int nest__vmx_handle_vmlaunch(struct nest__vmx_insn *in)
{
	return enter(in, true);
}

int nest__vmx_handle_vmresume(struct nest__vmx_insn *in)
{
	return enter(in, false);
}

/* ---- restored state (arch/x86/vmx/state.c) ---- */

/* Saved state was restored in guest mode: vmcs02 is made whole again from
 * vmcs12 and nothing cached survives. L1's bitmaps are fetched and merged
 * again, every field libnest writes is written (the backend's vmcs02 is
 * unknown), VPID02 is flushed; the next VMRESUME takes the full path. */
int nest__vmx_rebuild_vmcs02(struct nest_vmx *ctx)
{
	struct nest__vmx_nested *n = &ctx->nested;
	struct nest__vmx_fast *f = &n->fast;
	unsigned i;
	uint64_t val;
	int rc;

	n->merged_valid = false;
	f->valid = false;
	n->l1_now.pdptes_loaded = nest__vmx_fetch_pdptes(ctx, &ctx->vmcs12, n->l1_now.pdpte);
	rc = prepare_inputs(ctx);
	if (rc != NEST_OK)
		return rc;
	nest__vmx_build_vmcs02(&f->v02, &ctx->vmcs12, &n->l0, &n->pages, &n->l1_now);
	nest__memset(&n->vmcs02_cache, 0, sizeof(n->vmcs02_cache));
	for (i = 0; i < NEST__VF_COUNT; i++) {
		if (!nest__vmx_vmcs02_field(i) || !nest__vmx_hw_field(&ctx->host, i))
			continue;
		field_value(&f->v02, i, &val);
		rc = nest__be_vmcs_write(&ctx->be, NEST_VMCS02, nest__vmcs_fields[i].encoding, val);
		if (rc != NEST_OK)
			return rc;
		nest__vmcs12_write(&n->vmcs02_cache, nest__vmcs_fields[i].encoding, val);
	}
	n->vpid12_valid = false;
	flush_vpid(ctx);
	n->timer_active = (f->v02.PIN_BASED_VM_EXEC_CONTROL & VMX_PIN_PREEMPTION_TIMER) != 0;
	n->timer_start = f->v02.VMX_PREEMPTION_TIMER_VALUE;
	n->l1_timer_smaller =
	    (ctx->vmcs12.PIN_BASED_VM_EXEC_CONTROL & VMX_PIN_PREEMPTION_TIMER) &&
	    f->v02.VMX_PREEMPTION_TIMER_VALUE == ctx->vmcs12.VMX_PREEMPTION_TIMER_VALUE;
	return NEST_OK;
}
