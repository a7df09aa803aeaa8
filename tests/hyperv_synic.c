// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-V's synthetic interrupt controller and synthetic timers (Hyper-V
 * TLFS chapters 11 and 12; api.rst: KVM_CAP_HYPERV_SYNIC/SYNIC2,
 * KVM_EXIT_HYPERV, KVM_IRQ_ROUTING_HV_SINT, KVM_HYPERV_EVENTFD), as KVM's
 * arch/x86/kvm/hyperv.c has them:
 *
 * - KVM_ENABLE_CAP(SYNIC2) on a vCPU needs the in-kernel irqchip; until
 *   then the guest's SynIC MSRs are #GP (the timers' only to writes) and
 *   the host may write them only with 0.  Enabled, SCONTROL reads 1,
 *   SVERSION 1, the SINTs masked; vectors below 16 are refused unless
 *   masked.  VP_INDEX is the vCPU's creation index, the host's to change,
 *   read-only to the guest.
 * - A guest write of SCONTROL, SIMP or SIEFP ends KVM_RUN with
 *   KVM_EXIT_HYPERV_SYNIC after the WRMSR; SYNIC (v1) clears a page the
 *   guest enables, SYNIC2 leaves it alone.
 * - A GSI routed to (VP, SINT) and KVM_IRQFD on it raises the SINT's
 *   vector; the resample eventfd hears the guest's EOI of it and its EOM
 *   writes.  An auto-EOI SINT's vector never enters the ISR.
 * - Synthetic timers: one-shot at an absolute reference time, into a
 *   HVMSG_TIMER_EXPIRED message in the SINT's slot of the SIMP page (a busy
 *   slot gets msg_pending and the timer retries at the EOM), periodic, and
 *   direct mode (an APIC vector, no message).
 * - With the SynIC on, HvPostMessage, and HvSignalEvent on a connection
 *   without an eventfd, go to the VMM (KVM_EXIT_HYPERV_HCALL), whose result
 *   the guest gets; without it they fail in the kernel.
 *   KVM_HYPERV_EVENTFD's connections are signalled without an exit.
 *
 * Every case expects the same answers from both devices.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "apic.h"
#include "guest.h"
#include "hyperv.h"
#include "irqchip.h"
#include "modes.h"
#include "vcpu_cpuid.h"

#define MSR_VP_INDEX		0x40000002
#define MSR_SCONTROL		0x40000080
#define MSR_SVERSION		0x40000081
#define MSR_SIEFP		0x40000082
#define MSR_SIMP		0x40000083
#define MSR_EOM			0x40000084
#define MSR_SINT(n)		(0x40000090 + (n))
#define MSR_STIMER_CONFIG(n)	(0x400000b0 + 2 * (n))
#define MSR_STIMER_COUNT(n)	(0x400000b1 + 2 * (n))

#define SINT_MASKED		(1ULL << 16)
#define SINT_AUTO_EOI		(1ULL << 17)
#define PAGE_ENABLE		1ULL		/* SIMP, SIEFP */

#define STIMER_ENABLE		(1ULL << 0)
#define STIMER_PERIODIC		(1ULL << 1)
#define STIMER_DIRECT		(1ULL << 12)
#define STIMER_VECTOR(v)	((uint64_t)(v) << 4)
#define STIMER_SINT(n)		((uint64_t)(n) << 16)

#define HVMSG_TIMER_EXPIRED	0x80000010
#define MSG_PENDING		0x01		/* message_flags */

#define HVCALL_POST_MESSAGE	0x005c
#define HVCALL_SIGNAL_EVENT	0x005d
#define HV_FAST			(1ULL << 16)
#define HV_REP_COUNT(n)		((uint64_t)(n) << 32)
#define HV_STATUS_SUCCESS	0
#define HV_STATUS_INVALID_INPUT	3
#define HV_STATUS_INVALID_PORT	0x11

#define SIMP_GPA		(GPA_SCRATCH + 0x3000)
#define SIEFP_GPA		(GPA_SCRATCH + 0x4000)
#define IN_GPA			(GPA_SCRATCH + 0x5000)
#define OUT_GPA			(GPA_SCRATCH + 0x6000)

/* 1 ms of reference time (100 ns units), a timer's delay. */
#define REF_1MS			10000ULL
/* How long a guest polls for what a timer does before it gives up: 20 s. */
#define REF_HANG_GUARD		200000000ULL

#define SINT_GSI		30	/* routed to (VP 0, SINT 2) */
#define SINT_AEOI_GSI		31	/* routed to (VP 0, SINT 4), auto-EOI */
#define VEC_SINT2		0x52
#define VEC_SINT4		0x54
#define VEC_TIMER		0x53	/* SINT 3, the timers' */
#define VEC_DIRECT		0x56	/* a direct-mode timer's */
#define CONN_ID			0x17

/* A message slot of the SIMP page (TLFS 11.9.2), a timer's payload (12.9.3). */
struct hv_message {
	volatile uint32_t type;
	volatile uint8_t payload_size;
	volatile uint8_t flags;
	uint16_t reserved;
	volatile uint64_t sender;
	volatile uint32_t timer_index;
	uint32_t reserved2;
	volatile uint64_t expiration_time;
	volatile uint64_t delivery_time;
	uint8_t rest[256 - 40];
};

_Static_assert(sizeof(struct hv_message) == 256, "a message slot is 256 bytes");

static struct hv_message *slot(unsigned int sint)
{
	return (struct hv_message *)(SIMP_GPA + sint * sizeof(struct hv_message));
}

static struct irq_record *rec(void)
{
	return &irq_rec[guest_vcpu_index()];
}

static void hypercall_page_on(void)
{
	wrmsr(MSR_GUEST_OS_ID, 0x8100000000000000ULL);
	wrmsr(MSR_HYPERCALL, HYPERCALL_GPA | 1);
}

/* ---------------------------------------------------------------- */
/* Host side                                                        */

static int enable_cap_raw(struct vcpu *v, uint32_t cap, uint64_t arg0, uint32_t flags)
{
	struct kvm_enable_cap c = { .cap = cap, .flags = flags, .args[0] = arg0 };

	return ioctl(v->fd, KVM_ENABLE_CAP, &c);
}

static void enable_synic(struct vcpu *v, uint32_t cap)
{
	EXPECT_OK(enable_cap_raw(v, cap, 0, 0));
}

struct one_msr {
	struct kvm_msrs h;
	struct kvm_msr_entry e;
};

/* KVM_SET_MSRS of one MSR: how many were set (1, or 0 when refused). */
static int set_msr(struct vcpu *v, uint32_t index, uint64_t data)
{
	struct one_msr m = { .h.nmsrs = 1, .e.index = index, .e.data = data };

	return EXPECT_OK(ioctl(v->fd, KVM_SET_MSRS, &m));
}

