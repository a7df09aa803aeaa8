// SPDX-License-Identifier: GPL-2.0
/*
 * Guests and VMMs that abuse the in-kernel interrupt controllers; the host
 * must stay clean (the runner fails a run whose kernel log shows a
 * warning, an oops, a lockup or "sleeping function called from invalid
 * context") and nothing may leak (the device's object counters --
 * yakvm's debugfs objects, KVM's per-VM debugfs directories -- and the
 * process's locked memory are back where they were):
 *
 *  - the APIC timer at its fastest: periodic with initial count 1, a
 *    one-shot re-armed with count 1 from its own handler, a TSC deadline
 *    in the past re-armed from its handler;
 *  - IPI and NMI storms between four vCPUs;
 *  - INIT sent by a vCPU to itself (an AP waits for SIPI, the BSP restarts
 *    at the reset vector);
 *  - irqfds closed, deassigned and their VM freed while a thread keeps
 *    signalling them;
 *  - VMs freed with timers armed, and processes killed while their vCPU
 *    threads are halted in the kernel with timers, irqfds and a PIT live.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "apic.h"
#include "guest.h"
#include "irqchip.h"
#include "modes.h"
#include "objects.h"

/* ioctl rules, races and lifetimes: the same on every CPU model. */
TEST_CPU_MODEL_INDEPENDENT();

#define NS_PER_MS	1000000ULL
#define TIMER_VECTOR	0x40
#define STORM		"interrupt storms: counts depend on timing"

static struct irq_record *rec(void)
{
	return &irq_rec[guest_vcpu_index()];
}

/*
 * The cases below run their VMM in a child, whose own failure would only
 * show as a status: a VM with an irqchip is made here first, so that a
 * device without one fails with the reason.
 */
static void probe_irqchip(const struct test_dev *dev)
{
	irq_vm_free(vm_create_with_irqchip(dev, 0));
}

/* Waits up to 10 s for the device's objects to be back at @start (teardown may lag an exit). */
static void wait_counters_back(const struct test_dev *dev, const struct counters *start,
			       const char *when)
{
	uint64_t deadline = now_ns() + 10000 * NS_PER_MS;
	struct counters now;
	int i;

	for (;;) {
		bool same = true;

		read_counters(dev, &now);
		for (i = 0; i < start->n; i++)
			same &= counter(&now, start->name[i]) == start->value[i];
		if (same || now_ns() > deadline)
			break;
		usleep(10000);
	}
	expect_counters_at(dev, start, when);
}

/* ---------------------------------------------------------------- */
/* The timer at its fastest                                         */

#define STORM_IRQS	1000

static volatile uint32_t rearm_mode;

/*
 * Re-arms the timer to expire at once, STORM_IRQS times (forever with
 * rearm_forever): the next interrupt comes right after the IRET, so the
 * interrupted code gets no instruction in -- it cannot be the one to stop.
 */
static volatile bool rearm_forever;

static void on_timer_rearm(struct ex_regs *regs)
{
	irq_record(regs->vector);
	if (rec()->n < STORM_IRQS || rearm_forever) {
		if (rearm_mode == 1)
			xapic_write(APIC_TMICT, 1);
		else if (rearm_mode == 2)
			wrmsr(MSR_IA32_TSC_DEADLINE, 1);
	}
	apic_eoi();
}

