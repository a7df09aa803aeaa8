// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty logging (api.rst 4.8 KVM_GET_DIRTY_LOG, 4.118 KVM_CLEAR_DIRTY_LOG,
 * 7.18 KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2): a slot with
 * KVM_MEM_LOG_DIRTY_PAGES reports exactly the pages written since the last
 * report -- by guest stores, string instructions, and the kernel itself
 * (an INS that completes into guest memory) -- and nothing else: not pages
 * only read, not writes that went to MMIO next to the slot.  Logging is
 * switched on and off on a live slot, and pages written before it was on
 * are not reported.  With manual protection, the log is only read by
 * KVM_GET_DIRTY_LOG and cleared by KVM_CLEAR_DIRTY_LOG; INITIALLY_SET starts
 * with every page dirty.  Same answers from both devices.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "guest.h"
#include "modes.h"

#define LOG_SLOT	1
#define LOG_GPA		0x10000000ULL	/* 256 MiB, in the identity map */
#define LOG_PAGES	512		/* 2 MiB: one huge page where THP gives one */
#define LOG_SIZE	(LOG_PAGES * PAGE_SIZE)
#define MMIO_AFTER	(LOG_GPA + LOG_SIZE)	/* unbacked, right after the slot */
#define INS_PORT	0x3e0
#define BITMAP_LONGS	(LOG_PAGES / 64)

static volatile uint8_t *page(unsigned int n)
{
	return (volatile uint8_t *)(LOG_GPA + n * PAGE_SIZE);
}

/* Phase 0: touch every page (before logging).  Phase 1: the logged writes. */
static void guest_writes(void)
{
	unsigned int i;
	uint8_t sink = 0;

	for (i = 0; i < LOG_PAGES; i++)
		*page(i) = 1;
	GUEST_SYNC(0, 0);
	/* Plain stores of each size, on page boundaries too. */
	*page(0) = 2;
	*(volatile uint16_t *)page(1) = 3;
	*(volatile uint32_t *)(page(6) - 4) = 4;	/* the last word of page 5 */
	*(volatile uint64_t *)page(63) = 5;
	*(volatile uint64_t *)page(64) = 6;
	/* A string store across pages 10-12. */
	{
		void *dst = (void *)page(10) + 0xf00;
		unsigned long n = 2 * PAGE_SIZE;

		__asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(7) : "memory");
	}
	/* The kernel writes page 30: an INS completed by the device. */
	{
		void *dst = (void *)page(30) + 8;
		unsigned long n = 4;

		__asm__ volatile("rep insb" : "+D"(dst), "+c"(n) : "d"(INS_PORT) : "memory");
	}
	/* Reads only: not dirty. */
	for (i = 200; i < 210; i++)
		sink += *page(i);
	/* The last page, then MMIO right after it. */
	*page(LOG_PAGES - 1) = 8;
	*(volatile uint32_t *)MMIO_AFTER = sink;
	GUEST_SYNC(1, 0);
	/* The log was taken: only this write is new. */
	*page(5) = 9;
	GUEST_SYNC(2, 0);
	GUEST_SYNC(3, 0);
	/* Logging off and on again: the writes in between are forgotten. */
	*page(100) = 10;
	GUEST_SYNC(4, 0);
	*page(101) = 11;
	GUEST_SYNC(5, 0);
}

static const unsigned int phase1_pages[] = {
	0, 1, 5, 10, 11, 12, 30, 63, 64, LOG_PAGES - 1,
};

static void expect_log(uint64_t *bitmap, const unsigned int *pages, size_t n)
{
	uint64_t want[BITMAP_LONGS] = { 0 };
	size_t i;

	for (i = 0; i < n; i++)
		want[pages[i] / 64] |= 1ULL << (pages[i] % 64);
	for (i = 0; i < BITMAP_LONGS; i++)
		TEST_ASSERT(bitmap[i] == want[i],
			    "dirty bitmap word %zu (pages %zu-%zu): 0x%016llx, expected 0x%016llx",
			    i, i * 64, i * 64 + 63, (unsigned long long)bitmap[i],
			    (unsigned long long)want[i]);
}

static void get_log(struct vm *vm, uint64_t *bitmap)
{
	struct kvm_dirty_log log = { .slot = LOG_SLOT, .dirty_bitmap = bitmap };

	memset(bitmap, 0xa5, BITMAP_LONGS * 8);
	EXPECT_OK(ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log));
}

