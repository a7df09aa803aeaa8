// SPDX-License-Identifier: GPL-2.0
/*
 * Alignment checks (#AC, vector 17): a misaligned access at CPL 3 with
 * CR0.AM and RFLAGS.AC set raises #AC with error code 0; without AC, or at
 * CPL 0, it does not.  Both hypervisors intercept #AC (yakvm to keep split
 * locks in the host's hands) and must give the guest its own, exactly once.
 * The guest enters user mode itself: a GDT with user segments and a TSS,
 * the U bit in its page tables, IRETQ.
 */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "guest.h"
#include "modes.h"

#define AC_VECTOR	17
#define UD_VECTOR	6
#define CR0_AM		(1ULL << 18)
#define RFLAGS_AC	(1ULL << 18)
#define USER_DS		(0x28 | 3)
#define USER_CS		(0x30 | 3)
#define TSS_SEL		0x38
#define KERNEL_CS	SEL_CODE64
#define PTE_USER	(1ULL << 2)

/* The guest's GDT (the library's five entries, user data, user code, a TSS) and TSS. */
static uint64_t user_gdt[10];
static uint32_t tss64[26];
static uint8_t user_stack[4096] __attribute__((aligned(16)));
static uint8_t kernel_stack[8192] __attribute__((aligned(16)));
static volatile uint8_t misaligned[16] __attribute__((aligned(8)));

static volatile uint64_t ac_count, ac_error, ac_cs, ac_rip, kernel_rsp;
extern const char user_ac_load[], kernel_resume[];

/* The #AC handler skips the 3-byte load (mov 1(%rbx), %eax) and returns to user mode. */
static void on_ac(struct ex_regs *regs)
{
	ac_count++;
	ac_error = regs->error_code;
	ac_cs = regs->cs;
	ac_rip = regs->rip;
	regs->rip += 3;
}

/* The user code ends with UD2: back to the kernel, at kernel_resume. */
static void on_ud(struct ex_regs *regs)
{
	regs->cs = KERNEL_CS;
	regs->ss = SEL_DATA;
	regs->rsp = kernel_rsp;
	regs->rip = (uint64_t)kernel_resume;
	regs->rflags &= ~RFLAGS_AC;
}

/*
 * In user mode: a misaligned load with RFLAGS.AC clear (no #AC), the same
 * with AC set (#AC), UD2.  In kernel mode before that: the load with AC
 * set, which at CPL 0 never checks.
 */
__asm__(".pushsection .text\n"
	".globl user_code, user_ac_load, kernel_resume, enter_user\n"
	"user_code:\n"
	"	mov 1(%rbx), %eax\n"
	"	pushf\n	orl $0x40000, (%rsp)\n	popf\n"
	"user_ac_load:\n"
	"	mov 1(%rbx), %eax\n"
	"	ud2\n"
	/* enter_user(user rsp in rdi, misaligned base in rsi) */
	"enter_user:\n"
	"	push %rbx\n	push %rbp\n"
	"	mov %rsp, kernel_rsp(%rip)\n"
	"	mov %rsi, %rbx\n"
	"	push $0x2b\n	push %rdi\n	pushfq\n	push $0x33\n"
	"	lea user_code(%rip), %rax\n	push %rax\n"
	"	iretq\n"
	"kernel_resume:\n"
	"	pop %rbp\n	pop %rbx\n	ret\n"
	".popsection\n");

void enter_user(uint64_t rsp, volatile void *data);

static void guest_alignment(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr = {
		sizeof(user_gdt) - 1, (uint64_t)user_gdt,
	};
	uint64_t cr0, flags;

	guest_set_handler(AC_VECTOR, on_ac);
	guest_set_handler(UD_VECTOR, on_ud);
	__asm__ volatile("lgdt %0\n ltr %w1" : : "m"(gdtr), "r"(TSS_SEL));
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | CR0_AM));
	/* CPL 0 with AC set: no check. */
	__asm__ volatile("pushf\n orl $0x40000, (%%rsp)\n popf\n"
			 "mov 1(%1), %%eax\n"
			 "pushf\n andl $~0x40000, (%%rsp)\n popf\n"
			 "pushf\n pop %0" : "=r"(flags) : "r"(misaligned) : "rax", "memory");
	GUEST_SYNC(ac_count, flags & RFLAGS_AC);
	enter_user((uint64_t)user_stack + sizeof(user_stack), misaligned);
	GUEST_SYNC(ac_count, ac_error);
	GUEST_SYNC(ac_cs, ac_rip == (uint64_t)user_ac_load);
}

