/*
 * The PC's two cascaded 8259A programmable interrupt controllers (Intel
 * 8259A data sheet, order no. 231468): master at 0x20/0x21 with the slave on
 * its IR2, slave at 0xa0/0xa1, and the PIIX edge/level control registers
 * (ELCR) at 0x4d0/0x4d1.  Implemented: the ICW1-ICW4 initialisation
 * sequence, OCW1 (IMR, read back as Linux's probe_8259A expects), OCW2
 * (non-specific/specific EOI, rotation, set priority), OCW3 (read IRR or
 * ISR, poll, special mask mode), auto-EOI, special fully nested mode,
 * edge- and level-triggered inputs.  Not implemented: buffered mode and the
 * 8080/8085 call format (ICW4 bit 0 = 0), which only old 8-bit systems use.
 *
 * The INT output goes to the boot vCPU: pic_acknowledge() is the INTA
 * cycle, done by the vCPU thread when it injects the vector.
 */
#include <pthread.h>
#include <stdlib.h>

#include "devices.h"
#include "platform.h"
#include "../status.h"
#include "../util.h"
#include "../vm.h"

#define ICW1_IC4	0x01	/* ICW4 follows */
#define ICW1_SNGL	0x02	/* single 8259A, no ICW3 */
#define ICW1_LTIM	0x08	/* level-triggered inputs */
#define ICW1_INIT	0x10	/* A0=0 and D4=1: this is ICW1 */
#define OCW3_SELECT	0x08	/* A0=0, D4=0, D3=1: OCW3 (else OCW2) */
#define OCW3_RIS	0x01	/* read ISR (else IRR) */
#define OCW3_RR		0x02	/* RIS is valid */
#define OCW3_POLL	0x04
#define OCW3_SMM	0x20	/* special mask mode on/off ... */
#define OCW3_ESMM	0x40	/* ... when this is set */
#define ICW4_AEOI	0x02
#define ICW4_SFNM	0x10
#define CASCADE_IRQ	2	/* the slave sits on the master's IR2 */
#define SPURIOUS_IRQ	7	/* what INTA returns when the request vanished */

/* What the next write to the A0=1 port is. */
enum init_step { INIT_DONE, INIT_ICW2, INIT_ICW3, INIT_ICW4 };

struct i8259 {
	bool is_master;
	uint8_t irr, isr, imr;
	uint8_t lines;		/* input levels, for edge detection */
	uint8_t elcr, elcr_mask;
	uint8_t vector_base;	/* ICW2 */
	uint8_t lowest;		/* the IR with the lowest priority (7 after init) */
	uint8_t icw1, icw4;
	enum init_step step;
	bool read_isr, poll, special_mask, rotate_on_aeoi;
};

struct pic {
	pthread_mutex_t lock;
	struct i8259 chip[2];	/* master, slave */
	pic_notify_fn *notify;
	void *notify_opaque;
};

/* 0 = highest priority; rotation moves the lowest priority to @lowest. */
static unsigned int priority(const struct i8259 *c, unsigned int irq)
{
	return (irq - c->lowest - 1) & 7;
}

/* The set bit of @bits with the highest priority, or -1. */
static int highest(const struct i8259 *c, uint8_t bits)
{
	unsigned int i;

	for (i = 0; i < 8; i++) {
		unsigned int irq = (c->lowest + 1 + i) & 7;

		if (bits & (1u << irq))
			return irq;
	}
	return -1;
}

/* The request this chip would raise INT for, or -1 (data sheet, "Priority Resolver"). */
static int chip_pending(const struct i8259 *c)
{
	int req = highest(c, c->irr & ~c->imr);
	uint8_t isr = c->isr;
	int cur;

	if (req < 0)
		return -1;
	/* Special mask mode: masked levels do not block lower ones. */
	if (c->special_mask)
		isr &= ~c->imr;
	/* Special fully nested mode: more slave requests while one is in service. */
	if (c->is_master && (c->icw4 & ICW4_SFNM))
		isr &= ~(1u << CASCADE_IRQ);
	cur = highest(c, isr);
	if (cur >= 0 && priority(c, cur) <= priority(c, req))
		return -1;
	return req;
}

static bool is_level(const struct i8259 *c, unsigned int irq)
{
	return (c->icw1 & ICW1_LTIM) || (c->elcr & (1u << irq));
}

static void chip_set_input(struct i8259 *c, unsigned int irq, bool level)
{
	uint8_t bit = 1u << irq;

	if (is_level(c, irq)) {
		c->irr = level ? c->irr | bit : c->irr & ~bit;
	} else if (level && !(c->lines & bit)) {
		c->irr |= bit;		/* a rising edge latches the request */
	}
	c->lines = level ? c->lines | bit : c->lines & ~bit;
}

