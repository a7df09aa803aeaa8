// SPDX-License-Identifier: GPL-2.0
/*
 * The module's observability (issue 7): the debugfs counters count exactly,
 * the yakvm:yakvm_entry/yakvm_exit tracepoints fire, and `yakvm stat` shows
 * the rates of a running VM.  yakvm only: KVM has its own counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEBUGFS		"/sys/kernel/debug/yakvm"
#define TRACING		"/sys/kernel/tracing"
#define PORT_WRITES	1000
#define CODE_GPA	0x1000

struct vm {
	int sys, fd, vcpu;
	uint8_t *mem;
	struct kvm_run *run;
	char debugfs[256];
};

static int failures;

static void result(bool ok, const char *name, const char *why)
{
	if (ok) {
		printf("ok yakvm/stats/%s\n", name);
	} else {
		printf("FAIL yakvm/stats/%s: %s\n", name, why);
		failures++;
	}
	fflush(stdout);
}

static void die(const char *what)
{
	printf("FAIL yakvm/stats/setup: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Real-mode guest at 0:0x1000: CODE, one 32 KiB slot at GPA 0. */
static void vm_create(struct vm *vm, const uint8_t *code, size_t len)
{
	struct kvm_userspace_memory_region r = { .slot = 0, .memory_size = 0x8000 };
	struct kvm_regs regs = { .rip = CODE_GPA, .rflags = 2 };
	struct kvm_sregs sregs;

	vm->sys = open("/dev/yakvm", O_RDWR | O_CLOEXEC);
	if (vm->sys < 0)
		die("/dev/yakvm");
	vm->fd = ioctl(vm->sys, KVM_CREATE_VM, 0);
	vm->mem = mmap(NULL, 0x8000, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memcpy(vm->mem + CODE_GPA, code, len);
	r.userspace_addr = (uintptr_t)vm->mem;
	if (vm->fd < 0 || ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r))
		die("VM");
	vm->vcpu = ioctl(vm->fd, KVM_CREATE_VCPU, 0);
	vm->run = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->vcpu, 0);
	if (vm->vcpu < 0 || vm->run == MAP_FAILED || ioctl(vm->vcpu, KVM_GET_SREGS, &sregs))
		die("vCPU");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vm->vcpu, KVM_SET_SREGS, &sregs) || ioctl(vm->vcpu, KVM_SET_REGS, &regs))
		die("registers");
}

/* The debugfs file of this process's only vCPU. */
static void find_vcpu_file(struct vm *vm)
{
	char cmd[128];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls -d %s/vm*-%d 2>/dev/null", DEBUGFS, getpid());
	p = popen(cmd, "r");
	if (!p || !fgets(vm->debugfs, sizeof(vm->debugfs) - 8, p))
		die("finding the VM's debugfs directory");
	pclose(p);
	vm->debugfs[strcspn(vm->debugfs, "\n")] = '\0';
	strcat(vm->debugfs, "/vcpu0");
}

static unsigned long long counter(const struct vm *vm, const char *name)
{
	unsigned long long value, found = 0;
	char key[64];
	FILE *f = fopen(vm->debugfs, "r");

	while (f && fscanf(f, "%63s %llu", key, &value) == 2)
		if (!strcmp(key, name))
			found = value;
	if (f)
		fclose(f);
	return found;
}

/* The sum of the vCPU's exit_* counters: every exit counted by its code. */
static unsigned long long exit_code_sum(const struct vm *vm)
{
	unsigned long long value, sum = 0;
	char key[64];
	FILE *f = fopen(vm->debugfs, "r");

	while (f && fscanf(f, "%63s %llu", key, &value) == 2)
		if (!strncmp(key, "exit_", 5))
			sum += value;
	if (f)
		fclose(f);
	return sum;
}

/*
 * N port writes raise exit_io and user_io by exactly N; every exit is
 * counted once by its code (exits = the sum of exit_*) and follows one
 * entry (entries = exits).  Host interrupts add exits of their own, so
 * the total is not N, but it is exact.
 */
