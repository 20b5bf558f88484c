/* SPDX-License-Identifier: MIT */
/*
 * nestctl vmx: run libnest's VM-entry checks (Intel SDM Vol. 3C 27.2-27.4)
 * on a vmcs12 described as text, and list the VMCS field table and the
 * entry rules.
 *
 *   nestctl vmx check FILE    ok | vmfail N: RULE | entry-failure reason=R qualification=Q: RULE
 *   nestctl vmx fields        the VMCS field table
 *   nestctl vmx rules         the VM-entry rules
 *
 * Exit status: 0 ok, 1 architectural failure, 2 bad input or usage.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nest/nest.h>

#include "nestctl.h"

#define EXIT_ARCH_FAIL NESTCTL_EXIT_FAIL
#define EXIT_BAD_INPUT NESTCTL_EXIT_USAGE
#define LINE_MAX_LEN 1024
#define MSR_LOAD_MAX 4096u /* 512 * 8, the largest IA32_VMX_MISC[27:25] allows */
#define VMCS_IMAGE_MAX 4096u

static const char usage_text[] =
    "usage: nestctl vmx check FILE\n"
    "       nestctl vmx fields\n"
    "       nestctl vmx rules\n"
    "\n"
    "check   run the VM-entry checks of the Intel SDM (27.2 controls and host\n"
    "        state, 27.3 guest state, 27.4 MSR loading) on the vmcs12 in FILE\n"
    "        ('-' for standard input) and print one line:\n"
    "          ok\n"
    "          vmfail N: RULE                 (VMfailValid, error N: 7 or 8)\n"
    "          entry-failure reason=R qualification=Q: RULE\n"
    "                                         (R: 33, 34 or 41; the exit-reason\n"
    "                                          field is R | 0x80000000)\n"
    "        RULE is NAME (SDM section, field F): text.\n"
    "        Exit status: 0 ok, 1 architectural failure, 2 bad input.\n"
    "fields  list the VMCS fields: name, encoding, width, type\n"
    "rules   list the VM-entry rules: name, SDM section, text\n"
    "\n"
    "FILE holds one item per line; '#' starts a comment; numbers are decimal\n"
    "or 0x-prefixed hex ('_' may separate hex digits); fields not set are 0:\n"
    "  FIELD = VALUE        FIELD is a name from the field table (GUEST_CR0) or\n"
    "                       an encoding (0x6800); VALUE must fit the field\n"
    "  CAP NAME = VALUE     capability offered to L1, overriding the typical set\n"
    "                       of nest_vmx_caps_default(): basic, pinbased,\n"
    "                       procbased, exit, entry, misc, cr0_fixed0,\n"
    "                       cr0_fixed1, cr4_fixed0, cr4_fixed1, vmcs_enum,\n"
    "                       procbased2, ept_vpid, true_pinbased, true_procbased,\n"
    "                       true_exit, true_entry, vmfunc, procbased3, exit2,\n"
    "                       feature_control (IA32_VMX_* values), maxphyaddr\n"
    "  MSR_LOAD = INDEX VALUE\n"
    "                       the next entry of the VM-entry MSR-load area;\n"
    "                       VM_ENTRY_MSR_LOAD_COUNT defaults to their number\n"
    "L1 is taken to run in IA-32e mode outside SMM; the PDPTEs of a PAE guest\n"
    "without EPT are read from GUEST_PDPTE0-3.\n";

