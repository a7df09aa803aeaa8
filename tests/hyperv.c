// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-V's clock (Hyper-V TLFS chapters 3 and 12; api.rst,
 * KVM_GET_SUPPORTED_HV_CPUID): the device lists the Hyper-V leaves it
 * implements; a guest whose CPUID carries them (as QEMU's hv-passthrough
 * builds it: the device's leaves at 0x40000000, KVM's own moved away) gets
 * the partition reference counter, the reference TSC page and the
 * hypercall page, and a guest without them gets #GP.  The counter is the
 * VM's clock in 100 ns units: it lies between the host's KVM_GET_CLOCK
 * readings around it and follows KVM_SET_CLOCK.  While the page is valid,
 * the counter read between two page readings lies between them (what
 * kvm-unit-tests' hyperv_clock checks).  Same answers from both devices.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "apic.h"
#include "guest.h"
#include "hyperv.h"
#include "modes.h"
#include "vcpu_cpuid.h"

#define MSR_REFERENCE_TSC	0x40000021
#define HV_SIGNATURE		0x31237648	/* "Hv#1" */
#define FEATURES_TIME		(1u << 1 | 1u << 9)	/* TIME_REF_COUNT, REFERENCE_TSC */
#define TSC_PAGE_GPA		(GPA_SCRATCH + 0x1000)
/* Host clock against guest TSC line: 500 ppm over a slow run, in 100 ns. */
#define SLACK_100NS		5000ULL

struct tsc_page {
	volatile uint32_t sequence, reserved;
	volatile uint64_t scale;
	volatile int64_t offset;
};

/* The page's time, as a guest reads it (TLFS 12.7.3); 0 if not valid. */
static uint64_t page_time(void)
{
	struct tsc_page *p = (struct tsc_page *)TSC_PAGE_GPA;
	uint32_t seq;
	uint64_t t;

	do {
		seq = p->sequence;
		if (!seq || seq == 0xffffffff)
			return 0;
		__asm__ volatile("" ::: "memory");
		t = (uint64_t)(((unsigned __int128)rdtsc() * p->scale) >> 64) + p->offset;
		__asm__ volatile("" ::: "memory");
	} while (seq != p->sequence);
	return t;
}

/* Without the Hyper-V leaves in its CPUID: every access is #GP. */
static void guest_no_hyperv(void)
{
	uint64_t v;
	int faults = rdmsr_gp(MSR_TIME_REF_COUNT, &v) + rdmsr_gp(MSR_REFERENCE_TSC, &v) +
		     wrmsr_gp(MSR_GUEST_OS_ID, 1) + wrmsr_gp(MSR_REFERENCE_TSC, TSC_PAGE_GPA | 1);

	GUEST_SYNC(1, faults);
}

static void guest_clock(void)
{
	uint64_t prev, now, t1, t2;
	int i, valid;

	wrmsr(MSR_REFERENCE_TSC, TSC_PAGE_GPA | 1);
	GUEST_ASSERT_EQ(rdmsr(MSR_REFERENCE_TSC), TSC_PAGE_GPA | 1);
	valid = page_time() != 0;
	prev = rdmsr(MSR_TIME_REF_COUNT);
	for (i = 0; i < 2000; i++) {
		t1 = page_time();
		now = rdmsr(MSR_TIME_REF_COUNT);
		t2 = page_time();
		GUEST_ASSERT(now >= prev);
		if (valid)
			GUEST_ASSERT(t1 <= now && now <= t2);
		prev = now;
	}
	GUEST_SYNC(valid, rdmsr(MSR_TIME_REF_COUNT));	/* between KVM_GET_CLOCKs */
	GUEST_SYNC(valid, rdmsr(MSR_TIME_REF_COUNT));	/* after KVM_SET_CLOCK */
	GUEST_SYNC(page_time() != 0, page_time());	/* the page followed too */
	wrmsr(MSR_REFERENCE_TSC, 0);
	GUEST_ASSERT_EQ(rdmsr(MSR_REFERENCE_TSC), 0);
	GUEST_ASSERT(rdmsr(MSR_TIME_REF_COUNT) >= prev);
}

static void guest_hypercalls(void)
{
	/* No OS ID: the hypercall MSR ignores writes (as Hyper-V's spec says). */
	wrmsr(MSR_HYPERCALL, HYPERCALL_GPA | 1);
	GUEST_ASSERT_EQ(rdmsr(MSR_HYPERCALL), 0);
	wrmsr(MSR_GUEST_OS_ID, 0x8100000000000000ULL);
	wrmsr(MSR_HYPERCALL, HYPERCALL_GPA | 1);
	GUEST_ASSERT_EQ(rdmsr(MSR_HYPERCALL), HYPERCALL_GPA | 1);
	GUEST_SYNC(1, 0);				/* the host reads the page */
	GUEST_SYNC(2, hv_hypercall(0x0008, 0, 0));		/* HvNotifyLongSpinWait */
	GUEST_SYNC(3, hv_hypercall(0x0099, 0, 0));		/* no such call */
	GUEST_SYNC(4, hv_hypercall(0x0008 | 1ULL << 32, 0, 0));	/* a rep count on a simple call */
	/* The OS ID gone, the hypercall page is off. */
	wrmsr(MSR_GUEST_OS_ID, 0);
	GUEST_ASSERT_EQ(rdmsr(MSR_HYPERCALL), HYPERCALL_GPA);
}

static const struct kvm_cpuid_entry2 *leaf(const struct kvm_cpuid_entry2 *e, uint32_t n,
					   uint32_t function)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (e[i].function == function)
			return &e[i];
	return NULL;
}

