// SPDX-License-Identifier: GPL-2.0
/*
 * Exits without data: HLT (KVM_EXIT_HLT, RIP past the HLT, the guest goes
 * on), a triple fault (KVM_EXIT_SHUTDOWN, after which the vCPU is back in
 * its INIT state, as KVM leaves it) and a state KVM_SET_SREGS accepts but
 * VMRUN refuses (KVM_EXIT_FAIL_ENTRY).  The traces compare the state each
 * device leaves behind, field by field (masked: mask_cache_disable).
 */
#include <unistd.h>

#include "diff.h"
#include "guest.h"
#include "modes.h"

#define SVM_EXIT_ERR	0xffffffffULL	/* VMRUN's "invalid guest state" code */
#define CR0_NW		(1ULL << 29)
#define CR0_CD		(1ULL << 30)

GUEST_CODE16(hlt16,
	"mov $1, %eax\n hlt\n"
	"mov $2, %eax\n hlt\n"
	ASM_UCALL_DONE);

static void expect_hlt(struct vcpu *v, uint64_t rax)
{
	struct kvm_regs regs;

	vcpu_run(v);
	vcpu_expect_exit(v, KVM_EXIT_HLT);
	vcpu_get_regs(v, &regs);
	TEST_ASSERT_EQ(regs.rax, rax);
	/* RIP is past the one-byte HLT: the byte before it is F4. */
	TEST_ASSERT_EQ(*(uint8_t *)gpa_to_hva(v->vm, regs.rip - 1), 0xf4);
}

TEST_CASE(hlt_real_mode)
{
	struct vcpu *v = vm_with_low_code(ctx->dev, MODE_REAL, &hlt16);
	struct ucall uc;

	expect_hlt(v, 1);
	expect_hlt(v, 2);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

static void guest_hlt(void)
{
	int i;

	for (i = 1; i <= 3; i++)
		__asm__ volatile("hlt" : : "a"(i));
}

TEST_CASE(hlt_long64)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_hlt, 0);
	struct ucall uc;

	expect_hlt(v, 1);
	expect_hlt(v, 2);
	expect_hlt(v, 3);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

/* ---------------------------------------------------------------- */
/* Triple fault                                                     */

/* No IDT: the #UD cannot be delivered, nor the #DF after it. */
GUEST_CODE16(triple16,
	"lidt " LOW(triple16, empty_idt16) "\n"
	"ud2\n"
	"empty_idt16: .word 0\n .long 0\n");

GUEST_CODE64(triple64,
	"lidt " LOW(triple64, empty_idt64) "\n"
	"ud2\n"
	"empty_idt64: .word 0\n .quad 0\n");

/* After a shutdown both devices INIT the vCPU (KVM's shutdown_interception). */
static void expect_init_state(struct vcpu *v)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	vcpu_get_regs(v, &r);
	vcpu_get_sregs(v, &s);
	TEST_ASSERT_EQ(r.rip, 0xfff0);
	TEST_ASSERT_EQ(s.cs.selector, 0xf000);
	TEST_ASSERT_EQ(s.cs.base, 0xffff0000);
	TEST_ASSERT_EQ(s.cr0 & 1, 0);
	TEST_ASSERT_EQ(s.efer, 0);
}

static void run_triple_fault(const struct test_ctx *ctx, enum guest_mode mode,
			     const struct guest_code *code)
{
	struct vcpu *v = vm_with_low_code(ctx->dev, mode, code);

	vcpu_run(v);
	vcpu_expect_exit(v, KVM_EXIT_SHUTDOWN);
	expect_init_state(v);
	vm_free(v->vm);
}

/*
 * DIFFERENCE: after a shutdown KVM puts the vCPU in the INIT state, which
 * keeps CR0.CD and CR0.NW from before; yakvm resets it (CR0 = 0x60000010),
 * since the VMCB is undefined after a SHUTDOWN intercept (APM 15.12) and
 * the guest's old CR0 is not known.
 */
static void mask_cache_disable(struct vcpu_snapshot *s)
{
	s->sregs.cr0 &= ~(CR0_CD | CR0_NW);
}

TEST_CASE_OPTS(triple_fault_real_mode, .compare_mask = mask_cache_disable)
{
	run_triple_fault(ctx, MODE_REAL, &triple16);
}

TEST_CASE_OPTS(triple_fault_long64, .compare_mask = mask_cache_disable)
{
	run_triple_fault(ctx, MODE_LONG, &triple64);
}

/* ---------------------------------------------------------------- */
/* Invalid state                                                    */

GUEST_CODE64(nop64, "nop\n" ASM_UCALL_DONE);

/*
 * Long mode with CS.L=1 and CS.D=1: KVM_SET_SREGS takes it (KVM checks
 * neither), VMRUN refuses it (APM 15.5.1), and KVM_RUN reports FAIL_ENTRY
 * with the hardware's reason.  After a failed VMRUN the VMCB's state is
 * whatever the CPU left there (QEMU writes its own back), so the VMM sets
 * the whole state again, and then the vCPU runs.
 */
TEST_CASE(fail_entry)
{
	struct vcpu *v = vm_with_low_code(ctx->dev, MODE_LONG, &nop64);
	struct kvm_sregs good, bad;
	struct kvm_regs regs;
	struct ucall uc;

	vcpu_get_sregs(v, &good);
	vcpu_get_regs(v, &regs);
	bad = good;
	bad.cs.db = 1;
	vcpu_set_sregs(v, &bad);
	vcpu_run(v);
	vcpu_expect_exit(v, KVM_EXIT_FAIL_ENTRY);
	TEST_ASSERT_EQ(v->run->fail_entry.hardware_entry_failure_reason & 0xffffffff,
		       SVM_EXIT_ERR);
	TEST_ASSERT(v->run->fail_entry.cpu < (uint32_t)sysconf(_SC_NPROCESSORS_CONF),
		    "fail_entry.cpu is %u", v->run->fail_entry.cpu);
	vcpu_set_sregs(v, &good);
	vcpu_set_regs(v, &regs);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}
