/*
 * CPUID: the device's KVM_GET_SUPPORTED_CPUID table, set on each vCPU with
 * KVM_SET_CPUID2 after the edits api.rst leaves to the VMM, so that
 * /dev/kvm and /dev/yakvm offer the same kind of machine:
 * - the hypervisor bit (Fn0000_0001 ECX[31]) is set: KVM does not set it in
 *   its supported table (QEMU and kvmtool set it themselves), and without it
 *   Linux takes the VM for bare metal (PMU probing, errata chicken bits);
 * - KVM's paravirtual leaves (0x40000000-0x400000ff, "KVMKVMKVM") are left
 *   out: yakvm offers none of them (kvmclock, PV EOI, async page faults, PV
 *   IPIs), so a guest on either device runs on the same clock and APIC code;
 * - each vCPU gets its APIC ID, and the topology leaves describe the VM's
 *   N vCPUs as one package of N cores with one thread each (below), whatever
 *   host topology the device copied into them;
 * - with the in-kernel irqchip the local APIC exists: Fn0000_0001 EDX[9] (and
 *   its AMD copy in Fn8000_0001 EDX) is set, and the TSC-deadline timer
 *   (Fn0000_0001 ECX[24]) when the device has KVM_CAP_TSC_DEADLINE_TIMER,
 *   which is how KVM offers it (QEMU does the same); x2APIC stays as the
 *   device reports it.  With the VMM's 8259A the table stays as it is.
 *
 * Topology (AMD APM vol. 3, appendix E.4 "Multiple Core Calculation" and the
 * leaf descriptions; Linux follows them in arch/x86/kernel/cpu/amd.c): the
 * APIC ID of vCPU i is i, its low ceil(log2 N) bits the core number.
 * - Fn0000_0001 EBX[23:16] = N logical processors, EDX[28] HTT and
 *   Fn8000_0001 ECX[1] CmpLegacy set when N > 1 (the count is of cores);
 * - Fn8000_0008 ECX: NC = N - 1, ApicIdSize = ceil(log2 N);
 * - 0xB/0x1F (if the device lists them with a valid level 0): SMT level of
 *   one thread, core level of N, x2APIC ID in EDX; 0x8000001E (if listed):
 *   the extended APIC ID, core ID = APIC ID, one thread per core, node 0;
 *   0x8000001D (if listed): L1 and L2 private, L3 shared by all N.
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
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_HYPERVISOR	(1u << 31)
#define CPUID_1_EDX_APIC	(1u << 9)
#define CPUID_1_EDX_HTT		(1u << 28)
#define CPUID_E1_ECX_CMP_LEGACY	(1u << 1)
#define CPUID_E1_EDX_APIC	(1u << 9)
#define HYPERVISOR_LEAVES	0x40000000u
#define HYPERVISOR_LEAVES_END	0x40000100u
#define TOPOLOGY_LEVEL_SMT	1	/* 0xB ECX[15:8] level types */
#define TOPOLOGY_LEVEL_CORE	2

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

/* ceil(log2 n): the APIC ID bits n cores need. */
static unsigned int id_bits(unsigned int n)
{
	unsigned int bits = 0;

	while ((1u << bits) < n)
		bits++;
	return bits;
}

/* Extended topology (0xB, 0x1F): an SMT level of one thread, a core level of @n. */
static void edit_extended_topology(struct kvm_cpuid_entry2 *e, unsigned int id,
				   unsigned int n, bool valid)
{
	e->edx = id;		/* the x2APIC ID, in every subleaf */
	if (!valid)
		return;		/* the device offers no levels: leave them empty */
	switch (e->index) {
	case 0:
		e->eax = 0;
		e->ebx = 1;
		e->ecx = TOPOLOGY_LEVEL_SMT << 8;
		break;
	case 1:
		e->eax = id_bits(n);
		e->ebx = n;
		e->ecx = TOPOLOGY_LEVEL_CORE << 8 | 1;
		break;
	default:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = e->index;	/* level type 0: no more levels */
		break;
	}
}

