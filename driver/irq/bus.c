// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel I/O buses: the port and MMIO ranges whose accesses the exit
 * path completes in the kernel (the PIC, PIT and IOAPIC, ioeventfds)
 * instead of exiting to user space.  A bus is an array of ranges, sorted
 * by address, replaced as a whole when a device comes or goes; the exit
 * path reads it under RCU, so a handler never sees a half-updated bus and
 * an unregistered device is unreachable once synchronize_rcu() returned.
 * Handlers run in process context inside the RCU read section, so they
 * must not sleep (they take spinlocks at most).
 */
#include <linux/slab.h>

#include "yakvm.h"

struct yakvm_io_range {
	u64 addr;
	int len;
	struct yakvm_io_device *dev;
};

struct yakvm_io_bus {
	int nr;
	struct rcu_head rcu;
	struct yakvm_io_range ranges[];
};

#define YAKVM_MAX_BUS_DEVICES	1000	/* as KVM's NR_IOBUS_DEVS */

static struct yakvm_io_bus *bus_of(struct yakvm_vm *vm, enum yakvm_bus bus)
{
	return rcu_dereference_protected(vm->irq.buses[bus],
					 lockdep_is_held(&vm->irq.lock));
}

int yakvm_io_bus_register(struct yakvm_vm *vm, enum yakvm_bus bus, u64 addr,
			  int len, struct yakvm_io_device *dev)
{
	struct yakvm_io_bus *old, *new;
	int i, n;

	lockdep_assert_held(&vm->irq.lock);
	old = bus_of(vm, bus);
	n = old ? old->nr : 0;
	if (n >= YAKVM_MAX_BUS_DEVICES)
		return -ENOSPC;
	new = kmalloc(struct_size(new, ranges, n + 1), GFP_KERNEL_ACCOUNT);
	if (!new)
		return -ENOMEM;
	/* Sorted by address; equal ranges keep their registration order. */
	for (i = 0; i < n && old->ranges[i].addr <= addr; i++)
		new->ranges[i] = old->ranges[i];
	new->ranges[i] = (struct yakvm_io_range){ addr, len, dev };
	for (; i < n; i++)
		new->ranges[i + 1] = old->ranges[i];
	new->nr = n + 1;
	rcu_assign_pointer(vm->irq.buses[bus], new);
	if (old)
		kfree_rcu(old, rcu);
	return 0;
}

void yakvm_io_bus_unregister(struct yakvm_vm *vm, enum yakvm_bus bus,
			     struct yakvm_io_device *dev)
{
	struct yakvm_io_bus *old, *new;
	int i, j;

	lockdep_assert_held(&vm->irq.lock);
	old = bus_of(vm, bus);
	if (!old)
		return;
	new = kmalloc(struct_size(new, ranges, old->nr), GFP_KERNEL_ACCOUNT);
	if (new) {
		for (i = j = 0; i < old->nr; i++)
			if (old->ranges[i].dev != dev)
				new->ranges[j++] = old->ranges[i];
		new->nr = j;
	}
	/*
	 * Without memory for the new array, an empty bus is still correct:
	 * the devices left on it are the irqchip's, and a VM that cannot
	 * even allocate this is being torn down or failing anyway.
	 */
	rcu_assign_pointer(vm->irq.buses[bus], new);
	synchronize_rcu();
	kfree(old);
}

void yakvm_io_buses_destroy(struct yakvm_vm *vm)
{
	int b;

	for (b = 0; b < YAKVM_NR_BUSES; b++) {
		kfree(rcu_dereference_protected(vm->irq.buses[b], true));
		RCU_INIT_POINTER(vm->irq.buses[b], NULL);
	}
}

/*
 * Tries each device whose range holds @addr, in address order; the device
 * decides about the length (an ioeventfd wants its own, the PIC takes what
 * hardware would).
 */
static int bus_access(struct yakvm_vcpu *vcpu, enum yakvm_bus bus, u64 addr,
		      int len, void *val, bool write)
{
	struct yakvm_io_bus *b;
	int i, r = -EOPNOTSUPP;

	rcu_read_lock();
	b = rcu_dereference(vcpu->vm->irq.buses[bus]);
	for (i = 0; b && i < b->nr && b->ranges[i].addr <= addr; i++) {
		struct yakvm_io_range *range = &b->ranges[i];
		struct yakvm_io_device *dev = range->dev;

		if (addr - range->addr >= range->len)
			continue;
		if (write)
			r = dev->ops->write ? dev->ops->write(vcpu, dev, addr, len, val)
					    : -EOPNOTSUPP;
		else
			r = dev->ops->read ? dev->ops->read(vcpu, dev, addr, len, val)
					   : -EOPNOTSUPP;
		if (r != -EOPNOTSUPP)
			break;
	}
	rcu_read_unlock();
	return r;
}

int yakvm_io_bus_write(struct yakvm_vcpu *vcpu, enum yakvm_bus bus, u64 addr,
		       int len, const void *val)
{
	return bus_access(vcpu, bus, addr, len, (void *)val, true);
}

int yakvm_io_bus_read(struct yakvm_vcpu *vcpu, enum yakvm_bus bus, u64 addr,
		      int len, void *val)
{
	return bus_access(vcpu, bus, addr, len, val, false);
}
