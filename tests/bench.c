// SPDX-License-Identifier: GPL-2.0
/*
 * Side-by-side benchmarks of /dev/yakvm and /dev/kvm: the same guest code
 * through the same code path, devices interleaved, several rounds.  Prints
 * one line per measurement for scripts/bench.sh:
 *
 *   @bench NAME DEVICE ROUND VALUE UNIT
 *
 * Absolute times under QEMU's TCG mean little; the ratio between the two
 * devices measured in the same boot is the result.
 *
 *   bench [--rounds N] [--only NAME]
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE		4096UL
#define CODE_GPA	0x1000UL
#define DONE_PORT	0x99		/* the guest's "finished" OUT */
#define IDLE_PORT	0x9a		/* unclaimed port for the PIO benchmark */
#define MMIO_GPA	0x9000UL	/* beyond the small benchmarks' slot */
#define NOTIFY_PORT	0x9b		/* the ioeventfd benchmark's doorbell */

struct vm {
	int sys, fd, vcpu;
	uint8_t *mem;
	size_t mem_size;
	struct kvm_run *run;
	size_t run_size;
};

static const char *const devices[] = { "/dev/yakvm", "/dev/kvm" };
static const char *const dev_names[] = { "yakvm", "kvm" };

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char *what)
{
	printf("# bench: %s failed: %s\n", what, strerror(errno));
	exit(1);
}

static void vm_create(struct vm *vm, const char *dev, size_t mem_size)
{
	struct kvm_userspace_memory_region r;

	memset(vm, 0, sizeof(*vm));
	vm->sys = open(dev, O_RDWR | O_CLOEXEC);
	if (vm->sys < 0)
		die(dev);
	vm->fd = ioctl(vm->sys, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		die("KVM_CREATE_VM");
	vm->mem_size = mem_size;
	vm->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED)
		die("mmap");
	r = (struct kvm_userspace_memory_region) {
		.slot = 0, .memory_size = mem_size,
		.userspace_addr = (uintptr_t)vm->mem,
	};
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r))
		die("KVM_SET_USER_MEMORY_REGION");
	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	if (vm->vcpu < 0)
		die("KVM_CREATE_VCPU");
	vm->run_size = ioctl(vm->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu, 0);
	if (vm->run == MAP_FAILED)
		die("mmap kvm_run");
}

static void vm_destroy(struct vm *vm)
{
	munmap(vm->run, vm->run_size);
	munmap(vm->mem, vm->mem_size);
	close(vm->vcpu);
	close(vm->fd);
	close(vm->sys);
}

/* Real mode (16-bit) at 0:CODE_GPA, or flat 32-bit protected mode. */
static void vcpu_enter(struct vm *vm, bool protected)
{
	struct kvm_regs regs = { .rip = CODE_GPA, .rflags = 2, .rsp = 0x800 };
	struct kvm_sregs sregs;

	if (ioctl(vm->vcpu, KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (protected) {
		struct kvm_segment flat = {
			.limit = 0xffffffff, .present = 1, .s = 1, .db = 1,
			.g = 1, .type = 3,
		};

		sregs.ds = sregs.es = sregs.ss = flat;
		flat.type = 11;
		flat.selector = 8;
		sregs.cs = flat;
		sregs.cr0 = 0x11;	/* PE | ET */
	}
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs))
		die("KVM_SET_SREGS");
	if (ioctl(vm->vcpu, KVM_SET_REGS, &regs))
		die("KVM_SET_REGS");
}

static void vm_run(struct vm *vm)
{
	if (ioctl(vm->vcpu, KVM_RUN, 0))
		die("KVM_RUN");
}

static void load(struct vm *vm, const uint8_t *code, size_t len)
{
	memcpy(vm->mem + CODE_GPA, code, len);
}

static void report(const char *name, int dev, int round, double value,
		   const char *unit)
{
	printf("@bench %s %s %d %.3f %s\n", name, dev_names[dev], round, value,
	       unit);
	fflush(stdout);
}

/* ---- exits to user space ---------------------------------------------- */

