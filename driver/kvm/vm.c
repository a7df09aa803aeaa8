// SPDX-License-Identifier: GPL-2.0
/*
 * The VM file descriptor: creation and destruction of a VM, its ioctls, and
 * kicking its vCPUs out of guest mode.
 *
 * Lifetime: the VM fd and every vCPU fd each hold a reference; vCPUs are
 * freed with the VM, when the last of those fds is closed (as in KVM), so a
 * vCPU never outlives the memory it maps.
 */
#define pr_fmt(fmt) "yakvm: " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <asm/msr.h>

#include "yakvm.h"

static atomic_t vm_ids = ATOMIC_INIT(0);

static void vm_destroy(struct yakvm_vm *vm)
{
	int i;

	yakvm_stats_vm_remove(vm);
	for (i = 0; i < vm->nr_vcpus; i++)
		yakvm_vcpu_free(vm->vcpus[i]);
	yakvm_free_slots(vm);
	yakvm_npt_destroy(vm);
	yakvm_svm_put();
	mmdrop(vm->mm);
	kfree(vm);
	atomic_long_dec(&yakvm_counters.vms);
}

void yakvm_vm_put(struct yakvm_vm *vm)
{
	if (refcount_dec_and_test(&vm->users))
		vm_destroy(vm);
}

static void kick_noop(void *info)
{
}

/*
 * Make every vCPU of @vm see @request before its next entry, and wait until
 * none is still running on state that predates the request.  A vCPU in guest
 * mode takes the IPI as an INTR #VMEXIT; smp_call_function_many() returns
 * once each target CPU has run the (empty) handler, i.e. left the guest.
 * Called with mmu_lock held (the slot and NPT changes it publishes).
 */
void yakvm_vm_kick_all(struct yakvm_vm *vm, unsigned long request)
{
	cpumask_var_t cpus;
	int i, n;
	bool have_mask;

	lockdep_assert_held(&vm->mmu_lock);
	have_mask = zalloc_cpumask_var(&cpus, GFP_KERNEL);
	/* Pairs with smp_store_release() in yakvm_create_vcpu(). */
	n = smp_load_acquire(&vm->nr_vcpus);
	for (i = 0; i < n; i++) {
		struct yakvm_vcpu *vcpu = vm->vcpus[i];

		set_bit(ilog2(request), &vcpu->requests);
		/* Pairs with the barrier between mode = IN_GUEST and the request check. */
		smp_mb__after_atomic();
		if (have_mask && READ_ONCE(vcpu->mode) == YAKVM_IN_GUEST)
			cpumask_set_cpu(READ_ONCE(vcpu->cpu), cpus);
	}
	preempt_disable();
	if (have_mask)
		smp_call_function_many(cpus, kick_noop, NULL, true);
	else
		smp_call_function(kick_noop, NULL, true);
	preempt_enable();
	vm->stats.remote_flushes++;
	if (have_mask)
		free_cpumask_var(cpus);
}

static long vm_set_identity_map_addr(struct yakvm_vm *vm, void __user *argp)
{
	u64 addr;
	long r;

	if (copy_from_user(&addr, argp, sizeof(addr)))
		return -EFAULT;
	/*
	 * SVM has no use for the identity map (only VMX's real mode needs
	 * it); as in KVM, it can only be set before the first vCPU exists.
	 */
	mutex_lock(&vm->lock);
	r = vm->nr_vcpus ? -EINVAL : 0;
	mutex_unlock(&vm->lock);
	return r;
}

static long vm_set_memory_region(struct yakvm_vm *vm, void __user *argp)
{
	struct kvm_userspace_memory_region mem;

	if (copy_from_user(&mem, argp, sizeof(mem)))
		return -EFAULT;
	return yakvm_set_memory_region(vm, &mem);
}

static long yakvm_vm_ioctl(struct file *filp, unsigned int ioctl,
			   unsigned long arg)
{
	struct yakvm_vm *vm = filp->private_data;
	void __user *argp = (void __user *)arg;

	/* A VM belongs to the process that created it (as in KVM). */
	if (vm->mm != current->mm)
		return -EIO;

	switch (ioctl) {
	case KVM_CREATE_VCPU:
		return yakvm_create_vcpu(vm, arg);
	case KVM_SET_USER_MEMORY_REGION:
		return vm_set_memory_region(vm, argp);
	case KVM_SET_TSS_ADDR:
		/* Only VMX needs a real-mode TSS; SVM runs real mode natively. */
		return 0;
	case KVM_SET_IDENTITY_MAP_ADDR:
		return vm_set_identity_map_addr(vm, argp);
	case KVM_CHECK_EXTENSION:
		return yakvm_check_extension(arg);
	default:
		return -ENOTTY;
	}
}

static int yakvm_vm_release(struct inode *inode, struct file *filp)
{
	yakvm_vm_put(filp->private_data);
	return 0;
}

static const struct file_operations yakvm_vm_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = yakvm_vm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.release = yakvm_vm_release,
	.llseek = noop_llseek,
};

long yakvm_create_vm(unsigned long type)
{
	struct yakvm_vm *vm;
	int r, fd;

	/* Only the default VM type exists on SVM without SEV. */
	if (type != 0)
		return -EINVAL;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;
	atomic_long_inc(&yakvm_counters.vms);
	refcount_set(&vm->users, 1);
	mutex_init(&vm->lock);
	mutex_init(&vm->mmu_lock);
	vm->mm = current->mm;
	mmgrab(vm->mm);
	vm->id = atomic_inc_return(&vm_ids);

	r = yakvm_npt_init(vm);
	if (r)
		goto err_free;
	r = yakvm_svm_get();
	if (r)
		goto err_npt;
	/* All vCPUs share one offset, so their TSCs agree (APM 15.30.5). */
	vm->tsc_offset = -rdtsc();
	yakvm_stats_vm_add(vm);

	fd = anon_inode_getfd("yakvm-vm", &yakvm_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		yakvm_vm_put(vm);
	return fd;

err_npt:
	yakvm_npt_destroy(vm);
err_free:
	mmdrop(vm->mm);
	kfree(vm);
	atomic_long_dec(&yakvm_counters.vms);
	return r;
}
