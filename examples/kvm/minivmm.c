/* SPDX-License-Identifier: MIT */
/*
 * minivmm: a minimal KVM-based VMM, the shape of the L0 that libnest sits
 * in. It uses the /dev/kvm API only: one VM (KVM_CREATE_VM), its RAM as
 * one memory slot, the in-kernel interrupt controllers (PIC, IOAPIC, local
 * APIC) and PIT, one vCPU, and KVM_RUN. It emulates a 16550 UART at COM1
 * (0x3F8, IRQ 4) whose output goes to standard output, a read-only CMOS
 * clock (0x70-0x71: the host's time, so that Linux finds its RTC without
 * waiting on an update flag that never clears), an exit port
 * (0xF4, as QEMU's isa-debug-exit: writing v ends the run with status
 * (v << 1) | 1), and the I/O-port interface of QEMU's firmware
 * configuration device (fw_cfg, 0x510-0x511) with the few items a test
 * kernel reads: RAM size and vCPU count, and an SMI handler that only
 * returns (RSM) for a guest that sends itself SMIs. It boots
 *   - a Linux bzImage by the Linux/x86 32-bit boot protocol (command line,
 *     initrd, e820 map in the zero page), or
 *   - a multiboot kernel (Multiboot Specification 0.6.96: ELF32, ELF64 or
 *     the a.out-kludge address fields), with command line, memory map and
 *     modules (kvm-unit-tests' .flat files run so, their environment a
 *     module).
 * With -S it takes nested-state snapshots through libnest while its guest
 * runs a guest of its own (snapshot.c).
 * See README.md beside this file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "snapshot.h"

#define MIB (1024ull * 1024)
#define DEFAULT_MEM_MIB 128
#define MAX_MEM_MIB 3072 /* RAM stays below the 32-bit device window */
#define PAGE 4096ull
#define LOW_RAM_END 0x9FC00ull /* conventional memory, then the EBDA */
#define BIOS_START 0xF0000ull
#define HIGH_START 0x100000ull
#define TSS_ADDR 0xFFFBD000ull	 /* three pages KVM needs on VMX, outside RAM */
#define IDMAP_ADDR 0xFFFBC000ull /* one page, below it */
#define KVM_API 12

#define COM1 0x3F8
#define COM1_IRQ 4
#define RTC_INDEX 0x70
#define RTC_DATA 0x71
#define EXIT_PORT 0xF4
#define EXIT_PORTS 4
#define FW_CFG_SEL 0x510
#define FW_CFG_DATA 0x511

#define CPUID_FEATURES 1
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)

#define MAX_VCPUS 8
#define MP_FLOAT_ADDR 0xF0000ull /* the MP floating pointer, in the BIOS area */
#define MP_TABLE_MAX 512	 /* room for its configuration table after it */
#define SMBASE 0xF0000ull	 /* SMM: the handler at SMBASE + 0x8000, the save */
#define SMM_ENTRY 0x8000ull	 /* area at SMBASE + 0xFE00, all in the BIOS area */
#define MSR_IA32_SMBASE 0x9E

#define SNAP_MAX 1000
#define SNAP_PERIOD_MS 10

#define E820_RAM 1
#define E820_RESERVED 2

/* ---- errors ------------------------------------------------------------ */

static const char *prog = "minivmm";

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* An ioctl that must succeed; @what says what it was for. */
static int xioctl(int fd, unsigned long req, void *arg, const char *what)
{
	int rc = ioctl(fd, req, arg);
	if (rc < 0)
		die("%s: %s", what, strerror(errno));
	return rc;
}

/* ---- the machine --------------------------------------------------------- */

struct e820 {
	uint64_t addr, size;
	uint32_t type;
} __attribute__((packed));

struct uart {
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thre_pending; /* a THR-empty interrupt not yet read from IIR */
	int line;	   /* IRQ level last given to KVM */
};

struct vm {
	int kvm, fd, vcpu; /* vcpu, run: the bootstrap processor's */
	struct kvm_run *run;
	unsigned ncpus;	      /* -c */
	int ap_fd[MAX_VCPUS]; /* the other vCPUs (index 0 unused) */
	struct kvm_run *ap_run[MAX_VCPUS];
	pthread_mutex_t io_lock; /* the devices, for the vCPUs' threads */
	uint8_t *ram;
	uint64_t mem;
	struct e820 map[4];
	unsigned nmap;
	struct uart uart;
	uint8_t rtc_index;
	uint16_t fw_key;      /* fw_cfg: the selected item */
	uint32_t fw_offset;   /* and the next byte of it the data port reads */
	const char *features; /* -f */
	bool verbose;
	bool snapshots; /* -S */
	uint64_t exits, io_exits, mmio_exits, serial_bytes;
};

static void *gpa(struct vm *vm, uint64_t addr, uint64_t len, const char *what)
{
	if (addr > vm->mem || len > vm->mem - addr)
		die("the %s [%#llx, +%#llx) does not fit the guest's %llu MiB (-m)", what,
		    (unsigned long long)addr, (unsigned long long)len,
		    (unsigned long long)(vm->mem / MIB));
	return vm->ram + addr;
}

/*
 * CPUID features -f can take away, by QEMU's names for them: a test that
 * wants a processor without one (kvm-unit-tests' configuration gives such
 * cases a QEMU CPU model, "max,+svm,-rdtscp,...") gets it without.
 */
static const struct cpu_feature {
	const char *name;
	uint32_t leaf;
	char reg; /* 'b', 'c' or 'd' of subleaf 0 */
	unsigned bit;
} cpu_features[] = {
    {"xsave", 1, 'c', 26},
    {"x2apic", 1, 'c', 21},
    {"invpcid", 7, 'b', 10},
    {"rdtscp", 0x80000001, 'd', 27},
    {"pdpe1gb", 0x80000001, 'd', 26},
    {"skinit", 0x80000001, 'c', 12},
    {"svm", 0x80000001, 'c', 2},
    {"npt", 0x8000000A, 'd', 0},
    {"nrip-save", 0x8000000A, 'd', 3},
};

/* Each "-NAME" of the comma-separated @model: its feature (NULL at the end,
 * *pos advanced); a word without "-" (the model's name, "+NAME": KVM's
 * features are there already) is passed over, an unknown "-NAME" refused. */
static const struct cpu_feature *next_removed(const char *model, size_t *pos)
{
	while (model[*pos]) {
		const char *w = model + *pos;
		size_t n = strcspn(w, ",");
		*pos += n + (w[n] == ',');
		if (n < 2 || w[0] != '-')
			continue;
		for (size_t i = 0; i < sizeof(cpu_features) / sizeof(cpu_features[0]); i++)
			if (strlen(cpu_features[i].name) == n - 1 &&
			    !strncmp(cpu_features[i].name, w + 1, n - 1))
				return &cpu_features[i];
		die("-f: cannot take away \"%.*s\" (known: xsave, x2apic, invpcid, rdtscp, "
		    "pdpe1gb, skinit, svm, npt, nrip-save)",
		    (int)n - 1, w + 1);
	}
	return NULL;
}