/* Time per KVM_RUN round trip of a guest loop that exits on every pass. */
static double roundtrip(int dev, const uint8_t *code, size_t len, int n)
{
	struct vm vm;
	double t0, t;
	int i;

	vm_create(&vm, devices[dev], 0x8000);
	load(&vm, code, len);
	vcpu_enter(&vm, false);
	vm_run(&vm);			/* warm up: first exit maps the page */
	t0 = now_us();
	for (i = 0; i < n; i++)
		vm_run(&vm);
	t = (now_us() - t0) / n;
	vm_destroy(&vm);
	return t;
}

static double bench_pio(int dev)
{
	static const uint8_t code[] = {
		0xe6, IDLE_PORT,	/* 1: out %al, $IDLE_PORT */
		0xeb, 0xfc,		/*    jmp 1b */
	};

	return roundtrip(dev, code, sizeof(code), 4000);
}

static double bench_mmio(int dev)
{
	static const uint8_t code[] = {
		0xa2, MMIO_GPA & 0xff, MMIO_GPA >> 8,	/* 1: mov %al, MMIO_GPA */
		0xeb, 0xfb,				/*    jmp 1b */
	};

	return roundtrip(dev, code, sizeof(code), 4000);
}

static double bench_hlt(int dev)
{
	static const uint8_t code[] = {
		0xf4,			/* 1: hlt */
		0xeb, 0xfd,		/*    jmp 1b */
	};

	return roundtrip(dev, code, sizeof(code), 4000);
}

/* ---- an exit handled in the kernel ------------------------------------- */

#define CPUID_LOOPS	20000

static double bench_cpuid(int dev)
{
	static const uint8_t code[] = {
		0x66, 0xbd, CPUID_LOOPS & 0xff, CPUID_LOOPS >> 8, 0, 0, /* mov $N, %ebp */
		0x66, 0x31, 0xc0,	/* 1: xor %eax, %eax */
		0x0f, 0xa2,		/*    cpuid */
		0x66, 0x4d,		/*    dec %ebp */
		0x75, 0xf7,		/*    jnz 1b */
		0xe6, DONE_PORT,	/*    out %al, $DONE_PORT */
		0xf4,			/*    hlt */
	};
	struct vm vm;
	double t0, t;

	vm_create(&vm, devices[dev], 0x8000);
	load(&vm, code, sizeof(code));
	vcpu_enter(&vm, false);
	t0 = now_us();
	vm_run(&vm);
	t = (now_us() - t0) / CPUID_LOOPS;
	if (vm.run->exit_reason != KVM_EXIT_IO || vm.run->io.port != DONE_PORT)
		printf("# bench: cpuid guest ended with exit %u\n", vm.run->exit_reason);
	vm_destroy(&vm);
	return t;
}

/*
 * A device doorbell as virtio uses it: a guest write to a port that an
 * ioeventfd claims, signalled in the kernel without an exit to user space.
 * Time per write, the eventfd's count checked.
 */
#define NOTIFY_LOOPS	20000

static double bench_ioeventfd(int dev)
{
	static const uint8_t code[] = {
		0x66, 0xbd, NOTIFY_LOOPS & 0xff, NOTIFY_LOOPS >> 8, 0, 0, /* mov $N, %ebp */
		0xe6, NOTIFY_PORT,	/* 1: out %al, $NOTIFY_PORT */
		0x66, 0x4d,		/*    dec %ebp */
		0x75, 0xfa,		/*    jnz 1b */
		0xe6, DONE_PORT,	/*    out %al, $DONE_PORT */
		0xf4,			/*    hlt */
	};
	struct kvm_ioeventfd io = { .addr = NOTIFY_PORT, .len = 1, .flags = KVM_IOEVENTFD_FLAG_PIO };
	uint64_t count = 0;
	struct vm vm;
	double t0, t;

	vm_create(&vm, devices[dev], 0x8000);
	io.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (io.fd < 0 || ioctl(vm.fd, KVM_IOEVENTFD, &io))
		die("KVM_IOEVENTFD");
	load(&vm, code, sizeof(code));
	vcpu_enter(&vm, false);
	t0 = now_us();
	vm_run(&vm);
	t = (now_us() - t0) / NOTIFY_LOOPS;
	if (vm.run->exit_reason != KVM_EXIT_IO || vm.run->io.port != DONE_PORT)
		printf("# bench: ioeventfd guest ended with exit %u\n", vm.run->exit_reason);
	if (read(io.fd, &count, sizeof(count)) != sizeof(count) || count != NOTIFY_LOOPS)
		printf("# bench: ioeventfd counted %llu of %d writes\n",
		       (unsigned long long)count, NOTIFY_LOOPS);
	close(io.fd);
	vm_destroy(&vm);
	return t;
}

