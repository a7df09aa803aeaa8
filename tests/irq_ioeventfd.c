// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_IOEVENTFD (api.rst 4.59): a guest write that matches an ioeventfd --
 * its address, its length (or any length for length 0, with
 * KVM_CAP_IOEVENTFD_ANY_LENGTH) and, with KVM_IOEVENTFD_FLAG_DATAMATCH,
 * its value -- signals the eventfd and completes in the kernel without an
 * exit to user space; anything else (another value, another size, a read)
 * is an ordinary KVM_EXIT_IO or KVM_EXIT_MMIO.  PIO and MMIO, lengths
 * 0/1/2/4/8.  The host counts: every KVM_RUN return is checked, and the
 * eventfd's counter must equal the number of matching writes.  Also the
 * ioctl's refusals (bad length, flags, duplicates, deassigning what is not
 * there) and deassignment.  No irqchip is needed.
 */
#include <sys/ioctl.h>
#include <unistd.h>

#include "guest.h"
#include "irqchip.h"
#include "modes.h"

#define WRITES		25
#define PIO_BASE	0x700
#define MMIO_BASE	(MMIO_GPA + 0x1000)

static int ioeventfd_raw(struct vm *vm, uint64_t addr, uint32_t len, int fd, uint32_t flags,
			 uint64_t datamatch)
{
	struct kvm_ioeventfd a = {
		.datamatch = datamatch, .addr = addr, .len = len, .fd = fd, .flags = flags,
	};

	return ioctl(vm->fd, KVM_IOEVENTFD, &a);
}

static void ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, int fd, uint32_t flags,
		      uint64_t datamatch)
{
	if (ioeventfd_raw(vm, addr, len, fd, flags, datamatch))
		test_fail("KVM_IOEVENTFD addr 0x%llx len %u flags 0x%x: %s",
			  (unsigned long long)addr, len, flags, strerror(errno));
}

static void pio_write(uint16_t port, unsigned int size, uint32_t v)
{
	if (size == 1)
		outb(port, (uint8_t)v);
	else if (size == 2)
		outw(port, (uint16_t)v);
	else
		outl(port, v);
}

static void mmio_write(uint64_t addr, unsigned int size, uint64_t v)
{
	switch (size) {
	case 1:
		*(volatile uint8_t *)addr = (uint8_t)v;
		break;
	case 2:
		*(volatile uint16_t *)addr = (uint16_t)v;
		break;
	case 4:
		*(volatile uint32_t *)addr = (uint32_t)v;
		break;
	default:
		*(volatile uint64_t *)addr = v;
		break;
	}
}

/* Runs to the next exit; it must be a ucall of @type (nothing else in between). */
static void expect_ucall_next(struct vcpu *v, uint64_t type, struct ucall *uc)
{
	vcpu_run(v);
	if (vcpu_get_ucall(v, uc) != type)
		test_fail("expected only the ucall, got %s", vcpu_exit_str(v));
	if (type == UCALL_ASSERT)
		test_fail("guest assertion: %s", uc->message);
}

static void expect_pio_exit(struct vcpu *v, uint16_t port, unsigned int size, bool out)
{
	vcpu_run(v);
	TEST_ASSERT(v->run->exit_reason == KVM_EXIT_IO && v->run->io.port == port &&
		    v->run->io.size == size &&
		    v->run->io.direction == (out ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN),
		    "expected an %s of %u bytes on port 0x%x: %s", out ? "OUT" : "IN", size,
		    port, vcpu_exit_str(v));
}

static void expect_mmio_exit(struct vcpu *v, uint64_t addr, unsigned int len, bool write)
{
	vcpu_run(v);
	TEST_ASSERT(v->run->exit_reason == KVM_EXIT_MMIO && v->run->mmio.phys_addr == addr &&
		    v->run->mmio.len == len && v->run->mmio.is_write == write,
		    "expected an MMIO %s of %u bytes at 0x%llx: %s", write ? "write" : "read",
		    len, (unsigned long long)addr, vcpu_exit_str(v));
}

