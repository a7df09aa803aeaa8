// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl fuzzer for /dev/yakvm: every KVM-ABI ioctl (and random request
 * numbers) on every fd type, with random, NULL, kernel and unmapped
 * pointers, random sizes and flags; memory slots over memory that is later
 * unmapped or remapped; fds closed by a second thread while in use; mmap of
 * the vCPU fd at wrong offsets and sizes; KVM_RUN of random guest state and
 * random guest code, bounded by a timer signal.
 *
 * Every call must return a valid result (>= 0, or -1 with an errno from the
 * expected set); the kernel log scan of the harness catches anything the
 * module does wrong on the kernel side, and the runner's leak check that
 * every object was freed once the process is gone.
 *
 *   fuzz.test [--dev PATH] [--seed N] [--calls N]
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

/* The ioctl fuzzer does not depend on the CPU model (tests/lib/test.h, TEST_CPU_MODEL_INDEPENDENT). */
__attribute__((used)) static const char yakvm_test_once_marker[] =
	"\n# yakvm-test: cpu-model-independent\n";

#define NR_SYS		2
#define NR_VM		4
#define NR_VCPU		8
#define NR_MEM		8
#define PAGE		4096UL
#define KERNEL_PTR	((void *)0xffffffff81000000UL)

static const unsigned long kvm_ioctls[] = {
	KVM_GET_API_VERSION, KVM_CREATE_VM, KVM_GET_MSR_INDEX_LIST,
	KVM_CHECK_EXTENSION, KVM_GET_VCPU_MMAP_SIZE, KVM_GET_SUPPORTED_CPUID,
	KVM_GET_EMULATED_CPUID, KVM_GET_MSR_FEATURE_INDEX_LIST,
	KVM_SET_MEMORY_REGION, KVM_CREATE_VCPU, KVM_GET_DIRTY_LOG,
	KVM_SET_NR_MMU_PAGES, KVM_GET_NR_MMU_PAGES, KVM_SET_USER_MEMORY_REGION,
	KVM_SET_TSS_ADDR, KVM_SET_IDENTITY_MAP_ADDR, KVM_CREATE_IRQCHIP,
	KVM_IRQ_LINE, KVM_GET_IRQCHIP, KVM_SET_IRQCHIP, KVM_CREATE_PIT,
	KVM_GET_PIT, KVM_SET_PIT, KVM_IRQ_LINE_STATUS, KVM_SET_GSI_ROUTING,
	KVM_REINJECT_CONTROL, KVM_IRQFD, KVM_CREATE_PIT2, KVM_SET_BOOT_CPU_ID,
	KVM_IOEVENTFD, KVM_XEN_HVM_CONFIG, KVM_SET_CLOCK, KVM_GET_CLOCK,
	KVM_GET_PIT2, KVM_SET_PIT2, KVM_SET_TSC_KHZ, KVM_GET_TSC_KHZ,
	KVM_SIGNAL_MSI, KVM_SET_PMU_EVENT_FILTER, KVM_CREATE_DEVICE,
	KVM_SET_DEVICE_ATTR, KVM_GET_DEVICE_ATTR, KVM_HAS_DEVICE_ATTR, KVM_RUN,
	KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS, KVM_TRANSLATE,
	KVM_INTERRUPT, KVM_GET_MSRS, KVM_SET_MSRS, KVM_SET_CPUID,
	KVM_SET_SIGNAL_MASK, KVM_GET_FPU, KVM_SET_FPU, KVM_GET_LAPIC,
	KVM_SET_LAPIC, KVM_SET_CPUID2, KVM_GET_CPUID2, KVM_TPR_ACCESS_REPORTING,
	KVM_SET_VAPIC_ADDR, KVM_GET_MP_STATE, KVM_SET_MP_STATE, KVM_NMI,
	KVM_SET_GUEST_DEBUG, KVM_X86_SETUP_MCE, KVM_X86_GET_MCE_CAP_SUPPORTED,
	KVM_X86_SET_MCE, KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS,
	KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS, KVM_ENABLE_CAP, KVM_GET_XSAVE,
	KVM_SET_XSAVE, KVM_GET_XCRS, KVM_SET_XCRS, KVM_GET_ONE_REG,
	KVM_SET_ONE_REG, KVM_KVMCLOCK_CTRL, KVM_GET_REG_LIST, KVM_SMI,
	KVM_MEMORY_ENCRYPT_OP, KVM_GET_NESTED_STATE, KVM_SET_NESTED_STATE,
	KVM_CLEAR_DIRTY_LOG, KVM_GET_SUPPORTED_HV_CPUID,
	KVM_X86_SET_MSR_FILTER, KVM_GET_SREGS2, KVM_SET_SREGS2,
	KVM_GET_STATS_FD, KVM_GET_XSAVE2,
};

