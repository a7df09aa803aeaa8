// SPDX-License-Identifier: GPL-2.0
/*
 * A guest that loops forever with interrupts off cannot keep its vCPU
 * thread: a signal makes KVM_RUN return -EINTR with KVM_EXIT_INTR, SIGKILL
 * ends the process, and kvm_run.immediate_exit makes KVM_RUN return -EINTR
 * without entering the guest.  How long each took is printed ("#" lines);
 * no case asserts a time -- on a loaded machine any limit is a flake --
 * only that it happens (a hang ends in the case's timeout).
 */
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "modes.h"

/* ioctl rules, races and lifetimes: the same on every CPU model. */
TEST_CPU_MODEL_INDEPENDENT();

#define COUNTER_GPA	0x4000
#define NS_PER_MS	1000000ULL
#define HANG_MS		20000	/* a hang guard, not a speed limit */

/* Counts in memory so the host can see it run, with interrupts off. */
GUEST_CODE16(cli_loop,
	"cli\n"
	"1: incl (0x4000)\n"
	"jmp 1b\n");

struct runner {
	struct vcpu *v;
	int ret;
	int err;
	uint64_t returned_ns;
};

static void on_signal(int sig)
{
	(void)sig;
}

static void *run_vcpu(void *arg)
{
	struct runner *r = arg;

	r->ret = vcpu_run_raw(r->v);
	r->err = errno;
	r->returned_ns = now_ns();
	return NULL;
}

/* Waits until the guest's counter at @ram + COUNTER_GPA moves. */
static void wait_for_guest(void *ram)
{
	volatile uint32_t *counter = (volatile uint32_t *)((uint8_t *)ram + COUNTER_GPA);
	uint64_t deadline = now_ns() + HANG_MS * NS_PER_MS;

	while (!*counter) {
		TEST_ASSERT(now_ns() < deadline, "the guest never ran");
		usleep(1000);
	}
}

#define ONLY_EINTR	"every KVM_RUN ends in EINTR, where a signal happened to stop the guest"

TEST_CASE_OPTS(signal_interrupts_guest, .why_not_compared = ONLY_EINTR)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct runner r = { .v = vm_with_low_code(ctx->dev, MODE_REAL, &cli_loop) };
	uint64_t sent_ns;
	pthread_t t;

	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART */
	TEST_ASSERT(!pthread_create(&t, NULL, run_vcpu, &r), "pthread_create");
	wait_for_guest(gpa_to_hva(r.v->vm, 0));
	sent_ns = now_ns();
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	TEST_ASSERT(r.ret == -1 && r.err == EINTR, "KVM_RUN returned %d (%s), expected EINTR",
		    r.ret, strerror(r.err));
	TEST_ASSERT_EQ(r.v->run->exit_reason, KVM_EXIT_INTR);
	test_log("KVM_RUN returned %llu ms after the signal",
		 (unsigned long long)((r.returned_ns - sent_ns) / NS_PER_MS));
	/* The guest resumes where it was interrupted. */
	*(volatile uint32_t *)gpa_to_hva(r.v->vm, COUNTER_GPA) = 0;
	TEST_ASSERT(!pthread_create(&t, NULL, run_vcpu, &r), "pthread_create");
	wait_for_guest(gpa_to_hva(r.v->vm, 0));
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	TEST_ASSERT(r.ret == -1 && r.err == EINTR, "second KVM_RUN: %d (%s)", r.ret,
		    strerror(r.err));
	vm_free(r.v->vm);
}

/* SIGKILL ends a process whose vCPU spins with interrupts off. */
TEST_CASE_OPTS(sigkill_ends_guest, .why_not_compared = "the guest runs in a child that is killed")
{
	/* Guest RAM shared with the child, which owns the VM. */
	uint8_t *ram = mmap(NULL, REAL_MODE_MEM_SIZE, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t killed_ns;
	int status;
	pid_t pid;

	TEST_ASSERT(ram != MAP_FAILED, "mmap");
	pid = fork();
	if (pid == 0) {
		struct vcpu *v;
		struct vm *vm;

		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive a failed case */
		vm = vm_create(ctx->dev, 0);
		v = vcpu_add(vm, 0);
		vm_add_memory_at(vm, 0, 0, REAL_MODE_MEM_SIZE, 0, ram);
		vcpu_enter_low_code(v, MODE_REAL, &cli_loop);
		vcpu_run_raw(v);
		_exit(0);
	}
	TEST_ASSERT(pid > 0, "fork");
	wait_for_guest(ram);
	killed_ns = now_ns();
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	TEST_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		    "child status 0x%x", status);
	test_log("the killed process was gone %llu ms after SIGKILL",
		 (unsigned long long)((now_ns() - killed_ns) / NS_PER_MS));
	munmap(ram, REAL_MODE_MEM_SIZE);
}

