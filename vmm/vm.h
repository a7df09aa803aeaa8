/* The VM: the device and VM file descriptors, guest RAM, the I/O buses, the
 * vCPUs, and the one-way "stop" state every thread watches. */
#ifndef YAKVM_VM_H
#define YAKVM_VM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "io.h"

struct vcpu;
struct pic;

struct ram_range {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct vm {
	const char *dev_path;
	int dev_fd;
	int vm_fd;
	size_t run_mmap_size;

	uint64_t mem_size;
	struct ram_range ram[2];	/* below LOW_RAM_LIMIT, and from 4 GiB */
	unsigned int nr_ram;

	struct vcpu *vcpus;
	unsigned int nr_vcpus;

	struct io_bus pio;
	struct io_bus mmio;
	bool strict;
	bool trace_exits;

	/* Interrupts (interrupts.c): which irqchip, and its state. */
	enum irqchip_mode irqchip;	/* IRQCHIP_USER or IRQCHIP_KERNEL */
	struct pic *pic;		/* user: the 8259A pair, wired to vCPU 0 */
	bool irq_line_status;		/* kernel: KVM_IRQ_LINE_STATUS is available */
	pthread_mutex_t irq_lock;	/* kernel: orders KVM_IRQ_LINE calls ... */
	uint32_t irq_levels;		/* ... and the ISA line levels last set */
	uint8_t lapic_version;		/* kernel: the LAPIC version register's low byte */

	pthread_mutex_t stop_lock;
	atomic_bool stopping;
	int stop_status;
	unsigned int running_vcpus;
	int stop_event_fd;		/* eventfd: the main thread's wake-up */
};

/* Opens the device and checks that it speaks the KVM ABI; fail()s otherwise. */
void vm_open_device(struct vm *vm, const char *dev_path);
/* Creates the VM, its RAM and its vCPUs as configured; fail()s on error. */
void vm_create(struct vm *vm, const struct vm_config *cfg);

/* KVM_CHECK_EXTENSION; 0 when the capability is absent. */
int vm_check_extension(struct vm *vm, long cap);

/* Host address of [gpa, gpa + len) if it lies entirely in guest RAM, else NULL. */
void *vm_guest_ram(struct vm *vm, uint64_t gpa, uint64_t len);

/* First caller's status wins; wakes the main thread. */
void vm_request_stop(struct vm *vm, int status);
bool vm_is_stopping(struct vm *vm);
/* A vCPU stopped on HLT; the last one to do so stops the VM. */
void vm_vcpu_halted(struct vm *vm);
int vm_stop_status(struct vm *vm);

#endif
