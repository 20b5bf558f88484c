/* SPDX-License-Identifier: MIT */
/* VMX helpers for the simulated backend (see sim_vmx.h). */
#include "sim_vmx.h"

#include <string.h>

#define GPR_RAX 0u
#define GPR_R15 15u

void sim_vmx_host_caps(struct nest_vmx_caps *c)
{
	memset(c, 0, sizeof(*c));
	c->size = sizeof(*c);
	/* Revision 4, 1 KiB VMCS, WB, INS/OUTS info, TRUE_* MSRs. */
	c->basic = 0x00da040000000004ull;
	c->pinbased = 0x0000007f00000016ull;
	c->procbased = 0xfff9fffe0401e172ull;
	c->exit = 0x01ffffff00036dffull;
	c->entry = 0x0003ffff000011ffull;
	c->misc = 0x000000007004c1e7ull;
	c->cr0_fixed0 = 0x80000021ull;
	c->cr0_fixed1 = 0xffffffffull;
	c->cr4_fixed0 = 0x00002000ull;
	c->cr4_fixed1 = 0x003767ffull;
	c->vmcs_enum = 0x2eull;
	/* Every secondary control, including ones libnest must not offer. */
	c->procbased2 = 0xffffffff00000000ull;
	c->ept_vpid = 0x00000f0106734141ull;
	c->true_pinbased = 0x0000007f00000016ull;
	c->true_procbased = 0xfff9fffe04006172ull;
	c->true_exit = 0x01ffffff00036dfbull;
	c->true_entry = 0x0003ffff000011fbull;
	c->vmfunc = 0x1ull;
	c->procbased3 = 0xfull;
	c->exit2 = 0;
	c->feature_control = 0x5ull;
	c->maxphyaddr = 46;
}

void sim_vmx_config(struct nest_vmx_config *cfg, const struct nest_vmx_caps *host)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->vmx_allowed = 1;
	cfg->host_caps = host;
	cfg->features = NEST_VMX_F_ALL;
	cfg->l1_maxphyaddr = 46;
	cfg->feature_control = 0x5ull; /* lock | VMXON outside SMX */
	cfg->feature_control_extra = 0;
}

static void flat(struct nest_vmx_segment *s, uint16_t sel, uint32_t ar)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = 0;
	s->limit = 0xffffffffu;
	s->ar = ar;
}

/* Access rights: present, S, DPL 0, G; type 0x3 data RW accessed, 0xb code
 * execute/read accessed. */
#define AR_DATA 0xc093u
#define AR_CODE32 0xc09bu
#define AR_CODE64 0xa09bu

void sim_vmx_regs64(struct nest_vmx_l1_regs *r)
{
	unsigned i;

	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	r->cpl = 0;
	r->rip = 0x400000;
	r->rflags = 0x2;
	r->cr0 = 0x80000033ull; /* PG NE ET MP PE */
	r->cr4 = 0x2020ull;     /* VMXE PAE */
	r->efer = 0x500ull;     /* LMA LME */
	for (i = 0; i < 6; i++)
		flat(&r->seg[i], 0x10, AR_DATA);
	flat(&r->seg[NEST_VMX_SEG_CS], 0x08, AR_CODE64);
	for (i = GPR_RAX; i <= GPR_R15; i++)
		r->gpr[i] = 0;
}

void sim_vmx_regs32(struct nest_vmx_l1_regs *r)
{
	sim_vmx_regs64(r);
	r->efer = 0;
	flat(&r->seg[NEST_VMX_SEG_CS], 0x08, AR_CODE32);
}

uint32_t sim_vmx_info_mem(unsigned seg, unsigned base, unsigned index, unsigned scale,
			  unsigned addr_size)
{
	uint32_t info = (scale & 3u) | ((addr_size & 7u) << 7) | ((seg & 7u) << 15);

	if (index == SIM_NO_REG)
		info |= 1u << 22;
	else
		info |= (index & 0xfu) << 18;
	if (base == SIM_NO_REG)
		info |= 1u << 27;
	else
		info |= (base & 0xfu) << 23;
	return info;
}

uint32_t sim_vmx_info_reg(unsigned reg1, unsigned reg2)
{
	return (1u << 10) | ((reg1 & 0xfu) << 3) | ((reg2 & 0xfu) << 28);
}

uint32_t sim_vmx_info_mem_reg2(uint32_t mem_info, unsigned reg2)
{
	return (mem_info & 0x0fffffffu) | ((reg2 & 0xfu) << 28);
}

void sim_vmx_exit(struct nest_vmx_exit *e, uint32_t reason, uint32_t info, uint64_t qual)
{
	memset(e, 0, sizeof(*e));
	e->size = sizeof(*e);
	e->reason = reason;
	e->qualification = qual;
	e->insn_info = info;
	e->insn_len = 3;
}

void sim_vmx_region(struct sim *s, uint64_t gpa, uint32_t revision)
{
	memset(sim_ptr(s, gpa, 4096), 0, 4096);
	sim_write32(s, gpa, revision);
}
