// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_IRQFD and KVM_IOEVENTFD (api.rst): the two eventfd paths every
 * virtio device of a real VMM is built on.
 *
 * irqfd: a write to the eventfd raises its GSI.  The eventfd's wake-up
 * callback runs in atomic context (possibly a hard interrupt), so it only
 * queues work; the work raises the GSI in process context -- a pulse, or
 * for a resample irqfd a level held until the guest's EOI reaches the GSI
 * (yakvm_irqfd_acked), which lowers it and signals the resample eventfd so
 * the device can say whether it still wants the interrupt.  Closing the
 * eventfd (EPOLLHUP) or KVM_IRQFD with DEASSIGN detaches it; VM teardown
 * detaches all and waits for their work.
 *
 * ioeventfd: a guest write of the given length (and value, with DATAMATCH)
 * to the given port or MMIO address signals the eventfd and completes in the
 * kernel: no exit to user space.
 */
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "yakvm.h"

static struct workqueue_struct *irqfd_wq;

struct yakvm_resampler {
	struct yakvm_vm *vm;
	u32 gsi;
	struct list_head irqfds;	/* RCU list of its irqfds */
	struct list_head link;		/* in vm->irq.resamplers */
};

struct yakvm_irqfd {
	struct yakvm_vm *vm;
	struct eventfd_ctx *eventfd;
	u32 gsi;
	struct yakvm_resampler *resampler;
	struct eventfd_ctx *resamplefd;
	struct list_head resampler_link;

	wait_queue_entry_t wait;
	poll_table pt;
	struct work_struct inject;
	struct work_struct shutdown;
	struct list_head list;		/* in vm->irq.irqfds; empty once detached */
};

static void irqfd_inject(struct work_struct *work)
{
	struct yakvm_irqfd *irqfd = container_of(work, struct yakvm_irqfd, inject);
	struct yakvm_vm *vm = irqfd->vm;

	if (irqfd->resampler) {
		yakvm_set_irq(vm, YAKVM_IRQ_SOURCE_RESAMPLE, irqfd->gsi, 1, false);
		return;
	}
	yakvm_set_irq(vm, YAKVM_IRQ_SOURCE_USER, irqfd->gsi, 1, false);
	yakvm_set_irq(vm, YAKVM_IRQ_SOURCE_USER, irqfd->gsi, 0, false);
}

/* A resample irqfd leaves its GSI's resampler; the last one takes it down. */
static void resampler_leave(struct yakvm_irqfd *irqfd)
{
	struct yakvm_resampler *rs = irqfd->resampler;
	struct yakvm_vm *vm = irqfd->vm;

	mutex_lock(&vm->irq.lock);
	list_del_rcu(&irqfd->resampler_link);
	synchronize_rcu();
	if (list_empty(&rs->irqfds)) {
		list_del(&rs->link);
		yakvm_set_irq(vm, YAKVM_IRQ_SOURCE_RESAMPLE, rs->gsi, 0, false);
		kfree(rs);
	}
	mutex_unlock(&vm->irq.lock);
}

static void irqfd_shutdown(struct work_struct *work)
{
	struct yakvm_irqfd *irqfd = container_of(work, struct yakvm_irqfd, shutdown);
	u64 count;

	/* No new wake-up can queue the injection after this. */
	eventfd_ctx_remove_wait_queue(irqfd->eventfd, &irqfd->wait, &count);
	flush_work(&irqfd->inject);
	if (irqfd->resampler) {
		resampler_leave(irqfd);
		eventfd_ctx_put(irqfd->resamplefd);
	}
	eventfd_ctx_put(irqfd->eventfd);
	kfree(irqfd);
}

/* Called with irqfds_lock held; the shutdown work does the rest. */
static void irqfd_detach(struct yakvm_irqfd *irqfd)
{
	list_del_init(&irqfd->list);
	queue_work(irqfd_wq, &irqfd->shutdown);
}

static int irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode, int sync,
			void *key)
{
	struct yakvm_irqfd *irqfd = container_of(wait, struct yakvm_irqfd, wait);
	__poll_t flags = key_to_poll(key);
	struct yakvm_vm *vm = irqfd->vm;
	unsigned long irqflags;
	u64 count;

	if (flags & EPOLLIN) {
		eventfd_ctx_do_read(irqfd->eventfd, &count);
		queue_work(irqfd_wq, &irqfd->inject);
	}
	if (flags & EPOLLHUP) {
		/* The eventfd is being closed: detach, unless DEASSIGN did. */
		spin_lock_irqsave(&vm->irq.irqfds_lock, irqflags);
		if (!list_empty(&irqfd->list))
			irqfd_detach(irqfd);
		spin_unlock_irqrestore(&vm->irq.irqfds_lock, irqflags);
	}
	return 0;
}

