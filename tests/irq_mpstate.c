// SPDX-License-Identifier: GPL-2.0
/*
 * SMP bring-up and MP states (api.rst 4.38/4.39): with the irqchip in the
 * kernel the BSP starts RUNNABLE and every AP UNINITIALIZED, blocked in
 * KVM_RUN until INIT and SIPI arrive (a signal still ends KVM_RUN with
 * EINTR); INIT moves an AP to INIT_RECEIVED and resets it -- CPU and
 * local APIC, but not the APIC base MSR -- and SIPI starts it in real mode
 * at vector * 0x1000 with CS = vector << 8; a second SIPI is ignored.
 * KVM_GET/SET_MP_STATE round-trip every state, SIPI_RECEIVED with the
 * vector from KVM_SET_VCPU_EVENTS starts the vCPU there, HALTED is what a
 * vCPU in HLT reports, and RUNNABLE takes it out of the HLT.  Without an
 * irqchip every vCPU is RUNNABLE and only RUNNABLE can be set.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "apic.h"
#include "guest.h"
#include "irqchip.h"
#include "modes.h"

#define NS_PER_MS	1000000ULL
#define REC_BASE	0x4100		/* one 32-byte record per APIC ID */
#define CR0_RESET	0x60000010ULL	/* CD, NW, ET */
#define CR0_ET		0x10ULL		/* INIT keeps CD and NW, sets ET, clears the rest */

/*
 * What an AP runs after SIPI, in real mode at vector * 0x1000 (the same
 * code at 0x8000 and 0x9000).  It records, at REC_BASE + 32 * APIC ID
 * (from CPUID.1:EBX[31:24]): +0 how often it started, +4 CS, +8 IP of
 * ap_code_ip, +12 EDX as it started (the processor signature), +16 CR0,
 * +20 EFER.  DS, SS are 0 after INIT.
 */
GUEST_CODE16(ap_code,
	"mov %edx, %ebp\n"
	"mov $0x7000, %sp\n"
	"call 1f\n"
	".globl ap_code_ip\n"
	"ap_code_ip:\n"
	"1: pop %si\n"
	"mov $1, %eax\n"
	"cpuid\n"
	"shr $24, %ebx\n"
	"shl $5, %bx\n"
	"add $" "0x4100" ", %bx\n"
	"lock incl (%bx)\n"
	"mov %cs, %ax\n"
	"movw %ax, 4(%bx)\n"
	"movw %si, 8(%bx)\n"
	"movl %ebp, 12(%bx)\n"
	"mov %cr0, %eax\n"
	"movl %eax, 16(%bx)\n"
	"mov $0xc0000080, %ecx\n"
	"rdmsr\n"
	"movl %eax, 20(%bx)\n"
	ASM_UCALL_DONE);
extern const uint8_t ap_code_ip[];

struct ap_record {
	uint32_t starts, cs, ip, edx, cr0, efer, pad[2];
};

static volatile struct ap_record *record_of(struct vm *vm, uint32_t id)
{
	return gpa_to_hva(vm, REC_BASE + 32 * id);
}

/* CPUID.1:EAX of @v, the signature INIT leaves in EDX. */
static uint32_t signature(struct vcpu *v)
{
	struct {
		struct kvm_cpuid2 c;
		struct kvm_cpuid_entry2 e[256];
	} t = { .c.nent = 256 };
	uint32_t i;

	TEST_ASSERT(!ioctl(v->fd, KVM_GET_CPUID2, &t), "KVM_GET_CPUID2: %s", strerror(errno));
	for (i = 0; i < t.c.nent; i++)
		if (t.c.entries[i].function == 1)
			return t.c.entries[i].eax;
	test_fail("no CPUID leaf 1");
}

