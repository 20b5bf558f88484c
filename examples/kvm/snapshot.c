/* SPDX-License-Identifier: MIT */
/*
 * minivmm's nested-state snapshots through libnest (-S). Each round, with
 * the vCPU out of KVM_RUN and its guest in guest mode (the guest runs a
 * guest of its own on KVM's nested SVM):
 *
 *   KVM_GET_MSRS (VM_CR, VM_HSAVE_PA, TSC_RATIO) -> nest_svm_wrmsr(),
 *   KVM_GET_NESTED_STATE -> nest_svm_from_kvm_nested_state() (every field
 *   checked, L2's registers from KVM_GET_SREGS/REGS/DEBUGREGS)
 *   -> nest_svm_save_state() -> the file -> read back
 *   -> nest_svm_restore_state() (checked again) -> nest_svm_to_kvm_nested_state()
 *   -> compared with what KVM gave -> KVM_SET_NESTED_STATE.
 *
 * Before the real import, every round also offers libnest one tampered
 * copy per validation class, in both formats, and requires a refusal.
 * With -x CLASS the first round's snapshot is tampered so: libnest must
 * refuse it, and minivmm stops with a message before KVM sees anything.
 * libnest runs on nestctl's offline L0 (examples/nestctl/offline.c): it
 * checks and converts, and runs nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <nest/nest.h>
#include <nest/state.h>

#include "../nestctl/offline.h"
#include "snapshot.h"

#define KVM_BUF (sizeof(struct kvm_nested_state) + 2 * 4096)
#define MSR_PAT_DEFAULT 0x0007040600070406ull
#define EFER_SVME (1ull << 12)
#define CR0_PG (1ull << 31)
#define MSR_VM_CR 0xC0010114u
#define MSR_VM_HSAVE_PA 0xC0010117u
#define MSR_TSC_RATIO 0xC0000104u

/* Offsets in libnest's SVM format (docs/state.md, "SVM body"). */
#define NST_SIZE 8
#define NST_HSAVE 24
#define NST_VMCB12_PA 48
#define NST_VMCB12 56
#define NST_VMCB02 4152
#define NST_HOST_EFER (8248 + 96)
#define VMCB_ASID offsetof(struct nest_vmcb, control.asid)
#define VMCB_EFER offsetof(struct nest_vmcb, save.efer)
#define VMCB_CR0 offsetof(struct nest_vmcb, save.cr0)
#define VMCB_CR4 offsetof(struct nest_vmcb, save.cr4)
#define K_DATA sizeof(struct kvm_nested_state)

static struct {
	struct snap_opts o;
	int vcpu;
	struct nest_svm *ctx;
	struct nest_vmcb *vmcb01;
	struct nest_vmcb l2;	   /* L2's registers as the vCPU has them */
	struct nest_vmcb imported; /* vmcb01 after the real import */
	uint8_t *kvm, *kvm2, *out, *own, *back;
	size_t own_len;
	unsigned rounds, outside, pending, tampered, attempts;
	double secs, max_secs;
	size_t kvm_size;
	bool vmx; /* the vCPU has VMX: snapshot-vmx.c */
} S;

const char *const snap_tamper_names[] = {
    /* KVM's format, before libnest's import */
    "kvm-flags",   /* an unknown flag */
    "kvm-vmcb-pa", /* vmcb12's address unaligned */
    "kvm-asid",	   /* vmcb12's controls: ASID 0 */
    "kvm-l1-efer", /* L1's saved state: EFER.SVME clear */
    "kvm-l1-cr0",  /* L1's saved state: paging off */
    "kvm-l2-cr4",  /* L2's registers: a reserved CR4 bit */
    /* libnest's format, read back from the file */
    "nst-magic",     /* the header */
    "nst-size",	     /* the header's size */
    "nst-hsave",     /* VM_HSAVE_PA unaligned */
    "nst-vmcb12-pa", /* vmcb12's address unaligned */
    "nst-asid",	     /* vmcb12's controls: ASID 0 */
    "nst-host-efer", /* L1's host state: EFER.SVME clear */
    "nst-l2-efer",   /* L2's state in vmcb02: EFER.SVME clear */
    NULL,
};

#define die snap_die

