// SPDX-License-Identifier: GPL-2.0
/*
 * Hyper-V's synthetic interrupt controller (SynIC) and synthetic timers
 * (Hyper-V TLFS 6.0, chapters 11 and 12), as KVM offers them with
 * KVM_CAP_HYPERV_SYNIC/SYNIC2 (api.rst 4.?: KVM_ENABLE_CAP on a vCPU):
 *
 * - SINT0-15 route 16 synthetic sources to vectors of the vCPU's own local
 *   APIC, each maskable and optionally auto-EOI (the APIC takes it without
 *   setting ISR).  A source is the VMM's (a KVM_IRQ_ROUTING_HV_SINT route,
 *   raised by KVM_IRQFD) or a synthetic timer.  The guest's end of a SINT
 *   (the APIC EOI of its vector, or a write of the EOM MSR) is passed on
 *   to the irqfd resamplers of its routes, so the VMM learns that a message
 *   slot it found busy may be free now, and retries the timers whose
 *   message was waiting.
 * - The message and event-flag pages (SIMP, SIEFP) belong to the guest;
 *   the VMM learns of every guest write of SCONTROL, SIMP and SIEFP by
 *   KVM_EXIT_HYPERV (KVM_EXIT_HYPERV_SYNIC) before the guest goes on, as
 *   QEMU keeps its own view of the pages.  yakvm writes only the timers'
 *   messages, through guest memory (so they are dirty-logged).
 * - Four timers per vCPU count the partition reference time (100 ns, the
 *   TIME_REF_COUNT MSR's, cpu/hyperv.c): one-shot at an absolute time or
 *   periodic, expiring into a HVMSG_TIMER_EXPIRED message in their SINT's
 *   slot or, in direct mode, into an APIC vector.  A busy slot gets the
 *   message-pending flag and the timer retries on the guest's EOM (a
 *   periodic timer drops that tick instead, as KVM, so ticks do not pile
 *   up).  The hrtimer only marks the timer and kicks the vCPU; the vCPU's
 *   thread delivers, in process context.
 * - The guest's HvPostMessage and HvSignalEvent hypercalls go to the VMM
 *   (KVM_EXIT_HYPERV_HCALL), except events whose connection has an eventfd
 *   (KVM_HYPERV_EVENTFD), signalled here.
 *
 * The semantics of every MSR follow KVM's (arch/x86/kvm/hyperv.c), so that
 * a guest and its saved state behave the same on both devices.  Locks: the
 * vCPU's thread owns its state; KVM_HYPERV_EVENTFD changes under
 * vm->hv_lock and is read under RCU.
 */
#include <linux/eventfd.h>
#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <linux/uaccess.h>
#include <asm/apicdef.h>
#include <asm/hyperv-tlfs.h>

#include "yakvm.h"

/* SINTx MSRs (TLFS 11.8.4). */
#define SINT_VECTOR_MASK	0xffULL
#define SINT_MASKED		BIT_ULL(16)
#define SINT_AUTO_EOI		BIT_ULL(17)
#define SINT_FIRST_VECTOR	16
#define SYNIC_VERSION		1
#define SYNIC_CONTROL_ENABLE	BIT_ULL(0)
#define SYNIC_PAGE_ENABLE	BIT_ULL(0)	/* SIMP and SIEFP */

/* STIMERx_CONFIG (TLFS 12.9.1). */
#define STIMER_ENABLE		BIT_ULL(0)
#define STIMER_PERIODIC		BIT_ULL(1)
#define STIMER_AUTO_ENABLE	BIT_ULL(3)
#define STIMER_VECTOR(c)	(((c) >> 4) & 0xff)
#define STIMER_DIRECT		BIT_ULL(12)
#define STIMER_SINT(c)		(((c) >> 16) & 0xf)

/* A message slot of the SIMP page (TLFS 11.9.2): 16-byte header, payload. */
#define MSG_SIZE		256
#define MSG_TYPE_NONE		0
#define MSG_TIMER_EXPIRED	0x80000010
#define MSG_FLAGS_OFFSET	5
#define MSG_FLAG_PENDING	BIT(0)

