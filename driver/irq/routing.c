// SPDX-License-Identifier: GPL-2.0
/*
 * GSI routing (api.rst, KVM_SET_GSI_ROUTING): each GSI names the pins it
 * drives -- a PIC pin, an IOAPIC pin, or both for the ISA lines, as on a PC
 * -- or an MSI message.  KVM_IRQ_LINE, irqfds and the PIT all raise GSIs
 * through it.  The table is replaced whole and read under RCU, so an
 * interrupt never sees half a table.  Also here: delivering an interrupt
 * message to the local APICs it names, and the guest's acknowledgements.
 */
#include <linux/slab.h>
#include <linux/sort.h>
#include <asm/apicdef.h>

#include "yakvm.h"

struct yakvm_irq_routing_table {
	struct rcu_head rcu;
	u32 nr;
	struct yakvm_irq_route routes[];	/* sorted by GSI */
};

/* The routes of @gsi: *first, and how many follow it. */
static int routes_of(struct yakvm_irq_routing_table *t, u32 gsi, u32 *first)
{
	u32 lo = 0, hi = t->nr, n = 0;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (t->routes[mid].gsi < gsi)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (lo + n < t->nr && t->routes[lo + n].gsi == gsi)
		n++;
	return n;
}

static int route_cmp(const void *a, const void *b)
{
	const struct yakvm_irq_route *x = a, *y = b;

	return x->gsi < y->gsi ? -1 : x->gsi > y->gsi;
}

/* One entry of KVM_SET_GSI_ROUTING, checked as KVM checks it. */
static int route_from_user(struct yakvm_vm *vm,
			   const struct kvm_irq_routing_entry *ue,
			   struct yakvm_irq_route *r)
{
	if (ue->gsi >= YAKVM_MAX_IRQ_ROUTES)
		return -EINVAL;
	r->gsi = ue->gsi;
	r->type = ue->type;
	switch (ue->type) {
	case KVM_IRQ_ROUTING_IRQCHIP:
		if (ue->flags || vm->irq.split)
			return -EINVAL;
		if (ue->u.irqchip.irqchip == KVM_IRQCHIP_IOAPIC) {
			if (ue->u.irqchip.pin >= YAKVM_NR_IOAPIC_PINS)
				return -EINVAL;
		} else if (ue->u.irqchip.irqchip == KVM_IRQCHIP_PIC_MASTER ||
			   ue->u.irqchip.irqchip == KVM_IRQCHIP_PIC_SLAVE) {
			if (ue->u.irqchip.pin >= 8)
				return -EINVAL;
		} else {
			return -EINVAL;
		}
		r->irqchip.irqchip = ue->u.irqchip.irqchip;
		r->irqchip.pin = ue->u.irqchip.pin;
		return 0;
	case KVM_IRQ_ROUTING_MSI:
		/* No device IDs on x86 (no KVM_CAP_MSI_DEVID). */
		if (ue->flags)
			return -EINVAL;
		r->msi = ue->u.msi;
		return 0;
	case KVM_IRQ_ROUTING_HV_SINT:
		/* Checked when it fires: the VP may not exist yet (as KVM). */
		if (ue->flags)
			return -EINVAL;
		r->hv_sint = ue->u.hv_sint;
		return 0;
	default:
		return -EINVAL;
	}
}

/*
 * A GSI may have several routes only if they are all irqchip pins on
 * different irqchips (KVM's rule): one line, seen by the PIC and the IOAPIC.
 */
static bool routes_consistent(struct yakvm_irq_routing_table *t)
{
	u32 i;

	for (i = 1; i < t->nr; i++) {
		struct yakvm_irq_route *a = &t->routes[i - 1], *b = &t->routes[i];

		if (a->gsi != b->gsi)
			continue;
		if (a->type != KVM_IRQ_ROUTING_IRQCHIP ||
		    b->type != KVM_IRQ_ROUTING_IRQCHIP ||
		    a->irqchip.irqchip == b->irqchip.irqchip)
			return false;
	}
	return true;
}

static void install_table(struct yakvm_vm *vm, struct yakvm_irq_routing_table *t)
{
	struct yakvm_irq_routing_table *old;

	lockdep_assert_held(&vm->irq.lock);
	old = rcu_dereference_protected(vm->irq.routing,
					lockdep_is_held(&vm->irq.lock));
	rcu_assign_pointer(vm->irq.routing, t);
	if (old)
		kfree_rcu(old, rcu);
}

