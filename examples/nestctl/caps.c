/* SPDX-License-Identifier: MIT */
/*
 * nestctl caps: what libnest offers L1 on a host, or on every host of a
 * migration pool, under a policy.
 *
 * A host is a capability dump (KEY = VALUE lines: the IA32_VMX_* MSRs by
 * number or by their nest_vmx_caps name, maxphyaddr, or cpuid_8000000a =
 * EAX EBX ECX EDX for an SVM host), or this machine (/dev/cpu/0/msr for
 * VMX, CPUID for SVM). The output is itself a dump: what L1 sees.
 */
#define _POSIX_C_SOURCE 200809L /* pread */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <nest/nest.h>

#include "nestctl.h"
#include "offline.h"

#define MAX_POOL 64

static const char usage_text[] =
    "usage: nestctl caps [--host FILE] [--features LIST] [--maxphyaddr N]\n"
    "       nestctl caps --pool FILE... [--features LIST]\n"
    "       nestctl caps --dump\n"
    "\n"
    "Print what libnest offers L1 (the capability MSRs L1 reads for VMX; CPUID\n"
    "0x8000000A for SVM) on one host, or on every host of a pool (--pool: the\n"
    "set each host can honour, so a nested guest may migrate between them).\n"
    "The output is a capability dump, with the features as comments.\n"
    "\n"
    "  --host FILE      the host's capability dump (default: this machine, from\n"
    "                   /dev/cpu/0/msr (modprobe msr; root) or CPUID)\n"
    "  --pool FILE...   the dumps of every host of the pool (all VMX or all SVM)\n"
    "  --features LIST  the policy: comma-separated features, 'all' (default) or\n"
    "                   'none'; VMX: ept vpid unrestricted_guest preemption_timer\n"
    "                   vmcs_shadowing pml apicv posted_intr vmfunc tsc_scaling\n"
    "                   vmwrite_any; SVM: np lbrv svml nrips tsc_rate\n"
    "                   vmcb_clean flush_by_asid decode_assists pause_filter\n"
    "                   pf_threshold vgif\n"
    "  --maxphyaddr N   L1's physical-address width (default the host's)\n"
    "  --dump           print this machine's capability dump and exit\n"
    "\n"
    "Dump format: one KEY = VALUE per line, '#' comments; KEY is an MSR number\n"
    "(0x480-0x493, 0x3a) or basic, pinbased, procbased, exit, entry, misc,\n"
    "cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1, vmcs_enum, procbased2,\n"
    "ept_vpid, true_pinbased, true_procbased, true_exit, true_entry, vmfunc,\n"
    "procbased3, exit2, feature_control; maxphyaddr; or cpuid_8000000a = EAX EBX\n"
    "ECX EDX (an SVM host).\n"
    "\n"
    "Exit status: 0 ok, 1 the pool's hosts disagree on a control one requires\n"
    "and another forbids, 2 bad input or usage.\n";

struct cap_name {
	const char *name;
	uint32_t msr;
	size_t offset;
};

static const struct cap_name caps_table[] = {
#define C(n, m)                                                                                    \
	{                                                                                          \
#n, m, offsetof(struct nest_vmx_caps, n)                                           \
	}
    C(basic, 0x480),	  C(pinbased, 0x481),	   C(procbased, 0x482),
    C(exit, 0x483),	  C(entry, 0x484),	   C(misc, 0x485),
    C(cr0_fixed0, 0x486), C(cr0_fixed1, 0x487),	   C(cr4_fixed0, 0x488),
    C(cr4_fixed1, 0x489), C(vmcs_enum, 0x48a),	   C(procbased2, 0x48b),
    C(ept_vpid, 0x48c),	  C(true_pinbased, 0x48d), C(true_procbased, 0x48e),
    C(true_exit, 0x48f),  C(true_entry, 0x490),	   C(vmfunc, 0x491),
    C(procbased3, 0x492), C(exit2, 0x493),	   C(feature_control, 0x3a),
#undef C
};
#define NCAPS (sizeof(caps_table) / sizeof(caps_table[0]))

static uint64_t *cap_at(struct nest_vmx_caps *c, size_t i)
{
	return (uint64_t *)((uint8_t *)c + caps_table[i].offset);
}

struct feature {
	const char *name;
	uint32_t bit;
};

