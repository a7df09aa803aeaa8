// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test, run on the build host: the 8254 PIT of driver/irq/i8254.c,
 * built against tests/unit/shim (time is the test's; hrtimers and work
 * items run when the test says) and driven through ports 0x40-0x43 and
 * 0x61 and its irq.h interface.  Expectations come from the Intel 8254
 * datasheet (counts, OUT, latches, read-back) and KVM's semantics for
 * IRQ0 (pulses, reinjection) and its state layout.
 */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "../../driver/irq/i8254.c"

static struct yakvm_vm vm;
static struct yakvm_pit *pit;

struct irq_event {
	int source;
	u32 gsi;
	int level;
};

static struct irq_event irqs[64];
static int nr_irqs;

int yakvm_set_irq(struct yakvm_vm *v, enum yakvm_irq_source source, u32 gsi,
		  int level, bool line_status)
{
	CHECK_EQ(shim_locks_held, 0);
	CHECK(!line_status);
	if (nr_irqs < 64)
		irqs[nr_irqs] = (struct irq_event){ source, gsi, level };
	nr_irqs++;
	return 1;
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

/* The first time at which @d ticks have elapsed. */
static s64 ticks_ns(u64 d)
{
	return (d * NSEC_PER_SEC + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ;
}

static s64 t0;

static void load16(int ch, u16 count)
{
	outb(0x40 + ch, count & 0xff);
	outb(0x40 + ch, count >> 8);
	t0 = shim_now_ns;
}

static void at(u64 d)
{
	shim_now_ns = t0 + ticks_ns(d);
}

/* Latch counter @ch and read it, LSB then MSB. */
static u16 latched(int ch)
{
	u16 v;

	outb(0x43, ch << 6);
	v = inb(0x40 + ch);
	return v | inb(0x40 + ch) << 8;
}

static u8 status(int ch)
{
	outb(0x43, 0xe0 | BIT(ch + 1));		/* read-back, status only */
	return inb(0x40 + ch);
}

static bool out2(void)
{
	return inb(0x61) & 0x20;
}

static void setup_flags(u32 flags, bool with_ioapic)
{
	memset(&vm, 0, sizeof(vm));
	/* Only its presence matters: KVM drives IRQ0 with the full irqchip. */
	vm.irq.ioapic = with_ioapic ? (struct yakvm_ioapic *)&vm : NULL;
	vm.irq.lock.held = 1;
	CHECK_EQ(yakvm_pit_create(&vm, flags), 0);
	vm.irq.lock.held = 0;
	pit = vm.irq.pit;
	nr_irqs = 0;
}

static void setup(void)
{
	setup_flags(KVM_PIT_SPEAKER_DUMMY, true);
}

static void teardown(void)
{
	vm.irq.lock.held = 1;
	yakvm_pit_destroy(&vm);
	vm.irq.lock.held = 0;
	CHECK(!vm.irq.pit);
	CHECK(!pit->timer.active);		/* no timer outlives the VM */
	CHECK(!pit->expired.pending);		/* nor work */
	CHECK_EQ(shim_nr_ranges, 0);
	CHECK_EQ(shim_allocations, 0);
	shim_forget_all();
}

static void test_reset_state(void)
{
	struct kvm_pit_state2 s;
	int i;

	setup();
	yakvm_pit_get_state(pit, &s);
	for (i = 0; i < 3; i++) {
		CHECK_EQ(s.channels[i].mode, 0xff);
		CHECK_EQ(s.channels[i].count, 0x10000);
		CHECK_EQ(s.channels[i].gate, i != 2);
		CHECK_EQ(s.channels[i].count_load_time, shim_now_ns);
	}
	CHECK_EQ(s.flags, 0);
	CHECK(!pit->timer.active);
	CHECK_EQ(inb(0x43), 0);			/* control word: write-only */
	teardown();
}

static void test_mode0(void)
{
	setup();
	outb(0x43, 0xb0);			/* counter 2, LSB+MSB, mode 0 */
	load16(2, 1000);
	CHECK_EQ(latched(2), 1000);
	CHECK_EQ(status(2), 0x30);		/* OUT low, rw 3, mode 0 */
	at(10);
	CHECK_EQ(latched(2), 990);
	at(999);
	CHECK_EQ(latched(2), 1);
	CHECK(!out2());
	at(1000);
	CHECK_EQ(latched(2), 0);
	CHECK(out2());
	CHECK_EQ(status(2), 0xb0);
	at(1001);
	CHECK_EQ(latched(2), 0xffff);		/* counts on past zero */
	CHECK(out2());				/* OUT stays high */
	/* Count 0 means 65536. */
	load16(2, 0);
	at(1);
	CHECK_EQ(latched(2), 0xffff);
	teardown();
}

/* Linux's and SeaBIOS's TSC calibration: counter 2, gate on, poll OUT2. */
static void test_calibration(void)
{
	int polls = 0;

	setup();
	outb(0x61, (inb(0x61) & ~0x02) | 0x01);
	CHECK_EQ(inb(0x61) & 0x03, 0x01);
	outb(0x43, 0xb0);
	load16(2, 11931);			/* 9.9993 ms */
	while (!out2() && polls < 100) {
		shim_now_ns += 1000000;		/* 1 ms */
		polls++;
	}
	CHECK_EQ(polls, 10);
	teardown();
}

static void test_mode2(void)
{
	setup();
	outb(0x43, 0x74);			/* counter 1, LSB+MSB, mode 2 */
	load16(1, 100);
	CHECK_EQ(latched(1), 100);
	at(1);
	CHECK_EQ(latched(1), 99);
	at(98);
	CHECK_EQ(latched(1), 2);
	CHECK(status(1) & 0x80);
	at(99);
	CHECK_EQ(latched(1), 1);
	CHECK(!(status(1) & 0x80));		/* low for the tick at count 1 */
	at(100);
	CHECK_EQ(latched(1), 100);		/* reloaded */
	CHECK(status(1) & 0x80);
	at(150);
	CHECK_EQ(latched(1), 50);
	CHECK_EQ(status(1) & 0x7f, 0x34);
	teardown();
}

static void test_mode3(void)
{
	static const u16 even[] = { 10, 8, 6, 4, 2, 10, 8, 6, 4, 2, 10 };
	static const u16 odd[] = { 5, 4, 2, 5, 2, 5 };
	int d;

	setup();
	outb(0x43, 0x76);			/* counter 1, mode 3 */
	load16(1, 10);
	for (d = 0; d < 11; d++) {
		at(d);
		CHECK_EQ(latched(1), even[d]);
		CHECK_EQ(!!(status(1) & 0x80), d % 10 < 5);
	}
	/* Odd: one more tick high than low. */
	load16(1, 5);
	for (d = 0; d < 6; d++) {
		at(d);
		CHECK_EQ(latched(1), odd[d]);
		CHECK_EQ(!!(status(1) & 0x80), d % 5 < 3);
	}
	/* Modes 6 and 7 are 2 and 3. */
	outb(0x43, 0x7e);
	CHECK_EQ(pit->ch[1].mode, 3);
	outb(0x43, 0x7c);
	CHECK_EQ(pit->ch[1].mode, 2);
	teardown();
}

static void test_modes_1_4(void)
{
	setup();
	outb(0x43, 0x78);			/* counter 1, mode 4 */
	load16(1, 50);
	at(49);
	CHECK(status(1) & 0x80);
	at(50);
	CHECK_EQ(latched(1), 0);
	CHECK(!(status(1) & 0x80));		/* the strobe */
	at(51);
	CHECK_EQ(latched(1), 0xffff);
	CHECK(status(1) & 0x80);

	outb(0x43, 0x72);			/* mode 1 */
	load16(1, 50);
	at(49);
	CHECK(!(status(1) & 0x80));		/* low during the one-shot */
	at(50);
	CHECK(status(1) & 0x80);
	teardown();
}

static void test_latch(void)
{
	setup();
	outb(0x43, 0x74);
	load16(1, 1000);
	at(10);
	outb(0x43, 0x40);			/* latch counter 1 */
	at(20);
	outb(0x43, 0x40);			/* ignored: not read yet */
	at(500);
	CHECK_EQ(inb(0x41), 990 & 0xff);
	at(600);
	CHECK_EQ(inb(0x41), 990 >> 8);
	CHECK_EQ(latched(1), 400);		/* a new latch after the read */

	/* Read-back of count and status: the status comes out first. */
	outb(0x43, 0xc4);
	CHECK_EQ(inb(0x41), 0xb4);
	CHECK_EQ(inb(0x41) | inb(0x41) << 8, 400);
	/* Read-back of several counters at once. */
	outb(0x43, 0x74);
	load16(1, 1000);
	outb(0x43, 0xb0);
	load16(2, 3000);			/* at the same instant */
	at(100);
	outb(0x43, 0xdc);			/* counts of 0, 1 and 2 */
	at(700);
	CHECK_EQ(inb(0x42) | inb(0x42) << 8, 3000 - 100);
	CHECK_EQ(inb(0x41) | inb(0x41) << 8, 1000 - 100);
	/* Unlatched reads follow the counter, LSB then MSB. */
	CHECK_EQ(inb(0x42) | inb(0x42) << 8, 3000 - 700);
	teardown();
}

static void test_rw_modes(void)
{
	setup();
	outb(0x43, 0x50);			/* counter 1, LSB only, mode 0 */
	outb(0x41, 0x20);
	t0 = shim_now_ns;
	CHECK_EQ(pit->ch[1].count, 0x20);
	at(1);
	CHECK_EQ(inb(0x41), 0x1f);
	CHECK_EQ(inb(0x41), 0x1f);		/* LSB every time */
	outb(0x43, 0x60);			/* MSB only */
	outb(0x41, 0x02);
	t0 = shim_now_ns;
	CHECK_EQ(pit->ch[1].count, 0x200);
	at(0x100);
	CHECK_EQ(inb(0x41), 0x01);
	outb(0x43, 0x40);			/* latch in MSB-only mode */
	CHECK_EQ(inb(0x41), 0x01);
	CHECK_EQ(pit->ch[1].count_latched, 0);
	teardown();
}

static void test_bcd(void)
{
	setup();
	outb(0x43, 0x75);			/* counter 1, mode 2, BCD */
	load16(1, 0x1000);			/* 1000 decimal */
	at(1);
	CHECK_EQ(latched(1), 0x0999);
	at(999);
	CHECK_EQ(latched(1), 0x0001);
	at(1000);
	CHECK_EQ(latched(1), 0x1000);
	CHECK_EQ(status(1), 0xb5);
	load16(1, 0);				/* 10000 */
	at(1);
	CHECK_EQ(latched(1), 0x9999);
	outb(0x43, 0x71);			/* mode 0, BCD: wraps at 10000 */
	load16(1, 0x0005);
	at(6);
	CHECK_EQ(latched(1), 0x9999);
	teardown();
}

static void test_gate(void)
{
	setup();
	outb(0x61, 0x00);			/* gate 2 low */
	outb(0x43, 0xb4);			/* counter 2, mode 2 */
	load16(2, 100);
	at(30);
	CHECK_EQ(latched(2), 70);
	outb(0x61, 0x01);			/* rising edge: restart */
	t0 = shim_now_ns;
	CHECK_EQ(latched(2), 100);
	at(10);
	outb(0x61, 0x01);			/* no edge */
	CHECK_EQ(latched(2), 90);
	CHECK_EQ(pit->ch[2].gate, 1);

	/* Mode 0 is not restarted by the gate (nor paused: as KVM). */
	outb(0x61, 0x00);
	outb(0x43, 0xb0);
	load16(2, 100);
	at(30);
	outb(0x61, 0x01);
	CHECK_EQ(latched(2), 70);

	/* Speaker data is kept; bit 4 toggles with the refresh clock. */
	outb(0x61, 0x03);
	CHECK_EQ(inb(0x61) & 0x03, 0x03);
	CHECK(pit->flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON);
	shim_now_ns &= ~(1LL << 14);
	CHECK_EQ(inb(0x61) & 0x10, 0);
	shim_now_ns |= 1LL << 14;
	CHECK_EQ(inb(0x61) & 0x10, 0x10);
	outb(0x61, 0x00);
	CHECK(!(pit->flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON));
	/* The speaker range answers only 0x61, as KVM's. */
	{
		u8 v = 0;

		CHECK_EQ(shim_bus_access(YAKVM_PIO_BUS, 0x62, 1, &v, false),
			 -EOPNOTSUPP);
		CHECK_EQ(shim_bus_access(YAKVM_PIO_BUS, 0x64, 1, &v, true),
			 -EOPNOTSUPP);
	}
	teardown();

	/* Without KVM_PIT_SPEAKER_DUMMY, port 0x61 is user space's. */
	setup_flags(0, true);
	{
		u8 v = 0;

		CHECK_EQ(shim_bus_access(YAKVM_PIO_BUS, 0x61, 1, &v, false),
			 -EOPNOTSUPP);
	}
	teardown();
}

static bool pulse_at(int i)
{
	return i + 1 < 64 && irqs[i].source == YAKVM_IRQ_SOURCE_PIT &&
	       irqs[i].gsi == 0 && irqs[i].level == 1 &&
	       irqs[i + 1].source == YAKVM_IRQ_SOURCE_PIT &&
	       irqs[i + 1].gsi == 0 && irqs[i + 1].level == 0;
}

static void advance(s64 ns)
{
	shim_now_ns += ns;
	shim_run_timers();
}

static void test_irq0_reinject(void)
{
	s64 period;

	setup();
	outb(0x43, 0x34);			/* counter 0, mode 2 */
	load16(0, 11932);
	period = mul_u64_u32_div(11932, NSEC_PER_SEC, PIT_FREQ_HZ);
	CHECK(pit->timer.active);
	CHECK_EQ(pit->period_ns, period);
	CHECK_EQ(pit->timer.expires, t0 + period);
	advance(period - 1);
	CHECK(!pit->expired.pending);
	advance(1);
	CHECK(pit->expired.pending);		/* hard irq only queued work */
	CHECK_EQ(nr_irqs, 0);
	shim_run_work();
	CHECK_EQ(nr_irqs, 2);
	CHECK(pulse_at(0));
	CHECK(pit->timer.active);		/* periodic */

	/* Three ticks while the guest has not taken the first one. */
	advance(3 * period);
	CHECK_EQ(atomic_read(&pit->pending), 3);
	shim_run_work();
	CHECK_EQ(nr_irqs, 2);			/* the first still not acked */
	yakvm_pit_irq_acked(pit);
	shim_run_work();
	CHECK_EQ(nr_irqs, 4);
	CHECK(pulse_at(2));
	yakvm_pit_irq_acked(pit);
	shim_run_work();
	yakvm_pit_irq_acked(pit);
	shim_run_work();
	CHECK_EQ(nr_irqs, 8);			/* every tick, one at a time */
	yakvm_pit_irq_acked(pit);
	shim_run_work();
	CHECK_EQ(nr_irqs, 8);			/* nothing owed */
	yakvm_pit_irq_acked(pit);		/* a stray ack changes nothing */
	shim_run_work();
	CHECK_EQ(nr_irqs, 8);

	/* Masked, then unmasked: the backlog is dropped, not waited for. */
	advance(period);
	shim_run_work();
	advance(5 * period);
	CHECK_EQ(nr_irqs, 10);
	yakvm_pit_irq_mask_changed(pit, true);
	CHECK_EQ(atomic_read(&pit->pending), 5);
	yakvm_pit_irq_mask_changed(pit, false);
	CHECK_EQ(atomic_read(&pit->pending), 0);
	advance(period);
	shim_run_work();
	CHECK_EQ(nr_irqs, 12);			/* no ack needed after the reset */

	/* Writing a new count drops the backlog too (as KVM). */
	advance(3 * period);
	shim_run_work();
	CHECK_EQ(nr_irqs, 12);			/* the last one is not acked */
	load16(0, 11932);
	CHECK_EQ(atomic_read(&pit->pending), 0);
	advance(period);
	shim_run_work();
	CHECK_EQ(nr_irqs, 14);
	teardown();
}

static void test_irq0_no_reinject(void)
{
	struct kvm_reinject_control off = { .pit_reinject = 0 };
	s64 period;

	setup();
	CHECK_EQ(yakvm_pit_reinject(pit, &off), 0);
	outb(0x43, 0x34);
	load16(0, 2386);			/* ~2 ms */
	period = pit->period_ns;
	advance(3 * period);
	shim_run_work();
	CHECK_EQ(nr_irqs, 2);			/* missed ticks are dropped */
	advance(period);
	shim_run_work();
	CHECK_EQ(nr_irqs, 4);			/* no ack needed */
	teardown();
}

static void test_irq0_modes(void)
{
	struct kvm_pit_state2 s;

	setup();
	outb(0x43, 0x30);			/* mode 0: one-shot */
	load16(0, 1193);
	advance(ticks_ns(1193));
	CHECK(!pit->timer.active);
	shim_run_work();
	CHECK_EQ(nr_irqs, 2);
	advance(NSEC_PER_SEC);
	shim_run_work();
	CHECK_EQ(nr_irqs, 2);			/* once */

	outb(0x43, 0x34);
	load16(0, 2);				/* a 1.7 us period... */
	CHECK_EQ(pit->period_ns, PIT_MIN_PERIOD_NS);	/* ... is not granted */

	outb(0x43, 0x3a);			/* mode 5: waits for a gate edge */
	load16(0, 1000);
	CHECK(!pit->timer.active);

	/* HPET legacy mode: counter 0 stops driving IRQ0, and resumes. */
	outb(0x43, 0x34);
	load16(0, 1000);
	CHECK(pit->timer.active);
	yakvm_pit_get_state(pit, &s);
	s.flags |= KVM_PIT_FLAGS_HPET_LEGACY;
	yakvm_pit_set_state(pit, &s);
	CHECK(!pit->timer.active);
	at(10);
	CHECK_EQ(latched(0), 990);		/* the counter itself runs on */
	s.flags = 0;
	yakvm_pit_set_state(pit, &s);
	CHECK(pit->timer.active);
	teardown();

	/* No in-kernel IOAPIC: no IRQ0 (as KVM). */
	setup_flags(KVM_PIT_SPEAKER_DUMMY, false);
	outb(0x43, 0x34);
	load16(0, 1000);
	CHECK(!pit->timer.active);
	teardown();
}

static void test_state(void)
{
	struct kvm_pit_state2 s, t;
	s64 period;

	setup();
	memset(&s, 0, sizeof(s));
	s.flags = KVM_PIT_FLAGS_SPEAKER_DATA_ON | 0x100;
	s.channels[0] = (struct kvm_pit_channel_state){
		.count = 11932, .rw_mode = 3, .read_state = 3, .write_state = 3,
		.mode = 2, .gate = 1,
		.count_load_time = shim_now_ns - ticks_ns(5000),
	};
	s.channels[1] = (struct kvm_pit_channel_state){
		.count = 1000, .latched_count = 0x1234, .count_latched = 3,
		.status_latched = 1, .status = 0x34, .rw_mode = 3,
		.read_state = 4, .write_state = 4, .write_latch = 0x56,
		.mode = 2, .gate = 1,
		.count_load_time = shim_now_ns - ticks_ns(300),
	};
	s.channels[2] = (struct kvm_pit_channel_state){
		.count = 0x12345, .mode = 0, .rw_mode = 1, .read_state = 1,
		.write_state = 1, .count_load_time = shim_now_ns + 1000000000LL,
	};
	t0 = shim_now_ns;
	CHECK_EQ(yakvm_pit_set_state(pit, &s), 0);
	yakvm_pit_get_state(pit, &t);
	CHECK_EQ(t.flags, KVM_PIT_FLAGS_SPEAKER_DATA_ON);	/* unknown dropped */
	CHECK(!memcmp(&t.channels[0], &s.channels[0], sizeof(s.channels[0])));
	CHECK(!memcmp(&t.channels[1], &s.channels[1], sizeof(s.channels[1])));
	CHECK_EQ(t.channels[2].count, 0x2345);
	CHECK_EQ(t.channels[2].count_load_time, shim_now_ns);	/* future: now */

	/* The latches come back as they were, then the count counts on. */
	CHECK_EQ(inb(0x41), 0x34);
	CHECK_EQ(inb(0x41), 0x34);
	CHECK_EQ(inb(0x41), 0x12);
	outb(0x43, 0x40);
	CHECK_EQ(inb(0x41) | inb(0x41) << 8, 700);
	/* Counter 0 keeps its phase: the next tick 5000 ticks after load. */
	period = pit->period_ns;
	CHECK(pit->timer.active);
	CHECK(pit->timer.expires > shim_now_ns);
	CHECK(pit->timer.expires <= shim_now_ns + period - ticks_ns(5000) + 1);
	CHECK(pit->timer.expires >= shim_now_ns + period - ticks_ns(5000) - 1);

	/* A count_load_time of 0 (a naive VMM): far past, still sane. */
	s.channels[0].count_load_time = 0;
	s.channels[0].count = 0;
	yakvm_pit_set_state(pit, &s);
	CHECK(pit->timer.active);
	CHECK(pit->timer.expires > shim_now_ns);
	CHECK(pit->timer.expires <= shim_now_ns + (s64)pit->period_ns);
	yakvm_pit_get_state(pit, &t);
	CHECK_EQ(t.channels[0].count, 0x10000);
	/* The minimum representable time is clamped, not overflowed. */
	s.channels[0].count_load_time = LLONG_MIN;
	yakvm_pit_set_state(pit, &s);
	CHECK(pit->timer.expires > shim_now_ns);
	/* Garbage in the byte fields reads back and dispatches safely. */
	memset(&s, 0xff, sizeof(s));
	yakvm_pit_set_state(pit, &s);
	inb(0x40);
	inb(0x41);
	inb(0x42);
	outb(0x40, 1);
	outb(0x43, 0xfe);
	teardown();
}

static void test_wide_access(void)
{
	u8 buf[4] = { 0x34, 0x12, 0xaa, 0xaa };

	setup();
	outb(0x43, 0xb0);
	/* A 2-byte write at 0x42 reaches counter 2 only, with its low byte. */
	CHECK_EQ(shim_bus_access(YAKVM_PIO_BUS, 0x42, 2, buf, true), 0);
	CHECK_EQ(pit->ch[2].write_latch, 0x34);
	CHECK_EQ(pit->ch[2].write_state, RW_WORD1);
	memset(buf, 0xaa, sizeof(buf));
	CHECK_EQ(shim_bus_access(YAKVM_PIO_BUS, 0x40, 4, buf, false), 0);
	CHECK(buf[1] == 0 && buf[2] == 0 && buf[3] == 0);
	CHECK_EQ(shim_bus_access(YAKVM_PIO_BUS, 0x42, 4, buf, false),
		 -EOPNOTSUPP);			/* past 0x43 */
	teardown();
}

static void test_lifecycle(void)
{
	int fail;

	memset(&vm, 0, sizeof(vm));
	vm.irq.lock.held = 1;
	CHECK_EQ(yakvm_pit_create(&vm, 0x2), -EINVAL);	/* unknown flag */
	for (fail = 0; fail < 2; fail++) {
		shim_bus_registrations = 0;
		shim_bus_fail_at = fail;
		CHECK_EQ(yakvm_pit_create(&vm, KVM_PIT_SPEAKER_DUMMY), -ENOMEM);
		CHECK(!vm.irq.pit);
		CHECK_EQ(shim_nr_ranges, 0);
		CHECK_EQ(shim_allocations, 0);
		shim_forget_all();
	}
	shim_bus_fail_at = -1;
	vm.irq.lock.held = 0;

	/* Destroyed with the timer armed and a tick queued. */
	setup();
	vm.irq.lock.held = 1;
	CHECK_EQ(yakvm_pit_create(&vm, 0), -EEXIST);
	vm.irq.lock.held = 0;
	outb(0x43, 0x34);
	load16(0, 1000);
	advance(pit->period_ns);
	CHECK(pit->timer.active);
	CHECK(pit->expired.pending);
	teardown();
}

int main(void)
{
	test_reset_state();
	test_mode0();
	test_calibration();
	test_mode2();
	test_mode3();
	test_modes_1_4();
	test_latch();
	test_rw_modes();
	test_bcd();
	test_gate();
	test_irq0_reinject();
	test_irq0_no_reinject();
	test_irq0_modes();
	test_state();
	test_wide_access();
	test_lifecycle();
	return shim_verdict("i8254");
}
