// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_SET_USER_MEMORY_REGION: creating, moving and deleting slots, every
 * kind of bad request with KVM's errno, and a guest that sees slots change
 * between runs.  Where yakvm answers differently from KVM the device's
 * documented answer is checked (docs/testing.md).
 */
#include <cpuid.h>
#include <pthread.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "diff.h"
#include "guest.h"
#include "modes.h"

#define MIB		(1ULL << 20)
#define KERNEL_ADDR	0xffff888000000000ULL
/* A sanity bound: KVM 6.1 has 32764 slots per address space, yakvm 64. */
#define MAX_SLOTS_TO_FILL	65536

static void *anon(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	TEST_ASSERT(p != MAP_FAILED, "mmap of %llu bytes", (unsigned long long)size);
	return p;
}

/* One past the highest guest-physical address (the host's MAXPHYADDR). */
static uint64_t max_gpa(void)
{
	unsigned int eax = 0, ebx, ecx, edx;

	if (!__get_cpuid(0x80000008, &eax, &ebx, &ecx, &edx))
		test_fail("no CPUID leaf 0x80000008");
	return 1ULL << (eax & 0xff);
}

static long cap(struct vm *vm, long c)
{
	return EXPECT_OK(ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, c));
}

/* ---------------------------------------------------------------- */
/* What the guest sees: probes of guest-physical addresses           */

#define MMIO_MARK	0x6d6d696f6d6d696fULL	/* what unbacked reads return */
#define PROBE_BASE	0x80000000ULL		/* the tests' slots, above the library's RAM */
#define MAX_PROBES	32768

/* A guest-physical address and what the guest must read there (MMIO_MARK: an MMIO exit). */
struct probe {
	uint64_t gpa;
	uint64_t want;
};

static struct probe probes[MAX_PROBES];
static uint64_t nr_probes;

static void guest_probe(void)
{
	uint64_t i;

	for (i = 0; i < nr_probes; i++) {
		uint64_t got = *(volatile uint64_t *)probes[i].gpa;

		if (got != probes[i].want)
			guest_assert_fail(__FILE__, __LINE__, "the guest's view",
					  "read 0x%lx at 0x%lx, expected 0x%lx", got,
					  probes[i].gpa, probes[i].want);
	}
	/* The table is the device's (too_many_slots: its number of slots): not kept. */
	guest_memset(probes, 0, nr_probes * sizeof(probes[0]));
	nr_probes = 0;
}

/* A VM with the library's RAM in slot 0, ready to probe (slots 1 and up are the test's). */
static struct vcpu *probing_vm(const struct test_ctx *ctx)
{
	return vm_with_long_code(ctx->dev, guest_probe, 0);
}

/*
 * Runs the probing guest over @n probes: every read must return its
 * slot's memory, or exit as MMIO where no slot is (answered MMIO_MARK).
 */
static void expect_guest_sees(struct vcpu *v, const struct probe *p, size_t n)
{
	struct ucall uc;
	size_t i;

	TEST_ASSERT(n <= MAX_PROBES, "too many probes");
	memcpy(guest_global(v->vm, probes), p, n * sizeof(*p));
	guest_global(v->vm, nr_probes) = n;
	vcpu_enter_long(v, guest_probe, 0);
	for (;;) {
		vcpu_run(v);
		if (v->run->exit_reason == KVM_EXIT_MMIO) {
			for (i = 0; i < n; i++)
				if (p[i].gpa == v->run->mmio.phys_addr && p[i].want == MMIO_MARK)
					break;
			TEST_ASSERT(i < n && !v->run->mmio.is_write,
				    "unexpected MMIO exit: %s", vcpu_exit_str(v));
			memcpy(v->run->mmio.data, &(uint64_t){ MMIO_MARK }, 8);
			continue;
		}
		switch (vcpu_get_ucall(v, &uc)) {
		case UCALL_DONE:
			return;
		case UCALL_ASSERT:
			test_fail("guest assertion: %s", uc.message);
		default:
			test_fail("expected the probe's end, got %s", vcpu_exit_str(v));
		}
	}
}

