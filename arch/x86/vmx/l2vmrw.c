/* SPDX-License-Identifier: MIT */
/*
 * VMREAD and VMWRITE executed by L2 under L1's VMCS shadowing (SDM 25.10,
 * and the Operation of VMREAD and VMWRITE in Vol. 3C chapter 31). L1's
 * shadow VMCS is a VMCS region in L1 memory, in libnest's vmcs12 format,
 * named by vmcs12's VMCS link pointer; the processor cannot use it, so
 * vmcs02 never enables VMCS shadowing and every VMREAD and VMWRITE of L2
 * exits to L0. For such an exit libnest does what the processor would
 * have done under vmcs12:
 *
 *   IF "VMCS shadowing" is 0 OR the field encoding sets a bit in 63:15
 *      (31:15 outside 64-bit mode) OR its bit in L1's VMREAD (VMWRITE)
 *      bitmap is 1 THEN VM exit (to L1)
 *   ELSIF CPL > 0 THEN #GP(0)
 *   ELSIF the VMCS link pointer is all ones THEN VMfailInvalid
 *   VMREAD:  ELSIF no such field THEN VMfailValid(12)
 *            ELSE destination := the field of the shadow VMCS; VMsucceed
 *   VMWRITE: source read first (its memory faults come before the field
 *            checks); no such field: VMfailValid(12); a read-only field
 *            without IA32_VMX_MISC[29]: VMfailValid(13); ELSE the field of
 *            the shadow VMCS := source; VMsucceed
 *
 * The bitmaps are read from L1 memory at each exit, as the processor
 * reads them at each execution; memory L0 does not back reads as all ones
 * (the access exits). VMfailValid writes the VM-instruction error field
 * of the current VMCS, vmcs12. Memory operands go through L2's
 * segmentation and paging, and EPT12 when L1 uses EPT (operand.c): a #PF,
 * #GP or #SS is L2's exception (an exit when L1's exception bitmap asks),
 * an EPT12 fault the EPT violation or misconfiguration exit L1 would get.
 * The instruction then completes in L2 (RIP, blocking by STI or MOV SS,
 * its single-step trap, L1's monitor trap flag).
 */
#include "vmx/l2vmrw.h"

#include <nest/tdp.h>

#include "cpu/x86.h"
#include "vmx/context.h"
#include "vmx/operand.h"
#include "vmx/shadow.h"
#include "vmx/vmx_arch.h"

#define FIELD_INDEX_BITS 15u /* bits 14:0 of the encoding select the bitmap bit */
#define LINK_NONE UINT64_MAX
#define LOW32 0xffffffffull
#define OPERAND_32 4u
#define OPERAND_64 8u
#define RFLAGS_ARITH                                                                               \
	(X86_RFLAGS_CF | X86_RFLAGS_PF | X86_RFLAGS_AF | X86_RFLAGS_ZF | X86_RFLAGS_SF |           \
	 X86_RFLAGS_OF)
#define EPTP_AD_ENABLE (1ull << 6)
#define SS_AR_DPL(ar) (((ar) >> 5) & 3u)
#define GPR_RSP 4u

static int rd02(struct nest_vmx *ctx, uint32_t enc, uint64_t *v)
{
	*v = 0;
	return nest__be_vmcs_read(&ctx->be, NEST_VMCS02, enc, v);
}

/* Does L1's bitmap let this access through to the shadow VMCS (vmcs12
 * has VMCS shadowing)? */
static int shadowed(struct nest_vmx *ctx, bool write, uint64_t enc, bool *yes)
{
	const struct nest__vmcs12 *v = &ctx->vmcs12;
	uint64_t bitmap = write ? v->VMWRITE_BITMAP : v->VMREAD_BITMAP;
	uint8_t byte;

	*yes = false;
	if ((enc >> FIELD_INDEX_BITS) != 0)
		return NEST_OK;
	if (nest__be_read(&ctx->be, bitmap + (enc >> 3), &byte, sizeof(byte)) != NEST_OK)
		return NEST_OK; /* reads as all ones: the access exits */
	*yes = !((byte >> (enc & 7u)) & 1u);
	return NEST_OK;
}

/* L2's registers as every such instruction needs them, from vmcs02: its
 * general registers (RSP is vmcs02's), RFLAGS, and what decides its
 * operand size and CPL (EFER, CS and SS access rights). */
