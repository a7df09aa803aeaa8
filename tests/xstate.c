// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's XCR0 and PKRU are the guest's (docs/design.md: both are
 * switched around VMRUN by hand): XSETBV takes what the vCPU's CPUID
 * offers and raises #GP for the rest (x87 off, AVX without SSE, an
 * unsupported component, XCR other than 0), and the host thread's own XCR0
 * and PKRU are the same after KVM_RUN as before, whatever the guest did.
 * (Under QEMU's TCG a guest's XSETBV is not intercepted: QEMU runs it
 * itself, so the guest's XCR0 does not survive an exit on either device and
 * that is not checked here -- docs/testing.md, "What the suite cannot see".)  With protection keys in the CPU (-cpu max), a guest that sets
 * CR4.PKE writes PKRU and keeps it across exits.  Compared with KVM.
 */
#include <cpuid.h>
#include <sys/ioctl.h>

#include "guest.h"
#include "modes.h"

#define GP_VECTOR	13
#define NO_FAULT	0xff
#define CR4_OSXSAVE	(1ULL << 18)
#define CR4_PKE		(1ULL << 22)
#define GUEST_PKRU	0x55555554U	/* key 0 writable, every other key no access */

static volatile uint64_t fault_vector = NO_FAULT;
static volatile uint64_t skip_length;

static void skip_insn(struct ex_regs *regs)
{
	fault_vector = regs->vector;
	regs->rip += skip_length;
}

/* XSETBV (3 bytes); returns the vector it raised, or NO_FAULT. */
static uint64_t try_xsetbv(uint32_t xcr, uint64_t value)
{
	fault_vector = NO_FAULT;
	skip_length = 3;
	__asm__ volatile("xsetbv" : : "c"(xcr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
			 : "memory");
	return fault_vector;
}

static uint64_t try_set_cr4(uint64_t cr4)
{
	fault_vector = NO_FAULT;
	skip_length = 3;		/* mov %rax, %cr4: 0F 22 E0 */
	__asm__ volatile("mov %0, %%cr4" : : "a"(cr4) : "memory");
	return fault_vector;
}

/*
 * Each step reports the fault it raised, or NO_FAULT.  Not XCR0 itself:
 * under QEMU's TCG the guest's XSETBV is not intercepted, so the value
 * lasts only until the next exit of any kind (a host timer interrupt
 * included) and would differ from run to run.
 */
static void guest_xcr0(uint64_t supported)
{
	uint64_t cr4;

	guest_set_handler(GP_VECTOR, skip_insn);
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	GUEST_SYNC(try_set_cr4(cr4 | CR4_OSXSAVE), 0);
	GUEST_SYNC(try_xsetbv(0, 3), 0);			/* x87 + SSE */
	GUEST_SYNC(try_xsetbv(0, 2), 0);			/* no x87: #GP */
	GUEST_SYNC(try_xsetbv(0, 5), 0);			/* AVX without SSE: #GP */
	GUEST_SYNC(try_xsetbv(1, 3), 0);			/* XCR1: #GP */
	GUEST_SYNC(try_xsetbv(0, 3 | 1ULL << 8), 0);		/* bit 8 (PT) is XSS-only: #GP */
	GUEST_SYNC(try_xsetbv(0, supported), 0);		/* all the CPUID offers */
	GUEST_SYNC(try_xsetbv(0, 1), 0);			/* back to x87 only */
}

/* The XCR0 components the vCPU's CPUID offers (leaf 0xD, 0): x87, SSE, AVX at most. */
static uint64_t cpuid_xcr0(struct vcpu *v)
{
	struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[256];
	} t = { .h.nent = 256 };
	uint32_t i;

	EXPECT_OK(ioctl(v->fd, KVM_GET_CPUID2, &t));
	for (i = 0; i < t.h.nent && i < 256; i++)
		if (t.e[i].function == 0xd && t.e[i].index == 0)
			return ((uint64_t)t.e[i].edx << 32 | t.e[i].eax) & 7;
	return 1;
}

static uint64_t host_xcr0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