static void remove_features(struct kvm_cpuid2 *cpuid, const char *model)
{
	const struct cpu_feature *f;
	size_t pos = 0;

	while ((f = next_removed(model, &pos)) != NULL) {
		for (unsigned i = 0; i < cpuid->nent; i++) {
			struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
			if (e->function != f->leaf || e->index != 0)
				continue;
			uint32_t *r = f->reg == 'b' ? &e->ebx : f->reg == 'c' ? &e->ecx : &e->edx;
			*r &= ~(1u << f->bit);
		}
	}
}

static void vm_create(struct vm *vm, uint64_t mem)
{
	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0) {
		if (errno == ENOENT)
			die("no /dev/kvm: load kvm and kvm_amd or kvm_intel (modprobe kvm_amd); "
			    "they need a CPU with SVM or VMX, offered to this machine");
		die("cannot open /dev/kvm: %s", strerror(errno));
	}
	int api = ioctl(vm->kvm, KVM_GET_API_VERSION, 0);
	if (api != KVM_API)
		die("/dev/kvm speaks API version %d, not %d", api, KVM_API);
	vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		die("KVM_CREATE_VM: %s%s", strerror(errno),
		    errno == ENODEV || errno == EINVAL || errno == EIO
			? " (does this CPU have SVM or VMX enabled? see dmesg)"
			: "");
	if (ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0 ||
	    ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_PIT2) <= 0 ||
	    ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0)
		die("this KVM lacks the in-kernel irqchip, PIT2 or user memory");

	vm->mem = mem;
	vm->ram = mmap(NULL, mem, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED)
		die("cannot map %llu MiB of guest RAM: %s", (unsigned long long)(mem / MIB),
		    strerror(errno));
	struct kvm_userspace_memory_region slot = {
	    .slot = 0,
	    .guest_phys_addr = 0,
	    .memory_size = mem,
	    .userspace_addr = (uint64_t)(uintptr_t)vm->ram,
	};
	xioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &slot, "KVM_SET_USER_MEMORY_REGION");
	/* In SMM a vCPU sees KVM's second address space (the firmware's
	 * SMRAM view): the same RAM there, so that an SMI handler runs. */
	if (ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_MULTI_ADDRESS_SPACE) > 1) {
		slot.slot = 1u << 16;
		xioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &slot,
		       "KVM_SET_USER_MEMORY_REGION (SMM)");
	}
	xioctl(vm->fd, KVM_SET_TSS_ADDR, (void *)(uintptr_t)TSS_ADDR, "KVM_SET_TSS_ADDR");
	uint64_t idmap = IDMAP_ADDR;
	xioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap, "KVM_SET_IDENTITY_MAP_ADDR");
	xioctl(vm->fd, KVM_CREATE_IRQCHIP, NULL, "KVM_CREATE_IRQCHIP");
	struct kvm_pit_config pit = {.flags = 0};
	xioctl(vm->fd, KVM_CREATE_PIT2, &pit, "KVM_CREATE_PIT2");

	/* The PC's map: low RAM, the EBDA and BIOS areas reserved, RAM above 1 MiB. */
	vm->map[vm->nmap++] = (struct e820){0, LOW_RAM_END, E820_RAM};
	vm->map[vm->nmap++] = (struct e820){LOW_RAM_END, 0xA0000 - LOW_RAM_END, E820_RESERVED};
	vm->map[vm->nmap++] = (struct e820){BIOS_START, HIGH_START - BIOS_START, E820_RESERVED};
	vm->map[vm->nmap++] = (struct e820){HIGH_START, mem - HIGH_START, E820_RAM};

	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu < 0)
		die("KVM_CREATE_VCPU: %s", strerror(errno));
	int run_size = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run))
		die("KVM_GET_VCPU_MMAP_SIZE: %s", run_size < 0 ? strerror(errno) : "too small");
	vm->run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu, 0);
	if (vm->run == MAP_FAILED)
		die("cannot map the vCPU's kvm_run: %s", strerror(errno));

	/* The CPUID KVM supports, as it is. */
	unsigned n = 128;
	struct kvm_cpuid2 *cpuid;
	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(cpuid->entries[0]));
		if (!cpuid)
			die("out of memory");
		cpuid->nent = n;
		if (ioctl(vm->kvm, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			break;
		if (errno != E2BIG)
			die("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(cpuid);
		n *= 2;
	}
	/* What KVM reports as supported leaves two bits to the VMM: the
	 * hypervisor bit (without it Linux looks for no hypervisor, so no
	 * kvm-clock, and calibrates its TSC against the PIT) and the TSC
	 * deadline timer, which the in-kernel local APIC has. */
	bool deadline = ioctl(vm->kvm, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	for (unsigned i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
		if (e->function == CPUID_FEATURES)
			e->ecx |=
			    CPUID_1_ECX_HYPERVISOR | (deadline ? CPUID_1_ECX_TSC_DEADLINE : 0);
	}
	if (vm->features)
		remove_features(cpuid, vm->features);
	xioctl(vm->vcpu, KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2");
	/* The application processors: KVM's in-kernel local APIC holds each in
	 * wait-for-SIPI until the guest starts it by INIT-SIPI-SIPI. Each sees
	 * its own APIC ID in CPUID (leaf 1 EBX[31:24], leaf 0xB EDX). */
	for (unsigned c = 1; c < vm->ncpus; c++) {
		vm->ap_fd[c] = ioctl(vm->fd, KVM_CREATE_VCPU, c);
		if (vm->ap_fd[c] < 0)
			die("KVM_CREATE_VCPU %u: %s", c, strerror(errno));
		vm->ap_run[c] = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
				     vm->ap_fd[c], 0);
		if (vm->ap_run[c] == MAP_FAILED)
			die("cannot map vCPU %u's kvm_run: %s", c, strerror(errno));
		for (unsigned i = 0; i < cpuid->nent; i++) {
			struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
			if (e->function == CPUID_FEATURES)
				e->ebx = (e->ebx & 0x00FFFFFFu) | (c << 24);
			if (e->function == 0xB)
				e->edx = c;
		}
		xioctl(vm->ap_fd[c], KVM_SET_CPUID2, cpuid, "KVM_SET_CPUID2");
	}
	free(cpuid);
}

/*
 * The processors for a guest that reads MP tables (Linux without ACPI), MP
 * specification 1.4: a floating pointer (4.1) and after it a configuration
 * table (4.2, 4.3) naming each vCPU's local APIC (ID = vCPU index, the
 * first the bootstrap processor), one ISA bus, KVM's in-kernel I/O APIC at
 * 0xFEC00000 with ISA IRQ n on its input n (KVM's default routing: GSI n
 * drives the PICs' and the I/O APIC's pin n), and the local APICs' LINT0
 * (ExtINT, the 8259s) and LINT1 (NMI) as in the specification's default
 * configurations. A default configuration (feature byte 1 nonzero, no
 * table) is not used: Linux 6.1 faults in early boot on it.
 */
static void mp_put(uint8_t **p, const void *src, size_t n)
{
	memcpy(*p, src, n);
	*p += n;
}

static uint8_t mp_sum(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	while (n--)
		sum = (uint8_t)(sum + *p++);
	return (uint8_t)-sum;
}

static void mp_tables(struct vm *vm)
{
	const uint64_t table_addr = MP_FLOAT_ADDR + 16;
	uint8_t *f = gpa(vm, MP_FLOAT_ADDR, 16 + MP_TABLE_MAX, "MP tables");
	uint8_t *t = f + 16, *p = t + 44;
	const uint8_t ioapic_id = (uint8_t)vm->ncpus;
	uint16_t entries = 0;

	memset(f, 0, 16 + MP_TABLE_MAX);
	for (unsigned c = 0; c < vm->ncpus; c++) { /* processor entries (4.3.1) */
		uint8_t e[20] = {0, (uint8_t)c, 0x14, (uint8_t)(1 | (c == 0 ? 2 : 0))};
		mp_put(&p, e, sizeof(e));
		entries++;
	}
	mp_put(&p, (uint8_t[8]){1, 0, 'I', 'S', 'A', ' ', ' ', ' '}, 8); /* bus (4.3.2) */
	mp_put(&p, (uint8_t[8]){2, ioapic_id, 0x11, 1, 0x00, 0x00, 0xC0, 0xFE}, 8); /* 4.3.3 */
	entries += 2;
	for (uint8_t irq = 0; irq < 16; irq++) { /* I/O interrupts (4.3.4): INT, bus 0 */
		/* Not IRQ 2, the slave 8259's cascade. */
		if (irq == 2)
			continue;
		mp_put(&p, (uint8_t[8]){3, 0, 0, 0, 0, irq, ioapic_id, irq}, 8);
		entries++;
	}
	/* Local interrupts (4.3.5): ExtINT on LINT0, NMI on LINT1, every APIC. */
	mp_put(&p, (uint8_t[8]){4, 3, 0, 0, 0, 0, 0xFF, 0}, 8);
	mp_put(&p, (uint8_t[8]){4, 1, 0, 0, 0, 0, 0xFF, 1}, 8);
	entries += 2;
	if (p - t > MP_TABLE_MAX)
		die("internal error: the MP table outgrew its room");

	const uint16_t len = (uint16_t)(p - t);
	memcpy(t, "PCMP", 4);
	memcpy(t + 4, &len, 2);
	t[6] = 4;				   /* specification 1.4 */
	memcpy(t + 8, "LIBNEST MINIVMM     ", 20); /* OEM ID, product ID */
	memcpy(t + 34, &entries, 2);
	memcpy(t + 36, &(uint32_t){0xFEE00000u}, 4); /* the local APICs */
	t[7] = mp_sum(t, len);

	memcpy(f, "_MP_", 4);
	memcpy(f + 4, &(uint32_t){(uint32_t)table_addr}, 4);
	f[8] = 1; /* length in 16-byte units */
	f[9] = 4; /* specification 1.4 */
	f[10] = mp_sum(f, 16);
}

/*
 * The firmware's part of system management mode, as little of it as a
 * guest that sends itself SMIs (kvm-unit-tests) needs: KVM enters SMM at
 * SMBASE + 0x8000 and keeps the processor's state at SMBASE + 0xFE00
 * (APM 10.2). The firmware's handler of a PC would relocate SMBASE from
 * its reset value 0x30000 (in the guest's RAM) and do its work; this one
 * is RSM alone, in the reserved BIOS area, with SMBASE set there through
 * the MSR that KVM lets its VMM write (the bootstrap processor's; an INIT
 * puts it back to 0x30000). vm_create() maps RAM into the address space
 * KVM gives a vCPU in SMM. Without SMM in KVM nothing is done.
 */
static void smm_setup(struct vm *vm)
{
	static const uint8_t rsm[] = {0x0F, 0xAA};
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = {.h.nmsrs = 1, .e = {.index = MSR_IA32_SMBASE, .data = SMBASE}};

	if (ioctl(vm->vcpu, KVM_SET_MSRS, &m) != 1) {
		if (vm->verbose)
			fprintf(stderr, "%s: KVM took no SMBASE: no SMI handler\n", prog);
		return;
	}
	memcpy(gpa(vm, SMBASE + SMM_ENTRY, sizeof(rsm), "SMI handler"), rsm, sizeof(rsm));
}

/* The vCPU as a 32-bit boot loader leaves it: protected mode, paging off,
 * flat 4 GiB segments (code selector 0x10, data 0x18), interrupts off. */
static void vcpu_boot(struct vm *vm, uint64_t rip, uint64_t rax, uint64_t rbx, uint64_t rsi)
{
	struct kvm_sregs s;
	xioctl(vm->vcpu, KVM_GET_SREGS, &s, "KVM_GET_SREGS");
	struct kvm_segment code = {
	    .base = 0,
	    .limit = 0xFFFFFFFF,
	    .selector = 0x10,
	    .type = 11,
	    .present = 1,
	    .dpl = 0,
	    .db = 1,
	    .s = 1,
	    .l = 0,
	    .g = 1,
	};
	struct kvm_segment data = code;
	data.selector = 0x18;
	data.type = 3;
	s.cs = code;
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.cr0 = 0x11; /* PE, ET */
	s.cr3 = 0;
	s.cr4 = 0;
	s.efer = 0;
	xioctl(vm->vcpu, KVM_SET_SREGS, &s, "KVM_SET_SREGS");
	struct kvm_regs r = {.rip = rip, .rax = rax, .rbx = rbx, .rsi = rsi, .rflags = 2};
	xioctl(vm->vcpu, KVM_SET_REGS, &r, "KVM_SET_REGS");
}

/* ---- images ---------------------------------------------------------------- */

struct image {
	const char *path;
	uint8_t *data;
	uint64_t size;
};

static void image_read(struct image *im, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		die("cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		die("%s is not a regular file", path);
	im->path = path;
	im->size = (uint64_t)st.st_size;
	im->data = malloc(im->size ? im->size : 1);
	if (!im->data)
		die("out of memory reading %s", path);
	for (uint64_t off = 0; off < im->size;) {
		ssize_t n = read(fd, im->data + off, im->size - off);
		if (n <= 0)
			die("cannot read %s: %s", path, n ? strerror(errno) : "file shrank");
		off += (uint64_t)n;
	}
	close(fd);
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}
static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}
static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}
static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Linux/x86 boot protocol: offsets in the image and the zero page. */
#define LX_SETUP_SECTS 0x1F1
#define LX_BOOT_FLAG 0x1FE
#define LX_JUMP 0x200
#define LX_HEADER 0x202
#define LX_VERSION 0x206
#define LX_TYPE_OF_LOADER 0x210
#define LX_LOADFLAGS 0x211
#define LX_CODE32_START 0x214
#define LX_RAMDISK_IMAGE 0x218
#define LX_RAMDISK_SIZE 0x21C
#define LX_CMD_LINE_PTR 0x228
#define LX_INITRD_ADDR_MAX 0x22C
#define LX_CMDLINE_SIZE 0x238
#define LX_PREF_ADDRESS 0x258
#define LX_INIT_SIZE 0x260
#define BP_ALT_MEM_K 0x1E0
#define BP_E820_ENTRIES 0x1E8
#define BP_E820_TABLE 0x2D0
#define ZERO_PAGE 0x10000ull
#define CMDLINE_GPA 0x11000ull
#define CMDLINE_ROOM 0x8000ull

static bool is_bzimage(const struct image *im)
{
	return im->size > 0x270 && rd16(im->data + LX_BOOT_FLAG) == 0xAA55 &&
	       rd32(im->data + LX_HEADER) == 0x53726448; /* "HdrS" */
}

/* The checks of a bzImage's setup header; returns the setup code's size. */
static uint64_t check_linux(const struct image *k)
{
	const uint8_t *img = k->data;
	unsigned version = rd16(img + LX_VERSION);
	if (version < 0x020A)
		die("%s: Linux boot protocol %u.%02u is older than 2.10", k->path, version >> 8,
		    version & 0xFF);
	if (!(img[LX_LOADFLAGS] & 1))
		die("%s: not a bzImage (loads below 1 MiB)", k->path);
	unsigned sects = img[LX_SETUP_SECTS] ? img[LX_SETUP_SECTS] : 4;
	uint64_t setup = (sects + 1) * 512ull;
	unsigned hdr_end = LX_JUMP + 2 + img[LX_JUMP + 1];
	if (setup >= k->size || hdr_end > setup)
		die("%s: shorter than its setup header says", k->path);
	return setup;
}

static void load_linux(struct vm *vm, const struct image *k, const char *cmdline,
		       const struct image *initrd)
{
	const uint8_t *img = k->data;
	unsigned version = rd16(img + LX_VERSION);
	uint64_t setup = check_linux(k);
	unsigned hdr_end = LX_JUMP + 2 + img[LX_JUMP + 1];
	uint64_t load = rd64(img + LX_PREF_ADDRESS);
	uint64_t need = rd32(img + LX_INIT_SIZE);
	if (need < k->size - setup)
		need = k->size - setup;
	memcpy(gpa(vm, load, need, "kernel"), img + setup, k->size - setup);

	uint64_t rd_gpa = 0, rd_len = 0;
	if (initrd) {
		uint64_t limit = (uint64_t)rd32(img + LX_INITRD_ADDR_MAX) + 1;
		if (limit > vm->mem)
			limit = vm->mem;
		rd_len = initrd->size;
		if (rd_len + load + need > limit)
			die("%s (%llu KiB) does not fit above the kernel in %llu MiB (-m)",
			    initrd->path, (unsigned long long)(rd_len >> 10),
			    (unsigned long long)(vm->mem / MIB));
		rd_gpa = (limit - rd_len) & ~(PAGE - 1);
		memcpy(gpa(vm, rd_gpa, rd_len, "initrd"), initrd->data, rd_len);
	}
	uint64_t max_cmd = rd32(img + LX_CMDLINE_SIZE);
	if (max_cmd > CMDLINE_ROOM - 1)
		max_cmd = CMDLINE_ROOM - 1;
	if (strlen(cmdline) > max_cmd)
		die("command line longer than the kernel's %llu bytes",
		    (unsigned long long)max_cmd);
	strcpy(gpa(vm, CMDLINE_GPA, strlen(cmdline) + 1, "command line"), cmdline);

	uint8_t *bp = gpa(vm, ZERO_PAGE, PAGE, "zero page");
	memset(bp, 0, PAGE);
	memcpy(bp + LX_SETUP_SECTS, img + LX_SETUP_SECTS, hdr_end - LX_SETUP_SECTS);
	bp[LX_TYPE_OF_LOADER] = 0xFF;
	wr32(bp + LX_CODE32_START, (uint32_t)load);
	wr32(bp + LX_RAMDISK_IMAGE, (uint32_t)rd_gpa);
	wr32(bp + LX_RAMDISK_SIZE, (uint32_t)rd_len);
	wr32(bp + LX_CMD_LINE_PTR, (uint32_t)CMDLINE_GPA);
	wr32(bp + BP_ALT_MEM_K, (uint32_t)((vm->mem - HIGH_START) >> 10));
	memcpy(bp + BP_E820_TABLE, vm->map, vm->nmap * sizeof(vm->map[0]));
	bp[BP_E820_ENTRIES] = (uint8_t)vm->nmap;
	if (vm->verbose)
		fprintf(stderr, "%s: Linux %u.%02u at %#llx, initrd at %#llx (%llu KiB)\n", prog,
			version >> 8, version & 0xFF, (unsigned long long)load,
			(unsigned long long)rd_gpa, (unsigned long long)(rd_len >> 10));
	vcpu_boot(vm, load, 0, 0, ZERO_PAGE);
}

/* Multiboot (specification 0.6.96). */
#define MB_MAGIC 0x1BADB002u
#define MB_LOADER_MAGIC 0x2BADB002u
#define MB_AOUT_KLUDGE (1u << 16)
#define MB_SUPPORTED 0x3u /* page-aligned modules, memory information */
#define MB_INFO_MEMORY (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MODS (1u << 3)
#define MAX_MODULES 4
#define MB_INFO_MEM_MAP (1u << 6)
#define MB_INFO_LOADER_NAME (1u << 9)

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr, drives_length, drives_addr, config_table;
	uint32_t boot_loader_name, apm_table;
	uint32_t vbe[6];
};

