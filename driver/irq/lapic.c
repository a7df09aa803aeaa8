// SPDX-License-Identifier: GPL-2.0
/*
 * The local APIC of each vCPU, when the VM has the in-kernel irqchip
 * (Intel SDM vol. 3 ch. 10, AMD APM vol. 2 ch. 16).  xAPIC mode through MMIO
 * at the APIC base (NPF exits, emulate/mmio.c), x2APIC mode through MSRs
 * 0x800-0x8ff; the registers are kept in a page laid out as the xAPIC's,
 * whose first KiB is KVM_GET/SET_LAPIC's struct kvm_lapic_state.
 *
 * Ownership: the registers belong to the vCPU's thread.  Other CPUs (IPIs
 * from other vCPUs, the IOAPIC, MSIs) only set IRR/TMR bits with atomic bit
 * operations or post INIT/SIPI in pending_events, then kick the vCPU; the
 * APIC timer's hrtimer only counts an expiry in timer_pending.  The vCPU
 * turns those into register state before each entry
 * (yakvm_lapic_process_events) and picks the interrupt to inject with
 * interrupts off (yakvm_lapic_pending_vector, yakvm_lapic_ack).
 *
 * The APIC bus runs at 1 GHz, as KVM's, so an initial count of N with divide
 * D lasts N * D nanoseconds; a periodic timer is never faster than 200 us
 * (KVM's min_timer_period_us), so a guest cannot keep a host CPU busy with
 * timer interrupts.
 */
#define pr_fmt(fmt) "yakvm: " fmt

#include <linux/kvm_para.h>
#include <linux/slab.h>
#include <asm/apicdef.h>
#include <asm/msr-index.h>

#include "yakvm.h"

#define APIC_BUS_CYCLE_NS	1
#define MIN_TIMER_PERIOD_NS	(200 * NSEC_PER_USEC)
/* Version 0x14 (integrated xAPIC), six LVT entries (max LVT index 5). */
#define APIC_VERSION_VALUE	(0x14 | (5 << 16))
#define APIC_LVT_TIMER_MODE	(3 << 17)
#define X2APIC_MSR_FIRST	0x800
#define X2APIC_MSR_LAST		0x8ff
#define APIC_BASE_VALID		(GENMASK_ULL(51, 12) | MSR_IA32_APICBASE_BSP | \
				 X2APIC_ENABLE | MSR_IA32_APICBASE_ENABLE)

enum { LAPIC_EVENT_INIT, LAPIC_EVENT_SIPI };

struct yakvm_lapic {
	struct yakvm_vcpu *vcpu;
	void *regs;			/* a page, the xAPIC register layout */

	struct hrtimer timer;
	atomic_t timer_pending;		/* expiries not yet turned into IRR */
	u64 period_ns;			/* periodic mode, else 0 */
	u32 divide;			/* 1 .. 128 */
	u64 tsc_deadline;		/* guest TSC; 0: disarmed */

	unsigned long pending_events;	/* LAPIC_EVENT_*, set by other CPUs */
	u8 sipi_vector;
};

/* The reserved bits of each LVT (SDM 10.5.1): what a write may set. */
static const struct {
	u32 reg;
	u32 mask;
} lvt_masks[] = {
	{ APIC_LVTT, 0x000710ff },	/* vector, mask, timer mode (2 bits) */
	{ APIC_LVTTHMR, 0x000117ff },
	{ APIC_LVTPC, 0x000117ff },
	{ APIC_LVT0, 0x0001f7ff },	/* + polarity, remote IRR, trigger */
	{ APIC_LVT1, 0x0001f7ff },
	{ APIC_LVTERR, 0x000110ff },
};

static inline u32 reg_read(struct yakvm_lapic *apic, u32 off)
{
	return READ_ONCE(*(u32 *)(apic->regs + off));
}

static inline void reg_write(struct yakvm_lapic *apic, u32 off, u32 val)
{
	WRITE_ONCE(*(u32 *)(apic->regs + off), val);
}

/* IRR, ISR and TMR: 256 bits as eight 32-bit registers 16 bytes apart. */
static inline unsigned long *vec_word(struct yakvm_lapic *apic, u32 base,
				      int vec)
{
	return (unsigned long *)(apic->regs + base + ((vec >> 5) << 4));
}

static inline void vec_set(struct yakvm_lapic *apic, u32 base, int vec)
{
	set_bit(vec & 31, vec_word(apic, base, vec));
}

static inline void vec_clear(struct yakvm_lapic *apic, u32 base, int vec)
{
	clear_bit(vec & 31, vec_word(apic, base, vec));
}

static inline bool vec_test(struct yakvm_lapic *apic, u32 base, int vec)
{
	return test_bit(vec & 31, vec_word(apic, base, vec));
}

static int vec_highest(struct yakvm_lapic *apic, u32 base)
{
	int i;

	for (i = 7; i >= 0; i--) {
		u32 word = reg_read(apic, base + (i << 4));

		if (word)
			return (i << 5) + fls(word) - 1;
	}
	return -1;
}

static bool hw_enabled(struct yakvm_vcpu *vcpu)
{
	return vcpu->apic_base & MSR_IA32_APICBASE_ENABLE;
}

static bool x2apic(struct yakvm_vcpu *vcpu)
{
	return vcpu->apic_base & X2APIC_ENABLE;
}

