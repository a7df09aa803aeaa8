// SPDX-License-Identifier: GPL-2.0
/*
 * Object counters of a device (see objects.h).
 */
#include <dirent.h>
#include <stdio.h>

#include "objects.h"

#define KVM_DEBUGFS	"/sys/kernel/debug/kvm"

/* KVM names each VM's debugfs directory PID-FD. */
static void count_kvm_vms(struct counters *c)
{
	DIR *d = opendir(KVM_DEBUGFS);
	struct dirent *e;
	int pid, fd;

	if (!d)
		test_skip("no %s to count KVM's VMs in", KVM_DEBUGFS);
	c->n = 1;
	strcpy(c->name[0], "vms");
	c->value[0] = 0;
	while ((e = readdir(d)))
		c->value[0] += sscanf(e->d_name, "%d-%d", &pid, &fd) == 2;
	closedir(d);
}

static long read_locked_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	long kib = -1;

	TEST_ASSERT(f, "cannot open /proc/self/status");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

void read_counters(const struct test_dev *dev, struct counters *c)
{
	FILE *f;

	c->locked_kib = read_locked_kib();
	if (!dev->is_yakvm) {
		count_kvm_vms(c);
		return;
	}
	f = fopen(YAKVM_OBJECTS, "r");
	TEST_ASSERT(f, "cannot open " YAKVM_OBJECTS);
	c->n = 0;
	while (c->n < MAX_COUNTERS &&
	       fscanf(f, "%31s %ld", c->name[c->n], &c->value[c->n]) == 2)
		c->n++;
	fclose(f);
	TEST_ASSERT(c->n > 0, YAKVM_OBJECTS " is empty");
}

long counter(const struct counters *c, const char *name)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->name[i], name))
			return c->value[i];
	test_fail("no counter \"%s\"", name);
}

void expect_counters_at(const struct test_dev *dev, const struct counters *start,
			const char *when)
{
	struct counters now;
	int i;

	read_counters(dev, &now);
	for (i = 0; i < start->n; i++)
		TEST_ASSERT(counter(&now, start->name[i]) == start->value[i],
			    "%s: %s is %ld, was %ld", when, start->name[i],
			    counter(&now, start->name[i]), start->value[i]);
	TEST_ASSERT(now.locked_kib == start->locked_kib,
		    "%s: the process has %ld KiB locked, had %ld", when, now.locked_kib,
		    start->locked_kib);
}
