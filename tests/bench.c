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
#include <getopt.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stddef.h>
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
	int sys, fd, vcpu, ap;		/* ap: vCPU 1 of the IPI benchmark, or -1 */
	uint8_t *mem;
	size_t mem_size;
	struct kvm_run *run, *ap_run;
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

static struct kvm_run *vcpu_create(struct vm *vm, int id, int *fd)
{
	struct kvm_run *run;

	*fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
	if (*fd < 0)
		die("KVM_CREATE_VCPU");
	vm->run_size = ioctl(vm->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	return run;
}

/* A VM with one slot at GPA 0; with @irqchip the in-kernel APIC, IOAPIC and PIC. */
static void vm_open(struct vm *vm, const char *dev, size_t mem_size, bool irqchip)
{
	struct kvm_userspace_memory_region r;

	memset(vm, 0, sizeof(*vm));
	vm->ap = -1;
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
	if (irqchip && ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0))
		die("KVM_CREATE_IRQCHIP");
	vm->run = vcpu_create(vm, 0, &vm->vcpu);
}

static void vm_create(struct vm *vm, const char *dev, size_t mem_size)
{
	vm_open(vm, dev, mem_size, false);
}

static void vm_destroy(struct vm *vm)
{
	if (vm->ap >= 0) {
		munmap(vm->ap_run, vm->run_size);
		close(vm->ap);
	}
	munmap(vm->run, vm->run_size);
	munmap(vm->mem, vm->mem_size);
	close(vm->vcpu);
	close(vm->fd);
	close(vm->sys);
}

/* Real mode (16-bit) at 0:@rip, or flat 32-bit protected mode. */
static void vcpu_enter_at(int vcpu, bool protected, uint64_t rip, uint64_t rsp)
{
	struct kvm_regs regs = { .rip = rip, .rflags = 2, .rsp = rsp };
	struct kvm_sregs sregs;

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs))
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
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs))
		die("KVM_SET_SREGS");
	if (ioctl(vcpu, KVM_SET_REGS, &regs))
		die("KVM_SET_REGS");
}

