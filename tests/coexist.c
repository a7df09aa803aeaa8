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

TEST_CASE_OPTS(busy_while_other_has_vm, .needs_other = true)
{
	int other = dev_open(ctx->other->path);
	int mine = dev_open(ctx->dev->path);
	int vm;

	vm = EXPECT_OK(ioctl(other, KVM_CREATE_VM, 0));
	EXPECT_ERRNO(ioctl(mine, KVM_CREATE_VM, 0), EBUSY);
	EXPECT_ERRNO(ioctl(mine, KVM_CREATE_VM, 0), EBUSY);
	close(vm);

	vm = EXPECT_OK(ioctl(mine, KVM_CREATE_VM, 0));
	EXPECT_ERRNO(ioctl(other, KVM_CREATE_VM, 0), EBUSY);
	close(vm);

	/* Guests of each run in turn. */
	run_guest(ctx->dev);
	run_guest(ctx->other);
	run_guest(ctx->dev);
	close(mine);
	close(other);
}
