// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test, run on the build host: the IOAPIC of driver/irq/ioapic.c,
 * built against tests/unit/shim and driven through its MMIO registers (as
 * a guest) and its irq.h interface (as routing.c and the local APICs'
 * EOIs would).  Expectations come from the 82093AA datasheet and KVM's
 * state layout and KVM_IRQ_LINE_STATUS values.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "../../driver/irq/ioapic.c"

static struct yakvm_vm vm;
static struct yakvm_ioapic *io;

struct pin_event {
	u32 chip, pin;
	bool masked;
};

static struct pin_event acks[64], masks[64];
static int nr_acks, nr_masks;
static struct yakvm_lapic_irq sent[64];
static int nr_sent;
static int delivery_ret = 1;
static void (*on_ack)(u32 pin);

int yakvm_irq_delivery_to_apic(struct yakvm_vm *v, struct yakvm_vcpu *src,
			       const struct yakvm_lapic_irq *irq)
{
	CHECK(!src);
	if (nr_sent < 64)
		sent[nr_sent] = *irq;
	nr_sent++;
	return delivery_ret;
}

void yakvm_irq_acked(struct yakvm_vm *v, u32 chip, u32 pin)
{
	CHECK_EQ(shim_locks_held, 0);
	if (nr_acks < 64)
		acks[nr_acks++] = (struct pin_event){ chip, pin, false };
	if (on_ack)
		on_ack(pin);
}

void yakvm_irq_mask_changed(struct yakvm_vm *v, u32 chip, u32 pin, bool masked)
{
	CHECK_EQ(shim_locks_held, 0);
	if (nr_masks < 64)
		masks[nr_masks++] = (struct pin_event){ chip, pin, masked };
}

static void wr(u64 off, u32 val)
{
	CHECK_EQ(shim_bus_access(YAKVM_MMIO_BUS, YAKVM_IOAPIC_BASE + off, 4,
				 &val, true), 0);
}

static u32 rd(u64 off)
{
	u32 val = 0xeeeeeeee;

	CHECK_EQ(shim_bus_access(YAKVM_MMIO_BUS, YAKVM_IOAPIC_BASE + off, 4,
				 &val, false), 0);
	return val;
}

static u32 reg(u32 sel)
{
	wr(0, sel);
	return rd(0x10);
}

static void set_reg(u32 sel, u32 val)
{
	wr(0, sel);
	wr(0x10, val);
}

/* High half first, so the entry is complete when the low one unmasks it. */
static void set_entry(int pin, u64 e)
{
	set_reg(0x11 + 2 * pin, e >> 32);
	set_reg(0x10 + 2 * pin, (u32)e);
}

static u64 entry(int pin)
{
	return (u64)reg(0x11 + 2 * pin) << 32 | reg(0x10 + 2 * pin);
}

static int line(int pin, int level)
{
	return yakvm_ioapic_set_irq(io, pin, YAKVM_IRQ_SOURCE_USER, level);
}

static void clear_logs(void)
{
	nr_acks = nr_masks = nr_sent = 0;
	delivery_ret = 1;
	on_ack = NULL;
}

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	vm.irq.lock.held = 1;
	CHECK_EQ(yakvm_ioapic_create(&vm), 0);
	vm.irq.lock.held = 0;
	io = vm.irq.ioapic;
	clear_logs();
}

static void teardown(void)
{
	vm.irq.lock.held = 1;
	yakvm_ioapic_destroy(&vm);
	vm.irq.lock.held = 0;
	CHECK(!vm.irq.ioapic);
	CHECK(!io->eoi_work.work.pending);
	CHECK_EQ(shim_nr_ranges, 0);
	CHECK_EQ(shim_allocations, 0);
	shim_forget_all();
}

#define DEST(id)	((u64)(id) << 56)
#define LEVEL		BIT(15)
#define MASKED		BIT(16)
#define LOGICAL		BIT(11)
#define RIRR		BIT(14)

