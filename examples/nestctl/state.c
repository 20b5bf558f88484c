/* SPDX-License-Identifier: MIT */
/*
 * nestctl state: show, check and convert nested-state snapshots, in
 * libnest's format (docs/state.md) and KVM's struct kvm_nested_state.
 *
 *   nestctl state show FILE               every field, by name
 *   nestctl state check [OPTIONS] FILE    would libnest take it in? which field is wrong
 *   nestctl state convert [OPTIONS] FILE OUT   libnest <-> KVM, through libnest
 *
 * check and convert restore the snapshot into a scratch context of an
 * offline L0 (offline.c) configured for the host given by --caps.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nest/nest.h>

#include "nestctl.h"
#include "offline.h"

#define MAX_FILE (1u << 20)
#define ONES UINT64_MAX
#define VMX_BODY 128u
#define SVM_VMCB12 56u
#define SVM_VMCB02 4152u
#define SVM_HOST 8248u

static const char usage_text[] =
    "usage: nestctl state show FILE\n"
    "       nestctl state check [--caps FILE] [--features LIST] [--maxphyaddr N] FILE\n"
    "       nestctl state convert [--to kvm|libnest] [--caps FILE] [--features LIST] FILE OUT\n"
    "\n"
    "FILE is a nested-state snapshot in libnest's format (docs/state.md) or KVM's\n"
    "struct kvm_nested_state (format 0 VMX, 1 SVM); the format is recognised.\n"
    "show     print every field by name: header, body, and the nonzero fields of\n"
    "         the vmcs12 or vmcb12 it carries\n"
    "check    restore it into a scratch context of the host given by --caps (a\n"
    "         capability dump as nestctl caps reads; default: the typical VMX\n"
    "         capabilities, every SVM feature) and print \"ok\" or \"rejected: STATUS\"\n"
    "         then one line per rejected field\n"
    "convert  write OUT in the other format (or --to's), as libnest exports it\n"
    "\n"
    "  --features LIST    policy: features offered to L1 (nestctl caps --help)\n"
    "  --maxphyaddr N     L1's physical-address width (default the host's)\n"
    "\n"
    "Exit status: 0 ok, 1 the snapshot is rejected, 2 bad input or usage.\n";

struct snap {
	const char *file;
	uint8_t *d;
	size_t len;
	bool kvm; /* KVM's format, else libnest's */
	bool vmx; /* VMX, else SVM */
	uint32_t flags;
	uint64_t body[16]; /* libnest VMX body fields */
};

static uint64_t le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;

	while (bytes--)
		v = v << 8 | p[bytes];
	return v;
}

static int load(const char *file, struct snap *s)
{
	FILE *fp = strcmp(file, "-") == 0 ? stdin : fopen(file, "rb");
	size_t n;

	memset(s, 0, sizeof(*s));
	s->file = file;
	if (fp == NULL) {
		fprintf(stderr, "nestctl state: %s: %s\n", file, strerror(errno));
		return NESTCTL_EXIT_USAGE;
	}
	s->d = calloc(1, MAX_FILE + 1);
	if (s->d == NULL) {
		if (fp != stdin)
			fclose(fp);
		return NESTCTL_EXIT_USAGE;
	}
	n = fread(s->d, 1, MAX_FILE + 1, fp);
	if (fp != stdin)
		fclose(fp);
	if (n > MAX_FILE) {
		fprintf(stderr, "nestctl state: %s: larger than 1 MiB\n", file);
		return NESTCTL_EXIT_USAGE;
	}
	s->len = n;
	if (n >= 4 && le(s->d, 4) == NEST_STATE_MAGIC) {
		if (n < sizeof(struct nest_state_header)) {
			fprintf(stderr, "nestctl state: %s: shorter than the 24-byte header\n",
				file);
			return NESTCTL_EXIT_USAGE;
		}
		s->vmx = le(s->d + 6, 2) == NEST_STATE_ARCH_VMX;
		if (!s->vmx && le(s->d + 6, 2) != NEST_STATE_ARCH_SVM) {
			fprintf(stderr, "nestctl state: %s: unknown architecture %" PRIu64 "\n",
				file, le(s->d + 6, 2));
			return NESTCTL_EXIT_USAGE;
		}
		s->flags = (uint32_t)le(s->d + 12, 4);
		return 0;
	}
	if (n < NEST_KVM_NESTED_STATE_HDR_SIZE) {
		fprintf(stderr,
			"nestctl state: %s: neither a libnest stream (magic NSTS) nor a "
			"kvm_nested_state (128-byte header)\n",
			file);
		return NESTCTL_EXIT_USAGE;
	}
	s->kvm = true;
	s->flags = (uint32_t)le(s->d, 2);
	if (le(s->d + 2, 2) > NEST_KVM_STATE_NESTED_FORMAT_SVM) {
		fprintf(stderr, "nestctl state: %s: unknown kvm_nested_state format %" PRIu64 "\n",
			file, le(s->d + 2, 2));
		return NESTCTL_EXIT_USAGE;
	}
	s->vmx = le(s->d + 2, 2) == NEST_KVM_STATE_NESTED_FORMAT_VMX;
	return 0;
}

