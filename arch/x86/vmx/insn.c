/* SPDX-License-Identifier: MIT */
/*
 * L1's VMX instructions as L0 sees them: VMXON, VMXOFF, VMCLEAR, VMPTRLD,
 * VMPTRST, VMREAD and VMWRITE (INVEPT and INVVPID: invalidate.c), each
 * following the "Operation" section of its entry in the SDM (Vol. 3C
 * chapter 32, "VMX Instruction Reference"), checks in the manual's order.
 *
 * L1 exits to L0 for each of these from VMX non-root operation, so the
 * hardware has made none of L1's architectural checks: libnest makes them
 * all against L1's view (its CR0/CR4, its VMX-operation state kept in the
 * context, the capabilities it was offered).
 *
 * The current VMCS is cached (see nest_vmx_l1_exit() in nest/vmx.h):
 * VMPTRLD fetches L1's VMCS region once, VMREAD/VMWRITE use the copy,
 * VMCLEAR writes it back. L1 memory that L0 does not back reads as all
 * ones, as non-existent memory does on a PC, and writes to it are lost.
 */
#include "vmx/operand.h"

#include "vmx/entry.h"
#include "vmx/shadow.h"
#include "vmx/sync.h"

#include "cpu/x86.h"
#include "vmx/vmx_arch.h"

#define VMCS_ALIGN_MASK (NEST_VMCS12_REGION_SIZE - 1ull)
#define INSN_LEN_MAX 15u
#define CPL_MAX 3u
#define OPERAND_32 4u
#define OPERAND_64 8u
/* vmptr_operand(): the instruction ended in VMfail (negative, as
 * NEST__VMX_INJECTED: statuses are zero or positive). */
#define VMPTR_DONE (-2)

/* ---- outcomes (SDM 31.2) ---- */

static void complete(struct nest__vmx_insn *in, uint32_t result, uint64_t set_flags)
{
	struct nest_vmx_action *a = &in->act;
	uint64_t rip = in->regs.rip + in->exit.insn_len;

	if (!in->mode64)
		rip &= 0xffffffffull; /* EIP wraps outside 64-bit mode */
	a->kind = NEST_VMX_ACT_RESUME_L1;
	a->flags |= NEST_VMX_ACT_F_RIP;
	a->result = result;
	a->rip = rip;
	a->rflags = (in->regs.rflags & ~X86_RFLAGS_ARITH_MASK) | set_flags;
}

static int vmsucceed(struct nest__vmx_insn *in)
{
	complete(in, NEST_VMX_SUCCEED, 0);
	return NEST_OK;
}

static int vmfail_invalid(struct nest__vmx_insn *in)
{
	complete(in, NEST_VMX_FAIL_INVALID, X86_RFLAGS_CF);
	return NEST_OK;
}

/* VMfail(n): VMfailValid(n) with a current VMCS, whose VM-instruction
 * error field receives n; VMfailInvalid without one. */
static int vmfail(struct nest__vmx_insn *in, uint32_t error)
{
	struct nest_vmx *ctx = in->ctx;

	if (ctx->current_vmptr == NEST_VMX_INVALID_VMPTR)
		return vmfail_invalid(in);
	nest__vmcs12_write(&ctx->vmcs12, NEST_VMCS_VM_INSTRUCTION_ERROR, error);
	nest__vmx_shadow_mirror(ctx, NEST_VMCS_VM_INSTRUCTION_ERROR); /* shadow.c */
	complete(in, NEST_VMX_FAIL_VALID, X86_RFLAGS_ZF);
	in->act.vm_instruction_error = error;
	return NEST_OK;
}

static int inject_ud(struct nest__vmx_insn *in)
{
	return nest__vmx_inject(in, X86_EXC_UD, false, 0, 0);
}

static int inject_gp0(struct nest__vmx_insn *in)
{
	return nest__vmx_inject(in, X86_EXC_GP, true, 0, 0);
}

/* ---- shared checks ---- */

static bool real_or_v86_or_compat(const struct nest__vmx_insn *in)
{
	const struct nest_vmx_l1_regs *r = &in->regs;

	return !(r->cr0 & X86_CR0_PE) || (r->rflags & X86_RFLAGS_VM) ||
	       ((r->efer & X86_EFER_LMA) && !(r->seg[VMX_SEG_CS].ar & X86_SEG_L));
}

