// SPDX-License-Identifier: GPL-2.0
/*
 * The vCPU file descriptor: creation, the VMCB and its reset state, the
 * mmap'ed kvm_run page, and the register ioctls.  KVM_RUN itself is in run.c.
 */
#define pr_fmt(fmt) "yakvm: " fmt

#include <linux/anon_inodes.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/apicdef.h>
#include <asm/fpu/types.h>

#include "yakvm.h"

static void set_intercept(struct vmcb_control_area *c, int bit)
{
	c->intercepts[bit / 32] |= BIT(bit % 32);
}

/*
 * What the guest may never do natively (design.md §4, APM 15.9-15.13):
 * every SVM instruction (the guest runs with EFER.SVME=1, so they would
 * execute for real), all ports and MSRs not explicitly allowed, CR4 writes
 * (bits the guest's CPUID hides, cpu/cr.c), host
 * interrupts, debug registers (DR0-3 are not switched by VMRUN), #DB/#AC,
 * which a guest could otherwise turn into an endless microcode loop
 * (CVE-2015-5307, CVE-2015-8104), and #MC: a machine check in guest mode is
 * the host's to handle (run.c), not the guest's.
 */
static void vmcb_init_control(struct yakvm_vcpu *vcpu)
{
	struct vmcb_control_area *c = &vcpu->vmcb->control;
	static const int intercepts[] = {
		INTERCEPT_INTR, INTERCEPT_NMI, INTERCEPT_SMI, INTERCEPT_CPUID,
		INTERCEPT_RDPMC, INTERCEPT_INVD, INTERCEPT_HLT,
		INTERCEPT_INVLPGA, INTERCEPT_IOIO_PROT, INTERCEPT_MSR_PROT,
		INTERCEPT_TASK_SWITCH, INTERCEPT_SHUTDOWN,
		INTERCEPT_VMRUN, INTERCEPT_VMMCALL, INTERCEPT_VMLOAD,
		INTERCEPT_VMSAVE, INTERCEPT_STGI, INTERCEPT_CLGI,
		INTERCEPT_SKINIT, INTERCEPT_RDTSCP, INTERCEPT_WBINVD,
		INTERCEPT_MONITOR, INTERCEPT_MWAIT, INTERCEPT_XSETBV,
		INTERCEPT_RDPRU, INTERCEPT_CR4_WRITE,
	};
	int i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < ARRAY_SIZE(intercepts); i++)
		set_intercept(c, intercepts[i]);
	/* MOV from/to DR0-7 (DR8-15 do not exist and raise #UD). */
	c->intercepts[INTERCEPT_DR] = 0x00ff00ff;
	/*
	 * #UD as KVM does: a guest's #UD is delivered through EVENTINJ, so
	 * its frame gets RFLAGS.RF like every injected fault (svm/events.c)
	 * even where the CPU delivering it would not set it -- QEMU's TCG
	 * does not (kvm-unit-tests' idt_test).
	 */
	c->intercepts[INTERCEPT_EXCEPTION] = BIT(DB_VECTOR) | BIT(UD_VECTOR) |
					     BIT(AC_VECTOR) | BIT(MC_VECTOR);

	c->iopm_base_pa = yakvm_iopm_pa;
	c->msrpm_base_pa = yakvm_msrpm_pa;
	c->tsc_offset = vcpu->tsc_offset;
	/* Host interrupts exit the guest whatever the guest's RFLAGS.IF. */
	c->int_ctl = V_INTR_MASKING_MASK;
	c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	c->nested_cr3 = yakvm_npt_root_pa(vcpu->vm);
}

static void seg_init(struct vmcb_seg *s, u16 attrib)
{
	s->selector = 0;
	s->base = 0;
	s->limit = 0xffff;
	s->attrib = attrib;
}

#define SEG_DATA_ATTR	(SVM_SELECTOR_P_MASK | SVM_SELECTOR_S_MASK | \
			 SVM_SELECTOR_WRITE_MASK)
#define SEG_CODE_ATTR	(SVM_SELECTOR_P_MASK | SVM_SELECTOR_S_MASK | \
			 SVM_SELECTOR_READ_MASK | SVM_SELECTOR_CODE_MASK)

