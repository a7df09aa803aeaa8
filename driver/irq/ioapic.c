// SPDX-License-Identifier: GPL-2.0
/*
 * The IOAPIC: an 82093AA-compatible I/O APIC (version 0x11, 24 pins, as
 * KVM's) at YAKVM_IOAPIC_BASE.  Two MMIO registers, IOREGSEL (0x00) and
 * IOWIN (0x10), reach the indirect ones: 0 ID, 1 version, 2 arbitration,
 * 0x10 + 2n / 0x11 + 2n the low / high half of pin n's redirection entry.
 * State and the KVM_IRQ_LINE_STATUS results are KVM's, so
 * KVM_GET/SET_IRQCHIP moves the IOAPIC between KVM and yakvm.
 *
 * Line levels are logical (asserted or not), as KVM_IRQ_LINE gives them:
 * the entry's polarity bit is kept for the guest to read back but does not
 * invert anything, exactly as on KVM, where VMMs assert active-low PCI
 * lines with level 1 too.
 *
 * Locking: ioapic->lock, taken in process context only; delivery to the
 * local APICs happens under it (it takes no lock of ours); acknowledgements
 * and mask changes reach routing.c with it dropped.
 */
#include <linux/bitops.h>
#include <linux/nospec.h>
#include <linux/slab.h>

#include "yakvm.h"

#define IOAPIC_VERSION		0x11
#define IOAPIC_REG_SELECT	0x00
#define IOAPIC_REG_WINDOW	0x10
#define IOAPIC_REG_ID		0x00
#define IOAPIC_REG_VERSION	0x01
#define IOAPIC_REG_ARB		0x02
#define IOAPIC_REG_REDIR	0x10

/* Redirection entry fields (82093AA datasheet, 3.2.4). */
#define RTE_VECTOR		0xffULL
#define RTE_DELIVERY_MODE	0x700ULL	/* bits 10:8, as APIC_DM_* */
#define RTE_DEST_LOGICAL	BIT_ULL(11)
#define RTE_DELIVERY_STATUS	BIT_ULL(12)	/* read-only, always 0 here */
#define RTE_POLARITY_LOW	BIT_ULL(13)
#define RTE_REMOTE_IRR		BIT_ULL(14)	/* read-only */
#define RTE_LEVEL		BIT_ULL(15)
#define RTE_MASKED		BIT_ULL(16)
#define RTE_DEST_SHIFT		56

/*
 * A level interrupt whose EOI finds its line still asserted is delivered
 * again at once; after this many in a row the next one waits 10 ms, as on
 * KVM, so a guest that never quiets its device still makes progress
 * (hardware does not redeliver within the EOI either).
 */
#define IOAPIC_EOI_STORM	10000

struct yakvm_ioapic {
	spinlock_t lock;
	struct yakvm_vm *vm;
	u64 base_address;
	u32 ioregsel;
	u32 id;
	u32 irr;			/* asserted lines */
	u32 irr_delivered;		/* edge pins whose assertion was delivered */
	u32 mask_changed;		/* to report once the lock is dropped */
	u64 redir[YAKVM_NR_IOAPIC_PINS];
	unsigned long sources[YAKVM_NR_IOAPIC_PINS];
	u32 eoi_redeliveries[YAKVM_NR_IOAPIC_PINS];
	/* Vectors of the entries, read without the lock by EOI paths. */
	unsigned long vectors[BITS_TO_LONGS(256)];
	struct delayed_work eoi_work;
	struct yakvm_io_device dev;
};

static void ioapic_unlock(struct yakvm_ioapic *ioapic)
	__releases(&ioapic->lock)
{
	u32 changed = ioapic->mask_changed;
	u64 redir[YAKVM_NR_IOAPIC_PINS];
	int pin;

	ioapic->mask_changed = 0;
	if (changed)
		memcpy(redir, ioapic->redir, sizeof(redir));
	spin_unlock(&ioapic->lock);

	for (pin = 0; changed; pin++, changed >>= 1)
		if (changed & 1)
			yakvm_irq_mask_changed(ioapic->vm, KVM_IRQCHIP_IOAPIC,
					       pin, redir[pin] & RTE_MASKED);
}

