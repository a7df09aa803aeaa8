// SPDX-License-Identifier: GPL-2.0
/*
 * Coalesced MMIO and PIO (api.rst, KVM_REGISTER_COALESCED_MMIO): writes to
 * a zone the VMM registered do not exit; they are appended to a ring that
 * the VMM maps as page KVM_COALESCED_MMIO_PAGE_OFFSET of every vCPU fd and
 * drains at its next exit (before it handles that exit, so the order of
 * device accesses is kept).  Reads of a zone exit as usual.  A full ring
 * makes the write exit as usual too.
 *
 * The ring is shared with user space: the kernel owns ring->last, the VMM
 * ring->first.  Both indices are read once, and an index out of range
 * (a VMM scribbling on the page) is taken as "full", never used.
 */
#include <linux/slab.h>

#include "yakvm.h"

struct yakvm_coalesced_zone {
	struct yakvm_io_device dev;
	struct yakvm_vm *vm;
	struct kvm_coalesced_mmio_zone zone;
	struct list_head list;		/* vm->coalesced_zones, under vm->irq.lock */
};

static int zone_write(struct yakvm_vcpu *vcpu, struct yakvm_io_device *dev,
		      u64 addr, int len, const void *val)
{
	struct yakvm_coalesced_zone *z = container_of(dev, struct yakvm_coalesced_zone, dev);
	struct yakvm_vm *vm = z->vm;
	struct kvm_coalesced_mmio_ring *ring = vm->coalesced_ring;
	struct kvm_coalesced_mmio *e;
	u32 first, last;

	/* Only accesses wholly inside the zone, of at most an entry's data. */
	if (len <= 0 || len > sizeof(e->data) || addr < z->zone.addr ||
	    addr + len > z->zone.addr + z->zone.size)
		return -EOPNOTSUPP;
	spin_lock(&vm->coalesced_lock);
	first = READ_ONCE(ring->first);
	last = READ_ONCE(ring->last);
	if (first >= KVM_COALESCED_MMIO_MAX || last >= KVM_COALESCED_MMIO_MAX ||
	    (last + 1) % KVM_COALESCED_MMIO_MAX == first) {
		spin_unlock(&vm->coalesced_lock);
		vcpu->stats.coalesced_full++;
		return -EOPNOTSUPP;
	}
	e = &ring->coalesced_mmio[last];
	e->phys_addr = addr;
	e->len = len;
	e->pio = z->zone.pio;
	memcpy(e->data, val, len);
	/* The entry is complete before the VMM can see the new last. */
	smp_wmb();
	WRITE_ONCE(ring->last, (last + 1) % KVM_COALESCED_MMIO_MAX);
	spin_unlock(&vm->coalesced_lock);
	vcpu->stats.coalesced_writes++;
	return 0;
}

static const struct yakvm_io_ops zone_ops = {
	.write = zone_write,
};

int yakvm_coalesced_init(struct yakvm_vm *vm)
{
	spin_lock_init(&vm->coalesced_lock);
	INIT_LIST_HEAD(&vm->coalesced_zones);
	vm->coalesced_ring = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	return vm->coalesced_ring ? 0 : -ENOMEM;
}

/* VM teardown, after the buses are gone: no vCPU reaches a zone any more. */
void yakvm_coalesced_destroy(struct yakvm_vm *vm)
{
	struct yakvm_coalesced_zone *z, *tmp;

	list_for_each_entry_safe(z, tmp, &vm->coalesced_zones, list) {
		list_del(&z->list);
		kfree(z);
	}
	free_page((unsigned long)vm->coalesced_ring);
}

static long zone_from_user(void __user *argp, struct kvm_coalesced_mmio_zone *zone)
{
	if (copy_from_user(zone, argp, sizeof(*zone)))
		return -EFAULT;
	/*
	 * KVM takes any size; yakvm's buses hold int lengths, and a zone that
	 * wraps around the address space would match nothing sensible.
	 */
	if (zone->pio > 1 || zone->size > INT_MAX ||
	    zone->addr + zone->size < zone->addr)
		return -EINVAL;
	return 0;
}

long yakvm_register_coalesced(struct yakvm_vm *vm, void __user *argp)
{
	struct yakvm_coalesced_zone *z;
	long r;

	z = kzalloc(sizeof(*z), GFP_KERNEL_ACCOUNT);
	if (!z)
		return -ENOMEM;
	r = zone_from_user(argp, &z->zone);
	if (r)
		goto err_free;
	z->vm = vm;
	z->dev.ops = &zone_ops;
	mutex_lock(&vm->irq.lock);
	r = yakvm_io_bus_register(vm, z->zone.pio ? YAKVM_PIO_BUS : YAKVM_MMIO_BUS,
				  z->zone.addr, z->zone.size, &z->dev);
	if (r) {
		mutex_unlock(&vm->irq.lock);
		goto err_free;
	}
	list_add_tail(&z->list, &vm->coalesced_zones);
	mutex_unlock(&vm->irq.lock);
	return 0;

err_free:
	kfree(z);
	return r;
}

/* As KVM: every zone of the same kind that holds the given range goes. */
long yakvm_unregister_coalesced(struct yakvm_vm *vm, void __user *argp)
{
	struct yakvm_coalesced_zone *z, *tmp;
	struct kvm_coalesced_mmio_zone zone;
	long r;

	r = zone_from_user(argp, &zone);
	if (r)
		return r;
	mutex_lock(&vm->irq.lock);
	list_for_each_entry_safe(z, tmp, &vm->coalesced_zones, list) {
		if (z->zone.pio != zone.pio || zone.addr < z->zone.addr ||
		    zone.addr + zone.size > z->zone.addr + z->zone.size)
			continue;
		yakvm_io_bus_unregister(vm, zone.pio ? YAKVM_PIO_BUS : YAKVM_MMIO_BUS,
					&z->dev);
		list_del(&z->list);
		kfree(z);
	}
	mutex_unlock(&vm->irq.lock);
	return 0;
}
