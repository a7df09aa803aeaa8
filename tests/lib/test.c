// SPDX-License-Identifier: GPL-2.0
/*
 * The test-case runner (see test.h): command line, device list, one forked
 * child per case and device, timeouts, and the one-line verdicts.
 *
 *   NAME.test [--dev PATH]... [--filter STR] [--list]
 *
 * Without --dev the devices are /dev/yakvm, then /dev/kvm: the suite always
 * compares the two, so a device that cannot be opened fails every case on
 * it (choose the devices with --dev to run on one).  --list prints the
 * names of the verdict lines a run would print, one per line, for the
 * inventory of expected cases (tests/manifest.txt, scripts/manifest.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "trace.h"

#define MAX_CASES		128
#define MAX_DEVS		4
#define DEFAULT_TIMEOUT_S	30
#define VERDICT_LEN		1024
#define TRACE_TEXT_SIZE		(32UL << 20)	/* the port-range guests need ~14 MiB */

/* A child's exit status says what its verdict is; the reason is in shared memory. */
enum { CHILD_OK = 0, CHILD_FAIL = 1, CHILD_SKIP = 2 };

struct test_case {
	const char *name;
	test_fn fn;
	struct test_opts opts;
};

static struct test_case cases[MAX_CASES];
static int nr_cases;
static char *verdict;		/* MAP_SHARED page: the child's reason */
static const char *binary_name;
static struct trace_buf *trace_shared;	/* MAP_SHARED: the child's trace */

void test_register(const char *name, test_fn fn, struct test_opts opts)
{
	if (nr_cases == MAX_CASES) {
		fprintf(stderr, "too many test cases (max %d)\n", MAX_CASES);
		exit(2);
	}
	if (!opts.timeout_s)
		opts.timeout_s = DEFAULT_TIMEOUT_S;
	cases[nr_cases++] = (struct test_case){ name, fn, opts };
}

static void __attribute__((noreturn)) child_exit(int status, const char *fmt,
						 va_list ap)
{
	vsnprintf(verdict, VERDICT_LEN, fmt, ap);
	fflush(stdout);
	_exit(status);
}

void test_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	child_exit(CHILD_FAIL, fmt, ap);
}

void test_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	child_exit(CHILD_SKIP, fmt, ap);
}

void test_log(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void expect_errno(const char *file, int line, const char *what, long ret,
		  int saved_errno, int err)
{
	if (ret == -1 && saved_errno == err)
		return;
	if (ret == -1)
		test_fail("%s:%d: %s failed with %s, expected %s", file, line,
			  what, strerrorname_np(saved_errno), strerrorname_np(err));
	test_fail("%s:%d: %s returned %ld, expected failure with %s", file,
		  line, what, ret, strerrorname_np(err));
}

long expect_ok(const char *file, int line, const char *what, long ret,
	       int saved_errno)
{
	if (ret < 0)
		test_fail("%s:%d: %s failed: %s", file, line, what,
			  strerror(saved_errno));
	return ret;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* ---------------------------------------------------------------- */
/* Running one case in a child                                      */

static void print_verdict(int status, const char *label)
{
	if (status == CHILD_OK)
		printf("ok %s\n", label);
	else if (status == CHILD_SKIP)
		printf("skip %s: %s\n", label, verdict);
	else
		printf("FAIL %s: %s\n", label, verdict[0] ? verdict : "no reason given");
	fflush(stdout);
}

/* Waits for @pid up to @timeout_s; kills it after that.  Returns its CHILD_* status. */
static int wait_child(pid_t pid, unsigned int timeout_s)
{
	int pidfd = syscall(SYS_pidfd_open, pid, 0);
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int status;

	if (pidfd < 0 || poll(&p, 1, timeout_s * 1000) == 0) {
		kill(pid, SIGKILL);
		if (pidfd >= 0)
			snprintf(verdict, VERDICT_LEN, "timed out after %u s", timeout_s);
		else
			snprintf(verdict, VERDICT_LEN, "pidfd_open: %s", strerror(errno));
	}
	if (pidfd >= 0)
		close(pidfd);
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && (WEXITSTATUS(status) == CHILD_OK ||
				  WEXITSTATUS(status) == CHILD_SKIP))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status) && !verdict[0])
		snprintf(verdict, VERDICT_LEN, "killed by signal %s",
			 sigabbrev_np(WTERMSIG(status)) ?: "?");
	else if (WIFEXITED(status) && WEXITSTATUS(status) != CHILD_FAIL && !verdict[0])
		snprintf(verdict, VERDICT_LEN, "exited with status %d",
			 WEXITSTATUS(status));
	return CHILD_FAIL;
}

