// SPDX-License-Identifier: GPL-2.0
/*
 * VM lifetime under a careless or dying VMM.  A VM lives while its VM fd,
 * a vCPU fd or a vCPU's kvm_run mapping does; after that every object is
 * freed whatever the order, also when the process exits with VMs alive,
 * exits while its vCPU threads are in KVM_RUN, or is killed there.
 *
 * The checks read the device's counters (tests/lib/objects.h): on yakvm the
 * module's object counters in debugfs and the process's locked memory,
 * where pinned guest pages are charged; on KVM its per-VM debugfs
 * directories.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "modes.h"
#include "objects.h"

/* ioctl rules, races and lifetimes: the same on every CPU model. */
TEST_CPU_MODEL_INDEPENDENT();

#define CYCLES		1000
/* KVM's cycle takes ~50 ms under TCG (yakvm's ~2 ms): fewer keep the suite fast. */
#define KVM_CYCLES	100
#define CYCLE_VCPUS	4
#define CYCLE_SLOTS	4
#define MIB		(1ULL << 20)
#define SLOT_SIZE	0x10000ULL
#define NS_PER_MS	1000000ULL
#define HANG_MS		20000	/* a hang guard, not a speed limit */

/* Writes to the address in EBX, so that the page is pinned and mapped. */
GUEST_CODE32(touch_and_halt, "movl $1, (%ebx)\n hlt\n");

/* Slot 0 is RAM at 0; slot N > 0 is SLOT_SIZE at N MiB. */
static uint64_t slot_gpa(int slot)
{
	return slot ? slot * MIB : GPA_LOW_DATA;
}

static void set_rbx(struct vcpu *v, uint64_t rbx)
{
	struct kvm_regs regs;

	vcpu_get_regs(v, &regs);
	regs.rbx = rbx;
	vcpu_set_regs(v, &regs);
}

/* A VM with 4 vCPUs and 4 slots; vCPU N writes to slot N and halts. */
static struct vm *vm_with_four_of_each(const struct test_dev *dev)
{
	struct vm *vm = vm_create(dev, REAL_MODE_MEM_SIZE);
	int i;

	for (i = 1; i < CYCLE_SLOTS; i++)
		vm_add_memory(vm, i, slot_gpa(i), SLOT_SIZE, 0);
	for (i = 0; i < CYCLE_VCPUS; i++) {
		struct vcpu *v = vcpu_add(vm, i);

		vcpu_enter_low_code(v, MODE_PROT32, &touch_and_halt);
		set_rbx(v, slot_gpa(i));
		vcpu_run(v);
		vcpu_expect_exit(v, KVM_EXIT_HLT);
	}
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
	TEST_ASSERT_EQ(counter(&now, "vcpus"), counter(before, "vcpus") + CYCLE_VCPUS);
	TEST_ASSERT_EQ(counter(&now, "slots"), counter(before, "slots") + CYCLE_SLOTS);
	TEST_ASSERT(counter(&now, "pinned_pages") >= counter(before, "pinned_pages") + CYCLE_SLOTS,
		    "the guests' writes to %d slots pinned %ld pages", CYCLE_SLOTS,
		    counter(&now, "pinned_pages") - counter(before, "pinned_pages"));
	TEST_ASSERT(counter(&now, "npt_pages") > counter(before, "npt_pages"),
		    "no nested page table pages counted");
	TEST_ASSERT(now.locked_kib > before->locked_kib, "pinned pages are not charged to VmLck");
}

TEST_CASE_OPTS(create_destroy_1000, .timeout_s = 300,
	       .why_not_compared = "yakvm runs 1,000 cycles, KVM 100; each vCPU stores and halts, as in exits/hlt_real_mode")
{
	int i, cycles = ctx->dev->is_yakvm ? CYCLES : KVM_CYCLES;
	struct counters start;
	char when[64];

	read_counters(ctx->dev, &start);
	for (i = 0; i < cycles; i++) {
		struct vm *vm = vm_with_four_of_each(ctx->dev);

		if (i == 0)
			expect_counted(ctx->dev, &start);
		vm_free(vm);
		snprintf(when, sizeof(when), "after cycle %d", i + 1);
		expect_counters_at(ctx->dev, &start, when);
	}
}

/* ---------------------------------------------------------------- */
/* Releasing in every order                                         */

enum resource { SYSTEM_FD, VM_FD, VCPU_FD, RUN_MAPPING, GUEST_MEMORY, NR_RESOURCES };

static const char *const resource_names[NR_RESOURCES] = {
	"system fd", "VM fd", "vCPU fd", "kvm_run mapping", "guest memory",
};

