// SPDX-License-Identifier: GPL-2.0
/*
 * The system fd (/dev/yakvm, /dev/kvm): each ioctl's good path and its bad
 * inputs, with the errno KVM gives.  Where yakvm documents another answer
 * than KVM, the case says so (docs/testing.md, "yakvm and KVM").
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#include <stdio.h>

#include "vm.h"

#define KVM_UNKNOWN_IOCTL	_IO(KVMIO, 0xff)
#define NR_VMS			8

TEST_NO_GUEST(get_api_version)
{
	int fd = dev_open(ctx->dev->path);

	TEST_ASSERT_EQ(EXPECT_OK(ioctl(fd, KVM_GET_API_VERSION, 0)), KVM_API_VERSION);
	EXPECT_ERRNO(ioctl(fd, KVM_GET_API_VERSION, 1), EINVAL);
	close(fd);
}

TEST_NO_GUEST(create_vm)
{
	int fd = dev_open(ctx->dev->path);
	int vms[NR_VMS], i;

	/* Any number of VMs per process, each its own fd. */
	for (i = 0; i < NR_VMS; i++)
		vms[i] = EXPECT_OK(ioctl(fd, KVM_CREATE_VM, 0));
	for (i = 0; i < NR_VMS; i++)
		close(vms[i]);
	/* Only the default VM type exists (no SEV, no protected VMs). */
	EXPECT_ERRNO(ioctl(fd, KVM_CREATE_VM, 1), EINVAL);
	EXPECT_ERRNO(ioctl(fd, KVM_CREATE_VM, 0xffffffffUL), EINVAL);
	EXPECT_ERRNO(ioctl(fd, KVM_CREATE_VM, 1UL << 63), EINVAL);
	close(fd);
}

static long cap_of(int fd, long cap)
{
	return EXPECT_OK(ioctl(fd, KVM_CHECK_EXTENSION, cap));
}

/*
 * Every capability a client tests, one row each: what yakvm answers and what
 * KVM (6.1, kvm_amd) answers.  ANY is "non-zero, the host decides" (a count
 * or a flag set that depends on the CPU).  A yakvm row of 0 where KVM has a
 * value is a feature yakvm does not have, and says which issue adds it;
 * claiming a capability that is not fully there would be the bug.
 */
#define ANY	(-1L)
#define SAME	(-2L)	/* KVM's answer is yakvm's */