/* Writes a value at @hva that names @gpa, and returns the probe that must see it. */
static struct probe mark(uint64_t hva, uint64_t gpa)
{
	uint64_t value = 0x5107000000000000ULL | gpa;

	*(uint64_t *)hva = value;
	return (struct probe){ gpa, value };
}

static struct probe unbacked(uint64_t gpa)
{
	return (struct probe){ gpa, MMIO_MARK };
}

TEST_CASE(create_and_delete)
{
	struct vcpu *v = probing_vm(ctx);
	struct vm *vm = v->vm;
	uint64_t hva = (uint64_t)anon(2 * MIB), gpa = PROBE_BASE;
	struct probe p[2];

	EXPECT_OK(vm_set_region_raw(vm, 1, 0, gpa, 2 * MIB, hva));
	p[0] = mark(hva, gpa);
	p[1] = mark(hva + 2 * MIB - 8, gpa + 2 * MIB - 8);
	expect_guest_sees(v, p, 2);
	EXPECT_OK(vm_set_region_raw(vm, 1, 0, gpa, 0, hva));
	p[0] = unbacked(gpa);
	p[1] = unbacked(gpa + 2 * MIB - 8);
	expect_guest_sees(v, p, 2);
	/* Deleting a slot that does not exist (any more). */
	EXPECT_ERRNO(vm_set_region_raw(vm, 1, 0, gpa, 0, hva), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, 5, 0, gpa, 0, hva), EINVAL);
	/* The same range again, in another slot: the same memory. */
	EXPECT_OK(vm_set_region_raw(vm, 7, 0, gpa, 2 * MIB, hva));
	p[0] = mark(hva, gpa);
	p[1] = mark(hva + 2 * MIB - 8, gpa + 2 * MIB - 8);
	expect_guest_sees(v, p, 2);
	vm_free(vm);
	munmap((void *)hva, 2 * MIB);
}

TEST_NO_GUEST(unaligned)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	uint64_t hva = (uint64_t)anon(2 * MIB);

	EXPECT_ERRNO(vm_set_region_raw(vm, 0, 0, 0x800, MIB, hva), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, 0, 0, 0, MIB + 0x800, hva), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, 0, 0, 0, MIB, hva + 0x800), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, 0, 0, 0, 1, hva), EINVAL);
	munmap((void *)hva, 2 * MIB);
	vm_free(vm);
}

TEST_CASE(overlap)
{
	struct vcpu *v = probing_vm(ctx);
	struct vm *vm = v->vm;
	uint64_t hva = (uint64_t)anon(4 * MIB), b = PROBE_BASE;
	struct probe p[4];

	EXPECT_OK(vm_set_region_raw(vm, 1, 0, b + MIB, MIB, hva));
	EXPECT_ERRNO(vm_set_region_raw(vm, 2, 0, b + MIB, MIB, hva), EEXIST);
	EXPECT_ERRNO(vm_set_region_raw(vm, 2, 0, b + MIB + MIB / 2, MIB, hva), EEXIST);
	EXPECT_ERRNO(vm_set_region_raw(vm, 2, 0, b + MIB / 2, MIB, hva), EEXIST);
	EXPECT_ERRNO(vm_set_region_raw(vm, 2, 0, b + MIB + 4096, 4096, hva), EEXIST);
	EXPECT_ERRNO(vm_set_region_raw(vm, 2, 0, b, 4 * MIB, hva), EEXIST);
	/* Adjacent on both sides is fine, and each slot shows its own memory. */
	EXPECT_OK(vm_set_region_raw(vm, 2, 0, b + 2 * MIB, MIB, hva + MIB));
	EXPECT_OK(vm_set_region_raw(vm, 3, 0, b, MIB, hva + 2 * MIB));
	p[0] = mark(hva + 2 * MIB + MIB - 8, b + MIB - 8);	/* slot 3's last word */
	p[1] = mark(hva, b + MIB);				/* slot 1's first */
	p[2] = mark(hva + MIB, b + 2 * MIB);			/* slot 2's first */
	p[3] = unbacked(b + 3 * MIB);
	expect_guest_sees(v, p, 4);
	vm_free(vm);
	munmap((void *)hva, 4 * MIB);
}