struct mb_mmap {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

static const uint8_t *find_mb_header(const struct image *k, uint64_t *off)
{
	for (uint64_t o = 0; o + 32 <= k->size && o < 8192; o += 4) {
		const uint8_t *h = k->data + o;
		if (rd32(h) == MB_MAGIC && rd32(h) + rd32(h + 4) + rd32(h + 8) == 0) {
			*off = o;
			return h;
		}
	}
	return NULL;
}

static uint64_t load_elf(struct vm *vm, const struct image *k, uint64_t *top)
{
	const uint8_t *e = k->data;
	if (k->size < 64 || rd32(e) != 0x464C457F)
		die("%s: neither a bzImage, an ELF file nor an a.out-kludge multiboot image",
		    k->path);
	bool is64 = e[4] == 2;
	if (e[4] != 1 && !is64)
		die("%s: unknown ELF class %u", k->path, e[4]);
	uint64_t entry = is64 ? rd64(e + 24) : rd32(e + 24);
	uint64_t phoff = is64 ? rd64(e + 32) : rd32(e + 28);
	unsigned phentsize = rd16(e + (is64 ? 54 : 42)), phnum = rd16(e + (is64 ? 56 : 44));
	if (phentsize < (is64 ? 56u : 32u) || phoff > k->size ||
	    (uint64_t)phnum * phentsize > k->size - phoff)
		die("%s: bad ELF program headers", k->path);
	uint64_t phys_entry = entry;
	*top = 0;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *p = e + phoff + (uint64_t)i * phentsize;
		if (rd32(p) != 1) /* PT_LOAD */
			continue;
		uint64_t off, vaddr, paddr, filesz, memsz;
		if (is64) {
			off = rd64(p + 8), vaddr = rd64(p + 16), paddr = rd64(p + 24);
			filesz = rd64(p + 32), memsz = rd64(p + 40);
		} else {
			off = rd32(p + 4), vaddr = rd32(p + 8), paddr = rd32(p + 12);
			filesz = rd32(p + 16), memsz = rd32(p + 20);
		}
		if (off > k->size || filesz > k->size - off || memsz < filesz)
			die("%s: ELF segment %u beyond the file", k->path, i);
		uint8_t *dst = gpa(vm, paddr, memsz, "ELF segment");
		memcpy(dst, e + off, filesz);
		memset(dst + filesz, 0, memsz - filesz);
		if (paddr + memsz > *top)
			*top = paddr + memsz;
		if (entry >= vaddr && entry - vaddr < memsz)
			phys_entry = paddr + (entry - vaddr);
	}
	return phys_entry;
}

