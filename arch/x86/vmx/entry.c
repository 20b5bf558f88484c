/* SPDX-License-Identifier: MIT */
/*
 * Nested VM entry: L1's VMLAUNCH and VMRESUME through the backend (SDM
 * 27.1-27.4 "VM Entries", 31 VMLAUNCH/VMRESUME). What L1 controls is
 * fetched once into L0 memory (vmcs12 is already there; L1's bitmaps, MSR
 * lists, PDPTEs, VTPR and the link pointer's header are read here), the
 * entry checks run on that copy (check.c), vmcs02 is merged (vmcs02.c)
 * and its changed fields written (sync.c).
 *
 * Order of VMLAUNCH/VMRESUME: #UD and #GP checks, VMfailInvalid without a
 * current VMCS, VMfail(26) under MOV-SS blocking, VMfail(4)/(5) for the
 * launch state, the checks of controls and host state (VMfail 7/8), the
 * guest-state checks and MSR loading (exit reason 33/34 into L1).
 */
#include "vmx/entry.h"

#include <nest/tdp.h>

#include "cpu/x86.h"
#include "vmx/check.h"
#include "vmx/context.h"
#include "vmx/operand.h"
#include "vmx/reflect.h"
#include "vmx/shadow.h"
#include "vmx/sync.h"
#include "vmx/vmx_arch.h"

#define MSR_ENTRY_BYTES 16u
#define MSR_LIST_UNIT 512u /* SDM A.6: 512 * (N + 1) entries */

/* Action flag: L0 loads the MSRs nest_vmx_pending_msrs() lists. */
#define ACT_F_MSRS NEST_VMX_ACT_F_MSRS

static int vmcs01_rd(struct nest_vmx *ctx, uint32_t enc, uint64_t *v)
{
	*v = 0;
	return nest__be_vmcs_read(&ctx->be, NEST_VMCS01, enc, v);
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
	const size_t first = NEST__VMX_IMG_FIRST_WORD * NEST__VMX_IMG_WORD;
	unsigned groups = 0, i = 0;
	size_t w;

	nest__memset(changed, 0, sizeof(*changed));
	*ctl_changed = false;
	if (nest__memcmp((const uint8_t *)v + first, (const uint8_t *)s + first,
			 sizeof(*v) - first) == 0)
		return 0;
	for (w = NEST__VMX_IMG_FIRST_WORD; w < NEST__VMX_IMG_WORDS; w++) {
		uint64_t x = nest__vmx_img_word(v, w);

		if (x == nest__vmx_img_word(s, w))
			continue;
		nest__memcpy((uint8_t *)s + w * NEST__VMX_IMG_WORD, &x, sizeof(x));
		while (i < NEST__VF_COUNT && nest__vmcs_fields[i].offset < w * NEST__VMX_IMG_WORD)
			i++;
		/* Every field sharing the word counts as changed (a superset). */
		for (; i < NEST__VF_COUNT &&
		       nest__vmcs_fields[i].offset < (w + 1) * NEST__VMX_IMG_WORD;
		     i++) {
			nest__vmx_fs_set(changed, i);
			groups |= nest__vmx_check_groups_reading(i);
			if (nest__vmcs_fields[i].type == NEST_VMCS_T_CONTROL)
				*ctl_changed = true;
		}
	}
	return groups;
}

/* ---- VM-exit MSR-store area (SDM 28.4) ---- */

/* What an entry decides of L1's MSR-store list: whether the exit will
 * store it (count within what libnest offers, a backend that reads the
 * guest's MSRs). The list itself is read at the exit, where the processor
 * reads it (SDM 28.4): L2 may write it while it runs (reflect.c). */
static int prepare_msr_store(struct nest_vmx *ctx)
{
	struct nest__vmx_nested *n = &ctx->nested;
	uint32_t count = ctx->vmcs12.VM_EXIT_MSR_STORE_COUNT;

	n->msr_store_count = 0;
	n->msr_store_abort = false;
	if (count == 0)
		return NEST_OK;
	if (!nest__be_has_guest_rdmsr(&ctx->be))
		return NEST_E_UNSUPPORTED;
	/* Beyond the recommended maximum (IA32_VMX_MISC, offered as 512) the
	 * SDM leaves the behaviour undefined (A.6): libnest makes it a VMX
	 * abort at the exit, as for an entry it cannot store. */
	if (count > NEST__VMX_MSR_AREA_MAX)
		n->msr_store_abort = true;
	else
		n->msr_store_count = count;
	return NEST_OK;
}

