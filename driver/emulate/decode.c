// SPDX-License-Identifier: GPL-2.0
/*
 * A small x86 decoder for the instructions yakvm must emulate without
 * decode assists (QEMU's SVM has none): the MOV forms that reach MMIO, MOV
 * to/from debug registers, and the prefixes of any intercepted instruction
 * (AMD APM vol. 3, chapter 1 "Instruction Encoding").  It works only on a
 * private copy of the bytes, never on guest memory, so a guest rewriting its
 * code concurrently can change what is decoded but not how safely.
 */
#include "yakvm.h"

#define REX_W	0x08
#define REX_R	0x04
#define REX_B	0x01

static void default_sizes(struct yakvm_vcpu *vcpu, struct yakvm_insn *insn)
{
	if (yakvm_64bit_code(vcpu)) {
		insn->opsize = 4;
		insn->addr_size = 8;
	} else if (vcpu->vmcb->save.cs.attrib & SVM_SELECTOR_DB_MASK) {
		insn->opsize = 4;
		insn->addr_size = 4;
	} else {
		insn->opsize = 2;
		insn->addr_size = 2;
	}
}

static int segment_prefix(u8 b)
{
	switch (b) {
	case 0x26: return YAKVM_SEG_ES;
	case 0x2e: return YAKVM_SEG_CS;
	case 0x36: return YAKVM_SEG_SS;
	case 0x3e: return YAKVM_SEG_DS;
	case 0x64: return YAKVM_SEG_FS;
	case 0x65: return YAKVM_SEG_GS;
	default: return -1;
	}
}

/* Legacy prefixes, then REX in 64-bit mode; sets the effective sizes. */
int yakvm_decode_prefixes(struct yakvm_vcpu *vcpu, struct yakvm_insn *insn)
{
	bool mode64 = yakvm_64bit_code(vcpu);
	bool opsize_override = false, addr_override = false;
	unsigned int i;

	default_sizes(vcpu, insn);
	insn->seg = -1;
	insn->rex = 0;
	insn->rep = false;
	for (i = 0; i < insn->len; i++) {
		u8 b = insn->bytes[i];
		int seg = segment_prefix(b);

		if (seg >= 0) {
			insn->seg = seg;
		} else if (b == 0x66) {
			opsize_override = true;
		} else if (b == 0x67) {
			addr_override = true;
		} else if (b == 0xf2 || b == 0xf3) {
			insn->rep = true;
		} else if (b == 0xf0) {
			/* LOCK */
		} else if (mode64 && (b & 0xf0) == 0x40) {
			insn->rex = b;
			/* REX counts only directly before the opcode. */
			if (i + 1 < insn->len) {
				u8 next = insn->bytes[i + 1];

				if (segment_prefix(next) >= 0 || next == 0x66 ||
				    next == 0x67 || next == 0xf0 ||
				    next == 0xf2 || next == 0xf3)
					insn->rex = 0;
			}
		} else {
			break;
		}
	}
	if (i >= insn->len)
		return -EINVAL;
	insn->prefix_len = i;

	if (insn->rex & REX_W)
		insn->opsize = 8;
	else if (opsize_override)
		insn->opsize = insn->opsize == 2 ? 4 : 2;
	if (addr_override && mode64)
		insn->addr_size = 4;
	else if (addr_override)
		insn->addr_size = insn->addr_size == 4 ? 2 : 4;
	return 0;
}

/* ModRM, SIB and displacement at @p; returns their length or < 0. */
static int decode_modrm(struct yakvm_insn *insn, unsigned int p)
{
	unsigned int n = 1;
	u8 modrm, base;

	if (p >= insn->len)
		return -EINVAL;
	modrm = insn->bytes[p];
	insn->modrm_mod = modrm >> 6;
	insn->modrm_reg = ((modrm >> 3) & 7) | (insn->rex & REX_R ? 8 : 0);
	insn->modrm_rm = (modrm & 7) | (insn->rex & REX_B ? 8 : 0);
	if (insn->modrm_mod == 3)
		return n;

	if (insn->addr_size == 2) {
		if (insn->modrm_mod == 0 && (modrm & 7) == 6)
			n += 2;
		else if (insn->modrm_mod == 1)
			n += 1;
		else if (insn->modrm_mod == 2)
			n += 2;
		return n;
	}
	if ((modrm & 7) == 4) {
		if (p + 1 >= insn->len)
			return -EINVAL;
		base = insn->bytes[p + 1] & 7;
		n += 1;
		if (insn->modrm_mod == 0 && base == 5)
			n += 4;
	}
	if (insn->modrm_mod == 0 && (modrm & 7) == 5)
		n += 4;		/* disp32, or RIP-relative in 64-bit mode */
	else if (insn->modrm_mod == 1)
		n += 1;
	else if (insn->modrm_mod == 2)
		n += 4;
	return n;
}