long yakvm_set_gsi_routing(struct yakvm_vm *vm, void __user *argp)
{
	struct kvm_irq_routing __user *user = argp;
	struct kvm_irq_routing_entry *entries = NULL;
	struct yakvm_irq_routing_table *t;
	struct kvm_irq_routing hdr;
	long r;
	u32 i;

	if (copy_from_user(&hdr, user, sizeof(hdr)))
		return -EFAULT;
	if (!READ_ONCE(vm->irq.lapic_in_kernel))
		return -EINVAL;
	if (hdr.nr > YAKVM_MAX_IRQ_ROUTES || hdr.flags)
		return -EINVAL;
	if (hdr.nr) {
		entries = vmemdup_user(user->entries, array_size(hdr.nr, sizeof(*entries)));
		if (IS_ERR(entries))
			return PTR_ERR(entries);
	}
	t = kvzalloc(struct_size(t, routes, hdr.nr), GFP_KERNEL_ACCOUNT);
	r = -ENOMEM;
	if (!t)
		goto out;
	t->nr = hdr.nr;
	for (i = 0; i < hdr.nr; i++) {
		r = route_from_user(vm, &entries[i], &t->routes[i]);
		if (r)
			goto out_table;
	}
	sort(t->routes, t->nr, sizeof(t->routes[0]), route_cmp, NULL);
	r = -EINVAL;
	if (!routes_consistent(t))
		goto out_table;
	mutex_lock(&vm->irq.lock);
	install_table(vm, t);
	mutex_unlock(&vm->irq.lock);
	t = NULL;
	r = 0;
out_table:
	kvfree(t);
out:
	kvfree(entries);
	return r;
}

/*
 * The table KVM_CREATE_IRQCHIP starts with (KVM's default): GSIs 0-15
 * drive the PIC pin and the IOAPIC pin of the same number, 16-23 the
 * IOAPIC alone.  (QEMU replaces it, moving the PIT from IOAPIC pin 0 to 2.)
 */
int yakvm_set_default_routing(struct yakvm_vm *vm)
{
	struct yakvm_irq_routing_table *t;
	u32 gsi, n = 0;

	t = kvzalloc(struct_size(t, routes, YAKVM_NR_PIC_PINS + YAKVM_NR_IOAPIC_PINS),
		     GFP_KERNEL_ACCOUNT);
	if (!t)
		return -ENOMEM;
	for (gsi = 0; gsi < YAKVM_NR_IOAPIC_PINS; gsi++) {
		if (gsi < YAKVM_NR_PIC_PINS && !vm->irq.split) {
			t->routes[n].gsi = gsi;
			t->routes[n].type = KVM_IRQ_ROUTING_IRQCHIP;
			t->routes[n].irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
							 KVM_IRQCHIP_PIC_SLAVE;
			t->routes[n].irqchip.pin = gsi % 8;
			n++;
		}
		if (!vm->irq.split) {
			t->routes[n].gsi = gsi;
			t->routes[n].type = KVM_IRQ_ROUTING_IRQCHIP;
			t->routes[n].irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
			t->routes[n].irqchip.pin = gsi;
			n++;
		}
	}
	t->nr = n;
	install_table(vm, t);
	return 0;
}

void yakvm_free_routing(struct yakvm_vm *vm)
{
	kvfree(rcu_dereference_protected(vm->irq.routing, true));
	RCU_INIT_POINTER(vm->irq.routing, NULL);
}

/* ------------------------------------------------------------------ */
/* Delivery                                                           */

void yakvm_msi_to_lapic_irq(const struct kvm_irq_routing_msi *msi,
			    struct yakvm_lapic_irq *irq)
{
	/* Address 0xfeeNNNNN: destination 19:12, DM bit 2; data: vector, mode, trigger. */
	irq->dest_id = (msi->address_lo >> 12) & 0xff;
	irq->logical = msi->address_lo & BIT(2);
	irq->vector = msi->data & APIC_VECTOR_MASK;
	irq->delivery_mode = msi->data & APIC_DM_FIXED_MASK;
	irq->trig_level = msi->data & BIT(15);
	irq->level = true;
	irq->shorthand = 0;		/* no shorthand */
}