/* ---------------------------------------------------------------- */
/* PIO                                                              */

static void guest_pio(void)
{
	unsigned int size, i;

	for (size = 1; size <= 4; size *= 2) {
		for (i = 0; i < WRITES; i++)
			pio_write(PIO_BASE + size, size, i);
		GUEST_SYNC(size, 0);
		/* Another size, a read: ordinary exits. */
		pio_write(PIO_BASE + size, size == 1 ? 2 : 1, 0x5a);
		inb(PIO_BASE + size);
	}
	/* Datamatch 0x1234 on a 2-byte port: only that value is absorbed. */
	for (i = 0; i < WRITES; i++)
		outw(PIO_BASE + 0x10, 0x1234);
	GUEST_SYNC(0x10, 0);
	outw(PIO_BASE + 0x10, 0x4321);
	/* Length 0: any size; datamatches of several eventfds on one port. */
	outb(PIO_BASE + 0x20, 1);
	outw(PIO_BASE + 0x20, 2);
	outl(PIO_BASE + 0x20, 3);
	GUEST_SYNC(0x20, 0);
	for (i = 0; i < 7; i++)
		outw(PIO_BASE + 0x30, (uint16_t)i);
	GUEST_SYNC(0x30, 0);
	outw(PIO_BASE + 0x30, 7);
}