static void irqfd_queue_proc(struct file *file, wait_queue_head_t *wqh,
			     poll_table *pt)
{
	struct yakvm_irqfd *irqfd = container_of(pt, struct yakvm_irqfd, pt);

	add_wait_queue_priority(wqh, &irqfd->wait);
}

/* The resampler of @gsi, made if there is none (vm->irq.lock held). */
static struct yakvm_resampler *resampler_get(struct yakvm_vm *vm, u32 gsi)
{
	struct yakvm_resampler *rs;

	list_for_each_entry(rs, &vm->irq.resamplers, link)
		if (rs->gsi == gsi)
			return rs;
	rs = kzalloc(sizeof(*rs), GFP_KERNEL_ACCOUNT);
	if (!rs)
		return NULL;
	rs->vm = vm;
	rs->gsi = gsi;
	INIT_LIST_HEAD(&rs->irqfds);
	list_add(&rs->link, &vm->irq.resamplers);
	return rs;
}

static int irqfd_assign(struct yakvm_vm *vm, const struct kvm_irqfd *args)
{
	struct yakvm_irqfd *irqfd, *other;
	struct fd f;
	__poll_t events;
	int r;

	irqfd = kzalloc(sizeof(*irqfd), GFP_KERNEL_ACCOUNT);
	if (!irqfd)
		return -ENOMEM;
	irqfd->vm = vm;
	irqfd->gsi = args->gsi;
	INIT_LIST_HEAD(&irqfd->list);
	INIT_WORK(&irqfd->inject, irqfd_inject);
	INIT_WORK(&irqfd->shutdown, irqfd_shutdown);

	f = fdget(args->fd);
	r = -EBADF;
	if (!fd_file(f))
		goto err_free;
	irqfd->eventfd = eventfd_ctx_fileget(fd_file(f));
	if (IS_ERR(irqfd->eventfd)) {
		r = PTR_ERR(irqfd->eventfd);
		goto err_fd;
	}
	if (args->flags & KVM_IRQFD_FLAG_RESAMPLE) {
		irqfd->resamplefd = eventfd_ctx_fdget(args->resamplefd);
		if (IS_ERR(irqfd->resamplefd)) {
			r = PTR_ERR(irqfd->resamplefd);
			goto err_eventfd;
		}
		mutex_lock(&vm->irq.lock);
		irqfd->resampler = resampler_get(vm, args->gsi);
		if (irqfd->resampler)
			list_add_rcu(&irqfd->resampler_link, &irqfd->resampler->irqfds);
		mutex_unlock(&vm->irq.lock);
		r = -ENOMEM;
		if (!irqfd->resampler)
			goto err_resamplefd;
	}

	init_waitqueue_func_entry(&irqfd->wait, irqfd_wakeup);
	init_poll_funcptr(&irqfd->pt, irqfd_queue_proc);
	spin_lock_irq(&vm->irq.irqfds_lock);
	list_for_each_entry(other, &vm->irq.irqfds, list) {
		if (other->eventfd == irqfd->eventfd) {
			spin_unlock_irq(&vm->irq.irqfds_lock);
			r = -EBUSY;
			goto err_resampler;
		}
	}
	list_add_tail(&irqfd->list, &vm->irq.irqfds);
	spin_unlock_irq(&vm->irq.irqfds_lock);

	/* An eventfd written before it was assigned injects now. */
	events = vfs_poll(fd_file(f), &irqfd->pt);
	if (events & EPOLLIN)
		queue_work(irqfd_wq, &irqfd->inject);
	fdput(f);
	return 0;

err_resampler:
	if (irqfd->resampler)
		resampler_leave(irqfd);
err_resamplefd:
	if (irqfd->resamplefd)
		eventfd_ctx_put(irqfd->resamplefd);
err_eventfd:
	eventfd_ctx_put(irqfd->eventfd);
err_fd:
	fdput(f);
err_free:
	kfree(irqfd);
	return r;
}