static int l2_regs(struct nest_vmx *ctx, const uint64_t *gpr, struct nest_vmx_l1_regs *r)
{
	uint64_t v;
	int rc;

	nest__memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	nest__memcpy(r->gpr, gpr, sizeof(r->gpr));
	rc = rd02(ctx, NEST_VMCS_GUEST_RSP, &r->gpr[GPR_RSP]);
	if (rc == NEST_OK)
		rc = rd02(ctx, NEST_VMCS_GUEST_RFLAGS, &r->rflags);
	if (rc == NEST_OK)
		rc = rd02(ctx, NEST_VMCS_GUEST_IA32_EFER, &r->efer);
	if (rc == NEST_OK)
		rc = rd02(ctx, NEST_VMCS_GUEST_CS_AR_BYTES, &v);
	r->seg[VMX_SEG_CS].ar = (uint32_t)v;
	if (rc == NEST_OK)
		rc = rd02(ctx, NEST_VMCS_GUEST_SS_AR_BYTES, &v);
	r->seg[VMX_SEG_SS].ar = (uint32_t)v;
	r->cpl = SS_AR_DPL(r->seg[VMX_SEG_SS].ar);
	return rc;
}

/* What a memory operand needs besides (operand.c): the control registers
 * the processor runs L2 with and its segments. */
static int l2_mem_regs(struct nest_vmx *ctx, struct nest_vmx_l1_regs *r)
{
	static const uint32_t sel[6] = {NEST_VMCS_GUEST_ES_SELECTOR, NEST_VMCS_GUEST_CS_SELECTOR,
					NEST_VMCS_GUEST_SS_SELECTOR, NEST_VMCS_GUEST_DS_SELECTOR,
					NEST_VMCS_GUEST_FS_SELECTOR, NEST_VMCS_GUEST_GS_SELECTOR};
	static const uint32_t base[6] = {NEST_VMCS_GUEST_ES_BASE, NEST_VMCS_GUEST_CS_BASE,
					 NEST_VMCS_GUEST_SS_BASE, NEST_VMCS_GUEST_DS_BASE,
					 NEST_VMCS_GUEST_FS_BASE, NEST_VMCS_GUEST_GS_BASE};
	static const uint32_t limit[6] = {NEST_VMCS_GUEST_ES_LIMIT, NEST_VMCS_GUEST_CS_LIMIT,
					  NEST_VMCS_GUEST_SS_LIMIT, NEST_VMCS_GUEST_DS_LIMIT,
					  NEST_VMCS_GUEST_FS_LIMIT, NEST_VMCS_GUEST_GS_LIMIT};
	static const uint32_t ar[6] = {NEST_VMCS_GUEST_ES_AR_BYTES, NEST_VMCS_GUEST_CS_AR_BYTES,
				       NEST_VMCS_GUEST_SS_AR_BYTES, NEST_VMCS_GUEST_DS_AR_BYTES,
				       NEST_VMCS_GUEST_FS_AR_BYTES, NEST_VMCS_GUEST_GS_AR_BYTES};
	uint64_t v;
	unsigned i;
	int rc = rd02(ctx, NEST_VMCS_GUEST_CR0, &r->cr0);

	if (rc == NEST_OK)
		rc = rd02(ctx, NEST_VMCS_GUEST_CR4, &r->cr4);
	if (rc == NEST_OK)
		rc = rd02(ctx, NEST_VMCS_GUEST_CR3, &r->cr3);
	for (i = 0; rc == NEST_OK && i < 6; i++) {
		rc = rd02(ctx, sel[i], &v);
		r->seg[i].selector = (uint16_t)v;
		if (rc == NEST_OK)
			rc = rd02(ctx, base[i], &r->seg[i].base);
		if (rc == NEST_OK)
			rc = rd02(ctx, limit[i], &v);
		r->seg[i].limit = (uint32_t)v;
		if (rc == NEST_OK)
			rc = rd02(ctx, ar[i], &v);
		r->seg[i].ar = (uint32_t)v;
	}
	return rc;
}

/* The EPT12 fault an access of the instruction met: the exit L1 gets
 * (SDM 28.2.1, table 28-7), at the instruction (fault-like). */
static int ept_exit(struct nest_vmx *ctx, const struct nest__vmx_l2_mem *m,
		    struct nest_vmx_action *a)
{
	struct nest__vmx_exit_report r;

	nest__memset(&r, 0, sizeof(r));
	r.gpa = m->gpa;
	if (m->status == NEST_WALK_MISCONFIG) {
		r.reason = NEST_VMX_EXIT_EPT_MISCONFIG;
		return nest__vmx_reflect(ctx, &r, true, a);
	}
	r.reason = NEST_VMX_EXIT_EPT_VIOLATION;
	r.gla = m->gla;
	r.qual = ((m->access & NEST_ACC_R) ? NEST_EPT_QUAL_READ : 0) |
		 ((m->access & NEST_ACC_W) ? NEST_EPT_QUAL_WRITE : 0) |
		 ((m->rights & NEST_ACC_R) ? NEST_EPT_QUAL_READABLE : 0) |
		 ((m->rights & NEST_ACC_W) ? NEST_EPT_QUAL_WRITABLE : 0) |
		 ((m->rights & NEST_ACC_X) ? NEST_EPT_QUAL_EXECUTABLE : 0) |
		 NEST_EPT_QUAL_GLA_VALID | (m->final ? NEST_EPT_QUAL_GLA_FINAL : 0);
	return nest__vmx_reflect(ctx, &r, true, a);
}

