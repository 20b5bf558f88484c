/* SPDX-License-Identifier: MIT */
/*
 * INVEPT and INVVPID executed by L1 (exit reasons 50 and 53), following the
 * "Operation" sections of their entries in the SDM (Vol. 3C chapter 32,
 * "VMX Instruction Reference"; 31 in older editions), checks in the
 * manual's order:
 *
 *   #UD  the instruction is not offered (SDM: "If the logical processor
 *        does not support EPT/VPIDs, or does not support INVEPT/INVVPID"),
 *        outside VMX operation, real/virtual-8086/compatibility mode;
 *   #GP(0) CPL > 0;
 *   VMfail(28) a type IA32_VMX_EPT_VPID_CAP does not offer;
 *   the descriptor (128 bits) is read: #GP/#SS/#PF as for any operand;
 *   VMfail(28) INVEPT: single-context with an EPTP a VM entry would
 *        reject; INVVPID: descriptor bits 63:16 set, VPID 0 for types
 *        0, 1 and 3, a non-canonical address for type 0;
 *   VMsucceed.
 *
 * The invalidation itself is L0's:
 *   - INVEPT: L2 runs on the shadow EPT02 that libnest builds from EPT12
 *     (nest/tdp.h); single-context empties every shadow of the EPTP's table
 *     (bits 51:12), global every shadow. The shadow layer flushes the
 *     hardware's EPT02 translations (NEST_FLUSH_EPT_CONTEXT), and the next
 *     EPT violation of L2 rebuilds from L1's current EPT12.
 *   - INVVPID: every VPID of L1 (vpid12) runs as L0's vpid02 (struct
 *     nest_vmx_l0), which holds the translations of the last vpid12 only
 *     (a different vpid12 flushes it at entry). Individual-address
 *     invalidation flushes that address of vpid02, the other types flush
 *     vpid02 entirely: "the instruction may also invalidate mappings
 *     associated with other VPIDs" (SDM 29.4.3.1, 28.3.3.1 in older
 *     editions).
 *     Without a vpid02, L2's translations are tagged VPID 0 and every
 *     VM entry and exit flushes them (SDM 29.4.3.1): nothing to do.
 */
#include "vmx/operand.h"

#include <nest/tdp.h>

#include "cpu/x86.h"
#include "vmx/vmx_arch.h"

/* INVEPT types (SDM 29.4.3.1 and INVEPT). */
#define INVEPT_SINGLE_CONTEXT 1u
#define INVEPT_GLOBAL 2u

/* INVVPID types (SDM 29.4.3.1 and INVVPID). */
#define INVVPID_INDIVIDUAL_ADDRESS 0u
#define INVVPID_SINGLE_CONTEXT 1u
#define INVVPID_ALL_CONTEXT 2u
#define INVVPID_SINGLE_CONTEXT_NONGLOBAL 3u

/* The 128-bit descriptors (SDM figures "INVEPT Descriptor" and "INVVPID
 * Descriptor"): INVEPT: EPTP in bits 63:0, 127:64 reserved; INVVPID: VPID
 * in bits 15:0, 63:16 reserved, linear address in 127:64. */
#define INV_DESC_SIZE 16u
#define INVVPID_VPID_MASK 0xffffull

/* Instruction information of INVEPT/INVVPID (SDM 28.2.5, table "Format of
 * the VM-Exit Instruction-Information Field as Used for INVEPT, INVPCID,
 * and INVVPID"): bit 10 is undefined, the operand is always in memory. */
#define INSN_INFO_BIT10 (1u << 10)

#define VA_BITS_LA48 48u
#define VA_BITS_LA57 57u
#define CAP_ALLOWED1_SHIFT 32 /* control capability MSRs: allowed-1 in bits 63:32 (SDM A.3) */

/* The type operand: the register named by instruction-information bits
 * 31:28, 64 bits in 64-bit mode and 32 bits outside it. */
static uint64_t type_operand(const struct nest__vmx_insn *in)
{
	uint64_t v = in->regs.gpr[VMX_INSN_INFO_REG2(in->exit.insn_info)];

	return in->mode64 ? v : (v & 0xffffffffull);
}

/* #UD when L1 was not offered the instruction, then the checks every VMX
 * instruction but VMXON makes (#UD, #GP(0)). */
static int check_offered(struct nest__vmx_insn *in, uint32_t proc2_bit, uint64_t cap_bit)
{
	const struct nest_vmx_caps *c = &in->ctx->caps;
	uint32_t proc2_allowed1 = (uint32_t)(c->procbased2 >> CAP_ALLOWED1_SHIFT);

	if (!(proc2_allowed1 & proc2_bit) || !(c->ept_vpid & cap_bit))
		return nest__vmx_inject(in, X86_EXC_UD, false, 0, 0);
	return nest__vmx_check_root(in);
}

/* Read the 128-bit descriptor once into L0 memory. */
static int read_descriptor(struct nest__vmx_insn *in, uint64_t desc[2])
{
	in->exit.insn_info &= ~INSN_INFO_BIT10;
	return nest__vmx_operand_read(in, desc, INV_DESC_SIZE);
}