static u64 read_le(const u8 *p, unsigned int size)
{
	u64 v = 0;
	unsigned int i;

	for (i = 0; i < size; i++)
		v |= (u64)p[i] << (8 * i);
	return v;
}

/* The byte register named @reg: AH/CH/DH/BH only without a REX prefix. */
static void set_byte_reg(struct yakvm_insn *insn, u8 reg)
{
	insn->reg = reg;
	insn->high_byte = !insn->rex && reg >= 4 && reg < 8;
	if (insn->high_byte)
		insn->reg = reg - 4;
}

static int decode_mov_modrm(struct yakvm_insn *insn, unsigned int p, u8 op)
{
	int n = decode_modrm(insn, p);

	if (n < 0 || insn->modrm_mod == 3)
		return -EINVAL;	/* a register operand never faults on MMIO */
	insn->len = p + n;

	switch (op) {
	case 0x88:		/* MOV r/m8, r8 */
	case 0x8a:		/* MOV r8, r/m8 */
		insn->write = op == 0x88;
		insn->mem_size = 1;
		insn->dest_size = 1;
		set_byte_reg(insn, insn->modrm_reg);
		return 0;
	case 0x89:		/* MOV r/m, r */
	case 0x8b:		/* MOV r, r/m */
		insn->write = op == 0x89;
		insn->mem_size = insn->opsize;
		insn->dest_size = insn->opsize;
		insn->reg = insn->modrm_reg;
		return 0;
	case 0xc6:		/* MOV r/m8, imm8 */
	case 0xc7:		/* MOV r/m, imm16/32 */
		if ((insn->modrm_reg & 7) != 0)
			return -EINVAL;
		insn->write = true;
		insn->use_imm = true;
		insn->mem_size = op == 0xc6 ? 1 : insn->opsize;
		n = min_t(int, insn->mem_size, 4);
		if (insn->len + n > sizeof(insn->bytes))
			return -EINVAL;
		insn->imm = read_le(insn->bytes + insn->len, n);
		if (insn->mem_size == 8)
			insn->imm = (s64)(s32)insn->imm;
		insn->len += n;
		return 0;
	}
	return -EINVAL;
}

static int decode_movsxd(struct yakvm_insn *insn, unsigned int p)
{
	/*
	 * 63 /r in 64-bit mode: MOVSXD r64, r/m32 with REX.W; without it a
	 * plain 32- or 16-bit load (APM vol. 3, MOVSXD).
	 */
	int n = decode_modrm(insn, p);

	if (n < 0 || insn->modrm_mod == 3)
		return -EINVAL;
	insn->len = p + n;
	insn->write = false;
	insn->mem_size = insn->opsize == 8 ? 4 : insn->opsize;
	insn->dest_size = insn->opsize;
	insn->sign_extend = insn->opsize == 8;
	insn->reg = insn->modrm_reg;
	return 0;
}

static int decode_xchg(struct yakvm_insn *insn, unsigned int p, u8 op)
{
	/* 86/87 /r: XCHG r/m, r -- a load, then a store of the old register. */
	int n = decode_modrm(insn, p);

	if (n < 0 || insn->modrm_mod == 3)
		return -EINVAL;
	insn->len = p + n;
	insn->write = false;
	insn->exchange = true;
	insn->mem_size = op == 0x86 ? 1 : insn->opsize;
	insn->dest_size = insn->mem_size;
	if (op == 0x86)
		set_byte_reg(insn, insn->modrm_reg);
	else
		insn->reg = insn->modrm_reg;
	return 0;
}

/* Operation of the ALU opcode groups: /digit of 80/81/83, or opcode bits 5:3. */
static const enum yakvm_alu_op alu_group1[8] = {
	YAKVM_ALU_ADD, YAKVM_ALU_OR, YAKVM_ALU_ADC, YAKVM_ALU_SBB,
	YAKVM_ALU_AND, YAKVM_ALU_SUB, YAKVM_ALU_XOR, YAKVM_ALU_CMP,
};

