// SPDX-License-Identifier: GPL-2.0
/*
 * Instructions a hypervisor intercepts and answers for the guest:
 * WBINVD and INVD (no effect the guest can see: it goes on), RDPMC (the
 * performance counters a device offers), MONITOR and MWAIT (not offered:
 * CPUID leaf 1 ECX[3] is clear on both devices).
 */
#include "guest.h"
#include "modes.h"

#define UD_VECTOR	6
#define GP_VECTOR	13
#define NO_FAULT	0xff

static volatile uint64_t fault_vector = NO_FAULT;
static volatile uint64_t skip_length;

static void skip_insn(struct ex_regs *regs)
{
	fault_vector = regs->vector;
	regs->rip += skip_length;
}

/* WBINVD and INVD are not traps: the guest runs on past them, its memory intact. */
static volatile uint64_t written;

static void guest_cache_insns(void)
{
	guest_set_handler(GP_VECTOR, skip_insn);
	guest_set_handler(UD_VECTOR, skip_insn);
	skip_length = 2;
	written = 0x1234;
	__asm__ volatile("wbinvd" : : : "memory");
	GUEST_SYNC(fault_vector, written);
	written = 0x5678;
	__asm__ volatile("invd" : : : "memory");
	GUEST_SYNC(fault_vector, written);
}

TEST_CASE(wbinvd_invd)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_cache_insns, 0);
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(uc.args[0] == NO_FAULT && uc.args[1] == 0x1234, "WBINVD: vector 0x%llx, 0x%llx",
		    (unsigned long long)uc.args[0], (unsigned long long)uc.args[1]);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	/*
	 * INVD discards the caches without writing them back; no hypervisor
	 * lets a guest do that to host memory: both run it as WBINVD.
	 */
	TEST_ASSERT(uc.args[0] == NO_FAULT && uc.args[1] == 0x5678, "INVD: vector 0x%llx, 0x%llx",
		    (unsigned long long)uc.args[0], (unsigned long long)uc.args[1]);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

static void guest_rdpmc(void)
{
	uint32_t lo, hi;

	guest_set_handler(GP_VECTOR, skip_insn);
	skip_length = 2;
	fault_vector = NO_FAULT;
	lo = hi = 0;
	__asm__ volatile("rdpmc" : "+a"(lo), "+d"(hi) : "c"(0));
	GUEST_SYNC(fault_vector, (uint64_t)hi << 32 | lo);
	fault_vector = NO_FAULT;
	__asm__ volatile("rdpmc" : "+a"(lo), "+d"(hi) : "c"(0x12345));	/* no such counter */
	GUEST_SYNC(fault_vector, 0);
}

/*
 * DIFFERENCE: yakvm offers no performance counters, so RDPMC raises #GP;
 * KVM emulates the AMD counters (4 legacy ones without PerfCtrExtCore) and
 * returns counter 0, never started: 0.  An index beyond them is #GP on both.
 */
TEST_CASE_OPTS(rdpmc, .why_not_compared = "yakvm has no PMU and KVM has one (DIFFERENCE in the case); each device's answer is checked")
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_rdpmc, 0);
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	if (ctx->dev->is_yakvm)
		TEST_ASSERT(uc.args[0] == GP_VECTOR, "RDPMC 0 raised vector 0x%llx, expected #GP",
			    (unsigned long long)uc.args[0]);
	else
		TEST_ASSERT(uc.args[0] == NO_FAULT && uc.args[1] == 0,
			    "RDPMC 0: vector 0x%llx, value 0x%llx", (unsigned long long)uc.args[0],
			    (unsigned long long)uc.args[1]);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(uc.args[0] == GP_VECTOR, "RDPMC 0x12345 raised vector 0x%llx, expected #GP",
		    (unsigned long long)uc.args[0]);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

static volatile uint64_t monitored;

static void guest_monitor_mwait(void)
{
	guest_set_handler(UD_VECTOR, skip_insn);
	skip_length = 3;
	fault_vector = NO_FAULT;
	__asm__ volatile("monitor" : : "a"(&monitored), "c"(0), "d"(0));
	GUEST_SYNC(fault_vector, 0);
	fault_vector = NO_FAULT;
	__asm__ volatile("mwait" : : "a"(0), "c"(0));
	GUEST_SYNC(fault_vector, 0);
}

/*
 * DIFFERENCE: neither device offers MONITOR/MWAIT in CPUID.  yakvm raises
 * #UD, as a CPU without them does; KVM 6.1 runs both as NOPs (its default
 * quirk KVM_X86_QUIRK_MWAIT_NEVER_UD_FAULTS).
 */
TEST_CASE_OPTS(monitor_mwait, .why_not_compared = "yakvm raises #UD where KVM's quirk makes a NOP (DIFFERENCE in the case); each device's answer is checked")
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_monitor_mwait, 0);
	uint64_t want = ctx->dev->is_yakvm ? UD_VECTOR : NO_FAULT;
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(uc.args[0] == want, "MONITOR raised vector 0x%llx, expected 0x%llx",
		    (unsigned long long)uc.args[0], (unsigned long long)want);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(uc.args[0] == want, "MWAIT raised vector 0x%llx, expected 0x%llx",
		    (unsigned long long)uc.args[0], (unsigned long long)want);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}
