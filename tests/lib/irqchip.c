// SPDX-License-Identifier: GPL-2.0
/*
 * Host side of the interrupt-controller tests (see irqchip.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "irqchip.h"
#include "modes.h"
#include "trace.h"

#define MAX_CPUID_ENTRIES	256
#define NS_PER_S		1000000000ULL

void vm_create_irqchip(struct vm *vm)
{
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0))
		test_fail("KVM_CREATE_IRQCHIP on %s: %s", vm->dev_path, strerror(errno));
}

struct vm *vm_create_with_irqchip(const struct test_dev *dev, uint64_t mem_size)
{
	struct vm *vm = vm_create(dev, 0);

	vm_create_irqchip(vm);
	if (mem_size)
		vm_add_memory(vm, 0, 0, mem_size, 0);
	return vm;
}

void vm_create_pit2(struct vm *vm, uint32_t flags)
{
	struct kvm_pit_config cfg = { .flags = flags };

	if (ioctl(vm->fd, KVM_CREATE_PIT2, &cfg))
		test_fail("KVM_CREATE_PIT2 (flags %u): %s", flags, strerror(errno));
}

/* What a VMM gives each vCPU: its APIC ID in CPUID.1:EBX[31:24] (QEMU does). */
void vcpu_set_cpuid_apic_id(struct vcpu *v)
{
	size_t size = sizeof(struct kvm_cpuid2) +
		      MAX_CPUID_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = calloc(1, size);
	uint32_t i;

	TEST_ASSERT(c, "out of memory");
	c->nent = MAX_CPUID_ENTRIES;
	if (ioctl(v->fd, KVM_GET_CPUID2, c))
		test_fail("KVM_GET_CPUID2: %s", strerror(errno));
	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == 1)
			c->entries[i].ebx = (c->entries[i].ebx & 0x00ffffff) | v->id << 24;
	if (ioctl(v->fd, KVM_SET_CPUID2, c))
		test_fail("KVM_SET_CPUID2: %s", strerror(errno));
	free(c);
}

struct vm *vm_irq_long(const struct test_dev *dev, int nr, uint64_t fn, uint64_t arg)
{
	struct vm *vm = vm_create_with_irqchip(dev, LONG_MODE_MEM_SIZE);
	int i;

	for (i = 0; i < nr; i++) {
		struct vcpu *v = vcpu_add(vm, i);

		vcpu_set_cpuid_apic_id(v);
		vcpu_enter_long_at(v, fn, arg);
		if (i)
			vcpu_set_mp_state(v, KVM_MP_STATE_RUNNABLE);
	}
	vm_set_guest_tsc_khz(vm);
	return vm;
}

uint32_t vcpu_get_mp_state(struct vcpu *v)
{
	struct kvm_mp_state s;

	if (ioctl(v->fd, KVM_GET_MP_STATE, &s))
		test_fail("KVM_GET_MP_STATE: %s", strerror(errno));
	return s.mp_state;
}

int vcpu_set_mp_state_raw(struct vcpu *v, uint32_t state)
{
	struct kvm_mp_state s = { .mp_state = state };

	return ioctl(v->fd, KVM_SET_MP_STATE, &s);
}

void vcpu_set_mp_state(struct vcpu *v, uint32_t state)
{
	if (vcpu_set_mp_state_raw(v, state))
		test_fail("KVM_SET_MP_STATE %u on vCPU %u: %s", state, v->id, strerror(errno));
}

void vcpu_get_lapic(struct vcpu *v, struct kvm_lapic_state *s)
{
	if (ioctl(v->fd, KVM_GET_LAPIC, s))
		test_fail("KVM_GET_LAPIC: %s", strerror(errno));
}

void vcpu_set_lapic(struct vcpu *v, const struct kvm_lapic_state *s)
{
	if (ioctl(v->fd, KVM_SET_LAPIC, s))
		test_fail("KVM_SET_LAPIC: %s", strerror(errno));
}

uint32_t lapic_reg(const struct kvm_lapic_state *s, uint32_t reg)
{
	uint32_t v;

	memcpy(&v, s->regs + reg, sizeof(v));
	return v;
}

void lapic_set_reg(struct kvm_lapic_state *s, uint32_t reg, uint32_t v)
{
	memcpy(s->regs + reg, &v, sizeof(v));
}

void vm_get_irqchip(struct vm *vm, uint32_t chip, struct kvm_irqchip *c)
{
	memset(c, 0, sizeof(*c));
	c->chip_id = chip;
	if (ioctl(vm->fd, KVM_GET_IRQCHIP, c))
		test_fail("KVM_GET_IRQCHIP chip %u: %s", chip, strerror(errno));
}

