// SPDX-License-Identifier: GPL-2.0
/*
 * The dual 8259A PIC of a PC (master on ports 0x20/0x21, slave on
 * 0xa0/0xa1, its INT wired to the master's IR2) and the PIIX edge/level
 * control registers (ELCR, ports 0x4d0/0x4d1).  Behaviour follows the
 * Intel 8259A datasheet; the register file is KVM's struct kvm_pic_state,
 * with the values KVM keeps in it, so KVM_GET/SET_IRQCHIP state moves
 * between KVM and yakvm unchanged.
 *
 * Everything runs in process context under pic->lock (a spinlock: port
 * handlers run inside the bus's RCU read section).  What leaves the model
 * -- the acknowledgement of a pin to routing.c, the kick of the vCPU that
 * takes ExtINT, mask changes -- is done with the lock dropped, because the
 * listeners (the PIT's reinjection, an irqfd's resampler) may call back
 * into yakvm_pic_set_irq().
 */
#include <linux/bitops.h>
#include <linux/slab.h>

#include "yakvm.h"

#define PIC_MASTER	0
#define PIC_SLAVE	1
#define PIC_CASCADE_PIN	2	/* the master's IR line the slave drives */
#define PIC_SPURIOUS	7	/* what an INTA with nothing pending returns */

/* PIIX: IRQ 0, 1, 2 (master) and 8, 13 (slave) are always edge-triggered. */
#define PIC_ELCR_MASK_MASTER	0xf8
#define PIC_ELCR_MASK_SLAVE	0xde

struct yakvm_pic {
	spinlock_t lock;
	struct yakvm_vm *vm;
	struct kvm_pic_state chip[2];	/* PIC_MASTER, PIC_SLAVE */
	bool output;			/* the master's INT line */
	bool kick;			/* INT rose: kick once the lock is dropped */
	u16 acked;			/* pins (0-15) to report to routing */
	u16 mask_changed;		/* pins whose IMR bit changed */
	unsigned long sources[YAKVM_NR_PIC_PINS];
	struct yakvm_io_device dev_master;
	struct yakvm_io_device dev_slave;
	struct yakvm_io_device dev_elcr;
};

static int chip_index(struct yakvm_pic *pic, struct kvm_pic_state *s)
{
	return s == &pic->chip[PIC_SLAVE] ? PIC_SLAVE : PIC_MASTER;
}

/*
 * Priority of the most urgent bit of @bits, 0 (highest) to 7, or 8 when
 * @bits is empty.  Priorities rotate: IR(priority_add) is the highest.
 */
static int pic_priority(const struct kvm_pic_state *s, u8 bits)
{
	u8 rotated = ror8(bits, s->priority_add & 7);

	return rotated ? __ffs(rotated) : 8;
}

static int pic_pin_of(const struct kvm_pic_state *s, int priority)
{
	return (priority + s->priority_add) & 7;
}

/*
 * The pin this chip presents on its INT output: the most urgent unmasked
 * request that outranks everything in service, or -1.  In special mask
 * mode, levels the IMR masks no longer block lower ones; in special fully
 * nested mode the master lets the slave interrupt its own in-service
 * request (the slave resolves priority among its pins itself).
 */
static int pic_request(struct yakvm_pic *pic, const struct kvm_pic_state *s)
{
	int want = pic_priority(s, s->irr & ~s->imr);
	u8 in_service = s->isr;

	if (want == 8)
		return -1;
	if (s->special_mask)
		in_service &= ~s->imr;
	if (s->special_fully_nested_mode && s == &pic->chip[PIC_MASTER])
		in_service &= ~BIT(PIC_CASCADE_PIN);
	if (want >= pic_priority(s, in_service))
		return -1;
	return pic_pin_of(s, want);
}

/*
 * An IR line changes level.  Edge-triggered pins latch a request on the
 * rising edge (last_irr is the edge detector) and keep it until the INTA;
 * level-triggered pins (ELCR) request while the line is high.  Returns as
 * KVM does for KVM_IRQ_LINE_STATUS: -1 masked, 0 coalesced into a request
 * already pending, 1 otherwise.
 */
