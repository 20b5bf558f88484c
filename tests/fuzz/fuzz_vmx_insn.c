/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness of L1's VMX instructions and VMX MSRs. The first byte
 * picks the configuration (features, physical-address width, IA32_FEATURE_
 * CONTROL); then each 64-byte record is one L1 event: an exit for VMXON,
 * VMXOFF, VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, INVEPT or INVVPID with arbitrary
 * instruction information, qualification, length, registers, mode and
 * CPL, or an RDMSR/WRMSR. The remaining bytes fill L1 memory, which also
 * holds VMXON/VMCS regions with the right revision so that deep paths are
 * reached.
 *
 * Oracle, after every call: the status is a known code; on error the
 * action is NEST_VMX_ACT_NONE; on success the action is a resume with a
 * VMsucceed/VMfail flag pattern and a legal VM-instruction error number,
 * or an injection of #UD/#GP(0)/#SS(0)/#PF; L1's VMX-operation state
 * keeps its invariants (pointers aligned, within the width, distinct).
 * The simulated backend refuses any access outside L1 memory, and
 * ASan/UBSan abort on any undefined behaviour.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nest/nest.h>

#include "sim.h"
#include "vmx/vmcs12.h"
/* The VMX helpers of the simulated backend, compiled into this harness. */
#include "sim_vmx.h"

#define MEM_SIZE (64u * 1024u)
#define RECORD 64u
#define MAX_RECORDS 48u
#define INSN_REASONS 9u
#define FILL_BASE 0x8010u /* L1 memory filled from the input from here */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t reasons[INSN_REASONS] = {27, 26, 19, 21, 22, 23, 25, 50, 53};
static const uint32_t msrs[] = {0x3a,  0x480, 0x481, 0x482, 0x483, 0x484,     0x485, 0x486,
				0x487, 0x488, 0x489, 0x48a, 0x48b, 0x48c,     0x48d, 0x48e,
				0x48f, 0x490, 0x491, 0x492, 0x493, 0xc0000080};

#define FUZZ_NAME "fuzz_vmx_insn"
#include "invariant.h"

static bool legal_vmfail(uint32_t n)
{
	return n == 2 || n == 3 || n == 9 || n == 10 || n == 11 || n == 12 || n == 13 || n == 15 ||
	       n == 28;
}

static void check_action(int rc, const struct nest_vmx_action *a, bool insn)
{
	const uint64_t arith = 0x8d5;

	CHECK(a->size == sizeof(*a));
	if (rc != NEST_OK) {
		CHECK(rc > 0 && rc <= NEST_E_MISSING_OP);
		CHECK(a->kind == NEST_VMX_ACT_NONE);
		return;
	}
	if (a->kind == NEST_VMX_ACT_INJECT) {
		CHECK(a->vector == 6 || a->vector == 12 || a->vector == 13 || a->vector == 14);
		CHECK((a->vector == 6) == !a->has_error_code);
		if (a->vector == 12 || a->vector == 13)
			CHECK(a->error_code == 0);
		return;
	}
	CHECK(a->kind == NEST_VMX_ACT_RESUME_L1);
	if (!insn) {
		CHECK(a->flags == 0);
		return;
	}
	CHECK(a->flags & NEST_VMX_ACT_F_RIP);
	switch (a->result) {
	case NEST_VMX_SUCCEED:
		CHECK((a->rflags & arith) == 0 && a->vm_instruction_error == 0);
		break;
	case NEST_VMX_FAIL_INVALID:
		CHECK((a->rflags & arith) == 1 && a->vm_instruction_error == 0);
		break;
	case NEST_VMX_FAIL_VALID:
		CHECK((a->rflags & arith) == 0x40 && legal_vmfail(a->vm_instruction_error));
		break;
	default:
		CHECK(0);
	}
	if (a->flags & NEST_VMX_ACT_F_GPR)
		CHECK(a->gpr < 16);
}