/* The capability fields a file may override, by name. */
static const struct cap_name {
	const char *name;
	size_t offset;
	size_t width;
} cap_names[] = {
#define CAP(n)                                                                                     \
	{                                                                                          \
#n, offsetof(struct nest_vmx_caps, n), sizeof(((struct nest_vmx_caps *)0)->n)      \
	}
    CAP(basic),		  CAP(pinbased),      CAP(procbased),	   CAP(exit),
    CAP(entry),		  CAP(misc),	      CAP(cr0_fixed0),	   CAP(cr0_fixed1),
    CAP(cr4_fixed0),	  CAP(cr4_fixed1),    CAP(vmcs_enum),	   CAP(procbased2),
    CAP(ept_vpid),	  CAP(true_pinbased), CAP(true_procbased), CAP(true_exit),
    CAP(true_entry),	  CAP(vmfunc),	      CAP(procbased3),	   CAP(exit2),
    CAP(feature_control), CAP(maxphyaddr),
#undef CAP
};

struct vmcs_text {
	uint8_t img[VMCS_IMAGE_MAX];
	struct nest_vmx_caps caps;
	struct nest_vmx_msr_entry msr[MSR_LOAD_MAX];
	uint32_t nmsr;
	bool count_set;
	bool set[VMCS_IMAGE_MAX]; /* by field offset: set twice is an error */
};

static int bad(const char *file, unsigned line, const char *fmt, const char *what)
{
	fprintf(stderr, "nestctl vmx: %s:%u: ", file, line);
	fprintf(stderr, fmt, what);
	fputc('\n', stderr);
	return EXIT_BAD_INPUT;
}

/* A number: decimal, or hex with 0x (underscores allowed between digits). */
static bool parse_u64(const char *s, uint64_t *out)
{
	char buf[LINE_MAX_LEN], *end;
	size_t n = 0;
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');

	if (*s == '\0' || *s == '-' || *s == '+')
		return false;
	for (; *s && n + 1 < sizeof(buf); s++)
		if (!(hex && *s == '_'))
			buf[n++] = *s;
	if (*s)
		return false;
	buf[n] = '\0';
	errno = 0;
	*out = strtoull(buf, &end, hex ? 16 : 10);
	return errno == 0 && *end == '\0' && end != buf + (hex ? 2 : 0);
}

static bool fits(uint64_t value, size_t bytes)
{
	return bytes >= sizeof(uint64_t) || (value >> (8 * bytes)) == 0;
}

static const struct nest_vmcs_field *field_lookup(const char *name)
{
	uint64_t enc;

	if (parse_u64(name, &enc))
		return enc > UINT32_MAX ? NULL : nest_vmcs_field_by_encoding((uint32_t)enc);
	return nest_vmcs_field_by_name(name);
}

static int parse_cap(struct vmcs_text *t, const char *file, unsigned line, char *name,
		     const char *val)
{
	uint64_t x;
	size_t i;

	name = nestctl_trim(name);
	for (i = 0; i < sizeof(cap_names) / sizeof(cap_names[0]); i++)
		if (strcmp(name, cap_names[i].name) == 0)
			break;
	if (i == sizeof(cap_names) / sizeof(cap_names[0]))
		return bad(file, line, "unknown capability '%s' (see nestctl vmx --help)", name);
	if (!parse_u64(val, &x))
		return bad(file, line, "bad number '%s'", val);
	if (!fits(x, cap_names[i].width))
		return bad(file, line, "'%s' is wider than the capability", val);
	if (cap_names[i].width == sizeof(uint64_t))
		memcpy((uint8_t *)&t->caps + cap_names[i].offset, &x, sizeof(x));
	else {
		uint32_t y = (uint32_t)x;

		memcpy((uint8_t *)&t->caps + cap_names[i].offset, &y, sizeof(y));
	}
	return 0;
}

static int parse_msr(struct vmcs_text *t, const char *file, unsigned line, char *val)
{
	char *sep = val + strcspn(val, " \t,");
	uint64_t index, value;

	if (*sep == '\0')
		return bad(file, line, "MSR_LOAD needs 'INDEX VALUE', got '%s'", val);
	*sep++ = '\0';
	sep = nestctl_trim(sep);
	if (!parse_u64(nestctl_trim(val), &index) || index > UINT32_MAX)
		return bad(file, line, "bad MSR index '%s'", val);
	if (!parse_u64(sep, &value))
		return bad(file, line, "bad MSR value '%s'", sep);
	if (t->nmsr == MSR_LOAD_MAX)
		return bad(file, line, "more than %s MSR_LOAD entries", "4096");
	t->msr[t->nmsr].index = (uint32_t)index;
	t->msr[t->nmsr].reserved = 0;
	t->msr[t->nmsr].value = value;
	t->nmsr++;
	return 0;
}