static int pic_set_line(struct kvm_pic_state *s, int pin, int level)
{
	u8 bit = BIT(pin);
	int ret = 1;

	if (level) {
		if ((s->elcr & bit) || !(s->last_irr & bit)) {
			ret = !(s->irr & bit);
			s->irr |= bit;
		}
		s->last_irr |= bit;
	} else {
		if (s->elcr & bit)
			s->irr &= ~bit;
		s->last_irr &= ~bit;
	}
	return (s->imr & bit) ? -1 : ret;
}

/*
 * Recompute the slave's INT (seen by the master as a pulse on IR2 each
 * time the slave requests, so a request the master already took is
 * latched again once the slave asks anew) and the master's INT.  Call
 * after every change that may alter a request.
 */
static void pic_update(struct yakvm_pic *pic)
{
	struct kvm_pic_state *master = &pic->chip[PIC_MASTER];
	bool out;

	if (pic_request(pic, &pic->chip[PIC_SLAVE]) >= 0) {
		pic_set_line(master, PIC_CASCADE_PIN, 1);
		pic_set_line(master, PIC_CASCADE_PIN, 0);
	}
	out = pic_request(pic, master) >= 0;
	if (out && !pic->output)
		pic->kick = true;
	WRITE_ONCE(pic->output, out);
}

/* The in-service bit of @pin goes: routing hears of it (ack notifiers). */
static void pic_clear_isr(struct yakvm_pic *pic, struct kvm_pic_state *s,
			  int pin)
{
	s->isr &= ~BIT(pin);
	pic->acked |= BIT(pin + 8 * chip_index(pic, s));
}

/*
 * Report the acknowledged pins.  The lock is dropped around each call (a
 * listener may raise or lower a line); the model's state is complete at
 * this point, and the caller re-evaluates the outputs afterwards.
 */
static void pic_flush_acks(struct yakvm_pic *pic)
	__must_hold(&pic->lock)
{
	while (pic->acked) {
		int pin = __ffs(pic->acked);

		pic->acked &= ~BIT(pin);
		spin_unlock(&pic->lock);
		yakvm_irq_acked(pic->vm, pin < 8 ? KVM_IRQCHIP_PIC_MASTER :
				KVM_IRQCHIP_PIC_SLAVE, pin & 7);
		spin_lock(&pic->lock);
	}
}

static void pic_lock(struct yakvm_pic *pic)
	__acquires(&pic->lock)
{
	spin_lock(&pic->lock);
}

/* Drop the lock, then tell the rest of yakvm what the change caused. */
static void pic_unlock(struct yakvm_pic *pic)
	__releases(&pic->lock)
{
	u16 changed, imr;
	bool kick;

	if (pic->acked) {
		pic_flush_acks(pic);
		pic_update(pic);
	}
	kick = pic->kick;
	pic->kick = false;
	changed = pic->mask_changed;
	pic->mask_changed = 0;
	imr = pic->chip[PIC_MASTER].imr | pic->chip[PIC_SLAVE].imr << 8;
	spin_unlock(&pic->lock);

	while (changed) {
		int pin = __ffs(changed);

		changed &= ~BIT(pin);
		yakvm_irq_mask_changed(pic->vm, pin < 8 ? KVM_IRQCHIP_PIC_MASTER :
				       KVM_IRQCHIP_PIC_SLAVE, pin & 7,
				       imr & BIT(pin));
	}
	if (kick)
		yakvm_irq_kick_extint(pic->vm);
}

static void pic_set_imr(struct yakvm_pic *pic, struct kvm_pic_state *s,
			u8 imr)
{
	pic->mask_changed |= (u16)(s->imr ^ imr) << (8 * chip_index(pic, s));
	s->imr = imr;
}

/*
 * The chip takes the interrupt of @pin (INTA, or a read in poll mode):
 * the pin goes in service, an edge request is consumed (a level one stays
 * while its line is high), and in auto-EOI mode the in-service bit is
 * cleared again at once.
 */