static void test_registers(void)
{
	int pin;

	setup();
	CHECK_EQ(reg(1), 0x00170011);		/* 24 entries, version 0x11 */
	set_reg(1, 0);
	CHECK_EQ(reg(1), 0x00170011);
	set_reg(0, 0xfa5a5a5a);
	CHECK_EQ(reg(0), 0x0a000000);
	CHECK_EQ(reg(2), 0x0a000000);		/* arbitration ID = ID */
	wr(0, 0x1ff);
	CHECK_EQ(rd(0), 0xff);			/* IOREGSEL is 8 bits */
	CHECK_EQ(reg(0x40), 0xffffffff);	/* no entry 24 */
	CHECK_EQ(reg(0x05), 0xffffffff);
	set_reg(0x05, 0);			/* ignored, harmless */
	set_reg(0x40, 0);
	for (pin = 0; pin < 24; pin++)
		CHECK_EQ(entry(pin), MASKED);	/* reset: masked */

	set_entry(3, DEST(0xab) | 0x1234567ULL | BIT(12) | RIRR);
	/* Delivery status and remote IRR are read-only. */
	CHECK_EQ(entry(3), DEST(0xab) | (0x1234567ULL & ~(BIT(12) | RIRR)));
	teardown();
}

static void test_edge(void)
{
	setup();
	CHECK_EQ(line(4, 1), -1);		/* masked */
	CHECK_EQ(nr_sent, 0);
	line(4, 0);
	set_entry(4, DEST(3) | 0x34);
	CHECK_EQ(nr_sent, 0);			/* edge: unmasking sends nothing */
	CHECK_EQ(line(4, 1), 1);
	CHECK_EQ(nr_sent, 1);
	CHECK_EQ(sent[0].vector, 0x34);
	CHECK_EQ(sent[0].delivery_mode, 0);
	CHECK(!sent[0].logical);
	CHECK(sent[0].level);
	CHECK(!sent[0].trig_level);
	CHECK_EQ(sent[0].dest_id, 3);
	CHECK_EQ(sent[0].shorthand, 0);
	CHECK_EQ(line(4, 1), 0);		/* no new edge: coalesced */
	CHECK_EQ(nr_sent, 1);
	CHECK_EQ(line(4, 0), 1);
	delivery_ret = 2;
	CHECK_EQ(line(4, 1), 2);		/* the count of APICs that took it */
	CHECK_EQ(nr_sent, 2);
	CHECK_EQ(yakvm_ioapic_set_irq(io, 24, YAKVM_IRQ_SOURCE_USER, 1), -EINVAL);
	CHECK_EQ(yakvm_ioapic_set_irq(io, -1, YAKVM_IRQ_SOURCE_USER, 1), -EINVAL);
	CHECK_EQ(yakvm_ioapic_set_irq(io, 1, 7, 1), -EINVAL);
	teardown();
}

static void test_level(void)
{
	setup();
	set_entry(9, DEST(0x0f) | LEVEL | LOGICAL | 0x100 | 0x39);
	CHECK_EQ(line(9, 1), 1);
	CHECK_EQ(nr_sent, 1);
	CHECK_EQ(sent[0].delivery_mode, 0x100);	/* lowest priority */
	CHECK(sent[0].logical);
	CHECK(sent[0].trig_level);
	CHECK(entry(9) & RIRR);
	/* Another source asserts: the entry waits for its EOI. */
	CHECK_EQ(yakvm_ioapic_set_irq(io, 9, YAKVM_IRQ_SOURCE_PIT, 1), -1);
	CHECK_EQ(nr_sent, 1);
	/* Rewriting the entry keeps remote IRR. */
	set_entry(9, DEST(0x0f) | LEVEL | LOGICAL | 0x100 | 0x39);
	CHECK(entry(9) & RIRR);
	CHECK_EQ(nr_sent, 1);
	/* EOI with the line still asserted: acknowledged, sent again. */
	yakvm_ioapic_eoi(&vm, 0x39);
	CHECK_EQ(nr_acks, 1);
	CHECK(acks[0].chip == KVM_IRQCHIP_IOAPIC && acks[0].pin == 9);
	CHECK_EQ(nr_sent, 2);
	CHECK(entry(9) & RIRR);
	line(9, 0);
	CHECK(entry(9) & RIRR);			/* lowering is no EOI */
	yakvm_ioapic_set_irq(io, 9, YAKVM_IRQ_SOURCE_PIT, 0);
	yakvm_ioapic_eoi(&vm, 0x39);
	CHECK(!(entry(9) & RIRR));
	CHECK_EQ(nr_sent, 2);
	/* EOIs of other vectors touch nothing. */
	nr_acks = 0;
	yakvm_ioapic_eoi(&vm, 0x40);
	yakvm_ioapic_eoi(&vm, 300);
	yakvm_ioapic_eoi(&vm, -1);
	CHECK_EQ(nr_acks, 0);
	teardown();
}

