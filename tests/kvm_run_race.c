// SPDX-License-Identifier: GPL-2.0
/*
 * The kvm_run page is shared with user space: any thread of the VMM may
 * write any field at any time, also while KVM_RUN reads it.  A field the
 * module reads twice (checked, then used) can change in between -- the
 * class of bug that made CVE-2021-29657.  Here a second thread, on the other
 * CPU, flips one user-writable field as fast as it can while the vCPU makes
 * thousands of exits, and the case checks that the guest and the module
 * only ever saw values that were really there:
 *
 *   cr8                      never a TPR above 15: on yakvm the VMCB's
 *                            int_ctl keeps only V_TPR and V_INTR_MASKING
 *                            (read back through debugfs), and the guest
 *                            takes no interrupt nobody gave it
 *   immediate_exit           every exit is seen once, in order
 *   request_interrupt_window the virtual interrupt yakvm uses to find the
 *                            window is always paired with its intercept,
 *                            so it never reaches the guest
 *   PIO data page, mmio.data an IN or an MMIO load gets bytes that were
 *                            written there (a copy may tear between the
 *                            two values: neither device promises more)
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "guest.h"
#include "modes.h"
#include "yakvm_debugfs.h"


#define EXITS		20000
#define PORT		0x510
#define VALUE_A		0x1111111111111111ULL
#define VALUE_B		0x2222222222222222ULL
/* Both devices put the PIO data in the mmap's second page (KVM_PIO_PAGE_OFFSET). */
#define PIO_DATA_OFFSET	4096

/* int_ctl bits (APM 15.15, VMCB offset 0x60). */
#define V_TPR_MASK		0x0fULL
#define V_IRQ			(1ULL << 8)
#define V_INTR_PRIO_MASK	(0xfULL << 16)
#define V_IGN_TPR		(1ULL << 20)
#define V_INTR_MASKING		(1ULL << 24)
#define INTERCEPT_VINTR_BIT	(1ULL << 4)	/* intercepts word 3 */

/* A TPR that is not one: V_IRQ | V_IGN_TPR if it ever reached int_ctl. */
#define BAD_CR8			0x0010010fULL

enum field { F_CR8, F_IMMEDIATE_EXIT, F_IRQ_WINDOW, F_PIO_DATA, F_MMIO_DATA };

struct racer {
	struct vcpu *v;
	enum field field;
	atomic_bool stop;
	pthread_t thread;
};

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	/* A one-CPU machine still races, only less often. */
	sched_setaffinity(0, sizeof(set), &set);
}

static void *race(void *arg)
{
	struct racer *r = arg;
	struct kvm_run *run = r->v->run;
	volatile uint8_t *pio = (uint8_t *)run + PIO_DATA_OFFSET;
	unsigned long n = 0;

	pin_to_cpu(1);
	while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		bool odd = n++ & 1;

		switch (r->field) {
		case F_CR8:
			__atomic_store_n(&run->cr8, odd ? BAD_CR8 : 0,
					 __ATOMIC_RELAXED);
			break;
		case F_IMMEDIATE_EXIT:
			__atomic_store_n(&run->immediate_exit, odd,
					 __ATOMIC_RELAXED);
			break;
		case F_IRQ_WINDOW:
			__atomic_store_n(&run->request_interrupt_window, odd,
					 __ATOMIC_RELAXED);
			break;
		case F_PIO_DATA:
			*(volatile uint32_t *)pio = (uint32_t)(odd ? VALUE_B : VALUE_A);
			break;
		case F_MMIO_DATA:
			__atomic_store_n((uint64_t *)(void *)run->mmio.data,
					 odd ? VALUE_B : VALUE_A, __ATOMIC_RELAXED);
			break;
		}
	}
	return NULL;
}

static void racer_start(struct racer *r, struct vcpu *v, enum field field)
{
	r->v = v;
	r->field = field;
	atomic_init(&r->stop, false);
	TEST_ASSERT(!pthread_create(&r->thread, NULL, race, r), "pthread_create");
}

static void racer_stop(struct racer *r, struct vcpu *v)
{
	atomic_store(&r->stop, true);
	pthread_join(r->thread, NULL);
	v->run->cr8 = 0;
	v->run->immediate_exit = 0;
	v->run->request_interrupt_window = 0;
}

/* ---------------------------------------------------------------- */
/* The guests                                                       */

static void guest_out_loop(uint64_t irqs_on)
{
	uint32_t i;

	if (irqs_on)
		__asm__ volatile("sti");
	for (i = 0; i < EXITS; i++) {
		uint64_t cr8;

		__asm__ volatile("outl %0, %1" : : "a"(i), "Nd"(PORT));
		__asm__ volatile("mov %%cr8, %0" : "=r"(cr8));
		GUEST_ASSERT(cr8 <= 15);
	}
	__asm__ volatile("cli");
}

/* Each byte is one of VALUE_A's or VALUE_B's: the data came from the page. */
static bool bytes_written(uint64_t v, int size)
{
	int i;

	for (i = 0; i < size; i++, v >>= 8)
		if ((v & 0xff) != (VALUE_A & 0xff) && (v & 0xff) != (VALUE_B & 0xff))
			return false;
	return true;
}