static bool register_operand(const struct nest__vmx_insn *in)
{
	return VMX_INSN_INFO_MEM_REG(in->exit.insn_info) != 0;
}

/* The first two steps of every instruction but VMXON: #UD outside VMX
 * operation, in real, virtual-8086 or compatibility mode, or (for the
 * m64-only instructions) with a register operand; then #GP(0) if CPL > 0.
 * Returns NEST_OK to go on. */
static int check_root_insn(struct nest__vmx_insn *in, bool memory_only)
{
	if ((memory_only && register_operand(in)) || !in->ctx->vmxon || real_or_v86_or_compat(in))
		return inject_ud(in);
	if (in->regs.cpl > 0)
		return inject_gp0(in);
	return NEST_OK;
}

/* For the handlers of other files (operand.h). */
int nest__vmx_succeed(struct nest__vmx_insn *in)
{
	return vmsucceed(in);
}

int nest__vmx_fail(struct nest__vmx_insn *in, uint32_t error)
{
	return vmfail(in, error);
}

int nest__vmx_check_root(struct nest__vmx_insn *in)
{
	return check_root_insn(in, false);
}

/* A VMCS or VMXON pointer must be 4 KiB aligned and within the physical-
 * address width (SDM 31.3 VMXON/VMCLEAR/VMPTRLD). */
static bool vmptr_valid(const struct nest_vmx *ctx, uint64_t addr)
{
	return (addr & VMCS_ALIGN_MASK) == 0 && x86_pa_fits(addr, ctx->l1_maxphyaddr);
}

/* Read the first word of a VMCS or VMXON region; memory L0 does not back
 * reads as all ones, which matches no revision identifier. */
static uint32_t read_revision(struct nest_vmx *ctx, uint64_t addr)
{
	uint32_t rev;

	if (nest__be_read(&ctx->be, addr, &rev, sizeof(rev)) != NEST_OK)
		rev = UINT32_MAX;
	return rev;
}

static int read_m64(struct nest__vmx_insn *in, uint64_t *value)
{
	return nest__vmx_operand_read(in, value, sizeof(*value));
}

static bool cr_fixed_ok(uint64_t cr, uint64_t fixed0, uint64_t fixed1)
{
	return (cr & fixed0) == fixed0 && (cr & ~fixed1) == 0;
}

/* ---- the instructions ---- */

static int handle_vmxon(struct nest__vmx_insn *in)
{
	struct nest_vmx *ctx = in->ctx;
	const struct nest_vmx_l1_regs *r = &in->regs;
	uint64_t addr, fc = ctx->feature_control;
	uint32_t rev;
	int rc;

	if (register_operand(in) || !ctx->vmx_allowed || !(r->cr4 & X86_CR4_VMXE) ||
	    real_or_v86_or_compat(in))
		return inject_ud(in);
	if (ctx->vmxon) {
		if (r->cpl > 0)
			return inject_gp0(in);
		return vmfail(in, VMXERR_VMXON_IN_ROOT);
	}
	/* SDM 24.8: CR0 and CR4 must satisfy the VMX fixed bits; 24.7: the
	 * lock bit and "VMXON outside SMX" of IA32_FEATURE_CONTROL. */
	if (r->cpl > 0 || !cr_fixed_ok(r->cr0, ctx->caps.cr0_fixed0, ctx->caps.cr0_fixed1) ||
	    !cr_fixed_ok(r->cr4, ctx->caps.cr4_fixed0, ctx->caps.cr4_fixed1) ||
	    !(fc & X86_FEATURE_CONTROL_LOCK) || !(fc & X86_FEATURE_CONTROL_VMXON_OUTSIDE_SMX))
		return inject_gp0(in);
	rc = read_m64(in, &addr);
	if (rc != NEST_OK)
		return rc;
	if (!vmptr_valid(ctx, addr))
		return vmfail_invalid(in);
	rev = read_revision(ctx, addr);
	/* The VMXON region's revision must match and bit 31 must be 0. */
	if (rev != NEST_VMCS12_REVISION)
		return vmfail_invalid(in);
	ctx->vmxon = true;
	ctx->vmxon_ptr = addr;
	ctx->current_vmptr = NEST_VMX_INVALID_VMPTR;
	return vmsucceed(in);
}