/* The architectural reset state (APM vol. 2 14.1.3), as KVM presents it. */
static void vmcb_init_save(struct yakvm_vcpu *vcpu)
{
	struct vmcb_save_area *s = &vcpu->vmcb->save;

	memset(s, 0, sizeof(*s));
	seg_init(&s->es, SEG_DATA_ATTR);
	seg_init(&s->ss, SEG_DATA_ATTR);
	seg_init(&s->ds, SEG_DATA_ATTR);
	seg_init(&s->fs, SEG_DATA_ATTR);
	seg_init(&s->gs, SEG_DATA_ATTR);
	seg_init(&s->cs, SEG_CODE_ATTR);
	s->cs.selector = 0xf000;
	s->cs.base = 0xffff0000;
	seg_init(&s->gdtr, 0);
	seg_init(&s->idtr, 0);
	seg_init(&s->ldtr, SVM_SELECTOR_P_MASK | 2);	/* LDT */
	seg_init(&s->tr, SVM_SELECTOR_P_MASK | 3);	/* busy 16-bit TSS */

	s->cr0 = X86_CR0_NW | X86_CR0_CD | X86_CR0_ET;
	/* EFER.SVME must be set in the guest VMCB (APM 15.5.1); it is hidden. */
	s->efer = EFER_SVME;
	s->dr6 = YAKVM_DR6_INIT;
	s->dr7 = YAKVM_DR7_INIT;
	s->rflags = X86_EFLAGS_FIXED;
	s->rip = 0xfff0;
	s->g_pat = YAKVM_PAT_INIT;
}

/* What power-on reset and INIT both do to the registers (APM 14.1.3). */
static void reset_registers(struct yakvm_vcpu *vcpu)
{
	vmcb_init_control(vcpu);
	vmcb_init_save(vcpu);
	memset(vcpu->regs, 0, sizeof(vcpu->regs));
	vcpu->regs[YAKVM_RDX] = yakvm_cpuid_signature(vcpu);
	vcpu->asid_generation = 0;	/* a fresh ASID: no stale translations */
	vcpu->pending = YAKVM_USER_NONE;
	vcpu->exception.pending = false;
	vcpu->irq.pending = false;
	vcpu->user_extint = -1;
	vcpu->kvmclock_msr = 0;
	clear_bit(ilog2(YAKVM_REQ_CLOCK_UPDATE), &vcpu->requests);
	clear_bit(ilog2(YAKVM_REQ_IOAPIC_EOI), &vcpu->requests);
	memset(&vcpu->soft, 0, sizeof(vcpu->soft));
	vcpu->step_completed = false;
	vcpu->shutdown = false;
	atomic_set(&vcpu->nmi_queued, 0);
	vcpu->nmi_pending = 0;
	vcpu->nmi_injected = false;
	vcpu->nmi_masked = false;
	vcpu->awaiting_iret = false;
	vcpu->nmi_singlestep = false;
	memset(vcpu->dr, 0, sizeof(vcpu->dr));
	vcpu->dr7 = YAKVM_DR7_INIT;
	/* A debugger attached with KVM_SET_GUEST_DEBUG stays attached (as KVM). */
	yakvm_apply_guest_debug(vcpu);
	set_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
}

bool yakvm_vcpu_is_bsp(struct yakvm_vcpu *vcpu)
{
	return vcpu->id == READ_ONCE(vcpu->vm->bsp_vcpu_id);
}

void yakvm_vcpu_reset(struct yakvm_vcpu *vcpu)
{
	reset_registers(vcpu);
	vcpu->xcr0 = XFEATURE_MASK_FP;
	vcpu->apic_base = APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE |
			  (yakvm_vcpu_is_bsp(vcpu) ? MSR_IA32_APICBASE_BSP : 0);
	vcpu->misc_enable = MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL |
			    MSR_IA32_MISC_ENABLE_BTS_UNAVAIL;
	vcpu->tsc_aux = 0;
	vcpu->hwcr = 0;
	vcpu->de_cfg = 0;
	vcpu->mtrr_def_type = 0;
	memset(vcpu->mtrr_fixed, 0, sizeof(vcpu->mtrr_fixed));
	memset(vcpu->mtrr_var, 0, sizeof(vcpu->mtrr_var));
	yakvm_lapic_reset(vcpu, false);
}

/*
 * INIT (an INIT IPI, SDM 9.1.2 and KVM's kvm_vcpu_reset(init_event)):
 * registers, segments, CR0 (but CD/NW), CR3, CR4 and EFER as at reset;
 * the MSRs, XCR0, the FPU state and the APIC's ID and base stay.  The MSRs
 * that live in the VMCB's save area are carried over its rebuild.
 */
void yakvm_vcpu_init(struct yakvm_vcpu *vcpu)
{
	struct vmcb_save_area *s = &vcpu->vmcb->save;
	struct vmcb_save_area keep = *s;
	u64 cd_nw = s->cr0 & (X86_CR0_CD | X86_CR0_NW);

	reset_registers(vcpu);
	s->cr0 = (s->cr0 & ~(X86_CR0_CD | X86_CR0_NW)) | cd_nw;
	s->star = keep.star;
	s->lstar = keep.lstar;
	s->cstar = keep.cstar;
	s->sfmask = keep.sfmask;
	s->kernel_gs_base = keep.kernel_gs_base;
	s->sysenter_cs = keep.sysenter_cs;
	s->sysenter_esp = keep.sysenter_esp;
	s->sysenter_eip = keep.sysenter_eip;
	s->g_pat = keep.g_pat;
	yakvm_lapic_reset(vcpu, true);
}