GUEST_CODE16(out_once, "mov $0x42, %al\n out %al, $0x70\n" ASM_UCALL_DONE);

TEST_CASE(immediate_exit)
{
	struct vcpu *v = vm_with_low_code(ctx->dev, MODE_REAL, &out_once);
	struct kvm_regs regs;

	v->run->immediate_exit = 1;
	EXPECT_ERRNO(vcpu_run_raw(v), EINTR);
	vcpu_get_regs(v, &regs);
	TEST_ASSERT_EQ(regs.rip, GPA_LOW_CODE);	/* the guest did not run */
	v->run->immediate_exit = 0;
	vcpu_run(v);
	TEST_ASSERT(v->run->exit_reason == KVM_EXIT_IO && v->run->io.port == 0x70,
		    "%s", vcpu_exit_str(v));
	/* An exit's completion happens first, then immediate_exit applies. */
	v->run->immediate_exit = 1;
	EXPECT_ERRNO(vcpu_run_raw(v), EINTR);
	vcpu_get_regs(v, &regs);
	TEST_ASSERT(regs.rip > GPA_LOW_CODE + 2, "the OUT did not complete (rip 0x%llx)",
		    (unsigned long long)regs.rip);
	vm_free(v->vm);
}

/*
 * More spinning vCPUs than CPUs: the run loop must let the scheduler in
 * (host timer interrupts exit the guest, need_resched() is honoured), so
 * the main thread still wakes up -- all its sleeps end -- and a signal
 * stops each of them.  How late the sleeps ended is printed.
 */
#define HOG_SLEEPS	30
#define HOG_SLEEP_US	10000

TEST_CASE_OPTS(more_vcpus_than_cpus, .why_not_compared = ONLY_EINTR)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int nr = (int)sysconf(_SC_NPROCESSORS_ONLN) + 1, i;
	struct vm *vm = vm_create(ctx->dev, REAL_MODE_MEM_SIZE);
	struct runner r[nr];
	pthread_t t[nr];
	uint64_t worst = 0;

	sigaction(SIGUSR1, &sa, NULL);
	for (i = 0; i < nr; i++) {
		r[i] = (struct runner){ .v = vcpu_add(vm, i) };
		vcpu_enter_low_code(r[i].v, MODE_REAL, &cli_loop);
		TEST_ASSERT(!pthread_create(&t[i], NULL, run_vcpu, &r[i]), "pthread_create");
	}
	wait_for_guest(gpa_to_hva(vm, 0));
	for (i = 0; i < HOG_SLEEPS; i++) {
		uint64_t start = now_ns(), late;

		usleep(HOG_SLEEP_US);
		late = now_ns() - start - HOG_SLEEP_US * 1000ULL;
		if (late > worst)
			worst = late;
	}
	for (i = 0; i < nr; i++) {
		pthread_kill(t[i], SIGUSR1);
		pthread_join(t[i], NULL);
		TEST_ASSERT(r[i].ret == -1 && r[i].err == EINTR, "vCPU %d: KVM_RUN %d (%s)",
			    i, r[i].ret, strerror(r[i].err));
	}
	test_log("%d spinning vCPUs: %d sleeps of 10 ms all ended, the worst %llu ms late", nr,
		 HOG_SLEEPS,
		 (unsigned long long)(worst / NS_PER_MS));
	vm_free(vm);
}

/*
 * Several vCPUs in `cli; jmp .` on more threads than CPUs, in a VMM
 * process that stops them the way a VMM does: SIGTERM to the process, a
 * signal to each vCPU thread, join.  Meanwhile an ordinary thread of
 * another process must keep getting CPU time (it makes progress), and the
 * VMM must end.  The thread's share and the time to stop are printed.
 */
#define SPINNERS		4
#define FLAGS_GPA		0x4000
#define BASELINE_MS		200
#define CONTENDED_MS		500
#define HANG_GUARD_MS		20000	/* a hang guard, not a speed limit */

