// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel 8254 PIT (KVM_CREATE_PIT2): counter 0 on IRQ 0 (GSI 0 of
 * the default routing: IOAPIC pin 0 and PIC IRQ 0) in the modes Linux and
 * SeaBIOS use -- 2 (rate generator) and 3 (square wave) periodic, 0
 * (interrupt on terminal count) and 4 (software strobe) once -- with the
 * latch and read-back commands; and counter 2 behind port 0x61 (gate in
 * bit 0, speaker data in bit 1, OUT2 in bit 5, refresh toggle in bit 4),
 * which is in the kernel only with KVM_PIT_SPEAKER_DUMMY and otherwise an
 * exit to user space.  Counts run at 1.193182 MHz; nothing asserts how
 * soon anything fires.
 */
#include <sys/ioctl.h>

#include "apic.h"
#include "guest.h"
#include "irqchip.h"
#include "modes.h"

#define PIT_VECTOR	0x50
#define PIT_HZ		1193182ULL
#define TIMING		"timer interrupts land at times that depend on the host's load"

static struct irq_record *rec(void)
{
	return &irq_rec[guest_vcpu_index()];
}

static void wait_ms_enabled(uint64_t ms)
{
	sti();
	tsc_delay_us(ms * 1000);
	cli();
}

/* PIT ticks in @ms milliseconds. */
static uint16_t ticks(uint64_t ms)
{
	return (uint16_t)(PIT_HZ * ms / 1000);
}

static void pit_program(unsigned int ch, unsigned int mode, uint16_t count)
{
	outb(PIT_CMD, (uint8_t)(ch << 6 | 3 << 4 | mode << 1));	/* lobyte/hibyte, binary */
	outb(PIT_CH0 + ch, (uint8_t)count);
	outb(PIT_CH0 + ch, (uint8_t)(count >> 8));
}

static uint16_t pit_latch_read(unsigned int ch)
{
	uint16_t lo;

	outb(PIT_CMD, (uint8_t)(ch << 6));	/* counter latch */
	lo = inb(PIT_CH0 + ch);
	return lo | (uint16_t)inb(PIT_CH0 + ch) << 8;
}

/* Read-back command: counter @ch's status byte (OUT, RW, mode, BCD). */
static uint8_t pit_status(unsigned int ch)
{
	outb(PIT_CMD, (uint8_t)(0xe0 | 2u << ch));	/* latch status only */
	return inb(PIT_CH0 + ch);
}

static void setup_ioapic(void)
{
	irq_install();
	apic_enable_xapic();
	irq_set_handler(PIT_VECTOR, irq_count_eoi);
	ioapic_write_redir(0, IOAPIC_DEST(0) | PIT_VECTOR);
}

static void run(const struct test_ctx *ctx, void (*fn)(void), uint32_t pit_flags)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, fn, 0);

	vm_create_pit2(vm, pit_flags);
	vcpu_run_ucall_watched(vm->vcpus[0], 20);
	irq_vm_free(vm);
}

/* ---------------------------------------------------------------- */
/* Counter 0                                                        */

static void periodic(unsigned int mode)
{
	uint16_t count = ticks(5);
	unsigned int i;

	setup_ioapic();
	pit_program(0, mode, count);
	for (i = 1; i <= 5; i++) {
		wait_count_hlt(&rec()->n, i);
		GUEST_ASSERT(pit_latch_read(0) <= count);
	}
	GUEST_ASSERT_EQ(pit_status(0) & 0x3f, 3u << 4 | mode << 1);
	/* Masking the pin stops the interrupts (the counter goes on). */
	ioapic_write_redir(0, IOAPIC_MASKED | IOAPIC_DEST(0) | PIT_VECTOR);
	__asm__ volatile("sti; nop; cli");
	i = rec()->n;
	wait_ms_enabled(20);
	GUEST_ASSERT_EQ(rec()->n, i);
}

static void guest_mode2(void)
{
	periodic(2);
}

static void guest_mode3(void)
{
	periodic(3);
}