/* The number of logical processors sharing a cache (0x8000001D EAX[25:14]). */
static void edit_cache_sharing(struct kvm_cpuid_entry2 *e, unsigned int n)
{
	unsigned int level = (e->eax >> 5) & 7;

	if (!(e->eax & 0x1f))
		return;		/* no cache at this index */
	e->eax = (e->eax & ~(0xfffu << 14)) | (level == 3 ? n - 1 : 0) << 14;
}

static bool valid_topology_leaf(const struct kvm_cpuid_entry2 *e)
{
	unsigned int i;

	for (i = 0; i < supported->nent; i++) {
		const struct kvm_cpuid_entry2 *s = &supported->entries[i];

		if (s->function == e->function && s->index == 0)
			return s->ebx != 0;
	}
	return false;
}

/* Every per-vCPU and per-VM edit of one entry (the list at the top). */
static void edit_entry(const struct vm *vm, unsigned int id, struct kvm_cpuid_entry2 *e,
		       bool tsc_deadline)
{
	bool kernel_irqchip = vm->irqchip == IRQCHIP_KERNEL;
	unsigned int n = vm->nr_vcpus;

	switch (e->function) {
	case 1:
		e->ebx = (e->ebx & 0x0000ffff) | n << 16 | id << 24;
		e->edx = n > 1 ? e->edx | CPUID_1_EDX_HTT : e->edx & ~CPUID_1_EDX_HTT;
		e->ecx |= CPUID_1_ECX_HYPERVISOR;
		if (kernel_irqchip)
			e->edx |= CPUID_1_EDX_APIC;
		if (kernel_irqchip && tsc_deadline)
			e->ecx |= CPUID_1_ECX_TSC_DEADLINE;
		break;
	case 0xb:
	case 0x1f:
		edit_extended_topology(e, id, n, valid_topology_leaf(e));
		break;
	case 0x80000001:
		e->ecx = n > 1 ? e->ecx | CPUID_E1_ECX_CMP_LEGACY :
				 e->ecx & ~CPUID_E1_ECX_CMP_LEGACY;
		if (kernel_irqchip)
			e->edx |= CPUID_E1_EDX_APIC;
		break;
	case 0x80000008:
		e->ecx = (e->ecx & ~0xf0ffu) | id_bits(n) << 12 | (n - 1);
		break;
	case 0x8000001d:
		edit_cache_sharing(e, n);
		break;
	case 0x8000001e:
		e->eax = id;
		e->ebx = (e->ebx & ~0xffffu) | (id & 0xff);
		e->ecx &= ~0x7ffu;
		break;
	}
}

static bool hypervisor_leaf(const struct kvm_cpuid_entry2 *e)
{
	return e->function >= HYPERVISOR_LEAVES && e->function < HYPERVISOR_LEAVES_END;
}

void cpuid_leaf1(struct vm *vm, uint32_t *eax, uint32_t *edx)
{
	unsigned int i;

	*eax = 0;
	*edx = 0;
	for (i = 0; i < supported->nent; i++) {
		struct kvm_cpuid_entry2 e = supported->entries[i];

		if (e.function != 1)
			continue;
		edit_entry(vm, 0, &e, vm_check_extension(vm, KVM_CAP_TSC_DEADLINE_TIMER) > 0);
		*eax = e.eax;
		*edx = e.edx;
	}
}

void cpuid_set(struct vcpu *vcpu)
{
	struct kvm_cpuid2 *c = alloc_cpuid(supported->nent);
	bool tsc_deadline = vm_check_extension(vcpu->vm, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	unsigned int i, n = 0;

	for (i = 0; i < supported->nent; i++) {
		struct kvm_cpuid_entry2 e = supported->entries[i];

		if (hypervisor_leaf(&e))
			continue;
		edit_entry(vcpu->vm, vcpu->id, &e, tsc_deadline);
		c->entries[n++] = e;
	}
	c->nent = n;
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0)
		fail(STATUS_SETUP, "KVM_SET_CPUID2 on vCPU %u: %s", vcpu->id, strerror(errno));
	free(c);
}
