/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Traces: what every guest of a test case did, recorded on each device so
 * that the runner can compare yakvm with KVM for every case, not only the
 * TEST_DIFF ones (docs/testing.md, "Every guest, compared").
 *
 * The library records, per vCPU, one line for each thing the guest showed
 * the outside world -- a ucall with its arguments and message, each element
 * of port I/O (so a string in one exit and a string in many give the same
 * lines), each MMIO access, HLT, SHUTDOWN, an internal error, a KVM_RUN
 * that failed -- and, when the VM is freed, the final state of every vCPU
 * that ran:
 *   - the registers and segments (the fields of struct vcpu_snapshot);
 *   - the FPU: x87 control, status and tag words, ST0-7, XMM0-15, the
 *     last instruction and data pointers (not MXCSR: KVM's KVM_GET_FPU
 *     does not report it);
 *   - the MSRs a guest may write and the test named (trace_msr);
 *   - kvm_run's if_flag and ready_for_interrupt_injection;
 *   - the debug registers (KVM_GET_DEBUGREGS) and the pending events
 *     (KVM_GET_VCPU_EVENTS) where the device has those ioctls: a device
 *     without one records that line as "unavailable", which the comparison
 *     accepts (yakvm has neither yet: docs/testing.md, "Masks");
 *   - a hash of each range of guest memory the test named (trace_memory):
 *     by default the 16/32-bit guests' data area and the writable data of
 *     the test binary's image that 64-bit guests use.
 * KVM_RUN ending in EINTR, and KVM_EXIT_INTR, are not recorded: they depend
 * on timing.
 *
 * Lines are "vmN.vcpuM what": N counts the case's VMs in creation order, so
 * vCPUs running on several threads each keep their own order.  The runner
 * sorts by that key (stably) and compares the two devices line by line.
 */
#ifndef TESTS_LIB_TRACE_H
#define TESTS_LIB_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diff.h"

#define TRACE_MAX_KEYS		64

/* Per vCPU: a hash of all its lines, also of those the buffer had no room for. */
struct trace_key {
	char name[24];
	uint64_t hash;
	uint64_t lines;
};

/* Shared with the runner: one case on one device. */
struct trace_buf {
	size_t size;			/* of text[] */
	size_t used;
	bool truncated;			/* text[] filled up; the hashes go on */
	uint32_t nr_keys;
	struct trace_key keys[TRACE_MAX_KEYS];
	char text[];
};

/* In the case's child: record into @buf from now on, masking final states with @mask. */
void trace_start(struct trace_buf *buf, diff_mask_fn mask);

/* Guest memory [@gpa, @gpa + @size) is compared at the end, as @name (once per name). */
void trace_memory(struct vm *vm, const char *name, uint64_t gpa, uint64_t size);
/* Stops comparing the range @name (its contents are timing: say why at the call). */
void trace_memory_forget(struct vm *vm, const char *name);
/*
 * Within the ranges compared, [@gpa, @gpa + @size) counts as zeros: a
 * variable the host writes per run (a measured TSC rate) or that records
 * one device's known defect; say which at the call.
 */
void trace_memory_skip(struct vm *vm, uint64_t gpa, uint64_t size);
#define trace_global_skip(vm, var) \
	trace_memory_skip((vm), (uint64_t)(uintptr_t)&(var), sizeof(var))
/* The MSR @index is compared at the end too. */
void trace_msr(struct vm *vm, uint32_t index);

/* Called by the VM library (vm.c). */
void trace_vm_created(struct vm *vm);
void trace_exit(struct vcpu *v);
/* KVM_RUN failed with @err (not EINTR). */
void trace_run_failed(struct vcpu *v, int err);
void trace_vm_freed(struct vm *vm);

/*
 * In the runner: compares two devices' traces of one case.  Returns true
 * when they match; otherwise @why says where they first differ.
 */
bool trace_compare(const struct trace_buf *a, const struct trace_buf *b,
		   const char *name_a, const char *name_b, char *why, size_t len);
/* Whether the trace holds anything to compare. */
bool trace_empty(const struct trace_buf *t);

#endif
