// SPDX-License-Identifier: GPL-2.0
/*
 * Port I/O exits (KVM_EXIT_IO) in every mode, from one asm body assembled as
 * 16-, 32- and 64-bit code: IN/OUT of 1, 2 and 4 bytes in the immediate and
 * DX forms, INS/OUTS with and without REP in both directions (DF=0/1), a
 * segment override on OUTS, and address-size overrides.  The host checks
 * every exit (port, size, count, the data page) and, at the end, the
 * registers the guest stored and the memory INS wrote.
 */
#include "exits.h"
#include "modes.h"

#define STR(x)		#x
#define XSTR(x)		STR(x)

#define OUT_BUF		0x4000		/* OUTS sources, filled by the host */
#define IN_BUF		0x4100		/* INS destinations */
#define RESULTS		0x4800		/* registers the guest stores, 4 bytes each */
#define RESULTS64	0x4900		/* 64-bit registers, 8 bytes each */
#define NR_RESULTS	24

#define SAVE(reg, n)	"mov %" reg ", " XSTR(RESULTS) "+4*" #n "\n"
#define OUT(off)	XSTR(OUT_BUF) "+" #off
#define IN(off)		XSTR(IN_BUF) "+" #off

/*
 * A string instruction @insn on @port with @count in ECX and @start in
 * @reg (ESI or EDI); ECX and @reg are then stored as results @n and @n + 1.
 */
#define STRING_OP(port, reg, start, count, insn, n)			\
	"mov $" #port ", %dx\n mov $" start ", %" reg "\n"		\
	"mov $" #count ", %ecx\n" insn "\n"				\
	"mov %ecx, " XSTR(RESULTS) "+4*" #n "\n"			\
	"mov %" reg ", " XSTR(RESULTS) "+4*(" #n "+1)\n"

/*
 * The body, for any mode.  @es_base is the base ES gets from selector 0x10:
 * 0x100 in real mode, 0 in the flat modes (0x10 is the GDT's data segment).
 */
#define PIO_BODY(es_base)						\
	"cld\n"								\
	"mov $0x11, %al\n out %al, $0x10\n"				\
	"mov $0x2233, %ax\n out %ax, $0x12\n"				\
	"mov $0x44556677, %eax\n out %eax, $0x14\n"			\
	"mov $0x18, %dx\n"						\
	"mov $0x88, %al\n out %al, (%dx)\n"				\
	"mov $0x99aa, %ax\n out %ax, (%dx)\n"				\
	"mov $0xbbccddee, %eax\n out %eax, (%dx)\n"			\
	"mov $-1, %eax\n in $0x20, %al\n" SAVE("eax", 0)		\
	"mov $-1, %eax\n in $0x22, %ax\n" SAVE("eax", 1)		\
	"mov $-1, %eax\n in $0x24, %eax\n" SAVE("eax", 2)		\
	"mov $0x26, %dx\n"						\
	"mov $-1, %eax\n in (%dx), %al\n" SAVE("eax", 3)		\
	"mov $-1, %eax\n in (%dx), %ax\n" SAVE("eax", 4)		\
	"mov $-1, %eax\n in (%dx), %eax\n" SAVE("eax", 5)		\
	STRING_OP(0x30, "esi", OUT(0), 7, "rep outsb", 6)		\
	STRING_OP(0x32, "esi", OUT(0x10), 5, "rep outsw", 8)		\
	STRING_OP(0x34, "esi", OUT(0x20), 3, "rep outsl", 10)		\
	STRING_OP(0x36, "esi", OUT(0x3f), 4, "std\n rep outsb\n cld", 12)	\
	STRING_OP(0x38, "edi", IN(0), 6, "rep insb", 14)		\
	STRING_OP(0x3a, "edi", IN(0x2e), 3, "std\n rep insw\n cld", 16)	\
	STRING_OP(0x3c, "edi", IN(0x40), 2, "rep insl", 18)		\
	"mov $0x3e, %dx\n mov $" OUT(0x40) ", %esi\n outsb\n"		\
	SAVE("esi", 20)							\
	"mov $" IN(0x60) ", %edi\n insb\n" SAVE("edi", 21)		\
	"mov $0x10, %ax\n mov %ax, %es\n"				\
	STRING_OP(0x40, "esi", OUT(0x50) "-" es_base, 3,		\
		  ".byte 0x26\n rep outsb", 22)				\
	ASM_UCALL_DONE

GUEST_CODE16(pio16, PIO_BODY("0x100"));
GUEST_CODE32(pio32, PIO_BODY("0"));
GUEST_CODE64(pio64, PIO_BODY("0"));