static void release(struct vcpu *v, enum resource r)
{
	struct vm *vm = v->vm;

	switch (r) {
	case SYSTEM_FD:
		close(vm->sys_fd);
		break;
	case VM_FD:
		close(vm->fd);
		break;
	case VCPU_FD:
		close(v->fd);
		break;
	case RUN_MAPPING:
		munmap(v->run, vm->run_size);
		break;
	case GUEST_MEMORY:
		munmap(vm->regions[0].hva, vm->regions[0].size);
		break;
	default:
		break;
	}
}

/* The VM lives while its fd, the vCPU fd or the vCPU's mapping does (not the system fd). */
static bool vm_alive(const bool released[NR_RESOURCES])
{
	return !released[VM_FD] || !released[VCPU_FD] || !released[RUN_MAPPING];
}

static void expect_alive(const struct test_dev *dev, const struct counters *start,
			 bool alive, const char *when)
{
	struct counters now;

	read_counters(dev, &now);
	TEST_ASSERT(counter(&now, "vms") == counter(start, "vms") + alive,
		    "%s: vms is %ld, expected %ld", when, counter(&now, "vms"),
		    counter(start, "vms") + alive);
	if (dev->is_yakvm)
		TEST_ASSERT(counter(&now, "vcpus") == counter(start, "vcpus") + alive,
			    "%s: vcpus is %ld", when, counter(&now, "vcpus"));
}

/* Releases in the order @order (a permutation), checking the VM's life after each. */
static void release_in_order(const struct test_dev *dev, const int order[NR_RESOURCES])
{
	bool released[NR_RESOURCES] = { false };
	struct counters start;
	struct vcpu *v;
	char when[160];
	int i, n = 0;

	read_counters(dev, &start);
	v = vm_with_low_code(dev, MODE_PROT32, &touch_and_halt);
	set_rbx(v, GPA_LOW_DATA);
	vcpu_run(v);
	vcpu_expect_exit(v, KVM_EXIT_HLT);
	for (i = 0; i < NR_RESOURCES; i++) {
		release(v, order[i]);
		released[order[i]] = true;
		n += snprintf(when + n, sizeof(when) - n, "%s%s", i ? ", " : "after closing ",
			      resource_names[order[i]]);
		expect_alive(dev, &start, vm_alive(released), when);
	}
	expect_counters_at(dev, &start, when);
	free(v->vm);
	free(v);
}

static void swap(int *a, int *b)
{
	int t = *a;

	*a = *b;
	*b = t;
}

/* The next permutation in lexicographic order; false after the last. */
static bool next_permutation(int *a, int n)
{
	int i = n - 2, j = n - 1;

	while (i >= 0 && a[i] >= a[i + 1])
		i--;
	if (i < 0)
		return false;
	while (a[j] <= a[i])
		j--;
	swap(&a[i], &a[j]);
	i++;
	j = n - 1;
	while (i < j)
		swap(&a[i++], &a[j--]);
	return true;
}

TEST_CASE_OPTS(release_in_every_order, .timeout_s = 120)
{
	int order[NR_RESOURCES] = { SYSTEM_FD, VM_FD, VCPU_FD, RUN_MAPPING, GUEST_MEMORY };
	struct counters start;
	int orders = 0;

	read_counters(ctx->dev, &start);
	do {
		release_in_order(ctx->dev, order);
		orders++;
	} while (next_permutation(order, NR_RESOURCES));
	TEST_ASSERT_EQ(orders, 120);
	expect_counters_at(ctx->dev, &start, "after 120 orders");
}

/* ---------------------------------------------------------------- */
/* A VMM process that exits or is killed with its VMs alive         */

#define CHILD_VMS	2
#define CHILD_VCPUS	2
#define COUNTERS_GPA	GPA_LOW_DATA

enum child_end {
	EXIT_AFTER_HLT,		/* the vCPUs ran once; exit with the VMs alive */
	EXIT_WHILE_RUNNING,	/* exit while vCPU threads are inside KVM_RUN */
	KILLED_WHILE_RUNNING,	/* SIGKILL while vCPU threads are inside KVM_RUN */
};

/* Counts in memory with interrupts off; each vCPU at EBX. */
GUEST_CODE32(count_forever, "cli\n 1: incl (%ebx)\n jmp 1b\n");

static void *run_forever(void *arg)
{
	vcpu_run_raw(arg);
	return NULL;
}

static void wait_until_counting(struct vm *vm, int nr_vcpus)
{
	volatile uint32_t *count = gpa_to_hva(vm, COUNTERS_GPA);
	uint64_t deadline = now_ns() + HANG_MS * NS_PER_MS;
	int i;

	for (i = 0; i < nr_vcpus; i++)
		while (!count[i]) {
			TEST_ASSERT(now_ns() < deadline, "vCPU %d never ran (in %d s)", i, HANG_MS / 1000);
			usleep(1000);
		}
}