static int handle_vmxoff(struct nest__vmx_insn *in)
{
	struct nest_vmx *ctx = in->ctx;
	int rc = check_root_insn(in, false);

	if (rc != NEST_OK)
		return rc;
	/* No dual-monitor treatment is offered, so VMfail(23) cannot occur.
	 * The cached VMCS goes back to L1 memory, as data a processor keeps
	 * may be written back at any time. */
	nest__vmx_writeback_vmcs12(ctx);
	ctx->vmxon = false;
	ctx->vmxon_ptr = NEST_VMX_INVALID_VMPTR;
	ctx->current_vmptr = NEST_VMX_INVALID_VMPTR;
	return vmsucceed(in);
}

/* The common start of VMCLEAR and VMPTRLD (SDM 31.3): #UD/#GP, the m64
 * operand, then VMfail with `bad_addr` for an address that is not 4 KiB
 * aligned or beyond the width, `vmxon` for the VMXON pointer. Returns
 * NEST_OK with *addr to go on; anything else is the instruction's end. */
static int vmptr_operand(struct nest__vmx_insn *in, uint32_t bad_addr, uint32_t vmxon,
			 uint64_t *addr)
{
	int rc = check_root_insn(in, true);

	if (rc != NEST_OK)
		return rc;
	rc = read_m64(in, addr);
	if (rc != NEST_OK)
		return rc;
	if (!vmptr_valid(in->ctx, *addr)) {
		vmfail(in, bad_addr);
		return VMPTR_DONE;
	}
	if (*addr == in->ctx->vmxon_ptr) {
		vmfail(in, vmxon);
		return VMPTR_DONE;
	}
	return NEST_OK;
}

static int handle_vmclear(struct nest__vmx_insn *in)
{
	struct nest_vmx *ctx = in->ctx;
	uint64_t addr;
	int rc = vmptr_operand(in, VMXERR_VMCLEAR_INVALID_ADDRESS, VMXERR_VMCLEAR_VMXON_POINTER,
			       &addr);

	if (rc != NEST_OK)
		return rc == VMPTR_DONE ? NEST_OK : rc;
	if (addr == ctx->current_vmptr) {
		ctx->vmcs12.launch_state = NEST_VMCS12_STATE_CLEAR;
		nest__vmx_writeback_vmcs12(ctx);
		ctx->current_vmptr = NEST_VMX_INVALID_VMPTR;
	} else {
		/* Not cached: only its launch state lives in L1 memory. */
		uint32_t clear = NEST_VMCS12_STATE_CLEAR;

		if (nest__be_write(&ctx->be, addr + offsetof(struct nest__vmcs12, launch_state),
				   &clear, sizeof(clear)) != NEST_OK)
			nest__be_log(&ctx->be, NEST_LOG_WARN,
				     "vmx: VMCLEAR of a VMCS in memory L0 does not back");
	}
	return vmsucceed(in);
}

static int handle_vmptrld(struct nest__vmx_insn *in)
{
	struct nest_vmx *ctx = in->ctx;
	struct nest__vmcs12 image;
	bool shadow_ok = (ctx->features & NEST_VMX_F_VMCS_SHADOWING) != 0;
	uint64_t addr;
	int rc = vmptr_operand(in, VMXERR_VMPTRLD_INVALID_ADDRESS, VMXERR_VMPTRLD_VMXON_POINTER,
			       &addr);

	if (rc != NEST_OK)
		return rc == VMPTR_DONE ? NEST_OK : rc;
	if (addr == ctx->current_vmptr)
		return vmsucceed(in); /* already current: keep the cached copy */
	/* Single fetch: the region is copied once, then checked. */
	if (nest__be_read(&ctx->be, addr, &image, sizeof(image)) != NEST_OK)
		nest__memset(&image, 0xff, sizeof(image));
	if ((image.revision & ~NEST_VMCS12_SHADOW_INDICATOR) != NEST_VMCS12_REVISION ||
	    ((image.revision & NEST_VMCS12_SHADOW_INDICATOR) && !shadow_ok))
		return vmfail(in, VMXERR_VMPTRLD_INCORRECT_REVISION);
	if (image.launch_state != NEST_VMCS12_STATE_LAUNCHED)
		image.launch_state = NEST_VMCS12_STATE_CLEAR;
	nest__vmx_writeback_vmcs12(ctx); /* the previous current VMCS stays active */
	ctx->vmcs12 = image;
	ctx->current_vmptr = addr;
	nest__vmx_shadow_load(ctx); /* shadow.c */
	return vmsucceed(in);
}

