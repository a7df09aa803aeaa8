/* SPDX-License-Identifier: GPL-2.0 */
/*
 * yakvm — an AMD-V (SVM) hypervisor behind the KVM ABI.
 *
 * Internal types shared by the module's files.  The hardware side follows
 * the AMD64 Architecture Programmer's Manual vol. 2, chapter 15 ("Secure
 * Virtual Machine"), cited below as "APM 15.x"; the user-space side follows
 * the kernel's Documentation/virt/kvm/api.rst.
 */
#ifndef YAKVM_H
#define YAKVM_H

#include <linux/irq_work.h>
#include <linux/kvm.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/rcuwait.h>
#include <linux/signal.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/user-return-notifier.h>
#include <asm/io.h>
#include <asm/mem_encrypt.h>
#include <linux/xarray.h>
#include <asm/fpu/api.h>
#include <asm/kvm_vcpu_regs.h>
#include <asm/mce.h>
#include <asm/svm.h>
#include <asm/trapnr.h>

#include "compat.h"
#include "irq/irq.h"

#define YAKVM_API_VERSION	12
#define YAKVM_MAX_VCPUS		64	/* KVM_CAP_MAX_VCPUS and KVM_CAP_MAX_VCPU_ID */
#define YAKVM_MAX_SLOTS		64	/* KVM_CAP_NR_MEMSLOTS */
/* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2's flags, as KVM on x86. */
#define YAKVM_DIRTY_LOG_MANUAL_CAPS	(KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE | \
					 KVM_DIRTY_LOG_INITIALLY_SET)
#define YAKVM_RUN_PAGES		3	/* kvm_run, PIO data, coalesced MMIO ring */
#define YAKVM_PIO_PAGE		1	/* page offset of the PIO data page */
#define YAKVM_MAX_MCE_BANKS	32	/* KVM_CAP_MCE, as KVM */
#define YAKVM_MCG_CAP_SUPPORTED	(MCG_CTL_P | MCG_SER_P)

/* Architectural reset values (APM vol. 2 14.1.3 and 13.1). */
#define YAKVM_DR6_INIT		0xffff0ff0ULL
/*
 * B0-3, BD, BS, BT.  BLD (11) and RTM (16) exist only with bus-lock
 * detection and RTM, which yakvm offers neither of: for the guest they
 * are fixed at 1 (as KVM's kvm_dr6_fixed() makes them).
 */
#define YAKVM_DR6_VOLATILE	0x0000e00fULL
#define YAKVM_DR6_FIXED_1	(YAKVM_DR6_INIT & ~YAKVM_DR6_VOLATILE)
#define YAKVM_DR7_INIT		0x00000400ULL
#define YAKVM_PAT_INIT		0x0007040600070406ULL

/*
 * The physical address of a page as the CPU must be given it: with SME
 * active, the C-bit set (APM 7.10), or the CPU reads it as ciphertext.
 */
static inline phys_addr_t yakvm_hw_pa(struct page *page)
{
	return __sme_set(page_to_phys(page));
}

/* Numbering of vcpu->regs[], as the ModRM/REX register encoding. */
enum yakvm_reg {
	YAKVM_RAX = __VCPU_REGS_RAX,
	YAKVM_RCX = __VCPU_REGS_RCX,
	YAKVM_RDX = __VCPU_REGS_RDX,
	YAKVM_RBX = __VCPU_REGS_RBX,
	YAKVM_RSP = __VCPU_REGS_RSP,
	YAKVM_RBP = __VCPU_REGS_RBP,
	YAKVM_RSI = __VCPU_REGS_RSI,
	YAKVM_RDI = __VCPU_REGS_RDI,
	YAKVM_R8 = __VCPU_REGS_R8,
	YAKVM_NR_REGS = 16,
};

/* ------------------------------------------------------------------ */
/* svm.c: per-CPU SVM state, features, ASIDs                          */

struct yakvm_svm_features {
	bool nrips;		/* next RIP saved in the VMCB on #VMEXIT */
	bool decode_assists;	/* instruction bytes for #NPF */
	bool flush_by_asid;	/* TLB_CONTROL 3/7 */
	bool vmcb_clean;	/* VMCB clean bits */
	bool vgif;		/* virtual GIF (only useful for nested SVM) */
	u32 nr_asids;
};

extern struct yakvm_svm_features yakvm_svm;
extern phys_addr_t yakvm_iopm_pa;
extern phys_addr_t yakvm_msrpm_pa;

struct yakvm_cpu {
	struct page *hsave;		/* VM_HSAVE_PA: VMRUN's host save area */
	struct page *host_vmsave;	/* host state that only VMSAVE/VMLOAD move */
	phys_addr_t hsave_pa;		/* the addresses as given to the CPU */
	phys_addr_t host_vmsave_pa;
	bool enabled;			/* yakvm set EFER.SVME on this CPU */
	u32 asid_generation;
	u32 next_asid;
	u32 max_asid;
	struct vmcb *last_vmcb;		/* VMCB that last ran here (IBPB, clean bits) */
	struct irq_work inject_kick;	/* a self-IPI, see run.c */