static const struct feature vmx_features[] = {
    {"ept", NEST_VMX_F_EPT},
    {"vpid", NEST_VMX_F_VPID},
    {"unrestricted_guest", NEST_VMX_F_UNRESTRICTED_GUEST},
    {"preemption_timer", NEST_VMX_F_PREEMPTION_TIMER},
    {"vmcs_shadowing", NEST_VMX_F_VMCS_SHADOWING},
    {"pml", NEST_VMX_F_PML},
    {"apicv", NEST_VMX_F_APICV},
    {"vmfunc", NEST_VMX_F_VMFUNC},
    {"tsc_scaling", NEST_VMX_F_TSC_SCALING},
    {"vmwrite_any", NEST_VMX_F_VMWRITE_ANY},
    {"posted_intr", NEST_VMX_F_POSTED_INTR},
};

static const struct feature svm_features[] = {
    {"np", NEST_SVM_F_NP},
    {"lbrv", NEST_SVM_F_LBRV},
    {"svml", NEST_SVM_F_SVML},
    {"nrips", NEST_SVM_F_NRIPS},
    {"tsc_rate", NEST_SVM_F_TSC_RATE},
    {"vmcb_clean", NEST_SVM_F_VMCB_CLEAN},
    {"flush_by_asid", NEST_SVM_F_FLUSH_BY_ASID},
    {"decode_assists", NEST_SVM_F_DECODE_ASSISTS},
    {"pause_filter", NEST_SVM_F_PAUSE_FILTER},
    {"pf_threshold", NEST_SVM_F_PF_THRESHOLD},
    {"avic", NEST_SVM_F_AVIC},
    {"v_vmsave_vmload", NEST_SVM_F_V_VMSAVE_VMLOAD},
    {"vgif", NEST_SVM_F_VGIF},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

int nestctl_policy(const char *list, int vmx, uint32_t *mask)
{
	const struct feature *t = vmx ? vmx_features : svm_features;
	size_t n = vmx ? NELEM(vmx_features) : NELEM(svm_features), i;
	char buf[512], *tok, *save;

	*mask = vmx ? NEST_VMX_F_ALL : NEST_SVM_F_SUPPORTED;
	if (list == NULL)
		return 0;
	if (strlen(list) >= sizeof(buf)) {
		fprintf(stderr, "nestctl: --features: too long\n");
		return NESTCTL_EXIT_USAGE;
	}
	strcpy(buf, list);
	*mask = 0;
	for (tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (!strcmp(tok, "all")) {
			*mask |= vmx ? NEST_VMX_F_ALL : NEST_SVM_F_SUPPORTED;
			continue;
		}
		if (!strcmp(tok, "none"))
			continue;
		for (i = 0; i < n; i++)
			if (!strcmp(tok, t[i].name))
				break;
		if (i == n) {
			fprintf(stderr, "nestctl: unknown %s feature '%s' (nestctl caps --help)\n",
				vmx ? "VMX" : "SVM", tok);
			return NESTCTL_EXIT_USAGE;
		}
		*mask |= t[i].bit;
	}
	return 0;
}

/* ---- hosts ---- */

static int parse_num(const char *s, uint64_t *out)
{
	char buf[64], *end;
	size_t n = 0;
	int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');

	if (*s == '\0' || *s == '-' || *s == '+')
		return -1;
	for (; *s && n + 1 < sizeof(buf); s++)
		if (!(hex && *s == '_'))
			buf[n++] = *s;
	if (*s)
		return -1;
	buf[n] = '\0';
	errno = 0;
	*out = strtoull(buf, &end, hex ? 16 : 10);
	return errno || *end || end == buf + (hex ? 2 : 0) ? -1 : 0;
}

static int bad(const char *file, unsigned line, const char *msg, const char *what)
{
	fprintf(stderr, "nestctl caps: %s:%u: %s '%s'\n", file, line, msg, what);
	return NESTCTL_EXIT_USAGE;
}

int nestctl_host_read(const char *file, struct nestctl_host *h)
{
	FILE *fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
	char line[1024];
	unsigned n = 0, have_cpuid = 0, have_basic = 0, have_msr = 0;
	uint64_t mpa = 0;

	memset(h, 0, sizeof(*h));
	h->vmx.size = sizeof(h->vmx);
	if (fp == NULL) {
		fprintf(stderr, "nestctl caps: %s: %s\n", file, strerror(errno));
		return NESTCTL_EXIT_USAGE;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *s, *eq, *key, *val;
		uint64_t x;
		size_t i;

		n++;
		line[strcspn(line, "#")] = '\0';
		s = nestctl_trim(line);
		if (*s == '\0')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			fclose(fp);
			return bad(file, n, "expected KEY = VALUE, got", s);
		}
		*eq = '\0';
		key = nestctl_trim(s);
		val = nestctl_trim(eq + 1);
		for (s = key; *s; s++)
			*s = (char)tolower((unsigned char)*s);
		if (!strcmp(key, "cpuid_8000000a")) {
			char *tok, *save;
			unsigned k = 0;

			for (tok = strtok_r(val, " \t", &save); tok;
			     tok = strtok_r(NULL, " \t", &save)) {
				if (k == 4 || parse_num(tok, &x) || x > UINT32_MAX) {
					fclose(fp);
					return bad(file, n,
						   "cpuid_8000000a needs EAX EBX ECX EDX, at", tok);
				}
				h->svm_cpuid[k++] = (uint32_t)x;
			}
			if (k != 4) {
				fclose(fp);
				return bad(file, n, "cpuid_8000000a needs EAX EBX ECX EDX, got",
					   val);
			}
			have_cpuid = 1;
			continue;
		}
		if (parse_num(val, &x)) {
			fclose(fp);
			return bad(file, n, "bad number", val);
		}
		if (!strcmp(key, "maxphyaddr")) {
			mpa = x;
			continue;
		}
		for (i = 0; i < NCAPS; i++) {
			uint64_t msr;

			if (!strcmp(key, caps_table[i].name) ||
			    (parse_num(key, &msr) == 0 && msr == caps_table[i].msr))
				break;
		}
		if (i == NCAPS) {
			fclose(fp);
			return bad(file, n, "unknown key", key);
		}
		*cap_at(&h->vmx, i) = x;
		have_msr = 1;
		have_basic |= i == 0;
	}
	if (fp != stdin)
		fclose(fp);
	if (have_cpuid && have_msr) {
		fprintf(stderr,
			"nestctl caps: %s: a dump is either VMX (MSRs) or SVM "
			"(cpuid_8000000a)\n",
			file);
		return NESTCTL_EXIT_USAGE;
	}
	if (!have_cpuid && !have_basic) {
		fprintf(stderr, "nestctl caps: %s: no IA32_VMX_BASIC (0x480) nor cpuid_8000000a\n",
			file);
		return NESTCTL_EXIT_USAGE;
	}
	if (mpa != 0 && (mpa < 32 || mpa > 52)) {
		fprintf(stderr, "nestctl caps: %s: maxphyaddr must be 32..52\n", file);
		return NESTCTL_EXIT_USAGE;
	}
	h->arch = have_cpuid ? NESTCTL_ARCH_SVM : NESTCTL_ARCH_VMX;
	h->vmx.maxphyaddr = mpa ? (uint32_t)mpa : 46;
	h->svm_maxphyaddr = mpa ? (uint32_t)mpa : 48;
	return 0;
}

