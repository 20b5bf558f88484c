/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness of nested entry and exit. The first byte picks L0's
 * needs (its required exits, exception bitmap, CR masks, preemption timer,
 * VMCS shadowing); the next 512 bytes are L0's MSR bitmap (low reads and
 * writes, repeated); then 12-byte records, each one event:
 *   - a write of an arbitrary value to an arbitrary vmcs12 field (the
 *     vmcs12 starts as the entry checks' valid baseline, so that many
 *     entries succeed and the exit paths are reached);
 *   - VMLAUNCH or VMRESUME by L1;
 *   - an exit of L2 with an arbitrary reason, qualification, interruption
 *     and IDT-vectoring information, registers and guest-state change;
 *   - an event for L1 (interrupt, NMI, INIT, SIPI).
 * The rest of the input fills L1 memory (bitmaps, MSR areas). Some runs
 * (a bit of the L0 bitmap's last byte) start from a vmcs12 that gives L2
 * VMCS shadowing, with bitmaps and a shadow VMCS in that memory, so that
 * the VMREAD and VMWRITE exits of L2 reach libnest's shadowed path; every
 * L2 exit gets an arbitrary instruction information and length.
 *
 * Oracle, after every call (the invariants of docs/trust-model.md): statuses are known
 * codes and actions legal; after an entry, every exit control and bitmap
 * bit L0 asked for is set in vmcs02 and vmcs02's host state equals
 * vmcs01's; an entry reads L1 memory at most five times (MSR bitmap, I/O
 * bitmaps A and B, MSR-load and MSR-store areas) and an exit at most once;
 * ASan/UBSan abort on undefined behaviour.
 *
 * Every input runs twice: with the VMRESUME fast path (the entry checks
 * and the vmcs02 merge redone only for what changed), then with every
 * entry forced through all checks and the full merge (when the first run
 * skipped a check group or the merge at least once). After each record
 * the two runs must agree on the status, the action (kind, result, VMfail
 * number, flags), the entry's failing rule, vmcs12 and vmcs02.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nest/nest.h>

#include "sim.h"
#include "vmx/context.h"
/* The valid baseline vmcs12 and the simulated backend's VMX helpers. */
#include "test_vmx_entry_baseline.h"
#include "sim_vmx.h"

#define MEM_SIZE (256u * 1024u)
#define RECORD 12u
#define MAX_RECORDS 64u
#define L0_BITMAP_BYTES 512u
#define VMXON_GPA 0x1000ull
#define VMCS_GPA 0x2000ull
#define PTR_GPA 0x100ull
#define FILL_BASE 0x3000u
/* L1's VMCS shadowing for L2, in the filled memory (random bitmaps). */
#define RDBM_GPA 0x8000ull
#define WRBM_GPA 0x9000ull
#define SHADOW_GPA 0xa000ull

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NAME "fuzz_vmx_nested"
#include "invariant.h"
#include "oracle_vmx.h"

/* What one record leaves observable (compared between the two runs). */
struct obs {
	int rc;
	uint32_t kind, result, error, flags, rule;
	uint64_t digest; /* the backend's vmcs02 after an entry */
	struct nest__vmcs12 v12, v02;
};

static struct sim S;
static struct obs obs[2][MAX_RECORDS];
/* Entries of the first run that skipped a check group or the full merge. */
static unsigned fast_used;
static void *mem;
static struct nest_vmx *ctx;
static struct nest_vmx_l1_regs regs;
static struct nest_vmx_l0 l0;
static uint8_t l0_msr[4096];
static uint8_t l0_io[8192];
static struct nest_vmx_caps host;

static uint64_t get(enum nest_vmcs_id id, uint32_t enc)
{
	uint64_t v = 0;

	sim_vmcs_get(&S, id, enc, &v);
	return v;
}

static bool known_status(int rc)
{
	return rc >= NEST_OK && rc <= NEST_E_MISSING_OP;
}

static int l1_exec(uint32_t reason, uint32_t info, struct nest_vmx_action *a)
{
	struct nest_vmx_exit e;

	sim_vmx_exit(&e, reason, info, 0);
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	return nest_vmx_l1_exit(ctx, &e, &regs, a);
}