static bool sw_enabled(struct yakvm_lapic *apic)
{
	return reg_read(apic, APIC_SPIV) & APIC_SPIV_APIC_ENABLED;
}

bool yakvm_lapic_enabled(struct yakvm_vcpu *vcpu)
{
	return vcpu->apic && hw_enabled(vcpu) && sw_enabled(vcpu->apic);
}

static u32 apic_id(struct yakvm_vcpu *vcpu)
{
	u32 id = reg_read(vcpu->apic, APIC_ID);

	return x2apic(vcpu) ? id : id >> 24;
}

/* ------------------------------------------------------------------ */
/* Priorities, acceptance and EOI                                     */

static u32 compute_ppr(struct yakvm_lapic *apic)
{
	u32 tpr = reg_read(apic, APIC_TASKPRI) & 0xff;
	int isrv = vec_highest(apic, APIC_ISR);
	u32 isr_class = isrv < 0 ? 0 : isrv & 0xf0;

	return (tpr & 0xf0) >= isr_class ? tpr : isr_class;
}

static void update_ppr(struct yakvm_lapic *apic)
{
	reg_write(apic, APIC_PROCPRI, compute_ppr(apic));
}

u32 yakvm_lapic_priority(struct yakvm_vcpu *vcpu)
{
	return compute_ppr(vcpu->apic);
}

int yakvm_lapic_accept(struct yakvm_vcpu *vcpu, const struct yakvm_lapic_irq *irq)
{
	struct yakvm_lapic *apic = vcpu->apic;

	switch (irq->delivery_mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		/* A software-disabled APIC takes no fixed interrupts (SDM 10.4.7.2). */
		if (!yakvm_lapic_enabled(vcpu) || irq->vector < 16)
			return 0;
		if (irq->trig_level)
			vec_set(apic, APIC_TMR, irq->vector);
		else
			vec_clear(apic, APIC_TMR, irq->vector);
		vec_set(apic, APIC_IRR, irq->vector);
		break;
	case APIC_DM_NMI:
		atomic_inc(&vcpu->nmi_queued);
		break;
	case APIC_DM_INIT:
		/* The level-deassert INIT of old MP start-up code does nothing. */
		if (!irq->level)
			return 0;
		set_bit(LAPIC_EVENT_INIT, &apic->pending_events);
		break;
	case APIC_DM_STARTUP:
		WRITE_ONCE(apic->sipi_vector, irq->vector);
		/* The vector is seen by whoever sees the event. */
		smp_mb__before_atomic();
		set_bit(LAPIC_EVENT_SIPI, &apic->pending_events);
		break;
	default:
		/* SMI (no SMM), remote read, ExtINT by IPI: not delivered. */
		return 0;
	}
	yakvm_vcpu_kick(vcpu);
	return 1;
}

/* The highest IRR vector that beats the PPR, or -1. */
int yakvm_lapic_pending_vector(struct yakvm_vcpu *vcpu)
{
	struct yakvm_lapic *apic = vcpu->apic;
	int irr;

	if (!yakvm_lapic_enabled(vcpu))
		return -1;
	irr = vec_highest(apic, APIC_IRR);
	if (irr < 0)
		return -1;
	update_ppr(apic);
	if ((irr & 0xf0) <= (reg_read(apic, APIC_PROCPRI) & 0xf0))
		return -1;
	return irr;
}

bool yakvm_lapic_has_pending(struct yakvm_vcpu *vcpu)
{
	return yakvm_lapic_enabled(vcpu) && vec_highest(vcpu->apic, APIC_IRR) >= 0;
}

/*
 * The CPU took @vector: it moves from IRR to ISR (SDM 10.8.4) -- except a
 * Hyper-V SINT's vector with auto-EOI, which never enters ISR (TLFS 11.8.4).
 */
void yakvm_lapic_ack(struct yakvm_vcpu *vcpu, int vector)
{
	struct yakvm_lapic *apic = vcpu->apic;

	vec_clear(apic, APIC_IRR, vector);
	if (!yakvm_synic_auto_eoi(vcpu, vector))
		vec_set(apic, APIC_ISR, vector);
	update_ppr(apic);
}

static void apic_eoi(struct yakvm_vcpu *vcpu)
{
	struct yakvm_lapic *apic = vcpu->apic;
	struct yakvm_ioapic *ioapic;
	int vec = vec_highest(apic, APIC_ISR);

	if (vec < 0)
		return;
	vec_clear(apic, APIC_ISR, vec);
	update_ppr(apic);
	/*
	 * The IOAPIC hears the EOI of every vector one of its entries uses,
	 * edge ones too (KVM's ack notifiers): the PIT's reinjection and edge
	 * irqfds' resamplers wait for it.  There is no directed EOI to offer.
	 */
	ioapic = READ_ONCE(vcpu->vm->irq.ioapic);
	if (ioapic && yakvm_ioapic_handles_vector(ioapic, vec))
		yakvm_ioapic_eoi(vcpu->vm, vec);
	/* Split irqchip: the VMM's IOAPIC hears it by KVM_EXIT_IOAPIC_EOI. */
	if (vcpu->vm->irq.split && yakvm_irq_split_eoi_wanted(vcpu, vec)) {
		vcpu->ioapic_eoi_vector = vec;
		set_bit(ilog2(YAKVM_REQ_IOAPIC_EOI), &vcpu->requests);
	}
	/* A SINT's end: its resamplers and waiting timers hear it. */
	yakvm_synic_eoi(vcpu, vec);
	set_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
}

