/*
 * VM setup: the device, guest RAM and its memory slots, and the stop state.
 * The ioctls are KVM's (Documentation/virt/kvm/api.rst); nothing here knows
 * whether the fd behind them is /dev/yakvm or /dev/kvm.
 */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpuid.h"
#include "devices/platform.h"
#include "interrupts.h"
#include "status.h"
#include "util.h"
#include "vcpu.h"

#define MIN_MEM_SIZE	(1 * MiB)	/* room for the boot tables below 1 MiB */
#define PAGE_SIZE	4096ULL

static _Noreturn void fail_open(const char *path, int err)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;

	if (err == ENOENT && strcmp(name, "yakvm") == 0)
		fail(STATUS_SETUP, "%s does not exist: module not loaded — run "
		     "'insmod build/yakvm.ko' (in the test VM: 'insmod /lib/modules/yakvm.ko')",
		     path);
	if (err == ENOENT && strcmp(name, "kvm") == 0)
		fail(STATUS_SETUP, "%s does not exist: KVM not loaded — run 'modprobe kvm-amd'",
		     path);
	fail(STATUS_SETUP, "cannot open %s: %s", path, strerror(err));
}

void vm_open_device(struct vm *vm, const char *dev_path)
{
	int version;

	vm->dev_path = dev_path;
	vm->dev_fd = open(dev_path, O_RDWR | O_CLOEXEC);
	if (vm->dev_fd < 0)
		fail_open(dev_path, errno);
	version = ioctl(vm->dev_fd, KVM_GET_API_VERSION, 0);
	if (version < 0)
		fail(STATUS_SETUP, "%s is not a KVM-ABI device (KVM_GET_API_VERSION: %s)",
		     dev_path, strerror(errno));
	if (version != KVM_API_VERSION)
		fail(STATUS_SETUP, "%s speaks KVM API version %d, yakvm needs %d",
		     dev_path, version, KVM_API_VERSION);
}

/* KVM_CHECK_EXTENSION on the VM fd where it exists (api.rst 4.4). */
int vm_check_extension(struct vm *vm, long cap)
{
	int fd = vm->vm_fd >= 0 ? vm->vm_fd : vm->dev_fd;
	int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	return r < 0 ? 0 : r;
}

static void require_extension(struct vm *vm, long cap, const char *name)
{
	if (!vm_check_extension(vm, cap))
		fail(STATUS_SETUP, "%s lacks %s, which yakvm needs", vm->dev_path, name);
}

/* api.rst: without KVM_CAP_MAX_VCPUS, use KVM_CAP_NR_VCPUS; without that, 4. */
static unsigned int max_vcpus(struct vm *vm)
{
	int n = vm_check_extension(vm, KVM_CAP_MAX_VCPUS);

	if (!n)
		n = vm_check_extension(vm, KVM_CAP_NR_VCPUS);
	return n ? (unsigned int)n : 4;
}

static void check_mem_size(uint64_t size)
{
	if (size < MIN_MEM_SIZE)
		fail(STATUS_USAGE, "--mem %lluK is too small: yakvm needs at least 1M",
		     (unsigned long long)(size / KiB));
	if (size % PAGE_SIZE)
		fail(STATUS_USAGE, "--mem must be a multiple of 4K");
}

static void add_slot(struct vm *vm, uint32_t slot, uint64_t gpa, uint64_t size,
		     uint8_t *hva)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		fail(STATUS_SETUP, "KVM_SET_USER_MEMORY_REGION (slot %u, %llu MiB at %#llx): %s",
		     slot, (unsigned long long)(size / MiB),
		     (unsigned long long)gpa, strerror(errno));
	vm->ram[vm->nr_ram++] = (struct ram_range){ .gpa = gpa, .size = size, .hva = hva };
}

/*
 * RAM starts at 0; what does not fit below LOW_RAM_LIMIT continues at 4 GiB,
 * leaving the top of the 32-bit space for MMIO (as on a PC).
 */
static void create_ram(struct vm *vm, uint64_t size)
{
	uint64_t low = size < LOW_RAM_LIMIT ? size : LOW_RAM_LIMIT;
	uint8_t *hva;

	check_mem_size(size);
	hva = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (hva == MAP_FAILED)
		fail(STATUS_SETUP, "cannot allocate %llu MiB of guest memory: %s",
		     (unsigned long long)(size / MiB), strerror(errno));
	vm->mem_size = size;
	add_slot(vm, 0, 0, low, hva);
	if (size > low)
		add_slot(vm, 1, HIGH_RAM_BASE, size - low, hva + low);
}