/* An access of the instruction's memory operand ended otherwise than
 * NEST_OK: L2's exception, L1's EPT exit, or the status for the caller. */
static int operand_failed(struct nest__vmx_insn *in, int rc, struct nest_vmx_action *a)
{
	const struct nest_vmx_action *q = &in->act;

	if (rc == NEST__VMX_INJECTED)
		return nest__vmx_l2_raise(in->ctx, q->vector, q->has_error_code ? q->error_code : 0,
					  q->cr2, a);
	if (rc == NEST__VMX_EPT_FAULT)
		return ept_exit(in->ctx, in->l2, a);
	return rc;
}

/* The instruction completes in L2 with these arithmetic flags. */
static int complete(struct nest_vmx *ctx, const struct nest__vmx_insn *in, uint64_t flags,
		    struct nest_vmx_action *a)
{
	int rc =
	    nest__vmx_put02(ctx, NEST_VMCS_GUEST_RFLAGS, (in->regs.rflags & ~RFLAGS_ARITH) | flags);

	if (rc == NEST_OK)
		rc = nest__vmx_complete_l2(ctx, in->exit.insn_len);
	if (rc == NEST_OK)
		rc = nest__vmx_l2_boundary(ctx, a);
	return rc;
}

static int fail_valid(struct nest_vmx *ctx, const struct nest__vmx_insn *in, uint32_t error,
		      struct nest_vmx_action *a)
{
	nest__vmcs12_write(&ctx->vmcs12, NEST_VMCS_VM_INSTRUCTION_ERROR, error);
	nest__vmx_shadow_mirror(ctx, NEST_VMCS_VM_INSTRUCTION_ERROR); /* shadow.c */
	return complete(ctx, in, X86_RFLAGS_ZF, a);
}

/* Field `f` of the shadow VMCS, read once into its place in `img` (the
 * rest of `img` is not read); memory L0 does not back reads as all ones. */
static void read_shadow(struct nest_vmx *ctx, const struct nest_vmcs_field *f,
			struct nest__vmcs12 *img)
{
	uint8_t *p = (uint8_t *)img + f->offset;
	unsigned n = nest_vmcs_width_bytes(f->width);

	if (nest__be_read(&ctx->be, ctx->vmcs12.VMCS_LINK_POINTER + f->offset, p, n) != NEST_OK)
		nest__memset(p, 0xff, n);
}

static int vmread(struct nest__vmx_insn *in, uint32_t enc, unsigned size, struct nest_vmx_action *a)
{
	struct nest_vmx *ctx = in->ctx;
	const struct nest_vmcs_field *f = nest__vmcs_field(enc);
	struct nest__vmcs12 img;
	uint64_t value = 0;
	uint32_t reg;
	int rc;

	if (f == NULL)
		return fail_valid(ctx, in, VMXERR_UNSUPPORTED_VMCS_COMPONENT, a);
	read_shadow(ctx, f, &img);
	nest__vmcs12_read(&img, enc, &value);
	if (size == OPERAND_32)
		value &= LOW32; /* the high bits of a longer field are not read */
	if (!VMX_INSN_INFO_MEM_REG(in->exit.insn_info)) {
		rc = nest__vmx_operand_write(in, &value, size);
		if (rc != NEST_OK)
			return operand_failed(in, rc, a);
		return complete(ctx, in, 0, a);
	}
	reg = VMX_INSN_INFO_REG1(in->exit.insn_info);
	/* RSP is vmcs02's (an MTF exit then saves the new value). */
	if (reg == GPR_RSP) {
		rc = nest__vmx_put02(ctx, NEST_VMCS_GUEST_RSP, value);
		return rc == NEST_OK ? complete(ctx, in, 0, a) : rc;
	}
	rc = complete(ctx, in, 0, a);
	if (rc == NEST_OK) {
		/* L2's register, or L1's after an MTF exit: the same one. */
		a->flags |= NEST_VMX_ACT_F_GPR;
		a->gpr = reg;
		a->gpr_value = value;
	}
	return rc;
}

static int vmwrite(struct nest__vmx_insn *in, uint32_t enc, unsigned size,
		   struct nest_vmx_action *a)
{
	struct nest_vmx *ctx = in->ctx;
	const struct nest_vmcs_field *f;
	struct nest__vmcs12 img;
	uint64_t value = 0;
	int rc;