/* LINT0 programmed for ExtINT, or the APIC off: the PIC's INT reaches the CPU. */
bool yakvm_lapic_accepts_extint(struct yakvm_vcpu *vcpu)
{
	u32 lvt0;

	if (!vcpu->apic || !hw_enabled(vcpu))
		return true;
	lvt0 = reg_read(vcpu->apic, APIC_LVT0);
	return !(lvt0 & APIC_LVT_MASKED) &&
	       GET_APIC_DELIVERY_MODE(lvt0) == APIC_MODE_EXTINT;
}

/* ------------------------------------------------------------------ */
/* Destinations                                                       */

static bool match_logical(struct yakvm_vcpu *vcpu, u32 dest)
{
	u32 ldr = reg_read(vcpu->apic, APIC_LDR);

	if (x2apic(vcpu))
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	dest &= 0xff;
	if (dest == 0xff)
		return true;
	ldr >>= 24;
	if (reg_read(vcpu->apic, APIC_DFR) >> 28 == 0xf)	/* flat */
		return dest & ldr;
	return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);	/* cluster */
}

bool yakvm_lapic_match_dest(struct yakvm_vcpu *vcpu, struct yakvm_vcpu *src,
			    const struct yakvm_lapic_irq *irq)
{
	if (!vcpu->apic)
		return false;
	switch (irq->shorthand) {
	case APIC_DEST_SELF:
		return vcpu == src;
	case APIC_DEST_ALLINC:
		return true;
	case APIC_DEST_ALLBUT:
		return vcpu != src;
	}
	if (irq->logical)
		return match_logical(vcpu, irq->dest_id);
	if (x2apic(vcpu))
		return irq->dest_id == 0xffffffff || irq->dest_id == apic_id(vcpu);
	return (irq->dest_id & 0xff) == 0xff || (irq->dest_id & 0xff) == apic_id(vcpu);
}

/*
 * KVM_HC_SEND_IPI (Documentation/virt/kvm/x86/hypercalls.rst): the
 * interrupt @icr describes to every APIC ID min + i whose bit i is set in
 * @low and min + cluster + i for @high, cluster being 64 IDs for a 64-bit
 * caller and 32 otherwise (the IDs wrap at 32 bits, as in KVM).  Only
 * physical destinations: a logical or shorthand ICR is -KVM_EINVAL.  As
 * KVM, APICs that are hardware-disabled are no destination, and the result
 * is how many APICs accepted the interrupt.
 */
long yakvm_lapic_pv_send_ipi(struct yakvm_vcpu *src, unsigned long low,
			     unsigned long high, u32 min, u64 icr, bool op64)
{
	struct yakvm_lapic_irq irq = {
		.vector = icr & APIC_VECTOR_MASK,
		.delivery_mode = icr & APIC_DM_FIXED_MASK,
		.level = icr & APIC_INT_ASSERT,
		.trig_level = icr & APIC_INT_LEVELTRIG,
	};
	struct yakvm_vm *vm = src->vm;
	u32 cluster = op64 ? 64 : 32;
	long count = 0;
	int i, n;

	if (icr & (APIC_DEST_LOGICAL | APIC_DEST_ALLBUT))
		return -KVM_EINVAL;
	/* Pairs with the release in yakvm_create_vcpu(): vcpus[] is filled in. */
	n = smp_load_acquire(&vm->nr_vcpus);
	for (i = 0; i < n; i++) {
		struct yakvm_vcpu *vcpu = vm->vcpus[i];
		unsigned long map = low;
		u32 bit;

		if (!vcpu->apic || !hw_enabled(vcpu))
			continue;
		bit = apic_id(vcpu) - min;
		if (bit >= cluster) {
			bit -= cluster;
			map = high;
		}
		if (bit < BITS_PER_LONG && test_bit(bit, &map))
			count += yakvm_lapic_accept(vcpu, &irq);
	}
	return count;
}

/* A write to ICR (xAPIC: the low half, ICR2 holding the destination). */
static void send_ipi(struct yakvm_vcpu *vcpu, u32 low, u32 dest)
{
	struct yakvm_lapic_irq irq = {
		.vector = low & APIC_VECTOR_MASK,
		.delivery_mode = low & APIC_DM_FIXED_MASK,
		.logical = low & APIC_DEST_LOGICAL,
		.level = low & APIC_INT_ASSERT,
		.trig_level = low & APIC_INT_LEVELTRIG,
		.shorthand = low & APIC_DEST_ALLBUT,
		.dest_id = dest,
	};

	/* Delivered at once: the busy bit never reads 1. */
	reg_write(vcpu->apic, APIC_ICR, low & ~APIC_ICR_BUSY);
	if ((irq.delivery_mode == APIC_DM_FIXED ||
	     irq.delivery_mode == APIC_DM_LOWEST) && irq.vector < 16) {
		reg_write(vcpu->apic, APIC_ESR,
			  reg_read(vcpu->apic, APIC_ESR) | APIC_ESR_SENDILL);
		return;
	}
	yakvm_irq_delivery_to_apic(vcpu->vm, vcpu, &irq);
}

