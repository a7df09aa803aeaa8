// SPDX-License-Identifier: GPL-2.0
/*
 * The VM-level ioctls of the in-kernel irqchip (api.rst): KVM_CREATE_IRQCHIP
 * makes a PIC pair, an IOAPIC and a local APIC for every vCPU created after
 * it, with KVM's default GSI routing; KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP)
 * makes only the local APICs, the VMM keeping the IOAPIC and PIC;
 * KVM_IRQ_LINE[_STATUS] raises GSIs; KVM_GET/SET_IRQCHIP move the PIC's and
 * IOAPIC's state; KVM_CREATE_PIT2 and its state ioctls.  Creation must come
 * before the first vCPU, as in KVM, so every vCPU has its APIC from birth.
 */
#include <linux/uaccess.h>

#include "yakvm.h"

void yakvm_irq_init(struct yakvm_vm *vm)
{
	mutex_init(&vm->irq.lock);
	spin_lock_init(&vm->irq.irqfds_lock);
	INIT_LIST_HEAD(&vm->irq.irqfds);
	INIT_LIST_HEAD(&vm->irq.resamplers);
	INIT_LIST_HEAD(&vm->irq.ioeventfds);
}

/* VM teardown, after the last vCPU fd is gone: nothing can inject any more. */
void yakvm_irq_destroy(struct yakvm_vm *vm)
{
	yakvm_eventfds_destroy(vm);
	/* The PIT first: its work item raises GSI 0 through the others. */
	mutex_lock(&vm->irq.lock);
	if (vm->irq.pit)
		yakvm_pit_destroy(vm);
	if (vm->irq.ioapic)
		yakvm_ioapic_destroy(vm);
	if (vm->irq.pic)
		yakvm_pic_destroy(vm);
	mutex_unlock(&vm->irq.lock);
	yakvm_free_routing(vm);
	yakvm_io_buses_destroy(vm);
}

/*
 * Both creation ioctls: vm->lock keeps vCPUs from being created meanwhile,
 * vm->irq.lock guards the devices and the routing.
 */
static long create_irqchip(struct yakvm_vm *vm, bool split, u32 nr_ioapic_routes)
{
	long r;

	mutex_lock(&vm->lock);
	mutex_lock(&vm->irq.lock);
	r = -EEXIST;
	if (vm->irq.lapic_in_kernel)
		goto out;
	/* KVM's errno for vCPUs that came first differs between the two. */
	r = split ? -EEXIST : -EINVAL;
	if (vm->nr_vcpus)
		goto out;
	vm->irq.split = split;
	vm->irq.nr_ioapic_routes = nr_ioapic_routes;
	if (!split) {
		r = yakvm_pic_create(vm);
		if (r)
			goto out;
		r = yakvm_ioapic_create(vm);
		if (r)
			goto err_pic;
	}
	r = yakvm_set_default_routing(vm);
	if (r)
		goto err_ioapic;
	/* Seen by every vCPU created from now on (under vm->lock). */
	smp_store_release(&vm->irq.lapic_in_kernel, true);
	goto out;

err_ioapic:
	if (vm->irq.ioapic)
		yakvm_ioapic_destroy(vm);
err_pic:
	if (vm->irq.pic)
		yakvm_pic_destroy(vm);
	vm->irq.split = false;
out:
	mutex_unlock(&vm->irq.lock);
	mutex_unlock(&vm->lock);
	return r;
}

long yakvm_create_irqchip(struct yakvm_vm *vm)
{
	return create_irqchip(vm, false, 0);
}

/* KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP): args[0] is the number of IOAPIC routes. */
long yakvm_enable_split_irqchip(struct yakvm_vm *vm, u64 nr_routes)
{
	if (nr_routes > YAKVM_MAX_IRQ_ROUTES)
		return -EINVAL;
	return create_irqchip(vm, true, nr_routes);
}