	/* TSC_AUX, switched lazily (run.c); IRQs off while these change. */
	struct user_return_notifier tsc_aux_urn;
	bool tsc_aux_registered;	/* the host value goes back on user return */
	u64 tsc_aux_host;		/* read when SVM is enabled here */
	u64 tsc_aux_current;		/* what the MSR holds */
	u64 tsc_aux_writes;		/* WRMSRs of TSC_AUX, for debugfs */
};

int yakvm_svm_init(void);
void yakvm_svm_exit(void);
int yakvm_svm_get(void);		/* one more VM: enable SVM on every CPU */
void yakvm_svm_put(void);		/* VM gone: disable when it was the last */
struct yakvm_cpu *yakvm_this_cpu(void);
int yakvm_svm_users(void);
struct seq_file;
void yakvm_svm_show_cpus(struct seq_file *m);
void yakvm_msrpm_allow(u32 msr, bool read, bool write);
void yakvm_svm_forget_vmcb(struct vmcb *vmcb);
void yakvm_svm_drop_tsc_aux(struct yakvm_cpu *pcpu);	/* run.c */

/* ------------------------------------------------------------------ */
/* memslot.c, npt.c: guest physical memory                             */

struct yakvm_slot {
	u16 id;
	u32 flags;
	u64 base_gfn;
	u64 npages;
	unsigned long hva;
	struct xarray pages;		/* slot page index -> pinned struct page */
	unsigned long npinned;
	unsigned long *dirty_bitmap;	/* KVM_MEM_LOG_DIRTY_PAGES */
};

struct yakvm_npt {
	u64 *root;
	int levels;			/* 4, or 5 when the host runs with LA57 */
	unsigned long table_pages;
	unsigned long mapped_pages;
};

/* ------------------------------------------------------------------ */
/* vm.c                                                               */

struct yakvm_vcpu;

/*
 * VM-wide counters, each changed under mmu_lock; what vCPUs count in
 * parallel (nested page faults, MMIO) lives in their own yakvm_vcpu_stats
 * and is summed when read.
 */
struct yakvm_vm_stats {
	u64 npt_pages_mapped;
	u64 slot_changes;
	u64 remote_flushes;
};

/* Hyper-V's clock MSRs and TSC page (cpu/hyperv.c), under vm->hv_lock. */
struct yakvm_hv {
	u64 guest_os_id;
	u64 hypercall;
	u64 reference_tsc;
	bool page_valid;		/* the page holds scale and offset */
	u64 scale;
	s64 offset;
};

struct yakvm_vm {
	refcount_t users;		/* the VM fd and one per vCPU fd */
	struct mm_struct *mm;		/* creator's mm: pinning, accounting */
	unsigned int id;

	struct mutex lock;		/* vCPU creation */
	struct yakvm_vcpu *vcpus[YAKVM_MAX_VCPUS];
	int nr_vcpus;

	/*
	 * mmu_lock covers the slot table and the nested page tables.  It is a
	 * mutex because resolving a nested fault may pin a user page and sleep.
	 */
	struct mutex mmu_lock;
	struct yakvm_slot *slots[YAKVM_MAX_SLOTS];
	struct yakvm_npt npt;
	unsigned long pinned_pages;
	unsigned long accounted_pages;	/* charged to RLIMIT_MEMLOCK */

	u64 tsc_offset;			/* guest TSC starts near zero */
	/* The last IA32_TSC write, for lining vCPUs' TSCs up (cpu/msr.c). */
	struct mutex tsc_lock;
	bool tsc_written;
	u64 last_tsc_ns, last_tsc_write, last_tsc_offset;
	/* kvmclock's master pair (cpu/kvmclock.c), under tsc_lock. */
	bool master_set;
	u64 master_tsc, master_ns;
	u32 bsp_vcpu_id;		/* KVM_SET_BOOT_CPU_ID */
	u32 max_vcpu_ids;		/* KVM_CAP_MAX_VCPU_ID; 0: YAKVM_MAX_VCPUS */
	s64 clock_offset;		/* KVM_GET/SET_CLOCK - host boot time */
	u64 dirty_log_manual;		/* KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 flags */
	u64 wall_clock_msr;		/* MSR_KVM_WALL_CLOCK[_NEW], last written */
	struct mutex hv_lock;		/* before tsc_lock (cpu/hyperv.c) */
	struct yakvm_hv hv;
	/* KVM_HYPERV_EVENTFD: connection ID -> eventfd_ctx (irq/synic.c). */
	struct xarray hv_eventfds;

	struct yakvm_vm_irq irq;	/* in-kernel irqchip, PIT, buses (irq/) */

	/* coalesced_mmio.c: the ring page every vCPU fd maps, its zones. */
	struct kvm_coalesced_mmio_ring *coalesced_ring;
	spinlock_t coalesced_lock;	/* writers of the ring */
	struct list_head coalesced_zones;

	struct yakvm_vm_stats stats;
	struct dentry *debugfs;
};

/* ------------------------------------------------------------------ */
/* vcpu.c, run.c                                                      */

