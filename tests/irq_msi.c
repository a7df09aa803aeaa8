// SPDX-License-Identifier: GPL-2.0
/*
 * Message-signalled interrupts: KVM_SIGNAL_MSI (api.rst 4.71: > 0 on
 * delivery, 0 if the guest blocked it, -1 on error) with fixed, NMI and
 * level-flagged messages, physical and logical destinations, broadcast to
 * two vCPUs; KVM_SET_GSI_ROUTING with MSI entries (replaced tables, its
 * limits and refusals) and KVM_IRQFD on them (routes followed when
 * updated, deassign stops it); irqfds on IOAPIC pins, edge and level with
 * KVM_IRQFD_FLAG_RESAMPLE (the line drops and the resample eventfd fires
 * at the guest's EOI).
 *
 * The guest asks for each step with a SYNC(step) and checks what it took;
 * irqfd injection may complete after the eventfd write returns, so the
 * guest halts until the interrupt is there.
 */
#include <sys/ioctl.h>
#include <unistd.h>

#include "apic.h"
#include "guest.h"
#include "irqchip.h"
#include "modes.h"

static struct irq_record *rec(void)
{
	return &irq_rec[guest_vcpu_index()];
}

static void irq_window(void)
{
	__asm__ volatile("sti; nop; nop; nop; cli" : : : "memory");
}

static void setup(void)
{
	unsigned int v;

	irq_install();
	apic_enable_xapic();
	for (v = 0x60; v < 0x80; v++)
		irq_set_handler(v, irq_count_eoi);
	guest_set_handler(2, irq_count_only);
}

/* ---------------------------------------------------------------- */
/* KVM_SIGNAL_MSI                                                   */

static volatile bool tmr_seen;

static void on_level_msi(struct ex_regs *regs)
{
	irq_record(regs->vector);
	tmr_seen = apic_vector_bit(APIC_TMR, regs->vector);
	apic_eoi();
}

static void guest_signal_msi(void)
{
	setup();
	irq_set_handler(0x63, on_level_msi);
	xapic_write(APIC_LDR, 0x01000000);	/* flat logical ID 1 */
	GUEST_SYNC(0, 0);			/* fixed, physical 0, vector 0x60 */
	wait_count_hlt(&rec()->count[0x60], 1);
	GUEST_SYNC(1, 0);			/* logical 1, vector 0x61 */
	wait_count_hlt(&rec()->count[0x61], 1);
	GUEST_SYNC(2, 0);			/* NMI */
	wait_count_hlt(&rec()->count[2], 1);
	GUEST_SYNC(3, 0);			/* level-triggered, vector 0x63: TMR */
	wait_count_hlt(&rec()->count[0x63], 1);
	GUEST_ASSERT(tmr_seen);
	GUEST_SYNC(4, 0);			/* nobody at ID 5, logical 2 */
	irq_window();
	/* Software-disabled: the guest blocks it (0). */
	xapic_write(APIC_SVR, 0xff);
	GUEST_SYNC(5, 0);
	xapic_write(APIC_SVR, APIC_SVR_ENABLE | 0xff);
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 4);
}

TEST_CASE(signal_msi)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_signal_msi, 0);
	struct vcpu *v = vm->vcpus[0];
	struct kvm_msi bad = { .address_lo = MSI_ADDR(0), .data = 0x60, .flags = 2 };
	struct ucall uc;
	int r;

	TEST_ASSERT(ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_SIGNAL_MSI) > 0,
		    "KVM_CAP_SIGNAL_MSI is not offered");
	EXPECT_ERRNO(ioctl(vm->fd, KVM_SIGNAL_MSI, &bad), EINVAL);
	while (vcpu_run_to_ucall_timeout(v, &uc, IRQ_UCALL_TIMEOUT_S) == UCALL_SYNC) {
		switch (uc.args[0]) {
		case 0:
			TEST_ASSERT_EQ(vm_signal_msi_raw(vm, MSI_ADDR(0), 0x60), 1);
			break;
		case 1:
			TEST_ASSERT_EQ(vm_signal_msi_raw(vm, MSI_ADDR(1) | MSI_ADDR_LOGICAL, 0x61), 1);
			break;
		case 2:
			TEST_ASSERT_EQ(vm_signal_msi_raw(vm, MSI_ADDR(0), APIC_DM_NMI), 1);
			break;
		case 3:
			TEST_ASSERT_EQ(vm_signal_msi_raw(vm, MSI_ADDR(0),
							 MSI_DATA_LEVEL | MSI_DATA_ASSERT | 0x63), 1);
			break;
		case 4:
			r = vm_signal_msi_raw(vm, MSI_ADDR(5), 0x64);
			TEST_ASSERT(r <= 0, "an MSI to no APIC returned %d", r);
			r = vm_signal_msi_raw(vm, MSI_ADDR(2) | MSI_ADDR_LOGICAL, 0x64);
			TEST_ASSERT(r <= 0, "an MSI to no logical ID returned %d", r);
			break;
		case 5:
			TEST_ASSERT_EQ(vm_signal_msi_raw(vm, MSI_ADDR(0), 0x65), 0);
			break;
		}
	}
	irq_vm_free(vm);
}