TEST_CASE_OPTS(counter0_mode2_periodic, .why_not_compared = TIMING)
{
	run(ctx, guest_mode2, 0);
}

TEST_CASE_OPTS(counter0_mode3_periodic, .why_not_compared = TIMING)
{
	run(ctx, guest_mode3, 0);
}

/* Modes 0 and 4: one interrupt per count written; mode 0's OUT goes high at terminal count. */
static void oneshot(unsigned int mode)
{
	uint16_t c1, c2;
	uint64_t t0;
	uint8_t st;

	setup_ioapic();
	t0 = rdtsc();
	pit_program(0, mode, ticks(10));
	st = pit_status(0);
	GUEST_ASSERT_EQ(st & 0x3f, 3u << 4 | mode << 1);
	/* OUT is low until the count runs out in mode 0 (if this read came that early). */
	if (mode == 0 && rdtsc() - t0 < tsc_ticks_us(5000))
		GUEST_ASSERT_EQ(st & 0x80, 0);
	c1 = pit_latch_read(0);
	c2 = pit_latch_read(0);
	/* Counting down (unless the count ran out, and wrapped, meanwhile). */
	if (rdtsc() - t0 < tsc_ticks_us(8000))
		GUEST_ASSERT(c2 <= c1);
	wait_count_hlt(&rec()->n, 1);
	if (mode == 0)
		GUEST_ASSERT_EQ(pit_status(0) & 0x80, 0x80);
	wait_ms_enabled(40);
	GUEST_ASSERT_EQ(rec()->n, 1);
	/* A new count arms it again. */
	pit_program(0, mode, ticks(5));
	wait_count_hlt(&rec()->n, 2);
	wait_ms_enabled(30);
	GUEST_ASSERT_EQ(rec()->n, 2);
}

static void guest_mode0(void)
{
	oneshot(0);
}

static void guest_mode4(void)
{
	oneshot(4);
}

TEST_CASE_OPTS(counter0_mode0_oneshot, .why_not_compared = TIMING)
{
	run(ctx, guest_mode0, 0);
}

TEST_CASE_OPTS(counter0_mode4_oneshot, .why_not_compared = TIMING)
{
	run(ctx, guest_mode4, 0);
}

/* The same IRQ 0 through the PIC and LINT0 in ExtINT mode, as an old guest uses it. */
static void on_pic_irq0(struct ex_regs *regs)
{
	irq_record(regs->vector);
	outb(PIC_MASTER_CMD, PIC_EOI);
}

static void guest_through_pic(void)
{
	irq_install();
	irq_check_isr = false;		/* ExtINT: not in the local APIC's ISR */
	apic_enable_xapic();
	irq_set_handler(0x20, on_pic_irq0);
	pic_init(0x20, 0x28, false);
	pic_set_imr(0xfffe);
	xapic_write(APIC_LVT0, APIC_DM_EXTINT);
	pit_program(0, 2, ticks(5));
	wait_count_hlt(&rec()->n, 4);
	/* Each was IRQ 0 (a tick may land between the last HLT and its CLI: >= 4). */
	GUEST_ASSERT_EQ(rec()->count[0x20], rec()->n);
	pic_set_imr(0xffff);
}

TEST_CASE_OPTS(counter0_through_pic, .why_not_compared = TIMING)
{
	run(ctx, guest_through_pic, 0);
}

/* ---------------------------------------------------------------- */
/* Counter 2 and port 0x61                                          */

