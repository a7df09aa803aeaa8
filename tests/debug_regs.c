// SPDX-License-Identifier: GPL-2.0
/*
 * A guest's own MOV to and from the debug registers (APM vol. 2, 13.1):
 * DR0-3 keep what the guest wrote, also across exits; DR6 and DR7 read with
 * their fixed bits; DR4/DR5 are DR6/DR7 while CR4.DE is clear and raise #UD
 * when it is set; a 64-bit value with upper bits set in DR6/DR7 raises #GP.
 * The guest never executes or touches the addresses it puts in DR0-3, so
 * whether a device arms them in hardware does not change what it sees.
 * Compared with KVM through the values the guest reports.
 */
#include "guest.h"
#include "modes.h"

#define UD_VECTOR	6
#define GP_VECTOR	13
#define CR4_DE		(1ULL << 3)
#define NO_FAULT	0xff

static volatile uint64_t fault_vector = NO_FAULT;

/* Every MOV DRn here is 3 bytes (0F 21/23 ModRM). */
static void skip_mov_dr(struct ex_regs *regs)
{
	fault_vector = regs->vector;
	regs->rip += 3;
}

#define READ_DR(n)	({ uint64_t __v; __asm__ volatile("mov %%dr" #n ", %0" : "=r"(__v)); __v; })
#define WRITE_DR(n, v)	__asm__ volatile("mov %0, %%dr" #n : : "r"((uint64_t)(v)))

static uint64_t faults_of(void (*fn)(void))
{
	fault_vector = NO_FAULT;
	fn();
	return fault_vector;
}

static void write_dr6_high(void) { WRITE_DR(6, 1ULL << 32); }
static void write_dr7_high(void) { WRITE_DR(7, 1ULL << 40); }
static void read_dr4(void) { (void)READ_DR(4); }
static void write_dr5(void) { WRITE_DR(5, 0x400); }

static void guest_debug_regs(void)
{
	uint64_t cr4;

	guest_set_handler(UD_VECTOR, skip_mov_dr);
	guest_set_handler(GP_VECTOR, skip_mov_dr);
	/* The values at entry (after reset: DR6 0xffff0ff0, DR7 0x400). */
	GUEST_SYNC(READ_DR(6), READ_DR(7));
	WRITE_DR(0, 0x100000);
	WRITE_DR(1, 0x200000);
	WRITE_DR(2, 0xffffffff12345678ULL);
	WRITE_DR(3, 0x7ffffffff000ULL);
	GUEST_SYNC(READ_DR(0), READ_DR(1));		/* an exit in between */
	GUEST_SYNC(READ_DR(2), READ_DR(3));
	/* DR6: only its defined bits change; the rest read as fixed (31:16, 11:4 set). */
	WRITE_DR(6, 0);
	GUEST_SYNC(READ_DR(6), 0);
	WRITE_DR(6, 0xe00f);		/* B0-3, BD, BS, BT */
	GUEST_SYNC(READ_DR(6), 0);
	/* DR7: local/global enables and lengths of addresses never used; bit 10 reads 1. */
	WRITE_DR(7, 0x00050001);	/* L0, DR0 on writes of 2 bytes: never written */
	GUEST_SYNC(READ_DR(7), 0);
	WRITE_DR(7, 0);
	GUEST_SYNC(READ_DR(7), 0);
	/* Upper bits of DR6/DR7 must be zero. */
	GUEST_SYNC(faults_of(write_dr6_high), faults_of(write_dr7_high));
	/* DR4/DR5: aliases of DR6/DR7 with CR4.DE clear, #UD with it set. */
	WRITE_DR(7, 0x00000004);	/* L1 (DR1 on execution: never executed) */
	GUEST_SYNC(faults_of(read_dr4), READ_DR(5));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4 | CR4_DE));
	GUEST_SYNC(faults_of(read_dr4), faults_of(write_dr5));
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	WRITE_DR(7, 0);
}

TEST_CASE(mov_dr)
{
	static const uint64_t want[][2] = {
		{ 0xffff0ff0, 0x400 },
		{ 0x100000, 0x200000 },
		{ 0xffffffff12345678ULL, 0x7ffffffff000ULL },
		{ 0xffff0ff0, 0 },
		{ 0xffffefff, 0 },	/* the defined bits set; 11 and 16 stay 1 (no BLD, no RTM) */
		{ 0x00050401, 0 },
		{ 0x400, 0 },
		{ GP_VECTOR, GP_VECTOR },
		{ NO_FAULT, 0x404 },	/* DR4 reads DR6 without a fault; DR5 is DR7 */
		{ UD_VECTOR, UD_VECTOR },
	};
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_debug_regs, 0);
	struct ucall uc;
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
		TEST_ASSERT(uc.args[0] == want[i][0] && uc.args[1] == want[i][1],
			    "report %zu: 0x%llx 0x%llx, expected 0x%llx 0x%llx", i,
			    (unsigned long long)uc.args[0], (unsigned long long)uc.args[1],
			    (unsigned long long)want[i][0], (unsigned long long)want[i][1]);
	}
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}
