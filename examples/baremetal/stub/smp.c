/* SPDX-License-Identifier: MIT */
/*
 * Several processors (SVM stub; what both stubs share is in smp_core.c).
 * Each processor runs one vCPU of L1 with its own vmcb01 and libnest
 * context, on the VM's shared shadow (nest_tdp_vcpu_init(),
 * svm_nested_libnest.c). An AP waits for L1's SIPI; L1's vCPU n runs on
 * the processor whose APIC ID is n, so L1's fixed IPIs go straight through
 * the local APIC, which stays L1's.
 *
 * With more than one processor the stub takes L1's writes to the local
 * APIC page (read-only in NPT01): INIT and SIPI in the ICR start or stop
 * L1's vCPUs here instead of resetting a real processor, NMIs become the
 * stub's own NMI IPIs (the stub intercepts NMI then: its NMI IPI, the
 * "kick", makes another processor leave its guest), every other write is
 * performed as L1 wrote it. A single processor runs as before: nothing
 * here is armed.
 */
#include <nest/nest.h>

#include "backend.h"
#include "insn_decode.h"
#include "smp_core.h"
#include "svm_nested.h"

/* Instruction decoding for L1's APIC writes. */
#define INSN_MAX 15
#define GPR_RAX_ 0
#define GPR_RSP_ 4

#define STOP_KICK_EVERY 100000u /* spins between two kicks of a running processor */

/* On the AP itself, first thing: it copies the BSP's stub state. */
void smp_ap_arrived(void)
{
	unsigned me = stub_cpu();

	smp_ap_copy_state();
	memset(&stub_cpus[me].regs, 0, sizeof(stub_cpus[me].regs));
	stub_cpus[me].regs.size = sizeof(stub_cpus[me].regs);
	smp_cpus[me].waiting = true;
	__atomic_store_n(&smp_cpus[me].stop_state, STOP_WAIT, __ATOMIC_SEQ_CST);
	__atomic_store_n(&smp_cpus[me].up, true, __ATOMIC_SEQ_CST);
}

/* The INIT smp_init_pending() gave stays pending (GIF clear). */
void smp_init_hold(void)
{
	__atomic_store_n(&smp_cpus[stub_cpu()].init, 1, __ATOMIC_SEQ_CST);
}

/* After L1's vCPU was reset by INIT: the APIC as INIT leaves it. */
void smp_init_done(void)
{
	smp_apic_reset();
}

/* Whether the NMI the stub just took is L1's (an NMI IPI L1 sent) rather
 * than a kick. With one processor every NMI is L1's (the platform's). */
bool smp_nmi_is_l1(void)
{
	if (stub_ncpus == 1)
		return true;
	return __atomic_exchange_n(&smp_cpus[stub_cpu()].l1_nmis, 0, __ATOMIC_SEQ_CST) != 0;
}

/* ---- stopping the other processors ---- */

static struct {
	volatile int lock; /* held by the processor stopping the others */
	volatile bool stop;
} rv;

/* Parks this processor while another one stops the others. */
static void park(void)
{
	struct smp_cpu *me = &smp_cpus[stub_cpu()];

	/* Running again only once no stop is under way after it says so: a
	 * stopper sets rv.stop before it reads the states, this processor
	 * says RUN before it reads rv.stop again (all sequentially
	 * consistent), so one of the two sees the other. */
	while (__atomic_load_n(&rv.stop, __ATOMIC_SEQ_CST)) {
		__atomic_store_n(&me->stop_state, STOP_PARK, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(&rv.stop, __ATOMIC_SEQ_CST))
			pause();
		__atomic_store_n(&me->stop_state, STOP_RUN, __ATOMIC_SEQ_CST);
	}
}

bool smp_stop_others(void)
{
	unsigned me = stub_cpu();
	uint64_t spins = 0;

	if (stub_ncpus == 1)
		return true;
	if (__atomic_exchange_n(&rv.lock, 1, __ATOMIC_ACQUIRE))
		return false;
	__atomic_store_n(&rv.stop, true, __ATOMIC_SEQ_CST);
	for (;; spins++) {
		bool all = true;

		for (unsigned i = 0; i < stub_ncpus; i++) {
			int w = STOP_WAIT;

			if (i == me || (i != 0 && !__atomic_load_n(&smp_cpus[i].up, __ATOMIC_SEQ_CST)))
				continue;
			/* One waiting for SIPI stays there (held) until the resume. */
			__atomic_compare_exchange_n(&smp_cpus[i].stop_state, &w, STOP_HELD, false,
						    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&smp_cpus[i].stop_state, __ATOMIC_SEQ_CST) != STOP_RUN)
				continue;
			all = false;
			/* Running: out of its guest, to its VMRUN, where it parks. */
			if (spins % STOP_KICK_EVERY == 0 &&
			    __atomic_load_n(&smp_cpus[i].in_guest, __ATOMIC_SEQ_CST))
				smp_kick(i);
		}
		if (all)
			return true;
		pause();
	}
}