/* The end of user space (TASK_SIZE_MAX): 2^47 or, with 5-level paging, 2^56, less a page. */
static uint64_t user_space_top(void)
{
	void *p = mmap((void *)(1ULL << 47), 4096, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		return (1ULL << 47) - 4096;
	munmap(p, 4096);
	return (1ULL << 56) - 4096;
}

TEST_NO_GUEST(wrapping_and_out_of_range)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	uint64_t hva = (uint64_t)anon(2 * MIB), user_top = user_space_top();

	/* guest_phys_addr + memory_size overflows. */
	EXPECT_ERRNO(vm_set_region_raw(vm, 0, 0, -4096ULL, 2 * 4096, hva), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, 0, 0, -MIB, 2 * MIB, hva), EINVAL);
	/* userspace_addr + memory_size overflows, or is not user memory. */
	EXPECT_ERRNO(vm_set_region_raw(vm, 0, 0, 0, 2 * 4096, -4096ULL), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, 0, 0, 0, MIB, KERNEL_ADDR), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, 0, 0, 0, 4096, user_top), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, 0, 0, 0, 2 * 4096, user_top - 4096), EINVAL);
	/* The last user page is fine (it need not be mapped yet). */
	EXPECT_OK(vm_set_region_raw(vm, 0, 0, 0, 4096, user_top - 4096));
	EXPECT_OK(vm_set_region_raw(vm, 0, 0, 0, 0, user_top - 4096));
	/* Both refuse guest-physical addresses beyond the host's MAXPHYADDR. */
	EXPECT_OK(vm_set_region_raw(vm, 0, 0, max_gpa() - MIB, MIB, hva));
	EXPECT_ERRNO(vm_set_region_raw(vm, 1, 0, max_gpa(), MIB, hva + MIB), EINVAL);
	EXPECT_OK(vm_set_region_raw(vm, 0, 0, max_gpa() - MIB, 0, hva));
	EXPECT_ERRNO(vm_set_region_raw(vm, 0, 0, max_gpa() - MIB, 2 * MIB, hva), EINVAL);
	munmap((void *)hva, 2 * MIB);
	vm_free(vm);
}

TEST_NO_GUEST(bad_pointer)
{
	struct vm *vm = vm_create(ctx->dev, 0);

	EXPECT_ERRNO(ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, NULL), EFAULT);
	EXPECT_ERRNO(ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, (void *)KERNEL_ADDR), EFAULT);
	vm_free(vm);
}

TEST_CASE(flags)
{
	struct vcpu *v = probing_vm(ctx);
	struct vm *vm = v->vm;
	uint64_t hva = (uint64_t)anon(2 * MIB), b = PROBE_BASE;
	struct probe p;

	EXPECT_ERRNO(vm_set_region_raw(vm, 1, 1u << 2, b, MIB, hva), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, 1, 1u << 31, b, MIB, hva), EINVAL);
	/* A read-only slot reads as memory (its writes: mmio/readonly_slot_*). */
	EXPECT_OK(vm_set_region_raw(vm, 1, KVM_MEM_READONLY, b, MIB, hva));
	p = mark(hva + 0x800, b + 0x800);
	expect_guest_sees(v, &p, 1);
	/* Dirty logging (tests/dirty_log.c has what it does). */
	EXPECT_OK(vm_set_region_raw(vm, 2, KVM_MEM_LOG_DIRTY_PAGES, b + MIB, MIB, hva + MIB));
	vm_free(vm);
	munmap((void *)hva, 2 * MIB);
}

/*
 * Slot ids: below KVM_CAP_NR_MEMSLOTS in each address space; there are
 * KVM_CAP_MULTI_ADDRESS_SPACE of those (x86 KVM: 2, for SMM; yakvm: 1).
 */