struct mb_module {
	uint32_t start, end, string, reserved;
};

static void load_multiboot(struct vm *vm, const struct image *k, const char *cmdline,
			   const struct image *mods, unsigned nmods)
{
	uint64_t hoff, top, entry;
	const uint8_t *h = find_mb_header(k, &hoff);
	if (!h)
		die("%s: neither a bzImage nor a multiboot kernel (no header in its first 8 KiB)",
		    k->path);
	uint32_t flags = rd32(h + 4);
	if (flags & 0xFFFF & ~MB_SUPPORTED)
		die("%s: asks for multiboot features %#x that minivmm lacks", k->path, flags);
	if (flags & MB_AOUT_KLUDGE) {
		uint32_t header_addr = rd32(h + 12), load_addr = rd32(h + 16);
		uint32_t load_end = rd32(h + 20), bss_end = rd32(h + 24);
		if (header_addr < load_addr || header_addr - load_addr > hoff)
			die("%s: bad multiboot address fields", k->path);
		uint64_t foff = hoff - (header_addr - load_addr);
		uint64_t len = load_end ? (uint64_t)load_end - load_addr : k->size - foff;
		if ((load_end && load_end < load_addr) || len > k->size - foff)
			die("%s: shorter than its multiboot header says", k->path);
		uint64_t memsz = bss_end > load_addr + len ? bss_end - load_addr : len;
		uint8_t *dst = gpa(vm, load_addr, memsz, "image");
		memcpy(dst, k->data + foff, len);
		memset(dst + len, 0, memsz - len);
		top = load_addr + memsz;
		entry = rd32(h + 28);
	} else {
		entry = load_elf(vm, k, &top);
	}
	/* The modules, each page-aligned after the image (as the header's
	 * flag 0 may ask); then the information structure, its command line,
	 * name, module list and map. */
	uint64_t pos = (top + PAGE - 1) & ~(PAGE - 1);
	struct mb_module ml[MAX_MODULES];
	for (unsigned i = 0; i < nmods; i++) {
		ml[i] = (struct mb_module){.start = (uint32_t)pos,
					   .end = (uint32_t)(pos + mods[i].size)};
		memcpy(gpa(vm, pos, mods[i].size, "module"), mods[i].data, mods[i].size);
		pos = (pos + mods[i].size + PAGE - 1) & ~(PAGE - 1);
	}
	uint64_t info_gpa = pos;
	struct mb_info info = {0};
	pos += sizeof(info);
	info.flags = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MEM_MAP | MB_INFO_LOADER_NAME;
	if (nmods) {
		info.flags |= MB_INFO_MODS;
		info.mods_count = nmods;
		for (unsigned i = 0; i < nmods; i++) {
			ml[i].string = (uint32_t)pos;
			strcpy(gpa(vm, pos, strlen(mods[i].path) + 1, "module name"), mods[i].path);
			pos += strlen(mods[i].path) + 1;
		}
		pos = (pos + 7) & ~7ull;
		info.mods_addr = (uint32_t)pos;
		memcpy(gpa(vm, pos, nmods * sizeof(ml[0]), "module list"), ml,
		       nmods * sizeof(ml[0]));
		pos += nmods * sizeof(ml[0]);
	}
	info.mem_lower = (uint32_t)(LOW_RAM_END / 1024);
	info.mem_upper = (uint32_t)((vm->mem - HIGH_START) / 1024);
	info.cmdline = (uint32_t)pos;
	strcpy(gpa(vm, pos, strlen(cmdline) + 1, "command line"), cmdline);
	pos += strlen(cmdline) + 1;
	static const char name[] = "minivmm";
	info.boot_loader_name = (uint32_t)pos;
	memcpy(gpa(vm, pos, sizeof(name), "loader name"), name, sizeof(name));
	pos = (pos + sizeof(name) + 7) & ~7ull;
	info.mmap_addr = (uint32_t)pos;
	for (unsigned i = 0; i < vm->nmap; i++) {
		struct mb_mmap m = {sizeof(m) - 4, vm->map[i].addr, vm->map[i].size,
				    vm->map[i].type};
		memcpy(gpa(vm, pos, sizeof(m), "memory map"), &m, sizeof(m));
		pos += sizeof(m);
	}
	info.mmap_length = (uint32_t)(pos - info.mmap_addr);
	memcpy(gpa(vm, info_gpa, sizeof(info), "multiboot information"), &info, sizeof(info));
	if (vm->verbose)
		fprintf(stderr, "%s: multiboot kernel, entry %#llx, information at %#llx\n", prog,
			(unsigned long long)entry, (unsigned long long)info_gpa);
	vcpu_boot(vm, entry, MB_LOADER_MAGIC, info_gpa, 0);
}