void snap_die(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "minivmm: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

#define now now_secs

double now_secs(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void xor64(uint8_t *p, uint64_t clear, uint64_t set)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	v = (v & ~clear) | set;
	memcpy(p, &v, sizeof(v));
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Tampers a KVM blob (k) and L2's registers (l2), or libnest's stream (n),
 * by class; 0 if the class is not of that format. */
static int tamper_kvm(const char *c, uint8_t *k, struct nest_vmcb *l2)
{
	struct kvm_nested_state *h = (struct kvm_nested_state *)k;
	if (!strcmp(c, "kvm-flags"))
		h->flags |= 0x10;
	else if (!strcmp(c, "kvm-vmcb-pa"))
		h->hdr.svm.vmcb_pa |= 8;
	else if (!strcmp(c, "kvm-asid"))
		put32(k + K_DATA + VMCB_ASID, 0);
	else if (!strcmp(c, "kvm-l1-efer"))
		xor64(k + K_DATA + VMCB_EFER, EFER_SVME, 0);
	else if (!strcmp(c, "kvm-l1-cr0"))
		xor64(k + K_DATA + VMCB_CR0, CR0_PG, 0);
	else if (!strcmp(c, "kvm-l2-cr4"))
		l2->save.cr4 |= 1ull << 40;
	else
		return 0;
	return 1;
}

static int tamper_nst(const char *c, uint8_t *n)
{
	if (!strcmp(c, "nst-magic"))
		n[0] ^= 1;
	else if (!strcmp(c, "nst-size"))
		put32(n + NST_SIZE, 8);
	else if (!strcmp(c, "nst-hsave"))
		xor64(n + NST_HSAVE, 0, 0x10);
	else if (!strcmp(c, "nst-vmcb12-pa"))
		xor64(n + NST_VMCB12_PA, 0, 8);
	else if (!strcmp(c, "nst-asid"))
		put32(n + NST_VMCB12 + VMCB_ASID, 0);
	else if (!strcmp(c, "nst-host-efer"))
		xor64(n + NST_HOST_EFER, EFER_SVME, 0);
	else if (!strcmp(c, "nst-l2-efer"))
		xor64(n + NST_VMCB02 + VMCB_EFER, EFER_SVME, 0);
	else
		return 0;
	return 1;
}

void snap_check_opts(const struct snap_opts *o)
{
	if (!o->tamper)
		return;
	for (unsigned i = 0; snap_tamper_names[i]; i++)
		if (!strcmp(o->tamper, snap_tamper_names[i]))
			return;
	for (unsigned i = 0; snap_vmx_tamper_names[i]; i++)
		if (!strcmp(o->tamper, snap_vmx_tamper_names[i]))
			return;
	fprintf(stderr, "minivmm: -x %s: not a tamper class; the classes on SVM:", o->tamper);
	for (unsigned i = 0; snap_tamper_names[i]; i++)
		fprintf(stderr, " %s", snap_tamper_names[i]);
	fprintf(stderr, "; on VMX:");
	for (unsigned i = 0; snap_vmx_tamper_names[i]; i++)
		fprintf(stderr, " %s", snap_vmx_tamper_names[i]);
	fputc('\n', stderr);
	exit(2);
}

static void *xalloc(size_t n)
{
	void *p = calloc(1, n);
	if (!p)
		die("out of memory");
	return p;
}

void snap_init(const struct snap_opts *o, int vcpu)
{
	struct kvm_cpuid2 *cpuid = xalloc(sizeof(*cpuid) + 256 * sizeof(cpuid->entries[0]));
	uint32_t svm[4] = {0, 0, 0, 0}, maxphyaddr = 36;
	bool has_svm = false, has_vmx = false;

	S.o = *o;
	S.vcpu = vcpu;
	cpuid->nent = 256;
	if (ioctl(vcpu, KVM_GET_CPUID2, cpuid) < 0)
		die("-S: KVM_GET_CPUID2: %s", strerror(errno));
	for (unsigned i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
		if (e->function == 0x8000000A) {
			svm[0] = e->eax, svm[1] = e->ebx, svm[2] = e->ecx, svm[3] = e->edx;
			has_svm = true;
		} else if (e->function == 0x80000008) {
			maxphyaddr = e->eax & 0xFF;
		} else if (e->function == 1) {
			has_vmx = e->ecx & (1u << 5);
		}
	}
	free(cpuid);
	if (has_vmx) {
		S.vmx = true;
		snap_vmx_init(o, vcpu, maxphyaddr);
		return;
	}
	if (!has_svm)
		die("-S: the vCPU has neither VMX nor SVM: snapshots need KVM's nested VMX or SVM "
		    "(kvm_intel or kvm_amd, nested=1)");
	/* libnest offers L1 what KVM offers its guest. */
	int rc = offline_svm(svm, svm[3] & NEST_SVM_F_SUPPORTED, maxphyaddr, 1, &S.ctx, &S.vmcb01);
	if (rc != NEST_OK)
		die("-S: libnest's context: %s", nest_strerror(rc));
	S.kvm = xalloc(KVM_BUF);
	S.kvm2 = xalloc(KVM_BUF);
	S.out = xalloc(KVM_BUF);
	S.own_len = nest_svm_state_size();
	S.own = xalloc(S.own_len);
	S.back = xalloc(S.own_len);
}

static void seg(struct nest_vmcb_seg *d, const struct kvm_segment *s)
{
	d->selector = s->selector;
	d->attrib = (uint16_t)((s->type & 0xF) | (s->s & 1) << 4 | (s->dpl & 3) << 5 |
			       (s->present & 1) << 7 | (s->avl & 1) << 8 | (s->l & 1) << 9 |
			       (s->db & 1) << 10 | (s->g & 1) << 11);
	d->limit = s->limit;
	d->base = s->base;
}

/* L2's registers (the vCPU's, in guest mode) in a VMCB save area. */
static void l2_registers(struct nest_vmcb *v)
{
	struct kvm_sregs sr;
	struct kvm_regs r;
	struct kvm_debugregs d;

	if (ioctl(S.vcpu, KVM_GET_SREGS, &sr) < 0 || ioctl(S.vcpu, KVM_GET_REGS, &r) < 0 ||
	    ioctl(S.vcpu, KVM_GET_DEBUGREGS, &d) < 0)
		die("snapshot: the vCPU's registers: %s", strerror(errno));
	memset(v, 0, sizeof(*v));
	seg(&v->save.es, &sr.es);
	seg(&v->save.cs, &sr.cs);
	seg(&v->save.ss, &sr.ss);
	seg(&v->save.ds, &sr.ds);
	seg(&v->save.fs, &sr.fs);
	seg(&v->save.gs, &sr.gs);
	seg(&v->save.ldtr, &sr.ldt);
	seg(&v->save.tr, &sr.tr);
	v->save.gdtr.limit = sr.gdt.limit;
	v->save.gdtr.base = sr.gdt.base;
	v->save.idtr.limit = sr.idt.limit;
	v->save.idtr.base = sr.idt.base;
	v->save.cpl = sr.ss.dpl;
	v->save.efer = sr.efer;
	v->save.cr0 = sr.cr0;
	v->save.cr2 = sr.cr2;
	v->save.cr3 = sr.cr3;
	v->save.cr4 = sr.cr4;
	v->save.dr6 = d.dr6;
	v->save.dr7 = d.dr7;
	v->save.rflags = r.rflags;
	v->save.rip = r.rip;
	v->save.rsp = r.rsp;
	v->save.rax = r.rax;
	v->save.g_pat = MSR_PAT_DEFAULT;
}

/* L1's SVM MSRs, which KVM's nested state leaves to KVM_GET_MSRS: given to
 * libnest as L1's WRMSRs, before the nested state (docs/state.md). */
static const uint32_t svm_msrs[] = {MSR_VM_CR, MSR_VM_HSAVE_PA, MSR_TSC_RATIO};

static void l1_msrs(void)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[3];
	} m;
	int n;

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = 3;
	for (unsigned i = 0; i < 3; i++)
		m.e[i].index = svm_msrs[i];
	n = ioctl(S.vcpu, KVM_GET_MSRS, &m);
	if (n < 0)
		die("snapshot: KVM_GET_MSRS: %s", strerror(errno));
	/* KVM stops at the first MSR it lacks (TSC_RATIO without TSCRATE). */
	for (int i = 0; i < n; i++) {
		struct nest_svm_action act = {.size = sizeof(act)};
		uint64_t hw = 0;
		int rc = nest_svm_wrmsr(S.ctx, m.e[i].index, m.e[i].data, &hw, &act);

		if (rc != NEST_OK || act.kind == NEST_SVM_ACT_INJECT_L1)
			die("snapshot %u: libnest refused L1's MSR %#x = %#llx: %s", S.rounds + 1,
			    m.e[i].index, (unsigned long long)m.e[i].data,
			    rc != NEST_OK ? nest_strerror(rc) : "WRMSR would fault");
	}
}