void vm_set_irqchip(struct vm *vm, const struct kvm_irqchip *c)
{
	if (ioctl(vm->fd, KVM_SET_IRQCHIP, c))
		test_fail("KVM_SET_IRQCHIP chip %u: %s", c->chip_id, strerror(errno));
}

void vm_get_pit2(struct vm *vm, struct kvm_pit_state2 *s)
{
	memset(s, 0, sizeof(*s));
	if (ioctl(vm->fd, KVM_GET_PIT2, s))
		test_fail("KVM_GET_PIT2: %s", strerror(errno));
}

void vm_set_pit2(struct vm *vm, const struct kvm_pit_state2 *s)
{
	if (ioctl(vm->fd, KVM_SET_PIT2, s))
		test_fail("KVM_SET_PIT2: %s", strerror(errno));
}

int vm_irq_line(struct vm *vm, uint32_t gsi, int level)
{
	struct kvm_irq_level l = { .irq = gsi, .level = (uint32_t)level };

	if (ioctl(vm->fd, KVM_IRQ_LINE_STATUS, &l))
		test_fail("KVM_IRQ_LINE_STATUS gsi %u level %d: %s", gsi, level,
			  strerror(errno));
	return l.status;
}

int vm_signal_msi_raw(struct vm *vm, uint32_t addr, uint32_t data)
{
	struct kvm_msi msi = { .address_lo = addr, .data = data };

	return ioctl(vm->fd, KVM_SIGNAL_MSI, &msi);
}

struct kvm_irq_routing_entry route_irqchip(uint32_t gsi, uint32_t chip, uint32_t pin)
{
	struct kvm_irq_routing_entry e = {
		.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = chip, .pin = pin },
	};

	return e;
}

struct kvm_irq_routing_entry route_msi(uint32_t gsi, uint32_t addr, uint32_t data)
{
	struct kvm_irq_routing_entry e = {
		.gsi = gsi, .type = KVM_IRQ_ROUTING_MSI,
		.u.msi = { .address_lo = addr, .data = data },
	};

	return e;
}

int vm_set_gsi_routing_raw(struct vm *vm, const struct kvm_irq_routing_entry *e, int nr,
			   uint32_t flags)
{
	struct kvm_irq_routing *r = calloc(1, sizeof(*r) + nr * sizeof(*e));
	int ret, saved;

	TEST_ASSERT(r, "out of memory");
	r->nr = nr;
	r->flags = flags;
	if (nr)
		memcpy(r->entries, e, nr * sizeof(*e));
	ret = ioctl(vm->fd, KVM_SET_GSI_ROUTING, r);
	saved = errno;
	free(r);
	errno = saved;
	return ret;
}

void vm_set_gsi_routing(struct vm *vm, const struct kvm_irq_routing_entry *e, int nr)
{
	if (vm_set_gsi_routing_raw(vm, e, nr, 0))
		test_fail("KVM_SET_GSI_ROUTING (%d entries): %s", nr, strerror(errno));
}

int default_routes(struct kvm_irq_routing_entry *e)
{
	int n = 0, gsi;

	for (gsi = 0; gsi < 16; gsi++)
		e[n++] = route_irqchip(gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER :
				       KVM_IRQCHIP_PIC_SLAVE, gsi % 8);
	for (gsi = 0; gsi < IOAPIC_NUM_PINS; gsi++)
		e[n++] = route_irqchip(gsi, KVM_IRQCHIP_IOAPIC, gsi);
	return n;
}

int new_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (fd < 0)
		test_fail("eventfd: %s", strerror(errno));
	return fd;
}

uint64_t eventfd_take(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n)) {
		if (errno != EAGAIN)
			test_fail("reading an eventfd: %s", strerror(errno));
		return 0;
	}
	return n;
}

void eventfd_signal(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		test_fail("writing an eventfd: %s", strerror(errno));
}

void vcpu_set_cpuid_bit(struct vcpu *v, uint32_t leaf, int reg, int bit, bool on)
{
	size_t size = sizeof(struct kvm_cpuid2) +
		      MAX_CPUID_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = calloc(1, size);
	bool found = false;
	uint32_t i;

	TEST_ASSERT(c, "out of memory");
	c->nent = MAX_CPUID_ENTRIES;
	if (ioctl(v->fd, KVM_GET_CPUID2, c))
		test_fail("KVM_GET_CPUID2: %s", strerror(errno));
	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		uint32_t *r[4] = { &e->eax, &e->ebx, &e->ecx, &e->edx };

		if (e->function != leaf || e->index != 0)
			continue;
		*r[reg] = on ? *r[reg] | 1u << bit : *r[reg] & ~(1u << bit);
		found = true;
	}
	TEST_ASSERT(found, "CPUID leaf 0x%x is not in the vCPU's table", leaf);
	if (ioctl(v->fd, KVM_SET_CPUID2, c))
		test_fail("KVM_SET_CPUID2: %s", strerror(errno));
	free(c);
}