static void vcpu_enter(struct vm *vm, bool protected)
{
	vcpu_enter_at(vm->vcpu, protected, CODE_GPA, 0x800);
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

/* ---- dirty logging ------------------------------------------------------- */

/*
 * The cost of dirty logging to a guest that writes memory (what a VM pays
 * while it migrates): the guest writes one byte in every page of a 64 MiB
 * slot, DIRTY_PASSES times, with the slot's log off, and with it on while a
 * host thread harvests it (KVM_GET_DIRTY_LOG, which write-protects the
 * reported pages again) every DIRTY_HARVEST_US, as QEMU's migration does.
 * Time for the guest's run; a first pass, untimed, faults the pages in.
 */
#define DIRTY_GPA	0x100000UL
#define DIRTY_BYTES	(64UL << 20)
#define DIRTY_PASSES	8
#define DIRTY_HARVEST_US 2000

struct harvester {
	int vm_fd;
	unsigned long *bitmap;
	volatile bool stop;
	long rounds, pages;
};

static void *harvest_main(void *arg)
{
	struct harvester *h = arg;
	struct kvm_dirty_log log = { .slot = 1 };
	size_t i, longs = DIRTY_BYTES / PAGE / 64;

	log.dirty_bitmap = h->bitmap;
	while (!h->stop) {
		if (ioctl(h->vm_fd, KVM_GET_DIRTY_LOG, &log))
			die("KVM_GET_DIRTY_LOG");
		for (i = 0; i < longs; i++)
			h->pages += __builtin_popcountl(h->bitmap[i]);
		h->rounds++;
		usleep(DIRTY_HARVEST_US);
	}
	return NULL;
}

static double dirty_writes(int dev, bool logging)
{
	const uint32_t end = DIRTY_GPA + DIRTY_BYTES;
	const uint8_t code[] = {
		0xb8, 0x00, 0x00, 0x10, 0x00,		/* 2: mov $DIRTY_GPA, %eax */
		0xc6, 0x00, 0x01,			/* 1: movb $1, (%eax) */
		0x05, 0x00, 0x10, 0x00, 0x00,		/*    add $4096, %eax */
		0x3d, end & 0xff, (end >> 8) & 0xff,	/*    cmp $end, %eax */
		(end >> 16) & 0xff, end >> 24,
		0x72, 0xf1,				/*    jb 1b */
		0x49,					/*    dec %ecx */
		0x75, 0xe8,				/*    jnz 2b */
		0xe6, DONE_PORT,			/*    out %al, $DONE_PORT */
		0xf4,					/*    hlt */
	};
	struct harvester h = { .stop = false };
	struct kvm_userspace_memory_region r;
	struct kvm_regs regs;
	pthread_t thread;
	struct vm vm;
	uint8_t *mem;
	double t0, t;
	int pass;

	vm_create(&vm, devices[dev], DIRTY_GPA);
	mem = mmap(NULL, DIRTY_BYTES, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	h.bitmap = calloc(DIRTY_BYTES / PAGE / 8, 1);
	if (mem == MAP_FAILED || !h.bitmap)
		die("dirty-log memory");
	r = (struct kvm_userspace_memory_region) {
		.slot = 1, .guest_phys_addr = DIRTY_GPA, .memory_size = DIRTY_BYTES,
		.userspace_addr = (uintptr_t)mem,
		.flags = logging ? KVM_MEM_LOG_DIRTY_PAGES : 0,
	};
	if (ioctl(vm.fd, KVM_SET_USER_MEMORY_REGION, &r))
		die("KVM_SET_USER_MEMORY_REGION (log)");
	load(&vm, code, sizeof(code));
	for (pass = 0; pass < 2; pass++) {
		vcpu_enter(&vm, true);
		if (ioctl(vm.vcpu, KVM_GET_REGS, &regs))
			die("KVM_GET_REGS");
		regs.rcx = pass ? DIRTY_PASSES : 1;
		if (ioctl(vm.vcpu, KVM_SET_REGS, &regs))
			die("KVM_SET_REGS");
		h.vm_fd = vm.fd;
		if (pass && logging && pthread_create(&thread, NULL, harvest_main, &h))
			die("pthread_create");
		t0 = now_us();
		vm_run(&vm);
		t = (now_us() - t0) / 1000;
		if (vm.run->exit_reason != KVM_EXIT_IO ||
		    vm.run->io.port != DONE_PORT)
			printf("# bench: dirty-log guest ended with exit %u\n",
			       vm.run->exit_reason);
	}
	if (logging) {
		h.stop = true;
		pthread_join(thread, NULL);
		/* Each pass dirties every page: a log that saw none is broken. */
		if (!h.pages)
			printf("# bench: dirty-log on %s: %ld harvests reported no page\n",
			       dev_names[dev], h.rounds);
	}
	free(h.bitmap);
	munmap(mem, DIRTY_BYTES);
	vm_destroy(&vm);
	return t;
}

static double bench_dirty_off(int dev)
{
	return dirty_writes(dev, false);
}

static double bench_dirty_on(int dev)
{
	return dirty_writes(dev, true);
}

/* ---- the in-kernel APIC --------------------------------------------------- */

/*
 * The guests of the interrupt benchmarks: 16-bit real mode at CODE_GPA with
 * the in-kernel local APIC in x2APIC mode, so that every APIC access is an
 * MSR (no GDT, no paging, no MMIO mapping) and real mode's vector table at 0
 * takes the interrupts.  Their variables are struct irq_data at DATA_GPA;
 * the offsets below are checked against it.  The guests measure with RDTSC
 * and the host converts with KVM_GET_TSC_KHZ.
 */
#define DATA_GPA	0x3000UL
#define AP_STACK	0x2800UL
#define V_REPLY		0x40	/* AP -> BSP: "pong" */
#define V_PING		0x41	/* BSP -> AP */
#define V_LAST		0x42	/* BSP -> AP: the last ping, then stop */
#define V_TIMER		0x43

struct irq_data {
	uint32_t replies;	/*  0: pongs the BSP took */
	uint32_t ap_done;	/*  4: the AP took V_LAST */
	uint32_t rounds;	/*  8: set by the host */
	uint32_t delta;		/* 12: timer: TSC cycles from arming to deadline */
	uint64_t deadline;	/* 16: timer: the TSC deadline armed */
	int64_t sum;		/* 24: timer: sum of handler TSC - deadline */
	uint32_t fired;		/* 32: timer interrupts taken */
	uint32_t ap_ready;	/* 36: the AP's APIC is enabled */
	uint64_t t0, t1;	/* 40, 48: IPI: TSC after round 1 and at the end */
};

_Static_assert(offsetof(struct irq_data, delta) == 12, "irq_data layout");
_Static_assert(offsetof(struct irq_data, sum) == 24, "irq_data layout");
_Static_assert(offsetof(struct irq_data, fired) == 32, "irq_data layout");
_Static_assert(offsetof(struct irq_data, ap_ready) == 36, "irq_data layout");
_Static_assert(offsetof(struct irq_data, t1) == 48, "irq_data layout");

#define STR_(x)		#x
#define STR(x)		STR_(x)

extern const uint8_t irq_guest[], irq_guest_end[], ipi_bsp[], ipi_ap[],
	bsp_isr[], ap_isr[], ap_last_isr[], timer_bsp[], timer_isr[];

__asm__(
"	.pushsection .rodata\n"
"	.code16\n"
"irq_guest:\n"
/* x2APIC on (IA32_APIC_BASE.EXTD|EN), software-enabled through the SVR. */
"x2apic_on:\n"
"	movl $0x1b, %ecx\n"
"	rdmsr\n"
"	orl $0xc00, %eax\n"
"	wrmsr\n"
"	movl $0x80f, %ecx\n"
"	movl $0x1ff, %eax\n"
"	xorl %edx, %edx\n"
"	wrmsr\n"
"	ret\n"
"eoi:\n"
"	movl $0x80b, %ecx\n"
"	xorl %eax, %eax\n"
"	xorl %edx, %edx\n"
"	wrmsr\n"
"	ret\n"
/* Fixed IPI, physical destination: vector %eax to APIC ID %edx. */
"send_ipi:\n"
"	movl $0x830, %ecx\n"
"	wrmsr\n"
"	ret\n"
/* BSP: %ebx-th ping with vector %esi, then halt until its pong came. */
"ping:\n"
"	incl %ebx\n"
"	movl %esi, %eax\n"
"	movl $1, %edx\n"
"	call send_ipi\n"
"1:	cmpl %ebx, 0x3000\n"
"	je 2f\n"
"	sti\n"
"	hlt\n"
"	cli\n"
"	jmp 1b\n"
"2:	ret\n"
/* A fixed IPI to a software-disabled APIC is lost: wait until the AP's is on. */
"ipi_bsp:\n"
"	call x2apic_on\n"
"1:	pause\n"
"	cmpl $0, 0x3024\n"
"	je 1b\n"
"	xorl %ebx, %ebx\n"
"	movl $" STR(V_PING) ", %esi\n"
"1:	call ping\n"
"	cmpl $1, %ebx\n"
"	jne 2f\n"
"	rdtsc\n"
"	movl %eax, 0x3028\n"
"	movl %edx, 0x302c\n"
"2:	cmpl 0x3008, %ebx\n"
"	jb 1b\n"
"	rdtsc\n"
"	movl %eax, 0x3030\n"
"	movl %edx, 0x3034\n"
"	movl $" STR(V_LAST) ", %esi\n"
"	call ping\n"
"	outb %al, $" STR(DONE_PORT) "\n"
"3:	hlt\n"
"	jmp 3b\n"
"bsp_isr:\n"
"	pushal\n"
"	incl 0x3000\n"
"	call eoi\n"
"	popal\n"
"	iret\n"
/* AP: halts; each ping is answered from the handler. */
"ipi_ap:\n"
"	call x2apic_on\n"
"	movl $1, 0x3024\n"
"1:	sti\n"
"	hlt\n"
"	cli\n"
"	cmpl $0, 0x3004\n"
"	je 1b\n"
"	outb %al, $" STR(DONE_PORT) "\n"
"2:	hlt\n"
"	jmp 2b\n"
"ap_last_isr:\n"
"	movl $1, 0x3004\n"
"ap_isr:\n"
"	pushal\n"
"	call eoi\n"
"	movl $" STR(V_REPLY) ", %eax\n"
"	xorl %edx, %edx\n"
"	call send_ipi\n"
"	popal\n"
"	iret\n"
/* Timer: LVT timer in TSC-deadline mode; each round arms, halts, is woken. */
"timer_bsp:\n"
"	call x2apic_on\n"
"	movl $0x832, %ecx\n"
"	movl $(0x40000 | " STR(V_TIMER) "), %eax\n"
"	xorl %edx, %edx\n"
"	wrmsr\n"
"	xorl %ebx, %ebx\n"
"1:	incl %ebx\n"
"	rdtsc\n"
"	addl 0x300c, %eax\n"
"	adcl $0, %edx\n"
"	movl %eax, 0x3010\n"
"	movl %edx, 0x3014\n"
"	movl $0x6e0, %ecx\n"
"	wrmsr\n"
"2:	cmpl %ebx, 0x3020\n"
"	je 3f\n"
"	sti\n"
"	hlt\n"
"	cli\n"
"	jmp 2b\n"
"3:	cmpl 0x3008, %ebx\n"
"	jb 1b\n"
"	outb %al, $" STR(DONE_PORT) "\n"
"4:	hlt\n"
"	jmp 4b\n"
"timer_isr:\n"
"	pushal\n"
"	rdtsc\n"
"	subl 0x3010, %eax\n"
"	sbbl 0x3014, %edx\n"
"	addl %eax, 0x3018\n"
"	adcl %edx, 0x301c\n"
"	incl 0x3020\n"
"	call eoi\n"
"	popal\n"
"	iret\n"
"irq_guest_end:\n"
"	.code64\n"
"	.popsection\n");

static uint16_t guest_offset(const uint8_t *label)
{
	return CODE_GPA + (label - irq_guest);
}

/* Real mode's vector table entry @vector -> @isr (segment 0). */
static void set_ivt(struct vm *vm, int vector, const uint8_t *isr)
{
	uint16_t entry[2] = { guest_offset(isr), 0 };

	memcpy(vm->mem + vector * 4, entry, sizeof(entry));
}

/* CPUID as supported, with x2APIC and the TSC-deadline timer offered. */
static void set_cpuid(struct vm *vm, int vcpu)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[100];
	} cpuid = { .c.nent = 100 };
	uint32_t i;

	if (ioctl(vm->sys, KVM_GET_SUPPORTED_CPUID, &cpuid))
		die("KVM_GET_SUPPORTED_CPUID");
	for (i = 0; i < cpuid.c.nent; i++)
		if (cpuid.e[i].function == 1)
			cpuid.e[i].ecx |= 1u << 21 | 1u << 24;	/* x2APIC, TSC-deadline */
	if (ioctl(vcpu, KVM_SET_CPUID2, &cpuid))
		die("KVM_SET_CPUID2");
}