static int clear_log(struct vm *vm, uint64_t first, uint32_t num, uint64_t *bitmap)
{
	struct kvm_clear_dirty_log c = {
		.slot = LOG_SLOT, .first_page = first, .num_pages = num,
		.dirty_bitmap = bitmap,
	};

	return ioctl(vm->fd, KVM_CLEAR_DIRTY_LOG, &c);
}

/* 2 MiB-aligned memory, offered to THP so the host may back it with one huge page. */
static void *huge_backing(void)
{
	uint8_t *p = mmap(NULL, 2 * LOG_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TEST_ASSERT(p != MAP_FAILED, "mmap: %s", strerror(errno));
	p = (uint8_t *)(((uintptr_t)p + LOG_SIZE - 1) & ~(uintptr_t)(LOG_SIZE - 1));
	madvise(p, LOG_SIZE, MADV_HUGEPAGE);
	memset(p, 0, LOG_SIZE);
	return p;
}

static void set_logging(struct vm *vm, void *hva, bool on)
{
	EXPECT_OK(vm_set_region_raw(vm, LOG_SLOT, on ? KVM_MEM_LOG_DIRTY_PAGES : 0,
				    LOG_GPA, LOG_SIZE, (uint64_t)(uintptr_t)hva));
}

/* Runs to the next SYNC, answering the INS and the MMIO write of phase 1. */
static void run_to_sync(struct vcpu *v, uint64_t phase)
{
	struct ucall uc;

	for (;;) {
		vcpu_run(v);
		if (v->run->exit_reason == KVM_EXIT_IO && v->run->io.port == INS_PORT) {
			memset((uint8_t *)v->run + v->run->io.data_offset, 0xee,
			       v->run->io.count * v->run->io.size);
			continue;
		}
		if (v->run->exit_reason == KVM_EXIT_MMIO) {
			TEST_ASSERT(v->run->mmio.phys_addr == MMIO_AFTER && v->run->mmio.is_write,
				    "unexpected %s", vcpu_exit_str(v));
			continue;
		}
		break;
	}
	TEST_ASSERT(vcpu_get_ucall(v, &uc) == UCALL_SYNC && uc.args[0] == phase,
		    "expected SYNC %llu: %s", (unsigned long long)phase, vcpu_exit_str(v));
}

TEST_CASE(exact_pages)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_writes, 0);
	void *hva = huge_backing();
	uint64_t bitmap[BITMAP_LONGS];
	static const unsigned int page5[] = { 5 }, page101[] = { 101 };

	vm_add_memory_at(v->vm, LOG_SLOT, LOG_GPA, LOG_SIZE, 0, hva);
	run_to_sync(v, 0);
	/* On on a live slot whose pages are all mapped writable. */
	set_logging(v->vm, hva, true);
	get_log(v->vm, bitmap);
	expect_log(bitmap, NULL, 0);
	run_to_sync(v, 1);
	get_log(v->vm, bitmap);
	expect_log(bitmap, phase1_pages, sizeof(phase1_pages) / sizeof(phase1_pages[0]));
	TEST_ASSERT_EQ(((uint8_t *)hva)[30 * PAGE_SIZE + 8], 0xee);	/* the INS landed */
	run_to_sync(v, 2);
	get_log(v->vm, bitmap);
	expect_log(bitmap, page5, 1);
	run_to_sync(v, 3);
	get_log(v->vm, bitmap);
	expect_log(bitmap, NULL, 0);
	set_logging(v->vm, hva, false);
	run_to_sync(v, 4);
	set_logging(v->vm, hva, true);
	run_to_sync(v, 5);
	get_log(v->vm, bitmap);
	expect_log(bitmap, page101, 1);
	vm_free(v->vm);
}

