// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test, run on the build host: the dual 8259A PIC of
 * driver/irq/i8259.c, built against tests/unit/shim and driven through its
 * ports (as a guest) and its irq.h interface (as routing.c and a vCPU's
 * INTA would).  Expectations come from the Intel 8259A datasheet and from
 * KVM's state layout, not from the model.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "../../driver/irq/i8259.c"

static struct yakvm_vm vm;
static struct yakvm_pic *pic;
static int kicks;

struct pin_event {
	u32 chip, pin;
	bool masked;
};

static struct pin_event acks[64], masks[64];
static int nr_acks, nr_masks;
static void (*on_ack)(u32 chip, u32 pin);

void yakvm_irq_acked(struct yakvm_vm *v, u32 chip, u32 pin)
{
	CHECK_EQ(shim_locks_held, 0);
	if (nr_acks < 64)
		acks[nr_acks++] = (struct pin_event){ chip, pin, false };
	if (on_ack)
		on_ack(chip, pin);
}

void yakvm_irq_kick_extint(struct yakvm_vm *v)
{
	CHECK_EQ(shim_locks_held, 0);
	kicks++;
}

void yakvm_irq_mask_changed(struct yakvm_vm *v, u32 chip, u32 pin, bool masked)
{
	CHECK_EQ(shim_locks_held, 0);
	if (nr_masks < 64)
		masks[nr_masks++] = (struct pin_event){ chip, pin, masked };
}

static void outb(u16 port, u8 val)
{
	CHECK_EQ(shim_bus_access(YAKVM_PIO_BUS, port, 1, &val, true), 0);
}

static u8 inb(u16 port)
{
	u8 val = 0xee;

	CHECK_EQ(shim_bus_access(YAKVM_PIO_BUS, port, 1, &val, false), 0);
	return val;
}

static int line(int irq, int level)
{
	return yakvm_pic_set_irq(pic, irq, YAKVM_IRQ_SOURCE_USER, level);
}

static void pulse(int irq)
{
	line(irq, 1);
	line(irq, 0);
}

static struct kvm_pic_state st(int chip)
{
	struct kvm_pic_state s;

	yakvm_pic_get_state(pic, chip, &s);
	return s;
}

static u8 read_isr(u16 cmd)
{
	outb(cmd, 0x0b);
	return inb(cmd);
}

static u8 read_irr(u16 cmd)
{
	outb(cmd, 0x0a);
	return inb(cmd);
}

static void clear_logs(void)
{
	nr_acks = nr_masks = kicks = 0;
	on_ack = NULL;
}

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	vm.irq.lock.held = 1;
	CHECK_EQ(yakvm_pic_create(&vm), 0);
	vm.irq.lock.held = 0;
	pic = vm.irq.pic;
	clear_logs();
}

static void teardown(void)
{
	vm.irq.lock.held = 1;
	yakvm_pic_destroy(&vm);
	vm.irq.lock.held = 0;
	CHECK(!vm.irq.pic);
	CHECK_EQ(shim_nr_ranges, 0);
	CHECK_EQ(shim_allocations, 0);
	shim_forget_all();
}

/* Linux's init_8259A: vectors 0x08/0x70 here, cascade on IR2. */
static void init_pics(u8 icw4_master, u8 icw4_slave)
{
	outb(0x20, 0x11);
	outb(0x21, 0x08);
	outb(0x21, 0x04);
	outb(0x21, icw4_master);
	outb(0xa0, 0x11);
	outb(0xa1, 0x70);
	outb(0xa1, 0x02);
	outb(0xa1, icw4_slave);
	clear_logs();
}