/* Refresh the vector map without ever clearing a vector that stays. */
static void ioapic_scan_vectors(struct yakvm_ioapic *ioapic)
{
	unsigned long v[BITS_TO_LONGS(256)] = {};
	unsigned int i;

	for (i = 0; i < YAKVM_NR_IOAPIC_PINS; i++)
		__set_bit(ioapic->redir[i] & RTE_VECTOR, v);
	for (i = 0; i < ARRAY_SIZE(v); i++)
		WRITE_ONCE(ioapic->vectors[i], v[i]);
}

/*
 * Send pin @pin's interrupt to the local APICs its entry names.  Masked
 * entries and level entries still waiting for their EOI send nothing (-1).
 * Returns what yakvm_irq_delivery_to_apic() returns otherwise: a level
 * entry then waits for an EOI (remote IRR) unless its vector was merged
 * into one already pending (0), as on KVM.
 */
static int ioapic_service(struct yakvm_ioapic *ioapic, int pin)
{
	u64 e = ioapic->redir[pin];
	struct yakvm_lapic_irq irq = {};	/* shorthand: none */
	int ret;

	if ((e & RTE_MASKED) || ((e & RTE_LEVEL) && (e & RTE_REMOTE_IRR)))
		return -1;
	irq.vector = e & RTE_VECTOR;
	irq.delivery_mode = e & RTE_DELIVERY_MODE;
	irq.logical = e & RTE_DEST_LOGICAL;
	irq.level = true;
	irq.trig_level = e & RTE_LEVEL;
	irq.dest_id = e >> RTE_DEST_SHIFT;
	if (!(e & RTE_LEVEL))
		ioapic->irr_delivered |= BIT(pin);
	ret = yakvm_irq_delivery_to_apic(ioapic->vm, NULL, &irq);
	if (ret && (e & RTE_LEVEL))
		ioapic->redir[pin] |= RTE_REMOTE_IRR;
	return ret;
}

/*
 * Pin @pin's line goes to @level.  An edge pin interrupts when its line
 * rises; asserting it again without lowering it in between is coalesced
 * (0).  A level pin interrupts whenever it is asserted and not waiting for
 * an EOI.  Returns as KVM's for KVM_IRQ_LINE_STATUS: 1 for a lowered line,
 * 0 coalesced, -1 masked (or no destination), else the delivery count.
 */
static int ioapic_set_line(struct yakvm_ioapic *ioapic, int pin, int level)
{
	u32 bit = BIT(pin);
	u32 old = ioapic->irr;

	if (!level) {
		ioapic->irr &= ~bit;
		return 1;
	}
	ioapic->irr |= bit;
	if (!(ioapic->redir[pin] & RTE_LEVEL)) {
		ioapic->irr_delivered &= ~bit;
		if (old & bit)
			return 0;
	}
	return ioapic_service(ioapic, pin);
}

static u32 ioapic_read_indirect(struct yakvm_ioapic *ioapic)
{
	u32 sel = ioapic->ioregsel;
	u64 e = ~0ULL;		/* what a missing entry reads as (KVM) */
	u32 pin;

	switch (sel) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:	/* the arbitration ID follows the ID */
		return (ioapic->id & 0xf) << 24;
	case IOAPIC_REG_VERSION:
		return (YAKVM_NR_IOAPIC_PINS - 1) << 16 | IOAPIC_VERSION;
	}
	if (sel >= IOAPIC_REG_REDIR) {
		pin = (sel - IOAPIC_REG_REDIR) >> 1;
		if (pin < YAKVM_NR_IOAPIC_PINS)
			e = ioapic->redir[array_index_nospec(pin, YAKVM_NR_IOAPIC_PINS)];
	}
	return (sel & 1) ? e >> 32 : (u32)e;
}

