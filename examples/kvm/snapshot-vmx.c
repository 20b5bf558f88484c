/* SPDX-License-Identifier: MIT */
/*
 * minivmm's nested-state snapshots on Intel VMX (-S, snapshot.c picks this
 * when the vCPU has VMX). Each round, with the vCPU out of KVM_RUN and its
 * guest in guest mode (the guest runs a guest of its own on KVM's nested
 * VMX):
 *
 *   KVM_GET_NESTED_STATE -> L1's state at its VMLAUNCH/VMRESUME into the
 *   offline vmcs01 (from vmcs12's host state: KVM's format does not carry
 *   it) -> nest_vmx_from_kvm_nested_state() (every field checked, vmcs12
 *   against the VMX capabilities KVM gives the vCPU) -> nest_vmx_save_state()
 *   -> the file -> read back -> nest_vmx_restore_state() (checked again)
 *   -> nest_vmx_to_kvm_nested_state() -> compared with what KVM gave, field
 *   by field -> KVM_SET_NESTED_STATE.
 *
 * libnest's context is made afresh each round on nestctl's offline L0
 * (examples/nestctl/offline.c), with the vCPU's IA32_VMX_* MSRs (0x480 to
 * 0x491, KVM_GET_MSRS) as the host's capabilities and every feature
 * allowed: libnest offers L1 what KVM offers it, less what libnest never
 * offers, and checks vmcs12 against that.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kvm.h>
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

#define HDR NEST_KVM_NESTED_STATE_HDR_SIZE /* KVM's vmcs12 starts here */
#define VMCS12_SIZE NEST_KVM_STATE_NESTED_VMX_VMCS_SIZE
#define KVM_BUF (HDR + 2 * VMCS12_SIZE)
#define MSR_PAT_DEFAULT 0x0007040600070406ull
#define MSR_FEATURE_CONTROL 0x3au
#define MSR_VMX_FIRST 0x480u
#define MSR_VMX_COUNT 18u /* 0x480 to 0x491: what KVM's nested VMX has (6.1) */
#define CPUID_1_ECX_VMX (1u << 5)
#define EXIT_HOST_ADDR_SPACE_SIZE (1u << 9)
#define EXIT_LOAD_PAT (1u << 19)
#define EXIT_LOAD_EFER (1u << 21)
#define EFER_LME_LMA 0x500ull
#define CR0_PE 1ull
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)
#define CR4_VMXE (1ull << 13)
#define INTR_INFO_VALID (1u << 31)

/* KVM's header (docs/state.md, "KVM's struct kvm_nested_state (VMX)"). */
#define K_FLAGS 0
#define K_FORMAT 2
#define K_SIZE 4
#define K_VMXON 8
#define K_VMCS12 16
#define K_SMM 24
#define K_VMX_FLAGS 28
#define K_DEADLINE 32
/* KVM's vmcs12 header. */
#define K12_REVISION 0
#define K12_LAUNCH 8
/* libnest's format (docs/state.md, "VMX body"). */
#define N_SIZE 8
#define N_FLAGS 12
#define N_VMXON 24
#define N_VMPTR 32
#define N_FEATURE_CONTROL 40
#define N_L1_CR4 56
#define N_TIMER_START 104
#define N_TIMER_NOW 108
#define N_EVENT_INFO 112
#define N_IMAGE 128

/* KVM's vmcs12 layout (Linux 6.1), libnest's list of it: name, encoding,
 * offset in KVM's vmcs12. */
struct kfield {
	const char *name;
	uint32_t enc;
	uint16_t off;
};

static const struct kfield kfields[] = {
#define NEST_KVM_VMCS12_FIELD(name, off) {#name, NEST_VMCS_##name, off},
#include "../../arch/x86/vmx/kvm-vmcs12.def"
#undef NEST_KVM_VMCS12_FIELD
};
#define NKFIELDS (sizeof(kfields) / sizeof(kfields[0]))