int nestctl_host_default(struct nestctl_host *h)
{
	memset(h, 0, sizeof(*h));
	h->arch = NESTCTL_ARCH_ANY;
	h->vmx.size = sizeof(h->vmx);
	nest_vmx_caps_default(&h->vmx);
	h->svm_cpuid[0] = 1;
	h->svm_cpuid[1] = 64;
	h->svm_cpuid[3] = 0xffffffffu;
	h->svm_maxphyaddr = 48;
	return 0;
}

/* This machine: CPUID for the vendor and SVM, /dev/cpu/0/msr for VMX. */
static int host_local(struct nestctl_host *h)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d, max_ext;
	size_t i;
	int fd;

	memset(h, 0, sizeof(*h));
	h->vmx.size = sizeof(h->vmx);
	max_ext = __get_cpuid_max(0x80000000u, NULL);
	h->vmx.maxphyaddr = h->svm_maxphyaddr = 36;
	if (max_ext >= 0x80000008u && __get_cpuid(0x80000008u, &a, &b, &c, &d))
		h->vmx.maxphyaddr = h->svm_maxphyaddr = a & 0xff;
	if (__get_cpuid(0x80000001u, &a, &b, &c, &d) && (c & (1u << 2))) {
		if (max_ext < 0x8000000au)
			goto none;
		__get_cpuid(0x8000000au, &a, &b, &c, &d);
		h->svm_cpuid[0] = a;
		h->svm_cpuid[1] = b;
		h->svm_cpuid[2] = c;
		h->svm_cpuid[3] = d;
		h->arch = NESTCTL_ARCH_SVM;
		return 0;
	}
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 5)))
		goto none;
	fd = open("/dev/cpu/0/msr", O_RDONLY);
	if (fd < 0) {
		fprintf(stderr,
			"nestctl caps: /dev/cpu/0/msr: %s (load the msr module, run as root, "
			"or give --host FILE)\n",
			strerror(errno));
		return NESTCTL_EXIT_USAGE;
	}
	for (i = 0; i < NCAPS; i++) {
		uint64_t v = 0;

		/* MSRs this processor lacks (#GP) read as 0 */
		if (pread(fd, &v, sizeof(v), caps_table[i].msr) != (ssize_t)sizeof(v))
			v = 0;
		*cap_at(&h->vmx, i) = v;
	}
	close(fd);
	h->arch = NESTCTL_ARCH_VMX;
	return 0;
