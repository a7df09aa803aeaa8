// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO instruction forms beyond MOV, exit by exit: ALU instructions with a
 * memory operand on MMIO (a load exit, then for read-modify-write forms a
 * store exit of the result), XCHG (a load, then a store of the old
 * register), and MOVS/STOS/LODS on MMIO, one element per exit.  The host
 * answers each load, checks each store's value, and at the end the
 * registers and flags the guest saved; the traces compare both devices
 * exit by exit.  (guests/mmioforms.c and tests/vmm/vmm-mmioforms.test run
 * the same forms through the VMM, by their result only.)
 */
#include "exits.h"
#include "modes.h"

#define STR(x)		#x
#define XSTR(x)		STR(x)

#define RESULTS64	0x4900
#define BUF		0x5000		/* RAM the string forms copy from and to */
#define SAVE_FLAGS(n)	"pushf\n pop %rcx\n mov %rcx, " XSTR(RESULTS64) "+8*" #n "\n"
#define SAVE(reg, n)	"mov %" reg ", " XSTR(RESULTS64) "+8*" #n "\n"
#define FLAGS_MASK	0x8d5ULL	/* CF PF AF ZF SF OF */

/* RBX = MMIO_GPA throughout; each line's comment names the exits it makes. */
GUEST_CODE64(alu_forms,
	"mov $0x40000000, %rbx\n"
	"mov $0x11111111, %eax\n add %eax, (%rbx)\n" SAVE_FLAGS(0)	/* load 4, store 4 */
	"orb $0x80, 8(%rbx)\n" SAVE_FLAGS(1)				/* load 1, store 1 */
	"mov $0xff00ff00ff00ff00, %rax\n and %rax, 0x10(%rbx)\n" SAVE_FLAGS(2)
	"xorw $0xffff, 0x18(%rbx)\n" SAVE_FLAGS(3)
	"subl $1, 0x20(%rbx)\n" SAVE_FLAGS(4)				/* 0 - 1: borrow */
	"stc\n adcl $0, 0x24(%rbx)\n" SAVE_FLAGS(5)
	"stc\n sbbq $0, 0x28(%rbx)\n" SAVE_FLAGS(6)
	"cmpl $0x1234, 0x30(%rbx)\n" SAVE_FLAGS(7)			/* load only */
	"mov $0x80, %ecx\n testb %cl, 0x34(%rbx)\n" SAVE_FLAGS(8)	/* load only */
	"clc\n incw 0x38(%rbx)\n" SAVE_FLAGS(9)
	"clc\n decq 0x40(%rbx)\n" SAVE_FLAGS(10)
	"notl 0x48(%rbx)\n"
	"negq 0x50(%rbx)\n" SAVE_FLAGS(11)
	"mov 0x58(%rbx), %edx\n add 0x5c(%rbx), %edx\n" SAVE("rdx", 12)	/* two loads */
	"mov $0xaabbccdd, %eax\n xchg %eax, 0x60(%rbx)\n" SAVE("rax", 13)	/* load, store */
	"mov $0x77, %cl\n xchg 0x68(%rbx), %cl\n" SAVE("rcx", 14)
	ASM_UCALL_DONE);

/* What the device answers each form's load with. */
static const uint64_t alu_loads[] = {
	0xeeeeeeef, 0x01, 0x123456789abcdef0, 0x0f0f, 0, 0x7fffffff, 0, 0x1234, 0x7f,
	0xffff, 1, 0x0f0f0f0f, 5,
};

/*
 * The same instruction run by the host CPU on a memory operand holding
 * @load: the value it stores and the flags it leaves (with the same
 * register inputs and CF as the guest's).  The hypervisors must store and
 * report exactly that.
 */
static void host_alu(int form, uint64_t load, uint64_t *store, uint64_t *flags)
{
	uint64_t m = load, f;

	switch (form) {
	case 0: __asm__("add %2, %k0\n pushf\n pop %1" : "+m"(m), "=r"(f) : "r"(0x11111111U)); break;
	case 1: __asm__("orb $0x80, %0\n pushf\n pop %1" : "+m"(m), "=r"(f)); break;
	case 2: __asm__("and %2, %0\n pushf\n pop %1" : "+m"(m), "=r"(f)
			: "r"(0xff00ff00ff00ff00ULL)); break;
	case 3: __asm__("xorw $0xffff, %0\n pushf\n pop %1" : "+m"(m), "=r"(f)); break;
	case 4: __asm__("subl $1, %0\n pushf\n pop %1" : "+m"(m), "=r"(f)); break;
	case 5: __asm__("stc\n adcl $0, %0\n pushf\n pop %1" : "+m"(m), "=r"(f)); break;
	case 6: __asm__("stc\n sbbq $0, %0\n pushf\n pop %1" : "+m"(m), "=r"(f)); break;
	case 7: __asm__("cmpl $0x1234, %0\n pushf\n pop %1" : "+m"(m), "=r"(f)); break;
	case 8: __asm__("testb %2, %0\n pushf\n pop %1" : "+m"(m), "=r"(f) : "q"((uint8_t)0x80)); break;
	case 9: __asm__("clc\n incw %0\n pushf\n pop %1" : "+m"(m), "=r"(f)); break;
	case 10: __asm__("clc\n decq %0\n pushf\n pop %1" : "+m"(m), "=r"(f)); break;
	default: __asm__("notl %0\n negq %0\n pushf\n pop %1" : "+m"(m), "=r"(f)); break;
	}
	*store = m;
	*flags = f & FLAGS_MASK;
}