static void test_init(void)
{
	setup();
	CHECK_EQ(st(0).elcr_mask, 0xf8);
	CHECK_EQ(st(1).elcr_mask, 0xde);
	CHECK_EQ(shim_nr_ranges, 3);

	outb(0x20, 0x11);
	CHECK_EQ(st(0).init_state, 1);
	CHECK_EQ(st(0).init4, 1);
	outb(0x21, 0x0f);			/* ICW2: low bits ignored */
	CHECK_EQ(st(0).irq_base, 0x08);
	CHECK_EQ(st(0).init_state, 2);
	outb(0x21, 0x04);
	CHECK_EQ(st(0).init_state, 3);
	outb(0x21, 0x01);
	CHECK_EQ(st(0).init_state, 0);
	CHECK_EQ(st(0).auto_eoi, 0);

	/* Without IC4 the sequence ends after ICW3. */
	outb(0xa0, 0x10);
	outb(0xa1, 0x70);
	outb(0xa1, 0x02);
	CHECK_EQ(st(1).init_state, 0);
	CHECK_EQ(st(1).init4, 0);
	outb(0xa1, 0xfb);			/* OCW1 */
	CHECK_EQ(inb(0xa1), 0xfb);
	CHECK_EQ(nr_masks, 7);
	CHECK(masks[0].chip == KVM_IRQCHIP_PIC_SLAVE && masks[0].pin == 0 &&
	      masks[0].masked);

	/* ICW1 clears the IMR (and says so) and selects IRR for reading. */
	nr_masks = 0;
	outb(0xa0, 0x0b);
	CHECK_EQ(st(1).read_reg_select, 1);
	outb(0xa0, 0x11);
	CHECK_EQ(inb(0xa1), 0);
	CHECK_EQ(st(1).read_reg_select, 0);
	CHECK_EQ(nr_masks, 7);
	CHECK(!masks[0].masked);
	teardown();
}

static void test_edge_basic(void)
{
	setup();
	init_pics(0x01, 0x01);
	CHECK(!yakvm_pic_has_interrupt(pic));
	CHECK_EQ(line(0, 1), 1);
	CHECK(yakvm_pic_has_interrupt(pic));
	CHECK_EQ(kicks, 1);
	line(0, 0);
	CHECK_EQ(read_irr(0x20), 0x01);		/* latched though the line fell */
	CHECK_EQ(yakvm_pic_ack(pic), 0x08);
	CHECK_EQ(read_isr(0x20), 0x01);
	CHECK_EQ(read_irr(0x20), 0x00);
	CHECK(!yakvm_pic_has_interrupt(pic));
	CHECK_EQ(nr_acks, 0);			/* acknowledged at the EOI */
	outb(0x20, 0x20);
	CHECK_EQ(read_isr(0x20), 0);
	CHECK_EQ(nr_acks, 1);
	CHECK(acks[0].chip == KVM_IRQCHIP_PIC_MASTER && acks[0].pin == 0);

	/* An INTA with nothing pending: IR7's vector, nothing in service. */
	CHECK_EQ(yakvm_pic_ack(pic), 0x0f);
	CHECK_EQ(read_isr(0x20), 0);
	CHECK_EQ(kicks, 1);
	teardown();
}

static void test_priority(void)
{
	setup();
	init_pics(0x01, 0x01);
	pulse(3);
	pulse(1);
	CHECK_EQ(yakvm_pic_ack(pic), 0x09);	/* IR1 outranks IR3 */
	CHECK(!yakvm_pic_has_interrupt(pic));	/* IR3 waits for IR1's EOI */
	outb(0x20, 0x20);
	CHECK(yakvm_pic_has_interrupt(pic));
	CHECK_EQ(yakvm_pic_ack(pic), 0x0b);
	pulse(0);				/* nests over IR3 */
	CHECK(yakvm_pic_has_interrupt(pic));
	CHECK_EQ(yakvm_pic_ack(pic), 0x08);
	CHECK_EQ(read_isr(0x20), 0x09);
	pulse(5);				/* below both: waits */
	CHECK(!yakvm_pic_has_interrupt(pic));
	outb(0x20, 0x20);			/* clears the highest: IR0 */
	CHECK_EQ(read_isr(0x20), 0x08);
	CHECK(!yakvm_pic_has_interrupt(pic));
	outb(0x20, 0x20);
	CHECK_EQ(read_isr(0x20), 0);
	CHECK_EQ(yakvm_pic_ack(pic), 0x0d);
	outb(0x20, 0x20);
	teardown();
}