static void start_vcpus(struct vm *vm, enum child_end end)
{
	pthread_t t;
	int i;

	for (i = 0; i < CHILD_VCPUS; i++) {
		struct vcpu *v = vcpu_add(vm, i);

		if (end == EXIT_AFTER_HLT) {
			vcpu_enter_low_code(v, MODE_PROT32, &touch_and_halt);
			set_rbx(v, COUNTERS_GPA + 4 * i);
			vcpu_run(v);
			vcpu_expect_exit(v, KVM_EXIT_HLT);
			continue;
		}
		vcpu_enter_low_code(v, MODE_PROT32, &count_forever);
		set_rbx(v, COUNTERS_GPA + 4 * i);
		TEST_ASSERT(!pthread_create(&t, NULL, run_forever, v), "pthread_create");
	}
	wait_until_counting(vm, CHILD_VCPUS);
}

/*
 * The VMM: VMs that ran, then a byte on @ready; once the parent has counted
 * its objects (a byte on @go, or EOF), it exits or waits for its end.
 */
static void __attribute__((noreturn)) child_vmm(const struct test_dev *dev, int ready,
						 int go, enum child_end end)
{
	char c;
	int i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive a failed case */
	for (i = 0; i < CHILD_VMS; i++)
		start_vcpus(vm_create(dev, REAL_MODE_MEM_SIZE), end);
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) < 0)
		_exit(3);
	if (end == KILLED_WHILE_RUNNING)
		for (;;)
			pause();
	_exit(0);			/* exit_group: the vCPU threads go too */
}

/* Waits up to @timeout_ms for @pid; returns how long it took, or fails. */
static uint64_t reap_within(pid_t pid, unsigned int timeout_ms, int *status)
{
	int pidfd = syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	uint64_t start = now_ns();

	TEST_ASSERT(pidfd >= 0, "pidfd_open: %s", strerror(errno));
	if (poll(&p, 1, timeout_ms) != 1) {
		kill(pid, SIGKILL);
		waitpid(pid, status, 0);
		test_fail("the VMM process did not end within %u ms", timeout_ms);
	}
	close(pidfd);
	waitpid(pid, status, 0);
	return (now_ns() - start) / NS_PER_MS;
}

static void run_child_vmm(const struct test_ctx *ctx, enum child_end end)
{
	struct counters start, running;
	uint64_t took_ms;
	int fds[2], go[2], status;
	char c;
	pid_t pid;

	read_counters(ctx->dev, &start);
	TEST_ASSERT(!pipe(fds) && !pipe(go), "pipe");
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (pid == 0) {
		close(fds[0]);
		close(go[1]);
		child_vmm(ctx->dev, fds[1], go[0], end);
	}
	close(fds[1]);
	close(go[0]);
	TEST_ASSERT(read(fds[0], &c, 1) == 1, "the VMM process failed before its guests ran");
	read_counters(ctx->dev, &running);
	/* Counted: now the child may go its way (also if an assertion below fails). */
	close(go[1]);
	TEST_ASSERT_EQ(counter(&running, "vms"), counter(&start, "vms") + CHILD_VMS);
	if (ctx->dev->is_yakvm)
		TEST_ASSERT_EQ(counter(&running, "vcpus"),
			       counter(&start, "vcpus") + CHILD_VMS * CHILD_VCPUS);
	if (end == KILLED_WHILE_RUNNING)
		kill(pid, SIGKILL);
	/* A VMM still there after 25 s hangs; how long it took is printed. */
	took_ms = reap_within(pid, 25000, &status);
	if (end == KILLED_WHILE_RUNNING)
		TEST_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
			    "status 0x%x", status);
	else
		TEST_ASSERT(WIFEXITED(status) && !WEXITSTATUS(status), "status 0x%x", status);
	test_log("the VMM process ended %llu ms after it was told to",
		 (unsigned long long)took_ms);
	expect_counters_at(ctx->dev, &start, "after the VMM process ended");
	close(fds[0]);
}

#define IN_CHILD	"the guests run in a child process, which is not traced"

TEST_CASE_OPTS(exit_with_vms_alive, .why_not_compared = IN_CHILD)
{
	run_child_vmm(ctx, EXIT_AFTER_HLT);
}

TEST_CASE_OPTS(exit_while_vcpus_run, .why_not_compared = IN_CHILD)
{
	run_child_vmm(ctx, EXIT_WHILE_RUNNING);
}

TEST_CASE_OPTS(sigkill_while_vcpus_run, .why_not_compared = IN_CHILD)
{
	run_child_vmm(ctx, KILLED_WHILE_RUNNING);
}
