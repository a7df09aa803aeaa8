/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host-side VM handling on any KVM-ABI device (/dev/yakvm, /dev/kvm): VMs,
 * memory slots, vCPUs and their kvm_run, register access and running.
 * Every helper that is not named *_raw checks its ioctl and ends the test
 * case with a clear reason when it fails.
 */
#ifndef TESTS_LIB_VM_H
#define TESTS_LIB_VM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"
#include "test.h"
#include "ucall.h"

#define VM_MAX_REGIONS	64
#define VM_MAX_VCPUS	64
#define VM_MAX_TRACE_RANGES	8
#define VM_MAX_TRACE_MSRS	16
#define VM_MAX_TRACE_SKIPS	8

struct vm_region {
	bool used;
	uint32_t slot;
	uint32_t flags;
	uint64_t gpa;
	uint64_t size;
	void *hva;
};

struct vcpu {
	struct vm *vm;
	uint32_t id;
	int fd;
	struct kvm_run *run;
	bool ran;			/* a KVM_RUN returned 0: its state is traced */
};

struct vm {
	const char *dev_path;
	bool is_yakvm;
	int sys_fd;			/* the device */
	int fd;				/* the VM */
	size_t run_size;		/* KVM_GET_VCPU_MMAP_SIZE */
	struct vm_region regions[VM_MAX_REGIONS];
	struct vcpu *vcpus[VM_MAX_VCPUS];
	int nr_vcpus;
	bool image_loaded;		/* the test binary is in guest memory */
	bool tables_built;		/* GDT, IDT, page tables are */
	int trace_id;			/* the case's VMs, counted (trace.h) */
	char debugfs[320];		/* yakvm: the VM's debugfs directory */
	/* What the trace compares at the end besides the registers (trace.h). */
	struct trace_range {
		const char *name;
		uint64_t gpa, size;
	} trace_mem[VM_MAX_TRACE_RANGES];
	int nr_trace_mem;
	/* Bytes inside those ranges hashed as zero (trace_memory_skip). */
	struct trace_skip {
		uint64_t gpa, size;
	} trace_skip[VM_MAX_TRACE_SKIPS];
	int nr_trace_skip;
	uint32_t trace_msrs[VM_MAX_TRACE_MSRS];
	int nr_trace_msrs;
};

/* Opens @path (O_RDWR) or ends the case. */
int dev_open(const char *path);

/* A VM on @dev with @mem_size bytes of RAM in slot 0 at GPA 0 (none if 0). */
struct vm *vm_create(const struct test_dev *dev, uint64_t mem_size);
/* Closes every fd and unmaps everything: the device sees the VM destroyed. */
void vm_free(struct vm *vm);

/* Anonymous memory as slot @slot at @gpa; returns the host address. */
void *vm_add_memory(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size,
		    uint32_t flags);
/* Registers caller-owned memory @hva as slot @slot. */
void vm_add_memory_at(struct vm *vm, uint32_t slot, uint64_t gpa,
		      uint64_t size, uint32_t flags, void *hva);
void vm_move_memory(struct vm *vm, uint32_t slot, uint64_t new_gpa);
/* Deletes slot @slot and unmaps its memory. */
void vm_remove_memory(struct vm *vm, uint32_t slot);
/* KVM_SET_USER_MEMORY_REGION as given; returns the ioctl's result. */
int vm_set_region_raw(struct vm *vm, uint32_t slot, uint32_t flags,
		      uint64_t gpa, uint64_t size, uint64_t hva);

/* The host address of guest-physical @gpa (which must be RAM). */
void *gpa_to_hva(struct vm *vm, uint64_t gpa);
/* Same, or NULL when @gpa is not in any slot. */
void *gpa_to_hva_or_null(struct vm *vm, uint64_t gpa);
void guest_write(struct vm *vm, uint64_t gpa, const void *src, size_t len);

/* A global of the test binary, as the guest's copy (64-bit guests only). */
#define guest_global(vm, var) (*(__typeof__(&(var)))gpa_to_hva((vm), (uint64_t)&(var)))

/* KVM_CREATE_VCPU, mmap of kvm_run, and the device's supported CPUID. */
struct vcpu *vcpu_add(struct vm *vm, uint32_t id);

void vcpu_get_regs(struct vcpu *v, struct kvm_regs *regs);
void vcpu_set_regs(struct vcpu *v, const struct kvm_regs *regs);
void vcpu_get_sregs(struct vcpu *v, struct kvm_sregs *sregs);
void vcpu_set_sregs(struct vcpu *v, const struct kvm_sregs *sregs);

/* KVM_RUN: returns the ioctl's result (errno is kept). */
int vcpu_run_raw(struct vcpu *v);
/* KVM_RUN that must succeed; returns the exit reason. */
uint32_t vcpu_run(struct vcpu *v);
/* Ends the case unless the last exit was @reason. */
void vcpu_expect_exit(struct vcpu *v, uint32_t reason);

const char *exit_reason_name(uint32_t reason);
/* A one-line description of the last exit, for failure messages. */
const char *vcpu_exit_str(struct vcpu *v);

/*
 * The ucall, if the last exit was one: copies it to @uc and returns its
 * type, else returns UCALL_NONE.
 */
uint64_t vcpu_get_ucall(struct vcpu *v, struct ucall *uc);
/*
 * The last exit must be a ucall: an ASSERT ends the case with the guest's
 * message, a PRINT is printed; returns the type.
 */
uint64_t vcpu_expect_ucall_exit(struct vcpu *v, struct ucall *uc);
/*
 * Runs until the guest makes a ucall other than PRINT (printed here).
 * An ASSERT ends the case with the guest's message; any exit that is not a
 * ucall ends it too.  Returns the type.
 */
uint64_t vcpu_run_to_ucall(struct vcpu *v, struct ucall *uc);
/* Runs to the next ucall and requires it to be of @type. */
void vcpu_run_expect_ucall(struct vcpu *v, uint64_t type, struct ucall *uc);

#endif