/* ------------------------------------------------------------------ */
/* The APIC timer                                                     */

static u32 timer_mode(struct yakvm_lapic *apic)
{
	return reg_read(apic, APIC_LVTT) & APIC_LVT_TIMER_MODE;
}

static enum hrtimer_restart timer_expired(struct hrtimer *timer)
{
	struct yakvm_lapic *apic = container_of(timer, struct yakvm_lapic, timer);

	atomic_inc(&apic->timer_pending);
	yakvm_vcpu_kick(apic->vcpu);
	if (!READ_ONCE(apic->period_ns))
		return HRTIMER_NORESTART;
	hrtimer_add_expires_ns(timer, apic->period_ns);
	return HRTIMER_RESTART;
}

static void timer_stop(struct yakvm_lapic *apic)
{
	hrtimer_cancel(&apic->timer);
	atomic_set(&apic->timer_pending, 0);
	apic->period_ns = 0;
}

/* The divide configuration register (SDM 10.5.4): 2, 4, ... 128, or 1. */
static void update_divide(struct yakvm_lapic *apic)
{
	u32 tdcr = reg_read(apic, APIC_TDCR);
	u32 v = (tdcr & 3) | ((tdcr & 8) >> 1);

	apic->divide = 1 << ((v + 1) & 7);
}

/* (Re)start one-shot or periodic counting of @count from now. */
static void timer_start_count(struct yakvm_lapic *apic, u32 count)
{
	u64 ns = (u64)count * apic->divide * APIC_BUS_CYCLE_NS;

	timer_stop(apic);
	if (!count)
		return;
	if (timer_mode(apic) == APIC_LVT_TIMER_PERIODIC) {
		if (ns < MIN_TIMER_PERIOD_NS) {
			pr_info_ratelimited("vCPU %u: APIC timer period %llu ns raised to %llu ns\n",
					    apic->vcpu->id, ns, (u64)MIN_TIMER_PERIOD_NS);
			ns = MIN_TIMER_PERIOD_NS;
		}
		apic->period_ns = ns;
	}
	hrtimer_start(&apic->timer, ktime_add_ns(ktime_get(), ns),
		      HRTIMER_MODE_ABS_HARD);
}

static void timer_start_deadline(struct yakvm_lapic *apic)
{
	u64 now = yakvm_guest_tsc(apic->vcpu), ns = 0;

	timer_stop(apic);
	if (!apic->tsc_deadline || timer_mode(apic) != APIC_LVT_TIMER_TSCDEADLINE)
		return;
	if (apic->tsc_deadline > now && tsc_khz)
		ns = mul_u64_u64_div_u64(apic->tsc_deadline - now, NSEC_PER_MSEC,
					 tsc_khz);
	hrtimer_start(&apic->timer, ktime_add_ns(ktime_get(), ns),
		      HRTIMER_MODE_ABS_HARD);
}

/* TMCCT: the count left, from the hrtimer's expiry (SDM 10.5.4). */
static u32 timer_current_count(struct yakvm_lapic *apic)
{
	s64 left;

	if (timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE ||
	    !hrtimer_active(&apic->timer))
		return 0;
	left = ktime_to_ns(ktime_sub(hrtimer_get_expires(&apic->timer), ktime_get()));
	if (left < 0)
		left = 0;
	return div64_u64(left, (u64)apic->divide * APIC_BUS_CYCLE_NS);
}

/* An expiry becomes the LVT timer's interrupt, if it is not masked. */
static void timer_deliver(struct yakvm_vcpu *vcpu)
{
	struct yakvm_lapic *apic = vcpu->apic;
	u32 lvtt = reg_read(apic, APIC_LVTT);

	if (!atomic_xchg(&apic->timer_pending, 0))
		return;
	if (timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE)
		apic->tsc_deadline = 0;
	if (!(lvtt & APIC_LVT_MASKED) && yakvm_lapic_enabled(vcpu)) {
		struct yakvm_lapic_irq irq = {
			.vector = lvtt & APIC_VECTOR_MASK,
			.delivery_mode = APIC_DM_FIXED,
		};

		yakvm_lapic_accept(vcpu, &irq);
	}
}

/* ------------------------------------------------------------------ */
/* Registers                                                          */

static bool tsc_deadline_offered(struct yakvm_vcpu *vcpu)
{
	return yakvm_guest_cpuid_bit(vcpu, 1, 0, YAKVM_CPUID_ECX, 24);
}

/* A register read at @off (16-byte aligned); false for no such register. */
static bool reg_get(struct yakvm_vcpu *vcpu, u32 off, u32 *val)
{
	struct yakvm_lapic *apic = vcpu->apic;

	switch (off) {
	case APIC_ID:
	case APIC_LVR:
	case APIC_TASKPRI:
	case APIC_LDR:
	case APIC_SPIV:
	case APIC_ESR:
	case APIC_ICR:
	case APIC_LVTT:
	case APIC_LVTTHMR:
	case APIC_LVTPC:
	case APIC_LVT0:
	case APIC_LVT1:
	case APIC_LVTERR:
	case APIC_TMICT:
	case APIC_TDCR:
	case APIC_ISR ... APIC_ISR + 0x70:
	case APIC_TMR ... APIC_TMR + 0x70:
	case APIC_IRR ... APIC_IRR + 0x70:
		*val = reg_read(apic, off);
		return true;
	case APIC_PROCPRI:
		update_ppr(apic);
		*val = reg_read(apic, off);
		return true;
	case APIC_ARBPRI:
	case APIC_EOI:
	case APIC_RRR:
		*val = 0;		/* write-only or unused: reads 0 */
		return true;
	case APIC_DFR:
	case APIC_ICR2:
		if (x2apic(vcpu))
			return false;
		*val = reg_read(apic, off);
		return true;
	case APIC_TMCCT:
		*val = timer_current_count(apic);
		return true;
	}
	return false;
}

