/* External interrupts from the PIC to the boot vCPU (KVM's user-space irqchip ABI). */
#ifndef YAKVM_INTERRUPTS_H
#define YAKVM_INTERRUPTS_H

#include <stdbool.h>

struct vcpu;

/* The PIC's notify hook (@opaque is the VM): its INT output may have risen. */
void interrupts_notify(void *opaque);
/* Before each KVM_RUN: inject the PIC's vector, or ask for an interrupt window. */
void interrupts_before_entry(struct vcpu *vcpu);
/* After KVM_EXIT_HLT: true if an interrupt can still wake this vCPU. */
bool interrupts_can_wake(struct vcpu *vcpu);
/* Sleeps until the PIC has a request for the vCPU or the VM stops. */
void interrupts_wait(struct vcpu *vcpu);

#endif
