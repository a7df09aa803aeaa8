// SPDX-License-Identifier: GPL-2.0
/*
 * SVM on the host CPUs: detection, enabling EFER.SVME and VM_HSAVE_PA on every
 * CPU while yakvm has VMs, CPU hotplug, reboot, and the permission maps
 * shared by all guests.
 *
 * Policy towards kvm_amd (docs/design.md, "Sharing SVM with kvm_amd"): like
 * KVM, yakvm turns SVM on when its first VM is created and off when its last
 * VM goes.  A CPU whose EFER.SVME is already set belongs to another
 * hypervisor; yakvm never touches it and KVM_CREATE_VM fails with -EBUSY.
 * kvm_amd behaves the same way towards yakvm, so the two take turns; but
 * 6.12's kvm_amd, by default, holds SVM for as long as it is loaded
 * (kvm.enable_virt_at_load), and yakvm then says how to let it go.
 */
#define pr_fmt(fmt) "yakvm: " fmt

#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/reboot.h>
#include <linux/seq_file.h>
#include <asm/mem_encrypt.h>
#include <asm/cpufeature.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/processor.h>

#include "yakvm.h"

struct yakvm_svm_features yakvm_svm;
phys_addr_t yakvm_iopm_pa;
phys_addr_t yakvm_msrpm_pa;

static DEFINE_PER_CPU(struct yakvm_cpu, yakvm_cpus);
/*
 * ASID generations only ever grow, across every CPU and every time SVM is
 * enabled again on one (after an offline/online, or after kvm_amd had its
 * turn): a vCPU keeps its ASID only while its generation is its CPU's
 * current one, so a generation number must never come back.
 */
static atomic_t asid_generations = ATOMIC_INIT(0);
static DEFINE_MUTEX(svm_users_lock);
static int svm_users;		/* VMs alive; protected by svm_users_lock + cpus_read_lock */
static bool svm_rebooting;
static enum cpuhp_state svm_hp_state;

#define IOPM_ORDER	2	/* 12 KiB used (APM 15.10.1) */
#define MSRPM_ORDER	1	/* 8 KiB (APM 15.11) */
static struct page *iopm_pages;
static struct page *msrpm_pages;

/* CPUID Fn8000_000A EDX (APM 15.4, "Enabling SVM"). */
#define SVM_FEAT_NP		BIT(0)
#define SVM_FEAT_NRIPS		BIT(3)
#define SVM_FEAT_VMCB_CLEAN	BIT(5)
#define SVM_FEAT_FLUSH_ASID	BIT(6)
#define SVM_FEAT_DECODE		BIT(7)
#define SVM_FEAT_VGIF		BIT(16)

static int svm_check_hardware(void)
{
	u32 eax, ebx, ecx, edx;
	u64 vm_cr;

	if (boot_cpu_data.x86_vendor != X86_VENDOR_AMD &&
	    boot_cpu_data.x86_vendor != X86_VENDOR_HYGON) {
		pr_err("not loading: this is not an AMD CPU, SVM is unavailable\n");
		return -ENODEV;
	}
	if (cpuid_eax(0x80000000) < SVM_CPUID_FUNC ||
	    !(cpuid_ecx(0x80000001) & BIT(2))) {
		pr_err("not loading: the CPU does not report SVM (CPUID 8000_0001 ECX[2])\n");
		return -ENODEV;
	}
	cpuid(SVM_CPUID_FUNC, &eax, &ebx, &ecx, &edx);
	if (!(edx & SVM_FEAT_NP)) {
		pr_err("not loading: nested paging is missing (CPUID 8000_000A EDX[0])\n");
		return -ENODEV;
	}
	rdmsrl(MSR_VM_CR, vm_cr);
	if (vm_cr & SVM_VM_CR_SVM_DIS_MASK) {
		pr_err("not loading: SVM is disabled by firmware (VM_CR.SVMDIS%s)\n",
		       vm_cr & SVM_VM_CR_SVM_LOCK_MASK ? ", locked" : "");
		return -ENODEV;
	}
	if (ebx < 2) {
		pr_err("not loading: the CPU has no ASID for guests\n");
		return -ENODEV;
	}

	yakvm_svm.nrips = edx & SVM_FEAT_NRIPS;
	yakvm_svm.decode_assists = edx & SVM_FEAT_DECODE;
	yakvm_svm.flush_by_asid = edx & SVM_FEAT_FLUSH_ASID;
	yakvm_svm.vmcb_clean = edx & SVM_FEAT_VMCB_CLEAN;
	yakvm_svm.vgif = edx & SVM_FEAT_VGIF;
	yakvm_svm.nr_asids = ebx;
	pr_info("SVM rev %u, %u ASIDs, NPT %d-level; nrips=%d decode-assists=%d flush-by-asid=%d vmcb-clean=%d vgif=%d\n",
		eax & 0xff, ebx, pgtable_l5_enabled() ? 5 : 4,
		yakvm_svm.nrips, yakvm_svm.decode_assists,
		yakvm_svm.flush_by_asid, yakvm_svm.vmcb_clean, yakvm_svm.vgif);
	return 0;
}

