/*
 * 8254 programmable interval timer (Intel 8254 data sheet, order no.
 * 231164) at 0x40-0x43, clocked at 1.193182 MHz.  Channel 0's OUT drives
 * IRQ0; channel 2's gate and OUT are wired to port 0x61 (portb.c), which is
 * what Linux's PIT-based TSC calibration polls; channel 1 (DRAM refresh on a
 * PC) counts but is wired to nothing.
 *
 * Counters are not stepped: every value is computed from the host's
 * CLOCK_MONOTONIC and the moment counting started, so reads are exact
 * whenever they happen.  IRQ0 comes from a timer thread that sleeps until
 * channel 0's next rising OUT edge and pulses the line; when it falls behind
 * (the host was busy), missed periodic edges are merged into one, as a real
 * 8259A would merge them in its IRR.
 *
 * Modes 0-5 and the counter-latch and read-back commands are implemented;
 * BCD counting is accepted but counts in binary (Linux never asks for it).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices.h"
#include "platform.h"
#include "../status.h"
#include "../util.h"
#include "../vm.h"

#define PIT_HZ		1193182ULL
#define NSEC		1000000000ULL
#define NR_CHANNELS	3
#define CTRL_PORT	3

/* Control word fields (data sheet, "Control Word Format"). */
#define CW_BCD		0x01
#define CW_MODE(v)	(((v) >> 1) & 7)
#define CW_RW(v)	(((v) >> 4) & 3)
#define CW_SC(v)	(((v) >> 6) & 3)
#define SC_READ_BACK	3
#define RB_NO_COUNT	0x20	/* read-back: do not latch the counts */
#define RB_NO_STATUS	0x10	/* read-back: do not latch the status */
#define RW_LATCH	0
#define RW_LSB		1
#define RW_MSB		2
#define RW_WORD		3
#define STATUS_OUT	0x80
#define STATUS_NULL	0x40

struct pit_channel {
	uint8_t mode, rw;
	bool bcd;
	uint32_t reload;	/* 1 ... 0x10000 (a written 0 means 0x10000) */
	bool loaded;		/* a count was written since the control word */
	bool counting;		/* a count was loaded (and, for modes 1/5, triggered) */
	bool gate;
	uint64_t start_ns;	/* tick 0 of the current count */
	uint64_t frozen;	/* modes 0/4 with the gate low: ticks counted so far */
	uint64_t edges;		/* channel 0: IRQ edges delivered since start_ns */
	bool null_count;	/* written but not yet loaded (status bit 6) */
	bool write_msb_next, read_msb_next;
	uint8_t write_lsb;
	bool count_latched, status_latched;
	uint16_t latch;
	uint8_t status;
};

struct pit {
	pthread_mutex_t lock;
	pthread_cond_t changed;		/* channel 0 was reprogrammed */
	struct pit_channel ch[NR_CHANNELS];
	struct pic *pic;
	pthread_t thread;
	bool trace;		/* --trace-exits: log each IRQ0 edge */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + ts.tv_nsec;
}

static uint64_t ns_to_ticks(uint64_t ns)
{
	return (unsigned __int128)ns * PIT_HZ / NSEC;
}

/* The first nanosecond at which @ticks clock edges have happened. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
	return ((unsigned __int128)ticks * NSEC + PIT_HZ - 1) / PIT_HZ;
}

/* Clock edges counted since the count was loaded. */
static uint64_t elapsed_ticks(const struct pit_channel *c, uint64_t now)
{
	if ((c->mode == 0 || c->mode == 4) && !c->gate)
		return c->frozen;
	return now > c->start_ns ? ns_to_ticks(now - c->start_ns) : 0;
}

static bool periodic(const struct pit_channel *c)
{
	return c->mode == 2 || c->mode == 3;
}

/* OUT as the data sheet's waveforms show it, for each mode. */
static bool channel_out(const struct pit_channel *c, uint64_t now)
{
	uint64_t t = elapsed_ticks(c, now);

	if (!c->counting)
		return c->mode != 0;	/* mode 0 drives OUT low from the control word on */
	switch (c->mode) {
	case 0:
	case 1:
		return t >= c->reload;
	case 2:
		return t % c->reload != c->reload - 1;
	case 3:
		return t % c->reload < (c->reload + 1) / 2;
	default:		/* 4, 5: one clock low at terminal count */
		return t != c->reload;
	}
}

static uint16_t channel_count(const struct pit_channel *c, uint64_t now)
{
	uint64_t t = elapsed_ticks(c, now);

	if (!c->counting)
		return c->reload;
	switch (c->mode) {
	case 2:
		return c->reload - t % c->reload;
	case 3:		/* counts down by two, twice per period */
		return (c->reload - (2 * t) % c->reload) & 0xfffe;
	default:	/* one-shot modes wrap around after terminal count */
		return (c->reload - t) & 0xffff;
	}
}

