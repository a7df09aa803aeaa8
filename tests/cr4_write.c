// SPDX-License-Identifier: GPL-2.0
/*
 * MOV to CR4 from the guest.  A CR4 bit that enables a feature the guest's
 * CPUID does not offer must raise #GP, even when the host CPU has the
 * feature: otherwise a guest could turn on XSAVE state, PKRU, FSGSBASE or
 * SMEP/SMAP behaviour the hypervisor does not manage for it.  (The bits
 * checked so are KVM's list; older ones such as DE or PGE are checked
 * against the host CPU only, on both devices.)  A bit the
 * CPUID offers can be set, and the state the guest reached is one
 * KVM_SET_SREGS accepts back (what QEMU does on every register sync).  The
 * long-mode rules hold too: CR4.PAE cannot be cleared, CR4.LA57 cannot
 * change, CR4.PCIDE needs CR3[11:0] = 0.
 */
#include <stdio.h>
#include <sys/ioctl.h>

#include "vcpu_cpuid.h"
#include "guest.h"
#include "modes.h"

#define GP_VECTOR	13

struct cr4_feature {
	uint64_t cr4;
	struct cpuid_bit cpuid;
	const char *name;
	bool gated;		/* #GP when the CPUID bit is clear (KVM's list) */
};

static const struct cr4_feature features[] = {
	{ 1ULL << 2, { 1, 0, CPUID_EDX, 4 }, "TSD (CPUID.TSC)", false },
	{ 1ULL << 3, { 1, 0, CPUID_EDX, 2 }, "DE", false },
	{ 1ULL << 6, { 1, 0, CPUID_EDX, 7 }, "MCE", false },
	{ 1ULL << 7, { 1, 0, CPUID_EDX, 13 }, "PGE", false },
	{ 1ULL << 11, { 7, 0, CPUID_ECX, 2 }, "UMIP", true },
	{ 1ULL << 16, { 7, 0, CPUID_EBX, 0 }, "FSGSBASE", true },
	{ 1ULL << 17, { 1, 0, CPUID_ECX, 17 }, "PCIDE (CPUID.PCID)", true },
	{ 1ULL << 18, { 1, 0, CPUID_ECX, 26 }, "OSXSAVE (CPUID.XSAVE)", true },
	{ 1ULL << 20, { 7, 0, CPUID_EBX, 7 }, "SMEP", true },
	{ 1ULL << 21, { 7, 0, CPUID_EBX, 20 }, "SMAP", true },
	{ 1ULL << 22, { 7, 0, CPUID_ECX, 3 }, "PKE (CPUID.PKU)", true },
};

static volatile uint64_t gp_count;

static void count_gp(struct ex_regs *regs)
{
	gp_count++;
	regs->rip += 3;		/* mov %rax, %cr4 is 0f 22 e0 */
}

static uint64_t read_cr4(void)
{
	uint64_t cr4;

	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	return cr4;
}

/* Returns whether the write raised #GP. */
static bool write_cr4(uint64_t cr4)
{
	uint64_t before = gp_count;

	__asm__ volatile(".byte 0x0f, 0x22, 0xe0" : : "a"(cr4) : "memory");
	return gp_count != before;
}

/* Sets CR4 |= bits: reports whether it faulted, and CR4 afterwards. */
static void guest_set_bits(uint64_t bits)
{
	bool faulted;

	guest_set_handler(GP_VECTOR, count_gp);
	faulted = write_cr4(read_cr4() | bits);
	GUEST_SYNC(faulted, read_cr4());
}

/* The long-mode rules: each write must fault and leave CR4 as it was. */
static void guest_long_mode_rules(void)
{
	uint64_t cr4 = read_cr4(), cr3;

	guest_set_handler(GP_VECTOR, count_gp);
	GUEST_ASSERT(write_cr4(cr4 & ~(1ULL << 5)));	/* PAE off */
	GUEST_ASSERT(write_cr4(cr4 ^ (1ULL << 12)));	/* LA57 toggled */
	GUEST_ASSERT_EQ(read_cr4(), cr4);
	/* PCIDE with a PCID in CR3, where the CPUID has PCID. */
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3 | 1) : "memory");
	GUEST_SYNC(write_cr4(cr4 | (1ULL << 17)), read_cr4());
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

TEST_CASE_OPTS(hidden_feature_bits_raise_gp,
	       .why_not_compared = "each device's own supported CPUID decides which bits exist; each answer is checked")
{
	char failures[512] = "";
	size_t i, n = 0;

	for (i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		const struct cr4_feature *f = &features[i];
		struct vcpu *v;
		struct ucall uc;

		if (!f->gated)
			continue;
		v = vm_with_long_code(ctx->dev, guest_set_bits, f->cr4);
		vcpu_cpuid_set_bit(v, f->cpuid, false);
		vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
		if (!uc.args[0] || (uc.args[1] & f->cr4))
			n += snprintf(failures + n, sizeof(failures) - n, " %s", f->name);
		vm_free(v->vm);
		if (n >= sizeof(failures))
			break;
	}
	TEST_ASSERT(!failures[0], "CR4 bits the guest's CPUID hides could be set:%s",
		    failures);
}

TEST_CASE_OPTS(offered_feature_bits_can_be_set,
	       .why_not_compared = "each device's own supported CPUID decides which bits exist; each answer is checked")
{
	char failures[512] = "";
	size_t i, n = 0, offered = 0;

	for (i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
		const struct cr4_feature *f = &features[i];
		struct vcpu *v = vm_with_long_code(ctx->dev, guest_set_bits, f->cr4);
		struct kvm_sregs sregs;
		struct ucall uc;

		if (!vcpu_cpuid_has(v, f->cpuid)) {
			vm_free(v->vm);
			continue;
		}
		offered++;
		vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
		if (uc.args[0] || !(uc.args[1] & f->cr4))
			n += snprintf(failures + n, sizeof(failures) - n, " %s", f->name);
		/* What the guest set, user space can set back (QEMU's syncs). */
		vcpu_get_sregs(v, &sregs);
		if (ioctl(v->fd, KVM_SET_SREGS, &sregs))
			n += snprintf(failures + n, sizeof(failures) - n,
				      " %s(KVM_SET_SREGS: %s)", f->name, strerror(errno));
		vm_free(v->vm);
		if (n >= sizeof(failures))
			break;
	}
	test_log("%zu of %zu CR4 feature bits offered by the supported CPUID", offered,
		 sizeof(features) / sizeof(features[0]));
	TEST_ASSERT(offered > 0, "the supported CPUID offers none of the CR4 features");
	TEST_ASSERT(!failures[0], "CR4 bits the CPUID offers could not be set:%s", failures);
}

TEST_CASE(long_mode_rules)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_long_mode_rules, 0);
	struct cpuid_bit pcid = { 1, 0, CPUID_ECX, 17 };
	struct ucall uc;

	vcpu_cpuid_set_bit(v, pcid, true);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(uc.args[0], "CR4.PCIDE was set with PCID 1 in CR3");
	TEST_ASSERT(!(uc.args[1] & (1ULL << 17)), "CR4.PCIDE is set");
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}
