/* SPDX-License-Identifier: MIT */
/*
 * minivmm's nested-state snapshots through libnest (snapshot.c): while the
 * guest runs a guest of its own (KVM's guest mode), KVM's nested state is
 * taken, checked and converted by libnest, written in libnest's format to
 * a file, read back, and given back to KVM.
 */
#ifndef MINIVMM_SNAPSHOT_H
#define MINIVMM_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

struct snap_opts {
	const char *path;   /* libnest's format goes here (-S) */
	unsigned max;	    /* round trips in guest mode, then no more (-N) */
	unsigned period_ms; /* one attempt per period (-P) */
	const char *tamper; /* -x: tamper the first snapshot so, expect a refusal */
	bool verbose;
};

/* The tamper classes, one per validation class of libnest's import and
 * restore; NULL-terminated. */
extern const char *const snap_tamper_names[];

/* Checks @p o (before KVM is touched): 0, or a message and exit 2. */
void snap_check_opts(const struct snap_opts *o);
/* After the vCPU exists: libnest's offline context from its CPUID. */
void snap_init(const struct snap_opts *o, int vcpu);
/* One attempt (the vCPU is out of KVM_RUN). Dies on any refusal. */
void snap_round(void);
/* The counts, to standard error. */
void snap_report(void);

/* The same on VMX (snapshot-vmx.c), which snap_init() chooses when the
 * vCPU has VMX (CPUID.1:ECX[5]). */
extern const char *const snap_vmx_tamper_names[];
void snap_vmx_init(const struct snap_opts *o, int vcpu, uint32_t maxphyaddr);
void snap_vmx_round(void);
void snap_vmx_report(void);

/* Shared by both: a message, exit 2; the monotonic clock in seconds; the
 * snapshot file written whole, and read back (its length). */
void __attribute__((noreturn, format(printf, 1, 2))) snap_die(const char *fmt, ...);
double now_secs(void);
void snap_write_file(const char *path, const uint8_t *p, size_t n);
size_t snap_read_file(const char *path, uint8_t *p, size_t cap);

#endif /* MINIVMM_SNAPSHOT_H */