static int parse_line(struct vmcs_text *t, const char *file, unsigned line, char *s)
{
	char *eq, *key, *val;
	const struct nest_vmcs_field *f;
	uint64_t x;

	s[strcspn(s, "#")] = '\0';
	s = nestctl_trim(s);
	if (*s == '\0')
		return 0;
	eq = strchr(s, '=');
	if (eq == NULL)
		return bad(file, line, "expected 'FIELD = VALUE', got '%s'", s);
	*eq = '\0';
	key = nestctl_trim(s);
	val = nestctl_trim(eq + 1);
	if (*val == '\0')
		return bad(file, line, "missing value for '%s'", key);
	if (strncmp(key, "CAP", 3) == 0 && isspace((unsigned char)key[3]))
		return parse_cap(t, file, line, key + 4, val);
	if (strcmp(key, "MSR_LOAD") == 0)
		return parse_msr(t, file, line, val);
	f = field_lookup(key);
	if (f == NULL)
		return bad(file, line, "unknown VMCS field '%s' (see nestctl vmx fields)", key);
	if (!parse_u64(val, &x))
		return bad(file, line, "bad number '%s'", val);
	if (!fits(x, nest_vmcs_width_bytes(f->width)))
		return bad(file, line, "value '%s' is wider than the field", val);
	if (t->set[f->offset])
		return bad(file, line, "field '%s' is set twice", f->name);
	t->set[f->offset] = true;
	if (f->encoding == NEST_VMCS_VM_ENTRY_MSR_LOAD_COUNT)
		t->count_set = true;
	nest_vmcs12_image_write(t->img, f->encoding, x);
	return 0;
}

static int read_file(struct vmcs_text *t, const char *file)
{
	FILE *fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	char buf[LINE_MAX_LEN];
	unsigned line = 0;
	int r = 0;

	if (fp == NULL) {
		fprintf(stderr, "nestctl vmx: %s: %s\n", file, strerror(errno));
		return EXIT_BAD_INPUT;
	}
	while (r == 0 && fgets(buf, sizeof(buf), fp) != NULL) {
		line++;
		if (strchr(buf, '\n') == NULL && !feof(fp))
			r = bad(file, line, "line longer than %s characters", "1023");
		else
			r = parse_line(t, file, line, buf);
	}
	if (r == 0 && ferror(fp)) {
		fprintf(stderr, "nestctl vmx: %s: read error\n", file);
		r = EXIT_BAD_INPUT;
	}
	if (fp != stdin)
		fclose(fp);
	return r;
}

static void print_rule(const struct nest_vmx_entry_result *res)
{
	const struct nest_vmcs_field *f =
	    res->field == NEST_VMX_ENTRY_NO_FIELD ? NULL : nest_vmcs_field_by_encoding(res->field);

	printf("%s (SDM %s", nest_vmx_rule_name(res->rule), nest_vmx_rule_section(res->rule));
	if (f != NULL)
		printf(", field %s", f->name);
	printf("): %s\n", nest_vmx_rule_text(res->rule));
}