enum yakvm_vcpu_mode {
	YAKVM_OUTSIDE_GUEST = 0,
	YAKVM_IN_GUEST,
};

/* Requests made to a vCPU from other threads, checked before each entry. */
#define YAKVM_REQ_TLB_FLUSH	BIT(0)
#define YAKVM_REQ_EVENT		BIT(1)	/* an interrupt or event may be pending */
#define YAKVM_REQ_IOAPIC_EOI	BIT(2)	/* split irqchip: exit with KVM_EXIT_IOAPIC_EOI */
#define YAKVM_REQ_CLOCK_UPDATE	BIT(3)	/* rewrite the kvmclock structure */
#define YAKVM_REQ_HV_EXIT	BIT(4)	/* exit with KVM_EXIT_HYPERV (irq/synic.c) */
#define YAKVM_REQ_HV_STIMER	BIT(5)	/* a synthetic timer may have expired */

/* An exit to user space whose instruction completes on the next KVM_RUN. */
enum yakvm_pending_user {
	YAKVM_USER_NONE = 0,
	YAKVM_USER_PIO,			/* IN/OUT/INS/OUTS */
	YAKVM_USER_MMIO_READ,		/* load from MMIO into a register */
	YAKVM_USER_SKIP,		/* only advance RIP (next_rip) */
	YAKVM_USER_HV_HCALL,		/* a Hyper-V hypercall: status from run->hyperv */
};

/* Hyper-V's synthetic interrupt controller and timers (irq/synic.c). */
#define YAKVM_HV_SINTS		16
#define YAKVM_HV_STIMERS	4

struct yakvm_stimer {
	struct hrtimer timer;
	struct yakvm_vcpu *vcpu;
	int index;
	u64 config;
	u64 count;
	u64 exp_time;			/* reference time of the next expiry, or 0 */
	bool msg_pending;		/* expired, its message not yet delivered */
};

/*
 * A vCPU's Hyper-V state.  Its own thread changes it (MSR exits, or the
 * VMM's KVM_SET_MSRS while it does not run); other threads only read the
 * SINTs and the VP index (READ_ONCE) and set bits of stimer_pending.
 */
struct yakvm_vcpu_hv {
	u32 vp_index;
	bool synic_active;		/* KVM_CAP_HYPERV_SYNIC[2] enabled */
	bool keep_pages;		/* SYNIC2: enabling a page does not clear it */
	u64 control, version, evt_page, msg_page;
	u64 sint[YAKVM_HV_SINTS];
	struct yakvm_stimer stimer[YAKVM_HV_STIMERS];
	unsigned long stimer_pending;
	struct kvm_hyperv_exit exit;	/* for YAKVM_REQ_HV_EXIT */
	u64 hcall_next_rip;		/* YAKVM_USER_HV_HCALL */
};

struct yakvm_pio {
	u16 port;
	u8 size;
	bool in;
	bool string;
	bool rep;
	u8 addr_size;			/* 2, 4 or 8 bytes: rSI/rDI/rCX width */
	int seg;			/* OUTS source segment (VCPU_SREG_*) */
	u32 count;			/* elements moved by this exit */
	u64 next_rip;
};

/* Arithmetic and logic on an MMIO operand (alu.c). */
enum yakvm_alu_op {
	YAKVM_ALU_NONE = 0,
	YAKVM_ALU_ADD, YAKVM_ALU_OR, YAKVM_ALU_ADC, YAKVM_ALU_SBB,
	YAKVM_ALU_AND, YAKVM_ALU_SUB, YAKVM_ALU_XOR, YAKVM_ALU_CMP,
	YAKVM_ALU_TEST, YAKVM_ALU_INC, YAKVM_ALU_DEC, YAKVM_ALU_NOT,
	YAKVM_ALU_NEG,
};

struct yakvm_mmio_read {
	u8 reg;				/* destination register number */
	u8 size;			/* access size in bytes */
	u8 dest_size;			/* register width written */
	bool sign_extend;
	bool exchange;			/* XCHG: store the old register next */
	u64 store_value;
	bool high_byte;			/* AH/CH/DH/BH */
	enum yakvm_alu_op alu;		/* ALU instruction, or YAKVM_ALU_NONE */
	bool alu_to_memory;		/* result goes back to the MMIO operand */
	u64 alu_source;			/* register or immediate operand */
	u8 string_op;			/* MOVS/LODS opcode reading MMIO, or 0 */
	bool rep;
	u8 addr_size;
	u64 next_rip;
	u64 gpa;
};

struct yakvm_event {
	bool pending;
	u8 vector;
	bool has_error;
	u32 error_code;
};

/*
 * A software interrupt or exception (INT n, INTO) that yakvm intercepted and
 * delivers itself: @type is SVM_EVTINJ_TYPE_SOFT or _EXEPT, RIP is already
 * past the instruction at @insn_rip.  @injected: on the last entry, so an
 * interrupted delivery rewinds RIP and the instruction runs again.
 */
struct yakvm_soft_event {
	bool pending;
	bool injected;
	u8 vector;
	u32 type;
	u64 insn_rip;
	u64 next_rip;
};

