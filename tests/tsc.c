// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's time stamp counter: RDTSC only moves forward, also across
 * exits; RDTSCP returns the TSC_AUX the host set (KVM_SET_MSRS) and the
 * guest's own after WRMSR; a write of IA32_TSC, by the guest or by the host,
 * moves the guest's TSC to that value (the TSC offset) and it goes on from
 * there; KVM_GET_MSRS reads the guest's TSC, not the host's; a guest's TSC
 * write moves IA32_TSC_ADJUST by as much, a host's does not.  The guest
 * reports comparisons, never raw TSC values: those differ in every run.
 */
#include <sys/ioctl.h>

#include "guest.h"
#include "modes.h"
#include "vcpu_cpuid.h"

#define MSR_IA32_TSC	0x10
#define MSR_TSC_ADJUST	0x3b
#define MSR_TSC_AUX	0xc0000103
#define GUEST_TSC	(1ULL << 50)	/* far beyond anything the host's TSC reads */
#define HOST_TSC	(1ULL << 52)

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static uint64_t rdtscp(uint32_t *aux)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(*aux));
	return (uint64_t)hi << 32 | lo;
}

static void wrmsr(uint32_t index, uint64_t value)
{
	__asm__ volatile("wrmsr" : : "c"(index), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

static uint64_t rdmsr(uint32_t index)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(index));
	return (uint64_t)hi << 32 | lo;
}

#define TSC_STEP	(1ULL << 40)
#define TSC_SLACK	(1ULL << 36)	/* TSC ticks between the RDTSC and the WRMSR */

/*
 * IA32_TSC_ADJUST (SDM 17.17.3): a write of IA32_TSC moves it by the same
 * amount the TSC moved; a write of it moves the TSC.
 */
static void guest_tsc_adjust(void)
{
	uint64_t adj;

	GUEST_SYNC(rdmsr(MSR_TSC_ADJUST) == 0, 0);
	wrmsr(MSR_IA32_TSC, rdtsc() + TSC_STEP);
	adj = rdmsr(MSR_TSC_ADJUST);
	GUEST_SYNC(adj <= TSC_STEP && adj > TSC_STEP - TSC_SLACK, 0);
	wrmsr(MSR_TSC_ADJUST, adj - TSC_STEP);	/* the TSC goes back by TSC_STEP */
	GUEST_SYNC(rdtsc() < TSC_STEP, 0);
}

static void guest_tsc(void)
{
	uint64_t a, b, c;
	uint32_t aux;

	a = rdtsc();
	b = rdtsc();
	GUEST_SYNC(b > a, 0);				/* it moves */
	c = rdtsc();					/* ... and across an exit */
	GUEST_SYNC(c > b, 0);
	rdtscp(&aux);
	GUEST_SYNC(aux, 0);				/* what the host set */
	wrmsr(MSR_TSC_AUX, 0x5a5a);
	rdtscp(&aux);
	GUEST_SYNC(aux, 0);
	wrmsr(MSR_IA32_TSC, GUEST_TSC);
	a = rdtsc();
	GUEST_SYNC(a >= GUEST_TSC && a < 2 * GUEST_TSC, 0);	/* from the written value on */
	b = rdtsc();
	GUEST_SYNC(b > a && b < 2 * GUEST_TSC, 0);	/* after an exit too */
	a = rdtsc();					/* the host wrote HOST_TSC meanwhile */
	GUEST_SYNC(a >= HOST_TSC && a < 2 * HOST_TSC, 0);
}

static uint64_t get_msr(struct vcpu *v, uint32_t index)
{
	struct { struct kvm_msrs h; struct kvm_msr_entry e; } m = {
		.h.nmsrs = 1, .e.index = index,
	};

	TEST_ASSERT_EQ(ioctl(v->fd, KVM_GET_MSRS, &m), 1);
	return m.e.data;
}

static void set_msr(struct vcpu *v, uint32_t index, uint64_t value)
{
	struct { struct kvm_msrs h; struct kvm_msr_entry e; } m = {
		.h.nmsrs = 1, .e.index = index, .e.data = value,
	};

	TEST_ASSERT_EQ(ioctl(v->fd, KVM_SET_MSRS, &m), 1);
}

TEST_CASE(tsc_and_offset)
{
	static const char *const what[] = {
		"RDTSC moves", "RDTSC moves across an exit", "TSC_AUX set by the host",
		"TSC_AUX set by the guest", "the guest's TSC write", "the TSC goes on",
		"the host's TSC write",
	};
	const uint64_t want[] = { 1, 1, 0x1234, 0x5a5a, 1, 1, 1 };
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_tsc, 0);
	struct ucall uc;
	size_t i;

	set_msr(v, MSR_TSC_AUX, 0x1234);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
		TEST_ASSERT(uc.args[0] == want[i], "%s: the guest reports 0x%llx, expected 0x%llx",
			    what[i], (unsigned long long)uc.args[0], (unsigned long long)want[i]);
		if (i == 5) {
			uint64_t tsc = get_msr(v, MSR_IA32_TSC);

			TEST_ASSERT(tsc >= GUEST_TSC && tsc < 2 * GUEST_TSC,
				    "KVM_GET_MSRS reads TSC 0x%llx, not the guest's",
				    (unsigned long long)tsc);
			set_msr(v, MSR_IA32_TSC, HOST_TSC);
		}
	}
	TEST_ASSERT_EQ(get_msr(v, MSR_TSC_AUX), 0x5a5a);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

TEST_CASE(tsc_adjust_follows_tsc_writes)
{
	static const char *const what[] = {
		"TSC_ADJUST starts at 0", "a TSC write moved TSC_ADJUST by as much",
		"a TSC_ADJUST write moved the TSC",
	};
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_tsc_adjust, 0);
	struct cpuid_bit tsc_adjust = { 7, 0, CPUID_EBX, 1 };
	struct ucall uc;
	uint64_t adj;
	size_t i;

	TEST_ASSERT(vcpu_cpuid_has(v, tsc_adjust),
		    "the supported CPUID does not offer TSC_ADJUST (KVM emulates it)");
	for (i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
		TEST_ASSERT(uc.args[0], "%s: the guest says no", what[i]);
	}
	/* A host write of the TSC leaves TSC_ADJUST where the guest put it. */
	adj = get_msr(v, MSR_TSC_ADJUST);
	set_msr(v, MSR_IA32_TSC, HOST_TSC);
	TEST_ASSERT_EQ(get_msr(v, MSR_TSC_ADJUST), adj);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}
