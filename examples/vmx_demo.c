/* SPDX-License-Identifier: MIT */
/*
 * libnest's VMX instruction emulation on a small in-memory L0: an L1
 * "script" of VMXON, VMCLEAR, VMPTRLD, VMWRITE, VMREAD, VMPTRST, a bad
 * VMPTRLD and VMXOFF, each presented to libnest the way hardware reports
 * the exit (exit reason, qualification, instruction information, L1's
 * registers), with libnest's answer printed. L1 runs in 64-bit mode with
 * identity paging over 1 MiB of memory.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nest/nest.h>

#define L1_RAM_SIZE (1u << 20)
#define PAGE 4096u

static unsigned char l1_ram[L1_RAM_SIZE];

static int in_ram(uint64_t gpa, size_t len)
{
	return gpa <= sizeof(l1_ram) && len <= sizeof(l1_ram) - gpa;
}

static int read_l1(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (!in_ram(gpa, len))
		return NEST_E_FAULT;
	memcpy(buf, l1_ram + gpa, len);
	return NEST_OK;
}

static int write_l1(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	if (!in_ram(gpa, len))
		return NEST_E_FAULT;
	memcpy(l1_ram + gpa, buf, len);
	return NEST_OK;
}

/* L1's paging: identity below 1 MiB, not present above. */
static int l1_linear_to_phys(void *ctx, uint64_t gla, uint32_t access, uint64_t *gpa,
			     uint32_t *pf_error)
{
	(void)ctx;
	if (gla >= sizeof(l1_ram)) {
		*pf_error = (access & NEST_ACC_W) ? 2u : 0u;
		return NEST_E_FAULT;
	}
	*gpa = gla;
	return NEST_OK;
}

/* Instruction-information fields (Intel SDM 28.2.5). */
#define GPR_RAX 0u
#define GPR_RCX 1u
#define GPR_RBX 3u
#define INFO_M64_RBX ((2u << 7) | (3u << 15) | (1u << 22) | (GPR_RBX << 23)) /* DS:[RBX], 64-bit */
#define INFO_REG(r1, r2) ((1u << 10) | ((r1) << 3) | ((r2) << 28))

/* Basic exit reasons (SDM appendix C). */
#define EXIT_VMCLEAR 19u
#define EXIT_VMPTRLD 21u
#define EXIT_VMPTRST 22u
#define EXIT_VMREAD 23u
#define EXIT_VMWRITE 25u
#define EXIT_VMXOFF 26u
#define EXIT_VMXON 27u

#define MSR_IA32_VMX_BASIC 0x480u
#define OPERAND_GPA 0x100u
#define VMXON_GPA 0x1000u
#define VMCS_GPA 0x2000u

static struct nest_vmx *vmx;
static struct nest_vmx_l1_regs regs;

static void setup_regs(void)
{
	int i;

	memset(&regs, 0, sizeof(regs));
	regs.size = sizeof(regs);
	regs.rip = 0x400000;
	regs.rflags = 0x2;
	regs.cr0 = 0x80000033u; /* PG NE ET MP PE */
	regs.cr4 = 0x2020u;     /* VMXE PAE */
	regs.efer = 0x500u;     /* LMA LME */
	for (i = 0; i < 6; i++) {
		regs.seg[i].selector = 0x10;
		regs.seg[i].limit = 0xffffffffu;
		regs.seg[i].ar = 0xc093u; /* data, read/write, present */
	}
	regs.seg[NEST_VMX_SEG_CS].selector = 0x08;
	regs.seg[NEST_VMX_SEG_CS].ar = 0xa09bu; /* 64-bit code */
}

static const char *outcome(const struct nest_vmx_action *a, char *buf, size_t n)
{
	if (a->kind == NEST_VMX_ACT_INJECT) {
		snprintf(buf, n, "inject vector %u", a->vector);
		return buf;
	}
	switch (a->result) {
	case NEST_VMX_SUCCEED:
		return "VMsucceed";
	case NEST_VMX_FAIL_INVALID:
		return "VMfailInvalid (CF=1)";
	case NEST_VMX_FAIL_VALID:
		snprintf(buf, n, "VMfailValid(%u) (ZF=1)", a->vm_instruction_error);
		return buf;
	default:
		return "?";
	}
}

