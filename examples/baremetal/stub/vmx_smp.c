/* SPDX-License-Identifier: MIT */
/*
 * Several processors (VMX stub). The stub brings up the machine's
 * application processors itself (INIT-SIPI-SIPI, MultiProcessor
 * Specification B.4), before L1 starts; each runs one vCPU of L1 in VMX
 * non-root operation on its own vmcs01 and libnest context, over the VM's
 * shared shadow EPT02 (nest_tdp_vcpu_init()). L1's vCPU n runs on the
 * processor whose APIC ID is n, and the local APIC stays L1's: L1's fixed
 * IPIs go straight through it.
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
#include "smp_core.h"
#include "vmx_stub.h"

#define INSN_MAX 15
#define LOW32 0xFFFFFFFFull

/* VMCS access rights: L (64-bit code), D/B (SDM 25.4.1). */
#define AR_L (1u << 13)
#define AR_DB (1u << 14)
#define EPTP_ROOT_MASK 0xFFFFFFFFFF000ull
#define INTERRUPTIBILITY_STI_MOVSS 3ull

struct vmx_stub vs_cpus[STUB_MAX_CPUS];

#define KICK_EVERY 20000u /* spins between two kicks while waiting for a processor */

/* Waits until processor @cpu has cleared *@flag, kicking it now and then. */
static void wait_taken(unsigned cpu, volatile uint32_t *flag)
{
	for (uint64_t spins = 0; __atomic_load_n(flag, __ATOMIC_SEQ_CST); spins++) {
		if (spins % KICK_EVERY == 0)
			smp_kick(cpu);
		pause();
	}
}

/* Waits until processor @cpu, in its guest when this was called, has left
 * it once, kicking it now and then. */