static void test_rotation(void)
{
	setup();
	init_pics(0x01, 0x01);
	/* Rotate on non-specific EOI: IR1 becomes the lowest priority. */
	pulse(1);
	CHECK_EQ(yakvm_pic_ack(pic), 0x09);
	outb(0x20, 0xa0);
	CHECK_EQ(st(0).priority_add, 2);
	pulse(0);
	pulse(3);
	CHECK_EQ(yakvm_pic_ack(pic), 0x0b);	/* order is now 2..7, 0, 1 */
	outb(0x20, 0x20);
	CHECK_EQ(yakvm_pic_ack(pic), 0x08);
	outb(0x20, 0x20);

	/* Set priority: IR4 lowest, so IR5 is the highest. */
	outb(0x20, 0xc4);
	CHECK_EQ(st(0).priority_add, 5);
	pulse(4);
	pulse(5);
	CHECK_EQ(yakvm_pic_ack(pic), 0x0d);
	nr_acks = 0;
	outb(0x20, 0x65);			/* specific EOI of IR5 */
	CHECK_EQ(nr_acks, 1);
	CHECK_EQ(acks[0].pin, 5);
	CHECK_EQ(yakvm_pic_ack(pic), 0x0c);
	outb(0x20, 0xe4);			/* rotate on specific EOI */
	CHECK_EQ(st(0).priority_add, 5);
	CHECK_EQ(read_isr(0x20), 0);
	/* A specific EOI of a level not in service acknowledges nothing. */
	nr_acks = 0;
	outb(0x20, 0x63);
	CHECK_EQ(nr_acks, 0);
	/* OCW2 no-op (010). */
	outb(0x20, 0x40);
	CHECK_EQ(st(0).priority_add, 5);
	teardown();
}

static void test_auto_eoi(void)
{
	setup();
	init_pics(0x03, 0x01);
	CHECK_EQ(st(0).auto_eoi, 1);
	pulse(5);
	CHECK_EQ(yakvm_pic_ack(pic), 0x0d);
	CHECK_EQ(read_isr(0x20), 0);
	CHECK_EQ(nr_acks, 1);			/* acknowledged in the INTA */
	CHECK_EQ(acks[0].pin, 5);
	outb(0x20, 0x80);			/* rotate in auto-EOI mode */
	CHECK_EQ(st(0).rotate_on_auto_eoi, 1);
	pulse(6);
	CHECK_EQ(yakvm_pic_ack(pic), 0x0e);
	CHECK_EQ(st(0).priority_add, 7);
	outb(0x20, 0x00);
	CHECK_EQ(st(0).rotate_on_auto_eoi, 0);
	/* ICW1 without IC4 turns auto-EOI off. */
	outb(0x20, 0x10);
	CHECK_EQ(st(0).auto_eoi, 0);
	teardown();
}

static void test_poll(void)
{
	setup();
	init_pics(0x01, 0x01);
	outb(0x20, 0x0c);
	CHECK_EQ(st(0).poll, 1);
	CHECK_EQ(inb(0x20), 0);			/* nothing requested */
	CHECK_EQ(st(0).poll, 0);
	pulse(4);
	outb(0x20, 0x0c);
	CHECK_EQ(inb(0x21), 0x84);		/* either port */
	CHECK_EQ(read_isr(0x20), 0x10);		/* the poll is an INTA */
	CHECK_EQ(read_irr(0x20), 0);
	outb(0x20, 0x20);

	/* Polling the slave withdraws its request from the master's IR2. */
	pulse(9);
	CHECK_EQ(read_irr(0x20), 0x04);
	outb(0xa0, 0x0c);
	CHECK_EQ(inb(0xa0), 0x81);
	CHECK_EQ(read_irr(0x20), 0);
	CHECK_EQ(read_isr(0xa0), 0x02);
	CHECK(!yakvm_pic_has_interrupt(pic));
	teardown();
}

static void test_special_mask(void)
{
	setup();
	init_pics(0x01, 0x01);
	pulse(3);
	CHECK_EQ(yakvm_pic_ack(pic), 0x0b);
	pulse(5);
	CHECK(!yakvm_pic_has_interrupt(pic));
	outb(0x21, 0x08);			/* mask IR3: not enough alone */
	CHECK(!yakvm_pic_has_interrupt(pic));
	outb(0x20, 0x68);			/* set special mask mode */
	CHECK_EQ(st(0).special_mask, 1);
	CHECK(yakvm_pic_has_interrupt(pic));
	CHECK_EQ(yakvm_pic_ack(pic), 0x0d);
	CHECK_EQ(read_isr(0x20), 0x28);
	/* A non-specific EOI leaves the masked in-service IR3 alone. */
	outb(0x20, 0x20);
	CHECK_EQ(read_isr(0x20), 0x08);
	outb(0x20, 0x48);			/* reset special mask mode */
	CHECK_EQ(st(0).special_mask, 0);
	outb(0x20, 0x20);
	CHECK_EQ(read_isr(0x20), 0);
	teardown();
}