/* Present one exit to libnest, print the answer, and apply it to L1. */
static struct nest_vmx_action run(const char *what, uint32_t reason, uint32_t info)
{
	struct nest_vmx_exit e = {sizeof(e), reason, 0, info, 3};
	struct nest_vmx_action a;
	char buf[64];
	int rc;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	rc = nest_vmx_l1_exit(vmx, &e, &regs, &a);
	if (rc != NEST_OK) {
		printf("%-34s -> error %s\n", what, nest_status_name(rc));
		exit(1);
	}
	printf("%-34s -> %s", what, outcome(&a, buf, sizeof(buf)));
	if (a.flags & NEST_VMX_ACT_F_GPR) {
		printf(", register %u = %#" PRIx64, a.gpr, a.gpr_value);
		regs.gpr[a.gpr] = a.gpr_value;
	}
	printf("\n");
	if (a.flags & NEST_VMX_ACT_F_RIP) {
		regs.rip = a.rip;
		regs.rflags = a.rflags;
	}
	return a;
}

static void m64(const char *what, uint32_t reason, uint64_t value)
{
	memcpy(l1_ram + OPERAND_GPA, &value, sizeof(value));
	regs.gpr[GPR_RBX] = OPERAND_GPA;
	run(what, reason, INFO_M64_RBX);
}

