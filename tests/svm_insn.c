// SPDX-License-Identifier: GPL-2.0
/*
 * SVM instructions in a guest.  The guest runs with EFER.SVME set underneath
 * (VMRUN requires it), so each SVM instruction would execute for real if the
 * hypervisor did not intercept it.  The guest sees no SVM: VMRUN, VMLOAD,
 * VMSAVE, STGI, CLGI, SKINIT and INVLPGA raise #UD through the guest's own
 * IDT, with RIP at the instruction; VMMCALL is KVM's hypercall and returns
 * -KVM_ENOSYS (-1000) for an unknown call, 0 for KVM_HC_VAPIC_POLL_IRQ.
 */
#include <cpuid.h>

#include "guest.h"
#include "modes.h"

#define UD_VECTOR		6
#define KVM_ENOSYS		1000
#define KVM_HC_VAPIC_POLL_IRQ	1
#define NO_EXCEPTION		0xff

static volatile uint64_t fault_vector = NO_EXCEPTION;
static volatile uint64_t fault_rip;

static void record_ud(struct ex_regs *regs)
{
	fault_vector = regs->vector;
	fault_rip = regs->rip;
	regs->rip += 3;			/* every SVM instruction is 0F 01 xx */
}

/* Runs one 3-byte SVM instruction and reports (its ModRM byte, the vector, RIP ok). */
#define TRY_SVM_INSN(modrm)						\
	do {								\
		uint64_t at;						\
									\
		fault_vector = NO_EXCEPTION;				\
		__asm__ volatile("lea 1f(%%rip), %0\n"			\
				 "1: .byte 0x0f, 0x01, " #modrm "\n"	\
				 : "=&r"(at) : "a"(0) : "memory");	\
		GUEST_SYNC(modrm, fault_vector);			\
		if (fault_vector != NO_EXCEPTION)			\
			GUEST_ASSERT_EQ(fault_rip, at);			\
	} while (0)

static void guest_svm_insns(void)
{
	guest_set_handler(UD_VECTOR, record_ud);
	TRY_SVM_INSN(0xd8);	/* VMRUN */
	TRY_SVM_INSN(0xda);	/* VMLOAD */
	TRY_SVM_INSN(0xdb);	/* VMSAVE */
	TRY_SVM_INSN(0xdd);	/* CLGI */
	TRY_SVM_INSN(0xdc);	/* STGI (after CLGI: where it runs, GIF ends up set) */
	TRY_SVM_INSN(0xde);	/* SKINIT */
	TRY_SVM_INSN(0xdf);	/* INVLPGA */
}

static bool host_has_vgif(void)
{
	unsigned int eax, ebx, ecx, edx = 0;

	return __get_cpuid(0x8000000a, &eax, &ebx, &ecx, &edx) && (edx & (1u << 16));
}

TEST_CASE_OPTS(svm_instructions_raise_ud,
	       .why_not_compared = "with virtual GIF KVM lets CLGI/STGI run (DIFFERENCE below); each device's answer is checked")
{
	static const uint8_t modrms[] = { 0xd8, 0xda, 0xdb, 0xdd, 0xdc, 0xde, 0xdf };
	static const char *const names[] = {
		"VMRUN", "VMLOAD", "VMSAVE", "CLGI", "STGI", "SKINIT", "INVLPGA",
	};
	/*
	 * DIFFERENCE: on a host with virtual GIF, KVM stops intercepting
	 * CLGI and STGI and the guest executes them (they act on its virtual
	 * GIF) even though its CPUID has no SVM; yakvm always intercepts them.
	 */
	bool gif_passed_through = !ctx->dev->is_yakvm && host_has_vgif();
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_svm_insns, 0);
	struct ucall uc;
	size_t i;

	for (i = 0; i < sizeof(modrms); i++) {
		bool is_gif = modrms[i] == 0xdc || modrms[i] == 0xdd;
		uint64_t want = is_gif && gif_passed_through ? NO_EXCEPTION : UD_VECTOR;

		vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
		TEST_ASSERT_EQ(uc.args[0], modrms[i]);
		TEST_ASSERT(uc.args[1] == want, "%s raised vector %llu in the guest, expected %llu",
			    names[i], (unsigned long long)uc.args[1], (unsigned long long)want);
	}
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

static uint64_t vmmcall(uint64_t nr)
{
	uint64_t ret;

	__asm__ volatile("vmmcall" : "=a"(ret) : "a"(nr) : "memory");
	return ret;
}

static void guest_vmmcall(void)
{
	GUEST_ASSERT_EQ(vmmcall(0x12345), -(uint64_t)KVM_ENOSYS);
	GUEST_ASSERT_EQ(vmmcall(KVM_HC_VAPIC_POLL_IRQ), 0);
	/* The number is taken from all 64 bits of RAX in 64-bit mode. */
	GUEST_ASSERT_EQ(vmmcall(0x100000000ULL | KVM_HC_VAPIC_POLL_IRQ), -(uint64_t)KVM_ENOSYS);
}

TEST_CASE(vmmcall_long64)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_vmmcall, 0);
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

/* In 32-bit code the result is 32 bits wide. */
GUEST_CODE32(vmmcall32,
	"mov $0x12345, %eax\n vmmcall\n mov %eax, %ebx\n"
	"mov $1, %eax\n vmmcall\n"
	ASM_UCALL_DONE);

TEST_CASE(vmmcall_prot32)
{
	struct vcpu *v = vm_with_low_code(ctx->dev, MODE_PROT32, &vmmcall32);
	struct kvm_regs regs;
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vcpu_get_regs(v, &regs);
	TEST_ASSERT_EQ(regs.rbx, (uint32_t)-KVM_ENOSYS);
	TEST_ASSERT_EQ(regs.rax, 0);
	vm_free(v->vm);
}

#define MSR_EFER	0xc0000080
#define EFER_SVME	(1ULL << 12)
#define CPUID_SVM	(1u << 2)	/* CPUID 0x80000001 ECX */

static void guest_look_for_svm(void)
{
	uint32_t lo, hi, a, b, c, d;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(MSR_EFER));
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000001), "c"(0));
	GUEST_SYNC((uint64_t)hi << 32 | lo, c);
}

/*
 * EFER.SVME is set underneath (VMRUN needs it) but the guest never sees it.
 * DIFFERENCE: yakvm also hides SVM in CPUID; KVM with nested=1 offers it.
 */
TEST_CASE_OPTS(svm_hidden_from_guest,
	       .why_not_compared = "the guest reports CPUID values, each device's own")
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_look_for_svm, 0);
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(!(uc.args[0] & EFER_SVME), "the guest reads EFER 0x%llx",
		    (unsigned long long)uc.args[0]);
	if (ctx->dev->is_yakvm)
		TEST_ASSERT(!(uc.args[1] & CPUID_SVM), "CPUID 0x80000001 ECX 0x%llx offers SVM",
			    (unsigned long long)uc.args[1]);
	vm_free(v->vm);
}