/* What a well-behaved ioctl may answer to garbage. */
static const int allowed_errnos[] = {
	EINVAL, EFAULT, ENOTTY, EBADF, E2BIG, ENOMEM, EEXIST, EINTR, EBUSY,
	ENXIO, EIO, ENOENT, EPERM, ENOSPC, EAGAIN, ENODEV, EOPNOTSUPP, EACCES,
	EOVERFLOW, ERANGE, ENOSYS,
};

struct mem {
	uint8_t *addr;
	size_t len;
};

static struct {
	pthread_mutex_t lock;
	int sys[NR_SYS], vm[NR_VM], vcpu[NR_VCPU];
	struct mem mem[NR_MEM];
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

static const char *device = "/dev/yakvm";
static uint64_t rng_state = 1;
static unsigned long calls, max_calls = 100000;
static unsigned long succeeded, runs_entered, vms_created, vcpus_created, slots_set;
static atomic_bool stop_closer;
static void *unmapped;
#define SCRATCH_LEN	(4 * PAGE)
static uint8_t *scratch;		/* followed by an unmapped page */
static sigjmp_buf sigbus_jmp;
static volatile sig_atomic_t in_probe;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from the seed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static void fail(const char *what, long ret, int err)
{
	printf("FAIL yakvm/fuzz/ioctls: %s returned %ld errno %d (%s) after %lu calls\n",
	       what, ret, err, strerror(err), calls);
	exit(1);
}

static void check(const char *what, long ret)
{
	int err = errno;
	size_t i;

	calls++;
	if (ret >= 0) {
		succeeded++;
		return;
	}
	if (ret != -1)
		fail(what, ret, err);
	for (i = 0; i < sizeof(allowed_errnos) / sizeof(allowed_errnos[0]); i++)
		if (err == allowed_errnos[i])
			return;
	fail(what, ret, err);
}

static int pick_fd(int *slots, int n)
{
	int fd;

	pthread_mutex_lock(&pool.lock);
	fd = slots[below(n)];
	pthread_mutex_unlock(&pool.lock);
	return fd;
}

static void put_fd(int *slots, int n, int fd)
{
	int i = below(n), old;

	pthread_mutex_lock(&pool.lock);
	old = slots[i];
	slots[i] = fd;
	pthread_mutex_unlock(&pool.lock);
	if (old >= 0)
		close(old);
}

static void fill_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = rnd();
}

/* A pointer argument: NULL, kernel, unmapped, misaligned or real memory. */
static void *random_pointer(void)
{
	switch (below(8)) {
	case 0:
		return NULL;
	case 1:
		return KERNEL_PTR;
	case 2:
		return unmapped;
	case 3:
		return scratch + SCRATCH_LEN - below(16);	/* runs off the end */
	default:
		fill_random(scratch, below(2) ? 64 : SCRATCH_LEN);
		return scratch + below(3) * 8;
	}
}

static unsigned long random_request(void)
{
	unsigned long req = kvm_ioctls[below(sizeof(kvm_ioctls) / sizeof(kvm_ioctls[0]))];

	switch (below(10)) {
	case 0:
		return rnd() & 0xffffffff;			/* anything */
	case 1:
		return _IOC(below(4), KVMIO, below(256), below(0x4000));
	default:
		return req;
	}
}

static unsigned long random_arg(unsigned long req)
{
	if (req == KVM_CREATE_VCPU || req == KVM_CHECK_EXTENSION ||
	    req == KVM_CREATE_VM)
		return below(4) ? below(80) : rnd();
	if (req == KVM_RUN || req == KVM_GET_API_VERSION)
		return below(4) ? 0 : rnd();
	return (unsigned long)random_pointer();
}

static void map_memory(int i)
{
	size_t len = (1 + below(32)) * PAGE;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return;
	fill_random(p, len);
	/* Some guest code that exits: OUT, HLT, a store to MMIO space. */
	if (len >= 16 && below(2))
		memcpy(p, "\xe6\x80\xf4\xa2\x00\xf0\xeb\xf8", 8);
	pool.mem[i].addr = p;
	pool.mem[i].len = len;
}