/* Two vCPUs: vCPU 0 reports, vCPU 1 halts and counts. */
static volatile uint32_t ready, stop;

static void guest_two(void)
{
	unsigned int me = guest_vcpu_index();

	setup();
	if (me) {
		ready = 1;
		while (!stop)
			sti_hlt_cli();
		return;
	}
	while (!ready)
		cpu_relax();
	GUEST_SYNC(0, 0);			/* 0x70 to APIC 1 */
	while (!irq_rec[1].count[0x70])
		cpu_relax();
	GUEST_SYNC(1, 0);			/* 0x71 broadcast */
	wait_count_hlt(&irq_rec[0].count[0x71], 1);
	while (!irq_rec[1].count[0x71])
		cpu_relax();
	GUEST_ASSERT_EQ(irq_rec[0].count[0x70], 0);
	stop = 1;
	apic_send_ipi(1, 0x7f);
}

TEST_CASE(signal_msi_two_vcpus)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 2, guest_two, 0);
	struct vcpu_thread t;
	struct ucall uc;

	vcpu_thread_start(&t, vm->vcpus[1]);
	irq_expect_ucall(vm->vcpus[0], UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(vm_signal_msi_raw(vm, MSI_ADDR(1), 0x70), 1);
	irq_expect_ucall(vm->vcpus[0], UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(vm_signal_msi_raw(vm, MSI_ADDR(0xff), 0x71), 2);
	irq_expect_ucall(vm->vcpus[0], UCALL_DONE, &uc);
	vcpu_thread_join(&t, 30);
	irq_vm_free(vm);
}

/* ---------------------------------------------------------------- */
/* GSI routing                                                      */

TEST_NO_GUEST(gsi_routing_rules)
{
	struct vm *vm = vm_create_with_irqchip(ctx->dev, 0);
	struct kvm_irq_routing_entry e[64];
	int max = ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING);
	int n;

	/* QEMU needs room for 24 IOAPIC pins plus MSI routes; KVM offers 4096. */
	TEST_ASSERT(max >= 25, "KVM_CAP_IRQ_ROUTING is %d", max);
	n = default_routes(e);
	vm_set_gsi_routing(vm, e, n);
	EXPECT_ERRNO(vm_set_gsi_routing_raw(vm, e, n, 1), EINVAL);	/* flags must be 0 */
	e[n] = route_msi(max - 1, MSI_ADDR(0), 0x60);			/* the last GSI */
	vm_set_gsi_routing(vm, e, n + 1);
	e[n] = route_msi(max, MSI_ADDR(0), 0x60);			/* one past it */
	EXPECT_ERRNO(vm_set_gsi_routing_raw(vm, e, n + 1, 0), EINVAL);
	e[n] = route_irqchip(30, KVM_IRQCHIP_IOAPIC, IOAPIC_NUM_PINS);	/* no such pin */
	EXPECT_ERRNO(vm_set_gsi_routing_raw(vm, e, n + 1, 0), EINVAL);
	e[n] = route_irqchip(30, KVM_IRQCHIP_PIC_MASTER, 8);
	EXPECT_ERRNO(vm_set_gsi_routing_raw(vm, e, n + 1, 0), EINVAL);
	e[n] = route_irqchip(30, 3, 0);					/* no such chip */
	EXPECT_ERRNO(vm_set_gsi_routing_raw(vm, e, n + 1, 0), EINVAL);
	e[n] = route_msi(30, MSI_ADDR(0), 0x60);
	e[n].type = 99;
	EXPECT_ERRNO(vm_set_gsi_routing_raw(vm, e, n + 1, 0), EINVAL);
	e[n] = route_msi(30, MSI_ADDR(0), 0x60);
	e[n].flags = 2;							/* not VALID_DEVID */
	EXPECT_ERRNO(vm_set_gsi_routing_raw(vm, e, n + 1, 0), EINVAL);
	/* One GSI on the same chip twice. */
	e[n] = route_irqchip(30, KVM_IRQCHIP_IOAPIC, 5);
	e[n + 1] = route_irqchip(30, KVM_IRQCHIP_IOAPIC, 6);
	EXPECT_ERRNO(vm_set_gsi_routing_raw(vm, e, n + 2, 0), EINVAL);
	/* An empty table: nothing is routed, KVM_IRQ_LINE_STATUS says "ignored". */
	vm_set_gsi_routing(vm, NULL, 0);
	TEST_ASSERT(vm_irq_line(vm, 16, 1) < 0, "GSI 16 without a route was delivered");
	vm_irq_line(vm, 16, 0);
	vm_set_gsi_routing(vm, e, n);
	irq_vm_free(vm);
}

