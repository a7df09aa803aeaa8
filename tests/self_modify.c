// SPDX-License-Identifier: GPL-2.0
/*
 * A guest that rewrites its own page tables and its own code while it runs.
 * It builds a window of 4 KiB pages at 512 GiB (its PML4 entry 1), then:
 * remaps a data page to another physical page, to nothing, read-only and to
 * MMIO, with INVLPG after each change, and switches CR3 to other tables;
 * patches an instruction and executes it, also one that straddles two
 * pages, and remaps the second page under it; and does the same with an
 * MMIO store, whose bytes the hypervisor must fetch through the guest's
 * page tables as they are now (yakvm decodes it itself).  Every access must
 * see the mapping and the bytes as the guest last wrote them.
 */
#include "exits.h"
#include "guest.h"
#include "modes.h"

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_RW_P	(PTE_P | PTE_RW)
#define PF_VECTOR	14
#define PF_PRESENT	(1ULL << 0)
#define PF_WRITE	(1ULL << 1)

/* The window: PML4[1] -> PDPT -> PD -> one page table of 4 KiB pages. */
#define WINDOW_VA	(1ULL << 39)
#define GPA_W_PDPT	(GPA_SCRATCH + 0x0000)
#define GPA_W_PD	(GPA_SCRATCH + 0x1000)
#define GPA_W_PT	(GPA_SCRATCH + 0x2000)
#define GPA_ALT_PML4	(GPA_SCRATCH + 0x3000)	/* other tables for a CR3 switch */
#define GPA_ALT_PDPT	(GPA_SCRATCH + 0x4000)
#define GPA_ALT_PD	(GPA_SCRATCH + 0x5000)
#define GPA_ALT_PT	(GPA_SCRATCH + 0x6000)
#define GPA_DATA(n)	(GPA_SCRATCH + 0x10000 + (n) * PAGE_SIZE)	/* data pages */
#define GPA_CODE(n)	(GPA_SCRATCH + 0x20000 + (n) * PAGE_SIZE)	/* code pages */
#define WINDOW(n)	(WINDOW_VA + (n) * PAGE_SIZE)
#define MMIO_PAGE	(MMIO_GPA + 0x3000)
#define DATA_MARK(n)	(0xda7a000000000000ULL | (n))

static volatile uint64_t pf_count, pf_error, pf_addr;