struct pio_data {
	uint8_t out[0x60];		/* OUT_BUF */
	uint8_t outs_back[4];		/* std; rep outsb: out[0x3f] down to out[0x3c] */
	uint8_t insb[6], insw[6], insl[8];
};

static void make_data(struct pio_data *d)
{
	int i;

	for (i = 0; i < 0x60; i++)
		d->out[i] = (uint8_t)(i * 7 + 3);
	for (i = 0; i < 4; i++)
		d->outs_back[i] = d->out[0x3f - i];
	for (i = 0; i < 6; i++) {
		d->insb[i] = 0xa1 + i;
		d->insw[i] = 0xb1 + i;
	}
	for (i = 0; i < 8; i++)
		d->insl[i] = 0xc1 + i;
}

static void check_results(struct vm *vm, const struct pio_data *d, uint32_t es_base)
{
	const uint32_t want[NR_RESULTS] = {
		0xffffff5a, 0xffff1234, 0x89abcdef, 0xffffff01, 0xffff0302, 0x07060504,
		0, OUT_BUF + 7, 0, OUT_BUF + 0x1a, 0, OUT_BUF + 0x2c, 0, OUT_BUF + 0x3b,
		0, IN_BUF + 6, 0, IN_BUF + 0x28, 0, IN_BUF + 0x48,
		OUT_BUF + 0x41, IN_BUF + 0x61, 0, OUT_BUF + 0x53 - es_base,
	};
	const uint32_t *got = gpa_to_hva(vm, RESULTS);
	const uint8_t *in = gpa_to_hva(vm, IN_BUF);
	int i;

	for (i = 0; i < NR_RESULTS; i++)
		TEST_ASSERT(got[i] == want[i], "result %d is 0x%x, expected 0x%x",
			    i, got[i], want[i]);
	TEST_ASSERT(!memcmp(in, d->insb, 6), "rep insb wrote the wrong bytes");
	/* DF=1: element i of rep insw lands at IN_BUF+0x2e - 2*i. */
	for (i = 0; i < 3; i++)
		TEST_ASSERT(!memcmp(in + 0x2e - 2 * i, d->insw + 2 * i, 2),
			    "std; rep insw element %d misplaced", i);
	TEST_ASSERT(!memcmp(in + 0x40, d->insl, 8), "rep insl wrote the wrong bytes");
	TEST_ASSERT_EQ(in[0x60], 0xd5);
}

/* Runs @code in @mode on @dev, checking every exit and the results. */
static void run_pio(const struct test_dev *dev, enum guest_mode mode,
		    const struct guest_code *code)
{
	static struct pio_data d;
	struct exit_step steps[] = {
		PIO_OUT(0x10, 1, 0x11), PIO_OUT(0x12, 2, 0x2233),
		PIO_OUT(0x14, 4, 0x44556677), PIO_OUT(0x18, 1, 0x88),
		PIO_OUT(0x18, 2, 0x99aa), PIO_OUT(0x18, 4, 0xbbccddee),
		PIO_IN(0x20, 1, 0x5a), PIO_IN(0x22, 2, 0x1234),
		PIO_IN(0x24, 4, 0x89abcdef), PIO_IN(0x26, 1, 0x01),
		PIO_IN(0x26, 2, 0x0302), PIO_IN(0x26, 4, 0x07060504),
		PIO_OUTS(0x30, 1, 7, d.out), PIO_OUTS(0x32, 2, 5, d.out + 0x10),
		PIO_OUTS(0x34, 4, 3, d.out + 0x20), PIO_OUTS(0x36, 1, 4, d.outs_back),
		PIO_INS(0x38, 1, 6, d.insb), PIO_INS(0x3a, 2, 3, d.insw),
		PIO_INS(0x3c, 4, 2, d.insl), PIO_OUTS(0x3e, 1, 1, d.out + 0x40),
		PIO_IN(0x3e, 1, 0xd5), PIO_OUTS(0x40, 1, 3, d.out + 0x50),
	};
	/* yakvm moves a whole string (up to a page) per exit; KVM may split it. */
	struct exit_script script = { steps, sizeof(steps) / sizeof(steps[0]),
				      dev->is_yakvm };
	struct vcpu *v = vm_with_low_code(dev, mode, code);

	make_data(&d);
	guest_write(v->vm, OUT_BUF, d.out, sizeof(d.out));
	run_exit_script(v, &script);
	check_results(v->vm, &d, mode == MODE_REAL ? 0x100 : 0);
	vm_free(v->vm);
}