/* Whether a VM entry with "enable EPT" takes this EPTP (SDM 27.2.1.1): the
 * same rules as the entry checks, against the capabilities L1 was offered. */
bool nest__vmx_eptp_valid(const struct nest_vmx *ctx, uint64_t eptp)
{
	struct nest_ept_config cfg;

	nest__memset(&cfg, 0, sizeof(cfg));
	cfg.ept_vpid_cap = ctx->caps.ept_vpid;
	cfg.maxphyaddr = (uint8_t)ctx->l1_maxphyaddr;
	return nest_ept_eptp_valid(eptp, &cfg) != 0;
}

int nest__vmx_handle_invept(struct nest__vmx_insn *in)
{
	struct nest_vmx *ctx = in->ctx;
	struct nest_tdp *tdp = ctx->nested.l0.pub.tdp;
	uint64_t type, desc[2];
	int rc = check_offered(in, NEST_VMX_PROC2_ENABLE_EPT, VMX_EPT_CAP_INVEPT);

	if (rc != NEST_OK)
		return rc;
	type = type_operand(in);
	if (!(type == INVEPT_SINGLE_CONTEXT && (ctx->caps.ept_vpid & VMX_EPT_CAP_INVEPT_SINGLE)) &&
	    !(type == INVEPT_GLOBAL && (ctx->caps.ept_vpid & VMX_EPT_CAP_INVEPT_ALL)))
		return nest__vmx_fail(in, VMXERR_INVALID_OPERAND_INVEPT_INVVPID);
	rc = read_descriptor(in, desc);
	if (rc != NEST_OK)
		return rc;
	/* The Operation section checks only the EPTP of a single-context
	 * invalidation; bits 127:64 are not examined. */
	if (type == INVEPT_SINGLE_CONTEXT) {
		struct nest_tdp_l1_root root;

		if (!nest__vmx_eptp_valid(ctx, desc[0]))
			return nest__vmx_fail(in, VMXERR_INVALID_OPERAND_INVEPT_INVVPID);
		if (tdp != NULL) {
			nest__memset(&root, 0, sizeof(root));
			root.kind = NEST_TDP_EPT;
			root.pointer = desc[0];
			rc = nest_tdp_sync_root(tdp, &root);
		}
	} else if (tdp != NULL) {
		rc = nest_tdp_invalidate_all(tdp);
	}
	if (rc != NEST_OK)
		return rc;
	return nest__vmx_succeed(in);
}

int nest__vmx_handle_invvpid(struct nest__vmx_insn *in)
{
	static const uint64_t type_cap[] = {
	    [INVVPID_INDIVIDUAL_ADDRESS] = VMX_VPID_CAP_INVVPID_ADDR,
	    [INVVPID_SINGLE_CONTEXT] = VMX_VPID_CAP_INVVPID_SINGLE,
	    [INVVPID_ALL_CONTEXT] = VMX_VPID_CAP_INVVPID_ALL,
	    [INVVPID_SINGLE_CONTEXT_NONGLOBAL] = VMX_VPID_CAP_INVVPID_SINGLE_NONGLOBAL,
	};
	struct nest_vmx *ctx = in->ctx;
	uint32_t vpid02 = ctx->nested.l0.pub.vpid02;
	uint64_t type, desc[2];
	unsigned va_bits;
	int rc = check_offered(in, NEST_VMX_PROC2_ENABLE_VPID, VMX_VPID_CAP_INVVPID);

	if (rc != NEST_OK)
		return rc;
	type = type_operand(in);
	if (type >= NEST_ARRAY_SIZE(type_cap) || !(ctx->caps.ept_vpid & type_cap[type]))
		return nest__vmx_fail(in, VMXERR_INVALID_OPERAND_INVEPT_INVVPID);
	rc = read_descriptor(in, desc);
	if (rc != NEST_OK)
		return rc;
	if (desc[0] & ~INVVPID_VPID_MASK)
		return nest__vmx_fail(in, VMXERR_INVALID_OPERAND_INVEPT_INVVPID);
	if (type != INVVPID_ALL_CONTEXT && desc[0] == 0)
		return nest__vmx_fail(in, VMXERR_INVALID_OPERAND_INVEPT_INVVPID);
	/* Canonical for the linear-address width L1 may use: 57 bits when
	 * CR4.LA57 is allowed (as the entry checks decide), else 48. */
	va_bits = (ctx->caps.cr4_fixed1 & X86_CR4_LA57) ? VA_BITS_LA57 : VA_BITS_LA48;
	if (type == INVVPID_INDIVIDUAL_ADDRESS && !x86_is_canonical(desc[1], va_bits))
		return nest__vmx_fail(in, VMXERR_INVALID_OPERAND_INVEPT_INVVPID);
	if (vpid02 != 0) {
		if (type == INVVPID_INDIVIDUAL_ADDRESS)
			nest__be_flush(&ctx->be, NEST_FLUSH_VPID_ADDR, vpid02, desc[1]);
		else
			nest__be_flush(&ctx->be, NEST_FLUSH_VPID_CONTEXT, vpid02, 0);
	}
	return nest__vmx_succeed(in);
}