/* The full irqchip: the PIC and IOAPIC are in the kernel. */
static bool full_irqchip(struct yakvm_vm *vm)
{
	/* Pairs with the release in create_irqchip(): the devices exist. */
	return smp_load_acquire(&vm->irq.lapic_in_kernel) && !vm->irq.split;
}

long yakvm_irq_line(struct yakvm_vm *vm, void __user *argp, bool status)
{
	struct kvm_irq_level line;

	if (copy_from_user(&line, argp, sizeof(line)))
		return -EFAULT;
	/* Split too: the GSIs are then the VMM's MSI routes (as KVM). */
	if (!smp_load_acquire(&vm->irq.lapic_in_kernel))
		return -ENXIO;
	line.status = yakvm_set_irq(vm, YAKVM_IRQ_SOURCE_USER, line.irq,
				    !!line.level, status);
	if (status && copy_to_user(argp, &line, sizeof(line)))
		return -EFAULT;
	return 0;
}

long yakvm_irqchip_state(struct yakvm_vm *vm, void __user *argp, bool set)
{
	struct kvm_irqchip *chip;
	long r = 0;

	if (!full_irqchip(vm))
		return -ENXIO;
	chip = memdup_user(argp, sizeof(*chip));
	if (IS_ERR(chip))
		return PTR_ERR(chip);
	switch (chip->chip_id) {
	case KVM_IRQCHIP_PIC_MASTER:
	case KVM_IRQCHIP_PIC_SLAVE:
		if (set)
			yakvm_pic_set_state(vm->irq.pic, chip->chip_id, &chip->chip.pic);
		else
			yakvm_pic_get_state(vm->irq.pic, chip->chip_id, &chip->chip.pic);
		break;
	case KVM_IRQCHIP_IOAPIC:
		if (set)
			yakvm_ioapic_set_state(vm->irq.ioapic, &chip->chip.ioapic);
		else
			yakvm_ioapic_get_state(vm->irq.ioapic, &chip->chip.ioapic);
		break;
	default:
		r = -EINVAL;
		break;
	}
	if (!r && !set && copy_to_user(argp, chip, sizeof(*chip)))
		r = -EFAULT;
	kfree(chip);
	return r;
}

/* KVM_CREATE_PIT2: needs the irqchip (its IRQ0 goes through it), once. */
long yakvm_create_pit(struct yakvm_vm *vm, void __user *argp)
{
	struct kvm_pit_config config;
	long r;

	if (copy_from_user(&config, argp, sizeof(config)))
		return -EFAULT;
	if (config.flags & ~KVM_PIT_SPEAKER_DUMMY)
		return -EINVAL;
	mutex_lock(&vm->irq.lock);
	r = -ENXIO;
	if (!vm->irq.lapic_in_kernel || vm->irq.split)
		goto out;
	r = -EEXIST;
	if (vm->irq.pit)
		goto out;
	r = yakvm_pit_create(vm, config.flags);
out:
	mutex_unlock(&vm->irq.lock);
	return r;
}

long yakvm_pit_state(struct yakvm_vm *vm, void __user *argp, bool set)
{
	struct yakvm_pit *pit = READ_ONCE(vm->irq.pit);
	struct kvm_pit_state2 state;
	long r;

	if (!pit)
		return -ENXIO;
	if (set) {
		if (copy_from_user(&state, argp, sizeof(state)))
			return -EFAULT;
		return yakvm_pit_set_state(pit, &state);
	}
	memset(&state, 0, sizeof(state));
	r = yakvm_pit_get_state(pit, &state);
	if (!r && copy_to_user(argp, &state, sizeof(state)))
		r = -EFAULT;
	return r;
}

long yakvm_reinject_control(struct yakvm_vm *vm, void __user *argp)
{
	struct yakvm_pit *pit = READ_ONCE(vm->irq.pit);
	struct kvm_reinject_control control;

	if (copy_from_user(&control, argp, sizeof(control)))
		return -EFAULT;
	if (!pit)
		return -ENXIO;
	return yakvm_pit_reinject(pit, &control);
}
