/* SPDX-License-Identifier: MIT */
/*
 * `nestctl svm check FILE`: read a VMCB described as FIELD = VALUE lines
 * (names from libnest's VMCB table, or byte offsets), apply VMRUN's
 * consistency checks and print the verdict.
 */
#define _POSIX_C_SOURCE 200809L /* getline */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nest/nest.h>

#include "nestctl.h"

/* The processor the checks compare against unless options say otherwise:
 * long mode, MAXPHYADDR 48, every SVM feature libnest offers. */
#define DEFAULT_MAXPHYADDR 48
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define EFER_SVME (1ull << 12)
#define EFER_FFXSR (1ull << 14)
/* CR4: VME..UMIP (bits 0-11), FSGSBASE, PCIDE, OSXSAVE, SMEP, SMAP, PKE. */
#define DEFAULT_CR4_ALLOWED 0x770fffull

static void svm_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: nestctl svm check [--maxphyaddr N] [--features MASK] [--no-long-mode]\n"
	    "                         [--cr4-allowed MASK] [--efer-allowed MASK] [-v] FILE\n"
	    "\n"
	    "FILE holds one \"FIELD = VALUE\" per line; FIELD is a name of libnest's VMCB\n"
	    "table (case-insensitive, e.g. EXITCODE, CR0, GUEST_ASID) or the byte offset\n"
	    "where a field starts (e.g. 0x558); VALUE is a C integer (0x.., 0.., decimal).\n"
	    "'#' starts a comment; fields not set are 0; a later line overrides an earlier.\n"
	    "FILE \"-\" reads standard input.\n"
	    "\n"
	    "  --maxphyaddr N     physical-address width of the processor (32-52; 48)\n"
	    "  --features MASK    SVM features offered (CPUID 0x8000000A EDX; all supported)\n"
	    "  --no-long-mode     the processor has no long mode\n"
	    "  --cr4-allowed MASK CR4 bits that are not reserved (0x770fff)\n"
	    "  --efer-allowed MASK EFER bits that are not reserved (SCE LME LMA NXE SVME FFXSR)\n"
	    "  --list-rules       print the names of the rules, one a line, and exit\n"
	    "  -v                 also print the rule's text and the offending field\n"
	    "\n"
	    "Prints \"ok\" (exit 0) or \"vmexit-invalid: RULE\" (exit 1); bad input exits 2\n"
	    "with a message naming the line.\n");
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* Parse FILE into vmcb; on bad input print a message and return -1. */
static int load_vmcb(const char *path, struct nest_vmcb *vmcb)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = 0;

	if (!f) {
		fprintf(stderr, "nestctl: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, f) != -1) {
		const struct nest_vmcb_field *fld;
		char *hash, *eq, *name, *val;
		uint64_t v, off;

		lineno++;
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		name = nestctl_trim(line);
		if (!*name)
			continue;
		eq = strchr(name, '=');
		if (!eq) {
			fprintf(stderr, "nestctl: %s:%u: expected FIELD = VALUE\n", path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		name = nestctl_trim(name);
		val = nestctl_trim(eq + 1);
		if (isdigit((unsigned char)name[0])) {
			if (parse_u64(name, &off) || off >= NEST_VMCB_SIZE ||
			    !(fld = nest_vmcb_field_by_offset((uint32_t)off))) {
				fprintf(stderr,
					"nestctl: %s:%u: no VMCB field starts at offset '%s'\n",
					path, lineno, name);
				rc = -1;
				break;
			}
		} else if (!(fld = nest_vmcb_field_by_name(name))) {
			fprintf(stderr, "nestctl: %s:%u: unknown VMCB field '%s'\n", path, lineno,
				name);
			rc = -1;
			break;
		}
		if (parse_u64(val, &v)) {
			fprintf(stderr, "nestctl: %s:%u: bad value '%s' for %s\n", path, lineno,
				val, fld->name);
			rc = -1;
			break;
		}
		if (fld->width < 8 && (v >> (8 * fld->width))) {
			fprintf(stderr, "nestctl: %s:%u: value %s does not fit %s (%u bytes)\n",
				path, lineno, val, fld->name, fld->width);
			rc = -1;
			break;
		}
		nest_vmcb_write(vmcb, fld, v);
	}
	if (rc == 0 && ferror(f)) {
		fprintf(stderr, "nestctl: %s: read error\n", path);
		rc = -1;
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

static int opt_u64(int *i, int argc, char **argv, uint64_t *out)
{
	if (*i + 1 >= argc || parse_u64(argv[*i + 1], out)) {
		fprintf(stderr, "nestctl: %s needs a number\n", argv[*i]);
		return -1;
	}
	(*i)++;
	return 0;
}

static int svm_check(int argc, char **argv)
{
	struct nest_svm_caps caps;
	struct nest_svm_diag diag;
	struct nest_vmcb *vmcb;
	const char *path = NULL;
	bool verbose = false;
	uint64_t v;
	int i, rc;

	memset(&caps, 0, sizeof(caps));
	caps.size = sizeof(caps);
	caps.features = NEST_SVM_F_SUPPORTED;
	caps.maxphyaddr = DEFAULT_MAXPHYADDR;
	caps.long_mode = 1;
	caps.efer_allowed = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME | EFER_FFXSR;
	caps.cr4_allowed = DEFAULT_CR4_ALLOWED;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			svm_usage(stdout);
			return NESTCTL_EXIT_OK;
		} else if (!strcmp(argv[i], "--list-rules")) {
			uint32_t r;

			for (r = 1; strcmp(nest_svm_check_name(r), "unknown"); r++)
				printf("%s\n", nest_svm_check_name(r));
			return NESTCTL_EXIT_OK;
		} else if (!strcmp(argv[i], "-v")) {
			verbose = true;
		} else if (!strcmp(argv[i], "--no-long-mode")) {
			caps.long_mode = 0;
		} else if (!strcmp(argv[i], "--maxphyaddr")) {
			if (opt_u64(&i, argc, argv, &v))
				return NESTCTL_EXIT_USAGE;
			if (v < 32 || v > 52) {
				fprintf(stderr, "nestctl: --maxphyaddr must be 32..52\n");
				return NESTCTL_EXIT_USAGE;
			}
			caps.maxphyaddr = (uint32_t)v;
		} else if (!strcmp(argv[i], "--features")) {
			if (opt_u64(&i, argc, argv, &v) || v > UINT32_MAX)
				return NESTCTL_EXIT_USAGE;
			caps.features = (uint32_t)v;
		} else if (!strcmp(argv[i], "--cr4-allowed")) {
			if (opt_u64(&i, argc, argv, &caps.cr4_allowed))
				return NESTCTL_EXIT_USAGE;
		} else if (!strcmp(argv[i], "--efer-allowed")) {
			if (opt_u64(&i, argc, argv, &caps.efer_allowed))
				return NESTCTL_EXIT_USAGE;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "nestctl: unknown option '%s'\n", argv[i]);
			return NESTCTL_EXIT_USAGE;
		} else if (!path) {
			path = argv[i];
		} else {
			fprintf(stderr, "nestctl: one FILE only\n");
			return NESTCTL_EXIT_USAGE;
		}
	}
	if (!path) {
		svm_usage(stderr);
		return NESTCTL_EXIT_USAGE;
	}
	if (!caps.long_mode)
		caps.efer_allowed &= ~(EFER_LME | EFER_LMA);

	vmcb = calloc(1, sizeof(*vmcb));
	if (!vmcb) {
		fprintf(stderr, "nestctl: out of memory\n");
		return NESTCTL_EXIT_USAGE;
	}
	if (load_vmcb(path, vmcb)) {
		free(vmcb);
		return NESTCTL_EXIT_USAGE;
	}
	rc = nest_svm_check_vmcb(vmcb, &caps, &diag);
	free(vmcb);
	if (rc != NEST_OK) {
		fprintf(stderr, "nestctl: %s\n", nest_strerror(rc));
		return NESTCTL_EXIT_USAGE;
	}
	if (diag.rule == NEST_SVM_CHECK_OK) {
		printf("ok\n");
		return NESTCTL_EXIT_OK;
	}
	printf("vmexit-invalid: %s\n", nest_svm_check_name(diag.rule));
	if (verbose) {
		const struct nest_vmcb_field *f = nest_vmcb_field_by_offset(diag.offset);

		printf("  %s\n  %s = %#llx\n", nest_svm_check_text(diag.rule), f ? f->name : "?",
		       (unsigned long long)diag.value);
	}
	return NESTCTL_EXIT_FAIL;
}

int nestctl_svm(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "check"))
		return svm_check(argc - 1, argv + 1);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		svm_usage(stdout);
		return NESTCTL_EXIT_OK;
	}
	svm_usage(stderr);
	return NESTCTL_EXIT_USAGE;
}
