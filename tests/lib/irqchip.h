/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host side of the interrupt-controller tests: VMs with KVM_CREATE_IRQCHIP
 * (and KVM_CREATE_PIT2), the irqchip ioctls as checked helpers, vCPUs run
 * on threads of their own, and what a guest needs from the host (its TSC
 * rate, CPUID bits).  Guest side: apic.h.
 *
 * Every helper that is not *_raw ends the case with the ioctl's errno when
 * it fails -- on a device without an in-kernel irqchip that is the first
 * KVM_CREATE_IRQCHIP.
 */
#ifndef TESTS_LIB_IRQCHIP_H
#define TESTS_LIB_IRQCHIP_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "apic.h"
#include "vm.h"

/* KVM_CREATE_IRQCHIP on @vm (before any vCPU exists). */
void vm_create_irqchip(struct vm *vm);
/* A VM with @mem_size bytes of RAM at 0 and the in-kernel irqchip. */
struct vm *vm_create_with_irqchip(const struct test_dev *dev, uint64_t mem_size);
/* KVM_CREATE_PIT2 with @flags (KVM_PIT_SPEAKER_DUMMY or 0). */
void vm_create_pit2(struct vm *vm, uint32_t flags);

/*
 * A VM with the irqchip and @nr vCPUs (ids 0..nr-1), each entering fn(arg)
 * in long mode; the APs are made RUNNABLE (KVM_SET_MP_STATE), since with an
 * in-kernel irqchip they start UNINITIALIZED, waiting for INIT/SIPI.  Each
 * vCPU's CPUID leaf 1 EBX[31:24] holds its APIC ID.  The guest's TSC rate
 * is set (vm_set_guest_tsc_khz).
 */
struct vm *vm_irq_long(const struct test_dev *dev, int nr, uint64_t fn, uint64_t arg);
#define vm_irq_long_fn(dev, nr, fn, arg) \
	vm_irq_long((dev), (nr), (uint64_t)(uintptr_t)(fn), (uint64_t)(arg))

/* CPUID.1:EBX[31:24] = @v's id, its APIC ID (QEMU sets it so for every vCPU). */
void vcpu_set_cpuid_apic_id(struct vcpu *v);

uint32_t vcpu_get_mp_state(struct vcpu *v);
void vcpu_set_mp_state(struct vcpu *v, uint32_t state);
int vcpu_set_mp_state_raw(struct vcpu *v, uint32_t state);

void vcpu_get_lapic(struct vcpu *v, struct kvm_lapic_state *s);
void vcpu_set_lapic(struct vcpu *v, const struct kvm_lapic_state *s);
uint32_t lapic_reg(const struct kvm_lapic_state *s, uint32_t reg);
void lapic_set_reg(struct kvm_lapic_state *s, uint32_t reg, uint32_t v);

void vm_get_irqchip(struct vm *vm, uint32_t chip, struct kvm_irqchip *c);
void vm_set_irqchip(struct vm *vm, const struct kvm_irqchip *c);
void vm_get_pit2(struct vm *vm, struct kvm_pit_state2 *s);
void vm_set_pit2(struct vm *vm, const struct kvm_pit_state2 *s);

/* KVM_IRQ_LINE_STATUS: returns the status (>0 delivered, 0 coalesced, <0 ignored). */
int vm_irq_line(struct vm *vm, uint32_t gsi, int level);
/* KVM_SIGNAL_MSI: the ioctl's own result (errno kept). */
int vm_signal_msi_raw(struct vm *vm, uint32_t addr, uint32_t data);

/* One GSI routing entry; KVM_SET_GSI_ROUTING replaces the whole table. */
struct kvm_irq_routing_entry route_irqchip(uint32_t gsi, uint32_t chip, uint32_t pin);
struct kvm_irq_routing_entry route_msi(uint32_t gsi, uint32_t addr, uint32_t data);
int vm_set_gsi_routing_raw(struct vm *vm, const struct kvm_irq_routing_entry *e, int nr,
			   uint32_t flags);
void vm_set_gsi_routing(struct vm *vm, const struct kvm_irq_routing_entry *e, int nr);
/* KVM's default table: GSI 0-15 to the PIC and the IOAPIC pin, 16-23 to the IOAPIC. */
int default_routes(struct kvm_irq_routing_entry *e);

/* An eventfd (EFD_NONBLOCK | EFD_CLOEXEC) and its counter (0 when not signalled). */
int new_eventfd(void);
uint64_t eventfd_take(int fd);
void eventfd_signal(int fd);

/* CPUID of @v as set: one bit of leaf @leaf (subleaf 0), register 0-3 = EAX-EDX. */
void vcpu_set_cpuid_bit(struct vcpu *v, uint32_t leaf, int reg, int bit, bool on);

/* Measures the TSC against CLOCK_MONOTONIC (once) and stores it in the guest's guest_tsc_khz. */
uint64_t host_tsc_khz(void);
void vm_set_guest_tsc_khz(struct vm *vm);

/*
 * vcpu_run_to_ucall(), except that KVM_RUN failing with EAGAIN is retried:
 * KVM returns it once when an UNINITIALIZED AP receives INIT (not in
 * api.rst; VMMs retry).
 */
uint64_t vcpu_run_to_ucall_retry(struct vcpu *v, struct ucall *uc);

/*
 * vCPUs on threads.  A thread runs its vCPU until UCALL_DONE (PRINTs are
 * printed, an ASSERT or any other exit fails the case) and records the
 * thread's CPU time and the number of KVM_RUN exits it saw.
 */
struct vcpu_thread {
	struct vcpu *v;
	pthread_t tid;
	volatile bool done;
	volatile bool stop;		/* vcpu_thread_join gave up on it */
	uint64_t exits;			/* KVM_RUN returns, ucalls included */
	uint64_t cpu_ns;		/* CLOCK_THREAD_CPUTIME_ID when done */
};

void vcpu_thread_start(struct vcpu_thread *t, struct vcpu *v);
/*
 * Joins @t.  If it has not finished within @timeout_s, stops its KVM_RUN
 * with a signal (SIGUSR2) and fails the case with where the vCPU was: MP
 * state, RIP, IF, its local APIC's TPR/PPR/ISR/IRR/timer and what the
 * guest took -- what a hung interrupt test needs to be understood.
 */
void vcpu_thread_join(struct vcpu_thread *t, unsigned int timeout_s);
/*
 * vcpu_run_to_ucall_retry() on a helper thread, watched: after @timeout_s
 * without a ucall the run is stopped and the case fails saying where the
 * vCPU was (as vcpu_thread_join does).
 */
uint64_t vcpu_run_to_ucall_timeout(struct vcpu *v, struct ucall *uc, unsigned int timeout_s);
/* vcpu_run_expect_ucall(), watched by vcpu_run_to_ucall_timeout(). */
#define IRQ_UCALL_TIMEOUT_S	20
void irq_expect_ucall(struct vcpu *v, uint64_t type, struct ucall *uc);
/* Runs @v to UCALL_DONE on a thread, as vcpu_thread_join watches it. */
uint64_t vcpu_run_ucall_watched(struct vcpu *v, unsigned int timeout_s);
/* Runs every vCPU of @vm on a thread of its own to UCALL_DONE. */
void vm_run_all(struct vm *vm, unsigned int timeout_s);

/*
 * vm_free(), after looking at the guest's phantom interrupts (apic.h): on
 * yakvm they fail the case, on other devices they are QEMU's bug and
 * printed.
 */
void irq_vm_free(struct vm *vm);

/* CPU time of another thread of this process (pthread_getcpuclockid). */
uint64_t thread_cpu_ns(pthread_t t);

#endif
