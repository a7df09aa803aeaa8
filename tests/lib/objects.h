/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a device holds: yakvm's object counters
 * (/sys/kernel/debug/yakvm/objects: vms, vcpus, slots, pinned_pages,
 * npt_pages, kernel_pages, svm_users), or for KVM the number of its per-VM
 * debugfs directories, as "vms".  Tests read them before and after what
 * they do and require the same values: nothing leaked.  The process's
 * locked memory (VmLck, where yakvm charges pinned guest pages) is
 * compared too.
 */
#ifndef TESTS_LIB_OBJECTS_H
#define TESTS_LIB_OBJECTS_H

#include "test.h"

#define YAKVM_OBJECTS	"/sys/kernel/debug/yakvm/objects"
#define MAX_COUNTERS	16

struct counters {
	int n;
	char name[MAX_COUNTERS][32];
	long value[MAX_COUNTERS];
	long locked_kib;		/* VmLck of this process */
};

void read_counters(const struct test_dev *dev, struct counters *c);
/* The counter @name (the case fails if there is none). */
long counter(const struct counters *c, const char *name);
/* Fails the case, naming @when, unless every counter is back at @start. */
void expect_counters_at(const struct test_dev *dev, const struct counters *start,
			const char *when);

#endif