const char *const snap_vmx_tamper_names[] = {
    /* KVM's format, before libnest's import */
    "kvm-flags",     /* the header: an unknown flag */
    "kvm-format",    /* the header: SVM's format number */
    "kvm-smm",	     /* SMM state, which libnest cannot represent */
    "kvm-shadow",    /* a shadow vmcs12, which libnest cannot represent */
    "kvm-vmxon-pa",  /* the VMXON pointer unaligned */
    "kvm-vmcs12-pa", /* the current-VMCS pointer = the VMXON pointer */
    "kvm-revision",  /* vmcs12's revision identifier */
    "kvm-launch",    /* vmcs12's launch state neither clear nor launched */
    "kvm-pin-ctls",  /* vmcs12's controls: a reserved pin-based control */
    "kvm-host-cr4",  /* vmcs12's host state: CR4.VMXE clear */
    "kvm-guest-cr0", /* vmcs12's guest state: CR0.PG without CR0.PE */
    "kvm-link-ptr",  /* vmcs12's guest state: the VMCS link pointer unaligned */
    "kvm-l1-cr0",    /* L1's state (vmcs01, what the format lacks): CR0.NE clear */
    /* libnest's format, read back from the file */
    "nst-magic",	   /* the header */
    "nst-size",		   /* the header's size */
    "nst-flags",	   /* an unknown flag */
    "nst-feature-control", /* IA32_FEATURE_CONTROL with a bit L1 cannot set */
    "nst-vmxon",	   /* the VMXON pointer unaligned */
    "nst-vmptr",	   /* the current-VMCS pointer = the VMXON pointer */
    "nst-revision",	   /* the image's revision identifier */
    "nst-l1-cr4",	   /* L1's CR4 at the entry: VMXE clear */
    "nst-event",	   /* vmcs02's event: the reserved type 1 */
    "nst-timer",	   /* the preemption timer: now above its start */
    "nst-guest-cr0",	   /* the image's guest state: CR0.PG without CR0.PE */
    "nst-host-cr4",	   /* the image's host state: CR4.VMXE clear */
    NULL,
};

static struct {
	struct snap_opts o;
	int vcpu;
	uint32_t maxphyaddr;
	struct nest_vmx_caps host, offered;
	struct nest_vmx *ctx;
	uint8_t *kvm, *kvm2, *out, *own, *back, *img;
	size_t own_len, img_len;
	unsigned rounds, outside, pending, tampered, attempts;
	unsigned layout_checked;
	/* rounds with KVM's timer deadline, an injected event, vmcs12 not yet launched */
	unsigned deadlines, injections, launching;
	double secs, max_secs;
	size_t kvm_size;
} V;

static void *xalloc(size_t n)
{
	void *p = calloc(1, n);
	if (!p)
		snap_die("out of memory");
	return p;
}

static uint64_t get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	memcpy(&v, p, n); /* little endian */
	return v;
}

static void put(uint8_t *p, unsigned n, uint64_t v)
{
	memcpy(p, &v, n);
}

static unsigned kwidth(const struct kfield *f)
{
	const struct nest_vmcs_field *d = nest_vmcs_field_by_encoding(f->enc);
	return d ? nest_vmcs_width_bytes(d->width) : 8;
}

static const struct kfield *kfind(uint32_t enc)
{
	for (unsigned i = 0; i < NKFIELDS; i++)
		if (kfields[i].enc == enc)
			return &kfields[i];
	snap_die("snapshot: field %#x not in KVM's vmcs12", enc);
}

/* A field of the vmcs12 in a KVM blob. */
static uint64_t kget(const uint8_t *blob, uint32_t enc)
{
	const struct kfield *f = kfind(enc);
	return get(blob + HDR + f->off, kwidth(f));
}

static void kput(uint8_t *blob, uint32_t enc, uint64_t v)
{
	const struct kfield *f = kfind(enc);
	put(blob + HDR + f->off, kwidth(f), v);
}

/* A field of the vmcs12 image in libnest's stream. */
static uint64_t nget(const uint8_t *n, uint32_t enc)
{
	uint64_t v = 0;
	nest_vmcs12_image_read(n + N_IMAGE, enc, &v);
	return v;
}

static void nput(uint8_t *n, uint32_t enc, uint64_t v)
{
	nest_vmcs12_image_write(n + N_IMAGE, enc, v);
}

static void snap_vmx_ctx(void)
{
	int rc = offline_vmx(&V.host, NEST_VMX_F_ALL, V.maxphyaddr, 1, &V.ctx);
	if (rc != NEST_OK)
		snap_die("-S: libnest's VMX context: %s", nest_strerror(rc));
}