static void guest_port61(void)
{
	uint64_t t0, end;
	uint8_t v, toggles = 0, last;
	unsigned int i;

	irq_install();
	outb(PIT_SPEAKER, 0x01);			/* gate on, speaker off */
	GUEST_ASSERT_EQ(inb(PIT_SPEAKER) & 0x03, 0x01);
	/* Linux's TSC calibration: counter 2, mode 0, poll OUT2. */
	t0 = rdtsc();
	pit_program(2, 0, 0xffff);
	v = inb(PIT_SPEAKER);
	if (rdtsc() - t0 < tsc_ticks_us(20000))
		GUEST_ASSERT_EQ(v & 0x20, 0);		/* OUT2 low before terminal count */
	end = rdtsc() + tsc_ticks_us(2000000);
	while (!(inb(PIT_SPEAKER) & 0x20))
		GUEST_ASSERT(rdtsc() < end);
	/* The counter's status agrees. */
	GUEST_ASSERT_EQ(pit_status(2) & 0xbf, 0x80 | 3u << 4);
	/* Speaker data bit round-trips (the host checks KVM_GET_PIT2's flag). */
	outb(PIT_SPEAKER, 0x03);
	GUEST_ASSERT_EQ(inb(PIT_SPEAKER) & 0x03, 0x03);
	GUEST_SYNC(1, 0);
	outb(PIT_SPEAKER, 0x00);
	GUEST_ASSERT_EQ(inb(PIT_SPEAKER) & 0x03, 0x00);
	GUEST_SYNC(0, 0);
	/* The refresh bit (4) toggles on its own. */
	last = inb(PIT_SPEAKER) & 0x10;
	for (i = 0; i < 2000 && toggles < 2; i++) {
		v = inb(PIT_SPEAKER) & 0x10;
		toggles += v != last;
		last = v;
	}
	GUEST_ASSERT(toggles >= 2);
}

TEST_CASE_OPTS(port61_speaker_dummy, .why_not_compared = TIMING)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_port61, 0);
	struct kvm_pit_state2 st;
	struct ucall uc;

	vm_create_pit2(vm, KVM_PIT_SPEAKER_DUMMY);
	irq_expect_ucall(vm->vcpus[0], UCALL_SYNC, &uc);
	vm_get_pit2(vm, &st);
	TEST_ASSERT(st.flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON, "flags 0x%x", st.flags);
	TEST_ASSERT_EQ(st.channels[2].gate, 1);
	irq_expect_ucall(vm->vcpus[0], UCALL_SYNC, &uc);
	vm_get_pit2(vm, &st);
	TEST_ASSERT(!(st.flags & KVM_PIT_FLAGS_SPEAKER_DATA_ON), "flags 0x%x", st.flags);
	TEST_ASSERT_EQ(st.channels[2].gate, 0);
	irq_expect_ucall(vm->vcpus[0], UCALL_DONE, &uc);
	irq_vm_free(vm);
}

/* Without KVM_PIT_SPEAKER_DUMMY, port 0x61 is the VMM's (QEMU's pcspk): an exit. */
static void guest_port61_user(void)
{
	GUEST_ASSERT_EQ(inb(PIT_SPEAKER), 0x20);
	outb(PIT_SPEAKER, 0x01);
	/* The counters themselves are still in the kernel: no exit for these. */
	pit_program(2, 0, 0x1000);
	GUEST_ASSERT(pit_latch_read(2) <= 0x1000);
}

TEST_CASE_OPTS(port61_in_user_space, .why_not_compared = "the counter read back is time")
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_port61_user, 0);
	struct vcpu *v = vm->vcpus[0];
	struct kvm_run *run = v->run;
	struct ucall uc;

	vm_create_pit2(vm, 0);
	vcpu_run(v);
	TEST_ASSERT(run->exit_reason == KVM_EXIT_IO && run->io.port == PIT_SPEAKER &&
		    run->io.direction == KVM_EXIT_IO_IN && run->io.size == 1,
		    "expected IN from port 0x61: %s", vcpu_exit_str(v));
	*((uint8_t *)run + run->io.data_offset) = 0x20;
	vcpu_run(v);
	TEST_ASSERT(run->exit_reason == KVM_EXIT_IO && run->io.port == PIT_SPEAKER &&
		    run->io.direction == KVM_EXIT_IO_OUT &&
		    *((uint8_t *)run + run->io.data_offset) == 0x01,
		    "expected OUT 0x01 to port 0x61: %s", vcpu_exit_str(v));
	irq_expect_ucall(v, UCALL_DONE, &uc);
	irq_vm_free(vm);
}
