/* SPDX-License-Identifier: MIT */
/* The stub's libnest backend (backend.c). */
#ifndef STUB_BACKEND_H
#define STUB_BACKEND_H

#include <nest/backend.h>

#include "stub.h"

/* TLB work libnest asked for, carried out by the next VMRUN. */
struct stub_flush {
	uint8_t control; /* VMCB TLB_CONTROL value for the next VMRUN */
	uint64_t count;	 /* flush requests */
};
/* Each processor's (smp.c). */
typedef struct stub_flush stub_flush_state;
extern stub_flush_state stub_flush_cpus[STUB_MAX_CPUS];
#define stub_flush (stub_flush_cpus[stub_cpu()])

/* Backend calls libnest made (the stub prints them per transition). */
struct stub_be_calls {
	uint64_t read_l1, write_l1, cmpxchg_l1, l1_to_host, page_alloc, page_free, flush;
	uint64_t vmcs_read, vmcs_write; /* VMX */
};
extern struct stub_be_calls stub_be_calls;
extern const struct nest_backend stub_backend;
/* Its operations: L1 memory, L0's map, pages, SVM flushes, log. */
extern const struct nest_backend_ops stub_backend_ops;
/* enum nest_log_level: messages up to this level are printed. */
extern int stub_log_level;

/* RDMSR/WRMSR on the processor that turn a #GP into false. */
bool stub_rdmsr_safe(uint32_t msr, uint64_t *value);
bool stub_wrmsr_safe(uint32_t msr, uint64_t value);
/* The guest's view of an MSR for libnest's software VM-exit MSR store
 * (nest_backend_ops::guest_rdmsr): defined by each stub. */
bool stub_guest_rdmsr(uint32_t msr, uint64_t *value);

#endif /* STUB_BACKEND_H */