static int l1_m64(uint32_t reason, uint64_t value, struct nest_vmx_action *a)
{
	sim_write64(&S, PTR_GPA, value);
	regs.gpr[3] = PTR_GPA;
	return l1_exec(reason, sim_vmx_info_mem(NEST_VMX_SEG_DS, 3, SIM_NO_REG, 0, SIM_ADDR64), a);
}

/* Invariants 2 and 4 (docs/trust-model.md) on the vmcs02 the backend holds, and
 * the oracles of issue #13: vmcs02 is one the processor enters, its MSR
 * lists are empty, its bitmaps keep L0's, L1's and the x2APIC intercepts
 * (with and without L0 bitmaps). */
static void check_vmcs02(void)
{
	const uint8_t *merged = sim_pool_hva(&S, get(NEST_VMCS02, NEST_VMCS_MSR_BITMAP));
	const struct nest__vmx_l1_bitmaps *bm = &ctx->nested.l1_bm;
	/* With the I/O bitmaps on, unconditional I/O exiting is ignored: it
	 * is in the merged bitmaps instead (checked below). */
	uint32_t proc = l0.proc & ~NEST_VMX_PROC_UNCOND_IO_EXITING;
	bool l0_all_io = (l0.proc & NEST_VMX_PROC_UNCOND_IO_EXITING) &&
			 !(l0.proc & NEST_VMX_PROC_USE_IO_BITMAPS);
	unsigned i;

	CHECK((get(NEST_VMCS02, NEST_VMCS_PIN_BASED_VM_EXEC_CONTROL) & l0.pin) == l0.pin);
	CHECK((get(NEST_VMCS02, NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & proc) == proc);
	CHECK((get(NEST_VMCS02, NEST_VMCS_SECONDARY_VM_EXEC_CONTROL) & l0.proc2) == l0.proc2);
	CHECK(get(NEST_VMCS02, NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_USE_IO_BITMAPS);
	/* Without a TPR shadow, L2's MOV CR8 exits (never the hardware TPR). */
	if (!(get(NEST_VMCS02, NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) & NEST_VMX_PROC_USE_TPR_SHADOW))
		CHECK((get(NEST_VMCS02, NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) &
		       (NEST_VMX_PROC_CR8_LOAD_EXITING | NEST_VMX_PROC_CR8_STORE_EXITING)) ==
		      (NEST_VMX_PROC_CR8_LOAD_EXITING | NEST_VMX_PROC_CR8_STORE_EXITING));
	oracle_vmcs02_msr_lists(&ctx->nested.vmcs02_cache);
	oracle_msr_bitmap(merged,
			  (uint32_t)((get(NEST_VMCS02, NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) &
				      NEST_VMX_PROC_ACTIVATE_SECONDARY)
					 ? get(NEST_VMCS02, NEST_VMCS_SECONDARY_VM_EXEC_CONTROL)
					 : 0),
			  l0.msr_bitmap ? l0_msr : NULL, bm->msr_valid ? bm->msr : NULL);
	oracle_io_bitmaps(sim_pool_hva(&S, get(NEST_VMCS02, NEST_VMCS_IO_BITMAP_A)),
			  sim_pool_hva(&S, get(NEST_VMCS02, NEST_VMCS_IO_BITMAP_B)),
			  l0.io_bitmap ? l0_io : NULL, l0_all_io);
	oracle_vmcs02_enterable(&ctx->nested.vmcs02_cache, &host);
	CHECK((get(NEST_VMCS02, NEST_VMCS_EXCEPTION_BITMAP) & l0.exception_bitmap) ==
	      l0.exception_bitmap);
	CHECK((get(NEST_VMCS02, NEST_VMCS_CR0_GUEST_HOST_MASK) & l0.cr0_mask) == l0.cr0_mask);
	CHECK((get(NEST_VMCS02, NEST_VMCS_CR4_GUEST_HOST_MASK) & l0.cr4_mask) == l0.cr4_mask);
	CHECK(get(NEST_VMCS02, NEST_VMCS_CPU_BASED_VM_EXEC_CONTROL) &
	      NEST_VMX_PROC_USE_MSR_BITMAPS);
	CHECK(get(NEST_VMCS02, NEST_VMCS_VM_ENTRY_MSR_LOAD_COUNT) == 0);
	CHECK(get(NEST_VMCS02, NEST_VMCS_VM_EXIT_MSR_LOAD_COUNT) == 0);
	for (i = 0; i < nest_vmcs_field_count(); i++) {
		const struct nest_vmcs_field *f = nest_vmcs_field_at(i);

		if (f->type == NEST_VMCS_T_HOST)
			CHECK(get(NEST_VMCS02, f->encoding) == get(NEST_VMCS01, f->encoding));
	}
}

/* FNV-1a (of the backend's vmcs02 fields after an entry). */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static void observe(struct obs *o, int rc, const struct nest_vmx_action *a, bool entry)
{
	uint64_t h = 0xcbf29ce484222325ull, v;
	unsigned i;

	memset(o, 0, sizeof(*o));
	o->rc = rc;
	if (a != NULL) {
		o->kind = a->kind;
		o->result = a->result;
		o->error = a->vm_instruction_error;
		o->flags = a->flags;
	}
	o->rule = entry ? ctx->nested.fast.last_rule : 0;
	o->v12 = ctx->vmcs12;
	o->v02 = ctx->nested.vmcs02_cache;
	for (i = 0; entry && i < nest_vmcs_field_count(); i++) {
		v = get(NEST_VMCS02, nest_vmcs_field_at(i)->encoding);
		h = fnv(h, &v, sizeof(v));
	}
	/* ... and the merged bitmap pages vmcs02 names. */
	if (entry && ctx->nested.msr_bitmap_hva != NULL) {
		h = fnv(h, ctx->nested.msr_bitmap_hva, 4096);
		h = fnv(h, ctx->nested.io_bitmap_hva, 4096);
		h = fnv(h, ctx->nested.io_bitmap_b_hva, 4096);
	}
	o->digest = h;
}

/* L0 tracking writes to L1's bitmap pages (the fast pass): it reports each. */
static void l1_wrote(void *arg, uint64_t gpa)
{
	(void)arg;
	CHECK(nest_vmx_l1_written(ctx, gpa) == NEST_OK);
}

static void check_action(int rc, const struct nest_vmx_action *a)
{
	CHECK(known_status(rc));
	if (rc != NEST_OK)
		return;
	CHECK(a->kind >= NEST_VMX_ACT_RESUME_L1 && a->kind <= NEST_VMX_ACT_L0_HANDLES);
}

static void setup(uint8_t cfg, const uint8_t *bitmap)
{
	struct nest_vmx_config c;
	struct nest_vmx_action a;
	struct fx base;
	uint32_t rev;
	unsigned i;
	uint8_t more = bitmap[L0_BITMAP_BYTES - 1];

	fx_init(&base);
	sim_vmx_host_caps(&host);
	sim_vmx_config(&c, &host);
	if (nest_vmx_init(mem, nest_vmx_size(), sim_backend(&S), &c, &ctx) != NEST_OK)
		abort();
	sim_vmx_regs64(&regs);
	sim_vmx_region(&S, VMXON_GPA, NEST_VMCS12_REVISION);
	sim_vmx_region(&S, VMCS_GPA, NEST_VMCS12_REVISION);
	/* vmcs01: L0's host state (a valid one: vmcs02 takes it, and the
	 * processor checks it), L1's guest state. */
	for (i = 0; i < nest_vmcs_field_count(); i++) {
		const struct nest_vmcs_field *f = nest_vmcs_field_at(i);
		uint64_t v;

		if (f->type == NEST_VMCS_T_HOST && nest__vmcs12_read(&base.v, f->encoding, &v))
			sim_vmcs_set(&S, NEST_VMCS01, f->encoding, v);
	}
	sim_vmcs_set(&S, NEST_VMCS01, NEST_VMCS_HOST_RIP, 0xffffffff80100000ull);
	sim_vmcs_set(&S, NEST_VMCS01, NEST_VMCS_HOST_CR3, 0x7000000ull);
	sim_vmcs_set(&S, NEST_VMCS01, NEST_VMCS_GUEST_CR0, FX_CR0);
	sim_vmcs_set(&S, NEST_VMCS01, NEST_VMCS_GUEST_IA32_EFER, FX_EFER);

	memset(&l0, 0, sizeof(l0));
	l0.size = sizeof(l0);
	l0.pin = (cfg & 1) ? NEST_VMX_PIN_PREEMPTION_TIMER : 0;
	l0.preemption_timer = (cfg & 1) ? 1000u : 0;
	l0.proc = ((cfg & 2) ? NEST_VMX_PROC_HLT_EXITING : 0) |
		  ((cfg & 4) ? NEST_VMX_PROC_CR3_LOAD_EXITING : 0);
	l0.proc2 = NEST_VMX_PROC2_ENABLE_EPT | ((cfg & 8) ? NEST_VMX_PROC2_WBINVD_EXITING : 0);
	l0.exception_bitmap = (1u << X86_EXC_MC) | ((cfg & 16) ? (1u << X86_EXC_PF) : 0);
	l0.cr0_mask = (cfg & 32) ? X86_CR0_TS : 0;
	l0.cr4_mask = (cfg & 32) ? X86_CR4_VMXE : 0;
	l0.flags = (cfg & 64) ? NEST_VMX_L0_F_SHADOW_VMCS : 0;
	l0.vpid02 = (cfg & 128) ? 5 : 0;
	l0.exit_ctls = NEST_VMX_EXIT_CTL_HOST_ADDR_SPACE_SIZE | NEST_VMX_EXIT_CTL_LOAD_EFER |
		       NEST_VMX_EXIT_CTL_LOAD_PAT;
	l0.eptp01 = 0x7100000ull | VMX_EPTP_MEMTYPE_WB | VMX_EPTP_PWL_4;
	memset(l0_msr, 0, sizeof(l0_msr));
	for (i = 0; i < L0_BITMAP_BYTES; i++)
		l0_msr[i] = l0_msr[2048 + i] = bitmap[i];
	/* Issue #13: L0's intercepts must survive with and without its
	 * bitmaps: the last bitmap byte picks whether L0 gives an MSR bitmap,
	 * an I/O bitmap, and unconditional I/O exiting. */
	l0.msr_bitmap = (more & 2) ? NULL : l0_msr;
	for (i = 0; i < sizeof(l0_io); i++)
		l0_io[i] = bitmap[i % L0_BITMAP_BYTES] & bitmap[(i * 7) % L0_BITMAP_BYTES];
	l0.io_bitmap = (more & 4) ? l0_io : NULL;
	if (more & 8)
		l0.proc |= NEST_VMX_PROC_UNCOND_IO_EXITING;
	if ((more & 16) && l0.io_bitmap != NULL)
		l0.proc |= NEST_VMX_PROC_USE_IO_BITMAPS;
	if (nest_vmx_set_l0(ctx, &l0) != NEST_OK)
		abort();
	if (l1_m64(NEST_VMX_EXIT_VMXON, VMXON_GPA, &a) != NEST_OK ||
	    l1_m64(NEST_VMX_EXIT_VMPTRLD, VMCS_GPA, &a) != NEST_OK || a.result != NEST_VMX_SUCCEED)
		abort();
	/* Some runs allow 1024-entry MSR lists (IA32_VMX_MISC[27:25] = 1). */
	if (bitmap[L0_BITMAP_BYTES - 1] & 1)
		base.caps.misc |= 1ull << VMX_MISC_MAX_MSR_LIST_SHIFT;
	ctx->caps = base.caps;
	fuzz_caps_within_host(&ctx->caps, &host);
	rev = ctx->vmcs12.revision;
	ctx->vmcs12 = base.v;
	ctx->vmcs12.revision = rev;
	ctx->vmcs12.SECONDARY_VM_EXEC_CONTROL &=
	    ~(NEST_VMX_PROC2_ENABLE_EPT | NEST_VMX_PROC2_UNRESTRICTED_GUEST);
	if (more & 32) {
		ctx->caps.procbased2 |= (uint64_t)NEST_VMX_PROC2_VMCS_SHADOWING << 32;
		ctx->vmcs12.SECONDARY_VM_EXEC_CONTROL |= NEST_VMX_PROC2_VMCS_SHADOWING;
		ctx->vmcs12.VMREAD_BITMAP = RDBM_GPA;
		ctx->vmcs12.VMWRITE_BITMAP = WRBM_GPA;
		ctx->vmcs12.VMCS_LINK_POINTER = SHADOW_GPA;
	}
}

static void one_record(const uint8_t *r, struct obs *o)
{
	struct nest_vmx_action a;
	struct nest_vmx_l2_regs l2;
	struct nest_vmx_exit e;
	uint32_t w32;
	uint64_t w64;
	unsigned long reads;
	int rc;

	memcpy(&w32, r + 4, 4);
	memcpy(&w64, r + 4, 8);
	switch (r[0] % 8) {
	case 0:
	case 1: { /* an arbitrary vmcs12 field (L1's VMWRITE, or the shadow) */
		const struct nest_vmcs_field *f =
		    nest_vmcs_field_at((size_t)(r[1] | (r[2] << 8)) % nest_vmcs_field_count());

		/* While L2 runs, the hardware changes only its guest state. */
		if (nest_vmx_in_l2(ctx)) {
			if (f->type == NEST_VMCS_T_GUEST)
				sim_vmcs_set(&S, NEST_VMCS02, f->encoding, w64);
		} else if ((r[3] & 6) == 6) {
			/* L1 stores a byte into one of its bitmaps (as vmcs12 names them). */
			const uint64_t at[3] = {ctx->vmcs12.MSR_BITMAP, ctx->vmcs12.IO_BITMAP_A,
						ctx->vmcs12.IO_BITMAP_B};
			uint64_t gpa = (at[r[1] % 3] & ~0xfffull) + (r[2] & 0x3f);

			if (gpa < MEM_SIZE)
				sim_l1_store(&S, gpa, r + 4, 1);
		} else if (r[3] & 1)
			sim_vmcs_set(&S, NEST_VMCS_SHADOW, f->encoding, w64);
		else
			nest__vmcs12_write(&ctx->vmcs12, f->encoding, w64);
		observe(o, NEST_OK, NULL, false);
		return;
	}
	case 2: /* VMLAUNCH / VMRESUME */
		reads = S.calls.read_l1;
		rc = l1_exec((r[1] & 1) ? NEST_VMX_EXIT_VMRESUME : NEST_VMX_EXIT_VMLAUNCH, 0, &a);
		check_action(rc, &a);
		observe(o, rc, &a, true);
		if (ctx->nested.fast.last_groups != NEST__VMX_CHECK_ALL ||
		    !ctx->nested.fast.last_full_merge)
			fast_used++;
		CHECK(S.calls.read_l1 - reads <= 5);
		if (rc == NEST_OK && a.kind == NEST_VMX_ACT_ENTER_L2) {
			CHECK(nest_vmx_in_l2(ctx));
			check_vmcs02();
		}
		return;
	case 3:
	case 4:
	case 5: /* an exit of L2 */
		sim_vmcs_set(&S, NEST_VMCS02, NEST_VMCS_VM_EXIT_REASON,
			     (r[1] % 80) | ((r[2] & 0x80) ? 0x80000000u : 0));
		sim_vmcs_set(&S, NEST_VMCS02, NEST_VMCS_EXIT_QUALIFICATION, w64);
		sim_vmcs_set(&S, NEST_VMCS02, NEST_VMCS_VM_EXIT_INTR_INFO,
			     (r[2] & 1) ? (0x80000000u | (w32 & 0xfff)) : 0);
		sim_vmcs_set(&S, NEST_VMCS02, NEST_VMCS_IDT_VECTORING_INFO_FIELD,
			     (r[2] & 2) ? (0x80000000u | (r[3] | ((r[2] & 0x70u) << 4))) : 0);
		sim_vmcs_set(&S, NEST_VMCS02, NEST_VMCS_VMX_INSTRUCTION_INFO, w64 >> 32);
		sim_vmcs_set(&S, NEST_VMCS02, NEST_VMCS_VM_EXIT_INSTRUCTION_LEN, 1 + (r[3] & 15));
		memset(&l2, 0, sizeof(l2));
		l2.size = sizeof(l2);
		memset(l2.gpr, r[3], sizeof(l2.gpr));
		l2.gpr[1] = w32;
		l2.gpr[2] = w32 & 0x7fff; /* a VMCS field encoding, often */
		memset(&e, 0, sizeof(e));
		e.size = sizeof(e);
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		reads = S.calls.read_l1;
		rc = nest_vmx_l2_exit(ctx, &e, &l2, &a);
		check_action(rc, &a);
		observe(o, rc, &a, false);
		/* One read of L1 memory (the exit's MSR lists), or, for a VMREAD
		 * or VMWRITE L1's VMCS shadowing lets through, each structure
		 * once: the bitmap byte, the shadow VMCS, L2's page tables and
		 * EPT12 on the way (5 levels, each through 4 of EPT12), the
		 * operand's pages and their EPT12 walks. */
		CHECK(S.calls.read_l1 - reads <= (((r[1] % 80) == NEST_VMX_EXIT_VMREAD ||
						    (r[1] % 80) == NEST_VMX_EXIT_VMWRITE)
							   ? 40
							   : 1));
		if (rc == NEST_OK && a.kind == NEST_VMX_ACT_RESUME_L1)
			CHECK(!nest_vmx_in_l2(ctx));
		return;
	case 6: /* an event for L1, an exception L0 raises in L2, or the end
		 * of an instruction L0 carried out for L2 */
		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		if ((r[3] & 3) == 3)
			rc = nest_vmx_l2_emulated(ctx, &a);
		else if (r[3] & 1)
			rc = nest_vmx_l2_exception(ctx, r[1] % 34, w32, w64, &a);
		else
			rc = nest_vmx_l2_event(ctx, r[1] % 5, r[2], &a);
		check_action(rc, &a);
		observe(o, rc, &a, false);
		return;
	default: /* L0 changes its needs */
		l0.exception_bitmap ^= 1u << (r[1] % 32);
		l0.exception_bitmap |= 1u << X86_EXC_MC;
		CHECK(nest_vmx_set_l0(ctx, &l0) == NEST_OK);
		observe(o, NEST_OK, NULL, false);
		return;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nrec, i, fill;
	unsigned pass;

	if (size < 1 + L0_BITMAP_BYTES)
		return 0;
	if (mem == NULL) {
		mem = aligned_alloc(64, (nest_vmx_size() + 63) & ~(size_t)63);
		if (mem == NULL)
			abort();
	}
	nrec = (size - 1 - L0_BITMAP_BYTES) / RECORD;
	if (nrec > MAX_RECORDS)
		nrec = MAX_RECORDS;
	fast_used = 0;
	/* The second run is needed only if the first skipped something. */
	for (pass = 0; pass < 2 && (pass == 0 || fast_used != 0); pass++) {
		const uint8_t *rec = data + 1 + L0_BITMAP_BYTES;

		if (sim_init(&S, MEM_SIZE, 8) != 0)
			abort();
		/* The fast pass has L0 track the bitmap pages; the reference
		 * reads them at every entry. */
		S.track_writes = pass == 0;
		S.on_write = l1_wrote;
		setup(data[0], data + 1);
		/* Pass 1 is the reference: every entry takes the full path. */
		nest__vmx_entry_force_full(ctx, pass == 1);
		fill = size - 1 - L0_BITMAP_BYTES - nrec * RECORD;
		if (fill > MEM_SIZE - FILL_BASE)
			fill = MEM_SIZE - FILL_BASE;
		memcpy(sim_ptr(&S, FILL_BASE, fill), rec + nrec * RECORD, fill);
		/* A shadow VMCS's header (the rest as filled). */
		if (ctx->vmcs12.VMCS_LINK_POINTER == SHADOW_GPA) {
			uint32_t hdr = NEST_VMCS12_REVISION | NEST_VMCS12_SHADOW_INDICATOR;

			memcpy(sim_ptr(&S, SHADOW_GPA, sizeof(hdr)), &hdr, sizeof(hdr));
		}
		for (i = 0; i < nrec; i++)
			one_record(rec + i * RECORD, &obs[pass][i]);
		sim_fini(&S);
	}
	for (i = 0; fast_used != 0 && i < nrec; i++) {
		CHECK(obs[0][i].rc == obs[1][i].rc);
		CHECK(obs[0][i].kind == obs[1][i].kind);
		CHECK(obs[0][i].result == obs[1][i].result);
		CHECK(obs[0][i].error == obs[1][i].error);
		CHECK(obs[0][i].flags == obs[1][i].flags);
		CHECK(obs[0][i].rule == obs[1][i].rule);
		CHECK(obs[0][i].digest == obs[1][i].digest);
		CHECK(memcmp(&obs[0][i].v12, &obs[1][i].v12, sizeof(obs[0][i].v12)) == 0);
		CHECK(memcmp(&obs[0][i].v02, &obs[1][i].v02, sizeof(obs[0][i].v02)) == 0);
	}
	return 0;
}