/* @after_init: EDX holds the signature only when the AP went through INIT. */
static void check_started(struct vcpu *ap, uint32_t vector, uint64_t cr0, bool after_init)
{
	volatile struct ap_record *r = record_of(ap->vm, ap->id);
	struct kvm_sregs sregs;

	TEST_ASSERT_EQ(r->starts, 1);
	TEST_ASSERT_EQ(r->cs, vector << 8);
	TEST_ASSERT_EQ(r->ip, ap_code_ip - ap_code_start);
	if (after_init)
		TEST_ASSERT_EQ(r->edx, signature(ap));
	TEST_ASSERT_EQ(r->cr0, cr0);
	TEST_ASSERT_EQ(r->efer, 0);
	vcpu_get_sregs(ap, &sregs);
	TEST_ASSERT_EQ(sregs.cs.base, vector << 12);
	TEST_ASSERT_EQ(sregs.cs.selector, vector << 8);
}

/* A VM with the irqchip, vCPU 0 in long mode at @fn, @nr - 1 APs left as created. */
static struct vm *smp_vm(const struct test_dev *dev, int nr, void (*fn)(void))
{
	struct vm *vm = vm_create_with_irqchip(dev, LONG_MODE_MEM_SIZE);
	int i;

	for (i = 0; i < nr; i++) {
		struct vcpu *v = vcpu_add(vm, i);

		vcpu_set_cpuid_apic_id(v);
		if (!i)
			vcpu_enter_long(v, fn, 0);
	}
	guest_write(vm, 0x8000, ap_code.start, ap_code.end - ap_code.start);
	guest_write(vm, 0x9000, ap_code.start, ap_code.end - ap_code.start);
	vm_set_guest_tsc_khz(vm);
	return vm;
}

#define INIT_IPI	(APIC_INT_LEVELTRIG | APIC_INT_ASSERT | APIC_DM_INIT)
#define SIPI(vector)	(APIC_DM_STARTUP | (vector))

/* ---------------------------------------------------------------- */
/* States at creation, round trips                                  */

TEST_NO_GUEST(initial_states)
{
	struct vm *vm = vm_create_with_irqchip(ctx->dev, 0);
	struct vcpu *v[3];
	int i;

	TEST_ASSERT(ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MP_STATE) > 0,
		    "KVM_CAP_MP_STATE is not offered");
	for (i = 0; i < 3; i++)
		v[i] = vcpu_add(vm, i);
	TEST_ASSERT_EQ(vcpu_get_mp_state(v[0]), KVM_MP_STATE_RUNNABLE);
	TEST_ASSERT_EQ(vcpu_get_mp_state(v[1]), KVM_MP_STATE_UNINITIALIZED);
	TEST_ASSERT_EQ(vcpu_get_mp_state(v[2]), KVM_MP_STATE_UNINITIALIZED);
	/* Not a state of x86 (s390's STOPPED, and nonsense). */
	EXPECT_ERRNO(vcpu_set_mp_state_raw(v[1], KVM_MP_STATE_STOPPED), EINVAL);
	EXPECT_ERRNO(vcpu_set_mp_state_raw(v[1], 1000), EINVAL);
	irq_vm_free(vm);

	/* Without an in-kernel irqchip: every vCPU runnable, only RUNNABLE settable. */
	vm = vm_create(ctx->dev, 0);
	for (i = 0; i < 2; i++)
		v[i] = vcpu_add(vm, i);
	TEST_ASSERT_EQ(vcpu_get_mp_state(v[0]), KVM_MP_STATE_RUNNABLE);
	TEST_ASSERT_EQ(vcpu_get_mp_state(v[1]), KVM_MP_STATE_RUNNABLE);
	vcpu_set_mp_state(v[1], KVM_MP_STATE_RUNNABLE);
	EXPECT_ERRNO(vcpu_set_mp_state_raw(v[1], KVM_MP_STATE_HALTED), EINVAL);
	EXPECT_ERRNO(vcpu_set_mp_state_raw(v[1], KVM_MP_STATE_UNINITIALIZED), EINVAL);
	EXPECT_ERRNO(vcpu_set_mp_state_raw(v[1], KVM_MP_STATE_INIT_RECEIVED), EINVAL);
	irq_vm_free(vm);
}