/* ---- show ---- */

static const char *const vmx_flags[] = {"vmxon", "current_vmcs", "guest_mode", "timer_active",
					"l1_timer"};
static const char *const svm_flags[] = {"svme", "gif", "guest_mode"};
static const char *const kvm_flags[] = {"guest_mode", "run_pending", "evmcs", "mtf_pending", NULL,
					NULL,	      NULL,	     NULL,    "gif_set"};

static void print_flags(const struct snap *s)
{
	const char *const *names = s->kvm ? kvm_flags : s->vmx ? vmx_flags : svm_flags;
	unsigned n = s->kvm ? 9 : s->vmx ? 5 : 3, i;
	uint32_t known = 0;
	bool any = false;

	printf("flags:");
	for (i = 0; i < n; i++) {
		if (names[i] == NULL)
			continue;
		known |= 1u << i;
		if (s->flags >> i & 1) {
			printf(" %s", names[i]);
			any = true;
		}
	}
	if (s->flags & ~known) {
		printf(" 0x%" PRIx32, s->flags & ~known);
		any = true;
	}
	printf("%s\n", any ? "" : " -");
}

static void field(const char *name, uint64_t v)
{
	printf("%s = 0x%" PRIx64 "\n", name, v);
}

static const char *const vmx_body_names[] = {
    "vmxon_ptr",  "current_vmptr", "feature_control", "l1_cr0",	   "l1_cr4",	  "l1_efer",
    "l1_pat",	  "l1_debugctl",   "l1_dr7",	      "l1_intr",   "timer_start", "timer_now",
    "event_info", "event_error",   "event_len",	      "image_size"};

static void read_vmx_body(struct snap *s)
{
	unsigned i, off = 24;

	for (i = 0; i < 16; i++) {
		unsigned w = i < 10 ? 8 : 4;

		s->body[i] = le(s->d + off, w);
		off += w;
	}
}

static void show_vmcs12(const uint8_t *img, size_t len)
{
	static uint8_t buf[4096];
	size_t i;
	uint64_t v;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, img, len < sizeof(buf) ? len : sizeof(buf));
	for (i = 0; i < nest_vmcs_field_count(); i++) {
		const struct nest_vmcs_field *f = nest_vmcs_field_at(i);

		if (nest_vmcs12_image_read(buf, f->encoding, &v) == NEST_OK && v != 0)
			printf("vmcs12.%s = 0x%" PRIx64 "\n", f->name, v);
	}
}

/* Nonzero fields of a VMCB image whose offsets lie in [from, to). */
static void show_vmcb(const char *prefix, const uint8_t *img, uint32_t from, uint32_t to)
{
	static struct nest_vmcb v;
	size_t i;

	memset(&v, 0, sizeof(v));
	memcpy((uint8_t *)&v + from, img + from, to - from);
	for (i = 0; i < nest_vmcb_field_count(); i++) {
		const struct nest_vmcb_field *f = nest_vmcb_field_at(i);
		uint64_t x = nest_vmcb_read(&v, f);

		if (x != 0)
			printf("%s.%s = 0x%" PRIx64 "\n", prefix, f->name, x);
	}
}