TEST_NO_GUEST(slot_ids)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	long nr_slots = cap(vm, KVM_CAP_NR_MEMSLOTS);
	long nr_as = cap(vm, KVM_CAP_MULTI_ADDRESS_SPACE);
	uint64_t hva = (uint64_t)anon(2 * MIB);

	if (nr_as < 1)
		nr_as = 1;
	EXPECT_OK(vm_set_region_raw(vm, nr_slots - 1, 0, 0, 4096, hva));
	EXPECT_ERRNO(vm_set_region_raw(vm, nr_slots, 0, 4096, 4096, hva), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, 0xffff, 0, 4096, 4096, hva), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, nr_as << 16, 0, 4096, 4096, hva), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, 0xffffffff, 0, 4096, 4096, hva), EINVAL);
	if (nr_as > 1)
		EXPECT_OK(vm_set_region_raw(vm, (nr_as - 1) << 16, 0, 0, 4096, hva));
	if (ctx->dev->is_yakvm)
		TEST_ASSERT_EQ(nr_as, 1);	/* no SMM address space */
	munmap((void *)hva, 2 * MIB);
	vm_free(vm);
}

/*
 * Every slot id in use: the library's RAM in slot 0, one page in each of
 * the others, which the guest must all see; the next id is refused, and a
 * freed id can be used again.
 */
TEST_CASE_OPTS(too_many_slots, .timeout_s = 120)
{
	struct vcpu *v = probing_vm(ctx);
	struct vm *vm = v->vm;
	long nr_slots = cap(vm, KVM_CAP_NR_MEMSLOTS), i;
	static struct probe p[MAX_PROBES];
	uint64_t hva;

	if (nr_slots > MAX_SLOTS_TO_FILL || nr_slots > MAX_PROBES)
		test_skip("KVM_CAP_NR_MEMSLOTS is %ld: too many to fill here", nr_slots);
	hva = (uint64_t)anon((nr_slots + 1) * 4096);
	for (i = 1; i < nr_slots; i++) {
		EXPECT_OK(vm_set_region_raw(vm, i, 0, PROBE_BASE + i * 4096, 4096,
					    hva + i * 4096));
		p[i - 1] = mark(hva + i * 4096, PROBE_BASE + i * 4096);
	}
	EXPECT_ERRNO(vm_set_region_raw(vm, nr_slots, 0, PROBE_BASE + nr_slots * 4096, 4096,
				       hva + nr_slots * 4096), EINVAL);
	expect_guest_sees(v, p, nr_slots - 1);
	/* A freed id can be used again. */
	EXPECT_OK(vm_set_region_raw(vm, 3, 0, PROBE_BASE + 3 * 4096, 0, hva + 3 * 4096));
	EXPECT_OK(vm_set_region_raw(vm, 3, 0, PROBE_BASE, 4096, hva));
	p[0] = mark(hva, PROBE_BASE);
	p[1] = unbacked(PROBE_BASE + 3 * 4096);
	expect_guest_sees(v, p, 2);
	test_log("%ld slots, %ld of them one page each, all seen by the guest", nr_slots,
		 nr_slots - 1);
	vm_free(vm);
	munmap((void *)hva, (nr_slots + 1) * 4096);
}