TEST_NO_GUEST(set_get_round_trip)
{
	static const uint32_t states[] = {
		KVM_MP_STATE_HALTED, KVM_MP_STATE_INIT_RECEIVED, KVM_MP_STATE_UNINITIALIZED,
		KVM_MP_STATE_RUNNABLE, KVM_MP_STATE_HALTED, KVM_MP_STATE_RUNNABLE,
	};
	struct vm *vm = vm_create_with_irqchip(ctx->dev, 0);
	struct vcpu *v[2] = { vcpu_add(vm, 0), vcpu_add(vm, 1) };
	unsigned int i, j;

	for (j = 0; j < 2; j++)
		for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
			vcpu_set_mp_state(v[j], states[i]);
			TEST_ASSERT_EQ(vcpu_get_mp_state(v[j]), states[i]);
		}
	irq_vm_free(vm);
}

struct raw_runner {
	struct vcpu *v;
	int ret, err;
	volatile bool returned;
};

static void on_signal(int sig)
{
	(void)sig;
}

static void *raw_run(void *arg)
{
	struct raw_runner *r = arg;

	r->ret = vcpu_run_raw(r->v);
	r->err = errno;
	r->returned = true;
	return NULL;
}

/* Runs @v on a thread, signals it after @ms, expects KVM_RUN to end in EINTR. */
static void run_and_interrupt(struct vcpu *v, unsigned int ms)
{
	struct raw_runner r = { .v = v };
	pthread_t t;

	TEST_ASSERT(!pthread_create(&t, NULL, raw_run, &r), "pthread_create");
	usleep(ms * 1000);
	TEST_ASSERT(!r.returned, "KVM_RUN returned (%d, %s: %s) where it should block",
		    r.ret, strerror(r.err), vcpu_exit_str(v));
	pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	TEST_ASSERT(r.ret == -1 && r.err == EINTR, "KVM_RUN returned %d (%s), expected EINTR",
		    r.ret, strerror(r.err));
	TEST_ASSERT_EQ(v->run->exit_reason, KVM_EXIT_INTR);
}

/* ---------------------------------------------------------------- */
/* INIT and SIPI                                                    */

static volatile uint32_t sipi_done;

static void guest_bsp_starts_aps(void)
{
	volatile struct ap_record *r2 = (volatile struct ap_record *)(REC_BASE + 64);

	apic_enable_xapic();
	apic_send_ipi(1, INIT_IPI);
	GUEST_SYNC(1, 0);		/* the host: AP 1 is INIT_RECEIVED */
	apic_send_ipi(1, SIPI(0x08));
	GUEST_SYNC(2, 0);		/* the host runs AP 1 to its DONE */
	/* AP 2 is in KVM_RUN on its thread: INIT, SIPI, SIPI as the MP spec has it. */
	apic_send_ipi(2, INIT_IPI);
	apic_send_ipi(2, SIPI(0x09));
	apic_send_ipi(2, SIPI(0x09));
	while (!r2->starts)
		cpu_relax();
	/* A SIPI to a started AP is ignored (the host runs AP 2 again to see). */
	apic_send_ipi(2, SIPI(0x09));
}