static uint64_t get_msr(struct vcpu *v, uint32_t index)
{
	struct one_msr m = { .h.nmsrs = 1, .e.index = index };

	TEST_ASSERT(ioctl(v->fd, KVM_GET_MSRS, &m) == 1, "KVM_GET_MSRS 0x%x", index);
	return m.e.data;
}

/* A VM with the irqchip and @nr vCPUs running @fn, the Hyper-V CPUID on each. */
static struct vm *hv_vm(const struct test_dev *dev, int nr, uint64_t fn, uint64_t arg)
{
	struct vm *vm = vm_irq_long(dev, nr, fn, arg);
	int i;

	for (i = 0; i < nr; i++)
		hv_set_cpuid(vm->vcpus[i]);
	return vm;
}

/* Runs @v until its next exit, which must be KVM_EXIT_HYPERV of @type. */
static struct kvm_hyperv_exit *expect_hv_exit(struct vcpu *v, uint32_t type)
{
	struct ucall uc;

	vcpu_run(v);
	if (v->run->exit_reason != KVM_EXIT_HYPERV) {
		if (vcpu_get_ucall(v, &uc) == UCALL_ASSERT)
			test_fail("guest assertion: %s", uc.message);
		test_fail("expected KVM_EXIT_HYPERV type %u, got %s", type, vcpu_exit_str(v));
	}
	TEST_ASSERT(v->run->hyperv.type == type, "KVM_EXIT_HYPERV type %u, expected %u",
		    v->run->hyperv.type, type);
	return &v->run->hyperv;
}

/* After a SynIC exit the guest is past its WRMSR (0f 30), RCX still the MSR. */
static void expect_past_wrmsr(struct vcpu *v, uint32_t msr)
{
	static const uint8_t wrmsr_insn[] = { 0x0f, 0x30 };
	struct kvm_regs regs;

	vcpu_get_regs(v, &regs);
	TEST_ASSERT(!memcmp(gpa_to_hva(v->vm, regs.rip - 2), wrmsr_insn, 2),
		    "RIP 0x%llx does not follow a WRMSR", (unsigned long long)regs.rip);
	TEST_ASSERT_EQ((uint32_t)regs.rcx, msr);
}

static void expect_synic_exit(struct vcpu *v, uint32_t msr, uint64_t control,
			      uint64_t evt_page, uint64_t msg_page)
{
	struct kvm_hyperv_exit *h = expect_hv_exit(v, KVM_EXIT_HYPERV_SYNIC);

	TEST_ASSERT_EQ(h->u.synic.msr, msr);
	TEST_ASSERT_EQ(h->u.synic.control, control);
	TEST_ASSERT_EQ(h->u.synic.evt_page, evt_page);
	TEST_ASSERT_EQ(h->u.synic.msg_page, msg_page);
	expect_past_wrmsr(v, msr);
}

static void expect_sync(struct vcpu *v, uint64_t step, struct ucall *uc)
{
	irq_expect_ucall(v, UCALL_SYNC, uc);
	TEST_ASSERT_EQ(uc->args[0], step);
}

/* The guest's GUEST_SYNC(step, value): a hypercall's status, an MSR read. */
static void expect_value(struct vcpu *v, uint64_t step, uint64_t value)
{
	struct ucall uc;

	expect_sync(v, step, &uc);
	TEST_ASSERT_EQ(uc.args[1], value);
}

/* ---------------------------------------------------------------- */
/* KVM_ENABLE_CAP and the supported CPUID                           */

TEST_NO_GUEST(enable_cap_rules)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	struct vcpu *v = vcpu_add(vm, 0);

	TEST_ASSERT(ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_HYPERV_SYNIC2) > 0,
		    "no KVM_CAP_HYPERV_SYNIC2");
	/* No in-kernel irqchip: no SynIC. */
	EXPECT_ERRNO(enable_cap_raw(v, KVM_CAP_HYPERV_SYNIC2, 0, 0), EINVAL);
	EXPECT_ERRNO(enable_cap_raw(v, KVM_CAP_HYPERV_SYNIC, 0, 0), EINVAL);
	vm_free(vm);

	vm = vm_create_with_irqchip(ctx->dev, 0);
	v = vcpu_add(vm, 0);
	EXPECT_ERRNO(enable_cap_raw(v, KVM_CAP_HYPERV_SYNIC2, 1, 0), EINVAL);
	EXPECT_ERRNO(enable_cap_raw(v, KVM_CAP_HYPERV_SYNIC2, 0, 1), EINVAL);
	EXPECT_ERRNO(enable_cap_raw(v, KVM_CAP_HYPERV_SYNIC, 0, 1), EINVAL);
	TEST_ASSERT_EQ(get_msr(v, MSR_SCONTROL), 0);
	EXPECT_OK(enable_cap_raw(v, KVM_CAP_HYPERV_SYNIC2, 0, 0));
	TEST_ASSERT_EQ(get_msr(v, MSR_SCONTROL), 1);
	v = vcpu_add(vm, 1);
	EXPECT_OK(enable_cap_raw(v, KVM_CAP_HYPERV_SYNIC, 0, 0));
	TEST_ASSERT_EQ(get_msr(v, MSR_SCONTROL), 1);
	irq_vm_free(vm);
}

/* Leaf 0x40000003 of the device's Hyper-V CPUID (KVM_GET_SUPPORTED_HV_CPUID on @fd). */
static struct kvm_cpuid_entry2 hv_features(int fd)
{
	struct kvm_cpuid_entry2 e[MAX_HV_LEAVES], found = {};
	uint32_t i, n = 0, nent = hv_supported_cpuid(fd, e);

	for (i = 0; i < nent; i++)
		if (e[i].function == 0x40000003) {
			found = e[i];
			n++;
		}
	TEST_ASSERT_EQ(n, 1);
	return found;
}

#define HV_STIMER_DIRECT_MODE	(1u << 19)	/* leaf 0x40000003 EDX */

