/* SPDX-License-Identifier: MIT */
/*
 * Memory operands of VMX instructions (SDM 28.2.5, table 28-13/28-14):
 * effective address from base, index, scale and displacement truncated to
 * the address size; segmentation (SDM 3.4, 5.3: in 64-bit mode only FS/GS
 * bases and the canonical check; otherwise type and limit checks); then
 * L1's paging through the backend's l1_linear_to_phys.
 */
#include "vmx/operand.h"

#include <nest/tdp.h>

#include "cpu/x86.h"
#include "vmx/vmx_arch.h"

#define PAGE_SIZE 4096ull
#define PAGE_OFFSET_MASK (PAGE_SIZE - 1)
#define MAX_OPERAND 16u /* the INVEPT/INVVPID descriptors */
#define LINEAR_VA_BITS 48u
#define LINEAR_VA_BITS_LA57 57u
#define OFFSET_MAX_16 0xffffull
#define OFFSET_MAX_32 0xffffffffull

/* Address-size encodings of the instruction information (SDM table 28-13). */
#define ADDR_SIZE_16 0u
#define ADDR_SIZE_32 1u
#define ADDR_SIZE_64 2u

int nest__vmx_inject(struct nest__vmx_insn *in, uint8_t vector, bool has_error_code,
		     uint32_t error_code, uint64_t cr2)
{
	struct nest_vmx_action *a = &in->act;

	a->kind = NEST_VMX_ACT_INJECT;
	a->flags = 0;
	a->result = NEST_VMX_NO_RESULT;
	a->vm_instruction_error = 0;
	a->vector = vector;
	a->has_error_code = has_error_code;
	a->error_code = error_code;
	a->cr2 = cr2;
	return NEST__VMX_INJECTED;
}

/* A segment fault: #SS(0) for SS-relative accesses, #GP(0) otherwise. */
static int seg_fault(struct nest__vmx_insn *in, unsigned seg)
{
	return nest__vmx_inject(in, seg == VMX_SEG_SS ? X86_EXC_SS : X86_EXC_GP, true, 0, 0);
}

static int effective_address(const struct nest__vmx_insn *in, uint64_t *ea)
{
	uint32_t info = in->exit.insn_info;
	uint64_t a = in->exit.qualification; /* displacement, sign-extended */

	if (!VMX_INSN_INFO_BASE_INVALID(info))
		a += in->regs.gpr[VMX_INSN_INFO_BASE(info)];
	if (!VMX_INSN_INFO_INDEX_INVALID(info))
		a += in->regs.gpr[VMX_INSN_INFO_INDEX(info)] << VMX_INSN_INFO_SCALE(info);
	switch (VMX_INSN_INFO_ADDR_SIZE(info)) {
	case ADDR_SIZE_16:
		a &= OFFSET_MAX_16;
		break;
	case ADDR_SIZE_32:
		a &= OFFSET_MAX_32;
		break;
	case ADDR_SIZE_64:
		if (!in->mode64)
			return NEST_E_INVAL; /* hardware reports 64-bit addresses only there */
		break;
	default:
		return NEST_E_INVAL;
	}
	*ea = a;
	return NEST_OK;
}

/* Segmentation outside 64-bit mode (SDM 5.3, 5.4.1): usable segment,
 * data (or readable code) for reads, writable data for writes, every byte
 * inside the limit (above it for expand-down). */
static int segment_legacy(struct nest__vmx_insn *in, unsigned seg, uint64_t ea, unsigned size,
			  bool write, uint64_t *linear)
{
	const struct nest_vmx_segment *s = &in->regs.seg[seg];
	uint32_t type = s->ar & X86_SEG_TYPE_MASK;
	bool code = (type & X86_SEG_TYPE_CODE) != 0;
	uint64_t last = ea + size - 1;

	if (s->ar & X86_SEG_UNUSABLE)
		return seg_fault(in, seg);
	if (write && (code || !(type & X86_SEG_TYPE_WRITABLE)))
		return nest__vmx_inject(in, X86_EXC_GP, true, 0, 0);
	if (!write && code && !(type & X86_SEG_TYPE_READABLE))
		return nest__vmx_inject(in, X86_EXC_GP, true, 0, 0);
	if (!code && (type & X86_SEG_TYPE_EXPAND_DOWN)) {
		uint64_t upper = (s->ar & X86_SEG_DB) ? OFFSET_MAX_32 : OFFSET_MAX_16;

		if (ea <= s->limit || last > upper)
			return seg_fault(in, seg);
	} else if (last > s->limit) {
		return seg_fault(in, seg);
	}
	*linear = (s->base + ea) & OFFSET_MAX_32;
	return NEST_OK;
}

/* Segmentation in 64-bit mode (SDM 3.4.4, 5.3.1): only FS and GS have a
 * base; every byte must be canonical (#SS(0) for SS, else #GP(0)). */