/* A STARTUP IPI: real mode at vector * 0x1000 (SDM 8.4.4.1). */
void yakvm_vcpu_sipi(struct yakvm_vcpu *vcpu, u8 vector)
{
	struct vmcb_save_area *s = &vcpu->vmcb->save;

	s->cs.selector = vector << 8;
	s->cs.base = (u64)vector << 12;
	s->rip = 0;
	yakvm_vmcb_dirty(vcpu->vmcb, YAKVM_DIRTY_SEG);
}

/* ---------------------------------------------------------------- */
/* Registers                                                        */

static long vcpu_get_regs(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_regs r;
	unsigned long *g = vcpu->regs;

	memset(&r, 0, sizeof(r));
	r.rax = g[YAKVM_RAX];
	r.rbx = g[YAKVM_RBX];
	r.rcx = g[YAKVM_RCX];
	r.rdx = g[YAKVM_RDX];
	r.rsi = g[YAKVM_RSI];
	r.rdi = g[YAKVM_RDI];
	r.rsp = g[YAKVM_RSP];
	r.rbp = g[YAKVM_RBP];
	r.r8 = g[8];
	r.r9 = g[9];
	r.r10 = g[10];
	r.r11 = g[11];
	r.r12 = g[12];
	r.r13 = g[13];
	r.r14 = g[14];
	r.r15 = g[15];
	r.rip = vcpu->vmcb->save.rip;
	r.rflags = vcpu->vmcb->save.rflags;
	/* A debugger's single-step flag is not the guest's, nor yakvm's own. */
	if (yakvm_singlestepping(vcpu)) {
		r.rflags &= ~X86_EFLAGS_TF;
	} else if (vcpu->nmi_singlestep) {
		r.rflags &= ~(X86_EFLAGS_TF | X86_EFLAGS_RF);
		r.rflags |= vcpu->nmi_singlestep_rflags;
	}
	return copy_to_user(argp, &r, sizeof(r)) ? -EFAULT : 0;
}

static long vcpu_set_regs(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_regs r;
	unsigned long *g = vcpu->regs;

	if (copy_from_user(&r, argp, sizeof(r)))
		return -EFAULT;
	g[YAKVM_RAX] = r.rax;
	g[YAKVM_RBX] = r.rbx;
	g[YAKVM_RCX] = r.rcx;
	g[YAKVM_RDX] = r.rdx;
	g[YAKVM_RSI] = r.rsi;
	g[YAKVM_RDI] = r.rdi;
	g[YAKVM_RSP] = r.rsp;
	g[YAKVM_RBP] = r.rbp;
	g[8] = r.r8;
	g[9] = r.r9;
	g[10] = r.r10;
	g[11] = r.r11;
	g[12] = r.r12;
	g[13] = r.r13;
	g[14] = r.r14;
	g[15] = r.r15;
	/* As KVM: moving RIP abandons an I/O instruction waiting to complete. */
	if (vcpu->pending == YAKVM_USER_PIO && r.rip != vcpu->vmcb->save.rip)
		vcpu->pending = YAKVM_USER_NONE;
	vcpu->vmcb->save.rip = r.rip;
	vcpu->vmcb->save.rflags = r.rflags | X86_EFLAGS_FIXED;
	if (yakvm_singlestepping(vcpu)) {
		vcpu->vmcb->save.rflags |= X86_EFLAGS_TF;
	} else if (vcpu->nmi_singlestep) {
		/* yakvm's step over the NMI window goes on. */
		vcpu->nmi_singlestep_rflags = r.rflags & (X86_EFLAGS_TF | X86_EFLAGS_RF);
		vcpu->vmcb->save.rflags |= X86_EFLAGS_TF | X86_EFLAGS_RF;
	}
	/*
	 * As KVM: new registers drop an exception queued for the old ones, and
	 * a single step finished at the old RIP is no longer worth reporting.
	 */
	vcpu->exception.pending = false;
	vcpu->soft.pending = false;
	vcpu->step_completed = false;
	return 0;
}

/*
 * Segment conversion between kvm_segment and the VMCB's packed attributes
 * (APM 15.5.1).  The VMCB has no "unusable" flag: like KVM, a segment that
 * is not present is reported unusable, and the few cached bits that AMD CPUs
 * drop are synthesised the way KVM does, so the two report the same state.
 */
