/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel interrupt controllers and timers (KVM_CREATE_IRQCHIP,
 * KVM_CREATE_PIT2) and what connects them: the in-kernel I/O buses, GSI
 * routing, MSI, irqfd and ioeventfd.  One concept per file:
 *
 *   bus.c       PIO and MMIO buses: devices the exit path completes in the
 *               kernel instead of exiting to user space
 *   irqchip.c   KVM_CREATE_IRQCHIP, KVM_IRQ_LINE, KVM_GET/SET_IRQCHIP, the
 *               per-pin level of each interrupt source
 *   routing.c   GSI routing (KVM_SET_GSI_ROUTING, the default table), MSI
 *               (KVM_SIGNAL_MSI), delivery to local APICs
 *   lapic.c     the local APIC of each vCPU: xAPIC MMIO, x2APIC MSRs, ICR,
 *               IRR/ISR/TMR, TPR/PPR, EOI, LVTs, the APIC timer, INIT/SIPI
 *   ioapic.c    the IOAPIC (82093AA, 24 pins)
 *   i8259.c     the dual 8259A PIC and its ELCR
 *   i8254.c     the 8254 PIT and port 0x61 (KVM_CREATE_PIT2)
 *   eventfd.c   KVM_IRQFD (with resample) and KVM_IOEVENTFD
 *
 * Contexts and locks.  Device state is changed under each device's own
 * spinlock, in process context only (a vCPU thread or an ioctl); what
 * happens in atomic context -- an hrtimer expiring, an eventfd being
 * signalled -- is handed to process context (a work item) before it
 * touches a device, except the local APIC timer, which only sets an atomic
 * flag and kicks its vCPU.  A local APIC's registers belong to its vCPU's
 * thread; other CPUs only set IRR bits (atomic bit operations) and pending
 * events, then kick.  Lock order: routing (RCU readers) -> ioapic->lock or
 * pic->lock -> nothing else (kicks take no lock of ours).
 */
#ifndef YAKVM_IRQ_H
#define YAKVM_IRQ_H

#include <linux/hrtimer.h>
#include <linux/kvm.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct yakvm_vm;
struct yakvm_vcpu;

/* ------------------------------------------------------------------ */
/* bus.c: in-kernel PIO and MMIO devices                              */

enum yakvm_bus {
	YAKVM_PIO_BUS,
	YAKVM_MMIO_BUS,
	YAKVM_NR_BUSES,
};

struct yakvm_io_device;

/*
 * A device's handlers.  They run in the vCPU's thread, in process context,
 * and return 0 when they handled the access, or -EOPNOTSUPP to let the next
 * device of the same range (or user space) have it -- an ioeventfd whose
 * datamatch does not match, for instance.  @vcpu may be NULL for accesses
 * that do not come from a guest instruction.
 */
struct yakvm_io_ops {
	int (*read)(struct yakvm_vcpu *vcpu, struct yakvm_io_device *dev,
		    u64 addr, int len, void *val);
	int (*write)(struct yakvm_vcpu *vcpu, struct yakvm_io_device *dev,
		     u64 addr, int len, const void *val);
};

struct yakvm_io_device {
	const struct yakvm_io_ops *ops;
};

int yakvm_io_bus_register(struct yakvm_vm *vm, enum yakvm_bus bus, u64 addr,
			  int len, struct yakvm_io_device *dev);
/* Waits until no vCPU can still be in the device's handlers. */
void yakvm_io_bus_unregister(struct yakvm_vm *vm, enum yakvm_bus bus,
			     struct yakvm_io_device *dev);
/* 0 when an in-kernel device took the access, -EOPNOTSUPP otherwise. */
int yakvm_io_bus_write(struct yakvm_vcpu *vcpu, enum yakvm_bus bus, u64 addr,
		       int len, const void *val);
int yakvm_io_bus_read(struct yakvm_vcpu *vcpu, enum yakvm_bus bus, u64 addr,
		      int len, void *val);
void yakvm_io_buses_destroy(struct yakvm_vm *vm);

/* ------------------------------------------------------------------ */
/* irqchip.c: interrupt sources and levels                            */

/*
 * Several sources can drive one pin (the VMM, the PIT, an irqfd's
 * resampler); a pin's level is the OR of its sources' levels, as KVM keeps it.
 */
