// SPDX-License-Identifier: GPL-2.0
/*
 * The test-case runner (see test.h): command line, device list, one forked
 * child per case and device, timeouts, and the one-line verdicts.
 *
 *   NAME.test [--dev PATH]... [--filter STR] [--list]
 *
 * Without --dev the devices are /dev/yakvm, then /dev/kvm.  A device that
 * cannot be opened gets a "skip" line per case saying why.
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

static bool traced(const struct test_case *tc)
{
	return !tc->opts.diff && !tc->opts.why_not_compared;
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

/*
 * Runs @tc with @ctx in a child; prints the verdict; returns true if it
 * failed.  A case that passed leaves its trace in @trace, when given.
 */
static bool run_case(const struct test_case *tc, const struct test_ctx *ctx,
		     const char *label, struct trace_buf **trace)
{
	pid_t pid;
	int status;

	memset(verdict, 0, VERDICT_LEN);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		snprintf(verdict, VERDICT_LEN, "fork: %s", strerror(errno));
		print_verdict(CHILD_FAIL, label);
		return true;
	}
	if (pid == 0) {
		if (trace && traced(tc))
			trace_start(trace_shared, tc->opts.compare_mask);
		tc->fn(ctx);
		fflush(stdout);
		_exit(CHILD_OK);
	}
	status = wait_child(pid, tc->opts.timeout_s);
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

static void add_dev(const char *path)
{
	struct dev_state *d = &devs[nr_devs++];
	const char *slash = strrchr(path, '/');
	int fd;

	d->dev.path = path;
	d->dev.name = slash ? slash + 1 : path;
	/* yakvm's documented answers apply to its misc device, /dev/yakvm. */
	d->dev.is_yakvm = strcmp(d->dev.name, "yakvm") == 0;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(d->why, sizeof(d->why), "%s: %s", path, strerror(errno));
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

/* Why @tc cannot run on @d, or NULL. */
static const char *why_not(const struct test_case *tc, const struct dev_state *d)
{
	if (!d->usable)
		return d->why;
	if (tc->opts.only_yakvm && !d->dev.is_yakvm)
		return tc->opts.why_only_yakvm ?: "checks yakvm-only behaviour";
	if (tc->opts.needs_other && !first_other_usable(d))
		return "needs a second usable device";
	return NULL;
}

static bool run_on_device(const struct test_case *tc, const struct dev_state *d,
			  const char *filter, struct trace_buf **trace)
{
	struct test_ctx ctx = { .dev = &d->dev, .other = first_other_usable(d) };
	char label[256];
	const char *why;

	snprintf(label, sizeof(label), "%s/%s/%s", d->dev.name, binary_name, tc->name);
	if (!matches(filter, label))
		return false;
	why = why_not(tc, d);
	if (why) {
		printf("skip %s: %s\n", label, why);
		return false;
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
	const struct dev_state *yakvm = NULL, *other = NULL;
	struct test_ctx ctx = { 0 };
	char label[256];
	int y, o;

	snprintf(label, sizeof(label), "diff/%s/%s", binary_name, tc->name);
	if (!matches(filter, label))
		return false;
	diff_pair(&y, &o);
	yakvm = y >= 0 ? &devs[y] : NULL;
	other = o >= 0 ? &devs[o] : NULL;
	if (!yakvm || !other || !yakvm->usable || !other->usable) {
		printf("skip %s: needs /dev/yakvm and another usable device%s%s\n",
		       label, other && !other->usable ? "; " : "",
		       other && !other->usable ? other->why : "");
		return false;
	}
	ctx.devs[0] = &yakvm->dev;
	ctx.devs[1] = &other->dev;
	return run_case(tc, &ctx, label, NULL);
}

/*
 * Every case that passed on both devices and ran guests: their traces must
 * be the same (trace.h), or the case says why they cannot be.
 */
static bool compare_traces(int c)
{
	const struct test_case *tc = &cases[c];
	struct trace_buf *a, *b;
	char label[256], why[VERDICT_LEN];
	int y, o;

	diff_pair(&y, &o);
	if (y < 0 || o < 0 || !traces[c][y] || !traces[c][o])
		return false;
	a = traces[c][y];
	b = traces[c][o];
	snprintf(label, sizeof(label), "diff/%s/%s", binary_name, tc->name);
	if (tc->opts.why_not_compared) {
		printf("skip %s: not compared: %s\n", label, tc->opts.why_not_compared);
		return false;
	}
	if (trace_empty(a) && trace_empty(b))
		return false;		/* no guest ran */
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

static void list_cases(void)
{
	int i;

	for (i = 0; i < nr_cases; i++)
		printf("%s%s\n", cases[i].name, cases[i].opts.diff ? " (diff)" : "");
}

int main(int argc, char **argv)
{
	const char *filter = NULL, *base = strrchr(argv[0], '/');
	static char name[64];
	bool failed = false, list = false;
	int i, c;

	snprintf(name, sizeof(name), "%s", base ? base + 1 : argv[0]);
	if (strchr(name, '.'))
		*strchr(name, '.') = '\0';
	binary_name = name;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dev") && i + 1 < argc && nr_devs < MAX_DEVS)
			add_dev(argv[++i]);
		else if (!strcmp(argv[i], "--filter") && i + 1 < argc)
			filter = argv[++i];
		else if (!strcmp(argv[i], "--list"))
			list = true;
		else
			usage();
	}
	if (list) {
		list_cases();
		return 0;
	}
	if (!nr_devs) {
		add_dev("/dev/yakvm");
		add_dev("/dev/kvm");
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
		failed |= compare_traces(c);
	return failed ? 1 : 0;
}
