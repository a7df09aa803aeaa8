// SPDX-License-Identifier: GPL-2.0
/*
 * yakvm and kvm_amd take turns owning SVM (EFER.SVME and VM_HSAVE_PA): while
 * one device has a VM, KVM_CREATE_VM on the other fails with EBUSY; once
 * the VM is gone the other works.  Run with DEV = yakvm this checks the
 * order "KVM first", with DEV = kvm the order "yakvm first".
 */
#include <sys/ioctl.h>
#include <unistd.h>

#include "modes.h"

GUEST_CODE16(say_done, ASM_UCALL_DONE);

static void run_guest(const struct test_dev *dev)
{
	struct vcpu *v = vm_with_low_code(dev, MODE_REAL, &say_done);
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

/*
 * DIFFERENCE: KVM_CREATE_VM on /dev/kvm while yakvm owns SVM fails with
 * EBUSY on Linux 6.1 but with EIO on 6.12, whose KVM turns a CPU that could
 * not enable virtualization ("kvm: enabling virtualization on CPU0 failed")
 * into EIO.  yakvm answers EBUSY on both (docs/testing.md).
 */
static int busy_errno(const struct test_dev *dev)
{
	return !dev->is_yakvm && host_kernel_at_least(6, 12) ? EIO : EBUSY;
}

TEST_CASE_OPTS(busy_while_other_has_vm, .needs_other = true)
{
	int other = dev_open(ctx->other->path);
	int mine = dev_open(ctx->dev->path);
	int vm;

	vm = EXPECT_OK(ioctl(other, KVM_CREATE_VM, 0));
	EXPECT_ERRNO(ioctl(mine, KVM_CREATE_VM, 0), busy_errno(ctx->dev));
	EXPECT_ERRNO(ioctl(mine, KVM_CREATE_VM, 0), busy_errno(ctx->dev));
	close(vm);

	vm = EXPECT_OK(ioctl(mine, KVM_CREATE_VM, 0));
	EXPECT_ERRNO(ioctl(other, KVM_CREATE_VM, 0), busy_errno(ctx->other));
	close(vm);

	/* Guests of each run in turn. */
	run_guest(ctx->dev);
	run_guest(ctx->other);
	run_guest(ctx->dev);
	close(mine);
	close(other);
}