struct stimer_message {
	u32 type;
	u8 payload_size;
	u8 flags;
	u16 reserved;
	u64 sender;
	/* HV_TIMER_MESSAGE_PAYLOAD */
	u32 timer_index;
	u32 reserved2;
	u64 expiration_time;
	u64 delivery_time;
} __packed;

#define TIMER_PAYLOAD_SIZE	24

static int sint_vector(u64 sint)
{
	return sint & SINT_MASKED ? -1 : (int)(sint & SINT_VECTOR_MASK);
}

/* ------------------------------------------------------------------ */
/* SINTs                                                              */

/* The vCPU whose VP index is @vp_index and whose SynIC is on, or NULL. */
static struct yakvm_vcpu *synic_vcpu(struct yakvm_vm *vm, u32 vp_index)
{
	/* Pairs with the release in yakvm_create_vcpu(). */
	int i, n = smp_load_acquire(&vm->nr_vcpus);

	for (i = 0; i < n; i++) {
		struct yakvm_vcpu *vcpu = vm->vcpus[i];

		if (READ_ONCE(vcpu->hv.vp_index) == vp_index)
			return READ_ONCE(vcpu->hv.synic_active) ? vcpu : NULL;
	}
	return NULL;
}

/*
 * Raise SINT @sint of @vcpu: a fixed interrupt to its own APIC.  Returns
 * what KVM's synic_set_irq returns: how many APICs took it, -ENOENT while
 * the SINT is masked.
 */
static int sint_raise(struct yakvm_vcpu *vcpu, u32 sint)
{
	struct yakvm_lapic_irq irq = {
		.delivery_mode = APIC_DM_FIXED,
		.shorthand = APIC_DEST_SELF,
		.level = true,
	};
	int vector;

	if (sint >= YAKVM_HV_SINTS)
		return -EINVAL;
	vector = sint_vector(READ_ONCE(vcpu->hv.sint[sint]));
	if (vector < 0)
		return -ENOENT;
	irq.vector = vector;
	return yakvm_irq_delivery_to_apic(vcpu->vm, vcpu, &irq);
}

int yakvm_synic_set_irq(struct yakvm_vm *vm, u32 vp_index, u32 sint)
{
	struct yakvm_vcpu *vcpu = synic_vcpu(vm, vp_index);

	return vcpu ? sint_raise(vcpu, sint) : -EINVAL;
}

/* Whether a SINT the guest set up is delivered on @vector (@aeoi: auto-EOI). */
static bool synic_vector(struct yakvm_vcpu *vcpu, int vector, bool aeoi)
{
	int i;

	if (!vcpu->hv.synic_active)
		return false;
	for (i = 0; i < YAKVM_HV_SINTS; i++) {
		u64 sint = vcpu->hv.sint[i];

		if (sint_vector(sint) == vector && (!aeoi || (sint & SINT_AUTO_EOI)))
			return true;
	}
	return false;
}

bool yakvm_synic_auto_eoi(struct yakvm_vcpu *vcpu, int vector)
{
	return synic_vector(vcpu, vector, true);
}

static void stimer_mark_pending(struct yakvm_stimer *t, bool kick)
{
	struct yakvm_vcpu *vcpu = t->vcpu;

	set_bit(t->index, &vcpu->hv.stimer_pending);
	set_bit(ilog2(YAKVM_REQ_HV_STIMER), &vcpu->requests);
	if (kick)
		yakvm_vcpu_kick(vcpu);
}

/*
 * The guest is done with SINT @sint (EOI of its vector, or EOM): timers
 * whose message waited for the slot try again, and the resamplers of the
 * GSIs routed to it hear it (KVM's kvm_hv_notify_acked_sint).
 */
static void sint_acked(struct yakvm_vcpu *vcpu, u32 sint)
{
	int i;

	for (i = 0; i < YAKVM_HV_STIMERS; i++) {
		struct yakvm_stimer *t = &vcpu->hv.stimer[i];

		if (t->msg_pending && (t->config & STIMER_ENABLE) &&
		    !(t->config & STIMER_DIRECT) && STIMER_SINT(t->config) == sint)
			stimer_mark_pending(t, false);
	}
	yakvm_irq_hv_sint_acked(vcpu->vm, vcpu->hv.vp_index, sint);
}