static int deliver_msi(struct yakvm_vm *vm, const struct kvm_irq_routing_msi *msi)
{
	struct yakvm_lapic_irq irq;

	yakvm_msi_to_lapic_irq(msi, &irq);
	return yakvm_irq_delivery_to_apic(vm, NULL, &irq);
}

/*
 * Lowest-priority delivery (SDM 10.6.2.4) goes to the destination whose
 * APIC has the lowest priority; ties to the lowest vCPU id.  Broadcasts
 * and fixed delivery go to every destination.
 */
int yakvm_irq_delivery_to_apic(struct yakvm_vm *vm, struct yakvm_vcpu *src,
			       const struct yakvm_lapic_irq *irq)
{
	struct yakvm_vcpu *lowest = NULL;
	int i, n, matched = 0, accepted = 0;

	/* Pairs with the release in yakvm_create_vcpu(): vcpus[] is filled in. */
	n = smp_load_acquire(&vm->nr_vcpus);
	for (i = 0; i < n; i++) {
		struct yakvm_vcpu *vcpu = vm->vcpus[i];

		if (!yakvm_lapic_match_dest(vcpu, src, irq))
			continue;
		matched++;
		if (irq->delivery_mode == APIC_DM_LOWEST) {
			if (!yakvm_lapic_enabled(vcpu))
				continue;
			if (!lowest || yakvm_lapic_priority(vcpu) <
				       yakvm_lapic_priority(lowest))
				lowest = vcpu;
			continue;
		}
		accepted += yakvm_lapic_accept(vcpu, irq);
	}
	if (lowest)
		accepted += yakvm_lapic_accept(lowest, irq);
	return matched ? accepted : -1;
}

/*
 * Raise or lower a GSI on every route it has.  As KVM's kvm_set_irq(): the
 * result is the sum of what the routes report (each >= 0), or -1 when no
 * route took it.
 */
int yakvm_set_irq(struct yakvm_vm *vm, enum yakvm_irq_source source, u32 gsi,
		  int level, bool line_status)
{
	struct yakvm_irq_routing_table *t;
	struct yakvm_ioapic *ioapic = READ_ONCE(vm->irq.ioapic);
	struct yakvm_pic *pic = READ_ONCE(vm->irq.pic);
	int ret = -1, r;
	u32 first, n, i;

	rcu_read_lock();
	t = rcu_dereference(vm->irq.routing);
	n = t ? routes_of(t, gsi, &first) : 0;
	for (i = 0; i < n; i++) {
		struct yakvm_irq_route *route = &t->routes[first + i];

		r = -1;
		if (route->type == KVM_IRQ_ROUTING_MSI) {
			if (level)
				r = deliver_msi(vm, &route->msi);
		} else if (route->type == KVM_IRQ_ROUTING_HV_SINT) {
			if (level)
				r = yakvm_synic_set_irq(vm, route->hv_sint.vcpu,
							route->hv_sint.sint);
		} else if (route->irqchip.irqchip == KVM_IRQCHIP_IOAPIC) {
			if (ioapic)
				r = yakvm_ioapic_set_irq(ioapic, route->irqchip.pin,
							 source, level);
		} else if (pic) {
			r = yakvm_pic_set_irq(pic,
					      route->irqchip.irqchip * 8 +
					      route->irqchip.pin, source, level);
		}
		if (r >= 0)
			ret = r + (ret < 0 ? 0 : ret);
	}
	rcu_read_unlock();
	return ret;
}

bool yakvm_irq_split_eoi_wanted(struct yakvm_vcpu *vcpu, int vector)
{
	struct yakvm_vm *vm = vcpu->vm;
	struct yakvm_irq_routing_table *t;
	u32 nr_pins = READ_ONCE(vm->irq.nr_ioapic_routes), i;
	struct yakvm_lapic_irq irq;
	bool wanted = false;

	rcu_read_lock();
	t = rcu_dereference(vm->irq.routing);
	for (i = 0; t && i < t->nr && t->routes[i].gsi < nr_pins && !wanted; i++) {
		if (t->routes[i].type != KVM_IRQ_ROUTING_MSI)
			continue;
		yakvm_msi_to_lapic_irq(&t->routes[i].msi, &irq);
		wanted = irq.trig_level && irq.vector == vector &&
			 yakvm_lapic_match_dest(vcpu, NULL, &irq);
	}
	rcu_read_unlock();
	return wanted;
}