static void ioapic_write_redir(struct yakvm_ioapic *ioapic, u32 sel, u32 val)
{
	const u64 ro = RTE_REMOTE_IRR | RTE_DELIVERY_STATUS;
	u32 pin = (sel - IOAPIC_REG_REDIR) >> 1;
	u64 old, e;

	if (pin >= YAKVM_NR_IOAPIC_PINS)
		return;
	pin = array_index_nospec(pin, YAKVM_NR_IOAPIC_PINS);
	old = ioapic->redir[pin];
	if (sel & 1)
		e = (old & 0xffffffffULL) | (u64)val << 32;
	else
		e = (old & ~0xffffffffULL) | val;
	e = (e & ~ro) | (old & ro);
	/*
	 * Linux (and Xen) clear a stuck remote IRR by switching the entry to
	 * edge and back, which IOAPICs without an EOI register honour.
	 */
	if (!(e & RTE_LEVEL))
		e &= ~RTE_REMOTE_IRR;
	ioapic->redir[pin] = e;
	if ((old ^ e) & RTE_MASKED)
		ioapic->mask_changed |= BIT(pin);
	ioapic_scan_vectors(ioapic);
	/* An asserted level line interrupts as soon as its entry lets it. */
	if ((e & RTE_LEVEL) && (ioapic->irr & BIT(pin)))
		ioapic_service(ioapic, pin);
}

static void ioapic_write_indirect(struct yakvm_ioapic *ioapic, u32 val)
{
	u32 sel = ioapic->ioregsel;

	switch (sel) {
	case IOAPIC_REG_ID:
		ioapic->id = (val >> 24) & 0xf;
		return;
	case IOAPIC_REG_VERSION:	/* read-only */
	case IOAPIC_REG_ARB:
		return;
	}
	if (sel >= IOAPIC_REG_REDIR)
		ioapic_write_redir(ioapic, sel, val);
}

/* The bus range is fixed; a state that moved base_address moves it away. */
static bool ioapic_in_range(struct yakvm_ioapic *ioapic, u64 addr)
{
	return addr >= ioapic->base_address &&
	       addr - ioapic->base_address < YAKVM_IOAPIC_SIZE;
}

/*
 * The registers are 32 bits wide at offsets 0x00 and 0x10; every other
 * offset reads 0 and ignores writes.  Narrower accesses see the low bytes;
 * an 8-byte access reaches the low 32 bits (KVM's choices too).
 */
static int ioapic_mmio_read(struct yakvm_vcpu *vcpu, struct yakvm_io_device *dev,
			    u64 addr, int len, void *val)
{
	struct yakvm_ioapic *ioapic = container_of(dev, struct yakvm_ioapic, dev);
	u32 result = 0;

	if (len < 1 || len > 8)
		return 0;
	spin_lock(&ioapic->lock);
	if (!ioapic_in_range(ioapic, addr)) {
		spin_unlock(&ioapic->lock);
		return -EOPNOTSUPP;
	}
	switch (addr & 0xff) {
	case IOAPIC_REG_SELECT:
		result = ioapic->ioregsel;
		break;
	case IOAPIC_REG_WINDOW:
		result = ioapic_read_indirect(ioapic);
		break;
	}
	spin_unlock(&ioapic->lock);
	memset(val, 0, len);
	memcpy(val, &result, min(len, 4));
	return 0;
}

static int ioapic_mmio_write(struct yakvm_vcpu *vcpu, struct yakvm_io_device *dev,
			     u64 addr, int len, const void *val)
{
	struct yakvm_ioapic *ioapic = container_of(dev, struct yakvm_ioapic, dev);
	u32 data = 0;

	/* Other sizes are not bus cycles the chip decodes (ignored, as KVM). */
	if (len != 1 && len != 2 && len != 4 && len != 8)
		return 0;
	memcpy(&data, val, min(len, 4));
	spin_lock(&ioapic->lock);
	if (!ioapic_in_range(ioapic, addr)) {
		spin_unlock(&ioapic->lock);
		return -EOPNOTSUPP;
	}
	switch (addr & 0xff) {
	case IOAPIC_REG_SELECT:
		ioapic->ioregsel = data & 0xff;
		break;
	case IOAPIC_REG_WINDOW:
		ioapic_write_indirect(ioapic, data);
		break;
	}
	ioapic_unlock(ioapic);
	return 0;
}

