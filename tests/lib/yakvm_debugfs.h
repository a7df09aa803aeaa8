/* SPDX-License-Identifier: GPL-2.0 */
/*
 * yakvm's read-only debugfs views (driver/kvm/stats.c), for tests that check
 * what the module gave the hardware: each vCPU's VMCB control fields
 * (vmN-PID/vcpuK-vmcb) and each host CPU's SVM state (cpus).  yakvm only:
 * KVM has no such files, so cases using them say why they run on yakvm alone.
 */
#ifndef TESTS_LIB_YAKVM_DEBUGFS_H
#define TESTS_LIB_YAKVM_DEBUGFS_H

#include <stdbool.h>
#include <stdint.h>

#include "vm.h"

#define YAKVM_DEBUGFS	"/sys/kernel/debug/yakvm"

/* A "key value" line of @path (value in any base strtoull takes); fails the case if absent. */
uint64_t debugfs_value(const char *path, const char *key);

/* A field of @v's VMCB control area, from vcpuK-vmcb. */
uint64_t vcpu_vmcb_field(struct vcpu *v, const char *key);

struct yakvm_cpu_state {
	int enabled;
	unsigned int generation;
	unsigned int next_asid;
	uint64_t hsave_pa;
	uint64_t host_vmsave_pa;
	uint64_t tsc_aux_writes;	/* WRMSRs of TSC_AUX on this CPU so far */
};

/* Host CPU @cpu's line of "cpus"; returns false if there is none. */
bool yakvm_cpu_state(int cpu, struct yakvm_cpu_state *st);
/* The SME C-bit mask the module reports (0 without memory encryption). */
uint64_t yakvm_sme_mask(void);

#endif