int main(void)
{
	static struct nest_backend_ops ops;
	struct nest_backend be;
	struct nest_vmx_caps host, offered;
	struct nest_vmx_config cfg;
	struct nest_vmx_action a;
	const struct nest_vmcs_field *rip_field;
	uint64_t basic, v;
	uint32_t rev;
	void *mem;
	int rc;

	ops.size = sizeof(ops);
	ops.read_l1 = read_l1;
	ops.write_l1 = write_l1;
	ops.l1_linear_to_phys = l1_linear_to_phys;
	be.ops = &ops;
	be.ctx = NULL;

	/* The host: a recent Intel processor's capability MSRs. */
	memset(&host, 0, sizeof(host));
	host.size = sizeof(host);
	host.basic = 0x00da040000000004ull;
	host.pinbased = 0x0000007f00000016ull;
	host.procbased = 0xfff9fffe0401e172ull;
	host.exit = 0x01ffffff00036dffull;
	host.entry = 0x0003ffff000011ffull;
	host.misc = 0x000000007004c1e7ull;
	host.cr0_fixed0 = 0x80000021ull;
	host.cr0_fixed1 = 0xffffffffull;
	host.cr4_fixed0 = 0x2000ull;
	host.cr4_fixed1 = 0x3767ffull;
	host.procbased2 = 0x0057cfff00000000ull;
	host.ept_vpid = 0x00000f0106734141ull;
	host.true_pinbased = 0x0000007f00000016ull;
	host.true_procbased = 0xfff9fffe04006172ull;
	host.true_exit = 0x01ffffff00036dfbull;
	host.true_entry = 0x0003ffff000011fbull;
	host.vmfunc = 1;

	memset(&cfg, 0, sizeof(cfg));
	cfg.size = sizeof(cfg);
	cfg.vmx_allowed = 1;
	cfg.host_caps = &host;
	cfg.features = NEST_VMX_F_ALL;
	cfg.l1_maxphyaddr = 39;
	cfg.feature_control = 0x5; /* locked, VMXON outside SMX enabled */

	mem = aligned_alloc(64, (nest_vmx_size() + 63) & ~(size_t)63);
	if (mem == NULL)
		return 1;
	rc = nest_vmx_init(mem, nest_vmx_size(), &be, &cfg, &vmx);
	if (rc != NEST_OK) {
		printf("nest_vmx_init: %s\n", nest_strerror(rc));
		return 1;
	}
	printf("libnest %s: nested VMX context of %zu bytes\n", nest_version_string(),
	       nest_vmx_size());

	offered.size = sizeof(offered);
	nest_vmx_offered_caps(vmx, &offered);
	a.size = sizeof(a);
	nest_vmx_rdmsr(vmx, MSR_IA32_VMX_BASIC, &basic, &a);
	printf("L1 reads IA32_VMX_BASIC = %#018" PRIx64 " (revision %#x, VMCS size %u)\n", basic,
	       (unsigned)(basic & 0x7fffffffu), (unsigned)((basic >> 32) & 0x1fffu));
	printf("L1 is offered secondary controls %#010x (host allows %#010x)\n\n",
	       (unsigned)(offered.procbased2 >> 32), (unsigned)(host.procbased2 >> 32));

	/* L1 prepares its VMXON and VMCS regions with the offered revision. */
	rev = (uint32_t)(basic & 0x7fffffffu);
	memcpy(l1_ram + VMXON_GPA, &rev, sizeof(rev));
	memcpy(l1_ram + VMCS_GPA, &rev, sizeof(rev));
	setup_regs();

	m64("VMXON [0x1000]", EXIT_VMXON, VMXON_GPA);
	m64("VMCLEAR [0x2000]", EXIT_VMCLEAR, VMCS_GPA);
	m64("VMPTRLD [0x2000]", EXIT_VMPTRLD, VMCS_GPA);
	regs.gpr[GPR_RCX] = NEST_VMCS_GUEST_RIP;
	regs.gpr[GPR_RAX] = 0xfeed0000;
	run("VMWRITE GUEST_RIP, 0xfeed0000", EXIT_VMWRITE, INFO_REG(GPR_RAX, GPR_RCX));
	regs.gpr[GPR_RAX] = 0;
	run("VMREAD RAX, GUEST_RIP", EXIT_VMREAD, INFO_REG(GPR_RAX, GPR_RCX));
	m64("VMPTRST [0x100]", EXIT_VMPTRST, 0);
	memcpy(&v, l1_ram + OPERAND_GPA, sizeof(v));
	printf("%-34s    memory at 0x100 = %#" PRIx64 "\n", "", v);
	m64("VMPTRLD [0x2010] (not aligned)", EXIT_VMPTRLD, VMCS_GPA + 0x10);
	m64("VMPTRLD [0x1000] (VMXON pointer)", EXIT_VMPTRLD, VMXON_GPA);
	regs.gpr[GPR_RCX] = NEST_VMCS_VM_INSTRUCTION_ERROR;
	run("VMREAD RAX, VM_INSTRUCTION_ERROR", EXIT_VMREAD, INFO_REG(GPR_RAX, GPR_RCX));
	regs.gpr[GPR_RCX] = 0x7fff;
	run("VMREAD RAX, 0x7fff (no such field)", EXIT_VMREAD, INFO_REG(GPR_RAX, GPR_RCX));
	m64("VMCLEAR [0x2000]", EXIT_VMCLEAR, VMCS_GPA);
	rip_field = nest_vmcs_field_by_encoding(NEST_VMCS_GUEST_RIP);
	memcpy(&v, l1_ram + VMCS_GPA + rip_field->offset, sizeof(v));
	printf("%-34s    GUEST_RIP in L1's VMCS region = %#" PRIx64 "\n", "", v);
	regs.gpr[GPR_RCX] = NEST_VMCS_GUEST_RIP;
	run("VMREAD RAX, GUEST_RIP (no VMCS)", EXIT_VMREAD, INFO_REG(GPR_RAX, GPR_RCX));
	run("VMXOFF", EXIT_VMXOFF, 0);
	run("VMXOFF (outside VMX operation)", EXIT_VMXOFF, 0);
	regs.cpl = 3;
	m64("VMXON at CPL 3", EXIT_VMXON, VMXON_GPA);
	free(mem);
	return 0;
}