enum yakvm_irq_source {
	YAKVM_IRQ_SOURCE_USER = 0,	/* KVM_IRQ_LINE, irqfd pulses */
	YAKVM_IRQ_SOURCE_PIT,
	YAKVM_IRQ_SOURCE_RESAMPLE,	/* level irqfds until their EOI */
	YAKVM_NR_IRQ_SOURCES,
};

/* The level of one pin as the OR of its sources'; returns the new level. */
static inline int yakvm_irq_line_level(unsigned long *sources,
				       enum yakvm_irq_source source, int level)
{
	if (level)
		__set_bit(source, sources);
	else
		__clear_bit(source, sources);
	return !!*sources;
}

/*
 * Raise or lower GSI @gsi for @source, through the routing table: every
 * route of the GSI (PIC pin, IOAPIC pin, MSI) gets it.  Process context.
 * Returns KVM's KVM_IRQ_LINE_STATUS values: -1 when no route took it
 * (masked, no route, no destination), 0 when it was coalesced, > 0 when it
 * was delivered -- the sum over the routes that did not answer < 0.
 */
int yakvm_set_irq(struct yakvm_vm *vm, enum yakvm_irq_source source, u32 gsi,
		  int level, bool line_status);

/* ------------------------------------------------------------------ */
/* routing.c: GSI routes and MSI                                      */

#define YAKVM_MAX_IRQ_ROUTES	4096	/* KVM_CAP_IRQ_ROUTING, as KVM */
#define YAKVM_NR_IOAPIC_PINS	24
#define YAKVM_NR_PIC_PINS	16

struct yakvm_irq_route {
	u32 gsi;
	u32 type;			/* KVM_IRQ_ROUTING_IRQCHIP, _MSI or _HV_SINT */
	union {
		struct {
			u32 irqchip;	/* KVM_IRQCHIP_PIC_MASTER/SLAVE/IOAPIC */
			u32 pin;
		} irqchip;
		struct kvm_irq_routing_msi msi;
		struct kvm_irq_routing_hv_sint hv_sint;	/* VP index, SINT */
	};
};

/* What a local APIC is asked to accept: an ICR, an IOAPIC entry, an MSI. */
struct yakvm_lapic_irq {
	u32 vector;
	u32 delivery_mode;		/* APIC_DM_FIXED, _LOWEST, _NMI, _INIT, ... */
	bool logical;			/* logical destination mode */
	bool level;			/* asserted (INIT: level assert vs deassert) */
	bool trig_level;		/* level-triggered (sets TMR) */
	u32 shorthand;			/* 0, APIC_DEST_SELF, _ALLINC, _ALLBUT */
	u32 dest_id;			/* 8-bit xAPIC or 32-bit x2APIC destination */
};

/*
 * Deliver @irq to every local APIC it names (@src: the sender, for the
 * SELF and ALLBUT shorthands; NULL from the IOAPIC or MSI).  Returns how
 * many accepted it, or -1 when none was a destination.
 */
int yakvm_irq_delivery_to_apic(struct yakvm_vm *vm, struct yakvm_vcpu *src,
			       const struct yakvm_lapic_irq *irq);
/*
 * The guest acknowledged the interrupt of a pin: for irqchip 0/1 pin 0-7
 * when the PIC clears the pin's in-service bit (an EOI command, auto-EOI
 * during the INTA cycle, the drop of a pending edge by ICW1), for irqchip 2
 * on a local APIC's EOI of the vector of the pin's entry (edge entries
 * too), as KVM's ack notifiers.  routing.c passes it on to whoever waits
 * for it (the PIT's reinjection, an irqfd's resampler).  Called without the
 * device's lock held; the callee may raise or lower lines.
 */
void yakvm_irq_acked(struct yakvm_vm *vm, u32 irqchip, u32 pin);
/*
 * The guest ended SINT @sint of VP @vp_index (irq/synic.c): the resamplers
 * of the GSIs with a KVM_IRQ_ROUTING_HV_SINT route to it hear it.
 */