static void test_mask_unmask(void)
{
	setup();
	set_entry(10, LEVEL | MASKED | 0x3a);
	CHECK_EQ(line(10, 1), -1);
	CHECK_EQ(nr_sent, 0);
	nr_masks = 0;
	set_entry(10, LEVEL | 0x3a);		/* unmask an asserted level pin */
	CHECK_EQ(nr_sent, 1);
	CHECK(entry(10) & RIRR);
	CHECK_EQ(nr_masks, 1);
	CHECK(masks[0].chip == KVM_IRQCHIP_IOAPIC && masks[0].pin == 10 &&
	      !masks[0].masked);
	set_entry(10, LEVEL | MASKED | 0x3a);
	CHECK_EQ(nr_masks, 2);
	CHECK(masks[1].masked);
	/* Masked, the EOI clears remote IRR but sends nothing. */
	yakvm_ioapic_eoi(&vm, 0x3a);
	CHECK(!(entry(10) & RIRR));
	CHECK_EQ(nr_sent, 1);
	set_entry(10, LEVEL | 0x3a);
	CHECK_EQ(nr_sent, 2);
	/* Switching to edge clears a stuck remote IRR (Linux relies on it). */
	set_entry(10, 0x3a);
	CHECK(!(entry(10) & RIRR));
	teardown();
}

static void test_edge_eoi(void)
{
	setup();
	set_entry(2, 0x30);
	set_entry(5, 0x30);			/* two entries, one vector */
	line(2, 1);
	yakvm_ioapic_eoi(&vm, 0x30);
	CHECK_EQ(nr_acks, 2);			/* every entry with the vector */
	CHECK(acks[0].pin == 2 && acks[1].pin == 5);
	CHECK_EQ(nr_sent, 1);
	CHECK(yakvm_ioapic_handles_vector(io, 0x30));
	CHECK(!yakvm_ioapic_handles_vector(io, 0x31));
	CHECK(!yakvm_ioapic_handles_vector(io, 256));
	CHECK(!yakvm_ioapic_handles_vector(io, -1));
	set_entry(2, 0x31);
	CHECK(yakvm_ioapic_handles_vector(io, 0x30));	/* pin 5 still has it */
	set_entry(5, 0x31);
	CHECK(!yakvm_ioapic_handles_vector(io, 0x30));
	CHECK(yakvm_ioapic_handles_vector(io, 0x31));
	teardown();
}

static void lower_eleven(u32 pin)
{
	if (pin == 11)
		line(11, 0);
}

static void test_resample(void)
{
	setup();
	set_entry(11, LEVEL | 0x3b);
	line(11, 1);
	CHECK_EQ(nr_sent, 1);
	on_ack = lower_eleven;
	yakvm_ioapic_eoi(&vm, 0x3b);
	CHECK_EQ(nr_sent, 1);			/* lowered before it was looked at */
	CHECK(!(entry(11) & RIRR));
	teardown();
}