TEST_CASE_OPTS(init_sipi_starts_aps, .why_not_compared = "AP 2's thread runs beside the BSP")
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct vm *vm = smp_vm(ctx->dev, 3, guest_bsp_starts_aps);
	struct vcpu *bsp = vm->vcpus[0], *ap1 = vm->vcpus[1], *ap2 = vm->vcpus[2];
	struct vcpu_thread t;
	struct ucall uc;
	uint32_t s;

	sigaction(SIGUSR1, &sa, NULL);
	TEST_ASSERT_EQ(vcpu_get_mp_state(ap1), KVM_MP_STATE_UNINITIALIZED);
	vcpu_thread_start(&t, ap2);		/* blocks until INIT/SIPI */
	irq_expect_ucall(bsp, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(vcpu_get_mp_state(ap1), KVM_MP_STATE_INIT_RECEIVED);
	TEST_ASSERT(!t.done, "AP 2 ran before its INIT");
	irq_expect_ucall(bsp, UCALL_SYNC, &uc);
	/* Either name for "about to start at the vector" (api.rst). */
	s = vcpu_get_mp_state(ap1);
	TEST_ASSERT(s == KVM_MP_STATE_RUNNABLE || s == KVM_MP_STATE_SIPI_RECEIVED,
		    "AP 1's MP state after SIPI: %u", s);
	TEST_ASSERT_EQ(vcpu_run_to_ucall_retry(ap1, &uc), UCALL_DONE);
	check_started(ap1, 0x08, CR0_RESET, true);
	irq_expect_ucall(bsp, UCALL_DONE, &uc);
	vcpu_thread_join(&t, 30);
	check_started(ap2, 0x09, CR0_RESET, true);
	/* After its DONE AP 2 halts with IF = 0: the late SIPI must not restart it. */
	run_and_interrupt(ap2, 100);
	TEST_ASSERT_EQ(record_of(vm, 2)->starts, 1);
	irq_vm_free(vm);
}

/*
 * INIT resets a running AP -- also one halted with interrupts off --
 * including its local APIC (SVR, TPR, LDR, LVTs back to their reset
 * values, the ID kept); the APIC base MSR, and with it x2APIC mode, stays.
 */
static volatile uint32_t ap_ready;

static void guest_init_resets(void)
{
	unsigned int me = guest_vcpu_index();

	if (me) {
		if (me == 1)
			apic_enable_xapic();
		else
			apic_enable_x2apic();
		apic_write(APIC_TPR, 0x50);
		apic_write(APIC_LVT0, APIC_DM_NMI);
		if (me == 1)
			xapic_write(APIC_LDR, 0x02000000);
		__atomic_add_fetch(&ap_ready, 1, __ATOMIC_SEQ_CST);
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	apic_enable_xapic();
	while (ap_ready != 2)
		cpu_relax();
	tsc_delay_us(10000);		/* let them reach their HLT (not required) */
	apic_send_ipi(1, INIT_IPI);
	apic_send_ipi(2, INIT_IPI);
	apic_send_ipi(1, SIPI(0x08));
	apic_send_ipi(2, SIPI(0x09));
}

static uint64_t get_msr(struct vcpu *v, uint32_t index)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e.index = index };

	TEST_ASSERT_EQ(ioctl(v->fd, KVM_GET_MSRS, &m), 1);
	return m.e.data;
}

TEST_CASE_OPTS(init_resets_ap, .why_not_compared = "the APs run on threads beside the BSP")
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 3, guest_init_resets, 0);
	struct vcpu_thread t[3];
	struct kvm_lapic_state s;
	struct ucall uc;
	int i;

	guest_write(vm, 0x8000, ap_code.start, ap_code.end - ap_code.start);
	guest_write(vm, 0x9000, ap_code.start, ap_code.end - ap_code.start);
	for (i = 1; i < 3; i++)
		vcpu_thread_start(&t[i], vm->vcpus[i]);
	irq_expect_ucall(vm->vcpus[0], UCALL_DONE, &uc);
	for (i = 1; i < 3; i++)
		vcpu_thread_join(&t[i], 30);
	for (i = 1; i < 3; i++) {
		struct vcpu *ap = vm->vcpus[i];

		check_started(ap, 0x07 + i, CR0_ET, true);	/* it ran with CD = NW = 0 */
		vcpu_get_lapic(ap, &s);
		TEST_ASSERT_EQ(lapic_reg(&s, APIC_SVR), 0xff);
		TEST_ASSERT_EQ(lapic_reg(&s, APIC_TPR), 0);
		TEST_ASSERT_EQ(lapic_reg(&s, APIC_LVT0), APIC_LVT_MASKED);
		TEST_ASSERT_EQ(lapic_reg(&s, APIC_ID), (uint32_t)i << 24);	/* xAPIC format */
		if (i == 1) {
			TEST_ASSERT_EQ(lapic_reg(&s, APIC_LDR), 0);
			TEST_ASSERT_EQ(get_msr(ap, MSR_IA32_APICBASE),
				       APIC_DEFAULT_BASE | APICBASE_EN);
		} else {
			TEST_ASSERT_EQ(get_msr(ap, MSR_IA32_APICBASE),
				       APIC_DEFAULT_BASE | APICBASE_EN | APICBASE_EXTD);
		}
	}
	irq_vm_free(vm);
}