TEST_CASE(pio)
{
	struct vm *vm = vm_create(ctx->dev, LONG_MODE_MEM_SIZE);
	struct vcpu *v = vcpu_add(vm, 0);
	int fds[4], dm = new_eventfd(), any = new_eventfd(), probe[7];
	unsigned int size, i;
	struct ucall uc;

	TEST_ASSERT(ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) > 0,
		    "KVM_CAP_IOEVENTFD is not offered");
	TEST_ASSERT(ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0,
		    "KVM_CAP_IOEVENTFD_ANY_LENGTH is not offered");
	vcpu_enter_long(v, guest_pio, 0);
	for (size = 1; size <= 4; size *= 2) {
		fds[size / 2] = new_eventfd();
		ioeventfd(vm, PIO_BASE + size, size, fds[size / 2], KVM_IOEVENTFD_FLAG_PIO, 0);
	}
	ioeventfd(vm, PIO_BASE + 0x10, 2, dm, KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH,
		  0x1234);
	ioeventfd(vm, PIO_BASE + 0x20, 0, any, KVM_IOEVENTFD_FLAG_PIO, 0);
	/* QEMU's start-up probe: port 0 of this kind, len 2, datamatch 0..6, here at 0x730. */
	for (i = 0; i < 7; i++) {
		probe[i] = new_eventfd();
		ioeventfd(vm, PIO_BASE + 0x30, 2, probe[i],
			  KVM_IOEVENTFD_FLAG_PIO | KVM_IOEVENTFD_FLAG_DATAMATCH, i);
	}
	for (size = 1; size <= 4; size *= 2) {
		expect_ucall_next(v, UCALL_SYNC, &uc);
		TEST_ASSERT_EQ(eventfd_take(fds[size / 2]), WRITES);
		expect_pio_exit(v, PIO_BASE + size, size == 1 ? 2 : 1, true);
		expect_pio_exit(v, PIO_BASE + size, 1, false);
		TEST_ASSERT_EQ(eventfd_take(fds[size / 2]), 0);
	}
	expect_ucall_next(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(eventfd_take(dm), WRITES);
	expect_pio_exit(v, PIO_BASE + 0x10, 2, true);
	TEST_ASSERT_EQ(*(uint16_t *)((uint8_t *)v->run + v->run->io.data_offset), 0x4321);
	expect_ucall_next(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(eventfd_take(any), 3);
	expect_ucall_next(v, UCALL_SYNC, &uc);
	for (i = 0; i < 7; i++)
		TEST_ASSERT_EQ(eventfd_take(probe[i]), 1);
	expect_pio_exit(v, PIO_BASE + 0x30, 2, true);
	expect_ucall_next(v, UCALL_DONE, &uc);
	irq_vm_free(vm);
	for (size = 1; size <= 4; size *= 2)
		close(fds[size / 2]);
	for (i = 0; i < 7; i++)
		close(probe[i]);
	close(dm);
	close(any);
}

/* ---------------------------------------------------------------- */
/* MMIO                                                             */

static void guest_mmio(void)
{
	unsigned int size, i;

	for (size = 1; size <= 8; size *= 2) {
		for (i = 0; i < WRITES; i++)
			mmio_write(MMIO_BASE + size * 0x10, size, 0x1122334455667788ULL + i);
		GUEST_SYNC(size, 0);
		mmio_write(MMIO_BASE + size * 0x10, size == 4 ? 2 : 4, 0);	/* another size */
		(void)*(volatile uint32_t *)(MMIO_BASE + size * 0x10);		/* a read */
	}
	/* Datamatch on 8 bytes. */
	for (i = 0; i < WRITES; i++)
		mmio_write(MMIO_BASE + 0x100, 8, 0xfeedfacecafebeefULL);
	GUEST_SYNC(0x100, 0);
	mmio_write(MMIO_BASE + 0x100, 8, 0xfeedfacecafebeeeULL);
	/* Length 0: any size at that address. */
	mmio_write(MMIO_BASE + 0x200, 1, 1);
	mmio_write(MMIO_BASE + 0x200, 2, 2);
	mmio_write(MMIO_BASE + 0x200, 4, 3);
	mmio_write(MMIO_BASE + 0x200, 8, 4);
	GUEST_SYNC(0x200, 0);
	/* After deassignment, the same write exits. */
	mmio_write(MMIO_BASE + 0x40, 4, 7);
}

TEST_CASE(mmio)
{
	struct vm *vm = vm_create(ctx->dev, LONG_MODE_MEM_SIZE);
	struct vcpu *v = vcpu_add(vm, 0);
	int fds[9], dm = new_eventfd(), any = new_eventfd();
	unsigned int size;
	struct ucall uc;

	vcpu_enter_long(v, guest_mmio, 0);
	for (size = 1; size <= 8; size *= 2) {
		fds[size] = new_eventfd();
		ioeventfd(vm, MMIO_BASE + size * 0x10, size, fds[size], 0, 0);
	}
	ioeventfd(vm, MMIO_BASE + 0x100, 8, dm, KVM_IOEVENTFD_FLAG_DATAMATCH,
		  0xfeedfacecafebeefULL);
	ioeventfd(vm, MMIO_BASE + 0x200, 0, any, 0, 0);
	for (size = 1; size <= 8; size *= 2) {
		expect_ucall_next(v, UCALL_SYNC, &uc);
		TEST_ASSERT_EQ(eventfd_take(fds[size]), WRITES);
		expect_mmio_exit(v, MMIO_BASE + size * 0x10, size == 4 ? 2 : 4, true);
		expect_mmio_exit(v, MMIO_BASE + size * 0x10, 4, false);
		TEST_ASSERT_EQ(eventfd_take(fds[size]), 0);
	}
	expect_ucall_next(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(eventfd_take(dm), WRITES);
	expect_mmio_exit(v, MMIO_BASE + 0x100, 8, true);
	expect_ucall_next(v, UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(eventfd_take(any), 4);
	ioeventfd(vm, MMIO_BASE + 0x40, 4, fds[4], KVM_IOEVENTFD_FLAG_DEASSIGN, 0);
	expect_mmio_exit(v, MMIO_BASE + 0x40, 4, true);
	TEST_ASSERT_EQ(eventfd_take(fds[4]), 0);
	expect_ucall_next(v, UCALL_DONE, &uc);
	irq_vm_free(vm);
	for (size = 1; size <= 8; size *= 2)
		close(fds[size]);
	close(dm);
	close(any);
}

/* ---------------------------------------------------------------- */
/* The ioctl's rules                                                */

TEST_NO_GUEST(rules)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	int fd = new_eventfd(), fd2 = new_eventfd();
	uint32_t pio = KVM_IOEVENTFD_FLAG_PIO, dm = KVM_IOEVENTFD_FLAG_DATAMATCH;

	EXPECT_ERRNO(ioeventfd_raw(vm, 0x800, 3, fd, pio, 0), EINVAL);		/* length */
	EXPECT_ERRNO(ioeventfd_raw(vm, 0x800, 16, fd, pio, 0), EINVAL);
	EXPECT_ERRNO(ioeventfd_raw(vm, 0x800, 4, fd, 1u << 8, 0), EINVAL);	/* flags */
	EXPECT_ERRNO(ioeventfd_raw(vm, 0x800, 0, fd, pio | dm, 1), EINVAL);	/* len 0 + match */
	EXPECT_ERRNO(ioeventfd_raw(vm, -4ULL, 8, fd, 0, 0), EINVAL);		/* wraps */
	EXPECT_ERRNO(ioeventfd_raw(vm, 0x800, 4, 1000, pio, 0), EBADF);
	EXPECT_OK(ioeventfd_raw(vm, 0x800, 4, fd, pio, 0));
	/* Whatever overlaps a wildcard of the same address and length collides. */
	EXPECT_ERRNO(ioeventfd_raw(vm, 0x800, 4, fd2, pio, 0), EEXIST);
	EXPECT_ERRNO(ioeventfd_raw(vm, 0x800, 4, fd2, pio | dm, 9), EEXIST);
	EXPECT_ERRNO(ioeventfd_raw(vm, 0x800, 0, fd2, pio, 0), EEXIST);
	EXPECT_OK(ioeventfd_raw(vm, 0x800, 2, fd2, pio, 0));			/* another length */
	EXPECT_OK(ioeventfd_raw(vm, 0x800, 4, fd, 0, 0));			/* MMIO is another bus */
	/* Different datamatches on one port coexist (QEMU's start-up probe). */
	EXPECT_OK(ioeventfd_raw(vm, 0x900, 2, fd, pio | dm, 9));
	EXPECT_OK(ioeventfd_raw(vm, 0x900, 2, fd2, pio | dm, 10));
	EXPECT_ERRNO(ioeventfd_raw(vm, 0x900, 2, fd2, pio | dm, 10), EEXIST);
	/* Deassign needs address, length, fd and datamatch to match. */
	EXPECT_ERRNO(ioeventfd_raw(vm, 0x800, 1, fd, pio | KVM_IOEVENTFD_FLAG_DEASSIGN, 0), ENOENT);
	EXPECT_ERRNO(ioeventfd_raw(vm, 0x800, 4, fd2, pio | KVM_IOEVENTFD_FLAG_DEASSIGN, 0), ENOENT);
	EXPECT_ERRNO(ioeventfd_raw(vm, 0x900, 2, fd, pio | dm | KVM_IOEVENTFD_FLAG_DEASSIGN, 10),
		     ENOENT);
	EXPECT_OK(ioeventfd_raw(vm, 0x800, 4, fd, pio | KVM_IOEVENTFD_FLAG_DEASSIGN, 0));
	EXPECT_ERRNO(ioeventfd_raw(vm, 0x800, 4, fd, pio | KVM_IOEVENTFD_FLAG_DEASSIGN, 0), ENOENT);
	EXPECT_OK(ioeventfd_raw(vm, 0x800, 2, fd2, pio | KVM_IOEVENTFD_FLAG_DEASSIGN, 0));
	EXPECT_OK(ioeventfd_raw(vm, 0x900, 2, fd, pio | dm | KVM_IOEVENTFD_FLAG_DEASSIGN, 9));
	EXPECT_OK(ioeventfd_raw(vm, 0x900, 2, fd2, pio | dm | KVM_IOEVENTFD_FLAG_DEASSIGN, 10));
	EXPECT_OK(ioeventfd_raw(vm, 0x800, 4, fd, KVM_IOEVENTFD_FLAG_DEASSIGN, 0));
	irq_vm_free(vm);
	close(fd);
	close(fd2);
}
