// SPDX-License-Identifier: GPL-2.0
/*
 * ioctls racing each other: two threads on the same vCPU (KVM_RUN in a
 * loop against every state ioctl), vCPUs created while a sibling runs and
 * slots change under it, memory slots moved, deleted and added while the
 * vCPUs that touch them run, and the VM fd closed under running vCPUs.
 * Each race must leave the guests' view exact -- no stale data once an
 * ioctl returned -- and every object freed (tests/lib/objects.h).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "diff.h"
#include "guest.h"
#include "modes.h"
#include "objects.h"

/* ioctl rules, races and lifetimes: the same on every CPU model. */
TEST_CPU_MODEL_INDEPENDENT();

#define NS_PER_MS	1000000ULL
#define HANG_MS		20000		/* a hang guard, not a speed limit */
#define MIB		(1ULL << 20)
#define COUNTERS_GPA	GPA_LOW_DATA

/*
 * Counts in memory at EBX, then an OUT exit, forever.  The XOR before the
 * OUT gives every exit the same registers -- EAX 0, the flags of a zero
 * result -- so that a second thread writing back registers it read at an
 * earlier exit changes nothing, whenever the write lands.
 */
GUEST_CODE32(count_and_exit,
	"1: incl (%ebx)\n"
	"xor %eax, %eax\n"
	"out %al, $0x80\n"
	"jmp 1b\n");
#define OUT_RIP		(GPA_LOW_CODE + 4)	/* after INCL (2 bytes) and XOR (2) */

/* Counts in memory at EBX with interrupts off, without ever exiting. */
GUEST_CODE32(count_forever, "cli\n 1: incl (%ebx)\n jmp 1b\n");

static void *anon_memory(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TEST_ASSERT(p != MAP_FAILED, "mmap");
	return p;
}

static void on_signal(int sig)
{
	(void)sig;
}

static void set_rbx(struct vcpu *v, uint64_t rbx)
{
	struct kvm_regs regs;

	vcpu_get_regs(v, &regs);
	regs.rbx = rbx;
	vcpu_set_regs(v, &regs);
}

static struct vcpu *add_counting_vcpu(struct vm *vm, uint32_t id, const struct guest_code *code)
{
	struct vcpu *v = vcpu_add(vm, id);

	vcpu_enter_low_code(v, MODE_PROT32, code);
	set_rbx(v, COUNTERS_GPA + 4 * id);
	return v;
}

static volatile uint32_t *guest_counter(struct vm *vm, uint32_t id)
{
	return (volatile uint32_t *)gpa_to_hva(vm, COUNTERS_GPA) + id;
}

/* Runs @v for @exits OUT exits on port 0x80, failing at anything else. */
static void run_out_exits(struct vcpu *v, int exits)
{
	int i;

	for (i = 0; i < exits; i++) {
		vcpu_run(v);
		TEST_ASSERT(v->run->exit_reason == KVM_EXIT_IO && v->run->io.port == 0x80,
			    "exit %d: %s", i, vcpu_exit_str(v));
	}
}

/* ---------------------------------------------------------------- */
/* Two threads on one vCPU                                          */

#define RUN_EXITS	4000
#define MSR_STAR	0xc0000081

struct meddler {
	struct vcpu *v;
	volatile bool stop;
	struct kvm_sregs sregs;		/* what the guest runs with: never changes */
	struct kvm_cpuid2 *cpuid;	/* the table the library set */
	unsigned long rounds;
};

struct one_msr {
	struct kvm_msrs h;
	struct kvm_msr_entry e;
};

/* The guest never uses STAR: what the meddler writes, it reads back. */
static void star_round_trip(struct vcpu *v, uint64_t value)
{
	struct one_msr m = { .h.nmsrs = 1, .e.index = MSR_STAR, .e.data = value };

	TEST_ASSERT_EQ(ioctl(v->fd, KVM_SET_MSRS, &m), 1);
	m.e.data = 0;
	TEST_ASSERT_EQ(ioctl(v->fd, KVM_GET_MSRS, &m), 1);
	TEST_ASSERT_EQ(m.e.data, value);
}