/* Exit codes 0..0x9f count in their own slot; #NPF and VMEXIT_INVALID after. */
#define YAKVM_EXIT_BUCKETS	0xa2
#define YAKVM_BUCKET_NPF	0xa0
#define YAKVM_BUCKET_INVALID	0xa1

struct yakvm_vcpu_stats {
	u64 entries;
	u64 exits;
	u64 exit_codes[YAKVM_EXIT_BUCKETS];	/* by SVM exit code */
	u64 user_exits[KVM_EXIT_NOTIFY + 1];	/* by KVM exit reason */
	u64 injected_exceptions;
	u64 injected_irqs;
	u64 asid_allocs;
	u64 signal_exits;
	u64 npt_faults;
	u64 mmio_faults;
	u64 coalesced_writes;		/* appended to the coalesced MMIO ring */
	u64 coalesced_full;		/* exited because the ring was full */
};

struct yakvm_vcpu {
	struct yakvm_vm *vm;
	u32 id;
	int idx;			/* index in vm->vcpus[] */
	struct mutex mutex;		/* one ioctl at a time on this vCPU */

	struct vmcb *vmcb;
	phys_addr_t vmcb_pa;
	unsigned long regs[YAKVM_NR_REGS];	/* RSP and RAX live in the VMCB */
	struct kvm_run *run;
	void *pio_data;
	struct fpu_guest guest_fpu;
	u64 xcr0;
	u32 pkru;			/* guest PKRU: not switched by VMRUN */

	/* Scheduling and TLB state, see run.c. */
	int last_cpu;
	u32 asid_generation;
	int mode;
	unsigned long requests;
	int cpu;			/* CPU while IN_GUEST, for kicks */

	enum yakvm_pending_user pending;
	struct yakvm_pio pio;
	struct yakvm_mmio_read mmio;
	u64 skip_rip;

	struct yakvm_event exception;	/* exception to inject on entry */
	struct yakvm_event irq;		/* external interrupt (KVM_INTERRUPT) */
	struct yakvm_soft_event soft;	/* an intercepted INTn/INTO, see debug.c */
	bool want_irq_window;		/* kvm_run.request_interrupt_window, read once per KVM_RUN */
	int user_extint;		/* split irqchip: KVM_INTERRUPT's ExtINT vector, or -1 */
	u8 ioapic_eoi_vector;		/* split irqchip: for KVM_EXIT_IOAPIC_EOI */
	bool sigset_active;		/* KVM_SET_SIGNAL_MASK */
	sigset_t sigset;
	u32 guest_debug;		/* KVM_GUESTDBG_* */
	bool step_completed;		/* emulated instruction done with TF set */
	u64 fault_addr;			/* last emulated access that faulted */
	u32 fault_error;
	bool shutdown;

	/* Emulated MSRs and registers not held in the VMCB. */
	u64 apic_base;
	u64 misc_enable;
	u64 tsc_aux;
	u64 hwcr;
	u64 de_cfg;
	u64 mtrr_def_type;
	u64 mtrr_fixed[11];
	u64 mtrr_var[16];
	u64 dr[4];			/* DR0-3: intercepted, never loaded */
	u64 dr7;			/* emulated: guest breakpoints are not armed */
	u64 tsc_offset;			/* guest TSC - host TSC */
	u64 tsc_adjust;			/* IA32_TSC_ADJUST */
	u64 mcg_cap, mcg_status, mcg_ctl;	/* machine check (cpu/msr.c) */
	u64 mce_banks[YAKVM_MAX_MCE_BANKS * 4];	/* CTL, STATUS, ADDR, MISC */
	u64 pv_msrs[8];			/* KVM PV MSRs 0x4b564d00-07 a VMM stored */
	/* cpu/kvmclock.c */
	u64 kvmclock_msr;		/* MSR_KVM_SYSTEM_TIME[_NEW] */
	u64 kvmclock_gpa;
	u32 kvmclock_version;
	int kvmclock_cpu;		/* the physical CPU of its last update */
	struct yakvm_vcpu_hv hv;	/* irq/synic.c, cpu/hyperv.c */

	/* The VMM's CPUID table (KVM_SET_CPUID2); without one, the default. */
	bool cpuid_set;
	struct kvm_cpuid_entry2 *cpuid;
	int cpuid_nent;
	bool ran;			/* entered the guest at least once */

	/*
	 * With the in-kernel irqchip (irq/): the local APIC, the MP state
	 * (KVM_MP_STATE_*), and where the vCPU sleeps while halted or waiting
	 * for INIT/SIPI.  Without it, apic is NULL and mp_state RUNNABLE.
	 */
	struct yakvm_lapic *apic;
	u32 mp_state;
	struct rcuwait wait;