GUEST_CODE32(flag_then_spin, "movl $1, (%ebx)\n cli\n 1: jmp 1b\n");

struct worker {
	volatile bool stop;
	volatile uint64_t count;
};

static void *count_forever(void *arg)
{
	struct worker *w = arg;

	while (!w->stop)
		w->count++;
	return NULL;
}

/* How far the worker counts in @ms. */
static uint64_t progress_in(struct worker *w, unsigned int ms)
{
	uint64_t before = w->count;

	usleep(ms * 1000);
	return w->count - before;
}

static void *spin_until_signal(void *arg)
{
	return (void *)(intptr_t)(vcpu_run_raw(arg) == -1 && errno == EINTR);
}

/* The VMM: spinning vCPUs, a byte on @ready, then SIGTERM stops them all. */
static void __attribute__((noreturn)) spinning_vmm(const struct test_dev *dev, int ready)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct vm *vm = vm_create(dev, REAL_MODE_MEM_SIZE);
	volatile uint32_t *flags = gpa_to_hva(vm, FLAGS_GPA);
	pthread_t t[SPINNERS];
	bool all_eintr = true;
	sigset_t term;
	int i, sig;
	void *ok;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigaction(SIGUSR1, &sa, NULL);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, NULL);	/* inherited by the vCPU threads */
	for (i = 0; i < SPINNERS; i++) {
		struct vcpu *v = vcpu_add(vm, i);
		struct kvm_regs regs;

		vcpu_enter_low_code(v, MODE_PROT32, &flag_then_spin);
		vcpu_get_regs(v, &regs);
		regs.rbx = FLAGS_GPA + 4 * i;
		vcpu_set_regs(v, &regs);
		TEST_ASSERT(!pthread_create(&t[i], NULL, spin_until_signal, v), "pthread_create");
	}
	for (i = 0; i < SPINNERS; i++)
		while (!flags[i])
			usleep(1000);
	if (write(ready, "r", 1) != 1 || sigwait(&term, &sig))
		_exit(3);
	for (i = 0; i < SPINNERS; i++)
		pthread_kill(t[i], SIGUSR1);
	for (i = 0; i < SPINNERS; i++) {
		pthread_join(t[i], &ok);
		all_eintr &= ok != NULL;
	}
	_exit(all_eintr ? 0 : 1);
}

static pid_t start_spinning_vmm(const struct test_dev *dev)
{
	int fds[2];
	pid_t pid;
	char c;

	TEST_ASSERT(!pipe(fds), "pipe");
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (pid == 0) {
		close(fds[0]);
		spinning_vmm(dev, fds[1]);
	}
	close(fds[1]);
	TEST_ASSERT(read(fds[0], &c, 1) == 1, "the VMM failed before its vCPUs spun");
	close(fds[0]);
	return pid;
}

TEST_CASE_OPTS(spinning_vcpus_stopped_by_vmm,
	       .why_not_compared = "the guests run in a child process, which is not traced")
{
	struct worker w = { 0 };
	uint64_t alone, contended, stop_ms, sent;
	unsigned int waited;
	pthread_t worker;
	int status;
	pid_t pid;

	TEST_ASSERT(!pthread_create(&worker, NULL, count_forever, &w), "pthread_create");
	alone = progress_in(&w, BASELINE_MS) * CONTENDED_MS / BASELINE_MS;
	pid = start_spinning_vmm(ctx->dev);
	contended = progress_in(&w, CONTENDED_MS);
	/*
	 * Progress, not speed: on a loaded host the worker may get nothing in
	 * the first window; it must get something before the hang guard.
	 */
	for (waited = CONTENDED_MS; !contended && waited < HANG_GUARD_MS; waited += CONTENDED_MS)
		contended = progress_in(&w, CONTENDED_MS);
	sent = now_ns();
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	stop_ms = (now_ns() - sent) / NS_PER_MS;
	w.stop = true;
	pthread_join(worker, NULL);
	TEST_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "the VMM ended with status 0x%x (1: a KVM_RUN did not end in EINTR)", status);
	TEST_ASSERT(contended > 0, "with %d spinning vCPUs a thread made no progress in %d ms",
		    SPINNERS, HANG_GUARD_MS);
	test_log("%d spinning vCPUs: a thread made %llu%% of its solo progress; stopped in %llu ms",
		 SPINNERS, (unsigned long long)(contended * 100 / (alone ? alone : 1)),
		 (unsigned long long)stop_ms);
}