none:
#endif
	fprintf(stderr, "nestctl caps: this machine has neither VMX nor SVM\n");
	return NESTCTL_EXIT_USAGE;
}

/* ---- output ---- */

static void print_vmx(const struct nest_vmx_caps *c)
{
	size_t i;

	for (i = 0; i < NCAPS; i++)
		printf("%-16s = 0x%016" PRIx64 "  # MSR 0x%" PRIx32 "\n", caps_table[i].name,
		       *cap_at((struct nest_vmx_caps *)c, i), caps_table[i].msr);
	printf("maxphyaddr       = %" PRIu32 "\n", c->maxphyaddr);
}

static int allowed1(const struct nest_vmx_caps *c, uint64_t msr, uint64_t true_msr, unsigned bit)
{
	uint64_t v = (c->basic >> 55 & 1) && true_msr ? true_msr : msr;

	return (int)(v >> (32 + bit) & 1);
}

/* Which features a set of capability MSRs offers (the same test as the
 * Python binding's vmx_features_of()). */
static uint32_t vmx_offered_features(const struct nest_vmx_caps *c)
{
	uint64_t p2 = allowed1(c, c->procbased, c->true_procbased, 31) ? c->procbased2 >> 32 : 0;
	uint32_t f = 0;

	if (p2 >> 1 & 1)
		f |= NEST_VMX_F_EPT;
	if (p2 >> 5 & 1)
		f |= NEST_VMX_F_VPID;
	if (p2 >> 7 & 1)
		f |= NEST_VMX_F_UNRESTRICTED_GUEST;
	if (allowed1(c, c->pinbased, c->true_pinbased, 6))
		f |= NEST_VMX_F_PREEMPTION_TIMER;
	if (p2 >> 14 & 1)
		f |= NEST_VMX_F_VMCS_SHADOWING;
	if (p2 >> 17 & 1)
		f |= NEST_VMX_F_PML;
	if ((p2 & 1) || (p2 >> 8 & 1))
		f |= NEST_VMX_F_APICV;
	if (p2 >> 13 & 1)
		f |= NEST_VMX_F_VMFUNC;
	if (p2 >> 25 & 1)
		f |= NEST_VMX_F_TSC_SCALING;
	if (c->misc >> 29 & 1)
		f |= NEST_VMX_F_VMWRITE_ANY;
	if (allowed1(c, c->pinbased, c->true_pinbased, 7))
		f |= NEST_VMX_F_POSTED_INTR;
	return f;
}

static void print_features(const struct feature *t, size_t n, uint32_t offered)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("# feature %-18s %s\n", t[i].name, offered & t[i].bit ? "yes" : "no");
}

/* ---- the pool: what every host can honour ---- */

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Combine b into a. Controls: allowed-0 (must be 1) ORed, allowed-1
 * ANDed; feature MSRs ANDed; fixed-0 ORed, fixed-1 ANDed; counts and
 * widths the smaller. Returns the control bits one host requires and
 * another does not allow (conflicts). */