static void guest_timer_storm(void)
{
	uint64_t t0;

	irq_install();
	apic_enable_xapic();
	irq_set_handler(TIMER_VECTOR, on_timer_rearm);
	/*
	 * Periodic, count 1, divide 1.  KVM DEVIATION: KVM stretches periodic
	 * timers to at least 200 us (kvm.min_timer_period_us); the
	 * architecture has no minimum.  Nothing here depends on the rate.
	 */
	xapic_write(APIC_TDCR, APIC_TDCR_DIV1);
	xapic_write(APIC_LVTT, APIC_TIMER_PERIODIC | TIMER_VECTOR);
	t0 = rdtsc();
	xapic_write(APIC_TMICT, 1);
	wait_count_hlt(&rec()->n, STORM_IRQS);
	xapic_write(APIC_TMICT, 0);
	GUEST_PRINTF("periodic count 1: %u interrupts in %lu ms", STORM_IRQS,
		     (rdtsc() - t0) / guest_tsc_khz);
	/* One-shot, re-armed with count 1 by its handler: no minimum applies. */
	irq_record_clear();
	rearm_mode = 1;
	xapic_write(APIC_LVTT, APIC_TIMER_ONESHOT | TIMER_VECTOR);
	t0 = rdtsc();
	xapic_write(APIC_TMICT, 1);
	wait_count_spin(&rec()->n, STORM_IRQS);
	rearm_mode = 0;
	GUEST_PRINTF("one-shot re-armed: %u interrupts in %lu ms", STORM_IRQS,
		     (rdtsc() - t0) / guest_tsc_khz);
	/* TSC deadline in the past, re-armed by its handler. */
	irq_record_clear();
	rearm_mode = 2;
	xapic_write(APIC_LVTT, APIC_TIMER_TSCDEADLINE | TIMER_VECTOR);
	wrmsr(MSR_IA32_TSC_DEADLINE, 1);
	wait_count_spin(&rec()->n, STORM_IRQS);
	rearm_mode = 0;
	wrmsr(MSR_IA32_TSC_DEADLINE, 0);
	sti_nop_cli();
}

TEST_CASE_OPTS(timer_fastest, .timeout_s = 120, .why_not_compared = STORM)
{
	struct counters start;
	struct vm *vm;
	struct ucall uc;

	read_counters(ctx->dev, &start);
	vm = vm_irq_long_fn(ctx->dev, 1, guest_timer_storm, 0);
	vcpu_set_cpuid_bit(vm->vcpus[0], 1, 2, 24, true);
	irq_expect_ucall(vm->vcpus[0], UCALL_DONE, &uc);
	irq_vm_free(vm);
	wait_counters_back(ctx->dev, &start, "after the timer storm");
}

/*
 * A storm that never ends: the guest's own code never runs again.  A
 * signal still ends KVM_RUN, and SIGKILL the process; how long each took
 * is printed (no limit: the point is that they do end).
 */
static void guest_storm_forever(void)
{
	irq_install();
	apic_enable_xapic();
	irq_set_handler(TIMER_VECTOR, on_timer_rearm);
	rearm_forever = true;
	rearm_mode = 1;
	xapic_write(APIC_LVTT, APIC_TIMER_ONESHOT | TIMER_VECTOR);
	xapic_write(APIC_TDCR, APIC_TDCR_DIV1);
	xapic_write(APIC_TMICT, 1);
	for (;;)
		sti();
}

static void on_signal(int sig)
{
	(void)sig;
}

TEST_CASE_OPTS(endless_storm_killed, .timeout_s = 120, .why_not_compared = STORM)
{
	struct counters start;
	uint64_t t0;
	int status;
	pid_t pid;

	probe_irqchip(ctx->dev);
	read_counters(ctx->dev, &start);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (!pid) {
		struct sigaction sa = { .sa_handler = on_signal };
		struct vm *vm;
		int r;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigaction(SIGALRM, &sa, NULL);
		vm = vm_irq_long_fn(ctx->dev, 1, guest_storm_forever, 0);
		alarm(1);
		t0 = now_ns();
		r = vcpu_run_raw(vm->vcpus[0]);
		TEST_ASSERT(r == -1 && errno == EINTR, "KVM_RUN: %d (%s), expected EINTR", r,
			    strerror(errno));
		test_log("SIGALRM ended KVM_RUN after %llu ms of the storm",
			 (unsigned long long)((now_ns() - t0) / NS_PER_MS));
		TEST_ASSERT(guest_global(vm, irq_rec)[0].n > 100, "no storm");
		vcpu_run_raw(vm->vcpus[0]);	/* the storm goes on until killed */
		_exit(4);
	}
	sleep(2);
	t0 = now_ns();
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	test_log("SIGKILL ended the storming VMM after %llu ms",
		 (unsigned long long)((now_ns() - t0) / NS_PER_MS));
	TEST_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		    "child status 0x%x (exit %d)", status, WEXITSTATUS(status));
	wait_counters_back(ctx->dev, &start, "after the storming VMM was killed");
}

