/* SPDX-License-Identifier: MIT */
/* nestctl: command-line access to libnest's architectural checks. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <nest/nest.h>

#include "nestctl.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nestctl svm check [OPTIONS] FILE\n"
		"       nestctl vmx ...\n"
		"       nestctl state show|check|convert ...\n"
		"       nestctl caps [--host FILE | --pool FILE...] [--features LIST]\n"
		"       nestctl --help | --version\n"
		"\n"
		"svm check   apply VMRUN's consistency checks (AMD APM 15.5.1) to a VMCB\n"
		"            written as FIELD = VALUE lines; prints \"ok\" or\n"
		"            \"vmexit-invalid: RULE\". Run \"nestctl svm --help\" for options.\n"
		"vmx         the VMX counterpart.\n"
		"state       show, check or convert a nested-state snapshot (libnest's\n"
		"            format or KVM's kvm_nested_state).\n"
		"caps        what libnest offers L1 on a host or a migration pool.\n"
		"\n"
		"Exit status: 0 ok, 1 the architecture rejects the input, 2 bad input or usage.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return NESTCTL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return NESTCTL_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("nestctl (libnest) %s\n", nest_version_string());
		return NESTCTL_EXIT_OK;
	}
	if (!strcmp(argv[1], "svm"))
		return nestctl_svm(argc - 1, argv + 1);
	if (!strcmp(argv[1], "vmx"))
		return nestctl_vmx(argc - 1, argv + 1);
	if (!strcmp(argv[1], "state"))
		return nestctl_state(argc - 1, argv + 1);
	if (!strcmp(argv[1], "caps"))
		return nestctl_caps(argc - 1, argv + 1);
	fprintf(stderr, "nestctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return NESTCTL_EXIT_USAGE;
}

char *nestctl_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}