static int handle_vmptrst(struct nest__vmx_insn *in)
{
	uint64_t ptr = in->ctx->current_vmptr;
	int rc = check_root_insn(in, true);

	if (rc != NEST_OK)
		return rc;
	rc = nest__vmx_operand_write(in, &ptr, sizeof(ptr));
	if (rc != NEST_OK)
		return rc;
	return vmsucceed(in);
}

/* The VMCS-field encoding in the register named by instruction-information
 * bits 31:28: 32 bits outside 64-bit mode; in 64-bit mode, bits 63:32 set
 * name no field. Returns NULL for an unsupported component. */
static const struct nest_vmcs_field *field_operand(const struct nest__vmx_insn *in, uint32_t *enc)
{
	uint64_t v = in->regs.gpr[VMX_INSN_INFO_REG2(in->exit.insn_info)];

	if (!in->mode64)
		v &= 0xffffffffull;
	if (v >> 32)
		return NULL;
	*enc = (uint32_t)v;
	return nest__vmcs_field(*enc);
}

static unsigned operand_size(const struct nest__vmx_insn *in)
{
	return in->mode64 ? OPERAND_64 : OPERAND_32;
}

static int handle_vmread(struct nest__vmx_insn *in)
{
	struct nest_vmx *ctx = in->ctx;
	unsigned size = operand_size(in);
	uint32_t enc = 0;
	uint64_t value = 0;
	int rc = check_root_insn(in, false);

	if (rc != NEST_OK)
		return rc;
	if (ctx->current_vmptr == NEST_VMX_INVALID_VMPTR)
		return vmfail_invalid(in);
	nest__vmx_sync_rare(ctx); /* sync.c: guest state L2 left in vmcs02 */
	if (field_operand(in, &enc) == NULL || !nest__vmcs12_read(&ctx->vmcs12, enc, &value))
		return vmfail(in, VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	if (size == OPERAND_32)
		value &= 0xffffffffull; /* the high bits of a longer field are not read */
	if (register_operand(in)) {
		in->act.flags |= NEST_VMX_ACT_F_GPR;
		in->act.gpr = VMX_INSN_INFO_REG1(in->exit.insn_info);
		in->act.gpr_value = value;
	} else {
		/* Memory faults come after the pointer and field checks (SDM). */
		rc = nest__vmx_operand_write(in, &value, size);
		if (rc != NEST_OK)
			return rc;
	}
	return vmsucceed(in);
}

static int handle_vmwrite(struct nest__vmx_insn *in)
{
	struct nest_vmx *ctx = in->ctx;
	const struct nest_vmcs_field *f;
	unsigned size = operand_size(in);
	uint32_t enc = 0;
	uint64_t value = 0;
	int rc = check_root_insn(in, false);

	if (rc != NEST_OK)
		return rc;
	if (ctx->current_vmptr == NEST_VMX_INVALID_VMPTR)
		return vmfail_invalid(in);
	/* Memory faults come before the field checks (SDM VMWRITE). */
	if (register_operand(in)) {
		value = in->regs.gpr[VMX_INSN_INFO_REG1(in->exit.insn_info)];
	} else {
		rc = nest__vmx_operand_read(in, &value, size);
		if (rc != NEST_OK)
			return rc;
	}
	if (size == OPERAND_32)
		value &= 0xffffffffull; /* a longer field's high bits are cleared */
	f = field_operand(in, &enc);
	if (f == NULL)
		return vmfail(in, VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	if (f->type == NEST_VMCS_T_RO && !(ctx->caps.misc & VMX_MISC_VMWRITE_ANY_FIELD))
		return vmfail(in, VMXERR_VMWRITE_READ_ONLY_COMPONENT);
	nest__vmcs12_write(&ctx->vmcs12, enc, value);
	nest__vmx_shadow_field(ctx, enc); /* shadow.c */
	return vmsucceed(in);
}

/* Basic exit reason to handler. VMLAUNCH and VMRESUME are nested entry
 * (entry.c), INVEPT and INVVPID are in invalidate.c. */
static const struct {
	uint16_t reason;
	int (*handle)(struct nest__vmx_insn *in);
} handlers[] = {
    {NEST_VMX_EXIT_VMXON, handle_vmxon},
    {NEST_VMX_EXIT_VMXOFF, handle_vmxoff},
    {NEST_VMX_EXIT_VMCLEAR, handle_vmclear},
    {NEST_VMX_EXIT_VMPTRLD, handle_vmptrld},
    {NEST_VMX_EXIT_VMPTRST, handle_vmptrst},
    {NEST_VMX_EXIT_VMREAD, handle_vmread},
    {NEST_VMX_EXIT_VMWRITE, handle_vmwrite},
    {NEST_VMX_EXIT_VMLAUNCH, nest__vmx_handle_vmlaunch}, /* entry.c */
    {NEST_VMX_EXIT_VMRESUME, nest__vmx_handle_vmresume},
    {NEST_VMX_EXIT_INVEPT, nest__vmx_handle_invept}, /* invalidate.c */
    {NEST_VMX_EXIT_INVVPID, nest__vmx_handle_invvpid},
};

NEST_API int nest_vmx_l1_exit(struct nest_vmx *ctx, const struct nest_vmx_exit *exit,
			      const struct nest_vmx_l1_regs *regs, struct nest_vmx_action *act)
{
	struct nest__vmx_insn in;
	uint32_t act_size, basic;
	size_t i;
	int rc;

	if (!nest__vmx_ctx_ok(ctx) || exit == NULL || regs == NULL || act == NULL)
		return NEST_E_INVAL;
	nest__memcpy(&act_size, act, sizeof(act_size));
	if (act_size < NEST_VMX_ACTION_MIN_SIZE)
		return NEST_E_SIZE;
	nest__memset(&in, 0, sizeof(in));
	in.act.size = sizeof(in.act);
	/* Until the instruction is handled, the caller's action says "nothing". */
	nest__copy_out(act, &in.act, sizeof(in.act), NEST_VMX_ACTION_MIN_SIZE);
	rc = nest__copy_in(&in.exit, sizeof(in.exit), exit, NEST_VMX_EXIT_MIN_SIZE);
	if (rc != NEST_OK)
		return rc;
	rc = nest__copy_in(&in.regs, sizeof(in.regs), regs, NEST_VMX_L1_REGS_MIN_SIZE);
	if (rc != NEST_OK)
		return rc;
	in.has_cr3 = regs->size >= offsetof(struct nest_vmx_l1_regs, cr3) + sizeof(regs->cr3);
	in.ctx = ctx;
	in.mode64 = (in.regs.efer & X86_EFER_LMA) && (in.regs.seg[VMX_SEG_CS].ar & X86_SEG_L);

	/* Exit information only hardware produces: anything else is the
	 * caller's mistake, not L1's. */
	if (in.exit.insn_len == 0 || in.exit.insn_len > INSN_LEN_MAX || in.regs.cpl > CPL_MAX ||
	    (in.exit.reason & NEST_VMX_EXIT_REASON_ENTRY_FAILURE))
		return NEST_E_INVAL;
	basic = in.exit.reason & NEST_VMX_EXIT_REASON_BASIC_MASK;
	for (i = 0; i < NEST_ARRAY_SIZE(handlers); i++)
		if (handlers[i].reason == basic)
			break;
	if (i == NEST_ARRAY_SIZE(handlers))
		return NEST_E_INVAL;

	/* L1 ran: an MSR list L0 was given before can no longer be refused. */
	nest__vmx_msrs_consumed(&ctx->nested);
	rc = handlers[i].handle(&in);
	if (rc == NEST__VMX_INJECTED)
		rc = NEST_OK;
	if (rc != NEST_OK)
		return rc; /* the caller's action still says NEST_VMX_ACT_NONE */
	return nest__copy_out(act, &in.act, sizeof(in.act), NEST_VMX_ACTION_MIN_SIZE);
}