static void invlpg(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static uint64_t read_cr3(void)
{
	uint64_t cr3;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	return cr3;
}

static void write_cr3(uint64_t cr3)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

/* Window page @n maps @gpa with @flags (0: not present). */
static void map(int n, uint64_t gpa, uint64_t flags)
{
	((volatile uint64_t *)GPA_W_PT)[n] = flags ? gpa | flags : 0;
	invlpg(WINDOW(n));
}

/* The guest's own tables for the window, hooked into the PML4 it runs on. */
static void build_window(void)
{
	guest_memset((void *)GPA_W_PDPT, 0, 3 * PAGE_SIZE);
	((volatile uint64_t *)GPA_W_PD)[0] = GPA_W_PT | PTE_RW_P;
	((volatile uint64_t *)GPA_W_PDPT)[0] = GPA_W_PD | PTE_RW_P;
	((volatile uint64_t *)GPA_PML4)[1] = GPA_W_PDPT | PTE_RW_P;
	write_cr3(read_cr3());
}

static void record_pf(struct ex_regs *regs)
{
	__asm__ volatile("mov %%cr2, %0" : "=r"(pf_addr));
	pf_error = regs->error_code;
	pf_count++;
	regs->rip += 3;			/* the 3-byte MOVs below */
}

static uint64_t load(uint64_t va)
{
	uint64_t v = va;

	__asm__ volatile("mov (%0), %0" : "+a"(v) : : "memory");	/* 48 8b 00 */
	return v;
}

static void store(uint64_t va, uint64_t v)
{
	__asm__ volatile("mov %1, (%0)" : : "a"(va), "d"(v) : "memory");	/* 48 89 10 */
}

/* Expects @what at @va to fault once with @error. */
static void expect_pf(uint64_t va, bool write, uint64_t error)
{
	uint64_t before = pf_count;

	if (write)
		store(va, 1);
	else
		load(va);
	GUEST_ASSERT_EQ(pf_count, before + 1);
	GUEST_ASSERT_EQ(pf_addr, va);
	GUEST_ASSERT_EQ(pf_error & (PF_PRESENT | PF_WRITE), error);
}

/* ---------------------------------------------------------------- */
/* Data pages                                                       */

static void guest_remap_data(void)
{
	guest_set_handler(PF_VECTOR, record_pf);
	build_window();
	map(0, GPA_DATA(1), PTE_RW_P);
	GUEST_ASSERT_EQ(load(WINDOW(0)), DATA_MARK(1));
	map(0, GPA_DATA(2), PTE_RW_P);
	GUEST_ASSERT_EQ(load(WINDOW(0)), DATA_MARK(2));
	store(WINDOW(0) + 8, 0x2222);			/* lands in page 2 */
	map(0, 0, 0);
	expect_pf(WINDOW(0), false, 0);
	map(0, GPA_DATA(1), PTE_P);			/* read-only (CR0.WP is set) */
	GUEST_ASSERT_EQ(load(WINDOW(0)), DATA_MARK(1));
	expect_pf(WINDOW(0) + 8, true, PF_PRESENT | PF_WRITE);
	map(0, MMIO_PAGE, PTE_RW_P);
	GUEST_ASSERT_EQ(load(WINDOW(0) + 16), 0x3333);	/* an MMIO read at MMIO_PAGE + 16 */
	map(0, GPA_DATA(1), PTE_RW_P);
	store(WINDOW(0) + 8, 0x1111);			/* lands in page 1 */
}

/* The same window page through other tables: CR3 switched and back. */
static void build_alt_tables(void)
{
	guest_memset((void *)GPA_ALT_PML4, 0, 4 * PAGE_SIZE);
	((volatile uint64_t *)GPA_ALT_PML4)[0] = ((volatile uint64_t *)GPA_PML4)[0];
	((volatile uint64_t *)GPA_ALT_PML4)[1] = GPA_ALT_PDPT | PTE_RW_P;
	((volatile uint64_t *)GPA_ALT_PDPT)[0] = GPA_ALT_PD | PTE_RW_P;
	((volatile uint64_t *)GPA_ALT_PD)[0] = GPA_ALT_PT | PTE_RW_P;
	((volatile uint64_t *)GPA_ALT_PT)[0] = GPA_DATA(3) | PTE_RW_P;
}

static void guest_switch_cr3(void)
{
	uint64_t cr3 = read_cr3();
	int i;

	build_window();
	build_alt_tables();
	map(0, GPA_DATA(1), PTE_RW_P);
	for (i = 0; i < 3; i++) {
		GUEST_ASSERT_EQ(load(WINDOW(0)), DATA_MARK(1));
		write_cr3(GPA_ALT_PML4);
		GUEST_ASSERT_EQ(load(WINDOW(0)), DATA_MARK(3));
		write_cr3(cr3);
	}
	/* Changing the inactive tables, then switching to them. */
	((volatile uint64_t *)GPA_ALT_PT)[0] = GPA_DATA(2) | PTE_RW_P;
	write_cr3(GPA_ALT_PML4);
	GUEST_ASSERT_EQ(load(WINDOW(0)), DATA_MARK(2));
	write_cr3(cr3);
}

/* ---------------------------------------------------------------- */
/* Code                                                             */

/*
 * "mov $imm32, %eax; ret" at @va, its immediate's last three bytes and the
 * RET on the next page when @va is 2 bytes before a page boundary.
 */
static void put_mov_eax(uint64_t va, uint32_t imm)
{
	volatile uint8_t *p = (volatile uint8_t *)va;
	int i;

	p[0] = 0xb8;
	for (i = 0; i < 4; i++)
		p[1 + i] = imm >> (8 * i);
	p[5] = 0xc3;
}

static uint32_t call_at(uint64_t va)
{
	uint32_t (*fn)(void) = (uint32_t (*)(void))va;

	return fn();
}

#define STRADDLE	(WINDOW(2) - 2)	/* B8 and one immediate byte on page 1 */

static void guest_patch_code(void)
{
	build_window();
	map(1, GPA_CODE(0), PTE_RW_P);
	map(2, GPA_CODE(1), PTE_RW_P);
	put_mov_eax(WINDOW(1), 0x11111111);
	GUEST_ASSERT_EQ(call_at(WINDOW(1)), 0x11111111);
	put_mov_eax(WINDOW(1), 0x22222222);		/* patched, then run */
	GUEST_ASSERT_EQ(call_at(WINDOW(1)), 0x22222222);
	put_mov_eax(STRADDLE, 0x33333333);		/* across the boundary */
	GUEST_ASSERT_EQ(call_at(STRADDLE), 0x33333333);
	((volatile uint8_t *)WINDOW(2))[1] = 0x44;	/* patch on the second page only */
	GUEST_ASSERT_EQ(call_at(STRADDLE), 0x33443333);
	/* Another physical page under the second half: the host wrote its bytes. */
	map(2, GPA_CODE(2), PTE_RW_P);
	GUEST_ASSERT_EQ(call_at(STRADDLE), 0x77665533);
	map(2, GPA_CODE(1), PTE_RW_P);
	GUEST_ASSERT_EQ(call_at(STRADDLE), 0x33443333);
}

/*
 * "movl $imm32, (%rbx); ret" (C7 03 imm32 C3) straddling the pages, with
 * RBX at MMIO: an exit whose data is the immediate as the bytes are now.
 */
#define MMIO_STORE	(WINDOW(2) - 3)	/* C7 03 and one immediate byte on page 1 */

static void put_mmio_store(uint64_t va, uint32_t imm)
{
	volatile uint8_t *p = (volatile uint8_t *)va;
	int i;

	p[0] = 0xc7;
	p[1] = 0x03;
	for (i = 0; i < 4; i++)
		p[2 + i] = imm >> (8 * i);
	p[6] = 0xc3;
}

static void call_with_rbx(uint64_t va, uint64_t rbx)
{
	__asm__ volatile("call *%0" : : "r"(va), "b"(rbx) : "memory");
}

static void guest_patch_mmio_store(void)
{
	build_window();
	map(1, GPA_CODE(0), PTE_RW_P);
	map(2, GPA_CODE(1), PTE_RW_P);
	put_mmio_store(MMIO_STORE, 0x11111111);
	call_with_rbx(MMIO_STORE, MMIO_GPA);
	put_mmio_store(MMIO_STORE, 0x22222222);
	call_with_rbx(MMIO_STORE, MMIO_GPA + 4);
	((volatile uint8_t *)WINDOW(2))[2] = 0x55;	/* second page only */
	call_with_rbx(MMIO_STORE, MMIO_GPA + 8);
	map(2, GPA_CODE(3), PTE_RW_P);			/* the host's bytes */
	call_with_rbx(MMIO_STORE, MMIO_GPA + 12);
}

/* ---------------------------------------------------------------- */
/* The VMM                                                          */

static void put_data_marks(struct vm *vm)
{
	int n;

	for (n = 1; n <= 3; n++)
		*(uint64_t *)gpa_to_hva(vm, GPA_DATA(n)) = DATA_MARK(n);
}

TEST_CASE(remap_data_page)
{
	static const struct exit_step steps[] = {
		MMIO_READ(MMIO_PAGE + 16, 8, 0x3333),
	};
	struct exit_script script = { steps, 1, false };
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_remap_data, 0);

	put_data_marks(v->vm);
	run_exit_script(v, &script);
	TEST_ASSERT_EQ(*(uint64_t *)gpa_to_hva(v->vm, GPA_DATA(2) + 8), 0x2222);
	TEST_ASSERT_EQ(*(uint64_t *)gpa_to_hva(v->vm, GPA_DATA(1) + 8), 0x1111);
	vm_free(v->vm);
}

