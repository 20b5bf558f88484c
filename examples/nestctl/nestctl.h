/* SPDX-License-Identifier: MIT */
/* nestctl: one entry point per architecture, called with the arguments
 * after the architecture's name (argv[0] is "svm" or "vmx"). Each returns
 * the process exit status: 0 ok, 1 architectural failure, 2 bad input. */
#ifndef NESTCTL_H
#define NESTCTL_H

/* Exit statuses shared by every subcommand. */
#define NESTCTL_EXIT_OK 0
#define NESTCTL_EXIT_FAIL 1
#define NESTCTL_EXIT_USAGE 2

#include <stdint.h>

#include <nest/nest.h>

int nestctl_svm(int argc, char **argv);
int nestctl_vmx(int argc, char **argv);
int nestctl_state(int argc, char **argv); /* state.c */
int nestctl_caps(int argc, char **argv);  /* caps.c */
/* `s` without leading and trailing white space (trailing cut in place). */
char *nestctl_trim(char *s);

/* A host's capabilities (caps.c): a VMX host's IA32_VMX_* MSRs, an SVM
 * host's CPUID 0x8000000A; the default host has both (the typical VMX
 * capabilities of nest_vmx_caps_default(), every SVM feature). */
#define NESTCTL_ARCH_ANY 0
#define NESTCTL_ARCH_VMX 1
#define NESTCTL_ARCH_SVM 2
struct nestctl_host {
	int arch;
	struct nest_vmx_caps vmx; /* maxphyaddr: the VMX host's width */
	uint32_t svm_cpuid[4];
	uint32_t svm_maxphyaddr;
};

/* Read a capability dump (nestctl caps --help); 0 or an exit status. */
int nestctl_host_read(const char *file, struct nestctl_host *h);
/* The default host; returns 0. */
int nestctl_host_default(struct nestctl_host *h);
/* A policy mask from a comma-separated feature list (NULL: all); 0 or an
 * exit status. */
int nestctl_policy(const char *list, int vmx, uint32_t *mask);

#endif /* NESTCTL_H */