TEST_CASE(real_mode) { run_pio(ctx->dev, MODE_REAL, &pio16); }
TEST_CASE(prot32) { run_pio(ctx->dev, MODE_PROT32, &pio32); }
TEST_CASE(paged32) { run_pio(ctx->dev, MODE_PROT32_PAGED, &pio32); }
TEST_CASE(pae) { run_pio(ctx->dev, MODE_PAE, &pio32); }
TEST_CASE(long64) { run_pio(ctx->dev, MODE_LONG, &pio64); }

/*
 * Address-size overrides (0x67) on REP OUTSB: the string registers are
 * updated at the overridden width.  A 16-bit write keeps the register's
 * upper bits; a 32-bit write in 64-bit mode zero-extends (as every 32-bit
 * register write does).
 */
#define ADDR_BODY(esi, ecx)						\
	"mov $0x44, %dx\n mov $" esi ", %esi\n mov $" ecx ", %ecx\n"	\
	".byte 0x67\n rep outsb\n" SAVE("ecx", 0) SAVE("esi", 1)

GUEST_CODE16(addr32_in_16, ADDR_BODY(OUT(0), "2") ASM_UCALL_DONE);
GUEST_CODE32(addr16_in_32, ADDR_BODY("0xabcd0000+" OUT(0), "0x12340002")
	     ASM_UCALL_DONE);
GUEST_CODE64(addr32_in_64,
	"mov $0x44, %dx\n"
	"mov $0xabcd000000000000+" OUT(0) ", %rsi\n"
	"mov $0x1234000000000002, %rcx\n"
	".byte 0x67\n rep outsb\n"
	"mov %rsi, " XSTR(RESULTS64) "\n mov %rcx, " XSTR(RESULTS64) "+8\n"
	ASM_UCALL_DONE);

static void run_addr_size(const struct test_ctx *ctx, enum guest_mode mode,
			  const struct guest_code *code, uint64_t want_rsi,
			  uint64_t want_rcx)
{
	static const uint8_t two[2] = { 0x61, 0x62 };
	struct exit_step steps[] = { PIO_OUTS(0x44, 1, 2, two) };
	struct exit_script script = { steps, 1, false };
	struct vcpu *v = vm_with_low_code(ctx->dev, mode, code);
	uint64_t rsi, rcx;

	guest_write(v->vm, OUT_BUF, two, sizeof(two));
	run_exit_script(v, &script);
	if (mode == MODE_LONG) {
		rsi = *(uint64_t *)gpa_to_hva(v->vm, RESULTS64);
		rcx = *(uint64_t *)gpa_to_hva(v->vm, RESULTS64 + 8);
	} else {
		rcx = *(uint32_t *)gpa_to_hva(v->vm, RESULTS);
		rsi = *(uint32_t *)gpa_to_hva(v->vm, RESULTS + 4);
	}
	TEST_ASSERT(rsi == want_rsi && rcx == want_rcx,
		    "RSI 0x%llx RCX 0x%llx, expected 0x%llx 0x%llx",
		    (unsigned long long)rsi, (unsigned long long)rcx,
		    (unsigned long long)want_rsi, (unsigned long long)want_rcx);
	vm_free(v->vm);
}

TEST_CASE(addr32_in_real_mode)
{
	run_addr_size(ctx, MODE_REAL, &addr32_in_16, OUT_BUF + 2, 0);
}

TEST_CASE(addr16_in_prot32)
{
	run_addr_size(ctx, MODE_PROT32, &addr16_in_32, 0xabcd0000 + OUT_BUF + 2,
		      0x12340000);
}

TEST_CASE(addr32_in_long64)
{
	run_addr_size(ctx, MODE_LONG, &addr32_in_64, OUT_BUF + 2, 0);
}

/*
 * Long strings and empty ones: REP INSB of 5000 bytes and REP OUTSW of 3000
 * words, both across page boundaries (and the 2 MiB boundary of the large
 * pages), then REP with ECX = 0, which moves nothing and makes no exit.
 */
#define LONG_BUF	(GPA_SCRATCH - 100)
#define LONG_COUNT_B	5000
#define LONG_COUNT_W	3000
#define LONG_MEM_SIZE	(4ULL << 20)

