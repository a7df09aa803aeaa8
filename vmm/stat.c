/*
 * yakvm stat: the live rate of each exit reason of the running VMs, in the
 * spirit of kvm_stat.  The module keeps per-vCPU counters in debugfs
 * (/sys/kernel/debug/yakvm/vm<ID>-<PID>/vcpu<N>, "name value" lines); this
 * samples them twice an interval apart and prints, per VM, every counter
 * that moved with its rate and total.  On a terminal it refreshes every
 * interval until interrupted; otherwise (or with --once) it prints one table.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stat.h"
#include "status.h"
#include "util.h"

#define MAX_VMS		64
#define MAX_COUNTERS	96
#define NAME_LEN	48

struct counter {
	char name[NAME_LEN];
	unsigned long long value;
};

struct vm_sample {
	char name[NAME_LEN];
	int vcpus;
	int ncounters;
	struct counter counters[MAX_COUNTERS];
};

struct sample {
	int nvms;
	struct vm_sample vms[MAX_VMS];
};

static void add_counter(struct vm_sample *vm, const char *name,
			unsigned long long value)
{
	int i;

	for (i = 0; i < vm->ncounters; i++) {
		if (!strcmp(vm->counters[i].name, name)) {
			vm->counters[i].value += value;
			return;
		}
	}
	if (vm->ncounters == MAX_COUNTERS || strlen(name) >= NAME_LEN)
		return;
	strcpy(vm->counters[vm->ncounters].name, name);
	vm->counters[vm->ncounters++].value = value;
}

/* Adds one vCPU's "name value" lines into the VM's totals. */
static void read_vcpu(struct vm_sample *vm, const char *path)
{
	char name[NAME_LEN];
	unsigned long long value;
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fscanf(f, "%47s %llu", name, &value) == 2)
		add_counter(vm, name, value);
	fclose(f);
	vm->vcpus++;
}

/* DIR/NAME into @out; false when it does not fit. */
static bool join_path(char *out, size_t size, const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);

	if (a + 1 + b + 1 > size)
		return false;
	memcpy(out, dir, a);
	out[a] = '/';
	memcpy(out + a + 1, name, b + 1);
	return true;
}

static void read_vm(struct vm_sample *vm, const char *dir)
{
	struct dirent *e;
	char path[1024];
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "vcpu", 4) &&
		    join_path(path, sizeof(path), dir, e->d_name))
			read_vcpu(vm, path);
	}
	closedir(d);
}

static void take_sample(const char *root, struct sample *s)
{
	struct dirent *e;
	char path[1024];
	DIR *d = opendir(root);

	memset(s, 0, sizeof(*s));
	if (!d)
		fail(STATUS_SETUP, "stat: %s: %s (is yakvm loaded and debugfs mounted?)",
		     root, strerror(errno));
	while ((e = readdir(d)) && s->nvms < MAX_VMS) {
		struct vm_sample *vm = &s->vms[s->nvms];

		if (strncmp(e->d_name, "vm", 2) || strlen(e->d_name) >= NAME_LEN ||
		    !join_path(path, sizeof(path), root, e->d_name))
			continue;
		strcpy(vm->name, e->d_name);
		read_vm(vm, path);
		s->nvms++;
	}
	closedir(d);
}

static const struct vm_sample *find_vm(const struct sample *s, const char *name)
{
	int i;

	for (i = 0; i < s->nvms; i++)
		if (!strcmp(s->vms[i].name, name))
			return &s->vms[i];
	return NULL;
}

static unsigned long long old_value(const struct vm_sample *vm, const char *name)
{
	int i;

	for (i = 0; vm && i < vm->ncounters; i++)
		if (!strcmp(vm->counters[i].name, name))
			return vm->counters[i].value;
	return 0;
}

static void print_vm(const struct vm_sample *now, const struct vm_sample *before,
		     double seconds)
{
	int i;

	printf("%s  (%d vCPU%s)\n", now->name, now->vcpus, now->vcpus == 1 ? "" : "s");
	printf("  %-28s %14s %16s\n", "counter", "rate/s", "total");
	for (i = 0; i < now->ncounters; i++) {
		const struct counter *c = &now->counters[i];
		unsigned long long delta = c->value - old_value(before, c->name);

		if (!strcmp(c->name, "entries") || !strcmp(c->name, "exits") ||
		    !strncmp(c->name, "exit_", 5) || !strncmp(c->name, "user_", 5) ||
		    delta)
			printf("  %-28s %14.0f %16llu\n", c->name, delta / seconds,
			       c->value);
	}
}

static void print_table(const struct sample *now, const struct sample *before,
			double seconds)
{
	int i;

	if (!now->nvms)
		printf("no yakvm VMs are running\n");
	for (i = 0; i < now->nvms; i++)
		print_vm(&now->vms[i], find_vm(before, now->vms[i].name), seconds);
	fflush(stdout);
}

static const char stat_usage[] =
"usage: yakvm stat [--interval SECONDS] [--once] [--debugfs DIR]\n"
"\n"
"Shows the rate of every exit reason (SVM exit codes: exit_*, exits to user\n"
"space: user_*) and of the module's other counters, per running yakvm VM,\n"
"refreshed every interval (default 1 s) until Ctrl-C.  --once (the default\n"
"when stdout is not a terminal) prints one table.  DIR defaults to\n"
"/sys/kernel/debug/yakvm.\n";

int stat_main(int argc, char **argv)
{
	const char *root = "/sys/kernel/debug/yakvm";
	static struct sample before, now;
	double interval = 1.0;
	bool once = !isatty(STDOUT_FILENO);
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--once")) {
			once = true;
		} else if (!strcmp(argv[i], "--interval") && i + 1 < argc) {
			interval = atof(argv[++i]);
			if (interval <= 0)
				fail(STATUS_USAGE, "stat: bad --interval '%s'", argv[i]);
		} else if (!strcmp(argv[i], "--debugfs") && i + 1 < argc) {
			root = argv[++i];
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(stat_usage, stdout);
			return 0;
		} else {
			fail(STATUS_USAGE, "stat: unknown option '%s'; see 'yakvm stat --help'",
			     argv[i]);
		}
	}
	take_sample(root, &before);
	for (;;) {
		struct timespec ts = {
			.tv_sec = (time_t)interval,
			.tv_nsec = (long)((interval - (time_t)interval) * 1e9),
		};

		nanosleep(&ts, NULL);
		take_sample(root, &now);
		if (!once)
			printf("\033[H\033[2J");	/* home and clear, like top */
		print_table(&now, &before, interval);
		if (once)
			return 0;
		before = now;
	}
}