static int decode_imm(struct yakvm_insn *insn, unsigned int size, bool sext8)
{
	if (insn->len + size > sizeof(insn->bytes))
		return -EINVAL;
	insn->imm = read_le(insn->bytes + insn->len, size);
	if (sext8)
		insn->imm = (s64)(s8)insn->imm;
	else if (size == 4)
		insn->imm = (s64)(s32)insn->imm;	/* imm32 sign-extends to 64 */
	insn->len += size;
	insn->use_imm = true;
	return 0;
}

/*
 * ALU instructions with a memory operand (APM vol. 3, "General-Purpose
 * Instruction Reference"): 00-3B (op r/m,r and op r,r/m), 80/81/83 (op
 * r/m,imm), 84/85 and F6/F7 /0 (TEST), F6/F7 /2 /3 (NOT, NEG), FE/FF /0 /1
 * (INC, DEC).  The MMIO operand is read first; the result goes to a
 * register or back to memory (alu.c).
 */
static int decode_alu(struct yakvm_insn *insn, unsigned int p, u8 op)
{
	bool byte_op = !(op & 1);
	unsigned int imm_size;
	int n = decode_modrm(insn, p);
	u8 digit;

	if (n < 0 || insn->modrm_mod == 3)
		return -EINVAL;
	insn->len = p + n;
	insn->write = false;
	insn->mem_size = byte_op ? 1 : insn->opsize;
	insn->dest_size = insn->mem_size;
	imm_size = byte_op ? 1 : min_t(unsigned int, insn->opsize, 4);
	digit = insn->modrm_reg & 7;
	if (op < 0x40) {			/* op r/m,r or op r,r/m */
		insn->alu = alu_group1[(op >> 3) & 7];
		insn->alu_to_memory = !(op & 2);
		if (byte_op)
			set_byte_reg(insn, insn->modrm_reg);
		else
			insn->reg = insn->modrm_reg;
		return 0;
	}
	if (op == 0x84 || op == 0x85) {		/* TEST r/m,r */
		insn->alu = YAKVM_ALU_TEST;
		if (byte_op)
			set_byte_reg(insn, insn->modrm_reg);
		else
			insn->reg = insn->modrm_reg;
		return 0;
	}
	if (op >= 0x80 && op <= 0x83) {		/* op r/m,imm */
		insn->alu = alu_group1[digit];
		insn->alu_to_memory = true;
		insn->mem_size = op == 0x80 ? 1 : insn->opsize;
		insn->dest_size = insn->mem_size;
		return op == 0x83 ? decode_imm(insn, 1, true) :
		       decode_imm(insn, op == 0x80 ? 1 : imm_size, false);
	}
	if (op == 0xf6 || op == 0xf7) {
		if (digit == 0) {
			insn->alu = YAKVM_ALU_TEST;
			return decode_imm(insn, imm_size, false);
		}
		if (digit != 2 && digit != 3)
			return -EOPNOTSUPP;	/* MUL/DIV: not for MMIO */
		insn->alu = digit == 2 ? YAKVM_ALU_NOT : YAKVM_ALU_NEG;
		insn->alu_to_memory = true;
		return 0;
	}
	if ((op == 0xfe || op == 0xff) && digit <= 1) {
		insn->alu = digit ? YAKVM_ALU_DEC : YAKVM_ALU_INC;
		insn->alu_to_memory = true;
		return 0;
	}
	return -EOPNOTSUPP;
}

/*
 * MOVS (A4/A5), STOS (AA/AB) and LODS (AC/AD), with or without REP: one
 * element per MMIO exit (memcpy_toio, memset_io and friends use them).
 */
static int decode_string(struct yakvm_insn *insn, unsigned int p, u8 op)
{
	insn->len = p;
	insn->string_op = op;
	insn->mem_size = (op & 1) ? insn->opsize : 1;
	insn->dest_size = insn->mem_size;
	insn->write = op == 0xaa || op == 0xab;
	insn->reg = YAKVM_RAX;
	return 0;
}

static bool is_alu_opcode(u8 op)
{
	return (op < 0x40 && (op & 7) < 4) || (op >= 0x80 && op <= 0x85) ||
	       op == 0xf6 || op == 0xf7 || op == 0xfe || op == 0xff;
}