static void test_delivery_results(void)
{
	setup();
	set_entry(12, LEVEL | 0x3c);
	delivery_ret = 0;			/* merged into a pending vector */
	CHECK_EQ(line(12, 1), 0);
	CHECK(!(entry(12) & RIRR));
	line(12, 0);
	delivery_ret = -1;			/* no destination: as KVM, waits */
	CHECK_EQ(line(12, 1), -1);
	CHECK(entry(12) & RIRR);
	line(12, 0);
	delivery_ret = 1;

	set_entry(13, 0x400 | 0x3d);		/* NMI */
	set_entry(14, 0x500 | DEST(1));		/* INIT */
	set_entry(15, 0x700 | LOGICAL | DEST(0xff));	/* ExtINT */
	nr_sent = 0;
	line(13, 1);
	line(14, 1);
	line(15, 1);
	CHECK_EQ(nr_sent, 3);
	CHECK_EQ(sent[0].delivery_mode, 0x400);
	CHECK_EQ(sent[1].delivery_mode, 0x500);
	CHECK_EQ(sent[1].dest_id, 1);
	CHECK_EQ(sent[2].delivery_mode, 0x700);
	CHECK_EQ(sent[2].dest_id, 0xff);
	CHECK(sent[2].logical);
	teardown();
}

static void test_state(void)
{
	struct kvm_ioapic_state s, t;
	int pin;

	setup();
	yakvm_ioapic_get_state(io, &s);
	CHECK_EQ(s.base_address, 0xfec00000);
	CHECK_EQ(s.id, 0);
	CHECK_EQ(s.irr, 0);
	CHECK_EQ(s.redirtbl[23].bits, MASKED);

	set_entry(4, 0x34);
	line(4, 1);				/* delivered edge: not in irr */
	set_entry(6, MASKED | 0x36);
	line(6, 1);				/* masked edge: still requested */
	set_entry(7, LEVEL | MASKED | 0x37);
	line(7, 1);
	yakvm_ioapic_get_state(io, &s);
	CHECK_EQ(s.irr, BIT(6) | BIT(7));

	/* Back into a fresh IOAPIC: the same registers, requests re-raised. */
	teardown();
	setup();
	s.redirtbl[6].bits &= ~MASKED;
	s.id = 5;
	s.ioregsel = 0x12;
	yakvm_ioapic_set_state(io, &s);
	CHECK_EQ(nr_sent, 1);			/* pin 6, now unmasked */
	CHECK_EQ(sent[0].vector, 0x36);
	yakvm_ioapic_get_state(io, &t);
	CHECK_EQ(t.irr, BIT(7));
	CHECK_EQ(t.id, 5);
	CHECK_EQ(t.ioregsel, 0x12);
	for (pin = 0; pin < 24; pin++)
		CHECK_EQ(t.redirtbl[pin].bits, s.redirtbl[pin].bits);
	CHECK_EQ(rd(0), 0x12);
	line(7, 0);				/* levels of sources are not state */
	yakvm_ioapic_get_state(io, &t);
	CHECK_EQ(t.irr, 0);

	/* What no IOAPIC holds is brought back into range. */
	memset(&s, 0, sizeof(s));
	s.base_address = 0xfec00000;
	s.ioregsel = 0x1234;
	s.id = 0x1f;
	s.irr = 0xff000000;
	s.redirtbl[1].bits = MASKED | RIRR | BIT(12);
	yakvm_ioapic_set_state(io, &s);
	yakvm_ioapic_get_state(io, &t);
	CHECK_EQ(t.ioregsel, 0x34);
	CHECK_EQ(t.id, 0xf);
	CHECK_EQ(t.irr, 0);
	CHECK_EQ(t.redirtbl[1].bits, MASKED);

	/* A moved base: the fixed range no longer answers. */
	s.base_address = 0xfed00000;
	yakvm_ioapic_set_state(io, &s);
	{
		u32 v = 0;

		CHECK_EQ(shim_bus_access(YAKVM_MMIO_BUS, YAKVM_IOAPIC_BASE, 4,
					 &v, false), -EOPNOTSUPP);
	}
	teardown();
}

