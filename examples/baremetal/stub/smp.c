/* SPDX-License-Identifier: MIT */
/*
 * Several processors (SVM stub). The stub is L0: it brings up the
 * machine's application processors itself (INIT-SIPI-SIPI through the
 * local APIC, MultiProcessor Specification B.4), and each one runs one
 * vCPU of L1 with its own vmcb01 and libnest context, on the VM's shared
 * shadow (nest_tdp_vcpu_init(), svm_nested_libnest.c). An AP waits for
 * L1's SIPI; L1's vCPU n runs on the processor whose APIC ID is n, so
 * L1's fixed IPIs go straight through the local APIC, which stays L1's.
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
#include "svm_nested.h"

#define AP_STACK_PAGES 4
#define CPUID_APIC_ID_SHIFT 24

/* Local APIC registers (APM 16.3) and ICR fields (APM 16.5). */
#define APIC_BASE_MASK 0xFFFFFF000ull
#define APIC_TPR 0x80
#define APIC_EOI 0xB0
#define APIC_SVR 0xF0
#define APIC_ISR 0x100
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_ERROR 0x370
#define APIC_TMICT 0x380
#define APIC_SVR_ENABLE 0x100u
#define APIC_SVR_RESET 0xFFu
#define APIC_LVT_MASKED 0x10000u
#define ICR_VECTOR_MASK 0xFFu
#define ICR_MODE_SHIFT 8
#define ICR_MODE_MASK 7u
#define ICR_MODE_SMI 2u
#define ICR_MODE_NMI 4u
#define ICR_MODE_INIT 5u
#define ICR_MODE_SIPI 6u
#define ICR_LOGICAL (1u << 11)
#define ICR_LEVEL_ASSERT (1u << 14)
#define ICR_TRIGGER_LEVEL (1u << 15)
#define ICR_SHORTHAND_SHIFT 18
#define ICR_SHORTHAND_MASK 3u
#define ICR_DEST_SHIFT 24
#define ICR_BROADCAST 0xFFu
#define WAKE_VECTOR 0xF0 /* the stub's wake-up IPI to a processor waiting for SIPI */

/* Instruction decoding for L1's APIC writes. */
#define INSN_MAX 15
#define GPR_RAX_ 0
#define GPR_RSP_ 4

/* Where a processor is for smp_stop_others(): running (L1, or the stub
 * working for it), waiting for L1's SIPI (nothing of L1's), parked before
 * its VMRUN, or held in its wait for SIPI by the processor stopping the
 * others (a SIPI then waits). */
enum { STOP_RUN, STOP_WAIT, STOP_PARK, STOP_HELD };
#define STOP_KICK_EVERY 100000u /* spins between two kicks of a running processor */

/* What the processors tell each other (written by one, read by another). */
struct smp_cpu {
	uint8_t apic_id;
	volatile bool up;	   /* the AP runs the stub's code */
	volatile bool waiting;	   /* L1's vCPU waits for SIPI */
	volatile uint32_t sipi;	   /* L1's SIPI vector + 1, 0: none */
	volatile bool init;	   /* L1 sent it INIT */
	volatile uint32_t l1_nmis; /* NMIs L1 sent it, not yet taken */
	volatile bool flush;	   /* a flush request of libnest (flush_vcpus) */
	volatile bool in_guest;	   /* between the flush check and the #VMEXIT */
	volatile uint64_t exits;   /* #VMEXITs so far */
	volatile int wake_lock;	   /* held while a wake-up IPI is on its way */
	volatile int stop_state;   /* STOP_*: where a stop of the others finds it */
	uint32_t icr_hi;	   /* L1's last write to ICR bits 63:32 */
	uint32_t icr_at_vmrun;	   /* an ICR write of L1's for the GIF-clear moment before VMRUN */
};

stub_state stub_cpus[STUB_MAX_CPUS];
unsigned stub_ncpus = 1; /* processors the stub runs L1 on */
static struct smp_cpu cpus[STUB_MAX_CPUS];
static uint8_t apic_to_cpu[256]; /* zero: the BSP, until the APs are up */
static uint64_t apic_base;
static volatile int vm_lock_word;
static uint64_t kicks;