/* What this file tests is offered: by the device, and to a vCPU with the in-kernel LAPIC. */
TEST_NO_GUEST(supported_hv_cpuid_synic)
{
	struct vcpu *v = vcpu_add(vm_create_with_irqchip(ctx->dev, 0), 0);
	/* TIME_REF_COUNT, SYNIC, SYNTIMER, HYPERCALL, VP_INDEX, REFERENCE_TSC */
	const uint32_t eax = 1u << 1 | 1u << 2 | 1u << 3 | 1u << 5 | 1u << 6 | 1u << 9;
	const uint32_t ebx = 1u << 4 | 1u << 5;		/* POST_MESSAGES, SIGNAL_EVENTS */
	int fds[2] = { v->vm->sys_fd, v->fd }, i;

	for (i = 0; i < 2; i++) {
		struct kvm_cpuid_entry2 e = hv_features(fds[i]);

		TEST_ASSERT((e.eax & eax) == eax, "leaf 0x40000003 EAX 0x%x", e.eax);
		TEST_ASSERT((e.ebx & ebx) == ebx, "leaf 0x40000003 EBX 0x%x", e.ebx);
		TEST_ASSERT(e.edx & HV_STIMER_DIRECT_MODE, "leaf 0x40000003 EDX 0x%x", e.edx);
	}
	irq_vm_free(v->vm);
}

/*
 * Direct-mode timers need the in-kernel LAPIC: a vCPU without one is not
 * offered them (KVM's kvm_get_hv_cpuid), though the device still is.
 */
TEST_NO_GUEST(hv_cpuid_direct_mode_needs_lapic)
{
	struct vcpu *v = vcpu_add(vm_create(ctx->dev, 0), 0);
	struct kvm_cpuid_entry2 e = hv_features(v->fd);

	TEST_ASSERT(!(e.edx & HV_STIMER_DIRECT_MODE),
		    "a vCPU without the in-kernel LAPIC is offered direct-mode timers (EDX 0x%x)",
		    e.edx);
	TEST_ASSERT(e.eax & (1u << 3), "no SYNTIMER in EAX 0x%x", e.eax);
	e = hv_features(v->vm->sys_fd);
	TEST_ASSERT(e.edx & HV_STIMER_DIRECT_MODE, "leaf 0x40000003 EDX 0x%x", e.edx);
	vm_free(v->vm);
}

/* ---------------------------------------------------------------- */
/* The MSRs                                                         */

static void guest_synic_msrs(void)
{
	uint64_t me = guest_vcpu_index(), v;
	int faults, i;

	/*
	 * No SynIC on this vCPU yet: its MSRs are #GP, and so are writes of
	 * the timers' (their reads are not: stimer_msrs_without_synic).
	 */
	faults = rdmsr_gp(MSR_SCONTROL, &v) + rdmsr_gp(MSR_SVERSION, &v) +
		 rdmsr_gp(MSR_SIMP, &v) + rdmsr_gp(MSR_SIEFP, &v) + rdmsr_gp(MSR_EOM, &v) +
		 rdmsr_gp(MSR_SINT(2), &v) + wrmsr_gp(MSR_SCONTROL, 1) +
		 wrmsr_gp(MSR_SINT(0), 0x50) + wrmsr_gp(MSR_EOM, 0) +
		 wrmsr_gp(MSR_STIMER_CONFIG(1), 0) + wrmsr_gp(MSR_STIMER_COUNT(1), 1);
	/* VP_INDEX is not the SynIC's: readable. */
	GUEST_SYNC(faults, rdmsr(MSR_VP_INDEX));	/* the host enables SYNIC2 */

	GUEST_ASSERT_EQ(rdmsr(MSR_SCONTROL), 1);
	GUEST_ASSERT_EQ(rdmsr(MSR_SVERSION), 1);
	GUEST_ASSERT_EQ(rdmsr(MSR_SIMP), 0);
	GUEST_ASSERT_EQ(rdmsr(MSR_SIEFP), 0);
	GUEST_ASSERT_EQ(rdmsr(MSR_EOM), 0);
	for (i = 0; i < 16; i++)
		GUEST_ASSERT_EQ(rdmsr(MSR_SINT(i)), SINT_MASKED);
	for (i = 0; i < 4; i++) {
		GUEST_ASSERT_EQ(rdmsr(MSR_STIMER_CONFIG(i)), 0);
		GUEST_ASSERT_EQ(rdmsr(MSR_STIMER_COUNT(i)), 0);
	}
	GUEST_ASSERT_EQ(rdmsr(MSR_VP_INDEX), me);
	/* Read-only SVERSION and VP_INDEX (even its own value), vectors 0-15. */
	faults = wrmsr_gp(MSR_SVERSION, 1) + wrmsr_gp(MSR_VP_INDEX, me) +
		 wrmsr_gp(MSR_VP_INDEX, 7) + wrmsr_gp(MSR_SINT(1), 5) +
		 wrmsr_gp(MSR_SINT(1), 15 | SINT_AUTO_EOI);
	GUEST_ASSERT_EQ(rdmsr(MSR_SINT(1)), SINT_MASKED);
	/* A masked low vector is taken (what Hyper-V guests write at boot). */
	faults += wrmsr_gp(MSR_SINT(1), 5 | SINT_MASKED) << 4;
	GUEST_ASSERT_EQ(rdmsr(MSR_SINT(1)), 5 | SINT_MASKED);
	faults += wrmsr_gp(MSR_SINT(1), 0x50 | SINT_AUTO_EOI) << 5;
	GUEST_ASSERT_EQ(rdmsr(MSR_SINT(1)), 0x50 | SINT_AUTO_EOI);
	faults += wrmsr_gp(MSR_EOM, 0) << 6;
	/* A timer not enabled keeps what it is given and does nothing. */
	faults += wrmsr_gp(MSR_STIMER_COUNT(1), 12345) << 7;
	faults += wrmsr_gp(MSR_STIMER_CONFIG(1), STIMER_SINT(5)) << 8;
	GUEST_ASSERT_EQ(rdmsr(MSR_STIMER_COUNT(1)), 12345);
	GUEST_ASSERT_EQ(rdmsr(MSR_STIMER_CONFIG(1)), STIMER_SINT(5));
	GUEST_SYNC(faults, rdmsr(MSR_SINT(1)));	/* the host sets VP_INDEX */
	GUEST_SYNC(rdmsr(MSR_VP_INDEX), rdmsr(MSR_SCONTROL));
}

/*
 * Two vCPUs, run one after the other: each reads its creation index as
 * its VP index, and the SynIC MSRs are #GP until the host enables it.
 */
