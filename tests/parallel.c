// SPDX-License-Identifier: GPL-2.0
/*
 * Several VMs and vCPUs at once, and big guests: two VMs with two vCPUs
 * each, every vCPU on its own thread, all running at the same time; each
 * VM checks that it sees only its own memory.  A guest with 640 MiB of RAM
 * touches it sparsely.
 */
#include <pthread.h>

#include "guest.h"
#include "modes.h"

/* ioctl rules, races and lifetimes: the same on every CPU model. */
TEST_CPU_MODEL_INDEPENDENT();

#define NR_VMS		2
#define VCPUS_PER_VM	2
#define ITERATIONS	20000
#define SYNC_EVERY	2000
#define MIB		(1ULL << 20)

/* Per VM (each VM has its own copy of these globals). */
static volatile uint64_t vm_marker;		/* set by the host, differs per VM */
static uint64_t shared_count;			/* both vCPUs add to it */
static volatile uint64_t own_count[VCPUS_PER_VM];

/* @arg: vCPU id in bits 0-7, the VM's marker above. */
static void guest_worker(uint64_t arg)
{
	uint64_t id = arg & 0xff, marker = arg >> 8;
	int i;

	for (i = 1; i <= ITERATIONS; i++) {
		GUEST_ASSERT_EQ(vm_marker, marker);
		__atomic_fetch_add(&shared_count, 1, __ATOMIC_SEQ_CST);
		own_count[id]++;
		if (i % SYNC_EVERY == 0)
			GUEST_SYNC(id, i);
	}
}

static void *run_worker(void *arg)
{
	struct vcpu *v = arg;
	struct ucall uc;

	while (vcpu_run_to_ucall(v, &uc) == UCALL_SYNC)
		TEST_ASSERT(uc.args[0] == v->id, "vCPU %u reported id %llu", v->id,
			    (unsigned long long)uc.args[0]);
	TEST_ASSERT_EQ(uc.type, UCALL_DONE);
	return NULL;
}

TEST_CASE_OPTS(two_vms_two_vcpus, .timeout_s = 120)
{
	struct vcpu *vcpus[NR_VMS][VCPUS_PER_VM];
	pthread_t threads[NR_VMS][VCPUS_PER_VM];
	struct vm *vms[NR_VMS];
	int i, j;

	for (i = 0; i < NR_VMS; i++) {
		uint64_t marker = 0x1000 + i;

		vms[i] = vm_create(ctx->dev, LONG_MODE_MEM_SIZE);
		for (j = 0; j < VCPUS_PER_VM; j++) {
			vcpus[i][j] = vcpu_add(vms[i], j);
			vcpu_enter_long(vcpus[i][j], guest_worker, marker << 8 | j);
		}
		guest_global(vms[i], vm_marker) = marker;
	}
	for (i = 0; i < NR_VMS; i++)
		for (j = 0; j < VCPUS_PER_VM; j++)
			TEST_ASSERT(!pthread_create(&threads[i][j], NULL, run_worker,
						    vcpus[i][j]), "pthread_create");
	for (i = 0; i < NR_VMS; i++)
		for (j = 0; j < VCPUS_PER_VM; j++)
			pthread_join(threads[i][j], NULL);
	for (i = 0; i < NR_VMS; i++) {
		TEST_ASSERT_EQ(guest_global(vms[i], shared_count), VCPUS_PER_VM * ITERATIONS);
		for (j = 0; j < VCPUS_PER_VM; j++)
			TEST_ASSERT_EQ(guest_global(vms[i], own_count[j]), ITERATIONS);
		TEST_ASSERT_EQ(guest_global(vms[i], vm_marker), 0x1000 + i);
		vm_free(vms[i]);
	}
}

/* ---------------------------------------------------------------- */
/* A big guest                                                      */

#define BIG_MEM_SIZE	(640 * MIB)
#define BIG_STRIDE	MIB
#define BIG_FIRST	(64 * MIB)	/* above the image and the scratch area */

static uint64_t pattern(uint64_t gpa)
{
	return gpa * 0x9e3779b97f4a7c15ULL;
}

/* Where in the MiB at @gpa the guest writes: a different offset each time. */
static uint64_t touch_addr(uint64_t gpa)
{
	return gpa + ((gpa >> 20) * 8) % 4096;
}

static void guest_touch_sparsely(void)
{
	uint64_t gpa;

	for (gpa = BIG_FIRST; gpa < BIG_MEM_SIZE; gpa += BIG_STRIDE)
		*(volatile uint64_t *)touch_addr(gpa) = pattern(gpa);
	*(volatile uint64_t *)(BIG_MEM_SIZE - 8) = pattern(0);
	for (gpa = BIG_FIRST; gpa < BIG_MEM_SIZE; gpa += BIG_STRIDE)
		GUEST_ASSERT_EQ(*(volatile uint64_t *)touch_addr(gpa),
				pattern(gpa));
}

TEST_CASE_OPTS(big_guest_memory, .timeout_s = 120)
{
	struct vm *vm = vm_create(ctx->dev, BIG_MEM_SIZE);
	struct vcpu *v = vcpu_add(vm, 0);
	struct ucall uc;
	uint64_t gpa;

	vcpu_enter_long(v, guest_touch_sparsely, 0);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	for (gpa = BIG_FIRST; gpa < BIG_MEM_SIZE; gpa += BIG_STRIDE)
		TEST_ASSERT_EQ(*(uint64_t *)gpa_to_hva(vm, touch_addr(gpa)),
			       pattern(gpa));
	TEST_ASSERT_EQ(*(uint64_t *)gpa_to_hva(vm, BIG_MEM_SIZE - 8), pattern(0));
	vm_free(vm);
}
