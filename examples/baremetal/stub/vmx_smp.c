/* SPDX-License-Identifier: MIT */
/*
 * Several processors (VMX stub). The stub brings up the machine's
 * application processors itself (INIT-SIPI-SIPI, MultiProcessor
 * Specification B.4), before L1 starts; each runs one vCPU of L1 in VMX
 * non-root operation on its own vmcs01 and libnest context, over the VM's
 * shared shadow EPT02 (nest_tdp_vcpu_init()). L1's vCPU n runs on the
 * processor whose APIC ID is n, and the local APIC stays L1's: L1's fixed
 * IPIs and NMIs go straight through it.
 *
 * INIT and SIPI cannot: a processor in VMX root operation holds an INIT
 * until its next VM entry and drops a SIPI (SDM 26.2, 33.14), and the
 * stub's processors are always in VMX operation. (Bochs 2.7 also never
 * clears an INIT that caused a VM exit, so a real INIT cannot even be
 * used to make a processor leave its guest.) So with more than one
 * processor, EPT01 maps L1's local APIC page read-only, the stub carries
 * out L1's (and L2's, through EPT01) writes there, and takes INIT, SIPI
 * and NMI as events for the target vCPU:
 * - the target's flag is set, and the target is made to leave its guest
 *   by an NMI (vmcs01 and vmcs02 exit on NMIs then), or woken by a fixed
 *   IPI if it waits for SIPI in the stub; the sender waits until the
 *   target took the event, sending the NMI again now and then (one that
 *   lands while the target is in the stub, just before its VM entry, is
 *   gone; the stub's NMI handler does nothing);
 * - vmx_main.c then does with the event what the processor does: INIT
 *   resets the vCPU, stays pending in VMX root operation, or is L1's VM
 *   exit while L2 runs; SIPI starts a vCPU that waits for it, or is L1's
 *   VM exit for an L2 in the wait-for-SIPI state, which the stub keeps out
 *   of the processor (the state leaves to INIT and SIPI only); an NMI is
 *   L1's or L2's as libnest says.
 * A flush request for another processor's view of EPT02 (flush_vcpus)
 * likewise waits until that processor has left its guest once: it flushes
 * before it enters one again.
 *
 * A single processor runs as before: nothing here is armed.
 */
#include <nest/nest.h>

#include "backend.h"
#include "insn_decode.h"
#include "vmx_stub.h"

#define AP_STACK_PAGES 4
#define CPUID_APIC_ID_SHIFT 24
#define INSN_MAX 15
#define LOW32 0xFFFFFFFFull

/* Local APIC registers and ICR fields (SDM 11.4.1, 11.6.1). */
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

/* VMCS access rights: L (64-bit code), D/B (SDM 25.4.1). */
#define AR_L (1u << 13)
#define AR_DB (1u << 14)
#define EPTP_ROOT_MASK 0xFFFFFFFFFF000ull
#define INTERRUPTIBILITY_STI_MOVSS 3ull

/* What the processors tell each other (written by one, read by another). */
struct smp_cpu {
	uint8_t apic_id;
	volatile bool up;	   /* the AP runs the stub's code */
	volatile bool waiting;	   /* L1's vCPU waits for SIPI in the stub */
	volatile bool l2_sipi;	   /* L2 is in the wait-for-SIPI state */
	volatile uint32_t sipi;	   /* a SIPI's vector + 1, 0: none */
	volatile uint32_t init;	   /* an INIT for L1's vCPU, not yet taken */
	volatile uint32_t l1_nmis; /* NMIs L1 sent it, not yet taken */
	volatile bool in_guest;	   /* between vmx_smp_enter() and vmx_smp_exit() */
	volatile bool flush;	   /* INVEPT before the next VM entry */
	volatile uint64_t exits;   /* VM exits so far */
	volatile int wake_lock;	   /* orders a wake-up against the end of the wait */
	uint32_t icr_hi;	   /* L1's last write to ICR bits 63:32 */
};

