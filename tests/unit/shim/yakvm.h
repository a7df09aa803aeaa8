/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host-side unit tests: what driver/irq's device models take from yakvm.h
 * -- the VM with its vm->irq, the real irq.h -- and a stand-in for the
 * in-kernel buses (bus.c) that records registrations and dispatches
 * accesses as bus.c does.  Included once per test program (one translation
 * unit), so it also holds the shim's globals.
 */
#ifndef YAKVM_H
#define YAKVM_H

#include "kshim.h"
#include "../../../driver/irq/irq.h"

struct yakvm_vm {
	struct yakvm_vm_irq irq;
};

struct yakvm_vcpu {
	struct yakvm_vm *vm;
};

int shim_locks_held;
int shim_allocations;
s64 shim_now_ns = 1000000000LL;	/* the host has been up a while */
struct hrtimer *shim_timers[SHIM_MAX_TIMERS];
struct work_struct *shim_works[SHIM_MAX_WORK];
static struct workqueue_struct shim_wq;
struct workqueue_struct *system_highpri_wq = &shim_wq;

/* Buses */
#define SHIM_MAX_RANGES 16

struct shim_range {
	enum yakvm_bus bus;
	u64 addr;
	int len;
	struct yakvm_io_device *dev;
};

static struct shim_range shim_ranges[SHIM_MAX_RANGES];
static int shim_nr_ranges;
static int shim_bus_fail_at = -1;	/* fail the Nth registration (0-based) */
static int shim_bus_registrations;

int yakvm_io_bus_register(struct yakvm_vm *vm, enum yakvm_bus bus, u64 addr,
			  int len, struct yakvm_io_device *dev)
{
	lockdep_assert_held(&vm->irq.lock);
	if (shim_bus_registrations++ == shim_bus_fail_at)
		return -ENOMEM;
	assert(shim_nr_ranges < SHIM_MAX_RANGES);
	shim_ranges[shim_nr_ranges++] = (struct shim_range){ bus, addr, len, dev };
	return 0;
}

void yakvm_io_bus_unregister(struct yakvm_vm *vm, enum yakvm_bus bus,
			     struct yakvm_io_device *dev)
{
	int i, j;

	lockdep_assert_held(&vm->irq.lock);
	for (i = j = 0; i < shim_nr_ranges; i++)
		if (shim_ranges[i].bus != bus || shim_ranges[i].dev != dev)
			shim_ranges[j++] = shim_ranges[i];
	shim_nr_ranges = j;
}

/* As bus.c: every device whose range holds the access, in order. */
static int shim_bus_access(enum yakvm_bus bus, u64 addr, int len, void *val,
			   bool write)
{
	int i, r = -EOPNOTSUPP;

	for (i = 0; i < shim_nr_ranges; i++) {
		struct shim_range *rg = &shim_ranges[i];

		if (rg->bus != bus || addr < rg->addr ||
		    addr + len > rg->addr + rg->len)
			continue;
		r = write ? rg->dev->ops->write(NULL, rg->dev, addr, len, val)
			  : rg->dev->ops->read(NULL, rg->dev, addr, len, val);
		assert(shim_locks_held == 0);
		if (r != -EOPNOTSUPP)
			break;
	}
	return r;
}

/* Test helpers */
static int shim_failures;
static int shim_checks;

#define CHECK(cond) do {						\
	shim_checks++;							\
	if (!(cond)) {							\
		shim_failures++;					\
		printf("# %s:%d: %s\n", __FILE__, __LINE__, #cond);	\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	shim_checks++;							\
	if (_a != _b) {							\
		shim_failures++;					\
		printf("# %s:%d: %s == %lld, expected %s == %lld\n",	\
		       __FILE__, __LINE__, #a, _a, #b, _b);		\
	}								\
} while (0)

/* Expire the due hrtimers, as the host's timer interrupt would. */
static inline void shim_run_timers(void)
{
	int i;

	for (i = 0; i < SHIM_MAX_TIMERS; i++) {
		struct hrtimer *t = shim_timers[i];

		while (t && t->active && t->expires <= shim_now_ns) {
			t->active = false;
			if (t->function(t) == HRTIMER_RESTART)
				t->active = true;
		}
	}
}

static inline void shim_run_work(void)
{
	bool again = true;
	int i;

	while (again) {
		again = false;
		for (i = 0; i < SHIM_MAX_WORK; i++) {
			struct work_struct *w = shim_works[i];

			if (w && w->pending) {
				w->pending = false;
				assert(shim_locks_held == 0);
				w->func(w);
				again = true;
			}
		}
	}
}

/* After a device's destruction: its timers and work items are gone. */
static inline void shim_forget_all(void)
{
	memset(shim_timers, 0, sizeof(shim_timers));
	memset(shim_works, 0, sizeof(shim_works));
}

static int shim_verdict(const char *name)
{
	if (shim_failures)
		printf("FAIL unit/%s: %d of %d checks failed\n", name,
		       shim_failures, shim_checks);
	else
		printf("ok unit/%s: %d checks\n", name, shim_checks);
	return shim_failures ? 1 : 0;
}

#endif /* YAKVM_H */