static int segment_64(struct nest__vmx_insn *in, unsigned seg, uint64_t ea, unsigned size,
		      uint64_t *linear)
{
	unsigned va_bits = (in->regs.cr4 & X86_CR4_LA57) ? LINEAR_VA_BITS_LA57 : LINEAR_VA_BITS;
	uint64_t la = ea;

	if (seg == VMX_SEG_FS || seg == VMX_SEG_GS)
		la += in->regs.seg[seg].base;
	if (!x86_is_canonical(la, va_bits) || !x86_is_canonical(la + size - 1, va_bits))
		return seg_fault(in, seg);
	*linear = la;
	return NEST_OK;
}

static int linear_address(struct nest__vmx_insn *in, unsigned size, bool write, uint64_t *linear)
{
	uint32_t info = in->exit.insn_info;
	unsigned seg = VMX_INSN_INFO_SEG(info);
	uint64_t ea;
	int rc;

	if (VMX_INSN_INFO_MEM_REG(info))
		return NEST_E_INVAL; /* callers check for a register operand first */
	if (seg > VMX_SEG_GS)
		return NEST_E_INVAL;
	rc = effective_address(in, &ea);
	if (rc != NEST_OK)
		return rc;
	if (in->mode64)
		return segment_64(in, seg, ea, size, linear);
	return segment_legacy(in, seg, ea, size, write, linear);
}

/* libnest's own walk of the running guest's page tables (regs: L1's, or
 * L2's), reading them through `be`. The walk leaves accessed/dirty flags
 * alone; a PAE walk reads the PDPTEs from memory rather than from
 * registers loaded at the last CR3 write. A #PF is queued; a table in
 * memory `be` does not give is NEST_E_FAULT. */
static int x86_translate(struct nest__vmx_insn *in, const struct nest_backend *be, uint64_t la,
			 bool write, uint64_t *gpa)
{
	const struct nest_vmx_l1_regs *r = &in->regs;
	struct nest_x86_config xc;
	struct nest_walk_result res;
	uint32_t access = (write ? NEST_ACC_W : NEST_ACC_R) | (r->cpl == 3 ? NEST_ACC_U : 0);
	int rc;

	nest__memset(&xc, 0, sizeof(xc));
	xc.cr0 = r->cr0;
	xc.cr4 = r->cr4;
	xc.efer = r->efer;
	xc.maxphyaddr = (uint8_t)in->ctx->l1_maxphyaddr;
	xc.gbpages = in->ctx->l1_gbpages;
	/* SMAP does not stop a CPL-0 data access with RFLAGS.AC set (SDM 4.6.1). */
	rc = nest_x86_walk(be, &xc, r->cr3, la, access,
			   (r->rflags & X86_RFLAGS_AC) ? NEST_WALK_SMAP_OFF : 0, &res);
	if (rc != NEST_OK)
		return rc;
	switch (res.status) {
	case NEST_WALK_OK:
		*gpa = res.addr;
		return NEST_OK;
	case NEST_WALK_FAULT:
	case NEST_WALK_RSVD:
		return nest__vmx_inject(in, X86_EXC_PF, true, res.pfec, la);
	case NEST_WALK_NO_MEMORY:
		return NEST_E_FAULT; /* a table in memory L0 does not back */
	default:
		return NEST_E_STATE; /* CR3 or the paging mode cannot be walked */
	}
}

/* libnest's own walk of L1's page tables (no l1_linear_to_phys). */
static int walk(struct nest__vmx_insn *in, uint64_t la, bool write, uint64_t *gpa)
{
	if (!in->has_cr3)
		return NEST_E_MISSING_OP;
	return x86_translate(in, &in->ctx->be, la, write, gpa);
}

/* ---- L2's operands: L2 paging over EPT12 ---- */

/* The backend L2's page walk reads through: L2-physical addresses,
 * translated by EPT12 into L1-physical ones for the real backend. */
struct l2_view {
	const struct nest_backend *real;
	struct nest__vmx_l2_mem *m;
};

/* EPT12 for one access of L2's at L2-physical `gpa` (SDM 29.3.3): the
 * L1-physical address, or the fault recorded and NEST__VMX_EPT_FAULT.
 * Accessed and dirty flags of EPT12 are set as the processor sets them. */
static int ept12(const struct nest_backend *real, struct nest__vmx_l2_mem *m, uint64_t gpa,
		 uint32_t access, bool final, uint64_t *l1)
{
	struct nest_walk_result res;
	int rc =
	    nest_ept_walk(real, &m->cfg, m->eptp, gpa,
			  (access & NEST_ACC_W) ? NEST_ACC_W : NEST_ACC_R, NEST_WALK_SET_AD, &res);

	if (rc != NEST_OK)
		return rc;
	switch (res.status) {
	case NEST_WALK_OK:
		*l1 = res.addr;
		return NEST_OK;
	case NEST_WALK_FAULT:
	case NEST_WALK_MISCONFIG:
		m->status = res.status;
		m->access = access;
		m->rights = res.rights;
		m->final = final;
		m->gpa = gpa;
		return NEST__VMX_EPT_FAULT;
	case NEST_WALK_NO_MEMORY:
		return NEST_E_FAULT; /* an EPT12 table L0 does not back */
	default:
		return NEST_E_STATE; /* RACE, BAD_ROOT: vmcs12's EPTP passed the entry checks */
	}
}