/*
 * The guest's registers are the same at every exit (RIP at the OUT, EAX
 * and the flags set by the XOR), and the meddler starts after the first
 * exit, so writing back what was read is a no-op whenever it lands: the
 * guest's count and its final registers must come out exact.
 */
static void meddle_once(struct meddler *m)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_fpu fpu;
	struct vcpu *v = m->v;

	vcpu_get_regs(v, &regs);
	TEST_ASSERT(regs.rip == OUT_RIP, "RIP 0x%llx is not the OUT's (0x%llx) after the first exit",
		    (unsigned long long)regs.rip, (unsigned long long)OUT_RIP);
	vcpu_set_regs(v, &regs);
	vcpu_get_sregs(v, &sregs);
	TEST_ASSERT(sregs.cr0 == m->sregs.cr0 && sregs.cs.base == m->sregs.cs.base &&
		    sregs.cs.selector == m->sregs.cs.selector && sregs.efer == m->sregs.efer,
		    "KVM_GET_SREGS returned other segments or control registers");
	vcpu_set_sregs(v, &m->sregs);
	EXPECT_OK(ioctl(v->fd, KVM_GET_FPU, &fpu));
	EXPECT_OK(ioctl(v->fd, KVM_SET_FPU, &fpu));
	star_round_trip(v, 0x0023001000000000ULL + m->rounds);
	EXPECT_OK(ioctl(v->fd, KVM_SET_CPUID2, m->cpuid));
	EXPECT_OK(ioctl(v->fd, KVM_SET_GUEST_DEBUG, &(struct kvm_guest_debug){ 0 }));
	m->rounds++;
}

static void *meddle(void *arg)
{
	struct meddler *m = arg;

	while (!m->stop)
		meddle_once(m);
	return NULL;
}

static struct kvm_cpuid2 *supported_cpuid(struct vm *vm)
{
	const int max = 256;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + max * sizeof(c->entries[0]));

	TEST_ASSERT(c, "out of memory");
	c->nent = max;
	EXPECT_OK(ioctl(vm->sys_fd, KVM_GET_SUPPORTED_CPUID, c));
	return c;
}

TEST_CASE_OPTS(same_vcpu_two_threads, .timeout_s = 120)
{
	struct vm *vm = vm_create(ctx->dev, REAL_MODE_MEM_SIZE);
	struct meddler m = { .v = add_counting_vcpu(vm, 0, &count_and_exit) };
	pthread_t t;

	m.cpuid = supported_cpuid(vm);
	vcpu_get_sregs(m.v, &m.sregs);
	run_out_exits(m.v, 1);		/* from now on RIP is the OUT's at every exit */
	TEST_ASSERT(!pthread_create(&t, NULL, meddle, &m), "pthread_create");
	run_out_exits(m.v, RUN_EXITS - 1);
	m.stop = true;
	pthread_join(t, NULL);
	/* STAR held the meddler's round count (timing): one fixed value for the trace. */
	star_round_trip(m.v, 0x0023001000000000ULL);
	TEST_ASSERT_EQ(*guest_counter(vm, 0), RUN_EXITS);
	TEST_ASSERT(m.rounds > 10, "the second thread got the vCPU only %lu times", m.rounds);
	test_log("%lu rounds of state ioctls during %d runs", m.rounds, RUN_EXITS);
	free(m.cpuid);
	vm_free(vm);
}

/* ---------------------------------------------------------------- */
/* vCPUs created while a sibling runs and slots change              */

#define RACE_VMS	5
#define RACE_VCPUS	16
#define SIBLING_EXITS	600
#define FLIP_GPA	(64 * MIB)

struct race {
	struct vm *vm;
	volatile bool stop;
	void *flip_mem;
};

/*
 * Adds and deletes a slot: each change kicks every vCPU the VM has so far.
 * (Raw ioctls: the library's slot table is the main thread's.)
 */
static void *flip_slot(void *arg)
{
	struct race *r = arg;

	while (!r->stop) {
		EXPECT_OK(vm_set_region_raw(r->vm, 1, 0, FLIP_GPA, 2 * MIB,
					    (uint64_t)r->flip_mem));
		EXPECT_OK(vm_set_region_raw(r->vm, 1, 0, FLIP_GPA, 0, (uint64_t)r->flip_mem));
	}
	return NULL;
}