stub_state stub_cpus[STUB_MAX_CPUS];
struct vmx_stub vs_cpus[STUB_MAX_CPUS];
unsigned stub_ncpus = 1; /* processors the stub runs L1 on */
static struct smp_cpu cpus[STUB_MAX_CPUS];
static uint8_t apic_to_cpu[256]; /* zero: the BSP, until the APs are up */
static uint64_t apic_base;
static volatile int vm_lock_word;

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

/* Makes processor @cpu leave its guest: an NMI, which vmcs01 and vmcs02
 * exit on with several processors. It then looks at its flags. */
static void kick(unsigned cpu)
{
	send_ipi(cpus[cpu].apic_id, (ICR_MODE_NMI << ICR_MODE_SHIFT) | ICR_LEVEL_ASSERT);
}

#define KICK_EVERY 20000u /* spins between two kicks while waiting for a processor */

/* Waits until processor @cpu has cleared *@flag, kicking it now and then. */
static void wait_taken(unsigned cpu, volatile uint32_t *flag)
{
	for (uint64_t spins = 0; __atomic_load_n(flag, __ATOMIC_SEQ_CST); spins++) {
		if (spins % KICK_EVERY == 0)
			kick(cpu);
		pause();
	}
}

/* Waits until processor @cpu, in its guest when this was called, has left
 * it once, kicking it now and then. */
static void wait_exit(unsigned cpu)
{
	uint64_t seen = __atomic_load_n(&cpus[cpu].exits, __ATOMIC_SEQ_CST);

	for (uint64_t spins = 0; __atomic_load_n(&cpus[cpu].in_guest, __ATOMIC_SEQ_CST) &&
				 __atomic_load_n(&cpus[cpu].exits, __ATOMIC_SEQ_CST) == seen;
	     spins++) {
		if (spins % KICK_EVERY == 0)
			kick(cpu);
		pause();
	}
}

/* After a VM exit caused by an NMI, NMIs are blocked in VMX root
 * operation until an IRET. The SDM unblocks them at the next VM entry with
 * virtual NMIs ("Interruptibility State", VM entries); Bochs 2.7 does not,
 * and an NMI-blocked guest would ignore every later kick. So the stub runs
 * an IRET to the next instruction, as a VMM that calls its NMI handler
 * does; a kick held meanwhile then comes to take_nmi(). */
void vmx_smp_nmi_exit(void)
{
	uint64_t cs, ss;

	__asm__ volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
	__asm__ volatile("mov %%rsp, %%rax\n\t"
			 "pushq %[ss]\n\t"
			 "pushq %%rax\n\t"
			 "pushfq\n\t"
			 "pushq %[cs]\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "iretq\n"
			 "1:"
			 :
			 : [cs] "r"(cs), [ss] "r"(ss)
			 : "rax", "memory", "cc");
}

/* The stub's NMI handler: an NMI in VMX root operation is a kick that came
 * while the processor was in the stub, where it looks at its flags anyway. */
static void take_nmi(struct bm_regs *r)
{
	(void)r;
}

/* Wakes a processor that waits for L1's SIPI (vmx_smp_wait_sipi()). */
static void wake(unsigned cpu)
{
	spin_lock(&cpus[cpu].wake_lock);
	if (cpus[cpu].waiting)
		send_ipi(cpus[cpu].apic_id, WAKE_VECTOR | ICR_LEVEL_ASSERT);
	spin_unlock(&cpus[cpu].wake_lock);
}

/* The wake-up vector: ended here while the processor waits for SIPI;
 * otherwise it is one of L1's interrupts, for the stub's own handling. */
static void take_wake(struct bm_regs *r)
{
	if (cpus[stub_cpu()].waiting)
		apic_write(APIC_EOI, 0);
	else
		vmx_nested_irq_taken(r);
}