void snap_vmx_init(const struct snap_opts *o, int vcpu, uint32_t maxphyaddr)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[MSR_VMX_COUNT + 1];
	} m;
	uint64_t *caps = &V.host.basic; /* basic to vmfunc: the MSRs in order */
	int n;

	V.o = *o;
	V.vcpu = vcpu;
	V.maxphyaddr = maxphyaddr;
	if (o->tamper) {
		unsigned i;
		for (i = 0; snap_vmx_tamper_names[i]; i++)
			if (!strcmp(o->tamper, snap_vmx_tamper_names[i]))
				break;
		if (!snap_vmx_tamper_names[i])
			snap_die("-x %s: not a tamper class of VMX (the vCPU has VMX)", o->tamper);
	}
	memset(&m, 0, sizeof(m));
	m.h.nmsrs = MSR_VMX_COUNT + 1;
	for (unsigned i = 0; i < MSR_VMX_COUNT; i++)
		m.e[i].index = MSR_VMX_FIRST + i;
	m.e[MSR_VMX_COUNT].index = MSR_FEATURE_CONTROL;
	n = ioctl(vcpu, KVM_GET_MSRS, &m);
	if (n < 0)
		snap_die("-S: KVM_GET_MSRS (IA32_VMX_*): %s", strerror(errno));
	if (n < 13) /* up to IA32_VMX_EPT_VPID_CAP at least */
		snap_die("-S: KVM gave %d of the vCPU's IA32_VMX_* MSRs (from %#x): snapshots need "
			 "KVM's nested VMX (kvm_intel nested=1)",
			 n, MSR_VMX_FIRST);
	memset(&V.host, 0, sizeof(V.host));
	V.host.size = sizeof(V.host);
	for (int i = 0; i < n && i < (int)MSR_VMX_COUNT; i++)
		caps[i] = m.e[i].data;
	if (n == (int)MSR_VMX_COUNT + 1)
		V.host.feature_control = m.e[MSR_VMX_COUNT].data;
	V.host.maxphyaddr = maxphyaddr;
	snap_vmx_ctx();
	V.offered.size = sizeof(V.offered);
	nest_vmx_offered_caps(V.ctx, &V.offered);
	if (o->verbose)
		fprintf(
		    stderr,
		    "minivmm: -S on VMX: KVM's IA32_VMX_* (%d MSRs): basic %#llx pin %#llx proc "
		    "%#llx proc2 %#llx exit %#llx entry %#llx ept/vpid %#llx; libnest offers "
		    "proc2 %#llx\n",
		    n, (unsigned long long)V.host.basic, (unsigned long long)V.host.true_pinbased,
		    (unsigned long long)V.host.true_procbased,
		    (unsigned long long)V.host.procbased2, (unsigned long long)V.host.true_exit,
		    (unsigned long long)V.host.true_entry, (unsigned long long)V.host.ept_vpid,
		    (unsigned long long)V.offered.procbased2);
	V.kvm = xalloc(KVM_BUF);
	V.kvm2 = xalloc(KVM_BUF);
	V.out = xalloc(KVM_BUF);
	V.own_len = nest_vmx_state_size();
	V.own = xalloc(V.own_len);
	V.back = xalloc(V.own_len);
	V.img_len = nest_vmcs12_image_size();
	V.img = xalloc(V.img_len);
}

/*
 * L1's state at its VMLAUNCH/VMRESUME, which KVM's format leaves to the
 * destination's vmcs01 (KVM keeps it in its own vmcs01): the state L1 gets
 * back at each VM exit, vmcs12's host state. CR0, CR4; IA32_EFER as the
 * exit loads it (or LME/LMA by the host address-space size); IA32_PAT
 * likewise; DEBUGCTL 0 and DR7 0x400 as an exit leaves them.
 */
static void l1_state(const uint8_t *k, int tamper_cr0)
{
	uint64_t exitc = kget(k, NEST_VMCS_VM_EXIT_CONTROLS);
	uint64_t cr0 = kget(k, NEST_VMCS_HOST_CR0);
	uint64_t efer = exitc & EXIT_LOAD_EFER		    ? kget(k, NEST_VMCS_HOST_IA32_EFER)
			: exitc & EXIT_HOST_ADDR_SPACE_SIZE ? EFER_LME_LMA
							    : 0;
	uint64_t pat = exitc & EXIT_LOAD_PAT ? kget(k, NEST_VMCS_HOST_IA32_PAT) : MSR_PAT_DEFAULT;

	if (tamper_cr0)
		cr0 &= ~CR0_NE;
	offline_vmcs_write(NEST_VMCS01, NEST_VMCS_GUEST_CR0, cr0);
	offline_vmcs_write(NEST_VMCS01, NEST_VMCS_GUEST_CR4, kget(k, NEST_VMCS_HOST_CR4));
	offline_vmcs_write(NEST_VMCS01, NEST_VMCS_GUEST_IA32_EFER, efer);
	offline_vmcs_write(NEST_VMCS01, NEST_VMCS_GUEST_IA32_PAT, pat);
	offline_vmcs_write(NEST_VMCS01, NEST_VMCS_GUEST_IA32_DEBUGCTL, 0);
	offline_vmcs_write(NEST_VMCS01, NEST_VMCS_GUEST_DR7, 0x400);
	offline_vmcs_write(NEST_VMCS01, NEST_VMCS_GUEST_INTERRUPTIBILITY_INFO, 0);
}