/* Runs on each CPU with interrupts off (IPI or hotplug callback). */
static void svm_enable_cpu(void *failed)
{
	struct yakvm_cpu *c = this_cpu_ptr(&yakvm_cpus);
	u64 efer, vm_cr;

	if (c->enabled)
		return;
	rdmsrl(MSR_EFER, efer);
	rdmsrl(MSR_VM_CR, vm_cr);
	if ((efer & EFER_SVME) || (vm_cr & SVM_VM_CR_SVM_DIS_MASK)) {
		/* Another hypervisor owns SVM here (or firmware forbids it). */
		if (failed)
			atomic_inc(failed);
		return;
	}
	wrmsrl(MSR_EFER, efer | EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, c->hsave_pa);
	c->enabled = true;
	/*
	 * A generation no vCPU can hold, and next_asid past the last ASID:
	 * the first VMRUN here begins yet another generation with
	 * TLB_CONTROL=1, so no translation tagged by a previous user of these
	 * ASIDs (kvm_amd, an older yakvm VM) survives either.
	 */
	c->asid_generation = atomic_inc_return(&asid_generations);
	c->max_asid = yakvm_svm.nr_asids - 1;
	c->next_asid = c->max_asid + 1;
	c->last_vmcb = NULL;
	if (boot_cpu_has(X86_FEATURE_RDTSCP) || boot_cpu_has(X86_FEATURE_RDPID))
		rdmsrl(MSR_TSC_AUX, c->tsc_aux_host);
	c->tsc_aux_current = c->tsc_aux_host;
}

/*
 * Sets GIF, so INIT and NMI are not left blocked, zeroes VM_HSAVE_PA and
 * clears EFER.SVME (APM 15.4).  yakvm's own copy of what 6.1's
 * asm/virtext.h called cpu_svm_disable(): that header is gone in 6.12.
 * Only called on a CPU yakvm enabled, with interrupts off.
 */
static void svm_cpu_off(void)
{
	u64 efer;

	wrmsrl(MSR_VM_HSAVE_PA, 0);
	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME) {
		asm volatile("stgi" ::: "memory");
		wrmsrl(MSR_EFER, efer & ~EFER_SVME);
	}
}

static void svm_disable_cpu(void *unused)
{
	struct yakvm_cpu *c = this_cpu_ptr(&yakvm_cpus);

	if (!c->enabled)
		return;
	yakvm_svm_drop_tsc_aux(c);
	svm_cpu_off();
	c->enabled = false;
	c->last_vmcb = NULL;
}

struct yakvm_cpu *yakvm_this_cpu(void)
{
	return this_cpu_ptr(&yakvm_cpus);
}

/* A freed VMCB's page may come back as another VMCB: forget it everywhere. */
void yakvm_svm_forget_vmcb(struct vmcb *vmcb)
{
	int cpu;

	for_each_possible_cpu(cpu)
		cmpxchg(&per_cpu_ptr(&yakvm_cpus, cpu)->last_vmcb, vmcb, NULL);
}

/*
 * debugfs "cpus": each CPU's SVM state as the hardware was given it (the
 * VM_HSAVE_PA value and the host VMSAVE area's address) and its ASID
 * generation, plus the SME C-bit mask those addresses must carry.
 */
