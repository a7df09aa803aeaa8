// SPDX-License-Identifier: GPL-2.0
/*
 * IPIs between four vCPUs (one host thread each): fixed IPIs in physical
 * and logical (flat and cluster) destination mode, the broadcast
 * destinations, all three shorthands, from the BSP and from APs, in xAPIC
 * and x2APIC mode; lowest-priority delivery; NMI IPIs; an IPI to a vCPU
 * that runs without exiting, and one to a vCPU with interrupts disabled;
 * the KVM_HC_SEND_IPI hypercall.
 *
 * vCPU 0 drives: for each step it sends one IPI, waits until each target
 * took it, then sends a "fence" vector (the lowest class) to every other
 * vCPU and waits for all of them -- a vCPU takes pending vectors highest
 * first, so once it took the fence it has taken everything sent before --
 * and then requires every vCPU's count of every vector to be exactly what
 * the destination names.  The APs halt between interrupts (HLT in the
 * kernel, woken by the IPI), so the steps make progress however the host
 * schedules the threads; nothing depends on timing.
 */
#include <linux/kvm_para.h>

#include "apic.h"
#include "guest.h"
#include "irqchip.h"
#include "modes.h"

#define NV		4
#define FENCE		0x21	/* class 2: below every test vector */
#define CMD_VECTOR	0x30	/* "AP, run your command" */
#define FIRST_TEST	0x40
#define LAST_TEST	0xef

enum apic_setup { XAPIC_FLAT, XAPIC_CLUSTER, X2APIC };

static volatile uint32_t ready, stop;
static uint32_t expected[NV][NR_VECTORS];	/* the BSP's bookkeeping */

/* A command for an AP: send this IPI from your APIC (when CMD_VECTOR arrives). */
static volatile struct {
	uint32_t dest, icr;
	uint32_t done;
} cmd[NV];

static unsigned int me(void)
{
	return guest_vcpu_index();
}

static void on_cmd(struct ex_regs *regs)
{
	unsigned int i = me();

	irq_record(regs->vector);
	apic_send_ipi(cmd[i].dest, cmd[i].icr);
	cmd[i].done++;
	apic_eoi();
}

static void on_nmi(struct ex_regs *regs)
{
	irq_record(regs->vector);
}

/* Every vCPU: its APIC in @setup's mode, with logical IDs that name it. */
static void vcpu_setup(enum apic_setup setup)
{
	unsigned int v, i = me();

	irq_install();
	for (v = FIRST_TEST; v <= LAST_TEST; v++)
		irq_set_handler(v, irq_count_eoi);
	irq_set_handler(FENCE, irq_count_eoi);
	irq_set_handler(CMD_VECTOR, on_cmd);
	guest_set_handler(2, on_nmi);
	if (setup == X2APIC) {
		apic_enable_x2apic();
		/* Cluster 0, bit = ID (IDs 0-15): fixed by the ID in x2APIC mode. */
		GUEST_ASSERT_EQ(x2apic_read(APIC_LDR), 1u << i);
		return;
	}
	apic_enable_xapic();
	if (setup == XAPIC_FLAT) {
		xapic_write(APIC_DFR, APIC_DFR_FLAT);
		xapic_write(APIC_LDR, (1u << i) << 24);
	} else {
		/* Two per cluster: cluster i / 2, member bit i % 2. */
		xapic_write(APIC_DFR, APIC_DFR_CLUSTER);
		xapic_write(APIC_LDR, ((i / 2) << 4 | 1u << (i % 2)) << 24);
	}
}

static void ap_main(enum apic_setup setup)
{
	vcpu_setup(setup);
	__atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
	while (!stop)
		sti_hlt_cli();
}

/* The BSP: waits for the APs, to be woken by IPIs from now on. */
static void bsp_start(enum apic_setup setup)
{
	vcpu_setup(setup);
	while (ready != NV - 1)
		cpu_relax();
}

static void irq_window(void)
{
	__asm__ volatile("sti; nop; nop; nop; cli" : : : "memory");
}

static uint32_t count_of(unsigned int v, unsigned int vector)
{
	return irq_rec[v].count[vector];
}

