/* SPDX-License-Identifier: MIT */
/*
 * One VMX instruction being emulated for L1, and its operands: the memory
 * operand described by the VM-exit instruction-information field (SDM
 * 28.2.5) and the exit qualification (the displacement), translated
 * through L1's segmentation and paging.
 */
#ifndef NEST_VMX_OPERAND_H
#define NEST_VMX_OPERAND_H

#include <stdbool.h>
#include <stdint.h>

#include <nest/tdp.h>

#include "vmx/context.h"

/* Internal status: an exception was queued in the action for L1; the
 * instruction ends there. Never returned by a public call. */
#define NEST__VMX_INJECTED (-1)

/* L2's memory operand (l2vmrw.c): L2's paging (page tables read through
 * EPT12 when L1 uses EPT), then EPT12. An EPT12 fault on the way is
 * recorded here and the access ends with NEST__VMX_EPT_FAULT. */
struct nest__vmx_l2_mem {
	bool ept;		    /* vmcs12 enables EPT */
	uint64_t eptp;		    /* vmcs12's EPT pointer */
	struct nest_ept_config cfg; /* EPT as offered to L1 */
	uint32_t walk_access; /* how EPT12 sees reads of L2's paging structures */
	/* out: the EPT12 fault */
	uint32_t status; /* NEST_WALK_FAULT, or NEST_WALK_MISCONFIG */
	uint32_t access; /* NEST_ACC_R or NEST_ACC_W */
	uint32_t rights; /* what EPT12 granted (NEST_ACC_*) */
	bool final;	 /* the operand itself, not one of L2's paging structures */
	uint64_t gpa;	 /* the L2-physical address */
	uint64_t gla;	 /* the linear address of the operand */
};

/* Internal status: an EPT12 fault during an access of L2's (struct
 * nest__vmx_l2_mem says which); the instruction becomes an exit to L1. */
#define NEST__VMX_EPT_FAULT (-2)

struct nest__vmx_insn {
	struct nest_vmx *ctx;
	struct nest_vmx_exit exit;    /* copied in: the caller's struct is read once */
	struct nest_vmx_l1_regs regs; /* copied in */
	struct nest_vmx_action act;   /* built here, copied out at the end */
	bool mode64;                  /* 64-bit mode: IA32_EFER.LMA = 1 and CS.L = 1 */
	bool has_cr3;                 /* the caller's regs include CR3 (libnest may walk) */
	/* L2's instruction (its registers in regs): memory operands go through
	 * L2's paging and EPT12; NULL for L1's. */
	struct nest__vmx_l2_mem *l2;
};

/* Queue an exception for L1 and return NEST__VMX_INJECTED. */
int nest__vmx_inject(struct nest__vmx_insn *in, uint8_t vector, bool has_error_code,
		     uint32_t error_code, uint64_t cr2);

/* Outcomes and checks shared by the instruction handlers (insn.c):
 * VMsucceed; VMfail(n) (VMfailValid with a current VMCS, else
 * VMfailInvalid, SDM 31.2); the #UD/#GP(0) checks of every VMX
 * instruction but VMXON (outside VMX operation, real/virtual-8086/
 * compatibility mode, CPL > 0). Each returns NEST_OK with the action
 * filled, or NEST__VMX_INJECTED; nest__vmx_check_root() returns NEST_OK
 * when the instruction goes on. */
int nest__vmx_succeed(struct nest__vmx_insn *in);
int nest__vmx_fail(struct nest__vmx_insn *in, uint32_t error);
int nest__vmx_check_root(struct nest__vmx_insn *in);

/* INVEPT and INVVPID (invalidate.c). */
int nest__vmx_handle_invept(struct nest__vmx_insn *in);
int nest__vmx_handle_invvpid(struct nest__vmx_insn *in);

/* Read or write `size` (1..16) bytes of the instruction's memory operand.
 * Returns NEST_OK, NEST__VMX_INJECTED (#GP/#SS/#PF queued), or a status
 * for the caller (malformed instruction information, no way to
 * translate under L1 paging, backend failure). Linear addresses go
 * through the backend's l1_linear_to_phys, or, without it, through
 * libnest's own x86 walk of L1's page tables from regs.cr3. A write translates every page it
 * touches before writing any byte. */
int nest__vmx_operand_read(struct nest__vmx_insn *in, void *buf, unsigned size);
int nest__vmx_operand_write(struct nest__vmx_insn *in, const void *buf, unsigned size);

#endif /* NEST_VMX_OPERAND_H */
