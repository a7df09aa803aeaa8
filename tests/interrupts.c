// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts from user space, the way a VMM with its own interrupt
 * controller injects them (api.rst, KVM_INTERRUPT): the interrupt window
 * (request_interrupt_window, KVM_EXIT_IRQ_WINDOW_OPEN), the exit fields
 * that say whether the guest can take one (if_flag,
 * ready_for_interrupt_injection), the one-instruction shadows of STI and
 * MOV SS, KVM_INTERRUPT, the interrupt bitmap of KVM_SET_SREGS/KVM_GET_SREGS,
 * and events whose delivery a #VMEXIT interrupted (a nested page fault on
 * the stack or the IDT), which must be delivered again exactly once.
 * Every case runs on both devices and their traces are compared.
 */
#include <sys/ioctl.h>

#include "guest.h"
#include "modes.h"

#define IRQ_VECTOR	0x40
#define BITMAP_VECTOR	0x41
#define SOFT_VECTOR	0x42
#define UD_VECTOR	6
#define MIB		(1ULL << 20)
#define SPIN_LEN	10		/* cmpq $0, x(%rip) (8 bytes); je (2) */

/* What the guest's handlers saw (guest globals; the asm blocks use them). */
volatile uint64_t irq_count, irq_vector, irq_return_rip, irq_rsp;


static void on_irq(struct ex_regs *regs)
{
	irq_count++;
	irq_vector = regs->vector;
	irq_return_rip = regs->rip;
	irq_rsp = regs->rsp;
}

/*
 * The instructions around the window, in asm so that the host knows their
 * addresses: an OUT in the shadow of STI (or of MOV SS), then a spin until
 * an interrupt arrived.
 */
extern const char sti_then_out[], after_sti_out[], movss_then_out[], after_movss_out[];
__asm__(".pushsection .text\n"
	".globl sti_then_out, after_sti_out\n"
	"sti_then_out:\n"
	"	sti\n"
	"	out %al, $0x81\n"		/* in the STI shadow */
	"after_sti_out:\n"
	"1:	cmpq $0, irq_count(%rip)\n"
	"	je 1b\n"
	"	ret\n"
	".globl movss_then_out, after_movss_out\n"
	"movss_then_out:\n"
	"	mov %ss, %ax\n"
	"	mov %ax, %ss\n"
	"	out %al, $0x82\n"		/* in the MOV SS shadow */
	"after_movss_out:\n"
	"1:	cmpq $0, irq_count(%rip)\n"
	"	je 1b\n"
	"	ret\n"
	".popsection\n");

static void guest_window(uint64_t movss)
{
	guest_set_handler(IRQ_VECTOR, on_irq);
	__asm__ volatile("cli");
	GUEST_SYNC(1, 0);		/* the host asks for the window now */
	GUEST_SYNC(2, 0);		/* ... which stays shut: IF is clear */
	if (movss) {
		/*
		 * SS loaded once before, so that its descriptor (the GDT page)
		 * is mapped: under QEMU's TCG, a MOV SS that a nested page fault
		 * interrupted is run again by VMRUN without its shadow (seen on
		 * yakvm, whose NPT maps the GDT page on that first load; KVM's
		 * huge page had it already) -- docs/testing.md, "What the suite
		 * cannot see under TCG".
		 */
		__asm__ volatile("mov %%ss, %%ax; mov %%ax, %%ss" : : : "rax");
		__asm__ volatile("sti; nop" : : : "memory");
		__asm__ volatile("call movss_then_out" : : : "rax", "memory");
	} else {
		__asm__ volatile("call sti_then_out" : : : "memory");
	}
	GUEST_SYNC(irq_count, irq_vector);
	GUEST_SYNC(0, 0);		/* the host reads irq_return_rip ... */
	irq_return_rip = 0;		/* ... whose exact value may differ (run_window) */
}

static uint64_t rip_of(struct vcpu *v)
{
	struct kvm_regs regs;

	vcpu_get_regs(v, &regs);
	return regs.rip;
}