void yakvm_irq_hv_sint_acked(struct yakvm_vm *vm, u32 vp_index, u32 sint);
/* The PIC's INT output went high: kick the vCPUs that accept ExtINT. */
void yakvm_irq_kick_extint(struct yakvm_vm *vm);
/*
 * The mask bit of a pin changed (PIC IMR, IOAPIC entry; not by
 * KVM_SET_IRQCHIP, as KVM): routing.c calls yakvm_pit_irq_mask_changed()
 * when that pin is a route of GSI 0 (KVM's mask notifiers).  Called
 * without the device's lock held.
 */
void yakvm_irq_mask_changed(struct yakvm_vm *vm, u32 irqchip, u32 pin,
			    bool masked);

/*
 * Split irqchip: whether @vcpu's EOI of @vector goes to the VMM's IOAPIC --
 * a level-triggered MSI route of one of its pins (GSI < nr_ioapic_routes)
 * uses the vector and names the vCPU (KVM's scan of the IOAPIC routes).
 */
bool yakvm_irq_split_eoi_wanted(struct yakvm_vcpu *vcpu, int vector);

/* An MSI (address/data, Intel/AMD compatibility format) as an APIC interrupt. */
void yakvm_msi_to_lapic_irq(const struct kvm_irq_routing_msi *msi,
			    struct yakvm_lapic_irq *irq);

/* ------------------------------------------------------------------ */
/* lapic.c                                                            */

struct yakvm_lapic;

#define YAKVM_APIC_MMIO_LEN	0x1000

int yakvm_lapic_create(struct yakvm_vcpu *vcpu);
void yakvm_lapic_free(struct yakvm_vcpu *vcpu);
/* Power-on reset, or INIT (@init: the APIC ID and base survive). */
void yakvm_lapic_reset(struct yakvm_vcpu *vcpu, bool init);
/* Accept @irq at @vcpu's APIC (set IRR or queue NMI/INIT/SIPI) and kick it. */
int yakvm_lapic_accept(struct yakvm_vcpu *vcpu, const struct yakvm_lapic_irq *irq);
/* Whether @irq names @vcpu (@src for the shorthands). */
bool yakvm_lapic_match_dest(struct yakvm_vcpu *vcpu, struct yakvm_vcpu *src,
			    const struct yakvm_lapic_irq *irq);
/* The KVM_HC_SEND_IPI hypercall from @src; the count KVM returns. */
long yakvm_lapic_pv_send_ipi(struct yakvm_vcpu *src, unsigned long low,
			     unsigned long high, u32 min, u64 icr, bool op64);
/* Its arbitration priority, for lowest-priority delivery. */
u32 yakvm_lapic_priority(struct yakvm_vcpu *vcpu);
bool yakvm_lapic_enabled(struct yakvm_vcpu *vcpu);

/* The vCPU's own thread: */
void yakvm_lapic_process_events(struct yakvm_vcpu *vcpu);
int yakvm_lapic_pending_vector(struct yakvm_vcpu *vcpu);	/* or -1 */
bool yakvm_lapic_has_pending(struct yakvm_vcpu *vcpu);	/* blocked by PPR or not */
void yakvm_lapic_ack(struct yakvm_vcpu *vcpu, int vector);
bool yakvm_lapic_accepts_extint(struct yakvm_vcpu *vcpu);
/* V_TPR from the TPR before each entry, and back after each exit. */
void yakvm_lapic_sync_to_vmcb(struct yakvm_vcpu *vcpu);
void yakvm_lapic_sync_from_vmcb(struct yakvm_vcpu *vcpu);
/* CR8: TPR[7:4]. */
u64 yakvm_lapic_get_cr8(struct yakvm_vcpu *vcpu);
void yakvm_lapic_set_cr8(struct yakvm_vcpu *vcpu, u64 cr8);
/* MMIO at the APIC base: true when it was the APIC's (xAPIC mode). */
bool yakvm_lapic_mmio(struct yakvm_vcpu *vcpu, u64 gpa, int len, void *val,
		      bool write);
/* x2APIC MSRs 0x800-0x8ff and TSC_DEADLINE: 0, or 1 for #GP; -ENOENT if not ours. */
int yakvm_lapic_get_msr(struct yakvm_vcpu *vcpu, u32 msr, u64 *data);
int yakvm_lapic_set_msr(struct yakvm_vcpu *vcpu, u32 msr, u64 data, bool host);
/* IA32_APIC_BASE; 1 for an invalid change (#GP). */
int yakvm_lapic_set_base(struct yakvm_vcpu *vcpu, u64 value, bool host);
void yakvm_lapic_get_state(struct yakvm_vcpu *vcpu, struct kvm_lapic_state *s);
int yakvm_lapic_set_state(struct yakvm_vcpu *vcpu,
			  const struct kvm_lapic_state *s);
