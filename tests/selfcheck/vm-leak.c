// SPDX-License-Identifier: GPL-2.0
/*
 * The self-check (selfcheck.c): a VM that outlives its test.  A daemon holds
 * it until the self-check boot creates RELEASE_FILE, so the runner's leak
 * check after this binary fails.  It runs after selfcheck.test (the runner
 * goes in name order), whose KVM cases the daemon's VM would make EBUSY.
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm.h"

#define RELEASE_FILE	"/tmp/selfcheck-release"

TEST_CASE_OPTS(vm_outlives_test, .no_guest = true, .only_yakvm = true,
	       .why_only_yakvm = "the leak check counts yakvm's objects")
{
	int ready[2];
	char c;

	TEST_ASSERT(!pipe(ready), "pipe");
	if (fork() == 0) {
		setsid();
		if (fork() == 0) {
			int sys = open(ctx->dev->path, O_RDWR);
			int vm = sys >= 0 ? ioctl(sys, KVM_CREATE_VM, 0) : -1;
			struct stat st;

			if (write(ready[1], vm >= 0 ? "y" : "n", 1) != 1)
				_exit(1);
			while (stat(RELEASE_FILE, &st))
				usleep(100000);
			_exit(0);
		}
		_exit(0);
	}
	TEST_ASSERT(read(ready[0], &c, 1) == 1 && c == 'y', "the daemon has no VM");
}