/* Whether the case's guests are recorded (trace.h); no_guest cases too, to check the claim. */
static bool traced(const struct test_case *tc)
{
	return !tc->opts.diff && !tc->opts.why_not_compared;
}

/* Whether a run prints a diff/ line comparing the two devices' traces. */
static bool compared(const struct test_case *tc)
{
	return traced(tc) && !tc->opts.no_guest && !tc->opts.only_yakvm;
}

/* A copy of the trace the child left, for comparing devices later. */
static struct trace_buf *copy_trace(void)
{
	size_t size = sizeof(*trace_shared) + trace_shared->used;
	struct trace_buf *t = malloc(size);

	if (!t) {
		fprintf(stderr, "out of memory for a trace of %zu bytes\n", size);
		exit(2);
	}
	memcpy(t, trace_shared, size);
	t->size = t->used;
	return t;
}

/* One run of @tc with @ctx in a child; its CHILD_* status, the reason in verdict. */
static int run_child(const struct test_case *tc, const struct test_ctx *ctx,
		     struct trace_buf **trace)
{
	pid_t pid;

	memset(verdict, 0, VERDICT_LEN);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		snprintf(verdict, VERDICT_LEN, "fork: %s", strerror(errno));
		return CHILD_FAIL;
	}
	if (pid == 0) {
		if (trace && traced(tc))
			trace_start(trace_shared, tc->opts.compare_mask);
		tc->fn(ctx);
		fflush(stdout);
		_exit(CHILD_OK);
	}
	return wait_child(pid, tc->opts.timeout_s);
}

/*
 * Runs @tc with @ctx in a child; prints the verdict; returns true if it
 * failed.  A case that passed leaves its trace in @trace, when given.
 * The reference gets a second try when its first one hung: kvm_amd under
 * QEMU's emulated SVM (the test VM) now and then loses an interrupt and
 * never wakes (docs/testing.md, "The reference's hangs").  yakvm never does.
 */
static bool run_case(const struct test_case *tc, const struct test_ctx *ctx,
		     const char *label, struct trace_buf **trace)
{
	int status = run_child(tc, ctx, trace);

	if (status == CHILD_FAIL && !ctx->dev->is_yakvm &&
	    !strncmp(verdict, "timed out", strlen("timed out"))) {
		printf("# %s: first try %s; retrying (the reference only)\n", label, verdict);
		status = run_child(tc, ctx, trace);
	}
	print_verdict(status, label);
	if (trace && status == CHILD_OK)
		*trace = traced(tc) ? copy_trace() : calloc(1, sizeof(**trace));
	return status == CHILD_FAIL;
}

/* ---------------------------------------------------------------- */
/* Devices and the main loop                                        */

struct dev_state {
	struct test_dev dev;
	bool usable;
	char why[128];			/* why it is not usable */
};

static struct dev_state devs[MAX_DEVS];
static int nr_devs;
/* What each case's guests did on each device, when the case passed there. */
static struct trace_buf *traces[MAX_CASES][MAX_DEVS];

/* Adds @path to the devices; @probe opens it to see whether it is usable. */
static void add_dev(const char *path, bool probe)
{
	struct dev_state *d = &devs[nr_devs++];
	const char *slash = strrchr(path, '/');
	int fd;

	d->dev.path = path;
	d->dev.name = slash ? slash + 1 : path;
	/* yakvm's documented answers apply to its misc device, /dev/yakvm. */
	d->dev.is_yakvm = strcmp(d->dev.name, "yakvm") == 0;
	if (!probe)
		return;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(d->why, sizeof(d->why), "cannot open %s: %s", path, strerror(errno));
		return;
	}
	close(fd);
	d->usable = true;
}