static void pic_intack(struct yakvm_pic *pic, struct kvm_pic_state *s,
		       int pin)
{
	s->isr |= BIT(pin);
	if (!(s->elcr & BIT(pin)))
		s->irr &= ~BIT(pin);
	if (s->auto_eoi) {
		if (s->rotate_on_auto_eoi)
			s->priority_add = (pin + 1) & 7;
		pic_clear_isr(pic, s, pin);
	}
}

/*
 * ICW1: the datasheet's initialization -- edge detectors reset, IMR
 * cleared, IR0 highest priority, special mask mode off, IRR selected for
 * reading, ICW4's functions off unless an ICW4 follows.  The ISR is left
 * alone (as on the chip), except for pins whose edge request is dropped:
 * as KVM does, those count as acknowledged (in-service bit cleared, the
 * pin reported), so the PIT's reinjection does not wait forever for a
 * tick the reset discarded.
 */
static void pic_init(struct yakvm_pic *pic, struct kvm_pic_state *s, u8 icw1)
{
	u8 dropped = s->irr & ~s->elcr;
	int pin;

	s->init4 = icw1 & 1;
	s->last_irr = 0;
	s->irr &= s->elcr;
	pic_set_imr(pic, s, 0);
	s->priority_add = 0;
	s->special_mask = 0;
	s->read_reg_select = 0;
	if (!s->init4) {
		s->special_fully_nested_mode = 0;
		s->auto_eoi = 0;
	}
	s->init_state = 1;
	for (pin = 0; pin < 8; pin++)
		if (dropped & BIT(pin))
			pic_clear_isr(pic, s, pin);
}

/* OCW2: end of interrupt, priority rotation. */
static void pic_ocw2(struct yakvm_pic *pic, struct kvm_pic_state *s, u8 val)
{
	bool rotate = val & 0x80;
	int pin = val & 7;
	u8 eligible;
	int prio;

	switch ((val >> 5) & 7) {
	case 0:	/* clear / set rotate in auto-EOI mode */
	case 4:
		s->rotate_on_auto_eoi = rotate;
		return;
	case 1:	/* non-specific EOI: the most urgent level in service */
	case 5:	/* ... and make it the lowest priority */
		eligible = s->isr;
		/* In special mask mode a masked in-service level is left set. */
		if (s->special_mask)
			eligible &= ~s->imr;
		prio = pic_priority(s, eligible);
		if (prio == 8)
			return;
		pin = pic_pin_of(s, prio);
		break;
	case 3:	/* specific EOI of IR(pin) */
	case 7:	/* ... and IR(pin) becomes the lowest priority */
		break;
	case 6:	/* set priority: IR(pin) is the lowest */
		s->priority_add = (pin + 1) & 7;
		pic_update(pic);
		return;
	default: /* 2: no operation */
		return;
	}
	if (rotate)
		s->priority_add = (pin + 1) & 7;
	if (s->isr & BIT(pin))
		pic_clear_isr(pic, s, pin);
	pic_flush_acks(pic);
	pic_update(pic);
}

static void pic_write_command(struct yakvm_pic *pic, struct kvm_pic_state *s,
			      u8 val)
{
	if (val & 0x10) {
		/*
		 * ICW1.  Single mode (bit 1) and level-triggered mode (bit 3)
		 * are not wired on a PIIX: it is always cascaded, and the ELCR
		 * sets the trigger mode per pin.  Both are ignored, as on KVM.
		 */
		pic_init(pic, s, val);
		pic_flush_acks(pic);
		pic_update(pic);
	} else if (val & 0x08) {
		/* OCW3 */
		if (val & 0x04)
			s->poll = 1;
		if (val & 0x02)
			s->read_reg_select = val & 1;
		if (val & 0x40) {
			s->special_mask = (val >> 5) & 1;
			pic_update(pic);
		}
	} else {
		pic_ocw2(pic, s, val);
	}
}

static void pic_write_data(struct yakvm_pic *pic, struct kvm_pic_state *s,
			   u8 val)
{
	switch (s->init_state) {
	case 1:		/* ICW2: the vector base, low 3 bits are the pin */
		s->irq_base = val & 0xf8;
		s->init_state = 2;
		break;
	case 2:		/* ICW3: cascade wiring, fixed on a PC */
		s->init_state = s->init4 ? 3 : 0;
		break;
	case 3:		/* ICW4 */
		s->special_fully_nested_mode = (val >> 4) & 1;
		s->auto_eoi = (val >> 1) & 1;
		s->init_state = 0;
		break;
	default:	/* OCW1 */
		pic_set_imr(pic, s, val);
		pic_update(pic);
		break;
	}
}