static void wait_for(unsigned int v, unsigned int vector, uint32_t n)
{
	while (count_of(v, vector) < n) {
		if (v == 0)
			irq_window();
		else
			cpu_relax();
	}
}

/* Everything sent so far has been taken everywhere (see the header). */
static void fence(void)
{
	uint32_t before[NV];
	unsigned int v;

	for (v = 1; v < NV; v++)
		before[v] = count_of(v, FENCE);
	apic_send_ipi(0, APIC_DEST_ALLBUT | FENCE);
	for (v = 1; v < NV; v++)
		wait_for(v, FENCE, before[v] + 1);
	irq_window();
}

static void check_all(const char *what)
{
	unsigned int v, vector;

	for (v = 0; v < NV; v++)
		for (vector = 0; vector < NR_VECTORS; vector++) {
			uint32_t got = count_of(v, vector);

			if (vector == FENCE || vector == CMD_VECTOR)
				continue;
			if (got != expected[v][vector])
				guest_assert_fail(__FILE__, __LINE__, what,
						  "vCPU %u took vector 0x%x %u times, expected %u",
						  v, vector, got, expected[v][vector]);
		}
}

/* Sends an IPI from the BSP that @targets (a vCPU bit mask) must each take once. */
/* The vector an IPI arrives with: an NMI's is 2, whatever the ICR says. */
static unsigned int vector_of(uint32_t icr)
{
	return (icr & 0x700) == APIC_DM_NMI ? 2 : icr & 0xff;
}

/* Each vCPU of @targets takes @vector once more; then nothing else happened. */
static void expect_taken(const char *what, unsigned int vector, unsigned int targets)
{
	unsigned int v;

	for (v = 0; v < NV; v++)
		if (targets & (1u << v))
			wait_for(v, vector, ++expected[v][vector]);
	fence();
	check_all(what);
}

static void step(const char *what, uint32_t dest, uint32_t icr, unsigned int targets)
{
	unsigned int vector = vector_of(icr);

	apic_send_ipi(dest, icr);
	expect_taken(what, vector, targets);
}

/* Has AP @ap send an IPI, which @targets must each take once. */
static void ap_step(const char *what, unsigned int ap, uint32_t dest, uint32_t icr,
		    unsigned int targets)
{
	uint32_t done = cmd[ap].done;
	unsigned int vector = vector_of(icr);

	cmd[ap].dest = dest;
	cmd[ap].icr = icr;
	apic_send_ipi(ap, CMD_VECTOR);	/* physical ID = vCPU index */
	while (cmd[ap].done == done)
		cpu_relax();
	expect_taken(what, vector, targets);
}

static void bsp_finish(void)
{
	stop = 1;
	fence();			/* wakes every AP to see stop */
	check_all("at the end");
}

/* ---------------------------------------------------------------- */

static void guest_xapic_physical(void)
{
	unsigned int v;

	if (me()) {
		ap_main(XAPIC_FLAT);
		return;
	}
	bsp_start(XAPIC_FLAT);
	for (v = 0; v < NV; v++)
		step("physical to one", v, 0x40 + v, 1u << v);
	step("physical to no such ID", 9, 0x48, 0);
	step("physical broadcast", 0xff, 0x49, 0xf);
	bsp_finish();
}

static void guest_xapic_flat(void)
{
	if (me()) {
		ap_main(XAPIC_FLAT);
		return;
	}
	bsp_start(XAPIC_FLAT);
	step("flat 0110", 0x06, APIC_DEST_LOGICAL | 0x50, 0x6);
	step("flat 1001", 0x09, APIC_DEST_LOGICAL | 0x51, 0x9);
	step("flat 1000", 0x08, APIC_DEST_LOGICAL | 0x52, 0x8);
	step("flat none", 0x00, APIC_DEST_LOGICAL | 0x53, 0);
	step("flat no such bit", 0x30, APIC_DEST_LOGICAL | 0x54, 0);
	step("flat broadcast", 0xff, APIC_DEST_LOGICAL | 0x55, 0xf);
	bsp_finish();
}