/* ---- VM lifecycle -------------------------------------------------------- */

static double bench_lifecycle(int dev)
{
	static const uint8_t code[] = { 0xe6, DONE_PORT, 0xf4 };
	const int n = 20;
	double t0;
	int i;

	t0 = now_us();
	for (i = 0; i < n; i++) {
		struct vm vm;

		vm_create(&vm, devices[dev], 16UL << 20);
		load(&vm, code, sizeof(code));
		vcpu_enter(&vm, false);
		vm_run(&vm);
		vm_destroy(&vm);
	}
	return (now_us() - t0) / n / 1000;
}

/* ---- building nested page tables ---------------------------------------- */

#define TOUCH_START	0x100000UL
#define TOUCH_BYTES	(256UL << 20)

static double bench_first_touch(int dev)
{
	const uint32_t end = TOUCH_START + TOUCH_BYTES;
	const uint8_t code[] = {
		0xb8, 0x00, 0x00, 0x10, 0x00,		/* mov $TOUCH_START, %eax */
		0xc6, 0x00, 0x01,			/* 1: movb $1, (%eax) */
		0x05, 0x00, 0x10, 0x00, 0x00,		/*    add $4096, %eax */
		0x3d, end & 0xff, (end >> 8) & 0xff,	/*    cmp $end, %eax */
		(end >> 16) & 0xff, end >> 24,
		0x72, 0xf1,				/*    jb 1b */
		0xe6, DONE_PORT,			/*    out %al, $DONE_PORT */
		0xf4,					/*    hlt */
	};
	struct vm vm;
	double t0, t;

	vm_create(&vm, devices[dev], TOUCH_START + TOUCH_BYTES);
	load(&vm, code, sizeof(code));
	vcpu_enter(&vm, true);
	t0 = now_us();
	vm_run(&vm);
	t = (now_us() - t0) / 1000;
	if (vm.run->exit_reason != KVM_EXIT_IO || vm.run->io.port != DONE_PORT)
		printf("# bench: first-touch guest ended with exit %u\n",
		       vm.run->exit_reason);
	vm_destroy(&vm);
	return t;
}

/* ---- kernel memory per VM and per vCPU ----------------------------------- */

#define CGROUP_ROOT	"/sys/fs/cgroup"
#define MEM_VMS		128
#define MEM_VCPUS	64	/* yakvm's KVM_CAP_MAX_VCPUS */

static bool write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	bool ok = f && fputs(text, f) >= 0;

	if (f && fclose(f))
		ok = false;
	return ok;
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/*
 * Moves this (child) process into a memory cgroup of its own, so that
 * memory.current counts exactly what it and the kernel on its behalf
 * allocate.  Both modules allocate their per-VM and per-vCPU objects with
 * __GFP_ACCOUNT, which charges them to the process's cgroup.  (MemFree
 * was the first measure tried: the per-CPU page lists made it noise.)
 */
static bool enter_memcg(char *dir, size_t len)
{
	char procs[160];

	mkdir(CGROUP_ROOT, 0755);
	if (access(CGROUP_ROOT "/cgroup.subtree_control", F_OK))
		mount("none", CGROUP_ROOT, "cgroup2", 0, NULL);
	write_file(CGROUP_ROOT "/cgroup.subtree_control", "+memory");
	snprintf(dir, len, CGROUP_ROOT "/yakvm-bench-%d", (int)getpid());
	if (mkdir(dir, 0755) && errno != EEXIST)
		return false;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	return write_file(procs, "0");
}

static long memcg_current(const char *dir)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/memory.current", dir);
	return read_long(path);
}