/* A 64-bit TSS descriptor (16 bytes, type 9) for the TSS at @base. */
static void set_tss_descriptor(uint64_t *d, uint64_t base)
{
	d[0] = (sizeof(tss64) - 1) | (base & 0xffffff) << 16 | 0x89ULL << 40 |
	       ((base >> 24) & 0xff) << 56;
	d[1] = base >> 32;
}

/* The U bit in every entry of the library's identity map (its four PDs and PT0). */
static void make_pages_user(struct vm *vm)
{
	uint64_t *t;
	int i;

	((uint64_t *)gpa_to_hva(vm, GPA_PML4))[0] |= PTE_USER;
	t = gpa_to_hva(vm, GPA_PDPT);
	for (i = 0; i < 4; i++)
		t[i] |= PTE_USER;
	t = gpa_to_hva(vm, GPA_PD);
	for (i = 0; i < 4 * 512; i++)
		t[i] |= PTE_USER;
	t = gpa_to_hva(vm, GPA_PT0);
	for (i = 1; i < 512; i++)
		t[i] |= PTE_USER;
}

/*
 * Whether this CPU raises #AC at all: a misaligned load with RFLAGS.AC set
 * in a child process (Linux sets CR0.AM) must end it with SIGBUS.  QEMU's
 * TCG checks no alignment, so the test VM's CPU models never do.
 */
static bool cpu_checks_alignment(void)
{
	static volatile uint8_t buf[16] __attribute__((aligned(8)));
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		__asm__ volatile("pushf\n orl $0x40000, (%%rsp)\n popf\n"
				 "mov 1(%0), %%eax\n"
				 "pushf\n andl $~0x40000, (%%rsp)\n popf"
				 : : "r"(buf) : "rax", "memory");
		_exit(0);
	}
	TEST_ASSERT(pid > 0, "fork");
	waitpid(pid, &status, 0);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS;
}

TEST_CASE(alignment_check_at_cpl3)
{
	struct vcpu *v;
	uint64_t tss = (uint64_t)&tss64, rsp0, *gdt;
	struct ucall uc;

	if (!cpu_checks_alignment())
		test_skip("the CPU raises no #AC: a misaligned load with RFLAGS.AC set in this "
			  "process raised no SIGBUS (QEMU's TCG does not check alignment)");
	v = vm_with_long_code(ctx->dev, guest_alignment, 0);
	gdt = guest_global(v->vm, user_gdt);
	memcpy(gdt, gpa_to_hva(v->vm, GPA_GDT), GDT_ENTRIES * 8);
	gdt[5] = 0x00cff3000000ffffULL;		/* user data: DPL 3, writable */
	gdt[6] = 0x00affb000000ffffULL;		/* user code: DPL 3, 64-bit */
	set_tss_descriptor(&gdt[7], tss);
	/* RSP0: the stack exceptions from user mode run on. */
	rsp0 = (uint64_t)kernel_stack + sizeof(kernel_stack);
	memcpy((uint8_t *)guest_global(v->vm, tss64) + 4, &rsp0, sizeof(rsp0));
	make_pages_user(v->vm);

	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(uc.args[0] == 0 && uc.args[1] == 0,
		    "at CPL 0: %llu #AC (AC cleared after: %s)", (unsigned long long)uc.args[0],
		    uc.args[1] ? "no" : "yes");
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(uc.args[0] == 1 && uc.args[1] == 0,
		    "at CPL 3: %llu #AC, error code 0x%llx (expected one, 0)",
		    (unsigned long long)uc.args[0], (unsigned long long)uc.args[1]);
	vcpu_run_expect_ucall(v, UCALL_SYNC, &uc);
	TEST_ASSERT(uc.args[0] == USER_CS && uc.args[1] == 1,
		    "#AC from CS 0x%llx, at the load: %s", (unsigned long long)uc.args[0],
		    uc.args[1] ? "yes" : "no");
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}