/* The slave's INT output is the master's IR2; it follows the level. */
static void update_cascade(struct pic *pic)
{
	struct i8259 *m = &pic->chip[0];
	uint8_t bit = 1u << CASCADE_IRQ;

	if (chip_pending(&pic->chip[1]) >= 0)
		m->irr |= bit;
	else
		m->irr &= ~bit;
}

/* Called with the lock dropped: the notify hook takes the vCPU's lock. */
static void notify_if_raised(struct pic *pic, bool raised)
{
	if (raised && pic->notify)
		pic->notify(pic->notify_opaque);
}

static bool output_locked(struct pic *pic)
{
	update_cascade(pic);
	return chip_pending(&pic->chip[0]) >= 0;
}

void pic_set_irq(struct pic *pic, unsigned int irq, bool level)
{
	bool out;

	pthread_mutex_lock(&pic->lock);
	chip_set_input(&pic->chip[irq / 8], irq % 8, level);
	out = output_locked(pic);
	pthread_mutex_unlock(&pic->lock);
	notify_if_raised(pic, out);
}

bool pic_output(struct pic *pic)
{
	bool out;

	pthread_mutex_lock(&pic->lock);
	out = output_locked(pic);
	pthread_mutex_unlock(&pic->lock);
	return out;
}

/* The INTA cycle on one chip: IRR -> ISR (unless auto-EOI); returns the IR. */
static unsigned int chip_acknowledge(struct i8259 *c)
{
	int irq = chip_pending(c);
	uint8_t bit;

	if (irq < 0)
		return SPURIOUS_IRQ;	/* no ISR bit is set for a spurious IR7 */
	bit = 1u << irq;
	if (!is_level(c, irq))
		c->irr &= ~bit;
	if (!(c->icw4 & ICW4_AEOI))
		c->isr |= bit;
	else if (c->rotate_on_aeoi)
		c->lowest = irq;
	return irq;
}

static uint8_t acknowledge_locked(struct pic *pic)
{
	struct i8259 *m = &pic->chip[0], *s = &pic->chip[1];
	unsigned int irq;

	update_cascade(pic);
	irq = chip_acknowledge(m);
	if (irq != CASCADE_IRQ)
		return m->vector_base + irq;
	irq = chip_acknowledge(s);
	update_cascade(pic);
	return s->vector_base + irq;
}

int pic_acknowledge(struct pic *pic)
{
	uint8_t vector;

	pthread_mutex_lock(&pic->lock);
	vector = acknowledge_locked(pic);
	pthread_mutex_unlock(&pic->lock);
	return vector;
}

/* ICW1 resets the chip (data sheet, "Initialization Command Words"). */
static void write_icw1(struct i8259 *c, uint8_t v)
{
	c->icw1 = v;
	c->icw4 = 0;
	c->imr = 0;
	c->isr = 0;
	c->irr &= c->lines & c->elcr;	/* edge requests are forgotten */
	c->lowest = 7;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	c->rotate_on_aeoi = false;
	c->step = INIT_ICW2;
}

/* The in-service level an EOI without a level clears. */
static void eoi(struct i8259 *c, int irq, bool rotate)
{
	if (irq < 0)
		return;
	c->isr &= ~(1u << irq);
	if (rotate)
		c->lowest = irq;
}

/* OCW2: R, SL and EOI in bits 7-5, the level in bits 2-0. */
static void write_ocw2(struct i8259 *c, uint8_t v)
{
	unsigned int level = v & 7;

	switch (v >> 5) {
	case 1:			/* non-specific EOI */
		eoi(c, highest(c, c->isr), false);
		break;
	case 3:			/* specific EOI */
		eoi(c, level, false);
		break;
	case 5:			/* rotate on non-specific EOI */
		eoi(c, highest(c, c->isr), true);
		break;
	case 7:			/* rotate on specific EOI */
		eoi(c, level, true);
		break;
	case 4:			/* set rotate in automatic EOI mode */
	case 0:			/* clear it */
		c->rotate_on_aeoi = (v >> 5) == 4;
		break;
	case 6:			/* set priority */
		c->lowest = level;
		break;
	default:		/* 2: no operation */
		break;
	}
}

static void write_ocw3(struct i8259 *c, uint8_t v)
{
	if (v & OCW3_RR)
		c->read_isr = v & OCW3_RIS;
	if (v & OCW3_ESMM)
		c->special_mask = v & OCW3_SMM;
	c->poll = v & OCW3_POLL;
}