/* A VM with the in-kernel irqchip; vCPU 0 starts at @entry. */
static struct irq_data *irq_vm_create(struct vm *vm, int dev, const uint8_t *entry,
				      uint32_t rounds)
{
	struct irq_data *d;

	vm_open(vm, devices[dev], 0x8000, true);
	set_cpuid(vm, vm->vcpu);
	memcpy(vm->mem + CODE_GPA, irq_guest, irq_guest_end - irq_guest);
	d = (struct irq_data *)(vm->mem + DATA_GPA);
	d->rounds = rounds;
	vcpu_enter_at(vm->vcpu, false, guest_offset(entry), 0x800);
	/* A benchmark that does not finish is reported as failed, not waited for. */
	alarm(120);
	return d;
}

static bool guest_done(struct kvm_run *run, const char *what)
{
	if (run->exit_reason == KVM_EXIT_IO && run->io.port == DONE_PORT)
		return true;
	printf("# bench: %s guest ended with exit %u\n", what, run->exit_reason);
	return false;
}

static int guest_tsc_khz(struct vm *vm)
{
	int khz = ioctl(vm->vcpu, KVM_GET_TSC_KHZ, 0);

	if (khz <= 0)
		die("KVM_GET_TSC_KHZ");
	return khz;
}

static double tsc_to_us(int khz, double cycles)
{
	return cycles * 1000 / khz;
}