	if (VMX_INSN_INFO_MEM_REG(in->exit.insn_info)) {
		value = in->regs.gpr[VMX_INSN_INFO_REG1(in->exit.insn_info)];
	} else {
		rc = nest__vmx_operand_read(in, &value, size);
		if (rc != NEST_OK)
			return operand_failed(in, rc, a);
	}
	if (size == OPERAND_32)
		value &= LOW32; /* a longer field's high bits are cleared */
	f = nest__vmcs_field(enc);
	if (f == NULL)
		return fail_valid(ctx, in, VMXERR_UNSUPPORTED_VMCS_COMPONENT, a);
	if (f->type == NEST_VMCS_T_RO && !(ctx->caps.misc & VMX_MISC_VMWRITE_ANY_FIELD))
		return fail_valid(ctx, in, VMXERR_VMWRITE_READ_ONLY_COMPONENT, a);
	read_shadow(ctx, f, &img); /* a high access keeps the low half */
	nest__vmcs12_write(&img, enc, value);
	if (nest__be_write(&ctx->be, ctx->vmcs12.VMCS_LINK_POINTER + f->offset,
			   (const uint8_t *)&img + f->offset,
			   nest_vmcs_width_bytes(f->width)) != NEST_OK)
		nest__be_log(&ctx->be, NEST_LOG_WARN,
			     "vmx: L2's VMWRITE to a shadow VMCS in memory L0 does not back");
	return complete(ctx, in, 0, a);
}

int nest__vmx_l2_vmrw(struct nest_vmx *ctx, const struct nest__vmx_exit_report *r,
		      const uint64_t *gpr, struct nest_vmx_action *a, bool *handled)
{
	uint32_t basic = r->reason & NEST_VMX_EXIT_REASON_BASIC_MASK;
	bool write = basic == NEST_VMX_EXIT_VMWRITE, yes = false;
	struct nest__vmx_l2_mem mem;
	struct nest__vmx_insn in;
	uint64_t enc;
	unsigned size;
	int rc;

	*handled = false;
	if ((basic != NEST_VMX_EXIT_VMREAD && !write) ||
	    !(nest__vmcs12_proc2(&ctx->vmcs12) & NEST_VMX_PROC2_VMCS_SHADOWING))
		return NEST_OK;
	nest__memset(&in, 0, sizeof(in));
	rc = l2_regs(ctx, gpr, &in.regs);
	if (rc != NEST_OK)
		return rc;
	in.mode64 = (in.regs.efer & X86_EFER_LMA) && (in.regs.seg[VMX_SEG_CS].ar & X86_SEG_L);
	size = in.mode64 ? OPERAND_64 : OPERAND_32;
	enc = in.regs.gpr[VMX_INSN_INFO_REG2(r->insn_info)];
	if (!in.mode64)
		enc &= LOW32;
	rc = shadowed(ctx, write, enc, &yes);
	if (rc != NEST_OK || !yes)
		return rc;
	if (!VMX_INSN_INFO_MEM_REG(r->insn_info)) {
		rc = l2_mem_regs(ctx, &in.regs);
		if (rc != NEST_OK)
			return rc;
	}
	*handled = true;

	in.ctx = ctx;
	in.exit.size = sizeof(in.exit);
	in.exit.reason = r->reason;
	in.exit.qualification = r->qual;
	in.exit.insn_info = r->insn_info;
	in.exit.insn_len = r->insn_len;
	in.act.size = sizeof(in.act);
	in.has_cr3 = true;
	nest__memset(&mem, 0, sizeof(mem));
	mem.ept = (nest__vmcs12_proc2(&ctx->vmcs12) & NEST_VMX_PROC2_ENABLE_EPT) != 0;
	mem.eptp = ctx->vmcs12.EPT_POINTER;
	mem.cfg.ept_vpid_cap = ctx->caps.ept_vpid;
	mem.cfg.maxphyaddr = (uint8_t)ctx->l1_maxphyaddr;
	/* With EPT A/D flags, the processor's accesses to L2's paging
	 * structures are writes for EPT12 (SDM 29.3.3.2). */
	mem.walk_access = (mem.eptp & EPTP_AD_ENABLE) ? (NEST_ACC_R | NEST_ACC_W) : NEST_ACC_R;
	in.l2 = &mem;

	if (in.regs.cpl > 0)
		return nest__vmx_l2_raise(ctx, X86_EXC_GP, 0, 0, a);
	if (ctx->vmcs12.VMCS_LINK_POINTER == LINK_NONE)
		return complete(ctx, &in, X86_RFLAGS_CF, a); /* VMfailInvalid */
	return write ? vmwrite(&in, (uint32_t)enc, size, a) : vmread(&in, (uint32_t)enc, size, a);
}
