// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's FPU registers are its own, and the host's are the host's,
 * even when the host kernel uses the FPU in interrupts.  The guest keeps a
 * different value in each of XMM0-15 across thousands of CPUID exits, which the
 * device handles in the kernel without returning to user space; meanwhile
 * an hrtimer on every CPU uses the FPU from hard-interrupt context and fills
 * the vector registers with a host pattern (yakvm's debugfs stress knob,
 * driver/kvm/stress.c; it runs for KVM's turn too).  An interrupt that
 * lands between the point where the entry path decides the guest's
 * registers are loaded and the point where interrupts go off would leave
 * the host pattern in the registers VMRUN hands the guest.
 *
 * The host side checks the reverse: its own vector registers, set before
 * each KVM_RUN, are unchanged when KVM_RUN returns.
 *
 * Only SSE state: the AVX halves cannot be tested in the test VM, whose
 * emulated SVM does not intercept XSETBV, so a guest's XCR0 is not kept
 * apart from the host's there on either device (docs/testing.md).
 */
#include <cpuid.h>
#include <stdio.h>
#include <sys/syscall.h>

#include "guest.h"
#include "modes.h"

#define ROUNDS		3000
#define EXITS_PER_ROUND	8
#define STRESS_PERIOD	"/sys/kernel/debug/yakvm/stress/fpu_irq_period_ns"
#define STRESS_USES	"/sys/kernel/debug/yakvm/stress/fpu_irq_uses"
#define HOST_PATTERN	0x7473686d766b6179ULL	/* driver/kvm/stress.c */
#define USER_PATTERN	0x72657375706d6d76ULL

#define XMM_LOAD(n)  "movq %0, %%xmm" #n "\n\tpinsrq $1, %1, %%xmm" #n "\n\t"
#define XMM_CHECK(n)							\
	do {								\
		uint64_t lo, hi;					\
									\
		__asm__ volatile("movq %%xmm" #n ", %0\n\t"		\
				 "pextrq $1, %%xmm" #n ", %1"		\
				 : "=r"(lo), "=r"(hi));			\
		if (lo != base + n || hi != ~(base + n))		\
			bad_register(n, lo, hi, base + n);		\
	} while (0)

static void bad_register(int n, uint64_t lo, uint64_t hi, uint64_t want)
{
	GUEST_PRINTF("xmm%d holds 0x%lx:0x%lx, expected 0x%lx:0x%lx%s", n, hi,
		     lo, ~want, want,
		     lo == HOST_PATTERN ? " -- the host interrupt's pattern" : "");
	GUEST_ASSERT(0);
}

/* XMM n = { base + n, ~(base + n) }. */
static void load_xmm(uint64_t base)
{
#define L(n) __asm__ volatile(XMM_LOAD(n) : : "r"(base + n), "r"(~(base + n)))
	L(0); L(1); L(2); L(3); L(4); L(5); L(6); L(7);
	L(8); L(9); L(10); L(11); L(12); L(13); L(14); L(15);
#undef L
}

static void check_xmm(uint64_t base)
{
	XMM_CHECK(0); XMM_CHECK(1); XMM_CHECK(2); XMM_CHECK(3);
	XMM_CHECK(4); XMM_CHECK(5); XMM_CHECK(6); XMM_CHECK(7);
	XMM_CHECK(8); XMM_CHECK(9); XMM_CHECK(10); XMM_CHECK(11);
	XMM_CHECK(12); XMM_CHECK(13); XMM_CHECK(14); XMM_CHECK(15);
}

static void cpuid_exit(void)
{
	uint32_t a = 0, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
}

static void guest_fpu_loop(void)
{
	uint64_t round, base;
	int i;

	for (round = 0; round < ROUNDS; round++) {
		base = round << 8;
		load_xmm(base);
		for (i = 0; i < EXITS_PER_ROUND; i++)
			cpuid_exit();
		check_xmm(base);
		/* Back to the host now and then: its side is checked there. */
		if (!(round % 64))
			GUEST_SYNC(round, 0);
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	TEST_ASSERT(f, "cannot open %s (is yakvm.ko loaded?)", path);
	TEST_ASSERT(fputs(text, f) >= 0 && fclose(f) == 0, "writing %s", path);
}

static uint64_t read_number(const char *path)
{
	unsigned long long v = 0;
	FILE *f = fopen(path, "r");

	TEST_ASSERT(f && fscanf(f, "%llu", &v) == 1, "reading %s", path);
	fclose(f);
	return v;
}

/*
 * KVM_RUN with the host's XMM registers holding USER_PATTERN ^ n around
 * the system call (made here, so no compiler-generated code touches them);
 * returns the ioctl's result and fails the case if a register changed.
 */
static long run_checking_host_regs(struct vcpu *v)
{
	uint64_t x0, x7, x15;
	long r;

	__asm__ volatile("movq %[p0], %%xmm0\n\t"
			 "movq %[p7], %%xmm7\n\t"
			 "movq %[p15], %%xmm15\n\t"
			 "syscall\n\t"
			 "movq %%xmm0, %[x0]\n\t"
			 "movq %%xmm7, %[x7]\n\t"
			 "movq %%xmm15, %[x15]"
			 : "=a"(r), [x0] "=&r"(x0), [x7] "=&r"(x7), [x15] "=&r"(x15)
			 : "a"((long)SYS_ioctl), "D"((long)v->fd), "S"((long)KVM_RUN),
			   "d"(0L), [p0] "r"(USER_PATTERN), [p7] "r"(USER_PATTERN ^ 7),
			   [p15] "r"(USER_PATTERN ^ 15)
			 : "rcx", "r11", "memory");	/* no SSE code is generated here */
	TEST_ASSERT(x0 == USER_PATTERN && x7 == (USER_PATTERN ^ 7) &&
		    x15 == (USER_PATTERN ^ 15),
		    "the host's XMM0/7/15 changed across KVM_RUN: 0x%llx 0x%llx 0x%llx",
		    (unsigned long long)x0, (unsigned long long)x7,
		    (unsigned long long)x15);
	return r;
}

TEST_CASE_OPTS(vector_registers_under_irq_fpu_use, .timeout_s = 600,
	       .why_not_compared = "the number of SYNC exits is the same, but where the timers interrupt is not")
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_fpu_loop, 0);
	char printed[UCALL_MSG_LEN];
	uint64_t uses, syncs = 0, type;
	struct ucall uc;
	long r;

	write_file(STRESS_PERIOD, "50000");
	uses = read_number(STRESS_USES);
	printed[0] = '\0';
	for (;;) {
		r = run_checking_host_regs(v);
		if (r < 0) {
			write_file(STRESS_PERIOD, "0");
			test_fail("KVM_RUN: %s", strerror(-r));
		}
		type = vcpu_get_ucall(v, &uc);
		if (type == UCALL_SYNC) {
			syncs++;
			continue;
		}
		if (type == UCALL_PRINT) {
			/* The register that was wrong; its ASSERT follows. */
			snprintf(printed, sizeof(printed), "%s", uc.message);
			continue;
		}
		break;
	}
	write_file(STRESS_PERIOD, "0");
	uses = read_number(STRESS_USES) - uses;
	if (type == UCALL_ASSERT)
		test_fail("%s after %llu rounds: %s (%llu FPU uses in host interrupts meanwhile)",
			  uc.message, (unsigned long long)syncs * 64, printed,
			  (unsigned long long)uses);
	TEST_ASSERT(uc.type == UCALL_DONE, "unexpected %s", vcpu_exit_str(v));
	TEST_ASSERT_EQ(syncs, (ROUNDS + 63) / 64);
	TEST_ASSERT(uses > 0, "the host interrupts never used the FPU");
	test_log("%d rounds of %d exits; the host interrupts used the FPU %llu times",
		 ROUNDS, EXITS_PER_ROUND, (unsigned long long)uses);
	vm_free(v->vm);
}