/* KiB of kernel memory per VM or per vCPU, while creating many of them. */
static double bench_memory(int dev, bool per_vcpu)
{
	int n = per_vcpu ? MEM_VCPUS : MEM_VMS, fds[MEM_VMS];
	int sys = open(devices[dev], O_RDWR | O_CLOEXEC);
	long before, after;
	char cg[128];
	int i, vm = -1;

	if (sys < 0)
		die(devices[dev]);
	if (!enter_memcg(cg, sizeof(cg))) {
		fprintf(stderr, "# bench: no memory cgroup: %s\n", strerror(errno));
		return -1;
	}
	if (per_vcpu)
		vm = ioctl(sys, KVM_CREATE_VM, 0);
	before = memcg_current(cg);
	for (i = 0; i < n; i++) {
		fds[i] = per_vcpu ? ioctl(vm, KVM_CREATE_VCPU, i) :
				    ioctl(sys, KVM_CREATE_VM, 0);
		if (fds[i] < 0)
			die(per_vcpu ? "KVM_CREATE_VCPU" : "KVM_CREATE_VM");
	}
	after = memcg_current(cg);
	for (i = 0; i < n; i++)
		close(fds[i]);
	if (vm >= 0)
		close(vm);
	close(sys);
	return before < 0 || after < 0 ? -1 : (double)(after - before) / 1024 / n;
}

static double bench_vm_memory(int dev)
{
	return bench_memory(dev, false);
}

static double bench_vcpu_memory(int dev)
{
	return bench_memory(dev, true);
}

/* ---- a whole guest OS ---------------------------------------------------- */

#define LINUX_LAUNCHER	"/bin/yakvm-linux"	/* scripts/vm/yakvm-linux */

/*
 * Debian's kernel booted by the VMM (the test VM's yakvm-linux) up to its
 * init running one command, then its reboot ending the VM: milliseconds
 * from exec to exit.  Returns -1 (reported as failed) if the boot fails.
 */
static double bench_linux_boot(int dev)
{
	double start = now_us();
	int status;
	pid_t pid;

	if (access(LINUX_LAUNCHER, X_OK) || access("/linux/vmlinuz", R_OK)) {
		fprintf(stderr, "# bench: no Linux guest in this VM, skipped\n");
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		execl(LINUX_LAUNCHER, "yakvm-linux", "--dev", devices[dev],
		      "--cmd", "true", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	return (now_us() - start) / 1000;
}

/* ---- driver -------------------------------------------------------------- */

struct benchmark {
	const char *name;
	double (*run)(int dev);
	const char *unit;
};

static const struct benchmark benchmarks[] = {
	{ "pio-roundtrip", bench_pio, "us" },
	{ "mmio-roundtrip", bench_mmio, "us" },
	{ "cpuid-in-kernel", bench_cpuid, "us" },
	{ "hlt-roundtrip", bench_hlt, "us" },
	{ "ioeventfd-write", bench_ioeventfd, "us" },
	{ "vm-lifecycle", bench_lifecycle, "ms" },
	{ "first-touch-256M", bench_first_touch, "ms" },
	{ "linux-boot", bench_linux_boot, "ms" },
	{ "kernel-mem-per-vm", bench_vm_memory, "KiB" },
	{ "kernel-mem-per-vcpu", bench_vcpu_memory, "KiB" },
};

/* The memory benchmarks' cgroup of child @pid, empty once it is gone. */
static void remove_memcg(pid_t pid)
{
	char dir[128];

	snprintf(dir, sizeof(dir), CGROUP_ROOT "/yakvm-bench-%d", (int)pid);
	rmdir(dir);
}

/*
 * Each measurement runs in a child process, so everything the device
 * allocated is gone (and SVM released for the other module) before the next.
 */
static void measure(const struct benchmark *b, int dev, int round)
{
	int pipefd[2], status;
	double value = -1;
	pid_t pid;

	if (pipe(pipefd))
		die("pipe");
	pid = fork();
	if (pid == 0) {
		value = b->run(dev);
		if (write(pipefd[1], &value, sizeof(value)) != sizeof(value))
			_exit(1);
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &value, sizeof(value)) != sizeof(value))
		value = -1;
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	remove_memcg(pid);
	if (value >= 0)
		report(b->name, dev, round, value, b->unit);
	else
		printf("# bench: %s on %s failed\n", b->name, dev_names[dev]);
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	int rounds = 5, round, i, j;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--rounds"))
			rounds = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--only"))
			only = argv[i + 1];
	}
	for (round = 1; round <= rounds; round++) {
		for (i = 0; i < (int)(sizeof(benchmarks) / sizeof(benchmarks[0])); i++) {
			if (only && !strstr(benchmarks[i].name, only))
				continue;
			/* Alternate which device goes first from round to round. */
			for (j = 0; j < 2; j++)
				measure(&benchmarks[i], (round + j) % 2, round);
		}
	}
	return 0;
}