/* Armed timers of every kind when the VM goes away, many times over. */
static void guest_arm_and_halt(void)
{
	irq_install();
	apic_enable_xapic();
	irq_set_handler(TIMER_VECTOR, irq_count_eoi);
	xapic_write(APIC_LVTT, APIC_TIMER_PERIODIC | TIMER_VECTOR);
	xapic_write(APIC_TDCR, APIC_TDCR_DIV1);
	xapic_write(APIC_TMICT, 100000);
	wait_count_hlt(&rec()->n, 2);
	GUEST_SYNC(0, 0);
	for (;;)
		sti_hlt_cli();
}

static void guest_arm_deadline(void)
{
	irq_install();
	apic_enable_xapic();
	xapic_write(APIC_LVTT, APIC_TIMER_TSCDEADLINE | TIMER_VECTOR);
	wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + tsc_ticks_us(500000));
	GUEST_SYNC(0, 0);
}

TEST_CASE_OPTS(free_with_timers_armed, .timeout_s = 120, .why_not_compared = STORM)
{
	struct counters start;
	struct ucall uc;
	int i;

	read_counters(ctx->dev, &start);
	for (i = 0; i < 10; i++) {
		struct vm *vm = vm_irq_long_fn(ctx->dev, 2, i % 2 ? guest_arm_deadline :
					       guest_arm_and_halt, 0);

		if (i % 2)
			vcpu_set_cpuid_bit(vm->vcpus[0], 1, 2, 24, true);
		vm_create_pit2(vm, KVM_PIT_SPEAKER_DUMMY);
		irq_expect_ucall(vm->vcpus[0], UCALL_SYNC, &uc);
		irq_vm_free(vm);
	}
	wait_counters_back(ctx->dev, &start, "after freeing VMs with armed timers");
}

/* ---------------------------------------------------------------- */
/* IPI and NMI storms                                               */

#define NV		4
#define STORM_IPIS	1500
static volatile uint32_t senders_done;

static void on_nmi(struct ex_regs *regs)
{
	irq_record(regs->vector);
}

static void guest_ipi_storm(void)
{
	unsigned int me = guest_vcpu_index(), i, v;
	uint32_t total = 0;

	irq_install();
	apic_enable_xapic();
	for (v = 0x50; v < 0x58; v++)
		irq_set_handler(v, irq_count_eoi);
	guest_set_handler(2, on_nmi);
	sti();
	for (i = 0; i < STORM_IPIS; i++) {
		switch (i % 4) {
		case 0:
			apic_send_ipi(0, APIC_DEST_ALLBUT | (0x50 + me));
			break;
		case 1:
			apic_send_ipi((me + 1) % NV, 0x54 + me);
			break;
		case 2:
			apic_send_ipi(0, APIC_DEST_ALLINC | 0x57);
			break;
		default:
			apic_send_ipi((me + 2) % NV, APIC_DM_NMI);
			break;
		}
	}
	__atomic_add_fetch(&senders_done, 1, __ATOMIC_SEQ_CST);
	while (senders_done != NV)
		cpu_relax();
	cli();
	for (v = 0; v < NR_VECTORS; v++)
		total += rec()->count[v];
	/* Coalescing makes the exact count timing's; some of each kind arrived. */
	GUEST_ASSERT(total > 0);
	GUEST_ASSERT(rec()->count[0x57] > 0);
	GUEST_ASSERT(rec()->count[2] > 0);
	GUEST_ASSERT(rec()->count[0x54 + (me + NV - 1) % NV] > 0);
	GUEST_ASSERT(total <= 4 * STORM_IPIS);
	/* The NMI handler stays: another vCPU's last NMI may still be on its way. */
}