/* The tick of channel 0's next rising OUT edge not yet delivered; false if none. */
static bool next_edge(const struct pit_channel *c, uint64_t now, uint64_t *tick)
{
	uint64_t k;

	if (!c->counting)
		return false;
	if (periodic(c)) {
		/* Edges at every multiple of reload; merge the ones already missed. */
		k = elapsed_ticks(c, now) / c->reload;
		if (k <= c->edges)
			k = c->edges + 1;
		*tick = k * c->reload;
		return true;
	}
	if (c->edges)
		return false;	/* one-shot: one edge per count */
	/* Mode 0/1: OUT rises at terminal count; 4/5: one clock after it. */
	*tick = c->reload + (c->mode >= 4);
	return true;
}

static void load_count(struct pit *pit, unsigned int n, uint32_t value)
{
	struct pit_channel *c = &pit->ch[n];

	c->reload = value ? value : 0x10000;
	c->loaded = true;
	c->null_count = false;
	c->start_ns = now_ns();
	c->frozen = 0;
	c->edges = 0;
	/* Modes 1 and 5 wait for a rising gate; channels 0 and 1 have none. */
	c->counting = !(c->mode == 1 || c->mode == 5);
	if (n == 0)
		pthread_cond_signal(&pit->changed);
}

static void write_counter(struct pit *pit, unsigned int n, uint8_t v)
{
	struct pit_channel *c = &pit->ch[n];

	c->null_count = true;
	switch (c->rw) {
	case RW_LSB:
		load_count(pit, n, v);
		break;
	case RW_MSB:
		load_count(pit, n, (uint32_t)v << 8);
		break;
	default:
		if (!c->write_msb_next) {
			c->write_lsb = v;
			c->write_msb_next = true;
			/* Mode 0: writing the first byte stops the count. */
			if (c->mode == 0)
				c->counting = false;
		} else {
			c->write_msb_next = false;
			load_count(pit, n, c->write_lsb | (uint32_t)v << 8);
		}
		break;
	}
}

static uint8_t latched_byte(struct pit_channel *c)
{
	uint8_t v;

	if (c->rw == RW_WORD && !c->read_msb_next) {
		c->read_msb_next = true;
		return c->latch;
	}
	c->read_msb_next = false;
	v = c->rw == RW_LSB ? c->latch : c->latch >> 8;
	c->count_latched = false;
	return v;
}

static uint8_t read_counter(struct pit_channel *c)
{
	uint16_t count;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->count_latched)
		return latched_byte(c);
	count = channel_count(c, now_ns());
	if (c->rw == RW_WORD) {
		c->read_msb_next = !c->read_msb_next;
		return c->read_msb_next ? count : count >> 8;
	}
	return c->rw == RW_LSB ? count : count >> 8;
}

static void latch_count(struct pit_channel *c)
{
	if (c->count_latched)
		return;		/* a second latch before the read is ignored */
	c->latch = channel_count(c, now_ns());
	c->count_latched = true;
	c->read_msb_next = false;
}

static void latch_status(struct pit_channel *c)
{
	if (c->status_latched)
		return;
	c->status = (channel_out(c, now_ns()) ? STATUS_OUT : 0) |
		    (c->null_count ? STATUS_NULL : 0) |
		    c->rw << 4 | c->mode << 1 | c->bcd;
	c->status_latched = true;
}

static void read_back(struct pit *pit, uint8_t v)
{
	unsigned int n;

	for (n = 0; n < NR_CHANNELS; n++) {
		if (!(v & (2u << n)))
			continue;
		if (!(v & RB_NO_COUNT))
			latch_count(&pit->ch[n]);
		if (!(v & RB_NO_STATUS))
			latch_status(&pit->ch[n]);
	}
}

static void write_control(struct pit *pit, uint8_t v)
{
	unsigned int n = CW_SC(v);
	struct pit_channel *c = &pit->ch[n];

	if (n == SC_READ_BACK) {
		read_back(pit, v);
		return;
	}
	if (CW_RW(v) == RW_LATCH) {
		latch_count(c);
		return;
	}
	c->rw = CW_RW(v);
	c->mode = CW_MODE(v) > 5 ? CW_MODE(v) - 4 : CW_MODE(v);	/* 6, 7 are 2, 3 */
	c->bcd = v & CW_BCD;
	c->loaded = false;
	c->counting = false;
	c->null_count = true;
	c->write_msb_next = false;
	c->read_msb_next = false;
	c->count_latched = false;
	c->status_latched = false;
	if (n == 0)
		pthread_cond_signal(&pit->changed);
}

