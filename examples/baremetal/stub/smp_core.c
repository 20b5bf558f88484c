/* SPDX-License-Identifier: MIT */
/*
 * Several processors: what the SVM stub (smp.c) and the VMX stub
 * (vmx_smp.c) share. The stub brings up the machine's application
 * processors itself (INIT-SIPI-SIPI through the local APIC, MultiProcessor
 * Specification B.4), and each one runs one vCPU of L1; L1's vCPU n runs
 * on the processor whose APIC ID is n. Here: the per-processor records,
 * the processor lookup, the local APIC, the kick (an NMI, which both
 * stubs intercept with several processors), the wait for L1's SIPI, the
 * VM lock and the pages libnest frees, kept until every processor that
 * may cache them has left its guest once.
 */
#include <nest/nest.h>

#include "backend.h"
#include "smp_core.h"

#define AP_STACK_PAGES 4
#define CPUID_APIC_ID_SHIFT 24

stub_state stub_cpus[STUB_MAX_CPUS];
unsigned stub_ncpus = 1; /* processors the stub runs L1 on */
struct smp_cpu smp_cpus[STUB_MAX_CPUS];
static uint8_t apic_to_cpu[256]; /* zero: the BSP, until the APs are up */
uint64_t smp_apic_base;
static volatile int vm_lock_word;

unsigned stub_cpu(void)
{
	uint32_t a, b, c, d;

	if (stub_ncpus == 1)
		return 0;
	cpuid(1, 0, &a, &b, &c, &d);
	return apic_to_cpu[b >> CPUID_APIC_ID_SHIFT];
}

void smp_spin_lock(volatile int *l)
{
	while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
		while (*l)
			pause();
}

