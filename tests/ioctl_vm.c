// SPDX-License-Identifier: GPL-2.0
/*
 * The VM fd: KVM_CREATE_VCPU, KVM_SET_TSS_ADDR, KVM_SET_IDENTITY_MAP_ADDR,
 * KVM_CHECK_EXTENSION, unknown and misdirected ioctls, and calls from a
 * process that does not own the VM.  Memory slots have their own file
 * (memslots.c).  Differences from KVM are named where they are checked.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm.h"

#define KVM_UNKNOWN_IOCTL	_IO(KVMIO, 0xff)
/* A sanity bound: KVM 6.1 allows 1024 vCPUs per VM, yakvm 64. */
#define MAX_VCPUS_TO_FILL	4096

static long cap(struct vm *vm, long c)
{
	return EXPECT_OK(ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, c));
}

TEST_NO_GUEST(create_vcpu)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	long max_id = cap(vm, KVM_CAP_MAX_VCPU_ID);
	int i, fd;

	/* At least 16 vCPUs per VM, ids in any order. */
	for (i = 15; i >= 0; i--)
		EXPECT_OK(ioctl(vm->fd, KVM_CREATE_VCPU, i));
	EXPECT_ERRNO(ioctl(vm->fd, KVM_CREATE_VCPU, 0), EEXIST);
	EXPECT_ERRNO(ioctl(vm->fd, KVM_CREATE_VCPU, 15), EEXIST);
	EXPECT_ERRNO(ioctl(vm->fd, KVM_CREATE_VCPU, max_id), EINVAL);
	EXPECT_ERRNO(ioctl(vm->fd, KVM_CREATE_VCPU, -1L), EINVAL);
	/*
	 * DIFFERENCE: KVM 6.1 truncates the id to 32 bits (1 << 32 becomes 0,
	 * which exists); yakvm, and KVM since 6.12, reject ids that do not fit.
	 */
	EXPECT_ERRNO(ioctl(vm->fd, KVM_CREATE_VCPU, 1UL << 32),
		     ctx->dev->is_yakvm || host_kernel_at_least(6, 12) ? EINVAL : EEXIST);
	/* The highest id is usable. */
	fd = EXPECT_OK(ioctl(vm->fd, KVM_CREATE_VCPU, max_id - 1));
	close(fd);
	vm_free(vm);
}

/* Every id below KVM_CAP_MAX_VCPUS gets a vCPU; then the VM is full. */
TEST_NO_GUEST(create_vcpu_until_full)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	long max = cap(vm, KVM_CAP_MAX_VCPUS);
	long max_id = cap(vm, KVM_CAP_MAX_VCPU_ID);
	int i;

	struct rlimit fds = { max + 64, max + 64 };	/* a fd per vCPU */

	if (max > MAX_VCPUS_TO_FILL)
		test_skip("KVM_CAP_MAX_VCPUS is %ld: too many to create here", max);
	TEST_ASSERT(!setrlimit(RLIMIT_NOFILE, &fds), "cannot allow %ld fds", max + 64);
	for (i = 0; i < max; i++)
		EXPECT_OK(ioctl(vm->fd, KVM_CREATE_VCPU, i));
	if (max_id > max)
		EXPECT_ERRNO(ioctl(vm->fd, KVM_CREATE_VCPU, max), EINVAL);
	vm_free(vm);
}

TEST_NO_GUEST(set_tss_addr)
{
	struct vm *vm = vm_create(ctx->dev, 0);

	/* Only VMX needs the real-mode TSS; SVM (KVM's and yakvm) accepts it. */
	EXPECT_OK(ioctl(vm->fd, KVM_SET_TSS_ADDR, 0xfffbd000UL));
	vcpu_add(vm, 0);
	EXPECT_OK(ioctl(vm->fd, KVM_SET_TSS_ADDR, 0xfffbd000UL));
	vm_free(vm);
}

TEST_NO_GUEST(set_identity_map_addr)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	uint64_t addr = 0xfeffc000;

	EXPECT_OK(ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &addr));
	EXPECT_ERRNO(ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, NULL), EFAULT);
	/* Too late once a vCPU exists. */
	vcpu_add(vm, 0);
	EXPECT_ERRNO(ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &addr), EINVAL);
	vm_free(vm);
}

TEST_NO_GUEST(check_extension_on_vm)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	static const long caps[] = {
		KVM_CAP_USER_MEMORY, KVM_CAP_NR_VCPUS, KVM_CAP_MAX_VCPUS,
		KVM_CAP_NR_MEMSLOTS, KVM_CAP_IMMEDIATE_EXIT, KVM_CAP_READONLY_MEM,
		0x7fffffff,
	};
	size_t i;

	/* The VM fd answers as the system fd does. */
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		TEST_ASSERT_EQ(EXPECT_OK(ioctl(vm->fd, KVM_CHECK_EXTENSION, caps[i])),
			       cap(vm, caps[i]));
	vm_free(vm);
}

/* KVM answers unknown VM ioctls with -ENOTTY (kvm_arch_vm_ioctl); so does yakvm. */
TEST_NO_GUEST(unknown_ioctl)
{
	struct vm *vm = vm_create(ctx->dev, 0);

	EXPECT_ERRNO(ioctl(vm->fd, KVM_UNKNOWN_IOCTL, 0), ENOTTY);
	/* KVM_SET_USER_MEMORY_REGION's number with the wrong size. */
	EXPECT_ERRNO(ioctl(vm->fd, _IOW(KVMIO, 0x46, uint32_t), 0), ENOTTY);
	vm_free(vm);
}

/* System and vCPU ioctls sent to a VM fd. */
TEST_NO_GUEST(wrong_fd_type)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	struct kvm_regs regs;

	EXPECT_ERRNO(ioctl(vm->fd, KVM_CREATE_VM, 0), ENOTTY);
	EXPECT_ERRNO(ioctl(vm->fd, KVM_GET_API_VERSION, 0), ENOTTY);
	EXPECT_ERRNO(ioctl(vm->fd, KVM_GET_VCPU_MMAP_SIZE, 0), ENOTTY);
	EXPECT_ERRNO(ioctl(vm->fd, KVM_RUN, 0), ENOTTY);
	EXPECT_ERRNO(ioctl(vm->fd, KVM_GET_REGS, &regs), ENOTTY);
	EXPECT_ERRNO((long)mmap(NULL, 4096, PROT_READ, MAP_SHARED, vm->fd, 0), ENODEV);
	vm_free(vm);
}

/* A VM belongs to the process that created it: others get -EIO (as KVM). */
TEST_NO_GUEST(other_process)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	struct vcpu *v = vcpu_add(vm, 0);
	struct kvm_regs regs;
	int status;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		int vm_errno, vcpu_errno;

		vm_errno = ioctl(vm->fd, KVM_CREATE_VCPU, 1) ? errno : 0;
		vcpu_errno = ioctl(v->fd, KVM_GET_REGS, &regs) ? errno : 0;
		_exit((vm_errno == EIO) | (vcpu_errno == EIO) << 1);
	}
	TEST_ASSERT(pid > 0, "fork failed");
	waitpid(pid, &status, 0);
	TEST_ASSERT(WIFEXITED(status) && (WEXITSTATUS(status) & 1),
		    "KVM_CREATE_VCPU from another process did not fail with EIO");
	TEST_ASSERT(WEXITSTATUS(status) & 2,
		    "KVM_GET_REGS from another process did not fail with EIO");
	/* The owner still can. */
	EXPECT_OK(ioctl(v->fd, KVM_GET_REGS, &regs));
	vm_free(vm);
}
