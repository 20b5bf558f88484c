/* SPDX-License-Identifier: MIT */
/* The L0 stub: state shared by its parts. */
#ifndef STUB_H
#define STUB_H

#include <nest/svm.h>

#include "bm.h"
#include "svm_hw.h"

/* L1's guest-physical layout below 1 MiB (the PC's, as QEMU's BIOS leaves it). */
#define L1_LOW_RAM_END 0xA0000ull /* conventional memory */
#define L1_EBDA_START 0x9FC00ull  /* reported reserved, as on the host */
#define L1_BIOS_START 0xF0000ull  /* reported reserved, as on the host */
#define L1_HIGH_START 0x100000ull /* extended memory */
#define FOUR_GIB 0x100000000ull
#define TWO_MIB 0x200000ull

/* NPT entry bits: x86-64 long-mode paging format (APM 15.25.5, 5.3). */
#define NPT_P (1ull << 0)
#define NPT_RW (1ull << 1)
#define NPT_US (1ull << 2) /* nested walks are user accesses: always set */
#define NPT_PWT (1ull << 3)
#define NPT_PCD (1ull << 4)
#define NPT_PS (1ull << 7)
#define NPT_ADDR_MASK 0x000FFFFFFFFFF000ull
/* EPT leaf memory type (SDM 29.3.7), for EPT01 in the same tables. */
#define STUB_EPT_MT_SHIFT 3
#define STUB_EPT_MT_BITS 7u

/* QEMU's fw_cfg I/O ports (QEMU docs/specs/fw_cfg.rst). */
#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_PIO_PORTS 2
#define FW_CFG_PORT_DMA 0x514
#define FW_CFG_DMA_PORTS 8

#define STUB_MAX_L1_MMAP 32
#define STUB_MAX_MODULES 16

struct stub_stats {
	uint64_t l0_exits;	 /* every #VMEXIT the stub handled */
	uint64_t l1_exits;	 /* ... while running L1 */
	uint64_t l2_exits;	 /* ... while running L2 */
	uint64_t l2_reflected;	 /* L2 exits handed to L1 */
	uint64_t l2_handled;	 /* L2 exits L0 handled without L1 */
	uint64_t vmruns;	 /* L1 VMRUNs emulated */
	uint64_t vmrun_failed;	 /* ... that failed their checks (VMEXIT_INVALID to L1) */
	uint64_t transitions;	 /* calls into libnest */
	uint64_t nest_cycles;	 /* TSC cycles spent inside libnest */
	uint64_t by_code[0x100]; /* L1 exits by exit code (below 0x100) */
};

struct stub {
	/* L1's memory: guest-physical [0, l1_size) backed by host [l1_host, ...). */
	uint64_t l1_host;
	uint64_t l1_size;
	/* Pages of L1 have moved (l1move.c): the host page of a guest-physical
	 * page is NPT01's/EPT01's, no longer l1_host + gpa. */
	bool l1_moved;
	/*
	 * PML4 of L0's map of L1 (NPT01, or EPT01 on VMX: both are 4-level
	 * radix tables with the same layout; a non-leaf entry with bits 2:0
	 * set is present and grants everything in either format).
	 */
	uint64_t *npt01;
	/* Leaf flags of that map for L1's RAM and for devices passed through. */
	uint64_t map_ram, map_dev;
	bool ept; /* the map is EPT01 (VMX): memory type in bits 5:3 */
	/* What L1 is told about its memory (multiboot and fw_cfg). */
	struct mb_mmap_entry l1_mmap[STUB_MAX_L1_MMAP];
	unsigned l1_mmap_count;

	uint8_t *vmcb01;
	uint8_t *host_save;
	uint8_t *iopm;
	uint8_t *msrpm;
	struct nest_svm_regs regs; /* the running guest's general registers */
	bool in_l2;
	bool l1_novgif; /* command line "novgif": L1 without hardware vGIF */
	bool l1_posted; /* command line "posted" (VMX): offer L1 posted interrupts */
	struct stub_stats stats;
	/* How the figures name L1's entries ("VMRUNs") and their failures
	 * ("refused"), and whether exit codes print in hex. */
	const char *entry_name, *failed_name;
	bool exit_hex;
};
/*
 * One copy per processor the stub runs on (smp.c): an AP starts with a copy
 * of the BSP's, made before L1 starts, so the fields that describe L1's
 * machine (memory, maps, permission maps, names) are the same everywhere
 * and never written afterwards; vmcb01, host_save, regs, in_l2 and stats
 * are the processor's own. Only the SVM stub runs several processors.
 */