/* What may change in an existing slot: only its base (a move), which the guest sees. */
TEST_CASE(modify)
{
	struct vcpu *v = probing_vm(ctx);
	struct vm *vm = v->vm;
	uint64_t hva = (uint64_t)anon(4 * MIB), b = PROBE_BASE;
	struct probe p[3];

	EXPECT_OK(vm_set_region_raw(vm, 1, 0, b, MIB, hva));
	EXPECT_OK(vm_set_region_raw(vm, 2, 0, b + 2 * MIB, MIB, hva + MIB));
	EXPECT_OK(vm_set_region_raw(vm, 1, 0, b, MIB, hva));	/* no change */
	EXPECT_ERRNO(vm_set_region_raw(vm, 1, 0, b, 2 * MIB, hva), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, 1, 0, b, MIB, hva + MIB), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, 1, KVM_MEM_READONLY, b, MIB, hva), EINVAL);
	/* Moves: onto free space, and not onto another slot. */
	EXPECT_OK(vm_set_region_raw(vm, 1, 0, b + 3 * MIB, MIB, hva));
	p[0] = mark(hva + 0x100, b + 3 * MIB + 0x100);	/* the memory went along */
	p[1] = unbacked(b + 0x100);			/* and left its old place */
	p[2] = mark(hva + MIB, b + 2 * MIB);		/* the other slot stayed */
	expect_guest_sees(v, p, 3);
	EXPECT_ERRNO(vm_set_region_raw(vm, 1, 0, b + 2 * MIB + MIB / 2, MIB, hva), EEXIST);
	EXPECT_OK(vm_set_region_raw(vm, 1, 0, b + MIB, MIB, hva));
	p[0] = mark(hva + 0x100, b + MIB + 0x100);
	p[1] = unbacked(b + 3 * MIB + 0x100);
	expect_guest_sees(v, p, 3);
	vm_free(vm);
	munmap((void *)hva, 4 * MIB);
}

/* A slot over memory the VMM unmapped is accepted; touching it fails KVM_RUN. */
GUEST_CODE32(read_1m,
	"mov 0x100000, %eax\n"
	ASM_UCALL_DONE);

TEST_CASE(unbacked_userspace_addr)
{
	struct vcpu *v = vm_with_low_code(ctx->dev, MODE_PROT32, &read_1m);
	void *hole = mmap(NULL, MIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TEST_ASSERT(hole != MAP_FAILED, "mmap");
	EXPECT_OK(vm_set_region_raw(v->vm, 1, 0, MIB, MIB, (uint64_t)hole));
	EXPECT_ERRNO(vcpu_run_raw(v), EFAULT);
	vm_free(v->vm);
	munmap(hole, MIB);
}

/* ---------------------------------------------------------------- */
/* A guest sees slots come, move and go between runs                 */

#define SLOT_A_GPA	(256 * MIB)
#define SLOT_B_GPA	(512 * MIB)

static void guest_watch_slots(void)
{
	uint64_t i;

	for (i = 1;; i++) {
		uint64_t a = *(volatile uint64_t *)SLOT_A_GPA;
		uint64_t b = *(volatile uint64_t *)SLOT_B_GPA;

		*(volatile uint64_t *)(SLOT_A_GPA + 8) = i;
		GUEST_SYNC(a, b);
	}
}

/*
 * Runs the guest to its next SYNC, answering unbacked accesses; checks what
 * it read at A and B, and whether its write at A+8 reached RAM (@a_is_ram).
 */
static void expect_view(struct vcpu *v, uint64_t want_a, uint64_t want_b,
			bool a_is_ram, uint64_t iteration)
{
	bool wrote_mmio = false;
	struct ucall uc;

	for (;;) {
		vcpu_run(v);
		if (vcpu_get_ucall(v, &uc) == UCALL_SYNC)
			break;
		TEST_ASSERT(v->run->exit_reason == KVM_EXIT_MMIO, "%s", vcpu_exit_str(v));
		if (v->run->mmio.is_write) {
			TEST_ASSERT_EQ(v->run->mmio.phys_addr, SLOT_A_GPA + 8);
			wrote_mmio = true;
		} else {
			memcpy(v->run->mmio.data, &(uint64_t){ MMIO_MARK }, 8);
		}
	}
	TEST_ASSERT(uc.args[0] == want_a && uc.args[1] == want_b,
		    "iteration %llu: guest read A=0x%llx B=0x%llx, expected 0x%llx 0x%llx",
		    (unsigned long long)iteration, (unsigned long long)uc.args[0],
		    (unsigned long long)uc.args[1], (unsigned long long)want_a,
		    (unsigned long long)want_b);
	TEST_ASSERT(wrote_mmio == !a_is_ram, "iteration %llu: write at A+8 went to %s",
		    (unsigned long long)iteration, wrote_mmio ? "MMIO" : "RAM");
	if (a_is_ram)
		TEST_ASSERT_EQ(*(uint64_t *)gpa_to_hva(v->vm, SLOT_A_GPA + 8), iteration);
}

TEST_CASE(guest_sees_slot_changes)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_watch_slots, 0);
	uint64_t *one, *two;

	one = vm_add_memory(v->vm, 1, SLOT_A_GPA, 2 * MIB, 0);
	one[0] = 0x1111;
	expect_view(v, 0x1111, MMIO_MARK, true, 1);
	vm_move_memory(v->vm, 1, SLOT_B_GPA);
	expect_view(v, MMIO_MARK, 0x1111, false, 2);
	TEST_ASSERT_EQ(one[1], 1);	/* the write of iteration 1 moved along */
	vm_remove_memory(v->vm, 1);
	expect_view(v, MMIO_MARK, MMIO_MARK, false, 3);
	two = vm_add_memory(v->vm, 2, SLOT_A_GPA, 4096, 0);
	two[0] = 0x2222;
	expect_view(v, 0x2222, MMIO_MARK, true, 4);
	vm_move_memory(v->vm, 2, SLOT_A_GPA + 4 * MIB);
	one = vm_add_memory(v->vm, 1, SLOT_B_GPA, 4096, KVM_MEM_READONLY);
	one[0] = 0x3333;
	expect_view(v, MMIO_MARK, 0x3333, false, 5);
	vm_free(v->vm);
}

