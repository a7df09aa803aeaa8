// SPDX-License-Identifier: GPL-2.0
/*
 * Host CPUs going offline and back while VMs exist.  A guest that ran on a
 * CPU before it went away runs there again afterwards, and a VM created
 * after it comes back runs too.  On yakvm the ASIDs are checked as well
 * (through debugfs): ASIDs are handed out per CPU in generations, and a
 * vCPU keeps its ASID as long as its generation is the CPU's current one.
 * If re-enabling SVM on a CPU started the generations over, a vCPU from
 * before the offline could keep an ASID that the CPU then hands to a vCPU
 * of another VM -- two VMs sharing TLB entries.
 */
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "guest.h"
#include "modes.h"
#include "yakvm_debugfs.h"

#define CPU1_ONLINE	"/sys/devices/system/cpu/cpu1/online"

static void guest_syncs(uint64_t tag)
{
	volatile uint64_t *mine = (volatile uint64_t *)GPA_SCRATCH;
	uint64_t i;

	for (i = 0; ; i++) {
		*mine = tag + i;
		GUEST_SYNC(tag, *mine);
	}
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	TEST_ASSERT(!sched_setaffinity(0, sizeof(set), &set),
		    "cannot run on CPU %d: %s", cpu, strerror(errno));
}

static void set_cpu1_online(bool online)
{
	FILE *f = fopen(CPU1_ONLINE, "w");

	TEST_ASSERT(f, "cannot open " CPU1_ONLINE ": %s", strerror(errno));
	TEST_ASSERT(fputs(online ? "1" : "0", f) >= 0 && fclose(f) == 0,
		    "writing %d to " CPU1_ONLINE ": %s", online, strerror(errno));
}

/* Runs @v to its next SYNC and checks the guest saw its own memory. */
static void run_to_sync(struct vcpu *v, uint64_t tag)
{
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], tag);
	TEST_ASSERT_EQ(uc.args[1], *(uint64_t *)gpa_to_hva(v->vm, GPA_SCRATCH));
}

struct asid {
	uint64_t asid, generation, cpu;
};

static struct asid asid_of(struct vcpu *v)
{
	struct asid a = { 0, 0, 0 };

	if (v->vm->is_yakvm) {
		a.asid = vcpu_vmcb_field(v, "asid");
		a.generation = vcpu_vmcb_field(v, "asid_generation");
		a.cpu = vcpu_vmcb_field(v, "last_cpu");
	}
	return a;
}

static void expect_distinct(struct vcpu *a, struct vcpu *b, const char *when)
{
	struct asid x = asid_of(a), y = asid_of(b);
	struct yakvm_cpu_state st;

	if (!a->vm->is_yakvm)
		return;
	TEST_ASSERT(yakvm_cpu_state(1, &st), "no CPU 1 in yakvm's cpus file");
	TEST_ASSERT(!(x.cpu == y.cpu && x.generation == y.generation &&
		      x.generation == st.generation && x.asid == y.asid),
		    "%s: two VMs hold ASID %llu of generation %llu on CPU %llu",
		    when, (unsigned long long)x.asid,
		    (unsigned long long)x.generation, (unsigned long long)x.cpu);
}

TEST_CASE_OPTS(offline_online_keeps_asids_apart, .timeout_s = 120,
	       .why_not_compared = "CPU hotplug changes which CPU takes the host's interrupts, and so the exits")
{
	struct vcpu *a, *b;

	TEST_ASSERT(!access(CPU1_ONLINE, W_OK), "no hot-pluggable CPU 1");
	pin_to_cpu(1);
	a = vm_with_long_code(ctx->dev, guest_syncs, 0x1000);
	run_to_sync(a, 0x1000);

	pin_to_cpu(0);
	set_cpu1_online(false);
	set_cpu1_online(true);
	pin_to_cpu(1);

	b = vm_with_long_code(ctx->dev, guest_syncs, 0x2000);
	run_to_sync(b, 0x2000);
	run_to_sync(a, 0x1000);
	expect_distinct(a, b, "after CPU 1 came back");
	run_to_sync(b, 0x2000);
	run_to_sync(a, 0x1000);
	expect_distinct(a, b, "after both ran again");
	vm_free(b->vm);
	vm_free(a->vm);
}