static const struct yakvm_io_ops ioapic_mmio_ops = {
	.read = ioapic_mmio_read,
	.write = ioapic_mmio_write,
};

/* The delayed redelivery of an EOI storm (see IOAPIC_EOI_STORM). */
static void ioapic_eoi_work(struct work_struct *work)
{
	struct yakvm_ioapic *ioapic = container_of(to_delayed_work(work),
						   struct yakvm_ioapic, eoi_work);
	int pin;

	spin_lock(&ioapic->lock);
	for (pin = 0; pin < YAKVM_NR_IOAPIC_PINS; pin++) {
		u64 e = ioapic->redir[pin];

		if ((e & RTE_LEVEL) && !(e & RTE_REMOTE_IRR) &&
		    (ioapic->irr & BIT(pin)))
			ioapic_service(ioapic, pin);
	}
	ioapic_unlock(ioapic);
}

/* ------------------------------------------------------------------ */
/* The interface (irq.h)                                              */

int yakvm_ioapic_set_irq(struct yakvm_ioapic *ioapic, int pin,
			 enum yakvm_irq_source source, int level)
{
	int ret, line;

	if (pin < 0 || pin >= YAKVM_NR_IOAPIC_PINS ||
	    (unsigned int)source >= YAKVM_NR_IRQ_SOURCES)
		return -EINVAL;
	spin_lock(&ioapic->lock);
	line = yakvm_irq_line_level(&ioapic->sources[pin], source, level);
	ret = ioapic_set_line(ioapic, pin, line);
	ioapic_unlock(ioapic);
	return ret;
}

bool yakvm_ioapic_handles_vector(struct yakvm_ioapic *ioapic, int vector)
{
	return vector >= 0 && vector < 256 && test_bit(vector, ioapic->vectors);
}

/*
 * A local APIC's EOI of @vector.  Every entry with that vector hears of
 * it (its pin is reported to routing.c first, with the lock dropped, so
 * an irqfd resampler lowers its line before the line is looked at); a
 * level entry then leaves its remote IRR state and, with its line still
 * asserted, interrupts again.
 */
void yakvm_ioapic_eoi(struct yakvm_vm *vm, int vector)
{
	struct yakvm_ioapic *ioapic = READ_ONCE(vm->irq.ioapic);
	int pin;
	u64 vec = vector;

	if (!ioapic || vector < 0 || vector >= 256)
		return;
	spin_lock(&ioapic->lock);
	for (pin = 0; pin < YAKVM_NR_IOAPIC_PINS; pin++) {
		u64 e = ioapic->redir[pin];

		if ((e & RTE_VECTOR) != vec)
			continue;
		spin_unlock(&ioapic->lock);
		yakvm_irq_acked(vm, KVM_IRQCHIP_IOAPIC, pin);
		spin_lock(&ioapic->lock);

		/* The entry may have changed while the lock was dropped. */
		e = ioapic->redir[pin];
		if (!(e & RTE_LEVEL) || (e & RTE_VECTOR) != vec)
			continue;
		ioapic->redir[pin] &= ~RTE_REMOTE_IRR;
		if ((e & RTE_MASKED) || !(ioapic->irr & BIT(pin))) {
			ioapic->eoi_redeliveries[pin] = 0;
			continue;
		}
		if (++ioapic->eoi_redeliveries[pin] >= IOAPIC_EOI_STORM) {
			ioapic->eoi_redeliveries[pin] = 0;
			schedule_delayed_work(&ioapic->eoi_work, HZ / 100);
		} else {
			ioapic_service(ioapic, pin);
		}
	}
	ioapic_unlock(ioapic);
}

void yakvm_ioapic_get_state(struct yakvm_ioapic *ioapic,
			    struct kvm_ioapic_state *state)
{
	int i;

	memset(state, 0, sizeof(*state));
	spin_lock(&ioapic->lock);
	state->base_address = ioapic->base_address;
	state->ioregsel = ioapic->ioregsel;
	state->id = ioapic->id;
	/* An edge already delivered is no longer a request (as KVM). */
	state->irr = ioapic->irr & ~ioapic->irr_delivered;
	for (i = 0; i < YAKVM_NR_IOAPIC_PINS; i++)
		state->redirtbl[i].bits = ioapic->redir[i];
	spin_unlock(&ioapic->lock);
}

