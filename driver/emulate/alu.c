// SPDX-License-Identifier: GPL-2.0
/*
 * Arithmetic and logic for instructions whose memory operand is MMIO: the
 * operation is run on the host CPU at the operand size, so the result and
 * the six arithmetic flags are exactly what the guest's CPU would produce
 * (APM vol. 1, 3.1.6 "Flags Register"; vol. 3 for each instruction).
 */
#include "yakvm.h"

#define ALU_FLAGS	(X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | \
			 X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_OF)

/* dst = dst OP src at one operand size; CF is loaded first for ADC/SBB. */
#define ALU2(mnemonic, mod, dst, src, carry, flags)			\
	asm("bt $0, %[c]\n\t"						\
	    mnemonic " %" mod "[s], %" mod "[d]\n\t"			\
	    "pushf\n\t"							\
	    "pop %[f]"							\
	    : [d] "+r" (dst), [f] "=&r" (flags)			\
	    : [s] "r" (src), [c] "r" (carry)				\
	    : "cc")

#define ALU1(mnemonic, mod, dst, flags)				\
	asm(mnemonic " %" mod "[d]\n\t"					\
	    "pushf\n\t"							\
	    "pop %[f]"							\
	    : [d] "+r" (dst), [f] "=&r" (flags)			\
	    : : "cc")

typedef unsigned long (*alu2_fn)(unsigned long *dst, unsigned long src,
				 unsigned long carry, u8 size);
typedef unsigned long (*alu1_fn)(unsigned long *dst, u8 size);

/* alu2_add() and friends: one instruction at each operand size. */
#define DEFINE_ALU2(name)						\
static unsigned long alu2_##name(unsigned long *dst, unsigned long src,	\
				 unsigned long carry, u8 size)		\
{									\
	unsigned long d = *dst, f;					\
									\
	if (size == 1)							\
		ALU2(#name "b", "b", d, src, carry, f);			\
	else if (size == 2)						\
		ALU2(#name "w", "w", d, src, carry, f);			\
	else if (size == 4)						\
		ALU2(#name "l", "k", d, src, carry, f);			\
	else								\
		ALU2(#name "q", "q", d, src, carry, f);			\
	*dst = d;							\
	return f;							\
}

#define DEFINE_ALU1(name)						\
static unsigned long alu1_##name(unsigned long *dst, u8 size)		\
{									\
	unsigned long d = *dst, f;					\
									\
	if (size == 1)							\
		ALU1(#name "b", "b", d, f);				\
	else if (size == 2)						\
		ALU1(#name "w", "w", d, f);				\
	else if (size == 4)						\
		ALU1(#name "l", "k", d, f);				\
	else								\
		ALU1(#name "q", "q", d, f);				\
	*dst = d;							\
	return f;							\
}

DEFINE_ALU2(add)
DEFINE_ALU2(or)
DEFINE_ALU2(adc)
DEFINE_ALU2(sbb)
DEFINE_ALU2(and)
DEFINE_ALU2(sub)
DEFINE_ALU2(xor)
DEFINE_ALU2(cmp)
DEFINE_ALU2(test)
DEFINE_ALU1(inc)
DEFINE_ALU1(dec)
DEFINE_ALU1(not)
DEFINE_ALU1(neg)

static const alu2_fn binary_ops[] = {
	[YAKVM_ALU_ADD] = alu2_add,
	[YAKVM_ALU_OR] = alu2_or,
	[YAKVM_ALU_ADC] = alu2_adc,
	[YAKVM_ALU_SBB] = alu2_sbb,
	[YAKVM_ALU_AND] = alu2_and,
	[YAKVM_ALU_SUB] = alu2_sub,
	[YAKVM_ALU_XOR] = alu2_xor,
	[YAKVM_ALU_CMP] = alu2_cmp,
	[YAKVM_ALU_TEST] = alu2_test,
};

static const alu1_fn unary_ops[] = {
	[YAKVM_ALU_INC] = alu1_inc,
	[YAKVM_ALU_DEC] = alu1_dec,
	[YAKVM_ALU_NOT] = alu1_not,
	[YAKVM_ALU_NEG] = alu1_neg,
};

/* CMP and TEST only set flags. */
bool yakvm_alu_writes(enum yakvm_alu_op op)
{
	return op != YAKVM_ALU_CMP && op != YAKVM_ALU_TEST;
}

/*
 * Computes DST OP SRC (or OP DST) at @size bytes, updates the guest's
 * arithmetic flags as the instruction would, and returns the result.
 */
u64 yakvm_alu(struct yakvm_vcpu *vcpu, enum yakvm_alu_op op, u64 dst, u64 src,
	      u8 size)
{
	u64 *rflags = &vcpu->vmcb->save.rflags;
	unsigned long d = dst, carry = *rflags & X86_EFLAGS_CF, mask = ALU_FLAGS;
	unsigned long flags;

	if (op >= YAKVM_ALU_INC) {
		flags = unary_ops[op](&d, size);
		if (op == YAKVM_ALU_INC || op == YAKVM_ALU_DEC)
			mask &= ~X86_EFLAGS_CF;		/* INC/DEC keep CF */
		else if (op == YAKVM_ALU_NOT)
			mask = 0;			/* NOT sets no flag */
	} else {
		flags = binary_ops[op](&d, src, carry, size);
	}
	*rflags = (*rflags & ~mask) | (flags & mask);
	return d;
}