void yakvm_synic_eoi(struct yakvm_vcpu *vcpu, int vector)
{
	int i;

	if (!vcpu->hv.synic_active)
		return;
	for (i = 0; i < YAKVM_HV_SINTS; i++)
		if (sint_vector(vcpu->hv.sint[i]) == vector)
			sint_acked(vcpu, i);
}

/* ------------------------------------------------------------------ */
/* Synthetic timers                                                   */

static void stimer_cleanup(struct yakvm_stimer *t)
{
	hrtimer_cancel(&t->timer);
	clear_bit(t->index, &t->vcpu->hv.stimer_pending);
	t->msg_pending = false;
	t->exp_time = 0;
}

static enum hrtimer_restart stimer_expired(struct hrtimer *timer)
{
	stimer_mark_pending(container_of(timer, struct yakvm_stimer, timer), true);
	return HRTIMER_NORESTART;
}

static void stimer_arm(struct yakvm_stimer *t, u64 now, u64 exp)
{
	hrtimer_start(&t->timer, ktime_add_ns(ktime_get(), 100 * (exp - now)),
		      HRTIMER_MODE_ABS);
}

/*
 * Start the timer towards its next expiry (TLFS 12.9.2): a periodic one
 * @count after now, or after its last expiry plus the whole periods that
 * passed; a one-shot one at the absolute time @count, at once if that is
 * past (TLFS: "it will expire immediately").
 */
static void stimer_start(struct yakvm_stimer *t)
{
	u64 now = yakvm_hv_ref_time(t->vcpu);

	if (t->config & STIMER_PERIODIC) {
		if (!t->exp_time) {
			t->exp_time = now + t->count;
		} else if (now >= t->exp_time) {
			u64 late;

			div64_u64_rem(now - t->exp_time, t->count, &late);
			t->exp_time = now + (t->count - late);
		}
		stimer_arm(t, now, t->exp_time);
		return;
	}
	t->exp_time = t->count;
	if (now >= t->count)
		stimer_mark_pending(t, false);
	else
		stimer_arm(t, now, t->count);
}

/*
 * The timer's message into its SINT's slot (TLFS 11.9.3).  0 when it was
 * delivered (or, for a periodic timer, dropped: the slot was busy), else
 * < 0 and the slot's message-pending flag asks the guest for an EOM.
 */
static int stimer_send_message(struct yakvm_stimer *t)
{
	struct yakvm_vcpu *vcpu = t->vcpu;
	u32 sint = STIMER_SINT(t->config);
	u64 slot = (vcpu->hv.msg_page & PAGE_MASK) + sint * MSG_SIZE;
	struct stimer_message m = {
		.type = MSG_TIMER_EXPIRED,
		.payload_size = TIMER_PAYLOAD_SIZE,
		.timer_index = t->index,
		.expiration_time = t->exp_time,
	};
	u32 type;
	u8 flags = MSG_FLAG_PENDING;
	int r;

	if (!(vcpu->hv.msg_page & SYNIC_PAGE_ENABLE))
		return -ENOENT;
	if (yakvm_read_gpa(vcpu->vm, slot, &type, sizeof(type)))
		return -EFAULT;
	if (type != MSG_TYPE_NONE) {
		if (t->config & STIMER_PERIODIC)
			return 0;
		if (yakvm_write_gpa(vcpu->vm, slot + MSG_FLAGS_OFFSET, &flags, 1))
			return -EFAULT;
		return -EAGAIN;
	}
	m.delivery_time = yakvm_hv_ref_time(vcpu);
	if (yakvm_write_gpa(vcpu->vm, slot, &m, sizeof(m)))
		return -EFAULT;
	r = sint_raise(vcpu, sint);
	if (r < 0)
		return r;
	return r ? 0 : -EFAULT;
}