static bool matches(const char *filter, const char *label)
{
	return !filter || strstr(label, filter);
}

static const struct test_dev *first_other_usable(const struct dev_state *me)
{
	int i;

	for (i = 0; i < nr_devs; i++)
		if (&devs[i] != me && devs[i].usable)
			return &devs[i].dev;
	return NULL;
}

/* Why @tc does not run on @d although the device works, or NULL. */
static const char *why_not_run(const struct test_case *tc, const struct dev_state *d)
{
	if (tc->opts.only_yakvm && !d->dev.is_yakvm)
		return tc->opts.why_only_yakvm ?: "checks yakvm-only behaviour";
	return NULL;
}

/*
 * A device the suite needs but cannot open fails the case: KVM is the
 * reference every case is compared with, and its absence must not pass.
 */
static bool run_on_device(const struct test_case *tc, const struct dev_state *d,
			  const char *filter, struct trace_buf **trace)
{
	struct test_ctx ctx = { .dev = &d->dev, .other = first_other_usable(d) };
	char label[256];
	const char *why;

	snprintf(label, sizeof(label), "%s/%s/%s", d->dev.name, binary_name, tc->name);
	if (!matches(filter, label))
		return false;
	why = why_not_run(tc, d);
	if (why) {
		printf("# %s: not run: %s\n", label, why);
		return false;
	}
	if (!d->usable) {
		printf("FAIL %s: %s\n", label, d->why);
		return true;
	}
	if (tc->opts.needs_other && !ctx.other) {
		printf("FAIL %s: needs a second usable device\n", label);
		return true;
	}
	return run_case(tc, &ctx, label, trace);
}

/* Differential cases compare yakvm with the first other device. */
static void diff_pair(int *yakvm, int *other)
{
	int i;

	*yakvm = *other = -1;
	for (i = 0; i < nr_devs; i++) {
		if (devs[i].dev.is_yakvm && *yakvm < 0)
			*yakvm = i;
		else if (*other < 0)
			*other = i;
	}
}

static bool run_diff(const struct test_case *tc, const char *filter)
{
	struct test_ctx ctx = { 0 };
	char label[256];
	int y, o;

	snprintf(label, sizeof(label), "diff/%s/%s", binary_name, tc->name);
	if (!matches(filter, label))
		return false;
	diff_pair(&y, &o);
	if (y < 0 || o < 0) {
		printf("# %s: not run: needs /dev/yakvm and another device\n", label);
		return false;
	}
	if (!devs[y].usable || !devs[o].usable) {
		printf("FAIL %s: %s\n", label, devs[y].usable ? devs[o].why : devs[y].why);
		return true;
	}
	ctx.devs[0] = &devs[y].dev;
	ctx.devs[1] = &devs[o].dev;
	return run_case(tc, &ctx, label, NULL);
}

/*
 * Every case that passed on both devices and ran guests: their traces must
 * be the same (trace.h), or the case says why they cannot be -- in a "#"
 * line, since nothing was checked.  A case that claims to run no guest
 * must not have run one, and a compared case must have run one.
 */
