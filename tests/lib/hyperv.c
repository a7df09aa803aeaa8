// SPDX-License-Identifier: GPL-2.0
/* The device's Hyper-V CPUID leaves, and a vCPU's CPUID with them (hyperv.h). */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hyperv.h"
#include "test.h"
#include "vcpu_cpuid.h"

uint32_t hv_supported_cpuid(int fd, struct kvm_cpuid_entry2 *out)
{
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[MAX_HV_LEAVES];
	} c = { .h.nent = MAX_HV_LEAVES };

	EXPECT_OK(ioctl(fd, KVM_GET_SUPPORTED_HV_CPUID, &c));
	TEST_ASSERT(c.h.nent > 0 && c.h.nent < MAX_HV_LEAVES, "nent %u", c.h.nent);
	memcpy(out, c.e, c.h.nent * sizeof(c.e[0]));
	return c.h.nent;
}

void hv_set_cpuid(struct vcpu *v)
{
	struct kvm_cpuid_entry2 hv[MAX_HV_LEAVES];
	uint32_t n = hv_supported_cpuid(v->vm->sys_fd, hv), i, j = 0;
	struct kvm_cpuid2 *c = vcpu_cpuid_get(v);

	/* The device's own leaves in that range (KVM's signature) go. */
	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function < 0x40000000 || c->entries[i].function > 0x400000ff)
			c->entries[j++] = c->entries[i];
	for (i = 0; i < n && j < VCPU_CPUID_MAX_ENTRIES; i++)
		c->entries[j++] = hv[i];
	c->nent = j;
	EXPECT_OK(ioctl(v->fd, KVM_SET_CPUID2, c));
	free(c);
}
