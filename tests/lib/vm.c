// SPDX-License-Identifier: GPL-2.0
/*
 * VMs, memory slots and vCPUs on a KVM-ABI device (see vm.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "trace.h"
#include "vm.h"

#define MAX_CPUID_ENTRIES	256
#define YAKVM_DEBUGFS_DIR	"/sys/kernel/debug/yakvm"

/*
 * yakvm names a VM's debugfs directory vmID-PID, IDs counting up: the
 * newest one of this process is the VM just created.
 */
static void find_debugfs_dir(struct vm *vm)
{
	DIR *d = opendir(YAKVM_DEBUGFS_DIR);
	unsigned int id, best = 0;
	struct dirent *e;
	int pid;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (sscanf(e->d_name, "vm%u-%d", &id, &pid) == 2 &&
		    pid == getpid() && id >= best) {
			best = id;
			snprintf(vm->debugfs, sizeof(vm->debugfs), "%s/%s",
				 YAKVM_DEBUGFS_DIR, e->d_name);
		}
	}
	closedir(d);
}

int dev_open(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		test_fail("open %s: %s", path, strerror(errno));
	return fd;
}

struct vm *vm_create(const struct test_dev *dev, uint64_t mem_size)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	int size;

	TEST_ASSERT(vm, "out of memory");
	vm->dev_path = dev->path;
	vm->is_yakvm = dev->is_yakvm;
	vm->sys_fd = dev_open(dev->path);
	vm->fd = ioctl(vm->sys_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		test_fail("KVM_CREATE_VM on %s: %s", dev->path, strerror(errno));
	size = ioctl(vm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run))
		test_fail("KVM_GET_VCPU_MMAP_SIZE: %d (%s)", size, strerror(errno));
	vm->run_size = size;
	if (vm->is_yakvm)
		find_debugfs_dir(vm);
	trace_vm_created(vm);
	if (mem_size)
		vm_add_memory(vm, 0, 0, mem_size, 0);
	return vm;
}

static void vcpu_free(struct vcpu *v)
{
	munmap(v->run, v->vm->run_size);
	close(v->fd);
	free(v);
}

void vm_free(struct vm *vm)
{
	int i;

	if (!vm)
		return;
	trace_vm_freed(vm);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_free(vm->vcpus[i]);
	close(vm->fd);
	close(vm->sys_fd);
	for (i = 0; i < VM_MAX_REGIONS; i++)
		if (vm->regions[i].used)
			munmap(vm->regions[i].hva, vm->regions[i].size);
	free(vm);
}

/* ---------------------------------------------------------------- */
/* Memory                                                           */

int vm_set_region_raw(struct vm *vm, uint32_t slot, uint32_t flags,
		      uint64_t gpa, uint64_t size, uint64_t hva)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = hva,
	};

	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r);
}

static struct vm_region *region_of_slot(struct vm *vm, uint32_t slot)
{
	int i;

	for (i = 0; i < VM_MAX_REGIONS; i++)
		if (vm->regions[i].used && vm->regions[i].slot == slot)
			return &vm->regions[i];
	return NULL;
}

static struct vm_region *free_region(struct vm *vm)
{
	int i;

	for (i = 0; i < VM_MAX_REGIONS; i++)
		if (!vm->regions[i].used)
			return &vm->regions[i];
	test_fail("more than %d memory regions", VM_MAX_REGIONS);
}

void vm_add_memory_at(struct vm *vm, uint32_t slot, uint64_t gpa,
		      uint64_t size, uint32_t flags, void *hva)
{
	struct vm_region *r = free_region(vm);

	if (vm_set_region_raw(vm, slot, flags, gpa, size, (uint64_t)hva))
		test_fail("KVM_SET_USER_MEMORY_REGION slot %u gpa 0x%llx size 0x%llx: %s",
			  slot, (unsigned long long)gpa,
			  (unsigned long long)size, strerror(errno));
	*r = (struct vm_region){ true, slot, flags, gpa, size, hva };
}

void *vm_add_memory(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size,
		    uint32_t flags)
{
	void *hva = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (hva == MAP_FAILED)
		test_fail("mmap of %llu bytes of guest memory: %s",
			  (unsigned long long)size, strerror(errno));
	vm_add_memory_at(vm, slot, gpa, size, flags, hva);
	return hva;
}

void vm_move_memory(struct vm *vm, uint32_t slot, uint64_t new_gpa)
{
	struct vm_region *r = region_of_slot(vm, slot);

	TEST_ASSERT(r, "slot %u does not exist", slot);
	if (vm_set_region_raw(vm, slot, r->flags, new_gpa, r->size, (uint64_t)r->hva))
		test_fail("moving slot %u to 0x%llx: %s", slot,
			  (unsigned long long)new_gpa, strerror(errno));
	r->gpa = new_gpa;
}