static void test_counters_count(void)
{
	static const uint8_t code[] = {
		0xe6, 0x99,	/* 1: out %al, $0x99 */
		0xeb, 0xfc,	/*    jmp 1b */
	};
	unsigned long long io0, user0, io1, user1, exits, entries, sum;
	char why[256];
	struct vm vm;
	int i;

	vm_create(&vm, code, sizeof(code));
	find_vcpu_file(&vm);
	io0 = counter(&vm, "exit_io");
	user0 = counter(&vm, "user_io");
	for (i = 0; i < PORT_WRITES; i++)
		if (ioctl(vm.vcpu, KVM_RUN, 0) || vm.run->exit_reason != KVM_EXIT_IO)
			die("KVM_RUN");
	io1 = counter(&vm, "exit_io");
	user1 = counter(&vm, "user_io");
	exits = counter(&vm, "exits");
	entries = counter(&vm, "entries");
	sum = exit_code_sum(&vm);
	snprintf(why, sizeof(why), "after %d OUTs: exit_io +%llu, user_io +%llu; exits %llu, "
		 "sum of exit_* %llu, entries %llu", PORT_WRITES, io1 - io0, user1 - user0,
		 exits, sum, entries);
	result(io1 - io0 == PORT_WRITES && user1 - user0 == PORT_WRITES && exits == sum &&
	       entries == exits, "counters-count-exactly", why);
}

static bool write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	bool ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);

	if (fd >= 0)
		close(fd);
	return ok;
}

/* The tracepoints record every entry and exit, with the IOIO exit code. */
static void test_tracepoints(void)
{
	static const uint8_t code[] = {
		0xe6, 0x99,	/* 1: out %al, $0x99 */
		0xeb, 0xfc,	/*    jmp 1b */
	};
	int entries = 0, exits = 0, io_exits = 0, i;
	char line[512], why[128];
	struct vm vm;
	FILE *trace;

	if (!write_file(TRACING "/trace", "") ||
	    !write_file(TRACING "/events/yakvm/enable", "1")) {
		result(false, "tracepoints-fire", "cannot enable events/yakvm in tracefs");
		return;
	}
	vm_create(&vm, code, sizeof(code));
	for (i = 0; i < 50; i++)
		if (ioctl(vm.vcpu, KVM_RUN, 0))
			die("KVM_RUN");
	write_file(TRACING "/events/yakvm/enable", "0");
	trace = fopen(TRACING "/trace", "r");
	while (trace && fgets(line, sizeof(line), trace)) {
		entries += strstr(line, "yakvm_entry:") != NULL;
		exits += strstr(line, "yakvm_exit:") != NULL;
		io_exits += strstr(line, "yakvm_exit:") && strstr(line, "reason 0x7b io");
	}
	if (trace)
		fclose(trace);
	snprintf(why, sizeof(why), "%d yakvm_entry, %d yakvm_exit (%d IOIO) events for 50 OUTs",
		 entries, exits, io_exits);
	/* Each run enters once more per host interrupt; every entry has its exit. */
	result(io_exits == 50 && entries == exits && entries >= 50, "tracepoints-fire", why);
}

/* `yakvm stat --once` sees a VM that keeps exiting for port I/O. */
static void test_yakvm_stat(void)
{
	static const uint8_t code[] = {
		0xe6, 0x99,	/* 1: out %al, $0x99 */
		0xeb, 0xfc,	/*    jmp 1b */
	};
	char line[256];
	bool seen_io = false;
	pid_t child;
	FILE *p;

	child = fork();
	if (child == 0) {
		struct vm vm;

		vm_create(&vm, code, sizeof(code));
		for (;;)
			ioctl(vm.vcpu, KVM_RUN, 0);
	}
	sleep(1);
	p = popen("/bin/yakvm stat --once --interval 1", "r");
	while (p && fgets(line, sizeof(line), p)) {
		unsigned long long rate, total;
		char name[64];

		if (sscanf(line, " %63s %llu %llu", name, &rate, &total) == 3 &&
		    !strcmp(name, "user_io") && rate > 0 && total >= rate)
			seen_io = true;
	}
	if (p)
		pclose(p);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	result(seen_io, "yakvm-stat-shows-rates",
	       "no user_io line with a non-zero rate in `yakvm stat --once`");
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--list")) {	/* the inventory */
		printf("yakvm/stats/counters-count-exactly\nyakvm/stats/tracepoints-fire\n"
		       "yakvm/stats/yakvm-stat-shows-rates\n");
		return 0;
	}
	test_counters_count();
	test_tracepoints();
	test_yakvm_stat();
	return failures ? 1 : 0;
}