static void guest_xapic_cluster(void)
{
	if (me()) {
		ap_main(XAPIC_CLUSTER);
		return;
	}
	bsp_start(XAPIC_CLUSTER);
	step("cluster 0 both", 0x03, APIC_DEST_LOGICAL | 0x60, 0x3);
	step("cluster 1 member 1", 0x12, APIC_DEST_LOGICAL | 0x61, 0x8);
	step("cluster 1 member 0", 0x11, APIC_DEST_LOGICAL | 0x62, 0x4);
	step("cluster 1 both", 0x13, APIC_DEST_LOGICAL | 0x63, 0xc);
	step("cluster 0 members 0-3", 0x0f, APIC_DEST_LOGICAL | 0x64, 0x3);
	step("cluster 2 (empty)", 0x21, APIC_DEST_LOGICAL | 0x65, 0);
	step("cluster 0 member 2 (none)", 0x04, APIC_DEST_LOGICAL | 0x66, 0);
	step("cluster broadcast", 0xff, APIC_DEST_LOGICAL | 0x67, 0xf);
	bsp_finish();
}

static void guest_shorthands(void)
{
	if (me()) {
		ap_main(XAPIC_FLAT);
		return;
	}
	bsp_start(XAPIC_FLAT);
	step("self", 0, APIC_DEST_SELF | 0x70, 0x1);
	step("all including self", 0, APIC_DEST_ALLINC | 0x71, 0xf);
	step("all excluding self", 0, APIC_DEST_ALLBUT | 0x72, 0xe);
	/* The destination field is ignored with a shorthand. */
	step("self, dest 2", 2, APIC_DEST_SELF | 0x73, 0x1);
	ap_step("AP 2: all excluding self", 2, 0, APIC_DEST_ALLBUT | 0x74, 0xb);
	ap_step("AP 3: self", 3, 0, APIC_DEST_SELF | 0x75, 0x8);
	ap_step("AP 1: all including self", 1, 0, APIC_DEST_ALLINC | 0x76, 0xf);
	bsp_finish();
}

static void guest_from_aps(void)
{
	if (me()) {
		ap_main(XAPIC_FLAT);
		return;
	}
	bsp_start(XAPIC_FLAT);
	ap_step("AP 1 to AP 2, physical", 1, 2, 0x80, 0x4);
	ap_step("AP 3 to the BSP, physical", 3, 0, 0x81, 0x1);
	ap_step("AP 2 to APs 1 and 3, flat", 2, 0x0a, APIC_DEST_LOGICAL | 0x82, 0xa);
	ap_step("AP 1 to itself, physical", 1, 1, 0x83, 0x2);
	bsp_finish();
}

static void guest_x2apic(void)
{
	unsigned int v;

	if (me()) {
		ap_main(X2APIC);
		return;
	}
	bsp_start(X2APIC);
	for (v = 0; v < NV; v++)
		step("x2APIC physical to one", v, 0x90 + v, 1u << v);
	step("x2APIC physical, no such ID", 0x100, 0x94, 0);
	step("x2APIC physical 0xff is an ID, not a broadcast", 0xff, 0x95, 0);
	step("x2APIC broadcast", 0xffffffff, 0x96, 0xf);
	step("x2APIC logical 1010", 0x0000000a, APIC_DEST_LOGICAL | 0x97, 0xa);
	step("x2APIC logical 0101", 0x00000005, APIC_DEST_LOGICAL | 0x98, 0x5);
	step("x2APIC logical, other cluster", 0x0001000f, APIC_DEST_LOGICAL | 0x99, 0);
	step("x2APIC self", 0, APIC_DEST_SELF | 0x9a, 0x1);
	step("x2APIC all including self", 0, APIC_DEST_ALLINC | 0x9b, 0xf);
	step("x2APIC all excluding self", 0, APIC_DEST_ALLBUT | 0x9c, 0xe);
	ap_step("x2APIC AP 2 to AP 3", 2, 3, 0x9d, 0x8);
	ap_step("x2APIC AP 3 all excluding self", 3, 0, APIC_DEST_ALLBUT | 0x9e, 0x7);
	bsp_finish();
}