TEST_CASE(synic_msrs)
{
	struct vm *vm = hv_vm(ctx->dev, 2, (uint64_t)(uintptr_t)guest_synic_msrs, 0);
	struct ucall uc;
	int i;

	for (i = 0; i < 2; i++) {
		struct vcpu *v = vm->vcpus[i];

		/* The host reads the MSRs at any time, and writes only 0 while off. */
		TEST_ASSERT_EQ(get_msr(v, MSR_SCONTROL), 0);
		TEST_ASSERT_EQ(get_msr(v, MSR_SVERSION), 1);
		TEST_ASSERT_EQ(get_msr(v, MSR_SINT(0)), SINT_MASKED);
		TEST_ASSERT_EQ(get_msr(v, MSR_VP_INDEX), i);
		TEST_ASSERT_EQ(set_msr(v, MSR_SINT(0), SINT_MASKED), 0);
		TEST_ASSERT_EQ(set_msr(v, MSR_STIMER_COUNT(0), 5), 0);
		TEST_ASSERT_EQ(set_msr(v, MSR_SIMP, 0), 1);
		TEST_ASSERT_EQ(set_msr(v, MSR_STIMER_CONFIG(0), 0), 1);

		irq_expect_ucall(v, UCALL_SYNC, &uc);
		TEST_ASSERT_EQ(uc.args[0], 11);		/* every access #GP */
		TEST_ASSERT_EQ(uc.args[1], i);		/* VP_INDEX */
		enable_synic(v, KVM_CAP_HYPERV_SYNIC2);
		irq_expect_ucall(v, UCALL_SYNC, &uc);
		TEST_ASSERT_EQ(uc.args[0], 5);		/* the five refused writes only */
		TEST_ASSERT_EQ(uc.args[1], 0x50 | SINT_AUTO_EOI);
		TEST_ASSERT_EQ(get_msr(v, MSR_SINT(1)), 0x50 | SINT_AUTO_EOI);
		TEST_ASSERT_EQ(get_msr(v, MSR_STIMER_COUNT(1)), 12345);
		TEST_ASSERT_EQ(set_msr(v, MSR_VP_INDEX, 5 + i), 1);
		TEST_ASSERT_EQ(get_msr(v, MSR_VP_INDEX), 5 + i);
		irq_expect_ucall(v, UCALL_SYNC, &uc);
		TEST_ASSERT_EQ(uc.args[0], 5 + i);
		TEST_ASSERT_EQ(uc.args[1], 1);
		irq_expect_ucall(v, UCALL_DONE, &uc);
	}
	irq_vm_free(vm);
}

/*
 * Without a SynIC the guest may still read the timers' MSRs -- KVM's
 * stimer_get_config/count check nothing -- while their writes, like every
 * other SynIC MSR access, are #GP.
 */
static void guest_stimer_msrs_off(void)
{
	uint64_t v, any = 0;
	int faults = 0, i;

	for (i = 0; i < 4; i++) {
		faults += rdmsr_gp(MSR_STIMER_CONFIG(i), &v);
		any |= v;
		faults += rdmsr_gp(MSR_STIMER_COUNT(i), &v);
		any |= v;
	}
	GUEST_SYNC(faults, any);
	faults = wrmsr_gp(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_SINT(3)) +
		 wrmsr_gp(MSR_STIMER_COUNT(0), 1) + wrmsr_gp(MSR_STIMER_CONFIG(1), 0) +
		 wrmsr_gp(MSR_STIMER_COUNT(1), 0);
	GUEST_SYNC(faults, rdmsr_gp(MSR_SCONTROL, &v));
}

TEST_CASE(stimer_msrs_without_synic)
{
	struct vm *vm = hv_vm(ctx->dev, 1, (uint64_t)(uintptr_t)guest_stimer_msrs_off, 0);
	struct vcpu *v = vm->vcpus[0];
	struct ucall uc;

	irq_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(uc.args[0] == 0, "%llu of the 8 reads of the timers' MSRs were #GP",
		    (unsigned long long)uc.args[0]);
	TEST_ASSERT_EQ(uc.args[1], 0);
	irq_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 4);
	TEST_ASSERT_EQ(uc.args[1], 1);
	irq_expect_ucall(v, UCALL_DONE, &uc);
	irq_vm_free(vm);
}

/* ---------------------------------------------------------------- */
/* KVM_EXIT_HYPERV_SYNIC                                            */

static bool page_is(uint64_t gpa, uint8_t byte)
{
	const volatile uint8_t *p = (const uint8_t *)gpa;
	uint64_t i;

	for (i = 0; i < PAGE_SIZE; i++)
		if (p[i] != byte)
			return false;
	return true;
}

/* @cleared: the device clears a page the guest enables (SYNIC, not SYNIC2). */
static void guest_synic_exit(uint64_t cleared)
{
	guest_memset((void *)SIMP_GPA, 0xa5, PAGE_SIZE);
	guest_memset((void *)SIEFP_GPA, 0x5a, PAGE_SIZE);
	wrmsr(MSR_SIMP, SIMP_GPA | PAGE_ENABLE);		/* exit */
	GUEST_SYNC(1, rdmsr(MSR_SIMP));
	wrmsr(MSR_SIEFP, SIEFP_GPA | PAGE_ENABLE);		/* exit */
	GUEST_SYNC(2, rdmsr(MSR_SIEFP));
	GUEST_ASSERT(page_is(SIMP_GPA, cleared ? 0 : 0xa5));
	GUEST_ASSERT(page_is(SIEFP_GPA, cleared ? 0 : 0x5a));
	/* Turning a page off clears nothing. */
	guest_memset((void *)SIMP_GPA, 0x77, PAGE_SIZE);
	wrmsr(MSR_SCONTROL, 0);					/* exit */
	wrmsr(MSR_SIMP, SIMP_GPA);				/* exit */
	wrmsr(MSR_SCONTROL, 1);					/* exit */
	GUEST_ASSERT(page_is(SIMP_GPA, 0x77));
	GUEST_SYNC(3, rdmsr(MSR_SCONTROL) | rdmsr(MSR_SIMP));
}

static void synic_exits(const struct test_dev *dev, uint32_t cap)
{
	struct vm *vm = hv_vm(dev, 1, (uint64_t)(uintptr_t)guest_synic_exit,
			      cap == KVM_CAP_HYPERV_SYNIC);
	struct vcpu *v = vm->vcpus[0];
	struct ucall uc;

	enable_synic(v, cap);
	expect_synic_exit(v, MSR_SIMP, 1, 0, SIMP_GPA | PAGE_ENABLE);
	/* The next KVM_RUN goes on after the WRMSR. */
	expect_value(v, 1, SIMP_GPA | PAGE_ENABLE);
	TEST_ASSERT_EQ(get_msr(v, MSR_SIMP), SIMP_GPA | PAGE_ENABLE);
	expect_synic_exit(v, MSR_SIEFP, 1, SIEFP_GPA | PAGE_ENABLE, SIMP_GPA | PAGE_ENABLE);
	expect_value(v, 2, SIEFP_GPA | PAGE_ENABLE);
	expect_synic_exit(v, MSR_SCONTROL, 0, SIEFP_GPA | PAGE_ENABLE, SIMP_GPA | PAGE_ENABLE);
	expect_synic_exit(v, MSR_SIMP, 0, SIEFP_GPA | PAGE_ENABLE, SIMP_GPA);
	expect_synic_exit(v, MSR_SCONTROL, 1, SIEFP_GPA | PAGE_ENABLE, SIMP_GPA);
	expect_value(v, 3, SIMP_GPA | 1);
	irq_expect_ucall(v, UCALL_DONE, &uc);
	irq_vm_free(vm);
}