/* ---- the VM-entry MSR-load area (SDM 27.4) ---- */

/* Read an MSR area of `count` entries once from L1 memory and check it
 * (SDM 27.4 / 28.6 rules). Memory L0 does not back reads as all ones, so
 * its entries fail the checks. Returns the check outcome (0 = OK). */
int nest__vmx_fetch_msr_area(struct nest_vmx *ctx, uint64_t gpa, uint32_t count,
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
		return NEST__VMX_MSR_AREA_TOO_LARGE;
	if (count == 0)
		return NEST_VMX_ENTRY_OK;
	if (nest__be_read(&ctx->be, gpa, n->msrs, (size_t)count * MSR_ENTRY_BYTES) != NEST_OK)
		nest__memset(n->msrs, 0xff, (size_t)count * MSR_ENTRY_BYTES);
	if (nest__vmx_check_msr_load(n->msrs, count, &ctx->caps, res) != NEST_VMX_ENTRY_OK)
		return res->outcome;
	n->msr_count = count;
	return NEST_VMX_ENTRY_OK;
}

/* ---- VM entry ---- */

bool nest__vmx_fetch_pdptes(const struct nest_vmx *ctx, const struct nest__vmcs12 *v,
			    uint64_t pdpte[4])
{
	bool ept = (v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_ACTIVATE_SECONDARY) &&
		   (v->SECONDARY_VM_EXEC_CONTROL & NEST_VMX_PROC2_ENABLE_EPT);

	if (ept || !(v->GUEST_CR0 & X86_CR0_PG) || !(v->GUEST_CR4 & X86_CR4_PAE) ||
	    (v->VM_ENTRY_CONTROLS & NEST_VMX_ENTRY_CTL_IA32E_MODE_GUEST))
		return false;
	if (nest__be_read(&ctx->be, v->GUEST_CR3 & VMX_PDPTE_ADDR_MASK, pdpte,
			  4 * sizeof(uint64_t)) != NEST_OK)
		nest__memset(pdpte, 0xff, 4 * sizeof(uint64_t));
	return true;
}