/* Each new vCPU runs the sibling's code (the same bytes, copied again) once. */
static void *create_and_run_vcpus(void *arg)
{
	struct race *r = arg;
	uint32_t id;

	for (id = 1; id < RACE_VCPUS; id++)
		run_out_exits(add_counting_vcpu(r->vm, id, &count_and_exit), 1);
	return NULL;
}

static void race_creation_with_run(const struct test_dev *dev)
{
	struct race r = { .vm = vm_create(dev, REAL_MODE_MEM_SIZE),
			  .flip_mem = anon_memory(2 * MIB) };
	struct vcpu *sibling = add_counting_vcpu(r.vm, 0, &count_and_exit);
	pthread_t creator, flipper;

	TEST_ASSERT(!pthread_create(&flipper, NULL, flip_slot, &r), "pthread_create");
	TEST_ASSERT(!pthread_create(&creator, NULL, create_and_run_vcpus, &r), "pthread_create");
	run_out_exits(sibling, SIBLING_EXITS);
	pthread_join(creator, NULL);
	r.stop = true;
	pthread_join(flipper, NULL);
	TEST_ASSERT_EQ(*guest_counter(r.vm, 0), SIBLING_EXITS);
	TEST_ASSERT_EQ(r.vm->nr_vcpus, RACE_VCPUS);
	vm_free(r.vm);
	munmap(r.flip_mem, 2 * MIB);
}

TEST_CASE_OPTS(vcpu_creation_races_run, .timeout_s = 120)
{
	struct counters start;
	int i;

	read_counters(ctx->dev, &start);
	for (i = 0; i < RACE_VMS; i++)
		race_creation_with_run(ctx->dev);
	expect_counters_at(ctx->dev, &start, "after the races");
}

/* ---------------------------------------------------------------- */
/* Slots changed while the vCPUs that touch them run               */

#define WINDOW_A	(256 * MIB)
#define WINDOW_B	(512 * MIB)
#define WINDOW_SIZE	0x10000ULL
#define WRITE_AREA	(WINDOW_SIZE / 2)	/* the guests write here, read below */
#define NOWHERE		0ULL
#define MMIO_MARK	0x6d6d696f6d6d696fULL	/* what the host answers unbacked reads with */
#define SLOT_VCPUS	2
#define SLOT_ROUNDS	40			/* of add, move, move back, delete */
#define WINDOW_SLOT	1

/*
 * Where the window slot is, published by the host like a seqlock: the
 * epoch is odd while a change is under way and moves on after each, so a
 * guest that read the same even epoch before and after its accesses knows
 * they happened while the slot stood still, after the ioctl had returned.
 */
static volatile uint64_t slot_epoch, slot_where, slot_gen, stop_guests;
static volatile uint64_t consistent_reads[SLOT_VCPUS];

/* The window's contents in generation @gen; never MMIO_MARK (its low half). */
static uint64_t window_pattern(uint64_t gen, uint64_t off)
{
	return gen << 32 | off;
}

static uint64_t expected_at(uint64_t window, uint64_t where, uint64_t gen, uint64_t off)
{
	return where == window ? window_pattern(gen, off) : MMIO_MARK;
}

static void guest_watch_window(uint64_t id)
{
	uint64_t i;

	for (i = 0; !stop_guests; i++) {
		uint64_t off = i * 8 * 37 % WRITE_AREA;
		uint64_t epoch = slot_epoch, where = slot_where, gen = slot_gen;
		uint64_t a = *(volatile uint64_t *)(WINDOW_A + off);
		uint64_t b = *(volatile uint64_t *)(WINDOW_B + off);

		*(volatile uint64_t *)(WINDOW_A + WRITE_AREA + id * 8) = i + 1;
		if ((epoch & 1) || slot_epoch != epoch)
			continue;
		GUEST_ASSERT_EQ(a, expected_at(WINDOW_A, where, gen, off));
		GUEST_ASSERT_EQ(b, expected_at(WINDOW_B, where, gen, off));
		consistent_reads[id]++;
	}
}

static bool in_window(uint64_t gpa, uint64_t window)
{
	return gpa >= window && gpa < window + WINDOW_SIZE;
}