static void *run_ap(void *arg)
{
	struct vm *vm = arg;

	if (ioctl(vm->ap, KVM_RUN, 0))
		die("KVM_RUN (AP)");
	return NULL;
}

/*
 * IPI round trip between two vCPUs (one host thread each), both halted in
 * the kernel between interrupts: the BSP sends a fixed IPI, the AP's
 * handler answers with one, the BSP's handler counts it.  Time per round
 * trip after the first.
 */
#define IPI_ROUNDS	500

static double bench_ipi(int dev)
{
	struct kvm_mp_state runnable = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct irq_data *d;
	pthread_t ap;
	struct vm vm;
	double t = -1;

	d = irq_vm_create(&vm, dev, ipi_bsp, IPI_ROUNDS);
	set_ivt(&vm, V_REPLY, bsp_isr);
	set_ivt(&vm, V_PING, ap_isr);
	set_ivt(&vm, V_LAST, ap_last_isr);
	vm.ap_run = vcpu_create(&vm, 1, &vm.ap);
	set_cpuid(&vm, vm.ap);
	/* Started directly rather than by INIT/SIPI: that is not what is measured. */
	if (ioctl(vm.ap, KVM_SET_MP_STATE, &runnable))
		die("KVM_SET_MP_STATE");
	vcpu_enter_at(vm.ap, false, guest_offset(ipi_ap), AP_STACK);
	if (pthread_create(&ap, NULL, run_ap, &vm))
		die("pthread_create");
	vm_run(&vm);
	pthread_join(ap, NULL);
	if (guest_done(vm.run, "IPI (BSP)") && guest_done(vm.ap_run, "IPI (AP)") &&
	    d->replies == IPI_ROUNDS + 1)
		t = tsc_to_us(guest_tsc_khz(&vm), (double)(d->t1 - d->t0) / (IPI_ROUNDS - 1));
	vm_destroy(&vm);
	return t;
}