TEST_CASE_OPTS(ipi_and_nmi_storm, .timeout_s = 120, .why_not_compared = STORM)
{
	struct counters start;
	struct vm *vm;

	read_counters(ctx->dev, &start);
	vm = vm_irq_long_fn(ctx->dev, NV, guest_ipi_storm, 0);
	vm_run_all(vm, 100);
	irq_vm_free(vm);
	wait_counters_back(ctx->dev, &start, "after the IPI storm");
}

/* ---------------------------------------------------------------- */
/* INIT to itself                                                   */

/* What the AP runs after its SIPI: a ucall DONE in real mode. */
GUEST_CODE16(after_sipi, "movl $0x5a5a, (0x4000)\n" ASM_UCALL_DONE);

static volatile uint32_t ap_sent_init;

static void guest_init_self(void)
{
	volatile uint32_t *marker = (volatile uint32_t *)0x4000;
	int i;

	if (guest_vcpu_index()) {
		apic_enable_xapic();
		ap_sent_init = 1;
		apic_send_ipi(1, APIC_INT_LEVELTRIG | APIC_INT_ASSERT | APIC_DM_INIT);
		GUEST_ASSERT(0);	/* never reached: INIT took effect */
	}
	apic_enable_xapic();
	while (!ap_sent_init)
		cpu_relax();
	/*
	 * The AP's INIT may take effect after a SIPI sent now, which would then
	 * be ignored: SIPIs until it started (the ones after are ignored).
	 */
	for (i = 0; i < 1000 && *marker != 0x5a5a; i++) {
		apic_send_ipi(1, APIC_DM_STARTUP | 0x08);
		tsc_delay_us(10000);
	}
	GUEST_ASSERT_EQ(*marker, 0x5a5a);
}

TEST_CASE_OPTS(init_to_itself_ap, .why_not_compared = "the AP runs on a thread")
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 2, guest_init_self, 0);
	struct vcpu_thread t;
	struct ucall uc;

	guest_write(vm, 0x8000, after_sipi.start, after_sipi.end - after_sipi.start);
	vcpu_thread_start(&t, vm->vcpus[1]);
	irq_expect_ucall(vm->vcpus[0], UCALL_DONE, &uc);
	vcpu_thread_join(&t, 30);
	TEST_ASSERT_EQ(*(uint32_t *)gpa_to_hva(vm, 0x4000), 0x5a5a);
	irq_vm_free(vm);
}

/* The BSP's INIT to itself: it restarts at the reset vector, 0xfffffff0. */
GUEST_CODE16(reset_vector_page,
	"movl $0xa5a5, (0x4000)\n"
	ASM_UCALL_DONE);

static void guest_bsp_init_self(void)
{
	apic_enable_xapic();
	apic_send_ipi(0, APIC_INT_LEVELTRIG | APIC_INT_ASSERT | APIC_DM_INIT);
	GUEST_ASSERT(0);
}

TEST_CASE(init_to_itself_bsp)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_bsp_init_self, 0);
	struct vcpu *v = vm->vcpus[0];
	uint8_t *top = vm_add_memory(vm, 1, 0xfffff000ULL, 0x1000, 0);
	size_t len = reset_vector_page.end - reset_vector_page.start;
	struct kvm_sregs sregs;
	struct ucall uc;

	/* The code at 0xfffff000 and a near JMP to it at the reset vector 0xfffffff0. */
	memcpy(top, reset_vector_page.start, len);
	top[0xff0] = 0xe9;				/* jmp rel16 */
	*(uint16_t *)&top[0xff1] = (uint16_t)(0xf000 - 0xfff3);
	TEST_ASSERT_EQ(vcpu_run_to_ucall_retry(v, &uc), UCALL_DONE);
	TEST_ASSERT_EQ(*(uint32_t *)gpa_to_hva(vm, 0x4000), 0xa5a5);
	vcpu_get_sregs(v, &sregs);
	TEST_ASSERT_EQ(sregs.cs.selector, 0xf000);
	TEST_ASSERT_EQ(sregs.cs.base, 0xffff0000);
	TEST_ASSERT_EQ(sregs.cr0 & 1, 0);		/* real mode */
	TEST_ASSERT_EQ(vcpu_get_mp_state(v), KVM_MP_STATE_RUNNABLE);
	irq_vm_free(vm);
}