/*
 * KVM_SET_MP_STATE(SIPI_RECEIVED) with the vector from KVM_SET_VCPU_EVENTS:
 * how QEMU restores an AP caught between SIPI and its first instruction.
 */
TEST_CASE(sipi_received_restores)
{
	struct vm *vm = smp_vm(ctx->dev, 2, guest_bsp_starts_aps);
	struct vcpu *ap = vm->vcpus[1];
	struct kvm_vcpu_events ev;
	struct ucall uc;
	uint32_t s;

	TEST_ASSERT(!ioctl(ap->fd, KVM_GET_VCPU_EVENTS, &ev), "KVM_GET_VCPU_EVENTS: %s",
		    strerror(errno));
	ev.flags = KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	ev.sipi_vector = 0x09;
	TEST_ASSERT(!ioctl(ap->fd, KVM_SET_VCPU_EVENTS, &ev), "KVM_SET_VCPU_EVENTS: %s",
		    strerror(errno));
	vcpu_set_mp_state(ap, KVM_MP_STATE_SIPI_RECEIVED);
	s = vcpu_get_mp_state(ap);
	TEST_ASSERT(s == KVM_MP_STATE_RUNNABLE || s == KVM_MP_STATE_SIPI_RECEIVED,
		    "MP state after setting SIPI_RECEIVED: %u", s);
	TEST_ASSERT_EQ(vcpu_run_to_ucall_retry(ap, &uc), UCALL_DONE);
	check_started(ap, 0x09, CR0_RESET, false);
	irq_vm_free(vm);
}

/* ---------------------------------------------------------------- */
/* Blocked APs and signals; HALTED                                  */

TEST_CASE_OPTS(uninitialized_ap_blocks, .why_not_compared = "KVM_RUN only ends in EINTR")
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct vm *vm = vm_create_with_irqchip(ctx->dev, REAL_MODE_MEM_SIZE);
	struct vcpu *ap;

	sigaction(SIGUSR1, &sa, NULL);
	vcpu_add(vm, 0);
	ap = vcpu_add(vm, 1);
	run_and_interrupt(ap, 100);
	TEST_ASSERT_EQ(vcpu_get_mp_state(ap), KVM_MP_STATE_UNINITIALIZED);
	run_and_interrupt(ap, 50);
	irq_vm_free(vm);
}

static void guest_cli_hlt(void)
{
	__asm__ volatile("cli; hlt");
	GUEST_SYNC(1, 0);
}

TEST_CASE_OPTS(halted_state, .why_not_compared = "KVM_RUN ends in EINTR where a signal hits")
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_cli_hlt, 0);
	struct vcpu *v = vm->vcpus[0];
	struct ucall uc;

	sigaction(SIGUSR1, &sa, NULL);
	/* HLT with the irqchip in the kernel: no KVM_EXIT_HLT, the thread sleeps. */
	run_and_interrupt(v, 100);
	TEST_ASSERT_EQ(vcpu_get_mp_state(v), KVM_MP_STATE_HALTED);
	run_and_interrupt(v, 50);		/* still halted */
	TEST_ASSERT_EQ(vcpu_get_mp_state(v), KVM_MP_STATE_HALTED);
	/* RUNNABLE: it goes on after the HLT. */
	vcpu_set_mp_state(v, KVM_MP_STATE_RUNNABLE);
	irq_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 1);
	irq_expect_ucall(v, UCALL_DONE, &uc);
	irq_vm_free(vm);
}