static int decode_moffs(struct yakvm_insn *insn, unsigned int p, u8 op)
{
	/* A0-A3: MOV between rAX and a direct address of address-size bytes. */
	insn->len = p + insn->addr_size;
	insn->write = op >= 0xa2;
	insn->mem_size = (op & 1) ? insn->opsize : 1;
	insn->dest_size = insn->mem_size;
	insn->reg = YAKVM_RAX;
	return 0;
}

static int decode_movx(struct yakvm_insn *insn, unsigned int p, u8 op)
{
	/* 0F B6/B7 MOVZX, 0F BE/BF MOVSX: loads widened to the operand size. */
	int n = decode_modrm(insn, p);

	if (n < 0 || insn->modrm_mod == 3)
		return -EINVAL;
	insn->len = p + n;
	insn->write = false;
	insn->mem_size = (op & 1) ? 2 : 1;
	insn->dest_size = insn->opsize;
	insn->sign_extend = op >= 0xbe;
	insn->reg = insn->modrm_reg;
	return 0;
}

/*
 * The MOV family that compilers and drivers use for MMIO (MOV, MOVZX,
 * MOVSX, MOVSXD), XCHG, ALU instructions with a memory operand, and the
 * MOVS/STOS/LODS string instructions.
 * Anything else is rejected, and the caller reports the bytes to user space.
 */
int yakvm_decode_mov(struct yakvm_vcpu *vcpu, struct yakvm_insn *insn)
{
	unsigned int fetched = insn->len, p;
	int r;
	u8 op;

	r = yakvm_decode_prefixes(vcpu, insn);
	if (r)
		return r;
	p = insn->prefix_len;
	op = insn->bytes[p];
	if (op == 0x88 || op == 0x89 || op == 0x8a || op == 0x8b ||
	    op == 0xc6 || op == 0xc7)
		r = decode_mov_modrm(insn, p + 1, op);
	else if (op >= 0xa0 && op <= 0xa3)
		r = decode_moffs(insn, p + 1, op);
	else if (op == 0x63 && yakvm_64bit_code(vcpu))
		r = decode_movsxd(insn, p + 1);
	else if (op == 0x86 || op == 0x87)
		r = decode_xchg(insn, p + 1, op);
	else if (is_alu_opcode(op))
		r = decode_alu(insn, p + 1, op);
	else if (op == 0xa4 || op == 0xa5 || (op >= 0xaa && op <= 0xad))
		r = decode_string(insn, p + 1, op);
	else if (op == 0x0f && p + 1 < fetched &&
		 (insn->bytes[p + 1] == 0xb6 || insn->bytes[p + 1] == 0xb7 ||
		  insn->bytes[p + 1] == 0xbe || insn->bytes[p + 1] == 0xbf))
		r = decode_movx(insn, p + 2, insn->bytes[p + 1]);
	else
		r = -EOPNOTSUPP;
	if (!r && insn->len > fetched)
		r = -EINVAL;	/* the instruction runs past what was readable */
	if (r)
		insn->len = fetched;
	return r;
}

/* 0F 21 /r (MOV reg, DRn) and 0F 23 /r (MOV DRn, reg). */
/* MOV to or from a control (0F 20/22) or debug register (0F 21/23). */
static int decode_mov_special(struct yakvm_vcpu *vcpu, struct yakvm_insn *insn,
			      u8 from, u8 to)
{
	unsigned int p;
	int r;

	r = yakvm_decode_prefixes(vcpu, insn);
	if (r)
		return r;
	p = insn->prefix_len;
	if (p + 2 >= insn->len || insn->bytes[p] != 0x0f ||
	    (insn->bytes[p + 1] != from && insn->bytes[p + 1] != to))
		return -EINVAL;
	r = decode_modrm(insn, p + 2);
	if (r < 0)
		return r;
	/* The ModRM mod field is ignored: the operand is always a register. */
	insn->len = p + 3;
	return 0;
}

int yakvm_decode_mov_dr(struct yakvm_vcpu *vcpu, struct yakvm_insn *insn)
{
	return decode_mov_special(vcpu, insn, 0x21, 0x23);
}

int yakvm_decode_mov_cr(struct yakvm_vcpu *vcpu, struct yakvm_insn *insn)
{
	return decode_mov_special(vcpu, insn, 0x20, 0x22);
}