/* ---- the UART (16550 at COM1, transmit only) ---------------------------- */

#define UART_IER_RDI 0x01
#define UART_IER_THRI 0x02
#define UART_IIR_NONE 0x01
#define UART_IIR_THRI 0x02
#define UART_IIR_FIFO 0xC0
#define UART_LCR_DLAB 0x80
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_MCR_LOOP 0x10

static void uart_irq(struct vm *vm)
{
	struct uart *u = &vm->uart;
	int level = (u->ier & UART_IER_THRI) && u->thre_pending;
	if (level == u->line)
		return;
	u->line = level;
	struct kvm_irq_level irq = {.irq = COM1_IRQ, .level = (uint32_t)level};
	xioctl(vm->fd, KVM_IRQ_LINE, &irq, "KVM_IRQ_LINE");
}

static uint8_t uart_in(struct vm *vm, unsigned reg)
{
	struct uart *u = &vm->uart;
	uint8_t v = 0;
	switch (reg) {
	case 0: /* RBR (no input) or DLL */
		v = u->lcr & UART_LCR_DLAB ? u->dll : 0;
		break;
	case 1:
		v = u->lcr & UART_LCR_DLAB ? u->dlm : u->ier;
		break;
	case 2: /* IIR: reading a THR-empty report clears it */
		v = (u->fcr & 1) ? UART_IIR_FIFO : 0;
		if ((u->ier & UART_IER_THRI) && u->thre_pending) {
			v |= UART_IIR_THRI;
			u->thre_pending = false;
		} else {
			v |= UART_IIR_NONE;
		}
		break;
	case 3:
		v = u->lcr;
		break;
	case 4:
		v = u->mcr;
		break;
	case 5: /* LSR: the transmitter is always empty */
		v = UART_LSR_THRE | UART_LSR_TEMT;
		break;
	case 6: /* MSR: in loopback, the modem outputs read back as inputs */
		if (u->mcr & UART_MCR_LOOP)
			v = (uint8_t)(((u->mcr & 0x02) << 3) | ((u->mcr & 0x01) << 5) |
				      ((u->mcr & 0x04) << 4) | ((u->mcr & 0x08) << 4));
		else
			v = 0xB0; /* DCD, DSR, CTS */
		break;
	case 7:
		v = u->scr;
		break;
	}
	uart_irq(vm);
	return v;
}