/* Runs a watcher to its end, answering the window's MMIO accesses. */
static void *run_watcher(void *arg)
{
	struct vcpu *v = arg;
	struct kvm_run *run = v->run;
	struct ucall uc;

	for (;;) {
		vcpu_run(v);
		if (run->exit_reason != KVM_EXIT_MMIO) {
			uint64_t type = vcpu_get_ucall(v, &uc);

			TEST_ASSERT(type != UCALL_ASSERT, "guest assertion: %s", uc.message);
			TEST_ASSERT(type == UCALL_DONE, "%s", vcpu_exit_str(v));
			return NULL;
		}
		TEST_ASSERT(in_window(run->mmio.phys_addr, WINDOW_A) ||
			    in_window(run->mmio.phys_addr, WINDOW_B), "%s", vcpu_exit_str(v));
		if (!run->mmio.is_write)
			memcpy(run->mmio.data, &(uint64_t){ MMIO_MARK }, 8);
	}
}

struct window {
	struct vm *vm;
	uint64_t *mem;			/* the slot's memory */
	uint64_t where, gen;
};

static void publish(struct window *w)
{
	guest_global(w->vm, slot_where) = w->where;
	guest_global(w->vm, slot_gen) = w->gen;
}

/* Waits until every guest made a few consistent reads of the current state. */
static void wait_for_guests(struct vm *vm)
{
	uint64_t before[SLOT_VCPUS], deadline = now_ns() + HANG_MS * NS_PER_MS;
	int i;

	for (i = 0; i < SLOT_VCPUS; i++)
		before[i] = guest_global(vm, consistent_reads[i]);
	for (i = 0; i < SLOT_VCPUS; i++)
		while (guest_global(vm, consistent_reads[i]) < before[i] + 3) {
			TEST_ASSERT(now_ns() < deadline, "vCPU %d made no consistent read in 20 s "
				    "(slot at 0x%llx)", i, (unsigned long long)guest_global(vm, slot_where));
			usleep(200);
		}
}

static void fill_window(struct window *w)
{
	uint64_t off;

	for (off = 0; off < WINDOW_SIZE; off += 8)
		w->mem[off / 8] = window_pattern(w->gen, off);
	memset((uint8_t *)w->mem + WRITE_AREA, 0, WINDOW_SIZE - WRITE_AREA);
}

/* Moves, deletes (new_gpa NOWHERE) or adds the slot, and publishes where it is. */
static void change_slot(struct window *w, uint64_t new_gpa)
{
	guest_global(w->vm, slot_epoch)++;
	if (new_gpa == NOWHERE)
		EXPECT_OK(vm_set_region_raw(w->vm, WINDOW_SLOT, 0, w->where, 0, (uint64_t)w->mem));
	else
		EXPECT_OK(vm_set_region_raw(w->vm, WINDOW_SLOT, 0, new_gpa, WINDOW_SIZE,
					    (uint64_t)w->mem));
	w->where = new_gpa;
	publish(w);
	guest_global(w->vm, slot_epoch)++;
}

/* Once the slot left WINDOW_A, the guests' writes there must not reach its memory. */
static void expect_no_stale_writes(struct window *w)
{
	const uint64_t *area = (const uint64_t *)((uint8_t *)w->mem + WRITE_AREA);
	int i;

	memset((uint8_t *)w->mem + WRITE_AREA, 0, SLOT_VCPUS * 8);
	wait_for_guests(w->vm);
	for (i = 0; i < SLOT_VCPUS; i++)
		TEST_ASSERT(!area[i], "vCPU %d's write at 0x%llx reached the slot's memory "
			    "after it moved to 0x%llx", i,
			    (unsigned long long)(WINDOW_A + WRITE_AREA + i * 8),
			    (unsigned long long)w->where);
}

static void one_round(struct window *w)
{
	w->gen++;
	fill_window(w);			/* while no guest can see it */
	change_slot(w, WINDOW_A);
	wait_for_guests(w->vm);
	change_slot(w, WINDOW_B);
	expect_no_stale_writes(w);
	change_slot(w, WINDOW_A);
	wait_for_guests(w->vm);
	change_slot(w, NOWHERE);
	expect_no_stale_writes(w);
}