/* KVM_SET_MP_STATE(SIPI_RECEIVED): a SIPI with the saved vector. */
void yakvm_lapic_post_sipi(struct yakvm_vcpu *vcpu);
u8 yakvm_lapic_sipi_vector(struct yakvm_vcpu *vcpu);
void yakvm_lapic_set_sipi_vector(struct yakvm_vcpu *vcpu, u8 vector);

/* ------------------------------------------------------------------ */
/* ioapic.c                                                           */

#define YAKVM_IOAPIC_BASE	0xfec00000ULL
#define YAKVM_IOAPIC_SIZE	0x100

struct yakvm_ioapic;

/*
 * Create/destroy of the PIC, IOAPIC and PIT: process context, with
 * vm->irq.lock held (they register on the buses); they set and clear
 * vm->irq.ioapic/pic/pit.  Destroy only once no vCPU runs and no irqfd is
 * left: the PIT first (its work item raises GSI 0), then IOAPIC and PIC.
 */
int yakvm_ioapic_create(struct yakvm_vm *vm);
void yakvm_ioapic_destroy(struct yakvm_vm *vm);
/*
 * Pin @pin's line from @source to @level.  Returns KVM's values: 1 for a
 * lowered line, 0 coalesced, -1 masked (or waiting for an EOI, or no
 * destination), else the number of local APICs that took it; -EINVAL for a
 * bad pin.  KVM's kvm_set_irq() skips negative results when it merges the
 * routes of a GSI, and reports -1 only when every route gave < 0.
 */
int yakvm_ioapic_set_irq(struct yakvm_ioapic *ioapic, int pin,
			 enum yakvm_irq_source source, int level);
/*
 * A local APIC's EOI of @vector: every entry with that vector is
 * acknowledged (yakvm_irq_acked), and a level one leaves remote IRR and is
 * delivered again if its line is still asserted.  Call it for each EOI of
 * a vector yakvm_ioapic_handles_vector() reports, whatever the TMR says
 * (the PIT's ticks and edge irqfds are acknowledged that way).  This
 * IOAPIC has no EOI register, so, as on KVM with its in-kernel IOAPIC, the
 * local APICs must not offer directed EOI.
 */
void yakvm_ioapic_eoi(struct yakvm_vm *vm, int vector);
/* Whether an entry uses @vector; lockless, for the EOI path's fast check. */
bool yakvm_ioapic_handles_vector(struct yakvm_ioapic *ioapic, int vector);
void yakvm_ioapic_get_state(struct yakvm_ioapic *ioapic,
			    struct kvm_ioapic_state *state);
void yakvm_ioapic_set_state(struct yakvm_ioapic *ioapic,
			    const struct kvm_ioapic_state *state);
/* Drop every level @source holds (an irqfd's resampler going away). */
void yakvm_ioapic_clear_source(struct yakvm_ioapic *ioapic,
			       enum yakvm_irq_source source);

/* ------------------------------------------------------------------ */
/* i8259.c                                                            */

struct yakvm_pic;

int yakvm_pic_create(struct yakvm_vm *vm);
void yakvm_pic_destroy(struct yakvm_vm *vm);
/*
 * Line @irq (0-15: 0-7 master, 8-15 slave) from @source to @level.  Returns
 * KVM's values: -1 masked (IMR), 0 coalesced, 1 otherwise; -EINVAL for a
 * bad pin.
 */
int yakvm_pic_set_irq(struct yakvm_pic *pic, int irq,
		      enum yakvm_irq_source source, int level);
/* The master's INT output: an interrupt is waiting for an acknowledge. */
bool yakvm_pic_has_interrupt(struct yakvm_pic *pic);
/*
 * The INTA cycle: the vector to deliver (updates IRR/ISR; IR7's vector when
 * nothing is pending).  A request still pending afterwards kicks again.
 */