/* Unmap or remap memory that may be registered in a slot right now. */
static void churn_memory(void)
{
	int i = below(NR_MEM);
	struct mem *m = &pool.mem[i];

	if (m->addr && below(2)) {
		mmap(m->addr, m->len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		return;
	}
	if (m->addr)
		munmap(m->addr, m->len);
	map_memory(i);
}

static void set_memory_region(void)
{
	struct kvm_userspace_memory_region r;
	struct mem *m = &pool.mem[below(NR_MEM)];
	int vm = pick_fd(pool.vm, NR_VM);

	memset(&r, 0, sizeof(r));
	r.slot = below(8) ? below(70) : rnd();
	r.flags = below(4) ? 0 : (below(2) ? KVM_MEM_READONLY : rnd());
	r.guest_phys_addr = below(4) ? below(64) * PAGE :
			    (below(2) ? rnd() : rnd() & ~(PAGE - 1));
	r.memory_size = m->addr ? m->len : PAGE;
	if (!below(4))
		r.memory_size = below(2) ? 0 : rnd();
	r.userspace_addr = m->addr && below(4) ? (uintptr_t)m->addr :
			   (uintptr_t)random_pointer();
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) == 0) {
		slots_set++;
		calls++;
		succeeded++;
		return;
	}
	check("KVM_SET_USER_MEMORY_REGION", -1);
}

static void random_segment(struct kvm_segment *s)
{
	if (below(3))
		return;
	s->base = below(2) ? 0 : rnd();
	s->limit = below(2) ? 0xffffffff : rnd();
	s->selector = rnd();
	s->type = below(16);
	s->present = below(2);
	s->dpl = below(4);
	s->db = below(2);
	s->s = below(2);
	s->l = below(2);
	s->g = below(2);
	s->unusable = !below(8);
}

static void prepare_vcpu(int vcpu)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) == 0) {
		random_segment(&sregs.cs);
		random_segment(&sregs.ss);
		random_segment(&sregs.ds);
		if (!below(3)) {
			sregs.cr0 = rnd();
			sregs.cr4 = rnd() & 0x3fffff;
			sregs.efer = rnd() & 0xd01;
			sregs.cr3 = rnd() & 0xfffff000;
		} else {
			sregs.cs.base = 0;
			sregs.cs.selector = 0;
		}
		check("KVM_SET_SREGS", ioctl(vcpu, KVM_SET_SREGS, &sregs));
	}
	memset(&regs, 0, sizeof(regs));
	regs.rip = below(2) ? below(64) * PAGE : rnd();
	regs.rsp = rnd();
	regs.rflags = below(2) ? 2 : rnd();
	check("KVM_SET_REGS", ioctl(vcpu, KVM_SET_REGS, &regs));
}

static void run_vcpu(void)
{
	int vcpu = pick_fd(pool.vcpu, NR_VCPU);
	int r;

	if (below(2))
		prepare_vcpu(vcpu);
	/* The interval timer interrupts a guest that never exits. */
	r = ioctl(vcpu, KVM_RUN, 0);
	if (r == 0 || errno == EINTR)
		runs_entered++;
	check("KVM_RUN", r);
}

static void on_sigbus(int sig)
{
	(void)sig;
	if (in_probe)
		siglongjmp(sigbus_jmp, 1);
	_exit(3);
}

/*
 * mmap of the vCPU fd at random offsets and lengths: page 0 (kvm_run),
 * page 1 (PIO data) and page 2 (the coalesced MMIO ring,
 * KVM_CAP_COALESCED_MMIO) are readable, anything beyond must raise SIGBUS.
 */
static void mmap_vcpu(void)
{
	int vcpu = pick_fd(pool.vcpu, NR_VCPU);
	size_t pages = 1 + below(4), off = below(4), i;
	volatile uint8_t *p;

	p = mmap(NULL, pages * PAGE, PROT_READ | (below(2) ? PROT_WRITE : 0),
		 MAP_SHARED, vcpu, off * PAGE);
	calls++;
	if (p == MAP_FAILED)
		return;
	for (i = 0; i < pages; i++) {
		bool valid = off + i < 3, faulted;

		in_probe = 1;
		faulted = sigsetjmp(sigbus_jmp, 1) != 0;
		if (!faulted)
			(void)p[i * PAGE];
		in_probe = 0;
		/* Another fd may have taken this number: only judge our own. */
		if (faulted == valid && fcntl(vcpu, F_GETFD) >= 0 &&
		    ioctl(vcpu, KVM_GET_REGS, scratch) == 0) {
			printf("FAIL yakvm/fuzz/ioctls: vCPU mmap page %zu %s\n",
			       off + i, valid ? "faulted" : "did not fault");
			exit(1);
		}
	}
	munmap((void *)p, pages * PAGE);
}

