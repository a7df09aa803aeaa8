/*
 * CPUID: the device's KVM_GET_SUPPORTED_CPUID table, set on each vCPU with
 * KVM_SET_CPUID2 after giving it its own APIC ID, so a guest can tell its
 * vCPUs apart (CPUID Fn0000_0001 EBX[31:24], AMD APM vol. 3 appendix E).
 *
 * Two edits make /dev/kvm and /dev/yakvm offer the same kind of machine, as
 * api.rst leaves the final table to the VMM:
 * - the hypervisor bit (Fn0000_0001 ECX[31]) is set: KVM does not set it in
 *   its supported table (QEMU and kvmtool set it themselves), and without it
 *   Linux takes the VM for bare metal (PMU probing, errata chicken bits);
 * - KVM's paravirtual leaves (0x40000000-0x400000ff, "KVMKVMKVM") are left
 *   out: kvmclock, PV EOI, async page faults and PV IPIs assume KVM's
 *   in-kernel LAPIC, which a VMM with its own 8259A does not create, and
 *   yakvm offers none of them.
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
#define CPUID_1_ECX_HYPERVISOR	(1u << 31)
#define HYPERVISOR_LEAVES	0x40000000u
#define HYPERVISOR_LEAVES_END	0x40000100u

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

static bool hypervisor_leaf(const struct kvm_cpuid_entry2 *e)
{
	return e->function >= HYPERVISOR_LEAVES && e->function < HYPERVISOR_LEAVES_END;
}

void cpuid_set(struct vcpu *vcpu)
{
	struct kvm_cpuid2 *c = alloc_cpuid(supported->nent);
	unsigned int i, n = 0;

	for (i = 0; i < supported->nent; i++) {
		struct kvm_cpuid_entry2 e = supported->entries[i];

		if (hypervisor_leaf(&e))
			continue;
		if (e.function == 1)
			e.ecx |= CPUID_1_ECX_HYPERVISOR;
		set_apic_id(&e, vcpu->id);
		c->entries[n++] = e;
	}
	c->nent = n;
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0)
		fail(STATUS_SETUP, "KVM_SET_CPUID2 on vCPU %u: %s", vcpu->id, strerror(errno));
	free(c);
}
