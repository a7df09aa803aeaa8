/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the CPU delivers when a second exception is raised while a first one
 * is being delivered (APM vol. 2 8.2.9 "Double-Fault Exception", table
 * "Double-Fault Conditions").  Exceptions fall into three classes:
 *
 *   benign        every vector not listed below (#DB, NMI, #BP, #OF, #BR,
 *                 #UD, #NM, #MF, #AC, #MC, #XF, ...)
 *   contributory  #DE, #TS, #NP, #SS, #GP
 *   page fault    #PF
 *
 * Two contributory exceptions, or a page fault followed by a contributory
 * exception or another page fault, make a double fault (#DF, error code 0);
 * anything raised while a #DF is being delivered shuts the CPU down (triple
 * fault).  Every other pair is handled serially: the second exception is
 * delivered and the first is lost -- the instruction that raised it runs
 * again after the handler returns and raises it again if it still applies.
 *
 * Kept free of kernel headers: tests/unit/ checks the table in user space.
 */
#ifndef YAKVM_EXCEPTION_MERGE_H
#define YAKVM_EXCEPTION_MERGE_H

#define YAKVM_VEC_DE	0
#define YAKVM_VEC_DF	8
#define YAKVM_VEC_TS	10
#define YAKVM_VEC_NP	11
#define YAKVM_VEC_SS	12
#define YAKVM_VEC_GP	13
#define YAKVM_VEC_PF	14

enum yakvm_exception_class {
	YAKVM_EXC_BENIGN,
	YAKVM_EXC_CONTRIBUTORY,
	YAKVM_EXC_PAGE_FAULT,
	YAKVM_EXC_DOUBLE_FAULT,
};

enum yakvm_merge_result {
	YAKVM_MERGE_SECOND,		/* deliver the second exception */
	YAKVM_MERGE_DOUBLE_FAULT,	/* deliver #DF with error code 0 */
	YAKVM_MERGE_TRIPLE_FAULT,	/* shut down */
};

static inline enum yakvm_exception_class yakvm_exception_class(unsigned int vector)
{
	switch (vector) {
	case YAKVM_VEC_DE:
	case YAKVM_VEC_TS:
	case YAKVM_VEC_NP:
	case YAKVM_VEC_SS:
	case YAKVM_VEC_GP:
		return YAKVM_EXC_CONTRIBUTORY;
	case YAKVM_VEC_PF:
		return YAKVM_EXC_PAGE_FAULT;
	case YAKVM_VEC_DF:
		return YAKVM_EXC_DOUBLE_FAULT;
	default:
		return YAKVM_EXC_BENIGN;
	}
}

/* @first was being delivered when @second was raised. */
static inline enum yakvm_merge_result yakvm_merge_exceptions(unsigned int first,
							     unsigned int second)
{
	enum yakvm_exception_class a = yakvm_exception_class(first);
	enum yakvm_exception_class b = yakvm_exception_class(second);

	if (a == YAKVM_EXC_DOUBLE_FAULT)
		return YAKVM_MERGE_TRIPLE_FAULT;
	if (a == YAKVM_EXC_CONTRIBUTORY && b == YAKVM_EXC_CONTRIBUTORY)
		return YAKVM_MERGE_DOUBLE_FAULT;
	if (a == YAKVM_EXC_PAGE_FAULT &&
	    (b == YAKVM_EXC_CONTRIBUTORY || b == YAKVM_EXC_PAGE_FAULT))
		return YAKVM_MERGE_DOUBLE_FAULT;
	return YAKVM_MERGE_SECOND;
}

#endif /* YAKVM_EXCEPTION_MERGE_H */