static void expect_flags(struct vcpu *v, unsigned int if_flag, unsigned int ready,
			 const char *where)
{
	TEST_ASSERT(v->run->if_flag == if_flag &&
		    v->run->ready_for_interrupt_injection == ready,
		    "%s: if_flag %u ready_for_interrupt_injection %u, expected %u %u", where,
		    v->run->if_flag, v->run->ready_for_interrupt_injection, if_flag, ready);
}

static void inject(struct vcpu *v, uint32_t vector)
{
	struct kvm_interrupt irq = { .irq = vector };

	EXPECT_OK(ioctl(v->fd, KVM_INTERRUPT, &irq));
}

/*
 * @movss false: the window is requested while IF is clear (no exit for
 * it), then STI; OUT: the OUT's exit comes in the shadow (IF set, not
 * ready), and the window opens right after the OUT.  @movss true: with IF
 * set and no window asked for, MOV SS; OUT: the same shadow; the window,
 * asked for at the OUT's exit, opens after it.  An interrupt injected at
 * the window is taken there, once.
 */
static void run_window(const struct test_ctx *ctx, bool movss)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_window, movss);
	uint64_t after = (uint64_t)(movss ? after_movss_out : after_sti_out), window;
	struct ucall uc;

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 1);
	if (!movss)
		v->run->request_interrupt_window = 1;
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);	/* IF clear: no window exit first */
	TEST_ASSERT_EQ(uc.args[0], 2);
	expect_flags(v, 0, 0, "with IF clear");
	vcpu_run(v);
	TEST_ASSERT(v->run->exit_reason == KVM_EXIT_IO && v->run->io.port == (movss ? 0x82 : 0x81),
		    "expected the OUT in the shadow, got %s", vcpu_exit_str(v));
	expect_flags(v, 1, 0, movss ? "at an OUT in the MOV SS shadow" : "at an OUT in the STI shadow");
	v->run->request_interrupt_window = 1;
	vcpu_run(v);
	vcpu_expect_exit(v, KVM_EXIT_IRQ_WINDOW_OPEN);
	expect_flags(v, 1, 1, "at the window");
	/*
	 * The window opens once the OUT is done, in the spin after it: KVM
	 * exits before the guest runs another instruction; under QEMU's TCG a
	 * VINTR can come one instruction late (docs/testing.md, "What the suite
	 * cannot see under TCG"), so the exact RIP is not compared.
	 */
	window = rip_of(v);
	TEST_ASSERT(window >= after && window < after + SPIN_LEN,
		    "the window opened at rip 0x%llx, not in the spin after the OUT (0x%llx)",
		    (unsigned long long)window, (unsigned long long)after);
	v->run->request_interrupt_window = 0;
	inject(v, IRQ_VECTOR);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(uc.args[0] == 1 && uc.args[1] == IRQ_VECTOR,
		    "the guest took %llu interrupts, vector 0x%llx", (unsigned long long)uc.args[0],
		    (unsigned long long)uc.args[1]);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(guest_global(v->vm, irq_return_rip) == window,
		    "the interrupt returned to 0x%llx, the window was at 0x%llx",
		    (unsigned long long)guest_global(v->vm, irq_return_rip),
		    (unsigned long long)window);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

TEST_CASE(window_after_sti_shadow) { run_window(ctx, false); }
TEST_CASE(window_after_mov_ss_shadow) { run_window(ctx, true); }

/* ---------------------------------------------------------------- */
/* The interrupt bitmap of KVM_SET_SREGS and KVM_GET_SREGS           */

static void guest_wait_for_irq(void)
{
	guest_set_handler(BITMAP_VECTOR, on_irq);
	guest_set_handler(IRQ_VECTOR, on_irq);
	__asm__ volatile("sti; nop");
	GUEST_SYNC(0, 0);
	while (!irq_count)
		;
	GUEST_SYNC(irq_count, irq_vector);
}

static uint64_t bitmap_bits(const struct kvm_sregs *s, int *vector)
{
	uint64_t n = 0;
	int i;

	*vector = -1;
	for (i = 0; i < 256; i++)
		if (s->interrupt_bitmap[i / 64] >> (i % 64) & 1) {
			n++;
			*vector = i;
		}
	return n;
}