/* Direct mode (TLFS 12.9.1): the vector straight to the vCPU's APIC. */
static int stimer_notify_direct(struct yakvm_stimer *t)
{
	struct yakvm_vcpu *vcpu = t->vcpu;
	struct yakvm_lapic_irq irq = {
		.vector = STIMER_VECTOR(t->config),
		.delivery_mode = APIC_DM_FIXED,
		.level = true,
	};

	return yakvm_lapic_accept(vcpu, &irq) ? 0 : -EAGAIN;
}

static void stimer_expire(struct yakvm_stimer *t)
{
	int r;

	t->msg_pending = true;
	if (t->config & STIMER_DIRECT)
		r = stimer_notify_direct(t);
	else
		r = stimer_send_message(t);
	if (r)
		return;
	t->msg_pending = false;
	if (!(t->config & STIMER_PERIODIC))
		t->config &= ~STIMER_ENABLE;
}

/* In the vCPU's thread, before it enters the guest. */
void yakvm_synic_process_stimers(struct yakvm_vcpu *vcpu)
{
	int i;

	clear_bit(ilog2(YAKVM_REQ_HV_STIMER), &vcpu->requests);
	/* Timers marked after the clear set the request again. */
	smp_mb__after_atomic();
	for (i = 0; i < YAKVM_HV_STIMERS; i++) {
		struct yakvm_stimer *t = &vcpu->hv.stimer[i];

		if (!test_and_clear_bit(i, &vcpu->hv.stimer_pending) ||
		    !(t->config & STIMER_ENABLE))
			continue;
		if (t->exp_time && yakvm_hv_ref_time(vcpu) >= t->exp_time)
			stimer_expire(t);
		if ((t->config & STIMER_ENABLE) && t->count) {
			if (!t->msg_pending)
				stimer_start(t);
		} else {
			stimer_cleanup(t);
		}
	}
}

/*
 * A write of STIMERx_CONFIG: a timer without a SINT (and not direct)
 * cannot be enabled; an enabled one starts from its count.
 */
static int stimer_set_config(struct yakvm_stimer *t, u64 config, bool host)
{
	bool was_enabled = t->config & STIMER_ENABLE;

	if (!t->vcpu->hv.synic_active && (!host || config))
		return 1;
	stimer_cleanup(t);
	if (was_enabled && !(config & STIMER_DIRECT) && !STIMER_SINT(config))
		config &= ~STIMER_ENABLE;
	t->config = config;
	if (t->config & STIMER_ENABLE)
		stimer_mark_pending(t, false);
	return 0;
}