/* ---------------------------------------------------------------- */
/* irqfds going away under load                                     */

#define IRQFD_GSI	40
#define IRQFD_VECTOR	0x60
static volatile uint32_t irqfd_stop;

static void guest_irqfd_sink(void)
{
	irq_install();
	apic_enable_xapic();
	irq_set_handler(IRQFD_VECTOR, irq_count_eoi);
	irq_set_handler(0x61, irq_count_eoi);
	while (!irqfd_stop)
		sti_hlt_cli();
}

/* Signals its eventfd until told to stop, then closes it at once itself. */
struct hammer {
	int fd;
	volatile bool stop;
	volatile unsigned long writes;
	pthread_t tid;
};

static void *hammer_fn(void *arg)
{
	struct hammer *h = arg;
	uint64_t one = 1;

	while (!h->stop)
		if (write(h->fd, &one, sizeof(one)) == sizeof(one))
			h->writes++;
	close(h->fd);			/* right after the last write's injection began */
	return NULL;
}

static void hammer_start(struct hammer *h)
{
	h->fd = new_eventfd();
	h->stop = false;
	h->writes = 0;
	TEST_ASSERT(!pthread_create(&h->tid, NULL, hammer_fn, h), "pthread_create");
}

/* Waits until the hammer has signalled (it may start late on a busy host). */
static void hammer_wait(struct hammer *h)
{
	uint64_t deadline = now_ns() + 10000 * NS_PER_MS;

	while (!h->writes) {
		TEST_ASSERT(now_ns() < deadline, "the signalling thread never ran");
		usleep(1000);
	}
}

static void hammer_stop(struct hammer *h)
{
	h->stop = true;
	pthread_join(h->tid, NULL);
}

static void irqfd_assign(struct vm *vm, int fd, uint32_t flags)
{
	struct kvm_irqfd a = { .fd = (uint32_t)fd, .gsi = IRQFD_GSI, .flags = flags };

	if (ioctl(vm->fd, KVM_IRQFD, &a))
		test_fail("KVM_IRQFD flags 0x%x: %s", flags, strerror(errno));
}

TEST_CASE_OPTS(irqfd_gone_in_flight, .timeout_s = 120, .why_not_compared = STORM)
{
	struct kvm_irq_routing_entry e[64];
	struct vcpu_thread t[2];
	struct counters start;
	struct hammer h;
	struct vm *vm;
	int n, round, i;

	read_counters(ctx->dev, &start);
	vm = vm_irq_long_fn(ctx->dev, 2, guest_irqfd_sink, 0);
	n = default_routes(e);
	e[n] = route_msi(IRQFD_GSI, MSI_ADDR(0xff), IRQFD_VECTOR);	/* both vCPUs */
	vm_set_gsi_routing(vm, e, n + 1);
	for (i = 0; i < 2; i++)
		vcpu_thread_start(&t[i], vm->vcpus[i]);
	for (round = 0; round < 15; round++) {
		hammer_start(&h);
		irqfd_assign(vm, h.fd, 0);
		hammer_wait(&h);
		usleep(2000);
		switch (round % 3) {
		case 0:		/* deassigned while signalled */
			irqfd_assign(vm, h.fd, KVM_IRQFD_FLAG_DEASSIGN);
			hammer_stop(&h);
			break;
		case 1:		/* its eventfd closed right after a signal, never deassigned */
			hammer_stop(&h);
			break;
		default:	/* the route changed under it, then deassigned */
			e[n] = route_msi(IRQFD_GSI, MSI_ADDR(1), IRQFD_VECTOR);
			vm_set_gsi_routing(vm, e, n + 1);
			irqfd_assign(vm, h.fd, KVM_IRQFD_FLAG_DEASSIGN);
			e[n] = route_msi(IRQFD_GSI, MSI_ADDR(0xff), IRQFD_VECTOR);
			vm_set_gsi_routing(vm, e, n + 1);
			hammer_stop(&h);
			break;
		}
	}
	/* One more left assigned and signalled while the VM goes away. */
	hammer_start(&h);
	irqfd_assign(vm, h.fd, 0);
	hammer_wait(&h);
	guest_global(vm, irqfd_stop) = 1;
	TEST_ASSERT_EQ(vm_signal_msi_raw(vm, MSI_ADDR(0xff), 0x61), 2);
	for (i = 0; i < 2; i++)
		vcpu_thread_join(&t[i], 30);
	irq_vm_free(vm);
	hammer_stop(&h);
	wait_counters_back(ctx->dev, &start, "after the irqfds and their VM went");
}