/* Each form: load size, whether it stores, and its offset from MMIO_GPA. */
static const struct { uint8_t size; bool stores; uint8_t off; } alu_form[] = {
	{ 4, true, 0x00 }, { 1, true, 0x08 }, { 8, true, 0x10 }, { 2, true, 0x18 },
	{ 4, true, 0x20 }, { 4, true, 0x24 }, { 8, true, 0x28 }, { 4, false, 0x30 },
	{ 1, false, 0x34 }, { 2, true, 0x38 }, { 8, true, 0x40 },
};

TEST_CASE(alu_and_xchg)
{
	struct exit_step steps[64];
	struct exit_script script = { steps, 0, false };
	struct vcpu *v = vm_with_low_code(ctx->dev, MODE_LONG, &alu_forms);
	uint64_t want_flags[12], store, mask;
	const uint64_t *got;
	size_t n = 0;
	int i;

	for (i = 0; i < 11; i++) {
		mask = alu_form[i].size == 8 ? -1ULL : (1ULL << (8 * alu_form[i].size)) - 1;
		host_alu(i, alu_loads[i], &store, &want_flags[i]);
		steps[n++] = (struct exit_step)MMIO_READ(MMIO_GPA + alu_form[i].off,
							  alu_form[i].size, alu_loads[i]);
		if (alu_form[i].stores)
			steps[n++] = (struct exit_step)MMIO_WRITE(MMIO_GPA + alu_form[i].off,
								   alu_form[i].size, store & mask);
	}
	/* NOT (load 0x0f0f0f0f, store its complement), then NEG of 5 (flags compared). */
	steps[n++] = (struct exit_step)MMIO_READ(MMIO_GPA + 0x48, 4, 0x0f0f0f0f);
	steps[n++] = (struct exit_step)MMIO_WRITE(MMIO_GPA + 0x48, 4, 0xf0f0f0f0);
	steps[n++] = (struct exit_step)MMIO_READ(MMIO_GPA + 0x50, 8, 5);
	steps[n++] = (struct exit_step)MMIO_WRITE(MMIO_GPA + 0x50, 8, -5ULL);
	{
		uint64_t m = 5, f;

		__asm__("negq %0\n pushf\n pop %1" : "+m"(m), "=r"(f));
		want_flags[11] = f & FLAGS_MASK;
	}
	/* Two loads of an ADD from MMIO into a register; the XCHGs: load, store. */
	steps[n++] = (struct exit_step)MMIO_READ(MMIO_GPA + 0x58, 4, 40);
	steps[n++] = (struct exit_step)MMIO_READ(MMIO_GPA + 0x5c, 4, 2);
	steps[n++] = (struct exit_step)MMIO_READ(MMIO_GPA + 0x60, 4, 0x01020304);
	steps[n++] = (struct exit_step)MMIO_WRITE(MMIO_GPA + 0x60, 4, 0xaabbccdd);
	steps[n++] = (struct exit_step)MMIO_READ(MMIO_GPA + 0x68, 1, 0x99);
	steps[n++] = (struct exit_step)MMIO_WRITE(MMIO_GPA + 0x68, 1, 0x77);
	script.nr_steps = n;
	run_exit_script(v, &script);
	got = gpa_to_hva(v->vm, RESULTS64);
	for (i = 0; i < 12; i++)
		TEST_ASSERT((got[i] & FLAGS_MASK) == want_flags[i],
			    "form %d left flags 0x%llx, the host CPU 0x%llx", i,
			    (unsigned long long)(got[i] & FLAGS_MASK),
			    (unsigned long long)want_flags[i]);
	TEST_ASSERT_EQ(got[12], 42);
	TEST_ASSERT_EQ(got[13], 0x01020304);
	TEST_ASSERT_EQ(got[14] & 0xff, 0x99);
	vm_free(v->vm);
}