	/* NMIs (svm/events.c): KVM_NMI, NMI IPIs, LINT1. */
	atomic_t nmi_queued;		/* not yet looked at by the vCPU */
	unsigned int nmi_pending;	/* at most 2, as a CPU latches */
	bool nmi_injected;		/* being delivered (EVENTINJ, re-injected) */
	bool nmi_masked;		/* blocked until the handler's IRET */
	bool awaiting_iret;		/* IRET intercepted at iret_rip */
	bool nmi_singlestep;		/* TF set by yakvm: an IRET or a shadow ends */
	u64 nmi_singlestep_rflags;	/* the guest's own TF and RF then */
	u64 iret_rip;

	struct yakvm_vcpu_stats stats;
	struct dentry *debugfs;
};

static inline bool yakvm_long_mode(struct yakvm_vcpu *vcpu)
{
	return vcpu->vmcb->save.efer & EFER_LMA;
}

/* 64-bit code segment: long mode and CS.L set. */
static inline bool yakvm_64bit_code(struct yakvm_vcpu *vcpu)
{
	return yakvm_long_mode(vcpu) &&
	       (vcpu->vmcb->save.cs.attrib & SVM_SELECTOR_L_MASK);
}

/* VMCB clean bits (APM 15.15.3): fields that software changed. */
enum yakvm_vmcb_dirty {
	YAKVM_DIRTY_INTERCEPTS = 0,
	YAKVM_DIRTY_PERM_MAP,
	YAKVM_DIRTY_ASID,
	YAKVM_DIRTY_TPR,
	YAKVM_DIRTY_NP,
	YAKVM_DIRTY_CR,
	YAKVM_DIRTY_DR,
	YAKVM_DIRTY_DT,
	YAKVM_DIRTY_SEG,
	YAKVM_DIRTY_CR2,
	YAKVM_DIRTY_LBR,
	YAKVM_DIRTY_AVIC,
	YAKVM_DIRTY_ALL_MASK = 0xfff,
};

static inline void yakvm_vmcb_dirty(struct vmcb *vmcb, int bit)
{
	vmcb->control.clean &= ~BIT(bit);
}

/* main.c */
long yakvm_check_extension(long cap);

/* vm.c */
long yakvm_create_vm(unsigned long type);
void yakvm_vm_put(struct yakvm_vm *vm);
void yakvm_vm_kick_all(struct yakvm_vm *vm, unsigned long request);

/* memslot.c */
int yakvm_set_memory_region(struct yakvm_vm *vm,
			    const struct kvm_userspace_memory_region *mem);
struct yakvm_slot *yakvm_find_slot(struct yakvm_vm *vm, u64 gfn);
int yakvm_slot_page(struct yakvm_vm *vm, struct yakvm_slot *slot, u64 gfn,
		    struct page **page);
void yakvm_free_slots(struct yakvm_vm *vm);
int yakvm_read_gpa(struct yakvm_vm *vm, u64 gpa, void *buf, unsigned int len);
int yakvm_write_gpa(struct yakvm_vm *vm, u64 gpa, const void *buf,
		    unsigned int len);
int yakvm_cmpxchg_gpa(struct yakvm_vm *vm, u64 gpa, u64 *old, u64 new,
		      unsigned int size);
u64 yakvm_max_gpa(void);
void yakvm_mark_dirty(struct yakvm_slot *slot, u64 gfn);
long yakvm_get_dirty_log(struct yakvm_vm *vm, void __user *argp);
long yakvm_clear_dirty_log(struct yakvm_vm *vm, void __user *argp);

/* npt.c */
int yakvm_npt_init(struct yakvm_vm *vm);
void yakvm_npt_destroy(struct yakvm_vm *vm);
int yakvm_npt_map(struct yakvm_vm *vm, u64 gfn, struct page *page,
		  bool writable);
void yakvm_npt_unmap(struct yakvm_vm *vm, u64 gfn, u64 npages);
bool yakvm_npt_wrprotect(struct yakvm_vm *vm, u64 gfn);
bool yakvm_npt_present(struct yakvm_vm *vm, u64 gfn);
void yakvm_npt_prune(struct yakvm_vm *vm, u64 gfn, u64 npages,
		     struct list_head *freed);
void yakvm_npt_free_tables(struct yakvm_vm *vm, struct list_head *freed);
phys_addr_t yakvm_npt_root_pa(struct yakvm_vm *vm);

/* vcpu.c */
int yakvm_create_vcpu(struct yakvm_vm *vm, unsigned long id);

/* KVM_ENABLE_CAP's argument, VM or vCPU: no flags are defined (api.rst). */
static inline int yakvm_read_enable_cap(struct kvm_enable_cap *cap,
					void __user *argp)
{
	if (copy_from_user(cap, argp, sizeof(*cap)))
		return -EFAULT;
	return cap->flags ? -EINVAL : 0;
}
void yakvm_vcpu_free(struct yakvm_vcpu *vcpu);
void yakvm_vcpu_reset(struct yakvm_vcpu *vcpu);
void yakvm_vcpu_init(struct yakvm_vcpu *vcpu);		/* an INIT */
void yakvm_vcpu_sipi(struct yakvm_vcpu *vcpu, u8 vector);
bool yakvm_vcpu_is_bsp(struct yakvm_vcpu *vcpu);