static void seg_to_kvm(const struct vmcb_seg *s, struct kvm_segment *k)
{
	memset(k, 0, sizeof(*k));
	k->base = s->base;
	k->limit = s->limit;
	k->selector = s->selector;
	k->type = s->attrib & SVM_SELECTOR_TYPE_MASK;
	k->s = !!(s->attrib & SVM_SELECTOR_S_MASK);
	k->dpl = (s->attrib & SVM_SELECTOR_DPL_MASK) >> SVM_SELECTOR_DPL_SHIFT;
	k->present = !!(s->attrib & SVM_SELECTOR_P_MASK);
	k->avl = !!(s->attrib & SVM_SELECTOR_AVL_MASK);
	k->l = !!(s->attrib & SVM_SELECTOR_L_MASK);
	k->db = !!(s->attrib & SVM_SELECTOR_DB_MASK);
	k->g = s->limit > 0xfffff;
	k->unusable = !k->present;
}

static void seg_from_kvm(struct vmcb_seg *s, const struct kvm_segment *k)
{
	s->base = k->base;
	s->limit = k->limit;
	s->selector = k->selector;
	s->attrib = (k->type & SVM_SELECTOR_TYPE_MASK) |
		    (k->s & 1) << SVM_SELECTOR_S_SHIFT |
		    (k->dpl & 3) << SVM_SELECTOR_DPL_SHIFT |
		    ((k->present & 1) && !k->unusable) << SVM_SELECTOR_P_SHIFT |
		    (k->avl & 1) << SVM_SELECTOR_AVL_SHIFT |
		    (k->l & 1) << SVM_SELECTOR_L_SHIFT |
		    (k->db & 1) << SVM_SELECTOR_DB_SHIFT |
		    (k->g & 1) << SVM_SELECTOR_G_SHIFT;
}

static void data_seg_to_kvm(const struct vmcb_seg *s, struct kvm_segment *k)
{
	seg_to_kvm(s, k);
	/* The cached accessed bit of a usable data segment is always 1. */
	if (!k->unusable)
		k->type |= 1;
}

static long vcpu_get_sregs(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct vmcb_save_area *s = &vcpu->vmcb->save;
	struct kvm_sregs *k;
	long r;

	k = kzalloc(sizeof(*k), GFP_KERNEL);
	if (!k)
		return -ENOMEM;
	seg_to_kvm(&s->cs, &k->cs);
	data_seg_to_kvm(&s->ds, &k->ds);
	data_seg_to_kvm(&s->es, &k->es);
	data_seg_to_kvm(&s->fs, &k->fs);
	data_seg_to_kvm(&s->gs, &k->gs);
	seg_to_kvm(&s->ss, &k->ss);
	if (k->ss.unusable)
		k->ss.db = 0;
	k->ss.dpl = s->cpl;
	seg_to_kvm(&s->tr, &k->tr);
	k->tr.type |= 2;	/* the busy bit is not kept by the CPU */
	seg_to_kvm(&s->ldtr, &k->ldt);
	k->gdt.base = s->gdtr.base;
	k->gdt.limit = s->gdtr.limit;
	k->idt.base = s->idtr.base;
	k->idt.limit = s->idtr.limit;
	k->cr0 = s->cr0;
	k->cr2 = s->cr2;
	k->cr3 = s->cr3;
	k->cr4 = s->cr4;
	k->cr8 = yakvm_get_cr8(vcpu);
	k->efer = s->efer & ~EFER_SVME;
	k->apic_base = vcpu->apic_base;
	/* A queued, not yet delivered KVM_INTERRUPT shows in the bitmap. */
	if (vcpu->irq.pending)
		__set_bit(vcpu->irq.vector,
			  (unsigned long *)k->interrupt_bitmap);
	r = copy_to_user(argp, k, sizeof(*k)) ? -EFAULT : 0;
	kfree(k);
	return r;
}