/*
 * A pending external interrupt is part of the state KVM_GET_SREGS reports
 * and KVM_SET_SREGS restores (migration): one set in the bitmap is
 * delivered on the next run, once; one queued by KVM_INTERRUPT shows in
 * the bitmap until it is delivered.
 */
TEST_CASE(interrupt_bitmap)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_wait_for_irq, 0);
	struct kvm_sregs s;
	struct ucall uc;
	int vector;

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	vcpu_get_sregs(v, &s);
	TEST_ASSERT_EQ(bitmap_bits(&s, &vector), 0);
	s.interrupt_bitmap[BITMAP_VECTOR / 64] |= 1ULL << (BITMAP_VECTOR % 64);
	vcpu_set_sregs(v, &s);
	vcpu_get_sregs(v, &s);
	TEST_ASSERT(bitmap_bits(&s, &vector) == 1 && vector == BITMAP_VECTOR,
		    "KVM_GET_SREGS after setting vector 0x%x pending: %d pending, vector %d",
		    BITMAP_VECTOR, (int)bitmap_bits(&s, &vector), vector);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(uc.args[0] == 1 && uc.args[1] == BITMAP_VECTOR,
		    "the guest took %llu interrupts, vector 0x%llx", (unsigned long long)uc.args[0],
		    (unsigned long long)uc.args[1]);
	vcpu_get_sregs(v, &s);
	TEST_ASSERT_EQ(bitmap_bits(&s, &vector), 0);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);

	/* KVM_INTERRUPT's vector is pending in the bitmap until the guest takes it. */
	vcpu_enter_long(v, guest_wait_for_irq, 0);
	guest_global(v->vm, irq_count) = 0;
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(v->run->ready_for_interrupt_injection, "not ready with IF set");
	inject(v, IRQ_VECTOR);
	vcpu_get_sregs(v, &s);
	TEST_ASSERT(bitmap_bits(&s, &vector) == 1 && vector == IRQ_VECTOR,
		    "KVM_GET_SREGS after KVM_INTERRUPT 0x%x: %d pending, vector %d", IRQ_VECTOR,
		    (int)bitmap_bits(&s, &vector), vector);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(uc.args[0] == 1 && uc.args[1] == IRQ_VECTOR,
		    "the guest took %llu interrupts, vector 0x%llx", (unsigned long long)uc.args[0],
		    (unsigned long long)uc.args[1]);
	vcpu_get_sregs(v, &s);
	TEST_ASSERT_EQ(bitmap_bits(&s, &vector), 0);
	vm_free(v->vm);
}

/* ---------------------------------------------------------------- */
/* Events whose delivery a #VMEXIT interrupted                       */

/*
 * Each event is delivered with its stack frame (or its IDT entry) on a
 * page the guest never touched, in a slot of its own: the delivery's
 * access faults in the nested page tables, the hypervisor maps the page
 * and must deliver the event again (EXITINTINFO) -- once, with the same
 * vector, error code and return address.
 */
#define FRESH_GPA	(1024 * MIB)	/* a slot of fresh pages, one per scenario */
#define FRESH_SIZE	(2 * MIB)

enum fresh { STACK_UD, STACK_IRQ, STACK_INT_N, IDT_UD };

volatile uint64_t ud_count, ud_rip, fresh_stack;

static void on_ud(struct ex_regs *regs)
{
	ud_count++;
	ud_rip = regs->rip;
	regs->rip += 2;			/* past the UD2 */
}

