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

/* Up to @len bytes of a guest's memory at its linear address @lin into
 * @buf, through its paging (@cr0, @cr4, @efer, @cr3) and the nested table
 * at host-physical @ncr3 (NPT or EPT); returns how many could be read
 * (guest_fetch.c). */
unsigned stub_guest_fetch(uint64_t cr0, uint64_t cr4, uint64_t efer, uint64_t cr3, uint64_t ncr3,
			  uint64_t lin, uint8_t *buf, unsigned len);

/* The value a 32-bit store of @len bytes at @buf writes: MOV r/m32 from a
 * register or an immediate, or MOV moffs32 from EAX, the forms APIC
 * drivers use (segment prefixes and, in 64-bit mode, REX allowed). @gpr:
 * the guest's registers, RAX first. False for any other instruction. */
bool stub_decode_store32(const uint8_t *buf, unsigned len, bool long64, const uint64_t gpr[16],
			 uint32_t *val);

#endif /* STUB_INSN_DECODE_H */