#define LONG_STRINGS_BODY						\
	"cld\n mov $0x60, %dx\n"					\
	STRING_OP(0x60, "edi", XSTR(LONG_BUF), 5000, "rep insb", 0)	\
	STRING_OP(0x62, "esi", XSTR(LONG_BUF), 3000, "rep outsw", 2)	\
	STRING_OP(0x64, "esi", XSTR(LONG_BUF), 0, "rep outsb", 4)	\
	STRING_OP(0x64, "edi", XSTR(LONG_BUF), 0, "rep insb", 6)	\
	ASM_UCALL_DONE

GUEST_CODE32(long_strings32, LONG_STRINGS_BODY);
GUEST_CODE64(long_strings64, LONG_STRINGS_BODY);

static void run_long_strings(const struct test_ctx *ctx, enum guest_mode mode,
			     const struct guest_code *code)
{
	static uint8_t in[LONG_COUNT_B], out[2 * LONG_COUNT_W];
	const struct exit_step steps[] = {
		PIO_INS(0x60, 1, LONG_COUNT_B, in),
		PIO_OUTS(0x62, 2, LONG_COUNT_W, out),
	};
	const uint32_t want[8] = {
		0, LONG_BUF + LONG_COUNT_B, 0, LONG_BUF + 2 * LONG_COUNT_W,
		0, LONG_BUF, 0, LONG_BUF,
	};
	struct exit_script script = { steps, 2, false };
	struct vm *vm = vm_create(ctx->dev, LONG_MEM_SIZE);
	struct vcpu *v = vcpu_add(vm, 0);
	const uint32_t *got;
	size_t i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 13 + 1);
	/* OUTSW reads back what INSB wrote, and 1000 bytes beyond. */
	memcpy(out, in, sizeof(in));
	memset(out + sizeof(in), 0x3c, sizeof(out) - sizeof(in));
	guest_write(vm, LONG_BUF + sizeof(in), out + sizeof(in), sizeof(out) - sizeof(in));
	vcpu_enter_low_code(v, mode, code);
	run_exit_script(v, &script);
	TEST_ASSERT(!memcmp(gpa_to_hva(vm, LONG_BUF), in, sizeof(in)),
		    "REP INSB across pages wrote the wrong bytes");
	got = gpa_to_hva(vm, RESULTS);
	for (i = 0; i < 8; i++)
		TEST_ASSERT(got[i] == want[i], "result %zu is 0x%x, expected 0x%x", i,
			    got[i], want[i]);
	vm_free(vm);
}

TEST_CASE(long_strings_prot32) { run_long_strings(ctx, MODE_PROT32, &long_strings32); }
TEST_CASE(long_strings_pae) { run_long_strings(ctx, MODE_PAE, &long_strings32); }
TEST_CASE(long_strings_long64) { run_long_strings(ctx, MODE_LONG, &long_strings64); }

/*
 * A VMM may move RIP between an I/O exit and the next KVM_RUN (to redirect
 * the guest, say): then the I/O instruction is abandoned, not completed --
 * RIP stays where the VMM put it and IN writes no register (KVM checks the
 * RIP in complete_fast_pio_in/out).
 */
GUEST_CODE16(redirect,
	"mov $0x1111, %ax\n"
	"in $0x70, %al\n"
	"mov $1, %bx\n"
	ASM_UCALL_DONE
	"redirect_elsewhere:\n"
	"mov $2, %bx\n"
	ASM_UCALL_DONE);

extern const uint8_t redirect_elsewhere[];

static void run_redirect(const struct test_ctx *ctx, bool move_rip)
{
	struct vcpu *v = vm_with_low_code(ctx->dev, MODE_REAL, &redirect);
	uint8_t *data = (uint8_t *)v->run + KVM_PIO_PAGE_OFFSET * 4096;
	struct kvm_regs regs;
	struct ucall uc;

	vcpu_run(v);
	TEST_ASSERT(v->run->exit_reason == KVM_EXIT_IO && v->run->io.port == 0x70,
		    "%s", vcpu_exit_str(v));
	*data = 0x42;
	vcpu_get_regs(v, &regs);
	if (move_rip) {
		regs.rip = GPA_LOW_CODE + (redirect_elsewhere - redirect.start);
		vcpu_set_regs(v, &regs);
	}
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vcpu_get_regs(v, &regs);
	TEST_ASSERT_EQ(regs.rbx, move_rip ? 2 : 1);
	TEST_ASSERT_EQ(regs.rax & 0xffff, move_rip ? 0x1111 : 0x1142);
	vm_free(v->vm);
}

TEST_CASE(in_completes_on_next_run) { run_redirect(ctx, false); }
TEST_CASE(in_abandoned_when_rip_moves) { run_redirect(ctx, true); }