static void put32(uint8_t *p, uint32_t v)
{
	put(p, 4, v);
}

/* Tampers a KVM blob (k; *l1cr0 for L1's state in vmcs01) or libnest's
 * stream (n) by class; 0 if the class is not of that format. */
static int tamper_kvm(const char *c, uint8_t *k, int *l1cr0)
{
	uint64_t v;

	if (!strcmp(c, "kvm-flags"))
		put(k + K_FLAGS, 2, get(k + K_FLAGS, 2) | 0x10);
	else if (!strcmp(c, "kvm-format"))
		put(k + K_FORMAT, 2, NEST_KVM_STATE_NESTED_FORMAT_SVM);
	else if (!strcmp(c, "kvm-smm"))
		put(k + K_SMM, 2, 1); /* KVM_STATE_NESTED_SMM_GUEST_MODE */
	else if (!strcmp(c, "kvm-shadow")) {
		put32(k + K_SIZE, HDR + 2 * VMCS12_SIZE);
		k[HDR + VMCS12_SIZE + 8] = 1;
	} else if (!strcmp(c, "kvm-vmxon-pa"))
		put(k + K_VMXON, 8, get(k + K_VMXON, 8) | 0x800);
	else if (!strcmp(c, "kvm-vmcs12-pa"))
		put(k + K_VMCS12, 8, get(k + K_VMXON, 8));
	else if (!strcmp(c, "kvm-revision"))
		put32(k + HDR + K12_REVISION, (uint32_t)get(k + HDR + K12_REVISION, 4) ^ 1);
	else if (!strcmp(c, "kvm-launch"))
		put32(k + HDR + K12_LAUNCH, 2);
	else if (!strcmp(c, "kvm-pin-ctls"))
		kput(k, NEST_VMCS_PIN_BASED_VM_EXEC_CONTROL,
		     kget(k, NEST_VMCS_PIN_BASED_VM_EXEC_CONTROL) | 1u << 31);
	else if (!strcmp(c, "kvm-host-cr4"))
		kput(k, NEST_VMCS_HOST_CR4, kget(k, NEST_VMCS_HOST_CR4) & ~CR4_VMXE);
	else if (!strcmp(c, "kvm-guest-cr0")) {
		v = kget(k, NEST_VMCS_GUEST_CR0);
		kput(k, NEST_VMCS_GUEST_CR0, (v | CR0_PG) & ~CR0_PE);
	} else if (!strcmp(c, "kvm-link-ptr"))
		kput(k, NEST_VMCS_VMCS_LINK_POINTER, 0x1001);
	else if (!strcmp(c, "kvm-l1-cr0"))
		*l1cr0 = 1;
	else
		return 0;
	return 1;
}

static int tamper_nst(const char *c, uint8_t *n)
{
	if (!strcmp(c, "nst-magic"))
		n[0] ^= 1;
	else if (!strcmp(c, "nst-size"))
		put32(n + N_SIZE, 8);
	else if (!strcmp(c, "nst-flags"))
		put32(n + N_FLAGS, (uint32_t)get(n + N_FLAGS, 4) | 0x80);
	else if (!strcmp(c, "nst-feature-control"))
		put(n + N_FEATURE_CONTROL, 8, get(n + N_FEATURE_CONTROL, 8) | 1u << 20);
	else if (!strcmp(c, "nst-vmxon"))
		put(n + N_VMXON, 8, get(n + N_VMXON, 8) | 0x800);
	else if (!strcmp(c, "nst-vmptr"))
		put(n + N_VMPTR, 8, get(n + N_VMXON, 8));
	else if (!strcmp(c, "nst-revision"))
		put32(n + N_IMAGE, (uint32_t)get(n + N_IMAGE, 4) ^ 1);
	else if (!strcmp(c, "nst-l1-cr4"))
		put(n + N_L1_CR4, 8, get(n + N_L1_CR4, 8) & ~CR4_VMXE);
	else if (!strcmp(c, "nst-event"))
		put32(n + N_EVENT_INFO, INTR_INFO_VALID | 1u << 8 | 0x20);
	else if (!strcmp(c, "nst-timer")) {
		put32(n + N_FLAGS, (uint32_t)get(n + N_FLAGS, 4) | NEST_STATE_VMX_F_TIMER_ACTIVE);
		put32(n + N_TIMER_START, 0);
		put32(n + N_TIMER_NOW, 5);
	} else if (!strcmp(c, "nst-guest-cr0"))
		nput(n, NEST_VMCS_GUEST_CR0, (nget(n, NEST_VMCS_GUEST_CR0) | CR0_PG) & ~CR0_PE);
	else if (!strcmp(c, "nst-host-cr4"))
		nput(n, NEST_VMCS_HOST_CR4, nget(n, NEST_VMCS_HOST_CR4) & ~CR4_VMXE);
	else
		return 0;
	return 1;
}