static void show_svm_host(const uint8_t *b)
{
	static const char *const segs[] = {"es", "cs", "ss", "ds", "gdtr", "idtr"};
	static const char *const regs[] = {"efer",   "cr0", "cr3", "cr4",
					   "rflags", "rip", "rsp", "rax"};
	char name[64];
	unsigned i;

	for (i = 0; i < 6; i++) {
		const uint8_t *p = b + 16 * i;

		snprintf(name, sizeof(name), "host.%s.selector", segs[i]);
		field(name, le(p, 2));
		snprintf(name, sizeof(name), "host.%s.attrib", segs[i]);
		field(name, le(p + 2, 2));
		snprintf(name, sizeof(name), "host.%s.limit", segs[i]);
		field(name, le(p + 4, 4));
		snprintf(name, sizeof(name), "host.%s.base", segs[i]);
		field(name, le(p + 8, 8));
	}
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "host.%s", regs[i]);
		field(name, le(b + 96 + 8 * i, 8));
	}
}

static int convert(const struct snap *s, bool to_kvm, const struct nest_vmx_caps *host,
		   uint32_t features, uint32_t maxphyaddr, const uint32_t svm_cpuid[4],
		   uint8_t **out, size_t *out_len, const char **what);

static void show_vmx_image_header(const uint8_t *img)
{
	field("vmcs12.revision", le(img, 4));
	field("vmcs12.abort", le(img + 4, 4));
	field("vmcs12.launch_state", le(img + 8, 4));
}

static int cmd_show(struct snap *sp, const struct nest_vmx_caps *host, uint32_t features,
		    uint32_t maxphyaddr, const uint32_t svm_cpuid[4])
{
	struct snap s = *sp;
	unsigned i;

	printf("format: %s %s\n", s.kvm ? "kvm" : "libnest", s.vmx ? "vmx" : "svm");
	print_flags(&s);
	if (!s.kvm) {
		field("magic", le(s.d, 4));
		field("version", le(s.d + 4, 2));
		field("arch", le(s.d + 6, 2));
		field("size", le(s.d + 8, 4));
		field("flags", le(s.d + 12, 4));
		field("reserved", le(s.d + 16, 8));
		if (s.vmx && s.len >= VMX_BODY) {
			read_vmx_body(&s);
			for (i = 0; i < 16; i++)
				field(vmx_body_names[i], s.body[i]);
			if (s.body[15] >= 16 && VMX_BODY + s.body[15] <= s.len) {
				show_vmx_image_header(s.d + VMX_BODY);
				show_vmcs12(s.d + VMX_BODY, (size_t)s.body[15]);
			}
		} else if (!s.vmx && s.len >= nest_svm_state_size()) {
			field("hsave_pa", le(s.d + 24, 8));
			field("vm_cr", le(s.d + 32, 8));
			field("tsc_ratio", le(s.d + 40, 8));
			field("vmcb12_pa", le(s.d + 48, 8));
			show_vmcb("vmcb12", s.d + SVM_VMCB12, 0, NEST_VMCB_SIZE);
			show_vmcb("vmcb02", s.d + SVM_VMCB02, 0, NEST_VMCB_SIZE);
			show_svm_host(s.d + SVM_HOST);
		}
	} else {
		uint32_t size = (uint32_t)le(s.d + 4, 4);

		field("flags", s.flags);
		field("format", le(s.d + 2, 2));
		field("size", size);
		if (s.vmx) {
			uint8_t *conv = NULL;
			size_t clen = 0;
			const char *what;

			field("hdr.vmx.vmxon_pa", le(s.d + 8, 8));
			field("hdr.vmx.vmcs12_pa", le(s.d + 16, 8));
			field("hdr.vmx.smm_flags", le(s.d + 24, 2));
			field("hdr.vmx.pad", le(s.d + 26, 2));
			field("hdr.vmx.vmx_flags", le(s.d + 28, 4));
			field("hdr.vmx.preemption_timer_deadline", le(s.d + 32, 8));
			if (size > NEST_KVM_NESTED_STATE_HDR_SIZE && s.len >= 128 + 12)
				show_vmx_image_header(s.d + 128);
			/* KVM's vmcs12 layout is libnest's own business: show the
			 * fields of libnest's conversion. */
			if (convert(&s, false, host, features, maxphyaddr, svm_cpuid, &conv, &clen,
				    &what) == NEST_OK &&
			    clen > VMX_BODY)
				show_vmcs12(conv + VMX_BODY, clen - VMX_BODY);
			free(conv);
		} else {
			field("hdr.svm.vmcb_pa", le(s.d + 8, 8));
			if (size > NEST_KVM_NESTED_STATE_HDR_SIZE &&
			    s.len >= 128 + NEST_KVM_STATE_NESTED_SVM_VMCB_SIZE) {
				show_vmcb("vmcb12", s.d + 128, 0, 0x400);
				show_vmcb("host", s.d + 128, 0x400, NEST_VMCB_SIZE);
			}
		}
	}
	return NESTCTL_EXIT_OK;
}