static uint64_t vmx_meet(struct nest_vmx_caps *a, const struct nest_vmx_caps *b)
{
	uint64_t *ctl[] = {&a->pinbased,  &a->procbased,     &a->exit,
			   &a->entry,	  &a->true_pinbased, &a->true_procbased,
			   &a->true_exit, &a->true_entry,    &a->procbased2};
	const uint64_t *bctl[] = {&b->pinbased,	 &b->procbased,	    &b->exit,
				  &b->entry,	 &b->true_pinbased, &b->true_procbased,
				  &b->true_exit, &b->true_entry,    &b->procbased2};
	/* misc: bit fields compared by value, the rest ANDed as flags */
	static const struct {
		unsigned shift, bits;
	} misc_fields[] = {{0, 5}, {16, 9}, {25, 3}};
	const uint64_t basic_flags = (1ull << 49) | (1ull << 54) | (1ull << 55) | (1ull << 56);
	uint64_t conflict = 0, misc_num = 0, misc_num_mask = 0;
	size_t i;

	for (i = 0; i < NELEM(ctl); i++) {
		uint64_t lo = (*ctl[i] | *bctl[i]) & 0xffffffffu;
		uint64_t hi = (*ctl[i] & *bctl[i]) >> 32;

		conflict |= lo & ~hi;
		*ctl[i] = hi << 32 | lo;
	}
	a->basic = (a->basic & ~basic_flags) | (a->basic & b->basic & basic_flags);
	for (i = 0; i < NELEM(misc_fields); i++) {
		uint64_t m = ((1ull << misc_fields[i].bits) - 1) << misc_fields[i].shift;

		misc_num |= min64(a->misc & m, b->misc & m);
		misc_num_mask |= m;
	}
	misc_num_mask |= 0xffffffff00000000ull; /* MSEG revision: the first host's */
	a->misc =
	    (a->misc & 0xffffffff00000000ull) | misc_num | (a->misc & b->misc & ~misc_num_mask);
	a->cr0_fixed0 |= b->cr0_fixed0;
	a->cr0_fixed1 &= b->cr0_fixed1;
	a->cr4_fixed0 |= b->cr4_fixed0;
	a->cr4_fixed1 &= b->cr4_fixed1;
	a->vmcs_enum = min64(a->vmcs_enum, b->vmcs_enum);
	a->ept_vpid &= b->ept_vpid;
	a->vmfunc &= b->vmfunc;
	a->procbased3 &= b->procbased3;
	a->exit2 &= b->exit2;
	a->feature_control &= b->feature_control;
	a->maxphyaddr = (uint32_t)min64(a->maxphyaddr, b->maxphyaddr);
	return conflict;
}

static int offered_vmx(const struct nestctl_host *h, uint32_t policy, uint32_t maxphyaddr,
		       struct nest_vmx_caps *out, const char *name)
{
	struct nest_vmx *ctx;
	int rc;

	rc = offline_vmx(&h->vmx, policy, maxphyaddr ? maxphyaddr : h->vmx.maxphyaddr, 0, &ctx);
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	if (rc == NEST_OK)
		rc = nest_vmx_offered_caps(ctx, out);
	if (rc != NEST_OK) {
		fprintf(stderr, "nestctl caps: %s: libnest refuses the capabilities: %s\n", name,
			nest_strerror(rc));
		return NESTCTL_EXIT_USAGE;
	}
	return 0;
}

static int offered_svm(const struct nestctl_host *h, uint32_t policy, uint32_t maxphyaddr,
		       uint32_t regs[4], uint32_t *mpa, const char *name)
{
	struct nest_svm *ctx;
	struct nest_vmcb *vmcb01;
	struct nest_svm_caps caps;
	int rc;

	rc = offline_svm(h->svm_cpuid, policy, maxphyaddr ? maxphyaddr : h->svm_maxphyaddr, 1, &ctx,
			 &vmcb01);
	memset(&caps, 0, sizeof(caps));
	caps.size = sizeof(caps);
	if (rc == NEST_OK)
		rc = nest_svm_get_caps(ctx, &caps);
	if (rc != NEST_OK) {
		fprintf(stderr, "nestctl caps: %s: libnest refuses the host: %s\n", name,
			nest_strerror(rc));
		return NESTCTL_EXIT_USAGE;
	}
	memcpy(regs, h->svm_cpuid, 4 * sizeof(uint32_t));
	nest_svm_cpuid(ctx, 0x8000000au, 0, regs);
	*mpa = caps.maxphyaddr;
	return 0;
}

static int cmd_dump(void)
{
	struct nestctl_host h;
	int rc = host_local(&h);

	if (rc != 0)
		return rc;
	if (h.arch == NESTCTL_ARCH_SVM)
		printf("cpuid_8000000a   = 0x%" PRIx32 " 0x%" PRIx32 " 0x%" PRIx32 " 0x%" PRIx32
		       "\n"
		       "maxphyaddr       = %" PRIu32 "\n",
		       h.svm_cpuid[0], h.svm_cpuid[1], h.svm_cpuid[2], h.svm_cpuid[3],
		       h.svm_maxphyaddr);
	else
		print_vmx(&h.vmx);
	return 0;
}