TEST_CASE(synic_exit)
{
	synic_exits(ctx->dev, KVM_CAP_HYPERV_SYNIC2);
	synic_exits(ctx->dev, KVM_CAP_HYPERV_SYNIC);
}

/* ---------------------------------------------------------------- */
/* SINTs from the VMM: KVM_IRQ_ROUTING_HV_SINT and KVM_IRQFD        */

static volatile bool aeoi_armed, aeoi_isr_seen;

/* SINT 2: the host checks its resample eventfd before and after the EOI. */
static void on_sint2(struct ex_regs *regs)
{
	irq_record(regs->vector);
	GUEST_SYNC(1, apic_vector_bit(APIC_ISR, regs->vector));
	apic_eoi();
}

/*
 * SINT 4, auto-EOI: not in the ISR, so the dispatcher's check that tells
 * QEMU's re-delivered vectors (apic.h) is off; a delivery nobody asked for
 * is counted as such a phantom instead.
 */
static void on_sint4(struct ex_regs *regs)
{
	if (!aeoi_armed) {
		irq_phantoms[guest_vcpu_index()]++;
		return;
	}
	aeoi_armed = false;
	aeoi_isr_seen |= apic_vector_bit(APIC_ISR, regs->vector);
	irq_record(regs->vector);
}

static void guest_sint_irqfd(void)
{
	irq_install();
	apic_enable_xapic();
	irq_set_handler(VEC_SINT2, on_sint2);
	irq_set_handler(VEC_SINT4, on_sint4);
	wrmsr(MSR_SINT(2), VEC_SINT2);
	wrmsr(MSR_SINT(4), VEC_SINT4 | SINT_AUTO_EOI);
	GUEST_SYNC(0, 0);			/* the host writes SINT 2's eventfd */
	wait_count_hlt(&rec()->count[VEC_SINT2], 1);
	GUEST_SYNC(2, 0);			/* after the EOI */

	irq_check_isr = false;
	aeoi_armed = true;
	GUEST_SYNC(3, 0);			/* SINT 4's eventfd */
	wait_count_hlt(&rec()->count[VEC_SINT4], 1);
	GUEST_ASSERT(!aeoi_isr_seen);
	GUEST_ASSERT(!apic_vector_bit(APIC_ISR, VEC_SINT4));
	GUEST_ASSERT_EQ(apic_read(APIC_PPR), 0);
	/* No EOI: the same vector comes again. */
	aeoi_armed = true;
	GUEST_SYNC(4, 0);
	wait_count_hlt(&rec()->count[VEC_SINT4], 2);
	GUEST_ASSERT(!aeoi_isr_seen);
	irq_check_isr = true;
	wrmsr(MSR_EOM, 0);			/* every SINT's resampler hears it */
	GUEST_SYNC(5, rec()->n);
}

static struct kvm_irq_routing_entry route_hv_sint(uint32_t gsi, uint32_t vp, uint32_t sint)
{
	struct kvm_irq_routing_entry e = {
		.gsi = gsi, .type = KVM_IRQ_ROUTING_HV_SINT,
		.u.hv_sint = { .vcpu = vp, .sint = sint },
	};

	return e;
}

static void irqfd_resample(struct vm *vm, int fd, uint32_t gsi, int resamplefd)
{
	struct kvm_irqfd a = { .fd = (uint32_t)fd, .gsi = gsi, .flags = KVM_IRQFD_FLAG_RESAMPLE,
			       .resamplefd = (uint32_t)resamplefd };

	EXPECT_OK(ioctl(vm->fd, KVM_IRQFD, &a));
}

TEST_CASE(sint_irqfd)
{
	struct vm *vm = hv_vm(ctx->dev, 1, (uint64_t)(uintptr_t)guest_sint_irqfd, 0);
	struct vcpu *v = vm->vcpus[0];
	struct kvm_irq_routing_entry e[64];
	int fd = new_eventfd(), rfd = new_eventfd();
	int fd4 = new_eventfd(), rfd4 = new_eventfd();
	int n = default_routes(e);
	struct ucall uc;

	/* KVM looks the VP's SynIC up when the routes are set: enable it first. */
	enable_synic(v, KVM_CAP_HYPERV_SYNIC2);
	e[n++] = route_hv_sint(SINT_GSI, 0, 2);
	e[n++] = route_hv_sint(SINT_AEOI_GSI, 0, 4);
	vm_set_gsi_routing(vm, e, n);
	irqfd_resample(vm, fd, SINT_GSI, rfd);
	irqfd_resample(vm, fd4, SINT_AEOI_GSI, rfd4);

	expect_sync(v, 0, &uc);
	TEST_ASSERT_EQ(eventfd_take(rfd), 0);
	eventfd_signal(fd);
	/* In the handler, the vector in the ISR: nothing to resample yet. */
	expect_value(v, 1, 1);
	TEST_ASSERT_EQ(eventfd_take(rfd), 0);
	expect_sync(v, 2, &uc);
	TEST_ASSERT_EQ(eventfd_take(rfd), 1);	/* the EOI */
	TEST_ASSERT_EQ(eventfd_take(rfd4), 0);

	expect_sync(v, 3, &uc);
	eventfd_signal(fd4);
	expect_sync(v, 4, &uc);
	/* Auto-EOI: no EOI, so no resample. */
	TEST_ASSERT_EQ(eventfd_take(rfd4), 0);
	eventfd_signal(fd4);
	expect_sync(v, 5, &uc);
	TEST_ASSERT_EQ(uc.args[1], 3);		/* the interrupts the guest took */
	TEST_ASSERT_EQ(eventfd_take(rfd), 1);	/* the EOM */
	TEST_ASSERT_EQ(eventfd_take(rfd4), 1);
	irq_expect_ucall(v, UCALL_DONE, &uc);
	close(fd);
	close(rfd);
	close(fd4);
	close(rfd4);
	irq_vm_free(vm);
}

static void guest_route_first(void)
{
	irq_install();
	apic_enable_xapic();
	irq_set_handler(VEC_SINT2, irq_count_eoi);
	wrmsr(MSR_SINT(2), VEC_SINT2);
	GUEST_SYNC(0, 0);
	wait_count_hlt(&rec()->count[VEC_SINT2], 1);
	GUEST_SYNC(1, 0);			/* after the EOI */
	wrmsr(MSR_EOM, 0);
	GUEST_SYNC(2, 0);
}

