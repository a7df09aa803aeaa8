// SPDX-License-Identifier: GPL-2.0
/*
 * Creating the in-kernel interrupt controllers and what the ABI promises
 * around them: the capabilities QEMU, kvmtool and Firecracker check before
 * they use the in-kernel irqchip (docs: notes/client-abi.md §1.2-1.4),
 * KVM_CREATE_IRQCHIP only once and before any vCPU (api.rst 4.24), a
 * local APIC in every vCPU created after it, KVM's default GSI routing
 * (GSI 0-15 to the PIC and the IOAPIC, 16-23 to the IOAPIC, nothing
 * beyond), KVM_CREATE_PIT2 once, and the irqchip ioctls refused without
 * an irqchip.  Where api.rst names no errno, the one KVM gives is checked
 * (said so at each), since VMMs were written against it.
 */
#include <sys/ioctl.h>
#include <unistd.h>

#include "apic.h"
#include "irqchip.h"
#include "modes.h"

/* A call that must fail; @err is KVM's errno (api.rst names none). */
#define EXPECT_FAILS(call, err)	EXPECT_ERRNO(call, err)

static const struct {
	long cap;
	const char *name;
} caps[] = {
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
	{ KVM_CAP_IRQ_INJECT_STATUS, "KVM_CAP_IRQ_INJECT_STATUS" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_IRQFD_RESAMPLE, "KVM_CAP_IRQFD_RESAMPLE" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IOEVENTFD_ANY_LENGTH, "KVM_CAP_IOEVENTFD_ANY_LENGTH" },
	{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
	{ KVM_CAP_PIT2, "KVM_CAP_PIT2" },
	{ KVM_CAP_PIT_STATE2, "KVM_CAP_PIT_STATE2" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
	{ KVM_CAP_TSC_DEADLINE_TIMER, "KVM_CAP_TSC_DEADLINE_TIMER" },
	{ KVM_CAP_USER_NMI, "KVM_CAP_USER_NMI" },
	{ KVM_CAP_IOAPIC_POLARITY_IGNORED, "KVM_CAP_IOAPIC_POLARITY_IGNORED" },
};

TEST_NO_GUEST(capabilities)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	unsigned int i;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		TEST_ASSERT(ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, caps[i].cap) > 0,
			    "%s is not offered by the device", caps[i].name);
		TEST_ASSERT(ioctl(vm->fd, KVM_CHECK_EXTENSION, caps[i].cap) > 0,
			    "%s is not offered by the VM", caps[i].name);
	}
	/* QEMU asserts every routed GSI is below IRQ_ROUTING - 1, and routes 24 pins. */
	TEST_ASSERT(ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQ_ROUTING) >= 25,
		    "KVM_CAP_IRQ_ROUTING is too small for 24 IOAPIC pins");
	irq_vm_free(vm);
}

TEST_NO_GUEST(create_rules)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	struct kvm_pit_config pit = { 0 };
	struct kvm_lapic_state s;
	struct vcpu *v;

	vm_create_irqchip(vm);
	EXPECT_FAILS(ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0), EEXIST);
	v = vcpu_add(vm, 0);
	/* The vCPU has a local APIC: its state can be read. */
	vcpu_get_lapic(v, &s);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_ID), 0);
	EXPECT_OK(ioctl(vm->fd, KVM_CREATE_PIT2, &pit));
	EXPECT_FAILS(ioctl(vm->fd, KVM_CREATE_PIT2, &pit), EEXIST);
	irq_vm_free(vm);

	/* Not once a vCPU exists (KVM: EINVAL). */
	vm = vm_create(ctx->dev, 0);
	v = vcpu_add(vm, 0);
	EXPECT_FAILS(ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0), EINVAL);
	/* And that vCPU has no local APIC in the kernel (KVM: EINVAL). */
	EXPECT_FAILS(ioctl(v->fd, KVM_GET_LAPIC, &s), EINVAL);
	irq_vm_free(vm);
	/*
	 * KVM DEVIATION: api.rst says KVM_CREATE_PIT2 is only valid after
	 * KVM_CREATE_IRQCHIP, but KVM 6.1 creates a PIT without one (and
	 * ignores unknown pit_config flags); neither is checked.
	 */
}

TEST_NO_GUEST(refused_without_irqchip)
{
	struct vm *vm = vm_create(ctx->dev, 0);
	struct kvm_irqchip chip = { .chip_id = KVM_IRQCHIP_IOAPIC };
	struct kvm_irq_level line = { .irq = 4, .level = 1 };
	struct kvm_msi msi = { .address_lo = MSI_ADDR(0), .data = 0x40 };
	struct kvm_pit_state2 pit;
	struct kvm_irqfd irqfd = { .gsi = 4 };
	int fd = new_eventfd();

	irqfd.fd = (uint32_t)fd;
	vcpu_add(vm, 0);
	EXPECT_FAILS(ioctl(vm->fd, KVM_GET_IRQCHIP, &chip), ENXIO);
	EXPECT_FAILS(ioctl(vm->fd, KVM_SET_IRQCHIP, &chip), ENXIO);
	EXPECT_FAILS(ioctl(vm->fd, KVM_IRQ_LINE, &line), ENXIO);
	EXPECT_FAILS(ioctl(vm->fd, KVM_IRQ_LINE_STATUS, &line), ENXIO);
	EXPECT_FAILS(ioctl(vm->fd, KVM_SIGNAL_MSI, &msi), EINVAL);
	EXPECT_FAILS(ioctl(vm->fd, KVM_GET_PIT2, &pit), ENXIO);
	EXPECT_FAILS(ioctl(vm->fd, KVM_IRQFD, &irqfd), EINVAL);
	irq_vm_free(vm);
	close(fd);
}

TEST_NO_GUEST(irqchip_ids)
{
	struct vm *vm = vm_create_with_irqchip(ctx->dev, 0);
	struct kvm_irqchip chip;
	struct kvm_pit_state2 pit;
	uint32_t id;

	for (id = 0; id < 3; id++)
		vm_get_irqchip(vm, id, &chip);
	memset(&chip, 0, sizeof(chip));
	chip.chip_id = 3;
	EXPECT_FAILS(ioctl(vm->fd, KVM_GET_IRQCHIP, &chip), EINVAL);
	EXPECT_FAILS(ioctl(vm->fd, KVM_SET_IRQCHIP, &chip), EINVAL);
	/* No PIT created yet (KVM: ENXIO). */
	EXPECT_FAILS(ioctl(vm->fd, KVM_GET_PIT2, &pit), ENXIO);
	irq_vm_free(vm);
}

/*
 * KVM's default routing, on which Firecracker relies (GSI n is IOAPIC pin
 * n) and which api.rst 4.24 describes: GSI 24 and above have no route.
 */
TEST_NO_GUEST(default_routing)
{
	struct vm *vm = vm_create_with_irqchip(ctx->dev, 0);
	struct kvm_irq_level line = { .irq = 24, .level = 1 };
	uint32_t gsi;

	for (gsi = 0; gsi < 24; gsi++) {
		vm_irq_line(vm, gsi, 1);
		vm_irq_line(vm, gsi, 0);
	}
	TEST_ASSERT(vm_irq_line(vm, 24, 1) < 0, "GSI 24 has a route");
	vm_irq_line(vm, 24, 0);
	/* Through KVM_IRQ_LINE (no status) too. */
	EXPECT_OK(ioctl(vm->fd, KVM_IRQ_LINE, &line));
	irq_vm_free(vm);
}
