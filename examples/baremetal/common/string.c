/* SPDX-License-Identifier: MIT */
/* The few C library string functions a freestanding kernel needs. */
#include "bm.h"

/*
 * Eight bytes at a time where the addresses allow it: the stub and its
 * guests run on emulators that pay per instruction (QEMU's TCG, Bochs),
 * and the stub copies whole VMCBs and pages on its hot paths.
 */
typedef uint64_t __attribute__((may_alias)) bm_word;

static bool both_aligned(const void *a, const void *b)
{
	return (((uintptr_t)a | (uintptr_t)b) & 7) == 0;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	if ((((uintptr_t)dp ^ (uintptr_t)sp) & 7) == 0) {
		for (; n && ((uintptr_t)dp & 7); n--)
			*dp++ = *sp++;
		for (; n >= 8; n -= 8, dp += 8, sp += 8)
			*(bm_word *)dp = *(const bm_word *)sp;
	}
	while (n--)
		*dp++ = *sp++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	if (dp < sp || dp >= sp + n)
		return memcpy(d, s, n);
	while (n--)
		dp[n] = sp[n];
	return d;
}

void *memset(void *d, int c, size_t n)
{
	unsigned char *dp = d;
	bm_word w = 0x0101010101010101ull * (unsigned char)c;

	for (; n && ((uintptr_t)dp & 7); n--)
		*dp++ = (unsigned char)c;
	for (; n >= 8; n -= 8, dp += 8)
		*(bm_word *)dp = w;
	while (n--)
		*dp++ = (unsigned char)c;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *ap = a, *bp = b;
	size_t i = 0;

	if (both_aligned(ap, bp))
		while (i + 8 <= n && *(const bm_word *)(ap + i) == *(const bm_word *)(bp + i))
			i += 8;
	for (; i < n; i++)
		if (ap[i] != bp[i])
			return ap[i] < bp[i] ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i])
			return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
		if (!a[i])
			break;
	}
	return 0;
}

int strcmp(const char *a, const char *b)
{
	return strncmp(a, b, SIZE_MAX);
}

uint64_t bm_strtou64(const char *s, const char **end)
{
	uint64_t v = 0;
	unsigned base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (;; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			break;
		v = v * base + d;
	}
	if (end)
		*end = s;
	return v;
}