static const struct cap_row {
	long cap;
	const char *name;
	long yakvm;
	long kvm;
} cap_rows[] = {
#define CAP(c, y, k)	{ KVM_CAP_##c, #c, y, k }
	CAP(USER_MEMORY, 1, SAME),
	CAP(SET_TSS_ADDR, 1, SAME),
	CAP(SET_IDENTITY_MAP_ADDR, 1, SAME),
	CAP(EXT_CPUID, 1, SAME),
	CAP(IMMEDIATE_EXIT, 1, SAME),
	CAP(READONLY_MEM, 1, SAME),
	CAP(INTERNAL_ERROR_DATA, 1, SAME),
	CAP(DESTROY_MEMORY_REGION_WORKS, 1, SAME),
	CAP(JOIN_MEMORY_REGIONS_WORKS, 1, SAME),
	CAP(SET_GUEST_DEBUG, 1, SAME),
	CAP(MP_STATE, 1, SAME),
	CAP(USER_NMI, 1, SAME),
	CAP(IOEVENTFD, 1, SAME),
	CAP(IOEVENTFD_ANY_LENGTH, 1, SAME),
	CAP(IOEVENTFD_NO_LENGTH, 1, SAME),
	CAP(SET_BOOT_CPU_ID, 1, SAME),
	CAP(ENABLE_CAP_VM, 1, SAME),
	CAP(CHECK_EXTENSION_VM, 1, SAME),
	CAP(IRQCHIP, 1, SAME),
	CAP(HLT, 1, SAME),
	CAP(IRQ_INJECT_STATUS, 1, SAME),
	CAP(IRQFD, 1, SAME),
	CAP(IRQFD_RESAMPLE, 1, SAME),
	CAP(SIGNAL_MSI, 1, SAME),
	CAP(PIT2, 1, SAME),
	CAP(PIT_STATE2, 1, SAME),
	CAP(REINJECT_CONTROL, 1, SAME),
	CAP(TSC_DEADLINE_TIMER, 1, SAME),
	CAP(IOAPIC_POLARITY_IGNORED, 1, SAME),
	CAP(SPLIT_IRQCHIP, 1, SAME),
	CAP(IRQ_ROUTING, 4096, SAME),
	CAP(COALESCED_MMIO, 2, SAME),	/* the ring's page offset in the vCPU mmap */
	CAP(COALESCED_PIO, 1, SAME),
	CAP(MANUAL_DIRTY_LOG_PROTECT2, KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE |
	    KVM_DIRTY_LOG_INITIALLY_SET, SAME),
	CAP(MCE, 32, SAME),		/* KVM_MAX_MCE_BANKS */
	CAP(VCPU_EVENTS, 1, SAME),
	CAP(DEBUGREGS, 1, SAME),
	CAP(GET_TSC_KHZ, 1, SAME),
	CAP(X86_ROBUST_SINGLESTEP, 1, SAME),
	CAP(XSAVE, 1, SAME),		/* every model the suite runs has XSAVE */
	CAP(XCRS, 1, SAME),
	CAP(XSAVE2, 4096, SAME),	/* no AMX: struct kvm_xsave's size */
	CAP(ADJUST_CLOCK, KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME |
	    KVM_CLOCK_HOST_TSC, SAME),
	/*
	 * Hyper-V: the clock (cpu/hyperv.c), the VP index, the SynIC with
	 * its timers and eventfds (irq/synic.c), enabled per vCPU.
	 */
	CAP(HYPERV, 1, SAME),
	CAP(HYPERV_TIME, 1, SAME),
	CAP(HYPERV_CPUID, 1, SAME),
	CAP(SYS_HYPERV_CPUID, 1, SAME),
	CAP(HYPERV_VP_INDEX, 1, SAME),
	CAP(HYPERV_SYNIC, 1, SAME),
	CAP(HYPERV_SYNIC2, 1, SAME),
	CAP(HYPERV_EVENTFD, 1, SAME),
	CAP(ENABLE_CAP, 1, SAME),	/* KVM_ENABLE_CAP on a vCPU */
	/* DIFFERENCE: yakvm's limits are 64 vCPUs, ids and slots. */
	CAP(MAX_VCPUS, 64, 1024),
	CAP(MAX_VCPU_ID, 64, 4096),
	CAP(NR_MEMSLOTS, 64, 32764),
	/* Not in yakvm, so not claimed. */
	CAP(SYNC_MMU, 0, 1),		/* yakvm pins guest pages */
	CAP(MULTI_ADDRESS_SPACE, 0, 2),	/* no SMM */
	CAP(X86_SMM, 0, 1),
	CAP(DIRTY_LOG_RING, 0, ANY),
	CAP(NESTED_STATE, 0, ANY),	/* no nested SVM for guests */
	CAP(X86_USER_SPACE_MSR, 0, 1),
	CAP(GET_MSR_FEATURES, 0, 1),
	CAP(EXCEPTION_PAYLOAD, 0, 1),
	/* Hyper-V's TLB-flush and IPI hypercalls, eVMCS. */
	CAP(HYPERV_TLBFLUSH, 0, 1),
	CAP(HYPERV_SEND_IPI, 0, 1),
	CAP(HYPERV_ENLIGHTENED_VMCS, 0, 0),	/* Intel's; kvm_amd has none */
	CAP(KVMCLOCK_CTRL, 0, 1),
	CAP(PIT, 0, 1),			/* the old KVM_CREATE_PIT; PIT2 is there */
#undef CAP
};

TEST_NO_GUEST(check_extension)
{
	int fd = dev_open(ctx->dev->path);
	int vm = EXPECT_OK(ioctl(fd, KVM_CREATE_VM, 0));
	long nr_vcpus, max_vcpus, max_id, slots, want, got;
	size_t i;

	for (i = 0; i < sizeof(cap_rows) / sizeof(cap_rows[0]); i++) {
		const struct cap_row *r = &cap_rows[i];

		want = ctx->dev->is_yakvm || r->kvm == SAME ? r->yakvm : r->kvm;
		/*
		 * DIFFERENCE: KVM 6.12 allows CONFIG_KVM_MAX_NR_VCPUS vCPUs
		 * (Debian: 4096) and four times as many vCPU ids.
		 */
		if (!ctx->dev->is_yakvm && host_kernel_at_least(6, 12)) {
			if (r->cap == KVM_CAP_MAX_VCPUS)
				want = 4096;
			else if (r->cap == KVM_CAP_MAX_VCPU_ID)
				want = 16384;
		}
		got = cap_of(fd, r->cap);
		if (want == ANY)
			TEST_ASSERT(got > 0, "KVM_CAP_%s: %ld, want > 0", r->name, got);
		else
			TEST_ASSERT(got == want, "KVM_CAP_%s: %ld, want %ld", r->name,
				    got, want);
		/* The VM fd answers as the system fd for all of these. */
		TEST_ASSERT_EQ(cap_of(vm, r->cap), got);
	}
	nr_vcpus = cap_of(fd, KVM_CAP_NR_VCPUS);
	max_vcpus = cap_of(fd, KVM_CAP_MAX_VCPUS);
	max_id = cap_of(fd, KVM_CAP_MAX_VCPU_ID);
	slots = cap_of(fd, KVM_CAP_NR_MEMSLOTS);
	/* The recommended count is the online CPUs, both. */
	TEST_ASSERT_EQ(nr_vcpus, sysconf(_SC_NPROCESSORS_ONLN));
	TEST_ASSERT(max_id >= max_vcpus, "MAX_VCPU_ID %ld < MAX_VCPUS %ld", max_id, max_vcpus);
	TEST_ASSERT(slots >= 32, "NR_MEMSLOTS %ld", slots);
	/* Unknown capabilities are simply not there. */
	TEST_ASSERT_EQ(cap_of(fd, 0x7fffffff), 0);
	TEST_ASSERT_EQ(cap_of(fd, -1), 0);
	close(vm);
	close(fd);
}