static long vcpu_set_sregs(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct vmcb_save_area *s = &vcpu->vmcb->save;
	unsigned long pending;
	struct kvm_sregs *k;
	long r = 0;

	k = memdup_user(argp, sizeof(*k));
	if (IS_ERR(k))
		return PTR_ERR(k);
	if (!yakvm_sregs_valid(vcpu, k)) {
		r = -EINVAL;
		goto out;
	}
	/* The APIC base is checked as a host write of the MSR (as KVM). */
	if (yakvm_lapic_set_base(vcpu, k->apic_base, true)) {
		r = -EINVAL;
		goto out;
	}
	seg_from_kvm(&s->cs, &k->cs);
	seg_from_kvm(&s->ds, &k->ds);
	seg_from_kvm(&s->es, &k->es);
	seg_from_kvm(&s->fs, &k->fs);
	seg_from_kvm(&s->gs, &k->gs);
	seg_from_kvm(&s->ss, &k->ss);
	seg_from_kvm(&s->tr, &k->tr);
	seg_from_kvm(&s->ldtr, &k->ldt);
	s->cpl = k->ss.dpl & 3;
	s->gdtr.base = k->gdt.base;
	s->gdtr.limit = k->gdt.limit;
	s->idtr.base = k->idt.base;
	s->idtr.limit = k->idt.limit;
	s->cr0 = k->cr0;
	s->cr2 = k->cr2;
	s->cr3 = k->cr3;
	s->cr4 = k->cr4;
	s->efer = k->efer | EFER_SVME;
	yakvm_set_cr8(vcpu, k->cr8);
	vcpu->vmcb->control.clean = 0;
	/*
	 * New CR0/CR3/CR4 from outside the guest: the CPU keeps the guest's
	 * TLB entries across VMRUN (they are tagged by ASID), so drop them.
	 */
	set_bit(ilog2(YAKVM_REQ_TLB_FLUSH), &vcpu->requests);
	pending = find_first_bit((unsigned long *)k->interrupt_bitmap,
				 KVM_NR_INTERRUPTS);
	vcpu->irq.pending = pending < KVM_NR_INTERRUPTS;
	vcpu->irq.vector = pending;
out:
	kfree(k);
	return r;
}

/* ---------------------------------------------------------------- */
/* FPU: the guest's state lives in a kernel fpstate (fpu_guest).      */

static void *fpu_uabi_get(struct yakvm_vcpu *vcpu)
{
	void *buf = kvzalloc(vcpu->guest_fpu.uabi_size, GFP_KERNEL);

	if (buf)
		fpu_copy_guest_fpstate_to_uabi(&vcpu->guest_fpu, buf,
					       vcpu->guest_fpu.uabi_size,
					       yakvm_supported_xcr0() | XFEATURE_MASK_FPSSE, 0);
	return buf;
}

static long vcpu_get_fpu(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct fxregs_state *fx;
	struct kvm_fpu f;
	long r = 0;

	fx = fpu_uabi_get(vcpu);
	if (!fx)
		return -ENOMEM;
	memset(&f, 0, sizeof(f));
	memcpy(f.fpr, fx->st_space, sizeof(f.fpr));
	f.fcw = fx->cwd;
	f.fsw = fx->swd;
	f.ftwx = fx->twd;
	f.last_opcode = fx->fop;
	f.last_ip = fx->rip;
	f.last_dp = fx->rdp;
	memcpy(f.xmm, fx->xmm_space, sizeof(f.xmm));
	f.mxcsr = fx->mxcsr;
	if (copy_to_user(argp, &f, sizeof(f)))
		r = -EFAULT;
	kvfree(fx);
	return r;
}

static long vcpu_set_fpu(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct xregs_state *xs;
	struct kvm_fpu f;
	u32 pkru = 0;
	long r;

	if (copy_from_user(&f, argp, sizeof(f)))
		return -EFAULT;
	xs = fpu_uabi_get(vcpu);
	if (!xs)
		return -ENOMEM;
	memcpy(xs->i387.st_space, f.fpr, sizeof(f.fpr));
	xs->i387.cwd = f.fcw;
	xs->i387.swd = f.fsw;
	xs->i387.twd = f.ftwx;
	xs->i387.fop = f.last_opcode;
	xs->i387.rip = f.last_ip;
	xs->i387.rdp = f.last_dp;
	memcpy(xs->i387.xmm_space, f.xmm, sizeof(f.xmm));
	xs->i387.mxcsr = f.mxcsr;
	/* The x87 and SSE components now hold data, not their init state. */
	xs->header.xfeatures |= XFEATURE_MASK_FPSSE;
	/* Rejects an MXCSR with reserved bits set instead of faulting later. */
	r = fpu_copy_uabi_to_guest_fpstate(&vcpu->guest_fpu, xs,
					   yakvm_supported_xcr0(), &pkru);
	kvfree(xs);
	return r;
}

/* ---------------------------------------------------------------- */
/* Local APIC and MP state (in-kernel irqchip)                      */

static long vcpu_lapic_state(struct yakvm_vcpu *vcpu, void __user *argp,
			     bool set)
{
	struct kvm_lapic_state *state;
	long r = 0;

	/* KVM's answer without an in-kernel APIC. */
	if (!vcpu->apic)
		return -EINVAL;
	if (set) {
		state = memdup_user(argp, sizeof(*state));
		if (IS_ERR(state))
			return PTR_ERR(state);
		r = yakvm_lapic_set_state(vcpu, state);
	} else {
		state = kzalloc(sizeof(*state), GFP_KERNEL);
		if (!state)
			return -ENOMEM;
		yakvm_lapic_get_state(vcpu, state);
		if (copy_to_user(argp, state, sizeof(*state)))
			r = -EFAULT;
	}
	kfree(state);
	return r;
}

