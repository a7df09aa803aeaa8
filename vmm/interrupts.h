/*
 * External interrupts: the PIC/PIT in the VMM (KVM's user-space irqchip
 * ABI) or the device's in-kernel irqchip and PIT (KVM_CREATE_IRQCHIP,
 * KVM_CREATE_PIT2); devices raise their ISA lines through this one interface
 * whichever is in use.
 */
#ifndef YAKVM_INTERRUPTS_H
#define YAKVM_INTERRUPTS_H

#include <stdbool.h>

struct vm;
struct vcpu;

/* Before the vCPUs exist: in kernel mode KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2
 * and the GSI routing; fail()s if the device cannot. */
void interrupts_create_irqchip(struct vm *vm);
/* Each new vCPU in kernel mode: LINT0 ExtINT and LINT1 NMI in its LAPIC. */
void interrupts_init_vcpu(struct vcpu *vcpu);
/* User mode: the 8259A pair, the 8254 and port 0x61; kernel mode: nothing
 * (the device emulates them). */
void interrupts_create_devices(struct vm *vm);
/* Drives ISA IRQ line @irq (0-15) to @level, from any thread. */
void interrupts_set_line(struct vm *vm, unsigned int irq, bool level);

/* User mode only; each returns at once in kernel mode. */
/* The PIC's notify hook (@opaque is the VM): its INT output may have risen. */
void interrupts_notify(void *opaque);
/* Before each KVM_RUN: inject the PIC's vector, or ask for an interrupt window. */
void interrupts_before_entry(struct vcpu *vcpu);
/* After KVM_EXIT_HLT: true if an interrupt can still wake this vCPU. */
bool interrupts_can_wake(struct vcpu *vcpu);
/* Sleeps until the PIC has a request for the vCPU or the VM stops. */
void interrupts_wait(struct vcpu *vcpu);

#endif