/* Which VM-entry check a refused vmcs12 fails, when one does: KVM's vmcs12
 * as a libnest image, checked against what libnest offers. */
static void explain(const uint8_t *k)
{
	struct nest_vmx_entry_result res = {.size = sizeof(res)};

	memset(V.img, 0, V.img_len);
	for (unsigned i = 0; i < NKFIELDS; i++)
		nest_vmcs12_image_write(V.img, kfields[i].enc,
					get(k + HDR + kfields[i].off, kwidth(&kfields[i])));
	nest_vmcs12_image_write(V.img, NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD,
				kget(k, NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD) & ~INTR_INFO_VALID);
	if (nest_vmx_check_vmcs12(V.img, V.img_len, &V.offered, &res) == NEST_OK && res.rule) {
		const struct nest_vmcs_field *f = nest_vmcs_field_by_encoding(res.field);
		uint64_t v = 0;
		nest_vmcs12_image_read(V.img, res.field, &v);
		fprintf(stderr, "minivmm:   vmcs12: %s (SDM %s): %s; field %s = %#llx\n",
			nest_vmx_rule_name(res.rule), nest_vmx_rule_section(res.rule),
			nest_vmx_rule_text(res.rule), f ? f->name : "-", (unsigned long long)v);
	}
	fprintf(stderr,
		"minivmm:   header: flags %#x, size %u, vmxon %#llx, vmcs12 %#llx, smm %#x, vmx "
		"flags %#x; vmcs12 revision %#x, launch state %u\n",
		(unsigned)get(k + K_FLAGS, 2), (unsigned)get(k + K_SIZE, 4),
		(unsigned long long)get(k + K_VMXON, 8), (unsigned long long)get(k + K_VMCS12, 8),
		(unsigned)get(k + K_SMM, 2), (unsigned)get(k + K_VMX_FLAGS, 4),
		(unsigned)get(k + HDR + K12_REVISION, 4), (unsigned)get(k + HDR + K12_LAUNCH, 4));
}

static uint32_t ar_bytes(const struct kvm_segment *s)
{
	return (s->type & 0xF) | (s->s & 1) << 4 | (s->dpl & 3) << 5 | (s->present & 1) << 7 |
	       (s->avl & 1) << 12 | (s->l & 1) << 13 | (s->db & 1) << 14 | (s->g & 1) << 15 |
	       (s->unusable & 1) << 16;
}

/*
 * KVM's vmcs12 layout checked by value against the real kernel: in guest
 * mode the vCPU's registers (KVM_GET_REGS, KVM_GET_SREGS) are L2's, which
 * KVM's vmcs12 holds in its guest-state fields (KVM syncs vmcs02 into
 * vmcs12 for KVM_GET_NESTED_STATE). A field at a wrong offset in libnest's
 * list would read another value. CR0/CR4 only in the bits L1 does not own.
 * Returns the fields that disagree (each said).
 */
