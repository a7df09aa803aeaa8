// SPDX-License-Identifier: GPL-2.0
/*
 * The test library itself: a guest reaches its code and reports back in every
 * mode, and ucalls (SYNC with values, PRINT, ASSERT with file:line and
 * expression, DONE on return) arrive intact.
 */
#include <stdio.h>

#include "guest.h"
#include "modes.h"

/* Adds 1 + 2 + ... + 100 into EBX, then reports DONE. */
GUEST_CODE16(sum16,
	"xor %ebx, %ebx\n"
	"mov $100, %cx\n"
	"1: add %ecx, %ebx\n"
	"loop 1b\n"
	"mov %ebx, " LOW(sum16, result16) "\n"
	ASM_UCALL_DONE
	"result16: .long 0\n");

GUEST_CODE32(sum32,
	"xor %ebx, %ebx\n"
	"mov $100, %ecx\n"
	"1: add %ecx, %ebx\n"
	"loop 1b\n"
	"mov %ebx, " LOW(sum32, result32) "\n"
	ASM_UCALL_DONE
	"result32: .long 0\n");

static void run_sum(const struct test_ctx *ctx, enum guest_mode mode,
		    const struct guest_code *code)
{
	struct vcpu *v = vm_with_low_code(ctx->dev, mode, code);
	struct kvm_regs regs;
	struct ucall uc;
	uint32_t stored;

	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vcpu_get_regs(v, &regs);
	TEST_ASSERT_EQ(regs.rbx, 5050);
	/* The result sits right after the code's last byte in the copy. */
	stored = *(uint32_t *)gpa_to_hva(v->vm, GPA_LOW_CODE + (code->end - code->start) - 4);
	TEST_ASSERT_EQ(stored, 5050);
	vm_free(v->vm);
}

TEST_CASE(real_mode) { run_sum(ctx, MODE_REAL, &sum16); }
TEST_CASE(prot32) { run_sum(ctx, MODE_PROT32, &sum32); }
TEST_CASE(paged32) { run_sum(ctx, MODE_PROT32_PAGED, &sum32); }
TEST_CASE(pae) { run_sum(ctx, MODE_PAE, &sum32); }

static uint64_t guest_counter = 7;

static void guest_ucalls(uint64_t arg)
{
	GUEST_SYNC(arg, guest_counter);
	guest_counter += arg;
	GUEST_PRINTF("counter %lu, text %s, hex %x", guest_counter, "abc", 0xbeefu);
	GUEST_SYNC(guest_counter, 0);
}

TEST_CASE(long_mode_ucalls)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_ucalls, 35);
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 35);
	TEST_ASSERT_EQ(uc.args[1], 7);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 42);
	/* Returning from the guest function reports DONE. */
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	/* The guest's globals are its own copy. */
	TEST_ASSERT_EQ(guest_counter, 7);
	TEST_ASSERT_EQ(guest_global(v->vm, guest_counter), 42);
	vm_free(v->vm);
}

static void guest_print(void)
{
	GUEST_PRINTF("n=%d u=%u x=%08x s=%s c=%c p=%p %%", -12, 34u, 0xabcu, "str", 'q',
		     (void *)0x1000);
}

TEST_CASE(long_mode_print)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_print, 0);
	struct ucall uc;

	vcpu_run(v);
	TEST_ASSERT_EQ(vcpu_get_ucall(v, &uc), UCALL_PRINT);
	TEST_ASSERT(!strcmp(uc.message, "n=-12 u=34 x=00000abc s=str c=q p=0x1000 %"),
		    "guest printed \"%s\"", uc.message);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

static void guest_assert(uint64_t arg)
{
	GUEST_ASSERT_EQ(arg, 2);
}

TEST_CASE(long_mode_assert)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_assert, 3);
	char expect[128];
	struct ucall uc;

	vcpu_run(v);
	TEST_ASSERT_EQ(vcpu_get_ucall(v, &uc), UCALL_ASSERT);
	snprintf(expect, sizeof(expect), "%s:%d: arg == 2: 0x3 != 0x2", __FILE__,
		 __LINE__ - 12);
	TEST_ASSERT(!strcmp(uc.message, expect), "guest said \"%s\", expected \"%s\"",
		    uc.message, expect);
	vm_free(v->vm);
}

static void guest_null_deref(void)
{
	volatile uint64_t *p = NULL;

	GUEST_SYNC(*p, 0);
}

TEST_CASE(long_mode_unexpected_exception)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_null_deref, 0);
	struct ucall uc;

	vcpu_run(v);
	TEST_ASSERT_EQ(vcpu_get_ucall(v, &uc), UCALL_ASSERT);
	TEST_ASSERT(strstr(uc.message, "unexpected exception") &&
		    strstr(uc.message, "vector 14") && strstr(uc.message, "cr2 0x0)"),
		    "guest said \"%s\"", uc.message);
	vm_free(v->vm);
}

/* The example of docs/testing.md ("Writing a test"), kept compiling and passing. */
static void guest_code(uint64_t arg)
{
	GUEST_ASSERT_EQ(inb(0x61), arg);	/* an I/O exit */
	GUEST_SYNC(arg * 2, 0);
}

TEST_CASE(documentation_example)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_code, 7);
	struct ucall uc;

	vcpu_run(v);			/* the IN */
	vcpu_expect_exit(v, KVM_EXIT_IO);
	*((uint8_t *)v->run + v->run->io.data_offset) = 7;
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 14);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}