static long vcpu_get_mp_state(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_mp_state mp = { .mp_state = vcpu->mp_state };

	/* Events other CPUs posted (INIT, SIPI) are part of the state. */
	if (vcpu->apic)
		yakvm_lapic_process_events(vcpu);
	mp.mp_state = vcpu->mp_state;
	return copy_to_user(argp, &mp, sizeof(mp)) ? -EFAULT : 0;
}

/*
 * KVM_SET_MP_STATE (api.rst): without the in-kernel APIC only RUNNABLE
 * exists; SIPI_RECEIVED means "INIT received, a SIPI pending" and is kept
 * as INIT_RECEIVED with the SIPI posted, as KVM does.
 */
static long vcpu_set_mp_state(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_mp_state mp;

	if (copy_from_user(&mp, argp, sizeof(mp)))
		return -EFAULT;
	switch (mp.mp_state) {
	case KVM_MP_STATE_RUNNABLE:
		break;
	case KVM_MP_STATE_UNINITIALIZED:
	case KVM_MP_STATE_INIT_RECEIVED:
	case KVM_MP_STATE_HALTED:
	case KVM_MP_STATE_SIPI_RECEIVED:
		if (!vcpu->apic)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (mp.mp_state == KVM_MP_STATE_SIPI_RECEIVED) {
		vcpu->mp_state = KVM_MP_STATE_INIT_RECEIVED;
		yakvm_lapic_post_sipi(vcpu);
	} else {
		vcpu->mp_state = mp.mp_state;
	}
	set_bit(ilog2(YAKVM_REQ_EVENT), &vcpu->requests);
	return 0;
}

/*
 * KVM_ENABLE_CAP on a vCPU (api.rst 4.37, 6): the SynIC (irq/synic.c).
 * As KVM, flags must be 0 and SYNIC2 takes no argument.
 */
static long vcpu_enable_cap(struct yakvm_vcpu *vcpu, void __user *argp)
{
	struct kvm_enable_cap cap;
	int r = yakvm_read_enable_cap(&cap, argp);

	if (r)
		return r;
	switch (cap.cap) {
	case KVM_CAP_HYPERV_SYNIC2:
		if (cap.args[0])
			return -EINVAL;
		return yakvm_synic_enable(vcpu, true);
	case KVM_CAP_HYPERV_SYNIC:
		return yakvm_synic_enable(vcpu, false);
	default:
		return -EINVAL;
	}
}

/* ---------------------------------------------------------------- */
/* The vCPU fd                                                      */

static long yakvm_vcpu_ioctl(struct file *filp, unsigned int ioctl,
			     unsigned long arg)
{
	struct yakvm_vcpu *vcpu = filp->private_data;
	void __user *argp = (void __user *)arg;
	long r;

	if (vcpu->vm->mm != current->mm)
		return -EIO;
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;

	switch (ioctl) {
	case KVM_RUN:
		/*
		 * A vCPU runs only once it is counted in vm->vcpus[]: only
		 * those see kicks and TLB-flush requests (vm.c).  Creation
		 * holds the mutex until then, so this cannot fail.
		 */
		if (WARN_ON_ONCE(vcpu->idx >= smp_load_acquire(&vcpu->vm->nr_vcpus))) {
			r = -EIO;
		} else if (arg) {
			r = -EINVAL;
		} else {
			yakvm_sigset_activate(vcpu);
			r = yakvm_vcpu_run(vcpu);
			yakvm_sigset_deactivate(vcpu);
		}
		break;
	case KVM_GET_REGS:
		r = vcpu_get_regs(vcpu, argp);
		break;
	case KVM_SET_REGS:
		r = vcpu_set_regs(vcpu, argp);
		break;
	case KVM_GET_SREGS:
		r = vcpu_get_sregs(vcpu, argp);
		break;
	case KVM_SET_SREGS:
		r = vcpu_set_sregs(vcpu, argp);
		break;
	case KVM_GET_FPU:
		r = vcpu_get_fpu(vcpu, argp);
		break;
	case KVM_SET_FPU:
		r = vcpu_set_fpu(vcpu, argp);
		break;
	case KVM_SET_CPUID2:
		r = yakvm_set_cpuid2(vcpu, argp);
		break;
	case KVM_GET_CPUID2:
		r = yakvm_get_cpuid2(vcpu, argp);
		break;
	case KVM_GET_SUPPORTED_HV_CPUID:
		r = yakvm_get_supported_hv_cpuid(vcpu, argp);
		break;
	case KVM_INTERRUPT:
		r = yakvm_interrupt_ioctl(vcpu, argp);
		break;
	case KVM_NMI:
		r = yakvm_nmi_ioctl(vcpu);
		break;
	case KVM_GET_VCPU_EVENTS:
		r = yakvm_get_vcpu_events(vcpu, argp);
		break;
	case KVM_SET_VCPU_EVENTS:
		r = yakvm_set_vcpu_events(vcpu, argp);
		break;
	case KVM_GET_XSAVE:
		r = yakvm_get_xsave(vcpu, argp, false);
		break;
	case KVM_GET_XSAVE2:
		r = yakvm_get_xsave(vcpu, argp, true);
		break;
	case KVM_SET_XSAVE:
		r = yakvm_set_xsave(vcpu, argp);
		break;
	case KVM_GET_XCRS:
		r = yakvm_get_xcrs(vcpu, argp);
		break;
	case KVM_SET_XCRS:
		r = yakvm_set_xcrs(vcpu, argp);
		break;
	case KVM_GET_DEBUGREGS:
		r = yakvm_get_debugregs(vcpu, argp);
		break;
	case KVM_SET_DEBUGREGS:
		r = yakvm_set_debugregs(vcpu, argp);
		break;
	case KVM_GET_TSC_KHZ:
		r = yakvm_get_tsc_khz(vcpu);
		break;
	case KVM_SET_TSC_KHZ:
		r = yakvm_set_tsc_khz(vcpu, arg);
		break;
	case KVM_SET_SIGNAL_MASK:
		r = yakvm_set_signal_mask(vcpu, argp);
		break;
	case KVM_SET_VAPIC_ADDR:
		r = yakvm_set_vapic_addr(vcpu, argp);
		break;
	case KVM_X86_SETUP_MCE:
		r = yakvm_setup_mce(vcpu, argp);
		break;
	case KVM_X86_SET_MCE:
		r = yakvm_set_mce(vcpu, argp);
		break;
	case KVM_GET_LAPIC:
		r = vcpu_lapic_state(vcpu, argp, false);
		break;
	case KVM_SET_LAPIC:
		r = vcpu_lapic_state(vcpu, argp, true);
		break;
	case KVM_GET_MP_STATE:
		r = vcpu_get_mp_state(vcpu, argp);
		break;
	case KVM_SET_MP_STATE:
		r = vcpu_set_mp_state(vcpu, argp);
		break;
	case KVM_SET_GUEST_DEBUG:
		r = yakvm_set_guest_debug(vcpu, argp);
		break;
	case KVM_GET_MSRS:
		r = yakvm_vcpu_msrs_ioctl(vcpu, argp, false);
		break;
	case KVM_SET_MSRS:
		r = yakvm_vcpu_msrs_ioctl(vcpu, argp, true);
		break;
	case KVM_ENABLE_CAP:
		r = vcpu_enable_cap(vcpu, argp);
		break;
	default:
		/* KVM answers unknown vCPU ioctls on x86 with -EINVAL. */
		r = -EINVAL;
		break;
	}
	mutex_unlock(&vcpu->mutex);
	return r;
}

/*
 * Page 0 is struct kvm_run, page 1 the PIO data (kvm_run.io.data_offset),
 * page 2 the VM's coalesced MMIO ring (KVM_COALESCED_MMIO_PAGE_OFFSET).
 */
static vm_fault_t yakvm_vcpu_fault(struct vm_fault *vmf)
{
	struct yakvm_vcpu *vcpu = vmf->vma->vm_file->private_data;
	struct page *page;

	if (vmf->pgoff == 0)
		page = virt_to_page(vcpu->run);
	else if (vmf->pgoff == YAKVM_PIO_PAGE)
		page = virt_to_page(vcpu->pio_data);
	else if (vmf->pgoff == KVM_COALESCED_MMIO_PAGE_OFFSET)
		page = virt_to_page(vcpu->vm->coalesced_ring);
	else
		return VM_FAULT_SIGBUS;
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct yakvm_vcpu_vm_ops = {
	.fault = yakvm_vcpu_fault,
};

static int yakvm_vcpu_mmap(struct file *filp, struct vm_area_struct *vma)
{
	vma->vm_ops = &yakvm_vcpu_vm_ops;
	return 0;
}

static int yakvm_vcpu_release(struct inode *inode, struct file *filp)
{
	struct yakvm_vcpu *vcpu = filp->private_data;

	yakvm_vm_put(vcpu->vm);
	return 0;
}

static const struct file_operations yakvm_vcpu_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = yakvm_vcpu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = yakvm_vcpu_mmap,
	.release = yakvm_vcpu_release,
	.llseek = noop_llseek,
};

void yakvm_vcpu_free(struct yakvm_vcpu *vcpu)
{
	yakvm_synic_vcpu_free(vcpu);
	yakvm_lapic_free(vcpu);
	yakvm_svm_forget_vmcb(vcpu->vmcb);
	fpu_free_guest_fpstate(&vcpu->guest_fpu);
	kfree(vcpu->cpuid);
	free_page((unsigned long)vcpu->vmcb);
	free_page((unsigned long)vcpu->run);
	free_page((unsigned long)vcpu->pio_data);
	atomic_long_sub(3, &yakvm_counters.kernel_pages);
	atomic_long_dec(&yakvm_counters.vcpus);
	kfree(vcpu);
}

static struct yakvm_vcpu *vcpu_alloc(struct yakvm_vm *vm, u32 id)
{
	struct yakvm_vcpu *vcpu;

	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return NULL;
	vcpu->vmcb = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	vcpu->run = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	vcpu->pio_data = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vcpu->vmcb || !vcpu->run || !vcpu->pio_data ||
	    !fpu_alloc_guest_fpstate(&vcpu->guest_fpu))
		goto err_pages;
	atomic_long_add(3, &yakvm_counters.kernel_pages);
	atomic_long_inc(&yakvm_counters.vcpus);
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->vmcb_pa = yakvm_hw_pa(virt_to_page(vcpu->vmcb));
	vcpu->last_cpu = -1;
	vcpu->cpu = -1;
	mutex_init(&vcpu->mutex);
	rcuwait_init(&vcpu->wait);
	/* All vCPUs share one offset, so their TSCs agree (APM 15.30.5). */
	vcpu->tsc_offset = vm->tsc_offset;
	vcpu->mcg_cap = YAKVM_MAX_MCE_BANKS;	/* KVM's default */
	yakvm_synic_vcpu_init(vcpu);
	/*
	 * With the in-kernel irqchip every vCPU has a local APIC, and all
	 * but the boot vCPU wait for INIT/SIPI before they run (as KVM).
	 * vm->lock, held by our caller, orders this with KVM_CREATE_IRQCHIP.
	 */
	vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
	if (vm->irq.lapic_in_kernel) {
		if (yakvm_lapic_create(vcpu)) {
			yakvm_vcpu_free(vcpu);
			return NULL;
		}
		if (!yakvm_vcpu_is_bsp(vcpu))
			vcpu->mp_state = KVM_MP_STATE_UNINITIALIZED;
	}
	yakvm_vcpu_reset(vcpu);
	return vcpu;

err_pages:
	if (vcpu->guest_fpu.fpstate)
		fpu_free_guest_fpstate(&vcpu->guest_fpu);
	free_page((unsigned long)vcpu->vmcb);
	free_page((unsigned long)vcpu->run);
	free_page((unsigned long)vcpu->pio_data);
	kfree(vcpu);
	return NULL;
}

