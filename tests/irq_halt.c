// SPDX-License-Identifier: GPL-2.0
/*
 * HLT with the irqchip in the kernel: the vCPU sleeps in KVM_RUN -- no
 * KVM_EXIT_HLT, no spinning -- until its APIC timer (one-shot, periodic,
 * TSC-deadline), an interrupt from the host or an NMI wakes it; a
 * maskable interrupt does not wake it while IF = 0, an NMI does.
 *
 * "Uses no CPU" is measured, not timed: the vCPU thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID / pthread_getcpuclockid) over a halted stretch
 * must stay below half of the wall time that passed (a spinning thread
 * would use all of it); both are printed as # lines.  The exits are
 * counted: each halted stretch is one KVM_RUN that ends only in the
 * guest's next ucall.
 */
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "apic.h"
#include "guest.h"
#include "irqchip.h"
#include "modes.h"

#define TIMER_VECTOR	0x40
#define NS_PER_MS	1000000ULL
#define HALT_MS		200
#define TIMING		"timer interrupts land at times that depend on the host's load"

static struct irq_record *rec(void)
{
	return &irq_rec[guest_vcpu_index()];
}

static uint64_t self_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void setup(void)
{
	irq_install();
	apic_enable_xapic();
	irq_set_handler(TIMER_VECTOR, irq_count_eoi);
}

/* Timer counts per ms at divide 1, against the TSC. */
static uint64_t timer_rate(void)
{
	uint64_t t0, t1;
	uint32_t c0, c1;

	xapic_write(APIC_LVTT, APIC_LVT_MASKED | TIMER_VECTOR);
	xapic_write(APIC_TDCR, APIC_TDCR_DIV1);
	xapic_write(APIC_TMICT, 0xffffffff);
	t0 = rdtsc();
	c0 = xapic_read(APIC_TMCCT);
	tsc_delay_us(2000);
	c1 = xapic_read(APIC_TMCCT);
	t1 = rdtsc();
	xapic_write(APIC_TMICT, 0);
	return (uint64_t)(c0 - c1) * guest_tsc_khz / (t1 - t0);
}

/*
 * Runs @v from its SYNC to the next ucall, which must be the very next
 * exit; returns that ucall's type and prints/checks the CPU use.
 */
static uint64_t run_halted(struct vcpu *v, const char *what)
{
	uint64_t wall = now_ns(), cpu = self_cpu_ns();
	struct ucall uc;
	uint64_t type;

	vcpu_run(v);
	wall = now_ns() - wall;
	cpu = self_cpu_ns() - cpu;
	type = vcpu_get_ucall(v, &uc);
	if (type == UCALL_NONE)
		test_fail("%s: the halted vCPU exited to user space: %s", what, vcpu_exit_str(v));
	if (type == UCALL_ASSERT)
		test_fail("guest assertion: %s", uc.message);
	test_log("%s: %llu ms wall, %llu ms of the vCPU thread's CPU time", what,
		 (unsigned long long)(wall / NS_PER_MS), (unsigned long long)(cpu / NS_PER_MS));
	/*
	 * No limit on the wall time (the guest's own calibration of its timer
	 * moves with the host's load; the guest checks that it woke only when
	 * the timer ran out).  A halted vCPU's thread sleeps: under load it
	 * gets less CPU time, never more, so this ratio holds on any machine.
	 */
	TEST_ASSERT(cpu < wall / 2, "%s: the thread used %llu of %llu ms while halted", what,
		    (unsigned long long)(cpu / NS_PER_MS), (unsigned long long)(wall / NS_PER_MS));
	return type;
}

/* ---------------------------------------------------------------- */

static void guest_oneshot(void)
{
	uint64_t per_ms;

	setup();
	per_ms = timer_rate();
	GUEST_ASSERT(per_ms * HALT_MS < 0xffffffffULL);
	xapic_write(APIC_LVTT, APIC_TIMER_ONESHOT | TIMER_VECTOR);
	GUEST_SYNC(0, 0);
	xapic_write(APIC_TMICT, (uint32_t)(per_ms * HALT_MS));
	sti_hlt_cli();
	/* Woken by the timer, and only when it ran out. */
	GUEST_ASSERT_EQ(rec()->count[TIMER_VECTOR], 1);
	GUEST_ASSERT_EQ(xapic_read(APIC_TMCCT), 0);
}

TEST_CASE_OPTS(oneshot_wakes, .why_not_compared = TIMING)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_oneshot, 0);
	struct ucall uc;

	vcpu_run_expect_ucall(vm->vcpus[0], UCALL_SYNC, &uc);
	/* Arming (xAPIC MMIO), HLT, the wake-up, the checks: all in the kernel. */
	TEST_ASSERT_EQ(run_halted(vm->vcpus[0], "one-shot"), UCALL_DONE);
	irq_vm_free(vm);
}

static void guest_tsc_deadline(void)
{
	uint64_t deadline;

	setup();
	xapic_write(APIC_LVTT, APIC_TIMER_TSCDEADLINE | TIMER_VECTOR);
	GUEST_SYNC(0, 0);
	deadline = rdtsc() + tsc_ticks_us(HALT_MS * 1000);
	wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
	sti_hlt_cli();
	GUEST_ASSERT_EQ(rec()->count[TIMER_VECTOR], 1);
	GUEST_ASSERT(rdtsc() >= deadline);
}

TEST_CASE_OPTS(tsc_deadline_wakes, .why_not_compared = TIMING)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_tsc_deadline, 0);
	struct ucall uc;

	vcpu_set_cpuid_bit(vm->vcpus[0], 1, 2, 24, true);
	vcpu_run_expect_ucall(vm->vcpus[0], UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(run_halted(vm->vcpus[0], "TSC deadline"), UCALL_DONE);
	irq_vm_free(vm);
}