static void lower_five(u32 chip, u32 pin)
{
	if (chip == KVM_IRQCHIP_PIC_MASTER && pin == 5)
		line(5, 0);
}

static void test_elcr_level(void)
{
	setup();
	init_pics(0x01, 0x01);
	outb(0x4d0, 0xff);
	CHECK_EQ(inb(0x4d0), 0xf8);		/* IRQ 0-2 always edge */
	outb(0x4d1, 0xff);
	CHECK_EQ(inb(0x4d1), 0xde);		/* IRQ 8 and 13 always edge */
	outb(0x4d1, 0);
	outb(0x4d0, 0x20);			/* IRQ5 level */
	CHECK_EQ(st(0).elcr, 0x20);

	CHECK_EQ(line(5, 1), 1);
	CHECK_EQ(line(5, 1), 0);		/* already requesting */
	CHECK_EQ(yakvm_pic_ack(pic), 0x0d);
	CHECK_EQ(read_irr(0x20), 0x20);		/* level: stays while high */
	CHECK(!yakvm_pic_has_interrupt(pic));
	outb(0x20, 0x20);
	CHECK(yakvm_pic_has_interrupt(pic));	/* still asserted */
	line(5, 0);
	CHECK_EQ(read_irr(0x20), 0);
	CHECK(!yakvm_pic_has_interrupt(pic));

	/* A resampler lowering the line at the EOI: no second interrupt. */
	line(5, 1);
	CHECK_EQ(yakvm_pic_ack(pic), 0x0d);
	on_ack = lower_five;
	kicks = 0;
	outb(0x20, 0x20);
	CHECK(!yakvm_pic_has_interrupt(pic));
	CHECK_EQ(kicks, 0);
	CHECK_EQ(read_irr(0x20), 0);
	teardown();
}

static void test_edge_detect(void)
{
	setup();
	init_pics(0x01, 0x01);
	CHECK_EQ(line(4, 1), 1);
	CHECK_EQ(line(4, 1), 1);		/* no edge, nothing coalesced */
	CHECK_EQ(yakvm_pic_ack(pic), 0x0c);
	outb(0x20, 0x20);
	CHECK(!yakvm_pic_has_interrupt(pic));	/* one edge, one interrupt */
	line(4, 0);
	CHECK_EQ(line(4, 1), 1);
	CHECK(yakvm_pic_has_interrupt(pic));
	CHECK_EQ(yakvm_pic_ack(pic), 0x0c);
	outb(0x20, 0x20);
	line(4, 0);

	/* A second edge before the INTA merges into the first. */
	CHECK_EQ(line(6, 1), 1);
	line(6, 0);
	CHECK_EQ(line(6, 1), 0);
	line(6, 0);
	/* Masked: -1, and routing hears of the mask change. */
	nr_masks = 0;
	outb(0x21, 0x40);
	CHECK_EQ(nr_masks, 1);
	CHECK(masks[0].pin == 6 && masks[0].masked);
	CHECK_EQ(line(6, 1), -1);
	CHECK(!yakvm_pic_has_interrupt(pic));
	outb(0x21, 0);
	CHECK(yakvm_pic_has_interrupt(pic));	/* the request waited */
	CHECK_EQ(yakvm_pic_set_irq(pic, 16, YAKVM_IRQ_SOURCE_USER, 1), -EINVAL);
	CHECK_EQ(yakvm_pic_set_irq(pic, -1, YAKVM_IRQ_SOURCE_USER, 1), -EINVAL);
	CHECK_EQ(yakvm_pic_set_irq(pic, 3, YAKVM_NR_IRQ_SOURCES, 1), -EINVAL);
	teardown();
}