void vm_remove_memory(struct vm *vm, uint32_t slot)
{
	struct vm_region *r = region_of_slot(vm, slot);

	TEST_ASSERT(r, "slot %u does not exist", slot);
	if (vm_set_region_raw(vm, slot, r->flags, r->gpa, 0, (uint64_t)r->hva))
		test_fail("deleting slot %u: %s", slot, strerror(errno));
	munmap(r->hva, r->size);
	r->used = false;
}

void *gpa_to_hva_or_null(struct vm *vm, uint64_t gpa)
{
	int i;

	for (i = 0; i < VM_MAX_REGIONS; i++) {
		struct vm_region *r = &vm->regions[i];

		if (r->used && gpa >= r->gpa && gpa - r->gpa < r->size)
			return (char *)r->hva + (gpa - r->gpa);
	}
	return NULL;
}

void *gpa_to_hva(struct vm *vm, uint64_t gpa)
{
	void *hva = gpa_to_hva_or_null(vm, gpa);

	if (!hva)
		test_fail("guest-physical 0x%llx is not in any memory slot",
			  (unsigned long long)gpa);
	return hva;
}

void guest_write(struct vm *vm, uint64_t gpa, const void *src, size_t len)
{
	TEST_ASSERT(gpa_to_hva_or_null(vm, gpa + len - 1),
		    "0x%llx+%zu is not guest RAM", (unsigned long long)gpa, len);
	memcpy(gpa_to_hva(vm, gpa), src, len);
}

/* ---------------------------------------------------------------- */
/* vCPUs                                                            */

/* As KVM selftests do: a vCPU gets the CPUID its device supports. */
static void vcpu_set_supported_cpuid(struct vcpu *v)
{
	size_t size = sizeof(struct kvm_cpuid2) +
		      MAX_CPUID_ENTRIES * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *cpuid = calloc(1, size);

	TEST_ASSERT(cpuid, "out of memory");
	cpuid->nent = MAX_CPUID_ENTRIES;
	if (ioctl(v->vm->sys_fd, KVM_GET_SUPPORTED_CPUID, cpuid))
		test_fail("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
	if (ioctl(v->fd, KVM_SET_CPUID2, cpuid))
		test_fail("KVM_SET_CPUID2: %s", strerror(errno));
	free(cpuid);
}

struct vcpu *vcpu_add(struct vm *vm, uint32_t id)
{
	struct vcpu *v = calloc(1, sizeof(*v));

	TEST_ASSERT(v, "out of memory");
	TEST_ASSERT(vm->nr_vcpus < VM_MAX_VCPUS, "too many vCPUs");
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0)
		test_fail("KVM_CREATE_VCPU %u: %s", id, strerror(errno));
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	if (v->run == MAP_FAILED)
		test_fail("mmap of vCPU %u's kvm_run: %s", id, strerror(errno));
	vm->vcpus[vm->nr_vcpus++] = v;
	vcpu_set_supported_cpuid(v);
	return v;
}

void vcpu_get_regs(struct vcpu *v, struct kvm_regs *regs)
{
	if (ioctl(v->fd, KVM_GET_REGS, regs))
		test_fail("KVM_GET_REGS: %s", strerror(errno));
}

void vcpu_set_regs(struct vcpu *v, const struct kvm_regs *regs)
{
	if (ioctl(v->fd, KVM_SET_REGS, regs))
		test_fail("KVM_SET_REGS: %s", strerror(errno));
}

void vcpu_get_sregs(struct vcpu *v, struct kvm_sregs *sregs)
{
	if (ioctl(v->fd, KVM_GET_SREGS, sregs))
		test_fail("KVM_GET_SREGS: %s", strerror(errno));
}

void vcpu_set_sregs(struct vcpu *v, const struct kvm_sregs *sregs)
{
	if (ioctl(v->fd, KVM_SET_SREGS, sregs))
		test_fail("KVM_SET_SREGS: %s", strerror(errno));
}

/* ---------------------------------------------------------------- */
/* Running                                                          */

int vcpu_run_raw(struct vcpu *v)
{
	int r = ioctl(v->fd, KVM_RUN, 0);
	int saved_errno = errno;

	if (!r)
		trace_exit(v);
	else if (saved_errno != EINTR)	/* EINTR: where a signal happened to land */
		trace_run_failed(v, saved_errno);
	errno = saved_errno;
	return r;
}