/*
 * What the leaves must hold for hv-time: the interface signature and the
 * two clock MSRs.  DIFFERENCE: KVM lists more (nested and enlightened VMCS
 * features, TLB flush and IPI hypercalls, ...: ten leaves); yakvm offers
 * 0x40000000-5 (the clock, the VP index, the SynIC and its timers:
 * hyperv_synic.c checks those).
 */
TEST_NO_GUEST(supported_hv_cpuid)
{
	struct vcpu *v = vcpu_add(vm_create(ctx->dev, 0), 0);
	struct kvm_cpuid_entry2 e[MAX_HV_LEAVES];
	const struct kvm_cpuid_entry2 *l;
	struct { struct kvm_cpuid2 h; struct kvm_cpuid_entry2 e[1]; } small = { .h.nent = 1 };
	int fds[2] = { v->vm->sys_fd, v->fd }, i;
	uint32_t n;

	TEST_ASSERT(ioctl(v->vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_HYPERV_CPUID) > 0,
		    "no KVM_CAP_HYPERV_CPUID");
	TEST_ASSERT(ioctl(v->vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYS_HYPERV_CPUID) > 0,
		    "no KVM_CAP_SYS_HYPERV_CPUID");
	TEST_ASSERT(ioctl(v->vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_HYPERV_TIME) > 0,
		    "no KVM_CAP_HYPERV_TIME");
	for (i = 0; i < 2; i++) {
		EXPECT_ERRNO(ioctl(fds[i], KVM_GET_SUPPORTED_HV_CPUID, &small), E2BIG);
		n = hv_supported_cpuid(fds[i], e);
		l = leaf(e, n, 0x40000000);
		TEST_ASSERT(l && l->eax >= 0x40000005, "leaf 0x40000000: %s",
			    l ? "max below 0x40000005" : "missing");
		l = leaf(e, n, 0x40000001);
		TEST_ASSERT(l && l->eax == HV_SIGNATURE, "no \"Hv#1\" in leaf 0x40000001");
		l = leaf(e, n, 0x40000003);
		TEST_ASSERT(l && (l->eax & FEATURES_TIME) == FEATURES_TIME,
			    "leaf 0x40000003 lacks the clock MSRs");
	}
	vm_free(v->vm);
}

TEST_CASE(msrs_need_the_cpuid)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_no_hyperv, 0);
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[1], 4);
	vm_free(v->vm);
}

static uint64_t get_clock(struct vm *vm)
{
	struct kvm_clock_data data = {};

	EXPECT_OK(ioctl(vm->fd, KVM_GET_CLOCK, &data));
	return data.clock;
}

TEST_CASE_OPTS(reference_counter_and_page,
	       .why_not_compared = "the readings are times; both devices are checked against their own KVM_GET_CLOCK")
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_clock, 0);
	uint64_t before, after, set_to = 1000ULL * 1000 * 1000 * 1000;	/* 1000 s */
	struct kvm_clock_data data = { .clock = set_to };
	struct ucall uc;

	hv_set_cpuid(v);
	before = get_clock(v->vm) / 100;
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	after = get_clock(v->vm) / 100;
	test_log("TSC page %s", uc.args[0] ? "valid" : "not valid (no master clock): the MSR only");
	TEST_ASSERT(uc.args[1] + SLACK_100NS >= before && uc.args[1] <= after + SLACK_100NS,
		    "reference counter %llu outside the host's [%llu, %llu]",
		    (unsigned long long)uc.args[1], (unsigned long long)before,
		    (unsigned long long)after);
	EXPECT_OK(ioctl(v->vm->fd, KVM_SET_CLOCK, &data));
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	after = get_clock(v->vm) / 100;
	TEST_ASSERT(uc.args[1] + SLACK_100NS >= set_to / 100 && uc.args[1] <= after + SLACK_100NS,
		    "reference counter %llu after KVM_SET_CLOCK(%llu s), host clock now %llu",
		    (unsigned long long)uc.args[1], (unsigned long long)(set_to / 1000000000),
		    (unsigned long long)after);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	if (uc.args[0])
		TEST_ASSERT(uc.args[1] + SLACK_100NS >= set_to / 100 &&
			    uc.args[1] <= after + SLACK_100NS,
			    "TSC page time %llu after KVM_SET_CLOCK, host clock %llu",
			    (unsigned long long)uc.args[1], (unsigned long long)after);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

/*
 * Whether the page is valid depends on the host's TSC (both devices need
 * their master clock), not on the device: the two must agree, which the
 * comparison of this case's ucalls checks -- reference_counter_and_page
 * accepts either.
 */
static void guest_page_validity(void)
{
	wrmsr(MSR_REFERENCE_TSC, TSC_PAGE_GPA | 1);
	GUEST_SYNC(page_time() != 0, 0);
}

TEST_CASE(page_validity)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_page_validity, 0);
	struct ucall uc;

	hv_set_cpuid(v);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	test_log("TSC page %s", uc.args[0] ? "valid" : "not valid");
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

TEST_CASE(hypercall_page)
{
	static const uint8_t vmmcall_ret[] = { 0x0f, 0x01, 0xd9, 0xc3 };
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_hypercalls, 0);
	struct ucall uc;

	hv_set_cpuid(v);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(!memcmp(gpa_to_hva(v->vm, HYPERCALL_GPA), vmmcall_ret, sizeof(vmmcall_ret)),
		    "the hypercall page does not hold VMMCALL; RET");
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[1], 0);		/* HV_STATUS_SUCCESS */
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[1], 2);		/* HV_STATUS_INVALID_HYPERCALL_CODE */
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[1], 3);		/* HV_STATUS_INVALID_HYPERCALL_INPUT */
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}