/* ---- convert and check ---- */

static int convert(const struct snap *s, bool to_kvm, const struct nest_vmx_caps *host,
		   uint32_t features, uint32_t maxphyaddr, const uint32_t svm_cpuid[4],
		   uint8_t **out, size_t *out_len, const char **what)
{
	size_t cap = s->vmx ? (to_kvm ? nest_vmx_kvm_state_size() : nest_vmx_state_size())
			    : (to_kvm ? nest_svm_kvm_state_size() : nest_svm_state_size());
	int rc;

	*out = calloc(1, cap);
	*out_len = 0;
	if (*out == NULL)
		return NEST_E_NOMEM;
	if (s->vmx) {
		struct nest_vmx *ctx;

		*what = "offline VMX context";
		rc = offline_vmx(host, features, maxphyaddr, 1, &ctx);
		if (rc != NEST_OK)
			return rc;
		*what = s->kvm ? "nest_vmx_from_kvm_nested_state" : "nest_vmx_restore_state";
		rc = s->kvm ? nest_vmx_from_kvm_nested_state(ctx, s->d, s->len)
			    : nest_vmx_restore_state(ctx, s->d, s->len);
		if (rc != NEST_OK)
			return rc;
		*what = to_kvm ? "nest_vmx_to_kvm_nested_state" : "nest_vmx_save_state";
		return to_kvm ? nest_vmx_to_kvm_nested_state(ctx, *out, cap, out_len)
			      : nest_vmx_save_state(ctx, *out, cap, out_len);
	} else {
		struct nest_svm *ctx;
		struct nest_vmcb *vmcb01;

		*what = "offline SVM context";
		rc = offline_svm(svm_cpuid, features, maxphyaddr, 1, &ctx, &vmcb01);
		if (rc != NEST_OK)
			return rc;
		*what = s->kvm ? "nest_svm_from_kvm_nested_state" : "nest_svm_restore_state";
		rc = s->kvm ? nest_svm_from_kvm_nested_state(ctx, vmcb01, s->d, s->len)
			    : nest_svm_restore_state(ctx, vmcb01, s->d, s->len);
		if (rc != NEST_OK)
			return rc;
		*what = to_kvm ? "nest_svm_to_kvm_nested_state" : "nest_svm_save_state";
		return to_kvm ? nest_svm_to_kvm_nested_state(ctx, vmcb01, *out, cap, out_len)
			      : nest_svm_save_state(ctx, vmcb01, *out, cap, out_len);
	}
}

static unsigned nproblems;

static void problem(const char *fieldname, const char *fmt, const char *arg)
{
	printf("  %s: ", fieldname);
	printf(fmt, arg);
	putchar('\n');
	nproblems++;
}

/* The field-by-field rules of docs/state.md a VMX stream breaks (the
 * library answers with one status; this names the fields). */