static void pit_access(void *opaque, uint64_t offset, uint8_t *data,
		       unsigned int size, bool is_write)
{
	struct pit *pit = opaque;
	unsigned int i;

	pthread_mutex_lock(&pit->lock);
	for (i = 0; i < size; i++) {
		unsigned int port = offset + i;

		if (port == CTRL_PORT && is_write)
			write_control(pit, data[i]);
		else if (port == CTRL_PORT)
			data[i] = 0xff;		/* the control register cannot be read */
		else if (is_write)
			write_counter(pit, port, data[i]);
		else
			data[i] = read_counter(&pit->ch[port]);
	}
	pthread_mutex_unlock(&pit->lock);
}

void pit_set_gate2(struct pit *pit, bool gate)
{
	struct pit_channel *c = &pit->ch[2];
	uint64_t now;

	pthread_mutex_lock(&pit->lock);
	now = now_ns();
	if (gate && !c->gate && c->loaded) {
		if (c->mode == 0 || c->mode == 4) {
			c->start_ns = now - ticks_to_ns(c->frozen);	/* resume */
		} else {
			/* Modes 1 and 5 are triggered, 2 and 3 restart, by a rising gate. */
			c->start_ns = now;
			c->counting = true;
		}
	} else if (!gate && c->gate && (c->mode == 0 || c->mode == 4)) {
		c->frozen = elapsed_ticks(c, now);
	}
	c->gate = gate;
	pthread_mutex_unlock(&pit->lock);
}


bool pit_out2(struct pit *pit)
{
	bool out;

	pthread_mutex_lock(&pit->lock);
	/* Modes 2 and 3 hold OUT high while the gate is low. */
	if (!pit->ch[2].gate && periodic(&pit->ch[2]))
		out = true;
	else
		out = channel_out(&pit->ch[2], now_ns());
	pthread_mutex_unlock(&pit->lock);
	return out;
}

static struct timespec to_timespec(uint64_t ns)
{
	return (struct timespec){ .tv_sec = ns / NSEC, .tv_nsec = ns % NSEC };
}

/* Sleeps until channel 0's next edge, then pulses IRQ0 (edge-triggered at the PIC). */
static void *irq0_thread(void *arg)
{
	struct pit *pit = arg;
	struct pit_channel *c = &pit->ch[0];
	uint64_t tick, deadline, now;
	struct timespec ts;

	pthread_mutex_lock(&pit->lock);
	for (;;) {
		now = now_ns();
		if (!next_edge(c, now, &tick)) {
			pthread_cond_wait(&pit->changed, &pit->lock);
			continue;
		}
		deadline = c->start_ns + ticks_to_ns(tick);
		if (now < deadline) {
			ts = to_timespec(deadline);
			pthread_cond_timedwait(&pit->changed, &pit->lock, &ts);
			continue;	/* reprogrammed, or time to look again */
		}
		c->edges = periodic(c) ? tick / c->reload : 1;
		pthread_mutex_unlock(&pit->lock);
		if (pit->trace)
			trace("PIT: IRQ0 (mode %u, count %u)", c->mode, c->reload);
		pic_set_irq(pit->pic, PIT_IRQ, true);
		pic_set_irq(pit->pic, PIT_IRQ, false);
		pthread_mutex_lock(&pit->lock);
	}
	return NULL;
}

struct pit *pit_create(struct vm *vm, struct pic *pic)
{
	struct pit *pit = calloc(1, sizeof(*pit));
	pthread_condattr_t attr;
	sigset_t all, old;
	unsigned int n;
	int r;

	if (!pit)
		fail(STATUS_SETUP, "out of memory for the PIT");
	pthread_mutex_init(&pit->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&pit->changed, &attr);
	pthread_condattr_destroy(&attr);
	pit->pic = pic;
	pit->trace = vm->trace_exits;
	for (n = 0; n < NR_CHANNELS; n++)
		pit->ch[n] = (struct pit_channel){ .reload = 0x10000, .gate = n != 2,
						   .rw = RW_WORD };
	io_register(&vm->pio, PIT_PORT, 4, pit_access, pit, "8254 PIT");
	/*
	 * The thread lives as long as the process; it only sleeps and pulses
	 * IRQ0.  It starts with every signal blocked: process signals belong to
	 * the main thread's signalfd (eventloop.c).
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&pit->thread, NULL, irq0_thread, pit);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r)
		fail(STATUS_SETUP, "cannot start the PIT's timer thread: %s", strerror(r));
	pthread_detach(pit->thread);
	return pit;
}