static bool compare_traces(int c, const char *filter)
{
	const struct test_case *tc = &cases[c];
	struct trace_buf *a, *b;
	char label[256], why[VERDICT_LEN];
	int y, o, d;

	diff_pair(&y, &o);
	snprintf(label, sizeof(label), "diff/%s/%s", binary_name, tc->name);
	if (tc->opts.diff || !matches(filter, label) || y < 0 || o < 0)
		return false;
	if (tc->opts.why_not_compared) {
		printf("# %s: not compared: %s\n", label, tc->opts.why_not_compared);
		return false;
	}
	if (tc->opts.only_yakvm) {
		printf("# %s: not compared: runs on %s only\n", label, devs[y].dev.name);
		return false;
	}
	if (tc->opts.no_guest) {
		for (d = 0; d < nr_devs; d++)
			if (traces[c][d] && !trace_empty(traces[c][d])) {
				printf("FAIL %s: declared without guests (.no_guest), but it ran "
				       "one on %s\n", label, devs[d].dev.name);
				return true;
			}
		return false;
	}
	if (!traces[c][y] || !traces[c][o]) {
		printf("# %s: not compared: %s/%s/%s did not pass\n", label,
		       devs[traces[c][y] ? o : y].dev.name, binary_name, tc->name);
		return false;
	}
	a = traces[c][y];
	b = traces[c][o];
	if (trace_empty(a) && trace_empty(b)) {
		printf("FAIL %s: no guest ran on either device; a case of ioctl checks "
		       "only is declared with TEST_NO_GUEST\n", label);
		return true;
	}
	if (trace_compare(a, b, devs[y].dev.name, devs[o].dev.name, why, sizeof(why))) {
		printf("ok %s\n", label);
		return false;
	}
	printf("FAIL %s: the guests did different things: %s\n", label, why);
	return true;
}

static void usage(void)
{
	fprintf(stderr, "usage: %s [--dev PATH]... [--filter STR] [--list]\n",
		binary_name);
	exit(2);
}

/* The verdict lines a run on the devices would print, in the runner's order. */
static void list_cases(void)
{
	int i, c, y, o;

	diff_pair(&y, &o);
	for (i = 0; i < nr_devs; i++)
		for (c = 0; c < nr_cases; c++)
			if (!cases[c].opts.diff && !why_not_run(&cases[c], &devs[i]))
				printf("%s/%s/%s\n", devs[i].dev.name, binary_name, cases[c].name);
	if (y < 0 || o < 0)
		return;
	for (c = 0; c < nr_cases; c++)
		if (cases[c].opts.diff)
			printf("diff/%s/%s\n", binary_name, cases[c].name);
	for (c = 0; c < nr_cases; c++)
		if (compared(&cases[c]))
			printf("diff/%s/%s\n", binary_name, cases[c].name);
}

int main(int argc, char **argv)
{
	const char *filter = NULL, *base = strrchr(argv[0], '/');
	static char name[64];
	const char *devs_given[MAX_DEVS];
	bool failed = false, list = false;
	int i, c, nr_given = 0;

	snprintf(name, sizeof(name), "%s", base ? base + 1 : argv[0]);
	if (strchr(name, '.'))
		*strchr(name, '.') = '\0';
	binary_name = name;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dev") && i + 1 < argc && nr_given < MAX_DEVS)
			devs_given[nr_given++] = argv[++i];
		else if (!strcmp(argv[i], "--filter") && i + 1 < argc)
			filter = argv[++i];
		else if (!strcmp(argv[i], "--list"))
			list = true;
		else
			usage();
	}
	if (!nr_given) {
		devs_given[nr_given++] = "/dev/yakvm";
		devs_given[nr_given++] = "/dev/kvm";
	}
	for (i = 0; i < nr_given; i++)
		add_dev(devs_given[i], !list);
	if (list) {
		list_cases();
		return 0;
	}
	verdict = mmap(NULL, VERDICT_LEN, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (verdict == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	trace_shared = mmap(NULL, sizeof(*trace_shared) + TRACE_TEXT_SIZE,
			    PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (trace_shared == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	trace_shared->size = TRACE_TEXT_SIZE;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < nr_devs; i++)
		for (c = 0; c < nr_cases; c++)
			if (!cases[c].opts.diff)
				failed |= run_on_device(&cases[c], &devs[i], filter,
							&traces[c][i]);
	for (c = 0; c < nr_cases; c++)
		if (cases[c].opts.diff)
			failed |= run_diff(&cases[c], filter);
	for (c = 0; c < nr_cases; c++)
		failed |= compare_traces(c, filter);
	return failed ? 1 : 0;
}

bool host_kernel_at_least(unsigned int major, unsigned int minor)
{
	unsigned int ma = 0, mi = 0;
	struct utsname u;

	if (uname(&u) || sscanf(u.release, "%u.%u", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}
