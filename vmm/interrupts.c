/*
 * External interrupts, in one of the two ways KVM offers a VMM
 * (Documentation/virt/kvm/api.rst); `yakvm run --irqchip` picks one.
 *
 * In the device ("kernel", KVM_CREATE_IRQCHIP and KVM_CREATE_PIT2): the
 * device emulates the 8259A pair, an IOAPIC, a local APIC per vCPU and the
 * 8254 (with port 0x61), delivers their interrupts to the vCPUs and lets a
 * halted vCPU sleep in KVM_RUN until one arrives; the VMM only drives the
 * ISA lines of its own devices (UART, i8042) with KVM_IRQ_LINE(_STATUS).
 * Set up as kvmtool and QEMU's pc machine do:
 * - KVM_SET_GSI_ROUTING with the PC's wiring: GSI n goes to 8259A input n
 *   (master 0-7, slave 8-15) and to IOAPIC pin n, except that GSI 0 (the
 *   PIT) goes to IOAPIC pin 2, as on a PC, and GSI 2 (the cascade) nowhere.
 *   KVM's default table would put GSI 0 on pin 0; the MP table
 *   (loaders/mptable.c) describes this one.
 * - KVM_CREATE_PIT2 with KVM_PIT_SPEAKER_DUMMY: port 0x61 (channel 2's
 *   gate and OUT, which Linux polls to calibrate) is served in the kernel
 *   too, so no PIT state has to travel to user space.
 * - each vCPU's LAPIC: LINT0 ExtINT (the 8259A's INTR) and LINT1 NMI,
 *   unmasked, through KVM_GET_LAPIC/KVM_SET_LAPIC: the virtual-wire mode a
 *   PC BIOS leaves (MP spec 1.4, 3.6.2.2), so the PIC reaches the BSP before
 *   the guest programs its APIC.
 * HLT never reaches user space in this mode (exit.c treats it as an error,
 * as kvmtool does), and vCPUs other than 0 wait in the kernel for INIT/SIPI.
 *
 * In the VMM ("user", KVM's user-space irqchip ABI: KVM_INTERRUPT and the
 * kvm_run fields request_interrupt_window, ready_for_interrupt_injection
 * and if_flag): the PIC (devices/pic.c) lives here, its INT output wired to
 * the boot vCPU (vCPU 0, as ExtINT reaches the BSP on a PC without APICs).
 * - A device raising a line (the PIT's thread, the console's input, a vCPU
 *   thread writing a port) makes the PIC call interrupts_notify(), which
 *   kicks vCPU 0 out of KVM_RUN (signal + immediate_exit, vcpu.c) or wakes
 *   it from HLT.
 * - Before every KVM_RUN the vCPU thread looks at the PIC: when the last
 *   exit said the guest can take an interrupt now, the INTA cycle gives the
 *   vector and KVM_INTERRUPT queues it for the entry; otherwise it sets
 *   request_interrupt_window, so KVM_RUN returns KVM_EXIT_IRQ_WINDOW_OPEN as
 *   soon as RFLAGS.IF=1 and no interrupt shadow blocks.
 * - KVM_EXIT_HLT (RIP already past the HLT) with IF=1 sleeps here until the
 *   PIC has a request; HLT with IF=0 can only be left by NMI or reset, which
 *   this machine does not generate, so that vCPU is done.
 */
#include "interrupts.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "devices/devices.h"
#include "status.h"
#include "util.h"
#include "vcpu.h"
#include "vm.h"

#define BOOT_VCPU		0
#define NR_ISA_IRQS		16
#define NR_IOAPIC_PINS		24	/* KVM's IOAPIC */
#define PIT_GSI			0
#define PIT_IOAPIC_PIN		2
#define CASCADE_GSI		2

/* Local APIC registers in struct kvm_lapic_state (the xAPIC page layout, api.rst). */
#define APIC_REG_VERSION	0x30
#define APIC_REG_LVT_LINT0	0x350
#define APIC_REG_LVT_LINT1	0x360
#define APIC_DM_NMI		(4u << 8)
#define APIC_DM_EXTINT		(7u << 8)