int yakvm_create_vcpu(struct yakvm_vm *vm, unsigned long id)
{
	struct yakvm_vcpu *vcpu;
	int i, fd;

	mutex_lock(&vm->lock);
	fd = -EINVAL;
	if (id >= (vm->max_vcpu_ids ?: YAKVM_MAX_VCPUS))
		goto out;
	for (i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i]->id == id) {
			fd = -EEXIST;
			goto out;
		}
	}
	vcpu = vcpu_alloc(vm, id);
	if (!vcpu) {
		fd = -ENOMEM;
		goto out;
	}
	refcount_inc(&vm->users);
	/*
	 * The fd is live as soon as it is installed, before the vCPU is in
	 * vm->vcpus[]: another thread may guess it and call KVM_RUN at once.
	 * Holding the vCPU's mutex until it is counted makes that wait, so no
	 * vCPU runs while slot changes would not kick it.
	 */
	mutex_lock(&vcpu->mutex);
	fd = anon_inode_getfd("yakvm-vcpu", &yakvm_vcpu_fops, vcpu,
			      O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		mutex_unlock(&vcpu->mutex);
		/* The VM fd is still open (we are in its ioctl): not the last ref. */
		refcount_dec(&vm->users);
		yakvm_vcpu_free(vcpu);
		goto out;
	}
	vcpu->idx = vm->nr_vcpus;
	/* Hyper-V's VP index starts as the creation index, as KVM's. */
	vcpu->hv.vp_index = vcpu->idx;
	vm->vcpus[vm->nr_vcpus] = vcpu;
	/* Pairs with smp_load_acquire() in yakvm_vm_kick_all() and KVM_RUN. */
	smp_store_release(&vm->nr_vcpus, vm->nr_vcpus + 1);
	yakvm_stats_vcpu_add(vcpu);
	mutex_unlock(&vcpu->mutex);
out:
	mutex_unlock(&vm->lock);
	return fd;
}