static void write_lvt(struct yakvm_vcpu *vcpu, u32 off, u32 val)
{
	struct yakvm_lapic *apic = vcpu->apic;
	u32 old_mode = timer_mode(apic);
	int i;

	for (i = 0; i < ARRAY_SIZE(lvt_masks); i++)
		if (lvt_masks[i].reg == off)
			val &= lvt_masks[i].mask;
	/* A software-disabled APIC keeps every LVT masked (SDM 10.4.7.2). */
	if (!sw_enabled(apic))
		val |= APIC_LVT_MASKED;
	if (off == APIC_LVTT) {
		if ((val & APIC_LVT_TIMER_MODE) == APIC_LVT_TIMER_MODE ||
		    ((val & APIC_LVT_TIMER_MODE) == APIC_LVT_TIMER_TSCDEADLINE &&
		     !tsc_deadline_offered(vcpu)))
			val &= ~APIC_LVT_TIMER_MODE;
		reg_write(apic, off, val);
		/* Changing modes disarms the timer (SDM 10.5.4.1). */
		if ((val & APIC_LVT_TIMER_MODE) != old_mode) {
			timer_stop(apic);
			reg_write(apic, APIC_TMICT, 0);
			apic->tsc_deadline = 0;
		}
		return;
	}
	reg_write(apic, off, val);
}

static void write_svr(struct yakvm_vcpu *vcpu, u32 val)
{
	struct yakvm_lapic *apic = vcpu->apic;
	int i;

	reg_write(apic, APIC_SPIV, val & 0x3ff);	/* no EOI suppression */
	if (!(val & APIC_SPIV_APIC_ENABLED))
		for (i = 0; i < ARRAY_SIZE(lvt_masks); i++)
			reg_write(apic, lvt_masks[i].reg,
				  reg_read(apic, lvt_masks[i].reg) | APIC_LVT_MASKED);
	set_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
}

/* A register write; false for a register that cannot be written (#GP in x2APIC). */
static bool reg_set(struct yakvm_vcpu *vcpu, u32 off, u32 val)
{
	struct yakvm_lapic *apic = vcpu->apic;

	switch (off) {
	case APIC_ID:
		if (x2apic(vcpu))
			return false;
		reg_write(apic, off, val & 0xff000000);
		return true;
	case APIC_TASKPRI:
		reg_write(apic, off, val & 0xff);
		update_ppr(apic);
		set_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
		return true;
	case APIC_EOI:
		apic_eoi(vcpu);
		return true;
	case APIC_LDR:
		if (x2apic(vcpu))
			return false;
		reg_write(apic, off, val & APIC_LDR_MASK);
		return true;
	case APIC_DFR:
		if (x2apic(vcpu))
			return false;
		reg_write(apic, off, val | 0x0fffffff);
		return true;
	case APIC_SPIV:
		write_svr(vcpu, val);
		return true;
	case APIC_ESR:
		/* x2APIC: only 0 may be written (SDM 10.12.1.2), as KVM. */
		if (x2apic(vcpu) && val)
			return false;
		/* A write latches the errors seen so far (SDM 10.5.3); none kept. */
		reg_write(apic, off, 0);
		return true;
	case APIC_ICR:
		if (x2apic(vcpu))
			return false;	/* one 64-bit MSR write instead */
		send_ipi(vcpu, val, reg_read(apic, APIC_ICR2) >> 24);
		return true;
	case APIC_ICR2:
		if (x2apic(vcpu))
			return false;
		reg_write(apic, off, val & 0xff000000);
		return true;
	case APIC_LVTT:
	case APIC_LVTTHMR:
	case APIC_LVTPC:
	case APIC_LVT0:
	case APIC_LVT1:
	case APIC_LVTERR:
		write_lvt(vcpu, off, val);
		return true;
	case APIC_TMICT:
		if (timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE)
			return true;	/* ignored in TSC-deadline mode */
		reg_write(apic, off, val);
		timer_start_count(apic, val);
		return true;
	case APIC_TDCR:
		reg_write(apic, off, val & 0xb);
		update_divide(apic);
		return true;
	case APIC_SELF_IPI:
		if (!x2apic(vcpu))
			return false;
		send_ipi(vcpu, APIC_DEST_SELF | (val & APIC_VECTOR_MASK), 0);
		return true;
	case APIC_LVR:
	case APIC_PROCPRI:
	case APIC_TMCCT:
	case APIC_ARBPRI:
	case APIC_RRR:
	case APIC_ISR ... APIC_ISR + 0x70:
	case APIC_TMR ... APIC_TMR + 0x70:
	case APIC_IRR ... APIC_IRR + 0x70:
		/* Read-only: xAPIC ignores the write, x2APIC raises #GP. */
		return !x2apic(vcpu);
	}
	return !x2apic(vcpu);
}