/*
 * A read after a poll command (OCW3 bit 2) is the chip's INTA: the most
 * urgent request goes in service, and the read returns it with bit 7 set,
 * or 0 when nothing is requested (datasheet "Poll command").  Polling the
 * slave also withdraws its request from the master's IR2, which software
 * that polls does not acknowledge there.
 */
static u8 pic_poll(struct yakvm_pic *pic, struct kvm_pic_state *s)
{
	int pin = pic_request(pic, s);

	s->poll = 0;
	if (pin < 0) {
		pic_update(pic);
		return 0;
	}
	pic_intack(pic, s, pin);
	if (s == &pic->chip[PIC_SLAVE])
		pic->chip[PIC_MASTER].irr &= ~BIT(PIC_CASCADE_PIN);
	pic_flush_acks(pic);
	pic_update(pic);
	return 0x80 | pin;
}

static u8 pic_read(struct yakvm_pic *pic, struct kvm_pic_state *s, bool data)
{
	if (s->poll)
		return pic_poll(pic, s);
	if (data)
		return s->imr;
	return s->read_reg_select ? s->isr : s->irr;
}

/*
 * Port handlers.  Only byte accesses reach the registers, as on KVM: a
 * wider write is ignored and a wider read returns zeros.
 */
static bool pic_byte_access(int len)
{
	return len == 1;
}

static void pic_zero(void *val, int len)
{
	if (len > 0 && len <= 8)
		memset(val, 0, len);
}

static int pic_port_write(struct yakvm_pic *pic, int chip, u64 addr, int len,
			  const void *val)
{
	struct kvm_pic_state *s = &pic->chip[chip];
	u8 data = *(const u8 *)val;

	if (!pic_byte_access(len))
		return 0;
	pic_lock(pic);
	if (addr & 1)
		pic_write_data(pic, s, data);
	else
		pic_write_command(pic, s, data);
	pic_unlock(pic);
	return 0;
}

static int pic_port_read(struct yakvm_pic *pic, int chip, u64 addr, int len,
			 void *val)
{
	if (!pic_byte_access(len)) {
		pic_zero(val, len);
		return 0;
	}
	pic_lock(pic);
	*(u8 *)val = pic_read(pic, &pic->chip[chip], addr & 1);
	pic_unlock(pic);
	return 0;
}

static int pic_master_write(struct yakvm_vcpu *vcpu, struct yakvm_io_device *dev,
			    u64 addr, int len, const void *val)
{
	return pic_port_write(container_of(dev, struct yakvm_pic, dev_master),
			      PIC_MASTER, addr, len, val);
}

static int pic_master_read(struct yakvm_vcpu *vcpu, struct yakvm_io_device *dev,
			   u64 addr, int len, void *val)
{
	return pic_port_read(container_of(dev, struct yakvm_pic, dev_master),
			     PIC_MASTER, addr, len, val);
}

static int pic_slave_write(struct yakvm_vcpu *vcpu, struct yakvm_io_device *dev,
			   u64 addr, int len, const void *val)
{
	return pic_port_write(container_of(dev, struct yakvm_pic, dev_slave),
			      PIC_SLAVE, addr, len, val);
}

static int pic_slave_read(struct yakvm_vcpu *vcpu, struct yakvm_io_device *dev,
			  u64 addr, int len, void *val)
{
	return pic_port_read(container_of(dev, struct yakvm_pic, dev_slave),
			     PIC_SLAVE, addr, len, val);
}

/*
 * ELCR: port 0x4d0 for the master's pins, 0x4d1 for the slave's.  Pins
 * the PIIX hard-wires to edge read as 0 and ignore writes.  A change
 * takes effect at the next edge or level of the line, as on KVM.
 */