static int cmd_check(const char *file)
{
	static struct vmcs_text t;
	struct nest_vmx_entry_result res;
	uint64_t count;
	int r;

	memset(&t, 0, sizeof(t));
	if (nest_vmcs12_image_size() > sizeof(t.img)) {
		fprintf(stderr, "nestctl vmx: vmcs12 image larger than expected\n");
		return EXIT_BAD_INPUT;
	}
	nest_vmcs12_image_init(t.img);
	t.caps.size = sizeof(t.caps);
	nest_vmx_caps_default(&t.caps);
	if ((r = read_file(&t, file)) != 0)
		return r;
	nest_vmcs12_image_read(t.img, NEST_VMCS_VM_ENTRY_MSR_LOAD_COUNT, &count);
	if (!t.count_set) {
		count = t.nmsr;
		nest_vmcs12_image_write(t.img, NEST_VMCS_VM_ENTRY_MSR_LOAD_COUNT, count);
	} else if (t.nmsr != 0 && count != t.nmsr) {
		fprintf(stderr,
			"nestctl vmx: %s: VM_ENTRY_MSR_LOAD_COUNT is %" PRIu64
			" but there are %" PRIu32 " MSR_LOAD lines\n",
			file, count, t.nmsr);
		return EXIT_BAD_INPUT;
	} else if (t.nmsr == 0 && count != 0) {
		fprintf(stderr,
			"nestctl vmx: %s: VM_ENTRY_MSR_LOAD_COUNT is %" PRIu64
			" but no MSR_LOAD line gives the entries\n",
			file, count);
		return EXIT_BAD_INPUT;
	}
	res.size = sizeof(res);
	if (nest_vmx_check_vmcs12(t.img, nest_vmcs12_image_size(), &t.caps, &res) != NEST_OK) {
		fprintf(stderr, "nestctl vmx: %s: the capability values are not usable\n", file);
		return EXIT_BAD_INPUT;
	}
	/* SDM 27.4: MSR loading follows a successful guest-state load. */
	if (res.outcome == NEST_VMX_ENTRY_OK && count != 0)
		nest_vmx_check_msr_load(t.msr, (uint32_t)count, &t.caps, &res);
	switch (res.outcome) {
	case NEST_VMX_ENTRY_OK:
		printf("ok\n");
		return NESTCTL_EXIT_OK;
	case NEST_VMX_ENTRY_VMFAIL:
		printf("vmfail %" PRIu32 ": ", res.vm_instruction_error);
		break;
	default:
		printf("entry-failure reason=%" PRIu32 " qualification=%" PRIu64 ": ",
		       res.exit_reason & 0xffffu, res.exit_qualification);
		break;
	}
	print_rule(&res);
	return EXIT_ARCH_FAIL;
}

static int cmd_fields(void)
{
	static const char *const widths[] = {"16", "64", "32", "natural"};
	static const char *const types[] = {"control", "read-only", "guest", "host"};
	size_t i;

	for (i = 0; i < nest_vmcs_field_count(); i++) {
		const struct nest_vmcs_field *f = nest_vmcs_field_at(i);

		printf("%-40s 0x%08" PRIx32 " %-7s %s\n", f->name, f->encoding,
		       widths[f->width & 3u], types[f->type & 3u]);
	}
	return 0;
}

static int cmd_rules(void)
{
	uint32_t r;

	for (r = 1; strcmp(nest_vmx_rule_name(r), "UNKNOWN") != 0; r++)
		printf("%-40s %-9s %s\n", nest_vmx_rule_name(r), nest_vmx_rule_section(r),
		       nest_vmx_rule_text(r));
	return 0;
}

int nestctl_vmx(int argc, char **argv)
{
	/* argv[0] may be the subcommand's own name. */
	if (argc > 0 && strcmp(argv[0], "vmx") == 0) {
		argc--;
		argv++;
	}
	if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 ||
			  strcmp(argv[0], "help") == 0)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc == 2 && strcmp(argv[0], "check") == 0)
		return cmd_check(argv[1]);
	if (argc == 1 && strcmp(argv[0], "fields") == 0)
		return cmd_fields();
	if (argc == 1 && strcmp(argv[0], "rules") == 0)
		return cmd_rules();
	fputs(usage_text, stderr);
	return EXIT_BAD_INPUT;
}