static int irqfd_deassign(struct yakvm_vm *vm, const struct kvm_irqfd *args)
{
	struct yakvm_irqfd *irqfd, *tmp;
	struct eventfd_ctx *eventfd;

	eventfd = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(eventfd))
		return PTR_ERR(eventfd);
	spin_lock_irq(&vm->irq.irqfds_lock);
	list_for_each_entry_safe(irqfd, tmp, &vm->irq.irqfds, list)
		if (irqfd->eventfd == eventfd && irqfd->gsi == args->gsi)
			irqfd_detach(irqfd);
	spin_unlock_irq(&vm->irq.irqfds_lock);
	eventfd_ctx_put(eventfd);
	/* As KVM: when DEASSIGN returns, the irqfd injects no more. */
	flush_workqueue(irqfd_wq);
	return 0;
}

long yakvm_irqfd(struct yakvm_vm *vm, void __user *argp)
{
	struct kvm_irqfd args;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~(KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE))
		return -EINVAL;
	if (memchr_inv(args.pad, 0, sizeof(args.pad)))
		return -EINVAL;
	if (args.flags & KVM_IRQFD_FLAG_DEASSIGN)
		return irqfd_deassign(vm, &args);
	/* A resample irqfd needs the guest's EOIs, i.e. the full irqchip. */
	if (!smp_load_acquire(&vm->irq.lapic_in_kernel) ||
	    ((args.flags & KVM_IRQFD_FLAG_RESAMPLE) && vm->irq.split))
		return -EINVAL;
	if (args.gsi >= YAKVM_MAX_IRQ_ROUTES)
		return -EINVAL;
	return irqfd_assign(vm, &args);
}

/* The guest's EOI reached @gsi: lower the resampled level, tell the devices. */
void yakvm_irqfd_acked(struct yakvm_vm *vm, u32 gsi)
{
	struct yakvm_resampler *rs, *found = NULL;
	struct yakvm_irqfd *irqfd;

	mutex_lock(&vm->irq.lock);
	list_for_each_entry(rs, &vm->irq.resamplers, link)
		if (rs->gsi == gsi)
			found = rs;
	if (found) {
		yakvm_set_irq(vm, YAKVM_IRQ_SOURCE_RESAMPLE, gsi, 0, false);
		list_for_each_entry(irqfd, &found->irqfds, resampler_link)
			yakvm_eventfd_signal(irqfd->resamplefd);
	}
	mutex_unlock(&vm->irq.lock);
}

/* ------------------------------------------------------------------ */
/* ioeventfd                                                          */

struct yakvm_ioeventfd {
	struct list_head list;		/* in vm->irq.ioeventfds */
	struct yakvm_io_device dev;
	struct eventfd_ctx *eventfd;
	enum yakvm_bus bus;
	u64 addr;
	int len;			/* 0: any length */
	bool wildcard;			/* no DATAMATCH */
	u64 datamatch;
};

static int ioeventfd_write(struct yakvm_vcpu *vcpu, struct yakvm_io_device *dev,
			   u64 addr, int len, const void *val)
{
	struct yakvm_ioeventfd *p = container_of(dev, struct yakvm_ioeventfd, dev);
	u64 data = 0;

	if (addr != p->addr || (p->len && len != p->len))
		return -EOPNOTSUPP;
	if (!p->wildcard) {
		memcpy(&data, val, min_t(int, len, sizeof(data)));
		if (data != p->datamatch)
			return -EOPNOTSUPP;
	}
	yakvm_eventfd_signal(p->eventfd);
	return 0;
}

static const struct yakvm_io_ops ioeventfd_ops = {
	.write = ioeventfd_write,
};

static bool same_ioeventfd(const struct yakvm_ioeventfd *p,
			   const struct kvm_ioeventfd *args, enum yakvm_bus bus)
{
	bool wildcard = !(args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH);

	return p->bus == bus && p->addr == args->addr && p->len == args->len &&
	       p->wildcard == wildcard && (wildcard || p->datamatch == args->datamatch);
}

/*
 * KVM's collision rule for a new ioeventfd: same bus and address, and
 * either length 0 on one side, or the same length with a wildcard on one
 * side or the same datamatch.
 */
static bool ioeventfd_collides(const struct yakvm_ioeventfd *p,
			       const struct yakvm_ioeventfd *q)
{
	return p->bus == q->bus && p->addr == q->addr &&
	       (!p->len || !q->len ||
		(p->len == q->len &&
		 (p->wildcard || q->wildcard || p->datamatch == q->datamatch)));
}