/*
 * xAPIC MMIO.  Registers are 32 bits at 16-byte-aligned offsets; an access
 * of another size or alignment reads what it covers of the register and
 * writes nothing, as the hardware would not define it (KVM does the same).
 */
bool yakvm_lapic_mmio(struct yakvm_vcpu *vcpu, u64 gpa, int len, void *val,
		      bool write)
{
	u64 base = vcpu->apic_base & MSR_IA32_APICBASE_BASE;
	u32 off, reg = 0;

	if (!vcpu->apic || gpa < base || gpa - base >= YAKVM_APIC_MMIO_LEN)
		return false;
	/*
	 * Disabled or in x2APIC mode the page is not the APIC's any more, but,
	 * as KVM (KVM_X86_QUIRK_LAPIC_MMIO_HOLE, on by default), it stays a
	 * hole: reads give all-ones, writes are dropped.
	 */
	if (!hw_enabled(vcpu) || x2apic(vcpu)) {
		if (!write)
			memset(val, 0xff, len);
		return true;
	}
	off = gpa - base;
	if (write) {
		if (len == 4 && !(off & 0xf))
			reg_set(vcpu, off, *(u32 *)val);
		return true;
	}
	memset(val, 0, len);
	if ((off & 0xf) < 4 && reg_get(vcpu, off & ~0xfu, &reg)) {
		reg >>= (off & 3) * 8;
		memcpy(val, &reg, min_t(int, len, 4 - (off & 3)));
	}
	return true;
}

/* x2APIC MSRs (SDM 10.12.1) and IA32_TSC_DEADLINE. */
int yakvm_lapic_get_msr(struct yakvm_vcpu *vcpu, u32 msr, u64 *data)
{
	struct yakvm_lapic *apic = vcpu->apic;
	u32 off, val;

	/*
	 * As KVM, the MSR exists whatever the CPUID says (QEMU restores it
	 * for CPU models without the bit); the mode cannot be TSC-deadline
	 * then, so it reads 0 and ignores writes.
	 */
	if (msr == MSR_IA32_TSC_DEADLINE) {
		if (!apic)
			return 1;
		*data = timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE ?
			apic->tsc_deadline : 0;
		return 0;
	}
	if (msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST)
		return -ENOENT;
	if (!apic || !x2apic(vcpu))
		return 1;
	off = (msr - X2APIC_MSR_FIRST) << 4;
	if (off == APIC_ICR) {
		*data = reg_read(apic, APIC_ICR) |
			(u64)reg_read(apic, APIC_ICR2) << 32;
		return 0;
	}
	/* EOI and SELF_IPI are write-only in x2APIC mode. */
	if (off == APIC_EOI || off == APIC_SELF_IPI || !reg_get(vcpu, off, &val))
		return 1;
	*data = val;
	return 0;
}

int yakvm_lapic_set_msr(struct yakvm_vcpu *vcpu, u32 msr, u64 data, bool host)
{
	struct yakvm_lapic *apic = vcpu->apic;
	u32 off;

	if (msr == MSR_IA32_TSC_DEADLINE) {
		if (!apic)
			return 1;
		if (timer_mode(apic) != APIC_LVT_TIMER_TSCDEADLINE)
			return 0;	/* ignored outside TSC-deadline mode */
		apic->tsc_deadline = data;
		timer_start_deadline(apic);
		return 0;
	}
	if (msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_LAST)
		return -ENOENT;
	if (!apic || !x2apic(vcpu))
		return 1;
	off = (msr - X2APIC_MSR_FIRST) << 4;
	if (off == APIC_ICR) {
		reg_write(apic, APIC_ICR2, data >> 32);
		send_ipi(vcpu, (u32)data, data >> 32);
		return 0;
	}
	/* The upper half of every other x2APIC MSR is reserved. */
	if (data >> 32)
		return 1;
	if (off == APIC_EOI && data)
		return 1;
	return reg_set(vcpu, off, data) ? 0 : 1;
}

/* The x2APIC's ID and logical ID follow from the vCPU id (SDM 10.12.10.2). */
static void set_x2apic_ids(struct yakvm_lapic *apic)
{
	u32 id = apic->vcpu->id;

	reg_write(apic, APIC_ID, id);
	reg_write(apic, APIC_LDR, ((id >> 4) << 16) | (1 << (id & 0xf)));
}

/*
 * IA32_APIC_BASE (SDM 10.12.5): the only valid changes are disabled <->
 * xAPIC <-> x2APIC, and x2APIC -> disabled; x2APIC only if the CPUID
 * offers it.  A guest's invalid change raises #GP.
 */
