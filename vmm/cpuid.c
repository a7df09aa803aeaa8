/*
 * CPUID: the device's KVM_GET_SUPPORTED_CPUID table, set on each vCPU with
 * KVM_SET_CPUID2 after giving it its own APIC ID, so a guest can tell its
 * vCPUs apart (CPUID Fn0000_0001 EBX[31:24], AMD APM vol. 3 appendix E).
 */
#include "cpuid.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "status.h"
#include "util.h"
#include "vcpu.h"
#include "vm.h"

#define CPUID_MAX_ENTRIES 1024

static struct kvm_cpuid2 *supported;

static struct kvm_cpuid2 *alloc_cpuid(unsigned int nent)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

	if (!c)
		fail(STATUS_SETUP, "out of memory for the CPUID table");
	c->nent = nent;
	return c;
}

void cpuid_init(struct vm *vm)
{
	unsigned int nent;

	/* api.rst: E2BIG means the array is too small; grow it and ask again. */
	for (nent = 64; nent <= CPUID_MAX_ENTRIES; nent *= 2) {
		supported = alloc_cpuid(nent);
		if (ioctl(vm->dev_fd, KVM_GET_SUPPORTED_CPUID, supported) == 0)
			return;
		if (errno != E2BIG)
			fail(STATUS_SETUP, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(supported);
	}
	fail(STATUS_SETUP, "KVM_GET_SUPPORTED_CPUID: more than %d entries", CPUID_MAX_ENTRIES);
}

static void set_apic_id(struct kvm_cpuid_entry2 *e, unsigned int id)
{
	switch (e->function) {
	case 1:
		e->ebx = (e->ebx & 0x00ffffff) | (id << 24);
		break;
	case 0xb:	/* extended topology: EDX is the x2APIC ID */
	case 0x1f:
		e->edx = id;
		break;
	}
}

void cpuid_set(struct vcpu *vcpu)
{
	size_t bytes = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
	struct kvm_cpuid2 *c = alloc_cpuid(supported->nent);
	unsigned int i;

	memcpy(c, supported, bytes);
	for (i = 0; i < c->nent; i++)
		set_apic_id(&c->entries[i], vcpu->id);
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0)
		fail(STATUS_SETUP, "KVM_SET_CPUID2 on vCPU %u: %s", vcpu->id, strerror(errno));
	free(c);
}