int yakvm_pic_ack(struct yakvm_pic *pic);
/* KVM_GET/SET_IRQCHIP for KVM_IRQCHIP_PIC_MASTER (0) and _SLAVE (1). */
void yakvm_pic_get_state(struct yakvm_pic *pic, int chip,
			 struct kvm_pic_state *state);
void yakvm_pic_set_state(struct yakvm_pic *pic, int chip,
			 const struct kvm_pic_state *state);
void yakvm_pic_clear_source(struct yakvm_pic *pic,
			    enum yakvm_irq_source source);

/* ------------------------------------------------------------------ */
/* i8254.c                                                            */

struct yakvm_pit;

int yakvm_pit_create(struct yakvm_vm *vm, u32 flags);	/* KVM_CREATE_PIT2 */
void yakvm_pit_destroy(struct yakvm_vm *vm);
int yakvm_pit_get_state(struct yakvm_pit *pit, struct kvm_pit_state2 *state);
int yakvm_pit_set_state(struct yakvm_pit *pit,
			const struct kvm_pit_state2 *state);
int yakvm_pit_reinject(struct yakvm_pit *pit,
		       const struct kvm_reinject_control *control);
/* GSI 0 was acknowledged (routing.c, from yakvm_irq_acked()). */
void yakvm_pit_irq_acked(struct yakvm_pit *pit);
/* A route of GSI 0 was masked or unmasked (from yakvm_irq_mask_changed()). */
void yakvm_pit_irq_mask_changed(struct yakvm_pit *pit, bool masked);

/* ------------------------------------------------------------------ */
/* irqchip.c, routing.c, eventfd.c: the VM ioctls                     */

void yakvm_irq_init(struct yakvm_vm *vm);
void yakvm_irq_destroy(struct yakvm_vm *vm);
long yakvm_create_irqchip(struct yakvm_vm *vm);
long yakvm_enable_split_irqchip(struct yakvm_vm *vm, u64 nr_routes);
long yakvm_irq_line(struct yakvm_vm *vm, void __user *argp, bool status);
long yakvm_irqchip_state(struct yakvm_vm *vm, void __user *argp, bool set);
long yakvm_create_pit(struct yakvm_vm *vm, void __user *argp);
long yakvm_pit_state(struct yakvm_vm *vm, void __user *argp, bool set);
long yakvm_reinject_control(struct yakvm_vm *vm, void __user *argp);
long yakvm_set_gsi_routing(struct yakvm_vm *vm, void __user *argp);
int yakvm_set_default_routing(struct yakvm_vm *vm);
void yakvm_free_routing(struct yakvm_vm *vm);
long yakvm_signal_msi(struct yakvm_vm *vm, void __user *argp);
long yakvm_irqfd(struct yakvm_vm *vm, void __user *argp);
long yakvm_ioeventfd(struct yakvm_vm *vm, void __user *argp);
void yakvm_irqfd_acked(struct yakvm_vm *vm, u32 gsi);
void yakvm_eventfds_destroy(struct yakvm_vm *vm);
int yakvm_eventfd_init(void);
void yakvm_eventfd_exit(void);

/* ------------------------------------------------------------------ */
/* The VM's view (in struct yakvm_vm as vm->irq)                      */

struct yakvm_io_bus;
struct yakvm_irq_routing_table;

struct yakvm_vm_irq {
	/* Set once by KVM_CREATE_IRQCHIP (or KVM_CAP_SPLIT_IRQCHIP); never cleared. */
	bool lapic_in_kernel;
	bool split;			/* IOAPIC and PIC in user space */
	u32 nr_ioapic_routes;		/* split: GSIs below this are the VMM's IOAPIC pins */
	struct yakvm_pic *pic;
	struct yakvm_ioapic *ioapic;
	struct yakvm_pit *pit;

	struct mutex lock;		/* creation, routing and bus updates */
	struct yakvm_irq_routing_table __rcu *routing;
	struct yakvm_io_bus __rcu *buses[YAKVM_NR_BUSES];

	/* eventfd.c */
	spinlock_t irqfds_lock;
	struct list_head irqfds;
	struct list_head resamplers;
	struct list_head ioeventfds;	/* under lock */
	struct workqueue_struct *irqfd_wq;
};

#endif /* YAKVM_IRQ_H */