TEST_NO_GUEST(get_vcpu_mmap_size)
{
	int fd = dev_open(ctx->dev->path);
	long size = EXPECT_OK(ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0));

	/* kvm_run plus at least the PIO data page (KVM_PIO_PAGE_OFFSET). */
	TEST_ASSERT(size >= 2 * 4096 && size % 4096 == 0, "size %ld", size);
	/* kvm_run, the PIO data, the coalesced MMIO ring. */
	TEST_ASSERT_EQ(size, 3 * 4096);
	EXPECT_ERRNO(ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 1), EINVAL);
	close(fd);
}

static const struct kvm_cpuid_entry2 *leaf(const struct kvm_cpuid2 *c, uint32_t function,
					    uint32_t index)
{
	uint32_t i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == function &&
		    (!(c->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     c->entries[i].index == index))
			return &c->entries[i];
	return NULL;
}

/* A feature a CPUID table must not offer: leaf, register, bit, and why. */
struct hidden_bit {
	uint32_t function;
	char reg;		/* 'a', 'b', 'c', 'd' */
	int bit;
	const char *name;
};

/*
 * What yakvm must not offer (docs/design.md, driver/cpu/cpuid.c): SVM (no
 * nested virtualization), MCE/MCA (no machine-check MSRs), performance
 * counters, speculation-control MSRs it does not virtualize, MONITOR/MWAIT
 * (#UD); nor the TSC-deadline timer, which api.rst has the VMM find with
 * KVM_CAP_TSC_DEADLINE_TIMER and set itself (KVM does the same).  The APIC
 * and x2APIC are offered: the in-kernel LAPIC emulates both.
 */
static const struct hidden_bit yakvm_hidden[] = {
	{ 0x80000001, 'c', 2, "SVM" },
	{ 1, 'd', 7, "MCE" },
	{ 1, 'd', 14, "MCA" },
	{ 1, 'c', 24, "TSC deadline" },
	{ 1, 'c', 3, "MONITOR/MWAIT" },
	{ 1, 'c', 15, "PDCM (perf capabilities)" },
	{ 0x80000001, 'c', 23, "PerfCtrExtCore" },
	{ 0x80000001, 'c', 24, "PerfCtrExtNB" },
	{ 0x80000001, 'c', 28, "PerfCtrExtLLC" },
	{ 0x80000001, 'c', 10, "IBS" },
	{ 7, 'd', 26, "IBRS/IBPB (SPEC_CTRL)" },
	{ 7, 'd', 27, "STIBP" },
	{ 7, 'd', 29, "ARCH_CAPABILITIES" },
	{ 7, 'd', 31, "SSBD" },
	{ 0x80000008, 'b', 12, "IBPB" },
	{ 0x80000008, 'b', 14, "IBRS" },
	{ 0x80000008, 'b', 15, "STIBP" },
	{ 0x80000008, 'b', 24, "SSBD" },
	{ 0x80000008, 'b', 25, "VIRT_SSBD" },
};

static uint32_t reg_of(const struct kvm_cpuid_entry2 *e, char reg)
{
	return reg == 'a' ? e->eax : reg == 'b' ? e->ebx : reg == 'c' ? e->ecx : e->edx;
}