static void uart_out(struct vm *vm, unsigned reg, uint8_t v)
{
	struct uart *u = &vm->uart;
	switch (reg) {
	case 0:
		if (u->lcr & UART_LCR_DLAB) {
			u->dll = v;
		} else {
			if (!(u->mcr & UART_MCR_LOOP)) {
				putchar(v);
				if (v == '\n')
					fflush(stdout);
				vm->serial_bytes++;
			}
			u->thre_pending = true;
		}
		break;
	case 1:
		if (u->lcr & UART_LCR_DLAB) {
			u->dlm = v;
		} else {
			/* Enabling the THR-empty interrupt reports the empty THR. */
			if ((v & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
				u->thre_pending = true;
			u->ier = v & 0x0F;
		}
		break;
	case 2:
		u->fcr = v;
		break;
	case 3:
		u->lcr = v;
		break;
	case 4:
		u->mcr = v & 0x1F;
		break;
	case 7:
		u->scr = v;
		break;
	}
	uart_irq(vm);
}

/* ---- the CMOS clock (read only: the host's time, in BCD, 24-hour) ---- */

#define RTC_SEC 0x00
#define RTC_MIN 0x02
#define RTC_HOUR 0x04
#define RTC_WDAY 0x06
#define RTC_MDAY 0x07
#define RTC_MON 0x08
#define RTC_YEAR 0x09
#define RTC_REG_A 0x0A /* bit 7: update in progress (never here) */
#define RTC_REG_B 0x0B
#define RTC_REG_D 0x0D
#define RTC_CENTURY 0x32
#define RTC_B_24H 0x02
#define RTC_A_DIVIDER 0x26 /* 32.768 kHz, 1024 Hz periodic rate */
#define RTC_D_VALID 0x80

static uint8_t bcd(int v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static uint8_t rtc_read(unsigned reg)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	switch (reg) {
	case RTC_SEC:
		return bcd(tm.tm_sec);
	case RTC_MIN:
		return bcd(tm.tm_min);
	case RTC_HOUR:
		return bcd(tm.tm_hour);
	case RTC_WDAY:
		return bcd(tm.tm_wday + 1);
	case RTC_MDAY:
		return bcd(tm.tm_mday);
	case RTC_MON:
		return bcd(tm.tm_mon + 1);
	case RTC_YEAR:
		return bcd(tm.tm_year % 100);
	case RTC_CENTURY:
		return bcd(19 + tm.tm_year / 100);
	case RTC_REG_A:
		return RTC_A_DIVIDER;
	case RTC_REG_B:
		return RTC_B_24H;
	case RTC_REG_D:
		return RTC_D_VALID;
	default:
		return 0;
	}
}

/* ---- the run ------------------------------------------------------------------ */

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile sig_atomic_t snap_due;

static void on_snap_timer(int sig)
{
	(void)sig;
	snap_due = 1;
}

/* A periodic SIGUSR1 (-P): KVM_RUN returns EINTR, and a snapshot is tried. */
static void snap_timer(unsigned period_ms)
{
	struct sigaction sa = {.sa_handler = on_snap_timer};
	struct sigevent ev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
	timer_t t;
	struct itimerspec its = {
	    .it_interval = {period_ms / 1000, (long)(period_ms % 1000) * 1000000},
	    .it_value = {period_ms / 1000, (long)(period_ms % 1000) * 1000000},
	};
	sigaction(SIGUSR1, &sa, NULL);
	if (timer_create(CLOCK_MONOTONIC, &ev, &t) < 0 || timer_settime(t, 0, &its, NULL) < 0)
		die("-P: the snapshot timer: %s", strerror(errno));
}

static void report(struct vm *vm, double t0, const char *end)
{
	fflush(stdout);
	if (vm->snapshots)
		snap_report();
	if (vm->verbose)
		fprintf(stderr,
			"%s: %s after %.2f s: %llu exits to user space (I/O %llu, MMIO %llu), "
			"%llu serial bytes\n",
			prog, end, now() - t0, (unsigned long long)vm->exits,
			(unsigned long long)vm->io_exits, (unsigned long long)vm->mmio_exits,
			(unsigned long long)vm->serial_bytes);
}

/* ---- fw_cfg (QEMU's docs/specs/fw_cfg.rst: the I/O-port interface) --------
 * A 16-bit write to the selector port picks an item; each read of the data
 * port gives its next byte, zeros past its end or for an item not offered.
 * Offered: the signature, the interface ID (no DMA), the RAM size (64-bit
 * little endian) and the vCPU count (16-bit, also as the maximum), and an
 * empty file directory (no named files). */
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_CPUS 0x0F
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_ID_TRADITIONAL 1u

static uint8_t fw_cfg_byte(struct vm *vm)
{
	uint32_t off = vm->fw_offset++;
	uint64_t v;
	unsigned len;

	switch (vm->fw_key) {
	case FW_CFG_SIGNATURE:
		return off < 4 ? (uint8_t) "QEMU"[off] : 0;
	case FW_CFG_ID:
		v = FW_CFG_ID_TRADITIONAL, len = 4;
		break;
	case FW_CFG_RAM_SIZE:
		v = vm->mem, len = 8;
		break;
	case FW_CFG_NB_CPUS:
	case FW_CFG_MAX_CPUS:
		v = vm->ncpus, len = 2;
		break;
	default: /* the file directory's count (big endian) is 0 too */
		return 0;
	}
	return off < len ? (uint8_t)(v >> (8 * off)) : 0;
}

static int handle_io(struct vm *vm, struct kvm_run *r, double t0)
{
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	vm->io_exits++;
	for (uint32_t i = 0; i < r->io.count; i++, data += r->io.size) {
		uint16_t port = r->io.port;
		bool out = r->io.direction == KVM_EXIT_IO_OUT;
		if (port >= COM1 && port < COM1 + 8 && r->io.size == 1) {
			if (out)
				uart_out(vm, port - COM1, *data);
			else
				*data = uart_in(vm, port - COM1);
		} else if (port == RTC_INDEX && r->io.size == 1) {
			if (out)
				vm->rtc_index = *data & 0x7F; /* bit 7 masks NMIs */
			else
				*data = vm->rtc_index;
		} else if (port == RTC_DATA && r->io.size == 1) {
			if (!out)
				*data = rtc_read(vm->rtc_index);
		} else if (port == FW_CFG_SEL && out && r->io.size == 2) {
			memcpy(&vm->fw_key, data, 2);
			vm->fw_offset = 0;
		} else if (port == FW_CFG_DATA && !out) {
			for (unsigned b = 0; b < r->io.size; b++)
				data[b] = fw_cfg_byte(vm);
		} else if (port >= EXIT_PORT && port < EXIT_PORT + EXIT_PORTS && out) {
			uint32_t v = 0;
			memcpy(&v, data, r->io.size);
			report(vm, t0, "guest wrote to the exit port");
			return (int)(((v << 1) | 1) & 0xFF);
		} else if (!out) {
			memset(data, 0xFF, r->io.size); /* no device */
		}
	}
	return -1;
}

/* Where the vCPU of @r stopped, for a run that ends in an error: its
 * registers, its mode and the bytes at CS:RIP when they are in RAM. */
static void say_where(struct vm *vm, const struct kvm_run *r)
{
	int fd = vm->vcpu;
	struct kvm_regs g;
	struct kvm_sregs sr;
	struct kvm_vcpu_events ev;

	for (unsigned c = 1; c < vm->ncpus; c++)
		if (r == vm->ap_run[c])
			fd = vm->ap_fd[c];
	if (ioctl(fd, KVM_GET_REGS, &g) < 0 || ioctl(fd, KVM_GET_SREGS, &sr) < 0)
		return;
	bool smm = ioctl(fd, KVM_GET_VCPU_EVENTS, &ev) == 0 && (ev.smi.smm & 1);
	fprintf(stderr,
		"%s: vCPU at rip %#llx (cs %#x base %#llx), rsp %#llx, rflags %#llx, cr0 %#llx, "
		"cr3 %#llx, cr4 %#llx, efer %#llx%s\n",
		prog, (unsigned long long)g.rip, sr.cs.selector, (unsigned long long)sr.cs.base,
		(unsigned long long)g.rsp, (unsigned long long)g.rflags, (unsigned long long)sr.cr0,
		(unsigned long long)sr.cr3, (unsigned long long)sr.cr4, (unsigned long long)sr.efer,
		smm ? ", in SMM" : "");
	for (unsigned i = 0; i < r->internal.ndata && i < 16; i++)
		fprintf(stderr, "%s: internal data[%u] %#llx\n", prog, i,
			(unsigned long long)r->internal.data[i]);
	uint64_t at = sr.cs.base + g.rip;
	if (!(sr.cr0 & 0x80000000u) && at < vm->mem && vm->mem - at >= 16) {
		fprintf(stderr, "%s: bytes at cs:rip:", prog);
		for (unsigned i = 0; i < 16; i++)
			fprintf(stderr, " %02x", vm->ram[at + i]);
		fputc('\n', stderr);
	}
}

/* One exit of a vCPU's KVM_RUN: -1 to run on, else the run's status. */
static int handle_exit(struct vm *vm, struct kvm_run *r, double t0)
{
	int rc = -1;

	pthread_mutex_lock(&vm->io_lock);
	vm->exits++;
	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		rc = handle_io(vm, r, t0);
		break;
	case KVM_EXIT_MMIO:
		vm->mmio_exits++;
		if (!r->mmio.is_write)
			memset(r->mmio.data, 0xFF, sizeof(r->mmio.data));
		break;
	case KVM_EXIT_HLT:
		report(vm, t0, "halted");
		rc = 0;
		break;
	case KVM_EXIT_SHUTDOWN:
		report(vm, t0, "shut down");
		fprintf(stderr, "%s: the guest shut down (triple fault or reset)\n", prog);
		rc = 1;
		break;
	case KVM_EXIT_FAIL_ENTRY:
		die("VM entry failed: hardware reason %#llx",
		    (unsigned long long)r->fail_entry.hardware_entry_failure_reason);
	case KVM_EXIT_INTERNAL_ERROR:
		say_where(vm, r);
		die("KVM internal error %u (1: emulation failed, 2: simultaneous "
		    "exceptions, "
		    "3: delivery event, 4: unexpected exit)",
		    r->internal.suberror);
	case KVM_EXIT_SYSTEM_EVENT:
		report(vm, t0, "system event");
		rc = r->system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN ? 0 : 1;
		break;
	case KVM_EXIT_INTR:
		break;
	default:
		die("unexpected exit reason %u from KVM_RUN", r->exit_reason);
	}
	pthread_mutex_unlock(&vm->io_lock);
	return rc;
}

struct ap {
	struct vm *vm;
	unsigned id;
	double t0;
};

/* An application processor's thread: KVM_RUN (which waits for the
 * guest's SIPI in the kernel) until the run ends, which ends the process. */
static void *ap_thread(void *arg)
{
	struct ap *a = arg;
	struct vm *vm = a->vm;

	for (;;) {
		if (ioctl(vm->ap_fd[a->id], KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("KVM_RUN (vCPU %u): %s", a->id, strerror(errno));
		}
		int rc = handle_exit(vm, vm->ap_run[a->id], a->t0);
		if (rc >= 0) {
			fflush(stdout);
			exit(rc);
		}
	}
	return NULL;
}

static int vm_run(struct vm *vm, unsigned timeout)
{
	double t0 = now();
	static struct ap aps[MAX_VCPUS];
	sigset_t block, old;

	if (timeout) {
		struct sigaction sa = {.sa_handler = on_alarm};
		sigaction(SIGALRM, &sa, NULL);
		alarm(timeout);
	}
	/* The timers' signals (-t, -P) are the bootstrap processor's thread's. */
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	sigaddset(&block, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (unsigned c = 1; c < vm->ncpus; c++) {
		pthread_t t;
		aps[c] = (struct ap){vm, c, t0};
		if (pthread_create(&t, NULL, ap_thread, &aps[c]) != 0)
			die("cannot start vCPU %u's thread", c);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (;;) {
		if (snap_due) {
			snap_due = 0;
			snap_round();
		}
		if (ioctl(vm->vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR && timed_out) {
				report(vm, t0, "timed out");
				fprintf(stderr, "%s: the guest did not finish within %u s (-t)\n",
					prog, timeout);
				return 124;
			}
			if (errno == EINTR || errno == EAGAIN)
				continue;
			die("KVM_RUN: %s", strerror(errno));
		}
		int rc = handle_exit(vm, vm->run, t0);
		if (rc >= 0)
			return rc;
	}
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: %s [-v] [-c CPUS] [-f MODEL] [-m MIB] [-t SECONDS] [-a CMDLINE] [-i FILE]...\n"
	    "       [-S FILE [-N COUNT] [-P MS] [-x CLASS]] KERNEL\n"
	    "  KERNEL      a Linux bzImage or a multiboot kernel (ELF or a.out kludge)\n"
	    "  -a CMDLINE  the kernel's command line\n"
	    "  -i FILE     a bzImage's initrd, or a multiboot kernel's module (up to %d,\n"
	    "              in order; its name is its string)\n"
	    "  -f MODEL    CPUID features taken away: \"-NAME\" words of a QEMU-style\n"
	    "              model (\"max,+svm,-rdtscp,-xsave\"; other words are passed over)\n"
	    "  -c CPUS     vCPUs, 1 to %d (default 1): the others wait for the\n"
	    "              guest's INIT-SIPI-SIPI; an MP table names them\n"
	    "  -m MIB      guest RAM, default %d, at most %d\n"
	    "  -t SECONDS  stop the guest after this long (status 124)\n"
	    "  -v          say what was loaded and count the exits\n"
	    "  -S FILE     nested-state snapshots through libnest while the guest runs\n"
	    "              a guest of its own (KVM's nested SVM): KVM's state checked\n"
	    "              and converted by libnest, written to FILE in libnest's\n"
	    "              format, read back and given back to KVM\n"
	    "  -N COUNT    at most COUNT snapshots (default %d)\n"
	    "  -P MS       one attempt every MS milliseconds (default %d)\n"
	    "  -x CLASS    tamper the first snapshot (CLASS: -x help): libnest must\n"
	    "              refuse it, and the run stops before KVM sees it\n"
	    "The guest's COM1 goes to standard output; its write of v to port 0xF4\n"
	    "ends the run with status (v << 1) | 1.\n",
	    prog, MAX_MODULES, MAX_VCPUS, DEFAULT_MEM_MIB, MAX_MEM_MIB, SNAP_MAX, SNAP_PERIOD_MS);
}

int main(int argc, char **argv)
{
	struct vm vm = {.uart.line = -1, .ncpus = 1, .io_lock = PTHREAD_MUTEX_INITIALIZER};
	const char *cmdline = "", *files[MAX_MODULES];
	unsigned nfiles = 0;
	unsigned long mem_mib = DEFAULT_MEM_MIB, timeout = 0;
	struct snap_opts so = {.max = SNAP_MAX, .period_ms = SNAP_PERIOD_MS};
	int c;

	while ((c = getopt(argc, argv, "a:c:f:i:m:t:vhS:N:P:x:")) != -1) {
		char *end;
		switch (c) {
		case 'c':
			vm.ncpus = (unsigned)strtoul(optarg, &end, 0);
			if (*end || vm.ncpus < 1 || vm.ncpus > MAX_VCPUS)
				die("-c %s: give 1 to %d vCPUs", optarg, MAX_VCPUS);
			break;
		case 'a':
			cmdline = optarg;
			break;
		case 'f': {
			size_t pos = 0;
			while (next_removed(optarg, &pos)) /* refuse a bad one now */
				;
			vm.features = optarg;
			break;
		}
		case 'i':
			if (nfiles == MAX_MODULES)
				die("-i: at most %d files", MAX_MODULES);
			files[nfiles++] = optarg;
			break;
		case 'm':
			mem_mib = strtoul(optarg, &end, 0);
			if (*end || mem_mib < 4 || mem_mib > MAX_MEM_MIB)
				die("-m %s: give MiB between 4 and %d", optarg, MAX_MEM_MIB);
			break;
		case 't':
			timeout = strtoul(optarg, &end, 0);
			if (*end || timeout > 86400)
				die("-t %s: give seconds", optarg);
			break;
		case 'v':
			vm.verbose = true;
			break;
		case 'S':
			so.path = optarg;
			break;
		case 'N':
			so.max = (unsigned)strtoul(optarg, &end, 0);
			if (*end || so.max == 0)
				die("-N %s: give a number of snapshots", optarg);
			break;
		case 'P':
			so.period_ms = (unsigned)strtoul(optarg, &end, 0);
			if (*end || so.period_ms == 0 || so.period_ms > 60000)
				die("-P %s: give milliseconds, 1 to 60000", optarg);
			break;
		case 'x':
			so.tamper = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (so.tamper && !so.path)
		die("-x needs -S");
	snap_check_opts(&so);
	so.verbose = vm.verbose;
	struct image kernel, mods[MAX_MODULES];
	image_read(&kernel, argv[optind]);
	for (unsigned i = 0; i < nfiles; i++)
		image_read(&mods[i], files[i]);
	/* The image first: a bad one is said before KVM is asked anything. */
	bool is_linux = is_bzimage(&kernel);
	uint64_t hoff;
	const uint8_t *mb = is_linux ? NULL : find_mb_header(&kernel, &hoff);
	if (is_linux && nfiles > 1)
		die("-i: a bzImage takes one initrd");
	if (is_linux)
		check_linux(&kernel);
	else if (!mb)
		die("%s: neither a bzImage nor a multiboot kernel (no header in its first 8 KiB)",
		    kernel.path);
	else if (!(rd32(mb + 4) & MB_AOUT_KLUDGE) && rd32(kernel.data) != 0x464C457F)
		die("%s: neither a bzImage, an ELF file nor an a.out-kludge multiboot image",
		    kernel.path);
	vm_create(&vm, mem_mib * MIB);
	if (vm.ncpus > 1)
		mp_tables(&vm);
	smm_setup(&vm);
	if (so.path) {
		snap_init(&so, vm.vcpu);
		vm.snapshots = true;
	}
	if (is_linux)
		load_linux(&vm, &kernel, cmdline, nfiles ? &mods[0] : NULL);
	else
		load_multiboot(&vm, &kernel, cmdline, mods, nfiles);
	if (so.path)
		snap_timer(so.period_ms);
	return vm_run(&vm, (unsigned)timeout);
}
