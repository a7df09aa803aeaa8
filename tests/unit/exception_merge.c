// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test, run on the build host: the module's double-fault rules
 * (driver/cpu/exception_merge.h) against the APM's "Double-Fault
 * Conditions" table, for every pair of vectors 0-31.  The expectations are
 * written out here from the table, not derived from the header.
 */
#include <stdbool.h>
#include <stdio.h>

#include "../../driver/cpu/exception_merge.h"

static const unsigned int contributory[] = { 0, 10, 11, 12, 13 };

static bool is_contributory(unsigned int v)
{
	unsigned int i;

	for (i = 0; i < sizeof(contributory) / sizeof(contributory[0]); i++)
		if (contributory[i] == v)
			return true;
	return false;
}

static enum yakvm_merge_result expected(unsigned int first, unsigned int second)
{
	if (first == 8)
		return YAKVM_MERGE_TRIPLE_FAULT;
	if (is_contributory(first) && is_contributory(second))
		return YAKVM_MERGE_DOUBLE_FAULT;
	if (first == 14 && (second == 14 || is_contributory(second)))
		return YAKVM_MERGE_DOUBLE_FAULT;
	return YAKVM_MERGE_SECOND;
}

int main(void)
{
	static const char *const names[] = { "second", "#DF", "triple fault" };
	unsigned int first, second, bad = 0;

	for (first = 0; first < 32; first++) {
		for (second = 0; second < 32; second++) {
			enum yakvm_merge_result got = yakvm_merge_exceptions(first, second);
			enum yakvm_merge_result want = expected(first, second);

			if (got != want && bad++ < 10)
				printf("# vector %u during %u: %s, the APM says %s\n",
				       second, first, names[got], names[want]);
		}
	}
	if (bad)
		printf("FAIL unit/exception_merge: %u of 1024 pairs wrong\n", bad);
	else
		printf("ok unit/exception_merge\n");
	return bad ? 1 : 0;
}
