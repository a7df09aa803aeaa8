// SPDX-License-Identifier: GPL-2.0
/*
 * TSC_AUX is not switched by VMRUN, and RDTSCP/RDPID read it without an
 * exit, so while a guest runs the MSR holds the guest's value.  The host
 * uses its own value only in user space (RDTSCP and RDPID give getcpu its
 * CPU number), so it must be back whenever KVM_RUN returns:
 *
 *   host_value_after_run  the guest sets TSC_AUX and reads it back with
 *                         RDTSCP; the VMM's RDTSCP right after each KVM_RUN
 *                         gives its own CPU number
 *   switched_lazily       (yakvm) the host's value goes back on the return to
 *                         user space, not after every exit the module
 *                         handles itself: a thousand CPUID exits inside one
 *                         KVM_RUN cost at most two TSC_AUX writes, as in KVM
 */
#include <sched.h>

#include "guest.h"
#include "modes.h"
#include "yakvm_debugfs.h"

#define MSR_TSC_AUX	0xc0000103
#define GUEST_AUX	0xabcULL
#define ROUNDS		50
#define EXITS		1000

static uint32_t rdtscp_aux(void)
{
	uint32_t lo, hi, aux;

	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
	return aux;
}

static void guest_tsc_aux(void)
{
	int round, i;

	__asm__ volatile("wrmsr" : : "c"(MSR_TSC_AUX), "a"((uint32_t)GUEST_AUX), "d"(0));
	for (round = 0; round < ROUNDS; round++) {
		for (i = 0; i < EXITS; i++) {
			uint32_t a = 0, b, c = 0, d;

			__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		}
		GUEST_SYNC(rdtscp_aux(), round);
	}
}

static void pin_to_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	TEST_ASSERT(!sched_setaffinity(0, sizeof(set), &set), "cannot run on CPU 0");
}

TEST_CASE_OPTS(host_value_after_run,
	       .why_not_compared = "the guest's CPUID exits are the same; what is checked is the host's TSC_AUX")
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_tsc_aux, 0);
	uint32_t host_aux;
	struct ucall uc;
	int round;

	pin_to_cpu0();
	host_aux = rdtscp_aux();
	TEST_ASSERT((host_aux & 0xfff) == (uint32_t)sched_getcpu(),
		    "RDTSCP gives 0x%x on CPU %d before any guest ran", host_aux,
		    sched_getcpu());
	for (round = 0; round < ROUNDS; round++) {
		vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
		TEST_ASSERT_EQ(rdtscp_aux(), host_aux);
		TEST_ASSERT_EQ(uc.args[0], GUEST_AUX);
	}
	vm_free(v->vm);
}

TEST_CASE_OPTS(switched_lazily, .only_yakvm = true,
	       .why_only_yakvm = "counts yakvm's TSC_AUX writes through its debugfs view")
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_tsc_aux, 0);
	struct yakvm_cpu_state before, after;
	struct ucall uc;

	pin_to_cpu0();
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(yakvm_cpu_state(0, &before), "no CPU 0 in yakvm's cpus file");
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(yakvm_cpu_state(0, &after), "no CPU 0 in yakvm's cpus file");
	test_log("%llu TSC_AUX writes for %d in-kernel exits in one KVM_RUN",
		 (unsigned long long)(after.tsc_aux_writes - before.tsc_aux_writes), EXITS);
	TEST_ASSERT(after.tsc_aux_writes - before.tsc_aux_writes <= 2,
		    "%llu TSC_AUX writes for one KVM_RUN with %d exits",
		    (unsigned long long)(after.tsc_aux_writes - before.tsc_aux_writes),
		    EXITS);
	vm_free(v->vm);
}