/*
 * KVM_SET_IRQCHIP.  Registers take the state's values (IOREGSEL to its 8
 * bits, the ID to its 4, what hardware never shows cleared: a delivery
 * status bit, a remote IRR on an edge entry); then the requests in @irr
 * are raised again, as KVM does, which delivers those the entries let
 * through.  Source levels (KVM_IRQ_LINE) are not part of the state.
 */
void yakvm_ioapic_set_state(struct yakvm_ioapic *ioapic,
			    const struct kvm_ioapic_state *state)
{
	unsigned long irr = state->irr & GENMASK(YAKVM_NR_IOAPIC_PINS - 1, 0);
	int pin;

	spin_lock(&ioapic->lock);
	ioapic->base_address = state->base_address;
	ioapic->ioregsel = state->ioregsel & 0xff;
	ioapic->id = state->id & 0xf;
	for (pin = 0; pin < YAKVM_NR_IOAPIC_PINS; pin++) {
		u64 e = state->redirtbl[pin].bits & ~RTE_DELIVERY_STATUS;

		if (!(e & RTE_LEVEL))
			e &= ~RTE_REMOTE_IRR;
		ioapic->redir[pin] = e;
		ioapic->eoi_redeliveries[pin] = 0;
	}
	ioapic_scan_vectors(ioapic);
	ioapic->irr = 0;
	ioapic->irr_delivered = 0;
	for_each_set_bit(pin, &irr, YAKVM_NR_IOAPIC_PINS)
		ioapic_set_line(ioapic, pin, 1);
	ioapic_unlock(ioapic);
}

void yakvm_ioapic_clear_source(struct yakvm_ioapic *ioapic,
			       enum yakvm_irq_source source)
{
	int i;

	if ((unsigned int)source >= YAKVM_NR_IRQ_SOURCES)
		return;
	spin_lock(&ioapic->lock);
	for (i = 0; i < YAKVM_NR_IOAPIC_PINS; i++)
		__clear_bit(source, &ioapic->sources[i]);
	spin_unlock(&ioapic->lock);
}

int yakvm_ioapic_create(struct yakvm_vm *vm)
{
	struct yakvm_ioapic *ioapic;
	int pin, r;

	lockdep_assert_held(&vm->irq.lock);
	if (vm->irq.ioapic)
		return -EEXIST;
	ioapic = kzalloc(sizeof(*ioapic), GFP_KERNEL_ACCOUNT);
	if (!ioapic)
		return -ENOMEM;
	spin_lock_init(&ioapic->lock);
	INIT_DELAYED_WORK(&ioapic->eoi_work, ioapic_eoi_work);
	ioapic->vm = vm;
	ioapic->base_address = YAKVM_IOAPIC_BASE;
	/* Reset: every entry masked, everything else zero. */
	for (pin = 0; pin < YAKVM_NR_IOAPIC_PINS; pin++)
		ioapic->redir[pin] = RTE_MASKED;
	ioapic_scan_vectors(ioapic);
	ioapic->dev.ops = &ioapic_mmio_ops;

	r = yakvm_io_bus_register(vm, YAKVM_MMIO_BUS, YAKVM_IOAPIC_BASE,
				  YAKVM_IOAPIC_SIZE, &ioapic->dev);
	if (r) {
		kfree(ioapic);
		return r;
	}
	/* Pairs with READ_ONCE() of vm->irq.ioapic by its users. */
	smp_store_release(&vm->irq.ioapic, ioapic);
	return 0;
}

void yakvm_ioapic_destroy(struct yakvm_vm *vm)
{
	struct yakvm_ioapic *ioapic = vm->irq.ioapic;

	lockdep_assert_held(&vm->irq.lock);
	if (!ioapic)
		return;
	yakvm_io_bus_unregister(vm, YAKVM_MMIO_BUS, &ioapic->dev);
	cancel_delayed_work_sync(&ioapic->eoi_work);
	WRITE_ONCE(vm->irq.ioapic, NULL);
	kfree(ioapic);
}