/* vcpu_state.c */
long yakvm_get_vcpu_events(struct yakvm_vcpu *vcpu, void __user *argp);
long yakvm_set_vcpu_events(struct yakvm_vcpu *vcpu, void __user *argp);
long yakvm_get_xsave(struct yakvm_vcpu *vcpu, void __user *argp, bool xsave2);
long yakvm_set_xsave(struct yakvm_vcpu *vcpu, void __user *argp);
long yakvm_get_xcrs(struct yakvm_vcpu *vcpu, void __user *argp);
long yakvm_set_xcrs(struct yakvm_vcpu *vcpu, void __user *argp);
bool yakvm_xcr0_valid(struct yakvm_vcpu *vcpu, u64 val);
long yakvm_get_debugregs(struct yakvm_vcpu *vcpu, void __user *argp);
long yakvm_set_debugregs(struct yakvm_vcpu *vcpu, void __user *argp);
long yakvm_get_tsc_khz(struct yakvm_vcpu *vcpu);
long yakvm_set_tsc_khz(struct yakvm_vcpu *vcpu, unsigned long khz);
long yakvm_set_signal_mask(struct yakvm_vcpu *vcpu, void __user *argp);
void yakvm_sigset_activate(struct yakvm_vcpu *vcpu);
void yakvm_sigset_deactivate(struct yakvm_vcpu *vcpu);
long yakvm_set_vapic_addr(struct yakvm_vcpu *vcpu, void __user *argp);

/* run.c */
int yakvm_vcpu_run(struct yakvm_vcpu *vcpu);
void yakvm_vcpu_kick(struct yakvm_vcpu *vcpu);

/* events.c */
void yakvm_queue_exception(struct yakvm_vcpu *vcpu, u8 vector, bool has_error,
			   u32 error_code);
bool yakvm_interrupt_allowed(struct yakvm_vcpu *vcpu);
bool yakvm_ready_for_interrupt(struct yakvm_vcpu *vcpu);
bool yakvm_inject_events(struct yakvm_vcpu *vcpu);
void yakvm_complete_interrupted_event(struct yakvm_vcpu *vcpu);
int yakvm_handle_vintr(struct yakvm_vcpu *vcpu);
int yakvm_handle_iret(struct yakvm_vcpu *vcpu);
bool yakvm_nmi_singlestep_db(struct yakvm_vcpu *vcpu);
void yakvm_check_events(struct yakvm_vcpu *vcpu);
bool yakvm_has_wake_event(struct yakvm_vcpu *vcpu);
long yakvm_interrupt_ioctl(struct yakvm_vcpu *vcpu, void __user *argp);
long yakvm_nmi_ioctl(struct yakvm_vcpu *vcpu);

/* debug.c */
bool yakvm_singlestepping(struct yakvm_vcpu *vcpu);
long yakvm_set_guest_debug(struct yakvm_vcpu *vcpu, void __user *argp);
void yakvm_apply_guest_debug(struct yakvm_vcpu *vcpu);
int yakvm_handle_db(struct yakvm_vcpu *vcpu);
int yakvm_handle_bp(struct yakvm_vcpu *vcpu);
int yakvm_handle_swint(struct yakvm_vcpu *vcpu);
int yakvm_complete_step(struct yakvm_vcpu *vcpu);
static inline void yakvm_inject_gp(struct yakvm_vcpu *vcpu)
{
	yakvm_queue_exception(vcpu, X86_TRAP_GP, true, 0);
}

static inline void yakvm_inject_ud(struct yakvm_vcpu *vcpu)
{
	yakvm_queue_exception(vcpu, X86_TRAP_UD, false, 0);
}

/* vmenter.S */
bool __yakvm_clgi(void);
void __yakvm_vmrun(unsigned long *regs, phys_addr_t vmcb_pa,
		   phys_addr_t host_vmsave_pa);

/* exit.c: returns 1 to re-enter, 0 to exit to user space, < 0 on error. */
int yakvm_handle_exit(struct yakvm_vcpu *vcpu);
int yakvm_skip_instruction(struct yakvm_vcpu *vcpu);
void yakvm_set_rip(struct yakvm_vcpu *vcpu, u64 rip);
u64 yakvm_addr_mask(u8 addr_size);
void yakvm_add_masked(unsigned long *reg, s64 delta, u8 addr_size);
void yakvm_write_reg(struct yakvm_vcpu *vcpu, u8 reg, u64 val, u8 size,
		     bool high_byte);
int yakvm_internal_error(struct yakvm_vcpu *vcpu, u32 suberror);
int yakvm_emulation_error(struct yakvm_vcpu *vcpu, const u8 *insn,
			  unsigned int len);
int yakvm_user_exit(struct yakvm_vcpu *vcpu, u32 reason);

/* pio.c */
int yakvm_handle_ioio(struct yakvm_vcpu *vcpu);
int yakvm_complete_pio(struct yakvm_vcpu *vcpu);

/* mmio.c */
int yakvm_handle_npf(struct yakvm_vcpu *vcpu);
int yakvm_complete_mmio_read(struct yakvm_vcpu *vcpu);