uint32_t vcpu_run(struct vcpu *v)
{
	if (vcpu_run_raw(v))
		test_fail("KVM_RUN: %s (exit reason %s)", strerror(errno),
			  exit_reason_name(v->run->exit_reason));
	return v->run->exit_reason;
}

const char *exit_reason_name(uint32_t reason)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "UNKNOWN",
		[KVM_EXIT_EXCEPTION] = "EXCEPTION",
		[KVM_EXIT_IO] = "IO",
		[KVM_EXIT_HYPERCALL] = "HYPERCALL",
		[KVM_EXIT_DEBUG] = "DEBUG",
		[KVM_EXIT_HLT] = "HLT",
		[KVM_EXIT_MMIO] = "MMIO",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
		[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
		[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[KVM_EXIT_INTR] = "INTR",
		[KVM_EXIT_SET_TPR] = "SET_TPR",
		[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
		[KVM_EXIT_NMI] = "NMI",
		[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
		[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "?";
}

const char *vcpu_exit_str(struct vcpu *v)
{
	static char buf[256];
	struct kvm_run *run = v->run;
	struct kvm_regs regs;
	int n;

	vcpu_get_regs(v, &regs);
	n = snprintf(buf, sizeof(buf), "exit %s (%u) at rip 0x%llx",
		     exit_reason_name(run->exit_reason), run->exit_reason,
		     (unsigned long long)regs.rip);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		snprintf(buf + n, sizeof(buf) - n, ": %s port 0x%x size %u count %u",
			 run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
			 run->io.port, run->io.size, run->io.count);
		break;
	case KVM_EXIT_MMIO:
		snprintf(buf + n, sizeof(buf) - n, ": %s gpa 0x%llx len %u",
			 run->mmio.is_write ? "write" : "read",
			 (unsigned long long)run->mmio.phys_addr, run->mmio.len);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(buf + n, sizeof(buf) - n, ": suberror %u data[0] 0x%llx",
			 run->internal.suberror,
			 (unsigned long long)run->internal.data[0]);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(buf + n, sizeof(buf) - n, ": reason 0x%llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	}
	return buf;
}

void vcpu_expect_exit(struct vcpu *v, uint32_t reason)
{
	if (v->run->exit_reason != reason)
		test_fail("expected exit %s, got %s", exit_reason_name(reason),
			  vcpu_exit_str(v));
}

/* ---------------------------------------------------------------- */
/* ucalls                                                           */

uint64_t vcpu_get_ucall(struct vcpu *v, struct ucall *uc)
{
	struct kvm_run *run = v->run;
	struct kvm_regs regs;
	void *src;

	if (run->exit_reason != KVM_EXIT_IO || run->io.port != UCALL_PORT ||
	    run->io.direction != KVM_EXIT_IO_OUT)
		return UCALL_NONE;
	vcpu_get_regs(v, &regs);
	src = gpa_to_hva_or_null(v->vm, regs.rdi);
	if (!src || !gpa_to_hva_or_null(v->vm, regs.rdi + sizeof(*uc) - 1))
		test_fail("ucall with RDI 0x%llx outside guest RAM",
			  (unsigned long long)regs.rdi);
	memcpy(uc, src, sizeof(*uc));
	uc->message[UCALL_MSG_LEN - 1] = '\0';
	return uc->type;
}

uint64_t vcpu_expect_ucall_exit(struct vcpu *v, struct ucall *uc)
{
	switch (vcpu_get_ucall(v, uc)) {
	case UCALL_NONE:
		test_fail("expected a ucall, got %s", vcpu_exit_str(v));
	case UCALL_ASSERT:
		test_fail("guest assertion: %s", uc->message);
	case UCALL_PRINT:
		test_log("guest: %s", uc->message);
		return UCALL_PRINT;
	default:
		return uc->type;
	}
}

uint64_t vcpu_run_to_ucall(struct vcpu *v, struct ucall *uc)
{
	uint64_t type;

	do {
		vcpu_run(v);
		type = vcpu_expect_ucall_exit(v, uc);
	} while (type == UCALL_PRINT);
	return type;
}

void vcpu_run_expect_ucall(struct vcpu *v, uint64_t type, struct ucall *uc)
{
	static const char *const names[] = { "NONE", "SYNC", "DONE", "ASSERT", "PRINT" };
	uint64_t got = vcpu_run_to_ucall(v, uc);

	if (got != type)
		test_fail("expected ucall %s, got %s (type %llu)",
			  type < 5 ? names[type] : "?",
			  got < 5 ? names[got] : "?", (unsigned long long)got);
}