static unsigned layout_check(const uint8_t *k)
{
	struct kvm_sregs sr;
	struct kvm_regs r;
	const struct kvm_segment *segs[8] = {&sr.es, &sr.cs, &sr.ss,  &sr.ds,
					     &sr.fs, &sr.gs, &sr.ldt, &sr.tr};
	unsigned bad = 0;

	if (ioctl(V.vcpu, KVM_GET_SREGS, &sr) < 0 || ioctl(V.vcpu, KVM_GET_REGS, &r) < 0)
		snap_die("snapshot: the vCPU's registers: %s", strerror(errno));
#define CHECK(enc, want, mask)                                                                     \
	do {                                                                                       \
		uint64_t got_ = kget(k, enc) & (mask), want_ = (uint64_t)(want) & (mask);          \
		if (got_ != want_) {                                                               \
			fprintf(stderr,                                                            \
				"minivmm:   KVM's vmcs12 %s (offset %u): %#llx, the vCPU's "       \
				"register %#llx\n",                                                \
				kfind(enc)->name, kfind(enc)->off, (unsigned long long)got_,       \
				(unsigned long long)want_);                                        \
			bad++;                                                                     \
		}                                                                                  \
	} while (0)
	CHECK(NEST_VMCS_GUEST_RIP, r.rip, ~0ull);
	CHECK(NEST_VMCS_GUEST_RSP, r.rsp, ~0ull);
	CHECK(NEST_VMCS_GUEST_RFLAGS, r.rflags, ~0ull);
	CHECK(NEST_VMCS_GUEST_CR3, sr.cr3, ~0ull);
	CHECK(NEST_VMCS_GUEST_CR0, sr.cr0, ~kget(k, NEST_VMCS_CR0_GUEST_HOST_MASK));
	CHECK(NEST_VMCS_GUEST_CR4, sr.cr4, ~kget(k, NEST_VMCS_CR4_GUEST_HOST_MASK));
	if (kget(k, NEST_VMCS_VM_EXIT_CONTROLS) & (1u << 20)) /* save IA32_EFER */
		CHECK(NEST_VMCS_GUEST_IA32_EFER, sr.efer, ~0ull);
	for (unsigned i = 0; i < 8; i++) {
		const struct kvm_segment *s = segs[i];
		CHECK(NEST_VMCS_GUEST_ES_SELECTOR + 2 * i, s->selector, 0xFFFF);
		if (s->unusable)
			continue;
		CHECK(NEST_VMCS_GUEST_ES_BASE + 2 * i, s->base, ~0ull);
		CHECK(NEST_VMCS_GUEST_ES_LIMIT + 2 * i, s->limit, 0xFFFFFFFFull);
		CHECK(NEST_VMCS_GUEST_ES_AR_BYTES + 2 * i, ar_bytes(s), 0x1F0FF);
	}
	CHECK(NEST_VMCS_GUEST_GDTR_BASE, sr.gdt.base, ~0ull);
	CHECK(NEST_VMCS_GUEST_GDTR_LIMIT, sr.gdt.limit, 0xFFFF);
	CHECK(NEST_VMCS_GUEST_IDTR_BASE, sr.idt.base, ~0ull);
	CHECK(NEST_VMCS_GUEST_IDTR_LIMIT, sr.idt.limit, 0xFFFF);
#undef CHECK
	return bad;
}

static int import(const uint8_t *k, size_t len, int l1cr0)
{
	l1_state(V.kvm, l1cr0); /* L1's state from the genuine blob */
	return nest_vmx_from_kvm_nested_state(V.ctx, k, len);
}

/* Every tamper class is offered and must be refused; the classes libnest
 * took are named, then the run stops. */
static void tamper_all(size_t klen, size_t nlen)
{
	unsigned taken = 0;

	for (unsigned i = 0; snap_vmx_tamper_names[i]; i++) {
		const char *c = snap_vmx_tamper_names[i];
		int l1cr0 = 0, rc;

		memcpy(V.kvm2, V.kvm, KVM_BUF);
		if (tamper_kvm(c, V.kvm2, &l1cr0)) {
			rc = import(V.kvm2, klen, l1cr0);
		} else {
			memcpy(V.kvm2, V.back, nlen);
			tamper_nst(c, V.kvm2);
			rc = nest_vmx_restore_state(V.ctx, V.kvm2, nlen);
		}
		if (rc == NEST_OK) {
			fprintf(
			    stderr,
			    "minivmm: snapshot %u: libnest took a snapshot tampered with (%s)\n",
			    V.rounds + 1, c);
			taken++;
			snap_vmx_ctx(); /* what it took is gone */
		} else {
			V.tampered++;
		}
	}
	if (taken)
		snap_die("snapshot %u: %u tampered snapshot(s) taken", V.rounds + 1, taken);
}

/* libnest's KVM blob against KVM's: the header, vmcs12's header and every
 * field of KVM's layout, the bytes between them. Known deviations
 * (docs/state.md): KVM's preemption-timer deadline is not exported, and the
 * valid bit of an event vmcs12 injected at the entry is clear. Returns the
 * differences found (each said). */