void yakvm_svm_show_cpus(struct seq_file *m)
{
	int cpu;

	seq_printf(m, "sme_mask 0x%llx\n", (u64)sme_me_mask);
	for_each_possible_cpu(cpu) {
		struct yakvm_cpu *c = per_cpu_ptr(&yakvm_cpus, cpu);

		seq_printf(m, "cpu %d enabled %d generation %u next_asid %u hsave_pa 0x%llx host_vmsave_pa 0x%llx tsc_aux_writes %llu\n",
			   cpu, READ_ONCE(c->enabled), READ_ONCE(c->asid_generation),
			   READ_ONCE(c->next_asid), (u64)c->hsave_pa,
			   (u64)c->host_vmsave_pa, READ_ONCE(c->tsc_aux_writes));
	}
}

int yakvm_svm_users(void)
{
	return READ_ONCE(svm_users);
}

int yakvm_svm_get(void)
{
	atomic_t failed = ATOMIC_INIT(0);
	int r = 0;

	cpus_read_lock();
	mutex_lock(&svm_users_lock);
	if (svm_rebooting) {
		r = -EBUSY;
		goto out;
	}
	if (svm_users == 0) {
		on_each_cpu(svm_enable_cpu, &failed, 1);
		if (atomic_read(&failed)) {
			on_each_cpu(svm_disable_cpu, NULL, 1);
			pr_warn_ratelimited("cannot enable SVM: %d of %u CPUs have EFER.SVME set by another hypervisor; if it is KVM: %s\n",
					    atomic_read(&failed), num_online_cpus(),
					    YAKVM_SVM_BUSY_HINT);
			r = -EBUSY;
			goto out;
		}
	}
	svm_users++;
out:
	mutex_unlock(&svm_users_lock);
	cpus_read_unlock();
	return r;
}

void yakvm_svm_put(void)
{
	cpus_read_lock();
	mutex_lock(&svm_users_lock);
	if (!WARN_ON_ONCE(svm_users <= 0) && --svm_users == 0)
		on_each_cpu(svm_disable_cpu, NULL, 1);
	mutex_unlock(&svm_users_lock);
	cpus_read_unlock();
}

/* CPU hotplug: a CPU coming online while VMs exist gets SVM too. */
static int svm_cpu_online(unsigned int cpu)
{
	if (svm_users && !svm_rebooting) {
		local_irq_disable();
		svm_enable_cpu(NULL);
		local_irq_enable();
		if (!this_cpu_ptr(&yakvm_cpus)->enabled)
			pr_warn("CPU %u came online with SVM owned elsewhere; vCPUs cannot run on it\n",
				cpu);
	}
	return 0;
}

static int svm_cpu_offline(unsigned int cpu)
{
	local_irq_disable();
	svm_disable_cpu(NULL);
	local_irq_enable();
	return 0;
}

/*
 * A reboot or kexec must not leave SVM on: the next kernel's kvm_amd would
 * refuse the CPUs.  Running vCPUs see enabled == false and stop.
 */
static int svm_reboot(struct notifier_block *nb, unsigned long code, void *p)
{
	mutex_lock(&svm_users_lock);
	svm_rebooting = true;
	mutex_unlock(&svm_users_lock);
	on_each_cpu(svm_disable_cpu, NULL, 1);
	return NOTIFY_OK;
}

static struct notifier_block svm_reboot_nb = {
	.notifier_call = svm_reboot,
};

/* MSR permission map: two bits per MSR, read then write (APM 15.11). */
static const struct {
	u32 first;
	u32 offset;
} msrpm_ranges[] = {
	{ 0x00000000, 0x0000 },
	{ 0xc0000000, 0x0800 },
	{ 0xc0010000, 0x1000 },
};

void yakvm_msrpm_allow(u32 msr, bool read, bool write)
{
	u8 *map = page_address(msrpm_pages);
	int i;

	for (i = 0; i < ARRAY_SIZE(msrpm_ranges); i++) {
		u32 n = msr - msrpm_ranges[i].first;
		u32 bit;

		if (msr < msrpm_ranges[i].first || n >= 0x2000)
			continue;
		bit = msrpm_ranges[i].offset * 8 + n * 2;
		if (read)
			map[bit / 8] &= ~BIT(bit % 8);
		if (write)
			map[bit / 8] &= ~BIT(bit % 8 + 1);
		return;
	}
}

/* The self-IPI run.c raises to leave the guest right after an injection. */
static void inject_kick_noop(struct irq_work *work)
{
}