static void create_objects(void)
{
	int r;

	switch (below(3)) {
	case 0:
		r = open(device, O_RDWR);
		check("open", r);
		if (r >= 0)
			put_fd(pool.sys, NR_SYS, r);
		break;
	case 1:
		r = ioctl(pick_fd(pool.sys, NR_SYS), KVM_CREATE_VM, below(8) ? 0 : rnd());
		check("KVM_CREATE_VM", r);
		vms_created += r >= 0;
		if (r >= 0)
			put_fd(pool.vm, NR_VM, r);
		break;
	default:
		r = ioctl(pick_fd(pool.vm, NR_VM), KVM_CREATE_VCPU, below(20));
		check("KVM_CREATE_VCPU", r);
		vcpus_created += r >= 0;
		if (r >= 0)
			put_fd(pool.vcpu, NR_VCPU, r);
		break;
	}
}

static void random_ioctl(void)
{
	int *slots[] = { pool.sys, pool.vm, pool.vcpu };
	int sizes[] = { NR_SYS, NR_VM, NR_VCPU };
	int kind = below(3);
	int fd = pick_fd(slots[kind], sizes[kind]);
	unsigned long req = random_request();

	if (req == KVM_RUN && kind == 2)
		return run_vcpu();
	check("ioctl", ioctl(fd, req, random_arg(req)));
}

/* Closes fds while the main thread may be inside an ioctl on them. */
static void *closer(void *arg)
{
	uint64_t state = (uintptr_t)arg;

	while (!atomic_load(&stop_closer)) {
		int *slots[] = { pool.sys, pool.vm, pool.vcpu };
		int sizes[] = { NR_SYS, NR_VM, NR_VCPU };
		int kind, i, fd;

		state = state * 6364136223846793005ULL + 1;
		kind = (state >> 33) % 3;
		i = (state >> 40) % sizes[kind];
		pthread_mutex_lock(&pool.lock);
		fd = slots[kind][i];
		slots[kind][i] = -1;
		pthread_mutex_unlock(&pool.lock);
		if (fd >= 0)
			close(fd);
		usleep(2000 + (state >> 50) % 4000);
	}
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void setup(void)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	int i, fd;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: KVM_RUN returns EINTR */
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = on_sigbus;
	sigaction(SIGBUS, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);

	/* Keep random ioctls away from the console. */
	fd = open("/dev/null", O_RDWR);
	dup2(fd, 0);
	close(fd);

	unmapped = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(unmapped, PAGE);
	scratch = mmap(NULL, SCRATCH_LEN + PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(scratch + SCRATCH_LEN, PAGE);
	for (i = 0; i < NR_SYS; i++)
		pool.sys[i] = -1;
	for (i = 0; i < NR_VM; i++)
		pool.vm[i] = -1;
	for (i = 0; i < NR_VCPU; i++)
		pool.vcpu[i] = -1;
	for (i = 0; i < NR_MEM; i++)
		map_memory(i);
	pool.sys[0] = open(device, O_RDWR);
	if (pool.sys[0] < 0) {
		printf("FAIL yakvm/fuzz/ioctls: cannot open %s: %s\n", device, strerror(errno));
		exit(1);
	}
}

static void parse_args(int argc, char **argv)
{
	int i;

	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--dev"))
			device = argv[i + 1];
		else if (!strcmp(argv[i], "--seed"))
			rng_state = strtoull(argv[i + 1], NULL, 0) | 1;
		else if (!strcmp(argv[i], "--calls"))
			max_calls = strtoul(argv[i + 1], NULL, 0);
	}
}

int main(int argc, char **argv)
{
	uint64_t seed;
	pthread_t thread;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		printf("yakvm/fuzz/ioctls\n");	/* the inventory (tests/manifest.txt) */
		return 0;
	}
	parse_args(argc, argv);
	seed = rng_state;
	setup();
	pthread_create(&thread, NULL, closer, (void *)(uintptr_t)seed);
	while (calls < max_calls) {
		switch (below(16)) {
		case 0:
		case 1:
			create_objects();
			break;
		case 2:
			set_memory_region();
			break;
		case 3:
			churn_memory();
			break;
		case 4:
			mmap_vcpu();
			break;
		case 5:
		case 6:
			run_vcpu();
			break;
		default:
			random_ioctl();
			break;
		}
	}
	atomic_store(&stop_closer, true);
	pthread_join(thread, NULL);
	printf("ok yakvm/fuzz/ioctls: %lu calls (%lu succeeded: %lu VMs, %lu vCPUs, %lu slots, %lu guest runs), seed %llu, every result valid\n",
	       calls, succeeded, vms_created, vcpus_created, slots_set,
	       runs_entered, (unsigned long long)seed);
	return 0;
}