static void vmx_problems(struct snap *s)
{
	uint64_t *b = s->body;
	unsigned i;

	if (s->kvm) {
		if (s->flags & (NEST_KVM_STATE_NESTED_RUN_PENDING | NEST_KVM_STATE_NESTED_EVMCS |
				NEST_KVM_STATE_NESTED_MTF_PENDING))
			problem("flags", "RUN_PENDING, EVMCS or MTF_PENDING: %s",
				"libnest cannot represent it");
		if (le(s->d + 24, 2))
			problem("hdr.vmx.smm_flags", "SMM state: %s",
				"libnest cannot represent it");
		if (le(s->d + 4, 4) > 128 && s->len >= 132 &&
		    (le(s->d + 128, 4) & 0x7fffffffu) != NEST_KVM_VMCS12_REVISION)
			problem("vmcs12.revision", "%s", "not KVM's vmcs12 revision");
		return;
	}
	if (le(s->d + 4, 2) != NEST_STATE_VERSION)
		problem("version", "%s", "not this library's format version");
	if (le(s->d + 16, 8))
		problem("reserved", "%s", "must be zero");
	if (s->flags & ~NEST_STATE_VMX_F_ALL)
		problem("flags", "%s", "unknown bits");
	if (s->len < VMX_BODY) {
		problem("size", "%s", "shorter than the 128-byte body");
		return;
	}
	read_vmx_body(s);
	if (le(s->d + 8, 4) != VMX_BODY + b[15])
		problem("size", "%s", "is not 128 + image_size");
	if (le(s->d + 8, 4) > s->len)
		problem("size", "%s", "beyond the end of the file");
	if (!(s->flags & NEST_STATE_VMX_F_VMXON)) {
		if (b[0] != ONES)
			problem("vmxon_ptr", "%s", "not all ones outside VMX operation");
		if (b[1] != ONES)
			problem("current_vmptr", "%s", "not all ones outside VMX operation");
	} else {
		if ((b[2] & 5) != 5)
			problem("feature_control", "%s", "lock and VMXON outside SMX must be set");
		if (b[0] & 0xfff)
			problem("vmxon_ptr", "%s", "not 4 KiB aligned");
	}
	if (s->flags & NEST_STATE_VMX_F_CURRENT_VMCS) {
		if (b[1] & 0xfff)
			problem("current_vmptr", "%s", "not 4 KiB aligned");
		if (b[1] == b[0])
			problem("current_vmptr", "%s", "is the VMXON pointer");
		if (b[15] >= 16 && VMX_BODY + b[15] <= s->len && le(s->d + VMX_BODY + 8, 4) > 1)
			problem("vmcs12.launch_state", "%s", "neither 0 nor 1");
	} else {
		uint64_t end = le(s->d + 8, 4) < s->len ? le(s->d + 8, 4) : s->len;

		for (i = VMX_BODY; i < end; i++)
			if (s->d[i]) {
				problem("vmcs12", "%s", "not all zero without a current VMCS");
				break;
			}
	}
	if (!(s->flags & NEST_STATE_VMX_F_GUEST_MODE)) {
		for (i = 3; i < 15; i++)
			if (b[i])
				problem(vmx_body_names[i], "%s", "nonzero outside guest mode");
	} else if (!(s->flags & NEST_STATE_VMX_F_VMXON) ||
		   !(s->flags & NEST_STATE_VMX_F_CURRENT_VMCS) || b[15] < 16 ||
		   VMX_BODY + b[15] > s->len || le(s->d + VMX_BODY + 8, 4) != 1) {
		problem("flags", "%s",
			"guest mode without VMX operation and a launched current VMCS");
	}
}

/* Guest mode: libnest's VM-entry checks on the image, which carries the
 * saved event as its VM-entry interruption information. */
static void vmx_entry_problem(struct snap *s, const struct nest_vmx_caps *offered)
{
	static uint8_t img[4096];
	struct nest_vmx_entry_result res;
	const struct nest_vmcs_field *f;
	char line[512], name[96];

	if (s->kvm || !(s->flags & NEST_STATE_VMX_F_GUEST_MODE) || s->body[15] < 16 ||
	    VMX_BODY + s->body[15] > s->len || s->body[15] > sizeof(img) ||
	    nest_vmcs12_image_size() > sizeof(img))
		return;
	memset(img, 0, sizeof(img));
	nest_vmcs12_image_init(img);
	/* the fields, without the image header (revision, launch state) */
	memcpy(img + 16, s->d + VMX_BODY + 16, (size_t)s->body[15] - 16);
	if (s->body[12])
		nest_vmcs12_image_write(img, NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD, s->body[12]);
	memset(&res, 0, sizeof(res));
	res.size = sizeof(res);
	if (nest_vmx_check_vmcs12(img, nest_vmcs12_image_size(), offered, &res) != NEST_OK ||
	    res.outcome == NEST_VMX_ENTRY_OK)
		return;
	f = res.field == NEST_VMX_ENTRY_NO_FIELD ? NULL : nest_vmcs_field_by_encoding(res.field);
	if (res.outcome == NEST_VMX_ENTRY_VMFAIL)
		snprintf(line, sizeof(line), "vmfail %" PRIu32 ": ", res.vm_instruction_error);
	else
		snprintf(line, sizeof(line),
			 "entry-failure reason=%" PRIu32 " qualification=%" PRIu64 ": ",
			 res.exit_reason & 0xffffu, res.exit_qualification);
	snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s (SDM %s%s%s): %s",
		 nest_vmx_rule_name(res.rule), nest_vmx_rule_section(res.rule), f ? ", field " : "",
		 f ? f->name : "", nest_vmx_rule_text(res.rule));
	snprintf(name, sizeof(name), "vmcs12.%s", f ? f->name : nest_vmx_rule_name(res.rule));
	problem(name, "%s", line);
}