static unsigned compare(const uint8_t *k, const uint8_t *o)
{
	static uint8_t covered[VMCS12_SIZE];
	unsigned diffs = 0;

#define HDIFF(what, off, n)                                                                        \
	if (get(k + (off), n) != get(o + (off), n)) {                                              \
		fprintf(stderr, "minivmm:   %s: KVM %#llx, libnest %#llx\n", what,                 \
			(unsigned long long)get(k + (off), n),                                     \
			(unsigned long long)get(o + (off), n));                                    \
		diffs++;                                                                           \
	}
	HDIFF("flags", K_FLAGS, 2);
	HDIFF("format", K_FORMAT, 2);
	HDIFF("size", K_SIZE, 4);
	HDIFF("vmxon_pa", K_VMXON, 8);
	HDIFF("vmcs12_pa", K_VMCS12, 8);
	HDIFF("smm.flags", K_SMM, 2);
	if ((get(k + K_VMX_FLAGS, 4) & ~NEST_KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE) !=
	    get(o + K_VMX_FLAGS, 4)) {
		fprintf(stderr, "minivmm:   hdr.vmx.flags: KVM %#x, libnest %#x\n",
			(unsigned)get(k + K_VMX_FLAGS, 4), (unsigned)get(o + K_VMX_FLAGS, 4));
		diffs++;
	}
	if (get(k + K_VMX_FLAGS, 4) & NEST_KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE)
		V.deadlines++;
	memset(covered, 0, sizeof(covered));
	memset(covered, 1, 12); /* revision, abort, launch state */
	HDIFF("vmcs12 revision", HDR + K12_REVISION, 4);
	HDIFF("vmcs12 abort", HDR + 4, 4);
	/* KVM marks vmcs12 launched at L2's first exit, libnest at the
	 * VMLAUNCH (docs/state.md): clear in KVM's is launched in libnest's. */
	if (get(k + HDR + K12_LAUNCH, 4) == 0 && get(o + HDR + K12_LAUNCH, 4) == 1)
		V.launching++;
	else
		HDIFF("vmcs12 launch state", HDR + K12_LAUNCH, 4);
#undef HDIFF
	for (unsigned i = 0; i < NKFIELDS; i++) {
		const struct kfield *f = &kfields[i];
		unsigned w = kwidth(f);
		uint64_t a = get(k + HDR + f->off, w), b = get(o + HDR + f->off, w);

		memset(covered + f->off, 1, w);
		if (f->enc == NEST_VMCS_VM_ENTRY_INTR_INFO_FIELD && (a & INTR_INFO_VALID)) {
			V.injections++;
			a &= ~INTR_INFO_VALID;
		}
		if (a != b) {
			fprintf(stderr,
				"minivmm:   vmcs12 %s (KVM offset %u): KVM %#llx, libnest %#llx\n",
				f->name, f->off, (unsigned long long)a, (unsigned long long)b);
			diffs++;
		}
	}
	for (unsigned i = 0; i < VMCS12_SIZE; i++)
		if (!covered[i] && k[HDR + i] != o[HDR + i]) {
			fprintf(stderr,
				"minivmm:   vmcs12 byte %u (in no field): KVM %#x, libnest %#x\n",
				i, k[HDR + i], o[HDR + i]);
			diffs++;
		}
	return diffs;
}