/* KVM_SIGNAL_MSI: one message, no route needed. */
long yakvm_signal_msi(struct yakvm_vm *vm, void __user *argp)
{
	struct kvm_irq_routing_msi msi = {};
	struct kvm_msi m;

	if (copy_from_user(&m, argp, sizeof(m)))
		return -EFAULT;
	if (!READ_ONCE(vm->irq.lapic_in_kernel))
		return -EINVAL;
	if (m.flags || memchr_inv(m.pad, 0, sizeof(m.pad)))
		return -EINVAL;
	msi.address_lo = m.address_lo;
	msi.address_hi = m.address_hi;
	msi.data = m.data;
	return deliver_msi(vm, &msi);
}

/*
 * The GSIs with a route of @type to (@a, @b) -- an irqchip's (irqchip,
 * pin) or a SynIC's (VP index, SINT) -- at most @max; returns how many.
 */
static u32 gsis_of(struct yakvm_vm *vm, u32 type, u32 a, u32 b, u32 *gsis,
		   u32 max)
{
	struct yakvm_irq_routing_table *t;
	u32 i, n = 0;

	rcu_read_lock();
	t = rcu_dereference(vm->irq.routing);
	for (i = 0; t && i < t->nr && n < max; i++) {
		const struct yakvm_irq_route *r = &t->routes[i];

		if (r->type != type)
			continue;
		if (type == KVM_IRQ_ROUTING_HV_SINT ?
		    r->hv_sint.vcpu == a && r->hv_sint.sint == b :
		    r->irqchip.irqchip == a && r->irqchip.pin == b)
			gsis[n++] = r->gsi;
	}
	rcu_read_unlock();
	return n;
}

static u32 gsis_of_pin(struct yakvm_vm *vm, u32 irqchip, u32 pin, u32 *gsis,
		       u32 max)
{
	return gsis_of(vm, KVM_IRQ_ROUTING_IRQCHIP, irqchip, pin, gsis, max);
}

/*
 * The guest acknowledged (irqchip, pin): the GSIs routed there learn it --
 * the PIT (GSI 0) reinjects its next tick, a level irqfd resamples.
 */
void yakvm_irq_acked(struct yakvm_vm *vm, u32 irqchip, u32 pin)
{
	struct yakvm_pit *pit = READ_ONCE(vm->irq.pit);
	u32 i, gsis[4], n;

	n = gsis_of_pin(vm, irqchip, pin, gsis, ARRAY_SIZE(gsis));
	for (i = 0; i < n; i++) {
		if (gsis[i] == 0 && pit)
			yakvm_pit_irq_acked(pit);
		yakvm_irqfd_acked(vm, gsis[i]);
	}
}

void yakvm_irq_hv_sint_acked(struct yakvm_vm *vm, u32 vp_index, u32 sint)
{
	u32 i, gsis[4], n;

	n = gsis_of(vm, KVM_IRQ_ROUTING_HV_SINT, vp_index, sint, gsis,
		    ARRAY_SIZE(gsis));
	for (i = 0; i < n; i++)
		yakvm_irqfd_acked(vm, gsis[i]);
}

/*
 * A pin was masked or unmasked: if it carries GSI 0, the PIT stops or
 * resumes counting ticks it owes (KVM's mask notifiers), since no
 * acknowledgement comes for a masked pin.
 */
void yakvm_irq_mask_changed(struct yakvm_vm *vm, u32 irqchip, u32 pin,
			    bool masked)
{
	struct yakvm_pit *pit = READ_ONCE(vm->irq.pit);
	u32 i, gsis[4], n;

	if (!pit)
		return;
	n = gsis_of_pin(vm, irqchip, pin, gsis, ARRAY_SIZE(gsis));
	for (i = 0; i < n; i++)
		if (gsis[i] == 0)
			yakvm_pit_irq_mask_changed(pit, masked);
}

void yakvm_irq_kick_extint(struct yakvm_vm *vm)
{
	/* Pairs with the release in yakvm_create_vcpu(): vcpus[] is filled in. */
	int i, n = smp_load_acquire(&vm->nr_vcpus);

	for (i = 0; i < n; i++)
		if (yakvm_lapic_accepts_extint(vm->vcpus[i]))
			yakvm_vcpu_kick(vm->vcpus[i]);
}