int yakvm_lapic_set_base(struct yakvm_vcpu *vcpu, u64 value, bool host)
{
	struct yakvm_lapic *apic = vcpu->apic;
	u64 old = vcpu->apic_base, mode = value & (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE);
	u64 old_mode = old & (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE);

	if (value & ~APIC_BASE_VALID)
		return 1;
	if (mode == X2APIC_ENABLE)
		return 1;	/* x2APIC without the global enable */
	if ((value & X2APIC_ENABLE) &&
	    !yakvm_guest_cpuid_bit(vcpu, 1, 0, YAKVM_CPUID_ECX, 21))
		return 1;
	if (!host && old_mode == (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE) &&
	    mode == MSR_IA32_APICBASE_ENABLE)
		return 1;	/* x2APIC -> xAPIC needs a trip through disabled */
	if (!host && !old_mode && mode == (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE))
		return 1;	/* disabled -> x2APIC needs xAPIC first */
	vcpu->apic_base = value;
	if (!apic)
		return 0;
	if (mode != old_mode) {
		if (value & X2APIC_ENABLE)
			set_x2apic_ids(apic);
		else if (old & X2APIC_ENABLE)
			reg_write(apic, APIC_ID, vcpu->id << 24);
		if (!(value & MSR_IA32_APICBASE_ENABLE))
			timer_stop(apic);
		set_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* CR8 / V_TPR (APM 15.21.1) and events                               */

/* Before each entry: the TPR's priority class is what V_TPR holds. */
void yakvm_lapic_sync_to_vmcb(struct yakvm_vcpu *vcpu)
{
	struct vmcb_control_area *c = &vcpu->vmcb->control;

	c->int_ctl = (c->int_ctl & ~V_TPR_MASK) |
		     ((reg_read(vcpu->apic, APIC_TASKPRI) >> 4) & V_TPR_MASK);
	yakvm_vmcb_dirty(vcpu->vmcb, YAKVM_DIRTY_TPR);
}

u64 yakvm_lapic_get_cr8(struct yakvm_vcpu *vcpu)
{
	return reg_read(vcpu->apic, APIC_TASKPRI) >> 4;
}

void yakvm_lapic_set_cr8(struct yakvm_vcpu *vcpu, u64 cr8)
{
	reg_write(vcpu->apic, APIC_TASKPRI, (cr8 & 0xf) << 4);
	update_ppr(vcpu->apic);
	set_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
}

/*
 * Right after each exit, before anything reads or writes the TPR: the
 * guest may have written CR8 (V_TPR) without an exit.  Only then -- V_TPR
 * is stale once the exit's handling or an ioctl changed the TPR.
 */
void yakvm_lapic_sync_from_vmcb(struct yakvm_vcpu *vcpu)
{
	struct yakvm_lapic *apic = vcpu->apic;
	u32 cr8 = vcpu->vmcb->control.int_ctl & V_TPR_MASK;

	if ((reg_read(apic, APIC_TASKPRI) >> 4) != cr8) {
		reg_write(apic, APIC_TASKPRI, cr8 << 4);
		update_ppr(apic);
		set_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
	}
}

/*
 * What other CPUs posted: the timer's expiries, INIT and SIPI.  INIT resets
 * the vCPU to its INIT state and leaves an AP waiting for SIPI
 * (INIT_RECEIVED); a SIPI starts a vCPU waiting for one at vector * 0x1000
 * in real mode (SDM 8.4.4.1).
 */
void yakvm_lapic_process_events(struct yakvm_vcpu *vcpu)
{
	struct yakvm_lapic *apic = vcpu->apic;

	timer_deliver(vcpu);
	if (!READ_ONCE(apic->pending_events))
		return;
	if (test_and_clear_bit(LAPIC_EVENT_INIT, &apic->pending_events)) {
		yakvm_vcpu_init(vcpu);
		vcpu->mp_state = (vcpu->apic_base & MSR_IA32_APICBASE_BSP) ?
				 KVM_MP_STATE_RUNNABLE : KVM_MP_STATE_INIT_RECEIVED;
	}
	if (test_and_clear_bit(LAPIC_EVENT_SIPI, &apic->pending_events)) {
		/* Pairs with the barrier in yakvm_lapic_accept(). */
		smp_mb__after_atomic();
		if (vcpu->mp_state == KVM_MP_STATE_INIT_RECEIVED) {
			yakvm_vcpu_sipi(vcpu, READ_ONCE(apic->sipi_vector));
			vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
		}
	}
}

u8 yakvm_lapic_sipi_vector(struct yakvm_vcpu *vcpu)
{
	return READ_ONCE(vcpu->apic->sipi_vector);
}

void yakvm_lapic_set_sipi_vector(struct yakvm_vcpu *vcpu, u8 vector)
{
	WRITE_ONCE(vcpu->apic->sipi_vector, vector);
}

void yakvm_lapic_post_sipi(struct yakvm_vcpu *vcpu)
{
	set_bit(LAPIC_EVENT_SIPI, &vcpu->apic->pending_events);
}

/* ------------------------------------------------------------------ */
/* Reset, KVM_GET/SET_LAPIC, lifetime                                 */

void yakvm_lapic_reset(struct yakvm_vcpu *vcpu, bool init)
{
	struct yakvm_lapic *apic = vcpu->apic;
	int i;

	if (!apic)
		return;
	timer_stop(apic);
	apic->tsc_deadline = 0;
	if (!init) {
		vcpu->apic_base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
				  (yakvm_vcpu_is_bsp(vcpu) ? MSR_IA32_APICBASE_BSP : 0);
		memset(apic->regs, 0, PAGE_SIZE);
	}
	if (x2apic(vcpu))
		set_x2apic_ids(apic);
	else
		reg_write(apic, APIC_ID, vcpu->id << 24);
	reg_write(apic, APIC_LVR, APIC_VERSION_VALUE);
	reg_write(apic, APIC_TASKPRI, 0);
	reg_write(apic, APIC_PROCPRI, 0);
	if (!x2apic(vcpu))
		reg_write(apic, APIC_LDR, 0);
	reg_write(apic, APIC_DFR, 0xffffffff);
	reg_write(apic, APIC_SPIV, 0xff);
	for (i = 0; i < 8; i++) {
		reg_write(apic, APIC_ISR + (i << 4), 0);
		reg_write(apic, APIC_TMR + (i << 4), 0);
		reg_write(apic, APIC_IRR + (i << 4), 0);
	}
	reg_write(apic, APIC_ESR, 0);
	reg_write(apic, APIC_ICR, 0);
	reg_write(apic, APIC_ICR2, 0);
	for (i = 0; i < ARRAY_SIZE(lvt_masks); i++)
		reg_write(apic, lvt_masks[i].reg, APIC_LVT_MASKED);
	/*
	 * As KVM: the BSP starts in virtual-wire mode, LINT0 taking the
	 * PIC's ExtINT, so firmware that never touches the APIC still gets
	 * the PIC's interrupts.
	 */
	if (vcpu->apic_base & MSR_IA32_APICBASE_BSP)
		reg_write(apic, APIC_LVT0, SET_APIC_DELIVERY_MODE(0, APIC_MODE_EXTINT));
	reg_write(apic, APIC_TMICT, 0);
	reg_write(apic, APIC_TDCR, 0);
	update_divide(apic);
	/* INIT keeps a SIPI posted behind it; it is taken in right after. */
	if (!init)
		apic->pending_events = 0;
	atomic_set(&vcpu->nmi_queued, 0);
}

/*
 * KVM_GET_LAPIC: the first KiB of the register page, with the current
 * count and, in x2APIC mode, the ID in the xAPIC position (KVM's format
 * without KVM_CAP_X2APIC_API), so a state moves between KVM and yakvm.
 */
void yakvm_lapic_get_state(struct yakvm_vcpu *vcpu, struct kvm_lapic_state *s)
{
	struct yakvm_lapic *apic = vcpu->apic;

	memcpy(s->regs, apic->regs, sizeof(s->regs));
	*(u32 *)(s->regs + APIC_TMCCT) = timer_current_count(apic);
	if (x2apic(vcpu))
		*(u32 *)(s->regs + APIC_ID) = reg_read(apic, APIC_ID) << 24;
}

int yakvm_lapic_set_state(struct yakvm_vcpu *vcpu, const struct kvm_lapic_state *s)
{
	struct yakvm_lapic *apic = vcpu->apic;
	u32 id = *(const u32 *)(s->regs + APIC_ID);
	u32 tmcct = *(const u32 *)(s->regs + APIC_TMCCT);

	/* The APIC ID is the vCPU's: another one would route nothing here. */
	if (x2apic(vcpu) ? (id >> 24) != (vcpu->id & 0xff) : (id >> 24) != vcpu->id)
		return -EINVAL;
	timer_stop(apic);
	memcpy(apic->regs, s->regs, sizeof(s->regs));
	if (x2apic(vcpu))
		set_x2apic_ids(apic);
	reg_write(apic, APIC_LVR, APIC_VERSION_VALUE);
	reg_write(apic, APIC_ICR, reg_read(apic, APIC_ICR) & ~APIC_ICR_BUSY);
	reg_write(apic, APIC_TDCR, reg_read(apic, APIC_TDCR) & 0xb);
	update_divide(apic);
	update_ppr(apic);
	/* The timer goes on counting from where the saved state was. */
	if (timer_mode(apic) != APIC_LVT_TIMER_TSCDEADLINE && reg_read(apic, APIC_TMICT)) {
		u32 count = tmcct ? tmcct : reg_read(apic, APIC_TMICT);

		timer_start_count(apic, count);
		if (timer_mode(apic) == APIC_LVT_TIMER_PERIODIC)
			apic->period_ns = max_t(u64, MIN_TIMER_PERIOD_NS,
						(u64)reg_read(apic, APIC_TMICT) *
						apic->divide * APIC_BUS_CYCLE_NS);
	}
	set_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
	return 0;
}

int yakvm_lapic_create(struct yakvm_vcpu *vcpu)
{
	struct yakvm_lapic *apic;

	apic = kzalloc(sizeof(*apic), GFP_KERNEL_ACCOUNT);
	if (!apic)
		return -ENOMEM;
	apic->regs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!apic->regs) {
		kfree(apic);
		return -ENOMEM;
	}
	apic->vcpu = vcpu;
	hrtimer_init(&apic->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_HARD);
	apic->timer.function = timer_expired;
	vcpu->apic = apic;
	atomic_long_inc(&yakvm_counters.kernel_pages);
	yakvm_lapic_reset(vcpu, false);
	return 0;
}

/* The timer is stopped first: no callback can run on a freed APIC. */
void yakvm_lapic_free(struct yakvm_vcpu *vcpu)
{
	struct yakvm_lapic *apic = vcpu->apic;

	if (!apic)
		return;
	hrtimer_cancel(&apic->timer);
	free_page((unsigned long)apic->regs);
	kfree(apic);
	vcpu->apic = NULL;
	atomic_long_dec(&yakvm_counters.kernel_pages);
}