/*
 * APIC timer in TSC-deadline mode armed 200 us ahead, the vCPU halted in the
 * kernel: TSC at the guest's handler minus the deadline, averaged.
 */
#define TIMER_ROUNDS	200

static double bench_apic_timer(int dev)
{
	struct irq_data *d;
	struct vm vm;
	double t = -1;
	int khz;

	d = irq_vm_create(&vm, dev, timer_bsp, TIMER_ROUNDS);
	set_ivt(&vm, V_TIMER, timer_isr);
	khz = guest_tsc_khz(&vm);
	d->delta = khz / 5;
	vm_run(&vm);
	if (guest_done(vm.run, "APIC timer") && d->fired == TIMER_ROUNDS)
		t = tsc_to_us(khz, (double)d->sum / TIMER_ROUNDS);
	if (d->sum < 0)
		printf("# bench: APIC timer fired %.1f us before its deadline on average\n", -t);
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
 * Debian's kernel booted by the VMM (the test VM's yakvm-linux, with the
 * given extra options) up to its init running one command, then its reboot
 * ending the VM: milliseconds from exec to exit.  Returns -1 (reported as
 * failed) if the boot fails.
 */
static double linux_boot(int dev, const char *opt, const char *value)
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
		execl(LINUX_LAUNCHER, "yakvm-linux", "--dev", devices[dev], opt, value,
		      "--cmd", "true", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid ||
	    !WIFEXITED(status) || WEXITSTATUS(status))
		return -1;
	return (now_us() - start) / 1000;
}

/* One CPU, the VMM's 8259A and 8254 ('noapic nolapic'): the boot measured since the start. */
static double bench_linux_boot(int dev)
{
	return linux_boot(dev, "--irqchip", "user");
}

/* Two CPUs with the in-kernel irqchip: LAPICs, IOAPIC, PIT and INIT/SIPI in the device. */
static double bench_linux_smp2_boot(int dev)
{
	return linux_boot(dev, "--cpus", "2");
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
	{ "ipi-roundtrip", bench_ipi, "us" },
	{ "apic-timer-latency", bench_apic_timer, "us" },
	{ "vm-lifecycle", bench_lifecycle, "ms" },
	{ "first-touch-256M", bench_first_touch, "ms" },
	{ "guest-writes-log-off", bench_dirty_off, "ms" },
	{ "guest-writes-log-on", bench_dirty_on, "ms" },
	{ "linux-boot", bench_linux_boot, "ms" },
	{ "linux-smp2-boot", bench_linux_smp2_boot, "ms" },
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
		fflush(stdout);
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
	if (WIFSIGNALED(status))
		printf("# bench: %s on %s: killed by signal %d\n", b->name,
		       dev_names[dev], WTERMSIG(status));
	if (value >= 0)
		report(b->name, dev, round, value, b->unit);
	else
		printf("# bench: %s on %s failed\n", b->name, dev_names[dev]);
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "rounds", required_argument, NULL, 'r' },
		{ "only", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *only = NULL;
	int rounds = 5, round, i, j, opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'o':
			only = optarg;
			break;
		default:
			fprintf(stderr, "usage: bench [--rounds N] [--only NAME]\n");
			return 2;
		}
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