/*
 * Lowest priority: each interrupt goes to exactly one of the destinations.
 * KVM DEVIATION: KVM picks the target by hashing the vector (module
 * parameter vector_hashing, default on), not by the lowest arbitration
 * priority the architecture specifies; only "exactly one of the named"
 * is checked.
 */
static void step_lowest(uint32_t dest, unsigned int vector, unsigned int targets)
{
	uint32_t sum = 0, now = 0;
	unsigned int v, got = 0;

	for (v = 0; v < NV; v++)
		sum += count_of(v, vector);
	apic_send_ipi(dest, APIC_DEST_LOGICAL | APIC_DM_LOWEST | vector);
	while (now < sum + 1) {
		irq_window();
		for (now = 0, v = 0; v < NV; v++)
			now += count_of(v, vector);
	}
	fence();
	for (v = 0; v < NV; v++)
		if (count_of(v, vector) != expected[v][vector]) {
			GUEST_ASSERT(targets & (1u << v));
			GUEST_ASSERT_EQ(count_of(v, vector), expected[v][vector] + 1);
			expected[v][vector]++;
			got++;
		}
	GUEST_ASSERT_EQ(got, 1);
	check_all("lowest priority");
}

static void guest_lowest_priority(void)
{
	unsigned int i;

	if (me()) {
		ap_main(XAPIC_FLAT);
		return;
	}
	bsp_start(XAPIC_FLAT);
	for (i = 0; i < 8; i++)
		step_lowest(0x0f, 0xa0 + i, 0xf);
	for (i = 0; i < 8; i++)
		step_lowest(0x06, 0xb0 + i, 0x6);
	for (i = 0; i < 4; i++)
		step_lowest(0x0e, 0xc0 + i, 0xe);
	bsp_finish();
}

static void guest_nmi_ipi(void)
{
	if (me()) {
		ap_main(XAPIC_FLAT);
		return;
	}
	bsp_start(XAPIC_FLAT);
	step("NMI to AP 1", 1, APIC_DM_NMI, 0x2);
	step("NMI to AP 1 again", 1, APIC_DM_NMI, 0x2);
	step("NMI to APs 2 and 3, flat", 0x0c, APIC_DEST_LOGICAL | APIC_DM_NMI, 0xc);
	step("NMI to all excluding self", 0, APIC_DEST_ALLBUT | APIC_DM_NMI, 0xe);
	ap_step("AP 3: NMI to AP 1", 3, 1, APIC_DM_NMI, 0x2);
	bsp_finish();
}

/*
 * KVM_HC_SEND_IPI: a multicast IPI by hypercall (bitmap of APIC IDs from
 * min, a second 64 IDs in the high half), answered by KVM whatever the PV
 * CPUID says; kvm-unit-tests' apic test calls it.
 */
static long hc_send_ipi(uint64_t low, uint64_t high, uint32_t min, uint64_t icr)
{
	long ret;

	__asm__ volatile("vmmcall" : "=a"(ret)
			 : "a"((uint64_t)KVM_HC_SEND_IPI), "b"(low), "c"(high),
			   "d"((uint64_t)min), "S"(icr)
			 : "memory");
	return ret;
}

static void pv_step(const char *what, uint64_t low, uint64_t high, uint32_t min,
		    uint32_t icr, unsigned int targets, long count)
{
	unsigned int vector = vector_of(icr);
	long got = hc_send_ipi(low, high, min, icr);

	if (got != count)
		guest_assert_fail(__FILE__, __LINE__, what,
				  "the hypercall returned %ld, expected %ld", got, count);
	expect_taken(what, vector, targets);
}