/* ---- the in-kernel irqchip ------------------------------------------------ */

static bool kernel_mode(const struct vm *vm)
{
	return vm->irqchip == IRQCHIP_KERNEL;
}

static void require(struct vm *vm, long cap, const char *name, const char *why)
{
	if (!vm_check_extension(vm, cap))
		fail(STATUS_SETUP, "%s lacks %s, which the in-kernel irqchip needs (%s)%s",
		     vm->dev_path, name, why,
		     cap == KVM_CAP_IRQCHIP ? "; '--irqchip user' runs one vCPU with the "
		     "VMM's 8259A and 8254 (Linux: 'noapic nolapic')" : "");
}

static void add_route(struct kvm_irq_routing *r, uint32_t gsi, uint32_t chip, uint32_t pin)
{
	r->entries[r->nr++] = (struct kvm_irq_routing_entry){
		.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = chip, .pin = pin },
	};
}

static void set_gsi_routing(struct vm *vm)
{
	unsigned int max = NR_ISA_IRQS + NR_IOAPIC_PINS;
	struct kvm_irq_routing *r = calloc(1, sizeof(*r) + max * sizeof(r->entries[0]));
	unsigned int gsi;

	if (!r)
		fail(STATUS_SETUP, "out of memory for the GSI routing table");
	for (gsi = 0; gsi < NR_ISA_IRQS; gsi++) {
		if (gsi == CASCADE_GSI)
			continue;
		add_route(r, gsi, gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
			  gsi % 8);
	}
	for (gsi = 0; gsi < NR_IOAPIC_PINS; gsi++) {
		if (gsi == CASCADE_GSI)
			continue;
		add_route(r, gsi, KVM_IRQCHIP_IOAPIC, gsi == PIT_GSI ? PIT_IOAPIC_PIN : gsi);
	}
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, r) < 0)
		fail(STATUS_SETUP, "KVM_SET_GSI_ROUTING (%u routes): %s", r->nr, strerror(errno));
	free(r);
}

void interrupts_create_irqchip(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	pthread_mutex_init(&vm->irq_lock, NULL);
	if (!kernel_mode(vm))
		return;
	require(vm, KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP", "KVM_CREATE_IRQCHIP");
	require(vm, KVM_CAP_PIT2, "KVM_CAP_PIT2", "KVM_CREATE_PIT2");
	require(vm, KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING",
		"IRQ0 goes to IOAPIC pin 2");
	vm->irq_line_status = vm_check_extension(vm, KVM_CAP_IRQ_INJECT_STATUS) > 0;
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		fail(STATUS_SETUP, "KVM_CREATE_IRQCHIP on %s: %s", vm->dev_path, strerror(errno));
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		fail(STATUS_SETUP, "KVM_CREATE_PIT2 on %s: %s", vm->dev_path, strerror(errno));
	set_gsi_routing(vm);
}

static uint32_t lapic_reg(const struct kvm_lapic_state *s, unsigned int reg)
{
	uint32_t v;

	memcpy(&v, s->regs + reg, sizeof(v));
	return v;
}

static void set_lapic_reg(struct kvm_lapic_state *s, unsigned int reg, uint32_t v)
{
	memcpy(s->regs + reg, &v, sizeof(v));
}

void interrupts_init_vcpu(struct vcpu *vcpu)
{
	struct kvm_lapic_state lapic;

	if (!kernel_mode(vcpu->vm))
		return;
	if (ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic) < 0)
		fail(STATUS_SETUP, "KVM_GET_LAPIC on vCPU %u: %s", vcpu->id, strerror(errno));
	if (vcpu->id == BOOT_VCPU)
		vcpu->vm->lapic_version = lapic_reg(&lapic, APIC_REG_VERSION) & 0xff;
	set_lapic_reg(&lapic, APIC_REG_LVT_LINT0, APIC_DM_EXTINT);
	set_lapic_reg(&lapic, APIC_REG_LVT_LINT1, APIC_DM_NMI);
	if (ioctl(vcpu->fd, KVM_SET_LAPIC, &lapic) < 0)
		fail(STATUS_SETUP, "KVM_SET_LAPIC on vCPU %u: %s", vcpu->id, strerror(errno));
}

