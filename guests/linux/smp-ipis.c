/*
 * smp-ipis: a program for the Linux guest (in its initramfs as /bin/smp-ipis)
 * that makes every CPU receive each kind of inter-processor interrupt Linux
 * counts in /proc/interrupts, so a test can see them grow on every CPU:
 *
 *   TLB  one thread per CPU, all in one address space; in turn each maps a
 *        page, touches it and unmaps it: the kernel flushes the page on
 *        every other CPU that has the address space loaded (a TLB shootdown);
 *   CAL  membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) runs a function on
 *        every other CPU running one of the threads (a function-call IPI);
 *   RES  a signal to the thread running on the next CPU makes the kernel
 *        kick that CPU (kick_process(): a reschedule IPI).
 *
 *   smp-ipis [ROUNDS [KINDS]]   (default 5 rounds of all of "tcr":
 *                               t TLB, c function call, r reschedule)
 *
 * Each thread pins itself to its CPU and checks it runs there; the others
 * keep busy while one acts, so they stay running (and their CPU keeps the
 * address space).  Prints one line per CPU and "smp-ipis: ok", or why it
 * failed.
 *
 * They keep busy in the kernel, reading /dev/zero, not in a user-space loop:
 * under QEMU's emulated SVM (the test VM) an injected interrupt is sometimes
 * delivered twice (docs/design.md, "A QEMU bug worked around"; KVM has no
 * workaround), and when the first copy came from user mode the second one
 * arrives before the entry code's SWAPGS and kills the guest kernel.  A copy
 * that interrupts the kernel is harmless: the handler just runs twice.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_CPUS 256

struct worker {
	pthread_t thread;
	unsigned int cpu;
	atomic_int tid;
	atomic_uint signals;	/* SIGUSR1s this thread handled */
	unsigned int wrong_cpu;	/* turns taken on another CPU than its own */
};

static struct worker workers[MAX_CPUS];
static unsigned int nr_cpus, rounds;
static const char *kinds = "tcr";
static atomic_uint ready, turn;
static atomic_bool failed;
static __thread struct worker *self;

static void on_usr1(int sig)
{
	(void)sig;
	if (self)
		atomic_fetch_add(&self->signals, 1);
}

static void die(const char *what)
{
	fprintf(stderr, "smp-ipis: %s: %s\n", what, strerror(errno));
	exit(1);
}

#define BUSY_BYTES	(4 << 20)	/* one read of /dev/zero: mostly kernel time */

static int zero_fd;
static __thread char *busy_buf;

/* Keeps the thread busy, almost all of it in the kernel (see the top). */
static void busy(void)
{
	if (read(zero_fd, busy_buf, BUSY_BYTES) < 0 && errno != EINTR)
		die("read /dev/zero");
}

static void pin(unsigned int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

/* One turn: a TLB shootdown, a function-call IPI and a kick to the next CPU. */
static void act(struct worker *w)
{
	struct worker *next = &workers[(w->cpu + 1) % nr_cpus];
	volatile char *page;

	if ((unsigned int)sched_getcpu() != w->cpu)
		w->wrong_cpu++;
	if (strchr(kinds, 't')) {
		page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
		if (page == MAP_FAILED)
			die("mmap");
		page[0] = 1;
		if (munmap((void *)page, 4096))
			die("munmap");
	}
	if (strchr(kinds, 'c')) {
		if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0))
			die("membarrier");
	}
	if (strchr(kinds, 'r')) {
		unsigned int before = atomic_load(&next->signals);

		if (syscall(SYS_tgkill, getpid(), atomic_load(&next->tid), SIGUSR1))
			die("tgkill");
		while (atomic_load(&next->signals) == before)
			busy();
	}
}

static void *run(void *arg)
{
	struct worker *w = arg;
	unsigned int t, total = rounds * nr_cpus;

	self = w;
	pin(w->cpu);
	busy_buf = malloc(BUSY_BYTES);
	if (!busy_buf)
		die("malloc");
	atomic_store(&w->tid, (int)syscall(SYS_gettid));
	atomic_fetch_add(&ready, 1);
	while (atomic_load(&ready) < nr_cpus)
		busy();
	/* Turn t belongs to CPU t % N; everyone else spins meanwhile. */
	while ((t = atomic_load(&turn)) < total) {
		if (t % nr_cpus == w->cpu) {
			act(w);
			atomic_store(&turn, t + 1);
		} else {
			busy();
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	unsigned int i;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	rounds = argc > 1 ? (unsigned int)atoi(argv[1]) : 5;
	if (argc > 2)
		kinds = argv[2];
	if (n < 2) {
		printf("smp-ipis: %ld CPU, no other CPU to interrupt\n", n);
		return 0;
	}
	nr_cpus = n > MAX_CPUS ? MAX_CPUS : (unsigned int)n;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGUSR1, &sa, NULL))
		die("sigaction");
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0))
		die("membarrier register");
	zero_fd = open("/dev/zero", O_RDONLY);
	if (zero_fd < 0)
		die("open /dev/zero");
	for (i = 0; i < nr_cpus; i++) {
		workers[i].cpu = i;
		errno = pthread_create(&workers[i].thread, NULL, run, &workers[i]);
		if (errno)
			die("pthread_create");
	}
	for (i = 0; i < nr_cpus; i++)
		pthread_join(workers[i].thread, NULL);
	for (i = 0; i < nr_cpus; i++) {
		struct worker *w = &workers[i];

		printf("cpu %u: %u turns, %u on another CPU, %u signals\n", i, rounds,
		       w->wrong_cpu, atomic_load(&w->signals));
		if (w->wrong_cpu || (strchr(kinds, 'r') && !atomic_load(&w->signals)))
			atomic_store(&failed, true);
	}
	puts(atomic_load(&failed) ? "smp-ipis: FAILED" : "smp-ipis: ok");
	return atomic_load(&failed);
}
