// SPDX-License-Identifier: GPL-2.0
/*
 * The frame of a fault holds RFLAGS.RF = 1 (APM vol. 2, "RFLAGS.RF"): the
 * IRET back to the faulting instruction must not take an instruction
 * breakpoint on it again.  The CPU sets it for a fault it raises; for a
 * fault the hypervisor intercepts and gives back through EVENTINJ, or
 * raises itself, the hypervisor must (KVM does for every fault it
 * injects; kvm-unit-tests' idt_test checks it).  A #GP the hypervisor
 * raises (a reserved CR4 bit: CR4 writes are intercepted) and a #UD
 * (UD2), on both devices; the handler clears RF again before it returns.
 */
#include "guest.h"
#include "modes.h"

#define UD_VECTOR	6
#define GP_VECTOR	13
#define RFLAGS_RF	(1ULL << 16)

static volatile uint64_t frame_rflags;

static void record_frame(struct ex_regs *regs)
{
	frame_rflags = regs->rflags;
	regs->rflags &= ~RFLAGS_RF;
	regs->rip += regs->vector == UD_VECTOR ? 2 : 3;	/* ud2; mov %rax, %cr4 */
}

static void guest_gp(void)
{
	uint64_t cr4;

	guest_set_handler(GP_VECTOR, record_frame);
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	/* mov %rax, %cr4 with reserved bit 31: 0f 22 e0 */
	__asm__ volatile(".byte 0x0f, 0x22, 0xe0" : : "a"(cr4 | 1ULL << 31) : "memory");
	GUEST_SYNC(frame_rflags & RFLAGS_RF, frame_rflags != 0);
}

static void guest_ud(void)
{
	guest_set_handler(UD_VECTOR, record_frame);
	__asm__ volatile("ud2" : : : "memory");
	GUEST_SYNC(frame_rflags & RFLAGS_RF, frame_rflags != 0);
}

static void expect_rf(const struct test_ctx *ctx, void (*fn)(void), const char *what)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, fn, 0);
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(uc.args[1], "%s: the handler did not run", what);
	TEST_ASSERT(uc.args[0], "%s: the frame has RFLAGS.RF clear", what);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

TEST_CASE(gp_frame_has_rf) { expect_rf(ctx, guest_gp, "#GP of a reserved CR4 bit"); }
TEST_CASE(ud_frame_has_rf) { expect_rf(ctx, guest_ud, "#UD of UD2"); }