static void init_stop_state(struct vm *vm)
{
	pthread_mutex_init(&vm->stop_lock, NULL);
	atomic_init(&vm->stopping, false);
	vm->stop_status = STATUS_HALTED;
	vm->stop_event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_event_fd < 0)
		fail(STATUS_SETUP, "eventfd: %s", strerror(errno));
}

static void create_vcpus(struct vm *vm, unsigned int n)
{
	unsigned int max = max_vcpus(vm);
	unsigned int i;

	if (n > max)
		fail(STATUS_USAGE, "--cpus %u: %s supports at most %u vCPUs (KVM_CAP_MAX_VCPUS)",
		     n, vm->dev_path, max);
	vm->vcpus = calloc(n, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		fail(STATUS_SETUP, "out of memory for %u vCPUs", n);
	vm->nr_vcpus = n;
	cpuid_init(vm);
	for (i = 0; i < n; i++)
		vcpu_create(vm, i, &vm->vcpus[i]);
}

void vm_create(struct vm *vm, const struct vm_config *cfg)
{
	int size;

	vm->vm_fd = -1;
	vm->strict = cfg->strict;
	vm->trace_exits = cfg->trace_exits;
	vm->irqchip = cfg->irqchip;
	io_bus_init(&vm->pio, "port", 4);
	io_bus_init(&vm->mmio, "MMIO address", 8);
	init_stop_state(vm);

	require_extension(vm, KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY");
	/* The stop kick relies on it: see vcpu.c. */
	require_extension(vm, KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT");
	size = ioctl(vm->dev_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run))
		fail(STATUS_SETUP, "KVM_GET_VCPU_MMAP_SIZE: %s", size < 0 ? strerror(errno) : "too small");
	vm->run_mmap_size = size;

	vm->vm_fd = ioctl(vm->dev_fd, KVM_CREATE_VM, 0);
	/*
	 * EBUSY: another hypervisor has SVM; on Linux 6.12 that is kvm_amd from
	 * the moment it is loaded (docs/design.md, "Sharing SVM with kvm_amd").
	 */
	if (vm->vm_fd < 0 && errno == EBUSY)
		fail(STATUS_SETUP, "KVM_CREATE_VM on %s: %s: another hypervisor is using SVM. "
		     "If it is kvm_amd (Linux 6.12 keeps SVM while kvm_amd is loaded): "
		     "'modprobe -r kvm_amd', or load kvm with enable_virt_at_load=0; "
		     "otherwise wait until its VMs are gone", vm->dev_path, strerror(errno));
	if (vm->vm_fd < 0)
		fail(STATUS_SETUP, "KVM_CREATE_VM on %s: %s", vm->dev_path, strerror(errno));
	create_ram(vm, cfg->mem_size);
	/* KVM_CREATE_IRQCHIP gives LAPICs only to vCPUs created after it. */
	interrupts_create_irqchip(vm);
	create_vcpus(vm, cfg->nr_cpus);
}

void *vm_guest_ram(struct vm *vm, uint64_t gpa, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < vm->nr_ram; i++) {
		const struct ram_range *r = &vm->ram[i];

		if (gpa >= r->gpa && len <= r->size && gpa - r->gpa <= r->size - len)
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

void vm_request_stop(struct vm *vm, int status)
{
	uint64_t one = 1;

	pthread_mutex_lock(&vm->stop_lock);
	if (!atomic_load(&vm->stopping)) {
		vm->stop_status = status;
		atomic_store(&vm->stopping, true);
	}
	pthread_mutex_unlock(&vm->stop_lock);
	if (write(vm->stop_event_fd, &one, sizeof(one)) < 0) {
		/* The counter is already non-zero: the main thread will wake. */
	}
}

bool vm_is_stopping(struct vm *vm)
{
	return atomic_load(&vm->stopping);
}

void vm_vcpu_halted(struct vm *vm)
{
	bool last;

	pthread_mutex_lock(&vm->stop_lock);
	last = --vm->running_vcpus == 0;
	pthread_mutex_unlock(&vm->stop_lock);
	if (last)
		vm_request_stop(vm, STATUS_HALTED);
}

int vm_stop_status(struct vm *vm)
{
	int status;

	pthread_mutex_lock(&vm->stop_lock);
	status = vm->stop_status;
	pthread_mutex_unlock(&vm->stop_lock);
	return status;
}
