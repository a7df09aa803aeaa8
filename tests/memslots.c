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

TEST_CASE(create_and_delete)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	uint64_t hva = (uint64_t)anon(2 * MIB);

	EXPECT_OK(vm_set_region_raw(vm, 0, 0, 0, 2 * MIB, hva));
	EXPECT_OK(vm_set_region_raw(vm, 0, 0, 0, 0, hva));
	/* Deleting a slot that does not exist (any more). */
	EXPECT_ERRNO(vm_set_region_raw(vm, 0, 0, 0, 0, hva), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, 5, 0, 0, 0, hva), EINVAL);
	/* The same range again, in another slot. */
	EXPECT_OK(vm_set_region_raw(vm, 7, 0, 0, 2 * MIB, hva));
	munmap((void *)hva, 2 * MIB);
	vm_free(vm);
}

TEST_CASE(unaligned)
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
	struct vm *vm = vm_create(ctx->dev, 0);
	uint64_t hva = (uint64_t)anon(4 * MIB);

	EXPECT_OK(vm_set_region_raw(vm, 0, 0, MIB, MIB, hva));
	EXPECT_ERRNO(vm_set_region_raw(vm, 1, 0, MIB, MIB, hva), EEXIST);
	EXPECT_ERRNO(vm_set_region_raw(vm, 1, 0, MIB + MIB / 2, MIB, hva), EEXIST);
	EXPECT_ERRNO(vm_set_region_raw(vm, 1, 0, MIB / 2, MIB, hva), EEXIST);
	EXPECT_ERRNO(vm_set_region_raw(vm, 1, 0, MIB + 4096, 4096, hva), EEXIST);
	EXPECT_ERRNO(vm_set_region_raw(vm, 1, 0, 0, 4 * MIB, hva), EEXIST);
	/* Adjacent on both sides is fine. */
	EXPECT_OK(vm_set_region_raw(vm, 1, 0, 2 * MIB, MIB, hva + MIB));
	EXPECT_OK(vm_set_region_raw(vm, 2, 0, 0, MIB, hva + 2 * MIB));
	munmap((void *)hva, 4 * MIB);
	vm_free(vm);
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

TEST_CASE(wrapping_and_out_of_range)
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

TEST_CASE(bad_pointer)
{
	struct vm *vm = vm_create(ctx->dev, 0);

	EXPECT_ERRNO(ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, NULL), EFAULT);
	EXPECT_ERRNO(ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, (void *)KERNEL_ADDR), EFAULT);
	vm_free(vm);
}

TEST_CASE(flags)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	uint64_t hva = (uint64_t)anon(2 * MIB);

	EXPECT_ERRNO(vm_set_region_raw(vm, 0, 1u << 2, 0, MIB, hva), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, 0, 1u << 31, 0, MIB, hva), EINVAL);
	EXPECT_OK(vm_set_region_raw(vm, 0, KVM_MEM_READONLY, 0, MIB, hva));
	/* Dirty logging (tests/dirty_log.c has what it does). */
	EXPECT_OK(vm_set_region_raw(vm, 1, KVM_MEM_LOG_DIRTY_PAGES, MIB, MIB, hva + MIB));
	munmap((void *)hva, 2 * MIB);
	vm_free(vm);
}

/*
 * Slot ids: below KVM_CAP_NR_MEMSLOTS in each address space; there are
 * KVM_CAP_MULTI_ADDRESS_SPACE of those (x86 KVM: 2, for SMM; yakvm: 1).
 */
TEST_CASE(slot_ids)
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

/* Every slot id in use, one page each: the next id is refused. */
TEST_CASE_OPTS(too_many_slots, .timeout_s = 120)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	long nr_slots = cap(vm, KVM_CAP_NR_MEMSLOTS);
	uint64_t hva;
	long i;

	if (nr_slots > MAX_SLOTS_TO_FILL)
		test_skip("KVM_CAP_NR_MEMSLOTS is %ld: too many to fill here", nr_slots);
	hva = (uint64_t)anon((nr_slots + 1) * 4096);
	for (i = 0; i < nr_slots; i++)
		EXPECT_OK(vm_set_region_raw(vm, i, 0, i * 4096, 4096, hva + i * 4096));
	EXPECT_ERRNO(vm_set_region_raw(vm, nr_slots, 0, nr_slots * 4096, 4096,
				       hva + nr_slots * 4096), EINVAL);
	/* A freed id can be used again. */
	EXPECT_OK(vm_set_region_raw(vm, 3, 0, 3 * 4096, 0, hva));
	EXPECT_OK(vm_set_region_raw(vm, 3, 0, nr_slots * 4096, 4096, hva));
	munmap((void *)hva, (nr_slots + 1) * 4096);
	vm_free(vm);
}

/* What may change in an existing slot: only its base (a move). */
TEST_CASE(modify)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	uint64_t hva = (uint64_t)anon(4 * MIB);

	EXPECT_OK(vm_set_region_raw(vm, 0, 0, 0, MIB, hva));
	EXPECT_OK(vm_set_region_raw(vm, 1, 0, 2 * MIB, MIB, hva + MIB));
	EXPECT_OK(vm_set_region_raw(vm, 0, 0, 0, MIB, hva));	/* no change */
	EXPECT_ERRNO(vm_set_region_raw(vm, 0, 0, 0, 2 * MIB, hva), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, 0, 0, 0, MIB, hva + MIB), EINVAL);
	EXPECT_ERRNO(vm_set_region_raw(vm, 0, KVM_MEM_READONLY, 0, MIB, hva), EINVAL);
	/* Moves: onto free space, and not onto another slot. */
	EXPECT_OK(vm_set_region_raw(vm, 0, 0, 3 * MIB, MIB, hva));
	EXPECT_ERRNO(vm_set_region_raw(vm, 0, 0, 2 * MIB + MIB / 2, MIB, hva), EEXIST);
	EXPECT_OK(vm_set_region_raw(vm, 0, 0, MIB, MIB, hva));
	munmap((void *)hva, 4 * MIB);
	vm_free(vm);
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
#define MMIO_MARK	0x6d6d696f6d6d696fULL	/* what unbacked reads return */

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
 * exits as MMIO instead of reaching the freed memory.
 */
/* RAX holds the spin count, RFLAGS the flags of its last increment: timing. */
static void mask_spin_count(struct vcpu_snapshot *s)
{
	s->regs.rax = 0;
	s->regs.rflags = 0;
}

TEST_CASE_OPTS(slot_deleted_while_running, .compare_mask = mask_spin_count)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_spin_on_slot, 0);
	volatile uint64_t *count = gpa_to_hva(v->vm, SPIN_COUNT_GPA);
	struct timespec deadline;
	uint64_t *mem;
	pthread_t t;

	mem = vm_add_memory(v->vm, 1, SLOT_A_GPA, 4096, 0);
	*mem = SLOT_VALUE;
	TEST_ASSERT(!pthread_create(&t, NULL, run_until_exit, v), "pthread_create");
	while (*count < 1000)
		usleep(1000);
	vm_remove_memory(v->vm, 1);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 2;
	TEST_ASSERT(!pthread_timedjoin_np(t, NULL, &deadline),
		    "the guest kept reading the deleted slot for 2 s");
	TEST_ASSERT(v->run->exit_reason == KVM_EXIT_MMIO &&
		    v->run->mmio.phys_addr == SLOT_A_GPA && !v->run->mmio.is_write,
		    "%s", vcpu_exit_str(v));
	vm_free(v->vm);
}