/* A periodic timer keeps waking the vCPU; the thread sleeps in between. */
static void guest_periodic(void)
{
	uint64_t per_ms;

	setup();
	per_ms = timer_rate();
	xapic_write(APIC_LVTT, APIC_TIMER_PERIODIC | TIMER_VECTOR);
	xapic_write(APIC_TMICT, (uint32_t)(per_ms * HALT_MS / 10));
	GUEST_SYNC(0, 0);
	wait_count_hlt(&rec()->count[TIMER_VECTOR], 11);
	GUEST_SYNC(1, 0);
	xapic_write(APIC_TMICT, 0);
}

TEST_CASE_OPTS(periodic_wakes, .why_not_compared = TIMING)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_periodic, 0);
	struct ucall uc;

	vcpu_run_expect_ucall(vm->vcpus[0], UCALL_SYNC, &uc);
	/* Ten periods and more, every wake-up handled in the kernel (EOI included). */
	TEST_ASSERT_EQ(run_halted(vm->vcpus[0], "periodic, 10+ wake-ups"), UCALL_SYNC);
	vcpu_run_expect_ucall(vm->vcpus[0], UCALL_DONE, &uc);
	irq_vm_free(vm);
}

/*
 * The host wakes a halted vCPU from another thread; meanwhile the halted
 * thread's CPU clock stands still.  With IF = 0 a fixed interrupt does
 * not wake it, an NMI does, and the fixed one is taken after STI.
 */
static void guest_cli_hlt(void)
{
	setup();
	irq_set_handler(0x50, irq_count_eoi);
	guest_set_handler(2, irq_count_only);
	__asm__ volatile("cli; hlt" : : : "memory");
	GUEST_ASSERT_EQ(rec()->count[2], 1);
	GUEST_ASSERT_EQ(rec()->count[0x50], 0);
	__asm__ volatile("sti; nop; cli" : : : "memory");
	GUEST_ASSERT_EQ(rec()->count[0x50], 1);
	guest_set_handler(2, NULL);
}

TEST_CASE_OPTS(host_wakes_halted, .why_not_compared = "the vCPU runs on a thread")
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_cli_hlt, 0);
	struct vcpu_thread t;
	uint64_t cpu0, wall0, cpu, wall;

	vcpu_thread_start(&t, vm->vcpus[0]);
	usleep(50000);				/* (only so that it is halted by now, mostly) */
	cpu0 = thread_cpu_ns(t.tid);
	wall0 = now_ns();
	usleep(HALT_MS * 1000);
	TEST_ASSERT(vm_signal_msi_raw(vm, MSI_ADDR(0), 0x50) == 1, "fixed MSI not delivered");
	usleep(100000);
	TEST_ASSERT(!t.done, "a fixed interrupt woke a vCPU halted with IF = 0");
	cpu = thread_cpu_ns(t.tid) - cpu0;
	wall = now_ns() - wall0;
	test_log("halted (cli; hlt): %llu ms wall, %llu ms of the vCPU thread's CPU time",
		 (unsigned long long)(wall / NS_PER_MS), (unsigned long long)(cpu / NS_PER_MS));
	TEST_ASSERT(cpu < wall / 2, "the halted vCPU's thread used %llu of %llu ms",
		    (unsigned long long)(cpu / NS_PER_MS), (unsigned long long)(wall / NS_PER_MS));
	TEST_ASSERT(vm_signal_msi_raw(vm, MSI_ADDR(0), APIC_DM_NMI) == 1, "NMI not delivered");
	vcpu_thread_join(&t, 30);
	TEST_ASSERT_EQ(t.exits, 1);		/* DONE, nothing before it */
	irq_vm_free(vm);
}

/* The same with STI; HLT, woken by KVM_IRQ_LINE through the IOAPIC. */
static void guest_sti_hlt(void)
{
	setup();
	irq_set_handler(0x51, irq_count_eoi);
	ioapic_write_redir(16, IOAPIC_DEST(0) | 0x51);
	GUEST_SYNC(0, 0);
	sti_hlt_cli();
	GUEST_ASSERT_EQ(rec()->count[0x51], 1);
}

TEST_CASE_OPTS(irq_line_wakes_halted, .why_not_compared = "the vCPU runs on a thread")
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_sti_hlt, 0);
	struct vcpu_thread t;
	struct ucall uc;
	uint64_t cpu0, wall0, cpu, wall;

	vcpu_run_expect_ucall(vm->vcpus[0], UCALL_SYNC, &uc);
	vcpu_thread_start(&t, vm->vcpus[0]);
	usleep(50000);
	cpu0 = thread_cpu_ns(t.tid);
	wall0 = now_ns();
	usleep(HALT_MS * 1000);
	TEST_ASSERT(!t.done, "the vCPU did not stay halted");
	cpu = thread_cpu_ns(t.tid) - cpu0;
	wall = now_ns() - wall0;
	test_log("halted (sti; hlt): %llu ms wall, %llu ms of the vCPU thread's CPU time",
		 (unsigned long long)(wall / NS_PER_MS), (unsigned long long)(cpu / NS_PER_MS));
	TEST_ASSERT(cpu < wall / 2, "the halted vCPU's thread used %llu of %llu ms",
		    (unsigned long long)(cpu / NS_PER_MS), (unsigned long long)(wall / NS_PER_MS));
	TEST_ASSERT(vm_irq_line(vm, 16, 1) > 0, "GSI 16 not delivered");
	vm_irq_line(vm, 16, 0);
	vcpu_thread_join(&t, 30);
	TEST_ASSERT_EQ(t.exits, 1);
	irq_vm_free(vm);
}