unsigned vmx_smp_setup(void)
{
	uint32_t a, b, c, d;
	unsigned n = bm_cpu_count();

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
 * Brings up processors 1 .. n - 1 (APIC IDs 1 .. n - 1, as Bochs and QEMU
 * number them), one at a time: each runs @entry on its own stack, sets
 * itself up (vmx_smp_ap_arrived(), then vmx_smp_ap_ready()). Until this
 * returns only one processor runs the stub's code.
 */
void vmx_smp_start_aps(unsigned n, void (*entry)(void))
{
	if (n < 2)
		return;
	bm_set_handler(WAKE_VECTOR, take_wake);
	bm_set_handler(VEC_NMI, take_nmi);
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

/* On the AP itself, first thing: the BSP's stub state, without what is
 * the BSP's own. */
void vmx_smp_ap_arrived(void)
{
	unsigned me = stub_cpu();

	bm_idt_init();
	stub_cpus[me] = stub_cpus[0];
	memset(&stub_cpus[me].stats, 0, sizeof(stub_cpus[me].stats));
	stub_cpus[me].in_l2 = false;
	vs_cpus[me] = vs_cpus[0];
	memset(vs_cpus[me].gpr, 0, sizeof(vs_cpus[me].gpr));
	memset(vs_cpus[me].pending_irq, 0, sizeof(vs_cpus[me].pending_irq));
	vs_cpus[me].current = NULL;
	vs_cpus[me].launched01 = vs_cpus[me].launched02 = false;
	vs_cpus[me].in_l2 = false;
	vs_cpus[me].init_latched = false;
}

/* The AP has its VMX operation, vmcs01 and libnest context: the BSP goes on. */
void vmx_smp_ap_ready(void)
{
	__atomic_store_n(&cpus[stub_cpu()].up, true, __ATOMIC_SEQ_CST);
}

/* The local APIC as INIT leaves it, as far as software can: L1's vCPU on
 * this processor starts again (SDM 11.4.7.3). */
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

uint8_t vmx_smp_wait_sipi(void)
{
	struct smp_cpu *me = &cpus[stub_cpu()];
	uint32_t v;

	cli();
	me->waiting = true;
	apic_write(APIC_SVR, APIC_SVR_ENABLE | APIC_SVR_RESET);
	for (;;) {
		me->init = 0; /* INIT while waiting for SIPI: nothing to do */
		v = __atomic_exchange_n(&me->sipi, 0, __ATOMIC_SEQ_CST);
		if (v)
			break;
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	}
	spin_lock(&me->wake_lock);
	me->waiting = false;
	spin_unlock(&me->wake_lock);
	__asm__ volatile("sti; nop; cli" ::: "memory"); /* a wake-up IPI still on its way */
	apic_reset();
	return (uint8_t)(v - 1);
}

bool vmx_smp_take_init(void)
{
	if (stub_ncpus == 1)
		return false;
	return __atomic_exchange_n(&cpus[stub_cpu()].init, 0, __ATOMIC_SEQ_CST) != 0;
}

bool vmx_smp_take_nmi(void)
{
	if (stub_ncpus == 1)
		return false;
	struct smp_cpu *me = &cpus[stub_cpu()];
	if (!__atomic_load_n(&me->l1_nmis, __ATOMIC_SEQ_CST))
		return false;
	__atomic_fetch_sub(&me->l1_nmis, 1, __ATOMIC_SEQ_CST);
	return true;
}

/* L2 is in the wait-for-SIPI state, which only INIT and SIPI end (SDM
 * 26.4.2): instead of entering it, the processor waits here (interrupts
 * off; L1's stay pending in its APIC) until one of them comes. */
void vmx_smp_l2_wait_sipi(void)
{
	struct smp_cpu *me = &cpus[stub_cpu()];

	me->l2_sipi = true;
	while (!__atomic_load_n(&me->init, __ATOMIC_SEQ_CST) &&
	       !__atomic_load_n(&me->sipi, __ATOMIC_SEQ_CST))
		pause();
	me->l2_sipi = false;
}

int vmx_smp_take_sipi(void)
{
	if (stub_ncpus == 1)
		return -1;
	uint32_t v = __atomic_exchange_n(&cpus[stub_cpu()].sipi, 0, __ATOMIC_SEQ_CST);
	return v ? (int)(v - 1) : -1;
}

/* ---- flushes across processors, and pages freed meanwhile ---- */

/*
 * Pages libnest frees (EPT02 tables) may still be in the paging-structure
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
	unsigned waits;
} limbo;

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

/* Processor @cpu drops what it caches of EPT01 and EPT02 before it next
 * enters a guest; if it runs one, this waits until it has left it. */
static void flush_cpu(unsigned cpu)
{
	__atomic_store_n(&cpus[cpu].flush, true, __ATOMIC_SEQ_CST);
	if (cpu != stub_cpu())
		wait_exit(cpu);
}

static void be_flush_vcpus(void *ctx, const struct nest_vcpu_set *set, uint32_t kind, uint64_t tag,
			   uint64_t addr)
{
	(void)ctx, (void)kind, (void)tag, (void)addr;
	stub_be_calls.flush++;
	/* Whatever the kind: all of it (INVEPT of every context), the least
	 * precise and always enough. */
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

/*
 * The backend operations every libnest context gets with several
 * processors: flush_vcpus, the VM lock, freed pages kept until the flush
 * requests before them are honoured, and no track_l1_writes (the stub
 * keeps one set of tracked pages, and each vCPU's context would replace
 * the others': libnest reads L1's bitmaps at each entry instead).
 */
void vmx_smp_backend_ops(struct nest_backend_ops *ops)
{
	if (stub_ncpus == 1)
		return;
	ops->flush_vcpus = be_flush_vcpus;
	ops->vm_lock = be_vm_lock;
	ops->vm_unlock = be_vm_unlock;
	ops->track_l1_writes = NULL;
	ops->page_free = be_page_free_smp;
}

/* Just before a VM entry: the processor counts as in guest mode from here,
 * so a flush request made from now on kicks it; one made before is done
 * now. */
void vmx_smp_enter(void)
{
	if (stub_ncpus == 1)
		return;
	struct smp_cpu *me = &cpus[stub_cpu()];
	limbo_step();
	__atomic_store_n(&me->in_guest, true, __ATOMIC_SEQ_CST);
	if (__atomic_exchange_n(&me->flush, false, __ATOMIC_SEQ_CST))
		invept(INVEPT_ALL, 0);
}

void vmx_smp_exit(void)
{
	if (stub_ncpus == 1)
		return;
	struct smp_cpu *me = &cpus[stub_cpu()];
	__atomic_fetch_add(&me->exits, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&me->in_guest, false, __ATOMIC_SEQ_CST);
}

/* ---- L1's writes to its local APIC ---- */

/* Processors an IPI of L1's from this one goes to (SDM 11.6.2, flat
 * logical model as L1 set its LDRs). */
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
	if (lo & ICR_LOGICAL)
		return dest & all;
	for (unsigned i = 0; i < stub_ncpus; i++)
		if (cpus[i].apic_id == dest)
			return 1u << i;
	return 0;
}

/* L1 (or L2 on L1's APIC) wrote @lo to the ICR's low half: INIT and SIPI
 * are the stub's to carry out; the others go to the APIC as written. */
static void l1_icr(uint32_t lo)
{
	struct smp_cpu *me = &cpus[stub_cpu()];
	uint32_t mode = (lo >> ICR_MODE_SHIFT) & ICR_MODE_MASK;
	uint32_t targets = ipi_targets(lo, me->icr_hi);

	switch (mode) {
	case ICR_MODE_INIT:
		/* INIT level de-assert does nothing on these processors (SDM 11.6.1). */
		if (!(lo & ICR_LEVEL_ASSERT) && (lo & ICR_TRIGGER_LEVEL))
			return;
		for (unsigned i = 0; i < stub_ncpus; i++) {
			if (!(targets & (1u << i)))
				continue;
			__atomic_store_n(&cpus[i].init, 1, __ATOMIC_SEQ_CST);
			if (i == stub_cpu())
				continue; /* taken before the next VM entry */
			if (cpus[i].waiting)
				wake(i);
			wait_taken(i, &cpus[i].init);
		}
		return;
	case ICR_MODE_SIPI:
		/* Only a vCPU waiting for SIPI takes it (in the stub, or as L2 in
		 * the wait-for-SIPI state), or one an INIT is on its way to; the
		 * others ignore it. */
		for (unsigned i = 0; i < stub_ncpus; i++) {
			if (!(targets & (1u << i)) || i == stub_cpu())
				continue;
			if (!cpus[i].waiting && !cpus[i].init && !cpus[i].l2_sipi)
				continue;
			__atomic_store_n(&cpus[i].sipi, (lo & ICR_VECTOR_MASK) + 1, __ATOMIC_SEQ_CST);
			if (cpus[i].waiting)
				wake(i);
			else
				wait_taken(i, &cpus[i].sipi);
		}
		return;
	case ICR_MODE_NMI:
		/* An NMI for L1's vCPU: counted, and the kick is the NMI. */
		for (unsigned i = 0; i < stub_ncpus; i++) {
			if (!(targets & (1u << i)) || cpus[i].waiting)
				continue;
			__atomic_fetch_add(&cpus[i].l1_nmis, 1, __ATOMIC_SEQ_CST);
			if (i != stub_cpu())
				kick(i);
		}
		return;
	default:
		apic_write(APIC_ICR_LO, lo);
	}
}

/*
 * An EPT violation at L1-physical @gpa (vmcs01's, or vmcs02's with L2 on
 * EPT01): if it is a write to L1's local APIC page, decodes the
 * instruction (the 32-bit stores APIC drivers use), carries the write out
 * and steps over it. False if the exit is not one.
 */
bool vmx_smp_apic_write(uint64_t gpa)
{
	uint8_t buf[INSN_MAX];
	uint64_t gpr[BM_GPR_COUNT];
	uint32_t val;

	if (stub_ncpus == 1 || (gpa & ~(uint64_t)(BM_PAGE_SIZE - 1)) != apic_base ||
	    !(vmr(NEST_VMCS_EXIT_QUALIFICATION) & EPT_QUAL_WRITE))
		return false;
	uint32_t cs_ar = (uint32_t)vmr(NEST_VMCS_GUEST_CS_AR_BYTES);
	uint64_t efer = vmr(NEST_VMCS_GUEST_IA32_EFER), rip = vmr(NEST_VMCS_GUEST_RIP);
	bool long64 = (efer & EFER_LMA) && (cs_ar & AR_L);
	uint64_t lin = long64 ? rip : (rip + vmr(NEST_VMCS_GUEST_CS_BASE)) & LOW32;
	unsigned got = stub_guest_fetch(vmr(NEST_VMCS_GUEST_CR0), vmr(NEST_VMCS_GUEST_CR4), efer,
					vmr(NEST_VMCS_GUEST_CR3),
					vmr(NEST_VMCS_EPT_POINTER) & EPTP_ROOT_MASK, lin, buf, INSN_MAX);
	unsigned len = stub_insn_decode(buf, got, long64, long64 || (cs_ar & AR_DB));
	memcpy(gpr, vs.gpr, sizeof(gpr));
	gpr[GPR_RSP] = vmr(NEST_VMCS_GUEST_RSP);
	if (!len || len > got || !stub_decode_store32(buf, len, long64, gpr, &val))
		vmx_fatal("a guest wrote the local APIC with an instruction the stub does not emulate");
	unsigned reg = (unsigned)(gpa & (BM_PAGE_SIZE - 1));
	if (reg == APIC_ICR_LO) {
		l1_icr(val);
	} else {
		if (reg == APIC_ICR_HI)
			cpus[stub_cpu()].icr_hi = val;
		apic_write(reg, val);
	}
	vmw(NEST_VMCS_GUEST_RIP, rip + len);
	vmw(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO,
	    vmr(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO) & ~INTERRUPTIBILITY_STI_MOVSS);
	return true;
}

/* EPT01 maps L1's local APIC page read-only, so that its writes come here. */
void vmx_smp_protect_apic(void)
{
	if (stub_ncpus > 1 && !npt_protect(stub.npt01, apic_base))
		bm_panic("stub: cannot write-protect the local APIC page in EPT01\n");
}

/* Stopping the other processors (for moving L1's memory) is the SVM
 * stub's; here only a single processor changes L1's memory. */
bool smp_stop_others(void)
{
	return stub_ncpus == 1;
}

void smp_stop_others_wait(void)
{
	if (stub_ncpus > 1)
		bm_panic("stub: changing L1's memory with several processors is not done on VMX\n");
}

void smp_resume_others(void)
{
}