static int read_l1_now(struct nest_vmx *ctx)
{
	struct nest__vmx_l1_now *l = &ctx->nested.l1_now;

	/* The backend's accessor, checked once for the six reads. */
	if (!NEST_BE_HAS(&ctx->be, vmcs_read))
		return NEST_E_MISSING_OP;
	int (*rd)(void *, enum nest_vmcs_id, uint32_t, uint64_t *) = ctx->be.ops->vmcs_read;
	void *b = ctx->be.ctx;
	l->cr0 = l->cr4 = l->efer = l->pat = l->debugctl = l->dr7 = 0;
	int rc = rd(b, NEST_VMCS01, NEST_VMCS_GUEST_CR0, &l->cr0);
	if (rc == NEST_OK)
		rc = rd(b, NEST_VMCS01, NEST_VMCS_GUEST_CR4, &l->cr4);
	if (rc == NEST_OK)
		rc = rd(b, NEST_VMCS01, NEST_VMCS_GUEST_IA32_EFER, &l->efer);
	if (rc == NEST_OK)
		rc = rd(b, NEST_VMCS01, NEST_VMCS_GUEST_IA32_PAT, &l->pat);
	if (rc == NEST_OK)
		rc = rd(b, NEST_VMCS01, NEST_VMCS_GUEST_IA32_DEBUGCTL, &l->debugctl);
	if (rc == NEST_OK)
		rc = rd(b, NEST_VMCS01, NEST_VMCS_GUEST_DR7, &l->dr7);
	return rc;
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
	uint32_t proc2 = nest__vmcs12_proc2(v);
	int rc = NEST_OK;

	if (v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_USE_TPR_SHADOW)
		rc = translate(ctx, v->VIRTUAL_APIC_PAGE_ADDR, &n->pages.virtual_apic);
	if (rc == NEST_OK && (proc2 & NEST_VMX_PROC2_VIRT_APIC_ACCESSES))
		rc = translate(ctx, v->APIC_ACCESS_ADDR, &n->pages.apic_access);
	if (rc == NEST_OK && (proc2 & NEST_VMX_PROC2_ENABLE_EPT)) {
		struct nest_tdp_l1_root root;
		struct nest_tdp_root_info info;

		nest__memset(&root, 0, sizeof(root));
		root.kind = NEST_TDP_EPT;
		root.pointer = v->EPT_POINTER;
		root.mbec = (proc2 & NEST_VMX_PROC2_MODE_BASED_EPT_EXEC) != 0;
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
	int rc = nest__vmx_prepare_bitmaps(ctx);

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
	bool l1_vpid = (v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_ACTIVATE_SECONDARY) &&
		       (v->SECONDARY_VM_EXEC_CONTROL & NEST_VMX_PROC2_ENABLE_VPID);

	if (n->l0.pub.vpid02 == 0)
		return;
	if (!l1_vpid || !n->vpid12_valid || n->last_vpid12 != v->VIRTUAL_PROCESSOR_ID)
		nest__be_flush(&ctx->be, NEST_FLUSH_VPID_CONTEXT, n->l0.pub.vpid02, 0);
	n->last_vpid12 = v->VIRTUAL_PROCESSOR_ID;
	n->vpid12_valid = l1_vpid;
}

/*
 * The entry checks that depend on L1 memory rather than on vmcs12, each
 * read once here and checked on that copy (invariant 1, single fetch, docs/trust-model.md): VTPR
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
	uint32_t proc2 =
	    (proc & NEST_VMX_PROC_ACTIVATE_SECONDARY) ? v->SECONDARY_VM_EXEC_CONTROL : 0;

	/* VTPR also for an entry in HLT with virtual-interrupt delivery: it
	 * decides whether a virtual interrupt wakes L2 at once (hlt_virq_due). */
	if ((proc & NEST_VMX_PROC_USE_TPR_SHADOW) &&
	    (!(proc2 & (NEST_VMX_PROC2_VIRT_INTR_DELIVERY | NEST_VMX_PROC2_VIRT_APIC_ACCESSES)) ||
	     ((proc2 & NEST_VMX_PROC2_VIRT_INTR_DELIVERY) &&
	      v->GUEST_ACTIVITY_STATE == NEST_VMX_ACTIVITY_HLT)) &&
	    nest__vmx_page_addr_ok(v->VIRTUAL_APIC_PAGE_ADDR, w))
		env->vtpr_fetched =
		    nest__be_read(&ctx->be, v->VIRTUAL_APIC_PAGE_ADDR + NEST__VMX_VAPIC_VTPR_OFFSET,
				  &env->vtpr, sizeof(env->vtpr)) == NEST_OK;
	if (v->VMCS_LINK_POINTER != VMX_VMCS_LINK_NONE &&
	    nest__vmx_page_addr_ok(v->VMCS_LINK_POINTER, w))
		env->link_fetched = nest__be_read(&ctx->be, v->VMCS_LINK_POINTER, &env->link_header,
						  sizeof(env->link_header)) == NEST_OK;
	env->pdptes_fetched = nest__vmx_fetch_pdptes(ctx, v, env->pdpte);
}

/*
 * An entry in HLT with virtual-interrupt delivery whose pending virtual
 * interrupt is delivered at once: the entry virtualizes PPR (VPPR = VTPR if
 * VTPR[7:4] >= SVI[7:4], else SVI[7:4]:0, SDM 30.1.3) and evaluates pending
 * virtual interrupts (SDM 27.3.2.5); RVI[7:4] > VPPR[7:4] is recognized
 * unless "interrupt-window exiting" is 1 (SDM 30.2.1), and delivered if
 * RFLAGS.IF is 1, there is no blocking by STI or MOV SS and the entry
 * injects no event (SDM 30.2.2); delivery ends the HLT state. vmcs02 then
 * enters active, where the processor delivers it at entry just the same,
 * instead of relying on the host to wake itself from HLT for it.
 */
static bool hlt_virq_due(const struct nest__vmcs12 *v, const struct nest__vmx_entry_env *env)
{
	uint32_t proc2 = nest__vmcs12_proc2(v);

	if (v->GUEST_ACTIVITY_STATE != NEST_VMX_ACTIVITY_HLT ||
	    !(proc2 & NEST_VMX_PROC2_VIRT_INTR_DELIVERY) || !env->vtpr_fetched ||
	    (v->GUEST_INTERRUPTIBILITY_INFO &
	     (NEST_VMX_INTERRUPTIBILITY_STI | NEST_VMX_INTERRUPTIBILITY_MOV_SS)))
		return false;
	return nest__vmx_hlt_virq_taken(v->CPU_BASED_VM_EXEC_CONTROL, v->GUEST_RFLAGS,
					v->VM_ENTRY_INTR_INFO_FIELD, v->GUEST_INTR_STATUS,
					env->vtpr);
}

/* The VMX-preemption timer vmcs02 runs with (the merge of L0's and L1's,
 * vmcs02.c): whether it runs, its start value, and whether it is L1's. */