unsigned stub_cpu(void)
{
	uint32_t a, b, c, d;

	if (stub_ncpus == 1)
		return 0;
	cpuid(1, 0, &a, &b, &c, &d);
	return apic_to_cpu[b >> CPUID_APIC_ID_SHIFT];
}

static void spin_lock(volatile int *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		while (*l)
			pause();
}

static void spin_unlock(volatile int *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

static uint32_t apic_read(unsigned reg)
{
	return *(volatile uint32_t *)(uintptr_t)(apic_base + reg);
}

static void apic_write(unsigned reg, uint32_t val)
{
	*(volatile uint32_t *)(uintptr_t)(apic_base + reg) = val;
}

/* An IPI of the stub's own from this processor's APIC; L1's ICR high half
 * (which L1 may have written and not yet used) is left as it was. */
static void send_ipi(uint8_t apic_id, uint32_t lo)
{
	apic_write(APIC_ICR_HI, (uint32_t)apic_id << ICR_DEST_SHIFT);
	apic_write(APIC_ICR_LO, lo);
	apic_write(APIC_ICR_HI, cpus[stub_cpu()].icr_hi);
}

/* Makes a processor in guest mode exit (an NMI, which the stub intercepts
 * while several processors run): it then carries out what it was asked. */
static void kick(unsigned cpu)
{
	__atomic_fetch_add(&kicks, 1, __ATOMIC_RELAXED);
	send_ipi(cpus[cpu].apic_id, (ICR_MODE_NMI << ICR_MODE_SHIFT) | ICR_LEVEL_ASSERT);
}

/* Wakes a processor that waits for L1's SIPI (wait_sipi()). */
static void wake(unsigned cpu)
{
	spin_lock(&cpus[cpu].wake_lock);
	if (cpus[cpu].waiting)
		send_ipi(cpus[cpu].apic_id, WAKE_VECTOR | ICR_LEVEL_ASSERT);
	spin_unlock(&cpus[cpu].wake_lock);
}

static void take_wake(struct bm_regs *r)
{
	(void)r;
	apic_write(APIC_EOI, 0);
}

unsigned smp_setup(const char *cmd)
{
	uint32_t a, b, c, d;
	unsigned n = bm_cpu_count();

	(void)cmd;
	apic_base = rdmsr(MSR_APIC_BASE) & APIC_BASE_MASK;
	cpuid(1, 0, &a, &b, &c, &d);
	cpus[0].apic_id = (uint8_t)(b >> CPUID_APIC_ID_SHIFT);
	if (n > STUB_MAX_CPUS) {
		bm_printf("stub: %u processors, the stub runs %u\n", n, STUB_MAX_CPUS);
		n = STUB_MAX_CPUS;
	}
	stub_ncpus = n ? n : 1; /* stub_cpu() looks processors up from now on */
	return stub_ncpus;
}

/*
 * Brings up processors 1 .. n - 1 (APIC IDs 1 .. n - 1, QEMU's numbering),
 * one at a time: each runs @entry on its own stack, copies the BSP's stub
 * state, and says it is up. Until this returns only the BSP runs.
 */
void smp_start_aps(unsigned n, void (*entry)(void))
{
	if (n < 2)
		return;
	bm_set_handler(WAKE_VECTOR, take_wake);
	for (unsigned i = 1; i < n; i++) {
		uint8_t *stack = bm_pages_alloc(AP_STACK_PAGES, BM_PAGE_SIZE);
		if (!stack)
			bm_panic("stub: no memory for an AP's stack\n");
		cpus[i].apic_id = (uint8_t)i;
		apic_to_cpu[i] = (uint8_t)i;
		if (!bm_ap_start((uint8_t)i, entry, stack + AP_STACK_PAGES * BM_PAGE_SIZE,
				 &cpus[i].up))
			bm_panic("stub: processor %u did not start\n", i);
	}
	bm_printf("stub: %u processors up; L1 gets %u vCPUs\n", n, n);
}

/* On the AP itself, first thing: it copies the BSP's stub state. */
void smp_ap_arrived(void)
{
	unsigned me = stub_cpu();

	bm_idt_init();
	stub_cpus[me] = stub_cpus[0];
	memset(&stub_cpus[me].stats, 0, sizeof(stub_cpus[me].stats));
	memset(&stub_cpus[me].regs, 0, sizeof(stub_cpus[me].regs));
	stub_cpus[me].regs.size = sizeof(stub_cpus[me].regs);
	stub_cpus[me].in_l2 = false;
	cpus[me].waiting = true;
	__atomic_store_n(&cpus[me].stop_state, STOP_WAIT, __ATOMIC_SEQ_CST);
	__atomic_store_n(&cpus[me].up, true, __ATOMIC_SEQ_CST);
}

/* The local APIC as INIT leaves it, as far as software can: L1's vCPU on
 * this processor starts again (APM 16.3: reset values). */
static void apic_reset(void)
{
	for (unsigned reg = APIC_LVT_TIMER; reg <= APIC_LVT_ERROR; reg += 0x10)
		apic_write(reg, APIC_LVT_MASKED);
	apic_write(APIC_TMICT, 0);
	apic_write(APIC_TPR, 0);
	for (unsigned i = 0; i < 8; i++) /* interrupts in service: end them */
		for (unsigned r = 0; r < 8; r++)
			if (apic_read(APIC_ISR + 0x10 * r))
				apic_write(APIC_EOI, 0);
	apic_write(APIC_SVR, APIC_SVR_RESET);
}

/* L1's vCPU on this processor waits for SIPI; returns the vector. The
 * processor halts meanwhile (its APIC enabled for the stub's wake-up IPI,
 * then back as INIT leaves it). */
uint8_t smp_wait_sipi(void)
{
	struct smp_cpu *me = &cpus[stub_cpu()];
	uint32_t v;

	cli();
	me->waiting = true;
	__atomic_store_n(&me->stop_state, STOP_WAIT, __ATOMIC_SEQ_CST);
	apic_write(APIC_SVR, APIC_SVR_ENABLE | APIC_SVR_RESET);
	for (;;) {
		me->init = false; /* INIT while waiting for SIPI: nothing to do */
		v = __atomic_exchange_n(&me->sipi, 0, __ATOMIC_SEQ_CST);
		if (v)
			break;
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
	/* Running again, unless a stop of the others holds this one. */
	for (int w = STOP_WAIT; !__atomic_compare_exchange_n(&me->stop_state, &w, STOP_RUN, false,
							     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	     w = STOP_WAIT)
		pause();
	spin_lock(&me->wake_lock);
	me->waiting = false;
	spin_unlock(&me->wake_lock);
	__asm__ volatile("sti; nop; cli" ::: "memory"); /* a wake-up IPI still on its way */
	me->l1_nmis = 0;
	apic_reset();
	return (uint8_t)(v - 1);
}

/* An INIT of L1's for this processor, taken before its next VMRUN. */
bool smp_init_pending(void)
{
	if (stub_ncpus == 1)
		return false;
	return __atomic_exchange_n(&cpus[stub_cpu()].init, false, __ATOMIC_SEQ_CST);
}

/* The INIT smp_init_pending() gave stays pending (GIF clear). */
void smp_init_hold(void)
{
	__atomic_store_n(&cpus[stub_cpu()].init, true, __ATOMIC_SEQ_CST);
}

/* After L1's vCPU was reset by INIT: the APIC as INIT leaves it. */
void smp_init_done(void)
{
	apic_reset();
}

/* Whether the NMI the stub just took is L1's (an NMI IPI L1 sent) rather
 * than a kick. With one processor every NMI is L1's (the platform's). */
bool smp_nmi_is_l1(void)
{
	if (stub_ncpus == 1)
		return true;
	return __atomic_exchange_n(&cpus[stub_cpu()].l1_nmis, 0, __ATOMIC_SEQ_CST) != 0;
}

static void limbo_step(void);

/* ---- stopping the other processors ---- */

static struct {
	volatile int lock; /* held by the processor stopping the others */
	volatile bool stop;
} rv;

/* Parks this processor while another one stops the others. */
static void park(void)
{
	struct smp_cpu *me = &cpus[stub_cpu()];

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

			if (i == me || (i != 0 && !__atomic_load_n(&cpus[i].up, __ATOMIC_SEQ_CST)))
				continue;
			/* One waiting for SIPI stays there (held) until the resume. */
			__atomic_compare_exchange_n(&cpus[i].stop_state, &w, STOP_HELD, false,
						    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&cpus[i].stop_state, __ATOMIC_SEQ_CST) != STOP_RUN)
				continue;
			all = false;
			/* Running: out of its guest, to its VMRUN, where it parks. */
			if (spins % STOP_KICK_EVERY == 0 &&
			    __atomic_load_n(&cpus[i].in_guest, __ATOMIC_SEQ_CST))
				kick(i);
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
		__atomic_compare_exchange_n(&cpus[i].stop_state, &w, STOP_WAIT, false,
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
	struct smp_cpu *me = &cpus[stub_cpu()];
	park();
	limbo_step();
	__atomic_store_n(&me->in_guest, true, __ATOMIC_SEQ_CST);
	if (__atomic_exchange_n(&me->flush, false, __ATOMIC_SEQ_CST))
		stub_flush.control = TLB_CONTROL_FLUSH_ALL;
	if (me->icr_at_vmrun) {
		/* GIF stays clear up to the VMRUN (svm_run clears it again). */
		__asm__ volatile("clgi" ::: "memory");
		apic_write(APIC_ICR_LO, me->icr_at_vmrun);
		me->icr_at_vmrun = 0;
	}
}

void smp_exit(void)
{
	if (stub_ncpus == 1)
		return;
	struct smp_cpu *me = &cpus[stub_cpu()];
	__atomic_fetch_add(&me->exits, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&me->in_guest, false, __ATOMIC_SEQ_CST);
}

/*
 * Pages libnest frees (NPT02 tables) may still be in the paging-structure
 * caches of processors its flush requests have not reached yet: they wait
 * in a batch until every processor that was in guest mode when the batch
 * was closed has left it once (docs/porting.md, "Flush requests"). One
 * batch fills while the other waits.
 */
static struct {
	volatile int lock;
	void *open, *closed; /* lists through each page's first word */
	uint64_t snap[STUB_MAX_CPUS];
	bool was_in[STUB_MAX_CPUS];
	unsigned waits; /* limbo_step()s the closed batch has waited */
} limbo;

/* Whether every processor that held the closed batch has left guest mode
 * since. One that has not is kicked out, at the first wait and every
 * LIMBO_KICK_EVERY waits after (a kick can land while it is still in the
 * stub, before its VMRUN): a vCPU of L1's that halts with nothing to wake
 * it would otherwise hold the batch, and the pool, for ever. */
#define LIMBO_KICK_EVERY 64u
static bool limbo_passed(void)
{
	bool passed = true, kick_now = limbo.waits++ % LIMBO_KICK_EVERY == 0;

	for (unsigned i = 0; i < stub_ncpus; i++) {
		if (!limbo.was_in[i] || cpus[i].exits != limbo.snap[i])
			continue;
		passed = false;
		if (kick_now && i != stub_cpu())
			kick(i);
	}
	return passed;
}

static void limbo_close(void)
{
	limbo.closed = limbo.open;
	limbo.open = NULL;
	for (unsigned i = 0; i < stub_ncpus; i++) {
		limbo.was_in[i] = cpus[i].in_guest;
		limbo.snap[i] = cpus[i].exits;
	}
	limbo.waits = 0;
}

/* Called before each VMRUN: a closed batch whose processors all left guest
 * mode goes back to the allocator, and the open one takes its place. */
static void limbo_step(void)
{
	void *free = NULL;

	if (!limbo.open && !limbo.closed)
		return;
	spin_lock(&limbo.lock);
	if (!limbo.closed || limbo_passed()) {
		free = limbo.closed;
		limbo_close();
	}
	spin_unlock(&limbo.lock);
	while (free) {
		void *next = *(void **)free;
		bm_page_free(free);
		free = next;
	}
}

static void be_page_free_smp(void *ctx, uint64_t hpa, void *hva)
{
	(void)ctx, (void)hpa;
	stub_be_calls.page_free++;
	spin_lock(&limbo.lock);
	*(void **)hva = limbo.open;
	limbo.open = hva;
	spin_unlock(&limbo.lock);
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
	__atomic_store_n(&cpus[cpu].flush, true, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&cpus[cpu].in_guest, __ATOMIC_SEQ_CST))
		kick(cpu);
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

static void be_vm_lock(void *ctx)
{
	(void)ctx;
	spin_lock(&vm_lock_word);
}

static void be_vm_unlock(void *ctx)
{
	(void)ctx;
	spin_unlock(&vm_lock_word);
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
		smp_ops.vm_lock = be_vm_lock;
		smp_ops.vm_unlock = be_vm_unlock;
		smp_ops.track_l1_writes = NULL;
		smp_ops.page_free = be_page_free_smp;
	}
	return &smp_backend;
}

/* ---- L1's writes to its local APIC ---- */

/* Processors an IPI of L1's from this one goes to (APM 16.5). */
static uint32_t ipi_targets(uint32_t lo, uint32_t hi)
{
	uint32_t all = (1u << stub_ncpus) - 1, self = 1u << stub_cpu();
	uint8_t dest = (uint8_t)(hi >> ICR_DEST_SHIFT);

	switch ((lo >> ICR_SHORTHAND_SHIFT) & ICR_SHORTHAND_MASK) {
	case 1:
		return self;
	case 2:
		return all;
	case 3:
		return all & ~self;
	default:
		break;
	}
	if (dest == ICR_BROADCAST)
		return all;
	if (lo & ICR_LOGICAL) /* flat model: one bit per processor, as L1 set its LDRs */
		return dest & all;
	for (unsigned i = 0; i < stub_ncpus; i++)
		if (cpus[i].apic_id == dest)
			return 1u << i;
	return 0;
}

/* L1 wrote @val to the ICR's low half: INIT, SIPI and NMI are the stub's
 * to carry out; the others go to the APIC as L1 wrote them. */
static void l1_icr(uint32_t lo)
{
	struct smp_cpu *me = &cpus[stub_cpu()];
	uint32_t mode = (lo >> ICR_MODE_SHIFT) & ICR_MODE_MASK;
	uint32_t targets = ipi_targets(lo, me->icr_hi);

	switch (mode) {
	case ICR_MODE_INIT:
		/* INIT level de-assert (level 0, level-triggered) does nothing on
		 * these processors (APM 16.5). */
		if (!(lo & ICR_LEVEL_ASSERT) && (lo & ICR_TRIGGER_LEVEL))
			return;
		for (unsigned i = 0; i < stub_ncpus; i++) {
			if (!(targets & (1u << i)))
				continue;
			__atomic_store_n(&cpus[i].init, true, __ATOMIC_SEQ_CST);
			if (i == stub_cpu())
				continue; /* taken before the next VMRUN */
			if (cpus[i].waiting)
				wake(i);
			else
				kick(i);
		}
		return;
	case ICR_MODE_SIPI:
		/* Only a vCPU waiting for SIPI takes it (or one an INIT is on
		 * its way to); the others ignore it. */
		for (unsigned i = 0; i < stub_ncpus; i++) {
			if (!(targets & (1u << i)) || i == stub_cpu())
				continue;
			if (cpus[i].waiting || cpus[i].init) {
				__atomic_store_n(&cpus[i].sipi, (lo & ICR_VECTOR_MASK) + 1,
						 __ATOMIC_SEQ_CST);
				wake(i);
			}
		}
		return;
	case ICR_MODE_NMI:
		for (unsigned i = 0; i < stub_ncpus; i++) {
			if (!(targets & (1u << i)) || cpus[i].waiting)
				continue;
			__atomic_fetch_add(&cpus[i].l1_nmis, 1, __ATOMIC_SEQ_CST);
			kick(i);
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
		apic_write(APIC_ICR_LO, lo);
		return;
	default:
		apic_write(APIC_ICR_LO, lo);
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

	if (stub_ncpus == 1 || (gpa & ~(uint64_t)(BM_PAGE_SIZE - 1)) != apic_base ||
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
			cpus[stub_cpu()].icr_hi = val;
		apic_write(reg, val);
	}
	VMCB_U64(v, VMCB_RIP) += len;
	return true;
}

/* NPT01 maps L1's local APIC page read-only, so that its writes come here. */
void smp_protect_apic(void)
{
	if (stub_ncpus > 1 && !npt_protect(stub.npt01, apic_base))
		bm_panic("stub: cannot write-protect the local APIC page in NPT01\n");
}

uint64_t smp_kicks(void)
{
	return kicks;
}