static void guest_in_loop(void)
{
	uint32_t i, v;

	for (i = 0; i < EXITS; i++) {
		__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(PORT));
		GUEST_ASSERT(bytes_written(v, 4));
	}
}

static void guest_mmio_loop(void)
{
	volatile uint64_t *mmio = (volatile uint64_t *)MMIO_GPA;
	uint64_t v;
	uint32_t i;

	for (i = 0; i < EXITS; i++) {
		v = *mmio;
		GUEST_ASSERT(bytes_written(v, 8));
	}
}

/* ---------------------------------------------------------------- */
/* The host loops                                                   */

/* yakvm: int_ctl may hold V_TPR and V_INTR_MASKING, and the window bits only with their intercept. */
static void check_int_ctl(struct vcpu *v, uint64_t exits)
{
	uint64_t int_ctl, vintr;

	if (!v->vm->is_yakvm || exits % 16)
		return;
	int_ctl = vcpu_vmcb_field(v, "int_ctl");
	vintr = vcpu_vmcb_field(v, "intercepts3") & INTERCEPT_VINTR_BIT;
	if (vintr)
		int_ctl &= ~(V_IRQ | V_INTR_PRIO_MASK | V_IGN_TPR);
	TEST_ASSERT(!(int_ctl & ~(V_TPR_MASK | V_INTR_MASKING)),
		    "after %llu exits the VMCB's int_ctl is 0x%llx (VINTR intercept %s): bits from kvm_run reached it",
		    (unsigned long long)exits, (unsigned long long)int_ctl,
		    vintr ? "on" : "off");
}

/*
 * Runs the vCPU until the guest is done while the racer flips @field.
 * KVM_RUN may refuse (cr8 > 15: EINVAL) or stop early (immediate_exit:
 * EINTR); every other return must be an exit the guest really made.
 */
static void run_racing(struct vcpu *v, enum field field)
{
	struct kvm_run *run = v->run;
	uint8_t *pio = (uint8_t *)run + PIO_DATA_OFFSET;
	uint64_t exits = 0, refused = 0, interrupted = 0, windows = 0;
	uint32_t next_out = 0;
	struct racer r;
	struct ucall uc;

	pin_to_cpu(0);
	racer_start(&r, v, field);
	for (;;) {
		if (vcpu_run_raw(v)) {
			if (errno == EINVAL && field == F_CR8) {
				refused++;
				continue;
			}
			if (errno == EINTR && field == F_IMMEDIATE_EXIT) {
				interrupted++;
				continue;
			}
			racer_stop(&r, v);
			test_fail("KVM_RUN: %s after %llu exits", strerror(errno),
				  (unsigned long long)exits);
		}
		exits++;
		check_int_ctl(v, exits);
		if (run->exit_reason == KVM_EXIT_IRQ_WINDOW_OPEN) {
			windows++;
			continue;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == PORT) {
			TEST_ASSERT_EQ(run->io.data_offset, PIO_DATA_OFFSET);
			if (run->io.direction == KVM_EXIT_IO_OUT) {
				uint32_t got;

				memcpy(&got, pio, sizeof(got));
				/* The racer never writes the page in these cases. */
				if (field != F_PIO_DATA)
					TEST_ASSERT(got == next_out,
						    "OUT %u seen where %u was next",
						    got, next_out);
				next_out++;
			} else {
				memcpy(pio, &(uint32_t){ (uint32_t)VALUE_A }, 4);
			}
			continue;
		}
		if (run->exit_reason == KVM_EXIT_MMIO && !run->mmio.is_write) {
			uint64_t a = VALUE_A;

			memcpy(run->mmio.data, &a, sizeof(a));
			continue;
		}
		racer_stop(&r, v);
		if (vcpu_get_ucall(v, &uc) == UCALL_DONE)
			break;
		if (uc.type == UCALL_ASSERT)
			test_fail("guest assertion after %llu exits: %s",
				  (unsigned long long)exits, uc.message);
		test_fail("unexpected %s", vcpu_exit_str(v));
	}
	test_log("%llu exits, %llu KVM_RUNs refused (cr8 > 15), %llu stopped by immediate_exit, %llu window exits",
		 (unsigned long long)exits, (unsigned long long)refused,
		 (unsigned long long)interrupted, (unsigned long long)windows);
	if (field != F_PIO_DATA && field != F_MMIO_DATA)
		TEST_ASSERT_EQ(next_out, EXITS);
}

#define RACE_CASE(name, field, fn, arg)					\
	TEST_CASE_OPTS(name, .timeout_s = 300,				\
		       .why_not_compared = "how often KVM_RUN is refused or interrupted depends on the racing thread") \
	{								\
		struct vcpu *v = vm_with_long_code(ctx->dev, fn, arg);	\
									\
		run_racing(v, field);					\
		vm_free(v->vm);						\
	}

RACE_CASE(cr8, F_CR8, guest_out_loop, 1)
RACE_CASE(immediate_exit, F_IMMEDIATE_EXIT, guest_out_loop, 0)
RACE_CASE(request_interrupt_window, F_IRQ_WINDOW, guest_out_loop, 1)
RACE_CASE(pio_data, F_PIO_DATA, guest_in_loop, 0)
RACE_CASE(mmio_data, F_MMIO_DATA, guest_mmio_loop, 0)