static int pic_elcr_write(struct yakvm_vcpu *vcpu, struct yakvm_io_device *dev,
			  u64 addr, int len, const void *val)
{
	struct yakvm_pic *pic = container_of(dev, struct yakvm_pic, dev_elcr);
	struct kvm_pic_state *s = &pic->chip[addr & 1];

	if (!pic_byte_access(len))
		return 0;
	pic_lock(pic);
	s->elcr = *(const u8 *)val & s->elcr_mask;
	pic_unlock(pic);
	return 0;
}

static int pic_elcr_read(struct yakvm_vcpu *vcpu, struct yakvm_io_device *dev,
			 u64 addr, int len, void *val)
{
	struct yakvm_pic *pic = container_of(dev, struct yakvm_pic, dev_elcr);

	if (!pic_byte_access(len)) {
		pic_zero(val, len);
		return 0;
	}
	pic_lock(pic);
	*(u8 *)val = pic->chip[addr & 1].elcr;
	pic_unlock(pic);
	return 0;
}

static const struct yakvm_io_ops pic_master_ops = {
	.read = pic_master_read,
	.write = pic_master_write,
};

static const struct yakvm_io_ops pic_slave_ops = {
	.read = pic_slave_read,
	.write = pic_slave_write,
};

static const struct yakvm_io_ops pic_elcr_ops = {
	.read = pic_elcr_read,
	.write = pic_elcr_write,
};

/* ------------------------------------------------------------------ */
/* The interface (irq.h)                                              */

int yakvm_pic_set_irq(struct yakvm_pic *pic, int irq,
		      enum yakvm_irq_source source, int level)
{
	int ret, line;

	if (irq < 0 || irq >= YAKVM_NR_PIC_PINS ||
	    (unsigned int)source >= YAKVM_NR_IRQ_SOURCES)
		return -EINVAL;
	pic_lock(pic);
	line = yakvm_irq_line_level(&pic->sources[irq], source, level);
	ret = pic_set_line(&pic->chip[irq >> 3], irq & 7, line);
	pic_update(pic);
	pic_unlock(pic);
	return ret;
}

bool yakvm_pic_has_interrupt(struct yakvm_pic *pic)
{
	return READ_ONCE(pic->output);
}

/*
 * The CPU's INTA cycle: the master gives the vector of its most urgent
 * request, or asks the slave for it when that request is the cascade;
 * with nothing (left) to give, a chip answers with its IR7 vector and
 * sets no in-service bit (the spurious IRQ 7 / 15 of the datasheet).
 * INT drops during the cycle, so a request still pending afterwards is a
 * new rising edge and kicks again.
 */
int yakvm_pic_ack(struct yakvm_pic *pic)
{
	struct kvm_pic_state *master = &pic->chip[PIC_MASTER];
	struct kvm_pic_state *slave = &pic->chip[PIC_SLAVE];
	int pin, pin2, vector;

	pic_lock(pic);
	WRITE_ONCE(pic->output, false);
	pin = pic_request(pic, master);
	if (pin < 0) {
		vector = master->irq_base + PIC_SPURIOUS;
	} else {
		pic_intack(pic, master, pin);
		if (pin == PIC_CASCADE_PIN) {
			pin2 = pic_request(pic, slave);
			if (pin2 >= 0)
				pic_intack(pic, slave, pin2);
			else
				pin2 = PIC_SPURIOUS;
			vector = slave->irq_base + pin2;
		} else {
			vector = master->irq_base + pin;
		}
	}
	pic_flush_acks(pic);
	pic_update(pic);
	pic_unlock(pic);
	return vector & 0xff;
}

void yakvm_pic_get_state(struct yakvm_pic *pic, int chip,
			 struct kvm_pic_state *state)
{
	if (chip != PIC_MASTER && chip != PIC_SLAVE) {
		memset(state, 0, sizeof(*state));
		return;
	}
	pic_lock(pic);
	*state = pic->chip[chip];
	pic_unlock(pic);
}

/*
 * KVM_SET_IRQCHIP.  Any state KVM can produce is taken as it is; other
 * values are brought back to what the chip can hold: flags to 0/1, the
 * rotation to 0-7, the vector base to a multiple of 8 (so a vector never
 * exceeds 255), an unknown init step to "initialized", ELCR bits to the
 * PIIX's wiring.  elcr_mask is the chipset's, not state: it is kept.
 */
