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

TEST_NO_GUEST(check_extension)
{
	int fd = dev_open(ctx->dev->path);
	long nr_vcpus, max_vcpus, max_id, slots;

	TEST_ASSERT_EQ(cap_of(fd, KVM_CAP_USER_MEMORY), 1);
	TEST_ASSERT_EQ(cap_of(fd, KVM_CAP_IMMEDIATE_EXIT), 1);
	TEST_ASSERT_EQ(cap_of(fd, KVM_CAP_READONLY_MEM), 1);
	TEST_ASSERT_EQ(cap_of(fd, KVM_CAP_SET_TSS_ADDR), 1);
	nr_vcpus = cap_of(fd, KVM_CAP_NR_VCPUS);
	max_vcpus = cap_of(fd, KVM_CAP_MAX_VCPUS);
	max_id = cap_of(fd, KVM_CAP_MAX_VCPU_ID);
	slots = cap_of(fd, KVM_CAP_NR_MEMSLOTS);
	TEST_ASSERT(nr_vcpus >= 1 && nr_vcpus <= max_vcpus, "NR_VCPUS %ld, MAX_VCPUS %ld",
		    nr_vcpus, max_vcpus);
	TEST_ASSERT(max_vcpus >= 16, "MAX_VCPUS %ld", max_vcpus);
	TEST_ASSERT(max_id >= max_vcpus, "MAX_VCPU_ID %ld < MAX_VCPUS %ld", max_id, max_vcpus);
	TEST_ASSERT(slots >= 32, "NR_MEMSLOTS %ld", slots);
	/* Unknown capabilities are simply not there. */
	TEST_ASSERT_EQ(cap_of(fd, 0x7fffffff), 0);
	TEST_ASSERT_EQ(cap_of(fd, -1), 0);
	if (ctx->dev->is_yakvm) {
		/* yakvm's limits, and no claim of what it does not implement. */
		TEST_ASSERT_EQ(max_vcpus, 64);
		TEST_ASSERT_EQ(max_id, 64);
		TEST_ASSERT_EQ(slots, 64);
		TEST_ASSERT_EQ(cap_of(fd, KVM_CAP_IRQCHIP), 0);
		TEST_ASSERT_EQ(cap_of(fd, KVM_CAP_COALESCED_MMIO), 0);
		TEST_ASSERT_EQ(cap_of(fd, KVM_CAP_IOEVENTFD), 0);
		TEST_ASSERT_EQ(cap_of(fd, KVM_CAP_MULTI_ADDRESS_SPACE), 0);
		TEST_ASSERT_EQ(cap_of(fd, KVM_CAP_DIRTY_LOG_RING), 0);
	}
	close(fd);
}

TEST_NO_GUEST(get_vcpu_mmap_size)
{
	int fd = dev_open(ctx->dev->path);
	long size = EXPECT_OK(ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0));

	/* kvm_run plus at least the PIO data page (KVM_PIO_PAGE_OFFSET). */
	TEST_ASSERT(size >= 2 * 4096 && size % 4096 == 0, "size %ld", size);
	if (ctx->dev->is_yakvm)
		TEST_ASSERT_EQ(size, 2 * 4096);	/* no coalesced MMIO page */
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
 * (#UD), an APIC (no in-kernel LAPIC yet).
 */
static const struct hidden_bit yakvm_hidden[] = {
	{ 0x80000001, 'c', 2, "SVM" },
	{ 1, 'd', 7, "MCE" },
	{ 1, 'd', 14, "MCA" },
	{ 1, 'd', 9, "APIC" },
	{ 1, 'c', 21, "x2APIC" },
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