static void write_data(struct i8259 *c, uint8_t v)
{
	switch (c->step) {
	case INIT_ICW2:
		c->vector_base = v & 0xf8;
		c->step = (c->icw1 & ICW1_SNGL) ? INIT_ICW4 : INIT_ICW3;
		if (c->step == INIT_ICW4 && !(c->icw1 & ICW1_IC4))
			c->step = INIT_DONE;
		break;
	case INIT_ICW3:
		/* The cascade wiring is fixed: the slave is on IR2. */
		c->step = (c->icw1 & ICW1_IC4) ? INIT_ICW4 : INIT_DONE;
		break;
	case INIT_ICW4:
		c->icw4 = v;
		c->step = INIT_DONE;
		break;
	case INIT_DONE:
		c->imr = v;		/* OCW1 */
		break;
	}
}

static void write_command(struct i8259 *c, uint8_t v)
{
	if (v & ICW1_INIT)
		write_icw1(c, v);
	else if (v & OCW3_SELECT)
		write_ocw3(c, v);
	else
		write_ocw2(c, v);
}

/* Poll mode: the read is the INTA; bit 7 says whether there was a request. */
static uint8_t read_poll(struct pic *pic, struct i8259 *c)
{
	int irq;

	c->poll = false;
	if (c->is_master)
		update_cascade(pic);
	irq = chip_pending(c);
	if (irq < 0)
		return 0;
	chip_acknowledge(c);
	if (!c->is_master)
		update_cascade(pic);
	return 0x80 | irq;
}

static uint8_t read_port(struct pic *pic, struct i8259 *c, unsigned int a0)
{
	if (c->poll)
		return read_poll(pic, c);
	if (a0)
		return c->imr;
	if (c->is_master)
		update_cascade(pic);
	return c->read_isr ? c->isr : c->irr;
}

static void pic_access(struct pic *pic, struct i8259 *c, uint64_t offset, uint8_t *data,
		       unsigned int size, bool is_write)
{
	unsigned int i;
	bool out;

	pthread_mutex_lock(&pic->lock);
	for (i = 0; i < size; i++) {
		unsigned int a0 = (offset + i) & 1;

		if (!is_write)
			data[i] = read_port(pic, c, a0);
		else if (a0)
			write_data(c, data[i]);
		else
			write_command(c, data[i]);
	}
	out = output_locked(pic);
	pthread_mutex_unlock(&pic->lock);
	/* An EOI or unmask can let a waiting request through. */
	notify_if_raised(pic, out && is_write);
}

static void master_access(void *opaque, uint64_t offset, uint8_t *data,
			  unsigned int size, bool is_write)
{
	struct pic *pic = opaque;

	pic_access(pic, &pic->chip[0], offset, data, size, is_write);
}

static void slave_access(void *opaque, uint64_t offset, uint8_t *data,
			 unsigned int size, bool is_write)
{
	struct pic *pic = opaque;

	pic_access(pic, &pic->chip[1], offset, data, size, is_write);
}

/* ELCR (Intel PIIX3 data sheet, "ELCR1/ELCR2"): IRQ0-2, 8 and 13 are always edge. */
static void elcr_access(void *opaque, uint64_t offset, uint8_t *data,
			unsigned int size, bool is_write)
{
	struct pic *pic = opaque;
	unsigned int i;

	pthread_mutex_lock(&pic->lock);
	for (i = 0; i < size; i++) {
		struct i8259 *c = &pic->chip[(offset + i) & 1];

		if (is_write)
			c->elcr = data[i] & c->elcr_mask;
		else
			data[i] = c->elcr;
	}
	pthread_mutex_unlock(&pic->lock);
}

struct pic *pic_create(struct vm *vm, pic_notify_fn *notify, void *opaque)
{
	struct pic *pic = calloc(1, sizeof(*pic));

	if (!pic)
		fail(STATUS_SETUP, "out of memory for the PIC");
	pthread_mutex_init(&pic->lock, NULL);
	pic->notify = notify;
	pic->notify_opaque = opaque;
	pic->chip[0] = (struct i8259){ .is_master = true, .lowest = 7, .elcr_mask = 0xf8,
				       .vector_base = 0x08 };
	pic->chip[1] = (struct i8259){ .lowest = 7, .elcr_mask = 0xde, .vector_base = 0x70 };
	io_register(&vm->pio, PIC_MASTER_PORT, 2, master_access, pic, "8259A PIC (master)");
	io_register(&vm->pio, PIC_SLAVE_PORT, 2, slave_access, pic, "8259A PIC (slave)");
	io_register(&vm->pio, ELCR_PORT, 2, elcr_access, pic, "ELCR");
	return pic;
}