TEST_NO_GUEST(get_supported_cpuid)
{
	int fd = dev_open(ctx->dev->path);
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[256];
	} c = { .h.nent = 256 };
	struct kvm_cpuid2 tiny = { .nent = 0 };
	const struct kvm_cpuid_entry2 *e;
	char offered[512] = "";
	size_t i, n = 0;

	EXPECT_OK(ioctl(fd, KVM_GET_SUPPORTED_CPUID, &c));
	TEST_ASSERT(c.h.nent > 1 && c.h.nent <= 256, "nent %u", c.h.nent);
	TEST_ASSERT_EQ(c.e[0].function, 0);
	/*
	 * DIFFERENCE: yakvm's table sets the hypervisor bit (leaf 1 ECX[31]);
	 * KVM's leaves it to the VMM (QEMU sets it).
	 */
	e = leaf(&c.h, 1, 0);
	TEST_ASSERT(e, "no leaf 1");
	TEST_ASSERT_EQ(e->ecx >> 31, ctx->dev->is_yakvm);
	/* yakvm's table (KVM offers several of these: its own documented answer). */
	for (i = 0; ctx->dev->is_yakvm && i < sizeof(yakvm_hidden) / sizeof(yakvm_hidden[0]); i++) {
		const struct hidden_bit *h = &yakvm_hidden[i];

		e = leaf(&c.h, h->function, 0);
		if (e && (reg_of(e, h->reg) >> h->bit & 1))
			n += snprintf(offered + n, sizeof(offered) - n, "%s%s", n ? ", " : "", h->name);
		if (n >= sizeof(offered))
			break;
	}
	TEST_ASSERT(!offered[0], "the supported CPUID offers what yakvm does not virtualize: %s",
		    offered);
	/* No architectural PMU leaf (0xA) either. */
	if (ctx->dev->is_yakvm) {
		e = leaf(&c.h, 0xa, 0);
		TEST_ASSERT(!e || !(e->eax & 0xff), "leaf 0xA offers PMU version %u", e->eax & 0xff);
	}
	EXPECT_ERRNO(ioctl(fd, KVM_GET_SUPPORTED_CPUID, &tiny), E2BIG);
	EXPECT_ERRNO(ioctl(fd, KVM_GET_SUPPORTED_CPUID, NULL), EFAULT);
	close(fd);
}

TEST_NO_GUEST(get_msr_index_list)
{
	int fd = dev_open(ctx->dev->path);
	struct {
		struct kvm_msr_list h;
		uint32_t indices[1024];
	} l = { .h.nmsrs = 1024 };
	struct kvm_msr_list tiny = { .nmsrs = 0 };

	EXPECT_OK(ioctl(fd, KVM_GET_MSR_INDEX_LIST, &l));
	TEST_ASSERT(l.h.nmsrs > 0, "no MSRs listed");
	EXPECT_ERRNO(ioctl(fd, KVM_GET_MSR_INDEX_LIST, &tiny), E2BIG);
	TEST_ASSERT_EQ(tiny.nmsrs, l.h.nmsrs);	/* says how many there are */
	EXPECT_ERRNO(ioctl(fd, KVM_GET_MSR_INDEX_LIST, NULL), EFAULT);
	close(fd);
}

/* KVM answers unknown system ioctls with -EINVAL (kvm_arch_dev_ioctl), yakvm too. */
TEST_NO_GUEST(unknown_ioctl)
{
	int fd = dev_open(ctx->dev->path);
	struct termios t;

	EXPECT_ERRNO(ioctl(fd, KVM_UNKNOWN_IOCTL, 0), EINVAL);
	EXPECT_ERRNO(ioctl(fd, TCGETS, &t), EINVAL);
	/* KVM_GET_API_VERSION's number with a size: another ioctl. */
	EXPECT_ERRNO(ioctl(fd, _IOR(KVMIO, 0x00, int), 0), EINVAL);
	close(fd);
}

/* VM and vCPU ioctls sent to the system fd are unknown there. */
TEST_NO_GUEST(wrong_fd_type)
{
	int fd = dev_open(ctx->dev->path);
	struct kvm_userspace_memory_region r = { .memory_size = 4096 };
	struct kvm_regs regs;

	EXPECT_ERRNO(ioctl(fd, KVM_CREATE_VCPU, 0), EINVAL);
	EXPECT_ERRNO(ioctl(fd, KVM_SET_USER_MEMORY_REGION, &r), EINVAL);
	EXPECT_ERRNO(ioctl(fd, KVM_RUN, 0), EINVAL);
	EXPECT_ERRNO(ioctl(fd, KVM_GET_REGS, &regs), EINVAL);
	close(fd);
}

TEST_NO_GUEST(mmap_system_fd)
{
	int fd = dev_open(ctx->dev->path);

	EXPECT_ERRNO((long)mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0), ENODEV);
	close(fd);
}