int nestctl_caps(int argc, char **argv)
{
	static struct nestctl_host hosts[MAX_POOL];
	const char *names[MAX_POOL];
	const char *host_file = NULL, *features = NULL;
	uint32_t maxphyaddr = 0, policy;
	int nhosts = 0, pool = 0, i, rc, vmx;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_text, stdout);
			return 0;
		} else if (!strcmp(argv[i], "--dump") && argc == 2) {
			return cmd_dump();
		} else if (!strcmp(argv[i], "--host") && i + 1 < argc && !pool) {
			host_file = argv[++i];
		} else if (!strcmp(argv[i], "--features") && i + 1 < argc) {
			features = argv[++i];
		} else if (!strcmp(argv[i], "--maxphyaddr") && i + 1 < argc) {
			uint64_t x;

			if (parse_num(argv[++i], &x) || x < 32 || x > 52) {
				fprintf(stderr, "nestctl caps: --maxphyaddr must be 32..52\n");
				return NESTCTL_EXIT_USAGE;
			}
			maxphyaddr = (uint32_t)x;
		} else if (!strcmp(argv[i], "--pool") && !host_file) {
			pool = 1;
		} else if (pool && argv[i][0] != '-') {
			if (nhosts == MAX_POOL) {
				fprintf(stderr, "nestctl caps: more than %d hosts\n", MAX_POOL);
				return NESTCTL_EXIT_USAGE;
			}
			names[nhosts++] = argv[i];
		} else {
			fputs(usage_text, stderr);
			return NESTCTL_EXIT_USAGE;
		}
	}
	if (pool && nhosts == 0) {
		fprintf(stderr, "nestctl caps: --pool needs at least one FILE\n");
		return NESTCTL_EXIT_USAGE;
	}
	if (!pool) {
		names[0] = host_file ? host_file : "this machine";
		nhosts = 1;
		rc = host_file ? nestctl_host_read(host_file, &hosts[0]) : host_local(&hosts[0]);
		if (rc != 0)
			return rc;
	} else {
		for (i = 0; i < nhosts; i++)
			if ((rc = nestctl_host_read(names[i], &hosts[i])) != 0)
				return rc;
	}
	vmx = hosts[0].arch == NESTCTL_ARCH_VMX;
	for (i = 1; i < nhosts; i++)
		if (hosts[i].arch != hosts[0].arch) {
			fprintf(stderr, "nestctl caps: %s and %s: a pool is all VMX or all SVM\n",
				names[0], names[i]);
			return NESTCTL_EXIT_USAGE;
		}
	if ((rc = nestctl_policy(features, vmx, &policy)) != 0)
		return rc;
	printf("# libnest %s offers L1 on %s (%s, policy 0x%" PRIx32 "):\n", nest_version_string(),
	       pool ? "every host of the pool" : names[0], vmx ? "VMX" : "SVM", policy);
	if (pool)
		for (i = 0; i < nhosts; i++)
			printf("#   %s\n", names[i]);
	if (vmx) {
		struct nest_vmx_caps all, one;
		uint64_t conflict = 0;

		for (i = 0; i < nhosts; i++) {
			if ((rc = offered_vmx(&hosts[i], policy, maxphyaddr, i ? &one : &all,
					      names[i])) != 0)
				return rc;
			if (i)
				conflict |= vmx_meet(&all, &one);
		}
		print_features(vmx_features, NELEM(vmx_features), vmx_offered_features(&all));
		print_vmx(&all);
		if (conflict) {
			printf("# conflict: control bits 0x%" PRIx64
			       " are required by one host and not allowed by another\n",
			       conflict);
			return NESTCTL_EXIT_FAIL;
		}
	} else {
		uint32_t all[4], one[4], mpa = 0, m;

		for (i = 0; i < nhosts; i++) {
			if ((rc = offered_svm(&hosts[i], policy, maxphyaddr, i ? one : all,
					      i ? &m : &mpa, names[i])) != 0)
				return rc;
			if (i) {
				all[0] = (uint32_t)min64(all[0], one[0]);
				all[1] = (uint32_t)min64(all[1], one[1]);
				all[2] &= one[2];
				all[3] &= one[3];
				mpa = (uint32_t)min64(mpa, m);
			}
		}
		print_features(svm_features, NELEM(svm_features), all[3]);
		printf("cpuid_8000000a   = 0x%" PRIx32 " 0x%" PRIx32 " 0x%" PRIx32 " 0x%" PRIx32
		       "  # revision, ASIDs, -, features\n"
		       "maxphyaddr       = %" PRIu32 "\n",
		       all[0], all[1], all[2], all[3], mpa);
	}
	return 0;
}