static void test_access_sizes(void)
{
	u8 buf[8];

	setup();
	wr(0, 1);
	memset(buf, 0xaa, sizeof(buf));
	CHECK_EQ(shim_bus_access(YAKVM_MMIO_BUS, YAKVM_IOAPIC_BASE + 0x10, 8,
				 buf, false), 0);
	CHECK(buf[0] == 0x11 && buf[2] == 0x17 && buf[4] == 0 && buf[7] == 0);
	memset(buf, 0xaa, sizeof(buf));
	CHECK_EQ(shim_bus_access(YAKVM_MMIO_BUS, YAKVM_IOAPIC_BASE + 0x10, 1,
				 buf, false), 0);
	CHECK(buf[0] == 0x11 && buf[1] == 0xaa);
	CHECK_EQ(rd(0x04), 0);			/* not a register */
	CHECK_EQ(rd(0x20), 0);
	/* A 3-byte write is no bus cycle the chip decodes. */
	buf[0] = 0x10;
	CHECK_EQ(shim_bus_access(YAKVM_MMIO_BUS, YAKVM_IOAPIC_BASE, 3, buf,
				 true), 0);
	CHECK_EQ(rd(0), 1);
	/* A byte write to IOREGSEL, an 8-byte one of which the low half counts. */
	buf[0] = 0x02;
	CHECK_EQ(shim_bus_access(YAKVM_MMIO_BUS, YAKVM_IOAPIC_BASE, 1, buf,
				 true), 0);
	CHECK_EQ(rd(0), 2);
	memset(buf, 0xff, sizeof(buf));
	buf[0] = 0x03;
	buf[1] = buf[2] = buf[3] = 0;
	CHECK_EQ(shim_bus_access(YAKVM_MMIO_BUS, YAKVM_IOAPIC_BASE, 8, buf,
				 true), 0);
	CHECK_EQ(rd(0), 3);
	teardown();
}

static void test_eoi_storm(void)
{
	int i, storm_sent;

	setup();
	set_entry(16, LEVEL | 0x50);
	line(16, 1);
	for (i = 1; i < IOAPIC_EOI_STORM; i++)
		yakvm_ioapic_eoi(&vm, 0x50);
	CHECK_EQ(nr_sent, IOAPIC_EOI_STORM);	/* each EOI sent it again */
	storm_sent = nr_sent;
	yakvm_ioapic_eoi(&vm, 0x50);
	CHECK_EQ(nr_sent, storm_sent);		/* the 10000th waits */
	CHECK(io->eoi_work.work.pending);
	CHECK_EQ(io->eoi_work.delay, HZ / 100);
	shim_run_work();
	CHECK_EQ(nr_sent, storm_sent + 1);
	CHECK(entry(16) & RIRR);
	/* Pending work at destruction is cancelled. */
	line(16, 0);
	for (i = 0; i <= IOAPIC_EOI_STORM; i++) {
		yakvm_ioapic_eoi(&vm, 0x50);
		line(16, 1);
	}
	CHECK(io->eoi_work.work.pending);
	teardown();
}

static void test_create_failure(void)
{
	memset(&vm, 0, sizeof(vm));
	vm.irq.lock.held = 1;
	shim_bus_registrations = 0;
	shim_bus_fail_at = 0;
	CHECK_EQ(yakvm_ioapic_create(&vm), -ENOMEM);
	CHECK(!vm.irq.ioapic);
	CHECK_EQ(shim_allocations, 0);
	shim_bus_fail_at = -1;
	CHECK_EQ(yakvm_ioapic_create(&vm), 0);
	CHECK_EQ(yakvm_ioapic_create(&vm), -EEXIST);
	io = vm.irq.ioapic;
	vm.irq.lock.held = 0;
	teardown();
	/* No IOAPIC (split irqchip): an EOI is a no-op. */
	yakvm_ioapic_eoi(&vm, 0x30);
}

int main(void)
{
	test_registers();
	test_edge();
	test_level();
	test_mask_unmask();
	test_edge_eoi();
	test_resample();
	test_delivery_results();
	test_state();
	test_access_sizes();
	test_eoi_storm();
	test_create_failure();
	return shim_verdict("ioapic");
}
