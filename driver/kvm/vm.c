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
#include <linux/timekeeping.h>

#include "yakvm.h"

static atomic_t vm_ids = ATOMIC_INIT(0);

static void vm_destroy(struct yakvm_vm *vm)
{
	int i;

	yakvm_stats_vm_remove(vm);
	/* Interrupt sources first: their work and timers reach the vCPUs. */
	yakvm_irq_destroy(vm);
	yakvm_coalesced_destroy(vm);
	for (i = 0; i < vm->nr_vcpus; i++)
		yakvm_vcpu_free(vm->vcpus[i]);
	yakvm_hv_eventfds_destroy(vm);
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

/* KVM_SET_BOOT_CPU_ID: which vCPU is the BSP, before any exists. */
static long vm_set_boot_cpu_id(struct yakvm_vm *vm, unsigned long id)
{
	long r = 0;

	mutex_lock(&vm->lock);
	if (vm->nr_vcpus)
		r = -EBUSY;
	else if (id >= YAKVM_MAX_VCPUS)
		r = -EINVAL;
	else
		WRITE_ONCE(vm->bsp_vcpu_id, id);
	mutex_unlock(&vm->lock);
	return r;
}

/*
 * KVM_GET/SET_CLOCK (api.rst): the VM's clock, in nanoseconds -- the host's
 * boot-time clock plus the VM's offset -- which is what kvmclock shows the
 * guest (cpu/kvmclock.c).  A VMM saves and restores it (QEMU on migration)
 * and finds it counting on.  No master clock: the vCPUs' kvmclock pairs are
 * taken at different times, so KVM_CLOCK_TSC_STABLE is not reported; the
 * real time and host TSC are read right after the clock.
 */
#define CLOCK_FLAGS	(KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC)

static long vm_clock(struct yakvm_vm *vm, void __user *argp, bool set)
{
	struct kvm_clock_data data;
	u64 now;

	if (!set) {
		memset(&data, 0, sizeof(data));
		preempt_disable();
		data.clock = yakvm_vm_clock_ns(vm);
		data.realtime = ktime_get_real_ns();
		data.host_tsc = rdtsc();
		preempt_enable();
		data.flags = KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC;
		return copy_to_user(argp, &data, sizeof(data)) ? -EFAULT : 0;
	}
	if (copy_from_user(&data, argp, sizeof(data)))
		return -EFAULT;
	if (data.flags & ~CLOCK_FLAGS)
		return -EINVAL;
	/* With a real time, the clock advanced by what passed since then. */
	if (data.flags & KVM_CLOCK_REALTIME) {
		now = ktime_get_real_ns();
		if (now > data.realtime)
			data.clock += now - data.realtime;
	}
	WRITE_ONCE(vm->clock_offset, data.clock - ktime_get_boottime_ns());
	/* Every vCPU's kvmclock follows before it runs again. */
	yakvm_kvmclock_clock_set(vm);
	return 0;
}

/*
 * KVM_CAP_MAX_VCPU_ID (api.rst): vCPU ids from now on are below @max.  Set
 * once, as in KVM; setting the same value again is fine.
 */
static long vm_set_max_vcpu_id(struct yakvm_vm *vm, u64 max)
{
	long r = -EINVAL;

	if (max > YAKVM_MAX_VCPUS)
		return -EINVAL;
	mutex_lock(&vm->lock);
	if (vm->max_vcpu_ids == max) {
		r = 0;
	} else if (!vm->max_vcpu_ids) {
		vm->max_vcpu_ids = max;
		r = 0;
	}
	mutex_unlock(&vm->lock);
	return r;
}

/* KVM_ENABLE_CAP on the VM fd: the capabilities that can be enabled. */
static long vm_enable_cap(struct yakvm_vm *vm, void __user *argp)
{
	struct kvm_enable_cap cap;
	int r = yakvm_read_enable_cap(&cap, argp);

	if (r)
		return r;
	switch (cap.cap) {
	case KVM_CAP_MAX_VCPU_ID:
		return vm_set_max_vcpu_id(vm, cap.args[0]);
	case KVM_CAP_SPLIT_IRQCHIP:
		return yakvm_enable_split_irqchip(vm, cap.args[0]);
	case KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2:
		if (cap.args[0] & ~YAKVM_DIRTY_LOG_MANUAL_CAPS)
			return -EINVAL;
		WRITE_ONCE(vm->dirty_log_manual, cap.args[0]);
		return 0;
	default:
		return -EINVAL;
	}
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
	case KVM_CREATE_IRQCHIP:
		return yakvm_create_irqchip(vm);
	case KVM_IRQ_LINE:
		return yakvm_irq_line(vm, argp, false);
	case KVM_IRQ_LINE_STATUS:
		return yakvm_irq_line(vm, argp, true);
	case KVM_GET_IRQCHIP:
		return yakvm_irqchip_state(vm, argp, false);
	case KVM_SET_IRQCHIP:
		return yakvm_irqchip_state(vm, argp, true);
	case KVM_SET_GSI_ROUTING:
		return yakvm_set_gsi_routing(vm, argp);
	case KVM_SIGNAL_MSI:
		return yakvm_signal_msi(vm, argp);
	case KVM_IRQFD:
		return yakvm_irqfd(vm, argp);
	case KVM_IOEVENTFD:
		return yakvm_ioeventfd(vm, argp);
	case KVM_CREATE_PIT2:
		return yakvm_create_pit(vm, argp);
	case KVM_GET_PIT2:
		return yakvm_pit_state(vm, argp, false);
	case KVM_SET_PIT2:
		return yakvm_pit_state(vm, argp, true);
	case KVM_REINJECT_CONTROL:
		return yakvm_reinject_control(vm, argp);
	case KVM_SET_BOOT_CPU_ID:
		return vm_set_boot_cpu_id(vm, arg);
	case KVM_ENABLE_CAP:
		return vm_enable_cap(vm, argp);
	case KVM_GET_DIRTY_LOG:
		return yakvm_get_dirty_log(vm, argp);
	case KVM_CLEAR_DIRTY_LOG:
		return yakvm_clear_dirty_log(vm, argp);
	case KVM_GET_CLOCK:
		return vm_clock(vm, argp, false);
	case KVM_SET_CLOCK:
		return vm_clock(vm, argp, true);
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
	case KVM_HYPERV_EVENTFD:
		return yakvm_hv_eventfd(vm, argp);
	case KVM_REGISTER_COALESCED_MMIO:
		return yakvm_register_coalesced(vm, argp);
	case KVM_UNREGISTER_COALESCED_MMIO:
		return yakvm_unregister_coalesced(vm, argp);
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
	mutex_init(&vm->tsc_lock);
	mutex_init(&vm->hv_lock);
	xa_init(&vm->hv_eventfds);
	yakvm_irq_init(vm);
	vm->mm = current->mm;
	mmgrab(vm->mm);
	vm->id = atomic_inc_return(&vm_ids);

	r = yakvm_coalesced_init(vm);
	if (r)
		goto err_coalesced;
	r = yakvm_npt_init(vm);
	if (r)
		goto err_coalesced;
	r = yakvm_svm_get();
	if (r)
		goto err_npt;
	/* All vCPUs share one offset, so their TSCs agree (APM 15.30.5). */
	vm->tsc_offset = -rdtsc();
	/* The VM's clock starts at 0, as KVM's kvmclock. */
	vm->clock_offset = -ktime_get_boottime_ns();
	yakvm_stats_vm_add(vm);

	fd = anon_inode_getfd("yakvm-vm", &yakvm_vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		yakvm_vm_put(vm);
	return fd;

err_npt:
	yakvm_npt_destroy(vm);
err_coalesced:
	yakvm_coalesced_destroy(vm);
	mmdrop(vm->mm);
	kfree(vm);
	atomic_long_dec(&yakvm_counters.vms);
	return r;
}
