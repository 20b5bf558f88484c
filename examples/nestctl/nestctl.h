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

int nestctl_svm(int argc, char **argv);
int nestctl_vmx(int argc, char **argv);

#endif /* NESTCTL_H */
