// SPDX-License-Identifier: GPL-2.0
/*
 * The 8254 programmable interval timer (KVM_CREATE_PIT2): three counters
 * on ports 0x40-0x42 with the control word at 0x43, clocked at
 * 1.193182 MHz, and port 0x61's speaker bits (counter 2's gate and OUT).
 * Behaviour follows the Intel 8254 datasheet; the state is KVM's struct
 * kvm_pit_state2, with the values KVM keeps in it.
 *
 * Counters are not stepped: a counter's value and OUT are computed from
 * the time its count was loaded (count_load_time, ktime_get() ns, as in
 * KVM's state) and its mode.  Counter 0 drives IRQ0 through a host hrtimer
 * -- periodic in modes 2 and 3, one-shot in modes 0, 1 and 4 (KVM's
 * choice; mode 5 waits for a gate edge that never comes on counter 0).
 * The hrtimer expires in hard-irq context, where no irqchip may be
 * touched: it only counts the tick and queues a work item, which pulses
 * GSI 0 from process context.
 *
 * Reinjection (KVM_REINJECT_CONTROL, on by default as in KVM): ticks the
 * guest has not taken yet are counted, and the next one is injected only
 * once routing.c reports GSI 0 acknowledged (yakvm_pit_irq_acked()), so a
 * guest that was not scheduled still sees every tick.  Off, a tick that
 * expires while the previous one is still queued is dropped.
 *
 * Locking: pit->lock (a spinlock; port handlers run inside the bus's RCU
 * read section) covers the counters and the timer's programming.  The
 * hrtimer callback, the work item and the ack path use only atomics, so
 * hrtimer_cancel() can wait for the callback under the lock.
 */
#include <linux/bitops.h>
#include <linux/math64.h>
#include <linux/slab.h>

#include "yakvm.h"

#define PIT_FREQ_HZ		1193182	/* 14.31818 MHz / 12 */
#define PIT_BASE		0x40
#define PIT_SPEAKER		0x61
#define PIT_CONTROL		3	/* port 0x43 */

/*
 * The shortest period counter 0 may ask of the host: hrtimers are not
 * throttled by the scheduler, so a guest must not make the host take an
 * interrupt every microsecond.  KVM's default (min_timer_period_us).
 */
#define PIT_MIN_PERIOD_NS	(200 * NSEC_PER_USEC)

/* How far back a restored count_load_time may lie (keeps ktime sums sane). */
#define PIT_MAX_AGE_NS		(1LL << 62)

/* Read/write states, numbered as in KVM's kvm_pit_channel_state. */
#define RW_LSB		1
#define RW_MSB		2
#define RW_WORD0	3	/* LSB then MSB: the LSB is next */
#define RW_WORD1	4	/* ... the MSB is next */

#define PIT_KNOWN_FLAGS	(KVM_PIT_FLAGS_HPET_LEGACY | KVM_PIT_FLAGS_SPEAKER_DATA_ON)

struct yakvm_pit {
	spinlock_t lock;
	struct yakvm_vm *vm;
	struct kvm_pit_channel_state ch[3];
	u32 flags;			/* KVM_PIT_FLAGS_* */

	/* Counter 0's IRQ0: a host timer and the ticks it owes the guest. */
	struct hrtimer timer;
	u64 period_ns;			/* 0: one-shot; set only while disarmed */
	struct work_struct expired;
	bool reinject;
	atomic_t pending;		/* ticks expired and not yet injected */
	atomic_t in_flight;		/* reinjection: a tick awaits its ack */

	struct yakvm_io_device dev;
	struct yakvm_io_device speaker;
	bool has_speaker;
};

static s64 pit_now(void)
{
	return ktime_to_ns(ktime_get());
}

/* ------------------------------------------------------------------ */
/* Counting: pure functions of a counter's state and the time         */

/* 0-9999 in BCD; out-of-range nibbles count with their binary weight. */
static u32 pit_bcd_to_bin(u32 v)
{
	return (v >> 12 & 0xf) * 1000 + (v >> 8 & 0xf) * 100 +
	       (v >> 4 & 0xf) * 10 + (v & 0xf);
}