static void wait_exit(unsigned cpu)
{
	uint64_t seen = __atomic_load_n(&smp_cpus[cpu].exits, __ATOMIC_SEQ_CST);

	for (uint64_t spins = 0; __atomic_load_n(&smp_cpus[cpu].in_guest, __ATOMIC_SEQ_CST) &&
				 __atomic_load_n(&smp_cpus[cpu].exits, __ATOMIC_SEQ_CST) == seen;
	     spins++) {
		if (spins % KICK_EVERY == 0)
			smp_kick(cpu);
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

/* Brings up the APs (smp_start_aps()) with the stub's NMI handler for
 * kicks that come while a processor is in the stub, and the wake-up
 * vector, outside a wait for SIPI, handled as one of L1's interrupts. */
void vmx_smp_start_aps(unsigned n, void (*entry)(void))
{
	if (n < 2)
		return;
	bm_set_handler(VEC_NMI, take_nmi);
	smp_wake_other = vmx_nested_irq_taken;
	smp_start_aps(n, entry);
}

/* On the AP itself, first thing: the BSP's stub state, without what is
 * the BSP's own. */
void vmx_smp_ap_arrived(void)
{
	unsigned me = stub_cpu();

	smp_ap_copy_state();
	vs_cpus[me] = vs_cpus[0];
	memset(vs_cpus[me].gpr, 0, sizeof(vs_cpus[me].gpr));
	memset(vs_cpus[me].pending_irq, 0, sizeof(vs_cpus[me].pending_irq));
	vs_cpus[me].current = NULL;
	vs_cpus[me].launched01 = vs_cpus[me].launched02 = false;
	vs_cpus[me].in_l2 = false;
	vs_cpus[me].init_latched = false;
	vs_cpus[me].nmi_pending = false;
}

/* The AP has its VMX operation, vmcs01 and libnest context: the BSP goes on. */
void vmx_smp_ap_ready(void)
{
	__atomic_store_n(&smp_cpus[stub_cpu()].up, true, __ATOMIC_SEQ_CST);
}

bool vmx_smp_take_nmi(void)
{
	if (stub_ncpus == 1)
		return false;
	struct smp_cpu *me = &smp_cpus[stub_cpu()];
	if (!__atomic_load_n(&me->l1_nmis, __ATOMIC_SEQ_CST))
		return false;
	__atomic_fetch_sub(&me->l1_nmis, 1, __ATOMIC_SEQ_CST);
	return true;
}

/* L2 is in the wait-for-SIPI state, which only INIT and SIPI end (SDM
 * 25.4.2, activity state 3): instead of entering it, the processor waits here (interrupts
 * off; L1's stay pending in its APIC) until one of them comes. */
void vmx_smp_l2_wait_sipi(void)
{
	struct smp_cpu *me = &smp_cpus[stub_cpu()];

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
	uint32_t v = __atomic_exchange_n(&smp_cpus[stub_cpu()].sipi, 0, __ATOMIC_SEQ_CST);
	return v ? (int)(v - 1) : -1;
}

/* Processor @cpu drops what it caches of EPT01 and EPT02 before it next
 * enters a guest; if it runs one, this waits until it has left it. */
static void flush_cpu(unsigned cpu)
{
	__atomic_store_n(&smp_cpus[cpu].flush, true, __ATOMIC_SEQ_CST);
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
	ops->vm_lock = smp_vm_lock;
	ops->vm_unlock = smp_vm_unlock;
	ops->track_l1_writes = NULL;
	ops->page_free = smp_page_free;
}

/* Just before a VM entry: the processor counts as in guest mode from here,
 * so a flush request made from now on kicks it; one made before is done
 * now. */
void vmx_smp_enter(void)
{
	if (stub_ncpus == 1)
		return;
	struct smp_cpu *me = &smp_cpus[stub_cpu()];
	smp_limbo_step();
	__atomic_store_n(&me->in_guest, true, __ATOMIC_SEQ_CST);
	if (__atomic_exchange_n(&me->flush, false, __ATOMIC_SEQ_CST))
		invept(INVEPT_ALL, 0);
}

void vmx_smp_exit(void)
{
	if (stub_ncpus == 1)
		return;
	struct smp_cpu *me = &smp_cpus[stub_cpu()];
	__atomic_fetch_add(&me->exits, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&me->in_guest, false, __ATOMIC_SEQ_CST);
}

/* ---- L1's writes to its local APIC ---- */

/* L1 (or L2 on L1's APIC) wrote @lo to the ICR's low half: INIT and SIPI
 * are the stub's to carry out; the others go to the APIC as written. */
static void l1_icr(uint32_t lo)
{
	struct smp_cpu *me = &smp_cpus[stub_cpu()];
	uint32_t mode = (lo >> ICR_MODE_SHIFT) & ICR_MODE_MASK;
	uint32_t targets = smp_ipi_targets(lo, me->icr_hi);

	switch (mode) {
	case ICR_MODE_INIT:
		/* INIT level de-assert does nothing on these processors (SDM 11.6.1). */
		if (!(lo & ICR_LEVEL_ASSERT) && (lo & ICR_TRIGGER_LEVEL))
			return;
		for (unsigned i = 0; i < stub_ncpus; i++) {
			if (!(targets & (1u << i)))
				continue;
			__atomic_store_n(&smp_cpus[i].init, 1, __ATOMIC_SEQ_CST);
			if (i == stub_cpu())
				continue; /* taken before the next VM entry */
			if (smp_cpus[i].waiting)
				smp_wake(i);
			wait_taken(i, &smp_cpus[i].init);
		}
		return;
	case ICR_MODE_SIPI:
		/* Only a vCPU waiting for SIPI takes it (in the stub, or as L2 in
		 * the wait-for-SIPI state), or one an INIT is on its way to; the
		 * others ignore it. */
		for (unsigned i = 0; i < stub_ncpus; i++) {
			if (!(targets & (1u << i)) || i == stub_cpu())
				continue;
			if (!smp_cpus[i].waiting && !smp_cpus[i].init && !smp_cpus[i].l2_sipi)
				continue;
			__atomic_store_n(&smp_cpus[i].sipi, (lo & ICR_VECTOR_MASK) + 1,
					 __ATOMIC_SEQ_CST);
			if (smp_cpus[i].waiting)
				smp_wake(i);
			else
				wait_taken(i, &smp_cpus[i].sipi);
		}
		return;
	case ICR_MODE_NMI:
		/* An NMI for L1's vCPU: counted, and the kick is the NMI. */
		for (unsigned i = 0; i < stub_ncpus; i++) {
			if (!(targets & (1u << i)) || smp_cpus[i].waiting)
				continue;
			__atomic_fetch_add(&smp_cpus[i].l1_nmis, 1, __ATOMIC_SEQ_CST);
			if (i != stub_cpu())
				smp_kick(i);
		}
		return;
	default:
		smp_apic_reg_write(APIC_ICR_LO, lo);
	}
}

/* An ICR write of L1's through its x2APIC (vmx_x2apic.c): @dest is the
 * destination as the xAPIC's ICR high byte holds it. */
void vmx_smp_l1_icr(uint8_t dest, uint32_t lo)
{
	uint32_t hi = (uint32_t)dest << ICR_DEST_SHIFT;

	smp_cpus[stub_cpu()].icr_hi = hi;
	smp_apic_reg_write(APIC_ICR_HI, hi);
	if (stub_ncpus > 1)
		l1_icr(lo);
	else
		smp_apic_reg_write(APIC_ICR_LO, lo);
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

	if (stub_ncpus == 1 || (gpa & ~(uint64_t)(BM_PAGE_SIZE - 1)) != smp_apic_base ||
	    !(vmr(NEST_VMCS_EXIT_QUALIFICATION) & EPT_QUAL_WRITE))
		return false;
	uint32_t cs_ar = (uint32_t)vmr(NEST_VMCS_GUEST_CS_AR_BYTES);
	uint64_t efer = vmr(NEST_VMCS_GUEST_IA32_EFER), rip = vmr(NEST_VMCS_GUEST_RIP);
	bool long64 = (efer & EFER_LMA) && (cs_ar & AR_L);
	uint64_t lin = long64 ? rip : (rip + vmr(NEST_VMCS_GUEST_CS_BASE)) & LOW32;
	unsigned got = stub_guest_fetch(
	    vmr(NEST_VMCS_GUEST_CR0), vmr(NEST_VMCS_GUEST_CR4), efer, vmr(NEST_VMCS_GUEST_CR3),
	    vmr(NEST_VMCS_EPT_POINTER) & EPTP_ROOT_MASK, lin, buf, INSN_MAX);
	unsigned len = stub_insn_decode(buf, got, long64, long64 || (cs_ar & AR_DB));
	memcpy(gpr, vs.gpr, sizeof(gpr));
	gpr[GPR_RSP] = vmr(NEST_VMCS_GUEST_RSP);
	if (!len || len > got || !stub_decode_store32(buf, len, long64, gpr, &val))
		vmx_fatal(
		    "a guest wrote the local APIC with an instruction the stub does not emulate");
	unsigned reg = (unsigned)(gpa & (BM_PAGE_SIZE - 1));
	if (reg == APIC_ICR_LO) {
		l1_icr(val);
	} else {
		if (reg == APIC_ICR_HI)
			smp_cpus[stub_cpu()].icr_hi = val;
		smp_apic_reg_write(reg, val);
	}
	vmw(NEST_VMCS_GUEST_RIP, rip + len);
	vmw(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO,
	    vmr(NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO) & ~INTERRUPTIBILITY_STI_MOVSS);
	return true;
}

/* EPT01 maps L1's local APIC page read-only, so that its writes come here. */
void vmx_smp_protect_apic(void)
{
	if (stub_ncpus > 1 && !npt_protect(stub.npt01, smp_apic_base))
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