/* A write of STIMERx_COUNT: 0 disables; with auto-enable, any other enables. */
static int stimer_set_count(struct yakvm_stimer *t, u64 count, bool host)
{
	if (!t->vcpu->hv.synic_active && (!host || count))
		return 1;
	stimer_cleanup(t);
	t->count = count;
	if (!host) {
		if (!count)
			t->config &= ~STIMER_ENABLE;
		else if (t->config & STIMER_AUTO_ENABLE)
			t->config |= STIMER_ENABLE;
	}
	if (t->config & STIMER_ENABLE)
		stimer_mark_pending(t, false);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The vCPU's SynIC                                                   */

void yakvm_synic_vcpu_init(struct yakvm_vcpu *vcpu)
{
	int i;

	vcpu->hv.version = SYNIC_VERSION;
	for (i = 0; i < YAKVM_HV_SINTS; i++)
		vcpu->hv.sint[i] = SINT_MASKED;
	for (i = 0; i < YAKVM_HV_STIMERS; i++) {
		struct yakvm_stimer *t = &vcpu->hv.stimer[i];

		t->vcpu = vcpu;
		t->index = i;
		hrtimer_init(&t->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS);
		t->timer.function = stimer_expired;
	}
}

void yakvm_synic_vcpu_free(struct yakvm_vcpu *vcpu)
{
	int i;

	for (i = 0; i < YAKVM_HV_STIMERS; i++)
		hrtimer_cancel(&vcpu->hv.stimer[i].timer);
}

/*
 * KVM_ENABLE_CAP(KVM_CAP_HYPERV_SYNIC[2]) on a vCPU: needs the in-kernel
 * local APIC; SCONTROL starts enabled, as KVM's.  SYNIC2 differs only in
 * leaving the pages' contents alone when the guest enables them.
 */
int yakvm_synic_enable(struct yakvm_vcpu *vcpu, bool synic2)
{
	if (!vcpu->apic)
		return -EINVAL;
	vcpu->hv.keep_pages = synic2;
	vcpu->hv.control = SYNIC_CONTROL_ENABLE;
	WRITE_ONCE(vcpu->hv.synic_active, true);
	return 0;
}

/* SCONTROL, SIEFP, SIMP: the VMM hears of the guest's writes (api.rst). */
static void synic_exit(struct yakvm_vcpu *vcpu, u32 msr)
{
	struct kvm_hyperv_exit *e = &vcpu->hv.exit;

	memset(e, 0, sizeof(*e));
	e->type = KVM_EXIT_HYPERV_SYNIC;
	e->u.synic.msr = msr;
	e->u.synic.control = vcpu->hv.control;
	e->u.synic.evt_page = vcpu->hv.evt_page;
	e->u.synic.msg_page = vcpu->hv.msg_page;
	set_bit(ilog2(YAKVM_REQ_HV_EXIT), &vcpu->requests);
}

/* A page the guest enables is cleared first, unless SYNIC2 (as KVM). */
static int synic_set_page(struct yakvm_vcpu *vcpu, u32 msr, u64 *page,
			  u64 data, bool host)
{
	static const u8 zero[PAGE_SIZE];

	if ((data & SYNIC_PAGE_ENABLE) && !host && !vcpu->hv.keep_pages &&
	    yakvm_write_gpa(vcpu->vm, data & PAGE_MASK, zero, PAGE_SIZE))
		return 1;
	*page = data;
	if (!host)
		synic_exit(vcpu, msr);
	return 0;
}

static int synic_set_sint(struct yakvm_vcpu *vcpu, u32 sint, u64 data, bool host)
{
	/* Vectors 0-15 are refused, but a masked one may be written (KVM). */
	if ((data & SINT_VECTOR_MASK) < SINT_FIRST_VECTOR && !host &&
	    !(data & SINT_MASKED))
		return 1;
	WRITE_ONCE(vcpu->hv.sint[sint], data);
	return 0;
}

static int synic_set(struct yakvm_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct yakvm_vcpu_hv *hv = &vcpu->hv;
	int i;

	if (!hv->synic_active && (!host || data))
		return 1;
	switch (index) {
	case HV_X64_MSR_SCONTROL:
		hv->control = data;
		if (!host)
			synic_exit(vcpu, index);
		return 0;
	case HV_X64_MSR_SVERSION:
		if (!host)
			return 1;
		hv->version = data;
		return 0;
	case HV_X64_MSR_SIEFP:
		return synic_set_page(vcpu, index, &hv->evt_page, data, host);
	case HV_X64_MSR_SIMP:
		return synic_set_page(vcpu, index, &hv->msg_page, data, host);
	case HV_X64_MSR_EOM:
		if (hv->synic_active)
			for (i = 0; i < YAKVM_HV_SINTS; i++)
				sint_acked(vcpu, i);
		return 0;
	default:
		return synic_set_sint(vcpu, index - HV_X64_MSR_SINT0, data, host);
	}
}

static int synic_get(struct yakvm_vcpu *vcpu, u32 index, u64 *data)
{
	struct yakvm_vcpu_hv *hv = &vcpu->hv;

	switch (index) {
	case HV_X64_MSR_SCONTROL:
		*data = hv->control;
		break;
	case HV_X64_MSR_SVERSION:
		*data = hv->version;
		break;
	case HV_X64_MSR_SIEFP:
		*data = hv->evt_page;
		break;
	case HV_X64_MSR_SIMP:
		*data = hv->msg_page;
		break;
	case HV_X64_MSR_EOM:
		*data = 0;
		break;
	default:
		*data = hv->sint[index - HV_X64_MSR_SINT0];
		break;
	}
	return 0;
}

static bool is_stimer_msr(u32 index)
{
	return index >= HV_X64_MSR_STIMER0_CONFIG &&
	       index <= HV_X64_MSR_STIMER3_COUNT;
}

/* The caller (cpu/hyperv.c) checked the guest's Hyper-V CPUID. */
int yakvm_synic_get_msr(struct yakvm_vcpu *vcpu, u32 index, u64 *data, bool host)
{
	struct yakvm_stimer *t;

	/* Only the SynIC's own registers need it on; the timers read always (KVM). */
	if (!is_stimer_msr(index)) {
		if (!vcpu->hv.synic_active && !host)
			return 1;
		return synic_get(vcpu, index, data);
	}
	t = &vcpu->hv.stimer[(index - HV_X64_MSR_STIMER0_CONFIG) / 2];
	*data = (index - HV_X64_MSR_STIMER0_CONFIG) & 1 ? t->count : t->config;
	return 0;
}

int yakvm_synic_set_msr(struct yakvm_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct yakvm_stimer *t;

	if (!is_stimer_msr(index))
		return synic_set(vcpu, index, data, host);
	t = &vcpu->hv.stimer[(index - HV_X64_MSR_STIMER0_CONFIG) / 2];
	if ((index - HV_X64_MSR_STIMER0_CONFIG) & 1)
		return stimer_set_count(t, data, host);
	return stimer_set_config(t, data, host);
}

/* ------------------------------------------------------------------ */
/* HvSignalEvent and KVM_HYPERV_EVENTFD                               */

/*
 * HvSignalEvent (TLFS 11.10.2) with the connection ID in @param: the
 * eventfd of the connection, or HV_STATUS_INVALID_PORT_ID to let the VMM
 * have it.  The flag number (bits 32-47) is not used: nonzero goes to the
 * VMM too, as in KVM.
 */
u16 yakvm_synic_signal_event(struct yakvm_vcpu *vcpu, u64 param)
{
	struct eventfd_ctx *ctx;

	if (param & 0xffff00000000ULL)
		return HV_STATUS_INVALID_PORT_ID;
	if (param & ~(u64)KVM_HYPERV_CONN_ID_MASK)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	rcu_read_lock();
	ctx = xa_load(&vcpu->vm->hv_eventfds, param);
	if (ctx)
		yakvm_eventfd_signal(ctx);
	rcu_read_unlock();
	return ctx ? HV_STATUS_SUCCESS : HV_STATUS_INVALID_PORT_ID;
}

/* KVM_HYPERV_EVENTFD (api.rst 4.122): assign or deassign a connection. */
long yakvm_hv_eventfd(struct yakvm_vm *vm, void __user *argp)
{
	struct kvm_hyperv_eventfd args;
	struct eventfd_ctx *ctx;
	long r;

	if (copy_from_user(&args, argp, sizeof(args)))
		return -EFAULT;
	if (args.flags & ~KVM_HYPERV_EVENTFD_DEASSIGN)
		return -EINVAL;
	if (args.conn_id & ~KVM_HYPERV_CONN_ID_MASK)
		return -EINVAL;
	if (args.flags & KVM_HYPERV_EVENTFD_DEASSIGN) {
		mutex_lock(&vm->hv_lock);
		ctx = xa_erase(&vm->hv_eventfds, args.conn_id);
		mutex_unlock(&vm->hv_lock);
		if (!ctx)
			return -ENOENT;
		/* No HvSignalEvent still holds it. */
		synchronize_rcu();
		eventfd_ctx_put(ctx);
		return 0;
	}
	ctx = eventfd_ctx_fdget(args.fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	mutex_lock(&vm->hv_lock);
	r = xa_insert(&vm->hv_eventfds, args.conn_id, ctx, GFP_KERNEL_ACCOUNT);
	mutex_unlock(&vm->hv_lock);
	if (r) {
		eventfd_ctx_put(ctx);
		return r == -EBUSY ? -EEXIST : r;
	}
	return 0;
}

/* VM teardown: no vCPU runs any more. */
void yakvm_hv_eventfds_destroy(struct yakvm_vm *vm)
{
	struct eventfd_ctx *ctx;
	unsigned long id;

	xa_for_each(&vm->hv_eventfds, id, ctx)
		eventfd_ctx_put(ctx);
	xa_destroy(&vm->hv_eventfds);
}