static void guest_pv_send_ipi(void)
{
	if (me()) {
		ap_main(X2APIC);
		return;
	}
	bsp_start(X2APIC);
	pv_step("PV IPI to APs 1-3", 0xe, 0, 0, 0xe0, 0xe, 3);
	pv_step("PV IPI from ID 2: APs 2 and 3", 0x3, 0, 2, 0xe1, 0xc, 2);
	pv_step("PV IPI to the BSP itself and AP 1", 0x3, 0, 0, 0xe2, 0x3, 2);
	pv_step("PV IPI, high half: min + 64 wraps to ID 1", 0, 1, (uint32_t)-63, 0xe3, 0x2, 1);
	pv_step("PV NMI to AP 3", 0x8, 0, 0, APIC_DM_NMI, 0x8, 1);
	pv_step("PV IPI to IDs that do not exist", 0xf0, 0, 0, 0xe4, 0, 0);
	pv_step("PV IPI with a logical ICR", 0xe, 0, 0, APIC_DEST_LOGICAL | 0xe5, 0, -KVM_EINVAL);
	pv_step("PV IPI with a shorthand", 0xe, 0, 0, APIC_DEST_ALLBUT | 0xe6, 0, -KVM_EINVAL);
	bsp_finish();
}

#define BUSY_VECTOR	0xd0
static volatile uint32_t ap1_phase;

/*
 * AP 1 spins with interrupts enabled and never exits on its own (no PAUSE,
 * no I/O): the IPI must reach it anyway.  Then it spins with interrupts
 * disabled: the IPI waits in its IRR, not taken, until it enables them.
 */
static void ap1_busy(void)
{
	struct irq_record *r = &irq_rec[1];

	vcpu_setup(XAPIC_FLAT);
	__atomic_add_fetch(&ready, 1, __ATOMIC_SEQ_CST);
	ap1_phase = 1;
	sti();
	while (!r->count[BUSY_VECTOR] || !r->count[FENCE])
		;
	cli();
	ap1_phase = 2;
	while (!apic_vector_bit(APIC_IRR, BUSY_VECTOR + 1))
		;
	GUEST_ASSERT_EQ(r->count[BUSY_VECTOR + 1], 0);
	ap1_phase = 3;
	wait_count_hlt(&r->count[BUSY_VECTOR + 1], 1);
	while (!stop)
		sti_hlt_cli();
}

static void guest_running_target(void)
{
	if (me() == 1) {
		ap1_busy();
		return;
	}
	if (me()) {
		ap_main(XAPIC_FLAT);
		return;
	}
	bsp_start(XAPIC_FLAT);
	while (ap1_phase != 1)
		cpu_relax();
	step("to a vCPU running without exits", 1, BUSY_VECTOR, 0x2);
	while (ap1_phase != 2)
		cpu_relax();
	apic_send_ipi(1, BUSY_VECTOR + 1);
	expected[1][BUSY_VECTOR + 1]++;
	while (ap1_phase != 3)
		cpu_relax();
	wait_for(1, BUSY_VECTOR + 1, 1);
	fence();
	check_all("to a vCPU with IF=0");
	bsp_finish();
}

static void run(const struct test_ctx *ctx, void (*fn)(void))
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, NV, fn, 0);

	vm_run_all(vm, 60);
	irq_vm_free(vm);
}

#define ORDER	"the vCPUs' exits interleave differently on each run"

TEST_CASE_OPTS(xapic_physical, .why_not_compared = ORDER) { run(ctx, guest_xapic_physical); }
TEST_CASE_OPTS(xapic_logical_flat, .why_not_compared = ORDER) { run(ctx, guest_xapic_flat); }
TEST_CASE_OPTS(xapic_logical_cluster, .why_not_compared = ORDER) { run(ctx, guest_xapic_cluster); }
TEST_CASE_OPTS(shorthands, .why_not_compared = ORDER) { run(ctx, guest_shorthands); }
TEST_CASE_OPTS(from_aps, .why_not_compared = ORDER) { run(ctx, guest_from_aps); }
TEST_CASE_OPTS(x2apic_destinations, .why_not_compared = ORDER) { run(ctx, guest_x2apic); }
TEST_CASE_OPTS(lowest_priority, .why_not_compared = ORDER) { run(ctx, guest_lowest_priority); }
TEST_CASE_OPTS(nmi_ipi, .why_not_compared = ORDER) { run(ctx, guest_nmi_ipi); }
TEST_CASE_OPTS(running_and_masked_target, .why_not_compared = ORDER) { run(ctx, guest_running_target); }
TEST_CASE_OPTS(pv_send_ipi, .why_not_compared = ORDER) { run(ctx, guest_pv_send_ipi); }
