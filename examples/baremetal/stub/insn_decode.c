/* SPDX-License-Identifier: MIT */
/*
 * The length of an x86 instruction from its bytes (AMD64 Vol. 3, chapter 1
 * and appendix A): legacy prefixes, REX, the one-byte, 0F, 0F 38 and 0F 3A
 * opcode maps with their ModRM, SIB, displacement and immediate. VEX, XOP
 * and EVEX forms give 0 (no intercepted instruction uses them). Pure code,
 * shared by the stub (insnlen.c) and its host test
 * (tests/unit/test_stub_insn_decode.c).
 */
#include "insn_decode.h"

/* One bit per opcode: 1 = has a ModRM byte (one-byte map, 0F map). */
static const uint32_t modrm1[8] = {
    0x0F0F0F0F, 0x0F0F0F0F, /* 00-3F: the ALU rows' first four */
    0x00000000, 0x00000A0C, /* 62 63 69 6B */
    0x0000FFFF, 0x00000000, /* 80-8F */
    0xFF0F00F3, 0xC0C00000, /* C0 C1 C4-C7 D0-D3 D8-DF; F6 F7 FE FF */
};
static const uint32_t modrm2[8] = {
    0xFFFFA00F, 0x0000FFFF, /* 00-03 0D 0F 10-1F; 20-2F */
    0xFFFFFFFF, 0xFF7FFFFF, /* 40-5F; 60-7F but 77 */
    0xFFFF0000, 0xFFFFF8F8, /* 90-9F; A0-BF but A0-A2 A8-AA */
    0xFFFF00FF, 0xFFFFFFFF, /* C0-C7 D0-DF; E0-FF */
};

static bool bit(const uint32_t *map, uint8_t op)
{
	return (map[op / 32] >> (op % 32)) & 1u;
}

/* Bytes of ModRM, SIB and displacement from @p (ModRM first), or 0. */
static unsigned modrm_len(const uint8_t *p, unsigned left, unsigned addr_size)
{
	uint8_t m, mod, rm;
	unsigned n = 1;

	if (left < 1)
		return 0;
	m = p[0];
	mod = m >> 6;
	rm = m & 7;
	if (mod == 3)
		return 1;
	if (addr_size == 2) {
		if (mod == 1)
			return 2;
		return (mod == 2 || rm == 6) ? 3 : 1;
	}
	if (rm == 4) {
		if (left < 2)
			return 0;
		n++;
		if (mod == 0 && (p[1] & 7) == 5)
			return n + 4;
	}
	if (mod == 1)
		return n + 1;
	if (mod == 2 || (mod == 0 && rm == 5))
		return n + 4;
	return n;
}

/* Immediate bytes of a one-byte opcode (after ModRM, whose reg is @reg). */
static unsigned imm1(uint8_t op, uint8_t reg, unsigned osz, unsigned asz, bool rex_w)
{
	unsigned z = osz == 2 ? 2 : 4;

	if (op < 0x40 && (op & 7) == 4)
		return 1;
	if (op < 0x40 && (op & 7) == 5)
		return z;
	switch (op) {
	case 0x6A:
	case 0x6B:
	case 0x80:
	case 0x82:
	case 0x83:
	case 0xA8:
	case 0xC0:
	case 0xC1:
	case 0xC6:
	case 0xCD:
	case 0xD4:
	case 0xD5:
	case 0xEB:
		return 1;
	case 0x68:
	case 0x69:
	case 0x81:
	case 0xA9:
	case 0xC7:
	case 0xE8:
	case 0xE9:
		return z;
	case 0xC2:
	case 0xCA:
		return 2;
	case 0xC8:
		return 3;
	case 0x9A:
	case 0xEA:
		return z + 2;
	case 0xA0:
	case 0xA1:
	case 0xA2:
	case 0xA3:
		return asz;
	case 0xF6:
		return reg < 2 ? 1 : 0;
	case 0xF7:
		return reg < 2 ? z : 0;
	default:
		break;
	}
	if ((op >= 0x70 && op <= 0x7F) || (op >= 0xB0 && op <= 0xB7) || (op >= 0xE0 && op <= 0xE7))
		return 1;
	if (op >= 0xB8 && op <= 0xBF)
		return rex_w ? 8 : z;
	return 0;
}

/* Immediate bytes of a 0F opcode. */
static unsigned imm2(uint8_t op, unsigned osz)
{
	if (op >= 0x80 && op <= 0x8F)
		return osz == 2 ? 2 : 4;
	switch (op) {
	case 0x0F:
	case 0x70:
	case 0x71:
	case 0x72:
	case 0x73:
	case 0xA4:
	case 0xAC:
	case 0xBA:
	case 0xC2:
	case 0xC4:
	case 0xC5:
	case 0xC6:
		return 1;
	default:
		return 0;
	}
}

static unsigned decode(const uint8_t *p, unsigned left, bool long64, bool def32)
{
	unsigned n = 0, osz = def32 ? 4 : 2, asz = long64 ? 8 : def32 ? 4 : 2, m;
	bool rex_w = false;
	uint8_t op;

	for (;; n++) {
		if (n >= left)
			return 0;
		op = p[n];
		if (op == 0x66)
			osz = def32 || long64 ? 2 : 4;
		else if (op == 0x67)
			asz = long64 ? 4 : def32 ? 2 : 4;
		else if (op == 0xF0 || op == 0xF2 || op == 0xF3 || op == 0x2E || op == 0x36 ||
			 op == 0x3E || op == 0x26 || op == 0x64 || op == 0x65)
			continue;
		else if (long64 && (op & 0xF0) == 0x40)
			rex_w = op & 8;
		else
			break;
	}
	if (rex_w)
		osz = 8;
	n++;
	if (op == 0x0F) {
		if (n >= left)
			return 0;
		op = p[n++];
		if (op == 0x38 || op == 0x3A) {
			unsigned imm = op == 0x3A ? 1 : 0;

			if (++n > left) /* the third opcode byte */
				return 0;
			m = modrm_len(p + n, left - n, asz);
			return m ? n + m + imm : 0;
		}
		m = bit(modrm2, op) ? modrm_len(p + n, left - n, asz) : 0;
		if (bit(modrm2, op) && !m)
			return 0;
		return n + m + imm2(op, osz);
	}
	/* VEX, XOP, EVEX: C4, C5, 8F and 62 as prefixes (in 64-bit mode, or
	 * with a register ModRM outside it). */
	if ((op == 0xC4 || op == 0xC5 || op == 0x62) && (long64 || (n < left && p[n] >= 0xC0)))
		return 0;
	if (op == 0x8F && n < left && (p[n] & 0x38) != 0)
		return 0;
	if (bit(modrm1, op)) {
		m = modrm_len(p + n, left - n, asz);
		if (!m)
			return 0;
		return n + m + imm1(op, (p[n] >> 3) & 7, osz, asz, rex_w);
	}
	return n + imm1(op, 0, osz, asz, rex_w);
}

unsigned stub_insn_decode(const uint8_t *p, unsigned left, bool long64, bool def32)
{
	unsigned len = decode(p, left, long64, def32);

	return len <= left ? len : 0;
}
