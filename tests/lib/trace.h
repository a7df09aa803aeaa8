/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Traces: what every guest of a test case did, recorded on each device so
 * that the runner can compare yakvm with KVM for every case, not only the
 * TEST_DIFF ones (docs/testing.md, "Every guest, compared").
 *
 * The library records, per vCPU, one line for each thing the guest showed
 * the outside world -- a ucall with its arguments and message, each element
 * of port I/O (so a string in one exit and a string in many give the same
 * lines), each MMIO access, HLT, SHUTDOWN, an internal error -- and, when
 * the VM is freed, the final registers of every vCPU that ran (the fields
 * of struct vcpu_snapshot).  KVM_RUN ending in EINTR, and KVM_EXIT_INTR,
 * are not recorded: they depend on timing.
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
