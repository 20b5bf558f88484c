/* SPDX-License-Identifier: MIT */
/* Several processors: what the SVM and the VMX stub share (smp_core.c). */
#ifndef STUB_SMP_CORE_H
#define STUB_SMP_CORE_H

#include <nest/backend.h>

#include "stub.h"

/* Local APIC registers and ICR fields (SDM 11.4.1, 11.6.1; APM 16.3, 16.5). */
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

/* Where a processor is for smp_stop_others() (SVM): running (L1, or the
 * stub working for it), waiting for L1's SIPI (nothing of L1's), parked
 * before its VMRUN, or held in its wait for SIPI by the processor stopping
 * the others (a SIPI then waits). */
enum { STOP_RUN, STOP_WAIT, STOP_PARK, STOP_HELD };

/* What the processors tell each other (written by one, read by another). */
struct smp_cpu {
	uint8_t apic_id;
	volatile bool up;	   /* the AP runs the stub's code */
	volatile bool waiting;	   /* L1's vCPU waits for SIPI */
	volatile bool l2_sipi;	   /* VMX: L2 is in the wait-for-SIPI state */
	volatile uint32_t sipi;	   /* L1's SIPI vector + 1, 0: none */
	volatile uint32_t init;	   /* L1 sent it INIT, not yet taken */
	volatile uint32_t l1_nmis; /* NMIs L1 sent it, not yet taken */
	volatile bool flush;	   /* a flush request of libnest (flush_vcpus) */
	volatile bool in_guest;	   /* between the flush check and the VM exit */
	volatile uint64_t exits;   /* VM exits so far */
	volatile int wake_lock;	   /* held while a wake-up IPI is on its way */
	volatile int stop_state;   /* STOP_*: where a stop of the others finds it */
	uint32_t icr_hi;	   /* L1's last write to ICR bits 63:32 */
	uint32_t icr_at_vmrun; /* SVM: an ICR write of L1's for the GIF-clear moment before VMRUN */
};

extern struct smp_cpu smp_cpus[STUB_MAX_CPUS];
extern uint64_t smp_apic_base; /* the local APIC's physical base, every processor's */
/* The wake-up vector's handler while the processor does not wait for SIPI
 * (then it is one of L1's interrupts); NULL: ended there. */
extern bm_irq_handler smp_wake_other;

void smp_spin_lock(volatile int *l);
void smp_spin_unlock(volatile int *l);
uint32_t smp_apic_reg_read(unsigned reg);
void smp_apic_reg_write(unsigned reg, uint32_t val);
/* An IPI of the stub's own; L1's ICR high half is left as it was. */
void smp_send_ipi(uint8_t apic_id, uint32_t lo);
/* Makes processor @cpu leave its guest: an NMI. */
void smp_kick(unsigned cpu);
/* Wakes processor @cpu if it waits for L1's SIPI. */
void smp_wake(unsigned cpu);
/* The number of processors (bm_cpu_count()); stub_cpu() looks them up from now on. */
unsigned smp_setup(const char *cmd);
/* Brings up processors 1 .. n - 1, each running @entry; returns when all are up. */
void smp_start_aps(unsigned n, void (*entry)(void));
/* On an AP, first thing: the BSP's stub state (struct stub), figures reset. */
void smp_ap_copy_state(void);
/* The local APIC as INIT leaves it, as far as software can. */
void smp_apic_reset(void);
/* L1's vCPU here waits for SIPI (the processor halts); returns the vector. */
uint8_t smp_wait_sipi(void);
/* An INIT of L1's for this processor, taken once. */
bool smp_init_pending(void);
/* Whether an INIT waits for this vCPU (held, or not taken yet); keeps it. */
bool smp_init_waiting(void);
/* Processors an IPI of L1's (ICR @lo, @hi) from this one goes to, as a bit set. */
uint32_t smp_ipi_targets(uint32_t lo, uint32_t hi);
/* Before each VM entry: freed pages whose processors all left guest mode go back. */
void smp_limbo_step(void);
/* The backend's page_free, lock and unlock with several processors. */
void smp_page_free(void *ctx, uint64_t hpa, void *hva);
void smp_vm_lock(void *ctx);
void smp_vm_unlock(void *ctx);

#endif /* STUB_SMP_CORE_H */
