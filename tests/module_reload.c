// SPDX-License-Identifier: GPL-2.0
/*
 * Unloading yakvm.ko: delete_module() (what rmmod calls) is refused while
 * anything of the module is in use -- a VM, a vCPU fd alone, a kvm_run
 * mapping alone, an open /dev/yakvm -- and succeeds once all of it is gone.
 * The module is then loaded again from the test VM's /lib/modules, as the
 * VM's init loaded it, and must serve guests as before, so the rest of the
 * suite runs on a fresh module.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "modes.h"
#include "objects.h"

#define MODULE_NAME	"yakvm"
#define MODULE_FILE	"/lib/modules/yakvm.ko"

GUEST_CODE16(say_done, ASM_UCALL_DONE);

/* delete_module(); errno is kept. */
static int unload(void)
{
	return syscall(SYS_delete_module, MODULE_NAME, O_NONBLOCK);
}

static void load(void)
{
	int fd = open(MODULE_FILE, O_RDONLY | O_CLOEXEC);

	TEST_ASSERT(fd >= 0, "%s: %s", MODULE_FILE, strerror(errno));
	if (syscall(SYS_finit_module, fd, "", 0))
		test_fail("finit_module(%s): %s: the rest of the suite has no yakvm",
			  MODULE_FILE, strerror(errno));
	close(fd);
}

/* Unloading must be refused now; if it was not, the module is loaded again first. */
static void expect_unload_refused(const char *while_what)
{
	int r = unload(), err = errno;

	if (!r)
		load();
	TEST_ASSERT(r == -1 && err == EWOULDBLOCK,
		    "delete_module(\"%s\") with %s: %s", MODULE_NAME, while_what,
		    r ? strerror(err) : "the module was unloaded");
}

static struct vcpu *guest_that_ran(const struct test_dev *dev)
{
	struct vcpu *v = vm_with_low_code(dev, MODE_REAL, &say_done);
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	return v;
}

/* Takes away one thing after another, each time trying to unload. */
static void refused_while_in_use(const struct test_dev *dev)
{
	struct vcpu *v = guest_that_ran(dev);
	struct vm *vm = v->vm;

	expect_unload_refused("a VM");
	close(vm->fd);
	vm->fd = -1;
	expect_unload_refused("a vCPU fd");
	close(v->fd);
	v->fd = -1;
	expect_unload_refused("a kvm_run mapping");
	munmap(v->run, vm->run_size);
	v->run = NULL;
	expect_unload_refused("an open /dev/yakvm");
	close(vm->sys_fd);
	vm->nr_vcpus = 0;		/* already taken apart */
	vm->sys_fd = -1;
	free(v);
	vm_free(vm);
}

TEST_CASE_OPTS(unload_and_reload, .only_yakvm = true, .timeout_s = 60,
	       .why_only_yakvm = "unloads and reloads yakvm.ko")
{
	struct counters now;
	bool node_left;
	struct stat st;
	int r, err;

	if (stat(MODULE_FILE, &st))
		test_fail("no %s to load again (the test VM's initramfs has it)", MODULE_FILE);
	refused_while_in_use(ctx->dev);
	r = unload();
	err = errno;
	node_left = !access(ctx->dev->path, F_OK);
	if (!r)
		load();
	TEST_ASSERT(!r, "delete_module(\"%s\") with nothing in use: %s", MODULE_NAME,
		    strerror(err));
	TEST_ASSERT(!node_left, "%s was still there after the unload", ctx->dev->path);
	vm_free(guest_that_ran(ctx->dev)->vm);
	read_counters(ctx->dev, &now);
	TEST_ASSERT(counter(&now, "vms") == 0 && counter(&now, "pinned_pages") == 0,
		    "the reloaded module counts %ld VMs and %ld pinned pages",
		    counter(&now, "vms"), counter(&now, "pinned_pages"));
}