TEST_CASE(switch_cr3)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_switch_cr3, 0);
	struct ucall uc;

	put_data_marks(v->vm);
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

TEST_CASE(patch_code)
{
	/* What the guest finds on code page 2: the rest of "mov $0x776655.., %eax; ret". */
	static const uint8_t second_half[] = { 0x55, 0x66, 0x77, 0xc3 };
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_patch_code, 0);
	struct ucall uc;

	guest_write(v->vm, GPA_CODE(2), second_half, sizeof(second_half));
	vcpu_run_expect_ucall(v, UCALL_DONE, &uc);
	vm_free(v->vm);
}

TEST_CASE(patch_mmio_store)
{
	/* Code page 3: the rest of "movl $0x998877.., (%rbx); ret". */
	static const uint8_t second_half[] = { 0x77, 0x88, 0x99, 0xc3 };
	static const struct exit_step steps[] = {
		MMIO_WRITE(MMIO_GPA, 4, 0x11111111),
		MMIO_WRITE(MMIO_GPA + 4, 4, 0x22222222),
		MMIO_WRITE(MMIO_GPA + 8, 4, 0x55222222),
		MMIO_WRITE(MMIO_GPA + 12, 4, 0x99887722),
	};
	struct exit_script script = { steps, 4, false };
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_patch_mmio_store, 0);

	guest_write(v->vm, GPA_CODE(3), second_half, sizeof(second_half));
	run_exit_script(v, &script);
	vm_free(v->vm);
}
