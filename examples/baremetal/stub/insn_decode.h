/* SPDX-License-Identifier: MIT */
/* The length of an x86 instruction from its bytes (insn_decode.c). */
#ifndef STUB_INSN_DECODE_H
#define STUB_INSN_DECODE_H

#include <stdbool.h>
#include <stdint.h>

/* The length of the instruction at @p (@left bytes there) in 64-bit mode
 * (@long64) or with 32-bit (@def32) or 16-bit default operand and address
 * sizes; 0 when it needs more bytes than @left, or is a VEX, XOP or EVEX
 * form. */
unsigned stub_insn_decode(const uint8_t *p, unsigned left, bool long64, bool def32);

#endif /* STUB_INSN_DECODE_H */
