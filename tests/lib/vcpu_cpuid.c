// SPDX-License-Identifier: GPL-2.0
/*
 * Editing a vCPU's CPUID table (see cpuid.h).
 */
#include <stdlib.h>
#include <sys/ioctl.h>

#include "vcpu_cpuid.h"

struct kvm_cpuid2 *vcpu_cpuid_get(struct vcpu *v)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) +
				      VCPU_CPUID_MAX_ENTRIES * sizeof(c->entries[0]));

	TEST_ASSERT(c, "out of memory");
	c->nent = VCPU_CPUID_MAX_ENTRIES;
	EXPECT_OK(ioctl(v->fd, KVM_GET_CPUID2, c));
	return c;
}

static uint32_t *reg_of(struct kvm_cpuid_entry2 *e, enum cpuid_reg r)
{
	switch (r) {
	case CPUID_EAX: return &e->eax;
	case CPUID_EBX: return &e->ebx;
	case CPUID_ECX: return &e->ecx;
	default: return &e->edx;
	}
}

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, struct cpuid_bit b)
{
	uint32_t i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == b.function &&
		    (!(c->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     c->entries[i].index == b.index))
			return &c->entries[i];
	return NULL;
}

bool vcpu_cpuid_has(struct vcpu *v, struct cpuid_bit b)
{
	struct kvm_cpuid2 *c = vcpu_cpuid_get(v);
	struct kvm_cpuid_entry2 *e = find(c, b);
	bool has = e && (*reg_of(e, b.reg) & (1u << b.bit));

	free(c);
	return has;
}

void vcpu_cpuid_set_bit(struct vcpu *v, struct cpuid_bit b, bool on)
{
	struct kvm_cpuid2 *c = vcpu_cpuid_get(v);
	struct kvm_cpuid_entry2 *e = find(c, b);

	if (e) {
		if (on)
			*reg_of(e, b.reg) |= 1u << b.bit;
		else
			*reg_of(e, b.reg) &= ~(1u << b.bit);
	} else {
		TEST_ASSERT(!on, "no CPUID leaf 0x%x.%u to set a bit in", b.function, b.index);
	}
	EXPECT_OK(ioctl(v->fd, KVM_SET_CPUID2, c));
	free(c);
}
