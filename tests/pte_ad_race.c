// SPDX-License-Identifier: GPL-2.0
/*
 * When the device walks the guest's page tables itself (to fetch an
 * instruction it emulates), it sets accessed and dirty bits the way a CPU
 * does: atomically.  A read-modify-write would undo whatever another vCPU
 * wrote to the same entry in between.
 *
 * vCPU 1 keeps clearing the accessed bit of the page-directory entry that
 * maps the test's code and data while counting in the entry's available
 * bits 58:52, with LOCK CMPXCHG, as an OS does; vCPU 0 meanwhile executes
 * MOV from DR7 in a loop -- an instruction yakvm intercepts and decodes
 * from guest memory, walking through that entry and setting its accessed
 * bit each time.  vCPU 1 counts until vCPU 0 has made WALKS walks; in the
 * end the count must be exactly what vCPU 1 added.
 * (KVM stops intercepting DR accesses after the first one, so on KVM the
 * walker mostly runs natively; its answer is the same.)
 */
#include <pthread.h>

#include "guest.h"
#include "modes.h"

#define WALKS		20000	/* how long vCPU 1 keeps counting */
#define PTE_A		(1ULL << 5)
#define AVL_SHIFT	52
#define AVL_MASK	(0x7fULL << AVL_SHIFT)
/* The identity map's page directory entry for 0x400000-0x5fffff: the image. */
#define PDE_IMAGE	((volatile uint64_t *)(GPA_PD + 2 * 8))

static volatile uint64_t stop;
static volatile uint64_t walks;

static void guest_walker(void)
{
	uint64_t dr7;

	while (!stop) {
		__asm__ volatile("mov %%dr7, %0" : "=r"(dr7));
		walks++;
	}
}

static void guest_bumper(void)
{
	uint64_t i, old, new, count;

	GUEST_ASSERT((uint64_t)&guest_bumper >> 21 == 2);
	while (!walks)
		;
	for (i = 0; walks < WALKS; i++) {
		old = *PDE_IMAGE;
		do {
			count = ((old & AVL_MASK) >> AVL_SHIFT) + 1;
			new = (old & ~(AVL_MASK | PTE_A)) |
			      ((count << AVL_SHIFT) & AVL_MASK);
		} while (!__atomic_compare_exchange_n(PDE_IMAGE, &old, new, false,
						      __ATOMIC_SEQ_CST,
						      __ATOMIC_SEQ_CST));
	}
	stop = 1;
	count = (*PDE_IMAGE & AVL_MASK) >> AVL_SHIFT;
	GUEST_SYNC(count, i & 0x7f);
}

static void *run_walker(void *arg)
{
	struct vcpu *v = arg;
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	return NULL;
}

TEST_CASE_OPTS(accessed_bit_updates_are_atomic, .timeout_s = 300,
	       .why_not_compared = "two vCPUs interleave differently on each run")
{
	struct vm *vm = vm_create(ctx->dev, LONG_MODE_MEM_SIZE);
	struct vcpu *walker = vcpu_add(vm, 0), *bumper = vcpu_add(vm, 1);
	struct ucall uc;
	pthread_t thread;

	vcpu_enter_long(walker, guest_walker, 0);
	vcpu_enter_long(bumper, guest_bumper, 0);
	TEST_ASSERT(!pthread_create(&thread, NULL, run_walker, walker), "pthread_create");
	vcpu_run_expect_ucall(bumper, UCALL_SYNC, &uc);
	pthread_join(thread, NULL);
	test_log("vCPU 0 walked the tables %llu times meanwhile",
		 (unsigned long long)guest_global(vm, walks));
	TEST_ASSERT(uc.args[0] == uc.args[1],
		    "the entry's count is %llu, vCPU 1 added %llu (mod 128): updates were lost",
		    (unsigned long long)uc.args[0], (unsigned long long)uc.args[1]);
	vm_free(vm);
}