/*
 * The route set before the SynIC is enabled: the SINT is raised all the
 * same (both devices look the VP up when the GSI fires).  DIFFERENCE: the
 * guest's end of the SINT reaches the resampler only on yakvm, which looks
 * the routes up then.  KVM maps each SINT to a GSI when the routing table
 * is set (kvm_hv_irq_routing_update: only for VPs whose SynIC is already
 * active), so a route set earlier never resamples.  QEMU enables the SynIC
 * before it adds its SINT routes.
 */
TEST_CASE(sint_route_before_synic)
{
	struct vm *vm = hv_vm(ctx->dev, 1, (uint64_t)(uintptr_t)guest_route_first, 0);
	struct vcpu *v = vm->vcpus[0];
	struct kvm_irq_routing_entry e[64];
	int fd = new_eventfd(), rfd = new_eventfd(), n = default_routes(e);
	uint64_t resampled = vm->is_yakvm ? 1 : 0;
	struct ucall uc;

	e[n++] = route_hv_sint(SINT_GSI, 0, 2);
	vm_set_gsi_routing(vm, e, n);
	enable_synic(v, KVM_CAP_HYPERV_SYNIC2);
	irqfd_resample(vm, fd, SINT_GSI, rfd);
	expect_sync(v, 0, &uc);
	eventfd_signal(fd);
	expect_sync(v, 1, &uc);
	TEST_ASSERT_EQ(eventfd_take(rfd), resampled);
	expect_sync(v, 2, &uc);
	TEST_ASSERT_EQ(eventfd_take(rfd), resampled);
	irq_expect_ucall(v, UCALL_DONE, &uc);
	close(fd);
	close(rfd);
	irq_vm_free(vm);
}

/* ---------------------------------------------------------------- */
/* Synthetic timers                                                 */

/* Polls (no interrupts) until @m's msg_pending is set; fails after REF_HANG_GUARD. */
static void wait_msg_pending(struct hv_message *m)
{
	uint64_t give_up = rdmsr(MSR_TIME_REF_COUNT) + REF_HANG_GUARD;

	while (!(m->flags & MSG_PENDING)) {
		GUEST_ASSERT(rdmsr(MSR_TIME_REF_COUNT) < give_up);
		cpu_relax();
	}
}

/* The slots of every SINT but @busy hold no message. */
static void assert_slots_free(unsigned int busy)
{
	unsigned int i;

	for (i = 0; i < 16; i++)
		if (i != busy)
			GUEST_ASSERT_EQ(slot(i)->type, 0);
}

static void guest_stimers(void)
{
	struct hv_message *m = slot(3);
	uint64_t count, exp[2];
	int i;

	irq_install();
	apic_enable_xapic();
	irq_set_handler(VEC_TIMER, irq_count_eoi);
	irq_set_handler(VEC_DIRECT, irq_count_eoi);
	wrmsr(MSR_SIMP, SIMP_GPA | PAGE_ENABLE);	/* a SynIC exit */
	wrmsr(MSR_SINT(3), VEC_TIMER);

	/* One-shot: COUNT is the absolute expiry time. */
	count = rdmsr(MSR_TIME_REF_COUNT) + REF_1MS;
	wrmsr(MSR_STIMER_COUNT(0), count);
	wrmsr(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_SINT(3));
	wait_count_hlt(&rec()->count[VEC_TIMER], 1);
	GUEST_ASSERT_EQ(m->type, HVMSG_TIMER_EXPIRED);
	GUEST_ASSERT_EQ(m->payload_size, 24);
	GUEST_ASSERT_EQ(m->flags, 0);
	GUEST_ASSERT_EQ(m->sender, 0);
	GUEST_ASSERT_EQ(m->timer_index, 0);
	GUEST_ASSERT_EQ(m->expiration_time, count);
	GUEST_ASSERT(m->delivery_time >= count);
	GUEST_ASSERT(m->delivery_time <= rdmsr(MSR_TIME_REF_COUNT));
	assert_slots_free(3);
	/* Done: no longer enabled, the rest of the configuration kept. */
	GUEST_ASSERT_EQ(rdmsr(MSR_STIMER_CONFIG(0)), STIMER_SINT(3));
	GUEST_ASSERT_EQ(rdmsr(MSR_STIMER_COUNT(0)), count);
	GUEST_SYNC(1, 0);

	/* The slot still busy: the next message waits for the EOM. */
	count = rdmsr(MSR_TIME_REF_COUNT) + REF_1MS;
	wrmsr(MSR_STIMER_COUNT(1), count);
	wrmsr(MSR_STIMER_CONFIG(1), STIMER_ENABLE | STIMER_SINT(3));
	wait_msg_pending(m);
	GUEST_ASSERT_EQ(m->timer_index, 0);		/* the old message, untouched */
	GUEST_ASSERT_EQ(rdmsr(MSR_STIMER_CONFIG(1)), STIMER_ENABLE | STIMER_SINT(3));
	sti_nop_cli();
	GUEST_ASSERT_EQ(rec()->count[VEC_TIMER], 1);
	m->type = 0;
	wrmsr(MSR_EOM, 0);
	wait_count_hlt(&rec()->count[VEC_TIMER], 2);
	GUEST_ASSERT_EQ(m->type, HVMSG_TIMER_EXPIRED);
	GUEST_ASSERT_EQ(m->flags, 0);
	GUEST_ASSERT_EQ(m->timer_index, 1);
	GUEST_ASSERT_EQ(m->expiration_time, count);
	GUEST_ASSERT(m->delivery_time >= count);
	GUEST_ASSERT_EQ(rdmsr(MSR_STIMER_CONFIG(1)), STIMER_SINT(3));
	m->type = 0;

	/* A one-shot time already past expires at once (TLFS 12.9.2), halted or not. */
	wrmsr(MSR_STIMER_COUNT(0), 1);
	wrmsr(MSR_STIMER_CONFIG(0), STIMER_ENABLE | STIMER_SINT(3));
	wait_count_hlt(&rec()->count[VEC_TIMER], 3);
	GUEST_ASSERT_EQ(m->type, HVMSG_TIMER_EXPIRED);
	GUEST_ASSERT_EQ(m->timer_index, 0);
	GUEST_ASSERT_EQ(m->expiration_time, 1);
	GUEST_ASSERT(m->delivery_time >= count);
	GUEST_ASSERT_EQ(rdmsr(MSR_STIMER_CONFIG(0)), STIMER_SINT(3));
	m->type = 0;
	GUEST_SYNC(2, 0);

	/* Periodic: COUNT is the period; ticks come a whole number of periods apart. */
	wrmsr(MSR_STIMER_COUNT(2), 2 * REF_1MS);
	wrmsr(MSR_STIMER_CONFIG(2), STIMER_ENABLE | STIMER_PERIODIC | STIMER_SINT(3));
	for (i = 0; i < 2; i++) {
		wait_count_hlt(&rec()->count[VEC_TIMER], 4 + i);
		GUEST_ASSERT_EQ(m->type, HVMSG_TIMER_EXPIRED);
		GUEST_ASSERT_EQ(m->timer_index, 2);
		exp[i] = m->expiration_time;
		GUEST_ASSERT(m->delivery_time >= exp[i]);
		m->type = 0;
		wrmsr(MSR_EOM, 0);
	}
	GUEST_ASSERT_EQ(rdmsr(MSR_STIMER_CONFIG(2)),
			STIMER_ENABLE | STIMER_PERIODIC | STIMER_SINT(3));
	wrmsr(MSR_STIMER_CONFIG(2), 0);
	GUEST_ASSERT(exp[1] > exp[0]);
	GUEST_ASSERT_EQ((exp[1] - exp[0]) % (2 * REF_1MS), 0);
	/* A tick written before it stopped: taken here; no message comes after. */
	sti_nop_cli();
	m->type = 0;
	GUEST_SYNC(3, 0);

	/* Direct mode: the vector, no message. */
	count = rdmsr(MSR_TIME_REF_COUNT) + REF_1MS;
	wrmsr(MSR_STIMER_COUNT(3), count);
	wrmsr(MSR_STIMER_CONFIG(3), STIMER_ENABLE | STIMER_DIRECT | STIMER_VECTOR(VEC_DIRECT));
	wait_count_hlt(&rec()->count[VEC_DIRECT], 1);
	GUEST_ASSERT_EQ(rdmsr(MSR_STIMER_CONFIG(3)), STIMER_DIRECT | STIMER_VECTOR(VEC_DIRECT));
	assert_slots_free(16);
	GUEST_SYNC(4, 0);
}