static int svm_alloc_maps(void)
{
	iopm_pages = alloc_pages(GFP_KERNEL, IOPM_ORDER);
	msrpm_pages = alloc_pages(GFP_KERNEL, MSRPM_ORDER);
	if (!iopm_pages || !msrpm_pages)
		return -ENOMEM;
	/* Every port and every MSR is intercepted unless allowed below. */
	memset(page_address(iopm_pages), 0xff, PAGE_SIZE << IOPM_ORDER);
	memset(page_address(msrpm_pages), 0xff, PAGE_SIZE << MSRPM_ORDER);
	/*
	 * The C-bit too (APM 7.10): with SME active the CPU would otherwise
	 * read the all-ones maps as ciphertext, i.e. random pass-through.
	 */
	yakvm_iopm_pa = yakvm_hw_pa(iopm_pages);
	yakvm_msrpm_pa = yakvm_hw_pa(msrpm_pages);

	/*
	 * State that VMSAVE/VMLOAD switch with the guest's VMCB: the guest may
	 * use it directly, the host's copy is restored by our VMLOAD.
	 */
	yakvm_msrpm_allow(MSR_FS_BASE, true, true);
	yakvm_msrpm_allow(MSR_GS_BASE, true, true);
	yakvm_msrpm_allow(MSR_KERNEL_GS_BASE, true, true);
	yakvm_msrpm_allow(MSR_STAR, true, true);
	yakvm_msrpm_allow(MSR_LSTAR, true, true);
	yakvm_msrpm_allow(MSR_CSTAR, true, true);
	yakvm_msrpm_allow(MSR_SYSCALL_MASK, true, true);
	yakvm_msrpm_allow(MSR_IA32_SYSENTER_CS, true, true);
	yakvm_msrpm_allow(MSR_IA32_SYSENTER_ESP, true, true);
	yakvm_msrpm_allow(MSR_IA32_SYSENTER_EIP, true, true);
	return 0;
}

static void svm_free_pages(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct yakvm_cpu *c = per_cpu_ptr(&yakvm_cpus, cpu);

		/* The module's memory must not go while a kick is queued. */
		irq_work_sync(&c->inject_kick);
		if (c->hsave)
			__free_page(c->hsave);
		if (c->host_vmsave)
			__free_page(c->host_vmsave);
		c->hsave = NULL;
		c->host_vmsave = NULL;
	}
	if (iopm_pages)
		__free_pages(iopm_pages, IOPM_ORDER);
	if (msrpm_pages)
		__free_pages(msrpm_pages, MSRPM_ORDER);
	iopm_pages = NULL;
	msrpm_pages = NULL;
}

int yakvm_svm_init(void)
{
	int cpu, r;
	u64 efer;

	r = svm_check_hardware();
	if (r)
		return r;

	for_each_possible_cpu(cpu) {
		struct yakvm_cpu *c = per_cpu_ptr(&yakvm_cpus, cpu);
		int node = cpu_to_node(cpu);

		init_irq_work(&c->inject_kick, inject_kick_noop);
		c->hsave = alloc_pages_node(node, GFP_KERNEL | __GFP_ZERO, 0);
		c->host_vmsave = alloc_pages_node(node, GFP_KERNEL | __GFP_ZERO, 0);
		if (!c->hsave || !c->host_vmsave) {
			r = -ENOMEM;
			goto err;
		}
		/* With SME the CPU reads these pages encrypted: C-bit set. */
		c->hsave_pa = yakvm_hw_pa(c->hsave);
		c->host_vmsave_pa = yakvm_hw_pa(c->host_vmsave);
	}
	r = svm_alloc_maps();
	if (r)
		goto err;

	r = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "x86/yakvm:online",
			      svm_cpu_online, svm_cpu_offline);
	if (r < 0)
		goto err;
	svm_hp_state = r;
	register_reboot_notifier(&svm_reboot_nb);
	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME)
		pr_notice("SVM is in use by another hypervisor; VMs can be created once it lets go. If it is KVM: %s\n",
			  YAKVM_SVM_BUSY_HINT);
	return 0;
err:
	svm_free_pages();
	return r;
}

void yakvm_svm_exit(void)
{
	unregister_reboot_notifier(&svm_reboot_nb);
	cpuhp_remove_state(svm_hp_state);
	/* No VM exists (each holds a module reference), so SVM is off. */
	on_each_cpu(svm_disable_cpu, NULL, 1);
	svm_free_pages();
}