#define STUB_MAX_CPUS 8
typedef struct stub stub_state;
extern stub_state stub_cpus[STUB_MAX_CPUS];
/* The index of the processor that runs the caller (0: the BSP). */
unsigned stub_cpu(void) __attribute__((const));
#define stub (stub_cpus[stub_cpu()])
/* Stops every other processor the stub runs on L1 (smp.c): each parks in
 * the stub before its next VMRUN, or stays in its wait for L1's SIPI, so
 * that nothing of L1's runs and no libnest call works for it until
 * smp_resume_others(). For a change of L1's memory that nobody may see
 * half done. False if another processor is stopping them (this one then
 * parks at its next VMRUN); smp_stop_others_wait() parks and tries again
 * until it succeeds. With one processor: nothing to do. */
bool smp_stop_others(void);
void smp_stop_others_wait(void);
void smp_resume_others(void);
/* Pages of L1 have moved: every processor reaches L1's memory through
 * NPT01/EPT01 from now on (stub.l1_moved). */
void stub_mark_l1_moved(void);
/* The processors L1 runs on (its vCPUs): 1 but on the SVM stub with -smp. */
extern unsigned stub_ncpus;

/* Whether a leaf of L0's map of L1 is uncacheable (a device passed through). */
static inline bool stub_map_uc(uint64_t flags)
{
	if (stub.ept)
		return ((flags >> STUB_EPT_MT_SHIFT) & STUB_EPT_MT_BITS) == 0; /* EPT memory type UC */
	return (flags & NPT_PCD) != 0;
}

/* figures.c: the command line ("key=MIB", "flag"), and the figures. */
/* "key=N" on the stub's command line: N, or @dflt; stub_cmdline_mib(): N MiB in bytes. */
uint64_t stub_cmdline_num(const char *cmd, const char *key, uint64_t dflt);
uint64_t stub_cmdline_mib(const char *cmd, const char *key, uint64_t dflt);
bool stub_cmdline_flag(const char *cmd, const char *key);
void stub_print_figures(void);

/* Accounts one call into libnest (cycles and count) around @expr. */
#define NEST_CALL(expr)                                                                            \
	({                                                                                         \
		uint64_t t0_ = rdtsc();                                                            \
		int rc_ = (expr);                                                                  \
		stub.stats.nest_cycles += rdtsc() - t0_;                                           \
		stub.stats.transitions++;                                                          \
		rc_;                                                                               \
	})

/* npt.c */
void npt_map(uint64_t *pml4, uint64_t gpa, uint64_t hpa, uint64_t size, uint64_t flags);
/* Host address and size shift of the NPT01 page that holds @gpa; false if unmapped. */
bool npt_lookup(const uint64_t *pml4, uint64_t gpa, uint64_t *hpa, unsigned *shift,
		uint64_t *flags);
/* Makes the 4 KiB page of @gpa read-only (splitting a 2 MiB page); false if unmapped. */
bool npt_protect(uint64_t *pml4, uint64_t gpa);
/* Host pointer for L1 RAM [gpa, gpa + len), or NULL unless L1 owns it all
 * (once pages have moved, only within one page). */
void *l1_ram_ptr(uint64_t gpa, uint64_t len);
/* The 4 KiB entry mapping @gpa (a 2 MiB mapping split first), or NULL. */
uint64_t *npt_pte(uint64_t *pml4, uint64_t gpa);
/* Calls @leaf for each present leaf of the NPT-format table @pml4 (its host
 * address and size); the number of leaves. Stops early if @leaf returns false. */
uint64_t npt_leaves(const uint64_t *pml4, bool (*leaf)(uint64_t hpa, uint64_t size, void *ctx),
		    void *ctx);
/* nest_backend_ops::track_l1_writes: the pages become read-only in
 * NPT01/EPT01 (the others of the previous set writable again). */
int l1_track_writes(const uint64_t *pages, unsigned n);
/* Is the page of @gpa one of them (a write fault there is L1 writing a
 * bitmap: tell libnest, which makes it writable again)? */
bool l1_tracked(uint64_t gpa);
/* After a change of NPT01/EPT01: flush what the TLB holds of it (each stub). */
void l1_map_flush(void);

/* l1move.c: L0 moves L1's pages while it runs ("move=N": every N L0 exits). */
void l1_move_init(const char *cmdline);
/* Once per L0 exit, before the next VMRUN. */
void l1_move_tick(void);
void l1_move_report(void);
/* The balloon (L1 gives [gpa, gpa + len) back, then takes it again):
 * 0, or STUB_HC_EINVAL if refused. */
uint64_t l1_balloon_give(uint64_t gpa, uint64_t len);
uint64_t l1_balloon_take(uint64_t gpa, uint64_t len);

/* The SVM stub's hypercalls (hypercall.c, examples/baremetal/README.md):
 * CPUID leaves and VMMCALL numbers (RAX; arguments in RBX, RCX; result in
 * RAX, and for STUB_HC_SHRINK_INFO and _STATUS a range in RBX, RCX). */