TEST_CASE(xsetbv)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_xcr0, 0);
	uint64_t supported = cpuid_xcr0(v), before = host_xcr0();
	struct kvm_regs regs;
	struct ucall uc;
	size_t i;

	vcpu_get_regs(v, &regs);
	regs.rdi = supported;		/* the same on both devices: x87|SSE|AVX of the CPU */
	vcpu_set_regs(v, &regs);
	const uint64_t want[] = {
		NO_FAULT, NO_FAULT, GP_VECTOR, GP_VECTOR, GP_VECTOR, GP_VECTOR, NO_FAULT, NO_FAULT,
	};

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
		TEST_ASSERT(uc.args[0] == want[i], "step %zu raised vector 0x%llx, expected 0x%llx",
			    i, (unsigned long long)uc.args[0], (unsigned long long)want[i]);
		TEST_ASSERT(host_xcr0() == before, "the host's XCR0 is 0x%llx after KVM_RUN, was 0x%llx",
			    (unsigned long long)host_xcr0(), (unsigned long long)before);
	}
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

/* ---------------------------------------------------------------- */
/* PKRU                                                              */

static bool cpu_has_pku(void)
{
	unsigned int eax, ebx, ecx = 0, edx;

	return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (ecx & (1u << 3)) &&
	       (ecx & (1u << 4));		/* PKU, and the host kernel uses it (OSPKE) */
}

static uint32_t rdpkru(void)
{
	uint32_t pkru, edx;

	__asm__ volatile("rdpkru" : "=a"(pkru), "=d"(edx) : "c"(0));
	return pkru;
}

static void wrpkru(uint32_t pkru)
{
	__asm__ volatile("wrpkru" : : "a"(pkru), "c"(0), "d"(0));
}

static void guest_pkru(uint64_t have_pku)
{
	uint64_t cr4;

	guest_set_handler(GP_VECTOR, skip_insn);
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	GUEST_SYNC(try_set_cr4(cr4 | CR4_PKE), 0);
	if (!have_pku)
		return;
	GUEST_SYNC(rdpkru(), 0);		/* PKRU at reset: 0 */
	wrpkru(GUEST_PKRU);
	GUEST_SYNC(rdpkru(), 0);
	GUEST_SYNC(rdpkru(), 0);		/* still, after an exit */
}

/*
 * Both devices get the same CPUID bit for protection keys: the CPU's
 * (leaf 7 ECX[3]), so that the guest may set CR4.PKE exactly where the CPU
 * has them.
 */
static void set_pku_bit(struct vcpu *v, bool pku)
{
	static struct {
		struct kvm_cpuid2 h;
		struct kvm_cpuid_entry2 e[256];
	} t;
	uint32_t i;

	t.h.nent = 256;
	EXPECT_OK(ioctl(v->vm->sys_fd, KVM_GET_SUPPORTED_CPUID, &t));
	for (i = 0; i < t.h.nent; i++)
		if (t.e[i].function == 7 && t.e[i].index == 0)
			t.e[i].ecx = pku ? t.e[i].ecx | (1u << 3) : t.e[i].ecx & ~(1u << 3);
	EXPECT_OK(ioctl(v->fd, KVM_SET_CPUID2, &t));
}

TEST_CASE(pkru)
{
	bool pku = cpu_has_pku();
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_pkru, pku);
	uint32_t before = pku ? rdpkru() : 0;
	struct ucall uc;
	int i;

	set_pku_bit(v, pku);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(uc.args[0] == (pku ? NO_FAULT : GP_VECTOR),
		    "setting CR4.PKE raised vector 0x%llx (the CPU %s protection keys)",
		    (unsigned long long)uc.args[0], pku ? "has" : "has no");
	for (i = 0; pku && i < 3; i++) {
		vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
		TEST_ASSERT_EQ(uc.args[0], i ? GUEST_PKRU : 0);
		TEST_ASSERT(rdpkru() == before, "the host's PKRU is 0x%x after KVM_RUN, was 0x%x",
			    rdpkru(), before);
	}
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	test_log("protection keys %s", pku ? "in the CPU: the guest's PKRU kept apart" :
		 "not in the CPU: CR4.PKE refused");
	vm_free(v->vm);
}