/* Which VMRUN check a refused state fails, when one does. */
static void explain(const uint8_t *kvm)
{
	struct nest_svm_caps caps = {.size = sizeof(caps)};
	struct nest_svm_diag dg;
	struct nest_vmcb v;

	if (nest_svm_get_caps(S.ctx, &caps) != NEST_OK)
		return;
	memcpy(&v, kvm + K_DATA, sizeof(v));
	if (nest_svm_check_vmcb(&v, &caps, &dg) == NEST_OK && dg.rule)
		fprintf(stderr, "minivmm:   L1's saved state: %s: %s (offset %#x, value %#llx)\n",
			nest_svm_check_name(dg.rule), nest_svm_check_text(dg.rule), dg.offset,
			(unsigned long long)dg.value);
	v.save = S.l2.save;
	if (nest_svm_check_vmcb(&v, &caps, &dg) == NEST_OK && dg.rule)
		fprintf(stderr, "minivmm:   L2's registers: %s: %s (offset %#x, value %#llx)\n",
			nest_svm_check_name(dg.rule), nest_svm_check_text(dg.rule), dg.offset,
			(unsigned long long)dg.value);
}

static int import(const uint8_t *kvm, size_t len, const struct nest_vmcb *l2)
{
	S.vmcb01->save = l2->save; /* the caller's registers are L2's (docs/state.md) */
	return nest_svm_from_kvm_nested_state(S.ctx, S.vmcb01, kvm, len);
}