static void note_timer(struct nest_vmx *ctx)
{
	struct nest__vmx_nested *n = &ctx->nested;
	const struct nest__vmcs12 *v02 = &n->fast.v02, *v = &ctx->vmcs12;

	n->timer_active = (v02->PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_PREEMPTION_TIMER) != 0;
	n->timer_start = v02->VMX_PREEMPTION_TIMER_VALUE;
	n->l1_timer_smaller = (v->PIN_BASED_VM_EXEC_CONTROL & NEST_VMX_PIN_PREEMPTION_TIMER) &&
			      v02->VMX_PREEMPTION_TIMER_VALUE == v->VMX_PREEMPTION_TIMER_VALUE;
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

	rc = nest__vmx_check_root(in);
	if (rc != NEST_OK)
		return rc;
	if (!n->l0_set || n->guest_mode)
		return NEST_E_STATE;
	if (ctx->current_vmptr == NEST_VMX_INVALID_VMPTR)
		return nest__vmx_fail(in, 0); /* VMfailInvalid */
	rc = vmcs01_rd(ctx, NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO, &intr);
	if (rc != NEST_OK)
		return rc;
	if (intr & NEST_VMX_INTERRUPTIBILITY_MOV_SS)
		return nest__vmx_fail(in, VMXERR_ENTRY_EVENTS_BLOCKED_BY_MOV_SS);
	if (launch && v->launch_state != NEST_VMCS12_STATE_CLEAR)
		return nest__vmx_fail(in, VMXERR_VMLAUNCH_NONCLEAR_VMCS);
	if (!launch && v->launch_state != NEST_VMCS12_STATE_LAUNCHED)
		return nest__vmx_fail(in, VMXERR_VMRESUME_NONLAUNCHED_VMCS);
	rc = nest__vmx_shadow_collect(ctx);
	if (rc != NEST_OK)
		return rc;

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
		return nest__vmx_fail(in, res.vm_instruction_error);
	/* L1 using EPT needs the shadow EPT02 that L0 provides. */
	if ((v->CPU_BASED_VM_EXEC_CONTROL & NEST_VMX_PROC_ACTIVATE_SECONDARY) &&
	    (v->SECONDARY_VM_EXEC_CONTROL & NEST_VMX_PROC2_ENABLE_EPT) && n->l0.pub.tdp == NULL)
		return nest__vmx_fail(in, VMXERR_ENTRY_INVALID_CONTROL_FIELD);
	rc = read_l1_now(ctx);
	if (rc != NEST_OK)
		return rc;
	n->l1_now.intr = intr;
	n->l1_now.pdptes_loaded = env.pdptes_fetched;
	nest__memcpy(n->l1_now.pdpte, env.pdpte, sizeof(n->l1_now.pdpte));
	if (outcome == NEST_VMX_ENTRY_OK) {
		outcome = nest__vmx_fetch_msr_area(ctx, v->VM_ENTRY_MSR_LOAD_ADDR,
						   v->VM_ENTRY_MSR_LOAD_COUNT, &res);
		if (outcome == NEST__VMX_MSR_AREA_TOO_LARGE)
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
	if (hlt_virq_due(v, &env))
		f->v02.GUEST_ACTIVITY_STATE = NEST_VMX_ACTIVITY_ACTIVE;
	/* vmcs12's rarely read guest fields are older than vmcs02's unless L1
	 * wrote them: vmcs02 keeps its own. */
	rc = nest__vmx_write_vmcs02(ctx, &f->v02, n->rare_stale);
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
	note_timer(ctx);
	n->hlt_woken = nest__vmx_hlt_window_open(v);
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
	r.reason = NEST_VMX_EXIT_MSR_LOADING | NEST_VMX_EXIT_REASON_ENTRY_FAILURE;
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
	int rc;

	n->merged_valid = false;
	f->valid = false;
	n->l1_now.pdptes_loaded = nest__vmx_fetch_pdptes(ctx, &ctx->vmcs12, n->l1_now.pdpte);
	rc = prepare_inputs(ctx);
	if (rc != NEST_OK)
		return rc;
	nest__vmx_build_vmcs02(&f->v02, &ctx->vmcs12, &n->l0, &n->pages, &n->l1_now);
	rc = nest__vmx_write_vmcs02_all(ctx, &f->v02);
	if (rc != NEST_OK)
		return rc;
	n->vpid12_valid = false;
	flush_vpid(ctx);
	note_timer(ctx);
	n->hlt_woken = nest__vmx_hlt_window_open(&ctx->vmcs12);
	return NEST_OK;
}