#define STUB_CPUID_SIGNATURE 0x40000000u /* EBX ECX EDX "libnest stub" */
#define STUB_CPUID_FEATURES 0x40000001u	 /* EAX: STUB_HC_F_* */
#define STUB_HC_F_BALLOON (1u << 0)
#define STUB_HC_F_SHRINK (1u << 1)	  /* L0 may ask for memory back (shrink.c) */
#define STUB_HC_GIVE 0x4C4E0001u	  /* L1 gives [RBX, RBX + RCX) back to L0 */
#define STUB_HC_TAKE 0x4C4E0002u	  /* ... and takes it again (zeroed) */
#define STUB_HC_SHRINK_INFO 0x4C4E0003u	  /* the range L0 may take back, in RBX, RCX */
#define STUB_HC_SHRINK_STATUS 0x4C4E0004u /* RAX a STUB_SHRINK_* state, its range in RBX, RCX */
#define STUB_HC_SHRINK_ACK 0x4C4E0005u	  /* L1 vacated, or took back, [RBX, RBX + RCX) */
#define STUB_HC_EINVAL 1u
/* The states of the shrink (STUB_HC_SHRINK_STATUS). */
#define STUB_SHRINK_NONE 0u	/* nothing asked */
#define STUB_SHRINK_ASKED 1u	/* L0 asks for the range: L1 vacates it, then acknowledges */
#define STUB_SHRINK_REMOVED 2u	/* the range is L0's: L1 must not touch it */
#define STUB_SHRINK_RETURNED 3u /* the range is back (zeroed): L1 acknowledges, then uses it */
void stub_hv_cpuid(uint32_t leaf, uint32_t r[4]);
/* A hypercall of L1's (@rbx, @rcx its arguments, and results for some):
 * false if @nr is none (then VMMCALL is #UD). */
bool stub_hypercall(uint64_t nr, uint64_t *rbx, uint64_t *rcx, uint64_t *ret);

/* shrink.c: L0 takes a range of L1's memory away and gives it back while
 * L2 runs ("shrink=N": every N exits of L2's), SVM only. */
void shrink_init(const char *cmdline);
/* Once per L0 exit, before the next VMRUN (after l1_move_tick()). */
void shrink_tick(void);
void shrink_report(void);
/* Whether L0 may ask for memory back (CPUID STUB_HC_F_SHRINK). */
bool shrink_offered(void);
/* Whether L1's @gpa lies in the range L0 has taken away. */
bool shrink_removed(uint64_t gpa);
/* STUB_HC_SHRINK_INFO, _STATUS, _ACK. */
uint64_t shrink_info(uint64_t *gpa, uint64_t *len);
uint64_t shrink_status(uint64_t *gpa, uint64_t *len);
uint64_t shrink_ack(uint64_t gpa, uint64_t len);
/* Each stub's nesting: L0's map of L1's [gpa, gpa + len) changed. */
void nested_l1_map_changed(uint64_t gpa, uint64_t len);
/* The L1 pages libnest works on now (vmcb12 and L1's NPT12 root, or
 * L1's current VMCS region), up to @max; none unless L2 runs. */
unsigned nested_hot_pages(uint64_t *gpa, unsigned max);
/* Whether the guest the stub runs next is L2. */
bool nested_l2_running(void);

/* l1load.c: loads L1 and its modules, builds its multiboot information. */
/* L1's memory from the stub's command line ("pool=MIB", default 32, and
 * "l1mem=MIB"), with the stub's page pool below it; prints what it set. */
void l1_setup_memory(const struct mb_info *mbi, const char *cmdline);
/* How L1 starts: 32-bit protected mode, paging off, flat segments with
 * these selectors, and these registers (the others zero). */
struct l1_boot {
	uint64_t rip, rax, rbx, rsi;
	uint16_t cs_sel, ds_sel;
};
/* Loads L1 from the first module: a multiboot kernel (its further modules
 * handed on), or a Linux bzImage (the next module its initrd). */
void l1_load(const struct mb_info *mbi, struct l1_boot *boot);

/* linuxboot.c: the Linux/x86 boot protocol. */
bool linux_is_bzimage(const uint8_t *img, uint64_t size);
void linux_load(const uint8_t *img, uint64_t size, const char *cmdline, const uint8_t *initrd,
		uint64_t initrd_len, struct l1_boot *boot);

/* fwcfg.c */
void fwcfg_init(void);
/* Handles an intercepted port access; false if the port is not fw_cfg's. */
bool fwcfg_io(uint16_t port, bool in, unsigned size, uint32_t *val);

#endif /* STUB_H */