/*
 * String forms: MOVSB RAM to MMIO (3 stores), MMIO to RAM (3 loads), MMIO
 * to MMIO (a load and a store per element), STOSW to MMIO (2 stores),
 * LODSL from MMIO (1 load), and REP MOVSB with DF=1.
 */
GUEST_CODE64(string_forms64,
	"cld\n"
	"mov $" XSTR(BUF) ", %rsi\n mov $0x40000100, %rdi\n mov $3, %ecx\n rep movsb\n"
	SAVE("rsi", 0) SAVE("rdi", 1)
	"mov $0x40000200, %rsi\n mov $" XSTR(BUF) "+0x10, %rdi\n mov $3, %ecx\n rep movsb\n"
	SAVE("rsi", 2) SAVE("rdi", 3)
	"mov $0x40000300, %rsi\n mov $0x40000400, %rdi\n mov $2, %ecx\n rep movsb\n"
	"mov $0x40000500, %rdi\n mov $0x5a5a, %ax\n mov $2, %ecx\n rep stosw\n"
	SAVE("rdi", 4)
	"mov $0x40000600, %rsi\n lodsl\n" SAVE("rax", 5) SAVE("rsi", 6)
	"std\n mov $0x40000702, %rdi\n mov $" XSTR(BUF) "+2, %rsi\n mov $3, %ecx\n rep movsb\n cld\n"
	SAVE("rdi", 7)
	ASM_UCALL_DONE);

static const struct exit_step string_steps[] = {
	MMIO_WRITE(MMIO_GPA + 0x100, 1, 0xa1), MMIO_WRITE(MMIO_GPA + 0x101, 1, 0xa2),
	MMIO_WRITE(MMIO_GPA + 0x102, 1, 0xa3),
	MMIO_READ(MMIO_GPA + 0x200, 1, 0xb1), MMIO_READ(MMIO_GPA + 0x201, 1, 0xb2),
	MMIO_READ(MMIO_GPA + 0x202, 1, 0xb3),
	MMIO_READ(MMIO_GPA + 0x300, 1, 0xc1), MMIO_WRITE(MMIO_GPA + 0x400, 1, 0xc1),
	MMIO_READ(MMIO_GPA + 0x301, 1, 0xc2), MMIO_WRITE(MMIO_GPA + 0x401, 1, 0xc2),
	MMIO_WRITE(MMIO_GPA + 0x500, 2, 0x5a5a), MMIO_WRITE(MMIO_GPA + 0x502, 2, 0x5a5a),
	MMIO_READ(MMIO_GPA + 0x600, 4, 0xd4d3d2d1),
	MMIO_WRITE(MMIO_GPA + 0x702, 1, 0xa3), MMIO_WRITE(MMIO_GPA + 0x701, 1, 0xa2),
	MMIO_WRITE(MMIO_GPA + 0x700, 1, 0xa1),
};

TEST_CASE(string_forms)
{
	static const uint8_t src[3] = { 0xa1, 0xa2, 0xa3 };
	struct exit_script script = { string_steps,
				      sizeof(string_steps) / sizeof(string_steps[0]), false };
	struct vcpu *v = vm_with_low_code(ctx->dev, MODE_LONG, &string_forms64);
	const uint64_t *got;
	const uint8_t *buf;

	guest_write(v->vm, BUF, src, sizeof(src));
	run_exit_script(v, &script);
	got = gpa_to_hva(v->vm, RESULTS64);
	buf = gpa_to_hva(v->vm, BUF + 0x10);
	TEST_ASSERT(got[0] == BUF + 3 && got[1] == MMIO_GPA + 0x103, "RAM to MMIO: rsi 0x%llx rdi 0x%llx",
		    (unsigned long long)got[0], (unsigned long long)got[1]);
	TEST_ASSERT(got[2] == MMIO_GPA + 0x203 && got[3] == BUF + 0x13,
		    "MMIO to RAM: rsi 0x%llx rdi 0x%llx", (unsigned long long)got[2],
		    (unsigned long long)got[3]);
	TEST_ASSERT(buf[0] == 0xb1 && buf[1] == 0xb2 && buf[2] == 0xb3,
		    "MMIO to RAM copied %02x %02x %02x", buf[0], buf[1], buf[2]);
	TEST_ASSERT_EQ(got[4], MMIO_GPA + 0x504);
	TEST_ASSERT_EQ(got[5] & 0xffffffff, 0xd4d3d2d1);
	TEST_ASSERT_EQ(got[6], MMIO_GPA + 0x604);
	TEST_ASSERT_EQ(got[7], MMIO_GPA + 0x6ff);
	vm_free(v->vm);
}