static u16 pit_bin_to_bcd(u32 v)
{
	v %= 10000;
	return (v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 |
	       v % 10;
}

/* The initial count in clock ticks: 1-65536, or 1-10000 in BCD. */
static u32 pit_initial(const struct kvm_pit_channel_state *c)
{
	u32 n;

	if (!c->bcd)
		return c->count;
	n = c->count >= 0x10000 ? 0 : pit_bcd_to_bin(c->count);
	return n ? n : 10000;
}

/*
 * The mode, 0-5; modes 6 and 7 are 2 and 3 (the datasheet's "X" bit).
 * A counter never programmed (KVM resets mode to 0xff) gives -1.
 */
static int pit_mode(const struct kvm_pit_channel_state *c)
{
	if (c->mode <= 5)
		return c->mode;
	if (c->mode <= 7)
		return c->mode - 4;
	return -1;
}

/* Clock ticks since the count was loaded. */
static u64 pit_ticks(const struct kvm_pit_channel_state *c, s64 now)
{
	u64 ns = 0;

	if (now > c->count_load_time)
		ns = (u64)now - (u64)c->count_load_time;
	return mul_u64_u32_div(ns, PIT_FREQ_HZ, NSEC_PER_SEC);
}

/*
 * Mode 3, @p ticks into a period of @n: the counter steps by two, and
 * reloads when OUT flips.  An odd count spends one more tick with OUT
 * high: it shows n, then n - 1, n - 3, ...; after the flip n, n - 3, ...
 */
static u64 pit_square_count(u64 n, u64 p)
{
	u64 high = (n + 1) / 2;

	if (!(n & 1)) {
		if (p >= high)
			p -= high;
		return n - 2 * p;
	}
	if (p < high)
		return p ? n + 1 - 2 * p : n;
	p -= high;
	return p ? n - 1 - 2 * p : n;
}

/* What reading the counter returns at @now (binary or BCD). */
static u16 pit_count_at(const struct kvm_pit_channel_state *c, s64 now)
{
	u64 wrap = c->bcd ? 10000 : 0x10000;
	u64 n = pit_initial(c), d = pit_ticks(c, now), v;

	switch (pit_mode(c)) {
	case 0:
	case 1:
	case 4:
	case 5:
		/* Past zero the counter wraps to its highest count, counting on. */
		v = (n + wrap - d % wrap) % wrap;
		break;
	case 3:
		v = pit_square_count(n, d % n);
		break;
	default:
		/* Mode 2, and (as KVM) a counter never programmed. */
		v = n - d % n;
		break;
	}
	return c->bcd ? pit_bin_to_bcd(v) : v & 0xffff;
}

/*
 * OUT at @now, per the datasheet: modes 0 and 1 go high at the terminal
 * count; mode 2 is low for the tick before each reload; mode 3 is a
 * square wave, high for the (larger) first half; modes 4 and 5 strobe low
 * for the tick after the terminal count.
 */
static bool pit_out_at(const struct kvm_pit_channel_state *c, s64 now)
{
	u64 n = pit_initial(c), d = pit_ticks(c, now);

	switch (pit_mode(c)) {
	case 2:
		return d % n != n - 1;
	case 3:
		return d % n < (n + 1) / 2;
	case 4:
	case 5:
		return d != n;
	default:
		/* Modes 0 and 1; a counter never programmed too (as KVM). */
		return d >= n;
	}
}

static void pit_latch_count(struct kvm_pit_channel_state *c, s64 now)
{
	/* A second latch before the first is read changes nothing. */
	if (c->count_latched)
		return;
	c->latched_count = pit_count_at(c, now);
	c->count_latched = c->rw_mode;
}

static void pit_latch_status(struct kvm_pit_channel_state *c, s64 now)
{
	if (c->status_latched)
		return;
	/* Bit 6 (null count) stays 0: a written count is loaded at once. */
	c->status = pit_out_at(c, now) << 7 | (c->rw_mode & 3) << 4 |
		    (c->mode & 7) << 1 | (c->bcd & 1);
	c->status_latched = 1;
}

/* ------------------------------------------------------------------ */
/* Counter 0 and IRQ0                                                 */

static void pit_reset_reinject(struct yakvm_pit *pit)
{
	atomic_set(&pit->pending, 0);
	atomic_set(&pit->in_flight, 0);
}

/* KVM drives IRQ0 only with the full in-kernel irqchip, and not in HPET legacy mode. */
static bool pit_drives_irq0(struct yakvm_pit *pit)
{
	return !(pit->flags & KVM_PIT_FLAGS_HPET_LEGACY) &&
	       READ_ONCE(pit->vm->irq.ioapic);
}

/*
 * (Re)program counter 0's timer for its count, mode and load time.  A
 * periodic timer keeps the phase of the load time, so a restored state
 * ticks where it left off; a one-shot whose time has passed fires at once.
 */
static void pit_arm(struct yakvm_pit *pit)
	__must_hold(&pit->lock)
{
	struct kvm_pit_channel_state *c = &pit->ch[0];
	s64 now, next, since;
	u64 interval;

	hrtimer_cancel(&pit->timer);
	pit_reset_reinject(pit);
	if (!pit_drives_irq0(pit))
		return;
	interval = mul_u64_u32_div(pit_initial(c), NSEC_PER_SEC, PIT_FREQ_HZ);
	now = pit_now();
	switch (pit_mode(c)) {
	case 0:
	case 1:
	case 4:
		pit->period_ns = 0;
		next = c->count_load_time + interval;
		break;
	case 2:
	case 3:
		pit->period_ns = max_t(u64, interval, PIT_MIN_PERIOD_NS);
		since = now > c->count_load_time ? now - c->count_load_time : 0;
		next = now + pit->period_ns - (u64)since % pit->period_ns;
		break;
	default:
		return;
	}
	hrtimer_start(&pit->timer, ns_to_ktime(next), HRTIMER_MODE_ABS);
}

static void pit_add_pending(struct yakvm_pit *pit, u64 ticks)
{
	int old = atomic_read(&pit->pending), new;

	do {
		new = ticks >= (u64)(INT_MAX - old) ? INT_MAX : old + (int)ticks;
	} while (!atomic_try_cmpxchg(&pit->pending, &old, new));
}

/* Hard-irq context: count the tick(s), leave the injection to the work. */
static enum hrtimer_restart pit_timer_fn(struct hrtimer *timer)
{
	struct yakvm_pit *pit = container_of(timer, struct yakvm_pit, timer);
	u64 ticks = 1;

	/* A late callback owes every period it missed; forward in one step. */
	if (pit->period_ns)
		ticks = hrtimer_forward_now(timer, ns_to_ktime(pit->period_ns));
	if (READ_ONCE(pit->reinject))
		pit_add_pending(pit, ticks);
	else
		atomic_set(&pit->pending, 1);
	queue_work(system_highpri_wq, &pit->expired);
	return pit->period_ns ? HRTIMER_RESTART : HRTIMER_NORESTART;
}

/* Process context: one tick is a pulse on GSI 0 (edge, as KVM). */
static void pit_inject(struct work_struct *work)
{
	struct yakvm_pit *pit = container_of(work, struct yakvm_pit, expired);

	if (READ_ONCE(pit->reinject)) {
		/* The previous tick is not acknowledged yet: its ack requeues us. */
		if (atomic_cmpxchg(&pit->in_flight, 0, 1))
			return;
		if (atomic_dec_if_positive(&pit->pending) < 0) {
			atomic_set(&pit->in_flight, 0);
			return;
		}
	} else if (!atomic_xchg(&pit->pending, 0)) {
		return;
	}
	yakvm_set_irq(pit->vm, YAKVM_IRQ_SOURCE_PIT, 0, 1, false);
	yakvm_set_irq(pit->vm, YAKVM_IRQ_SOURCE_PIT, 0, 0, false);
}

/* ------------------------------------------------------------------ */
/* Ports                                                              */

static void pit_load(struct yakvm_pit *pit, int i, u32 val)
{
	struct kvm_pit_channel_state *c = &pit->ch[i];

	/* 0 is the largest count: 65536, or 10000 in BCD. */
	c->count = val ? val : 0x10000;
	c->count_load_time = pit_now();
	if (i == 0)
		pit_arm(pit);
}

static void pit_set_gate(struct yakvm_pit *pit, int i, bool high)
{
	struct kvm_pit_channel_state *c = &pit->ch[i];

	/*
	 * In modes 1, 2, 3 and 5 a rising gate (re)starts the count.  Modes
	 * 0 and 4 would pause while the gate is low; like KVM, this model
	 * counts on (a paused count has no place in the state).
	 */
	switch (pit_mode(c)) {
	case 1:
	case 2:
	case 3:
	case 5:
		if (high && !c->gate) {
			c->count_load_time = pit_now();
			if (i == 0)
				pit_arm(pit);
		}
		break;
	}
	c->gate = high;
}

static void pit_write_control(struct yakvm_pit *pit, u8 val)
{
	struct kvm_pit_channel_state *c;
	s64 now = pit_now();
	int sel = val >> 6;
	int access = (val >> 4) & 3;
	int i;

	if (sel == 3) {
		/*
		 * Read-back: bits 3:1 select counters 2:0; bit 5 clear
		 * latches their counts, bit 4 clear their status.
		 */
		for (i = 0; i < 3; i++) {
			if (!(val & BIT(i + 1)))
				continue;
			if (!(val & 0x20))
				pit_latch_count(&pit->ch[i], now);
			if (!(val & 0x10))
				pit_latch_status(&pit->ch[i], now);
		}
		return;
	}
	c = &pit->ch[sel];
	if (!access) {
		pit_latch_count(c, now);
		return;
	}
	/* The count runs on until a new one is written (as KVM). */
	c->rw_mode = access;
	c->read_state = access;
	c->write_state = access;
	c->mode = (val >> 1) & 7;
	if (c->mode > 5)
		c->mode -= 4;
	c->bcd = val & 1;
}

static void pit_write_count(struct yakvm_pit *pit, int i, u8 val)
{
	struct kvm_pit_channel_state *c = &pit->ch[i];

	switch (c->write_state) {
	case RW_MSB:
		pit_load(pit, i, val << 8);
		break;
	case RW_WORD0:
		c->write_latch = val;
		c->write_state = RW_WORD1;
		break;
	case RW_WORD1:
		pit_load(pit, i, c->write_latch | val << 8);
		c->write_state = RW_WORD0;
		break;
	default:	/* RW_LSB, and a counter never programmed (as KVM) */
		pit_load(pit, i, val);
		break;
	}
}

static u8 pit_read_counter(struct yakvm_pit *pit, int i)
{
	struct kvm_pit_channel_state *c = &pit->ch[i];
	u16 count;

	if (c->status_latched) {
		c->status_latched = 0;
		return c->status;
	}
	switch (c->count_latched) {
	case 0:
		break;
	case RW_MSB:
		c->count_latched = 0;
		return c->latched_count >> 8;
	case RW_WORD0:
		c->count_latched = RW_MSB;
		return c->latched_count & 0xff;
	default:
		c->count_latched = 0;
		return c->latched_count & 0xff;
	}
	count = pit_count_at(c, pit_now());
	switch (c->read_state) {
	case RW_MSB:
		return count >> 8;
	case RW_WORD0:
		c->read_state = RW_WORD1;
		return count & 0xff;
	case RW_WORD1:
		c->read_state = RW_WORD0;
		return count >> 8;
	default:
		return count & 0xff;
	}
}

/*
 * Ports 0x40-0x43 take byte accesses; a wider one (within the range)
 * reaches only the port it starts at, with its low byte, and reads
 * return the byte zero-extended -- KVM's behaviour.
 */
static int pit_port_write(struct yakvm_vcpu *vcpu, struct yakvm_io_device *dev,
			  u64 addr, int len, const void *val)
{
	struct yakvm_pit *pit = container_of(dev, struct yakvm_pit, dev);
	int port = addr - PIT_BASE;
	u8 data;

	if (addr < PIT_BASE || addr > PIT_BASE + PIT_CONTROL)
		return -EOPNOTSUPP;
	if (len < 1)
		return 0;
	data = *(const u8 *)val;
	spin_lock(&pit->lock);
	if (port == PIT_CONTROL)
		pit_write_control(pit, data);
	else
		pit_write_count(pit, port, data);
	spin_unlock(&pit->lock);
	return 0;
}

static int pit_port_read(struct yakvm_vcpu *vcpu, struct yakvm_io_device *dev,
			 u64 addr, int len, void *val)
{
	struct yakvm_pit *pit = container_of(dev, struct yakvm_pit, dev);
	int port = addr - PIT_BASE;

	if (addr < PIT_BASE || addr > PIT_BASE + PIT_CONTROL)
		return -EOPNOTSUPP;
	if (len < 1 || len > 4)
		return 0;
	memset(val, 0, len);
	/* The control word register cannot be read: 0, as on KVM and QEMU. */
	if (port == PIT_CONTROL)
		return 0;
	spin_lock(&pit->lock);
	*(u8 *)val = pit_read_counter(pit, port);
	spin_unlock(&pit->lock);
	return 0;
}

/*
 * Port 0x61 (KVM_PIT_SPEAKER_DUMMY): bit 0 counter 2's gate, bit 1 the
 * speaker data (kept, no sound), read back with bit 5 counter 2's OUT and
 * bit 4 the refresh clock, which toggles about every 15 us (2^14 ns here,
 * as KVM).  Registered as KVM does, 4 ports wide with only 0x61 answered:
 * the rest (0x64 is the i8042's) go on to user space.
 */
static int pit_speaker_write(struct yakvm_vcpu *vcpu, struct yakvm_io_device *dev,
			     u64 addr, int len, const void *val)
{
	struct yakvm_pit *pit = container_of(dev, struct yakvm_pit, speaker);
	u8 data;

	if (addr != PIT_SPEAKER)
		return -EOPNOTSUPP;
	if (len < 1)
		return 0;
	data = *(const u8 *)val;
	spin_lock(&pit->lock);
	if (data & BIT(1))
		pit->flags |= KVM_PIT_FLAGS_SPEAKER_DATA_ON;
	else
		pit->flags &= ~KVM_PIT_FLAGS_SPEAKER_DATA_ON;
	pit_set_gate(pit, 2, data & BIT(0));
	spin_unlock(&pit->lock);
	return 0;
}

static int pit_speaker_read(struct yakvm_vcpu *vcpu, struct yakvm_io_device *dev,
			    u64 addr, int len, void *val)
{
	struct yakvm_pit *pit = container_of(dev, struct yakvm_pit, speaker);
	s64 now = pit_now();
	u8 data;

	if (addr != PIT_SPEAKER)
		return -EOPNOTSUPP;
	if (len < 1 || len > 4)
		return 0;
	data = ((now >> 14) & 1) << 4;
	spin_lock(&pit->lock);
	if (pit_out_at(&pit->ch[2], now))
		data |= BIT(5);
	if (pit->flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON)
		data |= BIT(1);
	if (pit->ch[2].gate)
		data |= BIT(0);
	spin_unlock(&pit->lock);
	memset(val, 0, len);
	*(u8 *)val = data;
	return 0;
}

static const struct yakvm_io_ops pit_ops = {
	.read = pit_port_read,
	.write = pit_port_write,
};

static const struct yakvm_io_ops pit_speaker_ops = {
	.read = pit_speaker_read,
	.write = pit_speaker_write,
};

/* ------------------------------------------------------------------ */
/* The interface (irq.h)                                              */

void yakvm_pit_irq_acked(struct yakvm_pit *pit)
{
	if (!READ_ONCE(pit->reinject))
		return;
	if (atomic_xchg(&pit->in_flight, 0) && atomic_read(&pit->pending) > 0)
		queue_work(system_highpri_wq, &pit->expired);
}

/*
 * While GSI 0 is masked nothing acknowledges the ticks; once unmasked,
 * the backlog is dropped (KVM's mask notifier) instead of waiting forever.
 */
void yakvm_pit_irq_mask_changed(struct yakvm_pit *pit, bool masked)
{
	if (!masked && READ_ONCE(pit->reinject))
		pit_reset_reinject(pit);
}

int yakvm_pit_reinject(struct yakvm_pit *pit,
		       const struct kvm_reinject_control *control)
{
	bool on = control->pit_reinject;

	spin_lock(&pit->lock);
	if (on != pit->reinject) {
		WRITE_ONCE(pit->reinject, on);
		pit_reset_reinject(pit);
	}
	spin_unlock(&pit->lock);
	return 0;
}

int yakvm_pit_get_state(struct yakvm_pit *pit, struct kvm_pit_state2 *state)
{
	memset(state, 0, sizeof(*state));
	spin_lock(&pit->lock);
	memcpy(state->channels, pit->ch, sizeof(state->channels));
	state->flags = pit->flags;
	spin_unlock(&pit->lock);
	return 0;
}

/*
 * KVM_SET_PIT2.  The registers are taken as given (every value is safe to
 * hold: what the code dispatches on falls back to KVM's defaults); counts
 * are reduced to 16 bits (0 meaning 65536) and unknown flags dropped.
 * count_load_time is host CLOCK_MONOTONIC time: honoured, so a state
 * saved and restored on one host counts on from where it was, but a time
 * in the future is taken as now -- which is all a state from another host
 * (another boot) can give: its counts and modes move, their phase not.
 */
int yakvm_pit_set_state(struct yakvm_pit *pit,
			const struct kvm_pit_state2 *state)
{
	s64 now = pit_now();
	int i;

	spin_lock(&pit->lock);
	pit->flags = state->flags & PIT_KNOWN_FLAGS;
	for (i = 0; i < 3; i++) {
		struct kvm_pit_channel_state *c = &pit->ch[i];
		u32 count;

		*c = state->channels[i];
		count = c->count > 0x10000 ? c->count & 0xffff : c->count;
		c->count = count ? count : 0x10000;
		if (c->count_load_time > now)
			c->count_load_time = now;
		if (c->count_load_time < now - PIT_MAX_AGE_NS)
			c->count_load_time = now - PIT_MAX_AGE_NS;
	}
	pit_arm(pit);
	spin_unlock(&pit->lock);
	return 0;
}

/* Nothing of the PIT runs once this returns (ports already gone). */
static void pit_stop(struct yakvm_pit *pit)
{
	hrtimer_cancel(&pit->timer);
	cancel_work_sync(&pit->expired);
}

int yakvm_pit_create(struct yakvm_vm *vm, u32 flags)
{
	struct yakvm_pit *pit;
	s64 now = pit_now();
	int i, r;

	lockdep_assert_held(&vm->irq.lock);
	if (flags & ~KVM_PIT_SPEAKER_DUMMY)
		return -EINVAL;
	if (vm->irq.pit)
		return -EEXIST;
	pit = kzalloc(sizeof(*pit), GFP_KERNEL_ACCOUNT);
	if (!pit)
		return -ENOMEM;
	spin_lock_init(&pit->lock);
	pit->vm = vm;
	hrtimer_init(&pit->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
	pit->timer.function = pit_timer_fn;
	INIT_WORK(&pit->expired, pit_inject);
	pit->reinject = true;
	/* KVM's reset state: not programmed, count 65536, gates 0 and 1 high. */
	for (i = 0; i < 3; i++) {
		pit->ch[i].mode = 0xff;
		pit->ch[i].gate = i != 2;
		pit->ch[i].count = 0x10000;
		pit->ch[i].count_load_time = now;
	}
	pit->dev.ops = &pit_ops;
	pit->speaker.ops = &pit_speaker_ops;

	r = yakvm_io_bus_register(vm, YAKVM_PIO_BUS, PIT_BASE, 4, &pit->dev);
	if (r)
		goto err_free;
	if (flags & KVM_PIT_SPEAKER_DUMMY) {
		r = yakvm_io_bus_register(vm, YAKVM_PIO_BUS, PIT_SPEAKER, 4,
					  &pit->speaker);
		if (r)
			goto err_ports;
		pit->has_speaker = true;
	}
	/* Pairs with READ_ONCE() of vm->irq.pit by its users. */
	smp_store_release(&vm->irq.pit, pit);
	return 0;

err_ports:
	yakvm_io_bus_unregister(vm, YAKVM_PIO_BUS, &pit->dev);
	/* A vCPU may have programmed counter 0 through the ports meanwhile. */
	pit_stop(pit);
err_free:
	kfree(pit);
	return r;
}

void yakvm_pit_destroy(struct yakvm_vm *vm)
{
	struct yakvm_pit *pit = vm->irq.pit;

	lockdep_assert_held(&vm->irq.lock);
	if (!pit)
		return;
	yakvm_io_bus_unregister(vm, YAKVM_PIO_BUS, &pit->dev);
	if (pit->has_speaker)
		yakvm_io_bus_unregister(vm, YAKVM_PIO_BUS, &pit->speaker);
	pit_stop(pit);
	WRITE_ONCE(vm->irq.pit, NULL);
	kfree(pit);
}