TEST_CASE_OPTS(stimer_message, .timeout_s = 90,
	       .why_not_compared = "the messages hold reference times, and the ticks land where the timers fire")
{
	struct vm *vm = hv_vm(ctx->dev, 1, (uint64_t)(uintptr_t)guest_stimers, 0);
	struct vcpu *v = vm->vcpus[0];
	struct ucall uc;
	int i;

	enable_synic(v, KVM_CAP_HYPERV_SYNIC2);
	expect_synic_exit(v, MSR_SIMP, 1, 0, SIMP_GPA | PAGE_ENABLE);
	for (i = 1; i <= 4; i++)
		expect_sync(v, i, &uc);
	irq_expect_ucall(v, UCALL_DONE, &uc);
	irq_vm_free(vm);
}

/* ---------------------------------------------------------------- */
/* HvPostMessage, HvSignalEvent, KVM_HYPERV_EVENTFD                 */

static void guest_hypercalls(void)
{
	hypercall_page_on();
	GUEST_SYNC(1, hv_hypercall(HVCALL_POST_MESSAGE, IN_GPA, OUT_GPA));		/* exit */
	GUEST_SYNC(2, hv_hypercall(HVCALL_POST_MESSAGE | HV_REP_COUNT(1), IN_GPA, OUT_GPA));
	GUEST_SYNC(3, hv_hypercall(HVCALL_SIGNAL_EVENT | HV_FAST, CONN_ID, 0));	/* exit */
	/* The host assigned CONN_ID an eventfd. */
	GUEST_SYNC(4, hv_hypercall(HVCALL_SIGNAL_EVENT | HV_FAST, CONN_ID, 0));
	*(volatile uint64_t *)IN_GPA = CONN_ID;
	GUEST_SYNC(5, hv_hypercall(HVCALL_SIGNAL_EVENT, IN_GPA, 0));		/* from memory */
	/* A flag number (bits 47:32): the VMM's. */
	GUEST_SYNC(6, hv_hypercall(HVCALL_SIGNAL_EVENT | HV_FAST, CONN_ID | 1ULL << 32, 0));
	/* Reserved bits: invalid input. */
	GUEST_SYNC(7, hv_hypercall(HVCALL_SIGNAL_EVENT | HV_FAST, CONN_ID | 1ULL << 48, 0));
	GUEST_SYNC(8, hv_hypercall(HVCALL_SIGNAL_EVENT | HV_FAST, CONN_ID | 1ULL << 24, 0));
	GUEST_SYNC(9, hv_hypercall(HVCALL_SIGNAL_EVENT | HV_FAST | HV_REP_COUNT(1), CONN_ID, 0));
	/* The host deassigned it. */
	GUEST_SYNC(10, hv_hypercall(HVCALL_SIGNAL_EVENT | HV_FAST, CONN_ID, 0));	/* exit */
	GUEST_SYNC(11, hv_hypercall(HVCALL_SIGNAL_EVENT, IN_GPA, 0));		/* exit */
}

static int hv_eventfd_raw(struct vm *vm, uint32_t conn_id, int fd, uint32_t flags)
{
	struct kvm_hyperv_eventfd a = { .conn_id = conn_id, .fd = fd, .flags = flags };

	return ioctl(vm->fd, KVM_HYPERV_EVENTFD, &a);
}

static void hv_eventfd(struct vm *vm, uint32_t conn_id, int fd, uint32_t flags)
{
	EXPECT_OK(hv_eventfd_raw(vm, conn_id, fd, flags));
}

static void expect_hcall_exit(struct vcpu *v, uint64_t input, uint64_t in, uint64_t out,
			      uint64_t result)
{
	struct kvm_hyperv_exit *h = expect_hv_exit(v, KVM_EXIT_HYPERV_HCALL);

	TEST_ASSERT_EQ(h->u.hcall.input, input);
	TEST_ASSERT_EQ(h->u.hcall.params[0], in);
	TEST_ASSERT_EQ(h->u.hcall.params[1], out);
	h->u.hcall.result = result;
}