/* ---------------------------------------------------------------- */
/* irqfd                                                            */

#define MSI_GSI		40
#define EDGE_GSI	20
#define LEVEL_GSI	21

static void guest_irqfd_msi(void)
{
	setup();
	ioapic_write_redir(EDGE_GSI, IOAPIC_DEST(0) | 0x66);
	GUEST_SYNC(0, 0);			/* irqfd on GSI 40 -> MSI 0x61 */
	wait_count_hlt(&rec()->count[0x61], 1);
	GUEST_SYNC(1, 0);			/* route changed to 0x62, signalled */
	wait_count_hlt(&rec()->count[0x62], 1);
	GUEST_SYNC(2, 0);			/* twice more, one at a time */
	wait_count_hlt(&rec()->count[0x62], 2);
	GUEST_SYNC(3, 0);
	wait_count_hlt(&rec()->count[0x62], 3);
	GUEST_SYNC(4, 0);			/* deassigned, signalled; then MSI 0x63 */
	wait_count_hlt(&rec()->count[0x63], 1);
	irq_window();
	GUEST_ASSERT_EQ(rec()->count[0x62], 3);
	GUEST_ASSERT_EQ(rec()->count[0x61], 1);
	GUEST_SYNC(5, 0);			/* irqfd on IOAPIC pin 20, edge */
	wait_count_hlt(&rec()->count[0x66], 1);
	GUEST_SYNC(6, 0);
	wait_count_hlt(&rec()->count[0x66], 2);
	irq_window();
	GUEST_ASSERT_EQ(rec()->n, 7);
}

static void irqfd(struct vm *vm, int fd, uint32_t gsi, uint32_t flags, int resamplefd)
{
	struct kvm_irqfd a = { .fd = (uint32_t)fd, .gsi = gsi, .flags = flags,
			       .resamplefd = (uint32_t)resamplefd };

	if (ioctl(vm->fd, KVM_IRQFD, &a))
		test_fail("KVM_IRQFD fd %d gsi %u flags 0x%x: %s", fd, gsi, flags,
			  strerror(errno));
}

TEST_CASE(irqfd_msi_and_edge)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_irqfd_msi, 0);
	struct kvm_irq_routing_entry e[64];
	int fd = new_eventfd(), fd2 = new_eventfd(), n = default_routes(e);
	struct ucall uc;

	TEST_ASSERT(ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) > 0,
		    "KVM_CAP_IRQFD is not offered");
	e[n] = route_msi(MSI_GSI, MSI_ADDR(0), 0x61);
	vm_set_gsi_routing(vm, e, n + 1);
	irqfd(vm, fd, MSI_GSI, 0, 0);
	irqfd(vm, fd2, EDGE_GSI, 0, 0);
	while (vcpu_run_to_ucall_timeout(vm->vcpus[0], &uc, IRQ_UCALL_TIMEOUT_S) == UCALL_SYNC) {
		switch (uc.args[0]) {
		case 0:
		case 2:
		case 3:
			eventfd_signal(fd);
			break;
		case 1:
			e[n] = route_msi(MSI_GSI, MSI_ADDR(0), 0x62);
			vm_set_gsi_routing(vm, e, n + 1);
			eventfd_signal(fd);
			break;
		case 4:
			irqfd(vm, fd, MSI_GSI, KVM_IRQFD_FLAG_DEASSIGN, 0);
			eventfd_signal(fd);
			TEST_ASSERT_EQ(vm_signal_msi_raw(vm, MSI_ADDR(0), 0x63), 1);
			break;
		case 5:
		case 6:
			eventfd_signal(fd2);
			break;
		}
	}
	irqfd(vm, fd2, EDGE_GSI, KVM_IRQFD_FLAG_DEASSIGN, 0);
	close(fd);
	close(fd2);
	irq_vm_free(vm);
}

