/* The CPUID table every vCPU gets: what the device supports, with per-vCPU APIC IDs. */
#ifndef YAKVM_CPUID_H
#define YAKVM_CPUID_H

struct vm;
struct vcpu;

void cpuid_init(struct vm *vm);
void cpuid_set(struct vcpu *vcpu);

#endif
