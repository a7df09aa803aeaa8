/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A vCPU's CPUID table (KVM_GET_CPUID2 / KVM_SET_CPUID2), edited before the
 * vCPU first runs: tests that hide a feature from the guest, or check what
 * the device offers.
 */
#ifndef TESTS_LIB_VCPU_CPUID_H
#define TESTS_LIB_VCPU_CPUID_H

#include <stdbool.h>
#include <stdint.h>

#include "vm.h"

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

struct cpuid_bit {
	uint32_t function, index;
	enum cpuid_reg reg;
	unsigned int bit;
};

/* The vCPU's table (KVM_GET_CPUID2), room for VCPU_CPUID_MAX_ENTRIES; free() it. */
#define VCPU_CPUID_MAX_ENTRIES	256
struct kvm_cpuid2 *vcpu_cpuid_get(struct vcpu *v);
/* Whether the vCPU's table has @b set. */
bool vcpu_cpuid_has(struct vcpu *v, struct cpuid_bit b);
/* Clears (or sets) @b in the vCPU's table; the vCPU must not have run. */
void vcpu_cpuid_set_bit(struct vcpu *v, struct cpuid_bit b, bool on);

#endif
