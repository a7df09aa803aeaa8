/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differential cases: the same scenario runs on yakvm and on KVM, one after
 * the other (only one of them may own SVM at a time), and the vCPU state
 * each leaves behind must be the same.  Differences that are justified --
 * a value the two are documented to report differently -- are masked by
 * the caller and listed in docs/testing.md.
 */
#ifndef TESTS_LIB_DIFF_H
#define TESTS_LIB_DIFF_H

#include "vm.h"

struct vcpu_snapshot {
	uint32_t exit_reason;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
};

/* Runs a scenario on @dev and records the final state in @out. */
typedef void (*diff_scenario_fn)(const struct test_dev *dev,
				 struct vcpu_snapshot *out);
/* Clears what may differ in @s, called for both devices' snapshots. */
typedef void (*diff_mask_fn)(struct vcpu_snapshot *s);

void vcpu_snapshot(struct vcpu *v, struct vcpu_snapshot *out);

/* Calls @fn with the name and value of every field diff_devices() compares. */
typedef void (*snapshot_field_fn)(const char *name, uint64_t value, void *arg);
void snapshot_for_each_field(const struct vcpu_snapshot *s, snapshot_field_fn fn,
			     void *arg);

/* Runs @fn on ctx->devs[0] and ctx->devs[1] and compares the snapshots. */
void diff_devices(const struct test_ctx *ctx, diff_scenario_fn fn,
		  diff_mask_fn mask);

#endif