TEST_CASE_OPTS(slots_change_under_running_vcpus, .timeout_s = 120,
	       .why_not_compared = "how many MMIO exits the guests make depends on when the slots change")
{
	struct window w = { .vm = vm_create(ctx->dev, LONG_MODE_MEM_SIZE),
			    .mem = anon_memory(WINDOW_SIZE), .where = NOWHERE };
	pthread_t t[SLOT_VCPUS];
	int i, r;

	for (i = 0; i < SLOT_VCPUS; i++) {
		struct vcpu *v = vcpu_add(w.vm, i);

		vcpu_enter_long(v, guest_watch_window, i);
		TEST_ASSERT(!pthread_create(&t[i], NULL, run_watcher, v), "pthread_create");
	}
	publish(&w);
	wait_for_guests(w.vm);
	for (r = 0; r < SLOT_ROUNDS; r++)
		one_round(&w);
	guest_global(w.vm, stop_guests) = 1;
	for (i = 0; i < SLOT_VCPUS; i++)
		pthread_join(t[i], NULL);
	vm_free(w.vm);
	munmap(w.mem, WINDOW_SIZE);
}

/* ---------------------------------------------------------------- */
/* The VM fd closed under running vCPUs                             */

#define CLOSED_VCPUS	2

struct runner {
	struct vcpu *v;
	pthread_t thread;
	int err;
};

static void *run_until_signal(void *arg)
{
	struct runner *r = arg;

	r->err = vcpu_run_raw(r->v) ? errno : 0;
	return NULL;
}

static void start_runners(struct runner *r, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		*guest_counter(r[i].v->vm, r[i].v->id) = 0;
		TEST_ASSERT(!pthread_create(&r[i].thread, NULL, run_until_signal, &r[i]),
			    "pthread_create");
	}
}

static void stop_runners(struct runner *r, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		pthread_kill(r[i].thread, SIGUSR1);
		pthread_join(r[i].thread, NULL);
		TEST_ASSERT(r[i].err == EINTR, "vCPU %d: KVM_RUN ended with %s", i,
			    strerror(r[i].err));
	}
}

/* Every vCPU's count moves on (a hang guard of HANG_MS, not a speed limit). */
static void expect_counting(struct runner *r, int n)
{
	uint64_t deadline = now_ns() + HANG_MS * NS_PER_MS;
	uint32_t before[n];
	int i;

	for (i = 0; i < n; i++)
		before[i] = *guest_counter(r[i].v->vm, r[i].v->id);
	for (i = 0; i < n; i++)
		while (*guest_counter(r[i].v->vm, r[i].v->id) == before[i]) {
			TEST_ASSERT(now_ns() < deadline, "vCPU %d stopped running", i);
			usleep(1000);
		}
}

TEST_CASE_OPTS(vm_fd_closed_while_vcpus_run,
	       .why_not_compared = "every KVM_RUN ends in EINTR, where a signal happened to stop the guest")
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	struct runner r[CLOSED_VCPUS];
	struct counters start, now;
	struct vm *vm;
	int i;

	sigaction(SIGUSR1, &sa, NULL);
	read_counters(ctx->dev, &start);
	vm = vm_create(ctx->dev, REAL_MODE_MEM_SIZE);
	for (i = 0; i < CLOSED_VCPUS; i++)
		r[i] = (struct runner){ .v = add_counting_vcpu(vm, i, &count_forever) };
	start_runners(r, CLOSED_VCPUS);
	expect_counting(r, CLOSED_VCPUS);
	close(vm->fd);
	vm->fd = -1;
	expect_counting(r, CLOSED_VCPUS);	/* the vCPU fds keep the VM */
	read_counters(ctx->dev, &now);
	TEST_ASSERT_EQ(counter(&now, "vms"), counter(&start, "vms") + 1);
	stop_runners(r, CLOSED_VCPUS);
	start_runners(r, CLOSED_VCPUS);		/* and they run again */
	expect_counting(r, CLOSED_VCPUS);
	stop_runners(r, CLOSED_VCPUS);
	vm_free(vm);
	expect_counters_at(ctx->dev, &start, "after the vCPU fds were closed");
}