static void test_sources(void)
{
	setup();
	init_pics(0x01, 0x01);
	outb(0x4d0, 0x08);			/* IRQ3 level */
	yakvm_pic_set_irq(pic, 3, YAKVM_IRQ_SOURCE_USER, 1);
	yakvm_pic_set_irq(pic, 3, YAKVM_IRQ_SOURCE_PIT, 1);
	yakvm_pic_set_irq(pic, 3, YAKVM_IRQ_SOURCE_USER, 0);
	CHECK_EQ(read_irr(0x20), 0x08);		/* the PIT still holds it */
	yakvm_pic_set_irq(pic, 3, YAKVM_IRQ_SOURCE_PIT, 0);
	CHECK_EQ(read_irr(0x20), 0);
	/* Clearing a source forgets its level; the next change applies. */
	yakvm_pic_set_irq(pic, 3, YAKVM_IRQ_SOURCE_RESAMPLE, 1);
	yakvm_pic_clear_source(pic, YAKVM_IRQ_SOURCE_RESAMPLE);
	CHECK_EQ(read_irr(0x20), 0x08);
	yakvm_pic_set_irq(pic, 3, YAKVM_IRQ_SOURCE_USER, 0);
	CHECK_EQ(read_irr(0x20), 0);
	teardown();
}

static void test_cascade(void)
{
	setup();
	init_pics(0x01, 0x01);
	pulse(11);
	CHECK_EQ(read_irr(0x20), 0x04);
	CHECK(yakvm_pic_has_interrupt(pic));
	CHECK_EQ(yakvm_pic_ack(pic), 0x73);
	CHECK_EQ(read_isr(0x20), 0x04);
	CHECK_EQ(read_isr(0xa0), 0x08);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	CHECK_EQ(nr_acks, 2);
	CHECK(acks[0].chip == KVM_IRQCHIP_PIC_SLAVE && acks[0].pin == 3);
	CHECK(acks[1].chip == KVM_IRQCHIP_PIC_MASTER && acks[1].pin == 2);

	/* The slave's request vanishes before the INTA: spurious IRQ 15. */
	pulse(11);
	outb(0xa1, 0x08);
	CHECK(yakvm_pic_has_interrupt(pic));	/* the master latched IR2 */
	CHECK_EQ(yakvm_pic_ack(pic), 0x77);
	CHECK_EQ(read_isr(0x20), 0x04);
	CHECK_EQ(read_isr(0xa0), 0);
	outb(0x20, 0x20);

	/*
	 * Unmasked, IRQ11's request (latched while masked) comes back; with
	 * two more, each reaches the master after the previous one's EOI.
	 */
	outb(0xa1, 0);
	pulse(9);
	pulse(12);
	CHECK_EQ(yakvm_pic_ack(pic), 0x71);
	CHECK(!yakvm_pic_has_interrupt(pic));
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	CHECK(yakvm_pic_has_interrupt(pic));
	CHECK_EQ(yakvm_pic_ack(pic), 0x73);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	CHECK_EQ(yakvm_pic_ack(pic), 0x74);
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	CHECK(!yakvm_pic_has_interrupt(pic));
	teardown();
}

static void sfnm(u8 icw4_master, bool nested)
{
	setup();
	init_pics(icw4_master, 0x01);
	pulse(13);
	CHECK_EQ(yakvm_pic_ack(pic), 0x75);
	pulse(9);		/* outranks IR5 on the slave, same IR2 on the master */
	CHECK_EQ(yakvm_pic_has_interrupt(pic), nested);
	if (nested)
		CHECK_EQ(yakvm_pic_ack(pic), 0x71);
	teardown();
}

static void test_special_fully_nested(void)
{
	sfnm(0x11, true);
	sfnm(0x01, false);
}

static void test_icw1_drops_edges(void)
{
	setup();
	init_pics(0x01, 0x01);
	pulse(0);
	outb(0x20, 0x11);
	CHECK_EQ(nr_acks, 1);			/* the reinjection is not stuck */
	CHECK_EQ(acks[0].pin, 0);
	CHECK_EQ(st(0).irr, 0);
	CHECK(!yakvm_pic_has_interrupt(pic));
	teardown();
}