static int l2_view_read(void *c, uint64_t gpa, void *buf, size_t len)
{
	struct l2_view *v = c;
	uint64_t l1;
	int rc;

	/* A paging-structure entry: aligned, inside one page. */
	if ((gpa & PAGE_OFFSET_MASK) + len > PAGE_SIZE)
		return NEST_E_INVAL;
	rc = ept12(v->real, v->m, gpa, v->m->walk_access, false, &l1);
	if (rc != NEST_OK)
		return rc;
	return nest__be_read(v->real, l1, buf, len);
}

static const struct nest_backend_ops l2_view_ops = {
    .size = sizeof(struct nest_backend_ops),
    .read_l1 = l2_view_read,
};

/* L2 paging (vmcs02's control registers and CR3), then EPT12: linear to
 * L1-physical, #PF for L2 (queued like L1's, the caller routes it), or an
 * EPT12 fault. */
static int l2_translate(struct nest__vmx_insn *in, uint64_t la, bool write, uint64_t *gpa)
{
	struct nest__vmx_l2_mem *m = in->l2;
	const struct nest_backend *real = &in->ctx->be;
	struct l2_view view = {real, m};
	struct nest_backend vbe = {&l2_view_ops, &view};
	uint64_t l2pa = la;
	int rc;

	m->gla = la;
	if (in->regs.cr0 & X86_CR0_PG) {
		rc = x86_translate(in, m->ept ? &vbe : real, la, write, &l2pa);
		/* EPT12 refused a paging-structure read (recorded). */
		if (rc == NEST_E_FAULT && m->ept && m->status != 0)
			return NEST__VMX_EPT_FAULT;
		if (rc != NEST_OK)
			return rc;
	}
	if (!m->ept) {
		*gpa = l2pa;
		return NEST_OK;
	}
	return ept12(real, m, l2pa, write ? NEST_ACC_W : NEST_ACC_R, true, gpa);
}

/* L1 paging: linear to L1-physical, or #PF with the walker's error code. */
static int translate(struct nest__vmx_insn *in, uint64_t la, bool write, uint64_t *gpa)
{
	const struct nest_backend *be = &in->ctx->be;
	uint32_t pf_error = 0;
	int rc;

	if (in->l2 != NULL)
		return l2_translate(in, la, write, gpa);

	if (!(in->regs.cr0 & X86_CR0_PG)) {
		*gpa = la;
		return NEST_OK;
	}
	if (!NEST_BE_HAS(be, l1_linear_to_phys))
		return walk(in, la, write, gpa);
	/* CPL is 0 here (checked before any operand access): a supervisor access. */
	rc = be->ops->l1_linear_to_phys(be->ctx, la, write ? NEST_ACC_W : NEST_ACC_R, gpa,
					&pf_error);
	if (rc == NEST_E_FAULT)
		return nest__vmx_inject(in, X86_EXC_PF, true, pf_error, la);
	return rc;
}

/* The operand's pieces: one per page it touches (at most two). */
struct pieces {
	unsigned n;
	uint64_t gpa[2];
	unsigned len[2];
};

static int map_operand(struct nest__vmx_insn *in, unsigned size, bool write, struct pieces *p)
{
	uint64_t la, la2;
	unsigned first;
	int rc;

	if (size == 0 || size > MAX_OPERAND)
		return NEST_E_INVAL;
	rc = linear_address(in, size, write, &la);
	if (rc != NEST_OK)
		return rc;
	first = (unsigned)(PAGE_SIZE - (la & PAGE_OFFSET_MASK));
	if (first > size)
		first = size;
	rc = translate(in, la, write, &p->gpa[0]);
	if (rc != NEST_OK)
		return rc;
	p->len[0] = first;
	p->n = 1;
	if (first < size) {
		/* The next page's linear address wraps like the segment offset. */
		la2 = la + first;
		if (!in->mode64)
			la2 &= OFFSET_MAX_32;
		rc = translate(in, la2, write, &p->gpa[1]);
		if (rc != NEST_OK)
			return rc;
		p->len[1] = size - first;
		p->n = 2;
	}
	return NEST_OK;
}

int nest__vmx_operand_read(struct nest__vmx_insn *in, void *buf, unsigned size)
{
	struct pieces p;
	unsigned i, off = 0;
	int rc = map_operand(in, size, false, &p);

	if (rc != NEST_OK)
		return rc;
	for (i = 0; i < p.n; i++) {
		rc = nest__be_read(&in->ctx->be, p.gpa[i], (uint8_t *)buf + off, p.len[i]);
		if (rc != NEST_OK)
			return rc;
		off += p.len[i];
	}
	return NEST_OK;
}

int nest__vmx_operand_write(struct nest__vmx_insn *in, const void *buf, unsigned size)
{
	struct pieces p;
	unsigned i, off = 0;
	int rc = map_operand(in, size, true, &p);

	if (rc != NEST_OK)
		return rc;
	for (i = 0; i < p.n; i++) {
		rc = nest__be_write(&in->ctx->be, p.gpa[i], (const uint8_t *)buf + off, p.len[i]);
		if (rc != NEST_OK)
			return rc;
		off += p.len[i];
	}
	return NEST_OK;
}