static void svm_problem(struct snap *s, uint32_t maxphyaddr)
{
	struct nest_svm_caps caps;
	struct nest_svm_diag diag;
	const struct nest_vmcb_field *f;
	char name[96];

	if (s->kvm || !(s->flags & NEST_STATE_SVM_F_GUEST_MODE) || s->len < nest_svm_state_size())
		return;
	memset(&caps, 0, sizeof(caps));
	caps.size = sizeof(caps);
	/* the processor nestctl svm check assumes by default */
	caps.features = NEST_SVM_F_SUPPORTED;
	caps.maxphyaddr = maxphyaddr;
	caps.long_mode = 1;
	caps.efer_allowed = 0x5d01u;
	caps.cr4_allowed = 0x770fffu;
	if (nest_svm_check_vmcb((const struct nest_vmcb *)(s->d + SVM_VMCB12), &caps, &diag) !=
		NEST_OK ||
	    diag.rule == NEST_SVM_CHECK_OK)
		return;
	f = nest_vmcb_field_by_offset(diag.offset);
	snprintf(name, sizeof(name), "vmcb12.%s", f ? f->name : nest_svm_check_name(diag.rule));
	printf("  %s: %s: %s\n", name, nest_svm_check_name(diag.rule),
	       nest_svm_check_text(diag.rule));
	nproblems++;
}

static int cmd_check(struct snap *sp, const struct nest_vmx_caps *host, uint32_t features,
		     uint32_t maxphyaddr, const uint32_t svm_cpuid[4])
{
	struct snap s = *sp;
	uint8_t *out = NULL;
	size_t out_len;
	const char *what = "";
	int rc;

	/* The check is a conversion into libnest's format: a restore. */
	rc = convert(&s, false, host, features, maxphyaddr, svm_cpuid, &out, &out_len, &what);
	free(out);
	if (rc == NEST_OK) {
		printf("ok\n");
		return NESTCTL_EXIT_OK;
	}
	printf("rejected: %s (%s)\n", nest_status_name(rc), nest_strerror(rc));
	nproblems = 0;
	if (s.vmx) {
		vmx_problems(&s);
		if (!s.kvm) {
			struct nest_vmx *ctx;
			struct nest_vmx_caps offered;

			memset(&offered, 0, sizeof(offered));
			offered.size = sizeof(offered);
			if (offline_vmx(host, features, maxphyaddr, 0, &ctx) == NEST_OK &&
			    nest_vmx_offered_caps(ctx, &offered) == NEST_OK)
				vmx_entry_problem(&s, &offered);
		}
	} else {
		svm_problem(&s, maxphyaddr);
	}
	if (nproblems == 0)
		printf("  -: %s: %s\n", nest_status_name(rc), nest_strerror(rc));
	return NESTCTL_EXIT_FAIL;
}

static int cmd_convert(struct snap *s, const char *outfile, int to,
		       const struct nest_vmx_caps *host, uint32_t features, uint32_t maxphyaddr,
		       const uint32_t svm_cpuid[4])
{
	uint8_t *out = NULL;
	size_t out_len;
	const char *what = "";
	FILE *fp;
	int rc;

	rc = convert(s, to < 0 ? !s->kvm : to == 1, host, features, maxphyaddr, svm_cpuid, &out,
		     &out_len, &what);
	if (rc != NEST_OK) {
		fprintf(stderr, "nestctl state: %s: %s: %s (%s)\n", s->file, what,
			nest_status_name(rc), nest_strerror(rc));
		free(out);
		return NESTCTL_EXIT_FAIL;
	}
	fp = strcmp(outfile, "-") == 0 ? stdout : fopen(outfile, "wb");
	if (fp == NULL || fwrite(out, 1, out_len, fp) != out_len ||
	    (fp != stdout && fclose(fp) != 0)) {
		fprintf(stderr, "nestctl state: %s: cannot write\n", outfile);
		free(out);
		return NESTCTL_EXIT_USAGE;
	}
	free(out);
	return NESTCTL_EXIT_OK;
}