/*
 * Resample: the irqfd asserts a level-triggered pin and keeps it up until
 * the guest's EOI, which lowers it and signals the resample eventfd.
 */
static volatile uint64_t rte_seen;

static void on_resampled(struct ex_regs *regs)
{
	irq_record(regs->vector);
	rte_seen = ioapic_read_redir(LEVEL_GSI);
	apic_eoi();
}

static void guest_resample(void)
{
	setup();
	irq_set_handler(0x67, on_resampled);
	ioapic_write_redir(LEVEL_GSI, IOAPIC_LEVEL | IOAPIC_DEST(0) | 0x67);
	GUEST_SYNC(0, 0);			/* signalled */
	wait_count_hlt(&rec()->count[0x67], 1);
	GUEST_ASSERT(rte_seen & IOAPIC_REMOTE_IRR);
	irq_window();
	GUEST_ASSERT_EQ(rec()->count[0x67], 1);	/* EOI lowered the line: no repeat */
	GUEST_ASSERT(!(ioapic_read_redir(LEVEL_GSI) & IOAPIC_REMOTE_IRR));
	GUEST_SYNC(1, 0);			/* the host saw the resample; signals again */
	wait_count_hlt(&rec()->count[0x67], 2);
	irq_window();
	GUEST_SYNC(2, 0);
	GUEST_ASSERT_EQ(rec()->n, 2);
}

TEST_CASE(irqfd_resample_level)
{
	struct vm *vm = vm_irq_long_fn(ctx->dev, 1, guest_resample, 0);
	int fd = new_eventfd(), rfd = new_eventfd();
	struct ucall uc;

	TEST_ASSERT(ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD_RESAMPLE) > 0,
		    "KVM_CAP_IRQFD_RESAMPLE is not offered");
	irqfd(vm, fd, LEVEL_GSI, KVM_IRQFD_FLAG_RESAMPLE, rfd);
	irq_expect_ucall(vm->vcpus[0], UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(eventfd_take(rfd), 0);
	eventfd_signal(fd);
	irq_expect_ucall(vm->vcpus[0], UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(uc.args[0], 1);
	/* The guest's EOI happened before this exit: the resample is there. */
	TEST_ASSERT_EQ(eventfd_take(rfd), 1);
	eventfd_signal(fd);
	irq_expect_ucall(vm->vcpus[0], UCALL_SYNC, &uc);
	TEST_ASSERT_EQ(eventfd_take(rfd), 1);
	/* Deassigned (RESAMPLE need not be given again): no more interrupts. */
	irqfd(vm, fd, LEVEL_GSI, KVM_IRQFD_FLAG_DEASSIGN, 0);
	eventfd_signal(fd);
	irq_expect_ucall(vm->vcpus[0], UCALL_DONE, &uc);
	close(fd);
	close(rfd);
	irq_vm_free(vm);
}

/* The ioctl's own refusals. */
TEST_NO_GUEST(irqfd_rules)
{
	struct vm *vm = vm_create_with_irqchip(ctx->dev, 0);
	struct kvm_irqfd a = { .gsi = 5 };
	int fd = new_eventfd();

	a.fd = (uint32_t)fd;
	a.flags = 4;					/* unknown flag */
	EXPECT_ERRNO(ioctl(vm->fd, KVM_IRQFD, &a), EINVAL);
	a.flags = 0;
	a.fd = 1000;					/* not a file */
	EXPECT_ERRNO(ioctl(vm->fd, KVM_IRQFD, &a), EBADF);
	a.fd = (uint32_t)fd;
	EXPECT_OK(ioctl(vm->fd, KVM_IRQFD, &a));
	a.gsi = 6;					/* the same eventfd twice */
	EXPECT_ERRNO(ioctl(vm->fd, KVM_IRQFD, &a), EBUSY);
	a.gsi = 5;
	a.flags = KVM_IRQFD_FLAG_DEASSIGN;
	EXPECT_OK(ioctl(vm->fd, KVM_IRQFD, &a));
	close(fd);
	irq_vm_free(vm);
}
