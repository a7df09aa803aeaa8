// SPDX-License-Identifier: GPL-2.0
/*
 * A vCPU's fd is installed before KVM_CREATE_VCPU returns, so another
 * thread that guesses the number (fds are handed out lowest first) can call
 * KVM_RUN on it while the creating ioctl is still running.  That KVM_RUN
 * must not run a vCPU the VM does not count yet -- a slot deleted at that
 * moment would kick only the counted vCPUs, and the new one could keep
 * using pages being unpinned.  The device must make it wait, then run it
 * normally.  On yakvm a vCPU found running before it is counted fails
 * KVM_RUN with EIO (and warns), so this case sees the race if it happens.
 *
 * A second thread spins on KVM_RUN of the next fd number while the first
 * creates vCPU after vCPU; each vCPU halts at the reset vector (a page of
 * HLT at the top of 4 GiB), so its KVM_RUN must end in KVM_EXIT_HLT.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vm.h"


#define ROUNDS		40
#define VCPUS		48
#define RESET_PAGE	0xffff0000ULL	/* 64 KiB below 4 GiB: CS.base + 0xfff0 */

struct race {
	atomic_int next_fd;		/* the fd to try, -1: nothing to do */
	atomic_int done;		/* the racer finished with next_fd */
	atomic_bool stop;
	int result, err;
};

static void *racer(void *arg)
{
	struct race *r = arg;

	while (!atomic_load(&r->stop)) {
		int fd = atomic_load(&r->next_fd);
		int ret;

		if (fd < 0 || atomic_load(&r->done))
			continue;
		ret = ioctl(fd, KVM_RUN, 0);
		if (ret < 0 && errno == EBADF)
			continue;	/* not installed yet */
		r->result = ret;
		r->err = ret < 0 ? errno : 0;
		atomic_store(&r->done, 1);
	}
	return NULL;
}

/* The number the next fd will get. */
static int lowest_free_fd(int any_fd)
{
	int fd = fcntl(any_fd, F_DUPFD, 0);

	TEST_ASSERT(fd >= 0, "F_DUPFD: %s", strerror(errno));
	close(fd);
	return fd;
}

TEST_CASE_OPTS(run_on_a_vcpu_being_created, .timeout_s = 300,
	       .why_not_compared = "the vCPUs only halt at the reset vector; what is checked is each KVM_RUN's result")
{
	struct race r = { .next_fd = -1 };
	unsigned int round, i;
	pthread_t thread;

	TEST_ASSERT(!pthread_create(&thread, NULL, racer, &r), "pthread_create");
	for (round = 0; round < ROUNDS; round++) {
		struct vm *vm = vm_create(ctx->dev, 0);
		uint8_t *page = vm_add_memory(vm, 0, RESET_PAGE, 0x10000, 0);

		memset(page, 0xf4, 0x10000);	/* HLT */
		for (i = 0; i < VCPUS; i++) {
			int want = lowest_free_fd(vm->fd), fd;
			struct kvm_run *run;

			atomic_store(&r.done, 0);
			atomic_store(&r.next_fd, want);
			fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)i);
			TEST_ASSERT(fd == want, "KVM_CREATE_VCPU %u returned %d, expected fd %d (%s)",
				    i, fd, want, strerror(errno));
			while (!atomic_load(&r.done))
				;
			atomic_store(&r.next_fd, -1);
			if (r.result < 0) {
				atomic_store(&r.stop, true);
				pthread_join(thread, NULL);
				test_fail("round %u vCPU %u: KVM_RUN on the new fd failed: %s",
					  round, i, strerror(r.err));
			}
			run = mmap(NULL, vm->run_size, PROT_READ, MAP_SHARED, fd, 0);
			TEST_ASSERT(run != MAP_FAILED, "mmap of kvm_run: %s", strerror(errno));
			TEST_ASSERT(run->exit_reason == KVM_EXIT_HLT,
				    "round %u vCPU %u: the racing KVM_RUN ended with exit %u, not HLT",
				    round, i, run->exit_reason);
			munmap(run, vm->run_size);
			close(fd);
		}
		vm_free(vm);
	}
	atomic_store(&r.stop, true);
	pthread_join(thread, NULL);
	test_log("%u vCPUs each run by another thread as soon as their fd existed",
		 ROUNDS * VCPUS);
}