/* Runs @what with RSP at the top of the fresh page @stack, then restores RSP. */
extern const char ud2_on_fresh_stack[], int_n_on_fresh_stack[], irq_on_fresh_stack[];
extern const char fresh_ud2[], after_fresh_int_n[];
__asm__(".pushsection .text\n"
	".globl ud2_on_fresh_stack, int_n_on_fresh_stack, irq_on_fresh_stack\n"
	".globl fresh_ud2, after_fresh_int_n\n"
	/* rdi: the new RSP; the old one is kept in RBX (callee-saved: pushed) */
	"ud2_on_fresh_stack:\n"
	"	push %rbx\n	mov %rsp, %rbx\n	mov %rdi, %rsp\n"
	"fresh_ud2:\n"
	"	ud2\n"
	"	mov %rbx, %rsp\n	pop %rbx\n	ret\n"
	"int_n_on_fresh_stack:\n"
	"	push %rbx\n	mov %rsp, %rbx\n	mov %rdi, %rsp\n"
	"	int $0x42\n"
	"after_fresh_int_n:\n"
	"	mov %rbx, %rsp\n	pop %rbx\n	ret\n"
	/* sti; out: the host injects at the OUT's exit (after it, IF is set) */
	"irq_on_fresh_stack:\n"
	"	push %rbx\n	mov %rsp, %rbx\n	mov %rdi, %rsp\n"
	"	sti\n	nop\n	out %al, $0x83\n"
	"1:	cmpq $0, irq_count(%rip)\n	je 1b\n"
	"	cli\n	mov %rbx, %rsp\n	pop %rbx\n	ret\n"
	".popsection\n");

static void guest_reinject(uint64_t what)
{
	uint64_t top = FRESH_GPA + (what + 1) * 0x10000;	/* 64 KiB apart: not around */

	guest_set_handler(UD_VECTOR, on_ud);
	guest_set_handler(SOFT_VECTOR, on_irq);
	guest_set_handler(IRQ_VECTOR, on_irq);
	switch (what) {
	case STACK_UD:
		((void (*)(uint64_t))ud2_on_fresh_stack)(top);
		GUEST_SYNC(ud_count, ud_rip == (uint64_t)fresh_ud2);
		break;
	case STACK_INT_N:
		((void (*)(uint64_t))int_n_on_fresh_stack)(top);
		GUEST_SYNC(irq_count, irq_return_rip == (uint64_t)after_fresh_int_n &&
			   irq_vector == SOFT_VECTOR);
		break;
	case STACK_IRQ:
		((void (*)(uint64_t))irq_on_fresh_stack)(top);
		GUEST_SYNC(irq_count, irq_vector == IRQ_VECTOR);
		break;
	case IDT_UD: {
		/* The IDT copied to a fresh page (by the host), then loaded. */
		struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
			GUEST_NR_VECTORS * 16 - 1, FRESH_GPA + 0x100000,
		};

		__asm__ volatile("lidt %0" : : "m"(idtr));
		__asm__ volatile("ud2");
		GUEST_SYNC(ud_count, 1);
		break;
	}
	}
}

static void run_reinject(const struct test_ctx *ctx, enum fresh what)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_reinject, what);
	uint8_t *fresh = vm_add_memory(v->vm, 1, FRESH_GPA, FRESH_SIZE, 0);
	struct ucall uc;

	if (what == IDT_UD)		/* a host write creates no nested mapping */
		memcpy(fresh + 0x100000, gpa_to_hva(v->vm, GPA_IDT), GUEST_NR_VECTORS * 16);
	if (what == STACK_IRQ) {
		vcpu_run(v);
		TEST_ASSERT(v->run->exit_reason == KVM_EXIT_IO && v->run->io.port == 0x83,
			    "expected the OUT before the spin, got %s", vcpu_exit_str(v));
		TEST_ASSERT(v->run->ready_for_interrupt_injection, "not ready after STI; NOP");
		inject(v, IRQ_VECTOR);
	}
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(uc.args[0] == 1, "the event was delivered %llu times", (unsigned long long)uc.args[0]);
	TEST_ASSERT(uc.args[1] == 1, "the event was delivered with the wrong return address or vector");
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

TEST_CASE(reinject_exception_stack_fault) { run_reinject(ctx, STACK_UD); }
TEST_CASE(reinject_int_n_stack_fault) { run_reinject(ctx, STACK_INT_N); }
TEST_CASE(reinject_interrupt_stack_fault) { run_reinject(ctx, STACK_IRQ); }
TEST_CASE(reinject_exception_idt_fault) { run_reinject(ctx, IDT_UD); }
