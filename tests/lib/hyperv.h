/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Hyper-V's guest interface as the tests use it (Hyper-V TLFS): the MSRs
 * every Hyper-V test needs, the device's Hyper-V CPUID leaves
 * (KVM_GET_SUPPORTED_HV_CPUID) put into a vCPU's CPUID as QEMU's
 * hv-passthrough does, and the guest's hypercall through the hypercall page.
 */
#ifndef TESTS_LIB_HYPERV_H
#define TESTS_LIB_HYPERV_H

#include <stdint.h>

#include <linux/kvm.h>

#include "layout.h"
#include "vm.h"

#define MSR_GUEST_OS_ID		0x40000000
#define MSR_HYPERCALL		0x40000001
#define MSR_TIME_REF_COUNT	0x40000020

/* Where the tests' guests put the hypercall page. */
#define HYPERCALL_GPA		(GPA_SCRATCH + 0x2000)
/* Room for the device's Hyper-V leaves. */
#define MAX_HV_LEAVES		64

/* The device's Hyper-V leaves, from @fd (the system's or a vCPU's), into @out. */
uint32_t hv_supported_cpuid(int fd, struct kvm_cpuid_entry2 *out);
/* The vCPU's CPUID with the device's Hyper-V leaves at 0x40000000, as QEMU. */
void hv_set_cpuid(struct vcpu *v);

/*
 * Guest side: a hypercall through the page at HYPERCALL_GPA, control in
 * RCX, input and output GPAs in RDX and R8 (TLFS 3.7); the status.
 */
static inline uint64_t hv_hypercall(uint64_t control, uint64_t in, uint64_t out)
{
	register uint64_t r8 __asm__("r8") = out;
	uint64_t status;

	__asm__ volatile("call *%[page]"
			 : "=a"(status), "+c"(control), "+d"(in), "+r"(r8)
			 : [page] "r"(HYPERCALL_GPA)
			 : "memory", "cc");
	return status;
}

#endif