void smp_spin_unlock(volatile int *l)
{
	__atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

uint32_t smp_apic_reg_read(unsigned reg)
{
	return *(volatile uint32_t *)(uintptr_t)(smp_apic_base + reg);
}

void smp_apic_reg_write(unsigned reg, uint32_t val)
{
	*(volatile uint32_t *)(uintptr_t)(smp_apic_base + reg) = val;
}

/* An IPI of the stub's own from this processor's APIC; L1's ICR high half
 * (which L1 may have written and not yet used) is left as it was. */
void smp_send_ipi(uint8_t apic_id, uint32_t lo)
{
	smp_apic_reg_write(APIC_ICR_HI, (uint32_t)apic_id << ICR_DEST_SHIFT);
	smp_apic_reg_write(APIC_ICR_LO, lo);
	smp_apic_reg_write(APIC_ICR_HI, smp_cpus[stub_cpu()].icr_hi);
}

/* Makes a processor in guest mode exit (an NMI, which both stubs intercept
 * while several processors run): it then carries out what it was asked. */
void smp_kick(unsigned cpu)
{
	smp_send_ipi(smp_cpus[cpu].apic_id, (ICR_MODE_NMI << ICR_MODE_SHIFT) | ICR_LEVEL_ASSERT);
}

/* Wakes a processor that waits for L1's SIPI (smp_wait_sipi()). */
void smp_wake(unsigned cpu)
{
	smp_spin_lock(&smp_cpus[cpu].wake_lock);
	if (smp_cpus[cpu].waiting)
		smp_send_ipi(smp_cpus[cpu].apic_id, WAKE_VECTOR | ICR_LEVEL_ASSERT);
	smp_spin_unlock(&smp_cpus[cpu].wake_lock);
}

bm_irq_handler smp_wake_other;

/* The wake-up vector: ended here while the processor waits for SIPI;
 * otherwise it is one of L1's interrupts, for smp_wake_other if set. */
static void take_wake(struct bm_regs *r)
{
	if (!smp_cpus[stub_cpu()].waiting && smp_wake_other)
		smp_wake_other(r);
	else
		smp_apic_reg_write(APIC_EOI, 0);
}

unsigned smp_setup(const char *cmd)
{
	uint32_t a, b, c, d;
	unsigned n = bm_cpu_count();

	(void)cmd;
	smp_apic_base = rdmsr(MSR_APIC_BASE) & APIC_BASE_MASK;
	cpuid(1, 0, &a, &b, &c, &d);
	smp_cpus[0].apic_id = (uint8_t)(b >> CPUID_APIC_ID_SHIFT);
	if (n > STUB_MAX_CPUS) {
		bm_printf("stub: %u processors, the stub runs %u\n", n, STUB_MAX_CPUS);
		n = STUB_MAX_CPUS;
	}
	stub_ncpus = n ? n : 1; /* stub_cpu() looks processors up from now on */
	return stub_ncpus;
}

/*
 * Brings up processors 1 .. n - 1 (APIC IDs 1 .. n - 1, as QEMU and Bochs number them),
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
		smp_cpus[i].apic_id = (uint8_t)i;
		apic_to_cpu[i] = (uint8_t)i;
		if (!bm_ap_start((uint8_t)i, entry, stack + AP_STACK_PAGES * BM_PAGE_SIZE,
				 &smp_cpus[i].up))
			bm_panic("stub: processor %u did not start\n", i);
	}
	bm_printf("stub: %u processors up; L1 gets %u vCPUs\n", n, n);
}

/* On the AP itself, first thing: the BSP's stub state, without its
 * figures. */
void smp_ap_copy_state(void)
{
	unsigned me = stub_cpu();

	bm_idt_init();
	stub_cpus[me] = stub_cpus[0];
	memset(&stub_cpus[me].stats, 0, sizeof(stub_cpus[me].stats));
	stub_cpus[me].in_l2 = false;
}

/* The local APIC as INIT leaves it, as far as software can: L1's vCPU on
 * this processor starts again (APM 16.3: reset values). */
void smp_apic_reset(void)
{
	for (unsigned reg = APIC_LVT_TIMER; reg <= APIC_LVT_ERROR; reg += 0x10)
		smp_apic_reg_write(reg, APIC_LVT_MASKED);
	smp_apic_reg_write(APIC_TMICT, 0);
	smp_apic_reg_write(APIC_TPR, 0);
	for (unsigned i = 0; i < 8; i++) /* interrupts in service: end them */
		for (unsigned r = 0; r < 8; r++)
			if (smp_apic_reg_read(APIC_ISR + 0x10 * r))
				smp_apic_reg_write(APIC_EOI, 0);
	smp_apic_reg_write(APIC_SVR, APIC_SVR_RESET);
}

/* L1's vCPU on this processor waits for SIPI; returns the vector. The
 * processor halts meanwhile (its APIC enabled for the stub's wake-up IPI,
 * then back as INIT leaves it). */
uint8_t smp_wait_sipi(void)
{
	struct smp_cpu *me = &smp_cpus[stub_cpu()];
	uint32_t v;

	cli();
	me->waiting = true;
	__atomic_store_n(&me->stop_state, STOP_WAIT, __ATOMIC_SEQ_CST);
	smp_apic_reg_write(APIC_SVR, APIC_SVR_ENABLE | APIC_SVR_RESET);
	for (;;) {
		me->init = 0; /* INIT while waiting for SIPI: nothing to do */
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
	smp_spin_lock(&me->wake_lock);
	me->waiting = false;
	smp_spin_unlock(&me->wake_lock);
	__asm__ volatile("sti; nop; cli" ::: "memory"); /* a wake-up IPI still on its way */
	me->l1_nmis = 0;
	smp_apic_reset();
	return (uint8_t)(v - 1);
}

/* An INIT of L1's for this processor, taken before its next VM entry. */
bool smp_init_pending(void)
{
	if (stub_ncpus == 1)
		return false;
	return __atomic_exchange_n(&smp_cpus[stub_cpu()].init, 0, __ATOMIC_SEQ_CST) != 0;
}

bool smp_init_waiting(void)
{
	return stub_ncpus > 1 && __atomic_load_n(&smp_cpus[stub_cpu()].init, __ATOMIC_SEQ_CST) != 0;
}

/*
 * Pages libnest frees (NPT02 or EPT02 tables) may still be in the paging-structure
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
	unsigned waits; /* smp_limbo_step()s the closed batch has waited */
} limbo;

/* Whether every processor that held the closed batch has left guest mode
 * since. One that has not is kicked out, at the first wait and every
 * LIMBO_KICK_EVERY waits after (a kick can land while it is still in the
 * stub, before its VM entry): a vCPU of L1's that halts with nothing to wake
 * it would otherwise hold the batch, and the pool, for ever. */
#define LIMBO_KICK_EVERY 64u
static bool limbo_passed(void)
{
	bool passed = true, kick_now = limbo.waits++ % LIMBO_KICK_EVERY == 0;

	for (unsigned i = 0; i < stub_ncpus; i++) {
		if (!limbo.was_in[i] || smp_cpus[i].exits != limbo.snap[i])
			continue;
		passed = false;
		if (kick_now && i != stub_cpu())
			smp_kick(i);
	}
	return passed;
}

static void limbo_close(void)
{
	limbo.closed = limbo.open;
	limbo.open = NULL;
	for (unsigned i = 0; i < stub_ncpus; i++) {
		limbo.was_in[i] = smp_cpus[i].in_guest;
		limbo.snap[i] = smp_cpus[i].exits;
	}
	limbo.waits = 0;
}

/* Called before each VM entry: a closed batch whose processors all left guest
 * mode goes back to the allocator, and the open one takes its place. */
void smp_limbo_step(void)
{
	void *free = NULL;

	if (!limbo.open && !limbo.closed)
		return;
	smp_spin_lock(&limbo.lock);
	if (!limbo.closed || limbo_passed()) {
		free = limbo.closed;
		limbo_close();
	}
	smp_spin_unlock(&limbo.lock);
	while (free) {
		void *next = *(void **)free;
		bm_page_free(free);
		free = next;
	}
}

void smp_page_free(void *ctx, uint64_t hpa, void *hva)
{
	(void)ctx, (void)hpa;
	stub_be_calls.page_free++;
	smp_spin_lock(&limbo.lock);
	*(void **)hva = limbo.open;
	limbo.open = hva;
	smp_spin_unlock(&limbo.lock);
}

void smp_vm_lock(void *ctx)
{
	(void)ctx;
	smp_spin_lock(&vm_lock_word);
}

void smp_vm_unlock(void *ctx)
{
	(void)ctx;
	smp_spin_unlock(&vm_lock_word);
}

/* Processors an IPI of L1's from this one goes to (APM 16.5). */
uint32_t smp_ipi_targets(uint32_t lo, uint32_t hi)
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
		if (smp_cpus[i].apic_id == dest)
			return 1u << i;
	return 0;
}
