/* SPDX-License-Identifier: MIT */
/*
 * Internal helpers shared by lib/ and arch/. Never installed.
 *
 * The core is freestanding C11: the only library functions it may call are
 * memcpy, memset and memcmp (through the nest__mem* wrappers below, which
 * compile to builtins). Internal non-static names start with nest__.
 */
#ifndef NEST_INTERNAL_H
#define NEST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nest/nest.h>

#define NEST_INTERNAL __attribute__((visibility("hidden")))
#define NEST_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NEST_UNUSED __attribute__((unused))
#define NEST_LIKELY(x) __builtin_expect(!!(x), 1)
#define NEST_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define NEST_BIT(n) (1ull << (n))
#define NEST_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)

static inline void *nest__memcpy(void *d, const void *s, size_t n)
{
	return __builtin_memcpy(d, s, n);
}

static inline void *nest__memset(void *d, int c, size_t n)
{
	return __builtin_memset(d, c, n);
}

static inline int nest__memcmp(const void *a, const void *b, size_t n)
{
	return __builtin_memcmp(a, b, n);
}

/* Is operation `op` inside the part of the ops table the caller knows, and set? */
#define NEST_BE_HAS(be, op)                                                                        \
	((be)->ops->size >= offsetof(struct nest_backend_ops, op) + sizeof((be)->ops->op) &&       \
	 (be)->ops->op != NULL)

/* Backend calls with the size check folded in; absent ops fail cleanly. */
int nest__be_read(const struct nest_backend *be, uint64_t gpa, void *buf, size_t len);
int nest__be_write(const struct nest_backend *be, uint64_t gpa, const void *buf, size_t len);
int nest__be_cmpxchg(const struct nest_backend *be, uint64_t gpa, uint64_t expected,
		     uint64_t desired, uint64_t *actual);
int nest__be_l1_to_host(const struct nest_backend *be, uint64_t gpa, struct nest_l0_map *out);
/* The VMCS accesses, one per field on the nested hot paths: inline. */
static inline int nest__be_vmcs_read(const struct nest_backend *be, enum nest_vmcs_id which,
				     uint32_t enc, uint64_t *value)
{
	if (!NEST_BE_HAS(be, vmcs_read))
		return NEST_E_MISSING_OP;
	return be->ops->vmcs_read(be->ctx, which, enc, value);
}

static inline int nest__be_vmcs_write(const struct nest_backend *be, enum nest_vmcs_id which,
				      uint32_t enc, uint64_t value)
{
	if (!NEST_BE_HAS(be, vmcs_write))
		return NEST_E_MISSING_OP;
	return be->ops->vmcs_write(be->ctx, which, enc, value);
}
int nest__be_page_alloc(const struct nest_backend *be, uint64_t *hpa, void **hva);
void nest__be_page_free(const struct nest_backend *be, uint64_t hpa, void *hva);
void nest__be_flush(const struct nest_backend *be, uint32_t kind, uint64_t tag, uint64_t addr);
void nest__be_log(const struct nest_backend *be, int level, const char *msg);
bool nest__be_has_guest_rdmsr(const struct nest_backend *be);
int nest__be_guest_rdmsr(const struct nest_backend *be, uint32_t msr, uint64_t *value);
/* Writes to L1 pages tracked by L0 (nest_backend_ops::track_l1_writes). */
bool nest__be_has_track(const struct nest_backend *be);
int nest__be_track(const struct nest_backend *be, const uint64_t *pages, unsigned n);

/* Size-versioned output structs (lib/sized.c): the caller's struct starts
 * with the uint32_t size it was compiled with. nest__copy_out() writes
 * min(that size, src_size) bytes of `src` and keeps the caller's size
 * (NEST_E_SIZE below `min`, nothing written); nest__reset_out() zeroes the
 * same prefix of a struct of `full_size` bytes. */
int nest__copy_out(void *dst, const void *src, size_t src_size, size_t min);
void nest__reset_out(void *dst, size_t full_size);
/* Size-versioned input structs: copy the caller's struct (starting with
 * its uint32_t size) into a zeroed local of the current layout, so fields
 * an older caller does not know read as zero. NEST_E_SIZE below `min`. */
int nest__copy_in(void *dst, size_t dst_size, const void *src, size_t min);

/* The saved-state header (lib/stream.c): a zeroed header with magic,
 * version, @arch and @size; and whether a header read back has them, no
 * reserved bits and no flag outside @flags_all (its size is the caller's
 * to check, which knows its body). */
void nest__state_hdr_init(struct nest_state_header *h, uint32_t arch, uint32_t size);
bool nest__state_hdr_ok(const struct nest_state_header *h, uint32_t arch, uint32_t flags_all);

/* Copy a backend descriptor after validating it. */
int nest__be_init(struct nest_backend *dst, const struct nest_backend *src);

#endif /* NEST_INTERNAL_H */