static void check_state(struct nest_vmx *ctx, unsigned maxphyaddr)
{
	struct nest_vmx_status st = {.size = sizeof(st)};

	CHECK(nest_vmx_get_status(ctx, &st) == NEST_OK);
	if (!st.in_vmx_operation) {
		CHECK(st.vmxon_ptr == NEST_VMX_INVALID_VMPTR);
		CHECK(st.current_vmptr == NEST_VMX_INVALID_VMPTR);
		return;
	}
	CHECK((st.vmxon_ptr & 0xfff) == 0 && (st.vmxon_ptr >> maxphyaddr) == 0);
	if (st.current_vmptr != NEST_VMX_INVALID_VMPTR) {
		CHECK((st.current_vmptr & 0xfff) == 0 && (st.current_vmptr >> maxphyaddr) == 0);
		CHECK(st.current_vmptr != st.vmxon_ptr);
		CHECK(st.launch_state <= 1);
	}
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A register value: raw, or steered into L1 memory (often page aligned). */
static uint64_t steer(uint64_t raw, uint8_t how)
{
	switch (how & 3) {
	case 0:
		return raw;
	case 1:
		return raw & (MEM_SIZE - 1);
	case 2:
		return raw & (MEM_SIZE - 1) & ~0xfffull;
	default:
		return raw & 0x7fff; /* a plausible field encoding */
	}
}

static void set_mode(struct nest_vmx_l1_regs *r, uint8_t m)
{
	switch (m % 8) {
	case 0:
	case 1:
	case 2:
		sim_vmx_regs64(r);
		break;
	case 3:
		sim_vmx_regs32(r);
		break;
	case 4: /* compatibility mode */
		sim_vmx_regs64(r);
		r->seg[NEST_VMX_SEG_CS].ar &= ~(1u << 13);
		break;
	case 5: /* real mode */
		sim_vmx_regs32(r);
		r->cr0 &= ~1ull;
		break;
	case 6: /* virtual-8086 */
		sim_vmx_regs32(r);
		r->rflags |= 1ull << 17;
		break;
	default: /* 32-bit without paging */
		sim_vmx_regs32(r);
		r->cr0 &= ~(1ull << 31);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void *mem;
	struct sim s;
	struct nest_vmx_caps host;
	struct nest_vmx_config cfg;
	struct nest_vmx *ctx;
	size_t nrec, i, rest;
	uint8_t sel;

	if (size < 1)
		return 0;
	if (mem == NULL)
		mem = aligned_alloc(64, (nest_vmx_size() + 63) & ~(size_t)63);
	if (sim_init(&s, MEM_SIZE, 1) != 0)
		abort();
	sel = data[0];
	data++;
	size--;

	sim_vmx_host_caps(&host);
	if (sel & 0x80)
		host.basic &= ~(1ull << 55);
	sim_vmx_config(&cfg, &host);
	cfg.features = (sel & 1) ? NEST_VMX_F_ALL : (uint32_t)(sel * 0x9e3779b9u) & NEST_VMX_F_ALL;
	cfg.vmx_allowed = (sel & 0x6) != 0x6;
	cfg.l1_maxphyaddr = (sel & 0x8) ? 36 : 46;
	cfg.feature_control = (sel & 0x10) ? 0 : 5;
	s.l1_identity_paging = (sel & 0x60) != 0x60;
	if (nest_vmx_init(mem, nest_vmx_size(), sim_backend(&s), &cfg, &ctx) != NEST_OK)
		abort();

	nrec = size / RECORD;
	if (nrec > MAX_RECORDS)
		nrec = MAX_RECORDS;
	/* L1 memory: regions with libnest's revision at 4 KiB steps, then
	 * whatever bytes follow the records. */
	for (i = 0; i < MEM_SIZE / 4096; i++)
		sim_write32(&s, i * 4096, NEST_VMCS12_REVISION);
	rest = size - nrec * RECORD;
	if (rest > MEM_SIZE - FILL_BASE)
		rest = MEM_SIZE - FILL_BASE;
	memcpy(sim_ptr(&s, FILL_BASE, rest), data + nrec * RECORD, rest);

	for (i = 0; i < nrec; i++) {
		const uint8_t *r = data + i * RECORD;
		struct nest_vmx_action act;
		struct nest_vmx_l1_regs regs;
		struct nest_vmx_exit ex;
		unsigned g;
		int rc;

		memset(&act, 0xcc, sizeof(act));
		act.size = sizeof(act);
		s.fail_read_after = (r[1] == 0xff) ? (unsigned long)(r[2] & 3) + 1 : 0;
		s.fail_write_after = (r[1] == 0xfe) ? (unsigned long)(r[2] & 3) + 1 : 0;
		if (r[0] >= 0xf0) {
			uint32_t msr = msrs[r[3] % (sizeof(msrs) / sizeof(msrs[0]))];
			uint64_t v = get64(r + 8);

			if (r[0] & 1) {
				rc = nest_vmx_wrmsr(ctx, msr, v, &act);
			} else {
				rc = nest_vmx_rdmsr(ctx, msr, &v, &act);
			}
			if (rc == NEST_E_NOENT)
				continue;
			check_action(rc, &act, false);
		} else {
			set_mode(&regs, r[1]);
			regs.cpl = (r[2] & 0xf0) ? 0 : (r[2] & 3);
			regs.rip = get64(r + 8);
			regs.rflags = (get32(r + 4) & 0x3f7fd5u) | 2u;
			if (r[3] & 1)
				regs.cr4 &= ~(1ull << 13);
			if (r[3] & 2)
				regs.cr4 |= 1ull << 12; /* LA57 */
			for (g = 0; g < 16; g++)
				regs.gpr[g] = steer(get64(r + 16 + (g % 3) * 8) ^ (g * 0x1111ull),
						    (uint8_t)(r[48 + g % 8] >> (g / 8 * 2)));
			regs.seg[r[3] >> 5 & 7 ? (r[3] >> 5) % 6 : 3].limit = get32(r + 56);
			regs.seg[(r[60] >> 4) % 6].ar ^= (uint32_t)r[60] << 12 | (r[61] & 0xf);
			regs.seg[4].base = get64(r + 16) & 0xffffffff;
			/* Without l1_linear_to_phys libnest walks L1's tables from here. */
			regs.cr3 = steer(get64(r + 24), 2);
			sim_vmx_exit(&ex, reasons[r[0] % INSN_REASONS], get32(r + 40), 0);
			ex.qualification = (int64_t)(int32_t)get32(r + 44);
			ex.insn_len = (r[62] & 0xf) ? (r[62] & 0xf) : 3;
			if (r[63] == 0xff)
				ex.insn_len = 16; /* a caller error */
			rc = nest_vmx_l1_exit(ctx, &ex, &regs, &act);
#ifdef FUZZ_VMX_TRACE
			fprintf(stderr, "exit %u: rc %d kind %u result %u error %u vector %u\n",
				ex.reason, rc, act.kind, act.result, act.vm_instruction_error,
				act.vector);
#endif
			check_action(rc, &act, true);
		}
		check_state(ctx, cfg.l1_maxphyaddr);
	}
	sim_fini(&s);
	return 0;
}