/* paging.c: guest linear addresses */
enum yakvm_access {
	YAKVM_ACCESS_READ = 0,
	YAKVM_ACCESS_WRITE = 1,
	YAKVM_ACCESS_FETCH = 2,
};

int yakvm_gva_to_gpa(struct yakvm_vcpu *vcpu, u64 gva, enum yakvm_access acc,
		     u64 *gpa, u32 *pf_error);
int yakvm_read_gva(struct yakvm_vcpu *vcpu, u64 gva, void *buf,
		   unsigned int len, enum yakvm_access acc);
int yakvm_write_gva(struct yakvm_vcpu *vcpu, u64 gva, const void *buf,
		    unsigned int len);
void yakvm_inject_page_fault(struct yakvm_vcpu *vcpu);
int yakvm_fetch_insn(struct yakvm_vcpu *vcpu, u8 *buf, unsigned int *len);
u64 yakvm_seg_base(struct yakvm_vcpu *vcpu, int seg);

/* Results of the guest-memory helpers above. */
#define YAKVM_GVA_OK		0
#define YAKVM_GVA_FAULT		1	/* #PF injected-able: see pf_error */
#define YAKVM_GVA_NOT_RAM	2	/* page table or data outside RAM */
#define YAKVM_GVA_RETRY		3	/* internal: an entry changed under the walk */

/* decode.c */
enum yakvm_seg {
	YAKVM_SEG_ES = 0,
	YAKVM_SEG_CS,
	YAKVM_SEG_SS,
	YAKVM_SEG_DS,
	YAKVM_SEG_FS,
	YAKVM_SEG_GS,
};

struct yakvm_insn {
	u8 bytes[15];
	unsigned int len;		/* fetched, then decoded length */
	unsigned int prefix_len;
	u8 opsize;			/* operand size: 2, 4 or 8 */
	u8 addr_size;			/* address size: 2, 4 or 8 */
	int seg;			/* segment override or -1 */
	u8 rex;
	bool rep;
	u8 modrm_mod, modrm_reg, modrm_rm;	/* reg and rm include REX.R/B */

	/* A decoded MOV to or from memory (yakvm_decode_mov). */
	bool write;			/* store to memory */
	u8 mem_size;			/* bytes accessed in memory */
	u8 reg;				/* register operand */
	bool high_byte;			/* AH, CH, DH or BH */
	bool use_imm;			/* store of an immediate */
	u64 imm;
	u8 dest_size;			/* register width written by a load */
	bool sign_extend;		/* MOVSX, MOVSXD */
	bool exchange;			/* XCHG: the load is followed by a store */
	enum yakvm_alu_op alu;		/* ALU: the load is an operand */
	bool alu_to_memory;		/* ALU result written back to memory */
	u8 string_op;			/* STOS/MOVS/LODS opcode (A4/A5/AA-AD) */
};

int yakvm_decode_prefixes(struct yakvm_vcpu *vcpu, struct yakvm_insn *insn);
int yakvm_decode_mov(struct yakvm_vcpu *vcpu, struct yakvm_insn *insn);
int yakvm_decode_mov_dr(struct yakvm_vcpu *vcpu, struct yakvm_insn *insn);
int yakvm_decode_mov_cr(struct yakvm_vcpu *vcpu, struct yakvm_insn *insn);

/* alu.c */
u64 yakvm_alu(struct yakvm_vcpu *vcpu, enum yakvm_alu_op op, u64 dst, u64 src,
	      u8 size);
bool yakvm_alu_writes(enum yakvm_alu_op op);

/* msr.c */
int yakvm_handle_msr(struct yakvm_vcpu *vcpu);
int yakvm_get_msr(struct yakvm_vcpu *vcpu, u32 index, u64 *data, bool host);
int yakvm_set_msr(struct yakvm_vcpu *vcpu, u32 index, u64 data, bool host);
int yakvm_msr_init(void);
long yakvm_get_msr_index_list(void __user *argp);
long yakvm_vcpu_msrs_ioctl(struct yakvm_vcpu *vcpu, void __user *argp,
			   bool set);
u64 yakvm_guest_tsc(struct yakvm_vcpu *vcpu);
long yakvm_get_mce_cap_supported(void __user *argp);
long yakvm_setup_mce(struct yakvm_vcpu *vcpu, void __user *argp);
long yakvm_set_mce(struct yakvm_vcpu *vcpu, void __user *argp);

/* hyperv.c */
int yakvm_hv_get_msr(struct yakvm_vcpu *vcpu, u32 index, u64 *data, bool host);
int yakvm_hv_set_msr(struct yakvm_vcpu *vcpu, u32 index, u64 data, bool host);
void yakvm_hv_clock_changed(struct yakvm_vm *vm);
bool yakvm_hv_hypercall_enabled(struct yakvm_vcpu *vcpu);
int yakvm_hv_hypercall(struct yakvm_vcpu *vcpu);
int yakvm_hv_complete_hcall(struct yakvm_vcpu *vcpu);
long yakvm_get_supported_hv_cpuid(struct yakvm_vcpu *vcpu, void __user *argp);
u64 yakvm_hv_ref_time(struct yakvm_vcpu *vcpu);
bool yakvm_hv_guest_enabled(struct yakvm_vcpu *vcpu);