void smp_resume_others(void)
{
	if (stub_ncpus == 1)
		return;
	for (unsigned i = 0; i < stub_ncpus; i++) {
		int w = STOP_HELD;
		__atomic_compare_exchange_n(&smp_cpus[i].stop_state, &w, STOP_WAIT, false,
					    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
	__atomic_store_n(&rv.stop, false, __ATOMIC_SEQ_CST);
	__atomic_store_n(&rv.lock, 0, __ATOMIC_RELEASE);
}

void smp_stop_others_wait(void)
{
	while (!smp_stop_others())
		park();
}

/* Just before VMRUN: the processor counts as in guest mode from here, so a
 * flush request made from now on kicks it; one made before is done now. */
void smp_enter(void)
{
	if (stub_ncpus == 1)
		return;
	struct smp_cpu *me = &smp_cpus[stub_cpu()];
	park();
	smp_limbo_step();
	__atomic_store_n(&me->in_guest, true, __ATOMIC_SEQ_CST);
	if (__atomic_exchange_n(&me->flush, false, __ATOMIC_SEQ_CST))
		stub_flush.control = TLB_CONTROL_FLUSH_ALL;
	if (me->icr_at_vmrun) {
		/* GIF stays clear up to the VMRUN (svm_run clears it again). */
		__asm__ volatile("clgi" ::: "memory");
		smp_apic_reg_write(APIC_ICR_LO, me->icr_at_vmrun);
		me->icr_at_vmrun = 0;
	}
}

void smp_exit(void)
{
	if (stub_ncpus == 1)
		return;
	struct smp_cpu *me = &smp_cpus[stub_cpu()];
	__atomic_fetch_add(&me->exits, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&me->in_guest, false, __ATOMIC_SEQ_CST);
}

/* A flush of what processor @cpu caches of NPT01 or NPT02, before it next
 * runs a guest: now if it is this one, else at its next VMRUN (kicked out
 * of its guest if it runs one). */
static void flush_cpu(unsigned cpu)
{
	if (cpu == stub_cpu()) {
		stub_flush.control = TLB_CONTROL_FLUSH_ALL;
		return;
	}
	__atomic_store_n(&smp_cpus[cpu].flush, true, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&smp_cpus[cpu].in_guest, __ATOMIC_SEQ_CST))
		smp_kick(cpu);
}

/* NPT01 changed: every processor flushes before it next runs a guest. */
void smp_flush_all(void)
{
	for (unsigned i = 0; i < stub_ncpus; i++)
		flush_cpu(i);
}

/* ---- the backend operations for a VM object shared by the processors ---- */

static void be_flush_vcpus(void *ctx, const struct nest_vcpu_set *set, uint32_t kind, uint64_t tag,
			   uint64_t addr)
{
	(void)ctx, (void)kind, (void)tag, (void)addr;
	stub_be_calls.flush++;
	/* NEST_FLUSH_NPT_ROOT (or anything else): the TLB_CONTROL flush of
	 * the next VMRUN, which drops L2's ASID with the rest. */
	for (unsigned i = 0; i < stub_ncpus; i++)
		if (set->bits[i / 64] & (1ull << (i % 64)))
			flush_cpu(i);
}

static struct nest_backend_ops smp_ops;
static struct nest_backend smp_backend = {.ops = &smp_ops};

/*
 * The backend of every libnest context when several processors run: the
 * stub's, with flush_vcpus, the VM lock, freed pages kept until the flush
 * requests before them are honoured, and without track_l1_writes
 * (the stub keeps one set of tracked pages, and each vCPU's context would
 * replace the others': libnest reads L1's permission maps at each VMRUN).
 */
const struct nest_backend *smp_nest_backend(void)
{
	if (stub_ncpus == 1)
		return &stub_backend;
	if (!smp_ops.size) {
		smp_ops = stub_backend_ops;
		smp_ops.flush_vcpus = be_flush_vcpus;
		smp_ops.vm_lock = smp_vm_lock;
		smp_ops.vm_unlock = smp_vm_unlock;
		smp_ops.track_l1_writes = NULL;
		smp_ops.page_free = smp_page_free;
	}
	return &smp_backend;
}

/* ---- L1's writes to its local APIC ---- */

/* L1 wrote @val to the ICR's low half: INIT, SIPI and NMI are the stub's
 * to carry out; the others go to the APIC as L1 wrote them. */
static void l1_icr(uint32_t lo)
{
	struct smp_cpu *me = &smp_cpus[stub_cpu()];
	uint32_t mode = (lo >> ICR_MODE_SHIFT) & ICR_MODE_MASK;
	uint32_t targets = smp_ipi_targets(lo, me->icr_hi);

	switch (mode) {
	case ICR_MODE_INIT:
		/* INIT level de-assert (level 0, level-triggered) does nothing on
		 * these processors (APM 16.5). */
		if (!(lo & ICR_LEVEL_ASSERT) && (lo & ICR_TRIGGER_LEVEL))
			return;
		for (unsigned i = 0; i < stub_ncpus; i++) {
			if (!(targets & (1u << i)))
				continue;
			__atomic_store_n(&smp_cpus[i].init, 1, __ATOMIC_SEQ_CST);
			if (i == stub_cpu())
				continue; /* taken before the next VMRUN */
			if (smp_cpus[i].waiting)
				smp_wake(i);
			else
				smp_kick(i);
		}
		return;
	case ICR_MODE_SIPI:
		/* Only a vCPU waiting for SIPI takes it (or one an INIT is on
		 * its way to); the others ignore it. */
		for (unsigned i = 0; i < stub_ncpus; i++) {
			if (!(targets & (1u << i)) || i == stub_cpu())
				continue;
			if (smp_cpus[i].waiting || smp_cpus[i].init) {
				__atomic_store_n(&smp_cpus[i].sipi, (lo & ICR_VECTOR_MASK) + 1,
						 __ATOMIC_SEQ_CST);
				smp_wake(i);
			}
		}
		return;
	case ICR_MODE_NMI:
		for (unsigned i = 0; i < stub_ncpus; i++) {
			if (!(targets & (1u << i)) || smp_cpus[i].waiting)
				continue;
			__atomic_fetch_add(&smp_cpus[i].l1_nmis, 1, __ATOMIC_SEQ_CST);
			smp_kick(i);
		}
		return;
	case ICR_MODE_SMI:
		/* GIF holds an SMI, IF does not: one for this processor, sent
		 * now, would be the stub's. It is sent with GIF clear just
		 * before the guest runs, which then takes it (smp_enter()). */
		if (targets & (1u << stub_cpu())) {
			me->icr_at_vmrun = lo;
			return;
		}
		smp_apic_reg_write(APIC_ICR_LO, lo);
		return;
	default:
		smp_apic_reg_write(APIC_ICR_LO, lo);
	}
}

/*
 * L1 wrote its local APIC page (the #NPF of a write there, @v vmcb01), or
 * L2 did through L1's map (@v vmcb02, @gpa the L1-physical address):
 * decodes the instruction (MOV to r/m32 from a register or an immediate,
 * or MOV moffs from EAX: the ways APIC drivers write), carries the write
 * out, and steps over it. False if the fault is not one.
 */
bool smp_apic_write(uint8_t *v, uint64_t gpa)
{
	uint8_t buf[INSN_MAX];
	uint64_t gpr[16];
	bool long64;
	unsigned len;
	uint32_t val;

	if (stub_ncpus == 1 || (gpa & ~(uint64_t)(BM_PAGE_SIZE - 1)) != smp_apic_base ||
	    !(VMCB_U64(v, VMCB_EXITINFO1) & NPF_WRITE))
		return false;
	len = stub_insn_fetch(v, buf, INSN_MAX, &long64);
	if (!len)
		stub_fatal(v, "a guest wrote the APIC with an instruction the stub cannot fetch");
	memcpy(gpr, stub.regs.gpr, sizeof(gpr));
	gpr[GPR_RAX_] = VMCB_U64(v, VMCB_RAX);
	gpr[GPR_RSP_] = VMCB_U64(v, VMCB_RSP);
	if (!stub_decode_store32(buf, len, long64, gpr, &val))
		stub_fatal(v,
			   "a guest wrote the APIC with an instruction the stub does not emulate");
	unsigned reg = (unsigned)(gpa & (BM_PAGE_SIZE - 1));
	if (reg == APIC_ICR_LO) {
		l1_icr(val);
	} else {
		if (reg == APIC_ICR_HI)
			smp_cpus[stub_cpu()].icr_hi = val;
		smp_apic_reg_write(reg, val);
	}
	VMCB_U64(v, VMCB_RIP) += len;
	return true;
}

/* NPT01 maps L1's local APIC page read-only, so that its writes come here. */
void smp_protect_apic(void)
{
	if (stub_ncpus > 1 && !npt_protect(stub.npt01, smp_apic_base))
		bm_panic("stub: cannot write-protect the local APIC page in NPT01\n");
}