static int ioeventfd_assign(struct yakvm_vm *vm, const struct kvm_ioeventfd *args,
			    enum yakvm_bus bus)
{
	struct yakvm_ioeventfd *p, *other;
	int r;

	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p)
		return -ENOMEM;
	p->eventfd = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(p->eventfd)) {
		r = PTR_ERR(p->eventfd);
		goto err_free;
	}
	p->dev.ops = &ioeventfd_ops;
	p->bus = bus;
	p->addr = args->addr;
	p->len = args->len;
	p->wildcard = !(args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH);
	p->datamatch = args->datamatch;

	mutex_lock(&vm->irq.lock);
	r = -EEXIST;
	list_for_each_entry(other, &vm->irq.ioeventfds, list)
		if (ioeventfd_collides(other, p))
			goto err_unlock;
	r = yakvm_io_bus_register(vm, bus, p->addr, max(p->len, 1), &p->dev);
	if (r)
		goto err_unlock;
	list_add_tail(&p->list, &vm->irq.ioeventfds);
	mutex_unlock(&vm->irq.lock);
	return 0;

err_unlock:
	mutex_unlock(&vm->irq.lock);
	eventfd_ctx_put(p->eventfd);
err_free:
	kfree(p);
	return r;
}

static int ioeventfd_deassign(struct yakvm_vm *vm, const struct kvm_ioeventfd *args,
			      enum yakvm_bus bus)
{
	struct yakvm_ioeventfd *p, *tmp;
	struct eventfd_ctx *eventfd;
	int r = -ENOENT;

	eventfd = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(eventfd))
		return PTR_ERR(eventfd);
	mutex_lock(&vm->irq.lock);
	list_for_each_entry_safe(p, tmp, &vm->irq.ioeventfds, list) {
		if (p->eventfd != eventfd || !same_ioeventfd(p, args, bus))
			continue;
		yakvm_io_bus_unregister(vm, bus, &p->dev);
		list_del(&p->list);
		eventfd_ctx_put(p->eventfd);
		kfree(p);
		r = 0;
		break;
	}
	mutex_unlock(&vm->irq.lock);
	eventfd_ctx_put(eventfd);
	return r;
}

#define IOEVENTFD_VALID_FLAGS	(KVM_IOEVENTFD_FLAG_DATAMATCH | \
				 KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DEASSIGN)

long yakvm_ioeventfd(struct yakvm_vm *vm, void __user *argp)
{
	struct kvm_ioeventfd args;
	enum yakvm_bus bus;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~IOEVENTFD_VALID_FLAGS || memchr_inv(args.pad, 0, sizeof(args.pad)))
		return -EINVAL;
	switch (args.len) {
	case 0:
	case 1:
	case 2:
	case 4:
	case 8:
		break;
	default:
		return -EINVAL;
	}
	if (args.addr + args.len < args.addr)
		return -EINVAL;
	/* With any length, a value cannot be matched (api.rst). */
	if (!args.len && (args.flags & KVM_IOEVENTFD_FLAG_DATAMATCH))
		return -EINVAL;
	bus = (args.flags & KVM_IOEVENTFD_FLAG_PIO) ? YAKVM_PIO_BUS : YAKVM_MMIO_BUS;
	if (bus == YAKVM_PIO_BUS && args.addr + args.len > 0x10000)
		return -EINVAL;
	if (args.flags & KVM_IOEVENTFD_FLAG_DEASSIGN)
		return ioeventfd_deassign(vm, &args, bus);
	return ioeventfd_assign(vm, &args, bus);
}

/* VM teardown: every irqfd detached and its work done; every ioeventfd freed. */
void yakvm_eventfds_destroy(struct yakvm_vm *vm)
{
	struct yakvm_ioeventfd *p, *tmp;
	struct yakvm_irqfd *irqfd, *next;

	spin_lock_irq(&vm->irq.irqfds_lock);
	list_for_each_entry_safe(irqfd, next, &vm->irq.irqfds, list)
		irqfd_detach(irqfd);
	spin_unlock_irq(&vm->irq.irqfds_lock);
	flush_workqueue(irqfd_wq);

	mutex_lock(&vm->irq.lock);
	list_for_each_entry_safe(p, tmp, &vm->irq.ioeventfds, list) {
		list_del(&p->list);
		eventfd_ctx_put(p->eventfd);
		kfree(p);
	}
	mutex_unlock(&vm->irq.lock);
}

int yakvm_eventfd_init(void)
{
	irqfd_wq = alloc_workqueue("yakvm-irqfd", 0, 0);
	return irqfd_wq ? 0 : -ENOMEM;
}

void yakvm_eventfd_exit(void)
{
	destroy_workqueue(irqfd_wq);
}