void yakvm_pic_set_state(struct yakvm_pic *pic, int chip,
			 const struct kvm_pic_state *state)
{
	struct kvm_pic_state *s;

	if (chip != PIC_MASTER && chip != PIC_SLAVE)
		return;
	pic_lock(pic);
	s = &pic->chip[chip];
	s->last_irr = state->last_irr;
	s->irr = state->irr;
	s->imr = state->imr;
	s->isr = state->isr;
	s->priority_add = state->priority_add & 7;
	s->irq_base = state->irq_base & 0xf8;
	s->read_reg_select = !!state->read_reg_select;
	s->poll = !!state->poll;
	s->special_mask = !!state->special_mask;
	s->init_state = state->init_state <= 3 ? state->init_state : 0;
	s->auto_eoi = !!state->auto_eoi;
	s->rotate_on_auto_eoi = !!state->rotate_on_auto_eoi;
	s->special_fully_nested_mode = !!state->special_fully_nested_mode;
	s->init4 = !!state->init4;
	s->elcr = state->elcr & s->elcr_mask;
	pic_update(pic);
	pic_unlock(pic);
}

void yakvm_pic_clear_source(struct yakvm_pic *pic,
			    enum yakvm_irq_source source)
{
	int i;

	if ((unsigned int)source >= YAKVM_NR_IRQ_SOURCES)
		return;
	pic_lock(pic);
	for (i = 0; i < YAKVM_NR_PIC_PINS; i++)
		__clear_bit(source, &pic->sources[i]);
	pic_unlock(pic);
}

int yakvm_pic_create(struct yakvm_vm *vm)
{
	struct yakvm_pic *pic;
	int r;

	lockdep_assert_held(&vm->irq.lock);
	if (vm->irq.pic)
		return -EEXIST;
	pic = kzalloc(sizeof(*pic), GFP_KERNEL_ACCOUNT);
	if (!pic)
		return -ENOMEM;
	spin_lock_init(&pic->lock);
	pic->vm = vm;
	pic->chip[PIC_MASTER].elcr_mask = PIC_ELCR_MASK_MASTER;
	pic->chip[PIC_SLAVE].elcr_mask = PIC_ELCR_MASK_SLAVE;
	pic->dev_master.ops = &pic_master_ops;
	pic->dev_slave.ops = &pic_slave_ops;
	pic->dev_elcr.ops = &pic_elcr_ops;

	r = yakvm_io_bus_register(vm, YAKVM_PIO_BUS, 0x20, 2, &pic->dev_master);
	if (r)
		goto err_free;
	r = yakvm_io_bus_register(vm, YAKVM_PIO_BUS, 0xa0, 2, &pic->dev_slave);
	if (r)
		goto err_master;
	r = yakvm_io_bus_register(vm, YAKVM_PIO_BUS, 0x4d0, 2, &pic->dev_elcr);
	if (r)
		goto err_slave;
	/* Pairs with READ_ONCE() of vm->irq.pic by its users. */
	smp_store_release(&vm->irq.pic, pic);
	return 0;

err_slave:
	yakvm_io_bus_unregister(vm, YAKVM_PIO_BUS, &pic->dev_slave);
err_master:
	yakvm_io_bus_unregister(vm, YAKVM_PIO_BUS, &pic->dev_master);
err_free:
	kfree(pic);
	return r;
}

void yakvm_pic_destroy(struct yakvm_vm *vm)
{
	struct yakvm_pic *pic = vm->irq.pic;

	lockdep_assert_held(&vm->irq.lock);
	if (!pic)
		return;
	yakvm_io_bus_unregister(vm, YAKVM_PIO_BUS, &pic->dev_master);
	yakvm_io_bus_unregister(vm, YAKVM_PIO_BUS, &pic->dev_slave);
	yakvm_io_bus_unregister(vm, YAKVM_PIO_BUS, &pic->dev_elcr);
	WRITE_ONCE(vm->irq.pic, NULL);
	kfree(pic);
}
