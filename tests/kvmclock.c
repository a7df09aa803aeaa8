// SPDX-License-Identifier: GPL-2.0
/*
 * kvmclock (Documentation/virt/kvm/x86/msr.rst, cpuid.rst): the KVM leaves
 * announce it; MSR_KVM_SYSTEM_TIME_NEW makes the host keep a pvclock
 * structure that gives the VM's clock -- the one KVM_GET_CLOCK and
 * KVM_SET_CLOCK move -- from the guest's TSC; MSR_KVM_WALL_CLOCK_NEW gives
 * the wall clock at clock 0.  The guest's reading must lie between the
 * host's KVM_GET_CLOCK readings just before and after it (up to the
 * structure's extrapolation error, bounded below), follow KVM_SET_CLOCK,
 * and stop following it once disabled.  Same answers from both devices.
 */
#include <sys/ioctl.h>
#include <time.h>

#include "guest.h"
#include "modes.h"

#define MSR_WALL_CLOCK_NEW	0x4b564d00
#define MSR_SYSTEM_TIME_NEW	0x4b564d01
#define PVTI_GPA		(GPA_SCRATCH + 0x40)
#define WALL_GPA		(GPA_SCRATCH + 0x100)
/*
 * How far the guest's extrapolation from the last (TSC, time) pair may be
 * from the host clock read around it: TSC and CLOCK_BOOTTIME are different
 * clocks (NTP slews the latter), 500 ppm over a second of a slow run.
 */
#define SLACK_NS		500000ULL

struct pvti {
	uint32_t version, pad0;
	uint64_t tsc_timestamp, system_time;
	uint32_t mul;
	int8_t shift;
	uint8_t flags, pad[2];
} __attribute__((packed));

struct wall {
	uint32_t version, sec, nsec;
} __attribute__((packed));

static void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | (uint64_t)hi << 32;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo | (uint64_t)hi << 32;
}

/* The clock as a Linux guest computes it (pvclock_clocksource_read). */
static uint64_t read_clock(void)
{
	volatile struct pvti *p = (volatile struct pvti *)PVTI_GPA;
	uint32_t version;
	uint64_t delta, ns;

	do {
		version = p->version;
		__asm__ volatile("" ::: "memory");
		delta = rdtsc() - p->tsc_timestamp;
		if (p->shift < 0)
			delta >>= -p->shift;
		else
			delta <<= p->shift;
		ns = p->system_time + (uint64_t)(((unsigned __int128)delta * p->mul) >> 32);
		__asm__ volatile("" ::: "memory");
	} while ((version & 1) || version != p->version);
	return ns;
}

static void guest_kvmclock(void)
{
	uint32_t a, b, c, d;
	uint64_t prev, now;
	int i;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x40000000), "c"(0));
	GUEST_ASSERT(b == 0x4b4d564b && c == 0x564b4d56 && d == 0x4d);
	GUEST_ASSERT(a >= 0x40000001);
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x40000001), "c"(0));
	GUEST_ASSERT(a & (1u << 3));		/* KVM_FEATURE_CLOCKSOURCE2 */
	/* KVM_FEATURE_CLOCKSOURCE_STABLE_BIT: without it Linux ignores the flag. */
	GUEST_ASSERT(a & (1u << 24));

	wrmsr(MSR_SYSTEM_TIME_NEW, PVTI_GPA | 1);
	GUEST_ASSERT_EQ(rdmsr(MSR_SYSTEM_TIME_NEW), PVTI_GPA | 1);
	GUEST_ASSERT_EQ(((volatile struct pvti *)PVTI_GPA)->version & 1, 0);
	GUEST_ASSERT(((volatile struct pvti *)PVTI_GPA)->mul != 0);
	/*
	 * PVCLOCK_TSC_STABLE_BIT (the master clock) depends on the host's TSC:
	 * neither device sets it in the two-vCPU test VM, so it is not checked.
	 */
	/* Never backwards. */
	prev = read_clock();
	for (i = 0; i < 1000; i++) {
		now = read_clock();
		GUEST_ASSERT(now >= prev);
		prev = now;
	}
	GUEST_SYNC(1, read_clock());		/* between two KVM_GET_CLOCKs */
	GUEST_SYNC(2, read_clock());		/* after KVM_SET_CLOCK */
	wrmsr(MSR_WALL_CLOCK_NEW, WALL_GPA);
	GUEST_SYNC(3, ((volatile struct wall *)WALL_GPA)->sec);
	GUEST_ASSERT_EQ(((volatile struct wall *)WALL_GPA)->version & 1, 0);
	/* Off: the structure is left alone. */
	wrmsr(MSR_SYSTEM_TIME_NEW, PVTI_GPA);
	GUEST_SYNC(4, ((volatile struct pvti *)PVTI_GPA)->system_time);
	GUEST_SYNC(5, ((volatile struct pvti *)PVTI_GPA)->system_time);
}

