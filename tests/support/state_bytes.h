/* SPDX-License-Identifier: MIT */
/* Little-endian fields of a saved nested-state stream, for the state tests. */
#ifndef TEST_STATE_BYTES_H
#define TEST_STATE_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void bytes_put32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, sizeof(v));
}

static inline void bytes_put64(uint8_t *b, size_t off, uint64_t v)
{
	memcpy(b + off, &v, sizeof(v));
}

static inline uint32_t bytes_get32(const uint8_t *b, size_t off)
{
	uint32_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

static inline uint64_t bytes_get64(const uint8_t *b, size_t off)
{
	uint64_t v;

	memcpy(&v, b + off, sizeof(v));
	return v;
}

/* The stream a test works on is its S. */
#define put32(off, v) bytes_put32(S, (off), (v))
#define put64(off, v) bytes_put64(S, (off), (v))
#define get32(off) bytes_get32(S, (off))
#define get64(off) bytes_get64(S, (off))

#endif /* TEST_STATE_BYTES_H */