static int run(const char *cmd, struct snap *s, int npos, const char *out, int to,
	       const struct nestctl_host *host, const char *caps_file, const char *features,
	       uint32_t maxphyaddr)
{
	uint32_t policy;

	if (host->arch != NESTCTL_ARCH_ANY && (host->arch == NESTCTL_ARCH_VMX) != s->vmx) {
		fprintf(stderr, "nestctl state: %s is a %s dump, %s a %s snapshot\n", caps_file,
			s->vmx ? "SVM" : "VMX", s->file, s->vmx ? "VMX" : "SVM");
		return NESTCTL_EXIT_USAGE;
	}
	if (maxphyaddr == 0)
		maxphyaddr = s->vmx ? host->vmx.maxphyaddr : host->svm_maxphyaddr;
	if (maxphyaddr < 32 || maxphyaddr > 52) {
		fprintf(stderr, "nestctl state: --maxphyaddr must be 32..52\n");
		return NESTCTL_EXIT_USAGE;
	}
	if (nestctl_policy(features, s->vmx, &policy) != 0)
		return NESTCTL_EXIT_USAGE;
	if (!strcmp(cmd, "show") && npos == 1)
		return cmd_show(s, &host->vmx, policy, maxphyaddr, host->svm_cpuid);
	if (!strcmp(cmd, "check") && npos == 1)
		return cmd_check(s, &host->vmx, policy, maxphyaddr, host->svm_cpuid);
	if (!strcmp(cmd, "convert") && npos == 2)
		return cmd_convert(s, out, to, &host->vmx, policy, maxphyaddr, host->svm_cpuid);
	fputs(usage_text, stderr);
	return NESTCTL_EXIT_USAGE;
}

int nestctl_state(int argc, char **argv)
{
	struct nestctl_host host;
	const char *caps_file = NULL, *features = NULL, *cmd;
	uint32_t maxphyaddr = 0;
	int to = -1, i, rc;
	char *pos[2] = {NULL, NULL};
	int npos = 0;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? NESTCTL_EXIT_USAGE : NESTCTL_EXIT_OK;
	}
	cmd = argv[1];
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--caps") && i + 1 < argc)
			caps_file = argv[++i];
		else if (!strcmp(argv[i], "--features") && i + 1 < argc)
			features = argv[++i];
		else if (!strcmp(argv[i], "--maxphyaddr") && i + 1 < argc)
			maxphyaddr = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--to") && i + 1 < argc) {
			i++;
			if (!strcmp(argv[i], "kvm"))
				to = 1;
			else if (!strcmp(argv[i], "libnest"))
				to = 0;
			else {
				fprintf(stderr, "nestctl state: --to kvm or --to libnest\n");
				return NESTCTL_EXIT_USAGE;
			}
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "nestctl state: unknown option '%s'\n", argv[i]);
			return NESTCTL_EXIT_USAGE;
		} else if (npos < 2)
			pos[npos++] = argv[i];
		else {
			fputs(usage_text, stderr);
			return NESTCTL_EXIT_USAGE;
		}
	}
	rc = caps_file ? nestctl_host_read(caps_file, &host) : nestctl_host_default(&host);
	if (rc != 0)
		return rc;
	if (npos >= 1 &&
	    (!strcmp(cmd, "show") || !strcmp(cmd, "check") || !strcmp(cmd, "convert"))) {
		struct snap s;

		if ((rc = load(pos[0], &s)) != 0)
			return rc;
		rc = run(cmd, &s, npos, pos[1], to, &host, caps_file, features, maxphyaddr);
		free(s.d);
		return rc;
	}
	fputs(usage_text, stderr);
	return NESTCTL_EXIT_USAGE;
}