void snap_vmx_round(void)
{
	size_t n = 0, nlen, klen;
	unsigned flags;
	int rc;

	V.attempts++;
	if (V.rounds >= V.o.max)
		return;
	memset(V.kvm, 0, KVM_BUF);
	((struct kvm_nested_state *)V.kvm)->size = KVM_BUF;
	if (ioctl(V.vcpu, KVM_GET_NESTED_STATE, V.kvm) < 0)
		snap_die("snapshot: KVM_GET_NESTED_STATE: %s", strerror(errno));
	if (get(V.kvm + K_FORMAT, 2) != NEST_KVM_STATE_NESTED_FORMAT_VMX)
		snap_die("snapshot: KVM's nested state has format %u, not VMX's",
			 (unsigned)get(V.kvm + K_FORMAT, 2));
	flags = (unsigned)get(V.kvm + K_FLAGS, 2);
	if (!(flags & NEST_KVM_STATE_NESTED_GUEST_MODE)) {
		V.outside++;
		return;
	}
	if (flags & (NEST_KVM_STATE_NESTED_RUN_PENDING | NEST_KVM_STATE_NESTED_MTF_PENDING)) {
		V.pending++; /* not taken by libnest (docs/state.md): the next time */
		return;
	}
	double t0 = now_secs();
	klen = (size_t)get(V.kvm + K_SIZE, 4);
	V.kvm_size = klen;
	if (layout_check(V.kvm))
		snap_die("snapshot %u: KVM's vmcs12 and the vCPU's registers disagree (above): "
			 "KVM's layout is not libnest's",
			 V.rounds + 1);
	V.layout_checked++;
	snap_vmx_ctx();

	/* A tampered first snapshot must be refused before KVM sees it. */
	if (V.o.tamper && V.rounds == 0) {
		int l1cr0 = 0;
		memcpy(V.kvm2, V.kvm, KVM_BUF);
		if (tamper_kvm(V.o.tamper, V.kvm2, &l1cr0)) {
			rc = import(V.kvm2, klen, l1cr0);
			if (rc == NEST_OK)
				snap_die(
				    "snapshot 1: libnest took KVM's nested state tampered with "
				    "(%s)",
				    V.o.tamper);
			fprintf(
			    stderr,
			    "minivmm: snapshot 1: libnest refused KVM's nested state (tampered: "
			    "%s): %s; KVM_SET_NESTED_STATE not called\n",
			    V.o.tamper, nest_strerror(rc));
			explain(V.kvm2);
			exit(2);
		}
	}

	rc = import(V.kvm, klen, 0);
	if (rc != NEST_OK) {
		fprintf(stderr, "minivmm: snapshot %u: libnest refused KVM's nested state: %s\n",
			V.rounds + 1, nest_strerror(rc));
		explain(V.kvm);
		exit(2);
	}
	rc = nest_vmx_save_state(V.ctx, V.own, V.own_len, &n);
	if (rc != NEST_OK)
		snap_die("snapshot %u: nest_vmx_save_state: %s", V.rounds + 1, nest_strerror(rc));
	snap_write_file(V.o.path, V.own, n);
	nlen = snap_read_file(V.o.path, V.back, V.own_len);
	if (V.o.tamper && V.rounds == 0) {
		tamper_nst(V.o.tamper, V.back);
		rc = nest_vmx_restore_state(V.ctx, V.back, nlen);
		if (rc == NEST_OK)
			snap_die("snapshot 1: libnest took %s tampered with (%s)", V.o.path,
				 V.o.tamper);
		fprintf(stderr,
			"minivmm: snapshot 1: libnest refused %s (tampered: %s): %s; "
			"KVM_SET_NESTED_STATE not called\n",
			V.o.path, V.o.tamper, nest_strerror(rc));
		exit(2);
	}
	tamper_all(klen, nlen);
	/* The real one, after the tampered ones: from the file, on a fresh
	 * context (the destination), with L1's state in its vmcs01. */
	snap_vmx_ctx();
	l1_state(V.kvm, 0);
	rc = nest_vmx_restore_state(V.ctx, V.back, nlen);
	if (rc != NEST_OK)
		snap_die("snapshot %u: libnest refused %s as read back: %s", V.rounds + 1, V.o.path,
			 nest_strerror(rc));
	memset(V.out, 0, KVM_BUF);
	rc = nest_vmx_to_kvm_nested_state(V.ctx, V.out, KVM_BUF, &n);
	if (rc != NEST_OK)
		snap_die("snapshot %u: nest_vmx_to_kvm_nested_state: %s", V.rounds + 1,
			 nest_strerror(rc));
	if (compare(V.kvm, V.out))
		snap_die("snapshot %u: libnest's KVM state differs from KVM's (above)",
			 V.rounds + 1);
	if (ioctl(V.vcpu, KVM_SET_NESTED_STATE, V.out) < 0)
		snap_die("snapshot %u: KVM_SET_NESTED_STATE: %s", V.rounds + 1, strerror(errno));
	double dt = now_secs() - t0;
	V.secs += dt;
	if (dt > V.max_secs)
		V.max_secs = dt;
	V.rounds++;
	if (V.o.verbose && (V.rounds <= 3 || V.rounds % 100 == 0))
		fprintf(stderr,
			"minivmm: snapshot %u: vmcs12 %#llx, L2 rip %#llx, exit reason %#llx, %zu "
			"bytes to %s, %.0f us\n",
			V.rounds, (unsigned long long)get(V.kvm + K_VMCS12, 8),
			(unsigned long long)kget(V.kvm, NEST_VMCS_GUEST_RIP),
			(unsigned long long)kget(V.kvm, NEST_VMCS_VM_EXIT_REASON), V.own_len,
			V.o.path, dt * 1e6);
}

void snap_vmx_report(void)
{
	fprintf(stderr,
		"minivmm: snapshots: %u round trips in guest mode (KVM %zu bytes, libnest %zu "
		"bytes, %.0f us each, at most %.0f us), %u tampered refused; %u attempts: %u "
		"outside guest mode, %u with a run or MTF exit pending; vmcs12's guest state = "
		"the vCPU's registers in %u; KVM's preemption-timer deadline in %u, an injected "
		"event in %u, vmcs12 not yet marked launched in %u\n",
		V.rounds, V.kvm_size, V.own_len, V.rounds ? V.secs / V.rounds * 1e6 : 0.0,
		V.max_secs * 1e6, V.tampered, V.attempts, V.outside, V.pending, V.layout_checked,
		V.deadlines, V.injections, V.launching);
}