/* Manual protection with INITIALLY_SET, as QEMU 7.2 uses it. */
TEST_CASE(manual_protect)
{
	struct vcpu *v = vm_with_long_code(ctx->dev, guest_writes, 0);
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2,
		.args[0] = KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | KVM_DIRTY_LOG_INITIALLY_SET,
	};
	void *hva = huge_backing();
	uint64_t bitmap[BITMAP_LONGS], all[BITMAP_LONGS];
	unsigned int i;

	TEST_ASSERT_EQ(ioctl(v->vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2),
		       cap.args[0]);
	EXPECT_OK(ioctl(v->vm->fd, KVM_ENABLE_CAP, &cap));
	vm_add_memory_at(v->vm, LOG_SLOT, LOG_GPA, LOG_SIZE, KVM_MEM_LOG_DIRTY_PAGES, hva);
	run_to_sync(v, 0);
	/* Initially set: every page, and reading does not clear it. */
	memset(all, 0xff, sizeof(all));
	get_log(v->vm, bitmap);
	TEST_ASSERT(!memcmp(bitmap, all, sizeof(all)), "not every page is dirty at first");
	get_log(v->vm, bitmap);
	TEST_ASSERT(!memcmp(bitmap, all, sizeof(all)), "KVM_GET_DIRTY_LOG cleared the log");
	/* The rules of KVM_CLEAR_DIRTY_LOG. */
	EXPECT_ERRNO(clear_log(v->vm, 1, 64, all), EINVAL);
	EXPECT_ERRNO(clear_log(v->vm, 0, 65, all), EINVAL);
	EXPECT_ERRNO(clear_log(v->vm, 0, LOG_PAGES + 64, all), EINVAL);
	EXPECT_ERRNO(clear_log(v->vm, LOG_PAGES + 64, 0, all), EINVAL);
	EXPECT_ERRNO(clear_log(v->vm, 0, 64, NULL), EFAULT);
	/* Clear all: the next writes are logged again, exactly. */
	EXPECT_OK(clear_log(v->vm, 0, LOG_PAGES, all));
	get_log(v->vm, bitmap);
	expect_log(bitmap, NULL, 0);
	run_to_sync(v, 1);
	get_log(v->vm, bitmap);
	expect_log(bitmap, phase1_pages, sizeof(phase1_pages) / sizeof(phase1_pages[0]));
	/* Clearing pages 0-63 only leaves the rest as they were. */
	EXPECT_OK(clear_log(v->vm, 0, 64, all));
	get_log(v->vm, bitmap);
	{
		static const unsigned int rest[] = { 64, LOG_PAGES - 1 };

		expect_log(bitmap, rest, 2);
	}
	/* Only the pages whose bits are given: page 64 stays. */
	memset(bitmap, 0, sizeof(bitmap));
	bitmap[(LOG_PAGES - 1) / 64 - 1] = 1ULL << ((LOG_PAGES - 1) % 64);
	EXPECT_OK(clear_log(v->vm, 64, LOG_PAGES - 64, bitmap));
	get_log(v->vm, bitmap);
	{
		static const unsigned int rest[] = { 64 };

		expect_log(bitmap, rest, 1);
	}
	for (i = 0; i < 3; i++)
		run_to_sync(v, 2 + i);
	vm_free(v->vm);
}

TEST_NO_GUEST(rules)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	uint64_t bitmap[BITMAP_LONGS];
	struct kvm_dirty_log log = { .slot = LOG_SLOT, .dirty_bitmap = bitmap };
	struct kvm_enable_cap cap = { .cap = KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, .args[0] = 4 };
	void *hva;

	/* No slot, a slot without logging, a slot id out of range. */
	EXPECT_ERRNO(ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log), ENOENT);
	hva = vm_add_memory(vm, LOG_SLOT, LOG_GPA, LOG_SIZE, 0);
	EXPECT_ERRNO(ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log), ENOENT);
	EXPECT_ERRNO(clear_log(vm, 0, 64, bitmap), ENOENT);
	log.slot = 0x7fff;
	EXPECT_ERRNO(ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log), EINVAL);
	log.slot = LOG_SLOT;
	EXPECT_OK(vm_set_region_raw(vm, LOG_SLOT, KVM_MEM_LOG_DIRTY_PAGES, LOG_GPA, LOG_SIZE,
				    (uint64_t)(uintptr_t)hva));
	EXPECT_OK(ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log));
	log.dirty_bitmap = NULL;
	EXPECT_ERRNO(ioctl(vm->fd, KVM_GET_DIRTY_LOG, &log), EFAULT);
	/* Unknown manual-protection flags. */
	EXPECT_ERRNO(ioctl(vm->fd, KVM_ENABLE_CAP, &cap), EINVAL);
	vm_free(vm);
}
