/* The CPUID table every vCPU gets: what the device supports, with per-vCPU APIC IDs
 * and the VM's topology (cpuid.c). */
#ifndef YAKVM_CPUID_H
#define YAKVM_CPUID_H

struct vm;
struct vcpu;

#include <stdint.h>

void cpuid_init(struct vm *vm);
void cpuid_set(struct vcpu *vcpu);
/* EAX and EDX of leaf 1 as vCPU 0 gets them (the MP table's signature and features). */
void cpuid_leaf1(struct vm *vm, uint32_t *eax, uint32_t *edx);

#endif