/* irq/synic.c: Hyper-V's SynIC and synthetic timers */
void yakvm_synic_vcpu_init(struct yakvm_vcpu *vcpu);
void yakvm_synic_vcpu_free(struct yakvm_vcpu *vcpu);
int yakvm_synic_enable(struct yakvm_vcpu *vcpu, bool synic2);
/* SynIC and timer MSRs: 0, or 1 to refuse (#GP for the guest). */
int yakvm_synic_get_msr(struct yakvm_vcpu *vcpu, u32 index, u64 *data, bool host);
int yakvm_synic_set_msr(struct yakvm_vcpu *vcpu, u32 index, u64 data, bool host);
/* A KVM_IRQ_ROUTING_HV_SINT route fired: KVM's result (count, or < 0). */
int yakvm_synic_set_irq(struct yakvm_vm *vm, u32 vp_index, u32 sint);
/* The local APIC takes @vector: true when a SINT makes it auto-EOI. */
bool yakvm_synic_auto_eoi(struct yakvm_vcpu *vcpu, int vector);
void yakvm_synic_eoi(struct yakvm_vcpu *vcpu, int vector);
void yakvm_synic_process_stimers(struct yakvm_vcpu *vcpu);
u16 yakvm_synic_signal_event(struct yakvm_vcpu *vcpu, u64 param);
long yakvm_hv_eventfd(struct yakvm_vm *vm, void __user *argp);
void yakvm_hv_eventfds_destroy(struct yakvm_vm *vm);

/* cpuid.c */
int yakvm_cpuid_init(void);
void yakvm_cpuid_exit(void);
int yakvm_handle_cpuid(struct yakvm_vcpu *vcpu);
long yakvm_get_supported_cpuid(void __user *argp);
long yakvm_set_cpuid2(struct yakvm_vcpu *vcpu, void __user *argp);
long yakvm_get_cpuid2(struct yakvm_vcpu *vcpu, void __user *argp);
u64 yakvm_supported_xcr0(void);
u64 yakvm_guest_xcr0_mask(struct yakvm_vcpu *vcpu);
u32 yakvm_cpuid_signature(struct yakvm_vcpu *vcpu);
u32 yakvm_guest_cpuid_eax(struct yakvm_vcpu *vcpu, u32 function);

enum yakvm_cpuid_reg {
	YAKVM_CPUID_EAX, YAKVM_CPUID_EBX, YAKVM_CPUID_ECX, YAKVM_CPUID_EDX,
};

bool yakvm_guest_cpuid_bit(struct yakvm_vcpu *vcpu, u32 function, u32 index,
			   enum yakvm_cpuid_reg reg, unsigned int bit);

/* kvmclock.c */
u64 yakvm_vm_clock_ns(struct yakvm_vm *vm);
void yakvm_kvmclock_update(struct yakvm_vcpu *vcpu);
bool yakvm_kvmclock_master(struct yakvm_vm *vm, u64 *guest_tsc, u64 *ns);
void yakvm_kvmclock_request(struct yakvm_vcpu *vcpu);
void yakvm_kvmclock_request_all(struct yakvm_vm *vm);
void yakvm_kvmclock_clock_set(struct yakvm_vm *vm);
int yakvm_kvmclock_set_system_time(struct yakvm_vcpu *vcpu, u64 data);
int yakvm_kvmclock_set_wall_clock(struct yakvm_vcpu *vcpu, u64 gpa);

/* cr.c */
bool yakvm_sregs_valid(struct yakvm_vcpu *vcpu, const struct kvm_sregs *k);
int yakvm_handle_cr4_write(struct yakvm_vcpu *vcpu);
u64 yakvm_get_cr8(struct yakvm_vcpu *vcpu);
void yakvm_set_cr8(struct yakvm_vcpu *vcpu, u64 cr8);

/* coalesced_mmio.c */
int yakvm_coalesced_init(struct yakvm_vm *vm);
void yakvm_coalesced_destroy(struct yakvm_vm *vm);
long yakvm_register_coalesced(struct yakvm_vm *vm, void __user *argp);
long yakvm_unregister_coalesced(struct yakvm_vm *vm, void __user *argp);

/* stats.c */
struct yakvm_counters {
	atomic_long_t vms;
	atomic_long_t vcpus;
	atomic_long_t slots;
	atomic_long_t pinned_pages;
	atomic_long_t npt_pages;
	atomic_long_t kernel_pages;	/* VMCBs, run pages, ... */
};

extern struct yakvm_counters yakvm_counters;

void yakvm_stats_init(void);
void yakvm_stats_exit(void);
void yakvm_stats_vm_add(struct yakvm_vm *vm);
void yakvm_stats_vm_remove(struct yakvm_vm *vm);
void yakvm_stats_vcpu_add(struct yakvm_vcpu *vcpu);

/* stress.c */
struct dentry;
void yakvm_stress_init(struct dentry *parent);
void yakvm_stress_exit(void);

#endif /* YAKVM_H */
