/* SPDX-License-Identifier: MIT */
/*
 * The VM exit libnest synthesizes into L1 (reflect.c; SDM 28.2-28.7):
 * the exit report, the pure steps (exit information, L2's guest state,
 * L1's host state) and the reflection through the backend.
 */
#ifndef NEST_VMX_REFLECT_H
#define NEST_VMX_REFLECT_H

#include <stdbool.h>
#include <stdint.h>

#include <nest/vmx.h>

#include "vmx/vmcs02.h"
#include "vmx/vmcs12.h"

/* What a VM exit into L1 reports (SDM 28.2), as read from vmcs02 or made
 * up for an exit libnest synthesizes. */
struct nest__vmx_exit_report {
	uint32_t reason;
	uint32_t intr_info, intr_error;
	uint32_t idt_info, idt_error;
	uint32_t insn_len, insn_info;
	uint64_t qual;
	uint64_t gla, gpa;
	uint64_t io_rcx, io_rsi, io_rdi, io_rip;
	uint32_t timer; /* L1's remaining VMX-preemption timer value */
};

/* Write the exit-information fields of vmcs12 (SDM 28.2) and clear the
 * valid bit of its VM-entry interruption-information field, as every VM
 * exit does. */
void nest__vmx_write_exit_info(struct nest__vmcs12 *v, const struct nest__vmx_exit_report *r);

/* Save L2's guest state from a vmcs02 image into vmcs12 (SDM 28.3),
 * honouring vmcs12's VM-exit save controls; CR0/CR4 bits that only L0
 * owns are taken from vmcs02's read shadows (L2's view of them). */
void nest__vmx_save_guest(struct nest__vmcs12 *v, const struct nest__vmcs12 *v02,
			  const struct nest__vmx_exit_report *r);

/* L1's state after the VM exit (SDM 28.5 "Loading Host State"), from
 * vmcs12's host-state area and VM-exit controls, as vmcs01 guest-state
 * fields: `set` names the fields to write, `o` receives them (its other
 * fields are left as they were). */
void nest__vmx_load_host_state(struct nest__vmcs12 *o, struct nest__vmx_fieldset *set,
			       const struct nest__vmcs12 *v, const struct nest__vmx_l1_now *l1);

struct nest_vmx;

/* The VM exit into L1 through the backend (SDM 28.2-28.6): exit
 * information, L2's guest state (read from vmcs02) unless save_guest is
 * false (failed VM entry), L1's host state into vmcs01, the VM-exit
 * MSR-store and MSR-load areas (a failure there is a VMX abort, 28.7). */
int nest__vmx_reflect(struct nest_vmx *ctx, struct nest__vmx_exit_report *r, bool save_guest,
		      struct nest_vmx_action *act);

/* vmcs02 for instructions of L2 libnest carries out (exit.c). put02
 * writes a field and keeps the cache in step (the hardware changed guest
 * state since the cache was written, so no comparison with it);
 * complete_l2 ends the instruction: RIP past it (wrapping at 4 GiB outside
 * 64-bit mode), blocking by STI or MOV SS over (SDM 26.4.2). */
int nest__vmx_put02(struct nest_vmx *ctx, uint32_t enc, uint64_t val);
int nest__vmx_complete_l2(struct nest_vmx *ctx, uint32_t insn_len);

/* An exception of L2's instruction: the exit to L1 its exception bitmap
 * asks for, else queued for L2 (nest_vmx_l2_exception()). */
int nest__vmx_l2_raise(struct nest_vmx *ctx, uint32_t vector, uint32_t error, uint64_t payload,
		       struct nest_vmx_action *a);

/* The boundary after an instruction of L2 that completed outside the
 * processor (exit.c): its single-step trap, then L1's monitor trap flag (an
 * MTF VM exit into L1), else RESUME_L2. */
int nest__vmx_l2_boundary(struct nest_vmx *ctx, struct nest_vmx_action *act);

/* Guest-state fields read from vmcs02 at every reflected exit. */
bool nest__vmx_per_exit_field(unsigned index);

#endif /* NEST_VMX_REFLECT_H */