/*
 * KVM_IRQ_LINE takes levels; the chips in the device see the edges.  Only
 * changes are passed on (a UART recomputes its line on every register
 * access), under a lock so that the level the device has is the last one
 * any thread set.
 */
static void kernel_set_line(struct vm *vm, unsigned int irq, bool level)
{
	struct kvm_irq_level line = { .irq = irq, .level = level };
	uint32_t bit = 1u << irq;
	int r = 0, err = 0;

	pthread_mutex_lock(&vm->irq_lock);
	if (!!(vm->irq_levels & bit) != level) {
		r = ioctl(vm->vm_fd, vm->irq_line_status ? KVM_IRQ_LINE_STATUS : KVM_IRQ_LINE,
			  &line);
		err = errno;
		if (r == 0)
			vm->irq_levels ^= bit;
		if (r == 0 && vm->trace_exits)
			trace("IRQ%u -> %d%s%d", irq, level, vm->irq_line_status ? " status " : "",
			      vm->irq_line_status ? line.status : 0);
	}
	pthread_mutex_unlock(&vm->irq_lock);
	if (r < 0) {
		msg("KVM_IRQ_LINE (IRQ%u level %d): %s", irq, level, strerror(err));
		vm_request_stop(vm, STATUS_INTERNAL);
	}
}

void interrupts_set_line(struct vm *vm, unsigned int irq, bool level)
{
	if (irq >= NR_ISA_IRQS)
		return;
	if (kernel_mode(vm))
		kernel_set_line(vm, irq, level);
	else if (vm->pic)
		pic_set_irq(vm->pic, irq, level);
}

/* ---- the VMM's PIC -------------------------------------------------------- */

void interrupts_create_devices(struct vm *vm)
{
	struct pit *pit;

	if (kernel_mode(vm))
		return;
	vm->pic = pic_create(vm, interrupts_notify, vm);
	pit = pit_create(vm, vm->pic);
	portb_create(vm, pit);
}

void interrupts_notify(void *opaque)
{
	struct vm *vm = opaque;

	vcpu_kick(&vm->vcpus[BOOT_VCPU]);
}

static bool wired(const struct vcpu *vcpu)
{
	return vcpu->id == BOOT_VCPU && vcpu->vm->pic;
}

static void inject(struct vcpu *vcpu, int vector)
{
	struct kvm_interrupt irq = { .irq = vector };

	if (vcpu->vm->trace_exits)
		trace("vcpu%u: KVM_INTERRUPT vector %#x", vcpu->id, vector);
	if (ioctl(vcpu->fd, KVM_INTERRUPT, &irq) < 0) {
		msg("vCPU %u: KVM_INTERRUPT (vector %#x): %s", vcpu->id, vector, strerror(errno));
		vm_request_stop(vcpu->vm, STATUS_INTERNAL);
	}
}

void interrupts_before_entry(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct pic *pic = vcpu->vm->pic;

	if (!wired(vcpu))
		return;
	if (!pic_output(pic)) {
		run->request_interrupt_window = 0;
		return;
	}
	/* ready_for_interrupt_injection is false while a vector is still queued. */
	if (run->ready_for_interrupt_injection && run->if_flag)
		inject(vcpu, pic_acknowledge(pic));
	run->request_interrupt_window = pic_output(pic);
}

bool interrupts_can_wake(struct vcpu *vcpu)
{
	return wired(vcpu) && vcpu->run->if_flag;
}

void interrupts_wait(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	/* vcpu_kick() broadcasts under wake_lock after the PIC changed: no lost wake-up. */
	pthread_mutex_lock(&vcpu->wake_lock);
	while (!vm_is_stopping(vm) && !pic_output(vm->pic))
		pthread_cond_wait(&vcpu->wake_cond, &vcpu->wake_lock);
	pthread_mutex_unlock(&vcpu->wake_lock);
}