/* ---------------------------------------------------------------- */
/* A slot deleted while a vCPU runs                                 */

#define SPIN_COUNT_GPA	GPA_SCRATCH
#define SLOT_VALUE	0x5151515151515151ULL

/* Spins reading the slot until the read stops returning its value. */
static void guest_spin_on_slot(void)
{
	volatile uint64_t *count = (volatile uint64_t *)SPIN_COUNT_GPA;

	while (*(volatile uint64_t *)SLOT_A_GPA == SLOT_VALUE)
		(*count)++;
}

static void *run_until_exit(void *arg)
{
	vcpu_run(arg);
	return NULL;
}

/*
 * Deleting a slot takes it away from a vCPU that is in the guest at that
 * moment (its nested mapping and TLB entries go): the guest's next read
 * exits as MMIO instead of reaching the freed memory.  How long that took
 * is printed; only a guest still reading HANG_S after the deletion fails
 * (a hang, not a slow machine).
 */
#define HANG_S		20

/*
 * The spin count is timing: it is in RAX at the exit, and the arithmetic
 * flags are those of its last increment or of the compare (CF, PF, AF, ZF,
 * SF, OF: docs/testing.md, "Masks").
 */
static void mask_spin_count(struct vcpu_snapshot *s)
{
	s->regs.rax = 0;
	s->regs.rflags &= ~0x8d5ULL;
}

TEST_CASE_OPTS(slot_deleted_while_running, .compare_mask = mask_spin_count)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_spin_on_slot, 0);
	volatile uint64_t *count = gpa_to_hva(v->vm, SPIN_COUNT_GPA);
	struct timespec deadline;
	uint64_t *mem, deleted;
	pthread_t t;

	mem = vm_add_memory(v->vm, 1, SLOT_A_GPA, 4096, 0);
	*mem = SLOT_VALUE;
	TEST_ASSERT(!pthread_create(&t, NULL, run_until_exit, v), "pthread_create");
	while (*count < 1000)
		usleep(1000);
	vm_remove_memory(v->vm, 1);
	deleted = now_ns();
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += HANG_S;
	TEST_ASSERT(!pthread_timedjoin_np(t, NULL, &deadline),
		    "the guest kept reading the deleted slot for %d s", HANG_S);
	test_log("the guest's read exited %llu ms after the deletion",
		 (unsigned long long)((now_ns() - deleted) / 1000000));
	TEST_ASSERT(v->run->exit_reason == KVM_EXIT_MMIO &&
		    v->run->mmio.phys_addr == SLOT_A_GPA && !v->run->mmio.is_write,
		    "%s", vcpu_exit_str(v));
	vm_free(v->vm);
}