/* ---------------------------------------------------------------- */
/* Killed while halted in the kernel                                */

static void guest_halt_forever(void)
{
	irq_install();
	apic_enable_xapic();
	irq_set_handler(TIMER_VECTOR, irq_count_eoi);
	irq_set_handler(0x60, irq_count_eoi);
	if (guest_vcpu_index() == 0) {
		/* A periodic timer waking it every 100 us, a deadline a minute away. */
		xapic_write(APIC_TDCR, APIC_TDCR_DIV1);
		xapic_write(APIC_LVTT, APIC_TIMER_PERIODIC | TIMER_VECTOR);
		xapic_write(APIC_TMICT, 100000);
		for (;;)
			sti_hlt_cli();
	}
	if (guest_vcpu_index() == 1) {
		xapic_write(APIC_LVTT, APIC_TIMER_TSCDEADLINE | TIMER_VECTOR);
		wrmsr(MSR_IA32_TSC_DEADLINE, rdtsc() + tsc_ticks_us(60000000));
		for (;;)
			sti_hlt_cli();
	}
	for (;;)
		__asm__ volatile("cli; hlt");
}

static void child_vm(const struct test_dev *dev, int ready_fd)
{
	struct kvm_irq_routing_entry e[64];
	struct vcpu_thread t[3];
	struct vm *vm;
	int n, fd, i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	vm = vm_irq_long_fn(dev, 3, guest_halt_forever, 0);
	vcpu_set_cpuid_bit(vm->vcpus[1], 1, 2, 24, true);
	vm_create_pit2(vm, KVM_PIT_SPEAKER_DUMMY);
	n = default_routes(e);
	e[n] = route_msi(IRQFD_GSI, MSI_ADDR(0xff), 0x60);
	vm_set_gsi_routing(vm, e, n + 1);
	fd = new_eventfd();
	irqfd_assign(vm, fd, 0);
	for (i = 0; i < 3; i++)
		vcpu_thread_start(&t[i], vm->vcpus[i]);
	usleep(200000);
	eventfd_signal(fd);
	if (write(ready_fd, "r", 1) != 1)
		_exit(3);
	for (;;)
		pause();
}

TEST_CASE_OPTS(killed_while_halted, .timeout_s = 120,
	       .why_not_compared = "the guests run in a child that is killed")
{
	struct counters start;
	int round;

	probe_irqchip(ctx->dev);
	read_counters(ctx->dev, &start);
	for (round = 0; round < 3; round++) {
		int p[2], status;
		char c;
		pid_t pid;

		TEST_ASSERT(!pipe(p), "pipe");
		pid = fork();
		TEST_ASSERT(pid >= 0, "fork");
		if (!pid) {
			close(p[0]);
			child_vm(ctx->dev, p[1]);
		}
		close(p[1]);
		TEST_ASSERT(read(p[0], &c, 1) == 1, "the child VMM died before it was ready");
		close(p[0]);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		TEST_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
			    "child status 0x%x", status);
		wait_counters_back(ctx->dev, &start, "after the VMM was killed");
	}
}