static uint64_t get_clock(struct vm *vm)
{
	struct kvm_clock_data data = {};

	EXPECT_OK(ioctl(vm->fd, KVM_GET_CLOCK, &data));
	return data.clock;
}

static void set_clock(struct vm *vm, uint64_t ns)
{
	struct kvm_clock_data data = { .clock = ns };

	EXPECT_OK(ioctl(vm->fd, KVM_SET_CLOCK, &data));
}

TEST_CASE_OPTS(clock_follows_vm_clock,
	       .why_not_compared = "the readings are times; both devices are checked against their own KVM_GET_CLOCK")
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_kvmclock, 0);
	uint64_t before, after, set_to = 1000ULL * 1000 * 1000 * 1000;	/* 1000 s */
	struct ucall uc;
	time_t wall;

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);	/* reads of phase 1 done */
	before = get_clock(v->vm);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 2);
	/* The SYNC(1) reading came before "before": check the next instead. */
	after = get_clock(v->vm);
	TEST_ASSERT(uc.args[1] + SLACK_NS >= before && uc.args[1] <= after + SLACK_NS,
		    "guest clock %llu outside the host's [%llu, %llu]",
		    (unsigned long long)uc.args[1], (unsigned long long)before,
		    (unsigned long long)after);
	set_clock(v->vm, set_to);
	before = get_clock(v->vm);
	TEST_ASSERT(before >= set_to, "KVM_GET_CLOCK %llu after setting %llu",
		    (unsigned long long)before, (unsigned long long)set_to);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 3);
	after = get_clock(v->vm);
	/* SYNC(3)'s wall clock: now - the VM clock, in seconds. */
	wall = time(NULL);
	TEST_ASSERT(uc.args[1] + 2 >= (uint64_t)wall - after / 1000000000ULL &&
		    uc.args[1] <= (uint64_t)wall - before / 1000000000ULL + 2,
		    "wall clock at VM clock 0: %llu s, host says about %llu s",
		    (unsigned long long)uc.args[1],
		    (unsigned long long)(wall - after / 1000000000ULL));
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);	/* SYNC(4): off */
	TEST_ASSERT_EQ(uc.args[0], 4);
	before = uc.args[1];
	set_clock(v->vm, 0);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[1], before);
	vm_free(v->vm);
}

/* Phase 2 of the guest reads the clock right after KVM_SET_CLOCK. */
TEST_CASE_OPTS(clock_after_set_clock,
	       .why_not_compared = "the readings are times; both devices are checked against their own KVM_GET_CLOCK")
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_kvmclock, 0);
	uint64_t set_to = 5000ULL * 1000 * 1000 * 1000, after;
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 1);
	set_clock(v->vm, set_to);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	after = get_clock(v->vm);
	TEST_ASSERT_EQ(uc.args[0], 2);
	TEST_ASSERT(uc.args[1] + SLACK_NS >= set_to && uc.args[1] <= after + SLACK_NS,
		    "guest clock %llu after KVM_SET_CLOCK(%llu), host clock now %llu",
		    (unsigned long long)uc.args[1], (unsigned long long)set_to,
		    (unsigned long long)after);
	vm_free(v->vm);
}

/* The VMM's side: the MSRs read back through KVM_GET_MSRS. */
TEST_CASE_OPTS(msrs_from_the_vmm,
	       .why_not_compared = "the guest's first SYNC carries a clock reading")
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_kvmclock, 0);
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[2];
	} m = { .h.nmsrs = 2, .e = { { .index = MSR_SYSTEM_TIME_NEW }, { .index = 0x12 } } };
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(ioctl(v->fd, KVM_GET_MSRS, &m), 2);
	TEST_ASSERT_EQ(m.e[0].data, PVTI_GPA | 1);
	TEST_ASSERT_EQ(m.e[1].data, PVTI_GPA | 1);	/* old and new numbers are one MSR */
	vm_free(v->vm);
}

/*
 * A wall clock address of 0 means "none", as in KVM: QEMU writes the MSRs'
 * reset value, 0, at every machine reset, and yakvm wrote the structure to
 * guest address 0 then -- over the real-mode vector table, which SeaBIOS
 * does not rebuild when it resumes from S3 (kvm-unit-tests' s3 failed).
 */
TEST_NO_GUEST(wall_clock_at_zero_not_written)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_kvmclock, 0);
	uint8_t *low = gpa_to_hva(v->vm, 0), before[16];
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[2];
	} m = { .h.nmsrs = 2, .e = { { .index = MSR_WALL_CLOCK_NEW }, { .index = 0x11 } } };

	memset(low, 0x5a, sizeof(before));
	memcpy(before, low, sizeof(before));
	TEST_ASSERT_EQ(ioctl(v->fd, KVM_SET_MSRS, &m), 2);
	TEST_ASSERT(!memcmp(low, before, sizeof(before)),
		    "writing 0 to the wall clock MSRs changed guest address 0: version now 0x%x",
		    *(uint32_t *)low);
	vm_free(v->vm);
}