void snap_write_file(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n || close(fd) < 0)
		die("snapshot: cannot write %s: %s", path, strerror(errno));
}

size_t snap_read_file(const char *path, uint8_t *p, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0 || (n = read(fd, p, cap)) < 0)
		die("snapshot: cannot read %s back: %s", path, strerror(errno));
	close(fd);
	return (size_t)n;
}

/* Every tamper class is refused, the real state taken afterwards. */
static void tamper_all(size_t klen, size_t nlen)
{
	for (unsigned i = 0; snap_tamper_names[i]; i++) {
		const char *c = snap_tamper_names[i];
		struct nest_vmcb l2 = S.l2;
		int rc;

		memcpy(S.kvm2, S.kvm, klen);
		if (tamper_kvm(c, S.kvm2, &l2)) {
			rc = import(S.kvm2, klen, &l2);
		} else {
			memcpy(S.kvm2, S.back, nlen);
			tamper_nst(c, S.kvm2);
			rc = nest_svm_restore_state(S.ctx, S.vmcb01, S.kvm2, nlen);
		}
		if (rc == NEST_OK)
			die("snapshot %u: libnest took a snapshot tampered with (%s)", S.rounds + 1,
			    c);
		S.tampered++;
	}
}

void snap_round(void)
{
	struct kvm_nested_state *k = (struct kvm_nested_state *)S.kvm;
	size_t n = 0, nlen;
	int rc;

	if (S.vmx) {
		snap_vmx_round();
		return;
	}
	S.attempts++;
	if (S.rounds >= S.o.max)
		return;
	memset(S.kvm, 0, KVM_BUF);
	k->size = KVM_BUF;
	if (ioctl(S.vcpu, KVM_GET_NESTED_STATE, k) < 0)
		die("snapshot: KVM_GET_NESTED_STATE: %s", strerror(errno));
	if (k->format != KVM_STATE_NESTED_FORMAT_SVM)
		die("snapshot: KVM's nested state has format %u, not SVM's", k->format);
	if (!(k->flags & KVM_STATE_NESTED_GUEST_MODE)) {
		S.outside++;
		return;
	}
	if ((k->flags & KVM_STATE_NESTED_RUN_PENDING) || !(k->flags & KVM_STATE_NESTED_GIF_SET)) {
		S.pending++; /* not taken by libnest (docs/state.md): the next time */
		return;
	}
	double t0 = now();
	S.kvm_size = k->size;
	l1_msrs();
	l2_registers(&S.l2);

	/* A tampered first snapshot must be refused before KVM sees it. */
	if (S.o.tamper && S.rounds == 0 && tamper_kvm(S.o.tamper, S.kvm, &S.l2)) {
		rc = import(S.kvm, k->size, &S.l2);
		if (rc == NEST_OK)
			die("snapshot 1: libnest took KVM's nested state tampered with (%s)",
			    S.o.tamper);
		fprintf(stderr,
			"minivmm: snapshot 1: libnest refused KVM's nested state (tampered: %s): "
			"%s; KVM_SET_NESTED_STATE not called\n",
			S.o.tamper, nest_strerror(rc));
		explain(S.kvm);
		exit(2);
	}

	rc = import(S.kvm, k->size, &S.l2);
	if (rc != NEST_OK) {
		fprintf(stderr, "minivmm: snapshot %u: libnest refused KVM's nested state: %s\n",
			S.rounds + 1, nest_strerror(rc));
		explain(S.kvm);
		exit(2);
	}
	rc = nest_svm_save_state(S.ctx, S.vmcb01, S.own, S.own_len, &n);
	if (rc != NEST_OK)
		die("snapshot %u: nest_svm_save_state: %s", S.rounds + 1, nest_strerror(rc));
	snap_write_file(S.o.path, S.own, n);
	nlen = snap_read_file(S.o.path, S.back, S.own_len);
	if (S.o.tamper && S.rounds == 0) {
		tamper_nst(S.o.tamper, S.back);
		rc = nest_svm_restore_state(S.ctx, S.vmcb01, S.back, nlen);
		if (rc == NEST_OK)
			die("snapshot 1: libnest took %s tampered with (%s)", S.o.path, S.o.tamper);
		fprintf(stderr,
			"minivmm: snapshot 1: libnest refused %s (tampered: %s): %s; "
			"KVM_SET_NESTED_STATE not called\n",
			S.o.path, S.o.tamper, nest_strerror(rc));
		exit(2);
	}
	S.imported = *S.vmcb01;
	tamper_all(k->size, nlen);
	/* The real one, after the tampered ones: from the file. */
	*S.vmcb01 = S.imported;
	rc = nest_svm_restore_state(S.ctx, S.vmcb01, S.back, nlen);
	if (rc != NEST_OK)
		die("snapshot %u: libnest refused %s as read back: %s", S.rounds + 1, S.o.path,
		    nest_strerror(rc));
	rc = nest_svm_to_kvm_nested_state(S.ctx, S.vmcb01, S.out, KVM_BUF, &n);
	if (rc != NEST_OK)
		die("snapshot %u: nest_svm_to_kvm_nested_state: %s", S.rounds + 1,
		    nest_strerror(rc));
	/* What KVM takes back is what it gave: the header, vmcb12's controls,
	 * and L1's state VMRUN saved. */
	struct kvm_nested_state *o = (struct kvm_nested_state *)S.out;
	const struct nest_vmcb *kv = (const struct nest_vmcb *)(S.kvm + K_DATA);
	const struct nest_vmcb *ov = (const struct nest_vmcb *)(S.out + K_DATA);
	if (o->flags != k->flags || o->size != k->size ||
	    o->hdr.svm.vmcb_pa != k->hdr.svm.vmcb_pa ||
	    memcmp(&ov->control, &kv->control, sizeof(kv->control)) ||
	    memcmp(&ov->save.es, &kv->save.es, 4 * sizeof(kv->save.es)) ||
	    memcmp(&ov->save.gdtr, &kv->save.gdtr, sizeof(kv->save.gdtr)) ||
	    memcmp(&ov->save.idtr, &kv->save.idtr, sizeof(kv->save.idtr)) ||
	    ov->save.efer != kv->save.efer || ov->save.cr0 != kv->save.cr0 ||
	    ov->save.cr3 != kv->save.cr3 || ov->save.cr4 != kv->save.cr4 ||
	    ov->save.rflags != kv->save.rflags || ov->save.rip != kv->save.rip ||
	    ov->save.rsp != kv->save.rsp || ov->save.rax != kv->save.rax)
		die("snapshot %u: libnest's KVM state differs from KVM's (flags %#x/%#x, size "
		    "%u/%u)",
		    S.rounds + 1, o->flags, k->flags, o->size, k->size);
	if (ioctl(S.vcpu, KVM_SET_NESTED_STATE, o) < 0)
		die("snapshot %u: KVM_SET_NESTED_STATE: %s", S.rounds + 1, strerror(errno));
	double dt = now() - t0;
	S.secs += dt;
	if (dt > S.max_secs)
		S.max_secs = dt;
	S.rounds++;
	if (S.o.verbose && (S.rounds <= 3 || S.rounds % 100 == 0))
		fprintf(stderr,
			"minivmm: snapshot %u: vmcb12 %#llx, L2 rip %#llx, %zu bytes to %s, "
			"%.0f us\n",
			S.rounds, (unsigned long long)k->hdr.svm.vmcb_pa,
			(unsigned long long)S.l2.save.rip, S.own_len, S.o.path, dt * 1e6);
}

void snap_report(void)
{
	if (S.vmx) {
		snap_vmx_report();
		return;
	}
	fprintf(stderr,
		"minivmm: snapshots: %u round trips in guest mode (KVM %zu bytes, libnest %zu "
		"bytes, %.0f us each, at most %.0f us), %u tampered refused; %u attempts: %u "
		"outside guest mode, %u with a run pending or GIF clear\n",
		S.rounds, S.kvm_size, S.own_len, S.rounds ? S.secs / S.rounds * 1e6 : 0.0,
		S.max_secs * 1e6, S.tampered, S.attempts, S.outside, S.pending);
}
