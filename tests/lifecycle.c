// SPDX-License-Identifier: GPL-2.0
/*
 * VM lifetime: 1,000 cycles of create, add vCPUs and a slot, run once,
 * destroy.  On yakvm the module's object counters
 * (/sys/kernel/debug/yakvm/objects) must count the live objects and be back
 * at their start values afterwards; on KVM, its per-VM debugfs directories.
 */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "modes.h"

#define CYCLES		1000
/* KVM's cycle takes ~50 ms under TCG (yakvm's ~2 ms): fewer keep the suite fast. */
#define KVM_CYCLES	100
#define OBJECTS		"/sys/kernel/debug/yakvm/objects"
#define KVM_DEBUGFS	"/sys/kernel/debug/kvm"
#define MAX_COUNTERS	16

struct counters {
	int n;
	char name[MAX_COUNTERS][32];
	long value[MAX_COUNTERS];
};

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

static void read_counters(const struct test_dev *dev, struct counters *c)
{
	FILE *f;

	if (!dev->is_yakvm) {
		count_kvm_vms(c);
		return;
	}
	f = fopen(OBJECTS, "r");
	TEST_ASSERT(f, "cannot open " OBJECTS);
	c->n = 0;
	while (c->n < MAX_COUNTERS &&
	       fscanf(f, "%31s %ld", c->name[c->n], &c->value[c->n]) == 2)
		c->n++;
	fclose(f);
	TEST_ASSERT(c->n > 0, OBJECTS " is empty");
}

static long counter(const struct counters *c, const char *name)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->name[i], name))
			return c->value[i];
	test_fail(OBJECTS " has no \"%s\"", name);
}

GUEST_CODE16(halt, "hlt\n");

static struct vm *vm_ran_once(const struct test_dev *dev)
{
	struct vm *vm = vm_create(dev, REAL_MODE_MEM_SIZE);
	struct vcpu *v = vcpu_add(vm, 0);

	vcpu_add(vm, 1);
	vcpu_enter_low_code(v, MODE_REAL, &halt);
	vcpu_run(v);
	vcpu_expect_exit(v, KVM_EXIT_HLT);
	return vm;
}

/* While a VM lives, the counters show it. */
static void expect_counted(const struct test_dev *dev, const struct counters *before)
{
	struct counters now;

	read_counters(dev, &now);
	TEST_ASSERT_EQ(counter(&now, "vms"), counter(before, "vms") + 1);
	if (!dev->is_yakvm)
		return;
	TEST_ASSERT_EQ(counter(&now, "vcpus"), counter(before, "vcpus") + 2);
	TEST_ASSERT_EQ(counter(&now, "slots"), counter(before, "slots") + 1);
	TEST_ASSERT(counter(&now, "pinned_pages") > counter(before, "pinned_pages"),
		    "running a guest pinned no page");
	TEST_ASSERT(counter(&now, "npt_pages") > counter(before, "npt_pages"),
		    "no nested page table pages counted");
}

TEST_CASE_OPTS(create_destroy_1000, .timeout_s = 300,
	       .why_not_compared = "yakvm runs 1,000 cycles, KVM 100; the guest is a HLT, as in exits/hlt_real_mode")
{
	int i, j, cycles = ctx->dev->is_yakvm ? CYCLES : KVM_CYCLES;
	struct counters start, end;

	read_counters(ctx->dev, &start);
	for (i = 0; i < cycles; i++) {
		struct vm *vm = vm_ran_once(ctx->dev);

		if (i == 0)
			expect_counted(ctx->dev, &start);
		vm_free(vm);
	}
	read_counters(ctx->dev, &end);
	for (j = 0; j < start.n; j++)
		TEST_ASSERT(counter(&end, start.name[j]) == start.value[j],
			    "after %d cycles %s is %ld, was %ld", cycles, start.name[j],
			    counter(&end, start.name[j]), start.value[j]);
}

/*
 * The VM fd may be closed while a vCPU runs: the vCPU fd keeps the VM
 * alive, runs on, and closing it frees everything (the runner's leak check
 * and, here, yakvm's counters).
 */
GUEST_CODE16(spin, "cli\n 1: incl (0x4000)\n jmp 1b\n");

static void on_signal(int sig)
{
	(void)sig;
}

static void *run_once(void *arg)
{
	struct vcpu *v = arg;

	return (void *)(intptr_t)(vcpu_run_raw(v) ? errno : 0);
}

static void interrupt_run(struct vcpu *v)
{
	volatile uint32_t *count = gpa_to_hva(v->vm, 0x4000);
	void *err;
	pthread_t t;

	*count = 0;
	TEST_ASSERT(!pthread_create(&t, NULL, run_once, v), "pthread_create");
	while (!*count)
		usleep(1000);
	pthread_kill(t, SIGUSR1);
	pthread_join(t, &err);
	TEST_ASSERT((intptr_t)err == EINTR, "KVM_RUN ended with %s", strerror((intptr_t)err));
}

TEST_CASE_OPTS(vm_fd_closed_while_running,
	       .why_not_compared = "every KVM_RUN ends in EINTR, where a signal happened to stop the guest")
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct vcpu *v = vm_with_low_code(ctx->dev, MODE_REAL, &spin);
	struct counters start, running;

	sigaction(SIGUSR1, &sa, NULL);
	read_counters(ctx->dev, &start);
	interrupt_run(v);
	close(v->vm->fd);
	v->vm->fd = -1;
	interrupt_run(v);		/* the guest still runs */
	read_counters(ctx->dev, &running);
	TEST_ASSERT_EQ(counter(&running, "vms"), counter(&start, "vms"));
	vm_free(v->vm);
	read_counters(ctx->dev, &running);
	TEST_ASSERT_EQ(counter(&running, "vms"), counter(&start, "vms") - 1);
}
