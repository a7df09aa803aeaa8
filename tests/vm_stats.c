// SPDX-License-Identifier: GPL-2.0
/*
 * The VM-wide counters in yakvm's debugfs (vmN-PID/stats) count exactly
 * when several vCPUs fault at the same time: two vCPUs on two threads
 * each make the same number of MMIO reads, and the VM's mmio_faults is
 * their sum, and each vCPU's own count is its share.  (A counter shared
 * by the vCPUs and incremented without atomics would lose some.)
 */
#include <pthread.h>
#include <stdio.h>

#include "guest.h"
#include "modes.h"
#include "yakvm_debugfs.h"

#define READS	5000

static void guest_mmio_reads(void)
{
	volatile uint32_t *mmio = (volatile uint32_t *)MMIO_GPA;
	int i;

	for (i = 0; i < READS; i++)
		(void)*mmio;
}

static void *run_vcpu(void *arg)
{
	struct vcpu *v = arg;
	struct ucall uc;

	for (;;) {
		vcpu_run(v);
		if (v->run->exit_reason == KVM_EXIT_MMIO)
			continue;	/* the read gets whatever is in mmio.data */
		if (vcpu_get_ucall(v, &uc) == UCALL_DONE)
			return NULL;
		test_fail("unexpected %s", vcpu_exit_str(v));
	}
}

static uint64_t stat(struct vm *vm, const char *file, const char *key)
{
	char path[sizeof(vm->debugfs) + 32];

	snprintf(path, sizeof(path), "%s/%s", vm->debugfs, file);
	return debugfs_value(path, key);
}

TEST_CASE_OPTS(counters_add_up_across_vcpus, .only_yakvm = true, .timeout_s = 120,
	       .why_only_yakvm = "reads yakvm's per-VM and per-vCPU counters in debugfs")
{
	struct vm *vm = vm_create(ctx->dev, LONG_MODE_MEM_SIZE);
	struct vcpu *a = vcpu_add(vm, 0), *b = vcpu_add(vm, 1);
	uint64_t before, total;
	pthread_t thread;

	vcpu_enter_long(a, guest_mmio_reads, 0);
	vcpu_enter_long(b, guest_mmio_reads, 0);
	before = stat(vm, "stats", "mmio_faults");
	TEST_ASSERT(!pthread_create(&thread, NULL, run_vcpu, b), "pthread_create");
	run_vcpu(a);
	pthread_join(thread, NULL);
	total = stat(vm, "stats", "mmio_faults") - before;
	TEST_ASSERT(total == 2 * READS, "the VM counted %llu MMIO faults, the vCPUs made %d",
		    (unsigned long long)total, 2 * READS);
	TEST_ASSERT_EQ(stat(vm, "vcpu0", "mmio_faults"), READS);
	TEST_ASSERT_EQ(stat(vm, "vcpu1", "mmio_faults"), READS);
	vm_free(vm);
}
