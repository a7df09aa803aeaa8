/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test-case framework.  A test binary NAME.test holds many cases; main()
 * (test.c) runs each case on each device in a forked child with a timeout
 * and prints one line per case and device:
 *
 *   ok DEV/NAME/CASE    FAIL DEV/NAME/CASE: why    skip DEV/NAME/CASE: why
 *
 * DEV is the device's file name (yakvm, kvm).  A differential case runs once
 * with both devices and prints diff/NAME/CASE; so does the comparison of
 * the two devices' traces of every other case that runs guests.  What is
 * not run or not compared is said in a "# ..." line, never as a skip: a
 * skip is a check that could not be made (tests/allowed-skips.txt).
 *
 *   NAME.test --list    the verdict lines a run prints, one name per line
 *
 *   TEST_CASE(create_vm) { struct vm *vm = vm_create(ctx->dev, 0); ... }
 *   TEST_CASE_OPTS(big, .timeout_s = 60, .only_yakvm = true) { ... }
 *   TEST_DIFF(reset_state) { diff_... (ctx->devs[0], ctx->devs[1]) }
 */
#ifndef TESTS_LIB_TEST_H
#define TESTS_LIB_TEST_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct test_dev {
	const char *path;		/* e.g. /dev/yakvm */
	const char *name;		/* e.g. yakvm (the path's file name) */
	bool is_yakvm;			/* selects yakvm's documented answers */
};

struct test_ctx {
	const struct test_dev *dev;	/* the device of a per-device case */
	const struct test_dev *devs[2];	/* a differential case: yakvm, then kvm */
	const struct test_dev *other;	/* another usable device, or NULL */
};

struct vcpu_snapshot;

struct test_opts {
	unsigned int timeout_s;		/* default 30 */
	bool only_yakvm;		/* skipped on other devices, with why */
	const char *why_only_yakvm;
	bool needs_other;		/* needs a second usable device (ctx->other) */
	/*
	 * The case runs no guest (ioctl checks only): there is no trace to
	 * compare, so no diff/ line.  The runner checks the claim both ways.
	 */
	bool no_guest;
	bool diff;			/* differential: run once with both devices */
	/*
	 * Every other case's guests are traced on each device and compared
	 * (trace.h): unless this says why they cannot be ...
	 */
	const char *why_not_compared;
	/* ... or this clears what the devices may report differently. */
	void (*compare_mask)(struct vcpu_snapshot *s);
};

typedef void (*test_fn)(const struct test_ctx *ctx);

void test_register(const char *name, test_fn fn, struct test_opts opts);

#define TEST_CASE_OPTS(name, ...)					\
	static void name(const struct test_ctx *ctx);			\
	__attribute__((constructor)) static void register_##name(void)	\
	{								\
		test_register(#name, name, (struct test_opts){ __VA_ARGS__ }); \
	}								\
	static void name(const struct test_ctx *ctx __attribute__((unused)))

#define TEST_CASE(name)		TEST_CASE_OPTS(name, .timeout_s = 0)
#define TEST_DIFF(name)		TEST_CASE_OPTS(name, .diff = true)
/* A case of ioctl checks that runs no guest. */
#define TEST_NO_GUEST(name)	TEST_CASE_OPTS(name, .no_guest = true)

/*
 * In a test whose cases do not depend on the CPU model (ioctl rules, races,
 * object lifetimes): the marker line that run-tests.sh and
 * scripts/inventory.py look for, so `make test` runs the binary in its
 * first boot only (docs/testing.md, "The inventory").
 */
#define TEST_CPU_MODEL_INDEPENDENT()					\
	__attribute__((used)) static const char yakvm_test_once_marker[] = \
		"\n# yakvm-test: cpu-model-independent\n"

/* Ending a case early: the child exits and the parent prints the line. */
void test_fail(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));
void test_skip(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));
/* Informational output, printed as "# ..." lines. */
void test_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Whether the test VM's kernel (uname -r) is at least MAJOR.MINOR: for
 * answers of KVM (the reference) that changed between Debian 12's kernel
 * lines, 6.1 and 6.12, each with a DIFFERENCE comment (docs/testing.md).
 */
bool host_kernel_at_least(unsigned int major, unsigned int minor);

#define TEST_ASSERT(cond, fmt, ...)					\
	do {								\
		if (!(cond))						\
			test_fail("%s:%d: %s: " fmt, __FILE__, __LINE__, \
				  #cond, ##__VA_ARGS__);		\
	} while (0)

#define TEST_ASSERT_EQ(a, b)						\
	do {								\
		uint64_t __a = (uint64_t)(a), __b = (uint64_t)(b);	\
		if (__a != __b)						\
			test_fail("%s:%d: %s == %s: 0x%llx != 0x%llx",	\
				  __FILE__, __LINE__, #a, #b,		\
				  (unsigned long long)__a,		\
				  (unsigned long long)__b);		\
	} while (0)

/* A call that must fail with errno @err (a system call returning -1). */
#define EXPECT_ERRNO(call, err)						\
	do {								\
		long __r = (long)(call);				\
		expect_errno(__FILE__, __LINE__, #call, __r, errno, (err)); \
	} while (0)
/* A call that must succeed (return >= 0); evaluates to its result. */
#define EXPECT_OK(call)							\
	({								\
		long __r = (long)(call);				\
		expect_ok(__FILE__, __LINE__, #call, __r, errno);	\
	})

void expect_errno(const char *file, int line, const char *what, long ret,
		  int saved_errno, int err);
long expect_ok(const char *file, int line, const char *what, long ret,
	       int saved_errno);

/* Monotonic time in nanoseconds. */
uint64_t now_ns(void);

#endif