static inline uint64_t host_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

uint64_t host_tsc_khz(void)
{
	static uint64_t khz;
	uint64_t t0, c0, t1, c1;

	if (khz)
		return khz;
	t0 = now_ns();
	c0 = host_rdtsc();
	usleep(50000);
	t1 = now_ns();
	c1 = host_rdtsc();
	khz = (c1 - c0) * 1000000ULL / (t1 - t0);
	TEST_ASSERT(khz, "the TSC does not advance");
	return khz;
}

void vm_set_guest_tsc_khz(struct vm *vm)
{
	guest_global(vm, guest_tsc_khz) = host_tsc_khz();
	/* Measured by each device's run of the case: not the guest's doing. */
	trace_global_skip(vm, guest_tsc_khz);
}

/* ---------------------------------------------------------------- */
/* vCPU threads                                                     */

static uint64_t self_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

uint64_t thread_cpu_ns(pthread_t t)
{
	struct timespec ts;
	clockid_t cid;

	if (pthread_getcpuclockid(t, &cid) || clock_gettime(cid, &ts))
		test_fail("reading a thread's CPU clock: %s", strerror(errno));
	return (uint64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* Runs to a ucall; with @stop, a KVM_RUN ended by a signal once *@stop is set returns NONE. */
static uint64_t run_to_ucall(struct vcpu *v, struct ucall *uc, volatile bool *stop)
{
	for (;;) {
		if (vcpu_run_raw(v)) {
			if (errno == EAGAIN)
				continue;
			if (errno == EINTR && stop && *stop)
				return UCALL_NONE;
			test_fail("vCPU %u: KVM_RUN: %s (exit reason %s)", v->id, strerror(errno),
				  exit_reason_name(v->run->exit_reason));
		}
		switch (vcpu_get_ucall(v, uc)) {
		case UCALL_NONE:
			test_fail("vCPU %u: expected a ucall, got %s", v->id, vcpu_exit_str(v));
		case UCALL_ASSERT:
			test_fail("guest assertion on vCPU %u: %s", v->id, uc->message);
		case UCALL_PRINT:
			test_log("guest %u: %s", v->id, uc->message);
			continue;
		default:
			return uc->type;
		}
	}
}

uint64_t vcpu_run_to_ucall_retry(struct vcpu *v, struct ucall *uc)
{
	return run_to_ucall(v, uc, NULL);
}

static void *vcpu_thread_fn(void *arg)
{
	struct vcpu_thread *t = arg;
	struct ucall uc;
	uint64_t type;

	do {
		type = run_to_ucall(t->v, &uc, &t->stop);
		if (type == UCALL_NONE)
			return NULL;		/* stopped by vcpu_thread_join */
		t->exits++;
		if (type == UCALL_SYNC)
			test_fail("vCPU %u: an unexpected SYNC (0x%llx, 0x%llx)", t->v->id,
				  (unsigned long long)uc.args[0],
				  (unsigned long long)uc.args[1]);
	} while (type != UCALL_DONE);
	t->cpu_ns = self_cpu_ns();
	__atomic_store_n(&t->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void on_stop_signal(int sig)
{
	(void)sig;
}

/* The highest vector set in the 256-bit register group at @base of @s, or -1. */
static int highest_vector(const struct kvm_lapic_state *s, uint32_t base)
{
	int v;

	for (v = NR_VECTORS - 1; v >= 0; v--)
		if (lapic_reg(s, base + (v / 32) * 0x10) >> (v % 32) & 1)
			return v;
	return -1;
}

/* What a vCPU that did not finish looked like, for the failure message. */
static void describe_stuck(struct vcpu *v, char *buf, size_t len)
{
	struct kvm_lapic_state s;
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	int n;

	n = snprintf(buf, len, "vCPU %u", v->id);
	if (!ioctl(v->fd, KVM_GET_MP_STATE, &mp))
		n += snprintf(buf + n, len - n, ": mp_state %u", mp.mp_state);
	if (!ioctl(v->fd, KVM_GET_REGS, &regs))
		n += snprintf(buf + n, len - n, ", rip 0x%llx, IF %d",
			      (unsigned long long)regs.rip, (int)(regs.rflags >> 9 & 1));
	if (!ioctl(v->fd, KVM_GET_LAPIC, &s))
		n += snprintf(buf + n, len - n,
			      ", LAPIC: SVR 0x%x TPR 0x%x PPR 0x%x ISR max %d IRR max %d "
			      "LVTT 0x%x TMICT 0x%x TMCCT 0x%x",
			      lapic_reg(&s, APIC_SVR), lapic_reg(&s, APIC_TPR),
			      lapic_reg(&s, APIC_PPR), highest_vector(&s, APIC_ISR),
			      highest_vector(&s, APIC_IRR), lapic_reg(&s, APIC_LVTT),
			      lapic_reg(&s, APIC_TMICT), lapic_reg(&s, APIC_TMCCT));
	if (v->vm->image_loaded && v->id < MAX_GUEST_STACKS)
		snprintf(buf + n, len - n, "; the guest took %u interrupts (%u phantoms)",
			 guest_global(v->vm, irq_rec)[v->id].n,
			 guest_global(v->vm, irq_phantoms)[v->id]);
}

void vcpu_thread_start(struct vcpu_thread *t, struct vcpu *v)
{
	memset(t, 0, sizeof(*t));
	t->v = v;
	if (pthread_create(&t->tid, NULL, vcpu_thread_fn, t))
		test_fail("pthread_create");
}

void vcpu_thread_join(struct vcpu_thread *t, unsigned int timeout_s)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	struct timespec ts;
	char why[512];

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_s;
	if (!pthread_timedjoin_np(t->tid, NULL, &ts))
		return;
	/* Stop it with a signal (KVM_RUN: EINTR) and say where it was. */
	sigaction(SIGUSR2, &sa, NULL);
	t->stop = true;
	pthread_kill(t->tid, SIGUSR2);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	if (pthread_timedjoin_np(t->tid, NULL, &ts))
		test_fail("vCPU %u did not reach UCALL_DONE within %u s, and a signal did not "
			  "end its KVM_RUN within 5 s more", t->v->id, timeout_s);
	describe_stuck(t->v, why, sizeof(why));
	test_fail("vCPU %u did not reach UCALL_DONE within %u s: %s", t->v->id, timeout_s, why);
}

struct one_run {
	struct vcpu *v;
	struct ucall *uc;
	volatile bool stop;
	uint64_t type;
};

static void *one_run_fn(void *arg)
{
	struct one_run *r = arg;

	r->type = run_to_ucall(r->v, r->uc, &r->stop);
	return NULL;
}

uint64_t vcpu_run_to_ucall_timeout(struct vcpu *v, struct ucall *uc, unsigned int timeout_s)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	struct one_run r = { .v = v, .uc = uc };
	struct timespec ts;
	pthread_t t;
	char why[512];

	if (pthread_create(&t, NULL, one_run_fn, &r))
		test_fail("pthread_create");
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_s;
	if (!pthread_timedjoin_np(t, NULL, &ts))
		return r.type;
	sigaction(SIGUSR2, &sa, NULL);
	r.stop = true;
	pthread_kill(t, SIGUSR2);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	if (pthread_timedjoin_np(t, NULL, &ts))
		test_fail("vCPU %u made no ucall within %u s, and a signal did not end its "
			  "KVM_RUN within 5 s more", v->id, timeout_s);
	describe_stuck(v, why, sizeof(why));
	test_fail("vCPU %u made no ucall within %u s: %s", v->id, timeout_s, why);
}

void irq_expect_ucall(struct vcpu *v, uint64_t type, struct ucall *uc)
{
	static const char *const names[] = { "NONE", "SYNC", "DONE", "ASSERT", "PRINT" };
	uint64_t got = vcpu_run_to_ucall_timeout(v, uc, IRQ_UCALL_TIMEOUT_S);

	if (got != type)
		test_fail("vCPU %u: expected ucall %s, got %s", v->id, type < 5 ? names[type] : "?",
			  got < 5 ? names[got] : "?");
}

uint64_t vcpu_run_ucall_watched(struct vcpu *v, unsigned int timeout_s)
{
	struct vcpu_thread t;

	vcpu_thread_start(&t, v);
	vcpu_thread_join(&t, timeout_s);
	return UCALL_DONE;
}

void vm_run_all(struct vm *vm, unsigned int timeout_s)
{
	struct vcpu_thread t[VM_MAX_VCPUS];
	int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_thread_start(&t[i], vm->vcpus[i]);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_thread_join(&t[i], timeout_s);
}

void irq_vm_free(struct vm *vm)
{
	int i;

	if (vm->image_loaded) {
		for (i = 0; i < vm->nr_vcpus && i < MAX_GUEST_STACKS; i++) {
			uint32_t n = guest_global(vm, irq_phantoms)[i];

			if (!n)
				continue;
			if (vm->is_yakvm)
				test_fail("vCPU %d took %u interrupts that its local APIC never "
					  "delivered (not in the ISR, or twice before the EOI)", i, n);
			test_log("vCPU %d: %u interrupts delivered a second time by QEMU's "
				 "emulated SVM (docs/design.md, \"A QEMU bug worked around\"); "
				 "not counted", i, n);
		}
		/* KVM's phantoms are QEMU's bug (above); yakvm has none. */
		trace_global_skip(vm, irq_phantoms);
	}
	vm_free(vm);
}