TEST_CASE(hypercalls)
{
	struct vm *vm = hv_vm(ctx->dev, 1, (uint64_t)(uintptr_t)guest_hypercalls, 0);
	struct vcpu *v = vm->vcpus[0];
	int efd = new_eventfd();
	struct ucall uc;

	enable_synic(v, KVM_CAP_HYPERV_SYNIC2);
	expect_hcall_exit(v, HVCALL_POST_MESSAGE, IN_GPA, OUT_GPA, 0x1234);
	expect_sync(v, 1, &uc);
	TEST_ASSERT_EQ(uc.args[1], 0x1234);		/* the VMM's result */
	expect_value(v, 2, HV_STATUS_INVALID_INPUT);
	expect_hcall_exit(v, HVCALL_SIGNAL_EVENT | HV_FAST, CONN_ID, 0, HV_STATUS_INVALID_PORT);
	expect_value(v, 3, HV_STATUS_INVALID_PORT);

	hv_eventfd(vm, CONN_ID, efd, 0);
	expect_value(v, 4, HV_STATUS_SUCCESS);
	TEST_ASSERT_EQ(eventfd_take(efd), 1);
	expect_value(v, 5, HV_STATUS_SUCCESS);
	TEST_ASSERT_EQ(eventfd_take(efd), 1);
	expect_hcall_exit(v, HVCALL_SIGNAL_EVENT | HV_FAST, CONN_ID | 1ULL << 32, 0, 0x4321);
	expect_value(v, 6, 0x4321);
	expect_value(v, 7, HV_STATUS_INVALID_INPUT);
	expect_value(v, 8, HV_STATUS_INVALID_INPUT);
	expect_value(v, 9, HV_STATUS_INVALID_INPUT);
	TEST_ASSERT_EQ(eventfd_take(efd), 0);

	hv_eventfd(vm, CONN_ID, -1, KVM_HYPERV_EVENTFD_DEASSIGN);
	expect_hcall_exit(v, HVCALL_SIGNAL_EVENT | HV_FAST, CONN_ID, 0, HV_STATUS_INVALID_PORT);
	expect_value(v, 10, HV_STATUS_INVALID_PORT);
	/*
	 * DIFFERENCE: a slow HvSignalEvent goes to the VMM with params[0] the
	 * input GPA on yakvm, as the guest gave it and as QEMU's handler reads
	 * it (hyperv_hcall_signal_event loads the connection ID from there).
	 * KVM reads the connection ID into the same field (kvm_hvcall_signal_event
	 * overwrites hc->ingpa) and reports that instead.
	 */
	expect_hcall_exit(v, HVCALL_SIGNAL_EVENT, vm->is_yakvm ? IN_GPA : CONN_ID, 0,
			  HV_STATUS_INVALID_PORT);
	expect_value(v, 11, HV_STATUS_INVALID_PORT);
	TEST_ASSERT_EQ(eventfd_take(efd), 0);
	irq_expect_ucall(v, UCALL_DONE, &uc);
	close(efd);
	irq_vm_free(vm);
}

/*
 * Without a SynIC the VMM is not asked: HvPostMessage, and HvSignalEvent on
 * a connection without an eventfd, fail with HV_STATUS_INVALID_HYPERCALL_INPUT
 * (KVM's kvm_hv_hypercall: "don't bother userspace if it has no way to
 * handle it").  A connection with an eventfd needs no SynIC.
 */
static void guest_hcalls_no_synic(void)
{
	hypercall_page_on();
	GUEST_SYNC(1, hv_hypercall(HVCALL_POST_MESSAGE, IN_GPA, OUT_GPA));
	GUEST_SYNC(2, hv_hypercall(HVCALL_SIGNAL_EVENT | HV_FAST, CONN_ID, 0));
	GUEST_SYNC(3, hv_hypercall(HVCALL_SIGNAL_EVENT | HV_FAST, CONN_ID + 1, 0));
}

TEST_CASE(hypercalls_without_synic)
{
	struct vm *vm = hv_vm(ctx->dev, 1, (uint64_t)(uintptr_t)guest_hcalls_no_synic, 0);
	struct vcpu *v = vm->vcpus[0];
	int efd = new_eventfd();
	struct ucall uc;

	hv_eventfd(vm, CONN_ID + 1, efd, 0);
	expect_value(v, 1, HV_STATUS_INVALID_INPUT);
	expect_value(v, 2, HV_STATUS_INVALID_INPUT);
	expect_value(v, 3, HV_STATUS_SUCCESS);
	TEST_ASSERT_EQ(eventfd_take(efd), 1);
	irq_expect_ucall(v, UCALL_DONE, &uc);
	close(efd);
	irq_vm_free(vm);
}

TEST_NO_GUEST(hv_eventfd_rules)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	int fd = new_eventfd(), fd2 = new_eventfd(), null = open("/dev/null", O_RDWR);

	TEST_ASSERT(ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_HYPERV_EVENTFD) > 0,
		    "no KVM_CAP_HYPERV_EVENTFD");
	TEST_ASSERT(null >= 0, "/dev/null: %s", strerror(errno));
	EXPECT_OK(hv_eventfd_raw(vm, 5, fd, 0));
	EXPECT_ERRNO(hv_eventfd_raw(vm, 5, fd, 0), EEXIST);
	EXPECT_ERRNO(hv_eventfd_raw(vm, 5, fd2, 0), EEXIST);
	EXPECT_OK(hv_eventfd_raw(vm, 6, fd, 0));		/* one eventfd, two connections */
	EXPECT_OK(hv_eventfd_raw(vm, 5, -1, KVM_HYPERV_EVENTFD_DEASSIGN));
	EXPECT_ERRNO(hv_eventfd_raw(vm, 5, fd, KVM_HYPERV_EVENTFD_DEASSIGN), ENOENT);
	EXPECT_ERRNO(hv_eventfd_raw(vm, 7, fd, KVM_HYPERV_EVENTFD_DEASSIGN), ENOENT);
	EXPECT_OK(hv_eventfd_raw(vm, 5, fd2, 0));		/* free again */
	/* The whole 24-bit range, and nothing above it. */
	EXPECT_OK(hv_eventfd_raw(vm, 0, fd, 0));
	EXPECT_OK(hv_eventfd_raw(vm, 0xffffff, fd, 0));
	EXPECT_ERRNO(hv_eventfd_raw(vm, 0x1000000, fd, 0), EINVAL);
	EXPECT_ERRNO(hv_eventfd_raw(vm, 0x1000000, fd, KVM_HYPERV_EVENTFD_DEASSIGN), EINVAL);
	EXPECT_ERRNO(hv_eventfd_raw(vm, 8, fd, 2), EINVAL);
	EXPECT_ERRNO(hv_eventfd_raw(vm, 6, fd, KVM_HYPERV_EVENTFD_DEASSIGN | 2), EINVAL);
	/* Not an eventfd. */
	EXPECT_ERRNO(hv_eventfd_raw(vm, 8, -1, 0), EBADF);
	EXPECT_ERRNO(hv_eventfd_raw(vm, 8, null, 0), EINVAL);
	EXPECT_OK(hv_eventfd_raw(vm, 6, -1, KVM_HYPERV_EVENTFD_DEASSIGN));
	/* What stays assigned goes with the VM. */
	close(null);
	vm_free(vm);
	close(fd);
	close(fd2);
}