static void test_state(void)
{
	struct kvm_pic_state in = {
		.last_irr = 0x01, .irr = 0x12, .imr = 0xf0, .isr = 0x04,
		.priority_add = 3, .irq_base = 0x20, .read_reg_select = 1,
		.poll = 0, .special_mask = 1, .init_state = 0, .auto_eoi = 1,
		.rotate_on_auto_eoi = 1, .special_fully_nested_mode = 1,
		.init4 = 1, .elcr = 0x08, .elcr_mask = 0xf8,
	};
	struct kvm_pic_state out;

	setup();
	yakvm_pic_set_state(pic, 0, &in);
	out = st(0);
	CHECK(!memcmp(&in, &out, sizeof(in)));	/* KVM's values round-trip */
	CHECK_EQ(kicks, 1);			/* IR1 requests: INT rose */
	CHECK_EQ(yakvm_pic_ack(pic), 0x21);

	/* Values no chip holds are brought back into range. */
	in = (struct kvm_pic_state){
		.irq_base = 0xff, .priority_add = 9, .init_state = 7, .poll = 5,
		.elcr = 0xff, .elcr_mask = 0, .auto_eoi = 2,
	};
	yakvm_pic_set_state(pic, 1, &in);
	out = st(1);
	CHECK_EQ(out.irq_base, 0xf8);
	CHECK_EQ(out.priority_add, 1);
	CHECK_EQ(out.init_state, 0);
	CHECK_EQ(out.poll, 1);
	CHECK_EQ(out.auto_eoi, 1);
	CHECK_EQ(out.elcr_mask, 0xde);
	CHECK_EQ(out.elcr, 0xde);
	/* Unknown chips: nothing set, zeros read. */
	yakvm_pic_set_state(pic, 2, &in);
	memset(&out, 0xaa, sizeof(out));
	yakvm_pic_get_state(pic, 2, &out);
	CHECK_EQ(out.irq_base, 0);
	CHECK_EQ(out.elcr_mask, 0);
	teardown();
}

static void test_wide_access(void)
{
	u8 buf[4] = { 0xaa, 0xaa, 0xaa, 0xaa };

	setup();
	init_pics(0x01, 0x01);
	CHECK_EQ(shim_bus_access(YAKVM_PIO_BUS, 0x20, 2, buf, true), 0);
	CHECK_EQ(st(0).priority_add, 0);	/* not taken as OCW2 0xaa */
	CHECK_EQ(shim_bus_access(YAKVM_PIO_BUS, 0x20, 2, buf, false), 0);
	CHECK(buf[0] == 0 && buf[1] == 0 && buf[2] == 0xaa);
	/* Beyond the two ports: not the PIC's. */
	CHECK_EQ(shim_bus_access(YAKVM_PIO_BUS, 0x21, 2, buf, false),
		 -EOPNOTSUPP);
	CHECK_EQ(shim_bus_access(YAKVM_PIO_BUS, 0x22, 1, buf, false),
		 -EOPNOTSUPP);
	teardown();
}

static void test_create_failure(void)
{
	int fail;

	for (fail = 0; fail < 3; fail++) {
		memset(&vm, 0, sizeof(vm));
		vm.irq.lock.held = 1;
		shim_bus_registrations = 0;
		shim_bus_fail_at = fail;
		CHECK_EQ(yakvm_pic_create(&vm), -ENOMEM);
		CHECK(!vm.irq.pic);
		CHECK_EQ(shim_nr_ranges, 0);
		CHECK_EQ(shim_allocations, 0);
	}
	shim_bus_fail_at = -1;
	CHECK_EQ(yakvm_pic_create(&vm), 0);
	CHECK_EQ(yakvm_pic_create(&vm), -EEXIST);
	vm.irq.lock.held = 0;
	pic = vm.irq.pic;
	teardown();
}

int main(void)
{
	test_init();
	test_edge_basic();
	test_priority();
	test_rotation();
	test_auto_eoi();
	test_poll();
	test_special_mask();
	test_elcr_level();
	test_edge_detect();
	test_sources();
	test_cascade();
	test_special_fully_nested();
	test_icw1_drops_edges();
	test_state();
	test_wide_access();
	test_create_failure();
	return shim_verdict("i8259");
}
